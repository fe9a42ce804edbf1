/*
 * test_sm_idempotency.c: steps c and e of sm.h's SEMANTICS: a command with
 * an idempotency key replays its first reply (replayed = true, nothing else
 * happens), refusals included; the same key with another fingerprint is
 * HF_IDEMPOTENCY_KEY_REUSED (not stored); keys are per customer; entries
 * are forgotten after idem_retention_ms; a full table answers
 * HF_CAPACITY_FULL (not stored), and so does a command refused with
 * HF_CAPACITY_FULL leave no entry behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_fixture.h"

/* The replay must be the first reply, byte for byte, but for replayed. */
static void assert_same_reply(const struct hf_reply *first, const struct hf_reply *replay)
{
	assert_true(replay->replayed);
	static struct hf_reply a, b;
	a = *first;
	b = *replay;
	a.replayed = b.replayed = false;
	uint8_t ea[HF_REPLY_BYTES_MAX], eb[HF_REPLY_BYTES_MAX];
	int64_t na = hf_reply_encode(&a, ea, sizeof(ea));
	int64_t nb = hf_reply_encode(&b, eb, sizeof(eb));
	assert_true(na > 0 && na == nb);
	assert_memory_equal(ea, eb, (size_t)na);
}

/* Applies c, which must replay: the state does not change. */
static const struct hf_reply *replay(struct fx *f, struct hf_cmd c, const struct hf_reply *first)
{
	uint64_t before = fx_digest(f);
	const struct hf_reply *r = FX_APPLY(f, c);
	assert_same_reply(first, r);
	assert_true(fx_digest(f) == before);
	return r;
}

static void test_idem_replay(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,2");
	struct hf_cmd c = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), "k1", 11);
	struct hf_reply first = *FX_OK(f, c);
	assert_false(first.replayed);
	assert_true(first.booking.id == 1);

	/* Same key, same fingerprint: the first reply; no second hold. */
	replay(f, c, &first);
	replay(f, c, &first);
	struct hf_booking none;
	assert_int_equal(hf_sm_hold_view(f->sm, 2, &none), HF_UNKNOWN_HOLD);
	/* Even after the state moved on (the hold released and time passed). */
	fx_advance(f, 10 * FX_SEC);
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", 1, 0));
	const struct hf_reply *r = replay(f, c, &first);
	assert_int_equal(r->booking.state, HF_HOLD_ACTIVE); /* as first answered */
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	/* The next hold gets id 2: replays used none. */
	assert_true(fx_hold(f, "bob", "show", "3") == 2);

	/* Every kind of command replays: a status change. */
	uint64_t o = fx_buy(f, "alice", "show", "4");
	struct hf_cmd s = with_key(as_admin(cmd_order(HF_CMD_ORDER_STATUS, "alice", o,
						      HF_ORDER_PACKAGED, HF_ORDER_STATUS_ANY)),
				   "st", 5);
	struct hf_reply st1 = *FX_OK(f, s);
	r = replay(f, s, &st1);
	assert_int_equal(r->booking.state, HF_ORDER_PACKAGED);
	fx_free(f);
}

static void test_idem_key_reused(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_item(f, "mug", 10, 10);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	struct hf_cmd c = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), "k", 1);
	struct hf_reply first = *FX_OK(f, c);
	/* Another fingerprint: refused, and not stored. */
	struct hf_cmd other = c;
	other.idem_fingerprint = 2;
	FX_REFUSE(f, other, HF_IDEMPOTENCY_KEY_REUSED);
	FX_REFUSE(f, other, HF_IDEMPOTENCY_KEY_REUSED);
	/* Another command type with the key: the fingerprint decides. */
	struct hf_cmd rel = with_key(cmd_hold(HF_CMD_HOLD_RELEASE, "alice", 1, 0), "k", 3);
	FX_REFUSE(f, rel, HF_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(fx_hold_view(f, 1).state, HF_HOLD_ACTIVE);
	/* The first entry is intact. */
	replay(f, c, &first);
	assert_int_equal(fx_item_info(f, "mug").held, 1);
	fx_free(f);
}

static void test_idem_refusal_stored(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	uint64_t h = fx_hold(f, "alice", "show", "2");
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,2");
	struct hf_cmd c = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), "try-1", 9);
	/* The refusal changes nothing but is remembered (step e). */
	struct hf_reply first = *FX_APPLY(f, c);
	ASSERT_RESULT(first.result, HF_SEATS_UNAVAILABLE);
	assert_false(first.replayed);
	FX_BAD_SEATS(f, &first, "show", "2");
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	/* The seat frees up; the retry still gets the refusal. */
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h, 0));
	const struct hf_reply *r = replay(f, c, &first);
	ASSERT_RESULT(r->result, HF_SEATS_UNAVAILABLE);
	FX_BAD_SEATS(f, r, "show", "2");
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_FREE);
	/* A new key does the work. */
	FX_OK(f, with_key(c, "try-2", 9));
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_HELD);
	/* A BAD_REQUEST is stored too. */
	struct lines empty;
	ln_clear(&empty);
	struct hf_cmd bad = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &empty), "b", 1);
	struct hf_reply b1 = *FX_APPLY(f, bad);
	ASSERT_RESULT(b1.result, HF_BAD_REQUEST);
	replay(f, bad, &b1);
	fx_free(f);
}

static void test_idem_per_customer(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_item(f, "mug", 10, 10);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	struct hf_cmd a = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), "same", 1);
	struct hf_cmd b = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), "same", 1);
	struct hf_reply ra = *FX_OK(f, a);
	const struct hf_reply *rb = FX_OK(f, b);
	assert_false(rb->replayed);
	assert_true(rb->booking.id != ra.booking.id);
	/* Bob with another fingerprint is bob's business, not alice's. */
	struct hf_cmd b2 = b;
	b2.idem_fingerprint = 2;
	FX_REFUSE(f, b2, HF_IDEMPOTENCY_KEY_REUSED);
	replay(f, a, &ra);
	assert_int_equal(fx_item_info(f, "mug").held, 2);
	fx_free(f);
}

static void test_idem_retention(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.idem_retention_ms = 60 * FX_SEC;
	struct fx *f = fx_new(&cfg);
	fx_item(f, "mug", 10, 10);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	struct hf_cmd c = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), "k", 1);
	struct hf_reply first = *FX_OK(f, c); /* stored at T0 */
	struct hf_sm_stats st;
	hf_sm_stats(f->sm, &st);
	assert_int_equal(st.idem_entries, 1);
	fx_at(f, FX_T0 + 60 * FX_SEC - 1);
	replay(f, c, &first);
	/* Stored at or before now - retention: forgotten, the work is done
	 * again (a new hold). */
	fx_at(f, FX_T0 + 60 * FX_SEC);
	hf_sm_stats(f->sm, &st);
	assert_int_equal(st.idem_entries, 0);
	const struct hf_reply *r = FX_OK(f, c);
	assert_false(r->replayed);
	assert_true(r->booking.id == 2);
	assert_int_equal(fx_item_info(f, "mug").held, 2);
	/* The new entry counts from its own time. */
	struct hf_reply second = *r;
	fx_at(f, FX_T0 + 120 * FX_SEC - 1);
	replay(f, c, &second);
	/* A reused key after forgetting is a fresh key. */
	fx_at(f, FX_T0 + 120 * FX_SEC);
	struct hf_cmd other = c;
	other.idem_fingerprint = 7;
	FX_OK(f, other);
	fx_free(f);
}

static void test_idem_capacity_full(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.idem_entries = 2;
	cfg.idem_retention_ms = 60 * FX_SEC;
	struct fx *f = fx_new(&cfg);
	fx_item(f, "mug", 10, 10);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	struct hf_cmd c = cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l);
	struct hf_reply r1 = *FX_OK(f, with_key(c, "k1", 1));
	fx_advance(f, 10 * FX_SEC);
	FX_OK(f, with_key(c, "k2", 1));
	/* No room: refused, not stored, nothing done. */
	FX_REFUSE(f, with_key(c, "k3", 1), HF_CAPACITY_FULL);
	FX_REFUSE(f, with_key(c, "k3", 1), HF_CAPACITY_FULL);
	assert_int_equal(fx_item_info(f, "mug").held, 2);
	/* Lookups of stored keys still answer. */
	replay(f, with_key(c, "k1", 1), &r1);
	FX_REFUSE(f, with_key(c, "k1", 2), HF_IDEMPOTENCY_KEY_REUSED);
	/* No key: no table needed. */
	FX_OK(f, c);
	/* k1 ages out: room for k3. */
	fx_at(f, FX_T0 + 60 * FX_SEC);
	const struct hf_reply *r = FX_OK(f, with_key(c, "k3", 1));
	assert_false(r->replayed);
	struct hf_reply r3 = *r;
	replay(f, with_key(c, "k3", 1), &r3);
	fx_free(f);
}

static void test_idem_capacity_full_refusal_not_stored(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_holds = 1;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 4, 100);
	uint64_t h = fx_hold(f, "alice", "show", "1");
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "2");
	struct hf_cmd c = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), "k", 1);
	/* No hold slot: CAPACITY_FULL, which is not stored ... */
	FX_REFUSE(f, c, HF_CAPACITY_FULL);
	struct hf_sm_stats st;
	hf_sm_stats(f->sm, &st);
	assert_int_equal(st.idem_entries, 0);
	/* ... so once room is made the retry does the work. */
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h, 0));
	const struct hf_reply *r = FX_OK(f, c);
	assert_false(r->replayed);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_HELD);
	struct hf_reply first = *r;
	replay(f, c, &first);
	fx_free(f);
}

/* An admin command acts for no customer: customer is the zeroed hf_str
 * {NULL, 0} (what a zeroed struct hf_cmd holds). Its key is stored and
 * replayed like any other, with no undefined behaviour on the way (UBSan:
 * memcpy/memcmp with a NULL pointer, even for 0 bytes). */
static void test_idem_admin_without_customer(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_item(f, "mug", 10, 1);
	struct hf_cmd c = with_key(cmd_restock("mug", 2), "restock-1", 42);
	assert_null(c.customer.ptr);
	assert_int_equal(c.customer.len, 0);
	struct hf_reply first = *FX_OK(f, c);
	assert_int_equal(fx_item_info(f, "mug").available, 3);
	replay(f, c, &first);
	assert_int_equal(fx_item_info(f, "mug").available, 3);
	/* The empty customer with a non-NULL pointer is the same customer. */
	struct hf_cmd same = c;
	same.customer = hf_str_c("");
	replay(f, same, &first);
	fx_free(f);
}

/* Steps a and b run before the lookup: a replay still moves the clock and
 * expires holds; only the command itself is not applied again. */
static void test_idem_replay_still_expires(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	fx_item(f, "mug", 10, 5);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	struct hf_cmd c = with_key(cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), "k", 1);
	struct hf_reply first = *FX_OK(f, c);
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	uint64_t short_hold =
		FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 10, &l))->booking.id;
	f->now += 10 * FX_SEC;
	const struct hf_reply *r = FX_APPLY(f, c);
	assert_same_reply(&first, r);
	assert_true(hf_sm_now(f->sm) == FX_T0 + 10 * FX_SEC);
	assert_int_equal(fx_hold_view(f, short_hold).state, HF_HOLD_EXPIRED_STATE);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	assert_int_equal(fx_item_info(f, "mug").held, 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idem_replay),
		cmocka_unit_test(test_idem_key_reused),
		cmocka_unit_test(test_idem_refusal_stored),
		cmocka_unit_test(test_idem_per_customer),
		cmocka_unit_test(test_idem_retention),
		cmocka_unit_test(test_idem_capacity_full),
		cmocka_unit_test(test_idem_capacity_full_refusal_not_stored),
		cmocka_unit_test(test_idem_admin_without_customer),
		cmocka_unit_test(test_idem_replay_still_expires),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
