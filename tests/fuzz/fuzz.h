/*
 * fuzz.h: what the fuzz targets of tests/fuzz/ share.
 *
 * Each target (fuzz_<name>.c) is one decoder that sees bytes from outside
 * holdfast, fed arbitrary bytes through LLVMFuzzerTestOneInput, plus the
 * properties its output must have. The same file is built two ways:
 *   - by scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined,
 *     where libFuzzer's main() drives it with generated inputs;
 *   - by tests/fuzz/meson.build with the project's compiler and replay.c's
 *     plain main(), which runs every file of tests/fuzz/corpus/<name>/
 *     through it as a meson test (so a crash input, once added to the
 *     corpus, can never come back unnoticed).
 * A broken property calls hf_fuzz_fail, which prints why and aborts: both
 * drivers then report the input (libFuzzer writes it as an artifact,
 * replay.c has printed its path before running it).
 *
 * The shared fixture: one small state machine configuration (small enough
 * that every capacity limit is reachable from a few commands) and a fixed
 * catalog with live holds, orders and an idempotency entry (hf_fuzz_sm_new),
 * so that even a one-command input meets a state with something in it.
 * gen_corpus.c builds the seed corpora from the same fixture, so seed
 * commands name ids that exist (see HF_FUZZ_* below).
 *
 * Ownership: hf_fuzz_sm_new returns an sm the caller frees (hf_sm_free).
 * Nothing else here allocates beyond the call.
 */
#ifndef HF_TESTS_FUZZ_FUZZ_H
#define HF_TESTS_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd.h"
#include "core/sm.h"

/* The libFuzzer entry point every target defines: returns 0 (libFuzzer
 * reserves other values); a broken property never returns. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture's clock starts here (2023-11-14T22:13:20Z). */
#define HF_FUZZ_T0 ((int64_t)1700000000000)
#define HF_FUZZ_MIN ((int64_t)60000)
#define HF_FUZZ_HOUR ((int64_t)3600000)

/* Ids in the fixture's catalog (hf_fuzz_sm_new):
 *   event "E1": 8 seats "A-1".."A-8" at 1000 (A-8 at 0, blocked);
 *               held by "alice" (hold 1, ttl 1 h), A-3 sold to
 *               "bob";
 *   event "E2": 4 seats "1".."4" at 2500, max 2 per customer, hold ttl
 *               60 s, on sale from T0 - 1 h to T0 + 2 h; "1" held by
 *               "carol" (hold 2, ttl 30 s: it expires at the first
 *               fuzzed command);
 *   item "I1": price 500, stock 10 (2 held by hold 1, 1 by hold 3);
 *   item "I2": price 250, stock 1 (sold to bob: order 1);
 *   hold 3: "alice", idempotency key "k1" (fingerprint 42), 1 x I1
 *           (partial), ttl 300 s. */
#define HF_FUZZ_EVENT1 "E1"
#define HF_FUZZ_EVENT2 "E2"
#define HF_FUZZ_ITEM1 "I1"
#define HF_FUZZ_ITEM2 "I2"

/* The small configuration every target uses (snapshots must be read with
 * the config that wrote them). */
void hf_fuzz_config(struct hf_sm_config *cfg /* out */);

/* An sm with hf_fuzz_config, the fixture's catalog applied at HF_FUZZ_T0
 * and checked. Aborts if any of that fails (a bug in the fixture or the
 * core, not in the input). */
struct hf_sm *hf_fuzz_sm_new(void);
/* An empty sm with hf_fuzz_config (nothing applied). */
struct hf_sm *hf_fuzz_sm_empty(void);

/* The fixture's commands, in order; *n gets their count. Strings and
 * arrays are static: valid for the life of the process. */
const struct hf_cmd *hf_fuzz_fixture_cmds(uint32_t *n /* out */);

/* Prints "fuzz: FAILED: <message>" to stderr and aborts. */
_Noreturn void hf_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* hf_sm_check, failing with what (a step description) on a violation. */
void hf_fuzz_check_sm(const struct hf_sm *sm, const char *what);

/* A command the API hands to the engine must encode (the log can store
 * it: hf_cmd_encoded_size > 0) and decode to the same bytes again. */
void hf_fuzz_check_cmd(const struct hf_cmd *cmd, const char *what);

/* Every reply the core gives must encode (within HF_REPLY_BYTES_MAX), decode
 * to the same bytes again, and be refused by a too-small buffer: the
 * idempotency table stores replies so. */
void hf_fuzz_check_reply(const struct hf_reply *reply, const char *what);

/* Applies cmd at now_ms and runs every check of a step: a TICK at now_ms
 * first (so expiry is done and the command itself moves nothing by time),
 * then the command; hf_sm_check; the reply's codec; a refusal of a command
 * without an idempotency key leaves the digest unchanged; a successful
 * hold or order reply equals what hf_sm_hold_view / hf_sm_order_view show.
 * reply gets the command's reply. */
void hf_fuzz_apply(struct hf_sm *sm, int64_t now_ms, const struct hf_cmd *cmd,
		   struct hf_reply *reply /* out */, const char *what);

/* Writes sm's snapshot, reads it into a fresh sm, and demands a clean read,
 * an equal digest, a clean check and the same bytes when written again. */
void hf_fuzz_check_snapshot(const struct hf_sm *sm, const char *what);

#endif
