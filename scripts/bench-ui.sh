#!/usr/bin/env bash
# The seat-map page at scale, in headless Chromium (docs/BENCHMARKS.md):
#   render: a 50,000-seat event (10 sections x 50 rows x 100 seats) opened
#     cold, from navigation start to the first complete canvas frame and
#     seat list (performance.now() in the page, read through selenium);
#   burst: 500 seats turned held (and back to free) by one POST /batch of
#     five 100-seat holds (and their releases); the page's time from
#     receiving the change to the frame that shows it drawn.
# Medians and maxima of RUNS (default 5). Not asserted anywhere.
#   scripts/bench-ui.sh            (HOLDFAST_BIN= another binary, RUNS=n)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
[ -n "${HOLDFAST_BIN:-}" ] || { make -s all >/dev/null; export HOLDFAST_BIN="$PWD/build/holdfast"; }
RUNS=${RUNS:-5} /usr/bin/python3 - <<'PY'
import os, statistics, sys, tempfile, time
sys.path.insert(0, "scripts")
from ui_demo import PinnedServer, browser, wait_for, arena, open_page

runs = int(os.environ["RUNS"])
srv = PinnedServer(tempfile.mkdtemp(prefix="holdfast-bench-ui-"), test_clock=False, fsync="off").start()
d = browser(1280, 900)
try:
    seats = arena(srv, "big", names=["S%02d" % k for k in range(10)], rows=50, per_row=100, taken=0.1)
    n = len(seats)
    assert n == 50000, n
    render, fetched, redraw, frame = [], [], [], []
    for _ in range(runs):
        open_page(d, srv, "big")
        m = d.execute_script("return window.hf.stats.marks")
        fetched.append(m["fetched"]); render.append(m["drawn"])
        frame.append(m["frame"])
        print("  run: seats fetched %.0f ms, layout %.0f ms, first frame %.0f ms, list built in %.0f ms, ready %.0f ms" % (
            m["fetched"], m["layoutMs"], m["frame"], m["listMs"], m["drawn"]))
        d.execute_script("document.querySelector('[data-action=\"zoom-in\"]').click()")
        time.sleep(0.3)
        redraw.append(d.execute_script("return window.hf.stats.drawMs"))
    mode = d.execute_script("return window.hf.stats.mode")
    free = [s["id"] for s in srv.seats("big") if s["state"] == "free"]
    bursts = []
    for r in range(runs):
        chunk = free[r * 500:(r + 1) * 500]
        before = len(d.execute_script("return window.hf.stats.bursts"))
        ops = [{"method": "POST", "path": "/holds", "body": {"customer": "burst%d" % r,
                "seats": [{"event": "big", "seat": s} for s in chunk[k:k + 100]]}} for k in range(0, 500, 100)]
        res = srv.admin("POST", "/batch", {"ops": ops}).json()["results"]
        assert all(x["status"] == 201 for x in res), res
        wait_for(lambda: d.execute_script("return hf.seatState(arguments[0])", chunk[-1]) == "held", 10, "burst shown")
        time.sleep(0.3)
        got = d.execute_script("return window.hf.stats.bursts")[before:]
        bursts.append((sum(b["seats"] for b in got), max(b["ms"] for b in got), len(got)))
        ops = [{"method": "DELETE", "path": "/holds/" + x["body"]["id"]} for x in res]
        srv.admin("POST", "/batch", {"ops": ops})
        wait_for(lambda: all(d.execute_script("return hf.seatState(arguments[0])", x) == "free" for x in (chunk[0], chunk[-1])),
                 10, "release shown")
        time.sleep(1.0)  # the release's messages all in before the next burst
    med = lambda xs: statistics.median(xs)
    print("seat-map page, %d seats, headless chromium %s, %d runs, live updates by %s" % (
        n, d.capabilities.get("browserVersion", "?"), runs, mode))
    print("  seats fetched (5 pages of 10,000)  median %6.0f ms  max %6.0f ms" % (med(fetched), max(fetched)))
    print("  first canvas frame (all seats)     median %6.0f ms  max %6.0f ms" % (med(frame), max(frame)))
    print("  ... and the seat list (ready)      median %6.0f ms  max %6.0f ms" % (med(render), max(render)))
    print("  one full canvas redraw (zoomed)    median %6.1f ms  max %6.1f ms" % (med(redraw), max(redraw)))
    ms = [b[1] for b in bursts]
    print("  500-seat burst received -> drawn   median %6.1f ms  max %6.1f ms  (seats per run %s, messages %s)" % (
        med(ms), max(ms), sorted({b[0] for b in bursts}), sorted({b[2] for b in bursts})))
finally:
    d.quit()
    srv.stop()
PY
