#!/usr/bin/env bash
# Issue 11's numbers (item 7): wasm functions through the proxy against their plpgsql / built-in
# twins in PostgreSQL directly, both sides in the same run, on one throwaway PostgreSQL 15
# (bench/pgproxy.bash: fsync, jit and parallel workers off) with a wasql proxy in front of it.
# Table t of ROWS rows (id, a bigint, b bigint, s text; a, b and s as bench/postgres.sh) with an
# index on b; fib and slugify created through the proxy, fib_plpgsql in PostgreSQL.
#
#   fib:    SELECT sum(fib(a % 30)) FROM t          vs  sum(fib_plpgsql(a % 30)) directly
#   slug:   SELECT sum(length(slugify(s))) FROM t   vs  the regexp_replace form directly
#   stream: SELECT id, slugify(s) FROM t            vs  SELECT id, s FROM t directly, each read
#           to its last row by bench/streamread (pgx, binary results)
#   where:  SELECT a, b FROM t WHERE b = V AND fib(a % 30) > 0 vs the same with fib_plpgsql
#           directly, and the index lookup alone (WHERE b = V) directly: pgbench -t N, the
#           latency average; the EXPLAIN of each is printed
#
# fib, slug and stream are timed with psql's \timing (server and wire, not connecting); each
# pair runs RUNS times (plus one warm-up), alternating which side goes first; medians and
# ratios are printed as a Markdown table, with the load average before and after (the machine
# may be shared), then EXPLAIN and EXPLAIN ANALYZE of the where query through the proxy and
# EXPLAIN of its twin directly. Every answer through the proxy must equal PostgreSQL's, and
# EXPLAIN through the proxy must work, else exit 1.
#   bench/proxy-wasm.sh [rows, default 1000000] [runs, default 5] [pgbench transactions, default 500]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${2:-5}
txs=${3:-500}
source bench/pgproxy.bash
tmp=$(mktemp -d)
trap pgproxy_stop EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
pgproxy_start "$tmp"

direct_psql <<SQL
CREATE TABLE t AS
  SELECT i AS id, (i * 2654435761) % 1000000000 AS a, (i * 40503) % 1000000000 AS b,
         w[1 + (i*7)%10] || ' ' || w[1 + (i*13)%10] || ', ' || w[1 + (i*17)%10] || ' - ' || w[1 + (i*19)%10] || ' ' || w[1 + (i*23)%10] AS s
  FROM generate_series(1::bigint, $rows) i,
       (SELECT ARRAY['Hello','World','WebAssembly','SQL','user-defined','Functions','in','Go','wazero','2026!'] AS w) words;
CREATE INDEX t_b ON t (b);
VACUUM (FREEZE, ANALYZE) t;
CREATE FUNCTION fib_plpgsql(n bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS \$\$
DECLARE a bigint := 0; b bigint := 1; t bigint;
BEGIN FOR i IN 1..n LOOP t := a + b; a := b; b := t; END LOOP; RETURN a; END \$\$;
SQL
# V: the b of a row in the middle, one row of the table (b is a bijection of i below 10^9)
v=$(direct_psql -c "SELECT b FROM t WHERE id = $((rows / 2 + 1))")
slug_sql="trim(both '-' from regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g'))"

# NAME|DIRECT SQL|PROXY SQL, timed with psql
psql_pairs=(
  "fib|SELECT sum(fib_plpgsql(a % 30)) FROM t|SELECT sum(fib(a % 30)) FROM t"
  "slug|SELECT sum(length($slug_sql)) FROM t|SELECT sum(length(slugify(s))) FROM t"
)
where_direct="SELECT a, b FROM t WHERE b = $v AND fib_plpgsql(a % 30) > 0"
where_proxy="SELECT a, b FROM t WHERE b = $v AND fib(a % 30) > 0"
where_index="SELECT a, b FROM t WHERE b = $v"

# timed SIDE SQL: prints "MS RESULT" (the result's lines joined by ';').
timed() {
  local side=$1 sql=$2
  { echo '\timing on'; echo "$sql;"; } | "${side}_psql" 2>&1 | awk '
    /^Time: / {ms = $2; next}
    {res = res (res == "" ? "" : ";") $0}
    END {if (ms == "") {print "no timing: " res > "/dev/stderr"; exit 1}; print ms, res}'
}

fail() {
  echo "bench/proxy-wasm.sh: $*" >&2
  exit 1
}

: >"$tmp/results" # lines: NAME SIDE MS
for ((pass = 0; pass <= runs; pass++)); do
  sides=(direct proxy)
  ((pass % 2 == 1)) && sides=(proxy direct)
  for pair in "${psql_pairs[@]}"; do
    IFS='|' read -r name dsql psql_ <<<"$pair"
    declare -A res=()
    for side in "${sides[@]}"; do
      sql=$dsql
      [[ $side == proxy ]] && sql=$psql_
      out=$(timed "$side" "$sql") || fail "$name through $side: $sql: $out"
      read -r ms r <<<"$out"
      res[$side]=$r
      ((pass > 0)) && echo "$name $side $ms" >>"$tmp/results"
    done
    [[ ${res[direct]} == "${res[proxy]}" ]] || fail "$name: the proxy answered ${res[proxy]}, PostgreSQL ${res[direct]}"
    echo "$name|${res[direct]}" >"$tmp/answer.$name"
  done
  declare -A nrows=()
  for side in "${sides[@]}"; do
    url=$DIRECT_URL q="SELECT id, s FROM t"
    [[ $side == proxy ]] && url=$PROXY_URL q="SELECT id, slugify(s) FROM t"
    out=$("$tmp/streamread" -url "$url" -query "$q") || fail "stream through $side: $q"
    ms=$(sed -n 's/.* ms=\([0-9.]*\).*/\1/p' <<<"$out")
    nrows[$side]=$(sed -n 's/^rows=\([0-9]*\).*/\1/p' <<<"$out")
    ((pass > 0)) && echo "stream $side $ms" >>"$tmp/results"
  done
  [[ ${nrows[direct]} == "${nrows[proxy]}" && ${nrows[direct]} == "$rows" ]] ||
    fail "stream: ${nrows[proxy]} rows through the proxy, ${nrows[direct]} directly, want $rows"
done

# where: the answers once, then pgbench's latency average per run
wd=$(timed direct "$where_direct") || fail "where directly: $wd"
wp=$(timed proxy "$where_proxy") || fail "where through the proxy: $wp"
[[ ${wd#* } == "${wp#* }" ]] || fail "where: the proxy answered '${wp#* }', PostgreSQL '${wd#* }'"
echo "$where_direct;" >"$tmp/where_direct.sql"
echo "$where_proxy;" >"$tmp/where_proxy.sql"
echo "$where_index;" >"$tmp/where_index.sql"
pgb() { # pgb PORT FILE: the latency average (ms) of TXS transactions of FILE
  PGPASSWORD=unused pgbench -n -h 127.0.0.1 -p "$1" -U postgres -t "$txs" -f "$2" bench 2>&1 |
    awk '/latency average/ {lat = $4} END {if (lat == "") exit 1; print lat}'
}
for ((pass = 0; pass <= runs; pass++)); do
  d=$(pgb "$PG_PORT" "$tmp/where_direct.sql") || fail "pgbench where directly"
  p=$(pgb "$PROXY_PORT" "$tmp/where_proxy.sql") || fail "pgbench where through the proxy"
  i=$(pgb "$PG_PORT" "$tmp/where_index.sql") || fail "pgbench index lookup directly"
  if ((pass > 0)); then
    echo "where direct $d" >>"$tmp/results"
    echo "where proxy $p" >>"$tmp/results"
    echo "where index $i" >>"$tmp/results"
  fi
done

pgversion=$(direct_psql -c "SHOW server_version")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tmp/results" "$rows" "$runs" "$txs" "$pgversion" "$load_before" "$load_after" "$(nproc)" "$v" <<'PY'
import sys, statistics
path, rows, runs, txs, version, lb, la, cores, v = sys.argv[1:]
vals = {}
for line in open(path):
    name, side, ms = line.split()
    vals.setdefault((name, side), []).append(float(ms))
med = {k: statistics.median(x) for k, x in vals.items()}
print(f"PostgreSQL {version} (fsync, jit, parallel workers off), table t of {int(rows):,} rows; median of {runs} runs")
print(f"{cores} cores, load average {lb} before, {la} after\n")
print("| query | directly (the twin) | ms | through the proxy (wasm) | ms | proxy/direct | runs direct; proxy (ms) |")
print("|---|---|---:|---|---:|---:|---|")
rowsd = [
    ("fib", "sum(fib_plpgsql(a % 30))", "sum(fib(a % 30))", "%.0f"),
    ("slug", "sum(length(regexp_replace form))", "sum(length(slugify(s)))", "%.0f"),
    ("stream", "SELECT id, s FROM t", "SELECT id, slugify(s) FROM t", "%.0f"),
    ("where", f"b = {v} AND fib_plpgsql(a % 30) > 0", f"b = {v} AND fib(a % 30) > 0", "%.3f"),
]
for name, d, p, fmt in rowsd:
    dm, pm = med[(name, "direct")], med[(name, "proxy")]
    runs_s = " ".join(fmt % x for x in vals[(name, "direct")]) + "; " + " ".join(fmt % x for x in vals[(name, "proxy")])
    faster = f" ({dm / pm:.2f}× faster)" if pm < dm else ""
    print(f"| {name} | `{d}` | {fmt % dm} | `{p}` | {fmt % pm} | {pm / dm:.2f}×{faster} | {runs_s} |")
im = med[("where", "index")]
print(f"| where: the index lookup alone | `b = {v}` | {im:.3f} | | | proxy/lookup {med[('where', 'proxy')] / im:.2f}× | {' '.join('%.3f' % x for x in vals[('where', 'index')])} |")
print(f"\nfib, slug: psql \\timing; stream: bench/streamread to the last row; where: pgbench -t {txs}, latency average (ms).")
PY

echo
echo "EXPLAIN $where_proxy (through the proxy):"
explain_ok=1
proxy_psql -c "EXPLAIN $where_proxy" 2>&1 || explain_ok=
echo
echo "EXPLAIN ANALYZE $where_proxy (through the proxy):"
proxy_psql -c "EXPLAIN ANALYZE $where_proxy" 2>&1 || explain_ok=
echo
echo "EXPLAIN $where_direct (directly):"
direct_psql -c "EXPLAIN $where_direct"
[[ -n $explain_ok ]] || fail "EXPLAIN through the proxy failed (above); every other number was measured"
