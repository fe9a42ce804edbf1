/*
 * embedded.c: the default engine. One process, data in a local directory.
 *
 * Threads and what each owns:
 *   submitters (any thread)  push requests on the bounded queue (q_*).
 *   sequencer                owns the state (sm), the clock and the seqs:
 *                            takes requests in batches, stamps each batch
 *                            with now_ms, applies writes, runs reads,
 *                            encodes one log record per write (and per
 *                            TICK) into the open group-commit buffer.
 *   log writer               takes the open buffer when the sequencer is
 *                            between batches (with fsync on and nothing in
 *                            flight, after gathering the callers it just
 *                            answered: GATHER_US) and writes it with one
 *                            pwritev (up to writes_in_flight written and
 *                            not yet synced).
 *   syncers (writes_in_flight, 1 by default)
 *                            one fdatasync per written buffer, at once
 *                            (the kernel overlaps them); buffers complete
 *                            strictly in order once synced, their
 *                            requests (status set) going to the completer.
 *   completer                calls done for each, in order, while the
 *                            writer and syncers go on (waking callers
 *                            costs a syscall each).
 *   snapshotter              waits for a snapshot child (or writes an
 *                            in-memory image), waits until the log is
 *                            durable up to the snapshot's seq (and the
 *                            observer's checkpoint), installs it;
 *                            between jobs, writes the zero-filled spare
 *                            segment the next rotation will use.
 *
 * Invariants:
 *   - Records are applied, logged and completed in one order (seq order);
 *     a request's done runs only after the buffer holding it, and so every
 *     record before it, is durable. Reads are not logged but ride in the
 *     buffer after the writes before them, so no caller ever sees a state
 *     a crash could take back.
 *   - The sequencer fills buffer k+1 while buffer k (k-1 ...) syncs; the
 *     open buffer is bounded (OPEN_BYTES_MAX, OPEN_REQUESTS_MAX), past
 *     which the sequencer waits, the queue fills and submit answers
 *     HF_ENGINE_FULL.
 *   - Lock order: q_mu and w_mu are never held together; w_mu -> c_mu
 *     (completer_push), sn_mu alone, st_mu innermost.
 *   - now_ms never decreases. Holds expire inside hf_sm_apply at the batch
 *     time; when idle, the sequencer applies (and logs) a TICK once a hold
 *     is due, so expiry needs no request and replays exactly.
 *   - A failed write or sync stops the engine (fail-stop): everything not
 *     yet durable completes with HF_ENGINE_FAILED, nothing is applied after.
 */
#include "engine/embedded.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/mem.h"
#include "engine/engine_impl.h"

#define OPEN_BYTES_MAX (16u << 20)
#define OPEN_REQUESTS_MAX 65536u
#define DUE_MAX (1u << 20) /* known hold expiry times kept for ticking */
#define GATHER_US 600      /* at most this much added to a commit's latency */

/* A group-commit buffer: records (bytes) and the requests to complete. */
struct wbuf {
	uint8_t *buf;
	size_t len, cap;
	uint64_t first_seq, last_seq; /* of the records in buf (when len > 0) */
	uint32_t n_records;
	uint32_t write_no;            /* stamped in its records */
	struct hf_request *head, *tail;
	uint32_t n_requests;
	/* After the writer took it (under w_mu): */
	bool written, synced;
	int32_t status;
};

/* Buffers: the open one, HF_WAL_WRITES_IN_FLIGHT written and syncing, one
 * spare so the writer can always swap. */
#define NBUF (HF_WAL_WRITES_IN_FLIGHT + 2)

struct snap_job {
	bool active;
	pid_t pid;      /* > 0: a child writes the tmp file */
	uint8_t *body;  /* else: the image to write */
	size_t len;
	uint64_t seq;
	int64_t now_ms;
};

struct embedded {
	struct hf_engine base;
	struct hf_engine_config cfg;
	char dir[PATH_MAX];
	struct hf_vfs *vfs;
	bool own_vfs;
	struct hf_wal *wal;
	struct hf_sm *sm;
	FILE *log;
	struct hf_embedded_options opt;

	/* The queue: submitters -> sequencer. */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	struct hf_request_list q;
	bool q_waiting; /* the sequencer sleeps on q_cv */
	bool closing;

	/* Time. */
	_Atomic int64_t test_now_ms;
	int64_t last_now_ms; /* sequencer */
	int64_t last_batch_ms; /* sequencer: real time of the last batch */
	uint64_t next_seq;   /* sequencer */
	_Atomic uint64_t last_seq;
	_Atomic uint64_t applied_batches;

	/* Sequencer -> writer -> syncers -> completer, all under w_mu. The
	 * writer issues buffers in order into ring (issued); syncers claim them
	 * in order (claimed) and fdatasync, up to HF_WAL_WRITES_IN_FLIGHT at
	 * once; buffers complete strictly in order (popped) once synced. */
	pthread_mutex_t w_mu;
	pthread_cond_t w_cv;    /* the writer waits for work or room */
	pthread_cond_t s_cv;    /* others wait for a swap / durability */
	pthread_cond_t sync_cv; /* syncers wait for a written buffer */
	struct wbuf bufs[NBUF];
	struct wbuf *free_bufs[NBUF];
	uint32_t n_free;
	struct wbuf *ring[NBUF];
	uint64_t issued, claimed, popped;
	struct wbuf *open;   /* the sequencer fills it while seq_busy */
	bool seq_busy;
	bool writer_stop, writer_done, sync_stop;
	uint32_t write_no;   /* sequencer: the last write number stamped */
	uint64_t durable_seq;
	/* Gathering (fsync on): when a buffer completes, its callers will
	 * likely submit again at once. The writer, with nothing in flight,
	 * waits up to GATHER_US for the open buffer to hold them too
	 * (gather_target requests) instead of syncing half of the callers
	 * while the other half waits a whole sync for the next: a closed loop
	 * of N callers otherwise splits into two alternating groups. */
	uint32_t gather_target;
	bool w_gathering; /* the writer waits in the gather window */

	/* Writer -> completer: requests durable (or failed), status set, whose
	 * done is still to be called. The writer starts the next write while
	 * the completer wakes the callers. */
	pthread_mutex_t c_mu;
	pthread_cond_t c_cv;
	struct hf_request *c_head, *c_tail;
	bool c_waiting, c_stop;

	/* Snapshots. */
	pthread_mutex_t sn_mu;
	pthread_cond_t sn_cv;
	pthread_cond_t sn_done_cv;
	struct snap_job job;
	_Atomic bool snap_busy; /* job.active, readable without sn_mu */
	bool sn_stop;
	bool spare_wanted; /* the snapshotter also prepares the spare segment */
	_Atomic bool snap_requested;
	uint64_t last_snapshot_seq; /* sequencer */
	/* Sequencer: the size of the last snapshot's image, and the log bytes
	 * appended since it (the records trigger waits for the log to have
	 * grown at least as much as that image). */
	uint64_t last_snapshot_bytes, log_bytes_since;
	uint64_t last_snapshot_us;  /* sequencer */

	/* Ticks (sequencer): a min-heap of hold expiry times seen in replies.
	 * Stale entries (holds since confirmed or extended) cost one needless
	 * TICK each. When it overflows, tick every tick_ms instead. */
	int64_t *due;
	uint32_t n_due, cap_due;
	bool due_overflow;

	_Atomic int failed;

	pthread_mutex_t st_mu;
	struct hf_engine_stats st;

	pthread_t t_seq, t_writer, t_snap, t_done;
	pthread_t t_sync[HF_WAL_WRITES_IN_FLIGHT];
	bool threads_started;
};

static const struct hf_engine_ops embedded_ops;

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note(struct embedded *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("holdfast: engine: ", e->log);
	vfprintf(e->log, fmt, ap);
	fputc('\n', e->log);
	fflush(e->log);
	va_end(ap);
}

static void engine_fail(struct embedded *e, const char *what)
{
	if (atomic_exchange(&e->failed, 1) == 0)
		note(e, "STOPPED: %s; nothing after the last durable record is acknowledged; "
			"restart to recover", what);
	pthread_mutex_lock(&e->w_mu);
	pthread_cond_broadcast(&e->s_cv);
	pthread_mutex_unlock(&e->w_mu);
}

/* ---- due heap ------------------------------------------------------------ */

static void due_push(struct embedded *e, int64_t t)
{
	if (e->n_due == e->cap_due) {
		uint32_t cap = e->cap_due ? e->cap_due * 2 : 1024;
		int64_t *d = cap <= DUE_MAX ? realloc(e->due, cap * sizeof *d) : NULL;
		if (!d) {
			e->due_overflow = true;
			return;
		}
		e->due = d;
		e->cap_due = cap;
	}
	uint32_t i = e->n_due++;
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (e->due[p] <= t)
			break;
		e->due[i] = e->due[p];
		i = p;
	}
	e->due[i] = t;
}

static void due_pop(struct embedded *e)
{
	HF_ASSERT(e->n_due > 0);
	int64_t t = e->due[--e->n_due];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		int64_t best = t;
		if (l < e->n_due && e->due[l] < best) {
			m = l;
			best = e->due[l];
		}
		if (l + 1 < e->n_due && e->due[l + 1] < best)
			m = l + 1;
		if (m == i)
			break;
		e->due[i] = e->due[m];
		i = m;
	}
	if (e->n_due > 0)
		e->due[i] = t;
}

/* After recovery: the expiry of every active hold, found through each
 * customer's list of active holds. */
static void due_seed(struct embedded *e)
{
	struct hf_sm_stats s;
	hf_sm_stats(e->sm, &s);
	if (s.holds_active == 0)
		return;
	struct hf_booking *b = malloc(sizeof *b);
	uint64_t ids[HF_CUSTOMER_HOLDS_MAX];
	if (!b) {
		e->due_overflow = true;
		return;
	}
	for (uint32_t c = 0; c < s.customers; c++) {
		uint32_t n = hf_sm_customer_holds(e->sm, c, 0, HF_CUSTOMER_HOLDS_MAX, ids);
		for (uint32_t k = 0; k < n; k++)
			if (hf_sm_hold_view(e->sm, ids[k], b) == HF_OK && b->state == HF_HOLD_ACTIVE)
				due_push(e, b->expires_at_ms);
	}
	free(b);
}

/* ---- sequencer -------------------------------------------------------- */

static int64_t clock_now(struct embedded *e)
{
	int64_t t = e->cfg.test_clock ? atomic_load(&e->test_now_ms) : real_ms();
	if (t < e->last_now_ms)
		t = e->last_now_ms;
	e->last_now_ms = t;
	return t;
}

/* True when an idle TICK is due at real time now (never with a test clock:
 * there, hf_engine_clock_advance queues the TICK itself). */
static bool tick_due(struct embedded *e, int64_t now)
{
	if (e->cfg.test_clock)
		return false;
	if (e->n_due > 0 && e->due[0] <= now)
		return true;
	if (e->due_overflow && now - e->last_batch_ms >= (int64_t)e->opt.tick_ms)
		return true;
	return false;
}

/* Milliseconds the idle sequencer may sleep: until the next due hold, the
 * next timed snapshot, or forever (-1). */
static int64_t idle_sleep_ms(struct embedded *e)
{
	int64_t ms = -1;
	if (!e->cfg.test_clock) {
		if (e->n_due > 0) {
			int64_t d = e->due[0] - real_ms();
			ms = d < 0 ? 0 : d;
		}
		if (e->due_overflow && (ms < 0 || ms > (int64_t)e->opt.tick_ms))
			ms = e->opt.tick_ms;
	}
	if (e->cfg.snapshot_every_s && e->next_seq - 1 != e->last_snapshot_seq) {
		int64_t d = (int64_t)(e->last_snapshot_us + e->cfg.snapshot_every_s * 1000000ull -
				      mono_us()) / 1000;
		if (d < 0 || atomic_load(&e->snap_busy))
			d = 100; /* due (or a job is running): look again soon */
		if (ms < 0 || d < ms)
			ms = d + 1;
	}
	if (atomic_load(&e->snap_requested) && (ms < 0 || ms > 100))
		ms = 100;
	return ms;
}

static bool snapshot_due(struct embedded *e)
{
	uint64_t last = e->next_seq - 1;
	if (last == e->last_snapshot_seq || atomic_load(&e->snap_busy))
		return false;
	if (atomic_load(&e->snap_requested))
		return true;
	/* By records only once the log since the last snapshot is as large as
	 * that snapshot: a snapshot costs O(state), so this keeps what they
	 * write at most what the log writes, and a restart replays at most a
	 * snapshot's worth of log (snapshot_every_s bounds it in time). At
	 * 300 k writes/s a snapshot every million records took a quarter of
	 * the server's CPU (forks, copy-on-write faults, images of a growing
	 * state). */
	if (e->cfg.snapshot_every_records &&
	    last - e->last_snapshot_seq >= e->cfg.snapshot_every_records &&
	    e->log_bytes_since >= e->last_snapshot_bytes)
		return true;
	if (e->cfg.snapshot_every_s &&
	    mono_us() - e->last_snapshot_us >= e->cfg.snapshot_every_s * 1000000ull)
		return true;
	return false;
}

/* Appends one record for cmd to the open buffer. -1 when out of memory. */
static int record_append(struct embedded *e, int64_t now, const struct hf_cmd *cmd)
{
	struct wbuf *b = e->open;
	size_t len = hf_cmd_encoded_size(cmd);
	HF_ASSERT(len > 0 && len <= HF_CMD_BYTES_MAX);
	size_t need = b->len + hf_wal_record_bytes(len);
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 1u << 16;
		while (cap < need)
			cap *= 2;
		/* Kept out of the snapshot child, which the sequencer goes on
		 * filling them beside. */
		uint8_t *nb = hf_mem_unshared(cap);
		if (!nb)
			return -1;
		if (b->len)
			memcpy(nb, b->buf, b->len);
		hf_mem_unshared_free(b->buf, b->cap);
		b->buf = nb;
		b->cap = cap;
	}
	uint8_t *rec = b->buf + b->len;
	int64_t n = hf_cmd_encode(cmd, rec + HF_WAL_RECORD_HEADER_BYTES, len);
	HF_ASSERT(n == (int64_t)len);
	uint64_t seq = e->next_seq++;
	if (b->n_records == 0) {
		b->first_seq = seq;
		b->write_no = ++e->write_no; /* this buffer becomes one pwritev */
	}
	size_t sealed = hf_wal_record_seal(rec, (uint32_t)len, seq, now, b->write_no);
	b->len += sealed;
	e->log_bytes_since += sealed;
	b->last_seq = seq;
	b->n_records++;
	if (e->opt.on_record)
		e->opt.on_record(e->opt.on_record_arg, seq, now, cmd);
	return 0;
}

static void buf_push_request(struct wbuf *b, struct hf_request *r)
{
	r->next = NULL;
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
	b->n_requests++;
}

static void complete_list(struct hf_request *r, int32_t status)
{
	while (r) {
		struct hf_request *next = r->next;
		r->status = status;
		r->done(r);
		r = next;
	}
}

/* Applies one write, logs it, notes a hold's expiry for ticking. A
 * command the codec cannot encode (a field past its bound: the server
 * validates first, so only a gap there gets here) is refused before it is
 * applied: the state never holds what the log could not replay. */
static void apply_write(struct embedded *e, int64_t now, struct hf_request *r)
{
	if (hf_cmd_encoded_size(&r->cmd) == 0) {
		memset(&r->reply, 0, sizeof(r->reply));
		r->reply.result = HF_BAD_REQUEST;
		return;
	}
	if (record_append(e, now, &r->cmd) < 0) {
		engine_fail(e, "out of memory for the log buffer");
		return;
	}
	const struct hf_engine_observer *ob = e->cfg.observer;
	if (ob && ob->before)
		ob->before(ob->arg, e->sm, now);
	hf_sm_apply(e->sm, now, &r->cmd, &r->reply);
	if (ob && ob->after)
		ob->after(ob->arg, e->sm, e->next_seq - 1, now, &r->cmd, &r->reply);
	if (r->reply.kind == HF_REPLY_HOLD && r->reply.result == HF_OK &&
	    r->reply.booking.state == HF_HOLD_ACTIVE && r->reply.booking.expires_at_ms > now &&
	    (r->cmd.type == HF_CMD_HOLD_CREATE || r->cmd.type == HF_CMD_HOLD_EXTEND))
		due_push(e, r->reply.booking.expires_at_ms);
}

static void apply_tick(struct embedded *e, int64_t now, struct hf_reply *scratch)
{
	struct hf_cmd tick;
	memset(&tick, 0, sizeof tick);
	tick.type = HF_CMD_TICK;
	if (record_append(e, now, &tick) < 0) {
		engine_fail(e, "out of memory for the log buffer");
		return;
	}
	const struct hf_engine_observer *ob = e->cfg.observer;
	if (ob && ob->before)
		ob->before(ob->arg, e->sm, now);
	hf_sm_apply(e->sm, now, &tick, scratch);
	if (ob && ob->after)
		ob->after(ob->arg, e->sm, e->next_seq - 1, now, &tick, scratch);
	while (e->n_due > 0 && e->due[0] <= now)
		due_pop(e);
	if (e->due_overflow) {
		struct hf_sm_stats s;
		hf_sm_stats(e->sm, &s);
		if (s.holds_active == 0)
			e->due_overflow = false;
	}
}

/* Where a snapshot child gathers the small pieces of the image (the
 * parent never touches it, so its pages are the child's own). */
static uint8_t snap_gather[256u << 10];

/* A snapshot child starts the write-back of every `range` bytes
 * (snapshot_writeback_bytes, 8 MiB by default) as it goes and waits for
 * the one before: the image reaches the disk at the pace the disk takes
 * it, instead of as one flood at the final sync that the log's fdatasync
 * would queue behind. Written ranges leave the page cache. */
#define SNAP_WRITEBACK_DEFAULT (8u << 20)

struct snap_out {
	int fd;
	size_t used;      /* bytes in snap_gather */
	off_t off;        /* file offset written up to */
	off_t started;    /* write-back started up to */
	off_t waited;     /* written back (and dropped from the cache) up to */
	off_t range;      /* write-back granularity */
};

/* -1 when a range that was waited for failed to reach the disk: the
 * error is reported here (to this file) and would not be to the fsync the
 * snapshotter does later on a file of its own. */
static int snap_writeback(struct snap_out *o)
{
	while (o->off - o->started >= o->range) {
		(void)sync_file_range(o->fd, o->started, o->range, SYNC_FILE_RANGE_WRITE);
		o->started += o->range;
		if (o->started - o->waited > o->range) {
			if (sync_file_range(o->fd, o->waited, o->range,
					    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						    SYNC_FILE_RANGE_WAIT_AFTER) < 0 &&
			    errno != ENOSYS)
				return -1;
			(void)posix_fadvise(o->fd, o->waited, o->range, POSIX_FADV_DONTNEED);
			o->waited += o->range;
		}
	}
	return 0;
}

static int snap_flush(struct snap_out *o, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		o->off += w;
		if (snap_writeback(o) < 0)
			return -1;
	}
	return 0;
}

/* Small pieces are gathered; a large one (a table of the state) goes
 * straight from the state's memory to the file. */
static int snap_sink(void *arg, const void *p, size_t n)
{
	struct snap_out *o = arg;
	if (o->used + n <= sizeof snap_gather) {
		memcpy(snap_gather + o->used, p, n);
		o->used += n;
		return 0;
	}
	if (snap_flush(o, snap_gather, o->used) < 0)
		return -1;
	o->used = 0;
	if (n > sizeof snap_gather / 2)
		return snap_flush(o, p, n);
	memcpy(snap_gather, p, n);
	o->used = n;
	return 0;
}

/* The child side of a snapshot: writes the image of the state as it was at
 * fork() to the tmp file and exits; the snapshotter syncs it (the shorter
 * the child lives, the fewer pages the parent copies on write). The body
 * goes out piece by piece from the state's own tables, with no image of
 * the whole state in memory. Only async-signal-safe calls and the pure sm
 * functions (they never allocate): the parent's other threads may have
 * held any lock at fork(). */
static void snapshot_child(struct embedded *e, const char *path, uint64_t seq, int64_t now,
			   pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);
	if (e->vfs->lock_fd >= 0)
		close(e->vfs->lock_fd); /* the lock dies with the parent, not with us */
	size_t len = hf_sm_snapshot_size(e->sm);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(6);
	if (lseek(fd, HF_WAL_SNAPSHOT_HEADER_BYTES, SEEK_SET) < 0)
		_exit(7);
	struct snap_out o = {.fd = fd, .off = HF_WAL_SNAPSHOT_HEADER_BYTES,
			     .range = e->opt.snapshot_writeback_bytes};
	uint32_t crc;
	if (hf_sm_snapshot_emit(e->sm, snap_sink, &o, &crc) != 0 ||
	    snap_flush(&o, snap_gather, o.used) < 0)
		_exit(7);
	uint8_t hdr[HF_WAL_SNAPSHOT_HEADER_BYTES];
	hf_wal_snapshot_header(hdr, seq, now, hf_wal_config_hash(e->wal), crc, len);
	if (pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
		_exit(7);
	close(fd);
	_exit(0);
}

/* Starts a snapshot of the state after record next_seq - 1. Runs on the
 * sequencer between batches; the pause it causes is measured. */
static void snapshot_start(struct embedded *e)
{
	pthread_mutex_lock(&e->sn_mu);
	bool busy = e->job.active;
	pthread_mutex_unlock(&e->sn_mu);
	if (busy)
		return;
	atomic_store(&e->snap_requested, false);
	struct snap_job job = {.active = true, .seq = e->next_seq - 1, .now_ms = e->last_now_ms};
	uint64_t t0 = mono_us();
	e->last_snapshot_bytes = hf_sm_snapshot_size(e->sm);
	e->log_bytes_since = 0;
	if (e->vfs->real_fds && !e->opt.snapshot_inline) {
		char path[PATH_MAX + 64];
		hf_wal_snapshot_path(e->wal, job.seq, true, path, sizeof path);
		pid_t parent = getpid();
		pid_t pid = fork();
		if (pid == 0)
			snapshot_child(e, path, job.seq, job.now_ms, parent);
		if (pid < 0) {
			note(e, "snapshot: fork: %s (will retry)", strerror(errno));
			e->last_snapshot_us = mono_us();
			return;
		}
		job.pid = pid;
	} else {
		job.len = (size_t)e->last_snapshot_bytes; /* this state's image size */
		job.body = malloc(job.len ? job.len : 1);
		if (!job.body) {
			note(e, "snapshot: out of memory for %zu bytes (will retry)", job.len);
			e->last_snapshot_us = mono_us();
			return;
		}
		size_t n = hf_sm_snapshot_write(e->sm, job.body, job.len);
		HF_ASSERT(n == job.len);
	}
	uint64_t pause = mono_us() - t0;
	pthread_mutex_lock(&e->st_mu);
	if (pause > e->st.snapshot_pause_us_max)
		e->st.snapshot_pause_us_max = pause;
	e->st.snapshot_pause_us_last = pause;
	pthread_mutex_unlock(&e->st_mu);
	e->last_snapshot_seq = job.seq;
	e->last_snapshot_us = mono_us();
	pthread_mutex_lock(&e->sn_mu);
	e->job = job;
	atomic_store(&e->snap_busy, true);
	pthread_cond_signal(&e->sn_cv);
	pthread_mutex_unlock(&e->sn_mu);
}

/* The open buffer is short of the gather target (under w_mu): the writer
 * waits, up to GATHER_US, for more of the callers just answered. */
static bool open_short_of_target(const struct embedded *e)
{
	return e->open->n_requests < e->gather_target && e->open->len < OPEN_BYTES_MAX / 2;
}

/* Whether the writer, woken after a batch, could do more than wait again
 * (under w_mu): not while every write slot is in flight (a completion
 * wakes it) nor while it gathers and the open buffer is short of the
 * target (it wakes at the window's end anyway). A wakeup saved per batch
 * is a futex call and a context switch saved per request or two at 64
 * connections. */
static bool writer_may_act(const struct embedded *e)
{
	if (e->issued - e->popped >= e->opt.writes_in_flight)
		return false;
	if (e->w_gathering && open_short_of_target(e))
		return false;
	return true;
}

static void *sequencer_main(void *arg)
{
	struct embedded *e = arg;
	struct hf_reply *scratch = malloc(sizeof *scratch);
	HF_ASSERT(scratch);
	for (;;) {
		/* 1. A batch: whatever is queued (up to batch_max), or a timer. */
		pthread_mutex_lock(&e->q_mu);
		bool tick = false;
		while (!e->q.head && !e->closing) {
			tick = tick_due(e, real_ms());
			if (tick || snapshot_due(e))
				break;
			int64_t ms = idle_sleep_ms(e);
			e->q_waiting = true;
			if (ms < 0) {
				pthread_cond_wait(&e->q_cv, &e->q_mu);
			} else {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_sec += ms / 1000;
				ts.tv_nsec += (ms % 1000) * 1000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&e->q_cv, &e->q_mu, &ts);
			}
			e->q_waiting = false;
		}
		uint32_t n;
		struct hf_request *head = hf_request_list_take(&e->q, e->opt.batch_max, &n);
		bool stop = e->closing && !e->q.head && !head;
		pthread_mutex_unlock(&e->q_mu);

		if (atomic_load(&e->failed)) {
			complete_list(head, HF_ENGINE_FAILED);
			if (stop)
				break;
			continue;
		}
		if (head || tick) {
			/* 2. Wait for room in the open buffer, then fill it. */
			pthread_mutex_lock(&e->w_mu);
			while ((e->open->len >= OPEN_BYTES_MAX ||
				e->open->n_requests >= OPEN_REQUESTS_MAX) &&
			       !atomic_load(&e->failed))
				pthread_cond_wait(&e->s_cv, &e->w_mu);
			e->seq_busy = true;
			pthread_mutex_unlock(&e->w_mu);

			int64_t now = clock_now(e);
			if (tick_due(e, now))
				apply_tick(e, now, scratch);
			e->last_batch_ms = now;
			struct hf_request *next;
			for (struct hf_request *r = head; r; r = next) {
				next = r->next;
				r->applied_at_ms = now;
				if (r->read)
					r->read(r, e->sm, now);
				else
					apply_write(e, now, r);
				buf_push_request(e->open, r);
			}
			atomic_store(&e->last_seq, e->next_seq - 1);
			atomic_fetch_add(&e->applied_batches, 1);

			pthread_mutex_lock(&e->w_mu);
			e->seq_busy = false;
			if (writer_may_act(e))
				pthread_cond_signal(&e->w_cv);
			pthread_mutex_unlock(&e->w_mu);
		}
		/* 3. Between batches: the state is consistent, fork here. */
		if (!atomic_load(&e->failed) && snapshot_due(e))
			snapshot_start(e);
		if (stop)
			break;
	}
	/* A snapshot child dies with the thread that forked it
	 * (PR_SET_PDEATHSIG), so this thread outlives the job. */
	pthread_mutex_lock(&e->sn_mu);
	while (e->job.active)
		pthread_cond_wait(&e->sn_done_cv, &e->sn_mu);
	pthread_mutex_unlock(&e->sn_mu);
	free(scratch);
	return NULL;
}

/* ---- log writer ----------------------------------------------------------- */

static void spare_request(struct embedded *e)
{
	pthread_mutex_lock(&e->sn_mu);
	if (!e->spare_wanted) {
		e->spare_wanted = true;
		pthread_cond_signal(&e->sn_cv);
	}
	pthread_mutex_unlock(&e->sn_mu);
}

/* Hands b's requests to the completer, status set. Under w_mu. */
static void completer_push(struct embedded *e, struct wbuf *b, int32_t status)
{
	if (!b->head)
		return;
	for (struct hf_request *r = b->head; r; r = r->next)
		r->status = status;
	pthread_mutex_lock(&e->c_mu);
	if (e->c_tail)
		e->c_tail->next = b->head;
	else
		e->c_head = b->head;
	e->c_tail = b->tail;
	bool wake = e->c_waiting;
	pthread_mutex_unlock(&e->c_mu);
	if (wake)
		pthread_cond_signal(&e->c_cv);
}

/* Completes synced buffers at the head of the ring, in order. Under w_mu.
 * Once the engine has failed nothing more is acknowledged, even a buffer
 * whose own sync succeeded: an earlier one's data may be gone. */
static void complete_in_order(struct embedded *e)
{
	bool any = false;
	while (e->popped < e->issued && e->ring[e->popped % NBUF]->synced) {
		struct wbuf *b = e->ring[e->popped % NBUF];
		e->popped++;
		int32_t status = atomic_load(&e->failed) ? HF_ENGINE_FAILED : b->status;
		uint32_t b_requests = b->n_requests;
		if (status == HF_ENGINE_OK && b->len) {
			e->durable_seq = b->last_seq;
			if (e->cfg.observer && e->cfg.observer->durable)
				e->cfg.observer->durable(e->cfg.observer->arg, b->last_seq);
		}
		completer_push(e, b, status);
		b->len = 0;
		b->n_records = 0;
		b->head = b->tail = NULL;
		b->n_requests = 0;
		e->free_bufs[e->n_free++] = b;
		any = true;
		if (status == HF_ENGINE_OK)
			e->gather_target = e->open->n_requests + b_requests;
	}
	if (any) {
		pthread_cond_broadcast(&e->s_cv);
		pthread_cond_signal(&e->w_cv);
	}
}

/* The writer: takes the open buffer, writes it (one pwritev), passes it to
 * the syncers. A write that starts a new segment waits until nothing is in
 * flight (a segment is made only after the previous one is all synced). */
static void *writer_main(void *arg)
{
	struct embedded *e = arg;
	char err[512];
	bool gather_deadline = false, gather_expired = false;
	struct timespec gather_ts = {0};
	pthread_mutex_lock(&e->w_mu);
	for (;;) {
		bool has = e->open->len || e->open->head;
		bool ready = has && !e->seq_busy && e->issued - e->popped < e->opt.writes_in_flight &&
			     e->n_free > 0;
		if (!ready) {
			if (e->writer_stop && !has && !e->seq_busy)
				break;
			pthread_cond_wait(&e->w_cv, &e->w_mu);
			continue;
		}
		if (e->gather_target && !gather_expired && e->issued == e->popped && !e->writer_stop &&
		    e->cfg.fsync == HF_FSYNC_ALWAYS && open_short_of_target(e)) {
			/* Let the callers just answered join this sync (see gather_target). */
			if (!gather_deadline) {
				clock_gettime(CLOCK_MONOTONIC, &gather_ts);
				gather_ts.tv_nsec += GATHER_US * 1000;
				if (gather_ts.tv_nsec >= 1000000000) {
					gather_ts.tv_sec++;
					gather_ts.tv_nsec -= 1000000000;
				}
				gather_deadline = true;
			}
			/* Either way look again: the lock was let go, the sequencer
			 * may be filling the open buffer now. */
			e->w_gathering = true;
			if (pthread_cond_timedwait(&e->w_cv, &e->w_mu, &gather_ts) == ETIMEDOUT)
				gather_expired = true;
			e->w_gathering = false;
			continue;
		}
		gather_deadline = false;
		gather_expired = false;
		e->gather_target = 0;
		struct wbuf *take = e->open;
		e->open = e->free_bufs[--e->n_free];
		take->written = take->synced = false;
		take->status = HF_ENGINE_OK;
		e->ring[e->issued % NBUF] = take;
		e->issued++;
		pthread_cond_broadcast(&e->s_cv);
		/* Decided once: the spare may become ready meanwhile, and a
		 * rotation with syncs in flight would break the invariant that
		 * every segment but the last is wholly synced. */
		bool rotate = take->len && hf_wal_rotates(e->wal, take->len);
		if (rotate)
			while (e->popped + 1 < e->issued)
				pthread_cond_wait(&e->s_cv, &e->w_mu);
		pthread_mutex_unlock(&e->w_mu);

		int32_t status = HF_ENGINE_OK;
		if (atomic_load(&e->failed)) {
			status = HF_ENGINE_FAILED;
		} else if (take->len) {
			if (hf_wal_write(e->wal, take->buf, take->len, take->first_seq, take->last_seq,
					 rotate, err, sizeof err) < 0) {
				engine_fail(e, err);
				status = HF_ENGINE_FAILED;
			}
			pthread_mutex_lock(&e->st_mu);
			e->st.batches++;
			e->st.records += take->n_records;
			e->st.batch_records_last = take->n_records;
			if (take->n_records > e->st.batch_records_max)
				e->st.batch_records_max = take->n_records;
			pthread_mutex_unlock(&e->st_mu);
			if (status == HF_ENGINE_OK && !hf_wal_spare_ready(e->wal))
				spare_request(e);
		}
		pthread_mutex_lock(&e->w_mu);
		take->status = status;
		take->written = true;
		pthread_cond_signal(&e->sync_cv);
	}
	e->writer_done = true;
	pthread_cond_broadcast(&e->s_cv);
	pthread_mutex_unlock(&e->w_mu);
	return NULL;
}

/* A syncer: claims the next written buffer (in order), fdatasyncs, then
 * completes whatever is synced at the head of the ring. Several run at
 * once: their fdatasyncs overlap in the kernel. */
static void *syncer_main(void *arg)
{
	struct embedded *e = arg;
	char err[512];
	pthread_mutex_lock(&e->w_mu);
	for (;;) {
		bool ready = e->claimed < e->issued && e->ring[e->claimed % NBUF]->written;
		if (!ready) {
			if (e->sync_stop && e->claimed == e->issued)
				break;
			pthread_cond_wait(&e->sync_cv, &e->w_mu);
			continue;
		}
		struct wbuf *b = e->ring[e->claimed % NBUF];
		e->claimed++;
		if (e->claimed < e->issued && e->ring[e->claimed % NBUF]->written)
			pthread_cond_signal(&e->sync_cv); /* the next one for another syncer */
		pthread_mutex_unlock(&e->w_mu);

		int32_t status = b->status;
		if (atomic_load(&e->failed)) {
			status = HF_ENGINE_FAILED;
		} else if (status == HF_ENGINE_OK && b->len && e->cfg.fsync == HF_FSYNC_ALWAYS) {
			uint64_t sync_us = 0;
			if (hf_wal_sync(e->wal, &sync_us, err, sizeof err) < 0) {
				engine_fail(e, err);
				status = HF_ENGINE_FAILED;
			} else {
				pthread_mutex_lock(&e->st_mu);
				e->st.fsyncs++;
				e->st.fsync_us_last = sync_us;
				if (sync_us > e->st.fsync_us_max)
					e->st.fsync_us_max = sync_us;
				uint32_t bk = 0;
				while (bk < 23 && (1ull << bk) <= sync_us)
					bk++;
				e->st.fsync_us_hist[bk]++;
				pthread_mutex_unlock(&e->st_mu);
				if (e->opt.on_sync)
					e->opt.on_sync(e->opt.on_sync_arg, sync_us, b->n_records);
			}
		}
		pthread_mutex_lock(&e->w_mu);
		b->status = status;
		b->synced = true;
		complete_in_order(e);
	}
	pthread_mutex_unlock(&e->w_mu);
	return NULL;
}

/* ---- completer ----------------------------------------------------------- */

static void *completer_main(void *arg)
{
	struct embedded *e = arg;
	pthread_mutex_lock(&e->c_mu);
	for (;;) {
		while (!e->c_head && !e->c_stop) {
			e->c_waiting = true;
			pthread_cond_wait(&e->c_cv, &e->c_mu);
			e->c_waiting = false;
		}
		struct hf_request *r = e->c_head;
		if (!r)
			break;
		e->c_head = e->c_tail = NULL;
		pthread_mutex_unlock(&e->c_mu);
		while (r) {
			struct hf_request *next = r->next; /* done may free r */
			r->done(r);
			r = next;
		}
		pthread_mutex_lock(&e->c_mu);
	}
	pthread_mutex_unlock(&e->c_mu);
	return NULL;
}

/* ---- snapshotter -------------------------------------------------------- */

/* Finishes one snapshot job: the tmp file written and synced, the log
 * durable up to job->seq, then installed. */
static void snapshot_finish(struct embedded *e, struct snap_job *job)
{
	char err[512] = "";
	bool ok;
	if (job->pid > 0) {
		int st = 0;
		while (waitpid(job->pid, &st, 0) < 0 && errno == EINTR)
			;
		ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok)
			snprintf(err, sizeof err, "snapshot child failed (status %d)", st);
		else if (hf_wal_snapshot_sync(e->wal, job->seq, err, sizeof err) < 0)
			ok = false;
	} else {
		ok = hf_wal_snapshot_write(e->wal, job->seq, job->now_ms, job->body, job->len, err,
					   sizeof err) == 0;
		free(job->body);
		job->body = NULL;
	}
	if (ok) {
		pthread_mutex_lock(&e->w_mu);
		while (e->durable_seq < job->seq && !atomic_load(&e->failed) &&
		       !(e->writer_done && e->popped == e->issued))
			pthread_cond_wait(&e->s_cv, &e->w_mu);
		ok = e->durable_seq >= job->seq;
		pthread_mutex_unlock(&e->w_mu);
		if (!ok)
			snprintf(err, sizeof err, "the log never became durable up to %" PRIu64, job->seq);
	}
	const struct hf_engine_observer *ob = e->cfg.observer;
	if (ok && ob && ob->checkpoint && ob->checkpoint(ob->arg, job->seq) < 0) {
		snprintf(err, sizeof err, "the observer could not make what it derived durable");
		ok = false;
	}
	if (ok)
		ok = hf_wal_snapshot_install(e->wal, job->seq, err, sizeof err) == 0;
	if (ok) {
		pthread_mutex_lock(&e->st_mu);
		e->st.snapshots++;
		pthread_mutex_unlock(&e->st_mu);
	} else if (!atomic_load(&e->failed)) {
		note(e, "snapshot at record %" PRIu64 " not installed: %s", job->seq, err);
	}
}

static void *snapshotter_main(void *arg)
{
	struct embedded *e = arg;
	char err[512];
	pthread_mutex_lock(&e->sn_mu);
	for (;;) {
		while (!e->job.active && !e->spare_wanted && !e->sn_stop)
			pthread_cond_wait(&e->sn_cv, &e->sn_mu);
		if (e->spare_wanted && !e->sn_stop) {
			pthread_mutex_unlock(&e->sn_mu);
			if (!atomic_load(&e->failed) &&
			    hf_wal_spare_prepare(e->wal, err, sizeof err) < 0)
				note(e, "spare segment: %s (rotations fall back to fallocate)", err);
			pthread_mutex_lock(&e->sn_mu);
			e->spare_wanted = false;
			continue;
		}
		if (!e->job.active)
			break;
		struct snap_job job = e->job;
		pthread_mutex_unlock(&e->sn_mu);
		snapshot_finish(e, &job);
		pthread_mutex_lock(&e->sn_mu);
		e->job.active = false;
		atomic_store(&e->snap_busy, false);
		pthread_cond_broadcast(&e->sn_done_cv);
	}
	pthread_mutex_unlock(&e->sn_mu);
	return NULL;
}

/* ---- the interface ------------------------------------------------------ */

static int embedded_submit(struct hf_engine *base, struct hf_request *const *reqs, uint32_t n)
{
	struct embedded *e = (struct embedded *)base;
	HF_ASSERT(n >= 1);
	if (atomic_load(&e->failed))
		return HF_ENGINE_FAILED;
	for (uint32_t i = 0; i < n; i++)
		HF_ASSERT(reqs[i] && reqs[i]->done);
	pthread_mutex_lock(&e->q_mu);
	HF_ASSERT(!e->closing);
	if (e->q.len + n > e->cfg.queue_max) {
		pthread_mutex_unlock(&e->q_mu);
		pthread_mutex_lock(&e->st_mu);
		e->st.queue_full++;
		pthread_mutex_unlock(&e->st_mu);
		return HF_ENGINE_FULL;
	}
	hf_request_list_push(&e->q, reqs, n);
	bool wake = e->q_waiting;
	pthread_mutex_unlock(&e->q_mu);
	if (wake)
		pthread_cond_signal(&e->q_cv);
	return HF_ENGINE_OK;
}

static void tick_done(struct hf_request *req)
{
	free(req);
}

static int64_t embedded_clock_advance(struct hf_engine *base, int64_t ms)
{
	struct embedded *e = (struct embedded *)base;
	if (!e->cfg.test_clock)
		return real_ms();
	HF_ASSERT(ms >= 0);
	/* A TICK queued behind everything submitted so far, bypassing the
	 * bound: expiry at the new time then needs no request, and its place
	 * in the order is the caller's. */
	struct hf_request *r = calloc(1, sizeof *r);
	pthread_mutex_lock(&e->q_mu);
	int64_t now = atomic_fetch_add(&e->test_now_ms, ms) + ms;
	if (r && !e->closing && !atomic_load(&e->failed)) {
		r->cmd.type = HF_CMD_TICK;
		r->done = tick_done;
		hf_request_list_push(&e->q, &r, 1);
		r = NULL;
	}
	bool wake = e->q_waiting;
	pthread_mutex_unlock(&e->q_mu);
	free(r);
	if (wake)
		pthread_cond_signal(&e->q_cv);
	return now;
}

static void embedded_stats(struct hf_engine *base, struct hf_engine_stats *out)
{
	struct embedded *e = (struct embedded *)base;
	pthread_mutex_lock(&e->st_mu);
	*out = e->st;
	pthread_mutex_unlock(&e->st_mu);
	pthread_mutex_lock(&e->q_mu);
	out->queue_depth = e->q.len;
	pthread_mutex_unlock(&e->q_mu);
	pthread_mutex_lock(&e->w_mu);
	out->durable_seq = e->durable_seq;
	pthread_mutex_unlock(&e->w_mu);
	out->failed = (uint64_t)atomic_load(&e->failed);
	out->applied_batches = atomic_load(&e->applied_batches);
}

static const struct hf_sm *embedded_sm(const struct hf_engine *base)
{
	return ((const struct embedded *)base)->sm;
}

static void embedded_free(struct embedded *e)
{
	hf_wal_close(e->wal);
	if (e->sm)
		hf_sm_free(e->sm);
	for (uint32_t i = 0; i < NBUF; i++)
		hf_mem_unshared_free(e->bufs[i].buf, e->bufs[i].cap);
	free(e->due);
	if (e->own_vfs)
		hf_vfs_posix_free(e->vfs);
	pthread_mutex_destroy(&e->q_mu);
	pthread_cond_destroy(&e->q_cv);
	pthread_mutex_destroy(&e->w_mu);
	pthread_cond_destroy(&e->w_cv);
	pthread_cond_destroy(&e->s_cv);
	pthread_cond_destroy(&e->sync_cv);
	pthread_mutex_destroy(&e->sn_mu);
	pthread_cond_destroy(&e->sn_cv);
	pthread_cond_destroy(&e->sn_done_cv);
	pthread_mutex_destroy(&e->st_mu);
	pthread_mutex_destroy(&e->c_mu);
	pthread_cond_destroy(&e->c_cv);
	free(e);
}

static void embedded_close(struct hf_engine *base)
{
	struct embedded *e = (struct embedded *)base;
	/* The sequencer drains the queue and stops; then the writer empties
	 * the open buffer and stops; then the snapshotter finishes its job. */
	pthread_mutex_lock(&e->q_mu);
	e->closing = true;
	pthread_cond_signal(&e->q_cv);
	pthread_mutex_unlock(&e->q_mu);
	pthread_join(e->t_seq, NULL);
	pthread_mutex_lock(&e->w_mu);
	e->writer_stop = true;
	pthread_cond_signal(&e->w_cv);
	pthread_mutex_unlock(&e->w_mu);
	pthread_join(e->t_writer, NULL);
	pthread_mutex_lock(&e->w_mu);
	e->sync_stop = true;
	pthread_cond_broadcast(&e->sync_cv);
	pthread_mutex_unlock(&e->w_mu);
	for (uint32_t i = 0; i < e->opt.writes_in_flight; i++)
		pthread_join(e->t_sync[i], NULL);
	pthread_mutex_lock(&e->c_mu);
	e->c_stop = true;
	pthread_cond_signal(&e->c_cv);
	pthread_mutex_unlock(&e->c_mu);
	pthread_join(e->t_done, NULL);
	pthread_mutex_lock(&e->sn_mu);
	e->sn_stop = true;
	pthread_cond_signal(&e->sn_cv);
	pthread_mutex_unlock(&e->sn_mu);
	pthread_join(e->t_snap, NULL);

	/* A last snapshot: the next open loads it instead of replaying. */
	if (!atomic_load(&e->failed) && !e->opt.no_snapshot_at_close &&
	    e->next_seq - 1 > e->last_snapshot_seq) {
		struct snap_job job = {.active = true, .seq = e->next_seq - 1,
				       .now_ms = e->last_now_ms};
		job.len = hf_sm_snapshot_size(e->sm);
		job.body = malloc(job.len ? job.len : 1);
		if (job.body) {
			hf_sm_snapshot_write(e->sm, job.body, job.len);
			snapshot_finish(e, &job);
		}
	}
	embedded_free(e);
}

static const struct hf_engine_ops embedded_ops = {
	.name = "embedded",
	.submit = embedded_submit,
	.clock_advance = embedded_clock_advance,
	.stats = embedded_stats,
	.sm = embedded_sm,
	.close = embedded_close,
};

struct hf_engine *hf_embedded_open(const struct hf_engine_config *cfg,
				   const struct hf_embedded_options *opt,
				   struct hf_wal_recovery *rec_out, char *err, size_t err_cap)
{
	struct hf_embedded_options none;
	memset(&none, 0, sizeof none);
	if (!opt)
		opt = &none;
	if (!cfg->data_dir || !cfg->data_dir[0]) {
		snprintf(err, err_cap, "no data directory given");
		return NULL;
	}
	struct embedded *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	e->base.ops = &embedded_ops;
	e->cfg = *cfg;
	snprintf(e->dir, sizeof e->dir, "%s", cfg->data_dir);
	e->cfg.data_dir = e->dir;
	if (!e->cfg.queue_max)
		e->cfg.queue_max = 16384;
	e->opt = *opt;
	if (!e->opt.batch_max)
		e->opt.batch_max = 1024;
	if (!e->opt.tick_ms)
		e->opt.tick_ms = 100;
	if (!e->opt.snapshot_writeback_bytes)
		e->opt.snapshot_writeback_bytes = SNAP_WRITEBACK_DEFAULT;
	HF_ASSERT(e->opt.snapshot_writeback_bytes % HF_MEM_PAGE == 0);
	/* 1 by default: on this project's 2-core machine one sync at a time
	 * gave the most commits/s (fuller group commits, fewer wakeups);
	 * docs/BENCHMARKS.md has the comparison. */
	if (!e->opt.writes_in_flight)
		e->opt.writes_in_flight = 1;
	if (e->opt.writes_in_flight > HF_WAL_WRITES_IN_FLIGHT)
		e->opt.writes_in_flight = HF_WAL_WRITES_IN_FLIGHT;
	e->log = opt->log ? opt->log : stderr;
	e->vfs = opt->vfs;
	if (!e->vfs) {
		e->vfs = hf_vfs_posix_new();
		e->own_vfs = true;
	}
	pthread_mutex_init(&e->q_mu, NULL);
	/* Timed waits (ticks, snapshots, gathering) use the monotonic clock:
	 * a wall-clock jump must not stall them. */
	pthread_condattr_t mono;
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&e->q_cv, &mono);
	pthread_mutex_init(&e->w_mu, NULL);
	pthread_cond_init(&e->w_cv, &mono);
	pthread_condattr_destroy(&mono);
	pthread_cond_init(&e->s_cv, NULL);
	pthread_cond_init(&e->sync_cv, NULL);
	pthread_mutex_init(&e->sn_mu, NULL);
	pthread_cond_init(&e->sn_cv, NULL);
	pthread_cond_init(&e->sn_done_cv, NULL);
	pthread_mutex_init(&e->st_mu, NULL);
	pthread_mutex_init(&e->c_mu, NULL);
	pthread_cond_init(&e->c_cv, NULL);
	if (!e->vfs) {
		snprintf(err, err_cap, "out of memory");
		embedded_free(e);
		return NULL;
	}

	struct hf_wal_options wo = {.vfs = e->vfs, .dir = e->dir,
				    .fsync = cfg->fsync == HF_FSYNC_ALWAYS,
				    .segment_bytes = cfg->segment_bytes, .log = e->log};
	const struct hf_engine_observer *ob = cfg->observer;
	if (ob && ob->replay_from) {
		wo.replay_from = ob->replay_from;
		wo.replay_arg = ob->arg;
		wo.replay_before = ob->before;
		wo.replay_after = ob->after;
	}
	struct hf_wal_recovery rec;
	if (hf_wal_open(&wo, &cfg->sm, cfg->adopt_stored_config, &e->wal, &e->sm, &rec, err,
			err_cap) < 0) {
		embedded_free(e);
		return NULL;
	}
	if (rec_out)
		*rec_out = rec;
	e->next_seq = rec.last_seq + 1;
	e->last_now_ms = rec.last_now_ms;
	if (hf_sm_now(e->sm) > e->last_now_ms)
		e->last_now_ms = hf_sm_now(e->sm);
	int64_t t = real_ms();
	atomic_store(&e->test_now_ms, t > e->last_now_ms ? t : e->last_now_ms);
	atomic_store(&e->last_seq, rec.last_seq);
	e->durable_seq = rec.last_seq;
	e->last_snapshot_seq = rec.snapshot_seq;
	e->last_snapshot_us = mono_us();
	e->open = &e->bufs[0];
	for (uint32_t i = 1; i < NBUF; i++)
		e->free_bufs[e->n_free++] = &e->bufs[i];
	e->spare_wanted = true;
	due_seed(e);
	/* Before any thread: the observer sees the recovered state first. */
	if (e->cfg.observer && e->cfg.observer->start)
		e->cfg.observer->start(e->cfg.observer->arg, e->sm, e->next_seq - 1, e->last_now_ms);

	for (uint32_t i = 0; i < e->opt.writes_in_flight; i++)
		if (pthread_create(&e->t_sync[i], NULL, syncer_main, e))
			HF_ASSERT(0 && "pthread_create");
	if (pthread_create(&e->t_done, NULL, completer_main, e) ||
	    pthread_create(&e->t_writer, NULL, writer_main, e) ||
	    pthread_create(&e->t_snap, NULL, snapshotter_main, e) ||
	    pthread_create(&e->t_seq, NULL, sequencer_main, e))
		HF_ASSERT(0 && "pthread_create");
	/* Names for top, perf and gdb (at most 15 characters). */
	for (uint32_t i = 0; i < e->opt.writes_in_flight; i++)
		pthread_setname_np(e->t_sync[i], "hf-syncer");
	pthread_setname_np(e->t_done, "hf-completer");
	pthread_setname_np(e->t_writer, "hf-writer");
	pthread_setname_np(e->t_snap, "hf-snapshotter");
	pthread_setname_np(e->t_seq, "hf-sequencer");
	e->threads_started = true;
	return &e->base;
}

void hf_embedded_snapshot_request(struct hf_engine *base)
{
	struct embedded *e = (struct embedded *)base;
	HF_ASSERT(base->ops == &embedded_ops);
	atomic_store(&e->snap_requested, true);
	pthread_mutex_lock(&e->q_mu);
	bool wake = e->q_waiting;
	pthread_mutex_unlock(&e->q_mu);
	if (wake)
		pthread_cond_signal(&e->q_cv);
}

uint64_t hf_embedded_last_seq(struct hf_engine *base)
{
	struct embedded *e = (struct embedded *)base;
	HF_ASSERT(base->ops == &embedded_ops);
	return atomic_load(&e->last_seq);
}

bool hf_embedded_spare_ready(struct hf_engine *base)
{
	struct embedded *e = (struct embedded *)base;
	HF_ASSERT(base->ops == &embedded_ops);
	return hf_wal_spare_ready(e->wal);
}
