/*
 * embedded.h: the embedded engine's own entry points, beyond engine.h:
 * what tests, benchmarks and tools need (a file layer of their choice, a
 * record hook, snapshots on demand, what recovery found).
 */
#ifndef HF_ENGINE_EMBEDDED_H
#define HF_ENGINE_EMBEDDED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "wal/vfs.h"
#include "wal/wal.h"

/* Called on the sequencer thread for every record, in seq order, before
 * it is handed to the log writer (tests keep the order they must find
 * again after a crash). cmd is valid only during the call. */
typedef void (*hf_embedded_record_fn)(void *arg, uint64_t seq, int64_t now_ms,
				      const struct hf_cmd *cmd);

struct hf_embedded_options {
	struct hf_vfs *vfs;            /* NULL: POSIX; else borrowed, outlives the engine */
	FILE *log;                     /* notes and errors; NULL: stderr */
	hf_embedded_record_fn on_record;
	void *on_record_arg;
	/* Snapshots are written by a fork()ed child (copy-on-write: the
	 * sequencer pauses only for fork) when the vfs has real fds; true
	 * serialises them on the sequencer thread instead. */
	bool snapshot_inline;
	uint32_t batch_max;            /* requests per batch; 0: 1024 */
	/* Benchmarks: called on the writer thread after each group commit
	 * with its fdatasync time and record count. */
	void (*on_sync)(void *arg, uint64_t sync_us, uint32_t records);
	void *on_sync_arg;
	/* Group-commit writes synced at once, 1..HF_WAL_WRITES_IN_FLIGHT;
	 * 0: 1 (what measured best here; more helps when the disk's flush,
	 * not the CPU, is the limit). */
	uint32_t writes_in_flight;
	/* Skip the snapshot hf_engine_close writes (benchmarks of replay). */
	bool no_snapshot_at_close;
	uint32_t tick_ms;              /* idle TICK granularity; 0: 100 */
	/* A snapshot child starts write-back every this many bytes (a
	 * multiple of 4096; 0: 8 MiB). Tests make it small to cover it. */
	uint32_t snapshot_writeback_bytes;
};

/* hf_engine_open with options. rec (may be NULL) receives what recovery
 * found. */
struct hf_engine *hf_embedded_open(const struct hf_engine_config *cfg,
				   const struct hf_embedded_options *opt,
				   struct hf_wal_recovery *rec /* out */, char *err, size_t err_cap);

/* Asks for a snapshot after the next batch (ignored while one is being
 * written). */
void hf_embedded_snapshot_request(struct hf_engine *e);

/* The seq of the last record handed to the log (sequencer's view). */
uint64_t hf_embedded_last_seq(struct hf_engine *e);

/* Whether the zero-filled spare segment is ready. The writer moves to it
 * at the first write after it is, so tests that need records at known
 * places in known segments wait for it first. */
bool hf_embedded_spare_ready(struct hf_engine *e);

#endif
