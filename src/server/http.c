/*
 * http.c: holdfast's requests on the connection layer (httpd.h). Owns the
 * per-connection state (arena, credential memo), the framing refusals, the
 * park/wake handshake with the engine (server.h, steps 1-4), the answer's
 * headers and log line, start and stop.
 *
 * Threads: every callback here runs on the connection's HTTP loop thread,
 * except on_done / on_op_done (an engine thread: they only wake the loop)
 * and a read's callback (the sequencer, while the request is parked).
 *
 * Invariants:
 *   - A request is parked (submitted) from the loop thread and its wake is
 *     a message to that same loop, handled only after the callback that
 *     submitted it has returned: a wake never overtakes its park.
 *   - While parked, nothing but the engine touches the request; the layer
 *     keeps the connection's memory alive even if its client leaves.
 *   - Every request counts into in_flight between its body's arrival and
 *     its answer, so hf_server_stop can wait for all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/limits.h"
#include "core/sm.h"
#include "server/feed.h"
#include "server/httpd.h"
#include "server/log.h"
#include "server/request.h"
#include "server/server.h"

struct hf_conn {
	struct hf_server *srv;
	struct hf_httpd_conn *hc;
	struct hf_arena arena;
	struct hf_req *r;            /* the request being served, in arena */
	char ip[48];
	struct hf_cred_memo cred;    /* the last credential verified here */
};

uint64_t hf_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t mono_ms(void) { return (int64_t)(hf_mono_ns() / 1000000u); }

int64_t hf_server_now_ms(struct hf_server *s)
{
	if (s->cfg.test_clock) {
		/* An engine shared by processes keeps the test clock (engine.h). */
		int64_t t = s->engine ? hf_engine_test_clock_ms(s->engine) : -1;
		return t >= 0 ? t : atomic_load(&s->test_now_ms);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections -------------------------------------------------------- */

static void *on_open(void *ctx, struct hf_httpd_conn *hc, const char *ip)
{
	struct hf_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = ctx;
	c->hc = hc;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	hf_metrics_conn(1);
	return c;
}

static void on_close(void *ctx, void *user)
{
	(void)ctx;
	struct hf_conn *c = user;
	hf_arena_free(&c->arena);
	hf_auth_wipe(&c->cred, sizeof(c->cred)); /* it may hold the admin key */
	free(c);
	hf_metrics_conn(-1);
}

static void on_timeout(void *ctx, void *user)
{
	(void)ctx;
	struct hf_conn *c = user;
	hf_metrics_timeout();
	hf_log("warn", "timeout", " ip=%s reason=\"request or idle deadline passed\"", c->ip);
}

/* The answer is out (or could not be): the request's memory goes back to
 * this thread's pool, so an idle connection holds none. */
static void on_sent(void *ctx, void *user, bool ok)
{
	(void)ctx;
	(void)ok;
	struct hf_conn *c = user;
	c->r = NULL;
	hf_arena_release(&c->arena);
}

static void on_refused(void *ctx, void *user, unsigned status, const char *code)
{
	(void)ctx;
	struct hf_conn *c = user;
	hf_metrics_request(-1, status, 0);
	hf_log("warn", "request", " ip=%s method=- path=- status=%u code=%s us=0", c->ip, status, code);
}

static void on_thread_end(void *ctx)
{
	(void)ctx;
	hf_arena_pool_drain();
}

/* ---- answers ------------------------------------------------------------ */

#define HF_LOG_METHOD_MAX 16

/* Copies s for a log line: printable ASCII only, at most 200 bytes (and
 * cap - 1). */
static void log_safe(char *out, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < cap && i < 200; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = ch > 0x20 && ch < 0x7f && ch != '"' ? (char)ch : '?';
	}
	out[i] = 0;
}

/* A feed route's answer is a stream (feed.h): true; or 404 / 503 to
 * answer: false. */
static bool open_feed(struct hf_req *r)
{
	uint8_t kind = r->feed;
	unsigned st = hf_feeds_open(r->srv->feeds, r->conn->hc, (enum hf_feed_kind)kind, r->param.ptr,
				    r->param.len, r->last_event_id);
	r->feed = HF_FEED_NONE;
	if (st == 200) {
		r->stage = HF_STAGE_ANSWERED;
		hf_metrics_request(r->route_index, 200, (hf_mono_ns() - r->t0_ns) / 1000u);
		return true;
	}
	if (st == 404)
		hf_render_error(r, 404, "not_found", kind == HF_FEED_ITEM ? "no such item" : "no such event");
	else
		hf_render_error(r, 503, "overloaded", "the stream budget (--max-streams) is full; retry later");
	return false;
}

static void answer(struct hf_req *r)
{
	static const char oom[] = "{\"error\":{\"code\":\"overloaded\",\"message\":\"out of memory\"}}";
	if (r->feed && open_feed(r))
		return; /* the stream answers; its end calls on_sent */
	const char *body = r->out.buf ? r->out.buf : "";
	size_t len = r->out.len;
	if (r->out.oom) {
		r->status = 503;
		r->retry_after = true;
		body = oom;
		len = sizeof(oom) - 1;
		r->resp_type = NULL;
	}
	/* in the arena: the layer keeps the bytes until the answer is written */
	enum { HEADERS_MAX = 256 };
	char *h = hf_arena_alloc_raw(r->arena, HEADERS_MAX);
	int n = 0;
	if (h) {
		char ra[32] = "";
		if (r->retry_after || r->status == 503)
			snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", HF_HTTP_RETRY_AFTER_S);
		char cc[64] = "";
		if (r->resp_cache)
			snprintf(cc, sizeof(cc), "Cache-Control: %s\r\n", r->resp_cache);
		n = snprintf(h, HEADERS_MAX, "Content-Type: %s\r\n%s%s%s%s",
			     r->resp_type ? r->resp_type : "application/json", cc, ra,
			     r->replayed ? "Idempotent-Replayed: true\r\n" : "",
			     r->status == 405 ? "Allow: GET, POST, DELETE\r\n" : "");
		HF_ASSERT(n > 0 && n < HEADERS_MAX);
	}
	r->stage = HF_STAGE_ANSWERED;
	uint64_t us = (hf_mono_ns() - r->t0_ns) / 1000u;
	/* A 409 is a business answer (sold out, seat taken), the common case
	 * of an on-sale: counted in the metrics, not logged (a log line per
	 * refusal cost 6% of throughput on a sold-out item). Logged before
	 * the answer is written: a client that reads the log after its answer
	 * finds the line. */
	if (r->status >= 400 && r->status != 409) {
		/* Client bytes only through log_safe, the method capped (the
		 * known ones are <= 7 bytes) and the address first, so a long
		 * field cannot push it out of the line. */
		char path[208], method[HF_LOG_METHOD_MAX + 1];
		log_safe(path, sizeof(path), r->path);
		log_safe(method, sizeof(method), r->method);
		hf_log(r->status >= 500 ? "error" : "warn", "request",
		       " ip=%s method=%s path=%s status=%u code=%s us=%llu", r->conn->ip, method, path,
		       r->status, r->err_code ? r->err_code : "-", (unsigned long long)us);
	}
	bool gone = hf_httpd_respond(r->conn->hc, r->status, h ? h : "", (size_t)n, body, len, r->close) < 0;
	hf_metrics_request(r->route_index, gone ? HF_STATUS_CLIENT_GONE : r->status, us);
}

/* ---- the engine round trip ---------------------------------------------- */

static void on_done(struct hf_request *q)
{
	struct hf_req *r = q->ctx;
	hf_httpd_wake(r->conn->hc);
}

/* An operation of a batch is done: the last one wakes the batch. */
static void on_op_done(struct hf_request *q)
{
	struct hf_req *r = ((struct hf_req *)q->ctx)->batch;
	if (atomic_fetch_sub(&r->pending, 1) == 1)
		hf_httpd_wake(r->conn->hc);
}

/* The requests a loop parked during one turn, handed to the engine
 * together at the turn's end (one queue lock, at most one wake-up of the
 * sequencer for all of them, instead of one each). */
#define GATHER_MAX 256u
static _Thread_local struct {
	struct hf_request *reqs[GATHER_MAX];
	uint32_t n;
} gathered;

static void finish(struct hf_server *s, struct hf_req *r);

/* Hands the gathered requests to the engine; refused ones are answered. */
static void submit_gathered(struct hf_server *s)
{
	uint32_t n = gathered.n;
	if (!n)
		return;
	gathered.n = 0;
	int rc = hf_engine_submit_many(s->engine, gathered.reqs, n);
	if (rc == HF_ENGINE_OK)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct hf_req *r = gathered.reqs[i]->ctx;
		r->ereq.status = rc;
		finish(s, r);
	}
}

static void on_turn_end(void *ctx)
{
	submit_gathered(ctx);
}

/* HF_ENGINE_OK: parked (a single request waits for the turn's end); else
 * the engine refused it at once. */
static int submit(struct hf_server *s, struct hf_req *r)
{
	if (!r->n_submit) {
		r->ereq.ctx = r;
		r->ereq.done = on_done;
		if (gathered.n == GATHER_MAX)
			submit_gathered(s);
		gathered.reqs[gathered.n++] = &r->ereq;
		return HF_ENGINE_OK;
	}
	for (uint32_t i = 0; i < r->n_submit; i++)
		r->submit[i]->done = on_op_done; /* ctx: the operation (api.c) */
	atomic_store(&r->pending, r->n_submit);
	return hf_engine_submit_many(s->engine, r->submit, r->n_submit);
}

/* Renders a parked request whose engine part is over (or was refused). */
static void finish(struct hf_server *s, struct hf_req *r)
{
	atomic_fetch_sub(&s->in_flight, 1);
	if (r->ereq.status == HF_ENGINE_FULL) {
		hf_render_error(r, 503, "overloaded", "the request queue is full; retry later");
		r->retry_after = true;
	} else {
		hf_api_finish(r);
	}
	answer(r);
}

static void on_wake(void *ctx, void *user, struct hf_httpd_conn *hc)
{
	(void)hc;
	struct hf_conn *c = user;
	finish(ctx, c->r);
}

/* ---- requests ----------------------------------------------------------- */

/* A header's value as a C string in the arena, NULL when absent. */
static const char *header(struct hf_arena *a, const struct hf_httpd_head *h, const char *name)
{
	size_t len;
	const char *v = hf_httpd_header(h, name, &len);
	return v ? hf_arena_strndup(a, v, len) : NULL;
}

static int refuse_framing(struct hf_req *r, unsigned status, const char *msg)
{
	hf_render_error(r, (uint16_t)status, "bad_request", msg);
	r->close = true;
	answer(r);
	return HF_HTTPD_ANSWERED;
}

static int on_head(void *ctx, void *user, struct hf_httpd_conn *hc, const struct hf_httpd_head *h,
		   uint64_t *body_max)
{
	struct hf_server *s = ctx;
	struct hf_conn *c = user;
	(void)hc;
	struct hf_arena *a = &c->arena;
	struct hf_api_input in = {
		.method = hf_arena_strndup(a, h->method, h->method_len),
		.target = hf_arena_strndup(a, h->target, h->target_len),
		.authorization = header(a, h, "authorization"),
		.content_type = header(a, h, "content-type"),
		.idem_key = header(a, h, "idempotency-key"),
		.accept = header(a, h, "accept"),
		.last_event_id = header(a, h, "last-event-id"),
		.head_bytes = h->head_bytes,
		.cred_memo = &c->cred,
	};
	struct hf_req *r = NULL;
	if (!in.method || !in.target || hf_api_start(s, a, &in, &r) < 0 || !r) {
		/* out of memory: nothing to render in; a bare 503, then close */
		static const char ra[] = "Retry-After: 1\r\n";
		hf_httpd_respond(hc, 503, ra, sizeof(ra) - 1, "", 0, true);
		return HF_HTTPD_ANSWERED;
	}
	r->conn = c;
	c->r = r;
	if (r->stage == HF_STAGE_ANSWERED) { /* 400 bad target, 431 */
		answer(r);
		return HF_HTTPD_ANSWERED;
	}
	/* Ambiguous framing (request smuggling): 400, then close. A transfer
	 * coding we cannot frame: 501 at once (nothing would delimit the
	 * body). HTTP/1.1 without exactly one Host: 400 (RFC 9112 3.2). */
	if (h->n_content_length > 1 || (h->n_content_length && h->n_transfer_encoding))
		return refuse_framing(r, 400, h->n_content_length > 1 ? "more than one Content-Length"
								 : "both Content-Length and Transfer-Encoding");
	if (h->n_content_length && !h->cl_valid)
		return refuse_framing(r, 400, "Content-Length is not a number");
	if (h->n_transfer_encoding && !h->te_chunked)
		return refuse_framing(r, 501, "Transfer-Encoding: only a single chunked is supported");
	if (h->minor >= 1 && h->n_host != 1)
		return refuse_framing(r, 400, h->n_host ? "more than one Host header" : "HTTP/1.1 requires a Host header");
	/* Credentials and role before any body is read: no one without the
	 * right credential makes us buffer a body. A body where none is
	 * accepted is refused at once, with the answer the request would get
	 * (404, 405, 400); the layer closes the connection (its body is never
	 * read). */
	bool has_body = h->n_transfer_encoding || (h->cl_valid && h->content_length);
	if (hf_api_head(r, has_body) == HF_ANSWERED) {
		answer(r);
		return HF_HTTPD_ANSWERED;
	}
	uint32_t max = hf_route_body_limit(r->route);
	if (h->cl_valid && h->content_length > max) {
		char msg[96];
		snprintf(msg, sizeof(msg), "the body is larger than %u bytes", max);
		hf_render_error(r, 413, "payload_too_large", msg);
		answer(r);
		return HF_HTTPD_ANSWERED;
	}
	*body_max = max;
	return HF_HTTPD_READ_BODY;
}

static void on_request(void *ctx, void *user, struct hf_httpd_conn *hc, const char *body, size_t len,
		       bool too_large)
{
	struct hf_server *s = ctx;
	struct hf_conn *c = user;
	(void)hc;
	struct hf_req *r = c->r;
	/* Counted before looking at `stopping` (both seq_cst): either
	 * hf_server_stop sees this request in in_flight and waits for it, or
	 * this request sees `stopping` and never reaches the engine. */
	atomic_fetch_add(&s->in_flight, 1);
	if (atomic_load(&s->stopping)) {
		atomic_fetch_sub(&s->in_flight, 1);
		hf_render_error(r, 503, "overloaded", "the server is shutting down");
		answer(r);
		return;
	}
	if (hf_api_body(r, body, len, too_large) == HF_ANSWERED) {
		atomic_fetch_sub(&s->in_flight, 1);
		answer(r);
		return;
	}
	int rc = submit(s, r);
	if (rc != HF_ENGINE_OK) {
		r->ereq.status = rc;
		finish(s, r);
	}
}

/* ---- start / stop ------------------------------------------------------ */

int hf_server_start(struct hf_server *s, char *err, size_t err_cap)
{
	struct hf_engine_config ec;
	hf_engine_config_default(&ec);
	ec.kind = s->cfg.engine_postgres ? HF_ENGINE_POSTGRES : HF_ENGINE_EMBEDDED;
	ec.database_url = s->cfg.database_url;
	ec.data_dir = s->cfg.data_dir;
	ec.fsync = s->cfg.fsync_off ? HF_FSYNC_OFF : HF_FSYNC_ALWAYS;
	ec.queue_max = s->cfg.queue_max;
	ec.snapshot_every_s = s->cfg.snapshot_every_s;
	ec.snapshot_every_records = s->cfg.snapshot_every_records;
	ec.test_clock = s->cfg.test_clock;
	ec.sm.shipping_fee = s->cfg.shipping_fee;
	ec.sm.free_shipping_over = s->cfg.free_shipping_over;
	if (s->cfg.max_holds)
		ec.sm.max_holds = s->cfg.max_holds;
	if (s->cfg.max_orders)
		ec.sm.max_orders = s->cfg.max_orders;
	if (s->cfg.idem_retention_s)
		ec.sm.idem_retention_ms = (int64_t)s->cfg.idem_retention_s * 1000;
	if (s->cfg.max_idem_keys) {
		/* bytes: ~256 per answer on average, as the default's ratio */
		ec.sm.idem_entries = s->cfg.max_idem_keys;
		uint64_t bytes = (uint64_t)s->cfg.max_idem_keys * 256;
		ec.sm.idem_bytes = (uint32_t)(bytes < (1u << 31) ? (bytes > 4 * HF_REPLY_BYTES_MAX ? bytes : 4 * HF_REPLY_BYTES_MAX) : (1u << 31));
	}
	ec.adopt_stored_config = false;
	/* Live feeds, the change log and reads off the sequencer follow the
	 * engine through its observer; the PostgreSQL engine has none yet: its
	 * reads go through the engine as before and its feeds answer 501. */
	if (!s->cfg.engine_postgres) {
		struct hf_feeds_config fc = {.data_dir = s->cfg.data_dir,
					     .changes_retain = s->cfg.changes_retain};
		s->feeds = hf_feeds_new(&fc, err, err_cap);
		if (!s->feeds)
			return -1;
		ec.observer = hf_feeds_observer(s->feeds);
	}
	s->engine = hf_engine_open(&ec, err, err_cap);
	if (!s->engine) {
		hf_feeds_free(s->feeds);
		s->feeds = NULL;
		return -1;
	}
	if (s->feeds && hf_feeds_start(s->feeds, err, err_cap) < 0)
		goto fail_engine;
	s->sm = hf_engine_sm(s->engine);
	if (s->cfg.test_clock)
		atomic_store(&s->test_now_ms, hf_engine_clock_advance(s->engine, 0));
	/* An engine shared by several processes keeps the token secret. */
	uint8_t secret[HF_ENGINE_SECRET_BYTES];
	bool shared = hf_engine_token_secret(s->engine, secret) == 0;
	if (hf_auth_init(&s->auth, s->admin_key, s->admin_key_len, shared ? NULL : s->cfg.data_dir,
			 err, err_cap) < 0)
		goto fail_engine;
	if (shared)
		memcpy(s->auth.secret, secret, sizeof(s->auth.secret));

	struct hf_httpd_config hc = {
		.host = s->cfg.listen_host,
		.port = s->cfg.listen_port,
		.threads = s->cfg.threads,
		.max_connections = s->cfg.max_connections,
		.max_connections_per_ip = s->cfg.max_connections_per_ip,
		.max_streams = s->cfg.max_streams,
		.idle_timeout_ms = s->cfg.idle_timeout_s * 1000u,
		.request_timeout_ms = s->cfg.request_timeout_s * 1000u,
		.stream_buffer_max = HF_HTTP_STREAM_BUFFER_MAX,
		.backlog = 1024,
	};
	static const struct hf_httpd_handler handler = {
		.conn_open = on_open,
		.conn_close = on_close,
		.head = on_head,
		.request = on_request,
		.wake = on_wake,
		.sent = on_sent,
		.timeout = on_timeout,
		.refused = on_refused,
		.turn_end = on_turn_end,
		.thread_end = on_thread_end,
	};
	struct hf_httpd_handler h = handler;
	h.ctx = s;
	s->httpd = hf_httpd_start(&hc, &h, err, err_cap);
	if (!s->httpd)
		goto fail_engine;
	s->port = hf_httpd_port(s->httpd);
	return 0;
fail_engine:
	hf_engine_close(s->engine);
	s->engine = NULL;
	hf_feeds_free(s->feeds);
	s->feeds = NULL;
	return -1;
}

int hf_server_stop(struct hf_server *s)
{
	atomic_store(&s->stopping, true);
	hf_httpd_quiesce(s->httpd);
	/* Requests in flight finish and their answers are sent; new ones get
	 * 503 and never reach the engine (see on_request). */
	int64_t until = mono_ms() + 30000;
	while (atomic_load(&s->in_flight) > 0 && mono_ms() < until) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->in_flight) > 0)
		return -1; /* the engine is wedged: the caller exits as after a crash */
	/* Nothing is parked: no wake can come. The feeds send what is durable
	 * and let go of their streams; the loops end every stream, write out
	 * the last answers and close. The feeds outlive the engine: what its
	 * close makes durable still reaches the change log. */
	if (s->feeds)
		hf_feeds_detach(s->feeds);
	hf_httpd_stop(s->httpd);
	s->httpd = NULL;
	hf_engine_close(s->engine);
	s->engine = NULL;
	hf_feeds_free(s->feeds);
	s->feeds = NULL;
	return 0;
}
