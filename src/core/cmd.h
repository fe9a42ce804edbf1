/*
 * cmd.h: the commands the core applies, the replies it gives, the result
 * codes it refuses with, and their versioned binary encoding (what the
 * write-ahead log stores and what the idempotency table keeps).
 *
 * Commands name things by their client-visible ids (strings for events,
 * seats, items and customers; numbers for server-made holds and orders). The
 * core resolves names when it applies a command, so a logged command replays
 * to the same effect. Replies name things by index into the state (events,
 * seats, items and customers are never deleted, so an index stays valid and
 * its name never changes); hf_sm_*_name() turns an index back into its id.
 *
 * Encoding, version 2 (all integers little-endian; version 1 lacked best
 * available, the orphan rule, late confirms and the limit details):
 *   command := u8 version(=1) u8 type u8 flags(bit0 admin) str customer
 *              str idem_key u64 idem_fingerprint body(type)
 *   str     := u16 len, len bytes (no terminator)
 *   bodies are the fields of the matching struct below, in declaration
 *   order, with u32 counts before arrays; bools are u8 0/1.
 *   reply   := u8 version(=1) u8 result u8 kind u8 flags ... (cmd.c).
 * Decoders follow the picohttpparser shape: (buf, len, out) -> bytes
 * consumed, -1 bad input; they never read past len.
 */
#ifndef HF_CORE_CMD_H
#define HF_CORE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

#define HF_CODEC_VERSION 2

/* A byte string that is not NUL-terminated. A zeroed hf_str is empty. */
struct hf_str {
	const char *ptr;
	uint32_t len;
};

/* Results: stable numbers (they are stored in the log and the idempotency
 * table), listed in the order the core checks them (sm.h gives the exact
 * order per command). server/ has the one table
 * that maps each to an HTTP status and a JSON error code. */
enum hf_result {
	HF_OK = 0,
	HF_TOO_MANY_LINES = 1,    /* more than HF_HOLD_SEATS_MAX / HF_HOLD_ITEMS_MAX / HF_EVENT_SEATS_MAX */
	HF_BAD_REQUEST = 2,       /* malformed command: empty hold, duplicate seat, ttl 0 ... */
	HF_ALREADY_EXISTS = 3,    /* event or item id taken */
	HF_CAPACITY_FULL = 4,     /* a table of the state is full */
	HF_UNKNOWN_HOLD = 5,      /* also: a hold recycled long after it ended */
	HF_UNKNOWN_ORDER = 6,
	HF_NOT_OWNER = 7,         /* the hold/order is another customer's (HTTP: 404) */
	HF_HOLD_EXPIRED = 8,
	HF_HOLD_NOT_ACTIVE = 9,   /* released or confirmed */
	HF_UNKNOWN_EVENT = 10,
	HF_UNKNOWN_SEAT = 11,
	HF_UNKNOWN_ITEM = 12,
	HF_SALE_CLOSED = 13,
	HF_LIMIT_EXCEEDED = 14,   /* max_per_customer, HF_CUSTOMER_HOLDS_MAX, HF_STOCK_MAX */
	HF_SEATS_UNAVAILABLE = 15,/* held or sold by someone (details: seats) */
	HF_SEATS_BLOCKED = 16,    /* blocked, not for sale (details: seats) */
	HF_INSUFFICIENT_STOCK = 17,/* details: item, available */
	HF_STATUS_MISMATCH = 18,  /* conditional status change: current != expected */
	HF_INVALID_TRANSITION = 19,
	HF_IDEMPOTENCY_KEY_REUSED = 20,
	HF_ORPHAN_SEAT = 21,      /* would strand single free seats (details: seats) */
	HF_RESULT_COUNT = 22,
};

const char *hf_result_name(enum hf_result r);

enum hf_cmd_type {
	HF_CMD_NONE = 0,
	HF_CMD_TICK = 1,          /* only advances the clock (expiry) */
	HF_CMD_EVENT_CREATE = 2,
	HF_CMD_SEATS_BLOCK = 3,
	HF_CMD_SEATS_UNBLOCK = 4,
	HF_CMD_ITEM_CREATE = 5,
	HF_CMD_ITEM_RESTOCK = 6,
	HF_CMD_HOLD_CREATE = 7,
	HF_CMD_HOLD_ADD = 8,
	HF_CMD_HOLD_REMOVE = 9,
	HF_CMD_HOLD_EXTEND = 10,
	HF_CMD_HOLD_RELEASE = 11,
	HF_CMD_HOLD_CONFIRM = 12,
	HF_CMD_ORDER_CREATE = 13, /* buy now: hold + confirm as one step */
	HF_CMD_ORDER_CANCEL = 14,
	HF_CMD_ORDER_STATUS = 15,
	HF_CMD_TYPE_COUNT = 16,
};

const char *hf_cmd_type_name(enum hf_cmd_type t);

/* An event's orphan rule (SPEC section 9): ALLOW takes any free seats;
 * NO_SINGLE_GAPS refuses a booking that would strand a single free seat. */
enum hf_orphan_rule { HF_ORPHAN_ALLOW = 0, HF_ORPHAN_NO_SINGLE_GAPS = 1, HF_ORPHAN_RULE_COUNT = 2 };

/* Which limit an HF_LIMIT_EXCEEDED refusal met (reply.limit). */
enum hf_limit_kind {
	HF_LIMIT_NONE = 0,
	HF_LIMIT_HOLDS_PER_CUSTOMER = 1, /* HF_CUSTOMER_HOLDS_MAX active holds */
	HF_LIMIT_SEATS_PER_CUSTOMER = 2, /* an event's max_per_customer (limit_ref: event) */
	HF_LIMIT_STOCK_MAX = 3,          /* HF_STOCK_MAX units of one item (limit_ref: item) */
	HF_LIMIT_KIND_COUNT = 4,
};
const char *hf_limit_kind_name(enum hf_limit_kind k);

enum hf_seat_state { HF_SEAT_FREE = 0, HF_SEAT_HELD = 1, HF_SEAT_SOLD = 2, HF_SEAT_BLOCKED = 3 };
enum hf_hold_state { HF_HOLD_ACTIVE = 0, HF_HOLD_CONFIRMED = 1, HF_HOLD_RELEASED = 2, HF_HOLD_EXPIRED_STATE = 3 };
enum hf_order_status {
	HF_ORDER_UNDER_REVIEW = 0,
	HF_ORDER_PACKAGED = 1,
	HF_ORDER_SHIPPED = 2,
	HF_ORDER_DELIVERED = 3,
	HF_ORDER_CANCELED = 4,
	HF_ORDER_STATUS_ANY = 255, /* "expect": no condition */
};

const char *hf_seat_state_name(enum hf_seat_state s);
const char *hf_hold_state_name(enum hf_hold_state s);
const char *hf_order_status_name(enum hf_order_status s);

/* ---- command bodies ---------------------------------------------------- */

struct hf_seat_spec {
	struct hf_str id, section, row, category;
	int32_t number;
	int64_t price;
};

struct hf_event_create {
	struct hf_str id, name;
	int64_t starts_at_ms;
	uint32_t hold_ttl_s;       /* 0: HF_HOLD_TTL_DEFAULT_S */
	uint32_t max_per_customer; /* 0: no limit */
	int64_t sale_opens_at_ms;  /* 0: open since forever */
	int64_t sale_closes_at_ms; /* 0: never closes */
	uint8_t orphan_rule;       /* enum hf_orphan_rule */
	uint32_t n_seats;
	const struct hf_seat_spec *seats;
};

struct hf_seats_block {
	struct hf_str event;
	uint32_t n_seats;
	const struct hf_str *seats;
};

struct hf_item_create {
	struct hf_str id, name, category, description, image_url;
	int64_t price;
	uint32_t stock;
};

struct hf_item_restock {
	struct hf_str item;
	uint32_t quantity;
};

struct hf_seat_ref {
	struct hf_str event, seat;
};

struct hf_item_ref {
	struct hf_str item;
	uint32_t quantity;
	bool partial;
};

/* Best available (HOLD_CREATE, ORDER_CREATE): count free seats of event
 * chosen by the core (sm.h, "Choosing seats"), matching section and
 * category when they are not empty. count 0: none asked (then the strings
 * must be empty). */
struct hf_best {
	struct hf_str event, section, category;
	uint32_t count;
};

/* HOLD_CREATE (hold = 0), HOLD_ADD, HOLD_REMOVE, ORDER_CREATE. */
struct hf_lines {
	uint64_t hold;
	uint32_t ttl_s; /* HOLD_CREATE only; 0: default */
	uint32_t n_seats;
	const struct hf_seat_ref *seats;
	uint32_t n_items;
	const struct hf_item_ref *items;
	struct hf_best best; /* HOLD_CREATE and ORDER_CREATE only */
};

/* HOLD_EXTEND (ttl_s), HOLD_RELEASE, HOLD_CONFIRM (ttl_s unused;
 * accept_late: admin only, an expired hold may still be confirmed). */
struct hf_hold_op {
	uint64_t hold;
	uint32_t ttl_s;
	bool accept_late;
};

/* ORDER_CANCEL (status, expect unused), ORDER_STATUS. */
struct hf_order_op {
	uint64_t order;
	uint8_t status; /* enum hf_order_status */
	uint8_t expect; /* enum hf_order_status or HF_ORDER_STATUS_ANY */
};

struct hf_cmd {
	uint8_t type; /* enum hf_cmd_type */
	bool admin;   /* acting with the admin key */
	/* The acting customer. Required for holds and orders; with admin set it
	 * names the customer acted for (empty: admin acting on any customer's
	 * existing hold/order). */
	struct hf_str customer;
	/* Idempotency: when idem_key is not empty, a second command with the same
	 * (customer, idem_key) gets the first reply back (replayed = true) if its
	 * fingerprint matches, else HF_IDEMPOTENCY_KEY_REUSED. */
	struct hf_str idem_key;
	uint64_t idem_fingerprint;
	union {
		struct hf_event_create event_create;
		struct hf_seats_block seats_block;
		struct hf_item_create item_create;
		struct hf_item_restock item_restock;
		struct hf_lines lines;
		struct hf_hold_op hold_op;
		struct hf_order_op order_op;
	} u;
};

/* ---- replies ----------------------------------------------------------- */

enum hf_reply_kind {
	HF_REPLY_NONE = 0,   /* result only (and details on refusal) */
	HF_REPLY_EVENT = 1,  /* index */
	HF_REPLY_ITEM = 2,   /* index */
	HF_REPLY_HOLD = 3,   /* booking */
	HF_REPLY_ORDER = 4,  /* booking */
};

struct hf_view_seat {
	uint32_t seat;  /* seat index; hf_sm_seat_event() gives its event */
	int64_t price;  /* unit price */
};

struct hf_view_item {
	uint32_t item;      /* item index */
	uint32_t quantity;
	uint32_t requested; /* what was asked (partial lines may get less) */
	uint32_t available; /* the item's available stock when the view was
			     * made: right after the command, in a reply */
	int64_t price;      /* unit price */
};

/* A hold or an order as a client sees it. */
struct hf_booking {
	uint64_t id;
	uint32_t customer;  /* customer index */
	uint8_t state;      /* enum hf_hold_state or enum hf_order_status */
	int64_t created_at_ms;
	int64_t expires_at_ms; /* holds only */
	uint64_t order;        /* holds: the order made on confirm, else 0 */
	uint32_t n_seats;
	struct hf_view_seat seats[HF_HOLD_SEATS_MAX];
	uint32_t n_items;
	struct hf_view_item items[HF_HOLD_ITEMS_MAX];
	int64_t total;
	int64_t total_with_fees;
	int64_t fees;
};

struct hf_reply {
	uint8_t result;   /* enum hf_result */
	uint8_t kind;     /* enum hf_reply_kind */
	bool replayed;    /* an idempotent retry: this is the first reply */
	bool best;        /* the command chose seats (best available) ... */
	bool together;    /* ... and they are side by side in one row */
	bool item_short;  /* HF_HOLD_EXPIRED of a late confirm: bad_item and
			   * available name an item no longer in stock */
	uint32_t index;   /* EVENT, ITEM */
	/* Refusal details: the seats (indices) that were unavailable/blocked/
	 * unknown, in request order; the item short of stock and what it had;
	 * for HF_INVALID_TRANSITION / HF_STATUS_MISMATCH the current status. For
	 * HF_UNKNOWN_SEAT, bad_seats holds request positions, not indices (and
	 * for HF_UNKNOWN_EVENT the position n_seats names best.event). For
	 * HF_ORPHAN_SEAT, the seats that would be stranded; for HF_HOLD_EXPIRED
	 * of a late confirm, the hold's seats that are no longer free. For
	 * HF_SEATS_UNAVAILABLE of best available with no seat named,
	 * `available` is how many matching seats are free. */
	uint32_t n_bad_seats;
	uint32_t bad_seats[HF_HOLD_SEATS_MAX];
	uint32_t bad_item;      /* item index; request position for HF_UNKNOWN_ITEM */
	uint32_t available;
	uint8_t current_status;
	/* HF_LIMIT_EXCEEDED: which limit (enum hf_limit_kind), its value, what
	 * the customer (or item) already has, what the command asked for, and
	 * the event (SEATS_PER_CUSTOMER) or item (STOCK_MAX) index. */
	uint8_t limit;
	uint32_t limit_max, limit_current, limit_requested, limit_ref;
	struct hf_booking booking; /* HOLD, ORDER */
};

/* ---- codec ------------------------------------------------------------- */

/* Encodes cmd into buf. Returns the bytes written, or -1 if cap is too small
 * (nothing useful is left in buf then). hf_cmd_encoded_size gives the exact
 * size. */
int64_t hf_cmd_encode(const struct hf_cmd *cmd, uint8_t *buf, size_t cap);
size_t hf_cmd_encoded_size(const struct hf_cmd *cmd);

/* Decodes one command from buf[0..len). Strings of cmd point into buf and
 * arrays into scratch (a caller-owned buffer of scratch_cap bytes): both must
 * outlive cmd. Returns the bytes consumed, -1 on bad input (including an
 * unknown version or type, or too little scratch), never reading past len. */
int64_t hf_cmd_decode(const uint8_t *buf, size_t len, struct hf_cmd *cmd /* out */,
		      void *scratch, size_t scratch_cap);
/* Scratch bytes that decoding any command held in len bytes can need. */
size_t hf_cmd_scratch_for(size_t len);

/* Reply codec: the encoding keeps only the used part of the arrays. */
int64_t hf_reply_encode(const struct hf_reply *reply, uint8_t *buf, size_t cap);
int64_t hf_reply_decode(const uint8_t *buf, size_t len, struct hf_reply *reply /* out */);

/* Helpers for building commands in tests and the server. */
static inline struct hf_str hf_str_c(const char *s)
{
	struct hf_str r = {s, 0};
	if (s)
		while (s[r.len])
			r.len++;
	return r;
}
bool hf_str_eq(struct hf_str a, struct hf_str b);

#endif
