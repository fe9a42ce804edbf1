/*
 * sim.c: the seeded simulation of the core against the reference model.
 *
 * For each seed it generates a stream of commands with heavy contention (a
 * few events with few seats, items with small stock, a handful of
 * customers, short hold lifetimes, sale windows opening and closing, a
 * clock that creeps, jumps, lands exactly on expiries and is sent
 * backwards), and invalid input of every kind. Every command goes through
 * the codec (hf_cmd_encode -> hf_cmd_decode); the decoded copy is applied
 * to the core, the original to the model (model.c). It demands:
 *   - identical replies, field by field (the used part of every array),
 *     and a core reply that survives hf_reply_encode -> hf_reply_decode;
 *   - a clean hf_sm_check after every command;
 *   - identical read views (events, seats, items, customers, holds, orders,
 *     customer lists, stats) every SIM_VIEW_EVERY commands and at the end;
 *   - snapshots: at random points the state is written and read into a
 *     fresh sm, digests equal, views equal, and the copy then answers every
 *     command exactly as the original for a while (digests equal again);
 *     a truncated snapshot and one read with another config are refused;
 *   - determinism: the recorded stream replayed into a fresh sm ends with
 *     the same digest.
 * Any failure prints the seed and step, the command, both replies (or the
 * check message) and exits 1; a crash inside the core (sanitizer report,
 * HF_ASSERT, signal) prints the seed, step and command too. `sim --seed N
 * --commands M` reproduces it: a seed's commands depend only on the seed
 * (not on --commands, the other seeds of the run, or what the checker
 * draws with its own generator).
 *
 * Each seed draws a profile (its config and the generator's habits): small
 * or large hold-slot tables, few orders, few customers or few seats (so the
 * mirrored capacities fill), one customer hoarding holds, more items than a
 * hold may have lines, an event larger than a hold may have seats, a clock
 * that runs past HF_TIME_MS_MAX. The capacities the model cannot mirror
 * (lines, string bytes, idempotency entries and bytes) are set far above
 * the peaks the report prints.
 *
 * At the end it prints counts per command type and result code, seeds per
 * profile, and scenario counts (situations recognised after the replies
 * agreed: slots full, partial fills, merged lines, capped refusal details,
 * retries replayed or re-applied after their key was forgotten, ...), so a
 * reader can see that every refusal and every success actually happened.
 *
 * Usage: sim [--seed N] [--seeds K] [--commands M] [--trace]
 *   runs seeds N .. N+K-1 (default 1, 1), M commands each (default 5000).
 *
 * Ownership: everything a command points to lives in the per-command arena
 * (reset before each command) or in the ring of recent keyed commands; the
 * model, the sms and the stream are per seed.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/limits.h"
#include "core/cmd.h"
#include "core/sm.h"
#include "model.h"

#define SIM_VIEW_EVERY 50u         /* commands between full view comparisons */
#define SIM_ARENA_BYTES (40u << 20) /* one command's strings and arrays (a maximal event) */
#define SIM_RING 32u               /* recent keyed commands kept for retries */
#define SIM_POOL_MAX 24u           /* customers the generator knows */
#define SIM_LIST_MAX 64u           /* ids asked of a customer list at once */

/* ---- names (local, so a dump never depends on the code under test) ----- */

static const char *const sim_type_names[HF_CMD_TYPE_COUNT] = {
	"none", "tick", "event_create", "seats_block", "seats_unblock", "item_create",
	"item_restock", "hold_create", "hold_add", "hold_remove", "hold_extend", "hold_release",
	"hold_confirm", "order_create", "order_cancel", "order_status",
};

static const char *const sim_result_names[HF_RESULT_COUNT] = {
	"OK", "TOO_MANY_LINES", "BAD_REQUEST", "ALREADY_EXISTS", "CAPACITY_FULL", "UNKNOWN_HOLD",
	"UNKNOWN_ORDER", "NOT_OWNER", "HOLD_EXPIRED", "HOLD_NOT_ACTIVE", "UNKNOWN_EVENT",
	"UNKNOWN_SEAT", "UNKNOWN_ITEM", "SALE_CLOSED", "LIMIT_EXCEEDED", "SEATS_UNAVAILABLE",
	"SEATS_BLOCKED", "INSUFFICIENT_STOCK", "STATUS_MISMATCH", "INVALID_TRANSITION",
	"IDEMPOTENCY_KEY_REUSED", "ORPHAN_SEAT",
};

static const char *sim_type_name(unsigned t)
{
	return t < HF_CMD_TYPE_COUNT ? sim_type_names[t] : "?type";
}

static const char *sim_result_name(unsigned r)
{
	return r < HF_RESULT_COUNT ? sim_result_names[r] : "?result";
}

/* ---- random numbers: splitmix64, one stream per seed -------------------- */

static uint64_t sim_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- arena ------------------------------------------------------------- */

struct sim_arena {
	uint8_t *buf;
	size_t used, cap;
};

static void *sim_alloc(struct sim_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	HF_ASSERT(a->used + n <= a->cap);
	void *p = a->buf + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

static struct hf_str sim_fmt(struct sim_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct hf_str sim_fmt(struct sim_arena *a, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	HF_ASSERT(n >= 0 && (size_t)n < sizeof tmp);
	char *p = sim_alloc(a, (size_t)n + 1);
	memcpy(p, tmp, (size_t)n);
	return (struct hf_str){p, (uint32_t)n};
}

static struct hf_str sim_repeat(struct sim_arena *a, char c, uint32_t n)
{
	char *p = sim_alloc(a, (size_t)n + 1);
	memset(p, c, n);
	return (struct hf_str){p, n};
}

static struct hf_str sim_copy(struct sim_arena *a, struct hf_str s)
{
	char *p = sim_alloc(a, (size_t)s.len + 1);
	if (s.len)
		memcpy(p, s.ptr, s.len);
	return (struct hf_str){p, s.len};
}

/* ---- the generator ----------------------------------------------------- */

/* A keyed command kept for retries (exact bytes) and key reuse. */
struct sim_keyed {
	uint8_t *bytes;
	size_t len;
	char customer[HF_ID_LEN_MAX + 1];
	uint32_t customer_len;
	char key[HF_ID_LEN_MAX + 1];
	uint32_t key_len;
	uint64_t fingerprint;
};

struct sim_gen {
	uint64_t rng;
	const struct model *m; /* read only: real ids to pick from */
	const struct hf_sm_config *cfg;
	struct sim_arena arena;
	int64_t now; /* the generator's clock, >= the model's */

	/* profile, drawn from the seed */
	bool hoarder;      /* one customer piles up holds: per-customer and slot limits */
	bool many_items;   /* more than HF_HOLD_ITEMS_MAX items: hold item-line limit */
	bool big_event;    /* an event of 120 seats: hold seat-line limit */
	bool far_future;   /* the clock starts 20 minutes before HF_TIME_MS_MAX */
	uint32_t skew;     /* per mille: how often the first customer acts */

	char pool[SIM_POOL_MAX][16];
	uint32_t n_pool;
	uint32_t next_event, next_item, next_customer, next_key;
	uint32_t setup_step;

	struct sim_keyed ring[SIM_RING];
	uint32_t n_ring, ring_next;
	void *retry_scratch;
	size_t retry_scratch_cap;
};

static uint32_t rnd(struct sim_gen *g, uint32_t n)
{
	return n ? (uint32_t)(sim_rng_next(&g->rng) % n) : 0;
}

static bool chance(struct sim_gen *g, uint32_t per_mille)
{
	return rnd(g, 1000) < per_mille;
}

#define SIM_PICK(g, arr) ((arr)[rnd((g), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* Ids that break [A-Za-z0-9._:-]{1,64} in every way. */
static struct hf_str gen_bad_id(struct sim_gen *g)
{
	static const char *const bad[] = {"", "has space", "semi;colon", "slash/x", "\xc3\xa9t\xc3\xa9",
					  "tab\there", "quote\"", "nul"};
	uint32_t r = rnd(g, 9);
	if (r == 8)
		return sim_repeat(&g->arena, 'x', HF_ID_LEN_MAX + 1);
	struct hf_str s = sim_fmt(&g->arena, "%s", bad[r]);
	if (r == 7)
		((char *)s.ptr)[1] = '\0'; /* an embedded NUL: "n\0l" */
	return s;
}

static struct hf_str gen_pool_customer(struct sim_gen *g)
{
	uint32_t i = chance(g, g->skew) ? 0 : rnd(g, g->n_pool);
	return hf_str_c(g->pool[i]);
}

/* The acting customer of a command that makes a hold or an order. */
static struct hf_str gen_customer(struct sim_gen *g)
{
	uint32_t r = rnd(g, 1000);
	if (r < 20) {
		char name[16];
		snprintf(name, sizeof name, "n%u", g->next_customer++);
		if (g->n_pool < SIM_POOL_MAX) {
			memcpy(g->pool[g->n_pool++], name, sizeof name);
			return hf_str_c(g->pool[g->n_pool - 1]);
		}
		return sim_fmt(&g->arena, "%s", name);
	}
	if (r < 32)
		return gen_bad_id(g);
	if (r < 36)
		return sim_repeat(&g->arena, 'c', HF_ID_LEN_MAX); /* longest valid id */
	return gen_pool_customer(g);
}

/* Who acts on an existing hold or order: the owner mostly, else someone
 * else, the admin (with or without a customer) or an invalid customer. */
static void gen_actor(struct sim_gen *g, struct hf_cmd *cmd, struct hf_str owner)
{
	uint32_t r = rnd(g, 1000);
	cmd->admin = false;
	if (r < 770) {
		cmd->customer = owner;
	} else if (r < 850) {
		cmd->customer = gen_pool_customer(g);
	} else if (r < 900) {
		cmd->admin = true;
		cmd->customer = (struct hf_str){0};
	} else if (r < 930) {
		cmd->admin = true;
		cmd->customer = owner;
	} else if (r < 945) {
		cmd->admin = true;
		cmd->customer = gen_pool_customer(g);
	} else if (r < 960) {
		cmd->admin = true;
		cmd->customer = gen_bad_id(g);
	} else if (r < 985) {
		cmd->customer = gen_bad_id(g);
	} else {
		cmd->customer = sim_fmt(&g->arena, "stranger%u", rnd(g, 3));
	}
}

static struct hf_str gen_owner_name(struct sim_gen *g, uint32_t customer)
{
	return customer < g->m->n_customers ? g->m->customers[customer] : gen_pool_customer(g);
}

/* A hold id: an active hold, any kept hold, or one that is unknown (never
 * made, or recycled). */
static uint64_t gen_hold_id(struct sim_gen *g, const struct model_hold **out)
{
	const struct model *m = g->m;
	uint32_t r = rnd(g, 100);
	*out = NULL;
	uint32_t active = model_active_holds(m);
	if (r < 75 && active > 0) {
		/* mostly one that is still alive at this command's clock; else
		 * one that may expire as this command applies (a race) */
		uint32_t alive = 0;
		for (uint32_t i = 0; i < m->n_holds; i++)
			alive += m->holds[i].b.state == HF_HOLD_ACTIVE && m->holds[i].b.expires_at_ms > g->now;
		bool want_alive = alive > 0 && chance(g, 900);
		uint32_t k = rnd(g, want_alive ? alive : active);
		for (uint32_t i = 0; i < m->n_holds; i++) {
			const struct model_hold *h = &m->holds[i];
			if (h->b.state != HF_HOLD_ACTIVE || (want_alive && h->b.expires_at_ms <= g->now))
				continue;
			if (k-- == 0)
				*out = h;
		}
		return (*out)->b.id;
	}
	if (r < 88 && m->n_holds > 0) {
		*out = &m->holds[rnd(g, m->n_holds)];
		return (*out)->b.id;
	}
	uint64_t lowest = UINT64_MAX;
	for (uint32_t i = 0; i < m->n_holds; i++)
		if (m->holds[i].b.id < lowest)
			lowest = m->holds[i].b.id;
	switch (rnd(g, 5)) {
	case 0:
		return 0;
	case 1:
		return m->next_hold_id;
	case 2:
		return m->next_hold_id + 1 + rnd(g, 10);
	case 3:
		return UINT64_MAX;
	default:
		return lowest != UINT64_MAX && lowest > 1 ? 1 + rnd(g, (uint32_t)(lowest - 1)) : 0;
	}
}

static uint64_t gen_order_id(struct sim_gen *g, const struct model_order **out)
{
	const struct model *m = g->m;
	*out = NULL;
	if (m->n_orders > 0 && chance(g, 880)) {
		uint32_t i = chance(g, 500) ? m->n_orders - 1 - rnd(g, m->n_orders < 10 ? m->n_orders : 10)
					    : rnd(g, m->n_orders);
		*out = &m->orders[i];
		return (*out)->b.id;
	}
	switch (rnd(g, 4)) {
	case 0:
		return 0;
	case 1:
		return m->next_order_id;
	case 2:
		return m->next_order_id + 1 + rnd(g, 5);
	default:
		return UINT64_MAX;
	}
}

static bool gen_on_sale(const struct sim_gen *g, const struct model_event *e)
{
	return e->sale_opens_at_ms <= g->now && (e->sale_closes_at_ms == 0 || g->now < e->sale_closes_at_ms);
}

/* An event: the hot one, one on sale, or any (closed ones included). */
static int64_t gen_event_index(struct sim_gen *g)
{
	const struct model *m = g->m;
	if (m->n_events == 0)
		return -1;
	if (chance(g, 400))
		return 0;
	if (chance(g, 750)) {
		uint32_t n = 0;
		for (uint32_t e = 0; e < m->n_events; e++)
			n += gen_on_sale(g, &m->events[e]);
		if (n > 0) {
			uint32_t k = rnd(g, n);
			for (uint32_t e = 0; e < m->n_events; e++)
				if (gen_on_sale(g, &m->events[e]) && k-- == 0)
					return e;
		}
	}
	return rnd(g, m->n_events);
}

/* A seat of event e: a free one (when prefer_free), one of the first eight
 * (the hot rows), or any. */
static struct hf_str gen_seat_of(struct sim_gen *g, uint32_t e, bool prefer_free)
{
	const struct model *m = g->m;
	const struct model_event *ev = &m->events[e];
	if (prefer_free && chance(g, 500)) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < ev->n_seats; i++)
			n += m->seats[ev->first_seat + i].state == HF_SEAT_FREE;
		if (n > 0) {
			uint32_t k = rnd(g, n);
			for (uint32_t i = 0; i < ev->n_seats; i++)
				if (m->seats[ev->first_seat + i].state == HF_SEAT_FREE && k-- == 0)
					return m->seats[ev->first_seat + i].id;
		}
	}
	uint32_t window = chance(g, 500) && ev->n_seats > 8 ? 8 : ev->n_seats;
	return m->seats[ev->first_seat + rnd(g, window)].id;
}

static void gen_seat_ref(struct sim_gen *g, struct hf_seat_ref *out, bool prefer_free)
{
	uint32_t r = rnd(g, 1000);
	int64_t e = gen_event_index(g);
	if (e < 0 || r < 18) {
		out->event = sim_fmt(&g->arena, "EZ%u", rnd(g, 3));
		out->seat = sim_fmt(&g->arena, "A-%u", 1 + rnd(g, 4));
		return;
	}
	if (r < 24) {
		out->event = gen_bad_id(g);
		out->seat = sim_fmt(&g->arena, "A-1");
		return;
	}
	out->event = g->m->events[e].id;
	r = rnd(g, 1000);
	if (r < 18)
		out->seat = sim_fmt(&g->arena, "Q-%u", rnd(g, 5));
	else if (r < 24)
		out->seat = gen_bad_id(g);
	else
		out->seat = gen_seat_of(g, (uint32_t)e, prefer_free);
}

static void gen_item_ref(struct sim_gen *g, struct hf_item_ref *out)
{
	const struct model *m = g->m;
	uint32_t r = rnd(g, 1000);
	int64_t item = -1;
	if (m->n_items == 0 || r < 20) {
		out->item = sim_fmt(&g->arena, "IZ%u", rnd(g, 3));
	} else if (r < 26) {
		out->item = gen_bad_id(g);
	} else {
		item = (!g->many_items && chance(g, 400)) ? 0 : rnd(g, m->n_items);
		out->item = m->items[item].id;
	}
	r = rnd(g, 1000);
	if (r < 790)
		out->quantity = 1 + rnd(g, 3);
	else if (r < 870)
		out->quantity = 4 + rnd(g, 12);
	else if (r < 878)
		out->quantity = 0;
	else if (r < 884)
		out->quantity = HF_QUANTITY_MAX + 1 + rnd(g, 3);
	else if (r < 890)
		out->quantity = HF_QUANTITY_MAX;
	else if (item >= 0 && m->items[item].available > 0 && m->items[item].available <= HF_QUANTITY_MAX)
		out->quantity = m->items[item].available + (chance(g, 300) ? 1 : 0);
	else if (item >= 0 && m->items[item].available > HF_QUANTITY_MAX)
		out->quantity = HF_QUANTITY_MAX - rnd(g, 3); /* a deep stock: the largest line */
	else
		out->quantity = 1;
	out->partial = chance(g, 300);
}

/* ---- command generators (one per row of sim_kinds) ---------------------- */

static void gen_tick(struct sim_gen *g, struct hf_cmd *cmd)
{
	(void)g;
	(void)cmd;
}

/* Seat specs of a valid event of n seats, in one of several layouts (rows
 * for best available and the orphan rule): sections alternating seat by
 * seat (every row a single seat), rows of 3 to 10 listed front row first
 * or back row first, an aisle (a gap in numbering) in each row, one long
 * row, numbers repeated, and categories by row or by seat. */
static struct hf_seat_spec *gen_seat_specs(struct sim_gen *g, uint32_t n, bool plain)
{
	struct hf_seat_spec *seats = sim_alloc(&g->arena, (size_t)n * sizeof *seats);
	uint32_t layout = plain ? 0 : rnd(g, 6);
	uint32_t width = 3 + rnd(g, 8);
	bool reverse = chance(g, 300), vip_rows = chance(g, 500);
	for (uint32_t i = 0; i < n; i++) {
		struct hf_seat_spec *s = &seats[i];
		if (plain) { /* the maximal event: every seat the same valid spec */
			s->id = hf_str_c("S");
			s->price = 1;
			continue;
		}
		s->id = sim_fmt(&g->arena, "A-%u", i + 1);
		s->price = chance(g, 100) ? 0 : 500 + 50 * (int64_t)rnd(g, 400);
		uint32_t row = i / width, at = i % width;
		if (reverse)
			row = (n - 1) / width - row;
		switch (layout) {
		case 0: /* the old layout: sections alternate, so no seat has a neighbour */
			s->section = hf_str_c(i % 2 ? "B" : "A");
			s->row = sim_fmt(&g->arena, "%u", 1 + i / 10);
			s->number = (int32_t)(i + 1);
			break;
		case 1: /* rows of `width` */
		case 2:
			s->section = hf_str_c(row % 4 < 2 ? "A" : "B");
			s->row = sim_fmt(&g->arena, "%u", 1 + row);
			s->number = (int32_t)(1 + at);
			break;
		case 3: /* an aisle after the third seat */
			s->section = hf_str_c("A");
			s->row = sim_fmt(&g->arena, "%u", 1 + row);
			s->number = (int32_t)(1 + at + (at >= 3));
			break;
		case 4: /* one long row, numbers from 0 */
			s->number = (int32_t)i;
			break;
		default: /* numbers repeat now and then */
			s->row = sim_fmt(&g->arena, "%u", 1 + row);
			s->number = (int32_t)(1 + at - (at > 0 && chance(g, 150)));
			break;
		}
		bool vip = vip_rows ? row < 2 : chance(g, 200);
		s->category = hf_str_c(vip ? "vip" : "");
	}
	return seats;
}

/* One way to make an event command invalid, each with its expected check. */
typedef void (*gen_event_mut_fn)(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *seats);
static void mut_ev_id(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)s;
	ec->id = gen_bad_id(g);
}

static void mut_ev_name_empty(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)g;
	(void)s;
	ec->name = (struct hf_str){0};
}

static void mut_ev_name_long(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)s;
	ec->name = sim_repeat(&g->arena, 'n', HF_NAME_LEN_MAX + 1);
}

static void mut_ev_no_seats(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)g;
	(void)s;
	ec->n_seats = 0;
}

static void mut_ev_ttl(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)s;
	ec->hold_ttl_s = g->cfg->hold_lifetime_max_s + 1 + rnd(g, 10);
}

static void mut_ev_window(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)s;
	ec->sale_opens_at_ms = g->now + 1000;
	ec->sale_closes_at_ms = g->now + 1000 - rnd(g, 2) * 500;
}

static void mut_ev_time_neg(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)g;
	(void)s;
	ec->starts_at_ms = -1;
}

static void mut_ev_time_big(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	(void)g;
	(void)s;
	ec->sale_closes_at_ms = HF_TIME_MS_MAX + 1;
}

static void mut_ev_price_neg(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	s[rnd(g, ec->n_seats)].price = -1;
}

static void mut_ev_price_big(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	s[rnd(g, ec->n_seats)].price = HF_PRICE_MAX + 1;
}

static void mut_ev_seat_id(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	s[rnd(g, ec->n_seats)].id = gen_bad_id(g);
}

static void mut_ev_seat_dup(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	s[ec->n_seats - 1].id = s[rnd(g, ec->n_seats - 1)].id;
}

static void mut_ev_section(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	s[rnd(g, ec->n_seats)].section = sim_repeat(&g->arena, 's', HF_NAME_LEN_MAX + 1);
}

static void mut_ev_category(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	s[rnd(g, ec->n_seats)].category = sim_repeat(&g->arena, 'k', HF_NAME_LEN_MAX + 1);
}

static void mut_ev_edges(struct sim_gen *g, struct hf_event_create *ec, struct hf_seat_spec *s)
{
	/* valid extremes: longest name, maximal price and time, ttl at the bound */
	ec->name = sim_repeat(&g->arena, 'N', HF_NAME_LEN_MAX);
	s[0].price = HF_PRICE_MAX;
	s[0].row = sim_repeat(&g->arena, 'r', HF_NAME_LEN_MAX);
	ec->starts_at_ms = HF_TIME_MS_MAX;
	ec->hold_ttl_s = g->cfg->hold_lifetime_max_s;
}

static const gen_event_mut_fn gen_event_muts[] = {
	mut_ev_id, mut_ev_name_empty, mut_ev_name_long, mut_ev_no_seats, mut_ev_ttl,
	mut_ev_window, mut_ev_time_neg, mut_ev_time_big, mut_ev_price_neg, mut_ev_price_big,
	mut_ev_seat_id, mut_ev_seat_dup, mut_ev_section, mut_ev_category, mut_ev_edges,
};

/* An event's policy. */
struct sim_event_spec {
	uint32_t seats, ttl_s, max_per_customer;
	int64_t opens_in_s, open_for_s; /* -1: not set */
};

static void gen_event_from(struct sim_gen *g, struct hf_cmd *cmd, const struct sim_event_spec *sp)
{
	struct hf_event_create *ec = &cmd->u.event_create;
	cmd->type = HF_CMD_EVENT_CREATE;
	cmd->admin = true;
	ec->id = sim_fmt(&g->arena, "E%u", g->next_event++);
	ec->name = sim_fmt(&g->arena, "Show %u", g->next_event);
	ec->starts_at_ms = g->now + 86400000;
	ec->hold_ttl_s = sp->ttl_s <= g->cfg->hold_lifetime_max_s ? sp->ttl_s : 0;
	ec->max_per_customer = sp->max_per_customer;
	if (sp->opens_in_s >= 0)
		ec->sale_opens_at_ms = g->now + sp->opens_in_s * 1000;
	if (sp->open_for_s >= 0)
		ec->sale_closes_at_ms = (ec->sale_opens_at_ms ? ec->sale_opens_at_ms : g->now) + sp->open_for_s * 1000;
	ec->orphan_rule = chance(g, 400) ? HF_ORPHAN_NO_SINGLE_GAPS : HF_ORPHAN_ALLOW;
	ec->n_seats = sp->seats;
	ec->seats = gen_seat_specs(g, sp->seats, false);
}

static void gen_event_create(struct sim_gen *g, struct hf_cmd *cmd)
{
	static const uint32_t ttls[] = {0, 5, 10, 20, 30, 60, 120};
	static const uint32_t maxes[] = {0, 0, 0, 2, 3, 5};
	struct sim_event_spec sp = {
		.seats = chance(g, 40) ? 100 + rnd(g, 50) : 4 + rnd(g, 13),
		.ttl_s = SIM_PICK(g, ttls),
		.max_per_customer = SIM_PICK(g, maxes),
		.opens_in_s = chance(g, 350) ? (int64_t)rnd(g, 900) : -1,
		.open_for_s = chance(g, 350) ? 60 + (int64_t)rnd(g, 1800) : -1,
	};
	gen_event_from(g, cmd, &sp);
	struct hf_event_create *ec = &cmd->u.event_create;
	cmd->admin = !chance(g, 100);
	if (g->m->n_events > 0 && chance(g, 150))
		ec->id = g->m->events[rnd(g, g->m->n_events)].id; /* ALREADY_EXISTS */
	if (chance(g, 3)) { /* one seat more than an event may have */
		ec->n_seats = HF_EVENT_SEATS_MAX + 1;
		ec->seats = gen_seat_specs(g, ec->n_seats, true);
		return;
	}
	if (chance(g, 180))
		SIM_PICK(g, gen_event_muts)(g, ec, (struct hf_seat_spec *)ec->seats);
	if (chance(g, 10))
		ec->orphan_rule = (uint8_t)(HF_ORPHAN_RULE_COUNT + rnd(g, 250)); /* not a rule */
}

static void gen_seats_block(struct sim_gen *g, struct hf_cmd *cmd)
{
	const struct model *m = g->m;
	struct hf_seats_block *sb = &cmd->u.seats_block;
	cmd->admin = !chance(g, 50);
	int64_t e = gen_event_index(g);
	uint32_t r = rnd(g, 1000);
	if (e < 0 || r < 25) {
		sb->event = sim_fmt(&g->arena, "EZ%u", rnd(g, 3));
		e = -1;
	} else if (r < 35) {
		sb->event = gen_bad_id(g);
		e = -1;
	} else {
		sb->event = m->events[e].id;
	}
	r = rnd(g, 1000);
	uint32_t n = r < 25 ? 0 : r < 45 ? 101 + rnd(g, 40) : 1 + rnd(g, 4);
	if (chance(g, 2))
		n = HF_BLOCK_SEATS_MAX + 1;
	struct hf_str *seats = sim_alloc(&g->arena, (size_t)(n ? n : 1) * sizeof *seats);
	/* more than HF_HOLD_SEATS_MAX refusals to report: unknown seats, or
	 * one seat that is held or sold named over and over */
	struct hf_str many = {0};
	if (n > HF_HOLD_SEATS_MAX && n < 200 && e >= 0 && chance(g, 600)) {
		many = sim_fmt(&g->arena, "Q-%u", rnd(g, 5));
		const struct model_event *ev = &m->events[e];
		for (uint32_t i = 0; i < ev->n_seats && chance(g, 700); i++)
			if (m->seats[ev->first_seat + i].state == HF_SEAT_HELD ||
			    m->seats[ev->first_seat + i].state == HF_SEAT_SOLD)
				many = m->seats[ev->first_seat + i].id;
	}
	for (uint32_t i = 0; i < n; i++) {
		r = rnd(g, 1000);
		if (many.len)
			seats[i] = many;
		else if (n > 200 || e < 0)
			seats[i] = hf_str_c("A-1");
		else if (r < 40)
			seats[i] = sim_fmt(&g->arena, "Q-%u", rnd(g, 5));
		else if (r < 50)
			seats[i] = gen_bad_id(g);
		else if (r < 80 && i > 0)
			seats[i] = seats[rnd(g, i)];
		else
			seats[i] = gen_seat_of(g, (uint32_t)e, cmd->type == HF_CMD_SEATS_BLOCK);
	}
	if (cmd->type == HF_CMD_SEATS_UNBLOCK && e >= 0 && n > 0 && n < 200 && chance(g, 600)) {
		/* unblock what is blocked */
		const struct model_event *ev = &m->events[e];
		for (uint32_t i = 0; i < ev->n_seats; i++)
			if (m->seats[ev->first_seat + i].state == HF_SEAT_BLOCKED) {
				seats[0] = m->seats[ev->first_seat + i].id;
				break;
			}
	}
	sb->n_seats = n;
	sb->seats = seats;
}

static void gen_item_create(struct sim_gen *g, struct hf_cmd *cmd)
{
	struct hf_item_create *ic = &cmd->u.item_create;
	cmd->admin = !chance(g, 100);
	ic->id = sim_fmt(&g->arena, "I%u", g->next_item++);
	if (g->m->n_items > 0 && chance(g, 150))
		ic->id = g->m->items[rnd(g, g->m->n_items)].id;
	ic->name = sim_fmt(&g->arena, "Item %u", g->next_item);
	ic->category = hf_str_c(chance(g, 500) ? "merch" : "");
	ic->description = hf_str_c(chance(g, 500) ? "a thing" : "");
	ic->image_url = hf_str_c(chance(g, 300) ? "https://img.example/x.png" : "");
	ic->price = 10 + 10 * (int64_t)rnd(g, 500);
	ic->stock = chance(g, 100) ? 1000 : rnd(g, 9);
	switch (chance(g, 180) ? rnd(g, 12) : 99) {
	case 0: ic->id = gen_bad_id(g); break;
	case 1: ic->name = (struct hf_str){0}; break;
	case 2: ic->name = sim_repeat(&g->arena, 'n', HF_NAME_LEN_MAX + 1); break;
	case 3: ic->category = sim_repeat(&g->arena, 'c', HF_NAME_LEN_MAX + 1); break;
	case 4: ic->description = sim_repeat(&g->arena, 'd', HF_TEXT_LEN_MAX + 1); break;
	case 5: ic->image_url = sim_repeat(&g->arena, 'u', HF_TEXT_LEN_MAX + 1); break;
	case 6: ic->price = -1 - rnd(g, 5); break;
	case 7: ic->price = HF_PRICE_MAX + 1; break;
	case 8: ic->stock = HF_STOCK_MAX + 1 + rnd(g, 5); break;
	case 9: /* valid extremes */
		ic->description = sim_repeat(&g->arena, 'D', HF_TEXT_LEN_MAX);
		ic->image_url = sim_repeat(&g->arena, 'U', HF_TEXT_LEN_MAX);
		ic->price = HF_PRICE_MAX;
		ic->stock = 2;
		break;
	case 10: ic->stock = HF_STOCK_MAX; ic->price = 1; break;
	case 11: ic->stock = HF_STOCK_MAX - 5; ic->price = HF_PRICE_MAX; break; /* the largest totals */
	default: break;
	}
}

static void gen_item_restock(struct sim_gen *g, struct hf_cmd *cmd)
{
	const struct model *m = g->m;
	struct hf_item_restock *ir = &cmd->u.item_restock;
	cmd->admin = !chance(g, 50);
	int64_t item = -1;
	uint32_t r = rnd(g, 1000);
	if (m->n_items == 0 || r < 40) {
		ir->item = sim_fmt(&g->arena, "IZ%u", rnd(g, 3));
	} else if (r < 55) {
		ir->item = gen_bad_id(g);
	} else {
		item = rnd(g, m->n_items);
		ir->item = m->items[item].id;
	}
	r = rnd(g, 1000);
	if (r < 850) {
		ir->quantity = 1 + rnd(g, 5);
	} else if (r < 890) {
		ir->quantity = 0;
	} else if (r < 920) {
		ir->quantity = HF_STOCK_MAX + 1 + rnd(g, 3);
	} else if (r < 970 && item >= 0) { /* to the stock bound, or one past it */
		const struct model_item *it = &m->items[item];
		uint64_t room = HF_STOCK_MAX - ((uint64_t)it->available + it->held + it->sold);
		ir->quantity = (uint32_t)room + (chance(g, 500) ? 1 : 0);
	} else {
		ir->quantity = 100 + rnd(g, 1000);
	}
}

/* Best available for HOLD_CREATE and ORDER_CREATE (hold NULL): often
 * alone, sometimes beside named seats; a section or category of the
 * event, or one no seat has; counts from 1 to past what is free; and the
 * invalid shapes (in HOLD_ADD, a count of 0 with an event, an unknown
 * event, past the seat-line bound). */
static void gen_best(struct sim_gen *g, struct hf_lines *l, const struct model_hold *hold)
{
	const struct model *m = g->m;
	struct hf_best *b = &l->best;
	memset(b, 0, sizeof *b);
	if (hold) {
		if (chance(g, 10)) {
			b->event = m->n_events ? m->events[0].id : hf_str_c("E0");
			b->count = 1;
		}
		return;
	}
	if (!chance(g, 300))
		return;
	int64_t e = gen_event_index(g);
	uint32_t r = rnd(g, 1000);
	if (e < 0 || r < 15) {
		b->event = sim_fmt(&g->arena, "EZ%u", rnd(g, 3));
		e = -1;
	} else if (r < 20) {
		b->event = gen_bad_id(g);
		e = -1;
	} else {
		b->event = m->events[e].id;
	}
	r = rnd(g, 1000);
	b->count = r < 500 ? 1 + rnd(g, 4) : r < 850 ? 1 + rnd(g, 12) : r < 990 ? 20 + rnd(g, 60)
		 : HF_HOLD_SEATS_MAX + 1 - rnd(g, 3);
	if (chance(g, 5))
		b->count = 0; /* with an event named: BAD_REQUEST */
	if (e >= 0 && chance(g, 250)) {
		const struct model_event *ev = &m->events[e];
		b->section = chance(g, 900) ? m->seats[ev->first_seat + rnd(g, ev->n_seats)].section
					    : hf_str_c("Z");
	}
	if (chance(g, 150))
		b->category = chance(g, 900) ? hf_str_c("vip") : hf_str_c("gold");
	if (l->n_seats > 0 && chance(g, 700))
		l->n_seats = 0; /* mostly best available alone */
	if (l->n_seats == 0 && l->n_items > 0 && chance(g, 500))
		l->n_items = 0;
}

/* Lines for HOLD_CREATE, HOLD_ADD (hold given), ORDER_CREATE. */
static void gen_take_lines(struct sim_gen *g, struct hf_lines *l, const struct model_hold *hold)
{
	const struct model *m = g->m;
	static const uint32_t n_seat_lines[] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4, 6};
	static const uint32_t n_item_lines[] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 3};
	uint32_t ns = SIM_PICK(g, n_seat_lines), ni = SIM_PICK(g, n_item_lines);
	if (g->many_items && chance(g, 60))
		ni = 10 + rnd(g, 41);
	if (ns == 0 && ni == 0 && !chance(g, 40))
		ns = 1;
	if (chance(g, 6))
		ns = HF_HOLD_SEATS_MAX + 1;
	else if (chance(g, 6))
		ni = HF_HOLD_ITEMS_MAX + 1;

	/* a block of the big event: many seats in one hold */
	int64_t big = -1;
	for (uint32_t e = 0; e < m->n_events; e++)
		if (m->events[e].n_seats >= 100)
			big = e;
	/* a big hold grows: the adds that may pass the hold's line bounds */
	bool grow = hold && (hold->b.n_seats >= 30 || hold->b.n_items >= 10) && chance(g, 600);
	bool bulk = big >= 0 && (chance(g, hold ? 150 : 25) || (grow && hold->b.n_seats >= 30));
	if (grow && hold->b.n_items >= 10 && g->many_items)
		ni = 15 + rnd(g, 36);

	uint32_t cap_seats = ns > 100 ? ns : 100;
	struct hf_seat_ref *seats = sim_alloc(&g->arena, (size_t)cap_seats * sizeof *seats);
	if (bulk) {
		/* the free seats of the big event, from a random one on */
		const struct model_event *ev = &m->events[big];
		uint32_t want = grow ? 40 + rnd(g, 40) : hold ? 10 + rnd(g, 50) : 40 + rnd(g, 61);
		uint32_t start = rnd(g, ev->n_seats);
		ns = 0;
		for (uint32_t i = 0; i < ev->n_seats && ns < want; i++) {
			const struct model_seat *st = &m->seats[ev->first_seat + (start + i) % ev->n_seats];
			if (st->state != HF_SEAT_FREE && !chance(g, 20))
				continue;
			seats[ns].event = ev->id;
			seats[ns++].seat = st->id;
		}
	} else {
		for (uint32_t i = 0; i < ns; i++)
			gen_seat_ref(g, &seats[i], true);
		if (ns >= 2 && chance(g, 40))
			seats[ns - 1] = seats[rnd(g, ns - 1)]; /* one seat twice */
	}
	if (hold && hold->b.n_seats > 0 && ns > 0 && ns <= 100 && chance(g, 120)) {
		/* a seat already in the hold: not new */
		uint32_t s = hold->b.seats[rnd(g, hold->b.n_seats)].seat;
		seats[0].event = m->events[m->seats[s].event].id;
		seats[0].seat = m->seats[s].id;
		for (uint32_t i = 1; i < ns; i++) /* keep it named once */
			if (hf_str_eq(seats[i].seat, seats[0].seat) && hf_str_eq(seats[i].event, seats[0].event))
				seats[i].seat = sim_fmt(&g->arena, "Q-%u", i);
	}
	struct hf_item_ref *items = sim_alloc(&g->arena, (size_t)(ni ? ni : 1) * sizeof *items);
	bool clean = g->many_items && ni >= 10 && ni <= HF_HOLD_ITEMS_MAX && chance(g, 700);
	for (uint32_t i = 0; i < ni; i++) {
		if (clean) { /* a big cart that should go through: distinct items, one each */
			items[i].item = m->items[(i + rnd(g, 3)) % m->n_items].id;
			items[i].quantity = 1;
			items[i].partial = chance(g, 900);
		} else {
			gen_item_ref(g, &items[i]);
		}
	}
	if (ni >= 2 && chance(g, 100))
		items[ni - 1].item = items[rnd(g, ni - 1)].item; /* merged */
	l->n_seats = ns;
	l->seats = seats;
	l->n_items = ni;
	l->items = items;
	gen_best(g, l, hold);
}

/* Lines for HOLD_REMOVE: mostly what the hold has. */
static void gen_remove_lines(struct sim_gen *g, struct hf_lines *l, const struct model_hold *hold)
{
	const struct model *m = g->m;
	struct hf_seat_ref *seats = sim_alloc(&g->arena, 8 * sizeof *seats);
	struct hf_item_ref *items = sim_alloc(&g->arena, 8 * sizeof *items);
	uint32_t ns = 0, ni = 0;
	if (hold && hold->b.n_seats > 0) {
		uint32_t k = rnd(g, (hold->b.n_seats < 3 ? hold->b.n_seats : 3) + 1);
		uint32_t start = rnd(g, hold->b.n_seats);
		for (uint32_t i = 0; i < k; i++) {
			uint32_t s = hold->b.seats[(start + i) % hold->b.n_seats].seat;
			seats[ns].event = m->events[m->seats[s].event].id;
			seats[ns++].seat = m->seats[s].id;
		}
	}
	if (chance(g, 150))
		gen_seat_ref(g, &seats[ns++], false);
	if (hold) {
		for (uint32_t i = 0; i < hold->b.n_items && ni < 4; i++) {
			if (!chance(g, 500))
				continue;
			const struct hf_view_item *line = &hold->b.items[i];
			items[ni].item = m->items[line->item].id;
			items[ni++].quantity = 1 + rnd(g, line->quantity + 2);
		}
	}
	if (chance(g, 100))
		gen_item_ref(g, &items[ni++]);
	if (ni >= 1 && chance(g, 60)) {
		items[ni] = items[0];
		items[ni++].quantity = 1;
	}
	if (ns == 0 && ni == 0 && !chance(g, 60))
		gen_seat_ref(g, &seats[ns++], false);
	l->n_seats = ns;
	l->seats = seats;
	l->n_items = ni;
	l->items = items;
}

static void gen_lines_cmd(struct sim_gen *g, struct hf_cmd *cmd)
{
	struct hf_lines *l = &cmd->u.lines;
	uint32_t lifetime = g->cfg->hold_lifetime_max_s;
	if (cmd->type == HF_CMD_HOLD_CREATE || cmd->type == HF_CMD_ORDER_CREATE) {
		cmd->customer = gen_customer(g);
		cmd->admin = chance(g, 80);
		if (cmd->admin && chance(g, 100))
			cmd->customer = (struct hf_str){0}; /* admin must still name a customer */
		if (cmd->type == HF_CMD_HOLD_CREATE) {
			uint32_t r = rnd(g, 1000);
			l->ttl_s = r < 780 ? 0 : r < 930 ? 1 + rnd(g, 60) : r < 955 ? lifetime
				 : r < 970 ? lifetime + 1 + rnd(g, 100) : 1 + rnd(g, lifetime);
			if (g->hoarder && chance(g, 500))
				l->ttl_s = lifetime;
		}
		gen_take_lines(g, l, NULL);
		return;
	}
	const struct model_hold *h = NULL;
	l->hold = gen_hold_id(g, &h);
	if (cmd->type == HF_CMD_HOLD_ADD && chance(g, 300)) {
		/* grow a big hold, if there is one */
		for (uint32_t i = 0; i < g->m->n_holds; i++) {
			const struct model_hold *b = &g->m->holds[i];
			if (b->b.state == HF_HOLD_ACTIVE && b->b.expires_at_ms > g->now &&
			    (b->b.n_seats >= 30 || b->b.n_items >= 10)) {
				h = b;
				l->hold = b->b.id;
			}
		}
	}
	gen_actor(g, cmd, h ? gen_owner_name(g, h->b.customer) : gen_pool_customer(g));
	if (cmd->type == HF_CMD_HOLD_ADD)
		gen_take_lines(g, l, h);
	else
		gen_remove_lines(g, l, h);
}

static void gen_hold_op(struct sim_gen *g, struct hf_cmd *cmd)
{
	const struct model_hold *h = NULL;
	struct hf_hold_op *op = &cmd->u.hold_op;
	op->hold = gen_hold_id(g, &h);
	gen_actor(g, cmd, h ? gen_owner_name(g, h->b.customer) : gen_pool_customer(g));
	uint32_t lifetime = g->cfg->hold_lifetime_max_s;
	if (cmd->type == HF_CMD_HOLD_CONFIRM && chance(g, 200)) {
		/* a late payment: mostly for an expired hold, by the admin */
		op->accept_late = true;
		cmd->admin = !chance(g, 100);
		uint32_t expired = 0;
		for (uint32_t i = 0; i < g->m->n_holds; i++)
			expired += g->m->holds[i].b.state == HF_HOLD_EXPIRED_STATE;
		if (expired > 0 && chance(g, 800)) {
			uint32_t k = rnd(g, expired);
			for (uint32_t i = 0; i < g->m->n_holds; i++)
				if (g->m->holds[i].b.state == HF_HOLD_EXPIRED_STATE && k-- == 0)
					op->hold = g->m->holds[i].b.id;
		}
	}
	if (cmd->type != HF_CMD_HOLD_EXTEND) {
		op->ttl_s = chance(g, 100) ? rnd(g, 1000) : 0; /* unused */
		return;
	}
	uint32_t r = rnd(g, 1000);
	op->ttl_s = r < 750 ? 1 + rnd(g, lifetime < 600 ? lifetime : 600)
		  : r < 850 ? 1 + rnd(g, lifetime)
		  : r < 900 ? 0
		  : r < 950 ? lifetime + 1 + rnd(g, 50)
			    : lifetime;
}

static void gen_order_op(struct sim_gen *g, struct hf_cmd *cmd)
{
	const struct model_order *o = NULL;
	struct hf_order_op *op = &cmd->u.order_op;
	op->order = gen_order_id(g, &o);
	uint8_t cur = o ? o->b.state : (uint8_t)rnd(g, 5);
	if (cmd->type == HF_CMD_ORDER_CANCEL) {
		gen_actor(g, cmd, o ? gen_owner_name(g, o->b.customer) : gen_pool_customer(g));
		op->status = (uint8_t)rnd(g, 3); /* unused */
		op->expect = HF_ORDER_STATUS_ANY;
		return;
	}
	cmd->admin = !chance(g, 100);
	if (cmd->admin && chance(g, 900))
		cmd->customer = (struct hf_str){0};
	else if (cmd->admin || !o)
		cmd->customer = gen_pool_customer(g);
	else
		cmd->customer = gen_owner_name(g, o->b.customer);
	uint32_t r = rnd(g, 1000);
	if (r < 480)
		op->status = (uint8_t)(cur < HF_ORDER_DELIVERED ? cur + 1u : rnd(g, 5));
	else if (r < 620)
		op->status = (uint8_t)(cur < HF_ORDER_SHIPPED ? cur + 2u : rnd(g, 5));
	else if (r < 740)
		op->status = (uint8_t)rnd(g, cur + 1); /* backwards or the same */
	else if (r < 880)
		op->status = HF_ORDER_CANCELED;
	else if (r < 985)
		op->status = (uint8_t)rnd(g, 5);
	else
		op->status = (uint8_t)(5 + rnd(g, 251)); /* not a status */
	r = rnd(g, 1000);
	if (r < 550)
		op->expect = HF_ORDER_STATUS_ANY;
	else if (r < 820)
		op->expect = cur;
	else if (r < 980)
		op->expect = (uint8_t)rnd(g, 5);
	else
		op->expect = (uint8_t)(5 + rnd(g, 250)); /* neither a status nor ANY */
}

/* The command mix: type, weight, weight in the hoarder profile, generator. */
struct sim_kind {
	uint8_t type;
	uint32_t weight, weight_hoarder;
	void (*gen)(struct sim_gen *g, struct hf_cmd *cmd);
};

static const struct sim_kind sim_kinds[] = {
	{HF_CMD_TICK, 30, 10, gen_tick},
	{HF_CMD_EVENT_CREATE, 10, 4, gen_event_create},
	{HF_CMD_SEATS_BLOCK, 25, 10, gen_seats_block},
	{HF_CMD_SEATS_UNBLOCK, 25, 10, gen_seats_block},
	{HF_CMD_ITEM_CREATE, 10, 4, gen_item_create},
	{HF_CMD_ITEM_RESTOCK, 35, 20, gen_item_restock},
	{HF_CMD_HOLD_CREATE, 200, 420, gen_lines_cmd},
	{HF_CMD_HOLD_ADD, 90, 60, gen_lines_cmd},
	{HF_CMD_HOLD_REMOVE, 60, 30, gen_lines_cmd},
	{HF_CMD_HOLD_EXTEND, 60, 60, gen_hold_op},
	{HF_CMD_HOLD_RELEASE, 45, 8, gen_hold_op},
	{HF_CMD_HOLD_CONFIRM, 120, 25, gen_hold_op},
	{HF_CMD_ORDER_CREATE, 80, 40, gen_lines_cmd},
	{HF_CMD_ORDER_CANCEL, 50, 20, gen_order_op},
	{HF_CMD_ORDER_STATUS, 80, 30, gen_order_op},
};
#define SIM_KINDS (sizeof sim_kinds / sizeof sim_kinds[0])

/* The first commands of every seed: the catalog. */
static const struct sim_event_spec sim_setup_events[] = {
	/* seats, ttl_s, max_per_customer, opens_in_s, open_for_s */
	{10, 30, 0, -1, -1},   /* the hot show */
	{12, 10, 2, -1, -1},   /* a limit per customer */
	{8, 60, 0, 120, 1800}, /* opens soon, closes later */
	{6, 20, 3, -1, 900},   /* open now, closes */
	{40, 60, 0, -1, -1},   /* roomy */
};

struct sim_item_spec {
	uint32_t stock;
	int64_t price;
};
static const struct sim_item_spec sim_setup_items[] = {
	/* stock, price */
	{5, 1500},
	{3, 250},
	{1000, 10},              /* bulk: holds pile up on it */
	{HF_STOCK_MAX - 10, 1},  /* at the stock bound */
	{0, 700},                /* sold out until restocked */
	{HF_STOCK_MAX / 2, HF_PRICE_MAX}, /* the largest totals */
};

/* Builds setup command g->setup_step; false when setup is over. */
static bool gen_setup(struct sim_gen *g, struct hf_cmd *cmd)
{
	uint32_t n_ev = sizeof sim_setup_events / sizeof sim_setup_events[0];
	uint32_t n_it = sizeof sim_setup_items / sizeof sim_setup_items[0];
	uint32_t n_extra = g->many_items ? HF_HOLD_ITEMS_MAX + 4 : 0;
	uint32_t k = g->setup_step;
	if (k < n_ev) {
		gen_event_from(g, cmd, &sim_setup_events[k]);
	} else if (k == n_ev && g->big_event) {
		struct sim_event_spec big = {120, 120, 0, -1, -1};
		gen_event_from(g, cmd, &big);
	} else if (k <= n_ev + n_it) {
		uint32_t i = k - n_ev - 1;
		if (!g->big_event)
			i = k - n_ev;
		if (i >= n_it)
			return false;
		cmd->type = HF_CMD_ITEM_CREATE;
		cmd->admin = true;
		cmd->u.item_create.id = sim_fmt(&g->arena, "I%u", g->next_item++);
		cmd->u.item_create.name = sim_fmt(&g->arena, "Item %u", g->next_item);
		cmd->u.item_create.stock = sim_setup_items[i].stock;
		cmd->u.item_create.price = sim_setup_items[i].price;
	} else if (k <= n_ev + n_it + n_extra) {
		cmd->type = HF_CMD_ITEM_CREATE;
		cmd->admin = true;
		cmd->u.item_create.id = sim_fmt(&g->arena, "I%u", g->next_item++);
		cmd->u.item_create.name = sim_fmt(&g->arena, "Item %u", g->next_item);
		cmd->u.item_create.stock = 2 + rnd(g, 4);
		cmd->u.item_create.price = 100 + rnd(g, 900);
	} else {
		return false;
	}
	g->setup_step++;
	return true;
}

/* The clock of the next command. */
static int64_t gen_now(struct sim_gen *g)
{
	const struct model *m = g->m;
	uint32_t r = rnd(g, 1000);
	if (g->hoarder && r < 950) {
		g->now += rnd(g, 200);
		return g->now;
	}
	if (r < 700) {
		g->now += rnd(g, 300);
	} else if (r < 900) {
		g->now += 300 + rnd(g, 2700);
	} else if (r < 950) { /* exactly at an expiry, or a millisecond either side */
		uint32_t active = model_active_holds(m);
		if (active > 0) {
			uint32_t k = rnd(g, active);
			for (uint32_t i = 0; i < m->n_holds; i++) {
				const struct model_hold *h = &m->holds[i];
				if (h->b.state != HF_HOLD_ACTIVE || k-- != 0)
					continue;
				int64_t t = h->b.expires_at_ms + (int64_t)rnd(g, 4) - 1;
				if (t > g->now)
					g->now = t > h->b.expires_at_ms ? h->b.expires_at_ms : t;
			}
		}
	} else if (r < 956) {
		g->now += 20000 + rnd(g, 200000); /* past every short hold */
	} else if (r < 980) {
		return g->now - rnd(g, 5000); /* backwards: the core keeps its clock */
	}
	return g->now;
}

/* Gives cmd an idempotency key: fresh, another command's (reuse), or an
 * invalid one. Retries (the same bytes again) are chosen by the caller. */
static void gen_idem(struct sim_gen *g, struct hf_cmd *cmd)
{
	uint32_t r = rnd(g, 1000);
	cmd->idem_fingerprint = chance(g, 500) ? sim_rng_next(&g->rng) : 0;
	if (r < 110) {
		cmd->idem_key = sim_fmt(&g->arena, "k%u", g->next_key++);
		cmd->idem_fingerprint = sim_rng_next(&g->rng);
	} else if (r < 140 && g->n_ring > 0) {
		const struct sim_keyed *k = &g->ring[rnd(g, g->n_ring)];
		cmd->customer = sim_copy(&g->arena, (struct hf_str){k->customer, k->customer_len});
		cmd->idem_key = sim_copy(&g->arena, (struct hf_str){k->key, k->key_len});
		cmd->idem_fingerprint = k->fingerprint + 1 + rnd(g, 1000);
	} else if (r < 148) {
		cmd->idem_key = chance(g, 500) ? sim_fmt(&g->arena, "bad key") : sim_repeat(&g->arena, 'k', HF_ID_LEN_MAX + 1);
	}
}

/* Builds the next command (not a retry). */
static void gen_command(struct sim_gen *g, struct hf_cmd *cmd)
{
	memset(cmd, 0, sizeof *cmd);
	if (gen_setup(g, cmd))
		return;
	uint32_t total = 0;
	for (uint32_t i = 0; i < SIM_KINDS; i++)
		total += g->hoarder ? sim_kinds[i].weight_hoarder : sim_kinds[i].weight;
	uint32_t r = rnd(g, total);
	const struct sim_kind *k = &sim_kinds[0];
	for (uint32_t i = 0; i < SIM_KINDS; i++) {
		uint32_t w = g->hoarder ? sim_kinds[i].weight_hoarder : sim_kinds[i].weight;
		if (r < w) {
			k = &sim_kinds[i];
			break;
		}
		r -= w;
	}
	cmd->type = k->type;
	k->gen(g, cmd);
	gen_idem(g, cmd);
}

/* ---- dumps ------------------------------------------------------------- */

static void sim_print_str(FILE *f, struct hf_str s)
{
	uint32_t n = s.len > 80 ? 80 : s.len;
	fputc('"', f);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c >= 32 && c < 127 && c != '"' && c != '\\')
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
	fputc('"', f);
	if (s.len > n)
		fprintf(f, "...(%u bytes)", s.len);
}

#define SIM_DUMP_LINES 24u /* array entries shown in a dump */

static void sim_dump_cmd(FILE *f, int64_t now, const struct hf_cmd *c)
{
	fprintf(f, "  command: %s (type %u) now_ms=%" PRId64 " admin=%d customer=", sim_type_name(c->type),
		c->type, now, c->admin);
	sim_print_str(f, c->customer);
	fprintf(f, " idem_key=");
	sim_print_str(f, c->idem_key);
	fprintf(f, " fingerprint=%" PRIu64 "\n", c->idem_fingerprint);
	switch (c->type) {
	case HF_CMD_EVENT_CREATE: {
		const struct hf_event_create *e = &c->u.event_create;
		fprintf(f, "    id=");
		sim_print_str(f, e->id);
		fprintf(f, " name=");
		sim_print_str(f, e->name);
		fprintf(f, " starts=%" PRId64 " ttl_s=%u max_per_customer=%u opens=%" PRId64 " closes=%" PRId64
			   " orphan_rule=%u n_seats=%u\n",
			e->starts_at_ms, e->hold_ttl_s, e->max_per_customer, e->sale_opens_at_ms,
			e->sale_closes_at_ms, e->orphan_rule, e->n_seats);
		for (uint32_t i = 0; i < e->n_seats && i < SIM_DUMP_LINES; i++) {
			fprintf(f, "    seat[%u] id=", i);
			sim_print_str(f, e->seats[i].id);
			fprintf(f, " section=");
			sim_print_str(f, e->seats[i].section);
			fprintf(f, " row=");
			sim_print_str(f, e->seats[i].row);
			fprintf(f, " category=");
			sim_print_str(f, e->seats[i].category);
			fprintf(f, " number=%d price=%" PRId64 "\n", e->seats[i].number, e->seats[i].price);
		}
		break;
	}
	case HF_CMD_SEATS_BLOCK:
	case HF_CMD_SEATS_UNBLOCK: {
		const struct hf_seats_block *b = &c->u.seats_block;
		fprintf(f, "    event=");
		sim_print_str(f, b->event);
		fprintf(f, " n_seats=%u:", b->n_seats);
		for (uint32_t i = 0; i < b->n_seats && i < SIM_DUMP_LINES; i++) {
			fputc(' ', f);
			sim_print_str(f, b->seats[i]);
		}
		fputc('\n', f);
		break;
	}
	case HF_CMD_ITEM_CREATE: {
		const struct hf_item_create *it = &c->u.item_create;
		fprintf(f, "    id=");
		sim_print_str(f, it->id);
		fprintf(f, " name=");
		sim_print_str(f, it->name);
		fprintf(f, " category=");
		sim_print_str(f, it->category);
		fprintf(f, " description=");
		sim_print_str(f, it->description);
		fprintf(f, " image_url=");
		sim_print_str(f, it->image_url);
		fprintf(f, " price=%" PRId64 " stock=%u\n", it->price, it->stock);
		break;
	}
	case HF_CMD_ITEM_RESTOCK:
		fprintf(f, "    item=");
		sim_print_str(f, c->u.item_restock.item);
		fprintf(f, " quantity=%u\n", c->u.item_restock.quantity);
		break;
	case HF_CMD_HOLD_CREATE:
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
	case HF_CMD_ORDER_CREATE: {
		const struct hf_lines *l = &c->u.lines;
		fprintf(f, "    hold=%" PRIu64 " ttl_s=%u n_seats=%u n_items=%u best.count=%u best.event=", l->hold,
			l->ttl_s, l->n_seats, l->n_items, l->best.count);
		sim_print_str(f, l->best.event);
		fprintf(f, " best.section=");
		sim_print_str(f, l->best.section);
		fprintf(f, " best.category=");
		sim_print_str(f, l->best.category);
		fputc('\n', f);
		for (uint32_t i = 0; i < l->n_seats && i < SIM_DUMP_LINES; i++) {
			fprintf(f, "    seat[%u] ", i);
			sim_print_str(f, l->seats[i].event);
			fputc('/', f);
			sim_print_str(f, l->seats[i].seat);
			fputc('\n', f);
		}
		for (uint32_t i = 0; i < l->n_items && i < SIM_DUMP_LINES; i++) {
			fprintf(f, "    item[%u] ", i);
			sim_print_str(f, l->items[i].item);
			fprintf(f, " quantity=%u partial=%d\n", l->items[i].quantity, l->items[i].partial);
		}
		break;
	}
	case HF_CMD_HOLD_EXTEND:
	case HF_CMD_HOLD_RELEASE:
	case HF_CMD_HOLD_CONFIRM:
		fprintf(f, "    hold=%" PRIu64 " ttl_s=%u accept_late=%d\n", c->u.hold_op.hold, c->u.hold_op.ttl_s,
			c->u.hold_op.accept_late);
		break;
	case HF_CMD_ORDER_CANCEL:
	case HF_CMD_ORDER_STATUS:
		fprintf(f, "    order=%" PRIu64 " status=%u expect=%u\n", c->u.order_op.order, c->u.order_op.status,
			c->u.order_op.expect);
		break;
	default:
		break;
	}
}

static void sim_dump_booking(FILE *f, const struct hf_booking *b)
{
	fprintf(f, "    booking id=%" PRIu64 " customer=%u state=%u created=%" PRId64 " expires=%" PRId64
		   " order=%" PRIu64 " total=%" PRId64 " fees=%" PRId64 " total_with_fees=%" PRId64 "\n",
		b->id, b->customer, b->state, b->created_at_ms, b->expires_at_ms, b->order, b->total, b->fees,
		b->total_with_fees);
	fprintf(f, "    seats(%u):", b->n_seats);
	for (uint32_t i = 0; i < b->n_seats && i < HF_HOLD_SEATS_MAX; i++)
		fprintf(f, " %u@%" PRId64, b->seats[i].seat, b->seats[i].price);
	fprintf(f, "\n    items(%u) item:quantity/requested(left available)@price:", b->n_items);
	for (uint32_t i = 0; i < b->n_items && i < HF_HOLD_ITEMS_MAX; i++)
		fprintf(f, " %u:%u/%u(left %u)@%" PRId64, b->items[i].item, b->items[i].quantity,
			b->items[i].requested, b->items[i].available, b->items[i].price);
	fputc('\n', f);
}

static void sim_dump_reply(FILE *f, const char *who, const struct hf_reply *r)
{
	fprintf(f, "  %s: %s (%u) kind=%u replayed=%d best=%d together=%d item_short=%d index=%u bad_item=%u"
		   " available=%u current_status=%u limit=%u max=%u current=%u requested=%u ref=%u"
		   " bad_seats(%u):",
		who, sim_result_name(r->result), r->result, r->kind, r->replayed, r->best, r->together,
		r->item_short, r->index, r->bad_item, r->available, r->current_status, r->limit, r->limit_max,
		r->limit_current, r->limit_requested, r->limit_ref, r->n_bad_seats);
	for (uint32_t i = 0; i < r->n_bad_seats && i < HF_HOLD_SEATS_MAX; i++)
		fprintf(f, " %u", r->bad_seats[i]);
	fputc('\n', f);
	if (r->kind == HF_REPLY_HOLD || r->kind == HF_REPLY_ORDER)
		sim_dump_booking(f, &r->booking);
}

/* ---- comparisons ------------------------------------------------------- */

/* Describes the first difference of two bookings in why; false if none.
 * expires_at and order are compared for holds only. */
static bool sim_booking_diff(const struct hf_booking *a, const struct hf_booking *b, bool hold, char *why,
			     size_t cap)
{
#define SIM_FIELD(x)                                                                              \
	if (a->x != b->x) {                                                                       \
		snprintf(why, cap, "booking." #x ": core %" PRId64 ", model %" PRId64, (int64_t)a->x,     \
			 (int64_t)b->x);                                                          \
		return true;                                                                      \
	}
	SIM_FIELD(id);
	SIM_FIELD(customer);
	SIM_FIELD(state);
	SIM_FIELD(created_at_ms);
	if (hold) {
		SIM_FIELD(expires_at_ms);
		SIM_FIELD(order);
	}
	SIM_FIELD(n_seats);
	SIM_FIELD(n_items);
	if (a->n_seats > HF_HOLD_SEATS_MAX || a->n_items > HF_HOLD_ITEMS_MAX) {
		snprintf(why, cap, "booking: line counts past the bounds");
		return true;
	}
	for (uint32_t i = 0; i < a->n_seats; i++) {
		SIM_FIELD(seats[i].seat);
		SIM_FIELD(seats[i].price);
	}
	for (uint32_t i = 0; i < a->n_items; i++) {
		SIM_FIELD(items[i].item);
		SIM_FIELD(items[i].quantity);
		SIM_FIELD(items[i].requested);
		SIM_FIELD(items[i].available);
		SIM_FIELD(items[i].price);
	}
	SIM_FIELD(total);
	SIM_FIELD(fees);
	SIM_FIELD(total_with_fees);
#undef SIM_FIELD
	return false;
}

/* The used fields of a reply: result, kind, replayed always; index for
 * EVENT and ITEM; the bad seats always (empty unless a refusal names
 * some); bad_item for UNKNOWN_ITEM and INSUFFICIENT_STOCK; available for
 * INSUFFICIENT_STOCK; current_status for STATUS_MISMATCH and
 * INVALID_TRANSITION; the booking for HOLD and ORDER. */
static bool sim_reply_diff(const struct hf_reply *a, const struct hf_reply *b, char *why, size_t cap)
{
#define SIM_FIELD(x)                                                                           \
	if (a->x != b->x) {                                                                    \
		snprintf(why, cap, #x ": core %" PRId64 ", model %" PRId64, (int64_t)a->x,     \
			 (int64_t)b->x);                                                       \
		return true;                                                                   \
	}
	SIM_FIELD(result);
	SIM_FIELD(kind);
	SIM_FIELD(replayed);
	SIM_FIELD(best);
	SIM_FIELD(together);
	SIM_FIELD(item_short);
	SIM_FIELD(limit);
	SIM_FIELD(limit_max);
	SIM_FIELD(limit_current);
	SIM_FIELD(limit_requested);
	SIM_FIELD(limit_ref);
	if (a->kind == HF_REPLY_EVENT || a->kind == HF_REPLY_ITEM)
		SIM_FIELD(index);
	SIM_FIELD(n_bad_seats);
	for (uint32_t i = 0; i < a->n_bad_seats && i < HF_HOLD_SEATS_MAX; i++)
		SIM_FIELD(bad_seats[i]);
	if (a->result == HF_UNKNOWN_ITEM || a->result == HF_INSUFFICIENT_STOCK || a->item_short)
		SIM_FIELD(bad_item);
	if (a->result == HF_INSUFFICIENT_STOCK || a->item_short || a->result == HF_SEATS_UNAVAILABLE)
		SIM_FIELD(available);
	if (a->result == HF_STATUS_MISMATCH || a->result == HF_INVALID_TRANSITION)
		SIM_FIELD(current_status);
#undef SIM_FIELD
	if (a->kind == HF_REPLY_HOLD || a->kind == HF_REPLY_ORDER)
		return sim_booking_diff(&a->booking, &b->booking, a->kind == HF_REPLY_HOLD, why, cap);
	return false;
}

static bool sim_str_diff(struct hf_str a, struct hf_str b)
{
	return a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len) != 0);
}

/* The decoded command must equal the encoded one field by field. */
static const char *sim_cmd_diff(const struct hf_cmd *a, const struct hf_cmd *b)
{
	if (a->type != b->type)
		return "type";
	if (a->admin != b->admin)
		return "admin";
	if (sim_str_diff(a->customer, b->customer))
		return "customer";
	if (sim_str_diff(a->idem_key, b->idem_key))
		return "idem_key";
	if (a->idem_fingerprint != b->idem_fingerprint)
		return "idem_fingerprint";
	switch (a->type) {
	case HF_CMD_EVENT_CREATE: {
		const struct hf_event_create *x = &a->u.event_create, *y = &b->u.event_create;
		if (sim_str_diff(x->id, y->id) || sim_str_diff(x->name, y->name) ||
		    x->starts_at_ms != y->starts_at_ms || x->hold_ttl_s != y->hold_ttl_s ||
		    x->max_per_customer != y->max_per_customer || x->sale_opens_at_ms != y->sale_opens_at_ms ||
		    x->sale_closes_at_ms != y->sale_closes_at_ms || x->n_seats != y->n_seats ||
		    x->orphan_rule != y->orphan_rule)
			return "event_create";
		for (uint32_t i = 0; i < x->n_seats; i++) {
			const struct hf_seat_spec *s = &x->seats[i], *t = &y->seats[i];
			if (sim_str_diff(s->id, t->id) || sim_str_diff(s->section, t->section) ||
			    sim_str_diff(s->row, t->row) || sim_str_diff(s->category, t->category) ||
			    s->number != t->number || s->price != t->price)
				return "event_create.seats";
		}
		return NULL;
	}
	case HF_CMD_SEATS_BLOCK:
	case HF_CMD_SEATS_UNBLOCK: {
		const struct hf_seats_block *x = &a->u.seats_block, *y = &b->u.seats_block;
		if (sim_str_diff(x->event, y->event) || x->n_seats != y->n_seats)
			return "seats_block";
		for (uint32_t i = 0; i < x->n_seats; i++)
			if (sim_str_diff(x->seats[i], y->seats[i]))
				return "seats_block.seats";
		return NULL;
	}
	case HF_CMD_ITEM_CREATE: {
		const struct hf_item_create *x = &a->u.item_create, *y = &b->u.item_create;
		if (sim_str_diff(x->id, y->id) || sim_str_diff(x->name, y->name) ||
		    sim_str_diff(x->category, y->category) || sim_str_diff(x->description, y->description) ||
		    sim_str_diff(x->image_url, y->image_url) || x->price != y->price || x->stock != y->stock)
			return "item_create";
		return NULL;
	}
	case HF_CMD_ITEM_RESTOCK:
		if (sim_str_diff(a->u.item_restock.item, b->u.item_restock.item) ||
		    a->u.item_restock.quantity != b->u.item_restock.quantity)
			return "item_restock";
		return NULL;
	case HF_CMD_HOLD_CREATE:
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
	case HF_CMD_ORDER_CREATE: {
		const struct hf_lines *x = &a->u.lines, *y = &b->u.lines;
		if (x->hold != y->hold || x->ttl_s != y->ttl_s || x->n_seats != y->n_seats || x->n_items != y->n_items)
			return "lines";
		if (sim_str_diff(x->best.event, y->best.event) || sim_str_diff(x->best.section, y->best.section) ||
		    sim_str_diff(x->best.category, y->best.category) || x->best.count != y->best.count)
			return "lines.best";
		for (uint32_t i = 0; i < x->n_seats; i++)
			if (sim_str_diff(x->seats[i].event, y->seats[i].event) ||
			    sim_str_diff(x->seats[i].seat, y->seats[i].seat))
				return "lines.seats";
		for (uint32_t i = 0; i < x->n_items; i++)
			if (sim_str_diff(x->items[i].item, y->items[i].item) ||
			    x->items[i].quantity != y->items[i].quantity || x->items[i].partial != y->items[i].partial)
				return "lines.items";
		return NULL;
	}
	case HF_CMD_HOLD_EXTEND:
	case HF_CMD_HOLD_RELEASE:
	case HF_CMD_HOLD_CONFIRM:
		if (a->u.hold_op.hold != b->u.hold_op.hold || a->u.hold_op.ttl_s != b->u.hold_op.ttl_s ||
		    a->u.hold_op.accept_late != b->u.hold_op.accept_late)
			return "hold_op";
		return NULL;
	case HF_CMD_ORDER_CANCEL:
	case HF_CMD_ORDER_STATUS:
		if (a->u.order_op.order != b->u.order_op.order || a->u.order_op.status != b->u.order_op.status ||
		    a->u.order_op.expect != b->u.order_op.expect)
			return "order_op";
		return NULL;
	default:
		return NULL;
	}
}

/* ---- one seed's run ---------------------------------------------------- */

struct sim_totals {
	uint64_t counts[HF_CMD_TYPE_COUNT][HF_RESULT_COUNT];
	uint64_t replayed[HF_CMD_TYPE_COUNT];
	uint64_t commands, seeds, retries, snapshots, shadow_commands, replay_commands, views;
	uint64_t expired, recycled, raw_bad_type, direct;
	uint64_t scenarios[64];
	/* high-water marks of the capacities the model cannot mirror */
	uint32_t peak_lines, peak_string_bytes, peak_idem_entries;
	/* seeds per profile */
	uint64_t hoarder, many_items, big_event, far_future, small_orders, small_customers, small_seats;
};

/* What the model looked like just before a command (for the scenarios). */
struct sim_before {
	int64_t now_ms;
	int order_status; /* of the order the command names, or -1 */
	bool expires_now; /* an active hold expires exactly at the command's now */
	bool hold_empty;  /* the hold the command names exists and has no lines */
	bool hold_expired; /* ... and is expired (or expires as the command applies) */
};

struct sim {
	uint64_t seed;
	uint32_t step;
	bool trace;
	struct hf_sm_config cfg;
	struct hf_sm *sm;
	struct hf_sm *shadow; /* read from a snapshot; answers like sm */
	uint32_t shadow_left;
	bool snapshot_negatives_done;
	bool is_retry; /* this command is a retry of a kept keyed command */
	struct model *m;
	struct sim_gen g;
	/* The checker's own randomness (views, snapshots): never drawn from
	 * g.rng, so a seed's commands do not depend on what is checked when. */
	uint64_t check_rng;
	/* this command */
	int64_t now;
	const struct hf_cmd *cmd;
	struct sim_before before;
	/* the recorded stream: (i64 now, u32 len, bytes)* */
	uint8_t *stream;
	size_t stream_len, stream_cap;
	/* codec buffers */
	uint8_t *enc;
	size_t enc_cap;
	void *scratch;
	size_t scratch_cap;
	struct sim_totals *tot;
};

static uint32_t sim_rnd(struct sim *s, uint32_t n)
{
	return n ? (uint32_t)(sim_rng_next(&s->check_rng) % n) : 0;
}

/* A crash inside the code under test (sanitizer report, HF_ASSERT, signal)
 * must still say which seed and step: the sanitizers' death callback and
 * the signal handlers print it once. Not async-signal-safe; good enough
 * on the way down. */
static const struct sim *sim_current;
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void sim_dump_cmd(FILE *f, int64_t now, const struct hf_cmd *c);

static void sim_crash_report(void)
{
	static volatile sig_atomic_t done;
	const struct sim *s = sim_current;
	if (done || !s)
		return;
	done = 1;
	fprintf(stderr, "\nsim: CRASHED seed=%" PRIu64 " step=%u\n", s->seed, s->step);
	fprintf(stderr, "  reproduce: sim --seed %" PRIu64 " --commands %u\n", s->seed, s->step + 1);
	if (s->cmd)
		sim_dump_cmd(stderr, s->now, s->cmd);
	fflush(stderr);
}

static void sim_on_signal(int sig)
{
	sim_crash_report();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void sim_crash_hooks(void)
{
	static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], sim_on_signal);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(sim_crash_report);
}

static void sim_header(const struct sim *s)
{
	fprintf(stderr, "\nsim: FAILED seed=%" PRIu64 " step=%u\n", s->seed, s->step);
	fprintf(stderr, "  reproduce: sim --seed %" PRIu64 " --commands %u\n", s->seed, s->step + 1);
}

static void sim_fail(const struct sim *s, const char *what, const char *why, const struct hf_reply *core,
		     const struct hf_reply *model)
{
	sim_header(s);
	fprintf(stderr, "  %s: %s\n", what, why);
	if (s->cmd)
		sim_dump_cmd(stderr, s->now, s->cmd);
	if (core)
		sim_dump_reply(stderr, "core ", core);
	if (model)
		sim_dump_reply(stderr, "model", model);
	fflush(stderr);
	exit(1);
}

static void sim_failf(const struct sim *s, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sim_failf(const struct sim *s, const char *what, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	sim_fail(s, what, why, NULL, NULL);
}

static void sim_check(const struct sim *s, const struct hf_sm *sm, const char *which)
{
	char msg[512];
	if (hf_sm_check(sm, msg, sizeof msg) != 0)
		sim_failf(s, which, "hf_sm_check: %s", msg);
}

static void sim_str_expect(const struct sim *s, const char *what, struct hf_str core, struct hf_str model)
{
	if (!sim_str_diff(core, model))
		return;
	sim_header(s);
	fprintf(stderr, "  view %s: core ", what);
	sim_print_str(stderr, core);
	fprintf(stderr, ", model ");
	sim_print_str(stderr, model);
	fprintf(stderr, "\n");
	exit(1);
}

#define SIM_EXPECT_EQ(s, what, core, model)                                                         \
	do {                                                                                        \
		int64_t c_ = (int64_t)(core), m_ = (int64_t)(model);                                \
		if (c_ != m_)                                                                       \
			sim_failf((s), "view", "%s: core %" PRId64 ", model %" PRId64, (what), c_, m_); \
	} while (0)

/* Every read view of sm against the model. */
static void sim_views(struct sim *s, const struct hf_sm *sm, bool main_sm)
{
	const struct model *m = s->m;
	char what[160];
	char msg[512];
	if (model_check(m, msg, sizeof msg) != 0)
		sim_failf(s, "model self-check (a bug in the simulation)", "%s", msg);
	s->tot->views++;
	SIM_EXPECT_EQ(s, "now", hf_sm_now(sm), m->now_ms);
	SIM_EXPECT_EQ(s, "event count", hf_sm_event_count(sm), m->n_events);
	SIM_EXPECT_EQ(s, "item count", hf_sm_item_count(sm), m->n_items);

	for (uint32_t e = 0; e < m->n_events; e++) {
		struct hf_event_info a, b;
		memset(&a, 0, sizeof a);
		hf_sm_event_info(sm, e, &a);
		model_event_info(m, e, &b);
		snprintf(what, sizeof what, "event %u id", e);
		sim_str_expect(s, what, a.id, b.id);
		snprintf(what, sizeof what, "event %u name", e);
		sim_str_expect(s, what, a.name, b.name);
		sim_str_expect(s, "hf_sm_event_id", hf_sm_event_id(sm, e), b.id);
#define SIM_EV(x)                                                   \
	snprintf(what, sizeof what, "event %u " #x, e);             \
	SIM_EXPECT_EQ(s, what, a.x, b.x)
		SIM_EV(starts_at_ms);
		SIM_EV(sale_opens_at_ms);
		SIM_EV(sale_closes_at_ms);
		SIM_EV(hold_ttl_s);
		SIM_EV(max_per_customer);
		SIM_EV(orphan_rule);
		SIM_EV(first_seat);
		SIM_EV(n_seats);
		SIM_EV(count[0]);
		SIM_EV(count[1]);
		SIM_EV(count[2]);
		SIM_EV(count[3]);
#undef SIM_EV
		snprintf(what, sizeof what, "hf_sm_event_find(event %u)", e);
		SIM_EXPECT_EQ(s, what, hf_sm_event_find(sm, b.id), e);
	}
	SIM_EXPECT_EQ(s, "hf_sm_event_find(unknown)", hf_sm_event_find(sm, hf_str_c("EZ0")), -1);
	for (uint32_t i = 0; i < m->n_seats; i++) {
		struct hf_seat_info a, b;
		memset(&a, 0, sizeof a);
		hf_sm_seat_info(sm, i, &a);
		model_seat_info(m, i, &b);
		snprintf(what, sizeof what, "seat %u state", i);
		SIM_EXPECT_EQ(s, what, a.state, b.state);
		snprintf(what, sizeof what, "seat %u event", i);
		SIM_EXPECT_EQ(s, what, a.event, b.event);
		snprintf(what, sizeof what, "seat %u price", i);
		SIM_EXPECT_EQ(s, what, a.price, b.price);
		snprintf(what, sizeof what, "seat %u number", i);
		SIM_EXPECT_EQ(s, what, a.number, b.number);
		snprintf(what, sizeof what, "seat %u id", i);
		sim_str_expect(s, what, a.id, b.id);
		snprintf(what, sizeof what, "seat %u section", i);
		sim_str_expect(s, what, a.section, b.section);
		snprintf(what, sizeof what, "seat %u row", i);
		sim_str_expect(s, what, a.row, b.row);
		snprintf(what, sizeof what, "seat %u category", i);
		sim_str_expect(s, what, a.category, b.category);
		uint32_t ev = UINT32_MAX;
		snprintf(what, sizeof what, "hf_sm_seat_id(%u)", i);
		sim_str_expect(s, what, hf_sm_seat_id(sm, i, &ev), b.id);
		SIM_EXPECT_EQ(s, "hf_sm_seat_id event", ev, b.event);
		snprintf(what, sizeof what, "hf_sm_seat_find(seat %u)", i);
		SIM_EXPECT_EQ(s, what, hf_sm_seat_find(sm, b.event, b.id), i);
	}
	for (uint32_t i = 0; i < m->n_items; i++) {
		struct hf_item_info a, b;
		memset(&a, 0, sizeof a);
		hf_sm_item_info(sm, i, &a);
		model_item_info(m, i, &b);
#define SIM_IT(x)                                                   \
	snprintf(what, sizeof what, "item %u " #x, i);              \
	SIM_EXPECT_EQ(s, what, a.x, b.x)
		SIM_IT(price);
		SIM_IT(available);
		SIM_IT(held);
		SIM_IT(sold);
#undef SIM_IT
		snprintf(what, sizeof what, "item %u id", i);
		sim_str_expect(s, what, a.id, b.id);
		sim_str_expect(s, "item name", a.name, b.name);
		sim_str_expect(s, "item category", a.category, b.category);
		sim_str_expect(s, "item description", a.description, b.description);
		sim_str_expect(s, "item image_url", a.image_url, b.image_url);
		sim_str_expect(s, "hf_sm_item_id", hf_sm_item_id(sm, i), b.id);
		snprintf(what, sizeof what, "hf_sm_item_find(item %u)", i);
		SIM_EXPECT_EQ(s, what, hf_sm_item_find(sm, b.id), i);
	}
	SIM_EXPECT_EQ(s, "hf_sm_item_find(unknown)", hf_sm_item_find(sm, hf_str_c("IZ0")), -1);

	uint64_t ids_a[SIM_LIST_MAX], ids_b[SIM_LIST_MAX];
	for (uint32_t c = 0; c < m->n_customers; c++) {
		snprintf(what, sizeof what, "hf_sm_customer_find(customer %u)", c);
		SIM_EXPECT_EQ(s, what, hf_sm_customer_find(sm, m->customers[c]), c);
		sim_str_expect(s, "hf_sm_customer_name", hf_sm_customer_name(sm, c), m->customers[c]);
		for (int pass = 0; pass < 2; pass++) {
			uint64_t after = pass == 0 ? 0 : 1 + sim_rnd(s, (uint32_t)m->next_hold_id + 1);
			uint32_t limit = pass == 0 ? SIM_LIST_MAX : sim_rnd(s, 6);
			uint32_t na = hf_sm_customer_holds(sm, c, after, limit, ids_a);
			uint32_t nb = model_customer_holds(m, c, after, limit, ids_b);
			snprintf(what, sizeof what, "customer %u holds (after %" PRIu64 ", limit %u): count", c, after,
				 limit);
			SIM_EXPECT_EQ(s, what, na, nb);
			for (uint32_t i = 0; i < na; i++) {
				snprintf(what, sizeof what, "customer %u holds (after %" PRIu64 ", limit %u)[%u]", c,
					 after, limit, i);
				SIM_EXPECT_EQ(s, what, ids_a[i], ids_b[i]);
			}
			after = pass == 0 ? 0 : 1 + sim_rnd(s, (uint32_t)m->next_order_id + 1);
			na = hf_sm_customer_orders(sm, c, after, limit, ids_a);
			nb = model_customer_orders(m, c, after, limit, ids_b);
			snprintf(what, sizeof what, "customer %u orders (after %" PRIu64 ", limit %u): count", c,
				 after, limit);
			SIM_EXPECT_EQ(s, what, na, nb);
			for (uint32_t i = 0; i < na; i++) {
				snprintf(what, sizeof what, "customer %u orders (after %" PRIu64 ", limit %u)[%u]", c,
					 after, limit, i);
				SIM_EXPECT_EQ(s, what, ids_a[i], ids_b[i]);
			}
		}
	}
	SIM_EXPECT_EQ(s, "hf_sm_customer_find(never seen)", hf_sm_customer_find(sm, hf_str_c("nobody")), -1);

	/* Holds: every id that may be kept, and a few that are long gone. */
	struct hf_booking a, b;
	uint64_t span = 2ull * s->cfg.max_holds + 4;
	uint64_t from = m->next_hold_id > span ? m->next_hold_id - span : 0;
	for (uint64_t id = from; id <= m->next_hold_id + 1; id++) {
		uint64_t probe = id;
		if (id == from && from > 0)
			probe = 1 + sim_rnd(s, (uint32_t)from);
		memset(&a, 0, sizeof a);
		enum hf_result ra = hf_sm_hold_view(sm, probe, &a);
		enum hf_result rb = model_hold_view(m, probe, &b);
		snprintf(what, sizeof what, "hf_sm_hold_view(%" PRIu64 ") result", probe);
		SIM_EXPECT_EQ(s, what, ra, rb);
		if (ra == HF_OK && sim_booking_diff(&a, &b, true, msg, sizeof msg)) {
			sim_header(s);
			fprintf(stderr, "  view hf_sm_hold_view(%" PRIu64 "): %s\n  core:\n", probe, msg);
			sim_dump_booking(stderr, &a);
			fprintf(stderr, "  model:\n");
			sim_dump_booking(stderr, &b);
			exit(1);
		}
	}
	/* Orders: the newest, some at random, the unknown ones around. */
	for (uint32_t k = 0; k < 40; k++) {
		uint64_t probe = k < 20 ? m->next_order_id + 1 - k : sim_rnd(s, (uint32_t)m->next_order_id + 2);
		if (k < 20 && m->next_order_id + 1 < k)
			continue;
		memset(&a, 0, sizeof a);
		enum hf_result ra = hf_sm_order_view(sm, probe, &a);
		enum hf_result rb = model_order_view(m, probe, &b);
		snprintf(what, sizeof what, "hf_sm_order_view(%" PRIu64 ") result", probe);
		SIM_EXPECT_EQ(s, what, ra, rb);
		if (ra == HF_OK && sim_booking_diff(&a, &b, false, msg, sizeof msg)) {
			sim_header(s);
			fprintf(stderr, "  view hf_sm_order_view(%" PRIu64 "): %s\n  core:\n", probe, msg);
			sim_dump_booking(stderr, &a);
			fprintf(stderr, "  model:\n");
			sim_dump_booking(stderr, &b);
			exit(1);
		}
	}

	struct hf_sm_stats st;
	memset(&st, 0, sizeof st);
	hf_sm_stats(sm, &st);
	uint64_t by_state[4] = {0}, avail = 0, held = 0, sold = 0;
	for (uint32_t i = 0; i < m->n_seats; i++)
		by_state[m->seats[i].state]++;
	for (uint32_t i = 0; i < m->n_items; i++) {
		avail += m->items[i].available;
		held += m->items[i].held;
		sold += m->items[i].sold;
	}
	SIM_EXPECT_EQ(s, "stats.events", st.events, m->n_events);
	SIM_EXPECT_EQ(s, "stats.seats", st.seats, m->n_seats);
	SIM_EXPECT_EQ(s, "stats.items", st.items, m->n_items);
	SIM_EXPECT_EQ(s, "stats.customers", st.customers, m->n_customers);
	SIM_EXPECT_EQ(s, "stats.holds_active", st.holds_active, model_active_holds(m));
	/* holds_kept: the ended holds still kept for reads (sm.c's reading) */
	SIM_EXPECT_EQ(s, "stats.holds_kept", st.holds_kept, m->n_holds - model_active_holds(m));
	SIM_EXPECT_EQ(s, "stats.orders", st.orders, m->n_orders);
	SIM_EXPECT_EQ(s, "stats.idem_entries", st.idem_entries, m->n_idem);
	for (int k = 0; k < 4; k++) {
		snprintf(what, sizeof what, "stats.seats_by_state[%d]", k);
		SIM_EXPECT_EQ(s, what, st.seats_by_state[k], by_state[k]);
	}
	SIM_EXPECT_EQ(s, "stats.items_available", st.items_available, avail);
	SIM_EXPECT_EQ(s, "stats.items_held", st.items_held, held);
	SIM_EXPECT_EQ(s, "stats.items_sold", st.items_sold, sold);
	if (main_sm)
		SIM_EXPECT_EQ(s, "stats.holds_expired_total", st.holds_expired_total, m->expired_total);
	struct sim_totals *t = s->tot;
	t->peak_lines = st.lines_used > t->peak_lines ? st.lines_used : t->peak_lines;
	t->peak_string_bytes = st.string_bytes_used > t->peak_string_bytes ? st.string_bytes_used : t->peak_string_bytes;
	t->peak_idem_entries = st.idem_entries > t->peak_idem_entries ? st.idem_entries : t->peak_idem_entries;
}

static void sim_stream_add(struct sim *s, int64_t now, const uint8_t *bytes, size_t len)
{
	size_t need = s->stream_len + 12 + len;
	if (need > s->stream_cap) {
		size_t c = s->stream_cap ? s->stream_cap : 1u << 20;
		while (c < need)
			c *= 2;
		s->stream = realloc(s->stream, c);
		HF_ASSERT(s->stream != NULL);
		s->stream_cap = c;
	}
	uint32_t l = (uint32_t)len;
	memcpy(s->stream + s->stream_len, &now, 8);
	memcpy(s->stream + s->stream_len + 8, &l, 4);
	memcpy(s->stream + s->stream_len + 12, bytes, len);
	s->stream_len = need;
}

static void *sim_scratch(void **p, size_t *cap, size_t need)
{
	if (need > *cap) {
		free(*p);
		*p = malloc(need);
		HF_ASSERT(*p != NULL);
		*cap = need;
	}
	return *p;
}

static struct hf_sm *sim_sm_new(const struct sim *s, const struct hf_sm_config *cfg)
{
	char err[256] = "";
	struct hf_sm *sm = hf_sm_init(cfg, err, sizeof err);
	if (!sm)
		sim_failf(s, "hf_sm_init", "%s", err);
	return sm;
}

/* Snapshot of sm read into a fresh sm: equal digest and views; then the
 * copy shadows sm for a while. Once per seed, a truncated snapshot and a
 * snapshot read under another config must be refused. */
static void sim_snapshot(struct sim *s)
{
	size_t cap = hf_sm_snapshot_size(s->sm);
	uint8_t *buf = malloc(cap ? cap : 1);
	HF_ASSERT(buf != NULL);
	size_t n = hf_sm_snapshot_write(s->sm, buf, cap);
	if (n == 0 || n > cap)
		sim_failf(s, "snapshot", "hf_sm_snapshot_write wrote %zu bytes of %zu", n, cap);
	char err[256] = "";
	struct hf_sm *copy = sim_sm_new(s, &s->cfg);
	if (hf_sm_snapshot_read(copy, buf, n, err, sizeof err) != 0)
		sim_failf(s, "snapshot", "hf_sm_snapshot_read of a good snapshot failed: %s", err);
	if (hf_sm_digest(copy) != hf_sm_digest(s->sm))
		sim_failf(s, "snapshot", "digest after read %016" PRIx64 " != original %016" PRIx64,
			  hf_sm_digest(copy), hf_sm_digest(s->sm));
	sim_check(s, copy, "snapshot copy");
	sim_views(s, copy, false);

	if (!s->snapshot_negatives_done && s->seed % 8 == 1) {
		s->snapshot_negatives_done = true;
		struct hf_sm *t = sim_sm_new(s, &s->cfg);
		if (hf_sm_snapshot_read(t, buf, n - 1, err, sizeof err) == 0)
			sim_failf(s, "snapshot", "a snapshot cut short by one byte was accepted");
		hf_sm_free(t);
		struct hf_sm_config other = s->cfg;
		other.max_orders += 1;
		t = sim_sm_new(s, &other);
		if (hf_sm_snapshot_read(t, buf, n, err, sizeof err) == 0)
			sim_failf(s, "snapshot", "a snapshot was accepted by an sm with another max_orders");
		hf_sm_free(t);
	}
	free(buf);
	if (s->shadow)
		hf_sm_free(s->shadow);
	s->shadow = copy;
	s->shadow_left = 100 + sim_rnd(s, 300);
	s->tot->snapshots++;
}

static void sim_shadow_end(struct sim *s)
{
	if (hf_sm_digest(s->shadow) != hf_sm_digest(s->sm))
		sim_failf(s, "snapshot shadow", "digest of the copy %016" PRIx64 " != original %016" PRIx64
			  " after the same commands", hf_sm_digest(s->shadow), hf_sm_digest(s->sm));
	sim_check(s, s->shadow, "snapshot shadow");
	hf_sm_free(s->shadow);
	s->shadow = NULL;
}

/* ---- scenarios: situations a reader wants to see happen ---------------- */

static void sim_before_capture(struct sim *s, const struct hf_cmd *cmd)
{
	const struct model *m = s->m;
	struct sim_before *b = &s->before;
	b->now_ms = m->now_ms;
	b->order_status = -1;
	b->expires_now = false;
	b->hold_empty = false;
	if (cmd->type == HF_CMD_ORDER_STATUS || cmd->type == HF_CMD_ORDER_CANCEL) {
		uint64_t id = cmd->u.order_op.order;
		if (id >= 1 && id <= m->n_orders)
			b->order_status = m->orders[id - 1].b.state;
	}
	b->hold_expired = false;
	if (cmd->type == HF_CMD_HOLD_CONFIRM) {
		const struct model_hold *h = model_hold_get(m, cmd->u.hold_op.hold);
		b->hold_empty = h && h->b.n_seats == 0 && h->b.n_items == 0;
		b->hold_expired = h && (h->b.state == HF_HOLD_EXPIRED_STATE ||
					(h->b.state == HF_HOLD_ACTIVE && h->b.expires_at_ms <= s->now));
	}
	for (uint32_t i = 0; i < m->n_holds; i++)
		if (m->holds[i].b.state == HF_HOLD_ACTIVE && m->holds[i].b.expires_at_ms == s->now)
			b->expires_now = true;
}

static bool sim_is_take(uint8_t t)
{
	return t == HF_CMD_HOLD_CREATE || t == HF_CMD_HOLD_ADD || t == HF_CMD_ORDER_CREATE;
}

static bool sc_holds_per_customer(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	if (c->type != HF_CMD_HOLD_CREATE || r->result != HF_LIMIT_EXCEEDED)
		return false;
	int64_t k = model_customer_find(s->m, c->customer);
	uint32_t n = 0;
	for (uint32_t i = 0; k >= 0 && i < s->m->n_holds; i++)
		n += s->m->holds[i].b.state == HF_HOLD_ACTIVE && s->m->holds[i].b.customer == (uint32_t)k;
	return n >= HF_CUSTOMER_HOLDS_MAX;
}
static bool sc_max_per_customer(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return sim_is_take(c->type) && r->result == HF_LIMIT_EXCEEDED && !sc_holds_per_customer(s, c, r);
}
static bool sc_hold_slots_full(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_HOLD_CREATE && r->result == HF_CAPACITY_FULL &&
	       model_active_holds(s->m) == s->cfg.max_holds;
}
static bool sc_orders_full(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return (c->type == HF_CMD_HOLD_CONFIRM || c->type == HF_CMD_ORDER_CREATE) && r->result == HF_CAPACITY_FULL;
}
static bool sc_events_full(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_EVENT_CREATE && r->result == HF_CAPACITY_FULL && s->m->n_events == s->cfg.max_events;
}
static bool sc_seats_full(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_EVENT_CREATE && r->result == HF_CAPACITY_FULL && s->m->n_events < s->cfg.max_events;
}
static bool sc_items_full(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->type == HF_CMD_ITEM_CREATE && r->result == HF_CAPACITY_FULL;
}
static bool sc_partial_fill(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	if (!sim_is_take(c->type) || r->result != HF_OK || r->replayed)
		return false;
	for (uint32_t i = 0; i < r->booking.n_items; i++)
		if (r->booking.items[i].quantity < r->booking.items[i].requested)
			return true;
	return false;
}
static bool sc_merged_lines(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	if (!sim_is_take(c->type) && c->type != HF_CMD_HOLD_REMOVE)
		return false;
	if (r->result != HF_OK || r->replayed)
		return false;
	for (uint32_t i = 0; i < c->u.lines.n_items; i++)
		for (uint32_t j = i + 1; j < c->u.lines.n_items; j++)
			if (hf_str_eq(c->u.lines.items[i].item, c->u.lines.items[j].item))
				return true;
	return false;
}
static bool sc_add_hold_too_big(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->type == HF_CMD_HOLD_ADD && r->result == HF_TOO_MANY_LINES &&
	       c->u.lines.n_seats <= HF_HOLD_SEATS_MAX && c->u.lines.n_items <= HF_HOLD_ITEMS_MAX;
}
static bool sc_removed_to_empty(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->type == HF_CMD_HOLD_REMOVE && r->result == HF_OK && !r->replayed &&
	       r->booking.n_seats == 0 && r->booking.n_items == 0;
}
static bool sc_confirm_empty(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_HOLD_CONFIRM && r->result == HF_BAD_REQUEST && s->before.hold_empty;
}
static bool sc_extend_capped(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_HOLD_EXTEND && r->result == HF_OK && !r->replayed &&
	       r->booking.expires_at_ms ==
		       r->booking.created_at_ms + (int64_t)s->cfg.hold_lifetime_max_s * 1000;
}
static bool sc_bad_seats_capped(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->n_bad_seats == HF_HOLD_SEATS_MAX;
}
static bool sc_replayed_ok(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->replayed && r->result == HF_OK;
}
static bool sc_replayed_refusal(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->replayed && r->result != HF_OK;
}
static bool sc_status_skip(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_ORDER_STATUS && r->result == HF_OK && !r->replayed &&
	       c->u.order_op.status != HF_ORDER_CANCELED && s->before.order_status >= 0 &&
	       c->u.order_op.status >= s->before.order_status + 2;
}
static bool sc_status_cancel(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->type == HF_CMD_ORDER_STATUS && r->result == HF_OK && !r->replayed &&
	       c->u.order_op.status == HF_ORDER_CANCELED;
}
static bool sc_status_conditional(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->type == HF_CMD_ORDER_STATUS && r->result == HF_OK && !r->replayed &&
	       c->u.order_op.expect != HF_ORDER_STATUS_ANY;
}
static bool sc_recycled_unknown(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	uint64_t id = c->type >= HF_CMD_HOLD_EXTEND && c->type <= HF_CMD_HOLD_CONFIRM ? c->u.hold_op.hold
		    : (c->type == HF_CMD_HOLD_ADD || c->type == HF_CMD_HOLD_REMOVE) ? c->u.lines.hold : 0;
	return r->result == HF_UNKNOWN_HOLD && id > 0 && id < s->m->next_hold_id;
}
static bool sc_clock_backwards(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)c;
	(void)r;
	return s->now < s->before.now_ms;
}
static bool sc_expiry_exact(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)c;
	(void)r;
	return s->before.expires_now;
}
static bool sc_customers_full(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return (c->type == HF_CMD_HOLD_CREATE || c->type == HF_CMD_ORDER_CREATE) && r->result == HF_CAPACITY_FULL &&
	       s->m->n_customers == s->cfg.max_customers && model_customer_find(s->m, c->customer) < 0;
}
static bool sc_retry_after_forgotten(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)c;
	return s->is_retry && !r->replayed && r->result != HF_IDEMPOTENCY_KEY_REUSED;
}
static bool sc_huge_total(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return (r->kind == HF_REPLY_HOLD || r->kind == HF_REPLY_ORDER) && r->booking.total >= 1000000LL * HF_PRICE_MAX;
}
static bool sc_admin_for_customer(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->admin && c->customer.len == 0 && r->result == HF_OK && !r->replayed &&
	       (r->kind == HF_REPLY_HOLD || r->kind == HF_REPLY_ORDER);
}

static bool sc_big_hold(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return (c->type == HF_CMD_HOLD_CREATE || c->type == HF_CMD_HOLD_ADD) && r->result == HF_OK &&
	       !r->replayed && (r->booking.n_seats >= 30 || r->booking.n_items >= 10);
}

static bool sc_best_together(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->result == HF_OK && r->best && r->together && !r->replayed &&
	       c->u.lines.best.count >= 2;
}
static bool sc_best_apart(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->result == HF_OK && r->best && !r->together && !r->replayed;
}
static bool sc_best_filtered(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return r->result == HF_OK && r->best && !r->replayed &&
	       (c->u.lines.best.section.len || c->u.lines.best.category.len);
}
static bool sc_best_short(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return sim_is_take(c->type) && c->u.lines.best.count && r->result == HF_SEATS_UNAVAILABLE &&
	       r->n_bad_seats == 0;
}
static bool sc_orphan(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->result == HF_ORPHAN_SEAT;
}
static bool sc_orphan_best(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return r->result == HF_ORPHAN_SEAT && sim_is_take(c->type) && c->u.lines.best.count;
}
static bool sc_late_ok(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	return c->type == HF_CMD_HOLD_CONFIRM && c->u.hold_op.accept_late && r->result == HF_OK &&
	       !r->replayed && s->before.hold_expired;
}
static bool sc_late_refused(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	return c->type == HF_CMD_HOLD_CONFIRM && c->u.hold_op.accept_late &&
	       r->result == HF_HOLD_EXPIRED && (r->n_bad_seats || r->item_short);
}
static bool sc_limit_details(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	(void)s;
	(void)c;
	return r->result == HF_LIMIT_EXCEEDED && r->limit == HF_LIMIT_SEATS_PER_CUSTOMER &&
	       r->limit_current > 0;
}

/* The scenarios: name, recogniser (run after the replies agreed). */
static const struct sim_scenario {
	const char *name;
	bool (*seen)(const struct sim *s, const struct hf_cmd *c, const struct hf_reply *r);
} sim_scenarios[] = {
	{"hold refused: customer has HF_CUSTOMER_HOLDS_MAX active holds", sc_holds_per_customer},
	{"take refused: max_per_customer", sc_max_per_customer},
	{"hold refused: every hold slot active", sc_hold_slots_full},
	{"order refused: orders full", sc_orders_full},
	{"hold/order refused: customers full", sc_customers_full},
	{"event refused: events full", sc_events_full},
	{"event refused: seats full", sc_seats_full},
	{"item refused: items full", sc_items_full},
	{"partial item line filled short", sc_partial_fill},
	{"item lines merged", sc_merged_lines},
	{"a big hold made or grown (>= 30 seats or >= 10 items)", sc_big_hold},
	{"add refused: the hold would pass its line bounds", sc_add_hold_too_big},
	{"hold emptied by remove", sc_removed_to_empty},
	{"confirm of an empty hold refused", sc_confirm_empty},
	{"extend capped by hold_lifetime_max_s", sc_extend_capped},
	{"refusal details capped at HF_HOLD_SEATS_MAX", sc_bad_seats_capped},
	{"idempotent retry replayed a success", sc_replayed_ok},
	{"idempotent retry replayed a refusal", sc_replayed_refusal},
	{"order status skipped a step", sc_status_skip},
	{"order canceled through status", sc_status_cancel},
	{"conditional status change applied", sc_status_conditional},
	{"hold id unknown after its slot was recycled", sc_recycled_unknown},
	{"clock sent backwards", sc_clock_backwards},
	{"a hold expired exactly at the command's now", sc_expiry_exact},
	{"admin acted on a customer's hold/order without naming one", sc_admin_for_customer},
	{"retry after its key was forgotten: applied again", sc_retry_after_forgotten},
	{"a booking total >= 10^6 * HF_PRICE_MAX", sc_huge_total},
	{"best available: side by side (2 or more)", sc_best_together},
	{"best available: not side by side", sc_best_apart},
	{"best available: with a section or category", sc_best_filtered},
	{"best available refused: fewer matching seats free", sc_best_short},
	{"refused: would strand a single seat", sc_orphan},
	{"best available refused: every choice strands a seat", sc_orphan_best},
	{"late payment: an expired hold confirmed", sc_late_ok},
	{"late payment refused: seats or stock taken since", sc_late_refused},
	{"limit_exceeded names seats the customer already has", sc_limit_details},
};
#define SIM_SCENARIOS (sizeof sim_scenarios / sizeof sim_scenarios[0])

static void sim_scenarios_count(struct sim *s, const struct hf_cmd *c, const struct hf_reply *r)
{
	for (uint32_t i = 0; i < SIM_SCENARIOS; i++)
		s->tot->scenarios[i] += sim_scenarios[i].seen(s, c, r);
}

/* Keeps a keyed command for later retries. */
static void sim_ring_add(struct sim_gen *g, const struct hf_cmd *cmd, const uint8_t *bytes, size_t len)
{
	if (cmd->idem_key.len == 0 || cmd->idem_key.len > HF_ID_LEN_MAX || cmd->customer.len > HF_ID_LEN_MAX)
		return;
	struct sim_keyed *k = &g->ring[g->ring_next];
	g->ring_next = (g->ring_next + 1) % SIM_RING;
	if (g->n_ring < SIM_RING)
		g->n_ring++;
	free(k->bytes);
	k->bytes = malloc(len);
	HF_ASSERT(k->bytes != NULL);
	memcpy(k->bytes, bytes, len);
	k->len = len;
	if (cmd->customer.len)
		memcpy(k->customer, cmd->customer.ptr, cmd->customer.len);
	k->customer_len = cmd->customer.len;
	memcpy(k->key, cmd->idem_key.ptr, cmd->idem_key.len);
	k->key_len = cmd->idem_key.len;
	k->fingerprint = cmd->idem_fingerprint;
}

/* Applies one command (to the core through the codec, to the model as is)
 * and compares everything. */
static bool sim_id_ok(struct hf_str s)
{
	if (s.len < 1 || s.len > HF_ID_LEN_MAX)
		return false;
	for (uint32_t i = 0; i < s.len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-", s.ptr[i]) ||
		    s.ptr[i] == '\0')
			return false;
	return true;
}

/* A command the codec cannot carry (a string or count past its bound; the
 * server refuses those before logging) goes to the core as it is. It must
 * be a refusal that changes nothing but the clock, so the stream records a
 * TICK at its now; a valid idempotency key is dropped first (the refusal
 * would be stored under it, which a TICK cannot replay). */
static void sim_step_direct(struct sim *s, const struct hf_cmd *orig)
{
	struct hf_cmd cmd = *orig;
	if (sim_id_ok(cmd.idem_key))
		cmd.idem_key = (struct hf_str){0};
	s->cmd = &cmd;
	static struct hf_reply rc, rm, rs;
	char why[512];
	sim_before_capture(s, &cmd);
	hf_sm_apply(s->sm, s->now, &cmd, &rc);
	model_apply(s->m, s->now, &cmd, &rm);
	if (s->trace)
		fprintf(stderr, "seed %" PRIu64 " step %u now %" PRId64 " %s (not encodable) -> %s\n", s->seed,
			s->step, s->now, sim_type_name(cmd.type), sim_result_name(rc.result));
	if (sim_reply_diff(&rc, &rm, why, sizeof why))
		sim_fail(s, "reply mismatch (command not encodable, applied directly)", why, &rc, &rm);
	if (rc.result == HF_OK)
		sim_fail(s, "codec", "a command the codec cannot carry was accepted by the core", &rc, &rm);
	sim_check(s, s->sm, "after apply");
	if (s->shadow) {
		hf_sm_apply(s->shadow, s->now, &cmd, &rs);
		if (sim_reply_diff(&rs, &rc, why, sizeof why))
			sim_fail(s, "snapshot copy answered differently (core = copy, model = original sm)", why, &rs,
				 &rc);
	}
	struct hf_cmd tick;
	memset(&tick, 0, sizeof tick);
	tick.type = HF_CMD_TICK;
	uint8_t buf[64];
	int64_t n = hf_cmd_encode(&tick, buf, sizeof buf);
	HF_ASSERT(n > 0);
	sim_stream_add(s, s->now, buf, (size_t)n);
	s->cmd = orig; /* cmd dies with this frame */
	struct sim_totals *t = s->tot;
	t->commands++;
	t->direct++;
	if (cmd.type < HF_CMD_TYPE_COUNT && rc.result < HF_RESULT_COUNT)
		t->counts[cmd.type][rc.result]++;
	sim_scenarios_count(s, &cmd, &rc);
}

static void sim_step(struct sim *s, const struct hf_cmd *cmd, bool is_retry)
{
	s->cmd = cmd;
	s->is_retry = is_retry;
	size_t size = hf_cmd_encoded_size(cmd);
	if (size == 0) {
		sim_step_direct(s, cmd);
		return;
	}
	uint8_t *enc = sim_scratch((void **)&s->enc, &s->enc_cap, size + 16);
	int64_t n = hf_cmd_encode(cmd, enc, size + 16);
	if (n < 0 || (size_t)n != size)
		sim_failf(s, "codec", "hf_cmd_encode returned %" PRId64 ", hf_cmd_encoded_size %zu", n, size);
	if (size > 0 && hf_cmd_encode(cmd, enc, size - 1) >= 0)
		sim_failf(s, "codec", "hf_cmd_encode into %zu bytes of %zu did not fail", size - 1, size);
	n = hf_cmd_encode(cmd, enc, size);
	void *scratch = sim_scratch(&s->scratch, &s->scratch_cap, hf_cmd_scratch_for(size) + 1);
	struct hf_cmd dec;
	memset(&dec, 0, sizeof dec);
	int64_t used = hf_cmd_decode(enc, size, &dec, scratch, s->scratch_cap);
	if (used != (int64_t)size)
		sim_failf(s, "codec", "hf_cmd_decode consumed %" PRId64 " of %zu bytes", used, size);
	const char *diff = sim_cmd_diff(cmd, &dec);
	if (diff)
		sim_failf(s, "codec", "decoded command differs in %s", diff);
	if (size > 1 && hf_cmd_decode(enc, size - 1, &dec, scratch, s->scratch_cap) >= 0)
		sim_failf(s, "codec", "hf_cmd_decode of %zu of %zu bytes did not fail", size - 1, size);
	hf_cmd_decode(enc, size, &dec, scratch, s->scratch_cap);
	sim_stream_add(s, s->now, enc, size);

	static struct hf_reply rc, rm, rs, back;
	char why[512];
	sim_before_capture(s, cmd);
	hf_sm_apply(s->sm, s->now, &dec, &rc);
	model_apply(s->m, s->now, cmd, &rm);
	if (s->trace)
		fprintf(stderr, "seed %" PRIu64 " step %u now %" PRId64 " %s%s -> %s\n", s->seed, s->step, s->now,
			sim_type_name(cmd->type), is_retry ? " (retry)" : "", sim_result_name(rc.result));
	if (sim_reply_diff(&rc, &rm, why, sizeof why))
		sim_fail(s, "reply mismatch", why, &rc, &rm);
	sim_check(s, s->sm, "after apply");

	uint8_t rbuf[HF_REPLY_BYTES_MAX];
	int64_t rn = hf_reply_encode(&rc, rbuf, sizeof rbuf);
	if (rn <= 0)
		sim_fail(s, "reply codec", "hf_reply_encode failed", &rc, NULL);
	memset(&back, 0, sizeof back);
	if (hf_reply_decode(rbuf, (size_t)rn, &back) != rn)
		sim_fail(s, "reply codec", "hf_reply_decode did not consume the encoding", &rc, NULL);
	if (sim_reply_diff(&back, &rc, why, sizeof why))
		sim_fail(s, "reply codec (core = decoded, model = original)", why, &back, &rc);

	if (s->shadow) {
		hf_sm_apply(s->shadow, s->now, &dec, &rs);
		s->tot->shadow_commands++;
		if (sim_reply_diff(&rs, &rc, why, sizeof why))
			sim_fail(s, "snapshot copy answered differently (core = copy, model = original sm)", why, &rs,
				 &rc);
		if (--s->shadow_left == 0)
			sim_shadow_end(s);
	}

	struct sim_totals *t = s->tot;
	t->commands++;
	if (cmd->type < HF_CMD_TYPE_COUNT && rc.result < HF_RESULT_COUNT) {
		t->counts[cmd->type][rc.result]++;
		t->replayed[cmd->type] += rc.replayed;
	}
	t->retries += is_retry;
	sim_scenarios_count(s, cmd, &rc);
	if (!is_retry)
		sim_ring_add(&s->g, cmd, enc, size);
}

/* A command of no known type, straight to hf_sm_apply (the codec refuses
 * to carry it): BAD_REQUEST, nothing changes (the clock stays). */
static void sim_raw_bad_type(struct sim *s)
{
	struct hf_cmd cmd;
	memset(&cmd, 0, sizeof cmd);
	cmd.type = sim_rnd(s, 2) ? HF_CMD_NONE : (uint8_t)(HF_CMD_TYPE_COUNT + sim_rnd(s, 50));
	cmd.customer = hf_str_c("c0");
	s->cmd = &cmd;
	int64_t now = s->m->now_ms;
	uint64_t before = hf_sm_digest(s->sm);
	static struct hf_reply rc, rm;
	char why[512];
	hf_sm_apply(s->sm, now, &cmd, &rc);
	model_apply(s->m, now, &cmd, &rm);
	if (sim_reply_diff(&rc, &rm, why, sizeof why))
		sim_fail(s, "reply mismatch (unknown type, applied directly)", why, &rc, &rm);
	if (hf_sm_digest(s->sm) != before)
		sim_failf(s, "unknown type", "the digest changed");
	s->tot->raw_bad_type++;
	s->cmd = NULL;
}

static void sim_profile(struct sim *s)
{
	struct sim_gen *g = &s->g;
	static const uint32_t holds[] = {12, 24, 48, 48, 64};
	static const uint32_t lifetimes[] = {86400, 3600, 600};
	static const int64_t retentions[] = {20000, 120000, 600000};
	static const int64_t fees[] = {0, 499, 499};
	static const int64_t free_over[] = {0, 3000, 20000};
	g->hoarder = chance(g, 150);
	g->many_items = chance(g, 200);
	g->big_event = chance(g, 500);
	g->far_future = chance(g, 30);
	g->skew = g->hoarder ? 800 : rnd(g, 400);
	g->n_pool = 3 + rnd(g, 6);
	for (uint32_t i = 0; i < g->n_pool; i++)
		snprintf(g->pool[i], sizeof g->pool[i], "c%u", i);

	struct hf_sm_config *cfg = &s->cfg;
	hf_sm_config_default(cfg);
	cfg->max_events = 16;
	cfg->max_seats = chance(g, 250) ? 240 : 1536;
	cfg->max_items = g->many_items ? 64 : chance(g, 200) ? 6 : 32;
	cfg->max_customers = chance(g, 100) ? 3 + rnd(g, 4) : 1024;
	cfg->max_holds = g->hoarder ? 36 + rnd(g, 29) : SIM_PICK(g, holds);
	cfg->max_orders = chance(g, 200) ? 16 + rnd(g, 80) : 1u << 13;
	/* Never full in a run of the default length (the model cannot mirror
	 * them); small, because every seed inits several sms (memory is
	 * allocated and touched at init). Fixed, so that a seed's run does not
	 * depend on --commands. */
	cfg->max_lines = 1u << 15;       /* peak seen ~900 */
	cfg->string_bytes = 512u << 10;  /* peak seen ~6 KB; maximal items ~4 KB each */
	cfg->idem_entries = 1u << 11;    /* peak seen ~170 */
	cfg->idem_bytes = 1u << 20;
	cfg->idem_retention_ms = SIM_PICK(g, retentions);
	cfg->shipping_fee = SIM_PICK(g, fees);
	cfg->free_shipping_over = SIM_PICK(g, free_over);
	cfg->hold_lifetime_max_s = SIM_PICK(g, lifetimes);
}

static void sim_run(uint64_t seed, uint32_t commands, bool trace, struct sim_totals *tot)
{
	static struct sim s; /* large; one at a time */
	memset(&s, 0, sizeof s);
	s.seed = seed;
	s.trace = trace;
	sim_current = &s;
	s.tot = tot;
	s.g.rng = seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	sim_rng_next(&s.g.rng);
	s.check_rng = seed ^ 0x5eed5eed5eed5eedULL;
	sim_profile(&s);
	s.g.cfg = &s.cfg;
	s.g.arena.cap = SIM_ARENA_BYTES;
	s.g.arena.buf = malloc(s.g.arena.cap);
	HF_ASSERT(s.g.arena.buf != NULL);
	s.g.now = 1700000000000LL + (int64_t)rnd(&s.g, 1000000) * 1000;
	if (s.g.far_future) /* the clock runs past HF_TIME_MS_MAX during the run */
		s.g.now = HF_TIME_MS_MAX - 1200000;
	s.sm = sim_sm_new(&s, &s.cfg);
	s.m = model_new(&s.cfg);
	s.g.m = s.m;
	uint32_t next_snapshot = 200 + sim_rnd(&s, 1500);

	for (s.step = 0; s.step < commands; s.step++) {
		s.g.arena.used = 0;
		s.now = gen_now(&s.g);
		struct hf_cmd cmd;
		bool retry = s.g.setup_step > 0 && s.g.n_ring > 0 && chance(&s.g, 35);
		if (retry) {
			const struct sim_keyed *k = &s.g.ring[rnd(&s.g, s.g.n_ring)];
			void *scr = sim_scratch(&s.g.retry_scratch, &s.g.retry_scratch_cap,
						hf_cmd_scratch_for(k->len) + 1);
			memset(&cmd, 0, sizeof cmd);
			if (hf_cmd_decode(k->bytes, k->len, &cmd, scr, s.g.retry_scratch_cap) != (int64_t)k->len)
				sim_failf(&s, "codec", "a kept command no longer decodes");
		} else {
			gen_command(&s.g, &cmd);
		}
		sim_step(&s, &cmd, retry);
		if (sim_rnd(&s, 1000) < 2)
			sim_raw_bad_type(&s);
		if (s.step % SIM_VIEW_EVERY == SIM_VIEW_EVERY - 1)
			sim_views(&s, s.sm, true);
		if (s.step == next_snapshot) {
			sim_snapshot(&s);
			next_snapshot += 500 + sim_rnd(&s, 2000);
		}
	}
	s.cmd = NULL;
	sim_views(&s, s.sm, true);
	if (s.shadow)
		sim_shadow_end(&s);

	/* Determinism: the stream again, into a fresh sm. */
	struct hf_sm *again = sim_sm_new(&s, &s.cfg);
	static struct hf_reply r;
	for (size_t off = 0; off < s.stream_len;) {
		int64_t now;
		uint32_t len;
		memcpy(&now, s.stream + off, 8);
		memcpy(&len, s.stream + off + 8, 4);
		const uint8_t *bytes = s.stream + off + 12;
		void *scr = sim_scratch(&s.scratch, &s.scratch_cap, hf_cmd_scratch_for(len) + 1);
		struct hf_cmd cmd;
		if (hf_cmd_decode(bytes, len, &cmd, scr, s.scratch_cap) != (int64_t)len)
			sim_failf(&s, "replay", "a recorded command no longer decodes");
		hf_sm_apply(again, now, &cmd, &r);
		off += 12 + len;
		tot->replay_commands++;
	}
	if (hf_sm_digest(again) != hf_sm_digest(s.sm))
		sim_failf(&s, "determinism", "replayed stream: digest %016" PRIx64 " != %016" PRIx64,
			  hf_sm_digest(again), hf_sm_digest(s.sm));
	sim_check(&s, again, "replayed");
	hf_sm_free(again);

	tot->hoarder += s.g.hoarder;
	tot->many_items += s.g.many_items;
	tot->big_event += s.g.big_event;
	tot->far_future += s.g.far_future;
	tot->small_orders += s.cfg.max_orders < 1000;
	tot->small_customers += s.cfg.max_customers < 100;
	tot->small_seats += s.cfg.max_seats < 1000;
	tot->expired += s.m->expired_total;
	tot->recycled += s.m->recycled_total;
	tot->seeds++;
	hf_sm_free(s.sm);
	model_free(s.m);
	for (uint32_t i = 0; i < SIM_RING; i++)
		free(s.g.ring[i].bytes);
	free(s.g.retry_scratch);
	free(s.g.arena.buf);
	free(s.stream);
	free(s.enc);
	free(s.scratch);
}

/* ---- main -------------------------------------------------------------- */

static void sim_report(const struct sim_totals *t, uint64_t first, double secs)
{
	printf("sim: seeds %" PRIu64 "..%" PRIu64 ": %" PRIu64 " commands in %.1f s (%.0f commands/s),"
	       " %" PRIu64 " retried, %" PRIu64 " not encodable, %" PRIu64 " of unknown type\n",
	       first, first + t->seeds - 1, t->commands, secs, secs > 0 ? (double)t->commands / secs : 0.0,
	       t->retries, t->direct, t->raw_bad_type);
	printf("sim: %" PRIu64 " view comparisons, %" PRIu64 " snapshots (%" PRIu64 " commands on copies),"
	       " %" PRIu64 " commands replayed, %" PRIu64 " holds expired, %" PRIu64 " hold slots recycled\n",
	       t->views, t->snapshots, t->shadow_commands, t->replay_commands, t->expired, t->recycled);
	uint64_t by_result[HF_RESULT_COUNT] = {0};
	for (unsigned ty = 1; ty < HF_CMD_TYPE_COUNT; ty++) {
		uint64_t sum = 0;
		for (unsigned r = 0; r < HF_RESULT_COUNT; r++) {
			sum += t->counts[ty][r];
			by_result[r] += t->counts[ty][r];
		}
		printf("  %-14s %8" PRIu64 " (replayed %" PRIu64 "):", sim_type_name(ty), sum, t->replayed[ty]);
		for (unsigned r = 0; r < HF_RESULT_COUNT; r++)
			if (t->counts[ty][r])
				printf(" %s %" PRIu64, sim_result_name(r), t->counts[ty][r]);
		printf("\n");
	}
	printf("  by result:");
	for (unsigned r = 0; r < HF_RESULT_COUNT; r++)
		printf(" %s %" PRIu64, sim_result_name(r), by_result[r]);
	printf("\n");
	printf("  seeds by profile: hoarder %" PRIu64 ", many items %" PRIu64 ", big event %" PRIu64
	       ", clock past HF_TIME_MS_MAX %" PRIu64 ", few orders %" PRIu64 ", few customers %" PRIu64
	       ", few seats %" PRIu64 "\n",
	       t->hoarder, t->many_items, t->big_event, t->far_future, t->small_orders, t->small_customers,
	       t->small_seats);
	printf("  peak use of what the model cannot mirror: lines %u, string bytes %u, idempotency entries %u\n",
	       t->peak_lines, t->peak_string_bytes, t->peak_idem_entries);
	printf("  scenarios:\n");
	for (uint32_t i = 0; i < SIM_SCENARIOS; i++)
		printf("    %-62s %8" PRIu64 "\n", sim_scenarios[i].name, t->scenarios[i]);
	bool all = true;
	for (unsigned r = 0; r < HF_RESULT_COUNT; r++)
		if (by_result[r] == 0) {
			if (all)
				printf("  never seen:");
			printf(" %s", sim_result_name(r));
			all = false;
		}
	if (!all)
		printf("\n");
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, seeds = 1;
	uint32_t commands = 5000;
	bool trace = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--commands") && i + 1 < argc)
			commands = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--trace"))
			trace = true;
		else {
			fprintf(stderr, "usage: sim [--seed N] [--seeds K] [--commands M] [--trace]\n");
			return 2;
		}
	}
	sim_crash_hooks();
	static struct sim_totals tot;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t k = 0; k < seeds; k++)
		sim_run(seed + k, commands, trace, &tot);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	sim_report(&tot, seed, secs);
	printf("sim: all %" PRIu64 " seeds passed\n", tot.seeds);
	return 0;
}
