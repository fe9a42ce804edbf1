#!/usr/bin/env bash
# bench/side-by-side.sh: holdfast against the systems its users run today,
# workload by workload, interleaved, in one run (docs/BENCHMARKS.md, "HTTP,
# side by side").
#
#   PEER_DIR=<peers>/django bench/side-by-side.sh     # as root; ~20 minutes
#   QUICK=1 PEER_DIR=... bench/side-by-side.sh        # one round of 3 s runs
#   NO_PEERS=1 bench/side-by-side.sh                  # holdfast and the ceiling only
#   IDLE=10000 ...     # also hot with 10,000 idle keep-alive connections open
#   PROFILE=1 ...      # also system calls, context switches, CPU per request (perf)
#
# Knobs: ROUNDS (3), DURATION (10 s per run), WARMUP (1 s), CONNS (64),
# CLIENT_THREADS (1), HF_THREADS (2, holdfast's default), WORKLOADS
# ("hot scarce seats spread mixed batch"), QUIET_PCT (15) / QUIET_SECS (6) /
# QUIET_MAX (900), FOREIGN_MAX (1.5 CPU-s), RETRIES (2), OUT (a fresh temp
# directory), RESULTS (bench/results), CHART (docs/bench-side-by-side.svg),
# IDLE (0: off), HF_IDLE_ARGS (holdfast's caps for the idle run),
# PROFILE (0: off).
#
# What it does:
#  1. builds build-bench (meson, release; assertions stay on as always):
#     holdfast, holdfast-bench (the load generator and checker) and
#     bench-ceiling (an empty handler on holdfast's HTTP stack, in its
#     configuration: the ceiling);
#  2. starts the peers with the peer's own `MODE=serve run.sh` (Django on
#     gunicorn + PostgreSQL 15 with fsync on, Redis 7 with appendonly and
#     appendfsync always), unchanged, and loads the pgbench table;
#  3. for each round, each workload, each system: waits until the machine
#     is idle, starts what the run needs (a fresh holdfast with --fsync
#     always in a new temp data directory on 127.0.0.1 for each run), runs
#     one measured load, checks the state, and records the row; a run that
#     other work on the machine disturbed (> FOREIGN_MAX CPU-seconds not
#     ours) is repeated, and flagged NOISY if it stays disturbed;
#     with IDLE=N, each round's hot also runs holdfast with N idle
#     keep-alive connections held open through the run (holdfast_idle,
#     right after holdfast: interleaved), and records the server's memory
#     per idle connection (its VmRSS before and after they open) and how
#     many it closed; with PROFILE=1, perf stat counts the server's system
#     calls, context switches and CPU time over exactly the measured window
#     (holdfast-bench --perf-ctl), recorded per request;
#  4. writes medians and ratios (RESULTS/side-by-side.md), the raw rows
#     (RESULTS/side-by-side.tsv) and the chart (gnuplot, CHART);
#  5. stops everything it started, by PID.
#
# Clients: every HTTP and Redis system is driven by holdfast-bench (the same
# client, the same clock, closed loop, CONNS keep-alive connections, one
# request outstanding each, as wrk and redis-benchmark do); raw PostgreSQL by
# pgbench with the peer's scripts (the peer's method), its latency from
# pgbench's per-transaction log. Django's sync workers close the connection
# after each answer: the client reconnects, as wrk does against it.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
QUICK=${QUICK:-0}
ROUNDS=${ROUNDS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}
DURATION=${DURATION:-$([[ $QUICK == 1 ]] && echo 3 || echo 10)}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-64}
CLIENT_THREADS=${CLIENT_THREADS:-1}
HF_THREADS=${HF_THREADS:-2}
WORKLOADS=${WORKLOADS:-"hot scarce seats spread mixed batch"}
QUIET_PCT=${QUIET_PCT:-15}
QUIET_SECS=${QUIET_SECS:-6}
QUIET_MAX=${QUIET_MAX:-900}
FOREIGN_MAX=${FOREIGN_MAX:-1.5}
RETRIES=${RETRIES:-2}
NO_PEERS=${NO_PEERS:-0}
IDLE=${IDLE:-0}
PROFILE=${PROFILE:-0}
PEER_DIR=${PEER_DIR:-$REPO/../shared/peers/django}
RESULTS=${RESULTS:-$HERE/results}
CHART=${CHART:-$REPO/docs/bench-side-by-side.svg}
OUT=${OUT:-$(mktemp -d /tmp/holdfast-sbs.XXXXXX)}
# the peer's PostgreSQL runs as the postgres user, under OUT: it must be
# able to enter it (mktemp -d makes it 0700)
mkdir -p "$OUT" && chmod 0755 "$OUT"
HF_PORT=${HF_PORT:-18080}
CEIL_PORT=${CEIL_PORT:-18090}
PGPORT=55432; APP_PORT=58000; REDIS_PORT=56379   # the peer's defaults
BUILD=$REPO/build-bench
BENCH=$BUILD/src/tools/holdfast-bench
HOLDFAST=$BUILD/src/server/holdfast
CEILING=$BUILD/src/tools/bench-ceiling

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fgt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }

# ------------------------------------------------------------ what runs
# Systems per workload, in the order they run inside a round. Columns of a
# system: name, what it is (for the table).
declare -A SYSTEMS=(
    [hot]="holdfast $([[ $IDLE -gt 0 ]] && echo holdfast_idle) ceiling redis redis_everysec pgbench django"
    [scarce]="holdfast redis pgbench django"
    [seats]="holdfast django"
    [spread]="holdfast redis pgbench django"
    [mixed]="holdfast"
    [batch]="holdfast"
)
declare -A LABEL=(
    [holdfast]="holdfast (fsync always)"
    [holdfast_idle]="holdfast, $IDLE idle connections open"
    [ceiling]="empty handler, same HTTP stack (ceiling)"
    [redis]="Redis + Lua, appendfsync always"
    [redis_everysec]="Redis + Lua, appendfsync everysec"
    [pgbench]="PostgreSQL, single-statement UPDATE (pgbench)"
    [django]="Django + PostgreSQL (gunicorn sync)"
)

# ------------------------------------------------------- process control
PIDS_STARTED=()
HF_PID=0; CEIL_PID=0; PEER_PID=0
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
cleanup() {
    set +e
    stop_pid "$HF_PID" holdfast; HF_PID=0
    stop_pid "$CEIL_PID" bench-ceiling; CEIL_PID=0
    if [[ $PEER_PID != 0 ]]; then log "stopping the peers (run.sh $PEER_PID)"; stop_pid "$PEER_PID" "peer run.sh" 60; fi
    PEER_PID=0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # wait_port PORT PID: until something listens (or PID dies)
    local i
    for ((i = 0; i < 300; i++)); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

KEYFILE=$OUT/admin.key
hf_start() {  # hf_start [extra args]: a fresh holdfast, fsync always, new data dir
    # (HF_NOFILE: its open-file limit, raised in the subshell it execs from)
    local dir=$OUT/hf-data-$RANDOM$RANDOM
    (
        if [[ -n ${HF_NOFILE:-} ]]; then ulimit -n "$HF_NOFILE" 2>/dev/null || log "cannot raise holdfast's open files to $HF_NOFILE"; fi
        exec "$HOLDFAST" serve --listen "127.0.0.1:$HF_PORT" --data "$dir" --admin-key-file "$KEYFILE" \
            --fsync always --threads "$HF_THREADS" "$@"
    ) >>"$OUT/holdfast.log" 2>&1 &
    HF_PID=$!
    wait_port "$HF_PORT" "$HF_PID" || { tail -5 "$OUT/holdfast.log" >&2; log "holdfast did not start"; exit 1; }
    HF_DIR=$dir
}
# holdfast's options for the idle run: room for the idle connections (its
# total cap; holdfast-bench keeps each source address under the per-address
# cap) and an idle timeout longer than the run, so that what is measured is
# the load with them open (HF_IDLE_ARGS replaces these)
hf_idle_args() { echo "${HF_IDLE_ARGS:---max-connections $(($1 + 4096)) --idle-timeout-s 600}"; }
hf_stop() { stop_pid "$HF_PID" holdfast; HF_PID=0; rm -rf "$HF_DIR"; }

# ------------------------------------------------------------ quiet wait
busy_pct() {  # busy % of the machine over $1 seconds (user+nice+system+irq+softirq)
    local a b
    a=$(head -1 /proc/stat); sleep "$1"; b=$(head -1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y)
        busy = (y[2]+y[3]+y[4]+y[7]+y[8]) - (x[2]+x[3]+x[4]+x[7]+x[8])
        idle = (y[5]+y[6]) - (x[5]+x[6]); t = busy + idle; printf "%d\n", t ? 100 * busy / t : 0 }'
}
quiet_wait() {  # until the machine has been idle (< QUIET_PCT busy) for QUIET_SECS
    local waited=0 calm=0 b noted=0
    while :; do
        b=$(busy_pct 1); waited=$((waited + 1))
        if [[ $b -lt $QUIET_PCT ]]; then calm=$((calm + 1)); else calm=0; fi
        [[ $calm -ge $QUIET_SECS ]] && { [[ $noted == 1 ]] && log "  idle after ${waited}s"; return 0; }
        if [[ $noted == 0 && $calm == 0 ]]; then log "  machine busy (${b}%) with other work: waiting"; noted=1; fi
        if [[ $waited -ge $QUIET_MAX ]]; then log "  not idle after ${QUIET_MAX}s: measuring anyway"; return 0; fi
    done
}

# ------------------------------------------------------------ the peers
q() { PGPASSWORD=peer psql -h 127.0.0.1 -p "$PGPORT" -U peer -d "${2:-peer}" -Atqc "$1"; }
peers_start() {
    [[ -f "$PEER_DIR/run.sh" ]] || { log "no peer at PEER_DIR=$PEER_DIR"; exit 1; }
    local skip=1
    for p in postgresql gunicorn redis-server python3-django wrk; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || skip=0
    done
    log "starting the peers: MODE=serve $PEER_DIR/run.sh (log: $OUT/peer.log)"
    # the peer writes its results under OUT (never in its own directory)
    local peer_out=$OUT/peer peer_work=$OUT/peer-work
    SKIP_INSTALL=$skip MODE=serve QUIET_MAX=60 OUT="$peer_out" WORK="$peer_work" \
        "$PEER_DIR/run.sh" >"$OUT/peer.log" 2>&1 &
    PEER_PID=$!
    local i
    for ((i = 0; i < 1200; i++)); do
        grep -q '^SERVING' "$OUT/peer.log" 2>/dev/null && break
        kill -0 "$PEER_PID" 2>/dev/null || { tail -20 "$OUT/peer.log" >&2; log "the peer's run.sh stopped"; exit 1; }
        sleep 0.5
    done
    grep -q '^SERVING' "$OUT/peer.log" || { log "the peers did not come up"; exit 1; }
    GUNI_PID=$(cat "$OUT/peer-work/gunicorn.pid")
    PG_PID=$(head -1 "$OUT/peer-work/pg/postmaster.pid")
    REDIS_PID=$(redis-cli -p "$REDIS_PORT" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
    PGBENCH=/usr/lib/postgresql/15/bin/pgbench
    q "SELECT 1" pgbase >/dev/null
    PGPASSWORD=peer psql -h 127.0.0.1 -p "$PGPORT" -U peer -d pgbase -q -f "$PEER_DIR/bench/pgbench_setup.sql" >/dev/null 2>&1
    log "peers up: gunicorn $GUNI_PID, postgres $PG_PID, redis $REDIS_PID"
}

# ------------------------------------------------------ profile (perf)
# PROFILE=1: perf stat attached to the server's processes, counting only
# while holdfast-bench says the measured window is open (--perf-ctl: perf's
# control FIFO, enable / disable, each acknowledged), divided by the
# requests answered in that window. perf -p counts the threads a process
# has when perf attaches (the servers make theirs at start); raw PostgreSQL
# has no profile: pgbench's backends are forked when it connects.
PERF_EVENTS=raw_syscalls:sys_enter,context-switches,task-clock
PERF_PID=0
PERF_ARGS=()
profile_check() {  # turns PROFILE off, with a note, where perf cannot count
    if ! command -v perf >/dev/null || ! perf stat -e task-clock true >/dev/null 2>&1; then
        log "PROFILE=1: perf is unavailable (perf stat -e task-clock true failed; Debian: linux-perf): no profile"
        PROFILE=0; return 0
    fi
    local help; help=$(perf stat -h 2>&1 || true)  # -h exits 129
    if ! grep -q -- '--control' <<<"$help"; then
        log "PROFILE=1: this perf has no --control: no profile"; PROFILE=0; return 0
    fi
    if ! perf stat -e "$PERF_EVENTS" true >/dev/null 2>&1; then
        log "PROFILE=1: the raw_syscalls tracepoint is not readable (root? tracefs?): context switches and CPU only"
        PERF_EVENTS=context-switches,task-clock
    fi
}
tree_pids() {  # tree_pids PID...: those PIDs and all their descendants, comma-separated
    ps -e -o pid=,ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
        { parent[$1] = $2 }
        END { do { grown = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grown = 1 } } while (grown)
              s = ""; for (p in keep) if (p in parent) s = s (s == "" ? "" : ",") p; print s }'
}
perf_start() {  # perf_start PID[,PID..]: perf attached, counting from holdfast-bench's "enable"
    PERF_ARGS=()
    [[ $PROFILE == 1 && -n ${1:-} ]] || return 0
    local ctl=$OUT/perf-ctl ack=$OUT/perf-ack i
    rm -f "$ctl" "$ack" "$OUT/perf.out"; mkfifo "$ctl" "$ack"
    perf stat -D -1 --control "fifo:$ctl,$ack" -e "$PERF_EVENTS" -p "$1" -x, -o "$OUT/perf.out" \
        >>"$OUT/perf.log" 2>&1 &
    PERF_PID=$!
    for ((i = 0; i < 200; i++)); do  # until perf holds both FIFOs open
        [[ $(find /proc/$PERF_PID/fd -lname "$OUT/perf-*" 2>/dev/null | wc -l) -ge 2 ]] && break
        kill -0 "$PERF_PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$PERF_PID" 2>/dev/null; then PERF_ARGS=(--perf-ctl "$ctl,$ack")
    else log "  perf did not start (see $OUT/perf.log)"; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=0; fi
}
perf_stop() {  # perf_stop: stops perf; appends perf_*_per_req fields to RES
    [[ $PERF_PID != 0 ]] || return 0
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    PERF_PID=0
    local n; n=$(kv "$RES" requests)
    [[ -n $RES && -n $n && $n -gt 0 && -s $OUT/perf.out ]] || return 0
    RES="$RES$(awk -F, -v n="$n" '$1 ~ /^[0-9.]+$/ {
        if ($3 ~ /^raw_syscalls:sys_enter/) printf " perf_syscalls_per_req=%.2f", $1 / n
        if ($3 ~ /^context-switches/) printf " perf_cs_per_req=%.3f", $1 / n
        if ($3 ~ /^task-clock/) printf " perf_cpu_us_per_req=%.2f", $1 * 1000 / n }' "$OUT/perf.out")"
}

# ------------------------------------------------------------ one run
ROWS=$OUT/rows.tsv
: >"$ROWS"
# record ROUND WORKLOAD SYSTEM RESULT-LINE CHECK: one row of rows.tsv
record() {
    local r=$1 w=$2 s=$3 res=$4 check=$5 idle=""
    [[ -n $(kv "$res" idle) ]] && idle="$(kv "$res" idle_open_end)/$(kv "$res" idle_opened)/$(kv "$res" idle)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$w" "$s" \
        "$(kv "$res" rps)" "$(kv "$res" ops_per_s)" "$(kv "$res" p50_ms)" "$(kv "$res" p99_ms)" \
        "$(kv "$res" p999_ms)" "$(kv "$res" ok)" "$(kv "$res" rejected)" "$(kv "$res" other)" \
        "$check" "$(kv "$res" cpu_client_s)/$(kv "$res" cpu_server_s)/$(kv "$res" cpu_other_s)" \
        "$(kv "$res" bookings_per_s)" "$(kv "$res" unanswered)" \
        "$(kv "$res" idle_kib_per_conn)" "$idle" \
        "$(kv "$res" perf_syscalls_per_req)" "$(kv "$res" perf_cs_per_req)" "$(kv "$res" perf_cpu_us_per_req)" >>"$ROWS"
}

BENCH_COMMON=(--connections "$CONNS" --threads "$CLIENT_THREADS" --duration-s "$DURATION" --warmup-s "$WARMUP")

run_holdfast() {  # WORKLOAD [IDLE] -> RES, CHECK
    local w=$1 idle=${2:-0} extra=() idle_args=()
    [[ $w == mixed ]] && extra=(--test-clock)
    if [[ $idle -gt 0 ]]; then
        # room for the idle connections: the server's caps and open files
        # (holdfast-bench spreads them over 127.0.0.2.. source addresses,
        # 1,000 each, under the per-address cap)
        read -r -a extra <<<"$(hf_idle_args "$idle")"
        idle_args=(--idle "$idle")
        HF_NOFILE=$((idle + 8192)) hf_start "${extra[@]}"
    else
        hf_start "${extra[@]}"
    fi
    perf_start "$HF_PID"
    RES=$("$BENCH" --system holdfast --workload "$w" --target "127.0.0.1:$HF_PORT" --admin-key-file "$KEYFILE" \
        --tag "r$ROUND" --account "$HF_PID" "${BENCH_COMMON[@]}" "${idle_args[@]}" "${PERF_ARGS[@]}" \
        2>>"$OUT/bench.log" | grep '^RESULT' || true)
    perf_stop
    hf_stop
    CHECK=$(kv "$RES" verify)
    if [[ $idle -gt 0 && -n $RES ]]; then
        CHECK="$CHECK, idle open at the end $(kv "$RES" idle_open_end) of $idle"
        [[ $(kv "$RES" idle_failed) == 0 ]] || CHECK="$CHECK ($(kv "$RES" idle_failed) never opened)"
    fi
    [[ $(kv "$RES" skipped) == 1 ]] && CHECK="SKIP (no POST /batch route)"
    if [[ $w == scarce ]]; then CHECK="$CHECK, successes $(kv "$RES" successes)"; fi
    if [[ $w == seats ]]; then CHECK="$CHECK, events $(kv "$RES" events_used)"; fi
}

run_ceiling() {
    "$CEILING" --listen "127.0.0.1:$CEIL_PORT" --threads "$HF_THREADS" 2>>"$OUT/ceiling.log" &
    CEIL_PID=$!
    wait_port "$CEIL_PORT" "$CEIL_PID" || { log "bench-ceiling did not start"; exit 1; }
    perf_start "$CEIL_PID"
    RES=$("$BENCH" --system ceiling --workload "$1" --target "127.0.0.1:$CEIL_PORT" --account "$CEIL_PID" \
        "${BENCH_COMMON[@]}" "${PERF_ARGS[@]}" 2>>"$OUT/bench.log" | grep '^RESULT' || true)
    perf_stop
    stop_pid "$CEIL_PID" bench-ceiling; CEIL_PID=0
    CHECK="n/a"
}

run_redis() {  # WORKLOAD FSYNC
    redis-cli -p "$REDIS_PORT" config set appendfsync "$2" >/dev/null
    perf_start "$REDIS_PID"
    RES=$("$BENCH" --system redis --workload "$1" --target "127.0.0.1:$REDIS_PORT" --tag "r$ROUND" \
        --redis-script "$PEER_DIR/bench/redis_decr.lua" --account "$REDIS_PID" "${BENCH_COMMON[@]}" \
        "${PERF_ARGS[@]}" 2>>"$OUT/bench.log" | grep '^RESULT' || true)
    perf_stop
    redis-cli -p "$REDIS_PORT" config set appendfsync always >/dev/null
    CHECK=$(kv "$RES" verify)
    [[ $1 == scarce ]] && CHECK="$CHECK, successes $(kv "$RES" successes)"
    return 0
}

run_django() {  # WORKLOAD: reset with SQL, load, check with SQL
    local w=$1 before after ok unk sold t0 dups bought new tk
    case $w in
        hot) q "UPDATE shop_product SET quantity = 10000000 WHERE id = 1" ;;
        scarce) q "UPDATE shop_product SET quantity = 1000 WHERE id = 1" ;;
        spread) q "UPDATE shop_product SET quantity = 10000000" ;;
        seats)  # the peer's own seats setup: every 10th seat bought, every 10th+5 an expired hold
            q "DELETE FROM shop_ticket;
               INSERT INTO shop_ticket (show_id, seat_id, user_id, booked_at, bought)
                 SELECT 1, id, 1 + id % 1000, now() - interval '1 day', true FROM shop_seat WHERE id % 10 = 0;
               INSERT INTO shop_ticket (show_id, seat_id, user_id, booked_at, bought)
                 SELECT 1, id, 1 + id % 1000, now() - interval '10 minutes', false FROM shop_seat WHERE id % 10 = 5" ;;
    esac
    q "UPDATE shop_product SET quantity = 10000000 WHERE id = 10000"
    [[ $w == seats ]] && q "VACUUM ANALYZE shop_ticket" || q "VACUUM ANALYZE shop_product"
    if [[ $w == spread ]]; then before=$(q "SELECT sum(quantity) FROM shop_product WHERE id < 10000")
    else before=$(q "SELECT quantity FROM shop_product WHERE id = 1"); fi
    t0=$(q "SELECT now()")
    # the profile counts gunicorn's and PostgreSQL's processes present at
    # the start (Django keeps its database connections: CONN_MAX_AGE)
    perf_start "$(tree_pids "$GUNI_PID" "$PG_PID")"
    RES=$("$BENCH" --system django --workload "$w" --target "127.0.0.1:$APP_PORT" --account "$GUNI_PID,$PG_PID" \
        "${BENCH_COMMON[@]}" "${PERF_ARGS[@]}" 2>>"$OUT/bench.log" | grep '^RESULT' || true)
    perf_stop
    ok=$(kv "$RES" measured_ok); unk=$(( $(kv "$RES" measured_unknown) + $(kv "$RES" unanswered) ))
    case $w in
        hot|scarce|spread)
            if [[ $w == spread ]]; then after=$(q "SELECT sum(quantity) FROM shop_product WHERE id < 10000")
            else after=$(q "SELECT quantity FROM shop_product WHERE id = 1"); fi
            sold=$((before - after))
            if [[ $w == scarce ]]; then
                # consistent is PASS; "exactly 1,000" needs the stock to sell out inside the run
                if [[ $after -ge 0 && $ok -le $sold && $sold -le $((ok + unk)) ]]; then CHECK="PASS"; else CHECK="FAIL: sold $sold"; fi
                if [[ $after == 0 ]]; then CHECK="$CHECK, successes $ok"; else CHECK="$CHECK, NOT sold out: successes $ok, left $after"; fi
            else
                [[ $ok -le $sold && $sold -le $((ok + unk)) ]] && CHECK="PASS" || CHECK="FAIL: sold $sold, successes $ok (+$unk unknown)"
            fi ;;
        seats)
            read -r dups bought new < <(q "SELECT
                (SELECT count(*) FROM (SELECT 1 FROM shop_ticket GROUP BY show_id, seat_id HAVING count(*) > 1) d),
                (SELECT count(*) FROM shop_ticket WHERE bought AND show_id = 1),
                (SELECT count(*) FROM shop_ticket WHERE show_id = 1 AND booked_at >= '$t0')" | tr '|' ' ')
            tk=$(kv "$RES" tickets)
            [[ $dups == 0 && $bought == 1000 && $tk -le $new && $new -le $((tk + 4 * unk)) ]] \
                && CHECK="PASS" || CHECK="FAIL: seats twice $dups, bought $bought, tickets seen $tk, new $new"
            q "DELETE FROM shop_ticket WHERE show_id = 2" ;;
    esac
}

run_pgbench() {  # WORKLOAD: the peer's pgbench scripts, 64 clients
    local w=$1 script=hot before after n tps p50 p99 m0 m1 t0 t1 w0 w1 cl
    [[ $w == spread ]] && script=spread
    case $w in
        hot) q "UPDATE product SET quantity = 100000000 WHERE id = 1" pgbase ;;
        scarce) q "UPDATE product SET quantity = 1000 WHERE id = 1" pgbase ;;
        spread) q "UPDATE product SET quantity = 100000000" pgbase ;;
    esac
    q "VACUUM ANALYZE product" pgbase
    if [[ $w == spread ]]; then before=$(q "SELECT sum(quantity) FROM product" pgbase)
    else before=$(q "SELECT quantity FROM product WHERE id = 1" pgbase); fi
    rm -f "$OUT"/pgb.log*
    read -r m0 t0 < <(cpu_snap "$PG_PID")
    w0=$(date +%s.%N)
    local TIMEFORMAT='%U %S'
    { time PGPASSWORD=peer "$PGBENCH" -h 127.0.0.1 -p "$PGPORT" -U peer -n -c "$CONNS" -j 2 -T "$DURATION" -l \
        --log-prefix="$OUT/pgb.log" -f "$PEER_DIR/bench/pgbench_$script.sql" pgbase >"$OUT/pgbench.out" 2>&1; } 2>"$OUT/pgbench.time" || true
    w1=$(date +%s.%N)
    read -r m1 t1 < <(cpu_snap "$PG_PID")
    cl=$(awk '{printf "%.2f", $1 + $2}' "$OUT/pgbench.time")
    read -r p50 p99 p999 < <(cat "$OUT"/pgb.log* | awk '{print $3}' | sort -n | awk '
        { v[NR] = $1 } END { if (NR) printf "%.3f %.3f %.3f\n", v[int(NR * 0.50) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000, v[int(NR * 0.999) + 1] / 1000; else print "0 0 0" }')
    rm -f "$OUT"/pgb.log*
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench.out" | head -1)
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUT/pgbench.out")
    if [[ $w == spread ]]; then after=$(q "SELECT sum(quantity) FROM product" pgbase)
    else after=$(q "SELECT quantity FROM product WHERE id = 1" pgbase); fi
    local hz; hz=$(getconf CLK_TCK)
    local srv oth busy
    read -r srv oth busy < <(awk -v m=$((m1 - m0)) -v t=$((t1 - t0)) -v hz="$hz" -v cl="$cl" -v wall="$(awk -v a="$w0" -v b="$w1" 'BEGIN{print b-a}')" -v cores="$(nproc)" \
        'BEGIN { s = t / hz; o = m / hz - s - cl; if (o < 0) o = 0; printf "%.2f %.2f %.0f\n", s, o, 100 * m / hz / (wall * cores) }')
    local ok=$((before - after))
    RES="RESULT system=pgbench workload=$w rps=${tps%.*} ops_per_s=${tps%.*} p50_ms=$p50 p99_ms=$p99 p999_ms=$p999 ok=$ok rejected=$((n - ok)) other=0 unanswered=0 cpu_client_s=$cl cpu_server_s=$srv cpu_other_s=$oth busy_pct=$busy"
    case $w in
        scarce) if [[ $after -ge 0 && $ok -le 1000 ]]; then CHECK="PASS"; else CHECK="FAIL: left $after"; fi
                if [[ $after == 0 ]]; then CHECK="$CHECK, successes $ok"; else CHECK="$CHECK, NOT sold out: successes $ok, left $after"; fi ;;
        *) [[ $ok == "$n" ]] && CHECK="PASS" || CHECK="FAIL: units $ok, transactions $n" ;;
    esac
}

cpu_snap() {  # cpu_snap PID: "<machine busy ticks> <ticks of PID's tree>"
    python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
f = open("/proc/stat").readline().split()
busy = sum(int(x) for x in (f[1], f[2], f[3], f[6], f[7]))
procs = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            s = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        x = s[s.rindex(")") + 2:].split()
        procs[int(d)] = (int(x[1]), sum(int(v) for v in x[11:15]))
tree, grown = {root} & set(procs), True
while grown:
    grown = False
    for p, (pp, _) in procs.items():
        if pp in tree and p not in tree:
            tree.add(p); grown = True
print(busy, sum(procs[p][1] for p in tree))
PY
}

measure() {  # measure ROUND WORKLOAD SYSTEM
    local r=$1 w=$2 s=$3 attempt other
    for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
        quiet_wait
        RES=""; CHECK=""
        case $s in
            holdfast) run_holdfast "$w" ;;
            holdfast_idle) run_holdfast "$w" "$IDLE" ;;
            ceiling) run_ceiling "$w" ;;
            redis) run_redis "$w" always ;;
            redis_everysec) run_redis "$w" everysec ;;
            pgbench) run_pgbench "$w" ;;
            django) run_django "$w" ;;
        esac
        [[ -n "$RES" ]] || { log "  $w/$s: no RESULT (see $OUT/bench.log)"; CHECK="ERROR"; break; }
        other=$(kv "$RES" cpu_other_s); other=${other:-0}
        fgt "$other" "$FOREIGN_MAX" || break
        log "  $w/$s: other work used ${other} CPU-s during the run (attempt $attempt)"
        [[ $attempt -le $RETRIES ]] || CHECK="$CHECK [NOISY: ${other} CPU-s of other work]"
    done
    log "  round $r $w/$s: $(kv "$RES" rps) req/s, p50 $(kv "$RES" p50_ms) ms, p99 $(kv "$RES" p99_ms) ms, check $CHECK"
    record "$r" "$w" "$s" "$RES" "$CHECK"
}

# ================================================================ main
[[ $(id -u) == 0 || $NO_PEERS == 1 ]] || { echo "side-by-side.sh: the peers need root (or NO_PEERS=1)" >&2; exit 2; }
log "output: $OUT"
[[ $PROFILE == 1 ]] && profile_check
if ! command -v gnuplot >/dev/null; then
    log "installing gnuplot-nox (charts)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
fi
if [[ ! -f $BUILD/build.ninja ]]; then
    meson setup "$BUILD" -Dtests=false --buildtype=release >/dev/null
fi
ninja -C "$BUILD" src/server/holdfast src/tools/holdfast-bench src/tools/bench-ceiling >/dev/null
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEYFILE")

{
    echo "date_utc: $(date -u +%FT%TZ)"
    echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "memory: $(free -g | awk '/Mem:/ {print $2" GiB"}')"
    echo "kernel: $(uname -r); $(. /etc/os-release; echo "$PRETTY_NAME")"
    echo "disk (data dirs): $(df -hT "$OUT" | awk 'NR==2 {print $1" "$2}')"
    echo "holdfast: $(git -C "$REPO" rev-parse --short HEAD), build-bench (release, assertions on), --threads $HF_THREADS, --fsync always"
    echo "client: holdfast-bench, $CONNS connections, $CLIENT_THREADS thread(s), ${WARMUP}s warm-up, ${DURATION}s measured, on the same machine"
    echo "rounds: $ROUNDS, each workload's systems interleaved inside a round"
    echo "noise guard: machine idle (< ${QUIET_PCT}% busy) for ${QUIET_SECS}s before each run; re-run (up to $RETRIES) when other work used > ${FOREIGN_MAX} CPU-s"
    [[ $IDLE -gt 0 ]] && echo "idle: hot also with $IDLE idle keep-alive connections open (holdfast $(hf_idle_args "$IDLE"); client: 1,000 per source address 127.0.0.2..), interleaved"
    [[ $PROFILE == 1 ]] && echo "profile: perf stat -e $PERF_EVENTS on the server's processes during the measured window, per request answered in it"
    echo "loadavg_at_start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

if [[ $NO_PEERS != 1 ]]; then
    peers_start
    {
        echo "peers: $(sed -n 's/^postgres: //p; s/^redis: /redis /p; s/^gunicorn: //p' "$OUT/peer.log" | tr '\n' ';')"
        grep -E 'fdatasync|pg connection setup' "$OUT/peer.log" | sed 's/^ */peer machine.txt: /'
    } >>"$OUT/machine.txt" || true
fi

for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    log "round $ROUND of $ROUNDS"
    for w in $WORKLOADS; do
        for s in ${SYSTEMS[$w]}; do
            if [[ $NO_PEERS == 1 && $s != holdfast* && $s != ceiling ]]; then continue; fi
            measure "$ROUND" "$w" "$s"
        done
    done
done
echo "loadavg_at_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
cleanup

# ---------------------------------------------------------- medians, table, chart
mkdir -p "$RESULTS"
cp "$ROWS" "$RESULTS/side-by-side.tsv"
python3 "$HERE/side-by-side-report.py" "$ROWS" "$OUT/machine.txt" "$RESULTS/side-by-side.md" "$OUT/chart.dat" \
    "$DURATION" "$CONNS"
gnuplot -e "datafile='$OUT/chart.dat'; outfile='$CHART'" "$HERE/side-by-side.gp"
cat "$RESULTS/side-by-side.md"
log "table: $RESULTS/side-by-side.md; chart: $CHART; raw: $OUT"
