/*
 * fuzz_wal_open.c: recovery of a data directory (hf_wal_open) from
 * arbitrary file contents: config, log segments, snapshots.
 *
 * Why: at start-up every byte under the data directory is read back and
 * trusted only as far as recovery checks it (wal.c: segment and record
 * headers, CRCs, sequence numbers, the torn-tail rule, snapshots, then the
 * command decoder and the core for every record replayed). A damaged
 * directory must stop start-up with a message (-1) or recover, never crash.
 *
 * No hook in the wal is needed: hf_wal_open reads through a struct hf_vfs,
 * and the harness hands it an in-memory directory (memfs.h) built from the
 * input. Input layout (a small container, so one input can hold several
 * files and the fuzzer can grow, drop and reorder them):
 *   u8 flags            bit0: repair checksums (below)
 *   then files, each:   u8 kind, u16 len (little-endian), len bytes (a
 *                       last file cut short takes what is left)
 *     kind % 4 == 0     a log segment, named wal-<first_seq>.log from its
 *                       bytes 16..24 (the header's first_seq)
 *                  1    a snapshot, snap-<seq>.snap from its bytes 16..24
 *                  2    the config file (else the fixture's config is used)
 *                  3    a snapshot being written, snap-<seq>.tmp
 * With flags bit0 the harness repairs, before opening, every CRC the
 * reader will check where the bytes allow (segment header; each record
 * whose length fits, walking the records as the reader does, up to a
 * zero length; snapshot header and body; config), so mutations reach the
 * code behind the checksums. Without it, CRC mismatches and the torn-tail
 * / damage decision are exercised. The seeds (gen_corpus.c) are real
 * directories written by the wal itself, so their CRCs are right either way.
 *
 * Properties:
 *   - hf_wal_open returns 0 or -1, and -1 comes with a message;
 *   - on 0 the recovered state passes hf_sm_check; a record appended
 *     after recovery (a TICK with the next seq) goes through; and a second
 *     open of the same directory recovers the same state (equal digest)
 *     up to that record, cutting nothing: recovery leaves a directory that
 *     recovers cleanly, and the writer continued where it should.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "fuzz.h"
#include "memfs.h"
#include "wal/wal.h"

#define DIR_NAME "/fuzz"

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static FILE *quiet(void)
{
	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	return devnull ? devnull : stderr;
}

/* The fixture's config file, as the wal writes it on a first open. */
static const uint8_t *fixture_config(size_t *len)
{
	static uint8_t bytes[512];
	static size_t n;
	if (n) {
		*len = n;
		return bytes;
	}
	struct memfs *m = memfs_new();
	struct hf_wal_options opt = {.vfs = memfs_vfs(m), .dir = DIR_NAME, .fsync = true,
				     .segment_bytes = HF_WAL_SEGMENT_BYTES_MIN, .log = quiet()};
	struct hf_sm_config cfg;
	hf_fuzz_config(&cfg);
	struct hf_wal *w;
	struct hf_sm *sm;
	struct hf_wal_recovery rec;
	char err[512] = "";
	if (hf_wal_open(&opt, &cfg, false, &w, &sm, &rec, err, sizeof(err)) != 0)
		hf_fuzz_fail("a first open of an empty directory failed: %s", err);
	hf_wal_close(w);
	hf_sm_free(sm);
	const uint8_t *p = memfs_file(m, "config", &n);
	if (!p || n == 0 || n > sizeof(bytes))
		hf_fuzz_fail("the wal wrote no config file");
	memcpy(bytes, p, n);
	memfs_free(m);
	*len = n;
	return bytes;
}

/* ---- checksum repair (flags bit0) ---------------------------------------- */

static void repair_segment(uint8_t *p, size_t len)
{
	if (len < HF_WAL_SEGMENT_HEADER_BYTES)
		return;
	put_u32(p + 60, hf_crc32c(0, p, 60));
	size_t off = HF_WAL_SEGMENT_HEADER_BYTES;
	while (len - off >= HF_WAL_RECORD_HEADER_BYTES) {
		uint32_t rlen = get_u32(p + off);
		if (rlen == 0 || rlen > len - off - HF_WAL_RECORD_HEADER_BYTES)
			break;
		uint32_t crc = hf_crc32c(0, p + off, 4);
		crc = hf_crc32c(crc, p + off + 8, HF_WAL_RECORD_HEADER_BYTES - 8 + rlen);
		put_u32(p + off + 4, crc);
		size_t step = hf_wal_record_bytes(rlen);
		if (step > len - off)
			break;
		off += step;
	}
}

static void repair_snapshot(uint8_t *p, size_t len)
{
	if (len < HF_WAL_SNAPSHOT_HEADER_BYTES)
		return;
	uint64_t body = get_u64(p + 32);
	if (body <= len - HF_WAL_SNAPSHOT_HEADER_BYTES) {
		uint8_t *b = p + HF_WAL_SNAPSHOT_HEADER_BYTES;
		/* The body is an hf_sm snapshot: it ends with its own CRC
		 * (native byte order, as snapshot.c writes it). */
		if (body >= 4) {
			uint32_t crc = hf_crc32c(0, b, (size_t)body - 4);
			memcpy(b + body - 4, &crc, 4);
		}
		put_u32(p + 48, hf_crc32c(0, b, (size_t)body));
	}
	put_u32(p + 60, hf_crc32c(0, p, 60));
}

static void repair_config(uint8_t *p, size_t len)
{
	if (len >= 132)
		put_u32(p + 128, hf_crc32c(0, p, 128));
}

/* ---- the directory from the input ---------------------------------------- */

static void build_dir(struct memfs *m, const uint8_t *data, size_t size)
{
	bool repair = size > 0 && (data[0] & 1);
	bool have_config = false;
	size_t off = size > 0 ? 1 : 0;
	uint8_t *copy = NULL;
	for (unsigned i = 0; off < size; i++) {
		uint8_t kind = data[off++] % 4;
		size_t len = 0;
		if (size - off >= 2) {
			len = (size_t)data[off] | (size_t)data[off + 1] << 8;
			off += 2;
		} else {
			off = size;
		}
		if (len > size - off)
			len = size - off;
		free(copy);
		copy = malloc(len ? len : 1);
		if (!copy)
			hf_fuzz_fail("out of memory");
		memcpy(copy, data + off, len);
		off += len;
		uint64_t seq = len >= 24 ? get_u64(copy + 16) : i + 1;
		char name[64];
		switch (kind) {
		case 0:
			if (repair)
				repair_segment(copy, len);
			snprintf(name, sizeof(name), "wal-%020" PRIu64 ".log", seq);
			break;
		case 1:
		case 3:
			if (repair)
				repair_snapshot(copy, len);
			snprintf(name, sizeof(name), "snap-%020" PRIu64 "%s", seq,
				 kind == 1 ? ".snap" : ".tmp");
			break;
		default:
			if (repair)
				repair_config(copy, len);
			snprintf(name, sizeof(name), "config");
			have_config = true;
			break;
		}
		memfs_put(m, name, copy, len);
	}
	free(copy);
	if (!have_config) {
		size_t n;
		const uint8_t *cfg = fixture_config(&n);
		memfs_put(m, "config", cfg, n);
	}
}

/* ---- the target ------------------------------------------------------------ */

static int open_dir(struct memfs *m, struct hf_wal **w, struct hf_sm **sm,
		    struct hf_wal_recovery *rec, char *err, size_t cap)
{
	struct hf_wal_options opt = {.vfs = memfs_vfs(m), .dir = DIR_NAME, .fsync = true,
				     .segment_bytes = HF_WAL_SEGMENT_BYTES_MIN, .log = quiet()};
	struct hf_sm_config cfg;
	hf_fuzz_config(&cfg);
	err[0] = '\0';
	*w = NULL;
	*sm = NULL;
	memset(rec, 0, sizeof(*rec));
	int rc = hf_wal_open(&opt, &cfg, false, w, sm, rec, err, cap);
	if (rc != 0 && rc != -1)
		hf_fuzz_fail("hf_wal_open returned %d", rc);
	if (rc == -1 && err[0] == '\0')
		hf_fuzz_fail("hf_wal_open refused without a message");
	if (rc == 0 && (!*w || !*sm))
		hf_fuzz_fail("hf_wal_open succeeded without a wal or a state");
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memfs *m = memfs_new();
	if (!m)
		hf_fuzz_fail("out of memory");
	build_dir(m, data, size);

	struct hf_wal *w;
	struct hf_sm *sm;
	struct hf_wal_recovery rec;
	char err[512];
	if (open_dir(m, &w, &sm, &rec, err, sizeof(err)) != 0) {
		memfs_free(m);
		return 0;
	}
	hf_fuzz_check_sm(sm, "the recovered state");

	/* The writer goes on after the last durable record: one TICK. */
	static const struct hf_cmd tick = {.type = HF_CMD_TICK};
	uint8_t rec_buf[256];
	size_t len = hf_cmd_encoded_size(&tick);
	int64_t now = rec.last_now_ms > hf_sm_now(sm) ? rec.last_now_ms : hf_sm_now(sm);
	if (hf_cmd_encode(&tick, rec_buf + HF_WAL_RECORD_HEADER_BYTES,
			  sizeof(rec_buf) - HF_WAL_RECORD_HEADER_BYTES) != (int64_t)len)
		hf_fuzz_fail("a TICK does not encode");
	uint64_t seq = rec.last_seq + 1;
	size_t bytes = hf_wal_record_seal(rec_buf, (uint32_t)len, seq, now, 0);
	uint64_t sync_us;
	if (hf_wal_append(w, rec_buf, bytes, seq, seq, &sync_us, err, sizeof(err)) != 0)
		hf_fuzz_fail("appending after recovery (seq %" PRIu64 ") failed: %s", seq, err);
	static struct hf_reply reply;
	hf_sm_apply(sm, now, &tick, &reply);
	uint64_t digest = hf_sm_digest(sm);
	hf_wal_close(w);
	hf_sm_free(sm);

	struct hf_wal_recovery rec2;
	if (open_dir(m, &w, &sm, &rec2, err, sizeof(err)) != 0)
		hf_fuzz_fail("the directory recovered once (last seq %" PRIu64 ", cut %" PRIu64
			     " bytes) does not open again: %s",
			     rec.last_seq, rec.cut_bytes, err);
	if (rec2.cut_bytes != 0)
		hf_fuzz_fail("the second open cut %" PRIu64 " bytes", rec2.cut_bytes);
	if (rec2.last_seq != seq)
		hf_fuzz_fail("the second open ends at seq %" PRIu64 ", not %" PRIu64, rec2.last_seq,
			     seq);
	if (hf_sm_digest(sm) != digest)
		hf_fuzz_fail("the second open recovers another state (digest)");
	hf_fuzz_check_sm(sm, "the state recovered again");
	hf_wal_close(w);
	hf_sm_free(sm);
	memfs_free(m);
	return 0;
}
