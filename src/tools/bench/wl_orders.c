/*
 * wl_orders.c: holdfast's buy-now workloads, POST /orders of one unit
 * (bench.h, rows.c):
 *
 *   hot     every request buys from one item (stock 2e9: it never runs out)
 *   scarce  one item of --stock units, far more buyers: exactly --stock
 *           successes, the rest 409
 *   spread  a random item of --items (a million units each)
 *
 * The warm-up buys from the warm item (index b->items). The request is
 * built once per phase and resent as is; spread rewrites the item's five
 * digits in place. Checked by hf_api.c's verify_items_then; scarce adds
 * "exactly --stock successes, sold out".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

static int setup_orders(struct bench *b)
{
	setup_tokens(b, 1);
	setup_items(b);
	return 0;
}

int setup_hot(struct bench *b)
{
	b->items = 1;
	b->stock = 2000000000u;
	return setup_orders(b);
}

int setup_scarce(struct bench *b)
{
	b->items = 1; /* of --stock units */
	return setup_orders(b);
}

int setup_spread(struct bench *b)
{
	b->stock = 1000000u; /* a million units of each of --items */
	return setup_orders(b);
}

/* POST /orders of one unit. The request is built once per phase; spread
 * rewrites the item number in place. */
static bool next_order_of(struct bench *b, struct conn *c, bool spread)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	bool warm = ph == PH_WARM;
	c->op = OP_ORDER;
	if (c->tmpl_phase != (warm ? PH_WARM : PH_RUN)) {
		char id[96], body[192];
		item_id(b, warm ? b->items : 0, id, sizeof(id));
		int n = snprintf(body, sizeof(body), "{\"items\":[{\"item\":\"%s\",\"quantity\":1}]}", id);
		req_http(b, c, "POST", "/orders", auth_of(b, c, 0), body, (size_t)n);
		c->tmpl_phase = warm ? PH_WARM : PH_RUN;
		char *p = memmem(c->wb, c->wlen, "-it-", 4);
		c->patch_off = p ? (size_t)(p - c->wb) + 4 : 0;
	}
	c->woff = 0;
	if (warm) {
		c->item = b->items;
	} else if (spread) {
		c->item = rnd_below(&c->rng, b->items);
		uint32_t v = c->item;
		for (int k = 4; k >= 0; k--, v /= 10)
			c->wb[c->patch_off + (size_t)k] = (char)('0' + v % 10);
	} else {
		c->item = 0;
	}
	return true;
}

bool next_order(struct bench *b, struct conn *c) { return next_order_of(b, c, false); }

bool next_order_spread(struct bench *b, struct conn *c) { return next_order_of(b, c, true); }

int answer_order(struct bench *b, struct conn *c, int *status, const char *body, size_t len)
{
	(void)body;
	(void)len;
	if (*status == 201) {
		atomic_fetch_add_explicit(&b->item_ok[c->item], 1, memory_order_relaxed);
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

void lost_order(struct bench *b, struct conn *c)
{
	atomic_fetch_add(&b->item_lost[c->item], 1);
}

int verify_items(struct bench *b) { return verify_items_then(b, NULL); }

/* scarce: the item sold out, and exactly --stock buyers were told yes. */
static void check_scarce(struct bench *b, const struct items_seen *s)
{
	bool sold_out = s->left0 == 0;
	check(sold_out && s->ok_total == b->stock && s->sold_total == b->stock,
	      "scarce: exactly %u successes (seen %" PRIu64 ", sold %" PRIu64 ", left %lld)",
	      b->stock, s->ok_total, s->sold_total, s->left0);
	add_extra(b, " sold_out=%s successes=%" PRIu64, sold_out ? "yes" : "no", s->ok_total);
}

int verify_scarce(struct bench *b) { return verify_items_then(b, check_scarce); }
