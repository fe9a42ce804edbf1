#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, N failed"
# summing them all. Exits non-zero on any failure.
#   C suites (unit, simulation, crash, corpus replays) under ASan + UBSan (build-asan/)
#   bounded fuzzing of every decoder (scripts/fuzz.sh, libFuzzer)
#   integration tests (pytest) against the release binary (build/) and
#   against the ASan + UBSan binary (build-asan/)
#   the seat-map page (tests/ui: selenium driving Debian's headless chromium)
#   against the release binary
#   PostgreSQL: the differential test (meson suite pg, in the C suites) and
#   the two-process API and fault tests (tests/pg, pytest), each on a
#   throwaway cluster (scripts/pg-cluster.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
add() { passed=$((passed + $1)); failed=$((failed + $2)); }

# --- C suites under sanitizers ----------------------------------------------
ASAN=${ASAN:-build-asan}
if [ ! -f "$ASAN/build.ninja" ]; then
  meson setup "$ASAN" --buildtype=debugoptimized -Db_ndebug=false \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$ASAN" >/tmp/holdfast-build-asan.log 2>&1; then
  cat /tmp/holdfast-build-asan.log; echo "0 passed, 1 failed"; exit 1
fi
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
log=$(mktemp)
meson test -C "$ASAN" --print-errorlogs --num-processes 2 2>&1 | tee "$log"
ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
bad=0
for k in Fail 'Unexpected Pass' Timeout; do
  n=$(sed -n "s/^$k: *\([0-9]*\).*/\1/p" "$log" | tail -1); bad=$((bad + ${n:-0}))
done
add "${ok:-0}" "$bad"
rm -f "$log"

# --- bounded fuzzing (libFuzzer, clang) ----------------------------------------
if [ -x scripts/fuzz.sh ]; then
  log=$(mktemp)
  ./scripts/fuzz.sh 2>&1 | tee "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -n "$line" ]; then
    add "$(echo "$line" | cut -d' ' -f1)" "$(echo "$line" | cut -d' ' -f3)"
  else
    add 0 1
  fi
  rm -f "$log"
fi

# --- integration tests against the real binary -------------------------------
# Twice: the release build (what users run) and the ASan + UBSan build (any
# sanitizer report aborts the server, and the tests see it die).
pytest_suite() {  # pytest_suite LABEL BINARY [DIR]
  local log line p f e
  log=$(mktemp)
  echo "== integration ($1)"
  HOLDFAST_BIN="$2" /usr/bin/python3 -m pytest -q -p no:cacheprovider "${3:-tests/integration}" 2>&1 | tee "$log"
  line=$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  e=$(echo "$line" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+')
  add "${p:-0}" $(( ${f:-0} + ${e:-0} ))
  [ -z "$line" ] && add 0 1
  rm -f "$log"
}
if ls tests/integration/test_*.py >/dev/null 2>&1; then
  if ! make -s all >/tmp/holdfast-build.log 2>&1; then
    cat /tmp/holdfast-build.log; add 0 1
  else
    pytest_suite release "$PWD/build/holdfast"
    pytest_suite "ASan+UBSan" "$PWD/$ASAN/src/server/holdfast"
    pytest_suite "seat-map page in headless Chromium, release" "$PWD/build/holdfast" tests/ui
    pytest_suite "PostgreSQL, release" "$PWD/build/holdfast" tests/pg
    pytest_suite "PostgreSQL, ASan+UBSan" "$PWD/$ASAN/src/server/holdfast" tests/pg
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
