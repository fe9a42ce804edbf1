#!/usr/bin/env bash
# Starts holdfast on the embedded engine for local use: 127.0.0.1:8080, data
# in ./data. The admin key is read from ./data/admin.key, generated on first
# start (48 random hex characters, mode 0600) and printed. Extra arguments go
# to `holdfast serve` (holdfast serve --help lists them), e.g.
#   ./scripts/run.sh --test-clock --listen 127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make -s all
mkdir -p -m 700 data   # the log holds every booking
if [ ! -s data/admin.key ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > data/admin.key)
fi
key=$(cat data/admin.key)
cat <<MSG
holdfast: admin key (Authorization: Bearer ...): $key
  try:  curl -s -XPOST http://127.0.0.1:8080/items -H "Authorization: Bearer $key" \\
          -H "Content-Type: application/json" -d '{"id":"mug","name":"Mug","price":1299,"stock":7}'
        curl -s http://127.0.0.1:8080/items/mug
  the API: docs/API.md; stop with Ctrl-C (finishes requests in flight, exits 0)
MSG
exec ./build/holdfast serve --listen 127.0.0.1:8080 --data data --admin-key-file data/admin.key "$@"
