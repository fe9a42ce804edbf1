/*
 * bench_ceiling.c: bench-ceiling, the empty-handler HTTP server that
 * holdfast's HTTP numbers are held against (docs/BENCHMARKS.md, "HTTP,
 * side by side").
 *
 *   bench-ceiling [--listen HOST:PORT] [--threads N] [--park-us N]
 *
 * Owns nothing but the handler. It runs on holdfast's own connection layer
 * (src/server/httpd.c: libh2o-evloop loops, picohttpparser) with the same
 * limits, timeouts and default thread count as `holdfast serve`, so it
 * costs exactly what holdfast's HTTP layer costs and nothing more. Every
 * request's body is read and dropped; the answer is a fixed JSON body the
 * size of holdfast's answer to a one-unit order, with the headers holdfast
 * sends (Content-Type): 201 to a POST, 200 to anything else. What holdfast
 * does beyond this (routing, auth, JSON, the engine round trip, the log)
 * is what the ratio measures.
 *
 * --park-us N (a prototype of holdfast's shape, docs/DESIGN.md): every
 * request is parked instead of answered, and one other thread wakes all
 * parked requests every N microseconds (as the engine's completer does
 * after a group commit), through hf_httpd_wake. N = 0: answered inline.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "server/httpd.h"

/* The size and shape of holdfast's 201 to POST /orders of one unit. */
static const char body[] =
	"{\"id\":\"o-1\",\"customer\":\"b1-c0-0\",\"status\":\"under_review\",\"created_at\":"
	"\"2026-11-22T07:58:35.297Z\",\"seats\":[],\"items\":[{\"item\":\"b1-hot\",\"quantity\":1,"
	"\"requested\":1,\"price\":100,\"line_total\":100}],\"total\":100,\"fees\":500,"
	"\"total_with_fees\":600}";
static const char type[] = "Content-Type: application/json\r\n";

/* Per connection: whether its request was a POST. */
struct conn {
	struct hf_httpd_conn *c;
	bool post;
	struct conn *next; /* parked list */
};

static unsigned park_us;
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *parked;
static atomic_bool stopping;

static void *on_open(void *ctx, struct hf_httpd_conn *c, const char *ip)
{
	(void)ctx;
	(void)ip;
	struct conn *k = calloc(1, sizeof(*k));
	if (k)
		k->c = c;
	return k;
}

static void on_close(void *ctx, void *user)
{
	(void)ctx;
	free(user);
}

static int on_head(void *ctx, void *user, struct hf_httpd_conn *c, const struct hf_httpd_head *h,
		   uint64_t *body_max)
{
	(void)ctx;
	(void)c;
	struct conn *k = user;
	k->post = h->method_len == 4 && !memcmp(h->method, "POST", 4);
	*body_max = HF_HTTP_BODY_MAX;
	return HF_HTTPD_READ_BODY;
}

static void answer(struct conn *k)
{
	hf_httpd_respond(k->c, k->post ? 201 : 200, type, sizeof(type) - 1, body, sizeof(body) - 1, false);
}

static void on_request(void *ctx, void *user, struct hf_httpd_conn *c, const char *b, size_t len,
		       bool too_large)
{
	(void)ctx;
	(void)c;
	(void)b;
	(void)len;
	(void)too_large;
	struct conn *k = user;
	if (!park_us) {
		answer(k);
		return;
	}
	pthread_mutex_lock(&park_lock);
	k->next = parked;
	parked = k;
	pthread_mutex_unlock(&park_lock);
}

static void on_wake(void *ctx, void *user, struct hf_httpd_conn *c)
{
	(void)ctx;
	(void)c;
	answer(user);
}

/* The stand-in for the engine's completer: wakes every parked request
 * each park_us microseconds. */
static void *completer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stopping)) {
		struct timespec ts = {0, (long)park_us * 1000};
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&park_lock);
		struct conn *k = parked;
		parked = NULL;
		pthread_mutex_unlock(&park_lock);
		while (k) {
			struct conn *next = k->next;
			hf_httpd_wake(k->c);
			k = next;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8090";
	unsigned threads = 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen = argv[++i];
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--park-us") && i + 1 < argc)
			park_us = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench-ceiling [--listen HOST:PORT] [--threads N] [--park-us N]\n");
			return 2;
		}
	}
	const char *colon = strrchr(listen, ':');
	char host[64];
	if (!colon || (size_t)(colon - listen) >= sizeof(host) || threads < 1 || threads > 256) {
		fprintf(stderr, "bench-ceiling: --listen HOST:PORT, --threads 1..256\n");
		return 2;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* holdfast's limits (src/base/limits.h, src/server/http.c) */
	struct hf_httpd_config cfg = {
		.host = host,
		.port = (uint16_t)atoi(colon + 1),
		.threads = threads,
		.max_connections = HF_HTTP_CONNECTIONS_MAX,
		.max_connections_per_ip = HF_HTTP_CONNECTIONS_PER_IP_MAX,
		.max_streams = HF_HTTP_STREAMS_MAX,
		.idle_timeout_ms = HF_HTTP_IDLE_TIMEOUT_S * 1000,
		.request_timeout_ms = HF_HTTP_REQUEST_TIMEOUT_S * 1000,
		.stream_buffer_max = HF_HTTP_STREAM_BUFFER_MAX,
		.backlog = 1024,
	};
	struct hf_httpd_handler h = {
		.conn_open = on_open,
		.conn_close = on_close,
		.head = on_head,
		.request = on_request,
		.wake = on_wake,
	};
	char err[256];
	struct hf_httpd *d = hf_httpd_start(&cfg, &h, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "bench-ceiling: %s\n", err);
		return 1;
	}
	pthread_t comp;
	if (park_us)
		pthread_create(&comp, NULL, completer, NULL);
	fprintf(stderr, "bench-ceiling: listening on %s:%u, %u threads%s\n", host, hf_httpd_port(d), threads,
		park_us ? ", parked" : "");
	int sig = 0;
	sigwait(&stop, &sig);
	atomic_store(&stopping, true);
	if (park_us)
		pthread_join(comp, NULL);
	hf_httpd_quiesce(d);
	hf_httpd_stop(d);
	return 0;
}
