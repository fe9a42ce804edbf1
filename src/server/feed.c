/*
 * feed.c: live availability (feed.h): the observer on the sequencer, the
 * hub thread, the mirror of seat states and item counters, the feeds'
 * rings and watchers, the change log.
 *
 * Threads and what each owns:
 *   sequencer (observer before/after)  seq_* scratch; appends deltas to
 *                                      `pending` under p_mu.
 *   a syncer (observer durable)        sets p_durable under p_mu, wakes
 *                                      the hub.
 *   hub thread                         takes the durable prefix of
 *                                      `pending`, applies it under mu.
 *   loop threads                       open streams and read the change
 *                                      log under mu.
 * Lock order: mu -> p_mu is never taken (the hub lets go of p_mu before
 * taking mu); a stream's own lock is innermost (hf_httpd_stream_write).
 *
 * Invariants (under mu):
 *   - The mirror (seat_state, topic counters) is the state after every
 *     durable record up to `applied_seq`, and nothing later.
 *   - A topic's ring holds every message with id > ring_base, in id
 *     order; a watcher has received the snapshot or message `last_id` of
 *     its topic and then every message the topic sent, so a client that
 *     resumes with an id in [ring_base, last_id] needs exactly the ring's
 *     messages after it.
 *   - A topic with `dirty` set has changes in the mirror not yet sent;
 *     they are sent (as one message, id = dirty_seq) before any snapshot
 *     of the topic is rendered, so a snapshot's id names its state.
 *   - Change-log ids are consecutive from 1; the entries of one take
 *     are written to the changes file (one write) before the hub lets go
 *     of mu, so before any reader or stream sees them.
 */
#include "server/feed.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/limits.h"
#include "core/observe.h"
#include "core/sm.h"
#include "server/httpd.h"
#include "server/jsonw.h"
#include "server/log.h"
#include "server/server.h"

/* ---- deltas: sequencer -> hub ------------------------------------------- */

enum delta_kind {
	D_EVENT_NEW = 0, /* index, v[0] first seat, v[1] seats, text: id */
	D_ITEM_NEW = 1,  /* index, text: id */
	D_SEAT = 2,      /* index: seat, state */
	D_ITEM = 3,      /* index: item, v[0..2] available, held, sold */
	D_CHANGE = 4,    /* text: a change-log entry, an object without its "{" */
};

struct delta {
	uint8_t kind, state;
	uint32_t index;
	uint32_t v[3];
	uint64_t seq;
	size_t off, len; /* in the text buffer */
};

struct dvec {
	struct delta *d;
	size_t n, cap;
	char *text;
	size_t text_len, text_cap;
};

static void dvec_push(struct dvec *v, const struct delta *d, const char *text, size_t len)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->d = realloc(v->d, v->cap * sizeof(*v->d));
		HF_ASSERT(v->d);
	}
	struct delta *x = &v->d[v->n++];
	*x = *d;
	x->off = v->text_len;
	x->len = len;
	if (len) {
		if (v->text_len + len > v->text_cap) {
			size_t cap = v->text_cap ? v->text_cap : 4096;
			while (cap < v->text_len + len)
				cap *= 2;
			v->text = realloc(v->text, cap);
			HF_ASSERT(v->text);
			v->text_cap = cap;
		}
		memcpy(v->text + v->text_len, text, len);
		v->text_len += len;
	}
}

/* ---- topics ------------------------------------------------------------- */

struct msg {
	uint64_t id;
	char *bytes;
	size_t len;
};

struct watcher {
	struct hf_httpd_stream *s;
	struct watcher *next;
};

struct topic {
	char *name;
	uint32_t name_len;
	bool is_item;
	uint32_t index;
	uint32_t first_seat, n_seats; /* events */
	uint32_t count[4];            /* events: by seat state */
	uint32_t available, held, sold; /* items */
	uint64_t last_id;   /* the id of the state the watchers have */
	uint64_t ring_base; /* resumable from ids >= ring_base */
	struct msg *ring;   /* HF_FEED_RING_MSGS, allocated at first message */
	uint32_t ring_head, ring_n;
	size_t ring_bytes;
	bool dirty;
	uint64_t dirty_seq;
	uint32_t *dirty_seats;
	uint32_t n_dirty, cap_dirty;
	int64_t last_sent_ms;
	struct watcher *watchers;
	uint32_t n_watchers;
	uint64_t state_seq; /* the last record that changed the mirror's topic */
	char *page;         /* the last seat page rendered, shared by its readers */
	size_t page_len;
	uint64_t page_seq;
	uint32_t page_from, page_to;
	char *snap;         /* the snapshot rendered for last_id (shared by all who join) */
	char *heads;        /* events: each seat's JSON up to its state, once read */
	uint32_t *head_off; /* n_seats + 1 offsets into heads */
	size_t snap_len;
	uint64_t snap_id;
};

struct centry {
	uint64_t id;
	uint64_t seq; /* the log record that made it */
	char *json; /* a whole object */
	uint32_t len;
};

struct hf_feeds {
	struct hf_feeds_config cfg;
	char path[4096];
	int fd;
	struct hf_engine_observer ob;
	const struct hf_sm *sm; /* immutable names and seats only, off the sequencer */
	char state_tail[4][16]; /* "free"} ...: what follows a seat's head */
	uint8_t state_tail_len[4];

	/* sequencer only */
	struct hf_hold_due *due;
	uint32_t due_cap, n_due;
	struct hf_jw jw;
	struct hf_booking *booking;
	struct dvec stash; /* this record's deltas, seq set at `after` */
	/* Recovery (before start): the records the engine replays from
	 * replay_from on make change-log entries again; the first replay_skip
	 * of record replay_from's are already in the file. */
	bool replaying;
	uint32_t replay_skip;

	pthread_mutex_t p_mu;
	pthread_cond_t p_cv;
	struct dvec pending;
	uint64_t p_durable;
	uint64_t p_taken; /* p_durable as of the hub's last take */
	bool p_stop, p_detach, p_detached;
	struct dvec taken; /* hub thread only */

	pthread_mutex_t mu;
	pthread_cond_t applied_cv; /* applied_seq moved (readers wait for it) */
	uint64_t applied_seq;
	uint8_t *seat_state;
	uint8_t *seat_dirty;
	uint32_t n_seats_cap;
	struct topic **events, **items;
	uint32_t n_events, n_items, cap_events, cap_items;
	struct topic **dirty;
	uint32_t n_dirty, cap_dirty;
	struct watcher *change_watchers;
	bool detached;
	/* change log: a ring of cfg.changes_retain entries */
	struct centry *log;
	uint64_t log_head, log_n; /* oldest at log_head % retain */
	uint64_t next_change_id;
	uint64_t log_file_lines;
	off_t log_file_good; /* bytes of whole lines found at start */
	struct hf_jw log_out;   /* lines of this take, written at once */
	uint64_t log_out_lines;
	struct hf_jw sse_out;   /* their frames for the change log's streams */
	bool log_failed;     /* a write failed: the file stops, snapshots wait */
	bool hub_done;       /* the hub ended (or never started): checkpoints stop waiting */
	struct hf_feeds_stats st;

	pthread_t thread;
	bool started;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	HF_ASSERT(q);
	return q;
}

/* ---- the observer (sequencer thread) ------------------------------------ */

static void stash(struct hf_feeds *f, uint8_t kind, uint32_t index, uint8_t state, const uint32_t *v,
		  const char *text, size_t len)
{
	struct delta d = {.kind = kind, .state = state, .index = index};
	if (v)
		memcpy(d.v, v, sizeof(d.v));
	dvec_push(&f->stash, &d, text, len);
}

static void stash_seat(struct hf_feeds *f, const struct hf_sm *sm, uint32_t seat)
{
	struct hf_seat_info s;
	hf_sm_seat_info(sm, seat, &s);
	stash(f, D_SEAT, seat, s.state, NULL, NULL, 0);
}

static void stash_item(struct hf_feeds *f, const struct hf_sm *sm, uint32_t item)
{
	struct hf_item_info i;
	hf_sm_item_info(sm, item, &i);
	uint32_t v[3] = {i.available, i.held, i.sold};
	stash(f, D_ITEM, item, 0, v, NULL, 0);
}

static void stash_booking(struct hf_feeds *f, const struct hf_sm *sm, const struct hf_booking *b)
{
	for (uint32_t i = 0; i < b->n_seats; i++)
		stash_seat(f, sm, b->seats[i].seat);
	for (uint32_t i = 0; i < b->n_items; i++)
		stash_item(f, sm, b->items[i].item);
}

static void jw_hstr(struct hf_jw *jw, struct hf_str s) { hf_jw_str(jw, s.ptr, s.len); }

/* Opens a change-log entry: {"at", "type". */
static void entry_begin(struct hf_feeds *f, int64_t now, const char *type)
{
	struct hf_jw *jw = &f->jw;
	char *keep = jw->buf;
	size_t cap = jw->cap;
	hf_jw_init(jw, NULL);
	jw->buf = keep; /* reuse the buffer */
	jw->cap = cap;
	hf_jw_obj(jw);
	hf_jw_key(jw, "at");
	hf_jw_time(jw, now);
	hf_jw_key(jw, "type");
	hf_jw_cstr(jw, type);
}

static void entry_end(struct hf_feeds *f)
{
	struct hf_jw *jw = &f->jw;
	hf_jw_obj_end(jw);
	HF_ASSERT(!jw->oom && jw->len > 1);
	stash(f, D_CHANGE, 0, 0, NULL, jw->buf + 1, jw->len - 1); /* without "{" */
}

/* The fields of a hold or order in an entry: who, state, lines, totals. */
static void entry_booking(struct hf_jw *jw, const struct hf_sm *sm, const struct hf_booking *b,
			  bool is_order)
{
	hf_jw_key(jw, is_order ? "order" : "hold");
	hf_jw_prefixed_u64(jw, is_order ? 'o' : 'h', b->id);
	hf_jw_key(jw, "customer");
	jw_hstr(jw, hf_sm_customer_name(sm, b->customer));
	if (is_order) {
		hf_jw_key(jw, "status");
		hf_jw_cstr(jw, hf_order_status_name((enum hf_order_status)b->state));
	} else {
		hf_jw_key(jw, "state");
		hf_jw_cstr(jw, hf_hold_state_name((enum hf_hold_state)b->state));
		hf_jw_key(jw, "expires_at");
		hf_jw_time(jw, b->expires_at_ms);
		if (b->order) {
			hf_jw_key(jw, "order");
			hf_jw_prefixed_u64(jw, 'o', b->order);
		}
	}
	hf_render_lines(jw, sm, b, false);
	hf_jw_key(jw, "total");
	hf_jw_i64(jw, b->total);
	hf_jw_key(jw, "total_with_fees");
	hf_jw_i64(jw, b->total_with_fees);
}

/* The seats a command names (block, unblock, lines), by index. */
static void stash_named_seats(struct hf_feeds *f, const struct hf_sm *sm, const struct hf_cmd *c)
{
	if (c->type == HF_CMD_SEATS_BLOCK || c->type == HF_CMD_SEATS_UNBLOCK) {
		int64_t ev = hf_sm_event_find(sm, c->u.seats_block.event);
		if (ev < 0)
			return;
		for (uint32_t i = 0; i < c->u.seats_block.n_seats; i++) {
			int64_t s = hf_sm_seat_find(sm, (uint32_t)ev, c->u.seats_block.seats[i]);
			if (s >= 0)
				stash_seat(f, sm, (uint32_t)s);
		}
		return;
	}
	for (uint32_t i = 0; i < c->u.lines.n_seats; i++) {
		int64_t ev = hf_sm_event_find(sm, c->u.lines.seats[i].event);
		int64_t s = ev < 0 ? -1 : hf_sm_seat_find(sm, (uint32_t)ev, c->u.lines.seats[i].seat);
		if (s >= 0)
			stash_seat(f, sm, (uint32_t)s);
	}
	for (uint32_t i = 0; i < c->u.lines.n_items; i++) {
		int64_t it = hf_sm_item_find(sm, c->u.lines.items[i].item);
		if (it >= 0)
			stash_item(f, sm, (uint32_t)it);
	}
}

/* Before an apply: the holds it will expire. */
static void ob_before(void *arg, const struct hf_sm *sm, int64_t now_ms)
{
	struct hf_feeds *f = arg;
	uint32_t n = hf_sm_holds_due(sm, now_ms, f->due, f->due_cap);
	if (n > f->due_cap) {
		f->due_cap = n * 2;
		f->due = xrealloc(f->due, (size_t)f->due_cap * sizeof(*f->due));
		n = hf_sm_holds_due(sm, now_ms, f->due, f->due_cap);
	}
	f->n_due = n;
}

static void publish(struct hf_feeds *f, uint64_t seq)
{
	if (!f->stash.n)
		return;
	pthread_mutex_lock(&f->p_mu);
	for (size_t i = 0; i < f->stash.n; i++) {
		struct delta d = f->stash.d[i];
		d.seq = seq;
		/* Replayed: only the change-log entries (start builds the
		 * mirror from the recovered state), less those in the file. */
		if (f->replaying) {
			if (d.kind != D_CHANGE)
				continue;
			if (seq == f->ob.replay_from && f->replay_skip > 0) {
				f->replay_skip--;
				continue;
			}
		}
		dvec_push(&f->pending, &d, f->stash.text + d.off, d.len);
	}
	pthread_mutex_unlock(&f->p_mu);
	f->stash.n = 0;
	f->stash.text_len = 0;
}

/* After an apply: expiries, then what the command changed. An idempotent
 * replay or a refusal changes nothing (but expiries still happened). */
static void ob_after(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms,
		     const struct hf_cmd *c, const struct hf_reply *rep)
{
	struct hf_feeds *f = arg;
	struct hf_jw *jw = &f->jw;
	struct hf_booking *b = f->booking;
	for (uint32_t i = 0; i < f->n_due; i++) {
		if (hf_sm_hold_view(sm, f->due[i].id, b) != HF_OK)
			continue;
		stash_booking(f, sm, b);
		entry_begin(f, f->due[i].expires_at_ms, "hold.expired");
		entry_booking(jw, sm, b, false);
		entry_end(f);
	}
	f->n_due = 0;
	bool ok = rep->result == HF_OK && !rep->replayed;
	if (ok) {
		const struct hf_booking *rb = &rep->booking;
		switch (c->type) {
		case HF_CMD_EVENT_CREATE: {
			struct hf_event_info e;
			hf_sm_event_info(sm, rep->index, &e);
			uint32_t v[3] = {e.first_seat, e.n_seats, 0};
			stash(f, D_EVENT_NEW, rep->index, 0, v, e.id.ptr, e.id.len);
			entry_begin(f, now_ms, "event.created");
			hf_jw_key(jw, "event");
			jw_hstr(jw, e.id);
			hf_jw_key(jw, "seat_count");
			hf_jw_u64(jw, e.n_seats);
			entry_end(f);
			break;
		}
		case HF_CMD_ITEM_CREATE:
		case HF_CMD_ITEM_RESTOCK: {
			struct hf_item_info it;
			hf_sm_item_info(sm, rep->index, &it);
			if (c->type == HF_CMD_ITEM_CREATE)
				stash(f, D_ITEM_NEW, rep->index, 0, NULL, it.id.ptr, it.id.len);
			stash_item(f, sm, rep->index);
			entry_begin(f, now_ms, c->type == HF_CMD_ITEM_CREATE ? "item.created" : "item.restocked");
			hf_jw_key(jw, "item");
			jw_hstr(jw, it.id);
			if (c->type == HF_CMD_ITEM_RESTOCK) {
				hf_jw_key(jw, "quantity");
				hf_jw_u64(jw, c->u.item_restock.quantity);
			}
			hf_render_stock(jw, it.available, it.held, it.sold);
			entry_end(f);
			break;
		}
		case HF_CMD_SEATS_BLOCK:
		case HF_CMD_SEATS_UNBLOCK:
			stash_named_seats(f, sm, c);
			entry_begin(f, now_ms, c->type == HF_CMD_SEATS_BLOCK ? "seats.blocked" : "seats.unblocked");
			hf_jw_key(jw, "event");
			jw_hstr(jw, c->u.seats_block.event);
			hf_jw_key(jw, "seats");
			hf_jw_arr(jw);
			for (uint32_t i = 0; i < c->u.seats_block.n_seats; i++)
				jw_hstr(jw, c->u.seats_block.seats[i]);
			hf_jw_arr_end(jw);
			entry_end(f);
			break;
		case HF_CMD_HOLD_CREATE:
		case HF_CMD_HOLD_ADD:
		case HF_CMD_HOLD_REMOVE:
		case HF_CMD_HOLD_EXTEND:
		case HF_CMD_HOLD_RELEASE: {
			static const char *const type[] = {
				[HF_CMD_HOLD_CREATE] = "hold.created", [HF_CMD_HOLD_ADD] = "hold.updated",
				[HF_CMD_HOLD_REMOVE] = "hold.updated", [HF_CMD_HOLD_EXTEND] = "hold.extended",
				[HF_CMD_HOLD_RELEASE] = "hold.released",
			};
			if (c->type == HF_CMD_HOLD_ADD || c->type == HF_CMD_HOLD_REMOVE)
				stash_named_seats(f, sm, c);
			stash_booking(f, sm, rb);
			entry_begin(f, now_ms, type[c->type]);
			entry_booking(jw, sm, rb, false);
			entry_end(f);
			break;
		}
		case HF_CMD_HOLD_CONFIRM:
		case HF_CMD_ORDER_CREATE:
			stash_booking(f, sm, rb);
			if (c->type == HF_CMD_HOLD_CONFIRM) {
				entry_begin(f, now_ms, "hold.confirmed");
				hf_jw_key(jw, "hold");
				hf_jw_prefixed_u64(jw, 'h', c->u.hold_op.hold);
				hf_jw_key(jw, "order");
				hf_jw_prefixed_u64(jw, 'o', rb->id);
				hf_jw_key(jw, "customer");
				jw_hstr(jw, hf_sm_customer_name(sm, rb->customer));
				entry_end(f);
			}
			entry_begin(f, now_ms, "order.created");
			entry_booking(jw, sm, rb, true);
			if (c->type == HF_CMD_HOLD_CONFIRM) {
				hf_jw_key(jw, "hold");
				hf_jw_prefixed_u64(jw, 'h', c->u.hold_op.hold);
			}
			entry_end(f);
			break;
		case HF_CMD_ORDER_CANCEL:
		case HF_CMD_ORDER_STATUS:
			stash_booking(f, sm, rb);
			entry_begin(f, now_ms, rb->state == HF_ORDER_CANCELED ? "order.canceled" : "order.status");
			entry_booking(jw, sm, rb, true);
			entry_end(f);
			break;
		default:
			break;
		}
	}
	publish(f, seq);
}

static void ob_durable(void *arg, uint64_t seq)
{
	struct hf_feeds *f = arg;
	pthread_mutex_lock(&f->p_mu);
	f->p_durable = seq;
	pthread_cond_signal(&f->p_cv);
	pthread_mutex_unlock(&f->p_mu);
}

/* Before a snapshot of the state after record seq is installed (the
 * records up to it may then leave the log): the change-log entries of
 * those records are in the file and synced. The hub reaches seq soon (the
 * engine calls this once seq is durable); the sync runs without mu (the
 * hub never closes fd while running). */
static int ob_checkpoint(void *arg, uint64_t seq)
{
	struct hf_feeds *f = arg;
	pthread_mutex_lock(&f->mu);
	while ((f->fd < 0 || f->applied_seq < seq) && !f->hub_done)
		pthread_cond_wait(&f->applied_cv, &f->mu);
	bool ok = f->applied_seq >= seq && !f->log_failed && f->fd >= 0;
	int fd = f->fd;
	pthread_mutex_unlock(&f->mu);
	return ok && fdatasync(fd) == 0 ? 0 : -1;
}

/* ---- the mirror (under mu) ---------------------------------------------- */

static struct topic *topic_new(const char *name, size_t len, bool is_item, uint32_t index,
			       uint64_t base)
{
	struct topic *t = calloc(1, sizeof(*t));
	HF_ASSERT(t);
	t->name = malloc(len + 1);
	HF_ASSERT(t->name);
	memcpy(t->name, name, len);
	t->name[len] = 0;
	t->name_len = (uint32_t)len;
	t->is_item = is_item;
	t->index = index;
	t->last_id = t->ring_base = base;
	return t;
}

static void seats_reserve(struct hf_feeds *f, uint32_t n)
{
	if (n <= f->n_seats_cap)
		return;
	uint32_t cap = f->n_seats_cap ? f->n_seats_cap : 1024;
	while (cap < n)
		cap *= 2;
	f->seat_state = xrealloc(f->seat_state, cap);
	f->seat_dirty = xrealloc(f->seat_dirty, cap);
	memset(f->seat_state + f->n_seats_cap, 0, cap - f->n_seats_cap);
	memset(f->seat_dirty + f->n_seats_cap, 0, cap - f->n_seats_cap);
	f->n_seats_cap = cap;
}

static void topics_put(struct topic ***arr, uint32_t *n, uint32_t *cap, uint32_t index, struct topic *t)
{
	if (index >= *cap) {
		uint32_t c = *cap ? *cap : 64;
		while (c <= index)
			c *= 2;
		*arr = xrealloc(*arr, (size_t)c * sizeof(**arr));
		memset(*arr + *cap, 0, (size_t)(c - *cap) * sizeof(**arr));
		*cap = c;
	}
	(*arr)[index] = t;
	if (index >= *n)
		*n = index + 1;
}

static void mark_dirty(struct hf_feeds *f, struct topic *t, uint64_t seq)
{
	if (!t->dirty) {
		t->dirty = true;
		if (f->n_dirty == f->cap_dirty) {
			f->cap_dirty = f->cap_dirty ? f->cap_dirty * 2 : 64;
			f->dirty = xrealloc(f->dirty, (size_t)f->cap_dirty * sizeof(*f->dirty));
		}
		f->dirty[f->n_dirty++] = t;
	}
	t->dirty_seq = seq;
}

static struct topic *seat_topic(struct hf_feeds *f, uint32_t seat)
{
	/* events are few next to seats: their seat ranges are contiguous */
	uint32_t ev = 0;
	hf_sm_seat_id(f->sm, seat, &ev);
	return ev < f->n_events ? f->events[ev] : NULL;
}

static void watchers_write(struct hf_feeds *f, struct watcher **list, uint32_t *n, const char *p,
			   size_t len)
{
	for (struct watcher **w = list; *w;) {
		if (hf_httpd_stream_write((*w)->s, p, len) < 0) {
			struct watcher *dead = *w;
			*w = dead->next;
			hf_httpd_stream_release(dead->s);
			free(dead);
			f->st.cut++;
			f->st.watchers--;
			if (n)
				(*n)--;
			continue;
		}
		w = &(*w)->next;
	}
}

/* "id: N\nevent: E\ndata: <json>\n\n" */
static void sse_frame(struct hf_jw *out, uint64_t id, const char *event, const char *json, size_t len)
{
	char head[96];
	int n = snprintf(head, sizeof(head), "id: %" PRIu64 "\nevent: %s\ndata: ", id, event);
	hf_jw_raw(out, head, (size_t)n);
	hf_jw_raw(out, json, len);
	hf_jw_raw(out, "\n\n", 2);
}

static void ring_push(struct topic *t, uint64_t id, char *bytes, size_t len)
{
	if (!t->ring) {
		t->ring = calloc(HF_FEED_RING_MSGS, sizeof(*t->ring));
		HF_ASSERT(t->ring);
	}
	while (t->ring_n && (t->ring_n == HF_FEED_RING_MSGS || t->ring_bytes + len > HF_FEED_RING_BYTES)) {
		struct msg *old = &t->ring[t->ring_head];
		t->ring_base = old->id;
		t->ring_bytes -= old->len;
		free(old->bytes);
		t->ring_head = (t->ring_head + 1) % HF_FEED_RING_MSGS;
		t->ring_n--;
	}
	struct msg *m = &t->ring[(t->ring_head + t->ring_n) % HF_FEED_RING_MSGS];
	m->id = id;
	m->bytes = bytes;
	m->len = len;
	t->ring_n++;
	t->ring_bytes += len;
}

/* Sends a dirty topic's changes as one message. */
static void topic_flush(struct hf_feeds *f, struct topic *t, int64_t now)
{
	struct hf_jw jw;
	hf_jw_init(&jw, NULL);
	hf_jw_obj(&jw);
	if (t->is_item) {
		hf_render_stock(&jw, t->available, t->held, t->sold);
	} else {
		hf_jw_key(&jw, "seats");
		hf_jw_arr(&jw);
		uint32_t changed = 0;
		for (uint32_t i = 0; i < t->n_dirty; i++) {
			uint32_t seat = t->dirty_seats[i];
			uint8_t had = (uint8_t)(f->seat_dirty[seat] - 1);
			f->seat_dirty[seat] = 0;
			if (f->seat_state[seat] == had)
				continue; /* changed and changed back since the last message */
			changed++;
			hf_jw_obj(&jw);
			hf_jw_key(&jw, "seat");
			jw_hstr(&jw, hf_sm_seat_id(f->sm, seat, NULL));
			hf_jw_key(&jw, "state");
			hf_jw_cstr(&jw, hf_seat_state_name((enum hf_seat_state)f->seat_state[seat]));
			hf_jw_obj_end(&jw);
		}
		hf_jw_arr_end(&jw);
		t->n_dirty = 0;
		if (!changed) {
			/* the watchers' state is the mirror's: nothing to say, and
			 * last_id still names it */
			free(jw.buf);
			t->dirty = false;
			return;
		}
		hf_render_counts(&jw, t->count);
	}
	hf_jw_obj_end(&jw);
	struct hf_jw fr;
	hf_jw_init(&fr, NULL);
	sse_frame(&fr, t->dirty_seq, "change", jw.buf, jw.len);
	free(jw.buf);
	HF_ASSERT(!fr.oom);
	t->dirty = false;
	t->last_id = t->dirty_seq;
	t->last_sent_ms = now;
	f->st.messages++;
	if (!f->detached)
		watchers_write(f, &t->watchers, &t->n_watchers, fr.buf, fr.len);
	ring_push(t, t->last_id, fr.buf, fr.len);
}

static void change_append(struct hf_feeds *f, uint64_t seq, const char *tail, size_t len)
{
	/* {"id":N,"seq":S, + the entry without its "{" */
	char head[80];
	int hn = snprintf(head, sizeof(head), "{\"id\":%" PRIu64 ",\"seq\":%" PRIu64 ",",
			  f->next_change_id, seq);
	size_t total = (size_t)hn + len;
	char *json = malloc(total + 1);
	HF_ASSERT(json);
	memcpy(json, head, (size_t)hn);
	memcpy(json + hn, tail, len);
	json[total] = '\n';
	hf_jw_raw(&f->log_out, json, total + 1);
	f->log_out_lines++;
	uint32_t retain = f->cfg.changes_retain;
	if (f->log_n == retain) {
		free(f->log[f->log_head % retain].json);
		f->log_head++;
		f->log_n--;
	}
	struct centry *e = &f->log[(f->log_head + f->log_n) % retain];
	e->id = f->next_change_id++;
	e->seq = seq;
	e->json = json;
	e->len = (uint32_t)total;
	f->log_n++;
	f->st.changes++;
	if (!f->detached && f->change_watchers)
		sse_frame(&f->sse_out, e->id, "change", json, total);
}

/* The entries of a take: their lines to the file with one write, then
 * (only then) to the change log's streams. Readers see them once the
 * hub lets go of mu, after this. */
static void changes_flush(struct hf_feeds *f)
{
	HF_ASSERT(!f->log_out.oom && !f->sse_out.oom);
	if (f->log_out.len && f->fd >= 0 && !f->log_failed) {
		/* On failure the file stops here (a torn line is cut at start)
		 * and no snapshot is installed any more: the next start makes
		 * the missing entries again from the log. */
		size_t off = 0;
		while (off < f->log_out.len) {
			ssize_t w = write(f->fd, f->log_out.buf + off, f->log_out.len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				hf_log("error", "changes",
				       " reason=\"writing the changes file failed: %s; snapshots wait until a "
				       "restart\"",
				       w < 0 ? strerror(errno) : "no space");
				f->log_failed = true;
				break;
			}
			off += (size_t)w;
		}
		f->log_file_lines += f->log_out_lines;
	}
	f->log_out.len = 0;
	f->log_out_lines = 0;
	if (f->sse_out.len && !f->detached)
		watchers_write(f, &f->change_watchers, NULL, f->sse_out.buf, f->sse_out.len);
	f->sse_out.len = 0;
}

static void apply_delta(struct hf_feeds *f, const struct delta *d, const char *text)
{
	switch (d->kind) {
	case D_EVENT_NEW: {
		seats_reserve(f, d->v[0] + d->v[1]);
		struct topic *t = topic_new(text, d->len, false, d->index, d->seq);
		t->first_seat = d->v[0];
		t->n_seats = d->v[1];
		t->count[HF_SEAT_FREE] = d->v[1];
		memset(f->seat_state + d->v[0], HF_SEAT_FREE, d->v[1]);
		topics_put(&f->events, &f->n_events, &f->cap_events, d->index, t);
		break;
	}
	case D_ITEM_NEW:
		topics_put(&f->items, &f->n_items, &f->cap_items, d->index,
			   topic_new(text, d->len, true, d->index, d->seq));
		break;
	case D_SEAT: {
		if (d->index >= f->n_seats_cap || f->seat_state[d->index] == d->state)
			break;
		struct topic *t = seat_topic(f, d->index);
		if (!t)
			break;
		t->state_seq = d->seq;
		uint8_t was = f->seat_state[d->index];
		t->count[was]--;
		t->count[d->state]++;
		f->seat_state[d->index] = d->state;
		if (!f->seat_dirty[d->index]) {
			f->seat_dirty[d->index] = (uint8_t)(1 + was); /* the state the watchers have */
			if (t->n_dirty == t->cap_dirty) {
				t->cap_dirty = t->cap_dirty ? t->cap_dirty * 2 : 16;
				t->dirty_seats = xrealloc(t->dirty_seats, (size_t)t->cap_dirty * sizeof(uint32_t));
			}
			t->dirty_seats[t->n_dirty++] = d->index;
		}
		mark_dirty(f, t, d->seq);
		break;
	}
	case D_ITEM: {
		struct topic *t = d->index < f->n_items ? f->items[d->index] : NULL;
		if (!t || (t->available == d->v[0] && t->held == d->v[1] && t->sold == d->v[2]))
			break;
		t->state_seq = d->seq;
		t->available = d->v[0];
		t->held = d->v[1];
		t->sold = d->v[2];
		mark_dirty(f, t, d->seq);
		break;
	}
	case D_CHANGE:
		change_append(f, d->seq, text, d->len);
		break;
	}
}

/* Sends the dirty topics whose pace allows (all with force); returns the
 * earliest time another is due, or INT64_MAX. */
static int64_t flush_due(struct hf_feeds *f, int64_t now, bool force)
{
	int64_t next = INT64_MAX;
	uint32_t keep = 0;
	for (uint32_t i = 0; i < f->n_dirty; i++) {
		struct topic *t = f->dirty[i];
		int64_t at = t->last_sent_ms + HF_FEED_COALESCE_MS;
		if (force || at <= now) {
			topic_flush(f, t, now);
		} else {
			f->dirty[keep++] = t;
			if (at < next)
				next = at;
		}
	}
	f->n_dirty = keep;
	return next;
}

static void heartbeat(struct hf_feeds *f)
{
	static const char beat[] = ":\n\n";
	for (uint32_t i = 0; i < f->n_events; i++)
		if (f->events[i] && f->events[i]->watchers)
			watchers_write(f, &f->events[i]->watchers, &f->events[i]->n_watchers, beat, 3);
	for (uint32_t i = 0; i < f->n_items; i++)
		if (f->items[i] && f->items[i]->watchers)
			watchers_write(f, &f->items[i]->watchers, &f->items[i]->n_watchers, beat, 3);
	watchers_write(f, &f->change_watchers, NULL, beat, 3);
}

/* ---- the hub thread ----------------------------------------------------- */

/* Takes the durable prefix of pending into f->taken. Under p_mu. */
static void take_durable(struct hf_feeds *f)
{
	size_t n = 0;
	while (n < f->pending.n && f->pending.d[n].seq <= f->p_durable)
		n++;
	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct delta *d = &f->pending.d[i];
		dvec_push(&f->taken, d, f->pending.text + d->off, d->len);
	}
	size_t text_end = n < f->pending.n ? f->pending.d[n].off : f->pending.text_len;
	memmove(f->pending.d, f->pending.d + n, (f->pending.n - n) * sizeof(*f->pending.d));
	f->pending.n -= n;
	memmove(f->pending.text, f->pending.text + text_end, f->pending.text_len - text_end);
	f->pending.text_len -= text_end;
	for (size_t i = 0; i < f->pending.n; i++)
		f->pending.d[i].off -= text_end;
}

static void apply_taken(struct hf_feeds *f, uint64_t durable)
{
	for (size_t i = 0; i < f->taken.n; i++)
		apply_delta(f, &f->taken.d[i], f->taken.text + f->taken.d[i].off);
	changes_flush(f);
	f->taken.n = 0;
	f->taken.text_len = 0;
	if (durable > f->applied_seq) {
		f->applied_seq = durable;
		pthread_cond_broadcast(&f->applied_cv);
	}
}

static void *hub_main(void *arg)
{
	struct hf_feeds *f = arg;
	int64_t next_flush = INT64_MAX, next_beat = mono_ms() + HF_FEED_HEARTBEAT_MS;
	pthread_mutex_lock(&f->p_mu);
	for (;;) {
		int64_t now = mono_ms();
		/* durable records, with deltas or without (readers wait for
		 * applied_seq to reach p_durable either way) */
		bool work = f->p_durable > f->p_taken;
		if (!work && !f->p_stop && !f->p_detach && now < next_flush && now < next_beat) {
			int64_t until = next_flush < next_beat ? next_flush : next_beat;
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			int64_t ms = until - now;
			ts.tv_sec += ms / 1000;
			ts.tv_nsec += (ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&f->p_cv, &f->p_mu, &ts);
			continue;
		}
		take_durable(f);
		uint64_t durable = f->p_durable;
		f->p_taken = durable;
		bool stop = f->p_stop, detach = f->p_detach;
		f->p_detach = false;
		pthread_mutex_unlock(&f->p_mu);

		pthread_mutex_lock(&f->mu);
		apply_taken(f, durable);
		now = mono_ms();
		next_flush = flush_due(f, now, detach || stop);
		if (now >= next_beat) {
			heartbeat(f);
			next_beat = now + HF_FEED_HEARTBEAT_MS;
		}
		if (detach) {
			/* the HTTP layer is about to end every stream */
			f->detached = true;
			for (uint32_t i = 0; i < f->n_events + f->n_items; i++) {
				struct topic *t = i < f->n_events ? f->events[i] : f->items[i - f->n_events];
				if (!t)
					continue;
				while (t->watchers) {
					struct watcher *w = t->watchers;
					t->watchers = w->next;
					hf_httpd_stream_release(w->s);
					free(w);
				}
				t->n_watchers = 0;
			}
			while (f->change_watchers) {
				struct watcher *w = f->change_watchers;
				f->change_watchers = w->next;
				hf_httpd_stream_release(w->s);
				free(w);
			}
			f->st.watchers = 0;
		}
		pthread_mutex_unlock(&f->mu);
		pthread_mutex_lock(&f->p_mu);
		if (detach) {
			f->p_detached = true;
			pthread_cond_broadcast(&f->p_cv);
		}
		if (stop)
			break;
	}
	pthread_mutex_unlock(&f->p_mu);
	pthread_mutex_lock(&f->mu);
	f->hub_done = true;
	pthread_cond_broadcast(&f->applied_cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* ---- start: the recovered state (before any engine thread) --------------- */

static void ob_start(void *arg, const struct hf_sm *sm, uint64_t seq, int64_t now_ms)
{
	(void)now_ms;
	struct hf_feeds *f = arg;
	f->sm = sm;
	f->replaying = false;
	f->applied_seq = f->p_durable = f->p_taken = seq;
	/* Entries made again from replayed records are durable (they are in
	 * the log): the hub appends them first; until then readers and
	 * checkpoints wait as for any durable record not yet applied. */
	if (f->pending.n)
		f->applied_seq = f->p_taken = f->pending.d[0].seq - 1;
	uint32_t ne = hf_sm_event_count(sm), ni = hf_sm_item_count(sm);
	for (uint32_t i = 0; i < ne; i++) {
		struct hf_event_info e;
		hf_sm_event_info(sm, i, &e);
		struct topic *t = topic_new(e.id.ptr, e.id.len, false, i, seq);
		t->first_seat = e.first_seat;
		t->n_seats = e.n_seats;
		memcpy(t->count, e.count, sizeof(t->count));
		seats_reserve(f, e.first_seat + e.n_seats);
		for (uint32_t s = 0; s < e.n_seats; s++) {
			struct hf_seat_info si;
			hf_sm_seat_info(sm, e.first_seat + s, &si);
			f->seat_state[e.first_seat + s] = si.state;
		}
		topics_put(&f->events, &f->n_events, &f->cap_events, i, t);
	}
	for (uint32_t i = 0; i < ni; i++) {
		struct hf_item_info it;
		hf_sm_item_info(sm, i, &it);
		struct topic *t = topic_new(it.id.ptr, it.id.len, true, i, seq);
		t->available = it.available;
		t->held = it.held;
		t->sold = it.sold;
		topics_put(&f->items, &f->n_items, &f->cap_items, i, t);
	}
}

/* ---- opening feeds (loop threads) ---------------------------------------- */

/* Locks mu once the mirror holds every record durable when the read
 * began: every write acknowledged before it (a write's done comes after
 * its record's durable callback) and nothing not durable. false: no
 * mirror (an engine without an observer), mu not held. */
static bool read_begin(struct hf_feeds *f)
{
	if (!f->sm)
		return false;
	pthread_mutex_lock(&f->p_mu);
	uint64_t target = f->p_durable;
	pthread_mutex_unlock(&f->p_mu);
	pthread_mutex_lock(&f->mu);
	while (f->applied_seq < target)
		pthread_cond_wait(&f->applied_cv, &f->mu);
	return true;
}


static struct topic *topic_find(struct topic **arr, uint32_t n, const char *name, uint32_t len)
{
	for (uint32_t i = 0; i < n; i++)
		if (arr[i] && arr[i]->name_len == len && !memcmp(arr[i]->name, name, len))
			return arr[i];
	return NULL;
}

/* Each seat's object up to its state ({"id":...,"state":), rendered once
 * per event when it is first read (the fields never change): a seat map
 * is then one copy and one state per seat. */
static void topic_heads(struct hf_feeds *f, struct topic *t)
{
	if (t->heads)
		return;
	struct hf_jw all, one;
	hf_jw_init(&all, NULL);
	hf_jw_init(&one, NULL);
	hf_jw_reserve(&all, (size_t)t->n_seats * 64 + 64);
	t->head_off = malloc(((size_t)t->n_seats + 1) * sizeof(uint32_t));
	HF_ASSERT(t->head_off);
	for (uint32_t i = 0; i < t->n_seats; i++) {
		char *keep = one.buf;
		size_t cap = one.cap;
		hf_jw_init(&one, NULL);
		one.buf = keep; /* reuse the buffer */
		one.cap = cap;
		struct hf_seat_info si;
		hf_sm_seat_static(f->sm, t->first_seat + i, &si);
		hf_render_seat_head(&one, &si);
		t->head_off[i] = (uint32_t)all.len;
		hf_jw_raw(&all, one.buf, one.len);
	}
	t->head_off[t->n_seats] = (uint32_t)all.len;
	HF_ASSERT(!all.oom && !one.oom);
	free(one.buf);
	t->heads = all.buf;
}

/* Seats [from, to) of an event as the elements of an open array, in the
 * mirror's states (hf_render_seat's bytes). */
static void seats_json(struct hf_feeds *f, struct topic *t, struct hf_jw *jw, uint32_t from,
		       uint32_t to)
{
	topic_heads(f, t);
	hf_jw_reserve(jw, (size_t)(t->head_off[to] - t->head_off[from]) + (size_t)(to - from) * 12);
	for (uint32_t i = from; i < to; i++) {
		uint8_t st = f->seat_state[t->first_seat + i];
		HF_ASSERT(st < 4);
		hf_jw_json(jw, t->heads + t->head_off[i], t->head_off[i + 1] - t->head_off[i]);
		hf_jw_raw(jw, f->state_tail[st], f->state_tail_len[st]);
	}
}

/* The topic's snapshot message for last_id, rendered once per id. */
static void topic_snapshot(struct hf_feeds *f, struct topic *t)
{
	if (t->snap && t->snap_id == t->last_id)
		return;
	free(t->snap);
	struct hf_jw jw;
	hf_jw_init(&jw, NULL);
	hf_jw_obj(&jw);
	if (t->is_item) {
		hf_jw_key(&jw, "id");
		hf_jw_str(&jw, t->name, t->name_len);
		hf_render_stock(&jw, t->available, t->held, t->sold);
	} else {
		hf_jw_reserve(&jw, (size_t)t->n_seats * 96 + 256);
		hf_jw_key(&jw, "event");
		hf_jw_str(&jw, t->name, t->name_len);
		hf_jw_key(&jw, "seats");
		hf_jw_arr(&jw);
		seats_json(f, t, &jw, 0, t->n_seats);
		hf_jw_arr_end(&jw);
		hf_render_counts(&jw, t->count);
	}
	hf_jw_obj_end(&jw);
	struct hf_jw fr;
	hf_jw_init(&fr, NULL);
	hf_jw_raw(&fr, "retry: 1000\n", 12);
	sse_frame(&fr, t->last_id, "snapshot", jw.buf, jw.len);
	free(jw.buf);
	HF_ASSERT(!fr.oom);
	t->snap = fr.buf;
	t->snap_len = fr.len;
	t->snap_id = t->last_id;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static const char sse_headers[] = "Content-Type: text/event-stream\r\n"
				  "Cache-Control: no-cache\r\n"
				  "X-Accel-Buffering: no\r\n";

static struct watcher *watcher_new(struct hf_httpd_stream *s)
{
	struct watcher *w = calloc(1, sizeof(*w));
	HF_ASSERT(w);
	w->s = s;
	return w;
}

unsigned hf_feeds_open(struct hf_feeds *f, struct hf_httpd_conn *c, enum hf_feed_kind kind,
		       const char *name, uint32_t name_len, const char *last_event_id)
{
	uint64_t resume = 0;
	bool has_resume = parse_u64(last_event_id, &resume);
	if (!read_begin(f))
		pthread_mutex_lock(&f->mu);
	struct topic *t = NULL;
	if (kind != HF_FEED_CHANGES) {
		t = kind == HF_FEED_EVENT ? topic_find(f->events, f->n_events, name, name_len)
					  : topic_find(f->items, f->n_items, name, name_len);
		if (!t) {
			pthread_mutex_unlock(&f->mu);
			return 404;
		}
	}
	if (f->detached) {
		pthread_mutex_unlock(&f->mu);
		return 503;
	}
	struct hf_httpd_stream *s = hf_httpd_stream_open(c, 200, sse_headers, sizeof(sse_headers) - 1);
	if (!s) {
		pthread_mutex_unlock(&f->mu);
		return 503;
	}
	if (kind == HF_FEED_CHANGES) {
		/* From the entry after Last-Event-ID (or now), then live. */
		if (has_resume) {
			uint64_t retain = f->cfg.changes_retain;
			for (uint64_t i = 0; i < f->log_n; i++) {
				struct centry *e = &f->log[(f->log_head + i) % retain];
				if (e->id <= resume)
					continue;
				struct hf_jw fr;
				hf_jw_init(&fr, NULL);
				sse_frame(&fr, e->id, "change", e->json, e->len);
				int rc = hf_httpd_stream_write(s, fr.buf, fr.len);
				free(fr.buf);
				if (rc < 0)
					break;
			}
		} else {
			hf_httpd_stream_write(s, "retry: 1000\n\n", 13);
		}
		struct watcher *w = watcher_new(s);
		w->next = f->change_watchers;
		f->change_watchers = w;
		f->st.watchers++;
		pthread_mutex_unlock(&f->mu);
		return 200;
	}
	/* Changes in the mirror not yet sent go out first: a snapshot or a
	 * resume then starts from an id the others have too. */
	if (t->dirty) {
		for (uint32_t i = 0; i < f->n_dirty; i++)
			if (f->dirty[i] == t) {
				f->dirty[i] = f->dirty[--f->n_dirty];
				break;
			}
		topic_flush(f, t, mono_ms());
	}
	bool resumed = has_resume && resume >= t->ring_base && resume <= t->last_id;
	if (resumed) {
		for (uint32_t i = 0; i < t->ring_n; i++) {
			struct msg *m = &t->ring[(t->ring_head + i) % HF_FEED_RING_MSGS];
			if (m->id > resume)
				hf_httpd_stream_write(s, m->bytes, m->len);
		}
	} else {
		topic_snapshot(f, t);
		/* The snapshot may be larger than a stream's buffer bound; the
		 * bound is for what piles up after it. */
		hf_httpd_stream_allow(s, t->snap_len);
		hf_httpd_stream_write(s, t->snap, t->snap_len);
	}
	struct watcher *w = watcher_new(s);
	w->next = t->watchers;
	t->watchers = w;
	t->n_watchers++;
	f->st.watchers++;
	pthread_mutex_unlock(&f->mu);
	return 200;
}

/* ---- reads off the sequencer (loop threads) ------------------------------ */

int hf_feeds_read(struct hf_feeds *f, enum hf_feed_kind kind, const char *name, uint32_t name_len,
		  const char *after, uint32_t limit, bool seats, struct hf_jw *jw)
{
	if (!read_begin(f))
		return 0;
	struct topic *t = kind == HF_FEED_ITEM ? topic_find(f->items, f->n_items, name, name_len)
					       : topic_find(f->events, f->n_events, name, name_len);
	int status = 200;
	if (!t) {
		status = 404;
	} else if (kind == HF_FEED_ITEM) {
		struct hf_item_info i;
		hf_sm_item_static(f->sm, t->index, &i);
		hf_render_item(jw, &i, t->available, t->held, t->sold);
	} else if (!seats) {
		struct hf_event_info e;
		hf_sm_event_static(f->sm, t->index, &e);
		hf_jw_obj(jw);
		hf_render_event_fields(jw, e.id, e.name, e.starts_at_ms, e.hold_ttl_s, e.max_per_customer,
				       e.sale_opens_at_ms, e.sale_closes_at_ms, e.orphan_rule, e.n_seats);
		hf_render_counts(jw, t->count);
		hf_jw_obj_end(jw);
	} else {
		uint32_t from = 0;
		if (after) {
			size_t alen = strlen(after);
			uint32_t i = 0;
			for (; i < t->n_seats; i++) {
				struct hf_str id = hf_sm_seat_id(f->sm, t->first_seat + i, NULL);
				if (id.len == alen && !memcmp(id.ptr, after, alen))
					break;
			}
			if (i == t->n_seats)
				status = 400;
			from = i + 1;
		}
		uint32_t to = t->n_seats - from > limit ? from + limit : t->n_seats;
		if (status == 200 && !(t->page && t->page_seq == t->state_seq && t->page_from == from &&
				       t->page_to == to)) {
			/* one rendering per version and page, shared by every reader */
			struct hf_jw pj;
			hf_jw_init(&pj, NULL);
			hf_jw_reserve(&pj, (size_t)(to - from) * 96 + 256);
			hf_jw_obj(&pj);
			hf_jw_key(&pj, "event");
			hf_jw_str(&pj, t->name, t->name_len);
			hf_jw_key(&pj, "seats");
			hf_jw_arr(&pj);
			seats_json(f, t, &pj, from, to);
			hf_jw_arr_end(&pj);
			hf_jw_key(&pj, "next");
			if (to < t->n_seats)
				jw_hstr(&pj, hf_sm_seat_id(f->sm, t->first_seat + to - 1, NULL));
			else
				hf_jw_null(&pj);
			hf_jw_obj_end(&pj);
			HF_ASSERT(!pj.oom);
			free(t->page);
			t->page = pj.buf;
			t->page_len = pj.len;
			t->page_seq = t->state_seq;
			t->page_from = from;
			t->page_to = to;
			f->st.renders++;
		}
		if (status == 200)
			hf_jw_raw(jw, t->page, t->page_len);
	}
	f->st.reads++;
	pthread_mutex_unlock(&f->mu);
	return status;
}

/* ---- GET /changes -------------------------------------------------------- */

void hf_feeds_changes(struct hf_feeds *f, struct hf_jw *jw, uint64_t after, uint32_t limit)
{
	/* every write acknowledged before this read is in the page */
	if (!read_begin(f))
		pthread_mutex_lock(&f->mu);
	uint64_t retain = f->cfg.changes_retain;
	uint64_t oldest = f->log_n ? f->log[f->log_head % retain].id : f->next_change_id;
	/* entries are consecutive: the first after `after` is at a known place */
	uint64_t from = after + 1 > oldest ? after + 1 - oldest : 0;
	uint64_t next = after;
	hf_jw_obj(jw);
	hf_jw_key(jw, "changes");
	hf_jw_arr(jw);
	for (uint64_t i = from; i < f->log_n && i - from < limit; i++) {
		struct centry *e = &f->log[(f->log_head + i) % retain];
		hf_jw_json(jw, e->json, e->len);
		next = e->id;
	}
	hf_jw_arr_end(jw);
	hf_jw_key(jw, "next");
	hf_jw_u64(jw, next);
	hf_jw_key(jw, "oldest");
	hf_jw_u64(jw, oldest);
	/* a cursor from before the oldest kept entry missed some */
	hf_jw_key(jw, "gap");
	hf_jw_bool(jw, after + 1 < oldest);
	hf_jw_obj_end(jw);
	pthread_mutex_unlock(&f->mu);
}

void hf_feeds_stats(struct hf_feeds *f, struct hf_feeds_stats *out)
{
	pthread_mutex_lock(&f->mu);
	*out = f->st;
	pthread_mutex_unlock(&f->mu);
}

/* ---- life ---------------------------------------------------------------- */

/* Reads the changes file (before the engine opens): the last
 * changes_retain entries into memory, where the numbering goes on, and
 * from which record the engine's recovery must make entries again: the
 * file's last record (its entries may be only partly written; the first
 * replay_skip made again are dropped), or every replayed record when the
 * file has none. Entries of records after the recovery snapshot that the
 * file lacks (a crash between the group commit and the write, or a power
 * loss of its unsynced tail) are so made again, identically: ob_checkpoint
 * keeps every earlier entry synced before a snapshot moves past it. */
static int log_read(struct hf_feeds *f, char *err, size_t err_cap)
{
	FILE *in = fopen(f->path, "r");
	f->next_change_id = 1;
	uint64_t lines = 0, last_seq = 0;
	uint32_t last_seq_n = 0;
	off_t good = 0; /* bytes of whole lines */
	uint32_t retain = f->cfg.changes_retain;
	if (!in && errno != ENOENT) {
		snprintf(err, err_cap, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (in) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, in)) > 0) {
			if (line[n - 1] != '\n')
				break; /* a torn last line (a crash mid-write): cut at start */
			uint64_t id, seq = 0;
			int got = sscanf(line, "{\"id\":%" SCNu64 ",\"seq\":%" SCNu64 ",", &id, &seq);
			if (got < 1 || id != f->next_change_id) {
				snprintf(err, err_cap, "%s: line %" PRIu64 " is not entry %" PRIu64, f->path,
					 lines + 1, f->next_change_id);
				free(line);
				fclose(in);
				return -1;
			}
			if (f->log_n == retain) {
				free(f->log[f->log_head % retain].json);
				f->log_head++;
				f->log_n--;
			}
			struct centry *e = &f->log[(f->log_head + f->log_n) % retain];
			e->id = id;
			e->seq = seq;
			e->json = malloc((size_t)n);
			HF_ASSERT(e->json);
			memcpy(e->json, line, (size_t)n);
			e->len = (uint32_t)n - 1;
			f->log_n++;
			f->next_change_id = id + 1;
			last_seq_n = seq == last_seq ? last_seq_n + 1 : 1;
			last_seq = seq;
			lines++;
			good += n;
		}
		free(line);
		fclose(in);
	}
	f->log_file_lines = lines;
	f->log_file_good = good;
	/* An entry without its seq (a file from before seqs were kept) leaves
	 * nothing to resume from: no entries are made again. */
	f->ob.replay_from = lines == 0 ? 1 : last_seq;
	f->replay_skip = last_seq_n;
	f->replaying = f->ob.replay_from != 0;
	return 0;
}

/* Once the engine is open: the file is cut after its last whole line and
 * opened for appending; rewritten with only the kept entries once it
 * holds twice as many. */
static int log_open(struct hf_feeds *f, char *err, size_t err_cap)
{
	uint32_t retain = f->cfg.changes_retain;
	off_t good = f->log_file_good;
	if (f->log_file_lines > 2ull * retain) {
		/* compact: the kept entries into a tmp file, renamed over */
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
		FILE *out = fopen(tmp, "w");
		if (!out) {
			snprintf(err, err_cap, "%s: %s", tmp, strerror(errno));
			return -1;
		}
		good = 0;
		for (uint64_t i = 0; i < f->log_n; i++) {
			struct centry *e = &f->log[(f->log_head + i) % retain];
			fwrite(e->json, 1, e->len + 1, out);
			good += (off_t)e->len + 1;
		}
		if (fflush(out) || fsync(fileno(out)) || fclose(out) || rename(tmp, f->path)) {
			snprintf(err, err_cap, "%s: %s", tmp, strerror(errno));
			return -1;
		}
		f->log_file_lines = f->log_n;
	}
	int fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, good) < 0) {
		snprintf(err, err_cap, "%s: %s", f->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pthread_mutex_lock(&f->mu);
	f->fd = fd;
	pthread_cond_broadcast(&f->applied_cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

struct hf_feeds *hf_feeds_new(const struct hf_feeds_config *cfg, char *err, size_t err_cap)
{
	struct hf_feeds *f = calloc(1, sizeof(*f));
	HF_ASSERT(f);
	f->cfg = *cfg;
	if (!f->cfg.changes_retain)
		f->cfg.changes_retain = HF_CHANGES_RETAIN;
	f->fd = -1;
	snprintf(f->path, sizeof(f->path), "%s/changes.jsonl", cfg->data_dir);
	f->log = calloc(f->cfg.changes_retain, sizeof(*f->log));
	f->booking = malloc(sizeof(*f->booking));
	HF_ASSERT(f->log && f->booking);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->applied_cv, NULL);
	pthread_mutex_init(&f->p_mu, NULL);
	pthread_condattr_t mono;
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&f->p_cv, &mono);
	pthread_condattr_destroy(&mono);
	hf_jw_init(&f->log_out, NULL);
	hf_jw_init(&f->sse_out, NULL);
	for (int i = 0; i < 4; i++)
		f->state_tail_len[i] = (uint8_t)snprintf(f->state_tail[i], sizeof(f->state_tail[i]), "\"%s\"}",
							 hf_seat_state_name((enum hf_seat_state)i));
	f->ob = (struct hf_engine_observer){
		.arg = f, .start = ob_start, .before = ob_before, .after = ob_after,
		.durable = ob_durable, .checkpoint = ob_checkpoint,
	};
	if (log_read(f, err, err_cap) < 0) {
		hf_feeds_free(f);
		return NULL;
	}
	return f;
}

const struct hf_engine_observer *hf_feeds_observer(struct hf_feeds *f) { return &f->ob; }

int hf_feeds_start(struct hf_feeds *f, char *err, size_t err_cap)
{
	if (log_open(f, err, err_cap) < 0) {
		pthread_mutex_lock(&f->mu);
		f->hub_done = true; /* the engine's last checkpoint waits for nothing */
		pthread_cond_broadcast(&f->applied_cv);
		pthread_mutex_unlock(&f->mu);
		return -1;
	}
	if (pthread_create(&f->thread, NULL, hub_main, f))
		HF_ASSERT(0 && "pthread_create");
	pthread_setname_np(f->thread, "hf-feeds");
	f->started = true;
	return 0;
}

void hf_feeds_detach(struct hf_feeds *f)
{
	if (!f->started)
		return;
	pthread_mutex_lock(&f->p_mu);
	if (!f->p_detached) {
		f->p_detach = true;
		pthread_cond_signal(&f->p_cv);
		while (!f->p_detached)
			pthread_cond_wait(&f->p_cv, &f->p_mu);
	}
	pthread_mutex_unlock(&f->p_mu);
}

static void dvec_free(struct dvec *v)
{
	free(v->d);
	free(v->text);
}

static void topic_free(struct topic *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->ring && i < t->ring_n; i++)
		free(t->ring[(t->ring_head + i) % HF_FEED_RING_MSGS].bytes);
	free(t->ring);
	free(t->dirty_seats);
	free(t->snap);
	free(t->page);
	free(t->heads);
	free(t->head_off);
	free(t->name);
	HF_ASSERT(!t->watchers);
	free(t);
}

void hf_feeds_free(struct hf_feeds *f)
{
	if (!f)
		return;
	if (f->started) {
		hf_feeds_detach(f);
		pthread_mutex_lock(&f->p_mu);
		f->p_stop = true;
		pthread_cond_signal(&f->p_cv);
		pthread_mutex_unlock(&f->p_mu);
		pthread_join(f->thread, NULL);
	}
	if (f->fd >= 0) {
		fdatasync(f->fd);
		close(f->fd);
	}
	for (uint32_t i = 0; i < f->n_events; i++)
		topic_free(f->events[i]);
	for (uint32_t i = 0; i < f->n_items; i++)
		topic_free(f->items[i]);
	free(f->events);
	free(f->items);
	free(f->dirty);
	free(f->seat_state);
	free(f->seat_dirty);
	for (uint64_t i = 0; i < f->log_n; i++)
		free(f->log[(f->log_head + i) % f->cfg.changes_retain].json);
	free(f->log);
	free(f->due);
	free(f->booking);
	free(f->jw.buf);
	free(f->log_out.buf);
	free(f->sse_out.buf);
	dvec_free(&f->stash);
	dvec_free(&f->pending);
	dvec_free(&f->taken);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->applied_cv);
	pthread_mutex_destroy(&f->p_mu);
	pthread_cond_destroy(&f->p_cv);
	free(f);
}
