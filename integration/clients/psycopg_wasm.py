#!/usr/bin/env python3
"""psycopg 3 calling wasm functions through wasql's proxy, with parameters.

Run by integration/proxy_wasm_test.go (TestProxyWasmPsycopg), against a proxy whose database has
the functions fib(bigint), slugify(text), plus(bigint, bigint); by hand:

    PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGDATABASE=wasmcalls /usr/bin/python3 integration/clients/psycopg_wasm.py

Needs python3-psycopg (apt-get install -y python3-psycopg). Each check prints "ok - NAME" or
"FAIL - NAME: why", then "N passed, N failed"; the script exits 1 when any check failed.
psycopg 3 binds %s parameters on the server (Parse/Bind/Execute with $n), a Python int as the
smallest of int2/int4/int8 that holds it (so PostgreSQL's implicit casts pick fib(bigint)), a
str as text of no declared type; prepare=True makes a named server-side statement at once, and a
binary cursor asks for binary results.
"""
import os
import sys
import time
import traceback

try:
    import psycopg
except ImportError as e:
    print("FAIL - import: %s (apt-get install -y python3-psycopg)" % e)
    sys.exit(2)

UID = "%d_%d" % (os.getpid(), int(time.time() * 1000) % 1000000)
TABLE = "pyw_t_" + UID

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


def fib(n):
    """fib_iter of udf/testdata/fib.wat, wrapping at 64 bits as the guest's i64 does."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) & 0xFFFFFFFFFFFFFFFF
    return a - (1 << 64) if a >= 1 << 63 else a


def slug(s):
    """slugify of udf/testdata/guests/c/funcs.c, over the UTF-8 bytes."""
    out, dash = bytearray(), False
    for c in s.encode("utf-8"):
        if 65 <= c <= 90:
            c += 32
        if 97 <= c <= 122 or 48 <= c <= 57:
            if dash and out:
                out.append(45)
            out.append(c)
            dash = False
        else:
            dash = True
    return out.decode("ascii")


TEXTS = ["Hello, World!", "  WebAssembly in SQL  ", "Ünïcödé Straße 42", "", "---", "x_Y-z 2026!", "psycopg %s literal"]


def scalar_params():
    with conn.cursor() as cur:
        for i, n in enumerate([0, 1, 2, 10, 31, 50, 90]):
            a, b = n * 1000003, -(i * 7)
            s = TEXTS[i % len(TEXTS)]
            cur.execute("SELECT fib(%s), plus(%s, %s), slugify(%s)", (n, a, b, s))
            expect(cur.fetchone(), (fib(n), a + b, slug(s)), "fib(%d), plus(%d, %d), slugify(%r)" % (n, a, b, s))
            expect([d.type_code for d in cur.description], [20, 20, 25], "result types")
    conn.commit()


def large_ints():
    with conn.cursor() as cur:
        # 2**40 only fits int8, -5 fits int2: both sides of psycopg's choice of parameter type
        for a, b in [(2**40, 3), (-5, 7), (2**62, 2**62 - 1), (-(2**63), 0)]:
            cur.execute("SELECT plus(%s, %s)", (a, b))
            expect(cur.fetchone()[0], a + b, "plus(%d, %d)" % (a, b))
    conn.commit()


def prepared_repeated():
    with conn.cursor() as cur:
        for n in range(0, 60, 3):
            s = "Prepared #%d, again" % n
            cur.execute("SELECT fib(%s), slugify(%s)", (n, s), prepare=True)
            expect(cur.fetchone(), (fib(n), slug(s)), "prepared fib(%d), slugify(%r)" % (n, s))
    conn.commit()


def binary_results():
    with conn.cursor(binary=True) as cur:
        for n in [7, 45, 88]:
            s = "Binary %d Row" % n
            cur.execute("SELECT fib(%s), plus(%s, %s), slugify(%s)", (n, n, 1, s))
            expect(cur.fetchone(), (fib(n), n + 1, slug(s)), "binary: fib(%d), plus, slugify" % n)
        cur.execute("SELECT fib(%s), slugify(%s)", (12, "Prepared Binary"), prepare=True)
        expect(cur.fetchone(), (144, "prepared-binary"), "binary, prepared")
    conn.commit()


def rows_of_a_series():
    with conn.cursor() as cur:
        cur.execute("SELECT g, fib(g), slugify('Item ' || g::text || '!') FROM generate_series(1::bigint, %s) g ORDER BY g", (80,))
        rows = cur.fetchall()
        expect(len(rows), 80, "rows")
        for g, f, s in rows:
            expect((f, s), (fib(g), "item-%d" % g), "row %d" % g)
    conn.commit()


def table_round_trip():
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE %s (id bigint PRIMARY KEY, total bigint, s text)" % TABLE)
        conn.commit()
        cur.executemany("INSERT INTO %s VALUES (%%s, plus(%%s, %%s), %%s)" % TABLE,
                        [(i, i, i * 100, "Row %d Text" % i) for i in range(1, 11)])
        conn.commit()
        cur.execute("SELECT id, total, slugify(s), fib(id) FROM %s WHERE id >= %%s ORDER BY id" % TABLE, (4,))
        got = cur.fetchall()
        expect(got, [(i, i * 101, "row-%d-text" % i, fib(i)) for i in range(4, 11)], "the rows")
        cur.execute("UPDATE %s SET s = slugify(s) WHERE id <= %%s" % TABLE, (3,))
        expect(cur.rowcount, 3, "UPDATE rowcount")
        conn.commit()
        cur.execute("SELECT s FROM %s WHERE id <= 3 ORDER BY id" % TABLE)
        expect([r[0] for r in cur.fetchall()], ["row-1-text", "row-2-text", "row-3-text"], "after UPDATE")
    conn.commit()


def main():
    global conn
    conn = psycopg.connect("")
    print("psycopg %s, libpq %s" % (psycopg.__version__, psycopg.pq.version()), file=sys.stderr)
    try:
        check("scalar parameters", scalar_params)
        check("large integers", large_ints)
        check("prepared, repeated", prepared_repeated)
        check("binary results", binary_results)
        check("rows of a series", rows_of_a_series)
        check("table round trip", table_round_trip)
    finally:
        try:
            conn.rollback()
            conn.execute("DROP TABLE IF EXISTS %s" % TABLE)
            conn.commit()
        except Exception as e:  # noqa: BLE001
            print("cleanup: %s" % e, file=sys.stderr)
        conn.close()
    print("%d passed, %d failed" % (len(passed), len(failed)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
