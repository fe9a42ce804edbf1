/*
 * observe.h: what an observer of the state machine (the engine's change
 * feed, src/server/feed.c) needs beyond sm.h, without touching how commands
 * apply: which holds the next apply will expire, and the immutable part of
 * a seat (safe from any thread). Pure reads; nothing here changes sm.
 */
#ifndef HF_CORE_OBSERVE_H
#define HF_CORE_OBSERVE_H

#include <stdint.h>

#include "core/sm.h"

/* The ids of the active holds an apply at now_ms would expire (step b of
 * sm.h: expires_at_ms <= max(now_ms, the state's now)), in the order they
 * end (expires_at_ms, id). Writes at most cap (sorted only when all fit); returns how many are
 * due (may be more than cap: call again with a larger buffer). */
struct hf_hold_due {
	int64_t expires_at_ms;
	uint64_t id;
};
uint32_t hf_sm_holds_due(const struct hf_sm *sm, int64_t now_ms, struct hf_hold_due *out /* out */,
			 uint32_t cap);

/* A seat's catalog fields (state left 0): written once when its event is
 * created and never changed, so safe from any thread for a seat index
 * taken from a reply or an observer, like the names of sm.h. */
void hf_sm_seat_static(const struct hf_sm *sm, uint32_t seat, struct hf_seat_info *out /* out */);
/* The same for an event (counts left 0) and an item (counters left 0). */
void hf_sm_event_static(const struct hf_sm *sm, uint32_t event, struct hf_event_info *out /* out */);
void hf_sm_item_static(const struct hf_sm *sm, uint32_t item, struct hf_item_info *out /* out */);

#endif
