package sqlfuncs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// openEngine opens an engine on the catalog at path with cfg; close stops it (the catalog stays).
func openEngine(t testing.TB, path string, cfg udf.Config) (te *testEngine, close func()) {
	t.Helper()
	ctx := context.Background()
	store, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := udf.NewRuntime(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(ctx, rt, store)
	if err != nil {
		t.Fatalf("the registry must open whatever its functions do: %v", err)
	}
	db := memory.NewDatabase("wasql")
	pro := memory.NewDBProvider(db)
	e := NewEngine(pro, reg)
	var once sync.Once
	return &testEngine{e: e, pro: pro, reg: reg, path: path}, func() {
		once.Do(func() { reg.Close(); rt.Close(ctx); store.Close() })
	}
}

// TestSameFunctionTwiceHammer: many concurrent statements that each call one function twice (in
// one batch node, in two stacked nodes, row by row beside a batch, and with a second function in
// both orders), over a pool of two instances. Before statements shared instances each held one
// and waited for a second, for good. Run under -race.
func TestSameFunctionTwiceHammer(t *testing.T) {
	te, closeEngine := openEngine(t, filepath.Join(t.TempDir(), "catalog.db"), udf.NewConfig().WithPoolSize(2))
	defer closeEngine()
	scriptSetUp(t, te)
	queries := []string{
		"SELECT id, plus(a, b), plus(b, a) FROM t ORDER BY id",
		"SELECT id, plus(a, 1) FROM t WHERE plus(b, 1) > 0 ORDER BY id",
		"SELECT id, CASE WHEN b > 0 THEN plus(a, b) ELSE 0 END, plus(b, b) FROM t ORDER BY id",
		"SELECT id, plus(a, b), upper_ascii(s), plus(b, 1) FROM t ORDER BY id",
		"SELECT id, upper_ascii(s), plus(a, b), upper_ascii(concat(s, 'x')) FROM t ORDER BY id",
		"SELECT id FROM t WHERE a IN (SELECT plus(k, 0) FROM u WHERE plus(k, 1) > 0) ORDER BY id",
	}
	want := make([]string, len(queries))
	for i, q := range queries {
		want[i] = fmt.Sprint(te.mustQuery(t, q))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				q := (g + i) % len(queries)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				sctx := sql.NewContext(ctx, sql.WithSession(memory.NewSession(sql.NewBaseSession(), te.pro)))
				sctx.SetCurrentDatabase("wasql")
				_, iter, _, err := te.e.Query(sctx, queries[q])
				var rows []sql.Row
				if err == nil {
					rows, err = sql.RowIterToRows(sctx, iter)
				}
				cancel()
				switch {
				case err != nil:
					errs <- fmt.Errorf("g%d i%d %s: %v", g, i, queries[q], err)
					return
				case fmt.Sprint(rows) != want[q]:
					errs <- fmt.Errorf("g%d i%d %s: %v, want %s", g, i, queries[q], rows, want[q])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Nothing is left holding instances or statements.
	te.mustQuery(t, "INSERT INTO u VALUES (4, 9)")
	if got := fmt.Sprint(te.mustQuery(t, "SELECT 1")); got != "[[1]]" {
		t.Fatal(got)
	}
	statements.Lock()
	left := len(statements.m)
	statements.Unlock()
	if left != 0 {
		t.Fatalf("%d statements still registered after every query ended", left)
	}
}

// TestBrokenFunction: a function whose _initialize traps when it is loaded again (it reads the
// real clock) does not stop the registry from opening: it is listed broken with its error, its
// calls fail with 55000 naming it, every other function works, and it can be replaced or dropped.
func TestBrokenFunction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	mod, err := os.ReadFile("testdata/init_clock.wasm")
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("wasql-deadline:\x00")
	at := strings.Index(string(mod), string(marker))
	if at < 0 {
		t.Fatal("no deadline marker in init_clock.wasm")
	}
	deadline := time.Now().Add(2 * time.Second)
	binary.LittleEndian.PutUint64(mod[at+len(marker):], uint64(deadline.UnixNano()))

	te, closeEngine := openEngine(t, path, udf.NewConfig())
	te.mustQuery(t, "CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'add'")
	te.mustQuery(t, fmt.Sprintf("CREATE FUNCTION until_deadline(bigint) RETURNS bigint LANGUAGE wasm WITH (clock = 'real') AS X'%x', 'id'", mod))
	closeEngine()
	time.Sleep(time.Until(deadline) + 100*time.Millisecond)

	te, closeEngine = openEngine(t, path, udf.NewConfig())
	defer closeEngine()
	var broken *Overload
	for _, ov := range te.reg.Functions() {
		if ov.Def.Name == "until_deadline" {
			broken = ov
		} else if ov.Broken != nil {
			t.Fatalf("%s is broken too: %v", ov.Def.Name, ov.Broken)
		}
	}
	// Functions load at their first call: until then it is a definition.
	if broken == nil || broken.Fn == nil || broken.Fn.State() != "unloaded" {
		t.Fatalf("until_deadline is not listed unloaded: %+v", broken)
	}
	for range 2 { // the first call finds it broken, the second is told so at once
		_, err = te.query(t, "SELECT until_deadline(1)")
		if err == nil || sqlstate.Of(err) != "55000" || !strings.Contains(err.Error(), "until_deadline") || !strings.Contains(err.Error(), "_initialize") {
			t.Fatalf("calling a broken function: %v (SQLSTATE %s), want 55000 naming it and its load error", err, sqlstate.Of(err))
		}
	}
	if broken.Fn.State() != "broken" || broken.Fn.Broken() == nil || !strings.Contains(broken.Fn.Broken().Error(), "_initialize") {
		t.Fatalf("after its first call until_deadline is %s (%v), want broken with the load error", broken.Fn.State(), broken.Fn.Broken())
	}
	if got := fmt.Sprint(te.mustQuery(t, "SELECT plus(2, 3)")); got != "[[5]]" {
		t.Fatalf("another function: %s", got)
	}
	te.mustQuery(t, "CREATE OR REPLACE FUNCTION until_deadline(bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/fib.wasm")+", 'fib_iter'")
	if got := fmt.Sprint(te.mustQuery(t, "SELECT until_deadline(10)")); got != "[[55]]" {
		t.Fatalf("after OR REPLACE: %s", got)
	}
	te.mustQuery(t, "DROP FUNCTION until_deadline")
}

// TestBrokenFunctionDropped: a broken function can be dropped without replacing it.
func TestBrokenFunctionDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	te, closeEngine := openEngine(t, path, udf.NewConfig())
	te.mustQuery(t, "CREATE FUNCTION big(bigint, bigint) RETURNS bigint LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/numeric.wasm")+", 'add'")
	closeEngine()
	// The server starts again with a lower module size limit: the module no longer loads.
	te, closeEngine = openEngine(t, path, udf.NewConfig().WithMaxModuleBytes(16))
	defer closeEngine()
	_, err := te.query(t, "SELECT big(1, 2)")
	if sqlstate.Of(err) != "55000" || !strings.Contains(err.Error(), "above the limit of 16") {
		t.Fatalf("%v (SQLSTATE %s)", err, sqlstate.Of(err))
	}
	te.mustQuery(t, "DROP FUNCTION big")
	if len(te.reg.Functions()) != 0 {
		t.Fatal("the broken function is still listed after DROP")
	}
}

// TestRowNumberAcrossBatches: a row error names the row among all the rows the call saw, 1-based,
// not its index within a batch.
func TestRowNumberAcrossBatches(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	te.mustQuery(t, "CREATE TABLE big (id bigint primary key, a bigint, b bigint)")
	var vals []string
	for i := 1; i <= 1500; i++ {
		b := 1
		if i == 1300 {
			b = 0
		}
		vals = append(vals, fmt.Sprintf("(%d, %d, %d)", i, i, b))
	}
	te.mustQuery(t, "INSERT INTO big VALUES "+strings.Join(vals, ", "))
	_, err := te.query(t, "SELECT safe_div(a, b) FROM big")
	var e *udf.Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "row 1300 (input 1300, 0)") {
		t.Fatalf("%v: want the error on row 1300", err)
	}
}

// TestWireErrors: on the MySQL wire a udf error becomes a *mysql.SQLError with its SQLSTATE and
// its hint appended; elsewhere the chain keeps the udf.Error (SQLSTATE, hint, detail).
func TestWireErrors(t *testing.T) {
	uerr := &udf.Error{Kind: udf.KindTimeout, Function: "f", Row: -1, Message: "canceling statement due to wasm function timeout (1s)",
		Hint: "raise it with WITH (timeout = '2s')", Detail: "guest output"}
	mysqlSess := sql.NewBaseSessionWithClientServer("127.0.0.1", sql.Client{User: "u", Address: "127.0.0.1", Capabilities: mysql.CapabilityClientProtocol41}, 1)
	err := wireErrorIn(sql.NewContext(context.Background(), sql.WithSession(mysqlSess)), uerr)
	var me *mysql.SQLError
	if !errors.As(err, &me) || me.State != "57014" || !strings.Contains(me.Message, "(HINT: raise it with WITH (timeout = '2s'))") {
		t.Fatalf("MySQL wire: %#v", err)
	}
	err = wireErrorIn(sql.NewContext(context.Background()), uerr)
	var ue *udf.Error
	if !errors.As(err, &ue) || sqlstate.Of(err) != "57014" || sqlstate.Hint(err) != uerr.Hint || ue.DetailText() != "guest output" {
		t.Fatalf("other callers: %#v", err)
	}
}
