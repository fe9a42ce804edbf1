#!/usr/bin/env bash
# Starts holdfast on the PostgreSQL engine for local use (`make run-pg`):
# a throwaway PostgreSQL cluster in ./pgdata (scripts/pg-cluster.sh: made on
# first start, kept between runs), then `holdfast serve --engine postgres` on
# 127.0.0.1:8080. The admin key as in scripts/run.sh (./data/admin.key).
# Extra arguments go to `holdfast serve`, e.g. a second process:
#   ./scripts/run-pg.sh --listen 127.0.0.1:8081
# To use an existing database instead, skip this script:
#   holdfast serve --engine postgres --database-url postgresql://user@host/db ...
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
make -s all
mkdir -p -m 700 data
if [ ! -s data/admin.key ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > data/admin.key)
fi
dir="$PWD/pgdata"
if [ -f "$dir/data/postmaster.pid" ] && kill -0 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null; then
  url=$(./scripts/pg-cluster.sh url "$dir")
else
  url=$(./scripts/pg-cluster.sh start "$dir" | sed -n 's/^url=//p')
fi
cat <<MSG
holdfast on PostgreSQL: $url
  admin key (Authorization: Bearer ...): $(cat data/admin.key)
  the tables: psql '$url' -c '\\dt holdfast.*'   (docs/POSTGRES.md)
  stop the cluster: ./scripts/pg-cluster.sh stop "$dir"
MSG
exec ./build/holdfast serve --engine postgres --database-url "$url" --listen 127.0.0.1:8080 \
  --admin-key-file data/admin.key "$@"
