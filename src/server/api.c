/*
 * api.c: the routing table and what each route does.
 *
 * The table (`routes`) is the API: the server, GET /metrics labels and the
 * OpenAPI check of the tests all follow it. A route is one row plus, when
 * it needs one, a prepare (path id -> command fields, or a local answer),
 * a read (renders from the state on the sequencer thread) and a render_ok
 * (a write's success answer when the reply holds no booking).
 *
 * Generic steps, in order, for every request (hf_api_dispatch):
 *   route (404 / 405) -> credentials (401 / 403) -> content type (415)
 *   -> body (400 / 413, with the path of the bad field) -> acting customer
 *   (403 when a token names another) -> Idempotency-Key (400 when not an
 *   id) -> prepare -> submit.
 * Nothing is submitted before every check passed, so a rejected request
 * changes nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/assert.h"
#include "base/hash.h"
#include "core/sm.h"
#include "server/feed.h"
#include "server/server.h"
#include "server/ui.h"

/* A body the walker refused (jsonin's status: 400, 413, or 503 when the
 * arena ran out, which is ours, not the client's: overloaded, retry). */
static int bad_field(struct hf_req *r, unsigned status, const char *path, const char *msg)
{
	if (status == 503) {
		hf_render_error(r, 503, "overloaded", "out of memory; retry later");
		r->retry_after = true;
		return HF_ANSWERED;
	}
	if (status != 413)
		status = 400;
	hf_render_error_begin(r, (uint16_t)status, status == 413 ? "payload_too_large" : "bad_request", msg);
	hf_jw_key(&r->out, "path");
	hf_jw_cstr(&r->out, path);
	hf_render_error_end(r);
	return HF_ANSWERED;
}

/* ---- reads (sequencer thread) ------------------------------------------ */

static struct hf_req *req_of(struct hf_request *q) { return q->ctx; }

static void jw_hstr(struct hf_jw *jw, struct hf_str s) { hf_jw_str(jw, s.ptr, s.len); }

static void not_found(struct hf_req *r, const char *what)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "%s %.*s not found", what, (int)r->param.len, r->param.ptr);
	hf_render_error(r, 404, "not_found", msg);
}

static void read_event(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	(void)now_ms;
	struct hf_req *r = req_of(q);
	int64_t ev = hf_sm_event_find(sm, r->param);
	if (ev < 0)
		return not_found(r, "event");
	struct hf_event_info e;
	hf_sm_event_info(sm, (uint32_t)ev, &e);
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = 200;
	hf_jw_obj(jw);
	hf_render_event_fields(jw, e.id, e.name, e.starts_at_ms, e.hold_ttl_s, e.max_per_customer,
		     e.sale_opens_at_ms, e.sale_closes_at_ms, e.orphan_rule, e.n_seats);
	hf_render_counts(jw, e.count);
	hf_jw_obj_end(jw);
}

/* GET /events: the events in the order they were created, a page at a
 * time (the seat-map page's list, /ui/). ?after: the last event id of the
 * previous page. */
static void read_events(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	(void)now_ms;
	struct hf_req *r = req_of(q);
	uint32_t n = hf_sm_event_count(sm), from = 0;
	if (r->q_after) {
		struct hf_str after = {r->q_after, (uint32_t)strlen(r->q_after)};
		int64_t at = hf_sm_event_find(sm, after);
		if (at < 0) {
			bad_field(r, 400, "?after", "after: no such event");
			return;
		}
		from = (uint32_t)at + 1;
	}
	uint32_t to = n - from > r->list_limit ? from + r->list_limit : n;
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = 200;
	hf_jw_obj(jw);
	hf_jw_key(jw, "events");
	hf_jw_arr(jw);
	struct hf_event_info e = {0};
	for (uint32_t i = from; i < to; i++) {
		hf_sm_event_info(sm, i, &e);
		hf_jw_obj(jw);
		hf_jw_key(jw, "id");
		jw_hstr(jw, e.id);
		hf_jw_key(jw, "name");
		jw_hstr(jw, e.name);
		hf_jw_key(jw, "starts_at");
		hf_jw_time(jw, e.starts_at_ms);
		hf_jw_key(jw, "seat_count");
		hf_jw_u64(jw, e.n_seats);
		hf_render_counts(jw, e.count);
		hf_jw_obj_end(jw);
	}
	hf_jw_arr_end(jw);
	hf_jw_key(jw, "next");
	if (to < n)
		jw_hstr(jw, e.id);
	else
		hf_jw_null(jw);
	hf_jw_obj_end(jw);
}

static void read_seats(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	(void)now_ms;
	struct hf_req *r = req_of(q);
	int64_t ev = hf_sm_event_find(sm, r->param);
	if (ev < 0)
		return not_found(r, "event");
	struct hf_event_info e;
	hf_sm_event_info(sm, (uint32_t)ev, &e);
	uint32_t from = 0;
	if (r->q_after) {
		struct hf_str after = {r->q_after, (uint32_t)strlen(r->q_after)};
		int64_t at = hf_sm_seat_find(sm, (uint32_t)ev, after);
		if (at < 0) {
			bad_field(r, 400, "?after", "after: no such seat in this event");
			return;
		}
		from = (uint32_t)at - e.first_seat + 1;
	}
	uint32_t to = e.n_seats - from > r->list_limit ? from + r->list_limit : e.n_seats;
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = 200;
	hf_jw_obj(jw);
	hf_jw_key(jw, "event");
	jw_hstr(jw, e.id);
	hf_jw_key(jw, "seats");
	hf_jw_arr(jw);
	for (uint32_t i = from; i < to; i++) {
		struct hf_seat_info s;
		hf_sm_seat_info(sm, e.first_seat + i, &s);
		hf_render_seat(jw, &s, s.state);
	}
	hf_jw_arr_end(jw);
	/* The last seat of this page when more follow (pass it as ?after). */
	hf_jw_key(jw, "next");
	if (to < e.n_seats) {
		struct hf_seat_info last;
		hf_sm_seat_info(sm, e.first_seat + to - 1, &last);
		jw_hstr(jw, last.id);
	} else {
		hf_jw_null(jw);
	}
	hf_jw_obj_end(jw);
}

static void read_item(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	(void)now_ms;
	struct hf_req *r = req_of(q);
	int64_t it = hf_sm_item_find(sm, r->param);
	if (it < 0)
		return not_found(r, "item");
	struct hf_item_info i;
	hf_sm_item_info(sm, (uint32_t)it, &i);
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = 200;
	hf_render_item(jw, &i, i.available, i.held, i.sold);
}

/* A customer may see only their own bookings; another's reads exactly as
 * an unknown id. */
static bool may_see(const struct hf_req *r, const struct hf_sm *sm, uint32_t owner)
{
	if (r->admin)
		return true;
	int64_t me = hf_sm_customer_find(sm, r->customer);
	return me >= 0 && (uint32_t)me == owner;
}

static void read_booking(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms,
			 bool order)
{
	struct hf_req *r = req_of(q);
	struct hf_booking *b = hf_arena_alloc(r->arena, sizeof(*b));
	if (!b)
		return hf_render_error(r, 503, "overloaded", "out of memory");
	enum hf_result res = order ? hf_sm_order_view(sm, r->booking_id, b)
				   : hf_sm_hold_view(sm, r->booking_id, b);
	if (res != HF_OK || !may_see(r, sm, b->customer))
		return not_found(r, order ? "order" : "hold");
	hf_jw_init(&r->out, r->arena);
	r->status = 200;
	hf_render_booking(&r->out, sm, b, order, now_ms);
}

static void read_hold(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	read_booking(q, sm, now_ms, false);
}

static void read_order(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	read_booking(q, sm, now_ms, true);
}

static void read_list(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms, bool order)
{
	struct hf_req *r = req_of(q);
	uint64_t ids[HF_LIST_LIMIT_MAX];
	uint32_t n = 0;
	int64_t cust = hf_sm_customer_find(sm, r->param);
	if (cust >= 0)
		n = order ? hf_sm_customer_orders(sm, (uint32_t)cust, r->list_after, r->list_limit, ids)
			  : hf_sm_customer_holds(sm, (uint32_t)cust, r->list_after, r->list_limit, ids);
	struct hf_booking *b = hf_arena_alloc(r->arena, sizeof(*b));
	if (!b)
		return hf_render_error(r, 503, "overloaded", "out of memory");
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = 200;
	hf_jw_obj(jw);
	hf_jw_key(jw, "customer");
	jw_hstr(jw, r->param);
	hf_jw_key(jw, order ? "orders" : "holds");
	hf_jw_arr(jw);
	for (uint32_t i = 0; i < n; i++) {
		enum hf_result res = order ? hf_sm_order_view(sm, ids[i], b)
					   : hf_sm_hold_view(sm, ids[i], b);
		HF_ASSERT(res == HF_OK);
		hf_render_booking(jw, sm, b, order, now_ms);
	}
	hf_jw_arr_end(jw);
	hf_jw_key(jw, "next");
	if (n == r->list_limit && n > 0)
		hf_render_booking_id(jw, order ? 'o' : 'h', ids[n - 1]);
	else
		hf_jw_null(jw);
	hf_jw_obj_end(jw);
}

static void read_holds(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	read_list(q, sm, now_ms, false);
}

static void read_orders(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	read_list(q, sm, now_ms, true);
}

static void read_metrics(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	(void)now_ms;
	hf_sm_stats(sm, &req_of(q)->stats);
}

/* ---- prepares (worker thread) ------------------------------------------ */

static int prep_id_param(struct hf_req *r, const char *what)
{
	if (!hf_jsonin_id_ok(r->param.ptr, r->param.len)) {
		not_found(r, what);
		return HF_ANSWERED;
	}
	return HF_SUBMIT;
}

/* A read from the feeds' mirror (feed.h), on this thread: HF_ANSWERED;
 * HF_SUBMIT when there is no mirror (the engine reads, as before). */
static int mirror_read(struct hf_req *r, uint8_t kind, bool seats)
{
	if (!r->srv->feeds)
		return HF_SUBMIT;
	hf_jw_init(&r->out, r->arena);
	int st = hf_feeds_read(r->srv->feeds, (enum hf_feed_kind)kind, r->param.ptr, r->param.len,
			       seats ? r->q_after : NULL, r->list_limit, seats, &r->out);
	if (st == 0)
		return HF_SUBMIT;
	if (st == 404)
		not_found(r, kind == HF_FEED_ITEM ? "item" : "event");
	else if (st == 400)
		bad_field(r, 400, "?after", "after: no such seat in this event");
	else
		r->status = 200;
	return HF_ANSWERED;
}

static int prep_event(struct hf_req *r) { return prep_id_param(r, "event"); }
static int prep_event_read(struct hf_req *r)
{
	if (prep_event(r) == HF_ANSWERED)
		return HF_ANSWERED;
	return mirror_read(r, HF_FEED_EVENT, false);
}
static int prep_item(struct hf_req *r)
{
	if (prep_id_param(r, "item") == HF_ANSWERED)
		return HF_ANSWERED;
	return mirror_read(r, HF_FEED_ITEM, false);
}

/* ---- feeds and the change log (feed.h; never the sequencer) ------------ */

static int page_limit(struct hf_req *r, uint32_t def, uint32_t max);

/* The PostgreSQL engine has no observer (yet): its feeds and change log
 * are not built, which no retry changes (501, not 503 + Retry-After). */
static bool feeds_ready(struct hf_req *r)
{
	if (r->srv->feeds)
		return true;
	hf_render_error(r, 501, "not_implemented",
			"live feeds and the change log are not available on the PostgreSQL engine yet");
	return false;
}

/* GET /events/{id}/feed, /items/{id}/feed: http.c opens the stream
 * (r->feed) in place of an answer. */
static int prep_feed(struct hf_req *r, const char *what, uint8_t kind)
{
	if (prep_id_param(r, what) == HF_ANSWERED || !feeds_ready(r))
		return HF_ANSWERED;
	r->feed = kind;
	return HF_ANSWERED;
}
static int prep_event_feed(struct hf_req *r) { return prep_feed(r, "event", HF_FEED_EVENT); }
static int prep_item_feed(struct hf_req *r) { return prep_feed(r, "item", HF_FEED_ITEM); }

/* GET /changes?after=&limit=: a page of the change log; with Accept:
 * text/event-stream, the log as a stream (from Last-Event-ID or ?after). */
static int prep_changes(struct hf_req *r)
{
	if (!feeds_ready(r) || page_limit(r, HF_CHANGES_PAGE_DEFAULT, HF_CHANGES_PAGE_MAX) == HF_ANSWERED)
		return HF_ANSWERED;
	uint64_t after = 0;
	if (r->q_after) {
		size_t n = strlen(r->q_after);
		bool ok = n >= 1 && n <= 18;
		for (size_t i = 0; ok && i < n; i++) {
			ok = r->q_after[i] >= '0' && r->q_after[i] <= '9';
			after = after * 10 + (uint64_t)(r->q_after[i] - '0');
		}
		if (!ok)
			return bad_field(r, 400, "?after", "after: expected a change id (a whole number)");
	}
	if (r->accept && strstr(r->accept, "text/event-stream")) {
		if (r->q_after && !r->last_event_id)
			r->last_event_id = r->q_after;
		if (!r->last_event_id)
			r->last_event_id = "";
		r->feed = HF_FEED_CHANGES;
		return HF_ANSWERED;
	}
	hf_jw_init(&r->out, r->arena);
	r->status = 200;
	hf_feeds_changes(r->srv->feeds, &r->out, after, r->list_limit);
	return HF_ANSWERED;
}

static int prep_block(struct hf_req *r)
{
	if (prep_id_param(r, "event") == HF_ANSWERED)
		return HF_ANSWERED;
	r->ereq.cmd.u.seats_block.event = r->param;
	return HF_SUBMIT;
}

static int prep_restock(struct hf_req *r)
{
	if (prep_id_param(r, "item") == HF_ANSWERED)
		return HF_ANSWERED;
	r->ereq.cmd.u.item_restock.item = r->param;
	return HF_SUBMIT;
}

static int prep_booking_id(struct hf_req *r, char prefix)
{
	r->booking_id = hf_jsonin_booking_id(prefix, r->param.ptr, r->param.len);
	if (!r->booking_id) {
		not_found(r, prefix == 'h' ? "hold" : "order");
		return HF_ANSWERED;
	}
	return HF_SUBMIT;
}

static int prep_hold_read(struct hf_req *r) { return prep_booking_id(r, 'h'); }
static int prep_order_read(struct hf_req *r) { return prep_booking_id(r, 'o'); }

static int prep_hold_lines(struct hf_req *r)
{
	if (prep_booking_id(r, 'h') == HF_ANSWERED)
		return HF_ANSWERED;
	r->ereq.cmd.u.lines.hold = r->booking_id;
	return HF_SUBMIT;
}

static int prep_hold_op(struct hf_req *r)
{
	if (prep_booking_id(r, 'h') == HF_ANSWERED)
		return HF_ANSWERED;
	r->ereq.cmd.u.hold_op.hold = r->booking_id;
	return HF_SUBMIT;
}

/* A late payment is the admin's to accept (a customer cannot revive an
 * expired hold by asking). */
static int prep_confirm(struct hf_req *r)
{
	if (r->ereq.cmd.u.hold_op.accept_late && !r->admin) {
		hf_render_error(r, 403, "forbidden", "accept_late needs the admin key");
		return HF_ANSWERED;
	}
	return prep_hold_op(r);
}

static int prep_order_op(struct hf_req *r)
{
	if (prep_booking_id(r, 'o') == HF_ANSWERED)
		return HF_ANSWERED;
	r->ereq.cmd.u.order_op.order = r->booking_id;
	if (r->ereq.cmd.type == HF_CMD_ORDER_CANCEL) {
		r->ereq.cmd.u.order_op.status = HF_ORDER_CANCELED;
		r->ereq.cmd.u.order_op.expect = HF_ORDER_STATUS_ANY;
	}
	return HF_SUBMIT;
}

/* ?limit=: r->list_limit, def when absent; 400 (path "?limit") outside
 * 1..max. */
static int page_limit(struct hf_req *r, uint32_t def, uint32_t max)
{
	r->list_limit = def;
	if (!r->q_limit)
		return HF_SUBMIT;
	uint64_t v = 0;
	size_t n = strlen(r->q_limit);
	bool ok = n >= 1 && n <= 9;
	for (size_t i = 0; ok && i < n; i++) {
		ok = r->q_limit[i] >= '0' && r->q_limit[i] <= '9';
		v = v * 10 + (uint64_t)(r->q_limit[i] - '0');
	}
	if (!ok || v < 1 || v > max) {
		char msg[64];
		snprintf(msg, sizeof(msg), "limit: expected an integer from 1 to %u", max);
		return bad_field(r, 400, "?limit", msg);
	}
	r->list_limit = (uint32_t)v;
	return HF_SUBMIT;
}

/* GET /events/{id}/seats?limit=&after=<seat id>: a page of the seat map
 * (rendered on the sequencer thread, so bounded). */
static int prep_seats(struct hf_req *r)
{
	if (prep_event(r) == HF_ANSWERED ||
	    page_limit(r, HF_SEAT_PAGE_DEFAULT, HF_SEAT_PAGE_MAX) == HF_ANSWERED)
		return HF_ANSWERED;
	if (r->q_after && !hf_jsonin_id_ok(r->q_after, strlen(r->q_after)))
		return bad_field(r, 400, "?after", "after: expected a seat id of this event");
	return mirror_read(r, HF_FEED_EVENT, true);
}

static int prep_events(struct hf_req *r)
{
	if (page_limit(r, HF_LIST_LIMIT_DEFAULT, HF_LIST_LIMIT_MAX) == HF_ANSWERED)
		return HF_ANSWERED;
	if (r->q_after && !hf_jsonin_id_ok(r->q_after, strlen(r->q_after)))
		return bad_field(r, 400, "?after", "after: expected an event id");
	return HF_SUBMIT;
}

static int prep_customer_list(struct hf_req *r)
{
	/* Another customer's list reads as a customer with nothing. */
	bool mine = r->admin || (r->customer.len == r->param.len &&
				 !memcmp(r->customer.ptr, r->param.ptr, r->param.len));
	if (!hf_jsonin_id_ok(r->param.ptr, r->param.len) || !mine) {
		not_found(r, "customer");
		return HF_ANSWERED;
	}
	if (page_limit(r, HF_LIST_LIMIT_DEFAULT, HF_LIST_LIMIT_MAX) == HF_ANSWERED)
		return HF_ANSWERED;
	if (r->q_after) {
		bool order = r->route->read == read_orders;
		r->list_after = hf_jsonin_booking_id(order ? 'o' : 'h', r->q_after, strlen(r->q_after));
		if (!r->list_after) {
			hf_render_error_begin(r, 400, "bad_request",
					      order ? "after: expected an order id like o-12"
						    : "after: expected a hold id like h-12");
			hf_jw_key(&r->out, "path");
			hf_jw_cstr(&r->out, "?after");
			hf_render_error_end(r);
			return HF_ANSWERED;
		}
	}
	return HF_SUBMIT;
}

static int prep_token(struct hf_req *r)
{
	uint32_t ttl = r->extra.ttl_s ? r->extra.ttl_s : HF_TOKEN_TTL_DEFAULT_S;
	int64_t exp = hf_server_now_ms(r->srv) + (int64_t)ttl * 1000;
	char tok[HF_TOKEN_TEXT_MAX];
	size_t n = hf_auth_token_mint(&r->srv->auth, r->extra.customer.ptr, r->extra.customer.len,
				      exp, tok);
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = 201;
	hf_jw_obj(jw);
	hf_jw_key(jw, "token");
	hf_jw_str(jw, tok, n);
	hf_jw_key(jw, "customer");
	jw_hstr(jw, r->extra.customer);
	hf_jw_key(jw, "expires_at");
	hf_jw_time(jw, exp);
	hf_jw_obj_end(jw);
	return HF_ANSWERED;
}

/* Moves the test clock (the engine queues a TICK at the new time), then
 * submits a read, which runs after that TICK: the answer comes once the
 * expiries of the new time are applied and durable, so whatever the client
 * does next sees them. */
static int prep_clock(struct hf_req *r)
{
	if (!r->srv->cfg.test_clock) {
		hf_render_error(r, 404, "not_found", "no such route (the server runs without --test-clock)");
		return HF_ANSWERED;
	}
	/* Every time the API renders stays within year 9999: now, and now plus
	 * the longest hold or token lifetime. */
	int64_t limit = HF_TIME_MS_MAX -
			((int64_t)HF_TOKEN_TTL_MAX_S + HF_HOLD_LIFETIME_MAX_S) * 1000;
	if (atomic_load(&r->srv->test_now_ms) + (int64_t)r->extra.advance_s * 1000 > limit)
		return bad_field(r, 400, "advance_s", "advance_s: the test clock cannot pass the year 9998");
	int64_t now = hf_engine_clock_advance(r->srv->engine, (int64_t)r->extra.advance_s * 1000);
	atomic_store(&r->srv->test_now_ms, now);
	return HF_SUBMIT;
}

static void read_clock(struct hf_request *q, const struct hf_sm *sm, int64_t now_ms)
{
	(void)sm;
	req_of(q)->clock_ms = now_ms;
}

static int prep_health(struct hf_req *r)
{
	struct hf_engine_stats es;
	hf_engine_stats(r->srv->engine, &es);
	struct hf_jw *jw = &r->out;
	hf_jw_init(jw, r->arena);
	r->status = es.failed ? 503 : 200;
	hf_jw_obj(jw);
	hf_jw_key(jw, "status");
	hf_jw_cstr(jw, es.failed ? "failed" : "ok");
	hf_jw_key(jw, "now");
	hf_jw_time(jw, hf_server_now_ms(r->srv));
	hf_jw_obj_end(jw);
	if (es.failed) {
		r->err_code = "overloaded";
		r->retry_after = true;
	}
	return HF_ANSWERED;
}

/* ---- success answers without a booking (from the command: replays) ----- */

static void ok_event(struct hf_req *r)
{
	const struct hf_event_create *e = &r->ereq.cmd.u.event_create;
	struct hf_jw *jw = &r->out;
	hf_jw_obj(jw);
	hf_render_event_fields(jw, e->id, e->name, e->starts_at_ms, e->hold_ttl_s, e->max_per_customer,
		     e->sale_opens_at_ms, e->sale_closes_at_ms, e->orphan_rule, e->n_seats);
	hf_jw_obj_end(jw);
}

static void ok_block(struct hf_req *r)
{
	const struct hf_seats_block *b = &r->ereq.cmd.u.seats_block;
	struct hf_jw *jw = &r->out;
	hf_jw_obj(jw);
	hf_jw_key(jw, "event");
	jw_hstr(jw, b->event);
	hf_jw_key(jw, "state");
	hf_jw_cstr(jw, r->ereq.cmd.type == HF_CMD_SEATS_BLOCK ? "blocked" : "free");
	hf_jw_key(jw, "seats");
	hf_jw_arr(jw);
	for (uint32_t i = 0; i < b->n_seats; i++)
		jw_hstr(jw, b->seats[i]);
	hf_jw_arr_end(jw);
	hf_jw_obj_end(jw);
}

static void ok_item(struct hf_req *r)
{
	const struct hf_item_create *c = &r->ereq.cmd.u.item_create;
	struct hf_item_info i = {.id = c->id, .name = c->name, .category = c->category,
				 .description = c->description, .image_url = c->image_url, .price = c->price};
	hf_render_item(&r->out, &i, c->stock, 0, 0);
}

static void ok_restock(struct hf_req *r)
{
	const struct hf_item_restock *i = &r->ereq.cmd.u.item_restock;
	struct hf_jw *jw = &r->out;
	hf_jw_obj(jw);
	hf_jw_key(jw, "item");
	jw_hstr(jw, i->item);
	hf_jw_key(jw, "added");
	hf_jw_u64(jw, i->quantity);
	hf_jw_obj_end(jw);
}

static void ok_clock(struct hf_req *r)
{
	struct hf_jw *jw = &r->out;
	hf_jw_obj(jw);
	hf_jw_key(jw, "now");
	hf_jw_time(jw, r->clock_ms);
	hf_jw_obj_end(jw);
}

static void ok_metrics(struct hf_req *r)
{
	struct hf_engine_stats es;
	hf_engine_stats(r->srv->engine, &es);
	hf_metrics_render(r, &es, &r->stats);
}

/* ---- the routing table ------------------------------------------------- */

#define BODY HF_HTTP_BODY_MAX
#define EVBODY HF_HTTP_EVENT_BODY_MAX
#define PUB HF_AUTH_PUBLIC
#define CUS HF_AUTH_CUSTOMER
#define ADM HF_AUTH_ADMIN

static int prep_batch(struct hf_req *r);
static void ok_batch(struct hf_req *r);

/* Columns: method, path, who, body schema, command (a write) or
 * HF_CMD_NONE, status on success, body limit, prepare, read, render_ok. */
static const struct hf_route routes[] = {
	{"POST", "/events", ADM, HF_BODY_EVENT, HF_CMD_EVENT_CREATE, 201, EVBODY, NULL, NULL, ok_event},
	{"GET", "/events/{id}", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_event_read, read_event, NULL},
	{"GET", "/events/{id}/seats", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_seats, read_seats, NULL},
	{"GET", "/events/{id}/feed", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_event_feed, NULL, NULL},
	{"POST", "/events/{id}/block", ADM, HF_BODY_BLOCK, HF_CMD_SEATS_BLOCK, 200, EVBODY, prep_block, NULL, ok_block},
	{"POST", "/events/{id}/unblock", ADM, HF_BODY_BLOCK, HF_CMD_SEATS_UNBLOCK, 200, EVBODY, prep_block, NULL, ok_block},
	{"POST", "/items", ADM, HF_BODY_ITEM, HF_CMD_ITEM_CREATE, 201, BODY, NULL, NULL, ok_item},
	{"GET", "/items/{id}", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_item, read_item, NULL},
	{"GET", "/items/{id}/feed", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_item_feed, NULL, NULL},
	{"POST", "/items/{id}/restock", ADM, HF_BODY_RESTOCK, HF_CMD_ITEM_RESTOCK, 200, BODY, prep_restock, NULL, ok_restock},
	{"POST", "/holds", CUS, HF_BODY_HOLD_CREATE, HF_CMD_HOLD_CREATE, 201, BODY, NULL, NULL, NULL},
	{"GET", "/holds/{id}", CUS, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_hold_read, read_hold, NULL},
	{"POST", "/holds/{id}/add", CUS, HF_BODY_LINES, HF_CMD_HOLD_ADD, 200, BODY, prep_hold_lines, NULL, NULL},
	{"POST", "/holds/{id}/remove", CUS, HF_BODY_LINES, HF_CMD_HOLD_REMOVE, 200, BODY, prep_hold_lines, NULL, NULL},
	{"POST", "/holds/{id}/extend", CUS, HF_BODY_EXTEND, HF_CMD_HOLD_EXTEND, 200, BODY, prep_hold_op, NULL, NULL},
	{"POST", "/holds/{id}/confirm", CUS, HF_BODY_CONFIRM, HF_CMD_HOLD_CONFIRM, 200, BODY, prep_confirm, NULL, NULL},
	{"DELETE", "/holds/{id}", CUS, HF_BODY_ACT, HF_CMD_HOLD_RELEASE, 200, BODY, prep_hold_op, NULL, NULL},
	{"POST", "/orders", CUS, HF_BODY_ORDER, HF_CMD_ORDER_CREATE, 201, BODY, NULL, NULL, NULL},
	{"GET", "/orders/{id}", CUS, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_order_read, read_order, NULL},
	{"POST", "/orders/{id}/cancel", CUS, HF_BODY_ACT, HF_CMD_ORDER_CANCEL, 200, BODY, prep_order_op, NULL, NULL},
	{"POST", "/orders/{id}/status", ADM, HF_BODY_STATUS, HF_CMD_ORDER_STATUS, 200, BODY, prep_order_op, NULL, NULL},
	{"GET", "/customers/{id}/holds", CUS, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_customer_list, read_holds, NULL},
	{"GET", "/customers/{id}/orders", CUS, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_customer_list, read_orders, NULL},
	{"POST", "/tokens", ADM, HF_BODY_TOKEN, HF_CMD_NONE, 201, BODY, prep_token, NULL, NULL},
	{"POST", "/admin/clock", ADM, HF_BODY_CLOCK, HF_CMD_NONE, 200, BODY, prep_clock, read_clock, ok_clock},
	{"GET", "/metrics", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, NULL, read_metrics, ok_metrics},
	{"GET", "/changes", ADM, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_changes, NULL, NULL},
	{"GET", "/health", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_health, NULL, NULL},
	{"POST", "/batch", CUS, HF_BODY_BATCH, HF_CMD_NONE, 200, BODY, prep_batch, NULL, ok_batch},
	/* the seat-map page (ui.c): static files inside the binary, and the
	 * list of events it opens with */
	{"GET", "/events", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, prep_events, read_events, NULL},
	{"GET", "/ui/", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, hf_ui_prepare, NULL, NULL},
	{"GET", "/ui/events/{id}", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, hf_ui_prepare, NULL, NULL},
	{"GET", "/ui/{file}", PUB, HF_BODY_NONE, HF_CMD_NONE, 200, BODY, hf_ui_prepare, NULL, NULL},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

uint32_t hf_route_count(void) { return (uint32_t)N_ROUTES; }

const struct hf_route *hf_route_get(int index)
{
	HF_ASSERT(index >= 0 && (size_t)index < N_ROUTES);
	return &routes[index];
}

uint32_t hf_route_body_limit(const struct hf_route *rt)
{
	if (!rt)
		return 0;
	if (rt->body == HF_BODY_NONE && !strcmp(rt->method, "GET"))
		return 0;
	return rt->body_max;
}

bool hf_route_needs_engine(const struct hf_route *rt)
{
	return rt->prepare == prep_health || rt->prepare == prep_clock ||
	       rt->render_ok == ok_metrics;
}

/* Segment-by-segment match; "{id}" takes one non-empty segment. */
static bool path_match(const char *pattern, const char *path, struct hf_str *param)
{
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '{') {
			const char *end = strchr(s, '/');
			size_t n = end ? (size_t)(end - s) : strlen(s);
			if (n == 0)
				return false;
			param->ptr = s;
			param->len = (uint32_t)(n > 1024 ? 1024 : n);
			s += n;
			p = strchr(p, '}') + 1;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == 0 && *s == 0;
}

int hf_route_match(const char *method, const char *path, struct hf_str *param)
{
	int path_seen = -1;
	for (size_t i = 0; i < N_ROUTES; i++) {
		struct hf_str prm = {0};
		if (!path_match(routes[i].pattern, path, &prm))
			continue;
		path_seen = -2;
		if (!strcmp(routes[i].method, method)) {
			*param = prm;
			return (int)i;
		}
	}
	return path_seen;
}

/* ---- dispatch ---------------------------------------------------------- */

/* Authorization: Bearer <admin key or token>. Sets r->admin / r->customer.
 * Returns false when a credential was given and is not valid. */
static bool credentials_check(struct hf_req *r);

/* The credential is verified once per request (hf_api_precheck at the
 * headers, hf_api_dispatch after the body both ask): an HMAC per ask was
 * measured as the largest cost on the request path. */
static bool credentials(struct hf_req *r)
{
	if (!r->cred_checked) {
		r->cred_ok = credentials_check(r);
		r->cred_checked = true;
	}
	return r->cred_ok;
}

static bool credentials_check(struct hf_req *r)
{
	const char *h = r->authorization;
	if (!h)
		return true;
	if (strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	size_t n = strlen(h);
	while (n && h[n - 1] == ' ')
		n--;
	if (n == 0)
		return false;
	int64_t now = hf_server_now_ms(r->srv);
	struct hf_cred_memo *m = r->cred_memo;
	if (m && m->len == n && hf_auth_equal(m->cred, h, n) && (m->admin || now < m->expires_at_ms)) {
		r->admin = m->admin;
		r->customer = m->customer;
		return true;
	}
	/* A token is tried first (no SHA-256 of it for the admin compare);
	 * an admin key shaped like a token still works, through the fallback. */
	bool token_shape = n > 5 && !memcmp(h, "hft1.", 5);
	struct hf_token_claims c = {.customer_len = 0};
	bool admin = false;
	if (token_shape && hf_auth_token_check(&r->srv->auth, h, n, now, &c)) {
		memcpy(r->customer_buf, c.customer, c.customer_len + 1);
		r->customer.ptr = r->customer_buf;
		r->customer.len = (uint32_t)c.customer_len;
	} else if (hf_auth_is_admin(&r->srv->auth, h, n)) {
		r->admin = admin = true;
	} else {
		return false;
	}
	if (m && n < sizeof(m->cred)) {
		memcpy(m->cred, h, n);
		m->len = (uint16_t)n;
		m->admin = admin;
		m->expires_at_ms = admin ? 0 : c.expires_at_ms;
		memcpy(m->customer_buf, r->customer_buf, r->customer.len + 1);
		m->customer.ptr = m->customer_buf;
		m->customer.len = r->customer.len;
	}
	return true;
}

static bool json_content_type(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n))
		return false;
	return ct[n] == 0 || ct[n] == ';' || ct[n] == ' ';
}

/* Credentials and role: 401 / 403. Runs as soon as the headers are in
 * (http.c, so no one without the right credential makes the server buffer
 * a body) and again in hf_api_dispatch. A public route reads a credential
 * too, and ignores it unless it is valid. */
int hf_api_headers_check(struct hf_req *r, size_t header_bytes)
{
	if (header_bytes <= HF_HTTP_HEADER_MAX)
		return HF_SUBMIT;
	char msg[96];
	snprintf(msg, sizeof(msg), "the request headers are larger than %u bytes", HF_HTTP_HEADER_MAX);
	hf_render_error(r, 431, "payload_too_large", msg);
	return HF_ANSWERED;
}

int hf_api_body_check(struct hf_req *r, bool has_body)
{
	if (!has_body || hf_route_body_limit(r->route) > 0)
		return HF_SUBMIT;
	if (r->route)
		hf_render_error(r, 400, "bad_request", "this route takes no body");
	else
		hf_api_dispatch(r); /* 404 or 405 */
	r->close = true;
	return HF_ANSWERED;
}

int hf_api_precheck(struct hf_req *r)
{
	const struct hf_route *rt = r->route;
	if (!rt)
		return HF_SUBMIT;
	bool cred_ok = credentials(r);
	if (rt->auth == HF_AUTH_PUBLIC)
		return HF_SUBMIT;
	if (!cred_ok || (!r->admin && !r->customer.len)) {
		hf_render_error(r, 401, "unauthorized",
				r->authorization ? "the credential is not valid (or the token has expired)"
						 : "missing Authorization: Bearer <admin key or customer token>");
		return HF_ANSWERED;
	}
	if (rt->auth == HF_AUTH_ADMIN && !r->admin) {
		hf_render_error(r, 403, "forbidden", "this route needs the admin key");
		return HF_ANSWERED;
	}
	return HF_SUBMIT;
}

/* The steps after the body is read, shared by a request and an operation
 * of a batch: acting customer (403), Idempotency-Key (400), prepare. fp is
 * the request's fingerprint (hf_jsonin_parse_keyed) when it has a key. */
static int command_steps(struct hf_req *r, uint64_t fp)
{
	const struct hf_route *rt = r->route;
	struct hf_cmd *cmd = &r->ereq.cmd;
	if (rt->cmd != HF_CMD_NONE) {
		cmd->type = rt->cmd;
		cmd->admin = r->admin;
		if (!r->admin) {
			if (cmd->customer.len && !hf_str_eq(cmd->customer, r->customer)) {
				hf_render_error(r, 403, "forbidden",
						"a customer token acts only for its own customer");
				return HF_ANSWERED;
			}
			cmd->customer = r->customer;
		} else if (!cmd->customer.len &&
			   (rt->cmd == HF_CMD_HOLD_CREATE || rt->cmd == HF_CMD_ORDER_CREATE)) {
			return bad_field(r, 400, "customer",
					 "customer: required with the admin key (who the booking is for)");
		}
		if (r->idem_key) {
			size_t n = strlen(r->idem_key);
			if (!hf_jsonin_id_ok(r->idem_key, n)) {
				char msg[96];
				snprintf(msg, sizeof(msg),
					 "%s: expected 1 to %d characters of A-Z a-z 0-9 . _ : -",
					 r->batch ? "idempotency_key" : "Idempotency-Key", HF_ID_LEN_MAX);
				hf_render_error(r, 400, "bad_request", msg);
				return HF_ANSWERED;
			}
			cmd->idem_key.ptr = r->idem_key;
			cmd->idem_key.len = (uint32_t)n;
			cmd->idem_fingerprint = fp;
		}
	}
	if (rt->prepare && rt->prepare(r) == HF_ANSWERED)
		return HF_ANSWERED;
	if (r->n_submit)
		return HF_SUBMIT; /* a batch's operations */
	if (rt->cmd == HF_CMD_NONE && !rt->read)
		return HF_ANSWERED;
	r->ereq.read = rt->read;
	return HF_SUBMIT;
}

int hf_api_dispatch(struct hf_req *r)
{
	if (r->route_index == -1) {
		hf_render_error(r, 404, "not_found", "no such route");
		return HF_ANSWERED;
	}
	if (r->route_index == -2) {
		hf_render_error(r, 405, "bad_request", "method not allowed on this path");
		return HF_ANSWERED;
	}
	const struct hf_route *rt = r->route;

	if (hf_api_precheck(r) == HF_ANSWERED)
		return HF_ANSWERED;
	if (r->body_too_large) {
		char msg[96];
		snprintf(msg, sizeof(msg), "the body is larger than %u bytes", rt->body_max);
		hf_render_error(r, 413, "payload_too_large", msg);
		return HF_ANSWERED;
	}
	if (hf_api_body_check(r, r->body_len > 0) == HF_ANSWERED)
		return HF_ANSWERED;
	if (r->body_len && !json_content_type(r->content_type)) {
		hf_render_error(r, 415, "bad_request", "the body must be Content-Type: application/json");
		return HF_ANSWERED;
	}
	uint64_t fp = 0;
	if (rt->body != HF_BODY_BATCH && (rt->body != HF_BODY_NONE || r->body_len)) {
		bool keyed = r->idem_key && rt->cmd != HF_CMD_NONE;
		struct hf_jerr je;
		if (hf_jsonin_parse_keyed((enum hf_body)rt->body, r->body, r->body_len, r->arena,
					  &r->ereq.cmd, &r->extra, &je,
					  keyed ? hf_jsonin_fp_seed(r->method, r->path) : 0,
					  keyed ? &fp : NULL) < 0)
			return bad_field(r, je.status, je.path, je.msg);
	}
	return command_steps(r, fp);
}

/* ---- POST /batch ------------------------------------------------------- */

struct hf_req *hf_req_alloc(struct hf_arena *a, uint32_t n)
{
	struct hf_req *r = hf_arena_alloc_raw(a, (size_t)n * sizeof(*r));
	if (!r)
		return NULL;
	size_t from = offsetof(struct hf_req, ereq) + offsetof(struct hf_request, reply);
	size_t to = from + sizeof(struct hf_reply);
	for (uint32_t i = 0; i < n; i++) {
		memset((char *)&r[i], 0, from);
		memset((char *)&r[i] + to, 0, sizeof(r[i]) - to);
	}
	return r;
}

/* Only writes a customer makes: the rest (catalog, reads, tokens, clock)
 * have no use in a batch and would make its answer unbounded or its
 * credential ambiguous. */
static bool batchable(const struct hf_route *rt)
{
	return rt->cmd != HF_CMD_NONE && rt->auth == HF_AUTH_CUSTOMER;
}

struct batch_routes {
	int index[HF_BATCH_OPS_MAX];
	struct hf_str param[HF_BATCH_OPS_MAX];
};

static int batch_route(void *ctx, uint32_t i, const char *method, const char *path)
{
	struct batch_routes *br = ctx;
	HF_ASSERT(i < HF_BATCH_OPS_MAX);
	br->index[i] = hf_route_match(method, path, &br->param[i]);
	if (br->index[i] < 0 || !batchable(&routes[br->index[i]]))
		return -1;
	return routes[br->index[i]].body;
}

static int prep_batch(struct hf_req *r)
{
	if (r->idem_key) {
		hf_render_error(r, 400, "bad_request",
				"a batch takes no Idempotency-Key header: give each operation its idempotency_key");
		return HF_ANSWERED;
	}
	struct batch_routes br;
	struct hf_batch_op *ops;
	uint32_t n;
	struct hf_jerr je;
	if (hf_jsonin_parse_batch(r->body, r->body_len, r->arena, batch_route, &br, &ops, &n, &je) < 0)
		return bad_field(r, je.status, je.path, je.msg);
	r->ops = hf_req_alloc(r->arena, n);
	r->submit = hf_arena_alloc(r->arena, n * sizeof(*r->submit));
	if (!r->ops || !r->submit) {
		hf_render_error(r, 503, "overloaded", "out of memory");
		return HF_ANSWERED;
	}
	r->n_ops = n;
	for (uint32_t i = 0; i < n; i++) {
		struct hf_req *o = &r->ops[i];
		const struct hf_batch_op *op = &ops[i];
		o->srv = r->srv;
		o->conn = r->conn;
		o->arena = r->arena;
		o->batch = r;
		o->t0_ns = r->t0_ns;
		o->method = op->method;
		o->path = op->path;
		o->idem_key = op->idem_key;
		o->route_index = br.index[i];
		o->route = br.index[i] >= 0 ? &routes[br.index[i]] : NULL;
		o->param = br.param[i];
		o->cred_checked = o->cred_ok = true;
		o->admin = r->admin;
		o->customer = r->customer;
		o->stage = HF_STAGE_ANSWERED;
		int rc;
		if (o->route_index == -1) {
			hf_render_error(o, 404, "not_found", "no such route");
			continue;
		}
		if (o->route_index == -2) {
			hf_render_error(o, 405, "bad_request", "method not allowed on this path");
			continue;
		}
		if (!batchable(o->route)) {
			hf_render_error(o, 400, "bad_request",
					"not allowed in a batch: only POST /holds, POST /holds/{id}/add|remove|extend|confirm, DELETE /holds/{id}, POST /orders, POST /orders/{id}/cancel");
			continue;
		}
		if (!op->parsed) {
			bad_field(o, op->err.status, op->err.path,
				  op->err.msg);
			continue;
		}
		o->ereq.cmd = op->cmd;
		o->extra = op->extra;
		rc = command_steps(o, op->fingerprint);
		if (rc == HF_SUBMIT) {
			o->stage = HF_STAGE_PARKED;
			o->ereq.ctx = o;
			r->submit[r->n_submit++] = &o->ereq;
		}
	}
	if (r->n_submit == 0) {
		hf_jw_init(&r->out, r->arena);
		r->status = 200;
		ok_batch(r);
		return HF_ANSWERED;
	}
	return HF_SUBMIT;
}

/* {"results": [{"status": 201, "body": {...}}, ...]}: each operation's
 * answer as its own request would have had it, in order. */
static void ok_batch(struct hf_req *r)
{
	struct hf_jw *jw = &r->out;
	size_t size = 16;
	for (uint32_t i = 0; i < r->n_ops; i++) {
		struct hf_req *o = &r->ops[i];
		if (o->stage == HF_STAGE_PARKED) {
			hf_api_finish(o);
			o->stage = HF_STAGE_ANSWERED;
		}
		size += o->out.len + 48;
	}
	hf_jw_reserve(jw, size);
	hf_jw_obj(jw);
	hf_jw_key(jw, "results");
	hf_jw_arr(jw);
	for (uint32_t i = 0; i < r->n_ops; i++) {
		struct hf_req *o = &r->ops[i];
		hf_jw_obj(jw);
		hf_jw_key(jw, "status");
		hf_jw_u64(jw, o->status);
		if (o->replayed) {
			hf_jw_key(jw, "replayed");
			hf_jw_bool(jw, true);
		}
		hf_jw_key(jw, "body");
		if (o->out.oom)
			jw->oom = true;
		else if (o->out.len)
			hf_jw_json(jw, o->out.buf, o->out.len);
		else
			hf_jw_null(jw);
		hf_jw_obj_end(jw);
	}
	hf_jw_arr_end(jw);
	hf_jw_obj_end(jw);
}

void hf_api_finish(struct hf_req *r)
{
	if (r->ereq.status != HF_ENGINE_OK) {
		hf_render_error(r, 503, "overloaded",
				"the write could not be made durable (a disk error, or the database is away); "
				"its outcome is unknown until the engine recovers: retry with the same Idempotency-Key");
		r->retry_after = true;
		return;
	}
	if (r->route->cmd != HF_CMD_NONE) {
		hf_render_reply(r);
		return;
	}
	if (r->route->render_ok) {
		hf_jw_init(&r->out, r->arena);
		r->status = r->route->ok_status;
		r->route->render_ok(r);
	}
}
