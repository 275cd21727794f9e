#!/usr/bin/env bash
# Issue 13's density numbers (bench/density): 100,000 functions over 10,000 distinct small
# modules created over the Postgres wire of a fresh embedded server; its RSS idle; a restart
# and its first query; first calls of functions not loaded since (disk-cache hits) against
# second calls. Builds wasql and the client, runs them, prints the client's lines.
#
#   bench/density.sh [functions, default 100000] [modules, default 10000] [idle, default 90s: past the idle timeout (60 s) and the janitor's next sweep (every 15 s)]
#
# The work directory is made under bench/ (not /tmp: on the machine these numbers come from,
# creating a file in /tmp costs ~1 ms of system time, and every module compiled writes one
# into the compiled-code cache).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "$PWD/bench/.density.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/wasql" ./cmd/wasql
go build -o "$work/density" ./bench/density
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/density" -bin "$work/wasql" -dir "$work" -functions "${1:-100000}" -modules "${2:-10000}" -conns 4 -calls 200 -idle "${3:-90s}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
