/*
 * expiry.c: the expiry index, a binary min-heap of active hold slots
 * ordered by (expires_at_ms, id), so holds due at one instant end in id
 * order on every replay. hf_expiry_run ends every hold with expires_at_ms
 * <= now: "expire exactly at expires_at", with no request needed other than
 * an apply (the sequencer applies TICKs when idle).
 *
 * Invariant: heap[0 .. holds_active) holds exactly the active holds, and
 * holds[heap[i]].heap_pos == i.
 */
#include "core/internal.h"

static bool earlier(const struct hf_sm *sm, uint32_t a, uint32_t b)
{
	const struct hf_hold *x = &sm->holds[a], *y = &sm->holds[b];
	return x->expires_at_ms < y->expires_at_ms ||
	       (x->expires_at_ms == y->expires_at_ms && x->id < y->id);
}

static void place(struct hf_sm *sm, uint32_t pos, uint32_t slot)
{
	sm->heap[pos] = slot;
	sm->holds[slot].heap_pos = pos;
}

static void sift_up(struct hf_sm *sm, uint32_t pos)
{
	uint32_t slot = sm->heap[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (!earlier(sm, slot, sm->heap[parent]))
			break;
		place(sm, pos, sm->heap[parent]);
		pos = parent;
	}
	place(sm, pos, slot);
}

static void sift_down(struct hf_sm *sm, uint32_t pos, uint32_t n)
{
	uint32_t slot = sm->heap[pos];
	for (;;) {
		uint32_t child = 2 * pos + 1;
		if (child >= n)
			break;
		if (child + 1 < n && earlier(sm, sm->heap[child + 1], sm->heap[child]))
			child++;
		if (!earlier(sm, sm->heap[child], slot))
			break;
		place(sm, pos, sm->heap[child]);
		pos = child;
	}
	place(sm, pos, slot);
}

/* The heap's size is holds_active; callers push before counting the hold
 * and remove before uncounting it. */
void hf_expiry_push(struct hf_sm *sm, uint32_t slot)
{
	uint32_t n = sm->holds_active;
	place(sm, n, slot);
	sift_up(sm, n);
}

void hf_expiry_remove(struct hf_sm *sm, uint32_t slot)
{
	uint32_t n = sm->holds_active;
	uint32_t pos = sm->holds[slot].heap_pos;
	HF_ASSERT(pos < n && sm->heap[pos] == slot);
	uint32_t last = sm->heap[n - 1];
	sm->holds[slot].heap_pos = NIL;
	if (pos == n - 1)
		return;
	place(sm, pos, last);
	sift_down(sm, pos, n - 1);
	sift_up(sm, sm->holds[last].heap_pos);
}

void hf_expiry_update(struct hf_sm *sm, uint32_t slot)
{
	/* expires_at only grows */
	sift_down(sm, sm->holds[slot].heap_pos, sm->holds_active);
}

void hf_expiry_run(struct hf_sm *sm, int64_t now_ms)
{
	while (sm->holds_active > 0 && sm->holds[sm->heap[0]].expires_at_ms <= now_ms) {
		hf_hold_end(sm, sm->heap[0], HF_HOLD_EXPIRED_STATE);
		sm->holds_expired_total++;
	}
}
