;; Hostile: loads from memory 0 in a module without memory. wasql gives such a module a memory
;; for the host's batch columns, which the guest must not read or write. Must be refused (42P13).
(module
  (func (export "peek") (param i64) (result i64)
    (i64.load (i32.wrap_i64 (local.get 0)))))
