/*
 * peer_redis.c: Redis + Lua, the peer's check-and-decrement script by
 * EVALSHA over RESP, for hot, scarce and spread (bench.h, rows.c), and its
 * checker: each key's stock taken equals the successes seen for it (plus
 * at most the unknown outcomes); scarce: exactly --stock successes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The peer's bench/redis_decr.lua, byte for byte (--redis-script reads
 * the file instead). */
const char redis_decr_lua[] =
	"if tonumber(redis.call('GET',KEYS[1])) >= tonumber(ARGV[1]) then return "
	"redis.call('DECRBY',KEYS[1],ARGV[1]) else return -1 end";

static void redis_key(struct bench *b, uint32_t i, char *out, size_t cap)
{
	if (i == b->items)
		snprintf(out, cap, "%s:warm", b->tag);
	else
		snprintf(out, cap, "%s:stock:%05u", b->tag, i);
}

static void lreq_resp(struct lreq *q, int argc, const char *const *argv)
{
	struct conn tmp = {0};
	req_resp(&tmp, argc, argv);
	snprintf(q->method, sizeof(q->method), "RESP");
	q->path = strdup(argv[0]);
	q->body = tmp.wb;
	q->body_len = tmp.wlen;
}

/* Loads the script and sets the keys (b->items of b->stock units, and the
 * warm key). */
static int setup_redis(struct bench *b)
{
	const char *load[] = {"SCRIPT", "LOAD", b->redis_script};
	struct lreq *q = xalloc(sizeof(*q));
	lreq_resp(q, 3, load);
	list_run(b, q, 1);
	if (q->status != 200 || q->answer_len != 40)
		die("redis: SCRIPT LOAD answered %d %.200s", q->status, q->answer ? q->answer : "");
	memcpy(b->redis_sha, q->answer, 40);
	b->redis_sha[40] = 0;
	list_free(q, 1);
	size_t n = b->items + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char key[96], val[16];
		redis_key(b, i, key, sizeof(key));
		snprintf(val, sizeof(val), "%u", i == b->items ? 2000000000u : b->stock);
		const char *set[] = {"SET", key, val};
		lreq_resp(&l[i], 3, set);
	}
	list_run(b, l, n);
	for (size_t i = 0; i < n; i++)
		if (l[i].status != 200)
			die("redis: SET answered %d", l[i].status);
	list_free(l, n);
	b->item_ok = xalloc(n * sizeof(*b->item_ok));
	b->item_lost = xalloc(n * sizeof(*b->item_lost));
	return 0;
}

int setup_redis_hot(struct bench *b)
{
	b->items = 1;
	b->stock = 2000000000u;
	return setup_redis(b);
}

int setup_redis_scarce(struct bench *b)
{
	b->items = 1; /* of --stock units */
	return setup_redis(b);
}

int setup_redis_spread(struct bench *b)
{
	b->stock = 100000000u;
	return setup_redis(b);
}

static bool next_eval_of(struct bench *b, struct conn *c, bool spread)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	c->item = ph == PH_WARM ? b->items : spread ? rnd_below(&c->rng, b->items) : 0;
	char key[96];
	redis_key(b, c->item, key, sizeof(key));
	const char *argv[] = {"EVALSHA", b->redis_sha, "1", key, "1"};
	req_resp(c, 5, argv);
	c->op = OP_EVAL;
	return true;
}

bool next_eval(struct bench *b, struct conn *c) { return next_eval_of(b, c, false); }

bool next_eval_spread(struct bench *b, struct conn *c) { return next_eval_of(b, c, true); }

int answer_eval(struct bench *b, struct conn *c, int *status, const char *body,
		size_t len)
{
	if (*status != 200)
		return CLS_OTHER;
	if (len >= 2 && body[0] == '-') {
		*status = 409; /* the script's -1: not enough stock */
		return CLS_REJECTED;
	}
	atomic_fetch_add_explicit(&b->item_ok[c->item], 1, memory_order_relaxed);
	return CLS_OK;
}

static int verify_redis_of(struct bench *b, bool scarce)
{
	uint32_t n = b->items + 1;
	struct lreq *l = xalloc(n * sizeof(*l));
	for (uint32_t i = 0; i < n; i++) {
		char key[96];
		redis_key(b, i, key, sizeof(key));
		const char *get[] = {"GET", key};
		lreq_resp(&l[i], 2, get);
	}
	list_run(b, l, n);
	uint32_t bad = 0;
	uint64_t ok_total = 0, sold_total = 0;
	long long left0 = 0;
	for (uint32_t i = 0; i < n; i++) {
		long long left = l[i].answer ? strtoll(l[i].answer, NULL, 10) : -1;
		uint64_t stock = i == b->items ? 2000000000u : b->stock;
		long long sold = (long long)stock - left;
		uint64_t ok = atomic_load(&b->item_ok[i]), lost = atomic_load(&b->item_lost[i]);
		if (left < 0 || sold < (long long)ok || sold > (long long)(ok + lost))
			bad++;
		if (i < b->items) {
			ok_total += ok;
			sold_total += (uint64_t)sold;
		}
		if (i == 0)
			left0 = left;
	}
	list_free(l, n);
	check(!bad, "units taken = successes seen (+ unknown outcomes) on %u of %u keys; taken %" PRIu64
		    ", successes %" PRIu64,
	      n - bad, n, sold_total, ok_total);
	if (scarce) {
		check(left0 == 0 && ok_total == b->stock, "scarce: exactly %u successes (seen %" PRIu64
							  ", left %lld)",
		      b->stock, ok_total, left0);
		snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
			 " sold_out=%s successes=%" PRIu64, left0 == 0 ? "yes" : "no", ok_total);
	}
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " units_sold=%" PRIu64, sold_total);
	return 0;
}

int verify_redis(struct bench *b) { return verify_redis_of(b, false); }

int verify_redis_scarce(struct bench *b) { return verify_redis_of(b, true); }
