/work/main/sdk/rust/example/target/wasm32-wasi/release/wasql_rust_example.wasm: /work/main/sdk/rust/example/src/lib.rs /work/main/sdk/rust/src/lib.rs
