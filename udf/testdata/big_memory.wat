;; Needs 2048 pages (128 MiB) at start.
(module
  (memory 2048)
  (func (export "f") (param i64) (result i64) local.get 0))
