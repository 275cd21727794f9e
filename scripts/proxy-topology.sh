#!/usr/bin/env bash
# The topology of docker-compose.yml without Docker: PostgreSQL 15 and two `wasql serve
# --upstream` proxies on the same upstream database, each proxy with its own data directory (its
# compile cache). The settings are those of the compose file, in one place below; only the
# addresses differ (loopback ports instead of service names, directories instead of volumes).
# TestComposeMatchesTopology (integration/topology_test.go) checks the compose file against
# `config`.
#
#   scripts/proxy-topology.sh start DIR   initdb into DIR, start PostgreSQL and both proxies, wait
#                                         until each answers a query (60 s at most), print
#                                         "NAME HOST:PORT" per service
#   scripts/proxy-topology.sh stop DIR    stop what start started, by the PIDs it recorded
#   scripts/proxy-topology.sh config      the topology as lines "SERVICE KEY VALUE"
#
# start's environment: TOPOLOGY_WASQL_BIN (default: go build ./cmd/wasql into DIR), PG_PORT, WASQL1_PORT,
# WASQL2_PORT (default: free loopback ports), PG_CONF (extra postgresql.conf lines, e.g.
# "fsync = off" for bench/proxy.sh). Needs postgresql-15 (the server) and postgresql-client (psql).
# As root, PostgreSQL runs as the user postgres (runuser), from a directory of its own under
# ${TMPDIR:-/tmp} (recorded in DIR/pg.dir; stop removes it).
set -euo pipefail

# The settings, shared with docker-compose.yml. Clients log in with their own PostgreSQL user
# and password, which wasql passes through to the upstream (the default auth mode); the URL's user
# is the one wasql's catalog (schema wasql) uses.
db=wasql
user=wasql
password=wasql
pg_image=postgres:15
pg_port=5432  # the upstream's port, inside the compose network and published
proxy_port=5433 # each proxy's Postgres wire, inside its container
proxies=(wasql1 wasql2)
declare -A published=([postgres]=5432 [wasql1]=5433 [wasql2]=5434)
data_dir=/var/lib/wasql/data # the Dockerfile's WASQL_DATA_DIR; a volume per proxy

# proxy_env HOST:PORT-OF-UPSTREAM LISTEN-ADDR DATA-DIR: each proxy's WASQL_* settings.
proxy_env() {
  echo "WASQL_UPSTREAM=postgres://$user:$password@$1/$db?sslmode=disable"
  echo "WASQL_UPSTREAM_AUTH=passthrough" # the default, said: clients' own passwords go upstream
  echo "WASQL_PG_ADDR=$2"
  echo "WASQL_PG_TLS_CERT=self-signed" # passthrough takes passwords off loopback only over TLS
  echo "WASQL_DATA_DIR=$3"
  echo "WASQL_LOG_LEVEL=info"
}

config() {
  echo "postgres image $pg_image"
  echo "postgres port ${published[postgres]}:$pg_port"
  echo "postgres env POSTGRES_DB=$db"
  echo "postgres env POSTGRES_USER=$user"
  echo "postgres env POSTGRES_PASSWORD=$password"
  echo "postgres healthcheck pg_isready -h 127.0.0.1 -U $user -d $db"
  local p
  for p in "${proxies[@]}"; do
    echo "$p build ."
    echo "$p port ${published[$p]}:$proxy_port"
    proxy_env "postgres:$pg_port" "0.0.0.0:$proxy_port" "$data_dir" | sed "s/^/$p env /"
    echo "$p depends_on postgres service_healthy"
    echo "$p volume $p-data:$data_dir"
  done
}

bin=/usr/lib/postgresql/15/bin
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# answers PORT: a query through PORT succeeds with the topology's user and password.
answers() {
  PGPASSWORD=$password PGCONNECT_TIMEOUT=2 psql -X -q -A -t -w -h 127.0.0.1 -p "$1" -U "$user" -d "$db" -c 'SELECT 1' >/dev/null 2>&1
}

# wait_for NAME PORT PIDFILE LOG: until PORT answers, for 60 s at most, while the process lives.
wait_for() {
  local i
  for ((i = 0; i < 600; i++)); do
    answers "$2" && return 0
    if ! kill -0 "$(head -1 "$3")" 2>/dev/null; then
      echo "proxy-topology: $1 exited; its log ($4):" >&2
      tail -n 30 "$4" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "proxy-topology: $1 does not answer on 127.0.0.1:$2 after 60 s; its log ($4):" >&2
  tail -n 30 "$4" >&2
  return 1
}

start() {
  local dir=$1
  [[ -x $bin/initdb ]] || { echo "proxy-topology: PostgreSQL 15 is needed: apt-get install -y postgresql-15" >&2; exit 1; }
  command -v psql >/dev/null || { echo "proxy-topology: psql is needed: apt-get install -y postgresql-client" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [[ -e $dir/pg.dir ]] && { echo "proxy-topology: $dir is in use (stop it first: $0 stop $dir)" >&2; exit 1; }
  local wasql=${TOPOLOGY_WASQL_BIN:-}
  if [[ -z $wasql ]]; then
    wasql=$dir/wasql
    (cd "$(dirname "$0")/.." && go build -o "$wasql" ./cmd/wasql)
  fi
  local pgp=${PG_PORT:-$(free_port)}
  declare -A port=([wasql1]=${WASQL1_PORT:-$(free_port)} [wasql2]=${WASQL2_PORT:-$(free_port)})

  # PostgreSQL, as the compose file's postgres:15 image sets it up: superuser $user with a
  # password, database $db, scram-sha-256 over TCP.
  local pgdir
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/wasql-topology-pg.XXXXXX")
  echo "$pgdir" >"$dir/pg.dir"
  printf '%s\n' "$password" >"$pgdir/pwfile"
  if [[ $(id -u) == 0 ]]; then chown -R postgres "$pgdir"; fi
  as_pg "$bin/initdb" -D "$pgdir/data" -U "$user" --pwfile="$pgdir/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -N >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $pgp"
    echo "unix_socket_directories = '$pgdir'"
    echo "max_connections = 200"
    if [[ -n ${PG_CONF:-} ]]; then printf '%s\n' "$PG_CONF"; fi
  } >>"$pgdir/data/postgresql.conf"
  as_pg "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -t 60 -w start >/dev/null ||
    { cat "$pgdir/server.log" >&2; exit 1; }
  head -1 "$pgdir/data/postmaster.pid" >"$dir/postgres.pid"
  ln -sf "$pgdir/server.log" "$dir/postgres.log"
  PGPASSWORD=$password psql -X -q -w -h 127.0.0.1 -p "$pgp" -U "$user" -d postgres -c "CREATE DATABASE $db" >/dev/null
  echo "postgres 127.0.0.1:$pgp" >"$dir/addresses"

  local p
  for p in "${proxies[@]}"; do
    mkdir -p "$dir/$p"
    local -a envs
    mapfile -t envs < <(proxy_env "127.0.0.1:$pgp" "127.0.0.1:${port[$p]}" "$dir/$p/data")
    env "${envs[@]}" WASQL_MYSQL_ADDR=127.0.0.1:0 WASQL_METRICS_ADDR=127.0.0.1:0 "$wasql" serve >"$dir/$p/log" 2>&1 &
    echo $! >"$dir/$p/pid"
    echo "$p 127.0.0.1:${port[$p]}" >>"$dir/addresses"
  done
  for p in "${proxies[@]}"; do
    wait_for "$p" "${port[$p]}" "$dir/$p/pid" "$dir/$p/log" || { stop "$dir"; exit 1; }
  done
  cat "$dir/addresses"
}

# signal PIDFILE SIGNAL: signal the process it names (if it lives) and print its PID.
signal() {
  [[ -f $1 ]] || return 0
  local pid
  pid=$(head -1 "$1")
  rm -f "$1"
  if kill "-$2" "$pid" 2>/dev/null; then echo "$pid"; fi
}

# wait_gone PID...: wait until the processes have exited, 15 s at most, then SIGKILL them.
wait_gone() {
  local pid i
  for pid in "$@"; do
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || continue 2
      sleep 0.05
    done
    echo "proxy-topology: process $pid did not stop within 15 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
}

stop() {
  local dir=$1 p pids=()
  for p in "${proxies[@]}"; do
    pids+=($(signal "$dir/$p/pid" TERM))
  done
  wait_gone "${pids[@]}"
  wait_gone $(signal "$dir/postgres.pid" INT) # PostgreSQL's fast shutdown
  if [[ -f $dir/pg.dir ]]; then
    local pgdir
    pgdir=$(cat "$dir/pg.dir")
    [[ -f $dir/postgres.log ]] && cp --remove-destination "$pgdir/server.log" "$dir/postgres.log" 2>/dev/null || true
    case $pgdir in
    */wasql-topology-pg.*) rm -rf "$pgdir" ;;
    esac
    rm -f "$dir/pg.dir"
  fi
}

case ${1:-} in
start) [[ $# == 2 ]] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
stop) [[ $# == 2 ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
config) config ;;
*) echo "usage: $0 start DIR | stop DIR | config" >&2; exit 2 ;;
esac
