/*
 * engine_impl.h: what an engine implementation provides behind engine.h.
 * engine.c dispatches every public call through the ops table of the
 * engine that hf_engine_open chose; an implementation's own struct begins
 * with a struct hf_engine (so a pointer to it is a pointer to its base).
 *
 * Engines: embedded (embedded.c: sequencer + write-ahead log), postgres
 * (postgres.c). token_secret and test_clock_ms may be NULL (the engine
 * keeps no secret; its test clock is not shared).
 */
#ifndef HF_ENGINE_ENGINE_IMPL_H
#define HF_ENGINE_ENGINE_IMPL_H

#include "engine/engine.h"

struct hf_engine_ops {
	const char *name;
	int (*submit)(struct hf_engine *e, struct hf_request *const *reqs, uint32_t n);
	int64_t (*clock_advance)(struct hf_engine *e, int64_t ms);
	void (*stats)(struct hf_engine *e, struct hf_engine_stats *out);
	const struct hf_sm *(*sm)(const struct hf_engine *e);
	void (*close)(struct hf_engine *e);
	int (*token_secret)(const struct hf_engine *e, uint8_t *out);
	int64_t (*test_clock_ms)(struct hf_engine *e);
};

struct hf_engine {
	const struct hf_engine_ops *ops;
};

/* The submitted requests an engine has not taken yet, in order (under the
 * engine's own lock). */
struct hf_request_list {
	struct hf_request *head, *tail;
	uint32_t len;
};

/* Appends reqs[0..n) (n >= 1) as one chain, each status HF_ENGINE_OK: a
 * chain submitted together is never split between batches. */
void hf_request_list_push(struct hf_request_list *l, struct hf_request *const *reqs, uint32_t n);
/* Takes the next batch off the front: up to batch_max requests, more
 * only to finish a chain. NULL when empty; *n: how many. */
struct hf_request *hf_request_list_take(struct hf_request_list *l, uint32_t batch_max,
					uint32_t *n /* out */);

#endif
