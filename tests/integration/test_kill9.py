"""kill -9 of the real server under concurrent load, 20 times.

One server (real clock, --fsync always) on a temporary data directory. Each
round: LOAD_THREADS clients buy seats and stock (POST /orders), hold and
confirm, and cancel some of their own orders; after a random moment the
server gets SIGKILL, then starts again on the same directory. After every
restart:
  - every acknowledged order (2xx) exists with its customer, seats and item
    quantities, and is canceled only if a cancel of it was sent;
  - every acknowledged cancel is still canceled;
  - no seat is in two live orders, and the seat map shows exactly the seats
    of live orders as sold (nothing is held at rest: holds are confirmed);
  - the item's sold counter equals the sum of quantities of live orders, and
    available + held + sold equals the stock ever added.
The random moments come from a seed printed on failure (HF_SEED reruns it).
"""
import os
import random
import threading
import time

import requests

ROUNDS = 20
LOAD_THREADS = 12
SEATS = 300
STOCK = 1000000
CUSTOMERS = 24


def _seed():
    s = os.environ.get("HF_SEED")
    return int(s) if s else random.randrange(1 << 30)


class Ledger:
    """What the clients were told (acknowledged), across rounds."""

    def __init__(self):
        self.lock = threading.Lock()
        self.orders = {}       # id -> (customer, seats, item quantity)
        self.cancel_sent = set()
        self.canceled = set()  # acknowledged cancels

    def order(self, body):
        with self.lock:
            self.orders[body["id"]] = (body["customer"],
                                       sorted(s["seat"] for s in body["seats"]),
                                       sum(i["quantity"] for i in body["items"]))


def _client(srv, tokens, ledger, rng, stop):
    sess = requests.Session()
    mine = []
    while not stop.is_set():
        cust = rng.randrange(CUSTOMERS)
        h = {"Authorization": "Bearer " + tokens[cust], "Content-Type": "application/json"}
        r = rng.random()
        try:
            if r < 0.55:
                seats = rng.sample(range(SEATS), rng.randint(0, 3))
                body = {"seats": [{"event": "ev", "seat": "S%d" % s} for s in seats]}
                if not seats or rng.random() < 0.5:
                    body["items"] = [{"item": "it", "quantity": rng.randint(1, 3)}]
                resp = sess.post(srv.url + "/orders", json=body, headers=h, timeout=10)
                if resp.status_code == 201:
                    ledger.order(resp.json())
                    mine.append((cust, resp.json()["id"]))
            elif r < 0.75:
                body = {"items": [{"item": "it", "quantity": 1}],
                        "seats": [{"event": "ev", "seat": "S%d" % rng.randrange(SEATS)}]}
                resp = sess.post(srv.url + "/holds", json=body, headers=h, timeout=10)
                if resp.status_code == 201:
                    hid = resp.json()["id"]
                    resp = sess.post(srv.url + "/holds/%s/confirm" % hid, headers=h, timeout=10)
                    if resp.status_code == 200:
                        ledger.order(resp.json())
                        mine.append((cust, resp.json()["id"]))
                    else:
                        sess.delete(srv.url + "/holds/%s" % hid, headers=h, timeout=10)
            elif mine:
                cust, oid = mine.pop(rng.randrange(len(mine)))
                h = {"Authorization": "Bearer " + tokens[cust]}
                with ledger.lock:
                    ledger.cancel_sent.add(oid)
                resp = sess.post(srv.url + "/orders/%s/cancel" % oid, headers=h, timeout=10)
                if resp.status_code == 200:
                    with ledger.lock:
                        ledger.canceled.add(oid)
        except requests.RequestException:
            return  # the server is gone


def _all_orders(srv, tokens):
    out = {}
    for c in range(CUSTOMERS):
        after = None
        while True:
            q = "?limit=100" + ("&after=%s" % after if after else "")
            r = srv.call("GET", "/customers/c%d/orders%s" % (c, q), token=tokens[c])
            assert r.status_code == 200, r.text
            body = r.json()
            for o in body["orders"]:
                out[o["id"]] = o
            after = body.get("next")
            if not after:
                break
    return out


def _verify(srv, tokens, ledger, stock_added, seed, rnd):
    where = "round %d (rerun: HF_SEED=%d)" % (rnd, seed)
    orders = _all_orders(srv, tokens)
    with ledger.lock:
        acked = dict(ledger.orders)
        canceled = set(ledger.canceled)
        cancel_sent = set(ledger.cancel_sent)
    for oid, (cust, seats, qty) in acked.items():
        assert oid in orders, "%s: acknowledged order %s lost" % (where, oid)
        o = orders[oid]
        assert o["customer"] == cust, (where, o)
        assert sorted(s["seat"] for s in o["seats"]) == seats, (where, o)
        assert sum(i["quantity"] for i in o["items"]) == qty, (where, o)
        if o["status"] == "canceled":
            assert oid in cancel_sent, "%s: order %s canceled by nobody" % (where, oid)
    for oid in canceled:
        assert orders[oid]["status"] == "canceled", "%s: acknowledged cancel of %s lost" % (where, oid)
    live = [o for o in orders.values() if o["status"] != "canceled"]
    owned = {}
    for o in live:
        for s in o["seats"]:
            assert s["seat"] not in owned, "%s: seat %s in orders %s and %s" % (
                where, s["seat"], owned[s["seat"]], o["id"])
            owned[s["seat"]] = o["id"]
    states = srv.seat_states("ev")
    sold = {s for s, st in states.items() if st == "sold"}
    assert sold == set(owned), "%s: seat map sold %d seats, live orders own %d" % (where, len(sold), len(owned))
    it = srv.item("it")
    assert it["sold"] == sum(i["quantity"] for o in live for i in o["items"]), (where, it)
    assert it["available"] + it["held"] + it["sold"] == stock_added, (where, it)
    assert min(it["available"], it["held"], it["sold"]) >= 0, (where, it)


def test_kill9_under_load_keeps_every_acknowledged_booking(holdfast):
    seed = _seed()
    rng = random.Random(seed)
    srv = holdfast(test_clock=False, fsync="always", extra=["--snapshot-every-s", "1"])
    srv.make_event("ev", ["S%d" % i for i in range(SEATS)])
    srv.make_item("it", STOCK)
    tokens = [srv.token("c%d" % c, ttl_s=86400) for c in range(CUSTOMERS)]
    ledger = Ledger()
    for rnd in range(ROUNDS):
        stop = threading.Event()
        threads = [threading.Thread(target=_client,
                                    args=(srv, tokens, ledger, random.Random(rng.random()), stop))
                   for _ in range(LOAD_THREADS)]
        for t in threads:
            t.start()
        time.sleep(0.15 + rng.random() * 0.5)
        srv.kill()
        stop.set()
        for t in threads:
            t.join(30)
        srv.start()
        _verify(srv, tokens, ledger, STOCK, seed, rnd)
    assert len(ledger.orders) > ROUNDS, "the load acknowledged almost nothing: %d orders" % len(ledger.orders)
