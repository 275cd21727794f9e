#!/usr/bin/env bash
# The project's tests.
#
#   scripts/test.sh         everything: gofmt, the WAT fixtures match their source, go vet (the
#                           main module, the Go SDK, the Go test guest), every package under -race
#                           (the embedded engine's twice: on the memory tables and on Dolt's),
#                           the integration tests with real clients and a real PostgreSQL 15, and
#                           a short run of each fuzzer (FUZZTIME, default 10s each). About 12
#                           minutes on 2 cores with a warm Go build cache, more the first time.
#   scripts/test.sh quick   gofmt, fixtures, vet and the unit tests without -race: no clients,
#                           no PostgreSQL, no fuzzing.
#
# Everything the chosen mode needs is checked first; each missing piece is named with the
# command that installs it (Debian 12 / Ubuntu; .ci/run installs them all).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
case "$mode" in
all | quick) ;;
*)
  echo "usage: scripts/test.sh [quick]" >&2
  exit 2
  ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

missing=()
# need WHAT INSTALL TEST...: records WHAT (and how to install it) when TEST fails.
need() {
  local what=$1 install=$2
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    missing+=("$what: $install")
  fi
}
python_with() { # python_with MODULE: a python3 that imports it (PATH's or Debian's)
  local py
  for py in "$(command -v python3 || true)" /usr/bin/python3; do
    [ -n "$py" ] && "$py" -c "import $1" 2>/dev/null && return 0
  done
  return 1
}
c_guest() { # the clang command of sdk/c/wasql.h on a file that needs wasi-libc
  printf '#include <stdlib.h>\n#include <string.h>\nint f(int n) { char *p = malloc(n); return p ? (int)strlen(p) : 0; }\n' >"$tmp/t.c"
  clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wl,--strip-debug -o "$tmp/t.wasm" "$tmp/t.c"
}

need "go (1.26)" "https://go.dev/dl/" command -v go
need "gcc (cgo, for PostgreSQL's parser)" "apt-get install -y gcc" command -v gcc
need "wat2wasm" "apt-get install -y wabt" command -v wat2wasm
need "clang, wasm-ld, wasi-libc and the wasm32 runtime (C guests)" \
  "apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32" c_guest
if [ "$mode" = all ]; then
  need "mariadb (MySQL client)" "apt-get install -y mariadb-client" command -v mariadb
  need "psql" "apt-get install -y postgresql-client" command -v psql
  need "PostgreSQL 15 server" "apt-get install -y postgresql-15" test -x /usr/lib/postgresql/15/bin/initdb
  need "psycopg2" "apt-get install -y python3-psycopg2" python_with psycopg2
  need "psycopg 3" "apt-get install -y python3-psycopg" python_with psycopg
  need "SQLAlchemy (with psycopg2)" "apt-get install -y python3-sqlalchemy python3-psycopg2" python_with "sqlalchemy, psycopg2"
  need "javac" "apt-get install -y default-jdk-headless" command -v javac
  need "pgjdbc (/usr/share/java/postgresql.jar)" "apt-get install -y libpostgresql-jdbc-java" test -f /usr/share/java/postgresql.jar
  need "node" "apt-get install -y nodejs npm" command -v node
  need "node-postgres" "(cd integration/clients/node && npm ci --no-audit --no-fund)" \
    test -f integration/clients/node/node_modules/pg/package.json
  need "knex" "(cd integration/clients/node && npm ci --no-audit --no-fund)" \
    test -f integration/clients/node/node_modules/knex/package.json
  need "Debian's Rust 1.63 with the wasm32-wasi standard library (the Rust SDK and examples)" \
    "apt-get install -y rustc cargo libstd-rust-dev-wasm32" test -d /usr/lib/rustlib/wasm32-wasi/lib
  need "make" "apt-get install -y make" command -v make
  need "AssemblyScript (the AssemblyScript SDK, its example and examples)" \
    "(cd sdk/assemblyscript && npm ci --no-audit --no-fund && cd example && npm ci --no-audit --no-fund)" \
    test -f sdk/assemblyscript/node_modules/assemblyscript/package.json -a -e sdk/assemblyscript/example/node_modules/wasql-as/package.json
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "scripts/test.sh $mode: missing:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi

echo "== gofmt"
unformatted=$(find . -name '*.go' -not -path '*/node_modules/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
  echo "not gofmt-clean (gofmt -w them):" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== fixtures: WAT sources match the committed .wasm"
shopt -s nullglob
for f in udf/testdata/*.wat udf/testdata/*/*.wat sqlfuncs/testdata/*.wat embedded/testdata/*.wat; do
  flags=(--enable-threads)
  case "$f" in
  udf/testdata/guests/*) continue ;;                         # built by guests/build.sh
  udf/testdata/hostile/*) flags=(--no-check --enable-all) ;; # invalid on purpose, some of them
  udf/testdata/trapper.wat) flags+=(--debug-names) ;;       # its trap stack names its functions
  esac
  wat2wasm "${flags[@]}" "$f" -o "$tmp/out.wasm"
  cmp -s "$tmp/out.wasm" "${f%.wat}.wasm" || { echo "$f: stale or missing ${f%.wat}.wasm, run $(dirname "$f")/build.sh" >&2; exit 1; }
done
shopt -u nullglob

echo "== go vet"
go vet ./...
(cd sdk/go && go vet ./... && GOOS=wasip1 GOARCH=wasm go vet ./...)
(cd udf/testdata/guests/go && GOWORK=off GOOS=wasip1 GOARCH=wasm go vet .)

if [ "$mode" = quick ]; then
  echo "== go test"
  go test -count=1 ./...
  WASQL_TEST_TABLES=dolt go test -count=1 ./embedded/
  (cd sdk/go && go test -count=1 ./...)
  exit 0
fi

echo "== go test -race"
go test -race -count=1 ./...
(cd sdk/go && go test -race -count=1 ./...)
echo "== the embedded engine's tests again, on Dolt's tables (the run above uses the memory tables)"
WASQL_TEST_TABLES=dolt go test -race -count=1 ./embedded/

echo "== integration: the wasql binary with real clients"
go test -tags integration -count=1 ./integration/

echo "== fuzz (${FUZZTIME:=10s} each)"
go test -run XXX -fuzz '^FuzzRewrite$' -fuzztime "$FUZZTIME" ./udf/internal/rewrite/
go test -run XXX -fuzz '^FuzzSemantics$' -fuzztime "$FUZZTIME" ./udf/internal/rewrite/
go test -run XXX -fuzz '^FuzzColumnarResult$' -fuzztime "$FUZZTIME" ./udf/
go test -run XXX -fuzz '^FuzzDecodeFunction$' -fuzztime "$FUZZTIME" ./catalog/boltstore/
go test -run XXX -fuzz '^FuzzParseDDL$' -fuzztime "$FUZZTIME" ./sqlfuncs/
go test -run XXX -fuzz '^FuzzSplit$' -fuzztime "$FUZZTIME" ./proxy/
go test -run XXX -fuzz '^FuzzPGMessages$' -fuzztime "$FUZZTIME" ./proxy/
go test -run XXX -fuzz '^FuzzCheapTest$' -fuzztime "$FUZZTIME" ./proxy/upstream/
go test -run XXX -fuzz '^FuzzTranslate$' -fuzztime "$FUZZTIME" ./embedded/pgsql/
go test -run XXX -fuzz '^FuzzClean$' -fuzztime "$FUZZTIME" ./internal/wiretext/
go test -run XXX -fuzz '^FuzzGuardCommand$' -fuzztime "$FUZZTIME" ./embedded/
go test -run XXX -fuzz '^FuzzDecodeArray$' -fuzztime "$FUZZTIME" ./proxy/
go test -run XXX -fuzz '^FuzzCopyReader$' -fuzztime "$FUZZTIME" ./proxy/
go test -run XXX -fuzz '^FuzzParseMillis$' -fuzztime "$FUZZTIME" ./embedded/
