/*
 * observe.c: read-only views for observers of the state (observe.h). The
 * due holds are found by walking the expiry heap from its root, pruning at
 * the first node not due (a heap's children are never earlier than their
 * parent), then sorted into the order hf_expiry_run ends them.
 */
#include <stdlib.h>

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
