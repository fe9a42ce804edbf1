/*
 * order.c: orders, made by confirming a hold or by buy-now.
 *
 * Status moves forward only, a step may be skipped:
 *
 *   UNDER_REVIEW -> PACKAGED -> SHIPPED -> DELIVERED
 *        \______________\
 *                        +--> CANCELED (hf_order_cancel, before SHIPPED)
 *
 * An order is never deleted; order id = index + 1. Its lines keep the
 * prices of the moment it was made. A canceled order keeps its lines (for
 * reads) but no longer owns its seats or its units: cancel returns them.
 */
#include <string.h>

#include "core/internal.h"

static const struct hf_list list_empty = {NIL, NIL, 0};

static uint32_t order_new(struct hf_sm *sm, uint32_t customer)
{
	HF_ASSERT(sm->n_orders < sm->cfg.max_orders);
	uint32_t o = sm->n_orders++;
	struct hf_order *ord = &sm->orders[o];
	memset(ord, 0, sizeof(*ord));
	ord->created_at_ms = sm->now_ms;
	ord->customer = customer;
	ord->status = HF_ORDER_UNDER_REVIEW;
	ord->seats = list_empty;
	ord->items = list_empty;
	ord->cust_next = sm->customers[customer].order_head;
	sm->customers[customer].order_head = o;
	sm->next_order_id = (uint64_t)o + 1;
	return o;
}

uint32_t hf_order_from_hold(struct hf_sm *sm, uint32_t slot, bool late)
{
	struct hf_hold *h = &sm->holds[slot];
	uint32_t o = order_new(sm, h->customer);
	struct hf_order *ord = &sm->orders[o];
	ord->seats = h->seats;
	ord->items = h->items;
	for (uint32_t l = ord->seats.head; l != NIL; l = sm->lines[l].next) {
		uint32_t seat = sm->lines[l].ref;
		if (late) {
			HF_ASSERT(sm->seats[seat].state == HF_SEAT_FREE);
			hf_pce_add(sm, h->customer, hf_catalog_seat_event(sm, seat), 1);
		} else {
			HF_ASSERT(sm->seats[seat].owner == slot);
		}
		hf_catalog_seat_set(sm, seat, HF_SEAT_SOLD, o);
	}
	for (uint32_t l = ord->items.head; l != NIL; l = sm->lines[l].next) {
		struct hf_item *it = &sm->items[sm->lines[l].ref];
		uint32_t *from = late ? &it->available : &it->held;
		HF_ASSERT(*from >= sm->lines[l].quantity);
		*from -= sm->lines[l].quantity;
		it->sold += sm->lines[l].quantity;
	}
	return o;
}

static void reply_order(const struct hf_sm *sm, uint32_t o, struct hf_reply *r)
{
	hf_reply_reset(r, HF_OK);
	r->kind = HF_REPLY_ORDER;
	hf_order_view(sm, o, &r->booking);
}

void hf_order_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	struct hf_resolved res;
	if (hf_lines_resolve(sm, cmd, false, NULL, &res, r) != HF_OK)
		return;
	uint32_t cust = hf_customer_lookup(sm, cmd->customer);
	bool customer_room = cust != NIL || (sm->n_customers < sm->cfg.max_customers &&
					     hf_strpool_room(&sm->strings,
							     hf_strpool_cost(cmd->customer), 1));
	if (!customer_room || sm->n_orders >= sm->cfg.max_orders ||
	    hf_lines_available(sm) < (uint64_t)res.n_seats + cmd->u.lines.best.count + res.n_items) {
		hf_reply_reset(r, HF_CAPACITY_FULL);
		return;
	}
	if (hf_lines_take_check(sm, cmd, cust, false, NIL, &res, r) != HF_OK)
		return;
	cust = hf_customer_get_or_add(sm, cmd->customer);
	uint32_t o = order_new(sm, cust);
	struct hf_order *ord = &sm->orders[o];
	for (uint32_t i = 0; i < res.n_seats; i++) {
		uint32_t seat = res.seat[i];
		hf_catalog_seat_set(sm, seat, HF_SEAT_SOLD, o);
		uint32_t l = hf_line_alloc(sm);
		sm->lines[l].ref = seat;
		sm->lines[l].quantity = 1;
		sm->lines[l].requested = 1;
		sm->lines[l].price = sm->seats[seat].price;
		hf_list_append(sm, &ord->seats, l);
		hf_pce_add(sm, cust, res.seat_event[i], 1);
	}
	for (uint32_t m = 0; m < res.n_items; m++) {
		struct hf_item *it = &sm->items[res.item[m]];
		it->available -= res.take[m];
		it->sold += res.take[m];
		uint32_t l = hf_line_alloc(sm);
		sm->lines[l].ref = res.item[m];
		sm->lines[l].quantity = res.take[m];
		sm->lines[l].requested = res.quantity[m];
		sm->lines[l].price = it->price;
		hf_list_append(sm, &ord->items, l);
	}
	reply_order(sm, o, r);
	r->best = res.chosen;
	r->together = res.together;
}

/* UNKNOWN_ORDER, NOT_OWNER. */
static enum hf_result order_find(const struct hf_sm *sm, const struct hf_cmd *cmd, bool admin_only,
				 uint32_t *o /* out */)
{
	uint64_t id = cmd->u.order_op.order;
	if (id == 0 || id > sm->n_orders)
		return HF_UNKNOWN_ORDER;
	*o = (uint32_t)(id - 1);
	if (cmd->admin)
		return HF_OK;
	if (admin_only)
		return HF_NOT_OWNER;
	struct hf_str owner = hf_strpool_get(&sm->strings, sm->customers[sm->orders[*o].customer].name);
	return hf_str_eq(owner, cmd->customer) ? HF_OK : HF_NOT_OWNER;
}

static void order_cancel_apply(struct hf_sm *sm, uint32_t o)
{
	struct hf_order *ord = &sm->orders[o];
	for (uint32_t l = ord->seats.head; l != NIL; l = sm->lines[l].next) {
		uint32_t seat = sm->lines[l].ref;
		HF_ASSERT(sm->seats[seat].state == HF_SEAT_SOLD && sm->seats[seat].owner == o);
		hf_catalog_seat_set(sm, seat, HF_SEAT_FREE, NIL);
		hf_pce_add(sm, ord->customer, hf_catalog_seat_event(sm, seat), -1);
	}
	for (uint32_t l = ord->items.head; l != NIL; l = sm->lines[l].next) {
		struct hf_item *it = &sm->items[sm->lines[l].ref];
		HF_ASSERT(it->sold >= sm->lines[l].quantity);
		it->sold -= sm->lines[l].quantity;
		it->available += sm->lines[l].quantity;
	}
	ord->status = HF_ORDER_CANCELED;
}

void hf_order_cancel(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	if (!hf_customer_ok(cmd, true))
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	uint32_t o;
	enum hf_result rc = order_find(sm, cmd, false, &o);
	if (rc != HF_OK)
		{
		hf_reply_reset(r, rc);
		return;
	}
	uint8_t cur = sm->orders[o].status;
	if (cur >= HF_ORDER_SHIPPED) {
		hf_reply_reset(r, HF_INVALID_TRANSITION);
		r->current_status = cur;
		return;
	}
	order_cancel_apply(sm, o);
	reply_order(sm, o, r);
}

void hf_order_status(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_order_op *c = &cmd->u.order_op;
	if (c->status > HF_ORDER_CANCELED ||
	    (c->expect > HF_ORDER_CANCELED && c->expect != HF_ORDER_STATUS_ANY))
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	uint32_t o;
	enum hf_result rc = order_find(sm, cmd, true, &o);
	if (rc != HF_OK)
		{
		hf_reply_reset(r, rc);
		return;
	}
	uint8_t cur = sm->orders[o].status;
	if (c->expect != HF_ORDER_STATUS_ANY && c->expect != cur) {
		hf_reply_reset(r, HF_STATUS_MISMATCH);
		r->current_status = cur;
		return;
	}
	if (cur == HF_ORDER_DELIVERED || cur == HF_ORDER_CANCELED || c->status <= cur ||
	    (c->status == HF_ORDER_CANCELED && cur >= HF_ORDER_SHIPPED)) {
		hf_reply_reset(r, HF_INVALID_TRANSITION);
		r->current_status = cur;
		return;
	}
	if (c->status == HF_ORDER_CANCELED)
		order_cancel_apply(sm, o);
	else
		sm->orders[o].status = c->status;
	reply_order(sm, o, r);
}
