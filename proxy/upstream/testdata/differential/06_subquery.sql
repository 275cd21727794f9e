-- Subqueries (scalar, IN, EXISTS, ANY/ALL, in FROM; correlated and not) and CTEs with calls.

-- name: sub_scalar_in_select
SELECT id, (SELECT max(plus(a, b)) FROM t) FROM w ORDER BY id;
-- name: sub_scalar_in_where
SELECT id FROM t WHERE plus(a, b) = (SELECT max(plus(a, b)) FROM t) ORDER BY id;
-- name: sub_in_call_inside
SELECT id FROM t WHERE id IN (SELECT plus(t_id, 0) FROM u2) ORDER BY id;
-- name: sub_in_call_outside
SELECT id FROM t WHERE slugify(s) IN (SELECT label FROM u2) ORDER BY id;
-- name: sub_not_in
SELECT id FROM t WHERE slugify(s) NOT IN (SELECT label FROM u2 WHERE label IS NOT NULL) ORDER BY id;
-- name: sub_not_in_with_null
SELECT id FROM t WHERE slugify(s) NOT IN (SELECT label FROM u2) ORDER BY id;
-- name: sub_exists_correlated
-- expect: 0A000 a call over an outer query's columns (correlated subquery)
SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u2 WHERE u2.label = slugify(t.s)) ORDER BY id;
-- name: sub_not_exists_correlated
-- expect: 0A000 a call over an outer query's columns (correlated subquery)
SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u2 WHERE u2.t_id = plus(t.id, 0)) ORDER BY id;
-- name: sub_exists_uncorrelated
SELECT id FROM t WHERE EXISTS (SELECT 1 FROM w WHERE is_even(v)) AND id < 5 ORDER BY id;
-- name: sub_scalar_correlated_call_inside
SELECT id, (SELECT count(*) FROM u2 WHERE u2.t_id = t.id AND is_even(u2.id)) FROM t ORDER BY id;
-- name: sub_scalar_correlated_call_outer_arg
-- expect: 0A000 a call over an outer query's columns (correlated subquery)
SELECT id, (SELECT max(u2.id) FROM u2 WHERE u2.label = slugify(t.s)) FROM t ORDER BY id;
-- name: sub_from
SELECT q.id, q.p * 2 FROM (SELECT id, plus(a, b) AS p FROM t) q WHERE q.p > 10 ORDER BY q.id;
-- name: sub_from_aggregated
SELECT avg(p) FROM (SELECT fib(a % 30) AS p FROM t) q;
-- name: sub_from_nested
SELECT id, slugify(x) FROM (SELECT id, s || '!' AS x FROM (SELECT id, s FROM t WHERE id < 50) a) b ORDER BY id;
-- name: sub_any
SELECT id FROM t WHERE plus(a, b) = ANY (SELECT v FROM w) ORDER BY id;
-- name: sub_all
SELECT id FROM t WHERE plus(a, b) > ALL (SELECT v FROM w WHERE v IS NOT NULL) ORDER BY id;
-- name: sub_in_values
SELECT id FROM t WHERE b IN (SELECT plus(v, 0) FROM (VALUES (1), (2)) q(v)) ORDER BY id;
-- name: sub_scalar_as_argument
SELECT id, plus(a, (SELECT min(v) FROM w)) FROM t ORDER BY id;
-- name: sub_scalar_more_than_one_row
SELECT id, (SELECT plus(v, 1) FROM w) FROM t;
-- name: sub_array_constructor
SELECT ARRAY(SELECT slugify(s) FROM t WHERE id <= 10 ORDER BY id);
-- name: sub_correlated_count_as_argument
SELECT id, plus((SELECT count(*) FROM u2 WHERE u2.t_id = t.id), a) FROM t ORDER BY id;
-- name: sub_in_select_list_in
SELECT id, slugify(s) IN (SELECT label FROM u2 WHERE label IS NOT NULL) FROM t ORDER BY id;
-- name: cte_basic
WITH q AS (SELECT id, plus(a, b) AS p FROM t) SELECT id, p FROM q WHERE p > 20 ORDER BY id;
-- name: cte_call_outside
WITH q AS (SELECT id, s FROM t WHERE id < 100) SELECT id, slugify(s) FROM q ORDER BY id;
-- name: cte_two
WITH a AS (SELECT id, fib(a % 30) AS f FROM t), b AS (SELECT f, count(*) AS c FROM a GROUP BY f) SELECT f, c FROM b ORDER BY f NULLS FIRST;
-- name: cte_materialized
WITH q AS MATERIALIZED (SELECT id, slugify(s) AS g FROM t) SELECT g, count(*) FROM q GROUP BY g;
-- name: cte_not_materialized
WITH q AS NOT MATERIALIZED (SELECT id, plus(a, b) AS p FROM t) SELECT id FROM q WHERE p = 10 ORDER BY id;
-- name: cte_recursive_fib
-- expect: 0A000 a wasm call in WITH RECURSIVE: its arguments depend on the recursion
WITH RECURSIVE r(n, f) AS (SELECT 0::bigint, fib(0) UNION ALL SELECT n + 1, fib(n + 1) FROM r WHERE n < 40) SELECT n, f FROM r ORDER BY n;
-- name: cte_recursive_plus
-- expect: 0A000 a wasm call in WITH RECURSIVE: its arguments depend on the recursion
WITH RECURSIVE r(n) AS (SELECT 1::bigint UNION ALL SELECT plus(n, n) FROM r WHERE n < 1000) SELECT n FROM r ORDER BY n;
-- name: cte_joined
WITH sl AS (SELECT id, slugify(s) AS g FROM t) SELECT sl.id, u2.id FROM sl JOIN u2 ON u2.label = sl.g ORDER BY 1, 2;
-- name: cte_used_twice
WITH q AS (SELECT id, plus(a, b) AS p FROM t) SELECT x.id, y.id FROM q x JOIN q y ON x.p = y.p AND x.id < y.id WHERE x.id < 20 ORDER BY 1, 2;
-- name: cte_scalar_max
WITH m AS (SELECT max(fib(a % 30)) AS m FROM t) SELECT id FROM t, m WHERE fib(a % 30) = m.m ORDER BY id;
