/*
 * main.c: the holdfast command line.
 *   holdfast serve [options]   the booking server (config.c lists options)
 *   holdfast check DIR         verify a data directory (wal/wal.h)
 *   holdfast routes            the routing table (the tests hold docs to it)
 *   holdfast --version | --help
 *
 * serve: SIGTERM and SIGINT are taken by sigwait on the main thread (every
 * other thread blocks them): the server stops accepting, finishes requests
 * in flight, syncs and closes the engine, logs "stop" and exits 0. SIGPIPE
 * is ignored (a client hanging up is a write error, not a death).
 */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "wal/wal.h"
#include "server/log.h"
#include "server/server.h"

#define HF_VERSION "0.1.0"
#define HF_ADMIN_KEY_MIN 16
#define HF_ADMIN_KEY_MAX 4096

static const char usage[] =
	"usage: holdfast <command> [options]\n"
	"\n"
	"commands:\n"
	"  serve       start the booking server (holdfast serve --help lists its options)\n"
	"  check DIR   verify a data directory without changing it (exit 0 sound, 1 damaged)\n"
	"  routes      print the routing table: method, path, who may call it\n"
	"  --version   print the version\n"
	"  --help      print this help\n";

/* Reads the admin key from file (trailing whitespace dropped) or from
 * HOLDFAST_ADMIN_KEY. Returns its length or -1 with err. */
static long load_admin_key(const char *file, char *key, size_t cap, char *err, size_t err_cap)
{
	size_t n = 0;
	if (file) {
		FILE *f = fopen(file, "rb");
		if (!f) {
			snprintf(err, err_cap, "--admin-key-file %s: cannot open", file);
			return -1;
		}
		n = fread(key, 1, cap, f);
		fclose(f);
		if (n == cap) {
			snprintf(err, err_cap, "--admin-key-file %s: longer than %zu bytes", file, cap - 1);
			return -1;
		}
	} else {
		const char *env = getenv("HOLDFAST_ADMIN_KEY");
		if (!env) {
			snprintf(err, err_cap,
				 "no admin key: give --admin-key-file FILE or set HOLDFAST_ADMIN_KEY");
			return -1;
		}
		n = strlen(env);
		if (n >= cap) {
			snprintf(err, err_cap, "HOLDFAST_ADMIN_KEY: longer than %zu bytes", cap - 1);
			return -1;
		}
		memcpy(key, env, n);
	}
	while (n && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' ' ||
		     key[n - 1] == '\t'))
		n--;
	key[n] = 0;
	if (n && (key[0] == ' ' || key[0] == '\t')) {
		/* Authorization values are read without their leading spaces. */
		snprintf(err, err_cap, "the admin key must not start with a space or a tab");
		return -1;
	}
	if (n < HF_ADMIN_KEY_MIN) {
		snprintf(err, err_cap, "the admin key must be at least %d characters", HF_ADMIN_KEY_MIN);
		return -1;
	}
	return (long)n;
}

static int serve(int argc, char **argv)
{
	static struct hf_server srv;
	char err[512];
	int rc = hf_config_parse(&srv.cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "holdfast serve: %s\n(holdfast serve --help lists the options)\n", err);
		return 2;
	}
	static char key[HF_ADMIN_KEY_MAX];
	long kn = load_admin_key(srv.cfg.admin_key_file, key, sizeof(key), err, sizeof(err));
	if (kn < 0) {
		fprintf(stderr, "holdfast serve: %s\n", err);
		return 2;
	}
	srv.admin_key = key;
	srv.admin_key_len = (size_t)kn;

	signal(SIGPIPE, SIG_IGN);
	/* Every connection and stream is a descriptor: the soft limit goes up
	 * to the hard one, and a hard limit short of the budgets is said. */
	struct rlimit nofile;
	uint64_t want = (uint64_t)srv.cfg.max_connections + srv.cfg.max_streams + 256;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
		if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < want)
			hf_log("warn", "open_files_limit",
			       " limit=%llu wanted=%llu reason=\"--max-connections + --max-streams + 256; connections past the limit wait to be accepted\"",
			       (unsigned long long)nofile.rlim_cur, (unsigned long long)want);
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL); /* inherited by every thread */

	if (hf_server_start(&srv, err, sizeof(err)) < 0) {
		hf_log("error", "start_failed", " error=\"%s\"", err);
		fprintf(stderr, "holdfast serve: %s\n", err);
		return 1;
	}
	hf_log("info", "start",
	       " version=%s listen=%s:%u port=%u engine=%s data=%s fsync=%s test_clock=%s threads=%u",
	       HF_VERSION, srv.cfg.listen_host, srv.port, srv.port,
	       srv.cfg.engine_postgres ? "postgres" : "embedded", srv.cfg.data_dir,
	       srv.cfg.fsync_off ? "off" : "always", srv.cfg.test_clock ? "on" : "off",
	       srv.cfg.threads);
	int sig = 0;
	sigwait(&stop, &sig);
	hf_log("info", "stopping", " signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (hf_server_stop(&srv) < 0) {
		hf_log("error", "stop", " status=1 reason=\"requests still waiting for the engine after 30 s; exiting without closing it (recovery replays the log)\"");
		_exit(1);
	}
	hf_log("info", "stop", " status=0");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("holdfast %s\n", HF_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		return serve(argc - 2, argv + 2);
	if (!strcmp(argv[1], "routes")) {
		static const char *const who[] = {"any", "customer", "admin"};
		for (uint32_t i = 0; i < hf_route_count(); i++) {
			const struct hf_route *rt = hf_route_get((int)i);
			printf("%s %s %s\n", rt->method, rt->pattern, who[rt->auth]);
		}
		return 0;
	}
	if (!strcmp(argv[1], "check")) {
		if (argc != 3) {
			fputs("usage: holdfast check DIR\n", stderr);
			return 2;
		}
		return hf_wal_check_dir(argv[2], stdout);
	}
	fprintf(stderr, "holdfast: unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
