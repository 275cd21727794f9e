package upstream

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/catalog/pgstore"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// statsProxy is one proxy with statistics over a database: its own store, registry, source and
// Reporter (which writes only when asked: the tests flush, or rely on the proxy's flush before a
// statement naming wasql.functions).
type statsProxy struct {
	URL   string // the database through this proxy
	Reg   *sqlfuncs.Registry
	Rep   *pgstore.Reporter
	Stats *Stats
}

func newStatsProxy(t *testing.T, db string) *statsProxy {
	t.Helper()
	ctx := context.Background()
	direct := "postgres://root@" + pgAddr() + "/" + db + "?sslmode=disable"
	store, err := pgstore.Open(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	reg := registryOver(t, store)
	st := NewStats(reg)
	rep := store.ReportStats(st, time.Hour)
	t.Cleanup(func() { rep.Close(context.Background()) }) // before the store's cleanup
	b, err := New(Config{URL: direct, Registry: reg, Stats: st, FlushStats: func(ctx context.Context) {
		if err := rep.Flush(ctx); err != nil {
			t.Errorf("flush before a statement naming wasql.functions: %v", err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, false, true)
	return &statsProxy{URL: "postgres://root@" + addr + "/" + db + "?sslmode=disable", Reg: reg, Rep: rep, Stats: st}
}

func pgxConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// viewRows returns wasql.functions' rows, every column, ordered by name and argument types.
func viewRows(t *testing.T, c *pgx.Conn) (cols []string, rows [][]any) {
	t.Helper()
	rs, err := c.Query(context.Background(), "SELECT * FROM wasql.functions ORDER BY name, arg_types")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for _, f := range rs.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	for rs.Next() {
		v, err := rs.Values()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, v)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, rows
}

// sameValue compares a value of wasql.functions through PostgreSQL with sqlfuncs.StatsRow's:
// times to PostgreSQL's microseconds.
func sameValue(got, want any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w.Truncate(time.Microsecond)) || ok && g.Equal(w.Round(time.Microsecond))
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

// wantRows is what embedded mode's table shows for the overloads of reg, ordered as viewRows,
// with whether each was called.
func wantRows(reg *sqlfuncs.Registry) (rows [][]any, called []bool) {
	ovs := reg.Functions()
	slices.SortFunc(ovs, func(a, b *sqlfuncs.Overload) int {
		return strings.Compare(a.Def.Name+"\x00"+strings.Join(a.Def.ArgTypes, ", "), b.Def.Name+"\x00"+strings.Join(b.Def.ArgTypes, ", "))
	})
	for _, ov := range ovs {
		rows = append(rows, sqlfuncs.StatsRow(ov))
		called = append(called, ov.Fn != nil && ov.Fn.Called())
	}
	return rows, called
}

func numericModule(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStatsThroughProxy: through the proxy, wasql.functions has embedded mode's columns and, for
// a proxy alone, exactly the values sqlfuncs.StatsRow gives for its registry; a client sees its
// own calls at once (simple and extended protocols: the proxy writes its counters before a
// statement naming the view); PostgreSQL evaluates WHERE, ORDER BY and joins; reset_stats
// reaches the proxy's counters.
func TestStatsThroughProxy(t *testing.T) {
	e := newWasmEnv(t, true) // for its database
	p := newStatsProxy(t, e.DB)
	ctx := ctx10(t)
	c := pgxConnect(t, p.URL)
	mod := numericModule(t)
	for _, sql := range []string{
		`CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT AS $1, 'add'`,
		`CREATE FUNCTION divide(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT AS $1, 'div' WITH (timeout = '250ms', fuel = 100000)`,
		`CREATE FUNCTION answer() RETURNS bigint LANGUAGE wasm AS $1, 'answer'`,
	} {
		if _, err := c.Exec(ctx, sql, mod); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	cols, _ := viewRows(t, c)
	var want []string
	for _, col := range sqlfuncs.StatsColumns {
		want = append(want, col.Name)
	}
	if !slices.Equal(cols, want) {
		t.Fatalf("columns of wasql.functions through the proxy:\n got %q\nwant %q", cols, want)
	}

	var sum int64
	if err := c.QueryRow(ctx, "SELECT sum(plus(i, 1)) FROM generate_series(1, 3000) i").Scan(&sum); err != nil || sum != 3000*3001/2+3000 {
		t.Fatalf("sum(plus(i, 1)): %d %v", sum, err)
	}
	if _, err := c.Exec(ctx, "SELECT divide(1, 0)"); err == nil {
		t.Fatal("divide(1, 0) succeeded")
	}
	// Its own calls, at once: the reporter writes only when the proxy flushes before a
	// statement naming wasql.functions.
	_, got := viewRows(t, c)
	if len(got) != 3 {
		t.Fatalf("%d rows", len(got))
	}
	wrows, called := wantRows(p.Reg)
	for i, w := range wrows {
		for j := range w {
			if cols[j] == "stats_since" && !called[i] {
				// Never called: no proxy wrote a row, and the view says the counters start at
				// the catalog's creation time (the process made its function a moment before).
				if !sameValue(got[i][j], got[i][slices.Index(cols, "created")]) {
					t.Errorf("%v, never called: stats_since %v, created %v", w[1], got[i][j], got[i][slices.Index(cols, "created")])
				}
				continue
			}
			if !sameValue(got[i][j], w[j]) {
				t.Errorf("%v, %s: through the proxy %v (%T), embedded mode's StatsRow %v (%T)", w[1], cols[j], got[i][j], got[i][j], w[j], w[j])
			}
		}
	}
	var calls, rows int64
	var state, kinds string
	if err := c.QueryRow(ctx, "SELECT calls, rows_evaluated, state FROM wasql.functions WHERE name = 'plus'").Scan(&calls, &rows, &state); err != nil ||
		calls < 1 || rows != 3000 || state != "loaded" {
		t.Errorf("plus: %d calls, %d rows, %s (%v); want 3000 rows, loaded", calls, rows, state, err)
	}
	if err := c.QueryRow(ctx, "SELECT errors_by_kind FROM wasql.functions WHERE name = 'divide'").Scan(&kinds); err != nil || kinds != `{"trap":1}` {
		t.Errorf("divide's errors: %s (%v)", kinds, err)
	}

	// The extended protocol, one prepared statement executed twice: each execution sees the
	// calls made before it.
	q := "SELECT rows_evaluated FROM wasql.functions WHERE name = $1"
	for i, n := range []int64{3000, 3010} {
		if i > 0 {
			if _, err := c.Exec(ctx, "SELECT plus(i, 2) FROM generate_series(1, 10) i"); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.QueryRow(ctx, q, "plus").Scan(&rows); err != nil || rows != n {
			t.Errorf("execution %d of a prepared statement: %d rows evaluated (%v), want %d", i+1, rows, err, n)
		}
	}

	// The simple protocol: a Query naming the view.
	if _, err := c.Exec(ctx, "SELECT plus(1, 2)"); err != nil {
		t.Fatal(err)
	}
	rs, err := c.PgConn().Exec(ctx, "SELECT rows_evaluated FROM wasql.functions WHERE name = 'plus'").ReadAll()
	if err != nil || len(rs) != 1 || len(rs[0].Rows) != 1 || string(rs[0].Rows[0][0]) != "3011" {
		var got [][]byte
		if err == nil && len(rs) == 1 {
			got = slices.Concat(rs[0].Rows...)
		}
		t.Errorf("a simple Query after one more call: %q %v, want 3011 rows evaluated", got, err)
	}

	// PostgreSQL's SQL: WHERE, ORDER BY, a join with a table.
	if _, err := c.Exec(ctx, "CREATE TABLE owners (fn text, team text); INSERT INTO owners VALUES ('plus', 'core'), ('divide', 'math')"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Query(ctx, `SELECT o.team, f.name FROM wasql.functions f JOIN owners o ON o.fn = f.name
		WHERE f.calls > 0 ORDER BY f.rows_evaluated DESC`)
	if err != nil {
		t.Fatal(err)
	}
	joined, err := pgx.CollectRows(r, func(r pgx.CollectableRow) (string, error) {
		var team, name string
		err := r.Scan(&team, &name)
		return team + ":" + name, err
	})
	if err != nil || !slices.Equal(joined, []string{"core:plus", "math:divide"}) {
		t.Errorf("joined with a table: %q %v", joined, err)
	}

	// reset_stats, through the proxy: the functions matched, and the proxy's own counters.
	var n int64
	if err := c.QueryRow(ctx, "SELECT wasql.reset_stats('plus')").Scan(&n); err != nil || n != 1 {
		t.Fatalf("wasql.reset_stats('plus'): %d %v", n, err)
	}
	plus := p.Reg.Overloads("plus")[0]
	for deadline := time.Now().Add(10 * time.Second); plus.Fn.Stats().Rows != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy's counters of plus after reset_stats: %+v", plus.Fn.Stats())
		}
	}
	if err := c.QueryRow(ctx, "SELECT rows_evaluated FROM wasql.functions WHERE name = 'plus'").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("plus after reset_stats: %d rows evaluated (%v)", rows, err)
	}
	if err := c.QueryRow(ctx, "SELECT errors FROM wasql.functions WHERE name = 'divide'").Scan(&n); err != nil || n != 1 {
		t.Errorf("divide after reset_stats('plus'): %d errors (%v), want its 1", n, err)
	}
	if _, err := c.Exec(ctx, "SELECT plus(1, 1)"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT rows_evaluated FROM wasql.functions WHERE name = 'plus'").Scan(&rows); err != nil || rows != 1 {
		t.Errorf("plus after reset_stats and one call: %d rows evaluated (%v)", rows, err)
	}
}

// TestStatsTwoProxies: the view sums the counters of two proxies on one database, each
// registry's own; reset_stats() reaches both.
func TestStatsTwoProxies(t *testing.T) {
	e := newWasmEnv(t, true)
	p1, p2 := newStatsProxy(t, e.DB), newStatsProxy(t, e.DB)
	ctx := ctx10(t)
	c1, c2 := pgxConnect(t, p1.URL), pgxConnect(t, p2.URL)
	if _, err := c1.Exec(ctx, `CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT AS $1, 'add'`, numericModule(t)); err != nil {
		t.Fatal(err)
	}
	// The second proxy hears of it from the catalog.
	for deadline := time.Now().Add(10 * time.Second); len(p2.Reg.Overloads("plus")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("proxy 2 never heard of plus")
		}
	}
	if _, err := c1.Exec(ctx, "SELECT plus(i, 1) FROM generate_series(1, 100) i"); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Exec(ctx, "SELECT plus(i, 1) FROM generate_series(1, 250) i"); err != nil {
		t.Fatal(err)
	}
	if err := p1.Rep.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s1, s2 := p1.Reg.Overloads("plus")[0].Fn.Stats(), p2.Reg.Overloads("plus")[0].Fn.Stats()
	var calls, rows, batches, loads int64
	var state string
	if err := c2.QueryRow(ctx, "SELECT calls, rows_evaluated, batches, loads, state FROM wasql.functions WHERE name = 'plus'").Scan(&calls, &rows, &batches, &loads, &state); err != nil {
		t.Fatal(err)
	}
	if rows != 350 || calls != s1.Evals+s2.Evals || batches != s1.Calls+s2.Calls || loads != s1.Loads+s2.Loads || loads < 1 || state != "loaded" {
		t.Errorf("summed: %d calls, %d rows, %d batches, %d loads, %s; proxies %+v and %+v", calls, rows, batches, loads, state, s1, s2)
	}
	var proxies int
	if err := pgxConnect(t, e.Direct).QueryRow(ctx, "SELECT count(*) FROM wasql.function_stats WHERE name = 'plus'").Scan(&proxies); err != nil || proxies != 2 {
		t.Errorf("%d rows for plus in wasql.function_stats (%v), one per proxy", proxies, err)
	}
	if _, err := c1.Exec(ctx, "SELECT wasql.reset_stats()"); err != nil {
		t.Fatal(err)
	}
	for i, p := range []*statsProxy{p1, p2} {
		fn := p.Reg.Overloads("plus")[0].Fn
		for deadline := time.Now().Add(10 * time.Second); fn.Stats().Rows != 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("proxy %d's counters after reset_stats(): %+v", i+1, fn.Stats())
			}
		}
	}
	if _, err := c2.Exec(ctx, "SELECT plus(1, 2)"); err != nil {
		t.Fatal(err)
	}
	if err := p1.Rep.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c2.QueryRow(ctx, "SELECT rows_evaluated FROM wasql.functions WHERE name = 'plus'").Scan(&rows); err != nil || rows != 1 {
		t.Errorf("after reset_stats() and one call: %d rows (%v)", rows, err)
	}
}

// TestStatsSource: the source reads the functions statements used, as long as they stay loaded,
// and in a full scan every function but those never called and unloaded; a function dropped
// leaves the watch.
func TestStatsSource(t *testing.T) {
	e := newWasmEnv(t, true)
	p := newStatsProxy(t, e.DB)
	ctx := ctx10(t)
	c := pgxConnect(t, p.URL)
	for _, name := range []string{"plus", "other"} {
		if _, err := c.Exec(ctx, `CREATE FUNCTION `+name+`(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS $1, 'add'`, numericModule(t)); err != nil {
			t.Fatal(err)
		}
	}
	names := func(rows []pgstore.FunctionStats) (out []string) {
		for _, r := range rows {
			out = append(out, r.Key.Name+":"+r.State)
		}
		slices.Sort(out)
		return out
	}
	if got := names(p.Stats.Stats(true)); len(got) != 0 {
		t.Errorf("full scan before any call: %q, want none (CREATE leaves a definition)", got)
	}
	if _, err := c.Exec(ctx, "SELECT plus(1, 2)"); err != nil {
		t.Fatal(err)
	}
	if got := names(p.Stats.Stats(false)); !slices.Equal(got, []string{"plus:loaded"}) {
		t.Errorf("watched after a call of plus: %q", got)
	}
	if got := names(p.Stats.Stats(true)); !slices.Equal(got, []string{"plus:loaded"}) {
		t.Errorf("full scan: %q", got)
	}
	if _, err := c.Exec(ctx, "SELECT other(1, 2)"); err != nil {
		t.Fatal(err)
	}
	if got := names(p.Stats.Stats(false)); !slices.Equal(got, []string{"other:loaded", "plus:loaded"}) {
		t.Errorf("watched after a call of other: %q", got)
	}
	// DROP: no longer read.
	if _, err := c.Exec(ctx, "DROP FUNCTION other"); err != nil {
		t.Fatal(err)
	}
	if got := names(p.Stats.Stats(false)); !slices.Equal(got, []string{"plus:loaded"}) {
		t.Errorf("watched after DROP FUNCTION other: %q", got)
	}
}

// TestStatsBuckets: wasql.functions sums udf.Stats' latency buckets position by position, 26
// of them (pgstore's migration 3); more or fewer need a migration that redefines the view.
func TestStatsBuckets(t *testing.T) {
	if n := len(udf.LatencyBounds) + 1; n != 26 {
		t.Fatalf("udf.Stats has %d latency buckets; the view wasql.functions sums 26", n)
	}
}

func TestMentionsStats(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT * FROM wasql.functions":                       true,
		"select calls from WASQL.Functions where name = 'x'":  true,
		`SELECT * FROM "wasql"."functions"`:                   true,
		"SELECT * FROM wasql . functions":                     true,
		"SELECT * FROM wasql./* c */functions":                true,
		"SELECT 'wasql.functions'":                            false,
		"SELECT * FROM functions":                             false,
		"SELECT * FROM wasql.function_stats":                  false,
		"SELECT * FROM other.functions":                       false,
		`SELECT * FROM "WASQL".functions`:                     false,
		"SELECT 1 -- wasql.functions":                         false,
		"SELECT * FROM wasql.functionsx":                      false,
		"SELECT $$ wasql.functions $$, * FROM wasql.modules":  false,
		"SELECT name FROM t; SELECT * FROM wasql.functions":   true,
		"SELECT wasql.reset_stats(); TABLE wasql.functions":   true,
		"SELECT pg_catalog.functions FROM wasql, x.functions": false,
	} {
		if got := mentionsStats(q); got != want {
			t.Errorf("mentionsStats(%q) = %v, want %v", q, got, want)
		}
	}
}
