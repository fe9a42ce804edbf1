/*
 * engine.c: the public engine calls, dispatched to the engine that
 * hf_engine_open chose (engine_impl.h). Owns no state of its own.
 */
#include "engine/embedded.h"
#include "engine/engine_impl.h"
#include "engine/postgres.h"

#include <string.h>

void hf_request_list_push(struct hf_request_list *l, struct hf_request *const *reqs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		reqs[i]->next = i + 1 < n ? reqs[i + 1] : NULL;
		reqs[i]->chain_rest = n - 1 - i;
		reqs[i]->status = HF_ENGINE_OK;
	}
	if (l->tail)
		l->tail->next = reqs[0];
	else
		l->head = reqs[0];
	l->tail = reqs[n - 1];
	l->len += n;
}

struct hf_request *hf_request_list_take(struct hf_request_list *l, uint32_t batch_max, uint32_t *n)
{
	struct hf_request *head = l->head, *r = head, *last = NULL;
	uint32_t k = 0;
	while (r && (k < batch_max || (last && last->chain_rest))) {
		last = r;
		r = r->next;
		k++;
	}
	*n = k;
	if (!last)
		return NULL;
	last->next = NULL;
	l->head = r;
	if (!r)
		l->tail = NULL;
	l->len -= k;
	return head;
}

void hf_engine_config_default(struct hf_engine_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->data_dir = "data";
	cfg->fsync = HF_FSYNC_ALWAYS;
	hf_sm_config_default(&cfg->sm);
	cfg->queue_max = 16384;
	/* A snapshot bounds restart time (replay of what came after it); the
	 * fork()ed writer costs the sequencer one fork. */
	cfg->snapshot_every_s = 300;
	cfg->snapshot_every_records = 1000000;
	cfg->test_clock = false;
	cfg->adopt_stored_config = false;
	cfg->segment_bytes = 0;
}

struct hf_engine *hf_engine_open(const struct hf_engine_config *cfg, char *err, size_t err_cap)
{
	if (cfg->kind == HF_ENGINE_POSTGRES)
		return hf_pg_open(cfg, NULL, err, err_cap);
	return hf_embedded_open(cfg, NULL, NULL, err, err_cap);
}

int hf_engine_submit(struct hf_engine *e, struct hf_request *req)
{
	return e->ops->submit(e, &req, 1);
}

int hf_engine_submit_many(struct hf_engine *e, struct hf_request *const *reqs, uint32_t n)
{
	return e->ops->submit(e, reqs, n);
}

int64_t hf_engine_clock_advance(struct hf_engine *e, int64_t ms)
{
	return e->ops->clock_advance(e, ms);
}

void hf_engine_stats(struct hf_engine *e, struct hf_engine_stats *out)
{
	e->ops->stats(e, out);
}

const struct hf_sm *hf_engine_sm(const struct hf_engine *e)
{
	return e->ops->sm(e);
}

int64_t hf_engine_test_clock_ms(struct hf_engine *e)
{
	return e->ops->test_clock_ms ? e->ops->test_clock_ms(e) : -1;
}

int hf_engine_token_secret(const struct hf_engine *e, uint8_t *out)
{
	return e->ops->token_secret ? e->ops->token_secret(e, out) : -1;
}

void hf_engine_close(struct hf_engine *e)
{
	if (e)
		e->ops->close(e);
}
