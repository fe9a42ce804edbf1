/*
 * server.h: the pieces of `holdfast serve` and how a request flows through
 * them (internal to src/server/).
 *
 *   httpd.c  the HTTP/1.1 connection layer (httpd.h; no bookings): loops,
 *            framing, deadlines, budgets, park/wake, streams.
 *   http.c   holdfast's handler on it: per-connection state, framing
 *            refusals, the park/wake handshake with the engine, answers.
 *   request.c the request steps (request.h), shared with the fuzz target.
 *   api.c    the routing table (one static array) and each route's work:
 *            build a command, or read the state, or answer locally.
 *   render.c the result -> HTTP table, the error shape, bookings as JSON.
 *   metrics.c the metrics table and the counters behind it.
 *
 * A request's life (every step on the connection's HTTP loop thread unless
 * said otherwise):
 *   1. headers in: route matched, auth checked, body limit set (413 past
 *      the route's limit on the declared length); the layer reads the body.
 *   2. body complete: parsed into r->ereq.cmd (a write) or r->ereq.read set
 *      (a read), and parked: handed to the engine at the end of the loop's
 *      turn, with the other requests of that turn.
 *   3. engine thread: reads render their JSON into r->out on the sequencer
 *      thread; for every request, done() just wakes the connection's loop.
 *   4. woken (on the loop): writes are rendered from the reply (render.c),
 *      the answer is written; once it is out the arena is released.
 * A request that fails before step 2 is answered at once.
 *
 * Ownership: struct hf_req and all it points to live in the connection's
 * arena (hf_conn.arena) until the request completes.
 */
#ifndef HF_SERVER_SERVER_H
#define HF_SERVER_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cmd.h"
#include "engine/engine.h"
#include "server/arena.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/jsonin.h"
#include "server/jsonw.h"

struct hf_httpd;
struct hf_feeds;
struct hf_req;
struct hf_conn;

struct hf_server {
	struct hf_server_config cfg;
	const char *admin_key;  /* from the file or the environment */
	size_t admin_key_len;
	struct hf_engine *engine;
	const struct hf_sm *sm; /* at start; renders ask hf_engine_sm (it may change) */
	struct hf_auth auth;
	struct hf_feeds *feeds; /* live feeds and the change log (feed.h); NULL in unit tests */
	struct hf_httpd *httpd;
	uint16_t port;          /* bound port (cfg may say 0) */
	atomic_int_fast64_t in_flight; /* requests between step 2 and the response */
	atomic_bool stopping;
	/* --test-clock: the engine's clock as of the last advance (reading it
	 * through hf_engine_clock_advance(e, 0) would log a TICK each time). */
	_Atomic int64_t test_now_ms;
};

/* ---- routes (api.c) ---------------------------------------------------- */

enum hf_auth_need { HF_AUTH_PUBLIC = 0, HF_AUTH_CUSTOMER = 1, HF_AUTH_ADMIN = 2 };

/* prepare: returns HF_ANSWERED (r->status and r->out are the response) or
 * HF_SUBMIT (r->ereq is a write or a read to submit). */
enum { HF_ANSWERED = 0, HF_SUBMIT = 1 };
typedef int (*hf_route_fn)(struct hf_req *r);
typedef void (*hf_render_fn)(struct hf_req *r);

struct hf_route {
	const char *method;
	const char *pattern;      /* "/holds/{id}/add": at most one {id} */
	uint8_t auth;             /* enum hf_auth_need */
	uint8_t body;             /* enum hf_body */
	uint8_t cmd;              /* enum hf_cmd_type: a write; HF_CMD_NONE: not a write */
	uint16_t ok_status;       /* 200 or 201 */
	uint32_t body_max;        /* bytes */
	hf_route_fn prepare;      /* NULL: nothing beyond the generic steps */
	hf_request_read_fn read;  /* a read on the sequencer thread */
	hf_render_fn render_ok;   /* writes answering kind NONE/EVENT/ITEM; reads needing a last step */
};

/* Matches method + path. Returns the route index and sets *param to the
 * {id} segment, or -1 (no path matched) / -2 (path matched, not method). */
int hf_route_match(const char *method, const char *path, struct hf_str *param /* out */);
const struct hf_route *hf_route_get(int index);
uint32_t hf_route_count(void);
/* The most body bytes a request on rt may send: its limit, and none where
 * no body can be accepted (rt NULL: no route; a GET without a body
 * schema), so nobody makes the server buffer a body it will refuse. */
uint32_t hf_route_body_limit(const struct hf_route *rt);
/* Whether rt's steps call the engine beyond submitting (statistics, the
 * test clock): tests that run routes without one must leave these out.
 * A new route of that kind is added here. */
bool hf_route_needs_engine(const struct hf_route *rt);

/* ---- a request ---------------------------------------------------------- */

/* The last credential verified on a keep-alive connection, reused while
 * the same bytes come again (and, for a token, until it expires): an HMAC
 * and a SHA-256 per request were measured as the largest cost on the
 * request path. It lives with the connection, so nothing outlives what
 * the process knows (the secret cannot change while it runs). */
struct hf_cred_memo {
	uint16_t len;             /* 0: empty */
	bool admin;
	int64_t expires_at_ms;    /* a token's */
	char cred[HF_TOKEN_TEXT_MAX];
	struct hf_str customer;   /* into customer_buf */
	char customer_buf[HF_ID_LEN_MAX + 1];
};

enum hf_stage { HF_STAGE_RECEIVING = 0, HF_STAGE_PARKED = 1, HF_STAGE_ANSWERED = 2 };

struct hf_req {
	struct hf_server *srv;
	struct hf_conn *conn;
	struct hf_arena *arena;   /* the connection's */
	int route_index;          /* -1: none */
	const struct hf_route *route;
	struct hf_str param;      /* the {id} of the path */
	uint64_t booking_id;      /* the {id} as a hold or order number */
	const char *method, *path;
	uint8_t stage;            /* enum hf_stage */
	/* headers and query arguments (NULL: absent), set by http.c */
	const char *authorization, *idem_key, *content_type, *q_limit, *q_after;
	const char *accept, *last_event_id;
	/* A feed (enum hf_feed_kind): http.c opens its stream instead of
	 * answering (the route's prepare set it and returned HF_ANSWERED). */
	uint8_t feed;
	uint32_t list_limit;      /* customer lists */
	uint64_t list_after;
	uint64_t t0_ns;
	/* body */
	char *body;
	size_t body_len, body_cap;
	bool body_too_large;
	/* who */
	struct hf_cred_memo *cred_memo; /* the connection's; NULL: none */
	bool cred_checked, cred_ok; /* credentials() has run, and its answer */
	bool admin;
	struct hf_str customer;   /* the token's customer (empty with the admin key) */
	char customer_buf[HF_ID_LEN_MAX + 1];
	struct hf_body_extra extra;
	/* the engine request (write: cmd; read: read) */
	struct hf_request ereq;
	struct hf_sm_stats stats; /* GET /metrics: filled by its read */
	int64_t clock_ms;         /* POST /admin/clock: filled by its read */
	/* response */
	uint16_t status;
	const char *resp_type;    /* NULL: application/json */
	const char *resp_cache;   /* Cache-Control value; NULL: none (the /ui/ files) */
	const char *err_code;     /* for the log line */
	bool retry_after;
	bool close; /* answer with Connection: close */
	bool replayed;
	const char *allow;        /* 405: the Allow header */
	struct hf_jw out;
	/* POST /batch: each operation is a request of its own (route,
	 * command, answer) on this one's connection and credential; the
	 * submitted ones go to the engine as one (hf_engine_submit_many). */
	struct hf_req *ops;       /* n_ops of them, in the arena */
	uint32_t n_ops;
	struct hf_request **submit; /* the operations' engine requests */
	uint32_t n_submit;
	_Atomic uint32_t pending; /* submitted operations not yet done */
	struct hf_req *batch;     /* an operation: its batch */
};

/* n zeroed requests from the arena, except their engine replies, which
 * the core fills before anything reads them (3.3 of a request's 4 KiB,
 * and a batch has up to 100 requests). NULL when out of memory. */
struct hf_req *hf_req_alloc(struct hf_arena *a, uint32_t n);

/* Step 1, headers in, for http.c and request.c alike: request line and
 * headers of header_bytes past HF_HTTP_HEADER_MAX are answered 431. */
int hf_api_headers_check(struct hf_req *r, size_t header_bytes);
/* Step 1, headers in: credentials and role (401 / 403) before any body is
 * read. HF_ANSWERED or HF_SUBMIT (go on). */
int hf_api_precheck(struct hf_req *r);
/* Step 1, after the precheck: a body (has_body) where none is accepted
 * (hf_route_body_limit 0) is answered at once with what the request would
 * get (404, 405, or 400 on a route that takes no body) and r->close set:
 * its bytes are never read. HF_ANSWERED or HF_SUBMIT. */
int hf_api_body_check(struct hf_req *r, bool has_body);
/* Steps 1-2 for a request whose body is complete: route, auth, body,
 * command. HF_ANSWERED or HF_SUBMIT. */
int hf_api_dispatch(struct hf_req *r);
/* Step 4: the engine is done with r->ereq; render the answer. */
void hf_api_finish(struct hf_req *r);

/* ---- rendering (render.c) ---------------------------------------------- */

/* Opens {"error":{"code":..,"message":.. and leaves the object open for
 * details; hf_render_error_end closes it. Sets r->status and r->err_code. */
void hf_render_error_begin(struct hf_req *r, uint16_t status, const char *code,
			   const char *message);
void hf_render_error_end(struct hf_req *r);
/* A complete error without details. */
void hf_render_error(struct hf_req *r, uint16_t status, const char *code, const char *message);
/* A write's answer from r->ereq.reply (and the command, for names the
 * reply gives by request position): the result table, details, bookings. */
void hf_render_reply(struct hf_req *r);
/* A hold or order as JSON (names through the immutable-name accessors). */
void hf_render_booking(struct hf_jw *jw, const struct hf_sm *sm, const struct hf_booking *b,
		       bool is_order, int64_t now_ms);
/* A booking's "seats": [{"event", "seat"}] and "items": [{"item",
 * "quantity"}] into an open object; full adds the prices (and items'
 * requested, available, line_total) the API's answers carry. */
void hf_render_lines(struct hf_jw *jw, const struct hf_sm *sm, const struct hf_booking *b, bool full);
/* An event's fields, from its info or from the command that made it
 * (id, name, starts_at, hold_ttl_s, max_per_customer, the sale window,
 * orphan_rule, seat_count), into an open object. */
void hf_render_event_fields(struct hf_jw *jw, struct hf_str id, struct hf_str name, int64_t starts,
			    uint32_t ttl, uint32_t maxpc, int64_t opens, int64_t closes, uint8_t rule,
			    uint32_t n);
/* One seat of a seat map ({"id", "section"?, "row"?, "number", "price",
 * "category"?, "state"}) with the given state; an item with the given
 * counters. The engine's reads and the feeds' mirror both answer with
 * these, so the two cannot drift apart. */
void hf_render_seat(struct hf_jw *jw, const struct hf_seat_info *s, uint8_t state);
/* The same seat up to its "state": key (the object left open): the part
 * that never changes, which the mirror renders once per seat. */
void hf_render_seat_head(struct hf_jw *jw, const struct hf_seat_info *s);
/* An item's "available", "held", "sold"; an event's "counts" by seat
 * state: into an open object. */
void hf_render_stock(struct hf_jw *jw, uint64_t available, uint64_t held, uint64_t sold);
void hf_render_counts(struct hf_jw *jw, const uint32_t count[4]);
void hf_render_item(struct hf_jw *jw, const struct hf_item_info *i, uint64_t available, uint64_t held,
		    uint64_t sold);
/* "h-12" / "o-7" */
void hf_render_booking_id(struct hf_jw *jw, char prefix, uint64_t id);

/* ---- metrics (metrics.c) ----------------------------------------------- */

/* The status counted for a request whose client closed its connection
 * while it was parked: applied, never answered (nginx's 499). */
#define HF_STATUS_CLIENT_GONE 499u

void hf_metrics_request(int route_index, unsigned status, uint64_t latency_us);
void hf_metrics_conn(int delta);
void hf_metrics_timeout(void);
void hf_metrics_render(struct hf_req *r, const struct hf_engine_stats *es,
		       const struct hf_sm_stats *ss);

/* ---- time --------------------------------------------------------------- */

/* The server's now: the engine's test clock with --test-clock, else the
 * real time. */
int64_t hf_server_now_ms(struct hf_server *s);
uint64_t hf_mono_ns(void);

/* ---- the server (http.c) ----------------------------------------------- */

/* Opens the engine, binds, starts the workers. -1 with err. */
int hf_server_start(struct hf_server *s, char *err, size_t err_cap);
/* Stops accepting, finishes in-flight requests, closes the engine (which
 * syncs). -1 when requests were still parked after 30 s (a wedged disk):
 * nothing was closed, and the caller should _exit as after a crash, which
 * recovery is built for, rather than free what the engine still uses. */
int hf_server_stop(struct hf_server *s);

#endif
