;; A hostile guest for the Postgres wire (engine/pg_test.go TestPGGuestErrorText): forge(text)
;; fails its first row with an error message that holds NULs and a forged ErrorResponse field.
;; Built with: wat2wasm forge.wat -o forge.wasm
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "wasql_abi_v1"))
  (func (export "wasql_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
  (data (i32.const 512) "bad\00C28P01\00Mpassword authentication failed for user \"admin\"\00\00")
  (func (export "wasql_batch_forge") (param $b i32) (result i32)
    (i32.store offset=36 (local.get $b) (i32.const 0))   ;; error_row
    (i32.store offset=40 (local.get $b) (i32.const 512)) ;; error_ptr
    (i32.store offset=44 (local.get $b) (i32.const 61))  ;; error_len
    (i32.const 1)))
