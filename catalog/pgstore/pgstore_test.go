package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	osexec "os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/catalog/catalogtest"
	"github.com/wasql/wasql/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// quiet keeps the expected reconnection warnings out of the test output.
var quiet = WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func open(t *testing.T, url string, opts ...Option) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, append([]Option{quiet}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func exec(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestConformance runs the catalog suite against a fresh database per subtest. After each, a
// second store opened on the same database must agree (what one store wrote, another reads),
// and the stubs must be exactly those of the listed functions.
func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Store {
		url := pgtest.Start(t)
		s := open(t, url)
		t.Cleanup(func() {
			other := open(t, url)
			if err := catalogtest.Check(context.Background(), other); err != nil {
				t.Errorf("through a second store: %v", err)
			}
			checkStubs(t, other, connect(t, url))
		})
		return s
	})
}

// checkStubs compares the stubs in schema wasql with the functions s lists.
func checkStubs(t *testing.T, s *Store, c *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	fns, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, fn := range fns {
		if st, ok := s.stubFor(&fn); ok {
			want = append(want, st.signature+" "+st.returns)
		}
	}
	rows, err := c.Query(ctx, `SELECT 'wasql.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ') ' || format_type(p.prorettype, NULL)
		FROM pg_proc p WHERE p.pronamespace = 'wasql'::regnamespace AND p.oid <> 'wasql.raise(text, text, text, anyelement)'::regprocedure
			AND p.oid <> 'wasql.reset_stats(text)'::regprocedure`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// quote_ident leaves simple lower-case names bare; the store always quotes.
	for i, g := range got {
		if name, rest, ok := strings.Cut(strings.TrimPrefix(g, "wasql."), "("); ok && !strings.HasPrefix(name, `"`) {
			got[i] = "wasql." + quoteIdent(name) + "(" + rest
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("stubs in schema wasql:\n got %q\nwant %q", got, want)
	}
}

func testFn(name string, argTypes ...string) catalog.Function {
	return catalog.Function{
		Name: name, ArgNames: make([]string, len(argTypes)), ArgTypes: argTypes, ReturnType: "bigint",
		Volatility: "IMMUTABLE", Strict: true, Parallel: "SAFE", Cost: 1, Export: name, Owner: "alice",
	}
}

func module(seed string) []byte { return append([]byte("\x00asm\x01\x00\x00\x00"), seed...) }

func mustCreate(t *testing.T, s *Store, fn catalog.Function, mod []byte, orReplace bool) catalog.Function {
	t.Helper()
	got, err := s.Create(context.Background(), fn, mod, orReplace)
	if err != nil {
		t.Fatalf("Create %s: %v", fn.Key(), err)
	}
	return got
}

func describe(cs []catalog.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%d %s v%d", c.Kind, c.Function.Key(), c.Function.Version))
	}
	return out
}

// TestTwoStores: two stores on one database, as two proxies: each sees the other's creates,
// replaces and drops within a second (the reconcile interval is left at 30 s, so this is the
// notification's doing).
func TestTwoStores(t *testing.T) {
	url := pgtest.Start(t)
	a, b := open(t, url), open(t, url)
	var ra, rb catalogtest.Recorder
	defer a.Subscribe(ra.Record)()
	defer b.Subscribe(rb.Record)()

	var worst time.Duration
	step := func(n int, write func()) {
		t.Helper()
		write()
		for _, r := range []*catalogtest.Recorder{&ra, &rb} {
			_, took := r.WaitFor(t, n, time.Second)
			worst = max(worst, took)
		}
	}
	ctx := context.Background()
	created := testFn("plus", "bigint", "bigint")
	step(1, func() { created = mustCreate(t, a, created, module("plus"), false) })
	var replaced catalog.Function
	step(2, func() { replaced = mustCreate(t, b, testFn("plus", "bigint", "bigint"), module("plus2"), true) })
	step(3, func() {
		if _, err := a.Drop(ctx, created.Key()); err != nil {
			t.Fatal(err)
		}
	})
	want := []catalog.Change{{Kind: catalog.Created, Function: created}, {Kind: catalog.Replaced, Function: replaced},
		{Kind: catalog.Dropped, Function: replaced}}
	for name, r := range map[string]*catalogtest.Recorder{"a": &ra, "b": &rb} {
		got := r.Changes()
		if len(got) != len(want) {
			t.Fatalf("store %s: changes %q, want %q", name, describe(got), describe(want))
		}
		for i := range want {
			if got[i].Kind != want[i].Kind {
				t.Errorf("store %s change %d: kind %d, want %d", name, i, got[i].Kind, want[i].Kind)
			}
			if d := catalogtest.Diff(want[i].Function, got[i].Function); d != "" {
				t.Errorf("store %s change %d: %s", name, i, d)
			}
		}
	}
	if a.Version() != b.Version() || a.Version() != 3 {
		t.Errorf("versions %d and %d, want both 3", a.Version(), b.Version())
	}
	t.Logf("slowest delivery to a subscriber: %s", worst)
}

// TestLostNotification: a change whose notification is lost still arrives — through the
// reconcile on reconnect when the listening connection is killed, and through the periodic
// reconcile when the notification is simply never sent.
func TestLostNotification(t *testing.T) {
	url := pgtest.Start(t)
	admin := connect(t, url)
	a := open(t, url)
	b := open(t, url, WithReconcileInterval(300*time.Millisecond))
	var rb catalogtest.Recorder
	defer b.Subscribe(rb.Record)()

	t.Run("ListenerKilled", func(t *testing.T) {
		pid := waitListener(t, b)
		var killed bool
		if err := admin.QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&killed); err != nil || !killed {
			t.Fatalf("pg_terminate_backend(%d): %v, %v", pid, killed, err)
		}
		mustCreate(t, a, testFn("f"), module("f"), false)
		got, took := rb.WaitFor(t, 1, 5*time.Second)
		if got[0].Kind != catalog.Created || got[0].Function.Name != "f" {
			t.Errorf("got %q", describe(got))
		}
		t.Logf("delivered %s after the change", took)
		if p := waitListener(t, b); p == pid {
			t.Errorf("listener PID %d unchanged after pg_terminate_backend", p)
		}
		if !b.Listening() {
			t.Errorf("Listening() = false once the listener is back")
		}
	})
	t.Run("NeverSent", func(t *testing.T) {
		a.skipNotify = true
		defer func() { a.skipNotify = false }()
		n := len(rb.Changes())
		mustCreate(t, a, testFn("g"), module("g"), false)
		got, took := rb.WaitFor(t, n+1, 3*time.Second)
		if c := got[n]; c.Kind != catalog.Created || c.Function.Name != "g" {
			t.Errorf("got %q", describe(got[n:]))
		}
		t.Logf("delivered by the periodic reconcile %s after the change (interval 300ms)", took)
	})
}

// waitVersion waits for s to have delivered version v.
func waitVersion(t *testing.T, s *Store, v int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.Version() < v; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("store at version %d after 5s, want %d", s.Version(), v)
		}
	}
}

// waitListener returns the PID of s's listening connection once it is up.
func waitListener(t *testing.T, s *Store) uint32 {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if pid := s.listenerPID.Load(); pid != 0 {
			return pid
		}
	}
	t.Fatal("the listening connection did not come up in 10s")
	return 0
}

// TestConcurrentReplace: two stores replace the same function at once, many times; every
// replace gets its own version, both stores end on the same definition, and each store's
// subscriber hears every version, in order.
func TestConcurrentReplace(t *testing.T) {
	url := pgtest.Start(t)
	a, b := open(t, url), open(t, url)
	ctx := context.Background()
	mustCreate(t, a, testFn("f", "bigint"), module("start"), false)
	waitVersion(t, b, 1)
	var ra, rb catalogtest.Recorder
	defer a.Subscribe(ra.Record)()
	defer b.Subscribe(rb.Record)()

	const perWorker = 10
	var g errgroup.Group
	for w, s := range []*Store{a, b, a, b} {
		g.Go(func() error {
			for i := range perWorker {
				f := testFn("f", "bigint")
				f.Export = fmt.Sprintf("w%d_%d", w, i)
				if _, err := s.Create(ctx, f, module(f.Export), true); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	const final = 1 + 4*perWorker
	fa, err := a.Get(ctx, catalog.Key{Name: "f", ArgTypes: []string{"bigint"}})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := b.Get(ctx, fa.Key())
	if err != nil {
		t.Fatal(err)
	}
	if fa.Version != final || catalogtest.Diff(fa, fb) != "" {
		t.Errorf("a has version %d, b %s; want both version %d", fa.Version, catalogtest.Diff(fa, fb), final)
	}
	for name, r := range map[string]*catalogtest.Recorder{"a": &ra, "b": &rb} {
		got, _ := r.WaitFor(t, final-1, 5*time.Second)
		for i, c := range got {
			if c.Kind != catalog.Replaced || c.Function.Version != int64(i+2) {
				t.Fatalf("store %s, change %d: %q, want a replace to version %d", name, i, describe(got[i:i+1]), i+2)
			}
		}
		if d := catalogtest.Diff(fa, got[len(got)-1].Function); d != "" {
			t.Errorf("store %s: last change %s", name, d)
		}
	}
	// Only the last module is left.
	var n int
	if err := connect(t, url).QueryRow(ctx, "SELECT count(*) FROM wasql.modules").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d modules left (%v), want 1", n, err)
	}
}

// TestStub: a wasm function has a PostgreSQL stub in schema wasql that tools list and that
// fails, when called directly, with SQLSTATE 0A000 and a message naming the function.
func TestStub(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	c := connect(t, url)
	ctx := context.Background()
	plus := testFn("plus", "bigint", "bigint")
	plus.ArgNames = []string{"a", "b"}
	plus = mustCreate(t, s, plus, module("plus"), false)

	_, err := c.Exec(ctx, "SELECT wasql.plus(1, 2)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != StubSQLState || pe.Message != "plus(bigint, bigint) is a wasm function: call it through wasql" {
		t.Fatalf("calling the stub: %v, want SQLSTATE 0A000 and the message", err)
	}
	var routine, args, comment string
	err = c.QueryRow(ctx, `SELECT r.routine_name, pg_get_function_arguments(p.oid), obj_description(p.oid, 'pg_proc')
		FROM information_schema.routines r JOIN pg_proc p ON p.proname = r.routine_name AND p.pronamespace = 'wasql'::regnamespace
		WHERE r.routine_schema = 'wasql' AND r.routine_name NOT IN ('raise', 'reset_stats')`).Scan(&routine, &args, &comment)
	if err != nil {
		t.Fatalf("information_schema.routines: %v", err)
	}
	if routine != "plus" || args != "a bigint, b bigint" || !strings.Contains(comment, "sha256:"+plus.ModuleHash) {
		t.Errorf("routine %q args %q comment %q", routine, args, comment)
	}

	// psql's \df and pg_dump list it.
	if out, err := osexec.Command(pgtest.Bin+"/psql", url, "-X", "-c", `\df wasql.*`).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "plus") || !strings.Contains(string(out), "a bigint, b bigint") {
		t.Errorf("psql \\df wasql.*: %v\n%s", err, out)
	}
	if out, err := osexec.Command(pgtest.Bin+"/pg_dump", "--schema-only", "--schema=wasql", url).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "CREATE FUNCTION wasql.plus(a bigint, b bigint) RETURNS bigint") ||
		!strings.Contains(string(out), "sha256:"+plus.ModuleHash) {
		t.Errorf("pg_dump --schema-only: %v\n%s", err, out)
	}

	// A replace that changes the return type and the parameter names replaces the stub.
	next := testFn("plus", "bigint", "bigint")
	next.ReturnType = "text"
	mustCreate(t, s, next, module("plus2"), true)
	var ret string
	if err := c.QueryRow(ctx, "SELECT pg_get_function_result('wasql.plus(bigint, bigint)'::regprocedure)").Scan(&ret); err != nil || ret != "text" {
		t.Errorf("stub result after replace: %q, %v", ret, err)
	}

	// Awkward names and every v1 type.
	odd := catalog.Function{Name: `it's "odd" $$ \n`, ReturnType: "timestamp", Export: "odd",
		ArgNames: []string{"found", "select", "a b", `"q"`, "$x", "sqlstate", "", "", "", "", ""},
		ArgTypes: []string{"smallint", "integer", "bigint", "real", "double precision", "boolean", "text", "bytea", "json", "date", "timestamp"}}
	odd = mustCreate(t, s, odd, module("odd"), false)
	dup := testFn("dup", "bigint", "bigint")
	dup.ArgNames = []string{"a", "a"} // PostgreSQL refuses the names: the stub has none
	mustCreate(t, s, dup, module("dup"), false)
	dollar := testFn("dollar", "bigint", "bigint")
	dollar.ArgNames = []string{"", "$1"} // so does PL/pgSQL
	mustCreate(t, s, dollar, module("dollar"), false)
	if err := c.QueryRow(ctx, `SELECT pg_get_function_arguments(oid) FROM pg_proc WHERE proname = $1`, odd.Name).Scan(&args); err != nil ||
		!strings.HasPrefix(args, `found smallint, "select" integer, "a b" bigint, """q""" real, "$x" double precision, sqlstate boolean, text,`) {
		t.Errorf("odd stub's arguments: %q, %v", args, err)
	}
	_, err = c.Exec(ctx, `SELECT wasql."it's ""odd"" $$ \n"(1::smallint, 1, 1, 1, 1, true, '', '', '{}', '2020-01-01', '2020-01-01')`)
	if !errors.As(err, &pe) || pe.Code != StubSQLState || pe.Message != odd.Key().String()+" is a wasm function: call it through wasql" {
		t.Errorf("calling the odd stub: %v", err)
	}

	// No stubs: a schema of its own, a type PostgreSQL's stub cannot spell, a name too long.
	inSchema := testFn("m", "bigint")
	inSchema.Schema = "math"
	mustCreate(t, s, inSchema, module("m"), false)
	mustCreate(t, s, testFn("u", "bigintx"), module("u"), false)
	mustCreate(t, s, testFn(strings.Repeat("x", 64)), module("x"), false)
	// Nor a name of wasql's own functions: reset_stats(text) stays wasql's.
	reserved := testFn("reset_stats", "text")
	mustCreate(t, s, reserved, module("r"), false)
	checkStubs(t, s, c)
	if _, err := s.Drop(ctx, reserved.Key()); err != nil {
		t.Fatal(err)
	}
	var matched int64
	if err := c.QueryRow(ctx, "SELECT wasql.reset_stats('plus')").Scan(&matched); err != nil || matched != 1 {
		t.Errorf("wasql.reset_stats('plus') after a wasm reset_stats(text) came and went: %d, %v", matched, err)
	}

	if _, err := s.Drop(ctx, plus.Key()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_proc WHERE proname = 'plus'").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d stubs named plus after Drop (%v)", n, err)
	}
	checkStubs(t, s, c)
}

// TestMigration: the first Open creates the schema; opening a current schema changes nothing;
// stores starting together migrate once; a schema newer than this build is refused.
func TestMigration(t *testing.T) {
	ctx := context.Background()
	t.Run("Concurrent", func(t *testing.T) {
		url := pgtest.Start(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(ctx, url, quiet)
				if err == nil {
					s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CurrentIsNoOp", func(t *testing.T) {
		url := pgtest.Start(t)
		s := open(t, url)
		mustCreate(t, s, testFn("f"), module("f"), false)
		s.Close()
		c := connect(t, url)
		state := func() string {
			var st string
			err := c.QueryRow(ctx, `SELECT (SELECT xmin::text || '/' || version FROM wasql.schema_version) || ' ' ||
				(SELECT string_agg(relname || ':' || oid::text || ':' || xmin::text, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'wasql'::regnamespace)`).Scan(&st)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		before := state()
		s = open(t, url)
		if after := state(); after != before {
			t.Errorf("reopening a current schema changed it:\nbefore %s\n after %s", before, after)
		}
		if _, err := s.Get(ctx, catalog.Key{Name: "f"}); err != nil {
			t.Errorf("after reopening: %v", err)
		}
	})
	t.Run("Newer", func(t *testing.T) {
		url := pgtest.Start(t)
		running := open(t, url)
		exec(t, connect(t, url), "UPDATE wasql.schema_version SET version = 99")
		if _, err := running.Create(ctx, testFn("f"), module("f"), false); !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("a write after a newer wasql migrated: %v, want ErrSchemaVersion", err)
		}
		_, err := Open(ctx, url, quiet)
		if !errors.Is(err, ErrSchemaVersion) || !strings.Contains(err.Error(), "99") {
			t.Fatalf("Open of a version 99 schema: %v, want ErrSchemaVersion naming 99", err)
		}
		t.Logf("refused: %v", err)
	})
}

// TestBehindTheLog: a store that falls further behind than the change log is long catches up
// by comparing lists: it hears the net difference, never a wrong history.
func TestBehindTheLog(t *testing.T) {
	url := pgtest.Start(t)
	a := open(t, url, WithChangeLogLength(2))
	b := open(t, url, WithReconcileInterval(time.Hour))
	waitListener(t, b)
	var rb catalogtest.Recorder
	defer b.Subscribe(rb.Record)()
	ctx := context.Background()
	mustCreate(t, a, testFn("gone"), module("gone"), false)
	mustCreate(t, a, testFn("kept"), module("kept"), false)
	rb.WaitFor(t, 2, 5*time.Second)

	a.skipNotify = true
	replaced := mustCreate(t, a, testFn("kept"), module("kept2"), true)
	if _, err := a.Drop(ctx, catalog.Key{Name: "gone"}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, a, testFn("brief"), module("brief"), false)
	if _, err := a.Drop(ctx, catalog.Key{Name: "brief"}); err != nil {
		t.Fatal(err)
	}
	added := mustCreate(t, a, testFn("added"), module("added"), false)
	if got := rb.Changes(); len(got) != 2 {
		t.Fatalf("b heard %q before reconciling", describe(got[2:]))
	}
	b.wake()
	got, _ := rb.WaitFor(t, 5, 5*time.Second)
	got = got[2:]
	want := []string{
		fmt.Sprintf("%d %s v1", catalog.Created, added.Key()),
		fmt.Sprintf("%d %s v1", catalog.Dropped, catalog.Key{Name: "gone"}),
		fmt.Sprintf("%d %s v2", catalog.Replaced, replaced.Key()),
	}
	if !slices.Equal(describe(got), want) {
		t.Errorf("b heard %q, want %q", describe(got), want)
	}
	if b.Version() != a.Version() {
		t.Errorf("b at version %d, a at %d", b.Version(), a.Version())
	}
}

// TestCorrupt: damaged module bytes and function rows are catalog.ErrCorrupt, never used.
func TestCorrupt(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	c := connect(t, url)
	ctx := context.Background()
	f := mustCreate(t, s, testFn("f"), module("f"), false)
	exec(t, c, "UPDATE wasql.modules SET bytes = 'x'")
	if _, err := s.Module(ctx, f.ModuleHash); !errors.Is(err, catalog.ErrCorrupt) {
		t.Errorf("Module of damaged bytes: %v, want ErrCorrupt", err)
	}
	// Create with the same bytes repairs the copy.
	mustCreate(t, s, testFn("f"), module("f"), true)
	if _, err := s.Module(ctx, f.ModuleHash); err != nil {
		t.Errorf("Module after repair: %v", err)
	}
	exec(t, c, "UPDATE wasql.function_defs SET version = 0")
	if _, err := s.Get(ctx, f.Key()); !errors.Is(err, catalog.ErrCorrupt) {
		t.Errorf("Get of a damaged row: %v, want ErrCorrupt", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, catalog.ErrCorrupt) {
		t.Errorf("List with a damaged row: %v, want ErrCorrupt", err)
	}
}

// TestUnprivilegedRole: a role that is not a superuser and may not create schemas, given a
// wasql schema an administrator made for it, opens, migrates and writes (stubs included).
func TestUnprivilegedRole(t *testing.T) {
	url := pgtest.Start(t)
	admin := connect(t, url)
	// Roles belong to the cluster, which the test binary's tests share: one name per database.
	var role string
	if err := admin.QueryRow(context.Background(), "SELECT 'proxy_' || current_database()").Scan(&role); err != nil {
		t.Fatal(err)
	}
	exec(t, admin, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { exec(t, connect(t, url), "DROP OWNED BY "+role+"; DROP ROLE "+role) })
	exec(t, admin, "CREATE SCHEMA wasql AUTHORIZATION "+role)
	proxyURL := strings.Replace(url, "root@", role+"@", 1)
	s := open(t, proxyURL)
	mustCreate(t, s, testFn("f", "bigint"), module("f"), false)
	var owner string
	if err := admin.QueryRow(context.Background(), "SELECT proowner::regrole::text FROM pg_proc WHERE proname = 'f'").Scan(&owner); err != nil || owner != role {
		t.Errorf("stub owner %q (%v), want %s", owner, err, role)
	}
	exec(t, admin, "DROP SCHEMA wasql CASCADE")
	s.Close()
	if _, err := Open(context.Background(), proxyURL, quiet); err == nil {
		t.Errorf("Open without the schema and without CREATE on the database: no error")
	} else {
		t.Logf("without the schema: %v", err)
	}
}

// TestWriteWaitBounded: a write waiting for the catalog version's row lock, held by some other
// session, ends with its context; and succeeds once the lock is released.
func TestWriteWaitBounded(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	admin := connect(t, url)
	ctx := context.Background()
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT * FROM wasql.catalog_version FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Create(short, testFn("f"), module("f"), false); err == nil {
		t.Fatal("Create while another session holds the version row: no error")
	} else if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Create took %s to give up", took)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, testFn("f"), module("f"), false)
}

// TestListenerIdle: an idle listening connection, pinged every reconcile interval, stays the same
// connection and still hears notifications.
func TestListenerIdle(t *testing.T) {
	url := pgtest.Start(t)
	a := open(t, url)
	b := open(t, url, WithReconcileInterval(50*time.Millisecond))
	pid := waitListener(t, b)
	time.Sleep(500 * time.Millisecond)
	if p := b.listenerPID.Load(); p != pid {
		t.Fatalf("listener PID went from %d to %d while idle", pid, p)
	}
	var rb catalogtest.Recorder
	defer b.Subscribe(rb.Record)()
	mustCreate(t, a, testFn("f"), module("f"), false)
	rb.WaitFor(t, 1, time.Second)
}

// TestBackendsKilled: after every backend of two stores is terminated (as in a failover), the
// next write and the next read succeed (each retried once on a fresh connection), and the
// listener reconnects and delivers.
func TestBackendsKilled(t *testing.T) {
	url := pgtest.Start(t)
	admin := connect(t, url)
	a, b := open(t, url), open(t, url)
	var rb catalogtest.Recorder
	defer b.Subscribe(rb.Record)()
	mustCreate(t, b, testFn("before"), module("before"), false)
	old := waitListener(t, b)
	exec(t, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	// No pause: the first use of each pool finds its connections dead, and retries.
	mustCreate(t, a, testFn("after"), module("after"), false)
	if _, err := b.Get(context.Background(), catalog.Key{Name: "before"}); err != nil {
		t.Fatalf("Get after the backends were killed: %v", err)
	}
	got, _ := rb.WaitFor(t, 2, 5*time.Second)
	if got[1].Function.Name != "after" {
		t.Errorf("got %q", describe(got))
	}
	if p := waitListener(t, b); p == old {
		t.Errorf("listener PID %d unchanged", p)
	}
}

// TestHammerTwoStores: writers on two stores of one database create, replace and drop the same
// few functions at random. Each store's subscriber must hear a valid history (Created at version
// 1, each Replaced one version up, Dropped the current definition) that ends in what List
// holds: the same history for both, since there is one catalog version.
func TestHammerTwoStores(t *testing.T) {
	url := pgtest.Start(t)
	stores := []*Store{open(t, url), open(t, url)}
	recs := []*catalogtest.Recorder{{}, {}}
	for i, s := range stores {
		defer s.Subscribe(recs[i].Record)()
	}
	ctx := context.Background()
	keys := []catalog.Function{testFn("f"), testFn("f", "bigint"), testFn("g", "text")}
	var g errgroup.Group
	for w := range 4 {
		g.Go(func() error {
			s := stores[w%2]
			for i := range 40 {
				f := keys[(w+i*7)%len(keys)]
				f.ArgNames, f.ArgTypes = slices.Clone(f.ArgNames), slices.Clone(f.ArgTypes)
				var err error
				switch (w*31 + i*17) % 5 {
				case 0, 1:
					_, err = s.Create(ctx, f, module(fmt.Sprint(i%3)), true)
				case 2:
					if _, err = s.Create(ctx, f, module("c"), false); errors.Is(err, catalog.ErrExists) {
						err = nil
					}
				default:
					if _, err = s.Drop(ctx, f.Key()); errors.Is(err, catalog.ErrNotFound) {
						err = nil
					}
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	final, err := stores[0].List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The catalog's version, not a store's: a store may not have heard the other's last writes.
	var v int64
	if err := connect(t, url).QueryRow(ctx, "SELECT version FROM wasql.catalog_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		waitVersion(t, s, v)
	}
	histories := make([][]string, 2)
	for i, r := range recs {
		model := map[string]catalog.Function{}
		for n, c := range r.Changes() {
			k := encodeKey(c.Function.Key())
			prev, ok := model[k]
			switch {
			case c.Kind == catalog.Created && !ok && c.Function.Version == 1,
				c.Kind == catalog.Replaced && ok && c.Function.Version == prev.Version+1 && c.Function.Created.Equal(prev.Created):
				model[k] = c.Function
			case c.Kind == catalog.Dropped && ok && catalogtest.Diff(prev, c.Function) == "":
				delete(model, k)
			default:
				t.Fatalf("store %d, change %d: %q does not follow %+v (known: %v)", i, n, describe([]catalog.Change{c}), prev, ok)
			}
		}
		if len(model) != len(final) {
			t.Fatalf("store %d: replay gives %d functions, List %d", i, len(model), len(final))
		}
		for _, f := range final {
			if d := catalogtest.Diff(model[encodeKey(f.Key())], f); d != "" {
				t.Errorf("store %d: replay disagrees with List on %s: %s", i, f.Key(), d)
			}
		}
		histories[i] = describe(r.Changes())
	}
	if !slices.Equal(histories[0], histories[1]) {
		t.Errorf("the two stores heard different histories:\n%q\n%q", histories[0], histories[1])
	}
	t.Logf("%d changes, catalog version %d", len(histories[0]), v)
}
