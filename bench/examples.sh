#!/usr/bin/env bash
# Issue 12's numbers (item 6): each example of examples/ through the proxy against the closest
# PostgreSQL built-in or a plpgsql version on the same rows directly, both sides in the same
# run, on one throwaway PostgreSQL 15 with a wasql proxy in front of it (bench/pgproxy.bash:
# fsync, jit and parallel workers off). Every example is built with its Makefile and registered
# through the proxy from its module's signatures; an example that is missing is skipped, said so.
#
# Table t of ROWS rows (s: a short title, lat/lon: points, doc: a JSON order, url, email, card:
# a card-number-like string, ver: a semver). Each pair sums or counts over t so that only one
# row crosses the wire; the twins are not identical functions (the table names each one) but do
# the same job on the same rows. Per-row cost = median time / ROWS. Module sizes are printed too.
#
#   bench/examples.sh [rows, default 200000] [runs, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-200000}
runs=${2:-5}
source bench/pgproxy.bash
tmp=$(mktemp -d)
trap pgproxy_stop EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
pgproxy_start "$tmp"
go build -o "$tmp/sigs" ./bench/sigs

direct_psql <<SQL
CREATE SCHEMA fz;
CREATE EXTENSION fuzzystrmatch SCHEMA fz;
CREATE TABLE t AS
  SELECT i AS id,
         w[1 + (i*7)%10] || ' ' || w[1 + (i*13)%10] || ', ' || w[1 + (i*17)%10] AS s,
         w[1 + (i*11)%10] || w[1 + (i*3)%10] AS s2,
         ((i * 7919) % 180000) / 1000.0 - 90 AS lat, ((i * 104729) % 360000) / 1000.0 - 180 AS lon,
         json_build_object('order', json_build_object('id', i, 'items', json_build_array(json_build_object('sku', 'A-' || i % 97, 'qty', i % 5))))::json AS doc,
         'https://user@shop' || i % 50 || '.example.com:8443/p/' || i || '?ref=mail&q=' || i % 7 || '#top' AS url,
         ' ' || replace(w[1 + (i*7)%10], ' ', '') || '.' || i % 1000 || '+tag' || i % 3 || '@GoogleMail.com' AS email,
         lpad(((i * 2654435761) % 10000000000000000)::text, 16, '0') AS card,
         (i % 3) || '.' || (i % 11) || '.' || (i % 7) || CASE WHEN i % 4 = 0 THEN '-rc.' || i % 3 ELSE '' END AS ver
  FROM generate_series(1::bigint, $rows) i,
       (SELECT ARRAY['Hello','World','WebAssembly','SQL','user-defined','Crème Brûlée','in','Go','wazero','2026!'] AS w) words;
VACUUM (FREEZE, ANALYZE) t;
CREATE FUNCTION luhn_plpgsql(s text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS \$\$
DECLARE sum int := 0; d int; dbl boolean := false; c text; n int := 0;
BEGIN
  FOR i IN REVERSE length(s)..1 LOOP
    c := substr(s, i, 1);
    CONTINUE WHEN c IN (' ', '-');
    IF c !~ '^[0-9]$' THEN RETURN false; END IF;
    d := c::int;
    IF dbl THEN d := d * 2; IF d > 9 THEN d := d - 9; END IF; END IF;
    sum := sum + d; dbl := NOT dbl; n := n + 1;
  END LOOP;
  RETURN n > 0 AND sum % 10 = 0;
END \$\$;
CREATE FUNCTION semver_plpgsql(a text, b text) RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS \$\$
DECLARE x int[] := string_to_array(split_part(a, '-', 1), '.')::int[]; y int[] := string_to_array(split_part(b, '-', 1), '.')::int[];
        pa text := nullif(substr(a, length(split_part(a, '-', 1)) + 2), ''); pb text := nullif(substr(b, length(split_part(b, '-', 1)) + 2), '');
BEGIN
  IF x < y THEN RETURN -1; ELSIF x > y THEN RETURN 1; END IF;
  IF pa IS NULL AND pb IS NULL THEN RETURN 0; ELSIF pa IS NULL THEN RETURN 1; ELSIF pb IS NULL THEN RETURN -1; END IF;
  RETURN sign(CASE WHEN pa < pb THEN -1 WHEN pa > pb THEN 1 ELSE 0 END);
END \$\$;
SQL

: >"$tmp/sizes"
for cases in examples/*/cases.sql; do
  dir=$(dirname "$cases") name=$(basename "$dir")
  make -s -C "$dir" >/dev/null 2>&1 || { echo "skipped $name: make -C $dir failed" >&2; continue; }
  lang=c
  [[ -f $dir/Cargo.toml ]] && lang=rust
  [[ -f $dir/go.mod ]] && lang=go
  [[ -f $dir/package.json ]] && lang=assemblyscript
  echo "$name $lang $(stat -c %s "$dir/$name.wasm")" >>"$tmp/sizes"
  for fn in $("$tmp/sigs" "$dir/$name.wasm"); do
    printf '\\set m `base64 -w0 %s`\nCREATE OR REPLACE FUNCTION %s LANGUAGE wasm AS :'"'"'m'"'"';\n' "$dir/$name.wasm" "$fn" |
      proxy_psql >/dev/null && echo "$fn" >>"$tmp/have"
  done
done

slug_sql="trim(both '-' from regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g'))"
hav_sql="2 * 6371 * asin(least(1, sqrt(sin(radians(0 - lat) / 2)^2 + cos(radians(lat)) * cos(radians(0)) * sin(radians(0 - lon) / 2)^2)))"
email_sql="lower(regexp_replace(replace(split_part(trim(email), '@', 1), '.', ''), '\\+.*', '')) || '@gmail.com'"
# pair NAME DIRECT_SQL PROXY_SQL: NAME is the example function both sides compute with
: >"$tmp/pairs"
pair() { printf '%s\x1f%s\x1f%s\n' "$1" "$2" "$3" >>"$tmp/pairs"; }
pair slugify "SELECT sum(length($slug_sql)) FROM t" \
  "SELECT sum(length(slugify(s))) FROM t"
pair haversine_km "SELECT round(sum($hav_sql)) FROM t" \
  "SELECT round(sum(haversine_km(lat, lon, 0, 0))) FROM t"
pair json_extract "SELECT count(doc #>> '{order,items,0,sku}') FROM t" \
  "SELECT count(json_extract(doc, 'order.items.0.sku')) FROM t"
pair url_part "SELECT count(substring(url from '^[a-z]+://(?:[^@/]*@)?([^:/?#]+)')) FROM t" \
  "SELECT count(url_part(url, 'host')) FROM t"
pair email_normalize "SELECT count(DISTINCT $email_sql) FROM t" \
  "SELECT count(*) FROM (SELECT DISTINCT email_normalize(email) FROM t) e"
pair geohash_encode "SELECT count(DISTINCT substr(md5(lat::text || lon::text), 1, 9)) FROM t" \
  "SELECT count(DISTINCT geohash_encode(lat, lon, 9)) FROM t"
pair luhn_check "SELECT count(*) FILTER (WHERE luhn_plpgsql(card)) FROM t" \
  "SELECT count(*) FILTER (WHERE luhn_check(card)) FROM t"
pair sha256_hex "SELECT count(DISTINCT encode(sha256(convert_to(s, 'UTF8')), 'hex')) FROM t" \
  "SELECT count(DISTINCT sha256_hex(convert_to(s, 'UTF8'))) FROM t"
pair xxhash64 "SELECT count(DISTINCT hashtextextended(s, 0)) FROM t" \
  "SELECT count(DISTINCT xxhash64(s)) FROM t"
pair semver_compare "SELECT sum(semver_plpgsql(ver, '1.5.3')) FROM t" \
  "SELECT sum(semver_compare(ver, '1.5.3')) FROM t"
pair levenshtein "SELECT sum(fz.levenshtein(s, s2)) FROM t" \
  "SELECT sum(levenshtein(s, s2)) FROM t"

timed() { # timed SIDE SQL: prints "MS RESULT"
  local side=$1 sql=$2
  { echo '\timing on'; echo "$sql;"; } | "${side}_psql" 2>&1 | awk '
    /^Time: / {ms = $2; next}
    {res = res (res == "" ? "" : ";") $0}
    END {if (ms == "") {print "no timing: " res > "/dev/stderr"; exit 1}; print ms, res}'
}

: >"$tmp/results"
touch "$tmp/have"
while IFS=$'\x1f' read -r name dsql psql_; do
  grep -qx "$name" "$tmp/have" || { echo "skipped $name: no such example function" >&2; continue; }
  for ((pass = 0; pass <= runs; pass++)); do
    sides=(direct proxy)
    ((pass % 2 == 1)) && sides=(proxy direct)
    for side in "${sides[@]}"; do
      sql=$dsql
      [[ $side == proxy ]] && sql=$psql_
      out=$(timed "$side" "$sql" </dev/null) || { echo "$name through $side failed: $out" >&2; continue 3; }
      read -r ms r <<<"$out"
      ((pass > 0)) && echo "$name $side $ms $r" >>"$tmp/results"
    done
  done
done <"$tmp/pairs"

pgversion=$(direct_psql -c "SHOW server_version")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tmp/results" "$tmp/sizes" "$rows" "$runs" "$pgversion" "$load_before" "$load_after" "$(nproc)" "$tmp/pairs" <<'PY'
import sys, statistics
path, sizes, rows, runs, version, lb, la, cores, pairs = sys.argv[1:]
rows = int(rows)
vals, ans = {}, {}
for line in open(path):
    name, side, ms, *r = line.split(" ", 3) + [""]
    vals.setdefault((name, side), []).append(float(ms))
    ans[(name, side)] = " ".join(r).strip()
print(f"PostgreSQL {version} (fsync, jit, parallel workers off), table t of {rows:,} rows; median of {runs} runs")
print(f"{cores} cores, load average {lb} before, {la} after\n")
print("| function | PostgreSQL twin, directly | ns/row | wasm through the proxy | ns/row | proxy/direct | answers (direct; proxy) |")
print("|---|---|---:|---|---:|---:|---|")
for p in open(pairs):
    name, d, pr = p.rstrip("\n").split("\x1f")
    if (name, "direct") not in vals or (name, "proxy") not in vals:
        continue
    dm, pm = (statistics.median(vals[(name, s)]) * 1e6 / rows for s in ("direct", "proxy"))
    print(f"| {name} | `{d}` | {dm:.0f} | `{pr}` | {pm:.0f} | {pm / dm:.2f}× | {ans[(name, 'direct')]}; {ans[(name, 'proxy')]} |")
print("\n| example | language | module bytes |\n|---|---|---:|")
for line in open(sizes):
    n, lang, size = line.split()
    print(f"| {n} | {lang} | {int(size):,} |")
PY
