#!/usr/bin/env bash
# Watchers against writers (issue 11), a first measurement before the
# `onsale` workload of holdfast-bench exists:
#   1. writers alone: holdfast-bench seats (64 connections holding 2-4
#      seats of 10,000-seat events, then confirming);
#   2. the same writers while P wrk connections poll whole 10,000-seat
#      maps (?limit=10000) as fast as they can;
#   3. the polling alone, with the sequencer thread's CPU time read from
#      /proc before and after: sequencer CPU per seat-map read.
# Usage: bench/watchers.sh BINARY [POLLERS] [SECONDS]
# Prints one line per run. Needs wrk.
set -euo pipefail
BIN=${1:?binary}; P=${2:-16}; D=${3:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH=${BENCH:-$ROOT/build/src/tools/holdfast-bench}
dir=$(mktemp -d)
key=$dir/key; echo "bench-admin-key-0123456789" > "$key"
port=${PORT:-18555}
cat > "$dir/poll.lua" <<'LUA'
local n = 0
local tag = os.getenv("TAG")
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/events/%s-ev-%03d/seats?limit=10000", tag, n % 10 + 1))
end
LUA
start() {
  rm -rf "$dir/data"
  "$BIN" serve --listen 127.0.0.1:$port --data "$dir/data" --admin-key-file "$key" >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q msg=start "$dir/log" && break; sleep 0.05; done
}
stop() { kill -TERM "$pid"; wait "$pid" || true; }
seq_ticks() {  # utime + stime of the hf-sequencer thread, in clock ticks
  for t in /proc/$pid/task/*; do
    if [ "$(cat "$t/comm")" = hf-sequencer ]; then awk '{print $14 + $15}' "$t/stat"; fi
  done
}
bench() {  # TAG
  "$BENCH" --workload seats --events 10 --seats-fill 0.9 --connections 64 --duration-s "$D" \
    --target 127.0.0.1:$port --admin-key-file "$key" --tag "$1" --no-verify 2>&1 | sed -n 's/^RESULT.* rps=\([0-9]*\).* p99_ms=\([0-9.]*\).* busy_pct=\([0-9]*\).*/\1 req\/s, p99 \2 ms (machine busy \3%)/p'
}
# 1. writers alone
start; echo "writers alone: $(bench a)"; stop
# 2. writers + pollers (the events exist once the bench's setup ran: poll after 1 s)
start
( sleep 2; TAG=b wrk -t1 -c"$P" -d"$((D - 1))"s -s "$dir/poll.lua" http://127.0.0.1:$port > "$dir/wrk" 2>&1 ) &
w=$!
echo "writers with $P pollers: $(bench b)"
wait $w; echo "  pollers: $(grep -E 'Requests/sec' "$dir/wrk")"
stop
# 3. polling alone: sequencer CPU per read
start
"$BENCH" --workload seats --events 10 --connections 4 --duration-s 1 --target 127.0.0.1:$port \
  --admin-key-file "$key" --tag c --no-verify >/dev/null 2>&1
t0=$(seq_ticks)
TAG=c wrk -t1 -c"$P" -d"$D"s -s "$dir/poll.lua" http://127.0.0.1:$port > "$dir/wrk" 2>&1
t1=$(seq_ticks)
reqs=$(awk '/requests in/ {print $1}' "$dir/wrk")
hz=$(getconf CLK_TCK)
echo "pollers alone: $(grep -E 'Requests/sec' "$dir/wrk") sequencer: $(( (t1 - t0) * 1000000 / hz )) us for $reqs reads = $(awk -v a=$((t1 - t0)) -v h=$hz -v r=$reqs 'BEGIN{printf "%.1f", a*1e6/h/r}') us/read"
stop
rm -rf "$dir"
