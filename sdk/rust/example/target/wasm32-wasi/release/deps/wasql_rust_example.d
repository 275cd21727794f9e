/work/main/sdk/rust/example/target/wasm32-wasi/release/deps/wasql_rust_example.wasm: src/lib.rs

/work/main/sdk/rust/example/target/wasm32-wasi/release/deps/wasql_rust_example.d: src/lib.rs

src/lib.rs:
