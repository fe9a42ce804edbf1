/*
 * main.c: holdfast-bench, the HTTP load generator and state checker
 * (docs/BENCHMARKS.md, "HTTP, side by side"; bench/side-by-side.sh drives
 * it). bench.h says where each part lives and what a run is.
 *
 *   holdfast-bench --workload hot|scarce|seats|spread|mixed|batch|onsale|ping
 *                  [--system holdfast|ceiling|django|redis] [--target HOST:PORT]
 *                  [--connections N] [--duration-s S] [--warmup-s S]
 *                  [--idle N] [--watchers N] [--pollers N] [--perf-ctl FIFO[,ACK]] ...
 *   holdfast-bench --help   lists every option with its default
 *
 * Owns: the options (one table), the run's phases as the main thread moves
 * them (setup, idle connections, watchers, warm-up, measured window, drain,
 * verify), the CPU snapshots at the window's edges (and one server
 * thread's, --thread-cpu), the perf control at the same edges, and the
 * report: a human summary on stderr and one RESULT line on
 * stdout (key=value fields; the side-by-side script reads them by name).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "bench.h"

/* ---- small helpers ------------------------------------------------------ */

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("holdfast-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void add_extra(struct bench *b, const char *fmt, ...)
{
	size_t n = strlen(b->extra);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->extra + n, sizeof(b->extra) - n, fmt, ap);
	va_end(ap);
}

/* ---- options ------------------------------------------------------------ */

enum opt_kind { O_STR, O_U32, O_F64, O_U64, O_FLAG };
struct opt {
	const char *name;
	uint8_t kind;
	size_t off;
	const char *def;
	const char *help;
};
#define OFF(m) offsetof(struct bench, m)

/* Columns: option, kind, where it lands, default, help. */
static const struct opt opts[] = {
	{"--workload", O_STR, OFF(workload), "hot", "hot | scarce | seats | spread | mixed | batch | onsale | ping"},
	{"--system", O_STR, OFF(system), "holdfast", "holdfast | ceiling | django | redis: how to speak to --target"},
	{"--target", O_STR, OFF(target), "127.0.0.1:8080", "HOST:PORT (IPv4)"},
	{"--connections", O_U32, OFF(conns), "64", "keep-alive connections, one request outstanding each"},
	{"--threads", O_U32, OFF(threads), "1", "client threads (each an epoll loop)"},
	{"--duration-s", O_F64, OFF(duration_s), "10", "measured window"},
	{"--warmup-s", O_F64, OFF(warmup_s), "1", "warm-up on objects of its own, before the window"},
	{"--drain-s", O_F64, OFF(drain_s), "5", "wait this long for answers in flight at stop"},
	{"--admin-key-file", O_STR, OFF(admin_key_file), "", "holdfast admin key (else $HOLDFAST_ADMIN_KEY)"},
	{"--tag", O_STR, OFF(tag), "", "prefix of every id made (default: b<pid>)"},
	{"--stock", O_U32, OFF(stock), "1000", "scarce: units of the item"},
	{"--items", O_U32, OFF(items), "10000", "spread: items"},
	{"--events", O_U32, OFF(events), "64", "seats: events put on sale one after another"},
	{"--event-seats", O_U32, OFF(event_seats), "10000", "seats, onsale: seats per event"},
	{"--seats-fill", O_F64, OFF(seats_fill), "0.5", "seats: move to the next event once holds took this share of its seats"},
	{"--batch", O_U32, OFF(batch), "100", "batch: operations per POST /batch"},
	{"--customers", O_U32, OFF(customers), "8", "mixed: customers per connection"},
	{"--hold-ttl-s", O_U32, OFF(hold_ttl_s), "2", "mixed: ttl_s of each hold"},
	{"--clock-ms", O_U32, OFF(clock_ms), "100", "mixed: advance the test clock every N ms"},
	{"--clock-advance-s", O_U32, OFF(clock_advance_s), "1", "mixed: by this many seconds"},
	{"--django-users", O_U32, OFF(django_users), "1000", "django seats: users to book as"},
	{"--django-products", O_U32, OFF(django_products), "9999", "django spread: products 1..N (N+1 is the warm-up's)"},
	{"--redis-script", O_STR, OFF(redis_script_file), "", "redis: the Lua file (default: the peer's check-and-decrement)"},
	{"--account", O_STR, OFF(account), "", "PID[,PID..]: process trees whose CPU is the servers' (the rest is other work)"},
	{"--seed", O_U64, OFF(seed), "1", "random seed"},
	{"--no-verify", O_FLAG, OFF(no_verify), "", "skip the checks"},
	{"--idle", O_U32, OFF(idle_n), "0", "extra keep-alive connections opened before the run (each answered once), held open and silent through it, checked at the end"},
	{"--idle-per-addr", O_U32, OFF(idle_per_addr), "1000", "idle connections per loopback source address (127.0.0.2 upwards; a loopback --target only)"},
	{"--idle-path", O_STR, OFF(idle_path), "/health", "the one GET each idle connection sends"},
	{"--idle-settle-s", O_F64, OFF(idle_settle_s), "1", "wait this long after the idle connections (or the watchers' snapshots) are in before reading the server's VmRSS (first --account PID)"},
	{"--watchers", O_U32, OFF(watchers_n), "0", "onsale: SSE connections to the event's feed, opened (from source addresses after --idle's) before the warm-up and read through the run by a thread of their own"},
	{"--pollers", O_U32, OFF(pollers_n), "0", "onsale: connections each reading the event's whole seat map (GET /events/{id}/seats?limit=10000) once per --poll-interval-ms, on a thread of their own; not in requests/s"},
	{"--poll-interval-ms", O_U32, OFF(poll_interval_ms), "1000", "onsale: each poller's interval (their starts are spread over one)"},
	{"--probe-ms", O_U32, OFF(probe_ms), "250", "onsale: the probe seat is held, then released, in turn this often (feed delivery samples)"},
	{"--thread-cpu", O_STR, OFF(thread_cpu), "", "NAME: also the CPU of the first --account PID's threads named NAME (e.g. hf-sequencer) over the window"},
	{"--perf-ctl", O_STR, OFF(perf_ctl), "", "FIFO[,ACK]: perf stat --control fifo: 'enable' at the window's start, 'disable' at its end"},
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	fputs("usage: holdfast-bench [options]\n\nA closed-loop load generator and state checker "
	      "(docs/BENCHMARKS.md).\n\noptions:\n",
	      f);
	for (size_t i = 0; i < N_OPTS; i++)
		fprintf(f, "  %-20s %s%s%s%s\n", opts[i].name, opts[i].help,
			opts[i].def[0] ? " (default: " : "", opts[i].def, opts[i].def[0] ? ")" : "");
	fputs("\nworkloads by system:\n", f);
	for (size_t i = 0; i < n_rows; i++)
		fprintf(f, "  %-9s %-7s %s\n", rows[i].system, rows[i].workload, rows[i].what);
	fputs("\nexit: 0 done (checks passed or skipped), 1 a check failed, 2 usage or setup error\n", f);
}

static void opt_set(struct bench *b, const struct opt *o, const char *v)
{
	char *at = (char *)b + o->off, *end = NULL;
	errno = 0;
	switch (o->kind) {
	case O_STR:
		*(const char **)at = v;
		return;
	case O_FLAG:
		*(bool *)at = true;
		return;
	case O_U32: {
		unsigned long x = strtoul(v, &end, 10);
		if (!*v || *end || errno || x > UINT32_MAX)
			die("%s: expected a whole number, got '%s'", o->name, v);
		*(uint32_t *)at = (uint32_t)x;
		return;
	}
	case O_U64: {
		unsigned long long x = strtoull(v, &end, 10);
		if (!*v || *end || errno)
			die("%s: expected a whole number, got '%s'", o->name, v);
		*(uint64_t *)at = x;
		return;
	}
	case O_F64: {
		double x = strtod(v, &end);
		if (!*v || *end || errno || x < 0)
			die("%s: expected a number, got '%s'", o->name, v);
		*(double *)at = x;
		return;
	}
	}
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].kind != O_FLAG)
			opt_set(b, &opts[i], opts[i].def);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
		const char *eq = strchr(argv[i], '=');
		size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		const struct opt *o = NULL;
		for (size_t k = 0; k < N_OPTS; k++)
			if (strlen(opts[k].name) == nl && !strncmp(opts[k].name, argv[i], nl))
				o = &opts[k];
		if (!o) {
			usage(stderr);
			die("unknown option '%s'", argv[i]);
		}
		if (o->kind == O_FLAG) {
			opt_set(b, o, "");
			continue;
		}
		const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v)
			die("%s needs a value", o->name);
		opt_set(b, o, v);
	}
	for (size_t i = 0; i < n_rows; i++)
		if (!strcmp(rows[i].system, b->system) && !strcmp(rows[i].workload, b->workload))
			b->row = &rows[i];
	if (!b->row)
		die("no workload '%s' for system '%s' (--help lists them)", b->workload, b->system);
	if (b->idle_n && b->row->proto != PROTO_HTTP)
		die("--idle: the idle connections speak HTTP; system '%s' does not", b->system);
	if (!b->conns || b->conns > CONNS_MAX)
		die("--connections: 1..%u", CONNS_MAX);
	if (!b->threads || b->threads > THREADS_MAX)
		die("--threads: 1..%u", THREADS_MAX);
	if (!b->batch || b->batch > BATCH_MAX)
		die("--batch: 1..%u", BATCH_MAX);
	if (b->idle_n > IDLE_MAX || !b->idle_per_addr)
		die("--idle: 0..%u, --idle-per-addr: 1 or more", IDLE_MAX);
	if (b->watchers_n > WATCH_MAX || b->pollers_n > WATCH_MAX || !b->poll_interval_ms ||
	    !b->probe_ms)
		die("--watchers, --pollers: 0..%u; --poll-interval-ms, --probe-ms: 1 or more", WATCH_MAX);
	if (b->thread_cpu[0] && !b->account[0])
		die("--thread-cpu: the thread is looked for in the first --account PID");
	if (!b->items || b->items > 99999)
		die("--items: 1..99999");
	/* the check reads each event's seat map as one page */
	if (!b->events || b->events > 999 || b->event_seats < 4 || b->event_seats > HF_SEAT_PAGE_MAX)
		die("--events 1..999, --event-seats 4..%u", HF_SEAT_PAGE_MAX);
	const char *colon = strrchr(b->target, ':');
	if (!colon || (size_t)(colon - b->target) >= sizeof(b->host))
		die("--target: expected HOST:PORT, got '%s'", b->target);
	memcpy(b->host, b->target, (size_t)(colon - b->target));
	b->port = (uint16_t)atoi(colon + 1);
	b->addr.sin_family = AF_INET;
	b->addr.sin_port = htons(b->port);
	if (inet_pton(AF_INET, b->host, &b->addr.sin_addr) != 1)
		die("--target: '%s' is not an IPv4 address", b->host);
	static char tag[32];
	if (!b->tag[0]) {
		snprintf(tag, sizeof(tag), "b%ld", (long)getpid());
		b->tag = tag;
	}
	for (const char *p = b->tag; *p; p++)
		if (!isalnum((unsigned char)*p))
			die("--tag: letters and digits only");
	for (const char *p = b->account; *p;) {
		if (b->n_acct == ACCOUNT_MAX)
			die("--account: at most %d PIDs", ACCOUNT_MAX);
		b->acct[b->n_acct++] = (pid_t)strtol(p, (char **)&p, 10);
		if (*p == ',')
			p++;
		else if (*p)
			die("--account: PID[,PID...]");
	}
	snprintf(b->redis_script, sizeof(b->redis_script), "%s", redis_decr_lua);
	if (b->redis_script_file[0]) {
		FILE *f = fopen(b->redis_script_file, "r");
		if (!f)
			die("--redis-script %s: cannot open", b->redis_script_file);
		size_t n = fread(b->redis_script, 1, sizeof(b->redis_script) - 1, f);
		fclose(f);
		while (n && (b->redis_script[n - 1] == '\n' || b->redis_script[n - 1] == ' '))
			n--;
		b->redis_script[n] = 0;
	}
	if (!strcmp(b->system, "holdfast")) {
		char key[4096] = "";
		if (b->admin_key_file[0]) {
			FILE *f = fopen(b->admin_key_file, "r");
			if (!f)
				die("--admin-key-file %s: cannot open", b->admin_key_file);
			size_t n = fread(key, 1, sizeof(key) - 1, f);
			fclose(f);
			key[n] = 0;
		} else if (getenv("HOLDFAST_ADMIN_KEY")) {
			snprintf(key, sizeof(key), "%s", getenv("HOLDFAST_ADMIN_KEY"));
		}
		size_t n = strlen(key);
		while (n && isspace((unsigned char)key[n - 1]))
			key[--n] = 0;
		if (!n && b->row->setup)
			die("holdfast: give --admin-key-file FILE or set HOLDFAST_ADMIN_KEY");
		snprintf(b->admin_auth, sizeof(b->admin_auth), "Authorization: Bearer %s\r\n", key);
	}
}


/* ---- perf stat --control: the window's edges ------------------------------ */

/* perf stat -D -1 --control fifo:CTL[,ACK] counts only between an "enable"
 * and a "disable" written to CTL; with ACK, it answers "ack" once done, so
 * the counts start and stop with the window (within the ack's round trip). */
struct perf_ctl {
	int ctl, ack;  /* -1: none */
};

static void perf_open(struct bench *b, struct perf_ctl *p)
{
	p->ctl = p->ack = -1;
	if (!b->perf_ctl[0])
		return;
	char ctl[512];
	snprintf(ctl, sizeof(ctl), "%s", b->perf_ctl);
	char *ack = strchr(ctl, ',');
	if (ack)
		*ack++ = 0;
	/* perf opens both FIFOs when it starts: O_NONBLOCK fails at once if
	 * it is not there rather than waiting for it */
	p->ctl = open(ctl, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (p->ctl < 0)
		die("--perf-ctl %s: %s (is perf stat --control running?)", ctl, strerror(errno));
	if (ack) {
		p->ack = open(ack, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (p->ack < 0)
			die("--perf-ctl ack %s: %s", ack, strerror(errno));
	}
}

static void perf_say(struct perf_ctl *p, const char *cmd)
{
	if (p->ctl < 0)
		return;
	size_t n = strlen(cmd);
	if (write(p->ctl, cmd, n) != (ssize_t)n)
		fprintf(stderr, "holdfast-bench: perf control: %s", strerror(errno));
	if (p->ack < 0)
		return;
	char buf[64];
	for (uint64_t end = mono_ns() + 1000000000u; mono_ns() < end;) {
		ssize_t k = read(p->ack, buf, sizeof(buf));
		if (k > 0)
			return;
		sleep_s(0.0005);
	}
	fprintf(stderr, "holdfast-bench: perf did not acknowledge '%.*s' within 1 s\n",
		(int)n - 1, cmd);
}

static void perf_close(struct perf_ctl *p)
{
	if (p->ctl >= 0)
		close(p->ctl);
	if (p->ack >= 0)
		close(p->ack);
}

/* ---- one server thread's CPU: the window's edges ---------------------------- */

/* utime + stime, in clock ticks, of the first --account PID's threads
 * named --thread-cpu (summed when several), or -1 when there is none. */
static long long thread_ticks(struct bench *b)
{
	if (!b->thread_cpu[0] || !b->n_acct)
		return -1;
	char path[96];
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)b->acct[0]);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long long sum = -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char p[400], buf[1024];
		snprintf(p, sizeof(p), "%s/%s/comm", path, de->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		while (n && buf[n - 1] == '\n')
			n--;
		buf[n] = 0;
		if (strcmp(buf, b->thread_cpu))
			continue;
		snprintf(p, sizeof(p), "%s/%s/stat", path, de->d_name);
		if (!(f = fopen(p, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		/* after ")": state, then 10 fields, then utime stime */
		const char *rp = strrchr(buf, ')');
		unsigned long long ut, st;
		if (rp && sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
				 &st) == 2)
			sum = (sum < 0 ? 0 : sum) + (long long)(ut + st);
	}
	closedir(d);
	return sum;
}

/* A window's edge: the machine's CPU split and the --thread-cpu thread's. */
static void window_edge(struct bench *b, struct cpu_snap *c, long long *ticks)
{
	cpu_snap(b, c);
	*ticks = thread_ticks(b);
}

/* ---- main --------------------------------------------------------------- */

static void *worker_thread(void *arg) { return worker_main(arg); }

int main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	signal(SIGPIPE, SIG_IGN);
	parse_args(b, argc, argv);
	uint32_t threads = b->threads;
	bool holdfast = !strcmp(b->system, "holdfast");
	struct perf_ctl perf;
	perf_open(b, &perf);

	if (b->row->setup)
		b->row->setup(b);
	if (b->batch_missing) {
		printf("RESULT system=%s workload=%s skipped=1 reason=no_batch_route verify=SKIP\n",
		       b->system, b->workload);
		return 0;
	}
	/* before the route counts are read: their one GET each is not the run's */
	if (b->idle_n)
		idle_open(b);
	if (b->watchers_n || b->pollers_n)
		watch_open(b);
	if (holdfast && b->row->verify)
		b->n_metrics0 = metrics_read(b, &b->metrics0);

	/* the run */
	b->list_mode = false;
	workers_make(b, b->conns, threads, b->row->tick != NULL);
	atomic_store(&b->phase, b->warmup_s > 0 ? PH_WARM : PH_RUN);
	struct cpu_snap c0, c1;
	long long tt0 = -1, tt1 = -1;
	if (b->warmup_s <= 0) {
		window_edge(b, &c0, &tt0);
		perf_say(&perf, "enable\n");
		b->t_run0_ns = mono_ns();
	}
	for (uint32_t t = 0; t < b->threads; t++) {
		if (pthread_create(&b->workers[t].th, NULL, worker_thread, &b->workers[t]) != 0)
			die("pthread_create failed");
		pthread_setname_np(b->workers[t].th, "hfb-worker"); /* for top, perf */
	}
	if (b->watch)
		watch_go(b);
	if (b->warmup_s > 0) {
		sleep_s(b->warmup_s);
		window_edge(b, &c0, &tt0);
		perf_say(&perf, "enable\n");
		b->t_run0_ns = mono_ns();
		atomic_store(&b->phase, PH_RUN);
	}
	sleep_s(b->duration_s);
	atomic_store(&b->phase, PH_DRAIN);
	b->t_run1_ns = mono_ns();
	perf_say(&perf, "disable\n");
	window_edge(b, &c1, &tt1);
	/* drain: the workers leave once their answers are in */
	uint64_t drain_end = mono_ns() + (uint64_t)(b->drain_s * 1e9);
	for (;;) {
		uint32_t busy = 0;
		for (uint32_t t = 0; t < b->threads; t++)
			busy += __atomic_load_n(&b->workers[t].busy, __ATOMIC_RELAXED);
		if (!busy || mono_ns() > drain_end)
			break;
		sleep_s(0.005);
	}
	atomic_store(&b->phase, PH_STOP);
	for (uint32_t t = 0; t < b->threads; t++)
		pthread_join(b->workers[t].th, NULL);
	for (uint32_t t = 0; t < b->threads; t++) {
		struct worker *w = &b->workers[t];
		for (int ph = 0; ph < N_PHASES; ph++)
			stats_merge(&b->total[ph], &w->st[ph]);
		b->connects += w->connects;
		b->sock_errors += w->sock_errors;
		b->lost += w->lost;
		b->unanswered += w->unanswered;
	}
	uint32_t used_threads = b->threads;
	workers_free(b);
	if (b->watch)
		watch_stop(b);
	perf_close(&perf);
	double window_s = (double)(b->t_run1_ns - b->t_run0_ns) / 1e9;
	cpu_account(b, &c0, &c1, window_s);
	b->thread_cpu_s = tt0 >= 0 && tt1 >= 0 ? (double)(tt1 - tt0) / (double)sysconf(_SC_CLK_TCK)
					       : -1;
	if (b->idle_n) {
		idle_check(b);
		idle_close(b);
	}

	/* checks */
	snprintf(b->verdict, sizeof(b->verdict), "n/a");
	if (b->row->verify && !b->no_verify) {
		b->row->verify(b);
		if (strcmp(b->verdict, "EXTERNAL"))
			snprintf(b->verdict, sizeof(b->verdict), "%s", check_failures ? "FAIL" : "PASS");
	}

	/* report */
	const struct stats *r = &b->total[PH_RUN];
	double rps = (double)r->answers / window_s, ops_s = (double)r->ops_done / window_s;
	if (b->row->bookings != OP_NONE)
		add_extra(b, " bookings_per_s=%.0f", (double)r->op_cls[b->row->bookings][CLS_OK] / window_s);
	if (b->row->report)
		b->row->report(b, window_s);
	if (b->thread_cpu[0])
		add_extra(b, " thread=%s thread_cpu_s=%.2f", b->thread_cpu, b->thread_cpu_s);
	if (b->idle_n) {
		const struct idle *d = &b->idle;
		double per = d->rss_kib_before >= 0 && d->rss_kib_after >= 0 && d->opened
				     ? (double)(d->rss_kib_after - d->rss_kib_before) / d->opened
				     : -1;
		add_extra(b, " idle=%u idle_opened=%u idle_failed=%u idle_open_end=%u idle_closed=%u"
			     " idle_open_s=%.2f idle_rss_kib_before=%ld idle_rss_kib_after=%ld"
			     " idle_kib_per_conn=%.2f",
			  d->n, d->opened, d->failed, d->open_end, d->closed_end, d->open_s,
			  d->rss_kib_before, d->rss_kib_after, per);
	}
	struct stats drain = b->total[PH_DRAIN];
	fprintf(stderr,
		"%s %s: %u connections, %u thread(s), %.2f s: %" PRIu64 " answers, %.0f req/s, %.0f ops/s; "
		"latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
		b->system, b->workload, b->conns, used_threads, window_s, r->answers, rps, ops_s,
		hist_ms(&r->h, 0.5), hist_ms(&r->h, 0.99),
		hist_ms(&r->h, 0.999), (double)r->h.max_us / 1000.0);
	fprintf(stderr, "  ok %" PRIu64 ", rejected %" PRIu64 ", other %" PRIu64 "; statuses:", r->ok,
		r->rejected, r->other);
	for (int s = 0; s <= STATUS_MAX; s++)
		if (r->status[s])
			fprintf(stderr, " %d x %" PRIu64, s, r->status[s]);
	fprintf(stderr, "\n  warm-up answers %" PRIu64 ", answered while draining %" PRIu64
			", unanswered at stop %" PRIu64 ", lost to broken connections %" PRIu64
			", connects %" PRIu64 ", socket errors %" PRIu64 "\n",
		b->total[PH_WARM].answers, drain.answers, b->unanswered, b->lost, b->connects,
		b->sock_errors);
	fprintf(stderr, "  cpu in the window: client %.2f s, servers %.2f s, other %.2f s, machine busy "
			"%.0f%%, steal %.2f s\n",
		b->cpu_client_s, b->cpu_server_s, b->cpu_other_s, b->busy_pct, b->steal_s);
	if (b->thread_cpu[0])
		fprintf(stderr, "  cpu in the window of the server's %s thread(s): %.2f s\n",
			b->thread_cpu, b->thread_cpu_s);
	for (int o = 0; o < N_OPS; o++) {
		uint64_t t = r->op_cls[o][0] + r->op_cls[o][1] + r->op_cls[o][2];
		if (t && o != OP_LIST)
			fprintf(stderr, "  op %-8s %" PRIu64 " (ok %" PRIu64 ", rejected %" PRIu64
					", other %" PRIu64 ")\n",
				ops[o].name, t, r->op_cls[o][0], r->op_cls[o][1], r->op_cls[o][2]);
	}
	printf("RESULT system=%s workload=%s conns=%u threads=%u duration_s=%.2f requests=%" PRIu64
	       " rps=%.0f ops_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f mean_ms=%.3f"
	       " ok=%" PRIu64 " rejected=%" PRIu64 " other=%" PRIu64 " drained=%" PRIu64
	       " unanswered=%" PRIu64 " lost=%" PRIu64 " connects=%" PRIu64 " sock_errors=%" PRIu64,
	       b->system, b->workload, b->conns, used_threads, window_s, r->answers, rps, ops_s,
	       hist_ms(&r->h, 0.5), hist_ms(&r->h, 0.99), hist_ms(&r->h, 0.999),
	       (double)r->h.max_us / 1000.0, r->h.count ? r->h.sum_us / (double)r->h.count / 1000.0 : 0,
	       r->ok, r->rejected, r->other, drain.answers, b->unanswered, b->lost, b->connects,
	       b->sock_errors);
	for (int s = 0; s < STATUS_MAX; s++)
		if (r->status[s])
			printf(" status_%d=%" PRIu64, s, r->status[s]);
	printf(" cpu_client_s=%.2f cpu_server_s=%.2f cpu_other_s=%.2f busy_pct=%.0f steal_s=%.2f"
	       "%s verify=%s\n",
	       b->cpu_client_s, b->cpu_server_s, b->cpu_other_s, b->busy_pct, b->steal_s, b->extra,
	       b->verdict);
	fflush(stdout);
	return check_failures ? 1 : 0;
}
