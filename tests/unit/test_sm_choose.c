/*
 * test_sm_choose.c: SPEC sections 9 and 10 as sm.h's SEMANTICS words them:
 * rows, best available (side by side, preferred rows first, nearest the
 * middle, never stranding a single seat when a choice as good does not,
 * the fallback when no row has room, sections and categories, too few
 * seats), the orphan rule (both sides, row ends, seats already alone),
 * late payment of an expired hold, and the details of limit_exceeded.
 *
 * Events here are laid out as rows "1", "2", ... of `width` seats with
 * ids "<row>-<number>" (fx_rows), so a test reads like a seat map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_fixture.h"

static const char *const row_names[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};

/* An event of n_rows rows of width seats, "r-k", section "A", price 1000
 * in row 1, 500 behind; the caller may change v->seats before applying. */
static void ev_rows(struct ev *v, const char *id, uint32_t n_rows, uint32_t width)
{
	assert_true(n_rows <= 10);
	ev_init(v, id, n_rows * width, 1000);
	for (uint32_t i = 0; i < n_rows * width; i++) {
		uint32_t r = i / width, k = i % width;
		snprintf(v->ids[i], sizeof(v->ids[i]), "%u-%u", r + 1, k + 1);
		v->seats[i].id = hf_str_c(v->ids[i]);
		v->seats[i].row = hf_str_c(row_names[r]);
		v->seats[i].number = (int32_t)(k + 1);
		v->seats[i].price = r == 0 ? 1000 : 500;
	}
}

static void fx_rows(struct fx *f, const char *id, uint32_t n_rows, uint32_t width, uint8_t rule)
{
	struct ev v;
	ev_rows(&v, id, n_rows, width);
	v.e.orphan_rule = rule;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
}

/* HOLD_CREATE (or ORDER_CREATE) of count best-available seats. */
static struct hf_cmd cmd_best(uint8_t type, const char *customer, const char *event, uint32_t count,
			      const char *section, const char *category, const struct lines *l)
{
	struct hf_cmd c = cmd_lines(type, customer, 0, 0, l);
	c.u.lines.best = (struct hf_best){hf_str_c(event), hf_str_c(section ? section : ""),
					  hf_str_c(category ? category : ""), count};
	return c;
}

static struct lines no_lines;

static const struct hf_reply *best_ok(struct fx *f, const char *event, uint32_t count,
				      const char *section, const char *category, bool together)
{
	ln_clear(&no_lines);
	const struct hf_reply *r =
		FX_OK(f, cmd_best(HF_CMD_HOLD_CREATE, "alice", event, count, section, category, &no_lines));
	assert_true(r->best);
	assert_int_equal(r->together, together);
	return r;
}

/* ---- best available ----------------------------------------------------- */

static void test_best_middle_of_first_row(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 3, 10, HF_ORPHAN_ALLOW);
	/* 2 of 10: positions 4, 5 are the middle exactly. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 2, NULL, NULL, true)->booking, "show", "1-5,1-6");
	/* 3 of the runs 1-1..1-4 and 1-7..1-10: every window strands a seat
	 * (1-2..1-4 leaves 1-1 alone at the row's end, 1-1..1-3 leaves 1-4
	 * alone beside 1-5, and so on), so the nearest the middle wins, and
	 * of 1-2..1-4 and 1-7..1-9 (both |2p + 3 - 10| = 5) the first. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 3, NULL, NULL, true)->booking, "show", "1-2,1-3,1-4");
	/* Row 1 has runs of 1 (1-1) and 4 (1-7..1-10): 4 fit exactly. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 4, NULL, NULL, true)->booking, "show",
			 "1-7,1-8,1-9,1-10");
	/* Row 1 is full but for 1-1: a group of 2 goes to row 2's middle. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 2, NULL, NULL, true)->booking, "show", "2-5,2-6");
	/* One seat: the first row with room, its middle: 1-1 is all row 1 has. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 1, NULL, NULL, true)->booking, "show", "1-1");
	/* Prices are the seats'. */
	const struct hf_reply *r = best_ok(f, "show", 3, NULL, NULL, true);
	FX_BOOKING_SEATS(f, &r->booking, "show", "2-2,2-3,2-4");
	assert_true(r->booking.total == 1500);
	fx_free(f);
}

static void test_best_odd_and_tie(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 1, 9, HF_ORPHAN_ALLOW);
	/* 4 of 9: starts 2 and 3 are as near the middle; the lower wins. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 4, NULL, NULL, true)->booking, "show",
			 "1-3,1-4,1-5,1-6");
	fx_free(f);
}

static void test_best_never_strands_when_a_choice_as_good_does_not(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 2, 10, HF_ORPHAN_ALLOW);
	fx_hold(f, "bob", "show", "1-6");
	/* Row 1: runs 1-1..1-5 and 1-7..1-10. Four from the first run
	 * strand a seat whatever the start (1-5 beside 1-6, or 1-1 at the
	 * row's end); 1-7..1-10 strands nothing, though farther from the
	 * middle. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 4, NULL, NULL, true)->booking, "show",
			 "1-7,1-8,1-9,1-10");
	fx_free(f);
}

static void test_best_rows_full_and_gaps(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 3, 6, HF_ORPHAN_ALLOW);
	fx_buy(f, "bob", "show", "1-1,1-2,1-3,1-4,1-5,1-6");
	fx_hold(f, "bob", "show", "2-3");
	/* Row 1 full; row 2 has runs of 2 and 3: 3 fit in 2-4..2-6. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 3, NULL, NULL, true)->booking, "show", "2-4,2-5,2-6");
	/* 4: only row 3 has room; its middle (3-2..3-5) would strand both
	 * ends, 3-1..3-4 and 3-3..3-6 strand nothing and are as near: the
	 * first. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 4, NULL, NULL, true)->booking, "show",
			 "3-1,3-2,3-3,3-4");
	fx_free(f);
}

static void test_best_count_larger_than_any_row(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 3, 4, HF_ORPHAN_ALLOW);
	/* 6 of rows of 4: row 1 whole, then 2 as a group: row 2's 2-1, 2-2
	 * (2-2..2-3 is nearer the middle but strands 2-1 and 2-4). */
	const struct hf_reply *r = best_ok(f, "show", 6, NULL, NULL, false);
	FX_BOOKING_SEATS(f, &r->booking, "show", "1-1,1-2,1-3,1-4,2-1,2-2");
	/* 6 again: 2-3, 2-4 whole (a run no longer than what is left), then
	 * row 3 whole. */
	r = best_ok(f, "show", 6, NULL, NULL, false);
	FX_BOOKING_SEATS(f, &r->booking, "show", "2-3,2-4,3-1,3-2,3-3,3-4");
	/* Nothing left: too few. */
	ln_clear(&no_lines);
	r = FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "carol", "show", 1, NULL, NULL, &no_lines),
		      HF_SEATS_UNAVAILABLE);
	assert_int_equal(r->n_bad_seats, 0);
	assert_int_equal(r->available, 0);
	fx_free(f);
}

static void test_best_too_few(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 2, 3, HF_ORPHAN_ALLOW);
	fx_hold(f, "bob", "show", "1-1,2-3");
	ln_clear(&no_lines);
	const struct hf_reply *r =
		FX_REFUSE(f, cmd_best(HF_CMD_ORDER_CREATE, "carol", "show", 5, NULL, NULL, &no_lines),
			  HF_SEATS_UNAVAILABLE);
	assert_int_equal(r->available, 4);
	assert_false(r->best);
	/* Named seats are not free for the choice: 4 - 1. */
	ln_clear(&no_lines);
	ln_seats(&no_lines, "show", "1-2");
	r = FX_REFUSE(f, cmd_best(HF_CMD_ORDER_CREATE, "carol", "show", 4, NULL, NULL, &no_lines),
		      HF_SEATS_UNAVAILABLE);
	assert_int_equal(r->available, 3);
	/* 3 beside a named seat: all or nothing, the named one first. */
	r = FX_OK(f, cmd_best(HF_CMD_ORDER_CREATE, "carol", "show", 3, NULL, NULL, &no_lines));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	assert_false(r->together);
	FX_BOOKING_SEATS(f, &r->booking, "show", "1-2,1-3,2-1,2-2");
	fx_free(f);
}

static void test_best_sections_and_categories(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_rows(&v, "show", 4, 4);
	for (uint32_t i = 8; i < 16; i++)
		v.seats[i].section = hf_str_c("B"); /* rows 3, 4 */
	for (uint32_t i = 4; i < 8; i++)
		v.seats[i].category = hf_str_c("vip"); /* row 2 */
	v.seats[13].category = hf_str_c("vip"); /* 4-2: a mixed row */
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	/* 2 of a row of 4: the middle pair would strand both ends. */
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 2, "B", NULL, true)->booking, "show", "3-1,3-2");
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 2, NULL, "vip", true)->booking, "show", "2-1,2-2");
	/* vip left: 2-3, 2-4 and 4-2 (in a row of mixed categories) */
	const struct hf_reply *r = best_ok(f, "show", 3, NULL, "vip", false);
	FX_BOOKING_SEATS(f, &r->booking, "show", "2-3,2-4,4-2");
	ln_clear(&no_lines);
	r = FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "bob", "show", 1, "B", "vip", &no_lines),
		      HF_SEATS_UNAVAILABLE);
	assert_int_equal(r->available, 0);
	/* A section no seat has matches nothing. */
	r = FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "bob", "show", 1, "Z", NULL, &no_lines),
		      HF_SEATS_UNAVAILABLE);
	fx_free(f);
}

static void test_best_rows_by_seat_list_and_aisles(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	/* Listed back row first: row "2" is preferred; 2-4 is numbered 5,
	 * so row 2 is two rows (an aisle): 2-1..2-3 and 2-4..2-6. */
	ev_rows(&v, "show", 2, 6);
	for (uint32_t i = 0; i < 6; i++) {
		v.seats[i].row = hf_str_c("2");
		snprintf(v.ids[i], sizeof(v.ids[i]), "2-%u", i + 1);
		v.seats[i].number = (int32_t)(i + 1 + (i >= 3));
		v.seats[6 + i].row = hf_str_c("1");
		snprintf(v.ids[6 + i], sizeof(v.ids[6 + i]), "1-%u", i + 1);
	}
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 3, NULL, NULL, true)->booking, "show", "2-1,2-2,2-3");
	FX_BOOKING_SEATS(f, &best_ok(f, "show", 4, NULL, NULL, true)->booking, "show",
			 "1-1,1-2,1-3,1-4");
	fx_free(f);
}

static void test_best_refusals(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 1, 4, HF_ORPHAN_ALLOW);
	ln_clear(&no_lines);
	FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "a", "show", HF_HOLD_SEATS_MAX + 1, NULL, NULL, &no_lines),
		  HF_TOO_MANY_LINES);
	const struct hf_reply *r =
		FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "a", "nope", 1, NULL, NULL, &no_lines),
			  HF_UNKNOWN_EVENT);
	assert_int_equal(r->n_bad_seats, 1);
	assert_int_equal(r->bad_seats[0], 0); /* position n_seats: the best event */
	struct hf_cmd c = cmd_best(HF_CMD_HOLD_CREATE, "a", "show", 0, NULL, NULL, &no_lines);
	FX_REFUSE(f, c, HF_BAD_REQUEST); /* an event but no count */
	uint64_t h = fx_hold(f, "a", "show", "1-1");
	c = cmd_best(HF_CMD_HOLD_ADD, "a", "show", 1, NULL, NULL, &no_lines);
	c.u.lines.hold = h;
	FX_REFUSE(f, c, HF_BAD_REQUEST); /* not in /add */
	fx_free(f);
}

static void test_best_limits_and_sale(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	struct ev v;
	ev_rows(&v, "show", 1, 8);
	v.e.max_per_customer = 3;
	FX_OK(f, cmd_event(&v));
	ev_free(&v);
	fx_hold(f, "alice", "show", "1-1");
	ln_clear(&no_lines);
	const struct hf_reply *r =
		FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "alice", "show", 3, NULL, NULL, &no_lines),
			  HF_LIMIT_EXCEEDED);
	assert_int_equal(r->limit, HF_LIMIT_SEATS_PER_CUSTOMER);
	assert_int_equal(r->limit_max, 3);
	assert_int_equal(r->limit_current, 1);
	assert_int_equal(r->limit_requested, 3);
	assert_int_equal(r->limit_ref, fx_event_index(f, "show"));
	FX_OK(f, cmd_best(HF_CMD_HOLD_CREATE, "alice", "show", 2, NULL, NULL, &no_lines));
	fx_free(f);
}

/* ---- the orphan rule ---------------------------------------------------- */

static struct hf_cmd hold_cmd(const char *customer, const char *event, const char *csv)
{
	ln_clear(&no_lines);
	ln_seats(&no_lines, event, csv);
	return cmd_lines(HF_CMD_HOLD_CREATE, customer, 0, 0, &no_lines);
}

static void test_orphan_rule(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "strict", 2, 7, HF_ORPHAN_NO_SINGLE_GAPS);
	fx_rows(f, "loose", 2, 7, HF_ORPHAN_ALLOW);
	/* 1-2 strands 1-1 at the row's end. */
	const struct hf_reply *r = FX_REFUSE(f, hold_cmd("a", "strict", "1-2"), HF_ORPHAN_SEAT);
	FX_BAD_SEATS(f, r, "strict", "1-1");
	FX_OK(f, hold_cmd("a", "loose", "1-2")); /* allow takes any seats */
	/* 1-6 strands 1-7 at the other end. */
	r = FX_REFUSE(f, hold_cmd("a", "strict", "1-6"), HF_ORPHAN_SEAT);
	FX_BAD_SEATS(f, r, "strict", "1-7");
	/* Taking the end pair is fine; then 1-4 strands 1-3 and 1-5? No:
	 * 1-3's other neighbour 1-2 is held, 1-5's other neighbour 1-6 free. */
	FX_OK(f, hold_cmd("a", "strict", "1-1,1-2"));
	r = FX_REFUSE(f, hold_cmd("b", "strict", "1-4"), HF_ORPHAN_SEAT);
	FX_BAD_SEATS(f, r, "strict", "1-3");
	/* Both sides: with 1-6, 1-7 taken, 1-4 strands 1-3 and 1-5. */
	FX_OK(f, hold_cmd("b", "strict", "1-6,1-7"));
	r = FX_REFUSE(f, hold_cmd("c", "strict", "1-4"), HF_ORPHAN_SEAT);
	FX_BAD_SEATS(f, r, "strict", "1-3,1-5");
	/* Seats of one request count together: 1-3..1-5 leave nothing. */
	FX_OK(f, hold_cmd("c", "strict", "1-5,1-3,1-4"));
	/* (A seat already alone is never named: no new seat can be beside it,
	 * new seats being free.) */
	FX_OK(f, hold_cmd("d", "strict", "2-1,2-2,2-3"));
	/* HOLD_ADD is checked too, with the hold's seats not new. */
	uint64_t h = fx_hold(f, "e", "strict", "2-6,2-7");
	ln_clear(&no_lines);
	ln_seats(&no_lines, "strict", "2-5,2-7");
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_ADD, "e", h, 0, &no_lines), HF_ORPHAN_SEAT);
	FX_BAD_SEATS(f, r, "strict", "2-4");
	ln_clear(&no_lines);
	ln_seats(&no_lines, "strict", "2-4,2-5");
	FX_OK(f, cmd_lines(HF_CMD_HOLD_ADD, "e", h, 0, &no_lines));
	fx_free(f);
}

static void test_orphan_rule_best_available(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "loose", 2, 4, HF_ORPHAN_ALLOW);
	fx_rows(f, "strict", 2, 4, HF_ORPHAN_NO_SINGLE_GAPS);
	fx_rows(f, "tiny", 1, 4, HF_ORPHAN_NO_SINGLE_GAPS);
	/* 3 of a row of 4 always strands one: allowed, the first row. */
	FX_BOOKING_SEATS(f, &best_ok(f, "loose", 3, NULL, NULL, true)->booking, "loose", "1-1,1-2,1-3");
	/* Under the rule, 3 side by side strand everywhere: whole runs no
	 * longer than 3 (none), then 3 as a group: all strand: refused. */
	ln_clear(&no_lines);
	const struct hf_reply *r =
		FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "a", "tiny", 3, NULL, NULL, &no_lines),
			  HF_ORPHAN_SEAT);
	FX_BAD_SEATS(f, r, "tiny", "1-4");
	/* 2 of "strict": the middle (1-2, 1-3) strands both ends; 1-1, 1-2
	 * strands nothing. */
	FX_BOOKING_SEATS(f, &best_ok(f, "strict", 2, NULL, NULL, true)->booking, "strict", "1-1,1-2");
	/* 2 more: 1-3, 1-4 exactly. */
	FX_BOOKING_SEATS(f, &best_ok(f, "strict", 2, NULL, NULL, true)->booking, "strict", "1-3,1-4");
	/* 3 of row 2 strands a seat: refused under the rule, with 1 free? No:
	 * 4 free in row 2; 3 strand; whole runs: none of <= 3; the group of
	 * 3 strands: orphan_seat. 4 take the row. */
	r = FX_REFUSE(f, cmd_best(HF_CMD_HOLD_CREATE, "a", "strict", 3, NULL, NULL, &no_lines),
		      HF_ORPHAN_SEAT);
	FX_BOOKING_SEATS(f, &best_ok(f, "strict", 4, NULL, NULL, true)->booking, "strict",
			 "2-1,2-2,2-3,2-4");
	fx_free(f);
}

/* ---- late payment ------------------------------------------------------- */

static struct hf_cmd late(uint64_t hold)
{
	struct hf_cmd c = as_admin(cmd_hold(HF_CMD_HOLD_CONFIRM, NULL, hold, 0));
	c.u.hold_op.accept_late = true;
	return c;
}

static void test_late_payment(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 1, 6, HF_ORPHAN_ALLOW);
	fx_item(f, "mug", 700, 5);
	ln_clear(&no_lines);
	ln_seats(&no_lines, "show", "1-1,1-2");
	ln_item(&no_lines, "mug", 2, false);
	uint64_t h = FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "alice", 0, 60, &no_lines))->booking.id;
	fx_advance(f, 61 * FX_SEC);
	assert_int_equal(fx_hold_view(f, h).state, HF_HOLD_EXPIRED_STATE);
	/* A plain confirm: expired. A customer may not pay late. */
	FX_REFUSE(f, cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0), HF_HOLD_EXPIRED);
	struct hf_cmd c = cmd_hold(HF_CMD_HOLD_CONFIRM, "alice", h, 0);
	c.u.hold_op.accept_late = true;
	FX_REFUSE(f, c, HF_BAD_REQUEST);
	/* Someone took 1-2 and the mugs are down to 1. */
	fx_hold(f, "bob", "show", "1-2");
	ln_clear(&no_lines);
	ln_item(&no_lines, "mug", 4, false);
	FX_OK(f, cmd_lines(HF_CMD_ORDER_CREATE, "bob", 0, 0, &no_lines));
	const struct hf_reply *r = FX_REFUSE(f, late(h), HF_HOLD_EXPIRED);
	FX_BAD_SEATS(f, r, "show", "1-2");
	assert_true(r->item_short);
	assert_int_equal(r->bad_item, fx_item_index(f, "mug"));
	assert_int_equal(r->available, 1);
	/* Everything back: the late confirm goes through at the hold's prices. */
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "bob", 2, 0));
	FX_OK(f, cmd_restock("mug", 1));
	r = FX_OK(f, late(h));
	assert_int_equal(r->kind, HF_REPLY_ORDER);
	FX_BOOKING_SEATS(f, &r->booking, "show", "1-1,1-2");
	assert_true(r->booking.total == 2000 + 2 * 700);
	assert_int_equal(fx_seat_state(f, "show", "1-1"), HF_SEAT_SOLD);
	struct hf_item_info it = fx_item_info(f, "mug");
	assert_int_equal(it.available, 0);
	assert_int_equal(it.sold, 6);
	struct hf_booking hv = fx_hold_view(f, h);
	assert_int_equal(hv.state, HF_HOLD_CONFIRMED);
	assert_true(hv.order == r->booking.id);
	/* Once confirmed, never again. */
	FX_REFUSE(f, late(h), HF_HOLD_NOT_ACTIVE);
	fx_free(f);
}

static void test_late_payment_never_revives_a_released_hold(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 1, 6, HF_ORPHAN_ALLOW);
	uint64_t h = fx_hold(f, "alice", "show", "1-1");
	FX_OK(f, cmd_hold(HF_CMD_HOLD_RELEASE, "alice", h, 0));
	fx_advance(f, 3600 * FX_SEC);
	FX_REFUSE(f, late(h), HF_HOLD_NOT_ACTIVE);
	/* An active hold with accept_late is an ordinary confirm. */
	h = fx_hold(f, "alice", "show", "1-1");
	assert_int_equal(FX_OK(f, late(h))->kind, HF_REPLY_ORDER);
	FX_REFUSE(f, late(999), HF_UNKNOWN_HOLD);
	fx_free(f);
}

/* ---- limit details ------------------------------------------------------ */

static void test_limit_details(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 1, 8, HF_ORPHAN_ALLOW);
	fx_item(f, "mug", 1, HF_STOCK_MAX - 3);
	const struct hf_reply *r = FX_REFUSE(f, cmd_restock("mug", 4), HF_LIMIT_EXCEEDED);
	assert_int_equal(r->limit, HF_LIMIT_STOCK_MAX);
	assert_true(r->limit_max == HF_STOCK_MAX && r->limit_current == HF_STOCK_MAX - 3);
	assert_int_equal(r->limit_requested, 4);
	assert_int_equal(r->limit_ref, fx_item_index(f, "mug"));
	for (uint32_t i = 0; i < HF_CUSTOMER_HOLDS_MAX; i++) {
		ln_clear(&no_lines);
		ln_item(&no_lines, "mug", 1, false);
		FX_OK(f, cmd_lines(HF_CMD_HOLD_CREATE, "hoarder", 0, 0, &no_lines));
	}
	ln_clear(&no_lines);
	ln_item(&no_lines, "mug", 1, false);
	r = FX_REFUSE(f, cmd_lines(HF_CMD_HOLD_CREATE, "hoarder", 0, 0, &no_lines), HF_LIMIT_EXCEEDED);
	assert_int_equal(r->limit, HF_LIMIT_HOLDS_PER_CUSTOMER);
	assert_int_equal(r->limit_max, HF_CUSTOMER_HOLDS_MAX);
	assert_int_equal(r->limit_current, HF_CUSTOMER_HOLDS_MAX);
	assert_int_equal(r->limit_requested, 1);
	fx_free(f);
}

/* ---- snapshots keep the rows ------------------------------------------- */

static void test_rows_survive_a_snapshot(void **state)
{
	(void)state;
	struct fx *f = fx_new(NULL);
	fx_rows(f, "show", 4, 8, HF_ORPHAN_NO_SINGLE_GAPS);
	best_ok(f, "show", 3, NULL, NULL, true);
	best_ok(f, "show", 5, NULL, NULL, true);
	size_t n = hf_sm_snapshot_size(f->sm);
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	hf_sm_snapshot_write(f->sm, buf, n);
	struct hf_sm_config cfg;
	fx_config(&cfg);
	char err[256];
	struct hf_sm *copy = hf_sm_init(&cfg, err, sizeof(err));
	assert_non_null(copy);
	assert_int_equal(hf_sm_snapshot_read(copy, buf, n, err, sizeof(err)), 0);
	assert_true(hf_sm_digest(copy) == fx_digest(f));
	ln_clear(&no_lines);
	struct hf_cmd c = cmd_best(HF_CMD_HOLD_CREATE, "bob", "show", 4, NULL, NULL, &no_lines);
	static struct hf_reply a, b;
	hf_sm_apply(f->sm, f->now, &c, &a);
	hf_sm_apply(copy, f->now, &c, &b);
	assert_int_equal(a.result, HF_OK);
	assert_int_equal(b.result, HF_OK);
	assert_int_equal(a.booking.n_seats, b.booking.n_seats);
	for (uint32_t i = 0; i < a.booking.n_seats; i++)
		assert_int_equal(a.booking.seats[i].seat, b.booking.seats[i].seat);
	assert_true(hf_sm_digest(copy) == fx_digest(f));
	char msg[256];
	assert_int_equal(hf_sm_check(copy, msg, sizeof(msg)), 0);
	hf_sm_free(copy);
	free(buf);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_best_middle_of_first_row),
		cmocka_unit_test(test_best_odd_and_tie),
		cmocka_unit_test(test_best_never_strands_when_a_choice_as_good_does_not),
		cmocka_unit_test(test_best_rows_full_and_gaps),
		cmocka_unit_test(test_best_count_larger_than_any_row),
		cmocka_unit_test(test_best_too_few),
		cmocka_unit_test(test_best_sections_and_categories),
		cmocka_unit_test(test_best_rows_by_seat_list_and_aisles),
		cmocka_unit_test(test_best_refusals),
		cmocka_unit_test(test_best_limits_and_sale),
		cmocka_unit_test(test_orphan_rule),
		cmocka_unit_test(test_orphan_rule_best_available),
		cmocka_unit_test(test_late_payment),
		cmocka_unit_test(test_late_payment_never_revives_a_released_hold),
		cmocka_unit_test(test_limit_details),
		cmocka_unit_test(test_rows_survive_a_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
