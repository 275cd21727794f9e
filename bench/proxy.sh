#!/usr/bin/env bash
# Proxy mode against PostgreSQL directly, in one run, on the topology of scripts/proxy-topology.sh
# (PostgreSQL 15 with fsync = off, proxy wasql1; clients log in with their own password, passed
# through): pgbench -S (select only) and its default TPC-B-like script, 1 and 8 clients, through
# the proxy and directly, alternating, RUNS times each (median, ratio proxy/direct); the added
# latency of SELECT 1 (pgbench -f, 1 client, proxy - direct); COPY of 1M rows (a bigint, b bigint,
# s text) in and out with psql's \copy, through the proxy and directly. For the floor of any
# proxy, pgbench -S and SELECT 1 also run through bench/tcprelay (bytes copied both ways, nothing
# else). Prints a Markdown table, with the load average before and after (the machine is shared).
# Needs postgresql-15 (server), postgresql-client (psql, pgbench), python3.
#   bench/proxy.sh [seconds per pgbench point, default 10] [runs, default 3] [pgbench scale, default 10]
# PROXY_CPUPROFILE=FILE: also a CPU profile of a proxy (wasql serve --cpuprofile) during one more
# pgbench -S with 8 clients; read it with go tool pprof -top BINARY FILE (BINARY is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
runs=${2:-3}
scale=${3:-10}
tmp=$(mktemp -d)
go build -o "$tmp/wasql" ./cmd/wasql
go build -o "$tmp/tcprelay" ./bench/tcprelay
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
export TOPOLOGY_WASQL_BIN=$tmp/wasql
export PG_CONF=$'fsync = off\nshared_buffers = 256MB'
relay_pid=
trap '[[ -n $relay_pid ]] && kill $relay_pid; scripts/proxy-topology.sh stop "$tmp/topo" >/dev/null; rm -rf "$tmp"' EXIT
scripts/proxy-topology.sh start "$tmp/topo" >"$tmp/addresses"
direct_port=$(awk '$1 == "postgres" {split($2, a, ":"); print a[2]}' "$tmp/addresses")
proxy_port=$(awk '$1 == "wasql1" {split($2, a, ":"); print a[2]}' "$tmp/addresses")
relay_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tmp/tcprelay" -listen "127.0.0.1:$relay_port" -to "127.0.0.1:$direct_port" 2>"$tmp/relay.log" &
relay_pid=$!
# no TLS on either side (the proxy offers it, PostgreSQL here does not): loopback clients need none
export PGHOST=127.0.0.1 PGUSER=wasql PGPASSWORD=wasql PGDATABASE=wasql PGSSLMODE=disable
port_of() {
  case $1 in
  proxy) echo "$proxy_port" ;;
  relay) echo "$relay_port" ;;
  *) echo "$direct_port" ;;
  esac
}

pgbench -i -q -s "$scale" -p "$direct_port" >/dev/null 2>&1
echo 'SELECT 1;' >"$tmp/select1.sql"

# pgb SIDE CLIENTS ARGS...: one pgbench point; prints "tps latency_ms".
pgb() {
  local side=$1 c=$2
  shift 2
  pgbench -n -p "$(port_of "$side")" -c "$c" -j "$((c < 2 ? c : 2))" -T "$secs" "$@" 2>&1 |
    awk '/latency average/ {lat=$4} /^tps/ {tps=$3} END {if (tps == "") exit 1; print tps, lat}'
}

: >"$tmp/results" # lines: KIND CLIENTS SIDE VALUE
for ((r = 1; r <= runs; r++)); do
  for kind in select tpcb; do
    for c in 1 8; do
      args=()
      [[ $kind == select ]] && args=(-S)
      # alternate the order, so neither side always runs on a warmer cache
      sides=(direct proxy)
      ((r % 2 == 0)) && sides=(proxy direct)
      [[ $kind == select ]] && sides+=(relay)
      for side in "${sides[@]}"; do
        read -r tps _ < <(pgb "$side" "$c" "${args[@]}")
        echo "$kind $c $side $tps" >>"$tmp/results"
      done
    done
  done
  for side in direct proxy relay; do
    read -r _ lat < <(pgb "$side" 1 -f "$tmp/select1.sql")
    echo "select1 1 $side $lat" >>"$tmp/results"
  done
done

if [[ -n ${PROXY_CPUPROFILE:-} ]]; then
  prof_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cp "$tmp/wasql" "$PROXY_CPUPROFILE.bin"
  env -u PGSSLMODE "$tmp/wasql" serve --cpuprofile "$PROXY_CPUPROFILE" --data-dir "$tmp/prof" --pg-addr "127.0.0.1:$prof_port" --metrics-addr "" \
    --upstream "postgres://wasql:wasql@127.0.0.1:$direct_port/wasql?sslmode=disable" >"$tmp/prof.log" 2>&1 &
  prof_pid=$!
  until psql -X -q -p "$prof_port" -c 'SELECT 1' >/dev/null 2>&1; do sleep 0.1; done
  prof_tps=$(pgbench -n -p "$prof_port" -c 8 -j 2 -T "$secs" -S 2>&1 | awk '/^tps/ {print $3}')
  kill -TERM $prof_pid
  wait $prof_pid || true
  echo "CPU profile of the proxy during pgbench -S, 8 clients ($prof_tps TPS): go tool pprof -top $PROXY_CPUPROFILE.bin $PROXY_CPUPROFILE" >&2
fi

# COPY: the file is made once; each side loads it into an empty table and writes it out.
psql -X -q -p "$direct_port" -c "CREATE TABLE copy_t (a bigint, b bigint, s text)"
psql -X -q -p "$direct_port" -c "\\copy (SELECT g, g * 2, md5(g::text) FROM generate_series(1, 1000000) g) TO '$tmp/rows.txt'"
now() { date +%s.%N; }
for ((r = 1; r <= runs; r++)); do
  for side in direct proxy; do
    p=$(port_of "$side")
    psql -X -q -p "$direct_port" -c "TRUNCATE copy_t" -c "CHECKPOINT"
    t0=$(now)
    psql -X -q -v ON_ERROR_STOP=1 -p "$p" -c "\\copy copy_t FROM '$tmp/rows.txt'"
    t1=$(now)
    psql -X -q -v ON_ERROR_STOP=1 -p "$p" -c "\\copy copy_t TO '$tmp/out.txt'"
    t2=$(now)
    cmp -s "$tmp/rows.txt" "$tmp/out.txt" || { echo "bench/proxy.sh: COPY out through $side differs from what went in" >&2; exit 1; }
    echo "copyin 1 $side $(awk "BEGIN {print $t1 - $t0}")" >>"$tmp/results"
    echo "copyout 1 $side $(awk "BEGIN {print $t2 - $t1}")" >>"$tmp/results"
  done
done

pgversion=$(psql -X -A -t -p "$direct_port" -c "SHOW server_version")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tmp/results" "$secs" "$runs" "$scale" "$pgversion" "$load_before" "$load_after" "$(nproc)" <<'PY'
import sys, statistics
path, secs, runs, scale, version, load_before, load_after, cores = sys.argv[1:]
vals = {}
for line in open(path):
    kind, c, side, v = line.split()
    vals.setdefault((kind, int(c), side), []).append(float(v))
med = {k: statistics.median(v) for k, v in vals.items()}
def runs_of(k, fmt): return " ".join(fmt % x for x in vals[k])
print(f"PostgreSQL {version} (fsync = off), pgbench scale {scale}, {secs} s per point, median of {runs} runs;")
print(f"{cores} cores, load average {load_before} before, {load_after} after\n")
print("| workload | clients | direct | through the proxy | proxy/direct | runs direct; proxy | plain TCP relay (relay/direct) |")
print("|---|---:|---:|---:|---:|---|---:|")
def relay(k, fmt, ratio):
    r = (k[0], k[1], "relay")
    if r not in med: return "–"
    return f"{fmt % med[r]} ({ratio(med[r], med[k]):s})"
names = {"select": "pgbench -S (TPS)", "tpcb": "pgbench TPC-B-like (TPS)"}
for kind in ("select", "tpcb"):
    for c in (1, 8):
        d, p = med[(kind, c, "direct")], med[(kind, c, "proxy")]
        print(f"| {names[kind]} | {c} | {d:.0f} | {p:.0f} | {p/d:.2f}× | {runs_of((kind, c, 'direct'), '%.0f')}; {runs_of((kind, c, 'proxy'), '%.0f')} | {relay((kind, c, 'direct'), '%.0f', lambda r, d: f'{r/d:.2f}×')} |")
d, p = med[("select1", 1, "direct")], med[("select1", 1, "proxy")]
print(f"| SELECT 1, latency (ms) | 1 | {d:.3f} | {p:.3f} | +{(p-d)*1000:.0f} µs | {runs_of(('select1', 1, 'direct'), '%.3f')}; {runs_of(('select1', 1, 'proxy'), '%.3f')} | {relay(('select1', 1, 'direct'), '%.3f', lambda r, d: f'+{(r-d)*1000:.0f} µs')} |")
for kind, name in (("copyin", "\\copy 1M rows in (s)"), ("copyout", "\\copy 1M rows out (s)")):
    d, p = med[(kind, 1, "direct")], med[(kind, 1, "proxy")]
    print(f"| {name} | 1 | {d:.2f} | {p:.2f} | {p/d:.2f}× | {runs_of((kind, 1, 'direct'), '%.2f')}; {runs_of((kind, 1, 'proxy'), '%.2f')} | – |")
PY
