"""The seeds' races over HTTP, under real concurrency (threads, keep-alive
connections, a barrier so the requests leave together)."""
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from helpers import expect_error, expect_ok

REPS = int(os.environ.get("HOLDFAST_RACE_REPS", "200"))


def test_seat_race_abc(holdfast):
    """Seed 001: A {5,6}, B {3,6}, C {2,3,4,5,6} at once, REPS times on fresh
    events: each seat at most one owner, each request all-or-nothing."""
    seed = int(os.environ.get("HOLDFAST_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    print("seed", seed)
    srv = holdfast()
    wants = {"A": ["5", "6"], "B": ["3", "6"], "C": ["2", "3", "4", "5", "6"]}
    pool = ThreadPoolExecutor(3)
    outcomes = {}
    try:
        for rep in range(REPS):
            eid = "race-%d" % rep
            srv.make_event(eid, ["1", "2", "3", "4", "5", "6"])
            # fresh customers: one customer may keep only 32 active holds
            tokens = {c: srv.token("%s-%d" % (c, rep)) for c in wants}
            order = list(wants)
            rnd.shuffle(order)  # who is submitted first varies
            barrier = threading.Barrier(3)

            def go(c):
                barrier.wait()
                return c, srv.call("POST", "/holds", {"seats": [{"event": eid, "seat": s} for s in wants[c]]},
                                   token=tokens[c])

            results = [f.result() for f in [pool.submit(go, c) for c in order]]
            owner = {}
            for c, r in results:
                assert r.status_code in (201, 409), "seed %d rep %d: %s %s" % (seed, rep, c, r.text)
                if r.status_code == 201:
                    h = r.json()
                    got = sorted(s["seat"] for s in h["seats"])
                    assert got == sorted(wants[c]), "seed %d rep %d: partial hold %s" % (seed, rep, h)
                    for s in got:
                        assert s not in owner, "seed %d rep %d: seat %s twice" % (seed, rep, s)
                        owner[s] = c
                else:
                    e = expect_error(r, 409, "seats_unavailable")
                    named = {x["seat"] for x in e["seats"]}
                    assert named and named <= set(wants[c]), e
            states = srv.seat_states(eid)
            for s, st in states.items():
                assert (st == "held") == (s in owner), "seed %d rep %d: %s %s %s" % (seed, rep, s, st, owner)
            # Overlaps force: at most A+B... C conflicts with both; A and B share 6.
            winners = tuple(sorted({c for c in owner.values()}))
            assert len(winners) == 1, "seed %d rep %d: %s" % (seed, rep, owner)
            outcomes[winners] = outcomes.get(winners, 0) + 1
    finally:
        pool.shutdown()
    print("winners", outcomes)


def test_scarce_stock_race(holdfast):
    """50 buyers, stock 20: exactly 20 orders succeed, stock ends at 0."""
    srv = holdfast()
    srv.make_item("scarce", 20, price=999)
    n = 50
    tokens = [srv.token("buyer%d" % i) for i in range(n)]
    barrier = threading.Barrier(n)

    def buy(i):
        barrier.wait()
        return srv.call("POST", "/orders", {"items": [{"item": "scarce", "quantity": 1}]}, token=tokens[i])

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(buy, range(n)))
    ok = [r for r in results if r.status_code == 201]
    for r in results:
        if r.status_code != 201:
            e = expect_error(r, 409, "insufficient_stock")
            assert e["item"] == "scarce" and e["available"] == 0
    assert len(ok) == 20
    assert len({r.json()["id"] for r in ok}) == 20
    it = srv.item("scarce")
    assert (it["available"], it["held"], it["sold"]) == (0, 0, 20)


def test_hot_item_holds_race(holdfast):
    """Many customers holding from one item at once: held never passes stock,
    and releasing everything returns it all."""
    srv = holdfast()
    srv.make_item("hot", 30)
    n = 40
    tokens = [srv.token("c%d" % i) for i in range(n)]
    barrier = threading.Barrier(n)

    def hold(i):
        barrier.wait()
        return i, srv.call("POST", "/holds", {"items": [{"item": "hot", "quantity": 1 + i % 3, "partial": i % 2 == 0}]},
                           token=tokens[i])

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(hold, range(n)))
    taken = 0
    for i, r in results:
        if r.status_code == 201:
            line = r.json()["items"][0]
            assert 1 <= line["quantity"] <= line["requested"] == 1 + i % 3
            if i % 2:
                assert line["quantity"] == line["requested"]
            taken += line["quantity"]
        else:
            expect_error(r, 409, "insufficient_stock")
    it = srv.item("hot")
    assert it["held"] == taken <= 30 and it["available"] == 30 - taken
    for i, r in results:
        if r.status_code == 201:
            expect_ok(srv.call("DELETE", "/holds/" + r.json()["id"], token=tokens[i]))
    it = srv.item("hot")
    assert (it["available"], it["held"]) == (30, 0)
