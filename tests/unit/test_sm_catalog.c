/*
 * test_sm_catalog.c: the catalog commands of sm.h's SEMANTICS: TICK,
 * EVENT_CREATE, SEATS_BLOCK / SEATS_UNBLOCK, ITEM_CREATE, ITEM_RESTOCK.
 * Every refusal is checked to change nothing (digest and stats equal) and
 * the check order of sm.h is probed where two checks would both fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_fixture.h"

/* A string of n copies of c (a ring of static buffers). */
static struct hf_str rep(char c, uint32_t n)
{
	static char ring[6][HF_TEXT_LEN_MAX + 8];
	static unsigned next;
	char *p = ring[next++ % 6];
	assert_true(n < sizeof(ring[0]));
	memset(p, c, n);
	p[n] = 0;
	return (struct hf_str){p, n};
}

/* ---- TICK -------------------------------------------------------------- */

static void test_tick(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	assert_true(hf_sm_now(f->sm) == FX_T0);
	const struct hf_reply *r = FX_OK(f, cmd_tick());
	assert_int_equal(r->kind, HF_REPLY_NONE);
	assert_false(r->replayed);
	fx_advance(f, 1500);
	assert_true(hf_sm_now(f->sm) == FX_T0 + 1500);

	/* Time never runs backwards: an earlier now_ms leaves the clock. */
	struct hf_reply back;
	struct hf_cmd t = cmd_tick();
	hf_sm_apply(f->sm, FX_T0, &t, &back);
	assert_int_equal(back.result, HF_OK);
	assert_true(hf_sm_now(f->sm) == FX_T0 + 1500);
	FX_CHECK(f);
	fx_free(f);
}

/* ---- EVENT_CREATE ------------------------------------------------------ */

static void test_event_create(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_init(&v, "show-1", 10, 5000);
	v.seats[2].category = hf_str_c("vip");
	v.seats[2].price = 9000;
	const struct hf_reply *r = FX_OK(f, cmd_event(&v));
	assert_int_equal(r->kind, HF_REPLY_EVENT);
	uint32_t e = r->index;
	assert_int_equal(hf_sm_event_count(f->sm), 1);
	assert_true(hf_sm_event_find(f->sm, hf_str_c("show-1")) == e);
	assert_true(hf_sm_event_find(f->sm, hf_str_c("show-2")) == -1);
	assert_true(hf_str_eq(hf_sm_event_id(f->sm, e), hf_str_c("show-1")));

	struct hf_event_info info;
	hf_sm_event_info(f->sm, e, &info);
	assert_true(hf_str_eq(info.id, hf_str_c("show-1")));
	assert_true(hf_str_eq(info.name, hf_str_c("An event")));
	assert_true(info.starts_at_ms == v.e.starts_at_ms);
	assert_int_equal(info.hold_ttl_s, HF_HOLD_TTL_DEFAULT_S); /* 0 is the default */
	assert_int_equal(info.max_per_customer, 0);
	assert_true(info.sale_opens_at_ms == 0 && info.sale_closes_at_ms == 0);
	assert_int_equal(info.n_seats, 10);
	assert_int_equal(info.count[HF_SEAT_FREE], 10);
	assert_int_equal(info.count[HF_SEAT_HELD] + info.count[HF_SEAT_SOLD] +
				 info.count[HF_SEAT_BLOCKED], 0);

	for (uint32_t i = 0; i < 10; i++) {
		struct hf_seat_info s;
		hf_sm_seat_info(f->sm, info.first_seat + i, &s);
		assert_true(hf_str_eq(s.id, v.seats[i].id));
		assert_int_equal(s.number, (int32_t)i + 1);
		assert_true(s.price == v.seats[i].price);
		assert_int_equal(s.state, HF_SEAT_FREE);
		assert_int_equal(s.event, e);
		assert_true(hf_str_eq(s.section, hf_str_c("A")));
		assert_true(hf_sm_seat_find(f->sm, e, s.id) == info.first_seat + i);
		uint32_t ev_of = UINT32_MAX;
		assert_true(hf_str_eq(hf_sm_seat_id(f->sm, info.first_seat + i, &ev_of), s.id));
		assert_int_equal(ev_of, e);
	}
	struct hf_seat_info s3;
	hf_sm_seat_info(f->sm, fx_seat(f, "show-1", "3"), &s3);
	assert_true(hf_str_eq(s3.category, hf_str_c("vip")));
	assert_true(s3.price == 9000);
	assert_true(hf_sm_seat_find(f->sm, e, hf_str_c("11")) == -1);

	/* A second event keeps its own settings. */
	struct ev w;
	ev_init(&w, "show-2", 3, 100);
	w.e.hold_ttl_s = 120;
	w.e.max_per_customer = 4;
	w.e.sale_opens_at_ms = FX_T0 - 1;
	w.e.sale_closes_at_ms = FX_T0 + 3600 * FX_SEC;
	r = FX_OK(f, cmd_event(&w));
	uint32_t e2 = r->index;
	assert_int_not_equal(e2, e);
	hf_sm_event_info(f->sm, e2, &info);
	assert_int_equal(info.hold_ttl_s, 120);
	assert_int_equal(info.max_per_customer, 4);
	assert_true(info.sale_opens_at_ms == FX_T0 - 1);
	assert_true(info.sale_closes_at_ms == FX_T0 + 3600 * FX_SEC);
	/* Seat ids are per event. */
	assert_int_not_equal(fx_seat(f, "show-1", "1"), fx_seat(f, "show-2", "1"));
	ev_free(&w);
	ev_free(&v);
	fx_free(f);
}

/* One way to spoil a valid event; applied to a fresh copy each time. */
struct event_spoiler {
	const char *what;
	void (*spoil)(struct ev *v);
};

static void sp_id_empty(struct ev *v) { v->e.id = hf_str_c(""); }
static void sp_id_space(struct ev *v) { v->e.id = hf_str_c("show 1"); }
static void sp_id_slash(struct ev *v) { v->e.id = hf_str_c("show/1"); }
static void sp_id_long(struct ev *v) { v->e.id = rep('x', HF_ID_LEN_MAX + 1); }
static void sp_name_empty(struct ev *v) { v->e.name = hf_str_c(""); }
static void sp_name_long(struct ev *v) { v->e.name = rep('n', HF_NAME_LEN_MAX + 1); }
static void sp_starts_neg(struct ev *v) { v->e.starts_at_ms = -1; }
static void sp_starts_big(struct ev *v) { v->e.starts_at_ms = HF_TIME_MS_MAX + 1; }
static void sp_ttl(struct ev *v) { v->e.hold_ttl_s = HF_HOLD_LIFETIME_MAX_S + 1; }
static void sp_window(struct ev *v)
{
	v->e.sale_opens_at_ms = FX_T0 + 2000;
	v->e.sale_closes_at_ms = FX_T0 + 1000;
}
static void sp_window_empty(struct ev *v)
{
	v->e.sale_opens_at_ms = FX_T0 + 1000;
	v->e.sale_closes_at_ms = FX_T0 + 1000;
}
static void sp_opens_neg(struct ev *v) { v->e.sale_opens_at_ms = -5; }
static void sp_closes_big(struct ev *v) { v->e.sale_closes_at_ms = HF_TIME_MS_MAX + 1; }
static void sp_no_seats(struct ev *v) { v->e.n_seats = 0; }
static void sp_seat_id(struct ev *v) { v->seats[1].id = hf_str_c("A 2"); }
static void sp_seat_id_empty(struct ev *v) { v->seats[2].id = hf_str_c(""); }
static void sp_section(struct ev *v) { v->seats[0].section = rep('s', HF_NAME_LEN_MAX + 1); }
static void sp_row(struct ev *v) { v->seats[0].row = rep('r', HF_NAME_LEN_MAX + 1); }
static void sp_category(struct ev *v) { v->seats[3].category = rep('c', HF_NAME_LEN_MAX + 1); }
static void sp_price_neg(struct ev *v) { v->seats[3].price = -1; }
static void sp_price_big(struct ev *v) { v->seats[3].price = HF_PRICE_MAX + 1; }

/* Columns: what is wrong, how to make it so. */
static const struct event_spoiler event_spoilers[] = {
	{"empty id", sp_id_empty},
	{"id with a space", sp_id_space},
	{"id with a slash", sp_id_slash},
	{"id of 65 bytes", sp_id_long},
	{"empty name", sp_name_empty},
	{"name of 201 bytes", sp_name_long},
	{"negative starts_at", sp_starts_neg},
	{"starts_at past year 9999", sp_starts_big},
	{"hold_ttl_s above the lifetime max", sp_ttl},
	{"sale opens after it closes", sp_window},
	{"sale opens when it closes", sp_window_empty},
	{"negative sale_opens_at", sp_opens_neg},
	{"sale_closes_at past year 9999", sp_closes_big},
	{"no seats", sp_no_seats},
	{"seat id with a space", sp_seat_id},
	{"empty seat id", sp_seat_id_empty},
	{"section of 201 bytes", sp_section},
	{"row of 201 bytes", sp_row},
	{"category of 201 bytes", sp_category},
	{"negative price", sp_price_neg},
	{"price above HF_PRICE_MAX", sp_price_big},
};

static void test_event_create_bad_request(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	for (size_t i = 0; i < sizeof(event_spoilers) / sizeof(event_spoilers[0]); i++) {
		struct ev v;
		ev_init(&v, "show-1", 5, 1000);
		event_spoilers[i].spoil(&v);
		print_message("event_create refused: %s\n", event_spoilers[i].what);
		FX_REFUSE(f, cmd_event(&v), HF_BAD_REQUEST);
		ev_free(&v);
	}
	assert_int_equal(hf_sm_event_count(f->sm), 0);

	/* The bounds themselves are valid. */
	struct ev v;
	ev_init(&v, "", 5, HF_PRICE_MAX);
	v.e.id = rep('i', HF_ID_LEN_MAX);
	v.e.name = rep('n', HF_NAME_LEN_MAX);
	v.e.hold_ttl_s = HF_HOLD_LIFETIME_MAX_S;
	v.e.starts_at_ms = HF_TIME_MS_MAX;
	v.e.sale_opens_at_ms = FX_T0 - 1; /* open, no close */
	v.seats[0].id = hf_str_c("Aa0._:-z");
	v.seats[0].section = rep('s', HF_NAME_LEN_MAX);
	v.seats[0].row = rep('r', HF_NAME_LEN_MAX);
	v.seats[0].category = rep('c', HF_NAME_LEN_MAX);
	v.seats[1].price = 0;
	v.seats[2].section = hf_str_c("");
	v.seats[2].row = hf_str_c("");
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	fx_free(f);
}

static void test_event_create_too_many_seats(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_init(&v, "stadium", HF_EVENT_SEATS_MAX + 1, 100);
	FX_REFUSE(f, cmd_event(&v), HF_TOO_MANY_LINES);
	/* A bad field is found first. */
	v.e.name = hf_str_c("");
	FX_REFUSE(f, cmd_event(&v), HF_BAD_REQUEST);
	ev_free(&v);
	fx_free(f);
}

static void test_event_create_exists_and_duplicates(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show-1", 4, 100);
	struct ev v;
	ev_init(&v, "show-1", 4, 100);
	FX_REFUSE(f, cmd_event(&v), HF_ALREADY_EXISTS);
	/* Two seats with one id: ALREADY_EXISTS is checked first ... */
	v.seats[3].id = v.seats[1].id;
	FX_REFUSE(f, cmd_event(&v), HF_ALREADY_EXISTS);
	/* ... and alone it is BAD_REQUEST. */
	v.e.id = hf_str_c("show-2");
	FX_REFUSE(f, cmd_event(&v), HF_BAD_REQUEST);
	assert_true(hf_sm_event_find(f->sm, hf_str_c("show-2")) == -1);
	ev_free(&v);
	fx_free(f);
}

static void test_event_create_capacity(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_events = 2;
	cfg.max_seats = 10;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "e1", 8, 100);
	struct ev v;
	ev_init(&v, "e2", 3, 100);
	FX_REFUSE(f, cmd_event(&v), HF_CAPACITY_FULL); /* seats: 8 + 3 > 10 */
	v.e.n_seats = 2;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	ev_init(&v, "e3", 1, 100);
	FX_REFUSE(f, cmd_event(&v), HF_CAPACITY_FULL); /* events */
	/* Capacity comes before duplicate seat ids. */
	ev_free(&v);
	ev_init(&v, "e3", 2, 100);
	v.seats[1].id = v.seats[0].id;
	FX_REFUSE(f, cmd_event(&v), HF_CAPACITY_FULL);
	ev_free(&v);
	fx_free(f);

	/* The string pool: long names fill it, and the refusal is clean. */
	fx_config(&cfg);
	cfg.string_bytes = 4096;
	f = fx_new(&cfg);
	bool full = false;
	for (int i = 0; i < 64 && !full; i++) {
		char id[16];
		snprintf(id, sizeof(id), "ev%d", i);
		ev_init(&v, id, 1, 100);
		v.e.name = rep('n', HF_NAME_LEN_MAX);
		v.seats[0].section = rep('s', HF_NAME_LEN_MAX);
		v.seats[0].row = rep('r', HF_NAME_LEN_MAX);
		uint64_t before = fx_digest(f);
		const struct hf_reply *r = FX_APPLY(f, cmd_event(&v));
		if (r->result == HF_CAPACITY_FULL) {
			full = true;
			assert_true(fx_digest(f) == before);
			assert_true(hf_sm_event_find(f->sm, hf_str_c(id)) == -1);
		} else {
			ASSERT_RESULT(r->result, HF_OK);
		}
		ev_free(&v);
	}
	assert_true(full);
	fx_free(f);
}

/* ---- SEATS_BLOCK / SEATS_UNBLOCK --------------------------------------- */

static void test_block_unblock(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	uint32_t e = fx_event(f, "show", 6, 100);
	const struct hf_reply *r = FX_OK(f, cmd_block(HF_CMD_SEATS_BLOCK, "show", "2,3"));
	assert_int_equal(r->kind, HF_REPLY_EVENT);
	assert_int_equal(r->index, e);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_BLOCKED);
	assert_int_equal(fx_seat_state(f, "show", "3"), HF_SEAT_BLOCKED);
	assert_int_equal(fx_seat_state(f, "show", "4"), HF_SEAT_FREE);
	struct hf_event_info info;
	hf_sm_event_info(f->sm, e, &info);
	assert_int_equal(info.count[HF_SEAT_BLOCKED], 2);
	assert_int_equal(info.count[HF_SEAT_FREE], 4);

	/* Blocking a blocked seat, and naming a seat twice, are fine. */
	FX_OK(f, cmd_block(HF_CMD_SEATS_BLOCK, "show", "3,4,4"));
	hf_sm_event_info(f->sm, e, &info);
	assert_int_equal(info.count[HF_SEAT_BLOCKED], 3);

	/* A blocked seat is not for sale. */
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,3,5,4");
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_SEATS_BLOCKED);
	FX_BAD_SEATS(f, r, "show", "3,4");
	r = FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l), HF_SEATS_BLOCKED);
	FX_BAD_SEATS(f, r, "show", "3,4");

	/* Unblock makes it FREE (a free seat named is fine too). */
	r = FX_OK(f, cmd_block(HF_CMD_SEATS_UNBLOCK, "show", "2,3,4,6"));
	assert_int_equal(r->kind, HF_REPLY_EVENT);
	for (int s = 1; s <= 6; s++) {
		char id[4];
		snprintf(id, sizeof(id), "%d", s);
		assert_int_equal(fx_seat_state(f, "show", id), HF_SEAT_FREE);
	}
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	fx_free(f);
}

static void test_block_refusals(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 6, 100);
	uint64_t h = fx_hold(f, "alice", "show", "2");
	(void)h;
	fx_buy(f, "bob", "show", "4");

	for (uint8_t t = HF_CMD_SEATS_BLOCK; t <= HF_CMD_SEATS_UNBLOCK; t++) {
		FX_REFUSE(f, cmd_block(t, "show", ""), HF_BAD_REQUEST);
		FX_REFUSE(f, cmd_block(t, "show", "1,a b"), HF_BAD_REQUEST);
		FX_REFUSE(f, cmd_block(t, "no-such", "1"), HF_UNKNOWN_EVENT);
		const struct hf_reply *r = FX_REFUSE(f, cmd_block(t, "show", "1,99,3,77"),
						     HF_UNKNOWN_SEAT);
		assert_int_equal(r->n_bad_seats, 2);
		assert_int_equal(r->bad_seats[0], 1); /* request positions */
		assert_int_equal(r->bad_seats[1], 3);
		/* Unknown seats come before unavailable ones. */
		r = FX_REFUSE(f, cmd_block(t, "show", "2,99"), HF_UNKNOWN_SEAT);
		assert_int_equal(r->n_bad_seats, 1);
		assert_int_equal(r->bad_seats[0], 1);
		/* Every named seat that is HELD or SOLD, in request order. */
		r = FX_REFUSE(f, cmd_block(t, "show", "4,1,2,3"), HF_SEATS_UNAVAILABLE);
		FX_BAD_SEATS(f, r, "show", "4,2");
	}
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_HELD);
	assert_int_equal(fx_seat_state(f, "show", "4"), HF_SEAT_SOLD);
	fx_free(f);
}

static void test_block_too_many(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	uint32_t n = HF_BLOCK_SEATS_MAX + 1;
	struct hf_str *names = calloc(n, sizeof(*names));
	assert_non_null(names);
	for (uint32_t i = 0; i < n; i++)
		names[i] = hf_str_c("1");
	struct hf_cmd c = cmd_block(HF_CMD_SEATS_BLOCK, "show", "1");
	c.u.seats_block.n_seats = n;
	c.u.seats_block.seats = names;
	FX_REFUSE(f, c, HF_TOO_MANY_LINES);
	names[7] = hf_str_c("bad id");
	FX_REFUSE(f, c, HF_BAD_REQUEST); /* ids are checked first */
	free(names);
	fx_free(f);
}

/* ---- ITEM_CREATE ------------------------------------------------------- */

static void test_item_create(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct hf_cmd c = cmd_item("mug", 1299, 7);
	c.u.item_create.category = hf_str_c("kitchen");
	c.u.item_create.description = hf_str_c("A mug.");
	c.u.item_create.image_url = hf_str_c("https://example.com/mug.png");
	const struct hf_reply *r = FX_OK(f, c);
	assert_int_equal(r->kind, HF_REPLY_ITEM);
	uint32_t i = r->index;
	assert_int_equal(hf_sm_item_count(f->sm), 1);
	assert_true(hf_sm_item_find(f->sm, hf_str_c("mug")) == i);
	assert_true(hf_str_eq(hf_sm_item_id(f->sm, i), hf_str_c("mug")));
	struct hf_item_info info = fx_item_info(f, "mug");
	assert_true(hf_str_eq(info.name, hf_str_c("An item")));
	assert_true(hf_str_eq(info.category, hf_str_c("kitchen")));
	assert_true(hf_str_eq(info.description, hf_str_c("A mug.")));
	assert_true(hf_str_eq(info.image_url, hf_str_c("https://example.com/mug.png")));
	assert_true(info.price == 1299);
	assert_int_equal(info.available, 7);
	assert_int_equal(info.held, 0);
	assert_int_equal(info.sold, 0);
	/* Stock 0 and the bounds are fine. */
	uint32_t z = fx_item(f, "empty", 0, 0);
	assert_int_not_equal(z, i);
	c = cmd_item("", HF_PRICE_MAX, HF_STOCK_MAX);
	c.u.item_create.id = rep('i', HF_ID_LEN_MAX);
	c.u.item_create.name = rep('n', HF_NAME_LEN_MAX);
	c.u.item_create.category = rep('c', HF_NAME_LEN_MAX);
	c.u.item_create.description = rep('d', HF_TEXT_LEN_MAX);
	c.u.item_create.image_url = rep('u', HF_TEXT_LEN_MAX);
	FX_OK(f, c);
	fx_free(f);
}

static void test_item_create_refusals(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_items = 2;
	struct fx *f = fx_new(&cfg);
	struct hf_cmd c;
	/* Columns of each case: field spoiled as the code shows. */
	c = cmd_item("", 100, 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug#1", 100, 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug", 100, 1);
	c.u.item_create.id = rep('i', HF_ID_LEN_MAX + 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug", 100, 1);
	c.u.item_create.name = hf_str_c("");
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug", 100, 1);
	c.u.item_create.name = rep('n', HF_NAME_LEN_MAX + 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug", 100, 1);
	c.u.item_create.category = rep('c', HF_NAME_LEN_MAX + 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug", 100, 1);
	c.u.item_create.description = rep('d', HF_TEXT_LEN_MAX + 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	c = cmd_item("mug", 100, 1);
	c.u.item_create.image_url = rep('u', HF_TEXT_LEN_MAX + 1);
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_item("mug", -1, 1), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_item("mug", HF_PRICE_MAX + 1, 1), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_item("mug", 100, HF_STOCK_MAX + 1), HF_BAD_REQUEST);

	fx_item(f, "mug", 100, 1);
	FX_REFUSE(f, cmd_item("mug", 200, 5), HF_ALREADY_EXISTS);
	/* Fields come before existence. */
	FX_REFUSE(f, cmd_item("mug", -1, 5), HF_BAD_REQUEST);
	fx_item(f, "cap", 100, 1);
	FX_REFUSE(f, cmd_item("hat", 100, 1), HF_CAPACITY_FULL);
	/* Existence comes before capacity. */
	FX_REFUSE(f, cmd_item("cap", 100, 1), HF_ALREADY_EXISTS);
	assert_true(hf_sm_item_find(f->sm, hf_str_c("hat")) == -1);
	struct hf_item_info info = fx_item_info(f, "mug");
	assert_true(info.price == 100);
	assert_int_equal(info.available, 1);
	fx_free(f);
}

/* ---- ITEM_RESTOCK ------------------------------------------------------ */

static void test_item_restock(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	uint32_t i = fx_item(f, "mug", 100, 3);
	const struct hf_reply *r = FX_OK(f, cmd_restock("mug", 4));
	assert_int_equal(r->kind, HF_REPLY_ITEM);
	assert_int_equal(r->index, i);
	assert_int_equal(fx_item_info(f, "mug").available, 7);

	FX_REFUSE(f, cmd_restock("mug", 0), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_restock("mug", HF_STOCK_MAX + 1), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_restock("no-such", 1), HF_UNKNOWN_ITEM);
	FX_REFUSE(f, cmd_restock("no-such", 0), HF_BAD_REQUEST); /* quantity first */

	/* The stock bound counts available + held + sold. */
	fx_item(f, "big", 100, HF_STOCK_MAX - 5);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "big", 2, false);
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	ln_clear(&l);
	ln_item(&l, "big", 1, false);
	FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
	struct hf_item_info info = fx_item_info(f, "big");
	assert_int_equal(info.available, HF_STOCK_MAX - 8);
	assert_int_equal(info.held, 2);
	assert_int_equal(info.sold, 1);
	r = FX_REFUSE(f, cmd_restock("big", 6), HF_LIMIT_EXCEEDED);
	FX_OK(f, cmd_restock("big", 5));
	info = fx_item_info(f, "big");
	assert_int_equal(info.available + info.held + info.sold, HF_STOCK_MAX);
	FX_REFUSE(f, cmd_restock("big", 1), HF_LIMIT_EXCEEDED);
	fx_free(f);
}

/* ---- init -------------------------------------------------------------- */

static void test_init_rejects_bad_config(void **state)
{
	(void)state;
	char err[256] = "";
	struct hf_sm_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	assert_null(hf_sm_init(&cfg, err, sizeof(err))); /* a zeroed config is invalid */
	assert_true(err[0] != 0);
	fx_config(&cfg);
	cfg.max_events = 0;
	err[0] = 0;
	assert_null(hf_sm_init(&cfg, err, sizeof(err)));
	assert_true(err[0] != 0);
	fx_config(&cfg);
	struct hf_sm *sm = hf_sm_init(&cfg, err, sizeof(err));
	assert_non_null(sm);
	assert_memory_equal(hf_sm_config(sm), &cfg, sizeof(cfg));
	char msg[256];
	assert_int_equal(hf_sm_check(sm, msg, sizeof(msg)), 0);
	assert_true(hf_sm_now(sm) == 0);
	hf_sm_free(sm);
	hf_sm_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_config),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_event_create),
		cmocka_unit_test(test_event_create_bad_request),
		cmocka_unit_test(test_event_create_too_many_seats),
		cmocka_unit_test(test_event_create_exists_and_duplicates),
		cmocka_unit_test(test_event_create_capacity),
		cmocka_unit_test(test_block_unblock),
		cmocka_unit_test(test_block_refusals),
		cmocka_unit_test(test_block_too_many),
		cmocka_unit_test(test_item_create),
		cmocka_unit_test(test_item_create_refusals),
		cmocka_unit_test(test_item_restock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
