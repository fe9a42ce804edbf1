"""The seed problems of SPEC section 1, over HTTP."""
from helpers import expect_error, expect_ok


def test_hold_expires_after_5_minutes_then_another_takes_it(srv):
    srv.make_event("ev", ["S1", "S2"])
    a, b = srv.token("alice"), srv.token("bob")
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=a), 201)
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=b),
                     409, "seats_unavailable")
    assert e["seats"] == [{"event": "ev", "seat": "S1"}]
    srv.advance(299)  # younger than 5 minutes: still held
    expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=b),
                 409, "seats_unavailable")
    srv.advance(1)  # 300 s: dead
    assert expect_ok(srv.call("GET", "/holds/" + h["id"], token=a))["state"] == "expired"
    assert srv.seat_states("ev")["S1"] == "free"
    hb = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=b), 201)
    assert hb["customer"] == "bob"
    expect_error(srv.call("POST", "/holds/%s/confirm" % h["id"], token=a), 409, "hold_expired")
    expect_error(srv.call("POST", "/holds/%s/add" % h["id"], {"seats": [{"event": "ev", "seat": "S2"}]}, token=a),
                 409, "hold_expired")
    o = expect_ok(srv.call("POST", "/holds/%s/confirm" % hb["id"], token=b))
    assert o["seats"] == [{"event": "ev", "seat": "S1", "price": 1000}]
    # a confirmed hold is not active any more
    expect_error(srv.call("POST", "/holds/%s/confirm" % hb["id"], token=b), 409, "hold_not_active")
    expect_error(srv.call("DELETE", "/holds/%s" % hb["id"], token=b), 409, "hold_not_active")


def test_bought_seats_stay_bought(srv):
    srv.make_event("ev", ["S1"])
    a, b = srv.token("alice"), srv.token("bob", ttl_s=7 * 86400)
    h = expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=a), 201)
    expect_ok(srv.call("POST", "/holds/%s/confirm" % h["id"], token=a))
    srv.advance(24 * 3600)
    assert srv.seat_states("ev")["S1"] == "sold"
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "ev", "seat": "S1"}]}, token=b),
                     409, "seats_unavailable")
    assert e["seats"] == [{"event": "ev", "seat": "S1"}]
    expect_error(srv.call("POST", "/orders", {"seats": [{"event": "ev", "seat": "S1"}]}, token=b),
                 409, "seats_unavailable")


def test_seed_002_partial_add_to_cart(srv):
    """Stock 3, add 5 partial: bought 3, none left, totals with the shipping
    fee; the same product again merges into the one cart line."""
    srv.make_item("widget", 3, price=1000)
    t = srv.token("shopper")
    cart = expect_ok(srv.call("POST", "/holds", {"items": [{"item": "widget", "quantity": 5, "partial": True}]},
                              token=t), 201)
    # bought 3 of the 5 asked, and the answer says what is left: 0
    assert cart["items"] == [{"item": "widget", "quantity": 3, "requested": 5, "available": 0, "price": 1000,
                              "line_total": 3000}]
    assert (cart["total"], cart["fees"], cart["total_with_fees"]) == (3000, 500, 3500)
    it = srv.item("widget")
    assert (it["available"], it["held"], it["sold"]) == (0, 3, 0)
    # nothing left: a partial line that would take 0 is refused, naming what is left
    e = expect_error(srv.call("POST", "/holds/%s/add" % cart["id"],
                              {"items": [{"item": "widget", "quantity": 1, "partial": True}]}, token=t),
                     409, "insufficient_stock")
    assert e["item"] == "widget" and e["available"] == 0
    expect_ok(srv.admin("POST", "/items/widget/restock", {"quantity": 4}))
    cart2 = expect_ok(srv.call("POST", "/holds/%s/add" % cart["id"],
                               {"items": [{"item": "widget", "quantity": 2}]}, token=t))
    assert len(cart2["items"]) == 1
    line = cart2["items"][0]
    assert line["quantity"] == 5 and line["requested"] == 7 and line["available"] == 2
    assert (cart2["total"], cart2["total_with_fees"]) == (5000, 5500)
    assert srv.item("widget")["available"] == 2
    o = expect_ok(srv.call("POST", "/holds/%s/confirm" % cart["id"], token=t))
    assert o["total_with_fees"] == 5500
    it = srv.item("widget")
    assert (it["available"], it["held"], it["sold"]) == (2, 0, 5)


def test_seed_003_create_order(srv):
    """create_order of k units: k+1 is refused and changes nothing; k works."""
    k = 4
    srv.make_item("gadget", k, price=250)
    t = srv.token("buyer")
    e = expect_error(srv.call("POST", "/orders", {"items": [{"item": "gadget", "quantity": k + 1}]}, token=t),
                     409, "insufficient_stock")
    assert e["available"] == k
    it = srv.item("gadget")
    assert (it["available"], it["held"], it["sold"]) == (k, 0, 0)
    assert expect_ok(srv.call("GET", "/customers/buyer/orders", token=t))["orders"] == []
    o = expect_ok(srv.call("POST", "/orders", {"items": [{"item": "gadget", "quantity": k}]}, token=t), 201)
    assert o["items"][0]["quantity"] == k and o["total"] == k * 250 and o["total_with_fees"] == k * 250 + 500
    it = srv.item("gadget")
    assert (it["available"], it["held"], it["sold"]) == (0, 0, k)
    # the order walks its statuses; cancel before shipping returns the stock
    expect_ok(srv.admin("POST", "/orders/%s/status" % o["id"], {"status": "packaged"}))
    expect_ok(srv.call("POST", "/orders/%s/cancel" % o["id"], token=t))
    it = srv.item("gadget")
    assert (it["available"], it["sold"]) == (k, 0)


def test_multi_event_all_or_nothing(srv):
    srv.make_event("e1", ["S1", "S2"])
    srv.make_event("e2", ["S1"])
    srv.make_item("it", 1)
    a, b = srv.token("alice"), srv.token("bob")
    expect_ok(srv.call("POST", "/holds", {"seats": [{"event": "e2", "seat": "S1"}]}, token=a), 201)
    e = expect_error(srv.call("POST", "/holds", {"seats": [{"event": "e1", "seat": "S1"}, {"event": "e1", "seat": "S2"},
                                                           {"event": "e2", "seat": "S1"}],
                                                 "items": [{"item": "it", "quantity": 1}]}, token=b),
                     409, "seats_unavailable")
    assert e["seats"] == [{"event": "e2", "seat": "S1"}]
    assert srv.seat_states("e1") == {"S1": "free", "S2": "free"}
    assert srv.item("it")["available"] == 1
