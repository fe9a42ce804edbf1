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
/* Quantity of one item line: keeps every sum of quantities inside int64 and
 * every counter inside uint32 with room to spare. */
#define HF_QUANTITY_MAX 1000000u
/* Stock of one item (available + held + sold) may not pass this. */
#define HF_STOCK_MAX 2000000000u
/* A price in minor units (cents). 10^12 minor units is 10 billion in the
 * major unit: beyond any ticket or product, and sums of HF_HOLD_*_MAX lines
 * times HF_QUANTITY_MAX stay far inside int64. */
#define HF_PRICE_MAX 1000000000000LL

/* Seats in one event: the largest stadium is ~150,000 seats. */
#define HF_EVENT_SEATS_MAX 200000u
/* Seats named in one block/unblock command. */
#define HF_BLOCK_SEATS_MAX HF_EVENT_SEATS_MAX

/* Active holds of one customer: a real person has a cart or two; a bot
 * hoarding inventory through thousands of holds is refused. */
#define HF_CUSTOMER_HOLDS_MAX 32

/* Hold time-to-live: at least a second, at most a day. Extensions may not
 * push a hold's total lifetime past HF_HOLD_LIFETIME_MAX_S. */
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

#endif
