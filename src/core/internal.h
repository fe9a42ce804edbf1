/*
 * internal.h: the layout of the booking state, shared by the core's files
 * and by nothing else. Everything is allocated once by hf_sm_init; after
 * that the core only moves indices around.
 *
 * Tables and who indexes them:
 *   strings   pool of [u16 len][bytes]; a string id (sid) is the offset of
 *             its length prefix + 1; sid 0 is the empty string. Interned:
 *             one sid per distinct byte string, never freed.
 *   events    [0, n_events), never deleted; map event_by_sid.
 *   seats     [0, n_seats); event e owns [first_seat, first_seat + n_seats);
 *             seat_index finds (event, seat id) -> seat.
 *   items     [0, n_items), never deleted; map item_by_sid.
 *   customers [0, n_customers), never deleted; map customer_by_sid.
 *   holds     slots [0, max_holds); map hold_by_id; a slot is unused, an
 *             active hold, or an ended hold kept for reads (in the `ended`
 *             FIFO, oldest ending first, recycled when slots run out).
 *   orders    [0, n_orders); order id = index + 1; never deleted.
 *   lines     pool with a free list; a hold or order owns two singly linked
 *             lists (seats, items). On confirm the hold's lists move to the
 *             order and the hold shows the order's lines.
 *   expiry    binary min-heap of active hold slots by (expires_at, id).
 *   per_cust_event  map (customer, event) -> seats HELD + SOLD there.
 *   idem      FIFO of entries (by storing time) over a byte ring.
 *   rows      (derived; rows.c) each event's seats grouped into rows
 *             ("blocks"), laid out in row_seat[] in the order best
 *             available prefers them, each with a free-run tree. Made
 *             when first needed (the orphan rule, best available), never
 *             written to a snapshot or hashed into the digest: a function
 *             of the seats and their states.
 *
 * Invariants (hf_sm_check verifies them all):
 *   seat HELD  <=> exactly one active hold's seat list has it; owner = slot
 *   seat SOLD  <=> exactly one non-canceled order's seat list has it; owner = order index
 *   item.held  == sum of item lines of active holds
 *   item.sold  == sum of item lines of non-canceled orders
 *   event.count[s] == seats of the event in state s
 *   active hold <=> in the expiry heap at heap_pos
 *   (events whose trees are built) row tree leaf of a seat == (seat
 *   FREE); every inner node combines its children; row.n_free == FREE
 *   seats of the row
 */
#ifndef HF_CORE_INTERNAL_H
#define HF_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/assert.h"
#include "base/hash.h"
#include "core/sm.h"

#define NIL UINT32_MAX

/* ---- index.c: string pool and maps ------------------------------------ */

struct hf_strpool {
	uint8_t *bytes;
	uint32_t used, cap; /* bytes[0] is unused so that sid 0 means empty */
	uint32_t *slots;    /* open addressing: sid or 0 */
	uint32_t mask, count;
};

/* u64 key (never 0) -> u32 value; linear probing, backward-shift delete. */
struct hf_map {
	uint64_t *keys;
	uint32_t *vals;
	uint32_t mask, count;
};

int hf_strpool_init(struct hf_strpool *p, uint32_t cap_bytes);
void hf_strpool_free(struct hf_strpool *p);
uint32_t hf_strpool_find(const struct hf_strpool *p, struct hf_str s); /* sid or 0 */
/* sid (found or added); the caller checked room with hf_strpool_room. */
uint32_t hf_strpool_intern(struct hf_strpool *p, struct hf_str s);
bool hf_strpool_room(const struct hf_strpool *p, uint64_t bytes, uint32_t strings);
int hf_strpool_rebuild(struct hf_strpool *p);
/* sid is the start of an interned string (not 0, not inside a string). */
bool hf_strpool_valid(const struct hf_strpool *p, uint32_t sid);
struct hf_str hf_strpool_get(const struct hf_strpool *p, uint32_t sid);
static inline uint64_t hf_strpool_cost(struct hf_str s)
{
	return s.len ? 2u + s.len : 0;
}

int hf_map_init(struct hf_map *m, uint32_t capacity);
void hf_map_free(struct hf_map *m);
uint32_t hf_map_get(const struct hf_map *m, uint64_t key); /* value or NIL */
uint32_t *hf_map_ref(struct hf_map *m, uint64_t key);      /* value slot or NULL */
void hf_map_put(struct hf_map *m, uint64_t key, uint32_t val);
void hf_map_del(struct hf_map *m, uint64_t key);

/* ---- the state ---------------------------------------------------------- */

struct hf_event {
	uint32_t id, name; /* sids */
	int64_t starts_at_ms, sale_opens_at_ms, sale_closes_at_ms;
	uint32_t hold_ttl_s, max_per_customer;
	uint32_t first_seat, n_seats;
	uint32_t count[4];
	uint8_t orphan_rule;          /* enum hf_orphan_rule */
};

/* An event's rows (derived, rows.c; made when first needed, not in
 * snapshots). An event of n seats from seat f owns fixed ranges: rows
 * [f, f + n_rows), positions row_seat[f .. f + n), trees
 * row_tree[4f .. 4f + 4n) and its max tree row_max[4f .. 4f + 2 rows_cap)
 * (rows <= seats, and a row of len seats needs 2 pow2(len) < 4 len
 * nodes). */
struct hf_event_rows {
	uint32_t first_row, n_rows;   /* first_row = the event's first_seat */
	uint32_t rows_tree, rows_cap; /* rows_tree = 4 first_seat; rows_cap = pow2 >= n_rows */
	bool built;                   /* rows laid out (row_seat, seat_at, rows) */
	bool indexed;                 /* trees built and kept current, row.n_free kept */
};

/* A row in the sense of SPEC section 9 (rows.c): seats of one event with
 * one section and row, ordered by (number, seat index), split wherever a
 * number is not the previous plus one (an aisle, a gap in numbering). Its
 * seats are row_seat[first .. first + len); the position of a seat in
 * row_seat[] is seat_at[seat]. */
struct hf_row {
	uint32_t first, len;
	uint32_t tree, cap;  /* free-run tree: row_tree[tree .. tree + 2 * cap), cap = 2^k >= len */
	uint32_t n_free;     /* seats FREE */
	uint32_t longest;    /* the longest free run: its tree's root (and a leaf of
			      * the event's row_max tree) */
	uint32_t event;
	uint32_t section;    /* sid */
	uint32_t category;   /* sid every seat of the row has, or HF_ROW_MIXED */
};
#define HF_ROW_MIXED UINT32_MAX

/* A node of a free-run tree over a row's positions (leaves: 1 = free):
 * the free run at its range's start, at its end, and the longest inside. */
struct hf_run {
	uint32_t pre, suf, best;
};

/* 40 bytes: the per-seat cost (plus ~8 bytes of index). */
struct hf_seat {
	uint32_t id, section, row, category; /* sids */
	int32_t number;
	uint32_t owner; /* HELD: hold slot; SOLD: order index; else NIL */
	int64_t price;
	uint8_t state;
};

struct hf_item {
	uint32_t id, name, category, description, image_url; /* sids */
	int64_t price;
	uint32_t available, held, sold;
};

struct hf_customer {
	uint32_t name;        /* sid */
	uint32_t active_holds;
	uint32_t hold_head;   /* newest active hold slot */
	uint32_t order_head;  /* newest order index */
};

struct hf_line {
	uint32_t ref;       /* seat or item index */
	uint32_t quantity;  /* 1 for seats */
	uint32_t requested;
	uint32_t next;      /* next line of the same list, or NIL */
	int64_t price;      /* unit price */
};

struct hf_list {
	uint32_t head, tail, n;
};

enum { HOLD_SLOT_UNUSED = 0xff };

struct hf_hold {
	uint64_t id;
	uint64_t order;   /* CONFIRMED: the order id */
	int64_t created_at_ms, expires_at_ms;
	uint32_t customer;
	uint32_t heap_pos;            /* active: position in the expiry heap */
	uint32_t cust_prev, cust_next; /* active: the customer's list */
	struct hf_list seats, items;  /* empty once confirmed (moved to the order) */
	uint8_t state;                /* enum hf_hold_state or HOLD_SLOT_UNUSED */
};

struct hf_order {
	int64_t created_at_ms;
	uint32_t customer;
	uint32_t cust_next; /* the customer's next older order */
	struct hf_list seats, items;
	uint8_t status;
};

struct hf_idem_entry {
	uint64_t key;          /* hash of (customer, idem key); map key */
	uint64_t fingerprint;
	int64_t stored_at_ms;
	uint32_t data_off;     /* in idem_data: customer, key, encoded reply */
	uint32_t data_len;
	uint16_t customer_len, key_len;
};

struct hf_sm {
	struct hf_sm_config cfg;
	int64_t now_ms;
	uint64_t next_hold_id, next_order_id; /* the last ids given */
	uint64_t holds_expired_total;

	struct hf_strpool strings;

	struct hf_event *events;
	uint32_t n_events;
	struct hf_map event_by_sid;

	struct hf_seat *seats;
	uint32_t n_seats;
	uint32_t *seat_slots; /* seat index + 1, or 0 */
	uint32_t seat_mask;

	struct hf_item *items;
	uint32_t n_items;
	struct hf_map item_by_sid;

	struct hf_customer *customers;
	uint32_t n_customers;
	struct hf_map customer_by_sid;
	struct hf_map per_cust_event;

	struct hf_hold *holds;
	uint32_t holds_used;   /* slots [0, holds_used) have been used */
	uint32_t holds_active;
	uint32_t holds_free;   /* unused slots below holds_used, linked by cust_next */
	struct hf_map hold_by_id;
	uint32_t *ended;       /* FIFO ring of ended hold slots */
	uint32_t ended_head, ended_count;
	uint32_t *heap;        /* expiry heap of active hold slots */

	struct hf_order *orders;
	uint32_t n_orders;

	struct hf_line *lines;
	uint32_t lines_hwm;    /* lines [0, lines_hwm) have been used */
	uint32_t lines_free;   /* head of the free list */
	uint32_t lines_used;
	uint32_t lines_in_ended; /* lines held by ended (not confirmed) holds */

	struct hf_idem_entry *idem;
	uint32_t idem_head, idem_count;
	uint8_t *idem_data;
	struct hf_map idem_by_key;

	/* rows (derived, rows.c) */
	struct hf_event_rows *event_rows; /* by event */
	struct hf_row *rows;
	struct hf_run *row_tree;
	uint32_t *row_max;     /* per event: a max tree over its rows' longest runs */
	uint32_t *row_seat;    /* position -> seat */
	uint32_t *seat_at;     /* seat -> position */
	uint32_t *sort_a, *sort_b, *sort_c, *sort_d; /* min(HF_EVENT_SEATS_MAX, max_seats) each:
						       * laying out rows */

	/* hf_sm_check's scratch, allocated at init so checks never allocate. */
	uint64_t *check_item_held, *check_item_sold;
	uint8_t *check_line_mark, *check_hold_mark, *check_seat_mark;
	struct hf_map check_pce;
};

/* ---- shared helpers ----------------------------------------------------- */

bool hf_id_valid(struct hf_str s);
static inline bool hf_text_valid(struct hf_str s, uint32_t max)
{
	return s.len <= max;
}

static inline uint64_t hf_pce_key(uint32_t customer, uint32_t event)
{
	return ((uint64_t)customer << 32 | event) + 1;
}
static inline uint64_t hf_sid_key(uint32_t sid)
{
	return sid; /* sids are never 0 for a non-empty string */
}

void hf_reply_reset(struct hf_reply *r, enum hf_result result);

/* catalog.c */
void hf_catalog_event_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_catalog_seats_block(struct hf_sm *sm, const struct hf_cmd *cmd, bool block,
			    struct hf_reply *r);
void hf_catalog_item_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_catalog_item_restock(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
int64_t hf_catalog_seat_find(const struct hf_sm *sm, uint32_t event, uint32_t seat_sid);
void hf_catalog_seat_set(struct hf_sm *sm, uint32_t seat, uint8_t state, uint32_t owner);
uint32_t hf_catalog_seat_event(const struct hf_sm *sm, uint32_t seat);
int hf_catalog_index_rebuild(struct hf_sm *sm); /* snapshot load; -1 on bad data */

/* lines (hold.c) */
uint32_t hf_line_alloc(struct hf_sm *sm);
void hf_list_append(struct hf_sm *sm, struct hf_list *l, uint32_t line);
void hf_list_free(struct hf_sm *sm, struct hf_list *l);

/* hold.c */
void hf_hold_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_hold_add(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_hold_remove(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_hold_extend(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_hold_release(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_hold_confirm(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_hold_end(struct hf_sm *sm, uint32_t slot, uint8_t state);
void hf_hold_view(const struct hf_sm *sm, uint32_t slot, struct hf_booking *out);
void hf_booking_totals(const struct hf_sm *sm, struct hf_booking *b);

/* order.c */
void hf_order_create(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_order_cancel(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_order_status(struct hf_sm *sm, const struct hf_cmd *cmd, struct hf_reply *r);
void hf_order_view(const struct hf_sm *sm, uint32_t order, struct hf_booking *out);
/* the new order's index, lines moved from the hold (active; or expired
 * and late: its seats FREE and its stock available); the caller checked
 * room */
uint32_t hf_order_from_hold(struct hf_sm *sm, uint32_t slot, bool late);

/* expiry.c */
void hf_expiry_push(struct hf_sm *sm, uint32_t slot);
void hf_expiry_remove(struct hf_sm *sm, uint32_t slot);
void hf_expiry_update(struct hf_sm *sm, uint32_t slot); /* after expires_at grew */
void hf_expiry_run(struct hf_sm *sm, int64_t now_ms);

/* rows.c: rows, their free-run trees, best available, the orphan rule */
/* A seat of event became (not) FREE: keeps the event's trees, if built. */
void hf_rows_seat_free(struct hf_sm *sm, uint32_t event, uint32_t seat, bool free);
int hf_rows_check(const struct hf_sm *sm, char *msg, size_t msg_cap);
struct hf_resolved;
/* Appends best.count chosen seats of event to res (new seats) after its
 * own; HF_OK, or HF_SEATS_UNAVAILABLE with r->available. */
enum hf_result hf_rows_choose(struct hf_sm *sm, uint32_t event, const struct hf_best *best,
			      struct hf_resolved *res, bool *together /* out */, struct hf_reply *r);
/* HF_OK, or HF_ORPHAN_SEAT with the seats the new seats of res would strand
 * in events with the no_single_gaps rule. */
enum hf_result hf_rows_orphan_check(struct hf_sm *sm, const struct hf_resolved *res,
				    struct hf_reply *r);

/* idempotency.c */
enum hf_idem_lookup { HF_IDEM_NEW, HF_IDEM_REPLAY, HF_IDEM_REUSED, HF_IDEM_FULL };
enum hf_idem_lookup hf_idem_lookup(struct hf_sm *sm, const struct hf_cmd *cmd,
				   struct hf_reply *r /* out: on REPLAY */);
void hf_idem_store(struct hf_sm *sm, const struct hf_cmd *cmd, const struct hf_reply *r);
void hf_idem_expire(struct hf_sm *sm, int64_t now_ms);

/* the "lines" of a command, resolved (hold.c; used by order.c) */
struct hf_resolved {
	uint32_t n_seats;
	uint32_t seat[HF_HOLD_SEATS_MAX];
	uint32_t seat_event[HF_HOLD_SEATS_MAX];
	uint32_t n_items; /* merged */
	uint32_t item[HF_HOLD_ITEMS_MAX];
	uint32_t quantity[HF_HOLD_ITEMS_MAX];
	uint32_t take[HF_HOLD_ITEMS_MAX];
	bool partial[HF_HOLD_ITEMS_MAX];
	bool new_seat[HF_HOLD_SEATS_MAX]; /* HOLD_ADD: not already in the hold */
	uint32_t best_event;              /* best.count > 0: its event */
	bool chosen, together;            /* seats were chosen; side by side */
};
/* Validates and resolves cmd->u.lines: TOO_MANY_LINES, BAD_REQUEST, the hold
 * checks (with_hold: *slot is the hold), UNKNOWN_EVENT/SEAT/ITEM. Items are
 * merged. On refusal r is filled and the result returned. */
enum hf_result hf_lines_resolve(struct hf_sm *sm, const struct hf_cmd *cmd, bool with_hold,
				uint32_t *slot /* out, with_hold */, struct hf_resolved *res,
				struct hf_reply *r);
/* SALE_CLOSED .. INSUFFICIENT_STOCK for `customer` (NIL: new); hold_slot
 * is the hold added to (its seats are not new) or NIL. Fills res->take and
 * res->new_seat. */
enum hf_result hf_lines_take_check(struct hf_sm *sm, const struct hf_cmd *cmd, uint32_t customer,
				   bool count_holds, uint32_t hold_slot, struct hf_resolved *res,
				   struct hf_reply *r);
/* Customer index for cmd->customer, or NIL (without creating it). */
uint32_t hf_customer_lookup(const struct hf_sm *sm, struct hf_str name);
uint32_t hf_customer_get_or_add(struct hf_sm *sm, struct hf_str name);
/* Lines that can be allocated now (free, never used, or held by ended holds
 * that would be recycled). */
uint64_t hf_lines_available(const struct hf_sm *sm);
/* A hold slot can be had (unused, or the oldest ended hold recycled). */
bool hf_hold_slot_available(const struct hf_sm *sm);
/* Customer id required: valid, or empty only with admin when allowed. */
bool hf_customer_ok(const struct hf_cmd *cmd, bool admin_may_omit);
void hf_pce_add(struct hf_sm *sm, uint32_t customer, uint32_t event, int delta);

#endif
