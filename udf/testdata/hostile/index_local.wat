;; Hostile: a loop that writes local 1, which the module never declared. The rewriter keeps its
;; fuel counter in the first local after the function's own, so an unchecked module would set
;; its own fuel to 2^63-1 and spin without ever reaching the host. Must be refused (42P13).
(module
  (func (export "spin") (param i64) (result i64)
    (loop $l
      (local.set 1 (i64.const 0x7fffffffffffffff))
      (br $l))
    (i64.const 0)))
