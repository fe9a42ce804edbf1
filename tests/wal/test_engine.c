/*
 * test_engine.c: the embedded engine through engine.h: writes and reads
 * answered in order, restart = same digest (snapshot at close, and replay
 * without one), the test clock expires holds with no request, a full
 * queue is HF_ENGINE_FULL, the stored sm config is enforced, fsync off
 * works, and hf_wal_check_dir reports a sound directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/embedded.h"
#include "engine/engine.h"
#include "wal/wal.h"
#include "wtest.h"
#include "workload.h"

static void open_cfg(struct hf_engine_config *cfg, const char *dir)
{
	hf_engine_config_default(cfg);
	cfg->data_dir = dir;
	wl_config(&cfg->sm);
	cfg->snapshot_every_s = 0;
	cfg->snapshot_every_records = 0;
	cfg->segment_bytes = 64 << 10;
	/* Digests are compared across restarts: with the real clock an idle
	 * TICK (a 1-second hold falling due) could land between two reads. */
	cfg->test_clock = true;
}

static struct hf_engine *must_open(const struct hf_engine_config *cfg)
{
	char err[512] = "";
	struct hf_engine *e = hf_engine_open(cfg, err, sizeof err);
	if (!e)
		fail_msg("open: %s", err);
	return e;
}

static void digest_read(struct hf_request *req, const struct hf_sm *sm, int64_t now)
{
	(void)now;
	uint64_t *d = ((struct wt_sync *)req)->user;
	*d = hf_sm_digest(sm);
	char msg[256];
	if (hf_sm_check(sm, msg, sizeof msg) < 0)
		fail_msg("hf_sm_check: %s", msg);
}

static uint64_t engine_digest(struct hf_engine *e)
{
	uint64_t d = 0;
	struct wt_sync s;
	wt_sync_init(&s);
	s.req.read = digest_read;
	s.user = &d;
	wt_submit_wait(e, &s);
	return d;
}

static void run_workload(struct hf_engine *e, uint64_t seed, uint32_t n, bool fresh)
{
	struct wl w;
	wl_init(&w, seed, 3, 16, 3, 12);
	struct wt_sync *s = malloc(sizeof *s);
	for (uint32_t i = 0; i < wl_setup_count(&w); i++) {
		wt_sync_init(s);
		wl_setup_cmd(&w, i, &s->wc);
		s->req.cmd = s->wc.cmd;
		wt_submit_wait(e, s);
		assert_int_equal(s->req.reply.result, fresh ? HF_OK : HF_ALREADY_EXISTS);
	}
	for (uint32_t i = 0; i < n; i++) {
		wt_sync_init(s);
		wl_random_cmd(&w, &s->wc);
		s->req.cmd = s->wc.cmd;
		wt_submit_wait(e, s);
		assert_int_equal(s->req.status, HF_ENGINE_OK);
	}
	free(s);
}

static void test_restart_same_digest(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	struct hf_engine *e = must_open(&cfg);
	run_workload(e, 42, 400, true);
	uint64_t d1 = engine_digest(e);
	hf_engine_close(e); /* writes a snapshot */
	e = must_open(&cfg);
	assert_int_equal(engine_digest(e), d1);
	run_workload(e, 43, 200, false); /* setup refused (exists), then more */
	uint64_t d2 = engine_digest(e);
	/* As a crash leaves it (no snapshot at close): snapshot + log replay. */
	char *copy = wt_tmpdir();
	wt_copydir(dir, copy);
	hf_engine_close(e);
	e = must_open(&cfg);
	assert_int_equal(engine_digest(e), d2);
	hf_engine_close(e);
	assert_int_equal(hf_wal_check_dir(dir, stdout), 0);
	cfg.data_dir = copy;
	e = must_open(&cfg);
	assert_int_equal(engine_digest(e), d2);
	hf_engine_close(e);
	wt_rmtree(copy);
	wt_rmtree(dir);
}

/* A command the log cannot carry (here a customer past HF_ID_LEN_MAX, which
 * the codec refuses to encode) is answered HF_BAD_REQUEST without being
 * applied or logged: the server validates first, but a gap there must not
 * abort the engine or change a state the log could not replay. */
static void test_unencodable_refused(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	struct hf_engine *e = must_open(&cfg);
	run_workload(e, 7, 50, true);
	uint64_t d1 = engine_digest(e);
	char longname[HF_ID_LEN_MAX + 2];
	memset(longname, 'c', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	struct wt_sync *s = malloc(sizeof *s);
	wt_sync_init(s);
	s->req.cmd.type = HF_CMD_ITEM_RESTOCK;
	s->req.cmd.admin = true;
	s->req.cmd.customer = hf_str_c(longname);
	s->req.cmd.u.item_restock.item = hf_str_c("nothing");
	s->req.cmd.u.item_restock.quantity = 1;
	wt_submit_wait(e, s);
	assert_int_equal(s->req.status, HF_ENGINE_OK);
	assert_int_equal(s->req.reply.result, HF_BAD_REQUEST);
	free(s);
	assert_int_equal(engine_digest(e), d1);
	hf_engine_close(e);
	e = must_open(&cfg);
	assert_int_equal(engine_digest(e), d1);
	hf_engine_close(e);
	wt_rmtree(dir);
}

static void hold_state_read(struct hf_request *req, const struct hf_sm *sm, int64_t now)
{
	(void)now;
	struct hf_booking *b = malloc(sizeof *b);
	assert_int_equal(hf_sm_hold_view(sm, 1, b), HF_OK);
	*(int *)((struct wt_sync *)req)->user = b->state;
	free(b);
}

/* A small catalog, then hold 1 of one seat with ttl_s (0: the event's
 * default, 60 s). Returns the time the hold was applied at. */
static int64_t one_hold(struct hf_engine *e, struct wt_sync *s, uint32_t ttl_s)
{
	struct wl w;
	wl_init(&w, 1, 1, 4, 1, 2);
	for (uint32_t i = 0; i < wl_setup_count(&w); i++) {
		wt_sync_init(s);
		wl_setup_cmd(&w, i, &s->wc);
		s->req.cmd = s->wc.cmd;
		wt_submit_wait(e, s);
	}
	wt_sync_init(s);
	wl_order_seat_cmd(&s->wc, 0, 1, 0);
	s->wc.cmd.type = HF_CMD_HOLD_CREATE; /* same lines, a hold */
	s->wc.cmd.u.lines.ttl_s = ttl_s;
	s->req.cmd = s->wc.cmd;
	wt_submit_wait(e, s);
	assert_int_equal(s->req.reply.result, HF_OK);
	return s->req.applied_at_ms;
}

static void test_test_clock_expires(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	cfg.test_clock = true;
	struct hf_engine *e = must_open(&cfg);
	struct wt_sync *s = malloc(sizeof *s);
	int64_t t0 = one_hold(e, s, 0);
	int st = -1;
	wt_sync_init(s);
	s->req.read = hold_state_read;
	s->user = &st;
	wt_submit_wait(e, s);
	assert_int_equal(st, HF_HOLD_ACTIVE);
	int64_t t1 = hf_engine_clock_advance(e, 61000);
	assert_true(t1 >= t0 + 61000);
	/* No write in between: the TICK queued by clock_advance expires it. */
	wt_sync_init(s);
	s->req.read = hold_state_read;
	s->user = &st;
	wt_submit_wait(e, s);
	assert_int_equal(st, HF_HOLD_EXPIRED_STATE);
	assert_true(s->req.applied_at_ms >= t1);
	uint64_t d = engine_digest(e);
	char *copy = wt_tmpdir();
	wt_copydir(dir, copy); /* log only: replay must expire it the same way */
	hf_engine_close(e);
	cfg.data_dir = copy;
	e = must_open(&cfg);
	assert_int_equal(engine_digest(e), d);
	hf_engine_close(e);
	free(s);
	wt_rmtree(copy);
	wt_rmtree(dir);
}

/* A read that parks the sequencer until the test posts the semaphore. */
static sem_t park_in, park_out;
static void park_read(struct hf_request *req, const struct hf_sm *sm, int64_t now)
{
	(void)req, (void)sm, (void)now;
	sem_post(&park_in);
	sem_wait(&park_out);
}

static void count_done(struct hf_request *req)
{
	__atomic_fetch_add((int *)req->ctx, 1, __ATOMIC_SEQ_CST);
}

static void test_queue_full(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	cfg.queue_max = 8;
	struct hf_engine *e = must_open(&cfg);
	sem_init(&park_in, 0, 0);
	sem_init(&park_out, 0, 0);
	int done = 0;
	struct hf_request park, reqs[9];
	memset(&park, 0, sizeof park);
	park.read = park_read;
	park.done = count_done;
	park.ctx = &done;
	assert_int_equal(hf_engine_submit(e, &park), HF_ENGINE_OK);
	sem_wait(&park_in); /* the sequencer is inside park_read: the queue is ours */
	memset(reqs, 0, sizeof reqs);
	for (int i = 0; i < 9; i++) {
		reqs[i].cmd.type = HF_CMD_TICK;
		reqs[i].done = count_done;
		reqs[i].ctx = &done;
		int rc = hf_engine_submit(e, &reqs[i]);
		assert_int_equal(rc, i < 8 ? HF_ENGINE_OK : HF_ENGINE_FULL);
	}
	sem_post(&park_out);
	hf_engine_close(e);
	assert_int_equal(done, 9);
	wt_rmtree(dir);
}

/* hf_engine_submit_many: a chain is applied in one sequencer batch even
 * past batch_max, in order, and the request after it starts a new batch. */
static int order_seen;
static void order_read(struct hf_request *req, const struct hf_sm *sm, int64_t now)
{
	(void)sm, (void)now;
	req->reply.index = (uint32_t)order_seen++; /* sequencer thread only */
}

static void test_submit_many_one_batch(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	cfg.queue_max = 64;
	struct hf_embedded_options opt = {.batch_max = 4};
	char err[512] = "";
	struct hf_engine *e = hf_embedded_open(&cfg, &opt, NULL, err, sizeof err);
	if (!e)
		fail_msg("open: %s", err);
	sem_init(&park_in, 0, 0);
	sem_init(&park_out, 0, 0);
	int done = 0;
	enum { CHAIN = 10 };
	struct hf_request park, chain[CHAIN], after, *ptrs[CHAIN];
	memset(&park, 0, sizeof park);
	park.read = park_read;
	park.done = count_done;
	park.ctx = &done;
	assert_int_equal(hf_engine_submit(e, &park), HF_ENGINE_OK);
	sem_wait(&park_in); /* the sequencer is inside park_read: the queue is ours */
	memset(chain, 0, sizeof chain);
	for (int i = 0; i < CHAIN; i++) {
		chain[i].cmd.type = HF_CMD_TICK;
		if (i % 2) /* reads and writes mixed: both keep their place */
			chain[i].read = order_read;
		chain[i].done = count_done;
		chain[i].ctx = &done;
		ptrs[i] = &chain[i];
	}
	assert_int_equal(hf_engine_submit_many(e, ptrs, CHAIN), HF_ENGINE_OK);
	/* more than the queue has room for (10 + 55 > 64): refused whole */
	struct hf_request spare[55], *too_many[55];
	memset(spare, 0, sizeof spare);
	for (int i = 0; i < 55; i++) {
		spare[i].cmd.type = HF_CMD_TICK;
		spare[i].done = count_done;
		spare[i].ctx = &done;
		too_many[i] = &spare[i];
	}
	assert_int_equal(hf_engine_submit_many(e, too_many, 55), HF_ENGINE_FULL);
	memset(&after, 0, sizeof after);
	after.read = order_read;
	after.done = count_done;
	after.ctx = &done;
	assert_int_equal(hf_engine_submit(e, &after), HF_ENGINE_OK);
	struct hf_engine_stats st0, st1;
	hf_engine_stats(e, &st0);
	sem_post(&park_out);
	while (__atomic_load_n(&done, __ATOMIC_SEQ_CST) < 1 + CHAIN + 1)
		usleep(1000);
	hf_engine_stats(e, &st1);
	/* park's batch, the chain as one (10 > batch_max 4), then `after`;
	 * split at batch_max it would be 1 + 3 */
	assert_int_equal(st1.applied_batches - st0.applied_batches, 3);
	for (int i = 1; i < CHAIN; i += 2)
		assert_int_equal(chain[i].reply.index, (uint32_t)(i / 2));
	assert_int_equal(after.reply.index, CHAIN / 2);
	for (int i = 0; i < CHAIN; i++)
		assert_int_equal(chain[i].status, HF_ENGINE_OK);
	hf_engine_close(e);
	wt_rmtree(dir);
}

static void test_config_stored(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	struct hf_engine *e = must_open(&cfg);
	run_workload(e, 7, 50, true);
	uint64_t d = engine_digest(e);
	hf_engine_close(e);
	cfg.sm.max_holds += 1;
	char err[512] = "";
	assert_null(hf_engine_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "max_holds"));
	cfg.adopt_stored_config = true;
	e = must_open(&cfg);
	assert_int_equal(hf_sm_config(hf_engine_sm(e))->max_holds, cfg.sm.max_holds - 1);
	assert_int_equal(engine_digest(e), d);
	hf_engine_close(e);
	wt_rmtree(dir);
}

static void test_fsync_off_and_segments(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	cfg.fsync = HF_FSYNC_OFF;
	cfg.segment_bytes = 4096; /* many segments */
	cfg.snapshot_every_records = 150;
	struct hf_engine *e = must_open(&cfg);
	run_workload(e, 9, 600, true);
	uint64_t d = engine_digest(e);
	struct hf_engine_stats st;
	hf_engine_stats(e, &st);
	assert_int_equal(st.fsyncs, 0);
	assert_true(st.records >= 600);
	hf_engine_close(e);
	e = must_open(&cfg);
	assert_int_equal(engine_digest(e), d);
	hf_engine_close(e);
	wt_rmtree(dir);
}

/* Snapshots written by a forked child with write-back started every 4 KiB
 * (the paced path a large state takes with 8 MiB ranges): each one checks
 * out, and a crash-like copy recovers from the newest to the same digest. */
static void test_snapshots_paced_write_back(void **state)
{
	(void)state;
	char *dir = wt_tmpdir(), *copy = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	cfg.snapshot_every_records = 150;
	struct hf_embedded_options opt = {.snapshot_writeback_bytes = 4096};
	char err[512] = "";
	struct hf_engine *e = hf_embedded_open(&cfg, &opt, NULL, err, sizeof err);
	if (!e)
		fail_msg("open: %s", err);
	run_workload(e, 11, 900, true);
	uint64_t d = engine_digest(e);
	/* The last snapshot begun is installed (or the wait times out). */
	struct hf_engine_stats st;
	hf_engine_stats(e, &st);
	for (int i = 0; i < 5000 && st.snapshots < 2; i++) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
		hf_engine_stats(e, &st);
	}
	assert_true(st.snapshots >= 2);
	wt_copydir(dir, copy); /* as a crash leaves it: no snapshot at close */
	hf_engine_close(e);
	/* Each install removed the snapshots before it: only the one written
	 * at close is left. */
	DIR *dh = opendir(dir);
	assert_non_null(dh);
	int snaps = 0;
	for (struct dirent *de; (de = readdir(dh));)
		snaps += !strncmp(de->d_name, "snap-", 5) && strstr(de->d_name, ".snap") != NULL;
	closedir(dh);
	assert_int_equal(snaps, 1);
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(hf_wal_check_dir(copy, devnull), 0);
	fclose(devnull);
	struct hf_wal_recovery rec;
	cfg.data_dir = copy;
	e = hf_embedded_open(&cfg, &opt, &rec, err, sizeof err);
	if (!e)
		fail_msg("reopen: %s", err);
	assert_true(rec.snapshot_seq > 0);
	assert_int_equal(engine_digest(e), d);
	hf_engine_close(e);
	wt_rmtree(copy);
	wt_rmtree(dir);
}

/* One directory, one engine: a second open is refused while the first
 * holds the lock, and works once it is closed. */
static void test_directory_lock(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	struct hf_engine *e = must_open(&cfg);
	char err[512] = "";
	assert_null(hf_engine_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "in use"));
	hf_engine_close(e);
	e = must_open(&cfg);
	hf_engine_close(e);
	wt_rmtree(dir);
}

/* A process that took the directory lock died, but a child it forked
 * (as the engine forks a snapshot child) still holds the descriptor for a
 * while: the next open waits for the orphan instead of refusing. */
static void test_lock_held_by_orphan_is_waited_for(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	pid_t taker = fork();
	assert_true(taker >= 0);
	if (taker == 0) {
		struct hf_vfs *v = hf_vfs_posix_new();
		if (!v || v->ops->lock_dir(v, dir) != 0)
			_exit(1);
		if (fork() == 0) { /* the orphan: holds the lock 300 ms more */
			struct timespec ts = {0, 300 * 1000 * 1000};
			nanosleep(&ts, NULL);
			_exit(0);
		}
		_exit(0);
	}
	int st = 0;
	assert_int_equal(waitpid(taker, &st, 0), taker);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct hf_engine *e = must_open(&cfg);
	hf_engine_close(e);
	wt_rmtree(dir);
}

/* Real clock: a 1-second hold expires with no request at all (the idle
 * sequencer logs a TICK when it falls due). */
static void test_idle_tick_expires(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	cfg.test_clock = false;
	struct hf_engine *e = must_open(&cfg);
	struct wt_sync *s = malloc(sizeof *s);
	one_hold(e, s, 1);
	struct hf_engine_stats before, after;
	hf_engine_stats(e, &before);
	/* Poll the stats only (no request); a generous bound, not a timing
	 * assertion: it normally takes ~1 s. */
	for (int i = 0; i < 600; i++) {
		usleep(50000);
		hf_engine_stats(e, &after);
		if (after.records > before.records)
			break;
	}
	assert_true(after.records == before.records + 1);
	int st = -1;
	wt_sync_init(s);
	s->req.read = hold_state_read;
	s->user = &st;
	wt_submit_wait(e, s);
	assert_int_equal(st, HF_HOLD_EXPIRED_STATE);
	hf_engine_close(e);
	free(s);
	wt_rmtree(dir);
}

/* The observer's recovery hooks: a reopen calls before/after for every
 * replayed record from replay_from on (and none before it), in seq order,
 * all before start; a snapshot is installed only after checkpoint said
 * yes for its seq, and one it refuses stays out (recovery then replays
 * from the snapshot before). */
struct obs {
	uint64_t replay_from;
	uint64_t befores, afters, first_after, last_after, start_seq;
	bool started, in_order;
	_Atomic int checkpoint_rc; /* the snapshot thread reads, the test sets */
	_Atomic uint64_t checkpoints, last_checkpoint;
};

static void obs_before(void *arg, const struct hf_sm *sm, int64_t now_ms)
{
	(void)sm;
	(void)now_ms;
	((struct obs *)arg)->befores++;
}

static void obs_after(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms,
		      const struct hf_cmd *cmd, const struct hf_reply *reply)
{
	(void)sm;
	(void)now_ms;
	(void)cmd;
	(void)reply;
	struct obs *o = arg;
	if (!o->started) {
		if (!o->afters)
			o->first_after = seq;
		else if (seq != o->last_after + 1)
			o->in_order = false;
		o->afters++;
		o->last_after = seq;
	}
}

static void obs_start(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms)
{
	(void)sm;
	(void)now_ms;
	struct obs *o = arg;
	o->started = true;
	o->start_seq = seq;
}

static int obs_checkpoint(void *arg, uint64_t seq)
{
	struct obs *o = arg;
	o->checkpoints++;
	o->last_checkpoint = seq;
	return o->checkpoint_rc;
}

static struct hf_engine *open_observed(struct hf_engine_config *cfg, struct obs *o,
				       struct hf_engine_observer *ob, uint64_t replay_from,
				       struct hf_wal_recovery *rec)
{
	*o = (struct obs){.in_order = true};
	*ob = (struct hf_engine_observer){.arg = o, .start = obs_start, .before = obs_before,
					  .after = obs_after, .checkpoint = obs_checkpoint,
					  .replay_from = replay_from};
	cfg->observer = ob;
	struct hf_embedded_options opt = {.no_snapshot_at_close = true};
	char err[512] = "";
	struct hf_engine *e = hf_embedded_open(cfg, &opt, rec, err, sizeof err);
	if (!e)
		fail_msg("open: %s", err);
	return e;
}

static void wait_checkpoints(struct obs *o, uint64_t n)
{
	for (int i = 0; i < 5000 && o->checkpoints < n; i++)
		usleep(1000);
	assert_true(o->checkpoints >= n);
}

static void test_observer_replay_and_checkpoint(void **state)
{
	(void)state;
	char *dir = wt_tmpdir();
	struct hf_engine_config cfg;
	open_cfg(&cfg, dir);
	struct obs o;
	struct hf_engine_observer ob;
	struct hf_wal_recovery rec;
	struct hf_engine *e = open_observed(&cfg, &o, &ob, 0, &rec);
	run_workload(e, 7, 300, true);
	uint64_t last = hf_embedded_last_seq(e);
	hf_engine_close(e);
	assert_true(last > 100);

	/* Replay from the middle: exactly the records from there on. */
	e = open_observed(&cfg, &o, &ob, 60, &rec);
	assert_int_equal(rec.snapshot_seq, 0);
	assert_int_equal(o.start_seq, last);
	assert_int_equal(o.first_after, 60);
	assert_int_equal(o.last_after, last);
	assert_int_equal(o.afters, last - 59);
	assert_int_equal(o.befores, last - 59);
	assert_true(o.in_order);

	/* A refused checkpoint keeps the snapshot out. */
	o.checkpoint_rc = -1;
	hf_embedded_snapshot_request(e);
	wait_checkpoints(&o, 1);
	assert_int_equal(o.last_checkpoint, last);
	struct hf_engine_stats st;
	hf_engine_stats(e, &st);
	assert_int_equal(st.snapshots, 0);
	hf_engine_close(e);
	e = open_observed(&cfg, &o, &ob, 0, &rec);
	assert_int_equal(rec.snapshot_seq, 0);
	assert_int_equal(o.afters, 0);

	/* An accepted one is installed: recovery starts after it. */
	run_workload(e, 8, 50, false);
	uint64_t last2 = hf_embedded_last_seq(e);
	o.checkpoint_rc = 0;
	hf_embedded_snapshot_request(e);
	wait_checkpoints(&o, 1);
	for (int i = 0; i < 5000 && st.snapshots < 1; i++) {
		usleep(1000);
		hf_engine_stats(e, &st);
	}
	assert_int_equal(st.snapshots, 1);
	assert_int_equal(o.last_checkpoint, last2);
	hf_engine_close(e);
	e = open_observed(&cfg, &o, &ob, 1, &rec);
	assert_int_equal(rec.snapshot_seq, last2);
	assert_int_equal(o.afters, 0); /* everything before it is in the snapshot */
	hf_engine_close(e);
	wt_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_same_digest),
		cmocka_unit_test(test_test_clock_expires),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_submit_many_one_batch),
		cmocka_unit_test(test_config_stored),
		cmocka_unit_test(test_fsync_off_and_segments),
		cmocka_unit_test(test_idle_tick_expires),
		cmocka_unit_test(test_snapshots_paced_write_back),
		cmocka_unit_test(test_directory_lock),
		cmocka_unit_test(test_lock_held_by_orphan_is_waited_for),
		cmocka_unit_test(test_unencodable_refused),
		cmocka_unit_test(test_observer_replay_and_checkpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
