#!/usr/bin/env bash
# Starts holdfast on the embedded engine for local use: 127.0.0.1:8080, data
# in ./data. The admin key is read from ./data/admin.key, generated on first
# start and printed. Extra arguments go to `holdfast serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make -s all
mkdir -p data
if [ ! -s data/admin.key ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > data/admin.key)
fi
echo "holdfast: admin key (Authorization: Bearer ...): $(cat data/admin.key)"
exec ./build/holdfast serve --listen 127.0.0.1:8080 --data data --admin-key-file data/admin.key "$@"
