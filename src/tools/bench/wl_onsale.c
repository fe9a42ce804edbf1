/*
 * wl_onsale.c: holdfast's onsale workload and its checker (bench.h,
 * rows.c; docs/BENCHMARKS.md, "On-sale: writers, feed watchers and
 * seat-map pollers"): the writers of an on-sale while others watch it.
 *
 * Writers: each connection holds 2-4 random distinct seats of one
 * --event-seats event (POST /holds), releases the hold at once (DELETE
 * /holds/{id}) and holds again; a 409 just picks new seats. Both requests
 * are writes (requests/s); holds_ok_per_s counts the holds granted. The
 * warm-up writes to an event of its own.
 *
 * The probe: the tick connection (worker 0, the admin key, customer
 * "<tag>-probe") owns seat S-1, which no writer picks, and holds or
 * releases it in turn every --probe-ms (on average: each wait is drawn
 * from 0.75-1.25 times it); struct probe (bench.h) publishes
 * each transition and when its answer was read, and the watch thread
 * (watch.c) times its arrival in every feed. Its requests stay out of
 * requests/s.
 *
 * The client keeps its own seat map (b->seat, per event and seat, as the
 * answers told) and checks it seat by seat against GET /events/{id}/seats
 * at the end. Seats go free -> held (201) -> releasing (DELETE sent) ->
 * free (200), and a seat may be granted to another hold once it is
 * releasing: the server may free it before its answer is read. A grant
 * of a seat that is held, its release not even sent, is a seat granted
 * twice. A request without an answer leaves its seats unsure: free or
 * held are both allowed at the check.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "bench.h"

#define PROBE_SEAT 1u

/* Index 0: the warm event; 1: the event on sale (watched, polled). */
static void event_id(struct bench *b, uint32_t e, char *out, size_t cap)
{
	snprintf(out, cap, e ? "%s-onsale" : "%s-onsale-warm", b->tag);
}

static _Atomic uint8_t *seat_at(struct bench *b, uint32_t e, uint32_t s)
{
	return &b->seat[(size_t)e * b->event_seats + (s - 1)];
}

int setup_onsale(struct bench *b)
{
	setup_tokens(b, 1);
	create_events(b, 2, event_id);
	b->seat = xalloc(2 * (size_t)b->event_seats);
	event_id(b, 1, b->feed_event, sizeof(b->feed_event));
	struct probe *p = &b->probe;
	p->seat = PROBE_SEAT;
	/* one transition per --probe-ms from the warm-up to the drain's end */
	double run_s = b->warmup_s + b->duration_s + b->drain_s + 1;
	p->cap = (uint32_t)(run_s * 1000.0 / b->probe_ms) + 8;
	p->ack_ns = xalloc(p->cap * sizeof(*p->ack_ns));
	p->in_window = xalloc(p->cap * sizeof(*p->in_window));
	return 0;
}

bool next_onsale(struct bench *b, struct conn *c)
{
	char body[1024], path[64], ev[96];
	if (c->hold) {
		for (uint32_t i = 0; i < c->n_seats; i++)
			atomic_store(seat_at(b, c->event, c->seats[i]), SEAT_RELEASING);
		snprintf(path, sizeof(path), "/holds/h-%" PRIu64, c->hold);
		req_http(b, c, "DELETE", path, auth_of(b, c, 0), "", 0);
		c->op = OP_RELEASE;
		return true;
	}
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	c->event = ph == PH_WARM ? 0 : 1;
	c->n_seats = (uint8_t)(2 + rnd_below(&c->rng, 3));
	for (uint32_t i = 0; i < c->n_seats; i++) {
	again:
		/* 2..event_seats: the probe's seat is never picked */
		c->seats[i] = PROBE_SEAT + 1 + rnd_below(&c->rng, b->event_seats - PROBE_SEAT);
		for (uint32_t k = 0; k < i; k++)
			if (c->seats[k] == c->seats[i])
				goto again;
	}
	event_id(b, c->event, ev, sizeof(ev));
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"seats\":[");
	for (uint32_t i = 0; i < c->n_seats; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"event\":\"%s\",\"seat\":\"S-%u\"}",
				      i ? "," : "", ev, c->seats[i]);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	req_http(b, c, "POST", "/holds", auth_of(b, c, 0), body, n);
	c->op = OP_HOLD;
	return true;
}

/* ---- the probe ---------------------------------------------------------- */

void probe_tick(struct worker *w, uint64_t now)
{
	struct bench *b = w->b;
	struct conn *c = b->clock_conn;
	struct probe *p = &b->probe;
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	if (ph >= PH_DRAIN || c->busy || now < p->next_ns || p->done >= p->cap)
		return;
	/* 0.75-1.25 x --probe-ms: a fixed period would lock onto the feed's
	 * 50 ms pace and sample one delay over and over */
	p->next_ns = now + (uint64_t)b->probe_ms * (750000u + rnd_below(&c->rng, 500001u));
	uint32_t k = p->done;
	char body[256], path[64];
	if (k % 2 == 0) {
		int n = snprintf(body, sizeof(body),
				 "{\"customer\":\"%s-probe\","
				 "\"seats\":[{\"event\":\"%s\",\"seat\":\"S-%u\"}]}",
				 b->tag, b->feed_event, p->seat);
		req_http(b, c, "POST", "/holds", b->admin_auth, body, (size_t)n);
		c->op = OP_HOLD;
	} else {
		snprintf(path, sizeof(path), "/holds/h-%" PRIu64, c->hold);
		req_http(b, c, "DELETE", path, b->admin_auth, "", 0);
		c->op = OP_RELEASE;
	}
	/* before the request leaves: a feed may carry it before its answer */
	atomic_store(&p->started, k + 1);
	c->event = 1;
	c->sent_phase = (uint8_t)ph;
	conn_send(c, now);
}

static int answer_probe(struct bench *b, struct conn *c, int status, const char *body,
			size_t len)
{
	struct probe *p = &b->probe;
	uint32_t k = p->done;
	bool hold = k % 2 == 0;
	if (status != (hold ? 201 : 200)) {
		p->errors++;
		return status == 409 ? CLS_REJECTED : CLS_OTHER;
	}
	uint64_t now = mono_ns();
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	if (hold)
		c->hold = json_booking_id(body, len, 'h');
	atomic_store(seat_at(b, 1, p->seat), hold ? SEAT_HELD : SEAT_FREE);
	atomic_store(&p->in_window[k], ph == PH_RUN);
	atomic_store(&p->ack_ns[k], now);
	p->done = k + 1;
	return CLS_OK;
}

/* ---- answers ------------------------------------------------------------ */

int answer_onsale(struct bench *b, struct conn *c, int *status, const char *body,
		  size_t len)
{
	if (c == b->clock_conn)
		return answer_probe(b, c, *status, body, len);
	if (c->op == OP_HOLD) {
		if (*status != 201)
			return *status == 409 ? CLS_REJECTED : CLS_OTHER;
		c->hold = json_booking_id(body, len, 'h');
		for (uint32_t i = 0; i < c->n_seats; i++) {
			uint8_t was = atomic_exchange(seat_at(b, c->event, c->seats[i]), SEAT_HELD);
			if (was == SEAT_HELD && !atomic_fetch_add(&b->seat_twice, 1))
				fprintf(stderr, "holdfast-bench: seat S-%u of event %u granted while "
						"another hold had it (its release not sent)\n",
					c->seats[i], c->event);
		}
		/* counted as conn_answer counts the window's answers */
		if (c->sent_phase != PH_WARM &&
		    atomic_load_explicit(&b->phase, memory_order_relaxed) == PH_RUN)
			atomic_fetch_add(&b->m_holds_ok, 1);
		return CLS_OK;
	}
	/* release: the seats may already be another hold's (the server freed
	 * them before this answer was read): only releasing ones move */
	c->hold = 0;
	uint8_t to = *status == 200 ? SEAT_FREE : *status == 503 ? SEAT_UNSURE_HELD : SEAT_HELD;
	for (uint32_t i = 0; i < c->n_seats; i++) {
		uint8_t want = SEAT_RELEASING;
		atomic_compare_exchange_strong(seat_at(b, c->event, c->seats[i]), &want, to);
	}
	if (*status == 200)
		return CLS_OK;
	return *status == 409 ? CLS_REJECTED : CLS_OTHER;
}

void lost_onsale(struct bench *b, struct conn *c)
{
	if (c == b->clock_conn) {
		/* held or not, the next attempt tells (a hold that did happen
		 * makes every later one a 409: probe_errors climbs) */
		b->probe.errors++;
		atomic_store(seat_at(b, 1, b->probe.seat), SEAT_UNSURE_HELD);
		c->hold = 0;
		return;
	}
	/* a hold may have taken its seats; a release may have freed them */
	uint8_t from = c->op == OP_HOLD ? SEAT_FREE : SEAT_RELEASING;
	for (uint32_t i = 0; i < c->n_seats; i++) {
		uint8_t want = from;
		atomic_compare_exchange_strong(seat_at(b, c->event, c->seats[i]), &want,
					       SEAT_UNSURE_HELD);
	}
	c->hold = 0;
}

/* ---- the check ---------------------------------------------------------- */

struct onsale_check {
	struct bench *b;
	uint32_t e;
	uint64_t mismatched, held_server, unsure;
	char example[256];
};

static void seat_check(void *arg, uint32_t s, const char *st)
{
	struct onsale_check *k = arg;
	uint8_t want = atomic_load(seat_at(k->b, k->e, s));
	bool is_free = !strncmp(st, "free", 4), is_held = !strncmp(st, "held", 4);
	k->held_server += is_held;
	bool maybe = want == SEAT_UNSURE_HELD || want == SEAT_RELEASING;
	k->unsure += maybe;
	bool ok = (want == SEAT_FREE && is_free) || (want == SEAT_HELD && is_held) ||
		  (maybe && (is_free || is_held));
	if (!ok && !k->mismatched++)
		snprintf(k->example, sizeof(k->example),
			 "event %u seat S-%u: server says %.4s, the answers said %u", k->e, s, st, want);
}

/* No seat granted while another hold had it (seen by the client); every
 * seat's state on the server is the one the answers imply (free, or held
 * by a hold whose release failed), except seats of requests without an
 * answer; the counts add up; the feeds' own checks (watch.c); the route
 * counts. */
int verify_onsale(struct bench *b)
{
	struct lreq l[4];
	for (uint32_t e = 0; e < 2; e++) {
		char id[96], path[160];
		event_id(b, e, id, sizeof(id));
		snprintf(path, sizeof(path), "/events/%s/seats?limit=%u", id, HF_SEAT_PAGE_MAX);
		lreq_set(&l[2 * e], "GET", path, NULL, NULL);
		snprintf(path, sizeof(path), "/events/%s", id);
		lreq_set(&l[2 * e + 1], "GET", path, NULL, NULL);
	}
	list_run(b, l, 4);
	struct onsale_check k = {.b = b};
	uint64_t bad_counts = 0;
	for (uint32_t e = 0; e < 2; e++) {
		k.e = e;
		uint32_t seen = seat_map_each(&l[2 * e], b->event_seats, seat_check, &k);
		if (seen != b->event_seats)
			check(false, "event %u: the seat map lists %u seats, expected %u", e, seen,
			      b->event_seats);
		if (event_counts_sum(&l[2 * e + 1]) != (long long)b->event_seats)
			bad_counts++;
	}
	for (int i = 0; i < 4; i++) {
		free(l[i].path);
		free(l[i].body);
		free(l[i].answer);
	}
	check(!atomic_load(&b->seat_twice),
	      "no seat granted while another hold had it (%" PRIu64 " were)",
	      (uint64_t)atomic_load(&b->seat_twice));
	check(!k.mismatched, "every seat's state matches the answers (%" PRIu64 " do not%s%s)",
	      k.mismatched, k.mismatched ? "; first: " : "", k.example);
	check(!bad_counts, "free + held + sold + blocked = seats on both events");
	fprintf(stderr, "  seats held on the server at the end %" PRIu64 " (requests without an "
			"answer left %" PRIu64 " unsure)\n",
		k.held_server, k.unsure);
	if (b->watch)
		watch_verify(b);
	verify_metrics(b);
	return 0;
}

void report_onsale(struct bench *b, double window_s)
{
	add_extra(b, " holds_ok_per_s=%.0f", (double)atomic_load(&b->m_holds_ok) / window_s);
	watch_report(b, window_s);
}
