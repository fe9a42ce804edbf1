#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang and runs each for
# a bounded time. Every decoder that sees bytes from outside holdfast has a
# target (tests/fuzz/fuzz_<target>.c; tests/fuzz/fuzz.h says what they
# check); each starts from its seed corpus tests/fuzz/corpus/<target>/.
#
# Usage: scripts/fuzz.sh [SECONDS] [--long] [--seed-corpus] [TARGET...]
#   SECONDS        run time per target (default 10)
#   --long         on-demand long run: FUZZ_LONG_S seconds per target
#                  (default 3600)
#   --seed-corpus  rewrite the seed files (tests/fuzz/corpus/*/seed-*) with
#                  the generator tests/fuzz/gen_corpus.c, then exit
#   TARGET         run only these (default: all of them)
# Environment: FUZZ_BUILD (default build-fuzz) holds the binaries, the
# working corpus each run adds to (work/<target>/, kept between runs, so
# long runs build on each other; the repository's corpus is only read) and
# the inputs that failed (artifacts/<target>/).
#
# On a failure it prints the input that reproduces it, the stack trace and
# the commands to replay it and keep it in the corpus (once kept, the meson
# test fuzz-<target> replays it in every normal test run). Ends with one
# line "N passed, N failed", one count per target; exits non-zero if any
# target failed or the build did.
set -uo pipefail
cd "$(dirname "$0")/.."

TARGETS_ALL=(cmd_decode reply_decode snapshot_read wal_open http_request token_verify api_request)
# Targets of the server's parsers link the server (and so the engine,
# libh2o-evloop, jansson, libcrypto, libpq).
server_target() { [ "$1" = http_request ] || [ "$1" = token_verify ] || [ "$1" = api_request ]; }
# Longest input per target: a few times the largest seed, so the fuzzer
# can grow inputs but each run stays fast.
max_len() {
  case "$1" in
    cmd_decode) echo 4096 ;;     # a sequence of up to 32 commands
    reply_decode) echo 3072 ;;   # a maximal reply is 2,690 bytes
    snapshot_read) echo 8192 ;;  # the seeds' snapshots are 0.4-4 KB
    wal_open) echo 16384 ;;      # directories of a few small segments
    http_request) echo 4096 ;;   # a request line and a body of a few lines
    token_verify) echo 512 ;;    # tokens are < HF_TOKEN_TEXT_MAX (256)
    api_request) echo 12288 ;;   # up to 8 requests; headers past 8 KiB (431) must fit
    *) echo 4096 ;;
  esac
}

secs=10
seed_corpus=0
targets=()
for a in "$@"; do
  case "$a" in
    --long) secs=${FUZZ_LONG_S:-3600} ;;
    --seed-corpus) seed_corpus=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    ''|*[!0-9]*)
      if [[ " ${TARGETS_ALL[*]} " == *" $a "* ]]; then targets+=("$a")
      else echo "fuzz.sh: unknown target or option: $a" >&2; exit 2; fi ;;
    *) secs=$a ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${TARGETS_ALL[@]}")
n_targets=${#targets[@]}

B=${FUZZ_BUILD:-build-fuzz}
CC=${FUZZ_CC:-clang}
mkdir -p "$B/obj"

fail_build() {
  echo "fuzz.sh: $1" >&2
  [ -n "${2:-}" ] && cat "$2" >&2
  echo "0 passed, $n_targets failed"
  exit 1
}

command -v "$CC" >/dev/null || fail_build "$CC not found: run scripts/install-deps.sh"

# --- build ------------------------------------------------------------------
# The sources under test (src/base, src/core, src/wal) are compiled
# straight in, instrumented for coverage (fuzzer-no-link) and checked by
# ASan and UBSan; every UBSan finding stops the run (no recover). The wal
# is driven through tests/fuzz/memfs.c, an in-memory file layer.
# Checks named in tests/fuzz/ubsan.supp are made recoverable so that file
# can silence them in the functions it names (open findings reported to the
# code's owner); with halt_on_error=1 any other report of them still stops.
UBSAN_SUPP=tests/fuzz/ubsan.supp
CFLAGS=(-std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -fno-strict-aliasing -g -O1 -Wall -Wextra
        -fsanitize=address,undefined -fno-sanitize-recover=all
        -fsanitize-recover=pointer-overflow
        -fno-omit-frame-pointer -Isrc -Itests/fuzz $(pkg-config --cflags libpq))
build_log="$B/build.log"
: >"$build_log"
srcs=(src/base/*.c src/core/*.c src/wal/*.c tests/fuzz/fuzz_common.c tests/fuzz/memfs.c)
need_server=0
for t in "${targets[@]}"; do server_target "$t" && need_server=1; done
server_objs=()
server_libs=()
if [ $need_server -eq 1 ] || [ $seed_corpus -eq 1 ]; then
  for s in src/engine/*.c src/server/*.c; do
    [ "$s" = src/server/main.c ] || srcs+=("$s")
  done
  # the PostgreSQL engine's SQL, compiled in as C strings (as meson does)
  mkdir -p "$B/gen"
  for q in schema queries; do
    if [ ! -f "$B/gen/pg_${q}_sql.c" ] || [ "src/engine/sql/$q.sql" -nt "$B/gen/pg_${q}_sql.c" ]; then
      python3 src/engine/sql/embed.py "src/engine/sql/$q.sql" "$B/gen/pg_${q}_sql.c" "hf_pg_${q}_sql" \
        || fail_build "embedding src/engine/sql/$q.sql failed" "$build_log"
    fi
    srcs+=("$B/gen/pg_${q}_sql.c")
  done
  # the seat-map page's files as one C table (src/server/ui.c serves it), as meson does
  if [ ! -f "$B/gen/ui_files.c" ] || [ -n "$(find src/ui -newer "$B/gen/ui_files.c" -print -quit)" ]; then
    python3 src/ui/embed.py "$B/gen/ui_files.c" src/ui/index.html src/ui/app.css src/ui/app.js \
      || fail_build "embedding src/ui failed" "$build_log"
  fi
  srcs+=("$B/gen/ui_files.c")
  server_libs=(-lh2o-evloop -ljansson -lcrypto $(pkg-config --libs libpq))
fi
# Objects built with other flags (an older fuzz.sh) are rebuilt.
flags_stamp="$B/obj/cflags"
if [ "$(cat "$flags_stamp" 2>/dev/null)" != "${CFLAGS[*]}" ]; then
  rm -f "$B"/obj/*.o "$B"/fuzz_*
  echo "${CFLAGS[*]}" >"$flags_stamp"
fi
objs=()
for s in "${srcs[@]}"; do
  o="$B/obj/$(echo "$s" | tr / _).o"
  case "$s" in src/engine/*|src/server/*) server_objs+=("$o") ;; *) objs+=("$o") ;; esac
  # Rebuild when the source or any header it may include is newer.
  if [ ! -f "$o" ] || [ -n "$(find src tests/fuzz -name '*.h' -newer "$o" -print -quit 2>/dev/null)" ] || [ "$s" -nt "$o" ]; then
    "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o" >>"$build_log" 2>&1 \
      || fail_build "compiling $s failed:" "$build_log"
  fi
done
for t in "${targets[@]}"; do
  exe="$B/fuzz_$t"
  link=("${objs[@]}")
  libs=()
  if server_target "$t"; then link+=("${server_objs[@]}"); libs=("${server_libs[@]}"); fi
  stale=0
  [ -f "$exe" ] || stale=1
  for f in tests/fuzz/fuzz_"$t".c "${link[@]}"; do [ "$f" -nt "$exe" ] && stale=1; done
  if [ $stale -eq 1 ]; then
    "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer tests/fuzz/fuzz_"$t".c "${link[@]}" "${libs[@]}" -pthread -o "$exe" \
      >>"$build_log" 2>&1 || fail_build "linking $exe failed (libFuzzer comes with libclang-rt-14-dev):" "$build_log"
  fi
done

if [ $seed_corpus -eq 1 ]; then
  gen="$B/fuzz-gen-corpus"
  "$CC" "${CFLAGS[@]}" -DHF_FUZZ_WITH_SERVER tests/fuzz/gen_corpus.c "${objs[@]}" "${server_objs[@]}" \
    "${server_libs[@]}" -fsanitize=fuzzer-no-link -pthread -o "$gen" \
    >>"$build_log" 2>&1 || fail_build "building the corpus generator failed:" "$build_log"
  "$gen" tests/fuzz/corpus || exit 1
  exit 0
fi

# --- run --------------------------------------------------------------------
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$UBSAN_SUPP}
passed=0; failed=0
for t in "${targets[@]}"; do
  work="$B/work/$t"; art="$B/artifacts/$t"; log="$B/$t.log"
  mkdir -p "$work" "$art"
  len=$(max_len "$t")
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  start=$(date +%s)
  "$B/fuzz_$t" -max_total_time="$secs" -max_len="$len" -timeout=10 -rss_limit_mb=2048 \
    "${dict[@]}" -artifact_prefix="$art/" -print_final_stats=1 "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: passed: ${runs:-?} runs in ${took}s, ${cov:-cov: ?}, max_len $len"
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "fuzz $t: FAILED (exit $rc after ${took}s); the log: $log"
    # The first report: from its opening line to the first blank line.
    awk '/ERROR: |runtime error|fuzz: FAILED|assertion failed|deadly signal/ {p = 1}
         p {print "  " $0; if (++n >= 40 || $0 == "") exit}' "$log"
    grep -m1 '^SUMMARY' "$log" | sed 's/^/  /'
    if [ -n "$input" ]; then
      known=""
      for f in tests/fuzz/corpus/"$t"/*; do cmp -s "$f" "$input" && { known=$f; break; }; done
      echo "  reproducing input: $input"
      echo "  replay it:         $B/fuzz_$t $input"
      if [ -n "$known" ]; then
        echo "  known failure:     the same bytes are in the corpus as $known (not fixed yet)"
      else
        echo "  keep it:           cp $input tests/fuzz/corpus/$t/crash-$(basename "$input" | sed 's/^[a-z]*-//' | cut -c1-16)"
      fi
    else
      echo "  no input was written (the target failed before fuzzing?): see $log"
    fi
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
