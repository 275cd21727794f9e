#!/usr/bin/env bash
# Issue 13's density numbers (bench/density): 100,000 functions over 10,000 distinct small
# modules created over the Postgres wire of a fresh embedded server; its RSS idle; a restart
# and its first query; first calls of functions not loaded since (disk-cache hits) against
# second calls. Builds wasql and the client, runs them, prints the client's lines.
#
# Then the baseline, in the same run: the build before issue 13 (BASELINE, a git revision;
# BASELINE=none skips it) and this build, both with a tenth of the functions and modules (the
# old build held 1.9 GB for 10,000 functions: 100,000 would not fit).
#
#   bench/density.sh [functions, default 100000] [modules, default 10000] [idle, default 150s: the idle timeout (60 s), the janitor's sweeps (every 15 s) and the collections after them]
#
# The work directory is made under bench/ (not /tmp: on the machine these numbers come from,
# creating a file in /tmp costs ~1 ms of system time, and every module compiled writes one
# into the compiled-code cache).
set -euo pipefail
cd "$(dirname "$0")/.."
fns=${1:-100000} mods=${2:-10000} idle=${3:-150s}
baseline=${BASELINE:-463ca51^} # the commit before lazy loading
work=$(mktemp -d "$PWD/bench/.density.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/wasql" ./cmd/wasql
go build -o "$work/density" ./bench/density
if [ "$baseline" != none ]; then
	mkdir "$work/old"
	git archive "$baseline" | tar -x -C "$work/old"
	(cd "$work/old" && go build -o "$work/wasql-old" ./cmd/wasql)
fi
run() { # label binary functions modules
	echo "== $1: $(basename "$2"), $3 functions over $4 modules; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	rm -rf "$work/data" "$work/serve.log"
	"$work/density" -bin "$2" -dir "$work" -functions "$3" -modules "$4" -conns 4 -calls 200 -idle "$idle"
}
run "this build" "$work/wasql" "$fns" "$mods"
if [ "$baseline" != none ]; then
	run "baseline $baseline" "$work/wasql-old" $((fns / 10)) $((mods / 10))
	run "this build, baseline's size" "$work/wasql" $((fns / 10)) $((mods / 10))
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
