#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL 15 server for tests.
#
#   scripts/pg-test-server.sh start <dir>   # prints and writes <dir>/url
#   scripts/pg-test-server.sh stop <dir>    # stops the server, deletes <dir>
#
# The server keeps its data and socket under <dir> (or, when the postgres
# user cannot reach <dir>, under /tmp, recorded in <dir>/server-dir), listens on a free TCP
# port on 127.0.0.1 only, trusts local connections (no password) and has a
# database `threatd_test`. <dir>/url holds
#   postgresql://postgres@127.0.0.1:PORT/threatd_test
# Durability is off (fsync=off): it is for tests only. Both commands are
# idempotent. As root the server runs as the `postgres` OS user (PostgreSQL
# refuses root), so <dir> is handed to that user.
# Needs Debian's postgresql-15 (scripts/setup.sh installs it).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [[ -z $cmd || -z $dir || ( $cmd != start && $cmd != stop ) ]]; then
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
fi
[[ -x $PG_BIN/pg_ctl ]] || { echo "pg-test-server: $PG_BIN/pg_ctl not found; run scripts/setup.sh" >&2; exit 1; }

data=$dir/data
run_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

is_running() { [[ -f $data/postmaster.pid ]] && run_as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The server's own files (data, logs, socket) live in <dir> when the postgres
# user can reach it; otherwise (e.g. a clone inside a mode-700 directory made
# by mktemp -d) in a directory under /tmp whose path <dir>/server-dir records.
server_dir() { if [[ -f $dir/server-dir ]]; then cat "$dir/server-dir"; else echo "$dir"; fi; }

if [[ $cmd == stop ]]; then
  srv=$(server_dir)
  data=$srv/data
  if [[ -d $data ]] && is_running; then
    run_as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null
  fi
  if [[ $srv != "$dir" ]]; then rm -rf "$srv"; fi
  rm -rf "$dir"
  exit 0
fi

# start
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
srv=$(server_dir)
data=$srv/data
if is_running && [[ -f $dir/url ]]; then
  cat "$dir/url"
  exit 0
fi
if [[ $(id -u) -eq 0 && $srv == "$dir" ]]; then
  chown postgres: "$dir"
  if ! runuser -u postgres -- test -x "$dir"; then
    srv=$(mktemp -d /tmp/threatd-pg.XXXXXX)
    chown postgres: "$srv"
    echo "$srv" >"$dir/server-dir"
    data=$srv/data
  fi
fi
if [[ ! -f $data/PG_VERSION ]]; then
  rm -rf "$data"
  run_as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >"$srv/initdb.log" 2>&1 \
    || { cat "$srv/initdb.log" >&2; exit 1; }
fi

started=""
for _ in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  if run_as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$srv/server.log" -w -t 20 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$srv' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
      >/dev/null 2>&1; then
    started=$port
    break
  fi
done
if [[ -z $started ]]; then
  echo "pg-test-server: could not start PostgreSQL; see $srv/server.log" >&2
  tail -n 20 "$srv/server.log" >&2 || true
  exit 1
fi

if ! run_as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$started" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'threatd_test'" | grep -q 1; then
  run_as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$started" -U postgres threatd_test
fi
url="postgresql://postgres@127.0.0.1:$started/threatd_test"
echo "$url" >"$dir/url"
echo "$url"
