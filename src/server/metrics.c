/*
 * metrics.c: GET /metrics in the Prometheus text format (version 0.0.4).
 *
 * One table (`metrics`) names every metric with its type and help; each
 * row's emit function writes its samples. Counters kept here are relaxed
 * atomics bumped by worker threads (a scrape may see one request counted
 * in the histogram and not yet by route: fine for monitoring); engine and
 * state numbers come from hf_engine_stats and from hf_sm_stats taken on
 * the sequencer thread (a consistent snapshot of the state).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/sm.h"
#include "server/httpd.h"
#include "server/feed.h"
#include "server/server.h"

#define ROUTES_MAX 32
/* Status codes counted by route; others land in the last slot ("other").
 * 499: the client closed its connection while its request was parked (the
 * request was applied; its answer had no one to go to). */
static const uint16_t status_slots[] = {200, 201, 400, 401, 403, 404, 405,
					409, 413, 415, 431, 499, 500, 501, 503};
#define N_SLOTS (sizeof(status_slots) / sizeof(status_slots[0]))
/* Request latency buckets, microseconds (rendered as seconds). */
static const uint64_t lat_us[] = {100,   250,    500,    1000,   2500,    5000,    10000,
				  25000, 50000, 100000, 250000, 500000, 1000000, 2500000};
#define N_LAT (sizeof(lat_us) / sizeof(lat_us[0]))

static atomic_uint_fast64_t req_count[ROUTES_MAX + 1][N_SLOTS + 1];
static atomic_uint_fast64_t lat_hist[N_LAT + 1];
static atomic_uint_fast64_t lat_sum_us, lat_count;
static atomic_int_fast64_t conns_open;
static atomic_uint_fast64_t conns_cut;

void hf_metrics_request(int route_index, unsigned status, uint64_t latency_us)
{
	int row = route_index >= 0 && route_index < ROUTES_MAX ? route_index : ROUTES_MAX;
	size_t slot = 0;
	while (slot < N_SLOTS && status_slots[slot] != status)
		slot++;
	atomic_fetch_add_explicit(&req_count[row][slot], 1, memory_order_relaxed);
	size_t b = 0;
	while (b < N_LAT && latency_us > lat_us[b])
		b++;
	atomic_fetch_add_explicit(&lat_hist[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_sum_us, latency_us, memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_count, 1, memory_order_relaxed);
}

void hf_metrics_conn(int delta) { atomic_fetch_add_explicit(&conns_open, delta, memory_order_relaxed); }
void hf_metrics_timeout(void) { atomic_fetch_add_explicit(&conns_cut, 1, memory_order_relaxed); }

struct snap {
	struct hf_jw *out;
	const char *name;
	const struct hf_engine_stats *es;
	const struct hf_sm_stats *ss;
	int64_t in_flight;
	struct hf_httpd_stats hs; /* zero without a connection layer (tests) */
	struct hf_feeds_stats fs; /* zero without feeds */
};

__attribute__((format(printf, 2, 3))) static void put(struct snap *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		hf_jw_raw(s->out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void val(struct snap *s, unsigned long long v) { put(s, "%s %llu\n", s->name, v); }

static void emit_requests(struct snap *s)
{
	for (uint32_t r = 0; r <= ROUTES_MAX; r++) {
		char route[64];
		if (r < hf_route_count()) {
			const struct hf_route *rt = hf_route_get((int)r);
			snprintf(route, sizeof(route), "%s %s", rt->method, rt->pattern);
		} else if (r == ROUTES_MAX) {
			snprintf(route, sizeof(route), "unmatched");
		} else {
			continue;
		}
		for (size_t k = 0; k <= N_SLOTS; k++) {
			unsigned long long v = atomic_load_explicit(&req_count[r][k], memory_order_relaxed);
			if (!v)
				continue;
			char st[8];
			if (k < N_SLOTS)
				snprintf(st, sizeof(st), "%u", status_slots[k]);
			else
				snprintf(st, sizeof(st), "other");
			put(s, "%s{route=\"%s\",status=\"%s\"} %llu\n", s->name, route, st, v);
		}
	}
}

static void emit_latency(struct snap *s)
{
	unsigned long long cum = 0;
	for (size_t b = 0; b < N_LAT; b++) {
		cum += atomic_load_explicit(&lat_hist[b], memory_order_relaxed);
		put(s, "%s_bucket{le=\"%g\"} %llu\n", s->name, (double)lat_us[b] / 1e6, cum);
	}
	cum += atomic_load_explicit(&lat_hist[N_LAT], memory_order_relaxed);
	put(s, "%s_bucket{le=\"+Inf\"} %llu\n", s->name, cum);
	put(s, "%s_sum %.6f\n", s->name,
	    (double)atomic_load_explicit(&lat_sum_us, memory_order_relaxed) / 1e6);
	put(s, "%s_count %llu\n", s->name, cum);
}

static void emit_fsync(struct snap *s)
{
	unsigned long long cum = 0;
	for (int b = 0; b < 24; b++) {
		cum += s->es->fsync_us_hist[b];
		put(s, "%s_bucket{le=\"%g\"} %llu\n", s->name, (double)(1ull << b) / 1e6, cum);
	}
	put(s, "%s_bucket{le=\"+Inf\"} %llu\n", s->name, cum);
	put(s, "%s_count %llu\n", s->name, cum);
}

static void emit_seats(struct snap *s)
{
	for (int k = 0; k < 4; k++)
		put(s, "%s{state=\"%s\"} %llu\n", s->name, hf_seat_state_name((enum hf_seat_state)k),
		    (unsigned long long)s->ss->seats_by_state[k]);
}

static void emit_items(struct snap *s)
{
	put(s, "%s{counter=\"available\"} %llu\n", s->name, (unsigned long long)s->ss->items_available);
	put(s, "%s{counter=\"held\"} %llu\n", s->name, (unsigned long long)s->ss->items_held);
	put(s, "%s{counter=\"sold\"} %llu\n", s->name, (unsigned long long)s->ss->items_sold);
}

static void emit_batches(struct snap *s) { val(s, s->es->batches); }
static void emit_records(struct snap *s) { val(s, s->es->records); }
static void emit_fsyncs(struct snap *s) { val(s, s->es->fsyncs); }
static void emit_batch_last(struct snap *s) { val(s, s->es->batch_records_last); }
static void emit_batch_max(struct snap *s) { val(s, s->es->batch_records_max); }
static void emit_queue(struct snap *s) { val(s, s->es->queue_depth); }
static void emit_queue_full(struct snap *s) { val(s, s->es->queue_full); }
static void emit_fsync_max(struct snap *s) { put(s, "%s %.6f\n", s->name, (double)s->es->fsync_us_max / 1e6); }
static void emit_snapshots(struct snap *s) { val(s, s->es->snapshots); }
static void emit_snap_pause(struct snap *s)
{
	put(s, "%s %.6f\n", s->name, (double)s->es->snapshot_pause_us_max / 1e6);
}
static void emit_failed(struct snap *s) { val(s, s->es->failed); }
static void emit_holds_active(struct snap *s) { val(s, s->ss->holds_active); }
static void emit_holds_expired(struct snap *s) { val(s, s->ss->holds_expired_total); }
static void emit_orders(struct snap *s) { val(s, s->ss->orders); }
static void emit_events(struct snap *s) { val(s, s->ss->events); }
static void emit_customers(struct snap *s) { val(s, s->ss->customers); }
static void emit_idem(struct snap *s) { val(s, s->ss->idem_entries); }
static void emit_conns(struct snap *s)
{
	val(s, (unsigned long long)atomic_load_explicit(&conns_open, memory_order_relaxed));
}
static void emit_cut(struct snap *s) { val(s, atomic_load_explicit(&conns_cut, memory_order_relaxed)); }
static void emit_in_flight(struct snap *s) { val(s, (unsigned long long)s->in_flight); }
static void emit_refused(struct snap *s) { val(s, s->hs.refused); }
static void emit_streams(struct snap *s) { val(s, s->hs.streams); }
static void emit_streams_cut(struct snap *s) { val(s, s->hs.streams_cut); }
static void emit_watchers(struct snap *s) { val(s, s->fs.watchers); }
static void emit_feed_msgs(struct snap *s) { val(s, s->fs.messages); }
static void emit_feed_cut(struct snap *s) { val(s, s->fs.cut); }
static void emit_changes(struct snap *s) { val(s, s->fs.changes); }
static void emit_mirror_reads(struct snap *s) { val(s, s->fs.reads); }
static void emit_mirror_renders(struct snap *s) { val(s, s->fs.renders); }

/* Columns: name, type, help, emit. */
static const struct {
	const char *name;
	const char *type;
	const char *help;
	void (*emit)(struct snap *s);
} metrics[] = {
	{"holdfast_http_requests_total", "counter", "HTTP requests answered, by route and status", emit_requests},
	{"holdfast_http_request_duration_seconds", "histogram", "Time from a request's complete headers to its queued response", emit_latency},
	{"holdfast_http_connections_open", "gauge", "Open HTTP connections", emit_conns},
	{"holdfast_http_connections_timed_out_total", "counter", "Connections cut off by the whole-request timeout", emit_cut},
	{"holdfast_http_connections_refused_total", "counter", "Connections closed at accept: past --max-connections or the per-IP cap, or out of descriptors", emit_refused},
	{"holdfast_http_streams_open", "gauge", "Open long-lived responses (event streams)", emit_streams},
	{"holdfast_http_streams_cut_total", "counter", "Streams cut because their client did not read", emit_streams_cut},
	{"holdfast_http_requests_in_flight", "gauge", "Requests submitted to the engine and not yet answered", emit_in_flight},
	{"holdfast_engine_queue_depth", "gauge", "Requests waiting for the sequencer", emit_queue},
	{"holdfast_engine_queue_full_total", "counter", "Submissions refused because the queue was full (503)", emit_queue_full},
	{"holdfast_engine_batches_total", "counter", "Batches applied and made durable", emit_batches},
	{"holdfast_engine_records_total", "counter", "Log records written", emit_records},
	{"holdfast_engine_batch_records_last", "gauge", "Records in the last batch", emit_batch_last},
	{"holdfast_engine_batch_records_max", "gauge", "Records in the largest batch", emit_batch_max},
	{"holdfast_engine_fsyncs_total", "counter", "fsync calls", emit_fsyncs},
	{"holdfast_engine_fsync_duration_seconds", "histogram", "fsync latency", emit_fsync},
	{"holdfast_engine_fsync_seconds_max", "gauge", "Slowest fsync", emit_fsync_max},
	{"holdfast_engine_snapshots_total", "counter", "Snapshots written", emit_snapshots},
	{"holdfast_engine_snapshot_pause_seconds_max", "gauge", "Longest stop of the sequencer to start a snapshot (fork)", emit_snap_pause},
	{"holdfast_engine_failed", "gauge", "1 once a disk error stopped the engine", emit_failed},
	{"holdfast_holds_active", "gauge", "Active holds", emit_holds_active},
	{"holdfast_holds_expired_total", "counter", "Holds expired since start", emit_holds_expired},
	{"holdfast_orders", "gauge", "Orders kept", emit_orders},
	{"holdfast_events", "gauge", "Events", emit_events},
	{"holdfast_customers", "gauge", "Customers known", emit_customers},
	{"holdfast_seats", "gauge", "Seats by state", emit_seats},
	{"holdfast_item_units", "gauge", "Item units summed over all items, by counter", emit_items},
	{"holdfast_idempotency_entries", "gauge", "Stored idempotent replies", emit_idem},
	{"holdfast_feed_watchers", "gauge", "Open feed streams (events, items, the change log)", emit_watchers},
	{"holdfast_feed_messages_total", "counter", "Feed change messages rendered (each sent to every watcher of its topic)", emit_feed_msgs},
	{"holdfast_feed_watchers_cut_total", "counter", "Feed watchers cut off (left, or too far behind)", emit_feed_cut},
	{"holdfast_changes_total", "counter", "Change-log entries appended since start", emit_changes},
	{"holdfast_mirror_reads_total", "counter", "Event, seat map and item reads served off the sequencer", emit_mirror_reads},
	{"holdfast_mirror_seat_pages_rendered_total", "counter", "Seat pages rendered (the other reads shared one)", emit_mirror_renders},
};

void hf_metrics_render(struct hf_req *r, const struct hf_engine_stats *es,
		       const struct hf_sm_stats *ss)
{
	struct snap s = {.out = &r->out, .es = es, .ss = ss};
	s.in_flight = atomic_load_explicit(&r->srv->in_flight, memory_order_relaxed);
	if (r->srv->httpd)
		hf_httpd_stats(r->srv->httpd, &s.hs);
	if (r->srv->feeds)
		hf_feeds_stats(r->srv->feeds, &s.fs);
	r->resp_type = "text/plain; version=0.0.4; charset=utf-8";
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		s.name = metrics[i].name;
		put(&s, "# HELP %s %s\n# TYPE %s %s\n", metrics[i].name, metrics[i].help,
		    metrics[i].name, metrics[i].type);
		metrics[i].emit(&s);
	}
}
