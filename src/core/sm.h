/*
 * sm.h: the booking state machine. Pure: no I/O, no clock reads, no threads,
 * no allocation after hf_sm_init. One thread applies commands in one total
 * order; the same commands with the same now_ms give the same state (and
 * hf_sm_digest proves it).
 *
 * ======================================================================
 * SEMANTICS (the contract; tests/sim/model.c implements it independently)
 * ======================================================================
 *
 * Every apply, whatever the command:
 *   a. now = max(now_ms, previous now) (time never runs backwards).
 *   b. Every active hold with expires_at_ms <= now becomes EXPIRED: its seats
 *      return to FREE, its item quantities move from held to available.
 *      Holds expiring in one apply end in order of (expires_at_ms, id).
 *      Idempotency entries stored at or before now - idem_retention_ms are
 *      forgotten.
 *   c. An unknown type, an idem_key that is not empty and not a valid id,
 *      or a customer longer than HF_ID_LEN_MAX: HF_BAD_REQUEST (not stored).
 *      Idempotency: if cmd.idem_key is not empty, look up (cmd.customer,
 *      idem_key): same fingerprint -> the stored reply with replayed = true,
 *      nothing else happens; other fingerprint -> HF_IDEMPOTENCY_KEY_REUSED
 *      (not stored). If the table has no room: HF_CAPACITY_FULL (not stored).
 *   d. The command is applied (below); a refusal changes nothing.
 *   e. If idem_key is not empty the reply is stored, refusals included,
 *      except HF_CAPACITY_FULL (a retry may succeed once room is made).
 *
 * Validity of fields (HF_BAD_REQUEST): ids match [A-Za-z0-9._:-]{1,64};
 * names 1..HF_NAME_LEN_MAX bytes (section/row/category 0..HF_NAME_LEN_MAX);
 * description, image_url 0..HF_TEXT_LEN_MAX; prices 0..HF_PRICE_MAX; times
 * 0..HF_TIME_MS_MAX; quantities 1..HF_QUANTITY_MAX.
 *
 * "Customer required": cmd.customer must be a valid id, except that with
 * cmd.admin an empty customer is allowed for commands on an existing hold
 * or order. Ownership (HF_NOT_OWNER) is checked only without cmd.admin.
 *
 * Checks run in the order listed; the first failing one is the reply.
 *
 * TICK: nothing; HF_OK, kind NONE.
 *
 * EVENT_CREATE: BAD_REQUEST (fields; n_seats == 0; hold_ttl_s >
 *   hold_lifetime_max_s; sale_opens_at >= sale_closes_at when both are set;
 *   orphan_rule not an enum hf_orphan_rule);
 *   TOO_MANY_LINES (n_seats > HF_EVENT_SEATS_MAX); ALREADY_EXISTS;
 *   CAPACITY_FULL (events, seats, strings); BAD_REQUEST (two seats with one
 *   id). hold_ttl_s 0 is stored as HF_HOLD_TTL_DEFAULT_S. Reply EVENT.
 *
 * SEATS_BLOCK / SEATS_UNBLOCK: BAD_REQUEST (n_seats == 0, bad ids);
 *   TOO_MANY_LINES (> HF_BLOCK_SEATS_MAX); UNKNOWN_EVENT; UNKNOWN_SEAT
 *   (bad_seats = request positions of every unknown seat); SEATS_UNAVAILABLE
 *   (bad_seats = every named seat that is HELD or SOLD, once per time it
 *   is named). Then block makes
 *   every named seat BLOCKED, unblock makes it FREE (naming a seat twice, or
 *   blocking a blocked seat, is fine). Reply EVENT.
 *
 * ITEM_CREATE: BAD_REQUEST (fields; stock > HF_STOCK_MAX); ALREADY_EXISTS;
 *   CAPACITY_FULL. Reply ITEM.
 * ITEM_RESTOCK: BAD_REQUEST (quantity 0 or > HF_STOCK_MAX); UNKNOWN_ITEM;
 *   LIMIT_EXCEEDED (available + held + sold + quantity > HF_STOCK_MAX;
 *   limit STOCK_MAX, max HF_STOCK_MAX, current available + held + sold,
 *   requested quantity, ref the item).
 *   available += quantity. Reply ITEM.
 *
 * Lines (HOLD_CREATE, HOLD_ADD, HOLD_REMOVE, ORDER_CREATE) are resolved so:
 *   TOO_MANY_LINES (n_seats > HF_HOLD_SEATS_MAX or n_items >
 *   HF_HOLD_ITEMS_MAX or n_seats + best.count > HF_HOLD_SEATS_MAX);
 *   BAD_REQUEST (customer required; bad ids or quantities; no lines at all
 *   and best.count == 0; one (event, seat) named twice; best.count == 0
 *   with a best string not empty; best.count > 0 in HOLD_ADD or
 *   HOLD_REMOVE, or with best.event not a valid id);
 *   [hold checks, for ADD/REMOVE]; UNKNOWN_EVENT (bad_seats = {position of
 *   the first seat line whose event is unknown}; then, best.event unknown:
 *   bad_seats = {n_seats}); UNKNOWN_SEAT (bad_seats =
 *   positions of every unknown seat); UNKNOWN_ITEM (bad_item = position of
 *   the first unknown item). Item lines naming one item are merged in the
 *   order of first appearance (quantities summed; partial only if every
 *   merged line is partial); a merged quantity above HF_QUANTITY_MAX is
 *   BAD_REQUEST (checked after UNKNOWN_ITEM).
 *
 * Hold checks (ADD, REMOVE, EXTEND, RELEASE, CONFIRM): UNKNOWN_HOLD;
 *   NOT_OWNER; HOLD_EXPIRED (state EXPIRED); HOLD_NOT_ACTIVE (CONFIRMED or
 *   RELEASED).
 *
 * Taking inventory (HOLD_CREATE, HOLD_ADD, ORDER_CREATE), after lines:
 *   SALE_CLOSED (the event of a seat named, even one already in the hold,
 *   or best.event, has sale_opens_at_ms > now, or sale_closes_at_ms != 0
 *   and now >= sale_closes_at_ms);
 *   LIMIT_EXCEEDED (HOLD_CREATE: the customer already has
 *   HF_CUSTOMER_HOLDS_MAX active holds: limit HOLDS_PER_CUSTOMER, max
 *   HF_CUSTOMER_HOLDS_MAX, current its active holds, requested 1; then,
 *   per event with max_per_customer > 0, in the order of each event's
 *   first new seat (the best.count seats to choose come after the named
 *   ones): the customer's HELD + SOLD seats of that event plus its new
 *   seats > max_per_customer: limit SEATS_PER_CUSTOMER, max
 *   max_per_customer, current HELD + SOLD, requested new seats, ref the
 *   event; for HOLD_ADD the customer is the hold's owner, whoever acts);
 *   SEATS_UNAVAILABLE (bad_seats = every new seat that is HELD or SOLD, in
 *   request order; for HOLD_ADD a seat already in this hold is not new and
 *   is skipped);
 *   SEATS_BLOCKED (bad_seats = every new seat that is BLOCKED);
 *   best.count > 0: SEATS_UNAVAILABLE (no bad_seats; available = the
 *   free matching seats of best.event not named in the request) when
 *   fewer than best.count; else best.count seats are chosen ("Choosing
 *   seats" below) and appended to the seat lines as new seats;
 *   ORPHAN_SEAT (bad_seats = the seats stranded, "Orphan rule" below);
 *   INSUFFICIENT_STOCK (for each merged item in order: take = quantity if
 *   quantity <= available; else min(quantity, available) if partial; the
 *   first item whose take would be 0 or short is the refusal: bad_item =
 *   item index, available = its available).
 *   Then seats become HELD (SOLD for ORDER_CREATE), items move take from
 *   available to held (sold).
 *
 * HOLD_CREATE: lines (its BAD_REQUEST also covers ttl_s >
 *   hold_lifetime_max_s); CAPACITY_FULL (a new customer when customers are
 *   full; no hold slot: all slots are active holds); taking inventory. ttl = ttl_s, or if 0 the least
 *   hold_ttl_s of the seats' events, or HF_HOLD_TTL_DEFAULT_S with no seats.
 *   id = next hold id (1, 2, ...; a refusal uses none), created_at = now,
 *   expires_at = now + ttl * 1000. Seat lines in request order, item lines
 *   in merge order with quantity = take, requested = merged quantity,
 *   price = the item's price. Hold slots: when all are used, the slot of
 *   the hold that ended (was confirmed, released or expired) longest ago is
 *   recycled and that hold's id becomes unknown (only when the command
 *   succeeds). The chosen seats count in ttl as seats of best.event.
 *   Reply HOLD, with best = (best.count > 0) and together as chosen.
 * HOLD_ADD: lines (with hold checks); TOO_MANY_LINES (the hold would have
 *   more than HF_HOLD_SEATS_MAX seats or HF_HOLD_ITEMS_MAX items, or an item
 *   line whose requested + merged quantity passes HF_QUANTITY_MAX); taking
 *   inventory (without the active-holds limit). New seats are appended; an
 *   item already in the hold adds take to its quantity and the merged
 *   quantity to its requested, else a new line is appended. expires_at is
 *   unchanged. Reply HOLD.
 * HOLD_REMOVE: lines (with hold checks). Each named seat in the hold is
 *   dropped (FREE again); a named seat not in the hold is ignored. Each
 *   merged item in the hold loses r = min(quantity asked, line quantity)
 *   from quantity and requested (held -> available); a line reaching 0 is
 *   dropped; an item not in the hold is ignored. The hold may become empty.
 *   Reply HOLD.
 * HOLD_EXTEND: BAD_REQUEST (customer required; ttl_s == 0 or >
 *   hold_lifetime_max_s); hold checks. expires_at = max(expires_at,
 *   min(now + ttl_s * 1000, created_at + hold_lifetime_max_s * 1000)).
 *   Reply HOLD.
 * HOLD_RELEASE: BAD_REQUEST (customer required); hold checks. RELEASED,
 *   inventory returned. Reply HOLD.
 * HOLD_CONFIRM: BAD_REQUEST (customer required; accept_late without
 *   admin); hold checks, except that an EXPIRED hold with accept_late is a
 *   late confirm: HOLD_EXPIRED (bad_seats = every seat of the hold, in
 *   line order, that is not FREE; item_short with bad_item, available =
 *   the first item line whose quantity > the item's available), unless
 *   nothing is named; BAD_REQUEST (the hold has no lines); CAPACITY_FULL
 *   (orders). The hold becomes CONFIRMED with order = the new order's id;
 *   an order (id = next order id, customer = the hold's, created_at = now,
 *   UNDER_REVIEW) gets the hold's lines in the same order, at their
 *   prices; seats HELD (late: FREE) -> SOLD, items held (late: available)
 *   -> sold. The sale window, the customer limits and the orphan rule are
 *   not checked again. A late-confirmed hold keeps its place among the
 *   ended holds (slot recycling order). Reply ORDER.
 * ORDER_CREATE: lines; CAPACITY_FULL (new customer; orders); taking
 *   inventory, straight to SOLD. Lines as HOLD_CREATE. Reply ORDER (best
 *   and together as HOLD_CREATE).
 *
 * Rows (SPEC section 9). The seats of an event with one section and one
 * row, ordered by (number, seat-list index), are split wherever a number
 * is not the previous number plus one; each piece is a *row* (an aisle or
 * a gap in numbering ends a row). A seat's neighbours are the seats beside
 * it in its row; at the first and last seat, one side is the row's end.
 * Rows are ranked by the seat-list index of their first-listed seat (the
 * event's seat list says which rows come first). Positions in a row of L
 * seats run 0 .. L-1; c seats from position p are *nearer the middle*
 * than others when |2p + c - L| is smaller.
 *
 * Choosing seats (best.count = c > 0, event E, after SEATS_BLOCKED). A
 * seat *matches* when best.section is empty or equals its section, and
 * best.category is empty or equals its category. "Free" here means FREE
 * and not named in the request (nor already chosen). A *run* is a maximal
 * stretch of a row of free matching seats. Taking the seats [p, p + c) of
 * a row *strands* when a seat beside them is free and its other neighbour
 * is the row's end or not free.
 *   1. Together: among every c side-by-side free matching seats of E's
 *      rows (when E's rule is NO_SINGLE_GAPS, only those that strand
 *      nothing), the least by (row rank, strands, nearness to the middle,
 *      p). together = true.
 *   2. Otherwise (together = false): each row in rank order, each run left
 *      to right: a run no longer than the seats still to choose is taken
 *      whole. Then, if r > 0 seats remain, they are chosen as in 1. as a
 *      group of r (with NO_SINGLE_GAPS preferring those that strand
 *      nothing; when all strand, the least by (row rank, nearness, p)).
 *   The chosen seats follow the named ones in row rank, then position,
 *   order.
 *
 * Orphan rule (events with NO_SINGLE_GAPS; HOLD_CREATE, HOLD_ADD,
 * ORDER_CREATE). For each new seat in line order, its left then its right
 * neighbour x: when x is FREE and not new, and x's other neighbour is the
 * row's end or not (FREE and not new), x is stranded (named once, in the
 * order found). Any stranded seat: ORPHAN_SEAT.
 * ORDER_CANCEL: BAD_REQUEST (customer required); UNKNOWN_ORDER; NOT_OWNER;
 *   INVALID_TRANSITION (status SHIPPED, DELIVERED or CANCELED;
 *   current_status set). CANCELED; seats SOLD -> FREE; items sold ->
 *   available. Reply ORDER.
 * ORDER_STATUS: BAD_REQUEST (status > CANCELED; expect neither a status
 *   nor HF_ORDER_STATUS_ANY); UNKNOWN_ORDER; NOT_OWNER (always, without
 *   admin); STATUS_MISMATCH (expect given and != current; current_status
 *   set); INVALID_TRANSITION (current DELIVERED or CANCELED; status <=
 *   current; status CANCELED with current SHIPPED or later; current_status
 *   set). CANCELED is applied as ORDER_CANCEL. Reply ORDER.
 *
 * Totals: total = sum of seat prices + sum of item quantity * price. Fees
 * (shipping) = shipping_fee when the booking has an item line and not
 * (free_shipping_over > 0 and total >= free_shipping_over), else 0;
 * total_with_fees = total + fees. An order keeps the totals of its lines.
 *
 * Reads: an ended hold keeps showing the lines it had when it ended (a
 * confirmed hold shows its order's lines, a canceled order its own). Each
 * item line of a view carries the item's available stock at that moment
 * (in a reply: right after the command; "what is left" for a cart).
 * CAPACITY_FULL for lines (HOLD_CREATE, HOLD_ADD after its TOO_MANY_LINES,
 * ORDER_CREATE) depends on the representation; the reference model assumes
 * it never happens.
 *
 * Refusal details are recorded for at most HF_HOLD_SEATS_MAX seats
 * (n_bad_seats is then HF_HOLD_SEATS_MAX).
 * ======================================================================
 */
#ifndef HF_CORE_SM_H
#define HF_CORE_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd.h"

struct hf_sm;

/* Capacities are fixed at init (all memory is allocated then) and policy
 * values change results, so both are part of what the log must replay
 * with. A zeroed config is invalid; start from hf_sm_config_default. */
struct hf_sm_config {
	uint32_t max_events;
	uint32_t max_seats;
	uint32_t max_items;
	uint32_t max_customers;
	uint32_t max_holds;      /* active + ended holds kept for reads */
	uint32_t max_orders;
	uint32_t max_lines;      /* item lines of holds and orders, seat lines of orders */
	uint32_t string_bytes;   /* pool of names and ids */
	uint32_t idem_entries;
	uint32_t idem_bytes;
	int64_t idem_retention_ms;
	int64_t shipping_fee;        /* minor units, added when a booking has items */
	int64_t free_shipping_over;  /* 0: shipping is never free */
	uint32_t hold_lifetime_max_s;
};

void hf_sm_config_default(struct hf_sm_config *cfg /* out */);

/* Allocates everything the state will ever use. Returns NULL when memory is
 * short or cfg is invalid, with the reason in err. Free with hf_sm_free. */
struct hf_sm *hf_sm_init(const struct hf_sm_config *cfg, char *err, size_t err_cap);
void hf_sm_free(struct hf_sm *sm);
const struct hf_sm_config *hf_sm_config(const struct hf_sm *sm);

/* Applies one command at now_ms and fills reply. Never fails: every
 * refusal is a result in reply. cmd is only read during the call. */
void hf_sm_apply(struct hf_sm *sm, int64_t now_ms, const struct hf_cmd *cmd,
		 struct hf_reply *reply /* out */);

/* Verifies every invariant of the whole state: each seat owned by at most
 * one hold or order and in the state its owner implies, item counters
 * equal to the sums of lines, nothing negative, each active hold in the
 * expiry index and each index entry pointing at an active hold, per-event
 * and per-customer counters equal to recounts. O(state). Returns 0, or -1
 * with the first violation described in msg. */
int hf_sm_check(const struct hf_sm *sm, char *msg, size_t msg_cap);

/* A hash of the whole logical state (catalog, seat states, holds, orders,
 * counters, idempotency entries, clock, id counters): equal states give
 * equal digests. */
uint64_t hf_sm_digest(const struct hf_sm *sm);

/* ---- reads (between applies; pointers valid until the next apply, names
 * valid for the life of sm) -------------------------------------------- */

int64_t hf_sm_now(const struct hf_sm *sm);

struct hf_event_info {
	struct hf_str id, name;
	int64_t starts_at_ms, sale_opens_at_ms, sale_closes_at_ms;
	uint32_t hold_ttl_s, max_per_customer;
	uint8_t orphan_rule;          /* enum hf_orphan_rule */
	uint32_t first_seat, n_seats; /* seat indices first_seat .. + n_seats */
	uint32_t count[4];            /* by enum hf_seat_state */
};
struct hf_seat_info {
	struct hf_str id, section, row, category;
	int32_t number;
	int64_t price;
	uint8_t state;  /* enum hf_seat_state */
	uint32_t event; /* event index */
};
struct hf_item_info {
	struct hf_str id, name, category, description, image_url;
	int64_t price;
	uint32_t available, held, sold;
};

/* Index of the named thing, or -1. */
int64_t hf_sm_event_find(const struct hf_sm *sm, struct hf_str id);
int64_t hf_sm_seat_find(const struct hf_sm *sm, uint32_t event, struct hf_str id);
int64_t hf_sm_item_find(const struct hf_sm *sm, struct hf_str id);
int64_t hf_sm_customer_find(const struct hf_sm *sm, struct hf_str id);

uint32_t hf_sm_event_count(const struct hf_sm *sm);
uint32_t hf_sm_item_count(const struct hf_sm *sm);
void hf_sm_event_info(const struct hf_sm *sm, uint32_t event, struct hf_event_info *out);
void hf_sm_seat_info(const struct hf_sm *sm, uint32_t seat, struct hf_seat_info *out);
void hf_sm_item_info(const struct hf_sm *sm, uint32_t item, struct hf_item_info *out);

/* Immutable names: safe from any thread, concurrently with applies, for an
 * index taken from a reply (catalog entries and customers are written once,
 * before any reply can name them, and never change or move). */
struct hf_str hf_sm_event_id(const struct hf_sm *sm, uint32_t event);
struct hf_str hf_sm_seat_id(const struct hf_sm *sm, uint32_t seat, uint32_t *event /* out */);
struct hf_str hf_sm_item_id(const struct hf_sm *sm, uint32_t item);
struct hf_str hf_sm_customer_name(const struct hf_sm *sm, uint32_t customer);

/* The hold or order as a reply would show it. HF_OK, HF_UNKNOWN_HOLD /
 * HF_UNKNOWN_ORDER. */
enum hf_result hf_sm_hold_view(const struct hf_sm *sm, uint64_t id, struct hf_booking *out);
enum hf_result hf_sm_order_view(const struct hf_sm *sm, uint64_t id, struct hf_booking *out);

/* A customer's active holds / all orders, newest first: ids strictly older
 * than `after` (0: from the newest), at most `limit`. Returns how many were
 * written to ids. */
uint32_t hf_sm_customer_holds(const struct hf_sm *sm, uint32_t customer, uint64_t after,
			      uint32_t limit, uint64_t *ids /* out */);
uint32_t hf_sm_customer_orders(const struct hf_sm *sm, uint32_t customer, uint64_t after,
			       uint32_t limit, uint64_t *ids /* out */);

struct hf_sm_stats {
	uint32_t events, seats, items, customers;
	uint32_t holds_active, holds_kept, orders, lines_used; /* kept: ended holds still readable */
	uint32_t string_bytes_used, idem_entries;
	uint64_t seats_by_state[4];
	uint64_t items_available, items_held, items_sold;
	uint64_t holds_expired_total; /* since init (not replay-visible in replies) */
	size_t memory_bytes;          /* allocated at init */
};
void hf_sm_stats(const struct hf_sm *sm, struct hf_sm_stats *out);

/* ---- snapshot: the whole state as bytes (wal/ writes them to disk) ----- */

/* Bytes hf_sm_snapshot_write produces now. */
size_t hf_sm_snapshot_size(const struct hf_sm *sm);
/* Writes the state into buf (cap >= hf_sm_snapshot_size). Returns bytes. */
size_t hf_sm_snapshot_write(const struct hf_sm *sm, uint8_t *buf, size_t cap);
/* The same bytes, handed to sink piece by piece in order, mostly straight
 * from the state's own tables (no image of the whole state in memory):
 * hf_sm_snapshot_size bytes in all, whose CRC-32C goes to *crc (may be
 * NULL; the file's header carries it). Stops at the first sink that does
 * not return 0 and returns what it returned; 0 when all were taken. */
typedef int (*hf_sm_snapshot_sink)(void *arg, const void *p, size_t n);
int hf_sm_snapshot_emit(const struct hf_sm *sm, hf_sm_snapshot_sink sink, void *arg,
			uint32_t *crc /* out */);
/* Loads the snapshot into sm, which must be fresh from hf_sm_init (never
 * applied to) and have the config the snapshot was written with; -1 with
 * err otherwise or on bad bytes (sm is then unusable and must be freed). */
int hf_sm_snapshot_read(struct hf_sm *sm, const uint8_t *buf, size_t len, char *err,
			size_t err_cap);

#endif
