-- Several statements in one simple Query (the extended protocol refuses them alike, 42601), the
-- transaction test of the issue among them: insert, call on the new rows, roll back.

-- name: multi_two_selects
SELECT plus(1, 2); SELECT slugify('A B');
-- name: multi_plain_then_call
SELECT 1 AS one; SELECT id, plus(a, b) FROM t WHERE id < 5 ORDER BY id;
-- name: multi_row_error_in_the_middle
SELECT plus(1, 2); SELECT must_be_ascii('é'); SELECT 3;
-- name: multi_setting_then_call
SET extra_float_digits = 0; SELECT id, twice(x) FROM t WHERE id < 5 ORDER BY id; RESET extra_float_digits;
-- name: multi_insert_then_call_on_new_rows
INSERT INTO w VALUES (60, plus(1, 1), 'Sixty Here', 0); SELECT v, slugify(s), is_null(v) FROM w WHERE id = 60;
-- check: SELECT count(*) FROM w
-- name: multi_transaction_rolled_back
BEGIN; INSERT INTO w VALUES (61, plus(2, 2), 'Sixty One', 0.5); SELECT id, slugify(s), twice(y) FROM w ORDER BY id; ROLLBACK;
-- check: SELECT id, v, s FROM w ORDER BY id
-- name: multi_transaction_update_then_aggregate
BEGIN; UPDATE t SET a = plus(a, 100) WHERE id <= 20; SELECT sum(fib(a % 30)), max(a) FROM t; ROLLBACK;
-- check: SELECT sum(a) FROM t
-- name: multi_transaction_error_aborts
BEGIN; UPDATE t SET s = must_be_ascii(s); SELECT 1; ROLLBACK;
-- check: SELECT count(*) FROM t
