#!/usr/bin/env bash
# bench/onsale.sh: the on-sale row (docs/BENCHMARKS.md, "On-sale: writers,
# feed watchers and seat-map pollers"): the same writers alone, with 2,000
# feed watchers, with 200 seat-map pollers, and with both, interleaved.
#
#   bench/onsale.sh                                          # 3 rounds x 4 runs of 10 s
#   WATCHERS=200 POLLERS=20 DURATION=3 ROUNDS=1 bench/onsale.sh   # a short check
#
# Knobs: ROUNDS (3), DURATION (10 s measured per run), WARMUP (1 s), CONNS
# (64 writers), SEATS (10000 seats in the event), WATCHERS (2000), POLLERS
# (200), POLL_MS (1000: each poller's interval), PROBE_MS (250), HF_THREADS
# (2, holdfast's default), BUILD (build: holdfast and holdfast-bench are
# taken from there, built as they are), OUT (a fresh temp directory),
# RESULTS (bench/results), QUIET_PCT (15) / QUIET_SECS (3) / QUIET_MAX
# (30): wait up to QUIET_MAX s for the machine to be under QUIET_PCT busy
# for QUIET_SECS before each run; CONFIGS ("a b c d": which to run).
#
# Configurations, in this order inside each round, each on a fresh server
# (`holdfast serve --fsync always`, a new data directory, a free port):
#   a  writers alone: holdfast-bench --workload onsale, CONNS connections
#      holding 2-4 random seats of one SEATS-seat event, then releasing;
#   b  a + WATCHERS feeds of the event (GET /events/{id}/feed), all read;
#   c  a + POLLERS connections reading the whole seat map every POLL_MS;
#   d  a + b + c.
# Every run also has the probe (one seat held and released every ~PROBE_MS
# by a connection of its own, outside writes/s); with watchers, its
# delivery delay in the feeds is sampled. The server's hf-sequencer thread
# CPU over the measured window (holdfast-bench --thread-cpu) gives the
# sequencer's cost per write (a) and per seat-map read (c, d: the thread's
# CPU minus the same round's (a) cost per write times the writes, over
# the polls; the raw quotient, every sequencer microsecond over the
# polls, is shown too).
#
# Writes the table to RESULTS/onsale.md (medians per configuration, ratios,
# each run's numbers, the checks, the machine) and prints it. Stops what it
# started, by PID.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-64}
SEATS=${SEATS:-10000}
WATCHERS=${WATCHERS:-2000}
POLLERS=${POLLERS:-200}
POLL_MS=${POLL_MS:-1000}
PROBE_MS=${PROBE_MS:-250}
HF_THREADS=${HF_THREADS:-2}
QUIET_PCT=${QUIET_PCT:-15}
QUIET_SECS=${QUIET_SECS:-3}
QUIET_MAX=${QUIET_MAX:-30}
BUILD=${BUILD:-$REPO/build}
RESULTS=${RESULTS:-$HERE/results}
OUT=${OUT:-$(mktemp -d /tmp/holdfast-onsale.XXXXXX)}
mkdir -p "$OUT"
HOLDFAST=$BUILD/src/server/holdfast
BENCH=$BUILD/src/tools/holdfast-bench
CONFIGS=${CONFIGS:-a b c d}
declare -A LABEL=(
    [a]="writers alone"
    [b]="writers + $WATCHERS watchers"
    [c]="writers + $POLLERS pollers every ${POLL_MS} ms"
    [d]="writers + $WATCHERS watchers + $POLLERS pollers"
)
declare -A ARGS=(
    [a]=""
    [b]="--watchers $WATCHERS"
    [c]="--pollers $POLLERS"
    [d]="--watchers $WATCHERS --pollers $POLLERS"
)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }

for f in "$HOLDFAST" "$BENCH"; do
    [[ -x $f ]] || { echo "onsale.sh: no $f (meson setup build && ninja -C build)" >&2; exit 2; }
done

# ------------------------------------------------------- process control
HF_PID=0
stop_pid() {  # stop_pid PID NAME [SECONDS]: TERM, wait, then KILL (that PID only)
    local pid=$1 name=$2 secs=${3:-15} i
    [[ -n "$pid" && "$pid" != 0 ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    log "$name ($pid) ignored TERM; KILL"; kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() { set +e; stop_pid "$HF_PID" holdfast; HF_PID=0; }
trap cleanup EXIT
trap 'exit 130' INT TERM

KEYFILE=$OUT/admin.key
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEYFILE")
hf_start() {  # hf_start LOG: a fresh holdfast on a free port (HF_PORT), new data dir (HF_DIR)
    local log=$1 i
    HF_DIR=$OUT/hf-data-$RANDOM$RANDOM
    (
        # room for every watcher and poller: open files and the server's caps
        ulimit -n $((WATCHERS + POLLERS + CONNS + 8192)) 2>/dev/null || true
        exec "$HOLDFAST" serve --listen 127.0.0.1:0 --data "$HF_DIR" --admin-key-file "$KEYFILE" \
            --fsync always --threads "$HF_THREADS" --max-streams $((WATCHERS + 1024)) \
            --max-connections $((POLLERS + CONNS + 4096))
    ) >"$log" 2>&1 &
    HF_PID=$!
    HF_PORT=
    for ((i = 0; i < 200; i++)); do
        HF_PORT=$(sed -n 's/.* msg=start .* port=\([0-9]*\).*/\1/p' "$log" | head -1)
        [[ -n $HF_PORT ]] && return 0
        kill -0 "$HF_PID" 2>/dev/null || break
        sleep 0.05
    done
    tail -5 "$log" >&2; log "holdfast did not start"; exit 1
}
hf_stop() { stop_pid "$HF_PID" holdfast; HF_PID=0; rm -rf "$HF_DIR"; }

busy_pct() {  # busy % of the machine over $1 seconds (user+nice+system+irq+softirq)
    local a b
    a=$(head -1 /proc/stat); sleep "$1"; b=$(head -1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y)
        busy = (y[2]+y[3]+y[4]+y[7]+y[8]) - (x[2]+x[3]+x[4]+x[7]+x[8])
        idle = (y[5]+y[6]) - (x[5]+x[6]); t = busy + idle; printf "%d\n", t ? 100 * busy / t : 0 }'
}
quiet_wait() {  # until the machine has been under QUIET_PCT busy for QUIET_SECS (at most QUIET_MAX s)
    local waited=0 calm=0 b
    while ((calm < QUIET_SECS)); do
        b=$(busy_pct 1); waited=$((waited + 1))
        if ((b < QUIET_PCT)); then calm=$((calm + 1)); else calm=0; fi
        if ((waited >= QUIET_MAX)); then log "  machine still busy (${b}%) after ${QUIET_MAX}s: measuring anyway"; return 0; fi
    done
}

# ------------------------------------------------------------ the runs
ROWS=$OUT/rows.txt
: >"$ROWS"
{
    echo "date_utc: $(date -u +%FT%TZ)"
    echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "kernel: $(uname -r)"
    buildtype=$(python3 -c "import json, sys; print([o['value'] for o in json.load(open(sys.argv[1])) if o['name'] == 'buildtype'][0])" \
        "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo '?')
    echo "holdfast: $(git -C "$REPO" rev-parse --short HEAD), $buildtype build, --threads $HF_THREADS, --fsync always"
    echo "client: holdfast-bench --workload onsale, $CONNS writers, ${SEATS}-seat event, ${WARMUP}s warm-up, ${DURATION}s measured, probe every ~${PROBE_MS} ms; on the same machine"
    echo "rounds: $ROUNDS, configurations $CONFIGS interleaved inside each, a fresh server each"
    echo "loadavg_at_start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
log "output: $OUT"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for cfg in $CONFIGS; do
        quiet_wait
        hf_start "$OUT/holdfast-$ROUND$cfg.log"
        # shellcheck disable=SC2086
        RES=$("$BENCH" --workload onsale --target "127.0.0.1:$HF_PORT" --admin-key-file "$KEYFILE" \
            --tag "r$ROUND$cfg" --account "$HF_PID" --thread-cpu hf-sequencer \
            --connections "$CONNS" --event-seats "$SEATS" --duration-s "$DURATION" \
            --warmup-s "$WARMUP" --poll-interval-ms "$POLL_MS" --probe-ms "$PROBE_MS" \
            ${ARGS[$cfg]} 2>"$OUT/bench-$ROUND$cfg.log" | grep '^RESULT' || true)
        hf_stop
        if [[ -z $RES ]]; then
            log "round $ROUND $cfg: no result (see $OUT/bench-$ROUND$cfg.log)"; tail -3 "$OUT/bench-$ROUND$cfg.log" >&2
            continue
        fi
        echo "round=$ROUND cfg=$cfg $RES" >>"$ROWS"
        log "round $ROUND $cfg (${LABEL[$cfg]}): $(kv "$RES" rps) writes/s, p99 $(kv "$RES" p99_ms) ms;" \
            "feed p99 $(kv "$RES" feed_p99_ms) ms ($(kv "$RES" feed_samples) samples, $(kv "$RES" watchers_cut) cut);" \
            "polls $(kv "$RES" polls), p99 $(kv "$RES" poll_p99_ms) ms; $(kv "$RES" rss_kib_per_watcher) KiB/watcher;" \
            "sequencer $(kv "$RES" thread_cpu_s) s; verify $(kv "$RES" verify)"
    done
done
echo "loadavg_at_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

# ---------------------------------------------------------- medians, table
mkdir -p "$RESULTS"
python3 - "$ROWS" "$OUT/machine.txt" "$RESULTS/onsale.md" "$DURATION" <<'PY'
import statistics, sys
rows_path, machine_path, out_path, duration = sys.argv[1:5]
runs = []
for line in open(rows_path):
    kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
    runs.append(kv)

def num(r, k):
    try:
        v = float(r[k])
    except (KeyError, ValueError):
        return None
    return v

# the sequencer: CPU us per write in (a); per read in (c) and (d), raw and
# net of the writers' share at the same round's (a) cost per write
for r in runs:
    cpu, reqs, polls = num(r, "thread_cpu_s"), num(r, "requests"), num(r, "polls")
    r["seq_us_per_write"] = "%.2f" % (cpu * 1e6 / reqs) if cpu is not None and cpu >= 0 and reqs else "-"
    r["seq_us_per_read_raw"] = "%.0f" % (cpu * 1e6 / polls) if cpu is not None and cpu >= 0 and polls else "-"
for r in runs:
    a = [x for x in runs if x["round"] == r["round"] and x["cfg"] == "a"]
    per_write = num(a[0], "seq_us_per_write") if a else None
    cpu, reqs, polls = num(r, "thread_cpu_s"), num(r, "requests"), num(r, "polls")
    if per_write is not None and cpu is not None and cpu >= 0 and polls:
        r["seq_us_per_read"] = "%.0f" % ((cpu * 1e6 - per_write * reqs) / polls)
    else:
        r["seq_us_per_read"] = "-"

labels = {"a": "writers alone", "b": "+ watchers", "c": "+ pollers", "d": "+ watchers + pollers"}
cols = [  # key, heading, format
    ("rps", "writes/s", "%.0f"), ("holds_ok_per_s", "holds ok/s", "%.0f"), ("p99_ms", "write p99 ms", "%.1f"),
    ("watchers_open", "watchers open", "%.0f"), ("watchers_cut", "cut", "%.0f"),
    ("feed_msgs", "feed msgs", "%.0f"), ("feed_mib", "feed MiB", "%.0f"),
    ("feed_samples", "feed samples", "%.0f"), ("feed_p50_ms", "feed p50 ms", "%.1f"),
    ("feed_p99_ms", "feed p99 ms", "%.1f"), ("feed_max_ms", "feed max ms", "%.1f"),
    ("feed_early", "early", "%.0f"), ("feed_unseen", "unseen", "%.0f"),
    ("rss_kib_per_watcher", "KiB/watcher", "%.1f"),
    ("polls", "polls", "%.0f"), ("poll_p50_ms", "poll p50 ms", "%.1f"), ("poll_p99_ms", "poll p99 ms", "%.1f"),
    ("thread_cpu_s", "seq CPU s", "%.2f"), ("seq_us_per_write", "seq us/write", "%.2f"),
    ("seq_us_per_read", "seq us/read (net)", "%.0f"), ("seq_us_per_read_raw", "seq us/read (raw)", "%.0f"),
    ("cpu_client_s", "client CPU s", "%.2f"), ("watch_cpu_s", "of it the watchers' thread", "%.2f"),
    ("poll_cpu_s", "of it the pollers' thread", "%.2f"),
    ("cpu_server_s", "server CPU s", "%.2f"), ("cpu_other_s", "other CPU s", "%.2f"),
]
has_w = {"b", "d"}
has_p = {"c", "d"}
def applies(cfg, key):
    if key.startswith(("feed_", "watchers_", "rss_kib")):
        return cfg in has_w
    if key.startswith(("poll", "seq_us_per_read")):
        return cfg in has_p
    if key == "watch_cpu_s":
        return cfg in has_w
    return True

med = {}
for cfg in "abcd":
    rs = [r for r in runs if r["cfg"] == cfg]
    for key, _, _ in cols:
        vals = [num(r, key) for r in rs]
        vals = [v for v in vals if v is not None]
        med[cfg, key] = statistics.median(vals) if vals and applies(cfg, key) else None

def fmt(v, f):
    return "–" if v is None else f % v

out = []
out.append("# On-sale: writers, feed watchers and seat-map pollers\n")
out.append("`bench/onsale.sh` (docs/BENCHMARKS.md, \"On-sale: writers, feed watchers and seat-map pollers\"). "
           "Medians of %d round(s) of %s s measured runs; each configuration on a fresh server.\n"
           % (len({r["round"] for r in runs}), duration))
out.append("```")
out.extend(l.rstrip("\n") for l in open(machine_path))
out.append("```\n")
out.append("## Medians\n")
out.append("| | " + " | ".join(labels[c] for c in "abcd") + " |")
out.append("|---|" + "---:|" * 4)
for key, head, f in cols:
    out.append("| %s | %s |" % (head, " | ".join(fmt(med[c, key], f) for c in "abcd")))
out.append("")
out.append("## Ratios\n")
out.append("| | (b)/(a) | (c)/(a) | (d)/(a) |")
out.append("|---|---:|---:|---:|")
def ratio(x, y):
    return "–" if x is None or y is None or y == 0 else "%.2f" % (x / y)
for key, head in [("rps", "writes/s"), ("holds_ok_per_s", "holds ok/s"), ("p99_ms", "write p99"),
                  ("thread_cpu_s", "sequencer CPU"), ("seq_us_per_write", "sequencer us per write"),
                  ("cpu_server_s", "server CPU")]:
    out.append("| %s | %s |" % (head, " | ".join(ratio(med[c, key], med["a", key]) for c in "bcd")))
out.append("")
out.append("With both readers against one kind alone (the configuration without the other as the base):\n")
out.append("| | (d)/(b) | (d)/(c) |")
out.append("|---|---:|---:|")
for key, head, base in [("feed_p99_ms", "feed p99", "b"), ("rss_kib_per_watcher", "KiB per watcher", "b"),
                        ("poll_p99_ms", "poll p99", "c"), ("seq_us_per_read", "sequencer us per read (net)", "c")]:
    out.append("| %s | %s | %s |" % (head, ratio(med["d", key], med["b", key]) if base == "b" else "–",
                                     ratio(med["d", key], med["c", key]) if base == "c" else "–"))
out.append("")
out.append("## Each run\n")
keys = ["round", "cfg", "rps", "p99_ms", "holds_ok_per_s", "watchers_open", "watchers_cut", "feed_msgs",
        "feed_samples", "feed_p50_ms", "feed_p99_ms", "feed_max_ms", "feed_early", "feed_unseen",
        "rss_kib_per_watcher", "polls", "poll_p99_ms", "thread_cpu_s", "seq_us_per_read",
        "cpu_client_s", "cpu_server_s", "cpu_other_s", "busy_pct", "verify"]
out.append("| " + " | ".join(keys) + " |")
out.append("|" + "---|" * len(keys))
for r in runs:
    out.append("| " + " | ".join(r.get(k, "") for k in keys) + " |")
out.append("")
out.append("Columns: writes/s counts `POST /holds` and `DELETE /holds/{id}` answered in the window (the probe's "
           "excluded); feed p50/p99/max: probe transition acknowledged (its 2xx read) -> the message showing it "
           "read, per watcher, transitions acknowledged inside the window (early: read before the "
           "acknowledgement, counted 0; unseen: never shown to a watcher that was not cut); KiB/watcher: the "
           "server's VmRSS with every snapshot in, minus before, over the watchers; polls: whole seat maps "
           "read in the window; seq: the server's hf-sequencer thread over the window (net per read: minus "
           "the same round's writers-alone cost per write times the writes).")
open(out_path, "w").write("\n".join(out) + "\n")
PY
cat "$RESULTS/onsale.md"
log "table: $RESULTS/onsale.md; raw: $OUT"
