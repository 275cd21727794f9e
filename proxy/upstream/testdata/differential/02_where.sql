-- Calls in WHERE: alone, mixed with conditions PostgreSQL can take (indexed ones too), under
-- AND/OR/NOT/CASE, beside columns of other types.

-- name: where_plus
SELECT id FROM t WHERE plus(a, b) > 30 ORDER BY id;
-- name: where_mixed_and
SELECT id, a, b FROM t WHERE plus(a, b) > 0 AND b = 3 ORDER BY id;
-- name: where_mixed_indexed
SELECT id FROM t WHERE b = 2 AND fib(a % 30) > 100 ORDER BY id;
-- name: where_mixed_or
SELECT id FROM t WHERE plus(a, b) < 5 OR b = 5 ORDER BY id;
-- name: where_not_call
SELECT id FROM t WHERE NOT is_even(a) ORDER BY id;
-- name: where_boolean_call
SELECT id FROM t WHERE is_even(a) ORDER BY id;
-- name: where_null_aware_call
SELECT id FROM t WHERE is_null(a) ORDER BY id;
-- name: where_slug_equals
SELECT id, s FROM t WHERE slugify(s) = 'hello-world' ORDER BY id;
-- name: where_slug_like
SELECT id FROM t WHERE slugify(s) LIKE 'hello%' ORDER BY id;
-- name: where_slug_in_list
SELECT id FROM t WHERE slugify(s) IN ('x', 'x-1', 'plain-ascii-2') ORDER BY id;
-- name: where_between
SELECT id FROM t WHERE plus(a, b) BETWEEN 10 AND 20 ORDER BY id;
-- name: where_is_not_null
SELECT id FROM t WHERE plus(a, b) IS NOT NULL AND id < 50 ORDER BY id;
-- name: where_nvl_len_null_rows
SELECT id FROM t WHERE nvl_len(s) = -1 ORDER BY id;
-- name: where_double_nan_compares_high
SELECT id FROM t WHERE twice(x) > 10 ORDER BY id;
-- name: where_next_day
SELECT id FROM t WHERE next_day(d) > '2024-06-01' ORDER BY id;
-- name: where_days_between
SELECT id FROM t WHERE days_between(d, '2024-01-01') BETWEEN -10 AND 10 ORDER BY id;
-- name: where_plus_hour
SELECT id FROM t WHERE plus_hour(ts::timestamp) < '2024-03-20' ORDER BY id;
-- name: where_guard_then_row_error_func
SELECT id, must_be_ascii(s) FROM t WHERE octet_length(s) = length(s) AND id % 2 = 0 ORDER BY id;
-- name: where_plus_identity
SELECT id FROM t WHERE plus(a, 0) = a ORDER BY id;
-- name: where_two_calls
SELECT id FROM t WHERE plus(a, b) > twice(b) ORDER BY id;
-- name: where_case_calls
SELECT id FROM t WHERE CASE WHEN b > 0 THEN fib(a % 30) > 50 ELSE is_even(a) END ORDER BY id;
-- name: where_coalesce_call
SELECT id FROM t WHERE coalesce(plus(a, b), 0) = 0 ORDER BY id;
-- name: where_constant_true
SELECT id FROM t WHERE plus(1, 1) = 2 AND id < 5 ORDER BY id;
-- name: where_constant_false
SELECT id FROM t WHERE plus(1, 1) = 3;
-- name: where_slug_empty
SELECT id, s FROM t WHERE slugify(s) = '' ORDER BY id;
-- name: where_jsonb_beside
SELECT id, j FROM t WHERE j->>'tag' = 'even' AND is_even(a) ORDER BY id;
-- name: where_array_beside
SELECT id, arr FROM t WHERE arr[2] = 3 AND plus(a, 1) > 10 ORDER BY id;
-- name: where_uuid_beside
SELECT id, u FROM t WHERE u::text LIKE 'c%' AND slugify(s) <> '' ORDER BY id;
-- name: where_interval_beside
SELECT id, iv FROM t WHERE iv > interval '3 days' AND next_day(d) IS NOT NULL ORDER BY id;
-- name: where_numeric_beside
SELECT id, n FROM t WHERE n > 100 AND twice(n) < 500 ORDER BY id;
-- name: where_timestamptz_beside
SELECT id, ts FROM t WHERE ts > '2024-04-01' AND plus(a, b) % 2 = 0 ORDER BY id;
-- name: where_in_list_of_calls
SELECT id FROM t WHERE b IN (plus(1, 1), plus(2, 2)) ORDER BY id;
-- name: where_call_in_list
SELECT id FROM t WHERE plus(a, b) IN (10, 20, 30, 40) ORDER BY id;
-- name: where_equals_null
SELECT id FROM t WHERE plus(a, b) = NULL;
-- name: where_is_distinct_from
SELECT id FROM t WHERE plus(a, b) IS DISTINCT FROM a ORDER BY id;
-- name: where_negate
SELECT id FROM t WHERE negate(b > 0) ORDER BY id;
-- name: where_is_true_unknown
SELECT id FROM t WHERE negate(b > 0) IS NOT TRUE ORDER BY id;
-- name: where_count_only
SELECT count(*) FROM t WHERE slugify(s) <> '';
-- name: where_volatile
-- expect: 0A000 a VOLATILE call outside the outermost select list: the planner would evaluate it once per distinct argument (memo tables), which only IMMUTABLE and STABLE functions allow
SELECT id FROM t WHERE vplus(a, b) > 10 ORDER BY id;
-- name: where_id_range_and_call
SELECT id, slugify(s) FROM t WHERE id BETWEEN 40 AND 60 AND nvl_len(s) > 5 ORDER BY id;
