;; Columnar batch ABI by hand (docs/abi.md §4): text -> text upper-casing ASCII, with a row error
;; for inputs containing '!', and functions that break the ABI on purpose.
(module
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "wasql_abi_v1"))
  ;; bump allocator; 0 when memory cannot grow
  (func $alloc (export "wasql_alloc") (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $ok
      (br_if $ok (i32.le_u (local.get $end) (i32.mul (memory.size) (i32.const 65536))))
      (br_if $ok (i32.ne (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)
        (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1)))
      (return (i32.const 0)))
    (global.set $heap (local.get $end))
    (local.get $p))
  (data (i32.const 512) "exclamation marks are not allowed")
  ;; upper(text) -> text
  (func (export "wasql_batch_upper") (param $b i32) (result i32)
    (local $rows i32) (local $offs i32) (local $data i32) (local $out i32) (local $len i32)
    (local $i i32) (local $j i32) (local $c i32) (local $roffs i32)
    (local.set $rows (i32.load offset=4 (local.get $b)))
    (local.set $offs (i32.load offset=56 (local.get $b)))   ;; args[0].values
    (local.set $data (i32.load offset=60 (local.get $b)))   ;; args[0].data
    (local.set $len (i32.load offset=64 (local.get $b)))    ;; args[0].data_len
    (local.set $roffs (i32.load offset=24 (local.get $b)))  ;; result.values
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 1))))
    ;; copy and upper-case all bytes; same offsets
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $j) (local.get $len)))
      (local.set $c (i32.load8_u (i32.add (local.get $data) (local.get $j))))
      (if (i32.eq (local.get $c) (i32.const 33)) ;; '!'
        (then
          ;; find the row of byte j
          (block $found (loop $row
            (br_if $found (i32.gt_u (i32.load (i32.add (local.get $offs)
              (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)))) (local.get $j)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row)))
          (i32.store offset=36 (local.get $b) (local.get $i))
          (i32.store offset=40 (local.get $b) (i32.const 512))
          (i32.store offset=44 (local.get $b) (i32.const 33))
          (return (i32.const 1))))
      (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
        (then (local.set $c (i32.sub (local.get $c) (i32.const 32)))))
      (i32.store8 (i32.add (local.get $out) (local.get $j)) (local.get $c))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $copy)))
    (memory.copy (local.get $roffs) (local.get $offs) (i32.shl (i32.add (local.get $rows) (i32.const 1)) (i32.const 2)))
    (i32.store offset=28 (local.get $b) (local.get $out))
    (i32.store offset=32 (local.get $b) (local.get $len))
    (i32.const 0))
  ;; bad_status(text) -> text: returns 7
  (func (export "wasql_batch_bad_status") (param i32) (result i32) (i32.const 7))
  ;; bad_offsets(text) -> text: claims 5 bytes of data but leaves the offsets at zero
  (func (export "wasql_batch_bad_offsets") (param $b i32) (result i32)
    (i32.store offset=28 (local.get $b) (i32.const 512))
    (i32.store offset=32 (local.get $b) (i32.const 5))
    (i32.const 0))
  ;; bad_utf8(text) -> text: every row is the single byte 0xff
  (data (i32.const 600) "\ff")
  (func (export "wasql_batch_bad_utf8") (param $b i32) (result i32)
    (local $i i32) (local $rows i32) (local $roffs i32)
    (local.set $rows (i32.load offset=4 (local.get $b)))
    (local.set $roffs (i32.load offset=24 (local.get $b)))
    (block $d (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (i32.store (i32.add (local.get $roffs) (i32.shl (local.get $i) (i32.const 2))) (i32.const 1))
      (br_if $l (i32.lt_u (local.get $i) (local.get $rows)))))
    ;; rows all point at the same byte: offsets 0,1,1,1... so only row 0 has it
    (i32.store offset=28 (local.get $b) (i32.const 600))
    (i32.store offset=32 (local.get $b) (i32.const 1))
    (i32.const 0))
  ;; null_if_even(bigint) -> bigint, CALLED ON NULL INPUT: NULL in -> 0 out, even -> NULL, odd -> x
  (func (export "wasql_batch_null_if_even") (param $b i32) (result i32)
    (local $i i32) (local $rows i32) (local $valid i32) (local $vals i32) (local $rvalid i32) (local $rvals i32)
    (local $x i64)
    (local.set $rows (i32.load offset=4 (local.get $b)))
    (local.set $valid (i32.load offset=52 (local.get $b)))
    (local.set $vals (i32.load offset=56 (local.get $b)))
    (local.set $rvalid (i32.load offset=20 (local.get $b)))
    (local.set $rvals (i32.load offset=24 (local.get $b)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $x (i64.load (i32.add (local.get $vals) (i32.shl (local.get $i) (i32.const 3)))))
      (if (i32.and (i32.ne (local.get $valid) (i32.const 0))
            (i32.eqz (i32.and (i32.load8_u (i32.add (local.get $valid) (i32.shr_u (local.get $i) (i32.const 3))))
                              (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7))))))
        (then (local.set $x (i64.const 0)))
        (else (if (i64.eqz (i64.and (local.get $x) (i64.const 1)))
          (then
            ;; clear result validity bit i
            (i32.store8 (i32.add (local.get $rvalid) (i32.shr_u (local.get $i) (i32.const 3)))
              (i32.and (i32.load8_u (i32.add (local.get $rvalid) (i32.shr_u (local.get $i) (i32.const 3))))
                       (i32.xor (i32.const -1) (i32.shl (i32.const 1) (i32.and (local.get $i) (i32.const 7))))))))))
      (i64.store (i32.add (local.get $rvals) (i32.shl (local.get $i) (i32.const 3))) (local.get $x))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.const 0)))
