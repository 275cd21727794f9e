#!/usr/bin/env bash
# pgx-suite.sh: pgx v5's own test suite against PostgreSQL 15 directly and through
# `wasql serve --upstream` (proxy mode), in the same run, and the tests that pass directly but
# fail through the proxy.
#
#   scripts/pgx-suite.sh [packages...]   (default: pgx/v5, pgx/v5/pgconn, pgx/v5/pgtype)
#
# It starts a throwaway PostgreSQL 15 cluster (initdb in a temp dir, as the user postgres when
# run as root; loopback, a free port), runs pgx's testsetup/postgresql_setup.sql on it (the
# extensions hstore and ltree, the domain uint64, the pgx_* roles and the tricky user), starts
# wasql's proxy in front of it with pass-through authentication, and runs
#
#   go test -json <packages>
#
# in a writable copy of pgx's module directory (the module cache is read-only) twice: with
# PGX_TEST_DATABASE pointing at PostgreSQL, then at the proxy. Only PGX_TEST_DATABASE is set:
# the tests that need pgx's other variables (PGX_TEST_UNIX_SOCKET_CONN_STRING, ..._TLS_..., the
# pgbouncer and oauth ones, PGX_SSL_PASSWORD) skip in both runs, so the TLS-client-certificate
# setup (postgresql_ssl.conf, certs/) and oauth_validator_module are not installed here.
#
# Known (pgx v5.12.0, PostgreSQL 15.20, this script's run of 2026-12-02): 2005 tests pass
# directly and the same 2005 through the proxy (pgx/v5 777, pgconn 651, pgtype 577; subtests
# included). TestFatalRxError and TestFatalTxError, which pg_terminate_backend() the pid their
# client got in BackendKeyData, pass because the proxy gives the client its upstream backend's
# pid (proxy.Process).
#
# Output: the counts of passed/failed/skipped tests of each run, and the names of the tests that
# pass directly but fail through the proxy (with their output in $PGX_SUITE_OUT, default a temp
# dir kept at the end). Exit status 0 whether or not tests differ; 1 if setup fails.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
pgbin=/usr/lib/postgresql/15/bin
pgxver=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/jackc/pgx/v5)
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(github.com/jackc/pgx/v5 github.com/jackc/pgx/v5/pgconn github.com/jackc/pgx/v5/pgtype)
if [ ! -x "$pgbin/initdb" ]; then
	echo "PostgreSQL 15 is needed: apt-get install -y postgresql-15" >&2
	exit 1
fi

work=$(mktemp -d /tmp/pgx-suite.XXXXXX)
chmod 755 "$work" # the user postgres reaches its cluster inside
out=${PGX_SUITE_OUT:-$work/out}
mkdir -p "$out"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "${data:-}" ] && [ -d "$data" ]; then as_pg "$pgbin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true; fi
	rm -rf "$work/pg" "$work/pgx" "$work/wasql-data"
}
trap cleanup EXIT

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The cluster: trust for local connections (setup), md5 (which takes SCRAM verifiers too) over TCP.
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
data=$work/pg/data
as_pg "$pgbin/initdb" -D "$data" --auth-local=trust --auth-host=md5 --encoding=UTF8 --locale=C.UTF-8 -U postgres -N >"$work/initdb.log" 2>&1 ||
	{ cat "$work/initdb.log" >&2; exit 1; }
pgport=$(freeport)
as_pg "$pgbin/pg_ctl" -D "$data" -l "$work/pg/log" -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -c port=$pgport -c unix_socket_directories=$work/pg -c fsync=off -c max_connections=300 -c max_prepared_transactions=10" \
	start >/dev/null
psql_local() { as_pg "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/pg" -p "$pgport" -U postgres "$@"; }
psql_local -d postgres -c "CREATE DATABASE pgx_test"
# postgresql_setup.sql as pgx's CI runs it; its \set whoami `whoami` makes a superuser role for
# the user running psql (postgres here, which exists, so nothing).
cp "$(go env GOMODCACHE)/github.com/jackc/pgx/v5@$pgxver/testsetup/postgresql_setup.sql" "$work/setup.sql"
chmod 644 "$work/setup.sql"
psql_local -d pgx_test -f "$work/setup.sql" >"$work/setup.log" 2>&1 || { cat "$work/setup.log" >&2; exit 1; }

# The proxy: pass-through authentication (the client's user and password go upstream), its
# function catalog (schema wasql) in the database postgres, so pgx_test holds only what pgx's
# tests make.
go build -C "$repo" -o "$work/wasql" ./cmd/wasql
proxyport=$(freeport)
"$work/wasql" serve --upstream "postgres://pgx_md5:secret@127.0.0.1:$pgport/postgres?sslmode=disable" \
	--data-dir "$work/wasql-data" --mysql-addr 127.0.0.1:0 --pg-addr "127.0.0.1:$proxyport" \
	--pg-max-connections 290 --metrics-addr "" >"$out/wasql.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	grep -q "Postgres wire on" "$out/wasql.log" && break
	sleep 0.1
done
grep -q "Postgres wire on" "$out/wasql.log" || { echo "wasql serve --upstream did not start:" >&2; cat "$out/wasql.log" >&2; exit 1; }

# A writable copy of pgx's module (its tests write nothing, but go test wants a writable dir).
cp -r "$(go env GOMODCACHE)/github.com/jackc/pgx/v5@$pgxver" "$work/pgx"
chmod -R u+w "$work/pgx"

run() { # name url
	(cd "$work/pgx" && PGX_TEST_DATABASE="$2" go test -json -count=1 -timeout 20m "${pkgs[@]}" >"$out/$1.json" 2>"$out/$1.stderr") || true
}
direct="postgres://pgx_md5:secret@127.0.0.1:$pgport/pgx_test?sslmode=disable"
proxied="postgres://pgx_md5:secret@127.0.0.1:$proxyport/pgx_test?sslmode=disable"
echo "pgx $pgxver: ${pkgs[*]}"
run direct "$direct"
run proxy "$proxied"

# Test results: "Package Test action" for each test's final pass/fail/skip.
results() {
	python3 - "$1" <<'EOF'
import json, re, sys
res = {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("Test") and e.get("Action") in ("pass", "fail", "skip"):
        # Subtest names may hold a temporary directory: the same test in both runs.
        test = re.sub(r"/tmp/[^/']*\d+/", "/tmp/(dir)/", e["Test"])
        res[e["Package"] + " " + test.replace(" ", "_")] = e["Action"]
for k in sorted(res):
    print(k, res[k])
EOF
}
results "$out/direct.json" >"$out/direct.txt"
results "$out/proxy.json" >"$out/proxy.txt"
for r in direct proxy; do
	printf '%-7s passed %5d  failed %4d  skipped %4d\n' "$r" \
		"$(grep -c ' pass$' "$out/$r.txt" || true)" "$(grep -c ' fail$' "$out/$r.txt" || true)" "$(grep -c ' skip$' "$out/$r.txt" || true)"
done
for p in "${pkgs[@]}"; do
	printf '  %-32s direct %4d passed, proxy %4d passed\n' "${p#github.com/jackc/}" \
		"$(grep -c "^$p [^ ]* pass$" "$out/direct.txt" || true)" "$(grep -c "^$p [^ ]* pass$" "$out/proxy.txt" || true)"
done
python3 - "$out" <<'EOF'
import sys
out = sys.argv[1]
def load(n):
    d = {}
    for line in open(f"{out}/{n}.txt"):
        pkg, test, act = line.split()
        d[(pkg, test)] = act
    return d
d, p = load("direct"), load("proxy")
worse = sorted(k for k, a in d.items() if a == "pass" and p.get(k) != "pass")
better = sorted(k for k, a in p.items() if a == "pass" and d.get(k) != "pass")
print(f"pass directly but not through the proxy: {len(worse)}")
for pkg, test in worse:
    print(f"  {pkg.removeprefix('github.com/jackc/')} {test} ({p.get((pkg, test), 'not run')})")
if better:
    print(f"pass through the proxy but not directly: {len(better)}")
    for pkg, test in better:
        print(f"  {pkg.removeprefix('github.com/jackc/')} {test} ({d.get((pkg, test), 'not run')})")
print(f"details: {out}/direct.json, {out}/proxy.json, {out}/wasql.log")
EOF
