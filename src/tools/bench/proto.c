/*
 * proto.c: the bytes of holdfast-bench's requests and the parsers of the
 * answers (bench.h).
 *
 * Protocols: HTTP/1.1 with a response parser of its own in the
 * picohttpparser shape (status line, Content-Length, Connection; a body
 * without a length runs to the close; no chunked bodies: none of the
 * servers measured sends them), and RESP for Redis (EVALSHA of the peer's
 * check-and-decrement script), so every system but raw PostgreSQL (which
 * pgbench measures) goes through the same client and the same clock. The
 * JSON readers are just enough for answers from the servers measured.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"

/* ---- request bytes ------------------------------------------------------ */

void wb_reserve(struct conn *c, size_t n)
{
	if (n <= c->wcap)
		return;
	size_t cap = c->wcap ? c->wcap : 1024;
	while (cap < n)
		cap *= 2;
	c->wb = realloc(c->wb, cap);
	if (!c->wb)
		die("out of memory");
	c->wcap = cap;
}

/* Builds an HTTP/1.1 request into c->wb. auth: a whole header line or NULL;
 * body NULL: no body headers (a GET); otherwise a JSON body (maybe empty). */
void req_http(struct bench *b, struct conn *c, const char *method, const char *path,
	      const char *auth, const char *body, size_t body_len)
{
	size_t need = strlen(method) + strlen(path) + (auth ? strlen(auth) : 0) + body_len + 160;
	wb_reserve(c, need);
	int n;
	if (body)
		n = snprintf(c->wb, c->wcap,
			     "%s %s HTTP/1.1\r\nHost: %s:%u\r\n%sContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n",
			     method, path, b->host, b->port, auth ? auth : "", body_len);
	else
		n = snprintf(c->wb, c->wcap, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n%s\r\n", method, path,
			     b->host, b->port, auth ? auth : "");
	if (n < 0 || (size_t)n + body_len >= c->wcap)
		die("request too large");
	if (body_len)
		memcpy(c->wb + n, body, body_len);
	c->wlen = (size_t)n + body_len;
	c->woff = 0;
}

/* Builds a RESP command (an array of bulk strings) into c->wb. */
void req_resp(struct conn *c, int argc, const char *const *argv)
{
	size_t need = 16;
	for (int i = 0; i < argc; i++)
		need += strlen(argv[i]) + 16;
	wb_reserve(c, need);
	size_t n = (size_t)snprintf(c->wb, c->wcap, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(c->wb + n, c->wcap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	c->wlen = n;
	c->woff = 0;
}

/* ---- answer parsers: (buf, len, out) -> bytes consumed, -2 need more,
 * -1 bad input, -3 (HTTP) headers done, the body runs to the close ------ */


static bool hdr_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && !strncasecmp(line, name, k);
}

long http_parse(const char *buf, size_t len, struct answer *a)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return len > 65536 ? -1 : -2;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) || !isdigit((unsigned char)buf[9]))
		return -1;
	a->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	a->close = buf[7] == '0';
	size_t hlen = (size_t)(end - buf) + 4;
	long cl = -1;
	const char *p = memchr(buf, '\n', hlen) + 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end + 2 - p));
		if (!nl)
			break;
		size_t n = (size_t)(nl - p);
		if (hdr_is(p, n, "content-length:"))
			cl = strtol(p + 15, NULL, 10);
		else if (hdr_is(p, n, "connection:")) {
			const char *v = p + 11;
			while (*v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				a->close = true;
			else if (!strncasecmp(v, "keep-alive", 10))
				a->close = false;
		} else if (hdr_is(p, n, "transfer-encoding:"))
			return -1; /* chunked: not spoken here */
		p = nl + 1;
	}
	if (cl < 0) {
		if (a->status == 204 || a->status == 304 || a->status < 200)
			cl = 0;
		else {
			a->close = true;
			return -3;
		}
	}
	if (len < hlen + (size_t)cl)
		return -2;
	a->body = buf + hlen;
	a->body_len = (size_t)cl;
	return (long)(hlen + (size_t)cl);
}

/* RESP: ':' integer, '+' simple string, '-' error, '$' bulk string. The
 * status is 200 for a value, 500 for an error, 404 for a null bulk. */
long resp_parse(const char *buf, size_t len, struct answer *a)
{
	const char *nl = memchr(buf, '\n', len);
	if (!nl)
		return len > 65536 ? -1 : -2;
	size_t line = (size_t)(nl - buf) + 1;
	if (line < 3)
		return -1;
	a->close = false;
	switch (buf[0]) {
	case ':':
	case '+':
	case '-':
		a->status = buf[0] == '-' ? 500 : 200;
		a->body = buf + 1;
		a->body_len = line - 3;
		return (long)line;
	case '$': {
		long n = strtol(buf + 1, NULL, 10);
		if (n < 0) {
			a->status = 404;
			a->body = buf;
			a->body_len = 0;
			return (long)line;
		}
		if (len < line + (size_t)n + 2)
			return -2;
		a->status = 200;
		a->body = buf + line;
		a->body_len = (size_t)n;
		return (long)(line + (size_t)n + 2);
	}
	default:
		return -1;
	}
}

/* ---- small JSON readers (answers come from the servers measured) -------- */

/* The number after "key": in body, or -1. */
long long json_num(const char *body, size_t len, const char *key)
{
	char pat[64];
	int n = snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = memmem(body, len, pat, (size_t)n);
	if (!p)
		return -1;
	p += n;
	while (*p == ' ')
		p++;
	return strtoll(p, NULL, 10);
}

/* Copies the string after "key":" into out (cap bytes); its length or -1. */
long json_str(const char *body, size_t len, const char *key, char *out, size_t cap)
{
	char pat[64];
	int n = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = memmem(body, len, pat, (size_t)n);
	if (!p)
		return -1;
	p += n;
	const char *e = memchr(p, '"', (size_t)(body + len - p));
	if (!e || (size_t)(e - p) >= cap)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	return e - p;
}

/* "id":"h-123" -> 123 (0 when absent). */
uint64_t json_booking_id(const char *body, size_t len, char prefix)
{
	char id[32];
	if (json_str(body, len, "id", id, sizeof(id)) < 3 || id[0] != prefix || id[1] != '-')
		return 0;
	return strtoull(id + 2, NULL, 10);
}
