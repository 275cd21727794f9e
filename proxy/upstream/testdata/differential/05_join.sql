-- Joins with calls in ON, in the select list and in WHERE.

-- name: join_on_slug
SELECT t.id, u2.id FROM t JOIN u2 ON slugify(t.s) = u2.label ORDER BY t.id, u2.id;
-- name: join_on_plus
SELECT t.id, u2.id FROM t JOIN u2 ON plus(t.id, 0) = u2.t_id ORDER BY 1, 2;
-- name: join_left_select_call
SELECT t.id, slugify(t.s), u2.label FROM t LEFT JOIN u2 ON u2.t_id = t.id ORDER BY t.id, u2.id;
-- name: join_select_call_both_tables
SELECT t.id, u2.id, plus(t.a, u2.t_id) FROM t JOIN u2 ON u2.t_id = t.id ORDER BY 1, 2;
-- name: join_where_call
SELECT t.id, u2.id FROM t JOIN u2 ON u2.t_id = t.id WHERE is_even(t.a) ORDER BY 1, 2;
-- name: join_on_calls_both_sides
SELECT t.id, u2.id FROM t JOIN u2 ON slugify(t.s) = slugify(u2.label) ORDER BY 1, 2;
-- name: join_left_on_call
SELECT t.id, u2.id FROM t LEFT JOIN u2 ON slugify(t.s) = u2.label WHERE t.id <= 60 ORDER BY 1, 2;
-- name: join_right_on_call
SELECT t.id, u2.id FROM t RIGHT JOIN u2 ON plus(t.id, 1) = u2.t_id ORDER BY 2, 1;
-- name: join_full_on_call
SELECT t.id, u2.id FROM t FULL JOIN u2 ON t.id = plus(u2.t_id, 0) ORDER BY 1, 2;
-- name: join_on_mixed
SELECT t.id, u2.id FROM t JOIN u2 ON u2.t_id = t.id AND is_even(t.a) ORDER BY 1, 2;
-- name: join_self_on_call
SELECT a1.id, a2.id FROM t a1 JOIN t a2 ON plus(a1.a, a1.b) = a2.a WHERE a1.id < 30 ORDER BY 1, 2;
-- name: join_using
SELECT id, slugify(s), label FROM t JOIN u2 USING (id) ORDER BY id;
-- name: join_cross
SELECT t.id, w.id, plus(t.a, w.v) FROM t CROSS JOIN w WHERE t.id <= 5 ORDER BY 1, 2;
-- name: join_comma_where_call
SELECT t.id, w.id FROM t, w WHERE plus(t.b, 0) = w.id ORDER BY 1, 2;
-- name: join_lateral_call
-- expect: 0A000 a call over an outer query's columns (LATERAL): its arguments cannot be prepared apart
SELECT t.id, q.p FROM t, LATERAL (SELECT plus(t.a, w.v) AS p FROM w) q WHERE t.id < 10 ORDER BY 1, 2;
-- name: join_grouped
SELECT u2.label, count(*), sum(fib(t.a % 30)) FROM t JOIN u2 ON u2.t_id = t.id GROUP BY u2.label;
-- name: join_three_tables
SELECT t.id, u2.id, w.id FROM t JOIN u2 ON u2.t_id = t.id JOIN w ON w.id = plus(t.b, 0) ORDER BY 1, 2, 3;
-- name: join_on_inequality_call
SELECT t.id, w.id FROM t JOIN w ON plus(t.a, 0) > w.v WHERE t.id <= 20 ORDER BY 1, 2;
-- name: join_on_null_aware_call
SELECT t.id, u2.id FROM t JOIN u2 ON nvl_len(t.s) = u2.id ORDER BY 1, 2;
-- name: join_passthrough_types
SELECT t.id, t.u, t.j, t.arr, slugify(u2.label) FROM t JOIN u2 ON u2.t_id = t.id ORDER BY t.id, u2.id;
-- name: join_subquery_with_call
SELECT t.id, q.g FROM t JOIN (SELECT id, slugify(label) AS g FROM u2) q ON q.id = t.id ORDER BY 1;
-- name: join_left_null_args
SELECT u2.id, plus(t.a, 1), is_null(t.a) FROM u2 LEFT JOIN t ON t.id = u2.t_id ORDER BY u2.id;
