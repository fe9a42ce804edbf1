"""Idempotency-Key: the first answer, byte for byte, across restarts."""
from helpers import expect_error, expect_ok


def test_replay_is_byte_identical_and_books_once(srv):
    srv.make_event("ev", ["S1", "S2"])
    t = srv.token("alice")
    body = {"seats": [{"event": "ev", "seat": "S1"}]}
    r1 = srv.call("POST", "/holds", body, token=t, idem="k-1")
    assert r1.status_code == 201
    srv.advance(10)  # a replay must not show the new time
    r2 = srv.call("POST", "/holds", body, token=t, idem="k-1")
    assert r2.status_code == 201 and r2.content == r1.content
    assert r2.headers.get("Idempotent-Replayed") == "true"
    assert len(expect_ok(srv.call("GET", "/customers/alice/holds", token=t))["holds"]) == 1
    # same key, other body
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S2"}]}, token=t, idem="k-1"),
                     409, "idempotency_key_reused")
    assert srv.seat_states("ev")["S2"] == "free"
    # same key, other route
    expect_error(srv.call("POST", "/orders", body, token=t, idem="k-1"), 409, "idempotency_key_reused")
    # keys are per customer
    b = srv.token("bob")
    rb = srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S2"}]}, token=b, idem="k-1")
    assert rb.status_code == 201
    # a key that is not an id
    expect_error(srv.call("POST", "/holds", body, token=t, idem="bad key!"), 400, "bad_request")
    expect_error(srv.call("POST", "/holds", body, token=t, idem="x" * 65), 400, "bad_request")
    assert e["message"]


def test_refusal_is_replayed_too(srv):
    srv.make_event("ev", ["S1"])
    a, b = srv.token("alice"), srv.token("bob")
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=a), 201)
    body = {"seats": [{"event": "ev", "seat": "S1"}]}
    r1 = srv.call("POST", "/holds", body, token=b, idem="try")
    expect_error(r1, 409, "seats_unavailable")
    expect_ok(srv.call("DELETE", "/holds/" + h["id"], token=a))
    r2 = srv.call("POST", "/holds", body, token=b, idem="try")
    assert r2.status_code == 409 and r2.content == r1.content
    assert srv.seat_states("ev")["S1"] == "free"


def test_admin_catalog_writes_are_idempotent(srv):
    body = {"id": "it", "name": "Item", "price": 100, "stock": 5}
    r1 = srv.admin("POST", "/items", body, idem="create-it")
    r2 = srv.admin("POST", "/items", body, idem="create-it")
    assert r1.status_code == r2.status_code == 201 and r1.content == r2.content
    r3 = srv.admin("POST", "/items/it/restock", {"quantity": 5}, idem="rs-1")
    r4 = srv.admin("POST", "/items/it/restock", {"quantity": 5}, idem="rs-1")
    assert r3.content == r4.content and r3.status_code == 200
    assert srv.item("it")["available"] == 10
    # without a key, a second create is refused
    expect_error(srv.admin("POST", "/items", body), 409, "already_exists")


def test_retry_after_restart_returns_same_reply(holdfast):
    srv = holdfast()
    srv.make_item("it", 10, price=300)
    srv.make_event("ev", ["S1", "S2"])
    t = srv.token("alice", ttl_s=86400)
    body = {"seats": [{"event": "ev", "seat": "S1"}], "items": [{"item": "it", "quantity": 2}]}
    r1 = srv.call("POST", "/orders", body, token=t, idem="order-1")
    assert r1.status_code == 201
    h1 = srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S2"}]}, token=t, idem="hold-1")
    c1 = srv.call("POST", "/holds/%s/confirm" % h1.json()["id"], token=t, idem="confirm-1")
    assert c1.status_code == 200
    srv.restart()
    r2 = srv.call("POST", "/orders", body, token=t, idem="order-1")
    assert r2.status_code == 201 and r2.content == r1.content
    c2 = srv.call("POST", "/holds/%s/confirm" % h1.json()["id"], token=t, idem="confirm-1")
    assert c2.status_code == 200 and c2.content == c1.content
    it = srv.item("it")
    assert (it["available"], it["sold"]) == (8, 2)
    assert len(expect_ok(srv.call("GET", "/customers/alice/orders", token=t))["orders"]) == 2
    # after a crash too
    srv.kill()
    srv.start()
    r3 = srv.call("POST", "/orders", body, token=t, idem="order-1")
    assert r3.content == r1.content
    assert srv.item("it")["sold"] == 2
