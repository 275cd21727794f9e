;; Overloads for sqlfuncs tests: twice(integer) and twice(double precision).
(module
  (func (export "twice_int") (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
  (func (export "twice_double") (param f64) (result f64) local.get 0 f64.const 2 f64.mul))
