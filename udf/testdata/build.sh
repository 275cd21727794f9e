#!/usr/bin/env bash
# Rebuilds the WAT fixtures with Debian's wabt: apt-get install -y wabt
set -euo pipefail
cd "$(dirname "$0")"
for f in *.wat; do
  wat2wasm --enable-threads "$f" -o "${f%.wat}.wasm"
done
# With a name section: the trap tests check the stack's function names.
wat2wasm --debug-names trapper.wat -o trapper.wasm
# Hostile modules (udf/hostile_test.go): some are invalid on purpose, so no validation here.
(cd hostile && python3 gen.py)
for f in hostile/*.wat; do
  wat2wasm --no-check --enable-all "$f" -o "${f%.wat}.wasm"
done
