/*
 * bench_core.c: in-process speed and memory of the core state machine,
 * one thread, no I/O (docs/BENCHMARKS.md, "Core").
 *
 *   bench-core [--runs N] [--quick] [--only hot|seats|expire|memory]
 *
 * Workloads (each reported as the median of N runs, commands per second):
 *   hot     hold 1 unit of one item, then confirm it (2 commands per sale)
 *   seats   3 random seats of a 10,000-seat event: hold, then release
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
	cfg.string_bytes = 4 * seats + (1u << 20); /* seat ids repeat across events */
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
			fprintf(stderr, "usage: bench-core [--runs N] [--quick] [--only hot|seats|expire|memory]\n");
			return 2;
		}
	}
#define WANT(name) (!only || !strcmp(only, name))
	if (runs < 1 || runs > 99)
		runs = 5;
	uint32_t scale = quick ? 10 : 1;
	double hot[99], seats[99], expire[99], hold_bytes[99];
	uint64_t seats_ok = 0;
	for (int r = 0; r < runs; r++) {
		if (WANT("hot"))
			hot[r] = bench_hot(2000000 / scale);
		if (WANT("seats"))
			seats[r] = bench_seats(2000000 / scale, &seats_ok);
		if (WANT("expire"))
			expire[r] = bench_expire(1000000 / scale, &hold_bytes[r]);
	}
	printf("core benchmark, %d runs, medians (one thread, in process)\n", runs);
	if (WANT("hot"))
		printf("  hot    hold+confirm 1 unit of one item   %12.0f commands/s\n", median(hot, runs));
	if (WANT("seats"))
		printf("  seats  3-seat hold+release, 10k seats    %12.0f commands/s (%llu holds taken in the last run)\n",
		       median(seats, runs), (unsigned long long)seats_ok);
	if (WANT("expire")) {
		printf("  expire 1M active holds, one tick         %12.0f holds expired/s\n", median(expire, runs));
		printf("  memory per active hold (1 item line)     %12.0f bytes resident\n", median(hold_bytes, runs));
	}
	if (WANT("memory"))
		printf("  memory per seat (1M seats, 100 events)   %12.1f bytes resident\n", seat_bytes());
	return 0;
}
