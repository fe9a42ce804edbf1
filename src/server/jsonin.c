/*
 * jsonin.c: see jsonin.h. One walker (jin_object) over schema tables; a
 * new body is one table. A field's value lands at `off` bytes into its
 * target: struct hf_cmd for top-level fields (or struct hf_body_extra when
 * `extra` is set), the element struct for fields of array elements.
 */
#include "server/jsonin.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/hash.h"
#include "base/limits.h"
#include "server/jsonw.h"

enum hf_jtype {
	J_ID,      /* hf_str, an id */
	J_NAME,    /* hf_str, 1..max bytes */
	J_TEXT,    /* hf_str, 0..max bytes */
	J_TIME,    /* int64_t ms, RFC 3339 */
	J_U32,     /* uint32_t in [min, max] */
	J_I32,     /* int32_t in [min, max] */
	J_I64,     /* int64_t in [min, max] */
	J_BOOL,    /* bool */
	J_STATUS,  /* uint8_t enum hf_order_status, by name */
	J_ORPHAN,  /* uint8_t enum hf_orphan_rule, by name */
	J_OBJECT,  /* an object (elem schema) filling the struct at off */
	J_OBJECTS, /* array of objects (elem schema): pointer at off, u32 count at count_off */
	J_IDS,     /* array of ids (struct hf_str): pointer at off, u32 count at count_off */
};

struct hf_jschema;

/* Columns: JSON name, type, required, target offset, count offset (arrays),
 * min, max (numbers: value; strings: bytes; arrays: elements), element
 * schema, whether the target is struct hf_body_extra. */
struct hf_jfield {
	const char *name;
	uint8_t type;
	bool required;
	uint32_t off;
	uint32_t count_off;
	int64_t min, max;
	const struct hf_jschema *elem;
	bool extra;
};

struct hf_jschema {
	uint32_t elem_size; /* arrays: sizeof the element struct */
	uint32_t n;
	const struct hf_jfield *fields;
};

#define CMD(m) ((uint32_t)offsetof(struct hf_cmd, m))
#define N(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* ---- schemas ----------------------------------------------------------- */

static const struct hf_jfield seat_spec_fields[] = {
	{"id", J_ID, true, offsetof(struct hf_seat_spec, id), 0, 1, HF_ID_LEN_MAX, NULL, false},
	{"section", J_TEXT, false, offsetof(struct hf_seat_spec, section), 0, 0, HF_NAME_LEN_MAX, NULL, false},
	{"row", J_TEXT, false, offsetof(struct hf_seat_spec, row), 0, 0, HF_NAME_LEN_MAX, NULL, false},
	{"number", J_I32, false, offsetof(struct hf_seat_spec, number), 0, INT32_MIN, INT32_MAX, NULL, false},
	{"price", J_I64, true, offsetof(struct hf_seat_spec, price), 0, 0, HF_PRICE_MAX, NULL, false},
	{"category", J_TEXT, false, offsetof(struct hf_seat_spec, category), 0, 0, HF_NAME_LEN_MAX, NULL, false},
};
static const struct hf_jschema seat_spec_schema = {sizeof(struct hf_seat_spec), N(seat_spec_fields), seat_spec_fields};

static const struct hf_jfield seat_ref_fields[] = {
	{"event", J_ID, true, offsetof(struct hf_seat_ref, event), 0, 1, HF_ID_LEN_MAX, NULL, false},
	{"seat", J_ID, true, offsetof(struct hf_seat_ref, seat), 0, 1, HF_ID_LEN_MAX, NULL, false},
};
static const struct hf_jschema seat_ref_schema = {sizeof(struct hf_seat_ref), N(seat_ref_fields), seat_ref_fields};

static const struct hf_jfield item_ref_fields[] = {
	{"item", J_ID, true, offsetof(struct hf_item_ref, item), 0, 1, HF_ID_LEN_MAX, NULL, false},
	{"quantity", J_U32, true, offsetof(struct hf_item_ref, quantity), 0, 1, HF_QUANTITY_MAX, NULL, false},
	{"partial", J_BOOL, false, offsetof(struct hf_item_ref, partial), 0, 0, 0, NULL, false},
};
static const struct hf_jschema item_ref_schema = {sizeof(struct hf_item_ref), N(item_ref_fields), item_ref_fields};

static const struct hf_jfield best_fields[] = {
	{"event", J_ID, true, offsetof(struct hf_best, event), 0, 1, HF_ID_LEN_MAX, NULL, false},
	{"count", J_U32, true, offsetof(struct hf_best, count), 0, 1, HF_HOLD_SEATS_MAX, NULL, false},
	{"section", J_TEXT, false, offsetof(struct hf_best, section), 0, 0, HF_NAME_LEN_MAX, NULL, false},
	{"category", J_TEXT, false, offsetof(struct hf_best, category), 0, 0, HF_NAME_LEN_MAX, NULL, false},
};
static const struct hf_jschema best_schema = {sizeof(struct hf_best), N(best_fields), best_fields};

#define EV(m) CMD(u.event_create.m)
static const struct hf_jfield event_fields[] = {
	{"id", J_ID, true, EV(id), 0, 1, HF_ID_LEN_MAX, NULL, false},
	{"name", J_NAME, true, EV(name), 0, 1, HF_NAME_LEN_MAX, NULL, false},
	{"starts_at", J_TIME, true, EV(starts_at_ms), 0, 0, 0, NULL, false},
	{"hold_ttl_s", J_U32, false, EV(hold_ttl_s), 0, 1, HF_HOLD_TTL_MAX_S, NULL, false},
	{"max_per_customer", J_U32, false, EV(max_per_customer), 0, 0, HF_EVENT_SEATS_MAX, NULL, false},
	{"sale_opens_at", J_TIME, false, EV(sale_opens_at_ms), 0, 0, 0, NULL, false},
	{"sale_closes_at", J_TIME, false, EV(sale_closes_at_ms), 0, 0, 0, NULL, false},
	{"orphan_rule", J_ORPHAN, false, EV(orphan_rule), 0, 0, 0, NULL, false},
	{"seats", J_OBJECTS, true, EV(seats), EV(n_seats), 1, HF_EVENT_SEATS_MAX, &seat_spec_schema, false},
};

static const struct hf_jfield block_fields[] = {
	{"seats", J_IDS, true, CMD(u.seats_block.seats), CMD(u.seats_block.n_seats), 1, HF_BLOCK_SEATS_MAX, NULL, false},
};

#define IT(m) CMD(u.item_create.m)
static const struct hf_jfield item_fields[] = {
	{"id", J_ID, true, IT(id), 0, 1, HF_ID_LEN_MAX, NULL, false},
	{"name", J_NAME, true, IT(name), 0, 1, HF_NAME_LEN_MAX, NULL, false},
	{"category", J_TEXT, false, IT(category), 0, 0, HF_NAME_LEN_MAX, NULL, false},
	{"description", J_TEXT, false, IT(description), 0, 0, HF_TEXT_LEN_MAX, NULL, false},
	{"image_url", J_TEXT, false, IT(image_url), 0, 0, HF_TEXT_LEN_MAX, NULL, false},
	{"price", J_I64, true, IT(price), 0, 0, HF_PRICE_MAX, NULL, false},
	{"stock", J_U32, true, IT(stock), 0, 0, HF_STOCK_MAX, NULL, false},
};

static const struct hf_jfield restock_fields[] = {
	{"quantity", J_U32, true, CMD(u.item_restock.quantity), 0, 1, HF_STOCK_MAX, NULL, false},
};

#define LN(m) CMD(u.lines.m)
#define CUSTOMER_FIELD {"customer", J_ID, false, CMD(customer), 0, 1, HF_ID_LEN_MAX, NULL, false}
static const struct hf_jfield hold_create_fields[] = {
	CUSTOMER_FIELD,
	{"ttl_s", J_U32, false, LN(ttl_s), 0, 1, HF_HOLD_TTL_MAX_S, NULL, false},
	{"seats", J_OBJECTS, false, LN(seats), LN(n_seats), 0, HF_HOLD_SEATS_MAX, &seat_ref_schema, false},
	{"items", J_OBJECTS, false, LN(items), LN(n_items), 0, HF_HOLD_ITEMS_MAX, &item_ref_schema, false},
	{"best_available", J_OBJECT, false, LN(best), 0, 0, 0, &best_schema, false},
};
static const struct hf_jfield order_fields[] = {
	CUSTOMER_FIELD,
	{"seats", J_OBJECTS, false, LN(seats), LN(n_seats), 0, HF_HOLD_SEATS_MAX, &seat_ref_schema, false},
	{"items", J_OBJECTS, false, LN(items), LN(n_items), 0, HF_HOLD_ITEMS_MAX, &item_ref_schema, false},
	{"best_available", J_OBJECT, false, LN(best), 0, 0, 0, &best_schema, false},
};
static const struct hf_jfield lines_fields[] = {
	CUSTOMER_FIELD,
	{"seats", J_OBJECTS, false, LN(seats), LN(n_seats), 0, HF_HOLD_SEATS_MAX, &seat_ref_schema, false},
	{"items", J_OBJECTS, false, LN(items), LN(n_items), 0, HF_HOLD_ITEMS_MAX, &item_ref_schema, false},
};
static const struct hf_jfield extend_fields[] = {
	CUSTOMER_FIELD,
	{"ttl_s", J_U32, true, CMD(u.hold_op.ttl_s), 0, 1, HF_HOLD_TTL_MAX_S, NULL, false},
};
static const struct hf_jfield act_fields[] = {
	CUSTOMER_FIELD,
};
static const struct hf_jfield confirm_fields[] = {
	CUSTOMER_FIELD,
	{"accept_late", J_BOOL, false, CMD(u.hold_op.accept_late), 0, 0, 0, NULL, false},
};
static const struct hf_jfield status_fields[] = {
	{"status", J_STATUS, true, CMD(u.order_op.status), 0, 0, 0, NULL, false},
	{"expect", J_STATUS, false, CMD(u.order_op.expect), 0, 0, 0, NULL, false},
};
static const struct hf_jfield token_fields[] = {
	{"customer", J_ID, true, offsetof(struct hf_body_extra, customer), 0, 1, HF_ID_LEN_MAX, NULL, true},
	{"ttl_s", J_U32, false, offsetof(struct hf_body_extra, ttl_s), 0, 1, HF_TOKEN_TTL_MAX_S, NULL, true},
};
static const struct hf_jfield clock_fields[] = {
	/* Ten years of test time in one call is more than any test needs. */
	{"advance_s", J_U32, true, offsetof(struct hf_body_extra, advance_s), 0, 1, 10u * 366u * 86400u, NULL, true},
};

/* Indexed by enum hf_body. */
static const struct hf_jschema bodies[HF_BODY_COUNT] = {
	[HF_BODY_NONE] = {0, 0, NULL},
	[HF_BODY_EVENT] = {0, N(event_fields), event_fields},
	[HF_BODY_BLOCK] = {0, N(block_fields), block_fields},
	[HF_BODY_ITEM] = {0, N(item_fields), item_fields},
	[HF_BODY_RESTOCK] = {0, N(restock_fields), restock_fields},
	[HF_BODY_HOLD_CREATE] = {0, N(hold_create_fields), hold_create_fields},
	[HF_BODY_LINES] = {0, N(lines_fields), lines_fields},
	[HF_BODY_EXTEND] = {0, N(extend_fields), extend_fields},
	[HF_BODY_ACT] = {0, N(act_fields), act_fields},
	[HF_BODY_STATUS] = {0, N(status_fields), status_fields},
	[HF_BODY_TOKEN] = {0, N(token_fields), token_fields},
	[HF_BODY_CLOCK] = {0, N(clock_fields), clock_fields},
	[HF_BODY_ORDER] = {0, N(order_fields), order_fields},
	[HF_BODY_CONFIRM] = {0, N(confirm_fields), confirm_fields},
};

/* ---- helpers ----------------------------------------------------------- */

static const char *const status_names[] = {"under_review", "packaged", "shipped", "delivered",
					   "canceled"};

const char *const hf_jsonin_orphan_rules[HF_ORPHAN_RULE_COUNT] = {
	[HF_ORPHAN_ALLOW] = "allow",
	[HF_ORPHAN_NO_SINGLE_GAPS] = "no_single_gaps",
};

int hf_jsonin_status(const char *s, size_t n)
{
	for (int i = 0; i < (int)N(status_names); i++)
		if (strlen(status_names[i]) == n && !memcmp(status_names[i], s, n))
			return i;
	return -1;
}

bool hf_jsonin_id_ok(const char *s, size_t n)
{
	if (n < 1 || n > HF_ID_LEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

uint64_t hf_jsonin_booking_id(char prefix, const char *s, size_t n)
{
	if (n < 3 || n > 22 || s[0] != prefix || s[1] != '-' || s[2] == '0')
		return 0;
	uint64_t v = 0;
	for (size_t i = 2; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

/* The path of the field being walked, kept as segments and only turned
 * into text when something fails (formatting it at every field was a
 * measured part of the request cost). Bodies nest at most 3 deep (a
 * field, an array index, a field); deeper segments are dropped from the
 * text, not from the walk. */
#define JIN_DEPTH_MAX 8

struct jin_seg {
	const char *name; /* NULL: an array index */
	long idx;
};

struct jin {
	struct hf_arena *arena;
	struct hf_jerr *err;
	struct jin_seg seg[JIN_DEPTH_MAX];
	size_t depth;
};

/* Writes the path ("seats[3].price") into out. Returns its length. */
static size_t jin_path(const struct jin *j, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < j->depth && i < JIN_DEPTH_MAX && n + 1 < cap; i++) {
		int w = j->seg[i].name
				? snprintf(out + n, cap - n, "%s%s", n ? "." : "", j->seg[i].name)
				: snprintf(out + n, cap - n, "[%ld]", j->seg[i].idx);
		if (w < 0)
			break;
		n = n + (size_t)w < cap ? n + (size_t)w : cap - 1;
	}
	return n;
}

__attribute__((format(printf, 3, 4))) static int jin_fail(struct jin *j, unsigned status,
							     const char *fmt, ...)
{
	struct hf_jerr *e = j->err;
	e->status = status;
	size_t plen = jin_path(j, e->path, sizeof(e->path));
	va_list ap;
	va_start(ap, fmt);
	char m[200];
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (plen)
		snprintf(e->msg, sizeof(e->msg), "%s: %s", e->path, m);
	else
		snprintf(e->msg, sizeof(e->msg), "%s", m);
	return -1;
}

/* Enters ".name" or "[i]"; returns the old depth to restore. */
static size_t path_push(struct jin *j, const char *name, long idx)
{
	size_t old = j->depth;
	if (j->depth < JIN_DEPTH_MAX)
		j->seg[j->depth] = (struct jin_seg){name, idx};
	j->depth++;
	return old;
}

static void path_pop(struct jin *j, size_t old) { j->depth = old; }

static int jin_string(struct jin *j, const json_t *v, const struct hf_jfield *f,
		      struct hf_str *out)
{
	if (!json_is_string(v))
		return jin_fail(j, 400, "expected a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (f->type == J_ID) {
		if (!hf_jsonin_id_ok(s, n))
			return jin_fail(j, 400,
					"expected an id: 1 to %d characters of A-Z a-z 0-9 . _ : -",
					HF_ID_LEN_MAX);
	} else if ((int64_t)n < f->min || (int64_t)n > f->max) {
		return jin_fail(j, 400, "expected %lld to %lld bytes of text", (long long)f->min,
				(long long)f->max);
	}
	char *p = hf_arena_strndup(j->arena, s, n);
	if (!p)
		return jin_fail(j, 503, "out of memory");
	out->ptr = p;
	out->len = (uint32_t)n;
	return 0;
}

static int jin_int(struct jin *j, const json_t *v, const struct hf_jfield *f, int64_t *out)
{
	if (!json_is_integer(v))
		return jin_fail(j, 400, "expected an integer from %lld to %lld",
				(long long)f->min, (long long)f->max);
	json_int_t x = json_integer_value(v);
	if (x < f->min || x > f->max)
		return jin_fail(j, 400, "expected an integer from %lld to %lld",
				(long long)f->min, (long long)f->max);
	*out = (int64_t)x;
	return 0;
}

static int jin_object(struct jin *j, const json_t *obj, const struct hf_jschema *s, void *target,
		      void *extra);

static int jin_value(struct jin *j, const json_t *v, const struct hf_jfield *f, void *base)
{
	char *at = (char *)base + f->off;
	int64_t x = 0;
	switch (f->type) {
	case J_ID:
	case J_NAME:
	case J_TEXT:
		return jin_string(j, v, f, (struct hf_str *)at);
	case J_TIME: {
		if (!json_is_string(v))
			return jin_fail(j, 400, "expected an RFC 3339 time string");
		int64_t ms;
		if (hf_time_parse(json_string_value(v), json_string_length(v), &ms) < 0)
			return jin_fail(j, 400,
					"expected an RFC 3339 time like 2026-11-22T20:00:00Z");
		memcpy(at, &ms, sizeof(ms));
		return 0;
	}
	case J_U32: {
		if (jin_int(j, v, f, &x) < 0)
			return -1;
		uint32_t u = (uint32_t)x;
		memcpy(at, &u, sizeof(u));
		return 0;
	}
	case J_I32: {
		if (jin_int(j, v, f, &x) < 0)
			return -1;
		int32_t i = (int32_t)x;
		memcpy(at, &i, sizeof(i));
		return 0;
	}
	case J_I64:
		if (jin_int(j, v, f, &x) < 0)
			return -1;
		memcpy(at, &x, sizeof(x));
		return 0;
	case J_BOOL: {
		if (!json_is_boolean(v))
			return jin_fail(j, 400, "expected true or false");
		bool b = json_is_true(v);
		memcpy(at, &b, sizeof(b));
		return 0;
	}
	case J_STATUS: {
		int st = json_is_string(v)
				 ? hf_jsonin_status(json_string_value(v), json_string_length(v))
				 : -1;
		if (st < 0)
			return jin_fail(j, 400,
					"expected one of under_review, packaged, shipped, delivered, canceled");
		uint8_t u = (uint8_t)st;
		memcpy(at, &u, sizeof(u));
		return 0;
	}
	case J_ORPHAN: {
		int rule = -1;
		for (int i = 0; json_is_string(v) && i < HF_ORPHAN_RULE_COUNT; i++)
			if (!strcmp(json_string_value(v), hf_jsonin_orphan_rules[i]) &&
			    strlen(hf_jsonin_orphan_rules[i]) == json_string_length(v))
				rule = i;
		if (rule < 0)
			return jin_fail(j, 400, "expected one of allow, no_single_gaps");
		uint8_t u = (uint8_t)rule;
		memcpy(at, &u, sizeof(u));
		return 0;
	}
	case J_OBJECT:
		return jin_object(j, v, f->elem, at, NULL);
	case J_OBJECTS:
	case J_IDS: {
		if (!json_is_array(v))
			return jin_fail(j, 400, "expected an array");
		size_t n = json_array_size(v);
		if ((int64_t)n < f->min)
			return jin_fail(j, 400, "expected at least %lld elements", (long long)f->min);
		if ((int64_t)n > f->max)
			return jin_fail(j, 413, "at most %lld elements are allowed", (long long)f->max);
		size_t esz = f->type == J_IDS ? sizeof(struct hf_str) : f->elem->elem_size;
		char *arr = n ? hf_arena_alloc(j->arena, n * esz) : NULL;
		if (n && !arr)
			return jin_fail(j, 503, "out of memory");
		for (size_t i = 0; i < n; i++) {
			size_t old = path_push(j, NULL, (long)i);
			const json_t *e = json_array_get(v, i);
			int rc;
			if (f->type == J_IDS) {
				struct hf_jfield idf = {"", J_ID, true, 0, 0, 1, HF_ID_LEN_MAX, NULL, false};
				rc = jin_string(j, e, &idf, (struct hf_str *)(arr + i * esz));
			} else {
				rc = jin_object(j, e, f->elem, arr + i * esz, NULL);
			}
			if (rc < 0)
				return -1;
			path_pop(j, old);
		}
		const void *p = arr;
		uint32_t cnt = (uint32_t)n;
		memcpy(at, &p, sizeof(p));
		memcpy((char *)base + f->count_off, &cnt, sizeof(cnt));
		return 0;
	}
	}
	HF_UNREACHABLE();
	return -1;
}

/* Fails on the first key of obj that is not one of n names; names[k] is
 * found `stride` bytes after names[k - 1], so a schema's field table
 * serves as well as an array of names. A typo must not be silently
 * ignored. */
static int only_known_fields(struct jin *j, const json_t *obj, const char *const *names,
			     size_t stride, size_t n)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		size_t k = 0;
		while (k < n && strcmp(*(const char *const *)((const char *)names + k * stride), key))
			k++;
		if (k < n)
			continue;
		char where[128];
		size_t wn = jin_path(j, where, sizeof(where));
		size_t old = path_push(j, key, 0);
		jin_fail(j, 400, "unknown field");
		path_pop(j, old);
		/* The message names the field even when the path is cut. */
		snprintf(j->err->msg, sizeof(j->err->msg), "unknown field '%.100s'%s%.100s", key,
			 wn ? " in " : "", where);
		return -1;
	}
	return 0;
}

/* Checks obj against schema s: unknown fields first, then each field in
 * table order. */
static int jin_object(struct jin *j, const json_t *obj, const struct hf_jschema *s, void *target,
		      void *extra)
{
	if (!json_is_object(obj))
		return jin_fail(j, 400, "expected an object");
	if (only_known_fields(j, obj, s->n ? &s->fields[0].name : NULL, sizeof(s->fields[0]), s->n) < 0)
		return -1;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct hf_jfield *f = &s->fields[i];
		const json_t *fv = json_object_get(obj, f->name);
		size_t old = path_push(j, f->name, 0);
		if (!fv || json_is_null(fv)) {
			if (f->required)
				return jin_fail(j, 400, "required field is missing");
		} else if (jin_value(j, fv, f, f->extra ? extra : target) < 0) {
			return -1;
		}
		path_pop(j, old);
	}
	return 0;
}

/* jansson allocates the tree of a body in the request's arena while it is
 * read: a tree is a few dozen small allocations per operation, and malloc,
 * free and json_delete were a fifth of a batch's cost. The arena is the
 * calling thread's and set only around a parse (with_arena), so anything
 * else keeps malloc; a tree never outlives its parse, and is never
 * decref'd: the arena's reset frees it whole. */
static _Thread_local struct hf_arena *tree_arena;

static void *tree_malloc(size_t n)
{
	return tree_arena ? hf_arena_alloc_raw(tree_arena, n) : malloc(n);
}

static void tree_free(void *p)
{
	if (!tree_arena)
		free(p);
}

static void tree_alloc_init(void) { json_set_alloc_funcs(tree_malloc, tree_free); }

static void with_arena(struct hf_arena *a)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, tree_alloc_init);
	tree_arena = a;
}

/* A body as the walker reads it: the status body's "expect" defaults to
 * any status. */
static int parse_root(struct jin *j, const json_t *root, enum hf_body which, struct hf_cmd *cmd,
		      struct hf_body_extra *extra)
{
	HF_ASSERT(which < HF_BODY_COUNT);
	if (which == HF_BODY_STATUS)
		cmd->u.order_op.expect = HF_ORDER_STATUS_ANY;
	return jin_object(j, root, &bodies[which], cmd, extra);
}

uint64_t hf_jsonin_fp_seed(const char *method, const char *path)
{
	uint64_t h = hf_hash_bytes(method, strlen(method), 0x686f6c64);
	return hf_hash_bytes(path, strlen(path) + 1, h);
}

/* The fingerprint of an accepted body: its JSON in one canonical form
 * (compact, keys sorted), so a retry that spells the same body otherwise
 * (spaces, key order) is the same request. */
static int fingerprint(struct jin *j, const json_t *v, uint64_t seed, uint64_t *out)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		return jin_fail(j, 503, "out of memory");
	*out = hf_hash_bytes(text, strlen(text), seed); /* text is in the arena */
	return 0;
}

static json_t *load(struct jin *j, const char *body, size_t len)
{
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len)
		body = "{}", len = 2;
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		jin_fail(j, 400, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
	return root;
}

int hf_jsonin_parse_keyed(enum hf_body which, const char *body, size_t len,
			  struct hf_arena *arena, struct hf_cmd *cmd, struct hf_body_extra *extra,
			  struct hf_jerr *err, uint64_t fp_seed, uint64_t *fp)
{
	memset(err, 0, sizeof(*err));
	memset(extra, 0, sizeof(*extra));
	struct jin j = {.arena = arena, .err = err};
	with_arena(arena);
	json_t *root = load(&j, body, len);
	int rc = -1;
	if (root)
		rc = parse_root(&j, root, which, cmd, extra);
	if (rc == 0 && fp)
		rc = fingerprint(&j, root, fp_seed, fp);
	with_arena(NULL);
	return rc;
}

int hf_jsonin_parse(enum hf_body which, const char *body, size_t len, struct hf_arena *arena,
		    struct hf_cmd *cmd, struct hf_body_extra *extra, struct hf_jerr *err)
{
	return hf_jsonin_parse_keyed(which, body, len, arena, cmd, extra, err, 0, NULL);
}

/* ---- POST /batch ------------------------------------------------------- */

/* A string member of an operation, copied into the arena; absent: *out
 * stays NULL (an error when required). */
static int op_string(struct jin *j, const json_t *op, const char *name, bool required,
		     size_t max, const char **out)
{
	const json_t *v = json_object_get(op, name);
	size_t old = path_push(j, name, 0);
	if (!v || json_is_null(v)) {
		if (required)
			return jin_fail(j, 400, "required field is missing");
		path_pop(j, old);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > max)
		return jin_fail(j, 400, "expected a string of 1 to %zu bytes", max);
	*out = hf_arena_strndup(j->arena, json_string_value(v), json_string_length(v));
	if (!*out)
		return jin_fail(j, 503, "out of memory");
	path_pop(j, old);
	return 0;
}

static const char *const op_fields[] = {"method", "path", "body", "idempotency_key"};

static int parse_op(struct jin *j, const json_t *v, uint32_t i, hf_batch_route_fn route,
		    void *ctx, struct hf_batch_op *op)
{
	if (!json_is_object(v))
		return jin_fail(j, 400, "expected an object {\"method\", \"path\", \"body\"?, \"idempotency_key\"?}");
	if (only_known_fields(j, v, op_fields, sizeof(op_fields[0]), N(op_fields)) < 0)
		return -1;
	if (op_string(j, v, "method", true, HF_BATCH_METHOD_MAX, &op->method) < 0 ||
	    op_string(j, v, "path", true, HF_BATCH_PATH_MAX, &op->path) < 0 ||
	    op_string(j, v, "idempotency_key", false, HF_BATCH_PATH_MAX, &op->idem_key) < 0)
		return -1;
	op->body = route(ctx, i, op->method, op->path);
	if (op->body < 0)
		return 0; /* the caller answers this operation; its body is not read */
	/* The operation's own errors are its answer, not the batch's. */
	const json_t *b = json_object_get(v, "body");
	if (!b || json_is_null(b))
		b = json_object();
	struct jin oj = {.arena = j->arena, .err = &op->err};
	int rc = b ? parse_root(&oj, b, (enum hf_body)op->body, &op->cmd, &op->extra)
		   : jin_fail(&oj, 503, "out of memory");
	if (rc == 0 && op->idem_key)
		rc = fingerprint(&oj, b, hf_jsonin_fp_seed(op->method, op->path), &op->fingerprint);
	op->parsed = rc == 0;
	return 0;
}

int hf_jsonin_parse_batch(const char *body, size_t len, struct hf_arena *arena,
			  hf_batch_route_fn route, void *ctx, struct hf_batch_op **ops,
			  uint32_t *n_ops, struct hf_jerr *err)
{
	memset(err, 0, sizeof(*err));
	*ops = NULL;
	*n_ops = 0;
	struct jin j = {.arena = arena, .err = err};
	with_arena(arena);
	int rc = -1;
	json_t *root = load(&j, body, len);
	if (!root)
		goto out;
	if (!json_is_object(root)) {
		jin_fail(&j, 400, "expected an object {\"ops\": [...]}");
		goto out;
	}
	static const char *const envelope_fields[] = {"ops"};
	if (only_known_fields(&j, root, envelope_fields, sizeof(envelope_fields[0]), 1) < 0)
		goto out;
	const json_t *arr = json_object_get(root, "ops");
	path_push(&j, "ops", 0);
	if (!arr) {
		jin_fail(&j, 400, "required field is missing");
		goto out;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		jin_fail(&j, 400, "expected an array of 1 to %u operations", HF_BATCH_OPS_MAX);
		goto out;
	}
	size_t n = json_array_size(arr);
	if (n > HF_BATCH_OPS_MAX) {
		jin_fail(&j, 413, "at most %u operations are allowed in one batch", HF_BATCH_OPS_MAX);
		goto out;
	}
	struct hf_batch_op *o = hf_arena_alloc(arena, n * sizeof(*o));
	if (!o) {
		jin_fail(&j, 503, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		path_push(&j, NULL, (long)i);
		if (parse_op(&j, json_array_get(arr, i), (uint32_t)i, route, ctx, &o[i]) < 0)
			goto out;
		path_pop(&j, 1);
	}
	*ops = o;
	*n_ops = (uint32_t)n;
	rc = 0;
out:
	with_arena(NULL);
	return rc;
}
