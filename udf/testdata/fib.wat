;; Loops and loop-free recursion: what metering must bound.
(module
  (func $fib_iter (export "fib_iter") (param $n i64) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    i64.const 0 local.set $a
    i64.const 1 local.set $b
    block
      local.get $n i64.eqz br_if 0
      loop
        local.get $a local.get $b i64.add local.set $t
        local.get $b local.set $a
        local.get $t local.set $b
        local.get $n i64.const 1 i64.sub local.tee $n
        i64.const 0 i64.ne br_if 0
      end
    end
    local.get $a)
  (func $fib_rec (export "fib_rec") (param $n i64) (result i64)
    local.get $n i64.const 2 i64.lt_s
    if (result i64)
      local.get $n
    else
      local.get $n i64.const 1 i64.sub call $fib_rec
      local.get $n i64.const 2 i64.sub call $fib_rec
      i64.add
    end)
  (func (export "spin") (param $n i64) (result i64)
    loop br 0 end
    unreachable))
