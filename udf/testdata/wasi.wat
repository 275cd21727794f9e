;; WASI with nothing granted: output goes to a bounded buffer, clocks are deterministic.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from the guest\n")
  ;; prints the message on stderr, then traps
  (func (export "shout") (param i64) (result i64)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 21))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    unreachable)
  ;; the realtime clock in ns
  (func (export "now") (param i64) (result i64)
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 64)))
    (i64.load (i32.const 64))))
