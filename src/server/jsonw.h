/*
 * jsonw.h: the JSON writer every response is rendered with, and RFC 3339
 * time text (the one time format of the API, read and written here).
 *
 * The writer appends to a buffer grown in the request's arena; commas are
 * placed by a per-depth "first" flag, so callers only open, close, name
 * keys and write values. Output is deterministic: the same calls give the
 * same bytes (idempotent replays depend on it). Strings are escaped per
 * RFC 8259 (control bytes as \u00XX); well-formed UTF-8 passes through,
 * and each byte that is not part of it becomes \ufffd (text from a URL, or
 * cut at a byte count, is not always UTF-8; the answer must be JSON).
 *
 * Out of memory sets jw->oom and turns later calls into no-ops; the caller
 * checks once at the end.
 */
#ifndef HF_SERVER_JSONW_H
#define HF_SERVER_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/arena.h"

#define HF_JW_DEPTH_MAX 16

struct hf_jw {
	struct hf_arena *arena; /* grows buf; NULL: malloc/realloc (caller frees buf) */
	char *buf;
	size_t len, cap;
	bool oom;
	uint8_t depth;
	bool first[HF_JW_DEPTH_MAX]; /* no value written yet at this depth */
	bool after_key;              /* the next value follows "key": */
};

void hf_jw_init(struct hf_jw *jw, struct hf_arena *arena);
void hf_jw_raw(struct hf_jw *jw, const char *s, size_t n);
/* Room for n more bytes (one allocation instead of doublings, when the
 * size is known). false: out of memory (jw->oom). */
bool hf_jw_reserve(struct hf_jw *jw, size_t n);
void hf_jw_obj(struct hf_jw *jw);   /* { */
void hf_jw_obj_end(struct hf_jw *jw);
void hf_jw_arr(struct hf_jw *jw);   /* [ */
void hf_jw_arr_end(struct hf_jw *jw);
/* key: one of the API's names, plain ASCII without quotes or backslashes
 * (written as is). */
void hf_jw_key(struct hf_jw *jw, const char *key);
void hf_jw_str(struct hf_jw *jw, const char *s, size_t n);
void hf_jw_cstr(struct hf_jw *jw, const char *s);
void hf_jw_i64(struct hf_jw *jw, int64_t v);
void hf_jw_u64(struct hf_jw *jw, uint64_t v);
/* The string "<prefix>-<v>" ("o-12"): booking ids. */
void hf_jw_prefixed_u64(struct hf_jw *jw, char prefix, uint64_t v);
void hf_jw_bool(struct hf_jw *jw, bool v);
void hf_jw_null(struct hf_jw *jw);
void hf_jw_time(struct hf_jw *jw, int64_t ms); /* "2026-11-22T20:00:00Z" */
/* A value that is already JSON text (another writer's output), placed as
 * one value. */
void hf_jw_json(struct hf_jw *jw, const char *s, size_t n);

/* Writes ms since the epoch as RFC 3339 UTC ("...Z", with ".mmm" only when
 * ms is not a whole second) into out (>= HF_TIME_TEXT_MAX bytes, NUL
 * terminated). Returns the length. ms must be in [0, HF_TIME_MS_MAX]. */
#define HF_TIME_TEXT_MAX 32
size_t hf_time_format(int64_t ms, char *out /* out */);

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" into
 * ms since the epoch (fraction digits past milliseconds are truncated).
 * picohttpparser shape: returns len consumed (all of it) or -1 on any
 * deviation, a date that does not exist, or a time outside
 * [0, HF_TIME_MS_MAX]. */
int64_t hf_time_parse(const char *s, size_t len, int64_t *ms /* out */);

#endif
