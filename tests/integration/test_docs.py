"""The documents hold to the routing table (`holdfast routes`) and to the
error codes of SPEC section 4."""
import os
import re
import subprocess

from conftest import BIN

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CODES = ["bad_request", "unauthorized", "forbidden", "not_found", "seats_unavailable", "insufficient_stock",
         "hold_expired", "hold_not_active", "invalid_transition", "limit_exceeded", "sale_closed",
         "idempotency_key_reused", "already_exists", "payload_too_large", "overloaded", "orphan_seat"]


def routes():
    out = subprocess.run([BIN, "routes"], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return {(m, p): who for m, p, who in rows}


def openapi_operations(text):
    """(METHOD, path) -> the operation's lines, read from the paths: block
    (two-space path keys, four-space method keys) without a YAML library."""
    ops = {}
    in_paths = False
    path = None
    current = None
    for line in text.splitlines():
        if re.match(r"^paths:\s*$", line):
            in_paths = True
            continue
        if in_paths and re.match(r"^\S", line):
            in_paths = False
        if not in_paths:
            continue
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path = m.group(1)
            continue
        m = re.match(r"^    (get|post|put|delete|patch):\s*$", line)
        if m and path:
            current = (m.group(1).upper(), path)
            ops[current] = []
            continue
        if current:
            ops[current].append(line)
    return ops


def test_openapi_matches_routing_table():
    with open(os.path.join(ROOT, "docs", "openapi.yaml")) as f:
        text = f.read()
    assert text.startswith("openapi: 3.")
    ops = openapi_operations(text)
    table = routes()
    assert set(ops) == set(table), "only in openapi: %s; only in the server: %s" % (
        sorted(set(ops) - set(table)), sorted(set(table) - set(ops)))
    for key, who in table.items():
        body = "\n".join(ops[key])
        assert ("security:" in body) == (who != "any"), key
    for code in CODES:
        assert code in text, code


def test_api_md_covers_every_route_and_code():
    with open(os.path.join(ROOT, "docs", "API.md")) as f:
        text = f.read()
    sections = re.split(r"\n### ", text)
    for (method, path), who in routes().items():
        found = [s for s in sections if re.match(r"^[^\n]*\b%s %s(?=[\s,(]|$)" % (method, re.escape(path)), s)]
        assert found, "no section for %s %s" % (method, path)
        assert "curl" in found[0], "no curl example for %s %s" % (method, path)
    for code in CODES:
        m = re.search(r"^# %s \(\d{3}[^\n]*\n([^\n]*curl[^\n]*)$" % code, text, re.M)
        assert m, "no curl example for error code %s" % code
