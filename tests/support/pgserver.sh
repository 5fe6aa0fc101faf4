#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests and benchmarks, listening only on a Unix socket in
# DIR (no TCP port, so parallel suites never collide):
#   pgserver.sh start DIR [--no-fsync]
#                           initdb + pg_ctl start; prints the URL to connect with. --no-fsync
#                           (the test suite) trades durability against power loss for speed;
#                           benchmarks keep fsync on, as in production.
#   pgserver.sh restart DIR pg_ctl restart -m immediate (a crash and a start: what a server
#                           that went away looks like to its clients), with the options and the
#                           socket folder it was started with
#   pgserver.sh stop DIR    pg_ctl stop -m fast, then removes DIR
#   pgserver.sh url DIR     the URL of a server started in DIR
# initdb refuses to run as root, so as root the server runs as the `postgres` account and DIR is
# handed to it; the bootstrap superuser is named after the calling user, so that the tests
# connect as themselves over the socket (trust authentication: the socket folder is private).
set -euo pipefail

usage() { echo "usage: pgserver.sh start|restart|stop|url DIR" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
action=$1
dir=$2
fsync=on
if [ $# -eq 3 ]; then
  [ "$action" = start ] && [ "$3" = --no-fsync ] || usage
  fsync=off
fi
me=$(id -un)

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] || { echo "pgserver: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
  echo "$found"
}

# Runs a command as the server's account: postgres when we are root, ourselves otherwise.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() { echo "postgresql:///postgres?host=$dir/socket"; }

case "$action" in
  start)
    bin=$(pg_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -e "$dir/data/PG_VERSION" ]; then
      # A leftover of an interrupted suite: replace it.
      as_server "$bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null 2>&1 || true
      rm -rf "$dir/data" "$dir/socket"
    fi
    mkdir -p "$dir/socket"
    chmod 0700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    as_server "$bin/initdb" --pgdata="$dir/data" --username="$me" --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # No TCP listener; durable commits unless --no-fsync.
    as_server "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
      --options="-c listen_addresses='' -c unix_socket_directories='$dir/socket' -c max_connections=200 -c fsync=$fsync" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    # Other users (a test running as root) reach the socket through the folder.
    chmod 0711 "$dir"
    url
    ;;
  restart)
    [ -e "$dir/data/PG_VERSION" ] || { echo "pgserver: no server in $dir" >&2; exit 1; }
    bin=$(pg_bin)
    # pg_ctl restart starts it again with the options of the last start (postmaster.opts).
    as_server "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --mode=immediate \
      --wait restart >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    url
    ;;
  stop)
    [ -d "$dir/data" ] || exit 0
    bin=$(pg_bin)
    as_server "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  url) url ;;
  *) usage ;;
esac
