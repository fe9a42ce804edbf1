/*
 * config.h: the options of `holdfast serve`, as one table (config.c) that
 * both the parser and `holdfast serve --help` read, so an option cannot
 * exist without its help line or its default.
 */
#ifndef HF_SERVER_CONFIG_H
#define HF_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hf_server_config {
	char listen_host[256];
	uint16_t listen_port;
	const char *data_dir;
	bool engine_postgres;        /* --engine postgres */
	const char *database_url;    /* NULL: HOLDFAST_DATABASE_URL */
	const char *admin_key_file;  /* NULL: HOLDFAST_ADMIN_KEY */
	bool fsync_off;
	bool test_clock;
	uint32_t threads;            /* HTTP event loops */
	uint32_t max_connections;
	uint32_t max_streams;
	uint32_t max_connections_per_ip;
	uint32_t idle_timeout_s;
	uint32_t request_timeout_s;
	uint32_t queue_max;
	uint32_t snapshot_every_s;
	uint32_t snapshot_every_records;
	int64_t shipping_fee;
	int64_t free_shipping_over;
	uint32_t max_holds;          /* 0: the core's default */
	uint32_t max_orders;         /* 0: the core's default */
	uint32_t idem_retention_s;   /* 0: the core's default */
	uint32_t max_idem_keys;      /* 0: the core's default */
	uint32_t changes_retain;     /* change-log entries kept */
};

/* Parses argv (after "serve") into cfg, starting from the defaults.
 * Returns 0, 1 when --help was asked (help printed to stdout), or -1 with
 * a message in err (the caller prints it and the usage, exits 2). */
int hf_config_parse(struct hf_server_config *cfg /* out */, int argc, char **argv, char *err,
		    size_t err_cap);

/* Prints the options, one line each with its default, to f. */
void hf_config_help(FILE *f);

#endif
