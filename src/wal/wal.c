/*
 * wal.c: the write-ahead log of the embedded engine, its snapshot files and
 * the recovery of a data directory. Owns every byte under the data
 * directory; the engine owns threads and timing.
 *
 * =====================================================================
 * DATA DIRECTORY
 * =====================================================================
 *   config                      the sm config (capacities, policy), written
 *                               once, atomically (config.tmp, fsync, rename,
 *                               fsync dir), before any other file
 *   wal-<20-digit seq>.log      log segments; the number is the seq of the
 *                               segment's first record
 *   snap-<20-digit seq>.snap    snapshot: the state after record <seq>
 *   snap-<20-digit seq>.tmp     a snapshot being written (removed at open)
 *   wal-spare.tmp               zeros, ready to become the next segment
 *                               (renamed into place with its header)
 *   lock                        flock()ed by the process that has it open
 *
 * All integers are little-endian. CRC is CRC-32C (base/crc32c.h).
 *
 * config (132 bytes):
 *    0  8  magic "HFCONFIG"
 *    8  u32 format version (1)
 *   12  u32 number of fields (14)
 *   16  14 x u64: the fields of struct hf_sm_config in declaration order
 *       (table config_fields below), int64 fields as two's complement
 *  128  u32 crc of bytes [0, 128)
 * The config hash (hf_hash_bytes of these 132 bytes) is written into every
 * segment and snapshot header, so files of another config are refused.
 *
 * Segment (preallocated to segment_bytes with zeros, then filled from the
 * front; one group-commit write never spans two segments, and a write
 * bigger than segment_bytes gets a segment of its own size):
 *    0  8  magic "HFWALSEG"
 *    8  u32 format version (1)
 *   12  u32 header bytes (64)
 *   16  u64 first_seq (equal to the number in the name)
 *   24  u64 preallocated bytes
 *   32  u64 config hash
 *   40  u32 command codec version (HF_CODEC_VERSION)
 *   44  u32 first_write_no: write_no of the segment's first record
 *   48  u32 writes in flight: at most this many group-commit writes of
 *       this segment were ever unsynced at once (HF_WAL_WRITES_IN_FLIGHT,
 *       the bound whatever the engine used)
 *   52  8 bytes zero
 *   60  u32 crc of bytes [0, 60)
 *   64  records, each at an 8-byte aligned offset, back to back
 *
 * Record (32-byte header, payload, zero padding to a multiple of 8):
 *    0  u32 len        payload bytes (<= HF_CMD_BYTES_MAX)
 *    4  u32 crc        crc of bytes [0, 4) continued over [8, 32 + len)
 *    8  u64 seq        1, 2, 3 ... with no gap across segments
 *   16  i64 now_ms     the batch's time: the core applies the command at it
 *   24  u32 write_no   number of its group-commit write (one pwritev): the
 *                      writes of one process count 1, 2, 3 ... (mod 2^32)
 *   28  u8  kind       1 = command
 *   29  3 bytes zero
 *   32  payload        kind 1: hf_cmd_encode bytes (they open with the
 *                      codec version byte, core/cmd.h)
 * Every command the sequencer applies is logged, refusals included (they
 * move the clock, expire holds and fill the idempotency table), and so is
 * every TICK: replaying the records at their now_ms rebuilds the state
 * exactly (hf_sm_digest proves it).
 *
 * Snapshot:
 *    0  8  magic "HFSNAPSH"
 *    8  u32 format version (1)
 *   12  u32 header bytes (64)
 *   16  u64 seq        the state includes every record <= seq
 *   24  i64 now_ms     batch time of record seq
 *   32  u64 body bytes
 *   40  u64 config hash
 *   48  u32 body crc
 *   52  8 bytes zero
 *   60  u32 crc of bytes [0, 60)
 *   64  body: hf_sm_snapshot_write bytes
 *
 * =====================================================================
 * INVARIANTS AND RECOVERY
 * =====================================================================
 * The writer issues one pwritev per group commit, in seq order, and keeps
 * at most M of them unsynced at once (the segment header says M, the
 * bound HF_WAL_WRITES_IN_FLIGHT; the engine uses 1 by default): write k+M
 * is issued only after write k's fdatasync returned (concurrent fdatasyncs
 * overlap in the kernel). A new segment is created (allocated, header written, fsynced,
 * directory fsynced) only after every write of the previous one was
 * synced. Hence after a power loss only the last M writes of the last
 * segment can be incomplete, and their pages may have reached the disk in
 * any order.
 *
 * Recovery: the newest snapshot whose CRCs hold, then every later record
 * in seq order. Reading the last segment stops at the first record that is
 * not valid (zeros, bad CRC, wrong seq). The bad record belongs to write
 * w_bad <= P + 1, P the write_no of the last valid record before it (or
 * w_bad = first_write_no when there is none). Beyond that point recovery
 * looks for any valid record of write w_bad + M or later: such a write was
 * issued after the bad one was synced, so the bad one is damage, not a torn
 * write, and start-up stops naming the file and offset. Otherwise the bytes
 * from the bad record on are a torn tail: they are cut off (ftruncate +
 * fsync, logged with what was cut) and a new segment starts at the next
 * seq. Anything invalid in a
 * segment that is not the last, a gap in seqs, a bad segment header other
 * than a torn creation of the last one, or a cut point at or below the
 * snapshot's seq (those records were durable) is damage. Limit: damage
 * inside the last M + 1 writes of the log, with nothing valid after them,
 * looks like a torn write and is cut.
 *
 * A snapshot is installed (tmp written and fsynced, renamed, directory
 * fsynced) only once the log is durable up to its seq; then older
 * snapshots and every closed segment whose records are all <= seq are
 * removed.
 */
#include "wal/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/hash.h"
#include "base/limits.h"
#include "core/cmd.h"

#define WAL_VERSION 1u
#define CONFIG_BYTES 132u
#define CONFIG_FIELDS 14u

static const uint8_t segment_magic[8] = {'H', 'F', 'W', 'A', 'L', 'S', 'E', 'G'};
static const uint8_t snapshot_magic[8] = {'H', 'F', 'S', 'N', 'A', 'P', 'S', 'H'};
static const uint8_t config_magic[8] = {'H', 'F', 'C', 'O', 'N', 'F', 'I', 'G'};
static const uint8_t zeros8[8];

/* ---- little-endian ---------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void errf(char *err, size_t cap, const char *fmt, ...)
{
	if (!err || !cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- config ----------------------------------------------------------- */

/* The fields of struct hf_sm_config in the order they are stored.
 * Columns: name, offset, size in bytes, signed. */
static const struct config_field {
	const char *name;
	size_t off;
	uint8_t bytes;
	bool is_signed;
} config_fields[CONFIG_FIELDS] = {
	{"max_events", offsetof(struct hf_sm_config, max_events), 4, false},
	{"max_seats", offsetof(struct hf_sm_config, max_seats), 4, false},
	{"max_items", offsetof(struct hf_sm_config, max_items), 4, false},
	{"max_customers", offsetof(struct hf_sm_config, max_customers), 4, false},
	{"max_holds", offsetof(struct hf_sm_config, max_holds), 4, false},
	{"max_orders", offsetof(struct hf_sm_config, max_orders), 4, false},
	{"max_lines", offsetof(struct hf_sm_config, max_lines), 4, false},
	{"string_bytes", offsetof(struct hf_sm_config, string_bytes), 4, false},
	{"idem_entries", offsetof(struct hf_sm_config, idem_entries), 4, false},
	{"idem_bytes", offsetof(struct hf_sm_config, idem_bytes), 4, false},
	{"idem_retention_ms", offsetof(struct hf_sm_config, idem_retention_ms), 8, true},
	{"shipping_fee", offsetof(struct hf_sm_config, shipping_fee), 8, true},
	{"free_shipping_over", offsetof(struct hf_sm_config, free_shipping_over), 8, true},
	{"hold_lifetime_max_s", offsetof(struct hf_sm_config, hold_lifetime_max_s), 4, false},
};

static uint64_t config_field_get(const struct hf_sm_config *c, const struct config_field *f)
{
	const uint8_t *p = (const uint8_t *)c + f->off;
	if (f->bytes == 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	int64_t v;
	memcpy(&v, p, 8);
	return (uint64_t)v;
}

static void config_field_set(struct hf_sm_config *c, const struct config_field *f, uint64_t v)
{
	uint8_t *p = (uint8_t *)c + f->off;
	if (f->bytes == 4) {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
	} else {
		int64_t x = (int64_t)v;
		memcpy(p, &x, 8);
	}
}

static void config_encode(const struct hf_sm_config *c, uint8_t out[CONFIG_BYTES])
{
	memset(out, 0, CONFIG_BYTES);
	memcpy(out, config_magic, 8);
	put_u32(out + 8, WAL_VERSION);
	put_u32(out + 12, CONFIG_FIELDS);
	for (uint32_t i = 0; i < CONFIG_FIELDS; i++)
		put_u64(out + 16 + 8 * i, config_field_get(c, &config_fields[i]));
	put_u32(out + 128, hf_crc32c(0, out, 128));
}

static int config_decode(const uint8_t *in, size_t len, struct hf_sm_config *c /* out */)
{
	if (len != CONFIG_BYTES || memcmp(in, config_magic, 8) || get_u32(in + 8) != WAL_VERSION ||
	    get_u32(in + 12) != CONFIG_FIELDS || get_u32(in + 128) != hf_crc32c(0, in, 128))
		return -1;
	memset(c, 0, sizeof *c);
	for (uint32_t i = 0; i < CONFIG_FIELDS; i++)
		config_field_set(c, &config_fields[i], get_u64(in + 16 + 8 * i));
	return 0;
}

/* Names the first field where a and b differ; 0 when equal. */
static int config_diff(const struct hf_sm_config *a, const struct hf_sm_config *b, char *msg,
		       size_t cap)
{
	for (uint32_t i = 0; i < CONFIG_FIELDS; i++) {
		const struct config_field *f = &config_fields[i];
		uint64_t x = config_field_get(a, f), y = config_field_get(b, f);
		if (x != y) {
			if (f->is_signed)
				errf(msg, cap, "%s: stored %" PRId64 ", requested %" PRId64, f->name,
				     (int64_t)x, (int64_t)y);
			else
				errf(msg, cap, "%s: stored %" PRIu64 ", requested %" PRIu64, f->name, x,
				     y);
			return 1;
		}
	}
	return 0;
}

/* ---- records ---------------------------------------------------------- */

size_t hf_wal_record_seal(uint8_t *rec, uint32_t len, uint64_t seq, int64_t now_ms,
			  uint32_t write_no)
{
	size_t total = hf_wal_record_bytes(len);
	put_u32(rec, len);
	put_u64(rec + 8, seq);
	put_u64(rec + 16, (uint64_t)now_ms);
	put_u32(rec + 24, write_no);
	rec[28] = HF_WAL_KIND_CMD;
	rec[29] = rec[30] = rec[31] = 0;
	memset(rec + HF_WAL_RECORD_HEADER_BYTES + len, 0, total - HF_WAL_RECORD_HEADER_BYTES - len);
	uint32_t crc = hf_crc32c(0, rec, 4);
	crc = hf_crc32c(crc, rec + 8, HF_WAL_RECORD_HEADER_BYTES - 8 + len);
	put_u32(rec + 4, crc);
	return total;
}

int64_t hf_wal_record_decode(const uint8_t *buf, size_t len, struct hf_wal_record *out)
{
	if (len < HF_WAL_RECORD_HEADER_BYTES)
		return -2;
	uint32_t n = get_u32(buf);
	if (n == 0 || n > HF_CMD_BYTES_MAX || buf[28] != HF_WAL_KIND_CMD || buf[29] || buf[30] ||
	    buf[31])
		return -1;
	size_t total = hf_wal_record_bytes(n);
	if (total > len)
		return -2;
	uint32_t crc = hf_crc32c(0, buf, 4);
	crc = hf_crc32c(crc, buf + 8, HF_WAL_RECORD_HEADER_BYTES - 8 + n);
	if (crc != get_u32(buf + 4))
		return -1;
	for (size_t i = HF_WAL_RECORD_HEADER_BYTES + n; i < total; i++)
		if (buf[i])
			return -1;
	out->len = n;
	out->seq = get_u64(buf + 8);
	out->now_ms = (int64_t)get_u64(buf + 16);
	out->write_no = get_u32(buf + 24);
	out->kind = buf[28];
	out->payload = buf + HF_WAL_RECORD_HEADER_BYTES;
	return (int64_t)total;
}

/* A valid record at buf[off..size): 1 (filled), 0 not. */
struct rec_view {
	uint32_t len;
	uint64_t seq;
	int64_t now_ms;
	uint32_t write_no;
	const uint8_t *payload;
	size_t bytes; /* hf_wal_record_bytes(len) */
};

static int record_parse(const uint8_t *buf, size_t size, size_t off, struct rec_view *r)
{
	if (off >= size)
		return 0;
	struct hf_wal_record x;
	int64_t n = hf_wal_record_decode(buf + off, size - off, &x);
	if (n < 0)
		return 0;
	r->len = x.len;
	r->seq = x.seq;
	r->now_ms = x.now_ms;
	r->write_no = x.write_no;
	r->payload = x.payload;
	r->bytes = (size_t)n;
	return 1;
}

/* ---- the writer's state ------------------------------------------------ */

struct hf_wal {
	struct hf_vfs *vfs;
	char dir[PATH_MAX];
	bool fsync;
	uint64_t segment_bytes;
	uint64_t config_hash;
	FILE *log;

	/* Guards segs and snaps: the writer appends segments while the
	 * snapshot thread removes covered ones. */
	pthread_mutex_t mu;
	uint64_t *segs; /* first seqs, ascending; the last is the active one */
	uint32_t n_segs, cap_segs;
	uint64_t *snaps; /* installed snapshot seqs, ascending */
	uint32_t n_snaps, cap_snaps;

	/* wal-spare.tmp is complete and synced (set by the preparer, taken by
	 * the writer at a rotation). */
	_Atomic bool spare_ready;

	/* The active segment (writer thread only). zeroed: made from the
	 * spare; a segment made with fallocate is left for the spare as soon
	 * as one is ready. */
	bool zeroed;
	int fd;
	uint64_t off, cap;
	uint64_t next_seq;
};

static void path_of(const char *dir, const char *name, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);
	HF_ASSERT(n > 0 && (size_t)n < cap);
}

static void segment_name(uint64_t first, char out[64])
{
	snprintf(out, 64, "wal-%020" PRIu64 ".log", first);
}

static void snapshot_name(uint64_t seq, bool tmp, char out[64])
{
	snprintf(out, 64, "snap-%020" PRIu64 "%s", seq, tmp ? ".tmp" : ".snap");
}

/* Parses "<prefix><20 digits><suffix>". */
static bool name_parse(const char *name, const char *prefix, const char *suffix, uint64_t *seq)
{
	size_t lp = strlen(prefix), ls = strlen(suffix), ln = strlen(name);
	if (ln != lp + 20 + ls || strncmp(name, prefix, lp) || strcmp(name + lp + 20, suffix))
		return false;
	uint64_t v = 0;
	for (size_t i = lp; i < lp + 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*seq = v;
	return true;
}

static int u64_push(uint64_t **a, uint32_t *n, uint32_t *cap, uint64_t v)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 16;
		uint64_t *na = realloc(*a, nc * sizeof *na);
		if (!na)
			return -1;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = v;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void segment_header(uint8_t hdr[HF_WAL_SEGMENT_HEADER_BYTES], uint64_t first,
			   uint64_t cap, uint64_t config_hash, uint32_t first_write_no,
			   uint32_t in_flight)
{
	memset(hdr, 0, HF_WAL_SEGMENT_HEADER_BYTES);
	memcpy(hdr, segment_magic, 8);
	put_u32(hdr + 8, WAL_VERSION);
	put_u32(hdr + 12, HF_WAL_SEGMENT_HEADER_BYTES);
	put_u64(hdr + 16, first);
	put_u64(hdr + 24, cap);
	put_u64(hdr + 32, config_hash);
	put_u32(hdr + 40, HF_CODEC_VERSION);
	put_u32(hdr + 44, first_write_no);
	put_u32(hdr + 48, in_flight);
	put_u32(hdr + 60, hf_crc32c(0, hdr, 60));
}

/* Creates segment `first` of at least min_bytes of records, makes it (and
 * its directory entry) durable, and makes it the active one. */
static int segment_create(struct hf_wal *w, uint64_t first, uint64_t min_bytes,
			  uint32_t first_write_no, char *err, size_t err_cap)
{
	struct hf_vfs *v = w->vfs;
	char name[64], path[PATH_MAX + 64];
	segment_name(first, name);
	path_of(w->dir, name, path, sizeof path);
	uint64_t cap = w->segment_bytes;
	if (HF_WAL_SEGMENT_HEADER_BYTES + min_bytes > cap)
		cap = (HF_WAL_SEGMENT_HEADER_BYTES + min_bytes + 4095) & ~(uint64_t)4095;
	uint8_t hdr[HF_WAL_SEGMENT_HEADER_BYTES];
	segment_header(hdr, first, cap, w->config_hash, first_write_no, HF_WAL_WRITES_IN_FLIGHT);
	int fd, rc;
	bool zeroed = false;
	if (cap == w->segment_bytes && atomic_exchange(&w->spare_ready, false)) {
		zeroed = true;
		/* The spare: zeros already durable; header, then its name. */
		char spare[PATH_MAX + 64];
		path_of(w->dir, "wal-spare.tmp", spare, sizeof spare);
		fd = v->ops->open(v, spare, false);
		if (fd < 0) {
			errf(err, err_cap, "open %s: %s", spare, strerror(-fd));
			return -1;
		}
		rc = hf_vfs_write_all(v, fd, hdr, sizeof hdr, 0);
		if (rc == 0 && w->fsync)
			rc = v->ops->sync(v, fd, true);
		if (rc == 0)
			rc = v->ops->rename(v, spare, path);
	} else {
		fd = v->ops->open(v, path, true);
		if (fd < 0) {
			errf(err, err_cap, "create %s: %s", path, strerror(-fd));
			return -1;
		}
		rc = v->ops->truncate(v, fd, 0);
		if (rc == 0)
			rc = v->ops->allocate(v, fd, (off_t)cap);
		if (rc == 0)
			rc = hf_vfs_write_all(v, fd, hdr, sizeof hdr, 0);
		if (rc == 0 && w->fsync)
			rc = v->ops->sync(v, fd, false);
	}
	if (rc == 0 && w->fsync)
		rc = v->ops->sync_dir(v, w->dir);
	if (rc < 0) {
		errf(err, err_cap, "prepare %s: %s", path, strerror(-rc));
		v->ops->close(v, fd);
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	rc = u64_push(&w->segs, &w->n_segs, &w->cap_segs, first);
	pthread_mutex_unlock(&w->mu);
	if (rc < 0) {
		errf(err, err_cap, "out of memory");
		v->ops->close(v, fd);
		return -1;
	}
	if (w->fd >= 0) {
		/* The old segment is complete: give back its unused tail. */
		if (w->off < w->cap && v->ops->truncate(v, w->fd, (off_t)w->off) == 0 && w->fsync)
			v->ops->sync(v, w->fd, false);
		v->ops->close(v, w->fd);
	}
	w->fd = fd;
	w->off = HF_WAL_SEGMENT_HEADER_BYTES;
	w->cap = cap;
	w->zeroed = zeroed;
	return 0;
}

bool hf_wal_rotates(const struct hf_wal *w, size_t len)
{
	return w->fd < 0 || w->off + len > w->cap ||
	       (!w->zeroed && w->off > HF_WAL_SEGMENT_HEADER_BYTES && atomic_load(&w->spare_ready) &&
		HF_WAL_SEGMENT_HEADER_BYTES + len <= w->segment_bytes);
}

int hf_wal_write(struct hf_wal *w, const uint8_t *buf, size_t len, uint64_t first_seq,
		 uint64_t last_seq, bool may_rotate, char *err, size_t err_cap)
{
	HF_ASSERT(first_seq == w->next_seq && last_seq >= first_seq &&
		  len >= HF_WAL_RECORD_HEADER_BYTES);
	bool must = w->fd < 0 || w->off + len > w->cap;
	HF_ASSERT(!must || may_rotate); /* the caller asked hf_wal_rotates and drained */
	if (may_rotate && hf_wal_rotates(w, len))
		if (segment_create(w, first_seq, len, get_u32(buf + 24), err, err_cap) < 0)
			return -1;
	struct hf_vfs *v = w->vfs;
	size_t done = 0;
	while (done < len) {
		struct iovec iov = {(void *)(buf + done), len - done};
		ssize_t n = v->ops->pwritev(v, w->fd, &iov, 1, (off_t)(w->off + done));
		if (n <= 0) {
			errf(err, err_cap, "write to log segment %020" PRIu64 ": %s", w->segs[w->n_segs - 1],
			     strerror(n < 0 ? (int)-n : EIO));
			return -1;
		}
		done += (size_t)n;
	}
	w->off += len;
	w->next_seq = last_seq + 1;
	return 0;
}

int hf_wal_sync(struct hf_wal *w, uint64_t *sync_us, char *err, size_t err_cap)
{
	*sync_us = 0;
	if (!w->fsync || w->fd < 0)
		return 0;
	uint64_t t0 = mono_us();
	int rc = w->vfs->ops->sync(w->vfs, w->fd, true);
	*sync_us = mono_us() - t0;
	if (rc < 0) {
		errf(err, err_cap, "fdatasync log segment: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

int hf_wal_append(struct hf_wal *w, const uint8_t *buf, size_t len, uint64_t first_seq,
		  uint64_t last_seq, uint64_t *sync_us, char *err, size_t err_cap)
{
	*sync_us = 0;
	if (hf_wal_write(w, buf, len, first_seq, last_seq, true, err, err_cap) < 0)
		return -1;
	return hf_wal_sync(w, sync_us, err, err_cap);
}

int hf_wal_spare_prepare(struct hf_wal *w, char *err, size_t err_cap)
{
	if (atomic_load(&w->spare_ready))
		return 0;
	struct hf_vfs *v = w->vfs;
	char path[PATH_MAX + 64];
	path_of(w->dir, "wal-spare.tmp", path, sizeof path);
	int fd = v->ops->open(v, path, true);
	if (fd < 0) {
		errf(err, err_cap, "create %s: %s", path, strerror(-fd));
		return -1;
	}
	static const uint8_t zero[1 << 16];
	int rc = v->ops->truncate(v, fd, 0);
	for (uint64_t off = 0; rc == 0 && off < w->segment_bytes; off += sizeof zero) {
		size_t n = w->segment_bytes - off < sizeof zero ? (size_t)(w->segment_bytes - off)
								 : sizeof zero;
		rc = hf_vfs_write_all(v, fd, zero, n, (off_t)off);
	}
	if (rc == 0)
		rc = v->ops->sync(v, fd, false);
	v->ops->close(v, fd);
	if (rc < 0) {
		errf(err, err_cap, "write %s: %s", path, strerror(-rc));
		return -1;
	}
	atomic_store(&w->spare_ready, true);
	return 0;
}

bool hf_wal_spare_ready(const struct hf_wal *w)
{
	return atomic_load(&w->spare_ready);
}

uint64_t hf_wal_config_hash(const struct hf_wal *w)
{
	return w->config_hash;
}

struct hf_vfs *hf_wal_vfs(const struct hf_wal *w)
{
	return w->vfs;
}

void hf_wal_close(struct hf_wal *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		/* A clean stop gives back the unused preallocation, so the next
		 * open finds the end of the log without scanning zeros. */
		if (w->vfs->ops->truncate(w->vfs, w->fd, (off_t)w->off) == 0)
			w->vfs->ops->sync(w->vfs, w->fd, false);
		w->vfs->ops->close(w->vfs, w->fd);
	}
	if (w->vfs->ops->unlock_dir)
		w->vfs->ops->unlock_dir(w->vfs);
	pthread_mutex_destroy(&w->mu);
	free(w->segs);
	free(w->snaps);
	free(w);
}

/* ---- snapshots ---------------------------------------------------------- */

void hf_wal_snapshot_path(const struct hf_wal *w, uint64_t seq, bool tmp, char *buf, size_t cap)
{
	char name[64];
	snapshot_name(seq, tmp, name);
	path_of(w->dir, name, buf, cap);
}

void hf_wal_snapshot_header(uint8_t hdr[HF_WAL_SNAPSHOT_HEADER_BYTES], uint64_t seq,
			    int64_t now_ms, uint64_t config_hash, uint32_t body_crc, size_t len)
{
	memset(hdr, 0, HF_WAL_SNAPSHOT_HEADER_BYTES);
	memcpy(hdr, snapshot_magic, 8);
	put_u32(hdr + 8, WAL_VERSION);
	put_u32(hdr + 12, HF_WAL_SNAPSHOT_HEADER_BYTES);
	put_u64(hdr + 16, seq);
	put_u64(hdr + 24, (uint64_t)now_ms);
	put_u64(hdr + 32, len);
	put_u64(hdr + 40, config_hash);
	put_u32(hdr + 48, body_crc);
	put_u32(hdr + 60, hf_crc32c(0, hdr, 60));
}

int hf_wal_snapshot_sync(struct hf_wal *w, uint64_t seq, char *err, size_t err_cap)
{
	struct hf_vfs *v = w->vfs;
	char path[PATH_MAX + 64];
	hf_wal_snapshot_path(w, seq, true, path, sizeof path);
	int fd = v->ops->open(v, path, false);
	int rc = fd < 0 ? fd : v->ops->sync(v, fd, false);
	if (fd >= 0) {
		if (v->real_fds)
			(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		v->ops->close(v, fd);
	}
	if (rc < 0) {
		errf(err, err_cap, "sync %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

int hf_wal_snapshot_write(struct hf_wal *w, uint64_t seq, int64_t now_ms, const uint8_t *body,
			  size_t len, char *err, size_t err_cap)
{
	struct hf_vfs *v = w->vfs;
	char path[PATH_MAX + 64];
	hf_wal_snapshot_path(w, seq, true, path, sizeof path);
	uint8_t hdr[HF_WAL_SNAPSHOT_HEADER_BYTES];
	hf_wal_snapshot_header(hdr, seq, now_ms, w->config_hash, hf_crc32c(0, body, len), len);
	int fd = v->ops->open(v, path, true);
	if (fd < 0) {
		errf(err, err_cap, "create %s: %s", path, strerror(-fd));
		return -1;
	}
	int rc = v->ops->truncate(v, fd, 0);
	if (rc == 0)
		rc = hf_vfs_write_all(v, fd, hdr, sizeof hdr, 0);
	if (rc == 0)
		rc = hf_vfs_write_all(v, fd, body, len, HF_WAL_SNAPSHOT_HEADER_BYTES);
	if (rc == 0)
		rc = v->ops->sync(v, fd, false);
	v->ops->close(v, fd);
	if (rc < 0) {
		errf(err, err_cap, "write %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

int hf_wal_snapshot_install(struct hf_wal *w, uint64_t seq, char *err, size_t err_cap)
{
	struct hf_vfs *v = w->vfs;
	char from[PATH_MAX + 64], to[PATH_MAX + 64], name[64], path[PATH_MAX + 64];
	hf_wal_snapshot_path(w, seq, true, from, sizeof from);
	hf_wal_snapshot_path(w, seq, false, to, sizeof to);
	int rc = v->ops->rename(v, from, to);
	if (rc == 0)
		rc = v->ops->sync_dir(v, w->dir);
	if (rc < 0) {
		errf(err, err_cap, "install %s: %s", to, strerror(-rc));
		return -1;
	}
	/* The new snapshot is durable: older ones and the segments it covers
	 * are garbage. A crash in the middle leaves some of them, which the
	 * next open removes again. The lists change under the lock (the
	 * writer pushes a segment when it rotates); the files go after it:
	 * freeing a large file (an old snapshot is the size of the state)
	 * takes a while, and a rotation must not wait for that. When the list
	 * of names cannot be allocated, nothing goes now; the next install
	 * removes them. */
	pthread_mutex_lock(&w->mu);
	uint32_t old = 0, drop = 0; /* the snaps before seq are a prefix (ascending) */
	while (old < w->n_snaps && w->snaps[old] < seq)
		old++;
	while (drop + 1 < w->n_segs && w->segs[drop + 1] <= seq + 1)
		drop++;
	uint64_t *gone = old + drop ? malloc((old + drop) * sizeof *gone) : NULL;
	if (gone && old) {
		memcpy(gone, w->snaps, old * sizeof *gone);
		memmove(w->snaps, w->snaps + old, (w->n_snaps - old) * sizeof *w->snaps);
		w->n_snaps -= old;
	}
	if (gone && drop) {
		memcpy(gone + old, w->segs, drop * sizeof *gone);
		memmove(w->segs, w->segs + drop, (w->n_segs - drop) * sizeof *w->segs);
		w->n_segs -= drop;
	}
	u64_push(&w->snaps, &w->n_snaps, &w->cap_snaps, seq);
	pthread_mutex_unlock(&w->mu);
	for (uint32_t i = 0; gone && i < old + drop; i++) {
		if (i < old)
			snapshot_name(gone[i], false, name);
		else
			segment_name(gone[i], name);
		path_of(w->dir, name, path, sizeof path);
		v->ops->unlink(v, path);
	}
	free(gone);
	v->ops->sync_dir(v, w->dir);
	return 0;
}

/* ---- recovery ------------------------------------------------------------ */

enum rmode { MODE_OPEN, MODE_CHECK };

/* One pass over a data directory, shared by hf_wal_open (which then cuts
 * a torn tail and starts writing) and hf_wal_check_dir (which only reports). */
struct recover {
	enum rmode mode;
	struct hf_vfs *vfs;
	const char *dir;
	FILE *out;       /* notes */
	bool verbose;    /* check: one line per file */

	bool has_config, has_config_tmp, has_lock, has_spare;
	uint64_t *segs, *snaps, *tmps;
	uint32_t n_segs, cap_segs, n_snaps, cap_snaps, n_tmps, cap_tmps;
	uint32_t n_other;

	struct hf_sm_config cfg;
	uint64_t config_hash;
	struct hf_sm *sm;
	struct hf_reply *reply;
	uint8_t *scratch;
	size_t scratch_cap;

	uint64_t snapshot_seq; /* 0: none */
	uint64_t next_seq;     /* the next record to apply */
	int64_t last_now_ms;
	uint64_t replayed;
	uint64_t scanned;      /* valid records read, covered ones included */

	/* The last segment as found: where its valid records end, whether it
	 * had a torn tail or a torn creation. */
	uint32_t last_index;
	uint64_t last_end;
	uint64_t cut_bytes;
	bool last_torn_creation;

	/* MODE_OPEN: the config the caller asked for, and whether a stored one
	 * that differs may be used (checked before any replay). */
	const struct hf_sm_config *want;
	bool adopt, adopted;
	const struct hf_wal_options *opt; /* MODE_OPEN: the replay hooks */

	char *err;
	size_t err_cap;
};

static void list_cb(void *arg, const char *name)
{
	struct recover *c = arg;
	uint64_t seq;
	if (name_parse(name, "wal-", ".log", &seq))
		u64_push(&c->segs, &c->n_segs, &c->cap_segs, seq);
	else if (name_parse(name, "snap-", ".snap", &seq))
		u64_push(&c->snaps, &c->n_snaps, &c->cap_snaps, seq);
	else if (name_parse(name, "snap-", ".tmp", &seq))
		u64_push(&c->tmps, &c->n_tmps, &c->cap_tmps, seq);
	else if (!strcmp(name, "config"))
		c->has_config = true;
	else if (!strcmp(name, "config.tmp"))
		c->has_config_tmp = true;
	else if (!strcmp(name, "lock"))
		c->has_lock = true;
	else if (!strcmp(name, "wal-spare.tmp"))
		c->has_spare = true;
	else
		c->n_other++;
}

/* Reads a whole file through the vfs. NULL with err on failure. */
static uint8_t *file_read(struct hf_vfs *v, const char *path, size_t *len, char *err, size_t cap)
{
	int fd = v->ops->open(v, path, false);
	if (fd < 0) {
		errf(err, cap, "open %s: %s", path, strerror(-fd));
		return NULL;
	}
	int64_t size = v->ops->size(v, fd);
	if (size < 0) {
		errf(err, cap, "stat %s: %s", path, strerror((int)-size));
		v->ops->close(v, fd);
		return NULL;
	}
	uint8_t *buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		errf(err, cap, "read %s: out of memory (%" PRId64 " bytes)", path, size);
		v->ops->close(v, fd);
		return NULL;
	}
	int rc = hf_vfs_read_all(v, fd, buf, (size_t)size, 0);
	v->ops->close(v, fd);
	if (rc < 0) {
		errf(err, cap, "read %s: %s", path, strerror(-rc));
		free(buf);
		return NULL;
	}
	*len = (size_t)size;
	return buf;
}

/* A whole file for reading: mapped when the vfs can, else read. */
struct view {
	const uint8_t *p;
	size_t len;
	bool mapped;
	struct hf_vfs *v;
};

static int view_open(struct hf_vfs *v, const char *path, struct view *out, char *err, size_t cap)
{
	memset(out, 0, sizeof *out);
	out->v = v;
	if (v->ops->map) {
		int fd = v->ops->open(v, path, false);
		if (fd < 0) {
			errf(err, cap, "open %s: %s", path, strerror(-fd));
			return -1;
		}
		int64_t size = v->ops->size(v, fd);
		const void *m = size > 0 ? v->ops->map(v, fd, (size_t)size) : NULL;
		v->ops->close(v, fd);
		if (m) {
			out->p = m;
			out->len = (size_t)size;
			out->mapped = true;
			return 0;
		}
	}
	uint8_t *b = file_read(v, path, &out->len, err, cap);
	out->p = b;
	return b ? 0 : -1;
}

static void view_close(struct view *w)
{
	if (w->mapped)
		w->v->ops->unmap(w->v, w->p, w->len);
	else
		free((void *)w->p);
	w->p = NULL;
}

static int config_load(struct recover *c)
{
	char path[PATH_MAX + 64];
	path_of(c->dir, "config", path, sizeof path);
	size_t len;
	uint8_t *buf = file_read(c->vfs, path, &len, c->err, c->err_cap);
	if (!buf)
		return -1;
	int rc = config_decode(buf, len, &c->cfg);
	if (rc < 0)
		errf(c->err, c->err_cap, "%s: damaged (bad magic, version or CRC)", path);
	else
		c->config_hash = hf_hash_bytes(buf, len, 0);
	free(buf);
	return rc;
}

/* Loads the newest snapshot whose CRCs hold. Older valid ones are the
 * fallback only when a newer one is damaged. */
static int snapshot_load(struct recover *c)
{
	char name[64], path[PATH_MAX + 64], msg[256];
	if (c->n_snaps)
		qsort(c->snaps, c->n_snaps, sizeof *c->snaps, u64_cmp);
	for (uint32_t k = c->n_snaps; k-- > 0;) {
		uint64_t seq = c->snaps[k];
		snapshot_name(seq, false, name);
		path_of(c->dir, name, path, sizeof path);
		size_t len;
		uint8_t *buf = file_read(c->vfs, path, &len, msg, sizeof msg);
		const char *why = NULL;
		if (!buf)
			why = msg;
		else if (len < HF_WAL_SNAPSHOT_HEADER_BYTES || memcmp(buf, snapshot_magic, 8) ||
			 get_u32(buf + 60) != hf_crc32c(0, buf, 60))
			why = "bad header";
		else if (get_u64(buf + 16) != seq)
			why = "seq in header differs from name";
		else if (get_u64(buf + 40) != c->config_hash)
			why = "written with another config";
		else if (get_u64(buf + 32) != len - HF_WAL_SNAPSHOT_HEADER_BYTES)
			why = "truncated";
		else if (get_u32(buf + 48) !=
			 hf_crc32c(0, buf + HF_WAL_SNAPSHOT_HEADER_BYTES, len - HF_WAL_SNAPSHOT_HEADER_BYTES))
			why = "body CRC mismatch";
		if (!why) {
			if (hf_sm_snapshot_read(c->sm, buf + HF_WAL_SNAPSHOT_HEADER_BYTES,
						len - HF_WAL_SNAPSHOT_HEADER_BYTES, msg, sizeof msg) < 0) {
				/* The sm is unusable after a failed read. */
				errf(c->err, c->err_cap, "%s: the state does not load: %s", path, msg);
				free(buf);
				return -1;
			}
			c->snapshot_seq = seq;
			c->next_seq = seq + 1;
			c->last_now_ms = (int64_t)get_u64(buf + 24);
			if (c->out && c->verbose)
				fprintf(c->out, "snapshot %s: ok, state after record %" PRIu64 ", %zu bytes\n",
					name, seq, len);
			free(buf);
			return 0;
		}
		if (c->out)
			fprintf(c->out, "%ssnapshot %s is damaged (%s); trying an older one\n",
				c->mode == MODE_OPEN ? "holdfast: wal: warning: " : "", name, why);
		free(buf);
	}
	return 0;
}

/* After an invalid record at off (expected seq expect) in the last
 * segment, whose write is at most w_bad_max and at least w_bad_min:
 * -1 damage (a valid record of write w_bad + M or later exists beyond;
 * *bad_seq set), 0 clean end (zeros to the end), 1 torn tail
 * (*nonzero_end: end of the last nonzero byte). */
static int tail_classify(const uint8_t *buf, size_t size, size_t off, uint64_t expect,
			 uint32_t w_bad_max, uint32_t in_flight, uint64_t *bad_seq,
			 size_t *nonzero_end)
{
	size_t end = size;
	while (end >= off + 8 && !memcmp(buf + end - 8, zeros8, 8))
		end -= 8;
	while (end > off && buf[end - 1] == 0)
		end--;
	*nonzero_end = end;
	if (end == off)
		return 0;
	struct rec_view r;
	for (size_t y = off; y + HF_WAL_RECORD_HEADER_BYTES <= end; y += 8) {
		uint64_t seq = get_u64(buf + y + 8);
		if (seq < expect || seq - expect > UINT32_MAX)
			continue;
		if (!record_parse(buf, size, y, &r))
			continue;
		/* mod 2^32: a later write has a small positive distance */
		int32_t d = (int32_t)(r.write_no - w_bad_max);
		if (d >= (int32_t)in_flight) {
			*bad_seq = r.seq;
			return -1;
		}
	}
	return 1;
}

/* Replays segment i: 0 (go on), -1 damage (err). */
static int segment_replay(struct recover *c, uint32_t i)
{
	bool last = i + 1 == c->n_segs;
	uint64_t first = c->segs[i];
	uint64_t limit = last ? UINT64_MAX : c->segs[i + 1] - 1;
	char name[64], path[PATH_MAX + 64];
	segment_name(first, name);
	path_of(c->dir, name, path, sizeof path);
	if (!last && c->segs[i + 1] <= c->next_seq) {
		/* wholly covered by the snapshot: not needed (removed at open) */
		if (c->out && c->verbose)
			fprintf(c->out, "segment %s: covered by the snapshot\n", name);
		return 0;
	}
	if (first > c->next_seq) {
		errf(c->err, c->err_cap,
		     "%s: log gap: records %" PRIu64 "..%" PRIu64 " are missing (no segment holds them)",
		     path, c->next_seq, first - 1);
		return -1;
	}
	struct view view;
	if (view_open(c->vfs, path, &view, c->err, c->err_cap) < 0)
		return -1;
	const uint8_t *buf = view.p;
	size_t size = view.len;
	const uint8_t *h = buf;
	bool hdr_ok = size >= HF_WAL_SEGMENT_HEADER_BYTES && !memcmp(h, segment_magic, 8) &&
		      get_u32(h + 60) == hf_crc32c(0, h, 60);
	if (!hdr_ok) {
		view_close(&view);
		if (last && first >= c->next_seq) {
			/* Created but not yet durable when power went: nothing in it
			 * was ever written to (headers are synced before records). */
			c->last_torn_creation = true;
			c->last_index = i;
			c->last_end = 0;
			if (c->out)
				fprintf(c->out, "%s%s: torn creation (bad header, no records): %s\n",
					c->mode == MODE_OPEN ? "holdfast: wal: " : "", name,
					c->mode == MODE_OPEN ? "removed" : "would be removed at start");
			return 0;
		}
		errf(c->err, c->err_cap, "%s: damaged segment header at offset 0", path);
		return -1;
	}
	if (get_u32(h + 8) != WAL_VERSION || get_u64(h + 16) != first) {
		errf(c->err, c->err_cap, "%s: header names version %u, first seq %" PRIu64, path,
		     get_u32(h + 8), get_u64(h + 16));
		view_close(&view);
		return -1;
	}
	if (get_u64(h + 32) != c->config_hash) {
		view_close(&view);
		errf(c->err, c->err_cap, "%s: written with another sm config than %s/config", path,
		     c->dir);
		return -1;
	}
	size_t off = HF_WAL_SEGMENT_HEADER_BYTES;
	uint64_t expect = first;
	uint64_t in_seg = 0;
	int rc = 0;
	struct rec_view r;
	uint32_t in_flight = get_u32(h + 48);
	/* The bad record's write is at most this (see INVARIANTS). */
	uint32_t w_bad_max = get_u32(h + 44);
	if (in_flight == 0 || in_flight > 1024)
		in_flight = 1024;
	while (expect <= limit) {
		if (!record_parse(buf, size, off, &r) || r.seq != expect) {
			if (!last) {
				errf(c->err, c->err_cap,
				     "%s: damaged record at offset %zu (expected seq %" PRIu64
				     "; the segment is not the last, so this is not a torn write)",
				     path, off, expect);
				rc = -1;
				break;
			}
			uint64_t bad_seq = 0;
			size_t nz_end = 0;
			int k = tail_classify(buf, size, off, expect, w_bad_max, in_flight, &bad_seq,
					      &nz_end);
			if (k < 0) {
				errf(c->err, c->err_cap,
				     "%s: damaged record at offset %zu (expected seq %" PRIu64
				     "), followed by valid record %" PRIu64
				     " of a later write: damage in the middle of the log",
				     path, off, expect, bad_seq);
				rc = -1;
				break;
			}
			if (expect <= c->snapshot_seq) {
				errf(c->err, c->err_cap,
				     "%s: log ends at offset %zu before record %" PRIu64
				     ", which the snapshot %" PRIu64 " says was durable",
				     path, off, expect, c->snapshot_seq);
				rc = -1;
				break;
			}
			if (k == 1) {
				c->cut_bytes = nz_end - off;
				if (c->out)
					fprintf(c->out,
						"%s%s: torn tail at offset %zu: %zu bytes from record %" PRIu64
						" on were never acknowledged; %s\n",
						c->mode == MODE_OPEN ? "holdfast: wal: " : "", name, off,
						nz_end - off, expect,
						c->mode == MODE_OPEN ? "cut off" : "start-up would cut them");
			}
			break;
		}
		if (expect >= c->next_seq) {
			if (r.len > c->scratch_cap / 2) {
				size_t need = hf_cmd_scratch_for(r.len);
				if (need < 2 * (size_t)r.len)
					need = 2 * (size_t)r.len;
				uint8_t *s = realloc(c->scratch, need);
				if (!s) {
					errf(c->err, c->err_cap, "out of memory");
					rc = -1;
					break;
				}
				c->scratch = s;
				c->scratch_cap = need;
			}
			struct hf_cmd cmd;
			int64_t used = hf_cmd_decode(r.payload, r.len, &cmd, c->scratch,
						     c->scratch_cap);
			if (used != (int64_t)r.len) {
				errf(c->err, c->err_cap,
				     "%s: record %" PRIu64 " at offset %zu has a valid CRC but does not decode",
				     path, expect, off);
				rc = -1;
				break;
			}
			const struct hf_wal_options *o = c->opt;
			bool hook = o && o->replay_from && expect >= o->replay_from;
			if (hook && o->replay_before)
				o->replay_before(o->replay_arg, c->sm, r.now_ms);
			hf_sm_apply(c->sm, r.now_ms, &cmd, c->reply);
			if (hook && o->replay_after)
				o->replay_after(o->replay_arg, c->sm, expect, r.now_ms, &cmd, c->reply);
			c->next_seq = expect + 1;
			c->last_now_ms = r.now_ms;
			c->replayed++;
		}
		c->scanned++;
		in_seg++;
		off += r.bytes;
		expect++;
		w_bad_max = r.write_no + 1;
	}
	if (rc == 0 && c->out && c->verbose) {
		if (in_seg)
			fprintf(c->out, "segment %s: %" PRIu64 " records (%" PRIu64 "..%" PRIu64
				"), %zu bytes used\n", name, in_seg, first, expect - 1, off);
		else
			fprintf(c->out, "segment %s: no records yet\n", name);
	}
	if (last) {
		c->last_index = i;
		c->last_end = off;
	}
	view_close(&view);
	return rc;
}

static void recover_free(struct recover *c)
{
	free(c->segs);
	free(c->snaps);
	free(c->tmps);
	free(c->scratch);
	free(c->reply);
}

/* Lists the directory and loads config, snapshot and log into c->sm. */
static int recover_run(struct recover *c)
{
	int rc = c->vfs->ops->list(c->vfs, c->dir, list_cb, c);
	if (rc < 0) {
		errf(c->err, c->err_cap, "list %s: %s", c->dir, strerror(-rc));
		return -1;
	}
	if (c->n_segs)
		qsort(c->segs, c->n_segs, sizeof *c->segs, u64_cmp);
	if (!c->has_config) {
		if (c->n_segs || c->n_snaps) {
			errf(c->err, c->err_cap, "%s/config is missing but the directory has a log", c->dir);
			return -1;
		}
		return 1; /* a new directory */
	}
	if (config_load(c) < 0)
		return -1;
	char msg[256];
	if (c->want && config_diff(&c->cfg, c->want, msg, sizeof msg)) {
		if (!c->adopt) {
			errf(c->err, c->err_cap,
			     "%s holds data made with another sm config (%s); refusing to start "
			     "(allow adopting the stored config to use it)",
			     c->dir, msg);
			return -1;
		}
		c->adopted = true;
		if (c->out)
			fprintf(c->out, "holdfast: wal: using the config stored in %s (%s)\n", c->dir,
				msg);
	}
	c->sm = hf_sm_init(&c->cfg, msg, sizeof msg);
	if (!c->sm) {
		errf(c->err, c->err_cap, "%s/config: the state cannot be made: %s", c->dir, msg);
		return -1;
	}
	c->reply = malloc(sizeof *c->reply);
	if (!c->reply) {
		errf(c->err, c->err_cap, "out of memory");
		return -1;
	}
	c->next_seq = 1;
	if (snapshot_load(c) < 0)
		return -1;
	for (uint32_t i = 0; i < c->n_segs; i++)
		if (segment_replay(c, i) < 0)
			return -1;
	if (c->n_snaps > 0 && c->snapshot_seq == 0 && c->n_segs == 0) {
		/* (with segments, a log not starting at 1 was reported as a gap) */
		errf(c->err, c->err_cap, "%s: every snapshot is damaged and there is no log", c->dir);
		return -1;
	}
	return 0;
}

static int config_create(struct hf_vfs *v, const char *dir, const struct hf_sm_config *cfg,
			 char *err, size_t cap)
{
	uint8_t buf[CONFIG_BYTES];
	config_encode(cfg, buf);
	char tmp[PATH_MAX + 64], path[PATH_MAX + 64];
	path_of(dir, "config.tmp", tmp, sizeof tmp);
	path_of(dir, "config", path, sizeof path);
	int fd = v->ops->open(v, tmp, true);
	if (fd < 0) {
		errf(err, cap, "create %s: %s", tmp, strerror(-fd));
		return -1;
	}
	int rc = v->ops->truncate(v, fd, 0);
	if (rc == 0)
		rc = hf_vfs_write_all(v, fd, buf, sizeof buf, 0);
	if (rc == 0)
		rc = v->ops->sync(v, fd, false);
	v->ops->close(v, fd);
	if (rc == 0)
		rc = v->ops->rename(v, tmp, path);
	if (rc == 0)
		rc = v->ops->sync_dir(v, dir);
	if (rc < 0) {
		errf(err, cap, "write %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

static void parent_dir_sync(struct hf_vfs *v, const char *dir)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof parent, ".");
	else if (slash == parent)
		parent[1] = 0;
	else
		*slash = 0;
	v->ops->sync_dir(v, parent);
}

int hf_wal_open(const struct hf_wal_options *opt, const struct hf_sm_config *want, bool adopt,
		struct hf_wal **out, struct hf_sm **sm_out, struct hf_wal_recovery *rec,
		char *err, size_t err_cap)
{
	struct hf_vfs *v = opt->vfs;
	memset(rec, 0, sizeof *rec);
	*out = NULL;
	*sm_out = NULL;
	if (strlen(opt->dir) + 64 >= PATH_MAX) {
		errf(err, err_cap, "data directory path too long");
		return -1;
	}
	int rc = v->ops->mkdir(v, opt->dir);
	if (rc < 0) {
		errf(err, err_cap, "mkdir %s: %s", opt->dir, strerror(-rc));
		return -1;
	}
	if (v->ops->lock_dir) {
		rc = v->ops->lock_dir(v, opt->dir);
		if (rc < 0) {
			errf(err, err_cap, "%s is in use by another holdfast process (lock: %s)", opt->dir,
			     strerror(-rc));
			return -1;
		}
	}
	struct hf_wal *w = calloc(1, sizeof *w);
	if (!w) {
		errf(err, err_cap, "out of memory");
		if (v->ops->unlock_dir)
			v->ops->unlock_dir(v);
		return -1;
	}
	w->vfs = v;
	snprintf(w->dir, sizeof w->dir, "%s", opt->dir);
	w->fsync = opt->fsync;
	w->segment_bytes = opt->segment_bytes ? opt->segment_bytes : HF_WAL_SEGMENT_BYTES_DEFAULT;
	if (w->segment_bytes < HF_WAL_SEGMENT_BYTES_MIN)
		w->segment_bytes = HF_WAL_SEGMENT_BYTES_MIN;
	w->log = opt->log ? opt->log : stderr;
	w->fd = -1;
	pthread_mutex_init(&w->mu, NULL);

	uint64_t t0 = mono_us();
	struct recover c = {.mode = MODE_OPEN, .vfs = v, .dir = w->dir, .out = w->log,
			    .want = want, .adopt = adopt, .opt = opt, .err = err, .err_cap = err_cap};
	char path[PATH_MAX + 64], name[64];
	rc = recover_run(&c);
	if (rc == 1) {
		/* New directory: the config first, then the first segment. */
		rec->created = true;
		parent_dir_sync(v, w->dir);
		if (config_create(v, w->dir, want, err, err_cap) < 0)
			goto fail;
		uint8_t buf[CONFIG_BYTES];
		config_encode(want, buf);
		w->config_hash = hf_hash_bytes(buf, sizeof buf, 0);
		char msg[256];
		c.sm = hf_sm_init(want, msg, sizeof msg);
		if (!c.sm) {
			errf(err, err_cap, "the state cannot be made: %s", msg);
			goto fail;
		}
		c.next_seq = 1;
		c.n_segs = 0;
	} else if (rc < 0) {
		goto fail;
	} else {
		w->config_hash = c.config_hash;
		rec->config_adopted = c.adopted;
	}
	rec->replay_s = (double)(mono_us() - t0) / 1e6;

	/* Clean up: tmp files, segments wholly covered by the snapshot, and the
	 * tail of the last segment (cut, or just the unused preallocation). */
	for (uint32_t i = 0; i < c.n_tmps; i++) {
		snapshot_name(c.tmps[i], true, name);
		path_of(w->dir, name, path, sizeof path);
		v->ops->unlink(v, path);
	}
	if (c.has_config_tmp) {
		path_of(w->dir, "config.tmp", path, sizeof path);
		v->ops->unlink(v, path);
	}
	if (c.has_spare) {
		path_of(w->dir, "wal-spare.tmp", path, sizeof path);
		v->ops->unlink(v, path);
	}
	uint32_t first_kept = 0;
	while (first_kept + 1 < c.n_segs && c.segs[first_kept + 1] <= c.snapshot_seq + 1) {
		segment_name(c.segs[first_kept], name);
		path_of(w->dir, name, path, sizeof path);
		v->ops->unlink(v, path);
		first_kept++;
	}
	for (uint32_t i = 0; i + 1 < c.n_snaps; i++) {
		if (c.snaps[i] < c.snapshot_seq) {
			snapshot_name(c.snaps[i], false, name);
			path_of(w->dir, name, path, sizeof path);
			v->ops->unlink(v, path);
		}
	}
	if (c.n_segs > 0) {
		uint64_t lfirst = c.segs[c.n_segs - 1];
		segment_name(lfirst, name);
		path_of(w->dir, name, path, sizeof path);
		bool empty = c.last_torn_creation || c.last_end <= HF_WAL_SEGMENT_HEADER_BYTES ||
			     lfirst >= c.next_seq;
		if (empty) {
			/* No record in it: remove (the new segment may take its name). */
			rc = v->ops->unlink(v, path);
			c.n_segs--;
		} else {
			int fd = v->ops->open(v, path, false);
			rc = fd;
			if (fd >= 0) {
				rc = v->ops->truncate(v, fd, (off_t)c.last_end);
				if (rc == 0)
					rc = v->ops->sync(v, fd, false);
				v->ops->close(v, fd);
			}
		}
		if (rc == 0)
			rc = v->ops->sync_dir(v, w->dir);
		if (rc < 0) {
			errf(err, err_cap, "cut %s at offset %" PRIu64 ": %s", path, c.last_end,
			     strerror(-rc));
			goto fail;
		}
	}
	for (uint32_t i = first_kept; i < c.n_segs; i++)
		u64_push(&w->segs, &w->n_segs, &w->cap_segs, c.segs[i]);
	if (c.snapshot_seq)
		u64_push(&w->snaps, &w->n_snaps, &w->cap_snaps, c.snapshot_seq);
	w->next_seq = c.next_seq;
	/* Always start a fresh segment: the old tail may hold garbage that a
	 * new write must never be mistaken to continue. */
	if (segment_create(w, w->next_seq, 0, 1, err, err_cap) < 0)
		goto fail;

	rec->snapshot_seq = c.snapshot_seq;
	rec->replayed = c.replayed;
	rec->last_seq = c.next_seq - 1;
	rec->last_now_ms = c.last_now_ms;
	rec->segments = w->n_segs;
	rec->cut_bytes = c.cut_bytes;
	*sm_out = c.sm;
	c.sm = NULL;
	recover_free(&c);
	*out = w;
	return 0;
fail:
	if (c.sm)
		hf_sm_free(c.sm);
	recover_free(&c);
	hf_wal_close(w);
	return -1;
}

/* ---- check ---------------------------------------------------------------- */

/* Check runs the recovery pass in MODE_CHECK, which writes nothing and
 * takes no lock (a running server's directory can be checked). */
int hf_wal_check_dir(const char *dir, FILE *out)
{
	struct hf_vfs *v = hf_vfs_posix_new();
	if (!v) {
		fprintf(out, "check %s: out of memory\n", dir);
		return 1;
	}
	char err[1024] = "";
	struct recover c = {.mode = MODE_CHECK, .vfs = v, .dir = dir, .out = out, .verbose = true,
			    .err = err, .err_cap = sizeof err};
	uint64_t t0 = mono_us();
	int rc = recover_run(&c);
	int status = 0;
	if (rc == 1) {
		fprintf(out, "%s: no data directory here (no config, no log)\n", dir);
		status = 1;
	} else if (rc < 0) {
		fprintf(out, "DAMAGED: %s\n", err);
		status = 1;
	} else {
		char msg[512];
		int bad = hf_sm_check(c.sm, msg, sizeof msg);
		char snap[96] = "none";
		if (c.snapshot_seq)
			snprintf(snap, sizeof snap, "state after record %" PRIu64, c.snapshot_seq);
		fprintf(out,
			"config: max_events %u, max_seats %u, max_items %u, max_holds %u, max_orders %u\n"
			"snapshot: %s\n"
			"log: %u segments, %" PRIu64 " records read, %" PRIu64 " replayed; last record %" PRIu64
			"\n"
			"tail: %s\n"
			"state: digest %016" PRIx64 ", invariants %s%s\n"
			"checked in %.3f s\n",
			c.cfg.max_events, c.cfg.max_seats, c.cfg.max_items, c.cfg.max_holds,
			c.cfg.max_orders, snap, c.n_segs, c.scanned, c.replayed, c.next_seq - 1,
			c.cut_bytes ? "torn (would be cut at start-up)" : "clean", hf_sm_digest(c.sm),
			bad ? "VIOLATED: " : "hold", bad ? msg : "",
			(double)(mono_us() - t0) / 1e6);
		if (c.n_tmps)
			fprintf(out, "note: %u unfinished snapshot file(s) would be removed at start-up\n",
				c.n_tmps);
		if (bad)
			status = 1;
		fprintf(out, "%s\n", status ? "DAMAGED" : "OK");
	}
	if (c.sm)
		hf_sm_free(c.sm);
	recover_free(&c);
	hf_vfs_posix_free(v);
	return status;
}
