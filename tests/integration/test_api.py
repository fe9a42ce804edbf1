"""Every route's happy path, and the answer shape of each (SPEC section 4)."""
import re

from helpers import expect_error, expect_ok

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_events_catalog(srv):
    body = {"id": "show-1", "name": "Night Show", "starts_at": "2030-05-01T20:00:00+00:00",
            "hold_ttl_s": 120, "max_per_customer": 4,
            "sale_opens_at": "2020-01-01T00:00:00.5Z", "sale_closes_at": "2040-01-01T00:00:00Z",
            "seats": [{"id": "A-1", "section": "Stalls", "row": "A", "number": 1, "price": 5000, "category": "vip"},
                      {"id": "A-2", "price": 4000}]}
    e = expect_ok(srv.admin("POST", "/events", body), 201)
    assert e["id"] == "show-1" and e["starts_at"] == "2030-05-01T20:00:00Z" and e["seat_count"] == 2
    assert e["sale_opens_at"] == "2020-01-01T00:00:00.500Z"
    g = expect_ok(srv.call("GET", "/events/show-1"))
    assert g["name"] == "Night Show" and g["hold_ttl_s"] == 120 and g["max_per_customer"] == 4
    assert g["counts"] == {"free": 2, "held": 0, "sold": 0, "blocked": 0}
    seats = expect_ok(srv.call("GET", "/events/show-1/seats"))["seats"]
    assert seats[0] == {"id": "A-1", "section": "Stalls", "row": "A", "number": 1, "price": 5000,
                        "category": "vip", "state": "free"}
    assert seats[1]["id"] == "A-2" and seats[1]["state"] == "free"

    b = expect_ok(srv.admin("POST", "/events/show-1/block", {"seats": ["A-2"]}))
    assert b == {"event": "show-1", "state": "blocked", "seats": ["A-2"]}
    assert srv.seat_states("show-1") == {"A-1": "free", "A-2": "blocked"}
    assert expect_ok(srv.call("GET", "/events/show-1"))["counts"]["blocked"] == 1
    u = expect_ok(srv.admin("POST", "/events/show-1/unblock", {"seats": ["A-2"]}))
    assert u["state"] == "free"
    assert srv.seat_states("show-1") == {"A-1": "free", "A-2": "free"}


def test_items_catalog(srv):
    body = {"id": "mug", "name": "Mug", "category": "kitchen", "description": "A mug \u2615",
            "image_url": "https://example.com/mug.png", "price": 1299, "stock": 7}
    i = expect_ok(srv.admin("POST", "/items", body), 201)
    assert i == {"id": "mug", "name": "Mug", "category": "kitchen", "description": "A mug \u2615",
                 "image_url": "https://example.com/mug.png", "price": 1299,
                 "available": 7, "held": 0, "sold": 0}
    assert expect_ok(srv.call("GET", "/items/mug")) == i
    r = expect_ok(srv.admin("POST", "/items/mug/restock", {"quantity": 3}))
    assert r == {"item": "mug", "added": 3}
    assert srv.item("mug")["available"] == 10


def test_hold_lifecycle(srv):
    srv.make_event("ev", ["S1", "S2", "S3"], price=2500)
    srv.make_item("tee", 10, price=1500)
    t = srv.token("alice")
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}],
                                              "items": [{"item": "tee", "quantity": 2}]}, token=t), 201)
    assert re.match(r"^h-\d+$", h["id"]) and h["customer"] == "alice" and h["state"] == "active"
    assert RFC3339.match(h["expires_at"]) and RFC3339.match(h["created_at"])
    assert h["seats"] == [{"event": "ev", "seat": "S1", "price": 2500}]
    assert h["items"][0]["item"] == "tee" and h["items"][0]["quantity"] == 2 and h["items"][0]["price"] == 1500
    assert h["total"] == 2500 + 3000 and h["fees"] == 500 and h["total_with_fees"] == 6000
    hid = h["id"]

    g = expect_ok(srv.call("GET", "/holds/" + hid, token=t))
    assert g == h

    a = expect_ok(srv.call("POST", "/holds/%s/add" % hid, {"seats": [{"event": "ev", "seat": "S2"}],
                                                           "items": [{"item": "tee", "quantity": 1}]}, token=t))
    assert [s["seat"] for s in a["seats"]] == ["S1", "S2"]
    assert a["items"][0]["quantity"] == 3 and len(a["items"]) == 1
    rm = expect_ok(srv.call("POST", "/holds/%s/remove" % hid, {"seats": [{"event": "ev", "seat": "S1"}],
                                                               "items": [{"item": "tee", "quantity": 3}]}, token=t))
    assert [s["seat"] for s in rm["seats"]] == ["S2"] and rm["items"] == []
    assert rm["fees"] == 0 and rm["total_with_fees"] == 2500
    assert srv.item("tee")["available"] == 10

    x = expect_ok(srv.call("POST", "/holds/%s/extend" % hid, {"ttl_s": 900}, token=t))
    assert x["expires_at"] > h["expires_at"]

    lst = expect_ok(srv.call("GET", "/customers/alice/holds", token=t))
    assert [x["id"] for x in lst["holds"]] == [hid] and lst["next"] is None

    o = expect_ok(srv.call("POST", "/holds/%s/confirm" % hid, token=t))
    assert re.match(r"^o-\d+$", o["id"]) and o["status"] == "under_review" and o["customer"] == "alice"
    assert o["seats"] == [{"event": "ev", "seat": "S2", "price": 2500}] and "expires_at" not in o
    g = expect_ok(srv.call("GET", "/holds/" + hid, token=t))
    assert g["state"] == "confirmed" and g["order"] == o["id"]
    assert expect_ok(srv.call("GET", "/orders/" + o["id"], token=t)) == o
    assert srv.seat_states("ev")["S2"] == "sold"
    assert expect_ok(srv.call("GET", "/customers/alice/holds", token=t))["holds"] == []
    orders = expect_ok(srv.call("GET", "/customers/alice/orders", token=t))["orders"]
    assert [x["id"] for x in orders] == [o["id"]]

    # release (DELETE) of a second hold
    h2 = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S3"}]}, token=t), 201)
    d = expect_ok(srv.call("DELETE", "/holds/" + h2["id"], token=t))
    assert d["state"] == "released"
    assert srv.seat_states("ev")["S3"] == "free"


def test_orders_buy_now_status_cancel(srv):
    srv.make_event("ev", ["S1", "S2"])
    srv.make_item("cap", 5, price=700)
    t = srv.token("bob")
    o = expect_ok(srv.call("POST", "/orders", {"seats": [{"event": "ev", "seat": "S1"}],
                                               "items": [{"item": "cap", "quantity": 2}]}, token=t), 201)
    assert o["status"] == "under_review" and o["total"] == 1000 + 1400 and o["total_with_fees"] == 2900
    assert srv.seat_states("ev")["S1"] == "sold"
    assert srv.item("cap")["sold"] == 2
    for st in ["packaged", "shipped", "delivered"]:
        s = expect_ok(srv.admin("POST", "/orders/%s/status" % o["id"], {"status": st}))
        assert s["status"] == st
    e = expect_error(srv.admin("POST", "/orders/%s/status" % o["id"], {"status": "packaged"}), 409, "invalid_transition")
    assert e["current_status"] == "delivered"

    o2 = expect_ok(srv.call("POST", "/orders", {"seats": [{"event": "ev", "seat": "S2"}]}, token=t), 201)
    c = expect_ok(srv.call("POST", "/orders/%s/cancel" % o2["id"], token=t))
    assert c["status"] == "canceled"
    assert srv.seat_states("ev")["S2"] == "free"
    # the admin may cancel for a customer; skipping a step forward is allowed
    o3 = expect_ok(srv.call("POST", "/orders", {"items": [{"item": "cap", "quantity": 1}]}, token=t), 201)
    expect_ok(srv.admin("POST", "/orders/%s/status" % o3["id"], {"status": "shipped"}))
    expect_error(srv.admin("POST", "/orders/%s/cancel" % o3["id"]), 409, "invalid_transition")
    o4 = expect_ok(srv.admin("POST", "/orders", {"customer": "bob", "items": [{"item": "cap", "quantity": 1}]}), 201)
    assert o4["customer"] == "bob"
    assert expect_ok(srv.admin("POST", "/orders/%s/cancel" % o4["id"]))["status"] == "canceled"


def test_customer_list_pagination(srv):
    srv.make_item("pen", 100)
    t = srv.token("carol")
    ids = [expect_ok(srv.call("POST", "/orders", {"items": [{"item": "pen", "quantity": 1}]}, token=t), 201)["id"]
           for _ in range(5)]
    p1 = expect_ok(srv.call("GET", "/customers/carol/orders?limit=2", token=t))
    assert [o["id"] for o in p1["orders"]] == [ids[4], ids[3]] and p1["next"] == ids[3]
    p2 = expect_ok(srv.call("GET", "/customers/carol/orders?limit=2&after=" + p1["next"], token=t))
    assert [o["id"] for o in p2["orders"]] == [ids[2], ids[1]]
    p3 = expect_ok(srv.call("GET", "/customers/carol/orders?limit=2&after=" + p2["next"], token=t))
    assert [o["id"] for o in p3["orders"]] == [ids[0]] and p3["next"] is None
    # the admin sees any customer's lists; an unknown customer has none
    assert len(expect_ok(srv.admin("GET", "/customers/carol/orders"))["orders"]) == 5
    assert expect_ok(srv.admin("GET", "/customers/nobody/holds"))["holds"] == []
    expect_error(srv.call("GET", "/customers/carol/orders?limit=0", token=t), 400, "bad_request")
    expect_error(srv.call("GET", "/customers/carol/orders?after=x-1", token=t), 400, "bad_request")


def test_tokens_health_metrics(srv):
    r = expect_ok(srv.admin("POST", "/tokens", {"customer": "dave", "ttl_s": 60}), 201)
    assert r["token"].startswith("hft1.") and RFC3339.match(r["expires_at"]) and r["customer"] == "dave"
    h = expect_ok(srv.call("GET", "/health"))
    assert h["status"] == "ok"
    srv.make_event("ev", ["S1"])
    m = srv.call("GET", "/metrics")
    assert m.status_code == 200 and m.headers["Content-Type"].startswith("text/plain")
    text = m.text
    for name in ["holdfast_http_requests_total{route=\"POST /events\",status=\"201\"} 1",
                 "holdfast_http_request_duration_seconds_bucket{le=\"+Inf\"}",
                 "holdfast_engine_batch_records_last", "holdfast_engine_fsync_duration_seconds_bucket",
                 "holdfast_engine_queue_depth", "holdfast_holds_active 0",
                 "holdfast_seats{state=\"free\"} 1", "holdfast_item_units{counter=\"available\"} 0"]:
        assert name in text, name
    # every sample line parses as Prometheus text
    for line in text.splitlines():
        if not line.startswith("#"):
            assert re.match(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$', line), line


def test_test_clock_route(holdfast, srv):
    before = expect_ok(srv.call("GET", "/health"))["now"]
    now = srv.advance(3600)
    assert now > before
    assert expect_ok(srv.call("GET", "/health"))["now"] == now
    plain = holdfast(test_clock=False)
    expect_error(plain.admin("POST", "/admin/clock", {"advance_s": 1}), 404, "not_found")


def test_seat_map_pages(srv):
    """GET /events/{id}/seats a page at a time: every seat once, in the
    event's order, whatever the page size; next is null on the last page."""
    ids = ["S%d" % i for i in range(1, 2502)]
    srv.make_event("big", ids)
    first = expect_ok(srv.call("GET", "/events/big/seats"))
    assert [s["id"] for s in first["seats"]] == ids[:1000] and first["next"] == "S1000"
    for limit in (1, 7, 1000, 2501, 10000):
        got, after, pages = [], None, 0
        while True:
            q = "?limit=%d" % limit + ("&after=" + after if after else "")
            body = expect_ok(srv.call("GET", "/events/big/seats" + q))
            got.extend(s["id"] for s in body["seats"])
            after, pages = body["next"], pages + 1
            if after is None:
                break
            assert after == got[-1]
            assert pages < 3000
        assert got == ids, limit
        assert pages == -(-len(ids) // limit), (limit, pages)
    last = expect_ok(srv.call("GET", "/events/big/seats?after=S2501"))
    assert last["seats"] == [] and last["next"] is None
    for bad, path in [("?limit=0", "?limit"), ("?limit=10001", "?limit"), ("?limit=x", "?limit"),
                      ("?after=S9999", "?after"), ("?after=%20", "?after")]:
        e = expect_error(srv.call("GET", "/events/big/seats" + bad), 400, "bad_request")
        assert e["path"] == path, (bad, e)
    # a seat of another event is not a cursor here
    srv.make_event("small", ["T1"])
    expect_error(srv.call("GET", "/events/big/seats?after=T1"), 400, "bad_request")
