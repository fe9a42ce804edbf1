/*
 * wl_seats.c: holdfast's seats workload and its checker (bench.h, rows.c):
 * POST /holds of 2-4 random seats of a --event-seats event, then POST
 * /holds/{id}/confirm of each hold that succeeded. A booking is a confirm
 * that succeeded (bookings_per_s).
 *
 * The client keeps its own seat map (b->seat, per event and seat, as the
 * answers told: free, held, sold, or unsure when a request had no answer)
 * and checks it seat by seat against GET /events/{id}/seats at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "bench.h"

/* Events: index 0 is the warm event, 1..events the measured ones. All
 * connections sell the current event; once the successful holds took
 * --seats-fill of its seats, the next one goes on sale (an on-sale rush,
 * event after event: contention stays, the run never sells out). */
static void event_id(struct bench *b, uint32_t e, char *out, size_t cap)
{
	if (e == 0)
		snprintf(out, cap, "%s-ev-warm", b->tag);
	else
		snprintf(out, cap, "%s-ev-%03u", b->tag, e);
}

void create_events(struct bench *b, uint32_t n, void (*id_of)(struct bench *b, uint32_t e, char *out, size_t cap))
{
	struct lreq *l = xalloc(n * sizeof(*l));
	size_t cap = (size_t)b->event_seats * 32 + 256;
	char *body = xalloc(cap);
	for (uint32_t e = 0; e < n; e++) {
		char id[96];
		id_of(b, e, id, sizeof(id));
		size_t k = (size_t)snprintf(body, cap,
					    "{\"id\":\"%s\",\"name\":\"bench event\",\"starts_at\":"
					    "\"2030-01-01T20:00:00Z\",\"seats\":[",
					    id);
		for (uint32_t s = 1; s <= b->event_seats; s++)
			k += (size_t)snprintf(body + k, cap - k, "%s{\"id\":\"S-%u\",\"price\":5000}",
					      s > 1 ? "," : "", s);
		snprintf(body + k, cap - k, "]}");
		lreq_set(&l[e], "POST", "/events", b->admin_auth, body);
	}
	free(body);
	list_run(b, l, n);
	must_list(b, l, n, "event", 201, 201);
	list_free(l, n);
}

int setup_seats(struct bench *b)
{
	setup_tokens(b, 1);
	uint32_t n = b->events + 1;
	create_events(b, n, event_id);
	b->seat = xalloc((size_t)n * b->event_seats);
	b->ev_taken = xalloc(n * sizeof(*b->ev_taken));
	atomic_store(&b->ev_current, 1);
	return 0;
}

bool next_seats(struct bench *b, struct conn *c)
{
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	char body[1024], path[64], ev[96];
	if (c->hold) {
		snprintf(path, sizeof(path), "/holds/h-%" PRIu64 "/confirm", c->hold);
		req_http(b, c, "POST", path, auth_of(b, c, 0), "", 0);
		c->op = OP_CONFIRM;
		return true;
	}
	uint32_t e = ph == PH_WARM ? 0 : atomic_load_explicit(&b->ev_current, memory_order_relaxed);
	c->event = e;
	c->n_seats = (uint8_t)(2 + rnd_below(&c->rng, 3));
	for (uint32_t i = 0; i < c->n_seats; i++) {
	again:
		c->seats[i] = 1 + rnd_below(&c->rng, b->event_seats);
		for (uint32_t k = 0; k < i; k++)
			if (c->seats[k] == c->seats[i])
				goto again;
	}
	event_id(b, e, ev, sizeof(ev));
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"seats\":[");
	for (uint32_t i = 0; i < c->n_seats; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"event\":\"%s\",\"seat\":\"S-%u\"}",
				      i ? "," : "", ev, c->seats[i]);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	req_http(b, c, "POST", "/holds", auth_of(b, c, 0), body, n);
	c->op = OP_HOLD;
	return true;
}

static _Atomic uint8_t *seat_at(struct bench *b, uint32_t e, uint32_t s)
{
	return &b->seat[(size_t)e * b->event_seats + (s - 1)];
}

int answer_seats(struct bench *b, struct conn *c, int *status, const char *body,
		 size_t len)
{
	if (c->op == OP_HOLD) {
		if (*status != 201)
			return *status == 409 ? CLS_REJECTED : CLS_OTHER;
		c->hold = json_booking_id(body, len, 'h');
		for (uint32_t i = 0; i < c->n_seats; i++) {
			uint8_t want = SEAT_FREE;
			if (!atomic_compare_exchange_strong(seat_at(b, c->event, c->seats[i]), &want,
							    SEAT_HELD)) {
				if (!atomic_fetch_add(&b->seat_twice, 1))
					fprintf(stderr, "holdfast-bench: seat S-%u of event %u granted "
							"to two holds\n", c->seats[i], c->event);
			}
		}
		atomic_fetch_add(&b->seats_held_ok, c->n_seats);
		uint32_t taken = atomic_fetch_add(&b->ev_taken[c->event], c->n_seats) + c->n_seats;
		uint32_t e = c->event;
		if (e && taken >= (uint32_t)(b->seats_fill * b->event_seats) && e < b->events)
			atomic_compare_exchange_strong(&b->ev_current, &e, e + 1);
		return CLS_OK;
	}
	/* confirm */
	c->hold = 0;
	if (*status == 200) {
		for (uint32_t i = 0; i < c->n_seats; i++)
			atomic_store(seat_at(b, c->event, c->seats[i]), SEAT_SOLD);
		atomic_fetch_add(&b->seats_sold, c->n_seats);
		return CLS_OK;
	}
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

void lost_seats(struct bench *b, struct conn *c)
{
	/* A hold without an answer may hold its seats; a confirm without one
	 * may have sold them. Either is allowed at the check. */
	uint8_t mark = c->op == OP_HOLD ? SEAT_UNSURE_HELD : SEAT_UNSURE_SOLD;
	for (uint32_t i = 0; i < c->n_seats; i++) {
		_Atomic uint8_t *s = seat_at(b, c->event, c->seats[i]);
		if (c->op == OP_CONFIRM || atomic_load(s) == SEAT_FREE)
			atomic_store(s, mark);
	}
	c->hold = 0;
}

uint32_t seat_map_each(const struct lreq *q, uint32_t max_seat,
		       void (*each)(void *arg, uint32_t seat, const char *state), void *arg)
{
	if (q->status != 200)
		die("verify: GET %s answered %d", q->path, q->status);
	const char *p = q->answer, *end = q->answer + q->answer_len;
	uint32_t seen = 0;
	while ((p = memmem(p, (size_t)(end - p), "{\"id\":\"S-", 9))) {
		uint32_t s = (uint32_t)strtoul(p + 9, NULL, 10);
		const char *st = memmem(p, (size_t)(end - p), "\"state\":\"", 9);
		if (!st || s < 1 || s > max_seat)
			break;
		st += 9;
		each(arg, s, st);
		seen++;
		p = st;
	}
	return seen;
}

long long event_counts_sum(const struct lreq *ev)
{
	return json_num(ev->answer, ev->answer_len, "free") +
	       json_num(ev->answer, ev->answer_len, "held") +
	       json_num(ev->answer, ev->answer_len, "sold") +
	       json_num(ev->answer, ev->answer_len, "blocked");
}

struct seats_check {
	struct bench *b;
	uint32_t e;
	uint64_t mismatched, sold_server, held_server;
	char example[256];
};

static void seat_check(void *arg, uint32_t s, const char *st)
{
	struct seats_check *k = arg;
	uint8_t want = atomic_load(seat_at(k->b, k->e, s));
	bool is_free = !strncmp(st, "free", 4), is_held = !strncmp(st, "held", 4),
	     is_sold = !strncmp(st, "sold", 4);
	k->sold_server += is_sold;
	k->held_server += is_held;
	bool ok = (want == SEAT_FREE && is_free) || (want == SEAT_HELD && is_held) ||
		  (want == SEAT_SOLD && is_sold) ||
		  (want == SEAT_UNSURE_HELD && (is_free || is_held)) ||
		  (want == SEAT_UNSURE_SOLD && (is_held || is_sold));
	if (!ok && !k->mismatched++)
		snprintf(k->example, sizeof(k->example),
			 "event %u seat S-%u: server says %.4s, the answers said %u", k->e, s, st, want);
}

/* Seats: no seat granted to two holds (seen by the client); every seat's
 * state on the server is the one the answers imply (free, held by a hold
 * whose confirm failed, sold), except seats of requests without an
 * answer; the event's counts add up to its seats. */
int verify_seats(struct bench *b)
{
	uint32_t last = atomic_load(&b->ev_current);
	uint32_t n = last + 1;
	struct lreq *l = xalloc(2 * n * sizeof(*l));
	for (uint32_t e = 0; e < n; e++) {
		char id[96], path[160];
		event_id(b, e, id, sizeof(id));
		snprintf(path, sizeof(path), "/events/%s/seats?limit=%u", id, HF_SEAT_PAGE_MAX);
		lreq_set(&l[2 * e], "GET", path, NULL, NULL);
		snprintf(path, sizeof(path), "/events/%s", id);
		lreq_set(&l[2 * e + 1], "GET", path, NULL, NULL);
	}
	list_run(b, l, 2 * n);
	struct seats_check k = {.b = b};
	uint64_t bad_counts = 0;
	for (uint32_t e = 0; e < n; e++) {
		k.e = e;
		uint32_t seen = seat_map_each(&l[2 * e], b->event_seats, seat_check, &k);
		if (seen != b->event_seats)
			check(false, "event %u: the seat map lists %u seats, expected %u", e, seen,
			      b->event_seats);
		if (event_counts_sum(&l[2 * e + 1]) != (long long)b->event_seats)
			bad_counts++;
	}
	list_free(l, 2 * n);
	check(!atomic_load(&b->seat_twice), "no seat granted to two holds (%" PRIu64 " were)",
	      (uint64_t)atomic_load(&b->seat_twice));
	check(!k.mismatched, "every seat's state matches the answers (%" PRIu64 " do not%s%s)",
	      k.mismatched, k.mismatched ? "; first: " : "", k.example);
	check(!bad_counts, "free + held + sold + blocked = seats on every event used (%u)", n);
	uint64_t sold_seen = atomic_load(&b->seats_sold);
	fprintf(stderr, "  seats sold: server %" PRIu64 ", confirms seen %" PRIu64
			"; held on the server %" PRIu64 "\n",
		k.sold_server, sold_seen, k.held_server);
	snprintf(b->extra + strlen(b->extra), sizeof(b->extra) - strlen(b->extra),
		 " events_used=%u seats_sold=%" PRIu64, last, sold_seen);
	verify_metrics(b);
	return 0;
}
