/*
 * test_sm_observe.c: core/observe.h. hf_sm_holds_due names exactly the
 * holds the next apply expires, in the order they end; the static views
 * give the catalog's fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/observe.h"
#include "sm_fixture.h"

/* 60 holds with ttl 1..60 s in a shuffled order; at each step the due list
 * equals the active holds past their time, sorted by (expires_at, id), and
 * after the apply exactly those are expired. */
static void test_holds_due(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 60, 100);
	unsigned seed = 12345;
	uint32_t ttl[60];
	for (uint32_t i = 0; i < 60; i++)
		ttl[i] = i % 20 + 1; /* several holds share an instant */
	for (uint32_t i = 59; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		uint32_t j = (seed >> 16) % (i + 1), t = ttl[i];
		ttl[i] = ttl[j];
		ttl[j] = t;
	}
	uint64_t id[60];
	for (uint32_t i = 0; i < 60; i++) {
		struct lines l;
		char seat[8];
		snprintf(seat, sizeof(seat), "%u", i + 1);
		char cust[8];
		snprintf(cust, sizeof(cust), "c%u", i % 4); /* a customer keeps at most 32 */
		ln_clear(&l);
		ln_seats(&l, "show", seat);
		id[i] = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, cust, 0, ttl[i], &l))->booking.id;
	}
	struct hf_hold_due due[64];
	assert_int_equal(hf_sm_holds_due(f->sm, f->now, due, 64), 0);
	for (uint32_t step = 1; step <= 21; step++) {
		int64_t at = FX_T0 + (int64_t)step * FX_SEC;
		uint32_t n = hf_sm_holds_due(f->sm, at, due, 64);
		/* brute force: the active holds whose time has come */
		uint32_t want = 0;
		for (uint32_t i = 0; i < 60; i++)
			if (fx_hold_view(f, id[i]).state == HF_HOLD_ACTIVE &&
			    FX_T0 + (int64_t)ttl[i] * FX_SEC <= at)
				want++;
		assert_int_equal(n, want);
		for (uint32_t k = 1; k < n; k++)
			assert_true(due[k - 1].expires_at_ms < due[k].expires_at_ms ||
				    (due[k - 1].expires_at_ms == due[k].expires_at_ms && due[k - 1].id < due[k].id));
		/* a buffer too small: the count, nothing past cap written */
		if (n > 2) {
			struct hf_hold_due small[3] = {{0, 0}, {0, 0}, {-1, 7}};
			assert_int_equal(hf_sm_holds_due(f->sm, at, small, 2), n);
			assert_true(small[2].expires_at_ms == -1 && small[2].id == 7);
		}
		fx_at(f, at);
		for (uint32_t k = 0; k < n; k++)
			assert_int_equal(fx_hold_view(f, due[k].id).state, HF_HOLD_EXPIRED_STATE);
		assert_int_equal(hf_sm_holds_due(f->sm, at, due, 64), 0);
	}
	fx_free(f);
}

static void test_static_views(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	uint32_t ev = fx_event(f, "show", 3, 250);
	uint32_t it = fx_item(f, "mug", 1299, 7);
	fx_hold(f, "alice", "show", "2");
	struct hf_event_info e;
	hf_sm_event_static(f->sm, ev, &e);
	assert_int_equal(e.n_seats, 3);
	assert_true(e.id.len == 4 && !memcmp(e.id.ptr, "show", 4));
	assert_int_equal(e.count[HF_SEAT_HELD], 0); /* counts are not static */
	struct hf_seat_info s;
	hf_sm_seat_static(f->sm, e.first_seat + 1, &s);
	assert_true(s.id.len == 1 && s.id.ptr[0] == '2');
	assert_int_equal(s.price, 250);
	assert_int_equal(s.event, ev);
	assert_int_equal(s.state, 0);
	struct hf_item_info i;
	hf_sm_item_static(f->sm, it, &i);
	assert_int_equal(i.price, 1299);
	assert_int_equal(i.available, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holds_due),
		cmocka_unit_test(test_static_views),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
