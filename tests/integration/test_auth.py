"""Credentials, roles and owner isolation."""
import pytest

from helpers import expect_error, expect_ok

ADMIN_ROUTES = [
    ("POST", "/events", {"id": "x", "name": "x", "starts_at": "2030-01-01T00:00:00Z", "seats": [{"id": "1", "price": 1}]}),
    ("POST", "/events/ev/block", {"seats": ["S1"]}),
    ("POST", "/events/ev/unblock", {"seats": ["S1"]}),
    ("POST", "/items", {"id": "y", "name": "y", "price": 1, "stock": 1}),
    ("POST", "/items/it/restock", {"quantity": 1}),
    ("POST", "/orders/o-1/status", {"status": "packaged"}),
    ("POST", "/tokens", {"customer": "mallory"}),
    ("POST", "/admin/clock", {"advance_s": 1}),
]


def test_admin_routes_refuse_customer_tokens(srv):
    srv.make_event("ev", ["S1"])
    srv.make_item("it", 5)
    t = srv.token("alice")
    expect_ok(srv.call("POST", "/orders", {"items": [{"item": "it", "quantity": 1}]}, token=t), 201)
    before = (srv.seat_states("ev"), srv.item("it"))
    for method, path, body in ADMIN_ROUTES:
        expect_error(srv.call(method, path, body, token=t), 403, "forbidden")
        expect_error(srv.call(method, path, body), 401, "unauthorized")
        expect_error(srv.call(method, path, body, token="wrong-key-wrong-key"), 401, "unauthorized")
    assert (srv.seat_states("ev"), srv.item("it")) == before
    assert expect_ok(srv.call("GET", "/orders/o-1", token=t))["status"] == "under_review"


def test_customer_routes_need_credentials(srv):
    for method, path in [("POST", "/holds"), ("GET", "/holds/h-1"), ("POST", "/orders"),
                         ("GET", "/orders/o-1"), ("GET", "/customers/a/holds"), ("DELETE", "/holds/h-1")]:
        expect_error(srv.call(method, path, {} if method == "POST" else None), 401, "unauthorized")
    # public reads need nothing
    srv.make_event("ev", ["S1"])
    expect_ok(srv.call("GET", "/events/ev"))
    expect_ok(srv.call("GET", "/health"))


def test_tokens_tampered_expired(srv):
    srv.make_item("it", 5)
    t = srv.token("alice", ttl_s=60)
    ok = srv.call("POST", "/holds", {"items": [{"item": "it", "quantity": 1}]}, token=t)
    assert ok.status_code == 201
    head, payload, mac = t.split(".")
    bad_mac = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    import base64
    forged_payload = base64.urlsafe_b64encode(b"bob|99999999999999").decode().rstrip("=")
    for bad in [head + "." + payload + "." + bad_mac, head + "." + forged_payload + "." + mac,
                t + "x", "hft1..", "Basic abc", t[:-1]]:
        expect_error(srv.call("GET", "/customers/alice/holds", token=bad), 401, "unauthorized")
    expect_error(srv.call("GET", "/customers/alice/holds", headers={"Authorization": "Basic " + t}),
                 401, "unauthorized")
    srv.advance(61)
    expect_error(srv.call("GET", "/customers/alice/holds", token=t), 401, "unauthorized")
    # tokens survive a restart (the secret is in the data directory)
    t2 = srv.token("alice", ttl_s=3600)
    srv.restart()
    expect_ok(srv.call("GET", "/customers/alice/holds", token=t2))


def test_owner_isolation(srv):
    srv.make_event("ev", ["S1", "S2"])
    srv.make_item("it", 5)
    a, b = srv.token("alice"), srv.token("bob")
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=a), 201)
    o = expect_ok(srv.call("POST", "/orders", {"items": [{"item": "it", "quantity": 1}]}, token=a), 201)
    hid, oid = h["id"], o["id"]
    missing_h, missing_o = "h-999999", "o-999999"

    def same_as_missing(r, r_missing):
        e1 = expect_error(r, 404, "not_found")
        e2 = expect_error(r_missing, 404, "not_found")
        # the same answer but for the id in it
        assert e1["message"].replace(hid, "ID").replace(oid, "ID") == \
            e2["message"].replace(missing_h, "ID").replace(missing_o, "ID")
        assert set(e1) == set(e2)

    for method, suffix, body in [("GET", "", None), ("POST", "/add", {"items": [{"item": "it", "quantity": 1}]}),
                                 ("POST", "/remove", {"seats": [{"event": "ev", "seat": "S1"}]}),
                                 ("POST", "/extend", {"ttl_s": 60}), ("POST", "/confirm", None),
                                 ("DELETE", "", None)]:
        same_as_missing(srv.call(method, "/holds/" + hid + suffix, body, token=b),
                        srv.call(method, "/holds/" + missing_h + suffix, body, token=b))
    same_as_missing(srv.call("GET", "/orders/" + oid, token=b), srv.call("GET", "/orders/" + missing_o, token=b))
    same_as_missing(srv.call("POST", "/orders/%s/cancel" % oid, token=b),
                    srv.call("POST", "/orders/%s/cancel" % missing_o, token=b))
    expect_error(srv.call("GET", "/customers/alice/holds", token=b), 404, "not_found")
    expect_error(srv.call("GET", "/customers/alice/orders", token=b), 404, "not_found")
    # a token acts only for its own customer
    expect_error(srv.call("POST", "/holds", {"customer": "alice", "seats": [{"event": "ev", "seat": "S2"}]}, token=b),
                 403, "forbidden")
    # nothing changed for alice
    assert expect_ok(srv.call("GET", "/holds/" + hid, token=a))["state"] == "active"
    assert expect_ok(srv.call("GET", "/orders/" + oid, token=a))["status"] == "under_review"
    assert srv.seat_states("ev") == {"S1": "held", "S2": "free"}
    # the admin sees and acts on everyone's
    expect_ok(srv.admin("GET", "/holds/" + hid))
    expect_ok(srv.admin("POST", "/holds/%s/extend" % hid, {"ttl_s": 60}))
    # with the admin key, a booking names its customer
    e = expect_error(srv.admin("POST", "/holds", {"seats": [{"event": "ev", "seat": "S2"}]}), 400, "bad_request")
    assert e["path"] == "customer"
    hb = expect_ok(srv.admin("POST", "/holds", {"customer": "bob", "seats": [{"event": "ev", "seat": "S2"}]}), 201)
    assert hb["customer"] == "bob"
    expect_ok(srv.call("GET", "/holds/" + hb["id"], token=b))


def test_credential_reuse_on_one_connection(srv):
    """A keep-alive connection remembers the last credential it verified
    (the server skips the HMAC when the same bytes come again): the memo
    must still honour the token's expiry and never carry one caller's
    identity to a different credential."""
    import requests
    srv.make_item("it", 50)
    alice = srv.token("alice", ttl_s=60)
    bob = srv.token("bob", ttl_s=3600)
    conn = requests.Session()  # one connection, used only for these calls

    def call(method, path, cred, body=None):
        h = {"Authorization": "Bearer " + cred} if cred else {}
        if body is not None:
            h["Content-Type"] = "application/json"
        return conn.request(method, srv.url + path, headers=h,
                            data=None if body is None else __import__("json").dumps(body), timeout=30)

    expect_ok(call("GET", "/customers/alice/holds", alice))
    expect_ok(call("GET", "/customers/alice/holds", alice))
    # another customer's token on the same connection acts as that customer
    # (alice's list reads as nobody's to bob)
    expect_error(call("GET", "/customers/alice/holds", bob), 404, "not_found")
    o = expect_ok(call("POST", "/orders", bob, {"items": [{"item": "it", "quantity": 1}]}), 201)
    assert o["customer"] == "bob"
    expect_ok(call("GET", "/customers/alice/holds", alice))
    # a tampered copy of the remembered token is verified, not matched
    expect_error(call("GET", "/customers/alice/holds", alice[:-1] + ("A" if alice[-1] != "A" else "B")),
                 401, "unauthorized")
    expect_ok(call("GET", "/customers/alice/holds", alice))
    # expiry: the clock moves on another connection; this one remembered alice
    srv.advance(61)
    expect_error(call("GET", "/customers/alice/holds", alice), 401, "unauthorized")
    # the admin key, then no credential: the memo does not make it admin
    expect_ok(call("POST", "/items/it/restock", srv.key, {"quantity": 1}))
    expect_error(call("POST", "/items/it/restock", None, {"quantity": 1}), 401, "unauthorized")
    expect_error(call("POST", "/items/it/restock", bob, {"quantity": 1}), 403, "forbidden")
    conn.close()
