/*
 * postgres.h: the PostgreSQL engine's own entry points, beyond engine.h:
 * what tests need (a clock of their choice, a log for notes, the database
 * position). Everything else goes through engine.h.
 */
#ifndef HF_ENGINE_POSTGRES_H
#define HF_ENGINE_POSTGRES_H

#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"

struct hf_pg_options {
	FILE *log;                  /* notes and errors; NULL: stderr */
	/* Tests: the time of each batch, instead of the database's clock (or
	 * the shared test clock). Called on the engine thread. */
	int64_t (*now_fn)(void *arg);
	void *now_arg;
	uint32_t batch_max;         /* requests per transaction; 0: 1024 */
};

/* hf_engine_open for cfg->kind == HF_ENGINE_POSTGRES, with options (NULL:
 * defaults). Connects to cfg->database_url, creates or checks the schema
 * and the stored config, loads the newest snapshot and the log after it,
 * starts the engine thread. NULL with a message in err. */
struct hf_engine *hf_pg_open(const struct hf_engine_config *cfg, const struct hf_pg_options *opt,
			     char *err, size_t err_cap);

/* The last log seq this process has applied (tests). */
uint64_t hf_pg_position(struct hf_engine *e);

/* The schema version this build creates and reads. */
#define HF_PG_SCHEMA_VERSION 1

#endif
