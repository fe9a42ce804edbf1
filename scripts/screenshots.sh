#!/usr/bin/env bash
# Screenshots of the seat-map page from a real run: the buyer's and the
# organizer's views, desktop (1280x900) and phone-sized (390x844), in
# headless Chromium against build/holdfast on a demo arena
# (scripts/ui_demo.py). Writes docs/ui-{buyer,organizer}-{desktop,phone}.png.
#   scripts/screenshots.sh            (HOLDFAST_BIN= another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
[ -n "${HOLDFAST_BIN:-}" ] || { make -s all >/dev/null; export HOLDFAST_BIN="$PWD/build/holdfast"; }
/usr/bin/python3 - <<'PY'
import os, sys, tempfile, time
sys.path.insert(0, "scripts")
from ui_demo import PinnedServer, browser, wait_for, arena, open_page

srv = PinnedServer(tempfile.mkdtemp(prefix="holdfast-shots-"), test_clock=False, fsync="off").start()
d = browser()
try:
    arena(srv, "arena", rows=10, per_row=24)
    token = srv.token("alice")
    for size, (w, h) in (("desktop", (1280, 900)), ("phone", (390, 844))):
        d.set_window_size(w, h)
        # the buyer: three seats held (the countdown runs), two more picked
        open_page(d, srv, "arena", token=token)
        free = d.execute_script("return [...document.querySelectorAll('#seat-list [data-state=\"free\"]')]"
                                ".map(b => b.dataset.seat).filter(s => s.startsWith('F-D-'))")
        if size == "desktop":
            for s in free[8:11]:
                d.execute_script("document.querySelector('#seat-list [data-seat=\"' + arguments[0] + '\"]').click()", s)
            d.execute_script("document.querySelector('[data-action=\"hold\"]').click()")
            wait_for(lambda: d.execute_script("return !document.getElementById('hold').hidden"), 10, "held")
        for s in free[12:14]:
            d.execute_script("document.querySelector('#seat-list [data-seat=\"' + arguments[0] + '\"]').click()", s)
        if size == "phone":  # zoomed in where the picked seats are, as a finger would
            d.execute_script("hf.centerOn(arguments[0], 26)", free[12])
        time.sleep(1.2)
        d.save_screenshot("docs/ui-buyer-%s.png" % size)
        if size == "phone":
            d.execute_script("document.getElementById('buyer').scrollIntoView()")
            time.sleep(0.3)
            d.save_screenshot("docs/ui-buyer-phone-hold.png")
        # the organizer: counts, a buyer link minted, two seats picked to block
        open_page(d, srv, "arena", admin=srv.key)
        d.execute_script("document.getElementById('tok-customer').value = 'bob';"
                         "document.querySelector('[data-action=\"mint\"]').click()")
        wait_for(lambda: d.execute_script("return !document.getElementById('token-out').hidden"), 10, "minted")
        for s in free[16:18]:
            d.execute_script("document.querySelector('#seat-list [data-seat=\"' + arguments[0] + '\"]').click()", s)
        time.sleep(0.5)
        if size == "phone":
            d.execute_script("document.getElementById('organizer').scrollIntoView()")
            time.sleep(0.3)
        d.save_screenshot("docs/ui-organizer-%s.png" % size)
    print("screenshots: docs/ui-buyer-desktop.png docs/ui-buyer-phone.png docs/ui-buyer-phone-hold.png "
          "docs/ui-organizer-desktop.png docs/ui-organizer-phone.png")
finally:
    d.quit()
    srv.stop()
PY
