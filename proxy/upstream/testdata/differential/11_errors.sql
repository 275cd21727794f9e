-- Errors: row errors of a wasm function inside and outside CASE/COALESCE/AND/OR, errors of
-- PostgreSQL's own next to calls, and calls that do not resolve. Compared by SQLSTATE.

-- name: err_row_in_select
SELECT must_be_ascii(s) FROM t;
-- name: err_row_constant
SELECT must_be_ascii('naïve');
-- name: err_row_case_not_reached
SELECT id, CASE WHEN octet_length(s) = length(s) THEN must_be_ascii(s) ELSE 'skipped' END FROM t ORDER BY id;
-- name: err_row_case_reached
SELECT id, CASE WHEN id > 0 THEN must_be_ascii(s) END FROM t ORDER BY id;
-- name: err_row_coalesce_not_reached
SELECT id, coalesce(slugify(s), must_be_ascii(s)) FROM t ORDER BY id;
-- name: err_row_constant_in_case_folds
SELECT id, CASE WHEN id < 0 THEN must_be_ascii('é') ELSE 'ok' END FROM t ORDER BY id;
-- name: err_row_and_not_reached
SELECT id FROM t WHERE id < 0 AND must_be_ascii(s) = 'x';
-- name: err_row_or_reached
SELECT id FROM t WHERE octet_length(s) = length(s) OR must_be_ascii(s) = 'x' ORDER BY id;
-- name: err_row_guarded_where
SELECT id FROM t WHERE octet_length(s) = length(s) AND must_be_ascii(s) = 'x' ORDER BY id;
-- name: err_division_by_zero_beside_call
SELECT id, plus(a, b), 1 / (id - id) FROM t;
-- name: err_division_by_zero_in_argument
SELECT plus(a, 1 / b) FROM t;
-- name: err_division_guarded_in_argument
SELECT id, plus(a, CASE WHEN b = 0 THEN 0 ELSE 100 / b END) FROM t ORDER BY id;
-- name: err_division_of_call_result
SELECT id, 100 / plus(b, 0) FROM t;
-- name: err_bad_unknown_literal
SELECT plus('x', 1);
-- name: err_wrong_argument_count
SELECT plus(1);
-- name: err_no_implicit_cast
SELECT slugify(1);
-- name: err_timestamptz_not_implicit
SELECT plus_hour(ts) FROM t;
-- name: err_cast_of_result_out_of_range
SELECT twice(x)::int FROM t;
-- name: err_after_call_in_expression
SELECT id, plus(a, b)::text::int / 0 FROM t;
-- name: err_undefined_column_in_call
SELECT plus(zz, 1) FROM t;
-- name: err_syntax
SELECT plus(1,, 2);
-- name: err_row_in_subquery
SELECT id FROM t WHERE s IN (SELECT must_be_ascii(s) FROM t);
-- name: err_strict_null_no_call
SELECT id, must_be_ascii(NULL), must_be_ascii(s) FROM t WHERE s IS NULL ORDER BY id;
-- name: err_row_nested
SELECT slugify(must_be_ascii(s)) FROM t;
-- name: err_row_in_aggregate
SELECT sum(length(must_be_ascii(s))) FROM t;
-- name: err_row_in_order_by
SELECT id FROM t ORDER BY must_be_ascii(s), id;
-- name: err_row_in_group_by
SELECT must_be_ascii(s), count(*) FROM t GROUP BY 1;
-- name: err_row_in_join
SELECT t.id FROM t JOIN u2 ON must_be_ascii(t.s) = u2.label;
-- name: overload_null_literal
SELECT twice(NULL);
-- name: err_interval_to_date
SELECT next_day(iv) FROM t;
-- name: err_overflow_in_argument
SELECT plus(9223372036854775807 + a, 1) FROM t;
-- name: err_invalid_text_param_type
SELECT slugify(s)::int FROM t;
