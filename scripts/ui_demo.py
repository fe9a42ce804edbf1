"""ui_demo.py: a demo arena for the seat-map page's screenshots and render
benchmark (scripts/screenshots.sh, scripts/bench-ui.sh), on a real holdfast
started as the browser tests start it (tests/ui/conftest.py).

    arena(srv, "arena", sections=3, rows=10, per_row=24, seed=7)
        -> the seat list; some seats held, sold and blocked (seeded)
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ui"))
from conftest import PinnedServer, browser, wait_for  # noqa: E402,F401

ROWS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def rowname(k):
    return ROWS[k] if k < len(ROWS) else ROWS[k // len(ROWS) - 1] + ROWS[k % len(ROWS)]


def arena(srv, eid, names=("Floor", "Left", "Right"), rows=10, per_row=24, taken=0.12, seed=7, name=None):
    seats = []
    short = len({x[0] for x in names}) == len(names)  # "F-D-12" while initials tell sections apart
    for s, sec in enumerate(names):
        for k in range(rows):
            for n in range(1, per_row + 1):
                cat, price = ("premium", 9500) if s == 0 and k < 3 else (("standard", 6500) if s == 0 else ("side", 4500))
                seats.append({"id": "%s-%s-%d" % (sec[0] if short else sec, rowname(k), n), "section": sec, "row": rowname(k),
                              "number": n, "price": price, "category": cat})
    body = {"id": eid, "name": name or "Arena Night", "starts_at": "2026-12-19T20:00:00Z", "seats": seats}
    r = srv.admin("POST", "/events", body)
    assert r.status_code == 201, r.text
    rnd = random.Random(seed)
    ids = [s["id"] for s in seats]
    pick = rnd.sample(ids, int(len(ids) * taken))
    third = len(pick) // 3
    sold, held, blocked = pick[:third], pick[third:2 * third], pick[2 * third:2 * third + max(1, third // 4)]
    for i in range(0, len(sold), 100):
        r = srv.admin("POST", "/orders", {"customer": "box-office", "seats": [{"event": eid, "seat": x} for x in sold[i:i + 100]]})
        assert r.status_code == 201, r.text
    for i in range(0, len(held), 100):
        r = srv.admin("POST", "/holds", {"customer": "c%d" % i, "seats": [{"event": eid, "seat": x} for x in held[i:i + 100]]})
        assert r.status_code == 201, r.text
    r = srv.admin("POST", "/events/%s/block" % eid, {"seats": blocked})
    assert r.status_code == 200, r.text
    return seats


def open_page(d, srv, eid, token=None, admin=None, timeout=60):
    d.get(srv.url + "/ui/")
    d.execute_script("sessionStorage.clear()")
    if admin:
        d.execute_script("sessionStorage.setItem('holdfast-admin-key', arguments[0])", admin)
    d.get(srv.url + "/ui/events/" + eid + ("#token=" + token if token else ""))
    wait_for(lambda: d.execute_script("return document.body.getAttribute('data-ready')") == "true", timeout, "drawn")
