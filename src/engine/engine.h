/*
 * engine.h: the one interface the server talks to. Two engines implement
 * it: embedded (sequencer + write-ahead log, engine/embedded.c) and
 * PostgreSQL (engine/postgres.c: the core in every process, the order and
 * plain tables in the database). The server never sees which.
 *
 * A request is submitted with a completion callback. Writes (a command) are
 * applied in one total order; reads run a callback against a consistent
 * state. In both cases `done` is called only once everything applied before
 * the request, and the request itself, is durable: a caller never learns of
 * a state that a crash could take back.
 *
 * Ownership: the caller owns *req and everything cmd points into until
 * done(req) is called; done runs on an engine thread and must not block
 * (it typically resumes a parked HTTP connection).
 */
#ifndef HF_ENGINE_ENGINE_H
#define HF_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/cmd.h"
#include "core/sm.h"

struct hf_engine;
struct hf_request;

typedef void (*hf_request_done_fn)(struct hf_request *req);
/* A read: runs on the engine's sequencer thread with the state after every
 * write submitted before it; must not keep pointers into sm after return. */
typedef void (*hf_request_read_fn)(struct hf_request *req, const struct hf_sm *sm, int64_t now_ms);

struct hf_request {
	struct hf_cmd cmd;           /* a write when read == NULL */
	hf_request_read_fn read;     /* a read when not NULL */
	hf_request_done_fn done;
	void *ctx;                   /* the caller's */
	struct hf_reply reply;       /* out: filled before done (writes) */
	int64_t applied_at_ms;       /* out: the batch's now_ms */
	/* out: HF_ENGINE_OK, or HF_ENGINE_FAILED when the engine stopped on a
	 * disk error before this request was durable: reply is then
	 * meaningless and the outcome unknown until a restart recovers (the
	 * server answers 503). */
	int32_t status;
	struct hf_request *next;     /* engine-private queue link */
	uint32_t chain_rest;         /* engine-private: requests submitted with this one after it */
};

/* Submit results and request status. */
enum {
	HF_ENGINE_OK = 0,
	HF_ENGINE_FULL = -1,   /* queue full: answer 503 + Retry-After */
	HF_ENGINE_FAILED = -2, /* a disk error stopped the engine (fail-stop) */
};

/* HF_FSYNC_OFF is UNSAFE: acknowledged writes may be lost on power loss
 * (not on a process crash). For benchmarks only. */
enum hf_fsync_mode { HF_FSYNC_ALWAYS = 0, HF_FSYNC_OFF = 1 };

enum hf_engine_kind { HF_ENGINE_EMBEDDED = 0, HF_ENGINE_POSTGRES = 1 };
/* An observer of everything applied, for live feeds and the change log
 * (src/server/feed.c). All but start on engine threads, all may be NULL, none may
 * block; sm is valid only during the call.
 *   start:   in hf_engine_open, before any engine thread runs: the
 *            recovered state and the seq of the last record in it.
 *   before:  the sequencer, right before each record is applied (a write
 *            or a TICK) at now_ms: what the apply will expire is still
 *            visible.
 *   after:   right after it, with the record's seq and the reply.
 *   durable: a syncer, with the engine's lock held: every record up to seq
 *            is durable (called in increasing seq, before the requests of
 *            those records are completed). Only note it and wake someone.
 *   checkpoint: the snapshot thread, before a snapshot of the state after
 *            record seq becomes the point recovery starts from (the
 *            records up to seq may then leave the log): 0 once everything
 *            the observer derived from them is durable, -1 to keep the
 *            snapshot from being installed. May block; no engine lock is
 *            held and every record up to seq is durable.
 *   replay_from: recovery (hf_engine_open) also calls before and after for
 *            each record it replays from the log whose seq is >= this (0:
 *            none), all before start: an observer whose own durable copy
 *            (the change log) is behind the log rebuilds the rest. The
 *            records it gets are those after the recovery snapshot; with
 *            checkpoint that covers everything it had not made durable.
 * An engine that cannot observe (PostgreSQL, for now) ignores it. */
struct hf_engine_observer {
	void *arg;
	void (*start)(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms);
	void (*before)(void *arg, const struct hf_sm *sm, int64_t now_ms);
	void (*after)(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms,
		      const struct hf_cmd *cmd, const struct hf_reply *reply);
	void (*durable)(void *arg, uint64_t seq);
	int (*checkpoint)(void *arg, uint64_t seq);
	uint64_t replay_from;
};

struct hf_engine_config {
	enum hf_engine_kind kind;
	const char *database_url;    /* postgres: libpq connection string or URL */
	const char *data_dir;        /* embedded */
	enum hf_fsync_mode fsync;
	struct hf_sm_config sm;
	uint32_t queue_max;          /* submitted, not yet applied */
	uint32_t snapshot_every_s;   /* 0: only at close */
	/* Also snapshot after this many records, once the log since the last
	 * snapshot is at least that snapshot's size (0: by time only). */
	uint64_t snapshot_every_records;
	bool test_clock;             /* time moves only by hf_engine_clock_advance */
	/* The sm config is stored in data_dir on first open. false: opening a
	 * directory whose stored config differs from sm fails (err names the
	 * first differing field); true: the stored config is used. */
	bool adopt_stored_config;
	uint64_t segment_bytes;      /* log segment size (preallocated); 0: default */
	const struct hf_engine_observer *observer; /* NULL: none; borrowed, outlives the engine */
};

void hf_engine_config_default(struct hf_engine_config *cfg /* out */);

/* Opens (recovering from data_dir) and starts the engine threads. NULL with
 * a message in err on failure (bad directory, damaged log ...). */
struct hf_engine *hf_engine_open(const struct hf_engine_config *cfg, char *err, size_t err_cap);

/* 0: accepted, done will be called. HF_ENGINE_FULL (-1): the queue is full
 * (the caller answers 503 + Retry-After); HF_ENGINE_FAILED (-2): the engine
 * has stopped on a disk error. In both, done will not be called. */
int hf_engine_submit(struct hf_engine *e, struct hf_request *req);

/* Submits reqs[0..n) as one (POST /batch): all are queued or none (each
 * counts against the queue bound: n > queue_max is always FULL), applied
 * back to back, in order, in one sequencer batch: one group commit makes
 * them all durable. Each still gets its own reply and done call. Returns
 * as hf_engine_submit. */
int hf_engine_submit_many(struct hf_engine *e, struct hf_request *const *reqs, uint32_t n);

/* With test_clock: moves the clock forward (the next batch applies at the
 * new time, expiring holds). Returns the new now_ms. */
int64_t hf_engine_clock_advance(struct hf_engine *e, int64_t ms);

struct hf_engine_stats {
	uint64_t batches, records, fsyncs; /* batches: log writes (group commits) */
	uint64_t applied_batches;    /* sequencer batches (one or more per log write) */
	uint64_t queue_depth, queue_full;
	uint64_t fsync_us_last, fsync_us_max;
	uint64_t batch_records_last, batch_records_max;
	uint64_t snapshots, snapshot_pause_us_max;
	uint64_t snapshot_pause_us_last; /* sequencer stopped for the last snapshot (fork) */
	/* fsync latency histogram: bucket i counts syncs taking < 2^i us. */
	uint64_t fsync_us_hist[24];
	uint64_t durable_seq;        /* last log record known durable */
	uint64_t failed;             /* 1 once a disk error stopped the engine */
};
void hf_engine_stats(struct hf_engine *e, struct hf_engine_stats *out);

/* The state, for the immutable-name functions of sm.h only (hf_sm_event_id,
 * hf_sm_seat_id, hf_sm_item_id, hf_sm_customer_name), which are safe from
 * any thread, for indices taken from a reply of a completed request.
 * Everything else about the state is read through a read request. Ask
 * each time: the postgres engine replaces its state when it rebuilds it
 * from the database (after a commit in doubt); a pointer it returned stays
 * valid HF_ENGINE_SM_RETIRED_S seconds after that (the embedded engine's
 * never changes, valid until hf_engine_close). */
#define HF_ENGINE_SM_RETIRED_S 60
const struct hf_sm *hf_engine_sm(const struct hf_engine *e);

/* With test_clock: the test clock now, when the engine shares it between
 * processes (postgres: read from the database, so a move by any process
 * shows at once); -1 when the engine's clock is the caller's to track
 * (embedded: what hf_engine_clock_advance returned). Any thread. */
int64_t hf_engine_test_clock_ms(struct hf_engine *e);

/* The customer-token secret when the engine keeps one that every process
 * in front of its store shares (postgres): copies HF_ENGINE_SECRET_BYTES
 * into out and returns 0. -1: the engine keeps none (embedded: the server
 * keeps it in its data directory). */
#define HF_ENGINE_SECRET_BYTES 32
int hf_engine_token_secret(const struct hf_engine *e, uint8_t *out /* out */);

/* Finishes every accepted request (all done callbacks run), syncs, writes
 * a snapshot if configured, stops the threads and frees everything. */
void hf_engine_close(struct hf_engine *e);

#endif
