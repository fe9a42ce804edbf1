/*
 * wl_batch.c: holdfast's batch workload, POST /batch of --batch buy-now
 * operations on the hot item (bench.h, rows.c). requests/s counts batches,
 * ops/s their operations. Checked by hf_api.c's verify_items: every
 * operation's 201 is a unit sold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The proposed route (NOTES for the lead; docs/BENCHMARKS.md):
 *   POST /batch {"ops":[{"method":"POST","path":"/orders","body":{...}}, ...]}
 *   -> 200 {"results":[{"status":201,"body":{...}}, ...]} in order.
 * Skipped (exit 0, verify=SKIP) while the server answers 404. */
int setup_batch(struct bench *b)
{
	setup_hot(b);
	struct lreq *q = call1(b, "POST", "/batch", b->auth[0], "{\"ops\":[]}");
	int st = q->status;
	list_free(q, 1);
	if (st == 404 || st == 405) {
		b->batch_missing = true;
		fprintf(stderr, "holdfast-bench: batch: POST /batch answered %d: the route does not "
				"exist on this server; workload skipped\n", st);
	}
	return 0;
}

bool next_batch(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	bool warm = ph == PH_WARM;
	c->op = OP_BATCH;
	c->item = warm ? b->items : 0;
	if (c->tmpl_phase != (warm ? PH_WARM : PH_RUN)) {
		char id[96];
		item_id(b, c->item, id, sizeof(id));
		size_t cap = (size_t)b->batch * 160 + 32, n = 0;
		char *body = xalloc(cap);
		n += (size_t)snprintf(body, cap, "{\"ops\":[");
		for (uint32_t i = 0; i < b->batch; i++)
			n += (size_t)snprintf(body + n, cap - n,
					      "%s{\"method\":\"POST\",\"path\":\"/orders\",\"body\":"
					      "{\"items\":[{\"item\":\"%s\",\"quantity\":1}]}}",
					      i ? "," : "", id);
		n += (size_t)snprintf(body + n, cap - n, "]}");
		req_http(b, c, "POST", "/batch", auth_of(b, c, 0), body, n);
		free(body);
		c->tmpl_phase = warm ? PH_WARM : PH_RUN;
	}
	c->woff = 0;
	return true;
}

static uint64_t count_str(const char *body, size_t len, const char *s)
{
	uint64_t n = 0;
	size_t k = strlen(s);
	for (const char *p = body; (p = memmem(p, (size_t)(body + len - p), s, k)); p += k)
		n++;
	return n;
}

int answer_batch(struct bench *b, struct conn *c, int *status, const char *body,
		 size_t len)
{
	if (*status != 200)
		return *status == 409 ? CLS_REJECTED : CLS_OTHER;
	uint64_t ok = count_str(body, len, "{\"status\":201");
	uint64_t rej = count_str(body, len, "{\"status\":409");
	atomic_fetch_add(&b->item_ok[c->item], ok);
	atomic_fetch_add(&b->batch_ops_ok, ok);
	atomic_fetch_add(&b->batch_ops_rejected, rej);
	if (ok + rej < b->batch)
		atomic_fetch_add(&b->batch_ops_other, b->batch - ok - rej);
	return CLS_OK;
}

void lost_batch(struct bench *b, struct conn *c)
{
	atomic_fetch_add(&b->item_lost[c->item], b->batch);
}
