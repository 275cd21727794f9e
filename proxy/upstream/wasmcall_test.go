package upstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tests of statements calling wasm functions through the proxy: the planner's own cases. The
// differential corpus (differential_test.go) holds the many statements compared with
// PostgreSQL's twins.

// wasmConns returns pgx connections through the proxy and straight to PostgreSQL, after
// creating fib, plus, slugify, nvl_len and must_be_ascii and a table t(id, a, b, s).
func wasmConns(t *testing.T, opts ...func(*pgx.ConnConfig)) (proxyC, direct *pgx.Conn, e *wasmEnv) {
	t.Helper()
	e = newWasmEnv(t, true)
	ctx := context.Background()
	connect := func(url string) *pgx.Conn {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range opts {
			o(cfg)
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	proxyC, direct = connect(e.Proxy), connect(e.Direct)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fib, c := read("../../udf/testdata/fib.wasm"), read("../../udf/testdata/guests/c_funcs.wasm")
	for _, f := range []struct {
		sql    string
		module []byte
	}{
		{`CREATE FUNCTION fib(n bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT PARALLEL SAFE AS $1, 'fib_iter'`, fib},
		{`CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT PARALLEL SAFE AS $1, 'add'`, c},
		{`CREATE FUNCTION slugify(s text) RETURNS text LANGUAGE wasm IMMUTABLE STRICT PARALLEL SAFE AS $1, 'slugify'`, c},
		{`CREATE FUNCTION nvl_len(s text) RETURNS integer LANGUAGE wasm IMMUTABLE CALLED ON NULL INPUT AS $1, 'nvl_len'`, c},
		{`CREATE FUNCTION must_be_ascii(s text) RETURNS text LANGUAGE wasm IMMUTABLE STRICT AS $1, 'must_be_ascii'`, c},
	} {
		if _, err := proxyC.Exec(ctx, f.sql, f.module); err != nil {
			t.Fatalf("%s: %v", f.sql, err)
		}
	}
	_, err := direct.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY, a bigint, b bigint, s text);
		INSERT INTO t SELECT i, i % 40, i * 3, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN 'Ünïcode ' || i ELSE 'Hello, World ' || i END FROM generate_series(1, 500) i;
		CREATE INDEX ON t (b); ANALYZE t;
		CREATE SCHEMA twin;
		CREATE FUNCTION twin.fib(n bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS $$
			DECLARE a bigint := 0; b bigint := 1; t bigint;
			BEGIN FOR i IN 1..n LOOP t := a + b; a := b; b := t; END LOOP; RETURN a; END $$;
		CREATE FUNCTION twin.plus(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS 'SELECT a + b';
		CREATE FUNCTION twin.slugify(s text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS
			$$SELECT trim(both '-' from regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g'))$$;
		CREATE FUNCTION twin.nvl_len(s text) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT coalesce(octet_length(s), -1)';
		CREATE FUNCTION twin.must_be_ascii(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
			BEGIN IF s ~ '[^\x01-\x7f]' THEN RAISE EXCEPTION USING ERRCODE = '38000', MESSAGE = 'non-ASCII input'; END IF; RETURN s; END $$;`)
	if err != nil {
		t.Fatal(err)
	}
	return proxyC, direct, e
}

func TestWasmCallBasics(t *testing.T) {
	p, _, _ := wasmConns(t)
	ctx := ctx10(t)
	var n int64
	if err := p.QueryRow(ctx, "SELECT fib(10)").Scan(&n); err != nil || n != 55 {
		t.Fatalf("fib(10): %v %d", err, n)
	}
	if err := p.QueryRow(ctx, "SELECT sum(fib(a % 30)) FROM t WHERE b > $1", 30).Scan(&n); err != nil {
		t.Fatalf("sum: %v", err)
	}
	t.Log(n)
}

// sameInBlock runs the statements in a transaction block through the proxy, then (after a
// ROLLBACK) straight to PostgreSQL with the twins, and compares their answers.
func sameInBlock(t *testing.T, p, d *pgx.Conn, stmts []string, mode pgx.QueryExecMode) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Exec(ctx, "SET search_path = twin, public"); err != nil {
		t.Fatal(err)
	}
	var answers [2][]string
	for i, c := range []*pgx.Conn{p, d} {
		if _, err := c.Exec(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		for _, q := range stmts {
			answers[i] = append(answers[i], answer(c, q, mode))
		}
		if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
	for i, q := range stmts {
		if answers[0][i] != answers[1][i] {
			t.Errorf("%s (%v, in a block)\n got: %s\nwant: %s", q, mode, answers[0][i], answers[1][i])
		}
	}
}

// sameAnswers runs each statement through the proxy and with the twins straight to PostgreSQL
// and compares what comes back (through pgx's extended protocol, text values).
func sameAnswers(t *testing.T, p, d *pgx.Conn, stmts []string) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Exec(ctx, "SET search_path = twin, public"); err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
			got, want := answer(p, q, mode), answer(d, q, mode)
			if got != want {
				t.Errorf("%s (%v)\n got: %s\nwant: %s", q, mode, got, want)
			}
		}
	}
}

func sqlstateOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return err.Error()
}

func TestWasmCallPositions(t *testing.T) {
	t.Run("inline", func(t *testing.T) { testPositions(t) })
	t.Run("tables", func(t *testing.T) {
		defer func(n int) { inlineRows = n }(inlineRows)
		inlineRows = 0 // every memo in a temporary table
		testPositions(t)
	})
}

func testPositions(t *testing.T) {
	p, d, _ := wasmConns(t)
	// What wasql cannot plan it refuses, naming the construct.
	for q, msg := range map[string]string{
		"UPDATE t SET b = b + 1 WHERE id < 5 RETURNING id, plus(a, b) + 1":   "must be a whole column",
		"SELECT id, (SELECT fib(x.a % 10) FROM t y WHERE y.id = 1) FROM t x": "outer query",
		"CREATE VIEW v AS SELECT fib(a) FROM t":                              "CREATE VIEW",
		"SELECT * FROM fib(3)":                                               "in FROM",
	} {
		_, err := p.Exec(context.Background(), q)
		wantCode(t, err, "0A000", msg)
	}
	sameAnswers(t, p, d, []string{
		"SELECT fib(10)",
		"SELECT fib(10), plus(1, 2), slugify('Hello World')",
		"SELECT id, fib(a % 30) FROM t ORDER BY id LIMIT 20",
		"SELECT sum(fib(a % 30)) FROM t",
		"SELECT id FROM t WHERE fib(a % 20) > 100 AND b < 300 ORDER BY id",
		"SELECT a % 5 AS k, sum(plus(a, b)) FROM t GROUP BY 1 ORDER BY 1",
		"SELECT fib(a % 10), count(*) FROM t GROUP BY fib(a % 10) ORDER BY 1",
		"SELECT a, fib(a) FROM t WHERE a < 10 GROUP BY a ORDER BY a",
		"SELECT fib(count(*) % 20) FROM t",
		"SELECT DISTINCT slugify(s) FROM t ORDER BY 1 LIMIT 10",
		"SELECT id, slugify(s) FROM t ORDER BY slugify(s), id LIMIT 10",
		"SELECT nvl_len(s), count(*) FROM t GROUP BY 1 ORDER BY 1 LIMIT 5",
		"SELECT id, CASE WHEN s IS NULL THEN 0 ELSE nvl_len(s) END FROM t ORDER BY id LIMIT 10",
		"SELECT must_be_ascii(s) FROM t WHERE id = 1",
		"SELECT must_be_ascii(s) FROM t WHERE id = 11",
		"SELECT CASE WHEN id % 11 = 0 THEN 'x' ELSE must_be_ascii(s) END FROM t WHERE s IS NOT NULL ORDER BY id LIMIT 30",
		"SELECT fib(plus(a, 1) % 25) FROM t ORDER BY id LIMIT 5",
		"SELECT plus('3', b) FROM t ORDER BY id LIMIT 3",
		"SELECT x.id, fib(x.a % 20) FROM t x JOIN t y ON y.id = x.id + 1 WHERE x.id < 10 ORDER BY 1",
		"SELECT id FROM t WHERE a IN (SELECT fib(a % 10) FROM t) ORDER BY id LIMIT 5",
		"WITH c AS (SELECT id, fib(a % 20) f FROM t) SELECT sum(f) FROM c",
		"SELECT fib(a % 10) FROM t WHERE id < 5 UNION SELECT plus(a, 100) FROM t WHERE id < 5 ORDER BY 1",
		"SELECT id, sum(fib(a % 10)) OVER (ORDER BY id) FROM t ORDER BY id LIMIT 10",
		"SELECT id, s FROM t WHERE slugify(s) = 'hello-world-5'",
		"SELECT * FROM t WHERE fib(a % 20) = 6765 ORDER BY id LIMIT 3",
		"SELECT t.*, fib(a % 5) FROM t ORDER BY id LIMIT 3",
		"SELECT (SELECT fib(max(a) % 20) FROM t)",
		"SELECT id, fib(a % 20) FROM t x WHERE EXISTS (SELECT 1 FROM t y WHERE y.id = x.id AND fib(y.a % 10) > 3) ORDER BY id LIMIT 5",
		"SELECT fib(NULL)",
		"SELECT nvl_len(NULL)",
		"SELECT x.id FROM t x JOIN t y ON fib(x.a % 10) = y.a WHERE x.id < 50 ORDER BY 1, y.id LIMIT 10",
		"SELECT id, slugify(slugify(s)), plus(fib(a % 10), 1) FROM t ORDER BY id LIMIT 20",
		"SELECT id, nvl_len(s) FROM t ORDER BY id LIMIT 20",
		"SELECT id, fib(a % 20) AS f FROM t ORDER BY f DESC, id LIMIT 5",
		"SELECT id, fib(a % 20) FROM t ORDER BY 2 DESC, id LIMIT 5",
		"SELECT fib(a % 20) FROM t GROUP BY 1 ORDER BY 1",
		"SELECT id, fib(a % 20) + 1 FROM t ORDER BY id LIMIT 5",
	})
	for _, dml := range [][]string{
		{"UPDATE t SET b = plus(b, fib(a % 10)) WHERE id < 50", "SELECT id, b FROM t ORDER BY id"},
		{"DELETE FROM t WHERE fib(a % 20) > 1000", "SELECT count(*) FROM t"},
		{"INSERT INTO t SELECT id + 1000, fib(a % 10), b, slugify(s) FROM t WHERE id < 20", "SELECT * FROM t ORDER BY id"},
		{"INSERT INTO t VALUES (5000, fib(12), plus(1, 2), slugify('A b')), (5001, fib(13), 0, NULL)", "SELECT * FROM t WHERE id >= 5000 ORDER BY id"},
		{"UPDATE t SET s = slugify(s) WHERE fib(a % 15) > 10 AND id % 3 = 0", "SELECT * FROM t ORDER BY id"},
		{"INSERT INTO t VALUES (6000, 1, 2, 'X y'), (6001, 3, 4, '') RETURNING id, slugify(s), fib(plus(a, b)), nvl_len(s)", "SELECT slugify(''), slugify('') IS NULL, nvl_len('')"},
		{"UPDATE t SET b = b + 1 WHERE id < 5 RETURNING id, plus(a, b), fib(7)", "DELETE FROM t WHERE id < 3 RETURNING slugify(s)"},
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
			sameInBlock(t, p, d, dml, mode)
		}
	}
}

// answer is what a statement gives: columns, rows (text), the command tag, or the SQLSTATE.
func answer(c *pgx.Conn, q string, mode pgx.QueryExecMode) string {
	ctx := context.Background()
	rows, err := c.Query(ctx, q, mode)
	if err != nil {
		return "error: " + sqlstateOf(err)
	}
	defer rows.Close()
	var out []string
	for _, f := range rows.FieldDescriptions() {
		out = append(out, fmt.Sprintf("%s:%d", f.Name, f.DataTypeOID))
	}
	for rows.Next() {
		vals := rows.RawValues()
		var r []string
		for _, v := range vals {
			if v == nil {
				r = append(r, "NULL")
			} else {
				r = append(r, string(v))
			}
		}
		out = append(out, strings.Join(r, "|"))
	}
	if err := rows.Err(); err != nil {
		out = append(out, "error: "+sqlstateOf(err))
	}
	out = append(out, rows.CommandTag().String())
	return strings.Join(out, "\n")
}

func TestWasmExplain(t *testing.T) {
	p, _, _ := wasmConns(t)
	ctx := ctx10(t)
	plan := func(q string, args ...any) string {
		rows, err := p.Query(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var out []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
		if rows.Err() != nil {
			t.Fatalf("%s: %v", q, rows.Err())
		}
		return strings.Join(out, "\n")
	}
	got := plan("EXPLAIN SELECT id FROM t WHERE b = $1 AND fib(a % 30) > 0", 30)
	for _, want := range []string{"fib(bigint) over the distinct arguments", "Index Scan", "PostgreSQL runs:", "LEFT JOIN pg_temp.wasql_m1"} {
		if !strings.Contains(got, want) {
			t.Errorf("EXPLAIN lacks %q:\n%s", want, got)
		}
	}
	got = plan("EXPLAIN ANALYZE SELECT sum(fib(a % 30)), max(slugify(s)) FROM t")
	for _, want := range []string{"calls=30 batches=1 errors=0", "actual time=", "Execution Time"} {
		if !strings.Contains(got, want) {
			t.Errorf("EXPLAIN ANALYZE lacks %q:\n%s", want, got)
		}
	}
	got = plan("EXPLAIN (ANALYZE, COSTS OFF) SELECT id, slugify(s) FROM t")
	for _, want := range []string{"on the stream: slugify(text)", "rows=500 batches=1", "Seq Scan on t"} {
		if !strings.Contains(got, want) {
			t.Errorf("EXPLAIN ANALYZE (stream) lacks %q:\n%s", want, got)
		}
	}
	t.Log(got)
}

// TestWasmMemoParallel: a memo of many rows is evaluated by several workers; a row error among
// them is pinned on its row and raised only where the statement reaches it.
func TestWasmMemoParallel(t *testing.T) {
	p, d, _ := wasmConns(t)
	ctx := ctx10(t)
	if _, err := d.Exec(ctx, `CREATE TABLE many AS SELECT i AS id, CASE WHEN i = 7777 THEN 'naïve' ELSE 'Row ' || i END AS s FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, p, d, []string{
		"SELECT count(DISTINCT slugify(s)), max(slugify(s)) FROM many",
		"SELECT count(*) FROM many WHERE id <> 7777 AND must_be_ascii(s) IS NOT NULL",
		"SELECT count(CASE WHEN id = 7777 THEN NULL ELSE must_be_ascii(s) END) FROM many",
		"SELECT count(must_be_ascii(s)) FROM many",
	})
}

// TestWasmReturningErrorWritesNothing: a wasm error on the stream of RETURNING rolls back what
// the statement wrote, in wasql's own transaction and in the client's block.
func TestWasmReturningErrorWritesNothing(t *testing.T) {
	p, _, _ := wasmConns(t)
	ctx := ctx10(t)
	_, err := p.Exec(ctx, "INSERT INTO t VALUES (7000, 1, 2, 'naïve') RETURNING id, must_be_ascii(s)")
	wantCode(t, err, "38000", "non-ASCII")
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM t WHERE id = 7000").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the error: %v, %d rows", err, n)
	}
	if _, err := p.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	_, err = p.Exec(ctx, "INSERT INTO t VALUES (7000, 1, 2, 'naïve') RETURNING must_be_ascii(s)")
	wantCode(t, err, "38000", "non-ASCII")
	_, err = p.Exec(ctx, "SELECT 1")
	wantCode(t, err, "25P02", "")
	if _, err := p.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := p.QueryRow(ctx, "SELECT count(*) FROM t WHERE id = 7000").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the block: %v, %d rows", err, n)
	}
}

// TestWasmPipelined: a statement calling wasm functions after another executed in the same
// pipeline is refused (its own Syncs would end the pipeline's transaction early); one that
// comes first runs, and the session goes on.
func TestWasmPipelined(t *testing.T) {
	p, _, _ := wasmConns(t)
	ctx := ctx10(t)
	b := &pgx.Batch{}
	b.Queue("SELECT 1")
	b.Queue("SELECT fib(3)")
	err := p.SendBatch(ctx, b).Close()
	wantCode(t, err, "0A000", "send a Sync before it")
	b = &pgx.Batch{}
	b.Queue("SELECT fib(4)")
	b.Queue("SELECT 2")
	br := p.SendBatch(ctx, b)
	var n int64
	if err := br.QueryRow().Scan(&n); err != nil || n != 3 {
		t.Fatalf("fib(4) first in a batch: %v %d", err, n)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.QueryRow(ctx, "SELECT fib(5)").Scan(&n); err != nil || n != 5 {
		t.Fatalf("after: %v %d", err, n)
	}
	// BEGIN in the same pipeline (as pgjdbc sends it): the statement runs in that block.
	for _, end := range []string{"ROLLBACK", "COMMIT"} {
		b = &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("INSERT INTO t VALUES (8000, fib(5), 0, 'x')")
		b.Queue(end)
		if err := p.SendBatch(ctx, b).Close(); err != nil {
			t.Fatalf("BEGIN; INSERT ... fib(5); %s: %v", end, err)
		}
		var c int
		if err := p.QueryRow(ctx, "SELECT count(*) FROM t WHERE id = 8000").Scan(&c); err != nil || (c == 1) != (end == "COMMIT") {
			t.Fatalf("after %s: %v, %d rows", end, err, c)
		}
	}
}
