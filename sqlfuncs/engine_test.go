package sqlfuncs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// testEngine is an embedded engine with wasm functions over a bolt catalog in a temp dir.
type testEngine struct {
	e    *sqle.Engine
	pro  *memory.DbProvider
	reg  *Registry
	path string
}

func newTestEngine(t testing.TB) *testEngine {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	store, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(ctx, rt, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); rt.Close(ctx); store.Close() })
	db := memory.NewDatabase("wasql")
	pro := memory.NewDBProvider(db)
	e := NewEngine(pro, reg)
	return &testEngine{e: e, pro: pro, reg: reg, path: path}
}

func (te *testEngine) ctx() *sql.Context {
	sess := memory.NewSession(sql.NewBaseSession(), te.pro)
	ctx := sql.NewContext(context.Background(), sql.WithSession(sess))
	ctx.SetCurrentDatabase("wasql")
	return ctx
}

func (te *testEngine) query(t testing.TB, q string) ([]sql.Row, error) {
	t.Helper()
	ctx := te.ctx()
	_, iter, _, err := te.e.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return sql.RowIterToRows(ctx, iter)
}

func (te *testEngine) mustQuery(t testing.TB, q string) []sql.Row {
	t.Helper()
	rows, err := te.query(t, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

func TestCreateAndCall(t *testing.T) {
	te := newTestEngine(t)
	te.mustQuery(t, "CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'add'")
	te.mustQuery(t, "CREATE TABLE t (a bigint, b bigint, s text)")
	te.mustQuery(t, "INSERT INTO t VALUES (1, 2, 'x'), (3, 4, 'y'), (NULL, 5, 'z')")
	rows := te.mustQuery(t, "SELECT plus(a, b) FROM t ORDER BY a")
	if fmt.Sprint(rows) != "[[<nil>] [3] [7]]" {
		t.Fatalf("rows %v", rows)
	}
	rows = te.mustQuery(t, "SELECT plus(1, 2)")
	if fmt.Sprint(rows) != "[[3]]" {
		t.Fatalf("rows %v", rows)
	}
	plan, err := Explain(te.ctx(), te.e, "SELECT plus(a, b) + 1 FROM t WHERE plus(a, 10) > 12")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(plan)
	rows = te.mustQuery(t, "SELECT plus(a, b) + 1 FROM t WHERE plus(a, 10) > 12")
	if fmt.Sprint(rows) != "[[8]]" {
		t.Fatalf("rows %v", rows)
	}
	_, err = te.query(t, "SELECT plus('x')")
	if err == nil || sqlstate.Of(err) == "" {
		t.Fatalf("err %v", err)
	}
	t.Log(err)
}

func TestColumnNames(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	ctx := te.ctx()
	for q, want := range map[string]string{
		"SELECT plus(a, b) FROM t":          "plus(a, b)",
		"SELECT plus(a, b) AS total FROM t": "total",
		"SELECT slugify(s) FROM t":          "slugify(s)",
	} {
		sch, iter, _, err := te.e.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sql.RowIterToRows(ctx, iter); err != nil {
			t.Fatal(err)
		}
		if sch[0].Name != want {
			t.Errorf("%s: column %q, want %q", q, sch[0].Name, want)
		}
	}
}

// TestReplaceAndFold: OR REPLACE swaps the function for new queries; IMMUTABLE calls with
// constant arguments are folded at planning.
func TestReplaceAndFold(t *testing.T) {
	te := newTestEngine(t)
	numeric := wasmHexPath(t, "../udf/testdata/numeric.wasm")
	te.mustQuery(t, "CREATE FUNCTION op(bigint, bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE AS "+numeric+", 'add'")
	if got := fmt.Sprint(te.mustQuery(t, "SELECT op(6, 3)")); got != "[[9]]" {
		t.Fatalf("add: %s", got)
	}
	plan, err := Explain(te.ctx(), te.e, "SELECT op(6, 3)")
	if err != nil || !strings.Contains(plan, "9") || strings.Contains(plan, "WasmBatchEval") {
		t.Fatalf("op(6, 3) is not folded:\n%s %v", plan, err)
	}
	if _, err := te.query(t, "CREATE FUNCTION op(bigint, bigint) RETURNS bigint LANGUAGE wasm AS "+numeric+", 'div'"); err == nil {
		t.Fatal("CREATE without OR REPLACE over an existing function must fail")
	}
	te.mustQuery(t, "CREATE OR REPLACE FUNCTION op(bigint, bigint) RETURNS bigint LANGUAGE wasm AS "+numeric+", 'div'")
	if got := fmt.Sprint(te.mustQuery(t, "SELECT op(6, 3)")); got != "[[2]]" {
		t.Fatalf("after OR REPLACE: %s", got)
	}
	fns, err := te.reg.store.List(context.Background())
	if err != nil || len(fns) != 1 || fns[0].Version != 2 || fns[0].Export != "div" {
		t.Fatalf("catalog after replace: %+v %v", fns, err)
	}
}

// TestLiftAroundTuples: IN lists (expression.Tuple, a slice) where the batch rule walks.
func TestLiftAroundTuples(t *testing.T) {
	te := newTestEngine(t)
	te.mustQuery(t, "CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'add'")
	te.mustQuery(t, "CREATE TABLE tu (id bigint primary key, a bigint)")
	te.mustQuery(t, "INSERT INTO tu VALUES (1, 10), (2, 20)")
	rows := te.mustQuery(t, "SELECT id NOT IN (3), a IN (10, 30), plus(a, 1) IN (11, 12) FROM tu ORDER BY id")
	if fmt.Sprint(rows) != "[[true true true] [true false false]]" {
		t.Fatalf("got %v", rows)
	}
}
