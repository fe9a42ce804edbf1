"""The command line (SPEC section 4), start/stop behaviour and log lines."""
import os
import re
import signal
import subprocess
import threading
import time

import requests

from conftest import BIN
from helpers import expect_ok


def run(args, env=None, timeout=30):
    e = dict(os.environ)
    e.pop("HOLDFAST_ADMIN_KEY", None)
    if env:
        e.update(env)
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=timeout)


def test_help_documents_every_option():
    top = run(["--help"])
    assert top.returncode == 0
    for word in ["serve", "check", "routes", "--version"]:
        assert word in top.stdout
    h = run(["serve", "--help"])
    assert h.returncode == 0
    for opt in ["--listen", "--data", "--admin-key-file", "--fsync", "--test-clock", "--snapshot-every-s", "--snapshot-every-records",
                "--threads", "--max-connections", "--max-connections-per-ip", "--idle-timeout-s",
                "--request-timeout-s", "--queue-max", "--shipping-fee", "--free-shipping-over",
                "HOLDFAST_ADMIN_KEY"]:
        assert opt in h.stdout, opt
    # every option line states its default
    for line in h.stdout.splitlines():
        if line.strip().startswith("--") and not line.strip().startswith("--help"):
            assert "(default: " in line, line
    assert run(["--version"]).stdout.startswith("holdfast ")
    assert run([]).returncode == 2
    assert run(["frobnicate"]).returncode == 2


def test_bad_command_lines(tmp_path):
    d = str(tmp_path / "d")
    r = run(["serve", "--data", d])
    assert r.returncode == 2 and "admin key" in r.stderr
    r = run(["serve", "--data", d], env={"HOLDFAST_ADMIN_KEY": "short"})
    assert r.returncode == 2 and "at least 16" in r.stderr
    # a key no client could present (Authorization values lose leading spaces)
    r = run(["serve", "--data", d], env={"HOLDFAST_ADMIN_KEY": " " + "k" * 20})
    assert r.returncode == 2 and "must not start with a space" in r.stderr
    key = {"HOLDFAST_ADMIN_KEY": "k" * 20}
    assert run(["serve", "--data", d, "--bogus"], env=key).returncode == 2
    assert run(["serve", "--data", d, "--listen", "nowhere"], env=key).returncode == 2
    assert run(["serve", "--data", d, "--fsync", "sometimes"], env=key).returncode == 2
    assert run(["serve", "--data", d, "--threads", "0"], env=key).returncode == 2
    assert run(["serve", "--data", d, "--admin-key-file", str(tmp_path / "missing")], env=key).returncode == 2


def test_env_admin_key_and_sigint(tmp_path):
    key = "env-key-" + "x" * 16
    p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "d"), "--fsync", "off"],
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ, HOLDFAST_ADMIN_KEY=key))
    line = p.stderr.readline()
    m = re.search(r"msg=start .*port=(\d+)", line)
    assert m, line
    url = "http://127.0.0.1:%s" % m.group(1)
    r = requests.post(url + "/tokens", json={"customer": "a"}, headers={"Authorization": "Bearer " + key})
    assert r.status_code == 201
    p.send_signal(signal.SIGINT)
    assert p.wait(30) == 0
    rest = p.stderr.read()
    assert "msg=stop" in rest


def test_port_in_use(holdfast, tmp_path):
    srv = holdfast()
    r = run(["serve", "--listen", "127.0.0.1:%d" % srv.port, "--data", str(tmp_path / "other")],
            env={"HOLDFAST_ADMIN_KEY": "k" * 20})
    assert r.returncode == 1 and "cannot listen" in r.stderr


def test_structured_log_lines(srv):
    srv.call("GET", "/nowhere")
    srv.call("POST", "/holds", {"seats": []})
    log = srv.log()
    start = [l for l in log.splitlines() if "msg=start" in l][0]
    assert re.match(r"^ts=\S+ level=info msg=start version=\S+ listen=127\.0\.0\.1:\d+ ", start)
    errs = [l for l in log.splitlines() if "msg=request" in l]
    assert len(errs) == 2
    assert re.search(r"level=warn msg=request ip=127\.0\.0\.1 method=GET path=/nowhere status=404 code=not_found us=\d+", errs[0])
    assert "status=401 code=unauthorized" in errs[1]
    # client bytes in the method are made safe and capped; the address stays
    import socket
    c = socket.create_connection(("127.0.0.1", srv.port))
    c.sendall(b"G\x1b[31m\"ET\tstatus=200\tip=1.2.3.4" + b"X" * 1000 + b" /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    c.recv(4096)
    c.close()
    line = [l for l in srv.log().splitlines() if "msg=request" in l][2]
    assert "\x1b" not in line and "\t" not in line and line.count("ip=") == 1, line
    assert re.search(r"msg=request ip=127\.0\.0\.1 method=\S{1,16} path=", line), line
    srv.restart()
    assert "msg=stop status=0" in srv.log()


def test_sigterm_finishes_in_flight_and_keeps_acknowledged(holdfast):
    """SIGTERM while clients are busy: exit 0, and every order that was
    answered 201 is there after the restart."""
    srv = holdfast()
    srv.make_item("it", 100000)
    tokens = [srv.token("t%d" % i, ttl_s=86400) for i in range(16)]
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(i):
        s = requests.Session()
        while not stop.is_set():
            try:
                r = s.post(srv.url + "/orders", json={"items": [{"item": "it", "quantity": 1}]},
                           headers={"Authorization": "Bearer " + tokens[i]}, timeout=30)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    acked.append((i, r.json()["id"]))
            else:
                assert r.status_code == 503, r.text

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    assert srv.stop() == 0
    stop.set()
    for t in threads:
        t.join()
    assert acked
    srv.start()
    for i, oid in acked:
        expect_ok(srv.call("GET", "/orders/" + oid, token=tokens[i]))
    assert srv.item("it")["sold"] == len(acked)


def test_check_subcommand(holdfast):
    srv = holdfast()
    srv.make_item("it", 3)
    assert srv.stop() == 0
    r = run(["check", srv.data])
    assert r.returncode == 0, r.stdout + r.stderr


def test_data_directory_is_private(holdfast):
    """The log and snapshots hold every booking: the data directory is made
    0700 and every file in it 0600, whatever the umask allows beyond."""
    old = os.umask(0o022)
    try:
        srv = holdfast()
        srv.make_item("it", 3)
        assert srv.stop() == 0  # a clean stop writes a snapshot too
    finally:
        os.umask(old)
    assert os.stat(srv.data).st_mode & 0o777 == 0o700
    for root, dirs, files in os.walk(srv.data):
        for name in files:
            mode = os.stat(os.path.join(root, name)).st_mode & 0o777
            assert mode & 0o077 == 0, "%s is readable by others: %o" % (name, mode)
