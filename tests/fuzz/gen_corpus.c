/*
 * gen_corpus.c: writes the seed corpora of the fuzz targets.
 *
 * Usage: fuzz-gen-corpus OUTDIR
 *   writes OUTDIR/<target>/seed-* for every target (existing files of those names are
 *   replaced; crash inputs and other files are left alone). scripts/fuzz.sh
 *   --seed-corpus runs it on tests/fuzz/corpus.
 *
 * Seeds are valid inputs, built from the fixture of fuzz.h (so their
 * commands name ids that exist) and applied to it on the same clock as
 * fuzz_cmd_decode.c (one minute per command; a TICK moves by its
 * fingerprint), so that:
 *   cmd_decode    gets every command type, alone and in sequences that
 *                 reach confirm, cancel, status moves, expiry, idempotent
 *                 replays, sale windows, per-customer limits and full
 *                 tables;
 *   reply_decode  gets one real reply per (result, kind, replayed) the
 *                 sequences produced, plus a hand-made maximal one;
 *   snapshot_read gets real snapshots of the empty state, the fixture and
 *                 the state at the end of each sequence (native layout: a
 *                 snapshot is only read by the build that wrote it);
 *   wal_open      gets data directories written by the wal itself (through
 *                 memfs): the fixture's commands and more as log records in
 *                 group commits over several small segments, with and
 *                 without a snapshot, one with a torn last write, and one
 *                 with the checksum-repair flag set (fuzz_wal_open.c has
 *                 the container layout);
 *   http_request  gets one valid request per route (method, path, body as
 *                 docs/API.md shows them), naming the fixture's ids;
 *   api_request   gets whole requests with credentials: one per route, the
 *                 authorization matrix's corners, sequences (hold -> confirm
 *                 -> cancel, idempotent retries, stock and seats running
 *                 out, order status moves), POST /batch (operations of
 *                 every kind, retries, the envelope's errors) and the
 *                 generic checks (415, 405, 404, 431, escaped paths, list
 *                 arguments);
 *   token_verify  gets tokens minted by the server's own code for the
 *                 fixture's secret, valid, expired and tampered, and the
 *                 admin key.
 * The output depends only on this file, fuzz_common.c and the core, so
 * running it again gives the same bytes unless one of them changed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/limits.h"
#include "fuzz.h"
#include "memfs.h"
#include "wal/wal.h"
#ifdef HF_FUZZ_WITH_SERVER
#include "server/auth.h"
#endif

#define TICK_SPAN_MS (49 * HF_FUZZ_HOUR)

static const char *outdir;

static void write_file(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		hf_fuzz_fail("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/seed-%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		hf_fuzz_fail("cannot write %s", path);
	printf("%s (%zu bytes)\n", path, n);
}

/* ---- replies seen, one per (result, kind, replayed) --------------------- */

static bool seen[HF_RESULT_COUNT][HF_REPLY_ORDER + 1][2];

static void keep_reply(const struct hf_reply *r)
{
	if (seen[r->result][r->kind][r->replayed])
		return;
	seen[r->result][r->kind][r->replayed] = true;
	uint8_t buf[HF_REPLY_BYTES_MAX];
	int64_t n = hf_reply_encode(r, buf, sizeof(buf));
	if (n <= 0)
		hf_fuzz_fail("a reply does not encode");
	char name[96];
	snprintf(name, sizeof(name), "%s-%u%s", hf_result_name((enum hf_result)r->result),
		 (unsigned)r->kind, r->replayed ? "-replayed" : "");
	write_file("reply_decode", name, buf, (size_t)n);
}

/* ---- a sequence: encoded commands back to back, applied as they go ------ */

struct seq {
	const char *name;
	uint8_t bytes[16384];
	size_t len;
	struct hf_sm *sm;
	int64_t now;
};

static void seq_begin(struct seq *s, const char *name)
{
	s->name = name;
	s->len = 0;
	s->sm = hf_fuzz_sm_new();
	s->now = HF_FUZZ_T0;
}

/* Appends c's encoding and applies it as fuzz_cmd_decode.c will. */
static const struct hf_reply *seq_add(struct seq *s, struct hf_cmd c)
{
	static struct hf_reply reply;
	int64_t n = hf_cmd_encode(&c, s->bytes + s->len, sizeof(s->bytes) - s->len);
	if (n <= 0)
		hf_fuzz_fail("%s: a %s does not encode", s->name,
			     hf_cmd_type_name((enum hf_cmd_type)c.type));
	s->len += (size_t)n;
	int64_t at;
	if (c.type == HF_CMD_TICK) {
		int64_t delta = (int64_t)(c.idem_fingerprint % (uint64_t)TICK_SPAN_MS);
		at = c.idem_fingerprint >> 63 ? s->now - delta : (s->now += delta);
	} else {
		at = s->now += HF_FUZZ_MIN;
	}
	hf_fuzz_apply(s->sm, at, &c, &reply, s->name);
	keep_reply(&reply);
	return &reply;
}

static void write_snapshot(const struct hf_sm *sm, const char *name)
{
	size_t n = hf_sm_snapshot_size(sm);
	uint8_t *buf = malloc(n);
	if (!buf)
		hf_fuzz_fail("out of memory");
	hf_sm_snapshot_write(sm, buf, n);
	write_file("snapshot_read", name, buf, n);
	free(buf);
}

static void seq_end(struct seq *s, bool snapshot)
{
	write_file("cmd_decode", s->name, s->bytes, s->len);
	if (snapshot)
		write_snapshot(s->sm, s->name);
	hf_sm_free(s->sm);
}

/* ---- command builders ---------------------------------------------------- */

static struct hf_str str(const char *s)
{
	return hf_str_c(s);
}

/* Splits "a,b,c" (or "E:s,E:s" with pairs) into strings pointing into a
 * static copy; each builder call has its own copy slot (see lines()). */
static uint32_t split(char *copy, struct hf_str *out, uint32_t max)
{
	uint32_t n = 0;
	char *p = copy;
	while (*p && n < max) {
		char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		out[n++] = (struct hf_str){p, (uint32_t)len};
		if (!end)
			break;
		p = end + 1;
	}
	return n;
}

/* Lines: seats "E1:A-4,E1:A-5", items "I1*3p,I2*1" (p: partial). */
static struct hf_cmd lines(uint8_t type, const char *customer, uint64_t hold, uint32_t ttl_s,
			   const char *seats, const char *items)
{
	static char seat_copy[1024], item_copy[1024];
	static struct hf_seat_ref seat_refs[HF_HOLD_SEATS_MAX];
	static struct hf_item_ref item_refs[HF_HOLD_ITEMS_MAX];
	struct hf_str parts[HF_HOLD_SEATS_MAX];
	struct hf_cmd c = {.type = type, .customer = str(customer)};
	c.u.lines.hold = hold;
	c.u.lines.ttl_s = ttl_s;
	snprintf(seat_copy, sizeof(seat_copy), "%s", seats ? seats : "");
	uint32_t ns = split(seat_copy, parts, HF_HOLD_SEATS_MAX);
	for (uint32_t i = 0; i < ns; i++) {
		const char *colon = memchr(parts[i].ptr, ':', parts[i].len);
		if (!colon)
			hf_fuzz_fail("seat spec without ':'");
		uint32_t el = (uint32_t)(colon - parts[i].ptr);
		seat_refs[i].event = (struct hf_str){parts[i].ptr, el};
		seat_refs[i].seat = (struct hf_str){colon + 1, parts[i].len - el - 1};
	}
	snprintf(item_copy, sizeof(item_copy), "%s", items ? items : "");
	uint32_t ni = split(item_copy, parts, HF_HOLD_ITEMS_MAX);
	for (uint32_t i = 0; i < ni; i++) {
		const char *star = memchr(parts[i].ptr, '*', parts[i].len);
		if (!star)
			hf_fuzz_fail("item spec without '*'");
		uint32_t il = (uint32_t)(star - parts[i].ptr);
		item_refs[i].item = (struct hf_str){parts[i].ptr, il};
		item_refs[i].quantity = (uint32_t)strtoul(star + 1, NULL, 10);
		item_refs[i].partial = parts[i].ptr[parts[i].len - 1] == 'p';
	}
	c.u.lines.n_seats = ns;
	c.u.lines.seats = ns ? seat_refs : NULL;
	c.u.lines.n_items = ni;
	c.u.lines.items = ni ? item_refs : NULL;
	return c;
}

static struct hf_cmd tick(int64_t ms)
{
	struct hf_cmd c = {.type = HF_CMD_TICK};
	c.idem_fingerprint = ms >= 0 ? (uint64_t)ms : ((uint64_t)-ms | 1ull << 63);
	return c;
}

static struct hf_cmd hold_op(uint8_t type, const char *customer, uint64_t hold, uint32_t ttl_s)
{
	struct hf_cmd c = {.type = type, .customer = str(customer)};
	c.u.hold_op.hold = hold;
	c.u.hold_op.ttl_s = ttl_s;
	return c;
}

static struct hf_cmd order_op(uint8_t type, const char *customer, uint64_t order, uint8_t status,
			      uint8_t expect)
{
	struct hf_cmd c = {.type = type, .customer = str(customer)};
	c.u.order_op.order = order;
	c.u.order_op.status = status;
	c.u.order_op.expect = expect;
	return c;
}

static struct hf_cmd admin(struct hf_cmd c)
{
	c.admin = true;
	return c;
}

static struct hf_cmd keyed(struct hf_cmd c, const char *key, uint64_t fingerprint)
{
	c.idem_key = str(key);
	c.idem_fingerprint = fingerprint;
	return c;
}

/* An event with seats "1".."n" (section "S", row "R", number i) at price. */
static struct hf_cmd event(const char *id, uint32_t n, int64_t price)
{
	static struct hf_seat_spec specs[64];
	static char names[64][8];
	if (n > 64)
		hf_fuzz_fail("event builder: too many seats");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "%u", i + 1);
		specs[i] = (struct hf_seat_spec){str(names[i]), str("S"), str("R"), str(""),
						 (int32_t)(i + 1), price};
	}
	struct hf_cmd c = {.type = HF_CMD_EVENT_CREATE, .admin = true};
	c.u.event_create.id = str(id);
	c.u.event_create.name = str("Event");
	c.u.event_create.starts_at_ms = HF_FUZZ_T0 + 72 * HF_FUZZ_HOUR;
	c.u.event_create.n_seats = n;
	c.u.event_create.seats = specs;
	return c;
}

static struct hf_cmd block(uint8_t type, const char *event_id, const char *csv)
{
	static char copy[512];
	static struct hf_str seats[64];
	snprintf(copy, sizeof(copy), "%s", csv);
	struct hf_cmd c = {.type = type, .admin = true};
	c.u.seats_block.event = str(event_id);
	c.u.seats_block.n_seats = split(copy, seats, 64);
	c.u.seats_block.seats = seats;
	return c;
}

static struct hf_cmd item(const char *id, int64_t price, uint32_t stock)
{
	struct hf_cmd c = {.type = HF_CMD_ITEM_CREATE, .admin = true};
	c.u.item_create.id = str(id);
	c.u.item_create.name = str("Thing");
	c.u.item_create.category = str("cat");
	c.u.item_create.price = price;
	c.u.item_create.stock = stock;
	return c;
}

static struct hf_cmd restock(const char *id, uint32_t quantity)
{
	struct hf_cmd c = {.type = HF_CMD_ITEM_RESTOCK, .admin = true};
	c.u.item_restock.item = str(id);
	c.u.item_restock.quantity = quantity;
	return c;
}

/* ---- the seeds ------------------------------------------------------------ */

/* One command of each type, alone, each accepted by the fixture. Built
 * one at a time: the builders share static arrays. */
static const char *const single_names[] = {
	"tick", "event_create", "seats_block", "seats_unblock", "item_create",
	"item_restock", "hold_create", "hold_add", "hold_remove", "hold_extend",
	"hold_release", "hold_confirm", "order_create", "order_cancel", "order_status",
};

static struct hf_cmd single(size_t i)
{
	switch (i) {
	case 0: return tick(10 * HF_FUZZ_MIN);
	case 1: return event("E3", 3, 1500);
	case 2: return block(HF_CMD_SEATS_BLOCK, "E1", "A-6,A-7");
	case 3: return block(HF_CMD_SEATS_UNBLOCK, "E1", "A-8");
	case 4: return item("I3", 99, 100);
	case 5: return restock("I2", 5);
	case 6: return lines(HF_CMD_HOLD_CREATE, "dave", 0, 120, "E1:A-4,E1:A-5", "I1*3p,I1*1p");
	case 7: return lines(HF_CMD_HOLD_ADD, "alice", 1, 0, "E1:A-6", "I1*1");
	case 8: return lines(HF_CMD_HOLD_REMOVE, "alice", 1, 0, "E1:A-1", "I1*1");
	case 9: return hold_op(HF_CMD_HOLD_EXTEND, "alice", 1, 1800);
	case 10: return hold_op(HF_CMD_HOLD_RELEASE, "alice", 1, 0);
	case 11: return hold_op(HF_CMD_HOLD_CONFIRM, "alice", 1, 0);
	case 12: return lines(HF_CMD_ORDER_CREATE, "erin", 0, 0, "E2:2,E2:3", NULL);
	case 13: return order_op(HF_CMD_ORDER_CANCEL, "bob", 1, 0, 0);
	default:
		return admin(order_op(HF_CMD_ORDER_STATUS, "", 1, HF_ORDER_PACKAGED,
				      HF_ORDER_UNDER_REVIEW));
	}
}

static void singles(void)
{
	struct seq s;
	for (size_t i = 0; i < sizeof(single_names) / sizeof(single_names[0]); i++) {
		seq_begin(&s, single_names[i]);
		const struct hf_reply *r = seq_add(&s, single(i));
		if (r->result != HF_OK)
			hf_fuzz_fail("seed %s: %s", single_names[i],
				     hf_result_name((enum hf_result)r->result));
		seq_end(&s, false);
	}
}

static void sequences(void)
{
	struct seq s;
	const struct hf_reply *r;

	/* A hold's whole life: create, add, remove, extend, confirm, then
	 * the order's status moves and a refused move back. */
	seq_begin(&s, "seq-hold-life");
	r = seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 600, "E1:A-4", "I1*2"));
	uint64_t h = r->booking.id;
	seq_add(&s, lines(HF_CMD_HOLD_ADD, "dave", h, 0, "E1:A-5,E1:A-6", "I1*1,I2*1p"));
	seq_add(&s, lines(HF_CMD_HOLD_REMOVE, "dave", h, 0, "E1:A-6", "I1*2"));
	seq_add(&s, hold_op(HF_CMD_HOLD_EXTEND, "dave", h, 3600));
	r = seq_add(&s, hold_op(HF_CMD_HOLD_CONFIRM, "dave", h, 0));
	uint64_t o = r->booking.id;
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", o, HF_ORDER_PACKAGED, 255)));
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", o, HF_ORDER_SHIPPED, HF_ORDER_PACKAGED)));
	seq_add(&s, order_op(HF_CMD_ORDER_CANCEL, "dave", o, 0, 0));
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", o, HF_ORDER_UNDER_REVIEW, 255)));
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", o, HF_ORDER_DELIVERED, HF_ORDER_PACKAGED)));
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", o, HF_ORDER_DELIVERED, 255)));
	seq_end(&s, true);

	/* Idempotency: a replay, a reused key, new keys until the ring and
	 * its bytes wrap, then retention runs out. */
	seq_begin(&s, "seq-idempotency");
	seq_add(&s, keyed(lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, NULL, "I1*1p"), "k1", 42));
	seq_add(&s, keyed(lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, NULL, "I1*1p"), "k1", 43));
	seq_add(&s, keyed(lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, "E1:A-1", NULL), "b-1", 1));
	seq_add(&s, keyed(lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, "E1:A-4", NULL), "b-2", 2));
	seq_add(&s, keyed(hold_op(HF_CMD_HOLD_CONFIRM, "alice", 1, 0), "c-1", 3));
	seq_add(&s, keyed(hold_op(HF_CMD_HOLD_CONFIRM, "alice", 1, 0), "c-1", 3));
	seq_add(&s, keyed(order_op(HF_CMD_ORDER_CANCEL, "bob", 1, 0, 0), "x-1", 4));
	seq_add(&s, keyed(order_op(HF_CMD_ORDER_CANCEL, "bob", 1, 0, 0), "bad key!", 4));
	seq_add(&s, tick(2 * HF_FUZZ_HOUR));
	seq_add(&s, keyed(lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, NULL, "I1*1p"), "k1", 43));
	seq_end(&s, true);

	/* Expiry: short holds, a jump past them, operations on the expired
	 * hold, a clock sent backwards. */
	seq_begin(&s, "seq-expiry");
	r = seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 5, "E1:A-4", "I1*1"));
	h = r->booking.id;
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "erin", 0, 90, "E1:A-5", NULL));
	seq_add(&s, tick(-HF_FUZZ_HOUR));
	seq_add(&s, hold_op(HF_CMD_HOLD_CONFIRM, "dave", h, 0));
	seq_add(&s, hold_op(HF_CMD_HOLD_EXTEND, "dave", h, 60));
	seq_add(&s, tick(10 * HF_FUZZ_MIN));
	seq_add(&s, hold_op(HF_CMD_HOLD_RELEASE, "alice", 1, 0));
	seq_add(&s, hold_op(HF_CMD_HOLD_RELEASE, "alice", 1, 0));
	seq_add(&s, tick(3 * HF_FUZZ_HOUR));
	seq_end(&s, true);

	/* Choosing seats: an event that refuses single gaps, best available
	 * (side by side, spread, too few, stranding), late payment. */
	seq_begin(&s, "seq-choosing");
	struct hf_cmd strict = event("E4", 6, 900);
	strict.u.event_create.orphan_rule = HF_ORPHAN_NO_SINGLE_GAPS;
	seq_add(&s, strict);
	struct hf_cmd pick = lines(HF_CMD_HOLD_CREATE, "dave", 0, 30, NULL, NULL);
	pick.u.lines.best = (struct hf_best){str("E4"), {0}, {0}, 2};
	r = seq_add(&s, pick);
	h = r->booking.id;
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "erin", 0, 0, "E4:2", NULL)); /* strands 1 */
	pick.u.lines.best.count = 5; /* too few */
	seq_add(&s, pick);
	pick.u.lines.best = (struct hf_best){str("E1"), str("A"), str("vip"), 1};
	seq_add(&s, pick);
	pick.type = HF_CMD_ORDER_CREATE;
	pick.u.lines.best = (struct hf_best){str("E2"), {0}, {0}, 2};
	seq_add(&s, pick);
	seq_add(&s, tick(2 * HF_FUZZ_MIN));
	struct hf_cmd late = admin(hold_op(HF_CMD_HOLD_CONFIRM, "", h, 0));
	late.u.hold_op.accept_late = true;
	seq_add(&s, late);
	seq_add(&s, late);
	seq_end(&s, true);

	/* Every refusal of taking inventory, in the order they are checked. */
	seq_begin(&s, "seq-refusals");
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E9:1", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E1:Z-1,E1:A-1", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, NULL, "I9*1"));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E2:2,E2:3,E2:4", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E1:A-1,E1:A-3", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E1:A-8", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, NULL, "I2*5"));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E1:A-4,E1:A-4", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "", 0, 0, "E1:A-4", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_ADD, "dave", 1, 0, "E1:A-4", NULL));
	seq_add(&s, hold_op(HF_CMD_HOLD_CONFIRM, "dave", 77, 0));
	seq_add(&s, order_op(HF_CMD_ORDER_CANCEL, "dave", 1, 0, 0));
	seq_add(&s, order_op(HF_CMD_ORDER_CANCEL, "dave", 99, 0, 0));
	seq_add(&s, order_op(HF_CMD_ORDER_STATUS, "bob", 1, HF_ORDER_PACKAGED, 255));
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", 1, 9, 255)));
	seq_add(&s, admin(order_op(HF_CMD_ORDER_STATUS, "", 1, HF_ORDER_SHIPPED, HF_ORDER_PACKAGED)));
	seq_add(&s, restock("I1", 0));
	seq_add(&s, restock("I1", 2000000000u));
	seq_add(&s, event("E1", 2, 10));
	seq_add(&s, block(HF_CMD_SEATS_BLOCK, "E1", "A-1,A-2,Q"));
	seq_add(&s, block(HF_CMD_SEATS_BLOCK, "E1", "A-1,A-3"));
	seq_add(&s, tick(3 * HF_FUZZ_HOUR));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E2:2", NULL));
	seq_end(&s, true);

	/* Full tables: events, seats, items, customers, hold slots (ended
	 * ones recycled), orders, lines. */
	seq_begin(&s, "seq-capacity");
	seq_add(&s, event("E3", 20, 100));
	seq_add(&s, event("E4", 20, 100));
	seq_add(&s, event("E5", 2, 100));
	seq_add(&s, item("I3", 10, 1000));
	seq_add(&s, item("I4", 10, 1000));
	seq_add(&s, item("I5", 10, 1000));
	static const char *const who[] = {"c1", "c2", "c3", "c4", "c5", "c6", "c7"};
	for (int i = 0; i < 7; i++) {
		char seat[16];
		snprintf(seat, sizeof(seat), "E3:%d", i + 1);
		r = seq_add(&s, lines(HF_CMD_HOLD_CREATE, who[i], 0, 60, seat, "I3*1,I4*2"));
	}
	for (int i = 0; i < 7; i++) {
		char seat[16];
		snprintf(seat, sizeof(seat), "E4:%d", i + 1);
		seq_add(&s, lines(HF_CMD_ORDER_CREATE, who[i], 0, 0, seat, "I4*1"));
	}
	seq_end(&s, true);

	/* Sale windows and per-customer limits of E2, then the window closes. */
	seq_begin(&s, "seq-sale-window");
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "erin", 0, 0, "E2:2", NULL));
	seq_add(&s, lines(HF_CMD_ORDER_CREATE, "erin", 0, 0, "E2:3", NULL));
	seq_add(&s, lines(HF_CMD_HOLD_CREATE, "erin", 0, 0, "E2:4", NULL));
	seq_add(&s, tick(2 * HF_FUZZ_HOUR));
	seq_add(&s, lines(HF_CMD_ORDER_CREATE, "dave", 0, 0, "E2:4", NULL));
	seq_add(&s, admin(lines(HF_CMD_HOLD_CREATE, "frank", 0, 0, NULL, "I1*20p")));
	seq_end(&s, true);
}

/* ---- data directories for wal_open ------------------------------------------ */

/* Writes a directory the way the engine does: records sealed into a
 * group-commit buffer, appended GROUP at a time, the state applied beside
 * them (for snapshots). */
struct walgen {
	struct memfs *m;
	struct hf_wal *w;
	struct hf_sm *sm;
	uint64_t seq;   /* last sealed */
	uint64_t first; /* first seq of the pending group */
	int64_t now;
	uint8_t group[16384];
	size_t len;
	uint32_t idx;
};

#define WG_GROUP 3u

static FILE *devnull(void)
{
	static FILE *f;
	if (!f)
		f = fopen("/dev/null", "w");
	return f ? f : stderr;
}

static void wg_begin(struct walgen *g)
{
	memset(g, 0, sizeof(*g));
	g->m = memfs_new();
	struct hf_wal_options opt = {.vfs = memfs_vfs(g->m), .dir = "/fuzz", .fsync = true,
				     .segment_bytes = HF_WAL_SEGMENT_BYTES_MIN, .log = devnull()};
	struct hf_sm_config cfg;
	hf_fuzz_config(&cfg);
	struct hf_wal_recovery rec;
	char err[512] = "";
	if (hf_wal_open(&opt, &cfg, false, &g->w, &g->sm, &rec, err, sizeof(err)) != 0)
		hf_fuzz_fail("wal seed: open: %s", err);
	g->now = HF_FUZZ_T0;
}

static void wg_commit(struct walgen *g)
{
	if (!g->len)
		return;
	uint64_t sync_us;
	char err[512] = "";
	if (hf_wal_append(g->w, g->group, g->len, g->first, g->seq, &sync_us, err, sizeof(err)))
		hf_fuzz_fail("wal seed: append: %s", err);
	g->len = 0;
	g->idx = 0;
}

static const struct hf_reply *wg_add(struct walgen *g, struct hf_cmd c, int64_t now)
{
	size_t n = hf_cmd_encoded_size(&c);
	if (!n || hf_wal_record_bytes(n) > sizeof(g->group) - g->len)
		hf_fuzz_fail("wal seed: a record does not fit");
	uint8_t *rec = g->group + g->len;
	hf_cmd_encode(&c, rec + HF_WAL_RECORD_HEADER_BYTES, n);
	if (g->idx == 0)
		g->first = g->seq + 1;
	g->seq++;
	g->len += hf_wal_record_seal(rec, (uint32_t)n, g->seq, now, g->idx++);
	static struct hf_reply reply;
	hf_sm_apply(g->sm, now, &c, &reply);
	if (g->idx == WG_GROUP)
		wg_commit(g);
	return &reply;
}

static void wg_fixture(struct walgen *g)
{
	uint32_t n;
	const struct hf_cmd *fx = hf_fuzz_fixture_cmds(&n);
	for (uint32_t i = 0; i < n; i++)
		wg_add(g, fx[i], HF_FUZZ_T0);
}

static void wg_snapshot(struct walgen *g)
{
	wg_commit(g);
	size_t n = hf_sm_snapshot_size(g->sm);
	uint8_t *body = malloc(n);
	if (!body)
		hf_fuzz_fail("out of memory");
	hf_sm_snapshot_write(g->sm, body, n);
	char err[512] = "";
	if (hf_wal_snapshot_write(g->w, g->seq, g->now, body, n, err, sizeof(err)) ||
	    hf_wal_snapshot_install(g->w, g->seq, err, sizeof(err)))
		hf_fuzz_fail("wal seed: snapshot: %s", err);
	free(body);
}

/* The container of fuzz_wal_open.c: flags, then (kind, u16 len, bytes)
 * per file. Segments are cut after their last non-zero 8 bytes (the rest
 * is preallocation, which reads as the end of the log anyway), keeping
 * the seeds small. */
struct container {
	struct memfs *m;
	uint8_t out[65536];
	size_t len;
	char torn[64]; /* this segment loses its last 12 bytes ("": none) */
};

static void last_segment(void *arg, const char *name)
{
	struct container *c = arg;
	if (!strncmp(name, "wal-", 4) && strcmp(name, c->torn) > 0)
		snprintf(c->torn, sizeof(c->torn), "%s", name);
}

static void put_file(void *arg, const char *name)
{
	struct container *c = arg;
	size_t n;
	const uint8_t *p = memfs_file(c->m, name, &n);
	int kind;
	if (!strncmp(name, "wal-", 4)) {
		kind = 0;
		while (n > HF_WAL_SEGMENT_HEADER_BYTES && p[n - 1] == 0)
			n--;
		n = (n + 7) & ~(size_t)7;
		if (!strcmp(name, c->torn) && n > HF_WAL_SEGMENT_HEADER_BYTES + 12)
			n -= 12;
	} else if (!strncmp(name, "snap-", 5)) {
		kind = strstr(name, ".tmp") ? 3 : 1;
	} else {
		return; /* config: the harness supplies the fixture's */
	}
	if (n > 0xffff || c->len + 3 + n > sizeof(c->out))
		hf_fuzz_fail("wal seed: %s is too big (%zu bytes)", name, n);
	c->out[c->len++] = (uint8_t)kind;
	c->out[c->len++] = (uint8_t)n;
	c->out[c->len++] = (uint8_t)(n >> 8);
	memcpy(c->out + c->len, p, n);
	c->len += n;
}

/* Closes g and writes its directory as a seed; torn: the newest segment
 * loses its last 12 bytes, as a power loss in the last write leaves it. */
static void wg_end(struct walgen *g, const char *name, uint8_t flags, bool torn)
{
	wg_commit(g);
	hf_wal_close(g->w);
	static struct container c;
	c.m = g->m;
	c.len = 0;
	c.torn[0] = '\0';
	if (torn)
		memfs_each(g->m, last_segment, &c);
	c.out[c.len++] = flags;
	memfs_each(g->m, put_file, &c);
	write_file("wal_open", name, c.out, c.len);
	hf_sm_free(g->sm);
	memfs_free(g->m);
}

static void wal_seeds(void)
{
	struct walgen g;

	wg_begin(&g);
	wg_end(&g, "empty", 0, false);

	wg_begin(&g);
	wg_fixture(&g);
	wg_end(&g, "fixture", 0, false);

	wg_begin(&g);
	wg_fixture(&g);
	wg_end(&g, "fixture-torn", 0, true);

	/* More records than one 4 KiB segment holds, every command type. */
	wg_begin(&g);
	wg_fixture(&g);
	for (size_t i = 0; i < sizeof(single_names) / sizeof(single_names[0]); i++)
		wg_add(&g, single(i), g.now += HF_FUZZ_MIN);
	wg_add(&g, event("E3", 20, 100), g.now += HF_FUZZ_MIN);
	for (int i = 0; i < 6; i++) {
		char seat[16];
		snprintf(seat, sizeof(seat), "E3:%d", i + 1);
		wg_add(&g, keyed(lines(HF_CMD_ORDER_CREATE, "dave", 0, 0, seat, "I1*1p"), "o-1", 1),
		       g.now += HF_FUZZ_MIN);
	}
	for (int i = 0; i < 8; i++) {
		const struct hf_reply *r = wg_add(&g, lines(HF_CMD_HOLD_CREATE, "erin", 0, 60,
							    "E3:10", "I1*1p"),
						  g.now += HF_FUZZ_MIN);
		wg_add(&g, hold_op(HF_CMD_HOLD_RELEASE, "erin", r->booking.id, 0),
		       g.now += HF_FUZZ_MIN);
	}
	wg_add(&g, tick(0), g.now += 2 * HF_FUZZ_HOUR);
	wg_end(&g, "segments", 0, false);

	/* A snapshot after the fixture, then more records. */
	wg_begin(&g);
	wg_fixture(&g);
	wg_snapshot(&g);
	wg_add(&g, lines(HF_CMD_HOLD_CREATE, "dave", 0, 0, "E1:A-4", "I1*1"), g.now += HF_FUZZ_MIN);
	wg_add(&g, hold_op(HF_CMD_HOLD_CONFIRM, "alice", 1, 0), g.now += HF_FUZZ_MIN);
	wg_add(&g, order_op(HF_CMD_ORDER_CANCEL, "bob", 1, 0, 0), g.now += HF_FUZZ_MIN);
	wg_end(&g, "snapshot", 0, false);

	/* The same with the repair flag, so mutations start behind the CRCs. */
	wg_begin(&g);
	wg_fixture(&g);
	wg_snapshot(&g);
	wg_add(&g, lines(HF_CMD_ORDER_CREATE, "erin", 0, 0, "E2:2", NULL), g.now += HF_FUZZ_MIN);
	wg_end(&g, "snapshot-repair", 1, false);

	wg_begin(&g);
	wg_fixture(&g);
	wg_end(&g, "fixture-repair", 1, false);
}

/* ---- requests for http_request, credentials for token_verify -------------- */

static const char *const requests[][2] = {
	{"event", "POST /events\n{\"id\": \"E9\", \"name\": \"Gala\", \"starts_at\": "
		  "\"2026-12-01T20:00:00Z\", \"hold_ttl_s\": 120, \"max_per_customer\": 4, "
		  "\"sale_opens_at\": \"2023-01-01T00:00:00Z\", \"sale_closes_at\": "
		  "\"2027-01-01T00:00:00.500Z\", \"seats\": [{\"id\": \"A-1\", \"section\": \"A\", "
		  "\"row\": \"1\", \"number\": 1, \"price\": 5000, \"category\": \"vip\"}, "
		  "{\"id\": \"A-2\", \"price\": 4000}]}"},
	{"event-get", "GET /events/E1"},
	{"event-seats", "GET /events/E1/seats"},
	{"block", "POST /events/E1/block\n{\"seats\": [\"A-5\", \"A-6\"]}"},
	{"unblock", "POST /events/E1/unblock\n{\"seats\": [\"A-8\"]}"},
	{"item", "POST /items\n{\"id\": \"I9\", \"name\": \"Cap\", \"category\": \"merch\", "
		 "\"description\": \"A cap.\\nWith \\u00e9 and \\\"quotes\\\".\", \"image_url\": "
		 "\"https://example.com/cap.png\", \"price\": 1500, \"stock\": 20}"},
	{"item-get", "GET /items/I1"},
	{"restock", "POST /items/I2/restock\n{\"quantity\": 5}"},
	{"hold", "POST /holds\n{\"customer\": \"alice\", \"ttl_s\": 600, \"seats\": [{\"event\": "
		 "\"E1\", \"seat\": \"A-4\"}], \"items\": [{\"item\": \"I1\", \"quantity\": 2, "
		 "\"partial\": true}]}"},
	{"hold-get", "GET /holds/h-1"},
	{"hold-add", "POST /holds/h-1/add\n{\"seats\": [{\"event\": \"E1\", \"seat\": \"A-5\"}], "
		     "\"items\": [{\"item\": \"I1\", \"quantity\": 1}]}"},
	{"hold-remove", "POST /holds/h-1/remove\n{\"seats\": [{\"event\": \"E1\", \"seat\": "
			"\"A-1\"}], \"items\": [{\"item\": \"I1\", \"quantity\": 1}]}"},
	{"hold-extend", "POST /holds/h-1/extend\n{\"ttl_s\": 900}"},
	{"hold-confirm", "POST /holds/h-1/confirm\n{}"},
	{"hold-release", "DELETE /holds/h-3\n"},
	{"order", "POST /orders\n{\"seats\": [{\"event\": \"E2\", \"seat\": \"2\"}], \"items\": "
		  "[{\"item\": \"I1\", \"quantity\": 1, \"partial\": false}]}"},
	{"order-get", "GET /orders/o-1"},
	{"order-cancel", "POST /orders/o-1/cancel\n{\"customer\": \"alice\"}"},
	{"order-status", "POST /orders/o-1/status\n{\"status\": \"packaged\", \"expect\": "
			 "\"under_review\"}"},
	{"customer-holds", "GET /customers/alice/holds"},
	{"customer-orders", "GET /customers/alice/orders"},
	{"token", "POST /tokens\n{\"customer\": \"alice\", \"ttl_s\": 3600}"},
	{"clock", "POST /admin/clock\n{\"advance_s\": 60}"},
	{"metrics", "GET /metrics"},
	{"health", "GET /health"},
};

static void http_seeds(void)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		write_file("http_request", requests[i][0], requests[i][1], strlen(requests[i][1]));
}

/* ---- whole requests for api_request --------------------------------------- */

/* fuzz_api_request.c's format: request line, headers, blank line, body;
 * requests of one input separated by a line "%%"; {admin}, {alice}, {bob},
 * {carol}, {expired} stand for credentials. Next ids after the fixture:
 * hold h-4, order o-2. */
#define ADM "Authorization: Bearer {admin}\n"
#define ALICE "Authorization: Bearer {alice}\n"
#define BOB "Authorization: Bearer {bob}\n"
#define JSON "Content-Type: application/json\n"
#define NEXT "\n%%\n"
#define HOLD_A4 "{\"ttl_s\": 600, \"seats\": [{\"event\": \"E1\", \"seat\": \"A-4\"}], " \
		"\"items\": [{\"item\": \"I1\", \"quantity\": 2, \"partial\": true}]}"
#define ORDER_E2 "{\"seats\": [{\"event\": \"E2\", \"seat\": \"2\"}], \"items\": " \
		 "[{\"item\": \"I1\", \"quantity\": 1}]}"

static const char *const api_requests[][2] = {
	/* one valid request per route, with the credential it needs */
	{"event", "POST /events\n" ADM JSON "\n{\"id\": \"E9\", \"name\": \"Gala\", \"starts_at\": "
		  "\"2026-12-01T20:00:00Z\", \"hold_ttl_s\": 120, \"max_per_customer\": 4, "
		  "\"sale_opens_at\": \"2023-01-01T00:00:00Z\", \"seats\": [{\"id\": \"A-1\", "
		  "\"section\": \"A\", \"row\": \"1\", \"number\": 1, \"price\": 5000, \"category\": "
		  "\"vip\"}, {\"id\": \"A-2\", \"price\": 4000}]}"},
	{"event-get", "GET /events/E1\n\n"},
	{"event-seats", "GET /events/E2/seats\n" ALICE "\n"},
	{"block", "POST /events/E1/block\n" ADM JSON "\n{\"seats\": [\"A-5\", \"A-6\"]}"},
	{"unblock", "POST /events/E1/unblock\n" ADM JSON "\n{\"seats\": [\"A-8\"]}"},
	{"item", "POST /items\n" ADM JSON "\n{\"id\": \"I9\", \"name\": \"Cap\", \"category\": "
		 "\"merch\", \"description\": \"A cap.\\nWith \\u00e9.\", \"image_url\": "
		 "\"https://example.com/cap.png\", \"price\": 1500, \"stock\": 20}"},
	{"item-get", "GET /items/I1\n\n"},
	{"restock", "POST /items/I2/restock\n" ADM JSON "\n{\"quantity\": 5}"},
	{"hold", "POST /holds\n" ALICE JSON "\n" HOLD_A4},
	{"hold-admin", "POST /holds\n" ADM JSON "\n{\"customer\": \"dave\", \"items\": [{\"item\": "
		       "\"I1\", \"quantity\": 1}]}"},
	{"hold-get", "GET /holds/h-1\n" ALICE "\n"},
	{"hold-add", "POST /holds/h-1/add\n" ALICE JSON "\n{\"seats\": [{\"event\": \"E1\", "
		     "\"seat\": \"A-5\"}], \"items\": [{\"item\": \"I1\", \"quantity\": 1}]}"},
	{"hold-remove", "POST /holds/h-1/remove\n" ALICE JSON "\n{\"seats\": [{\"event\": \"E1\", "
			"\"seat\": \"A-1\"}], \"items\": [{\"item\": \"I1\", \"quantity\": 1}]}"},
	{"hold-extend", "POST /holds/h-1/extend\n" ALICE JSON "\n{\"ttl_s\": 900}"},
	{"hold-confirm", "POST /holds/h-1/confirm\n" ALICE JSON "\n{}"},
	{"hold-release", "DELETE /holds/h-3\n" ALICE "\n"},
	{"order", "POST /orders\n" ALICE JSON "Idempotency-Key: o:1\n\n" ORDER_E2},
	{"order-get", "GET /orders/o-1\n" BOB "\n"},
	{"order-cancel", "POST /orders/o-1/cancel\n" BOB JSON "\n{\"customer\": \"bob\"}"},
	{"order-status", "POST /orders/o-1/status\n" ADM JSON "\n{\"status\": \"packaged\", "
			 "\"expect\": \"under_review\"}"},
	{"customer-holds", "GET /customers/alice/holds?limit=1&after=h-9\n" ALICE "\n"},
	{"customer-orders", "GET /customers/bob/orders?LIMIT=5\n" ADM "\n"},
	{"token", "POST /tokens\n" ADM JSON "\n{\"customer\": \"alice\", \"ttl_s\": 3600}"},
	{"clock", "POST /admin/clock\n" ADM JSON "\n{\"advance_s\": 60}"},
	{"metrics", "GET /metrics\n\n"},
	{"health", "GET /health\n\n"},
	/* who may do what */
	{"authz-none", "POST /holds\n" JSON "\n" HOLD_A4},
	{"authz-expired", "GET /holds/h-1\nAuthorization: Bearer {expired}\n\n"},
	{"authz-garbage", "GET /holds/h-1\nAuthorization: Bearer hft1.YWxpY2V8OTk5OTk5OTk5OTk5OQ.AAAA\n\n"},
	{"authz-scheme", "GET /holds/h-1\nAuthorization: Basic {alice}\n\n"},
	{"authz-customer-on-admin", "POST /items/I1/restock\n" ALICE JSON "\n{\"quantity\": 5}"},
	{"authz-other-customer-body", "POST /holds\n" ALICE JSON "\n{\"customer\": \"bob\", "
				      "\"items\": [{\"item\": \"I1\", \"quantity\": 1}]}"},
	{"authz-others-bookings", "GET /holds/h-1\n" BOB "\n" NEXT
				  "POST /holds/h-1/confirm\n" BOB JSON "\n{}" NEXT
				  "DELETE /holds/h-1\n" BOB "\n" NEXT
				  "GET /customers/alice/holds\n" BOB "\n" NEXT
				  "POST /orders/o-1/cancel\n" ALICE JSON "\n{}" NEXT
				  "GET /orders/o-1\n" ALICE "\n"},
	{"authz-expired-hold", "POST /holds/h-2/confirm\nAuthorization: Bearer {carol}\n" JSON "\n{}"},
	/* choosing seats: best available, the orphan rule, late payment */
	{"best-available", "POST /holds\n" ALICE JSON "\n{\"best_available\": {\"event\": \"E1\", "
			   "\"count\": 2, \"section\": \"A\", \"category\": \"vip\"}}"},
	{"best-available-order", "POST /orders\n" ALICE JSON "\n{\"seats\": [{\"event\": \"E2\", "
				 "\"seat\": \"2\"}], \"best_available\": {\"event\": \"E2\", \"count\": 1}}"},
	{"event-orphan-rule", "POST /events\n" ADM JSON "\n{\"id\": \"E9\", \"name\": \"Strict\", "
			      "\"starts_at\": \"2030-01-01T00:00:00Z\", \"orphan_rule\": \"no_single_gaps\", "
			      "\"seats\": [{\"id\": \"1\", \"row\": \"A\", \"number\": 1, \"price\": 1}, "
			      "{\"id\": \"2\", \"row\": \"A\", \"number\": 2, \"price\": 1}]}"},
	{"late-payment", "POST /admin/clock\n" ADM JSON "\n{\"advance_s\": 7200}" NEXT
			 "POST /holds/h-2/confirm\n" ADM JSON "\n{\"accept_late\": true}" NEXT
			 "POST /holds/h-2/confirm\n" ALICE JSON "\n{\"accept_late\": true}"},
	/* sequences */
	{"seq-hold-confirm-cancel", "POST /holds\n" ALICE JSON "\n" HOLD_A4 NEXT
				    "POST /holds/h-4/extend\n" ALICE JSON "\n{\"ttl_s\": 1200}" NEXT
				    "POST /holds/h-4/confirm\n" ALICE JSON "\n{}" NEXT
				    "GET /orders/o-2\n" ALICE "\n" NEXT
				    "POST /orders/o-2/cancel\n" ALICE JSON "\n{}" NEXT
				    "GET /customers/alice/orders?limit=1\n" ALICE "\n"},
	{"seq-idempotent-retry", "POST /orders\n" ALICE JSON "Idempotency-Key: r1\n\n" ORDER_E2 NEXT
				 "POST /orders\n" ALICE JSON "Idempotency-Key: r1\n\n" ORDER_E2 NEXT
				 "POST /orders\n" ALICE JSON "Idempotency-Key: r1\n\n{}" NEXT
				 "POST /orders\n" BOB JSON "Idempotency-Key: r1\n\n" ORDER_E2 NEXT
				 "POST /holds\n" ALICE JSON "Idempotency-Key: k1\n\n{\"items\": "
				 "[{\"item\": \"I1\", \"quantity\": 1, \"partial\": true}]}"},
	{"seq-refusal-replayed", "POST /holds\n" BOB JSON "Idempotency-Key: x\n\n" HOLD_A4 NEXT
				 "POST /holds\n" ALICE JSON "\n" HOLD_A4 NEXT
				 "POST /holds\n" BOB JSON "Idempotency-Key: y\n\n" HOLD_A4 NEXT
				 "POST /holds\n" BOB JSON "Idempotency-Key: y\n\n" HOLD_A4},
	{"seq-order-status", "POST /orders/o-1/status\n" ADM JSON "\n{\"status\": \"shipped\"}" NEXT
			     "POST /orders/o-1/cancel\n" BOB JSON "\n{}" NEXT
			     "POST /orders/o-1/status\n" ADM JSON "\n{\"status\": \"packaged\"}" NEXT
			     "POST /orders/o-1/status\n" ADM JSON "\n{\"status\": \"delivered\", "
			     "\"expect\": \"packaged\"}"},
	{"seq-stock", "POST /items\n" ADM JSON "\n{\"id\": \"I9\", \"name\": \"Pin\", \"price\": 100, "
		      "\"stock\": 1}" NEXT
		      "POST /orders\n" ALICE JSON "\n{\"items\": [{\"item\": \"I9\", \"quantity\": 1}]}" NEXT
		      "POST /orders\n" BOB JSON "\n{\"items\": [{\"item\": \"I9\", \"quantity\": 1}]}" NEXT
		      "POST /holds\n" BOB JSON "\n{\"items\": [{\"item\": \"I9\", \"quantity\": 3, "
		      "\"partial\": true}]}" NEXT
		      "POST /items/I9/restock\n" ADM JSON "\n{\"quantity\": 2000000000}" NEXT
		      "GET /items/I9\n\n"},
	{"seq-seats", "POST /holds\n" ALICE JSON "\n" HOLD_A4 NEXT
		      "POST /holds\n" BOB JSON "\n{\"seats\": [{\"event\": \"E1\", \"seat\": \"A-4\"}, "
		      "{\"event\": \"E1\", \"seat\": \"A-9\"}]}" NEXT
		      "POST /holds\n" BOB JSON "\n{\"seats\": [{\"event\": \"E1\", \"seat\": \"A-8\"}]}" NEXT
		      "POST /events/E1/block\n" ADM JSON "\n{\"seats\": [\"A-4\"]}" NEXT
		      "POST /orders\n" BOB JSON "\n{\"seats\": [{\"event\": \"E2\", \"seat\": \"2\"}, "
		      "{\"event\": \"E2\", \"seat\": \"3\"}, {\"event\": \"E2\", \"seat\": \"4\"}]}" NEXT
		      "GET /events/E1\n\n"},
	/* POST /batch */
	{"batch", "POST /batch\n" ALICE JSON "\n{\"ops\": ["
		  "{\"method\": \"POST\", \"path\": \"/holds\", \"body\": " HOLD_A4 ", "
		  "\"idempotency_key\": \"b1\"}, "
		  "{\"method\": \"POST\", \"path\": \"/orders\", \"body\": " ORDER_E2 "}, "
		  "{\"method\": \"POST\", \"path\": \"/holds/h-1/extend\", \"body\": "
		  "{\"ttl_s\": 600}}, "
		  "{\"method\": \"POST\", \"path\": \"/orders/o-1/cancel\"}, "
		  "{\"method\": \"GET\", \"path\": \"/holds/h-1\"}, "
		  "{\"method\": \"POST\", \"path\": \"/nowhere\"}, "
		  "{\"method\": \"DELETE\", \"path\": \"/holds/h-3\", \"body\": "
		  "{\"customer\": \"bob\"}}, "
		  "{\"method\": \"POST\", \"path\": \"/holds\", \"body\": {\"items\": "
		  "[{\"item\": \"I1\", \"quantity\": 0}]}}]}"},
	{"batch-retry", "POST /orders\n" ALICE JSON "Idempotency-Key: c1\n\n" ORDER_E2 NEXT
			"POST /batch\n" ALICE JSON "\n{\"ops\": [{\"method\": \"POST\", "
			"\"path\": \"/orders\", \"body\": " ORDER_E2 ", \"idempotency_key\": "
			"\"c1\"}, {\"method\": \"POST\", \"path\": \"/holds/h-1/add\", \"body\": "
			"{\"items\": [{\"item\": \"I1\", \"quantity\": 1}]}, "
			"\"idempotency_key\": \"c2\"}]}" NEXT
			"POST /batch\n" ALICE JSON "\n{\"ops\": [{\"method\": \"POST\", "
			"\"path\": \"/orders\", \"body\": " ORDER_E2 ", \"idempotency_key\": "
			"\"c1\"}, {\"method\": \"POST\", \"path\": \"/holds/h-1/add\", \"body\": "
			"{\"items\": [{\"item\": \"I1\", \"quantity\": 1}]}, "
			"\"idempotency_key\": \"c2\"}]}"},
	{"batch-admin", "POST /batch\n" ADM JSON "\n{\"ops\": [{\"method\": \"POST\", "
			"\"path\": \"/holds\", \"body\": {\"customer\": \"erin\", \"seats\": "
			"[{\"event\": \"E1\", \"seat\": \"A-7\"}]}}, {\"method\": \"POST\", "
			"\"path\": \"/orders\", \"body\": {\"items\": [{\"item\": \"I1\", "
			"\"quantity\": 1}]}}, {\"method\": \"POST\", \"path\": "
			"\"/holds/h-2/confirm\", \"body\": {}}]}"},
	{"batch-envelope", "POST /batch\n" ALICE JSON "\n{\"ops\": []}" NEXT
			   "POST /batch\n" ALICE JSON "\n{}" NEXT
			   "POST /batch\n" ALICE JSON "\n{\"ops\": [{\"method\": \"POST\"}]}" NEXT
			   "POST /batch\n" ALICE JSON "Idempotency-Key: b\n\n{\"ops\": [{\"method\": "
			   "\"DELETE\", \"path\": \"/holds/h-3\"}]}" NEXT
			   "POST /batch\n" BOB JSON "\n{\"ops\": [{\"method\": \"DELETE\", "
			   "\"path\": \"/holds/h-3\"}], \"extra\": 1}"},
	/* the generic checks */
	{"edge-content-type", "POST /holds\n" ALICE "Content-Type: text/plain\n\n" HOLD_A4},
	{"edge-method", "PUT /holds/h-1\n" ALICE "\n"},
	{"edge-no-route", "GET /holds/h-1/nothing\n" ALICE "\n"},
	{"edge-get-body", "GET /events/E1\n" JSON "\n{}"},
	{"edge-idem-key", "POST /holds\n" ALICE JSON "Idempotency-Key: not a key!\n\n" HOLD_A4},
	{"edge-escaped", "GET /events/E%31/seats\n\n" NEXT "GET /holds/h%2D1\n" ALICE "\n" NEXT
			 "GET /customers/al%69ce/holds?l%69mit=%32&after=h%2d3\n" ALICE "\n" NEXT
			 "GET /items/I1%00x\n\n"},
	{"edge-list-args", "GET /customers/alice/holds?limit=0\n" ALICE "\n" NEXT
			   "GET /customers/alice/holds?limit=101\n" ALICE "\n" NEXT
			   "GET /customers/alice/orders?after=h-1\n" ALICE "\n" NEXT
			   "GET /customers/alice/orders?limit\n" ALICE "\n"},
	{"edge-crlf", "POST /holds/h-1/extend HTTP/1.1\r\nauthorization:  Bearer  {alice} \r\n"
		      "content-type: application/json; charset=utf-8\r\n\n{\"ttl_s\": 60}"},
	{"edge-bad-json", "POST /holds\n" ALICE JSON "\n{\"seats\": [{\"event\": \"E1\", \"seat\": "
			  "\"A-4\", \"seat\": \"A-5\"}]}" NEXT
			  "POST /holds\n" ALICE JSON "\n{\"items\": [{\"item\": \"I1\", \"quantity\": 0}]}"},
};

static void api_seeds(void)
{
	for (size_t i = 0; i < sizeof(api_requests) / sizeof(api_requests[0]); i++)
		write_file("api_request", api_requests[i][0], api_requests[i][1],
			   strlen(api_requests[i][1]));
	/* Headers one byte past HF_HTTP_HEADER_MAX: 431. */
	static char big[HF_HTTP_HEADER_MAX + 256];
	int n = snprintf(big, sizeof(big), "GET /holds/h-1\n" ALICE "X-Pad: ");
	while ((size_t)n < HF_HTTP_HEADER_MAX)
		big[n++] = 'p';
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\n\n");
	write_file("api_request", "edge-headers-large", big, (size_t)n);
}

#ifdef HF_FUZZ_WITH_SERVER
/* The token_verify fixture's auth (the same secret as fuzz_token_verify.c). */
static void token_seeds(void)
{
	static struct hf_auth a;
	for (size_t i = 0; i < sizeof(a.secret); i++)
		a.secret[i] = (uint8_t)(7 * i + 1);
	char tok[HF_TOKEN_TEXT_MAX + 1];
	struct {
		const char *name, *customer;
		int64_t expires;
		uint8_t flags;
	} t[] = {
		{"valid", "alice", HF_FUZZ_T0 + HF_FUZZ_HOUR, 0},
		{"valid-repair", "customer:42.x_y-Z", HF_FUZZ_T0 + 1, 1},
		{"expired", "bob", HF_FUZZ_T0, 0},
		{"long-customer", "c123456789012345678901234567890123456789012345678901234567890123",
		 999999999999999999LL, 1},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tok[0] = (char)t[i].flags;
		size_t n = hf_auth_token_mint(&a, t[i].customer, strlen(t[i].customer),
					      t[i].expires, tok + 1);
		write_file("token_verify", t[i].name, tok, n + 1);
	}
	/* A tampered payload (re-signed only with the repair flag). */
	tok[0] = 0;
	size_t n = hf_auth_token_mint(&a, "alice", 5, HF_FUZZ_T0 + HF_FUZZ_HOUR, tok + 1);
	tok[7] ^= 1;
	write_file("token_verify", "tampered", tok, n + 1);
	static const char admin[] = "\0fuzz-admin-key";
	write_file("token_verify", "admin-key", admin, sizeof(admin) - 1);
}
#endif

/* A reply with every array full: the largest encoding there is. */
static void maximal_reply(void)
{
	static struct hf_reply r;
	r.result = HF_SEATS_UNAVAILABLE;
	r.kind = HF_REPLY_HOLD;
	r.n_bad_seats = HF_HOLD_SEATS_MAX;
	for (uint32_t i = 0; i < HF_HOLD_SEATS_MAX; i++)
		r.bad_seats[i] = i;
	r.booking.id = 7;
	r.booking.n_seats = HF_HOLD_SEATS_MAX;
	for (uint32_t i = 0; i < HF_HOLD_SEATS_MAX; i++)
		r.booking.seats[i] = (struct hf_view_seat){i, 1000};
	r.booking.n_items = HF_HOLD_ITEMS_MAX;
	for (uint32_t i = 0; i < HF_HOLD_ITEMS_MAX; i++)
		r.booking.items[i] = (struct hf_view_item){i, 2, 3, 0, 500};
	r.booking.total = 100 * 1000 + 50 * 2 * 500;
	r.booking.total_with_fees = r.booking.total;
	uint8_t buf[HF_REPLY_BYTES_MAX];
	int64_t n = hf_reply_encode(&r, buf, sizeof(buf));
	if (n <= 0)
		hf_fuzz_fail("the maximal reply does not encode");
	write_file("reply_decode", "maximal", buf, (size_t)n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		hf_fuzz_fail("mkdir %s: %s", outdir, strerror(errno));
	struct hf_sm *sm = hf_fuzz_sm_empty();
	write_snapshot(sm, "empty");
	hf_sm_free(sm);
	sm = hf_fuzz_sm_new();
	write_snapshot(sm, "fixture");
	hf_sm_free(sm);
	singles();
	sequences();
	maximal_reply();
	wal_seeds();
	http_seeds();
	api_seeds();
#ifdef HF_FUZZ_WITH_SERVER
	token_seeds();
#endif
	return 0;
}
