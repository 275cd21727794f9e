;; A columnar bytea -> text function that echoes its first row to stdout, then reports a row error
;; whose message is that same input: guest text with whatever bytes the test passes (NUL,
;; invalid UTF-8, a megabyte), for TestGuestTextSanitized.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "wasql_abi_v1"))
  (func (export "wasql_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.add (i32.sub (i32.shr_u (global.get $heap) (i32.const 16)) (memory.size)) (i32.const 1))) (i32.const -1))
        (then (return (i32.const 0))))))
    (local.get $p))
  (func (export "wasql_batch_noisy") (param $b i32) (result i32)
    (i32.store (i32.const 0) (i32.load offset=60 (local.get $b)))
    (i32.store (i32.const 4) (i32.load offset=64 (local.get $b)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store offset=36 (local.get $b) (i32.const 0))
    (i32.store offset=40 (local.get $b) (i32.load offset=60 (local.get $b)))
    (i32.store offset=44 (local.get $b) (i32.load offset=64 (local.get $b)))
    (i32.const 1)))
