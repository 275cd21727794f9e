/work/main/sdk/rust/example/target/wasm32-wasi/release/deps/wasql-32332c39d9313ce5.rmeta: /work/main/sdk/rust/src/lib.rs

/work/main/sdk/rust/example/target/wasm32-wasi/release/deps/libwasql-32332c39d9313ce5.rlib: /work/main/sdk/rust/src/lib.rs

/work/main/sdk/rust/example/target/wasm32-wasi/release/deps/wasql-32332c39d9313ce5.d: /work/main/sdk/rust/src/lib.rs

/work/main/sdk/rust/src/lib.rs:
