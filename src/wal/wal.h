/*
 * wal.h: the write-ahead log, snapshot files and recovery of a data
 * directory (the byte layout is at the top of wal.c).
 *
 * Who calls what:
 *   hf_wal_open        the engine, once: recovers the state (newest valid
 *                      snapshot + replay of the later log, a torn tail cut
 *                      off) and returns it with a writer positioned after
 *                      the last durable record.
 *   hf_wal_record_*    the sequencer: encodes records into a group-commit
 *                      buffer (no I/O).
 *   hf_wal_write       the log writer thread only: one pwritev per
 *                      group-commit buffer (a new segment first when it
 *                      does not fit);
 *   hf_wal_sync        up to HF_WAL_WRITES_IN_FLIGHT threads at once: one
 *                      fdatasync each (hf_wal_append: write + sync).
 *   hf_wal_snapshot_*  the snapshot thread (and a fork()ed child).
 *   hf_wal_check_dir   `holdfast check DIR`: verifies without changing
 *                      anything.
 * The writer calls hf_wal_write for a rotation only when no sync is in
 * flight. hf_wal_write, hf_wal_sync and hf_wal_snapshot_install may run
 * concurrently (the segment list is under a mutex); everything else is
 * single-threaded.
 */
#ifndef HF_WAL_WAL_H
#define HF_WAL_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sm.h"
#include "wal/vfs.h"

#define HF_WAL_SEGMENT_HEADER_BYTES 64u
#define HF_WAL_RECORD_HEADER_BYTES 32u
#define HF_WAL_SNAPSHOT_HEADER_BYTES 64u
/* 64 MiB: a few seconds of peak writes per segment, few files. */
#define HF_WAL_SEGMENT_BYTES_DEFAULT (64ull << 20)
#define HF_WAL_SEGMENT_BYTES_MIN (4ull << 10)
/* Record kinds (u8 in the record header). */
#define HF_WAL_KIND_CMD 1u
/* The most group-commit writes a caller may keep unsynced at once. Each
 * segment header records it (recovery's torn-tail rule depends on it). */
#define HF_WAL_WRITES_IN_FLIGHT 4u

struct hf_wal;

struct hf_wal_options {
	struct hf_vfs *vfs;      /* borrowed; outlives the wal */
	const char *dir;         /* copied */
	bool fsync;              /* false: UNSAFE, benchmarks only */
	uint64_t segment_bytes;  /* 0: HF_WAL_SEGMENT_BYTES_DEFAULT */
	FILE *log;               /* recovery notes (cut tails ...); NULL: stderr */
	/* Recovery calls these around each record it applies whose seq is >=
	 * replay_from (0: none): what a caller derives from the records outside
	 * the state (the change log) can be rebuilt when its copy is behind. */
	uint64_t replay_from;
	void *replay_arg;
	void (*replay_before)(void *arg, const struct hf_sm *sm, int64_t now_ms);
	void (*replay_after)(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms,
			     const struct hf_cmd *cmd, const struct hf_reply *reply);
};

/* What hf_wal_open found and did. */
struct hf_wal_recovery {
	bool created;            /* a new data directory */
	bool config_adopted;     /* the stored config differed and was used */
	uint64_t snapshot_seq;   /* records <= this came from a snapshot; 0: none */
	uint64_t replayed;       /* records applied from the log */
	uint64_t last_seq;       /* last durable record (0: none) */
	int64_t last_now_ms;     /* its batch time (0: none) */
	uint32_t segments;
	uint64_t cut_bytes;      /* torn tail cut off (0: clean) */
	double replay_s;         /* snapshot load + log replay */
};

/* Opens dir (creating it when absent), takes its lock, stores `want` as the
 * directory's sm config on first open (later opens compare: a difference
 * fails unless adopt, which uses the stored one), recovers the state and
 * starts a new segment. On success *sm_out is the state (the caller frees
 * it with hf_sm_free, after hf_wal_close). -1 with a message in err naming
 * the file and offset of any damage. */
int hf_wal_open(const struct hf_wal_options *opt, const struct hf_sm_config *want, bool adopt,
		struct hf_wal **out, struct hf_sm **sm_out, struct hf_wal_recovery *rec /* out */,
		char *err, size_t err_cap);
void hf_wal_close(struct hf_wal *w);

/* ---- records ------------------------------------------------------------ */

/* Bytes a record with a payload of len bytes takes (header, padding). */
static inline size_t hf_wal_record_bytes(size_t len)
{
	return (HF_WAL_RECORD_HEADER_BYTES + len + 7) & ~(size_t)7;
}
/* Fills the header of the record at rec whose payload (len bytes at rec +
 * HF_WAL_RECORD_HEADER_BYTES) is already written, zeroes the padding and
 * computes the CRC. write_no: the number of the group-commit write the
 * record goes out in (the writes of a process count 1, 2, 3 ...; every
 * record of one write has the same). Returns hf_wal_record_bytes(len). */
size_t hf_wal_record_seal(uint8_t *rec, uint32_t len, uint64_t seq, int64_t now_ms,
			  uint32_t write_no);

/* One record as read from a segment. payload points into the buffer given
 * to hf_wal_record_decode and is valid as long as it is. */
struct hf_wal_record {
	uint32_t len;            /* payload bytes */
	uint64_t seq;
	int64_t now_ms;
	uint32_t write_no;
	uint8_t kind;            /* HF_WAL_KIND_CMD */
	const uint8_t *payload;
};

/* Decodes the record at the start of buf[0..len) (picohttpparser shape):
 * returns the bytes it takes (hf_wal_record_bytes(payload len), padding
 * included), -2 when len is too short for the record its header
 * announces, -1 when it is not a valid record (zeros, bad kind or
 * padding, length past HF_CMD_BYTES_MAX, CRC mismatch). Never reads past
 * len. */
int64_t hf_wal_record_decode(const uint8_t *buf, size_t len, struct hf_wal_record *out /* out */);

/* ---- the writer --------------------------------------------------------- */

/* True when the next write of len bytes starts a new segment (the writer
 * then first waits until no sync is in flight). */
bool hf_wal_rotates(const struct hf_wal *w, size_t len);
/* Writes len bytes of sealed records (first_seq .. last_seq, the next ones
 * after everything written before) with one pwritev. may_rotate: no sync
 * is in flight, so a new segment may be started first (when
 * hf_wal_rotates); a caller that got true from hf_wal_rotates must pass
 * it, after draining. No sync. 0, or -1 with err (the engine then stops:
 * nothing after the last good sync may be assumed durable). */
int hf_wal_write(struct hf_wal *w, const uint8_t *buf, size_t len, uint64_t first_seq,
		 uint64_t last_seq, bool may_rotate, char *err, size_t err_cap);
/* fdatasync of the active segment (nothing when fsync is off): everything
 * written to it before the call is durable when it returns 0. sync_us: the
 * time it took. */
int hf_wal_sync(struct hf_wal *w, uint64_t *sync_us /* out */, char *err, size_t err_cap);
/* hf_wal_write + hf_wal_sync (one write in flight). */
int hf_wal_append(struct hf_wal *w, const uint8_t *buf, size_t len, uint64_t first_seq,
		  uint64_t last_seq, uint64_t *sync_us /* out */, char *err, size_t err_cap);
/* The spare segment: a file of segment_bytes zeros, written and synced in
 * the background (any thread but the writer), which the next rotation
 * renames into place. Writing into blocks that already hold zeros makes
 * each fdatasync flush data only; fallocate()d blocks are "unwritten" and
 * cost a journal commit per fdatasync to convert. Without a spare, a
 * rotation falls back to fallocate. 0 (also when a spare is ready) or -1. */
int hf_wal_spare_prepare(struct hf_wal *w, char *err, size_t err_cap);
bool hf_wal_spare_ready(const struct hf_wal *w);
uint64_t hf_wal_config_hash(const struct hf_wal *w);
struct hf_vfs *hf_wal_vfs(const struct hf_wal *w);

/* ---- snapshots ------------------------------------------------------------ */

/* Path of the snapshot of `seq` (tmp: the file written before install). */
void hf_wal_snapshot_path(const struct hf_wal *w, uint64_t seq, bool tmp, char *buf,
			  size_t cap);
/* The 64-byte header for a snapshot body of len bytes whose CRC-32C is
 * body_crc (the state after record seq, whose batch time was now_ms).
 * Pure: safe in a fork()ed child. */
void hf_wal_snapshot_header(uint8_t hdr[HF_WAL_SNAPSHOT_HEADER_BYTES], uint64_t seq,
			    int64_t now_ms, uint64_t config_hash, uint32_t body_crc,
			    size_t len);
/* Makes the tmp file of seq, written by a fork()ed child, durable, and
 * drops it from the page cache (it is read only at start-up). 0 or -1 with
 * err. */
int hf_wal_snapshot_sync(struct hf_wal *w, uint64_t seq, char *err, size_t err_cap);
/* Writes header + body to the tmp file of seq through the vfs and syncs
 * it. 0 or -1 with err. */
int hf_wal_snapshot_write(struct hf_wal *w, uint64_t seq, int64_t now_ms, const uint8_t *body,
			  size_t len, char *err, size_t err_cap);
/* Installs the synced tmp snapshot of seq: rename, fsync the directory,
 * then removes older snapshots and every closed segment whose records are
 * all <= seq. The caller guarantees records <= seq are durable in the log
 * (else a crash could leave a snapshot ahead of the log). 0 or -1. */
int hf_wal_snapshot_install(struct hf_wal *w, uint64_t seq, char *err, size_t err_cap);

/* ---- check ---------------------------------------------------------------- */

/* `holdfast check DIR`: verifies the config, every snapshot and every log
 * record (CRC, sequence, decoding, replay with hf_sm_check), changing
 * nothing, and prints what it found to out. Returns 0 when the directory
 * is sound (start-up would succeed; a torn tail it would cut is reported),
 * 1 when it is damaged or unreadable. */
int hf_wal_check_dir(const char *dir, FILE *out);

#endif
