/*
 * idle.c: --idle N, the connections an on-sale keeps open without asking
 * anything (buyers watching a page), held through the measured run
 * (bench.h).
 *
 * Before the warm-up, N extra keep-alive connections are opened, at most
 * IDLE_WINDOW at a time: each sends one cheap request (--idle-path, GET
 * /health by default), reads the whole answer, and is then left open and
 * silent (out of every epoll set: nothing in the client touches it while
 * the load runs). After the run, each is probed without blocking (a peek
 * of one byte): EOF or an error means the server closed it.
 *
 * The server's memory per idle connection is its VmRSS (the first
 * --account PID) after the connections are open and have settled
 * (--idle-settle-s), minus before, over the number opened.
 *
 * Limits on the client's side: RLIMIT_NOFILE is raised to what N needs (a
 * root process may raise the hard limit too); and against a loopback
 * target each connection is bound to a source address of its own range,
 * 127.0.0.2 upwards, --idle-per-addr connections each, with
 * IP_BIND_ADDRESS_NO_PORT, so that N connections (and the TIME_WAIT they
 * leave after the run) never run out of ephemeral ports of 127.0.0.1, and
 * no one source address goes past a per-address connection cap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define IDLE_WINDOW 256          /* connections being opened at once */
#define IDLE_RBUF 4096           /* an answer to the one request fits */

struct slot {
	uint32_t i;              /* which idle connection; UINT32_MAX: free */
	int fd;
	bool sent;
	size_t rlen;
	char rb[IDLE_RBUF];
};

void raise_nofile(unsigned long long need, const char *what)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	struct rlimit want = {need, rl.rlim_max > need ? rl.rlim_max : need};
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		return;
	die("%s: need %llu open files, the limit is %llu (hard %llu) and could not be raised", what,
	    need, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

int connect_from(struct bench *b, uint32_t addr, bool loopback)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (loopback) {
		int one = 1;
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(0x7F000002u + addr);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void slot_end(struct idle *d, int ep, struct slot *s, bool ok)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
	if (ok) {
		d->fd[s->i] = s->fd;
		d->opened++;
	} else {
		close(s->fd);
		d->failed++;
	}
	s->i = UINT32_MAX;
	s->fd = -1;
}

/* Starts idle connection i in slot s; false if the socket could not be
 * made (counted failed). */
static bool slot_start(struct bench *b, int ep, struct slot *s, uint32_t i, bool loopback)
{
	int fd = connect_from(b, i / b->idle_per_addr, loopback);
	if (fd < 0) {
		b->idle.failed++;
		return false;
	}
	s->i = i;
	s->fd = fd;
	s->sent = false;
	s->rlen = 0;
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = s};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return true;
}

/* One event on slot s: send the request once connected, then read the
 * answer; ends the slot when the answer is whole or the connection fails. */
static void slot_event(struct bench *b, int ep, struct slot *s, uint32_t events, const char *req,
		       size_t req_len, int *first_bad_status)
{
	struct idle *d = &b->idle;
	if (!s->sent) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			slot_end(d, ep, s, false);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		/* a few dozen bytes into an empty socket buffer: all or nothing */
		if (send(s->fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
			slot_end(d, ep, s, false);
			return;
		}
		s->sent = true;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
		epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
		return;
	}
	ssize_t n = recv(s->fd, s->rb + s->rlen, sizeof(s->rb) - s->rlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		slot_end(d, ep, s, false);
		return;
	}
	s->rlen += (size_t)n;
	struct answer a = {0};
	long used = http_parse(s->rb, s->rlen, &a);
	if (used == -2 && s->rlen < sizeof(s->rb))
		return;
	bool ok = used > 0 && (size_t)used == s->rlen && !a.close;
	if (used > 0 && (a.status < 200 || a.status >= 300) && !*first_bad_status)
		*first_bad_status = a.status;
	slot_end(d, ep, s, ok);
}

void idle_open(struct bench *b)
{
	struct idle *d = &b->idle;
	d->n = b->idle_n;
	d->fd = xalloc(d->n * sizeof(*d->fd));
	for (uint32_t i = 0; i < d->n; i++)
		d->fd[i] = -1;
	/* the idle ones, the measured ones, setup and verify, stdio, slack */
	raise_nofile((unsigned long long)d->n + b->conns + SETUP_CONNS + 256, "--idle");
	bool loopback = (ntohl(b->addr.sin_addr.s_addr) >> 24) == 127;
	uint32_t addrs = (d->n + b->idle_per_addr - 1) / b->idle_per_addr;
	if (loopback && 0x7F000002u + (uint64_t)addrs - 1 > 0x7FFFFFFEu)
		die("--idle %u / --idle-per-addr %u: more source addresses than 127/8 has", d->n,
		    b->idle_per_addr);
	pid_t server = b->n_acct ? b->acct[0] : 0;
	d->rss_kib_before = server ? proc_rss_kib(server) : -1;

	char req[512];
	int req_len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n",
			       b->idle_path, b->host, b->port);
	if (req_len < 0 || (size_t)req_len >= sizeof(req))
		die("--idle-path too long");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	struct slot *slots = xalloc(IDLE_WINDOW * sizeof(*slots));
	for (int k = 0; k < IDLE_WINDOW; k++) {
		slots[k].i = UINT32_MAX;
		slots[k].fd = -1;
	}
	uint64_t t0 = mono_ns();
	/* a generous bound: a server that accepts at all does 10,000 in seconds */
	uint64_t deadline = t0 + 30000000000ull + (uint64_t)d->n * 1000000u;
	uint32_t next = 0, active = 0;
	int first_bad_status = 0;
	struct epoll_event evs[IDLE_WINDOW];
	while ((next < d->n || active) && mono_ns() < deadline) {
		for (int k = 0; k < IDLE_WINDOW && next < d->n; k++)
			if (slots[k].i == UINT32_MAX && slot_start(b, ep, &slots[k], next++, loopback))
				active++;
		int n = epoll_wait(ep, evs, IDLE_WINDOW, 100);
		for (int k = 0; k < n; k++) {
			struct slot *s = evs[k].data.ptr;
			slot_event(b, ep, s, evs[k].events, req, (size_t)req_len, &first_bad_status);
			if (s->i == UINT32_MAX)
				active--;
		}
	}
	for (int k = 0; k < IDLE_WINDOW; k++)
		if (slots[k].i != UINT32_MAX)
			slot_end(d, ep, &slots[k], false);
	d->failed += d->n - next; /* never started: the deadline passed */
	d->open_s = (double)(mono_ns() - t0) / 1e9;
	free(slots);
	close(ep);
	if (first_bad_status)
		fprintf(stderr, "holdfast-bench: idle: GET %s answered %d (connections kept open anyway)\n",
			b->idle_path, first_bad_status);
	if (!d->opened && d->n)
		die("idle: none of %u connections could be opened and answered (server caps? "
		    "--max-connections)", d->n);
	sleep_s(b->idle_settle_s);
	d->rss_kib_after = server ? proc_rss_kib(server) : -1;
	fprintf(stderr, "holdfast-bench: idle: %u of %u connections open in %.2f s (%u failed); "
			"server VmRSS %ld -> %ld KiB\n",
		d->opened, d->n, d->open_s, d->failed, d->rss_kib_before, d->rss_kib_after);
}

void idle_check(struct bench *b)
{
	struct idle *d = &b->idle;
	d->open_end = d->closed_end = 0;
	for (uint32_t i = 0; i < d->n; i++) {
		if (d->fd[i] < 0)
			continue;
		char c;
		ssize_t n = recv(d->fd[i], &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
			d->open_end++;
		else
			d->closed_end++;
	}
	fprintf(stderr, "  idle connections at the end: %u of %u still open, %u closed by the server\n",
		d->open_end, d->opened, d->closed_end);
}

void idle_close(struct bench *b)
{
	struct idle *d = &b->idle;
	for (uint32_t i = 0; i < d->n; i++)
		if (d->fd[i] >= 0)
			close(d->fd[i]);
	free(d->fd);
	d->fd = NULL;
}
