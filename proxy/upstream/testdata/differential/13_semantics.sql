-- Where "the same argument" is subtle: values PostgreSQL's equality calls equal but a function
-- tells apart (-0 and 0; strings under a nondeterministic collation), the empty string and
-- empty bytea beside NULL, and VOLATILE functions.

-- name: negzero_column
SELECT id, x, twice(x) FROM t WHERE id IN (100, 204, 208) ORDER BY id;
-- name: negzero_real
SELECT id, halff(x::real) FROM t WHERE id IN (100, 201, 202, 203, 204, 208) ORDER BY id;
-- name: negzero_constants
SELECT twice('-0'::float8), twice(0::float8), halff('-0'), hyp('-0', '-0');
-- name: negzero_values
SELECT n, v, twice(v) FROM (VALUES (1, '-0'::float8), (2, 0), (3, '-0')) q(n, v) ORDER BY n;
-- name: negzero_where
SELECT id FROM t WHERE twice(x)::text = '-0' ORDER BY id;
-- name: negzero_param
SELECT twice($1::float8), twice($2::float8);
-- params: ["-0", "0"]
-- name: empty_text_constants
SELECT slugify(''), must_be_ascii(''), nvl_len(''), length(must_be_ascii(''));
-- name: empty_text_param
SELECT nvl_len($1), slugify($1), must_be_ascii($1) IS NULL;
-- params: [""]
-- name: empty_bytea_param
SELECT echo_bytes($1), echo_bytes($1) IS NULL;
-- params: ["\\x"]
-- name: empty_text_values
SELECT v, nvl_len(v), slugify(v) FROM (VALUES (''), (NULL), ('a')) q(v) ORDER BY 1 NULLS FIRST;
-- name: empty_text_column
SELECT id, s, nvl_len(s), slugify(s), must_be_ascii(s) FROM te ORDER BY id;
-- name: empty_bytea_column
SELECT id, echo_bytes(bb), octet_length(echo_bytes(bb)), echo_bytes(convert_to(s, 'UTF8')) FROM te ORDER BY id;
-- name: empty_text_where
SELECT id FROM te WHERE nvl_len(s) = 0 ORDER BY id;
-- name: empty_and_null_grouped
SELECT nvl_len(s), count(*) FROM te GROUP BY 1;
-- name: coll_identity_per_row
SELECT id, must_be_ascii(s) FROM tci WHERE id <= 3 ORDER BY id;
-- name: coll_identity_all
SELECT id, s, must_be_ascii(s), nvl_len(s) FROM tci WHERE id NOT IN (4, 9) ORDER BY id;
-- name: coll_result_compared
SELECT id FROM tci WHERE id IN (1, 2, 3, 5, 7, 8) AND must_be_ascii(s) = 'hello world' ORDER BY id;
-- name: coll_distinct_count
SELECT count(DISTINCT must_be_ascii(s)) FROM tci WHERE id <= 3;
-- name: coll_explicit_c
SELECT id, must_be_ascii(s COLLATE "C") FROM tci WHERE id <= 3 ORDER BY id;
-- name: coll_literals
SELECT must_be_ascii('ABC' COLLATE ci), must_be_ascii('abc' COLLATE ci);
-- name: coll_slug_of_identity
SELECT id, slugify(must_be_ascii(s)) || '|' || must_be_ascii(s) FROM tci WHERE id IN (1, 2, 3, 7, 8) ORDER BY id;
-- name: coll_nonascii_len
SELECT id, nvl_len(s) FROM tci ORDER BY id;
-- name: volatile_update
UPDATE t SET a = vplus(a, 1) WHERE id <= 10;
-- expect: 0A000 a VOLATILE call outside the outermost select list: the planner would evaluate it once per distinct argument (memo tables), which only IMMUTABLE and STABLE functions allow
-- check: SELECT id, a FROM t WHERE id <= 10 ORDER BY id
-- name: volatile_beside_immutable
SELECT id, plus(a, b), vplus(a, b) FROM t WHERE id <= 10 ORDER BY id;
