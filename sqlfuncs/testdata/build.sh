#!/usr/bin/env bash
# Rebuilds the WAT fixtures with Debian's wabt: apt-get install -y wabt
set -euo pipefail
cd "$(dirname "$0")"
for f in *.wat; do wat2wasm "$f" -o "${f%.wat}.wasm"; done
