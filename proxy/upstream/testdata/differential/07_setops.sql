-- UNION, INTERSECT and EXCEPT with calls on one side or both.

-- name: union_all
SELECT id, plus(a, b) FROM t WHERE id < 10 UNION ALL SELECT id, v FROM w;
-- name: union_distinct
SELECT slugify(s) FROM t UNION SELECT label FROM u2;
-- name: union_ordered
SELECT plus(a, b) AS p FROM t UNION SELECT v FROM w ORDER BY p NULLS FIRST;
-- name: union_calls_both_sides
SELECT slugify(s) FROM t WHERE id < 50 UNION SELECT slugify(s) FROM w;
-- name: intersect_distinct
SELECT slugify(s) FROM t INTERSECT SELECT label FROM u2;
-- name: intersect_all
SELECT is_even(a) FROM t INTERSECT ALL SELECT is_even(v) FROM w;
-- name: except_distinct
SELECT slugify(s) FROM t EXCEPT SELECT label FROM u2;
-- name: except_all
SELECT b FROM t EXCEPT ALL SELECT plus(b, 0) FROM t WHERE id < 100;
-- name: union_of_limited_branches
(SELECT id, slugify(s) FROM t ORDER BY id LIMIT 3) UNION ALL (SELECT id, slugify(s) FROM w ORDER BY id LIMIT 2);
-- name: union_double_and_integer
SELECT twice(x) FROM t WHERE id < 20 UNION ALL SELECT twice(id) FROM t WHERE id < 20;
-- name: union_bigint_and_numeric
SELECT plus(a, b) FROM t WHERE id < 5 UNION ALL SELECT 1.5;
-- name: union_counted
SELECT count(*) FROM (SELECT slugify(s) FROM t UNION SELECT slugify(s) FROM w) q;
-- name: union_null_aware
SELECT is_null(a) FROM t UNION SELECT is_null(NULL);
-- name: except_calls_both_sides
SELECT fib(a % 30) FROM t EXCEPT SELECT fib(b + 4) FROM t;
-- name: union_constants
SELECT plus(1, 2) UNION ALL SELECT plus(3, 4) UNION ALL SELECT 5;
-- name: union_three_way_ordered
SELECT id, slugify(s) AS g FROM t WHERE id < 5 UNION SELECT id, slugify(label) FROM u2 WHERE id < 5 UNION SELECT id, s FROM w ORDER BY 1, 2;
