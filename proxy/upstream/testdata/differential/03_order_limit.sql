-- Calls in ORDER BY, and LIMIT/OFFSET over statements with calls. Every ORDER BY here is total
-- (ties broken by id) so that the order compared is the only one.

-- name: order_by_call
SELECT id, plus(a, b) AS p FROM t ORDER BY plus(a, b), id;
-- name: order_by_alias_desc_nulls_last
SELECT id, plus(a, b) AS p FROM t ORDER BY p DESC NULLS LAST, id;
-- name: order_by_position
SELECT id, slugify(s) FROM t ORDER BY 2, 1;
-- name: order_by_unlisted_call
SELECT id FROM t ORDER BY fib(a % 30) DESC, id;
-- name: order_by_text_call_collate_c
SELECT slugify(s), id FROM t ORDER BY slugify(s) COLLATE "C", id;
-- name: order_by_text_call
SELECT id, slugify(s) FROM t ORDER BY slugify(s), id;
-- name: order_by_nulls_first
SELECT id, plus(a, b) FROM t ORDER BY plus(a, b) NULLS FIRST, id;
-- name: order_by_double_desc
SELECT id, twice(x) FROM t ORDER BY twice(x) DESC, id;
-- name: order_by_double_asc
SELECT id, twice(x) FROM t ORDER BY 2, 1;
-- name: order_by_boolean_call
SELECT id, is_even(a) FROM t ORDER BY is_even(a), id;
-- name: order_by_date_call
SELECT id, next_day(d) FROM t ORDER BY next_day(d) DESC, id;
-- name: order_by_nonascii_column
SELECT id, s, nvl_len(s) FROM t ORDER BY s, id;
-- name: order_by_column_then_call
SELECT id, a, plus(a, b) FROM t ORDER BY a, plus(a, b) DESC, id;
-- name: order_by_expression_of_call
SELECT id FROM t ORDER BY plus(a, b) % 7, id;
-- name: order_by_using_operator
SELECT id, plus(a, b) FROM t ORDER BY plus(a, b) USING >, id;
-- name: limit_basic
SELECT id, plus(a, b) FROM t ORDER BY id LIMIT 10;
-- name: limit_offset
SELECT id, slugify(s) FROM t ORDER BY id LIMIT 10 OFFSET 20;
-- name: limit_order_by_call
SELECT id, fib(a % 30) FROM t ORDER BY fib(a % 30) DESC, id LIMIT 5;
-- name: offset_only
SELECT id, plus(a, b) FROM t ORDER BY id OFFSET 195;
-- name: limit_zero
SELECT id, plus(a, b) FROM t ORDER BY id LIMIT 0;
-- name: limit_all
SELECT id, plus(a, 1) FROM t ORDER BY id LIMIT ALL;
-- name: limit_where_call
SELECT id FROM t WHERE is_even(a) ORDER BY id LIMIT 7 OFFSET 3;
-- name: fetch_first
SELECT id, slugify(s) FROM t ORDER BY slugify(s), id FETCH FIRST 4 ROWS ONLY;
-- name: fetch_with_ties
SELECT b, plus(b, 0) FROM t ORDER BY plus(b, 0) NULLS FIRST FETCH FIRST 3 ROWS WITH TIES;
-- name: limit_stops_before_row_error
SELECT id, must_be_ascii(s) FROM t ORDER BY id LIMIT 3;
-- name: limit_offset_past_end
SELECT id, plus(a, b) FROM t ORDER BY id LIMIT 5 OFFSET 1000;
-- name: limit_call_in_limit
SELECT id FROM t ORDER BY id LIMIT plus(2, 3);
-- name: limit_many_batches
SELECT g, fib(g % 50) FROM generate_series(1, 3000) g ORDER BY g LIMIT 10 OFFSET 2500;
