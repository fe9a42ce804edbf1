"""A corpus of bad requests: each answered 4xx in the error shape, nothing
changes, and the server keeps answering."""
import json
import socket

from helpers import expect_ok

HOLD = "/holds"


def snapshot(srv, t):
    return (srv.call("GET", "/events/ev/seats").text, srv.call("GET", "/items/it").text,
            srv.call("GET", "/customers/alice/holds", token=t).text,
            srv.call("GET", "/customers/alice/orders", token=t).text)


def corpus():
    ok_seat = {"event": "ev", "seat": "S1"}
    J = {"Content-Type": "application/json"}
    items = lambda q: json.dumps({"items": [{"item": "it", "quantity": q}]})  # noqa: E731
    cases = [
        # malformed / truncated JSON
        ("POST", HOLD, b"{", J), ("POST", HOLD, b'{"seats": [', J), ("POST", HOLD, b'{"seats": [}', J),
        ("POST", HOLD, b'{"seats": [{"event": "ev", "seat": "S1"}', J), ("POST", HOLD, b"[]", J),
        ("POST", HOLD, b"null", J), ("POST", HOLD, b'"seats"', J), ("POST", HOLD, b"12", J),
        ("POST", HOLD, b'{"seats": [] ,}', J), ("POST", HOLD, b"{'seats': []}", J),
        # wrong content types
        ("POST", HOLD, json.dumps({"seats": [ok_seat]}).encode(), {"Content-Type": "text/plain"}),
        ("POST", HOLD, json.dumps({"seats": [ok_seat]}).encode(), {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", HOLD, json.dumps({"seats": [ok_seat]}).encode(), {}),
        # numbers: huge, negative, zero, fractional, strings, booleans
        ("POST", HOLD, items("99999999999999999999999999").encode(), J),
        ("POST", HOLD, b'{"items": [{"item": "it", "quantity": 1e400}]}', J),
        ("POST", HOLD, items(-1).encode(), J), ("POST", HOLD, items(0).encode(), J),
        ("POST", HOLD, items(1.5).encode(), J), ("POST", HOLD, items("3").encode(), J),
        ("POST", HOLD, items(True).encode(), J), ("POST", HOLD, items(2000000).encode(), J),
        ("POST", HOLD, b'{"ttl_s": 0, "seats": [{"event": "ev", "seat": "S1"}]}', J),
        ("POST", HOLD, b'{"ttl_s": 4294967296, "seats": [{"event": "ev", "seat": "S1"}]}', J),
        ("POST", "/items/it/restock", b'{"quantity": 0}', J),
        # deep nesting
        ("POST", HOLD, b"[" * 100000 + b"]" * 100000, J),
        ("POST", HOLD, b'{"seats": ' + b"[" * 5000 + b"]" * 5000 + b"}", J),
        ("POST", HOLD, b'{"seats": [{"event": {"a": {"b": {"c": 1}}}, "seat": "S1"}]}', J),
        # too many lines
        ("POST", HOLD, json.dumps({"seats": [{"event": "ev", "seat": "S%d" % i} for i in range(10000)]}).encode(), J),
        ("POST", HOLD, json.dumps({"items": [{"item": "it%d" % i, "quantity": 1} for i in range(51)]}).encode(), J),
        # non-UTF-8, NUL
        ("POST", HOLD, b'{"seats": [{"event": "\xff\xfe", "seat": "S1"}]}', J),
        ("POST", HOLD, b'{"seats": [{"event": "ev", "seat": "S\\u0000"}]}', J),
        ("POST", HOLD, b'{"seats": [{"event": "ev", "seat": "S1"}], "\xc3\x28": 1}', J),
        # ids: overlong, bad characters, empty
        ("POST", HOLD, json.dumps({"seats": [{"event": "e" * 65, "seat": "S1"}]}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": [{"event": "ev", "seat": "S 1"}]}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": [{"event": "ev", "seat": ""}]}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": [{"event": "ev/../x", "seat": "S1"}]}).encode(), J),
        ("POST", HOLD, json.dumps({"customer": "a" * 100, "seats": [ok_seat]}).encode(), J),
        # duplicate keys, unknown fields, nulls for required, wrong shapes
        ("POST", HOLD, b'{"seats": [], "seats": [{"event": "ev", "seat": "S1"}]}', J),
        ("POST", HOLD, b'{"seats": [{"event": "ev", "seat": "S1", "seat": "S2"}]}', J),
        ("POST", HOLD, json.dumps({"seats": [ok_seat], "sneaky": 1}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": [{"event": "ev", "seat": "S1", "price": 0}]}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": [{"event": None, "seat": "S1"}]}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": {"event": "ev", "seat": "S1"}}).encode(), J),
        ("POST", HOLD, json.dumps({"seats": ["S1"]}).encode(), J),
        ("POST", HOLD, json.dumps({}).encode(), J),  # no lines
        ("POST", HOLD, json.dumps({"seats": [ok_seat, ok_seat]}).encode(), J),  # a seat twice
        ("POST", HOLD, json.dumps({"seats": [{"event": "ev", "seat": "S1", "partial": True}]}).encode(), J),
        # ids in paths
        ("GET", "/holds/h-0", None, {}), ("GET", "/holds/h-01", None, {}), ("GET", "/holds/12", None, {}),
        ("GET", "/holds/h-99999999999999999999999", None, {}), ("GET", "/holds/o-1", None, {}),
        ("POST", "/holds/h-1/confirm", b"{\"x\": 1}", J), ("GET", "/orders/h-1", None, {}),
        ("GET", "/events/" + "e" * 65, None, {}), ("GET", "/items/%20x", None, {}),
        ("GET", "/nowhere", None, {}), ("PUT", "/holds", b"{}", J), ("GET", "/holds/", None, {}),
        ("GET", "/events/ev/seats/extra", None, {}),
        # a body on a GET, bad query arguments
        ("GET", "/events/ev", b'{"x": 1}', J), ("GET", "/customers/alice/holds?limit=1000", None, {}),
        ("GET", "/customers/alice/holds?limit=-1", None, {}), ("GET", "/customers/alice/holds?after=h-", None, {}),
        # too large
        ("POST", HOLD, b'{"seats": [' + b" " * (2 * 1024 * 1024) + b"]}", J),
        # times and enums
        ("POST", "/orders/o-1/status", b'{"status": "teleported"}', J),
        ("POST", "/orders/o-1/status", b'{"status": "under_review"}', J),
        ("POST", "/events", json.dumps({"id": "e2", "name": "x", "starts_at": "2030-02-30T00:00:00Z",
                                        "seats": [{"id": "1", "price": 1}]}).encode(), J),
        ("POST", "/events", json.dumps({"id": "e2", "name": "x", "starts_at": "tomorrow",
                                        "seats": [{"id": "1", "price": 1}]}).encode(), J),
        ("POST", "/events", json.dumps({"id": "e2", "name": "", "starts_at": "2030-01-01T00:00:00Z",
                                        "seats": [{"id": "1", "price": 1}]}).encode(), J),
        ("POST", "/events", json.dumps({"id": "e2", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                        "seats": [{"id": "1", "price": -5}]}).encode(), J),
        ("POST", "/events", json.dumps({"id": "e2", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                        "seats": []}).encode(), J),
        ("POST", "/events", json.dumps({"id": "e2", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                        "seats": [{"id": "1", "price": 1}, {"id": "1", "price": 1}]}).encode(), J),
        ("POST", "/events", json.dumps({"id": "ev", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                        "seats": [{"id": "1", "price": 1}]}).encode(), J),  # exists
        ("POST", "/items", json.dumps({"id": "i2", "name": "x", "price": 1, "stock": 1, "description": "d" * 2001}).encode(), J),
        ("POST", "/events/ev/block", json.dumps({"seats": ["S1", "nope"]}).encode(), J),
    ]
    return cases


def test_bad_input_corpus(srv):
    srv.make_event("ev", ["S1", "S2"])
    srv.make_item("it", 5)
    t = srv.token("alice")
    expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S2"}]}, token=t), 201)
    expect_ok(srv.call("POST", "/orders", {"items": [{"item": "it", "quantity": 1}]}, token=t), 201)
    before = snapshot(srv, t)
    for i, (method, path, body, headers) in enumerate(corpus()):
        h = dict(headers)
        h["Authorization"] = "Bearer " + (srv.key if path.startswith(("/events", "/items", "/orders/o-1/status"))
                                          and method == "POST" else t)
        r = srv.session().request(method, srv.url + path, data=body, headers=h, timeout=30)
        assert 400 <= r.status_code < 500, "case %d %s %s: %d %s" % (i, method, path, r.status_code, r.text[:300])
        e = r.json()["error"]
        assert e["code"] and e["message"], (i, r.text)
        if r.status_code == 400 and "path" in e:
            assert isinstance(e["path"], str)
        assert snapshot(srv, t) == before, "case %d changed the state" % i
    expect_ok(srv.call("GET", "/health"))


def test_error_names_the_bad_field(srv):
    srv.make_event("ev", ["S1"])
    t = srv.token("alice")
    r = srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}, {"event": "ev", "seat": "S1", "colour": "red"}]},
                 token=t)
    e = r.json()["error"]
    assert r.status_code == 400 and e["path"] == "seats[1].colour" and "colour" in e["message"]
    r = srv.call("POST", "/holds", {"items": [{"item": "it", "quantity": 0}]}, token=t)
    e = r.json()["error"]
    assert r.status_code == 400 and e["path"] == "items[0].quantity"
    r = srv.admin("POST", "/events", {"id": "x", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                      "seats": [{"id": "1", "price": "ten"}]})
    assert r.json()["error"]["path"] == "seats[0].price"
    r = srv.admin("POST", "/events", {"id": "x", "name": "x", "seats": [{"id": "1", "price": 1}]})
    assert r.json()["error"]["path"] == "starts_at"


def test_raw_garbage_keeps_server_alive(srv):
    for payload in [b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"POST /holds HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"POST /holds HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"a\"", b"\r\n" * 1000,
                    b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n"]:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            try:
                s.recv(65536)
            except OSError:
                pass
        finally:
            s.close()
    expect_ok(srv.call("GET", "/health"))
