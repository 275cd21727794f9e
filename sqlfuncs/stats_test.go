package sqlfuncs

import (
	"fmt"

	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

// TestExplainAnalyze: EXPLAIN ANALYZE runs the statement and reports, per wasm function, the
// calls, rows and batches of that statement alone; a statement that writes is refused.
func TestExplainAnalyze(t *testing.T) {
	te := newTestEngine(t)
	te.mustQuery(t, "CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'add'")
	te.mustQuery(t, "CREATE TABLE t (a bigint)")
	var vals []string
	for i := range 3000 {
		vals = append(vals, fmt.Sprintf("(%d)", i))
	}
	te.mustQuery(t, "INSERT INTO t VALUES "+strings.Join(vals, ","))
	te.mustQuery(t, "SELECT plus(a, 1) FROM t") // counts of another statement are not this one's
	for range 2 {
		rows := te.mustQuery(t, "EXPLAIN ANALYZE SELECT plus(a, 1) FROM t WHERE a < 2500")
		var text []string
		for _, r := range rows {
			text = append(text, r[0].(string))
		}
		all := strings.Join(text, "\n")
		for _, want := range []string{"WasmBatchEval", "wasm plus(bigint, bigint): calls=3 rows=2500 batches=3 errors=0", "Execution: 2500 rows in "} {
			if !strings.Contains(all, want) {
				t.Fatalf("EXPLAIN ANALYZE lacks %q:\n%s", want, all)
			}
		}
	}
	if _, err := te.query(t, "EXPLAIN ANALYZE SELECT plus(a, 0) FROM t WHERE a = 1"); err != nil {
		t.Fatal(err)
	}
	_, err := te.query(t, "EXPLAIN ANALYZE INSERT INTO t SELECT plus(a, 1) FROM t")
	if err == nil {
		t.Fatal("EXPLAIN ANALYZE of an INSERT ran")
	}
	if got := fmt.Sprint(te.mustQuery(t, "SELECT count(*) FROM t")); got != "[[3000]]" {
		t.Fatalf("rows after a refused EXPLAIN ANALYZE INSERT: %s", got)
	}
}

// TestStatsTable: wasql.functions lists every function with its state and counters, and
// wasql_reset_stats sets them to zero (one function, or all).
func TestStatsTable(t *testing.T) {
	te := newTestEngine(t)
	withStats(t, te)
	te.mustQuery(t, "CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'add'")
	te.mustQuery(t, "CREATE FUNCTION divide(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'div'")
	te.mustQuery(t, "SELECT plus(x, 1) FROM (SELECT 1 AS x UNION ALL SELECT 2) s")
	if _, err := te.query(t, "SELECT divide(1, 0)"); sqlstate.Of(err) != "38000" {
		t.Fatalf("divide(1, 0): %v", err)
	}
	q := "SELECT name, signature, state, rows_evaluated, batches, errors, errors_by_kind, module_size > 0, memory_limit FROM functions ORDER BY name"
	want := "[[divide divide(bigint, bigint) RETURNS bigint idle 0 1 1 {\"trap\":1} true 67108864] [plus plus(bigint, bigint) RETURNS bigint loaded 2 1 0 {} true 67108864]]"
	if got := fmt.Sprint(te.mustQuery(t, q)); got != want {
		t.Fatalf("wasql.functions:\n got %s\nwant %s", got, want)
	}
	if got := fmt.Sprint(te.mustQuery(t, "SELECT wasql_reset_stats('plus')")); got != "[[1]]" {
		t.Fatalf("reset plus: %s", got)
	}
	if got := fmt.Sprint(te.mustQuery(t, "SELECT name, rows_evaluated, errors FROM functions ORDER BY name")); got != "[[divide 0 1] [plus 0 0]]" {
		t.Fatalf("after resetting plus: %s", got)
	}
	if got := fmt.Sprint(te.mustQuery(t, "SELECT wasql_reset_stats()")); got != "[[2]]" {
		t.Fatalf("reset all: %s", got)
	}
	if _, err := te.query(t, "INSERT INTO functions (name) VALUES ('x')"); err == nil {
		t.Fatal("an INSERT into wasql.functions succeeded")
	}
	// Not listed among the tables; a table of that name comes first.
	if got := fmt.Sprint(te.mustQuery(t, "SHOW TABLES")); got != "[]" {
		t.Fatalf("SHOW TABLES: %s", got)
	}
	te.mustQuery(t, "CREATE TABLE functions (x int)")
	te.mustQuery(t, "INSERT INTO functions VALUES (7)")
	if got := fmt.Sprint(te.mustQuery(t, "SELECT * FROM functions")); got != "[[7]]" {
		t.Fatalf("a user table named functions: %s", got)
	}
}

// TestStatsColumnsUnquoted: every column of wasql.functions can be named without quotes on the
// MySQL wire (no reserved words).
func TestStatsColumnsUnquoted(t *testing.T) {
	te := newTestEngine(t)
	withStats(t, te)
	names := make([]string, len(StatsColumns))
	for i, c := range StatsColumns {
		names[i] = c.Name
	}
	te.mustQuery(t, "SELECT "+strings.Join(names, ", ")+" FROM functions")
}

func withStats(t *testing.T, te *testEngine) {
	mp := te.e.Analyzer.Catalog.DbProvider.(*MemoryProvider)
	mp.Stats, mp.StatsDatabase = te.reg, "wasql"
}
