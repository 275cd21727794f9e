#!/usr/bin/env bash
# Wire latency and throughput in one run: SELECT plus(1, 2) (a wasm add) over wasql's Postgres
# wire (pgbench, simple and prepared, 1 and 4 clients) and MySQL wire (mariadb-slap), against
# SELECT 1 + 2 in PostgreSQL 15 (pgbench); and the time from `wasql serve` to a first answered
# query. Needs postgresql-15 (server and pgbench) and mariadb-client.
#   bench/wire.sh [seconds per measurement]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
tmp=$(mktemp -d)
go build -o "$tmp/wasql" ./cmd/wasql

# time to first query
start=$(date +%s%N)
"$tmp/wasql" serve --data-dir "$tmp/data" --mysql-addr 127.0.0.1:53307 --pg-addr 127.0.0.1:55434 --metrics-addr "" >"$tmp/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
until psql -X -q -A -t -h 127.0.0.1 -p 55434 -U app -d wasql -c "SELECT 1" >/dev/null 2>&1; do sleep 0.005; done
first=$(( ($(date +%s%N) - start) / 1000000 ))

m=$(base64 -w0 udf/testdata/numeric.wasm)
psql -X -q -h 127.0.0.1 -p 55434 -U app -d wasql -c "CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '$m', 'add'"
echo 'SELECT plus(1, 2);' >"$tmp/wasm.sql"
echo 'SELECT 1 + 2;' >"$tmp/native.sql"

pgb() { # host port user db script mode clients
  pgbench -n -h "$1" -p "$2" -U "$3" "$4" -f "$5" -M "$6" -c "$7" -j "$7" -T "$secs" 2>/dev/null |
    awk '/latency average/ {lat=$4} /^tps/ {tps=$3} END {printf "%.0f | %.3f", tps, lat}'
}
echo "| server | query | protocol | clients | queries/s | latency ms |"
echo "|---|---|---|---|---:|---:|"
for mode in simple prepared; do
  for c in 1 4; do
    echo "| wasql, Postgres wire | SELECT plus(1, 2) | $mode | $c | $(pgb 127.0.0.1 55434 app wasql "$tmp/wasm.sql" $mode $c) |"
  done
done
for c in 1 4; do
  n=$(( c * 20000 ))
  t=$(mariadb-slap -h 127.0.0.1 -P 53307 -u root --skip-ssl --create-schema=wasql --no-drop --concurrency=$c \
        --number-of-queries=$n --query="SELECT plus(1, 2)" 2>/dev/null | awk '/Average number of seconds/ {print $(NF-1)}')
  echo "| wasql, MySQL wire | SELECT plus(1, 2) | text | $c | $(awk -v n=$n -v t="$t" 'BEGIN {printf "%.0f", n / t}') | $(awk -v n=$n -v t="$t" -v c=$c 'BEGIN {printf "%.3f", 1000 * t * c / n}') |"
done

# PostgreSQL 15 on the same machine
bin=/usr/lib/postgresql/15/bin
chown postgres "$tmp"
runuser -u postgres -- "$bin/initdb" -D "$tmp/pg" --auth=trust -N >/dev/null
printf "listen_addresses = '127.0.0.1'\nport = 55435\nunix_socket_directories = ''\n" >>"$tmp/pg/postgresql.conf"
runuser -u postgres -- "$bin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w start >/dev/null
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; runuser -u postgres -- "$bin/pg_ctl" -D "$tmp/pg" -m fast -w stop >/dev/null; rm -rf "$tmp"' EXIT
for mode in simple prepared; do
  for c in 1 4; do
    echo "| PostgreSQL 15 | SELECT 1 + 2 | $mode | $c | $(pgb 127.0.0.1 55435 postgres postgres "$tmp/native.sql" $mode $c) |"
  done
done
echo
echo "time from \`wasql serve\` to the first answered query (psql): ${first} ms"
