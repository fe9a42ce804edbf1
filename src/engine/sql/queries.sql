-- queries.sql: every statement the PostgreSQL engine (src/engine/postgres.c)
-- sends, by name. postgres.c refers to each by the name on its "-- name:"
-- line; the text up to the next such line is the statement. Parameters are
-- $1, $2 ... as listed under each name.

-- name: schema_lock
-- Serialises schema creation and upgrades between processes starting at once.
SELECT pg_advisory_xact_lock(7366253061235)

-- name: schema_version
-- The schema's version, or no row when holdfast has never run here.
SELECT version FROM holdfast.schema_version
WHERE to_regclass('holdfast.schema_version') IS NOT NULL

-- name: schema_exists
SELECT to_regclass('holdfast.schema_version') IS NOT NULL

-- name: config_get
SELECT max_events, max_seats, max_items, max_customers, max_holds, max_orders, max_lines,
       string_bytes, idem_entries, idem_bytes, idem_retention_ms, shipping_fee,
       free_shipping_over, hold_lifetime_max_s
FROM holdfast.config WHERE id = 1

-- name: config_put
-- $1..$14: the config's fields in config_get's order.
INSERT INTO holdfast.config VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)

-- name: head_init
-- $1: the token secret made by the first process; $2: the test clock's start.
INSERT INTO holdfast.head (id, seq, test_now_ms, token_secret) VALUES (1, 0, $2, $1)
ON CONFLICT (id) DO NOTHING

-- name: head_get
SELECT seq, test_now_ms, token_secret FROM holdfast.head WHERE id = 1

-- name: snapshot_latest
SELECT seq, now_ms, image FROM holdfast.snapshots ORDER BY seq DESC LIMIT 1

-- name: write_begin
-- The one lock: every write batch updates the head row first, so batches of
-- all processes follow each other in the order they got it. Returns the
-- batch's seq and the clocks: the test clock and the database's clock
-- (milliseconds since 1970).
UPDATE holdfast.head SET seq = seq + 1 WHERE id = 1
RETURNING seq, test_now_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint

-- name: log_since
-- $1: the last seq this process applied. What other processes appended
-- since, in order (under the lock: everything before this batch).
SELECT seq, now_ms, n_commands, commands FROM holdfast.log WHERE seq > $1 ORDER BY seq

-- name: read_begin
-- A read-only batch: the clocks, without the lock (log_since follows).
SELECT test_now_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
FROM holdfast.head WHERE id = 1

-- name: log_append
-- $1 seq, $2 now_ms, $3 n_commands, $4 commands (binary).
INSERT INTO holdfast.log (seq, now_ms, n_commands, commands) VALUES ($1, $2, $3, $4)

-- name: write_rows
-- $1: the rows the batch changed (schema.sql, holdfast.write_rows).
SELECT holdfast.write_rows($1::jsonb)

-- name: log_get
-- $1 seq: after a lost connection, whether a batch committed.
SELECT commands FROM holdfast.log WHERE seq = $1

-- name: clock_advance
-- $1: milliseconds to add to the shared test clock.
UPDATE holdfast.head SET test_now_ms = test_now_ms + $1 WHERE id = 1 RETURNING test_now_ms

-- name: clock_get
SELECT test_now_ms FROM holdfast.head WHERE id = 1

-- name: snapshot_put
-- $1 seq, $2 now_ms, $3 image (binary).
INSERT INTO holdfast.snapshots (seq, now_ms, image) VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING

-- name: snapshot_prune
-- $1: the seq of the snapshot before the newest. The log up to it and older
-- snapshots go (one snapshot of slack for processes catching up).
DELETE FROM holdfast.log WHERE seq <= $1

-- name: snapshot_prune_images
DELETE FROM holdfast.snapshots WHERE seq < $1
