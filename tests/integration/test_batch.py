"""POST /batch: independent operations in one request, each answered as its
own request would have been, in order; the envelope's limits; scarce stock
under concurrent batches; operations survive a kill -9 once answered."""
import json
import os
import signal
import threading

from helpers import expect_error, expect_ok, state_dump

ITEM = {"items": [{"item": "it", "quantity": 1}]}


def op(path, body=None, method="POST", key=None):
    o = {"method": method, "path": path}
    if body is not None:
        o["body"] = body
    if key is not None:
        o["idempotency_key"] = key
    return o


def batch(srv, ops, token=None, **kw):
    return srv.call("POST", "/batch", {"ops": ops}, token=token, **kw)


def results(r):
    body = expect_ok(r, 200)
    assert set(body) == {"results"}, body
    return body["results"]


def test_each_operation_answers_as_alone(holdfast):
    """The same sequence once as single requests and once as a batch on a
    second server gives the same statuses and bodies (times aside)."""
    seqs = []
    for as_batch in (False, True):
        srv = holdfast()
        srv.make_item("it", 3)
        srv.make_event("ev", ["A1", "A2"])
        t = srv.token("alice")
        ops = [
            op("/orders", {"items": [{"item": "it", "quantity": 2}]}),
            op("/orders", {"items": [{"item": "it", "quantity": 2}]}),  # 409: 1 left
            op("/holds", {"seats": [{"event": "ev", "seat": "A1"}]}),
            op("/holds/h-1/add", {"seats": [{"event": "ev", "seat": "A2"}]}),
            op("/holds/h-1/extend", {"ttl_s": 60}),
            op("/holds/h-1/confirm"),
            op("/holds/h-1/confirm"),  # 409: not active any more
            op("/orders/o-1/cancel"),
            op("/holds/h-9", method="DELETE"),  # 404
            op("/holds", {"items": [{"item": "it", "quantity": 0}]}),  # 400 with a path
            op("/holds", {"customer": "bob", **ITEM}),  # 403: another customer
        ]
        if as_batch:
            got = [(x["status"], x["body"]) for x in results(batch(srv, ops, token=t))]
        else:
            got = []
            for o in ops:
                r = srv.call(o["method"], o["path"], o.get("body"), token=t)
                got.append((r.status_code, r.json()))
        seqs.append(got)

    def strip(b):
        return {k: v for k, v in b.items() if k not in ("created_at", "expires_at")} if isinstance(b, dict) else b
    single, batched = seqs
    assert [s for s, _ in single] == [201, 409, 201, 200, 200, 200, 409, 200, 404, 400, 403]
    assert [(s, strip(b)) for s, b in single] == [(s, strip(b)) for s, b in batched]


def test_routes_a_batch_may_not_carry(srv):
    srv.make_item("it", 5)
    t = srv.token("alice")
    before = state_dump(srv, items=["it"], customers=["alice"])
    res = results(batch(srv, [op("/items/it", method="GET"), op("/items", {"id": "x", "name": "x", "price": 1, "stock": 1}),
                              op("/tokens", {"customer": "alice"}), op("/batch", {"ops": []}),
                              op("/nowhere"), op("/orders", method="DELETE")], token=t))
    assert [x["status"] for x in res] == [400, 400, 400, 400, 404, 405]
    for x in res:
        assert set(x["body"]) == {"error"}
    assert state_dump(srv, items=["it"], customers=["alice"]) == before


def test_envelope_errors(srv):
    srv.make_item("it", 5)
    t = srv.token("alice")
    before = state_dump(srv, items=["it"], customers=["alice"])
    e = expect_error(srv.call("POST", "/batch", {"ops": []}, token=t), 400, "bad_request")
    assert e["path"] == "ops"
    expect_error(srv.call("POST", "/batch", {}, token=t), 400, "bad_request")
    expect_error(srv.call("POST", "/batch", {"ops": [op("/orders", ITEM)], "x": 1}, token=t), 400, "bad_request")
    e = expect_error(srv.call("POST", "/batch", {"ops": [op("/orders", ITEM), {"method": "POST"}]}, token=t),
                     400, "bad_request")
    assert e["path"] == "ops[1].path"
    e = expect_error(srv.call("POST", "/batch", {"ops": [dict(op("/orders", ITEM), extra=1)]}, token=t),
                     400, "bad_request")
    assert "extra" in e["message"]
    expect_error(srv.call("POST", "/batch", {"ops": [op("/orders", ITEM)] * 101}, token=t), 413, "payload_too_large")
    expect_error(srv.call("POST", "/batch", raw="{\"ops\":[", token=t,
                          headers={"Content-Type": "application/json"}), 400, "bad_request")
    expect_error(srv.call("POST", "/batch", {"ops": [op("/orders", ITEM)]}, token=t, idem="k"), 400, "bad_request")
    expect_error(srv.call("POST", "/batch", {"ops": [op("/orders", ITEM)]}), 401, "unauthorized")
    assert state_dump(srv, items=["it"], customers=["alice"]) == before
    # exactly 100 is fine
    res = results(batch(srv, [op("/orders", ITEM)] * 100, token=t))
    assert [x["status"] for x in res] == [201] * 5 + [409] * 95


def test_admin_key_books_for_the_named_customer(srv):
    srv.make_item("it", 5)
    res = results(srv.call("POST", "/batch", {"ops": [op("/orders", {"customer": "carol", **ITEM}),
                                                       op("/orders", ITEM)]}, token=srv.key))
    assert res[0]["status"] == 201 and res[0]["body"]["customer"] == "carol"
    assert res[1]["status"] == 400 and res[1]["body"]["error"]["path"] == "customer"


def test_owner_isolation_inside_a_batch(srv):
    srv.make_item("it", 5)
    alice, bob = srv.token("alice"), srv.token("bob")
    h = expect_ok(srv.call("POST", "/holds", ITEM, token=alice), 201)["id"]
    o = expect_ok(srv.call("POST", "/orders", ITEM, token=alice), 201)["id"]
    before = state_dump(srv, items=["it"], customers=["alice", "bob"])
    res = results(batch(srv, [op("/holds/%s/confirm" % h), op("/holds/%s" % h, method="DELETE"),
                              op("/holds/%s/add" % h, ITEM), op("/orders/%s/cancel" % o),
                              op("/orders", {"customer": "alice", **ITEM})], token=bob))
    assert [x["status"] for x in res] == [404, 404, 404, 404, 403]
    assert state_dump(srv, items=["it"], customers=["alice", "bob"]) == before


def test_idempotency_per_operation(srv):
    srv.make_item("it", 10)
    t = srv.token("alice")
    ops = [op("/orders", ITEM, key="a1"), op("/orders", ITEM), op("/orders", ITEM, key="a2")]
    first = results(batch(srv, ops, token=t))
    again = results(batch(srv, ops, token=t))
    assert [x["status"] for x in first] == [201, 201, 201]
    assert again[0] == dict(first[0], replayed=True)
    assert again[2] == dict(first[2], replayed=True)
    assert again[1]["body"]["id"] != first[1]["body"]["id"]  # no key: applied again
    assert srv.item("it")["sold"] == 4
    # a key is one request however it travels: the same order as a single
    # request (spelled differently) replays; another body is a reuse
    r = srv.call("POST", "/orders", raw='{ "items" : [ {"quantity": 1, "item": "it"} ] }', token=t, idem="a1",
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
    assert r.json() == first[0]["body"]
    res = results(batch(srv, [op("/orders", {"items": [{"item": "it", "quantity": 2}]}, key="a1")], token=t))
    assert res[0]["status"] == 409 and res[0]["body"]["error"]["code"] == "idempotency_key_reused"
    res = results(batch(srv, [op("/orders", ITEM, key="bad key!")], token=t))
    assert res[0]["status"] == 400
    assert srv.item("it")["sold"] == 4


def test_scarce_stock_under_concurrent_batches(srv):
    """12 threads x 10 batches of 20 buy-now operations on 1,000 units:
    exactly 1,000 succeed, every other is insufficient_stock."""
    srv.make_item("it", 1000)
    tokens = [srv.token("c%d" % i) for i in range(12)]
    ok, refused, other = [0], [0], []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))

    def buyer(t):
        barrier.wait()
        for _ in range(10):
            for x in results(batch(srv, [op("/orders", ITEM)] * 20, token=t)):
                with lock:
                    if x["status"] == 201:
                        ok[0] += 1
                    elif x["status"] == 409 and x["body"]["error"]["code"] == "insufficient_stock":
                        refused[0] += 1
                    else:
                        other.append(x)

    threads = [threading.Thread(target=buyer, args=(t,)) for t in tokens]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not other, other[:3]
    assert ok[0] == 1000 and refused[0] == 12 * 10 * 20 - 1000
    assert srv.item("it")["sold"] == 1000 and srv.item("it")["available"] == 0


def test_full_queue_refuses_the_whole_batch(holdfast):
    """--queue-max 1: a batch of 2 operations can never be queued; it is
    503 + Retry-After as a whole and nothing of it is applied."""
    srv = holdfast(extra=["--queue-max", "1"])
    srv.make_item("it", 5)
    t = srv.token("alice")
    r = batch(srv, [op("/orders", ITEM), op("/orders", ITEM)], token=t)
    expect_error(r, 503, "overloaded")
    assert r.headers.get("Retry-After") == "1"
    assert srv.item("it")["sold"] == 0
    assert [x["status"] for x in results(batch(srv, [op("/orders", ITEM)], token=t))] == [201]


def test_answered_operations_survive_kill9(holdfast):
    srv = holdfast()
    srv.make_item("it", 500)
    t = srv.token("alice")
    sold = 0
    for _ in range(5):
        sold += sum(x["status"] == 201 for x in results(batch(srv, [op("/orders", ITEM)] * 50, token=t)))
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait()
    srv.start()
    assert sold == 250
    assert srv.item("it")["sold"] == 250
    orders = json.loads(srv.call("GET", "/customers/alice/orders?limit=100", token=t).text)
    assert len(orders["orders"]) == 100
