/*
 * limits.h: every bound holdfast enforces, in one place, each with its reason.
 *
 * A bound that is exceeded is answered, never crashed on: by the core with a
 * result code (HF_TOO_MANY_LINES, HF_CAPACITY_FULL ...), by the server with
 * 413 or 503 + Retry-After. Changing a value here changes the contract, so
 * docs/API.md and docs/SECURITY.md quote this file.
 */
#ifndef HF_BASE_LIMITS_H
#define HF_BASE_LIMITS_H

/* Client-chosen ids (event, seat, item, customer, idempotency key):
 * [A-Za-z0-9._:-]{1,64}. 64 covers UUIDs with prefixes; longer ids are a
 * sign of abuse and would bloat the string pool. */
#define HF_ID_LEN_MAX 64

/* Free text: event and item names, seat section/row/category. */
#define HF_NAME_LEN_MAX 200
/* Item description and image URL: a paragraph, an URL. */
#define HF_TEXT_LEN_MAX 2000

/* Seat lines in one hold or order. A group booking of 100 seats is large for
 * a box office; a bound keeps a single command's apply time and reply size
 * small (the sequencer must not stall on one request). */
#define HF_HOLD_SEATS_MAX 100
/* Item lines in one hold or order (distinct items in a cart). */
#define HF_HOLD_ITEMS_MAX 50
/* Quantity of one item line, and of one line after merging (a cart line's
 * requested quantity never passes it either). */
#define HF_QUANTITY_MAX 1000000u
/* Stock of one item (available + held + sold) may not pass this. */
#define HF_STOCK_MAX 2000000000u
/* A price in minor units (cents): 10^10 is 100 million in the major unit,
 * beyond any ticket or product. With it every total stays inside int64:
 * HF_HOLD_ITEMS_MAX * HF_QUANTITY_MAX * HF_PRICE_MAX = 5 * 10^17, plus
 * HF_HOLD_SEATS_MAX * HF_PRICE_MAX and a fee of at most HF_PRICE_MAX. */
#define HF_PRICE_MAX 10000000000LL

/* Seats in one event: the largest stadium is ~150,000 seats. */
#define HF_EVENT_SEATS_MAX 200000u
/* Seats named in one block/unblock command. */
#define HF_BLOCK_SEATS_MAX HF_EVENT_SEATS_MAX

/* Active holds of one customer: a real person has a cart or two; a bot
 * hoarding inventory through thousands of holds is refused. */
#define HF_CUSTOMER_HOLDS_MAX 32

/* Hold lifetime: a hold's ttl_s and its extensions are bounded by the
 * state config's hold_lifetime_max_s (default 3600 s, hf_sm_config_default),
 * which may be configured up to a day, HF_HOLD_LIFETIME_MAX_S. A hold with no
 * ttl_s and no seats lives HF_HOLD_TTL_DEFAULT_S (the 5 minutes of the
 * ticketing rule). */
#define HF_HOLD_TTL_MAX_S 86400u
#define HF_HOLD_LIFETIME_MAX_S 86400u
#define HF_HOLD_TTL_DEFAULT_S 300u

/* Encoded size of one command or reply in the log / idempotency table. A
 * maximal event (HF_EVENT_SEATS_MAX seats with long names) fits. */
#define HF_CMD_BYTES_MAX (64u * 1024u * 1024u)
/* An encoded reply: a hold view with every line, or a seat refusal naming
 * every seat of the request. */
#define HF_REPLY_BYTES_MAX 8192u

/* Times are milliseconds since the Unix epoch in int64; anything outside
 * [0, year 9999] is rejected as input. */
#define HF_TIME_MS_MAX 253402300799999LL

/* ---- server (src/server/): HTTP bounds --------------------------------- */

/* Body of any request but POST /events: a hold or order of HF_HOLD_SEATS_MAX
 * seats and HF_HOLD_ITEMS_MAX items is under 20 KiB; 1 MiB leaves room for
 * long ids and whitespace and still bounds what one client can make us
 * buffer. Past it: 413. */
#define HF_HTTP_BODY_MAX (1u * 1024u * 1024u)
/* Body of POST /events: HF_EVENT_SEATS_MAX seats at ~150 bytes of JSON each
 * (ids, section, row, category, price) is ~30 MiB. */
#define HF_HTTP_EVENT_BODY_MAX (48u * 1024u * 1024u)
/* Request line + headers. Browsers and curl send < 2 KiB; a bearer token is
 * < 200 bytes. Past it: 431 (the connection layer answers it itself when
 * the headers never end). */
#define HF_HTTP_HEADER_MAX (8u * 1024u)
/* Open connections, total and from one IP address. An idle one costs a
 * socket and ~1 KiB (measured: 0.97 KiB each with 10,000 open); a busy one
 * an arena chunk (16 KiB) too; 4096 * ~20 KiB is 80 MiB at worst, plus the
 * bodies being received (up to the
 * route's limit, ~2x in the arena): only a caller whose credential passed
 * (checked before the body is read) can send a large one. The per-IP cap
 * keeps one client from taking them all, yet admits a load generator's
 * 1024 keep-alive connections. */
#define HF_HTTP_CONNECTIONS_MAX 4096u
#define HF_HTTP_CONNECTIONS_PER_IP_MAX 1024u
/* A connection with no traffic at all for this long is closed (keep-alive
 * clients reconnect). */
#define HF_HTTP_IDLE_TIMEOUT_S 30u
/* Whole-request timeout: a connection must deliver each complete request
 * (headers and body) within this many seconds of opening or of its
 * previous response; a slowloris client sending one byte every 2 s is cut
 * off here, since the idle timeout never fires for it. */
#define HF_HTTP_REQUEST_TIMEOUT_S 10u
/* Bytes a client may pipeline behind a request being answered before the
 * server stops reading from it (TCP then holds the rest back). */
#define HF_HTTP_PIPELINE_MAX (64u * 1024u)
/* Long-lived responses (event streams), a budget of their own so watchers
 * cannot take the connections buyers need, nor buyers the watchers'. Each
 * costs a socket and, while idle, a few hundred bytes. */
#define HF_HTTP_STREAMS_MAX 8192u
/* Bytes queued for one stream that its client has not read: past this it
 * is cut off (it would only fall further behind; a client reconnects and
 * resumes). Bounds the memory a slow or dead watcher can hold. */
#define HF_HTTP_STREAM_BUFFER_MAX (256u * 1024u)
/* Requests submitted to the engine and not yet applied: past it the server
 * answers 503 + Retry-After instead of queueing without bound (the queue
 * is memory, and a deep queue is only latency nobody waits for). */
#define HF_ENGINE_QUEUE_MAX 16384u
/* Operations in one POST /batch. A batch is applied in one sequencer
 * batch and answered as one response: 100 buy-now operations are ~10 KiB
 * of JSON in and ~40 KiB out, amortise the per-request costs (HTTP,
 * credential, wakeups) a hundredfold, and keep the sequencer's batch, and
 * so the latency of everyone queued behind it, small. */
#define HF_BATCH_OPS_MAX 100u
/* An operation's method and path (and idempotency_key) as text. */
#define HF_BATCH_METHOD_MAX 8u
#define HF_BATCH_PATH_MAX 512u
/* Retry-After (seconds) on 503. */
#define HF_HTTP_RETRY_AFTER_S 1u
/* Customer tokens: lifetime bounds (a token is a bearer secret; a day is
 * plenty for a session, a year for a test fixture). */
#define HF_TOKEN_TTL_DEFAULT_S 3600u
#define HF_TOKEN_TTL_MAX_S (366u * 86400u)
/* Customer list pages (GET /customers/{id}/holds|orders?limit=). */
#define HF_LIST_LIMIT_DEFAULT 20u
#define HF_LIST_LIMIT_MAX 100u
/* Seat map pages (GET /events/{id}/seats?limit=): rendered on the
 * sequencer thread, which applies nobody's booking meanwhile; 1,000 seats
 * are ~120 KiB of JSON and well under a millisecond, 10,000 a few ms (the
 * whole map of a 200,000-seat event was ~25 MB in one go). */
#define HF_SEAT_PAGE_DEFAULT 1000u
#define HF_SEAT_PAGE_MAX 10000u

/* Live feeds (src/server/feed.c). A topic (an event or an item) sends its
 * watchers at most one message per HF_FEED_COALESCE_MS: changes within it
 * are merged into one (each seat's latest state), so a hot event costs a
 * watcher at most 20 messages a second however fast it sells, and the
 * delivery delay stays well inside the 100 ms target. */
#define HF_FEED_COALESCE_MS 50u
/* A comment line this often on every stream (SSE heartbeat: proxies and
 * clients learn the connection lives; well inside the 30 s idle timeout
 * of common proxies). */
#define HF_FEED_HEARTBEAT_MS 10000u
/* Messages a topic keeps for Last-Event-ID resumes, and their bytes: a
 * client that was away longer gets a fresh snapshot instead. */
#define HF_FEED_RING_MSGS 1024u
#define HF_FEED_RING_BYTES (4u << 20)
/* Change-log entries kept (memory and the changes file) by default, ~300
 * bytes each (--changes-retain): a cursor older than that many entries
 * restarts from the oldest kept. */
#define HF_CHANGES_RETAIN 100000u
/* Entries per GET /changes page (bounded answer). */
#define HF_CHANGES_PAGE_MAX 1000u
#define HF_CHANGES_PAGE_DEFAULT 100u

#endif
