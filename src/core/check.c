/*
 * check.c: hf_sm_check (every invariant of internal.h, recounted from
 * scratch) and hf_sm_digest (a hash of the whole logical state).
 *
 * The check walks every list and recounts every counter; it allocates
 * nothing (its scratch was allocated by hf_sm_init). It is O(state) and is
 * run after every command by the simulation and the unit tests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

static int fail(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (cap)
		vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
	return -1;
}

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond))                               \
			return fail(msg, msg_cap, __VA_ARGS__); \
	} while (0)

/* Walks a list: every line in range, owned by no other list (marks), its
 * ref below ref_max; its length matches n and its tail is its last line. */
static int list_check(const struct hf_sm *sm, const struct hf_list *l, uint32_t ref_max, char *msg,
		      size_t msg_cap)
{
	uint32_t n = 0, last = NIL;
	CHECK(l->n <= HF_HOLD_SEATS_MAX + HF_HOLD_ITEMS_MAX, "list count %u is too large", l->n);
	for (uint32_t x = l->head; x != NIL; x = sm->lines[x].next) {
		CHECK(x < sm->lines_hwm, "line %u out of range", x);
		CHECK(++n <= l->n, "list longer than its count %u", l->n);
		CHECK(!sm->check_line_mark[x], "line %u is in two lists", x);
		sm->check_line_mark[x] = 1;
		CHECK(sm->lines[x].ref < ref_max, "line %u refers to %u of %u", x, sm->lines[x].ref,
		      ref_max);
		CHECK(sm->lines[x].price >= 0 && sm->lines[x].price <= HF_PRICE_MAX &&
			      sm->lines[x].quantity <= sm->lines[x].requested &&
			      sm->lines[x].requested <= HF_QUANTITY_MAX,
		      "line %u has a price or quantity out of range", x);
		last = x;
	}
	CHECK(n == l->n, "list has %u lines, count says %u", n, l->n);
	CHECK(last == l->tail, "list tail %u is not its last line %u", l->tail, last);
	return 0;
}

/* A string id field: the start of an interned string (or 0 where empty is
 * allowed). */
static bool sid_ok(const struct hf_sm *sm, uint32_t sid, bool may_be_empty)
{
	return sid == 0 ? may_be_empty : hf_strpool_valid(&sm->strings, sid);
}

static int pce_take(struct hf_sm *sm_mut, uint32_t customer, uint32_t seat, char *msg,
		    size_t msg_cap)
{
	uint32_t e = hf_catalog_seat_event(sm_mut, seat);
	uint32_t *v = hf_map_ref(&sm_mut->check_pce, hf_pce_key(customer, e));
	CHECK(v && *v > 0, "customer %u has more seats of event %u than counted", customer, e);
	(*v)--;
	return 0;
}

int hf_sm_check(const struct hf_sm *sm, char *msg, size_t msg_cap)
{
	/* The scratch is the only thing written; the state is not. */
	struct hf_sm *scratch = (struct hf_sm *)sm;
	const struct hf_sm_config *c = &sm->cfg;
	CHECK(sm->n_events <= c->max_events && sm->n_seats <= c->max_seats &&
		      sm->n_items <= c->max_items && sm->n_customers <= c->max_customers &&
		      sm->holds_used <= c->max_holds && sm->n_orders <= c->max_orders &&
		      sm->lines_hwm <= c->max_lines && sm->idem_count <= c->idem_entries,
	      "a table is above its capacity");
	CHECK(sm->next_order_id == sm->n_orders, "next order id %llu != orders %u",
	      (unsigned long long)sm->next_order_id, sm->n_orders);
	CHECK(sm->holds_active <= sm->holds_used && sm->ended_count <= c->max_holds &&
		      sm->ended_head < c->max_holds && sm->idem_head < c->idem_entries &&
		      sm->lines_used <= sm->lines_hwm && sm->strings.used <= sm->strings.cap,
	      "a counter is out of range");
	memset(scratch->check_line_mark, 0, sm->lines_hwm);
	memset(scratch->check_hold_mark, 0, sm->holds_used);
	memset(scratch->check_seat_mark, 0, sm->n_seats);

	/* events and seats */
	uint32_t first = 0;
	uint64_t held_total = 0, sold_total = 0;
	for (uint32_t e = 0; e < sm->n_events; e++) {
		const struct hf_event *ev = &sm->events[e];
		CHECK(ev->first_seat == first && ev->n_seats <= sm->n_seats - first,
		      "event %u seats do not follow the previous event's", e);
		CHECK(sid_ok(sm, ev->id, false) && sid_ok(sm, ev->name, false),
		      "event %u has a bad id or name", e);
		CHECK(ev->orphan_rule < HF_ORPHAN_RULE_COUNT, "event %u has orphan rule %u", e,
		      ev->orphan_rule);
		CHECK(ev->hold_ttl_s >= 1 && ev->hold_ttl_s <= c->hold_lifetime_max_s &&
			      ev->starts_at_ms >= 0 && ev->starts_at_ms <= HF_TIME_MS_MAX &&
			      ev->sale_opens_at_ms >= 0 && ev->sale_opens_at_ms <= HF_TIME_MS_MAX &&
			      ev->sale_closes_at_ms >= 0 && ev->sale_closes_at_ms <= HF_TIME_MS_MAX &&
			      !(ev->sale_opens_at_ms && ev->sale_closes_at_ms &&
				ev->sale_opens_at_ms >= ev->sale_closes_at_ms),
		      "event %u has a hold time or sale window out of range", e);
		uint32_t count[4] = {0};
		for (uint32_t s = ev->first_seat; s < ev->first_seat + ev->n_seats; s++) {
			const struct hf_seat *seat = &sm->seats[s];
			CHECK(seat->state <= HF_SEAT_BLOCKED && seat->price >= 0 && seat->price <= HF_PRICE_MAX,
			      "seat %u has state %u, price %lld", s, seat->state, (long long)seat->price);
			CHECK(sid_ok(sm, seat->id, false) && sid_ok(sm, seat->section, true) &&
				      sid_ok(sm, seat->row, true) && sid_ok(sm, seat->category, true),
			      "seat %u has a bad string", s);
			count[seat->state]++;
			if (seat->state == HF_SEAT_HELD) {
				CHECK(seat->owner < sm->holds_used &&
					      sm->holds[seat->owner].state == HF_HOLD_ACTIVE,
				      "held seat %u is not owned by an active hold", s);
			} else if (seat->state == HF_SEAT_SOLD) {
				CHECK(seat->owner < sm->n_orders &&
					      sm->orders[seat->owner].status != HF_ORDER_CANCELED,
				      "sold seat %u is not owned by a live order", s);
			} else {
				CHECK(seat->owner == NIL, "free or blocked seat %u has an owner", s);
			}
			CHECK(hf_catalog_seat_find(sm, e, seat->id) == (int64_t)s,
			      "seat %u is not found by its id", s);
		}
		CHECK(memcmp(count, ev->count, sizeof(count)) == 0,
		      "event %u counts (free %u held %u sold %u blocked %u) differ from its seats "
		      "(%u %u %u %u)",
		      e, ev->count[0], ev->count[1], ev->count[2], ev->count[3], count[0], count[1],
		      count[2], count[3]);
		CHECK(hf_map_get(&sm->event_by_sid, hf_sid_key(ev->id)) == e, "event %u not indexed", e);
		held_total += count[HF_SEAT_HELD];
		sold_total += count[HF_SEAT_SOLD];
		first += ev->n_seats;
	}
	CHECK(first == sm->n_seats, "events own %u seats, state has %u", first, sm->n_seats);
	if (hf_rows_check(sm, msg, msg_cap) < 0)
		return -1;

	memset(scratch->check_item_held, 0, sizeof(uint64_t) * sm->n_items);
	memset(scratch->check_item_sold, 0, sizeof(uint64_t) * sm->n_items);
	memcpy(scratch->check_pce.keys, sm->per_cust_event.keys,
	       ((size_t)sm->per_cust_event.mask + 1) * sizeof(uint64_t));
	memcpy(scratch->check_pce.vals, sm->per_cust_event.vals,
	       ((size_t)sm->per_cust_event.mask + 1) * sizeof(uint32_t));
	scratch->check_pce.count = sm->per_cust_event.count;

	/* holds */
	uint64_t lines_seen = 0, lines_ended = 0, held_seen = 0;
	uint32_t active = 0, ended = 0, unused = 0;
	for (uint32_t slot = 0; slot < sm->holds_used; slot++) {
		const struct hf_hold *h = &sm->holds[slot];
		if (h->state == HOLD_SLOT_UNUSED) {
			unused++;
			continue;
		}
		CHECK(h->state <= HF_HOLD_EXPIRED_STATE, "hold slot %u has state %u", slot, h->state);
		CHECK(h->id >= 1 && h->id <= sm->next_hold_id, "hold slot %u has id %llu", slot,
		      (unsigned long long)h->id);
		CHECK(hf_map_get(&sm->hold_by_id, h->id) == slot, "hold %llu not indexed",
		      (unsigned long long)h->id);
		CHECK(h->customer < sm->n_customers, "hold %llu has no customer",
		      (unsigned long long)h->id);
		if (list_check(sm, &h->seats, sm->n_seats, msg, msg_cap) ||
		    list_check(sm, &h->items, sm->n_items, msg, msg_cap))
			return -1;
		CHECK(h->seats.n <= HF_HOLD_SEATS_MAX && h->items.n <= HF_HOLD_ITEMS_MAX,
		      "hold %llu has too many lines", (unsigned long long)h->id);
		lines_seen += h->seats.n + h->items.n;
		if (h->state != HF_HOLD_ACTIVE) {
			ended++;
			if (h->state == HF_HOLD_CONFIRMED)
				CHECK(h->order >= 1 && h->order <= sm->n_orders && h->seats.n == 0 &&
					      h->items.n == 0,
				      "confirmed hold %llu lost its order", (unsigned long long)h->id);
			else
				lines_ended += h->seats.n + h->items.n;
			continue;
		}
		active++;
		CHECK(h->expires_at_ms > sm->now_ms, "active hold %llu is past its expiry",
		      (unsigned long long)h->id);
		CHECK(h->heap_pos < sm->holds_active && sm->heap[h->heap_pos] == slot,
		      "active hold %llu is not in the expiry heap", (unsigned long long)h->id);
		for (uint32_t l = h->seats.head; l != NIL; l = sm->lines[l].next) {
			uint32_t s = sm->lines[l].ref;
			CHECK(s < sm->n_seats && sm->seats[s].state == HF_SEAT_HELD &&
				      sm->seats[s].owner == slot,
			      "hold %llu lists seat %u it does not hold", (unsigned long long)h->id, s);
			CHECK(sm->lines[l].price == sm->seats[s].price, "seat line price differs");
			CHECK(!sm->check_seat_mark[s], "seat %u is listed twice", s);
			scratch->check_seat_mark[s] = 1;
			held_seen++;
			if (pce_take(scratch, h->customer, s, msg, msg_cap))
				return -1;
		}
		for (uint32_t l = h->items.head; l != NIL; l = sm->lines[l].next) {
			const struct hf_line *line = &sm->lines[l];
			CHECK(line->ref < sm->n_items && line->quantity > 0 &&
				      line->requested >= line->quantity,
			      "hold %llu has a bad item line", (unsigned long long)h->id);
			scratch->check_item_held[line->ref] += line->quantity;
		}
	}
	CHECK(active == sm->holds_active, "%u active holds, counter says %u", active, sm->holds_active);
	CHECK(ended == sm->ended_count, "%u ended holds, FIFO has %u", ended, sm->ended_count);
	CHECK(lines_ended == sm->lines_in_ended, "ended holds have %llu lines, counter says %u",
	      (unsigned long long)lines_ended, sm->lines_in_ended);
	CHECK(held_seen == held_total, "holds list %llu seats, events count %llu held",
	      (unsigned long long)held_seen, (unsigned long long)held_total);
	for (uint32_t k = 0; k < sm->ended_count; k++) {
		uint32_t slot = sm->ended[(sm->ended_head + k) % c->max_holds];
		CHECK(slot < sm->holds_used && sm->holds[slot].state != HF_HOLD_ACTIVE &&
			      sm->holds[slot].state != HOLD_SLOT_UNUSED && !sm->check_hold_mark[slot],
		      "ended FIFO entry %u is not an ended hold, or a second entry for one", k);
		scratch->check_hold_mark[slot] = 1;
	}
	uint32_t free_slots = 0;
	for (uint32_t slot = sm->holds_free; slot != NIL; slot = sm->holds[slot].cust_next) {
		CHECK(slot < sm->holds_used && sm->holds[slot].state == HOLD_SLOT_UNUSED &&
			      !sm->check_hold_mark[slot] && ++free_slots <= unused,
		      "the free hold slot list is broken");
		scratch->check_hold_mark[slot] = 1;
	}
	CHECK(free_slots == unused, "%u unused hold slots, %u on the free list", unused, free_slots);
	for (uint32_t i = 0; i < sm->holds_active; i++) {
		uint32_t slot = sm->heap[i];
		CHECK(slot < sm->holds_used && sm->holds[slot].state == HF_HOLD_ACTIVE &&
			      sm->holds[slot].heap_pos == i,
		      "heap entry %u is stale", i);
		if (i > 0) {
			const struct hf_hold *p = &sm->holds[sm->heap[(i - 1) / 2]], *h = &sm->holds[slot];
			CHECK(p->expires_at_ms < h->expires_at_ms ||
				      (p->expires_at_ms == h->expires_at_ms && p->id < h->id),
			      "heap order broken at %u", i);
		}
	}

	/* orders */
	uint64_t sold_seen = 0;
	for (uint32_t o = 0; o < sm->n_orders; o++) {
		const struct hf_order *ord = &sm->orders[o];
		CHECK(ord->status <= HF_ORDER_CANCELED && ord->customer < sm->n_customers,
		      "order %u is malformed", o + 1);
		if (list_check(sm, &ord->seats, sm->n_seats, msg, msg_cap) ||
		    list_check(sm, &ord->items, sm->n_items, msg, msg_cap))
			return -1;
		lines_seen += ord->seats.n + ord->items.n;
		if (ord->status == HF_ORDER_CANCELED)
			continue;
		for (uint32_t l = ord->seats.head; l != NIL; l = sm->lines[l].next) {
			uint32_t s = sm->lines[l].ref;
			CHECK(s < sm->n_seats && sm->seats[s].state == HF_SEAT_SOLD && sm->seats[s].owner == o,
			      "order %u lists seat %u it does not own", o + 1, s);
			CHECK(!sm->check_seat_mark[s], "seat %u is listed twice", s);
			scratch->check_seat_mark[s] = 1;
			sold_seen++;
			if (pce_take(scratch, ord->customer, s, msg, msg_cap))
				return -1;
		}
		for (uint32_t l = ord->items.head; l != NIL; l = sm->lines[l].next) {
			CHECK(sm->lines[l].ref < sm->n_items && sm->lines[l].quantity > 0,
			      "order %u has a bad item line", o + 1);
			scratch->check_item_sold[sm->lines[l].ref] += sm->lines[l].quantity;
		}
	}
	CHECK(sold_seen == sold_total, "orders list %llu seats, events count %llu sold",
	      (unsigned long long)sold_seen, (unsigned long long)sold_total);

	/* items */
	for (uint32_t i = 0; i < sm->n_items; i++) {
		const struct hf_item *it = &sm->items[i];
		CHECK(it->price >= 0 && it->price <= HF_PRICE_MAX, "item %u has price %lld", i,
		      (long long)it->price);
		CHECK(sid_ok(sm, it->id, false) && sid_ok(sm, it->name, false) &&
			      sid_ok(sm, it->category, true) && sid_ok(sm, it->description, true) &&
			      sid_ok(sm, it->image_url, true),
		      "item %u has a bad string", i);
		CHECK(it->held == scratch->check_item_held[i], "item %u: held %u, lines hold %llu", i,
		      it->held, (unsigned long long)scratch->check_item_held[i]);
		CHECK(it->sold == scratch->check_item_sold[i], "item %u: sold %u, orders have %llu", i,
		      it->sold, (unsigned long long)scratch->check_item_sold[i]);
		CHECK((uint64_t)it->available + it->held + it->sold <= HF_STOCK_MAX,
		      "item %u stock above the limit", i);
		CHECK(hf_map_get(&sm->item_by_sid, hf_sid_key(it->id)) == i, "item %u not indexed", i);
	}

	/* per (customer, event) seat counts: every count was taken down to 0 */
	for (uint32_t k = 0; k <= scratch->check_pce.mask; k++)
		CHECK(scratch->check_pce.keys[k] == 0 || scratch->check_pce.vals[k] == 0,
		      "a customer/event seat count is above the seats held and sold");

	/* customers */
	uint32_t active_listed = 0, orders_listed = 0;
	for (uint32_t cu = 0; cu < sm->n_customers; cu++) {
		const struct hf_customer *cust = &sm->customers[cu];
		CHECK(sid_ok(sm, cust->name, false), "customer %u has a bad name", cu);
		CHECK(hf_map_get(&sm->customer_by_sid, hf_sid_key(cust->name)) == cu,
		      "customer %u not indexed", cu);
		uint32_t n = 0, prev_slot = NIL;
		uint64_t prev = UINT64_MAX;
		for (uint32_t s = cust->hold_head; s != NIL; s = sm->holds[s].cust_next) {
			CHECK(s < sm->holds_used, "customer %u's hold list leaves the table", cu);
			const struct hf_hold *h = &sm->holds[s];
			CHECK(h->state == HF_HOLD_ACTIVE && h->customer == cu && h->id < prev &&
				      h->cust_prev == prev_slot,
			      "customer %u's hold list is wrong", cu);
			prev = h->id;
			prev_slot = s;
			n++;
		}
		CHECK(n == cust->active_holds && n <= HF_CUSTOMER_HOLDS_MAX,
		      "customer %u lists %u active holds, counter says %u", cu, n, cust->active_holds);
		active_listed += n;
		prev = UINT64_MAX;
		for (uint32_t o = cust->order_head; o != NIL; o = sm->orders[o].cust_next) {
			CHECK(o < sm->n_orders && sm->orders[o].customer == cu && o < prev,
			      "customer %u's orders are wrong", cu);
			prev = o;
			orders_listed++;
		}
	}
	CHECK(active_listed == sm->holds_active, "customers list %u active holds of %u",
	      active_listed, sm->holds_active);
	CHECK(orders_listed == sm->n_orders, "customers list %u orders of %u", orders_listed,
	      sm->n_orders);

	/* lines: used = listed; free list + used = high-water mark */
	CHECK(lines_seen == sm->lines_used, "%llu lines in lists, counter says %u",
	      (unsigned long long)lines_seen, sm->lines_used);
	uint64_t free_n = 0;
	for (uint32_t l = sm->lines_free; l != NIL; l = sm->lines[l].next) {
		CHECK(l < sm->lines_hwm && !sm->check_line_mark[l], "line free list is broken");
		scratch->check_line_mark[l] = 1;
		free_n++;
	}
	CHECK(free_n + sm->lines_used == sm->lines_hwm, "lines leaked: %llu free + %u used != %u",
	      (unsigned long long)free_n, sm->lines_used, sm->lines_hwm);

	/* idempotency: stored in time order, none from the future */
	int64_t stored_prev = INT64_MIN;
	for (uint32_t k = 0; k < sm->idem_count; k++) {
		const struct hf_idem_entry *e = &sm->idem[(sm->idem_head + k) % c->idem_entries];
		CHECK(e->stored_at_ms >= stored_prev && e->stored_at_ms <= sm->now_ms,
		      "idempotency entry %u is out of time order", k);
		stored_prev = e->stored_at_ms;
		CHECK((uint64_t)e->data_off + e->data_len <= c->idem_bytes &&
			      (uint32_t)e->customer_len + e->key_len < e->data_len &&
			      e->stored_at_ms > sm->now_ms - c->idem_retention_ms,
		      "idempotency entry %u is stale or out of range", k);
		uint32_t skip = (uint32_t)e->customer_len + e->key_len;
		static struct hf_reply r; /* large; the check runs on one thread */
		CHECK(hf_reply_decode(sm->idem_data + e->data_off + skip, e->data_len - skip, &r) ==
			      (int64_t)(e->data_len - skip),
		      "idempotency entry %u does not hold a reply", k);
	}
	return 0;
}

/* ---- digest ------------------------------------------------------------- */

static uint64_t mix_str(const struct hf_sm *sm, uint64_t h, uint32_t sid)
{
	struct hf_str s = hf_strpool_get(&sm->strings, sid);
	return hf_hash_mix(h, hf_hash_bytes(s.ptr, s.len, s.len));
}

static uint64_t mix_list(const struct hf_sm *sm, uint64_t h, const struct hf_list *l)
{
	h = hf_hash_mix(h, l->n);
	for (uint32_t x = l->head; x != NIL; x = sm->lines[x].next) {
		const struct hf_line *line = &sm->lines[x];
		h = hf_hash_mix(h, line->ref);
		h = hf_hash_mix(h, (uint64_t)line->quantity << 32 | line->requested);
		h = hf_hash_mix(h, (uint64_t)line->price);
	}
	return h;
}

uint64_t hf_sm_digest(const struct hf_sm *sm)
{
	uint64_t h = 0x686f6c6466617374ULL; /* "holdfast" */
	h = hf_hash_mix(h, (uint64_t)sm->now_ms);
	h = hf_hash_mix(h, sm->next_hold_id);
	h = hf_hash_mix(h, sm->next_order_id);
	for (uint32_t e = 0; e < sm->n_events; e++) {
		const struct hf_event *ev = &sm->events[e];
		h = mix_str(sm, h, ev->id);
		h = mix_str(sm, h, ev->name);
		h = hf_hash_mix(h, (uint64_t)ev->starts_at_ms);
		h = hf_hash_mix(h, (uint64_t)ev->sale_opens_at_ms);
		h = hf_hash_mix(h, (uint64_t)ev->sale_closes_at_ms);
		h = hf_hash_mix(h, (uint64_t)ev->hold_ttl_s << 32 | ev->max_per_customer);
		h = hf_hash_mix(h, (uint64_t)ev->first_seat << 32 | ev->n_seats);
		h = hf_hash_mix(h, ev->orphan_rule);
	}
	for (uint32_t s = 0; s < sm->n_seats; s++) {
		const struct hf_seat *seat = &sm->seats[s];
		h = mix_str(sm, h, seat->id);
		h = mix_str(sm, h, seat->section);
		h = mix_str(sm, h, seat->row);
		h = mix_str(sm, h, seat->category);
		h = hf_hash_mix(h, (uint64_t)(uint32_t)seat->number << 8 | seat->state);
		h = hf_hash_mix(h, (uint64_t)seat->price);
		uint64_t owner = seat->state == HF_SEAT_HELD   ? sm->holds[seat->owner].id
				 : seat->state == HF_SEAT_SOLD ? (uint64_t)seat->owner + 1
							       : 0;
		h = hf_hash_mix(h, owner);
	}
	for (uint32_t i = 0; i < sm->n_items; i++) {
		const struct hf_item *it = &sm->items[i];
		h = mix_str(sm, h, it->id);
		h = mix_str(sm, h, it->name);
		h = mix_str(sm, h, it->category);
		h = mix_str(sm, h, it->description);
		h = mix_str(sm, h, it->image_url);
		h = hf_hash_mix(h, (uint64_t)it->price);
		h = hf_hash_mix(h, (uint64_t)it->available << 32 | it->held);
		h = hf_hash_mix(h, it->sold);
	}
	for (uint32_t cu = 0; cu < sm->n_customers; cu++) {
		h = mix_str(sm, h, sm->customers[cu].name);
		h = hf_hash_mix(h, sm->customers[cu].active_holds);
	}
	for (uint32_t slot = 0; slot < sm->holds_used; slot++) {
		const struct hf_hold *ho = &sm->holds[slot];
		h = hf_hash_mix(h, ho->state);
		if (ho->state == HOLD_SLOT_UNUSED)
			continue;
		h = hf_hash_mix(h, ho->id);
		h = hf_hash_mix(h, ho->customer);
		h = hf_hash_mix(h, (uint64_t)ho->created_at_ms);
		h = hf_hash_mix(h, (uint64_t)ho->expires_at_ms);
		h = hf_hash_mix(h, ho->order);
		h = mix_list(sm, h, &ho->seats);
		h = mix_list(sm, h, &ho->items);
	}
	for (uint32_t k = 0; k < sm->ended_count; k++)
		h = hf_hash_mix(h, sm->holds[sm->ended[(sm->ended_head + k) % sm->cfg.max_holds]].id);
	for (uint32_t o = 0; o < sm->n_orders; o++) {
		const struct hf_order *ord = &sm->orders[o];
		h = hf_hash_mix(h, (uint64_t)ord->created_at_ms);
		h = hf_hash_mix(h, (uint64_t)ord->customer << 8 | ord->status);
		h = mix_list(sm, h, &ord->seats);
		h = mix_list(sm, h, &ord->items);
	}
	for (uint32_t k = 0; k < sm->idem_count; k++) {
		const struct hf_idem_entry *e = &sm->idem[(sm->idem_head + k) % sm->cfg.idem_entries];
		h = hf_hash_mix(h, e->key);
		h = hf_hash_mix(h, e->fingerprint);
		h = hf_hash_mix(h, (uint64_t)e->stored_at_ms);
		h = hf_hash_mix(h, hf_hash_bytes(sm->idem_data + e->data_off, e->data_len, 0));
	}
	return h;
}
