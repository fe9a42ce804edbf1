#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benchmarks and `make run-pg`
# (Debian's postgresql package; nothing of the system's own cluster is used).
#
#   pg-cluster.sh start [DIR] [--no-fsync]   initdb (if DIR has no cluster) and start;
#                                            prints dir=, url=, pid=, port= lines
#   pg-cluster.sh stop DIR [fast|immediate]  stop the postmaster by its pid, wait for it
#   pg-cluster.sh url DIR                    the libpq URL of a started cluster
#
# DIR defaults to a new mktemp directory under /tmp. The cluster listens on
# a unix socket in DIR only (its name carries a port number, free on
# 127.0.0.1 when chosen, for clients that want one); it trusts local
# connections (user holdfast, database holdfast): it is for tests, never for
# data anyone needs. Run as root (CI), the server runs as the unprivileged
# user `nobody` (PostgreSQL refuses to run as root), which owns DIR.
# --no-fsync: fsync off (a power loss may lose the cluster; a process crash
# may not): for the differential test, whose subject is not durability.
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || { echo "pg-cluster: no PostgreSQL binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

url_of() {
  local dir=$1 port
  port=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$dir/data/postgresql.auto.conf.holdfast")
  echo "postgresql:///holdfast?host=$dir&port=$port&user=holdfast"
}

cmd=${1:-}
case "$cmd" in
start)
  shift
  dir=""; nofsync=0
  for a in "$@"; do
    case "$a" in --no-fsync) nofsync=1 ;; *) dir=$a ;; esac
  done
  if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/holdfast-pg.XXXXXX); fi
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$dir/data" -U holdfast --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    {
      echo "port = $port"
      echo "listen_addresses = ''"   # the socket only: clusters started at once never meet on a port
      echo "unix_socket_directories = '$dir'"
      echo "max_connections = 100"
      echo "shared_buffers = 128MB"
      echo "fsync = $([ $nofsync -eq 1 ] && echo off || echo on)"
      echo "log_min_messages = warning"
    } | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    echo "port = $port" | as_owner tee "$dir/data/postgresql.auto.conf.holdfast" >/dev/null
    fresh=1
  else
    fresh=0
  fi
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
  port=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$dir/data/postgresql.auto.conf.holdfast")
  if [ $fresh -eq 1 ]; then
    as_owner "$PGBIN/createdb" -h "$dir" -p "$port" -U holdfast holdfast
  fi
  echo "dir=$dir"
  echo "url=$(url_of "$dir")"
  echo "pid=$(head -1 "$dir/data/postmaster.pid")"
  echo "port=$port"
  ;;
stop)
  dir=${2:?usage: pg-cluster.sh stop DIR [fast|immediate]}
  mode=${3:-fast}
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  pid=$(head -1 "$dir/data/postmaster.pid")
  # SIGINT: fast shutdown; SIGQUIT: immediate (no checkpoint, crash recovery on start)
  sig=INT; [ "$mode" = immediate ] && sig=QUIT
  kill -"$sig" "$pid" 2>/dev/null || exit 0
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  ;;
url)
  url_of "${2:?usage: pg-cluster.sh url DIR}"
  ;;
*)
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
