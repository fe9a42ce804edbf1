/*
 * watch.c: --watchers N and --pollers N, the readers of an on-sale
 * (bench.h; docs/BENCHMARKS.md, "On-sale: writers, feed watchers and
 * seat-map pollers"): buyers' browsers that keep the event's live feed
 * open, and others that reload its whole seat map every second.
 *
 * Watchers: N connections to GET /events/{id}/feed (Server-Sent Events),
 * opened before the warm-up, at most WATCH_WINDOW waiting for their
 * snapshot at once; each is read for as long as the run lasts, as a
 * browser reads (a watcher that stops reading is cut by the server once
 * 256 KiB wait for it: that is not what is measured here). The SSE framing
 * is parsed as it arrives, without keeping a message: lines `id:`,
 * `event:`, `data:`, a blank line ends a message, `:` is a comment (the
 * server writes `event:` before `data:`; only a change's data is
 * scanned). Counted: messages and bytes (those of the window), the
 * connections the server closed (cut), ids that did not increase.
 *
 * The server's memory per watcher is its VmRSS (the first --account PID)
 * once every snapshot is in and --idle-settle-s has passed, minus before
 * the first was opened (--idle-settle-s after the setup), over the number
 * opened.
 *
 * Delivery delay: the probe (wl_onsale.c, struct probe in bench.h) holds
 * and releases one seat in turn. A change message is scanned for
 * `"seat":"S-<probe>","state":"` when the watcher has not yet seen every
 * transition published (the rest cannot show the seat); per watcher, the
 * first message showing transition k's state is a sample: its arrival
 * (the read that completed the message) minus the time the transition's
 * 2xx answer was read. A message read before that answer (the server may
 * push the feed before the answer reaches the client) is a sample of 0,
 * counted early. Only transitions acknowledged inside the window count; a counted
 * transition that a watcher not cut never showed before the end (1 s
 * after the window) is unseen (a merged message that shows only the later
 * of two transitions hides the earlier one: unseen too).
 *
 * Pollers: N keep-alive connections, each GET /events/{id}/seats?limit=
 * 10000 (the whole map) once per --poll-interval-ms, their first polls
 * spread over one interval from the warm-up's start, the whole answer
 * read (and dropped). Polls answered inside the window and not sent in the
 * warm-up are counted, with their latency (request written -> last byte
 * read). A poll slower than the interval delays the poller's next one.
 *
 * Two threads, each with its epoll set and read buffer: the watchers'
 * and the pollers' (so that a poll's latency is not the time the client
 * takes to read 2,000 feeds). Nothing either keeps is shared while they
 * run but the probe's published transitions (read only), the phase and
 * the start and stop flags. Connections come from loopback source
 * addresses of their own, after --idle's (127.0.0.2 upwards,
 * --idle-per-addr each, as idle.c does), so that no address passes the
 * server's per-address cap and ephemeral ports do not run out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "bench.h"

#define WATCH_WINDOW 256            /* watchers waiting for their snapshot at once */
#define WATCH_RBUF (256u * 1024u)   /* one read: a snapshot of 10,000 seats in a few */
#define WATCH_GRACE_NS 1000000000ull /* after the window: the last changes' way in */
#define WATCH_TURN_MS 50            /* the longest wait: stop and phase are seen this soon */
#define POLL_HEAD_MAX 2048          /* an answer's headers */
#define PAT_MAX 64

enum { K_FEED, K_POLL };
enum { S_CONNECTING, S_HEAD, S_STREAM, S_CLOSED };  /* a watcher's stage */
enum { P_WAIT, P_CONNECTING, P_HEAD, P_BODY };      /* a poller's stage */
enum { F_NAME, F_DATA, F_EVENT, F_ID, F_SKIP };      /* the SSE line being read */
enum { EV_NONE, EV_SNAPSHOT, EV_CHANGE, EV_OTHER };

/* The SSE parser's state between reads: where in a line, and what the
 * message so far said. */
struct sse {
	uint8_t field;
	uint8_t name_len;            /* > sizeof(name): a name we do not know */
	uint8_t val_len;
	uint8_t event;
	uint8_t tail_len;
	bool lead_space;             /* the one space after "name:" is not the value's */
	bool state_next;             /* the probe's pattern ended the last read */
	bool has_id;
	bool scan;                   /* this data line may show a probe transition not yet seen */
	char probe_state;            /* this message: 0, or the state's first letter */
	char name[8];
	char val[24];
	char tail[PAT_MAX];          /* a data line's last bytes: a pattern across reads */
	uint64_t id;
};

struct feed {
	uint8_t kind;                /* K_FEED: first, as in struct poller */
	uint8_t stage;
	uint8_t head_match;          /* bytes of "\r\n\r\n" matched */
	uint8_t head_n;
	char head[12];               /* "HTTP/1.1 200" */
	int fd;
	bool snapshot;
	uint32_t seen;               /* probe transitions seen (in order) */
	uint32_t missed;             /* counted transitions it never showed */
	uint64_t last_id;
	struct sse sse;
};

struct poller {
	uint8_t kind;                /* K_POLL */
	uint8_t stage;
	uint8_t sent_phase;
	bool close;                  /* the answer said Connection: close */
	int fd;
	uint32_t i;
	int status;
	uint64_t due_ns, t0_ns;
	size_t got, hlen, hb_len;
	long long left;              /* body bytes still to read */
	char hb[POLL_HEAD_MAX];
};

/* One thread's loop: the watchers' or the pollers'. */
struct wloop {
	struct watch *wt;
	int ep;
	char *rb;
	pthread_t th;
	bool polls, running;
	bool cpu_in, cpu_out;        /* its CPU at the window's edges (within a turn) */
	double cpu0_s, cpu1_s;
};

struct watch {
	struct bench *b;
	struct wloop feeds_l, polls_l;
	_Atomic bool stop, go;
	_Atomic uint64_t go_ns;
	bool polls_armed;
	struct feed *feeds;
	struct poller *polls;
	char feed_req[512], poll_req[512];
	size_t feed_req_len, poll_req_len;
	char pat[PAT_MAX];
	size_t pat_len;
	bool loopback;
	uint32_t addr0_feeds, addr0_polls;
	/* watchers */
	uint32_t started, pending, snapshots, failed, cut;
	int first_bad_status;
	double open_s;
	long rss_before, rss_after;
	uint64_t msgs, msgs_run, bytes, bytes_run, ids_backwards, probe_odd;
	uint32_t *early_n;           /* per probe transition: watchers that saw it early */
	struct hist feed_h;
	uint64_t early, unseen, unseen_cut, counted;
	/* pollers */
	struct hist poll_h;
	uint64_t polls_all, polls_run, poll_errors, poll_late;
	int poll_bad_status;
};

/* ---- sockets ------------------------------------------------------------- */

/* A non-blocking connection to the target from loopback source address
 * number addr (127.0.0.2 + addr) when the target is loopback; -1 on error. */
static int sock_open(struct watch *wt, struct wloop *l, uint32_t addr, void *ptr)
{
	int fd = connect_from(wt->b, addr, wt->loopback);
	if (fd < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = ptr};
	epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

static void sock_close(struct wloop *l, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

/* Connected (EPOLLOUT, no error): writes the request (a few dozen bytes
 * into an empty socket buffer: all or nothing), then waits to read. */
static bool sock_send(struct wloop *l, int fd, void *ptr, const char *req, size_t len)
{
	int err = 0;
	socklen_t el = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err || send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return false;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ptr};
	epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
	return true;
}

static bool in_run(struct watch *wt)
{
	return atomic_load_explicit(&wt->go, memory_order_relaxed) &&
	       atomic_load_explicit(&wt->b->phase, memory_order_relaxed) == PH_RUN;
}

/* ---- watchers: the probe's transitions ----------------------------------- */

static char probe_want(uint32_t k) { return k % 2 == 0 ? 'h' : 'f'; }

/* Watcher f's message read at now shows the probe seat in state st. */
static void probe_seen(struct watch *wt, struct feed *f, char st, uint64_t now)
{
	struct probe *p = &wt->b->probe;
	uint32_t started = atomic_load(&p->started);
	uint32_t k = f->seen;
	if (k + 1 < started && probe_want(k) != st) {
		/* merged with the next one: k never shows (k + 1 was sent once k
		 * was acknowledged, so in_window[k] is known) */
		if (atomic_load(&p->ack_ns[k]) && atomic_load(&p->in_window[k]))
			f->missed++;
		k++;
	}
	if (k >= started || probe_want(k) != st) {
		wt->probe_odd++; /* a state no transition sent explains */
		return;
	}
	uint64_t ack = atomic_load(&p->ack_ns[k]);
	if (!ack || ack > now)
		wt->early_n[k]++; /* resolved at the end, once in_window[k] is known */
	else if (atomic_load(&p->in_window[k]))
		hist_add(&wt->feed_h, (now - ack) / 1000u);
	f->seen = k + 1;
}

/* ---- watchers: SSE, as it arrives ---------------------------------------- */

static void line_end(struct sse *s)
{
	s->field = F_NAME;
	s->name_len = 0;
}

static void msg_end(struct watch *wt, struct feed *f, uint64_t now)
{
	struct sse *s = &f->sse;
	if (s->event == EV_NONE && !s->has_id)
		return; /* the blank line after a comment (heartbeat) */
	if (s->has_id) {
		if (f->last_id && s->id <= f->last_id)
			wt->ids_backwards++;
		f->last_id = s->id;
	}
	if (s->event == EV_SNAPSHOT && !f->snapshot) {
		f->snapshot = true;
		wt->snapshots++;
		wt->pending--;
	} else if (s->event == EV_CHANGE) {
		wt->msgs++;
		wt->msgs_run += in_run(wt);
		if (s->probe_state)
			probe_seen(wt, f, s->probe_state, now);
	}
	s->event = EV_NONE;
	s->has_id = false;
	s->probe_state = 0;
	s->state_next = false;
}

/* Looks for the probe's pattern in n more bytes of a change's data line
 * (the line's last bytes before them are in s->tail). */
static void data_scan(struct watch *wt, struct sse *s, const char *p, size_t n)
{
	const size_t L = wt->pat_len;
	if (!n)
		return;
	if (s->state_next) {
		s->probe_state = p[0];
		s->state_next = false;
		return;
	}
	if (s->tail_len) {
		/* a match that starts in the tail: the tail and the first L bytes
		 * (its end and the state after it) */
		char win[2 * PAT_MAX];
		size_t m = n < L ? n : L;
		memcpy(win, s->tail, s->tail_len);
		memcpy(win + s->tail_len, p, m);
		const char *h = memmem(win, s->tail_len + m, wt->pat, L);
		if (h && (size_t)(h - win) < s->tail_len) {
			size_t at = (size_t)(h - win) + L;
			if (at < s->tail_len + m)
				s->probe_state = win[at];
			else
				s->state_next = true;
			return;
		}
	}
	const char *h = memmem(p, n, wt->pat, L);
	if (h) {
		if (h + L < p + n)
			s->probe_state = h[L];
		else
			s->state_next = true;
		return;
	}
	/* keep the line's last L - 1 bytes */
	if (n >= L - 1) {
		memcpy(s->tail, p + n - (L - 1), L - 1);
		s->tail_len = (uint8_t)(L - 1);
	} else {
		size_t keep = s->tail_len + n > L - 1 ? L - 1 - n : s->tail_len;
		memmove(s->tail, s->tail + s->tail_len - keep, keep);
		memcpy(s->tail + keep, p, n);
		s->tail_len = (uint8_t)(keep + n);
	}
}

static uint8_t field_of(const struct sse *s)
{
	/* Columns: name, field. */
	static const struct {
		const char *name;
		uint8_t field;
	} names[] = {{"data", F_DATA}, {"event", F_EVENT}, {"id", F_ID}};
	if (s->name_len > sizeof(s->name))
		return F_SKIP;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == s->name_len && !memcmp(names[i].name, s->name, s->name_len))
			return names[i].field;
	return F_SKIP; /* a comment (no name), retry, anything else */
}

static void value_end(struct sse *s)
{
	if (s->field == F_EVENT) {
		s->event = s->val_len == 8 && !memcmp(s->val, "snapshot", 8) ? EV_SNAPSHOT
			   : s->val_len == 6 && !memcmp(s->val, "change", 6) ? EV_CHANGE
									      : EV_OTHER;
	} else {
		uint64_t v = 0;
		for (uint8_t i = 0; i < s->val_len && s->val[i] >= '0' && s->val[i] <= '9'; i++)
			v = v * 10 + (uint64_t)(s->val[i] - '0');
		s->id = v;
		s->has_id = true;
	}
}

/* n bytes of watcher f's stream, read at now. */
static void sse_feed(struct watch *wt, struct feed *f, const char *p, size_t n, uint64_t now)
{
	struct sse *s = &f->sse;
	const char *end = p + n;
	while (p < end) {
		switch (s->field) {
		case F_NAME: {
			char c = *p++;
			if (c == '\n') {
				if (!s->name_len)
					msg_end(wt, f, now);
				line_end(s); /* or a name alone: nothing here uses it */
			} else if (c == ':') {
				s->field = field_of(s);
				s->lead_space = true;
				s->val_len = 0;
				s->tail_len = 0;
				/* Only a message that may show a transition this
				 * watcher has not seen is scanned: a transition is
				 * published before its request is written, so once
				 * every published one was seen the seat has not
				 * changed since (most messages are skipped so). */
				s->scan = s->field == F_DATA && s->event == EV_CHANGE && !s->probe_state &&
					  f->seen < atomic_load(&wt->b->probe.started);
			} else {
				if (s->name_len < sizeof(s->name))
					s->name[s->name_len] = c;
				if (s->name_len <= sizeof(s->name))
					s->name_len++;
			}
			break;
		}
		case F_DATA: {
			if (s->lead_space) {
				s->lead_space = false;
				if (*p == ' ')
					p++;
				break;
			}
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *seg_end = nl ? nl : end;
			if (s->scan && !s->probe_state)
				data_scan(wt, s, p, (size_t)(seg_end - p));
			p = seg_end;
			if (nl) {
				p++;
				line_end(s);
			}
			break;
		}
		case F_EVENT:
		case F_ID: {
			char c = *p++;
			if (s->lead_space) {
				s->lead_space = false;
				if (c == ' ')
					break;
			}
			if (c == '\n') {
				value_end(s);
				line_end(s);
			} else if (s->val_len < sizeof(s->val)) {
				s->val[s->val_len++] = c;
			}
			break;
		}
		default: { /* F_SKIP */
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
			if (nl)
				line_end(s);
			break;
		}
		}
	}
}

/* ---- watchers: connections ----------------------------------------------- */

static void feed_start(struct watch *wt, struct feed *f, uint32_t i)
{
	f->kind = K_FEED;
	f->fd = sock_open(wt, &wt->feeds_l, wt->addr0_feeds + i / wt->b->idle_per_addr, f);
	if (f->fd < 0) {
		f->stage = S_CLOSED;
		wt->failed++;
		return;
	}
	f->stage = S_CONNECTING;
	wt->pending++;
}

/* The server closed it, or it failed before its snapshot. */
static void feed_end(struct watch *wt, struct feed *f)
{
	if (f->snapshot) {
		wt->cut++;
	} else {
		wt->failed++;
		wt->pending--;
	}
	sock_close(&wt->feeds_l, &f->fd);
	f->stage = S_CLOSED;
}

/* The answer's headers: keeps the status line's start, looks for their
 * end; returns the bytes that were headers. */
static size_t feed_head(struct watch *wt, struct feed *f, const char *p, size_t n)
{
	static const char end[4] = {'\r', '\n', '\r', '\n'};
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (f->head_n < sizeof(f->head))
			f->head[f->head_n++] = c;
		f->head_match = c == end[f->head_match] ? f->head_match + 1 : c == '\r' ? 1 : 0;
		if (f->head_match < 4)
			continue;
		int status = 0;
		for (int d = 9; d < 12 && f->head_n == 12 && f->head[d] >= '0' && f->head[d] <= '9'; d++)
			status = status * 10 + (f->head[d] - '0');
		if (status != 200) {
			if (!wt->first_bad_status)
				wt->first_bad_status = status;
			feed_end(wt, f);
			return n;
		}
		f->stage = S_STREAM;
		return i + 1;
	}
	return n;
}

static void feed_event(struct watch *wt, struct feed *f, uint32_t events)
{
	if (f->stage == S_CONNECTING) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			feed_end(wt, f);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		if (!sock_send(&wt->feeds_l, f->fd, f, wt->feed_req, wt->feed_req_len)) {
			feed_end(wt, f);
			return;
		}
		f->stage = S_HEAD;
		return;
	}
	ssize_t n = recv(f->fd, wt->feeds_l.rb, WATCH_RBUF, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		feed_end(wt, f);
		return;
	}
	uint64_t now = mono_ns();
	wt->bytes += (uint64_t)n;
	if (in_run(wt))
		wt->bytes_run += (uint64_t)n;
	const char *p = wt->feeds_l.rb;
	size_t len = (size_t)n;
	if (f->stage == S_HEAD) {
		size_t used = feed_head(wt, f, p, len);
		p += used;
		len -= used;
	}
	if (f->stage == S_STREAM && len)
		sse_feed(wt, f, p, len, now);
}

/* ---- pollers ------------------------------------------------------------- */

static void poll_fail(struct watch *wt, struct poller *q)
{
	wt->poll_errors++;
	sock_close(&wt->polls_l, &q->fd);
	q->stage = P_WAIT;
}

static void poll_start(struct watch *wt, struct poller *q, uint64_t now)
{
	q->t0_ns = now;
	q->sent_phase = (uint8_t)atomic_load_explicit(&wt->b->phase, memory_order_relaxed);
	q->got = q->hlen = q->hb_len = 0;
	q->left = 0;
	q->status = 0;
	q->close = false;
	if (q->fd < 0) {
		q->fd = sock_open(wt, &wt->polls_l, wt->addr0_polls + q->i / wt->b->idle_per_addr, q);
		if (q->fd < 0) {
			wt->poll_errors++;
			return;
		}
		q->stage = P_CONNECTING;
		return;
	}
	if (send(q->fd, wt->poll_req, wt->poll_req_len, MSG_NOSIGNAL) != (ssize_t)wt->poll_req_len) {
		poll_fail(wt, q);
		return;
	}
	q->stage = P_HEAD;
}

static void poll_done(struct watch *wt, struct poller *q, uint64_t now)
{
	wt->polls_all++;
	int ph = atomic_load_explicit(&wt->b->phase, memory_order_relaxed);
	if (q->status != 200) {
		wt->poll_errors++;
		if (!wt->poll_bad_status)
			wt->poll_bad_status = q->status;
	} else if (ph == PH_RUN && q->sent_phase != PH_WARM) {
		wt->polls_run++;
		hist_add(&wt->poll_h, (now - q->t0_ns) / 1000u);
	}
	if (q->close)
		sock_close(&wt->polls_l, &q->fd);
	q->stage = P_WAIT;
	uint64_t interval = (uint64_t)wt->b->poll_interval_ms * 1000000u;
	q->due_ns += interval;
	if (q->due_ns < now) {
		wt->poll_late++; /* slower than the interval: the next one at once */
		q->due_ns = now;
	}
}

/* The headers are in q->hb[0..hlen): status, Content-Length, Connection. */
static bool poll_head(struct poller *q)
{
	if (q->hlen < 12 || memcmp(q->hb, "HTTP/1.", 7))
		return false;
	q->status = atoi(q->hb + 9);
	q->close = q->hb[7] == '0';
	long long cl = -1;
	const char *end = q->hb + q->hlen;
	for (const char *p = q->hb; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
		size_t rest = (size_t)(end - p);
		if (rest > 15 && !strncasecmp(p, "content-length:", 15)) {
			cl = strtoll(p + 15, NULL, 10);
		} else if (rest > 11 && !strncasecmp(p, "connection:", 11)) {
			const char *le = memchr(p, '\n', rest);
			q->close = le && memmem(p, (size_t)(le - p), "close", 5);
		}
	}
	if (cl < 0)
		return false; /* a body to the close: not what the server sends */
	q->left = cl;
	return true;
}

static void poll_event(struct watch *wt, struct poller *q, uint32_t events)
{
	if (q->stage == P_CONNECTING) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			poll_fail(wt, q);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		if (!sock_send(&wt->polls_l, q->fd, q, wt->poll_req, wt->poll_req_len)) {
			poll_fail(wt, q);
			return;
		}
		q->stage = P_HEAD;
		return;
	}
	ssize_t n = recv(q->fd, wt->polls_l.rb, WATCH_RBUF, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (q->stage == P_WAIT) { /* closed between polls: reopened at the next */
			sock_close(&wt->polls_l, &q->fd);
			return;
		}
		poll_fail(wt, q);
		return;
	}
	uint64_t now = mono_ns();
	if (q->stage == P_WAIT) {
		poll_fail(wt, q); /* bytes nobody asked for */
		return;
	}
	size_t len = (size_t)n;
	if (q->stage == P_HEAD) {
		size_t k = len < sizeof(q->hb) - q->hb_len ? len : sizeof(q->hb) - q->hb_len;
		memcpy(q->hb + q->hb_len, wt->polls_l.rb, k);
		size_t before = q->hb_len;
		q->hb_len += k;
		const char *e = memmem(q->hb, q->hb_len, "\r\n\r\n", 4);
		if (!e) {
			if (q->hb_len == sizeof(q->hb))
				poll_fail(wt, q);
			return;
		}
		q->hlen = (size_t)(e + 4 - q->hb);
		if (!poll_head(q)) {
			poll_fail(wt, q);
			return;
		}
		len -= q->hlen - before; /* the rest of this read is body */
		q->stage = P_BODY;
	}
	q->left -= (long long)len;
	if (q->left <= 0)
		poll_done(wt, q, now);
}

/* Sends the polls that are due; returns ms until the next one (capped). */
static int polls_due(struct watch *wt, uint64_t now)
{
	struct bench *b = wt->b;
	if (!b->pollers_n || !atomic_load(&wt->go))
		return WATCH_TURN_MS;
	uint64_t interval = (uint64_t)b->poll_interval_ms * 1000000u;
	if (!wt->polls_armed) {
		uint64_t go = atomic_load(&wt->go_ns);
		for (uint32_t i = 0; i < b->pollers_n; i++)
			wt->polls[i].due_ns = go + interval * i / b->pollers_n;
		wt->polls_armed = true;
	}
	if (atomic_load_explicit(&b->phase, memory_order_relaxed) >= PH_DRAIN)
		return WATCH_TURN_MS;
	uint64_t next = now + (uint64_t)WATCH_TURN_MS * 1000000u;
	for (uint32_t i = 0; i < b->pollers_n; i++) {
		struct poller *q = &wt->polls[i];
		if (q->stage != P_WAIT)
			continue;
		if (q->due_ns <= now)
			poll_start(wt, q, now);
		else if (q->due_ns < next)
			next = q->due_ns;
	}
	return (int)((next - now + 999999u) / 1000000u);
}

/* ---- the thread ---------------------------------------------------------- */

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void turn(struct wloop *l, int timeout_ms)
{
	struct watch *wt = l->wt;
	struct epoll_event evs[256];
	int n = epoll_wait(l->ep, evs, 256, timeout_ms);
	for (int i = 0; i < n; i++) {
		uint8_t kind = *(uint8_t *)evs[i].data.ptr;
		if (kind == K_FEED)
			feed_event(wt, evs[i].data.ptr, evs[i].events);
		else
			poll_event(wt, evs[i].data.ptr, evs[i].events);
	}
}

static void *loop_main(void *arg)
{
	struct wloop *l = arg;
	struct watch *wt = l->wt;
	int timeout = WATCH_TURN_MS;
	while (!atomic_load(&wt->stop)) {
		turn(l, timeout);
		timeout = l->polls ? polls_due(wt, mono_ns()) : WATCH_TURN_MS;
		int ph = atomic_load_explicit(&wt->b->phase, memory_order_relaxed);
		if (!l->cpu_in && atomic_load(&wt->go) && ph == PH_RUN) {
			l->cpu0_s = thread_cpu_s();
			l->cpu_in = true;
		}
		if (l->cpu_in && !l->cpu_out && ph >= PH_DRAIN) {
			l->cpu1_s = thread_cpu_s();
			l->cpu_out = true;
		}
	}
	return NULL;
}

static void loop_init(struct watch *wt, struct wloop *l, bool polls)
{
	l->wt = wt;
	l->polls = polls;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		die("epoll_create1: %s", strerror(errno));
	l->rb = xalloc(WATCH_RBUF);
}

static void loop_start(struct wloop *l)
{
	if (pthread_create(&l->th, NULL, loop_main, l) != 0)
		die("pthread_create failed");
	pthread_setname_np(l->th, l->polls ? "hfb-pollers" : "hfb-watchers"); /* for top, perf */
	l->running = true;
}

static void loop_end(struct wloop *l)
{
	if (l->running)
		pthread_join(l->th, NULL);
	l->running = false;
	close(l->ep);
	free(l->rb);
	l->rb = NULL;
}

static double loop_cpu_s(const struct wloop *l)
{
	return l->cpu_in && l->cpu_out ? l->cpu1_s - l->cpu0_s : 0;
}

void watch_open(struct bench *b)
{
	if (!b->feed_event[0])
		die("--watchers, --pollers: workload %s has no event to watch (onsale has)",
		    b->workload);
	struct watch *wt = xalloc(sizeof(*wt));
	b->watch = wt;
	wt->b = b;
	uint32_t n = b->watchers_n;
	raise_nofile((unsigned long long)b->idle_n + n + b->pollers_n + b->conns + SETUP_CONNS + 256,
		     "--watchers/--pollers");
	wt->loopback = (ntohl(b->addr.sin_addr.s_addr) >> 24) == 127;
	uint32_t per = b->idle_per_addr;
	wt->addr0_feeds = (b->idle_n + per - 1) / per;
	wt->addr0_polls = wt->addr0_feeds + (n + per - 1) / per;
	uint64_t last = 0x7F000002u + (uint64_t)wt->addr0_polls + (b->pollers_n + per - 1) / per;
	if (wt->loopback && last > 0x7FFFFFFFu)
		die("--idle, --watchers, --pollers / --idle-per-addr %u: more source addresses than "
		    "127/8 has", per);
	int k = snprintf(wt->feed_req, sizeof(wt->feed_req),
			 "GET /events/%s/feed HTTP/1.1\r\nHost: %s:%u\r\n"
			 "Accept: text/event-stream\r\n\r\n",
			 b->feed_event, b->host, b->port);
	wt->feed_req_len = (size_t)k;
	k = snprintf(wt->poll_req, sizeof(wt->poll_req),
		     "GET /events/%s/seats?limit=%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", b->feed_event,
		     HF_SEAT_PAGE_MAX, b->host, b->port);
	wt->poll_req_len = (size_t)k;
	k = snprintf(wt->pat, sizeof(wt->pat), "\"seat\":\"S-%u\",\"state\":\"", b->probe.seat);
	wt->pat_len = (size_t)k;
	loop_init(wt, &wt->feeds_l, false);
	loop_init(wt, &wt->polls_l, true);
	wt->feeds = xalloc((n ? n : 1) * sizeof(*wt->feeds));
	wt->polls = xalloc((b->pollers_n ? b->pollers_n : 1) * sizeof(*wt->polls));
	for (uint32_t i = 0; i < b->pollers_n; i++) {
		wt->polls[i].kind = K_POLL;
		wt->polls[i].fd = -1;
		wt->polls[i].i = i;
	}
	wt->early_n = xalloc(b->probe.cap * sizeof(*wt->early_n));

	pid_t server = b->n_acct ? b->acct[0] : 0;
	/* the setup's garbage returned first, so that it is not counted
	 * against the watchers */
	if (server && n)
		sleep_s(b->idle_settle_s);
	wt->rss_before = server ? proc_rss_kib(server) : -1;
	uint64_t t0 = mono_ns();
	/* generous: 10,000-seat snapshots are ~0.5 MB each, all read here */
	uint64_t deadline = t0 + 30000000000ull + (uint64_t)n * 5000000u;
	while ((wt->started < n || wt->pending) && mono_ns() < deadline) {
		while (wt->pending < WATCH_WINDOW && wt->started < n) {
			wt->feeds[wt->started].fd = -1;
			feed_start(wt, &wt->feeds[wt->started], wt->started);
			wt->started++;
		}
		turn(&wt->feeds_l, 100);
	}
	wt->open_s = (double)(mono_ns() - t0) / 1e9;
	if (wt->first_bad_status)
		fprintf(stderr, "holdfast-bench: watch: GET /events/%s/feed answered %d\n",
			b->feed_event, wt->first_bad_status);
	if (n && !wt->snapshots)
		die("watch: none of %u feeds could be opened (server caps? --max-streams)", n);
	/* settle, still reading (heartbeats): then the server's memory */
	for (uint64_t until = mono_ns() + (uint64_t)(b->idle_settle_s * 1e9); mono_ns() < until;)
		turn(&wt->feeds_l, 50);
	wt->rss_after = server ? proc_rss_kib(server) : -1;
	if (n)
		fprintf(stderr, "holdfast-bench: watch: %u of %u feeds open, snapshots read in %.2f s "
				"(%u failed, %u waiting); %.1f MiB read; server VmRSS %ld -> %ld KiB\n",
			wt->snapshots, n, wt->open_s, wt->failed, wt->pending,
			(double)wt->bytes / 1048576.0, wt->rss_before, wt->rss_after);
	if (n)
		loop_start(&wt->feeds_l);
	if (b->pollers_n)
		loop_start(&wt->polls_l);
}

void watch_go(struct bench *b)
{
	atomic_store(&b->watch->go_ns, mono_ns());
	atomic_store(&b->watch->go, true);
}

void watch_stop(struct bench *b)
{
	struct watch *wt = b->watch;
	uint64_t until = b->t_run1_ns + WATCH_GRACE_NS, now = mono_ns();
	if (now < until)
		sleep_s((double)(until - now) / 1e9);
	atomic_store(&wt->stop, true);
	loop_end(&wt->feeds_l);
	loop_end(&wt->polls_l);
	struct probe *p = &b->probe;
	uint32_t started = atomic_load(&p->started);
	/* the counted transitions: acknowledged inside the window */
	for (uint32_t k = 0; k < started; k++) {
		if (!atomic_load(&p->ack_ns[k]) || !atomic_load(&p->in_window[k]))
			continue;
		wt->counted++;
		wt->early += wt->early_n[k];
		for (uint32_t i = 0; i < wt->early_n[k]; i++)
			hist_add(&wt->feed_h, 0);
	}
	for (uint32_t i = 0; i < wt->started; i++) {
		struct feed *f = &wt->feeds[i];
		if (!f->snapshot)
			continue;
		uint64_t missed = f->missed;
		for (uint32_t k = f->seen; k < started; k++)
			missed += atomic_load(&p->ack_ns[k]) && atomic_load(&p->in_window[k]);
		if (f->stage == S_STREAM)
			wt->unseen += missed;
		else
			wt->unseen_cut += missed;
		if (f->fd >= 0)
			close(f->fd);
	}
	for (uint32_t i = 0; i < b->pollers_n; i++)
		if (wt->polls[i].fd >= 0)
			close(wt->polls[i].fd);
}

void watch_verify(struct bench *b)
{
	struct watch *wt = b->watch;
	if (b->watchers_n) {
		check(wt->snapshots == b->watchers_n, "every watcher's feed opened with its snapshot "
						      "(%u of %u)",
		      wt->snapshots, b->watchers_n);
		check(!wt->ids_backwards, "feed ids increase on every watcher (%" PRIu64 " did not)",
		      wt->ids_backwards);
		check(!wt->unseen, "every probe change acknowledged in the window reached every "
				   "watcher not cut within 1 s of the window (%" PRIu64
				   " watcher-changes did not; %u watchers cut)",
		      wt->unseen, wt->cut);
	}
	if (b->pollers_n)
		check(!wt->poll_errors, "every seat-map poll answered 200 in full (%" PRIu64
					" did not; first status other than 200: %d)",
		      wt->poll_errors, wt->poll_bad_status);
}

void watch_report(struct bench *b, double window_s)
{
	struct watch *wt = b->watch;
	struct watch none = {0};
	if (!wt) {
		none.rss_before = none.rss_after = -1;
		wt = &none;
	}
	double per = wt->rss_before >= 0 && wt->rss_after >= 0 && wt->snapshots
			     ? (double)(wt->rss_after - wt->rss_before) / wt->snapshots
			     : -1;
	double cpu_feeds = loop_cpu_s(&wt->feeds_l), cpu_polls = loop_cpu_s(&wt->polls_l);
	const struct hist *h = &wt->feed_h, *ph = &wt->poll_h;
	uint32_t started = atomic_load(&b->probe.started);
	uint64_t counted = 0;
	for (uint32_t k = 0; k < started; k++)
		counted += atomic_load(&b->probe.ack_ns[k]) && atomic_load(&b->probe.in_window[k]);
	if (b->watchers_n)
		fprintf(stderr, "  watchers: %u open, %u cut by the server, %u failed; in the window "
				"%" PRIu64 " change messages (%.1f per watcher per s), %.1f MiB; "
				"server %.1f KiB per watcher\n"
				"  feed delay (probe acknowledged -> message read), %" PRIu64
				" probe changes: %" PRIu64 " samples, p50 %.1f ms, p99 %.1f ms, max "
				"%.1f ms; %" PRIu64 " read before the acknowledgement (0), %" PRIu64
				" never seen by a watcher not cut (%" PRIu64 " by cut ones); %" PRIu64
				" unexplained probe states\n",
			wt->snapshots - wt->cut, wt->cut, wt->failed, wt->msgs_run,
			wt->snapshots ? (double)wt->msgs_run / wt->snapshots / window_s : 0,
			(double)wt->bytes_run / 1048576.0, per, counted, h->count, hist_ms(h, 0.5),
			hist_ms(h, 0.99), (double)h->max_us / 1000.0, wt->early, wt->unseen,
			wt->unseen_cut, wt->probe_odd);
	if (b->pollers_n)
		fprintf(stderr, "  pollers: %u, %" PRIu64 " whole seat maps read in the window "
				"(%.1f/s), p50 %.1f ms, p99 %.1f ms, max %.1f ms; %" PRIu64
				" later than their interval, %" PRIu64 " errors\n",
			b->pollers_n, wt->polls_run, (double)wt->polls_run / window_s, hist_ms(ph, 0.5),
			hist_ms(ph, 0.99), (double)ph->max_us / 1000.0, wt->poll_late, wt->poll_errors);
	if (b->watch)
		fprintf(stderr, "  cpu in the window of the watchers' thread %.2f s, the pollers' "
				"%.2f s; probe changes %" PRIu64 " in the window, %" PRIu64 " probe errors\n",
			cpu_feeds, cpu_polls, counted, b->probe.errors);
	add_extra(b, " watchers=%u watchers_open=%u watchers_cut=%u watchers_failed=%u"
		     " feed_msgs=%" PRIu64 " feed_mib=%.1f feed_samples=%" PRIu64 " feed_p50_ms=%.1f"
		     " feed_p99_ms=%.1f feed_max_ms=%.1f feed_early=%" PRIu64 " feed_unseen=%" PRIu64
		     " rss_kib_per_watcher=%.1f watch_open_s=%.2f probe_changes=%" PRIu64
		     " probe_errors=%" PRIu64,
		  b->watchers_n, wt->snapshots - wt->cut, wt->cut, wt->failed, wt->msgs_run,
		  (double)wt->bytes_run / 1048576.0, h->count, hist_ms(h, 0.5), hist_ms(h, 0.99),
		  (double)h->max_us / 1000.0, wt->early, wt->unseen, per, wt->open_s, counted,
		  b->probe.errors);
	add_extra(b, " pollers=%u polls=%" PRIu64 " poll_p50_ms=%.1f poll_p99_ms=%.1f"
		     " poll_max_ms=%.1f poll_late=%" PRIu64 " poll_errors=%" PRIu64
		     " watch_cpu_s=%.2f poll_cpu_s=%.2f",
		  b->pollers_n, wt->polls_run, hist_ms(ph, 0.5), hist_ms(ph, 0.99),
		  (double)ph->max_us / 1000.0, wt->poll_late, wt->poll_errors, cpu_feeds, cpu_polls);
}
