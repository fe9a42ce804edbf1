"""Choosing seats over HTTP (SPEC sections 9 and 10): best_available in
POST /holds and POST /orders, the orphan rule, late payment, and the
details of limit_exceeded."""
from helpers import expect_error, expect_ok


def make_rows(srv, eid, rows, width, orphan_rule=None, **fields):
    """An event of `rows` rows of `width` seats "<row>-<n>", section
    Stalls, row 1 in category "front"."""
    seats = [{"id": "%d-%d" % (r, n), "section": "Stalls", "row": str(r), "number": n,
              "price": 5000 if r == 1 else 3000, **({"category": "front"} if r == 1 else {})}
             for r in range(1, rows + 1) for n in range(1, width + 1)]
    body = {"id": eid, "name": "Show " + eid, "starts_at": "2030-01-01T20:00:00Z", "seats": seats, **fields}
    if orphan_rule:
        body["orphan_rule"] = orphan_rule
    return expect_ok(srv.admin("POST", "/events", body), 201)


def seat_ids(booking):
    return [s["seat"] for s in booking["seats"]]


def test_best_available_hold_and_order(srv):
    e = make_rows(srv, "gala", 3, 10)
    assert e["orphan_rule"] == "allow"
    t = srv.token("alice")
    h = expect_ok(srv.call("POST", "/holds", {"best_available": {"event": "gala", "count": 4}}, token=t), 201)
    assert seat_ids(h) == ["1-4", "1-5", "1-6", "1-7"] and h["together"] is True
    assert h["total"] == 4 * 5000 and h["state"] == "active"
    # A hold read later does not say "together" (it is the answer of the choice).
    assert "together" not in expect_ok(srv.call("GET", "/holds/" + h["id"], token=t))
    # Named seats and chosen ones in one booking, all or nothing.
    o = expect_ok(srv.call("POST", "/orders", {"seats": [{"event": "gala", "seat": "3-1"}],
                                               "best_available": {"event": "gala", "count": 2,
                                                                  "section": "Stalls"}}, token=t), 201)
    assert seat_ids(o) == ["3-1", "1-2", "1-3"] and o["together"] is True and o["status"] == "under_review"
    # Seats named without best_available: no "together".
    plain = expect_ok(srv.call("POST", "/orders", {"seats": [{"event": "gala", "seat": "3-10"}]}, token=t), 201)
    assert "together" not in plain
    # By category: row 1 is "front"; 1-1, 1-8..1-10 are left: 3 side by side.
    c = expect_ok(srv.call("POST", "/holds", {"best_available": {"event": "gala", "count": 3, "category": "front"}},
                           token=t), 201)
    assert seat_ids(c) == ["1-8", "1-9", "1-10"]
    # Larger than any row: not together.
    big = expect_ok(srv.admin("POST", "/holds", {"customer": "bob",
                                                 "best_available": {"event": "gala", "count": 12}}), 201)
    assert big["together"] is False and len(big["seats"]) == 12
    # The idempotent replay is the same answer, together included.
    body = {"best_available": {"event": "gala", "count": 2}}
    first = srv.call("POST", "/holds", body, token=t, idem="k-best-1")
    again = srv.call("POST", "/holds", body, token=t, idem="k-best-1")
    assert first.status_code == 201 and again.text == first.text


def test_best_available_refusals(srv):
    make_rows(srv, "small", 1, 4)
    t = srv.token("carol")
    before = srv.seat_states("small")
    e = expect_error(srv.call("POST", "/holds", {"best_available": {"event": "small", "count": 5}}, token=t),
                     409, "seats_unavailable")
    assert e["reason"] == "not_enough_free_seats" and e["requested"] == 5 and e["available"] == 4
    assert e["seats"] == []
    # All or nothing with the rest: a short item refuses the seats too.
    srv.make_item("pin", 1)
    expect_error(srv.call("POST", "/orders", {"best_available": {"event": "small", "count": 2},
                                              "items": [{"item": "pin", "quantity": 2}]}, token=t),
                 409, "insufficient_stock")
    assert srv.seat_states("small") == before
    e = expect_error(srv.call("POST", "/holds", {"best_available": {"event": "nope", "count": 1}}, token=t),
                     404, "not_found")
    assert e["event"] == "nope"
    e = expect_error(srv.call("POST", "/holds", {"best_available": {"event": "small"}}, token=t), 400, "bad_request")
    assert e["path"] == "best_available.count"
    e = expect_error(srv.call("POST", "/holds", {"best_available": {"event": "small", "count": 0}}, token=t),
                     400, "bad_request")
    e = expect_error(srv.call("POST", "/holds", {"best_available": {"event": "small", "count": 1, "row": "1"}},
                              token=t), 400, "bad_request")
    assert "row" in e["message"]
    expect_error(srv.call("POST", "/holds", {"best_available": {"event": "small", "count": 90},
                                             "seats": [{"event": "small", "seat": "1-%d" % n} for n in range(1, 5)]
                                             + [{"event": "small", "seat": "x%d" % n} for n in range(20)]},
                          token=t), 413, "payload_too_large")
    # /add takes no best_available.
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "small", "seat": "1-1"}]}, token=t), 201)
    expect_error(srv.call("POST", "/holds/%s/add" % h["id"], {"best_available": {"event": "small", "count": 1}},
                          token=t), 400, "bad_request")


def test_orphan_rule(srv):
    e = make_rows(srv, "strict", 1, 6, orphan_rule="no_single_gaps")
    assert e["orphan_rule"] == "no_single_gaps"
    assert expect_ok(srv.call("GET", "/events/strict"))["orphan_rule"] == "no_single_gaps"
    t = srv.token("dan")
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "strict", "seat": "1-2"}]}, token=t),
                     409, "orphan_seat")
    assert e["seats"] == [{"event": "strict", "seat": "1-1"}]
    assert srv.seat_states("strict")["1-2"] == "free"
    expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "strict", "seat": "1-1"},
                                                     {"event": "strict", "seat": "1-2"}]}, token=t), 201)
    e = expect_error(srv.call("POST", "/orders", {"seats": [{"event": "strict", "seat": "1-4"}]}, token=t),
                     409, "orphan_seat")
    assert e["seats"] == [{"event": "strict", "seat": "1-3"}]
    # Best available never strands one: 2 of 1-3..1-6 are 1-3, 1-4 (the
    # middle pair would strand 1-3 and 1-6).
    h = expect_ok(srv.call("POST", "/holds", {"best_available": {"event": "strict", "count": 2}}, token=t), 201)
    assert seat_ids(h) == ["1-3", "1-4"]
    # 1 of the last 2 would strand the other: refused, naming it.
    e = expect_error(srv.call("POST", "/holds", {"best_available": {"event": "strict", "count": 1}}, token=t),
                     409, "orphan_seat")
    assert e["seats"] == [{"event": "strict", "seat": "1-6"}]
    expect_error(srv.admin("POST", "/events", {"id": "bad", "name": "x", "starts_at": "2030-01-01T00:00:00Z",
                                               "orphan_rule": "never", "seats": [{"id": "1", "price": 1}]}),
                 400, "bad_request")


def test_late_payment(srv):
    make_rows(srv, "late", 1, 6)
    srv.make_item("cap", 3, price=700)
    t = srv.token("erin")
    h = expect_ok(srv.call("POST", "/holds", {"ttl_s": 60, "seats": [{"event": "late", "seat": "1-1"}],
                                              "items": [{"item": "cap", "quantity": 2}]}, token=t), 201)
    srv.advance(61)
    expect_error(srv.call("POST", "/holds/%s/confirm" % h["id"], token=t), 409, "hold_expired")
    # A customer cannot accept a late payment; the admin can.
    expect_error(srv.call("POST", "/holds/%s/confirm" % h["id"], {"accept_late": True}, token=t), 403, "forbidden")
    # Something was taken meanwhile: 409 naming it, nothing changes.
    other = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "late", "seat": "1-1"}],
                                                  "items": [{"item": "cap", "quantity": 2}]},
                               token=srv.token("fay")), 201)
    e = expect_error(srv.admin("POST", "/holds/%s/confirm" % h["id"], {"accept_late": True}), 409, "hold_expired")
    assert e["seats"] == [{"event": "late", "seat": "1-1"}] and e["item"] == "cap" and e["available"] == 1
    expect_ok(srv.call("DELETE", "/holds/" + other["id"], token=srv.token("fay")))
    o = expect_ok(srv.admin("POST", "/holds/%s/confirm" % h["id"], {"accept_late": True}))
    assert o["id"].startswith("o-") and seat_ids(o) == ["1-1"] and o["total"] == 5000 + 2 * 700
    assert o["customer"] == "erin"
    assert srv.seat_states("late")["1-1"] == "sold" and srv.item("cap")["sold"] == 2
    got = expect_ok(srv.call("GET", "/holds/" + h["id"], token=t))
    assert got["state"] == "confirmed" and got["order"] == o["id"]
    # A released hold is never revived.
    r = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "late", "seat": "1-2"}]}, token=t), 201)
    expect_ok(srv.call("DELETE", "/holds/" + r["id"], token=t))
    expect_error(srv.admin("POST", "/holds/%s/confirm" % r["id"], {"accept_late": True}), 409, "hold_not_active")
    # Survives a restart (the log replays the late confirm).
    srv.restart()
    assert srv.seat_states("late")["1-1"] == "sold"
    assert expect_ok(srv.call("GET", "/holds/" + h["id"], token=srv.token("erin")))["state"] == "confirmed"


def test_limit_exceeded_says_which(srv):
    make_rows(srv, "capped", 1, 8, max_per_customer=3)
    t = srv.token("gus")
    expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "capped", "seat": "1-1"},
                                                     {"event": "capped", "seat": "1-2"}]}, token=t), 201)
    e = expect_error(srv.call("POST", "/orders", {"best_available": {"event": "capped", "count": 2}}, token=t),
                     409, "limit_exceeded")
    assert e["limit"] == "seats_per_customer" and e["max"] == 3 and e["current"] == 2 and e["requested"] == 2
    assert e["event"] == "capped" and "3" in e["message"]
    srv.make_item("bulk", 1999999990, price=1)
    e = expect_error(srv.admin("POST", "/items/bulk/restock", {"quantity": 11}), 409, "limit_exceeded")
    assert e == {"code": "limit_exceeded", "message": e["message"], "limit": "stock_max", "max": 2000000000,
                 "current": 1999999990, "requested": 11, "item": "bulk"}
    for _ in range(31):  # gus has one hold already
        expect_ok(srv.call("POST", "/holds", {"items": [{"item": "bulk", "quantity": 1}]}, token=t), 201)
    e = expect_error(srv.call("POST", "/holds", {"items": [{"item": "bulk", "quantity": 1}]}, token=t),
                     409, "limit_exceeded")
    assert e["limit"] == "active_holds_per_customer" and e["max"] == 32 and e["current"] == 32


def test_best_available_after_restart_and_in_a_batch(srv):
    make_rows(srv, "replay", 2, 6, orphan_rule="no_single_gaps")
    t = srv.token("hal")
    a = expect_ok(srv.call("POST", "/holds", {"best_available": {"event": "replay", "count": 2}}, token=t), 201)
    assert seat_ids(a) == ["1-3", "1-4"]  # the middle, two free seats on each side
    # The log replays the choice; the index is made again on first use and
    # the next choice continues from the same state.
    srv.restart()
    assert expect_ok(srv.call("GET", "/holds/" + a["id"], token=t))["seats"] == a["seats"]
    b = expect_ok(srv.call("POST", "/holds", {"best_available": {"event": "replay", "count": 2}}, token=t), 201)
    assert seat_ids(b) == ["1-1", "1-2"]  # as near the middle as 1-5, 1-6, and first
    # In a batch: each operation chooses in turn; accept_late is the admin's.
    r = expect_ok(srv.call("POST", "/batch", {"ops": [
        {"method": "POST", "path": "/orders", "body": {"best_available": {"event": "replay", "count": 2}}},
        {"method": "POST", "path": "/orders", "body": {"best_available": {"event": "replay", "count": 5}}},
        {"method": "POST", "path": "/holds/%s/confirm" % a["id"], "body": {"accept_late": True}}]}, token=t))
    res = r["results"]
    assert res[0]["status"] == 201 and seat_ids(res[0]["body"]) == ["1-5", "1-6"]
    # 5 of a row of 6 strand a seat whatever the start: refused, naming it.
    assert res[1]["status"] == 409 and res[1]["body"]["error"]["code"] == "orphan_seat"
    assert res[1]["body"]["error"]["seats"] == [{"event": "replay", "seat": "2-6"}]
    assert res[2]["status"] == 403 and res[2]["body"]["error"]["code"] == "forbidden"
