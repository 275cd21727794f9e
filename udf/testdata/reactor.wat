;; A reactor: _initialize runs once per instance, before any export.
(module
  (global $ready (mut i64) (i64.const 0))
  (func (export "_initialize") i64.const 100 global.set $ready)
  (func (export "plus_init") (param i64) (result i64)
    local.get 0 global.get $ready i64.add))
