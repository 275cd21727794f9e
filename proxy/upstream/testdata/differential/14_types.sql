-- The v1 types not covered elsewhere: smallint (with its range error) and json (which has no
-- equality operator, so its values cannot be told apart by PostgreSQL).

-- name: smallint_call
SELECT id, kilo(b::smallint) FROM t ORDER BY id;
-- name: smallint_out_of_range
SELECT id, kilo(id::smallint) FROM t ORDER BY id;
-- name: smallint_guarded
SELECT id, CASE WHEN id < 33 THEN kilo(id::smallint) END FROM t ORDER BY id;
-- name: smallint_int_literal
SELECT kilo(7::int2), kilo('-32');
-- name: smallint_where
SELECT id FROM t WHERE kilo(b::smallint) > 2000 ORDER BY id;
-- name: smallint_sum
SELECT sum(kilo(b::smallint)), pg_typeof(sum(kilo(b::smallint))) FROM t;
-- name: smallint_param
SELECT kilo($1);
-- params: ["12"]
-- name: json_call
SELECT id, json_ascii(j::json) FROM t ORDER BY id;
-- name: json_call_keeps_text
SELECT json_ascii('{"a": 1,   "b": [1, 2]}'), json_ascii('"x"'), json_ascii('null');
-- name: json_call_operators
SELECT id, json_ascii(j::json)->>'tag', json_ascii(j::json)->'k' FROM t ORDER BY id;
-- name: json_call_where
SELECT id FROM t WHERE json_ascii(j::json)->>'tag' = 'odd' AND b = 1 ORDER BY id;
-- name: json_call_to_jsonb
SELECT id, json_ascii(j::json)::jsonb = j FROM t ORDER BY id;
-- name: json_whitespace_distinct
SELECT n, json_ascii(v) FROM (VALUES (1, '{"a":1}'::json), (2, '{"a": 1}'), (3, '{"a":1}')) q(n, v) ORDER BY n;
-- name: json_row_error
SELECT json_ascii('{"k": "é"}');
-- name: json_param
SELECT json_ascii($1);
-- params: ["{\"p\":  [true, null]}"]
-- name: json_agg_of_calls
SELECT json_agg(json_ascii(j::json) ORDER BY id) FROM t WHERE id <= 10;
