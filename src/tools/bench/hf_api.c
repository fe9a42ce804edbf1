/*
 * hf_api.c: holdfast through its public API, for every holdfast workload
 * (bench.h): customer tokens and items made with the admin key, the route
 * counts of GET /metrics, and the checker the buy-now workloads share.
 *
 * The checker reads the state back through the API after the run and
 * holds it against what the answers said: every item's sold equals the
 * successes seen for it, plus at most its unknown outcomes (requests
 * without an answer: the server may have applied them or not); nothing is
 * left held; available + held + sold = stock; and holdfast's own count of
 * answers by route and status moved exactly by what this client saw (plus
 * the same slack). A workload adds its own checks through
 * verify_items_then; seats and mixed have checkers of their own
 * (wl_seats.c, wl_mixed.c) and also check the route counts.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- holdfast: setup helpers -------------------------------------------- */

void must_list(struct bench *b, struct lreq *l, size_t n, const char *what, int ok1,
	       int ok2)
{
	(void)b;
	for (size_t i = 0; i < n; i++)
		if (l[i].status != ok1 && l[i].status != ok2)
			die("setup: %s %s answered %d: %.300s (is --target a holdfast server, "
			    "with this admin key%s?)",
			    l[i].method, l[i].path, l[i].status, l[i].answer ? l[i].answer : "",
			    !strcmp(what, "clock") ? " and --test-clock" : "");
}

/* Mints one token per connection and customer (b->customers each). */
void setup_tokens(struct bench *b, uint32_t per_conn)
{
	size_t n = (size_t)b->conns * per_conn;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		char body[160];
		snprintf(body, sizeof(body), "{\"customer\":\"%s-c%zu-%zu\",\"ttl_s\":86400}", b->tag,
			 i / per_conn, i % per_conn);
		lreq_set(&l[i], "POST", "/tokens", b->admin_auth, body);
	}
	list_run(b, l, n);
	must_list(b, l, n, "token", 201, 200);
	b->auth = xalloc(n * sizeof(char *));
	b->customers = per_conn;
	for (size_t i = 0; i < n; i++) {
		char tok[1024];
		if (json_str(l[i].answer, l[i].answer_len, "token", tok, sizeof(tok)) < 0)
			die("setup: no token in %.200s", l[i].answer);
		b->auth[i] = xalloc(strlen(tok) + 32);
		sprintf(b->auth[i], "Authorization: Bearer %s\r\n", tok);
	}
	list_free(l, n);
}

const char *auth_of(struct bench *b, struct conn *c, uint32_t k)
{
	return b->auth ? b->auth[(size_t)c->id * b->customers + k % b->customers] : "";
}

void item_id(struct bench *b, uint32_t i, char *out, size_t cap)
{
	/* index b->items is the warm item */
	if (i == b->items)
		snprintf(out, cap, "%s-warm", b->tag);
	else
		snprintf(out, cap, "%s-it-%05u", b->tag, i);
}

/* Creates the workload's items (b->items of b->stock units) and the warm
 * item (plenty). */
void setup_items(struct bench *b)
{
	size_t n = b->items + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char id[96], body[256];
		item_id(b, i, id, sizeof(id));
		snprintf(body, sizeof(body),
			 "{\"id\":\"%s\",\"name\":\"bench item\",\"price\":100,\"stock\":%u}", id,
			 i == b->items ? 2000000000u : b->stock);
		lreq_set(&l[i], "POST", "/items", b->admin_auth, body);
	}
	list_run(b, l, n);
	must_list(b, l, n, "item", 201, 201);
	list_free(l, n);
	b->item_ok = xalloc(n * sizeof(*b->item_ok));
	b->item_lost = xalloc(n * sizeof(*b->item_lost));
}

/* The metrics of holdfast's route/status counter, "route|status" -> value. */
size_t metrics_read(struct bench *b, struct metric_count **out)
{
	struct lreq *q = call1(b, "GET", "/metrics", NULL, NULL);
	if (q->status != 200)
		die("GET /metrics answered %d", q->status);
	size_t cap = 64, n = 0;
	struct metric_count *m = xalloc(cap * sizeof(*m));
	const char *p = q->answer, *end = q->answer + q->answer_len;
	static const char pre[] = "holdfast_http_requests_total{route=\"";
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (!strncmp(p, pre, sizeof(pre) - 1)) {
			const char *r = p + sizeof(pre) - 1;
			const char *re = memchr(r, '"', (size_t)(nl - r));
			const char *s = re ? memmem(re, (size_t)(nl - re), "status=\"", 8) : NULL;
			if (s) {
				s += 8;
				const char *se = memchr(s, '"', (size_t)(nl - s));
				const char *v = se ? memchr(se, ' ', (size_t)(nl - se)) : NULL;
				if (v) {
					if (n == cap) {
						cap *= 2;
						m = realloc(m, cap * sizeof(*m));
						if (!m)
							die("out of memory");
					}
					snprintf(m[n].key, sizeof(m[n].key), "%.*s|%.*s", (int)(re - r), r,
						 (int)(se - s), s);
					m[n].v = strtoull(v + 1, NULL, 10);
					n++;
				}
			}
		}
		p = nl + 1;
	}
	list_free(q, 1);
	*out = m;
	return n;
}

static uint64_t metric_get(const struct metric_count *m, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].key, key))
			return m[i].v;
	return 0;
}

/* ---- checks ------------------------------------------------------------- */

int check_failures;

void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  check %s: ", ok ? "ok  " : "FAIL");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (!ok)
		check_failures++;
}

/* holdfast counts every answer by route and status (GET /metrics): the
 * deltas over the run must equal what this client saw, plus at most the
 * requests without an answer (the server counts an answer when it queues
 * it, so it may count one the client never read). */
void verify_metrics(struct bench *b)
{
	struct metric_count *m1;
	size_t n1 = metrics_read(b, &m1);
	struct stats all = {0};
	for (int ph = 0; ph < N_PHASES; ph++)
		stats_merge(&all, &b->total[ph]);
	uint64_t slack = b->unanswered + b->lost;
	for (int o = 0; o < N_OPS; o++) {
		if (!ops[o].route)
			continue;
		uint64_t seen = 0, counted = 0;
		for (int st = 100; st < STATUS_MAX; st++) {
			char key[128];
			snprintf(key, sizeof(key), "%s|%d", ops[o].route, st);
			uint64_t d = metric_get(m1, n1, key) - metric_get(b->metrics0, b->n_metrics0, key);
			uint64_t c = all.op_status[o][st];
			seen += c;
			counted += d;
			if (d != c && !(d > c && d - c <= slack))
				check(false, "server counted %" PRIu64 " answers %d to %s, client saw %" PRIu64,
				      d, st, ops[o].route, c);
		}
		if (seen || counted)
			check(counted >= seen && counted - seen <= slack,
			      "%s: server counted %" PRIu64 " answers, client saw %" PRIu64
			      " (unknown outcomes %" PRIu64 ")",
			      ops[o].route, counted, seen, slack);
	}
	free(m1);
}

void items_read(struct bench *b, struct item_state *out, uint32_t n)
{
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char id[96], path[128];
		item_id(b, i, id, sizeof(id));
		snprintf(path, sizeof(path), "/items/%s", id);
		lreq_set(&l[i], "GET", path, NULL, NULL);
	}
	list_run(b, l, n);
	for (uint32_t i = 0; i < n; i++) {
		if (l[i].status != 200)
			die("verify: GET %s answered %d", l[i].path, l[i].status);
		out[i].available = json_num(l[i].answer, l[i].answer_len, "available");
		out[i].held = json_num(l[i].answer, l[i].answer_len, "held");
		out[i].sold = json_num(l[i].answer, l[i].answer_len, "sold");
	}
	list_free(l, n);
}

/* Items: every item's sold equals the successes seen for it, plus at most
 * its unknown outcomes; nothing held; available + sold = stock. */
int verify_items_then(struct bench *b, void (*then)(struct bench *b, const struct items_seen *s))
{
	uint32_t n = b->items + 1;
	struct item_state *is = xalloc(n * sizeof(*is));
	items_read(b, is, n);
	uint32_t bad_sold = 0, bad_sum = 0, bad_held = 0, first = UINT32_MAX;
	struct items_seen seen = {0};
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ok = atomic_load(&b->item_ok[i]), lost = atomic_load(&b->item_lost[i]);
		uint64_t stock = i == b->items ? 2000000000u : b->stock;
		bool sold_ok = is[i].sold >= (long long)ok && is[i].sold <= (long long)(ok + lost);
		bool sum_ok = is[i].available + is[i].sold + is[i].held == (long long)stock &&
			      is[i].available >= 0;
		bad_sold += !sold_ok;
		bad_sum += !sum_ok;
		bad_held += is[i].held != 0;
		if ((!sold_ok || !sum_ok || is[i].held) && first == UINT32_MAX)
			first = i;
		if (i < b->items) {
			seen.ok_total += ok;
			seen.sold_total += (uint64_t)is[i].sold;
			seen.lost_total += lost;
		}
	}
	seen.left0 = is[0].available;
	check(!bad_sold, "units sold = successes seen (+ unknown outcomes) on %u of %u items; "
			 "sold %" PRIu64 ", successes %" PRIu64 ", unknown %" PRIu64,
	      n - bad_sold, n, seen.sold_total, seen.ok_total, seen.lost_total);
	check(!bad_sum, "available + held + sold = stock on %u of %u items", n - bad_sum, n);
	check(!bad_held, "nothing left held on %u of %u items", n - bad_held, n);
	if (first != UINT32_MAX) {
		char id[96];
		item_id(b, first, id, sizeof(id));
		fprintf(stderr, "  first bad item %s: available %lld held %lld sold %lld; successes "
				"seen %" PRIu64 ", unknown %" PRIu64 "\n",
			id, is[first].available, is[first].held, is[first].sold,
			(uint64_t)atomic_load(&b->item_ok[first]), (uint64_t)atomic_load(&b->item_lost[first]));
	}
	if (then)
		then(b, &seen);
	add_extra(b, " units_sold=%" PRIu64, seen.sold_total);
	free(is);
	verify_metrics(b);
	return 0;
}
