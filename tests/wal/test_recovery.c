/*
 * test_recovery.c: damage on disk. A flipped byte in the middle of the log
 * refuses start-up naming the file and offset (and `check` says DAMAGED); a
 * truncated or garbage tail is cut and the engine starts with the records
 * before it; a damaged record in a segment that is not the last refuses;
 * a missing config with a log refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/embedded.h"
#include "engine/engine.h"
#include "wal/wal.h"
#include "workload.h"
#include "wtest.h"

static void cfg_for(struct hf_engine_config *cfg, const char *dir)
{
	hf_engine_config_default(cfg);
	cfg->data_dir = dir;
	wl_config(&cfg->sm);
	cfg->snapshot_every_s = 0;
	cfg->snapshot_every_records = 0;
	cfg->segment_bytes = 16 << 10;
}

/* n one-record writes (each its own group commit), then a crash-like stop:
 * the directory is copied while the engine runs (no snapshot at close).
 * The writes start once the spare segment is ready: the writer moves to it
 * at the first write after that, so where the segments split must not
 * depend on how fast the spare was zeroed. */
static char *make_log(uint32_t n, uint64_t *digest_out)
{
	char *dir = wt_tmpdir(), *copy = wt_tmpdir();
	struct hf_engine_config cfg;
	cfg_for(&cfg, dir);
	char err[512];
	struct hf_engine *e = hf_engine_open(&cfg, err, sizeof err);
	assert_non_null(e);
	for (int i = 0; i < 10000 && !hf_embedded_spare_ready(e); i++)
		usleep(1000);
	assert_true(hf_embedded_spare_ready(e));
	struct wl w;
	wl_init(&w, 5, 2, 8, 2, 6);
	struct wt_sync *s = malloc(sizeof *s);
	for (uint32_t i = 0; i < n; i++) {
		wt_sync_init(s);
		if (i < wl_setup_count(&w))
			wl_setup_cmd(&w, i, &s->wc);
		else
			wl_random_cmd(&w, &s->wc);
		s->req.cmd = s->wc.cmd;
		wt_submit_wait(e, s);
	}
	free(s);
	(void)digest_out;
	wt_copydir(dir, copy);
	hf_engine_close(e);
	wt_rmtree(dir);
	return copy;
}

/* Path of the i-th segment (sorted by name; negative: from the end, -1
 * the last). */
static void segment_path(const char *dir, int i, char *out, size_t cap)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	int total = 0, k = 0;
	for (int j = 0; j < n; j++)
		total += !strncmp(list[j]->d_name, "wal-", 4) && strcmp(list[j]->d_name, "wal-spare.tmp");
	if (i < 0)
		i += total;
	out[0] = 0;
	for (int j = 0; j < n; j++) {
		if (!strncmp(list[j]->d_name, "wal-", 4) && strcmp(list[j]->d_name, "wal-spare.tmp") &&
		    k++ == i)
			snprintf(out, cap, "%s/%s", dir, list[j]->d_name);
		free(list[j]);
	}
	free(list);
	assert_true(out[0]);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(*len);
	assert_true(fread(b, 1, *len, f) == *len);
	fclose(f);
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_true(fwrite(b, 1, len, f) == len);
	fclose(f);
}

/* Offsets of the records of a segment image; returns the count. */
static uint32_t record_offsets(const uint8_t *b, size_t len, size_t *offs, uint32_t max)
{
	size_t off = HF_WAL_SEGMENT_HEADER_BYTES;
	uint32_t n = 0;
	while (off + 32 <= len && n < max) {
		uint32_t l = (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
			     (uint32_t)b[off + 3] << 24;
		if (l == 0)
			break;
		offs[n++] = off;
		off += hf_wal_record_bytes(l);
	}
	return n;
}

static struct hf_engine *try_open(const char *dir, char *err, size_t cap, struct hf_wal_recovery *rec)
{
	struct hf_engine_config cfg;
	cfg_for(&cfg, dir);
	struct hf_embedded_options opt = {0};
	return hf_embedded_open(&cfg, &opt, rec, err, cap);
}

static void test_flip_mid_log_refuses(void **state)
{
	(void)state;
	char *dir = make_log(40, NULL);
	char path[8192], err[1024] = "";
	segment_path(dir, -1, path, sizeof path);
	size_t len;
	uint8_t *b = slurp(path, &len);
	size_t offs[256];
	uint32_t n = record_offsets(b, len, offs, 256);
	assert_true(n >= 30);
	b[offs[n / 2] + 40] ^= 0x10; /* a payload byte of a record in the middle */
	spit(path, b, len);
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(hf_wal_check_dir(dir, devnull), 1);
	fclose(devnull);
	struct hf_wal_recovery rec;
	assert_null(try_open(dir, err, sizeof err, &rec));
	char where[64];
	snprintf(where, sizeof where, "offset %zu", offs[n / 2]);
	assert_non_null(strstr(err, where));
	assert_non_null(strstr(err, "wal-"));
	free(b);
	wt_rmtree(dir);
}

static void test_truncated_tail_recovers(void **state)
{
	(void)state;
	char *dir = make_log(40, NULL);
	char path[8192], err[1024] = "";
	segment_path(dir, -1, path, sizeof path);
	size_t len;
	uint8_t *b = slurp(path, &len);
	size_t offs[256];
	uint32_t n = record_offsets(b, len, offs, 256);
	/* Cut the file in the middle of the last record (seq 40). */
	assert_true(n >= 2);
	assert_int_equal(truncate(path, (off_t)(offs[n - 1] + 20)), 0);
	struct hf_wal_recovery rec;
	struct hf_engine *e = try_open(dir, err, sizeof err, &rec);
	if (!e)
		fail_msg("%s", err);
	assert_int_equal(rec.last_seq, 39);
	assert_true(rec.cut_bytes > 0);
	hf_engine_close(e);
	/* And again: the cut is durable, the directory is sound. */
	e = try_open(dir, err, sizeof err, &rec);
	assert_non_null(e);
	assert_int_equal(rec.last_seq, 39);
	assert_int_equal(rec.cut_bytes, 0);
	hf_engine_close(e);
	free(b);
	wt_rmtree(dir);
}

static void test_garbage_tail_recovers(void **state)
{
	(void)state;
	char *dir = make_log(30, NULL);
	char path[8192], err[1024] = "";
	segment_path(dir, -1, path, sizeof path);
	size_t len;
	uint8_t *b = slurp(path, &len);
	size_t offs[256];
	uint32_t n = record_offsets(b, len, offs, 256);
	/* The last record's bytes garbled, as a torn write leaves them. */
	for (size_t i = offs[n - 1]; i < offs[n - 1] + 48 && i < len; i++)
		b[i] = (uint8_t)(i * 131 + 7);
	spit(path, b, len);
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(hf_wal_check_dir(dir, devnull), 0);
	fclose(devnull);
	struct hf_wal_recovery rec;
	struct hf_engine *e = try_open(dir, err, sizeof err, &rec);
	if (!e)
		fail_msg("%s", err);
	assert_int_equal(rec.last_seq, 29);
	hf_engine_close(e);
	free(b);
	wt_rmtree(dir);
}

static void test_damage_in_earlier_segment_refuses(void **state)
{
	(void)state;
	char *dir = make_log(300, NULL); /* 16 KiB segments: several */
	char path[8192], err[1024] = "";
	segment_path(dir, -2, path, sizeof path);
	size_t len;
	uint8_t *b = slurp(path, &len);
	size_t offs[512];
	uint32_t n = record_offsets(b, len, offs, 512);
	assert_true(n > 2);
	b[offs[n - 1] + 8] ^= 1; /* the last record of the first segment: its seq */
	spit(path, b, len);
	struct hf_wal_recovery rec;
	assert_null(try_open(dir, err, sizeof err, &rec));
	assert_non_null(strstr(err, "not the last"));
	free(b);
	wt_rmtree(dir);
}

/* A log of n one-record writes numbered 1..n, made through the wal API. */
static char *make_writes(uint32_t n)
{
	char *dir = wt_tmpdir();
	struct hf_vfs *v = hf_vfs_posix_new();
	struct hf_wal_options wo = {.vfs = v, .dir = dir, .fsync = false, .segment_bytes = 1 << 16};
	struct hf_sm_config cfg;
	wl_config(&cfg);
	struct hf_wal *w;
	struct hf_sm *sm;
	struct hf_wal_recovery rec;
	char err[512];
	assert_int_equal(hf_wal_open(&wo, &cfg, false, &w, &sm, &rec, err, sizeof err), 0);
	struct hf_cmd tick;
	memset(&tick, 0, sizeof tick);
	tick.type = HF_CMD_TICK;
	uint8_t rec_buf[256];
	for (uint32_t i = 1; i <= n; i++) {
		size_t len = hf_cmd_encoded_size(&tick);
		assert_true(hf_cmd_encode(&tick, rec_buf + HF_WAL_RECORD_HEADER_BYTES, len) == (int64_t)len);
		size_t bytes = hf_wal_record_seal(rec_buf, (uint32_t)len, i, 1700000000000LL + i, i);
		uint64_t us;
		assert_int_equal(hf_wal_append(w, rec_buf, bytes, i, i, &us, err, sizeof err), 0);
	}
	hf_wal_close(w);
	hf_sm_free(sm);
	hf_vfs_posix_free(v);
	return dir;
}

/* Several writes may be unsynced at once (HF_WAL_WRITES_IN_FLIGHT = M):
 * a bad record followed by valid records of the next M writes is a torn
 * tail; followed by a record M writes after the bad one's, it is damage. */
static void test_tail_rule_with_writes_in_flight(void **state)
{
	(void)state;
	const uint32_t m = HF_WAL_WRITES_IN_FLIGHT, n = m + 2;
	for (uint32_t bad = 2; bad <= n; bad++) {
		char *dir = make_writes(n);
		char path[8192], err[1024] = "";
		segment_path(dir, -1, path, sizeof path);
		size_t len;
		uint8_t *b = slurp(path, &len);
		size_t offs[64];
		assert_int_equal(record_offsets(b, len, offs, 64), n);
		b[offs[bad - 1] + 4] ^= 0xff; /* the CRC of the record of write `bad` */
		spit(path, b, len);
		struct hf_wal_recovery rec;
		struct hf_engine *e = try_open(dir, err, sizeof err, &rec);
		/* The bad record's write is at most bad (P = bad - 1, + 1); the
		 * last write is n: damage iff n - bad >= m. */
		if (n - bad >= m) {
			assert_null(e);
			assert_non_null(strstr(err, "later write"));
		} else {
			if (!e)
				fail_msg("bad write %u of %u: %s", bad, n, err);
			assert_int_equal(rec.last_seq, bad - 1);
			hf_engine_close(e);
		}
		free(b);
		wt_rmtree(dir);
	}
}

static void test_missing_config_refuses(void **state)
{
	(void)state;
	char *dir = make_log(10, NULL);
	char path[8192], err[1024] = "";
	snprintf(path, sizeof path, "%s/config", dir);
	assert_int_equal(unlink(path), 0);
	struct hf_wal_recovery rec;
	assert_null(try_open(dir, err, sizeof err, &rec));
	assert_non_null(strstr(err, "config"));
	wt_rmtree(dir);
}

/* The record decoder: whole, short (-2) at every cut, bad (-1) on any
 * flipped bit of the header, payload or padding. */
static void test_record_decode(void **state)
{
	(void)state;
	struct hf_cmd tick;
	memset(&tick, 0, sizeof tick);
	tick.type = HF_CMD_TICK;
	uint8_t rec[256];
	size_t len = hf_cmd_encoded_size(&tick);
	assert_true(hf_cmd_encode(&tick, rec + HF_WAL_RECORD_HEADER_BYTES, len) == (int64_t)len);
	size_t bytes = hf_wal_record_seal(rec, (uint32_t)len, 77, 1234, 9);
	struct hf_wal_record r;
	assert_int_equal(hf_wal_record_decode(rec, bytes, &r), (int64_t)bytes);
	assert_int_equal(r.seq, 77);
	assert_int_equal(r.now_ms, 1234);
	assert_int_equal(r.write_no, 9);
	assert_int_equal(r.len, len);
	for (size_t cut = 0; cut < bytes; cut++)
		assert_int_equal(hf_wal_record_decode(rec, cut, &r), -2);
	for (size_t i = 0; i < bytes; i++)
		for (int bit = 0; bit < 8; bit++) {
			rec[i] ^= (uint8_t)(1 << bit);
			int64_t n = hf_wal_record_decode(rec, bytes, &r);
			/* a flip in the length field may announce more than there is */
			assert_true(n == -1 || (i < 4 && n == -2));
			rec[i] ^= (uint8_t)(1 << bit);
		}
	memset(rec, 0, sizeof rec);
	assert_int_equal(hf_wal_record_decode(rec, sizeof rec, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flip_mid_log_refuses),
		cmocka_unit_test(test_truncated_tail_recovers),
		cmocka_unit_test(test_garbage_tail_recovers),
		cmocka_unit_test(test_damage_in_earlier_segment_refuses),
		cmocka_unit_test(test_missing_config_refuses),
		cmocka_unit_test(test_tail_rule_with_writes_in_flight),
		cmocka_unit_test(test_record_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
