/*
 * httpd.h: the HTTP/1.1 connection layer, with no knowledge of bookings.
 * Built on Debian's libh2o-evloop: its event loop (epoll), sockets,
 * timeouts and multithread queue, and its picohttpparser (pico.h). The
 * request/response logic of holdfast sits on top (http.c); the HTTP
 * ceiling benchmark (src/tools/bench_ceiling.c) sits on the same layer
 * with an empty handler.
 *
 * Shape: `threads` event loops, each a thread with its own listening socket
 * on one address (SO_REUSEPORT: the kernel spreads new connections), so a
 * connection lives on one thread from accept to close. Everything about
 * a connection happens on its loop's thread, except three entry points
 * that any thread may call: hf_httpd_wake (a parked request is ready),
 * hf_httpd_stream_write / _end. They post to the loop's queue, which wakes
 * the loop once for however many messages arrived since it last looked
 * (h2o_multithread_send_message writes the pipe only when the queue was
 * empty): the cost of answering a whole group commit's requests is one
 * wake-up per loop, then one write system call per answer.
 *
 * A request's life: head (request line and headers in; the handler answers
 * at once, or says how much body it accepts) -> body read (Content-Length
 * or chunked, bounded) -> request (the handler answers now, or parks and
 * later calls hf_httpd_wake from any thread; its wake callback then runs
 * on the loop and answers) -> sent (the answer is written; per-request
 * memory may go) -> the next pipelined request, or idle.
 *
 * Invariants:
 *   - One request at a time per connection: the next pipelined request is
 *     parsed only after the previous answer is written (answers stay in
 *     order). A connection reads on while a request is parked (to see the
 *     end of the stream), up to HF_HTTP_PIPELINE_MAX buffered bytes.
 *   - A parked request keeps its connection's memory alive: if the client
 *     goes away meanwhile, the socket is closed at once but the connection
 *     (and what the handler keeps in it) lives until the wake arrives,
 *     whose answer then fails (hf_httpd_respond returns -1).
 *   - A client that half-closes after a whole request still gets its
 *     answers (those already received), then the connection is closed.
 *   - Deadlines: waiting for a request's first byte -> idle timeout; first
 *     byte to a whole request -> request timeout; parked or writing ->
 *     none (the server's time, not the client's); a stream -> none (its
 *     bounded buffer cuts a client that does not read).
 *
 * Budgets: connections (total and per IP address) are counted at accept
 * and refused past their caps (closed at once); a stream moves its
 * connection from the connection budget to the stream budget, so watchers
 * cannot lock out requests, nor requests watchers.
 */
#ifndef HF_SERVER_HTTPD_H
#define HF_SERVER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/pico.h"

struct hf_httpd;
struct hf_httpd_conn;
struct hf_httpd_stream;

/* Request line and headers, as parsed. The strings point into the
 * connection's input and are NOT NUL-terminated: valid only during the
 * head callback (copy what is kept). */
struct hf_httpd_head {
	const char *method;
	size_t method_len;
	const char *target; /* as on the wire: path, optionally "?query" */
	size_t target_len;
	int minor;          /* HTTP/1.<minor> */
	const struct phr_header *headers;
	size_t n_headers;
	size_t head_bytes;  /* request line + headers as on the wire */
	/* Framing (RFC 9112 6.3), counted by the layer; the handler decides
	 * what to refuse (httpd.c only reads what it can frame). */
	uint32_t n_content_length, n_transfer_encoding, n_host;
	bool te_chunked;         /* one Transfer-Encoding, exactly "chunked" */
	bool cl_valid;           /* one Content-Length, all digits, < 2^53 */
	uint64_t content_length; /* when cl_valid */
	bool expect_continue;    /* Expect: 100-continue */
	bool keep_alive;         /* by version and Connection */
};

/* The value of header `name` (lower case) in h, or NULL; *len its length. */
const char *hf_httpd_header(const struct hf_httpd_head *h, const char *name, size_t *len /* out */);

enum { HF_HTTPD_READ_BODY = 0, HF_HTTPD_ANSWERED = 1 };

/* The handler: every callback runs on the connection's loop thread. `user`
 * is what conn_open returned. */
struct hf_httpd_handler {
	void *ctx;
	/* A connection was accepted; the returned pointer is its user (NULL:
	 * refuse it). ip: the peer's address as text. */
	void *(*conn_open)(void *ctx, struct hf_httpd_conn *c, const char *ip);
	/* The connection is gone (never while a request is parked). */
	void (*conn_close)(void *ctx, void *user);
	/* Headers in. Answer now (hf_httpd_respond; the body, if any, is never
	 * read and the connection is closed after the answer unless the answer
	 * keeps it and there was no body) and return HF_HTTPD_ANSWERED, or set
	 * *body_max and return HF_HTTPD_READ_BODY. A declared Content-Length
	 * past *body_max is the handler's to refuse here. */
	int (*head)(void *ctx, void *user, struct hf_httpd_conn *c, const struct hf_httpd_head *h,
		    uint64_t *body_max /* out */);
	/* The whole body is in (body valid only during this call; too_large:
	 * a chunked body grew past body_max and was discarded, and the
	 * connection will close after the answer). Answer now, or park and
	 * call hf_httpd_wake later. */
	void (*request)(void *ctx, void *user, struct hf_httpd_conn *c, const char *body, size_t len,
			bool too_large);
	/* After hf_httpd_wake: answer now (hf_httpd_respond). */
	void (*wake)(void *ctx, void *user, struct hf_httpd_conn *c);
	/* The answer has been written, or could not be (ok false): what the
	 * request kept may go. Also called for a stream's end. */
	void (*sent)(void *ctx, void *user, bool ok);
	/* The layer refused a request itself, before any other callback saw
	 * it (malformed request line or headers: 400; headers past
	 * HF_HTTP_HEADER_MAX: 431; broken chunked body: 400), just before
	 * writing the answer. May be NULL. */
	void (*refused)(void *ctx, void *user, unsigned status, const char *code);
	/* A deadline passed; the connection is closed right after. */
	void (*timeout)(void *ctx, void *user);
	/* After each turn of a loop (the requests that arrived together have
	 * all been through their callbacks): work gathered during the turn is
	 * handed on at once. May be NULL. */
	void (*turn_end)(void *ctx);
	/* A loop thread ends (after its last connection): thread-local
	 * resources of the handler go. May be NULL. */
	void (*thread_end)(void *ctx);
};

struct hf_httpd_config {
	const char *host;    /* numeric or name; port 0: any free port */
	uint16_t port;
	uint32_t threads;
	uint32_t max_connections, max_connections_per_ip;
	uint32_t max_streams;
	uint32_t idle_timeout_ms, request_timeout_ms;
	uint32_t stream_buffer_max; /* bytes queued for a stream before it is cut */
	uint32_t backlog;
};

/* Binds (every loop's socket), starts the loop threads. NULL with err. */
struct hf_httpd *hf_httpd_start(const struct hf_httpd_config *cfg, const struct hf_httpd_handler *h,
				char *err, size_t err_cap);
uint16_t hf_httpd_port(const struct hf_httpd *d);
/* Stops accepting (every loop closes its listening socket); returns once
 * they all have. Open connections go on being served. */
void hf_httpd_quiesce(struct hf_httpd *d);
/* Ends every stream (what was written to it is sent first), closes every
 * connection, stops and joins the loops, frees d. No request may be
 * parked (the caller waited for them). */
void hf_httpd_stop(struct hf_httpd *d);

/* ---- on the loop thread --------------------------------------------------- */

/* Writes an answer: status line, Date, Content-Length, then `headers`
 * (whole lines, each ending in CRLF, may be empty), then body. The bytes
 * must stay valid until the sent callback. close: Connection: close and
 * the connection ends after it (it also ends when the request asked for
 * that, or its body was not read). -1 when the connection is already gone
 * (the sent callback then comes at once, ok false). */
int hf_httpd_respond(struct hf_httpd_conn *c, unsigned status, const char *headers, size_t headers_len,
		     const char *body, size_t body_len, bool close);

/* Turns the connection into a stream instead of answering: writes the
 * status line and `headers` (no Content-Length, Connection: close: the
 * body ends when the connection does), then whatever hf_httpd_stream_write
 * queues. NULL when the stream budget is full (answer 503 instead). The
 * stream holds two references, the connection's and the caller's; the
 * caller drops its own with hf_httpd_stream_release. */
struct hf_httpd_stream *hf_httpd_stream_open(struct hf_httpd_conn *c, unsigned status,
					     const char *headers, size_t headers_len);

/* ---- from any thread ----------------------------------------------------- */

/* A parked request is ready: the wake callback runs on the loop. Called
 * exactly once per parked request. */
void hf_httpd_wake(struct hf_httpd_conn *c);

/* Queues bytes on a stream (copied). 0, or -1 when the stream has ended
 * (the client left, it was cut for not reading: more than
 * stream_buffer_max bytes queued, or the server is stopping). */
int hf_httpd_stream_write(struct hf_httpd_stream *s, const char *data, size_t len);
/* Raises the stream's bound on queued bytes by `bytes` (a first message
 * larger than the bound, such as a whole seat map: the bound is then for
 * what piles up beyond it). */
void hf_httpd_stream_allow(struct hf_httpd_stream *s, size_t bytes);
/* Ends the stream once what is queued has been written. */
void hf_httpd_stream_end(struct hf_httpd_stream *s);
/* Whether the stream has ended (a hint: it may end right after). */
bool hf_httpd_stream_ended(struct hf_httpd_stream *s);
void hf_httpd_stream_release(struct hf_httpd_stream *s);

struct hf_httpd_stats {
	uint64_t connections, streams, refused, timeouts, streams_cut;
};
void hf_httpd_stats(struct hf_httpd *d, struct hf_httpd_stats *out /* out */);

#endif
