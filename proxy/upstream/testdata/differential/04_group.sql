-- Calls as GROUP BY keys and aggregate arguments, in HAVING, over aggregates, and with DISTINCT.

-- name: agg_sum_plus
SELECT sum(plus(a, b)) FROM t;
-- name: agg_sum_fib
SELECT sum(fib(a % 30)) FROM t;
-- name: agg_count_and_distinct_slug
SELECT count(slugify(s)), count(DISTINCT slugify(s)) FROM t;
-- name: agg_avg_double_exact
SELECT avg(twice(x)) FROM t WHERE id % 2 = 0 AND id <= 200;
-- name: agg_avg_double_inexact
SELECT avg(twice(x)) FROM t WHERE id <= 200;
-- name: agg_min_max
SELECT min(plus(a, b)), max(plus(a, b)), min(slugify(s)), max(slugify(s)) FROM t;
-- name: group_by_boolean_call
SELECT is_even(a), count(*) FROM t GROUP BY is_even(a);
-- name: group_by_slug
SELECT slugify(s), count(*) FROM t GROUP BY slugify(s);
-- name: group_by_position_ordered
SELECT slugify(s) AS g, count(*), sum(a) FROM t GROUP BY 1 ORDER BY g NULLS FIRST;
-- name: group_by_column_aggregate_calls
SELECT b, sum(plus(a, b)), count(fib(a % 30)) FROM t GROUP BY b ORDER BY b NULLS FIRST;
-- name: group_by_column_and_call
SELECT b, is_even(a), count(*) FROM t GROUP BY b, is_even(a);
-- name: having_aggregate_of_call
SELECT b, sum(a) FROM t GROUP BY b HAVING sum(plus(a, 1)) > 100;
-- name: having_call_of_aggregate
SELECT b, count(*) FROM t GROUP BY b HAVING plus(count(*), 0) > 20;
-- name: having_on_call_group
SELECT slugify(s), count(*) FROM t GROUP BY slugify(s) HAVING count(*) > 1;
-- name: agg_nested_calls
SELECT sum(plus(fib(a % 20), twice(id))) FROM t;
-- name: agg_string_agg_ordered
SELECT string_agg(slugify(s), ',' ORDER BY id) FROM t WHERE id <= 30;
-- name: agg_array_agg_ordered
SELECT array_agg(plus(a, b) ORDER BY id) FROM t WHERE id <= 40;
-- name: agg_filter_calls
SELECT count(*) FILTER (WHERE is_even(a)), sum(a) FILTER (WHERE plus(a, b) > 10) FROM t;
-- name: agg_bool_and_or
SELECT bool_and(is_even(a)), bool_or(is_null(a)) FROM t;
-- name: agg_call_of_aggregate
SELECT plus(sum(a)::bigint, count(*)) FROM t;
-- name: agg_call_of_aggregate_grouped
SELECT b, fib(count(*) % 30) FROM t GROUP BY b;
-- name: agg_sum_length_slug
SELECT sum(length(slugify(s))) FROM t;
-- name: agg_avg_null_aware
SELECT avg(nvl_len(s)) FROM t;
-- name: agg_count_distinct_call
SELECT count(DISTINCT plus(a, b)) FROM t;
-- name: group_by_date_call
SELECT next_day(d), count(*) FROM t GROUP BY next_day(d);
-- name: group_by_rollup
SELECT b, is_even(a), count(*) FROM t GROUP BY ROLLUP (b, is_even(a));
-- name: group_by_grouping_sets
SELECT is_even(a), is_null(b), count(*) FROM t GROUP BY GROUPING SETS ((is_even(a)), (is_null(b)), ());
-- name: agg_sum_double_exact
SELECT sum(twice(x)) FROM t WHERE id % 2 = 0 AND id <= 200;
-- name: agg_sum_double_inexact
SELECT sum(twice(x)) FROM t WHERE id % 2 = 1 AND id <= 200;
-- name: agg_stddev_numeric
SELECT stddev(plus(a, b)), variance(fib(a % 20)) FROM t;
-- name: agg_jsonb_object_agg
SELECT jsonb_object_agg(id, slugify(s)) FROM t WHERE id <= 10;
-- name: having_without_group
SELECT count(*) FROM t HAVING plus(count(*), 1) > 0;
-- name: group_by_passthrough_types
SELECT j->>'tag', sum(plus(a, b)), max(ts), min(iv), max(n), min(u::text) FROM t GROUP BY j->>'tag';
-- name: group_by_expression_of_call
SELECT plus(a, b) % 5, count(*) FROM t GROUP BY plus(a, b) % 5;
-- name: agg_sum_many_batches
SELECT sum(plus(g, 1)), count(fib(g % 40)) FROM generate_series(1, 20000) g;
-- name: distinct_call
SELECT DISTINCT slugify(s) FROM t;
-- name: distinct_call_and_column
SELECT DISTINCT is_even(a), b FROM t;
-- name: distinct_ordered
SELECT DISTINCT plus(b, 1) AS p FROM t ORDER BY p NULLS FIRST;
-- name: distinct_on_call
SELECT DISTINCT ON (is_even(a)) is_even(a), id FROM t ORDER BY is_even(a), id;
-- name: distinct_on_column_call_listed
SELECT DISTINCT ON (b) b, id, slugify(s) FROM t ORDER BY b, id;
-- name: distinct_in_subquery
SELECT count(*) FROM (SELECT DISTINCT fib(a % 30) FROM t) q;
-- name: distinct_null_aware
SELECT DISTINCT nvl_len(s), s FROM t;
