#!/usr/bin/env bash
# Rebuilds the WAT guests of the differential corpus with Debian's wabt: apt-get install -y wabt
set -euo pipefail
cd "$(dirname "$0")"
for f in *.wat; do wat2wasm "$f" -o "${f%.wat}.wasm"; done
