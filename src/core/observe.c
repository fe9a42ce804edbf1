/*
 * observe.c: read-only views for observers of the state (observe.h). The
 * due holds are found by walking the expiry heap from its root, pruning at
 * the first node not due (a heap's children are never earlier than their
 * parent), then sorted into the order hf_expiry_run ends them. The
 * catalog's fields are written once, when an event or item is created,
 * before any reply or observer can name its index, and never move.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/observe.h"

static int due_cmp(const void *a, const void *b)
{
	const struct hf_hold_due *x = a, *y = b;
	if (x->expires_at_ms != y->expires_at_ms)
		return x->expires_at_ms < y->expires_at_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Depth first from pos; the heap's depth is log2(holds_active), so the
 * recursion is shallow (at most 32). */
static void walk(const struct hf_sm *sm, int64_t now, uint32_t pos, struct hf_hold_due *out,
		 uint32_t cap, uint32_t *found)
{
	if (pos >= sm->holds_active)
		return;
	const struct hf_hold *h = &sm->holds[sm->heap[pos]];
	if (h->expires_at_ms > now)
		return;
	if (*found < cap) {
		out[*found].expires_at_ms = h->expires_at_ms;
		out[*found].id = h->id;
	}
	(*found)++;
	walk(sm, now, 2 * pos + 1, out, cap, found);
	walk(sm, now, 2 * pos + 2, out, cap, found);
}

uint32_t hf_sm_holds_due(const struct hf_sm *sm, int64_t now_ms, struct hf_hold_due *out, uint32_t cap)
{
	int64_t now = now_ms > sm->now_ms ? now_ms : sm->now_ms;
	uint32_t found = 0;
	walk(sm, now, 0, out, cap, &found);
	if (found <= cap && found > 1)
		qsort(out, found, sizeof(*out), due_cmp);
	return found;
}

void hf_sm_seat_static(const struct hf_sm *sm, uint32_t seat, struct hf_seat_info *out)
{
	HF_ASSERT(seat < sm->n_seats);
	const struct hf_seat *s = &sm->seats[seat];
	out->id = hf_strpool_get(&sm->strings, s->id);
	out->section = hf_strpool_get(&sm->strings, s->section);
	out->row = hf_strpool_get(&sm->strings, s->row);
	out->category = hf_strpool_get(&sm->strings, s->category);
	out->number = s->number;
	out->price = s->price;
	out->state = 0;
	out->event = hf_catalog_seat_event(sm, seat);
}

void hf_sm_event_static(const struct hf_sm *sm, uint32_t event, struct hf_event_info *out)
{
	HF_ASSERT(event < sm->n_events);
	const struct hf_event *e = &sm->events[event];
	memset(out, 0, sizeof(*out));
	out->id = hf_strpool_get(&sm->strings, e->id);
	out->name = hf_strpool_get(&sm->strings, e->name);
	out->starts_at_ms = e->starts_at_ms;
	out->sale_opens_at_ms = e->sale_opens_at_ms;
	out->sale_closes_at_ms = e->sale_closes_at_ms;
	out->hold_ttl_s = e->hold_ttl_s;
	out->max_per_customer = e->max_per_customer;
	out->first_seat = e->first_seat;
	out->n_seats = e->n_seats;
}

void hf_sm_item_static(const struct hf_sm *sm, uint32_t item, struct hf_item_info *out)
{
	HF_ASSERT(item < sm->n_items);
	const struct hf_item *it = &sm->items[item];
	memset(out, 0, sizeof(*out));
	out->id = hf_strpool_get(&sm->strings, it->id);
	out->name = hf_strpool_get(&sm->strings, it->name);
	out->category = hf_strpool_get(&sm->strings, it->category);
	out->description = hf_strpool_get(&sm->strings, it->description);
	out->image_url = hf_strpool_get(&sm->strings, it->image_url);
	out->price = it->price;
}
