/*
 * wl_mixed.c: holdfast's mixed workload and its checker (bench.h, rows.c):
 * holds of one unit, each then confirmed (1/2), released (1/4) or left to
 * expire (1/4), while a connection of its own moves the server's test clock
 * (`holdfast serve --test-clock`) so that holds do expire during the run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* One item, --customers customers per connection (a customer may have 32
 * active holds; expiring ones pile up between clock ticks). Each hold
 * (ttl --hold-ttl-s) is then confirmed (50%), released (25%) or left to
 * expire (25%); the test clock moves --clock-advance-s every --clock-ms
 * (a dedicated connection), so holds expire during the run. At the end
 * the clock jumps past every hold's expiry: nothing may stay held, and
 * sold must equal the confirms that succeeded. */
int setup_mixed(struct bench *b)
{
	b->items = 1;
	b->stock = 2000000000u;
	struct lreq *q = call1(b, "POST", "/admin/clock", b->admin_auth, "{\"advance_s\":1}");
	if (q->status != 200)
		die("mixed needs `holdfast serve --test-clock`: POST /admin/clock answered %d: %.200s",
		    q->status, q->answer ? q->answer : "");
	list_free(q, 1);
	setup_tokens(b, b->customers ? b->customers : 8);
	setup_items(b);
	return 0;
}

bool next_mixed(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	char path[64], body[256], id[96];
	if (c->hold && c->next_op != OP_HOLD) {
		snprintf(path, sizeof(path), c->next_op == OP_CONFIRM ? "/holds/h-%" PRIu64 "/confirm"
								       : "/holds/h-%" PRIu64,
			 c->hold);
		req_http(b, c, c->next_op == OP_CONFIRM ? "POST" : "DELETE", path,
			 auth_of(b, c, c->cust), "", 0);
		c->op = c->next_op;
		return true;
	}
	c->hold = 0;
	c->cust++;
	c->item = ph == PH_WARM ? b->items : 0;
	item_id(b, c->item, id, sizeof(id));
	int n = snprintf(body, sizeof(body), "{\"ttl_s\":%u,\"items\":[{\"item\":\"%s\",\"quantity\":1}]}",
			 b->hold_ttl_s, id);
	req_http(b, c, "POST", "/holds", auth_of(b, c, c->cust), body, (size_t)n);
	c->op = OP_HOLD;
	return true;
}

static int answer_mixed(struct bench *b, struct conn *c, int *status, const char *body,
			size_t len)
{
	switch (c->op) {
	case OP_HOLD: {
		if (*status != 201)
			return *status == 409 ? CLS_REJECTED : CLS_OTHER;
		atomic_fetch_add(&b->m_holds_ok, 1);
		c->hold = json_booking_id(body, len, 'h');
		uint32_t r = rnd_below(&c->rng, 4);
		c->next_op = r < 2 ? OP_CONFIRM : r == 2 ? OP_RELEASE : OP_HOLD;
		if (c->next_op == OP_HOLD)
			atomic_fetch_add(&b->m_let_expire, 1);
		return CLS_OK;
	}
	case OP_CONFIRM:
		c->hold = 0;
		if (*status == 200) {
			atomic_fetch_add(&b->m_confirm_ok, 1);
			atomic_fetch_add(&b->item_ok[c->item], 1);
			return CLS_OK;
		}
		if (*status == 409 && memmem(body, len, "hold_expired", 12))
			atomic_fetch_add(&b->m_confirm_expired, 1);
		return *status == 409 ? CLS_REJECTED : CLS_OTHER;
	default: /* release */
		c->hold = 0;
		if (*status == 200) {
			atomic_fetch_add(&b->m_release_ok, 1);
			return CLS_OK;
		}
		if (*status == 409 && memmem(body, len, "hold_expired", 12))
			atomic_fetch_add(&b->m_release_expired, 1);
		return *status == 409 ? CLS_REJECTED : CLS_OTHER;
	}
}

void lost_mixed(struct bench *b, struct conn *c)
{
	if (c->op == OP_CONFIRM) {
		atomic_fetch_add(&b->m_unknown_confirms, 1);
		atomic_fetch_add(&b->item_lost[c->item], 1);
	} else if (c->op == OP_HOLD) {
		atomic_fetch_add(&b->m_unknown_holds, 1);
	}
	c->hold = 0;
}

void clock_tick(struct worker *w, uint64_t now)
{
	struct bench *b = w->b;
	struct conn *c = b->clock_conn;
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	if (ph >= PH_DRAIN || c->busy || now < w->clock_next_ns)
		return;
	w->clock_next_ns = now + (uint64_t)b->clock_ms * 1000000u;
	char body[64];
	int n = snprintf(body, sizeof(body), "{\"advance_s\":%u}", b->clock_advance_s);
	req_http(b, c, "POST", "/admin/clock", b->admin_auth, body, (size_t)n);
	c->op = OP_CLOCK;
	conn_send(c, now);
}

int answer_clock_or(struct bench *b, struct conn *c, int *status, const char *body,
		    size_t len)
{
	if (c->op == OP_CLOCK)
		return *status == 200 ? CLS_OK : CLS_OTHER;
	return answer_mixed(b, c, status, body, len);
}

int verify_mixed(struct bench *b)
{
	verify_metrics(b); /* before the final clock advance, which it would count */
	/* every hold still active expires now */
	char body[64];
	snprintf(body, sizeof(body), "{\"advance_s\":%u}", b->hold_ttl_s + 3600);
	struct lreq *q = call1(b, "POST", "/admin/clock", b->admin_auth, body);
	check(q->status == 200, "final clock advance answered %d", q->status);
	list_free(q, 1);
	struct item_state is;
	items_read(b, &is, 1);
	/* the measured item's confirms (the warm item's are left out) */
	uint64_t ok = atomic_load(&b->item_ok[0]), unk = atomic_load(&b->item_lost[0]);
	check(is.held == 0, "no unit held after every hold expired (held %lld)", is.held);
	check(is.sold >= (long long)ok && is.sold <= (long long)(ok + unk),
	      "sold %lld = confirms that succeeded %" PRIu64 " (+ %" PRIu64 " unknown)", is.sold, ok,
	      unk);
	check(is.available + is.sold == (long long)b->stock, "available + sold = stock (%lld + %lld)",
	      is.available, is.sold);
	uint64_t holds = atomic_load(&b->m_holds_ok);
	uint64_t ended = atomic_load(&b->m_confirm_ok) + atomic_load(&b->m_confirm_expired) + atomic_load(&b->m_release_ok) +
			 atomic_load(&b->m_release_expired) + atomic_load(&b->m_let_expire);
	/* a hold whose follow-up was not sent (stop) or had no answer is the
	 * difference; at most one per connection */
	check(ended <= holds && holds - ended <= b->conns,
	      "holds created %" PRIu64 " = confirmed + released + expired %" PRIu64
	      " (+ at most one pending per connection)",
	      holds, ended);
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " holds=%" PRIu64 " confirmed=%" PRIu64 " released=%" PRIu64 " let_expire=%" PRIu64
		 " confirm_expired=%" PRIu64,
		 holds, ok, (uint64_t)atomic_load(&b->m_release_ok),
		 (uint64_t)atomic_load(&b->m_let_expire), (uint64_t)atomic_load(&b->m_confirm_expired));
	return 0;
}
