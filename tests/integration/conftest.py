"""Fixtures for the integration tests: a real holdfast binary on 127.0.0.1.

`holdfast` is a factory fixture: `srv = holdfast()` starts
`$HOLDFAST_BIN serve` on a free port (port 0, read back from the "start" log
line) with a temporary data directory, a generated admin key and, unless
told otherwise, --test-clock. Every server it started is stopped at the end
of the test (SIGTERM; a server that does not exit 0 fails the test).

    srv = holdfast(test_clock=True, fsync="always", extra=["--threads", "2"])
    srv.admin("POST", "/items", {...})          -> requests.Response
    srv.call("POST", "/holds", body, token=t)   -> requests.Response
    t = srv.token("alice")
    srv.restart()   # SIGTERM, wait, start again on the same data directory
    srv.kill()      # SIGKILL (for crash tests); srv.start() brings it back
    srv.log()       # the server's stderr so far
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

BIN = os.environ.get("HOLDFAST_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "holdfast"))


class Server:
    def __init__(self, base_dir, test_clock=True, fsync="always", extra=None, env=None):
        self.base_dir = str(base_dir)
        self.data = os.path.join(self.base_dir, "data")
        self.key = "admin-" + uuid.uuid4().hex
        self.key_file = os.path.join(self.base_dir, "admin.key")
        with open(self.key_file, "w") as f:
            f.write(self.key + "\n")
        self.test_clock = test_clock
        self.fsync = fsync
        self.extra = list(extra or [])
        self.env = env
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.base_dir, "server.log")
        self._local = threading.local()

    # ---- lifecycle ---------------------------------------------------------
    def argv(self):
        a = [BIN, "serve", "--listen", "127.0.0.1:0", "--data", self.data,
             "--admin-key-file", self.key_file, "--fsync", self.fsync, "--shipping-fee", "500"]
        if self.test_clock:
            a.append("--test-clock")
        return a + self.extra

    def start(self, timeout=30):
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        logf = open(self.log_path, "ab")
        env = dict(os.environ)
        env.pop("HOLDFAST_ADMIN_KEY", None)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=logf, env=env)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
            m = re.search(r"msg=start .*?\bport=(\d+)", text)
            if m:
                self.port = int(m.group(1))
                self._local = threading.local()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("holdfast exited with %s:\n%s" % (self.proc.returncode, text))
            time.sleep(0.02)
        raise RuntimeError("holdfast did not start in %ss:\n%s" % (timeout, self.log()))

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("holdfast did not stop within %ss on SIGTERM" % timeout)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self):
        rc = self.stop()
        assert rc == 0, "holdfast exited %s on SIGTERM:\n%s" % (rc, self.log())
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # ---- requests ----------------------------------------------------------
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def session(self):
        """One keep-alive session per thread."""
        s = getattr(self._local, "s", None)
        if s is None:
            s = requests.Session()
            self._local.s = s
        return s

    def call(self, method, path, body=None, token=None, headers=None, idem=None, raw=None,
             timeout=30):
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if idem:
            h["Idempotency-Key"] = idem
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        return self.session().request(method, self.url + path, data=data, headers=h, timeout=timeout)

    def admin(self, method, path, body=None, **kw):
        return self.call(method, path, body, token=self.key, **kw)

    def token(self, customer, ttl_s=None):
        body = {"customer": customer}
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
        r = self.admin("POST", "/tokens", body)
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def advance(self, seconds):
        r = self.admin("POST", "/admin/clock", {"advance_s": seconds})
        assert r.status_code == 200, r.text
        return r.json()["now"]

    # ---- catalog helpers ---------------------------------------------------
    def make_event(self, eid, seats, price=1000, **fields):
        body = {"id": eid, "name": "Event " + eid, "starts_at": "2030-01-01T20:00:00Z",
                "seats": [{"id": s, "price": price} for s in seats]}
        body.update(fields)
        r = self.admin("POST", "/events", body)
        assert r.status_code == 201, r.text
        return r.json()

    def make_item(self, iid, stock, price=1000):
        r = self.admin("POST", "/items", {"id": iid, "name": "Item " + iid, "price": price, "stock": stock})
        assert r.status_code == 201, r.text
        return r.json()

    def seats(self, eid):
        """The whole seat map, page by page."""
        seats, after = [], None
        while True:
            r = self.call("GET", "/events/%s/seats?limit=10000%s" % (eid, "&after=" + after if after else ""))
            assert r.status_code == 200, r.text
            body = r.json()
            seats.extend(body["seats"])
            after = body["next"]
            if not after:
                return seats

    def seat_states(self, eid):
        return {s["id"]: s["state"] for s in self.seats(eid)}

    def item(self, iid):
        r = self.call("GET", "/items/" + iid)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def holdfast(tmp_path):
    """Factory: holdfast(**kw) -> a started Server (see Server.__init__)."""
    servers = []
    n = [0]

    def make(**kw):
        n[0] += 1
        d = tmp_path / ("srv%d" % n[0])
        d.mkdir()
        s = Server(d, **kw)
        servers.append(s)
        return s.start()

    yield make
    errors = []
    for s in servers:
        if s.alive():
            rc = s.stop()
            if rc != 0:
                errors.append("holdfast exited %s on SIGTERM:\n%s" % (rc, s.log()[-4000:]))
        if "AddressSanitizer" in s.log() or "runtime error:" in s.log():
            errors.append("sanitizer report:\n" + s.log()[-8000:])
    assert not errors, "\n".join(errors)


@pytest.fixture
def srv(holdfast):
    """One server with --test-clock, fsync always."""
    return holdfast()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p
