/*
 * bench_engine.c: measurements of the embedded engine for
 * docs/BENCHMARKS.md ("## Engine"). Three modes:
 *
 *   bench-engine commit [--threads N] [--seconds S] [--fsync always|off] [--dir D]
 *       N submitters, each with one request in flight (a closed loop, as
 *       HTTP clients are), buying 1 unit of a random item among 1000 with
 *       a buy-now order. Prints committed commands/s, records per group
 *       commit, fdatasync p50/p99/max and commit latency p50/p99.
 *   bench-engine recovery [--seats N] [--records N] [--dir D]
 *       Builds a directory of N seats (events of 200,000 seats) and N
 *       buy-now orders of one seat each (fsync off to build), stops
 *       without a snapshot, then times the restart: replay of every record
 *       (commands/s); then restarts from the snapshot written at close.
 *   bench-engine build --dir D [--seats N] [--records N]
 *   bench-engine restart --dir D
 *       The recovery steps apart: build a directory, time one restart.
 *   bench-engine snapshot [--seats N] [--records N] [--threads N] [--dir D]
 *       On that state, under load, asks for 10 snapshots and prints the
 *       sequencer pause of each (fork) and the worst commit latency seen.
 *
 * Owns nothing beyond its run; the directory is a fresh one under $TMPDIR
 * (or /tmp) unless --dir is given, removed at the end.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "engine/embedded.h"
#include "engine/engine.h"

#define EVENT_SEATS 200000u
#define ITEMS 1000u
#define LAT_MAX (1u << 22)

struct opts {
	const char *mode;
	uint32_t threads;
	double seconds;
	bool fsync;
	uint64_t seats, records;
	const char *dir;
	bool sized; /* sm config sized to the run instead of the server's default */
	uint32_t inflight; /* group-commit writes synced at once (0: the engine's) */
};

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* CPU time of the process (all threads), for runs on a shared machine
 * where wall time also measures the neighbours. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static double load1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- a synchronous request ------------------------------------------------ */

struct sreq {
	struct hf_request req;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	char strs[128];
	struct hf_seat_ref seat;
	struct hf_item_ref item;
};

static void sreq_done(struct hf_request *r)
{
	struct sreq *s = (struct sreq *)r;
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void sreq_init(struct sreq *s)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
}

static void sreq_run(struct hf_engine *e, struct sreq *s)
{
	s->done = false;
	s->req.done = sreq_done;
	while (hf_engine_submit(e, &s->req) == HF_ENGINE_FULL)
		usleep(50);
	pthread_mutex_lock(&s->mu);
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	HF_ASSERT(s->req.status == HF_ENGINE_OK);
}

static struct hf_str sprint(char *buf, size_t cap, const char *fmt, uint64_t v)
{
	int n = snprintf(buf, cap, fmt, v);
	return (struct hf_str){buf, (uint32_t)n};
}

/* ---- catalog -------------------------------------------------------------- */

static void make_items(struct hf_engine *e)
{
	struct sreq *s = malloc(sizeof *s);
	sreq_init(s);
	for (uint32_t i = 0; i < ITEMS; i++) {
		memset(&s->req.cmd, 0, sizeof s->req.cmd);
		s->req.cmd.type = HF_CMD_ITEM_CREATE;
		s->req.cmd.admin = true;
		s->req.cmd.u.item_create.id = sprint(s->strs, 32, "I%" PRIu64, i);
		s->req.cmd.u.item_create.name = s->req.cmd.u.item_create.id;
		s->req.cmd.u.item_create.price = 1000;
		s->req.cmd.u.item_create.stock = 1000000000u;
		sreq_run(e, s);
	}
	free(s);
}

static void make_events(struct hf_engine *e, uint64_t seats)
{
	struct hf_seat_spec *specs = calloc(EVENT_SEATS, sizeof *specs);
	char *names = malloc(EVENT_SEATS * 8);
	struct sreq *s = malloc(sizeof *s);
	HF_ASSERT(specs && names && s);
	sreq_init(s);
	for (uint32_t i = 0; i < EVENT_SEATS; i++) {
		specs[i].id = sprint(names + 8 * i, 8, "S%" PRIu64, i);
		specs[i].number = (int32_t)i;
		specs[i].price = 5000;
	}
	for (uint64_t ev = 0; ev * EVENT_SEATS < seats; ev++) {
		uint64_t n = seats - ev * EVENT_SEATS;
		memset(&s->req.cmd, 0, sizeof s->req.cmd);
		s->req.cmd.type = HF_CMD_EVENT_CREATE;
		s->req.cmd.admin = true;
		struct hf_event_create *c = &s->req.cmd.u.event_create;
		c->id = sprint(s->strs, 32, "E%" PRIu64, ev);
		c->name = c->id;
		c->starts_at_ms = 1900000000000LL;
		c->n_seats = (uint32_t)(n < EVENT_SEATS ? n : EVENT_SEATS);
		c->seats = specs;
		sreq_run(e, s);
		HF_ASSERT(s->req.reply.result == HF_OK);
	}
	free(specs);
	free(names);
	free(s);
}

/* ---- submitters ------------------------------------------------------------- */

enum load { LOAD_ITEMS, LOAD_SEATS };

struct worker {
	pthread_t t;
	struct hf_engine *e;
	enum load load;
	uint32_t id, n_workers;
	uint64_t from, to;          /* LOAD_SEATS: global seat numbers [from, to) */
	atomic_bool *stop;
	uint64_t done;
	uint32_t *lat_us;           /* LOAD_ITEMS: one per request */
	uint64_t n_lat;
	uint64_t lat_max_us;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sreq *s = malloc(sizeof *s);
	HF_ASSERT(s);
	sreq_init(s);
	uint64_t rng = 12345 + w->id;
	uint64_t seat = w->from;
	for (;;) {
		if (w->load == LOAD_SEATS ? seat >= w->to : atomic_load(w->stop))
			break;
		memset(&s->req.cmd, 0, sizeof s->req.cmd);
		struct hf_cmd *c = &s->req.cmd;
		c->type = HF_CMD_ORDER_CREATE;
		c->customer = sprint(s->strs, 32, "C%" PRIu64, rng_next(&rng) % 1000);
		if (w->load == LOAD_ITEMS) {
			s->item.item = sprint(s->strs + 32, 32, "I%" PRIu64, rng_next(&rng) % ITEMS);
			s->item.quantity = 1;
			c->u.lines.n_items = 1;
			c->u.lines.items = &s->item;
		} else {
			s->seat.event = sprint(s->strs + 32, 32, "E%" PRIu64, seat / EVENT_SEATS);
			s->seat.seat = sprint(s->strs + 64, 32, "S%" PRIu64, seat % EVENT_SEATS);
			c->u.lines.n_seats = 1;
			c->u.lines.seats = &s->seat;
			seat++;
		}
		uint64_t t0 = mono_us();
		sreq_run(w->e, s);
		uint64_t lat = mono_us() - t0;
		if (lat > w->lat_max_us)
			w->lat_max_us = lat;
		if (w->lat_us && w->n_lat < LAT_MAX / w->n_workers)
			w->lat_us[w->n_lat++] = (uint32_t)lat;
		w->done++;
	}
	free(s);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* fdatasync times, from the writer thread. */
static uint64_t *sync_us;
static uint64_t n_sync, cap_sync, sync_records;

static void on_sync(void *arg, uint64_t us, uint32_t records)
{
	(void)arg;
	if (n_sync < cap_sync)
		sync_us[n_sync++] = us;
	sync_records += records;
}

static struct hf_engine *open_engine(const struct opts *o, const char *dir, bool fsync,
				     bool snapshot_at_close, struct hf_wal_recovery *rec)
{
	struct hf_engine_config cfg;
	hf_engine_config_default(&cfg);
	cfg.data_dir = dir;
	cfg.fsync = fsync ? HF_FSYNC_ALWAYS : HF_FSYNC_OFF;
	cfg.snapshot_every_s = 0;
	cfg.snapshot_every_records = 0;
	cfg.queue_max = 65536;
	cfg.adopt_stored_config = true; /* restart: whatever the directory was built with */
	if (o->seats > 4000000)
		cfg.sm.max_seats = (uint32_t)o->seats;
	if (o->records > 4000000)
		cfg.sm.max_orders = (uint32_t)o->records;
	if (o->sized) {
		/* Capacities of this run (plus room), not the server's defaults:
		 * what a replay costs when the tables fit the data. */
		cfg.sm.max_events = 64;
		cfg.sm.max_seats = (uint32_t)(o->seats + 1024);
		cfg.sm.max_items = 2 * ITEMS;
		cfg.sm.max_customers = 4096;
		cfg.sm.max_holds = 65536;
		cfg.sm.max_orders = (uint32_t)(o->records + 65536);
		cfg.sm.max_lines = 2 * cfg.sm.max_orders;
		cfg.sm.string_bytes = (uint32_t)(16 * o->seats + (1u << 20));
		cfg.sm.idem_entries = 1024;
		cfg.sm.idem_bytes = 1u << 20;
	}
	struct hf_embedded_options opt = {.on_sync = on_sync,
					  .no_snapshot_at_close = !snapshot_at_close,
					  .writes_in_flight = o->inflight};
	char err[1024];
	struct hf_engine *e = hf_embedded_open(&cfg, &opt, rec, err, sizeof err);
	if (!e) {
		fprintf(stderr, "bench-engine: open %s: %s\n", dir, err);
		exit(1);
	}
	return e;
}

static int rm_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st, (void)fl, (void)f;
	return remove(p);
}

static char *fresh_dir(const struct opts *o)
{
	char *d = malloc(4096);
	HF_ASSERT(d);
	if (o->dir) {
		snprintf(d, 4096, "%s", o->dir);
		nftw(d, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		return d;
	}
	const char *t = getenv("TMPDIR");
	snprintf(d, 4096, "%s/bench-engine-XXXXXX", t && *t ? t : "/tmp");
	HF_ASSERT(mkdtemp(d));
	return d;
}

/* ---- modes ----------------------------------------------------------------- */

static int mode_commit(const struct opts *o)
{
	char *dir = fresh_dir(o);
	struct hf_wal_recovery rec;
	struct hf_engine *e = open_engine(o, dir, o->fsync, false, &rec);
	make_items(e);
	cap_sync = 1 << 22;
	sync_us = malloc(cap_sync * sizeof *sync_us);
	n_sync = sync_records = 0;
	atomic_bool stop = false;
	struct worker *ws = calloc(o->threads, sizeof *ws);
	uint32_t *lat = malloc(LAT_MAX * sizeof *lat);
	HF_ASSERT(ws && lat && sync_us);
	struct hf_engine_stats st0, st1;
	hf_engine_stats(e, &st0);
	uint64_t t0 = mono_us();
	for (uint32_t i = 0; i < o->threads; i++) {
		ws[i] = (struct worker){.e = e, .load = LOAD_ITEMS, .id = i, .n_workers = o->threads,
					.stop = &stop, .lat_us = lat + (size_t)i * (LAT_MAX / o->threads)};
		pthread_create(&ws[i].t, NULL, worker_main, &ws[i]);
	}
	usleep((useconds_t)(o->seconds * 1e6));
	atomic_store(&stop, true);
	uint64_t done = 0, n_lat = 0;
	for (uint32_t i = 0; i < o->threads; i++) {
		pthread_join(ws[i].t, NULL);
		done += ws[i].done;
	}
	double secs = (double)(mono_us() - t0) / 1e6;
	hf_engine_stats(e, &st1);
	for (uint32_t i = 0; i < o->threads; i++) {
		memmove(lat + n_lat, ws[i].lat_us, ws[i].n_lat * sizeof *lat);
		n_lat += ws[i].n_lat;
	}
	qsort(lat, n_lat, sizeof *lat, cmp_u32);
	uint64_t batches = st1.batches - st0.batches, records = st1.records - st0.records;
	printf("commit: fsync %s, %u submitters, %u syncs in flight, %.1f s: %.0f committed "
	       "commands/s, %.1f records per group commit",
	       o->fsync ? "always" : "off", o->threads, o->inflight ? o->inflight : 1,
	       secs, (double)done / secs,
	       batches ? (double)records / (double)batches : 0.0);
	if (o->fsync && n_sync) {
		qsort(sync_us, n_sync, sizeof *sync_us, cmp_u64);
		printf(", fdatasync p50 %" PRIu64 " us p99 %" PRIu64 " us max %" PRIu64 " us",
		       sync_us[n_sync / 2], sync_us[n_sync * 99 / 100], sync_us[n_sync - 1]);
	}
	if (n_lat)
		printf(", commit latency p50 %u us p99 %u us", lat[n_lat / 2], lat[n_lat * 99 / 100]);
	printf(" (load average %.1f)\n", load1());
	hf_engine_close(e);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	free(ws);
	free(lat);
	free(sync_us);
	return 0;
}

/* Seats and one order per seat (up to records), fsync off, no snapshot. */
static void build_state(const struct opts *o, const char *dir, uint32_t threads)
{
	struct hf_wal_recovery rec;
	struct hf_engine *e = open_engine(o, dir, false, false, &rec);
	uint64_t t0 = mono_us();
	make_events(e, o->seats);
	uint64_t orders = o->records < o->seats ? o->records : o->seats;
	struct worker *ws = calloc(threads, sizeof *ws);
	atomic_bool stop = false;
	for (uint32_t i = 0; i < threads; i++) {
		ws[i] = (struct worker){.e = e, .load = LOAD_SEATS, .id = i, .n_workers = threads,
					.stop = &stop, .from = orders * i / threads,
					.to = orders * (i + 1) / threads};
		pthread_create(&ws[i].t, NULL, worker_main, &ws[i]);
	}
	for (uint32_t i = 0; i < threads; i++)
		pthread_join(ws[i].t, NULL);
	free(ws);
	struct hf_engine_stats st;
	hf_engine_stats(e, &st);
	printf("built: %" PRIu64 " seats, %" PRIu64 " records in %.1f s\n", o->seats, st.records,
	       (double)(mono_us() - t0) / 1e6);
	hf_engine_close(e);
}

static int mode_recovery(const struct opts *o)
{
	char *dir = fresh_dir(o);
	build_state(o, dir, 16);
	struct hf_wal_recovery rec;
	uint64_t t0 = mono_us();
	struct hf_engine *e = open_engine(o, dir, true, true, &rec);
	double open_s = (double)(mono_us() - t0) / 1e6;
	printf("restart from the log: %.2f s (%" PRIu64 " records replayed in %.2f s: %.0f commands/s)\n",
	       open_s, rec.replayed, rec.replay_s, (double)rec.replayed / rec.replay_s);
	hf_engine_close(e); /* writes a snapshot */
	t0 = mono_us();
	e = open_engine(o, dir, true, false, &rec);
	open_s = (double)(mono_us() - t0) / 1e6;
	printf("restart from the snapshot: %.2f s (snapshot of record %" PRIu64 ", %" PRIu64
	       " replayed)\n", open_s, rec.snapshot_seq, rec.replayed);
	hf_engine_close(e);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	return 0;
}

/* Times one open of an existing directory (no snapshot at close). */
static int mode_restart(const struct opts *o)
{
	if (!o->dir)
		return fprintf(stderr, "bench-engine restart: --dir is required\n"), 2;
	struct hf_wal_recovery rec;
	uint64_t t0 = mono_us();
	double c0 = cpu_s();
	struct hf_engine *e = open_engine(o, o->dir, true, false, &rec);
	double cpu = cpu_s() - c0;
	printf("restart: %.2f s wall, %.2f s CPU (snapshot of record %" PRIu64 ", %" PRIu64
	       " records replayed in %.2f s: %.0f commands/s wall, %.0f per CPU-second; "
	       "load average %.1f)\n",
	       (double)(mono_us() - t0) / 1e6, cpu, rec.snapshot_seq, rec.replayed, rec.replay_s,
	       (double)rec.replayed / rec.replay_s, (double)rec.replayed / cpu, load1());
	hf_engine_close(e);
	return 0;
}

/* Builds a directory (see recovery) and leaves it at --dir. */
static int mode_build(const struct opts *o)
{
	if (!o->dir)
		return fprintf(stderr, "bench-engine build: --dir is required\n"), 2;
	char *dir = fresh_dir(o);
	build_state(o, dir, 16);
	free(dir);
	return 0;
}

static int mode_snapshot(const struct opts *o)
{
	char *dir = fresh_dir(o);
	struct opts o2 = *o;
	build_state(&o2, dir, 16);
	struct hf_wal_recovery rec;
	struct hf_engine *e = open_engine(o, dir, true, false, &rec);
	make_items(e);
	atomic_bool stop = false;
	struct worker *ws = calloc(o->threads, sizeof *ws);
	for (uint32_t i = 0; i < o->threads; i++) {
		ws[i] = (struct worker){.e = e, .load = LOAD_ITEMS, .id = i, .n_workers = o->threads,
					.stop = &stop};
		pthread_create(&ws[i].t, NULL, worker_main, &ws[i]);
	}
	usleep(300000);
	uint64_t pauses[10];
	struct hf_engine_stats st;
	for (int k = 0; k < 10; k++) {
		hf_engine_stats(e, &st);
		uint64_t before = st.snapshots;
		hf_embedded_snapshot_request(e);
		do {
			usleep(20000);
			hf_engine_stats(e, &st);
		} while (st.snapshots == before);
		pauses[k] = st.snapshot_pause_us_last;
	}
	atomic_store(&stop, true);
	uint64_t lat_max = 0;
	for (uint32_t i = 0; i < o->threads; i++) {
		pthread_join(ws[i].t, NULL);
		if (ws[i].lat_max_us > lat_max)
			lat_max = ws[i].lat_max_us;
	}
	qsort(pauses, 10, sizeof *pauses, cmp_u64);
	printf("snapshot under load (%u submitters), state of %" PRIu64 " seats + %" PRIu64
	       " orders: sequencer pause (fork) median %" PRIu64 " us, max %" PRIu64
	       " us; worst commit latency meanwhile %" PRIu64 " us\n",
	       o->threads, o->seats, o->records, pauses[5], pauses[9], lat_max);
	hf_engine_close(e);
	free(ws);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	return 0;
}

/* Options. Columns: flag, what it sets. */
static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.mode = argc > 1 ? argv[1] : "commit", .threads = 64, .seconds = 5,
			   .fsync = true, .seats = 1000000, .records = 1000000};
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--threads"))
			o->threads = (uint32_t)atoi(v);
		else if (!strcmp(k, "--seconds"))
			o->seconds = atof(v);
		else if (!strcmp(k, "--fsync"))
			o->fsync = strcmp(v, "off") != 0;
		else if (!strcmp(k, "--seats"))
			o->seats = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--records"))
			o->records = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--dir"))
			o->dir = v;
		else if (!strcmp(k, "--inflight"))
			o->inflight = (uint32_t)atoi(v);
		else if (!strcmp(k, "--sized"))
			o->sized = !strcmp(v, "yes");
		else
			return -1;
	}
	return o->threads ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-engine commit|recovery|snapshot [--threads N] "
				"[--seconds S] [--fsync always|off] [--seats N] [--records N] [--dir D] [--sized yes|no] [--inflight N]\n");
		return 2;
	}
	if (!strcmp(o.mode, "commit"))
		return mode_commit(&o);
	if (!strcmp(o.mode, "recovery"))
		return mode_recovery(&o);
	if (!strcmp(o.mode, "snapshot"))
		return mode_snapshot(&o);
	if (!strcmp(o.mode, "build"))
		return mode_build(&o);
	if (!strcmp(o.mode, "restart"))
		return mode_restart(&o);
	fprintf(stderr, "bench-engine: unknown mode %s\n", o.mode);
	return 2;
}
