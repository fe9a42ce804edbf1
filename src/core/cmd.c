/*
 * cmd.c: the names of results, command types and states, and the binary
 * codec of commands and replies (what the write-ahead log stores and what
 * the idempotency table keeps).
 *
 * Owns: nothing at run time. Every function is pure; encoders write only
 * into the caller's buffer, decoders only into the caller's struct and
 * scratch.
 *
 * Invariants:
 *   - An encoding is a function of the fields of the active union member
 *     only (and, for replies, of the used part of the arrays): the same
 *     command gives the same bytes, and stale bytes of other union members
 *     or of unused array slots never reach the log.
 *   - The encoders refuse (-1) exactly what the decoders reject: every byte
 *     string an encoder produces decodes, to the same fields. So a command
 *     that made it into the log always replays. A command above the bounds
 *     below (a string longer than its field allows, a count above
 *     limits.h, more than HF_CMD_BYTES_MAX bytes in all) cannot be encoded
 *     (hf_cmd_encoded_size gives 0); the caller refuses it before logging.
 *   - The encoding is canonical: exactly one byte string decodes to a given
 *     command, so re-encoding what was decoded gives back the bytes read.
 *   - Decoders never read past len, never trust a count (each is checked
 *     against its limit, against the bytes left and against the scratch
 *     left before anything is read or reserved), and on -1 leave *out
 *     zeroed.
 *
 * ---- byte layout, version 2 (integers little-endian, iN two's complement)
 *
 *   str      := u16 len, len bytes, no terminator; len <= the field's bound:
 *               ID = HF_ID_LEN_MAX, NAME = HF_NAME_LEN_MAX,
 *               TEXT = HF_TEXT_LEN_MAX
 *   bool     := u8, 0 or 1 (anything else is rejected)
 *
 *   command  := u8 version (=2)
 *               u8 type       (1 .. HF_CMD_TYPE_COUNT-1; NONE is rejected)
 *               u8 flags      (bit0 admin; other bits must be 0)
 *               str(ID) customer
 *               str(ID) idem_key
 *               u64 idem_fingerprint
 *               body(type)
 *
 *   bodies (the fields of cmd.h's structs in declaration order):
 *   TICK                   (empty)
 *   EVENT_CREATE           str(ID) id, str(NAME) name, i64 starts_at_ms,
 *                          u32 hold_ttl_s, u32 max_per_customer,
 *                          i64 sale_opens_at_ms, i64 sale_closes_at_ms,
 *                          u8 orphan_rule (passed through; the core
 *                            answers a bad one with HF_BAD_REQUEST),
 *                          u32 n_seats (<= HF_EVENT_SEATS_MAX), n_seats x
 *                            { str(ID) id, str(NAME) section,
 *                              str(NAME) row, str(NAME) category,
 *                              i32 number, i64 price }          (>= 20 bytes)
 *   SEATS_BLOCK, _UNBLOCK  str(ID) event,
 *                          u32 n_seats (<= HF_BLOCK_SEATS_MAX), n_seats x
 *                            str(ID) seat                       (>= 2 bytes)
 *   ITEM_CREATE            str(ID) id, str(NAME) name, str(NAME) category,
 *                          str(TEXT) description, str(TEXT) image_url,
 *                          i64 price, u32 stock
 *   ITEM_RESTOCK           str(ID) item, u32 quantity
 *   HOLD_CREATE, HOLD_ADD, u64 hold, u32 ttl_s,
 *   HOLD_REMOVE,           u32 n_seats (<= HF_HOLD_SEATS_MAX), n_seats x
 *   ORDER_CREATE             { str(ID) event, str(ID) seat }    (>= 4 bytes)
 *                          u32 n_items (<= HF_HOLD_ITEMS_MAX), n_items x
 *                            { str(ID) item, u32 quantity,
 *                              bool partial }                   (>= 7 bytes)
 *                          str(ID) best.event, str(NAME) best.section,
 *                          str(NAME) best.category, u32 best.count
 *   HOLD_EXTEND, _RELEASE, u64 hold, u32 ttl_s, bool accept_late
 *   HOLD_CONFIRM
 *   ORDER_CANCEL,          u64 order, u8 status, u8 expect
 *   ORDER_STATUS             (status and expect pass through unchecked: the
 *                             core answers a bad one with HF_BAD_REQUEST, and
 *                             that answer must replay from the log)
 *
 *   reply    := u8 version (=2)
 *               u8 result     (< HF_RESULT_COUNT)
 *               u8 kind       (<= HF_REPLY_ORDER)
 *               u8 flags      (bit0 replayed, bit1 best, bit2 together,
 *                              bit3 item_short; other bits must be 0)
 *               u32 index
 *               u32 n_bad_seats (<= HF_HOLD_SEATS_MAX), n_bad_seats x u32
 *               u32 bad_item, u32 available, u8 current_status,
 *               u8 limit (< HF_LIMIT_KIND_COUNT), u32 limit_max,
 *               u32 limit_current, u32 limit_requested, u32 limit_ref
 *               booking       (only when kind is HOLD or ORDER)
 *   booking  := u64 id, u32 customer, u8 state, i64 created_at_ms,
 *               i64 expires_at_ms, u64 order,
 *               u32 n_seats (<= HF_HOLD_SEATS_MAX), n_seats x
 *                 { u32 seat, i64 price },
 *               u32 n_items (<= HF_HOLD_ITEMS_MAX), n_items x
 *                 { u32 item, u32 quantity, u32 requested, u32 available,
 *                   i64 price },
 *               i64 total, i64 total_with_fees, i64 fees
 *   A maximal reply is 2,907 bytes, inside HF_REPLY_BYTES_MAX.
 *
 * Decoded command strings point into buf; decoded arrays live in scratch,
 * each aligned for its element type. A decoded reply is self-contained.
 */
#include "core/cmd.h"

#include <stdalign.h>
#include <string.h>

#include "base/assert.h"

/* ---- names ------------------------------------------------------------- */

#define HF_COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The JSON error code of each result (server/ reuses these strings). */
static const char *const result_names[] = {
	[HF_OK] = "ok",
	[HF_TOO_MANY_LINES] = "too_many_lines",
	[HF_BAD_REQUEST] = "bad_request",
	[HF_ALREADY_EXISTS] = "already_exists",
	[HF_CAPACITY_FULL] = "capacity_full",
	[HF_UNKNOWN_HOLD] = "unknown_hold",
	[HF_UNKNOWN_ORDER] = "unknown_order",
	[HF_NOT_OWNER] = "not_owner",
	[HF_HOLD_EXPIRED] = "hold_expired",
	[HF_HOLD_NOT_ACTIVE] = "hold_not_active",
	[HF_UNKNOWN_EVENT] = "unknown_event",
	[HF_UNKNOWN_SEAT] = "unknown_seat",
	[HF_UNKNOWN_ITEM] = "unknown_item",
	[HF_SALE_CLOSED] = "sale_closed",
	[HF_LIMIT_EXCEEDED] = "limit_exceeded",
	[HF_SEATS_UNAVAILABLE] = "seats_unavailable",
	[HF_SEATS_BLOCKED] = "seats_blocked",
	[HF_INSUFFICIENT_STOCK] = "insufficient_stock",
	[HF_STATUS_MISMATCH] = "status_mismatch",
	[HF_INVALID_TRANSITION] = "invalid_transition",
	[HF_IDEMPOTENCY_KEY_REUSED] = "idempotency_key_reused",
	[HF_ORPHAN_SEAT] = "orphan_seat",
};
_Static_assert(HF_COUNT_OF(result_names) == HF_RESULT_COUNT,
	       "result_names must name every enum hf_result");

static const char *const seat_state_names[] = {
	[HF_SEAT_FREE] = "free",
	[HF_SEAT_HELD] = "held",
	[HF_SEAT_SOLD] = "sold",
	[HF_SEAT_BLOCKED] = "blocked",
};
_Static_assert(HF_COUNT_OF(seat_state_names) == HF_SEAT_BLOCKED + 1, "seat states");

static const char *const hold_state_names[] = {
	[HF_HOLD_ACTIVE] = "active",
	[HF_HOLD_CONFIRMED] = "confirmed",
	[HF_HOLD_RELEASED] = "released",
	[HF_HOLD_EXPIRED_STATE] = "expired",
};
_Static_assert(HF_COUNT_OF(hold_state_names) == HF_HOLD_EXPIRED_STATE + 1, "hold states");

static const char *const order_status_names[] = {
	[HF_ORDER_UNDER_REVIEW] = "under_review",
	[HF_ORDER_PACKAGED] = "packaged",
	[HF_ORDER_SHIPPED] = "shipped",
	[HF_ORDER_DELIVERED] = "delivered",
	[HF_ORDER_CANCELED] = "canceled",
};
_Static_assert(HF_COUNT_OF(order_status_names) == HF_ORDER_CANCELED + 1, "order statuses");

/* Out-of-range values get a name too: these feed logs and error messages,
 * where a crash on a corrupt value would hide the corruption. */
static const char *name_in(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] ? names[v] : "unknown";
}

/* The details' "limit" of a limit_exceeded answer (server/ reuses these). */
static const char *const limit_kind_names[] = {
	[HF_LIMIT_NONE] = "none",
	[HF_LIMIT_HOLDS_PER_CUSTOMER] = "active_holds_per_customer",
	[HF_LIMIT_SEATS_PER_CUSTOMER] = "seats_per_customer",
	[HF_LIMIT_STOCK_MAX] = "stock_max",
};
_Static_assert(HF_COUNT_OF(limit_kind_names) == HF_LIMIT_KIND_COUNT, "limit kinds");

const char *hf_limit_kind_name(enum hf_limit_kind k)
{
	return name_in(limit_kind_names, HF_COUNT_OF(limit_kind_names), (unsigned)k);
}

const char *hf_result_name(enum hf_result r)
{
	return name_in(result_names, HF_COUNT_OF(result_names), (unsigned)r);
}

const char *hf_seat_state_name(enum hf_seat_state s)
{
	return name_in(seat_state_names, HF_COUNT_OF(seat_state_names), (unsigned)s);
}

const char *hf_hold_state_name(enum hf_hold_state s)
{
	return name_in(hold_state_names, HF_COUNT_OF(hold_state_names), (unsigned)s);
}

const char *hf_order_status_name(enum hf_order_status s)
{
	if (s == HF_ORDER_STATUS_ANY)
		return "any";
	return name_in(order_status_names, HF_COUNT_OF(order_status_names), (unsigned)s);
}

bool hf_str_eq(struct hf_str a, struct hf_str b)
{
	/* memcmp with a NULL pointer is undefined even for 0 bytes. */
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ---- writer: one code path both counts (buf == NULL) and writes -------- */

struct writer {
	uint8_t *buf; /* NULL: only count */
	size_t cap;
	size_t pos;   /* bytes the encoding needs so far */
	bool ok;      /* false: not encodable (a bound), whatever the cap */
};

static void put_bytes(struct writer *w, const void *p, size_t n)
{
	if (w->buf && w->pos + n <= w->cap && n)
		memcpy(w->buf + w->pos, p, n);
	w->pos += n;
}

static void put_uint(struct writer *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, bytes);
}

static void put_u8(struct writer *w, uint8_t v) { put_uint(w, v, 1); }
static void put_u16(struct writer *w, uint16_t v) { put_uint(w, v, 2); }
static void put_u32(struct writer *w, uint32_t v) { put_uint(w, v, 4); }
static void put_u64(struct writer *w, uint64_t v) { put_uint(w, v, 8); }
static void put_i32(struct writer *w, int32_t v) { put_uint(w, (uint32_t)v, 4); }
static void put_i64(struct writer *w, int64_t v) { put_uint(w, (uint64_t)v, 8); }
static void put_bool(struct writer *w, bool v) { put_u8(w, v ? 1 : 0); }

static void put_str(struct writer *w, struct hf_str s, uint32_t len_max)
{
	HF_ASSERT(s.len == 0 || s.ptr);
	if (s.len > len_max) {
		w->ok = false;
		return;
	}
	put_u16(w, (uint16_t)s.len);
	put_bytes(w, s.ptr, s.len);
}

/* A count before an array; false (and the writer spoiled) above the bound,
 * so the caller skips the elements. */
static bool put_count(struct writer *w, uint32_t n, uint32_t n_max, const void *array)
{
	HF_ASSERT(n == 0 || array);
	if (n > n_max) {
		w->ok = false;
		return false;
	}
	put_u32(w, n);
	return true;
}

/* ---- reader ------------------------------------------------------------ */

struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool ok;        /* false once anything was bad: every later read is 0 */
	uint8_t *scratch;
	size_t scratch_cap;
	size_t scratch_pos;
};

/* Points at n bytes of input and consumes them, or NULL (and spoils r). */
static const uint8_t *take(struct reader *r, size_t n)
{
	if (!r->ok || n > r->len - r->pos) {
		r->ok = false;
		return NULL;
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static uint64_t get_uint(struct reader *r, unsigned bytes)
{
	const uint8_t *p = take(r, bytes);
	uint64_t v = 0;
	if (p)
		for (unsigned i = 0; i < bytes; i++)
			v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t get_u8(struct reader *r) { return (uint8_t)get_uint(r, 1); }
static uint32_t get_u32(struct reader *r) { return (uint32_t)get_uint(r, 4); }
static uint64_t get_u64(struct reader *r) { return get_uint(r, 8); }
static int32_t get_i32(struct reader *r) { return (int32_t)(uint32_t)get_uint(r, 4); }
static int64_t get_i64(struct reader *r) { return (int64_t)get_uint(r, 8); }

static bool get_bool(struct reader *r)
{
	uint8_t v = get_u8(r);
	if (v > 1)
		r->ok = false;
	return v == 1;
}

static struct hf_str get_str(struct reader *r, uint32_t len_max)
{
	struct hf_str s = {NULL, 0};
	uint32_t len = (uint32_t)get_uint(r, 2);
	if (len > len_max) {
		r->ok = false;
		return s;
	}
	const uint8_t *p = take(r, len);
	if (p) {
		s.ptr = (const char *)p;
		s.len = len;
	}
	return s;
}

/* Reads a count and checks it before anyone trusts it: against its bound,
 * and against the input left given that every element takes at least
 * elem_min bytes (so a lying count fails here, not after a huge
 * reservation). Returns the count, or 0 with r spoiled. */
static uint32_t get_count(struct reader *r, uint32_t n_max, size_t elem_min)
{
	uint32_t n = get_u32(r);
	if (!r->ok)
		return 0;
	if (n > n_max || (size_t)n * elem_min > r->len - r->pos) {
		r->ok = false;
		return 0;
	}
	return n;
}

/* Reserves n elements of size/align in scratch, or NULL (r spoiled). n == 0
 * gives NULL without spoiling: an empty array needs no storage. */
static void *reserve(struct reader *r, uint32_t n, size_t size, size_t align)
{
	if (!r->ok || n == 0)
		return NULL;
	uintptr_t base = (uintptr_t)r->scratch;
	size_t pad = (size_t)((align - (base + r->scratch_pos) % align) % align);
	if (!r->scratch || pad > r->scratch_cap - r->scratch_pos ||
	    (size_t)n * size > r->scratch_cap - r->scratch_pos - pad) {
		r->ok = false;
		return NULL;
	}
	void *p = r->scratch + r->scratch_pos + pad;
	r->scratch_pos += pad + (size_t)n * size;
	return p;
}

/* ---- command bodies: one encoder and one decoder per struct ------------ */

/* Smallest encoding of one array element (see the layout above). */
enum {
	SEAT_SPEC_BYTES_MIN = 4 * 2 + 4 + 8,
	SEAT_NAME_BYTES_MIN = 2,
	SEAT_REF_BYTES_MIN = 2 * 2,
	ITEM_REF_BYTES_MIN = 2 + 4 + 1,
};

static void enc_tick(struct writer *w, const struct hf_cmd *c)
{
	(void)w;
	(void)c;
}

static void dec_tick(struct reader *r, struct hf_cmd *c)
{
	(void)r;
	(void)c;
}

static void enc_event_create(struct writer *w, const struct hf_cmd *c)
{
	const struct hf_event_create *e = &c->u.event_create;
	put_str(w, e->id, HF_ID_LEN_MAX);
	put_str(w, e->name, HF_NAME_LEN_MAX);
	put_i64(w, e->starts_at_ms);
	put_u32(w, e->hold_ttl_s);
	put_u32(w, e->max_per_customer);
	put_i64(w, e->sale_opens_at_ms);
	put_i64(w, e->sale_closes_at_ms);
	put_u8(w, e->orphan_rule);
	if (!put_count(w, e->n_seats, HF_EVENT_SEATS_MAX, e->seats))
		return;
	for (uint32_t i = 0; i < e->n_seats && w->ok; i++) {
		const struct hf_seat_spec *s = &e->seats[i];
		put_str(w, s->id, HF_ID_LEN_MAX);
		put_str(w, s->section, HF_NAME_LEN_MAX);
		put_str(w, s->row, HF_NAME_LEN_MAX);
		put_str(w, s->category, HF_NAME_LEN_MAX);
		put_i32(w, s->number);
		put_i64(w, s->price);
	}
}

static void dec_event_create(struct reader *r, struct hf_cmd *c)
{
	struct hf_event_create *e = &c->u.event_create;
	e->id = get_str(r, HF_ID_LEN_MAX);
	e->name = get_str(r, HF_NAME_LEN_MAX);
	e->starts_at_ms = get_i64(r);
	e->hold_ttl_s = get_u32(r);
	e->max_per_customer = get_u32(r);
	e->sale_opens_at_ms = get_i64(r);
	e->sale_closes_at_ms = get_i64(r);
	e->orphan_rule = get_u8(r);
	uint32_t n = get_count(r, HF_EVENT_SEATS_MAX, SEAT_SPEC_BYTES_MIN);
	struct hf_seat_spec *seats =
		reserve(r, n, sizeof(*seats), alignof(struct hf_seat_spec));
	for (uint32_t i = 0; i < n && r->ok; i++) {
		struct hf_seat_spec *s = &seats[i];
		s->id = get_str(r, HF_ID_LEN_MAX);
		s->section = get_str(r, HF_NAME_LEN_MAX);
		s->row = get_str(r, HF_NAME_LEN_MAX);
		s->category = get_str(r, HF_NAME_LEN_MAX);
		s->number = get_i32(r);
		s->price = get_i64(r);
	}
	e->n_seats = n;
	e->seats = seats;
}

static void enc_seats_block(struct writer *w, const struct hf_cmd *c)
{
	const struct hf_seats_block *b = &c->u.seats_block;
	put_str(w, b->event, HF_ID_LEN_MAX);
	if (!put_count(w, b->n_seats, HF_BLOCK_SEATS_MAX, b->seats))
		return;
	for (uint32_t i = 0; i < b->n_seats && w->ok; i++)
		put_str(w, b->seats[i], HF_ID_LEN_MAX);
}

static void dec_seats_block(struct reader *r, struct hf_cmd *c)
{
	struct hf_seats_block *b = &c->u.seats_block;
	b->event = get_str(r, HF_ID_LEN_MAX);
	uint32_t n = get_count(r, HF_BLOCK_SEATS_MAX, SEAT_NAME_BYTES_MIN);
	struct hf_str *seats = reserve(r, n, sizeof(*seats), alignof(struct hf_str));
	for (uint32_t i = 0; i < n && r->ok; i++)
		seats[i] = get_str(r, HF_ID_LEN_MAX);
	b->n_seats = n;
	b->seats = seats;
}

static void enc_item_create(struct writer *w, const struct hf_cmd *c)
{
	const struct hf_item_create *it = &c->u.item_create;
	put_str(w, it->id, HF_ID_LEN_MAX);
	put_str(w, it->name, HF_NAME_LEN_MAX);
	put_str(w, it->category, HF_NAME_LEN_MAX);
	put_str(w, it->description, HF_TEXT_LEN_MAX);
	put_str(w, it->image_url, HF_TEXT_LEN_MAX);
	put_i64(w, it->price);
	put_u32(w, it->stock);
}

static void dec_item_create(struct reader *r, struct hf_cmd *c)
{
	struct hf_item_create *it = &c->u.item_create;
	it->id = get_str(r, HF_ID_LEN_MAX);
	it->name = get_str(r, HF_NAME_LEN_MAX);
	it->category = get_str(r, HF_NAME_LEN_MAX);
	it->description = get_str(r, HF_TEXT_LEN_MAX);
	it->image_url = get_str(r, HF_TEXT_LEN_MAX);
	it->price = get_i64(r);
	it->stock = get_u32(r);
}

static void enc_item_restock(struct writer *w, const struct hf_cmd *c)
{
	put_str(w, c->u.item_restock.item, HF_ID_LEN_MAX);
	put_u32(w, c->u.item_restock.quantity);
}

static void dec_item_restock(struct reader *r, struct hf_cmd *c)
{
	c->u.item_restock.item = get_str(r, HF_ID_LEN_MAX);
	c->u.item_restock.quantity = get_u32(r);
}

static void enc_lines(struct writer *w, const struct hf_cmd *c)
{
	const struct hf_lines *l = &c->u.lines;
	put_u64(w, l->hold);
	put_u32(w, l->ttl_s);
	if (!put_count(w, l->n_seats, HF_HOLD_SEATS_MAX, l->seats))
		return;
	for (uint32_t i = 0; i < l->n_seats && w->ok; i++) {
		put_str(w, l->seats[i].event, HF_ID_LEN_MAX);
		put_str(w, l->seats[i].seat, HF_ID_LEN_MAX);
	}
	if (!put_count(w, l->n_items, HF_HOLD_ITEMS_MAX, l->items))
		return;
	for (uint32_t i = 0; i < l->n_items && w->ok; i++) {
		put_str(w, l->items[i].item, HF_ID_LEN_MAX);
		put_u32(w, l->items[i].quantity);
		put_bool(w, l->items[i].partial);
	}
	put_str(w, l->best.event, HF_ID_LEN_MAX);
	put_str(w, l->best.section, HF_NAME_LEN_MAX);
	put_str(w, l->best.category, HF_NAME_LEN_MAX);
	put_u32(w, l->best.count);
}

static void dec_lines(struct reader *r, struct hf_cmd *c)
{
	struct hf_lines *l = &c->u.lines;
	l->hold = get_u64(r);
	l->ttl_s = get_u32(r);
	uint32_t ns = get_count(r, HF_HOLD_SEATS_MAX, SEAT_REF_BYTES_MIN);
	struct hf_seat_ref *seats = reserve(r, ns, sizeof(*seats), alignof(struct hf_seat_ref));
	for (uint32_t i = 0; i < ns && r->ok; i++) {
		seats[i].event = get_str(r, HF_ID_LEN_MAX);
		seats[i].seat = get_str(r, HF_ID_LEN_MAX);
	}
	uint32_t ni = get_count(r, HF_HOLD_ITEMS_MAX, ITEM_REF_BYTES_MIN);
	struct hf_item_ref *items = reserve(r, ni, sizeof(*items), alignof(struct hf_item_ref));
	for (uint32_t i = 0; i < ni && r->ok; i++) {
		items[i].item = get_str(r, HF_ID_LEN_MAX);
		items[i].quantity = get_u32(r);
		items[i].partial = get_bool(r);
	}
	l->best.event = get_str(r, HF_ID_LEN_MAX);
	l->best.section = get_str(r, HF_NAME_LEN_MAX);
	l->best.category = get_str(r, HF_NAME_LEN_MAX);
	l->best.count = get_u32(r);
	l->n_seats = ns;
	l->seats = seats;
	l->n_items = ni;
	l->items = items;
}

static void enc_hold_op(struct writer *w, const struct hf_cmd *c)
{
	put_u64(w, c->u.hold_op.hold);
	put_u32(w, c->u.hold_op.ttl_s);
	put_bool(w, c->u.hold_op.accept_late);
}

static void dec_hold_op(struct reader *r, struct hf_cmd *c)
{
	c->u.hold_op.hold = get_u64(r);
	c->u.hold_op.ttl_s = get_u32(r);
	c->u.hold_op.accept_late = get_bool(r);
}

static void enc_order_op(struct writer *w, const struct hf_cmd *c)
{
	put_u64(w, c->u.order_op.order);
	put_u8(w, c->u.order_op.status);
	put_u8(w, c->u.order_op.expect);
}

static void dec_order_op(struct reader *r, struct hf_cmd *c)
{
	c->u.order_op.order = get_u64(r);
	c->u.order_op.status = get_u8(r);
	c->u.order_op.expect = get_u8(r);
}

/* The command table: columns are name, body encoder, body decoder. A NULL
 * encoder marks a type that is never encoded (NONE). A new command is one
 * row here and its row in the core's table. */
static const struct cmd_row {
	const char *name;
	void (*enc)(struct writer *w, const struct hf_cmd *c);
	void (*dec)(struct reader *r, struct hf_cmd *c);
} cmd_table[] = {
	[HF_CMD_NONE] = {"none", NULL, NULL},
	[HF_CMD_TICK] = {"tick", enc_tick, dec_tick},
	[HF_CMD_EVENT_CREATE] = {"event_create", enc_event_create, dec_event_create},
	[HF_CMD_SEATS_BLOCK] = {"seats_block", enc_seats_block, dec_seats_block},
	[HF_CMD_SEATS_UNBLOCK] = {"seats_unblock", enc_seats_block, dec_seats_block},
	[HF_CMD_ITEM_CREATE] = {"item_create", enc_item_create, dec_item_create},
	[HF_CMD_ITEM_RESTOCK] = {"item_restock", enc_item_restock, dec_item_restock},
	[HF_CMD_HOLD_CREATE] = {"hold_create", enc_lines, dec_lines},
	[HF_CMD_HOLD_ADD] = {"hold_add", enc_lines, dec_lines},
	[HF_CMD_HOLD_REMOVE] = {"hold_remove", enc_lines, dec_lines},
	[HF_CMD_HOLD_EXTEND] = {"hold_extend", enc_hold_op, dec_hold_op},
	[HF_CMD_HOLD_RELEASE] = {"hold_release", enc_hold_op, dec_hold_op},
	[HF_CMD_HOLD_CONFIRM] = {"hold_confirm", enc_hold_op, dec_hold_op},
	[HF_CMD_ORDER_CREATE] = {"order_create", enc_lines, dec_lines},
	[HF_CMD_ORDER_CANCEL] = {"order_cancel", enc_order_op, dec_order_op},
	[HF_CMD_ORDER_STATUS] = {"order_status", enc_order_op, dec_order_op},
};
_Static_assert(HF_COUNT_OF(cmd_table) == HF_CMD_TYPE_COUNT,
	       "cmd_table must have a row for every enum hf_cmd_type");

const char *hf_cmd_type_name(enum hf_cmd_type t)
{
	unsigned v = (unsigned)t;
	return v < HF_COUNT_OF(cmd_table) ? cmd_table[v].name : "unknown";
}

#define CMD_FLAG_ADMIN 0x01u
#define REPLY_FLAG_REPLAYED 0x01u
#define REPLY_FLAG_BEST 0x02u
#define REPLY_FLAG_TOGETHER 0x04u
#define REPLY_FLAG_ITEM_SHORT 0x08u
#define REPLY_FLAGS (REPLY_FLAG_REPLAYED | REPLY_FLAG_BEST | REPLY_FLAG_TOGETHER | REPLY_FLAG_ITEM_SHORT)

/* Runs the whole encoding through w; false if cmd is not encodable. */
static bool cmd_write(const struct hf_cmd *cmd, struct writer *w)
{
	HF_ASSERT(cmd);
	if (cmd->type >= HF_CMD_TYPE_COUNT || !cmd_table[cmd->type].enc)
		return false;
	put_u8(w, HF_CODEC_VERSION);
	put_u8(w, cmd->type);
	put_u8(w, cmd->admin ? CMD_FLAG_ADMIN : 0);
	put_str(w, cmd->customer, HF_ID_LEN_MAX);
	put_str(w, cmd->idem_key, HF_ID_LEN_MAX);
	put_u64(w, cmd->idem_fingerprint);
	cmd_table[cmd->type].enc(w, cmd);
	return w->ok && w->pos <= HF_CMD_BYTES_MAX;
}

/* 0 for a command that cannot be encoded (no encoding is empty). */
size_t hf_cmd_encoded_size(const struct hf_cmd *cmd)
{
	struct writer w = {NULL, 0, 0, true};
	return cmd_write(cmd, &w) ? w.pos : 0;
}

int64_t hf_cmd_encode(const struct hf_cmd *cmd, uint8_t *buf, size_t cap)
{
	HF_ASSERT(buf || cap == 0);
	/* Count first, so that nothing is written unless all of it fits. */
	size_t need = hf_cmd_encoded_size(cmd);
	if (need == 0 || need > cap)
		return -1;
	struct writer w = {buf, cap, 0, true};
	bool ok = cmd_write(cmd, &w);
	HF_ASSERT(ok && w.pos == need);
	return (int64_t)w.pos;
}

int64_t hf_cmd_decode(const uint8_t *buf, size_t len, struct hf_cmd *cmd /* out */,
		      void *scratch, size_t scratch_cap)
{
	HF_ASSERT(cmd && (buf || len == 0));
	memset(cmd, 0, sizeof(*cmd));
	/* Bytes past HF_CMD_BYTES_MAX are never part of a command. */
	size_t avail = len < HF_CMD_BYTES_MAX ? len : HF_CMD_BYTES_MAX;
	struct reader r = {buf, avail, 0, true, scratch, scratch ? scratch_cap : 0, 0};
	uint8_t version = get_u8(&r);
	uint8_t type = get_u8(&r);
	uint8_t flags = get_u8(&r);
	if (!r.ok || version != HF_CODEC_VERSION || type >= HF_CMD_TYPE_COUNT ||
	    !cmd_table[type].dec || (flags & ~CMD_FLAG_ADMIN))
		goto bad;
	cmd->type = type;
	cmd->admin = (flags & CMD_FLAG_ADMIN) != 0;
	cmd->customer = get_str(&r, HF_ID_LEN_MAX);
	cmd->idem_key = get_str(&r, HF_ID_LEN_MAX);
	cmd->idem_fingerprint = get_u64(&r);
	if (r.ok)
		cmd_table[type].dec(&r, cmd);
	if (!r.ok)
		goto bad;
	return (int64_t)r.pos;
bad:
	memset(cmd, 0, sizeof(*cmd));
	return -1;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

size_t hf_cmd_scratch_for(size_t len)
{
	/* Each array needs at most min(its bound, len / its smallest element
	 * encoding) elements, plus alignment padding; the bodies with two
	 * arrays (lines) need both. The bounds keep this finite for any len:
	 * at most ~16 MB, for a maximal event. */
	size_t pad = alignof(max_align_t);
	size_t event = min_size(HF_EVENT_SEATS_MAX, len / SEAT_SPEC_BYTES_MIN) *
		       sizeof(struct hf_seat_spec);
	size_t block = min_size(HF_BLOCK_SEATS_MAX, len / SEAT_NAME_BYTES_MIN) *
		       sizeof(struct hf_str);
	size_t lines = min_size(HF_HOLD_SEATS_MAX, len / SEAT_REF_BYTES_MIN) *
			       sizeof(struct hf_seat_ref) +
		       min_size(HF_HOLD_ITEMS_MAX, len / ITEM_REF_BYTES_MIN) *
			       sizeof(struct hf_item_ref) +
		       pad;
	return max_size(max_size(event, block), lines) + pad;
}

/* ---- replies ----------------------------------------------------------- */

enum {
	VIEW_SEAT_BYTES = 4 + 8,
	VIEW_ITEM_BYTES = 4 + 4 + 4 + 4 + 8,
};

static bool reply_write(const struct hf_reply *rp, struct writer *w)
{
	HF_ASSERT(rp);
	if (rp->result >= HF_RESULT_COUNT || rp->kind > HF_REPLY_ORDER ||
	    rp->limit >= HF_LIMIT_KIND_COUNT)
		return false;
	put_u8(w, HF_CODEC_VERSION);
	put_u8(w, rp->result);
	put_u8(w, rp->kind);
	put_u8(w, (uint8_t)((rp->replayed ? REPLY_FLAG_REPLAYED : 0) | (rp->best ? REPLY_FLAG_BEST : 0) |
			    (rp->together ? REPLY_FLAG_TOGETHER : 0) |
			    (rp->item_short ? REPLY_FLAG_ITEM_SHORT : 0)));
	put_u32(w, rp->index);
	if (!put_count(w, rp->n_bad_seats, HF_HOLD_SEATS_MAX, rp->bad_seats))
		return false;
	for (uint32_t i = 0; i < rp->n_bad_seats; i++)
		put_u32(w, rp->bad_seats[i]);
	put_u32(w, rp->bad_item);
	put_u32(w, rp->available);
	put_u8(w, rp->current_status);
	put_u8(w, rp->limit);
	put_u32(w, rp->limit_max);
	put_u32(w, rp->limit_current);
	put_u32(w, rp->limit_requested);
	put_u32(w, rp->limit_ref);
	if (rp->kind != HF_REPLY_HOLD && rp->kind != HF_REPLY_ORDER)
		return w->ok;
	const struct hf_booking *b = &rp->booking;
	put_u64(w, b->id);
	put_u32(w, b->customer);
	put_u8(w, b->state);
	put_i64(w, b->created_at_ms);
	put_i64(w, b->expires_at_ms);
	put_u64(w, b->order);
	if (!put_count(w, b->n_seats, HF_HOLD_SEATS_MAX, b->seats))
		return false;
	for (uint32_t i = 0; i < b->n_seats; i++) {
		put_u32(w, b->seats[i].seat);
		put_i64(w, b->seats[i].price);
	}
	if (!put_count(w, b->n_items, HF_HOLD_ITEMS_MAX, b->items))
		return false;
	for (uint32_t i = 0; i < b->n_items; i++) {
		put_u32(w, b->items[i].item);
		put_u32(w, b->items[i].quantity);
		put_u32(w, b->items[i].requested);
		put_u32(w, b->items[i].available);
		put_i64(w, b->items[i].price);
	}
	put_i64(w, b->total);
	put_i64(w, b->total_with_fees);
	put_i64(w, b->fees);
	return w->ok;
}

int64_t hf_reply_encode(const struct hf_reply *reply, uint8_t *buf, size_t cap)
{
	HF_ASSERT(buf || cap == 0);
	struct writer count = {NULL, 0, 0, true};
	if (!reply_write(reply, &count) || count.pos > cap)
		return -1;
	struct writer w = {buf, cap, 0, true};
	bool ok = reply_write(reply, &w);
	HF_ASSERT(ok && w.pos == count.pos);
	return (int64_t)w.pos;
}

int64_t hf_reply_decode(const uint8_t *buf, size_t len, struct hf_reply *reply /* out */)
{
	HF_ASSERT(reply && (buf || len == 0));
	memset(reply, 0, sizeof(*reply));
	struct reader r = {buf, len, 0, true, NULL, 0, 0};
	uint8_t version = get_u8(&r);
	uint8_t result = get_u8(&r);
	uint8_t kind = get_u8(&r);
	uint8_t flags = get_u8(&r);
	if (!r.ok || version != HF_CODEC_VERSION || result >= HF_RESULT_COUNT ||
	    kind > HF_REPLY_ORDER || (flags & ~REPLY_FLAGS))
		goto bad;
	reply->result = result;
	reply->kind = kind;
	reply->replayed = (flags & REPLY_FLAG_REPLAYED) != 0;
	reply->best = (flags & REPLY_FLAG_BEST) != 0;
	reply->together = (flags & REPLY_FLAG_TOGETHER) != 0;
	reply->item_short = (flags & REPLY_FLAG_ITEM_SHORT) != 0;
	reply->index = get_u32(&r);
	reply->n_bad_seats = get_count(&r, HF_HOLD_SEATS_MAX, 4);
	for (uint32_t i = 0; i < reply->n_bad_seats && r.ok; i++)
		reply->bad_seats[i] = get_u32(&r);
	reply->bad_item = get_u32(&r);
	reply->available = get_u32(&r);
	reply->current_status = get_u8(&r);
	reply->limit = get_u8(&r);
	reply->limit_max = get_u32(&r);
	reply->limit_current = get_u32(&r);
	reply->limit_requested = get_u32(&r);
	reply->limit_ref = get_u32(&r);
	if (reply->limit >= HF_LIMIT_KIND_COUNT)
		r.ok = false;
	if (r.ok && (kind == HF_REPLY_HOLD || kind == HF_REPLY_ORDER)) {
		struct hf_booking *b = &reply->booking;
		b->id = get_u64(&r);
		b->customer = get_u32(&r);
		b->state = get_u8(&r);
		b->created_at_ms = get_i64(&r);
		b->expires_at_ms = get_i64(&r);
		b->order = get_u64(&r);
		b->n_seats = get_count(&r, HF_HOLD_SEATS_MAX, VIEW_SEAT_BYTES);
		for (uint32_t i = 0; i < b->n_seats && r.ok; i++) {
			b->seats[i].seat = get_u32(&r);
			b->seats[i].price = get_i64(&r);
		}
		b->n_items = get_count(&r, HF_HOLD_ITEMS_MAX, VIEW_ITEM_BYTES);
		for (uint32_t i = 0; i < b->n_items && r.ok; i++) {
			b->items[i].item = get_u32(&r);
			b->items[i].quantity = get_u32(&r);
			b->items[i].requested = get_u32(&r);
			b->items[i].available = get_u32(&r);
			b->items[i].price = get_i64(&r);
		}
		b->total = get_i64(&r);
		b->total_with_fees = get_i64(&r);
		b->fees = get_i64(&r);
	}
	if (!r.ok)
		goto bad;
	return (int64_t)r.pos;
bad:
	memset(reply, 0, sizeof(*reply));
	return -1;
}
