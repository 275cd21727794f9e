;; A guest whose batch export refuses every batch (status 2) with a message holding a NUL, a
;; byte that is not UTF-8 and a control character: the MySQL wire must send it clean.
;; Built with: wat2wasm guest_error.wat -o guest_error.wasm
(module
  (memory (export "memory") 1)
  (data (i32.const 1024) "guest says\00 forged\ff\1b[31m fields")
  (func (export "wasql_abi_v1"))
  (func (export "wasql_alloc") (param $n i32) (result i32) (i32.const 4096))
  (func (export "wasql_batch_bad") (param $b i32) (result i32)
    (i32.store offset=40 (local.get $b) (i32.const 1024))
    (i32.store offset=44 (local.get $b) (i32.const 33))
    (i32.const 2)))
