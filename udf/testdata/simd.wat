;; SIMD, bulk memory, sign extension, saturating conversions, multi-value: the rewriter must pass
;; them through untouched.
(module
  (memory 1)
  (func $pair (param i64) (result i64 i64) local.get 0 local.get 0)
  ;; x*4 via i64x2 lanes, memory.fill/copy, extend8_s and trunc_sat
  (func (export "mix") (param $x i64) (result i64)
    (local $v v128)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 64))
    (i64.store (i32.const 0) (local.get $x))
    (memory.copy (i32.const 8) (i32.const 0) (i32.const 8))
    (local.set $v (v128.load (i32.const 0)))
    (local.set $v (i64x2.add (local.get $v) (local.get $v)))
    (i64.add
      (i64.add (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $v)))
      (i64.add
        (i64.extend8_s (i64.const 0x80))
        (i64.add (i64.trunc_sat_f64_s (f64.const 1e300))
                 (call $pair (i64.const 0)) (drop)))))
  (func (export "shuffle") (param $x i64) (result i64)
    (i64x2.extract_lane 0
      (i8x16.shuffle 1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14
        (i64x2.splat (local.get $x)) (v128.const i64x2 0 0)))))
