"""Fixtures for the seat-map page tests (SPEC section 8): a real holdfast
binary and one headless Debian Chromium for the whole module.

The server is tests/integration's Server (free port, temporary data
directory, --test-clock, stopped by pid), loaded by path under its own
name; once started it keeps its port across restarts, so an open page can
find it again (the restart test). The browser is chromium + chromedriver
through python3-selenium (scripts/install-deps.sh installs all three):
a missing one fails the suite, it never skips.

    page = ui()                       # the module's browser (selenium WebDriver)
    srv                               # the module's Server
    event(srv, "e1", rows="AB", per_row=6, **fields)
    wait_for(lambda: ..., timeout=1)  # polls a condition, returns its value or fails
"""
import importlib.util
import os
import shutil
import time

import pytest

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "holdfast_integration_conftest", os.path.join(_here, "..", "integration", "conftest.py"))
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)
BIN = _integration.BIN

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class PinnedServer(_integration.Server):
    """A Server that keeps the port it was first given across restarts."""
    pinned = None

    def argv(self):
        a = super().argv()
        if self.pinned:
            a[a.index("127.0.0.1:0")] = "127.0.0.1:%d" % self.pinned
        return a

    def start(self, timeout=30):
        super().start(timeout)
        self.pinned = self.port
        return self


def browser(width=1280, height=900):
    """A headless Chromium (as root: --no-sandbox). Fails when missing."""
    for p in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(p) or shutil.which(p)):
            pytest.fail("%s is missing: run scripts/install-deps.sh" % p)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=%d,%d" % (width, height), "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def wait_for(cond, timeout=5.0, what="condition", every=0.02):
    """Polls cond() until it returns something true; fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # a stale element, a page still loading
            last = e
        if time.monotonic() > deadline:
            raise AssertionError("%s: not true within %.1fs (%r)" % (what, timeout, last))
        time.sleep(every)


def event(srv, eid, rows="AB", per_row=6, sections=("Stalls",), price=5000, **fields):
    """An event of len(sections) * len(rows) * per_row seats, ids "<row>-<n>"
    (prefixed by the section's initial when there are several)."""
    seats = []
    for sec in sections:
        pre = sec[0] + "-" if len(sections) > 1 else ""
        for k, row in enumerate(rows):
            for n in range(1, per_row + 1):
                seats.append({"id": "%s%s-%d" % (pre, row, n), "section": sec, "row": row, "number": n,
                              "price": price + 1000 * k, "category": "front" if k == 0 else "back"})
    body = {"id": eid, "name": "Show " + eid, "starts_at": "2030-01-01T20:00:00Z", "seats": seats}
    body.update(fields)
    r = srv.admin("POST", "/events", body)
    assert r.status_code == 201, r.text
    return seats


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = PinnedServer(tmp_path_factory.mktemp("ui"), test_clock=True, fsync="off")
    s.start()
    yield s
    rc = s.stop()
    log = s.log()
    assert rc == 0, "holdfast exited %s on SIGTERM:\n%s" % (rc, log[-4000:])
    assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-8000:]


@pytest.fixture(scope="module")
def page():
    d = browser()
    yield d
    d.quit()
