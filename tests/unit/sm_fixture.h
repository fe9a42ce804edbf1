/*
 * sm_fixture.h: what every test_sm_*.c shares: a state machine with small
 * capacities and a clock, command builders, and apply wrappers that check
 * the whole state after every step.
 *
 * Every apply through the fixture runs hf_sm_check and round-trips the
 * reply through the codec; a refusal (FX_REFUSE) also proves that nothing
 * changed: the digest before and after are equal. For that to hold a
 * refusal must not move the clock, so the fixture only advances time with
 * fx_advance (a TICK) and applies everything else at f->now.
 *
 * Ownership: fx_new allocates, fx_free frees. Builders return commands
 * whose strings point at the caller's literals or into the builder struct
 * (struct lines, struct ev), which must outlive the apply.
 */
#ifndef HF_TESTS_UNIT_SM_FIXTURE_H
#define HF_TESTS_UNIT_SM_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/cmd.h"
#include "core/sm.h"

/* The fixture's clock starts here (2023-11-14T22:13:20Z). */
#define FX_T0 1700000000000LL
#define FX_SEC 1000LL
#define FX_MIN (60 * FX_SEC)

struct fx {
	struct hf_sm *sm;
	int64_t now;
	struct hf_reply r; /* the last reply */
};

/* The test configuration: small capacities, no shipping fee, retention of
 * one hour, lifetime max of a day. */
void fx_config(struct hf_sm_config *cfg /* out */);
/* A state machine from cfg (NULL: fx_config), clock at FX_T0. */
struct fx *fx_new(const struct hf_sm_config *cfg);
void fx_free(struct fx *f);

/* Applies c at f->now; checks the state and the reply's encoding. */
const struct hf_reply *fx_apply_at(struct fx *f, struct hf_cmd c, const char *file, int line);
/* As fx_apply_at, and the result must be HF_OK. */
const struct hf_reply *fx_ok_at(struct fx *f, struct hf_cmd c, const char *file, int line);
/* As fx_apply_at, the result must be want and the digest unchanged. */
const struct hf_reply *fx_refuse_at(struct fx *f, struct hf_cmd c, enum hf_result want,
				    const char *file, int line);
void fx_check_at(struct fx *f, const char *file, int line);

#define FX_APPLY(f, c) fx_apply_at((f), (c), __FILE__, __LINE__)
#define FX_OK(f, c) fx_ok_at((f), (c), __FILE__, __LINE__)
#define FX_REFUSE(f, c, want) fx_refuse_at((f), (c), (want), __FILE__, __LINE__)
#define FX_CHECK(f) fx_check_at((f), __FILE__, __LINE__)

/* Moves the clock by ms and applies a TICK (expiry runs). */
void fx_advance(struct fx *f, int64_t ms);
/* Sets the clock to at (>= now) and applies a TICK. */
void fx_at(struct fx *f, int64_t at_ms);

uint64_t fx_digest(const struct fx *f);

/* ---- catalog ----------------------------------------------------------- */

/* An event with seats "1" .. "n" (number i, section "A", row "1"), each at
 * price; change v->e before applying. Heap arrays: ev_free. */
struct ev {
	struct hf_event_create e;
	struct hf_seat_spec *seats;
	char (*ids)[16];
};
void ev_init(struct ev *v, const char *id, uint32_t n_seats, int64_t price);
void ev_free(struct ev *v);

struct hf_cmd cmd_tick(void);
struct hf_cmd cmd_event(const struct ev *v);
/* type HF_CMD_SEATS_BLOCK or _UNBLOCK; seats a comma list ("2,3"). */
struct hf_cmd cmd_block(uint8_t type, const char *event, const char *csv);
struct hf_cmd cmd_item(const char *id, int64_t price, uint32_t stock);
struct hf_cmd cmd_restock(const char *id, uint32_t quantity);

/* Creates an event of n seats at price (must succeed); its index. */
uint32_t fx_event(struct fx *f, const char *id, uint32_t n_seats, int64_t price);
/* Creates an item (must succeed); its index. */
uint32_t fx_item(struct fx *f, const char *id, int64_t price, uint32_t stock);

/* ---- lines, holds, orders ---------------------------------------------- */

struct lines {
	struct hf_seat_ref seats[HF_HOLD_SEATS_MAX + 8];
	uint32_t n_seats;
	struct hf_item_ref items[HF_HOLD_ITEMS_MAX + 8];
	uint32_t n_items;
	char names[HF_HOLD_SEATS_MAX + HF_HOLD_ITEMS_MAX + 16][HF_ID_LEN_MAX + 2];
	uint32_t n_names;
};
void ln_clear(struct lines *l);
/* Adds one seat line per name of csv ("2,3,4") of event. */
struct lines *ln_seats(struct lines *l, const char *event, const char *csv);
struct lines *ln_item(struct lines *l, const char *item, uint32_t quantity, bool partial);

/* HOLD_CREATE / HOLD_ADD / HOLD_REMOVE / ORDER_CREATE for customer (NULL or
 * "": empty). */
struct hf_cmd cmd_lines(uint8_t type, const char *customer, uint64_t hold, uint32_t ttl_s,
			const struct lines *l);
/* HOLD_EXTEND / HOLD_RELEASE / HOLD_CONFIRM. */
struct hf_cmd cmd_hold(uint8_t type, const char *customer, uint64_t hold, uint32_t ttl_s);
/* ORDER_CANCEL / ORDER_STATUS. */
struct hf_cmd cmd_order(uint8_t type, const char *customer, uint64_t order, uint8_t status,
			uint8_t expect);
/* The same command acting with the admin key. */
struct hf_cmd as_admin(struct hf_cmd c);
/* The same command with an idempotency key and fingerprint. */
struct hf_cmd with_key(struct hf_cmd c, const char *key, uint64_t fingerprint);

/* Shorthands that must succeed: the new hold's / order's id. */
uint64_t fx_hold(struct fx *f, const char *customer, const char *event, const char *csv);
uint64_t fx_buy(struct fx *f, const char *customer, const char *event, const char *csv);

/* ---- reads ------------------------------------------------------------- */

uint32_t fx_event_index(struct fx *f, const char *event);
uint32_t fx_seat(struct fx *f, const char *event, const char *seat);
uint8_t fx_seat_state(struct fx *f, const char *event, const char *seat);
struct hf_item_info fx_item_info(struct fx *f, const char *item);
uint32_t fx_item_index(struct fx *f, const char *item);
uint32_t fx_customer(struct fx *f, const char *customer);
/* The hold / order view; fails the test unless it exists. */
struct hf_booking fx_hold_view(struct fx *f, uint64_t id);
struct hf_booking fx_order_view(struct fx *f, uint64_t id);

/* Asserts the reply's bad_seats are exactly the seat indices of csv of
 * event, in order. */
void fx_assert_bad_seats_at(struct fx *f, const struct hf_reply *r, const char *event,
			    const char *csv, const char *file, int line);
#define FX_BAD_SEATS(f, r, event, csv) fx_assert_bad_seats_at((f), (r), (event), (csv), \
							      __FILE__, __LINE__)

/* Asserts the booking's seat lines are exactly csv of event, in order. */
void fx_assert_booking_seats_at(struct fx *f, const struct hf_booking *b, const char *event,
				const char *csv, const char *file, int line);
#define FX_BOOKING_SEATS(f, b, event, csv) \
	fx_assert_booking_seats_at((f), (b), (event), (csv), __FILE__, __LINE__)

/* Asserts a result with both names in the message. */
#define ASSERT_RESULT(got, want)                                                         \
	do {                                                                             \
		unsigned g_ = (unsigned)(got), w_ = (unsigned)(want);                    \
		if (g_ != w_)                                                            \
			fail_msg("%s:%d: result %s, want %s", __FILE__, __LINE__,        \
				 hf_result_name((enum hf_result)g_),                     \
				 hf_result_name((enum hf_result)w_));                    \
	} while (0)

#endif
