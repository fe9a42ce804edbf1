/*
 * jsonin.h: request bodies -> commands. Every body the API accepts is
 * described by one schema (a static table of fields: name, type, required,
 * range, where the value lands in struct hf_cmd); one walker checks a
 * parsed body against it and fills the command. Nothing else reads JSON.
 *
 * The walker rejects, with the path of the bad field ("seats[3].price"):
 * duplicate keys (jansson, JSON_REJECT_DUPLICATES), malformed or non-UTF-8
 * text, \u0000 in strings, a body that is not an object, unknown fields,
 * missing required fields, wrong types, integers out of range (quantities
 * start at 1), ids outside [A-Za-z0-9._:-]{1,64}, over-long names, times
 * that are not RFC 3339, arrays longer than a hold or event may be (413).
 *
 * Ownership: strings and arrays of the command are copied into the arena
 * and stay valid until it is reset; the jansson tree is freed before
 * return.
 */
#ifndef HF_SERVER_JSONIN_H
#define HF_SERVER_JSONIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd.h"
#include "server/arena.h"

/* The bodies the API accepts (one schema each). */
enum hf_body {
	HF_BODY_NONE = 0,       /* no body allowed beyond {} (or an empty body) */
	HF_BODY_EVENT,          /* POST /events */
	HF_BODY_BLOCK,          /* POST /events/{id}/block|unblock */
	HF_BODY_ITEM,           /* POST /items */
	HF_BODY_RESTOCK,        /* POST /items/{id}/restock */
	HF_BODY_HOLD_CREATE,    /* POST /holds */
	HF_BODY_LINES,          /* POST /holds/{id}/add|remove */
	HF_BODY_EXTEND,         /* POST /holds/{id}/extend */
	HF_BODY_ACT,            /* confirm, release, cancel: {"customer"?} */
	HF_BODY_STATUS,         /* POST /orders/{id}/status */
	HF_BODY_TOKEN,          /* POST /tokens */
	HF_BODY_CLOCK,          /* POST /admin/clock */
	HF_BODY_BATCH,          /* POST /batch: read by hf_jsonin_parse_batch, not by the table */
	HF_BODY_ORDER,          /* POST /orders: lines and best_available */
	HF_BODY_CONFIRM,        /* POST /holds/{id}/confirm: {"customer"?, "accept_late"?} */
	HF_BODY_COUNT,
};

/* What a body may carry besides the command (tokens, clock). */
struct hf_body_extra {
	struct hf_str customer; /* POST /tokens */
	uint32_t ttl_s;         /* POST /tokens; 0: absent */
	uint32_t advance_s;     /* POST /admin/clock */
};

struct hf_jerr {
	unsigned status;  /* 400, or 413 for arrays past a limit */
	char path[128];   /* "" for the body as a whole */
	char msg[384];
};

/* Parses body[0..len) as `which` and fills cmd's body fields, cmd->customer
 * (when the body names one) and extra. len 0 reads as {}. Returns 0, or -1
 * with err filled. */
int hf_jsonin_parse(enum hf_body which, const char *body, size_t len, struct hf_arena *arena,
		    struct hf_cmd *cmd /* out */, struct hf_body_extra *extra /* out */,
		    struct hf_jerr *err /* out */);

/* hf_jsonin_parse, and with fp not NULL also the Idempotency-Key
 * fingerprint of the request: fp_seed (hf_jsonin_fp_seed) and the body's
 * JSON in canonical form (compact, keys sorted), so a retry that spells
 * the same body otherwise is the same request. */
int hf_jsonin_parse_keyed(enum hf_body which, const char *body, size_t len,
			  struct hf_arena *arena, struct hf_cmd *cmd /* out */,
			  struct hf_body_extra *extra /* out */, struct hf_jerr *err /* out */,
			  uint64_t fp_seed, uint64_t *fp /* out */);
uint64_t hf_jsonin_fp_seed(const char *method, const char *path);

/* POST /batch {"ops": [{"method", "path", "body"?, "idempotency_key"?}, ...]}:
 * 1 to HF_BATCH_OPS_MAX operations. The envelope's errors (malformed JSON,
 * unknown fields, ops missing, empty or too long, an operation without a
 * method or path) refuse the whole batch: -1 with err ("ops[3].path").
 * Each operation is then routed by `route` (its enum hf_body, or -1: not
 * a route a batch may carry; its body is not read) and its body read as
 * that route's; an operation's body errors are its own (parsed false, err),
 * the others go on. */
typedef int (*hf_batch_route_fn)(void *ctx, uint32_t i, const char *method, const char *path);

struct hf_batch_op {
	const char *method, *path;  /* NUL-terminated, in the arena */
	const char *idem_key;       /* NULL: none (not yet checked as an id) */
	int body;                   /* route's enum hf_body; -1: not routed */
	bool parsed;                /* body read into cmd and extra; else err */
	struct hf_cmd cmd;
	struct hf_body_extra extra;
	uint64_t fingerprint;       /* with idem_key */
	struct hf_jerr err;
};

int hf_jsonin_parse_batch(const char *body, size_t len, struct hf_arena *arena,
			  hf_batch_route_fn route, void *ctx,
			  struct hf_batch_op **ops /* out, in the arena */, uint32_t *n_ops /* out */,
			  struct hf_jerr *err /* out */);

/* [A-Za-z0-9._:-]{1,64}: event, seat, item, customer ids, idempotency keys. */
bool hf_jsonin_id_ok(const char *s, size_t n);

/* Hold and order ids in text: "h-<n>" / "o-<n>", n a decimal u64 > 0
 * without leading zeros. Returns the number or 0 when s is not one. */
uint64_t hf_jsonin_booking_id(char prefix, const char *s, size_t n);

/* Orphan rules as the API spells them (index = enum hf_orphan_rule):
 * allow, no_single_gaps. */
extern const char *const hf_jsonin_orphan_rules[HF_ORPHAN_RULE_COUNT];

/* Order status names as the API spells them (index = enum hf_order_status):
 * under_review, packaged, shipped, delivered, canceled. */
int hf_jsonin_status(const char *s, size_t n); /* -1: not a status */

#endif
