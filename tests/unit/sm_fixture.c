/*
 * sm_fixture.c: see sm_fixture.h. Owns nothing beyond the struct fx it
 * allocates; every check failure names the test's file and line.
 */
#include "sm_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fx_config(struct hf_sm_config *cfg /* out */)
{
	hf_sm_config_default(cfg);
	cfg->max_events = 16;
	cfg->max_seats = 4096;
	cfg->max_items = 64;
	cfg->max_customers = 64;
	cfg->max_holds = 256;
	cfg->max_orders = 256;
	cfg->max_lines = 8192;
	cfg->string_bytes = 1u << 20;
	cfg->idem_entries = 64;
	cfg->idem_bytes = 1u << 20;
	cfg->idem_retention_ms = 3600 * FX_SEC;
	cfg->shipping_fee = 0;
	cfg->free_shipping_over = 0;
	cfg->hold_lifetime_max_s = HF_HOLD_LIFETIME_MAX_S;
}

struct fx *fx_new(const struct hf_sm_config *cfg)
{
	struct hf_sm_config c;
	if (cfg)
		c = *cfg;
	else
		fx_config(&c);
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	char err[256] = "";
	f->sm = hf_sm_init(&c, err, sizeof(err));
	if (!f->sm)
		fail_msg("hf_sm_init: %s", err);
	f->now = FX_T0;
	fx_ok_at(f, cmd_tick(), __FILE__, __LINE__);
	return f;
}

void fx_free(struct fx *f)
{
	if (!f)
		return;
	hf_sm_free(f->sm);
	free(f);
}

void fx_check_at(struct fx *f, const char *file, int line)
{
	char msg[512] = "";
	if (hf_sm_check(f->sm, msg, sizeof(msg)) != 0)
		fail_msg("%s:%d: hf_sm_check: %s", file, line, msg);
}

uint64_t fx_digest(const struct fx *f)
{
	return hf_sm_digest(f->sm);
}

/* Every reply the core gives must encode, within HF_REPLY_BYTES_MAX, and
 * decode back to itself (the idempotency table stores it so). */
static void check_reply_codec(const struct hf_reply *r, const char *file, int line)
{
	uint8_t buf[HF_REPLY_BYTES_MAX];
	int64_t n = hf_reply_encode(r, buf, sizeof(buf));
	if (n <= 0)
		fail_msg("%s:%d: the reply (%s) does not encode", file, line,
			 hf_result_name((enum hf_result)r->result));
	static struct hf_reply back;
	if (hf_reply_decode(buf, (size_t)n, &back) != n)
		fail_msg("%s:%d: the reply does not decode", file, line);
	uint8_t again[HF_REPLY_BYTES_MAX];
	if (hf_reply_encode(&back, again, sizeof(again)) != n || memcmp(buf, again, (size_t)n))
		fail_msg("%s:%d: the reply does not round-trip", file, line);
}

const struct hf_reply *fx_apply_at(struct fx *f, struct hf_cmd c, const char *file, int line)
{
	/* Poison the reply so a field the core forgets to set shows up. */
	memset(&f->r, 0xa5, sizeof(f->r));
	f->r.replayed = false; /* a bool must hold 0 or 1 */
	hf_sm_apply(f->sm, f->now, &c, &f->r);
	fx_check_at(f, file, line);
	if (f->r.result >= HF_RESULT_COUNT)
		fail_msg("%s:%d: result %u out of range", file, line, f->r.result);
	check_reply_codec(&f->r, file, line);
	return &f->r;
}

const struct hf_reply *fx_ok_at(struct fx *f, struct hf_cmd c, const char *file, int line)
{
	const struct hf_reply *r = fx_apply_at(f, c, file, line);
	if (r->result != HF_OK)
		fail_msg("%s:%d: %s refused with %s, want ok", file, line,
			 hf_cmd_type_name((enum hf_cmd_type)c.type),
			 hf_result_name((enum hf_result)r->result));
	return r;
}

const struct hf_reply *fx_refuse_at(struct fx *f, struct hf_cmd c, enum hf_result want,
				    const char *file, int line)
{
	uint64_t before = fx_digest(f);
	struct hf_sm_stats s0, s1;
	hf_sm_stats(f->sm, &s0);
	const struct hf_reply *r = fx_apply_at(f, c, file, line);
	if (r->result != want)
		fail_msg("%s:%d: %s gave %s, want %s", file, line,
			 hf_cmd_type_name((enum hf_cmd_type)c.type),
			 hf_result_name((enum hf_result)r->result), hf_result_name(want));
	if (r->replayed)
		fail_msg("%s:%d: a fresh refusal is marked replayed", file, line);
	uint64_t after = fx_digest(f);
	hf_sm_stats(f->sm, &s1);
	if (before != after)
		fail_msg("%s:%d: refusal %s changed the state digest", file, line,
			 hf_result_name(want));
	if (s0.holds_active != s1.holds_active || s0.holds_kept != s1.holds_kept ||
	    s0.orders != s1.orders || s0.customers != s1.customers ||
	    s0.lines_used != s1.lines_used || s0.events != s1.events || s0.items != s1.items ||
	    s0.items_available != s1.items_available || s0.items_held != s1.items_held ||
	    s0.items_sold != s1.items_sold ||
	    memcmp(s0.seats_by_state, s1.seats_by_state, sizeof(s0.seats_by_state)))
		fail_msg("%s:%d: refusal %s changed the stats", file, line, hf_result_name(want));
	return r;
}

void fx_advance(struct fx *f, int64_t ms)
{
	assert_true(ms >= 0);
	f->now += ms;
	fx_ok_at(f, cmd_tick(), __FILE__, __LINE__);
}

void fx_at(struct fx *f, int64_t at_ms)
{
	assert_true(at_ms >= f->now);
	fx_advance(f, at_ms - f->now);
}

/* ---- catalog ----------------------------------------------------------- */

void ev_init(struct ev *v, const char *id, uint32_t n_seats, int64_t price)
{
	memset(v, 0, sizeof(*v));
	v->seats = calloc(n_seats ? n_seats : 1, sizeof(*v->seats));
	v->ids = calloc(n_seats ? n_seats : 1, sizeof(*v->ids));
	assert_non_null(v->seats);
	assert_non_null(v->ids);
	for (uint32_t i = 0; i < n_seats; i++) {
		snprintf(v->ids[i], sizeof(v->ids[i]), "%u", i + 1);
		v->seats[i] = (struct hf_seat_spec){
			.id = hf_str_c(v->ids[i]),
			.section = hf_str_c("A"),
			.row = hf_str_c("1"),
			.number = (int32_t)(i + 1),
			.price = price,
		};
	}
	v->e.id = hf_str_c(id);
	v->e.name = hf_str_c("An event");
	v->e.starts_at_ms = FX_T0 + 30LL * 24 * 3600 * FX_SEC;
	v->e.n_seats = n_seats;
	v->e.seats = v->seats;
}

void ev_free(struct ev *v)
{
	free(v->seats);
	free(v->ids);
	memset(v, 0, sizeof(*v));
}

struct hf_cmd cmd_tick(void)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = HF_CMD_TICK;
	return c;
}

struct hf_cmd cmd_event(const struct ev *v)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = HF_CMD_EVENT_CREATE;
	c.admin = true;
	c.u.event_create = v->e;
	return c;
}

/* Names for cmd_block: a ring of buffers so that a few commands can be
 * built before they are applied. */
static struct hf_str *block_names(const char *csv, uint32_t *n /* out */)
{
	static char text[4][4096];
	static struct hf_str names[4][256];
	static unsigned ring;
	unsigned k = ring++ % 4;
	snprintf(text[k], sizeof(text[k]), "%s", csv);
	*n = 0;
	char *p = text[k];
	while (*p) {
		char *comma = strchr(p, ',');
		uint32_t len = comma ? (uint32_t)(comma - p) : (uint32_t)strlen(p);
		assert_true(*n < 256);
		names[k][(*n)++] = (struct hf_str){p, len};
		if (!comma)
			break;
		p = comma + 1;
	}
	return names[k];
}

struct hf_cmd cmd_block(uint8_t type, const char *event, const char *csv)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = type;
	c.admin = true;
	c.u.seats_block.event = hf_str_c(event);
	c.u.seats_block.seats = block_names(csv, &c.u.seats_block.n_seats);
	return c;
}

struct hf_cmd cmd_item(const char *id, int64_t price, uint32_t stock)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = HF_CMD_ITEM_CREATE;
	c.admin = true;
	c.u.item_create.id = hf_str_c(id);
	c.u.item_create.name = hf_str_c("An item");
	c.u.item_create.price = price;
	c.u.item_create.stock = stock;
	return c;
}

struct hf_cmd cmd_restock(const char *id, uint32_t quantity)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = HF_CMD_ITEM_RESTOCK;
	c.admin = true;
	c.u.item_restock.item = hf_str_c(id);
	c.u.item_restock.quantity = quantity;
	return c;
}

uint32_t fx_event(struct fx *f, const char *id, uint32_t n_seats, int64_t price)
{
	struct ev v;
	ev_init(&v, id, n_seats, price);
	const struct hf_reply *r = FX_OK(f, cmd_event(&v));
	assert_int_equal(r->kind, HF_REPLY_EVENT);
	uint32_t index = r->index;
	ev_free(&v);
	return index;
}

uint32_t fx_item(struct fx *f, const char *id, int64_t price, uint32_t stock)
{
	const struct hf_reply *r = FX_OK(f, cmd_item(id, price, stock));
	assert_int_equal(r->kind, HF_REPLY_ITEM);
	return r->index;
}

/* ---- lines ------------------------------------------------------------- */

void ln_clear(struct lines *l)
{
	l->n_seats = 0;
	l->n_items = 0;
	l->n_names = 0;
}

static const char *ln_name(struct lines *l, const char *p, size_t len)
{
	assert_true(l->n_names < sizeof(l->names) / sizeof(l->names[0]));
	assert_true(len <= HF_ID_LEN_MAX + 1);
	char *dst = l->names[l->n_names++];
	memcpy(dst, p, len);
	dst[len] = 0;
	return dst;
}

struct lines *ln_seats(struct lines *l, const char *event, const char *csv)
{
	const char *p = csv;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		assert_true(l->n_seats < sizeof(l->seats) / sizeof(l->seats[0]));
		l->seats[l->n_seats++] = (struct hf_seat_ref){hf_str_c(event),
							      hf_str_c(ln_name(l, p, len))};
		if (!comma)
			break;
		p = comma + 1;
	}
	return l;
}

struct lines *ln_item(struct lines *l, const char *item, uint32_t quantity, bool partial)
{
	assert_true(l->n_items < sizeof(l->items) / sizeof(l->items[0]));
	l->items[l->n_items++] = (struct hf_item_ref){hf_str_c(item), quantity, partial};
	return l;
}

struct hf_cmd cmd_lines(uint8_t type, const char *customer, uint64_t hold, uint32_t ttl_s,
			const struct lines *l)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = type;
	c.customer = hf_str_c(customer);
	c.u.lines.hold = hold;
	c.u.lines.ttl_s = ttl_s;
	c.u.lines.n_seats = l->n_seats;
	c.u.lines.seats = l->seats;
	c.u.lines.n_items = l->n_items;
	c.u.lines.items = l->items;
	return c;
}

struct hf_cmd cmd_hold(uint8_t type, const char *customer, uint64_t hold, uint32_t ttl_s)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = type;
	c.customer = hf_str_c(customer);
	c.u.hold_op.hold = hold;
	c.u.hold_op.ttl_s = ttl_s;
	return c;
}

struct hf_cmd cmd_order(uint8_t type, const char *customer, uint64_t order, uint8_t status,
			uint8_t expect)
{
	struct hf_cmd c;
	memset(&c, 0, sizeof(c));
	c.type = type;
	c.customer = hf_str_c(customer);
	c.u.order_op.order = order;
	c.u.order_op.status = status;
	c.u.order_op.expect = expect;
	return c;
}

struct hf_cmd as_admin(struct hf_cmd c)
{
	c.admin = true;
	return c;
}

struct hf_cmd with_key(struct hf_cmd c, const char *key, uint64_t fingerprint)
{
	c.idem_key = hf_str_c(key);
	c.idem_fingerprint = fingerprint;
	return c;
}

uint64_t fx_hold(struct fx *f, const char *customer, const char *event, const char *csv)
{
	static struct lines l;
	ln_clear(&l);
	ln_seats(&l, event, csv);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, customer, 0, 0, &l));
	assert_int_equal(r->kind, HF_REPLY_HOLD);
	return r->booking.id;
}

uint64_t fx_buy(struct fx *f, const char *customer, const char *event, const char *csv)
{
	static struct lines l;
	ln_clear(&l);
	ln_seats(&l, event, csv);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, customer, 0, 0, &l));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	return r->booking.id;
}

/* ---- reads ------------------------------------------------------------- */

uint32_t fx_event_index(struct fx *f, const char *event)
{
	int64_t e = hf_sm_event_find(f->sm, hf_str_c(event));
	if (e < 0)
		fail_msg("no event %s", event);
	return (uint32_t)e;
}

uint32_t fx_seat(struct fx *f, const char *event, const char *seat)
{
	int64_t s = hf_sm_seat_find(f->sm, fx_event_index(f, event), hf_str_c(seat));
	if (s < 0)
		fail_msg("no seat %s of %s", seat, event);
	return (uint32_t)s;
}

uint8_t fx_seat_state(struct fx *f, const char *event, const char *seat)
{
	struct hf_seat_info info;
	hf_sm_seat_info(f->sm, fx_seat(f, event, seat), &info);
	return info.state;
}

uint32_t fx_item_index(struct fx *f, const char *item)
{
	int64_t i = hf_sm_item_find(f->sm, hf_str_c(item));
	if (i < 0)
		fail_msg("no item %s", item);
	return (uint32_t)i;
}

struct hf_item_info fx_item_info(struct fx *f, const char *item)
{
	struct hf_item_info info;
	hf_sm_item_info(f->sm, fx_item_index(f, item), &info);
	return info;
}

uint32_t fx_customer(struct fx *f, const char *customer)
{
	int64_t c = hf_sm_customer_find(f->sm, hf_str_c(customer));
	if (c < 0)
		fail_msg("no customer %s", customer);
	return (uint32_t)c;
}

struct hf_booking fx_hold_view(struct fx *f, uint64_t id)
{
	static struct hf_booking b;
	enum hf_result r = hf_sm_hold_view(f->sm, id, &b);
	if (r != HF_OK)
		fail_msg("hold %llu: %s", (unsigned long long)id, hf_result_name(r));
	return b;
}

struct hf_booking fx_order_view(struct fx *f, uint64_t id)
{
	static struct hf_booking b;
	enum hf_result r = hf_sm_order_view(f->sm, id, &b);
	if (r != HF_OK)
		fail_msg("order %llu: %s", (unsigned long long)id, hf_result_name(r));
	return b;
}

/* The seat indices of csv ("" is none) of event. */
static uint32_t seat_list(struct fx *f, const char *event, const char *csv,
			  uint32_t *want /* out */)
{
	uint32_t n = 0;
	const char *p = csv;
	char name[HF_ID_LEN_MAX + 2];
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		assert_true(len < sizeof(name) && n < HF_HOLD_SEATS_MAX);
		memcpy(name, p, len);
		name[len] = 0;
		want[n++] = fx_seat(f, event, name);
		if (!comma)
			break;
		p = comma + 1;
	}
	return n;
}

void fx_assert_booking_seats_at(struct fx *f, const struct hf_booking *b, const char *event,
				const char *csv, const char *file, int line)
{
	uint32_t want[HF_HOLD_SEATS_MAX];
	uint32_t n = seat_list(f, event, csv, want);
	if (b->n_seats != n)
		fail_msg("%s:%d: %u seat lines, want %u (%s)", file, line, b->n_seats, n, csv);
	for (uint32_t i = 0; i < n; i++)
		if (b->seats[i].seat != want[i])
			fail_msg("%s:%d: seats[%u] = %u, want %u (seat %u of %s)", file, line, i,
				 b->seats[i].seat, want[i], i, csv);
}

void fx_assert_bad_seats_at(struct fx *f, const struct hf_reply *r, const char *event,
			    const char *csv, const char *file, int line)
{
	uint32_t want[HF_HOLD_SEATS_MAX];
	uint32_t n = seat_list(f, event, csv, want);
	if (r->n_bad_seats != n)
		fail_msg("%s:%d: %u bad seats, want %u (%s)", file, line, r->n_bad_seats, n, csv);
	for (uint32_t i = 0; i < n; i++)
		if (r->bad_seats[i] != want[i])
			fail_msg("%s:%d: bad_seats[%u] = %u, want %u (seat %u of %s)", file, line,
				 i, r->bad_seats[i], want[i], i, csv);
}
