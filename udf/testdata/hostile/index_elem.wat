;; Hostile: an element segment naming function 1 of a module with one function (after
;; re-indexing, the generated scalar loop), reachable by call_indirect. Must be refused (42P13).
(module
  (type $t (func (param i64) (result i64)))
  (table 2 funcref)
  (elem (i32.const 0) func 0 1)
  (func (export "f") (type $t)
    (call_indirect (type $t) (local.get 0) (i32.const 1))))
