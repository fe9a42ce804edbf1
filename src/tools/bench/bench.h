/*
 * bench.h: what the files of holdfast-bench share (docs/BENCHMARKS.md,
 * "HTTP, side by side"; bench/side-by-side.sh drives it).
 *
 * holdfast-bench is a closed-loop load generator and state checker. Where
 * each part lives:
 *
 *   main.c         options (one table), the run's phases, the report (the
 *                  RESULT line bench/side-by-side.sh parses)
 *   rows.c         the table of systems x workloads: one row each (setup,
 *                  next request, answer, lost, verify)
 *   loop.c         connections and the epoll loop (one per thread), the
 *                  setup/verify request lists
 *   idle.c         --idle: extra keep-alive connections held open, idle,
 *                  through the measured run
 *   proto.c        request bytes (HTTP/1.1, RESP), answer parsers, JSON readers
 *   stats.c        the latency histogram and the per-phase counts
 *   cpu.c          CPU accounting of the measured window; the server's RSS
 *   hf_api.c       holdfast through its public API: tokens, items, metrics,
 *                  and the checker of items and route counts (check())
 *   wl_orders.c    holdfast hot, scarce, spread (POST /orders, 1 unit)
 *   wl_batch.c     holdfast batch (POST /batch)
 *   wl_seats.c     holdfast seats (hold 2-4 seats, then confirm) and its check
 *   wl_mixed.c     holdfast mixed (hold, then confirm / release / expire;
 *                  test clock) and its check
 *   wl_onsale.c    holdfast onsale (hold 2-4 seats, then release them; a
 *                  probe seat changing every --probe-ms) and its check
 *   watch.c        --watchers, --pollers: the event's feed read by N SSE
 *                  connections, its whole seat map polled by N more, each
 *                  kind on a thread of its own; the probe's delivery delay
 *   wl_ping.c      ping (GET /health) and the ceiling (an empty handler)
 *   peer_django.c  the Django peer (its state is checked by the script, SQL)
 *   peer_redis.c   Redis + Lua (EVALSHA) and its check
 *
 * A run, in order:
 *   setup    objects and customer tokens through the public API (admin
 *            key), sent by this same client on up to SETUP_CONNS
 *            connections (group commit makes 10,000 creations cost a
 *            fraction of a second);
 *   idle     --idle N connections opened, each answered once, then left
 *            open and silent (idle.c);
 *   watch    --watchers N feeds opened and their snapshots read, then
 *            read through the run by a thread of their own (watch.c);
 *            --pollers poll from the warm-up on, on another;
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
 * Threads: --threads workers, each owning its connections and its stats
 * (no sharing on the hot path but the workloads' atomic counters); the
 * watchers' and the pollers' threads (when asked for); the main thread
 * only moves the phase (warm-up -> run -> drain -> stop) and takes the
 * CPU snapshots at the window's edges.
 */
#ifndef HF_TOOLS_BENCH_H
#define HF_TOOLS_BENCH_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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
#define IDLE_MAX 1000000 /* --idle: a million sockets is past any machine here */
#define WATCH_MAX 100000 /* --watchers, --pollers: each */

enum proto { PROTO_HTTP, PROTO_RESP };
enum cls { CLS_OK, CLS_REJECTED, CLS_OTHER };

/* ---- operations: what one request is (the table is in rows.c) ---------- */

enum op { OP_ORDER, OP_HOLD, OP_CONFIRM, OP_RELEASE, OP_BATCH, OP_PING, OP_SELL, OP_BOOK,
	  OP_EVAL, OP_CLOCK, OP_LIST, N_OPS };
#define OP_NONE N_OPS /* a row's bookings column: none */
struct op_info {
	const char *name;
	const char *route;
	bool aux;
};
extern const struct op_info ops[N_OPS];

/* ---- latency histogram and counts (stats.c) ---------------------------- */

/* Log-linear in microseconds: exact below 256 us, then 128 sub-buckets per
 * power of two (under 0.8% error), up to 2^40 us. */
#define HIST_SUB 128
#define HIST_N (256 + 33 * HIST_SUB)
struct hist {
	uint64_t n[HIST_N];
	uint64_t count, max_us;
	double sum_us;
};

void hist_add(struct hist *h, uint64_t us);
/* The q-quantile in milliseconds (0 when empty). */
double hist_ms(const struct hist *h, double q);

/* One per worker and phase, merged at the end. */
struct stats {
	uint64_t answers, ok, rejected, other;
	uint64_t ops_done;                   /* operations: a batch counts its ops */
	uint64_t status[STATUS_MAX + 1];     /* last slot: anything else */
	uint64_t op_status[N_OPS][STATUS_MAX + 1];
	uint64_t op_cls[N_OPS][3];
	struct hist h;
};

void stats_merge(struct stats *to, const struct stats *from);

/* ---- the run's shape ---------------------------------------------------- */

struct bench;
struct conn;
struct worker;

/* One row per system x workload (rows.c). next builds the connection's
 * next request (false: nothing to send now); answer classifies an answer
 * and moves the workload's state (it may rewrite *status, for RESP); lost
 * is told of a request whose outcome will stay unknown; setup and verify
 * return 0 or -1 (verify: a failed check, printed). tick (or NULL): a
 * connection of its own beside the load (b->clock_conn, on worker 0),
 * driven by this function at every turn of worker 0's loop: the test
 * clock (mixed), the feed probe (onsale); its answers go to answer and
 * lost like any other but stay out of requests/s and latency. bookings:
 * the op whose successes are bookings (bookings_per_s), or OP_NONE.
 * report (or NULL): adds the workload's own RESULT fields, whether or not
 * verify ran. */
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
	void (*tick)(struct worker *w, uint64_t now);
	uint8_t bookings;
	void (*report)(struct bench *b, double window_s);
};
extern const struct row rows[];
extern const size_t n_rows;

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

struct conn {
	struct worker *w;
	uint32_t id;                /* 0..conns-1; conns: the tick connection's */
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

/* The server's route/status counts (GET /metrics of holdfast). */
struct metric_count {
	char key[96];
	uint64_t v;
};

/* --idle: the connections held open through the run (idle.c). */
struct idle {
	int *fd;                     /* -1: never opened or closed */
	uint32_t n;                  /* asked for */
	uint32_t opened;             /* answered once and left open */
	uint32_t failed;             /* no connection or no answer */
	uint32_t open_end, closed_end; /* at the end: still open, closed by the server */
	double open_s;               /* time to open them all */
	long rss_kib_before, rss_kib_after; /* the server's VmRSS (-1: unknown) */
};

/* onsale's probe: one seat (S-<seat>, no writer touches it) that the tick
 * connection holds and releases in turn, every --probe-ms; wl_onsale.c
 * sends and acknowledges, the watch thread finds each change in the
 * feeds (watch.c). Transition k makes the seat held when k is even, free
 * when odd. It is published (started = k + 1) before its request is
 * written, since a feed may carry it before its answer is read; ack_ns[k]
 * (the 2xx answer read, mono_ns) is stored after in_window[k] (answered
 * inside the measured window), so a reader that sees ack_ns[k] sees both.
 * A transition whose answer is not 2xx, or lost, is sent again. */
struct probe {
	uint32_t seat;
	uint32_t cap;                /* transitions room: the run at --probe-ms */
	_Atomic uint32_t started;
	_Atomic uint64_t *ack_ns;    /* 0: not acknowledged yet */
	_Atomic uint8_t *in_window;
	/* worker 0 only */
	uint32_t done;               /* transitions acknowledged */
	uint64_t next_ns;            /* when to send the next */
	uint64_t errors;             /* answers not 2xx, and lost requests */
};

struct watch; /* watch.c */

struct bench {
	/* options */
	const char *system, *workload, *target;
	char host[64];
	uint16_t port;
	struct sockaddr_in addr;
	uint32_t conns, threads, stock, items, events, event_seats, batch, customers;
	uint32_t hold_ttl_s, clock_ms, clock_advance_s, django_users, django_products;
	uint32_t idle_n, idle_per_addr;
	uint32_t watchers_n, pollers_n, poll_interval_ms, probe_ms;
	double duration_s, warmup_s, drain_s, seats_fill, idle_settle_s;
	const char *tag, *admin_key_file, *redis_script_file, *account, *idle_path, *perf_ctl,
		*thread_cpu;
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
	struct conn *clock_conn;     /* the row's tick connection (NULL: none) */
	uint64_t t_run0_ns, t_run1_ns;
	struct idle idle;
	struct watch *watch;         /* NULL: no watchers nor pollers */
	char feed_event[96];         /* the event watched and polled (onsale) */
	struct probe probe;
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
	char extra[2048];            /* workload fields for the RESULT line */
	/* metrics (holdfast): route/status counts before the run */
	struct metric_count *metrics0;
	size_t n_metrics0;
	/* CPU */
	pid_t acct[ACCOUNT_MAX];
	int n_acct;
	double cpu_client_s, cpu_server_s, cpu_other_s, busy_pct, steal_s;
	double thread_cpu_s;         /* --thread-cpu: that thread's CPU in the window (-1: unknown) */
};

/* SEAT_RELEASING (onsale): its hold's release is sent, not yet answered;
 * another hold may take the seat once the server has freed it. */
enum { SEAT_FREE = 0, SEAT_HELD = 1, SEAT_SOLD = 2, SEAT_UNSURE_HELD = 3, SEAT_UNSURE_SOLD = 4,
       SEAT_RELEASING = 5 };

/* ---- small helpers (main.c) --------------------------------------------- */

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xalloc(size_t n); /* zeroed; dies when out of memory */
uint64_t mono_ns(void);
void sleep_s(double s);
uint64_t rnd(uint64_t *s);
static inline uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)((rnd(s) >> 32) * n >> 32);
}
/* Appends to b->extra (fields of the RESULT line, each " key=value"). */
void add_extra(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- request bytes, answer parsers, JSON readers (proto.c) -------------- */

void wb_reserve(struct conn *c, size_t n);
/* Builds an HTTP/1.1 request into c->wb. auth: a whole header line or NULL;
 * body NULL: no body headers (a GET); otherwise a JSON body (maybe empty). */
void req_http(struct bench *b, struct conn *c, const char *method, const char *path,
	      const char *auth, const char *body, size_t body_len);
/* Builds a RESP command (an array of bulk strings) into c->wb. */
void req_resp(struct conn *c, int argc, const char *const *argv);

/* Answer parsers: (buf, len, out) -> bytes consumed, -2 need more, -1 bad
 * input, -3 (HTTP) headers done, the body runs to the close. */
struct answer {
	int status;
	const char *body;
	size_t body_len;
	bool close;
};
long http_parse(const char *buf, size_t len, struct answer *a);
long resp_parse(const char *buf, size_t len, struct answer *a);

/* The number after "key": in body, or -1. */
long long json_num(const char *body, size_t len, const char *key);
/* Copies the string after "key":" into out (cap bytes); its length or -1. */
long json_str(const char *body, size_t len, const char *key, char *out, size_t cap);
/* "id":"h-123" -> 123 (0 when absent). */
uint64_t json_booking_id(const char *body, size_t len, char prefix);

/* ---- connections, the loop, request lists (loop.c) ---------------------- */

int conn_open(struct conn *c);
void conn_write(struct conn *c);
/* Sends the request built in c->wb (now: its start): opens the connection
 * first when it has none (written once connected); a failed open is a
 * socket error and the request is lost. */
void conn_send(struct conn *c, uint64_t now);
void conn_lost(struct conn *c);
void *worker_main(void *arg);
/* Creates the workers and their connections (conns of them; plus the tick
 * connection on worker 0 when tick). */
void workers_make(struct bench *b, uint32_t conns, uint32_t threads, bool tick);
void workers_free(struct bench *b);
/* Sends every request of list (n) on up to SETUP_CONNS connections and
 * waits for every answer. Returns the number without an answer. */
size_t list_run(struct bench *b, struct lreq *list, size_t n);
void lreq_set(struct lreq *q, const char *method, const char *path, const char *auth,
	      const char *body);
void list_free(struct lreq *list, size_t n);
/* One request, its answer in *q (the caller frees with list_free). */
struct lreq *call1(struct bench *b, const char *method, const char *path, const char *auth,
		   const char *body);

/* ---- idle connections (idle.c) ------------------------------------------ */

/* Opens b->idle_n connections (from 127.0.0.2 upwards, b->idle_per_addr
 * per address), sends each one b->idle_path and reads the answer, then
 * leaves them open; reads the server's VmRSS before and after (the first
 * --account PID). Dies when not one could be opened. */
void idle_open(struct bench *b);
/* Raises RLIMIT_NOFILE to need (dies naming `what` when it cannot). */
void raise_nofile(unsigned long long need, const char *what);
/* A non-blocking connect() to the target; from loopback source address
 * 127.0.0.2 + addr when loopback (each address has its own ephemeral
 * ports and per-address caps). -1 on error. */
int connect_from(struct bench *b, uint32_t addr, bool loopback);
/* Counts how many are still open (a server that closed one: EOF). */
void idle_check(struct bench *b);
void idle_close(struct bench *b);

/* ---- feed watchers and seat-map pollers (watch.c) ------------------------ */

/* Opens b->watchers_n feeds of b->feed_event (source addresses after
 * --idle's), reads every snapshot, waits --idle-settle-s and reads the
 * server's VmRSS before and after; then starts the watchers' thread,
 * which reads them all until watch_stop, and the pollers'. Dies when not
 * one feed could be opened. */
void watch_open(struct bench *b);
/* The load starts: the pollers begin (spread over one interval). */
void watch_go(struct bench *b);
/* Stops the threads (no earlier than 1 s after the window, so the last
 * changes can arrive), closes every connection, keeps the numbers. */
void watch_stop(struct bench *b);
/* The feed and poll checks (ids increase, every change seen), for verify. */
void watch_verify(struct bench *b);
/* The watchers', pollers' and probe's RESULT fields (zeros without them). */
void watch_report(struct bench *b, double window_s);

/* ---- CPU and memory (cpu.c) --------------------------------------------- */

struct cpu_snap {
	uint64_t busy, steal;        /* machine ticks: user+nice+system+irq+softirq; steal */
	uint64_t trees;              /* ticks of the --account process trees */
	double self_s;               /* this process (the client) */
};
void cpu_snap(struct bench *b, struct cpu_snap *s);
void cpu_account(struct bench *b, const struct cpu_snap *s0, const struct cpu_snap *s1,
		 double wall_s);
/* VmRSS of pid in KiB, or -1. */
long proc_rss_kib(pid_t pid);

/* ---- holdfast through its API (hf_api.c) -------------------------------- */

void must_list(struct bench *b, struct lreq *l, size_t n, const char *what, int ok1, int ok2);
/* Mints one token per connection and customer (per_conn each). */
void setup_tokens(struct bench *b, uint32_t per_conn);
const char *auth_of(struct bench *b, struct conn *c, uint32_t k);
/* Item i's id; index b->items is the warm item. */
void item_id(struct bench *b, uint32_t i, char *out, size_t cap);
/* Creates the workload's items (b->items of b->stock units) and the warm
 * item (plenty). */
void setup_items(struct bench *b);
/* The metrics of holdfast's route/status counter, "route|status" -> value. */
size_t metrics_read(struct bench *b, struct metric_count **out);

extern int check_failures;
/* Prints one check's line (stderr); a false one is counted a failure. */
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void verify_metrics(struct bench *b);
struct item_state {
	long long available, held, sold;
};
void items_read(struct bench *b, struct item_state *out, uint32_t n);
/* The totals over the measured items, for a workload's own checks. */
struct items_seen {
	long long left0;             /* item 0's available */
	uint64_t ok_total, sold_total, lost_total;
};
/* Items: every item's sold equals the successes seen for it, plus at most
 * its unknown outcomes; nothing held; available + sold = stock. then (may
 * be NULL) adds the workload's own checks; the route counts last. */
int verify_items_then(struct bench *b, void (*then)(struct bench *b, const struct items_seen *s));

/* ---- the rows' functions ------------------------------------------------ */

/* wl_orders.c: hot, scarce, spread */
int setup_hot(struct bench *b);
int setup_scarce(struct bench *b);
int setup_spread(struct bench *b);
bool next_order(struct bench *b, struct conn *c);
bool next_order_spread(struct bench *b, struct conn *c);
int answer_order(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
void lost_order(struct bench *b, struct conn *c);
int verify_items(struct bench *b);
int verify_scarce(struct bench *b);
/* wl_batch.c */
int setup_batch(struct bench *b);
bool next_batch(struct bench *b, struct conn *c);
int answer_batch(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
void lost_batch(struct bench *b, struct conn *c);
/* wl_seats.c */
/* Events 0..n-1 (ids from id_of) of --event-seats seats "S-1".."S-N" each,
 * through the API; dies unless every one is made. */
void create_events(struct bench *b, uint32_t n, void (*id_of)(struct bench *b, uint32_t e, char *out, size_t cap));
/* The seats of a seat-map answer (GET /events/{id}/seats; dies unless
 * 200), in order: each(arg, N, state) for seat "S-N" (state points at its
 * value's first letter). Returns how many. */
uint32_t seat_map_each(const struct lreq *q, uint32_t max_seat,
		       void (*each)(void *arg, uint32_t seat, const char *state), void *arg);
/* free + held + sold + blocked in an answer of GET /events/{id}. */
long long event_counts_sum(const struct lreq *ev);
int setup_seats(struct bench *b);
bool next_seats(struct bench *b, struct conn *c);
int answer_seats(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
void lost_seats(struct bench *b, struct conn *c);
int verify_seats(struct bench *b);
/* wl_mixed.c */
int setup_mixed(struct bench *b);
bool next_mixed(struct bench *b, struct conn *c);
int answer_clock_or(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
void lost_mixed(struct bench *b, struct conn *c);
int verify_mixed(struct bench *b);
void clock_tick(struct worker *w, uint64_t now);
/* wl_onsale.c */
int setup_onsale(struct bench *b);
bool next_onsale(struct bench *b, struct conn *c);
int answer_onsale(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
void lost_onsale(struct bench *b, struct conn *c);
int verify_onsale(struct bench *b);
void probe_tick(struct worker *w, uint64_t now);
void report_onsale(struct bench *b, double window_s);
/* wl_ping.c: ping, the ceiling */
bool next_ping(struct bench *b, struct conn *c);
bool next_ping_django(struct bench *b, struct conn *c);
int answer_plain(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
int setup_ceiling(struct bench *b);
/* peer_django.c */
int setup_django(struct bench *b);
bool next_sell(struct bench *b, struct conn *c);
bool next_sell_spread(struct bench *b, struct conn *c);
bool next_book(struct bench *b, struct conn *c);
int answer_sell(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
int answer_book(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
void lost_peer(struct bench *b, struct conn *c);
int verify_external(struct bench *b);
/* peer_redis.c */
extern const char redis_decr_lua[];
int setup_redis_hot(struct bench *b);
int setup_redis_scarce(struct bench *b);
int setup_redis_spread(struct bench *b);
bool next_eval(struct bench *b, struct conn *c);
bool next_eval_spread(struct bench *b, struct conn *c);
int answer_eval(struct bench *b, struct conn *c, int *status, const char *body, size_t len);
int verify_redis(struct bench *b);
int verify_redis_scarce(struct bench *b);

#endif
