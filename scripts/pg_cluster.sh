#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a loopback port, for the tests and the load benchmark.
#   scripts/pg_cluster.sh start [--durable]   prints "DIR URL" on stdout (URL: postgresql://postgres@127.0.0.1:PORT/postgres)
#   scripts/pg_cluster.sh stop DIR            stops it and removes DIR
#   scripts/pg_cluster.sh run CMD [ARGS...]    runs CMD with RELAIS_TEST_PG_URL naming a fresh cluster,
#                                              stopped whatever happens; CMD's exit status. When
#                                              RELAIS_TEST_PG_URL is already set, runs CMD on that one.
# Runs the server as the `postgres` user when started as root (PostgreSQL refuses to run as root),
# as the current user otherwise. Trust authentication, on 127.0.0.1 only. Without --durable,
# fsync is off: fast for tests, not for data anyone keeps.
set -euo pipefail

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg_cluster: PostgreSQL's server programs are missing (Debian: apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$bin"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
  start)
    durable=0
    [ "${2:-}" = "--durable" ] && durable=1
    BIN=$(pg_bin)
    DIR=$(mktemp -d /tmp/relais-pg.XXXXXX)
    chmod 755 "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR -c max_connections=400 -c shared_buffers=256MB"
    if [ "$durable" -eq 0 ]; then opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
    for _ in 1 2 3 4 5; do
      PORT=$(free_port)
      if as_owner "$BIN/pg_ctl" -D "$DIR/data" -o "$opts -p $PORT" -l "$DIR/server.log" -w -t 30 start >/dev/null 2>&1; then
        echo "$DIR postgresql://postgres@127.0.0.1:$PORT/postgres"
        exit 0
      fi
    done
    echo "pg_cluster: PostgreSQL did not start; its log:" >&2
    cat "$DIR/server.log" >&2 || true
    exit 1
    ;;
  stop)
    DIR=${2:?usage: pg_cluster.sh stop DIR}
    case "$DIR" in /tmp/relais-pg.*) ;; *) echo "pg_cluster: $DIR is not a cluster of this script" >&2; exit 2 ;; esac
    BIN=$(pg_bin)
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  run)
    shift
    [ $# -gt 0 ] || { echo "usage: scripts/pg_cluster.sh run CMD [ARGS...]" >&2; exit 2; }
    if [ -n "${RELAIS_TEST_PG_URL:-}" ]; then exec "$@"; fi
    cluster=$("$0" start)
    PG_DIR=${cluster%% *}
    trap '"$0" stop "$PG_DIR"' EXIT
    export RELAIS_TEST_PG_URL=${cluster#* }
    echo "PostgreSQL de test : $RELAIS_TEST_PG_URL" >&2
    "$@"
    ;;
  *)
    echo "usage: scripts/pg_cluster.sh start [--durable] | stop DIR | run CMD [ARGS...]" >&2
    exit 2
    ;;
esac
