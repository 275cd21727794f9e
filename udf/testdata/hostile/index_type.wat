;; Hostile: call_indirect with type 1 in a module with one type: type 1 would be the one the
;; rewriter adds for its fuel function, () -> i64. Must be refused (42P13).
(module
  (table 1 funcref)
  (func (export "f") (param i64) (result i64)
    (call_indirect (type 1) (i32.const 0))))
