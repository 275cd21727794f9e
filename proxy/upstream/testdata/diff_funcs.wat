;; Numeric scalar guests for the differential corpus (differential_test.go), each with an exact
;; SQL twin: hyp(double, double) = sqrt(a*a + b*b), is_even(bigint) = a % 2 = 0,
;; days_between(date, date) = a - b. Rebuilt by build.sh.
(module
  (func (export "hyp") (param f64 f64) (result f64)
    local.get 0 local.get 0 f64.mul
    local.get 1 local.get 1 f64.mul
    f64.add f64.sqrt)
  (func (export "is_even") (param i64) (result i32)
    local.get 0 i64.const 2 i64.rem_s i64.eqz)
  (func (export "days_between") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.sub))
