;; Numeric scalar ABI: plain exports over core types (docs/abi.md §3).
(module
  (func (export "add") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.add)
  (func (export "add32") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func (export "mulf") (param f64 f64) (result f64)
    local.get 0 local.get 1 f64.mul)
  (func (export "halff") (param f32) (result f32)
    local.get 0 f32.const 0.5 f32.mul)
  ;; smallint -> smallint: times 1000, so large inputs leave the smallint range
  (func (export "kilo") (param i32) (result i32)
    local.get 0 i32.const 1000 i32.mul)
  ;; boolean -> boolean
  (func (export "not") (param i32) (result i32)
    local.get 0 i32.eqz)
  ;; date (days) -> date: next day; timestamp (µs) -> timestamp: plus one hour
  (func (export "next_day") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add)
  (func (export "plus_hour") (param i64) (result i64)
    local.get 0 i64.const 3600000000 i64.add)
  ;; traps on division by zero
  (func (export "div") (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.div_s)
  (func (export "answer") (result i64) i64.const 42)
  (global (export "not_a_function") i32 (i32.const 0)))
