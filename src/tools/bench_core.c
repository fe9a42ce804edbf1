/*
 * bench_core.c: in-process speed and memory of the core state machine,
 * one thread, no I/O (docs/BENCHMARKS.md, "Core").
 *
 *   bench-core [--runs N] [--quick] [--only hot|seats|best|expire|memory]
 *
 * Workloads (each reported as the median of N runs, commands per second):
 *   hot     hold 1 unit of one item, then confirm it (2 commands per sale)
 *   seats   3 random seats of a 10,000-seat event: hold, then release
 *   best    best available (2 to 4 seats) on a 10,000-seat and a
 *           200,000-seat event in rows of 50, kept about 85% full (each
 *           new hold beyond that releases the oldest); and the worst
 *           case, every row full but the last
 *   expire  1,000,000 active holds, then one TICK that expires them all
 * Memory: resident bytes per seat (1,000,000 seats in 100 events) and per
 * active hold (1,000,000 holds of 1 item line), from /proc/self/statm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sm.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, rss = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

/* String pool bytes per seat: 4 where seat ids repeat across events; the
 * stadium's ids ("3999-50", "S199", "R3999") are distinct. */
static uint32_t string_bytes_per_seat = 4;

/* A state sized for the workload, as an operator would configure it. */
static struct hf_sm *sm_new(uint32_t seats, uint32_t holds)
{
	struct hf_sm_config cfg;
	hf_sm_config_default(&cfg);
	cfg.max_seats = seats;
	cfg.max_holds = holds;
	cfg.max_orders = 4000000;
	cfg.max_lines = 4 * holds + 4000000;
	cfg.max_customers = holds / 16 + 1024;
	cfg.max_events = 1024;
	cfg.max_items = 1024;
	cfg.string_bytes = string_bytes_per_seat * seats + (1u << 20);
	cfg.idem_entries = 1024;
	cfg.idem_bytes = 1u << 20;
	char err[256];
	struct hf_sm *sm = hf_sm_init(&cfg, err, sizeof(err));
	if (!sm) {
		fprintf(stderr, "bench-core: %s\n", err);
		exit(1);
	}
	return sm;
}

static void must(const struct hf_reply *r, const char *what)
{
	if (r->result != HF_OK) {
		fprintf(stderr, "bench-core: %s refused: %s\n", what, hf_result_name(r->result));
		exit(1);
	}
}

static void event_create(struct hf_sm *sm, const char *id, uint32_t n, int64_t now)
{
	struct hf_seat_spec *seats = calloc(n, sizeof(*seats));
	char *names = malloc((size_t)n * 16);
	for (uint32_t i = 0; i < n; i++) {
		char *s = names + (size_t)i * 16;
		snprintf(s, 16, "%c-%u", 'A' + (char)(i / 1000 % 26), i % 1000 + i / 26000 * 1000);
		seats[i].id = hf_str_c(s);
		seats[i].section = hf_str_c("Floor");
		seats[i].row = hf_str_c("R");
		seats[i].number = (int32_t)i;
		seats[i].price = 5000;
	}
	struct hf_cmd c = {.type = HF_CMD_EVENT_CREATE, .admin = true};
	c.u.event_create.id = hf_str_c(id);
	c.u.event_create.name = hf_str_c("Benchmark show");
	c.u.event_create.n_seats = n;
	c.u.event_create.seats = seats;
	static struct hf_reply r;
	hf_sm_apply(sm, now, &c, &r);
	must(&r, "event create");
	free(seats);
	free(names);
}

static void item_create(struct hf_sm *sm, const char *id, uint32_t stock, int64_t now)
{
	struct hf_cmd c = {.type = HF_CMD_ITEM_CREATE, .admin = true};
	c.u.item_create.id = hf_str_c(id);
	c.u.item_create.name = hf_str_c("Benchmark item");
	c.u.item_create.price = 1999;
	c.u.item_create.stock = stock;
	static struct hf_reply r;
	hf_sm_apply(sm, now, &c, &r);
	must(&r, "item create");
}

static struct hf_reply reply; /* large: keep it off the stack */

/* An event of n seats in rows of 50 ("R<row>", numbers 1..50), 20 rows
 * to a section, listed front row first. */
static void event_rows(struct hf_sm *sm, const char *id, uint32_t n, int64_t now)
{
	struct hf_seat_spec *seats = calloc(n, sizeof(*seats));
	char *names = malloc((size_t)n * 48);
	for (uint32_t i = 0; i < n; i++) {
		char *s = names + (size_t)i * 48;
		uint32_t row = i / 50;
		snprintf(s, 16, "%u-%u", row, i % 50 + 1);
		snprintf(s + 16, 16, "S%u", row / 20);
		snprintf(s + 32, 16, "R%u", row);
		seats[i].id = hf_str_c(s);
		seats[i].section = hf_str_c(s + 16);
		seats[i].row = hf_str_c(s + 32);
		seats[i].number = (int32_t)(i % 50 + 1);
		seats[i].price = row < 100 ? 9000 : 5000;
	}
	struct hf_cmd c = {.type = HF_CMD_EVENT_CREATE, .admin = true};
	c.u.event_create.id = hf_str_c(id);
	c.u.event_create.name = hf_str_c("Benchmark stadium");
	c.u.event_create.n_seats = n;
	c.u.event_create.seats = seats;
	hf_sm_apply(sm, now, &c, &reply);
	must(&reply, "event create");
	free(seats);
	free(names);
}

/* (d) best available of 2-4 seats on an event of n seats kept ~85% held:
 * commands (holds and releases) per second over `holds` holds; *ok_out the
 * holds that got seats, *together_out those side by side. */
static double bench_best(uint32_t n, uint32_t holds, uint64_t *ok_out, uint64_t *together_out,
			 double *first_ms)
{
	uint32_t keep = (uint32_t)(0.85 * n / 3); /* 3 seats a hold on average */
	struct hf_sm *sm = sm_new(n, keep + 1024);
	event_rows(sm, "stadium", n, 1);
	uint64_t *ring = calloc(keep, sizeof(*ring));
	uint32_t head = 0, used = 0;
	struct hf_cmd hold = {.type = HF_CMD_HOLD_CREATE};
	hold.u.lines.ttl_s = 3600;
	hold.u.lines.best.event = hf_str_c("stadium");
	struct hf_cmd release = {.type = HF_CMD_HOLD_RELEASE, .admin = true};
	char cust[32];
	uint64_t x = 88172645463325252ull, commands = 0, ok = 0, together = 0;
	double t0 = now_s();
	for (uint32_t i = 0; i < holds; i++) {
		if (i == 1) { /* the first choice lays out the rows and builds the trees */
			*first_ms = (now_s() - t0) * 1e3;
			t0 = now_s();
			commands = 0;
		}
		if (used == keep) {
			release.u.hold_op.hold = ring[head];
			hf_sm_apply(sm, 1000, &release, &reply);
			must(&reply, "best release");
			commands++;
			head = (head + 1) % keep;
			used--;
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		hold.u.lines.best.count = 2 + (uint32_t)(x % 3);
		snprintf(cust, sizeof(cust), "c%u", i % (keep / 16 + 1)); /* ~16 active holds each */
		hold.customer = hf_str_c(cust);
		hf_sm_apply(sm, 1000, &hold, &reply);
		commands++;
		if (reply.result != HF_OK)
			continue;
		ok++;
		together += reply.together;
		ring[(head + used) % keep] = reply.booking.id;
		used++;
	}
	double dt = now_s() - t0;
	*ok_out = ok;
	*together_out = together;
	free(ring);
	hf_sm_free(sm);
	return (double)commands / dt;
}

/* (e) the worst case of the row scan: every row full but the last, and a
 * group of 2 that fits only there; hold then release. */
static double bench_best_last_row(uint32_t n, uint32_t attempts)
{
	struct hf_sm *sm = sm_new(n, 1024);
	event_rows(sm, "stadium", n, 1);
	struct hf_seat_ref *refs = calloc(100, sizeof(*refs));
	char *names = malloc(100 * 16);
	struct hf_cmd buy = {.type = HF_CMD_ORDER_CREATE, .customer = hf_str_c("house")};
	buy.u.lines.seats = refs;
	uint32_t full = n / 50 - 1; /* rows sold, two an order */
	for (uint32_t row = 0; row < full; row += 2) {
		uint32_t k_max = row + 1 < full ? 100 : 50;
		for (uint32_t k = 0; k < k_max; k++) {
			snprintf(names + k * 16, 16, "%u-%u", row + k / 50, k % 50 + 1);
			refs[k] = (struct hf_seat_ref){hf_str_c("stadium"), hf_str_c(names + k * 16)};
		}
		buy.u.lines.n_seats = k_max;
		hf_sm_apply(sm, 1000, &buy, &reply);
		must(&reply, "fill");
	}
	struct hf_cmd hold = {.type = HF_CMD_HOLD_CREATE, .customer = hf_str_c("late")};
	hold.u.lines.best = (struct hf_best){hf_str_c("stadium"), {0}, {0}, 2};
	struct hf_cmd release = {.type = HF_CMD_HOLD_RELEASE, .customer = hf_str_c("late")};
	hf_sm_apply(sm, 1000, &hold, &reply); /* the first choice builds the index */
	must(&reply, "last-row hold");
	release.u.hold_op.hold = reply.booking.id;
	hf_sm_apply(sm, 1000, &release, &reply);
	double t0 = now_s();
	for (uint32_t i = 0; i < attempts; i++) {
		hf_sm_apply(sm, 1000, &hold, &reply);
		must(&reply, "last-row hold");
		if (!reply.together) {
			fprintf(stderr, "bench-core: the last row should hold 2 together\n");
			exit(1);
		}
		release.u.hold_op.hold = reply.booking.id;
		hf_sm_apply(sm, 1000, &release, &reply);
		must(&reply, "last-row release");
	}
	double dt = now_s() - t0;
	free(refs);
	free(names);
	hf_sm_free(sm);
	return 2.0 * attempts / dt;
}

/* (a) hot item: hold 1 unit, confirm; returns commands per second. */
static double bench_hot(uint32_t sales)
{
	struct hf_sm *sm = sm_new(16, 1024);
	item_create(sm, "hot", 2000000000u, 1);
	struct hf_item_ref line = {hf_str_c("hot"), 1, false};
	struct hf_cmd hold = {.type = HF_CMD_HOLD_CREATE, .customer = hf_str_c("alice")};
	hold.u.lines.n_items = 1;
	hold.u.lines.items = &line;
	struct hf_cmd confirm = {.type = HF_CMD_HOLD_CONFIRM, .customer = hf_str_c("alice")};
	double t0 = now_s();
	for (uint32_t i = 0; i < sales; i++) {
		int64_t now = 1000 + i / 1000;
		hf_sm_apply(sm, now, &hold, &reply);
		must(&reply, "hot hold");
		confirm.u.hold_op.hold = reply.booking.id;
		hf_sm_apply(sm, now, &confirm, &reply);
		must(&reply, "hot confirm");
	}
	double dt = now_s() - t0;
	hf_sm_free(sm);
	return 2.0 * sales / dt;
}

/* (b) 3 random seats of 10,000: hold, then release when it succeeded. */
static double bench_seats(uint32_t attempts, uint64_t *ok_out)
{
	struct hf_sm *sm = sm_new(10000, 4096);
	event_create(sm, "show", 10000, 1);
	struct hf_event_info info;
	hf_sm_event_info(sm, 0, &info);
	struct hf_str *names = calloc(10000, sizeof(*names));
	for (uint32_t i = 0; i < 10000; i++)
		names[i] = hf_sm_seat_id(sm, info.first_seat + i, NULL);
	struct hf_seat_ref refs[3];
	struct hf_cmd hold = {.type = HF_CMD_HOLD_CREATE, .customer = hf_str_c("bob")};
	hold.u.lines.n_seats = 3;
	hold.u.lines.seats = refs;
	struct hf_cmd release = {.type = HF_CMD_HOLD_RELEASE, .customer = hf_str_c("bob")};
	uint64_t x = 88172645463325252ull, commands = 0, ok = 0;
	double t0 = now_s();
	for (uint32_t i = 0; i < attempts; i++) {
		for (int k = 0; k < 3; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			refs[k].event = hf_str_c("show");
			refs[k].seat = names[(k * 3333 + x % 3333) % 10000]; /* distinct */
		}
		hf_sm_apply(sm, 1000, &hold, &reply);
		commands++;
		if (reply.result == HF_OK) {
			ok++;
			release.u.hold_op.hold = reply.booking.id;
			hf_sm_apply(sm, 1000, &release, &reply);
			must(&reply, "seats release");
			commands++;
		}
	}
	double dt = now_s() - t0;
	*ok_out = ok;
	free(names);
	hf_sm_free(sm);
	return (double)commands / dt;
}

/* (c) n active holds of 1 unit (32 per customer), then one TICK expiring
 * them all. Returns holds expired per second; *bytes_per_hold the resident
 * memory the holds added. */
static double bench_expire(uint32_t n, double *bytes_per_hold)
{
	struct hf_sm *sm = sm_new(16, n);
	item_create(sm, "thing", 2000000000u, 1);
	struct hf_item_ref line = {hf_str_c("thing"), 1, false};
	struct hf_cmd hold = {.type = HF_CMD_HOLD_CREATE};
	hold.u.lines.n_items = 1;
	hold.u.lines.items = &line;
	char cust[32];
	size_t rss0 = rss_bytes();
	for (uint32_t i = 0; i < n; i++) {
		snprintf(cust, sizeof(cust), "c%u", i / 32);
		hold.customer = hf_str_c(cust);
		hf_sm_apply(sm, 1000 + i / 1000, &hold, &reply);
		must(&reply, "expire hold");
	}
	*bytes_per_hold = (double)(rss_bytes() - rss0) / n;
	struct hf_cmd tick = {.type = HF_CMD_TICK};
	double t0 = now_s();
	hf_sm_apply(sm, 1000 + n / 1000 + 3600 * 1000, &tick, &reply);
	double dt = now_s() - t0;
	struct hf_sm_stats st;
	hf_sm_stats(sm, &st);
	if (st.holds_active != 0 || st.holds_expired_total != n) {
		fprintf(stderr, "bench-core: expiry left %u active holds\n", st.holds_active);
		exit(1);
	}
	hf_sm_free(sm);
	return n / dt;
}

/* Resident bytes per seat: 1,000,000 seats in 100 events of 10,000. */
static double seat_bytes(void)
{
	size_t rss0 = rss_bytes();
	struct hf_sm *sm = sm_new(1000000, 16);
	char id[16];
	for (int e = 0; e < 100; e++) {
		snprintf(id, sizeof(id), "show-%d", e);
		event_create(sm, id, 10000, 1);
	}
	double per = (double)(rss_bytes() - rss0) / 1e6;
	hf_sm_free(sm);
	return per;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int runs = 5;
	bool quick = false;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			quick = true;
		else {
			fprintf(stderr, "usage: bench-core [--runs N] [--quick] [--only hot|seats|best|expire|memory]\n");
			return 2;
		}
	}
#define WANT(name) (!only || !strcmp(only, name))
	if (runs < 1 || runs > 99)
		runs = 5;
	uint32_t scale = quick ? 10 : 1;
	double hot[99], seats[99], expire[99], hold_bytes[99];
	double best10k[99], best200k[99], last10k[99], last200k[99], first10k[99], first200k[99];
	uint64_t seats_ok = 0, b10_ok = 0, b10_tog = 0, b200_ok = 0, b200_tog = 0;
	for (int r = 0; r < runs; r++) {
		if (WANT("hot"))
			hot[r] = bench_hot(2000000 / scale);
		if (WANT("seats"))
			seats[r] = bench_seats(2000000 / scale, &seats_ok);
		if (WANT("best")) {
			string_bytes_per_seat = 24;
			best10k[r] = bench_best(10000, 1000000 / scale, &b10_ok, &b10_tog, &first10k[r]);
			best200k[r] = bench_best(200000, 1000000 / scale, &b200_ok, &b200_tog, &first200k[r]);
			last10k[r] = bench_best_last_row(10000, 200000 / scale);
			last200k[r] = bench_best_last_row(200000, 50000 / scale);
			string_bytes_per_seat = 4;
		}
		if (WANT("expire"))
			expire[r] = bench_expire(1000000 / scale, &hold_bytes[r]);
	}
	printf("core benchmark, %d runs, medians (one thread, in process)\n", runs);
	if (WANT("hot"))
		printf("  hot    hold+confirm 1 unit of one item   %12.0f commands/s\n", median(hot, runs));
	if (WANT("seats"))
		printf("  seats  3-seat hold+release, 10k seats    %12.0f commands/s (%llu holds taken in the last run)\n",
		       median(seats, runs), (unsigned long long)seats_ok);
	if (WANT("best")) {
		printf("  best   2-4 seats, 10k seats ~85%% held   %12.0f commands/s (%llu of %u holds got seats, %llu together)\n",
		       median(best10k, runs), (unsigned long long)b10_ok, 1000000 / scale,
		       (unsigned long long)b10_tog);
		printf("  best   2-4 seats, 200k seats ~85%% held  %12.0f commands/s (%llu of %u holds got seats, %llu together)\n",
		       median(best200k, runs), (unsigned long long)b200_ok, 1000000 / scale,
		       (unsigned long long)b200_tog);
		printf("  best   the first choice in an event       %12.2f ms (10k seats), %.2f ms (200k seats)\n",
		       median(first10k, runs), median(first200k, runs));
		printf("  best   2 seats, only the last row free   %12.0f commands/s (10k seats: 200 rows)\n",
		       median(last10k, runs));
		printf("  best   2 seats, only the last row free   %12.0f commands/s (200k seats: 4,000 rows)\n",
		       median(last200k, runs));
	}
	if (WANT("expire")) {
		printf("  expire 1M active holds, one tick         %12.0f holds expired/s\n", median(expire, runs));
		printf("  memory per active hold (1 item line)     %12.0f bytes resident\n", median(hold_bytes, runs));
	}
	if (WANT("memory"))
		printf("  memory per seat (1M seats, 100 events)   %12.1f bytes resident\n", seat_bytes());
	return 0;
}
