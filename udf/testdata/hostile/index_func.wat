;; Hostile: calls function 1 of a module with one function: after re-indexing, the generated
;; scalar loop. Must be refused (42P13).
(module
  (func (export "f") (param i64) (result i64)
    (call 1 (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))
    (local.get 0)))
