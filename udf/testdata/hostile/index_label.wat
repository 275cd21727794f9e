;; Hostile: a leaf export that branches to depth 1, past its own body. The scalar loop inlines a
;; leaf export inside its own loop, where depth 1 would be that loop: an endless loop without fuel
;; checks. Must be refused (42P13).
(module
  (func (export "f") (param i64) (result i64)
    (i64.const 0)
    (br 1)))
