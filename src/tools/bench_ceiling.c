/*
 * bench_ceiling.c: bench-ceiling, the empty-handler HTTP server that
 * holdfast's HTTP numbers are held against (docs/BENCHMARKS.md, "HTTP,
 * side by side").
 *
 *   bench-ceiling [--listen HOST:PORT] [--threads N] [--mhd poll|epoll-turbo]
 *
 * Owns nothing but the handler. It is meant to cost exactly what holdfast's
 * HTTP layer costs and nothing more, so it copies src/server/http.c's
 * configuration: libmicrohttpd, an internal polling thread pool with
 * poll() (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL), suspend/resume
 * and inter-thread communication enabled, the same connection limits,
 * timeout, backlog and memory per connection, and the same default thread
 * count as `holdfast serve` (4). Every request takes the same three calls
 * of the access handler (headers, body, end of body); the body is read and
 * dropped; the answer is built per request as holdfast builds it (a
 * persistent buffer, a Content-Type header) and is a fixed JSON body the
 * size of holdfast's answer to a one-unit order: 201 to a POST, 200 to
 * anything else. What holdfast does beyond this (routing, auth, JSON,
 * the engine round trip, the log) is what the ratio measures.
 * --mhd epoll-turbo (MHD_USE_EPOLL | MHD_USE_TURBO instead of
 * MHD_USE_POLL) mirrors a holdfast built with that polling mode, a change
 * proposed in docs/BENCHMARKS.md; the default is what holdfast uses.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/* The size and shape of holdfast's 201 to POST /orders of one unit. */
static const char body[] =
	"{\"id\":\"o-1\",\"customer\":\"b1-c0-0\",\"status\":\"under_review\",\"created_at\":"
	"\"2026-11-22T07:58:35.297Z\",\"seats\":[],\"items\":[{\"item\":\"b1-hot\",\"quantity\":1,"
	"\"requested\":1,\"price\":100,\"line_total\":100}],\"total\":100,\"fees\":500,"
	"\"total_with_fees\":600}";

/* A marker for "headers seen" in *con_cls (no per-request state needed). */
static int seen;

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)version;
	(void)upload_data;
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* dropped */
		return MHD_YES;
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(mc, strcmp(method, "POST") ? 200 : 201, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8090";
	unsigned threads = 4;
	unsigned int poll_mode = MHD_USE_POLL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen = argv[++i];
		else if (!strcmp(argv[i], "--mhd") && i + 1 < argc) {
			const char *m = argv[++i];
			if (!strcmp(m, "epoll-turbo"))
				poll_mode = MHD_USE_EPOLL | MHD_USE_TURBO;
			else if (strcmp(m, "poll")) {
				fprintf(stderr, "bench-ceiling: --mhd poll|epoll-turbo\n");
				return 2;
			}
		}
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench-ceiling [--listen HOST:PORT] [--threads N] "
					"[--mhd poll|epoll-turbo]\n");
			return 2;
		}
	}
	const char *colon = strrchr(listen, ':');
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char host[64];
	if (!colon || (size_t)(colon - listen) >= sizeof(host) || threads < 1 || threads > 256) {
		fprintf(stderr, "bench-ceiling: --listen HOST:PORT (IPv4), --threads 1..256\n");
		return 2;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "bench-ceiling: '%s' is not an IPv4 address\n", host);
		return 2;
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* holdfast's flags and options (src/server/http.c, src/base/limits.h) */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | poll_mode |
			     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, ntohs(addr.sin_port), NULL, NULL, on_access, NULL, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 1024u,
		MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(32u * 1024u), MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench-ceiling: cannot listen on %s\n", listen);
		return 1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	fprintf(stderr, "bench-ceiling: listening on %s:%u, %u threads\n", host,
		di ? di->port : ntohs(addr.sin_port), threads);
	int sig = 0;
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	return 0;
}
