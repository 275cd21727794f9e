;; Memory: a bomb that grows until memory.grow fails and then traps, and guest state that must not
;; survive from one session to the next.
(module
  (memory 1)
  (global $calls (mut i64) (i64.const 0))
  (func (export "bomb") (param i64) (result i64)
    loop
      i32.const 16 memory.grow
      i32.const -1 i32.ne br_if 0
    end
    unreachable)
  (func (export "grow_ok") (param $pages i64) (result i64)
    local.get $pages i32.wrap_i64 memory.grow i64.extend_i32_s)
  ;; counts calls in a global and in memory word 0; returns both summed with x
  (func (export "count") (param $x i64) (result i64)
    global.get $calls i64.const 1 i64.add global.set $calls
    i32.const 0 i32.const 0 i64.load i64.const 1 i64.add i64.store
    global.get $calls i32.const 0 i64.load i64.add local.get $x i64.add))
