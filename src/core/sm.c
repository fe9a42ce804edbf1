/*
 * sm.c: the state machine's life (init, free), the command table and
 * hf_sm_apply, reads, statistics, hf_sm_check and hf_sm_digest.
 *
 * hf_sm_apply is the only way the state changes. Its steps (sm.h, a-e):
 * clock, expiry, idempotency lookup, the command's function from the
 * table below, idempotency store. A command function either refuses
 * (touching nothing but the reply) or applies completely: every check runs
 * before the first write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "core/internal.h"
#include "core/observe.h"

void hf_sm_config_default(struct hf_sm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* Sized for one large venue's on-sale plus a shop; all of it is
	 * allocated lazily (untouched pages cost nothing), the hash tables
	 * (~170 MiB at these values) fill in as they are used. */
	cfg->max_events = 10000;
	cfg->max_seats = 1000000;
	cfg->max_items = 100000;
	cfg->max_customers = 1000000;
	cfg->max_holds = 262144;
	cfg->max_orders = 4000000;
	cfg->max_lines = 8000000;
	cfg->string_bytes = 64u << 20;
	/* Retries come within minutes: 10 minutes of retention for up to 1M
	 * keys (a sustained ~1,600 idempotent writes/s; more is refused with
	 * HF_CAPACITY_FULL rather than forgetting a reply early). */
	cfg->idem_entries = 1000000;
	cfg->idem_bytes = 256u << 20;
	cfg->idem_retention_ms = 10LL * 60 * 1000;
	cfg->shipping_fee = 0;
	cfg->free_shipping_over = 0;
	cfg->hold_lifetime_max_s = 3600;
}

const struct hf_sm_config *hf_sm_config(const struct hf_sm *sm)
{
	return &sm->cfg;
}

void hf_reply_reset(struct hf_reply *r, enum hf_result result)
{
	r->result = (uint8_t)result;
	r->kind = HF_REPLY_NONE;
	r->replayed = false;
	r->index = 0;
	r->n_bad_seats = 0;
	r->bad_item = 0;
	r->available = 0;
	r->current_status = 0;
	r->best = r->together = r->item_short = false;
	r->limit = HF_LIMIT_NONE;
	r->limit_max = r->limit_current = r->limit_requested = r->limit_ref = 0;
	memset(&r->booking, 0, offsetof(struct hf_booking, seats));
	r->booking.n_items = 0;
	r->booking.total = r->booking.total_with_fees = r->booking.fees = 0;
}

/* ---- init / free -------------------------------------------------------- */

static int config_check(const struct hf_sm_config *c, char *err, size_t cap)
{
	const uint32_t big = 1u << 29; /* keeps every map and index in range */
	const char *why = NULL;
	if (!c->max_events || !c->max_seats || !c->max_items || !c->max_customers ||
	    !c->max_holds || !c->max_orders || !c->max_lines || !c->idem_entries)
		why = "every capacity must be at least 1";
	else if (c->max_events > big || c->max_seats > big || c->max_items > big ||
		 c->max_customers > big || c->max_holds > big || c->max_orders > big ||
		 c->max_lines > big || c->idem_entries > big)
		why = "a capacity is above 2^29";
	else if (c->string_bytes < 1024 || c->string_bytes > (1u << 31))
		why = "string_bytes must be in [1 KiB, 2 GiB]";
	else if (c->idem_bytes < 4 * HF_REPLY_BYTES_MAX || c->idem_bytes > (1u << 31))
		why = "idem_bytes must be in [4 replies, 2 GiB]";
	else if (c->idem_retention_ms < 1000 || c->idem_retention_ms > 366LL * 86400 * 1000)
		why = "idem_retention_ms must be in [1 s, 366 days]";
	else if (c->shipping_fee < 0 || c->shipping_fee > HF_PRICE_MAX ||
		 c->free_shipping_over < 0 || c->free_shipping_over > HF_PRICE_MAX)
		why = "shipping_fee and free_shipping_over must be in [0, HF_PRICE_MAX]";
	else if (c->hold_lifetime_max_s < HF_HOLD_TTL_DEFAULT_S ||
		 c->hold_lifetime_max_s > HF_HOLD_LIFETIME_MAX_S)
		why = "hold_lifetime_max_s must be in [HF_HOLD_TTL_DEFAULT_S, HF_HOLD_LIFETIME_MAX_S]";
	if (why)
		snprintf(err, cap, "bad state config: %s", why);
	return why ? -1 : 0;
}

static size_t memory_of(const struct hf_sm_config *c)
{
	size_t n = sizeof(struct hf_sm);
	n += (size_t)c->string_bytes * 3; /* bytes + slots */
	n += (size_t)c->max_events * (sizeof(struct hf_event) + 24);
	n += (size_t)c->max_seats * (sizeof(struct hf_seat) + 8 + 1);
	n += (size_t)c->max_items * (sizeof(struct hf_item) + 24 + 16);
	n += (size_t)c->max_customers * (sizeof(struct hf_customer) + 24);
	n += (size_t)c->max_seats * 24 * 2; /* per_cust_event + check copy */
	n += (size_t)c->max_holds * (sizeof(struct hf_hold) + 8 + 24);
	n += (size_t)c->max_orders * sizeof(struct hf_order);
	n += (size_t)c->max_lines * (sizeof(struct hf_line) + 1);
	n += (size_t)c->idem_entries * (sizeof(struct hf_idem_entry) + 24) + c->idem_bytes;
	/* rows: at most one per seat, trees of at most 4 nodes per seat */
	n += (size_t)c->max_seats * (sizeof(struct hf_row) + 4 * sizeof(struct hf_run) + 16 + 8);
	n += (size_t)(c->max_seats < HF_EVENT_SEATS_MAX ? c->max_seats : HF_EVENT_SEATS_MAX) * 16 +
	     (size_t)c->max_events * sizeof(struct hf_event_rows);
	return n;
}

struct hf_sm *hf_sm_init(const struct hf_sm_config *cfg, char *err, size_t err_cap)
{
	if (config_check(cfg, err, err_cap) < 0)
		return NULL;
	struct hf_sm *sm = calloc(1, sizeof(*sm));
	if (!sm)
		goto oom;
	sm->cfg = *cfg;
	const struct hf_sm_config *c = &sm->cfg;
	int rc = hf_strpool_init(&sm->strings, c->string_bytes);
	rc |= hf_map_init(&sm->event_by_sid, c->max_events);
	rc |= hf_map_init(&sm->item_by_sid, c->max_items);
	rc |= hf_map_init(&sm->customer_by_sid, c->max_customers);
	rc |= hf_map_init(&sm->per_cust_event, c->max_seats);
	rc |= hf_map_init(&sm->check_pce, c->max_seats);
	rc |= hf_map_init(&sm->hold_by_id, c->max_holds);
	rc |= hf_map_init(&sm->idem_by_key, c->idem_entries);
	if (rc)
		goto oom;
	uint32_t seat_slots = 16;
	while (seat_slots < 2ull * c->max_seats)
		seat_slots <<= 1;
	sm->seat_mask = seat_slots - 1;
	sm->seat_slots = hf_mem_table(seat_slots, sizeof(uint32_t));
	sm->events = hf_mem_table(c->max_events, sizeof(struct hf_event));
	sm->seats = hf_mem_table(c->max_seats, sizeof(struct hf_seat));
	sm->items = hf_mem_table(c->max_items, sizeof(struct hf_item));
	sm->customers = hf_mem_table(c->max_customers, sizeof(struct hf_customer));
	sm->holds = hf_mem_table(c->max_holds, sizeof(struct hf_hold));
	sm->ended = hf_mem_table(c->max_holds, sizeof(uint32_t));
	sm->heap = hf_mem_table(c->max_holds, sizeof(uint32_t));
	sm->orders = hf_mem_table(c->max_orders, sizeof(struct hf_order));
	sm->lines = hf_mem_table(c->max_lines, sizeof(struct hf_line));
	sm->idem = hf_mem_table(c->idem_entries, sizeof(struct hf_idem_entry));
	sm->idem_data = hf_mem_table(c->idem_bytes, 1);
	sm->check_item_held = hf_mem_table(c->max_items, sizeof(uint64_t));
	sm->check_item_sold = hf_mem_table(c->max_items, sizeof(uint64_t));
	sm->check_line_mark = hf_mem_table(c->max_lines, 1);
	sm->check_hold_mark = hf_mem_table(c->max_holds, 1);
	sm->check_seat_mark = hf_mem_table(c->max_seats, 1);
	sm->rows = hf_mem_table(c->max_seats, sizeof(struct hf_row));
	sm->event_rows = hf_mem_table(c->max_events, sizeof(struct hf_event_rows));
	sm->row_tree = hf_mem_table((size_t)c->max_seats * 4, sizeof(struct hf_run));
	sm->row_seat = hf_mem_table(c->max_seats, sizeof(uint32_t));
	sm->row_max = hf_mem_table((size_t)c->max_seats * 4, sizeof(uint32_t));
	sm->seat_at = hf_mem_table(c->max_seats, sizeof(uint32_t));
	/* Laying out rows sorts one event's seats: no more than max_seats. */
	uint32_t sort_n = c->max_seats < HF_EVENT_SEATS_MAX ? c->max_seats : HF_EVENT_SEATS_MAX;
	sm->sort_a = hf_mem_table(sort_n, sizeof(uint32_t));
	sm->sort_b = hf_mem_table(sort_n, sizeof(uint32_t));
	sm->sort_c = hf_mem_table(sort_n, sizeof(uint32_t));
	sm->sort_d = hf_mem_table(sort_n, sizeof(uint32_t));
	if (!sm->rows || !sm->event_rows || !sm->row_tree || !sm->row_max || !sm->row_seat || !sm->seat_at ||
	    !sm->sort_a || !sm->sort_b || !sm->sort_c || !sm->sort_d)
		goto oom;
	if (!sm->seat_slots || !sm->events || !sm->seats || !sm->items || !sm->customers ||
	    !sm->holds || !sm->ended || !sm->heap || !sm->orders || !sm->lines || !sm->idem ||
	    !sm->idem_data || !sm->check_item_held || !sm->check_item_sold ||
	    !sm->check_line_mark || !sm->check_hold_mark || !sm->check_seat_mark)
		goto oom;
	sm->holds_free = NIL;
	sm->lines_free = NIL;
	return sm;
oom:
	snprintf(err, err_cap, "out of memory allocating the state (%zu MiB asked)",
		 memory_of(cfg) >> 20);
	hf_sm_free(sm);
	return NULL;
}

void hf_sm_free(struct hf_sm *sm)
{
	if (!sm)
		return;
	hf_strpool_free(&sm->strings);
	hf_map_free(&sm->event_by_sid);
	hf_map_free(&sm->item_by_sid);
	hf_map_free(&sm->customer_by_sid);
	hf_map_free(&sm->per_cust_event);
	hf_map_free(&sm->check_pce);
	hf_map_free(&sm->hold_by_id);
	hf_map_free(&sm->idem_by_key);
	free(sm->seat_slots);
	free(sm->events);
	free(sm->seats);
	free(sm->items);
	free(sm->customers);
	free(sm->holds);
	free(sm->ended);
	free(sm->heap);
	free(sm->orders);
	free(sm->lines);
	free(sm->idem);
	free(sm->idem_data);
	free(sm->check_item_held);
	free(sm->check_item_sold);
	free(sm->check_line_mark);
	free(sm->check_hold_mark);
	free(sm->check_seat_mark);
	free(sm->rows);
	free(sm->event_rows);
	free(sm->row_tree);
	free(sm->row_seat);
	free(sm->row_max);
	free(sm->seat_at);
	free(sm->sort_a);
	free(sm->sort_b);
	free(sm->sort_c);
	free(sm->sort_d);
	free(sm);
}

/* ---- apply -------------------------------------------------------------- */

static void cmd_tick(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	(void)sm;
	(void)cmd;
	hf_reply_reset(r, HF_OK);
}

static void cmd_block(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	hf_catalog_seats_block(sm, cmd, true, r);
}

static void cmd_unblock(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	hf_catalog_seats_block(sm, cmd, false, r);
}

typedef void (*command_fn)(struct hf_sm *, const struct hf_cmd *, struct hf_reply *);

/* The command table: type -> function. A new command is one row here. */
static const command_fn commands[HF_CMD_TYPE_COUNT] = {
	[HF_CMD_TICK] = cmd_tick,
	[HF_CMD_EVENT_CREATE] = hf_catalog_event_create,
	[HF_CMD_SEATS_BLOCK] = cmd_block,
	[HF_CMD_SEATS_UNBLOCK] = cmd_unblock,
	[HF_CMD_ITEM_CREATE] = hf_catalog_item_create,
	[HF_CMD_ITEM_RESTOCK] = hf_catalog_item_restock,
	[HF_CMD_HOLD_CREATE] = hf_hold_create,
	[HF_CMD_HOLD_ADD] = hf_hold_add,
	[HF_CMD_HOLD_REMOVE] = hf_hold_remove,
	[HF_CMD_HOLD_EXTEND] = hf_hold_extend,
	[HF_CMD_HOLD_RELEASE] = hf_hold_release,
	[HF_CMD_HOLD_CONFIRM] = hf_hold_confirm,
	[HF_CMD_ORDER_CREATE] = hf_order_create,
	[HF_CMD_ORDER_CANCEL] = hf_order_cancel,
	[HF_CMD_ORDER_STATUS] = hf_order_status,
};

void hf_sm_apply(struct hf_sm *sm, int64_t now_ms, const struct hf_cmd *cmd, struct hf_reply *r)
{
	if (now_ms > sm->now_ms)
		sm->now_ms = now_ms;
	hf_expiry_run(sm, sm->now_ms);
	hf_idem_expire(sm, sm->now_ms);

	command_fn fn = cmd->type < HF_CMD_TYPE_COUNT ? commands[cmd->type] : NULL;
	bool idem = cmd->idem_key.len > 0;
	if (!fn || (idem && !hf_id_valid(cmd->idem_key)) || cmd->customer.len > HF_ID_LEN_MAX)
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	if (idem) {
		switch (hf_idem_lookup(sm, cmd, r)) {
		case HF_IDEM_REPLAY:
			return;
		case HF_IDEM_REUSED:
			{
		hf_reply_reset(r, HF_IDEMPOTENCY_KEY_REUSED);
		return;
	}
		case HF_IDEM_FULL:
			{
		hf_reply_reset(r, HF_CAPACITY_FULL);
		return;
	}
		case HF_IDEM_NEW:
			break;
		}
	}
	fn(sm, cmd, r);
	if (idem && r->result != HF_CAPACITY_FULL)
		hf_idem_store(sm, cmd, r);
}

/* ---- reads -------------------------------------------------------------- */

int64_t hf_sm_now(const struct hf_sm *sm)
{
	return sm->now_ms;
}

int64_t hf_sm_event_find(const struct hf_sm *sm, struct hf_str id)
{
	uint32_t sid = hf_strpool_find(&sm->strings, id);
	uint32_t e = sid ? hf_map_get(&sm->event_by_sid, hf_sid_key(sid)) : NIL;
	return e == NIL ? -1 : (int64_t)e;
}

int64_t hf_sm_seat_find(const struct hf_sm *sm, uint32_t event, struct hf_str id)
{
	HF_ASSERT(event < sm->n_events);
	return hf_catalog_seat_find(sm, event, hf_strpool_find(&sm->strings, id));
}

int64_t hf_sm_item_find(const struct hf_sm *sm, struct hf_str id)
{
	uint32_t sid = hf_strpool_find(&sm->strings, id);
	uint32_t i = sid ? hf_map_get(&sm->item_by_sid, hf_sid_key(sid)) : NIL;
	return i == NIL ? -1 : (int64_t)i;
}

int64_t hf_sm_customer_find(const struct hf_sm *sm, struct hf_str id)
{
	uint32_t c = hf_customer_lookup(sm, id);
	return c == NIL ? -1 : (int64_t)c;
}

uint32_t hf_sm_event_count(const struct hf_sm *sm)
{
	return sm->n_events;
}

uint32_t hf_sm_item_count(const struct hf_sm *sm)
{
	return sm->n_items;
}

/* The *_info readers are the immutable fields (core/observe.c, *_static:
 * one place, so a new field cannot reach one reader and not the other)
 * plus the state that changes. */
void hf_sm_event_info(const struct hf_sm *sm, uint32_t event, struct hf_event_info *out)
{
	hf_sm_event_static(sm, event, out);
	memcpy(out->count, sm->events[event].count, sizeof(out->count));
}

void hf_sm_seat_info(const struct hf_sm *sm, uint32_t seat, struct hf_seat_info *out)
{
	hf_sm_seat_static(sm, seat, out);
	out->state = sm->seats[seat].state;
}

void hf_sm_item_info(const struct hf_sm *sm, uint32_t item, struct hf_item_info *out)
{
	hf_sm_item_static(sm, item, out);
	const struct hf_item *it = &sm->items[item];
	out->available = it->available;
	out->held = it->held;
	out->sold = it->sold;
}

struct hf_str hf_sm_event_id(const struct hf_sm *sm, uint32_t event)
{
	return hf_strpool_get(&sm->strings, sm->events[event].id);
}

struct hf_str hf_sm_seat_id(const struct hf_sm *sm, uint32_t seat, uint32_t *event)
{
	if (event)
		*event = hf_catalog_seat_event(sm, seat);
	return hf_strpool_get(&sm->strings, sm->seats[seat].id);
}

struct hf_str hf_sm_item_id(const struct hf_sm *sm, uint32_t item)
{
	return hf_strpool_get(&sm->strings, sm->items[item].id);
}

struct hf_str hf_sm_customer_name(const struct hf_sm *sm, uint32_t customer)
{
	return hf_strpool_get(&sm->strings, sm->customers[customer].name);
}

enum hf_result hf_sm_hold_view(const struct hf_sm *sm, uint64_t id, struct hf_booking *out)
{
	uint32_t slot = id ? hf_map_get(&sm->hold_by_id, id) : NIL;
	if (slot == NIL)
		return HF_UNKNOWN_HOLD;
	hf_hold_view(sm, slot, out);
	return HF_OK;
}

enum hf_result hf_sm_order_view(const struct hf_sm *sm, uint64_t id, struct hf_booking *out)
{
	if (id == 0 || id > sm->n_orders)
		return HF_UNKNOWN_ORDER;
	hf_order_view(sm, (uint32_t)(id - 1), out);
	return HF_OK;
}

uint32_t hf_sm_customer_holds(const struct hf_sm *sm, uint32_t customer, uint64_t after,
			      uint32_t limit, uint64_t *ids)
{
	HF_ASSERT(customer < sm->n_customers);
	uint32_t n = 0;
	for (uint32_t s = sm->customers[customer].hold_head; s != NIL && n < limit;
	     s = sm->holds[s].cust_next)
		if (after == 0 || sm->holds[s].id < after)
			ids[n++] = sm->holds[s].id;
	return n;
}

uint32_t hf_sm_customer_orders(const struct hf_sm *sm, uint32_t customer, uint64_t after,
			       uint32_t limit, uint64_t *ids)
{
	HF_ASSERT(customer < sm->n_customers);
	uint32_t n = 0;
	for (uint32_t o = sm->customers[customer].order_head; o != NIL && n < limit;
	     o = sm->orders[o].cust_next)
		if (after == 0 || (uint64_t)o + 1 < after)
			ids[n++] = (uint64_t)o + 1;
	return n;
}

void hf_sm_stats(const struct hf_sm *sm, struct hf_sm_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->events = sm->n_events;
	out->seats = sm->n_seats;
	out->items = sm->n_items;
	out->customers = sm->n_customers;
	out->holds_active = sm->holds_active;
	out->holds_kept = sm->ended_count;
	out->orders = sm->n_orders;
	out->lines_used = sm->lines_used;
	out->string_bytes_used = sm->strings.used;
	out->idem_entries = sm->idem_count;
	for (uint32_t e = 0; e < sm->n_events; e++)
		for (int s = 0; s < 4; s++)
			out->seats_by_state[s] += sm->events[e].count[s];
	for (uint32_t i = 0; i < sm->n_items; i++) {
		out->items_available += sm->items[i].available;
		out->items_held += sm->items[i].held;
		out->items_sold += sm->items[i].sold;
	}
	out->holds_expired_total = sm->holds_expired_total;
	out->memory_bytes = memory_of(&sm->cfg);
}
