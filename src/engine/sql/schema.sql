-- schema.sql: the PostgreSQL engine's tables, version 1 (src/engine/postgres.c
-- runs this file once, inside one transaction, when the database has no
-- holdfast schema yet; docs/POSTGRES.md describes every table for reporting).
--
-- Two kinds of tables live in the schema "holdfast":
--
--   The order (written by holdfast, read by holdfast):
--     schema_version  which version of this file made the schema
--     config          the state machine's capacities and policies (every
--                     process must apply the log with the same ones)
--     head            one row: the last log sequence number handed out, the
--                     test clock, the token secret. Every write transaction
--                     begins by updating this row, which is the one lock that
--                     puts all writes of all processes in one total order.
--     log             one row per committed write batch: its time and its
--                     commands in the core's binary codec (src/core/cmd.h).
--                     Replaying the log from a snapshot rebuilds the state.
--     snapshots       the core's state as bytes at a log position (bounds
--                     the log and a new process's start-up).
--
--   The plain tables (written by holdfast in the same transaction as the log
--   row that changed them, for reports: read them, never write them):
--     events, seats, items, holds, hold_seats, hold_items, orders,
--     order_seats, order_items.
--   A hold whose expires_at has passed is expired whether or not the sweep
--   (an idle process applying the clock) has rewritten its row yet: the view
--   holds_now applies that rule, as holdfast does in every read.
--
-- Times are timestamptz (UTC, millisecond precision); money is bigint minor
-- units; states are the API's words.

CREATE SCHEMA IF NOT EXISTS holdfast;

CREATE TABLE holdfast.schema_version (
	version integer NOT NULL
);

CREATE TABLE holdfast.config (
	id                  integer PRIMARY KEY CHECK (id = 1),
	max_events          bigint NOT NULL,
	max_seats           bigint NOT NULL,
	max_items           bigint NOT NULL,
	max_customers       bigint NOT NULL,
	max_holds           bigint NOT NULL,
	max_orders          bigint NOT NULL,
	max_lines           bigint NOT NULL,
	string_bytes        bigint NOT NULL,
	idem_entries        bigint NOT NULL,
	idem_bytes          bigint NOT NULL,
	idem_retention_ms   bigint NOT NULL,
	shipping_fee        bigint NOT NULL,
	free_shipping_over  bigint NOT NULL,
	hold_lifetime_max_s bigint NOT NULL
);

CREATE TABLE holdfast.head (
	id           integer PRIMARY KEY CHECK (id = 1),
	seq          bigint NOT NULL,   -- the last log seq handed out
	test_now_ms  bigint NOT NULL,   -- the clock of --test-clock processes
	token_secret bytea NOT NULL     -- HMAC key of customer tokens (32 bytes)
);

CREATE TABLE holdfast.log (
	seq        bigint PRIMARY KEY,
	now_ms     bigint NOT NULL,      -- the time the batch was applied at
	n_commands integer NOT NULL,
	commands   bytea NOT NULL,       -- n_commands x (u32 length, encoded command)
	written_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE holdfast.snapshots (
	seq        bigint PRIMARY KEY,   -- the state after log row seq
	now_ms     bigint NOT NULL,
	image      bytea NOT NULL,       -- hf_sm_snapshot_write (same build, same machine kind)
	written_at timestamptz NOT NULL DEFAULT now()
);

-- ---- plain tables ---------------------------------------------------------

CREATE TABLE holdfast.events (
	id               text PRIMARY KEY,
	name             text NOT NULL,
	starts_at        timestamptz NOT NULL,
	hold_ttl_s       integer NOT NULL,
	max_per_customer integer NOT NULL,      -- 0: no limit
	sale_opens_at    timestamptz,           -- NULL: open since forever
	sale_closes_at   timestamptz            -- NULL: never closes
);

CREATE TABLE holdfast.seats (
	event    text NOT NULL REFERENCES holdfast.events (id),
	id       text NOT NULL,
	section  text NOT NULL,
	row      text NOT NULL,
	number   integer NOT NULL,
	price    bigint NOT NULL,
	category text NOT NULL,
	state    text NOT NULL,                 -- free | held | sold | blocked
	PRIMARY KEY (event, id)
);

CREATE TABLE holdfast.items (
	id          text PRIMARY KEY,
	name        text NOT NULL,
	category    text NOT NULL,
	description text NOT NULL,
	image_url   text NOT NULL,
	price       bigint NOT NULL,
	available   bigint NOT NULL,
	held        bigint NOT NULL,
	sold        bigint NOT NULL
);

CREATE TABLE holdfast.holds (
	id              bigint PRIMARY KEY,
	customer        text NOT NULL,
	state           text NOT NULL,          -- active | confirmed | released | expired
	created_at      timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL,
	order_id        bigint,                 -- the order a confirmed hold became
	total           bigint NOT NULL,
	total_with_fees bigint NOT NULL
);
CREATE INDEX holds_customer ON holdfast.holds (customer, id);

CREATE TABLE holdfast.hold_seats (
	hold_id bigint NOT NULL REFERENCES holdfast.holds (id),
	line    integer NOT NULL,               -- position in the hold
	event   text NOT NULL,
	seat    text NOT NULL,
	price   bigint NOT NULL,
	PRIMARY KEY (hold_id, line)
);

CREATE TABLE holdfast.hold_items (
	hold_id   bigint NOT NULL REFERENCES holdfast.holds (id),
	line      integer NOT NULL,
	item      text NOT NULL,
	quantity  bigint NOT NULL,
	requested bigint NOT NULL,
	price     bigint NOT NULL,
	PRIMARY KEY (hold_id, line)
);

CREATE TABLE holdfast.orders (
	id              bigint PRIMARY KEY,
	customer        text NOT NULL,
	status          text NOT NULL,          -- under_review | packaged | shipped | delivered | canceled
	created_at      timestamptz NOT NULL,
	total           bigint NOT NULL,
	total_with_fees bigint NOT NULL
);
CREATE INDEX orders_customer ON holdfast.orders (customer, id);

CREATE TABLE holdfast.order_seats (
	order_id bigint NOT NULL REFERENCES holdfast.orders (id),
	line     integer NOT NULL,
	event    text NOT NULL,
	seat     text NOT NULL,
	price    bigint NOT NULL,
	PRIMARY KEY (order_id, line)
);

CREATE TABLE holdfast.order_items (
	order_id  bigint NOT NULL REFERENCES holdfast.orders (id),
	line      integer NOT NULL,
	item      text NOT NULL,
	quantity  bigint NOT NULL,
	requested bigint NOT NULL,
	price     bigint NOT NULL,
	PRIMARY KEY (order_id, line)
);

-- Holds as every holdfast read shows them: past expires_at is expired.
CREATE VIEW holdfast.holds_now AS
	SELECT id, customer,
	       CASE WHEN state = 'active' AND expires_at <= now() THEN 'expired' ELSE state END AS state,
	       created_at, expires_at, order_id, total, total_with_fees
	FROM holdfast.holds;

-- holdfast.ms(ms): a log time (milliseconds since 1970 UTC) as timestamptz.
CREATE FUNCTION holdfast.ms(ms bigint) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE AS $$ SELECT timestamptz 'epoch' + ms * interval '1 millisecond' $$;

-- holdfast.write_rows(doc): writes the plain-table rows one batch changed.
-- doc = {"events": [...], "seats": [...], "items": [...], "holds": [...],
-- "ended": [...], "orders": [...]}, each row as the state machine has it after the batch
-- (postgres.c, rows_*). Holds and orders carry their lines, which replace
-- the stored ones (a hold's lines change; an order's never do). Events and
-- seat descriptions never change once created; seat states and item
-- counters do.
CREATE FUNCTION holdfast.write_rows(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	-- Each block runs only when the batch changed that kind of row (a batch
	-- of buy-now orders touches items and orders only).
	IF doc ? 'events' THEN
	INSERT INTO holdfast.events
	SELECT e.id, e.name, holdfast.ms(e.starts_at_ms), e.hold_ttl_s, e.max_per_customer,
	       CASE WHEN e.sale_opens_at_ms = 0 THEN NULL ELSE holdfast.ms(e.sale_opens_at_ms) END,
	       CASE WHEN e.sale_closes_at_ms = 0 THEN NULL ELSE holdfast.ms(e.sale_closes_at_ms) END
	FROM jsonb_to_recordset(doc->'events') AS e(id text, name text, starts_at_ms bigint,
		hold_ttl_s integer, max_per_customer integer, sale_opens_at_ms bigint, sale_closes_at_ms bigint)
	ON CONFLICT (id) DO NOTHING;
	END IF;

	IF doc ? 'seats' THEN
	INSERT INTO holdfast.seats
	SELECT s.event, s.id, s.section, s.row, s.number, s.price, s.category, s.state
	FROM jsonb_to_recordset(doc->'seats') AS s(event text, id text, section text, "row" text,
		number integer, price bigint, category text, state text)
	ON CONFLICT (event, id) DO UPDATE SET state = excluded.state;
	END IF;

	IF doc ? 'items' THEN
	INSERT INTO holdfast.items
	SELECT i.id, i.name, i.category, i.description, i.image_url, i.price, i.available, i.held, i.sold
	FROM jsonb_to_recordset(doc->'items') AS i(id text, name text, category text, description text,
		image_url text, price bigint, available bigint, held bigint, sold bigint)
	ON CONFLICT (id) DO UPDATE SET available = excluded.available, held = excluded.held,
		sold = excluded.sold;
	END IF;

	IF doc ? 'holds' THEN
	INSERT INTO holdfast.holds
	SELECT h.id, h.customer, h.state, holdfast.ms(h.created_at_ms), holdfast.ms(h.expires_at_ms),
	       NULLIF(h.order_id, 0), h.total, h.total_with_fees
	FROM jsonb_to_recordset(doc->'holds') AS h(id bigint, customer text, state text,
		created_at_ms bigint, expires_at_ms bigint, order_id bigint, total bigint, total_with_fees bigint)
	ON CONFLICT (id) DO UPDATE SET customer = excluded.customer, state = excluded.state,
		created_at = excluded.created_at, expires_at = excluded.expires_at,
		order_id = excluded.order_id, total = excluded.total,
		total_with_fees = excluded.total_with_fees;
	DELETE FROM holdfast.hold_seats WHERE hold_id IN
		(SELECT (h->>'id')::bigint FROM jsonb_array_elements(doc->'holds') AS h);
	DELETE FROM holdfast.hold_items WHERE hold_id IN
		(SELECT (h->>'id')::bigint FROM jsonb_array_elements(doc->'holds') AS h);
	INSERT INTO holdfast.hold_seats
	SELECT (h->>'id')::bigint, l.n, l.v->>'event', l.v->>'seat', (l.v->>'price')::bigint
	FROM jsonb_array_elements(doc->'holds') AS h,
	     jsonb_array_elements(h->'seats') WITH ORDINALITY AS l(v, n);
	INSERT INTO holdfast.hold_items
	SELECT (h->>'id')::bigint, l.n, l.v->>'item', (l.v->>'quantity')::bigint,
	       (l.v->>'requested')::bigint, (l.v->>'price')::bigint
	FROM jsonb_array_elements(doc->'holds') AS h,
	     jsonb_array_elements(h->'items') WITH ORDINALITY AS l(v, n);
	END IF;

	-- Holds that ended and whose slot the state recycled in the same batch
	-- (no view of them is left): only the state changes.
	IF doc ? 'ended' THEN
	UPDATE holdfast.holds AS h SET state = x.state
	FROM jsonb_to_recordset(doc->'ended') AS x(id bigint, state text)
	WHERE h.id = x.id;
	END IF;

	IF doc ? 'orders' THEN
	INSERT INTO holdfast.orders
	SELECT o.id, o.customer, o.status, holdfast.ms(o.created_at_ms), o.total, o.total_with_fees
	FROM jsonb_to_recordset(doc->'orders') AS o(id bigint, customer text, status text,
		created_at_ms bigint, total bigint, total_with_fees bigint)
	ON CONFLICT (id) DO UPDATE SET status = excluded.status;
	-- An order's lines are written once, with the order.
	INSERT INTO holdfast.order_seats
	SELECT (o->>'id')::bigint, l.n, l.v->>'event', l.v->>'seat', (l.v->>'price')::bigint
	FROM jsonb_array_elements(doc->'orders') AS o,
	     jsonb_array_elements(o->'seats') WITH ORDINALITY AS l(v, n)
	ON CONFLICT DO NOTHING;
	INSERT INTO holdfast.order_items
	SELECT (o->>'id')::bigint, l.n, l.v->>'item', (l.v->>'quantity')::bigint,
	       (l.v->>'requested')::bigint, (l.v->>'price')::bigint
	FROM jsonb_array_elements(doc->'orders') AS o,
	     jsonb_array_elements(o->'items') WITH ORDINALITY AS l(v, n)
	ON CONFLICT DO NOTHING;
	END IF;
END
$$;

INSERT INTO holdfast.schema_version (version) VALUES (1);
