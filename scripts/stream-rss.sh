#!/usr/bin/env bash
# The 10M-row streaming check of issue 11 outside the tests (integration/proxy_calls_test.go's
# TestProxyWasmStream is the same check on the tests' shared cluster): a throwaway PostgreSQL 15
# and a wasql proxy in front of it (bench/pgproxy.bash), a table big of ROWS rows
# (id, 'Row <id>, Of Big!') made by generate_series, and `SELECT id, slugify(s) FROM big`
# through the proxy read by bench/streamread, which checks every row and the ids, and samples
# the proxy's VmRSS every 20 ms. Prints the rows, the time, the proxy's RSS before and at its
# peak; exits 1 if a row is wrong, the count is not ROWS, or the peak reaches BOUND_MB.
#   scripts/stream-rss.sh [rows, default 10000000] [bound in MB, default 300]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
bound=${2:-300}
source bench/pgproxy.bash
tmp=$(mktemp -d)
trap pgproxy_stop EXIT
pgproxy_start "$tmp"

t0=$(date +%s.%N)
direct_psql -c "CREATE TABLE big AS SELECT g AS id, 'Row ' || g || ', Of Big!' AS s FROM generate_series(1::bigint, $rows) g"
t1=$(date +%s.%N)
rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$PROXY_PID/status"; }
before=$(rss)
out=$("$tmp/streamread" -url "$PROXY_URL" -query "SELECT id, slugify(s) FROM big" -pid "$PROXY_PID" -check-slug)
echo "generated $rows rows in PostgreSQL in $(awk "BEGIN {printf \"%.1f\", $t1 - $t0}") s"
echo "through the proxy: $out"
echo "proxy VmRSS before: $before MB"
read -r got peak < <(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}} END {print v["rows"], v["peak_rss_mb"]}' <<<"$out")
status=0
if [[ $got != "$rows" ]]; then
  echo "FAIL: $got rows, want $rows" >&2
  status=1
fi
if awk "BEGIN {exit !($peak >= $bound)}"; then
  echo "FAIL: the proxy's VmRSS peaked at $peak MB, bound $bound MB" >&2
  status=1
else
  echo "ok: $got rows, peak VmRSS $peak MB < $bound MB"
fi
exit $status
