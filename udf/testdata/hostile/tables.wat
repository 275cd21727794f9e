;; Tables against the memory limit: grow asks table.grow for x entries (returns the old size or
;; -1), mem_grow asks memory.grow for x pages. Under memory = '1MB' a grow past what is left of
;; the limit must fail with -1, whatever its size (100M, 2^32-2).
(module
  (table $t 1 funcref)
  (memory 1)
  (func (export "grow") (param i64) (result i64)
    (i64.extend_i32_s (table.grow $t (ref.null func) (i32.wrap_i64 (local.get 0)))))
  (func (export "mem_grow") (param i64) (result i64)
    (i64.extend_i32_s (memory.grow (i32.wrap_i64 (local.get 0)))))
  (func (export "size") (param i64) (result i64)
    (i64.extend_i32_u (table.size $t)))
  ;; grows the table by x entries, then memory by one page: the memory.grow result
  (func (export "fill_then_mem") (param i64) (result i64)
    (drop (table.grow $t (ref.null func) (i32.wrap_i64 (local.get 0))))
    (i64.extend_i32_s (memory.grow (i32.const 1)))))
