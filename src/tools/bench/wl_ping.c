/*
 * wl_ping.c: ping (GET /health on holdfast and the ceiling, GET /ping on
 * Django: the HTTP layer alone, no engine) and the ceiling's hot workload:
 * holdfast's hot request bytes (the same path, body and a token of the same
 * length) sent to bench-ceiling, an empty handler on the same HTTP stack.
 * Nothing to check: the answers' statuses are counted.
 */
#include <stdio.h>

#include "bench.h"

static bool next_get(struct bench *b, struct conn *c, const char *path)
{
	if (c->tmpl_phase != PH_RUN) {
		req_http(b, c, "GET", path, NULL, NULL, 0);
		c->tmpl_phase = PH_RUN;
	}
	c->woff = 0;
	c->op = OP_PING;
	return true;
}

bool next_ping(struct bench *b, struct conn *c) { return next_get(b, c, "/health"); }

bool next_ping_django(struct bench *b, struct conn *c) { return next_get(b, c, "/ping"); }

int answer_plain(struct bench *b, struct conn *c, int *status, const char *body,
		 size_t len)
{
	(void)b;
	(void)c;
	(void)body;
	(void)len;
	if (*status >= 200 && *status < 300)
		return CLS_OK;
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

/* ---- the ceiling: holdfast's hot request bytes, an empty handler -------- */

int setup_ceiling(struct bench *b)
{
	b->items = 1;
	b->auth = xalloc(b->conns * sizeof(char *));
	b->customers = 1;
	for (uint32_t i = 0; i < b->conns; i++) {
		/* a token of holdfast's length: the same bytes on the wire */
		b->auth[i] = xalloc(160);
		snprintf(b->auth[i], 160,
			 "Authorization: Bearer hft1.YmVuY2gtYzAwLTB8MTc5NTQyMDcxNTA0NQ.%043u\r\n", i);
	}
	b->item_ok = xalloc(2 * sizeof(*b->item_ok));
	b->item_lost = xalloc(2 * sizeof(*b->item_lost));
	return 0;
}
