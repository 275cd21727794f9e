-- $n parameters (the extended protocol binds them; the simple protocol gets them spliced in as
-- quoted literals): argument types inferred from the calls, NULLs, every v1 type.

-- name: param_plus
SELECT plus($1, $2);
-- params: ["40", "2"]
-- name: param_plus_column
SELECT id, plus(a, $1) FROM t ORDER BY id;
-- params: ["100"]
-- name: param_where_mixed
SELECT id FROM t WHERE plus(a, b) > $1 AND b = $2 ORDER BY id;
-- params: ["10", "3"]
-- name: param_slugify
SELECT slugify($1);
-- params: ["Param: Ünïcode & ASCII"]
-- name: param_nulls
SELECT plus($1, 1), nvl_len($2);
-- params: [null, null]
-- name: param_limit_offset
SELECT id, slugify(s) FROM t ORDER BY id LIMIT $1 OFFSET $2;
-- params: ["5", "10"]
-- name: param_compared_to_call
SELECT id FROM t WHERE slugify(s) = $1 ORDER BY id;
-- params: ["hello-world-1"]
-- name: param_overload_unknown
SELECT twice($1);
-- params: ["3"]
-- name: param_overload_cast_int
SELECT twice($1::int);
-- params: ["21"]
-- name: param_date
SELECT next_day($1);
-- params: ["2024-02-29"]
-- name: param_timestamp
SELECT plus_hour($1);
-- params: ["2024-03-10 23:30:00"]
-- name: param_bytea
SELECT echo_bytes($1);
-- params: ["\\xdeadbeef00"]
-- name: param_boolean
SELECT negate($1);
-- params: ["true"]
-- name: param_double_two_uses
SELECT twice($1::float8), hyp($1, $2);
-- params: ["1.1", "2.2"]
-- name: param_in_select_and_where
SELECT id, plus(a, $1) FROM t WHERE plus(b, $1) > 3 ORDER BY id;
-- params: ["2"]
-- name: param_case_condition
SELECT id, CASE WHEN $1 THEN fib(a % 30) ELSE 0 END FROM t ORDER BY id;
-- params: ["true"]
-- name: param_null_aware_compare
SELECT id FROM t WHERE nvl_len(s) > $1 ORDER BY id;
-- params: ["12"]
-- name: param_text_twice
SELECT $1::text, slugify($1);
-- params: ["A B"]
-- name: param_array_any
SELECT id FROM t WHERE plus(a, 0) = ANY ($1::bigint[]) ORDER BY id;
-- params: ["{1,2,3,37,74}"]
-- name: param_numeric_beside
SELECT id, n + $1, plus(a, 1) FROM t ORDER BY id;
-- params: ["0.5"]
-- name: param_jsonb_beside
SELECT id, j @> $1, slugify(s) FROM t ORDER BY id;
-- params: ["{\"k\": 1}"]
-- name: param_interval_beside
SELECT id, iv + $1, next_day(d) FROM t ORDER BY id;
-- params: ["1 day"]
-- name: param_uuid_where
SELECT id, slugify(s) FROM t WHERE u = $1;
-- params: ["c4ca4238-a0b9-2382-0dcc-509a6f75849b"]
-- name: param_row_error
SELECT must_be_ascii($1);
-- params: ["naïve"]
-- name: param_null_aware_null
SELECT is_null($1), is_null($2);
-- params: [null, "5"]
-- name: param_many_rows
SELECT g, plus(g, $1) FROM generate_series(1, 3000) g ORDER BY g;
-- params: ["7"]
-- name: param_int_into_bigint
SELECT plus($1::int, $2::smallint);
-- params: ["2000000000", "7"]
-- name: param_days_between
SELECT days_between($1, $2);
-- params: ["2024-03-01", "2023-03-01"]
-- name: param_real
SELECT halff($1);
-- params: ["0.3"]
-- name: param_fib_where_id
SELECT id, fib(a % 30) FROM t WHERE id = $1;
-- params: ["12"]
