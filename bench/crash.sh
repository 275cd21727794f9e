#!/usr/bin/env bash
# Issue 14's crash test at full length: a writer on Dolt's tables, killed with SIGKILL at random
# points, ROUNDS times (100 by default; the test command runs 20); after each kill the data
# directory must hold every acknowledged COMMIT and no half of a transaction
# (embedded/dolt_crash_test.go).
#   bench/crash.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
WASQL_CRASH_ROUNDS=${1:-100} go test -count=1 -run '^TestDoltCrash$' -v ./embedded/ | grep -E 'rounds|^(ok|FAIL|--- )'
