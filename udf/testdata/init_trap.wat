;; _initialize traps: refused at load.
(module
  (func (export "_initialize") unreachable)
  (func (export "id") (param i64) (result i64) local.get 0))
