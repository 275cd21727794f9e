;; For FuzzColumnarResult: the batch export hands back whatever the test wrote at 256..1024:
;; status at 256, result data ptr at 260, data_len at 264, error_row/ptr/len at 268..280, and the
;; result offsets (rows+1 u32) from 512.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "wasql_abi_v1"))
  (func (export "wasql_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (global.get $heap) (i32.const 16)) (i32.const 1))) (i32.const -1))
        (then (return (i32.const 0))))))
    (local.get $p))
  (func (export "wasql_batch_echo") (param $b i32) (result i32)
    (i32.store offset=28 (local.get $b) (i32.load (i32.const 260)))
    (i32.store offset=32 (local.get $b) (i32.load (i32.const 264)))
    (i32.store offset=36 (local.get $b) (i32.load (i32.const 268)))
    (i32.store offset=40 (local.get $b) (i32.load (i32.const 272)))
    (i32.store offset=44 (local.get $b) (i32.load (i32.const 276)))
    (memory.copy (i32.load offset=24 (local.get $b)) (i32.const 512)
      (i32.shl (i32.add (i32.load offset=4 (local.get $b)) (i32.const 1)) (i32.const 2)))
    (i32.load (i32.const 256))))
