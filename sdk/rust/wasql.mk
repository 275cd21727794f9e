# wasql.mk - build a wasql function crate with Debian's Rust (rustc 1.63, libstd-rust-dev-wasm32),
# offline. From the crate's Makefile:
#
#     NAME := slugify
#     include path/to/sdk/rust/wasql.mk
#
# and `make` builds NAME.wasm (the cdylib target/wasm32-wasi/release/NAME.wasm, copied).
# Debian's cargo and rustc are named: a rustup toolchain first on PATH lacks the offline wasm32-wasi std.
CARGO ?= /usr/bin/cargo
export RUSTC ?= /usr/bin/rustc
WASQL_RUST_SDK := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

$(NAME).wasm: Cargo.toml $(wildcard src/*.rs) $(WASQL_RUST_SDK)/src/lib.rs
	CARGO_TARGET_DIR=target $(CARGO) build --offline --release --target wasm32-wasi
	cp target/wasm32-wasi/release/$(NAME).wasm $@

.PHONY: clean
clean:
	rm -rf target *.wasm
