/*
 * feed.h: live availability (SPEC section 7): the event and item feeds
 * (Server-Sent Events), the change log (GET /changes) and the published
 * mirror of seat states and item counters they are served from, without
 * the sequencer.
 *
 * Flow: the engine's observer (engine.h) runs on the sequencer and turns
 * each applied record into small deltas (a seat's new state, an item's
 * counters, a rendered change-log entry) tagged with the record's seq.
 * When the engine says records up to seq are durable, the hub thread
 * takes those deltas, applies them to its mirror, appends change-log
 * entries (memory and a file in the data directory), and sends each
 * watched topic's changes to its watchers: one message per topic at most
 * every HF_FEED_COALESCE_MS, rendered once and written to every watcher.
 * Nothing here ever blocks an engine thread: the observer only appends to
 * a list; the durable callback only wakes the hub.
 *
 * Ids: a feed message's id is the seq of the last log record it reflects
 * (log seqs only grow, across restarts too). A change-log entry's id is
 * one more than the last entry's, given when the entry is durable and
 * written to the changes file before anyone can read it; a restart
 * continues from the file's last id, after making again (through the
 * engine's replay, observer replay_from) the entries of the records the
 * file lacks. A snapshot is installed only once the file is synced up to
 * it (observer checkpoint), so those records are always in the log.
 */
#ifndef HF_SERVER_FEED_H
#define HF_SERVER_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

struct hf_feeds;
struct hf_httpd_conn;
struct hf_jw;

struct hf_feeds_config {
	const char *data_dir;      /* the change log's file lives here */
	uint32_t changes_retain;   /* change-log entries kept (memory and file) */
};

/* Before the engine opens: reads the change log kept in data_dir (if any)
 * and sets the observer's replay_from. NULL with err (an unreadable or
 * damaged changes file). */
struct hf_feeds *hf_feeds_new(const struct hf_feeds_config *cfg, char *err, size_t err_cap);
/* What to hand the engine (hf_engine_config.observer). */
const struct hf_engine_observer *hf_feeds_observer(struct hf_feeds *f);
/* Once the engine is open (it made data_dir): opens the change log for
 * appending (cut after its last whole line), starts the hub thread. -1
 * with err. */
int hf_feeds_start(struct hf_feeds *f, char *err, size_t err_cap);
/* Sends what is durable to the watchers, then lets go of every stream
 * (before the HTTP layer stops, which ends them). */
void hf_feeds_detach(struct hf_feeds *f);
/* After the engine closed: the last durable changes go to the change log,
 * the thread ends, everything is freed. */
void hf_feeds_free(struct hf_feeds *f);

enum hf_feed_kind { HF_FEED_NONE = 0, HF_FEED_EVENT = 1, HF_FEED_ITEM = 2, HF_FEED_CHANGES = 3 };

/* On a loop thread: opens the stream of an event's or item's feed (or the
 * change log's, name ignored) on c. last_event_id: the header's value or
 * NULL. Returns 200 (the stream is open), 404 (no such event or item), or
 * 503 (the stream budget is full). */
unsigned hf_feeds_open(struct hf_feeds *f, struct hf_httpd_conn *c, enum hf_feed_kind kind,
		       const char *name, uint32_t name_len, const char *last_event_id);

/* GET /changes: entries with id > after, oldest first, at most limit, as
 * {"changes": [...], "next": id, "oldest": id}. */
void hf_feeds_changes(struct hf_feeds *f, struct hf_jw *jw, uint64_t after, uint32_t limit);

/* GET /events/{id} (seats false), GET /events/{id}/seats?after=&limit=
 * (seats true; after: a seat id or NULL), GET /items/{id}, rendered from
 * the mirror into jw (already initialised) without the sequencer, from
 * the state after every record durable when the call began. Returns 200,
 * 404 (no such event or item), 400 (after: no such seat), or 0 when there
 * is no mirror (an engine without an observer: read through the engine). */
int hf_feeds_read(struct hf_feeds *f, enum hf_feed_kind kind, const char *name, uint32_t name_len,
		  const char *after, uint32_t limit, bool seats, struct hf_jw *jw);

struct hf_feeds_stats {
	uint64_t watchers, messages, cut, changes;
	uint64_t reads, renders; /* reads off the sequencer; seat pages rendered (the rest shared) */
};
void hf_feeds_stats(struct hf_feeds *f, struct hf_feeds_stats *out /* out */);

#endif
