;; Imports a function outside the allowed list.
(module
  (import "env" "launch_missiles" (func (param i32)))
  (func (export "f") (param i64) (result i64) local.get 0))
