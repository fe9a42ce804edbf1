/*
 * catalog.c: events with their seats, and items with their stock.
 *
 * Owns: struct hf_event, struct hf_seat, struct hf_item, the seat index.
 * Catalog entries are created once and never deleted, so their indices and
 * names are stable for the life of the state (replies name them by index).
 * Invariant kept here: event.count[s] is the number of the event's seats in
 * state s; every seat state change goes through hf_catalog_seat_set (which
 * also keeps the rows' free-run index current, rows.c).
 */
#include <string.h>

#include "core/internal.h"

static uint32_t seat_home(const struct hf_sm *sm, uint32_t event, uint32_t sid)
{
	return (uint32_t)hf_hash_u64((uint64_t)event << 32 | sid) & sm->seat_mask;
}

int64_t hf_catalog_seat_find(const struct hf_sm *sm, uint32_t event, uint32_t sid)
{
	if (sid == 0)
		return -1;
	const struct hf_event *ev = &sm->events[event];
	for (uint32_t i = seat_home(sm, event, sid);; i = (i + 1) & sm->seat_mask) {
		uint32_t v = sm->seat_slots[i];
		if (v == 0)
			return -1;
		uint32_t s = v - 1;
		if (sm->seats[s].id == sid && s >= ev->first_seat && s - ev->first_seat < ev->n_seats)
			return s;
	}
}

/* Inserts seat s of event; false if the event already has a seat of that id. */
static bool seat_index_add(struct hf_sm *sm, uint32_t event, uint32_t s)
{
	uint32_t sid = sm->seats[s].id;
	const struct hf_event *ev = &sm->events[event];
	uint32_t i = seat_home(sm, event, sid);
	for (;; i = (i + 1) & sm->seat_mask) {
		uint32_t v = sm->seat_slots[i];
		if (v == 0)
			break;
		uint32_t t = v - 1;
		if (sm->seats[t].id == sid && t >= ev->first_seat && t - ev->first_seat < ev->n_seats)
			return false;
	}
	sm->seat_slots[i] = s + 1;
	return true;
}

static void seat_index_del(struct hf_sm *sm, uint32_t event, uint32_t s)
{
	uint32_t i = seat_home(sm, event, sm->seats[s].id);
	while (sm->seat_slots[i] != s + 1)
		i = (i + 1) & sm->seat_mask;
	uint32_t hole = i, j = i;
	for (;;) {
		j = (j + 1) & sm->seat_mask;
		uint32_t v = sm->seat_slots[j];
		if (v == 0)
			break;
		/* Seats past n_seats belong to the event being created. */
		uint32_t ev = v - 1 >= sm->n_seats ? sm->n_events : hf_catalog_seat_event(sm, v - 1);
		uint32_t home = seat_home(sm, ev, sm->seats[v - 1].id);
		bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
		if (stays)
			continue;
		sm->seat_slots[hole] = v;
		hole = j;
	}
	sm->seat_slots[hole] = 0;
}

uint32_t hf_catalog_seat_event(const struct hf_sm *sm, uint32_t seat)
{
	/* Events own consecutive seat ranges in creation order. */
	uint32_t lo = 0, hi = sm->n_events;
	HF_ASSERT(hi > 0);
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sm->events[mid].first_seat <= seat)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void hf_catalog_seat_set(struct hf_sm *sm, uint32_t seat, uint8_t state, uint32_t owner)
{
	struct hf_seat *s = &sm->seats[seat];
	struct hf_event *ev = &sm->events[hf_catalog_seat_event(sm, seat)];
	HF_ASSERT(ev->count[s->state] > 0);
	ev->count[s->state]--;
	ev->count[state]++;
	if ((s->state == HF_SEAT_FREE) != (state == HF_SEAT_FREE))
		hf_rows_seat_free(sm, (uint32_t)(ev - sm->events), seat, state == HF_SEAT_FREE);
	s->state = state;
	s->owner = owner;
}

static bool time_valid(int64_t t)
{
	return t >= 0 && t <= HF_TIME_MS_MAX;
}

void hf_catalog_event_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_event_create *c = &cmd->u.event_create;
	bool ok = hf_id_valid(c->id) && c->name.len >= 1 && c->name.len <= HF_NAME_LEN_MAX &&
		  time_valid(c->starts_at_ms) && time_valid(c->sale_opens_at_ms) &&
		  time_valid(c->sale_closes_at_ms) && c->n_seats > 0 &&
		  c->hold_ttl_s <= sm->cfg.hold_lifetime_max_s &&
		  c->orphan_rule < HF_ORPHAN_RULE_COUNT &&
		  !(c->sale_opens_at_ms && c->sale_closes_at_ms &&
		    c->sale_opens_at_ms >= c->sale_closes_at_ms);
	uint64_t string_bytes = hf_strpool_cost(c->id) + hf_strpool_cost(c->name);
	for (uint32_t i = 0; ok && i < c->n_seats; i++) {
		const struct hf_seat_spec *s = &c->seats[i];
		ok = hf_id_valid(s->id) && s->price >= 0 && s->price <= HF_PRICE_MAX &&
		     hf_text_valid(s->section, HF_NAME_LEN_MAX) &&
		     hf_text_valid(s->row, HF_NAME_LEN_MAX) &&
		     hf_text_valid(s->category, HF_NAME_LEN_MAX);
		string_bytes += hf_strpool_cost(s->id) + hf_strpool_cost(s->section) +
				hf_strpool_cost(s->row) + hf_strpool_cost(s->category);
	}
	if (!ok)
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	if (c->n_seats > HF_EVENT_SEATS_MAX)
		{
		hf_reply_reset(r, HF_TOO_MANY_LINES);
		return;
	}
	uint32_t id_sid = hf_strpool_find(&sm->strings, c->id);
	if (id_sid && hf_map_get(&sm->event_by_sid, hf_sid_key(id_sid)) != NIL)
		{
		hf_reply_reset(r, HF_ALREADY_EXISTS);
		return;
	}
	if (sm->n_events >= sm->cfg.max_events ||
	    (uint64_t)sm->n_seats + c->n_seats > sm->cfg.max_seats ||
	    !hf_strpool_room(&sm->strings, string_bytes, 2 + 4 * c->n_seats))
		{
		hf_reply_reset(r, HF_CAPACITY_FULL);
		return;
	}

	uint32_t e = sm->n_events;
	struct hf_event *ev = &sm->events[e];
	memset(ev, 0, sizeof(*ev));
	ev->first_seat = sm->n_seats;
	ev->n_seats = c->n_seats;
	for (uint32_t i = 0; i < c->n_seats; i++) {
		const struct hf_seat_spec *spec = &c->seats[i];
		struct hf_seat *s = &sm->seats[ev->first_seat + i];
		s->id = hf_strpool_intern(&sm->strings, spec->id);
		s->section = hf_strpool_intern(&sm->strings, spec->section);
		s->row = hf_strpool_intern(&sm->strings, spec->row);
		s->category = hf_strpool_intern(&sm->strings, spec->category);
		s->number = spec->number;
		s->price = spec->price;
		s->state = HF_SEAT_FREE;
		s->owner = NIL;
		if (!seat_index_add(sm, e, ev->first_seat + i)) {
			/* Two seats with one id: undo the index (the interned
			 * strings stay; they are harmless and bounded). */
			for (uint32_t k = 0; k < i; k++)
				seat_index_del(sm, e, ev->first_seat + k);
			ev->n_seats = 0;
			{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
		}
	}
	ev->id = hf_strpool_intern(&sm->strings, c->id);
	ev->name = hf_strpool_intern(&sm->strings, c->name);
	ev->starts_at_ms = c->starts_at_ms;
	ev->sale_opens_at_ms = c->sale_opens_at_ms;
	ev->sale_closes_at_ms = c->sale_closes_at_ms;
	ev->hold_ttl_s = c->hold_ttl_s ? c->hold_ttl_s : HF_HOLD_TTL_DEFAULT_S;
	ev->max_per_customer = c->max_per_customer;
	ev->orphan_rule = c->orphan_rule;
	ev->count[HF_SEAT_FREE] = c->n_seats;
	sm->n_events++;
	sm->n_seats += c->n_seats;
	hf_map_put(&sm->event_by_sid, hf_sid_key(ev->id), e);
	hf_reply_reset(r, HF_OK);
	r->kind = HF_REPLY_EVENT;
	r->index = e;
}

static void note_bad_seat(struct hf_reply *r, uint32_t v)
{
	if (r->n_bad_seats < HF_HOLD_SEATS_MAX)
		r->bad_seats[r->n_bad_seats++] = v;
}

void hf_catalog_seats_block(struct hf_sm *sm, const struct hf_cmd *cmd, bool block,
			    struct hf_reply *r)
{
	const struct hf_seats_block *c = &cmd->u.seats_block;
	bool ok = c->n_seats > 0 && hf_id_valid(c->event);
	for (uint32_t i = 0; ok && i < c->n_seats; i++)
		ok = hf_id_valid(c->seats[i]);
	if (!ok)
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	if (c->n_seats > HF_BLOCK_SEATS_MAX)
		{
		hf_reply_reset(r, HF_TOO_MANY_LINES);
		return;
	}
	uint32_t esid = hf_strpool_find(&sm->strings, c->event);
	uint32_t e = esid ? hf_map_get(&sm->event_by_sid, hf_sid_key(esid)) : NIL;
	if (e == NIL)
		{
		hf_reply_reset(r, HF_UNKNOWN_EVENT);
		return;
	}
	hf_reply_reset(r, HF_OK);
	for (uint32_t i = 0; i < c->n_seats; i++)
		if (hf_catalog_seat_find(sm, e, hf_strpool_find(&sm->strings, c->seats[i])) < 0)
			note_bad_seat(r, i);
	if (r->n_bad_seats)
		return (void)(r->result = HF_UNKNOWN_SEAT);
	for (uint32_t i = 0; i < c->n_seats; i++) {
		uint32_t s = (uint32_t)hf_catalog_seat_find(sm, e,
							    hf_strpool_find(&sm->strings, c->seats[i]));
		uint8_t st = sm->seats[s].state;
		if (st == HF_SEAT_HELD || st == HF_SEAT_SOLD)
			note_bad_seat(r, s);
	}
	if (r->n_bad_seats)
		return (void)(r->result = HF_SEATS_UNAVAILABLE);
	for (uint32_t i = 0; i < c->n_seats; i++) {
		uint32_t s = (uint32_t)hf_catalog_seat_find(sm, e,
							    hf_strpool_find(&sm->strings, c->seats[i]));
		hf_catalog_seat_set(sm, s, block ? HF_SEAT_BLOCKED : HF_SEAT_FREE, NIL);
	}
	r->kind = HF_REPLY_EVENT;
	r->index = e;
}

void hf_catalog_item_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_item_create *c = &cmd->u.item_create;
	bool ok = hf_id_valid(c->id) && c->name.len >= 1 && c->name.len <= HF_NAME_LEN_MAX &&
		  hf_text_valid(c->category, HF_NAME_LEN_MAX) &&
		  hf_text_valid(c->description, HF_TEXT_LEN_MAX) &&
		  hf_text_valid(c->image_url, HF_TEXT_LEN_MAX) && c->price >= 0 &&
		  c->price <= HF_PRICE_MAX && c->stock <= HF_STOCK_MAX;
	if (!ok)
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	uint32_t id_sid = hf_strpool_find(&sm->strings, c->id);
	if (id_sid && hf_map_get(&sm->item_by_sid, hf_sid_key(id_sid)) != NIL)
		{
		hf_reply_reset(r, HF_ALREADY_EXISTS);
		return;
	}
	uint64_t bytes = hf_strpool_cost(c->id) + hf_strpool_cost(c->name) +
			 hf_strpool_cost(c->category) + hf_strpool_cost(c->description) +
			 hf_strpool_cost(c->image_url);
	if (sm->n_items >= sm->cfg.max_items || !hf_strpool_room(&sm->strings, bytes, 5))
		{
		hf_reply_reset(r, HF_CAPACITY_FULL);
		return;
	}
	uint32_t i = sm->n_items++;
	struct hf_item *it = &sm->items[i];
	memset(it, 0, sizeof(*it));
	it->id = hf_strpool_intern(&sm->strings, c->id);
	it->name = hf_strpool_intern(&sm->strings, c->name);
	it->category = hf_strpool_intern(&sm->strings, c->category);
	it->description = hf_strpool_intern(&sm->strings, c->description);
	it->image_url = hf_strpool_intern(&sm->strings, c->image_url);
	it->price = c->price;
	it->available = c->stock;
	hf_map_put(&sm->item_by_sid, hf_sid_key(it->id), i);
	hf_reply_reset(r, HF_OK);
	r->kind = HF_REPLY_ITEM;
	r->index = i;
}

void hf_catalog_item_restock(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r)
{
	const struct hf_item_restock *c = &cmd->u.item_restock;
	if (c->quantity == 0 || c->quantity > HF_STOCK_MAX || !hf_id_valid(c->item))
		{
		hf_reply_reset(r, HF_BAD_REQUEST);
		return;
	}
	uint32_t sid = hf_strpool_find(&sm->strings, c->item);
	uint32_t i = sid ? hf_map_get(&sm->item_by_sid, hf_sid_key(sid)) : NIL;
	if (i == NIL)
		{
		hf_reply_reset(r, HF_UNKNOWN_ITEM);
		return;
	}
	struct hf_item *it = &sm->items[i];
	uint64_t have = (uint64_t)it->available + it->held + it->sold;
	if (have + c->quantity > HF_STOCK_MAX) {
		hf_reply_reset(r, HF_LIMIT_EXCEEDED);
		r->limit = HF_LIMIT_STOCK_MAX;
		r->limit_max = HF_STOCK_MAX;
		r->limit_current = (uint32_t)have;
		r->limit_requested = c->quantity;
		r->limit_ref = i;
		return;
	}
	it->available += c->quantity;
	hf_reply_reset(r, HF_OK);
	r->kind = HF_REPLY_ITEM;
	r->index = i;
}

int hf_catalog_index_rebuild(struct hf_sm *sm)
{
	/* on a fresh state: the index and maps are still all zero */
	uint32_t first = 0;
	uint32_t n_events = sm->n_events;
	for (uint32_t e = 0; e < n_events; e++) {
		struct hf_event *ev = &sm->events[e];
		if (ev->first_seat != first || ev->n_seats > sm->n_seats - first || ev->id == 0 ||
		    ev->id >= sm->strings.used || hf_map_get(&sm->event_by_sid, ev->id) != NIL)
			return -1;
		/* seat_index_add resolves events of indexed seats: count them in */
		sm->n_events = e + 1;
		for (uint32_t s = first; s < first + ev->n_seats; s++)
			if (sm->seats[s].id == 0 || sm->seats[s].id >= sm->strings.used ||
			    !seat_index_add(sm, e, s))
				return -1;
		hf_map_put(&sm->event_by_sid, hf_sid_key(ev->id), e);
		first += ev->n_seats;
	}
	if (first != sm->n_seats)
		return -1;
	for (uint32_t e = 0; e < n_events; e++)
		if (sm->events[e].n_seats > HF_EVENT_SEATS_MAX)
			return -1;
	for (uint32_t i = 0; i < sm->n_items; i++) {
		uint32_t sid = sm->items[i].id;
		if (sid == 0 || sid >= sm->strings.used || hf_map_get(&sm->item_by_sid, sid) != NIL)
			return -1;
		hf_map_put(&sm->item_by_sid, hf_sid_key(sid), i);
	}
	return 0;
}
