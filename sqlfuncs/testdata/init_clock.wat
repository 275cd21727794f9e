;; A reactor whose _initialize depends on the real clock (CREATE ... WITH (clock = 'real')): it
;; traps once the wall time passes the deadline stored right after the marker "wasql-deadline:"
;; (8 bytes, little-endian Unix nanoseconds, patched by TestBrokenFunction). So it loads at
;; CREATE and fails to load when the server starts again after the deadline.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "wasql-deadline:\00\ff\ff\ff\ff\ff\ff\ff\7f")
  (func (export "_initialize")
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 0)))
    (if (i64.gt_u (i64.load (i32.const 0)) (i64.load (i32.const 32))) (then unreachable)))
  (func (export "id") (param i64) (result i64) local.get 0))
