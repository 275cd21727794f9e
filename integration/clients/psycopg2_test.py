#!/usr/bin/env python3
"""psycopg2 (libpq) against wasql's Postgres wire.

Run by integration/pgclients_test.go; by hand:

    PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGDATABASE=wasql python3 integration/clients/psycopg2_test.py

Needs python3-psycopg2 (apt-get install -y python3-psycopg2). Each check prints "ok - NAME" or
"FAIL - NAME: why"; the script exits 1 when any check failed. psycopg2 interpolates parameters
on the client (simple query protocol), so a bytes parameter arrives as the literal
'\\x...'::bytea.
"""
import os
import sys
import time
import traceback

try:
    import psycopg2
except ImportError as e:
    print("FAIL - import: %s (apt-get install -y python3-psycopg2)" % e)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
UID = "%d_%d" % (os.getpid(), int(time.time() * 1000) % 1000000)
TABLE, PLUS, SLUGIFY = "pg2_t_" + UID, "pg2_plus_" + UID, "pg2_slugify_" + UID

passed, failed = [], []


def check(name, fn):
    """Runs fn; a failure is recorded and the transaction rolled back so later checks run."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every failure is a finding
        detail = "%s: %s" % (type(e).__name__, str(e).strip().replace("\n", " | "))
        code = getattr(e, "pgcode", None)
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


conn = None


def connect():
    global conn
    conn = psycopg2.connect(host=os.environ.get("PGHOST", "127.0.0.1"), port=os.environ.get("PGPORT", "5433"),
                            user=os.environ.get("PGUSER", "root"), dbname=os.environ.get("PGDATABASE", "wasql"),
                            password=os.environ.get("PGPASSWORD"), connect_timeout=10)
    # wasql refuses writes inside a transaction block (it cannot undo them yet), and psycopg2
    # opens one before the first statement unless autocommit is on.
    conn.autocommit = True


if not check("connect", connect):
    print("%d passed, %d failed" % (len(passed), len(failed)))
    sys.exit(1)

cur = conn.cursor()


def create_table():
    cur.execute("CREATE TABLE %s (id bigint primary key, a bigint, b bigint, s text)" % TABLE)
    conn.commit()


def create_plus_param():
    # psycopg2.Binary is what an application passes for bytea; psycopg2 renders it '\x..'::bytea.
    cur.execute("CREATE FUNCTION " + PLUS + "(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS %s, 'add'",
                (psycopg2.Binary(module("udf/testdata/numeric.wasm")),))
    conn.commit()


def create_plus_literal():
    cur.execute("CREATE FUNCTION " + PLUS + "(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\\x%s', 'add'"
                % module("udf/testdata/numeric.wasm").hex())
    conn.commit()


def create_slugify():
    import base64
    # a str parameter: psycopg2 quotes it as a plain string literal
    cur.execute("CREATE FUNCTION " + SLUGIFY + "(text) RETURNS text LANGUAGE wasm AS %s, 'slugify'",
                (base64.b64encode(module("udf/testdata/guests/c_funcs.wasm")).decode(),))
    conn.commit()


def insert():
    rows = [(1, 1, 2, "Hello, World!"), (2, 40, 2, "WebAssembly in SQL"), (3, None, 1, None)]
    for r in rows:
        cur.execute("INSERT INTO " + TABLE + " (id, a, b, s) VALUES (%s, %s, %s, %s)", r)
    conn.commit()
    cur.execute("SELECT count(*) FROM " + TABLE)
    expect(int(cur.fetchone()[0]), 3, "count(*)")
    conn.commit()


def select_funcs():
    cur.execute("SELECT id, %s(a, b), %s(s) FROM %s WHERE id >= %%s AND id <= %%s ORDER BY id" % (PLUS, SLUGIFY, TABLE),
                (1, 3))
    expect(cur.fetchall(), [(1, 3, "hello-world"), (2, 42, "webassembly-in-sql"), (3, None, None)], "rows")
    cur.execute("SELECT id FROM %s WHERE %s(a, b) = %%s AND %s(s) = %%s" % (TABLE, PLUS, SLUGIFY),
                (42, "webassembly-in-sql"))
    expect(cur.fetchall(), [(2,)], "rows where plus(a, b) = 42")
    conn.commit()


def wasm_arg_params():
    # parameters as the arguments of wasm functions
    cur.execute("SELECT %s(%%s, %%s)" % PLUS, (40, 2))
    expect(cur.fetchone()[0], 42, "plus of two parameters")
    cur.execute("SELECT %s(%%s)" % SLUGIFY, ("Ünïcode  Text!",))
    expect(cur.fetchone()[0], "n-code-text", "slugify of a UTF-8 parameter")
    cur.execute("SELECT %s(a, %%s) FROM %s WHERE id = %%s" % (PLUS, TABLE), (100, 2))
    expect(cur.fetchone()[0], 140, "plus(a, parameter)")
    conn.commit()


def aggregate():
    cur.execute("SELECT sum(%s(a, b)), count(*) FROM %s WHERE %s(a, b) > %%s" % (PLUS, TABLE, PLUS), (0,))
    total, n = cur.fetchone()
    expect((int(total), int(n)), (45, 2), "sum(plus(a, b)), count(*)")
    conn.commit()


def unknown_function():
    try:
        cur.execute("SELECT no_such_function_%s(%%s)" % UID, (1,))
    except psycopg2.Error as e:
        conn.rollback()
        if not e.pgcode:
            raise AssertionError("error without SQLSTATE: %s" % e)
        if e.pgcode == "XX000":
            raise AssertionError("unknown function gave SQLSTATE XX000 (internal error): %s" % e)
        print("# unknown function: SQLSTATE %s: %s" % (e.pgcode, str(e).strip()))
        return
    raise AssertionError("no error for an unknown function")


def after_error():
    cur.execute("SELECT %s(a, b) FROM %s WHERE id = %%s" % (PLUS, TABLE), (2,))
    expect(cur.fetchone()[0], 42, "a query after the error")
    conn.commit()


def copy_from_stdin():
    import io
    table = "pg2_copy_" + UID
    cur.execute("CREATE TABLE %s (id bigint primary key, n integer, s text)" % table)
    cur.copy_expert("COPY %s (id, n, s) FROM STDIN" % table, io.StringIO("1\t10\ttab\\there\n2\t\\N\t\\N\n"))
    cur.copy_expert("COPY %s FROM STDIN WITH (FORMAT csv, HEADER)" % table,
                    io.StringIO('id,n,s\n3,30,"a, ""b""\nc"\n'))
    cur.execute("SELECT id, n, s FROM %s ORDER BY id" % table)
    expect(cur.fetchall(), [(1, 10, "tab\there"), (2, None, None), (3, 30, 'a, "b"\nc')], "rows copied")
    try:
        cur.copy_expert("COPY %s (id, n) FROM STDIN" % table, io.StringIO("4\t4\n5\tfive\n"))
    except psycopg2.Error as e:
        expect(e.pgcode, "22P02", "SQLSTATE of a field that does not read")
    else:
        raise AssertionError("no error for a field that does not read")
    cur.execute("SELECT count(*) FROM %s" % table)
    expect(cur.fetchone()[0], 3, "rows after the failed COPY (none of it stays)")


check("create_table", create_table)
if not check("create_plus_bytea_param", create_plus_param):
    check("create_plus_literal", create_plus_literal)
check("create_slugify", create_slugify)
check("insert_params", insert)
check("select_params", select_funcs)
check("wasm_arg_params", wasm_arg_params)
check("aggregate", aggregate)
check("unknown_function_sqlstate", unknown_function)
check("after_error", after_error)
check("copy_from_stdin", copy_from_stdin)
conn.close()

print("%d passed, %d failed" % (len(passed), len(failed)))
sys.exit(1 if failed else 0)
