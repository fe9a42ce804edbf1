#!/usr/bin/env bash
# with-cluster.sh [--no-fsync] CMD ARGS...: runs CMD with HOLDFAST_DATABASE_URL
# naming a fresh PostgreSQL cluster (scripts/pg-cluster.sh), stopped and
# removed afterwards whatever CMD did. Exits with CMD's status.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
opt=()
if [ "${1:-}" = --no-fsync ]; then opt=(--no-fsync); shift; fi
out=$("$here/scripts/pg-cluster.sh" start "${opt[@]}") || { echo "with-cluster: cannot start PostgreSQL" >&2; exit 1; }
dir=$(echo "$out" | sed -n 's/^dir=//p')
url=$(echo "$out" | sed -n 's/^url=//p')
cleanup() { "$here/scripts/pg-cluster.sh" stop "$dir" fast; rm -rf "$dir"; }
trap cleanup EXIT
HOLDFAST_DATABASE_URL=$url "$@"
