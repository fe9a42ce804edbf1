/*
 * fuzz_snapshot_read.c: hf_sm_snapshot_read on arbitrary bytes.
 *
 * Why: recovery loads the newest snapshot from disk before replaying the
 * log. A damaged or hostile file must be refused with -1 and a message,
 * never crash the process, and a snapshot that is accepted must be a state
 * the core can go on working with.
 *
 * The CRC is patched, not fuzzed. A snapshot ends with the CRC32C of every
 * byte before it (snapshot.c), so almost every mutation would stop at the
 * checksum and the fuzzer would never see the parser behind it. The
 * harness therefore copies the input and overwrites its last 4 bytes with
 * the CRC32C of the bytes before them (native byte order, as snapshot.c
 * stores it) before calling hf_sm_snapshot_read. The input files in the
 * corpus are real snapshots (their CRC is already right); a mutated input
 * behaves as if the damage had been written with a good checksum, which is
 * the harder case: what the CRC cannot catch, the parser must.
 *
 * The sm is fresh for every input, with the fixture's config (fuzz.h): a
 * snapshot written with another config is refused, and on -1 the sm is
 * unusable and only freed (sm.h). Properties:
 *   - the answer is 0 or -1; on -1 the message is not empty;
 *   - on 0: hf_sm_check passes; the state, written again, gives the very
 *     bytes that were read (nothing is lost or invented on the way in);
 *     and the state keeps working: a short fixed script of commands
 *     (hold, confirm, cancel, release, a jump of two days that expires
 *     everything) goes through hf_fuzz_apply with all its checks, and the
 *     state then survives its own snapshot (hf_fuzz_check_snapshot).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/limits.h"
#include "fuzz.h"

#define S(lit) {lit, sizeof(lit) - 1}

static const struct hf_seat_ref dave_seats[] = {{S("E1"), S("A-4")}, {S("E1"), S("A-5")}};
static const struct hf_item_ref dave_items[] = {{S("I1"), 1, true}};
static const struct hf_seat_ref erin_seats[] = {{S("E2"), S("2")}};

/* Runs the fixed script on a loaded state. Ids come from the replies where
 * a command made one, else from the fixture (hold 1, order 1). */
static void script(struct hf_sm *sm)
{
	static struct hf_reply reply;
	/* Time: from the loaded clock, unless adding to it could overflow
	 * (the core then keeps its own clock: time never runs backwards). */
	int64_t base = hf_sm_now(sm);
	if (base < 0 || base > HF_TIME_MS_MAX)
		base = HF_FUZZ_T0;
	struct hf_cmd hold = {.type = HF_CMD_HOLD_CREATE, .customer = S("dave"),
			      .u.lines = {0, 0, 2, dave_seats, 1, dave_items, {{0}, {0}, {0}, 0}}};
	hf_fuzz_apply(sm, base + HF_FUZZ_MIN, &hold, &reply, "script: hold_create");
	uint64_t hold_id = reply.result == HF_OK ? reply.booking.id : 1;

	struct hf_cmd confirm = {.type = HF_CMD_HOLD_CONFIRM, .customer = S("dave"),
				 .u.hold_op = {hold_id, 0}};
	hf_fuzz_apply(sm, base + 2 * HF_FUZZ_MIN, &confirm, &reply, "script: hold_confirm");
	uint64_t order_id = reply.result == HF_OK ? reply.booking.id : 1;

	struct hf_cmd buy = {.type = HF_CMD_ORDER_CREATE, .customer = S("erin"),
			     .idem_key = S("k2"), .idem_fingerprint = 7,
			     .u.lines = {0, 0, 1, erin_seats, 0, NULL, {{0}, {0}, {0}, 0}}};
	hf_fuzz_apply(sm, base + 3 * HF_FUZZ_MIN, &buy, &reply, "script: order_create");

	struct hf_cmd cancel = {.type = HF_CMD_ORDER_CANCEL, .admin = true,
				.u.order_op = {order_id, 0, 0}};
	hf_fuzz_apply(sm, base + 4 * HF_FUZZ_MIN, &cancel, &reply, "script: order_cancel");

	struct hf_cmd release = {.type = HF_CMD_HOLD_RELEASE, .admin = true,
				 .u.hold_op = {1, 0}};
	hf_fuzz_apply(sm, base + 5 * HF_FUZZ_MIN, &release, &reply, "script: hold_release");

	struct hf_cmd tick = {.type = HF_CMD_TICK};
	hf_fuzz_apply(sm, base + 48 * HF_FUZZ_HOUR, &tick, &reply, "script: tick +2 days");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		hf_fuzz_fail("out of memory (%zu bytes)", size);
	if (size)
		memcpy(buf, data, size);
	if (size >= 4) {
		uint32_t crc = hf_crc32c(0, buf, size - 4);
		memcpy(buf + size - 4, &crc, 4);
	}
	struct hf_sm *sm = hf_fuzz_sm_empty();
	char err[256] = "";
	int rc = hf_sm_snapshot_read(sm, buf, size, err, sizeof(err));
	if (rc == -1) {
		if (err[0] == '\0')
			hf_fuzz_fail("hf_sm_snapshot_read refused without a message");
	} else if (rc != 0) {
		hf_fuzz_fail("hf_sm_snapshot_read returned %d", rc);
	} else {
		hf_fuzz_check_sm(sm, "the snapshot just read");
		size_t n = hf_sm_snapshot_size(sm);
		uint8_t *again = malloc(n ? n : 1);
		if (!again)
			hf_fuzz_fail("out of memory (%zu bytes)", n);
		if (n != size || hf_sm_snapshot_write(sm, again, n) != n ||
		    memcmp(again, buf, n) != 0)
			hf_fuzz_fail("the snapshot read (%zu bytes) writes back other bytes (%zu)",
				     size, n);
		free(again);
		script(sm);
		hf_fuzz_check_snapshot(sm, "after the script");
	}
	hf_sm_free(sm);
	free(buf);
	return 0;
}
