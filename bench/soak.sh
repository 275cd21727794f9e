#!/usr/bin/env bash
# Lock waits and a mixed soak over the MySQL wire (bench/soak): builds wasql (or takes the binary
# given), serves a fresh data directory on loopback, runs the measurements, stops the server.
#   bench/soak.sh [wasql binary] [clients] [duration]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
bin=${1:-}
if [ -z "$bin" ]; then
  go build -o "$tmp/wasql" ./cmd/wasql
  bin="$tmp/wasql"
fi
go build -o "$tmp/soak" ./bench/soak
"$bin" serve --data-dir "$tmp/data" --mysql-addr 127.0.0.1:53317 --pg-addr "" --metrics-addr "" >"$tmp/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
until mariadb -h 127.0.0.1 -P 53317 -u root -e "SELECT 1" >/dev/null 2>&1; do sleep 0.05; done
"$tmp/soak" -addr 127.0.0.1:53317 -clients "${2:-32}" -duration "${3:-20s}"
