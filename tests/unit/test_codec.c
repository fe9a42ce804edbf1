/*
 * test_codec.c: the binary codec of commands and replies (core/cmd.c) and
 * the name functions.
 *
 * What is proven here:
 *   - every command type and every reply kind round-trips, minimal and
 *     maximal, and re-encoding the decoded value gives the same bytes;
 *   - the encoding depends only on the fields of the active union member
 *     (stale bytes never leak);
 *   - every strict prefix of a valid encoding is refused, never over-read;
 *   - bad version, type, flags, bool, string length and counts are refused,
 *     and the encoders refuse exactly what the decoders would;
 *   - random bytes and random mutations of valid encodings never crash
 *     (run under ASan+UBSan), and whatever decodes re-encodes to the bytes
 *     consumed (the encoding is canonical).
 * Randomized tests take their seed from HF_SEED (else the clock) and print
 * it on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/cmd.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t seed_get(void)
{
	const char *s = getenv("HF_SEED");
	if (s && *s)
		return strtoull(s, NULL, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rng_next(s) % n) : 0;
}

/* A string of n copies of c, for maximal fields (static storage). */
static struct hf_str str_fill(char c, uint32_t n)
{
	static char pool[8][HF_TEXT_LEN_MAX + 1];
	static unsigned next;
	char *p = pool[next++ % 8];
	memset(p, c, n);
	p[n] = 0;
	struct hf_str s = {p, n};
	return s;
}

static void assert_str_eq(struct hf_str a, struct hf_str b)
{
	assert_true(hf_str_eq(a, b));
}

/* Field-by-field equality of the fields the encoding carries. */
static void assert_cmd_eq(const struct hf_cmd *a, const struct hf_cmd *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->admin, b->admin);
	assert_str_eq(a->customer, b->customer);
	assert_str_eq(a->idem_key, b->idem_key);
	assert_true(a->idem_fingerprint == b->idem_fingerprint);
	switch (a->type) {
	case HF_CMD_TICK:
		break;
	case HF_CMD_EVENT_CREATE: {
		const struct hf_event_create *x = &a->u.event_create, *y = &b->u.event_create;
		assert_str_eq(x->id, y->id);
		assert_str_eq(x->name, y->name);
		assert_true(x->starts_at_ms == y->starts_at_ms);
		assert_int_equal(x->hold_ttl_s, y->hold_ttl_s);
		assert_int_equal(x->max_per_customer, y->max_per_customer);
		assert_true(x->sale_opens_at_ms == y->sale_opens_at_ms);
		assert_true(x->sale_closes_at_ms == y->sale_closes_at_ms);
		assert_int_equal(x->n_seats, y->n_seats);
		for (uint32_t i = 0; i < x->n_seats; i++) {
			assert_str_eq(x->seats[i].id, y->seats[i].id);
			assert_str_eq(x->seats[i].section, y->seats[i].section);
			assert_str_eq(x->seats[i].row, y->seats[i].row);
			assert_str_eq(x->seats[i].category, y->seats[i].category);
			assert_int_equal(x->seats[i].number, y->seats[i].number);
			assert_true(x->seats[i].price == y->seats[i].price);
		}
		break;
	}
	case HF_CMD_SEATS_BLOCK:
	case HF_CMD_SEATS_UNBLOCK: {
		const struct hf_seats_block *x = &a->u.seats_block, *y = &b->u.seats_block;
		assert_str_eq(x->event, y->event);
		assert_int_equal(x->n_seats, y->n_seats);
		for (uint32_t i = 0; i < x->n_seats; i++)
			assert_str_eq(x->seats[i], y->seats[i]);
		break;
	}
	case HF_CMD_ITEM_CREATE: {
		const struct hf_item_create *x = &a->u.item_create, *y = &b->u.item_create;
		assert_str_eq(x->id, y->id);
		assert_str_eq(x->name, y->name);
		assert_str_eq(x->category, y->category);
		assert_str_eq(x->description, y->description);
		assert_str_eq(x->image_url, y->image_url);
		assert_true(x->price == y->price);
		assert_int_equal(x->stock, y->stock);
		break;
	}
	case HF_CMD_ITEM_RESTOCK:
		assert_str_eq(a->u.item_restock.item, b->u.item_restock.item);
		assert_int_equal(a->u.item_restock.quantity, b->u.item_restock.quantity);
		break;
	case HF_CMD_HOLD_CREATE:
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
	case HF_CMD_ORDER_CREATE: {
		const struct hf_lines *x = &a->u.lines, *y = &b->u.lines;
		assert_true(x->hold == y->hold);
		assert_int_equal(x->ttl_s, y->ttl_s);
		assert_int_equal(x->n_seats, y->n_seats);
		for (uint32_t i = 0; i < x->n_seats; i++) {
			assert_str_eq(x->seats[i].event, y->seats[i].event);
			assert_str_eq(x->seats[i].seat, y->seats[i].seat);
		}
		assert_int_equal(x->n_items, y->n_items);
		for (uint32_t i = 0; i < x->n_items; i++) {
			assert_str_eq(x->items[i].item, y->items[i].item);
			assert_int_equal(x->items[i].quantity, y->items[i].quantity);
			assert_int_equal(x->items[i].partial, y->items[i].partial);
		}
		break;
	}
	case HF_CMD_HOLD_EXTEND:
	case HF_CMD_HOLD_RELEASE:
	case HF_CMD_HOLD_CONFIRM:
		assert_true(a->u.hold_op.hold == b->u.hold_op.hold);
		assert_int_equal(a->u.hold_op.ttl_s, b->u.hold_op.ttl_s);
		break;
	case HF_CMD_ORDER_CANCEL:
	case HF_CMD_ORDER_STATUS:
		assert_true(a->u.order_op.order == b->u.order_op.order);
		assert_int_equal(a->u.order_op.status, b->u.order_op.status);
		assert_int_equal(a->u.order_op.expect, b->u.order_op.expect);
		break;
	default:
		fail_msg("unexpected type %u", a->type);
	}
}

static void assert_reply_eq(const struct hf_reply *a, const struct hf_reply *b)
{
	assert_int_equal(a->result, b->result);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->replayed, b->replayed);
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->n_bad_seats, b->n_bad_seats);
	for (uint32_t i = 0; i < a->n_bad_seats; i++)
		assert_int_equal(a->bad_seats[i], b->bad_seats[i]);
	assert_int_equal(a->bad_item, b->bad_item);
	assert_int_equal(a->available, b->available);
	assert_int_equal(a->current_status, b->current_status);
	if (a->kind != HF_REPLY_HOLD && a->kind != HF_REPLY_ORDER)
		return;
	const struct hf_booking *x = &a->booking, *y = &b->booking;
	assert_true(x->id == y->id);
	assert_int_equal(x->customer, y->customer);
	assert_int_equal(x->state, y->state);
	assert_true(x->created_at_ms == y->created_at_ms);
	assert_true(x->expires_at_ms == y->expires_at_ms);
	assert_true(x->order == y->order);
	assert_int_equal(x->n_seats, y->n_seats);
	for (uint32_t i = 0; i < x->n_seats; i++) {
		assert_int_equal(x->seats[i].seat, y->seats[i].seat);
		assert_true(x->seats[i].price == y->seats[i].price);
	}
	assert_int_equal(x->n_items, y->n_items);
	for (uint32_t i = 0; i < x->n_items; i++) {
		assert_int_equal(x->items[i].item, y->items[i].item);
		assert_int_equal(x->items[i].quantity, y->items[i].quantity);
		assert_int_equal(x->items[i].requested, y->items[i].requested);
		assert_true(x->items[i].price == y->items[i].price);
	}
	assert_true(x->total == y->total);
	assert_true(x->total_with_fees == y->total_with_fees);
	assert_true(x->fees == y->fees);
}

/* Encodes cmd, checks the size and the cap, decodes it into a copy of the
 * bytes, checks equality and that re-encoding gives the same bytes, and
 * that every strict prefix and too little scratch are refused. */
static void check_cmd_roundtrip(const struct hf_cmd *cmd, bool all_prefixes)
{
	size_t size = hf_cmd_encoded_size(cmd);
	assert_true(size > 0);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	assert_true(hf_cmd_encode(cmd, buf, size - 1) == -1);
	assert_true(hf_cmd_encode(cmd, buf, size) == (int64_t)size);
	assert_int_equal(buf[0], HF_CODEC_VERSION);
	assert_int_equal(buf[1], cmd->type);

	size_t scap = hf_cmd_scratch_for(size);
	void *scratch = malloc(scap ? scap : 1);
	assert_non_null(scratch);
	struct hf_cmd out;
	assert_true(hf_cmd_decode(buf, size, &out, scratch, scap) == (int64_t)size);
	assert_cmd_eq(cmd, &out);

	uint8_t *again = malloc(size);
	assert_non_null(again);
	assert_true(hf_cmd_encoded_size(&out) == size);
	assert_true(hf_cmd_encode(&out, again, size) == (int64_t)size);
	assert_memory_equal(buf, again, size);
	free(again);

	/* Trailing bytes are not consumed. */
	uint8_t *longer = malloc(size + 3);
	assert_non_null(longer);
	memcpy(longer, buf, size);
	memset(longer + size, 0x5a, 3);
	assert_true(hf_cmd_decode(longer, size + 3, &out, scratch, scap) == (int64_t)size);
	free(longer);

	/* Every strict prefix, each copied to an exact-size heap block so ASan
	 * sees any read past len. Large encodings check a sample of prefixes. */
	size_t step = all_prefixes || size < 4096 ? 1 : size / 31 + 1;
	for (size_t n = 0; n < size; n += step) {
		uint8_t *p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, buf, n);
		assert_true(hf_cmd_decode(p, n, &out, scratch, scap) == -1);
		assert_int_equal(out.type, HF_CMD_NONE);
		free(p);
	}
	if (step > 1) {
		uint8_t *p = malloc(size - 1);
		assert_non_null(p);
		memcpy(p, buf, size - 1);
		assert_true(hf_cmd_decode(p, size - 1, &out, scratch, scap) == -1);
		free(p);
	}

	/* Too little scratch: refused whenever the command has arrays. */
	if (hf_cmd_decode(buf, size, &out, NULL, 0) != (int64_t)size) {
		assert_true(hf_cmd_decode(buf, size, &out, NULL, 0) == -1);
		assert_true(hf_cmd_decode(buf, size, &out, scratch, 1) == -1);
	}
	free(scratch);
	free(buf);
}

static void check_reply_roundtrip(const struct hf_reply *rp)
{
	uint8_t buf[HF_REPLY_BYTES_MAX];
	int64_t n = hf_reply_encode(rp, buf, sizeof(buf));
	assert_true(n > 0 && n <= (int64_t)HF_REPLY_BYTES_MAX);
	assert_true(hf_reply_encode(rp, buf, (size_t)n - 1) == -1);
	assert_true(hf_reply_encode(rp, buf, (size_t)n) == n);
	struct hf_reply *out = malloc(sizeof(*out));
	assert_non_null(out);
	assert_true(hf_reply_decode(buf, (size_t)n, out) == n);
	assert_reply_eq(rp, out);
	uint8_t again[HF_REPLY_BYTES_MAX];
	assert_true(hf_reply_encode(out, again, sizeof(again)) == n);
	assert_memory_equal(buf, again, (size_t)n);
	for (int64_t k = 0; k < n; k++) {
		uint8_t *p = malloc(k ? (size_t)k : 1);
		assert_non_null(p);
		memcpy(p, buf, (size_t)k);
		assert_true(hf_reply_decode(p, (size_t)k, out) == -1);
		assert_int_equal(out->kind, 0);
		free(p);
	}
	free(out);
}

static struct hf_cmd cmd_base(uint8_t type)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = type;
	c.customer = hf_str_c("alice");
	c.idem_key = hf_str_c("key-1");
	c.idem_fingerprint = 0x0123456789abcdefULL;
	return c;
}

/* ---- names ------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	for (int r = 0; r < HF_RESULT_COUNT; r++) {
		const char *n = hf_result_name((enum hf_result)r);
		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int q = 0; q < r; q++)
			assert_string_not_equal(n, hf_result_name((enum hf_result)q));
	}
	assert_string_equal(hf_result_name(HF_OK), "ok");
	assert_string_equal(hf_result_name(HF_TOO_MANY_LINES), "too_many_lines");
	assert_string_equal(hf_result_name(HF_BAD_REQUEST), "bad_request");
	assert_string_equal(hf_result_name(HF_SEATS_UNAVAILABLE), "seats_unavailable");
	assert_string_equal(hf_result_name(HF_INSUFFICIENT_STOCK), "insufficient_stock");
	assert_string_equal(hf_result_name(HF_IDEMPOTENCY_KEY_REUSED), "idempotency_key_reused");
	assert_string_equal(hf_result_name(HF_RESULT_COUNT), "unknown");

	for (int t = 0; t < HF_CMD_TYPE_COUNT; t++) {
		const char *n = hf_cmd_type_name((enum hf_cmd_type)t);
		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int q = 0; q < t; q++)
			assert_string_not_equal(n, hf_cmd_type_name((enum hf_cmd_type)q));
	}
	assert_string_equal(hf_cmd_type_name(HF_CMD_HOLD_CREATE), "hold_create");
	assert_string_equal(hf_cmd_type_name(HF_CMD_TYPE_COUNT), "unknown");

	assert_string_equal(hf_seat_state_name(HF_SEAT_FREE), "free");
	assert_string_equal(hf_seat_state_name(HF_SEAT_HELD), "held");
	assert_string_equal(hf_seat_state_name(HF_SEAT_SOLD), "sold");
	assert_string_equal(hf_seat_state_name(HF_SEAT_BLOCKED), "blocked");
	assert_string_equal(hf_hold_state_name(HF_HOLD_ACTIVE), "active");
	assert_string_equal(hf_hold_state_name(HF_HOLD_CONFIRMED), "confirmed");
	assert_string_equal(hf_hold_state_name(HF_HOLD_RELEASED), "released");
	assert_string_equal(hf_hold_state_name(HF_HOLD_EXPIRED_STATE), "expired");
	assert_string_equal(hf_order_status_name(HF_ORDER_UNDER_REVIEW), "under_review");
	assert_string_equal(hf_order_status_name(HF_ORDER_PACKAGED), "packaged");
	assert_string_equal(hf_order_status_name(HF_ORDER_SHIPPED), "shipped");
	assert_string_equal(hf_order_status_name(HF_ORDER_DELIVERED), "delivered");
	assert_string_equal(hf_order_status_name(HF_ORDER_CANCELED), "canceled");
	assert_string_equal(hf_order_status_name((enum hf_order_status)7), "unknown");
}

static void test_str_eq(void **state)
{
	(void)state;
	struct hf_str empty = {NULL, 0}, empty2 = {"x", 0};
	assert_true(hf_str_eq(empty, empty2));
	assert_true(hf_str_eq(hf_str_c("abc"), hf_str_c("abc")));
	assert_false(hf_str_eq(hf_str_c("abc"), hf_str_c("abd")));
	assert_false(hf_str_eq(hf_str_c("abc"), hf_str_c("ab")));
	struct hf_str pre = {"abcdef", 3};
	assert_true(hf_str_eq(pre, hf_str_c("abc")));
	assert_int_equal(hf_str_c(NULL).len, 0);
}

/* ---- command round trips ----------------------------------------------- */

static void test_cmd_tick(void **state)
{
	(void)state;
	struct hf_cmd c = cmd_base(HF_CMD_TICK);
	check_cmd_roundtrip(&c, true);
	c.customer = (struct hf_str){NULL, 0};
	c.idem_key = (struct hf_str){NULL, 0};
	c.idem_fingerprint = 0;
	check_cmd_roundtrip(&c, true);
	/* The smallest command: header, two empty strings, fingerprint. */
	assert_int_equal(hf_cmd_encoded_size(&c), 3 + 2 + 2 + 8);
	c.admin = true;
	check_cmd_roundtrip(&c, true);
}

static void test_cmd_event_create(void **state)
{
	(void)state;
	struct hf_seat_spec seats[3] = {
		{hf_str_c("A-1"), hf_str_c("Stalls"), hf_str_c("A"), hf_str_c("vip"), 1, 5000},
		{hf_str_c("A-2"), {NULL, 0}, {NULL, 0}, {NULL, 0}, -7, 0},
		{hf_str_c("B-1"), hf_str_c("Circle"), hf_str_c("B"), {NULL, 0}, INT32_MAX, HF_PRICE_MAX},
	};
	struct hf_cmd c = cmd_base(HF_CMD_EVENT_CREATE);
	c.admin = true;
	c.u.event_create = (struct hf_event_create){
		.id = hf_str_c("show-1"),
		.name = hf_str_c("The Show"),
		.starts_at_ms = 1700000000000LL,
		.hold_ttl_s = 300,
		.max_per_customer = 4,
		.sale_opens_at_ms = -1,
		.sale_closes_at_ms = INT64_MAX,
		.n_seats = 3,
		.seats = seats,
	};
	check_cmd_roundtrip(&c, true);
	/* Zero seats is the core's BAD_REQUEST, not the codec's. */
	c.u.event_create.n_seats = 0;
	c.u.event_create.seats = NULL;
	check_cmd_roundtrip(&c, true);
}

static void test_cmd_event_create_maximal(void **state)
{
	(void)state;
	uint32_t n = HF_EVENT_SEATS_MAX;
	struct hf_seat_spec *seats = calloc(n, sizeof(*seats));
	char (*ids)[12] = calloc(n, sizeof(*ids));
	assert_non_null(seats);
	assert_non_null(ids);
	struct hf_str name = str_fill('n', HF_NAME_LEN_MAX);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "S%u", i);
		seats[i].id = hf_str_c(ids[i]);
		seats[i].section = (struct hf_str){"Main", 4};
		seats[i].number = (int32_t)i;
		seats[i].price = (int64_t)i * 100;
	}
	seats[0].id = str_fill('i', HF_ID_LEN_MAX);
	seats[0].section = name;
	seats[0].row = name;
	seats[0].category = name;
	struct hf_cmd c = cmd_base(HF_CMD_EVENT_CREATE);
	c.customer = str_fill('c', HF_ID_LEN_MAX);
	c.idem_key = str_fill('k', HF_ID_LEN_MAX);
	c.u.event_create.id = str_fill('e', HF_ID_LEN_MAX);
	c.u.event_create.name = name;
	c.u.event_create.n_seats = n;
	c.u.event_create.seats = seats;
	check_cmd_roundtrip(&c, false);

	/* One seat more is not encodable. */
	struct hf_seat_spec *more = calloc(n + 1, sizeof(*more));
	assert_non_null(more);
	memcpy(more, seats, n * sizeof(*seats));
	more[n].id = hf_str_c("extra");
	c.u.event_create.n_seats = n + 1;
	c.u.event_create.seats = more;
	assert_int_equal(hf_cmd_encoded_size(&c), 0);
	uint8_t small[64];
	assert_true(hf_cmd_encode(&c, small, sizeof(small)) == -1);

	/* Every seat with maximal names passes HF_CMD_BYTES_MAX: not encodable
	 * (counted, never written). */
	for (uint32_t i = 0; i < n; i++) {
		more[i].section = name;
		more[i].row = name;
		more[i].category = name;
	}
	c.u.event_create.n_seats = n;
	assert_int_equal(hf_cmd_encoded_size(&c), 0);
	free(more);
	free(ids);
	free(seats);
}

static void test_cmd_seats_block(void **state)
{
	(void)state;
	struct hf_str seats[4] = {hf_str_c("A-1"), hf_str_c("A-2"), {NULL, 0},
				  str_fill('z', HF_ID_LEN_MAX)};
	for (uint8_t t = HF_CMD_SEATS_BLOCK; t <= HF_CMD_SEATS_UNBLOCK; t++) {
		struct hf_cmd c = cmd_base(t);
		c.admin = true;
		c.u.seats_block = (struct hf_seats_block){hf_str_c("show-1"), 4, seats};
		check_cmd_roundtrip(&c, true);
	}
	/* Maximal: HF_BLOCK_SEATS_MAX names, each one byte. */
	static const char letters[] = "ABCDEFGHIJ";
	struct hf_str *many = calloc(HF_BLOCK_SEATS_MAX + 1, sizeof(*many));
	assert_non_null(many);
	for (uint32_t i = 0; i <= HF_BLOCK_SEATS_MAX; i++)
		many[i] = (struct hf_str){&letters[i % 10], 1};
	struct hf_cmd c = cmd_base(HF_CMD_SEATS_BLOCK);
	c.u.seats_block = (struct hf_seats_block){hf_str_c("show-1"), HF_BLOCK_SEATS_MAX, many};
	check_cmd_roundtrip(&c, false);
	c.u.seats_block.n_seats = HF_BLOCK_SEATS_MAX + 1;
	assert_int_equal(hf_cmd_encoded_size(&c), 0);
	free(many);
}

static void test_cmd_item_create_restock(void **state)
{
	(void)state;
	struct hf_cmd c = cmd_base(HF_CMD_ITEM_CREATE);
	c.u.item_create = (struct hf_item_create){
		.id = hf_str_c("sku-1"),
		.name = hf_str_c("Mug"),
		.category = hf_str_c("kitchen"),
		.description = hf_str_c("A mug."),
		.image_url = hf_str_c("https://example.com/mug.png"),
		.price = 1299,
		.stock = 3,
	};
	check_cmd_roundtrip(&c, true);
	c.u.item_create.id = str_fill('i', HF_ID_LEN_MAX);
	c.u.item_create.name = str_fill('n', HF_NAME_LEN_MAX);
	c.u.item_create.category = str_fill('c', HF_NAME_LEN_MAX);
	c.u.item_create.description = str_fill('d', HF_TEXT_LEN_MAX);
	c.u.item_create.image_url = str_fill('u', HF_TEXT_LEN_MAX);
	c.u.item_create.price = INT64_MIN;
	c.u.item_create.stock = UINT32_MAX;
	check_cmd_roundtrip(&c, true);

	struct hf_cmd r = cmd_base(HF_CMD_ITEM_RESTOCK);
	r.u.item_restock = (struct hf_item_restock){hf_str_c("sku-1"), 10};
	check_cmd_roundtrip(&r, true);
	r.u.item_restock.quantity = 0;
	check_cmd_roundtrip(&r, true);
}

static void test_cmd_lines(void **state)
{
	(void)state;
	struct hf_seat_ref seats[2] = {{hf_str_c("show-1"), hf_str_c("A-1")},
				       {hf_str_c("show-2"), hf_str_c("B-9")}};
	struct hf_item_ref items[3] = {{hf_str_c("mug"), 2, false},
				       {hf_str_c("cap"), HF_QUANTITY_MAX, true},
				       {hf_str_c("mug"), 0, true}};
	static const uint8_t types[] = {HF_CMD_HOLD_CREATE, HF_CMD_HOLD_ADD, HF_CMD_HOLD_REMOVE,
					HF_CMD_ORDER_CREATE};
	for (size_t t = 0; t < sizeof(types); t++) {
		struct hf_cmd c = cmd_base(types[t]);
		c.u.lines = (struct hf_lines){7, 120, 2, seats, 3, items, {{0}, {0}, {0}, 0}};
		check_cmd_roundtrip(&c, true);
		c.u.lines.best = (struct hf_best){hf_str_c("show-1"), hf_str_c("Stalls"), hf_str_c("vip"), 4};
		check_cmd_roundtrip(&c, true);
		c.u.lines = (struct hf_lines){0, 0, 0, NULL, 1, items, {{0}, {0}, {0}, 0}};
		check_cmd_roundtrip(&c, true);
		c.u.lines = (struct hf_lines){UINT64_MAX, UINT32_MAX, 1, seats, 0, NULL,
					      {hf_str_c("e"), {0}, {0}, UINT32_MAX}};
		check_cmd_roundtrip(&c, true);
		c.u.lines = (struct hf_lines){0, 0, 0, NULL, 0, NULL, {{0}, {0}, {0}, 0}};
		check_cmd_roundtrip(&c, true);
	}
}

static void test_cmd_lines_maximal(void **state)
{
	(void)state;
	struct hf_seat_ref seats[HF_HOLD_SEATS_MAX + 1];
	struct hf_item_ref items[HF_HOLD_ITEMS_MAX + 1];
	struct hf_str id = str_fill('x', HF_ID_LEN_MAX);
	for (uint32_t i = 0; i <= HF_HOLD_SEATS_MAX; i++)
		seats[i] = (struct hf_seat_ref){id, id};
	for (uint32_t i = 0; i <= HF_HOLD_ITEMS_MAX; i++)
		items[i] = (struct hf_item_ref){id, HF_QUANTITY_MAX, i % 2 == 0};
	struct hf_cmd c = cmd_base(HF_CMD_ORDER_CREATE);
	c.customer = id;
	c.idem_key = id;
	struct hf_str name = str_fill('n', HF_NAME_LEN_MAX);
	c.u.lines = (struct hf_lines){0, 0, HF_HOLD_SEATS_MAX, seats, HF_HOLD_ITEMS_MAX, items,
				      {id, name, name, UINT32_MAX}};
	check_cmd_roundtrip(&c, false);
	c.u.lines.best.section = str_fill('n', HF_NAME_LEN_MAX + 1);
	assert_int_equal(hf_cmd_encoded_size(&c), 0);
	c.u.lines.best.section = name;
	c.u.lines.n_seats = HF_HOLD_SEATS_MAX + 1;
	assert_int_equal(hf_cmd_encoded_size(&c), 0);
	c.u.lines.n_seats = HF_HOLD_SEATS_MAX;
	c.u.lines.n_items = HF_HOLD_ITEMS_MAX + 1;
	assert_int_equal(hf_cmd_encoded_size(&c), 0);
}

static void test_cmd_hold_and_order_ops(void **state)
{
	(void)state;
	for (uint8_t t = HF_CMD_HOLD_EXTEND; t <= HF_CMD_HOLD_CONFIRM; t++) {
		struct hf_cmd c = cmd_base(t);
		c.u.hold_op = (struct hf_hold_op){42, 600, false};
		check_cmd_roundtrip(&c, true);
		c.u.hold_op = (struct hf_hold_op){UINT64_MAX, UINT32_MAX, true};
		check_cmd_roundtrip(&c, true);
	}
	for (uint8_t t = HF_CMD_ORDER_CANCEL; t <= HF_CMD_ORDER_STATUS; t++) {
		struct hf_cmd c = cmd_base(t);
		c.admin = true;
		c.u.order_op = (struct hf_order_op){9, HF_ORDER_SHIPPED, HF_ORDER_STATUS_ANY};
		check_cmd_roundtrip(&c, true);
		/* Out-of-range statuses pass: the core refuses them, and that
		 * refusal must replay from the log. */
		c.u.order_op = (struct hf_order_op){UINT64_MAX, 200, 77};
		check_cmd_roundtrip(&c, true);
	}
}

/* ---- encoding is a function of the active member only ------------------ */

static void test_cmd_deterministic(void **state)
{
	(void)state;
	struct hf_cmd a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	a.type = b.type = HF_CMD_HOLD_EXTEND;
	a.admin = b.admin = false;
	a.customer = b.customer = hf_str_c("bob");
	a.idem_key = b.idem_key = (struct hf_str){NULL, 0};
	a.idem_fingerprint = b.idem_fingerprint = 5;
	a.u.hold_op.hold = b.u.hold_op.hold = 3;
	a.u.hold_op.ttl_s = b.u.hold_op.ttl_s = 60;
	a.u.hold_op.accept_late = b.u.hold_op.accept_late = false;
	uint8_t ba[128], bb[128];
	int64_t na = hf_cmd_encode(&a, ba, sizeof(ba));
	int64_t nb = hf_cmd_encode(&b, bb, sizeof(bb));
	assert_true(na > 0 && na == nb);
	assert_memory_equal(ba, bb, (size_t)na);

	/* Same strings at different addresses: same bytes. */
	char copy[] = "bob";
	b.customer = (struct hf_str){copy, 3};
	nb = hf_cmd_encode(&b, bb, sizeof(bb));
	assert_true(na == nb);
	assert_memory_equal(ba, bb, (size_t)na);

	/* Replies: stale booking and array slots beyond the counts. */
	struct hf_reply *ra = calloc(1, sizeof(*ra)), *rb = malloc(sizeof(*rb));
	assert_non_null(ra);
	assert_non_null(rb);
	memset(rb, 0x5a, sizeof(*rb));
	ra->result = rb->result = HF_SEATS_UNAVAILABLE;
	ra->kind = rb->kind = HF_REPLY_NONE;
	ra->replayed = rb->replayed = false;
	ra->index = rb->index = 0;
	ra->n_bad_seats = rb->n_bad_seats = 2;
	ra->bad_seats[0] = rb->bad_seats[0] = 4;
	ra->bad_seats[1] = rb->bad_seats[1] = 5;
	ra->bad_item = rb->bad_item = 0;
	ra->available = rb->available = 0;
	ra->current_status = rb->current_status = 0;
	ra->best = rb->best = ra->together = rb->together = ra->item_short = rb->item_short = false;
	ra->limit = rb->limit = 0;
	ra->limit_max = rb->limit_max = ra->limit_current = rb->limit_current = 0;
	ra->limit_requested = rb->limit_requested = ra->limit_ref = rb->limit_ref = 0;
	uint8_t xa[HF_REPLY_BYTES_MAX], xb[HF_REPLY_BYTES_MAX];
	na = hf_reply_encode(ra, xa, sizeof(xa));
	nb = hf_reply_encode(rb, xb, sizeof(xb));
	assert_true(na > 0 && na == nb);
	assert_memory_equal(xa, xb, (size_t)na);
	free(ra);
	free(rb);
}

/* ---- replies ----------------------------------------------------------- */

static void test_reply_kinds(void **state)
{
	(void)state;
	struct hf_reply *r = calloc(1, sizeof(*r));
	assert_non_null(r);

	r->result = HF_OK;
	r->kind = HF_REPLY_NONE;
	check_reply_roundtrip(r);

	r->result = HF_SEATS_UNAVAILABLE;
	r->n_bad_seats = 3;
	r->bad_seats[0] = 1;
	r->bad_seats[1] = 2;
	r->bad_seats[2] = UINT32_MAX;
	check_reply_roundtrip(r);

	memset(r, 0, sizeof(*r));
	r->result = HF_INSUFFICIENT_STOCK;
	r->bad_item = 7;
	r->available = 3;
	check_reply_roundtrip(r);

	memset(r, 0, sizeof(*r));
	r->result = HF_INVALID_TRANSITION;
	r->current_status = HF_ORDER_SHIPPED;
	r->replayed = true;
	check_reply_roundtrip(r);

	memset(r, 0, sizeof(*r));
	r->kind = HF_REPLY_EVENT;
	r->index = 12;
	check_reply_roundtrip(r);
	r->kind = HF_REPLY_ITEM;
	r->index = UINT32_MAX;
	check_reply_roundtrip(r);

	memset(r, 0, sizeof(*r));
	r->kind = HF_REPLY_HOLD;
	r->booking = (struct hf_booking){.id = 5, .customer = 2, .state = HF_HOLD_ACTIVE,
		.created_at_ms = 1000, .expires_at_ms = 301000};
	r->booking.n_seats = 2;
	r->booking.seats[0] = (struct hf_view_seat){10, 5000};
	r->booking.seats[1] = (struct hf_view_seat){11, 5000};
	r->booking.n_items = 1;
	r->booking.items[0] = (struct hf_view_item){3, 3, 5, 17, 250};
	r->booking.total = 10750;
	r->booking.fees = 499;
	r->booking.total_with_fees = 11249;
	check_reply_roundtrip(r);

	r->kind = HF_REPLY_ORDER;
	r->booking.state = HF_ORDER_CANCELED;
	r->booking.expires_at_ms = 0;
	r->replayed = true;
	check_reply_roundtrip(r);

	/* An empty booking (a hold whose lines were all removed). */
	memset(r, 0, sizeof(*r));
	r->kind = HF_REPLY_HOLD;
	r->booking.id = 1;
	check_reply_roundtrip(r);
	free(r);
}

static void test_reply_maximal(void **state)
{
	(void)state;
	struct hf_reply *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->result = HF_OK;
	r->kind = HF_REPLY_ORDER;
	r->replayed = true;
	r->index = UINT32_MAX;
	r->n_bad_seats = HF_HOLD_SEATS_MAX;
	for (uint32_t i = 0; i < HF_HOLD_SEATS_MAX; i++)
		r->bad_seats[i] = UINT32_MAX - i;
	r->bad_item = UINT32_MAX;
	r->available = UINT32_MAX;
	r->current_status = 255;
	r->best = r->together = r->item_short = true;
	r->limit = HF_LIMIT_KIND_COUNT - 1;
	r->limit_max = r->limit_current = r->limit_requested = r->limit_ref = UINT32_MAX;
	struct hf_booking *b = &r->booking;
	b->id = UINT64_MAX;
	b->customer = UINT32_MAX;
	b->state = 255;
	b->created_at_ms = INT64_MIN;
	b->expires_at_ms = INT64_MAX;
	b->order = UINT64_MAX - 1;
	b->n_seats = HF_HOLD_SEATS_MAX;
	for (uint32_t i = 0; i < HF_HOLD_SEATS_MAX; i++)
		b->seats[i] = (struct hf_view_seat){i, HF_PRICE_MAX - i};
	b->n_items = HF_HOLD_ITEMS_MAX;
	for (uint32_t i = 0; i < HF_HOLD_ITEMS_MAX; i++)
		b->items[i] = (struct hf_view_item){i, HF_QUANTITY_MAX, HF_QUANTITY_MAX, UINT32_MAX, -1};
	b->total = INT64_MAX;
	b->total_with_fees = INT64_MIN;
	b->fees = -1;
	check_reply_roundtrip(r);
	uint8_t buf[HF_REPLY_BYTES_MAX];
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == 2907);
	/* A limit kind past the table is not encodable. */
	r->limit = HF_LIMIT_KIND_COUNT;
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == -1);
	r->limit = 0;

	/* Counts above the arrays are not encodable. */
	r->n_bad_seats = HF_HOLD_SEATS_MAX + 1;
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == -1);
	r->n_bad_seats = 0;
	b->n_seats = HF_HOLD_SEATS_MAX + 1;
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == -1);
	b->n_seats = 0;
	b->n_items = HF_HOLD_ITEMS_MAX + 1;
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == -1);
	b->n_items = 0;
	r->result = HF_RESULT_COUNT;
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == -1);
	r->result = HF_OK;
	r->kind = HF_REPLY_ORDER + 1;
	assert_true(hf_reply_encode(r, buf, sizeof(buf)) == -1);
	free(r);
}

/* ---- hand-made bad input ----------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of the body: header 3, customer "alice" 2+5, key "key-1" 2+5,
 * fingerprint 8. */
enum { BODY = 3 + 7 + 7 + 8 };

static int64_t decode_bytes(const uint8_t *buf, size_t len)
{
	struct hf_cmd out;
	static uint8_t scratch[1 << 16];
	return hf_cmd_decode(buf, len, &out, scratch, sizeof(scratch));
}

static void test_cmd_rejects(void **state)
{
	(void)state;
	struct hf_item_ref items[1] = {{hf_str_c("mug"), 2, true}};
	struct hf_cmd c = cmd_base(HF_CMD_HOLD_CREATE);
	c.u.lines = (struct hf_lines){0, 60, 0, NULL, 1, items, {{0}, {0}, {0}, 0}};
	uint8_t good[256], bad[256];
	int64_t n = hf_cmd_encode(&c, good, sizeof(good));
	assert_true(n > 0);
	size_t len = (size_t)n;
	assert_true(decode_bytes(good, len) == n);

	/* Version. */
	memcpy(bad, good, len);
	bad[0] = 0;
	assert_true(decode_bytes(bad, len) == -1);
	bad[0] = 1; /* version 1 had no best available: not read */
	assert_true(decode_bytes(bad, len) == -1);
	bad[0] = 3;
	assert_true(decode_bytes(bad, len) == -1);
	/* Type: NONE and past the table. */
	memcpy(bad, good, len);
	bad[1] = HF_CMD_NONE;
	assert_true(decode_bytes(bad, len) == -1);
	bad[1] = HF_CMD_TYPE_COUNT;
	assert_true(decode_bytes(bad, len) == -1);
	bad[1] = 255;
	assert_true(decode_bytes(bad, len) == -1);
	/* Flags: admin may be 0/1, no other bit. */
	memcpy(bad, good, len);
	bad[2] = 1;
	assert_true(decode_bytes(bad, len) == n);
	bad[2] = 2;
	assert_true(decode_bytes(bad, len) == -1);
	bad[2] = 0x81;
	assert_true(decode_bytes(bad, len) == -1);
	/* The bool partial is the last byte before best available (three
	 * empty strings and a u32: 10 bytes). */
	enum { PARTIAL = 11 };
	memcpy(bad, good, len);
	assert_int_equal(bad[len - PARTIAL], 1);
	bad[len - PARTIAL] = 0;
	assert_true(decode_bytes(bad, len) == n);
	bad[len - PARTIAL] = 2;
	assert_true(decode_bytes(bad, len) == -1);
	bad[len - PARTIAL] = 0xff;
	assert_true(decode_bytes(bad, len) == -1);
	/* A string length longer than the input. */
	memcpy(bad, good, len);
	bad[3] = 0xff;
	assert_true(decode_bytes(bad, len) == -1);
	/* A string length within the input but above the id bound. */
	{
		uint8_t big[512];
		memset(big, 'a', sizeof(big));
		big[0] = HF_CODEC_VERSION;
		big[1] = HF_CMD_TICK;
		big[2] = 0;
		big[3] = HF_ID_LEN_MAX + 1;
		big[4] = 0;
		memset(big + 5 + HF_ID_LEN_MAX + 1, 0, 2 + 8);
		assert_true(decode_bytes(big, 5 + HF_ID_LEN_MAX + 1 + 10) == -1);
		big[3] = HF_ID_LEN_MAX; /* the bound itself is fine */
		memset(big + 5 + HF_ID_LEN_MAX, 0, 2 + 8);
		assert_true(decode_bytes(big, 5 + HF_ID_LEN_MAX + 10) ==
			    5 + HF_ID_LEN_MAX + 10);
	}
	/* Counts: n_seats (at BODY + 12) lying about what follows, and above
	 * the bound. */
	memcpy(bad, good, len);
	put32(bad + BODY + 12, 1);
	assert_true(decode_bytes(bad, len) == -1);
	put32(bad + BODY + 12, HF_HOLD_SEATS_MAX + 1);
	assert_true(decode_bytes(bad, len) == -1);
	put32(bad + BODY + 12, UINT32_MAX);
	assert_true(decode_bytes(bad, len) == -1);
	/* n_items (at BODY + 16): 0 makes the item's bytes read as best
	 * available, leaving bytes unconsumed (fine: consumed is shorter);
	 * 2 and huge are refused. */
	memcpy(bad, good, len);
	put32(bad + BODY + 16, 0);
	int64_t shorter = decode_bytes(bad, len);
	assert_true(shorter > BODY + 20 && shorter < (int64_t)len);
	put32(bad + BODY + 16, 2);
	assert_true(decode_bytes(bad, len) == -1);
	put32(bad + BODY + 16, 0x80000000u);
	assert_true(decode_bytes(bad, len) == -1);
}

static void test_cmd_rejects_counts(void **state)
{
	(void)state;
	/* A block command whose count is HF_BLOCK_SEATS_MAX + 1 with enough
	 * bytes behind it: refused by the bound, not by the length. */
	size_t n = HF_BLOCK_SEATS_MAX + 1;
	size_t len = BODY + 2 + 4 + n * 2;
	uint8_t *buf = calloc(1, len);
	assert_non_null(buf);
	struct hf_cmd c = cmd_base(HF_CMD_SEATS_BLOCK);
	c.u.seats_block.event = (struct hf_str){NULL, 0};
	c.u.seats_block.n_seats = 0;
	assert_true(hf_cmd_encode(&c, buf, len) == BODY + 6);
	put32(buf + BODY + 2, (uint32_t)n);
	size_t scap = hf_cmd_scratch_for(len);
	void *scratch = malloc(scap);
	assert_non_null(scratch);
	struct hf_cmd out;
	assert_true(hf_cmd_decode(buf, len, &out, scratch, scap) == -1);
	put32(buf + BODY + 2, (uint32_t)n - 1);
	assert_true(hf_cmd_decode(buf, len, &out, scratch, scap) == (int64_t)(len - 2));
	assert_int_equal(out.u.seats_block.n_seats, n - 1);
	/* The same with too little scratch for the array. */
	assert_true(hf_cmd_decode(buf, len, &out, scratch, (n - 1) * sizeof(struct hf_str) - 1) ==
		    -1);
	free(scratch);
	free(buf);

	/* Unencodable commands. */
	struct hf_cmd t = cmd_base(HF_CMD_NONE);
	uint8_t out_buf[256];
	assert_int_equal(hf_cmd_encoded_size(&t), 0);
	assert_true(hf_cmd_encode(&t, out_buf, sizeof(out_buf)) == -1);
	t.type = HF_CMD_TYPE_COUNT;
	assert_true(hf_cmd_encode(&t, out_buf, sizeof(out_buf)) == -1);
	t.type = HF_CMD_TICK;
	t.customer = str_fill('c', HF_ID_LEN_MAX + 1);
	assert_true(hf_cmd_encode(&t, out_buf, sizeof(out_buf)) == -1);
	t.customer = hf_str_c("c");
	t.idem_key = str_fill('k', HF_ID_LEN_MAX + 1);
	assert_true(hf_cmd_encode(&t, out_buf, sizeof(out_buf)) == -1);
	struct hf_cmd it = cmd_base(HF_CMD_ITEM_CREATE);
	it.u.item_create.id = hf_str_c("x");
	it.u.item_create.description = str_fill('d', HF_TEXT_LEN_MAX + 1);
	assert_int_equal(hf_cmd_encoded_size(&it), 0);
	it.u.item_create.description = str_fill('d', HF_TEXT_LEN_MAX);
	it.u.item_create.name = str_fill('n', HF_NAME_LEN_MAX + 1);
	assert_int_equal(hf_cmd_encoded_size(&it), 0);
}

static void test_reply_rejects(void **state)
{
	(void)state;
	struct hf_reply *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->kind = HF_REPLY_HOLD;
	r->booking.n_seats = 1;
	r->booking.n_items = 1;
	uint8_t good[HF_REPLY_BYTES_MAX], bad[HF_REPLY_BYTES_MAX];
	int64_t n = hf_reply_encode(r, good, sizeof(good));
	assert_true(n > 0);
	size_t len = (size_t)n;
	/* Header: version, result, kind, flags. */
	memcpy(bad, good, len);
	bad[0] = 1;
	assert_true(hf_reply_decode(bad, len, r) == -1);
	bad[0] = 3;
	assert_true(hf_reply_decode(bad, len, r) == -1);
	memcpy(bad, good, len);
	bad[1] = HF_RESULT_COUNT;
	assert_true(hf_reply_decode(bad, len, r) == -1);
	memcpy(bad, good, len);
	bad[2] = HF_REPLY_ORDER + 1;
	assert_true(hf_reply_decode(bad, len, r) == -1);
	memcpy(bad, good, len);
	bad[3] = 0x10;
	assert_true(hf_reply_decode(bad, len, r) == -1);
	bad[3] = 1;
	assert_true(hf_reply_decode(bad, len, r) == n);
	assert_true(r->replayed);
	bad[3] = 0x0e;
	assert_true(hf_reply_decode(bad, len, r) == n);
	assert_true(!r->replayed && r->best && r->together && r->item_short);
	/* n_bad_seats (offset 8) above the array, even with bytes behind it. */
	uint8_t *big = calloc(1, 8192);
	assert_non_null(big);
	memcpy(big, good, 8);
	put32(big + 8, HF_HOLD_SEATS_MAX + 1);
	assert_true(hf_reply_decode(big, 8192, r) == -1);
	/* Booking counts: n_seats at 4+4+4+4+4+1 + 1+4+4+4+4 + 8+4+1+8+8+8 = 75. */
	enum { N_SEATS = 21 + 17 + 37 };
	memcpy(bad, good, len);
	put32(bad + N_SEATS, HF_HOLD_SEATS_MAX + 1);
	assert_true(hf_reply_decode(bad, len, r) == -1);
	memset(big, 0, 8192);
	memcpy(big, good, len);
	put32(big + N_SEATS, HF_HOLD_SEATS_MAX + 1);
	assert_true(hf_reply_decode(big, 8192, r) == -1);
	/* n_items follows the one seat (12 bytes). */
	memset(big, 0, 8192);
	memcpy(big, good, len);
	put32(big + N_SEATS + 4 + 12, HF_HOLD_ITEMS_MAX + 1);
	assert_true(hf_reply_decode(big, 8192, r) == -1);
	put32(big + N_SEATS + 4 + 12, HF_HOLD_ITEMS_MAX);
	assert_true(hf_reply_decode(big, 8192, r) > 0);
	assert_int_equal(r->booking.n_items, HF_HOLD_ITEMS_MAX);
	free(big);
	free(r);
}

/* ---- randomized -------------------------------------------------------- */

static uint64_t g_seed;

#define RAND_FAIL(fmt, ...) \
	fail_msg("seed %llu (rerun with HF_SEED=%llu): " fmt, (unsigned long long)g_seed, \
		 (unsigned long long)g_seed, __VA_ARGS__)

/* A random valid command; strings come from a small pool so that fields
 * repeat and lengths hit 0 and the bounds. */
static struct hf_str rand_str(uint64_t *s, uint32_t len_max)
{
	static char text[HF_TEXT_LEN_MAX + 1];
	if (!text[0])
		for (int i = 0; i < HF_TEXT_LEN_MAX; i++)
			text[i] = (char)('a' + i % 26);
	uint32_t len;
	switch (rng_below(s, 4)) {
	case 0: len = 0; break;
	case 1: len = len_max; break;
	default: len = rng_below(s, len_max + 1); break;
	}
	uint32_t off = rng_below(s, HF_TEXT_LEN_MAX - len + 1);
	return (struct hf_str){text + off, len};
}

struct rand_store {
	struct hf_seat_spec seat_specs[8];
	struct hf_str names[8];
	struct hf_seat_ref seat_refs[HF_HOLD_SEATS_MAX];
	struct hf_item_ref item_refs[HF_HOLD_ITEMS_MAX];
};

static void rand_cmd(uint64_t *s, struct hf_cmd *c, struct rand_store *st)
{
	memset(c, 0, sizeof(*c));
	c->type = (uint8_t)(1 + rng_below(s, HF_CMD_TYPE_COUNT - 1));
	c->admin = rng_below(s, 2);
	c->customer = rand_str(s, HF_ID_LEN_MAX);
	c->idem_key = rand_str(s, HF_ID_LEN_MAX);
	c->idem_fingerprint = rng_next(s);
	switch (c->type) {
	case HF_CMD_EVENT_CREATE: {
		struct hf_event_create *e = &c->u.event_create;
		e->id = rand_str(s, HF_ID_LEN_MAX);
		e->name = rand_str(s, HF_NAME_LEN_MAX);
		e->starts_at_ms = (int64_t)rng_next(s);
		e->hold_ttl_s = (uint32_t)rng_next(s);
		e->max_per_customer = rng_below(s, 10);
		e->sale_opens_at_ms = (int64_t)rng_next(s);
		e->sale_closes_at_ms = (int64_t)rng_next(s);
		e->n_seats = rng_below(s, 9);
		for (uint32_t i = 0; i < e->n_seats; i++)
			st->seat_specs[i] = (struct hf_seat_spec){
				rand_str(s, HF_ID_LEN_MAX), rand_str(s, HF_NAME_LEN_MAX),
				rand_str(s, HF_NAME_LEN_MAX), rand_str(s, HF_NAME_LEN_MAX),
				(int32_t)rng_next(s), (int64_t)rng_next(s)};
		e->seats = st->seat_specs;
		break;
	}
	case HF_CMD_SEATS_BLOCK:
	case HF_CMD_SEATS_UNBLOCK:
		c->u.seats_block.event = rand_str(s, HF_ID_LEN_MAX);
		c->u.seats_block.n_seats = rng_below(s, 9);
		for (uint32_t i = 0; i < c->u.seats_block.n_seats; i++)
			st->names[i] = rand_str(s, HF_ID_LEN_MAX);
		c->u.seats_block.seats = st->names;
		break;
	case HF_CMD_ITEM_CREATE:
		c->u.item_create = (struct hf_item_create){
			rand_str(s, HF_ID_LEN_MAX), rand_str(s, HF_NAME_LEN_MAX),
			rand_str(s, HF_NAME_LEN_MAX), rand_str(s, HF_TEXT_LEN_MAX),
			rand_str(s, HF_TEXT_LEN_MAX), (int64_t)rng_next(s), (uint32_t)rng_next(s)};
		break;
	case HF_CMD_ITEM_RESTOCK:
		c->u.item_restock.item = rand_str(s, HF_ID_LEN_MAX);
		c->u.item_restock.quantity = (uint32_t)rng_next(s);
		break;
	case HF_CMD_HOLD_CREATE:
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
	case HF_CMD_ORDER_CREATE: {
		struct hf_lines *l = &c->u.lines;
		l->hold = rng_next(s);
		l->ttl_s = (uint32_t)rng_next(s);
		l->n_seats = rng_below(s, 4) == 0 ? HF_HOLD_SEATS_MAX : rng_below(s, 6);
		for (uint32_t i = 0; i < l->n_seats; i++)
			st->seat_refs[i] = (struct hf_seat_ref){rand_str(s, HF_ID_LEN_MAX),
								rand_str(s, HF_ID_LEN_MAX)};
		l->seats = st->seat_refs;
		l->n_items = rng_below(s, 4) == 0 ? HF_HOLD_ITEMS_MAX : rng_below(s, 6);
		for (uint32_t i = 0; i < l->n_items; i++)
			st->item_refs[i] = (struct hf_item_ref){rand_str(s, HF_ID_LEN_MAX),
								(uint32_t)rng_next(s),
								rng_below(s, 2) == 1};
		l->items = st->item_refs;
		break;
	}
	case HF_CMD_HOLD_EXTEND:
	case HF_CMD_HOLD_RELEASE:
	case HF_CMD_HOLD_CONFIRM:
		c->u.hold_op = (struct hf_hold_op){rng_next(s), (uint32_t)rng_next(s), rng_next(s) % 2};
		break;
	case HF_CMD_ORDER_CANCEL:
	case HF_CMD_ORDER_STATUS:
		c->u.order_op = (struct hf_order_op){rng_next(s), (uint8_t)rng_next(s),
						     (uint8_t)rng_next(s)};
		break;
	default:
		break;
	}
}

/* Decodes buf[0..len) (an exact-size heap copy); if it decodes, re-encoding
 * must reproduce the bytes consumed. */
static void fuzz_one_cmd(const uint8_t *src, size_t len, void *scratch, size_t scap,
			 uint32_t iter)
{
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, src, len);
	struct hf_cmd out;
	int64_t n = hf_cmd_decode(buf, len, &out, scratch, scap);
	if (n < -1 || n > (int64_t)len)
		RAND_FAIL("iter %u: decode returned %lld for len %zu", iter, (long long)n, len);
	if (n > 0) {
		uint8_t *again = malloc((size_t)n);
		assert_non_null(again);
		if (hf_cmd_encode(&out, again, (size_t)n) != n ||
		    memcmp(again, buf, (size_t)n) != 0)
			RAND_FAIL("iter %u: decoded command does not re-encode to its bytes", iter);
		free(again);
	}
	free(buf);
}

static void fuzz_one_reply(const uint8_t *src, size_t len, uint32_t iter)
{
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, src, len);
	struct hf_reply out;
	int64_t n = hf_reply_decode(buf, len, &out);
	if (n < -1 || n > (int64_t)len)
		RAND_FAIL("iter %u: reply decode returned %lld", iter, (long long)n);
	if (n > 0) {
		uint8_t again[HF_REPLY_BYTES_MAX];
		if (hf_reply_encode(&out, again, sizeof(again)) != n ||
		    memcmp(again, buf, (size_t)n) != 0)
			RAND_FAIL("iter %u: decoded reply does not re-encode to its bytes", iter);
	}
	free(buf);
}

static void test_random_roundtrip_and_mutation(void **state)
{
	(void)state;
	g_seed = seed_get();
	uint64_t s = g_seed;
	printf("test_random_roundtrip_and_mutation: seed %llu\n", (unsigned long long)g_seed);
	static struct rand_store st;
	size_t cap = 64 * 1024;
	uint8_t *buf = malloc(cap), *mut = malloc(cap);
	size_t scap = hf_cmd_scratch_for(cap);
	void *scratch = malloc(scap);
	assert_non_null(buf);
	assert_non_null(mut);
	assert_non_null(scratch);
	for (uint32_t iter = 0; iter < 3000; iter++) {
		struct hf_cmd c, out;
		rand_cmd(&s, &c, &st);
		int64_t n = hf_cmd_encode(&c, buf, cap);
		if (n <= 0)
			RAND_FAIL("iter %u: a valid command of type %u did not encode", iter,
				  c.type);
		if (hf_cmd_decode(buf, (size_t)n, &out, scratch, hf_cmd_scratch_for((size_t)n)) !=
		    n)
			RAND_FAIL("iter %u: type %u did not decode", iter, c.type);
		assert_cmd_eq(&c, &out);
		/* Mutations: flip bytes, truncate, extend with junk. */
		for (int m = 0; m < 8; m++) {
			size_t len = (size_t)n;
			memcpy(mut, buf, len);
			uint32_t flips = 1 + rng_below(&s, 4);
			for (uint32_t f = 0; f < flips; f++) {
				size_t at = rng_below(&s, (uint32_t)len);
				switch (rng_below(&s, 3)) {
				case 0: mut[at] ^= (uint8_t)(1u << rng_below(&s, 8)); break;
				case 1: mut[at] = (uint8_t)rng_next(&s); break;
				default: mut[at] = rng_below(&s, 2) ? 0xff : 0; break;
				}
			}
			if (rng_below(&s, 4) == 0)
				len = rng_below(&s, (uint32_t)len + 1);
			else if (rng_below(&s, 4) == 0 && len + 16 <= cap) {
				for (int k = 0; k < 16; k++)
					mut[len + (size_t)k] = (uint8_t)rng_next(&s);
				len += 16;
			}
			fuzz_one_cmd(mut, len, scratch, scap, iter);
		}
	}
	/* Replies: random valid ones, mutated. */
	struct hf_reply *r = malloc(sizeof(*r));
	assert_non_null(r);
	for (uint32_t iter = 0; iter < 2000; iter++) {
		memset(r, 0, sizeof(*r));
		r->result = (uint8_t)rng_below(&s, HF_RESULT_COUNT);
		r->kind = (uint8_t)rng_below(&s, HF_REPLY_ORDER + 1);
		r->replayed = rng_below(&s, 2);
		r->index = (uint32_t)rng_next(&s);
		r->n_bad_seats = rng_below(&s, HF_HOLD_SEATS_MAX + 1);
		for (uint32_t i = 0; i < r->n_bad_seats; i++)
			r->bad_seats[i] = (uint32_t)rng_next(&s);
		r->available = (uint32_t)rng_next(&s);
		r->booking.n_seats = rng_below(&s, HF_HOLD_SEATS_MAX + 1);
		r->booking.n_items = rng_below(&s, HF_HOLD_ITEMS_MAX + 1);
		r->booking.id = rng_next(&s);
		r->booking.total = (int64_t)rng_next(&s);
		uint8_t enc[HF_REPLY_BYTES_MAX];
		int64_t n = hf_reply_encode(r, enc, sizeof(enc));
		if (n <= 0)
			RAND_FAIL("iter %u: a valid reply did not encode", iter);
		struct hf_reply back;
		if (hf_reply_decode(enc, (size_t)n, &back) != n)
			RAND_FAIL("iter %u: a valid reply did not decode", iter);
		assert_reply_eq(r, &back);
		for (int m = 0; m < 4; m++) {
			size_t len = (size_t)n;
			memcpy(mut, enc, len);
			mut[rng_below(&s, (uint32_t)len)] ^= (uint8_t)(1 + rng_below(&s, 255));
			if (rng_below(&s, 3) == 0)
				len = rng_below(&s, (uint32_t)len + 1);
			fuzz_one_reply(mut, len, iter);
		}
	}
	free(r);
	free(scratch);
	free(mut);
	free(buf);
}

static void test_random_bytes(void **state)
{
	(void)state;
	g_seed = seed_get() ^ 0x5bd1e995u;
	uint64_t s = g_seed;
	printf("test_random_bytes: seed %llu\n", (unsigned long long)g_seed);
	uint8_t buf[512];
	size_t scap = hf_cmd_scratch_for(sizeof(buf));
	void *scratch = malloc(scap);
	assert_non_null(scratch);
	for (uint32_t iter = 0; iter < 20000; iter++) {
		size_t len = rng_below(&s, sizeof(buf) + 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng_next(&s);
		/* A plausible header half of the time, so bodies get exercised. */
		if (len >= 3 && rng_below(&s, 2)) {
			buf[0] = HF_CODEC_VERSION;
			buf[1] = (uint8_t)rng_below(&s, HF_CMD_TYPE_COUNT + 1);
			buf[2] = (uint8_t)rng_below(&s, 2);
		}
		fuzz_one_cmd(buf, len, scratch, scap, iter);
		if (len >= 4 && rng_below(&s, 2)) {
			buf[0] = HF_CODEC_VERSION;
			buf[1] = (uint8_t)rng_below(&s, HF_RESULT_COUNT);
			buf[2] = (uint8_t)rng_below(&s, HF_REPLY_ORDER + 1);
			buf[3] = (uint8_t)rng_below(&s, 2);
		}
		fuzz_one_reply(buf, len, iter);
	}
	free(scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_str_eq),
		cmocka_unit_test(test_cmd_tick),
		cmocka_unit_test(test_cmd_event_create),
		cmocka_unit_test(test_cmd_event_create_maximal),
		cmocka_unit_test(test_cmd_seats_block),
		cmocka_unit_test(test_cmd_item_create_restock),
		cmocka_unit_test(test_cmd_lines),
		cmocka_unit_test(test_cmd_lines_maximal),
		cmocka_unit_test(test_cmd_hold_and_order_ops),
		cmocka_unit_test(test_cmd_deterministic),
		cmocka_unit_test(test_reply_kinds),
		cmocka_unit_test(test_reply_maximal),
		cmocka_unit_test(test_cmd_rejects),
		cmocka_unit_test(test_cmd_rejects_counts),
		cmocka_unit_test(test_reply_rejects),
		cmocka_unit_test(test_random_roundtrip_and_mutation),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
