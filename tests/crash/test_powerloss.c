/*
 * test_powerloss.c: simulated power loss under the embedded engine.
 *
 * For each seed: the engine runs on faultfs (tests/crash/faultfs.h) with a
 * random segment size, snapshot interval, submit window and workload
 * (tests/wal/workload.h, clock advances included); at a random sync the
 * power goes (unsynced writes kept, dropped or garbled); the engine stops;
 * the "machine" reboots and a fresh engine recovers. Then:
 *   1. every acknowledged request is in the recovered log (seq <= last);
 *   2. the recovered state equals a replay, from scratch, of the records
 *      the sequencer produced (kept in memory by a hook, independent of the
 *      disk) up to the recovered last seq: same hf_sm_digest, and the
 *      replies of acknowledged requests are those the replay gives;
 *   3. hf_sm_check holds.
 * Three rounds per seed (crash, recover, go on, crash again ...), so cuts
 * followed by new writes are covered.
 *
 * Usage: crash-powerloss [N_SEEDS [FIRST_SEED]]; HF_SEED=s runs only seed
 * s. Each seed is one crash point per round; a failure prints the seed and
 * exits 1.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "engine/embedded.h"
#include "faultfs.h"
#include "wal/wal.h"
#include "workload.h"

#define ROUNDS 3
#define CMDS_MAX 200

struct ref_rec {
	int64_t now_ms;
	uint8_t *bytes;
	uint32_t len;
};

struct creq {
	struct hf_request req;
	struct wl_cmd wc;
	uint64_t seq; /* from the hook; 0: not applied (a read, or never) */
	_Atomic int done;
};

struct run {
	uint64_t seed;
	struct ref_rec *ref; /* index seq */
	uint64_t n_ref, cap_ref;
	struct creq *reqs;
	uint32_t n_reqs;
	atomic_uint completed;
	atomic_uint failed;
	FILE *log;
};

static uint64_t crash_points, cut_tails, from_snapshot, lost_unacked, at_chosen_sync;

#define FAIL(r, ...)                                                                      \
	do {                                                                              \
		fprintf(stderr, "crash-powerloss: FAILED seed %" PRIu64 " (rerun: HF_SEED=%" PRIu64 \
			"): ", (r)->seed, (r)->seed);                                     \
		fprintf(stderr, __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                      \
		exit(1);                                                                  \
	} while (0)

static void on_record(void *arg, uint64_t seq, int64_t now_ms, const struct hf_cmd *cmd)
{
	struct run *r = arg;
	if (seq >= r->cap_ref) {
		r->cap_ref = (seq + 1) * 2;
		r->ref = realloc(r->ref, r->cap_ref * sizeof *r->ref);
		HF_ASSERT(r->ref);
	}
	HF_ASSERT(seq == r->n_ref + 1 || (seq == 1 && r->n_ref == 0));
	size_t len = hf_cmd_encoded_size(cmd);
	struct ref_rec *x = &r->ref[seq];
	x->now_ms = now_ms;
	x->len = (uint32_t)len;
	x->bytes = malloc(len);
	HF_ASSERT(x->bytes && hf_cmd_encode(cmd, x->bytes, len) == (int64_t)len);
	r->n_ref = seq;
	/* Which request is it? (cmd is the first member of hf_request) */
	if (r->reqs && (const char *)cmd >= (const char *)r->reqs &&
	    (const char *)cmd < (const char *)(r->reqs + r->n_reqs)) {
		size_t i = (size_t)((const char *)cmd - (const char *)r->reqs) / sizeof *r->reqs;
		HF_ASSERT(&r->reqs[i].req.cmd == cmd);
		r->reqs[i].seq = seq;
	}
}

static void ref_truncate(struct run *r, uint64_t last)
{
	for (uint64_t s = last + 1; s <= r->n_ref; s++)
		free(r->ref[s].bytes);
	if (r->n_ref > last)
		r->n_ref = last;
}

static void req_done(struct hf_request *req)
{
	struct run *r = req->ctx;
	struct creq *c = (struct creq *)req;
	if (req->status != HF_ENGINE_OK)
		atomic_fetch_add(&r->failed, 1);
	atomic_store(&c->done, 1);
	atomic_fetch_add(&r->completed, 1);
}

static void digest_read(struct hf_request *req, const struct hf_sm *sm, int64_t now)
{
	(void)now;
	uint64_t *out = (uint64_t *)((struct creq *)req)->wc.strs;
	out[0] = hf_sm_digest(sm);
	char msg[256];
	out[1] = (uint64_t)hf_sm_check(sm, msg, sizeof msg);
}

/* The digest and check result of the engine's state, through a read. */
static uint64_t engine_digest(struct run *r, struct hf_engine *e)
{
	struct creq *c = calloc(1, sizeof *c);
	HF_ASSERT(c);
	struct run dummy = {0};
	c->req.read = digest_read;
	c->req.done = req_done;
	c->req.ctx = &dummy;
	HF_ASSERT(hf_engine_submit(e, &c->req) == HF_ENGINE_OK);
	/* completed is req_done's last access: dummy may go out of scope */
	while (!atomic_load(&dummy.completed))
		usleep(50);
	if (c->req.status != HF_ENGINE_OK)
		FAIL(r, "digest read failed on a recovered engine");
	uint64_t *out = (uint64_t *)c->wc.strs;
	if (out[1] != 0)
		FAIL(r, "hf_sm_check fails on the recovered state");
	uint64_t d = out[0];
	free(c);
	return d;
}

/* Replays ref[1..last] from scratch; checks acknowledged replies. */
static uint64_t replay_digest(struct run *r, const struct hf_sm_config *cfg, uint64_t last)
{
	char err[256];
	struct hf_sm *sm = hf_sm_init(cfg, err, sizeof err);
	HF_ASSERT(sm);
	struct hf_reply *reply = malloc(sizeof *reply);
	size_t scap = 1 << 20;
	void *scratch = malloc(scap);
	HF_ASSERT(reply && scratch);
	for (uint64_t s = 1; s <= last; s++) {
		struct hf_cmd cmd;
		HF_ASSERT(hf_cmd_decode(r->ref[s].bytes, r->ref[s].len, &cmd, scratch, scap) ==
			  (int64_t)r->ref[s].len);
		hf_sm_apply(sm, r->ref[s].now_ms, &cmd, reply);
		for (uint32_t i = 0; i < r->n_reqs; i++) {
			struct creq *c = &r->reqs[i];
			if (c->seq == s && c->req.status == HF_ENGINE_OK && atomic_load(&c->done) &&
			    (c->req.reply.result != reply->result || c->req.reply.kind != reply->kind ||
			     (reply->kind >= HF_REPLY_HOLD && c->req.reply.booking.id != reply->booking.id)))
				FAIL(r, "acknowledged reply of seq %" PRIu64 " (%s) differs from the replay (%s)",
				     s, hf_result_name(c->req.reply.result), hf_result_name(reply->result));
		}
	}
	uint64_t d = hf_sm_digest(sm);
	hf_sm_free(sm);
	free(reply);
	free(scratch);
	return d;
}

static uint64_t rnd(uint64_t *s)
{
	return wl_next(s);
}

static void run_seed(uint64_t seed)
{
	struct run r = {.seed = seed};
	r.log = getenv("HF_VERBOSE") ? fdopen(dup(2), "w") : fopen("/dev/null", "w");
	HF_ASSERT(r.log);
	uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 1;
	struct faultfs *ff = ff_new(seed);
	struct hf_engine_config cfg;
	hf_engine_config_default(&cfg);
	cfg.data_dir = "/sim";
	wl_config(&cfg.sm);
	cfg.test_clock = true;
	static const uint64_t seg_sizes[] = {4096, 16384, 256 << 10};
	cfg.segment_bytes = seg_sizes[rnd(&rng) % 3];
	static const uint64_t snap_every[] = {0, 30, 120};
	cfg.snapshot_every_records = snap_every[rnd(&rng) % 3];
	cfg.snapshot_every_s = 0;
	cfg.queue_max = 4096;
	struct hf_embedded_options opt = {.vfs = ff_vfs(ff), .log = r.log, .on_record = on_record,
					  .on_record_arg = &r, .snapshot_inline = true,
					  .writes_in_flight = 1 + (uint32_t)(rnd(&rng) % HF_WAL_WRITES_IN_FLIGHT)};
	struct wl w;
	wl_init(&w, seed, 2, 12, 3, 10);
	char err[512];
	r.reqs = calloc(CMDS_MAX + 64, sizeof *r.reqs);
	HF_ASSERT(r.reqs);

	for (int round = 0;; round++) {
		struct hf_wal_recovery rec;
		struct hf_engine *e = hf_embedded_open(&cfg, &opt, &rec, err, sizeof err);
		if (!e)
			FAIL(&r, "round %d: recovery refused: %s", round, err);
		uint64_t last = hf_embedded_last_seq(e);
		if (round > 0) {
			/* 1. acknowledged => recovered */
			for (uint32_t i = 0; i < r.n_reqs; i++) {
				struct creq *c = &r.reqs[i];
				if (c->req.status == HF_ENGINE_OK && !c->req.read && c->seq > last)
					FAIL(&r, "round %d: acknowledged request %u (seq %" PRIu64
					     ") lost: recovered up to %" PRIu64, round, i, c->seq, last);
			}
			if (last > r.n_ref)
				FAIL(&r, "round %d: recovered %" PRIu64 " records, only %" PRIu64 " were made",
				     round, last, r.n_ref);
			/* 2. state == replay of the prefix; 3. invariants */
			uint64_t want = replay_digest(&r, &cfg.sm, last);
			uint64_t got = engine_digest(&r, e);
			if (want != got)
				FAIL(&r, "round %d: recovered digest %016" PRIx64 " != replay of %" PRIu64
				     " records %016" PRIx64, round, got, last, want);
			if (r.n_ref > last)
				lost_unacked++;
			ref_truncate(&r, last);
			crash_points++;
			cut_tails += rec.cut_bytes > 0;
			from_snapshot += rec.snapshot_seq > 0;
		}
		if (round == ROUNDS) {
			hf_engine_close(e);
			break;
		}
		/* A run to crash: reset the request table (the hook fills seqs). */
		for (uint32_t i = 0; i < r.n_reqs; i++)
			r.reqs[i].seq = 0;
		memset(r.reqs, 0, (CMDS_MAX + 64) * sizeof *r.reqs);
		atomic_store(&r.completed, 0);
		atomic_store(&r.failed, 0);
		uint32_t n = 0;
		uint32_t window = 1 + (uint32_t)(rnd(&rng) % 24);
		uint32_t m = 20 + (uint32_t)(rnd(&rng) % (CMDS_MAX - 20));
		ff_crash_at(ff, 1 + rnd(&rng) % (rnd(&rng) % 2 ? 20 : 48));
		uint32_t setup = round == 0 ? wl_setup_count(&w) : 0;
		r.n_reqs = setup + m;
		for (uint32_t i = 0; i < setup + m; i++) {
			if (atomic_load(&r.failed))
				break;
			while (n - atomic_load(&r.completed) >= window)
				usleep(20);
			struct creq *c = &r.reqs[i];
			if (i < setup)
				wl_setup_cmd(&w, i, &c->wc);
			else
				wl_random_cmd(&w, &c->wc);
			c->req.cmd = c->wc.cmd;
			c->req.done = req_done;
			c->req.ctx = &r;
			if (rnd(&rng) % 10 == 0) {
				c->req.read = digest_read; /* reads ride along */
				memset(&c->req.cmd, 0, sizeof c->req.cmd);
			}
			if (rnd(&rng) % 16 == 0)
				hf_engine_clock_advance(e, (int64_t)(rnd(&rng) % 90000));
			int rc = hf_engine_submit(e, &c->req);
			if (rc == HF_ENGINE_FAILED)
				break;
			HF_ASSERT(rc == HF_ENGINE_OK);
			n++;
		}
		while (atomic_load(&r.completed) < n)
			usleep(20);
		r.n_reqs = n;
		if (atomic_load(&r.failed)) {
			/* Fail-stop: once a request failed, nothing more is taken. */
			struct hf_engine_stats st;
			hf_engine_stats(e, &st);
			struct hf_request probe;
			memset(&probe, 0, sizeof probe);
			probe.cmd.type = HF_CMD_TICK;
			probe.done = req_done;
			probe.ctx = &r;
			if (!st.failed || hf_engine_submit(e, &probe) != HF_ENGINE_FAILED)
				FAIL(&r, "round %d: a request failed but the engine did not stop", round);
		}
		at_chosen_sync += ff_crashed(ff);
		ff_crash(ff); /* if the chosen sync never came: power goes now */
		hf_engine_close(e);
		ff_reboot(ff);
	}
	for (uint64_t s = 1; s <= r.n_ref; s++)
		free(r.ref[s].bytes);
	free(r.ref);
	free(r.reqs);
	ff_free(ff);
	fclose(r.log);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 500;
	uint64_t first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	const char *one = getenv("HF_SEED");
	if (one && *one) {
		first = strtoull(one, NULL, 10);
		n = 1;
	}
	for (uint64_t s = first; s < first + n; s++)
		run_seed(s);
	printf("crash-powerloss: %" PRIu64 " seeds, %" PRIu64 " crash points recovered and verified "
	       "(%" PRIu64 " at the chosen sync, the rest after the run; %" PRIu64
	       " with a torn tail cut, %" PRIu64 " lost unacknowledged records, %" PRIu64
	       " started from a snapshot)\n",
	       n, crash_points, at_chosen_sync, cut_tails, lost_unacked, from_snapshot);
	return 0;
}
