;; Targets an ABI version this server does not know.
(module
  (memory (export "memory") 1)
  (func (export "wasql_abi_v2"))
  (func (export "wasql_alloc") (param i32) (result i32) i32.const 8)
  (func (export "wasql_batch_f") (param i32) (result i32) i32.const 0))
