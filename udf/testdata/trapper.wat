;; A columnar integer -> integer function whose batch export writes "call" to stderr, then calls
;; $div_helper, which divides by the first row's value: 0 traps with "integer divide by zero". Built with --debug-names so the
;; name section names the frames of the trap's stack (TestTrapStackNames).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "call\n")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "wasql_abi_v1"))
  (func (export "wasql_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func $div_helper (param $d i32) (result i32)
    (i32.div_s (i32.const 100) (local.get $d)))
  (func $wasql_batch_trapper (export "wasql_batch_trapper") (param $b i32) (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 5))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; args[0].values at 48+8; result.values at 16+8
    (i32.store (i32.load offset=24 (local.get $b))
      (call $div_helper (i32.load (i32.load offset=56 (local.get $b)))))
    (i32.const 0)))
