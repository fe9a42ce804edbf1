/*
 * request.c: a request handed over as strings (request.h), in the steps
 * http.c takes as its bytes arrive (hf_api_start, hf_api_head,
 * hf_api_body) and hf_api_request takes at once, so a test or a fuzz
 * target reaches every check the server makes, in the same order:
 *
 *   target split at '?', path and query percent-decoded (a bad escape or
 *   an encoded NUL: 400) -> route match -> request line
 *   + headers past HF_HTTP_HEADER_MAX: 431 -> hf_api_precheck (401 / 403,
 *   connection closed) -> a body where none is accepted (no route, or a
 *   GET route without a body schema): 404 / 405 / 400 at once, connection
 *   closed -> body past the route's limit: 413 (hf_api_dispatch answers it,
 *   as for a chunked body that grew past it; http.c answers a declared
 *   Content-Length past it at the headers, between hf_api_head and
 *   hf_api_body) ->
 *   with no engine, routes that need one: 503 -> hf_api_dispatch.
 *
 * Invariant: nothing here changes a state; a request reaches a state only
 * through the caller, after HF_SUBMIT. Everything allocated lives in the
 * caller's arena.
 */
#include "server/request.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "server/arena.h"

/* The fixed part of http.c's header count: the request line's spaces,
 * "HTTP/1.1" and its CRLF. */
#define REQUEST_LINE_OVERHEAD 12
/* What http.c adds per header: ": " and CRLF. */
#define HEADER_OVERHEAD 4

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding in place: "%XX" with two hex digits becomes that byte;
 * with plus, '+' is first a space (query strings). Returns the length
 * written, or -1 when a '%' is not followed by two hex digits or decodes
 * to a NUL (a C string would end there: "/events/X%00junk" must not be
 * read as "/events/X"), which the caller answers 400. */
static ssize_t unescape(char *s, bool plus)
{
	char *w = s;
	for (const char *p = s; *p;) {
		int hi, lo;
		if (*p == '%') {
			if ((hi = hex_digit(p[1])) < 0 || (lo = hex_digit(p[2])) < 0 || (hi | lo) == 0)
				return -1;
			*w++ = (char)(hi * 16 + lo);
			p += 3;
		} else {
			*w++ = plus && *p == '+' ? ' ' : *p;
			p++;
		}
	}
	*w = '\0';
	return (ssize_t)(w - s);
}

/* The query arguments the API reads (?limit=, ?after=): the first of each
 * name, compared without case; an argument without '=' has no value
 * (absent). query is the arena's copy and is cut up in place. -1: a bad
 * escape (unescape). */
static int parse_query(struct hf_req *r, char *query)
{
	static const char limit[] = "limit", after[] = "after";
	bool have_limit = false, have_after = false;
	while (query) {
		char *amp = strchr(query, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(query, '=');
		if (eq)
			*eq = '\0';
		ssize_t k = unescape(query, true);
		const char *value = NULL;
		if (k < 0 || (eq && unescape(eq + 1, true) < 0))
			return -1;
		size_t klen = (size_t)k;
		if (eq)
			value = eq + 1;
		if (klen == sizeof(limit) - 1 && !strncasecmp(query, limit, klen) && !have_limit) {
			have_limit = true;
			r->q_limit = value;
		} else if (klen == sizeof(after) - 1 && !strncasecmp(query, after, klen) &&
			   !have_after) {
			have_after = true;
			r->q_after = value;
		}
		query = amp ? amp + 1 : NULL;
	}
	return 0;
}

static size_t header_bytes(const char *name, const char *value)
{
	return value ? strlen(name) + strlen(value) + HEADER_OVERHEAD : 0;
}


int hf_api_start(struct hf_server *srv, struct hf_arena *arena, const struct hf_api_input *in,
		 struct hf_req **out)
{
	*out = NULL;
	struct hf_req *r = hf_req_alloc(arena, 1);
	const char *target = in->target ? in->target : "";
	char *path = hf_arena_strndup(arena, target, strlen(target));
	if (!r || !path)
		return -1;
	r->srv = srv;
	r->arena = arena;
	r->t0_ns = hf_mono_ns();
	r->method = in->method ? in->method : "";
	r->authorization = in->authorization;
	r->idem_key = in->idem_key;
	r->content_type = in->content_type;
	r->accept = in->accept;
	r->last_event_id = in->last_event_id;
	r->cred_memo = in->cred_memo;
	r->route_index = -1;
	*out = r;
	char *query = strchr(path, '?');
	if (query)
		*query++ = '\0';
	r->path = path;
	bool bad = (query && parse_query(r, query) < 0) || unescape(path, false) < 0;
	if (bad) {
		r->path = "-";
		hf_render_error(r, 400, "bad_request",
				"the request target has a '%' not followed by two hex digits, or an encoded NUL");
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	r->route_index = hf_route_match(r->method, r->path, &r->param);
	r->route = r->route_index >= 0 ? hf_route_get(r->route_index) : NULL;

	size_t hsize = in->head_bytes;
	if (!hsize)
		hsize = strlen(r->method) + strlen(r->path) + REQUEST_LINE_OVERHEAD +
			header_bytes("Authorization", in->authorization) +
			header_bytes("Content-Type", in->content_type) +
			header_bytes("Idempotency-Key", in->idem_key) + in->other_header_bytes;
	if (hf_api_headers_check(r, hsize) == HF_ANSWERED) {
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	return HF_SUBMIT;
}

int hf_api_head(struct hf_req *r, bool has_body)
{
	if (hf_api_precheck(r) == HF_ANSWERED) {
		r->close = true;
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	if (hf_api_body_check(r, has_body) == HF_ANSWERED) {
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	return HF_SUBMIT;
}

int hf_api_body(struct hf_req *r, const char *body, size_t len, bool too_large)
{
	uint32_t max = hf_route_body_limit(r->route);
	if (too_large || len > max)
		r->body_too_large = true;
	else if (len) {
		/* The caller's bytes, not a copy: a read past len is then the
		 * sanitizers' to see. api.c only reads r->body, and only in
		 * hf_api_dispatch. */
		r->body = (char *)body;
		r->body_len = len;
		r->body_cap = len;
	}
	if (!r->srv->engine && r->route && hf_route_needs_engine(r->route)) {
		hf_render_error(r, 503, "overloaded", "this route needs the engine, and there is none");
		r->retry_after = true;
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	int rc = hf_api_dispatch(r);
	r->body = NULL; /* the caller's bytes go after this call */
	r->body_len = r->body_cap = 0;
	if (rc == HF_ANSWERED) {
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	r->ereq.ctx = r;
	r->stage = HF_STAGE_PARKED;
	return HF_SUBMIT;
}

int hf_api_request(struct hf_server *srv, struct hf_arena *arena, const struct hf_api_input *in,
		   struct hf_req **out)
{
	int rc = hf_api_start(srv, arena, in, out);
	if (rc != HF_SUBMIT)
		return rc;
	if (hf_api_head(*out, in->body_len > 0) == HF_ANSWERED)
		return HF_ANSWERED;
	return hf_api_body(*out, in->body, in->body_len, false);
}

void hf_api_render(struct hf_req *r, int64_t applied_at_ms)
{
	r->ereq.status = HF_ENGINE_OK;
	r->ereq.applied_at_ms = applied_at_ms;
	/* POST /batch: its operations went to the engine as one. */
	for (uint32_t i = 0; i < r->n_submit; i++) {
		r->submit[i]->status = HF_ENGINE_OK;
		r->submit[i]->applied_at_ms = applied_at_ms;
	}
	hf_api_finish(r);
	r->stage = HF_STAGE_ANSWERED;
}
