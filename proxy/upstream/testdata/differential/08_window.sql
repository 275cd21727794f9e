-- Window functions over wasm results, and calls over window results.

-- name: win_row_number_ordered_by_call
SELECT id, row_number() OVER (ORDER BY plus(a, b), id) FROM t ORDER BY id;
-- name: win_running_sum
SELECT id, sum(plus(a, b)) OVER (ORDER BY id) FROM t ORDER BY id;
-- name: win_partition_by_call
SELECT id, rank() OVER (PARTITION BY is_even(a) ORDER BY id) FROM t ORDER BY id;
-- name: win_partition_by_slug
SELECT id, count(*) OVER (PARTITION BY slugify(s)) FROM t ORDER BY id;
-- name: win_lag_lead
SELECT id, lag(fib(a % 30)) OVER (ORDER BY id), lead(slugify(s), 2) OVER (ORDER BY id) FROM t ORDER BY id;
-- name: win_call_of_window
-- expect: 0A000 a window function in a call's arguments
SELECT id, plus(row_number() OVER (ORDER BY id), 100) FROM t ORDER BY id;
-- name: win_first_value
SELECT id, first_value(slugify(s)) OVER (PARTITION BY b ORDER BY id) FROM t ORDER BY id;
-- name: win_avg_frame
SELECT id, avg(plus(a, b)) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) FROM t ORDER BY id;
-- name: win_dense_rank_by_slug
SELECT id, dense_rank() OVER (ORDER BY slugify(s)) FROM t ORDER BY id;
-- name: win_named_window
SELECT id, sum(a) OVER w, max(plus(a, b)) OVER w FROM t WINDOW w AS (PARTITION BY b ORDER BY id) ORDER BY id;
-- name: win_top_per_group
SELECT id, rn FROM (SELECT id, row_number() OVER (PARTITION BY b ORDER BY fib(a % 30) DESC, id) AS rn FROM t) q WHERE rn = 1 ORDER BY id;
-- name: win_ntile_double
SELECT id, ntile(4) OVER (ORDER BY twice(x), id) FROM t ORDER BY id;
-- name: win_count_filter
SELECT id, count(*) FILTER (WHERE is_even(a)) OVER (ORDER BY id) FROM t ORDER BY id;
-- name: win_percent_rank
SELECT id, percent_rank() OVER (ORDER BY nvl_len(s), id) FROM t ORDER BY id;
-- name: win_running_sum_double
SELECT id, sum(twice(x)) OVER (ORDER BY id) FROM t WHERE id % 2 = 0 AND id <= 200 ORDER BY id;
-- name: win_whole_partition
SELECT id, max(slugify(s)) OVER (), min(plus(a, b)) OVER () FROM t ORDER BY id;
