/*
 * model.c: the reference model (see model.h for what it owns and its
 * invariants). Each command is one function below, listed in the command
 * table at the bottom; each function runs the checks of sm.h's SEMANTICS in
 * the order written there, so a reader can hold the two side by side.
 *
 * Representation: explicit seat states and item counters (updated on every
 * transition), holds and orders as struct hf_booking, everything found by
 * linear scan. The clock, expiry and idempotency steps (a.-e. of SEMANTICS)
 * are model_apply itself.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/limits.h"

/* ---- small helpers ----------------------------------------------------- */

static void *model_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	HF_ASSERT(p != NULL);
	return p;
}

static void *model_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	uint32_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	p = realloc(p, (size_t)c * elem);
	HF_ASSERT(p != NULL);
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
	*cap = c;
	return p;
}

static struct hf_str model_str_copy(struct hf_str s)
{
	char *p = model_alloc((size_t)s.len + 1);
	if (s.len)
		memcpy(p, s.ptr, s.len);
	return (struct hf_str){p, s.len};
}

static bool model_str_eq(struct hf_str a, struct hf_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* [A-Za-z0-9._:-]{1,64} */
static bool model_id_ok(struct hf_str s)
{
	if (s.len < 1 || s.len > HF_ID_LEN_MAX)
		return false;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

static bool model_text_ok(struct hf_str s, uint32_t min, uint32_t max)
{
	return s.len >= min && s.len <= max;
}

static bool model_price_ok(int64_t p)
{
	return p >= 0 && p <= HF_PRICE_MAX;
}

static bool model_time_ok(int64_t t)
{
	return t >= 0 && t <= HF_TIME_MS_MAX;
}

static bool model_qty_ok(uint32_t q)
{
	return q >= 1 && q <= HF_QUANTITY_MAX;
}

/* "Customer required": a valid id, or empty with admin on an existing
 * hold or order. */
static bool model_customer_ok(const struct hf_cmd *cmd, bool on_existing)
{
	if (cmd->admin && on_existing && cmd->customer.len == 0)
		return true;
	return model_id_ok(cmd->customer);
}

static void model_bad_seat(struct hf_reply *reply, uint32_t v)
{
	if (reply->n_bad_seats < HF_HOLD_SEATS_MAX)
		reply->bad_seats[reply->n_bad_seats++] = v;
}

/* ---- finding things ---------------------------------------------------- */

int64_t model_event_find(const struct model *m, struct hf_str id)
{
	for (uint32_t i = 0; i < m->n_events; i++)
		if (model_str_eq(m->events[i].id, id))
			return i;
	return -1;
}

int64_t model_seat_find(const struct model *m, uint32_t event, struct hf_str id)
{
	HF_ASSERT(event < m->n_events);
	const struct model_event *e = &m->events[event];
	for (uint32_t i = e->first_seat; i < e->first_seat + e->n_seats; i++)
		if (model_str_eq(m->seats[i].id, id))
			return i;
	return -1;
}

int64_t model_item_find(const struct model *m, struct hf_str id)
{
	for (uint32_t i = 0; i < m->n_items; i++)
		if (model_str_eq(m->items[i].id, id))
			return i;
	return -1;
}

int64_t model_customer_find(const struct model *m, struct hf_str id)
{
	for (uint32_t i = 0; i < m->n_customers; i++)
		if (model_str_eq(m->customers[i], id))
			return i;
	return -1;
}

static struct model_hold *model_hold_find(struct model *m, uint64_t id)
{
	for (uint32_t i = 0; i < m->n_holds; i++)
		if (m->holds[i].b.id == id)
			return &m->holds[i];
	return NULL;
}

const struct model_hold *model_hold_get(const struct model *m, uint64_t id)
{
	return model_hold_find((struct model *)m, id);
}

static struct model_order *model_order_find(struct model *m, uint64_t id)
{
	for (uint32_t i = 0; i < m->n_orders; i++)
		if (m->orders[i].b.id == id)
			return &m->orders[i];
	return NULL;
}

static bool model_booking_has_seat(const struct hf_booking *b, uint32_t seat)
{
	for (uint32_t i = 0; i < b->n_seats; i++)
		if (b->seats[i].seat == seat)
			return true;
	return false;
}

static int64_t model_booking_item_line(const struct hf_booking *b, uint32_t item)
{
	for (uint32_t i = 0; i < b->n_items; i++)
		if (b->items[i].item == item)
			return i;
	return -1;
}

uint32_t model_active_holds(const struct model *m)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_holds; i++)
		n += m->holds[i].b.state == HF_HOLD_ACTIVE;
	return n;
}

static uint32_t model_customer_active_holds(const struct model *m, uint32_t customer)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_holds; i++)
		n += m->holds[i].b.state == HF_HOLD_ACTIVE && m->holds[i].b.customer == customer;
	return n;
}

/* The customer's HELD + SOLD seats of one event: seats in its active holds
 * and in its orders that are not canceled. */
static uint32_t model_customer_event_seats(const struct model *m, uint32_t customer, uint32_t event)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_holds; i++) {
		const struct hf_booking *b = &m->holds[i].b;
		if (b->state != HF_HOLD_ACTIVE || b->customer != customer)
			continue;
		for (uint32_t k = 0; k < b->n_seats; k++)
			n += m->seats[b->seats[k].seat].event == event;
	}
	for (uint32_t i = 0; i < m->n_orders; i++) {
		const struct hf_booking *b = &m->orders[i].b;
		if (b->state == HF_ORDER_CANCELED || b->customer != customer)
			continue;
		for (uint32_t k = 0; k < b->n_seats; k++)
			n += m->seats[b->seats[k].seat].event == event;
	}
	return n;
}

/* ---- totals ------------------------------------------------------------ */

/* What a view shows beyond the stored lines: each item line's available
 * stock at this moment (in a reply: right after the command), and the
 * totals. Every reply and every view goes through here. */
static void model_totals(const struct model *m, struct hf_booking *b)
{
	for (uint32_t i = 0; i < b->n_items; i++)
		b->items[i].available = m->items[b->items[i].item].available;
	int64_t total = 0;
	for (uint32_t i = 0; i < b->n_seats; i++)
		total += b->seats[i].price;
	for (uint32_t i = 0; i < b->n_items; i++)
		total += (int64_t)b->items[i].quantity * b->items[i].price;
	bool free_ship = m->cfg.free_shipping_over > 0 && total >= m->cfg.free_shipping_over;
	b->total = total;
	b->fees = (b->n_items > 0 && !free_ship) ? m->cfg.shipping_fee : 0;
	b->total_with_fees = total + b->fees;
}

static void model_reply_booking(const struct model *m, struct hf_reply *reply, uint8_t kind,
				const struct hf_booking *b)
{
	reply->result = HF_OK;
	reply->kind = kind;
	reply->booking = *b;
	model_totals(m, &reply->booking);
}

/* ---- hold endings ------------------------------------------------------ */

/* The hold leaves ACTIVE for `state`. Seats and items go back (RELEASED,
 * EXPIRED) or on to sold (CONFIRMED, done by the caller). */
static void model_hold_end(struct model *m, struct model_hold *h, uint8_t state)
{
	HF_ASSERT(h->b.state == HF_HOLD_ACTIVE);
	if (state != HF_HOLD_CONFIRMED) {
		for (uint32_t i = 0; i < h->b.n_seats; i++) {
			struct model_seat *s = &m->seats[h->b.seats[i].seat];
			HF_ASSERT(s->state == HF_SEAT_HELD);
			s->state = HF_SEAT_FREE;
		}
		for (uint32_t i = 0; i < h->b.n_items; i++) {
			struct model_item *it = &m->items[h->b.items[i].item];
			HF_ASSERT(it->held >= h->b.items[i].quantity);
			it->held -= h->b.items[i].quantity;
			it->available += h->b.items[i].quantity;
		}
	}
	h->b.state = state;
	h->ended_seq = ++m->ended_seq;
}

/* Step b: every active hold with expires_at <= now ends, in order of
 * (expires_at, id). */
static void model_expire(struct model *m)
{
	for (;;) {
		struct model_hold *first = NULL;
		for (uint32_t i = 0; i < m->n_holds; i++) {
			struct model_hold *h = &m->holds[i];
			if (h->b.state != HF_HOLD_ACTIVE || h->b.expires_at_ms > m->now_ms)
				continue;
			if (!first || h->b.expires_at_ms < first->b.expires_at_ms ||
			    (h->b.expires_at_ms == first->b.expires_at_ms && h->b.id < first->b.id))
				first = h;
		}
		if (!first)
			return;
		model_hold_end(m, first, HF_HOLD_EXPIRED_STATE);
		m->expired_total++;
	}
}

/* ---- lines ------------------------------------------------------------- */

struct model_line_item {
	uint32_t item;     /* item index */
	uint32_t quantity; /* merged */
	bool partial;      /* every merged line was partial */
	uint32_t take;     /* filled by model_take_check */
};

struct model_lines {
	uint32_t n_seats;
	uint32_t seats[HF_HOLD_SEATS_MAX]; /* seat indices, request order (then the chosen) */
	uint32_t n_items;
	struct model_line_item items[HF_HOLD_ITEMS_MAX]; /* merge order */
	int64_t best_event;                /* best.count > 0: its event, else -1 */
	bool together;                     /* filled by model_take_check */
};

/* Hold checks: UNKNOWN_HOLD; NOT_OWNER; HOLD_EXPIRED; HOLD_NOT_ACTIVE. */
static uint8_t model_hold_checks(struct model *m, const struct hf_cmd *cmd, uint64_t id,
				 struct model_hold **out)
{
	struct model_hold *h = model_hold_find(m, id);
	if (!h)
		return HF_UNKNOWN_HOLD;
	if (!cmd->admin && !model_str_eq(cmd->customer, m->customers[h->b.customer]))
		return HF_NOT_OWNER;
	if (h->b.state == HF_HOLD_EXPIRED_STATE)
		return HF_HOLD_EXPIRED;
	if (h->b.state != HF_HOLD_ACTIVE)
		return HF_HOLD_NOT_ACTIVE;
	*out = h;
	return HF_OK;
}

/* Resolves the lines of HOLD_CREATE, HOLD_ADD, HOLD_REMOVE, ORDER_CREATE
 * (with the hold checks for ADD and REMOVE, *hold set then). */
static uint8_t model_lines_resolve(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply,
				   struct model_hold **hold /* out */, struct model_lines *out /* out */)
{
	const struct hf_lines *l = &cmd->u.lines;
	const struct hf_best *best = &l->best;
	bool on_hold = cmd->type == HF_CMD_HOLD_ADD || cmd->type == HF_CMD_HOLD_REMOVE;

	if (l->n_seats > HF_HOLD_SEATS_MAX || l->n_items > HF_HOLD_ITEMS_MAX ||
	    (uint64_t)l->n_seats + best->count > HF_HOLD_SEATS_MAX)
		return HF_TOO_MANY_LINES;
	if (!model_customer_ok(cmd, on_hold))
		return HF_BAD_REQUEST;
	if (best->count == 0 && (best->event.len || best->section.len || best->category.len))
		return HF_BAD_REQUEST;
	if (best->count > 0 && (on_hold || !model_id_ok(best->event) ||
				!model_text_ok(best->section, 0, HF_NAME_LEN_MAX) ||
				!model_text_ok(best->category, 0, HF_NAME_LEN_MAX)))
		return HF_BAD_REQUEST;
	for (uint32_t i = 0; i < l->n_seats; i++)
		if (!model_id_ok(l->seats[i].event) || !model_id_ok(l->seats[i].seat))
			return HF_BAD_REQUEST;
	for (uint32_t i = 0; i < l->n_items; i++)
		if (!model_id_ok(l->items[i].item) || !model_qty_ok(l->items[i].quantity))
			return HF_BAD_REQUEST;
	if (l->n_seats == 0 && l->n_items == 0 && best->count == 0)
		return HF_BAD_REQUEST;
	for (uint32_t i = 0; i < l->n_seats; i++)
		for (uint32_t j = i + 1; j < l->n_seats; j++)
			if (model_str_eq(l->seats[i].event, l->seats[j].event) &&
			    model_str_eq(l->seats[i].seat, l->seats[j].seat))
				return HF_BAD_REQUEST;
	if (cmd->type == HF_CMD_HOLD_CREATE && l->ttl_s > m->cfg.hold_lifetime_max_s)
		return HF_BAD_REQUEST;

	if (on_hold) {
		uint8_t r = model_hold_checks(m, cmd, l->hold, hold);
		if (r != HF_OK)
			return r;
	}

	for (uint32_t i = 0; i < l->n_seats; i++) {
		if (model_event_find(m, l->seats[i].event) < 0) {
			model_bad_seat(reply, i);
			return HF_UNKNOWN_EVENT;
		}
	}
	out->best_event = -1;
	if (best->count > 0) {
		out->best_event = model_event_find(m, best->event);
		if (out->best_event < 0) {
			model_bad_seat(reply, l->n_seats);
			return HF_UNKNOWN_EVENT;
		}
	}
	out->n_seats = 0;
	for (uint32_t i = 0; i < l->n_seats; i++) {
		uint32_t e = (uint32_t)model_event_find(m, l->seats[i].event);
		int64_t s = model_seat_find(m, e, l->seats[i].seat);
		if (s < 0)
			model_bad_seat(reply, i);
		else
			out->seats[out->n_seats++] = (uint32_t)s;
	}
	if (reply->n_bad_seats > 0)
		return HF_UNKNOWN_SEAT;
	for (uint32_t i = 0; i < l->n_items; i++) {
		if (model_item_find(m, l->items[i].item) < 0) {
			reply->bad_item = i;
			return HF_UNKNOWN_ITEM;
		}
	}

	/* Merge item lines naming one item, in the order of first appearance. */
	out->n_items = 0;
	for (uint32_t i = 0; i < l->n_items; i++) {
		uint32_t item = (uint32_t)model_item_find(m, l->items[i].item);
		uint32_t k = 0;
		while (k < out->n_items && out->items[k].item != item)
			k++;
		if (k == out->n_items) {
			out->items[k] = (struct model_line_item){item, 0, true, 0};
			out->n_items++;
		}
		out->items[k].quantity += l->items[i].quantity;
		out->items[k].partial = out->items[k].partial && l->items[i].partial;
	}
	for (uint32_t k = 0; k < out->n_items; k++)
		if (out->items[k].quantity > HF_QUANTITY_MAX)
			return HF_BAD_REQUEST;
	return HF_OK;
}

/* ---- rows, choosing seats, the orphan rule ----------------------------- */

/* A row (sm.h "Rows"): its seats left to right and its rank (the
 * seat-list index of its first-listed seat). */
struct model_row {
	uint32_t n;
	uint32_t *seat;
	uint32_t rank;
};

struct model_rows {
	uint32_t n;
	struct model_row *row; /* in rank order */
	uint32_t *all;
};

static void model_rows_free(struct model_rows *rs)
{
	free(rs->row);
	free(rs->all);
}

/* The rows of an event, made from scratch: group the seats by (section,
 * row) names, order each group by (number, index), cut where a number is
 * not the previous plus one, sort the pieces by rank. */
static void model_rows_of(const struct model *m, uint32_t event, struct model_rows *out)
{
	const struct model_event *e = &m->events[event];
	uint32_t n = e->n_seats;
	out->all = model_alloc((size_t)n * sizeof *out->all);
	out->row = model_alloc((size_t)n * sizeof *out->row);
	out->n = 0;
	bool *done = model_alloc(n);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		const struct model_seat *a = &m->seats[e->first_seat + i];
		uint32_t g0 = k;
		for (uint32_t j = i; j < n; j++) {
			const struct model_seat *b = &m->seats[e->first_seat + j];
			if (!done[j] && model_str_eq(a->section, b->section) && model_str_eq(a->row, b->row)) {
				out->all[k++] = e->first_seat + j;
				done[j] = true;
			}
		}
		for (uint32_t x = g0 + 1; x < k; x++) { /* insertion sort by (number, index) */
			uint32_t v = out->all[x], y = x;
			while (y > g0 && (m->seats[out->all[y - 1]].number > m->seats[v].number ||
					  (m->seats[out->all[y - 1]].number == m->seats[v].number &&
					   out->all[y - 1] > v))) {
				out->all[y] = out->all[y - 1];
				y--;
			}
			out->all[y] = v;
		}
		for (uint32_t x = g0; x < k; x++) {
			bool cut = x == g0 || (int64_t)m->seats[out->all[x]].number !=
						      (int64_t)m->seats[out->all[x - 1]].number + 1;
			if (cut)
				out->row[out->n++] = (struct model_row){0, &out->all[x], UINT32_MAX};
			struct model_row *r = &out->row[out->n - 1];
			r->n++;
			if (out->all[x] < r->rank)
				r->rank = out->all[x];
		}
	}
	free(done);
	for (uint32_t x = 1; x < out->n; x++) { /* rows by rank */
		struct model_row v = out->row[x];
		uint32_t y = x;
		while (y > 0 && out->row[y - 1].rank > v.rank) {
			out->row[y] = out->row[y - 1];
			y--;
		}
		out->row[y] = v;
	}
}

/* What choosing sees: "free" is FREE and not taken (named, chosen). */
struct model_choice {
	const struct model *m;
	const struct hf_best *best;
	bool *taken; /* by seat index */
};

static bool model_seat_free(const struct model_choice *ch, uint32_t seat)
{
	return ch->m->seats[seat].state == HF_SEAT_FREE && !ch->taken[seat];
}

static bool model_seat_matches(const struct model_choice *ch, uint32_t seat)
{
	const struct model_seat *s = &ch->m->seats[seat];
	return (ch->best->section.len == 0 || model_str_eq(ch->best->section, s->section)) &&
	       (ch->best->category.len == 0 || model_str_eq(ch->best->category, s->category));
}

static bool model_usable(const struct model_choice *ch, uint32_t seat)
{
	return model_seat_free(ch, seat) && model_seat_matches(ch, seat);
}

static bool model_strands(const struct model_choice *ch, const struct model_row *r, uint32_t p,
			  uint32_t c)
{
	int64_t sides[2][2] = {{(int64_t)p - 1, (int64_t)p - 2}, {(int64_t)p + c, (int64_t)p + c + 1}};
	for (int k = 0; k < 2; k++) {
		int64_t x = sides[k][0], o = sides[k][1];
		if (x < 0 || x >= r->n || !model_seat_free(ch, r->seat[x]))
			continue;
		if (o < 0 || o >= r->n || !model_seat_free(ch, r->seat[o]))
			return true;
	}
	return false;
}

struct model_pick {
	bool found, strands;
	uint32_t row, p;
	uint64_t dist;
};

/* Every window of c usable seats, least by (row rank, strands, nearness
 * to the middle, position); with no_strand, stranding ones do not count. */
static struct model_pick model_search(const struct model_choice *ch, const struct model_rows *rs,
				      uint32_t c, bool no_strand)
{
	struct model_pick best = {0};
	for (uint32_t ri = 0; ri < rs->n; ri++) {
		const struct model_row *r = &rs->row[ri];
		for (uint32_t p = 0; p + c <= r->n; p++) {
			bool all = true;
			for (uint32_t i = 0; all && i < c; i++)
				all = model_usable(ch, r->seat[p + i]);
			if (!all)
				continue;
			int64_t d = 2 * (int64_t)p + c - r->n;
			struct model_pick k = {true, model_strands(ch, r, p, c), ri, p,
					       (uint64_t)(d < 0 ? -d : d)};
			if (no_strand && k.strands)
				continue;
			bool better = !best.found || k.row < best.row ||
				      (k.row == best.row &&
				       (k.strands < best.strands ||
					(k.strands == best.strands &&
					 (k.dist < best.dist || (k.dist == best.dist && k.p < best.p)))));
			if (better)
				best = k;
		}
	}
	return best;
}

/* Chooses best.count seats (sm.h "Choosing seats") and appends them to ln.
 * HF_OK or HF_SEATS_UNAVAILABLE (reply->available). */
static uint8_t model_choose(struct model *m, const struct hf_best *best, struct model_lines *ln,
			    struct hf_reply *reply)
{
	uint32_t ev = (uint32_t)ln->best_event;
	const struct model_event *e = &m->events[ev];
	struct model_choice ch = {m, best, model_alloc(m->n_seats)};
	for (uint32_t i = 0; i < ln->n_seats; i++)
		ch.taken[ln->seats[i]] = true;
	uint32_t avail = 0;
	for (uint32_t s = e->first_seat; s < e->first_seat + e->n_seats; s++)
		avail += model_usable(&ch, s);
	uint8_t rc = HF_OK;
	if (avail < best->count) {
		reply->available = avail;
		rc = HF_SEATS_UNAVAILABLE;
		free(ch.taken);
		return rc;
	}
	struct model_rows rs;
	model_rows_of(m, ev, &rs);
	bool rule = e->orphan_rule == HF_ORPHAN_NO_SINGLE_GAPS;
	bool *chosen = model_alloc(m->n_seats);
	struct model_pick pk = model_search(&ch, &rs, best->count, rule);
	ln->together = pk.found;
	uint32_t rem = best->count;
	if (!pk.found) {
		for (uint32_t ri = 0; ri < rs.n && rem > 0; ri++) {
			const struct model_row *r = &rs.row[ri];
			for (uint32_t i = 0; i < r->n && rem > 0;) {
				if (!model_usable(&ch, r->seat[i])) {
					i++;
					continue;
				}
				uint32_t a = i;
				while (i < r->n && model_usable(&ch, r->seat[i]))
					i++;
				if (i - a > rem)
					continue;
				for (uint32_t k = a; k < i; k++)
					chosen[r->seat[k]] = ch.taken[r->seat[k]] = true;
				rem -= i - a;
			}
		}
		if (rem > 0) {
			pk = model_search(&ch, &rs, rem, rule);
			if (!pk.found)
				pk = model_search(&ch, &rs, rem, false);
			HF_ASSERT(pk.found);
		}
	}
	if (rem > 0)
		for (uint32_t i = 0; i < rem; i++)
			chosen[rs.row[pk.row].seat[pk.p + i]] = true;
	for (uint32_t ri = 0; ri < rs.n; ri++)
		for (uint32_t i = 0; i < rs.row[ri].n; i++)
			if (chosen[rs.row[ri].seat[i]])
				ln->seats[ln->n_seats++] = rs.row[ri].seat[i];
	model_rows_free(&rs);
	free(chosen);
	free(ch.taken);
	return rc;
}

static bool model_line_new(const struct model_lines *ln, const struct model_hold *hold, uint32_t seat)
{
	for (uint32_t i = 0; i < ln->n_seats; i++)
		if (ln->seats[i] == seat)
			return !(hold && model_booking_has_seat(&hold->b, seat));
	return false;
}

/* The orphan rule (sm.h): the seats the new seats would strand. */
static uint8_t model_orphans(const struct model *m, const struct model_lines *ln,
			     const struct model_hold *hold, struct hf_reply *reply)
{
	for (uint32_t i = 0; i < ln->n_seats; i++) {
		uint32_t s = ln->seats[i];
		if (hold && model_booking_has_seat(&hold->b, s))
			continue;
		uint32_t ev = m->seats[s].event;
		if (m->events[ev].orphan_rule != HF_ORPHAN_NO_SINGLE_GAPS)
			continue;
		struct model_rows rs;
		model_rows_of(m, ev, &rs);
		for (uint32_t ri = 0; ri < rs.n; ri++) {
			const struct model_row *r = &rs.row[ri];
			for (uint32_t at = 0; at < r->n; at++) {
				if (r->seat[at] != s)
					continue;
				for (int dir = -1; dir <= 1; dir += 2) {
					int64_t x = (int64_t)at + dir, o = (int64_t)at + 2 * dir;
					if (x < 0 || x >= r->n)
						continue;
					uint32_t xs = r->seat[x];
					if (m->seats[xs].state != HF_SEAT_FREE || model_line_new(ln, hold, xs))
						continue;
					bool alone = o < 0 || o >= r->n ||
						     m->seats[r->seat[o]].state != HF_SEAT_FREE ||
						     model_line_new(ln, hold, r->seat[o]);
					bool named = false;
					for (uint32_t k = 0; k < reply->n_bad_seats; k++)
						named |= reply->bad_seats[k] == xs;
					if (alone && !named)
						model_bad_seat(reply, xs);
				}
			}
		}
		model_rows_free(&rs);
	}
	return reply->n_bad_seats ? HF_ORPHAN_SEAT : HF_OK;
}

/* Taking inventory: SALE_CLOSED; LIMIT_EXCEEDED; SEATS_UNAVAILABLE;
 * SEATS_BLOCKED; choosing; ORPHAN_SEAT; INSUFFICIENT_STOCK. customer is -1 for a customer that
 * does not exist yet; hold is the hold of HOLD_ADD (its seats are not new).
 * Fills ln->items[].take. */
static uint8_t model_take_check(struct model *m, const struct hf_cmd *cmd, int64_t customer,
				const struct model_hold *hold, struct model_lines *ln,
				struct hf_reply *reply)
{
	const struct hf_best *best = &cmd->u.lines.best;
	for (uint32_t i = 0; i <= ln->n_seats; i++) {
		int64_t ev = i < ln->n_seats ? (int64_t)m->seats[ln->seats[i]].event : ln->best_event;
		if (ev < 0)
			continue;
		const struct model_event *e = &m->events[ev];
		if (e->sale_opens_at_ms > m->now_ms ||
		    (e->sale_closes_at_ms != 0 && m->now_ms >= e->sale_closes_at_ms))
			return HF_SALE_CLOSED;
	}

	if (cmd->type == HF_CMD_HOLD_CREATE && customer >= 0 &&
	    model_customer_active_holds(m, (uint32_t)customer) >= HF_CUSTOMER_HOLDS_MAX) {
		reply->limit = HF_LIMIT_HOLDS_PER_CUSTOMER;
		reply->limit_max = HF_CUSTOMER_HOLDS_MAX;
		reply->limit_current = model_customer_active_holds(m, (uint32_t)customer);
		reply->limit_requested = 1;
		return HF_LIMIT_EXCEEDED;
	}
	/* Events in the order of their first new seat; the seats to choose
	 * come last (position n_seats). */
	for (uint32_t i = 0; i <= ln->n_seats; i++) {
		int64_t ev;
		if (i < ln->n_seats) {
			if (hold && model_booking_has_seat(&hold->b, ln->seats[i]))
				continue;
			ev = m->seats[ln->seats[i]].event;
		} else {
			ev = ln->best_event;
			if (ev < 0)
				continue;
		}
		bool seen = false;
		for (uint32_t k = 0; k < i; k++)
			seen |= m->seats[ln->seats[k]].event == ev &&
				!(hold && model_booking_has_seat(&hold->b, ln->seats[k]));
		uint32_t max = m->events[ev].max_per_customer;
		if (seen || max == 0)
			continue;
		uint64_t fresh = ln->best_event == ev ? best->count : 0;
		for (uint32_t k = 0; k < ln->n_seats; k++)
			if (m->seats[ln->seats[k]].event == ev &&
			    !(hold && model_booking_has_seat(&hold->b, ln->seats[k])))
				fresh++;
		uint32_t have = customer >= 0 ? model_customer_event_seats(m, (uint32_t)customer, (uint32_t)ev) : 0;
		if (have + fresh > max) {
			reply->limit = HF_LIMIT_SEATS_PER_CUSTOMER;
			reply->limit_max = max;
			reply->limit_current = have;
			reply->limit_requested = (uint32_t)fresh;
			reply->limit_ref = (uint32_t)ev;
			return HF_LIMIT_EXCEEDED;
		}
	}

	for (uint32_t i = 0; i < ln->n_seats; i++) {
		if (hold && model_booking_has_seat(&hold->b, ln->seats[i]))
			continue;
		uint8_t st = m->seats[ln->seats[i]].state;
		if (st == HF_SEAT_HELD || st == HF_SEAT_SOLD)
			model_bad_seat(reply, ln->seats[i]);
	}
	if (reply->n_bad_seats > 0)
		return HF_SEATS_UNAVAILABLE;
	for (uint32_t i = 0; i < ln->n_seats; i++) {
		if (hold && model_booking_has_seat(&hold->b, ln->seats[i]))
			continue;
		if (m->seats[ln->seats[i]].state == HF_SEAT_BLOCKED)
			model_bad_seat(reply, ln->seats[i]);
	}
	if (reply->n_bad_seats > 0)
		return HF_SEATS_BLOCKED;

	ln->together = false;
	if (best->count > 0 && model_choose(m, best, ln, reply) != HF_OK)
		return HF_SEATS_UNAVAILABLE;
	if (model_orphans(m, ln, hold, reply) != HF_OK)
		return HF_ORPHAN_SEAT;

	for (uint32_t i = 0; i < ln->n_items; i++) {
		struct model_line_item *li = &ln->items[i];
		const struct model_item *it = &m->items[li->item];
		if (li->quantity <= it->available)
			li->take = li->quantity;
		else if (li->partial)
			li->take = it->available;
		else
			li->take = 0;
		if (li->take == 0) {
			reply->bad_item = li->item;
			reply->available = it->available;
			return HF_INSUFFICIENT_STOCK;
		}
	}
	return HF_OK;
}

/* Moves the lines' seats to seat_state and their takes from available to
 * held (seat_state HELD) or sold (SOLD). */
static void model_take(struct model *m, const struct model_lines *ln, const struct model_hold *hold,
		       uint8_t seat_state)
{
	for (uint32_t i = 0; i < ln->n_seats; i++) {
		if (hold && model_booking_has_seat(&hold->b, ln->seats[i]))
			continue;
		HF_ASSERT(m->seats[ln->seats[i]].state == HF_SEAT_FREE);
		m->seats[ln->seats[i]].state = seat_state;
	}
	for (uint32_t i = 0; i < ln->n_items; i++) {
		struct model_item *it = &m->items[ln->items[i].item];
		HF_ASSERT(it->available >= ln->items[i].take);
		it->available -= ln->items[i].take;
		if (seat_state == HF_SEAT_HELD)
			it->held += ln->items[i].take;
		else
			it->sold += ln->items[i].take;
	}
}

/* The lines of a new hold or order: seats in request order, items in merge
 * order with quantity = take, requested = merged quantity. */
static void model_fill_lines(const struct model *m, const struct model_lines *ln, struct hf_booking *b)
{
	b->n_seats = ln->n_seats;
	for (uint32_t i = 0; i < ln->n_seats; i++)
		b->seats[i] = (struct hf_view_seat){.seat = ln->seats[i], .price = m->seats[ln->seats[i]].price};
	b->n_items = ln->n_items;
	for (uint32_t i = 0; i < ln->n_items; i++)
		b->items[i] = (struct hf_view_item){.item = ln->items[i].item,
						    .quantity = ln->items[i].take,
						    .requested = ln->items[i].quantity,
						    .price = m->items[ln->items[i].item].price};
}

static uint32_t model_customer_add(struct model *m, struct hf_str name)
{
	int64_t c = model_customer_find(m, name);
	if (c >= 0)
		return (uint32_t)c;
	m->customers = model_grow(m->customers, &m->cap_customers, m->n_customers + 1,
				  sizeof *m->customers);
	m->customers[m->n_customers] = model_str_copy(name);
	return m->n_customers++;
}

static struct model_order *model_order_new(struct model *m, uint32_t customer)
{
	m->orders = model_grow(m->orders, &m->cap_orders, m->n_orders + 1, sizeof *m->orders);
	struct model_order *o = &m->orders[m->n_orders++];
	memset(o, 0, sizeof *o);
	o->b.id = m->next_order_id++;
	o->b.customer = customer;
	o->b.state = HF_ORDER_UNDER_REVIEW;
	o->b.created_at_ms = m->now_ms;
	return o;
}

/* ---- commands ---------------------------------------------------------- */

static void model_tick(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	(void)m;
	(void)cmd;
	reply->result = HF_OK;
}

static void model_event_create(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_event_create *ec = &cmd->u.event_create;
	bool ok = model_id_ok(ec->id) && model_text_ok(ec->name, 1, HF_NAME_LEN_MAX) &&
		  model_time_ok(ec->starts_at_ms) && model_time_ok(ec->sale_opens_at_ms) &&
		  model_time_ok(ec->sale_closes_at_ms);
	for (uint32_t i = 0; ok && i < ec->n_seats; i++) {
		const struct hf_seat_spec *s = &ec->seats[i];
		ok = model_id_ok(s->id) && model_text_ok(s->section, 0, HF_NAME_LEN_MAX) &&
		     model_text_ok(s->row, 0, HF_NAME_LEN_MAX) &&
		     model_text_ok(s->category, 0, HF_NAME_LEN_MAX) && model_price_ok(s->price);
	}
	if (!ok || ec->n_seats == 0 || ec->hold_ttl_s > m->cfg.hold_lifetime_max_s ||
	    ec->orphan_rule >= HF_ORPHAN_RULE_COUNT ||
	    (ec->sale_opens_at_ms != 0 && ec->sale_closes_at_ms != 0 &&
	     ec->sale_opens_at_ms >= ec->sale_closes_at_ms)) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	if (ec->n_seats > HF_EVENT_SEATS_MAX) {
		reply->result = HF_TOO_MANY_LINES;
		return;
	}
	if (model_event_find(m, ec->id) >= 0) {
		reply->result = HF_ALREADY_EXISTS;
		return;
	}
	if (m->n_events >= m->cfg.max_events || (uint64_t)m->n_seats + ec->n_seats > m->cfg.max_seats) {
		reply->result = HF_CAPACITY_FULL;
		return;
	}
	for (uint32_t i = 0; i < ec->n_seats; i++)
		for (uint32_t j = i + 1; j < ec->n_seats; j++)
			if (model_str_eq(ec->seats[i].id, ec->seats[j].id)) {
				reply->result = HF_BAD_REQUEST;
				return;
			}

	struct model_event *e = &m->events[m->n_events];
	e->id = model_str_copy(ec->id);
	e->name = model_str_copy(ec->name);
	e->starts_at_ms = ec->starts_at_ms;
	e->sale_opens_at_ms = ec->sale_opens_at_ms;
	e->sale_closes_at_ms = ec->sale_closes_at_ms;
	e->hold_ttl_s = ec->hold_ttl_s ? ec->hold_ttl_s : HF_HOLD_TTL_DEFAULT_S;
	e->max_per_customer = ec->max_per_customer;
	e->orphan_rule = ec->orphan_rule;
	e->first_seat = m->n_seats;
	e->n_seats = ec->n_seats;
	m->seats = model_grow(m->seats, &m->cap_seats, m->n_seats + ec->n_seats, sizeof *m->seats);
	for (uint32_t i = 0; i < ec->n_seats; i++) {
		const struct hf_seat_spec *s = &ec->seats[i];
		struct model_seat *t = &m->seats[m->n_seats++];
		t->id = model_str_copy(s->id);
		t->section = model_str_copy(s->section);
		t->row = model_str_copy(s->row);
		t->category = model_str_copy(s->category);
		t->number = s->number;
		t->price = s->price;
		t->event = m->n_events;
		t->state = HF_SEAT_FREE;
	}
	reply->result = HF_OK;
	reply->kind = HF_REPLY_EVENT;
	reply->index = m->n_events++;
}

static void model_seats_block(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_seats_block *sb = &cmd->u.seats_block;
	bool ok = sb->n_seats > 0 && model_id_ok(sb->event);
	for (uint32_t i = 0; ok && i < sb->n_seats; i++)
		ok = model_id_ok(sb->seats[i]);
	if (!ok) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	if (sb->n_seats > HF_BLOCK_SEATS_MAX) {
		reply->result = HF_TOO_MANY_LINES;
		return;
	}
	int64_t e = model_event_find(m, sb->event);
	if (e < 0) {
		reply->result = HF_UNKNOWN_EVENT;
		return;
	}
	for (uint32_t i = 0; i < sb->n_seats; i++)
		if (model_seat_find(m, (uint32_t)e, sb->seats[i]) < 0)
			model_bad_seat(reply, i);
	if (reply->n_bad_seats > 0) {
		reply->result = HF_UNKNOWN_SEAT;
		return;
	}
	for (uint32_t i = 0; i < sb->n_seats; i++) {
		uint32_t s = (uint32_t)model_seat_find(m, (uint32_t)e, sb->seats[i]);
		if (m->seats[s].state == HF_SEAT_HELD || m->seats[s].state == HF_SEAT_SOLD)
			model_bad_seat(reply, s);
	}
	if (reply->n_bad_seats > 0) {
		reply->result = HF_SEATS_UNAVAILABLE;
		return;
	}
	uint8_t to = cmd->type == HF_CMD_SEATS_BLOCK ? HF_SEAT_BLOCKED : HF_SEAT_FREE;
	for (uint32_t i = 0; i < sb->n_seats; i++)
		m->seats[model_seat_find(m, (uint32_t)e, sb->seats[i])].state = to;
	reply->result = HF_OK;
	reply->kind = HF_REPLY_EVENT;
	reply->index = (uint32_t)e;
}

static void model_item_create(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_item_create *ic = &cmd->u.item_create;
	if (!model_id_ok(ic->id) || !model_text_ok(ic->name, 1, HF_NAME_LEN_MAX) ||
	    !model_text_ok(ic->category, 0, HF_NAME_LEN_MAX) ||
	    !model_text_ok(ic->description, 0, HF_TEXT_LEN_MAX) ||
	    !model_text_ok(ic->image_url, 0, HF_TEXT_LEN_MAX) || !model_price_ok(ic->price) ||
	    ic->stock > HF_STOCK_MAX) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	if (model_item_find(m, ic->id) >= 0) {
		reply->result = HF_ALREADY_EXISTS;
		return;
	}
	if (m->n_items >= m->cfg.max_items) {
		reply->result = HF_CAPACITY_FULL;
		return;
	}
	struct model_item *it = &m->items[m->n_items];
	it->id = model_str_copy(ic->id);
	it->name = model_str_copy(ic->name);
	it->category = model_str_copy(ic->category);
	it->description = model_str_copy(ic->description);
	it->image_url = model_str_copy(ic->image_url);
	it->price = ic->price;
	it->available = ic->stock;
	reply->result = HF_OK;
	reply->kind = HF_REPLY_ITEM;
	reply->index = m->n_items++;
}

static void model_item_restock(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_item_restock *ir = &cmd->u.item_restock;
	if (!model_id_ok(ir->item) || ir->quantity == 0 || ir->quantity > HF_STOCK_MAX) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	int64_t i = model_item_find(m, ir->item);
	if (i < 0) {
		reply->result = HF_UNKNOWN_ITEM;
		reply->bad_item = 0;
		return;
	}
	struct model_item *it = &m->items[i];
	if ((uint64_t)it->available + it->held + it->sold + ir->quantity > HF_STOCK_MAX) {
		reply->result = HF_LIMIT_EXCEEDED;
		reply->limit = HF_LIMIT_STOCK_MAX;
		reply->limit_max = HF_STOCK_MAX;
		reply->limit_current = it->available + it->held + it->sold;
		reply->limit_requested = ir->quantity;
		reply->limit_ref = (uint32_t)i;
		return;
	}
	it->available += ir->quantity;
	reply->result = HF_OK;
	reply->kind = HF_REPLY_ITEM;
	reply->index = (uint32_t)i;
}

static void model_hold_create(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	struct model_lines ln;
	struct model_hold *unused = NULL;
	uint8_t r = model_lines_resolve(m, cmd, reply, &unused, &ln);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	int64_t customer = model_customer_find(m, cmd->customer);
	if (customer < 0 && m->n_customers >= m->cfg.max_customers) {
		reply->result = HF_CAPACITY_FULL;
		return;
	}
	/* A slot: a never-used one, else that of the hold that ended first. */
	struct model_hold *victim = NULL;
	if (m->n_holds >= m->cfg.max_holds) {
		for (uint32_t i = 0; i < m->n_holds; i++) {
			struct model_hold *h = &m->holds[i];
			if (h->b.state != HF_HOLD_ACTIVE && (!victim || h->ended_seq < victim->ended_seq))
				victim = h;
		}
		if (!victim) {
			reply->result = HF_CAPACITY_FULL;
			return;
		}
	}
	r = model_take_check(m, cmd, customer, NULL, &ln, reply);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}

	uint32_t ttl = cmd->u.lines.ttl_s;
	if (ttl == 0) {
		ttl = HF_HOLD_TTL_DEFAULT_S;
		for (uint32_t i = 0; i < ln.n_seats; i++) {
			uint32_t t = m->events[m->seats[ln.seats[i]].event].hold_ttl_s;
			if (i == 0 || t < ttl)
				ttl = t;
		}
	}
	m->recycled_total += victim != NULL;
	struct model_hold *h = victim ? victim : &m->holds[m->n_holds++];
	memset(h, 0, sizeof *h);
	h->b.id = m->next_hold_id++;
	h->b.customer = model_customer_add(m, cmd->customer);
	h->b.state = HF_HOLD_ACTIVE;
	h->b.created_at_ms = m->now_ms;
	h->b.expires_at_ms = m->now_ms + (int64_t)ttl * 1000;
	model_take(m, &ln, NULL, HF_SEAT_HELD);
	model_fill_lines(m, &ln, &h->b);
	model_reply_booking(m, reply, HF_REPLY_HOLD, &h->b);
	reply->best = cmd->u.lines.best.count > 0;
	reply->together = ln.together;
}

static void model_hold_add(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	struct model_lines ln;
	struct model_hold *h = NULL;
	uint8_t r = model_lines_resolve(m, cmd, reply, &h, &ln);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	uint32_t seats = h->b.n_seats, items = h->b.n_items;
	for (uint32_t i = 0; i < ln.n_seats; i++)
		seats += !model_booking_has_seat(&h->b, ln.seats[i]);
	bool too_much = false;
	for (uint32_t i = 0; i < ln.n_items; i++) {
		int64_t k = model_booking_item_line(&h->b, ln.items[i].item);
		items += k < 0;
		if (k >= 0 && (uint64_t)h->b.items[k].requested + ln.items[i].quantity > HF_QUANTITY_MAX)
			too_much = true;
	}
	if (seats > HF_HOLD_SEATS_MAX || items > HF_HOLD_ITEMS_MAX || too_much) {
		reply->result = HF_TOO_MANY_LINES;
		return;
	}
	r = model_take_check(m, cmd, h->b.customer, h, &ln, reply);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	model_take(m, &ln, h, HF_SEAT_HELD);
	for (uint32_t i = 0; i < ln.n_seats; i++) {
		if (model_booking_has_seat(&h->b, ln.seats[i]))
			continue;
		h->b.seats[h->b.n_seats++] = (struct hf_view_seat){.seat = ln.seats[i],
								   .price = m->seats[ln.seats[i]].price};
	}
	for (uint32_t i = 0; i < ln.n_items; i++) {
		int64_t k = model_booking_item_line(&h->b, ln.items[i].item);
		if (k >= 0) {
			h->b.items[k].quantity += ln.items[i].take;
			h->b.items[k].requested += ln.items[i].quantity;
		} else {
			h->b.items[h->b.n_items++] = (struct hf_view_item){
				.item = ln.items[i].item,
				.quantity = ln.items[i].take,
				.requested = ln.items[i].quantity,
				.price = m->items[ln.items[i].item].price};
		}
	}
	model_reply_booking(m, reply, HF_REPLY_HOLD, &h->b);
}

static void model_hold_remove(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	struct model_lines ln;
	struct model_hold *h = NULL;
	uint8_t r = model_lines_resolve(m, cmd, reply, &h, &ln);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	struct hf_booking *b = &h->b;
	for (uint32_t i = 0; i < ln.n_seats; i++) {
		for (uint32_t k = 0; k < b->n_seats; k++) {
			if (b->seats[k].seat != ln.seats[i])
				continue;
			m->seats[ln.seats[i]].state = HF_SEAT_FREE;
			memmove(&b->seats[k], &b->seats[k + 1], (b->n_seats - k - 1) * sizeof b->seats[0]);
			b->n_seats--;
			memset(&b->seats[b->n_seats], 0, sizeof b->seats[0]);
			break;
		}
	}
	for (uint32_t i = 0; i < ln.n_items; i++) {
		int64_t k = model_booking_item_line(b, ln.items[i].item);
		if (k < 0)
			continue;
		struct hf_view_item *line = &b->items[k];
		uint32_t take_back = ln.items[i].quantity < line->quantity ? ln.items[i].quantity : line->quantity;
		line->quantity -= take_back;
		HF_ASSERT(line->requested >= take_back);
		line->requested -= take_back;
		m->items[line->item].held -= take_back;
		m->items[line->item].available += take_back;
		if (line->quantity == 0) {
			memmove(&b->items[k], &b->items[k + 1], (b->n_items - k - 1) * sizeof b->items[0]);
			b->n_items--;
			memset(&b->items[b->n_items], 0, sizeof b->items[0]);
		}
	}
	model_reply_booking(m, reply, HF_REPLY_HOLD, b);
}

static void model_hold_extend(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_hold_op *op = &cmd->u.hold_op;
	if (!model_customer_ok(cmd, true) || op->ttl_s == 0 || op->ttl_s > m->cfg.hold_lifetime_max_s) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	struct model_hold *h = NULL;
	uint8_t r = model_hold_checks(m, cmd, op->hold, &h);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	int64_t want = m->now_ms + (int64_t)op->ttl_s * 1000;
	int64_t cap = h->b.created_at_ms + (int64_t)m->cfg.hold_lifetime_max_s * 1000;
	int64_t to = want < cap ? want : cap;
	if (to > h->b.expires_at_ms)
		h->b.expires_at_ms = to;
	model_reply_booking(m, reply, HF_REPLY_HOLD, &h->b);
}

static void model_hold_release(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	if (!model_customer_ok(cmd, true)) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	struct model_hold *h = NULL;
	uint8_t r = model_hold_checks(m, cmd, cmd->u.hold_op.hold, &h);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	model_hold_end(m, h, HF_HOLD_RELEASED);
	model_reply_booking(m, reply, HF_REPLY_HOLD, &h->b);
}

/* A late confirm (sm.h HOLD_CONFIRM): the expired hold's seats must all be
 * FREE and its item quantities available. */
static uint8_t model_late_check(struct model *m, const struct model_hold *h, struct hf_reply *reply)
{
	for (uint32_t i = 0; i < h->b.n_seats; i++)
		if (m->seats[h->b.seats[i].seat].state != HF_SEAT_FREE)
			model_bad_seat(reply, h->b.seats[i].seat);
	for (uint32_t i = 0; i < h->b.n_items; i++) {
		const struct model_item *it = &m->items[h->b.items[i].item];
		if (h->b.items[i].quantity > it->available) {
			reply->item_short = true;
			reply->bad_item = h->b.items[i].item;
			reply->available = it->available;
			break;
		}
	}
	return reply->n_bad_seats || reply->item_short ? HF_HOLD_EXPIRED : HF_OK;
}

static void model_hold_confirm(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_hold_op *op = &cmd->u.hold_op;
	if (!model_customer_ok(cmd, true) || (op->accept_late && !cmd->admin)) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	struct model_hold *h = model_hold_find(m, op->hold);
	bool late = op->accept_late && h && h->b.state == HF_HOLD_EXPIRED_STATE;
	uint8_t r = late ? model_late_check(m, h, reply) : model_hold_checks(m, cmd, op->hold, &h);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	if (h->b.n_seats == 0 && h->b.n_items == 0) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	if (m->n_orders >= m->cfg.max_orders) {
		reply->result = HF_CAPACITY_FULL;
		return;
	}
	struct model_order *o = model_order_new(m, h->b.customer);
	o->b.n_seats = h->b.n_seats;
	memcpy(o->b.seats, h->b.seats, sizeof o->b.seats);
	o->b.n_items = h->b.n_items;
	memcpy(o->b.items, h->b.items, sizeof o->b.items);
	for (uint32_t i = 0; i < h->b.n_seats; i++) {
		HF_ASSERT(m->seats[h->b.seats[i].seat].state == (late ? HF_SEAT_FREE : HF_SEAT_HELD));
		m->seats[h->b.seats[i].seat].state = HF_SEAT_SOLD;
	}
	for (uint32_t i = 0; i < h->b.n_items; i++) {
		struct model_item *it = &m->items[h->b.items[i].item];
		if (late)
			it->available -= h->b.items[i].quantity;
		else
			it->held -= h->b.items[i].quantity;
		it->sold += h->b.items[i].quantity;
	}
	if (late)
		h->b.state = HF_HOLD_CONFIRMED; /* it keeps its ended_seq */
	else
		model_hold_end(m, h, HF_HOLD_CONFIRMED);
	h->b.order = o->b.id;
	model_reply_booking(m, reply, HF_REPLY_ORDER, &o->b);
}

static void model_order_create(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	struct model_lines ln;
	struct model_hold *unused = NULL;
	uint8_t r = model_lines_resolve(m, cmd, reply, &unused, &ln);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	int64_t customer = model_customer_find(m, cmd->customer);
	if ((customer < 0 && m->n_customers >= m->cfg.max_customers) ||
	    m->n_orders >= m->cfg.max_orders) {
		reply->result = HF_CAPACITY_FULL;
		return;
	}
	r = model_take_check(m, cmd, customer, NULL, &ln, reply);
	if (r != HF_OK) {
		reply->result = r;
		return;
	}
	struct model_order *o = model_order_new(m, model_customer_add(m, cmd->customer));
	model_take(m, &ln, NULL, HF_SEAT_SOLD);
	model_fill_lines(m, &ln, &o->b);
	model_reply_booking(m, reply, HF_REPLY_ORDER, &o->b);
	reply->best = cmd->u.lines.best.count > 0;
	reply->together = ln.together;
}

/* CANCELED: seats SOLD -> FREE, items sold -> available. */
static void model_order_cancel_apply(struct model *m, struct model_order *o)
{
	for (uint32_t i = 0; i < o->b.n_seats; i++) {
		HF_ASSERT(m->seats[o->b.seats[i].seat].state == HF_SEAT_SOLD);
		m->seats[o->b.seats[i].seat].state = HF_SEAT_FREE;
	}
	for (uint32_t i = 0; i < o->b.n_items; i++) {
		struct model_item *it = &m->items[o->b.items[i].item];
		HF_ASSERT(it->sold >= o->b.items[i].quantity);
		it->sold -= o->b.items[i].quantity;
		it->available += o->b.items[i].quantity;
	}
	o->b.state = HF_ORDER_CANCELED;
}

static void model_order_cancel(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	if (!model_customer_ok(cmd, true)) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	struct model_order *o = model_order_find(m, cmd->u.order_op.order);
	if (!o) {
		reply->result = HF_UNKNOWN_ORDER;
		return;
	}
	if (!cmd->admin && !model_str_eq(cmd->customer, m->customers[o->b.customer])) {
		reply->result = HF_NOT_OWNER;
		return;
	}
	if (o->b.state >= HF_ORDER_SHIPPED) {
		reply->result = HF_INVALID_TRANSITION;
		reply->current_status = o->b.state;
		return;
	}
	model_order_cancel_apply(m, o);
	model_reply_booking(m, reply, HF_REPLY_ORDER, &o->b);
}

static void model_order_status(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	const struct hf_order_op *op = &cmd->u.order_op;
	if (op->status > HF_ORDER_CANCELED ||
	    (op->expect > HF_ORDER_CANCELED && op->expect != HF_ORDER_STATUS_ANY)) {
		reply->result = HF_BAD_REQUEST;
		return;
	}
	struct model_order *o = model_order_find(m, op->order);
	if (!o) {
		reply->result = HF_UNKNOWN_ORDER;
		return;
	}
	if (!cmd->admin) {
		reply->result = HF_NOT_OWNER;
		return;
	}
	uint8_t cur = o->b.state;
	if (op->expect != HF_ORDER_STATUS_ANY && op->expect != cur) {
		reply->result = HF_STATUS_MISMATCH;
		reply->current_status = cur;
		return;
	}
	if (cur == HF_ORDER_DELIVERED || cur == HF_ORDER_CANCELED || op->status <= cur ||
	    (op->status == HF_ORDER_CANCELED && cur >= HF_ORDER_SHIPPED)) {
		reply->result = HF_INVALID_TRANSITION;
		reply->current_status = cur;
		return;
	}
	if (op->status == HF_ORDER_CANCELED)
		model_order_cancel_apply(m, o);
	else
		o->b.state = op->status;
	model_reply_booking(m, reply, HF_REPLY_ORDER, &o->b);
}

/* The command table: type -> the function that applies it. */
typedef void (*model_cmd_fn)(struct model *m, const struct hf_cmd *cmd, struct hf_reply *reply);
static const model_cmd_fn model_cmds[HF_CMD_TYPE_COUNT] = {
	[HF_CMD_TICK] = model_tick,
	[HF_CMD_EVENT_CREATE] = model_event_create,
	[HF_CMD_SEATS_BLOCK] = model_seats_block,
	[HF_CMD_SEATS_UNBLOCK] = model_seats_block,
	[HF_CMD_ITEM_CREATE] = model_item_create,
	[HF_CMD_ITEM_RESTOCK] = model_item_restock,
	[HF_CMD_HOLD_CREATE] = model_hold_create,
	[HF_CMD_HOLD_ADD] = model_hold_add,
	[HF_CMD_HOLD_REMOVE] = model_hold_remove,
	[HF_CMD_HOLD_EXTEND] = model_hold_extend,
	[HF_CMD_HOLD_RELEASE] = model_hold_release,
	[HF_CMD_HOLD_CONFIRM] = model_hold_confirm,
	[HF_CMD_ORDER_CREATE] = model_order_create,
	[HF_CMD_ORDER_CANCEL] = model_order_cancel,
	[HF_CMD_ORDER_STATUS] = model_order_status,
};

/* ---- idempotency ------------------------------------------------------- */

static struct model_idem *model_idem_find(struct model *m, struct hf_str customer, struct hf_str key)
{
	for (uint32_t i = 0; i < m->n_idem; i++)
		if (model_str_eq(m->idem[i].customer, customer) && model_str_eq(m->idem[i].key, key))
			return &m->idem[i];
	return NULL;
}

static void model_idem_forget(struct model *m)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < m->n_idem; i++) {
		struct model_idem *e = &m->idem[i];
		if (e->stored_at_ms <= m->now_ms - m->cfg.idem_retention_ms) {
			free((void *)e->customer.ptr);
			free((void *)e->key.ptr);
			continue;
		}
		if (k != i)
			m->idem[k] = *e;
		k++;
	}
	m->n_idem = k;
}

/* ---- apply (steps a. to e.) -------------------------------------------- */

void model_apply(struct model *m, int64_t now_ms, const struct hf_cmd *cmd, struct hf_reply *reply)
{
	memset(reply, 0, sizeof *reply);
	if (now_ms > m->now_ms)
		m->now_ms = now_ms;
	model_expire(m);
	model_idem_forget(m);

	/* Step c, first half: refused before the idempotency table is asked. */
	if (cmd->type == HF_CMD_NONE || cmd->type >= HF_CMD_TYPE_COUNT ||
	    (cmd->idem_key.len > 0 && !model_id_ok(cmd->idem_key)) ||
	    cmd->customer.len > HF_ID_LEN_MAX) {
		reply->result = HF_BAD_REQUEST;
		return;
	}

	if (cmd->idem_key.len > 0) {
		const struct model_idem *e = model_idem_find(m, cmd->customer, cmd->idem_key);
		if (e && e->fingerprint == cmd->idem_fingerprint) {
			*reply = e->reply;
			reply->replayed = true;
			return;
		}
		if (e) {
			reply->result = HF_IDEMPOTENCY_KEY_REUSED;
			return;
		}
	}

	model_cmds[cmd->type](m, cmd, reply);

	if (cmd->idem_key.len > 0 && reply->result != HF_CAPACITY_FULL) {
		m->idem = model_grow(m->idem, &m->cap_idem, m->n_idem + 1, sizeof *m->idem);
		struct model_idem *e = &m->idem[m->n_idem++];
		e->customer = model_str_copy(cmd->customer);
		e->key = model_str_copy(cmd->idem_key);
		e->fingerprint = cmd->idem_fingerprint;
		e->stored_at_ms = m->now_ms;
		e->reply = *reply;
	}
}

/* ---- life -------------------------------------------------------------- */

struct model *model_new(const struct hf_sm_config *cfg)
{
	struct model *m = model_alloc(sizeof *m);
	m->cfg = *cfg;
	m->next_hold_id = 1;
	m->next_order_id = 1;
	m->events = model_alloc((size_t)cfg->max_events * sizeof *m->events);
	m->items = model_alloc((size_t)cfg->max_items * sizeof *m->items);
	m->holds = model_alloc((size_t)cfg->max_holds * sizeof *m->holds);
	return m;
}

static void model_str_free(struct hf_str s)
{
	free((void *)s.ptr);
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->n_events; i++) {
		model_str_free(m->events[i].id);
		model_str_free(m->events[i].name);
	}
	for (uint32_t i = 0; i < m->n_seats; i++) {
		model_str_free(m->seats[i].id);
		model_str_free(m->seats[i].section);
		model_str_free(m->seats[i].row);
		model_str_free(m->seats[i].category);
	}
	for (uint32_t i = 0; i < m->n_items; i++) {
		struct model_item *it = &m->items[i];
		model_str_free(it->id);
		model_str_free(it->name);
		model_str_free(it->category);
		model_str_free(it->description);
		model_str_free(it->image_url);
	}
	for (uint32_t i = 0; i < m->n_customers; i++)
		model_str_free(m->customers[i]);
	for (uint32_t i = 0; i < m->n_idem; i++) {
		model_str_free(m->idem[i].customer);
		model_str_free(m->idem[i].key);
	}
	free(m->events);
	free(m->seats);
	free(m->items);
	free(m->customers);
	free(m->holds);
	free(m->orders);
	free(m->idem);
	free(m);
}

/* ---- reads ------------------------------------------------------------- */

void model_event_info(const struct model *m, uint32_t event, struct hf_event_info *out)
{
	HF_ASSERT(event < m->n_events);
	const struct model_event *e = &m->events[event];
	memset(out, 0, sizeof *out);
	out->id = e->id;
	out->name = e->name;
	out->starts_at_ms = e->starts_at_ms;
	out->sale_opens_at_ms = e->sale_opens_at_ms;
	out->sale_closes_at_ms = e->sale_closes_at_ms;
	out->hold_ttl_s = e->hold_ttl_s;
	out->max_per_customer = e->max_per_customer;
	out->orphan_rule = e->orphan_rule;
	out->first_seat = e->first_seat;
	out->n_seats = e->n_seats;
	for (uint32_t i = e->first_seat; i < e->first_seat + e->n_seats; i++)
		out->count[m->seats[i].state]++;
}

void model_seat_info(const struct model *m, uint32_t seat, struct hf_seat_info *out)
{
	HF_ASSERT(seat < m->n_seats);
	const struct model_seat *s = &m->seats[seat];
	memset(out, 0, sizeof *out);
	out->id = s->id;
	out->section = s->section;
	out->row = s->row;
	out->category = s->category;
	out->number = s->number;
	out->price = s->price;
	out->state = s->state;
	out->event = s->event;
}

void model_item_info(const struct model *m, uint32_t item, struct hf_item_info *out)
{
	HF_ASSERT(item < m->n_items);
	const struct model_item *it = &m->items[item];
	memset(out, 0, sizeof *out);
	out->id = it->id;
	out->name = it->name;
	out->category = it->category;
	out->description = it->description;
	out->image_url = it->image_url;
	out->price = it->price;
	out->available = it->available;
	out->held = it->held;
	out->sold = it->sold;
}

enum hf_result model_hold_view(const struct model *m, uint64_t id, struct hf_booking *out)
{
	memset(out, 0, sizeof *out);
	const struct model_hold *h = model_hold_get(m, id);
	if (!h)
		return HF_UNKNOWN_HOLD;
	*out = h->b;
	model_totals(m, out);
	return HF_OK;
}

enum hf_result model_order_view(const struct model *m, uint64_t id, struct hf_booking *out)
{
	memset(out, 0, sizeof *out);
	const struct model_order *o = model_order_find((struct model *)m, id);
	if (!o)
		return HF_UNKNOWN_ORDER;
	*out = o->b;
	model_totals(m, out);
	return HF_OK;
}

/* Newest first: repeatedly the largest id below the previous one. */
static uint32_t model_list(const struct hf_booking *const *all, uint32_t n, uint64_t after,
			   uint32_t limit, uint64_t *ids)
{
	uint32_t k = 0;
	uint64_t below = after ? after : UINT64_MAX;
	while (k < limit) {
		uint64_t best = 0;
		for (uint32_t i = 0; i < n; i++)
			if (all[i]->id < below && all[i]->id > best)
				best = all[i]->id;
		if (best == 0)
			break;
		ids[k++] = best;
		below = best;
	}
	return k;
}

uint32_t model_customer_holds(const struct model *m, uint32_t customer, uint64_t after,
			      uint32_t limit, uint64_t *ids)
{
	const struct hf_booking **all = model_alloc((size_t)m->n_holds * sizeof *all);
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_holds; i++)
		if (m->holds[i].b.customer == customer && m->holds[i].b.state == HF_HOLD_ACTIVE)
			all[n++] = &m->holds[i].b;
	uint32_t k = model_list(all, n, after, limit, ids);
	free(all);
	return k;
}

uint32_t model_customer_orders(const struct model *m, uint32_t customer, uint64_t after,
			       uint32_t limit, uint64_t *ids)
{
	const struct hf_booking **all = model_alloc((size_t)m->n_orders * sizeof *all);
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_orders; i++)
		if (m->orders[i].b.customer == customer)
			all[n++] = &m->orders[i].b;
	uint32_t k = model_list(all, n, after, limit, ids);
	free(all);
	return k;
}

/* ---- self-check -------------------------------------------------------- */

#define MODEL_FAIL(...)                                     \
	do {                                                \
		snprintf(msg, msg_cap, __VA_ARGS__);        \
		return -1;                                  \
	} while (0)

int model_check(const struct model *m, char *msg, size_t msg_cap)
{
	if (m->n_holds > m->cfg.max_holds)
		MODEL_FAIL("model: %u holds > max %u", m->n_holds, m->cfg.max_holds);
	for (uint32_t s = 0; s < m->n_seats; s++) {
		uint32_t held = 0, sold = 0;
		for (uint32_t i = 0; i < m->n_holds; i++)
			if (m->holds[i].b.state == HF_HOLD_ACTIVE)
				held += model_booking_has_seat(&m->holds[i].b, s);
		for (uint32_t i = 0; i < m->n_orders; i++)
			if (m->orders[i].b.state != HF_ORDER_CANCELED)
				sold += model_booking_has_seat(&m->orders[i].b, s);
		uint8_t st = m->seats[s].state;
		bool ok = held + sold <= 1 && (held == 1) == (st == HF_SEAT_HELD) &&
			  (sold == 1) == (st == HF_SEAT_SOLD);
		if (!ok)
			MODEL_FAIL("model: seat %u state %u but in %u active holds, %u orders", s, st, held, sold);
	}
	for (uint32_t it = 0; it < m->n_items; it++) {
		uint64_t held = 0, sold = 0;
		for (uint32_t i = 0; i < m->n_holds; i++) {
			const struct hf_booking *b = &m->holds[i].b;
			int64_t k = model_booking_item_line(b, it);
			if (b->state == HF_HOLD_ACTIVE && k >= 0)
				held += b->items[k].quantity;
		}
		for (uint32_t i = 0; i < m->n_orders; i++) {
			const struct hf_booking *b = &m->orders[i].b;
			int64_t k = model_booking_item_line(b, it);
			if (b->state != HF_ORDER_CANCELED && k >= 0)
				sold += b->items[k].quantity;
		}
		if (held != m->items[it].held || sold != m->items[it].sold)
			MODEL_FAIL("model: item %u held %u sold %u, lines say %llu %llu", it, m->items[it].held,
				   m->items[it].sold, (unsigned long long)held, (unsigned long long)sold);
	}
	for (uint32_t i = 0; i < m->n_holds; i++)
		for (uint32_t j = i + 1; j < m->n_holds; j++)
			if (m->holds[i].b.id == m->holds[j].b.id)
				MODEL_FAIL("model: hold id %llu twice", (unsigned long long)m->holds[i].b.id);
	for (uint32_t i = 0; i < m->n_orders; i++)
		if (m->orders[i].b.id != (uint64_t)i + 1)
			MODEL_FAIL("model: order %u has id %llu", i, (unsigned long long)m->orders[i].b.id);
	return 0;
}
