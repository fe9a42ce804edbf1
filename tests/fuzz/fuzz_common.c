/*
 * fuzz_common.c: the fixture and the step checks the fuzz targets share
 * (see fuzz.h). Owns the fixture's static commands; every check either
 * returns quietly or ends the process through hf_fuzz_fail.
 *
 * The checks are properties any state and any reply must have, whatever
 * the input: they need no reference model (tests/sim has one), so the
 * fuzzer can drive the core into states no generator planned.
 */
#include "fuzz.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

void hf_fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz: FAILED: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
	abort();
}

/* Small on purpose: a few commands fill any table, so the CAPACITY_FULL
 * paths, hold-slot recycling, the idempotency ring's wrap and the line
 * pool's free list are all reachable from a short input. idem_bytes is the
 * least the core accepts (4 maximal replies). */
void hf_fuzz_config(struct hf_sm_config *cfg /* out */)
{
	hf_sm_config_default(cfg);
	cfg->max_events = 4;
	cfg->max_seats = 48;
	cfg->max_items = 4;
	cfg->max_customers = 8;
	cfg->max_holds = 8;
	cfg->max_orders = 8;
	cfg->max_lines = 64;
	cfg->string_bytes = 4096;
	cfg->idem_entries = 4;
	cfg->idem_bytes = 4 * HF_REPLY_BYTES_MAX;
	cfg->idem_retention_ms = HF_FUZZ_HOUR;
	cfg->shipping_fee = 490;
	cfg->free_shipping_over = 5000;
	cfg->hold_lifetime_max_s = 7200;
}

/* ---- the fixture's catalog ---------------------------------------------- */

#define S(lit) {lit, sizeof(lit) - 1}

static const struct hf_seat_spec e1_seats[] = {
	{S("A-1"), S("A"), S("1"), S(""), 1, 1000}, {S("A-2"), S("A"), S("1"), S(""), 2, 1000},
	{S("A-3"), S("A"), S("1"), S(""), 3, 1000}, {S("A-4"), S("A"), S("1"), S(""), 4, 1000},
	{S("A-5"), S("A"), S("2"), S("vip"), 5, 1000},
	{S("A-6"), S("A"), S("2"), S("vip"), 6, 1000},
	{S("A-7"), S("A"), S("2"), S(""), 7, 1000}, {S("A-8"), S("A"), S("2"), S(""), 8, 0},
};
static const struct hf_seat_spec e2_seats[] = {
	{S("1"), S(""), S(""), S(""), 1, 2500}, {S("2"), S(""), S(""), S(""), 2, 2500},
	{S("3"), S(""), S(""), S(""), 3, 2500}, {S("4"), S(""), S(""), S(""), 4, 2500},
};
static const struct hf_str block_a8[] = {S("A-8")};
static const struct hf_seat_ref alice_seats[] = {{S("E1"), S("A-1")}, {S("E1"), S("A-2")}};
static const struct hf_item_ref alice_items[] = {{S("I1"), 2, false}};
static const struct hf_seat_ref bob_seats[] = {{S("E1"), S("A-3")}};
static const struct hf_item_ref bob_items[] = {{S("I2"), 1, false}};
static const struct hf_seat_ref carol_seats[] = {{S("E2"), S("1")}};
static const struct hf_item_ref alice_k1_items[] = {{S("I1"), 1, true}};

static const struct hf_cmd fixture[] = {
	{.type = HF_CMD_EVENT_CREATE, .admin = true,
	 .u.event_create = {S("E1"), S("Show"), HF_FUZZ_T0 + 24 * HF_FUZZ_HOUR, 0, 0, 0, 0,
			    HF_ORPHAN_ALLOW, 8, e1_seats}},
	{.type = HF_CMD_EVENT_CREATE, .admin = true,
	 .u.event_create = {S("E2"), S("Matinee"), HF_FUZZ_T0 + 48 * HF_FUZZ_HOUR, 60, 2,
			    HF_FUZZ_T0 - HF_FUZZ_HOUR, HF_FUZZ_T0 + 2 * HF_FUZZ_HOUR,
			    HF_ORPHAN_ALLOW, 4, e2_seats}},
	{.type = HF_CMD_ITEM_CREATE, .admin = true,
	 .u.item_create = {S("I1"), S("Mug"), S("merch"), S("A mug."), S("https://x/m.png"),
			   500, 10}},
	{.type = HF_CMD_ITEM_CREATE, .admin = true,
	 .u.item_create = {S("I2"), S("Poster"), S(""), S(""), S(""), 250, 1}},
	{.type = HF_CMD_SEATS_BLOCK, .admin = true, .u.seats_block = {S("E1"), 1, block_a8}},
	{.type = HF_CMD_HOLD_CREATE, .customer = S("alice"),
	 .u.lines = {0, 3600, 2, alice_seats, 1, alice_items, {{0}, {0}, {0}, 0}}},
	{.type = HF_CMD_ORDER_CREATE, .customer = S("bob"),
	 .u.lines = {0, 0, 1, bob_seats, 1, bob_items, {{0}, {0}, {0}, 0}}},
	{.type = HF_CMD_HOLD_CREATE, .customer = S("carol"),
	 .u.lines = {0, 30, 1, carol_seats, 0, NULL, {{0}, {0}, {0}, 0}}},
	{.type = HF_CMD_HOLD_CREATE, .customer = S("alice"), .idem_key = S("k1"),
	 .idem_fingerprint = 42,
	 .u.lines = {0, 0, 0, NULL, 1, alice_k1_items, {{0}, {0}, {0}, 0}}},
};

const struct hf_cmd *hf_fuzz_fixture_cmds(uint32_t *n /* out */)
{
	*n = (uint32_t)(sizeof(fixture) / sizeof(fixture[0]));
	return fixture;
}

struct hf_sm *hf_fuzz_sm_empty(void)
{
	struct hf_sm_config cfg;
	hf_fuzz_config(&cfg);
	char err[256] = "";
	struct hf_sm *sm = hf_sm_init(&cfg, err, sizeof(err));
	if (!sm)
		hf_fuzz_fail("hf_sm_init: %s", err);
	return sm;
}

struct hf_sm *hf_fuzz_sm_new(void)
{
	struct hf_sm *sm = hf_fuzz_sm_empty();
	static struct hf_reply reply;
	for (size_t i = 0; i < sizeof(fixture) / sizeof(fixture[0]); i++) {
		hf_sm_apply(sm, HF_FUZZ_T0, &fixture[i], &reply);
		if (reply.result != HF_OK)
			hf_fuzz_fail("fixture command %zu (%s): %s", i,
				     hf_cmd_type_name((enum hf_cmd_type)fixture[i].type),
				     hf_result_name((enum hf_result)reply.result));
	}
	hf_fuzz_check_sm(sm, "after the fixture");
	return sm;
}

/* ---- checks --------------------------------------------------------------- */

void hf_fuzz_check_sm(const struct hf_sm *sm, const char *what)
{
	char msg[512] = "";
	if (hf_sm_check(sm, msg, sizeof(msg)) != 0)
		hf_fuzz_fail("%s: hf_sm_check: %s", what, msg);
}

void hf_fuzz_check_cmd(const struct hf_cmd *cmd, const char *what)
{
	size_t n = hf_cmd_encoded_size(cmd);
	if (n == 0)
		hf_fuzz_fail("%s: a %s that cannot be encoded for the log", what,
			     hf_cmd_type_name((enum hf_cmd_type)cmd->type));
	uint8_t *enc = malloc(n), *again = malloc(n);
	size_t cap = hf_cmd_scratch_for(n);
	void *scratch = malloc(cap);
	if (!enc || !again || !scratch)
		hf_fuzz_fail("out of memory");
	struct hf_cmd back;
	if (hf_cmd_encode(cmd, enc, n) != (int64_t)n ||
	    hf_cmd_decode(enc, n, &back, scratch, cap) != (int64_t)n ||
	    hf_cmd_encode(&back, again, n) != (int64_t)n || memcmp(enc, again, n))
		hf_fuzz_fail("%s: a %s that does not round-trip through the codec", what,
			     hf_cmd_type_name((enum hf_cmd_type)cmd->type));
	free(scratch);
	free(again);
	free(enc);
}

void hf_fuzz_check_reply(const struct hf_reply *reply, const char *what)
{
	static uint8_t buf[HF_REPLY_BYTES_MAX], again[HF_REPLY_BYTES_MAX];
	static struct hf_reply back;
	int64_t n = hf_reply_encode(reply, buf, sizeof(buf));
	if (n <= 0)
		hf_fuzz_fail("%s: the reply (%s) does not encode in %u bytes", what,
			     hf_result_name((enum hf_result)reply->result), HF_REPLY_BYTES_MAX);
	if (hf_reply_encode(reply, again, (size_t)n - 1) != -1)
		hf_fuzz_fail("%s: the reply encodes into %" PRId64 " - 1 bytes", what, n);
	if (hf_reply_decode(buf, (size_t)n, &back) != n)
		hf_fuzz_fail("%s: the reply's %" PRId64 " bytes do not decode", what, n);
	if (hf_reply_encode(&back, again, sizeof(again)) != n || memcmp(buf, again, (size_t)n))
		hf_fuzz_fail("%s: the decoded reply encodes differently", what);
}

/* Encodes r as it is and with its booking replaced by view; the codec sees
 * only the used part of the arrays, so equal bytes mean equal bookings. */
static void check_view(const struct hf_reply *r, const struct hf_booking *view, const char *what)
{
	static struct hf_reply v;
	static uint8_t a[HF_REPLY_BYTES_MAX], b[HF_REPLY_BYTES_MAX];
	v = *r;
	v.booking = *view;
	int64_t na = hf_reply_encode(r, a, sizeof(a));
	int64_t nb = hf_reply_encode(&v, b, sizeof(b));
	if (na != nb || na <= 0 || memcmp(a, b, (size_t)na))
		hf_fuzz_fail("%s: the reply's booking %" PRIu64 " differs from its view", what,
			     r->booking.id);
}

void hf_fuzz_apply(struct hf_sm *sm, int64_t now_ms, const struct hf_cmd *cmd,
		   struct hf_reply *reply /* out */, const char *what)
{
	static const struct hf_cmd tick = {.type = HF_CMD_TICK};
	hf_sm_apply(sm, now_ms, &tick, reply);
	if (reply->result != HF_OK)
		hf_fuzz_fail("%s: a TICK was refused: %s", what,
			     hf_result_name((enum hf_result)reply->result));
	hf_fuzz_check_sm(sm, what);
	uint64_t before = hf_sm_digest(sm);

	hf_sm_apply(sm, now_ms, cmd, reply);
	hf_fuzz_check_sm(sm, what);
	hf_fuzz_check_reply(reply, what);
	if (reply->result != HF_OK && cmd->idem_key.len == 0 && hf_sm_digest(sm) != before)
		hf_fuzz_fail("%s: %s was refused (%s) but the state changed", what,
			     hf_cmd_type_name((enum hf_cmd_type)cmd->type),
			     hf_result_name((enum hf_result)reply->result));
	if (reply->result != HF_OK || reply->replayed)
		return;
	static struct hf_booking view;
	if (reply->kind == HF_REPLY_HOLD) {
		if (hf_sm_hold_view(sm, reply->booking.id, &view) != HF_OK)
			hf_fuzz_fail("%s: hold %" PRIu64 " in the reply is unknown", what,
				     reply->booking.id);
		check_view(reply, &view, what);
	} else if (reply->kind == HF_REPLY_ORDER) {
		if (hf_sm_order_view(sm, reply->booking.id, &view) != HF_OK)
			hf_fuzz_fail("%s: order %" PRIu64 " in the reply is unknown", what,
				     reply->booking.id);
		check_view(reply, &view, what);
	}
}

void hf_fuzz_check_snapshot(const struct hf_sm *sm, const char *what)
{
	size_t n = hf_sm_snapshot_size(sm);
	uint8_t *buf = malloc(n), *again = malloc(n);
	if (!buf || !again)
		hf_fuzz_fail("%s: out of memory for a %zu-byte snapshot", what, n);
	if (hf_sm_snapshot_write(sm, buf, n) != n)
		hf_fuzz_fail("%s: the snapshot is not %zu bytes", what, n);
	struct hf_sm *copy = hf_fuzz_sm_empty();
	char err[256] = "";
	if (hf_sm_snapshot_read(copy, buf, n, err, sizeof(err)) != 0)
		hf_fuzz_fail("%s: the state's own snapshot is refused: %s", what, err);
	if (hf_sm_digest(copy) != hf_sm_digest(sm))
		hf_fuzz_fail("%s: the snapshot reads back to another digest", what);
	hf_fuzz_check_sm(copy, what);
	if (hf_sm_snapshot_size(copy) != n || hf_sm_snapshot_write(copy, again, n) != n ||
	    memcmp(buf, again, n))
		hf_fuzz_fail("%s: the snapshot read back writes other bytes", what);
	hf_sm_free(copy);
	free(buf);
	free(again);
}
