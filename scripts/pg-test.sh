#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the audit tests, from Debian's binaries
# (/usr/lib/postgresql/*/bin). It listens only on 127.0.0.1 (a free port) and on a unix socket
# inside its own directory, with a random password (scram-sha-256), and is gone after "stop".
#
#   url=$(bash scripts/pg-test.sh start DIR)   # DIR: an empty or missing directory; prints the URL
#   bash scripts/pg-test.sh stop DIR           # stops the server and removes DIR
#
# As root, the cluster belongs to the user "postgres" (PostgreSQL refuses to run as root).
set -euo pipefail

usage() { echo "usage: pg-test.sh start DIR | stop DIR" >&2; exit 2; }
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || {
  echo "pg-test: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; exit 1; }

as_owner() { # runs a command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "pg-test: running as root, but there is no user \"postgres\" to own the cluster" >&2; exit 1
  fi
  mkdir -p "$dir"
  [ -z "$(ls -A "$dir")" ] || { echo "pg-test: $dir is not empty" >&2; exit 1; }
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  local password; password=$(node -e 'console.log(require("crypto").randomBytes(18).toString("hex"))')
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  as_owner mkdir -p "$dir/sock"
  # A port can be taken between choosing and binding it: a few tries, each bounded by pg_ctl -t.
  local port tries=0
  while :; do
    port=$(free_port)
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/sock -c fsync=on -c synchronous_commit=on -c max_connections=50" \
        start >/dev/null; then
      break
    fi
    tries=$((tries + 1))
    [ "$tries" -lt 3 ] || { echo "pg-test: the server did not start; its log:" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
  done
  local url="postgres://postgres:$password@127.0.0.1:$port/postgres"
  ( umask 077; printf '%s\n' "$url" > "$dir/url" )
  echo "pg-test: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir (stop: scripts/pg-test.sh stop $dir)" >&2
  printf '%s\n' "$url"
}

stop() {
  [ -d "$dir/data" ] || { echo "pg-test: no cluster in $dir" >&2; rm -rf "$dir"; exit 0; }
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
