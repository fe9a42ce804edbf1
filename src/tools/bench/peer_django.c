/*
 * peer_django.c: the Django peer (gunicorn sync workers + PostgreSQL):
 * POST /products/{id}/sell {"n": 1} for hot, scarce and spread, POST
 * /shows/{id}/book for seats (bench.h, rows.c).
 *
 * Its state is checked with SQL by bench/side-by-side.sh (the peer has no
 * read route for stock): verify_external only reports what the answers
 * said (measured_ok, measured_unknown, tickets) for the script to hold
 * against the database. The warm-up goes to product --django-products + 1
 * (the last) and show 2, which the checks leave out.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static bool next_sell_of(struct bench *b, struct conn *c, bool spread)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	uint32_t id = ph == PH_WARM ? b->django_products + 1
		      : spread ? 1 + rnd_below(&c->rng, b->django_products)
			       : 1;
	char path[64];
	snprintf(path, sizeof(path), "/products/%u/sell", id);
	req_http(b, c, "POST", path, NULL, "{\"n\": 1}", 8);
	c->op = OP_SELL;
	return true;
}

/* hot, scarce: product 1; spread: a random one of --django-products. */
bool next_sell(struct bench *b, struct conn *c) { return next_sell_of(b, c, false); }

bool next_sell_spread(struct bench *b, struct conn *c) { return next_sell_of(b, c, true); }

bool next_book(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	char path[64], body[256];
	snprintf(path, sizeof(path), "/shows/%d/book", ph == PH_WARM ? 2 : 1);
	uint32_t k = 2 + rnd_below(&c->rng, 3), s[4];
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"user\": %u, \"seats\": [",
				    1 + rnd_below(&c->rng, b->django_users));
	for (uint32_t i = 0; i < k; i++) {
	again:
		s[i] = 1 + rnd_below(&c->rng, b->event_seats);
		for (uint32_t j = 0; j < i; j++)
			if (s[j] == s[i])
				goto again;
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s%u", i ? ", " : "", s[i]);
	}
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	req_http(b, c, "POST", path, NULL, body, n);
	c->op = OP_BOOK;
	return true;
}

int answer_book(struct bench *b, struct conn *c, int *status, const char *body,
		size_t len)
{
	if (*status == 201) {
		if (c->sent_phase != PH_WARM) {
			const char *t = memmem(body, len, "\"tickets\"", 9);
			const char *e = t ? memchr(t, ']', (size_t)(body + len - t)) : NULL;
			uint64_t k = 0;
			for (const char *p = t; p && p < e; p++)
				if (isdigit((unsigned char)*p) && !isdigit((unsigned char)p[-1]))
					k++;
			atomic_fetch_add(&b->tickets, k);
			atomic_fetch_add(&b->item_ok[0], 1);
		}
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

int answer_sell(struct bench *b, struct conn *c, int *status, const char *body,
		size_t len)
{
	(void)body;
	(void)len;
	if (*status == 200) {
		if (c->sent_phase != PH_WARM)
			atomic_fetch_add(&b->item_ok[0], 1);
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

void lost_peer(struct bench *b, struct conn *c)
{
	if (c->sent_phase != PH_WARM)
		atomic_fetch_add(&b->item_lost[0], 1);
}

int setup_django(struct bench *b)
{
	b->item_ok = xalloc(2 * sizeof(*b->item_ok));
	b->item_lost = xalloc(2 * sizeof(*b->item_lost));
	return 0;
}

int verify_external(struct bench *b)
{
	/* the script reads these and checks the database */
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " measured_ok=%" PRIu64 " measured_unknown=%" PRIu64 " tickets=%" PRIu64,
		 (uint64_t)atomic_load(&b->item_ok[0]), (uint64_t)atomic_load(&b->item_lost[0]),
		 (uint64_t)atomic_load(&b->tickets));
	snprintf(b->verdict, sizeof(b->verdict), "EXTERNAL");
	return 0;
}
