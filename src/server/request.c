/*
 * request.c: a whole request without libmicrohttpd (request.h), the steps
 * of http.c's req_new and on_access in the same order, so a test or a fuzz
 * target reaches every check the server makes:
 *
 *   target split at '?', path and query unescaped (libmicrohttpd 0.9.75's
 *   MHD_http_unescape and argument parser) -> route match -> request line
 *   + headers past HF_HTTP_HEADER_MAX: 431 -> hf_api_precheck (401 / 403,
 *   connection closed) -> a body where none is accepted (no route, or a
 *   GET route without a body schema): 404 / 405 / 400 at once, connection
 *   closed -> body past the route's limit: 413 (hf_api_dispatch answers it,
 *   as for a chunked body that grew past it; http.c answers a declared
 *   Content-Length past it at the headers) ->
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

/* MHD_http_unescape, in place: "%XX" with two hex digits becomes that
 * byte (a NUL too: C strings then end there, as in the server), anything
 * else is kept as it is. With plus, '+' is first a space (query strings).
 * Returns the length written, NULs included (libmicrohttpd compares
 * argument names by that length). */
static size_t unescape(char *s, bool plus)
{
	char *w = s;
	for (const char *p = s; *p;) {
		int hi, lo;
		if (*p == '%' && (hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			p += 3;
		} else {
			*w++ = plus && *p == '+' ? ' ' : *p;
			p++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* The query arguments the API reads (?limit=, ?after=): the first of each
 * name, compared without case and by unescaped length as libmicrohttpd's
 * lookup does; an argument without '=' has no value (absent). query is
 * the arena's copy and is cut up in place. */
static void parse_query(struct hf_req *r, char *query)
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
		size_t klen = unescape(query, true);
		const char *value = NULL;
		if (eq) {
			unescape(eq + 1, true);
			value = eq + 1;
		}
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
}

static size_t header_bytes(const char *name, const char *value)
{
	return value ? strlen(name) + strlen(value) + HEADER_OVERHEAD : 0;
}


int hf_api_request(struct hf_server *srv, struct hf_arena *arena, const struct hf_api_input *in,
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
	char *query = strchr(path, '?');
	if (query) {
		*query++ = '\0';
		parse_query(r, query);
	}
	unescape(path, false);
	r->path = path;
	r->route_index = hf_route_match(r->method, r->path, &r->param);
	r->route = r->route_index >= 0 ? hf_route_get(r->route_index) : NULL;
	r->authorization = in->authorization;
	r->idem_key = in->idem_key;
	r->content_type = in->content_type;
	r->cred_memo = in->cred_memo;
	*out = r;

	size_t hsize = strlen(r->method) + strlen(r->path) + REQUEST_LINE_OVERHEAD +
		       header_bytes("Authorization", in->authorization) +
		       header_bytes("Content-Type", in->content_type) +
		       header_bytes("Idempotency-Key", in->idem_key) + in->other_header_bytes;
	if (hf_api_headers_check(r, hsize) == HF_ANSWERED) {
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	if (hf_api_precheck(r) == HF_ANSWERED) {
		r->close = true;
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	if (hf_api_body_check(r, in->body_len > 0) == HF_ANSWERED) {
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	uint32_t max = hf_route_body_limit(r->route);
	if (in->body_len > max)
		r->body_too_large = true;
	else if (in->body_len) {
		/* The caller's bytes, not a copy: a read past body_len is then
		 * the sanitizers' to see. api.c only reads r->body. */
		r->body = (char *)in->body;
		r->body_len = in->body_len;
		r->body_cap = in->body_len;
	}
	if (!srv->engine && r->route && hf_route_needs_engine(r->route)) {
		hf_render_error(r, 503, "overloaded", "this route needs the engine, and there is none");
		r->retry_after = true;
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	if (hf_api_dispatch(r) == HF_ANSWERED) {
		r->stage = HF_STAGE_ANSWERED;
		return HF_ANSWERED;
	}
	r->ereq.ctx = r;
	r->stage = HF_STAGE_PARKED;
	return HF_SUBMIT;
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
