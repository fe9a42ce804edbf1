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

#endif
