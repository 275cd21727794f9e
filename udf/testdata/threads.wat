;; Shared memory and atomics (the threads proposal): not enabled.
(module
  (memory 1 1 shared)
  (func (export "f") (param i64) (result i64)
    (i64.atomic.load (i32.const 0))))
