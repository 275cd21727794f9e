#!/usr/bin/env bash
# The project's tests: vet, every package under -race, the integration tests with real clients, a
# short run of each fuzzer, and a check that the committed WAT fixtures match their source.
# Needs Go, gcc (cgo, for PostgreSQL's parser), wabt, the MariaDB client, PostgreSQL 15 (a real
# server the Postgres-dialect tests compare with) and the Postgres clients .ci/run installs:
#   apt-get install -y gcc wabt mariadb-client postgresql-client postgresql-15 python3-psycopg2 \
#     python3-psycopg libpostgresql-jdbc-java default-jdk-headless; (cd integration/clients/node && npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wat2wasm >/dev/null || { echo "wat2wasm not found: apt-get install -y wabt" >&2; exit 1; }
command -v mariadb >/dev/null || { echo "mariadb not found: apt-get install -y mariadb-client" >&2; exit 1; }

echo "== fixtures: WAT sources match the committed .wasm"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in udf/testdata/*.wat sqlfuncs/testdata/*.wat; do
  wat2wasm --enable-threads "$f" -o "$tmp/out.wasm"
  cmp -s "$tmp/out.wasm" "${f%.wat}.wasm" || { echo "$f: stale ${f%.wat}.wasm, run udf/testdata/build.sh" >&2; exit 1; }
done

echo "== go vet"
go vet ./...
GOOS=wasip1 GOARCH=wasm go vet ./sdk/go/... ./udf/testdata/guests/go/

echo "== go test -race"
go test -race -count=1 ./...

echo "== integration: the wasql binary with real clients"
go test -tags integration -count=1 ./integration/

echo "== fuzz (${FUZZTIME:=10s} each)"
go test -run XXX -fuzz '^FuzzRewrite$' -fuzztime "$FUZZTIME" ./udf/internal/rewrite/
go test -run XXX -fuzz '^FuzzSemantics$' -fuzztime "$FUZZTIME" ./udf/internal/rewrite/
go test -run XXX -fuzz '^FuzzColumnarResult$' -fuzztime "$FUZZTIME" ./udf/
go test -run XXX -fuzz '^FuzzDecodeFunction$' -fuzztime "$FUZZTIME" ./catalog/boltstore/
go test -run XXX -fuzz '^FuzzParseDDL$' -fuzztime "$FUZZTIME" ./sqlfuncs/
go test -run XXX -fuzz '^FuzzSplit$' -fuzztime "$FUZZTIME" ./proxy/
go test -run XXX -fuzz '^FuzzPGMessages$' -fuzztime "$FUZZTIME" ./engine/
go test -run XXX -fuzz '^FuzzTranslate$' -fuzztime "$FUZZTIME" ./pgsql/
