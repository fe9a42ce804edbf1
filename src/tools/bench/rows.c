/*
 * rows.c: what holdfast-bench can run, as two tables (bench.h): the
 * operations (what one request is) and the rows (one per system and
 * workload). A new workload is one row here plus its functions in a file
 * of its own; main.c and loop.c know no workload by name.
 */
#include "bench.h"

/* Columns: name, the server's route label (GET /metrics of holdfast counts
 * answers by it; NULL: not a holdfast route), aux (not a workload request:
 * setup, the test clock; kept out of requests/s and latency). */
const struct op_info ops[N_OPS] = {
	[OP_ORDER] = {"order", "POST /orders", false},
	[OP_HOLD] = {"hold", "POST /holds", false},
	[OP_CONFIRM] = {"confirm", "POST /holds/{id}/confirm", false},
	[OP_RELEASE] = {"release", "DELETE /holds/{id}", false},
	[OP_BATCH] = {"batch", "POST /batch", false},
	[OP_PING] = {"ping", "GET /health", false},
	[OP_SELL] = {"sell", NULL, false},
	[OP_BOOK] = {"book", NULL, false},
	[OP_EVAL] = {"evalsha", NULL, false},
	[OP_CLOCK] = {"clock", "POST /admin/clock", true},
	[OP_LIST] = {"setup", NULL, true},
};

/* Columns: system, workload, protocol, what one request is, setup, next,
 * answer, lost, verify, tick (a connection of its own beside the load: the
 * test clock, the feed probe), bookings (the op whose successes are
 * bookings, bookings_per_s), report (the workload's own RESULT fields). */
const struct row rows[] = {
	{"holdfast", "hot", PROTO_HTTP, "POST /orders, 1 unit of one item (stock 2e9)",
	 setup_hot, next_order, answer_order, lost_order, verify_items, NULL, OP_NONE, NULL},
	{"holdfast", "scarce", PROTO_HTTP, "POST /orders, 1 unit of one item of --stock units",
	 setup_scarce, next_order, answer_order, lost_order, verify_scarce, NULL, OP_NONE, NULL},
	{"holdfast", "spread", PROTO_HTTP, "POST /orders, 1 unit of a random item of --items",
	 setup_spread, next_order_spread, answer_order, lost_order, verify_items,
	 NULL, OP_NONE, NULL},
	{"holdfast", "seats", PROTO_HTTP,
	 "POST /holds of 2-4 random seats of a 10,000-seat event, then POST /holds/{id}/confirm",
	 setup_seats, next_seats, answer_seats, lost_seats, verify_seats, NULL, OP_CONFIRM, NULL},
	{"holdfast", "mixed", PROTO_HTTP,
	 "POST /holds of 1 unit, then confirm (1/2), release (1/4) or let expire (1/4); test clock",
	 setup_mixed, next_mixed, answer_clock_or, lost_mixed, verify_mixed,
	 clock_tick, OP_NONE, NULL},
	{"holdfast", "onsale", PROTO_HTTP,
	 "POST /holds of 2-4 random seats of one event, then DELETE /holds/{id}; a probe seat "
	 "changes every --probe-ms; --watchers read its feed, --pollers its seat map",
	 setup_onsale, next_onsale, answer_onsale, lost_onsale, verify_onsale, probe_tick, OP_NONE,
	 report_onsale},
	{"holdfast", "batch", PROTO_HTTP, "POST /batch of --batch buy-now operations (hot item)",
	 setup_batch, next_batch, answer_batch, lost_batch, verify_items, NULL, OP_NONE, NULL},
	{"holdfast", "ping", PROTO_HTTP, "GET /health (no engine)", NULL, next_ping, answer_plain,
	 NULL, NULL, NULL, OP_NONE, NULL},
	{"ceiling", "hot", PROTO_HTTP, "holdfast's hot request bytes to an empty handler",
	 setup_ceiling, next_order, answer_plain, NULL, NULL, NULL, OP_NONE, NULL},
	{"ceiling", "ping", PROTO_HTTP, "GET /health to an empty handler", NULL, next_ping,
	 answer_plain, NULL, NULL, NULL, OP_NONE, NULL},
	{"django", "hot", PROTO_HTTP, "POST /products/1/sell {\"n\": 1}", setup_django, next_sell,
	 answer_sell, lost_peer, verify_external, NULL, OP_NONE, NULL},
	{"django", "scarce", PROTO_HTTP, "POST /products/1/sell {\"n\": 1} (stock set by the caller)",
	 setup_django, next_sell, answer_sell, lost_peer, verify_external, NULL, OP_NONE, NULL},
	{"django", "spread", PROTO_HTTP, "POST /products/{random}/sell {\"n\": 1}", setup_django,
	 next_sell_spread, answer_sell, lost_peer, verify_external, NULL, OP_NONE, NULL},
	{"django", "seats", PROTO_HTTP, "POST /shows/1/book 2-4 random seats of 10,000",
	 setup_django, next_book, answer_book, lost_peer, verify_external, NULL, OP_BOOK, NULL},
	{"django", "ping", PROTO_HTTP, "GET /ping (DRF, no database)", setup_django, next_ping_django,
	 answer_plain, NULL, NULL, NULL, OP_NONE, NULL},
	{"redis", "hot", PROTO_RESP, "EVALSHA check-and-decrement, one key", setup_redis_hot,
	 next_eval, answer_eval, lost_order, verify_redis, NULL, OP_NONE, NULL},
	{"redis", "scarce", PROTO_RESP, "EVALSHA check-and-decrement, one key of --stock",
	 setup_redis_scarce, next_eval, answer_eval, lost_order, verify_redis_scarce,
	 NULL, OP_NONE, NULL},
	{"redis", "spread", PROTO_RESP, "EVALSHA check-and-decrement, a random key of --items",
	 setup_redis_spread, next_eval_spread, answer_eval, lost_order, verify_redis,
	 NULL, OP_NONE, NULL},
};
const size_t n_rows = sizeof(rows) / sizeof(rows[0]);
