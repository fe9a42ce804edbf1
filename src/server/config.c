/*
 * config.c: see config.h. One row per option: name, argument, kind, where
 * it lands, range, default text, help. Numbers are parsed strictly (all
 * digits, inside the range).
 */
#include "server/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

enum opt_kind { OPT_FLAG, OPT_STR, OPT_U32, OPT_I64, OPT_LISTEN, OPT_FSYNC, OPT_ENGINE };

/* Columns: option, argument name, kind, offset in hf_server_config, min,
 * max, default (text as --help shows it; parsed at start for numbers),
 * help. */
struct opt {
	const char *name;
	const char *arg;
	uint8_t kind;
	size_t off;
	int64_t min, max;
	const char *def;
	const char *help;
};

#define OFF(m) offsetof(struct hf_server_config, m)
#define STR_(x) #x
#define STR(x) STR_(x)

static const struct opt opts[] = {
	{"--listen", "HOST:PORT", OPT_LISTEN, OFF(listen_host), 0, 0, "127.0.0.1:8080",
	 "address to listen on (port 0: any free port, printed at start)"},
	{"--data", "DIR", OPT_STR, OFF(data_dir), 0, 0, "./data",
	 "data directory: log, snapshots, token secret (made if missing)"},
	{"--engine", "embedded|postgres", OPT_ENGINE, 0, 0, 0, "embedded",
	 "embedded: one process, data in --data; postgres: state in PostgreSQL (--database-url), any number of processes in front of one database"},
	{"--database-url", "URL", OPT_STR, OFF(database_url), 0, 0, "(none)",
	 "with --engine postgres: the database, in libpq's syntax (postgresql://user@host:port/db or key=value ...); else the environment variable HOLDFAST_DATABASE_URL"},
	{"--admin-key-file", "FILE", OPT_STR, OFF(admin_key_file), 0, 0, "(none)",
	 "file holding the admin key (trailing whitespace ignored); else the environment variable HOLDFAST_ADMIN_KEY; one of them is required"},
	{"--fsync", "always|off", OPT_FSYNC, 0, 0, 0, "always",
	 "always: a reply means the change is on disk; off: UNSAFE, for benchmarks (a power loss may lose acknowledged writes)"},
	{"--test-clock", NULL, OPT_FLAG, OFF(test_clock), 0, 0, "off",
	 "time stands still until an admin calls POST /admin/clock {\"advance_s\": n} (for tests)"},
	{"--snapshot-every-s", "N", OPT_U32, OFF(snapshot_every_s), 0, 86400, "300",
	 "write a snapshot every N seconds (0: only at shutdown)"},
	{"--snapshot-every-records", "N", OPT_U32, OFF(snapshot_every_records), 0, 1000000000, "1000000",
	 "also write one after N log records, once the log since the last snapshot is as large as it (0: by time only); fewer snapshots cost less CPU, more make restarts shorter"},
	{"--threads", "N", OPT_U32, OFF(threads), 1, 256, "2",
	 "HTTP event loops, each a thread serving its own connections (one per core)"},
	{"--max-connections", "N", OPT_U32, OFF(max_connections), 1, 1000000,
	 STR(HF_HTTP_CONNECTIONS_MAX), "open connections in total (more are refused)"},
	{"--max-connections-per-ip", "N", OPT_U32, OFF(max_connections_per_ip), 1, 1000000,
	 STR(HF_HTTP_CONNECTIONS_PER_IP_MAX), "open connections from one IP address"},
	{"--changes-retain", "N", OPT_U32, OFF(changes_retain), 1, 100000000, STR(HF_CHANGES_RETAIN),
	 "change-log entries kept (memory and DIR/changes.jsonl, ~300 bytes each) for GET /changes cursors, across restarts"},
	{"--max-streams", "N", OPT_U32, OFF(max_streams), 1, 1000000, STR(HF_HTTP_STREAMS_MAX),
	 "long-lived responses (event streams) open at once, a budget apart from --max-connections"},
	{"--idle-timeout-s", "N", OPT_U32, OFF(idle_timeout_s), 1, 3600,
	 STR(HF_HTTP_IDLE_TIMEOUT_S), "close a connection idle (between requests, or silent) for N seconds"},
	{"--request-timeout-s", "N", OPT_U32, OFF(request_timeout_s), 1, 3600,
	 STR(HF_HTTP_REQUEST_TIMEOUT_S),
	 "a request must arrive whole (headers and body) within N seconds of its first line: slow senders are cut off"},
	{"--queue-max", "N", OPT_U32, OFF(queue_max), 1, 10000000, STR(HF_ENGINE_QUEUE_MAX),
	 "requests waiting for the sequencer; past it: 503 + Retry-After"},
	{"--shipping-fee", "MINOR_UNITS", OPT_I64, OFF(shipping_fee), 0, HF_PRICE_MAX, "500",
	 "fee added to a hold or order with item lines"},
	{"--free-shipping-over", "MINOR_UNITS", OPT_I64, OFF(free_shipping_over), 0, HF_PRICE_MAX,
	 "0", "no shipping fee when the total is at least this (0: never free)"},
	{"--max-holds", "N", OPT_U32, OFF(max_holds), 0, 100000000, "0",
	 "holds kept in memory, active and ended (0: the core's default)"},
	{"--max-orders", "N", OPT_U32, OFF(max_orders), 0, 100000000, "0",
	 "orders kept in memory (0: the core's default)"},
	{"--idempotency-retention-s", "N", OPT_U32, OFF(idem_retention_s), 0, 31622400, "0",
	 "keep each Idempotency-Key's first answer N seconds (0: the core's default, 600)"},
	{"--max-idempotency-keys", "N", OPT_U32, OFF(max_idem_keys), 0, 100000000, "0",
	 "answers kept for retries at once (0: the core's default, 1000000); when full, new keyed writes get 503 until old answers expire"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static int parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!*s || strlen(s) > 18)
		return -1;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int set_opt(struct hf_server_config *cfg, const struct opt *o, const char *val, char *err,
		   size_t err_cap)
{
	char *at = (char *)cfg + o->off;
	int64_t v;
	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)at = true;
		return 0;
	case OPT_STR:
		*(const char **)at = val;
		return 0;
	case OPT_U32:
	case OPT_I64:
		if (parse_num(val, o->min, o->max, &v) < 0) {
			snprintf(err, err_cap, "%s: expected a whole number from %lld to %lld, got '%s'",
				 o->name, (long long)o->min, (long long)o->max, val);
			return -1;
		}
		if (o->kind == OPT_U32)
			*(uint32_t *)at = (uint32_t)v;
		else
			*(int64_t *)at = v;
		return 0;
	case OPT_FSYNC:
		if (!strcmp(val, "always") || !strcmp(val, "off")) {
			cfg->fsync_off = !strcmp(val, "off");
			return 0;
		}
		snprintf(err, err_cap, "--fsync: expected always or off, got '%s'", val);
		return -1;
	case OPT_ENGINE:
		if (!strcmp(val, "embedded") || !strcmp(val, "postgres")) {
			cfg->engine_postgres = !strcmp(val, "postgres");
			return 0;
		}
		snprintf(err, err_cap, "--engine: expected embedded or postgres, got '%s'", val);
		return -1;
	case OPT_LISTEN: {
		const char *colon = strrchr(val, ':');
		int64_t port;
		size_t hl = colon ? (size_t)(colon - val) : 0;
		if (!colon || hl == 0 || hl >= sizeof(cfg->listen_host) ||
		    parse_num(colon + 1, 0, 65535, &port) < 0) {
			snprintf(err, err_cap, "--listen: expected HOST:PORT, got '%s'", val);
			return -1;
		}
		if (val[0] == '[' && hl > 2 && val[hl - 1] == ']') { /* [::1]:8080 */
			val++;
			hl -= 2;
		}
		memcpy(cfg->listen_host, val, hl);
		cfg->listen_host[hl] = 0;
		cfg->listen_port = (uint16_t)port;
		return 0;
	}
	}
	return -1;
}

/* A default as text: limits.h values carry a 'u' suffix, dropped here. */
static const char *def_text(const struct opt *o, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", o->def);
	size_t n = strlen(buf);
	if (n > 1 && (buf[n - 1] == 'u' || buf[n - 1] == 'U') && buf[0] >= '0' && buf[0] <= '9')
		buf[n - 1] = 0;
	return buf;
}

int hf_config_parse(struct hf_server_config *cfg, int argc, char **argv, char *err,
		    size_t err_cap)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_OPTS; i++) {
		char buf[64];
		if (opts[i].kind == OPT_STR && opts[i].def[0] != '(') {
			/* the default itself: buf dies with this loop */
			*(const char **)((char *)cfg + opts[i].off) = opts[i].def;
			continue;
		}
		if (opts[i].kind != OPT_FLAG && opts[i].def[0] != '(' &&
		    set_opt(cfg, &opts[i], def_text(&opts[i], buf, sizeof(buf)), err, err_cap) < 0)
			return -1;
	}
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			hf_config_help(stdout);
			return 1;
		}
		/* --name=value or --name value */
		const char *arg = argv[i];
		const char *eq = strchr(arg, '=');
		size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct opt *o = NULL;
		for (size_t k = 0; k < N_OPTS; k++)
			if (strlen(opts[k].name) == nl && !strncmp(opts[k].name, arg, nl))
				o = &opts[k];
		if (!o) {
			snprintf(err, err_cap, "unknown option '%s'", arg);
			return -1;
		}
		const char *val = NULL;
		if (o->arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, err_cap, "%s needs %s", o->name, o->arg);
				return -1;
			}
		} else if (eq) {
			snprintf(err, err_cap, "%s takes no value", o->name);
			return -1;
		}
		if (set_opt(cfg, o, val, err, err_cap) < 0)
			return -1;
	}
	if (!cfg->database_url)
		cfg->database_url = getenv("HOLDFAST_DATABASE_URL");
	if (cfg->engine_postgres && (!cfg->database_url || !cfg->database_url[0])) {
		snprintf(err, err_cap, "--engine postgres needs --database-url URL or HOLDFAST_DATABASE_URL");
		return -1;
	}
	return 0;
}

void hf_config_help(FILE *f)
{
	fputs("usage: holdfast serve [options]\n\noptions:\n", f);
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		char buf[64];
		fprintf(f, "  %-34s %s (default: %s)\n", left, opts[i].help,
			def_text(&opts[i], buf, sizeof(buf)));
	}
	fputs("  --help                             print this help\n"
	      "\nenvironment:\n"
	      "  HOLDFAST_ADMIN_KEY                 the admin key, when --admin-key-file is not given\n"
	      "  HOLDFAST_DATABASE_URL              the database, when --database-url is not given\n",
	      f);
}
