package sqlfuncs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

// scriptSetUp creates the functions and tables every script test uses.
func scriptSetUp(t testing.TB, te *testEngine) {
	t.Helper()
	mod := func(path string) string { return wasmHexPath(t, path) }
	for _, q := range []string{
		"CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE AS " + mod("../udf/testdata/numeric.wasm") + ", 'add'",
		"CREATE FUNCTION safe_div(bigint, bigint) RETURNS bigint LANGUAGE wasm AS " + mod("../udf/testdata/numeric.wasm") + ", 'div'",
		"CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm IMMUTABLE AS " + mod("testdata/twice.wasm") + ", 'twice_int'",
		"CREATE FUNCTION twice(double precision) RETURNS double precision LANGUAGE wasm IMMUTABLE AS " + mod("testdata/twice.wasm") + ", 'twice_double'",
		"CREATE FUNCTION slugify(text) RETURNS text LANGUAGE wasm IMMUTABLE AS " + mod("../udf/testdata/guests/c_funcs.wasm"),
		"CREATE FUNCTION upper_ascii(text) RETURNS text LANGUAGE wasm AS " + mod("../udf/testdata/batch.wasm") + ", 'upper'",
		"CREATE FUNCTION nvl_len(text) RETURNS integer LANGUAGE wasm CALLED ON NULL INPUT AS " + mod("../udf/testdata/guests/c_funcs.wasm"),
		"CREATE TABLE t (id bigint primary key, a bigint, b bigint, s text)",
		"INSERT INTO t VALUES (1, 1, 2, 'Hello World'), (2, 3, 4, 'foo bar'), (3, NULL, 5, NULL), (4, 10, -3, 'x y z'), (5, 7, 0, 'Seven')",
		"CREATE TABLE u (id bigint primary key, k bigint)",
		"INSERT INTO u VALUES (1, 3), (2, 7), (3, 17)",
	} {
		te.mustQuery(t, q)
	}
}

func wasmHexPath(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	return `X'` + fmt.Sprintf("%x", b) + `'`
}

// TestAgainstBuiltins runs each query with wasm functions and the same query written with
// built-in expressions, and compares the results.
func TestAgainstBuiltins(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	for _, c := range []struct{ name, wasm, builtin string }{
		{"select list", "SELECT id, plus(a, b) FROM t ORDER BY id", "SELECT id, a + b FROM t ORDER BY id"},
		{"expression around", "SELECT id, plus(a, b) * 2 + plus(b, 1) FROM t ORDER BY id", "SELECT id, (a + b) * 2 + (b + 1) FROM t ORDER BY id"},
		{"nested calls", "SELECT id, plus(plus(a, b), plus(a, 1)) FROM t ORDER BY id", "SELECT id, (a + b) + (a + 1) FROM t ORDER BY id"},
		{"where", "SELECT id FROM t WHERE plus(a, b) > 5 ORDER BY id", "SELECT id FROM t WHERE a + b > 5 ORDER BY id"},
		{"order by", "SELECT id FROM t ORDER BY plus(b, id), id", "SELECT id FROM t ORDER BY b + id, id"},
		{"group by", "SELECT plus(id, 0) % 2 AS g, count(*) FROM t GROUP BY plus(id, 0) % 2 ORDER BY g", "SELECT id % 2 AS g, count(*) FROM t GROUP BY id % 2 ORDER BY g"},
		{"aggregate argument", "SELECT sum(plus(a, b)), max(plus(a, 1)) FROM t", "SELECT sum(a + b), max(a + 1) FROM t"},
		{"having", "SELECT id % 2 AS g, sum(a) FROM t GROUP BY id % 2 HAVING twice(sum(a)) > 10 ORDER BY g", "SELECT id % 2 AS g, sum(a) FROM t GROUP BY id % 2 HAVING sum(a) * 2 > 10 ORDER BY g"},
		{"group by alias", "SELECT plus(id, 0) % 2 AS g, count(*) FROM t GROUP BY g ORDER BY g", "SELECT id % 2 AS g, count(*) FROM t GROUP BY g ORDER BY g"},
		{"join on", "SELECT t.id, u.id FROM t JOIN u ON plus(t.a, 0) = u.k ORDER BY t.id", "SELECT t.id, u.id FROM t JOIN u ON t.a = u.k ORDER BY t.id"},
		{"subquery", "SELECT id FROM t WHERE a IN (SELECT plus(k, 0) FROM u) ORDER BY id", "SELECT id FROM t WHERE a IN (SELECT k FROM u) ORDER BY id"},
		{"derived table", "SELECT x FROM (SELECT plus(a, b) AS x FROM t) d WHERE x > 3 ORDER BY x", "SELECT x FROM (SELECT a + b AS x FROM t) d WHERE x > 3 ORDER BY x"},
		{"overload integer", "SELECT twice(CAST(id AS SIGNED)) FROM t ORDER BY id", "SELECT id * 2 FROM t ORDER BY id"},
		{"overload double", "SELECT twice(1.25)", "SELECT 2.5"},
		{"text", "SELECT id, slugify(s) FROM t ORDER BY id", "SELECT id, lower(replace(s, ' ', '-')) FROM t ORDER BY id"},
		{"called on null input", "SELECT id, nvl_len(s) FROM t ORDER BY id", "SELECT id, coalesce(length(s), -1) FROM t ORDER BY id"},
		{"case guards a trap", "SELECT id, CASE WHEN b = 0 THEN -1 ELSE safe_div(a, b) END FROM t ORDER BY id", "SELECT id, CASE WHEN b = 0 THEN -1 ELSE a DIV b END FROM t ORDER BY id"},
		{"and guards a trap", "SELECT id FROM t WHERE b <> 0 AND safe_div(a, b) > 0 ORDER BY id", "SELECT id FROM t WHERE b <> 0 AND a DIV b > 0 ORDER BY id"},
		{"coalesce", "SELECT id, coalesce(plus(a, b), 0) FROM t ORDER BY id", "SELECT id, coalesce(a + b, 0) FROM t ORDER BY id"},
		{"limit", "SELECT plus(a, b) FROM t ORDER BY id LIMIT 2", "SELECT a + b FROM t ORDER BY id LIMIT 2"},
		{"distinct", "SELECT DISTINCT plus(id, 0) % 2 AS g FROM t ORDER BY g", "SELECT DISTINCT id % 2 AS g FROM t ORDER BY g"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := fmt.Sprint(te.mustQuery(t, c.wasm))
			want := fmt.Sprint(te.mustQuery(t, c.builtin))
			if got != want {
				t.Fatalf("\n%s\n  -> %s\n%s\n  -> %s", c.wasm, got, c.builtin, want)
			}
		})
	}
}

// TestWrites: INSERT ... SELECT and UPDATE ... SET with wasm calls, checked against built-ins.
func TestWrites(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	te.mustQuery(t, "CREATE TABLE w (id bigint primary key, v bigint)")
	te.mustQuery(t, "INSERT INTO w SELECT id, plus(a, b) FROM t")
	if got, want := fmt.Sprint(te.mustQuery(t, "SELECT id, v FROM w ORDER BY id")), fmt.Sprint(te.mustQuery(t, "SELECT id, a + b FROM t ORDER BY id")); got != want {
		t.Fatalf("insert select: %s, want %s", got, want)
	}
	te.mustQuery(t, "UPDATE w SET v = plus(v, id) WHERE id > 1")
	if got, want := fmt.Sprint(te.mustQuery(t, "SELECT v FROM w ORDER BY id")), fmt.Sprint(te.mustQuery(t, "SELECT CASE WHEN id > 1 THEN a + b + id ELSE a + b END FROM t ORDER BY id")); got != want {
		t.Fatalf("update: %s, want %s", got, want)
	}
}

func TestErrors(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	numeric := wasmHexPath(t, "../udf/testdata/numeric.wasm")
	for _, c := range []struct{ query, state, msg string }{
		{"SELECT nope(1)", "", "nope"},
		{"SELECT plus('a', 'b', 'c')", "42883", "function plus(unknown, unknown, unknown) does not exist"},
		{"SELECT plus(s, s) FROM t", "42883", "function plus(text, text) does not exist"},
		{"SELECT safe_div(a, b) FROM t", "38000", "safe_div: row"},
		{"CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS " + numeric + ", 'add'", "42723", "function plus(bigint, bigint) already exists"},
		{"CREATE FUNCTION bad(bigint) RETURNS bigint LANGUAGE wasm AS " + numeric + ", 'add'", "42P13", "takes 2 parameters"},
		{"CREATE FUNCTION bad(bigint) RETURNS bigint LANGUAGE wasm AS 'AAAA'", "42P13", "invalid module"},
		{"CREATE FUNCTION bad(numeric) RETURNS bigint LANGUAGE wasm AS 'AAAA'", "42P13", "argument 1"},
		{"CREATE FUNCTION bad(bigint) RETURNS bigint LANGUAGE wasm AS " + numeric + ", 'add' WITH (timeout = 'soon')", "22023", "timeout"},
		{"DROP FUNCTION twice", "42725", "not unique"},
		{"DROP FUNCTION nope(bigint)", "42883", "function nope(bigint) does not exist"},
		{"SELECT twice(NULL)", "42725", "not unique"},
		{"SELECT twice('abc')", "42725", "function twice is not unique"},
		{"SELECT twice(s) FROM t", "42883", "function twice(text) does not exist"},
	} {
		_, err := te.query(t, c.query)
		if err == nil {
			t.Errorf("%s: no error", c.query)
			continue
		}
		if c.state != "" && sqlstate.Of(err) != c.state && !strings.Contains(err.Error(), "sqlstate "+c.state) {
			t.Errorf("%s: %v, want SQLSTATE %s", c.query, err, c.state)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", c.query, err, c.msg)
		}
	}
	te.mustQuery(t, "DROP FUNCTION IF EXISTS nope")
	te.mustQuery(t, "DROP FUNCTION twice(double precision)")
	if fmt.Sprint(te.mustQuery(t, "SELECT twice(21)")) != "[[42]]" {
		t.Fatal("twice(integer) should remain")
	}
}
