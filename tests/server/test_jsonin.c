/*
 * test_jsonin.c: request bodies -> commands. Good bodies fill the command
 * exactly; every kind of bad body is refused with its status and the path
 * of the bad field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/jsonin.h"

static struct hf_arena arena;

static int parse(enum hf_body b, const char *body, struct hf_cmd *cmd, struct hf_body_extra *x,
		 struct hf_jerr *e)
{
	memset(cmd, 0, sizeof(*cmd));
	return hf_jsonin_parse(b, body, strlen(body), &arena, cmd, x, e);
}

static void expect_bad(enum hf_body b, const char *body, unsigned status, const char *path)
{
	struct hf_cmd cmd;
	struct hf_body_extra x;
	struct hf_jerr e;
	if (parse(b, body, &cmd, &x, &e) != -1)
		fail_msg("accepted %s", body);
	if (e.status != status || strcmp(e.path, path))
		fail_msg("%s: got %u '%s' (%s), want %u '%s'", body, e.status, e.path, e.msg, status, path);
	assert_true(strlen(e.msg) > 0);
}

static bool str_is(struct hf_str s, const char *c)
{
	return s.len == strlen(c) && !memcmp(s.ptr, c, s.len);
}

static void test_event(void **state)
{
	(void)state;
	struct hf_cmd c;
	struct hf_body_extra x;
	struct hf_jerr e;
	assert_int_equal(parse(HF_BODY_EVENT,
			       "{\"id\":\"ev-1\",\"name\":\"Show\",\"starts_at\":\"2026-11-22T00:00:00Z\","
			       "\"hold_ttl_s\":120,\"seats\":[{\"id\":\"A-1\",\"section\":\"S\",\"number\":-3,\"price\":5},"
			       "{\"id\":\"A-2\",\"price\":0}]}",
			       &c, &x, &e),
			 0);
	const struct hf_event_create *ev = &c.u.event_create;
	assert_true(str_is(ev->id, "ev-1") && str_is(ev->name, "Show"));
	assert_int_equal(ev->starts_at_ms, 1795305600000LL);
	assert_int_equal(ev->hold_ttl_s, 120);
	assert_int_equal(ev->n_seats, 2);
	assert_true(str_is(ev->seats[0].id, "A-1") && str_is(ev->seats[0].section, "S"));
	assert_int_equal(ev->seats[0].number, -3);
	assert_int_equal(ev->seats[0].price, 5);
	assert_int_equal(ev->seats[1].section.len, 0);
	expect_bad(HF_BODY_EVENT, "{\"id\":\"e\",\"name\":\"n\",\"starts_at\":\"2026-11-22T00:00:00Z\",\"seats\":[]}", 400, "seats");
	expect_bad(HF_BODY_EVENT, "{\"id\":\"e\",\"name\":\"\",\"starts_at\":\"2026-11-22T00:00:00Z\",\"seats\":[{\"id\":\"1\",\"price\":1}]}", 400, "name");
	expect_bad(HF_BODY_EVENT, "{\"id\":\"e\",\"name\":\"n\",\"starts_at\":\"soon\",\"seats\":[{\"id\":\"1\",\"price\":1}]}", 400, "starts_at");
	expect_bad(HF_BODY_EVENT, "{\"id\":\"e\",\"name\":\"n\",\"starts_at\":\"2026-11-22T00:00:00Z\",\"seats\":[{\"id\":\"1\",\"price\":1000000000001}]}", 400, "seats[0].price");
	expect_bad(HF_BODY_EVENT, "{\"id\":\"e\",\"name\":\"n\",\"starts_at\":\"2026-11-22T00:00:00Z\",\"seats\":[{\"id\":\"1\",\"price\":1},{\"id\":\"2\"}]}", 400, "seats[1].price");
	expect_bad(HF_BODY_EVENT, "{\"name\":\"n\",\"starts_at\":\"2026-11-22T00:00:00Z\",\"seats\":[{\"id\":\"1\",\"price\":1}]}", 400, "id");
}

static void test_lines(void **state)
{
	(void)state;
	struct hf_cmd c;
	struct hf_body_extra x;
	struct hf_jerr e;
	assert_int_equal(parse(HF_BODY_HOLD_CREATE,
			       "{\"customer\":\"bob\",\"ttl_s\":60,\"seats\":[{\"event\":\"e\",\"seat\":\"s\"}],"
			       "\"items\":[{\"item\":\"i\",\"quantity\":3,\"partial\":true},{\"item\":\"j\",\"quantity\":1}]}",
			       &c, &x, &e),
			 0);
	assert_true(str_is(c.customer, "bob"));
	assert_int_equal(c.u.lines.ttl_s, 60);
	assert_int_equal(c.u.lines.n_seats, 1);
	assert_true(str_is(c.u.lines.seats[0].seat, "s"));
	assert_int_equal(c.u.lines.n_items, 2);
	assert_true(c.u.lines.items[0].partial && !c.u.lines.items[1].partial);
	assert_int_equal(c.u.lines.items[0].quantity, 3);
	/* whitespace-only body reads as {} */
	assert_int_equal(parse(HF_BODY_ACT, "  \n", &c, &x, &e), 0);
	assert_int_equal(parse(HF_BODY_ACT, "", &c, &x, &e), 0);
	expect_bad(HF_BODY_LINES, "{\"ttl_s\":5}", 400, "ttl_s");
	expect_bad(HF_BODY_LINES, "{\"items\":[{\"item\":\"i\",\"quantity\":0}]}", 400, "items[0].quantity");
	expect_bad(HF_BODY_LINES, "{\"items\":[{\"item\":\"i\",\"quantity\":-1}]}", 400, "items[0].quantity");
	expect_bad(HF_BODY_LINES, "{\"items\":[{\"item\":\"i\",\"quantity\":1.0}]}", 400, "items[0].quantity");
	expect_bad(HF_BODY_LINES, "{\"items\":[{\"item\":\"i\",\"quantity\":\"1\"}]}", 400, "items[0].quantity");
	expect_bad(HF_BODY_LINES, "{\"items\":[{\"item\":\"i\",\"quantity\":1,\"partial\":1}]}", 400, "items[0].partial");
	expect_bad(HF_BODY_LINES, "{\"seats\":[{\"event\":\"e e\",\"seat\":\"s\"}]}", 400, "seats[0].event");
	expect_bad(HF_BODY_LINES, "{\"seats\":[{\"event\":\"e\",\"seat\":\"s\",\"x\":1}]}", 400, "seats[0].x");
	expect_bad(HF_BODY_LINES, "{\"seats\":[{\"event\":\"e\"}]}", 400, "seats[0].seat");
	expect_bad(HF_BODY_LINES, "{\"seats\":{}}", 400, "seats");
	expect_bad(HF_BODY_LINES, "{\"seats\":[1]}", 400, "seats[0]");
	expect_bad(HF_BODY_LINES, "{\"customer\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"}", 400, "customer");
	expect_bad(HF_BODY_LINES, "{\"items\":[],\"items\":[]}", 400, "");
	expect_bad(HF_BODY_LINES, "{\"items\":[", 400, "");
	expect_bad(HF_BODY_LINES, "[]", 400, "");
	expect_bad(HF_BODY_LINES, "{\"items\":[{\"item\":\"i\",\"quantity\":99999999999999999999}]}", 400, "");
	expect_bad(HF_BODY_LINES, "{\"seats\":[{\"event\":\"\xff\",\"seat\":\"s\"}]}", 400, "");
	expect_bad(HF_BODY_ACT, "{\"ttl_s\":1}", 400, "ttl_s");
	/* more lines than a hold may have */
	char big[8192];
	size_t n = (size_t)snprintf(big, sizeof(big), "{\"seats\":[");
	for (int i = 0; i < 101; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s{\"event\":\"e\",\"seat\":\"s%d\"}", i ? "," : "", i);
	snprintf(big + n, sizeof(big) - n, "]}");
	expect_bad(HF_BODY_LINES, big, 413, "seats");
}

static void test_other_bodies(void **state)
{
	(void)state;
	struct hf_cmd c;
	struct hf_body_extra x;
	struct hf_jerr e;
	assert_int_equal(parse(HF_BODY_STATUS, "{\"status\":\"shipped\"}", &c, &x, &e), 0);
	assert_int_equal(c.u.order_op.status, HF_ORDER_SHIPPED);
	assert_int_equal(c.u.order_op.expect, HF_ORDER_STATUS_ANY);
	assert_int_equal(parse(HF_BODY_STATUS, "{\"status\":\"canceled\",\"expect\":\"packaged\"}", &c, &x, &e), 0);
	assert_int_equal(c.u.order_op.expect, HF_ORDER_PACKAGED);
	expect_bad(HF_BODY_STATUS, "{\"status\":\"lost\"}", 400, "status");
	assert_int_equal(parse(HF_BODY_TOKEN, "{\"customer\":\"al.ice:1\",\"ttl_s\":5}", &c, &x, &e), 0);
	assert_true(str_is(x.customer, "al.ice:1"));
	assert_int_equal(x.ttl_s, 5);
	expect_bad(HF_BODY_TOKEN, "{}", 400, "customer");
	assert_int_equal(parse(HF_BODY_CLOCK, "{\"advance_s\":300}", &c, &x, &e), 0);
	assert_int_equal(x.advance_s, 300);
	expect_bad(HF_BODY_CLOCK, "{\"advance_s\":0}", 400, "advance_s");
	assert_int_equal(parse(HF_BODY_BLOCK, "{\"seats\":[\"a\",\"b\"]}", &c, &x, &e), 0);
	assert_int_equal(c.u.seats_block.n_seats, 2);
	assert_true(str_is(c.u.seats_block.seats[1], "b"));
	expect_bad(HF_BODY_BLOCK, "{\"seats\":[\"a\",\"\"]}", 400, "seats[1]");
	assert_int_equal(parse(HF_BODY_ITEM, "{\"id\":\"i\",\"name\":\"n\",\"price\":1,\"stock\":0}", &c, &x, &e), 0);
	expect_bad(HF_BODY_ITEM, "{\"id\":\"i\",\"name\":\"n\",\"price\":1,\"stock\":2000000001}", 400, "stock");
	expect_bad(HF_BODY_RESTOCK, "{\"quantity\":0}", 400, "quantity");
}

static void test_ids(void **state)
{
	(void)state;
	assert_true(hf_jsonin_id_ok("A-z.0_9:", 8));
	assert_false(hf_jsonin_id_ok("", 0));
	assert_false(hf_jsonin_id_ok("a/b", 3));
	assert_false(hf_jsonin_id_ok("a b", 3));
	assert_int_equal(hf_jsonin_booking_id('h', "h-12", 4), 12);
	assert_int_equal(hf_jsonin_booking_id('h', "h-18446744073709551615", 22), UINT64_MAX);
	assert_int_equal(hf_jsonin_booking_id('h', "h-18446744073709551616", 22), 0);
	assert_int_equal(hf_jsonin_booking_id('h', "h-0", 3), 0);
	assert_int_equal(hf_jsonin_booking_id('h', "h-01", 4), 0);
	assert_int_equal(hf_jsonin_booking_id('h', "o-1", 3), 0);
	assert_int_equal(hf_jsonin_booking_id('o', "o-1x", 4), 0);
	assert_int_equal(hf_jsonin_booking_id('o', "o-", 2), 0);
	assert_int_equal(hf_jsonin_status("delivered", 9), HF_ORDER_DELIVERED);
	assert_int_equal(hf_jsonin_status("deliver", 7), -1);
}

static int teardown(void **state)
{
	(void)state;
	hf_arena_free(&arena);
	return 0;
}

/* The Idempotency-Key fingerprint: one canonical form of the JSON. */
static uint64_t fp_of(const char *body)
{
	struct hf_cmd cmd;
	struct hf_body_extra x;
	struct hf_jerr e;
	uint64_t fp = 0;
	memset(&cmd, 0, sizeof(cmd));
	assert_int_equal(hf_jsonin_parse_keyed(HF_BODY_LINES, body, strlen(body), &arena, &cmd, &x, &e,
					       hf_jsonin_fp_seed("POST", "/orders"), &fp),
			 0);
	return fp;
}

static void test_fingerprint(void **state)
{
	(void)state;
	uint64_t a = fp_of("{\"items\":[{\"item\":\"mug\",\"quantity\":1}]}");
	assert_true(a == fp_of(" { \"items\" : [ {\"quantity\":1, \"item\":\"mug\"} ] }\n"));
	assert_true(a != fp_of("{\"items\":[{\"item\":\"mug\",\"quantity\":2}]}"));
	assert_true(hf_jsonin_fp_seed("POST", "/orders") != hf_jsonin_fp_seed("POST", "/holds"));
}

static int route_all_lines(void *ctx, uint32_t i, const char *method, const char *path)
{
	(void)ctx, (void)i, (void)method;
	return strcmp(path, "/orders") ? -1 : HF_BODY_LINES;
}

static void expect_batch_bad(const char *body, unsigned status, const char *path)
{
	struct hf_batch_op *ops;
	uint32_t n;
	struct hf_jerr e;
	if (hf_jsonin_parse_batch(body, strlen(body), &arena, route_all_lines, NULL, &ops, &n, &e) != -1)
		fail_msg("accepted %s", body);
	if (e.status != status || strcmp(e.path, path))
		fail_msg("%s: got %u '%s' (%s), want %u '%s'", body, e.status, e.path, e.msg, status, path);
}

static void test_batch_envelope(void **state)
{
	(void)state;
	const char *good = "{\"ops\":[{\"method\":\"POST\",\"path\":\"/orders\",\"idempotency_key\":\"k\","
			   "\"body\":{\"items\":[{\"item\":\"mug\",\"quantity\":1}]}},"
			   "{\"method\":\"POST\",\"path\":\"/orders\",\"body\":{\"items\":[{\"item\":\"mug\",\"quantity\":0}]}},"
			   "{\"method\":\"GET\",\"path\":\"/items/mug\",\"body\":{\"anything\":1}}]}";
	struct hf_batch_op *ops;
	uint32_t n;
	struct hf_jerr e;
	assert_int_equal(hf_jsonin_parse_batch(good, strlen(good), &arena, route_all_lines, NULL, &ops, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_true(ops[0].parsed && ops[0].cmd.u.lines.n_items == 1 && !strcmp(ops[0].idem_key, "k"));
	assert_true(ops[0].fingerprint != 0);
	assert_false(ops[1].parsed);
	assert_int_equal(ops[1].err.status, 400);
	assert_string_equal(ops[1].err.path, "items[0].quantity");
	assert_int_equal(ops[2].body, -1); /* not routed: its body is not read */
	assert_false(ops[2].parsed);
	expect_batch_bad("{}", 400, "ops");
	expect_batch_bad("[]", 400, "");
	expect_batch_bad("{\"ops\":[]}", 400, "ops");
	expect_batch_bad("{\"ops\":{}}", 400, "ops");
	expect_batch_bad("{\"ops\":[1]}", 400, "ops[0]");
	expect_batch_bad("{\"ops\":[{\"method\":\"POST\"}]}", 400, "ops[0].path");
	expect_batch_bad("{\"ops\":[{\"method\":7,\"path\":\"/orders\"}]}", 400, "ops[0].method");
	expect_batch_bad("{\"ops\":[{\"method\":\"POST\",\"path\":\"/orders\",\"x\":1}]}", 400, "ops[0].x");
	expect_batch_bad("{\"ops\":[],\"ops\":[]}", 400, "");
	expect_batch_bad("{\"opz\":[]}", 400, "opz");
	char big[8192];
	size_t o = (size_t)snprintf(big, sizeof(big), "{\"ops\":[");
	for (unsigned i = 0; i <= HF_BATCH_OPS_MAX; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s{\"method\":\"POST\",\"path\":\"/orders\"}", i ? "," : "");
	snprintf(big + o, sizeof(big) - o, "]}");
	expect_batch_bad(big, 413, "ops");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_other_bodies),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_batch_envelope),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
