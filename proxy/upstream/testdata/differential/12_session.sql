-- Session settings that change how values are written as text (PostgreSQL applies them to
-- every value it sends; wasm results must follow them too), and how timestamptz converts.

-- name: sess_extra_float_digits_0
-- session: SET extra_float_digits = 0
SELECT id, twice(x), halff(x::real), hyp(x, 1) FROM t WHERE id <= 30 OR id IN (201, 202, 203, 204, 208) ORDER BY id;
-- name: sess_extra_float_digits_3
-- session: SET extra_float_digits = 3
SELECT id, twice(x), halff(x::real) FROM t WHERE id <= 30 ORDER BY id;
-- name: sess_extra_float_digits_negative
-- session: SET extra_float_digits = -5
SELECT id, twice(x), avg(twice(x)) OVER () FROM t WHERE id <= 200 ORDER BY id;
-- name: sess_datestyle_sql_dmy
-- session: SET DateStyle = 'SQL, DMY'
SELECT id, d, next_day(d), plus_hour(ts::timestamp), ts FROM t ORDER BY id;
-- name: sess_datestyle_german
-- session: SET DateStyle = 'German'
SELECT id, next_day(d), plus_hour(ts::timestamp) FROM t WHERE id <= 40 ORDER BY id;
-- name: sess_datestyle_input_dmy
-- session: SET DateStyle = 'ISO, DMY'
SELECT next_day('01/02/2024'), days_between('31/01/2024', '01/01/2024');
-- name: sess_bytea_output_escape
-- session: SET bytea_output = 'escape'
SELECT id, echo_bytes(convert_to(s, 'UTF8')) FROM t ORDER BY id;
-- name: sess_timezone
-- session: SET TimeZone = 'America/New_York'
SELECT id, ts, plus_hour(ts::timestamp), plus_hour(ts::timestamp)::timestamptz FROM t ORDER BY id;
-- name: sess_timezone_in_where
-- session: SET TimeZone = 'Asia/Kolkata'
SELECT id FROM t WHERE plus_hour(ts::timestamp) < '2024-03-20 05:30' ORDER BY id;
-- name: sess_intervalstyle
-- session: SET IntervalStyle = 'iso_8601'
SELECT id, iv, plus(a, b) FROM t ORDER BY id;
