/*
 * http.c: libmicrohttpd glue. Owns the daemon, the per-connection state
 * (arena, deadline), the connection registry and its reaper thread, and
 * the suspend/resume handshake with the engine (server.h, steps 1-4).
 *
 * Threads: libmicrohttpd's pool (MHD_USE_INTERNAL_POLLING_THREAD |
 * MHD_USE_POLL, MHD_OPTION_THREAD_POOL_SIZE) runs every callback of a
 * connection on one worker; engine threads only call on_done (resume) and,
 * for reads, the route's read callback on the sequencer thread while the
 * connection is parked; the reaper only shuts sockets down.
 *
 * Invariants:
 *   - A connection is suspended before its request is submitted, and
 *     resumed exactly once after (by on_done, or at once when the submit
 *     is refused), so a resume never precedes its suspend.
 *   - While parked, nothing but the engine touches the request.
 *   - The registry lock is held by the reaper while it shuts a socket
 *     down and by the CLOSED notification while it unlinks the
 *     connection, and libmicrohttpd closes the socket only after that
 *     notification: the reaper never shuts a recycled descriptor.
 *   - Deadlines (monotonic ms, 0 = none): opened or answered -> idle
 *     timeout; request line received -> whole-request timeout; request
 *     complete -> none (the engine answers; it is not the client's time).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/limits.h"
#include "core/sm.h"
#include "server/log.h"
#include "server/server.h"

struct hf_conn {
	struct hf_conn *prev, *next; /* registry, under reg_lock */
	int fd;
	struct hf_arena arena;
	_Atomic int64_t deadline_ms;
	bool cut;                    /* shut down by the reaper */
	char ip[48];
	struct hf_cred_memo cred;    /* the last credential verified here */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hf_conn reg_head = {.prev = &reg_head, .next = &reg_head, .fd = -1};
static pthread_t reaper;
static atomic_uint conns_live;
static atomic_bool reaper_stop;

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

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct hf_server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct hf_conn *c = calloc(1, sizeof(*c));
		HF_ASSERT(c); /* a few hundred bytes; out of memory here is fatal anyway */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci ? ci->connect_fd : -1;
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
				  c->ip, sizeof(c->ip));
		else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
				  c->ip, sizeof(c->ip));
		c->deadline_ms = mono_ms() + (int64_t)s->cfg.idle_timeout_s * 1000;
		pthread_mutex_lock(&reg_lock);
		c->next = reg_head.next;
		c->prev = &reg_head;
		reg_head.next->prev = c;
		reg_head.next = c;
		pthread_mutex_unlock(&reg_lock);
		*socket_context = c;
		atomic_fetch_add(&conns_live, 1);
		hf_metrics_conn(1);
		return;
	}
	struct hf_conn *c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&reg_lock);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	pthread_mutex_unlock(&reg_lock);
	hf_arena_free(&c->arena);
	hf_auth_wipe(&c->cred, sizeof(c->cred)); /* it may hold the admin key */
	free(c);
	*socket_context = NULL;
	atomic_fetch_sub(&conns_live, 1);
	hf_metrics_conn(-1);
}

/* Shuts down the sockets of connections past their deadline; libmicrohttpd
 * then sees the end of the stream and closes them the usual way. */
static void *reaper_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&reaper_stop)) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		int64_t now = mono_ms();
		pthread_mutex_lock(&reg_lock);
		for (struct hf_conn *c = reg_head.next; c != &reg_head; c = c->next) {
			int64_t d = atomic_load(&c->deadline_ms);
			if (d == 0 || now < d || c->cut || c->fd < 0)
				continue;
			c->cut = true;
			shutdown(c->fd, SHUT_RDWR);
			hf_metrics_timeout();
			hf_log("warn", "timeout", " ip=%s reason=\"request or idle deadline passed\"", c->ip);
		}
		pthread_mutex_unlock(&reg_lock);
	}
	return NULL;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct hf_server *s = cls;
	(void)uri;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct hf_conn *c = ci ? ci->socket_context : NULL;
	if (c)
		atomic_store(&c->deadline_ms, mono_ms() + (int64_t)s->cfg.request_timeout_s * 1000);
	return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct hf_server *s = cls;
	(void)toe;
	struct hf_req *r = *con_cls;
	/* Resumed, then closed (the client went away) before the handler ran
	 * again: the engine is done with it, only the count is left. */
	if (r && r->stage == HF_STAGE_PARKED) {
		atomic_fetch_sub(&s->in_flight, 1);
		hf_metrics_request(r->route_index, HF_STATUS_CLIENT_GONE,
				   (hf_mono_ns() - r->t0_ns) / 1000u);
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct hf_conn *c = ci ? ci->socket_context : NULL;
	if (c) {
		atomic_store(&c->deadline_ms, mono_ms() + (int64_t)s->cfg.idle_timeout_s * 1000);
		hf_arena_reset(&c->arena);
	}
	*con_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct hf_server *s = cls;
	(void)addr;
	(void)len;
	return atomic_load(&conns_live) < s->cfg.max_connections ? MHD_YES : MHD_NO;
}

/* ---- requests ----------------------------------------------------------- */

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

static enum MHD_Result answer(struct hf_req *r)
{
	static const char oom[] = "{\"error\":{\"code\":\"overloaded\",\"message\":\"out of memory\"}}";
	const char *body = r->out.buf ? r->out.buf : "";
	size_t len = r->out.len;
	if (r->out.oom) {
		r->status = 503;
		r->retry_after = true;
		body = oom;
		len = sizeof(oom) - 1;
		r->resp_type = NULL;
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->resp_type ? r->resp_type : "application/json");
	if (r->retry_after || r->status == 503) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", HF_HTTP_RETRY_AFTER_S);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (r->replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (r->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST, DELETE");
	enum MHD_Result ret = MHD_queue_response(r->mc, r->status, resp);
	MHD_destroy_response(resp);
	uint64_t us = (hf_mono_ns() - r->t0_ns) / 1000u;
	hf_metrics_request(r->route_index, r->status, us);
	/* A 409 is a business answer (sold out, seat taken), the common case
	 * of an on-sale: counted in the metrics, not logged (a log line per
	 * refusal cost 6% of throughput on a sold-out item). */
	if (r->status >= 400 && r->status != 409) {
		/* Client bytes only through log_safe, the method capped (the
		 * known ones are <= 7 bytes) and the address first, so a long
		 * field cannot push it out of the line. */
		char path[208], method[HF_LOG_METHOD_MAX + 1];
		log_safe(path, sizeof(path), r->path);
		log_safe(method, sizeof(method), r->method);
		hf_log(r->status >= 500 ? "error" : "warn", "request",
		       " ip=%s method=%s path=%s status=%u code=%s us=%llu", r->conn ? r->conn->ip : "-",
		       method, path, r->status, r->err_code ? r->err_code : "-", (unsigned long long)us);
	}
	r->stage = HF_STAGE_ANSWERED;
	return ret;
}

static void on_done(struct hf_request *q)
{
	struct hf_req *r = q->ctx;
	/* The connection is suspended (invariant 1): nothing else touches r
	 * until this resume, and this thread touches nothing after it. */
	MHD_resume_connection(r->mc);
}

/* An operation of a batch is done: the last one resumes the batch. */
static void on_op_done(struct hf_request *q)
{
	struct hf_req *r = ((struct hf_req *)q->ctx)->batch;
	if (atomic_fetch_sub(&r->pending, 1) == 1)
		MHD_resume_connection(r->mc);
}

static int submit(struct hf_server *s, struct hf_req *r)
{
	if (!r->n_submit) {
		r->ereq.ctx = r;
		r->ereq.done = on_done;
		return hf_engine_submit(s->engine, &r->ereq);
	}
	for (uint32_t i = 0; i < r->n_submit; i++)
		r->submit[i]->done = on_op_done; /* ctx: the operation (api.c) */
	atomic_store(&r->pending, r->n_submit);
	return hf_engine_submit_many(s->engine, r->submit, r->n_submit);
}

static bool append_body(struct hf_req *r, const char *data, size_t n)
{
	uint32_t max = hf_route_body_limit(r->route);
	if (r->body_too_large || r->body_len + n > max) {
		r->body_too_large = true;
		return true; /* discard; answered 413 once complete */
	}
	if (r->body_len + n > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
		while (cap < r->body_len + n)
			cap *= 2;
		char *nb = hf_arena_alloc_raw(r->arena, cap + 1);
		if (!nb)
			return false;
		if (r->body_len)
			memcpy(nb, r->body, r->body_len);
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = 0;
	return true;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " CRLF */
	return MHD_YES;
}

struct framing {
	size_t cl, te, host;
	bool te_other; /* a Transfer-Encoding other than chunked */
};

/* Counts Content-Length, Transfer-Encoding and Host headers (RFC 9112 6.3,
 * 3.2). */
static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		f->cl++;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->te++;
		if (!value || strcasecmp(value, "chunked"))
			f->te_other = true;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_HOST)) {
		f->host++;
	}
	return MHD_YES;
}

static struct hf_req *req_new(struct hf_server *s, struct MHD_Connection *mc, const char *url,
			      const char *method)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct hf_conn *c = ci ? ci->socket_context : NULL;
	if (!c)
		return NULL;
	struct hf_req *r = hf_req_alloc(&c->arena, 1);
	if (!r)
		return NULL;
	r->srv = s;
	r->conn = c;
	r->cred_memo = &c->cred;
	r->arena = &c->arena;
	r->mc = mc;
	r->t0_ns = hf_mono_ns();
	r->method = method;
	r->path = url;
	r->route_index = hf_route_match(method, url, &r->param);
	r->route = r->route_index >= 0 ? hf_route_get(r->route_index) : NULL;
	r->authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	r->idem_key = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Idempotency-Key");
	r->content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	r->q_limit = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "limit");
	r->q_after = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "after");
	return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct hf_server *s = cls;
	struct hf_req *r = *con_cls;
	if (!r) {
		r = req_new(s, mc, url, method);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		/* Headers past HF_HTTP_HEADER_MAX: 431 in our shape. (Past
		 * HF_HTTP_CONN_MEMORY libmicrohttpd answers 431 itself, in HTML.) */
		size_t hsize = strlen(method) + strlen(url) + 12;
		MHD_get_connection_values(mc, MHD_HEADER_KIND, add_header_size, &hsize);
		if (hf_api_headers_check(r, hsize) == HF_ANSWERED)
			return answer(r);
		/* Ambiguous framing (request smuggling): 400, then close. A
		 * transfer coding we cannot frame: 501 at once (libmicrohttpd
		 * would wait for a body it cannot delimit until the deadline).
		 * HTTP/1.1 without exactly one Host: 400 (RFC 9112 3.2). */
		struct framing f = {0};
		MHD_get_connection_values(mc, MHD_HEADER_KIND, count_framing, &f);
		if (f.cl > 1 || (f.cl && f.te)) {
			hf_render_error(r, 400, "bad_request",
					f.cl > 1 ? "more than one Content-Length"
						 : "both Content-Length and Transfer-Encoding");
			r->close = true;
			return answer(r);
		}
		if (f.te > 1 || f.te_other) {
			hf_render_error(r, 501, "bad_request",
					"Transfer-Encoding: only a single chunked is supported");
			r->close = true;
			return answer(r);
		}
		if (f.host != 1 && version && !strcmp(version, MHD_HTTP_VERSION_1_1)) {
			hf_render_error(r, 400, "bad_request",
					f.host ? "more than one Host header" : "HTTP/1.1 requires a Host header");
			r->close = true;
			return answer(r);
		}
		/* Credentials and role before any body is read: no one without
		 * the right credential makes us buffer a body. */
		if (hf_api_precheck(r) == HF_ANSWERED) {
			r->close = true;
			return answer(r);
		}
		/* A declared length past the limit is refused before reading it;
		 * a body where none is accepted is refused at once, with the
		 * answer the request would get (404, 405, 400), and the
		 * connection closed (its body is never read). */
		const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
		if (hf_api_body_check(r, declared > 0 || f.te) == HF_ANSWERED)
			return answer(r);
		uint32_t max = hf_route_body_limit(r->route);
		if (declared > max) {
			char msg[96];
			snprintf(msg, sizeof(msg), "the body is larger than %u bytes", max);
			hf_render_error(r, 413, "payload_too_large", msg);
			return answer(r);
		}
		return MHD_YES;
	}
	switch (r->stage) {
	case HF_STAGE_RECEIVING:
		if (*upload_data_size) {
			if (!append_body(r, upload_data, *upload_data_size))
				return MHD_NO;
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (r->conn)
			atomic_store(&r->conn->deadline_ms, 0);
		/* Counted before looking at `stopping` (both seq_cst): either
		 * hf_server_stop sees this request in in_flight and waits for it,
		 * or this request sees `stopping` and never reaches the engine. */
		atomic_fetch_add(&s->in_flight, 1);
		if (atomic_load(&s->stopping)) {
			atomic_fetch_sub(&s->in_flight, 1);
			hf_render_error(r, 503, "overloaded", "the server is shutting down");
			return answer(r);
		}
		if (hf_api_dispatch(r) == HF_ANSWERED) {
			atomic_fetch_sub(&s->in_flight, 1);
			return answer(r);
		}
		r->stage = HF_STAGE_PARKED;
		MHD_suspend_connection(mc);
		int rc = submit(s, r);
		if (rc != HF_ENGINE_OK) {
			r->ereq.status = rc;
			MHD_resume_connection(mc);
		}
		return MHD_YES;
	case HF_STAGE_PARKED:
		atomic_fetch_sub(&s->in_flight, 1);
		if (r->ereq.status == HF_ENGINE_FULL) {
			hf_render_error(r, 503, "overloaded", "the request queue is full; retry later");
			r->retry_after = true;
		} else {
			hf_api_finish(r);
		}
		return answer(r);
	default:
		/* Answered already: libmicrohttpd is sending it. */
		*upload_data_size = 0;
		return MHD_YES;
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
	s->engine = hf_engine_open(&ec, err, err_cap);
	if (!s->engine)
		return -1;
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

	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	char port[8];
	snprintf(port, sizeof(port), "%u", s->cfg.listen_port);
	int gai = getaddrinfo(s->cfg.listen_host, port, &hints, &ai);
	if (gai != 0 || !ai) {
		snprintf(err, err_cap, "--listen %s: %s", s->cfg.listen_host, gai_strerror(gai));
		goto fail_engine;
	}
	struct sockaddr_storage addr;
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	bool v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);

	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(
		flags, s->cfg.listen_port, on_accept, s, on_access, s, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(s->cfg.max_connections + s->cfg.threads),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)s->cfg.max_connections_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->cfg.idle_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HF_HTTP_CONN_MEMORY,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
		s, MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, err_cap, "cannot listen on %s:%u (address in use or not available)",
			 s->cfg.listen_host, s->cfg.listen_port);
		goto fail_engine;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : s->cfg.listen_port;
	atomic_store(&reaper_stop, false);
	if (pthread_create(&reaper, NULL, reaper_main, NULL) != 0) {
		snprintf(err, err_cap, "cannot start the reaper thread");
		MHD_stop_daemon(s->mhd);
		goto fail_engine;
	}
	return 0;
fail_engine:
	hf_engine_close(s->engine);
	s->engine = NULL;
	return -1;
}

int hf_server_stop(struct hf_server *s)
{
	atomic_store(&s->stopping, true);
	MHD_socket lfd = MHD_quiesce_daemon(s->mhd);
	/* Requests in flight finish and their answers are sent; new ones get
	 * 503 and never reach the engine (see on_access). */
	int64_t until = mono_ms() + 30000;
	while (atomic_load(&s->in_flight) > 0 && mono_ms() < until) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->in_flight) > 0)
		return -1; /* the engine is wedged: the caller exits as after a crash */
	/* Nothing is parked: no connection is suspended, no done callback can
	 * come. Let the workers write out the last answers, then stop. */
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	MHD_stop_daemon(s->mhd);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	atomic_store(&reaper_stop, true);
	pthread_join(reaper, NULL);
	hf_engine_close(s->engine);
	s->engine = NULL;
	return 0;
}
