/*
 * fuzz_cmd_decode.c: hf_cmd_decode on arbitrary bytes, and the core on
 * every command that decodes.
 *
 * Why: the log replays commands from disk, and the idempotency table and
 * the server build them from outside input; a command that decodes must
 * never crash the core or break one of its invariants.
 *
 * Input: a sequence of encoded commands, back to back (cmd.h's layout).
 * Commands are decoded one after the other from the bytes left, until one
 * does not decode or HF_FUZZ_CMD_MAX have been applied. For each one:
 *   - the decoder never reads past the bytes it was given (each decode runs
 *     on a buffer of exactly that size, so ASan sees any overread), gives
 *     bytes consumed in 1..len or -1, and hf_cmd_scratch_for(len) scratch
 *     is always enough (if it fails with that, it must also fail with more);
 *   - the round trip is exact: hf_cmd_encoded_size and hf_cmd_encode give
 *     back the very bytes consumed (the encoding is canonical), a buffer one
 *     byte short is refused, and the consumed bytes minus the last one do
 *     not decode;
 *   - applied to the fixture's sm (fuzz.h), through hf_fuzz_apply: a clean
 *     hf_sm_check, a reply that survives its codec, a refusal that changes
 *     nothing, a booking reply equal to the booking's view.
 * At the end, the state must survive its own snapshot (hf_fuzz_check_snapshot).
 *
 * Time: command i is applied one minute after the one before, so holds
 * expire as the sequence goes on. A TICK moves the clock by its
 * idem_fingerprint modulo 49 hours instead, or (bit 63 set) is applied that
 * far in the past, which the core must treat as "now" (time never runs
 * backwards). So the fuzzer steers the clock with bytes it already
 * controls, and the input stays a plain list of commands.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Commands applied per input: enough to fill every table of the small
 * config, few enough that one input stays fast. */
#define HF_FUZZ_CMD_MAX 32u
#define TICK_SPAN_MS (49 * HF_FUZZ_HOUR)

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		hf_fuzz_fail("out of memory (%zu bytes)", n);
	return p;
}

/* Decodes one command from p[0..len) into cmd with exactly
 * hf_cmd_scratch_for(len) bytes of scratch (returned in *scratch, freed by
 * the caller after the command is applied). Returns the bytes consumed or
 * -1, after checking everything the decoder promises about either answer. */
static int64_t decode_checked(const uint8_t *p, size_t len, struct hf_cmd *cmd /* out */,
			      void **scratch /* out */, const char *what)
{
	size_t cap = hf_cmd_scratch_for(len);
	*scratch = xmalloc(cap);
	int64_t n = hf_cmd_decode(p, len, cmd, *scratch, cap);
	if (n < 0) {
		if (n != -1)
			hf_fuzz_fail("%s: hf_cmd_decode returned %" PRId64, what, n);
		/* A decoder that fails only for want of scratch would mean
		 * hf_cmd_scratch_for underestimates: every decode of a real
		 * log record would then be refused. Scratch needed is below
		 * 8 bytes per input byte (the largest element ratio). */
		size_t big = 8 * len + 1024;
		void *more = xmalloc(big);
		struct hf_cmd c2;
		int64_t n2 = hf_cmd_decode(p, len, &c2, more, big);
		free(more);
		if (n2 != -1)
			hf_fuzz_fail("%s: decodes (%" PRId64 " bytes) with %zu bytes of scratch "
				     "but not with hf_cmd_scratch_for(%zu) = %zu",
				     what, n2, big, len, cap);
		return -1;
	}
	if (n == 0 || (uint64_t)n > len)
		hf_fuzz_fail("%s: hf_cmd_decode consumed %" PRId64 " of %zu bytes", what, n, len);

	/* Canonical: re-encoding gives the same bytes, in exactly n bytes. */
	size_t size = hf_cmd_encoded_size(cmd);
	if (size != (size_t)n)
		hf_fuzz_fail("%s: decoded %" PRId64 " bytes, hf_cmd_encoded_size says %zu", what,
			     n, size);
	uint8_t *enc = xmalloc((size_t)n);
	if (hf_cmd_encode(cmd, enc, (size_t)n - 1) != -1)
		hf_fuzz_fail("%s: encodes into %" PRId64 " - 1 bytes", what, n);
	int64_t m = hf_cmd_encode(cmd, enc, (size_t)n);
	if (m != n || memcmp(enc, p, (size_t)n) != 0)
		hf_fuzz_fail("%s: re-encoding gives %" PRId64 " other bytes for %" PRId64, what, m,
			     n);

	/* The exact bytes decode again, and one byte less does not: both on
	 * buffers of exactly that size, so ASan sees a read past len. */
	size_t cap2 = hf_cmd_scratch_for((size_t)n);
	void *scratch2 = xmalloc(cap2);
	struct hf_cmd again;
	if (hf_cmd_decode(enc, (size_t)n, &again, scratch2, cap2) != n)
		hf_fuzz_fail("%s: the re-encoded %" PRId64 " bytes do not decode", what, n);
	uint8_t *shorter = xmalloc((size_t)n - 1);
	memcpy(shorter, p, (size_t)n - 1);
	if (hf_cmd_decode(shorter, (size_t)n - 1, &again, scratch2, cap2) != -1)
		hf_fuzz_fail("%s: the first %" PRId64 " - 1 bytes decode too", what, n);
	free(shorter);
	free(scratch2);
	free(enc);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hf_sm *sm = hf_fuzz_sm_new();
	static struct hf_reply reply;
	int64_t now = HF_FUZZ_T0;
	size_t off = 0;
	char what[96];
	for (uint32_t i = 0; i < HF_FUZZ_CMD_MAX && off < size; i++) {
		/* The rest of the input, copied to a buffer of exactly its size
		 * (libFuzzer's own buffer ends at size; replay.c's too). */
		size_t left = size - off;
		uint8_t *p = xmalloc(left);
		memcpy(p, data + off, left);
		struct hf_cmd cmd;
		void *scratch;
		snprintf(what, sizeof(what), "command %u at byte %zu", i, off);
		int64_t n = decode_checked(p, left, &cmd, &scratch, what);
		if (n < 0) {
			free(scratch);
			free(p);
			break;
		}
		int64_t at;
		if (cmd.type == HF_CMD_TICK) {
			int64_t delta = (int64_t)(cmd.idem_fingerprint % (uint64_t)TICK_SPAN_MS);
			if (cmd.idem_fingerprint >> 63)
				at = now - delta;
			else
				at = now += delta;
		} else {
			at = now += HF_FUZZ_MIN;
		}
		snprintf(what, sizeof(what), "command %u (%s) at byte %zu, now T0%+" PRId64 " ms",
			 i, hf_cmd_type_name((enum hf_cmd_type)cmd.type), off, at - HF_FUZZ_T0);
		hf_fuzz_apply(sm, at, &cmd, &reply, what);
		free(scratch);
		free(p);
		off += (size_t)n;
	}
	hf_fuzz_check_snapshot(sm, "the final state");
	hf_sm_free(sm);
	return 0;
}
