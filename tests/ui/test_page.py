"""The seat-map page in a real headless Chromium (SPEC section 8): the
seats it lists equal the event's, it follows holds, expiries and restarts
live, a buyer holds and confirms through it, refusals name the seats, and
the organizer's tools act on the API. One server and one browser for the
module; each test opens its own small event."""
import json
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import event, wait_for


def open_map(page, srv, eid, token=None, admin=None):
    page.get(srv.url + "/ui/")
    page.execute_script("sessionStorage.clear()")
    if admin:
        page.execute_script("sessionStorage.setItem('holdfast-admin-key', arguments[0])", admin)
    page.get(srv.url + "/ui/events/" + eid + ("#token=" + token if token else ""))
    wait_for(lambda: page.execute_script("return document.body.getAttribute('data-ready')") == "true",
             10, "the map drawn")


def page_states(page):
    return page.execute_script(
        "const o = {}; for (const b of document.querySelectorAll('[data-seat][data-state]'))"
        " o[b.getAttribute('data-seat')] = b.getAttribute('data-state'); return o;")


def seat(page, sid):
    return page.find_element(By.CSS_SELECTOR, '#seat-list [data-seat="%s"]' % sid)


def state_of(page, sid):
    return page.execute_script(
        "const b = document.querySelector('#seat-list [data-seat=\"' + arguments[0] + '\"]');"
        " return b && b.getAttribute('data-state');", sid)


def hold(srv, customer, eid, seats):
    r = srv.call("POST", "/holds", {"seats": [{"event": eid, "seat": s} for s in seats]},
                 token=srv.token(customer))
    assert r.status_code == 201, r.text
    return r.json()


def error_text(page):
    el = page.find_element(By.CSS_SELECTOR, '[data-role="error"]')
    return el.text if el.is_displayed() else ""


def test_static_files_served_with_types_and_cache(srv):
    r = requests.get(srv.url + "/events?limit=1", timeout=10)
    assert r.status_code == 200 and set(r.json()) == {"events", "next"}
    for path, ctype in (("/ui/", "text/html"), ("/ui/events/anything", "text/html"),
                        ("/ui/app.js", "text/javascript"), ("/ui/app.css", "text/css")):
        r = requests.get(srv.url + path, timeout=10)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"].startswith(ctype), path
        assert r.headers["Cache-Control"], path
    assert requests.get(srv.url + "/ui/nothing.js", timeout=10).status_code == 404
    assert requests.get(srv.url + "/ui/index.html", timeout=10).status_code == 404
    html = requests.get(srv.url + "/ui/", timeout=10).text
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere


def test_the_events_are_listed_and_open_their_maps(page, srv):
    event(srv, "list-1", rows="A", per_row=3)
    page.get(srv.url + "/ui/")
    link = wait_for(lambda: page.find_element(By.CSS_SELECTOR, '[data-role="events"] a[data-event="list-1"]'),
                    5, "the event listed")
    assert link.text == "Show list-1"
    assert "3 of 3 seats free" in link.find_element(By.XPATH, "..").text
    link.click()
    wait_for(lambda: page.execute_script("return document.body.getAttribute('data-ready')") == "true", 10, "opened")
    assert sorted(page_states(page)) == ["A-1", "A-2", "A-3"]


def test_seats_listed_equal_the_events_seats(page, srv):
    event(srv, "map-1", rows="ABC", per_row=8, sections=("Stalls", "Circle"))
    assert srv.admin("POST", "/events/map-1/block", {"seats": ["S-A-1"]}).status_code == 200
    hold(srv, "ann", "map-1", ["C-B-4"])
    open_map(page, srv, "map-1")
    want = srv.seat_states("map-1")
    wait_for(lambda: page_states(page) == want, 3, "the page's seats equal the API's")
    assert want["S-A-1"] == "blocked" and want["C-B-4"] == "held"
    assert seat(page, "S-B-3").get_attribute("aria-label") == "Row B, seat 3, 60.00, free"
    assert seat(page, "C-B-4").get_attribute("aria-label") == "Row B, seat 4, 60.00, held"
    legend = page.find_element(By.CSS_SELECTOR, '[data-role="legend"]').text
    assert "front 50.00" in legend and "back 60.00" in legend and "sold" in legend


def test_a_hold_made_through_the_api_shows_within_a_second(page, srv):
    event(srv, "live-1")
    open_map(page, srv, "live-1")
    assert state_of(page, "A-2") == "free"
    t0 = time.monotonic()
    hold(srv, "bob", "live-1", ["A-2", "A-3"])
    wait_for(lambda: state_of(page, "A-2") == "held" and state_of(page, "A-3") == "held", 1.0,
             "the held seats shown held")
    assert time.monotonic() - t0 <= 1.2


def test_a_held_seat_turns_free_at_expiry(page, srv):
    event(srv, "exp-1", hold_ttl_s=60)
    hold(srv, "cat", "exp-1", ["B-5"])
    open_map(page, srv, "exp-1")
    wait_for(lambda: state_of(page, "B-5") == "held", 2, "held at first")
    srv.advance(61)
    wait_for(lambda: srv.seat_states("exp-1")["B-5"] == "free", 5, "the API frees it")
    wait_for(lambda: state_of(page, "B-5") == "free", 1.5, "the page frees it")


def test_buyer_holds_and_confirms_through_the_page(page, srv):
    event(srv, "buy-1")
    token = srv.token("dana")
    open_map(page, srv, "buy-1", token=token)
    seat(page, "A-3").click()
    seat(page, "A-4").click()
    assert seat(page, "A-3").get_attribute("aria-pressed") == "true"
    page.find_element(By.CSS_SELECTOR, '[data-action="hold"]').click()
    cd = page.find_element(By.CSS_SELECTOR, '[data-role="countdown"]')
    wait_for(lambda: cd.is_displayed() and ":" in cd.text, 5, "the countdown shown")
    holds = srv.call("GET", "/customers/dana/holds", token=token).json()["holds"]
    assert len(holds) == 1 and holds[0]["state"] == "active"
    assert sorted(s["seat"] for s in holds[0]["seats"]) == ["A-3", "A-4"]
    left = int(cd.text.split(":")[0]) * 60 + int(cd.text.split(":")[1])
    assert 250 <= left <= 300, cd.text  # the event's 300 s, on the server's clock
    wait_for(lambda: seat(page, "A-3").get_attribute("data-mine") == "true", 2, "marked as yours")
    page.find_element(By.CSS_SELECTOR, '[data-action="confirm"]').click()
    order = page.find_element(By.CSS_SELECTOR, '[data-role="order"]')
    wait_for(lambda: order.is_displayed() and order.get_attribute("data-order"), 5, "the order shown")
    oid = order.get_attribute("data-order")
    o = srv.call("GET", "/orders/" + oid, token=token).json()
    assert o["id"] == oid and sorted(s["seat"] for s in o["seats"]) == ["A-3", "A-4"]
    states = srv.seat_states("buy-1")
    assert states["A-3"] == "sold" and states["A-4"] == "sold"
    wait_for(lambda: state_of(page, "A-3") == "sold", 2, "sold on the page")


def test_the_page_clears_a_hold_that_expired(page, srv):
    event(srv, "buy-2", hold_ttl_s=60)
    token = srv.token("eve")
    open_map(page, srv, "buy-2", token=token)
    seat(page, "B-2").click()
    page.find_element(By.CSS_SELECTOR, '[data-action="hold"]').click()
    box = page.find_element(By.CSS_SELECTOR, '[data-role="hold"]')
    wait_for(lambda: box.is_displayed(), 5, "the hold shown")
    srv.advance(61)
    wait_for(lambda: not box.is_displayed(), 5, "the hold cleared")
    assert "expired" in page.find_element(By.CSS_SELECTOR, '[data-role="notice"]').text
    wait_for(lambda: state_of(page, "B-2") == "free", 2, "the seat free again")
    assert page.find_elements(By.CSS_SELECTOR, '#seat-list [aria-pressed="true"]') == []


def test_refusals_name_the_seats(page, srv):
    event(srv, "ref-1", rows="A", per_row=5, max_per_customer=2, orphan_rule="no_single_gaps")
    token = srv.token("finn")
    open_map(page, srv, "ref-1", token=token)
    for s in ("A-1", "A-2", "A-3"):
        seat(page, s).click()
    page.find_element(By.CSS_SELECTOR, '[data-action="hold"]').click()
    wait_for(lambda: "limit_exceeded" in error_text(page), 5, "limit_exceeded shown")
    assert all(s in error_text(page) for s in ("A-1", "A-2", "A-3"))
    page.find_element(By.CSS_SELECTOR, '[data-action="clear"]').click()
    seat(page, "A-2").click()
    page.find_element(By.CSS_SELECTOR, '[data-action="hold"]').click()
    wait_for(lambda: "orphan_seat" in error_text(page), 5, "orphan_seat shown")
    assert "A-1" in error_text(page)
    page.find_element(By.CSS_SELECTOR, '[data-action="clear"]').click()
    seat(page, "A-5").click()
    hold(srv, "gus", "ref-1", ["A-4", "A-5"])  # taken between the pick and the hold:
    page.find_element(By.CSS_SELECTOR, '[data-action="hold"]').click()  # refused, or unpicked first
    wait_for(lambda: "A-5" in error_text(page) or "A-5" in page.find_element(
        By.CSS_SELECTOR, '[data-role="notice"]').text, 5, "the taken seat named")
    assert srv.call("GET", "/customers/finn/holds", token=token).json()["holds"] == []


def test_keyboard_path_picks_seats(page, srv):
    event(srv, "key-1", rows="AB", per_row=4)
    open_map(page, srv, "key-1", token=srv.token("hal"))
    first = seat(page, "A-1")
    assert first.get_attribute("tabindex") == "0"
    first.send_keys(Keys.ARROW_RIGHT)
    focused = page.switch_to.active_element
    assert focused.get_attribute("data-seat") == "A-2"
    focused.send_keys(Keys.ARROW_DOWN)
    focused = page.switch_to.active_element
    assert focused.get_attribute("data-seat") == "B-2"
    focused.send_keys(Keys.ENTER)
    assert seat(page, "B-2").get_attribute("aria-pressed") == "true"
    assert "B-2" in page.find_element(By.CSS_SELECTOR, '[data-role="selection"]').get_attribute("innerHTML")


def test_organizer_counts_tokens_and_blocks(page, srv):
    event(srv, "org-1")
    hold(srv, "ida", "org-1", ["A-1"])
    open_map(page, srv, "org-1")
    page.find_element(By.ID, "admin-key").send_keys(srv.key)
    page.find_element(By.CSS_SELECTOR, "#key-form button").click()
    counts = page.find_element(By.CSS_SELECTOR, '[data-role="counts"]')
    wait_for(lambda: counts.is_displayed(), 3, "the counts shown")
    assert page.find_element(By.CSS_SELECTOR, '[data-count="held"]').text == "1"
    assert page.find_element(By.CSS_SELECTOR, '[data-count="free"]').text == "11"
    assert srv.key not in page.current_url
    page.find_element(By.ID, "tok-customer").send_keys("jo")
    page.find_element(By.CSS_SELECTOR, '[data-action="mint"]').click()
    link = wait_for(lambda: page.find_element(By.CSS_SELECTOR, '[data-role="token-link"] a'), 5, "the link")
    token = link.get_attribute("href").split("#token=")[1]
    r = srv.call("POST", "/holds", {"seats": [{"event": "org-1", "seat": "A-6"}]}, token=token)
    assert r.status_code == 201 and r.json()["customer"] == "jo"
    seat(page, "B-1").click()
    seat(page, "B-2").click()
    page.find_element(By.CSS_SELECTOR, '[data-action="block"]').click()
    wait_for(lambda: srv.seat_states("org-1")["B-1"] == "blocked", 5, "blocked in the API")
    wait_for(lambda: state_of(page, "B-2") == "blocked", 2, "blocked on the page")
    seat(page, "B-2").click()
    page.find_element(By.CSS_SELECTOR, '[data-action="unblock"]').click()
    wait_for(lambda: srv.seat_states("org-1")["B-2"] == "free", 5, "unblocked in the API")
    assert srv.seat_states("org-1")["B-1"] == "blocked"
    page.execute_script("sessionStorage.clear()")


def test_the_page_recovers_after_a_restart(page, srv):
    event(srv, "rs-1")
    open_map(page, srv, "rs-1")
    hold(srv, "kim", "rs-1", ["A-1"])
    wait_for(lambda: state_of(page, "A-1") == "held", 2, "held before the restart")
    srv.restart()
    hold(srv, "lee", "rs-1", ["B-6"])
    wait_for(lambda: state_of(page, "B-6") == "held", 10, "a change after the restart shown")
    assert page_states(page) == srv.seat_states("rs-1")
    status = page.find_element(By.CSS_SELECTOR, '[data-role="status"]').text
    assert status.startswith("live"), status
