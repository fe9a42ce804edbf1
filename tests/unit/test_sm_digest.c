/*
 * test_sm_digest.c: determinism. The same commands at the same times give
 * the same state (equal hf_sm_digest after every step); any change to the
 * state (a seat, a counter, the clock, an idempotency entry) changes the
 * digest; a snapshot read back gives the same digest and the same future.
 *
 * The randomized test takes its seed from HF_SEED (else the clock) and
 * prints it on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/crc32c.h"
#include "core/internal.h"
#include "sm_fixture.h"

static uint64_t g_seed;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

#define SEED_FAIL(fmt, ...) \
	fail_msg("seed %llu (rerun with HF_SEED=%llu): " fmt, (unsigned long long)g_seed, \
		 (unsigned long long)g_seed, __VA_ARGS__)

/* One random step, the same for every sm given the same rng state: a mix
 * of every command over a small catalog, so that holds collide, expire,
 * get confirmed and canceled. Returns the command's time. */
static void random_step(uint64_t *s, struct fx **fs, int n_fx, uint32_t step)
{
	static const char *const customers[] = {"ann", "ben", "cid", "dee"};
	static const char *const items[] = {"mug", "cap", "hat"};
	static const char *const keys[] = {"", "", "k1", "k2", "k3"};
	static struct lines l;
	ln_clear(&l);
	const char *who = customers[rng_below(s, 4)];
	int64_t dt = rng_below(s, 4) == 0 ? (int64_t)rng_below(s, 400) * FX_SEC : 0;
	uint64_t ref = 1 + rng_below(s, step / 2 + 2);
	struct hf_cmd c;
	switch (rng_below(s, 10)) {
	case 0:
	case 1:
	case 2: {
		uint32_t n = 1 + rng_below(s, 3);
		for (uint32_t i = 0; i < n; i++) {
			char id[4];
			snprintf(id, sizeof(id), "%u", 1 + rng_below(s, 12));
			ln_seats(&l, "show", id);
		}
		if (rng_below(s, 2))
			ln_item(&l, items[rng_below(s, 3)], 1 + rng_below(s, 4), rng_below(s, 2));
		static const uint8_t types[] = {HF_CMD_HOLD_CREATE, HF_CMD_ORDER_CREATE,
						HF_CMD_HOLD_ADD, HF_CMD_HOLD_REMOVE};
		uint8_t t = types[rng_below(s, 4)];
		c = cmd_lines(t, who, t == HF_CMD_HOLD_ADD || t == HF_CMD_HOLD_REMOVE ? ref : 0,
			      rng_below(s, 3) * 60, &l);
		break;
	}
	case 3:
		c = cmd_hold(HF_CMD_HOLD_CONFIRM, who, ref, 0);
		break;
	case 4:
		c = cmd_hold(HF_CMD_HOLD_RELEASE, who, ref, 0);
		break;
	case 5:
		c = cmd_hold(HF_CMD_HOLD_EXTEND, who, ref, 1 + rng_below(s, 900));
		break;
	case 6:
		c = cmd_order(HF_CMD_ORDER_CANCEL, who, ref, 0, HF_ORDER_STATUS_ANY);
		break;
	case 7:
		c = as_admin(cmd_order(HF_CMD_ORDER_STATUS, "", ref, (uint8_t)rng_below(s, 5),
				       rng_below(s, 2) ? HF_ORDER_STATUS_ANY
						       : (uint8_t)rng_below(s, 5)));
		break;
	case 8:
		c = cmd_restock(items[rng_below(s, 3)], 1 + rng_below(s, 3));
		break;
	default:
		c = cmd_block(rng_below(s, 2) ? HF_CMD_SEATS_BLOCK : HF_CMD_SEATS_UNBLOCK, "show",
			      rng_below(s, 2) ? "11" : "12");
		break;
	}
	const char *key = keys[rng_below(s, 5)];
	if (key[0])
		c = with_key(c, key, rng_below(s, 2));
	for (int i = 0; i < n_fx; i++) {
		fs[i]->now += dt;
		char msg[512] = "";
		struct hf_reply *r = &fs[i]->r;
		hf_sm_apply(fs[i]->sm, fs[i]->now, &c, r);
		if (hf_sm_check(fs[i]->sm, msg, sizeof(msg)) != 0)
			SEED_FAIL("step %u (%s): hf_sm_check: %s", step,
				  hf_cmd_type_name((enum hf_cmd_type)c.type), msg);
	}
}

static void setup_catalog(struct fx *f)
{
	fx_event(f, "show", 12, 100);
	fx_item(f, "mug", 10, 5);
	fx_item(f, "cap", 20, 3);
	fx_item(f, "hat", 30, 0);
}

static void test_digest_equal_for_equal_sequences(void **state)
{
	(void)state;
	g_seed = 0;
	const char *env = getenv("HF_SEED");
	if (env && *env) {
		g_seed = strtoull(env, NULL, 0);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		g_seed = (uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec;
	}
	print_message("test_digest_equal_for_equal_sequences: seed %llu\n",
		      (unsigned long long)g_seed);
	uint64_t s = g_seed;
	struct fx *fs[2] = {fx_new(NULL), fx_new(NULL)};
	setup_catalog(fs[0]);
	setup_catalog(fs[1]);
	if (fx_digest(fs[0]) != fx_digest(fs[1]))
		SEED_FAIL("%s", "digests differ after the same catalog");
	for (uint32_t step = 0; step < 600; step++) {
		random_step(&s, fs, 2, step);
		if (fx_digest(fs[0]) != fx_digest(fs[1]))
			SEED_FAIL("digests differ after step %u", step);
		uint8_t e0[HF_REPLY_BYTES_MAX], e1[HF_REPLY_BYTES_MAX];
		int64_t n0 = hf_reply_encode(&fs[0]->r, e0, sizeof(e0));
		int64_t n1 = hf_reply_encode(&fs[1]->r, e1, sizeof(e1));
		if (n0 <= 0 || n0 != n1 || memcmp(e0, e1, (size_t)n0) != 0)
			SEED_FAIL("replies differ (or do not encode) at step %u", step);
	}
	/* One more command in one of them: the digests part. */
	fx_advance(fs[0], 0);
	fx_advance(fs[1], 0);
	assert_true(fx_digest(fs[0]) == fx_digest(fs[1]));
	FX_OK(fs[0], cmd_restock("mug", 1));
	assert_true(fx_digest(fs[0]) != fx_digest(fs[1]));
	FX_OK(fs[1], cmd_restock("mug", 1));
	assert_true(fx_digest(fs[0]) == fx_digest(fs[1]));
	fx_free(fs[0]);
	fx_free(fs[1]);
}

/* Each of these changes one thing; each must change the digest. */
static void test_digest_sees_every_change(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	setup_catalog(f);
	uint64_t d = fx_digest(f);
	uint64_t seen[16];
	int n = 0;
	seen[n++] = d;
#define CHANGED()                                                               \
	do {                                                                    \
		uint64_t now_ = fx_digest(f);                                   \
		for (int i_ = 0; i_ < n; i_++)                                  \
			if (seen[i_] == now_)                                   \
				fail_msg("line %d: digest did not change", __LINE__); \
		seen[n++] = now_;                                               \
	} while (0)
	fx_advance(f, 1); /* the clock */
	CHANGED();
	uint64_t h = fx_hold(f, "ann", "show", "1"); /* a seat, a hold, a customer */
	CHANGED();
	FX_OK(f, cmd_block(HF_CMD_SEATS_BLOCK, "show", "5")); /* a seat state */
	CHANGED();
	FX_OK(f, cmd_restock("hat", 1)); /* a counter */
	CHANGED();
	FX_OK(f, cmd_hold(HF_CMD_HOLD_EXTEND, "ann", h, 900)); /* an expiry time */
	CHANGED();
	FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "ann", h, 0)); /* states, an order */
	CHANGED();
	FX_OK(f, as_admin(cmd_order(HF_CMD_ORDER_STATUS, "", 1, HF_ORDER_PACKAGED,
				    HF_ORDER_STATUS_ANY))); /* a status */
	CHANGED();
	/* A stored refusal: only the idempotency table changes. */
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	const struct hf_reply *r =
		FX_APPLY(f, with_key(cmd_lines(HF_CMD_HOLD_CREATE, "ben", 0, 0, &l), "key", 1));
	ASSERT_RESULT(r->result, HF_SEATS_UNAVAILABLE);
	CHANGED();
#undef CHANGED
	fx_free(f);
}

static void test_snapshot_round_trip(void **state)
{
	(void)state;
	uint64_t s = 12345;
	g_seed = s;
	struct fx *fs[2] = {fx_new(NULL), fx_new(NULL)};
	setup_catalog(fs[0]);
	for (uint32_t step = 0; step < 300; step++)
		random_step(&s, fs, 1, step);
	size_t size = hf_sm_snapshot_size(fs[0]->sm);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	assert_int_equal(hf_sm_snapshot_write(fs[0]->sm, buf, size), size);
	char err[256] = "";
	if (hf_sm_snapshot_read(fs[1]->sm, buf, size, err, sizeof(err)) != 0)
		fail_msg("hf_sm_snapshot_read: %s", err);
	fs[1]->now = fs[0]->now;
	FX_CHECK(fs[1]);
	assert_true(fx_digest(fs[0]) == fx_digest(fs[1]));
	assert_true(hf_sm_now(fs[1]->sm) == hf_sm_now(fs[0]->sm));
	/* The same future. */
	for (uint32_t step = 300; step < 600; step++) {
		random_step(&s, fs, 2, step);
		if (fx_digest(fs[0]) != fx_digest(fs[1]))
			SEED_FAIL("digests differ %u steps after the snapshot", step - 300);
	}
	/* A truncated snapshot is refused; a damaged one is never crashed on
	 * (whether it is caught is the log's checksum's job). An sm that
	 * refused a snapshot is only freed. */
	struct fx *g = fx_new(NULL);
	assert_int_equal(hf_sm_snapshot_read(g->sm, buf, size / 3, err, sizeof(err)), -1);
	fx_free(g);
	g = fx_new(NULL);
	buf[size / 2] ^= 0x40;
	(void)hf_sm_snapshot_read(g->sm, buf, size, err, sizeof(err));
	fx_free(g);
	free(buf);
	fx_free(fs[0]);
	fx_free(fs[1]);
}

/* Pieces concatenated by a sink; fails (returns 7) once it has taken
 * fail_after pieces. */
struct pieces {
	uint8_t *buf;
	size_t len, cap;
	uint32_t n, fail_after;
};

static int pieces_sink(void *arg, const void *p, size_t n)
{
	struct pieces *c = arg;
	if (c->n == c->fail_after)
		return 7;
	assert_true(n > 0 && c->len + n <= c->cap);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->n++;
	return 0;
}

/* hf_sm_snapshot_emit hands over exactly hf_sm_snapshot_write's bytes, also
 * when the rings of ended holds and idempotent replies have wrapped; a sink
 * that fails stops it with the sink's answer. */
static void test_snapshot_emit_pieces(void **state)
{
	(void)state;
	uint64_t s = 777;
	g_seed = s;
	struct hf_sm_config c;
	fx_config(&c);
	c.idem_entries = 5;
	struct fx *fs[1] = {fx_new(&c)};
	setup_catalog(fs[0]);
	for (uint32_t step = 0; step < 600; step++)
		random_step(&s, fs, 1, step);
	/* The ring of idempotent replies (5 entries, kept an hour) made to
	 * wrap: two hours on (all expire), 3 stored, 2 more half an hour on,
	 * the first 3 expire, 3 more. */
	fs[0]->now += 2 * 3600 * FX_SEC;
	FX_APPLY(fs[0], cmd_tick());
	assert_int_equal(fs[0]->sm->idem_count, 0);
	static const uint32_t batch[3] = {3, 2, 3};
	for (uint32_t b = 0, k = 0; b < 3; b++) {
		fs[0]->now += 1800 * FX_SEC + (b == 2 ? FX_SEC : 0);
		FX_APPLY(fs[0], cmd_tick());
		for (uint32_t i = 0; i < batch[b]; i++, k++) {
			char key[16];
			snprintf(key, sizeof key, "wrap-%u", k);
			FX_APPLY(fs[0], with_key(cmd_hold(HF_CMD_HOLD_RELEASE, "ben", 999999, 0), key, k));
		}
	}
	const struct hf_sm *sm = fs[0]->sm;
	assert_true(sm->idem_count > 0 && sm->idem_head + sm->idem_count > c.idem_entries);
	size_t size = hf_sm_snapshot_size(sm);
	uint8_t *whole = malloc(size);
	assert_non_null(whole);
	assert_int_equal(hf_sm_snapshot_write(sm, whole, size), size);
	struct pieces p = {.buf = malloc(size), .cap = size, .fail_after = UINT32_MAX};
	assert_non_null(p.buf);
	uint32_t crc = 0;
	assert_int_equal(hf_sm_snapshot_emit(sm, pieces_sink, &p, &crc), 0);
	assert_int_equal(p.len, size);
	assert_true(p.n > 10);
	assert_memory_equal(p.buf, whole, size);
	assert_int_equal(crc, hf_crc32c(0, whole, size)); /* what the file header carries */
	uint32_t all = p.n;
	p = (struct pieces){.buf = p.buf, .cap = size, .fail_after = all / 2};
	assert_int_equal(hf_sm_snapshot_emit(sm, pieces_sink, &p, NULL), 7);
	assert_int_equal(p.n, all / 2);
	free(p.buf);
	free(whole);
	fx_free(fs[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_equal_for_equal_sequences),
		cmocka_unit_test(test_digest_sees_every_change),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_emit_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
