/*
 * postgres.c: the PostgreSQL engine. Any number of holdfast processes in
 * front of one database; every one answers the whole API.
 *
 * Shape (docs/DESIGN.md, "PostgreSQL engine", says why):
 *   - Every process keeps the pure core (src/core) in memory. The rules run
 *     there and only there, so the semantics are the core's by construction.
 *   - The database holds the one total order: a log of write batches
 *     (holdfast.log: seq, now_ms, the encoded commands), snapshots that
 *     bound it, and plain tables for reporting (sql/schema.sql).
 *   - One engine thread per process owns the connection and the state. It
 *     takes the requests waiting for it as one batch, and for a batch with
 *     a write runs one transaction in two round trips (pipeline mode):
 *       1. BEGIN; UPDATE holdfast.head (the one lock: batches of all
 *          processes follow each other in the order they take it; it also
 *          hands out the batch's seq and the clocks); SELECT the log rows
 *          other processes appended since this process's position.
 *       2. (locally: apply those rows, then this batch at now = the
 *          database's clock or the shared test clock, never less than the
 *          last batch's) INSERT the batch's log row; SELECT
 *          holdfast.write_rows(the plain-table rows the batch changed);
 *          COMMIT. Only after the commit returns are the requests done.
 *     A batch of reads only catches up (one round trip, no lock) and runs
 *     the reads: they see every write acknowledged before they began.
 *     Before taking a batch the thread waits up to GATHER_US for as many
 *     requests as the last one had (closed-loop clients it just answered
 *     send their next), so lock turns between processes stay full.
 *   - Nothing but the head row is locked, always first: no deadlock, no
 *     serialization failure at READ COMMITTED. Any error (lost connection
 *     included) drops the connection; a batch that failed before this
 *     process applied it is retried (bounded, RETRIES_MAX); one whose
 *     commit is in doubt is looked up in the log after reconnecting (and
 *     the local state is rebuilt from the database, which has the truth):
 *     committed -> its replies stand; not -> retried. Past the retries, or
 *     while the database cannot be reached, requests complete with
 *     HF_ENGINE_FULL (never applied: 503 + Retry-After) or, in doubt,
 *     HF_ENGINE_FAILED (503, outcome unknown); the thread reconnects by
 *     itself every RECONNECT_MS.
 *   - Expiry: the core expires holds at each batch's now (every read and
 *     write), so a hold is dead at expires_at whatever the tables say. Each
 *     process knows every active hold (it applies every batch) and, when
 *     idle, commits a TICK once one is due (the sweep), which rewrites the
 *     expired holds' rows. With a test clock, hf_engine_clock_advance moves
 *     the shared clock and queues a TICK.
 *
 * Invariants:
 *   - pos is the seq of the last log row applied to sm; sm is the state the
 *     log up to pos produces (rebuilt from the database when a failure may
 *     have left it elsewhere: `dirty`).
 *   - done is called for a write only after its transaction committed.
 *   - Only the engine thread touches conn, sm (but for immutable names),
 *     pos and the due heap; q_* under q_mu, st under st_mu. sm_shown (what
 *     hf_engine_sm hands out) changes only when a rebuild replaces sm; the
 *     replaced state is freed HF_ENGINE_SM_RETIRED_S later.
 */
#include "engine/postgres.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/assert.h"
#include "engine/engine_impl.h"

extern const char hf_pg_schema_sql[];  /* sql/schema.sql (generated C) */
extern const char hf_pg_queries_sql[]; /* sql/queries.sql */

#define RETRIES_MAX 3          /* transparent retries of one batch */
#define RECONNECT_MS 250       /* between attempts while the database is away */
#define TICK_MIN_MS 100        /* idle sweeps at most this often */
#define BATCH_MAX_DEFAULT 1024
#define GATHER_US 1000         /* at most this much added to a batch's wait */

/* ---- statements (sql/queries.sql, by name) ------------------------------- */

enum stmt {
	S_SCHEMA_LOCK, S_SCHEMA_EXISTS, S_SCHEMA_VERSION, S_CONFIG_GET, S_CONFIG_PUT, S_HEAD_INIT,
	S_HEAD_GET, S_SNAPSHOT_LATEST, S_WRITE_BEGIN, S_LOG_SINCE, S_READ_BEGIN, S_LOG_APPEND,
	S_WRITE_ROWS, S_LOG_GET, S_CLOCK_ADVANCE, S_CLOCK_GET, S_SNAPSHOT_PUT, S_SNAPSHOT_PRUNE,
	S_SNAPSHOT_PRUNE_IMAGES, S_COUNT
};

/* Columns: the name in queries.sql, prepared on connect (hot path). */
static const struct {
	const char *name;
	bool prepare;
} stmt_names[S_COUNT] = {
	[S_SCHEMA_LOCK] = {"schema_lock", false},
	[S_SCHEMA_EXISTS] = {"schema_exists", false},
	[S_SCHEMA_VERSION] = {"schema_version", false},
	[S_CONFIG_GET] = {"config_get", false},
	[S_CONFIG_PUT] = {"config_put", false},
	[S_HEAD_INIT] = {"head_init", false},
	[S_HEAD_GET] = {"head_get", false},
	[S_SNAPSHOT_LATEST] = {"snapshot_latest", false},
	[S_WRITE_BEGIN] = {"write_begin", true},
	[S_LOG_SINCE] = {"log_since", true},
	[S_READ_BEGIN] = {"read_begin", true},
	[S_LOG_APPEND] = {"log_append", true},
	[S_WRITE_ROWS] = {"write_rows", true},
	[S_LOG_GET] = {"log_get", false},
	[S_CLOCK_ADVANCE] = {"clock_advance", true},
	[S_CLOCK_GET] = {"clock_get", false},
	[S_SNAPSHOT_PUT] = {"snapshot_put", false},
	[S_SNAPSHOT_PRUNE] = {"snapshot_prune", false},
	[S_SNAPSHOT_PRUNE_IMAGES] = {"snapshot_prune_images", false},
};

static char *stmt_sql[S_COUNT]; /* parsed once from hf_pg_queries_sql */
static pthread_once_t stmt_once = PTHREAD_ONCE_INIT;

/* Splits queries.sql at its "-- name: X" lines; comment lines are kept
 * (PostgreSQL ignores them). */
static void stmt_parse(void)
{
	const char *p = hf_pg_queries_sql;
	while ((p = strstr(p, "-- name: ")) != NULL) {
		p += 9;
		const char *eol = strchr(p, '\n');
		HF_ASSERT(eol != NULL);
		size_t nl = (size_t)(eol - p);
		const char *end = strstr(eol, "-- name: ");
		if (!end)
			end = eol + strlen(eol);
		for (int i = 0; i < S_COUNT; i++) {
			if (strlen(stmt_names[i].name) == nl && !memcmp(stmt_names[i].name, p, nl)) {
				size_t n = (size_t)(end - eol - 1);
				stmt_sql[i] = malloc(n + 1);
				HF_ASSERT(stmt_sql[i] != NULL);
				memcpy(stmt_sql[i], eol + 1, n);
				stmt_sql[i][n] = 0;
			}
		}
		p = end;
	}
	for (int i = 0; i < S_COUNT; i++)
		HF_ASSERT(stmt_sql[i] != NULL); /* queries.sql names every statement */
}

/* ---- growable buffer ------------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_need(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t c = b->cap ? b->cap : 4096;
	while (c < b->len + n)
		c *= 2;
	b->p = realloc(b->p, c);
	HF_ASSERT(b->p != NULL);
	b->cap = c;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_need(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A JSON string. The state's strings are bytes; PostgreSQL text is UTF-8
 * without NUL, so a NUL or a byte that is not part of valid UTF-8 is
 * written as U+FFFD (the plain tables show such a name with the
 * replacement character; holdfast itself keeps the bytes). */
static void buf_json_str(struct buf *b, struct hf_str s)
{
	buf_need(b, (size_t)s.len * 6 + 2);
	char *o = b->p + b->len;
	const unsigned char *p = (const unsigned char *)s.ptr;
	*o++ = '"';
	for (uint32_t i = 0; i < s.len;) {
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			i++;
		} else if (c == 0) {
			memcpy(o, "\\ufffd", 6);
			o += 6;
			i++;
		} else if (c < 0x20) {
			o += sprintf(o, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			*o++ = (char)c;
			i++;
		} else {
			uint32_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			if (c > 0xf4)
				n = 0;
			bool ok = n > 0 && i + n <= s.len;
			uint32_t cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
			for (uint32_t k = 1; ok && k < n; k++) {
				if ((p[i + k] & 0xc0) != 0x80)
					ok = false;
				cp = cp << 6 | (p[i + k] & 0x3f);
			}
			if (ok && ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
				   (n == 4 && (cp < 0x10000 || cp > 0x10ffff))))
				ok = false;
			if (ok) {
				memcpy(o, p + i, n);
				o += n;
				i += n;
			} else {
				memcpy(o, "\\ufffd", 6);
				o += 6;
				i++;
			}
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/* ---- the due heap: (expires_at_ms, hold id) of holds seen active ---------- */

struct due {
	int64_t at;
	uint64_t hold;
};

struct due_heap {
	struct due *a;
	size_t n, cap;
};

static void due_push(struct due_heap *h, int64_t at, uint64_t hold)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->a = realloc(h->a, h->cap * sizeof *h->a);
		HF_ASSERT(h->a != NULL);
	}
	size_t i = h->n++;
	while (i > 0 && h->a[(i - 1) / 2].at > at) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = (struct due){at, hold};
}

static struct due due_pop(struct due_heap *h)
{
	struct due top = h->a[0], last = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1].at < h->a[c].at)
			c++;
		if (h->a[c].at >= last.at)
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = last;
	return top;
}

/* ---- touched: what the plain tables must be told after a batch ------------ */

struct idset {
	uint64_t *v;
	size_t n, cap;
};

static void idset_add(struct idset *s, uint64_t id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		HF_ASSERT(s->v != NULL);
	}
	s->v[s->n++] = id;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void idset_sort_unique(struct idset *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof *s->v, u64_cmp);
	size_t o = 1;
	for (size_t i = 1; i < s->n; i++)
		if (s->v[i] != s->v[o - 1])
			s->v[o++] = s->v[i];
	s->n = o;
}

/* The last state each touched hold was seen in, in the order seen: a hold
 * that ends and whose slot is recycled in the same batch has no view
 * after it, and its row still has to say how it ended. v = id << 2 | state. */
struct touched {
	struct idset events, seats, items, holds, orders;
	struct idset hold_states;
};

/* ---- the engine ----------------------------------------------------------- */

struct clock_req {
	struct hf_request r; /* first: the queue carries it */
	int64_t ms;
	int64_t result;
	bool finished;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

struct pg {
	struct hf_engine base;
	struct hf_engine_config cfg;
	struct hf_pg_options opt;
	char *url;
	FILE *log;

	_Atomic(struct hf_sm *) sm_shown; /* what hf_engine_sm hands out */
	struct hf_sm *sm;
	/* States replaced by a rebuild, freed HF_ENGINE_SM_RETIRED_S after
	 * (a renderer may still hold the pointer for a moment). */
	struct retired {
		struct hf_sm *sm;
		int64_t at_mono_ms;
	} retired[8];
	uint32_t n_retired;
	PGconn *conn;
	bool dirty;          /* sm may hold a batch the database lacks: rebuild */
	uint64_t pos;        /* last log seq applied to sm */
	int64_t last_now_ms;
	uint64_t last_snapshot_seq, prev_snapshot_seq;
	int64_t last_tick_mono_ms, last_connect_mono_ms;
	uint32_t last_batch_n;       /* requests in the last batch (gather) */
	uint64_t last_batch_end_us;
	char last_err[512];      /* the last reconnect failure noted */
	struct due_heap due;
	struct touched t;
	struct buf cmds, json;
	void *scratch;
	size_t scratch_cap;
	struct hf_booking *view; /* scratch for hold/order views */
	uint8_t secret[HF_ENGINE_SECRET_BYTES];

	pthread_mutex_t q_mu;
	pthread_cond_t q_cv;
	struct hf_request_list q;
	bool closing;
	pthread_t thread;

	/* A second connection for hf_engine_test_clock_ms (HTTP threads),
	 * under side_mu. */
	pthread_mutex_t side_mu;
	PGconn *side;
	atomic_bool down;
	atomic_int_fast64_t test_now_ms; /* last known shared test clock */
	pthread_mutex_t st_mu;
	struct hf_engine_stats st;
};

static const struct hf_engine_ops pg_ops;

static void note(struct pg *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct pg *e, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(e->log, "{\"ts\":%lld.%03ld,\"level\":\"warn\",\"event\":\"postgres\",\"msg\":\"",
		(long long)ts.tv_sec, ts.tv_nsec / 1000000);
	for (const char *p = msg; *p; p++)
		if (*p == '"' || *p == '\\')
			fprintf(e->log, "\\%c", *p);
		else if (*p == '\n' && p[1])
			fputc(' ', e->log); /* libpq's messages are lines */
		else if ((unsigned char)*p >= 0x20)
			fputc(*p, e->log);
	fputs("\"}\n", e->log);
	fflush(e->log);
}

/* Server notices (a shutdown's "terminating connection" warning) go to
 * the engine's log instead of libpq's default, stderr. */
static void on_notice(void *arg, const char *msg)
{
	note(arg, "database: %s", msg);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ---- synchronous statements (start-up, outside the pipeline) -------------- */

/* Runs one statement; returns the result when it is `want`, else NULL with
 * err (the result is freed). Text parameters. */
static PGresult *exec(PGconn *c, enum stmt s, int n, const char *const *vals, ExecStatusType want,
		      char *err, size_t err_cap)
{
	PGresult *r = PQexecParams(c, stmt_sql[s], n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != want) {
		snprintf(err, err_cap, "%s: %s", stmt_names[s].name, PQerrorMessage(c));
		size_t l = strlen(err);
		while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = 0;
		PQclear(r);
		return NULL;
	}
	return r;
}

static bool exec_ok(PGconn *c, const char *sql, char *err, size_t err_cap)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	PQclear(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, err_cap, "%s", PQerrorMessage(c));
		return false;
	}
	return true;
}

/* The sm config as the 14 columns of holdfast.config. */
static void config_cols(const struct hf_sm_config *c, int64_t out[14])
{
	int64_t v[14] = {c->max_events,   c->max_seats,	      c->max_items,	     c->max_customers,
			 c->max_holds,    c->max_orders,      c->max_lines,	     c->string_bytes,
			 c->idem_entries, c->idem_bytes,      c->idem_retention_ms, c->shipping_fee,
			 c->free_shipping_over, c->hold_lifetime_max_s};
	memcpy(out, v, sizeof v);
}

static const char *const config_col_names[14] = {
	"max_events",   "max_seats",  "max_items",	   "max_customers", "max_holds",
	"max_orders",   "max_lines",  "string_bytes",	   "idem_entries",  "idem_bytes",
	"idem_retention_ms", "shipping_fee", "free_shipping_over", "hold_lifetime_max_s",
};

static void config_from_cols(struct hf_sm_config *c, const int64_t v[14])
{
	c->max_events = (uint32_t)v[0];
	c->max_seats = (uint32_t)v[1];
	c->max_items = (uint32_t)v[2];
	c->max_customers = (uint32_t)v[3];
	c->max_holds = (uint32_t)v[4];
	c->max_orders = (uint32_t)v[5];
	c->max_lines = (uint32_t)v[6];
	c->string_bytes = (uint32_t)v[7];
	c->idem_entries = (uint32_t)v[8];
	c->idem_bytes = (uint32_t)v[9];
	c->idem_retention_ms = v[10];
	c->shipping_fee = v[11];
	c->free_shipping_over = v[12];
	c->hold_lifetime_max_s = (uint32_t)v[13];
}

/* Creates the schema if missing, refuses a newer one, stores or checks the
 * config, makes the head row (and the token secret) on first start. One
 * transaction under an advisory lock, so processes starting together do
 * this once. On success e->cfg.sm is the config to run with. */
static int schema_setup(struct pg *e, char *err, size_t err_cap)
{
	PGconn *c = e->conn;
	char m[512];
	if (!exec_ok(c, "BEGIN", m, sizeof m)) {
		snprintf(err, err_cap, "BEGIN: %s", m);
		return -1;
	}
	PGresult *r = exec(c, S_SCHEMA_LOCK, 0, NULL, PGRES_TUPLES_OK, err, err_cap);
	if (!r)
		goto fail;
	PQclear(r);
	if (!(r = exec(c, S_SCHEMA_EXISTS, 0, NULL, PGRES_TUPLES_OK, err, err_cap)))
		goto fail;
	bool exists = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	if (!exists) {
		if (!exec_ok(c, hf_pg_schema_sql, m, sizeof m)) {
			snprintf(err, err_cap, "creating the schema: %s", m);
			goto fail;
		}
	} else {
		if (!(r = exec(c, S_SCHEMA_VERSION, 0, NULL, PGRES_TUPLES_OK, err, err_cap)))
			goto fail;
		long v = PQntuples(r) ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
		PQclear(r);
		if (v > HF_PG_SCHEMA_VERSION) {
			snprintf(err, err_cap,
				 "the database's holdfast schema is version %ld, newer than this binary's "
				 "version %d: run a holdfast that knows version %ld",
				 v, HF_PG_SCHEMA_VERSION, v);
			goto fail;
		}
		if (v < 1) {
			snprintf(err, err_cap, "the database's holdfast schema has no version row");
			goto fail;
		}
		/* Upgrades from older versions go here, one step per version. */
	}

	int64_t want[14];
	config_cols(&e->cfg.sm, want);
	if (!(r = exec(c, S_CONFIG_GET, 0, NULL, PGRES_TUPLES_OK, err, err_cap)))
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		char vbuf[14][24];
		const char *vals[14];
		for (int i = 0; i < 14; i++) {
			snprintf(vbuf[i], sizeof vbuf[i], "%" PRId64, want[i]);
			vals[i] = vbuf[i];
		}
		if (!(r = exec(c, S_CONFIG_PUT, 14, vals, PGRES_COMMAND_OK, err, err_cap)))
			goto fail;
		PQclear(r);
	} else {
		int64_t have[14];
		for (int i = 0; i < 14; i++)
			have[i] = col_i64(r, 0, i);
		PQclear(r);
		for (int i = 0; i < 14; i++) {
			if (have[i] == want[i])
				continue;
			if (!e->cfg.adopt_stored_config) {
				snprintf(err, err_cap,
					 "the database was set up with %s = %" PRId64 ", this process asks for %" PRId64
					 " (every process in front of one database needs the same state config)",
					 config_col_names[i], have[i], want[i]);
				goto fail;
			}
			config_from_cols(&e->cfg.sm, have);
			break;
		}
	}

	uint8_t secret[HF_ENGINE_SECRET_BYTES];
	if (getrandom(secret, sizeof secret, 0) != (ssize_t)sizeof secret) {
		snprintf(err, err_cap, "getrandom: %s", strerror(errno));
		goto fail;
	}
	char hex[2 * sizeof secret + 3] = "\\x";
	for (size_t i = 0; i < sizeof secret; i++)
		sprintf(hex + 2 + 2 * i, "%02x", secret[i]);
	char start[24];
	/* The test clock starts at the real time of the first process. */
	snprintf(start, sizeof start, "%" PRId64, real_ms());
	const char *hv[2] = {hex, start};
	if (!(r = exec(c, S_HEAD_INIT, 2, hv, PGRES_COMMAND_OK, err, err_cap)))
		goto fail;
	PQclear(r);
	if (!exec_ok(c, "COMMIT", m, sizeof m)) {
		snprintf(err, err_cap, "COMMIT: %s", m);
		return -1;
	}
	return 0;
fail:
	exec_ok(c, "ROLLBACK", m, sizeof m);
	return -1;
}

static void drop_conn(struct pg *e)
{
	if (e->conn) {
		PQfinish(e->conn);
		e->conn = NULL;
	}
	atomic_store(&e->down, true);
}

/* A session as the engine wants it, or NULL with err. */
static PGconn *open_conn(struct pg *e, char *err, size_t err_cap)
{
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {"5", "holdfast", e->url, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, err_cap, "cannot connect to the database: %s",
			 c ? PQerrorMessage(c) : "out of memory");
		size_t l = strlen(err);
		while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = 0;
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, on_notice, e);
	char m[512];
	/* Acknowledged means committed: a session may not lower this. */
	if (!exec_ok(c, "SET synchronous_commit = on", m, sizeof m) ||
	    !exec_ok(c, "SET client_min_messages = warning", m, sizeof m)) {
		snprintf(err, err_cap, "session setup: %s", m);
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Connects the engine's own session (prepare_all follows). */
static int connect_db(struct pg *e, char *err, size_t err_cap)
{
	e->last_connect_mono_ms = mono_ms();
	e->conn = open_conn(e, err, err_cap);
	return e->conn ? 0 : -1;
}

static int prepare_all(struct pg *e, char *err, size_t err_cap)
{
	for (int i = 0; i < S_COUNT; i++) {
		if (!stmt_names[i].prepare)
			continue;
		PGresult *r = PQprepare(e->conn, stmt_names[i].name, stmt_sql[i], 0, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok) {
			snprintf(err, err_cap, "prepare %s: %s", stmt_names[i].name, PQerrorMessage(e->conn));
			return -1;
		}
	}
	if (PQenterPipelineMode(e->conn) != 1) {
		snprintf(err, err_cap, "pipeline mode: %s", PQerrorMessage(e->conn));
		return -1;
	}
	atomic_store(&e->down, false);
	return 0;
}

/* ---- applying ------------------------------------------------------------ */

static void touch_booking(struct touched *t, const struct hf_booking *b)
{
	for (uint32_t i = 0; i < b->n_seats; i++)
		idset_add(&t->seats, b->seats[i].seat);
	for (uint32_t i = 0; i < b->n_items; i++)
		idset_add(&t->items, b->items[i].item);
}

/* Seats and items a command names (block/unblock, remove: what the reply's
 * booking no longer shows). */
static void touch_named(struct pg *e, const struct hf_cmd *c)
{
	if (c->type == HF_CMD_SEATS_BLOCK || c->type == HF_CMD_SEATS_UNBLOCK) {
		int64_t ev = hf_sm_event_find(e->sm, c->u.seats_block.event);
		if (ev < 0)
			return;
		for (uint32_t i = 0; i < c->u.seats_block.n_seats; i++) {
			int64_t s = hf_sm_seat_find(e->sm, (uint32_t)ev, c->u.seats_block.seats[i]);
			if (s >= 0)
				idset_add(&e->t.seats, (uint64_t)s);
		}
		return;
	}
	const struct hf_lines *l = &c->u.lines;
	for (uint32_t i = 0; i < l->n_seats; i++) {
		int64_t ev = hf_sm_event_find(e->sm, l->seats[i].event);
		int64_t s = ev < 0 ? -1 : hf_sm_seat_find(e->sm, (uint32_t)ev, l->seats[i].seat);
		if (s >= 0)
			idset_add(&e->t.seats, (uint64_t)s);
	}
	for (uint32_t i = 0; i < l->n_items; i++) {
		int64_t it = hf_sm_item_find(e->sm, l->items[i].item);
		if (it >= 0)
			idset_add(&e->t.items, (uint64_t)it);
	}
}

/* Applies one command at now to sm; records what it changed (when `touch`:
 * this process writes the batch's rows) and the holds it left active. */
static void apply_one(struct pg *e, int64_t now, const struct hf_cmd *c, struct hf_reply *r, bool touch)
{
	hf_sm_apply(e->sm, now, c, r);
	if (r->result != HF_OK || r->replayed)
		return;
	if (r->kind == HF_REPLY_HOLD && r->booking.state == HF_HOLD_ACTIVE)
		due_push(&e->due, r->booking.expires_at_ms, r->booking.id);
	if (!touch)
		return;
	struct touched *t = &e->t;
	switch (r->kind) {
	case HF_REPLY_EVENT:
		idset_add(&t->events, r->index);
		if (c->type == HF_CMD_EVENT_CREATE) {
			struct hf_event_info ev;
			hf_sm_event_info(e->sm, r->index, &ev);
			for (uint32_t i = 0; i < ev.n_seats; i++)
				idset_add(&t->seats, ev.first_seat + i);
		} else {
			touch_named(e, c);
		}
		break;
	case HF_REPLY_ITEM:
		idset_add(&t->items, r->index);
		break;
	case HF_REPLY_HOLD:
		idset_add(&t->holds, r->booking.id);
		idset_add(&t->hold_states, r->booking.id << 2 | r->booking.state);
		touch_booking(t, &r->booking);
		if (c->type == HF_CMD_HOLD_REMOVE)
			touch_named(e, c);
		break;
	case HF_REPLY_ORDER:
		idset_add(&t->orders, r->booking.id);
		touch_booking(t, &r->booking);
		if (c->type == HF_CMD_HOLD_CONFIRM) {
			idset_add(&t->holds, c->u.hold_op.hold);
			idset_add(&t->hold_states, c->u.hold_op.hold << 2 | HF_HOLD_CONFIRMED);
		}
		break;
	default:
		break;
	}
}

/* Holds due at now: popped before applying. When this process writes the
 * batch's rows, their seats and items (taken now: the batch may recycle an
 * expired hold's slot) and their rows are rewritten. */
static void touch_due(struct pg *e, int64_t now, bool touch)
{
	while (e->due.n && e->due.a[0].at <= now) {
		struct due d = due_pop(&e->due);
		if (!touch || hf_sm_hold_view(e->sm, d.hold, e->view) != HF_OK ||
		    e->view->state != HF_HOLD_ACTIVE)
			continue;
		idset_add(&e->t.holds, d.hold);
		touch_booking(&e->t, e->view);
		if (e->view->expires_at_ms <= now)
			idset_add(&e->t.hold_states, d.hold << 2 | HF_HOLD_EXPIRED_STATE);
	}
}

/* Applies one log row (another process's batch, or this one's on rebuild). */
static int apply_log_row(struct pg *e, int64_t now, uint32_t n, const uint8_t *p, size_t len, bool touch)
{
	static _Thread_local struct hf_reply r;
	touch_due(e, now, touch);
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t l;
		if (off + 4 > len)
			return -1;
		memcpy(&l, p + off, 4);
		off += 4;
		if (off + l > len)
			return -1;
		size_t need = hf_cmd_scratch_for(l) + 1;
		if (need > e->scratch_cap) {
			free(e->scratch);
			e->scratch = malloc(need);
			HF_ASSERT(e->scratch != NULL);
			e->scratch_cap = need;
		}
		struct hf_cmd c;
		memset(&c, 0, sizeof c);
		if (hf_cmd_decode(p + off, l, &c, e->scratch, e->scratch_cap) != (int64_t)l)
			return -1;
		apply_one(e, now, &c, &r, touch);
		off += l;
	}
	if (now > e->last_now_ms)
		e->last_now_ms = now;
	return off == len ? 0 : -1;
}

/* ---- rebuilding the state from the database ------------------------------- */

static void due_rebuild_from_state(struct pg *e)
{
	/* Every active hold of every customer: the customers' lists. */
	e->due.n = 0;
	struct hf_sm_stats st;
	hf_sm_stats(e->sm, &st);
	uint64_t ids[64];
	for (uint32_t cu = 0; cu < st.customers; cu++) {
		uint64_t after = 0;
		for (;;) {
			uint32_t n = hf_sm_customer_holds(e->sm, cu, after, 64, ids);
			for (uint32_t i = 0; i < n; i++)
				if (hf_sm_hold_view(e->sm, ids[i], e->view) == HF_OK &&
				    e->view->state == HF_HOLD_ACTIVE)
					due_push(&e->due, e->view->expires_at_ms, ids[i]);
			if (n < 64)
				break;
			after = ids[n - 1];
		}
	}
}

/* Keeps a replaced state for HF_ENGINE_SM_RETIRED_S; frees older ones. */
static void retire(struct pg *e, struct hf_sm *sm)
{
	if (!sm)
		return;
	int64_t now = mono_ms();
	uint32_t k = 0;
	for (uint32_t i = 0; i < e->n_retired; i++) {
		if (now - e->retired[i].at_mono_ms >= HF_ENGINE_SM_RETIRED_S * 1000)
			hf_sm_free(e->retired[i].sm);
		else
			e->retired[k++] = e->retired[i];
	}
	e->n_retired = k;
	if (sm == atomic_load(&e->sm_shown) && e->n_retired < 8) {
		e->retired[e->n_retired++] = (struct retired){sm, now};
		return;
	}
	if (sm == atomic_load(&e->sm_shown)) {
		/* Eight rebuilds within a minute: the oldest goes early. */
		hf_sm_free(e->retired[0].sm);
		memmove(e->retired, e->retired + 1, 7 * sizeof e->retired[0]);
		e->retired[7] = (struct retired){sm, now};
		return;
	}
	hf_sm_free(sm); /* never shown */
}

/* Reads a bytea column in text form (\x hex). Returns malloc'd bytes. */
static uint8_t *bytea_of(const PGresult *r, int row, int col, size_t *len)
{
	size_t n = 0;
	unsigned char *u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	*len = n;
	return u;
}

/* Fresh sm from the newest snapshot and the log after it. Outside the
 * pipeline (called with the pipeline off). */
static int rebuild(struct pg *e, char *err, size_t err_cap)
{
	char m[256];
	struct hf_sm *fresh = hf_sm_init(&e->cfg.sm, m, sizeof m);
	if (!fresh) {
		snprintf(err, err_cap, "state: %s", m);
		return -1;
	}
	retire(e, e->sm);
	e->sm = fresh;
	e->pos = 0;
	e->last_now_ms = 0;
	e->due.n = 0;
	/* Snapshot and log read in one repeatable-read transaction: the log
	 * rows after the snapshot are still there (pruning commits after). */
	if (!exec_ok(e->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", m, sizeof m)) {
		snprintf(err, err_cap, "BEGIN: %s", m);
		return -1;
	}
	PGresult *r = PQexecParams(e->conn, stmt_sql[S_SNAPSHOT_LATEST], 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, err_cap, "snapshot_latest: %s", PQerrorMessage(e->conn));
		PQclear(r);
		goto fail;
	}
	if (PQntuples(r) == 1) {
		uint64_t seq, now;
		memcpy(&seq, PQgetvalue(r, 0, 0), 8);
		memcpy(&now, PQgetvalue(r, 0, 1), 8);
		seq = be64toh(seq);
		now = be64toh(now);
		if (hf_sm_snapshot_read(e->sm, (const uint8_t *)PQgetvalue(r, 0, 2),
					(size_t)PQgetlength(r, 0, 2), m, sizeof m) < 0) {
			snprintf(err, err_cap, "the snapshot at log seq %" PRIu64 " cannot be read: %s", seq, m);
			PQclear(r);
			goto fail;
		}
		e->pos = seq;
		e->last_now_ms = (int64_t)now;
		e->last_snapshot_seq = seq;
		due_rebuild_from_state(e);
	}
	PQclear(r);
	char pos[24];
	snprintf(pos, sizeof pos, "%" PRIu64, e->pos);
	const char *pv[1] = {pos};
	r = PQexecParams(e->conn, stmt_sql[S_LOG_SINCE], 1, NULL, pv, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, err_cap, "log_since: %s", PQerrorMessage(e->conn));
		PQclear(r);
		goto fail;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t seq, now;
		uint32_t n;
		memcpy(&seq, PQgetvalue(r, i, 0), 8);
		memcpy(&now, PQgetvalue(r, i, 1), 8);
		memcpy(&n, PQgetvalue(r, i, 2), 4);
		seq = be64toh(seq);
		now = be64toh(now);
		n = be32toh(n);
		if (seq != e->pos + 1) {
			snprintf(err, err_cap, "the log jumps from seq %" PRIu64 " to %" PRIu64 " (no snapshot covers the gap)",
				 e->pos, seq);
			PQclear(r);
			goto fail;
		}
		if (apply_log_row(e, (int64_t)now, n, (const uint8_t *)PQgetvalue(r, i, 3),
				  (size_t)PQgetlength(r, i, 3), false) < 0) {
			snprintf(err, err_cap, "log row %" PRIu64 " does not decode", seq);
			PQclear(r);
			goto fail;
		}
		e->pos = seq;
	}
	PQclear(r);
	exec_ok(e->conn, "COMMIT", m, sizeof m);
	e->dirty = false;
	atomic_store(&e->sm_shown, e->sm);
	return 0;
fail:
	exec_ok(e->conn, "ROLLBACK", m, sizeof m);
	return -1;
}

/* Reconnects; rebuilds the state if a failure may have left it ahead of
 * the database. Engine thread. */
static int reconnect(struct pg *e, char *err, size_t err_cap)
{
	drop_conn(e);
	if (connect_db(e, err, err_cap) < 0)
		return -1;
	if (e->dirty && rebuild(e, err, err_cap) < 0) {
		drop_conn(e);
		return -1;
	}
	if (prepare_all(e, err, err_cap) < 0) {
		drop_conn(e);
		return -1;
	}
	note(e, "connected to the database again (log position %" PRIu64 ")", e->pos);
	e->last_err[0] = 0;
	return 0;
}

/* ---- the pipeline ---------------------------------------------------------- */

/* Sends a prepared statement with binary int8/bytea/text params (formats
 * given) and asks for binary results. */
static bool send_stmt(struct pg *e, enum stmt s, int n, const char *const *vals, const int *lens,
		      const int *fmts)
{
	return PQsendQueryPrepared(e->conn, stmt_names[s].name, n, vals, lens, fmts, 1) == 1;
}

static bool send_sql(struct pg *e, const char *sql)
{
	return PQsendQueryParams(e->conn, sql, 0, NULL, NULL, NULL, NULL, 1) == 1;
}

/* The next result of the pipeline, which must have status want; consumes
 * the NULL that ends it. NULL (with the connection's message noted) on
 * anything else. */
static PGresult *next_result(struct pg *e, ExecStatusType want, const char *what)
{
	PGresult *r = PQgetResult(e->conn);
	if (!r || PQresultStatus(r) != want) {
		note(e, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(e->conn));
		PQclear(r);
		return NULL;
	}
	PGresult *end = PQgetResult(e->conn);
	if (end) { /* a statement yields one result in our use */
		PQclear(end);
		PQclear(r);
		note(e, "%s: unexpected extra result", what);
		return NULL;
	}
	return r;
}

static uint64_t be_u64(const PGresult *r, int row, int col)
{
	uint64_t v;
	memcpy(&v, PQgetvalue(r, row, col), 8);
	return be64toh(v);
}

/* Applies the rows of a log_since result. 1: applied; 0: the log has a gap
 * before them (pruned past this process: rebuild); -1: a row is damaged. */
static int catch_up(struct pg *e, const PGresult *r, bool touch)
{
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t seq = be_u64(r, i, 0);
		int64_t now = (int64_t)be_u64(r, i, 1);
		uint32_t n;
		memcpy(&n, PQgetvalue(r, i, 2), 4);
		n = be32toh(n);
		if (seq != e->pos + 1)
			return 0;
		if (apply_log_row(e, now, n, (const uint8_t *)PQgetvalue(r, i, 3),
				  (size_t)PQgetlength(r, i, 3), touch) < 0) {
			note(e, "log row %" PRIu64 " does not decode", seq);
			return -1;
		}
		e->pos = seq;
	}
	return 1;
}

static int64_t batch_now(struct pg *e, int64_t test_now, int64_t db_now)
{
	int64_t now = e->opt.now_fn ? e->opt.now_fn(e->opt.now_arg) : e->cfg.test_clock ? test_now : db_now;
	if (now < e->last_now_ms)
		now = e->last_now_ms;
	return now;
}

/* ---- plain-table rows ------------------------------------------------------ */

static const char *const seat_state_word[4] = {"free", "held", "sold", "blocked"};
static const char *const hold_state_word[4] = {"active", "confirmed", "released", "expired"};
static const char *const order_status_word[5] = {"under_review", "packaged", "shipped",
						 "delivered", "canceled"};

static void json_lines(struct pg *e, struct buf *j, const struct hf_booking *b)
{
	buf_add(j, "\"seats\":[", 9);
	for (uint32_t i = 0; i < b->n_seats; i++) {
		uint32_t ev;
		struct hf_str sid = hf_sm_seat_id(e->sm, b->seats[i].seat, &ev);
		buf_add(j, i ? ",{\"event\":" : "{\"event\":", i ? 10 : 9);
		buf_json_str(j, hf_sm_event_id(e->sm, ev));
		buf_add(j, ",\"seat\":", 8);
		buf_json_str(j, sid);
		buf_fmt(j, ",\"price\":%" PRId64 "}", b->seats[i].price);
	}
	buf_add(j, "],\"items\":[", 11);
	for (uint32_t i = 0; i < b->n_items; i++) {
		buf_add(j, i ? ",{\"item\":" : "{\"item\":", i ? 9 : 8);
		buf_json_str(j, hf_sm_item_id(e->sm, b->items[i].item));
		buf_fmt(j, ",\"quantity\":%u,\"requested\":%u,\"price\":%" PRId64 "}", b->items[i].quantity,
			b->items[i].requested, b->items[i].price);
	}
	buf_add(j, "]", 1);
}

/* A document section "key":[...], (sec_open returns where it began);
 * sec_close drops a section that got no element: write_rows runs only the
 * blocks whose key is there. */
static size_t sec_open(struct buf *j, const char *key)
{
	size_t mark = j->len;
	buf_fmt(j, "\"%s\":[", key);
	return mark;
}

static void sec_close(struct buf *j, size_t mark)
{
	if (j->p[j->len - 1] == '[')
		j->len = mark;
	else
		buf_add(j, "],", 2);
}

/* The rows the batch changed, as write_rows's document; empties the sets. */
static void rows_json(struct pg *e)
{
	struct buf *j = &e->json;
	struct touched *t = &e->t;
	j->len = 0;
	idset_sort_unique(&t->events);
	idset_sort_unique(&t->seats);
	idset_sort_unique(&t->items);
	idset_sort_unique(&t->holds);
	idset_sort_unique(&t->orders);
	buf_add(j, "{", 1);
	size_t mark = sec_open(j, "events");
	for (size_t i = 0; i < t->events.n; i++) {
		struct hf_event_info ev;
		hf_sm_event_info(e->sm, (uint32_t)t->events.v[i], &ev);
		buf_add(j, i ? ",{\"id\":" : "{\"id\":", i ? 7 : 6);
		buf_json_str(j, ev.id);
		buf_add(j, ",\"name\":", 8);
		buf_json_str(j, ev.name);
		buf_fmt(j,
			",\"starts_at_ms\":%" PRId64 ",\"hold_ttl_s\":%u,\"max_per_customer\":%u,"
			"\"sale_opens_at_ms\":%" PRId64 ",\"sale_closes_at_ms\":%" PRId64 "}",
			ev.starts_at_ms, ev.hold_ttl_s, ev.max_per_customer, ev.sale_opens_at_ms,
			ev.sale_closes_at_ms);
	}
	sec_close(j, mark);
	mark = sec_open(j, "seats");
	for (size_t i = 0; i < t->seats.n; i++) {
		struct hf_seat_info s;
		hf_sm_seat_info(e->sm, (uint32_t)t->seats.v[i], &s);
		buf_add(j, i ? ",{\"event\":" : "{\"event\":", i ? 10 : 9);
		buf_json_str(j, hf_sm_event_id(e->sm, s.event));
		buf_add(j, ",\"id\":", 6);
		buf_json_str(j, s.id);
		buf_add(j, ",\"section\":", 11);
		buf_json_str(j, s.section);
		buf_add(j, ",\"row\":", 7);
		buf_json_str(j, s.row);
		buf_add(j, ",\"category\":", 12);
		buf_json_str(j, s.category);
		buf_fmt(j, ",\"number\":%d,\"price\":%" PRId64 ",\"state\":\"%s\"}", s.number, s.price,
			seat_state_word[s.state & 3]);
	}
	sec_close(j, mark);
	mark = sec_open(j, "items");
	for (size_t i = 0; i < t->items.n; i++) {
		struct hf_item_info it;
		hf_sm_item_info(e->sm, (uint32_t)t->items.v[i], &it);
		buf_add(j, i ? ",{\"id\":" : "{\"id\":", i ? 7 : 6);
		buf_json_str(j, it.id);
		buf_add(j, ",\"name\":", 8);
		buf_json_str(j, it.name);
		buf_add(j, ",\"category\":", 12);
		buf_json_str(j, it.category);
		buf_add(j, ",\"description\":", 15);
		buf_json_str(j, it.description);
		buf_add(j, ",\"image_url\":", 13);
		buf_json_str(j, it.image_url);
		buf_fmt(j, ",\"price\":%" PRId64 ",\"available\":%u,\"held\":%u,\"sold\":%u}", it.price,
			it.available, it.held, it.sold);
	}
	sec_close(j, mark);
	mark = sec_open(j, "holds");
	bool first = true;
	for (size_t i = 0; i < t->holds.n; i++) {
		struct hf_booking *b = e->view;
		if (hf_sm_hold_view(e->sm, t->holds.v[i], b) != HF_OK)
			continue; /* recycled in this very batch: "ended" below */
		buf_add(j, first ? "{\"id\":" : ",{\"id\":", first ? 6 : 7);
		first = false;
		buf_fmt(j, "%" PRIu64 ",\"customer\":", b->id);
		buf_json_str(j, hf_sm_customer_name(e->sm, b->customer));
		buf_fmt(j,
			",\"state\":\"%s\",\"created_at_ms\":%" PRId64 ",\"expires_at_ms\":%" PRId64
			",\"order_id\":%" PRIu64 ",\"total\":%" PRId64 ",\"total_with_fees\":%" PRId64 ",",
			hold_state_word[b->state & 3], b->created_at_ms, b->expires_at_ms, b->order, b->total,
			b->total_with_fees);
		json_lines(e, j, b);
		buf_add(j, "}", 1);
	}
	sec_close(j, mark);
	mark = sec_open(j, "ended");
	first = true;
	for (size_t i = 0; i < t->holds.n; i++) {
		uint64_t id = t->holds.v[i];
		if (hf_sm_hold_view(e->sm, id, e->view) == HF_OK)
			continue;
		int st = -1;
		for (size_t k = 0; k < t->hold_states.n; k++)
			if (t->hold_states.v[k] >> 2 == id)
				st = (int)(t->hold_states.v[k] & 3);
		if (st < 0)
			continue;
		buf_fmt(j, "%s{\"id\":%" PRIu64 ",\"state\":\"%s\"}", first ? "" : ",", id, hold_state_word[st]);
		first = false;
	}
	sec_close(j, mark);
	mark = sec_open(j, "orders");
	first = true;
	for (size_t i = 0; i < t->orders.n; i++) {
		struct hf_booking *b = e->view;
		if (hf_sm_order_view(e->sm, t->orders.v[i], b) != HF_OK)
			continue;
		buf_add(j, first ? "{\"id\":" : ",{\"id\":", first ? 6 : 7);
		first = false;
		buf_fmt(j, "%" PRIu64 ",\"customer\":", b->id);
		buf_json_str(j, hf_sm_customer_name(e->sm, b->customer));
		buf_fmt(j,
			",\"status\":\"%s\",\"created_at_ms\":%" PRId64 ",\"total\":%" PRId64
			",\"total_with_fees\":%" PRId64 ",",
			b->state <= HF_ORDER_CANCELED ? order_status_word[b->state] : "unknown",
			b->created_at_ms, b->total, b->total_with_fees);
		json_lines(e, j, b);
		buf_add(j, "}", 1);
	}
	sec_close(j, mark);
	if (j->len == 1)
		buf_add(j, "}", 1); /* nothing changed: {} */
	else
		j->p[j->len - 1] = '}'; /* in place of the last section's ',' */
}

/* The batch's document: first the touched holds add their seats and items
 * (an expired or released hold's inventory changed with it), then
 * rows_json writes every row; the sets are emptied. */
static void rows_doc(struct pg *e)
{
	struct touched *t = &e->t;
	idset_sort_unique(&t->holds);
	for (size_t i = 0; i < t->holds.n; i++) {
		struct hf_booking *b = e->view;
		if (hf_sm_hold_view(e->sm, t->holds.v[i], b) != HF_OK)
			continue;
		for (uint32_t k = 0; k < b->n_seats; k++)
			idset_add(&t->seats, b->seats[k].seat);
		for (uint32_t k = 0; k < b->n_items; k++)
			idset_add(&t->items, b->items[k].item);
	}
	rows_json(e);
	t->events.n = t->seats.n = t->items.n = t->holds.n = t->orders.n = t->hold_states.n = 0;
}

/* ---- batches --------------------------------------------------------------- */

static void complete_list(struct pg *e, struct hf_request *head, int32_t status)
{
	(void)e;
	struct hf_request *next;
	for (struct hf_request *r = head; r; r = next) {
		next = r->next;
		r->status = status;
		r->done(r);
	}
}

enum batch_rc { B_OK, B_RETRY, B_DOUBT };

/* One batch with a write: the transaction of the file's comment. On B_OK
 * every request has its reply. B_RETRY: nothing of the batch was applied
 * (connection dropped, sm as before). B_DOUBT: applied locally, the commit
 * may or may not have happened (connection dropped, sm dirty); *seq_out
 * and the batch's bytes (e->cmds) say what to look for. */
static enum batch_rc run_write(struct pg *e, struct hf_request *head, int64_t advance_ms, bool tick,
			       uint64_t *seq_out, int64_t *now_out)
{
	char pos[24], adv[24];
	snprintf(pos, sizeof pos, "%" PRIu64, e->pos);
	snprintf(adv, sizeof adv, "%" PRId64, advance_ms);
	const char *pv[1] = {pos}, *av[1] = {adv};
	bool ok = send_sql(e, "BEGIN") && send_stmt(e, S_WRITE_BEGIN, 0, NULL, NULL, NULL) &&
		  (advance_ms == 0 || send_stmt(e, S_CLOCK_ADVANCE, 1, av, NULL, NULL)) &&
		  send_stmt(e, S_LOG_SINCE, 1, pv, NULL, NULL) && PQsendFlushRequest(e->conn) == 1 &&
		  PQflush(e->conn) == 0;
	if (!ok) {
		note(e, "sending a batch: %s", PQerrorMessage(e->conn));
		return B_RETRY;
	}
	PGresult *r = next_result(e, PGRES_COMMAND_OK, "BEGIN");
	if (!r)
		return B_RETRY;
	PQclear(r);
	if (!(r = next_result(e, PGRES_TUPLES_OK, "write_begin")))
		return B_RETRY;
	uint64_t seq = be_u64(r, 0, 0);
	int64_t test_now = (int64_t)be_u64(r, 0, 1), db_now = (int64_t)be_u64(r, 0, 2);
	PQclear(r);
	if (advance_ms) {
		if (!(r = next_result(e, PGRES_TUPLES_OK, "clock_advance")))
			return B_RETRY;
		test_now = (int64_t)be_u64(r, 0, 0);
		PQclear(r);
	}
	atomic_store(&e->test_now_ms, test_now);
	if (!(r = next_result(e, PGRES_TUPLES_OK, "log_since")))
		return B_RETRY;
	int cu = catch_up(e, r, false);
	PQclear(r);
	if (cu <= 0 || seq != e->pos + 1) {
		if (cu >= 0)
			note(e, "the log was pruned past this process (at %" PRIu64 ", next %" PRIu64 "): rebuilding",
			     e->pos, seq);
		e->dirty = true; /* rebuilt on reconnect */
		return B_RETRY;
	}

	/* Applied locally from here on. */
	int64_t now = batch_now(e, test_now, db_now);
	*now_out = now;
	*seq_out = seq;
	e->dirty = true;
	touch_due(e, now, true);
	e->cmds.len = 0;
	uint32_t n_cmds = 0;
	static _Thread_local struct hf_reply tick_reply;
	if (tick) {
		struct hf_cmd c;
		memset(&c, 0, sizeof c);
		c.type = HF_CMD_TICK;
		size_t sz = hf_cmd_encoded_size(&c);
		uint32_t l = (uint32_t)sz;
		buf_add(&e->cmds, &l, 4);
		buf_need(&e->cmds, sz);
		HF_ASSERT(hf_cmd_encode(&c, (uint8_t *)e->cmds.p + e->cmds.len, sz) == (int64_t)sz);
		e->cmds.len += sz;
		n_cmds++;
		apply_one(e, now, &c, &tick_reply, true);
	}
	for (struct hf_request *q = head; q; q = q->next) {
		q->applied_at_ms = now;
		if (q->read) {
			q->read(q, e->sm, now);
			continue;
		}
		size_t sz = hf_cmd_encoded_size(&q->cmd);
		if (sz == 0) {
			/* Not encodable (a string or count past the codec's bound;
			 * the server refuses such input first): a refusal that
			 * changes nothing but the clock, logged as a TICK at its
			 * time. Without its key, which a TICK could not replay. */
			struct hf_cmd c = q->cmd, t;
			c.idem_key = (struct hf_str){0};
			memset(&t, 0, sizeof t);
			t.type = HF_CMD_TICK;
			sz = hf_cmd_encoded_size(&t);
			uint32_t l = (uint32_t)sz;
			buf_add(&e->cmds, &l, 4);
			buf_need(&e->cmds, sz);
			HF_ASSERT(hf_cmd_encode(&t, (uint8_t *)e->cmds.p + e->cmds.len, sz) == (int64_t)sz);
			e->cmds.len += sz;
			n_cmds++;
			apply_one(e, now, &c, &q->reply, true);
			continue;
		}
		uint32_t l = (uint32_t)sz;
		buf_add(&e->cmds, &l, 4);
		buf_need(&e->cmds, sz);
		HF_ASSERT(hf_cmd_encode(&q->cmd, (uint8_t *)e->cmds.p + e->cmds.len, sz) == (int64_t)sz);
		e->cmds.len += sz;
		n_cmds++;
		apply_one(e, now, &q->cmd, &q->reply, true);
	}
	if (now > e->last_now_ms)
		e->last_now_ms = now;
	rows_doc(e);

	uint64_t seq_be = htobe64(seq), now_be = htobe64((uint64_t)now);
	uint32_t n_be = htobe32(n_cmds);
	const char *lv[4] = {(const char *)&seq_be, (const char *)&now_be, (const char *)&n_be, e->cmds.p};
	int ll[4] = {8, 8, 4, (int)e->cmds.len};
	int lf[4] = {1, 1, 1, 1};
	buf_add(&e->json, "", 1); /* NUL for the text parameter */
	const char *jv[1] = {e->json.p};
	uint64_t t0 = mono_us();
	ok = send_stmt(e, S_LOG_APPEND, 4, lv, ll, lf) && send_stmt(e, S_WRITE_ROWS, 1, jv, NULL, NULL) &&
	     send_sql(e, "COMMIT") && PQpipelineSync(e->conn) == 1 && PQflush(e->conn) == 0;
	if (!ok) {
		note(e, "sending a commit: %s", PQerrorMessage(e->conn));
		return B_DOUBT;
	}
	if (!(r = next_result(e, PGRES_COMMAND_OK, "log_append")))
		return B_DOUBT;
	PQclear(r);
	if (!(r = next_result(e, PGRES_TUPLES_OK, "write_rows")))
		return B_DOUBT;
	PQclear(r);
	if (!(r = next_result(e, PGRES_COMMAND_OK, "COMMIT")))
		return B_DOUBT;
	PQclear(r);
	r = PQgetResult(e->conn);
	bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
	PQclear(r);
	if (!synced) {
		note(e, "after COMMIT: no sync (%s)", PQerrorMessage(e->conn));
		return B_DOUBT; /* committed, but the connection is in an unknown state */
	}
	uint64_t us = mono_us() - t0;
	e->pos = seq;
	e->dirty = false;
	pthread_mutex_lock(&e->st_mu);
	e->st.batches++;
	e->st.fsyncs++;
	e->st.records += n_cmds;
	e->st.fsync_us_last = us;
	if (us > e->st.fsync_us_max)
		e->st.fsync_us_max = us;
	uint32_t b = 0;
	while (b < 23 && (1ull << b) <= us)
		b++;
	e->st.fsync_us_hist[b]++;
	e->st.batch_records_last = n_cmds;
	if (n_cmds > e->st.batch_records_max)
		e->st.batch_records_max = n_cmds;
	e->st.durable_seq = seq;
	pthread_mutex_unlock(&e->st_mu);
	return B_OK;
}

/* A batch of reads only: catch up, then run them. 0, or -1 (connection
 * dropped; sm as before or further along a committed prefix). */
static int run_reads(struct pg *e, struct hf_request *head)
{
	char pos[24];
	snprintf(pos, sizeof pos, "%" PRIu64, e->pos);
	const char *pv[1] = {pos};
	bool ok = send_stmt(e, S_READ_BEGIN, 0, NULL, NULL, NULL) &&
		  send_stmt(e, S_LOG_SINCE, 1, pv, NULL, NULL) && PQpipelineSync(e->conn) == 1 &&
		  PQflush(e->conn) == 0;
	if (!ok) {
		note(e, "sending a read: %s", PQerrorMessage(e->conn));
		return -1;
	}
	PGresult *r = next_result(e, PGRES_TUPLES_OK, "read_begin");
	if (!r)
		return -1;
	int64_t test_now = (int64_t)be_u64(r, 0, 0), db_now = (int64_t)be_u64(r, 0, 1);
	PQclear(r);
	atomic_store(&e->test_now_ms, test_now);
	if (!(r = next_result(e, PGRES_TUPLES_OK, "log_since")))
		return -1;
	int cu = catch_up(e, r, false);
	PQclear(r);
	r = PQgetResult(e->conn);
	bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
	PQclear(r);
	if (cu <= 0) {
		e->dirty = true;
		return -1;
	}
	if (!synced)
		return -1;
	/* The reads' time: the core expires lazily at the next write, but a
	 * read renders a hold past expires_at as expired itself (sm.h). */
	int64_t now = batch_now(e, test_now, db_now);
	for (struct hf_request *q = head; q; q = q->next) {
		q->applied_at_ms = now;
		q->read(q, e->sm, now);
	}
	return 0;
}

/* After a batch in doubt: reconnect, rebuild, and look for it. 1: it
 * committed; 0: it did not; -1: cannot tell (database away). */
static int resolve_doubt(struct pg *e, uint64_t seq, const struct buf *bytes)
{
	char err[512];
	e->dirty = true;
	drop_conn(e);
	if (connect_db(e, err, sizeof err) < 0) {
		note(e, "%s", err);
		return -1;
	}
	char s[24];
	snprintf(s, sizeof s, "%" PRIu64, seq);
	const char *v[1] = {s};
	PGresult *r = PQexecParams(e->conn, stmt_sql[S_LOG_GET], 1, NULL, v, NULL, NULL, 1);
	int found = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		found = PQntuples(r) == 1 && (size_t)PQgetlength(r, 0, 0) == bytes->len &&
			!memcmp(PQgetvalue(r, 0, 0), bytes->p, bytes->len);
	PQclear(r);
	if (found < 0 || rebuild(e, err, sizeof err) < 0 || prepare_all(e, err, sizeof err) < 0) {
		if (found >= 0)
			note(e, "%s", err);
		drop_conn(e);
		return -1;
	}
	return found;
}

static bool is_clock_done_fn(hf_request_done_fn f);

static void run_batch(struct pg *e, struct hf_request *head, bool tick)
{
	bool has_write = tick;
	int64_t advance = 0;
	for (struct hf_request *q = head; q; q = q->next) {
		if (!q->read)
			has_write = true;
		if (is_clock_done_fn(q->done))
			advance += ((struct clock_req *)q)->ms;
	}
	char err[512];
	for (int attempt = 0;; attempt++) {
		if (!e->conn || PQstatus(e->conn) != CONNECTION_OK) {
			if (reconnect(e, err, sizeof err) < 0) {
				if (attempt == 0)
					note(e, "%s", err);
				complete_list(e, head, HF_ENGINE_FULL);
				return;
			}
		}
		if (!has_write) {
			if (run_reads(e, head) == 0) {
				complete_list(e, head, HF_ENGINE_OK);
				return;
			}
		} else {
			uint64_t seq = 0;
			int64_t now = 0;
			enum batch_rc rc = run_write(e, head, advance, tick, &seq, &now);
			if (rc == B_OK) {
				complete_list(e, head, HF_ENGINE_OK);
				return;
			}
			if (rc == B_DOUBT) {
				int found = resolve_doubt(e, seq, &e->cmds);
				if (found == 1) {
					note(e, "batch %" PRIu64 " committed before the connection dropped", seq);
					complete_list(e, head, HF_ENGINE_OK);
					return;
				}
				if (found < 0) {
					complete_list(e, head, HF_ENGINE_FAILED);
					return;
				}
				/* Not committed: sm is rebuilt; the batch may run again. */
			}
		}
		drop_conn(e);
		if (attempt + 1 >= RETRIES_MAX) {
			complete_list(e, head, HF_ENGINE_FULL);
			return;
		}
	}
}

/* ---- snapshots ------------------------------------------------------------- */

/* Writes the state at pos as a snapshot (outside the pipeline: it is left
 * and entered again) and prunes the log up to the previous one. */
static void snapshot_write(struct pg *e)
{
	if (!e->conn || e->dirty || e->pos == e->last_snapshot_seq)
		return;
	size_t n = hf_sm_snapshot_size(e->sm);
	uint8_t *img = malloc(n);
	if (!img)
		return;
	hf_sm_snapshot_write(e->sm, img, n);
	if (PQexitPipelineMode(e->conn) != 1) {
		free(img);
		return;
	}
	uint64_t seq_be = htobe64(e->pos), now_be = htobe64((uint64_t)e->last_now_ms);
	const char *v[3] = {(const char *)&seq_be, (const char *)&now_be, (const char *)img};
	int l[3] = {8, 8, (int)n}, f[3] = {1, 1, 1};
	PGresult *r = PQexecParams(e->conn, stmt_sql[S_SNAPSHOT_PUT], 3, NULL, v, l, f, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	free(img);
	if (ok) {
		if (e->prev_snapshot_seq || e->last_snapshot_seq) {
			uint64_t keep = e->last_snapshot_seq;
			char s[24];
			snprintf(s, sizeof s, "%" PRIu64, keep);
			const char *pv[1] = {s};
			PQclear(PQexecParams(e->conn, stmt_sql[S_SNAPSHOT_PRUNE], 1, NULL, pv, NULL, NULL, 0));
			PQclear(PQexecParams(e->conn, stmt_sql[S_SNAPSHOT_PRUNE_IMAGES], 1, NULL, pv, NULL, NULL,
					     0));
		}
		e->prev_snapshot_seq = e->last_snapshot_seq;
		e->last_snapshot_seq = e->pos;
		pthread_mutex_lock(&e->st_mu);
		e->st.snapshots++;
		pthread_mutex_unlock(&e->st_mu);
	} else {
		note(e, "snapshot at %" PRIu64 ": %s", e->pos, PQerrorMessage(e->conn));
	}
	if (PQenterPipelineMode(e->conn) != 1)
		drop_conn(e);
}

/* ---- the engine thread ----------------------------------------------------- */

static bool tick_due(struct pg *e)
{
	if (e->cfg.test_clock || e->opt.now_fn || !e->due.n)
		return false;
	return e->due.a[0].at <= real_ms() && mono_ms() - e->last_tick_mono_ms >= TICK_MIN_MS;
}

static void *engine_main(void *arg)
{
	struct pg *e = arg;
	uint32_t batch_max = e->opt.batch_max ? e->opt.batch_max : BATCH_MAX_DEFAULT;
	for (;;) {
		pthread_mutex_lock(&e->q_mu);
		bool tick = false;
		while (!e->q.head && !e->closing) {
			tick = tick_due(e);
			bool reconnect_due = atomic_load(&e->down) &&
					     mono_ms() - e->last_connect_mono_ms >= RECONNECT_MS;
			if (tick || reconnect_due)
				break;
			int64_t ms = -1;
			if (!e->cfg.test_clock && !e->opt.now_fn && e->due.n) {
				ms = e->due.a[0].at - real_ms();
				if (ms < TICK_MIN_MS)
					ms = TICK_MIN_MS;
			}
			if (atomic_load(&e->down) && (ms < 0 || ms > RECONNECT_MS))
				ms = RECONNECT_MS;
			if (ms < 0) {
				pthread_cond_wait(&e->q_cv, &e->q_mu);
			} else {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_sec += ms / 1000;
				ts.tv_nsec += (ms % 1000) * 1000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&e->q_cv, &e->q_mu, &ts);
			}
		}
		/* Gather: the closed-loop clients the last batch answered send
		 * their next requests a moment later. Waiting up to GATHER_US
		 * for as many as it had keeps transactions full, above all when
		 * processes take turns at the lock (each turn would otherwise
		 * carry the few that came during the other's). */
		if (e->q.head && !tick && e->q.len < e->last_batch_n && !e->closing) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t until_us = e->last_batch_end_us + GATHER_US;
			uint64_t now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
			if (until_us > now_us) {
				ts.tv_sec = (time_t)(until_us / 1000000u);
				ts.tv_nsec = (long)(until_us % 1000000u) * 1000;
				while (e->q.len < e->last_batch_n && !e->closing &&
				       pthread_cond_timedwait(&e->q_cv, &e->q_mu, &ts) == 0)
					;
			}
		}
		uint32_t n;
		struct hf_request *head = hf_request_list_take(&e->q, batch_max, &n);
		bool stop = e->closing && !e->q.head && !head;
		pthread_mutex_unlock(&e->q_mu);

		if (head || tick) {
			if (tick)
				e->last_tick_mono_ms = mono_ms();
			run_batch(e, head, tick);
			e->last_batch_n = n;
			e->last_batch_end_us = mono_us();
			pthread_mutex_lock(&e->st_mu);
			e->st.applied_batches++;
			pthread_mutex_unlock(&e->st_mu);
			if (e->cfg.snapshot_every_records &&
			    e->pos - e->last_snapshot_seq >= e->cfg.snapshot_every_records)
				snapshot_write(e);
		} else if (!stop && atomic_load(&e->down)) {
			char err[512];
			if (reconnect(e, err, sizeof err) < 0 && strcmp(err, e->last_err)) {
				note(e, "%s", err); /* each new reason once */
				snprintf(e->last_err, sizeof e->last_err, "%s", err);
			}
		}
		if (stop)
			break;
	}
	return NULL;
}

/* ---- ops ------------------------------------------------------------------- */

static int pg_submit(struct hf_engine *base, struct hf_request *const *reqs, uint32_t n)
{
	struct pg *e = (struct pg *)base;
	if (n == 0)
		return HF_ENGINE_OK;
	if (atomic_load(&e->down)) {
		pthread_mutex_lock(&e->st_mu);
		e->st.queue_full++;
		pthread_mutex_unlock(&e->st_mu);
		return HF_ENGINE_FULL; /* the database is away: 503 + Retry-After */
	}
	pthread_mutex_lock(&e->q_mu);
	if (e->closing || e->q.len + n > e->cfg.queue_max) {
		pthread_mutex_unlock(&e->q_mu);
		pthread_mutex_lock(&e->st_mu);
		e->st.queue_full++;
		pthread_mutex_unlock(&e->st_mu);
		return HF_ENGINE_FULL;
	}
	hf_request_list_push(&e->q, reqs, n);
	pthread_cond_signal(&e->q_cv);
	pthread_mutex_unlock(&e->q_mu);
	return HF_ENGINE_OK;
}

static void clock_done(struct hf_request *req)
{
	struct clock_req *c = (struct clock_req *)req;
	pthread_mutex_lock(&c->mu);
	c->finished = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static bool is_clock_done_fn(hf_request_done_fn f) { return f == clock_done; }

/* Moves the shared test clock by ms inside a write batch (the TICK at the
 * new time is logged with it) and waits for that batch. */
static int64_t pg_clock_advance(struct hf_engine *base, int64_t ms)
{
	struct pg *e = (struct pg *)base;
	if (!e->cfg.test_clock)
		return real_ms();
	HF_ASSERT(ms >= 0);
	struct clock_req c;
	memset(&c, 0, sizeof c);
	c.ms = ms;
	c.r.done = clock_done;
	c.r.cmd.type = HF_CMD_TICK;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	struct hf_request *rp = &c.r;
	if (pg_submit(base, &rp, 1) == HF_ENGINE_OK) {
		pthread_mutex_lock(&c.mu);
		while (!c.finished)
			pthread_cond_wait(&c.cv, &c.mu);
		pthread_mutex_unlock(&c.mu);
	}
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	return atomic_load(&e->test_now_ms);
}

/* The shared test clock, read from the database on the side connection
 * (HTTP threads mint and check tokens with it; another process may have
 * moved it a moment ago). The last known value while the database is
 * away. */
static int64_t pg_test_clock_ms(struct hf_engine *base)
{
	struct pg *e = (struct pg *)base;
	if (!e->cfg.test_clock)
		return -1;
	if (e->opt.now_fn)
		return e->opt.now_fn(e->opt.now_arg);
	pthread_mutex_lock(&e->side_mu);
	if (!atomic_load(&e->down)) {
		char err[256];
		if (e->side && PQstatus(e->side) != CONNECTION_OK) {
			PQfinish(e->side);
			e->side = NULL;
		}
		if (!e->side)
			e->side = open_conn(e, err, sizeof err);
		if (e->side) {
			PGresult *r = PQexecParams(e->side, stmt_sql[S_CLOCK_GET], 0, NULL, NULL, NULL, NULL, 0);
			if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
				int64_t t = col_i64(r, 0, 0);
				if (t > atomic_load(&e->test_now_ms))
					atomic_store(&e->test_now_ms, t);
			}
			PQclear(r);
		}
	}
	pthread_mutex_unlock(&e->side_mu);
	return atomic_load(&e->test_now_ms);
}

static void pg_stats(struct hf_engine *base, struct hf_engine_stats *out)
{
	struct pg *e = (struct pg *)base;
	pthread_mutex_lock(&e->st_mu);
	*out = e->st;
	pthread_mutex_unlock(&e->st_mu);
	pthread_mutex_lock(&e->q_mu);
	out->queue_depth = e->q.len;
	pthread_mutex_unlock(&e->q_mu);
	/* The database away reads as failed (/health answers 503) until the
	 * engine has reconnected by itself. */
	out->failed = atomic_load(&e->down) ? 1 : 0;
}

static const struct hf_sm *pg_sm(const struct hf_engine *base)
{
	return atomic_load(&((struct pg *)base)->sm_shown);
}

static int pg_token_secret(const struct hf_engine *base, uint8_t *out)
{
	memcpy(out, ((const struct pg *)base)->secret, HF_ENGINE_SECRET_BYTES);
	return 0;
}

static void pg_free(struct pg *e)
{
	if (e->conn)
		PQfinish(e->conn);
	for (uint32_t i = 0; i < e->n_retired; i++)
		hf_sm_free(e->retired[i].sm);
	hf_sm_free(e->sm);
	free(e->due.a);
	free(e->t.events.v);
	free(e->t.seats.v);
	free(e->t.items.v);
	free(e->t.holds.v);
	free(e->t.orders.v);
	free(e->t.hold_states.v);
	free(e->cmds.p);
	free(e->json.p);
	free(e->scratch);
	free(e->view);
	free(e->url);
	pthread_mutex_destroy(&e->q_mu);
	pthread_cond_destroy(&e->q_cv);
	pthread_mutex_destroy(&e->st_mu);
	if (e->side)
		PQfinish(e->side);
	pthread_mutex_destroy(&e->side_mu);
	free(e);
}

static void pg_close(struct hf_engine *base)
{
	struct pg *e = (struct pg *)base;
	pthread_mutex_lock(&e->q_mu);
	e->closing = true;
	pthread_cond_signal(&e->q_cv);
	pthread_mutex_unlock(&e->q_mu);
	pthread_join(e->thread, NULL);
	if (e->cfg.snapshot_every_records || e->cfg.snapshot_every_s)
		snapshot_write(e);
	pg_free(e);
}

static const struct hf_engine_ops pg_ops = {
	.name = "postgres",
	.submit = pg_submit,
	.clock_advance = pg_clock_advance,
	.stats = pg_stats,
	.sm = pg_sm,
	.close = pg_close,
	.token_secret = pg_token_secret,
	.test_clock_ms = pg_test_clock_ms,
};

uint64_t hf_pg_position(struct hf_engine *base)
{
	HF_ASSERT(base->ops == &pg_ops);
	return ((struct pg *)base)->pos;
}

struct hf_engine *hf_pg_open(const struct hf_engine_config *cfg, const struct hf_pg_options *opt,
			     char *err, size_t err_cap)
{
	pthread_once(&stmt_once, stmt_parse);
	if (!cfg->database_url || !cfg->database_url[0]) {
		snprintf(err, err_cap, "--engine postgres needs --database-url URL (or HOLDFAST_DATABASE_URL)");
		return NULL;
	}
	struct pg *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	e->base.ops = &pg_ops;
	e->cfg = *cfg;
	if (opt)
		e->opt = *opt;
	e->log = e->opt.log ? e->opt.log : stderr;
	e->url = strdup(cfg->database_url);
	e->cfg.database_url = e->url;
	e->cfg.data_dir = NULL;
	e->view = malloc(sizeof *e->view);
	pthread_mutex_init(&e->q_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->q_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&e->st_mu, NULL);
	pthread_mutex_init(&e->side_mu, NULL);
	if (!e->url || !e->view)
		goto oom;
	if (connect_db(e, err, err_cap) < 0)
		goto fail;
	if (schema_setup(e, err, err_cap) < 0)
		goto fail;
	PGresult *r = exec(e->conn, S_HEAD_GET, 0, NULL, PGRES_TUPLES_OK, err, err_cap);
	if (!r)
		goto fail;
	size_t sl = 0;
	uint8_t *sec = bytea_of(r, 0, 2, &sl);
	atomic_store(&e->test_now_ms, col_i64(r, 0, 1));
	PQclear(r);
	if (!sec || sl != HF_ENGINE_SECRET_BYTES) {
		PQfreemem(sec);
		snprintf(err, err_cap, "holdfast.head.token_secret is not %d bytes", HF_ENGINE_SECRET_BYTES);
		goto fail;
	}
	memcpy(e->secret, sec, sl);
	PQfreemem(sec);
	if (rebuild(e, err, err_cap) < 0)
		goto fail;
	if (prepare_all(e, err, err_cap) < 0)
		goto fail;
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		snprintf(err, err_cap, "cannot start the engine thread");
		goto fail;
	}
	return &e->base;
oom:
	snprintf(err, err_cap, "out of memory");
fail:
	pg_free(e);
	return NULL;
}
