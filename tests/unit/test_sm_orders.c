/*
 * test_sm_orders.c: orders as sm.h's SEMANTICS defines them: ORDER_CREATE
 * (buy now), ORDER_STATUS (forward only, skips allowed, conditional with
 * expect), ORDER_CANCEL (before shipped; returns seats and stock), totals
 * and shipping fees, the customer's order list, and two of SPEC.md's seed
 * scenarios: partial add-to-cart and create_order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_fixture.h"

#define ANY HF_ORDER_STATUS_ANY

static struct hf_cmd status_cmd(uint64_t order, uint8_t status, uint8_t expect)
{
	return as_admin(cmd_order(HF_CMD_ORDER_STATUS, "", order, status, expect));
}

static struct hf_cmd cancel_cmd(const char *customer, uint64_t order)
{
	return cmd_order(HF_CMD_ORDER_CANCEL, customer, order, 0, ANY);
}

/* ---- SPEC.md section 1, problem 3: partial add-to-cart ------------------ */

/* Stock 3, add 5 with partial: bought 3, remain 0, requested 5, total and
 * total_with_fees with the shipping fee; adding the same item again merges
 * into one cart line; over the free-shipping threshold the fee goes. */
static void test_scenario_partial_add_to_cart(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.shipping_fee = 499;
	cfg.free_shipping_over = 6000;
	struct fx *f = fx_new(&cfg);
	uint32_t w = fx_item(f, "widget", 1000, 3);

	struct lines l;
	ln_clear(&l);
	ln_item(&l, "widget", 5, true);
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l));
	uint64_t cart = r->booking.id;
	assert_int_equal(r->booking.n_items, 1);
	assert_int_equal(r->booking.items[0].item, w);
	assert_int_equal(r->booking.items[0].quantity, 3);  /* bought */
	assert_int_equal(r->booking.items[0].requested, 5); /* asked */
	assert_true(r->booking.items[0].price == 1000);
	assert_true(r->booking.total == 3000);
	assert_true(r->booking.fees == 499);
	assert_true(r->booking.total_with_fees == 3499);
	struct hf_item_info info = fx_item_info(f, "widget");
	assert_int_equal(info.available, 0); /* remain */
	assert_int_equal(info.held, 3);

	/* Nothing left: the same add again is refused, nothing changes. */
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", cart, 0, &l), HF_INSUFFICIENT_STOCK);
	assert_int_equal(r->bad_item, w);
	assert_int_equal(r->available, 0);

	/* Restocked: the same item merges into the one cart line. */
	FX_OK(f, cmd_restock("widget", 2));
	ln_clear(&l);
	ln_item(&l, "widget", 2, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", cart, 0, &l));
	assert_int_equal(r->booking.n_items, 1);
	assert_int_equal(r->booking.items[0].quantity, 5);
	assert_int_equal(r->booking.items[0].requested, 7);
	assert_true(r->booking.total == 5000);
	assert_true(r->booking.total_with_fees == 5499);

	/* At the threshold shipping is free. */
	FX_OK(f, cmd_restock("widget", 10));
	ln_clear(&l);
	ln_item(&l, "widget", 1, false);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "alice", cart, 0, &l));
	assert_int_equal(r->booking.n_items, 1);
	assert_int_equal(r->booking.items[0].quantity, 6);
	assert_true(r->booking.total == 6000);
	assert_true(r->booking.fees == 0);
	assert_true(r->booking.total_with_fees == 6000);
	/* The view agrees; below the threshold again, the fee is back. */
	struct hf_booking v = fx_hold_view(f, cart);
	assert_true(v.total == 6000 && v.total_with_fees == 6000);
	r = FX_OK(f, cmd_lines(HF_CMD_HOLD_REMOVE, "alice", cart, 0, &l));
	assert_true(r->booking.total == 5000 && r->booking.total_with_fees == 5499);

	/* The order keeps the totals. */
	r = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", cart, 0));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	assert_true(r->booking.total == 5000);
	assert_true(r->booking.fees == 499);
	assert_true(r->booking.total_with_fees == 5499);
	assert_int_equal(r->booking.items[0].quantity, 5);
	info = fx_item_info(f, "widget");
	assert_int_equal(info.sold, 5);
	assert_int_equal(info.held, 0);
	assert_int_equal(info.available, 10);
	fx_free(f);
}

static void test_fees(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.shipping_fee = 700;
	cfg.free_shipping_over = 0; /* never free */
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 4, 100000);
	fx_item(f, "mug", 250, 100);
	/* Seats only: no shipping. */
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1");
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
	assert_true(r->booking.total == 100000 && r->booking.fees == 0 &&
		    r->booking.total_with_fees == 100000);
	/* An item line: the fee, however large the total. */
	ln_clear(&l);
	ln_seats(&l, "show", "2");
	ln_item(&l, "mug", 100, false);
	r = FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
	assert_true(r->booking.total == 100000 + 25000);
	assert_true(r->booking.fees == 700);
	assert_true(r->booking.total_with_fees == 125700);
	fx_free(f);
}

/* ---- SPEC.md section 1, problem 4: create_order ------------------------ */

/* With stock k a buy-now of k succeeds; of k + 1 it is refused with the
 * stock available, and nothing changes. */
static void test_scenario_create_order(void **state)
{
	(void)state;
	static const uint32_t ks[] = {1, 3, 10};
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		uint32_t k = ks[i];
		struct fx *f = fx_new(NULL);
		uint32_t item = fx_item(f, "gadget", 1500, k);
		struct lines l;
		ln_clear(&l);
		ln_item(&l, "gadget", k + 1, false);
		const struct hf_reply *r = FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l),
						     HF_INSUFFICIENT_STOCK);
		assert_int_equal(r->bad_item, item);
		assert_int_equal(r->available, k);
		struct hf_item_info info = fx_item_info(f, "gadget");
		assert_int_equal(info.available, k);
		assert_int_equal(info.sold, 0);
		struct hf_booking none;
		assert_int_equal(hf_sm_order_view(f->sm, 1, &none), HF_UNKNOWN_ORDER);

		ln_clear(&l);
		ln_item(&l, "gadget", k, false);
		r = FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
		assert_int_equal(r->kind, HF_REPLY_ORDER);
		assert_true(r->booking.id == 1); /* the refusal used no id */
		assert_int_equal(r->booking.state, HF_ORDER_UNDER_REVIEW);
		assert_int_equal(r->booking.items[0].quantity, k);
		assert_true(r->booking.total == (int64_t)k * 1500);
		info = fx_item_info(f, "gadget");
		assert_int_equal(info.available, 0);
		assert_int_equal(info.held, 0);
		assert_int_equal(info.sold, k);
		/* And one more is refused with nothing left. */
		ln_clear(&l);
		ln_item(&l, "gadget", 1, false);
		r = FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, &l),
			      HF_INSUFFICIENT_STOCK);
		assert_int_equal(r->available, 0);
		fx_free(f);
	}
}

/* ---- ORDER_CREATE ------------------------------------------------------ */

static void test_order_create(void **state)
{
	(void)state;
	struct hf_sm_config cfg;
	fx_config(&cfg);
	cfg.max_orders = 2;
	struct fx *f = fx_new(&cfg);
	fx_event(f, "show", 6, 2500);
	uint32_t mug = fx_item(f, "mug", 300, 10);
	fx_advance(f, 5 * FX_SEC);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "4,2");
	ln_item(&l, "mug", 2, false);
	ln_item(&l, "mug", 20, true); /* merged: 22, not all partial -> short */
	FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l), HF_INSUFFICIENT_STOCK);
	l.items[0].partial = true; /* all partial: takes the 10 */
	const struct hf_reply *r = FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "alice", 0, 0, &l));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	const struct hf_booking *o = &r->booking;
	assert_true(o->id == 1);
	assert_int_equal(o->customer, fx_customer(f, "alice"));
	assert_int_equal(o->state, HF_ORDER_UNDER_REVIEW);
	assert_true(o->created_at_ms == FX_T0 + 5 * FX_SEC);
	assert_true(o->order == 0);
	FX_BOOKING_SEATS(f, o, "show", "4,2");
	assert_int_equal(o->n_items, 1);
	assert_int_equal(o->items[0].item, mug);
	assert_int_equal(o->items[0].quantity, 10);
	assert_int_equal(o->items[0].requested, 22);
	assert_true(o->total == 5000 + 3000);
	assert_int_equal(fx_seat_state(f, "show", "4"), HF_SEAT_SOLD);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_SOLD);
	struct hf_item_info m = fx_item_info(f, "mug");
	assert_int_equal(m.sold, 10);
	assert_int_equal(m.available, 0);
	/* No hold was made. */
	struct hf_booking none;
	assert_int_equal(hf_sm_hold_view(f->sm, 1, &none), HF_UNKNOWN_HOLD);
	struct hf_booking v = fx_order_view(f, 1);
	assert_true(v.total == o->total);
	FX_BOOKING_SEATS(f, &v, "show", "4,2");

	/* Holds and orders count their ids apart. */
	uint64_t h = fx_hold(f, "alice", "show", "1");
	assert_true(h == 1);
	/* A sold seat is unavailable to everyone. */
	ln_clear(&l);
	ln_seats(&l, "show", "2,3,1");
	r = FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, &l), HF_SEATS_UNAVAILABLE);
	FX_BAD_SEATS(f, r, "show", "2,1");
	/* Orders full. */
	uint64_t o2 = fx_buy(f, "bob", "show", "3");
	assert_true(o2 == 2);
	ln_clear(&l);
	ln_seats(&l, "show", "5");
	FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, &l), HF_CAPACITY_FULL);
	/* ... before taking inventory (seat 3 is sold). */
	ln_clear(&l);
	ln_seats(&l, "show", "3");
	FX_REFUSE(f, cmd_lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, &l), HF_CAPACITY_FULL);
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0), HF_CAPACITY_FULL);
	fx_free(f);
}

/* ---- ORDER_STATUS ------------------------------------------------------ */

static void test_order_status_forward_only(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 10, 100);
	uint64_t a = fx_buy(f, "alice", "show", "1");
	const struct hf_reply *r = FX_OK(f, status_cmd(a, HF_ORDER_PACKAGED, ANY));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	assert_true(r->booking.id == a);
	assert_int_equal(r->booking.state, HF_ORDER_PACKAGED);
	assert_int_equal(fx_order_view(f, a).state, HF_ORDER_PACKAGED);
	/* A skip: packaged -> delivered. */
	r = FX_OK(f, status_cmd(a, HF_ORDER_DELIVERED, ANY));
	assert_int_equal(r->booking.state, HF_ORDER_DELIVERED);
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_SOLD);
	/* From delivered: nothing. */
	for (uint8_t s = HF_ORDER_UNDER_REVIEW; s <= HF_ORDER_CANCELED; s++) {
		r = FX_REFUSE(f, status_cmd(a, s, ANY), HF_INVALID_TRANSITION);
		assert_int_equal(r->current_status, HF_ORDER_DELIVERED);
	}

	/* Under review -> shipped (a skip); then back, same and cancel are
	 * refused. */
	uint64_t b = fx_buy(f, "alice", "show", "2");
	r = FX_REFUSE(f, status_cmd(b, HF_ORDER_UNDER_REVIEW, ANY), HF_INVALID_TRANSITION);
	assert_int_equal(r->current_status, HF_ORDER_UNDER_REVIEW);
	FX_OK(f, status_cmd(b, HF_ORDER_SHIPPED, ANY));
	static const uint8_t refused[] = {HF_ORDER_UNDER_REVIEW, HF_ORDER_PACKAGED,
					  HF_ORDER_SHIPPED, HF_ORDER_CANCELED};
	for (size_t i = 0; i < sizeof(refused); i++) {
		r = FX_REFUSE(f, status_cmd(b, refused[i], ANY), HF_INVALID_TRANSITION);
		assert_int_equal(r->current_status, HF_ORDER_SHIPPED);
	}
	r = FX_OK(f, status_cmd(b, HF_ORDER_DELIVERED, ANY));
	assert_int_equal(r->booking.state, HF_ORDER_DELIVERED);

	/* Straight to delivered. */
	uint64_t c = fx_buy(f, "alice", "show", "3");
	FX_OK(f, status_cmd(c, HF_ORDER_DELIVERED, ANY));

	/* CANCELED through ORDER_STATUS is a cancel: the seat comes back. */
	uint64_t d = fx_buy(f, "alice", "show", "4");
	FX_OK(f, status_cmd(d, HF_ORDER_PACKAGED, ANY));
	r = FX_OK(f, status_cmd(d, HF_ORDER_CANCELED, ANY));
	assert_int_equal(r->booking.state, HF_ORDER_CANCELED);
	assert_int_equal(fx_seat_state(f, "show", "4"), HF_SEAT_FREE);
	for (uint8_t s = HF_ORDER_UNDER_REVIEW; s <= HF_ORDER_CANCELED; s++) {
		r = FX_REFUSE(f, status_cmd(d, s, ANY), HF_INVALID_TRANSITION);
		assert_int_equal(r->current_status, HF_ORDER_CANCELED);
	}
	fx_free(f);
}

static void test_order_status_refusals(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 4, 100);
	uint64_t a = fx_buy(f, "alice", "show", "1");
	/* BAD_REQUEST: status past CANCELED; expect neither a status nor ANY;
	 * before the order is looked up. */
	FX_REFUSE(f, status_cmd(a, HF_ORDER_CANCELED + 1, ANY), HF_BAD_REQUEST);
	FX_REFUSE(f, status_cmd(a, 200, ANY), HF_BAD_REQUEST);
	FX_REFUSE(f, status_cmd(a, HF_ORDER_PACKAGED, HF_ORDER_CANCELED + 1), HF_BAD_REQUEST);
	FX_REFUSE(f, status_cmd(a, HF_ORDER_PACKAGED, 254), HF_BAD_REQUEST);
	FX_REFUSE(f, status_cmd(999, 77, ANY), HF_BAD_REQUEST);
	FX_REFUSE(f, status_cmd(999, HF_ORDER_PACKAGED, ANY), HF_UNKNOWN_ORDER);
	FX_REFUSE(f, status_cmd(0, HF_ORDER_PACKAGED, ANY), HF_UNKNOWN_ORDER);
	/* NOT_OWNER without admin, even for the owner. */
	FX_REFUSE(f, cmd_order(HF_CMD_ORDER_STATUS, "alice", a, HF_ORDER_PACKAGED, ANY),
		  HF_NOT_OWNER);
	FX_REFUSE(f, cmd_order(HF_CMD_ORDER_STATUS, "bob", a, HF_ORDER_PACKAGED, ANY),
		  HF_NOT_OWNER);
	FX_REFUSE(f, cmd_order(HF_CMD_ORDER_STATUS, "alice", 999, HF_ORDER_PACKAGED, ANY),
		  HF_UNKNOWN_ORDER);
	/* STATUS_MISMATCH: expect given and not current; before the
	 * transition check. */
	const struct hf_reply *r =
		FX_REFUSE(f, status_cmd(a, HF_ORDER_SHIPPED, HF_ORDER_PACKAGED), HF_STATUS_MISMATCH);
	assert_int_equal(r->current_status, HF_ORDER_UNDER_REVIEW);
	r = FX_REFUSE(f, status_cmd(a, HF_ORDER_UNDER_REVIEW, HF_ORDER_SHIPPED),
		      HF_STATUS_MISMATCH);
	assert_int_equal(r->current_status, HF_ORDER_UNDER_REVIEW);
	/* NOT_OWNER before STATUS_MISMATCH. */
	FX_REFUSE(f, cmd_order(HF_CMD_ORDER_STATUS, "alice", a, HF_ORDER_SHIPPED, HF_ORDER_SHIPPED),
		  HF_NOT_OWNER);
	/* A matching expect applies; a matching expect on a bad move is an
	 * invalid transition. */
	r = FX_OK(f, status_cmd(a, HF_ORDER_PACKAGED, HF_ORDER_UNDER_REVIEW));
	assert_int_equal(r->booking.state, HF_ORDER_PACKAGED);
	r = FX_REFUSE(f, status_cmd(a, HF_ORDER_UNDER_REVIEW, HF_ORDER_PACKAGED),
		      HF_INVALID_TRANSITION);
	assert_int_equal(r->current_status, HF_ORDER_PACKAGED);
	/* Two racing admins both expecting PACKAGED: the second loses. */
	FX_OK(f, status_cmd(a, HF_ORDER_SHIPPED, HF_ORDER_PACKAGED));
	r = FX_REFUSE(f, status_cmd(a, HF_ORDER_CANCELED, HF_ORDER_PACKAGED), HF_STATUS_MISMATCH);
	assert_int_equal(r->current_status, HF_ORDER_SHIPPED);
	/* An admin naming a customer is still admin. */
	FX_OK(f, as_admin(cmd_order(HF_CMD_ORDER_STATUS, "bob", a, HF_ORDER_DELIVERED, ANY)));
	fx_free(f);
}

/* ---- ORDER_CANCEL ------------------------------------------------------ */

static void test_order_cancel(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 6, 100);
	fx_item(f, "mug", 10, 5);
	struct lines l;
	ln_clear(&l);
	ln_seats(&l, "show", "1,2");
	ln_item(&l, "mug", 3, false);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 0, &l))->booking.id;
	const struct hf_reply *r = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0));
	uint64_t o = r->booking.id;
	int64_t total = r->booking.total;

	FX_REFUSE(f, cancel_cmd("", o), HF_BAD_REQUEST);
	FX_REFUSE(f, cancel_cmd("a b", o), HF_BAD_REQUEST);
	FX_REFUSE(f, cancel_cmd("", 999), HF_BAD_REQUEST);
	FX_REFUSE(f, cancel_cmd("alice", 999), HF_UNKNOWN_ORDER);
	FX_REFUSE(f, cancel_cmd("bob", o), HF_NOT_OWNER);
	FX_REFUSE(f, cancel_cmd("stranger", o), HF_NOT_OWNER);

	r = FX_OK(f, cancel_cmd("alice", o));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	assert_int_equal(r->booking.state, HF_ORDER_CANCELED);
	assert_true(r->booking.total == total); /* the order keeps its lines */
	FX_BOOKING_SEATS(f, &r->booking, "show", "1,2");
	assert_int_equal(fx_seat_state(f, "show", "1"), HF_SEAT_FREE);
	assert_int_equal(fx_seat_state(f, "show", "2"), HF_SEAT_FREE);
	struct hf_item_info m = fx_item_info(f, "mug");
	assert_int_equal(m.available, 5);
	assert_int_equal(m.sold, 0);
	assert_int_equal(fx_hold_view(f, h).state, HF_HOLD_CONFIRMED);
	r = FX_REFUSE(f, cancel_cmd("alice", o), HF_INVALID_TRANSITION);
	assert_int_equal(r->current_status, HF_ORDER_CANCELED);
	/* The seats sell again. */
	fx_buy(f, "bob", "show", "1,2");

	/* Packaged can be canceled, by the admin with no customer. */
	uint64_t p = fx_buy(f, "alice", "show", "3");
	FX_OK(f, status_cmd(p, HF_ORDER_PACKAGED, ANY));
	r = FX_OK(f, as_admin(cancel_cmd("", p)));
	assert_int_equal(r->booking.state, HF_ORDER_CANCELED);
	assert_int_equal(fx_seat_state(f, "show", "3"), HF_SEAT_FREE);

	/* Shipped and delivered cannot. */
	uint64_t s = fx_buy(f, "alice", "show", "4");
	FX_OK(f, status_cmd(s, HF_ORDER_SHIPPED, ANY));
	r = FX_REFUSE(f, cancel_cmd("alice", s), HF_INVALID_TRANSITION);
	assert_int_equal(r->current_status, HF_ORDER_SHIPPED);
	r = FX_REFUSE(f, as_admin(cancel_cmd("", s)), HF_INVALID_TRANSITION);
	assert_int_equal(r->current_status, HF_ORDER_SHIPPED);
	FX_OK(f, status_cmd(s, HF_ORDER_DELIVERED, ANY));
	r = FX_REFUSE(f, cancel_cmd("alice", s), HF_INVALID_TRANSITION);
	assert_int_equal(r->current_status, HF_ORDER_DELIVERED);
	assert_int_equal(fx_seat_state(f, "show", "4"), HF_SEAT_SOLD);
	fx_free(f);
}

/* ---- the customer's orders --------------------------------------------- */

static void test_customer_order_list(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_event(f, "show", 10, 100);
	uint64_t ids[4];
	ids[0] = fx_buy(f, "alice", "show", "1");
	uint64_t bobs = fx_buy(f, "bob", "show", "2");
	ids[1] = fx_buy(f, "alice", "show", "3");
	uint64_t h = fx_hold(f, "alice", "show", "4");
	ids[2] = FX_OK(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0))->booking.id;
	ids[3] = fx_buy(f, "alice", "show", "5");
	FX_OK(f, cancel_cmd("alice", ids[1]));
	FX_OK(f, status_cmd(ids[3], HF_ORDER_DELIVERED, ANY));

	uint32_t alice = fx_customer(f, "alice");
	uint64_t out[8];
	/* All orders, canceled included, newest first. */
	uint32_t n = hf_sm_customer_orders(f->sm, alice, 0, 8, out);
	assert_int_equal(n, 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_true(out[i] == ids[3 - i]);
	n = hf_sm_customer_orders(f->sm, alice, 0, 3, out);
	assert_int_equal(n, 3);
	assert_true(out[2] == ids[1]);
	n = hf_sm_customer_orders(f->sm, alice, ids[2], 8, out);
	assert_int_equal(n, 2);
	assert_true(out[0] == ids[1] && out[1] == ids[0]);
	n = hf_sm_customer_orders(f->sm, alice, ids[1], 1, out);
	assert_int_equal(n, 1);
	assert_true(out[0] == ids[0]);
	assert_int_equal(hf_sm_customer_orders(f->sm, alice, ids[0], 8, out), 0);
	/* after = bob's order id, between alice's: strictly older ones. */
	n = hf_sm_customer_orders(f->sm, alice, bobs, 8, out);
	assert_int_equal(n, 1);
	assert_true(out[0] == ids[0]);
	n = hf_sm_customer_orders(f->sm, fx_customer(f, "bob"), 0, 8, out);
	assert_int_equal(n, 1);
	assert_true(out[0] == bobs);
	/* Orders stay listed forever; holds only while active. */
	fx_advance(f, 365LL * 24 * 3600 * FX_SEC);
	assert_int_equal(hf_sm_customer_orders(f->sm, alice, 0, 8, out), 4);
	assert_int_equal(hf_sm_customer_holds(f->sm, alice, 0, 8, out), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_partial_add_to_cart),
		cmocka_unit_test(test_fees),
		cmocka_unit_test(test_scenario_create_order),
		cmocka_unit_test(test_order_create),
		cmocka_unit_test(test_order_status_forward_only),
		cmocka_unit_test(test_order_status_refusals),
		cmocka_unit_test(test_order_cancel),
		cmocka_unit_test(test_customer_order_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
