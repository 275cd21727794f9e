;; Everything that names a function index: calls, call_indirect through an element segment,
;; ref.func in a global and in an expression segment, a start function, exports, names. The
;; rewriter shifts every defined function by one; this module must compute the same afterwards.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (type $unary (func (param i64) (result i64)))
  (table $t 4 funcref)
  (global $started (mut i64) (i64.const 0))
  (global $fref funcref (ref.func $triple))
  (elem (table $t) (i32.const 0) func $double $triple)
  (elem (table $t) (i32.const 2) funcref (ref.func $square) (ref.null func))
  (elem declare func $square)
  (start $init)
  (func $init i64.const 7 global.set $started)
  (func $double (param i64) (result i64) local.get 0 i64.const 2 i64.mul)
  (func $triple (param i64) (result i64) local.get 0 i64.const 3 i64.mul)
  (func $square (param i64) (result i64) local.get 0 local.get 0 i64.mul)
  ;; apply(x) = double(x) + triple(x) + square(x) + started + yield()
  (func (export "apply") (param $x i64) (result i64)
    (i64.add
      (i64.add
        (call_indirect (type $unary) (local.get $x) (i32.const 0))
        (call_indirect (type $unary) (local.get $x) (i32.const 1)))
      (i64.add
        (call_indirect (type $unary) (local.get $x) (i32.const 2))
        (i64.add (global.get $started) (i64.extend_i32_u (call $yield))))))
  ;; table.set makes the module stateful beyond memory
  (func (export "swap") (param i64) (result i64)
    (table.set $t (i32.const 3) (ref.func $double))
    local.get 0))
