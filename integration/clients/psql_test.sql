-- psql against wasql's Postgres wire. Run by integration/pgclients_test.go, which compares the
-- output with pgclients_test.go's psqlWant; by hand, from the repository root:
--
--   PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGDATABASE=wasql \
--     psql -X -q -A -t -v ON_ERROR_STOP=1 -v uid=$$ -f integration/clients/psql_test.sql
--
-- psql sends every statement with the simple query protocol; :'var' interpolates a variable as a
-- quoted literal on the client (psql 15 has no \bind).
\set ON_ERROR_STOP 1
\pset null NULL
\set t psql_t_ :uid
\set plus psql_plus_ :uid
\set slugify psql_slugify_ :uid
\set plushex psql_plus_hex_ :uid
-- the module as base64 in a psql variable
\set m `base64 -w0 udf/testdata/numeric.wasm`
\set c `base64 -w0 udf/testdata/guests/c_funcs.wasm`
\set h `od -An -v -tx1 udf/testdata/numeric.wasm | tr -d ' \n'`
\echo == create
CREATE TABLE :t (id bigint primary key, a bigint, b bigint, s text);
CREATE FUNCTION :plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS :'m', 'add';
CREATE FUNCTION :slugify(text) RETURNS text LANGUAGE wasm AS :'c', 'slugify';
-- the same module as hex: '\x0061736d...'
\set hx '\\x' :h
CREATE FUNCTION :plushex(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS :'hx', 'add';
\echo == insert
\set s1 'Hello, World!'
\set s2 'WebAssembly in SQL'
INSERT INTO :t (id, a, b, s) VALUES (1, 1, 2, :'s1'), (2, 40, 2, :'s2'), (3, NULL, 1, NULL);
SELECT count(*) FROM :t;
\echo == select
\set lo 1
\set hi 3
SELECT id, :plus(a, b), :slugify(s) FROM :t WHERE id >= :lo AND id <= :hi ORDER BY id;
\set want 42
\set slug 'webassembly-in-sql'
SELECT id, :plushex(a, b) FROM :t WHERE :plus(a, b) = :want AND :slugify(s) = :'slug';
\set u 'Ünïcode  Text!'
SELECT :plus(40, 2), :slugify(:'u');
\echo == aggregate
SELECT sum(:plus(a, b)), count(*) FROM :t WHERE :plus(a, b) > 0;
\echo == unknown function
\set ON_ERROR_STOP 0
SELECT no_such_function_:uid(1);
\echo sqlstate :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
\echo == after the error
SELECT :plus(a, b) FROM :t WHERE id = 2;
\echo == copy
COPY :t (id, a, b, s) FROM STDIN;
4	1	1	tab\there
5	\N	7	\N
\.
SELECT id, :plus(a, b), s FROM :t WHERE id >= 4 ORDER BY id;
CREATE TABLE psql_copy (id bigint primary key, a bigint, s text);
\copy psql_copy from 'integration/clients/copy_rows.csv' with (format csv, header)
SELECT count(*), sum(a), count(s) FROM psql_copy;
SELECT length(s) FROM psql_copy ORDER BY id;
COPY (SELECT id, s FROM psql_copy ORDER BY id) TO STDOUT WITH (FORMAT csv);
