/*
 * snapshot.c: the whole state as one byte image, and back.
 *
 * Layout (native byte order and struct layout: a snapshot is read by the
 * same build of holdfast on the same machine type that wrote it; the wal
 * keeps the log, which is portable, as the source of truth):
 *
 *   "HFSNAP01"                 8 bytes magic
 *   u32 version (2), u32 0x01020304 (byte-order mark)
 *   u64 x 14                   the config, field by field (must equal the reader's)
 *   u64 x N_SCALARS            counters and ids (scalars[] below)
 *   sections, each: u64 byte length, then the bytes:
 *     string pool [0, used), events, seats, items, customers, hold slots
 *     [0, holds_used), the expiry heap, orders, lines [0, lines_hwm);
 *     then the live part of each ring, oldest first (read back into the
 *     same positions): the ended FIFO (u32 slots), the idempotency entries,
 *     the idempotency bytes (each entry's data_len bytes, entry by entry)
 *   u32 crc32c of everything before it
 *
 * Indexes (intern table, seat index, the maps, the rows and their free-run
 * trees) are not written: they are rebuilt on read, in the order the state created them. Everything that
 * decides a future reply (slots, free lists, ring positions, offsets) is
 * kept exactly, so a restored state answers every later command exactly
 * as the original would have.
 */
#include <stdio.h>
#include <string.h>

#include "base/crc32c.h"
#include "core/internal.h"

#define SNAP_MAGIC "HFSNAP01"
#define SNAP_VERSION 2u /* 2: events carry their orphan rule */
#define SNAP_BOM 0x01020304u

static void config_fields(const struct hf_sm_config *c, uint64_t out[14])
{
	const uint64_t v[14] = {
		c->max_events, c->max_seats, c->max_items, c->max_customers, c->max_holds,
		c->max_orders, c->max_lines, c->string_bytes, c->idem_entries, c->idem_bytes,
		(uint64_t)c->idem_retention_ms, (uint64_t)c->shipping_fee,
		(uint64_t)c->free_shipping_over, c->hold_lifetime_max_s,
	};
	memcpy(out, v, sizeof(v));
}

/* The scalars, as pointers so one table serves writing and reading. Each
 * row: field, its width in bytes. */
struct scalar {
	void *p;
	unsigned width;
};

#define N_SCALARS 21
static void scalars(struct hf_sm *sm, struct scalar out[N_SCALARS])
{
	const struct scalar s[N_SCALARS] = {
		{&sm->now_ms, 8}, {&sm->next_hold_id, 8}, {&sm->next_order_id, 8},
		{&sm->holds_expired_total, 8}, {&sm->strings.used, 4}, {&sm->n_events, 4},
		{&sm->n_seats, 4}, {&sm->n_items, 4}, {&sm->n_customers, 4}, {&sm->holds_used, 4},
		{&sm->holds_active, 4}, {&sm->holds_free, 4}, {&sm->ended_head, 4},
		{&sm->ended_count, 4}, {&sm->n_orders, 4}, {&sm->lines_hwm, 4},
		{&sm->lines_free, 4}, {&sm->lines_used, 4}, {&sm->lines_in_ended, 4},
		{&sm->idem_head, 4}, {&sm->idem_count, 4},
	};
	memcpy(out, s, sizeof(s));
}

struct section {
	void *p;
	size_t bytes;
};

#define N_SECTIONS 9
static void sections(struct hf_sm *sm, struct section out[N_SECTIONS])
{
	const struct section s[N_SECTIONS] = {
		{sm->strings.bytes, sm->strings.used},
		{sm->events, (size_t)sm->n_events * sizeof(struct hf_event)},
		{sm->seats, (size_t)sm->n_seats * sizeof(struct hf_seat)},
		{sm->items, (size_t)sm->n_items * sizeof(struct hf_item)},
		{sm->customers, (size_t)sm->n_customers * sizeof(struct hf_customer)},
		{sm->holds, (size_t)sm->holds_used * sizeof(struct hf_hold)},
		{sm->heap, (size_t)sm->holds_active * sizeof(uint32_t)},
		{sm->orders, (size_t)sm->n_orders * sizeof(struct hf_order)},
		{sm->lines, (size_t)sm->lines_hwm * sizeof(struct hf_line)},
	};
	memcpy(out, s, sizeof(s));
}

/* The rings, live part only, oldest first. */
static size_t rings_size(const struct hf_sm *sm)
{
	size_t n = (size_t)sm->ended_count * sizeof(uint32_t) +
		   (size_t)sm->idem_count * sizeof(struct hf_idem_entry);
	for (uint32_t k = 0; k < sm->idem_count; k++)
		n += sm->idem[(sm->idem_head + k) % sm->cfg.idem_entries].data_len;
	return n;
}

static const uint8_t *rings_read(struct hf_sm *sm, const uint8_t *p, const uint8_t *end)
{
	const struct hf_sm_config *c = &sm->cfg;
	if ((size_t)(end - p) < (size_t)sm->ended_count * 4 + (size_t)sm->idem_count *
							   sizeof(struct hf_idem_entry))
		return NULL;
	for (uint32_t k = 0; k < sm->ended_count; k++, p += 4)
		memcpy(&sm->ended[(sm->ended_head + k) % c->max_holds], p, 4);
	for (uint32_t k = 0; k < sm->idem_count; k++, p += sizeof(struct hf_idem_entry))
		memcpy(&sm->idem[(sm->idem_head + k) % c->idem_entries], p,
		       sizeof(struct hf_idem_entry));
	for (uint32_t k = 0; k < sm->idem_count; k++) {
		const struct hf_idem_entry *e = &sm->idem[(sm->idem_head + k) % c->idem_entries];
		if ((uint64_t)e->data_off + e->data_len > c->idem_bytes ||
		    (size_t)(end - p) < e->data_len)
			return NULL;
		memcpy(sm->idem_data + e->data_off, p, e->data_len);
		p += e->data_len;
	}
	return p;
}

size_t hf_sm_snapshot_size(const struct hf_sm *sm)
{
	struct section sec[N_SECTIONS];
	sections((struct hf_sm *)sm, sec);
	size_t n = 8 + 8 + 14 * 8 + N_SCALARS * 8 + 4 + rings_size(sm);
	for (int i = 0; i < N_SECTIONS; i++)
		n += 8 + sec[i].bytes;
	return n;
}

/* The sink with the running CRC of everything it was given. */
struct emit {
	hf_sm_snapshot_sink sink;
	void *arg;
	uint32_t crc;
	int rc;
};

static void put(struct emit *e, const void *p, size_t n)
{
	if (e->rc == 0 && n) {
		e->crc = hf_crc32c(e->crc, p, n);
		e->rc = e->sink(e->arg, p, n);
	}
}

/* A ring of `count` fixed-size entries from `head` in a table of `cap`:
 * at most two runs. */
static void put_ring(struct emit *e, const void *table, uint32_t head, uint32_t count,
		     uint32_t cap, size_t width)
{
	if (count == 0)
		return;
	uint32_t first = cap - head < count ? cap - head : count;
	put(e, (const uint8_t *)table + (size_t)head * width, (size_t)first * width);
	put(e, table, (size_t)(count - first) * width);
}

int hf_sm_snapshot_emit(const struct hf_sm *sm, hf_sm_snapshot_sink sink, void *arg,
			uint32_t *crc_out)
{
	struct emit e = {.sink = sink, .arg = arg};
	put(&e, SNAP_MAGIC, 8);
	const uint32_t head[2] = {SNAP_VERSION, SNAP_BOM};
	put(&e, head, 8);
	uint64_t cfg[14];
	config_fields(&sm->cfg, cfg);
	put(&e, cfg, sizeof(cfg));
	struct scalar sc[N_SCALARS];
	scalars((struct hf_sm *)sm, sc);
	uint64_t v[N_SCALARS];
	for (int i = 0; i < N_SCALARS; i++) {
		v[i] = 0;
		if (sc[i].width == 8)
			memcpy(&v[i], sc[i].p, 8);
		else
			v[i] = *(const uint32_t *)sc[i].p;
	}
	put(&e, v, sizeof(v));
	struct section sec[N_SECTIONS];
	sections((struct hf_sm *)sm, sec);
	for (int i = 0; i < N_SECTIONS; i++) {
		uint64_t n = sec[i].bytes;
		put(&e, &n, 8);
		put(&e, sec[i].p, (size_t)n);
	}
	put_ring(&e, sm->ended, sm->ended_head, sm->ended_count, sm->cfg.max_holds,
		 sizeof(uint32_t));
	put_ring(&e, sm->idem, sm->idem_head, sm->idem_count, sm->cfg.idem_entries,
		 sizeof(struct hf_idem_entry));
	for (uint32_t k = 0; k < sm->idem_count; k++) {
		const struct hf_idem_entry *ie = &sm->idem[(sm->idem_head + k) % sm->cfg.idem_entries];
		put(&e, sm->idem_data + ie->data_off, ie->data_len);
	}
	uint32_t crc = e.crc; /* of everything before it */
	put(&e, &crc, 4);
	if (crc_out)
		*crc_out = e.crc; /* of everything */
	return e.rc;
}

struct to_buf {
	uint8_t *p, *end;
};

static int buf_sink(void *arg, const void *p, size_t n)
{
	struct to_buf *b = arg;
	HF_ASSERT((size_t)(b->end - b->p) >= n);
	memcpy(b->p, p, n);
	b->p += n;
	return 0;
}

size_t hf_sm_snapshot_write(const struct hf_sm *sm, uint8_t *buf, size_t cap)
{
	size_t need = hf_sm_snapshot_size(sm);
	HF_ASSERT(cap >= need);
	struct to_buf b = {buf, buf + cap};
	int rc = hf_sm_snapshot_emit(sm, buf_sink, &b, NULL);
	HF_ASSERT(rc == 0 && (size_t)(b.p - buf) == need);
	return need;
}

static int bad(char *err, size_t cap, const char *why)
{
	snprintf(err, cap, "snapshot: %s", why);
	return -1;
}

/* Rebuilds every index from the restored tables. */
static int rebuild(struct hf_sm *sm, char *err, size_t cap)
{
	if (hf_strpool_rebuild(&sm->strings) < 0)
		return bad(err, cap, "string pool is damaged");
	if (hf_catalog_index_rebuild(sm) < 0)
		return bad(err, cap, "catalog is damaged");
	for (uint32_t c = 0; c < sm->n_customers; c++) {
		uint32_t sid = sm->customers[c].name;
		if (sid == 0 || sid >= sm->strings.used || hf_map_get(&sm->customer_by_sid, sid) != NIL)
			return bad(err, cap, "customers are damaged");
		hf_map_put(&sm->customer_by_sid, hf_sid_key(sid), c);
	}
	/* Seat lines counted into per_cust_event: never more than seats (each
	 * held or sold seat is in one list; hf_sm_check proves it next). */
	uint32_t counted = 0;
	for (uint32_t slot = 0; slot < sm->holds_used; slot++) {
		const struct hf_hold *h = &sm->holds[slot];
		if (h->state == HOLD_SLOT_UNUSED)
			continue;
		if (h->id == 0 || h->customer >= sm->n_customers ||
		    hf_map_get(&sm->hold_by_id, h->id) != NIL || h->state > HF_HOLD_EXPIRED_STATE)
			return bad(err, cap, "holds are damaged");
		hf_map_put(&sm->hold_by_id, h->id, slot);
		if (h->state != HF_HOLD_ACTIVE)
			continue;
		uint32_t n = 0;
		for (uint32_t l = h->seats.head; l != NIL; l = sm->lines[l].next) {
			if (l >= sm->lines_hwm || ++n > HF_HOLD_SEATS_MAX ||
			    sm->lines[l].ref >= sm->n_seats || ++counted > sm->n_seats)
				return bad(err, cap, "hold lines are damaged");
			hf_pce_add(sm, h->customer, hf_catalog_seat_event(sm, sm->lines[l].ref), 1);
		}
	}
	for (uint32_t o = 0; o < sm->n_orders; o++) {
		const struct hf_order *ord = &sm->orders[o];
		if (ord->customer >= sm->n_customers)
			return bad(err, cap, "orders are damaged");
		if (ord->status == HF_ORDER_CANCELED)
			continue;
		uint32_t n = 0;
		for (uint32_t l = ord->seats.head; l != NIL; l = sm->lines[l].next) {
			if (l >= sm->lines_hwm || ++n > HF_HOLD_SEATS_MAX ||
			    sm->lines[l].ref >= sm->n_seats || ++counted > sm->n_seats)
				return bad(err, cap, "order lines are damaged");
			hf_pce_add(sm, ord->customer, hf_catalog_seat_event(sm, sm->lines[l].ref), 1);
		}
	}
	for (uint32_t k = 0; k < sm->idem_count; k++) {
		uint32_t pos = (sm->idem_head + k) % sm->cfg.idem_entries;
		const struct hf_idem_entry *e = &sm->idem[pos];
		if (e->key == 0 || (uint64_t)e->data_off + e->data_len > sm->cfg.idem_bytes)
			return bad(err, cap, "idempotency table is damaged");
		hf_map_put(&sm->idem_by_key, e->key, pos);
	}
	return 0;
}

int hf_sm_snapshot_read(struct hf_sm *sm, const uint8_t *buf, size_t len, char *err, size_t err_cap)
{
	/* Loading into a fresh state lets every index be rebuilt without
	 * clearing capacity-sized tables first (start-up time proportional to
	 * the state, not to the config). */
	if (sm->strings.used != 1 || sm->n_events || sm->n_customers || sm->holds_used ||
	    sm->n_orders || sm->lines_hwm || sm->idem_count || sm->n_items)
		return bad(err, err_cap, "must be loaded into a fresh state");
	size_t fixed = 8 + 8 + 14 * 8 + N_SCALARS * 8 + 4;
	if (len < fixed || memcmp(buf, SNAP_MAGIC, 8) != 0)
		return bad(err, err_cap, "not a holdfast snapshot");
	uint32_t crc;
	memcpy(&crc, buf + len - 4, 4);
	if (crc != hf_crc32c(0, buf, len - 4))
		return bad(err, err_cap, "checksum mismatch");
	uint32_t head[2];
	memcpy(head, buf + 8, 8);
	if (head[0] != SNAP_VERSION || head[1] != SNAP_BOM)
		return bad(err, err_cap, "unknown version or byte order");
	uint64_t mine[14], theirs[14];
	config_fields(&sm->cfg, mine);
	memcpy(theirs, buf + 16, sizeof(theirs));
	if (memcmp(mine, theirs, sizeof(mine)) != 0)
		return bad(err, err_cap, "written with another state config");
	const uint8_t *p = buf + 16 + sizeof(theirs);
	const uint8_t *end = buf + len - 4;

	struct scalar sc[N_SCALARS];
	scalars(sm, sc);
	for (int i = 0; i < N_SCALARS; i++) {
		uint64_t v;
		memcpy(&v, p, 8);
		p += 8;
		if (sc[i].width == 8)
			memcpy(sc[i].p, &v, 8);
		else if (v > UINT32_MAX)
			return bad(err, err_cap, "a counter is out of range");
		else
			*(uint32_t *)sc[i].p = (uint32_t)v;
	}
	const struct hf_sm_config *c = &sm->cfg;
	if (sm->strings.used < 1 || sm->strings.used > sm->strings.cap ||
	    sm->n_events > c->max_events || sm->n_seats > c->max_seats ||
	    sm->n_items > c->max_items || sm->n_customers > c->max_customers ||
	    sm->holds_used > c->max_holds || sm->holds_active > sm->holds_used ||
	    sm->ended_count > c->max_holds || sm->ended_head >= c->max_holds ||
	    sm->n_orders > c->max_orders || sm->lines_hwm > c->max_lines ||
	    sm->idem_count > c->idem_entries || sm->idem_head >= c->idem_entries)
		return bad(err, err_cap, "a counter is above its capacity");

	struct section sec[N_SECTIONS];
	sections(sm, sec);
	for (int i = 0; i < N_SECTIONS; i++) {
		uint64_t n;
		if (end - p < 8)
			return bad(err, err_cap, "truncated");
		memcpy(&n, p, 8);
		p += 8;
		if (n != sec[i].bytes || (uint64_t)(end - p) < n)
			return bad(err, err_cap, "a section has the wrong size");
		if (n)
			memcpy(sec[i].p, p, n);
		p += n;
	}
	p = rings_read(sm, p, end);
	if (!p)
		return bad(err, err_cap, "the ended or idempotency ring is damaged");
	if (p != end)
		return bad(err, err_cap, "trailing bytes");
	if (rebuild(sm, err, err_cap) < 0)
		return -1;
	char msg[256];
	if (hf_sm_check(sm, msg, sizeof(msg)) < 0) {
		snprintf(err, err_cap, "snapshot: state fails its check: %s", msg);
		return -1;
	}
	return 0;
}
