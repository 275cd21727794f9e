#!/usr/bin/env bash
# Rebuilds the test guests (c_funcs.wasm, go_funcs.wasm) from their sources. Idempotent; run from
# anywhere. Needs clang + lld + wasi-libc + libclang-rt-*-dev-wasm32 (Debian) and Go >= 1.24.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)" # the wasql module

# C guest: a WASI reactor (crt1-reactor.o, exports _initialize), no debug sections.
# Debian's wasi-libc lives in /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi, i.e. sysroot /usr;
# with wasi-sdk set WASI_SYSROOT to its share/wasi-sysroot. At -O2 clang also runs wasm-opt
# (binaryen) if it is on PATH, which changes the bytes (not the behaviour) of the output.
WASI_SYSROOT="${WASI_SYSROOT:-/usr}"
"${CC:-clang}" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -mexec-model=reactor \
	-O2 -std=c11 -Wall -Wextra -Werror \
	-I "$root/sdk/c" -Wl,--strip-debug \
	-o "$here/c_funcs.wasm" "$here/c/funcs.c"

# Go guest: its own module (go/go.mod, which replaces the SDK module with ../sdk/go, as a guest
# outside the repository does); -buildmode=c-shared makes a reactor; -trimpath and
# -buildvcs=false keep the output independent of the checkout's path and git state.
(cd "$here/go" && GOOS=wasip1 GOARCH=wasm GOWORK=off go build -buildmode=c-shared -trimpath -buildvcs=false \
	-o "$here/go_funcs.wasm" .)

chmod 644 "$here/c_funcs.wasm" "$here/go_funcs.wasm"
