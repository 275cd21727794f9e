;; A table declared with 200 million entries (1.6 GB in wazero): refused at CREATE (54000).
(module
  (table 200000000 funcref)
  (func (export "f") (param i64) (result i64) (local.get 0)))
