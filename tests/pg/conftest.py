"""Fixtures for the PostgreSQL integration tests: real holdfast processes
with --engine postgres in front of one database of a throwaway cluster
(scripts/pg-cluster.sh: initdb in a temporary directory, run as an
unprivileged user, a free port, a unix socket in that directory, stopped by
its pid).

    cluster                  the session's cluster (fsync on): .url(db), .psql(db, sql)
    pg(n=2, **kw)            n holdfast processes on a fresh database of it,
                             sharing one admin key: a list of Servers
                             (tests/integration/conftest.py) with .db, .db_url
    own_cluster()            a cluster of the test's own (for stopping it)
"""
import importlib.util
import os
import subprocess
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

# The integration suite's server driver, loaded by path (its module name,
# conftest, is this file's too).
_spec = importlib.util.spec_from_file_location(
    "hf_integration_conftest", os.path.join(ROOT, "tests", "integration", "conftest.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
Server = _mod.Server

SCRIPT = os.path.join(ROOT, "scripts", "pg-cluster.sh")


class Cluster:
    def __init__(self, extra=()):
        out = subprocess.run([SCRIPT, "start"] + list(extra), capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        kv = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.dir, self.port = kv["dir"], kv["port"]

    def url(self, db="holdfast"):
        return "postgresql:///%s?host=%s&port=%s&user=holdfast" % (db, self.dir, self.port)

    def psql(self, db, sql):
        r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(db), "-c", sql],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def new_db(self):
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql("holdfast", "CREATE DATABASE %s" % name)
        return name

    def stop(self, mode="fast"):
        subprocess.run([SCRIPT, "stop", self.dir, mode], check=True, timeout=120)

    def start(self):
        out = subprocess.run([SCRIPT, "start", self.dir], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr

    def remove(self):
        self.stop()
        subprocess.run(["rm", "-rf", self.dir])


class PgServer(Server):
    def __init__(self, base_dir, db_url, key=None, **kw):
        super().__init__(base_dir, **kw)
        self.db_url = db_url
        if key:
            self.key = key
            with open(self.key_file, "w") as f:
                f.write(key + "\n")

    def argv(self):
        return super().argv() + ["--engine", "postgres", "--database-url", self.db_url]


@pytest.fixture(scope="session")
def cluster():
    c = Cluster()
    yield c
    c.remove()


def _factory(tmp_path, servers):
    n = [0]

    def make(c, db, key=None, **kw):
        n[0] += 1
        d = tmp_path / ("pg%d" % n[0])
        d.mkdir()
        s = PgServer(d, c.url(db), key=key, **kw)
        s.db = db
        servers.append(s)
        return s.start()
    return make


def _stop_all(servers):
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
def pg(cluster, tmp_path):
    servers = []
    make = _factory(tmp_path, servers)

    def start(n=2, c=None, db=None, **kw):
        c = c or cluster
        db = db or c.new_db()
        first = make(c, db, **kw)
        return [first] + [make(c, db, key=first.key, **kw) for _ in range(n - 1)]

    yield start
    _stop_all(servers)


@pytest.fixture
def own_cluster():
    made = []

    def make():
        c = Cluster()
        made.append(c)
        return c
    yield make
    for c in made:
        c.remove()
