#!/usr/bin/env bash
# scripts/bench-pg.sh: holdfast's PostgreSQL engine, with one and with two
# holdfast processes, side by side with the Django + PostgreSQL peer, on the
# peer's own PostgreSQL server (so the same version and the same settings:
# the peer's run.sh starts and configures it; holdfast uses the schema
# `holdfast` of the peer's database), interleaved, in one run
# (docs/BENCHMARKS.md, "PostgreSQL engine").
#
#   PEER_DIR=<peers>/django scripts/bench-pg.sh        # as root; ~10 minutes
#
# Knobs: ROUNDS (3), DURATION (10 s), CONNS (64), WORKLOADS ("hot scarce
# seats spread"), HF_THREADS (4), OUT (a temp directory). The peer runs on
# ports of its own (PGPORT 55532, APP_PORT 58100, REDIS_PORT 56479,
# NGINX_PORT 58180) so that it does not meet another peer started with the
# defaults.
#
# Two processes: two holdfast-bench clients at once, CONNS/2 connections
# each, one per process, each on objects of its own (--tag): every write
# batch of every process takes the one lock row, whichever item it sells,
# so this is the cross-process contention there is. Each client's checks
# must pass (scarce: exactly its stock sold).
# Prints one RESULT-like row per run and a table of medians at the end.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
HF_THREADS=${HF_THREADS:-4}
WORKLOADS=${WORKLOADS:-"hot scarce seats spread"}
PEER_DIR=${PEER_DIR:-$HERE/../shared/peers/django}
OUT=${OUT:-$(mktemp -d /tmp/holdfast-bench-pg.XXXXXX)}
mkdir -p "$OUT"; chmod 755 "$OUT"   # the peer runs PostgreSQL as its own user
export PGPORT=${PGPORT:-55532} APP_PORT=${APP_PORT:-58100} REDIS_PORT=${REDIS_PORT:-56479} NGINX_PORT=${NGINX_PORT:-58180}
BENCH=$HERE/build/src/tools/holdfast-bench
HF=$HERE/build/src/server/holdfast
URL="postgresql://peer:peer@127.0.0.1:$PGPORT/peer"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }
q() { PGPASSWORD=peer psql -X -h 127.0.0.1 -p "$PGPORT" -U peer -d peer -Atqc "$1"; }

(cd "$HERE" && make -s all)
KEY=$OUT/admin.key; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY"
PIDS=()
PEER_PID=0
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  [[ $PEER_PID != 0 ]] && { kill -TERM "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; }
}
trap cleanup EXIT

log "starting the peer: MODE=serve $PEER_DIR/run.sh (log: $OUT/peer.log)"
SKIP_INSTALL=1 MODE=serve QUIET_MAX=60 OUT="$OUT/peer" WORK="$OUT/peer-work" "$PEER_DIR/run.sh" >"$OUT/peer.log" 2>&1 &
PEER_PID=$!
for ((i = 0; i < 1200; i++)); do
  grep -q '^SERVING' "$OUT/peer.log" 2>/dev/null && break
  kill -0 "$PEER_PID" 2>/dev/null || { tail -20 "$OUT/peer.log" >&2; exit 1; }
  sleep 0.5
done
grep -q '^SERVING' "$OUT/peer.log" || { log "the peer did not come up"; exit 1; }
log "peer up; PostgreSQL $(q 'SHOW server_version'), fsync $(q 'SHOW fsync'), synchronous_commit $(q 'SHOW synchronous_commit'), shared_buffers $(q 'SHOW shared_buffers')"

hf_start() {  # hf_start N: N processes on a fresh holdfast schema; sets HF_PORTS, HF_PIDS
  q "DROP SCHEMA IF EXISTS holdfast CASCADE" 2>/dev/null
  HF_PORTS=(); HF_PIDS=()
  local k port
  for ((k = 0; k < $1; k++)); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$HF" serve --engine postgres --database-url "$URL" --listen "127.0.0.1:$port" --admin-key-file "$KEY" \
      --threads "$HF_THREADS" --data "$OUT/unused" >>"$OUT/holdfast.log" 2>&1 &
    HF_PIDS+=($!); PIDS+=($!); HF_PORTS+=("$port")
    for ((i = 0; i < 200; i++)); do
      curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
      sleep 0.05
    done
  done
}
hf_stop() {
  local p
  for p in "${HF_PIDS[@]}"; do kill -TERM "$p"; wait "$p" || true; done
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 \([0-9.e+]*\)$/\1/p"; }

ROWS=$OUT/rows.tsv; : >"$ROWS"
row() {  # row ROUND WORKLOAD SYSTEM RPS BOOKINGS P50 P99 CHECK CMDS_PER_TX
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"
  printf '%-7s %-8s %-14s rps %-7s bookings/s %-7s p50 %-8s p99 %-8s check %s  cmds/tx %s\n' "$@" >&2
}

run_hf() {  # run_hf ROUND WORKLOAD N
  local r=$1 w=$2 n=$3 k res b rps=0 book=0 p50="" p99="" check=PASS recs=0 bats=0 pids=() outs=()
  # seats: the clients share the events one process would get (the state
  # holds 1,000,000 seats by default)
  local extra=(); [[ $w == seats ]] && extra=(--events $((64 / n)))
  hf_start "$n"
  for ((k = 0; k < n; k++)); do
    "$BENCH" --system holdfast --workload "$w" --target "127.0.0.1:${HF_PORTS[$k]}" --admin-key-file "$KEY" \
      --tag "r${r}p$k" --connections $((CONNS / n)) --duration-s "$DURATION" --warmup-s 1 "${extra[@]}" \
      >"$OUT/bench-$k.out" 2>>"$OUT/bench.log" &
    pids+=($!)
  done
  for ((k = 0; k < n; k++)); do wait "${pids[$k]}" || check=FAIL; done
  for ((k = 0; k < n; k++)); do
    res=$(grep '^RESULT' "$OUT/bench-$k.out" || true)
    b=$(kv "$res" rps); rps=$((rps + ${b:-0}))
    [[ -n $res ]] || check="FAIL(no result: $OUT/bench.log)"
    b=$(kv "$res" bookings_per_s); b=${b%.*}; book=$((book + ${b:-0}))
    [[ -z $p50 ]] && p50=$(kv "$res" p50_ms) && p99=$(kv "$res" p99_ms)
    [[ $(kv "$res" verify) == PASS ]] || check="FAIL($(kv "$res" verify))"
    [[ $w == scarce ]] && check="$check,sold=$(kv "$res" successes)"
    recs=$((recs + $(metric "${HF_PORTS[$k]}" holdfast_engine_records_total | cut -d. -f1)))
    bats=$((bats + $(metric "${HF_PORTS[$k]}" holdfast_engine_batches_total | cut -d. -f1)))
  done
  hf_stop
  row "$r" "$w" "holdfast-pg-$n" "$rps" "$book" "$p50" "$p99" "$check" "$(awk -v a=$recs -v b=$bats 'BEGIN{printf "%.1f", b ? a/b : 0}')"
}

run_django() {  # run_django ROUND WORKLOAD: the peer's resets (as bench/side-by-side.sh), then the load
  local r=$1 w=$2 res
  case $w in
    hot) q "UPDATE shop_product SET quantity = 10000000 WHERE id = 1" ;;
    scarce) q "UPDATE shop_product SET quantity = 1000 WHERE id = 1" ;;
    spread) q "UPDATE shop_product SET quantity = 10000000" ;;
    seats) q "DELETE FROM shop_ticket;
              INSERT INTO shop_ticket (show_id, seat_id, user_id, booked_at, bought)
                SELECT 1, id, 1 + id % 1000, now() - interval '1 day', true FROM shop_seat WHERE id % 10 = 0;
              INSERT INTO shop_ticket (show_id, seat_id, user_id, booked_at, bought)
                SELECT 1, id, 1 + id % 1000, now() - interval '10 minutes', false FROM shop_seat WHERE id % 10 = 5" ;;
  esac
  q "UPDATE shop_product SET quantity = 10000000 WHERE id = 10000"
  res=$("$BENCH" --system django --workload "$w" --target "127.0.0.1:$APP_PORT" --connections "$CONNS" \
    --duration-s "$DURATION" --warmup-s 1 2>>"$OUT/bench.log" | grep '^RESULT' || true)
  local book; book=$(kv "$res" bookings_per_s); book=${book%.*}
  row "$r" "$w" django "$(kv "$res" rps)" "${book:-0}" "$(kv "$res" p50_ms)" "$(kv "$res" p99_ms)" "(see side-by-side.sh)" "-"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for w in $WORKLOADS; do
    run_django "$r" "$w"
    run_hf "$r" "$w" 1
    run_hf "$r" "$w" 2
  done
done

log "medians over $ROUNDS rounds ($OUT/rows.tsv):"
python3 - "$ROWS" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r, w, s, rps, book, p50, p99, check, cmds = line.rstrip("\n").split("\t")
    rows[(w, s)].append((float(rps or 0), float(book or 0), p99, check, cmds))
print("| workload | system | req/s | bookings/s | p99 ms | x Django (req/s) | checks | commands/transaction |")
print("|---|---|---|---|---|---|---|---|")
for (w, s), v in sorted(rows.items()):
    med = statistics.median(x[0] for x in v)
    dj = rows.get((w, "django"))
    ratio = med / statistics.median(x[0] for x in dj) if dj and s != "django" and statistics.median(x[0] for x in dj) else 0
    book = statistics.median(x[1] for x in v)
    p99 = statistics.median(float(x[2] or 0) for x in v)
    print("| %s | %s | %.0f | %s | %.1f | %s | %s | %s |" % (w, s, med, "%.0f" % book if book else "-", p99,
          "%.1fx" % ratio if ratio else "", "; ".join(sorted(set(x[3] for x in v))), "/".join(x[4] for x in v)))
PY
