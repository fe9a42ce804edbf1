#!/usr/bin/env python3
"""Feed delivery latency (issue 11): W watchers of one 10,000-seat event
("probe"), a writer holding one seat at a time there; for each hold, the
time from its acknowledgement (the 201 read by the writer) to the change's
arrival at each of the first R watchers (the rest only take their
snapshot and are then left unread, as idle watchers whose socket buffers
hold what they are sent). Run it beside a load (holdfast-bench) to see
the delay under writes.

  bench/feed_latency.py --port P --key-file F [--watchers 2000] [--read 20] [--holds 300]
Prints p50/p99/max in ms and the watchers' count at the end."""
import argparse
import http.client
import json
import selectors
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--key-file", required=True)
ap.add_argument("--watchers", type=int, default=2000)
ap.add_argument("--read", type=int, default=20)
ap.add_argument("--holds", type=int, default=300)
ap.add_argument("--event", default="probe")
ap.add_argument("--seats", type=int, default=10000)
ap.add_argument("--pid", type=int, default=0, help="the server's pid: its VmRSS before and after the watchers")
a = ap.parse_args()
key = open(a.key_file).read().strip()
H = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}


def rss_kib():
    if not a.pid:
        return 0
    for line in open("/proc/%d/status" % a.pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def call(c, m, p, b=None):
    c.request(m, p, json.dumps(b) if b is not None else None, H)
    r = c.getresponse()
    return r.status, r.read()


c = http.client.HTTPConnection("127.0.0.1", a.port)
seats = ["P-%d" % i for i in range(a.seats)]
call(c, "POST", "/events", {"id": a.event, "name": a.event, "starts_at": "2030-01-01T00:00:00Z",
                            "seats": [{"id": s, "price": 100} for s in seats]})
rss_before = rss_kib()
sel = selectors.DefaultSelector()
bufs = {}
for i in range(a.watchers):
    s = socket.create_connection(("127.0.0.1", a.port))
    s.sendall(("GET /events/%s/feed HTTP/1.1\r\nHost: x\r\n\r\n" % a.event).encode())
    s.setblocking(False)
    bufs[s] = (i < a.read, bytearray())
    # the first R are read and parsed; the rest only drained of their
    # snapshot, then left unread (their changes wait in socket buffers:
    # the server still writes each change to every one of them)
    sel.register(s, selectors.EVENT_READ)
# every snapshot in and drained first: then only changes are measured
quiet_since = time.monotonic()
while time.monotonic() - quiet_since < 1.0:
    for k, _ in sel.select(0.1):
        try:
            if k.fileobj.recv(1 << 20):
                quiet_since = time.monotonic()
        except BlockingIOError:
            pass
rss_watched = rss_kib()
for s_, (parse, _) in list(bufs.items()):
    if not parse:
        sel.unregister(s_)

acked = {}
arrived = []
done = threading.Event()


def writer():
    w = http.client.HTTPConnection("127.0.0.1", a.port)
    for i in range(a.holds):
        st, _ = call(w, "POST", "/holds", {"customer": "lat%d" % (i % 30), "seats": [{"event": a.event, "seat": seats[i]}]})
        acked[seats[i]] = time.monotonic()
        if st != 201:
            print("hold", st)
        time.sleep(0.01)
    time.sleep(0.5)
    done.set()


threading.Thread(target=writer, daemon=True).start()
while not done.is_set():
    for k, _ in sel.select(0.05):
        s = k.fileobj
        try:
            data = s.recv(1 << 20)
        except BlockingIOError:
            continue
        if not data:
            sel.unregister(s)
            continue
        parse, buf = bufs[s]
        if not parse:
            continue
        now = time.monotonic()
        buf += data
        while b"\n\n" in buf:
            i = buf.index(b"\n\n")
            block = bytes(buf[:i]).decode()
            del buf[:i + 2]
            if "event: change" not in block:
                continue
            d = json.loads(block.split("data: ", 1)[1])
            for x in d["seats"]:
                if x["state"] == "held":
                    arrived.append((x["seat"], now))
# a change may reach a watcher before the writer has read its 201: 0 then
arrived = sorted(max(0.0, t - acked[seat]) for seat, t in arrived if seat in acked)
n = len(arrived)
open_w = len(sel.get_map()) + sum(1 for p_, _ in bufs.values() if not p_)
if n:
    print("feed latency (ack -> arrival): %d samples, p50 %.1f ms, p99 %.1f ms, max %.1f ms; watchers still open %d of %d; server RSS %d KiB before the watchers, %d KiB with them (%.1f KiB each)"
          % (n, arrived[n // 2] * 1e3, arrived[min(n - 1, int(n * 0.99))] * 1e3, arrived[-1] * 1e3, open_w, a.watchers,
             rss_before, rss_watched, (rss_watched - rss_before) / max(1, a.watchers)))
else:
    print("no samples")
