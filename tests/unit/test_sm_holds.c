/*
 * test_sm_holds.c: holds as sm.h's SEMANTICS defines them: HOLD_CREATE and
 * the resolution of lines, taking inventory (sale window, customer limits,
 * unavailable / blocked seats, stock), HOLD_ADD, HOLD_REMOVE, HOLD_EXTEND,
 * HOLD_RELEASE, HOLD_CONFIRM, hold-slot recycling, the customer's hold
 * list, and two of SPEC.md's seed scenarios: the seat race and the
 * 5-minute rule.
 *
 * Every refusal goes through FX_REFUSE: the result, then nothing changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_fixture.h"

static const uint8_t line_creators[] = {HF_CMD_HOLD_CREATE, HF_CMD_ORDER_CREATE};

/* ---- HOLD_CREATE ------------------------------------------------------- */

static void test_hold_create_seats(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 10, 5000);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "3,1");
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	assert_int_equal(r->kind, HF_REPLY_HOLD);
	assert_false(r->replayed);
	const struct hf_booking *b = &r->booking;
	assert_true(b->id == 1);
	assert_int_equal(b->customer, fx_customer(f, "alice"));
	assert_true(hf_str_eq(hf_sm_customer_name(f->sm, b->customer), hf_str_c("alice")));
	assert_int_equal(b->state, HF_HOLD_ACTIVE);
	assert_true(b->created_at_ms == FX_T0);
	assert_true(b->expires_at_ms == FX_T0 + 300 * FX_SEC);
	assert_true(b->order == 0);
	FX_BOOKING_SEATS(f, b, "show", "3,1");
	assert_true(b->seats[0].price == 5000 && b->seats[1].price == 5000);
	assert_int_equal(b->n_items, 0);
	assert_true(b->total == 10000);
	assert_true(b->fees == 0);
	assert_true(b->total_with_fees == 10000);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_HELD);
	assert_int_equal(fx_seat_state(f, "show", "3"), HF_SEAT_HELD);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_FREE);
	struct hf_event_info info;
	hf_sm_event_info(f->sm, fx_event_index(f, "show"), &info);
	assert_int_equal(info.count[HF_SEAT_HELD], 2);
	assert_int_equal(info.count[HF_SEAT_FREE], 8);

	/* The view shows what the reply showed. */
	struct hf_booking v = fx_hold_view(f, 1);
	assert_true(v.id == 1 && v.state == HF_HOLD_ACTIVE);
	assert_true(v.expires_at_ms == FX_T0 + 300 * FX_SEC);
	FX_BOOKING_SEATS(f, &v, "show", "3,1");
	assert_true(v.total == 10000);
	struct hf_booking none;
	assert_int_equal(hf_sm_hold_view(f->sm, 2, &none), HF_UNKNOWN_HOLD);
	assert_int_equal(hf_sm_hold_view(f->sm, 0, &none), HF_UNKNOWN_HOLD);

	/* Ids count up; ttl_s wins over the event's. */
	fx_advance(f, 10 * FX_SEC);
	ln_clear(&l);
	ln_seats(&l, "show", "2");
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 60, &l));
	assert_true(r->booking.id == 2);
	assert_true(r->booking.created_at_ms == FX_T0 + 10 * FX_SEC);
	assert_true(r->booking.expires_at_ms == FX_T0 + 70 * FX_SEC);
	assert_int_not_equal(r->booking.customer, fx_customer(f, "alice"));
	fx_free(f);
}

static void test_hold_create_ttl(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_init(&v, "slow", 4, 100);
	v.e.hold_ttl_s = 200;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	ev_init(&v, "fast", 4, 100);
	v.e.hold_ttl_s = 120;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	fx_item(f, "mug", 100, 10);

	/* ttl 0: the least hold_ttl_s of the seats' events. */
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "slow", "1");
	ln_seats(&l, "fast", "1");
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	assert_true(r->booking.expires_at_ms == FX_T0 + 120 * FX_SEC);
	ln_clear(&l);
	ln_seats(&l, "slow", "2");
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	assert_true(r->booking.expires_at_ms == FX_T0 + 200 * FX_SEC);
	/* No seats: the default. */
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	assert_true(r->booking.expires_at_ms == FX_T0 + HF_HOLD_TTL_DEFAULT_S * FX_SEC);
	/* The lifetime max itself is valid; one more is not. */
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, HF_HOLD_LIFETIME_MAX_S, &l));
	assert_true(r->booking.expires_at_ms == FX_T0 + HF_HOLD_LIFETIME_MAX_S * FX_SEC);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, HF_HOLD_LIFETIME_MAX_S + 1, &l),
		  HF_BAD_REQUEST);
	fx_free(f);
}

static void test_hold_create_items_and_merge(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	uint32_t mug = fx_item(f, "mug", 250, 10);
	uint32_t cap = fx_item(f, "cap", 1000, 2);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	ln_item(&l, "cap", 1, false);
	ln_item(&l, "mug", 2, false);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	const struct hf_booking *b = &r->booking;
	assert_int_equal(b->n_seats, 0);
	assert_int_equal(b->n_items, 2); /* merged, in order of first appearance */
	assert_int_equal(b->items[0].item, mug);
	assert_int_equal(b->items[0].quantity, 3);
	assert_int_equal(b->items[0].requested, 3);
	assert_true(b->items[0].price == 250);
	assert_int_equal(b->items[1].item, cap);
	assert_int_equal(b->items[1].quantity, 1);
	assert_true(b->items[1].price == 1000);
	assert_true(b->total == 3 * 250 + 1000);
	struct hf_item_info m = fx_item_info(f, "mug");
	assert_int_equal(m.available, 7);
	assert_int_equal(m.held, 3);
	assert_int_equal(m.sold, 0);

	/* Merged lines are partial only if every one is: 3 + 5 of 7 left, one
	 * line not partial -> refused. */
	ln_clear(&l);
	ln_item(&l, "mug", 3, true);
	ln_item(&l, "mug", 5, false);
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), HF_INSUFFICIENT_STOCK);
	assert_int_equal(r->bad_item, mug);
	assert_int_equal(r->available, 7);
	/* All partial: takes the 7 left, requested 8. */
	l.items[1].partial = true;
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l));
	assert_int_equal(r->booking.n_items, 1);
	assert_int_equal(r->booking.items[0].quantity, 7);
	assert_int_equal(r->booking.items[0].requested, 8);
	assert_true(r->booking.total == 7 * 250);
	m = fx_item_info(f, "mug");
	assert_int_equal(m.available, 0);
	assert_int_equal(m.held, 10);
	fx_free(f);
}

/* Resolution of lines: the checks and their order, for both creators. */
static void test_lines_refusals(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 120, 100);
	fx_event(f, "other", 4, 100);
	uint32_t n_items = HF_HOLD_ITEMS_MAX + 1;
	for (uint32_t i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "it%u", i);
		fx_item(f, id, 10, 100);
	}
	static struct lines l;
	for (size_t t = 0; t < sizeof(line_creators); t++) {
		uint8_t type = line_creators[t];
		print_message("lines refused by %s\n", hf_cmd_type_name(type));
		/* TOO_MANY_LINES first, even before the customer. */
		ln_clear(&l);
		for (uint32_t i = 1; i <= HF_HOLD_SEATS_MAX + 1; i++) {
			char id[8];
			snprintf(id, sizeof(id), "%u", i);
			ln_seats(&l, "show", id);
		}
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_TOO_MANY_LINES);
		FX_REFUSE(f, cmd_lines(type, "", 0, 0, &l), HF_TOO_MANY_LINES);
		ln_clear(&l);
		for (uint32_t i = 0; i < n_items; i++)
			ln_item(&l, "it0", 1, false);
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_TOO_MANY_LINES);

		/* BAD_REQUEST: customer, ids, quantities, no lines, a seat twice. */
		ln_clear(&l);
		ln_seats(&l, "show", "1");
		FX_REFUSE(f, cmd_lines(type, "", 0, 0, &l), HF_BAD_REQUEST);
		FX_REFUSE(f, as_admin(cmd_lines(type, "", 0, 0, &l)), HF_BAD_REQUEST);
		FX_REFUSE(f, cmd_lines(type, "al ice", 0, 0, &l), HF_BAD_REQUEST);
		ln_clear(&l);
		ln_seats(&l, "show", "1,a b");
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		ln_clear(&l);
		ln_seats(&l, "sh ow", "1");
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		ln_clear(&l);
		ln_item(&l, "it 0", 1, false);
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		ln_clear(&l);
		ln_item(&l, "it0", 0, true);
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		ln_clear(&l);
		ln_item(&l, "it0", HF_QUANTITY_MAX + 1, true);
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		ln_clear(&l);
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		ln_seats(&l, "show", "1,2,1");
		FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_BAD_REQUEST);
		/* The same seat id in two events is two seats. */
		ln_clear(&l);
		ln_seats(&l, "show", "1");
		ln_seats(&l, "other", "1");
		ln_seats(&l, "nope", "1");
		/* ... so this is about the unknown event, at position 2. */
		const struct hf_reply *r =
			FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_UNKNOWN_EVENT);
		assert_int_equal(r->n_bad_seats, 1);
		assert_int_equal(r->bad_seats[0], 2);
		/* UNKNOWN_EVENT: the first seat line whose event is unknown, before
		 * unknown seats. */
		ln_clear(&l);
		ln_seats(&l, "show", "999");
		ln_seats(&l, "nope", "1");
		ln_seats(&l, "gone", "1");
		r = FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_UNKNOWN_EVENT);
		assert_int_equal(r->n_bad_seats, 1);
		assert_int_equal(r->bad_seats[0], 1);
		/* UNKNOWN_SEAT: every unknown seat's position, before items. */
		ln_clear(&l);
		ln_seats(&l, "show", "1,999,2,998");
		ln_item(&l, "nope", 1, false);
		r = FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_UNKNOWN_SEAT);
		assert_int_equal(r->n_bad_seats, 2);
		assert_int_equal(r->bad_seats[0], 1);
		assert_int_equal(r->bad_seats[1], 3);
		/* UNKNOWN_ITEM: the position of the first unknown item. */
		ln_clear(&l);
		ln_seats(&l, "show", "1");
		ln_item(&l, "it0", 1, false);
		ln_item(&l, "nope", 1, false);
		ln_item(&l, "it1", 1, false);
		ln_item(&l, "gone", 1, false);
		r = FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_UNKNOWN_ITEM);
		assert_int_equal(r->bad_item, 1);
	}
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	assert_true(hf_sm_customer_find(f->sm, hf_str_c("alice")) == -1);
	fx_free(f);
}

static void test_hold_create_capacity(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_customers = 1;
	cfg.max_holds = 2;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 6, 100);
	fx_hold(f, "alice", "show", "1");
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "2");
	/* A new customer when customers are full. */
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), HF_CAPACITY_FULL);
	FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, &l), HF_CAPACITY_FULL);
	/* ... before taking inventory (seat 1 is held). */
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), HF_CAPACITY_FULL);
	assert_true(hf_sm_customer_find(f->sm, hf_str_c("bob")) == -1);
	/* No hold slot: all slots are active holds. */
	fx_hold(f, "alice", "show", "2");
	ln_clear(&l);
	ln_seats(&l, "show", "3");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_CAPACITY_FULL);
	/* Buy-now needs no hold slot. */
	FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
	fx_free(f);
}

/* ---- taking inventory -------------------------------------------------- */

static void test_sale_window(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_init(&v, "show", 6, 100);
	v.e.sale_opens_at_ms = FX_T0 + 10 * FX_MIN;
	v.e.sale_closes_at_ms = FX_T0 + 20 * FX_MIN;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	fx_event(f, "open", 2, 100);
	fx_item(f, "mug", 10, 5);

	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	for (size_t t = 0; t < sizeof(line_creators); t++)
		FX_REFUSE(f, cmd_lines(line_creators[t], "alice", 0, 0, &l), HF_SALE_CLOSED);
	/* Items and other events are not in the window. */
	uint64_t items_only;
	{
		struct lines li;
		ln_clear(&li);
		ln_item(&li, "mug", 1, false);
		ln_seats(&li, "open", "1");
		items_only = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &li))->booking.id;
		/* Adding a seat of the closed event is refused. */
		struct lines la;
		ln_clear(&la);
		ln_seats(&la, "show", "2");
		FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", items_only, 0, &la),
			  HF_SALE_CLOSED);
	}

	/* Opens exactly at sale_opens_at. */
	fx_at(f, FX_T0 + 10 * FX_MIN);
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	/* Still open 1 ms before the close. */
	fx_at(f, FX_T0 + 20 * FX_MIN - 1);
	ln_clear(&l);
	ln_seats(&l, "show", "2");
	uint64_t late = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l))->booking.id;
	/* Closed at sale_closes_at; before the limit and unavailability checks
	 * (seat 2 is held by bob). */
	fx_at(f, FX_T0 + 20 * FX_MIN);
	ln_clear(&l);
	ln_seats(&l, "show", "2,3");
	const struct hf_reply *r =
		FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "carol", 0, 0, &l), HF_SALE_CLOSED);
	(void)r;
	FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "carol", 0, 0, &l), HF_SALE_CLOSED);
	/* Confirming does not check the window again. */
	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "bob", late, 0));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_SOLD);
	fx_free(f);
}

static void test_customer_holds_max(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_item(f, "mug", 10, 1000);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	uint64_t first = 0;
	for (uint32_t i = 0; i < HF_CUSTOMER_HOLDS_MAX; i++) {
		uint64_t id = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;
		if (!first)
			first = id;
	}
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	/* Other customers, adding to a hold and buying now are not limited. */
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l));
	FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", first, 0, &l));
	FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
	/* An ended hold frees its place. */
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", first, 0));
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	/* LIMIT_EXCEEDED comes before stock. */
	ln_clear(&l);
	ln_item(&l, "mug", 5000, false);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	fx_free(f);
}

static void test_max_per_customer(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_init(&v, "show", 8, 100);
	v.e.max_per_customer = 2;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	fx_event(f, "free-for-all", 8, 100);

	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,2,3");
	for (size_t t = 0; t < sizeof(line_creators); t++)
		FX_REFUSE(f, cmd_lines(line_creators[t], "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	uint64_t h = fx_hold(f, "alice", "show", "1,2");
	ln_clear(&l);
	ln_seats(&l, "show", "3");
	for (size_t t = 0; t < sizeof(line_creators); t++)
		FX_REFUSE(f, cmd_lines(line_creators[t], "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l), HF_LIMIT_EXCEEDED);
	/* Seats already in the hold are not new: adding them is no excess. */
	ln_clear(&l);
	ln_seats(&l, "show", "2,1");
	FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	/* Another event, another customer: fine. */
	fx_hold(f, "alice", "free-for-all", "1,2,3");
	fx_hold(f, "bob", "show", "3,4");
	/* The limit comes before unavailability (5 is free, 4 is bob's). */
	ln_clear(&l);
	ln_seats(&l, "show", "4");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	/* Sold seats count as well. */
	uint64_t order = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0))->booking.id;
	ln_clear(&l);
	ln_seats(&l, "show", "5");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_LIMIT_EXCEEDED);
	/* A canceled order gives the seats back to the count. */
	FX_OK(f, cmd_order(HF_CMD_ORDER_CANCEL, "alice", order, 0, HF_ORDER_STATUS_ANY));
	fx_hold(f, "alice", "show", "5,6");
	fx_free(f);
}

static void test_seats_unavailable_and_blocked(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 8, 100);
	fx_item(f, "mug", 10, 1);
	fx_hold(f, "alice", "show", "2");
	fx_buy(f, "bob", "show", "5");
	FX_OK(f, cmd_block(HF_CMD_SEATS_BLOCK, "show", "4,7"));

	struct lines l;
	for (size_t t = 0; t < sizeof(line_creators); t++) {
		uint8_t type = line_creators[t];
		/* Every seat held or sold, in request order; not blocked ones. */
		ln_clear(&l);
		ln_seats(&l, "show", "1,5,4,3,2");
		const struct hf_reply *r =
			FX_REFUSE(f, cmd_lines(type, "carol", 0, 0, &l), HF_SEATS_UNAVAILABLE);
		FX_BAD_SEATS(f, r, "show", "5,2");
		/* Alice's own held seat is unavailable to a new hold of hers. */
		ln_clear(&l);
		ln_seats(&l, "show", "2");
		r = FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_SEATS_UNAVAILABLE);
		FX_BAD_SEATS(f, r, "show", "2");
		/* Blocked seats, then stock. */
		ln_clear(&l);
		ln_seats(&l, "show", "7,1,4");
		ln_item(&l, "mug", 2, false);
		r = FX_REFUSE(f, cmd_lines(type, "carol", 0, 0, &l), HF_SEATS_BLOCKED);
		FX_BAD_SEATS(f, r, "show", "7,4");
		ln_clear(&l);
		ln_seats(&l, "show", "1");
		ln_item(&l, "mug", 2, false);
		r = FX_REFUSE(f, cmd_lines(type, "carol", 0, 0, &l), HF_INSUFFICIENT_STOCK);
		assert_int_equal(r->bad_item, fx_item_index(f, "mug"));
		assert_int_equal(r->available, 1);
	}
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	fx_free(f);
}

/* A maximal request whose every seat is taken names them all; a block of
 * more than HF_HOLD_SEATS_MAX taken seats names the first
 * HF_HOLD_SEATS_MAX. */
static void test_bad_seats_capped(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 150, 100);
	static struct lines l;
	ln_clear(&l);
	for (uint32_t i = 1; i <= HF_HOLD_SEATS_MAX; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%u", i);
		ln_seats(&l, "show", id);
	}
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	const struct hf_reply *r =
		FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), HF_SEATS_UNAVAILABLE);
	assert_int_equal(r->n_bad_seats, HF_HOLD_SEATS_MAX);
	for (uint32_t i = 0; i < HF_HOLD_SEATS_MAX; i++)
		assert_int_equal(r->bad_seats[i], fx_seat(f, "show", l.names[i]));

	/* 120 taken seats (100 held, 20 sold) named by a block, last first. */
	ln_clear(&l);
	for (uint32_t i = 101; i <= 120; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%u", i);
		ln_seats(&l, "show", id);
	}
	FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "carol", 0, 0, &l));
	static char csv[1024];
	csv[0] = 0;
	for (uint32_t i = 150; i >= 1; i--) {
		char id[8];
		snprintf(id, sizeof(id), "%s%u", i == 150 ? "" : ",", i);
		strcat(csv, id);
	}
	r = FX_REFUSE(f, cmd_block(HF_CMD_SEATS_BLOCK, "show", csv), HF_SEATS_UNAVAILABLE);
	assert_int_equal(r->n_bad_seats, HF_HOLD_SEATS_MAX);
	for (uint32_t i = 0; i < HF_HOLD_SEATS_MAX; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%u", 120 - i);
		assert_int_equal(r->bad_seats[i], fx_seat(f, "show", id));
	}
	fx_free(f);
}

static void test_insufficient_stock(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 2, 100);
	uint32_t a = fx_item(f, "a", 10, 5);
	uint32_t b = fx_item(f, "b", 10, 3);
	uint32_t c = fx_item(f, "c", 10, 0);
	(void)a;
	(void)c;
	struct lines l;
	for (size_t t = 0; t < sizeof(line_creators); t++) {
		uint8_t type = line_creators[t];
		/* The first short item in merge order. */
		ln_clear(&l);
		ln_seats(&l, "show", "1");
		ln_item(&l, "a", 5, false);
		ln_item(&l, "b", 4, false);
		ln_item(&l, "c", 1, false);
		const struct hf_reply *r =
			FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_INSUFFICIENT_STOCK);
		assert_int_equal(r->bad_item, b);
		assert_int_equal(r->available, 3);
		/* Partial with nothing left is a refusal too (take would be 0). */
		ln_clear(&l);
		ln_item(&l, "b", 4, true);
		ln_item(&l, "c", 1, true);
		r = FX_REFUSE(f, cmd_lines(type, "alice", 0, 0, &l), HF_INSUFFICIENT_STOCK);
		assert_int_equal(r->bad_item, c);
		assert_int_equal(r->available, 0);
	}
	/* Exactly what is left is fine, not partial. */
	ln_clear(&l);
	ln_item(&l, "b", 3, false);
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	struct hf_item_info info = fx_item_info(f, "b");
	assert_int_equal(info.available, 0);
	assert_int_equal(info.held, 3);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	fx_free(f);
}

/* ---- hold checks (ADD, REMOVE, EXTEND, RELEASE, CONFIRM) --------------- */

/* Applies the hold command of type on hold id for customer. */
static struct hf_cmd hold_cmd(uint8_t type, const char *customer, uint64_t id, struct lines *l)
{
	if (type == HF_CMD_HOLD_ADD || type == HF_CMD_HOLD_REMOVE)
		return cmd_lines(type, customer, id, 0, l);
	return cmd_hold(type, customer, id, 60);
}

static void test_hold_checks(void **state)
{
	(void)state;
	static const uint8_t types[] = {HF_CMD_HOLD_ADD, HF_CMD_HOLD_REMOVE, HF_CMD_HOLD_EXTEND,
					HF_CMD_HOLD_RELEASE, HF_CMD_HOLD_CONFIRM};
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 10, 100);
	fx_item(f, "mug", 10, 100);
	uint64_t active = fx_hold(f, "alice", "show", "1");
	uint64_t released = fx_hold(f, "alice", "show", "2");
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", released, 0));
	uint64_t confirmed = fx_hold(f, "alice", "show", "3");
	FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", confirmed, 0));
	struct lines e;
	ln_clear(&e);
	ln_item(&e, "mug", 1, false);
	uint64_t expired =
		FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 10, &e))->booking.id;
	fx_advance(f, 10 * FX_SEC);
	assert_int_equal(fx_hold_view(f, expired).state, HF_HOLD_EXPIRED_STATE);
	fx_hold(f, "bob", "show", "5");

	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	for (size_t t = 0; t < sizeof(types); t++) {
		uint8_t type = types[t];
		print_message("hold checks of %s\n", hf_cmd_type_name(type));
		FX_REFUSE(f, hold_cmd(type, "alice", 999, &l), HF_UNKNOWN_HOLD);
		FX_REFUSE(f, hold_cmd(type, "alice", 0, &l), HF_UNKNOWN_HOLD);
		FX_REFUSE(f, hold_cmd(type, "bob", active, &l), HF_NOT_OWNER);
		FX_REFUSE(f, hold_cmd(type, "alice", expired, &l), HF_HOLD_EXPIRED);
		FX_REFUSE(f, hold_cmd(type, "alice", released, &l), HF_HOLD_NOT_ACTIVE);
		FX_REFUSE(f, hold_cmd(type, "alice", confirmed, &l), HF_HOLD_NOT_ACTIVE);
		/* The order: unknown, owner, expired / not active. */
		FX_REFUSE(f, hold_cmd(type, "bob", expired, &l), HF_NOT_OWNER);
		FX_REFUSE(f, hold_cmd(type, "bob", released, &l), HF_NOT_OWNER);
		/* Admin: no ownership check, but the state checks. */
		FX_REFUSE(f, as_admin(hold_cmd(type, "bob", expired, &l)), HF_HOLD_EXPIRED);
		FX_REFUSE(f, as_admin(hold_cmd(type, "", confirmed, &l)), HF_HOLD_NOT_ACTIVE);
		FX_REFUSE(f, as_admin(hold_cmd(type, "", 999, &l)), HF_UNKNOWN_HOLD);
		/* Customer required without admin. */
		FX_REFUSE(f, hold_cmd(type, "", active, &l), HF_BAD_REQUEST);
		FX_REFUSE(f, hold_cmd(type, "a b", active, &l), HF_BAD_REQUEST);
		/* A customer never seen before is just not the owner. */
		FX_REFUSE(f, hold_cmd(type, "stranger", active, &l), HF_NOT_OWNER);
		assert_true(hf_sm_customer_find(f->sm, hf_str_c("stranger")) == -1);
	}
	/* ADD/REMOVE: lines are checked before the hold ... */
	struct lines bad;
	ln_clear(&bad);
	ln_item(&bad, "mug", 0, false);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", 999, 0, &bad), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", 999, 0, &bad), HF_BAD_REQUEST);
	ln_clear(&bad);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", active, 0, &bad), HF_BAD_REQUEST);
	/* ... and the hold before unknown names. */
	ln_seats(&bad, "nope", "1");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", 999, 0, &bad), HF_UNKNOWN_HOLD);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_REMOVE, "bob", active, 0, &bad), HF_NOT_OWNER);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", active, 0, &bad), HF_UNKNOWN_EVENT);
	/* Admin acting on a hold with an empty customer succeeds. */
	FX_OK(f, as_admin(cmd_lines(HF_CMD_HOLD_ADD, "", active, 0, &l)));
	FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_EXTEND, "", active, 60)));
	FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_RELEASE, "", active, 0)));
	fx_free(f);
}

/* ---- HOLD_ADD ---------------------------------------------------------- */

static void test_hold_add(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 10, 100);
	uint32_t mug = fx_item(f, "mug", 7, 5);
	uint32_t cap = fx_item(f, "cap", 20, 5);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	ln_item(&l, "mug", 2, false);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	uint64_t h = r->booking.id;
	int64_t expires = r->booking.expires_at_ms;
	fx_advance(f, 100 * FX_SEC);

	ln_clear(&l);
	ln_seats(&l, "show", "4,1,2"); /* 1 is already in the hold: skipped */
	ln_item(&l, "cap", 1, false);
	ln_item(&l, "mug", 1, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	assert_int_equal(r->kind, HF_REPLY_HOLD);
	const struct hf_booking *b = &r->booking;
	assert_true(b->id == h);
	assert_true(b->expires_at_ms == expires); /* unchanged */
	FX_BOOKING_SEATS(f, b, "show", "1,4,2");
	assert_int_equal(b->n_items, 2);
	assert_int_equal(b->items[0].item, mug);
	assert_int_equal(b->items[0].quantity, 3);
	assert_int_equal(b->items[0].requested, 3);
	assert_int_equal(b->items[1].item, cap);
	assert_int_equal(b->items[1].quantity, 1);
	assert_true(b->total == 3 * 100 + 3 * 7 + 20);
	assert_int_equal(fx_item_info(f, "mug").held, 3);
	assert_int_equal(fx_seat_state(f, "show", "4"), HF_SEAT_HELD);

	/* Partial add: 2 left, 5 asked -> take 2; requested grows by 5. */
	ln_clear(&l);
	ln_item(&l, "mug", 5, true);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	assert_int_equal(r->booking.items[0].quantity, 5);
	assert_int_equal(r->booking.items[0].requested, 8);
	assert_int_equal(fx_item_info(f, "mug").available, 0);
	/* Non-partial short: refused. */
	ln_clear(&l);
	ln_item(&l, "cap", 5, false);
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l), HF_INSUFFICIENT_STOCK);
	assert_int_equal(r->bad_item, cap);
	assert_int_equal(r->available, 4);

	/* A seat of someone else's: unavailable; one already in this hold is
	 * not new and not reported. */
	fx_hold(f, "bob", "show", "9");
	ln_clear(&l);
	ln_seats(&l, "show", "1,9,3");
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l), HF_SEATS_UNAVAILABLE);
	FX_BAD_SEATS(f, r, "show", "9");
	/* Adding only seats already held is a no-op success. */
	ln_clear(&l);
	ln_seats(&l, "show", "2,1");
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	FX_BOOKING_SEATS(f, &r->booking, "show", "1,4,2");
	fx_free(f);
}

static void test_hold_add_too_many_lines(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 120, 1);
	for (uint32_t i = 0; i <= HF_HOLD_ITEMS_MAX; i++) {
		char id[16];
		snprintf(id, sizeof(id), "it%u", i);
		fx_item(f, id, 1, 10);
	}
	static struct lines l;
	ln_clear(&l);
	for (uint32_t i = 1; i <= 60; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%u", i);
		ln_seats(&l, "show", id);
	}
	/* Distinct items it0 .. it49. */
	static char item_ids[HF_HOLD_ITEMS_MAX + 1][16];
	for (uint32_t i = 0; i <= HF_HOLD_ITEMS_MAX; i++)
		snprintf(item_ids[i], sizeof(item_ids[i]), "it%u", i);
	for (uint32_t i = 0; i < HF_HOLD_ITEMS_MAX; i++)
		ln_item(&l, item_ids[i], 1, false);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;

	/* 60 + 41 seats > HF_HOLD_SEATS_MAX; seats already held do not count. */
	ln_clear(&l);
	for (uint32_t i = 61; i <= 101; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%u", i);
		ln_seats(&l, "show", id);
	}
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l), HF_TOO_MANY_LINES);
	l.n_seats = 40;
	ln_seats(&l, "show", "1"); /* already in the hold */
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	assert_int_equal(r->booking.n_seats, HF_HOLD_SEATS_MAX);

	/* A 51st distinct item: too many; more of an item held: fine. */
	ln_clear(&l);
	ln_item(&l, item_ids[HF_HOLD_ITEMS_MAX], 1, false);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l), HF_TOO_MANY_LINES);
	ln_clear(&l);
	ln_item(&l, item_ids[3], 2, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	assert_int_equal(r->booking.n_items, HF_HOLD_ITEMS_MAX);
	assert_int_equal(r->booking.items[3].quantity, 3);
	fx_free(f);
}

/* ---- HOLD_REMOVE ------------------------------------------------------- */

static void test_hold_remove(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 6, 100);
	uint32_t mug = fx_item(f, "mug", 10, 10);
	fx_item(f, "cap", 30, 10);
	fx_item(f, "hat", 50, 10);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,2,3");
	ln_item(&l, "mug", 4, false);
	ln_item(&l, "cap", 1, false);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;

	/* Seat 5 and the hat are not in the hold: ignored. */
	ln_clear(&l);
	ln_seats(&l, "show", "2,5");
	ln_item(&l, "mug", 1, false);
	ln_item(&l, "hat", 3, false);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l));
	assert_int_equal(r->kind, HF_REPLY_HOLD);
	FX_BOOKING_SEATS(f, &r->booking, "show", "1,3");
	assert_int_equal(r->booking.n_items, 2);
	assert_int_equal(r->booking.items[0].item, mug);
	assert_int_equal(r->booking.items[0].quantity, 3);
	assert_int_equal(r->booking.items[0].requested, 3);
	assert_true(r->booking.total == 200 + 30 + 30);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_FREE);
	assert_int_equal(fx_item_info(f, "mug").available, 7);
	assert_int_equal(fx_item_info(f, "mug").held, 3);
	assert_int_equal(fx_item_info(f, "hat").available, 10);

	/* More than the line has: the line goes (merged 2 + 8). */
	ln_clear(&l);
	ln_item(&l, "mug", 2, false);
	ln_item(&l, "mug", 8, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l));
	assert_int_equal(r->booking.n_items, 1);
	assert_int_not_equal(r->booking.items[0].item, mug);
	assert_int_equal(fx_item_info(f, "mug").available, 10);
	assert_int_equal(fx_item_info(f, "mug").held, 0);

	/* Unknown names are still refused. */
	ln_clear(&l);
	ln_seats(&l, "show", "77");
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l), HF_UNKNOWN_SEAT);
	assert_int_equal(r->bad_seats[0], 0);

	/* Everything out: the hold stays, empty and active, and cannot be
	 * confirmed. */
	ln_clear(&l);
	ln_seats(&l, "show", "1,3");
	ln_item(&l, "cap", 1, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l));
	assert_int_equal(r->booking.n_seats, 0);
	assert_int_equal(r->booking.n_items, 0);
	assert_true(r->booking.total == 0 && r->booking.total_with_fees == 0);
	assert_int_equal(r->booking.state, HF_HOLD_ACTIVE);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0), HF_BAD_REQUEST);
	/* It can be filled again. */
	ln_clear(&l);
	ln_seats(&l, "show", "6");
	FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0));
	fx_free(f);
}

static void test_hold_remove_partial_line(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_item(f, "mug", 10, 5);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 7, true);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;
	ln_clear(&l);
	ln_item(&l, "mug", 2, false);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l));
	assert_int_equal(r->booking.items[0].quantity, 3);
	assert_int_equal(r->booking.items[0].requested, 5);
	assert_int_equal(fx_item_info(f, "mug").available, 2);
	fx_free(f);
}

/* ---- HOLD_EXTEND ------------------------------------------------------- */

static void test_hold_extend(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.hold_lifetime_max_s = 3600;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 4, 100);
	/* The configured lifetime bounds an event's ttl and a hold's too. */
	struct ev v;
	ev_init(&v, "long", 2, 100);
	v.e.hold_ttl_s = 3601;
	FX_REFUSE(f, cmd_event(&v), HF_BAD_REQUEST);
	v.e.hold_ttl_s = 3600;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "long", "1");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 3601, &l), HF_BAD_REQUEST);
	uint64_t h = fx_hold(f, "alice", "show", "1"); /* expires T0 + 300 s */
	fx_at(f, FX_T0 + 100 * FX_SEC);

	const struct hf_reply *r = FX_OK(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 600));
	assert_int_equal(r->kind, HF_REPLY_HOLD);
	assert_true(r->booking.expires_at_ms == FX_T0 + 700 * FX_SEC);
	/* Never shortens. */
	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 10));
	assert_true(r->booking.expires_at_ms == FX_T0 + 700 * FX_SEC);
	/* Clamped at created_at + the lifetime max. */
	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 3600));
	assert_true(r->booking.expires_at_ms == FX_T0 + 3600 * FX_SEC);
	assert_true(fx_hold_view(f, h).expires_at_ms == FX_T0 + 3600 * FX_SEC);
	fx_at(f, FX_T0 + 3000 * FX_SEC);
	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 1200));
	assert_true(r->booking.expires_at_ms == FX_T0 + 3600 * FX_SEC);

	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 0), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 3601), HF_BAD_REQUEST);
	/* The ttl is checked before the hold. */
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", 999, 0), HF_BAD_REQUEST);

	/* At the clamp it expires like any hold. */
	fx_at(f, FX_T0 + 3600 * FX_SEC);
	assert_int_equal(fx_hold_view(f, h).state, HF_HOLD_EXPIRED_STATE);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_EXTEND, "alice", h, 60), HF_HOLD_EXPIRED);
	fx_free(f);
}

/* ---- HOLD_RELEASE ------------------------------------------------------ */

static void test_hold_release(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	fx_item(f, "mug", 10, 5);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,2");
	ln_item(&l, "mug", 3, false);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;
	const struct hf_reply *r = FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h, 0));
	assert_int_equal(r->kind, HF_REPLY_HOLD);
	assert_int_equal(r->booking.state, HF_HOLD_RELEASED);
	assert_true(r->booking.id == h);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_FREE);
	struct hf_item_info m = fx_item_info(f, "mug");
	assert_int_equal(m.available, 5);
	assert_int_equal(m.held, 0);
	assert_int_equal(fx_hold_view(f, h).state, HF_HOLD_RELEASED);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h, 0), HF_HOLD_NOT_ACTIVE);
	/* The seats are free for anyone. */
	fx_hold(f, "bob", "show", "1,2");
	fx_free(f);
}

/* ---- HOLD_CONFIRM ------------------------------------------------------ */

static void test_hold_confirm(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_orders = 1;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 4, 100);
	uint32_t mug = fx_item(f, "mug", 10, 5);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "2,1");
	ln_item(&l, "mug", 3, false);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	uint64_t h = r->booking.id;
	uint32_t alice = r->booking.customer;
	uint64_t other = fx_hold(f, "alice", "show", "3");
	fx_advance(f, 30 * FX_SEC);

	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	const struct hf_booking *o = &r->booking;
	assert_true(o->id == 1);
	assert_int_equal(o->customer, alice);
	assert_int_equal(o->state, HF_ORDER_UNDER_REVIEW);
	assert_true(o->created_at_ms == FX_T0 + 30 * FX_SEC);
	FX_BOOKING_SEATS(f, o, "show", "2,1");
	assert_int_equal(o->n_items, 1);
	assert_int_equal(o->items[0].item, mug);
	assert_int_equal(o->items[0].quantity, 3);
	assert_true(o->total == 230 && o->total_with_fees == 230);
	uint64_t order = o->id;

	struct hf_booking hv = fx_hold_view(f, h);
	assert_int_equal(hv.state, HF_HOLD_CONFIRMED);
	assert_true(hv.order == order);
	struct hf_booking ov = fx_order_view(f, order);
	assert_int_equal(ov.state, HF_ORDER_UNDER_REVIEW);
	FX_BOOKING_SEATS(f, &ov, "show", "2,1");
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_SOLD);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_SOLD);
	struct hf_item_info m = fx_item_info(f, "mug");
	assert_int_equal(m.available, 2);
	assert_int_equal(m.held, 0);
	assert_int_equal(m.sold, 3);

	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0), HF_HOLD_NOT_ACTIVE);
	/* No room for another order: the hold stays active. */
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", other, 0), HF_CAPACITY_FULL);
	assert_int_equal(fx_hold_view(f, other).state, HF_HOLD_ACTIVE);
	assert_int_equal(fx_seat_state(f, "show", "3"), HF_SEAT_HELD);
	/* An empty hold is a BAD_REQUEST, checked before the orders' room. */
	ln_clear(&l);
	ln_seats(&l, "show", "3");
	FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", other, 0, &l));
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", other, 0), HF_BAD_REQUEST);
	fx_free(f);
}

/* ---- expiry ------------------------------------------------------------ */

static void test_expiry_returns_inventory(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	fx_item(f, "mug", 10, 5);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	ln_item(&l, "mug", 2, false);
	uint64_t a = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 60, &l))->booking.id;
	ln_clear(&l);
	ln_seats(&l, "show", "2");
	ln_item(&l, "mug", 1, false);
	uint64_t b = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 30, &l))->booking.id;
	uint64_t c = fx_hold(f, "carol", "show", "3");

	fx_at(f, FX_T0 + 60 * FX_SEC - 1);
	assert_int_equal(fx_hold_view(f, a).state, HF_HOLD_ACTIVE);
	assert_int_equal(fx_hold_view(f, b).state, HF_HOLD_EXPIRED_STATE);
	assert_int_equal(fx_item_info(f, "mug").held, 2);
	/* Both of the rest end in one apply, far past their times. */
	fx_at(f, FX_T0 + 3600 * FX_SEC);
	assert_int_equal(fx_hold_view(f, a).state, HF_HOLD_EXPIRED_STATE);
	assert_int_equal(fx_hold_view(f, c).state, HF_HOLD_EXPIRED_STATE);
	for (int s = 1; s <= 4; s++) {
		char id[4];
		snprintf(id, sizeof(id), "%d", s);
		assert_int_equal(fx_seat_state(f, "show", id), HF_SEAT_FREE);
	}
	struct hf_item_info m = fx_item_info(f, "mug");
	assert_int_equal(m.available, 5);
	assert_int_equal(m.held, 0);
	struct hf_sm_stats st;
	hf_sm_stats(f->sm, &st);
	assert_int_equal(st.holds_active, 0);
	assert_true(st.holds_expired_total == 3);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", a, 0), HF_HOLD_EXPIRED);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", a, 0), HF_HOLD_EXPIRED);
	fx_free(f);
}

/* ---- hold slots -------------------------------------------------------- */

static void test_hold_slot_recycling(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_holds = 3;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 10, 100);
	uint64_t h1 = fx_hold(f, "alice", "show", "1");
	uint64_t h2 = fx_hold(f, "alice", "show", "2");
	uint64_t h3 = fx_hold(f, "alice", "show", "3");
	/* h2 ends first, h1 later. */
	fx_advance(f, FX_SEC);
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h2, 0));
	fx_advance(f, FX_SEC);
	FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h1, 0));

	/* A refused create recycles nothing. */
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "3");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), HF_SEATS_UNAVAILABLE);
	fx_hold_view(f, h2);

	/* The slot of the hold that ended longest ago (h2, not the lower h1). */
	uint64_t h4 = fx_hold(f, "bob", "show", "4");
	assert_true(h4 == 4);
	struct hf_booking b;
	assert_int_equal(hf_sm_hold_view(f->sm, h2, &b), HF_UNKNOWN_HOLD);
	assert_int_equal(fx_hold_view(f, h1).state, HF_HOLD_CONFIRMED);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h2, 0), HF_UNKNOWN_HOLD);
	/* Then h1's; then none is left: all three are active. */
	uint64_t h5 = fx_hold(f, "bob", "show", "5");
	assert_int_equal(hf_sm_hold_view(f->sm, h1, &b), HF_UNKNOWN_HOLD);
	assert_int_equal(fx_hold_view(f, h3).state, HF_HOLD_ACTIVE);
	/* The order made from h1 lives on. */
	assert_int_equal(fx_order_view(f, 1).state, HF_ORDER_UNDER_REVIEW);
	ln_clear(&l);
	ln_seats(&l, "show", "6");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l), HF_CAPACITY_FULL);
	/* An expired hold's slot is recycled too. */
	fx_advance(f, 300 * FX_SEC);
	assert_int_equal(fx_hold_view(f, h5).state, HF_HOLD_EXPIRED_STATE);
	uint64_t h6 = fx_hold(f, "bob", "show", "6");
	assert_true(h6 == 6);
	fx_free(f);
}

/* ---- the customer's holds ---------------------------------------------- */

static void test_customer_hold_list(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 20, 100);
	uint64_t ids[6];
	for (int i = 0; i < 5; i++) {
		char seat[4];
		snprintf(seat, sizeof(seat), "%d", i + 1);
		ids[i] = fx_hold(f, "alice", "show", seat);
	}
	uint64_t bobs = fx_hold(f, "bob", "show", "10");
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", ids[1], 0));
	uint32_t alice = fx_customer(f, "alice");
	uint64_t out[16];
	/* Active holds only, newest first. */
	uint32_t n = hf_sm_customer_holds(f->sm, alice, 0, 16, out);
	assert_int_equal(n, 4);
	assert_true(out[0] == ids[4] && out[1] == ids[3] && out[2] == ids[2] &&
		    out[3] == ids[0]);
	n = hf_sm_customer_holds(f->sm, alice, 0, 2, out);
	assert_int_equal(n, 2);
	assert_true(out[0] == ids[4] && out[1] == ids[3]);
	/* after: strictly older than the id given. */
	n = hf_sm_customer_holds(f->sm, alice, ids[3], 16, out);
	assert_int_equal(n, 2);
	assert_true(out[0] == ids[2] && out[1] == ids[0]);
	n = hf_sm_customer_holds(f->sm, alice, ids[2], 1, out);
	assert_int_equal(n, 1);
	assert_true(out[0] == ids[0]);
	assert_int_equal(hf_sm_customer_holds(f->sm, alice, ids[0], 16, out), 0);
	assert_int_equal(hf_sm_customer_holds(f->sm, alice, 0, 0, out), 0);
	/* after may name a hold not in the list (or someone else's). */
	n = hf_sm_customer_holds(f->sm, alice, bobs, 16, out);
	assert_int_equal(n, 4);
	n = hf_sm_customer_holds(f->sm, fx_customer(f, "bob"), 0, 16, out);
	assert_int_equal(n, 1);
	assert_true(out[0] == bobs);
	/* Expired and confirmed holds leave the list. */
	FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", ids[4], 0));
	n = hf_sm_customer_holds(f->sm, alice, 0, 16, out);
	assert_int_equal(n, 3);
	fx_advance(f, 300 * FX_SEC);
	assert_int_equal(hf_sm_customer_holds(f->sm, alice, 0, 16, out), 0);
	fx_free(f);
}

/* ---- SPEC.md section 1, problem 1: the seat race ----------------------- */

/* Seats 2..6; A wants {5,6}, B {3,6}, C {2,3,4,5,6}. In every order of the
 * three requests: each seat has at most one owner, each request got all of
 * its seats or none, the first request wins (all pairs overlap on 6), and
 * the others are refused naming the seats already taken, in request order.
 * Run for holds and for buy-now. */
static void test_scenario_seat_race(void **state)
{
	(void)state;
	static const char *const who[3] = {"A", "B", "C"};
	static const char *const want[3] = {"5,6", "3,6", "2,3,4,5,6"};
	static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					 {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (size_t t = 0; t < sizeof(line_creators); t++) {
		uint8_t type = line_creators[t];
		for (int o = 0; o < 6; o++) {
			print_message("seat race (%s): %s %s %s\n", hf_cmd_type_name(type),
				      who[orders[o][0]], who[orders[o][1]], who[orders[o][2]]);
			struct fx *f = fx_new(NULL);
			struct ev v;
			ev_init(&v, "show", 5, 100);
			for (int s = 0; s < 5; s++)
				snprintf(v.ids[s], sizeof(v.ids[s]), "%d", s + 2);
			for (int s = 0; s < 5; s++)
				v.seats[s].id = hf_str_c(v.ids[s]);
			FX_OK(f, cmd_event(&v));
			ev_free(&v);

			/* A tiny model: which seat is taken, by whom. */
			int owner[7] = {-1, -1, -1, -1, -1, -1, -1};
			int winners = 0;
			for (int k = 0; k < 3; k++) {
				int c = orders[o][k];
				struct lines l;
				ln_clear(&l);
				ln_seats(&l, "show", want[c]);
				char taken[32] = "";
				for (uint32_t i = 0; i < l.n_seats; i++) {
					int s = atoi(l.names[i]);
					if (owner[s] >= 0) {
						if (taken[0])
							strcat(taken, ",");
						strcat(taken, l.names[i]);
					}
				}
				struct hf_cmd cmd = cmd_lines(type, who[c], 0, 0, &l);
				if (!taken[0]) {
					const struct hf_reply *r = FX_OK(f, cmd);
					FX_BOOKING_SEATS(f, &r->booking, "show", want[c]);
					for (uint32_t i = 0; i < l.n_seats; i++)
						owner[atoi(l.names[i])] = c;
					winners++;
					assert_int_equal(k, 0); /* the first always wins */
				} else {
					const struct hf_reply *r =
						FX_REFUSE(f, cmd, HF_SEATS_UNAVAILABLE);
					FX_BAD_SEATS(f, r, "show", taken);
				}
			}
			assert_int_equal(winners, 1);
			/* Each seat: the winner's and HELD/SOLD, or FREE. */
			uint8_t taken_state =
				type == HF_CMD_HOLD_CREATE ? HF_SEAT_HELD : HF_SEAT_SOLD;
			for (int s = 2; s <= 6; s++) {
				char id[4];
				snprintf(id, sizeof(id), "%d", s);
				assert_int_equal(fx_seat_state(f, "show", id),
						 owner[s] >= 0 ? taken_state : HF_SEAT_FREE);
			}
			/* Exactly one booking exists, the winner's. */
			int c0 = orders[o][0];
			struct hf_booking b = type == HF_CMD_HOLD_CREATE ? fx_hold_view(f, 1)
									 : fx_order_view(f, 1);
			assert_int_equal(b.customer, fx_customer(f, who[c0]));
			FX_BOOKING_SEATS(f, &b, "show", want[c0]);
			struct hf_booking none;
			assert_int_not_equal(hf_sm_hold_view(f->sm, 2, &none), HF_OK);
			assert_int_not_equal(hf_sm_order_view(f->sm, 2, &none), HF_OK);
			fx_free(f);
		}
	}
}

/* ---- SPEC.md section 1, problem 1: the 5-minute rule ------------------- */

/* A hold younger than 5 minutes blocks the seat; at exactly 5 minutes it
 * has expired (in the same apply that asks for the seat) and another
 * customer takes it; a bought seat is never taken, even long after. */
static void test_scenario_five_minute_rule(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 6, 100); /* hold_ttl_s 0: the 300 s default */
	uint64_t a = fx_hold(f, "A", "show", "5");
	assert_true(fx_hold_view(f, a).expires_at_ms == FX_T0 + 5 * FX_MIN);

	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "5");
	fx_at(f, FX_T0 + 5 * FX_MIN - 1);
	for (size_t t = 0; t < sizeof(line_creators); t++) {
		const struct hf_reply *r = FX_REFUSE(f, cmd_lines(line_creators[t], "B", 0, 0, &l),
						     HF_SEATS_UNAVAILABLE);
		FX_BAD_SEATS(f, r, "show", "5");
	}
	assert_int_equal(fx_hold_view(f, a).state, HF_HOLD_ACTIVE);

	/* Exactly 5 minutes: no TICK first, the request itself expires A. */
	f->now = FX_T0 + 5 * FX_MIN;
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "B", 0, 0, &l));
	uint64_t b = r->booking.id;
	assert_int_equal(fx_hold_view(f, a).state, HF_HOLD_EXPIRED_STATE);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "A", a, 0), HF_HOLD_EXPIRED);
	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "B", b, 0));
	assert_int_equal(fx_seat_state(f, "show", "5"), HF_SEAT_SOLD);

	/* Bought: never taken, even a year later. */
	fx_advance(f, 365LL * 24 * 3600 * FX_SEC);
	assert_int_equal(fx_seat_state(f, "show", "5"), HF_SEAT_SOLD);
	for (size_t t = 0; t < sizeof(line_creators); t++) {
		r = FX_REFUSE(f, cmd_lines(line_creators[t], "C", 0, 0, &l), HF_SEATS_UNAVAILABLE);
		FX_BAD_SEATS(f, r, "show", "5");
	}
	fx_free(f);
}

/* ---- edges of time ----------------------------------------------------- */

/* Expiry runs first in every apply (step b): at exactly expires_at the
 * hold is gone for EXTEND, CONFIRM, ADD; and the clock never runs
 * backwards (a late now_ms applies at the current time). */
static void test_expiry_runs_first(void **state)
{
	(void)state;
	static const uint8_t types[] = {HF_CMD_HOLD_EXTEND, HF_CMD_HOLD_CONFIRM,
					HF_CMD_HOLD_ADD, HF_CMD_HOLD_REMOVE, HF_CMD_HOLD_RELEASE};
	for (size_t t = 0; t < sizeof(types); t++) {
		struct fx *f = fx_new(NULL);
		fx_event(f, "show", 4, 100);
		uint64_t h = fx_hold(f, "alice", "show", "1");
		struct lines l;
		ln_clear(&l);
		ln_seats(&l, "show", "2");
		f->now = FX_T0 + 300 * FX_SEC; /* no TICK: the command itself */
		struct hf_cmd c = types[t] == HF_CMD_HOLD_ADD || types[t] == HF_CMD_HOLD_REMOVE
					  ? cmd_lines(types[t], "alice", h, 0, &l)
					  : cmd_hold(types[t], "alice", h, 60);
		const struct hf_reply *r = FX_APPLY(f, c);
		ASSERT_RESULT(r->result, HF_HOLD_EXPIRED);
		assert_int_equal(fx_hold_view(f, h).state, HF_HOLD_EXPIRED_STATE);
		assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
		fx_free(f);
	}

	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	fx_advance(f, 60 * FX_SEC);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	struct hf_cmd c = cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 30, &l);
	struct hf_reply r;
	hf_sm_apply(f->sm, FX_T0, &c, &r); /* a minute in the past */
	ASSERT_RESULT(r.result, HF_OK);
	assert_true(r.booking.created_at_ms == FX_T0 + 60 * FX_SEC);
	assert_true(r.booking.expires_at_ms == FX_T0 + 90 * FX_SEC);
	FX_CHECK(f);
	fx_free(f);
}

/* Holds that end in one apply end in order of (expires_at, id): the slot
 * recycled first is that of the earliest expiry, ties by id. */
static void test_expiry_order_in_one_apply(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_holds = 4;
	struct fx *f = fx_new(&cfg);
	fx_item(f, "mug", 10, 100);
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	static const uint32_t ttl[4] = {100, 50, 200, 50};
	uint64_t ids[4];
	for (int i = 0; i < 4; i++)
		ids[i] = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, ttl[i], &l))->booking.id;
	fx_advance(f, 1000 * FX_SEC); /* all four end in this apply */
	/* Expected end order: 2 (50), 4 (50), 1 (100), 3 (200). */
	static const int order[4] = {1, 3, 0, 2};
	for (int k = 0; k < 4; k++) {
		FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l));
		struct hf_booking b;
		for (int j = 0; j <= k; j++)
			if (hf_sm_hold_view(f->sm, ids[order[j]], &b) != HF_UNKNOWN_HOLD)
				fail_msg("after %d creates hold %llu should be recycled", k + 1,
					 (unsigned long long)ids[order[j]]);
		for (int j = k + 1; j < 4; j++)
			if (hf_sm_hold_view(f->sm, ids[order[j]], &b) != HF_OK)
				fail_msg("after %d creates hold %llu should still be kept", k + 1,
					 (unsigned long long)ids[order[j]]);
	}
	fx_free(f);
}

/* ---- admin acting for a customer --------------------------------------- */

static void test_admin_acts_for_customer(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 6, 100);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	/* Admin naming a customer: the hold is that customer's. */
	const struct hf_reply *r = FX_OK(f, as_admin(cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l)));
	uint64_t h = r->booking.id;
	assert_int_equal(r->booking.customer, fx_customer(f, "bob"));
	/* Admin naming another customer on bob's hold: no ownership check. */
	r = FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_EXTEND, "carol", h, 600)));
	assert_int_equal(r->booking.customer, fx_customer(f, "bob"));
	/* Confirm by admin with no customer: the order is the hold's customer's. */
	r = FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_CONFIRM, "", h, 0)));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	assert_int_equal(r->booking.customer, fx_customer(f, "bob"));
	uint64_t o = r->booking.id;
	uint64_t out[4];
	assert_int_equal(hf_sm_customer_orders(f->sm, fx_customer(f, "bob"), 0, 4, out), 1);
	assert_true(out[0] == o);
	/* Cancel by admin naming another customer. */
	r = FX_OK(f, as_admin(cmd_order(HF_CMD_ORDER_CANCEL, "carol", o, 0, HF_ORDER_STATUS_ANY)));
	assert_int_equal(r->booking.state, HF_ORDER_CANCELED);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	fx_free(f);
}

/* ---- odds and ends of the contract ------------------------------------- */

static void test_lines_odds_and_ends(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_init(&v, "show", 6, 100);
	v.e.sale_closes_at_ms = FX_T0 + 60 * FX_SEC;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	uint64_t h = fx_hold(f, "alice", "show", "1,2,3");
	/* REMOVE names a seat twice: BAD_REQUEST like every line list. */
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,1");
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l), HF_BAD_REQUEST);
	/* REMOVE takes nothing: no sale-window check once closed. */
	fx_at(f, FX_T0 + 60 * FX_SEC);
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", h, 0, &l));
	FX_BOOKING_SEATS(f, &r->booking, "show", "2,3");
	/* ORDER_CREATE ignores ttl_s (only HOLD_CREATE checks it). */
	fx_event(f, "open", 2, 100);
	ln_clear(&l);
	ln_seats(&l, "open", "1");
	FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, HF_HOLD_LIFETIME_MAX_S + 1, &l));
	/* Expired holds do not count toward HF_CUSTOMER_HOLDS_MAX. */
	fx_item(f, "mug", 1, 1000);
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	for (uint32_t i = 1; i < HF_CUSTOMER_HOLDS_MAX; i++) /* h is active: 32 in all */
		FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 10, &l));
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 10, &l), HF_LIMIT_EXCEEDED);
	fx_advance(f, 10 * FX_SEC);
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 10, &l));
	fx_free(f);
}

/* The line pool (max_lines) is not named in sm.h's SEMANTICS; the core
 * answers HF_CAPACITY_FULL when it is short, changing nothing, and reuses
 * the lines of ended holds (recycling those holds, oldest first). */
static void test_lines_capacity(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_lines = 4;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 10, 100);
	fx_item(f, "mug", 10, 100);
	fx_buy(f, "alice", "show", "1,2,3");
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "4,5");
	FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l), HF_CAPACITY_FULL);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l), HF_CAPACITY_FULL);
	ln_clear(&l);
	ln_item(&l, "mug", 1, false);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;
	ln_clear(&l);
	ln_item(&l, "mug", 2, false); /* the same item: no new line */
	FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l));
	fx_item(f, "cap", 10, 100);
	ln_clear(&l);
	ln_item(&l, "cap", 1, false);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", h, 0, &l), HF_CAPACITY_FULL);
	/* Released, its line comes back: a new hold takes it. */
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h, 0));
	FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "bob", 0, 0, &l));
	struct hf_booking b;
	assert_int_equal(hf_sm_hold_view(f->sm, h, &b), HF_UNKNOWN_HOLD);
	assert_int_equal(fx_item_info(f, "mug").held, 0);
	fx_free(f);
}

/* An admin command on an existing hold or order with the zeroed customer
 * {NULL, 0} (what a zeroed struct hf_cmd holds): allowed, and free of
 * undefined behaviour (UBSan watches every lookup of the empty name). */
static void test_admin_null_customer(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 6, 100);
	fx_item(f, "mug", 10, 10);
	uint64_t h = fx_hold(f, "alice", "show", "1");
	struct lines l;
	ln_clear(&l);
	ln_item(&l, "mug", 2, false);
	struct hf_cmd c = as_admin(cmd_lines(HF_CMD_HOLD_ADD, NULL, h, 0, &l));
	assert_null(c.customer.ptr);
	FX_OK(f, c);
	FX_OK(f, as_admin(cmd_lines(HF_CMD_HOLD_REMOVE, NULL, h, 0, &l)));
	FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_EXTEND, NULL, h, 600)));
	const struct hf_reply *r = FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_CONFIRM, NULL, h, 0)));
	uint64_t o = r->booking.id;
	assert_int_equal(r->booking.customer, fx_customer(f, "alice"));
	FX_OK(f, as_admin(cmd_order(HF_CMD_ORDER_STATUS, NULL, o, HF_ORDER_PACKAGED,
				    HF_ORDER_STATUS_ANY)));
	FX_OK(f, as_admin(cmd_order(HF_CMD_ORDER_CANCEL, NULL, o, 0, HF_ORDER_STATUS_ANY)));
	uint64_t h2 = fx_hold(f, "alice", "show", "2");
	FX_OK(f, as_admin(cmd_hold(HF_CMD_HOLD_RELEASE, NULL, h2, 0)));
	/* Without admin the empty customer is a BAD_REQUEST, on every path. */
	uint64_t h3 = fx_hold(f, "alice", "show", "3");
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_RELEASE, NULL, h3, 0), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, NULL, 0, 0, &l), HF_BAD_REQUEST);
	FX_REFUSE(f, as_admin(cmd_lines(HF_CMD_ORDER_CREATE, NULL, 0, 0, &l)), HF_BAD_REQUEST);
	FX_REFUSE(f, cmd_order(HF_CMD_ORDER_CANCEL, NULL, o, 0, HF_ORDER_STATUS_ANY),
		  HF_BAD_REQUEST);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_create_seats),
		cmocka_unit_test(test_hold_create_ttl),
		cmocka_unit_test(test_hold_create_items_and_merge),
		cmocka_unit_test(test_lines_refusals),
		cmocka_unit_test(test_hold_create_capacity),
		cmocka_unit_test(test_sale_window),
		cmocka_unit_test(test_customer_holds_max),
		cmocka_unit_test(test_max_per_customer),
		cmocka_unit_test(test_seats_unavailable_and_blocked),
		cmocka_unit_test(test_bad_seats_capped),
		cmocka_unit_test(test_insufficient_stock),
		cmocka_unit_test(test_hold_checks),
		cmocka_unit_test(test_hold_add),
		cmocka_unit_test(test_hold_add_too_many_lines),
		cmocka_unit_test(test_hold_remove),
		cmocka_unit_test(test_hold_remove_partial_line),
		cmocka_unit_test(test_hold_extend),
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_hold_confirm),
		cmocka_unit_test(test_expiry_returns_inventory),
		cmocka_unit_test(test_hold_slot_recycling),
		cmocka_unit_test(test_customer_hold_list),
		cmocka_unit_test(test_expiry_runs_first),
		cmocka_unit_test(test_expiry_order_in_one_apply),
		cmocka_unit_test(test_admin_acts_for_customer),
		cmocka_unit_test(test_lines_odds_and_ends),
		cmocka_unit_test(test_admin_null_customer),
		cmocka_unit_test(test_lines_capacity),
		cmocka_unit_test(test_scenario_seat_race),
		cmocka_unit_test(test_scenario_five_minute_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
