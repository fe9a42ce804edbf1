/*
 * hold.c: holds (reservations; also the cart) and the lines they own.
 *
 * States and the one function for each transition:
 *
 *                 hf_hold_create
 *                       |
 *                       v            hf_hold_confirm
 *   add/remove/   +-----------+  ----------------------> CONFIRMED (an order
 *   extend  ----> |  ACTIVE   |                            holds its lines)
 *                 +-----------+  -- hf_hold_release ---> RELEASED
 *                       |
 *                       +--- hf_expiry_run (now >= expires_at) --> EXPIRED
 *
 * Every ending goes through hf_hold_end (release, expire) or
 * hf_hold_confirm, which take the hold out of the expiry heap and its
 * customer's active list and queue its slot in the `ended` FIFO. An ended
 * hold stays readable (with the lines it had; a confirmed one shows its
 * order's) until its slot is recycled for a new hold.
 *
 * Also here: the line pool, and resolving the lines of a command (shared
 * with buy-now orders in order.c).
 */
#include <string.h>

#include "core/internal.h"

/* ---- lines ------------------------------------------------------------- */

static uint32_t hold_recycle_oldest(struct hf_sm *sm);

uint64_t hf_lines_available(const struct hf_sm *sm)
{
	return (uint64_t)sm->cfg.max_lines - sm->lines_used + sm->lines_in_ended;
}

uint32_t hf_line_alloc(struct hf_sm *sm)
{
	if (sm->lines_free == NIL && sm->lines_hwm == sm->cfg.max_lines) {
		/* Callers checked hf_lines_available: ended holds give lines back. */
		while (sm->lines_free == NIL) {
			uint32_t slot = hold_recycle_oldest(sm);
			sm->holds[slot].cust_next = sm->holds_free;
			sm->holds_free = slot;
		}
	}
	uint32_t l;
	if (sm->lines_free != NIL) {
		l = sm->lines_free;
		sm->lines_free = sm->lines[l].next;
	} else {
		l = sm->lines_hwm++;
	}
	sm->lines_used++;
	memset(&sm->lines[l], 0, sizeof(sm->lines[l]));
	sm->lines[l].next = NIL;
	return l;
}

void hf_list_append(struct hf_sm *sm, struct hf_list *list, uint32_t line)
{
	if (list->tail == NIL)
		list->head = line;
	else
		sm->lines[list->tail].next = line;
	list->tail = line;
	list->n++;
}

static void list_unlink(struct hf_sm *sm, struct hf_list *list, uint32_t prev, uint32_t line)
{
	uint32_t next = sm->lines[line].next;
	if (prev == NIL)
		list->head = next;
	else
		sm->lines[prev].next = next;
	if (list->tail == line)
		list->tail = prev;
	list->n--;
	sm->lines[line].next = sm->lines_free;
	sm->lines_free = line;
	sm->lines_used--;
}

void hf_list_free(struct hf_sm *sm, struct hf_list *list)
{
	while (list->head != NIL)
		list_unlink(sm, list, NIL, list->head);
}

static const struct hf_list list_empty = {NIL, NIL, 0};

/* ---- customers ---------------------------------------------------------- */

uint32_t hf_customer_lookup(const struct hf_sm *sm, struct hf_str name)
{
	uint32_t sid = hf_strpool_find(&sm->strings, name);
	return sid ? hf_map_get(&sm->customer_by_sid, hf_sid_key(sid)) : NIL;
}

uint32_t hf_customer_get_or_add(struct hf_sm *sm, struct hf_str name)
{
	uint32_t c = hf_customer_lookup(sm, name);
	if (c != NIL)
		return c;
	HF_ASSERT(sm->n_customers < sm->cfg.max_customers);
	c = sm->n_customers++;
	struct hf_customer *cu = &sm->customers[c];
	cu->name = hf_strpool_intern(&sm->strings, name);
	cu->active_holds = 0;
	cu->hold_head = NIL;
	cu->order_head = NIL;
	hf_map_put(&sm->customer_by_sid, hf_sid_key(cu->name), c);
	return c;
}

/* Room for the customer named by cmd, if it is new. */
static bool customer_room(const struct hf_sm *sm, struct hf_str name)
{
	if (hf_customer_lookup(sm, name) != NIL)
		return true;
	return sm->n_customers < sm->cfg.max_customers &&
	       hf_strpool_room(&sm->strings, hf_strpool_cost(name), 1);
}

bool hf_customer_ok(const struct hf_cmd *cmd, bool admin_may_omit)
{
	if (cmd->customer.len == 0)
		return cmd->admin && admin_may_omit;
	return hf_id_valid(cmd->customer);
}

void hf_pce_add(struct hf_sm *sm, uint32_t customer, uint32_t event, int delta)
{
	uint64_t key = hf_pce_key(customer, event);
	uint32_t *v = hf_map_ref(&sm->per_cust_event, key);
	if (!v) {
		HF_ASSERT(delta > 0);
		hf_map_put(&sm->per_cust_event, key, (uint32_t)delta);
		return;
	}
	HF_ASSERT(delta > 0 || *v >= (uint32_t)-delta);
	*v += (uint32_t)delta;
	if (*v == 0)
		hf_map_del(&sm->per_cust_event, key);
}

static uint32_t pce_get(const struct hf_sm *sm, uint32_t customer, uint32_t event)
{
	if (customer == NIL)
		return 0;
	uint32_t v = hf_map_get(&sm->per_cust_event, hf_pce_key(customer, event));
	return v == NIL ? 0 : v;
}

static void cust_hold_link(struct hf_sm *sm, uint32_t slot)
{
	struct hf_hold *h = &sm->holds[slot];
	struct hf_customer *cu = &sm->customers[h->customer];
	h->cust_prev = NIL;
	h->cust_next = cu->hold_head;
	if (cu->hold_head != NIL)
		sm->holds[cu->hold_head].cust_prev = slot;
	cu->hold_head = slot;
	cu->active_holds++;
}

static void cust_hold_unlink(struct hf_sm *sm, uint32_t slot)
{
	struct hf_hold *h = &sm->holds[slot];
	struct hf_customer *cu = &sm->customers[h->customer];
	if (h->cust_prev == NIL)
		cu->hold_head = h->cust_next;
	else
		sm->holds[h->cust_prev].cust_next = h->cust_next;
	if (h->cust_next != NIL)
		sm->holds[h->cust_next].cust_prev = h->cust_prev;
	h->cust_prev = h->cust_next = NIL;
	HF_ASSERT(cu->active_holds > 0);
	cu->active_holds--;
}

/* ---- slots -------------------------------------------------------------- */

bool hf_hold_slot_available(const struct hf_sm *sm)
{
	return sm->holds_free != NIL || sm->holds_used < sm->cfg.max_holds || sm->ended_count > 0;
}

/* Drops the hold that ended longest ago; its id becomes unknown. */
static uint32_t hold_recycle_oldest(struct hf_sm *sm)
{
	HF_ASSERT(sm->ended_count > 0);
	uint32_t slot = sm->ended[sm->ended_head];
	sm->ended_head = (sm->ended_head + 1) % sm->cfg.max_holds;
	sm->ended_count--;
	struct hf_hold *h = &sm->holds[slot];
	HF_ASSERT(h->state != HF_HOLD_ACTIVE && h->state != HOLD_SLOT_UNUSED);
	HF_ASSERT(sm->lines_in_ended >= h->seats.n + h->items.n);
	sm->lines_in_ended -= h->seats.n + h->items.n;
	hf_list_free(sm, &h->seats);
	hf_list_free(sm, &h->items);
	hf_map_del(&sm->hold_by_id, h->id);
	h->state = HOLD_SLOT_UNUSED;
	return slot;
}

static uint32_t hold_take_slot(struct hf_sm *sm)
{
	if (sm->holds_free != NIL) {
		uint32_t slot = sm->holds_free;
		sm->holds_free = sm->holds[slot].cust_next;
		return slot;
	}
	if (sm->holds_used < sm->cfg.max_holds)
		return sm->holds_used++;
	return hold_recycle_oldest(sm);
}

static void hold_ended_push(struct hf_sm *sm, uint32_t slot)
{
	HF_ASSERT(sm->ended_count < sm->cfg.max_holds);
	sm->ended[(sm->ended_head + sm->ended_count) % sm->cfg.max_holds] = slot;
	sm->ended_count++;
}

/* The bookkeeping every ending shares. */
static void hold_leave_active(struct hf_sm *sm, uint32_t slot, uint8_t state)
{
	hf_expiry_remove(sm, slot);
	cust_hold_unlink(sm, slot);
	HF_ASSERT(sm->holds_active > 0);
	sm->holds_active--;
	sm->holds[slot].state = state;
	hold_ended_push(sm, slot);
}

void hf_hold_end(struct hf_sm *sm, uint32_t slot, uint8_t state)
{
	struct hf_hold *h = &sm->holds[slot];
	HF_ASSERT(h->state == HF_HOLD_ACTIVE);
	HF_ASSERT(state == HF_HOLD_RELEASED || state == HF_HOLD_EXPIRED_STATE);
	for (uint32_t l = h->seats.head; l != NIL; l = sm->lines[l].next) {
		uint32_t seat = sm->lines[l].ref;
		HF_ASSERT(sm->seats[seat].state == HF_SEAT_HELD && sm->seats[seat].owner == slot);
		hf_catalog_seat_set(sm, seat, HF_SEAT_FREE, NIL);
		hf_pce_add(sm, h->customer, hf_catalog_seat_event(sm, seat), -1);
	}
	for (uint32_t l = h->items.head; l != NIL; l = sm->lines[l].next) {
		struct hf_item *it = &sm->items[sm->lines[l].ref];
		HF_ASSERT(it->held >= sm->lines[l].quantity);
		it->held -= sm->lines[l].quantity;
		it->available += sm->lines[l].quantity;
	}
	sm->lines_in_ended += h->seats.n + h->items.n;
	hold_leave_active(sm, slot, state);
}

/* ---- views -------------------------------------------------------------- */

void hf_booking_totals(const struct hf_sm *sm, struct hf_booking *b)
{
	int64_t total = 0;
	for (uint32_t i = 0; i < b->n_seats; i++)
		total += b->seats[i].price;
	for (uint32_t i = 0; i < b->n_items; i++)
		total += (int64_t)b->items[i].quantity * b->items[i].price;
	b->total = total;
	bool free_shipping = sm->cfg.free_shipping_over > 0 && total >= sm->cfg.free_shipping_over;
	b->fees = b->n_items > 0 && !free_shipping ? sm->cfg.shipping_fee : 0;
	b->total_with_fees = total + b->fees;
}

static void view_lines(const struct hf_sm *sm, const struct hf_list *seats,
		       const struct hf_list *items, struct hf_booking *out)
{
	out->n_seats = 0;
	for (uint32_t l = seats->head; l != NIL; l = sm->lines[l].next) {
		HF_ASSERT(out->n_seats < HF_HOLD_SEATS_MAX);
		out->seats[out->n_seats].seat = sm->lines[l].ref;
		out->seats[out->n_seats].price = sm->lines[l].price;
		out->n_seats++;
	}
	out->n_items = 0;
	for (uint32_t l = items->head; l != NIL; l = sm->lines[l].next) {
		HF_ASSERT(out->n_items < HF_HOLD_ITEMS_MAX);
		struct hf_view_item *v = &out->items[out->n_items++];
		v->item = sm->lines[l].ref;
		v->quantity = sm->lines[l].quantity;
		v->requested = sm->lines[l].requested;
		v->available = sm->items[v->item].available;
		v->price = sm->lines[l].price;
	}
	hf_booking_totals(sm, out);
}

void hf_hold_view(const struct hf_sm *sm, uint32_t slot, struct hf_booking *out)
{
	const struct hf_hold *h = &sm->holds[slot];
	out->id = h->id;
	out->customer = h->customer;
	out->state = h->state;
	out->created_at_ms = h->created_at_ms;
	out->expires_at_ms = h->expires_at_ms;
	out->order = h->order;
	if (h->state == HF_HOLD_CONFIRMED) {
		const struct hf_order *o = &sm->orders[h->order - 1];
		view_lines(sm, &o->seats, &o->items, out);
	} else {
		view_lines(sm, &h->seats, &h->items, out);
	}
}

void hf_order_view(const struct hf_sm *sm, uint32_t order, struct hf_booking *out)
{
	const struct hf_order *o = &sm->orders[order];
	out->id = (uint64_t)order + 1;
	out->customer = o->customer;
	out->state = o->status;
	out->created_at_ms = o->created_at_ms;
	out->expires_at_ms = 0;
	out->order = 0;
	view_lines(sm, &o->seats, &o->items, out);
}

static void reply_hold(const struct hf_sm *sm, uint32_t slot, struct hf_reply *r)
{
	hf_reply_reset(r, HF_OK);
	r->kind = HF_REPLY_HOLD;
	hf_hold_view(sm, slot, &r->booking);
}

/* ---- resolving lines ----------------------------------------------------- */

static enum hf_result refuse(struct hf_reply *r, enum hf_result result)
{
	hf_reply_reset(r, result);
	return result;
}

static void note_bad_seat(struct hf_reply *r, uint32_t v)
{
	if (r->n_bad_seats < HF_HOLD_SEATS_MAX)
		r->bad_seats[r->n_bad_seats++] = v;
}

/* UNKNOWN_HOLD, NOT_OWNER, HOLD_EXPIRED, HOLD_NOT_ACTIVE. */
static enum hf_result hold_check(const struct hf_sm *sm, const struct hf_cmd *cmd, uint64_t id,
				 uint32_t *slot /* out */, struct hf_reply *r)
{
	uint32_t s = id ? hf_map_get(&sm->hold_by_id, id) : NIL;
	if (s == NIL)
		return refuse(r, HF_UNKNOWN_HOLD);
	const struct hf_hold *h = &sm->holds[s];
	if (!cmd->admin &&
	    !hf_str_eq(cmd->customer, hf_strpool_get(&sm->strings, sm->customers[h->customer].name)))
		return refuse(r, HF_NOT_OWNER);
	if (h->state == HF_HOLD_EXPIRED_STATE)
		return refuse(r, HF_HOLD_EXPIRED);
	if (h->state != HF_HOLD_ACTIVE)
		return refuse(r, HF_HOLD_NOT_ACTIVE);
	*slot = s;
	return HF_OK;
}

enum hf_result hf_lines_resolve(struct hf_sm *sm, const struct hf_cmd *cmd, bool with_hold,
				uint32_t *slot, struct hf_resolved *res, struct hf_reply *r)
{
	const struct hf_lines *c = &cmd->u.lines;
	const struct hf_best *best = &c->best;
	if (c->n_seats > HF_HOLD_SEATS_MAX || c->n_items > HF_HOLD_ITEMS_MAX ||
	    (uint64_t)c->n_seats + best->count > HF_HOLD_SEATS_MAX)
		return refuse(r, HF_TOO_MANY_LINES);
	bool may_choose = cmd->type == HF_CMD_HOLD_CREATE || cmd->type == HF_CMD_ORDER_CREATE;
	bool ok = hf_customer_ok(cmd, with_hold) && c->n_seats + c->n_items + best->count > 0;
	if (cmd->type == HF_CMD_HOLD_CREATE && c->ttl_s > sm->cfg.hold_lifetime_max_s)
		ok = false;
	if (best->count == 0)
		ok = ok && best->event.len == 0 && best->section.len == 0 && best->category.len == 0;
	else
		ok = ok && may_choose && hf_id_valid(best->event) &&
		     hf_text_valid(best->section, HF_NAME_LEN_MAX) &&
		     hf_text_valid(best->category, HF_NAME_LEN_MAX);
	for (uint32_t i = 0; ok && i < c->n_seats; i++) {
		ok = hf_id_valid(c->seats[i].event) && hf_id_valid(c->seats[i].seat);
		for (uint32_t k = 0; ok && k < i; k++)
			ok = !(hf_str_eq(c->seats[i].event, c->seats[k].event) &&
			       hf_str_eq(c->seats[i].seat, c->seats[k].seat));
	}
	for (uint32_t j = 0; ok && j < c->n_items; j++)
		ok = hf_id_valid(c->items[j].item) && c->items[j].quantity >= 1 &&
		     c->items[j].quantity <= HF_QUANTITY_MAX;
	if (!ok)
		return refuse(r, HF_BAD_REQUEST);
	if (with_hold) {
		enum hf_result rc = hold_check(sm, cmd, c->hold, slot, r);
		if (rc != HF_OK)
			return rc;
	}
	res->n_seats = c->n_seats;
	for (uint32_t i = 0; i < c->n_seats; i++) {
		uint32_t sid = hf_strpool_find(&sm->strings, c->seats[i].event);
		uint32_t e = sid ? hf_map_get(&sm->event_by_sid, hf_sid_key(sid)) : NIL;
		if (e == NIL) {
			refuse(r, HF_UNKNOWN_EVENT);
			note_bad_seat(r, i);
			return HF_UNKNOWN_EVENT;
		}
		res->seat_event[i] = e;
	}
	res->best_event = NIL;
	if (best->count) {
		uint32_t sid = hf_strpool_find(&sm->strings, best->event);
		uint32_t e = sid ? hf_map_get(&sm->event_by_sid, hf_sid_key(sid)) : NIL;
		if (e == NIL) {
			refuse(r, HF_UNKNOWN_EVENT);
			note_bad_seat(r, c->n_seats);
			return HF_UNKNOWN_EVENT;
		}
		res->best_event = e;
	}
	hf_reply_reset(r, HF_OK);
	for (uint32_t i = 0; i < c->n_seats; i++) {
		int64_t s = hf_catalog_seat_find(sm, res->seat_event[i],
						 hf_strpool_find(&sm->strings, c->seats[i].seat));
		if (s < 0)
			note_bad_seat(r, i);
		else
			res->seat[i] = (uint32_t)s;
	}
	if (r->n_bad_seats) {
		r->result = HF_UNKNOWN_SEAT;
		return HF_UNKNOWN_SEAT;
	}
	res->n_items = 0;
	for (uint32_t j = 0; j < c->n_items; j++) {
		uint32_t sid = hf_strpool_find(&sm->strings, c->items[j].item);
		uint32_t it = sid ? hf_map_get(&sm->item_by_sid, hf_sid_key(sid)) : NIL;
		if (it == NIL) {
			refuse(r, HF_UNKNOWN_ITEM);
			r->bad_item = j;
			return HF_UNKNOWN_ITEM;
		}
		uint32_t m = 0;
		while (m < res->n_items && res->item[m] != it)
			m++;
		if (m == res->n_items) {
			res->item[m] = it;
			res->quantity[m] = 0;
			res->partial[m] = true;
			res->n_items++;
		}
		res->quantity[m] += c->items[j].quantity;
		res->partial[m] = res->partial[m] && c->items[j].partial;
	}
	for (uint32_t m = 0; m < res->n_items; m++)
		if (res->quantity[m] > HF_QUANTITY_MAX)
			return refuse(r, HF_BAD_REQUEST);
	return HF_OK;
}

static bool sale_open(const struct hf_sm *sm, uint32_t e)
{
	const struct hf_event *ev = &sm->events[e];
	return ev->sale_opens_at_ms <= sm->now_ms &&
	       (ev->sale_closes_at_ms == 0 || sm->now_ms < ev->sale_closes_at_ms);
}

static enum hf_result refuse_limit(struct hf_reply *r, uint8_t kind, uint32_t max, uint32_t current,
				   uint32_t requested, uint32_t ref)
{
	refuse(r, HF_LIMIT_EXCEEDED);
	r->limit = kind;
	r->limit_max = max;
	r->limit_current = current;
	r->limit_requested = requested;
	r->limit_ref = ref;
	return HF_LIMIT_EXCEEDED;
}

enum hf_result hf_lines_take_check(struct hf_sm *sm, const struct hf_cmd *cmd, uint32_t customer,
				   bool count_holds, uint32_t hold_slot, struct hf_resolved *res,
				   struct hf_reply *r)
{
	const struct hf_best *best = &cmd->u.lines.best;
	for (uint32_t i = 0; i < res->n_seats; i++) {
		const struct hf_seat *s = &sm->seats[res->seat[i]];
		res->new_seat[i] = !(hold_slot != NIL && s->state == HF_SEAT_HELD && s->owner == hold_slot);
	}
	for (uint32_t i = 0; i < res->n_seats; i++)
		if (!sale_open(sm, res->seat_event[i]))
			return refuse(r, HF_SALE_CLOSED);
	if (best->count && !sale_open(sm, res->best_event))
		return refuse(r, HF_SALE_CLOSED);
	if (count_holds && customer != NIL &&
	    sm->customers[customer].active_holds >= HF_CUSTOMER_HOLDS_MAX)
		return refuse_limit(r, HF_LIMIT_HOLDS_PER_CUSTOMER, HF_CUSTOMER_HOLDS_MAX,
				    sm->customers[customer].active_holds, 1, 0);
	/* Per event, in the order of the event's first new seat (the chosen
	 * seats come after the named ones). */
	for (uint32_t i = 0; i <= res->n_seats; i++) {
		uint32_t e = i < res->n_seats ? res->seat_event[i] : res->best_event;
		if (i == res->n_seats ? best->count == 0 : !res->new_seat[i])
			continue;
		uint32_t max = sm->events[e].max_per_customer;
		if (max == 0)
			continue;
		bool first = true;
		for (uint32_t k = 0; first && k < i; k++)
			first = !(res->new_seat[k] && res->seat_event[k] == e);
		if (!first)
			continue;
		uint64_t asked = best->count && res->best_event == e ? best->count : 0;
		for (uint32_t k = i; k < res->n_seats; k++)
			asked += res->new_seat[k] && res->seat_event[k] == e;
		uint32_t have = pce_get(sm, customer, e);
		if (have + asked > max)
			return refuse_limit(r, HF_LIMIT_SEATS_PER_CUSTOMER, max, have, (uint32_t)asked, e);
	}
	hf_reply_reset(r, HF_OK);
	for (uint32_t i = 0; i < res->n_seats; i++) {
		uint8_t st = sm->seats[res->seat[i]].state;
		if (res->new_seat[i] && (st == HF_SEAT_HELD || st == HF_SEAT_SOLD))
			note_bad_seat(r, res->seat[i]);
	}
	if (r->n_bad_seats)
		return r->result = HF_SEATS_UNAVAILABLE;
	for (uint32_t i = 0; i < res->n_seats; i++)
		if (res->new_seat[i] && sm->seats[res->seat[i]].state == HF_SEAT_BLOCKED)
			note_bad_seat(r, res->seat[i]);
	if (r->n_bad_seats)
		return r->result = HF_SEATS_BLOCKED;
	res->chosen = false;
	res->together = false;
	if (best->count) {
		if (hf_rows_choose(sm, res->best_event, best, res, &res->together, r) != HF_OK)
			return HF_SEATS_UNAVAILABLE;
		res->chosen = true;
	}
	if (hf_rows_orphan_check(sm, res, r) != HF_OK)
		return HF_ORPHAN_SEAT;
	hf_reply_reset(r, HF_OK);
	for (uint32_t m = 0; m < res->n_items; m++) {
		uint32_t avail = sm->items[res->item[m]].available;
		uint32_t q = res->quantity[m];
		res->take[m] = q <= avail ? q : res->partial[m] ? avail : 0;
		if (res->take[m] == 0) {
			refuse(r, HF_INSUFFICIENT_STOCK);
			r->bad_item = res->item[m];
			r->available = avail;
			return HF_INSUFFICIENT_STOCK;
		}
	}
	return HF_OK;
}

/* ---- commands ------------------------------------------------------------ */

static uint32_t seat_line(struct hf_sm *sm, uint32_t seat)
{
	uint32_t l = hf_line_alloc(sm);
	sm->lines[l].ref = seat;
	sm->lines[l].quantity = 1;
	sm->lines[l].requested = 1;
	sm->lines[l].price = sm->seats[seat].price;
	return l;
}

static uint32_t item_line(struct hf_sm *sm, uint32_t item, uint32_t take, uint32_t requested)
{
	uint32_t l = hf_line_alloc(sm);
	sm->lines[l].ref = item;
	sm->lines[l].quantity = take;
	sm->lines[l].requested = requested;
	sm->lines[l].price = sm->items[item].price;
	return l;
}

void hf_hold_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_lines *c = &cmd->u.lines;
	struct hf_resolved res;
	if (hf_lines_resolve(sm, cmd, false, NULL, &res, r) != HF_OK)
		return;
	uint32_t cust = hf_customer_lookup(sm, cmd->customer);
	if (!customer_room(sm, cmd->customer) || !hf_hold_slot_available(sm) ||
	    hf_lines_available(sm) < (uint64_t)res.n_seats + c->best.count + res.n_items)
		return (void)refuse(r, HF_CAPACITY_FULL);
	if (hf_lines_take_check(sm, cmd, cust, true, NIL, &res, r) != HF_OK)
		return;

	uint32_t ttl_s = c->ttl_s;
	if (ttl_s == 0) {
		ttl_s = HF_HOLD_TTL_DEFAULT_S;
		for (uint32_t i = 0; i < res.n_seats; i++) {
			uint32_t t = sm->events[res.seat_event[i]].hold_ttl_s;
			if (i == 0 || t < ttl_s)
				ttl_s = t;
		}
	}
	cust = hf_customer_get_or_add(sm, cmd->customer);
	uint32_t slot = hold_take_slot(sm);
	struct hf_hold *h = &sm->holds[slot];
	memset(h, 0, sizeof(*h));
	h->id = ++sm->next_hold_id;
	h->customer = cust;
	h->state = HF_HOLD_ACTIVE;
	h->created_at_ms = sm->now_ms;
	h->expires_at_ms = sm->now_ms + (int64_t)ttl_s * 1000;
	h->seats = list_empty;
	h->items = list_empty;
	hf_map_put(&sm->hold_by_id, h->id, slot);
	for (uint32_t i = 0; i < res.n_seats; i++) {
		hf_catalog_seat_set(sm, res.seat[i], HF_SEAT_HELD, slot);
		hf_list_append(sm, &h->seats, seat_line(sm, res.seat[i]));
		hf_pce_add(sm, cust, res.seat_event[i], 1);
	}
	for (uint32_t m = 0; m < res.n_items; m++) {
		struct hf_item *it = &sm->items[res.item[m]];
		it->available -= res.take[m];
		it->held += res.take[m];
		hf_list_append(sm, &h->items, item_line(sm, res.item[m], res.take[m], res.quantity[m]));
	}
	hf_expiry_push(sm, slot);
	cust_hold_link(sm, slot);
	sm->holds_active++;
	reply_hold(sm, slot, r);
	r->best = res.chosen;
	r->together = res.together;
}

void hf_hold_add(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	struct hf_resolved res;
	uint32_t slot = NIL;
	if (hf_lines_resolve(sm, cmd, true, &slot, &res, r) != HF_OK)
		return;
	struct hf_hold *h = &sm->holds[slot];
	uint32_t new_seats = 0, new_items = 0;
	for (uint32_t i = 0; i < res.n_seats; i++) {
		const struct hf_seat *s = &sm->seats[res.seat[i]];
		new_seats += !(s->state == HF_SEAT_HELD && s->owner == slot);
	}
	uint32_t line_of[HF_HOLD_ITEMS_MAX];
	bool too_much = false;
	for (uint32_t m = 0; m < res.n_items; m++) {
		line_of[m] = NIL;
		for (uint32_t l = h->items.head; l != NIL; l = sm->lines[l].next)
			if (sm->lines[l].ref == res.item[m])
				line_of[m] = l;
		new_items += line_of[m] == NIL;
		if (line_of[m] != NIL &&
		    (uint64_t)sm->lines[line_of[m]].requested + res.quantity[m] > HF_QUANTITY_MAX)
			too_much = true;
	}
	if (h->seats.n + new_seats > HF_HOLD_SEATS_MAX || h->items.n + new_items > HF_HOLD_ITEMS_MAX ||
	    too_much)
		return (void)refuse(r, HF_TOO_MANY_LINES);
	if (hf_lines_available(sm) < (uint64_t)new_seats + new_items)
		return (void)refuse(r, HF_CAPACITY_FULL);
	if (hf_lines_take_check(sm, cmd, h->customer, false, slot, &res, r) != HF_OK)
		return;
	for (uint32_t i = 0; i < res.n_seats; i++) {
		if (!res.new_seat[i])
			continue;
		hf_catalog_seat_set(sm, res.seat[i], HF_SEAT_HELD, slot);
		hf_list_append(sm, &h->seats, seat_line(sm, res.seat[i]));
		hf_pce_add(sm, h->customer, res.seat_event[i], 1);
	}
	for (uint32_t m = 0; m < res.n_items; m++) {
		struct hf_item *it = &sm->items[res.item[m]];
		it->available -= res.take[m];
		it->held += res.take[m];
		if (line_of[m] != NIL) {
			sm->lines[line_of[m]].quantity += res.take[m];
			sm->lines[line_of[m]].requested += res.quantity[m];
		} else {
			hf_list_append(sm, &h->items,
				       item_line(sm, res.item[m], res.take[m], res.quantity[m]));
		}
	}
	reply_hold(sm, slot, r);
}

void hf_hold_remove(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	struct hf_resolved res;
	uint32_t slot = NIL;
	if (hf_lines_resolve(sm, cmd, true, &slot, &res, r) != HF_OK)
		return;
	struct hf_hold *h = &sm->holds[slot];
	for (uint32_t i = 0; i < res.n_seats; i++) {
		uint32_t prev = NIL, l = h->seats.head;
		while (l != NIL && sm->lines[l].ref != res.seat[i]) {
			prev = l;
			l = sm->lines[l].next;
		}
		if (l == NIL)
			continue;
		list_unlink(sm, &h->seats, prev, l);
		hf_catalog_seat_set(sm, res.seat[i], HF_SEAT_FREE, NIL);
		hf_pce_add(sm, h->customer, res.seat_event[i], -1);
	}
	for (uint32_t m = 0; m < res.n_items; m++) {
		uint32_t prev = NIL, l = h->items.head;
		while (l != NIL && sm->lines[l].ref != res.item[m]) {
			prev = l;
			l = sm->lines[l].next;
		}
		if (l == NIL)
			continue;
		struct hf_line *line = &sm->lines[l];
		uint32_t q = res.quantity[m] < line->quantity ? res.quantity[m] : line->quantity;
		struct hf_item *it = &sm->items[res.item[m]];
		it->held -= q;
		it->available += q;
		line->quantity -= q;
		line->requested -= q;
		if (line->quantity == 0)
			list_unlink(sm, &h->items, prev, l);
	}
	reply_hold(sm, slot, r);
}

void hf_hold_extend(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_hold_op *c = &cmd->u.hold_op;
	if (!hf_customer_ok(cmd, true) || c->ttl_s == 0 || c->ttl_s > sm->cfg.hold_lifetime_max_s)
		return (void)refuse(r, HF_BAD_REQUEST);
	uint32_t slot;
	if (hold_check(sm, cmd, c->hold, &slot, r) != HF_OK)
		return;
	struct hf_hold *h = &sm->holds[slot];
	int64_t want = sm->now_ms + (int64_t)c->ttl_s * 1000;
	int64_t cap = h->created_at_ms + (int64_t)sm->cfg.hold_lifetime_max_s * 1000;
	if (want > cap)
		want = cap;
	if (want > h->expires_at_ms) {
		h->expires_at_ms = want;
		hf_expiry_update(sm, slot);
	}
	reply_hold(sm, slot, r);
}

void hf_hold_release(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	if (!hf_customer_ok(cmd, true))
		return (void)refuse(r, HF_BAD_REQUEST);
	uint32_t slot;
	if (hold_check(sm, cmd, cmd->u.hold_op.hold, &slot, r) != HF_OK)
		return;
	hf_hold_end(sm, slot, HF_HOLD_RELEASED);
	reply_hold(sm, slot, r);
}

/* A late confirm of an expired hold: every seat still FREE, every item
 * line's quantity still available; else HF_HOLD_EXPIRED naming the seats
 * taken since (in line order) and the first item short (item_short). */
static enum hf_result late_check(struct hf_sm *sm, const struct hf_hold *h, struct hf_reply *r)
{
	hf_reply_reset(r, HF_OK);
	for (uint32_t l = h->seats.head; l != NIL; l = sm->lines[l].next)
		if (sm->seats[sm->lines[l].ref].state != HF_SEAT_FREE)
			note_bad_seat(r, sm->lines[l].ref);
	for (uint32_t l = h->items.head; l != NIL; l = sm->lines[l].next) {
		const struct hf_item *it = &sm->items[sm->lines[l].ref];
		if (sm->lines[l].quantity > it->available) {
			r->item_short = true;
			r->bad_item = sm->lines[l].ref;
			r->available = it->available;
			break;
		}
	}
	if (r->n_bad_seats || r->item_short)
		return r->result = HF_HOLD_EXPIRED;
	return HF_OK;
}

void hf_hold_confirm(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_hold_op *c = &cmd->u.hold_op;
	if (!hf_customer_ok(cmd, true) || (c->accept_late && !cmd->admin))
		return (void)refuse(r, HF_BAD_REQUEST);
	uint32_t slot = c->hold ? hf_map_get(&sm->hold_by_id, c->hold) : NIL;
	bool late = c->accept_late && slot != NIL &&
		    sm->holds[slot].state == HF_HOLD_EXPIRED_STATE;
	if (late) {
		if (late_check(sm, &sm->holds[slot], r) != HF_OK)
			return;
	} else if (hold_check(sm, cmd, c->hold, &slot, r) != HF_OK) {
		return;
	}
	struct hf_hold *h = &sm->holds[slot];
	if (h->seats.n + h->items.n == 0)
		return (void)refuse(r, HF_BAD_REQUEST);
	if (sm->n_orders >= sm->cfg.max_orders)
		return (void)refuse(r, HF_CAPACITY_FULL);
	uint32_t o = hf_order_from_hold(sm, slot, late);
	if (late) {
		/* It stays where it is in the ended FIFO; its lines now belong
		 * to the order. */
		HF_ASSERT(sm->lines_in_ended >= h->seats.n + h->items.n);
		sm->lines_in_ended -= h->seats.n + h->items.n;
		h->state = HF_HOLD_CONFIRMED;
	}
	h->seats = list_empty;
	h->items = list_empty;
	h->order = (uint64_t)o + 1;
	if (!late)
		hold_leave_active(sm, slot, HF_HOLD_CONFIRMED);
	hf_reply_reset(r, HF_OK);
	r->kind = HF_REPLY_ORDER;
	hf_order_view(sm, o, &r->booking);
}
