/*
 * httpd.c: the HTTP/1.1 connection layer (httpd.h) on libh2o-evloop.
 *
 * Owns the loops and their threads, the listening sockets, every
 * connection's framing state, deadlines and budgets, and the streams.
 * Framing is picohttpparser's (phr_parse_request, phr_decode_chunked);
 * this file only applies RFC 9112's rules on top: which headers frame a
 * body, keep-alive by version and Connection, 100-continue.
 *
 * A connection's states and who moves it:
 *
 *   HEAD ---head() answers----------------------------> WRITING
 *     |  \--head() reads a body--> BODY --whole------> PARKED
 *     \--no body------------------------------------->  PARKED
 *   PARKED --respond() (in request() or wake())------> WRITING
 *   WRITING --written--> HEAD (next pipelined request, or idle)
 *   HEAD --stream_open() instead of respond()-------> STREAM (until closed)
 *
 * Invariants:
 *   - c->sock == NULL only for a PARKED connection whose socket failed:
 *     it is freed once its wake comes and its answer fails.
 *   - At most one h2o write in flight per connection (c->writing); an
 *     answer ready while "100 Continue" is being written waits in c->out.
 *   - c->timer is linked to idle_to (HEAD, nothing buffered), req_to (HEAD
 *     or BODY with bytes of a request in) or nothing.
 *   - A stream's pend/fly buffers are under its mutex; its conn pointer is
 *     cleared (under the mutex) before the connection is freed, so writers
 *     on other threads never touch a freed connection.
 */
#include "server/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o/memory.h>
#include <h2o/multithread.h>
#include <h2o/socket.h>
#include <h2o/socket/evloop.h>
#include <h2o/timeout.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/limits.h"

/* Headers in one request (more: 400). */
#define HTTPD_HEADERS_MAX 100
/* Accepts per wake-up of a listening socket (it is level-triggered: the
 * rest come at the next turn of the loop). */
#define HTTPD_ACCEPT_BURST 32
/* After accept ran out of descriptors, listen again this much later. */
#define HTTPD_ACCEPT_RETRY_MS 100
/* Lingering close: after answering a request whose body was not read
 * (past its bound, refused at its head, or a malformed request), the write
 * side is shut and what still comes is read and dropped until the client
 * closes, a pause of HTTPD_LINGER_IDLE_MS, or HTTPD_LINGER_MAX_MS in all.
 * Closing with unread input sends a reset, and a client still sending
 * would lose the answer. */
#define HTTPD_LINGER_IDLE_MS 1000
#define HTTPD_LINGER_MAX_MS 5000
#define HTTPD_LINGER_RCVBUF (256 << 10)

enum { C_HEAD, C_BODY, C_PARKED, C_WRITING, C_STREAM, C_LINGER };

struct loop {
	struct hf_httpd *d;
	unsigned index;
	pthread_t thread;
	h2o_evloop_t *ev;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t wakes, streams, ctl;
	h2o_multithread_message_t quiesce_msg, stop_msg;
	h2o_socket_t *listener;
	int listen_fd;
	h2o_timeout_t idle_to, req_to, accept_to, linger_to;
	h2o_timeout_entry_t accept_entry; /* accepting again after EMFILE */
	h2o_linklist_t conns;
	bool stopping;
	int64_t stop_deadline_ms;
	time_t date_s;
	char date[48]; /* "Date: ...\r\n" */
};

struct ip_count {
	struct ip_count *next;
	uint32_t n;
	char ip[48];
};
#define IP_BUCKETS 1024u

struct hf_httpd {
	struct hf_httpd_config cfg;
	struct hf_httpd_handler h;
	uint16_t port;
	struct loop *loops;
	atomic_uint conns, streams, quiesced, ready;
	atomic_uint_fast64_t refused, timeouts, streams_cut, accepted;
	pthread_mutex_t ip_lock;
	struct ip_count *ips[IP_BUCKETS];
};

struct hf_httpd_conn {
	h2o_linklist_t link; /* loop->conns */
	struct loop *l;
	h2o_socket_t *sock;
	void *user;
	h2o_timeout_entry_t timer;
	h2o_multithread_message_t wake_msg;
	uint8_t state;
	bool keep_alive, close_after, peer_eof, reading, writing, out_queued, done;
	bool chunked, too_large, in_request;
	bool body_unread; /* answered before its body was read: linger at close */
	int64_t linger_until_ms;
	bool in_head_with_body; /* in the head callback of a request with a body */
	int minor;
	size_t prev_len, head_len;
	uint64_t body_len, body_max;
	struct phr_chunked_decoder dec;
	size_t dec_end; /* input bytes decoded so far (from 0) */
	char *head_buf;
	h2o_iovec_t out[2];
	struct hf_httpd_stream *stream;
	char ip[48];
};

struct hf_httpd_stream {
	pthread_mutex_t mu;
	atomic_int refs;
	struct hf_httpd_conn *c; /* NULL once the connection is gone */
	struct loop *l;
	h2o_multithread_message_t msg;
	bool scheduled, ended, end_requested, flying;
	bool cut; /* past the bound: the loop closes it, even mid-write */
	char *pend, *fly;
	size_t pend_len, pend_cap, fly_len;
	size_t max;
};

static void process(struct hf_httpd_conn *c);
static void on_read(h2o_socket_t *sock, const char *err);
static void conn_close(struct hf_httpd_conn *c);
static void stream_pump(struct hf_httpd_stream *s);
static void stream_unref(struct hf_httpd_stream *s);

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- per-IP budget ---------------------------------------------------------- */

static uint32_t ip_hash(const char *ip)
{
	uint32_t h = 2166136261u;
	for (; *ip; ip++)
		h = (h ^ (uint8_t)*ip) * 16777619u;
	return h % IP_BUCKETS;
}

/* Counts one more connection from ip; false (nothing counted) past the cap. */
static bool ip_take(struct hf_httpd *d, const char *ip)
{
	bool ok = true;
	uint32_t b = ip_hash(ip);
	pthread_mutex_lock(&d->ip_lock);
	struct ip_count *e = d->ips[b];
	while (e && strcmp(e->ip, ip))
		e = e->next;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			ok = false;
		} else {
			snprintf(e->ip, sizeof(e->ip), "%s", ip);
			e->next = d->ips[b];
			d->ips[b] = e;
		}
	}
	if (e && e->n >= d->cfg.max_connections_per_ip)
		ok = false;
	else if (e)
		e->n++;
	if (e && e->n == 0) { /* made here and refused: drop it again */
		struct ip_count **p = &d->ips[b];
		while (*p != e)
			p = &(*p)->next;
		*p = e->next;
		free(e);
	}
	pthread_mutex_unlock(&d->ip_lock);
	return ok;
}

static void ip_give(struct hf_httpd *d, const char *ip)
{
	uint32_t b = ip_hash(ip);
	pthread_mutex_lock(&d->ip_lock);
	struct ip_count **p = &d->ips[b];
	while (*p && strcmp((*p)->ip, ip))
		p = &(*p)->next;
	if (*p && --(*p)->n == 0) {
		struct ip_count *e = *p;
		*p = e->next;
		free(e);
	}
	pthread_mutex_unlock(&d->ip_lock);
}

/* ---- deadlines -------------------------------------------------------------- */

static void on_deadline(h2o_timeout_entry_t *entry)
{
	struct hf_httpd_conn *c = H2O_STRUCT_FROM_MEMBER(struct hf_httpd_conn, timer, entry);
	struct hf_httpd *d = c->l->d;
	if (c->state == C_LINGER) {
		conn_close(c);
		return;
	}
	atomic_fetch_add(&d->timeouts, 1);
	if (d->h.timeout)
		d->h.timeout(d->h.ctx, c->user);
	conn_close(c);
}

static void arm(struct hf_httpd_conn *c, h2o_timeout_t *to)
{
	if (h2o_timeout_is_linked(&c->timer))
		h2o_timeout_unlink(&c->timer);
	if (to)
		h2o_timeout_link(c->l->ev, to, &c->timer);
}

/* ---- connections -------------------------------------------------------------- */

static void conn_close(struct hf_httpd_conn *c)
{
	struct hf_httpd *d = c->l->d;
	HF_ASSERT(c->state != C_PARKED || c->done);
	arm(c, NULL);
	if (c->stream) {
		struct hf_httpd_stream *s = c->stream;
		pthread_mutex_lock(&s->mu);
		s->c = NULL;
		s->ended = true;
		pthread_mutex_unlock(&s->mu);
		c->stream = NULL;
		atomic_fetch_sub(&d->streams, 1);
		if (d->h.sent)
			d->h.sent(d->h.ctx, c->user, true);
		stream_unref(s);
	} else {
		atomic_fetch_sub(&d->conns, 1);
	}
	if (c->sock)
		h2o_socket_close(c->sock);
	c->sock = NULL;
	free(c->head_buf);
	h2o_linklist_unlink(&c->link);
	ip_give(d, c->ip);
	if (d->h.conn_close)
		d->h.conn_close(d->h.ctx, c->user);
	free(c);
}

/* The socket failed. A parked request still owns the connection's memory:
 * only the socket goes now, the rest when the wake comes. */
static void conn_fail(struct hf_httpd_conn *c)
{
	if (c->state == C_PARKED && !c->done) {
		if (c->sock)
			h2o_socket_close(c->sock);
		c->sock = NULL;
		return;
	}
	conn_close(c);
}

static const char *reason(unsigned status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static const char *date_line(struct loop *l)
{
	time_t now = time(NULL);
	if (now != l->date_s) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(l->date, sizeof(l->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		l->date_s = now;
	}
	return l->date;
}

static void on_written(h2o_socket_t *sock, const char *err);

static void write_out(struct hf_httpd_conn *c, h2o_iovec_t *bufs, size_t n)
{
	HF_ASSERT(!c->writing);
	c->writing = true;
	h2o_socket_write(c->sock, bufs, n, on_written);
}

static void on_linger_read(h2o_socket_t *sock, const char *err)
{
	struct hf_httpd_conn *c = sock->data;
	/* dropped, but for one byte: a buffer emptied is freed and the next
	 * read allocates again; this one is reused (its size stays about
	 * twice what one wake-up reads) */
	if (sock->input->size > 1)
		h2o_buffer_consume(&sock->input, sock->input->size - 1);
	if (err || mono_ms() >= c->linger_until_ms) {
		conn_close(c);
		return;
	}
	arm(c, &c->l->linger_to);
}

/* The answer is out; the client may still be sending a body we refused. */
static void linger(struct hf_httpd_conn *c)
{
	c->state = C_LINGER;
	c->linger_until_ms = mono_ms() + HTTPD_LINGER_MAX_MS;
	int fd = h2o_socket_get_fd(c->sock);
	shutdown(fd, SHUT_WR);
	/* h2o reads all that is there at each wake-up: a small receive buffer
	 * keeps what a sender can make it hold small (it was 40 MiB a
	 * connection for a client sending as fast as loopback goes) */
	int small = HTTPD_LINGER_RCVBUF;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	h2o_buffer_consume(&c->sock->input, c->sock->input->size);
	if (c->reading)
		h2o_socket_read_stop(c->sock);
	c->reading = true;
	h2o_socket_read_start(c->sock, on_linger_read);
	arm(c, &c->l->linger_to);
}

/* The connection's next step after an answer or a stream's flush. */
static void after_answer(struct hf_httpd_conn *c, bool ok)
{
	struct hf_httpd *d = c->l->d;
	free(c->head_buf);
	c->head_buf = NULL;
	if (d->h.sent)
		d->h.sent(d->h.ctx, c->user, ok);
	if (ok && c->sock && (c->too_large || c->body_unread) && !c->peer_eof && !c->l->stopping) {
		linger(c);
		return;
	}
	if (!ok || c->close_after || !c->sock || c->l->stopping) {
		conn_close(c);
		return;
	}
	c->done = false;
	c->state = C_HEAD;
	c->prev_len = 0;
	if (c->sock->input->size == 0 && c->peer_eof) {
		conn_close(c);
		return;
	}
	if (!c->reading && !c->peer_eof) {
		c->reading = true;
		h2o_socket_read_start(c->sock, on_read);
	}
	process(c);
}

static void on_written(h2o_socket_t *sock, const char *err)
{
	struct hf_httpd_conn *c = sock->data;
	c->writing = false;
	if (c->state == C_STREAM) {
		struct hf_httpd_stream *s = c->stream;
		pthread_mutex_lock(&s->mu);
		s->flying = false;
		free(s->fly);
		s->fly = NULL;
		s->fly_len = 0;
		pthread_mutex_unlock(&s->mu);
		if (err) {
			conn_close(c);
			return;
		}
		stream_pump(s);
		return;
	}
	if (c->out_queued) { /* "100 Continue" went out; now the answer */
		c->out_queued = false;
		if (err) {
			after_answer(c, false);
			return;
		}
		write_out(c, c->out, 2);
		return;
	}
	if (c->state != C_WRITING) { /* "100 Continue" written, body to come */
		if (err)
			conn_fail(c);
		return;
	}
	after_answer(c, err == NULL);
}

int hf_httpd_respond(struct hf_httpd_conn *c, unsigned status, const char *headers, size_t headers_len,
		     const char *body, size_t body_len, bool close)
{
	HF_ASSERT(c->state == C_PARKED && !c->done);
	c->done = true;
	if (!c->sock) /* the client left while the request was parked */
		return -1;
	arm(c, NULL); /* writing: the server's time, not the client's */
	/* answered at the head, its body unread: nothing delimits what follows */
	if (c->in_head_with_body)
		close = true;
	bool keep = c->keep_alive && !close && !c->close_after && !c->too_large && !c->l->stopping;
	c->close_after = !keep;
	size_t cap = 160 + headers_len;
	c->head_buf = malloc(cap);
	if (!c->head_buf) { /* the connection goes, as if its client had left */
		h2o_socket_close(c->sock);
		c->sock = NULL;
		return -1;
	}
	const char *conn = !keep ? "Connection: close\r\n" : c->minor == 0 ? "Connection: keep-alive\r\n" : "";
	int n = snprintf(c->head_buf, cap, "HTTP/1.1 %u %s\r\n%sContent-Length: %zu\r\n%s", status,
			 reason(status), date_line(c->l), body_len, conn);
	HF_ASSERT(n > 0 && (size_t)n + headers_len + 2 <= cap);
	memcpy(c->head_buf + n, headers, headers_len);
	n += (int)headers_len;
	memcpy(c->head_buf + n, "\r\n", 2);
	n += 2;
	c->state = C_WRITING;
	c->out[0] = h2o_iovec_init(c->head_buf, (size_t)n);
	c->out[1] = h2o_iovec_init(body, body_len);
	if (c->writing) {
		c->out_queued = true;
		return 0;
	}
	write_out(c, c->out, body_len ? 2 : 1);
	return 0;
}

/* The layer's own refusals, before any handler sees the request: the
 * whole answer in one buffer, and the connection closes after it. */
static void refuse(struct hf_httpd_conn *c, unsigned status, const char *code, const char *message)
{
	char body[192];
	int bl = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
			  message);
	size_t cap = 256 + (size_t)bl;
	free(c->head_buf);
	c->head_buf = malloc(cap);
	if (!c->head_buf) {
		conn_close(c);
		return;
	}
	int n = snprintf(c->head_buf, cap,
			 "HTTP/1.1 %u %s\r\n%sContent-Length: %d\r\nConnection: close\r\n"
			 "Content-Type: application/json\r\n\r\n%s",
			 status, reason(status), date_line(c->l), bl, body);
	c->done = true;
	c->close_after = true;
	c->body_unread = true; /* whatever follows is not read */
	c->state = C_WRITING;
	arm(c, NULL);
	c->out[0] = h2o_iovec_init(c->head_buf, (size_t)n);
	c->out[1] = h2o_iovec_init(NULL, 0);
	struct hf_httpd *d = c->l->d;
	if (d->h.refused)
		d->h.refused(d->h.ctx, c->user, status, code);
	if (c->reading) {
		c->reading = false;
		h2o_socket_read_stop(c->sock);
	}
	if (c->writing) {
		c->out_queued = true;
		return;
	}
	write_out(c, c->out, 1);
}

const char *hf_httpd_header(const struct hf_httpd_head *h, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < h->n_headers; i++) {
		const struct phr_header *e = &h->headers[i];
		if (e->name_len == nl && !strncasecmp(e->name, name, nl)) {
			*len = e->value_len;
			return e->value;
		}
	}
	*len = 0;
	return NULL;
}

static bool token_in(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok);
	size_t i = 0;
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < len && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

/* Counts what frames the request (httpd.h struct hf_httpd_head). false: a
 * header line the layer refuses (obs-fold). */
static bool framing(struct hf_httpd_head *h)
{
	bool conn_close_tok = false, conn_keep = false;
	for (size_t i = 0; i < h->n_headers; i++) {
		const struct phr_header *e = &h->headers[i];
		if (!e->name)
			return false;
		if (e->name_len == 14 && !strncasecmp(e->name, "content-length", 14)) {
			h->n_content_length++;
			uint64_t v = 0;
			bool ok = e->value_len > 0 && e->value_len <= 15;
			for (size_t k = 0; ok && k < e->value_len; k++) {
				if (e->value[k] < '0' || e->value[k] > '9')
					ok = false;
				else
					v = v * 10 + (uint64_t)(e->value[k] - '0');
			}
			h->cl_valid = ok;
			h->content_length = v;
		} else if (e->name_len == 17 && !strncasecmp(e->name, "transfer-encoding", 17)) {
			h->n_transfer_encoding++;
			h->te_chunked = e->value_len == 7 && !strncasecmp(e->value, "chunked", 7);
		} else if (e->name_len == 4 && !strncasecmp(e->name, "host", 4)) {
			h->n_host++;
		} else if (e->name_len == 6 && !strncasecmp(e->name, "expect", 6)) {
			h->expect_continue = e->value_len == 12 && !strncasecmp(e->value, "100-continue", 12);
		} else if (e->name_len == 10 && !strncasecmp(e->name, "connection", 10)) {
			conn_close_tok |= token_in(e->value, e->value_len, "close");
			conn_keep |= token_in(e->value, e->value_len, "keep-alive");
		}
	}
	if (h->n_content_length != 1)
		h->cl_valid = false;
	if (h->n_transfer_encoding != 1)
		h->te_chunked = false;
	h->keep_alive = h->minor >= 1 ? !conn_close_tok : (conn_keep && !conn_close_tok);
	return true;
}

static void deliver(struct hf_httpd_conn *c, const char *body, size_t len, size_t consumed)
{
	struct hf_httpd *d = c->l->d;
	arm(c, NULL);
	c->in_request = false;
	c->state = C_PARKED;
	c->done = false;
	d->h.request(d->h.ctx, c->user, c, body, len, c->too_large);
	if (c->sock && consumed)
		h2o_buffer_consume(&c->sock->input, consumed);
	if (!c->sock && c->done) { /* answered at once on a connection already gone */
		after_answer(c, false);
		return;
	}
	if (c->state == C_PARKED && c->sock && c->sock->input->size > HF_HTTP_PIPELINE_MAX && c->reading) {
		c->reading = false;
		h2o_socket_read_stop(c->sock);
	}
}

static void parse_head(struct hf_httpd_conn *c)
{
	struct hf_httpd *d = c->l->d;
	h2o_buffer_t *in = c->sock->input;
	struct phr_header headers[HTTPD_HEADERS_MAX];
	struct hf_httpd_head h;
	memset(&h, 0, sizeof(h));
	h.n_headers = HTTPD_HEADERS_MAX;
	int n = phr_parse_request(in->bytes, in->size, &h.method, &h.method_len, &h.target, &h.target_len,
				  &h.minor, headers, &h.n_headers, c->prev_len);
	c->prev_len = in->size;
	if (n == -2) {
		if (in->size > HF_HTTP_HEADER_MAX) {
			char msg[80];
			snprintf(msg, sizeof(msg), "the request headers are larger than %u bytes", HF_HTTP_HEADER_MAX);
			refuse(c, 431, "payload_too_large", msg);
		} else if (c->peer_eof) {
			conn_close(c); /* half a request, and no more coming */
		}
		return;
	}
	h.headers = headers;
	if (n < 0 || !framing(&h)) {
		refuse(c, 400, "bad_request", "malformed request line or headers");
		return;
	}
	h.head_bytes = (size_t)n;
	c->head_len = (size_t)n;
	c->keep_alive = h.keep_alive;
	c->minor = h.minor;
	c->close_after = false;
	c->too_large = false;
	c->body_unread = false;
	c->chunked = false;
	c->body_len = 0;
	c->body_max = 0;
	bool has_body = h.n_transfer_encoding || (h.n_content_length && h.content_length);
	c->state = C_PARKED; /* the head callback may answer */
	c->done = false;
	uint64_t body_max = 0;
	c->in_head_with_body = has_body;
	int v = d->h.head(d->h.ctx, c->user, c, &h, &body_max);
	c->in_head_with_body = false;
	if (v == HF_HTTPD_ANSWERED) {
		HF_ASSERT(c->done && (!has_body || c->close_after || !c->sock));
		c->in_request = false;
		c->body_unread = has_body;
		if (c->sock)
			h2o_buffer_consume(&c->sock->input, has_body ? c->sock->input->size : (size_t)n);
		if (!c->sock)
			after_answer(c, false);
		return;
	}
	c->body_max = body_max;
	if (!has_body) {
		deliver(c, NULL, 0, (size_t)n);
		return;
	}
	/* the handler refused what it cannot frame (several lengths, an unknown
	 * transfer coding); what is left is one chunked, or one valid length */
	if (h.te_chunked) {
		c->chunked = true;
		memset(&c->dec, 0, sizeof(c->dec));
		c->dec.consume_trailer = 1;
		c->dec_end = (size_t)n;
	} else {
		HF_ASSERT(h.cl_valid);
		c->body_len = h.content_length;
		if (c->body_len > body_max) {
			c->too_large = true;
			c->close_after = true;
			deliver(c, NULL, 0, 0);
			return;
		}
	}
	c->state = C_BODY;
	if (h.expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		c->out[0] = h2o_iovec_init(cont, sizeof(cont) - 1);
		write_out(c, c->out, 1);
	}
	process(c);
}

static void read_body(struct hf_httpd_conn *c)
{
	h2o_buffer_t *in = c->sock->input;
	if (!c->chunked) {
		if (in->size < c->head_len + c->body_len) {
			if (c->peer_eof)
				conn_close(c);
			return;
		}
		deliver(c, in->bytes + c->head_len, (size_t)c->body_len, c->head_len + (size_t)c->body_len);
		return;
	}
	size_t avail = in->size - c->dec_end;
	if (avail == 0) {
		if (c->peer_eof)
			conn_close(c);
		return;
	}
	ssize_t left = phr_decode_chunked(&c->dec, in->bytes + c->dec_end, &avail);
	in->size = c->dec_end + avail;
	c->dec_end = in->size;
	if (left != -1 && c->dec_end - c->head_len > c->body_max) {
		c->too_large = true;
		c->close_after = true;
		if (c->reading) {
			c->reading = false;
			h2o_socket_read_stop(c->sock);
		}
		deliver(c, NULL, 0, in->size);
		return;
	}
	if (left == -1) {
		refuse(c, 400, "bad_request", "broken chunked encoding");
		return;
	}
	if (left == -2) {
		if (c->peer_eof)
			conn_close(c);
		return;
	}
	size_t body_len = c->dec_end - c->head_len;
	in->size += (size_t)left; /* the pipelined bytes after the body */
	deliver(c, in->bytes + c->head_len, body_len, c->head_len + body_len);
}

static void process(struct hf_httpd_conn *c)
{
	if (!c->sock)
		return;
	switch (c->state) {
	case C_HEAD:
		if (c->sock->input->size == 0) {
			if (c->peer_eof) {
				conn_close(c);
				return;
			}
			arm(c, &c->l->idle_to);
			return;
		}
		if (!c->in_request) { /* its first bytes: the whole-request deadline */
			c->in_request = true;
			arm(c, &c->l->req_to);
		}
		parse_head(c);
		return;
	case C_BODY:
		read_body(c);
		return;
	case C_STREAM:
		h2o_buffer_consume(&c->sock->input, c->sock->input->size); /* a watcher says nothing */
		return;
	default:
		return; /* PARKED, WRITING: the next request waits for this answer (LINGER reads on its own) */
	}
}

static void on_read(h2o_socket_t *sock, const char *err)
{
	struct hf_httpd_conn *c = sock->data;
	if (err) {
		if (err == h2o_socket_error_closed && (c->state == C_PARKED || c->state == C_WRITING)) {
			/* half-closed: the answers it asked for still go out */
			c->peer_eof = true;
			c->reading = false;
			h2o_socket_read_stop(sock);
			return;
		}
		if (err == h2o_socket_error_closed && c->state == C_HEAD && c->sock->input->size) {
			c->peer_eof = true;
			c->reading = false;
			h2o_socket_read_stop(sock);
			process(c);
			return;
		}
		conn_fail(c);
		return;
	}
	if (c->state == C_PARKED || c->state == C_WRITING) {
		if (sock->input->size > HF_HTTP_PIPELINE_MAX) {
			c->reading = false;
			h2o_socket_read_stop(sock);
		}
		return;
	}
	process(c);
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_accept_again(h2o_timeout_entry_t *entry)
{
	struct loop *l = H2O_STRUCT_FROM_MEMBER(struct loop, accept_entry, entry);
	if (l->listener)
		h2o_socket_read_start(l->listener, on_accept);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	struct loop *l = listener->data;
	struct hf_httpd *d = l->d;
	if (err)
		return;
	for (int i = 0; i < HTTPD_ACCEPT_BURST; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		if (!sock) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: the pending connection would wake
				 * this (level-triggered) loop at once, forever; listen
				 * again a little later */
				h2o_socket_read_stop(listener);
				h2o_timeout_link(l->ev, &l->accept_to, &l->accept_entry);
				atomic_fetch_add(&d->refused, 1);
			}
			return;
		}
		struct sockaddr_storage ss;
		char ip[48] = "-";
		socklen_t sl = h2o_socket_getpeername(sock, (struct sockaddr *)&ss);
		if (sl && ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
		else if (sl && ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
		if (atomic_fetch_add(&d->conns, 1) >= d->cfg.max_connections) {
			atomic_fetch_sub(&d->conns, 1);
			atomic_fetch_add(&d->refused, 1);
			h2o_socket_close(sock);
			continue;
		}
		if (!ip_take(d, ip)) {
			atomic_fetch_sub(&d->conns, 1);
			atomic_fetch_add(&d->refused, 1);
			h2o_socket_close(sock);
			continue;
		}
		struct hf_httpd_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			atomic_fetch_sub(&d->conns, 1);
			ip_give(d, ip);
			h2o_socket_close(sock);
			continue;
		}
		c->l = l;
		c->sock = sock;
		snprintf(c->ip, sizeof(c->ip), "%s", ip);
		c->timer.cb = on_deadline;
		sock->data = c;
		h2o_linklist_insert(&l->conns, &c->link);
		c->user = d->h.conn_open ? d->h.conn_open(d->h.ctx, c, ip) : NULL;
		if (d->h.conn_open && !c->user) {
			conn_close(c);
			continue;
		}
		atomic_fetch_add(&d->accepted, 1);
		c->state = C_HEAD;
		c->reading = true;
		arm(c, &l->idle_to);
		h2o_socket_read_start(sock, on_read);
	}
}

/* ---- wake-ups from other threads ------------------------------------------------ */

void hf_httpd_wake(struct hf_httpd_conn *c)
{
	h2o_multithread_send_message(&c->l->wakes, &c->wake_msg);
}

static void on_wakes(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	struct loop *l = H2O_STRUCT_FROM_MEMBER(struct loop, wakes, receiver);
	struct hf_httpd *d = l->d;
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		h2o_linklist_unlink(&m->link);
		struct hf_httpd_conn *c = H2O_STRUCT_FROM_MEMBER(struct hf_httpd_conn, wake_msg, m);
		HF_ASSERT(c->state == C_PARKED && !c->done);
		d->h.wake(d->h.ctx, c->user, c);
		HF_ASSERT(c->done);
		if (!c->sock)
			after_answer(c, false);
	}
}

/* ---- streams -------------------------------------------------------------------- */

struct hf_httpd_stream *hf_httpd_stream_open(struct hf_httpd_conn *c, unsigned status,
					     const char *headers, size_t headers_len)
{
	struct hf_httpd *d = c->l->d;
	HF_ASSERT(c->state == C_PARKED && !c->done);
	if (!c->sock)
		return NULL;
	if (atomic_fetch_add(&d->streams, 1) >= d->cfg.max_streams) {
		atomic_fetch_sub(&d->streams, 1);
		return NULL;
	}
	struct hf_httpd_stream *s = calloc(1, sizeof(*s));
	size_t cap = 128 + headers_len;
	char *head = malloc(cap);
	if (!s || !head) {
		free(s);
		free(head);
		atomic_fetch_sub(&d->streams, 1);
		return NULL;
	}
	atomic_fetch_sub(&d->conns, 1); /* from the connection budget to the streams' */
	int n = snprintf(head, cap, "HTTP/1.1 %u %s\r\n%sConnection: close\r\n", status, reason(status),
			 date_line(c->l));
	memcpy(head + n, headers, headers_len);
	memcpy(head + n + headers_len, "\r\n", 2);
	pthread_mutex_init(&s->mu, NULL);
	atomic_init(&s->refs, 2);
	s->c = c;
	s->l = c->l;
	s->max = d->cfg.stream_buffer_max;
	s->pend = head;
	s->pend_len = (size_t)n + headers_len + 2;
	s->pend_cap = cap;
	c->stream = s;
	c->state = C_STREAM;
	c->done = true;
	c->close_after = true;
	arm(c, NULL);
	if (!c->reading) {
		c->reading = true;
		h2o_socket_read_start(c->sock, on_read);
	}
	stream_pump(s);
	return s;
}

static void stream_unref(struct hf_httpd_stream *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1) {
		pthread_mutex_destroy(&s->mu);
		free(s->pend);
		free(s->fly);
		free(s);
	}
}

/* On the loop: write what is queued, or close a stream that was cut or
 * ended with nothing left to send. */
static void stream_pump(struct hf_httpd_stream *s)
{
	pthread_mutex_lock(&s->mu);
	struct hf_httpd_conn *c = s->c;
	if (c && s->cut) { /* the client does not read: a write may hang, do not wait for it */
		pthread_mutex_unlock(&s->mu);
		atomic_fetch_add(&s->l->d->streams_cut, 1);
		conn_close(c);
		return;
	}
	if (!c || s->flying) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (s->pend_len > s->max) { /* cut: the client does not read */
		pthread_mutex_unlock(&s->mu);
		atomic_fetch_add(&s->l->d->streams_cut, 1);
		conn_close(c);
		return;
	}
	if (s->pend_len) {
		s->fly = s->pend;
		s->fly_len = s->pend_len;
		s->pend = NULL;
		s->pend_len = s->pend_cap = 0;
		s->flying = true;
		h2o_iovec_t b = h2o_iovec_init(s->fly, s->fly_len);
		pthread_mutex_unlock(&s->mu);
		write_out(c, &b, 1);
		return;
	}
	bool end = s->end_requested || s->l->stopping;
	pthread_mutex_unlock(&s->mu);
	if (end)
		conn_close(c);
}

static void stream_schedule_locked(struct hf_httpd_stream *s)
{
	if (s->scheduled || (s->flying && !s->cut))
		return;
	s->scheduled = true;
	atomic_fetch_add(&s->refs, 1);
	h2o_multithread_send_message(&s->l->streams, &s->msg);
}

void hf_httpd_stream_allow(struct hf_httpd_stream *s, size_t bytes)
{
	pthread_mutex_lock(&s->mu);
	s->max += bytes;
	pthread_mutex_unlock(&s->mu);
}

int hf_httpd_stream_write(struct hf_httpd_stream *s, const char *data, size_t len)
{
	pthread_mutex_lock(&s->mu);
	if (s->ended || s->end_requested) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (s->pend_len + s->fly_len + len > s->max) {
		s->ended = true;
		s->cut = true;
		stream_schedule_locked(s);
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (s->pend_len + len > s->pend_cap) {
		size_t cap = s->pend_cap ? s->pend_cap * 2 : 1024;
		while (cap < s->pend_len + len)
			cap *= 2;
		char *p = realloc(s->pend, cap);
		if (!p) {
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		s->pend = p;
		s->pend_cap = cap;
	}
	memcpy(s->pend + s->pend_len, data, len);
	s->pend_len += len;
	stream_schedule_locked(s);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void hf_httpd_stream_end(struct hf_httpd_stream *s)
{
	pthread_mutex_lock(&s->mu);
	if (!s->end_requested && !s->ended) {
		s->end_requested = true;
		stream_schedule_locked(s);
	}
	pthread_mutex_unlock(&s->mu);
}

bool hf_httpd_stream_ended(struct hf_httpd_stream *s)
{
	pthread_mutex_lock(&s->mu);
	bool e = s->ended || s->end_requested;
	pthread_mutex_unlock(&s->mu);
	return e;
}

void hf_httpd_stream_release(struct hf_httpd_stream *s)
{
	stream_unref(s);
}

static void on_streams(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	(void)receiver;
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		h2o_linklist_unlink(&m->link);
		struct hf_httpd_stream *s = H2O_STRUCT_FROM_MEMBER(struct hf_httpd_stream, msg, m);
		pthread_mutex_lock(&s->mu);
		s->scheduled = false;
		pthread_mutex_unlock(&s->mu);
		stream_pump(s);
		stream_unref(s);
	}
}

/* ---- loops ----------------------------------------------------------------------- */

static void on_ctl(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	struct loop *l = H2O_STRUCT_FROM_MEMBER(struct loop, ctl, receiver);
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		h2o_linklist_unlink(&m->link);
		if (m == &l->quiesce_msg) {
			if (l->listener) {
				h2o_socket_close(l->listener); /* closes listen_fd */
				l->listener = NULL;
			}
			atomic_fetch_add(&l->d->quiesced, 1);
		} else if (m == &l->stop_msg) {
			l->stopping = true;
			l->stop_deadline_ms = mono_ms() + 2000;
			/* streams: send what is queued, then end; idle connections:
			 * close now; writing ones close after their answer */
			h2o_linklist_t *n = l->conns.next;
			while (n != &l->conns) {
				struct hf_httpd_conn *c = H2O_STRUCT_FROM_MEMBER(struct hf_httpd_conn, link, n);
				n = n->next;
				if (c->state == C_STREAM)
					stream_pump(c->stream);
				else if (c->state == C_HEAD || c->state == C_BODY || c->state == C_LINGER)
					conn_close(c);
			}
		}
	}
}

/* Everything of a loop is made and unmade on its own thread: h2o's socket
 * buffers are recycled through per-thread pools (h2o_socket_buffer_prototype
 * is __thread), so a socket must live on the thread that made it. */
static void loop_setup(struct loop *l)
{
	struct hf_httpd_config *cfg = &l->d->cfg;
	l->ev = h2o_evloop_create();
	h2o_linklist_init_anchor(&l->conns);
	h2o_timeout_init(l->ev, &l->idle_to, cfg->idle_timeout_ms);
	h2o_timeout_init(l->ev, &l->req_to, cfg->request_timeout_ms);
	h2o_timeout_init(l->ev, &l->accept_to, HTTPD_ACCEPT_RETRY_MS);
	h2o_timeout_init(l->ev, &l->linger_to, HTTPD_LINGER_IDLE_MS);
	l->accept_entry.cb = on_accept_again;
	l->queue = h2o_multithread_create_queue(l->ev);
	h2o_multithread_register_receiver(l->queue, &l->wakes, on_wakes);
	h2o_multithread_register_receiver(l->queue, &l->streams, on_streams);
	h2o_multithread_register_receiver(l->queue, &l->ctl, on_ctl);
	l->listener = h2o_evloop_socket_create(l->ev, l->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
	l->listener->data = l;
	h2o_socket_read_start(l->listener, on_accept);
}

static void loop_teardown(struct loop *l)
{
	while (!h2o_linklist_is_empty(&l->conns)) {
		struct hf_httpd_conn *c = H2O_STRUCT_FROM_MEMBER(struct hf_httpd_conn, link, l->conns.next);
		if (c->state == C_PARKED && !c->done) { /* cannot happen: the caller waited */
			h2o_linklist_unlink(&c->link);
			continue;
		}
		conn_close(c);
	}
	if (l->listener)
		h2o_socket_close(l->listener);
	l->listener = NULL;
	h2o_evloop_run(l->ev, 0); /* frees the sockets closed above */
	h2o_multithread_unregister_receiver(l->queue, &l->wakes);
	h2o_multithread_unregister_receiver(l->queue, &l->streams);
	h2o_multithread_unregister_receiver(l->queue, &l->ctl);
	h2o_multithread_destroy_queue(l->queue);
	free(l->queue); /* h2o 2.2.5's destroy does not */
	h2o_evloop_run(l->ev, 0);
	h2o_timeout_dispose(l->ev, &l->idle_to);
	h2o_timeout_dispose(l->ev, &l->req_to);
	if (h2o_timeout_is_linked(&l->accept_entry))
		h2o_timeout_unlink(&l->accept_entry);
	h2o_timeout_dispose(l->ev, &l->accept_to);
	h2o_timeout_dispose(l->ev, &l->linger_to);
	h2o_evloop_destroy(l->ev);
	if (l->d->h.thread_end)
		l->d->h.thread_end(l->d->h.ctx);
	/* this thread's pool of recycled socket buffers (h2o keeps it until
	 * the process ends; a sanitizer build would report it) */
	h2o_mem_recycle_t *r = &h2o_socket_buffer_prototype.allocator;
	while (r->_link) {
		void *chunk = r->_link;
		r->_link = *(void **)chunk; /* a recycled chunk starts with its next */
		free(chunk);
	}
	r->cnt = 0;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	char name[16];
	snprintf(name, sizeof(name), "hf-http-%u", l->index);
	pthread_setname_np(pthread_self(), name);
	loop_setup(l);
	atomic_fetch_add(&l->d->ready, 1);
	for (;;) {
		if (l->stopping && (h2o_linklist_is_empty(&l->conns) || mono_ms() > l->stop_deadline_ms))
			break;
		h2o_evloop_run(l->ev, l->stopping ? 50 : INT32_MAX);
		if (l->d->h.turn_end)
			l->d->h.turn_end(l->d->h.ctx);
	}
	loop_teardown(l);
	return NULL;
}

static int listen_socket(const struct sockaddr *sa, socklen_t len, int backlog, bool reuseport)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(fd, sa, len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

struct hf_httpd *hf_httpd_start(const struct hf_httpd_config *cfg, const struct hf_httpd_handler *h,
				char *err, size_t err_cap)
{
	HF_ASSERT(cfg->threads >= 1 && h->head && h->request && h->wake);
	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	char port[8];
	snprintf(port, sizeof(port), "%u", cfg->port);
	int gai = getaddrinfo(cfg->host, port, &hints, &ai);
	if (gai != 0 || !ai) {
		snprintf(err, err_cap, "--listen %s: %s", cfg->host, gai_strerror(gai));
		return NULL;
	}
	struct sockaddr_storage addr;
	socklen_t addr_len = ai->ai_addrlen;
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);

	struct hf_httpd *d = calloc(1, sizeof(*d));
	if (!d || !(d->loops = calloc(cfg->threads, sizeof(*d->loops)))) {
		free(d);
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	d->cfg = *cfg;
	d->h = *h;
	pthread_mutex_init(&d->ip_lock, NULL);
	/* A listening socket per loop (SO_REUSEPORT: the kernel spreads new
	 * connections over them by hash). A socket without SO_REUSEPORT is
	 * bound first and closed, so that a port another server holds is
	 * refused (SO_REUSEPORT alone would share it and take half its
	 * traffic); it also picks the port when 0 is asked. One shared
	 * listening socket was tried: the first loop woken took nearly every
	 * connection of a burst, and the other loop idled. */
	/* Port 0: the first listener's own bind picks the port (closing a
	 * probe first left a gap in which another socket could take it: a
	 * test's restart under load once failed so). */
	bool any_port = cfg->port == 0;
	int probe = listen_socket((struct sockaddr *)&addr, addr_len,
				  any_port ? (int)cfg->backlog : 1, any_port);
	if (probe < 0) {
		snprintf(err, err_cap, "cannot listen on %s:%u (%s)", cfg->host, cfg->port, strerror(errno));
		free(d->loops);
		free(d);
		return NULL;
	}
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	getsockname(probe, (struct sockaddr *)&got, &gl);
	d->port = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
					    : ntohs(((struct sockaddr_in *)&got)->sin_port);
	if (addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr)->sin6_port = htons(d->port);
	else
		((struct sockaddr_in *)&addr)->sin_port = htons(d->port);
	if (any_port)
		d->loops[0].listen_fd = probe;
	else
		close(probe);
	for (unsigned i = any_port ? 1 : 0; i < cfg->threads; i++) {
		d->loops[i].listen_fd = listen_socket((struct sockaddr *)&addr, addr_len, (int)cfg->backlog, true);
		if (d->loops[i].listen_fd < 0) {
			snprintf(err, err_cap, "cannot listen on %s:%u (%s)", cfg->host, d->port, strerror(errno));
			while (i-- > 0)
				close(d->loops[i].listen_fd);
			free(d->loops);
			free(d);
			return NULL;
		}
	}
	for (unsigned i = 0; i < cfg->threads; i++) {
		d->loops[i].d = d;
		d->loops[i].index = i;
		if (pthread_create(&d->loops[i].thread, NULL, loop_main, &d->loops[i]) != 0)
			HF_ASSERT(!"cannot start an HTTP thread");
	}
	while (atomic_load(&d->ready) < cfg->threads) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return d;
}

uint16_t hf_httpd_port(const struct hf_httpd *d) { return d->port; }

void hf_httpd_quiesce(struct hf_httpd *d)
{
	for (unsigned i = 0; i < d->cfg.threads; i++)
		h2o_multithread_send_message(&d->loops[i].ctl, &d->loops[i].quiesce_msg);
	while (atomic_load(&d->quiesced) < d->cfg.threads) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

void hf_httpd_stop(struct hf_httpd *d)
{
	for (unsigned i = 0; i < d->cfg.threads; i++)
		h2o_multithread_send_message(&d->loops[i].ctl, &d->loops[i].stop_msg);
	for (unsigned i = 0; i < d->cfg.threads; i++)
		pthread_join(d->loops[i].thread, NULL);
	for (unsigned b = 0; b < IP_BUCKETS; b++)
		while (d->ips[b]) {
			struct ip_count *e = d->ips[b];
			d->ips[b] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&d->ip_lock);
	free(d->loops);
	free(d);
}

void hf_httpd_stats(struct hf_httpd *d, struct hf_httpd_stats *out)
{
	out->connections = atomic_load(&d->conns);
	out->streams = atomic_load(&d->streams);
	out->refused = atomic_load(&d->refused);
	out->timeouts = atomic_load(&d->timeouts);
	out->streams_cut = atomic_load(&d->streams_cut);
}
