/*
 * bench_http.c: holdfast-bench, the HTTP load generator and state checker
 * (docs/BENCHMARKS.md, "HTTP, side by side"; bench/side-by-side.sh drives it).
 *
 *   holdfast-bench --workload hot|scarce|seats|spread|mixed|batch|ping
 *                  [--system holdfast|ceiling|django|redis] [--target HOST:PORT]
 *                  [--connections N] [--duration-s S] [--warmup-s S] ...
 *   holdfast-bench --help   lists every option with its default
 *
 * Owns: a closed-loop client (one epoll loop per thread, non-blocking
 * sockets, keep-alive, exactly one request outstanding per connection, as
 * wrk and redis-benchmark do), the workloads (one table row per system and
 * workload: setup, next request, answer, lost, verify), the latency
 * histogram, the CPU accounting of the measured window, and the RESULT
 * line the side-by-side script reads.
 *
 * A run, in order:
 *   setup    objects and customer tokens through the public API (admin
 *            key), sent by this same client on up to 32 connections (group
 *            commit makes 10,000 creations cost a fraction of a second);
 *   warm-up  --warmup-s on objects of its own (a warm item, a warm event),
 *            so first touches and lazy paths stay out of the numbers;
 *   run      --duration-s: requests/s and latency count the answers that
 *            arrive inside this window. Latency runs from the first byte
 *            written (from connect() when the server closed the previous
 *            connection: Django's sync workers do) to the last byte read;
 *   drain    no new request; answers to requests in flight at stop are
 *            awaited up to --drain-s and counted by status (the checks use
 *            them) but not in requests/s. What still has no answer is
 *            "unanswered": an unknown outcome (the server may have applied
 *            it or not), the only slack the checks allow. A request whose
 *            connection broke is "lost", the same kind of unknown;
 *   verify   the state read back through the API must match what the
 *            answers said (each workload's verify says what). A failed
 *            check exits 1.
 *
 * Protocols: HTTP/1.1 with a response parser of its own in the
 * picohttpparser shape (status line, Content-Length, Connection; a body
 * without a length runs to the close; no chunked bodies: none of the
 * servers measured sends them), and RESP for Redis (EVALSHA of the peer's
 * check-and-decrement script), so every system but raw PostgreSQL (which
 * pgbench measures) goes through the same client and the same clock.
 *
 * Threads: --threads workers, each owning its connections and its stats
 * (no sharing on the hot path but the workloads' atomic counters); the
 * main thread only moves the phase (warm-up -> run -> drain -> stop) and
 * takes the CPU snapshots at the window's edges.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "base/limits.h"

#define CONNS_MAX 4096
#define THREADS_MAX 16
#define ACCOUNT_MAX 8
#define SETUP_CONNS 32
#define PH_WARM 0
#define PH_RUN 1
#define PH_DRAIN 2
#define PH_STOP 3
#define N_PHASES 3       /* stats are kept for warm-up, run, drain */
#define STATUS_MAX 600
#define RBUF_MIN 16384
#define BATCH_MAX 1000

enum proto { PROTO_HTTP, PROTO_RESP };
enum cls { CLS_OK, CLS_REJECTED, CLS_OTHER };

/* ---- operations: what one request is ---------------------------------- */

/* Columns: name, the server's route label (GET /metrics of holdfast counts
 * answers by it; NULL: not a holdfast route), aux (not a workload request:
 * setup, the test clock; kept out of requests/s and latency). */
enum op { OP_ORDER, OP_HOLD, OP_CONFIRM, OP_RELEASE, OP_BATCH, OP_PING, OP_SELL, OP_BOOK,
	  OP_EVAL, OP_CLOCK, OP_LIST, N_OPS };
static const struct {
	const char *name;
	const char *route;
	bool aux;
} ops[N_OPS] = {
	[OP_ORDER] = {"order", "POST /orders", false},
	[OP_HOLD] = {"hold", "POST /holds", false},
	[OP_CONFIRM] = {"confirm", "POST /holds/{id}/confirm", false},
	[OP_RELEASE] = {"release", "DELETE /holds/{id}", false},
	[OP_BATCH] = {"batch", "POST /batch", false},
	[OP_PING] = {"ping", "GET /health", false},
	[OP_SELL] = {"sell", NULL, false},
	[OP_BOOK] = {"book", NULL, false},
	[OP_EVAL] = {"evalsha", NULL, false},
	[OP_CLOCK] = {"clock", "POST /admin/clock", true},
	[OP_LIST] = {"setup", NULL, true},
};

/* ---- latency histogram -------------------------------------------------- */

/* Log-linear in microseconds: exact below 256 us, then 128 sub-buckets per
 * power of two (under 0.8% error), up to 2^40 us. */
#define HIST_SUB 128
#define HIST_N (256 + 33 * HIST_SUB)
struct hist {
	uint64_t n[HIST_N];
	uint64_t count, max_us;
	double sum_us;
};

static uint32_t hist_index(uint64_t us)
{
	if (us < 256)
		return (uint32_t)us;
	int e = 63 - __builtin_clzll(us); /* >= 8 */
	if (e > 40)
		return HIST_N - 1;
	uint32_t sub = (uint32_t)(us >> (e - 7)) & (HIST_SUB - 1);
	return 256 + (uint32_t)(e - 8) * HIST_SUB + sub;
}

static double hist_value(uint32_t i)
{
	if (i < 256)
		return i;
	uint32_t e = (i - 256) / HIST_SUB + 8, sub = (i - 256) % HIST_SUB;
	double lo = (double)((uint64_t)(HIST_SUB + sub) << (e - 7));
	return lo + (double)(1ull << (e - 7)) / 2; /* the bucket's middle */
}

static void hist_add(struct hist *h, uint64_t us)
{
	h->n[hist_index(us)]++;
	h->count++;
	h->sum_us += (double)us;
	if (us > h->max_us)
		h->max_us = us;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	for (uint32_t i = 0; i < HIST_N; i++)
		to->n[i] += from->n[i];
	to->count += from->count;
	to->sum_us += from->sum_us;
	if (from->max_us > to->max_us)
		to->max_us = from->max_us;
}

/* The q-quantile in milliseconds (0 when empty). */
static double hist_ms(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	uint64_t cum = 0;
	for (uint32_t i = 0; i < HIST_N; i++) {
		cum += h->n[i];
		if (cum >= want) {
			double v = hist_value(i);
			return (v > (double)h->max_us ? (double)h->max_us : v) / 1000.0;
		}
	}
	return (double)h->max_us / 1000.0;
}

/* ---- stats (one per worker and phase, merged at the end) ---------------- */

struct stats {
	uint64_t answers, ok, rejected, other;
	uint64_t ops_done;                   /* operations: a batch counts its ops */
	uint64_t status[STATUS_MAX + 1];     /* last slot: anything else */
	uint64_t op_status[N_OPS][STATUS_MAX + 1];
	uint64_t op_cls[N_OPS][3];
	struct hist h;
};

static void stats_merge(struct stats *to, const struct stats *from)
{
	to->answers += from->answers;
	to->ok += from->ok;
	to->rejected += from->rejected;
	to->other += from->other;
	to->ops_done += from->ops_done;
	for (int i = 0; i <= STATUS_MAX; i++)
		to->status[i] += from->status[i];
	for (int o = 0; o < N_OPS; o++) {
		for (int i = 0; i <= STATUS_MAX; i++)
			to->op_status[o][i] += from->op_status[o][i];
		for (int k = 0; k < 3; k++)
			to->op_cls[o][k] += from->op_cls[o][k];
	}
	hist_merge(&to->h, &from->h);
}

/* ---- the run's shape ---------------------------------------------------- */

struct bench;
struct conn;

/* One row per system x workload. next builds the connection's next
 * request (false: nothing to send now); answer classifies an answer and
 * moves the workload's state (it may rewrite *status, for RESP); lost is
 * told of a request whose outcome will stay unknown; setup and verify
 * return 0 or -1 (verify: a failed check, printed). */
struct row {
	const char *system;
	const char *workload;
	uint8_t proto;
	const char *what;
	int (*setup)(struct bench *b);
	bool (*next)(struct bench *b, struct conn *c);
	int (*answer)(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
	void (*lost)(struct bench *b, struct conn *c);
	int (*verify)(struct bench *b);
};

/* A request of the setup/verify list: sent once, its answer kept. */
struct lreq {
	char method[8];
	char *path;
	char *body;
	size_t body_len;
	const char *auth;     /* an "Authorization: ..." line, or NULL */
	int status;           /* 0: no answer */
	char *answer;         /* NUL-terminated copy of the body */
	size_t answer_len;
};

struct worker;

struct conn {
	struct worker *w;
	uint32_t id;                /* 0..conns-1; conns: the test clock's */
	int fd;
	bool connecting, busy, close_after, want_out, until_close;
	uint8_t op;                 /* enum op of the outstanding request */
	uint8_t sent_phase;
	uint64_t t0_ns;
	char *wb;                   /* the request being written */
	size_t wlen, woff, wcap;
	char *rb;                   /* bytes read, not yet parsed */
	size_t rlen, rcap;
	uint64_t rng;
	/* workload state */
	uint64_t hold;              /* the hold to act on next (0: none) */
	uint8_t next_op;            /* mixed: what to do with it */
	uint32_t event;             /* seats: event index of the request */
	uint32_t seats[4];
	uint8_t n_seats;
	uint32_t item;              /* spread: item index of the request */
	uint32_t cust;              /* rotating customer (mixed) */
	size_t list_i;
	int tmpl_phase;             /* the phase wb was built for (-1: none) */
	size_t patch_off;           /* spread: where the item number sits in wb */
};

struct worker {
	struct bench *b;
	int ep;
	pthread_t th;
	struct conn **conns;
	uint32_t n;
	uint32_t busy;              /* requests outstanding */
	uint64_t connects, sock_errors, lost, unanswered;
	uint64_t clock_next_ns;
	struct stats st[N_PHASES];
};

struct bench {
	/* options */
	const char *system, *workload, *target;
	char host[64];
	uint16_t port;
	struct sockaddr_in addr;
	uint32_t conns, threads, stock, items, events, event_seats, batch, customers;
	uint32_t hold_ttl_s, clock_ms, clock_advance_s, django_users, django_products;
	double duration_s, warmup_s, drain_s, seats_fill;
	const char *tag, *admin_key_file, *redis_script_file, *account;
	uint64_t seed;
	bool no_verify;
	const struct row *row;
	/* run */
	_Atomic int phase;
	bool list_mode;              /* setup/verify: send the list, then stop */
	struct lreq *list;
	size_t list_n;
	_Atomic size_t list_next;
	_Atomic uint32_t list_left;
	struct worker *workers;
	struct conn *clock_conn;
	uint64_t t_run0_ns, t_run1_ns;
	/* credentials and objects */
	char admin_auth[4200];
	char **auth;                 /* per conn * customers: "Authorization: Bearer t\r\n" */
	char redis_sha[48];
	char redis_script[1024];
	/* workload state shared by the workers */
	_Atomic uint64_t *item_ok;   /* per item: successes; [items] is the warm item */
	_Atomic uint64_t *item_lost; /* per item: unknown outcomes */
	_Atomic uint8_t *seat;       /* per event x seat: SEAT_* as the answers told */
	_Atomic uint32_t *ev_taken;  /* per event: seats in successful holds */
	_Atomic uint32_t ev_current; /* the event now on sale (0 is the warm event) */
	_Atomic uint64_t seat_twice, seats_sold, seats_held_ok, tickets;
	_Atomic uint64_t m_confirm_ok, m_confirm_expired, m_release_ok, m_release_expired,
		m_let_expire, m_holds_ok, m_unknown_confirms, m_unknown_holds, m_pending;
	_Atomic uint64_t batch_ops_ok, batch_ops_rejected, batch_ops_other, batch_unknown;
	bool batch_missing;
	/* results */
	struct stats total[N_PHASES];
	uint64_t connects, sock_errors, lost, unanswered;
	char verdict[16];
	char extra[1024];            /* workload fields for the RESULT line */
	/* metrics (holdfast): route/status counts before the run */
	struct metric_count {
		char key[96];
		uint64_t v;
	} *metrics0;
	size_t n_metrics0;
	/* CPU */
	pid_t acct[ACCOUNT_MAX];
	int n_acct;
	double cpu_client_s, cpu_server_s, cpu_other_s, busy_pct, steal_s;
};

enum { SEAT_FREE = 0, SEAT_HELD = 1, SEAT_SOLD = 2, SEAT_UNSURE_HELD = 3, SEAT_UNSURE_SOLD = 4 };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("holdfast-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd_below(uint64_t *s, uint32_t n) { return (uint32_t)((rnd(s) >> 32) * n >> 32); }

/* ---- request bytes ------------------------------------------------------ */

static void wb_reserve(struct conn *c, size_t n)
{
	if (n <= c->wcap)
		return;
	size_t cap = c->wcap ? c->wcap : 1024;
	while (cap < n)
		cap *= 2;
	c->wb = realloc(c->wb, cap);
	if (!c->wb)
		die("out of memory");
	c->wcap = cap;
}

/* Builds an HTTP/1.1 request into c->wb. auth: a whole header line or NULL;
 * body NULL: no body headers (a GET); otherwise a JSON body (maybe empty). */
static void req_http(struct bench *b, struct conn *c, const char *method, const char *path,
		     const char *auth, const char *body, size_t body_len)
{
	size_t need = strlen(method) + strlen(path) + (auth ? strlen(auth) : 0) + body_len + 160;
	wb_reserve(c, need);
	int n;
	if (body)
		n = snprintf(c->wb, c->wcap,
			     "%s %s HTTP/1.1\r\nHost: %s:%u\r\n%sContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n",
			     method, path, b->host, b->port, auth ? auth : "", body_len);
	else
		n = snprintf(c->wb, c->wcap, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n%s\r\n", method, path,
			     b->host, b->port, auth ? auth : "");
	if (n < 0 || (size_t)n + body_len >= c->wcap)
		die("request too large");
	if (body_len)
		memcpy(c->wb + n, body, body_len);
	c->wlen = (size_t)n + body_len;
	c->woff = 0;
}

/* Builds a RESP command (an array of bulk strings) into c->wb. */
static void req_resp(struct conn *c, int argc, const char *const *argv)
{
	size_t need = 16;
	for (int i = 0; i < argc; i++)
		need += strlen(argv[i]) + 16;
	wb_reserve(c, need);
	size_t n = (size_t)snprintf(c->wb, c->wcap, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(c->wb + n, c->wcap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	c->wlen = n;
	c->woff = 0;
}

/* ---- answer parsers: (buf, len, out) -> bytes consumed, -2 need more,
 * -1 bad input, -3 (HTTP) headers done, the body runs to the close ------ */

struct answer {
	int status;
	const char *body;
	size_t body_len;
	bool close;
};

static bool hdr_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && !strncasecmp(line, name, k);
}

static long http_parse(const char *buf, size_t len, struct answer *a)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return len > 65536 ? -1 : -2;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) || !isdigit((unsigned char)buf[9]))
		return -1;
	a->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	a->close = buf[7] == '0';
	size_t hlen = (size_t)(end - buf) + 4;
	long cl = -1;
	const char *p = memchr(buf, '\n', hlen) + 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end + 2 - p));
		if (!nl)
			break;
		size_t n = (size_t)(nl - p);
		if (hdr_is(p, n, "content-length:"))
			cl = strtol(p + 15, NULL, 10);
		else if (hdr_is(p, n, "connection:")) {
			const char *v = p + 11;
			while (*v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				a->close = true;
			else if (!strncasecmp(v, "keep-alive", 10))
				a->close = false;
		} else if (hdr_is(p, n, "transfer-encoding:"))
			return -1; /* chunked: not spoken here */
		p = nl + 1;
	}
	if (cl < 0) {
		if (a->status == 204 || a->status == 304 || a->status < 200)
			cl = 0;
		else {
			a->close = true;
			return -3;
		}
	}
	if (len < hlen + (size_t)cl)
		return -2;
	a->body = buf + hlen;
	a->body_len = (size_t)cl;
	return (long)(hlen + (size_t)cl);
}

/* RESP: ':' integer, '+' simple string, '-' error, '$' bulk string. The
 * status is 200 for a value, 500 for an error, 404 for a null bulk. */
static long resp_parse(const char *buf, size_t len, struct answer *a)
{
	const char *nl = memchr(buf, '\n', len);
	if (!nl)
		return len > 65536 ? -1 : -2;
	size_t line = (size_t)(nl - buf) + 1;
	if (line < 3)
		return -1;
	a->close = false;
	switch (buf[0]) {
	case ':':
	case '+':
	case '-':
		a->status = buf[0] == '-' ? 500 : 200;
		a->body = buf + 1;
		a->body_len = line - 3;
		return (long)line;
	case '$': {
		long n = strtol(buf + 1, NULL, 10);
		if (n < 0) {
			a->status = 404;
			a->body = buf;
			a->body_len = 0;
			return (long)line;
		}
		if (len < line + (size_t)n + 2)
			return -2;
		a->status = 200;
		a->body = buf + line;
		a->body_len = (size_t)n;
		return (long)(line + (size_t)n + 2);
	}
	default:
		return -1;
	}
}

/* ---- small JSON readers (answers come from the servers measured) -------- */

/* The number after "key": in body, or -1. */
static long long json_num(const char *body, size_t len, const char *key)
{
	char pat[64];
	int n = snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = memmem(body, len, pat, (size_t)n);
	if (!p)
		return -1;
	p += n;
	while (*p == ' ')
		p++;
	return strtoll(p, NULL, 10);
}

/* Copies the string after "key":" into out (cap bytes); its length or -1. */
static long json_str(const char *body, size_t len, const char *key, char *out, size_t cap)
{
	char pat[64];
	int n = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = memmem(body, len, pat, (size_t)n);
	if (!p)
		return -1;
	p += n;
	const char *e = memchr(p, '"', (size_t)(body + len - p));
	if (!e || (size_t)(e - p) >= cap)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	return e - p;
}

/* "id":"h-123" -> 123 (0 when absent). */
static uint64_t json_booking_id(const char *body, size_t len, char prefix)
{
	char id[32];
	if (json_str(body, len, "id", id, sizeof(id)) < 3 || id[0] != prefix || id[1] != '-')
		return 0;
	return strtoull(id + 2, NULL, 10);
}

/* ---- connections and the event loop ------------------------------------ */

static void conn_next(struct conn *c);

static void ep_set(struct conn *c, bool out)
{
	if (c->fd < 0 || out == c->want_out)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = out;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->connecting = false;
	c->want_out = false;
	c->rlen = 0;
	c->until_close = false;
}

static int conn_open(struct conn *c)
{
	struct bench *b = c->w->b;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w->connects++;
	if (connect(fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->connecting = true;
	c->want_out = true;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	epoll_ctl(c->w->ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static void conn_write(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wb + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ep_set(c, true);
			return;
		}
		return; /* an error: the read side sees it */
	}
	ep_set(c, false);
}

/* The outstanding request will have no answer: its outcome is unknown. */
static void conn_lost(struct conn *c)
{
	struct bench *b = c->w->b;
	if (!c->busy)
		return;
	c->busy = false;
	c->w->busy--;
	c->w->lost++;
	if (c->op == OP_LIST)
		atomic_fetch_sub(&b->list_left, 1);
	else if (b->row->lost)
		b->row->lost(b, c);
}

static int phase_slot(int ph) { return ph < PH_DRAIN ? ph : PH_DRAIN; }

static void conn_answer(struct conn *c, struct answer *a)
{
	struct bench *b = c->w->b;
	uint64_t now = mono_ns();
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	/* a warm-up request answered after the window opened is still warm-up */
	struct stats *s = &c->w->st[c->sent_phase == PH_WARM ? PH_WARM : phase_slot(ph)];
	int status = a->status;
	int cls;
	if (c->op == OP_LIST) {
		struct lreq *q = &b->list[c->list_i];
		q->status = status;
		q->answer = xalloc(a->body_len + 1);
		memcpy(q->answer, a->body, a->body_len);
		q->answer_len = a->body_len;
		cls = status < 300 ? CLS_OK : CLS_OTHER;
		atomic_fetch_sub(&b->list_left, 1);
	} else {
		cls = b->row->answer(b, c, &status, a->body, a->body_len);
	}
	int slot = status >= 0 && status < STATUS_MAX ? status : STATUS_MAX;
	s->op_status[c->op][slot]++;
	s->op_cls[c->op][cls]++;
	if (!ops[c->op].aux) {
		s->answers++;
		s->status[slot]++;
		if (cls == CLS_OK)
			s->ok++;
		else if (cls == CLS_REJECTED)
			s->rejected++;
		else
			s->other++;
		s->ops_done += c->op == OP_BATCH ? b->batch : 1;
		hist_add(&s->h, (now - c->t0_ns) / 1000u);
	}
	c->busy = false;
	c->w->busy--;
	if (a->close)
		conn_close(c);
	if (ph < PH_DRAIN && c != b->clock_conn)
		conn_next(c);
}

static void conn_read(struct conn *c)
{
	struct bench *b = c->w->b;
	bool eof = false;
	for (;;) {
		if (c->rlen + 4096 > c->rcap) {
			c->rcap = c->rcap ? c->rcap * 2 : RBUF_MIN;
			c->rb = realloc(c->rb, c->rcap);
			if (!c->rb)
				die("out of memory");
		}
		size_t room = c->rcap - c->rlen - 1;
		ssize_t n = recv(c->fd, c->rb + c->rlen, room, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			/* Not reading on to EAGAIN saves a syscall per answer: the
			 * epoll interest is level-triggered, more bytes wake us again. */
			if ((size_t)n < room)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF or an error: what arrived before it is still parsed (a
		 * server that closes after each answer sends both at once) */
		if (n < 0)
			c->w->sock_errors++;
		eof = true;
		break;
	}
	int fd = c->fd;
	while (c->busy && c->rlen) {
		struct answer a = {0};
		long used = b->row->proto == PROTO_RESP ? resp_parse(c->rb, c->rlen, &a)
							: http_parse(c->rb, c->rlen, &a);
		if (used == -2)
			break;
		if (used == -3) {
			/* a body without a length: it ends at the close */
			c->until_close = true;
			if (!eof)
				break;
			const char *end = memmem(c->rb, c->rlen, "\r\n\r\n", 4);
			a.body = end + 4;
			a.body_len = c->rlen - (size_t)(end + 4 - c->rb);
			a.close = true;
			conn_answer(c, &a);
			return;
		}
		if (used < 0) {
			c->w->sock_errors++;
			eof = true;
			break;
		}
		/* The body points into rb: answer before moving the rest. */
		conn_answer(c, &a);
		if (c->fd != fd || c->rlen == 0)
			return; /* closed (rlen reset), maybe reopened */
		memmove(c->rb, c->rb + used, c->rlen - (size_t)used);
		c->rlen -= (size_t)used;
	}
	if (eof) {
		bool was_busy = c->busy;
		conn_lost(c);
		conn_close(c);
		if (was_busy && atomic_load(&b->phase) < PH_DRAIN && c != b->clock_conn)
			conn_next(c);
	}
}

/* Sends the connection's next request, (re)connecting first if needed. */
static void conn_next(struct conn *c)
{
	struct bench *b = c->w->b;
	if (c->op == OP_LIST || b->list_mode) {
		size_t i = atomic_fetch_add(&b->list_next, 1);
		if (i >= b->list_n)
			return;
		struct lreq *q = &b->list[i];
		c->list_i = i;
		c->op = OP_LIST;
		if (b->row->proto == PROTO_RESP) {
			/* the list's RESP commands are pre-encoded in body */
			wb_reserve(c, q->body_len);
			memcpy(c->wb, q->body, q->body_len);
			c->wlen = q->body_len;
			c->woff = 0;
		} else {
			req_http(b, c, q->method, q->path, q->auth, q->body, q->body_len);
		}
	} else {
		if (!b->row->next(b, c))
			return;
	}
	c->sent_phase = (uint8_t)atomic_load_explicit(&b->phase, memory_order_relaxed);
	c->busy = true;
	c->w->busy++;
	c->t0_ns = mono_ns();
	if (c->fd < 0) {
		if (conn_open(c) < 0) {
			c->w->sock_errors++;
			conn_lost(c);
		}
		return; /* written once connected */
	}
	conn_write(c);
}

static void conn_event(struct conn *c, uint32_t events)
{
	struct bench *b = c->w->b;
	if (c->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			c->w->sock_errors++;
			conn_lost(c);
			conn_close(c);
			if (atomic_load(&b->phase) < PH_DRAIN) {
				sleep_s(0.01); /* the server refused: do not spin */
				if (c != b->clock_conn)
					conn_next(c);
			}
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		c->connecting = false;
		if (c->busy)
			conn_write(c);
		else
			ep_set(c, false);
		return;
	}
	if (events & EPOLLOUT)
		conn_write(c);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
}

static void clock_tick(struct worker *w, uint64_t now);

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct epoll_event evs[256];
	for (uint32_t i = 0; i < w->n; i++)
		if (w->conns[i] != b->clock_conn)
			conn_next(w->conns[i]);
	for (;;) {
		int ph = atomic_load(&b->phase);
		if (ph == PH_STOP)
			break;
		if (b->list_mode && atomic_load(&b->list_left) == 0)
			break;
		if (ph == PH_DRAIN && w->busy == 0)
			break;
		int n = epoll_wait(w->ep, evs, 256, 20);
		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		if (b->clock_conn && b->clock_conn->w == w)
			clock_tick(w, mono_ns());
		if (b->list_mode) {
			/* idle connections pick up list entries left by broken ones */
			for (uint32_t i = 0; i < w->n; i++)
				if (!w->conns[i]->busy && atomic_load(&b->list_next) < b->list_n)
					conn_next(w->conns[i]);
		}
	}
	for (uint32_t i = 0; i < w->n; i++) {
		struct conn *c = w->conns[i];
		if (c->busy) {
			w->unanswered++;
			c->busy = false;
			w->busy--;
			if (c->op == OP_LIST)
				atomic_fetch_sub(&b->list_left, 1);
			else if (b->row->lost)
				b->row->lost(b, c);
		}
	}
	return NULL;
}

/* Creates the workers and their connections (conns of them; plus the test
 * clock's connection on worker 0 when clock). */
static void workers_make(struct bench *b, uint32_t conns, uint32_t threads, bool clock)
{
	if (threads > conns)
		threads = conns;
	b->workers = xalloc(sizeof(struct worker) * threads);
	b->threads = threads;
	b->clock_conn = NULL;
	for (uint32_t t = 0; t < threads; t++) {
		struct worker *w = &b->workers[t];
		w->b = b;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0)
			die("epoll_create1: %s", strerror(errno));
		w->conns = xalloc(sizeof(struct conn *) * (conns / threads + 2));
	}
	for (uint32_t i = 0; i < conns + (clock ? 1 : 0); i++) {
		struct worker *w = &b->workers[i < conns ? i % threads : 0];
		struct conn *c = xalloc(sizeof(*c));
		c->w = w;
		c->id = i;
		c->fd = -1;
		c->tmpl_phase = -1;
		c->rng = b->seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull + 1;
		if (i == conns) {
			b->clock_conn = c;
			c->op = OP_CLOCK;
		}
		w->conns[w->n++] = c;
	}
}

static void workers_free(struct bench *b)
{
	for (uint32_t t = 0; t < b->threads; t++) {
		struct worker *w = &b->workers[t];
		for (uint32_t i = 0; i < w->n; i++) {
			conn_close(w->conns[i]);
			free(w->conns[i]->wb);
			free(w->conns[i]->rb);
			free(w->conns[i]);
		}
		free(w->conns);
		close(w->ep);
	}
	free(b->workers);
	b->workers = NULL;
	b->clock_conn = NULL;
}

/* Sends every request of list (n) on up to SETUP_CONNS connections and
 * waits for every answer. Returns the number without an answer. */
static size_t list_run(struct bench *b, struct lreq *list, size_t n)
{
	if (!n)
		return 0;
	b->list = list;
	b->list_n = n;
	atomic_store(&b->list_next, 0);
	atomic_store(&b->list_left, (uint32_t)n);
	b->list_mode = true;
	atomic_store(&b->phase, PH_RUN);
	uint32_t conns = n < SETUP_CONNS ? (uint32_t)n : SETUP_CONNS;
	uint32_t saved_threads = b->threads;
	workers_make(b, conns, 1, false);
	for (uint32_t i = 0; i < conns; i++)
		b->workers[0].conns[i]->op = OP_LIST;
	worker_main(&b->workers[0]);
	workers_free(b);
	b->threads = saved_threads;
	b->list_mode = false;
	size_t missing = 0;
	for (size_t i = 0; i < n; i++)
		missing += list[i].status == 0;
	return missing;
}

static void lreq_set(struct lreq *q, const char *method, const char *path, const char *auth,
		     const char *body)
{
	snprintf(q->method, sizeof(q->method), "%s", method);
	q->path = strdup(path);
	q->auth = auth;
	q->body = body ? strdup(body) : NULL;
	q->body_len = body ? strlen(body) : 0;
	q->status = 0;
	q->answer = NULL;
}

static void list_free(struct lreq *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].path);
		free(list[i].body);
		free(list[i].answer);
	}
	free(list);
}

/* One request, its answer in *q (the caller frees with list_free). */
static struct lreq *call1(struct bench *b, const char *method, const char *path, const char *auth,
			  const char *body)
{
	struct lreq *q = xalloc(sizeof(*q));
	lreq_set(q, method, path, auth, body);
	list_run(b, q, 1);
	return q;
}

/* ---- CPU accounting ----------------------------------------------------- */

struct cpu_snap {
	uint64_t busy, steal;        /* machine ticks: user+nice+system+irq+softirq; steal */
	uint64_t trees;              /* ticks of the --account process trees */
	double self_s;               /* this process (the client) */
};

static uint64_t proc_trees_ticks(const pid_t *roots, int n_roots)
{
	if (!n_roots)
		return 0;
	/* pid -> (ppid, ticks incl. reaped children) for every process */
	size_t cap = 4096, n = 0;
	struct p {
		pid_t pid, ppid;
		uint64_t ticks;
		bool in;
	} *ps = xalloc(cap * sizeof(*ps));
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char path[300], buf[1024];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		char *rp = strrchr(buf, ')');
		if (!rp)
			continue;
		/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
		 * majflt cmajflt utime stime cutime cstime */
		char st;
		long ppid;
		unsigned long long v[13];
		if (sscanf(rp + 2, "%c %ld %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &st, &ppid, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
			   &v[9], &v[10], &v[11], &v[12]) != 15)
			continue;
		if (n == cap) {
			cap *= 2;
			ps = realloc(ps, cap * sizeof(*ps));
			if (!ps)
				die("out of memory");
		}
		ps[n].pid = (pid_t)atol(de->d_name);
		ps[n].ppid = (pid_t)ppid;
		ps[n].ticks = v[9] + v[10] + v[11] + v[12];
		ps[n].in = false;
		for (int r = 0; r < n_roots; r++)
			if (ps[n].pid == roots[r])
				ps[n].in = true;
		n++;
	}
	if (d)
		closedir(d);
	for (bool grown = true; grown;) {
		grown = false;
		for (size_t i = 0; i < n; i++) {
			if (ps[i].in)
				continue;
			for (size_t k = 0; k < n; k++)
				if (ps[k].in && ps[k].pid == ps[i].ppid) {
					ps[i].in = grown = true;
					break;
				}
		}
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (ps[i].in)
			sum += ps[i].ticks;
	free(ps);
	return sum;
}

static void cpu_snap(struct bench *b, struct cpu_snap *s)
{
	memset(s, 0, sizeof(*s));
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long u, ni, sy, id, io, irq, sirq, st;
	if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy, &id, &io,
			&irq, &sirq, &st) == 8) {
		s->busy = u + ni + sy + irq + sirq;
		s->steal = st;
	}
	if (f)
		fclose(f);
	s->trees = proc_trees_ticks(b->acct, b->n_acct);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	s->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void cpu_account(struct bench *b, const struct cpu_snap *s0, const struct cpu_snap *s1,
			double wall_s)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	double machine = (double)(s1->busy - s0->busy) / hz;
	b->cpu_client_s = s1->self_s - s0->self_s;
	b->cpu_server_s = (double)(s1->trees - s0->trees) / hz;
	b->cpu_other_s = machine - b->cpu_client_s - b->cpu_server_s;
	if (b->cpu_other_s < 0)
		b->cpu_other_s = 0;
	b->steal_s = (double)(s1->steal - s0->steal) / hz;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	b->busy_pct = wall_s > 0 ? 100.0 * machine / (wall_s * (double)cores) : 0;
}

/* ---- holdfast: setup helpers -------------------------------------------- */

static void must_list(struct bench *b, struct lreq *l, size_t n, const char *what, int ok1,
		      int ok2)
{
	(void)b;
	for (size_t i = 0; i < n; i++)
		if (l[i].status != ok1 && l[i].status != ok2)
			die("setup: %s %s answered %d: %.300s (is --target a holdfast server, "
			    "with this admin key%s?)",
			    l[i].method, l[i].path, l[i].status, l[i].answer ? l[i].answer : "",
			    !strcmp(what, "clock") ? " and --test-clock" : "");
}

/* Mints one token per connection and customer (b->customers each). */
static void setup_tokens(struct bench *b, uint32_t per_conn)
{
	size_t n = (size_t)b->conns * per_conn;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		char body[160];
		snprintf(body, sizeof(body), "{\"customer\":\"%s-c%zu-%zu\",\"ttl_s\":86400}", b->tag,
			 i / per_conn, i % per_conn);
		lreq_set(&l[i], "POST", "/tokens", b->admin_auth, body);
	}
	list_run(b, l, n);
	must_list(b, l, n, "token", 201, 200);
	b->auth = xalloc(n * sizeof(char *));
	b->customers = per_conn;
	for (size_t i = 0; i < n; i++) {
		char tok[1024];
		if (json_str(l[i].answer, l[i].answer_len, "token", tok, sizeof(tok)) < 0)
			die("setup: no token in %.200s", l[i].answer);
		b->auth[i] = xalloc(strlen(tok) + 32);
		sprintf(b->auth[i], "Authorization: Bearer %s\r\n", tok);
	}
	list_free(l, n);
}

static const char *auth_of(struct bench *b, struct conn *c, uint32_t k)
{
	return b->auth ? b->auth[(size_t)c->id * b->customers + k % b->customers] : "";
}

static void item_id(struct bench *b, uint32_t i, char *out, size_t cap)
{
	/* index b->items is the warm item */
	if (i == b->items)
		snprintf(out, cap, "%s-warm", b->tag);
	else
		snprintf(out, cap, "%s-it-%05u", b->tag, i);
}

/* Creates the workload's items (b->items of b->stock units) and the warm
 * item (plenty). */
static void setup_items(struct bench *b)
{
	size_t n = b->items + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char id[96], body[256];
		item_id(b, i, id, sizeof(id));
		snprintf(body, sizeof(body),
			 "{\"id\":\"%s\",\"name\":\"bench item\",\"price\":100,\"stock\":%u}", id,
			 i == b->items ? 2000000000u : b->stock);
		lreq_set(&l[i], "POST", "/items", b->admin_auth, body);
	}
	list_run(b, l, n);
	must_list(b, l, n, "item", 201, 201);
	list_free(l, n);
	b->item_ok = xalloc(n * sizeof(*b->item_ok));
	b->item_lost = xalloc(n * sizeof(*b->item_lost));
}

/* The metrics of holdfast's route/status counter, "route|status" -> value. */
static size_t metrics_read(struct bench *b, struct metric_count **out)
{
	struct lreq *q = call1(b, "GET", "/metrics", NULL, NULL);
	if (q->status != 200)
		die("GET /metrics answered %d", q->status);
	size_t cap = 64, n = 0;
	struct metric_count *m = xalloc(cap * sizeof(*m));
	const char *p = q->answer, *end = q->answer + q->answer_len;
	static const char pre[] = "holdfast_http_requests_total{route=\"";
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (!strncmp(p, pre, sizeof(pre) - 1)) {
			const char *r = p + sizeof(pre) - 1;
			const char *re = memchr(r, '"', (size_t)(nl - r));
			const char *s = re ? memmem(re, (size_t)(nl - re), "status=\"", 8) : NULL;
			if (s) {
				s += 8;
				const char *se = memchr(s, '"', (size_t)(nl - s));
				const char *v = se ? memchr(se, ' ', (size_t)(nl - se)) : NULL;
				if (v) {
					if (n == cap) {
						cap *= 2;
						m = realloc(m, cap * sizeof(*m));
						if (!m)
							die("out of memory");
					}
					snprintf(m[n].key, sizeof(m[n].key), "%.*s|%.*s", (int)(re - r), r,
						 (int)(se - s), s);
					m[n].v = strtoull(v + 1, NULL, 10);
					n++;
				}
			}
		}
		p = nl + 1;
	}
	list_free(q, 1);
	*out = m;
	return n;
}

static uint64_t metric_get(const struct metric_count *m, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].key, key))
			return m[i].v;
	return 0;
}

/* ---- checks ------------------------------------------------------------- */

static int check_failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  check %s: ", ok ? "ok  " : "FAIL");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (!ok)
		check_failures++;
}

/* holdfast counts every answer by route and status (GET /metrics): the
 * deltas over the run must equal what this client saw, plus at most the
 * requests without an answer (the server counts an answer when it queues
 * it, so it may count one the client never read). */
static void verify_metrics(struct bench *b)
{
	struct metric_count *m1;
	size_t n1 = metrics_read(b, &m1);
	struct stats all = {0};
	for (int ph = 0; ph < N_PHASES; ph++)
		stats_merge(&all, &b->total[ph]);
	uint64_t slack = b->unanswered + b->lost;
	for (int o = 0; o < N_OPS; o++) {
		if (!ops[o].route)
			continue;
		uint64_t seen = 0, counted = 0;
		for (int st = 100; st < STATUS_MAX; st++) {
			char key[128];
			snprintf(key, sizeof(key), "%s|%d", ops[o].route, st);
			uint64_t d = metric_get(m1, n1, key) - metric_get(b->metrics0, b->n_metrics0, key);
			uint64_t c = all.op_status[o][st];
			seen += c;
			counted += d;
			if (d != c && !(d > c && d - c <= slack))
				check(false, "server counted %" PRIu64 " answers %d to %s, client saw %" PRIu64,
				      d, st, ops[o].route, c);
		}
		if (seen || counted)
			check(counted >= seen && counted - seen <= slack,
			      "%s: server counted %" PRIu64 " answers, client saw %" PRIu64
			      " (unknown outcomes %" PRIu64 ")",
			      ops[o].route, counted, seen, slack);
	}
	free(m1);
}

struct item_state {
	long long available, held, sold;
};

static void items_read(struct bench *b, struct item_state *out, uint32_t n)
{
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char id[96], path[128];
		item_id(b, i, id, sizeof(id));
		snprintf(path, sizeof(path), "/items/%s", id);
		lreq_set(&l[i], "GET", path, NULL, NULL);
	}
	list_run(b, l, n);
	for (uint32_t i = 0; i < n; i++) {
		if (l[i].status != 200)
			die("verify: GET %s answered %d", l[i].path, l[i].status);
		out[i].available = json_num(l[i].answer, l[i].answer_len, "available");
		out[i].held = json_num(l[i].answer, l[i].answer_len, "held");
		out[i].sold = json_num(l[i].answer, l[i].answer_len, "sold");
	}
	list_free(l, n);
}

/* Items: every item's sold equals the successes seen for it, plus at most
 * its unknown outcomes; nothing held; available + sold = stock. */
static int verify_items(struct bench *b)
{
	uint32_t n = b->items + 1;
	struct item_state *is = xalloc(n * sizeof(*is));
	items_read(b, is, n);
	uint32_t bad_sold = 0, bad_sum = 0, bad_held = 0, first = UINT32_MAX;
	uint64_t ok_total = 0, sold_total = 0, lost_total = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ok = atomic_load(&b->item_ok[i]), lost = atomic_load(&b->item_lost[i]);
		uint64_t stock = i == b->items ? 2000000000u : b->stock;
		bool sold_ok = is[i].sold >= (long long)ok && is[i].sold <= (long long)(ok + lost);
		bool sum_ok = is[i].available + is[i].sold + is[i].held == (long long)stock &&
			      is[i].available >= 0;
		bad_sold += !sold_ok;
		bad_sum += !sum_ok;
		bad_held += is[i].held != 0;
		if ((!sold_ok || !sum_ok || is[i].held) && first == UINT32_MAX)
			first = i;
		if (i < b->items) {
			ok_total += ok;
			sold_total += (uint64_t)is[i].sold;
			lost_total += lost;
		}
	}
	check(!bad_sold, "units sold = successes seen (+ unknown outcomes) on %u of %u items; "
			 "sold %" PRIu64 ", successes %" PRIu64 ", unknown %" PRIu64,
	      n - bad_sold, n, sold_total, ok_total, lost_total);
	check(!bad_sum, "available + held + sold = stock on %u of %u items", n - bad_sum, n);
	check(!bad_held, "nothing left held on %u of %u items", n - bad_held, n);
	if (first != UINT32_MAX) {
		char id[96];
		item_id(b, first, id, sizeof(id));
		fprintf(stderr, "  first bad item %s: available %lld held %lld sold %lld; successes "
				"seen %" PRIu64 ", unknown %" PRIu64 "\n",
			id, is[first].available, is[first].held, is[first].sold,
			(uint64_t)atomic_load(&b->item_ok[first]), (uint64_t)atomic_load(&b->item_lost[first]));
	}
	if (!strcmp(b->workload, "scarce")) {
		bool sold_out = is[0].available == 0;
		check(sold_out && ok_total == b->stock && sold_total == b->stock,
		      "scarce: exactly %u successes (seen %" PRIu64 ", sold %" PRIu64 ", left %lld)",
		      b->stock, ok_total, sold_total, is[0].available);
		snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
			 " sold_out=%s successes=%" PRIu64, sold_out ? "yes" : "no", ok_total);
	}
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " units_sold=%" PRIu64, sold_total);
	free(is);
	verify_metrics(b);
	return 0;
}

/* ---- holdfast: hot, scarce, spread (buy now, 1 unit) -------------------- */

static int setup_orders(struct bench *b)
{
	if (!strcmp(b->workload, "scarce"))
		b->items = 1;
	else if (!strcmp(b->workload, "hot") || !strcmp(b->workload, "batch"))
		b->items = 1, b->stock = 2000000000u;
	else
		b->stock = 1000000u; /* spread: a million units of each item */
	setup_tokens(b, 1);
	setup_items(b);
	return 0;
}

/* POST /orders of one unit. The request is built once per phase; spread
 * rewrites the item number in place. */
static bool next_order(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	bool warm = ph == PH_WARM;
	bool spread = !strcmp(b->workload, "spread");
	c->op = OP_ORDER;
	if (c->tmpl_phase != (warm ? PH_WARM : PH_RUN)) {
		char id[96], body[192];
		item_id(b, warm ? b->items : 0, id, sizeof(id));
		int n = snprintf(body, sizeof(body), "{\"items\":[{\"item\":\"%s\",\"quantity\":1}]}", id);
		req_http(b, c, "POST", "/orders", auth_of(b, c, 0), body, (size_t)n);
		c->tmpl_phase = warm ? PH_WARM : PH_RUN;
		char *p = memmem(c->wb, c->wlen, "-it-", 4);
		c->patch_off = p ? (size_t)(p - c->wb) + 4 : 0;
	}
	c->woff = 0;
	if (warm) {
		c->item = b->items;
	} else if (spread) {
		c->item = rnd_below(&c->rng, b->items);
		uint32_t v = c->item;
		for (int k = 4; k >= 0; k--, v /= 10)
			c->wb[c->patch_off + (size_t)k] = (char)('0' + v % 10);
	} else {
		c->item = 0;
	}
	return true;
}

static int answer_order(struct bench *b, struct conn *c, int *status, const char *body,
			size_t len)
{
	(void)body;
	(void)len;
	if (*status == 201) {
		atomic_fetch_add_explicit(&b->item_ok[c->item], 1, memory_order_relaxed);
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

static void lost_order(struct bench *b, struct conn *c)
{
	atomic_fetch_add(&b->item_lost[c->item], 1);
}

/* ---- holdfast: batch (POST /batch of --batch buy-now operations) -------- */

/* The proposed route (NOTES for the lead; docs/BENCHMARKS.md):
 *   POST /batch {"ops":[{"method":"POST","path":"/orders","body":{...}}, ...]}
 *   -> 200 {"results":[{"status":201,"body":{...}}, ...]} in order.
 * Skipped (exit 0, verify=SKIP) while the server answers 404. */
static int setup_batch(struct bench *b)
{
	setup_orders(b);
	struct lreq *q = call1(b, "POST", "/batch", b->auth[0], "{\"ops\":[]}");
	int st = q->status;
	list_free(q, 1);
	if (st == 404 || st == 405) {
		b->batch_missing = true;
		fprintf(stderr, "holdfast-bench: batch: POST /batch answered %d: the route does not "
				"exist on this server; workload skipped\n", st);
	}
	return 0;
}

static bool next_batch(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	bool warm = ph == PH_WARM;
	c->op = OP_BATCH;
	c->item = warm ? b->items : 0;
	if (c->tmpl_phase != (warm ? PH_WARM : PH_RUN)) {
		char id[96];
		item_id(b, c->item, id, sizeof(id));
		size_t cap = (size_t)b->batch * 160 + 32, n = 0;
		char *body = xalloc(cap);
		n += (size_t)snprintf(body, cap, "{\"ops\":[");
		for (uint32_t i = 0; i < b->batch; i++)
			n += (size_t)snprintf(body + n, cap - n,
					      "%s{\"method\":\"POST\",\"path\":\"/orders\",\"body\":"
					      "{\"items\":[{\"item\":\"%s\",\"quantity\":1}]}}",
					      i ? "," : "", id);
		n += (size_t)snprintf(body + n, cap - n, "]}");
		req_http(b, c, "POST", "/batch", auth_of(b, c, 0), body, n);
		free(body);
		c->tmpl_phase = warm ? PH_WARM : PH_RUN;
	}
	c->woff = 0;
	return true;
}

static uint64_t count_str(const char *body, size_t len, const char *s)
{
	uint64_t n = 0;
	size_t k = strlen(s);
	for (const char *p = body; (p = memmem(p, (size_t)(body + len - p), s, k)); p += k)
		n++;
	return n;
}

static int answer_batch(struct bench *b, struct conn *c, int *status, const char *body,
			size_t len)
{
	if (*status != 200)
		return *status == 409 ? CLS_REJECTED : CLS_OTHER;
	uint64_t ok = count_str(body, len, "{\"status\":201");
	uint64_t rej = count_str(body, len, "{\"status\":409");
	atomic_fetch_add(&b->item_ok[c->item], ok);
	atomic_fetch_add(&b->batch_ops_ok, ok);
	atomic_fetch_add(&b->batch_ops_rejected, rej);
	if (ok + rej < b->batch)
		atomic_fetch_add(&b->batch_ops_other, b->batch - ok - rej);
	return CLS_OK;
}

static void lost_batch(struct bench *b, struct conn *c)
{
	atomic_fetch_add(&b->item_lost[c->item], b->batch);
}

/* ---- holdfast: seats (hold 2-4 random seats, then confirm) -------------- */

/* Events: index 0 is the warm event, 1..events the measured ones. All
 * connections sell the current event; once the successful holds took
 * --seats-fill of its seats, the next one goes on sale (an on-sale rush,
 * event after event: contention stays, the run never sells out). */
static void event_id(struct bench *b, uint32_t e, char *out, size_t cap)
{
	if (e == 0)
		snprintf(out, cap, "%s-ev-warm", b->tag);
	else
		snprintf(out, cap, "%s-ev-%03u", b->tag, e);
}

static int setup_seats(struct bench *b)
{
	setup_tokens(b, 1);
	uint32_t n = b->events + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	size_t cap = (size_t)b->event_seats * 32 + 256;
	char *body = xalloc(cap);
	for (uint32_t e = 0; e < n; e++) {
		char id[96];
		event_id(b, e, id, sizeof(id));
		size_t k = (size_t)snprintf(body, cap,
					    "{\"id\":\"%s\",\"name\":\"bench event\",\"starts_at\":"
					    "\"2030-01-01T20:00:00Z\",\"seats\":[",
					    id);
		for (uint32_t s = 1; s <= b->event_seats; s++)
			k += (size_t)snprintf(body + k, cap - k, "%s{\"id\":\"S-%u\",\"price\":5000}",
					      s > 1 ? "," : "", s);
		snprintf(body + k, cap - k, "]}");
		lreq_set(&l[e], "POST", "/events", b->admin_auth, body);
	}
	free(body);
	list_run(b, l, n);
	must_list(b, l, n, "event", 201, 201);
	list_free(l, n);
	b->seat = xalloc((size_t)n * b->event_seats);
	b->ev_taken = xalloc(n * sizeof(*b->ev_taken));
	atomic_store(&b->ev_current, 1);
	return 0;
}

static bool next_seats(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	char body[1024], path[64], ev[96];
	if (c->hold) {
		snprintf(path, sizeof(path), "/holds/h-%" PRIu64 "/confirm", c->hold);
		req_http(b, c, "POST", path, auth_of(b, c, 0), "", 0);
		c->op = OP_CONFIRM;
		return true;
	}
	uint32_t e = ph == PH_WARM ? 0 : atomic_load_explicit(&b->ev_current, memory_order_relaxed);
	c->event = e;
	c->n_seats = (uint8_t)(2 + rnd_below(&c->rng, 3));
	for (uint32_t i = 0; i < c->n_seats; i++) {
	again:
		c->seats[i] = 1 + rnd_below(&c->rng, b->event_seats);
		for (uint32_t k = 0; k < i; k++)
			if (c->seats[k] == c->seats[i])
				goto again;
	}
	event_id(b, e, ev, sizeof(ev));
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"seats\":[");
	for (uint32_t i = 0; i < c->n_seats; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"event\":\"%s\",\"seat\":\"S-%u\"}",
				      i ? "," : "", ev, c->seats[i]);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	req_http(b, c, "POST", "/holds", auth_of(b, c, 0), body, n);
	c->op = OP_HOLD;
	return true;
}

static _Atomic uint8_t *seat_at(struct bench *b, uint32_t e, uint32_t s)
{
	return &b->seat[(size_t)e * b->event_seats + (s - 1)];
}

static int answer_seats(struct bench *b, struct conn *c, int *status, const char *body,
			size_t len)
{
	if (c->op == OP_HOLD) {
		if (*status != 201)
			return *status == 409 ? CLS_REJECTED : CLS_OTHER;
		c->hold = json_booking_id(body, len, 'h');
		for (uint32_t i = 0; i < c->n_seats; i++) {
			uint8_t want = SEAT_FREE;
			if (!atomic_compare_exchange_strong(seat_at(b, c->event, c->seats[i]), &want,
							    SEAT_HELD)) {
				if (!atomic_fetch_add(&b->seat_twice, 1))
					fprintf(stderr, "holdfast-bench: seat S-%u of event %u granted "
							"to two holds\n", c->seats[i], c->event);
			}
		}
		atomic_fetch_add(&b->seats_held_ok, c->n_seats);
		uint32_t taken = atomic_fetch_add(&b->ev_taken[c->event], c->n_seats) + c->n_seats;
		uint32_t e = c->event;
		if (e && taken >= (uint32_t)(b->seats_fill * b->event_seats) && e < b->events)
			atomic_compare_exchange_strong(&b->ev_current, &e, e + 1);
		return CLS_OK;
	}
	/* confirm */
	c->hold = 0;
	if (*status == 200) {
		for (uint32_t i = 0; i < c->n_seats; i++)
			atomic_store(seat_at(b, c->event, c->seats[i]), SEAT_SOLD);
		atomic_fetch_add(&b->seats_sold, c->n_seats);
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

static void lost_seats(struct bench *b, struct conn *c)
{
	/* A hold without an answer may hold its seats; a confirm without one
	 * may have sold them. Either is allowed at the check. */
	uint8_t mark = c->op == OP_HOLD ? SEAT_UNSURE_HELD : SEAT_UNSURE_SOLD;
	for (uint32_t i = 0; i < c->n_seats; i++) {
		_Atomic uint8_t *s = seat_at(b, c->event, c->seats[i]);
		if (c->op == OP_CONFIRM || atomic_load(s) == SEAT_FREE)
			atomic_store(s, mark);
	}
	c->hold = 0;
}

/* Seats: no seat granted to two holds (seen by the client); every seat's
 * state on the server is the one the answers imply (free, held by a hold
 * whose confirm failed, sold), except seats of requests without an
 * answer; the event's counts add up to its seats. */
static int verify_seats(struct bench *b)
{
	uint32_t last = atomic_load(&b->ev_current);
	uint32_t n = last + 1;
	struct lreq *l = xalloc(2 * n * sizeof(*l));
	for (uint32_t e = 0; e < n; e++) {
		char id[96], path[160];
		event_id(b, e, id, sizeof(id));
		snprintf(path, sizeof(path), "/events/%s/seats?limit=%u", id, HF_SEAT_PAGE_MAX);
		lreq_set(&l[2 * e], "GET", path, NULL, NULL);
		snprintf(path, sizeof(path), "/events/%s", id);
		lreq_set(&l[2 * e + 1], "GET", path, NULL, NULL);
	}
	list_run(b, l, 2 * n);
	uint64_t mismatched = 0, sold_server = 0, held_server = 0, bad_counts = 0;
	char example[256] = "";
	for (uint32_t e = 0; e < n; e++) {
		struct lreq *q = &l[2 * e];
		if (q->status != 200)
			die("verify: GET %s answered %d", q->path, q->status);
		const char *p = q->answer, *end = q->answer + q->answer_len;
		uint32_t seen = 0;
		while ((p = memmem(p, (size_t)(end - p), "{\"id\":\"S-", 9))) {
			uint32_t s = (uint32_t)strtoul(p + 9, NULL, 10);
			const char *st = memmem(p, (size_t)(end - p), "\"state\":\"", 9);
			if (!st || s < 1 || s > b->event_seats)
				break;
			st += 9;
			uint8_t want = atomic_load(seat_at(b, e, s));
			bool is_free = !strncmp(st, "free", 4), is_held = !strncmp(st, "held", 4),
			     is_sold = !strncmp(st, "sold", 4);
			sold_server += is_sold;
			held_server += is_held;
			bool ok = (want == SEAT_FREE && is_free) || (want == SEAT_HELD && is_held) ||
				  (want == SEAT_SOLD && is_sold) ||
				  (want == SEAT_UNSURE_HELD && (is_free || is_held)) ||
				  (want == SEAT_UNSURE_SOLD && (is_held || is_sold));
			if (!ok && !mismatched++)
				snprintf(example, sizeof(example),
					 "event %u seat S-%u: server says %.4s, the answers said %u", e, s,
					 st, want);
			seen++;
			p = st;
		}
		if (seen != b->event_seats)
			check(false, "event %u: the seat map lists %u seats, expected %u", e, seen,
			      b->event_seats);
		struct lreq *ev = &l[2 * e + 1];
		long long f = json_num(ev->answer, ev->answer_len, "free"),
			  h = json_num(ev->answer, ev->answer_len, "held"),
			  s = json_num(ev->answer, ev->answer_len, "sold"),
			  k = json_num(ev->answer, ev->answer_len, "blocked");
		if (f + h + s + k != (long long)b->event_seats)
			bad_counts++;
	}
	list_free(l, 2 * n);
	check(!atomic_load(&b->seat_twice), "no seat granted to two holds (%" PRIu64 " were)",
	      (uint64_t)atomic_load(&b->seat_twice));
	check(!mismatched, "every seat's state matches the answers (%" PRIu64 " do not%s%s)",
	      mismatched, mismatched ? "; first: " : "", example);
	check(!bad_counts, "free + held + sold + blocked = seats on every event used (%u)", n);
	uint64_t sold_seen = atomic_load(&b->seats_sold);
	fprintf(stderr, "  seats sold: server %" PRIu64 ", confirms seen %" PRIu64
			"; held on the server %" PRIu64 "\n",
		sold_server, sold_seen, held_server);
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " events_used=%u seats_sold=%" PRIu64, last, sold_seen);
	verify_metrics(b);
	return 0;
}

/* ---- holdfast: mixed (hold -> confirm | release | let expire) ----------- */

/* One item, --customers customers per connection (a customer may have 32
 * active holds; expiring ones pile up between clock ticks). Each hold
 * (ttl --hold-ttl-s) is then confirmed (50%), released (25%) or left to
 * expire (25%); the test clock moves --clock-advance-s every --clock-ms
 * (a dedicated connection), so holds expire during the run. At the end
 * the clock jumps past every hold's expiry: nothing may stay held, and
 * sold must equal the confirms that succeeded. */
static int setup_mixed(struct bench *b)
{
	b->items = 1;
	b->stock = 2000000000u;
	struct lreq *q = call1(b, "POST", "/admin/clock", b->admin_auth, "{\"advance_s\":1}");
	if (q->status != 200)
		die("mixed needs `holdfast serve --test-clock`: POST /admin/clock answered %d: %.200s",
		    q->status, q->answer ? q->answer : "");
	list_free(q, 1);
	setup_tokens(b, b->customers ? b->customers : 8);
	setup_items(b);
	return 0;
}

static bool next_mixed(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	char path[64], body[256], id[96];
	if (c->hold && c->next_op != OP_HOLD) {
		snprintf(path, sizeof(path), c->next_op == OP_CONFIRM ? "/holds/h-%" PRIu64 "/confirm"
								       : "/holds/h-%" PRIu64,
			 c->hold);
		req_http(b, c, c->next_op == OP_CONFIRM ? "POST" : "DELETE", path,
			 auth_of(b, c, c->cust), "", 0);
		c->op = c->next_op;
		return true;
	}
	c->hold = 0;
	c->cust++;
	c->item = ph == PH_WARM ? b->items : 0;
	item_id(b, c->item, id, sizeof(id));
	int n = snprintf(body, sizeof(body), "{\"ttl_s\":%u,\"items\":[{\"item\":\"%s\",\"quantity\":1}]}",
			 b->hold_ttl_s, id);
	req_http(b, c, "POST", "/holds", auth_of(b, c, c->cust), body, (size_t)n);
	c->op = OP_HOLD;
	return true;
}

static int answer_mixed(struct bench *b, struct conn *c, int *status, const char *body,
			size_t len)
{
	switch (c->op) {
	case OP_HOLD: {
		if (*status != 201)
			return *status == 409 ? CLS_REJECTED : CLS_OTHER;
		atomic_fetch_add(&b->m_holds_ok, 1);
		c->hold = json_booking_id(body, len, 'h');
		uint32_t r = rnd_below(&c->rng, 4);
		c->next_op = r < 2 ? OP_CONFIRM : r == 2 ? OP_RELEASE : OP_HOLD;
		if (c->next_op == OP_HOLD)
			atomic_fetch_add(&b->m_let_expire, 1);
		return CLS_OK;
	}
	case OP_CONFIRM:
		c->hold = 0;
		if (*status == 200) {
			atomic_fetch_add(&b->m_confirm_ok, 1);
			atomic_fetch_add(&b->item_ok[c->item], 1);
			return CLS_OK;
		}
		if (*status == 409 && memmem(body, len, "hold_expired", 12))
			atomic_fetch_add(&b->m_confirm_expired, 1);
		return *status == 409 ? CLS_REJECTED : CLS_OTHER;
	default: /* release */
		c->hold = 0;
		if (*status == 200) {
			atomic_fetch_add(&b->m_release_ok, 1);
			return CLS_OK;
		}
		if (*status == 409 && memmem(body, len, "hold_expired", 12))
			atomic_fetch_add(&b->m_release_expired, 1);
		return *status == 409 ? CLS_REJECTED : CLS_OTHER;
	}
}

static void lost_mixed(struct bench *b, struct conn *c)
{
	if (c->op == OP_CONFIRM) {
		atomic_fetch_add(&b->m_unknown_confirms, 1);
		atomic_fetch_add(&b->item_lost[c->item], 1);
	} else if (c->op == OP_HOLD) {
		atomic_fetch_add(&b->m_unknown_holds, 1);
	}
	c->hold = 0;
}

static void clock_tick(struct worker *w, uint64_t now)
{
	struct bench *b = w->b;
	struct conn *c = b->clock_conn;
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	if (ph >= PH_DRAIN || c->busy || now < w->clock_next_ns)
		return;
	w->clock_next_ns = now + (uint64_t)b->clock_ms * 1000000u;
	char body[64];
	int n = snprintf(body, sizeof(body), "{\"advance_s\":%u}", b->clock_advance_s);
	req_http(b, c, "POST", "/admin/clock", b->admin_auth, body, (size_t)n);
	c->op = OP_CLOCK;
	c->busy = true;
	w->busy++;
	c->t0_ns = now;
	if (c->fd < 0) {
		if (conn_open(c) < 0)
			conn_lost(c);
		return;
	}
	conn_write(c);
}

static int answer_clock_or(struct bench *b, struct conn *c, int *status, const char *body,
			   size_t len)
{
	if (c->op == OP_CLOCK)
		return *status == 200 ? CLS_OK : CLS_OTHER;
	return answer_mixed(b, c, status, body, len);
}

static int verify_mixed(struct bench *b)
{
	verify_metrics(b); /* before the final clock advance, which it would count */
	/* every hold still active expires now */
	char body[64];
	snprintf(body, sizeof(body), "{\"advance_s\":%u}", b->hold_ttl_s + 3600);
	struct lreq *q = call1(b, "POST", "/admin/clock", b->admin_auth, body);
	check(q->status == 200, "final clock advance answered %d", q->status);
	list_free(q, 1);
	struct item_state is;
	items_read(b, &is, 1);
	/* the measured item's confirms (the warm item's are left out) */
	uint64_t ok = atomic_load(&b->item_ok[0]), unk = atomic_load(&b->item_lost[0]);
	check(is.held == 0, "no unit held after every hold expired (held %lld)", is.held);
	check(is.sold >= (long long)ok && is.sold <= (long long)(ok + unk),
	      "sold %lld = confirms that succeeded %" PRIu64 " (+ %" PRIu64 " unknown)", is.sold, ok,
	      unk);
	check(is.available + is.sold == (long long)b->stock, "available + sold = stock (%lld + %lld)",
	      is.available, is.sold);
	uint64_t holds = atomic_load(&b->m_holds_ok);
	uint64_t ended = atomic_load(&b->m_confirm_ok) + atomic_load(&b->m_confirm_expired) + atomic_load(&b->m_release_ok) +
			 atomic_load(&b->m_release_expired) + atomic_load(&b->m_let_expire);
	/* a hold whose follow-up was not sent (stop) or had no answer is the
	 * difference; at most one per connection */
	check(ended <= holds && holds - ended <= b->conns,
	      "holds created %" PRIu64 " = confirmed + released + expired %" PRIu64
	      " (+ at most one pending per connection)",
	      holds, ended);
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " holds=%" PRIu64 " confirmed=%" PRIu64 " released=%" PRIu64 " let_expire=%" PRIu64
		 " confirm_expired=%" PRIu64,
		 holds, ok, (uint64_t)atomic_load(&b->m_release_ok),
		 (uint64_t)atomic_load(&b->m_let_expire), (uint64_t)atomic_load(&b->m_confirm_expired));
	return 0;
}

/* ---- ping (GET /health; GET / on the ceiling; GET /ping on Django) ------ */

static bool next_ping(struct bench *b, struct conn *c)
{
	if (c->tmpl_phase != PH_RUN) {
		const char *path = !strcmp(b->system, "django") ? "/ping" : "/health";
		req_http(b, c, "GET", path, NULL, NULL, 0);
		c->tmpl_phase = PH_RUN;
	}
	c->woff = 0;
	c->op = OP_PING;
	return true;
}

static int answer_plain(struct bench *b, struct conn *c, int *status, const char *body,
			size_t len)
{
	(void)b;
	(void)c;
	(void)body;
	(void)len;
	if (*status >= 200 && *status < 300)
		return CLS_OK;
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

/* ---- the ceiling: holdfast's hot request bytes, an empty handler -------- */

static int setup_ceiling(struct bench *b)
{
	b->items = 1;
	b->auth = xalloc(b->conns * sizeof(char *));
	b->customers = 1;
	for (uint32_t i = 0; i < b->conns; i++) {
		/* a token of holdfast's length: the same bytes on the wire */
		b->auth[i] = xalloc(160);
		snprintf(b->auth[i], 160,
			 "Authorization: Bearer hft1.YmVuY2gtYzAwLTB8MTc5NTQyMDcxNTA0NQ.%043u\r\n", i);
	}
	b->item_ok = xalloc(2 * sizeof(*b->item_ok));
	b->item_lost = xalloc(2 * sizeof(*b->item_lost));
	return 0;
}

/* ---- Django (the peer): /products/{id}/sell, /shows/{id}/book ----------- */

/* Its state is checked with SQL by bench/side-by-side.sh (the peer has no
 * read route for stock); warm-up goes to product --django-products + 1 (the
 * last) and show 2, which the checks leave out. */
static bool next_sell(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	uint32_t id = ph == PH_WARM ? b->django_products + 1
		      : !strcmp(b->workload, "spread") ? 1 + rnd_below(&c->rng, b->django_products)
						       : 1;
	char path[64];
	snprintf(path, sizeof(path), "/products/%u/sell", id);
	req_http(b, c, "POST", path, NULL, "{\"n\": 1}", 8);
	c->op = OP_SELL;
	return true;
}

static bool next_book(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	char path[64], body[256];
	snprintf(path, sizeof(path), "/shows/%d/book", ph == PH_WARM ? 2 : 1);
	uint32_t k = 2 + rnd_below(&c->rng, 3), s[4];
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"user\": %u, \"seats\": [",
				    1 + rnd_below(&c->rng, b->django_users));
	for (uint32_t i = 0; i < k; i++) {
	again:
		s[i] = 1 + rnd_below(&c->rng, b->event_seats);
		for (uint32_t j = 0; j < i; j++)
			if (s[j] == s[i])
				goto again;
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s%u", i ? ", " : "", s[i]);
	}
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	req_http(b, c, "POST", path, NULL, body, n);
	c->op = OP_BOOK;
	return true;
}

static int answer_book(struct bench *b, struct conn *c, int *status, const char *body,
		       size_t len)
{
	if (*status == 201) {
		if (c->sent_phase != PH_WARM) {
			const char *t = memmem(body, len, "\"tickets\"", 9);
			const char *e = t ? memchr(t, ']', (size_t)(body + len - t)) : NULL;
			uint64_t k = 0;
			for (const char *p = t; p && p < e; p++)
				if (isdigit((unsigned char)*p) && !isdigit((unsigned char)p[-1]))
					k++;
			atomic_fetch_add(&b->tickets, k);
			atomic_fetch_add(&b->item_ok[0], 1);
		}
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

static int answer_sell(struct bench *b, struct conn *c, int *status, const char *body,
		       size_t len)
{
	(void)body;
	(void)len;
	if (*status == 200) {
		if (c->sent_phase != PH_WARM)
			atomic_fetch_add(&b->item_ok[0], 1);
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

static void lost_peer(struct bench *b, struct conn *c)
{
	if (c->sent_phase != PH_WARM)
		atomic_fetch_add(&b->item_lost[0], 1);
}

static int setup_django(struct bench *b)
{
	b->item_ok = xalloc(2 * sizeof(*b->item_ok));
	b->item_lost = xalloc(2 * sizeof(*b->item_lost));
	return 0;
}

static int verify_external(struct bench *b)
{
	/* the script reads these and checks the database */
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " measured_ok=%" PRIu64 " measured_unknown=%" PRIu64 " tickets=%" PRIu64,
		 (uint64_t)atomic_load(&b->item_ok[0]), (uint64_t)atomic_load(&b->item_lost[0]),
		 (uint64_t)atomic_load(&b->tickets));
	snprintf(b->verdict, sizeof(b->verdict), "EXTERNAL");
	return 0;
}

/* ---- Redis + Lua (the peer's check-and-decrement, EVALSHA) -------------- */

/* The peer's bench/redis_decr.lua, byte for byte (--redis-script reads
 * the file instead). */
static const char redis_decr_lua[] =
	"if tonumber(redis.call('GET',KEYS[1])) >= tonumber(ARGV[1]) then return "
	"redis.call('DECRBY',KEYS[1],ARGV[1]) else return -1 end";

static void redis_key(struct bench *b, uint32_t i, char *out, size_t cap)
{
	if (i == b->items)
		snprintf(out, cap, "%s:warm", b->tag);
	else
		snprintf(out, cap, "%s:stock:%05u", b->tag, i);
}

static void lreq_resp(struct lreq *q, int argc, const char *const *argv)
{
	struct conn tmp = {0};
	req_resp(&tmp, argc, argv);
	snprintf(q->method, sizeof(q->method), "RESP");
	q->path = strdup(argv[0]);
	q->body = tmp.wb;
	q->body_len = tmp.wlen;
}

static int setup_redis(struct bench *b)
{
	if (!strcmp(b->workload, "scarce"))
		b->items = 1;
	else if (!strcmp(b->workload, "hot"))
		b->items = 1, b->stock = 2000000000u;
	else
		b->stock = 100000000u;
	const char *load[] = {"SCRIPT", "LOAD", b->redis_script};
	struct lreq *q = xalloc(sizeof(*q));
	lreq_resp(q, 3, load);
	list_run(b, q, 1);
	if (q->status != 200 || q->answer_len != 40)
		die("redis: SCRIPT LOAD answered %d %.200s", q->status, q->answer ? q->answer : "");
	memcpy(b->redis_sha, q->answer, 40);
	b->redis_sha[40] = 0;
	list_free(q, 1);
	size_t n = b->items + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char key[96], val[16];
		redis_key(b, i, key, sizeof(key));
		snprintf(val, sizeof(val), "%u", i == b->items ? 2000000000u : b->stock);
		const char *set[] = {"SET", key, val};
		lreq_resp(&l[i], 3, set);
	}
	list_run(b, l, n);
	for (size_t i = 0; i < n; i++)
		if (l[i].status != 200)
			die("redis: SET answered %d", l[i].status);
	list_free(l, n);
	b->item_ok = xalloc(n * sizeof(*b->item_ok));
	b->item_lost = xalloc(n * sizeof(*b->item_lost));
	return 0;
}

static bool next_eval(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	c->item = ph == PH_WARM ? b->items
		  : !strcmp(b->workload, "spread") ? rnd_below(&c->rng, b->items)
						   : 0;
	char key[96];
	redis_key(b, c->item, key, sizeof(key));
	const char *argv[] = {"EVALSHA", b->redis_sha, "1", key, "1"};
	req_resp(c, 5, argv);
	c->op = OP_EVAL;
	return true;
}

static int answer_eval(struct bench *b, struct conn *c, int *status, const char *body,
		       size_t len)
{
	if (*status != 200)
		return CLS_OTHER;
	if (len >= 2 && body[0] == '-') {
		*status = 409; /* the script's -1: not enough stock */
		return CLS_REJECTED;
	}
	atomic_fetch_add_explicit(&b->item_ok[c->item], 1, memory_order_relaxed);
	return CLS_OK;
}

static int verify_redis(struct bench *b)
{
	uint32_t n = b->items + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char key[96];
		redis_key(b, i, key, sizeof(key));
		const char *get[] = {"GET", key};
		lreq_resp(&l[i], 2, get);
	}
	list_run(b, l, n);
	uint32_t bad = 0;
	uint64_t ok_total = 0, sold_total = 0;
	long long left0 = 0;
	for (uint32_t i = 0; i < n; i++) {
		long long left = l[i].answer ? strtoll(l[i].answer, NULL, 10) : -1;
		uint64_t stock = i == b->items ? 2000000000u : b->stock;
		long long sold = (long long)stock - left;
		uint64_t ok = atomic_load(&b->item_ok[i]), lost = atomic_load(&b->item_lost[i]);
		if (left < 0 || sold < (long long)ok || sold > (long long)(ok + lost))
			bad++;
		if (i < b->items) {
			ok_total += ok;
			sold_total += (uint64_t)sold;
		}
		if (i == 0)
			left0 = left;
	}
	list_free(l, n);
	check(!bad, "units taken = successes seen (+ unknown outcomes) on %u of %u keys; taken %" PRIu64
		    ", successes %" PRIu64,
	      n - bad, n, sold_total, ok_total);
	if (!strcmp(b->workload, "scarce")) {
		check(left0 == 0 && ok_total == b->stock, "scarce: exactly %u successes (seen %" PRIu64
							  ", left %lld)",
		      b->stock, ok_total, left0);
		snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
			 " sold_out=%s successes=%" PRIu64, left0 == 0 ? "yes" : "no", ok_total);
	}
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " units_sold=%" PRIu64, sold_total);
	return 0;
}

/* ---- the table of systems x workloads ---------------------------------- */

/* Columns: system, workload, protocol, what one request is, setup, next,
 * answer, lost, verify. */
static const struct row rows[] = {
	{"holdfast", "hot", PROTO_HTTP, "POST /orders, 1 unit of one item (stock 2e9)",
	 setup_orders, next_order, answer_order, lost_order, verify_items},
	{"holdfast", "scarce", PROTO_HTTP, "POST /orders, 1 unit of one item of --stock units",
	 setup_orders, next_order, answer_order, lost_order, verify_items},
	{"holdfast", "spread", PROTO_HTTP, "POST /orders, 1 unit of a random item of --items",
	 setup_orders, next_order, answer_order, lost_order, verify_items},
	{"holdfast", "seats", PROTO_HTTP,
	 "POST /holds of 2-4 random seats of a 10,000-seat event, then POST /holds/{id}/confirm",
	 setup_seats, next_seats, answer_seats, lost_seats, verify_seats},
	{"holdfast", "mixed", PROTO_HTTP,
	 "POST /holds of 1 unit, then confirm (1/2), release (1/4) or let expire (1/4); test clock",
	 setup_mixed, next_mixed, answer_clock_or, lost_mixed, verify_mixed},
	{"holdfast", "batch", PROTO_HTTP, "POST /batch of --batch buy-now operations (hot item)",
	 setup_batch, next_batch, answer_batch, lost_batch, verify_items},
	{"holdfast", "ping", PROTO_HTTP, "GET /health (no engine)", NULL, next_ping, answer_plain,
	 NULL, NULL},
	{"ceiling", "hot", PROTO_HTTP, "holdfast's hot request bytes to an empty handler",
	 setup_ceiling, next_order, answer_plain, NULL, NULL},
	{"ceiling", "ping", PROTO_HTTP, "GET /health to an empty handler", NULL, next_ping,
	 answer_plain, NULL, NULL},
	{"django", "hot", PROTO_HTTP, "POST /products/1/sell {\"n\": 1}", setup_django, next_sell,
	 answer_sell, lost_peer, verify_external},
	{"django", "scarce", PROTO_HTTP, "POST /products/1/sell {\"n\": 1} (stock set by the caller)",
	 setup_django, next_sell, answer_sell, lost_peer, verify_external},
	{"django", "spread", PROTO_HTTP, "POST /products/{random}/sell {\"n\": 1}", setup_django,
	 next_sell, answer_sell, lost_peer, verify_external},
	{"django", "seats", PROTO_HTTP, "POST /shows/1/book 2-4 random seats of 10,000",
	 setup_django, next_book, answer_book, lost_peer, verify_external},
	{"django", "ping", PROTO_HTTP, "GET /ping (DRF, no database)", setup_django, next_ping,
	 answer_plain, NULL, NULL},
	{"redis", "hot", PROTO_RESP, "EVALSHA check-and-decrement, one key", setup_redis, next_eval,
	 answer_eval, lost_order, verify_redis},
	{"redis", "scarce", PROTO_RESP, "EVALSHA check-and-decrement, one key of --stock",
	 setup_redis, next_eval, answer_eval, lost_order, verify_redis},
	{"redis", "spread", PROTO_RESP, "EVALSHA check-and-decrement, a random key of --items",
	 setup_redis, next_eval, answer_eval, lost_order, verify_redis},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

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
	{"--workload", O_STR, OFF(workload), "hot", "hot | scarce | seats | spread | mixed | batch | ping"},
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
	{"--event-seats", O_U32, OFF(event_seats), "10000", "seats: seats per event"},
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
	for (size_t i = 0; i < N_ROWS; i++)
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
	for (size_t i = 0; i < N_ROWS; i++)
		if (!strcmp(rows[i].system, b->system) && !strcmp(rows[i].workload, b->workload))
			b->row = &rows[i];
	if (!b->row)
		die("no workload '%s' for system '%s' (--help lists them)", b->workload, b->system);
	if (!b->conns || b->conns > CONNS_MAX)
		die("--connections: 1..%u", CONNS_MAX);
	if (!b->threads || b->threads > THREADS_MAX)
		die("--threads: 1..%u", THREADS_MAX);
	if (!b->batch || b->batch > BATCH_MAX)
		die("--batch: 1..%u", BATCH_MAX);
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

/* ---- main --------------------------------------------------------------- */

static void add_extra(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_extra(struct bench *b, const char *fmt, ...)
{
	size_t n = strlen(b->extra);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->extra + n, sizeof(b->extra) - n, fmt, ap);
	va_end(ap);
}

static void *worker_thread(void *arg) { return worker_main(arg); }

int main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	signal(SIGPIPE, SIG_IGN);
	parse_args(b, argc, argv);
	uint32_t threads = b->threads;
	bool holdfast = !strcmp(b->system, "holdfast");

	if (b->row->setup)
		b->row->setup(b);
	if (b->batch_missing) {
		printf("RESULT system=%s workload=%s skipped=1 reason=no_batch_route verify=SKIP\n",
		       b->system, b->workload);
		return 0;
	}
	if (holdfast && b->row->verify)
		b->n_metrics0 = metrics_read(b, &b->metrics0);

	/* the run */
	b->list_mode = false;
	bool clock = !strcmp(b->workload, "mixed") && holdfast;
	workers_make(b, b->conns, threads, clock);
	atomic_store(&b->phase, b->warmup_s > 0 ? PH_WARM : PH_RUN);
	struct cpu_snap c0, c1;
	if (b->warmup_s <= 0) {
		cpu_snap(b, &c0);
		b->t_run0_ns = mono_ns();
	}
	for (uint32_t t = 0; t < b->threads; t++)
		if (pthread_create(&b->workers[t].th, NULL, worker_thread, &b->workers[t]) != 0)
			die("pthread_create failed");
	if (b->warmup_s > 0) {
		sleep_s(b->warmup_s);
		cpu_snap(b, &c0);
		b->t_run0_ns = mono_ns();
		atomic_store(&b->phase, PH_RUN);
	}
	sleep_s(b->duration_s);
	atomic_store(&b->phase, PH_DRAIN);
	b->t_run1_ns = mono_ns();
	cpu_snap(b, &c1);
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
	double window_s = (double)(b->t_run1_ns - b->t_run0_ns) / 1e9;
	cpu_account(b, &c0, &c1, window_s);

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
	if (!strcmp(b->workload, "seats") && holdfast) /* bookings: confirms that succeeded */
		add_extra(b, " bookings_per_s=%.0f", (double)r->op_cls[OP_CONFIRM][CLS_OK] / window_s);
	if (!strcmp(b->workload, "seats") && !holdfast)
		add_extra(b, " bookings_per_s=%.0f", (double)r->ok / window_s);
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
