-- INSERT, UPDATE, DELETE and MERGE with calls. Each runs inside BEGIN ... ROLLBACK on both sides;
-- its "check" query reads the tables back before the rollback, and is compared too.

-- name: ins_select_calls
INSERT INTO w SELECT id + 100, plus(a, b), slugify(s), twice(x) FROM t WHERE id <= 20;
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_select_where_call
INSERT INTO w (id, v) SELECT id, fib(a % 30) FROM t WHERE is_even(a);
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_values_calls
INSERT INTO w VALUES (10, plus(1, 2), slugify('New Row'), twice(1.5));
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_values_params
INSERT INTO w VALUES ($1, plus($2, 3), slugify($3), NULL);
-- params: ["11", "4", "Param Text"]
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_values_multi_rows
INSERT INTO w VALUES (20, plus(1, 1), 'a', 1), (21, plus(2, 2), slugify('B C'), twice(2.0));
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_values_returning
INSERT INTO w VALUES (30, 5, 'Ret Urn', 2) RETURNING id, plus(v, 1), slugify(s);
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_select_returning
INSERT INTO w SELECT id + 200, a, s, x FROM t WHERE id <= 10 RETURNING id, slugify(s);
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_on_conflict_update
-- expect: 0A000 a wasm call in ON CONFLICT
INSERT INTO t (id, a, b) VALUES (1, plus(1, 1), 3) ON CONFLICT (id) DO UPDATE SET a = plus(excluded.a, t.a) RETURNING id, a;
-- check: SELECT id, a, b FROM t WHERE id <= 3 ORDER BY id
-- name: ins_on_conflict_nothing
INSERT INTO t (id, a) VALUES (2, fib(10)), (500, fib(11)) ON CONFLICT DO NOTHING;
-- check: SELECT id, a FROM t WHERE id IN (2, 500) ORDER BY id
-- name: ins_values_null_aware
INSERT INTO w VALUES (40, nvl_len(NULL), NULL, NULL), (41, is_null(NULL)::int, NULL, NULL);
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_select_row_error
INSERT INTO w SELECT id, 0, must_be_ascii(s), 0 FROM t;
-- check: SELECT count(*) FROM w
-- name: ins_values_bytea_call
INSERT INTO w (id, s) VALUES (50, encode(echo_bytes('\xdeadbeef'), 'hex'));
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: ins_select_many_batches
INSERT INTO w SELECT g, plus(g, 1), slugify('Row ' || g), g / 4.0 FROM generate_series(1000, 4000) g;
-- check: SELECT count(*), sum(v), max(s), sum(y) FROM w
-- name: upd_set_call
UPDATE t SET a = plus(a, b) WHERE id <= 50;
-- check: SELECT id, a, fib(abs(a) % 30) FROM t ORDER BY id
-- name: upd_set_slug
UPDATE t SET s = slugify(s) WHERE b = 2;
-- check: SELECT id, s FROM t ORDER BY id
-- name: upd_where_call
UPDATE t SET b = 0 WHERE is_even(a);
-- check: SELECT id, b FROM t ORDER BY id
-- name: upd_set_and_where_calls
UPDATE t SET a = fib(a % 30) WHERE plus(a, b) > 40 AND b = 1;
-- check: SELECT id, a, fib(abs(a) % 30) FROM t ORDER BY id
-- name: upd_returning_calls
UPDATE t SET b = b + 1 WHERE id < 10 RETURNING id, plus(a, b), slugify(s);
-- check: SELECT id, b FROM t ORDER BY id
-- name: upd_from_join
UPDATE w SET v = plus(w.v, t.a) FROM t WHERE t.id = w.id;
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: upd_params
UPDATE t SET a = plus(a, $1) WHERE id = $2;
-- params: ["5", "7"]
-- check: SELECT id, a FROM t WHERE id BETWEEN 6 AND 8 ORDER BY id
-- name: upd_set_several_calls
UPDATE t SET a = plus(a, 1), s = slugify(s), x = twice(x) WHERE id > 190;
-- check: SELECT id, a, s, x FROM t ORDER BY id
-- name: upd_row_error
UPDATE t SET s = must_be_ascii(s);
-- check: SELECT id, s FROM t ORDER BY id
-- name: upd_null_aware_call
UPDATE t SET a = nvl_len(s) WHERE id % 10 = 0;
-- check: SELECT id, a, fib(abs(a) % 30) FROM t ORDER BY id
-- name: upd_set_date_call
UPDATE t SET d = next_day(d) WHERE id <= 30;
-- check: SELECT id, d FROM t ORDER BY id
-- name: upd_set_timestamp_call
UPDATE t SET ts = plus_hour(ts::timestamp) WHERE id <= 30;
-- check: SELECT id, ts FROM t ORDER BY id
-- name: upd_no_rows
UPDATE t SET a = plus(a, 1) WHERE id < 0;
-- check: SELECT count(*) FROM t
-- name: upd_case_guarded_row_error
UPDATE t SET s = CASE WHEN octet_length(s) = length(s) THEN must_be_ascii(s) ELSE 'non-ascii' END WHERE id <= 40;
-- check: SELECT id, s FROM t ORDER BY id
-- name: del_where_call
DELETE FROM t WHERE is_even(a);
-- check: SELECT id FROM t ORDER BY id
-- name: del_where_slug
DELETE FROM u2 WHERE slugify(label) <> label;
-- check: SELECT id FROM u2 ORDER BY id
-- name: del_returning_calls
DELETE FROM t WHERE id > 200 RETURNING id, slugify(s), plus(a, b);
-- check: SELECT count(*) FROM t
-- name: del_where_mixed
DELETE FROM t WHERE b = 3 AND fib(a % 30) > 1000 RETURNING id;
-- check: SELECT count(*) FROM t
-- name: del_using_join
DELETE FROM u2 USING t WHERE u2.t_id = t.id AND is_even(t.a);
-- check: SELECT id FROM u2 ORDER BY id
-- name: del_params
DELETE FROM t WHERE plus(a, b) = $1;
-- params: ["10"]
-- check: SELECT id FROM t ORDER BY id
-- name: cte_insert_returning
-- expect: 0A000 a data-modifying WITH: preparing the arguments would run it twice
WITH ins AS (INSERT INTO w SELECT id + 300, plus(a, 1), s, x FROM t WHERE id < 5 RETURNING id, v) SELECT id, v FROM ins;
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
-- name: cte_delete_returning_aggregated
-- expect: 0A000 a data-modifying WITH: preparing the arguments would run it twice
WITH d AS (DELETE FROM w RETURNING id, v) SELECT sum(plus(v, 1)) FROM d;
-- check: SELECT count(*) FROM w
-- name: merge_with_calls
-- expect: 0A000 MERGE calling wasm functions
MERGE INTO w USING t ON w.id = t.id WHEN MATCHED THEN UPDATE SET v = plus(t.a, 1) WHEN NOT MATCHED AND t.id < 6 THEN INSERT VALUES (t.id + 1000, fib(t.a % 30), slugify(t.s), twice(t.x));
-- check: SELECT id, v, s, y, slugify(s), plus(v, 1) FROM w ORDER BY id
