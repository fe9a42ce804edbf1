"""Every error code of SPEC section 4 that the other files do not reach,
with its details."""
from helpers import expect_error, expect_ok


def test_limit_exceeded(srv):
    srv.make_event("ev", ["S%d" % i for i in range(10)], max_per_customer=2)
    srv.make_item("it", 1000)
    t = srv.token("alice")
    expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S0"}]}, token=t), 201)
    expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}, {"event": "ev", "seat": "S2"}]},
                          token=t), 409, "limit_exceeded")
    expect_ok(srv.call("POST", "/orders", {"seats": [{"event": "ev", "seat": "S1"}]}, token=t), 201)
    expect_error(srv.call("POST", "/orders", {"seats": [{"event": "ev", "seat": "S2"}]}, token=t), 409, "limit_exceeded")
    # 32 active holds per customer
    b = srv.token("bob")
    for _ in range(32):
        expect_ok(srv.call("POST", "/holds", {"items": [{"item": "it", "quantity": 1}]}, token=b), 201)
    expect_error(srv.call("POST", "/holds", {"items": [{"item": "it", "quantity": 1}]}, token=b), 409, "limit_exceeded")
    # stock past 2,000,000,000
    srv.make_item("big", 2000000000)
    expect_error(srv.admin("POST", "/items/big/restock", {"quantity": 1}), 409, "limit_exceeded")


def test_sale_closed(srv):
    srv.make_event("later", ["S1"], sale_opens_at="2099-01-01T00:00:00Z")
    srv.make_event("over", ["S1"], sale_opens_at="2000-01-01T00:00:00Z", sale_closes_at="2001-01-01T00:00:00Z")
    t = srv.token("alice")
    for ev in ["later", "over"]:
        expect_error(srv.call("POST", "/holds", {"seats": [{"event": ev, "seat": "S1"}]}, token=t), 409, "sale_closed")
        expect_error(srv.call("POST", "/orders", {"seats": [{"event": ev, "seat": "S1"}]}, token=t), 409, "sale_closed")
    assert srv.seat_states("later") == {"S1": "free"}
    # a reversed window is bad input
    e = expect_error(srv.admin("POST", "/events", {"id": "rev", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                                   "sale_opens_at": "2030-01-01T00:00:00Z",
                                                   "sale_closes_at": "2029-01-01T00:00:00Z",
                                                   "seats": [{"id": "1", "price": 1}]}), 400, "bad_request")
    assert e["message"]


def test_blocked_and_unknown_seats_named(srv):
    srv.make_event("ev", ["S1", "S2", "S3"])
    t = srv.token("alice")
    expect_ok(srv.admin("POST", "/events/ev/block", {"seats": ["S2"]}))
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}, {"event": "ev", "seat": "S2"}]},
                              token=t), 409, "seats_unavailable")
    assert e["reason"] == "blocked" and e["seats"] == [{"event": "ev", "seat": "S2"}]
    expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S3"}]}, token=t), 201)
    e = expect_error(srv.admin("POST", "/events/ev/block", {"seats": ["S1", "S3"]}), 409, "seats_unavailable")
    assert e["seats"] == [{"event": "ev", "seat": "S3"}]
    assert srv.seat_states("ev") == {"S1": "free", "S2": "blocked", "S3": "held"}
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}, {"event": "ev", "seat": "nope"},
                                                           {"event": "ev", "seat": "gone"}]}, token=t), 404, "not_found")
    assert e["seats"] == [{"event": "ev", "seat": "nope"}, {"event": "ev", "seat": "gone"}]
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "other", "seat": "S1"}]}, token=t), 404, "not_found")
    assert e["event"] == "other"
    e = expect_error(srv.admin("POST", "/events/ev/block", {"seats": ["S1", "zz"]}), 404, "not_found")
    assert e["seats"] == [{"event": "ev", "seat": "zz"}]
    e = expect_error(srv.admin("POST", "/events/none/block", {"seats": ["S1"]}), 404, "not_found")
    assert e["event"] == "none"
    e = expect_error(srv.call("POST", "/orders", {"items": [{"item": "ghost", "quantity": 1}]}, token=t), 404, "not_found")
    assert e["item"] == "ghost"
    e = expect_error(srv.admin("POST", "/items/ghost/restock", {"quantity": 1}), 404, "not_found")
    assert e["item"] == "ghost"
    expect_error(srv.call("GET", "/events/none"), 404, "not_found")
    expect_error(srv.call("GET", "/events/none/seats"), 404, "not_found")
    expect_error(srv.call("GET", "/items/none"), 404, "not_found")


def test_method_content_type_and_extend_bounds(srv):
    srv.make_event("ev", ["S1"])
    t = srv.token("alice")
    r = srv.call("PUT", "/holds", {})
    expect_error(r, 405, "bad_request")
    assert "POST" in r.headers.get("Allow", "")
    expect_error(srv.call("POST", "/holds", raw='{"seats":[]}', token=t, headers={"Content-Type": "text/plain"}),
                 415, "bad_request")
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=t), 201)
    e = expect_error(srv.call("POST", "/holds/%s/extend" % h["id"], {"ttl_s": 3601}, token=t), 400, "bad_request")
    assert e["message"]
    expect_error(srv.call("POST", "/holds", {"ttl_s": 3601, "seats": [{"event": "ev", "seat": "S1"}]}, token=t),
                 400, "bad_request")
    x = expect_ok(srv.call("POST", "/holds/%s/extend" % h["id"], {"ttl_s": 3600}, token=t))
    assert x["expires_at"] > h["expires_at"]


def test_already_exists_and_status_expect(srv):
    srv.make_event("ev", ["S1"])
    expect_error(srv.admin("POST", "/events", {"id": "ev", "name": "again", "starts_at": "2030-01-01T00:00:00Z",
                                               "seats": [{"id": "1", "price": 1}]}), 409, "already_exists")
    srv.make_item("it", 3)
    t = srv.token("alice")
    o = expect_ok(srv.call("POST", "/orders", {"items": [{"item": "it", "quantity": 1}]}, token=t), 201)
    e = expect_error(srv.admin("POST", "/orders/%s/status" % o["id"], {"status": "shipped", "expect": "packaged"}),
                     409, "invalid_transition")
    assert e["current_status"] == "under_review"
    s = expect_ok(srv.admin("POST", "/orders/%s/status" % o["id"], {"status": "packaged", "expect": "under_review"}))
    assert s["status"] == "packaged"
    c = expect_ok(srv.admin("POST", "/orders/%s/status" % o["id"], {"status": "canceled"}))
    assert c["status"] == "canceled" and srv.item("it")["available"] == 3
    expect_error(srv.call("POST", "/orders/%s/cancel" % o["id"], token=t), 409, "invalid_transition")
