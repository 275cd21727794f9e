#!/usr/bin/env bash
# Runs the wasql engine benchmark and the PostgreSQL 15 comparison in one go (same rows, same
# machine, one after the other). Results go to stdout as markdown tables.
#   bench/run.sh [rows] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${2:-5}
go run ./bench/sqlbench -rows "$rows" -runs "$runs"
echo
bench/postgres.sh "$rows" "$runs"
