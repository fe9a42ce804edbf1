#!/usr/bin/env bash
# Installs the Debian packages holdfast builds, tests and benchmarks with.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail
pkgs=(
  gcc clang libclang-rt-14-dev meson ninja-build pkg-config   # build (libclang-rt: libFuzzer, scripts/fuzz.sh)
  libh2o-evloop-dev libjansson-dev libssl-dev  # server: HTTP (event loop, picohttpparser), JSON, HMAC
  libpq-dev postgresql                     # PostgreSQL engine (libpq), its tests' throwaway clusters
  libcmocka-dev                            # C unit tests
  python3-pytest python3-requests          # integration tests
  chromium chromium-driver python3-selenium  # the seat-map page's browser tests (tests/ui), screenshots, render benchmark
  wrk gnuplot-nox                          # load, benchmark charts (bench/side-by-side.sh)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
