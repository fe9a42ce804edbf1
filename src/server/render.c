/*
 * render.c: every JSON answer of a write, and the one error shape
 * {"error": {"code", "message", ...details}}.
 *
 * Invariant (idempotent replays are byte-identical): a write's answer is a
 * function of the reply, the command (which an accepted replay shares with
 * the first request: same method, path and body) and immutable names
 * (hf_sm_event_id, hf_sm_seat_id, hf_sm_item_id, hf_sm_customer_name).
 * Nothing here reads the current state or the current time.
 */
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "core/sm.h"
#include "server/server.h"

/* The one table from core results to HTTP. Columns: HTTP status, error
 * code (SPEC section 4; NULL for HF_OK), message. HF_NOT_OWNER reads
 * exactly like an unknown id (same status, code and message, chosen by the
 * command) so another customer's holds and orders cannot be told from ids
 * that do not exist. */
static const struct {
	uint16_t status;
	const char *code;
	const char *message;
} result_http[HF_RESULT_COUNT] = {
	[HF_OK] = {200, NULL, NULL},
	[HF_TOO_MANY_LINES] = {413, "payload_too_large",
			       "too many lines: a hold or order takes at most 100 seats and 50 items"},
	[HF_BAD_REQUEST] = {400, "bad_request",
			    "the request is not valid (no lines, a seat named twice, a ttl past the maximum, a missing customer, sale window reversed ...)"},
	[HF_ALREADY_EXISTS] = {409, "already_exists", "an entry with this id already exists"},
	[HF_CAPACITY_FULL] = {503, "overloaded", "the server's capacity for this kind of entry is full"},
	[HF_UNKNOWN_HOLD] = {404, "not_found", "hold not found"},
	[HF_UNKNOWN_ORDER] = {404, "not_found", "order not found"},
	[HF_NOT_OWNER] = {404, "not_found", NULL},
	[HF_HOLD_EXPIRED] = {409, "hold_expired", "the hold has expired"},
	[HF_HOLD_NOT_ACTIVE] = {409, "hold_not_active", "the hold is no longer active (confirmed or released)"},
	[HF_UNKNOWN_EVENT] = {404, "not_found", "event not found"},
	[HF_UNKNOWN_SEAT] = {404, "not_found", "seat not found"},
	[HF_UNKNOWN_ITEM] = {404, "not_found", "item not found"},
	[HF_SALE_CLOSED] = {409, "sale_closed", "the sale of this event is not open"},
	[HF_LIMIT_EXCEEDED] = {409, "limit_exceeded", NULL /* written from the details */},
	[HF_SEATS_UNAVAILABLE] = {409, "seats_unavailable", "some seats are held or sold"},
	[HF_SEATS_BLOCKED] = {409, "seats_unavailable", "some seats are blocked (not for sale)"},
	[HF_INSUFFICIENT_STOCK] = {409, "insufficient_stock", "not enough stock"},
	[HF_STATUS_MISMATCH] = {409, "invalid_transition", "the order's status is not the expected one"},
	[HF_INVALID_TRANSITION] = {409, "invalid_transition", "the order cannot move to that status"},
	[HF_IDEMPOTENCY_KEY_REUSED] = {409, "idempotency_key_reused",
				       "this Idempotency-Key was used with a different request"},
	[HF_ORPHAN_SEAT] = {409, "orphan_seat",
			    "the booking would leave single free seats stranded (this event refuses single gaps)"},
};

/* limit_exceeded: the message and the "limit" detail of each kind.
 * Columns: detail name (cmd.c's hf_limit_kind_name), message format
 * (max, current, requested). */
static const char *const limit_messages[HF_LIMIT_KIND_COUNT] = {
	[HF_LIMIT_NONE] = "a limit would be passed",
	[HF_LIMIT_HOLDS_PER_CUSTOMER] =
		"a customer may have at most %u active holds; this customer has %u (asked for %u more)",
	[HF_LIMIT_SEATS_PER_CUSTOMER] =
		"this event sells at most %u seats per customer; this customer has %u (asked for %u more)",
	[HF_LIMIT_STOCK_MAX] =
		"an item's stock may not pass %u units; this item has %u (asked to add %u)",
};

void hf_render_error_begin(struct hf_req *r, uint16_t status, const char *code,
			   const char *message)
{
	hf_jw_init(&r->out, r->arena);
	r->status = status;
	r->err_code = code;
	hf_jw_obj(&r->out);
	hf_jw_key(&r->out, "error");
	hf_jw_obj(&r->out);
	hf_jw_key(&r->out, "code");
	hf_jw_cstr(&r->out, code);
	hf_jw_key(&r->out, "message");
	hf_jw_cstr(&r->out, message);
}

void hf_render_error_end(struct hf_req *r)
{
	hf_jw_obj_end(&r->out);
	hf_jw_obj_end(&r->out);
}

void hf_render_error(struct hf_req *r, uint16_t status, const char *code, const char *message)
{
	hf_render_error_begin(r, status, code, message);
	hf_render_error_end(r);
}

void hf_render_booking_id(struct hf_jw *jw, char prefix, uint64_t id)
{
	hf_jw_prefixed_u64(jw, prefix, id);
}

static void jw_hstr(struct hf_jw *jw, struct hf_str s) { hf_jw_str(jw, s.ptr, s.len); }

/* The fields of an event every answer about it carries (server.h). */
void hf_render_event_fields(struct hf_jw *jw, struct hf_str id, struct hf_str name, int64_t starts,
			 uint32_t ttl, uint32_t maxpc, int64_t opens, int64_t closes, uint8_t rule,
			 uint32_t n)
{
	hf_jw_key(jw, "id");
	jw_hstr(jw, id);
	hf_jw_key(jw, "name");
	jw_hstr(jw, name);
	hf_jw_key(jw, "starts_at");
	hf_jw_time(jw, starts);
	hf_jw_key(jw, "hold_ttl_s");
	hf_jw_u64(jw, ttl ? ttl : HF_HOLD_TTL_DEFAULT_S);
	hf_jw_key(jw, "max_per_customer");
	hf_jw_u64(jw, maxpc);
	if (opens) {
		hf_jw_key(jw, "sale_opens_at");
		hf_jw_time(jw, opens);
	}
	if (closes) {
		hf_jw_key(jw, "sale_closes_at");
		hf_jw_time(jw, closes);
	}
	hf_jw_key(jw, "orphan_rule");
	hf_jw_cstr(jw, rule < HF_ORPHAN_RULE_COUNT ? hf_jsonin_orphan_rules[rule] : "allow");
	hf_jw_key(jw, "seat_count");
	hf_jw_u64(jw, n);
}

/* A seat of a seat map (server.h). */
void hf_render_seat(struct hf_jw *jw, const struct hf_seat_info *s, uint8_t state)
{
	hf_render_seat_head(jw, s);
	hf_jw_cstr(jw, hf_seat_state_name((enum hf_seat_state)state));
	hf_jw_obj_end(jw);
}

void hf_render_seat_head(struct hf_jw *jw, const struct hf_seat_info *s)
{
	hf_jw_obj(jw);
	hf_jw_key(jw, "id");
	jw_hstr(jw, s->id);
	if (s->section.len) {
		hf_jw_key(jw, "section");
		jw_hstr(jw, s->section);
	}
	if (s->row.len) {
		hf_jw_key(jw, "row");
		jw_hstr(jw, s->row);
	}
	hf_jw_key(jw, "number");
	hf_jw_i64(jw, s->number);
	hf_jw_key(jw, "price");
	hf_jw_i64(jw, s->price);
	if (s->category.len) {
		hf_jw_key(jw, "category");
		jw_hstr(jw, s->category);
	}
	hf_jw_key(jw, "state");
}

/* An item with its counters (server.h). */
void hf_render_item(struct hf_jw *jw, const struct hf_item_info *i, uint64_t available, uint64_t held,
		    uint64_t sold)
{
	hf_jw_obj(jw);
	hf_jw_key(jw, "id");
	jw_hstr(jw, i->id);
	hf_jw_key(jw, "name");
	jw_hstr(jw, i->name);
	hf_jw_key(jw, "category");
	jw_hstr(jw, i->category);
	hf_jw_key(jw, "description");
	jw_hstr(jw, i->description);
	hf_jw_key(jw, "image_url");
	jw_hstr(jw, i->image_url);
	hf_jw_key(jw, "price");
	hf_jw_i64(jw, i->price);
	hf_render_stock(jw, available, held, sold);
	hf_jw_obj_end(jw);
}

void hf_render_stock(struct hf_jw *jw, uint64_t available, uint64_t held, uint64_t sold)
{
	hf_jw_key(jw, "available");
	hf_jw_u64(jw, available);
	hf_jw_key(jw, "held");
	hf_jw_u64(jw, held);
	hf_jw_key(jw, "sold");
	hf_jw_u64(jw, sold);
}

void hf_render_counts(struct hf_jw *jw, const uint32_t count[4])
{
	hf_jw_key(jw, "counts");
	hf_jw_obj(jw);
	for (int s = 0; s < 4; s++) {
		hf_jw_key(jw, hf_seat_state_name((enum hf_seat_state)s));
		hf_jw_u64(jw, count[s]);
	}
	hf_jw_obj_end(jw);
}

/* The state whose immutable names a render reads: the engine's current one
 * (an engine may replace it: engine.h), or the server's own when there is
 * no engine (request.h: tests and fuzzing). */
static const struct hf_sm *names(const struct hf_req *r)
{
	return r->srv->engine ? hf_engine_sm(r->srv->engine) : r->srv->sm;
}

/* {"event": .., "seat": ..} of a seat index. */
static void seat_ref(struct hf_jw *jw, const struct hf_sm *sm, uint32_t seat)
{
	uint32_t ev = 0;
	struct hf_str sid = hf_sm_seat_id(sm, seat, &ev);
	hf_jw_obj(jw);
	hf_jw_key(jw, "event");
	jw_hstr(jw, hf_sm_event_id(sm, ev));
	hf_jw_key(jw, "seat");
	jw_hstr(jw, sid);
	hf_jw_obj_end(jw);
}

/* together: -1 not shown (reads, and writes that chose no seat), else
 * whether the chosen seats are side by side. */
void hf_render_lines(struct hf_jw *jw, const struct hf_sm *sm, const struct hf_booking *b, bool full)
{
	hf_jw_key(jw, "seats");
	hf_jw_arr(jw);
	for (uint32_t i = 0; i < b->n_seats; i++) {
		uint32_t ev = 0;
		struct hf_str sid = hf_sm_seat_id(sm, b->seats[i].seat, &ev);
		hf_jw_obj(jw);
		hf_jw_key(jw, "event");
		jw_hstr(jw, hf_sm_event_id(sm, ev));
		hf_jw_key(jw, "seat");
		jw_hstr(jw, sid);
		if (full) {
			hf_jw_key(jw, "price");
			hf_jw_i64(jw, b->seats[i].price);
		}
		hf_jw_obj_end(jw);
	}
	hf_jw_arr_end(jw);
	hf_jw_key(jw, "items");
	hf_jw_arr(jw);
	for (uint32_t i = 0; i < b->n_items; i++) {
		const struct hf_view_item *it = &b->items[i];
		hf_jw_obj(jw);
		hf_jw_key(jw, "item");
		jw_hstr(jw, hf_sm_item_id(sm, it->item));
		hf_jw_key(jw, "quantity");
		hf_jw_u64(jw, it->quantity);
		if (full) {
			hf_jw_key(jw, "requested");
			hf_jw_u64(jw, it->requested);
			hf_jw_key(jw, "available");
			hf_jw_u64(jw, it->available);
			hf_jw_key(jw, "price");
			hf_jw_i64(jw, it->price);
			hf_jw_key(jw, "line_total");
			hf_jw_i64(jw, it->price * (int64_t)it->quantity);
		}
		hf_jw_obj_end(jw);
	}
	hf_jw_arr_end(jw);
}

static void render_booking(struct hf_jw *jw, const struct hf_sm *sm, const struct hf_booking *b,
			   bool is_order, int64_t now_ms, int together)
{
	hf_jw_obj(jw);
	hf_jw_key(jw, "id");
	hf_render_booking_id(jw, is_order ? 'o' : 'h', b->id);
	hf_jw_key(jw, "customer");
	jw_hstr(jw, hf_sm_customer_name(sm, b->customer));
	if (is_order) {
		hf_jw_key(jw, "status");
		hf_jw_cstr(jw, hf_order_status_name((enum hf_order_status)b->state));
	} else {
		/* A read may run before the apply that expires the hold; now_ms < 0
		 * (write replies) shows the state as applied. */
		uint8_t st = b->state;
		if (now_ms >= 0 && st == HF_HOLD_ACTIVE && b->expires_at_ms <= now_ms)
			st = HF_HOLD_EXPIRED_STATE;
		hf_jw_key(jw, "state");
		hf_jw_cstr(jw, hf_hold_state_name((enum hf_hold_state)st));
	}
	hf_jw_key(jw, "created_at");
	hf_jw_time(jw, b->created_at_ms);
	if (!is_order) {
		hf_jw_key(jw, "expires_at");
		hf_jw_time(jw, b->expires_at_ms);
		if (b->order) {
			hf_jw_key(jw, "order");
			hf_render_booking_id(jw, 'o', b->order);
		}
	}
	hf_render_lines(jw, sm, b, true);
	hf_jw_key(jw, "total");
	hf_jw_i64(jw, b->total);
	hf_jw_key(jw, "fees");
	hf_jw_i64(jw, b->fees);
	hf_jw_key(jw, "total_with_fees");
	hf_jw_i64(jw, b->total_with_fees);
	if (together >= 0) {
		hf_jw_key(jw, "together");
		hf_jw_bool(jw, together > 0);
	}
	hf_jw_obj_end(jw);
}

void hf_render_booking(struct hf_jw *jw, const struct hf_sm *sm, const struct hf_booking *b,
		       bool is_order, int64_t now_ms)
{
	render_booking(jw, sm, b, is_order, now_ms, -1);
}

/* The seat lines of the command (for names given by request position). */
static void cmd_seat_at(const struct hf_cmd *c, uint32_t pos, struct hf_str *event,
			struct hf_str *seat)
{
	*event = (struct hf_str){0};
	*seat = (struct hf_str){0};
	switch (c->type) {
	case HF_CMD_SEATS_BLOCK:
	case HF_CMD_SEATS_UNBLOCK:
		*event = c->u.seats_block.event;
		if (pos < c->u.seats_block.n_seats)
			*seat = c->u.seats_block.seats[pos];
		break;
	case HF_CMD_HOLD_CREATE:
	case HF_CMD_HOLD_ADD:
	case HF_CMD_HOLD_REMOVE:
	case HF_CMD_ORDER_CREATE:
		if (pos < c->u.lines.n_seats) {
			*event = c->u.lines.seats[pos].event;
			*seat = c->u.lines.seats[pos].seat;
		} else if (pos == c->u.lines.n_seats && c->u.lines.best.count) {
			*event = c->u.lines.best.event; /* best_available's */
		}
		break;
	}
}

static void render_refusal(struct hf_req *r)
{
	const struct hf_reply *rp = &r->ereq.reply;
	const struct hf_cmd *c = &r->ereq.cmd;
	const struct hf_sm *sm = names(r);
	struct hf_jw *jw = &r->out;
	uint8_t res = rp->result;
	HF_ASSERT(res > HF_OK && res < HF_RESULT_COUNT);
	uint16_t status = result_http[res].status;
	const char *code = result_http[res].code;
	char msg[256];
	const char *message = result_http[res].message;

	switch (res) {
	case HF_UNKNOWN_HOLD:
	case HF_UNKNOWN_ORDER:
	case HF_NOT_OWNER: {
		bool order = c->type == HF_CMD_ORDER_CANCEL || c->type == HF_CMD_ORDER_STATUS;
		uint64_t id = order ? c->u.order_op.order : c->u.hold_op.hold;
		if (c->type == HF_CMD_HOLD_ADD || c->type == HF_CMD_HOLD_REMOVE)
			id = c->u.lines.hold;
		snprintf(msg, sizeof(msg), "%s %c-%llu not found", order ? "order" : "hold",
			 order ? 'o' : 'h', (unsigned long long)id);
		hf_render_error_begin(r, 404, "not_found", msg);
		hf_jw_key(jw, order ? "order" : "hold");
		hf_render_booking_id(jw, order ? 'o' : 'h', id);
		hf_render_error_end(r);
		return;
	}
	default:
		break;
	}
	bool best_short = res == HF_SEATS_UNAVAILABLE && rp->n_bad_seats == 0;
	bool late = res == HF_HOLD_EXPIRED && (rp->n_bad_seats || rp->item_short);
	if (best_short)
		message = "fewer free seats match best_available than it asks for";
	if (late)
		message = "the hold has expired and some of its seats or stock were taken since";
	if (res == HF_LIMIT_EXCEEDED) {
		uint8_t k = rp->limit < HF_LIMIT_KIND_COUNT ? rp->limit : HF_LIMIT_NONE;
		snprintf(msg, sizeof(msg), limit_messages[k], rp->limit_max, rp->limit_current,
			 rp->limit_requested);
		message = msg;
	}
	hf_render_error_begin(r, status, code, message);
	switch (res) {
	case HF_SEATS_UNAVAILABLE:
	case HF_SEATS_BLOCKED:
		hf_jw_key(jw, "reason");
		hf_jw_cstr(jw, res == HF_SEATS_BLOCKED ? "blocked"
			       : best_short           ? "not_enough_free_seats"
						      : "held_or_sold");
		hf_jw_key(jw, "seats");
		hf_jw_arr(jw);
		for (uint32_t i = 0; i < rp->n_bad_seats && i < HF_HOLD_SEATS_MAX; i++)
			seat_ref(jw, sm, rp->bad_seats[i]);
		hf_jw_arr_end(jw);
		if (best_short) {
			hf_jw_key(jw, "requested");
			hf_jw_u64(jw, c->u.lines.best.count);
			hf_jw_key(jw, "available");
			hf_jw_u64(jw, rp->available);
		}
		break;
	case HF_ORPHAN_SEAT:
		hf_jw_key(jw, "seats");
		hf_jw_arr(jw);
		for (uint32_t i = 0; i < rp->n_bad_seats && i < HF_HOLD_SEATS_MAX; i++)
			seat_ref(jw, sm, rp->bad_seats[i]);
		hf_jw_arr_end(jw);
		break;
	case HF_HOLD_EXPIRED:
		if (!late)
			break;
		hf_jw_key(jw, "seats");
		hf_jw_arr(jw);
		for (uint32_t i = 0; i < rp->n_bad_seats && i < HF_HOLD_SEATS_MAX; i++)
			seat_ref(jw, sm, rp->bad_seats[i]);
		hf_jw_arr_end(jw);
		if (rp->item_short) {
			hf_jw_key(jw, "item");
			jw_hstr(jw, hf_sm_item_id(sm, rp->bad_item));
			hf_jw_key(jw, "available");
			hf_jw_u64(jw, rp->available);
		}
		break;
	case HF_LIMIT_EXCEEDED:
		if (rp->limit == HF_LIMIT_NONE)
			break;
		hf_jw_key(jw, "limit");
		hf_jw_cstr(jw, hf_limit_kind_name((enum hf_limit_kind)rp->limit));
		hf_jw_key(jw, "max");
		hf_jw_u64(jw, rp->limit_max);
		hf_jw_key(jw, "current");
		hf_jw_u64(jw, rp->limit_current);
		hf_jw_key(jw, "requested");
		hf_jw_u64(jw, rp->limit_requested);
		if (rp->limit == HF_LIMIT_SEATS_PER_CUSTOMER) {
			hf_jw_key(jw, "event");
			jw_hstr(jw, hf_sm_event_id(sm, rp->limit_ref));
		} else if (rp->limit == HF_LIMIT_STOCK_MAX) {
			hf_jw_key(jw, "item");
			jw_hstr(jw, hf_sm_item_id(sm, rp->limit_ref));
		}
		break;
	case HF_UNKNOWN_SEAT:
	case HF_UNKNOWN_EVENT: {
		struct hf_str ev, seat;
		if (res == HF_UNKNOWN_EVENT) {
			if (c->type == HF_CMD_SEATS_BLOCK || c->type == HF_CMD_SEATS_UNBLOCK)
				ev = c->u.seats_block.event;
			else
				cmd_seat_at(c, rp->n_bad_seats ? rp->bad_seats[0] : 0, &ev, &seat);
			hf_jw_key(jw, "event");
			jw_hstr(jw, ev);
			break;
		}
		hf_jw_key(jw, "seats");
		hf_jw_arr(jw);
		for (uint32_t i = 0; i < rp->n_bad_seats && i < HF_HOLD_SEATS_MAX; i++) {
			cmd_seat_at(c, rp->bad_seats[i], &ev, &seat);
			hf_jw_obj(jw);
			hf_jw_key(jw, "event");
			jw_hstr(jw, ev);
			hf_jw_key(jw, "seat");
			jw_hstr(jw, seat);
			hf_jw_obj_end(jw);
		}
		hf_jw_arr_end(jw);
		break;
	}
	case HF_UNKNOWN_ITEM: {
		struct hf_str item = {0};
		if (c->type == HF_CMD_ITEM_RESTOCK)
			item = c->u.item_restock.item;
		else if (rp->bad_item < c->u.lines.n_items)
			item = c->u.lines.items[rp->bad_item].item;
		hf_jw_key(jw, "item");
		jw_hstr(jw, item);
		break;
	}
	case HF_INSUFFICIENT_STOCK:
		hf_jw_key(jw, "item");
		jw_hstr(jw, hf_sm_item_id(sm, rp->bad_item));
		hf_jw_key(jw, "available");
		hf_jw_u64(jw, rp->available);
		break;
	case HF_INVALID_TRANSITION:
	case HF_STATUS_MISMATCH:
		hf_jw_key(jw, "current_status");
		hf_jw_cstr(jw, hf_order_status_name((enum hf_order_status)rp->current_status));
		if (c->type == HF_CMD_ORDER_STATUS) {
			hf_jw_key(jw, "requested_status");
			hf_jw_cstr(jw, hf_order_status_name((enum hf_order_status)c->u.order_op.status));
		}
		break;
	case HF_CAPACITY_FULL:
		r->retry_after = true;
		break;
	default:
		break;
	}
	hf_render_error_end(r);
}

void hf_render_reply(struct hf_req *r)
{
	const struct hf_reply *rp = &r->ereq.reply;
	r->replayed = rp->replayed;
	if (rp->result != HF_OK) {
		render_refusal(r);
		return;
	}
	switch (rp->kind) {
	case HF_REPLY_HOLD:
	case HF_REPLY_ORDER:
		hf_jw_init(&r->out, r->arena);
		r->status = r->route->ok_status;
		render_booking(&r->out, names(r), &rp->booking, rp->kind == HF_REPLY_ORDER, -1,
			       rp->best ? rp->together : -1);
		return;
	default:
		HF_ASSERT(r->route->render_ok);
		hf_jw_init(&r->out, r->arena);
		r->status = r->route->ok_status;
		r->route->render_ok(r);
		return;
	}
}
