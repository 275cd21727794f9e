;; Imports its memory.
(module
  (import "env" "memory" (memory 1))
  (func (export "f") (param i64) (result i64) local.get 0))
