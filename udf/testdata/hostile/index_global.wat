;; Hostile: writes global 0 in a loop, in a module without globals: global 0 would be the
;; rewriter's fuel counter. Must be refused (42P13).
(module
  (func (export "spin") (param i64) (result i64)
    (loop $l
      (global.set 0 (i64.const 0x7fffffffffffffff))
      (br $l))
    (i64.const 0)))
