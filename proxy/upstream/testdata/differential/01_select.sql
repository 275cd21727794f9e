-- Calls in the SELECT list: every function, constant and unknown arguments, implicit casts,
-- nesting, and columns of other types passed through beside the calls.

-- name: sel_plus_cols
SELECT id, plus(a, b) FROM t ORDER BY id;
-- name: sel_plus_alias
SELECT id, plus(a, b) AS total FROM t WHERE id <= 20 ORDER BY id;
-- name: sel_plus_const
SELECT plus(1, 2);
-- name: sel_plus_unknown_literals
SELECT plus('3', '4');
-- name: sel_plus_unknown_and_col
SELECT id, plus('3', b) FROM t ORDER BY id;
-- name: sel_plus_int_into_bigint
SELECT id, plus(id, id) FROM t ORDER BY id;
-- name: sel_plus_smallint_int
SELECT plus(2::smallint, 3::int), plus(2::int2, '5');
-- name: sel_plus_expr_args
SELECT id, plus(a * 2, b - 1) FROM t ORDER BY id;
-- name: sel_plus_null_const
SELECT plus(NULL, 1), plus(1, NULL), plus(NULL, NULL);
-- name: sel_plus_null_col
SELECT id, plus(a, NULL) FROM t ORDER BY id;
-- name: sel_add_columnar
SELECT id, add(a, b) FROM t ORDER BY id;
-- name: sel_mul
SELECT id, mul(a, b) FROM t ORDER BY id;
-- name: sel_plus_in_expr
SELECT id, plus(a, b) * 10 + 1 FROM t ORDER BY id;
-- name: sel_plus_cast_text
SELECT id, plus(a, b)::text || '!' FROM t ORDER BY id;
-- name: sel_nested_plus
SELECT id, plus(plus(a, b), plus(b, 1)) FROM t ORDER BY id;
-- name: sel_nested_fib_plus
SELECT id, fib(plus(a, 1) % 30) FROM t WHERE a IS NOT NULL ORDER BY id;
-- name: sel_nested_three
SELECT id, mul(add(a, 1), plus(b, 2)) FROM t ORDER BY id;
-- name: sel_fib
SELECT id, fib(a % 30) FROM t ORDER BY id;
-- name: sel_fib_const
SELECT fib(10), fib(0), fib(1), fib(90);
-- name: sel_fib_series
SELECT g, fib(g) FROM generate_series(0, 91) g ORDER BY g;
-- name: sel_slugify
SELECT id, s, slugify(s) FROM t ORDER BY id;
-- name: sel_slugify_const
SELECT slugify('  Hello, World! ');
-- name: sel_slugify_unknown_nonascii
SELECT slugify('ÀB-c_D'), slugify(''), slugify('---');
-- name: sel_slugify_length
SELECT id, length(slugify(s)) FROM t ORDER BY id;
-- name: sel_slugify_concat
SELECT id, slugify(s || ' ' || id) FROM t ORDER BY id;
-- name: sel_slugify_upper
SELECT id, upper(slugify(s)) FROM t ORDER BY id;
-- name: sel_slugify_twice
SELECT id, slugify(slugify(s)) FROM t ORDER BY id;
-- name: sel_slugify_varchar
SELECT slugify('Some Varchar'::varchar(20)), slugify('Char Pad'::char(12));
-- name: sel_slugify_of_int
SELECT id, slugify(id::text) FROM t ORDER BY id;
-- name: sel_nvl_len
SELECT id, nvl_len(s) FROM t ORDER BY id;
-- name: sel_nvl_len_null
SELECT nvl_len(NULL), nvl_len(''), nvl_len('héllo');
-- name: sel_nvl_len_of_slug
SELECT id, nvl_len(slugify(s)) FROM t ORDER BY id;
-- name: sel_is_null
SELECT id, is_null(a), is_null(b) FROM t ORDER BY id;
-- name: sel_is_null_const
SELECT is_null(NULL), is_null(1);
-- name: sel_echo_bytes
SELECT id, echo_bytes(convert_to(s, 'UTF8')) FROM t ORDER BY id;
-- name: sel_echo_bytes_literals
SELECT echo_bytes('\x00ff01'::bytea), echo_bytes(''::bytea), echo_bytes(NULL);
-- name: sel_echo_bytes_roundtrip
SELECT id, convert_from(echo_bytes(convert_to(s, 'UTF8')), 'UTF8') = s FROM t ORDER BY id;
-- name: sel_echo_bytes_md5
SELECT id, md5(echo_bytes(decode(md5(s), 'hex'))) FROM t ORDER BY id;
-- name: sel_twice_int
SELECT id, twice(id) FROM t ORDER BY id;
-- name: sel_twice_bigint_is_double
SELECT id, twice(a) FROM t ORDER BY id;
-- name: sel_twice_double
SELECT id, twice(x) FROM t ORDER BY id;
-- name: sel_twice_literals
SELECT twice(2.5), twice(2), twice('7');
-- name: sel_twice_numeric_col
SELECT id, twice(n) FROM t ORDER BY id;
-- name: sel_twice_real
SELECT twice(1.5::real), twice(0.1::real);
-- name: sel_twice_specials
SELECT id, x, twice(x) FROM t WHERE id > 200 ORDER BY id;
-- name: sel_halff
SELECT id, halff(x::real) FROM t WHERE id <= 200 ORDER BY id;
-- name: sel_halff_const
SELECT halff(3), halff('0.1'), halff(1e-30);
-- name: sel_hyp
SELECT id, hyp(x, a) FROM t WHERE id <= 200 ORDER BY id;
-- name: sel_hyp_specials
SELECT id, hyp(x, 1) FROM t WHERE id IN (201, 202, 203, 204) ORDER BY id;
-- name: sel_hyp_const
SELECT hyp(3, 4), hyp(0.1, 0.2), hyp('1e10', 1);
-- name: sel_negate
SELECT id, negate(a > 30) FROM t ORDER BY id;
-- name: sel_negate_const
SELECT negate(true), negate(false), negate(NULL), negate('t');
-- name: sel_is_even
SELECT id, is_even(b), is_even(a) FROM t ORDER BY id;
-- name: sel_next_day
SELECT id, next_day(d) FROM t ORDER BY id;
-- name: sel_next_day_const
SELECT next_day('2024-02-28'), next_day(date '1999-12-31'), next_day('1969-12-31');
-- name: sel_days_between
SELECT id, days_between(d, '2024-01-01') FROM t ORDER BY id;
-- name: sel_days_between_nested
SELECT id, days_between(next_day(d), d) FROM t ORDER BY id;
-- name: sel_plus_hour
SELECT id, plus_hour(ts::timestamp) FROM t ORDER BY id;
-- name: sel_plus_hour_const
SELECT plus_hour('2024-01-01 23:30:00'), plus_hour(timestamp '1999-12-31 23:59:59.999999');
-- name: sel_must_be_ascii_ascii_rows
SELECT id, must_be_ascii(s) FROM t WHERE octet_length(s) = length(s) ORDER BY id;
-- name: sel_many_funcs
SELECT id, plus(a, b), slugify(s), nvl_len(s), is_null(a), twice(x), next_day(d), is_even(b) FROM t ORDER BY id;
-- name: sel_passthrough_all_types
SELECT id, n, ts, u, j, arr, iv, plus(a, b) FROM t ORDER BY id;
-- name: sel_passthrough_jsonb_ops
SELECT id, j->>'tag', j->'k', slugify(j->>'tag') FROM t ORDER BY id;
-- name: sel_passthrough_array_elems
SELECT id, arr[1], array_length(arr, 1), plus(arr[1], arr[2]) FROM t ORDER BY id;
-- name: sel_passthrough_interval
SELECT id, iv, iv * 2, next_day(d) FROM t ORDER BY id;
-- name: sel_passthrough_uuid
SELECT id, u, u::text, slugify(u::text) FROM t ORDER BY id;
-- name: sel_passthrough_numeric
SELECT id, n, n * 2, twice(n) FROM t ORDER BY id;
-- name: sel_passthrough_timestamptz
SELECT id, ts, ts + iv, plus_hour(ts::timestamp) FROM t ORDER BY id;
-- name: sel_star_and_call
SELECT *, plus(a, b) AS p FROM t ORDER BY id;
-- name: sel_qualified_star_and_call
SELECT t.*, slugify(t.s) FROM t ORDER BY t.id;
-- name: sel_case_around_call
SELECT id, CASE WHEN a IS NULL THEN -1 ELSE fib(a % 30) END FROM t ORDER BY id;
-- name: sel_case_inside_call
SELECT id, plus(CASE WHEN b > 0 THEN b ELSE 0 END, 1) FROM t ORDER BY id;
-- name: sel_coalesce_around_call
SELECT id, coalesce(plus(a, b), -999) FROM t ORDER BY id;
-- name: sel_coalesce_inside_call
SELECT id, plus(coalesce(a, 0), coalesce(b, 0)) FROM t ORDER BY id;
-- name: sel_nullif_call
SELECT id, nullif(slugify(s), '') FROM t ORDER BY id;
-- name: sel_and_or_calls
SELECT id, is_even(a) AND is_even(b), is_even(a) OR is_null(b) FROM t ORDER BY id;
-- name: sel_greatest_calls
SELECT id, greatest(plus(a, b), fib(3), a) FROM t ORDER BY id;
-- name: sel_comparisons_of_calls
SELECT id, plus(a, b) > 20, slugify(s) = 'x' FROM t ORDER BY id;
-- name: sel_constants_only
SELECT plus(1, 2) + fib(10), slugify('A B'), twice(21);
-- name: sel_call_over_values
SELECT v, plus(v, 1) FROM (VALUES (1), (2), (NULL::int)) AS q(v) ORDER BY v;
-- name: sel_many_batches
SELECT g, plus(g, g), slugify('Row ' || g) FROM generate_series(1, 5000) g ORDER BY g;
-- name: sel_column_aliases_like_funcs
SELECT id AS plus, plus(id, 1) AS slugify FROM t ORDER BY 1;
-- name: sel_quoted_function_name
SELECT "plus"(a, b) FROM t ORDER BY id;
-- name: sel_case_insensitive_name
SELECT PLUS(a, b), SlugiFy(s) FROM t ORDER BY id;
-- name: sel_volatile_select_list
SELECT id, vplus(a, b) FROM t ORDER BY id;
-- name: sel_call_with_collate
SELECT id, slugify(s COLLATE "C") FROM t ORDER BY id;
-- name: sel_call_result_collate
SELECT id, slugify(s) COLLATE "C" FROM t ORDER BY id;
