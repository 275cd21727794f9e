#!/usr/bin/env python3
"""psycopg 3 against wasql's Postgres wire.

Run by integration/pgclients_test.go; by hand:

    PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGDATABASE=wasql python3 integration/clients/psycopg3_test.py

Needs python3-psycopg (apt-get install -y python3-psycopg). Each check prints "ok - NAME" or
"FAIL - NAME: why"; the script exits 1 when any check failed. psycopg 3 binds parameters on the
server (extended query protocol: Parse/Bind/Execute), a bytes parameter as a bytea, and prepares
a statement on the server once it has run 5 times (prepare_threshold).
"""
import base64
import os
import sys
import time
import traceback

try:
    import psycopg
except ImportError as e:
    print("FAIL - import: %s (apt-get install -y python3-psycopg)" % e)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
UID = "%d_%d" % (os.getpid(), int(time.time() * 1000) % 1000000)
TABLE, PLUS, SLUGIFY = "pg3_t_" + UID, "pg3_plus_" + UID, "pg3_slugify_" + UID

passed, failed = [], []
conn = None


def check(name, fn):
    """Runs fn; a failure is recorded and the transaction rolled back so later checks run."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every failure is a finding
        detail = "%s: %s" % (type(e).__name__, str(e).strip().replace("\n", " | "))
        code = getattr(e, "sqlstate", None)
        if code:
            detail += " (SQLSTATE %s)" % code
        print("FAIL - %s: %s" % (name, detail), flush=True)
        if os.environ.get("WASQL_CLIENT_TRACE"):
            traceback.print_exc()
        failed.append(name)
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001
            pass
        return False
    print("ok - %s" % name, flush=True)
    passed.append(name)
    return True


def expect(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def module(path):
    with open(os.path.join(REPO, path), "rb") as f:
        return f.read()


def connect():
    global conn
    conn = psycopg.connect(host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "5433"),
                           user=os.environ.get("PGUSER", "root"), dbname=os.environ.get("PGDATABASE", "wasql"),
                           password=os.environ.get("PGPASSWORD"), connect_timeout=10,
                           autocommit=True)  # wasql refuses writes inside a transaction block


if not check("connect", connect):
    print("%d passed, %d failed" % (len(passed), len(failed)))
    sys.exit(1)


def create_table():
    conn.execute("CREATE TABLE %s (id bigint primary key, a bigint, b bigint, s text)" % TABLE)
    conn.commit()


def create_plus_param():
    # bytes go out as a bytea parameter ($1) of the extended protocol
    conn.execute("CREATE FUNCTION " + PLUS + "(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS %s, 'add'",
                 (module("udf/testdata/numeric.wasm"),))
    conn.commit()


def create_plus_literal():
    conn.execute("CREATE FUNCTION " + PLUS + "(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\\x"
                 + module("udf/testdata/numeric.wasm").hex() + "', 'add'")
    conn.commit()


def create_slugify_text_param():
    # base64 in a text parameter: the literal form accepts base64, does a bound text parameter?
    conn.execute("CREATE FUNCTION " + SLUGIFY + "(text) RETURNS text LANGUAGE wasm AS %s, 'slugify'",
                 (base64.b64encode(module("udf/testdata/guests/c_funcs.wasm")).decode(),))
    conn.commit()


def create_slugify_literal():
    # base64 in the string literal
    conn.execute("CREATE FUNCTION " + SLUGIFY + "(text) RETURNS text LANGUAGE wasm AS '"
                 + base64.b64encode(module("udf/testdata/guests/c_funcs.wasm")).decode() + "', 'slugify'")
    conn.commit()


def insert():
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO " + TABLE + " (id, a, b, s) VALUES (%s, %s, %s, %s)",
                        [(1, 1, 2, "Hello, World!"), (2, 40, 2, "WebAssembly in SQL"), (3, None, 1, None)])
        cur.execute("SELECT count(*) FROM " + TABLE)
        expect(cur.fetchone()[0], 3, "count(*)")
    conn.commit()


def select_funcs():
    with conn.cursor() as cur:
        cur.execute("SELECT id, %s(a, b), %s(s) FROM %s WHERE id >= %%s AND id <= %%s ORDER BY id"
                    % (PLUS, SLUGIFY, TABLE), (1, 3))
        expect(cur.fetchall(), [(1, 3, "hello-world"), (2, 42, "webassembly-in-sql"), (3, None, None)], "rows")
        cur.execute("SELECT id FROM %s WHERE %s(a, b) = %%s AND %s(s) = %%s" % (TABLE, PLUS, SLUGIFY),
                    (42, "webassembly-in-sql"))
        expect(cur.fetchall(), [(2,)], "rows where plus(a, b) = 42")
    conn.commit()


def wasm_arg_params():
    # parameters as the arguments of wasm functions
    with conn.cursor() as cur:
        cur.execute("SELECT %s(%%s, %%s)" % PLUS, (40, 2))
        expect(cur.fetchone()[0], 42, "plus of two parameters")
        cur.execute("SELECT %s(%%s)" % SLUGIFY, ("Ünïcode  Text!",))
        expect(cur.fetchone()[0], "n-code-text", "slugify of a UTF-8 parameter")
        cur.execute("SELECT %s(a, %%s) FROM %s WHERE id = %%s" % (PLUS, TABLE), (100, 2))
        expect(cur.fetchone()[0], 140, "plus(a, parameter)")
    conn.commit()


def aggregate():
    with conn.cursor() as cur:
        cur.execute("SELECT sum(%s(a, b)), count(*) FROM %s WHERE %s(a, b) > %%s" % (PLUS, TABLE, PLUS), (0,))
        total, n = cur.fetchone()
        expect((int(total), int(n)), (45, 2), "sum(plus(a, b)), count(*)")
    conn.commit()


def binary_results():
    # binary=True asks for every result column in binary format
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT id, %s(a, b), %s(s) FROM %s WHERE id = %%s" % (PLUS, SLUGIFY, TABLE), (2,))
        expect(cur.fetchall(), [(2, 42, "webassembly-in-sql")], "binary rows")
    conn.commit()


def prepared_repeat():
    # past prepare_threshold (5) psycopg prepares the statement on the server and reuses it
    q = "SELECT id, %s(a, b), %s(s) FROM %s WHERE id = %%s" % (PLUS, SLUGIFY, TABLE)
    want = {1: (1, 3, "hello-world"), 2: (2, 42, "webassembly-in-sql"), 3: (3, None, None)}
    for i in range(9):
        row = conn.execute(q, (i % 3 + 1,)).fetchone()
        expect(row, want[i % 3 + 1], "execution %d" % (i + 1))
    conn.commit()


def unknown_function():
    try:
        conn.execute("SELECT no_such_function_%s(%%s)" % UID, (1,))
    except psycopg.Error as e:
        if not e.sqlstate:
            raise AssertionError("error without SQLSTATE: %s" % e)
        if e.sqlstate == "XX000":
            raise AssertionError("unknown function gave SQLSTATE XX000 (internal error): %s" % e)
        print("# unknown function: SQLSTATE %s: %s" % (e.sqlstate, str(e).strip()))
        return
    raise AssertionError("no error for an unknown function")


def after_error():
    expect(conn.execute("SELECT %s(a, b) FROM %s WHERE id = %%s" % (PLUS, TABLE), (2,)).fetchone()[0], 42,
           "a query after the error")
    conn.commit()


def copy_from_stdin():
    table = "pg3_copy_" + UID
    conn.execute("CREATE TABLE %s (id bigint primary key, n integer, s text)" % table)
    with conn.cursor() as cur:
        with cur.copy("COPY %s (id, n, s) FROM STDIN" % table) as copy:
            copy.write_row((1, 10, "tab\there"))
            copy.write_row((2, None, None))
        with cur.copy("COPY %s (id, n, s) FROM STDIN (FORMAT BINARY)" % table) as copy:
            copy.set_types(["int8", "int4", "text"])
            copy.write_row((3, 30, "bin"))
    rows = conn.execute("SELECT id, n, s FROM %s ORDER BY id" % table).fetchall()
    expect(rows, [(1, 10, "tab\there"), (2, None, None), (3, 30, "bin")], "rows copied")
    conn.commit()


check("create_table", create_table)
if not check("create_plus_bytea_param", create_plus_param):
    check("create_plus_literal", create_plus_literal)
if not check("create_slugify_base64_text_param", create_slugify_text_param):
    check("create_slugify_literal", create_slugify_literal)
check("insert_params", insert)
check("select_params", select_funcs)
check("wasm_arg_params", wasm_arg_params)
check("aggregate", aggregate)
check("binary_results", binary_results)
check("prepared_repeat", prepared_repeat)
check("unknown_function_sqlstate", unknown_function)
# the failed transaction's ROLLBACK; psycopg then sends DEALLOCATE ALL (extended protocol) because
# prepared_repeat left server-side prepared statements
check("rollback_after_error", conn.rollback)
check("after_error", after_error)
check("copy_from_stdin", copy_from_stdin)
conn.close()

print("%d passed, %d failed" % (len(passed), len(failed)))
sys.exit(1 if failed else 0)
