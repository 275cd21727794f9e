#!/usr/bin/env bash
# The sqlbench workloads in PostgreSQL 15 on this machine: native SQL, plpgsql and plpython3u,
# over the same 1M rows (row i as in bench/sqlbench). Starts a throwaway cluster on
# 127.0.0.1:55433 and stops it at the end. Needs: apt-get install -y postgresql-15 postgresql-plpython3-15
#   bench/postgres.sh [rows] [runs]
set -euo pipefail
rows=${1:-1000000}
runs=${2:-5}
bin=/usr/lib/postgresql/15/bin
[[ -x $bin/initdb ]] || { echo "postgresql-15 is not installed" >&2; exit 1; }
dir=$(mktemp -d)
chown postgres "$dir"
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$bin/initdb" -D "$dir/data" --auth=trust --encoding=UTF8 --locale=C.UTF-8 -N >/dev/null
cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = 55433
unix_socket_directories = ''
fsync = off
shared_buffers = 512MB
jit = off
max_parallel_workers_per_gather = 0
autovacuum = off
CONF
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; rm -rf "$dir"' EXIT
psql() { command psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 55433 -U postgres "$@"; }

psql -d postgres <<SQL
CREATE EXTENSION plpython3u;
CREATE TABLE t AS
  SELECT (i * 2654435761) % 1000000000 AS a, (i * 40503) % 1000000000 AS b,
         w[1 + (i*7)%10] || ' ' || w[1 + (i*13)%10] || ', ' || w[1 + (i*17)%10] || ' - ' || w[1 + (i*19)%10] || ' ' || w[1 + (i*23)%10] AS s
  FROM generate_series(1::bigint, $rows) i,
       (SELECT ARRAY['Hello','World','WebAssembly','SQL','user-defined','Functions','in','Go','wazero','2026!'] AS w) words;
VACUUM (FREEZE, ANALYZE) t;
CREATE FUNCTION add_plpgsql(a bigint, b bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$ BEGIN RETURN a + b; END \$\$;
CREATE FUNCTION add_py(a bigint, b bigint) RETURNS bigint LANGUAGE plpython3u IMMUTABLE STRICT AS \$\$ return a + b \$\$;
CREATE FUNCTION fib_plpgsql(n bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
DECLARE a bigint := 0; b bigint := 1; t bigint;
BEGIN FOR i IN 1..n LOOP t := a + b; a := b; b := t; END LOOP; RETURN a; END \$\$;
CREATE FUNCTION fib_py(n bigint) RETURNS bigint LANGUAGE plpython3u IMMUTABLE STRICT AS \$\$
a, b = 0, 1
for _ in range(n):
    a, b = b, a + b
return a
\$\$;
CREATE FUNCTION slug_plpgsql(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
BEGIN RETURN trim(both '-' from regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g')); END \$\$;
CREATE FUNCTION slug_py(s text) RETURNS text LANGUAGE plpython3u IMMUTABLE STRICT AS \$\$
import re
r = GD.get('slug')
if r is None:
    r = GD['slug'] = re.compile('[^a-z0-9]+')
return r.sub('-', s.lower()).strip('-')
\$\$;
SQL

queries=(
  "base: sum(a)|SELECT sum(a) FROM t"
  "base: sum(length(s))|SELECT sum(length(s)) FROM t"
  "base: sum(a % 30)|SELECT sum(a % 30) FROM t"
  "native: sum(a + b)|SELECT sum(a + b) FROM t"
  "plpgsql: sum(add(a, b))|SELECT sum(add_plpgsql(a, b)) FROM t"
  "plpython3u: sum(add(a, b))|SELECT sum(add_py(a, b)) FROM t"
  "plpgsql: sum(fib(a % 30))|SELECT sum(fib_plpgsql(a % 30)) FROM t"
  "plpython3u: sum(fib(a % 30))|SELECT sum(fib_py(a % 30)) FROM t"
  "native: sum(length(slug(s)))|SELECT sum(length(trim(both '-' from regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g')))) FROM t"
  "plpgsql: sum(length(slug(s)))|SELECT sum(length(slug_plpgsql(s))) FROM t"
  "plpython3u: sum(length(slug(s)))|SELECT sum(length(slug_py(s))) FROM t"
)
script="$dir/bench.sql"
: > "$script"
for pass in $(seq 0 "$runs"); do
  for q in "${queries[@]}"; do
    echo "\\echo @@ $pass ${q%%|*}" >> "$script"
    echo "\\timing on" >> "$script"
    echo "${q#*|};" >> "$script"
    echo "\\timing off" >> "$script"
  done
done
psql -d postgres -f "$script" 2>&1 | python3 -c '
import sys, statistics
rows = int(sys.argv[1]); times = {}; order = []; res = {}; cur = None
for line in sys.stdin:
    line = line.strip()
    if line.startswith("@@ "):
        _, p, name = line.split(" ", 2); cur = (int(p), name)
        if name not in order: order.append(name)
    elif line.startswith("Time: "):
        if cur[0] > 0: times.setdefault(cur[1], []).append(float(line.split()[1]))
    elif line and cur: res[cur[1]] = line
med = {k: statistics.median(v) for k, v in times.items()}
print(f"PostgreSQL 15, {rows} rows, median of {len(next(iter(times.values())))} runs, jit off, no parallel workers\n")
print("| query | median ms | ns/row over its base | runs (ms) | result |")
print("|---|---:|---:|---|---|")
for k in order:
    base = "base: sum(length(s))" if "length" in k else ("base: sum(a % 30)" if "% 30" in k else "base: sum(a)")
    per = "–" if k.startswith("base") else f"{(med[k]-med[base])*1e6/rows:.0f}"
    runs_ms = " ".join("%.0f" % x for x in times[k])
    print("| %s | %.1f | %s | %s | %s |" % (k, med[k], per, runs_ms, res.get(k, "")))
' "$rows"
