/*
 * request.h: a request handed over as strings, in three steps that the
 * server (http.c) takes as the bytes arrive and that hf_api_request takes
 * at once for tests and fuzzing (tests/fuzz/fuzz_api_request.c), so both
 * run the same checks in the same order:
 *
 *   hf_api_start: the target split at '?', path and query percent-decoded
 *     (a bad escape or an encoded NUL: 400), route match, the header size
 *     bound (431);
 *   hf_api_head: hf_api_precheck (401 / 403) and a body where none is
 *     accepted, before any body byte is read;
 *   hf_api_body: the body bound (413), hf_api_dispatch.
 *
 * What hf_api_request does not do is talk to an engine: the caller
 * runs a read (r->ereq.read) or applies a write (r->ereq.cmd) against its
 * own state, then hf_api_render renders the answer as hf_api_finish does
 * for the server. What stays http.c's alone: sockets, framing headers
 * (Content-Length / Transfer-Encoding), timeouts, suspend/resume, the
 * response headers and the log line.
 *
 * The server it is given: auth (hf_auth_init or a fixture's), the clock
 * (cfg.test_clock + test_now_ms, else the real time), sm for names
 * (render.c reads immutable names through it). srv->engine may be NULL:
 * the routes whose work calls the engine (GET /health, GET /metrics,
 * POST /admin/clock) then answer 503 once their credential has been
 * checked.
 *
 * Ownership: the struct hf_req and everything it points to live in the
 * caller's arena (valid until hf_arena_reset / hf_arena_free), except the
 * strings of struct hf_api_input and the body, which the request points
 * into: they must outlive it. Nothing here writes through them.
 */
#ifndef HF_SERVER_REQUEST_H
#define HF_SERVER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "server/server.h"

/* A request as it arrives. Strings are NUL-terminated; NULL: the header is
 * absent (http.c hands over the first of repeated headers). */
struct hf_api_input {
	const char *method;
	/* The request target as on the wire: path, optionally "?query";
	 * %XX is decoded in the path and the query values, '+' is a space in
	 * the query. */
	const char *target;
	const char *authorization; /* the whole value: "Bearer <credential>" */
	const char *content_type;
	const char *idem_key;      /* Idempotency-Key */
	const char *accept;        /* Accept (GET /changes may stream) */
	const char *last_event_id; /* Last-Event-ID (feeds) */
	/* Bytes of the other headers ("name: value\r\n" each), for the header
	 * size bound; the three above are counted here. */
	size_t other_header_bytes;
	/* The request line and headers as on the wire (the server knows it);
	 * 0: computed from the fields above. */
	size_t head_bytes;
	const char *body;          /* body_len bytes, need not be NUL-terminated */
	size_t body_len;
	/* The connection's credential memo (server.h), kept by the caller
	 * across the requests of one simulated keep-alive connection; NULL:
	 * every request verifies its credential afresh. */
	struct hf_cred_memo *cred_memo;
};

/* Steps 1-2 of a request: builds *out in arena and runs route, header
 * bound, credentials, body bound, hf_api_dispatch. Returns HF_ANSWERED
 * (r->status and r->out are the answer, r->close when http.c would close
 * the connection after it), HF_SUBMIT, or -1 when the arena is out of
 * memory (*out NULL; http.c drops the connection then). HF_SUBMIT is one
 * of:
 *   - POST /batch (r->n_submit > 0): the engine requests r->submit[0..
 *     n_submit), writes to apply in that order at one now, each into its
 *     own reply; each one's ctx is its operation (a struct hf_req in
 *     r->ops);
 *   - a read (r->ereq.read set; r->ereq.ctx is r, as reads expect);
 *   - else the write r->ereq.cmd, to apply into r->ereq.reply. */
int hf_api_request(struct hf_server *srv, struct hf_arena *arena, const struct hf_api_input *in,
		   struct hf_req **out /* out */);

/* The steps of hf_api_request one at a time (the body of `in` is not read
 * by the first two). Each returns HF_ANSWERED (r->status / r->out, r->close)
 * or HF_SUBMIT (go on; after hf_api_body: submit, as above); hf_api_start
 * also -1 (out of memory, *out NULL). has_body: the request declares one.
 * too_large: the body grew past the route's limit and was dropped. The
 * body is read only during hf_api_body. */
int hf_api_start(struct hf_server *srv, struct hf_arena *arena, const struct hf_api_input *in,
		 struct hf_req **out /* out */);
int hf_api_head(struct hf_req *r, bool has_body);
int hf_api_body(struct hf_req *r, const char *body, size_t len, bool too_large);

/* Step 4 for a request hf_api_request gave back with HF_SUBMIT, once the
 * caller ran the read (r->ereq.read(&r->ereq, sm, now)) or applied the
 * write(s), replies filled: marks the engine's part done at applied_at_ms
 * and renders the answer into r->status / r->out exactly as the server
 * does (hf_api_finish; a batch's operations each into their own too).
 * Names come from r->srv->sm, which must be the state the commands were
 * applied to. */
void hf_api_render(struct hf_req *r, int64_t applied_at_ms);

#endif
