/*
 * test_route.c: the routing table: every pattern matches what it should,
 * {id} takes exactly one segment, a known path with another method is told
 * apart (405) from an unknown path (404), and the table's rows are sane.
 * The page's routes (/ui/...) match one segment per {file} or {id} too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/server.h"

static void expect_route(const char *method, const char *path, const char *pattern,
			 const char *param)
{
	struct hf_str p = {0};
	int i = hf_route_match(method, path, &p);
	if (i < 0)
		fail_msg("%s %s: no route (%d)", method, path, i);
	assert_string_equal(hf_route_get(i)->pattern, pattern);
	assert_string_equal(hf_route_get(i)->method, method);
	if (param) {
		assert_int_equal(p.len, strlen(param));
		assert_memory_equal(p.ptr, param, p.len);
	}
}

static void test_match(void **state)
{
	(void)state;
	expect_route("POST", "/events", "/events", NULL);
	expect_route("GET", "/events/show-1", "/events/{id}", "show-1");
	expect_route("GET", "/events/show-1/seats", "/events/{id}/seats", "show-1");
	expect_route("POST", "/events/e/block", "/events/{id}/block", "e");
	expect_route("DELETE", "/holds/h-3", "/holds/{id}", "h-3");
	expect_route("GET", "/holds/h-3", "/holds/{id}", "h-3");
	expect_route("POST", "/holds/h-3/confirm", "/holds/{id}/confirm", "h-3");
	expect_route("GET", "/customers/al/orders", "/customers/{id}/orders", "al");
	expect_route("GET", "/metrics", "/metrics", NULL);
	/* the events' list beside their creation; the seat-map page */
	expect_route("GET", "/events", "/events", NULL);
	expect_route("GET", "/ui/", "/ui/", NULL);
	expect_route("GET", "/ui/events/show-1", "/ui/events/{id}", "show-1");
	expect_route("GET", "/ui/app.js", "/ui/{file}", "app.js");
	struct hf_str p;
	assert_int_equal(hf_route_match("GET", "/ui", &p), -1);
	assert_int_equal(hf_route_match("GET", "/ui/a/b", &p), -1);
	assert_int_equal(hf_route_match("POST", "/ui/", &p), -2);
	assert_int_equal(hf_route_match("GET", "/nowhere", &p), -1);
	assert_int_equal(hf_route_match("GET", "/events/", &p), -1);
	assert_int_equal(hf_route_match("GET", "/events//seats", &p), -1);
	assert_int_equal(hf_route_match("GET", "/events/a/b/seats", &p), -1);
	assert_int_equal(hf_route_match("GET", "/holds/h-1/", &p), -1);
	assert_int_equal(hf_route_match("GET", "", &p), -1);
	assert_int_equal(hf_route_match("PUT", "/holds", &p), -2);
	assert_int_equal(hf_route_match("GET", "/holds", &p), -2);
	assert_int_equal(hf_route_match("POST", "/metrics", &p), -2);
}

static void test_table(void **state)
{
	(void)state;
	assert_true(hf_route_count() > 20);
	for (uint32_t i = 0; i < hf_route_count(); i++) {
		const struct hf_route *r = hf_route_get((int)i);
		assert_true(r->pattern[0] == '/');
		assert_true(r->ok_status == 200 || r->ok_status == 201);
		assert_true(r->body_max > 0);
		/* a route either writes, reads or answers itself */
		assert_true(r->cmd != HF_CMD_NONE || r->read || r->prepare);
		/* no two rows share method and pattern */
		for (uint32_t k = 0; k < i; k++) {
			const struct hf_route *o = hf_route_get((int)k);
			assert_false(!strcmp(o->method, r->method) && !strcmp(o->pattern, r->pattern));
		}
		if (!strcmp(r->method, "GET"))
			assert_int_equal(r->cmd, HF_CMD_NONE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
