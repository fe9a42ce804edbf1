"""Authorization matrix (issue 6, part 4): every route of the routing table
times every kind of credential, with the status each must get.

The routes come from `holdfast routes` (the one table in src/server/api.c);
ROWS below must hold exactly one row per route, so a route added without its
row (or a row left for a route that is gone, or a route whose "who" changed)
fails test_every_route_has_a_row before anything else runs.

Credentials (one column each):
  none     no Authorization header
  bad      a wrong admin key, a token with a flipped MAC, a well-formed token
           signed with another secret, a token cut short, "Bearer" with
           nothing, another scheme (all must be treated alike)
  expired  the owner's token, minted with ttl_s 1, after the test clock
           moved 2 s past it (tokens are checked against the server's clock,
           which --test-clock replaces)
  other    a valid token of another customer
  owner    a valid token of the customer who owns the objects the request
           names (for an admin or public route: just a customer token)
  admin    the admin key

Expected, by the route's kind:
  public   any credential, even a bad one: success (a credential is not
           looked at on a public route)
  admin    none/bad/expired 401; other/owner 403; admin success
  owned    (a hold, an order, a customer's list) none/bad/expired 401;
           other 404 (exactly as an id that does not exist); owner, admin
           success
  create   (POST /holds, POST /orders; the body names the owner in
           "customer") none/bad/expired 401; other 403 (a token acting for
           someone else); owner, admin success
  batch    (POST /batch) none/bad/expired 401; any valid credential 200,
           each operation then answered as its own request would be
           (test_batch.py checks the operations' rows: an order in the
           owner's name is 403 for another customer)

Every request is one that would otherwise succeed: the objects it names are
made for it, fresh for each success (a confirm or a release can run once).
Refusals must change nothing (state_dump before and after, see helpers.py).
"""
import base64
import hashlib
import hmac
import itertools
import json
import os
import subprocess

import pytest

from conftest import BIN
from helpers import state_dump

CREDS = ("none", "bad", "expired", "other", "owner", "admin")
WHO = {"public": "any", "admin": "admin", "owned": "customer", "create": "customer", "batch": "customer"}
ITEM = {"items": [{"item": "it", "quantity": 1}]}


class Ctx:
    """Per route: the owner, and fresh objects on demand."""

    def __init__(self, srv, n, owner, seat_numbers):
        self.srv, self.n, self.owner, self.seat_numbers = srv, n, owner, seat_numbers
        self.k = 0

    def fresh(self, prefix):
        self.k += 1
        return "%s-%d-%d" % (prefix, self.n, self.k)

    def hold(self, quantity=1):
        r = self.srv.admin("POST", "/holds", {"customer": self.owner,
                                              "items": [{"item": "it", "quantity": quantity}]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def order(self):
        r = self.srv.admin("POST", "/orders", {"customer": self.owner, **ITEM})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def seat(self, blocked=False):
        """A free seat of event "ev" no other request has used (blocked
        first when asked)."""
        s = "S%d" % next(self.seat_numbers)
        if blocked:
            r = self.srv.admin("POST", "/events/ev/block", {"seats": [s]})
            assert r.status_code == 200, r.text
        return s


def holds_list(c):
    c.hold()
    return "/customers/%s/holds" % c.owner, None


def orders_list(c):
    c.order()
    return "/customers/%s/orders" % c.owner, None


def new_event(c):
    return {"id": c.fresh("ev"), "name": "x", "starts_at": "2030-01-01T00:00:00Z",
            "seats": [{"id": "1", "price": 1}]}


# (method, path pattern) -> (kind, success status, setup(ctx) -> (path, body)).
# A setup makes what the request needs and returns a request that succeeds
# with the right credential.
ROWS = {
    ("POST", "/events"): ("admin", 201, lambda c: ("/events", new_event(c))),
    ("GET", "/events/{id}"): ("public", 200, lambda c: ("/events/ev", None)),
    ("GET", "/events/{id}/seats"): ("public", 200, lambda c: ("/events/ev/seats", None)),
    ("GET", "/events/{id}/feed"): ("public", 200, lambda c: ("/events/ev/feed", None)),
    ("POST", "/events/{id}/block"): ("admin", 200, lambda c: ("/events/ev/block", {"seats": [c.seat()]})),
    ("POST", "/events/{id}/unblock"): ("admin", 200,
                                       lambda c: ("/events/ev/unblock", {"seats": [c.seat(blocked=True)]})),
    ("POST", "/items"): ("admin", 201, lambda c: ("/items", {"id": c.fresh("item"), "name": "x", "price": 1,
                                                            "stock": 1})),
    ("GET", "/items/{id}"): ("public", 200, lambda c: ("/items/it", None)),
    ("GET", "/items/{id}/feed"): ("public", 200, lambda c: ("/items/it/feed", None)),
    ("POST", "/items/{id}/restock"): ("admin", 200, lambda c: ("/items/it/restock", {"quantity": 1})),
    ("POST", "/holds"): ("create", 201, lambda c: ("/holds", {"customer": c.owner, **ITEM})),
    ("GET", "/holds/{id}"): ("owned", 200, lambda c: ("/holds/" + c.hold(), None)),
    ("POST", "/holds/{id}/add"): ("owned", 200, lambda c: ("/holds/%s/add" % c.hold(), ITEM)),
    ("POST", "/holds/{id}/remove"): ("owned", 200, lambda c: ("/holds/%s/remove" % c.hold(2), ITEM)),
    ("POST", "/holds/{id}/extend"): ("owned", 200, lambda c: ("/holds/%s/extend" % c.hold(), {"ttl_s": 60})),
    ("POST", "/holds/{id}/confirm"): ("owned", 200, lambda c: ("/holds/%s/confirm" % c.hold(), None)),
    ("DELETE", "/holds/{id}"): ("owned", 200, lambda c: ("/holds/" + c.hold(), None)),
    ("POST", "/orders"): ("create", 201, lambda c: ("/orders", {"customer": c.owner, **ITEM})),
    ("GET", "/orders/{id}"): ("owned", 200, lambda c: ("/orders/" + c.order(), None)),
    ("POST", "/orders/{id}/cancel"): ("owned", 200, lambda c: ("/orders/%s/cancel" % c.order(), None)),
    ("POST", "/orders/{id}/status"): ("admin", 200,
                                      lambda c: ("/orders/%s/status" % c.order(), {"status": "packaged"})),
    ("GET", "/customers/{id}/holds"): ("owned", 200, holds_list),
    ("GET", "/customers/{id}/orders"): ("owned", 200, orders_list),
    ("POST", "/tokens"): ("admin", 201, lambda c: ("/tokens", {"customer": c.owner})),
    ("POST", "/admin/clock"): ("admin", 200, lambda c: ("/admin/clock", {"advance_s": 1})),
    ("GET", "/metrics"): ("public", 200, lambda c: ("/metrics", None)),
    ("GET", "/health"): ("public", 200, lambda c: ("/health", None)),
    ("GET", "/changes"): ("admin", 200, lambda c: ("/changes", None)),
    ("GET", "/events"): ("public", 200, lambda c: ("/events", None)),
    ("GET", "/ui/"): ("public", 200, lambda c: ("/ui/", None)),
    ("GET", "/ui/events/{id}"): ("public", 200, lambda c: ("/ui/events/ev", None)),
    ("GET", "/ui/{file}"): ("public", 200, lambda c: ("/ui/app.js", None)),
    ("POST", "/batch"): ("batch", 200, lambda c: ("/batch", {"ops": [
        {"method": "POST", "path": "/orders", "body": {"customer": c.owner, **ITEM}}]})),
}


def expected(kind, ok, cred):
    """(status, error code or None) for a credential on a route of this kind."""
    if kind == "public" or cred == "admin":
        return ok, None
    if cred in ("none", "bad", "expired"):
        return 401, "unauthorized"
    if kind == "batch":
        return ok, None
    if kind == "admin":
        return 403, "forbidden"
    if cred == "owner":
        return ok, None
    return (404, "not_found") if kind == "owned" else (403, "forbidden")


def routing_table():
    out = subprocess.run([BIN, "routes"], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert rows and all(len(r) == 3 for r in rows), out
    return {(m, p): who for m, p, who in rows}


def test_every_route_has_a_row():
    table = routing_table()
    missing = sorted(set(table) - set(ROWS))
    stale = sorted(set(ROWS) - set(table))
    assert not missing, "routes without a row in ROWS (add one): %s" % missing
    assert not stale, "rows for routes the server does not have: %s" % stale
    changed = {k: (table[k], WHO[ROWS[k][0]]) for k in table if table[k] != WHO[ROWS[k][0]]}
    assert not changed, "routes whose caller changed (server, row): %s" % changed


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def foreign_token(customer, expires_at_ms):
    """A token in holdfast's format ("hft1.<payload>.<mac>", see
    src/server/auth.h) signed with a secret that is not the server's."""
    signed = "hft1." + b64u(("%s|%d" % (customer, expires_at_ms)).encode())
    mac = hmac.new(os.urandom(32), signed.encode(), hashlib.sha256).digest()
    return signed + "." + b64u(mac)


def bad_credentials(srv, owner_token, owner):
    head, payload, mac = owner_token.split(".")
    flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    return [
        {"Authorization": "Bearer " + "x" * len(srv.key)},                    # wrong admin key
        {"Authorization": "Bearer " + srv.key[:-1]},                            # the admin key cut short
        {"Authorization": "Bearer " + ".".join([head, payload, flipped])},      # MAC flipped
        {"Authorization": "Bearer " + foreign_token(owner, 99999999999999)},   # another secret's token
        {"Authorization": "Bearer " + owner_token[:-3]},                        # token cut short
        {"Authorization": "Bearer "},                                           # nothing
        {"Authorization": "Basic " + owner_token},                              # another scheme
    ]


def send(srv, method, path, body, headers):
    h = dict(headers)
    data = None
    if body is not None:
        data = json.dumps(body)
        h["Content-Type"] = "application/json"
    r = srv.session().request(method, srv.url + path, data=data, headers=h, timeout=30, stream=True)
    if r.headers.get("Content-Type", "").startswith("text/event-stream"):
        r.close()  # a feed: its status is the answer (the stream never ends)
    return r


def test_authorization_matrix(holdfast):
    table = routing_table()
    if set(table) != set(ROWS):
        pytest.fail("the routing table and ROWS differ (see test_every_route_has_a_row)")
    srv = holdfast(fsync="off")
    seat_numbers = itertools.count(1)
    srv.make_event("ev", ["S%d" % i for i in range(1, 301)])
    srv.make_item("it", 100000)
    routes = sorted(table)
    owners = {rt: "own%d" % n for n, rt in enumerate(routes)}
    others = {rt: "oth%d" % n for n, rt in enumerate(routes)}
    expired = {rt: srv.token(owners[rt], ttl_s=1) for rt in routes}
    srv.advance(2)
    tokens = {}
    for rt in routes:
        tokens[owners[rt]] = srv.token(owners[rt])
        tokens[others[rt]] = srv.token(others[rt])

    def creds(rt, cred):
        """The header sets for a credential column."""
        if cred == "none":
            return [{}]
        if cred == "bad":
            return bad_credentials(srv, tokens[owners[rt]], owners[rt])
        if cred == "expired":
            return [{"Authorization": "Bearer " + expired[rt]}]
        if cred == "admin":
            return [{"Authorization": "Bearer " + srv.key}]
        who = owners[rt] if cred == "owner" else others[rt]
        return [{"Authorization": "Bearer " + tokens[who]}]

    wrong = []
    cells = 0
    for n, rt in enumerate(routes):
        method, pattern = rt
        kind, ok, setup = ROWS[rt]
        c = Ctx(srv, n, owners[rt], seat_numbers)
        # refusals first, all on one set of objects; they must change nothing
        path, body = setup(c)
        customers = [owners[rt], others[rt]]
        before = state_dump(srv, events=["ev"], items=["it"], customers=customers)
        for cred in CREDS:
            status, code = expected(kind, ok, cred)
            if status == ok:
                continue
            for headers in creds(rt, cred):
                cells += 1
                r = send(srv, method, path, body, headers)
                got_code = r.json().get("error", {}).get("code") if r.headers.get(
                    "Content-Type", "").startswith("application/json") else None
                if r.status_code != status or got_code != code:
                    wrong.append("%s %s as %s (%s): %d %s, expected %d %s" % (
                        method, pattern, cred, headers.get("Authorization", "-")[:24], r.status_code,
                        got_code, status, code))
        after = state_dump(srv, events=["ev"], items=["it"], customers=customers)
        if after != before:
            wrong.append("%s %s: a refused request changed the state" % (method, pattern))
        # successes, each on fresh objects
        for cred in CREDS:
            status, _ = expected(kind, ok, cred)
            if status != ok:
                continue
            for headers in creds(rt, cred):
                cells += 1
                path, body = setup(c)
                r = send(srv, method, path, body, headers)
                if r.status_code != ok:
                    wrong.append("%s %s as %s (%s): %d %s, expected %d" % (
                        method, pattern, cred, headers.get("Authorization", "-")[:24], r.status_code,
                        r.text[:120], ok))
    print("authorization matrix: %d routes, %d requests" % (len(routes), cells))
    assert not wrong, "%d cells wrong:\n%s" % (len(wrong), "\n".join(wrong))


def test_rotating_the_token_secret_and_the_admin_key(holdfast):
    """docs/SECURITY.md "Rotation": with the server stopped, a new
    token.secret revokes every token (a missing one is made afresh at
    start); a new admin key replaces the old one and leaves tokens alone; a
    token.secret of the wrong size stops start-up with a message."""
    srv = holdfast(fsync="off")
    srv.make_item("it", 10)
    old_token = srv.token("alice")
    assert send(srv, "GET", "/customers/alice/holds", None,
                {"Authorization": "Bearer " + old_token}).status_code == 200
    secret = os.path.join(srv.data, "token.secret")
    assert os.stat(secret).st_mode & 0o077 == 0, oct(os.stat(secret).st_mode)

    # new admin key: the old one is refused, tokens still work
    assert srv.stop() == 0
    old_key = srv.key
    srv.key = "admin-rotated-" + os.urandom(16).hex()
    with open(srv.key_file, "w") as f:
        f.write(srv.key + "\n")
    srv.start()
    assert send(srv, "POST", "/tokens", {"customer": "bob"}, {"Authorization": "Bearer " + old_key}).status_code == 401
    assert srv.admin("POST", "/tokens", {"customer": "bob"}).status_code == 201
    assert send(srv, "GET", "/customers/alice/holds", None,
                {"Authorization": "Bearer " + old_token}).status_code == 200

    # new token secret: every old token is refused, new ones work
    assert srv.stop() == 0
    os.remove(secret)
    srv.start()
    r = send(srv, "GET", "/customers/alice/holds", None, {"Authorization": "Bearer " + old_token})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    new_token = srv.token("alice")
    assert send(srv, "GET", "/customers/alice/holds", None,
                {"Authorization": "Bearer " + new_token}).status_code == 200

    # a damaged secret file: no start, a clear message
    assert srv.stop() == 0
    with open(secret, "wb") as f:
        f.write(b"short")
    with pytest.raises(RuntimeError, match="token.secret: expected 32 bytes"):
        srv.start(timeout=10)
