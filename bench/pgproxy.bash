# Sourced by bench/proxy-wasm.sh and scripts/stream-rss.sh: a throwaway PostgreSQL 15 (fsync,
# jit, parallel workers and autovacuum off, as bench/postgres.sh) and a `wasql serve --upstream`
# in front of its database bench, both on free loopback ports, with the wasm functions fib
# (udf/testdata/fib.wasm, fib_iter) and slugify (udf/testdata/guests/c_funcs.wasm) created
# through the proxy. Everything started is stopped, by PID, by pgproxy_stop (set it as the
# caller's EXIT trap).
#
#   pgproxy_start TMPDIR   sets PG_PORT, PROXY_PORT, PROXY_PID, WASQL_BIN, DIRECT_URL, PROXY_URL
#   direct_psql / proxy_psql ARGS...   psql -X -q -A -t -v ON_ERROR_STOP=1 to either side
# Needs postgresql-15, postgresql-client (psql), go, python3; runs from the repository's root.

pg_bin=/usr/lib/postgresql/15/bin
PROXY_PID=
pgproxy_dir=

as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pgproxy_start() {
  pgproxy_dir=$1
  [[ -x $pg_bin/initdb ]] || { echo "postgresql-15 is not installed (apt-get install -y postgresql-15)" >&2; return 1; }
  WASQL_BIN=$pgproxy_dir/wasql
  go build -o "$WASQL_BIN" ./cmd/wasql
  go build -o "$pgproxy_dir/streamread" ./bench/streamread
  PG_PORT=$(free_port)
  mkdir -p "$pgproxy_dir/pg"
  if [[ $(id -u) == 0 ]]; then chown postgres "$pgproxy_dir" "$pgproxy_dir/pg"; fi
  as_pg "$pg_bin/initdb" -D "$pgproxy_dir/pg/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 -N >/dev/null
  cat >>"$pgproxy_dir/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
fsync = off
shared_buffers = 512MB
jit = off
max_parallel_workers_per_gather = 0
autovacuum = off
CONF
  as_pg "$pg_bin/pg_ctl" -D "$pgproxy_dir/pg/data" -l "$pgproxy_dir/pg/server.log" -w start >/dev/null
  command psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE bench" >/dev/null
  DIRECT_URL="postgres://postgres:unused@127.0.0.1:$PG_PORT/bench?sslmode=disable"
  PROXY_PORT=$(free_port)
  PROXY_URL="postgres://postgres:unused@127.0.0.1:$PROXY_PORT/bench?sslmode=disable"
  # pass-through authentication: the proxy asks for a password (any, the upstream trusts)
  "$WASQL_BIN" serve --upstream "$DIRECT_URL" --data-dir "$pgproxy_dir/wasql-data" \
    --pg-addr "127.0.0.1:$PROXY_PORT" --metrics-addr "" >"$pgproxy_dir/wasql.log" 2>&1 &
  PROXY_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if proxy_psql -c 'SELECT 1' >/dev/null 2>&1; then break; fi
    kill -0 "$PROXY_PID" 2>/dev/null || { echo "wasql serve stopped:" >&2; cat "$pgproxy_dir/wasql.log" >&2; return 1; }
    sleep 0.1
  done
  proxy_psql -c 'SELECT 1' >/dev/null || { cat "$pgproxy_dir/wasql.log" >&2; return 1; }
  proxy_psql <<'SQL'
\set fib `base64 -w0 udf/testdata/fib.wasm`
\set c `base64 -w0 udf/testdata/guests/c_funcs.wasm`
CREATE FUNCTION fib(n bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE PARALLEL SAFE AS :'fib', 'fib_iter';
CREATE FUNCTION slugify(s text) RETURNS text LANGUAGE wasm IMMUTABLE PARALLEL SAFE AS :'c', 'slugify';
SQL
}

pgproxy_stop() {
  if [[ -n $PROXY_PID ]]; then
    kill -TERM "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
  fi
  if [[ -n $pgproxy_dir && -f $pgproxy_dir/pg/data/postmaster.pid ]]; then
    as_pg "$pg_bin/pg_ctl" -D "$pgproxy_dir/pg/data" -m fast -w stop >/dev/null
  fi
  [[ -n $pgproxy_dir ]] && rm -rf "$pgproxy_dir"
  return 0
}

direct_psql() { PGPASSWORD=unused command psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench "$@"; }
proxy_psql() { PGPASSWORD=unused command psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d bench "$@"; }
