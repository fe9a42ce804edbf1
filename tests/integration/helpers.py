"""Shared assertions for the integration tests."""


def expect_error(r, status, code):
    """r is an error answer of the one shape {"error": {"code", "message", ...}}."""
    assert r.status_code == status, "expected %d %s, got %d: %s" % (status, code, r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    e = body["error"]
    assert e["code"] == code, body
    assert isinstance(e["message"], str) and e["message"], body
    return e


def expect_ok(r, status=200):
    assert r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text)
    return r.json()


# ---- state dump (stands in for hf_sm_digest, which HTTP does not expose) ----

# /metrics gauges that are a function of the state alone (no clocks, no
# traffic counters): a change to an object the dump does not name (a
# smuggled item, a stray customer, a stored idempotent reply) shows here.
STATE_GAUGES = ("holdfast_holds_active", "holdfast_orders", "holdfast_events", "holdfast_customers",
                "holdfast_seats", "holdfast_item_units", "holdfast_idempotency_entries")


def metric_samples(text, names):
    """{"name{labels}": value} for the samples of the given metric names in a
    Prometheus text answer."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key.split("{")[0] in names:
            out[key] = value
    return out


def _pages(srv, path, field):
    rows, after = [], None
    for _ in range(1000):
        r = srv.admin("GET", path + "?limit=100" + ("&after=" + after if after else ""))
        assert r.status_code == 200, r.text
        body = r.json()
        rows.extend(body[field])
        after = body["next"]
        if not after:
            return rows
    raise AssertionError("more than 1000 pages at " + path)


def state_dump(srv, events=(), items=(), customers=()):
    """A canonical dump of what the API shows of the state: each event (its
    counts and seat map), each item (its counters), each customer's active
    holds and orders (admin view), and the state gauges of /metrics. Two
    equal dumps mean the state did not change as far as a client can tell;
    read it with the test clock standing still."""
    d = {}
    for e in events:
        d["event " + e] = (srv.call("GET", "/events/" + e).text, srv.seats(e))
    for i in items:
        d["item " + i] = srv.call("GET", "/items/" + i).text
    for c in customers:
        d["holds " + c] = _pages(srv, "/customers/%s/holds" % c, "holds")
        d["orders " + c] = _pages(srv, "/customers/%s/orders" % c, "orders")
    m = srv.call("GET", "/metrics")
    assert m.status_code == 200, m.text
    d["gauges"] = metric_samples(m.text, STATE_GAUGES)
    return d
