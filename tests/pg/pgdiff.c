/*
 * pgdiff.c: the differential test of the PostgreSQL engine against the core.
 *
 * The seeded simulation (tests/sim/sim.c, included whole: its generator,
 * its model check and its reply comparison, unchanged) runs each seed as
 * usual; the commands it applies to its main state are recorded as it
 * records its own replay stream (a command the codec cannot carry becomes
 * a TICK at its time; a command of unknown type changes nothing and is
 * left out). Then the stream goes, command by command at its own time,
 *   - through two PostgreSQL engines on one database (two "processes":
 *     each command to one of them at random, so every batch of one first
 *     catches up with the other's), and
 *   - straight into a fresh core,
 * and demands: identical replies (every field, sim_reply_diff); equal state
 * digests of both engines and the core every PGDIFF_DIGEST_EVERY commands
 * and at the end; snapshots written every few hundred log rows, one
 * engine left idle while the log it needs is pruned (it rebuilds from the
 * newest snapshot), one engine closed and opened again mid-stream (a new
 * process: snapshot + log), a third started after the run; and at the end the
 * plain tables (events, seats, items, holds and their lines, orders and
 * their lines) equal to the core's state, row by row.
 *
 * A failure prints the seed and the step; `pgdiff --url URL --seed N
 * --commands M` reproduces it (tests/pg/with-cluster.sh starts a cluster).
 *
 * Usage: pgdiff --url URL [--seed N] [--seeds K] [--commands M]
 */
#include <libpq-fe.h>
#include <pthread.h>

#include "core/cmd.h"
#include "core/sm.h"
#include "engine/engine.h"
#include "engine/postgres.h"

/* The real functions, before the simulation's calls are routed through
 * the recorder below. */
static struct hf_sm *real_sm_init(const struct hf_sm_config *cfg, char *err, size_t cap)
{
	return hf_sm_init(cfg, err, cap);
}
static void real_sm_free(struct hf_sm *sm) { hf_sm_free(sm); }
static void real_sm_apply(struct hf_sm *sm, int64_t now, const struct hf_cmd *c, struct hf_reply *r)
{
	hf_sm_apply(sm, now, c, r);
}

static struct hf_sm *pgd_sm_init(const struct hf_sm_config *cfg, char *err, size_t cap);
static void pgd_sm_free(struct hf_sm *sm);
static void pgd_sm_apply(struct hf_sm *sm, int64_t now, const struct hf_cmd *c, struct hf_reply *r);

#define hf_sm_init pgd_sm_init
#define hf_sm_free pgd_sm_free
#define hf_sm_apply pgd_sm_apply
#define main sim_main
#include "../sim/sim.c"
#undef main
#undef hf_sm_apply
#undef hf_sm_free
#undef hf_sm_init

#define PGDIFF_DIGEST_EVERY 250u
#define PGDIFF_SNAPSHOT_EVERY 300u /* log rows between snapshots (pruning) */

static const char *pgd_url;
static struct hf_sm *pgd_main;        /* the seed's main state */
static struct hf_sm_config pgd_cfg;
static uint8_t *pgd_stream;
static size_t pgd_len, pgd_cap;
static uint64_t pgd_total, pgd_seeds;
static int64_t pgd_now;                /* the time of the command in flight */

static struct hf_sm *pgd_sm_init(const struct hf_sm_config *cfg, char *err, size_t cap)
{
	struct hf_sm *sm = real_sm_init(cfg, err, cap);
	if (!pgd_main) {
		pgd_main = sm;
		pgd_cfg = *cfg;
		pgd_len = 0;
	}
	return sm;
}

static void pgd_record(int64_t now, const struct hf_cmd *c)
{
	size_t n = hf_cmd_encoded_size(c);
	struct hf_cmd tick;
	if (n == 0) {
		memset(&tick, 0, sizeof tick);
		tick.type = HF_CMD_TICK;
		c = &tick;
		n = hf_cmd_encoded_size(c);
	}
	if (pgd_len + 12 + n > pgd_cap) {
		pgd_cap = pgd_cap ? pgd_cap : 1u << 20;
		while (pgd_cap < pgd_len + 12 + n)
			pgd_cap *= 2;
		pgd_stream = realloc(pgd_stream, pgd_cap);
		HF_ASSERT(pgd_stream != NULL);
	}
	uint32_t l = (uint32_t)n;
	memcpy(pgd_stream + pgd_len, &now, 8);
	memcpy(pgd_stream + pgd_len + 8, &l, 4);
	HF_ASSERT(hf_cmd_encode(c, pgd_stream + pgd_len + 12, n) == (int64_t)n);
	pgd_len += 12 + n;
}

static void pgd_sm_apply(struct hf_sm *sm, int64_t now, const struct hf_cmd *c, struct hf_reply *r)
{
	real_sm_apply(sm, now, c, r);
	if (sm == pgd_main && c->type != HF_CMD_NONE && c->type < HF_CMD_TYPE_COUNT)
		pgd_record(now, c);
}

/* ---- driving the engines --------------------------------------------------- */

struct waiter {
	struct hf_request r;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	uint64_t digest;
};

static void waiter_done(struct hf_request *req)
{
	struct waiter *w = (struct waiter *)req;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void read_digest(struct hf_request *req, const struct hf_sm *sm, int64_t now_ms)
{
	(void)now_ms;
	((struct waiter *)req)->digest = hf_sm_digest(sm);
}

static int64_t pgd_now_fn(void *arg)
{
	(void)arg;
	return pgd_now;
}

static void pgd_fail(uint64_t seed, size_t step, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pgd_fail(uint64_t seed, size_t step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pgdiff: FAILED seed %" PRIu64 " step %zu: ", seed, step);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nreproduce: pgdiff --url URL --seed %" PRIu64 " --commands N (tests/pg/with-cluster.sh)\n",
		seed);
	exit(1);
}

/* Submits and waits; status checked. */
static void pgd_run(struct hf_engine *e, struct waiter *w, uint64_t seed, size_t step)
{
	w->done = false;
	w->r.done = waiter_done;
	int rc = hf_engine_submit(e, &w->r);
	if (rc != HF_ENGINE_OK)
		pgd_fail(seed, step, "submit returned %d", rc);
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if (w->r.status != HF_ENGINE_OK)
		pgd_fail(seed, step, "the engine completed with status %d", w->r.status);
}

static struct hf_engine *pgd_open(uint64_t seed, size_t step)
{
	struct hf_engine_config ec;
	hf_engine_config_default(&ec);
	ec.kind = HF_ENGINE_POSTGRES;
	ec.database_url = pgd_url;
	ec.sm = pgd_cfg;
	ec.snapshot_every_records = PGDIFF_SNAPSHOT_EVERY;
	struct hf_pg_options o = {.now_fn = pgd_now_fn};
	char err[512];
	struct hf_engine *e = hf_pg_open(&ec, &o, err, sizeof err);
	if (!e)
		pgd_fail(seed, step, "hf_pg_open: %s", err);
	return e;
}

static uint64_t pgd_digest(struct hf_engine *e, uint64_t seed, size_t step)
{
	static struct waiter w;
	w.r.read = read_digest;
	pgd_run(e, &w, seed, step);
	w.r.read = NULL;
	return w.digest;
}

/* ---- plain tables against the core -------------------------------------------- */

static PGresult *q(PGconn *c, const char *sql, uint64_t seed)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
		pgd_fail(seed, 0, "%s: %s", sql, PQerrorMessage(c));
	return r;
}

static bool ascii(struct hf_str s)
{
	for (uint32_t i = 0; i < s.len; i++)
		if ((unsigned char)s.ptr[i] < 0x20 || (unsigned char)s.ptr[i] >= 0x7f)
			return false;
	return true;
}

static bool str_is(struct hf_str s, const char *t)
{
	return !ascii(s) || (strlen(t) == s.len && !memcmp(t, s.ptr, s.len));
}

static const char *const w_seat[4] = {"free", "held", "sold", "blocked"};
static const char *const w_hold[4] = {"active", "confirmed", "released", "expired"};
static const char *const w_order[5] = {"under_review", "packaged", "shipped", "delivered", "canceled"};

/* Lines of a booking against rows (line, event|item, seat|quantity, ...). */
static void pgd_lines(PGconn *c, const char *table, const char *key, uint64_t id,
		      const struct hf_sm *sm, const struct hf_booking *b, uint64_t seed)
{
	char sql[256];
	bool seats = strstr(table, "seats") != NULL;
	snprintf(sql, sizeof sql,
		 seats ? "SELECT event, seat, price FROM holdfast.%s WHERE %s = %" PRIu64 " ORDER BY line"
		       : "SELECT item, quantity, requested, price FROM holdfast.%s WHERE %s = %" PRIu64 " ORDER BY line",
		 table, key, id);
	PGresult *r = q(c, sql, seed);
	uint32_t n = seats ? b->n_seats : b->n_items;
	if ((uint32_t)PQntuples(r) != n)
		pgd_fail(seed, 0, "%s of %" PRIu64 ": %d rows, the core has %u lines", table, id, PQntuples(r), n);
	for (uint32_t i = 0; i < n; i++) {
		if (seats) {
			uint32_t ev;
			struct hf_str sid = hf_sm_seat_id(sm, b->seats[i].seat, &ev);
			if (!str_is(hf_sm_event_id(sm, ev), PQgetvalue(r, (int)i, 0)) ||
			    !str_is(sid, PQgetvalue(r, (int)i, 1)) ||
			    strtoll(PQgetvalue(r, (int)i, 2), NULL, 10) != b->seats[i].price)
				pgd_fail(seed, 0, "%s of %" PRIu64 " line %u differs", table, id, i + 1);
		} else {
			const struct hf_view_item *it = &b->items[i];
			if (!str_is(hf_sm_item_id(sm, it->item), PQgetvalue(r, (int)i, 0)) ||
			    strtoll(PQgetvalue(r, (int)i, 1), NULL, 10) != it->quantity ||
			    strtoll(PQgetvalue(r, (int)i, 2), NULL, 10) != it->requested ||
			    strtoll(PQgetvalue(r, (int)i, 3), NULL, 10) != it->price)
				pgd_fail(seed, 0, "%s of %" PRIu64 " line %u differs", table, id, i + 1);
		}
	}
	PQclear(r);
}

#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

static void pgd_tables(PGconn *c, const struct hf_sm *sm, uint64_t seed)
{
	static struct hf_booking b;
	/* events and their seats */
	PGresult *r = q(c, "SELECT id, name, " MS("starts_at") ", hold_ttl_s, max_per_customer, "
			   "coalesce(" MS("sale_opens_at") ", 0), coalesce(" MS("sale_closes_at") ", 0) "
			   "FROM holdfast.events ORDER BY id", seed);
	uint32_t ne = hf_sm_event_count(sm);
	if ((uint32_t)PQntuples(r) != ne)
		pgd_fail(seed, 0, "events: %d rows, the core has %u", PQntuples(r), ne);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *id = PQgetvalue(r, i, 0);
		int64_t ev = hf_sm_event_find(sm, hf_str_c(id));
		if (ev < 0)
			pgd_fail(seed, 0, "events: row %s unknown to the core", id);
		struct hf_event_info in;
		hf_sm_event_info(sm, (uint32_t)ev, &in);
		if (!str_is(in.name, PQgetvalue(r, i, 1)) || strtoll(PQgetvalue(r, i, 2), NULL, 10) != in.starts_at_ms ||
		    strtoll(PQgetvalue(r, i, 3), NULL, 10) != in.hold_ttl_s ||
		    strtoll(PQgetvalue(r, i, 4), NULL, 10) != in.max_per_customer ||
		    strtoll(PQgetvalue(r, i, 5), NULL, 10) != in.sale_opens_at_ms ||
		    strtoll(PQgetvalue(r, i, 6), NULL, 10) != in.sale_closes_at_ms)
			pgd_fail(seed, 0, "events: row %s differs from the core", id);
	}
	PQclear(r);
	r = q(c, "SELECT event, id, section, row, number, price, category, state FROM holdfast.seats", seed);
	uint32_t nseats = 0;
	for (uint32_t ev = 0; ev < ne; ev++) {
		struct hf_event_info in;
		hf_sm_event_info(sm, ev, &in);
		nseats += in.n_seats;
	}
	if ((uint32_t)PQntuples(r) != nseats)
		pgd_fail(seed, 0, "seats: %d rows, the core has %u", PQntuples(r), nseats);
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t ev = hf_sm_event_find(sm, hf_str_c(PQgetvalue(r, i, 0)));
		int64_t st = ev < 0 ? -1 : hf_sm_seat_find(sm, (uint32_t)ev, hf_str_c(PQgetvalue(r, i, 1)));
		if (st < 0)
			pgd_fail(seed, 0, "seats: %s/%s unknown to the core", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
		struct hf_seat_info s;
		hf_sm_seat_info(sm, (uint32_t)st, &s);
		if (!str_is(s.section, PQgetvalue(r, i, 2)) || !str_is(s.row, PQgetvalue(r, i, 3)) ||
		    strtoll(PQgetvalue(r, i, 4), NULL, 10) != s.number ||
		    strtoll(PQgetvalue(r, i, 5), NULL, 10) != s.price || !str_is(s.category, PQgetvalue(r, i, 6)) ||
		    strcmp(PQgetvalue(r, i, 7), w_seat[s.state & 3]))
			pgd_fail(seed, 0, "seats: %s/%s is %s, the core says %s", PQgetvalue(r, i, 0),
				 PQgetvalue(r, i, 1), PQgetvalue(r, i, 7), w_seat[s.state & 3]);
	}
	PQclear(r);
	/* items */
	r = q(c, "SELECT id, name, category, description, image_url, price, available, held, sold "
		 "FROM holdfast.items", seed);
	if ((uint32_t)PQntuples(r) != hf_sm_item_count(sm))
		pgd_fail(seed, 0, "items: %d rows, the core has %u", PQntuples(r), hf_sm_item_count(sm));
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t it = hf_sm_item_find(sm, hf_str_c(PQgetvalue(r, i, 0)));
		if (it < 0)
			pgd_fail(seed, 0, "items: %s unknown to the core", PQgetvalue(r, i, 0));
		struct hf_item_info in;
		hf_sm_item_info(sm, (uint32_t)it, &in);
		if (!str_is(in.name, PQgetvalue(r, i, 1)) || !str_is(in.category, PQgetvalue(r, i, 2)) ||
		    !str_is(in.description, PQgetvalue(r, i, 3)) || !str_is(in.image_url, PQgetvalue(r, i, 4)) ||
		    strtoll(PQgetvalue(r, i, 5), NULL, 10) != in.price ||
		    strtoll(PQgetvalue(r, i, 6), NULL, 10) != in.available ||
		    strtoll(PQgetvalue(r, i, 7), NULL, 10) != in.held ||
		    strtoll(PQgetvalue(r, i, 8), NULL, 10) != in.sold)
			pgd_fail(seed, 0, "items: %s differs (available/held/sold %s/%s/%s, core %u/%u/%u)",
				 PQgetvalue(r, i, 0), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 8),
				 in.available, in.held, in.sold);
	}
	PQclear(r);
	/* holds: every row the core still knows equals its view; rows of holds
	 * the core has recycled are ended; every hold the core knows has a row */
	r = q(c, "SELECT id, customer, state, " MS("created_at") ", " MS("expires_at") ", coalesce(order_id, 0), "
		 "total, total_with_fees FROM holdfast.holds ORDER BY id", seed);
	uint64_t max_id = 0;
	uint32_t known_rows = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		max_id = id;
		if (hf_sm_hold_view(sm, id, &b) != HF_OK) {
			if (!strcmp(PQgetvalue(r, i, 2), "active"))
				pgd_fail(seed, 0, "holds: %" PRIu64 " is active in the table, unknown to the core", id);
			continue;
		}
		known_rows++;
		if (!str_is(hf_sm_customer_name(sm, b.customer), PQgetvalue(r, i, 1)) ||
		    strcmp(PQgetvalue(r, i, 2), w_hold[b.state & 3]) ||
		    strtoll(PQgetvalue(r, i, 3), NULL, 10) != b.created_at_ms ||
		    strtoll(PQgetvalue(r, i, 4), NULL, 10) != b.expires_at_ms ||
		    strtoull(PQgetvalue(r, i, 5), NULL, 10) != b.order ||
		    strtoll(PQgetvalue(r, i, 6), NULL, 10) != b.total ||
		    strtoll(PQgetvalue(r, i, 7), NULL, 10) != b.total_with_fees)
			pgd_fail(seed, 0, "holds: %" PRIu64 " is %s in the table, %s in the core (or other fields differ)",
				 id, PQgetvalue(r, i, 2), w_hold[b.state & 3]);
		pgd_lines(c, "hold_seats", "hold_id", id, sm, &b, seed);
		pgd_lines(c, "hold_items", "hold_id", id, sm, &b, seed);
	}
	PQclear(r);
	uint32_t known = 0;
	for (uint64_t id = 1; id <= max_id + 64; id++)
		known += hf_sm_hold_view(sm, id, &b) == HF_OK;
	if (known != known_rows)
		pgd_fail(seed, 0, "holds: the core knows %u holds, the table has %u of them", known, known_rows);
	/* orders: all of them */
	r = q(c, "SELECT id, customer, status, " MS("created_at") ", total, total_with_fees "
		 "FROM holdfast.orders ORDER BY id", seed);
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		if (hf_sm_order_view(sm, id, &b) != HF_OK)
			pgd_fail(seed, 0, "orders: %" PRIu64 " unknown to the core", id);
		if (!str_is(hf_sm_customer_name(sm, b.customer), PQgetvalue(r, i, 1)) ||
		    strcmp(PQgetvalue(r, i, 2), b.state <= 4 ? w_order[b.state] : "?") ||
		    strtoll(PQgetvalue(r, i, 3), NULL, 10) != b.created_at_ms ||
		    strtoll(PQgetvalue(r, i, 4), NULL, 10) != b.total ||
		    strtoll(PQgetvalue(r, i, 5), NULL, 10) != b.total_with_fees)
			pgd_fail(seed, 0, "orders: %" PRIu64 " differs", id);
		pgd_lines(c, "order_seats", "order_id", id, sm, &b, seed);
		pgd_lines(c, "order_items", "order_id", id, sm, &b, seed);
	}
	uint64_t n_orders = (uint64_t)PQntuples(r);
	PQclear(r);
	struct hf_sm_stats st;
	hf_sm_stats(sm, &st);
	if (n_orders != st.orders)
		pgd_fail(seed, 0, "orders: %" PRIu64 " rows, the core has %u", n_orders, st.orders);
}

/* ---- one seed ----------------------------------------------------------------- */

static void pgd_seed(uint64_t seed)
{
	PGconn *c = PQconnectdb(pgd_url);
	if (PQstatus(c) != CONNECTION_OK)
		pgd_fail(seed, 0, "connect: %s", PQerrorMessage(c));
	PQclear(q(c, "SET client_min_messages = warning", seed));
	PQclear(q(c, "DROP SCHEMA IF EXISTS holdfast CASCADE", seed));

	char err[256];
	struct hf_sm *ref = real_sm_init(&pgd_cfg, err, sizeof err);
	HF_ASSERT(ref != NULL);
	struct hf_engine *e[2] = {pgd_open(seed, 0), pgd_open(seed, 0)};
	uint64_t rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	static struct waiter w;
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	static struct hf_reply rr;
	void *scratch = NULL;
	size_t scratch_cap = 0;
	size_t step = 0, n_cmds = 0, entries = 0;
	for (size_t off = 0; off < pgd_len; entries++) {
		uint32_t len;
		memcpy(&len, pgd_stream + off + 8, 4);
		off += 12 + len;
	}
	for (size_t off = 0; off < pgd_len; off += 12, step++) {
		int64_t now;
		uint32_t len;
		memcpy(&now, pgd_stream + off, 8);
		memcpy(&len, pgd_stream + off + 8, 4);
		const uint8_t *bytes = pgd_stream + off + 12;
		size_t need = hf_cmd_scratch_for(len) + 1;
		if (need > scratch_cap) {
			free(scratch);
			scratch = malloc(need);
			scratch_cap = need;
		}
		memset(&w.r, 0, sizeof w.r);
		if (hf_cmd_decode(bytes, len, &w.r.cmd, scratch, scratch_cap) != (int64_t)len)
			pgd_fail(seed, step, "a recorded command does not decode");
		real_sm_apply(ref, now, &w.r.cmd, &rr);
		pgd_now = now;
		sim_rng_next(&rng);
		/* For a stretch, engine 1 stays idle across more than two
		 * snapshots: the log it needs is pruned, it rebuilds. */
		bool idle1 = step >= entries / 4 && step < entries / 4 + 3 * PGDIFF_SNAPSHOT_EVERY;
		struct hf_engine *x = e[idle1 ? 0 : rng >> 63];
		pgd_run(x, &w, seed, step);
		char why[512];
		if (sim_reply_diff(&w.r.reply, &rr, why, sizeof why)) {
			sim_dump_cmd(stderr, now, &w.r.cmd);
			sim_dump_reply(stderr, "engine", &w.r.reply);
			sim_dump_reply(stderr, "core", &rr);
			pgd_fail(seed, step, "reply differs: %s", why);
		}
		n_cmds++;
		off += len;
		if (step % PGDIFF_DIGEST_EVERY == PGDIFF_DIGEST_EVERY - 1) {
			uint64_t d = hf_sm_digest(ref);
			for (int k = 0; k < 2 - idle1; k++)
				if (pgd_digest(e[k], seed, step) != d)
					pgd_fail(seed, step, "engine %d's state digest differs from the core's", k);
		}
		if (step == entries / 2) {
			/* A process restarts: snapshot + log, pruned under the other. */
			hf_engine_close(e[0]);
			e[0] = pgd_open(seed, step);
		}
	}
	uint64_t d = hf_sm_digest(ref);
	for (int k = 0; k < 2; k++)
		if (pgd_digest(e[k], seed, step) != d)
			pgd_fail(seed, step, "at the end, engine %d's state digest differs from the core's", k);
	pgd_tables(c, ref, seed);
	hf_engine_close(e[0]);
	hf_engine_close(e[1]);
	/* A third process, from what the two left (snapshot at close + log). */
	struct hf_engine *e3 = pgd_open(seed, step);
	if (pgd_digest(e3, seed, step) != d)
		pgd_fail(seed, step, "a process started after the run has another state than the core");
	hf_engine_close(e3);
	real_sm_free(ref);
	free(scratch);
	PQfinish(c);
	pgd_total += n_cmds;
	pgd_seeds++;
}

static void pgd_sm_free(struct hf_sm *sm)
{
	if (sm == pgd_main) {
		pgd_main = NULL;
		pgd_seed(sim_current ? sim_current->seed : 0);
	}
	real_sm_free(sm);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, seeds = 1;
	uint32_t commands = 2500;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--url") && i + 1 < argc)
			pgd_url = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--commands") && i + 1 < argc)
			commands = (uint32_t)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: pgdiff --url URL [--seed N] [--seeds K] [--commands M]\n");
			return 2;
		}
	}
	if (!pgd_url)
		pgd_url = getenv("HOLDFAST_DATABASE_URL");
	if (!pgd_url) {
		fprintf(stderr, "pgdiff: no --url and no HOLDFAST_DATABASE_URL\n");
		return 2;
	}
	sim_crash_hooks();
	static struct sim_totals tot;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t k = 0; k < seeds; k++)
		sim_run(seed + k, commands, false, &tot);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("pgdiff: seeds %" PRIu64 "..%" PRIu64 ": %" PRIu64
	       " commands through two PostgreSQL engines and the core in %.1f s: every reply, digest and plain-table row equal\n",
	       seed, seed + seeds - 1, pgd_total, secs);
	free(pgd_stream);
	return 0;
}
