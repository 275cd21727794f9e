;; A tiny module that declares 1000 pages (62.5MB) of initial memory and touches none of it: what
;; it costs must be charged before it is instantiated, and its snapshot must not copy zeros.
(module
  (memory 1000)
  (func (export "f") (param i64) (result i64) local.get 0))
