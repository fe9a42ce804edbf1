/*
 * model.h: the reference model of the booking state machine, written from
 * the SEMANTICS comment of src/core/sm.h and nothing else. The simulation
 * (sim.c) applies every command to the core and to this model and demands
 * identical replies and identical read views.
 *
 * It is deliberately simple and deliberately different from the core: plain
 * arrays searched by linear scans, no hash tables, no expiry index, every
 * hold and order stored as the struct hf_booking a reply would show, totals
 * recomputed from lines whenever they are shown. Speed is not a goal; being
 * obviously right is. It never includes or copies the core's .c code; it uses
 * only the types of cmd.h and sm.h.
 *
 * What it mirrors and what it cannot:
 *   - events, seats, items, customers, orders and hold slots are mirrored
 *     exactly, including their capacities (max_events, max_seats, max_items,
 *     max_customers, max_orders, max_holds with the recycling of the slot of
 *     the hold that ended longest ago);
 *   - capacities that depend on the core's representation (string_bytes,
 *     max_lines, idem_entries, idem_bytes) are not mirrored: the simulation
 *     configures them large enough never to fill.
 *
 * Invariants (model_check verifies them by recounting):
 *   - a seat is HELD iff exactly one active hold lists it, SOLD iff exactly
 *     one order that is not canceled lists it, BLOCKED only if neither;
 *   - item held = sum of the lines of active holds, sold = sum of the lines
 *     of orders that are not canceled; nothing negative;
 *   - holds[0..n_holds) are distinct ids, n_holds <= max_holds; orders[i]
 *     has id i + 1.
 *
 * Ownership: the model owns every byte it points to (strings are copied in
 * on apply); struct model is exposed read-only so the generator can pick
 * real ids from it. Only model_apply changes it. Free with model_free.
 */
#ifndef HF_TESTS_SIM_MODEL_H
#define HF_TESTS_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd.h"
#include "core/sm.h" /* struct hf_sm_config and the info structs (types only) */

struct model_event {
	struct hf_str id, name;
	int64_t starts_at_ms, sale_opens_at_ms, sale_closes_at_ms;
	uint32_t hold_ttl_s, max_per_customer;
	uint8_t orphan_rule;
	uint32_t first_seat, n_seats;
};

struct model_seat {
	struct hf_str id, section, row, category;
	int32_t number;
	int64_t price;
	uint32_t event;
	uint8_t state; /* enum hf_seat_state */
};

struct model_item {
	struct hf_str id, name, category, description, image_url;
	int64_t price;
	uint32_t available, held, sold;
};

/* A hold is kept exactly as a reply shows it (b.state is an enum
 * hf_hold_state); totals and the lines' available stock in b
 * are stale: model_totals fills them whenever the hold is shown. */
struct model_hold {
	struct hf_booking b;
	uint64_t ended_seq; /* 0 while active; then 1, 2, ... in the order holds ended */
};

struct model_order {
	struct hf_booking b; /* b.state is an enum hf_order_status */
};

struct model_idem {
	struct hf_str customer, key;
	uint64_t fingerprint;
	int64_t stored_at_ms;
	struct hf_reply reply; /* as first answered (replayed = false) */
};

struct model {
	struct hf_sm_config cfg;
	int64_t now_ms;
	uint64_t next_hold_id, next_order_id;
	uint64_t ended_seq; /* last ended_seq handed out */
	uint64_t expired_total;  /* holds that expired since model_new */
	uint64_t recycled_total; /* hold slots recycled since model_new */

	struct model_event *events;
	uint32_t n_events;
	struct model_seat *seats;
	uint32_t n_seats, cap_seats;
	struct model_item *items;
	uint32_t n_items;
	struct hf_str *customers; /* customer index -> name */
	uint32_t n_customers, cap_customers;
	struct model_hold *holds; /* the kept holds (active and ended), any order */
	uint32_t n_holds;
	struct model_order *orders; /* orders[i].b.id == i + 1 */
	uint32_t n_orders, cap_orders;
	struct model_idem *idem;
	uint32_t n_idem, cap_idem;
};

/* A model with cfg's capacities and policy. Aborts when memory is short. */
struct model *model_new(const struct hf_sm_config *cfg);
void model_free(struct model *m);

/* Applies cmd at now_ms exactly as sm.h's SEMANTICS says; reply is zeroed
 * first, so unused fields and the unused tails of arrays are 0. cmd is only
 * read during the call. */
void model_apply(struct model *m, int64_t now_ms, const struct hf_cmd *cmd,
		 struct hf_reply *reply /* out */);

/* ---- reads, mirroring hf_sm_* ----------------------------------------- */

int64_t model_event_find(const struct model *m, struct hf_str id);
int64_t model_seat_find(const struct model *m, uint32_t event, struct hf_str id);
int64_t model_item_find(const struct model *m, struct hf_str id);
int64_t model_customer_find(const struct model *m, struct hf_str id);

/* Strings in out point into the model (valid until model_free). */
void model_event_info(const struct model *m, uint32_t event, struct hf_event_info *out);
void model_seat_info(const struct model *m, uint32_t seat, struct hf_seat_info *out);
void model_item_info(const struct model *m, uint32_t item, struct hf_item_info *out);

/* HF_OK with *out filled (zeroed first), or HF_UNKNOWN_HOLD / ORDER. */
enum hf_result model_hold_view(const struct model *m, uint64_t id, struct hf_booking *out);
enum hf_result model_order_view(const struct model *m, uint64_t id, struct hf_booking *out);

/* Active holds / all orders of a customer, newest first, ids < after
 * (after 0: no bound), at most limit. Returns how many ids were written. */
uint32_t model_customer_holds(const struct model *m, uint32_t customer, uint64_t after,
			      uint32_t limit, uint64_t *ids /* out */);
uint32_t model_customer_orders(const struct model *m, uint32_t customer, uint64_t after,
			       uint32_t limit, uint64_t *ids /* out */);

/* The kept hold with this id, or NULL (for the generator). */
const struct model_hold *model_hold_get(const struct model *m, uint64_t id);
uint32_t model_active_holds(const struct model *m);

/* Recounts every invariant listed at the top. 0, or -1 with msg. */
int model_check(const struct model *m, char *msg, size_t msg_cap);

#endif
