/*
 * test_jsonw.c: the JSON writer (commas, escaping, numbers) and RFC 3339
 * times (format, parse, round trips, rejects), and the arena under it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/limits.h"
#include "server/arena.h"
#include "server/jsonw.h"

static void test_shape(void **state)
{
	(void)state;
	struct hf_arena a = {0};
	struct hf_jw jw;
	hf_jw_init(&jw, &a);
	hf_jw_obj(&jw);
	hf_jw_key(&jw, "a");
	hf_jw_i64(&jw, -12);
	hf_jw_key(&jw, "b");
	hf_jw_arr(&jw);
	hf_jw_u64(&jw, 18446744073709551615ull);
	hf_jw_i64(&jw, INT64_MIN);
	hf_jw_bool(&jw, true);
	hf_jw_null(&jw);
	hf_jw_obj(&jw);
	hf_jw_obj_end(&jw);
	hf_jw_arr_end(&jw);
	hf_jw_key(&jw, "c");
	hf_jw_str(&jw, "q\"\\\n\t\x01\xc3\xa9", 8);
	hf_jw_key(&jw, "id");
	hf_jw_prefixed_u64(&jw, 'o', 18446744073709551615ull);
	hf_jw_key(&jw, "h");
	hf_jw_prefixed_u64(&jw, 'h', 7);
	hf_jw_obj_end(&jw);
	assert_false(jw.oom);
	assert_string_equal(jw.buf, "{\"a\":-12,\"b\":[18446744073709551615,-9223372036854775808,true,null,{}],"
				    "\"c\":\"q\\\"\\\\\\n\\t\\u0001\xc3\xa9\","
				    "\"id\":\"o-18446744073709551615\",\"h\":\"h-7\"}");
	hf_arena_free(&a);
}

static void test_grows(void **state)
{
	(void)state;
	struct hf_arena a = {0};
	struct hf_jw jw;
	hf_jw_init(&jw, &a);
	hf_jw_arr(&jw);
	for (int i = 0; i < 100000; i++)
		hf_jw_i64(&jw, i);
	hf_jw_arr_end(&jw);
	assert_false(jw.oom);
	assert_int_equal(jw.buf[0], '[');
	assert_int_equal(jw.buf[jw.len - 1], ']');
	assert_non_null(strstr(jw.buf, ",99999]"));
	hf_arena_reset(&a);
	assert_int_equal(a.total, 0);
	void *p = hf_arena_alloc(&a, 100);
	assert_non_null(p);
	hf_arena_free(&a);
}

/* An empty string may come as (NULL, 0) (an absent optional field); a
 * nested writer's output goes in as one value. */
static void test_empty_and_nested(void **state)
{
	(void)state;
	struct hf_arena a = {0};
	struct hf_jw inner, jw;
	hf_jw_init(&inner, &a);
	hf_jw_obj(&inner);
	hf_jw_key(&inner, "s");
	hf_jw_str(&inner, NULL, 0);
	hf_jw_obj_end(&inner);
	hf_jw_init(&jw, &a);
	assert_true(hf_jw_reserve(&jw, 4096));
	hf_jw_arr(&jw);
	hf_jw_json(&jw, inner.buf, inner.len);
	hf_jw_json(&jw, inner.buf, inner.len);
	hf_jw_arr_end(&jw);
	assert_false(jw.oom);
	assert_string_equal(jw.buf, "[{\"s\":\"\"},{\"s\":\"\"}]");
	hf_arena_free(&a);
}

/* Bytes that are not UTF-8 become U+FFFD; well-formed sequences stay. */
static void test_not_utf8(void **state)
{
	(void)state;
	struct hf_arena a = {0};
	struct hf_jw jw;
	hf_jw_init(&jw, &a);
	hf_jw_arr(&jw);
	hf_jw_cstr(&jw, "event \xff not found");
	hf_jw_cstr(&jw, "caf\xc3\xa9 \xc3");           /* a name cut mid-sequence */
	hf_jw_cstr(&jw, "\xe2\x82\xac \xf0\x9f\x8e\xab"); /* euro sign, ticket */
	hf_jw_cstr(&jw, "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80"); /* overlong, surrogate, > U+10FFFF */
	hf_jw_arr_end(&jw);
	assert_false(jw.oom);
	assert_string_equal(jw.buf, "[\"event \\ufffd not found\",\"caf\xc3\xa9 \\ufffd\","
				    "\"\xe2\x82\xac \xf0\x9f\x8e\xab\","
				    "\"\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\\ufffd\"]");
	hf_arena_free(&a);
}

static void test_time_format(void **state)
{
	(void)state;
	char t[HF_TIME_TEXT_MAX];
	hf_time_format(0, t);
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	hf_time_format(1795305600000LL, t);
	assert_string_equal(t, "2026-11-22T00:00:00Z");
	hf_time_format(951782400123LL, t); /* 2000-02-29, a leap day */
	assert_string_equal(t, "2000-02-29T00:00:00.123Z");
	hf_time_format(HF_TIME_MS_MAX, t);
	assert_string_equal(t, "9999-12-31T23:59:59.999Z");
}

static int64_t parse(const char *s)
{
	int64_t ms = -7;
	if (hf_time_parse(s, strlen(s), &ms) < 0)
		return -1;
	return ms;
}

static void test_time_parse(void **state)
{
	(void)state;
	assert_int_equal(parse("2026-11-22T00:00:00Z"), 1795305600000LL);
	assert_int_equal(parse("2026-11-22T00:00:00+00:00"), 1795305600000LL);
	assert_int_equal(parse("2026-11-22T02:00:00+02:00"), 1795305600000LL);
	assert_int_equal(parse("2026-11-21T22:30:00-01:30"), 1795305600000LL);
	assert_int_equal(parse("2026-11-22T00:00:00.5Z"), 1795305600500LL);
	assert_int_equal(parse("2026-11-22T00:00:00.123456789Z"), 1795305600123LL);
	assert_int_equal(parse("2000-02-29T00:00:00Z"), 951782400000LL);
	const char *bad[] = {"", "2026-11-22", "2026-11-22T00:00:00", "2026-11-22 00:00:00Z",
			     "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
			     "2026-11-31T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T00:60:00Z",
			     "2026-11-22T00:00:60Z", "2026-11-22T00:00:00.Z", "2026-11-22T00:00:00z",
			     "2026-11-22T00:00:00ZZ", "2026-11-22T00:00:00+0000", "+2026-11-22T00:00:00Z",
			     "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01", "2026-1a-22T00:00:00Z",
			     "2026-11-22T00:00:00.1234567890Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms;
		if (hf_time_parse(bad[i], strlen(bad[i]), &ms) != -1)
			fail_msg("accepted %s", bad[i]);
	}
	/* round trip over a spread of instants */
	for (int64_t ms = 0; ms < HF_TIME_MS_MAX; ms += 7919LL * 86400 * 1000 + 12345) {
		char t[HF_TIME_TEXT_MAX];
		size_t n = hf_time_format(ms, t);
		int64_t back;
		assert_int_equal(hf_time_parse(t, n, &back), (int64_t)n);
		assert_int_equal(back, ms);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_grows),
		cmocka_unit_test(test_empty_and_nested),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
