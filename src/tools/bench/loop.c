/*
 * loop.c: holdfast-bench's connections and its event loop (bench.h).
 *
 * A closed loop, as wrk and redis-benchmark do: one epoll loop per worker
 * thread, non-blocking sockets, keep-alive, exactly one request outstanding
 * per connection; an answer is classified by the row's answer function and
 * the connection sends its next request at once. A connection the server
 * closes is reopened for the next request (Django's sync workers close
 * after each answer). The setup and verify requests go through the same
 * loop as a list (list_run): each sent once, each answer kept.
 *
 * Invariants: a connection belongs to one worker; c->busy is true exactly
 * while a request of it is outstanding, and w->busy counts them; every
 * outstanding request ends in exactly one of conn_answer, conn_lost (its
 * connection broke) or "unanswered" (still outstanding at stop).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* ---- connections and the event loop ------------------------------------ */

static void conn_next(struct conn *c);

static void ep_set(struct conn *c, bool out)
{
	if (c->fd < 0 || out == c->want_out)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = out;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->connecting = false;
	c->want_out = false;
	c->rlen = 0;
	c->until_close = false;
}

int conn_open(struct conn *c)
{
	struct bench *b = c->w->b;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w->connects++;
	if (connect(fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->connecting = true;
	c->want_out = true;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
	epoll_ctl(c->w->ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

void conn_write(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wb + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ep_set(c, true);
			return;
		}
		return; /* an error: the read side sees it */
	}
	ep_set(c, false);
}

/* The outstanding request will have no answer: its outcome is unknown. */
void conn_lost(struct conn *c)
{
	struct bench *b = c->w->b;
	if (!c->busy)
		return;
	c->busy = false;
	c->w->busy--;
	c->w->lost++;
	if (c->op == OP_LIST)
		atomic_fetch_sub(&b->list_left, 1);
	else if (b->row->lost)
		b->row->lost(b, c);
}

static int phase_slot(int ph) { return ph < PH_DRAIN ? ph : PH_DRAIN; }

static void conn_answer(struct conn *c, struct answer *a)
{
	struct bench *b = c->w->b;
	uint64_t now = mono_ns();
	int ph = atomic_load_explicit(&b->phase, memory_order_relaxed);
	/* a warm-up request answered after the window opened is still warm-up */
	struct stats *s = &c->w->st[c->sent_phase == PH_WARM ? PH_WARM : phase_slot(ph)];
	int status = a->status;
	int cls;
	if (c->op == OP_LIST) {
		struct lreq *q = &b->list[c->list_i];
		q->status = status;
		q->answer = xalloc(a->body_len + 1);
		memcpy(q->answer, a->body, a->body_len);
		q->answer_len = a->body_len;
		cls = status < 300 ? CLS_OK : CLS_OTHER;
		atomic_fetch_sub(&b->list_left, 1);
	} else {
		cls = b->row->answer(b, c, &status, a->body, a->body_len);
	}
	int slot = status >= 0 && status < STATUS_MAX ? status : STATUS_MAX;
	s->op_status[c->op][slot]++;
	s->op_cls[c->op][cls]++;
	/* the tick connection's requests are the server's (the route counts
	 * hold them) but not the load's */
	if (!ops[c->op].aux && c != b->clock_conn) {
		s->answers++;
		s->status[slot]++;
		if (cls == CLS_OK)
			s->ok++;
		else if (cls == CLS_REJECTED)
			s->rejected++;
		else
			s->other++;
		s->ops_done += c->op == OP_BATCH ? b->batch : 1;
		hist_add(&s->h, (now - c->t0_ns) / 1000u);
	}
	c->busy = false;
	c->w->busy--;
	if (a->close)
		conn_close(c);
	if (ph < PH_DRAIN && c != b->clock_conn)
		conn_next(c);
}

static void conn_read(struct conn *c)
{
	struct bench *b = c->w->b;
	bool eof = false;
	for (;;) {
		if (c->rlen + 4096 > c->rcap) {
			c->rcap = c->rcap ? c->rcap * 2 : RBUF_MIN;
			c->rb = realloc(c->rb, c->rcap);
			if (!c->rb)
				die("out of memory");
		}
		size_t room = c->rcap - c->rlen - 1;
		ssize_t n = recv(c->fd, c->rb + c->rlen, room, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			/* Not reading on to EAGAIN saves a syscall per answer: the
			 * epoll interest is level-triggered, more bytes wake us again. */
			if ((size_t)n < room)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF or an error: what arrived before it is still parsed (a
		 * server that closes after each answer sends both at once) */
		if (n < 0)
			c->w->sock_errors++;
		eof = true;
		break;
	}
	int fd = c->fd;
	while (c->busy && c->rlen) {
		struct answer a = {0};
		long used = b->row->proto == PROTO_RESP ? resp_parse(c->rb, c->rlen, &a)
							: http_parse(c->rb, c->rlen, &a);
		if (used == -2)
			break;
		if (used == -3) {
			/* a body without a length: it ends at the close */
			c->until_close = true;
			if (!eof)
				break;
			const char *end = memmem(c->rb, c->rlen, "\r\n\r\n", 4);
			a.body = end + 4;
			a.body_len = c->rlen - (size_t)(end + 4 - c->rb);
			a.close = true;
			conn_answer(c, &a);
			return;
		}
		if (used < 0) {
			c->w->sock_errors++;
			eof = true;
			break;
		}
		/* The body points into rb: answer before moving the rest. */
		conn_answer(c, &a);
		if (c->fd != fd || c->rlen == 0)
			return; /* closed (rlen reset), maybe reopened */
		memmove(c->rb, c->rb + used, c->rlen - (size_t)used);
		c->rlen -= (size_t)used;
	}
	if (eof) {
		bool was_busy = c->busy;
		conn_lost(c);
		conn_close(c);
		if (was_busy && atomic_load(&b->phase) < PH_DRAIN && c != b->clock_conn)
			conn_next(c);
	}
}

/* Sends the connection's next request, (re)connecting first if needed. */
static void conn_next(struct conn *c)
{
	struct bench *b = c->w->b;
	if (c->op == OP_LIST || b->list_mode) {
		size_t i = atomic_fetch_add(&b->list_next, 1);
		if (i >= b->list_n)
			return;
		struct lreq *q = &b->list[i];
		c->list_i = i;
		c->op = OP_LIST;
		if (b->row->proto == PROTO_RESP) {
			/* the list's RESP commands are pre-encoded in body */
			wb_reserve(c, q->body_len);
			memcpy(c->wb, q->body, q->body_len);
			c->wlen = q->body_len;
			c->woff = 0;
		} else {
			req_http(b, c, q->method, q->path, q->auth, q->body, q->body_len);
		}
	} else {
		if (!b->row->next(b, c))
			return;
	}
	c->sent_phase = (uint8_t)atomic_load_explicit(&b->phase, memory_order_relaxed);
	conn_send(c, mono_ns());
}

void conn_send(struct conn *c, uint64_t now)
{
	c->busy = true;
	c->w->busy++;
	c->t0_ns = now;
	if (c->fd < 0) {
		if (conn_open(c) < 0) {
			c->w->sock_errors++;
			conn_lost(c);
		}
		return; /* written once connected */
	}
	conn_write(c);
}

static void conn_event(struct conn *c, uint32_t events)
{
	struct bench *b = c->w->b;
	if (c->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			c->w->sock_errors++;
			conn_lost(c);
			conn_close(c);
			if (atomic_load(&b->phase) < PH_DRAIN) {
				sleep_s(0.01); /* the server refused: do not spin */
				if (c != b->clock_conn)
					conn_next(c);
			}
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		c->connecting = false;
		if (c->busy)
			conn_write(c);
		else
			ep_set(c, false);
		return;
	}
	if (events & EPOLLOUT)
		conn_write(c);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
}


void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct epoll_event evs[256];
	for (uint32_t i = 0; i < w->n; i++)
		if (w->conns[i] != b->clock_conn)
			conn_next(w->conns[i]);
	for (;;) {
		int ph = atomic_load(&b->phase);
		if (ph == PH_STOP)
			break;
		if (b->list_mode && atomic_load(&b->list_left) == 0)
			break;
		if (ph == PH_DRAIN && w->busy == 0)
			break;
		int n = epoll_wait(w->ep, evs, 256, 20);
		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		if (b->clock_conn && b->clock_conn->w == w)
			b->row->tick(w, mono_ns());
		if (b->list_mode) {
			/* idle connections pick up list entries left by broken ones */
			for (uint32_t i = 0; i < w->n; i++)
				if (!w->conns[i]->busy && atomic_load(&b->list_next) < b->list_n)
					conn_next(w->conns[i]);
		}
	}
	for (uint32_t i = 0; i < w->n; i++) {
		struct conn *c = w->conns[i];
		if (c->busy) {
			w->unanswered++;
			c->busy = false;
			w->busy--;
			if (c->op == OP_LIST)
				atomic_fetch_sub(&b->list_left, 1);
			else if (b->row->lost)
				b->row->lost(b, c);
		}
	}
	return NULL;
}

/* Creates the workers and their connections (conns of them; plus the tick
 * connection on worker 0 when tick). */
void workers_make(struct bench *b, uint32_t conns, uint32_t threads, bool tick)
{
	if (threads > conns)
		threads = conns;
	b->workers = xalloc(sizeof(struct worker) * threads);
	b->threads = threads;
	b->clock_conn = NULL;
	for (uint32_t t = 0; t < threads; t++) {
		struct worker *w = &b->workers[t];
		w->b = b;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0)
			die("epoll_create1: %s", strerror(errno));
		w->conns = xalloc(sizeof(struct conn *) * (conns / threads + 2));
	}
	for (uint32_t i = 0; i < conns + (tick ? 1 : 0); i++) {
		struct worker *w = &b->workers[i < conns ? i % threads : 0];
		struct conn *c = xalloc(sizeof(*c));
		c->w = w;
		c->id = i;
		c->fd = -1;
		c->tmpl_phase = -1;
		c->rng = b->seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull + 1;
		if (i == conns) {
			b->clock_conn = c;
			c->op = OP_CLOCK;
		}
		w->conns[w->n++] = c;
	}
}

void workers_free(struct bench *b)
{
	for (uint32_t t = 0; t < b->threads; t++) {
		struct worker *w = &b->workers[t];
		for (uint32_t i = 0; i < w->n; i++) {
			conn_close(w->conns[i]);
			free(w->conns[i]->wb);
			free(w->conns[i]->rb);
			free(w->conns[i]);
		}
		free(w->conns);
		close(w->ep);
	}
	free(b->workers);
	b->workers = NULL;
	b->clock_conn = NULL;
}

/* Sends every request of list (n) on up to SETUP_CONNS connections and
 * waits for every answer. Returns the number without an answer. */
size_t list_run(struct bench *b, struct lreq *list, size_t n)
{
	if (!n)
		return 0;
	b->list = list;
	b->list_n = n;
	atomic_store(&b->list_next, 0);
	atomic_store(&b->list_left, (uint32_t)n);
	b->list_mode = true;
	atomic_store(&b->phase, PH_RUN);
	uint32_t conns = n < SETUP_CONNS ? (uint32_t)n : SETUP_CONNS;
	uint32_t saved_threads = b->threads;
	workers_make(b, conns, 1, false);
	for (uint32_t i = 0; i < conns; i++)
		b->workers[0].conns[i]->op = OP_LIST;
	worker_main(&b->workers[0]);
	workers_free(b);
	b->threads = saved_threads;
	b->list_mode = false;
	size_t missing = 0;
	for (size_t i = 0; i < n; i++)
		missing += list[i].status == 0;
	return missing;
}

void lreq_set(struct lreq *q, const char *method, const char *path, const char *auth,
	      const char *body)
{
	snprintf(q->method, sizeof(q->method), "%s", method);
	q->path = strdup(path);
	q->auth = auth;
	q->body = body ? strdup(body) : NULL;
	q->body_len = body ? strlen(body) : 0;
	q->status = 0;
	q->answer = NULL;
}

void list_free(struct lreq *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].path);
		free(list[i].body);
		free(list[i].answer);
	}
	free(list);
}

/* One request, its answer in *q (the caller frees with list_free). */
struct lreq *call1(struct bench *b, const char *method, const char *path, const char *auth,
		   const char *body)
{
	struct lreq *q = xalloc(sizeof(*q));
	lreq_set(q, method, path, auth, body);
	list_run(b, q, 1);
	return q;
}
