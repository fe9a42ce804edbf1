"""The API through two holdfast processes on one PostgreSQL database: what
one process does, the other sees, replays, expires and counts."""
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from helpers import expect_error, expect_ok


def test_hold_on_one_confirmed_on_the_other(pg):
    a, b = pg()
    a.make_event("ev", ["S1", "S2", "S3"], price=1500)
    b.make_item("mug", 5, price=700)
    ta = a.token("alice")          # minted by a ...
    h = expect_ok(b.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}],
                                           "items": [{"item": "mug", "quantity": 2}]}, token=ta), 201)
    # ... accepted by b; the hold is b's work, confirmed through a
    assert expect_ok(a.call("GET", "/holds/" + h["id"], token=ta))["state"] == "active"
    o = expect_ok(a.call("POST", "/holds/%s/confirm" % h["id"], token=ta))
    assert o["seats"] == [{"event": "ev", "seat": "S1", "price": 1500}]
    assert expect_ok(b.call("GET", "/orders/" + o["id"], token=ta))["status"] == "under_review"
    assert b.seat_states("ev")["S1"] == "sold" and a.seat_states("ev")["S1"] == "sold"
    assert (b.item("mug")["sold"], a.item("mug")["available"]) == (2, 3)
    lists = expect_ok(b.call("GET", "/customers/alice/orders", token=ta))
    assert [x["id"] for x in lists["orders"]] == [o["id"]]
    # ids are unique across processes
    h2 = expect_ok(a.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S2"}]}, token=ta), 201)
    h3 = expect_ok(b.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S3"}]}, token=ta), 201)
    assert len({h["id"], h2["id"], h3["id"]}) == 3


def test_feeds_and_change_log_say_not_implemented(pg):
    """Not built on this engine: a plain 501 (a 503 + Retry-After would
    have clients retry forever)."""
    a, _ = pg()
    a.make_event("ev", ["S1"])
    for path in ("/events/ev/feed", "/items/mug/feed", "/changes"):
        r = a.call("GET", path, headers={"Authorization": "Bearer " + a.key})
        expect_error(r, 501, "not_implemented")
        assert "Retry-After" not in r.headers


def test_idempotent_replay_through_the_other_process(pg):
    a, b = pg()
    a.make_item("it", 10)
    t = b.token("carol")
    body = {"items": [{"item": "it", "quantity": 3}]}
    r1 = a.call("POST", "/orders", body, token=t, idem="key-1")
    assert r1.status_code == 201
    r2 = b.call("POST", "/orders", body, token=t, idem="key-1")
    assert r2.status_code == 201 and r2.content == r1.content   # byte-identical
    assert a.item("it")["sold"] == 3
    # the same key with another body is refused, through either
    expect_error(b.call("POST", "/orders", {"items": [{"item": "it", "quantity": 1}]}, token=t, idem="key-1"),
                 409, "idempotency_key_reused")
    # across a restart of both
    a.restart()
    b.restart()
    r3 = b.call("POST", "/orders", body, token=t, idem="key-1")
    assert r3.content == r1.content


def test_test_clock_moved_through_one_expires_on_the_other(pg):
    a, b = pg()
    a.make_event("ev", ["S1"])
    ta, tb = a.token("alice"), a.token("bob")
    h = expect_ok(b.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=ta), 201)
    a.advance(299)
    expect_error(b.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=tb),
                 409, "seats_unavailable")
    a.advance(1)
    assert expect_ok(b.call("GET", "/holds/" + h["id"], token=ta))["state"] == "expired"
    assert b.seat_states("ev")["S1"] == "free"
    expect_error(b.call("POST", "/holds/%s/confirm" % h["id"], token=ta), 409, "hold_expired")
    expect_ok(b.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=tb), 201)



def test_tokens_follow_the_shared_test_clock(pg):
    """A token lives by the clock every process shares: one minted by b
    before a moved the clock past its expiry is refused by b; one minted by
    b after it is accepted by a."""
    a, b = pg()
    a.make_item("it", 5)
    early = b.token("dora", ttl_s=3600)
    expect_ok(a.call("GET", "/customers/dora/holds", token=early))
    a.advance(7200)
    expect_error(b.call("GET", "/customers/dora/holds", token=early), 401, "unauthorized")
    late = b.token("dora", ttl_s=3600)
    expect_ok(a.call("GET", "/customers/dora/holds", token=late))
    expect_ok(a.call("POST", "/holds", {"items": [{"item": "it", "quantity": 1}]}, token=late), 201)


def test_owner_isolation_across_processes(pg):
    a, b = pg()
    a.make_item("it", 10)
    ta, tb = a.token("alice"), b.token("bob")
    h = expect_ok(a.call("POST", "/holds", {"items": [{"item": "it", "quantity": 1}]}, token=ta), 201)
    o = expect_ok(a.call("POST", "/orders", {"items": [{"item": "it", "quantity": 1}]}, token=ta), 201)
    expect_error(b.call("GET", "/holds/" + h["id"], token=tb), 404, "not_found")
    expect_error(b.call("POST", "/holds/%s/confirm" % h["id"], token=tb), 404, "not_found")
    expect_error(b.call("GET", "/orders/" + o["id"], token=tb), 404, "not_found")
    expect_error(b.call("POST", "/orders/%s/cancel" % o["id"], token=tb), 404, "not_found")
    expect_error(b.call("GET", "/customers/alice/holds", token=tb), 404, "not_found")


def test_seat_race_abc_across_processes(pg):
    """Seed 001 with the three customers on different processes."""
    procs = pg(n=2)
    procs.append(procs[0])
    wants = {"A": ["5", "6"], "B": ["3", "6"], "C": ["2", "3", "4", "5", "6"]}
    pool = ThreadPoolExecutor(3)
    try:
        for rep in range(30):
            eid = "race-%d" % rep
            procs[0].make_event(eid, ["1", "2", "3", "4", "5", "6"])
            tokens = {c: procs[0].token("%s-%d" % (c, rep)) for c in wants}
            who = dict(zip(wants, random.sample([procs[0], procs[1], procs[1]], 3)))
            barrier = threading.Barrier(3)

            def go(c):
                barrier.wait()
                return c, who[c].call("POST", "/holds", {"seats": [{"event": eid, "seat": s} for s in wants[c]]},
                                      token=tokens[c])
            owner = {}
            for c, r in [f.result() for f in [pool.submit(go, c) for c in wants]]:
                assert r.status_code in (201, 409), r.text
                if r.status_code == 201:
                    for s in r.json()["seats"]:
                        assert s["seat"] not in owner
                        owner[s["seat"]] = c
            assert len(set(owner.values())) == 1, owner
            for s, st in procs[1].seat_states(eid).items():
                assert (st == "held") == (s in owner)
    finally:
        pool.shutdown()


def test_scarce_stock_exact_across_processes(pg):
    a, b = pg()
    a.make_item("scarce", 20, price=999)
    n = 50
    tokens = [a.token("buyer%d" % i) for i in range(n)]
    barrier = threading.Barrier(n)

    def buy(i):
        barrier.wait()
        return (a, b)[i % 2].call("POST", "/orders", {"items": [{"item": "scarce", "quantity": 1}]}, token=tokens[i])

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(buy, range(n)))
    ok = [r for r in results if r.status_code == 201]
    for r in results:
        if r.status_code != 201:
            e = expect_error(r, 409, "insufficient_stock")
            assert e["available"] == 0
    assert len(ok) == 20 and len({r.json()["id"] for r in ok}) == 20
    for s in (a, b):
        it = s.item("scarce")
        assert (it["available"], it["held"], it["sold"]) == (0, 0, 20)


def test_conservation_under_random_concurrent_load(pg, cluster):
    """Random holds, adds, removes, confirms, releases, orders and cancels
    from 8 threads over both processes; then every counter adds up, the seat
    map matches the live bookings, and the plain tables agree."""
    a, b = pg()
    seats = ["S%d" % i for i in range(40)]
    a.make_event("ev", seats)
    for i in range(3):
        b.make_item("it%d" % i, 30)
    tokens = [a.token("c%d" % i) for i in range(12)]
    stop = threading.Event()

    def worker(k):
        rng = random.Random(k)
        mine = []
        for _ in range(60):
            srv = (a, b)[rng.randrange(2)]
            t = tokens[rng.randrange(len(tokens))]
            lines = {"seats": [{"event": "ev", "seat": s} for s in rng.sample(seats, rng.randint(0, 2))],
                     "items": [{"item": "it%d" % rng.randrange(3), "quantity": rng.randint(1, 3),
                                "partial": rng.random() < 0.5}]}
            x = rng.random()
            if x < 0.35:
                r = srv.call("POST", "/holds", lines, token=t)
                if r.status_code == 201:
                    mine.append((t, r.json()["id"]))
            elif x < 0.5:
                srv.call("POST", "/orders", lines, token=t)
            elif mine:
                t2, hid = mine.pop(rng.randrange(len(mine)))
                y = rng.random()
                if y < 0.4:
                    r = srv.call("POST", "/holds/%s/confirm" % hid, token=t2)
                    if r.status_code == 200 and rng.random() < 0.3:
                        srv.call("POST", "/orders/%s/cancel" % r.json()["id"], token=t2)
                elif y < 0.6:
                    srv.call("DELETE", "/holds/" + hid, token=t2)
                elif y < 0.8:
                    srv.call("POST", "/holds/%s/add" % hid, lines, token=t2)
                    mine.append((t2, hid))
                else:
                    srv.call("POST", "/holds/%s/remove" % hid, lines, token=t2)
                    mine.append((t2, hid))
            if stop.is_set():
                return

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    # the books, through either process
    held = {i: 0 for i in range(3)}
    sold = {i: 0 for i in range(3)}
    seat_owner = {}
    for c in range(12):
        for h in a.call("GET", "/customers/c%d/holds?limit=100" % c, token=a.key).json()["holds"]:
            for s in h["seats"]:
                assert s["seat"] not in seat_owner
                seat_owner[s["seat"]] = "held"
            for it in h["items"]:
                held[int(it["item"][2:])] += it["quantity"]
        for o in b.call("GET", "/customers/c%d/orders?limit=100" % c, token=b.key).json()["orders"]:
            if o["status"] == "canceled":
                continue
            for s in o["seats"]:
                assert s["seat"] not in seat_owner
                seat_owner[s["seat"]] = "sold"
            for it in o["items"]:
                sold[int(it["item"][2:])] += it["quantity"]
    for i in range(3):
        for srv in (a, b):
            it = srv.item("it%d" % i)
            assert it["available"] + it["held"] + it["sold"] == 30
            assert (it["held"], it["sold"]) == (held[i], sold[i]), (i, it, held, sold)
    for s, st in b.seat_states("ev").items():
        assert st == seat_owner.get(s, "free"), (s, st)
    # the plain tables say the same
    rows = cluster.psql(a.db, "SELECT id, available, held, sold FROM holdfast.items ORDER BY id")
    for line in rows.splitlines():
        iid, av, he, so = line.split("|")
        it = a.item(iid)
        assert (int(av), int(he), int(so)) == (it["available"], it["held"], it["sold"])
    rows = cluster.psql(a.db, "SELECT id, state FROM holdfast.seats WHERE event = 'ev'")
    table = dict(line.split("|") for line in rows.splitlines())
    assert table == a.seat_states("ev")
