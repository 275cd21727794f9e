package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/internal/pgtest"
)

// fakeSource is a proxy's counters, set by the test.
type fakeSource struct {
	mu     sync.Mutex
	rows   map[string]FunctionStats
	resets []string
}

func newFakeSource() *fakeSource { return &fakeSource{rows: map[string]FunctionStats{}} }

func (f *fakeSource) set(fs FunctionStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[encodeKey(fs.Key)] = fs
}

func (f *fakeSource) remove(k catalog.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rows, encodeKey(k))
}

func (f *fakeSource) Stats(bool) []FunctionStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FunctionStats, 0, len(f.rows))
	for _, fs := range f.rows {
		out = append(out, fs)
	}
	slices.SortFunc(out, func(a, b FunctionStats) int { return a.Key.Compare(b.Key) })
	return out
}

func (f *fakeSource) ResetStats(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, name)
	for k, fs := range f.rows {
		if name == "" || strings.EqualFold(fs.Key.Name, name) {
			f.rows[k] = FunctionStats{Key: fs.Key, Version: fs.Version, Created: fs.Created, State: fs.State,
				Instances: fs.Instances, Buckets: make([]int64, len(fs.Buckets)), Since: time.Now()}
		}
	}
}

func (f *fakeSource) resetNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.resets)
}

// counted is fn's row in a proxy that evaluated it evals times, each a batch of 10 rows taking
// 3 µs (bucket 2: at most 4 µs), one of them failing with a trap.
func counted(fn catalog.Function, evals int64) FunctionStats {
	buckets := make([]int64, 26)
	buckets[2] = evals
	return FunctionStats{Key: fn.Key(), Version: fn.Version, Created: fn.Created, State: "idle", Evals: evals,
		Rows: 10 * evals, Batches: evals, Errors: map[string]int64{"trap": 1}, Time: time.Duration(evals) * 3 * time.Microsecond,
		Buckets: buckets, Fuel: 100 * evals, PeakMemory: 65536, Loads: 1, Since: time.Now().Add(-time.Minute)}
}

func report(t *testing.T, s *Store, src StatsSource) *Reporter {
	t.Helper()
	r := s.ReportStats(src, time.Hour) // the tests flush themselves
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func flush(t *testing.T, r *Reporter) {
	t.Helper()
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// viewRow is what a test reads of wasql.functions.
type viewRow struct {
	name, state, kinds         string
	calls, rows, batches, errs int64
	fuel, peak, loads          int64
	p50, p99, total            float64
}

func readView(t *testing.T, c *pgx.Conn, where string) []viewRow {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT name, state, errors_by_kind, calls, rows_evaluated, batches, errors,
		fuel, peak_memory, loads, p50_ms, p99_ms, total_ms FROM wasql.functions `+where)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (viewRow, error) {
		var v viewRow
		err := r.Scan(&v.name, &v.state, &v.kinds, &v.calls, &v.rows, &v.batches, &v.errs, &v.fuel, &v.peak, &v.loads, &v.p50, &v.p99, &v.total)
		return v, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStatsView: two proxies' counters summed in wasql.functions, with the state of the most
// active, a WHERE and ORDER BY evaluated by PostgreSQL; a function nobody called shows zeros;
// only changed rows are written; a dropped function's rows go.
func TestStatsView(t *testing.T) {
	url := pgtest.Start(t)
	s1, s2 := open(t, url), open(t, url)
	ctx := context.Background()
	add := mustCreate(t, s1, testFn("add", "bigint", "bigint"), module("add"), false)
	sub := mustCreate(t, s1, testFn("sub", "bigint"), module("sub"), false)
	idle := mustCreate(t, s1, testFn("idle"), module("idle"), false)
	src1, src2 := newFakeSource(), newFakeSource()
	r1, r2 := report(t, s1, src1), report(t, s2, src2)
	src1.set(counted(add, 3))
	a2 := counted(add, 5)
	a2.State, a2.Instances, a2.PeakMemory = "loaded", 2, 131072
	a2.Buckets[4] = 1 // one guest call of up to 16 µs
	a2.Batches++
	src2.set(a2)
	src2.set(counted(sub, 7))
	src1.set(FunctionStats{Key: idle.Key(), Version: idle.Version, Created: idle.Created, State: "unloaded", Since: time.Now()})
	flush(t, r1)
	flush(t, r2)

	c := connect(t, url)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM wasql.function_stats").Scan(&n); err != nil || n != 3 {
		t.Errorf("%d rows in wasql.function_stats (%v), want 3: a function that says nothing has none", n, err)
	}
	got := readView(t, c, "ORDER BY name")
	want := []viewRow{
		{name: "add", state: "loaded", kinds: `{"trap":2}`, calls: 8, rows: 80, batches: 9, errs: 2, fuel: 800, peak: 131072, loads: 2, p50: 0.004, p99: 0.016, total: 0.024},
		{name: "idle", state: "unloaded", kinds: "{}"},
		{name: "sub", state: "idle", kinds: `{"trap":1}`, calls: 7, rows: 70, batches: 7, errs: 1, fuel: 700, peak: 65536, loads: 1, p50: 0.004, p99: 0.004, total: 0.021},
	}
	if !slices.Equal(got, want) {
		t.Errorf("wasql.functions:\n got %+v\nwant %+v", got, want)
	}
	// PostgreSQL evaluates the view like any other: filters, order, joins.
	got = readView(t, c, "WHERE calls > 7 OR state = 'unloaded' ORDER BY calls DESC")
	if len(got) != 2 || got[0].name != "add" || got[1].name != "idle" {
		t.Errorf("WHERE calls > 7 OR state = 'unloaded' ORDER BY calls DESC: %+v", got)
	}
	var proxies int
	if err := c.QueryRow(ctx, `SELECT count(DISTINCT s.proxy) FROM wasql.functions f JOIN wasql.function_stats s USING (name)
		WHERE f.name = 'add'`).Scan(&proxies); err != nil || proxies != 2 {
		t.Errorf("joined with wasql.function_stats: %d proxies (%v), want 2", proxies, err)
	}

	// Nothing changed: nothing written.
	var before, after string
	updated := `SELECT string_agg(proxy || name || updated::text, ',' ORDER BY proxy, name) FROM wasql.function_stats`
	if err := c.QueryRow(ctx, updated).Scan(&before); err != nil {
		t.Fatal(err)
	}
	flush(t, r1)
	flush(t, r2)
	if err := c.QueryRow(ctx, updated).Scan(&after); err != nil || after != before {
		t.Errorf("a flush with nothing new rewrote rows: %v\nbefore %s\n after %s", err, before, after)
	}

	// A broken load in one proxy makes the function broken, with its error.
	b := counted(sub, 7)
	b.State, b.Error = "broken", "load: no module"
	src1.set(b)
	flush(t, r1)
	var state, errText string
	if err := c.QueryRow(ctx, "SELECT state, error FROM wasql.functions WHERE name = 'sub'").Scan(&state, &errText); err != nil ||
		state != "broken" || errText != "load: no module" {
		t.Errorf("sub: %q %q (%v), want broken with its error", state, errText, err)
	}

	// A replaced function starts from zero: the old version's counters are not its.
	mustCreate(t, s1, testFn("add", "bigint", "bigint"), module("add2"), true)
	got = readView(t, c, "WHERE name = 'add'")
	if len(got) != 1 || got[0].calls != 0 || got[0].state != "unloaded" {
		t.Errorf("add after OR REPLACE: %+v, want no counts", got)
	}

	// Dropped: its rows go with it; a proxy that no longer lists it deletes its own.
	if _, err := s1.Drop(ctx, sub.Key()); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM wasql.function_stats WHERE name = 'sub'").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows of a dropped function (%v)", n, err)
	}
	// Created again: version 1 again, a new creation time. A proxy still reporting the old
	// function (it has not heard of the drop) does not count for the new one.
	mustCreate(t, s1, testFn("sub", "bigint"), module("sub"), false)
	src2.set(counted(sub, 8))
	flush(t, r2)
	if got := readView(t, c, "WHERE name = 'sub'"); len(got) != 1 || got[0].calls != 0 || got[0].state != "unloaded" {
		t.Errorf("sub dropped and created again, the old one's counters written: %+v, want none", got)
	}
	src1.remove(add.Key())
	if err := r1.flush(ctx, true, false); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM wasql.function_stats WHERE proxy = $1", r1.ID()).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows of proxy 1 after its functions went (%v)", n, err)
	}
}

// TestStatsReset: wasql.reset_stats() zeroes the rows and tells every proxy (by NOTIFY), which
// resets its own counters; a write of counters read before the reset writes nothing, even when
// it races the reset; the count is of the functions matched.
func TestStatsReset(t *testing.T) {
	url := pgtest.Start(t)
	s1, s2 := open(t, url), open(t, url)
	ctx := context.Background()
	add := mustCreate(t, s1, testFn("add", "bigint", "bigint"), module("add"), false)
	add2 := mustCreate(t, s1, testFn("add", "bigint"), module("add2"), false)
	sub := mustCreate(t, s1, testFn("sub", "bigint"), module("sub"), false)
	src1, src2 := newFakeSource(), newFakeSource()
	r1, r2 := report(t, s1, src1), report(t, s2, src2)
	waitListener(t, s1)
	waitListener(t, s2)
	for _, src := range []*fakeSource{src1, src2} {
		src.set(counted(add, 3))
		src.set(counted(add2, 4))
		src.set(counted(sub, 5))
	}
	flush(t, r1)
	flush(t, r2)
	c := connect(t, url)
	var matched int64
	if err := c.QueryRow(ctx, "SELECT wasql.reset_stats('ADD')").Scan(&matched); err != nil || matched != 2 {
		t.Fatalf("wasql.reset_stats('ADD'): %d (%v), want the 2 overloads of add", matched, err)
	}
	got := readView(t, c, "ORDER BY name, arg_types")
	if len(got) != 3 || got[0].calls != 0 || got[1].calls != 0 || got[0].kinds != "{}" || got[0].p99 != 0 || got[2].calls != 10 {
		t.Errorf("after reset_stats('ADD'): %+v", got)
	}
	var since time.Time
	if err := c.QueryRow(ctx, "SELECT stats_since FROM wasql.functions WHERE name = 'add' LIMIT 1").Scan(&since); err != nil || time.Since(since) > time.Minute {
		t.Errorf("stats_since after a reset: %v (%v)", since, err)
	}
	// Both proxies hear of it and reset their own counters.
	for i, src := range []*fakeSource{src1, src2} {
		for deadline := time.Now().Add(10 * time.Second); !slices.Equal(src.resetNames(), []string{"ADD"}); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("proxy %d: resets %q, want [ADD]", i+1, src.resetNames())
			}
		}
	}

	// A proxy that has not heard of a reset (its notification lost: proxy 1 no longer listens)
	// writes nothing with the counters it read before, applies the reset from
	// wasql.stats_resets, and writes those.
	r1.stop()
	<-r1.done
	old := r1.gen
	if _, err := c.Exec(ctx, "SELECT wasql.reset_stats()"); err != nil {
		t.Fatal(err)
	}
	r1.mu.Lock()
	gen, _, err := r1.write(ctx, []FunctionStats{counted(sub, 99)}, nil)
	r1.mu.Unlock()
	if err != nil || gen != old+1 {
		t.Fatalf("write behind a reset: generation %d (%v), want %d", gen, err, old+1)
	}
	got = readView(t, c, "WHERE name = 'sub'")
	if len(got) != 1 || got[0].calls != 0 {
		t.Errorf("a write behind a reset brought counters back: %+v", got)
	}

	// A write racing a reset: the reset waits for it and zeroes what it wrote, or it comes
	// after and writes nothing; either way the counters read before the reset never stay.
	for round := range 20 {
		flush(t, r1) // applies the resets so far: the write below knows the generation
		src1.set(counted(sub, int64(1000+round)))
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SELECT wasql.reset_stats('sub')"); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			r1.mu.Lock()
			rows := r1.src.Stats(false) // read before the reset reaches this proxy
			_, _, err := r1.write(ctx, rows, nil)
			r1.mu.Unlock()
			done <- err
		}()
		time.Sleep(time.Duration(round%3) * 10 * time.Millisecond) // the write waiting for the reset, mostly
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := readView(t, c, "WHERE name = 'sub'"); len(got) != 1 || got[0].calls >= 1000 {
			t.Fatalf("round %d: a write racing reset_stats left %+v", round, got)
		}
	}
	// Once the proxy has applied the resets (at its next write), it writes the counters made
	// since.
	flush(t, r1)
	src1.set(counted(sub, 2))
	flush(t, r1)
	if got := readView(t, c, "WHERE name = 'sub'"); len(got) != 1 || got[0].calls != 2 {
		t.Errorf("the counters made after the resets: %+v, want 2 calls", got)
	}
}

// TestStatsLostResets: a proxy behind more resets than wasql.stats_resets keeps, or whose
// notification never came, resets everything at its next write.
func TestStatsLostResets(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	add := mustCreate(t, s, testFn("add"), module("add"), false)
	src := newFakeSource()
	r := report(t, s, src)
	src.set(counted(add, 3))
	flush(t, r)
	c := connect(t, url)
	r.stop() // the background goroutine, which would hear the notifications
	<-r.done
	exec(t, c, "SELECT wasql.reset_stats('add')")
	exec(t, c, "SELECT wasql.reset_stats('other')")
	exec(t, c, "DELETE FROM wasql.stats_resets WHERE name = 'add'")
	src.set(counted(add, 4))
	flush(t, r)
	if got := src.resetNames(); !slices.Equal(got, []string{""}) {
		t.Errorf("resets applied: %q, want every function's", got)
	}
	if got := readView(t, c, ""); len(got) != 1 || got[0].calls != 0 {
		t.Errorf("after the lost resets: %+v", got)
	}
}

// TestStatsExpire: a proxy silent for 5 minutes no longer counts and its rows are deleted; a
// proxy that was silent that long writes all its rows again when it comes back.
func TestStatsExpire(t *testing.T) {
	url := pgtest.Start(t)
	s1, s2 := open(t, url), open(t, url)
	ctx := context.Background()
	add := mustCreate(t, s1, testFn("add"), module("add"), false)
	sub := mustCreate(t, s1, testFn("sub"), module("sub"), false)
	src1, src2 := newFakeSource(), newFakeSource()
	r1, r2 := report(t, s1, src1), report(t, s2, src2)
	src1.set(counted(add, 3))
	src1.set(counted(sub, 4))
	src2.set(counted(add, 5))
	flush(t, r1)
	flush(t, r2)
	c := connect(t, url)
	exec(t, c, "UPDATE wasql.proxies SET heartbeat = now() - interval '6 minutes' WHERE id = $1", r1.ID())
	if got := readView(t, c, "ORDER BY name"); len(got) != 2 || got[0].calls != 5 || got[1].calls != 0 {
		t.Errorf("with proxy 1 silent for 6 minutes: %+v, want only proxy 2's counters", got)
	}
	if err := r2.expire(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM wasql.function_stats WHERE proxy = $1", r1.ID()).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows of the expired proxy (%v)", n, err)
	}
	// Proxy 1 comes back with one changed row: it learns its row had gone and, at its next
	// write, writes every row again.
	src1.set(counted(add, 6))
	flush(t, r1)
	if got := readView(t, c, "ORDER BY name"); len(got) != 2 || got[0].calls != 11 || got[1].calls != 0 {
		t.Errorf("proxy 1's changed row: %+v", got)
	}
	flush(t, r1)
	if got := readView(t, c, "ORDER BY name"); len(got) != 2 || got[0].calls != 11 || got[1].calls != 4 {
		t.Errorf("after proxy 1 came back: %+v", got)
	}
}

// TestStatsClose: at Close a proxy writes its rows a last time, unloaded with no instances; the
// counters stay until it has been silent for 5 minutes.
func TestStatsClose(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	add := mustCreate(t, s, testFn("add"), module("add"), false)
	src := newFakeSource()
	r := s.ReportStats(src, 20*time.Millisecond)
	a := counted(add, 3)
	a.State, a.Instances = "loaded", 1
	src.set(a)
	c := connect(t, url)
	var state string
	var instances, calls int64
	read := func() {
		t.Helper()
		if err := c.QueryRow(context.Background(), "SELECT state, instances, calls FROM wasql.functions").Scan(&state, &instances, &calls); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if read(); state == "loaded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background write never came: %s %d %d", state, instances, calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Evals = 4
	src.set(a)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	read()
	if state != "unloaded" || instances != 0 || calls != 4 {
		t.Errorf("after Close: %s, %d instances, %d calls; want unloaded, 0, 4", state, instances, calls)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
}

// TestStatsPrivileges: a role without privileges on the schema's tables reads wasql.functions
// and calls wasql.reset_stats(), and nothing else.
func TestStatsPrivileges(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	ctx := context.Background()
	add := mustCreate(t, s, testFn("add"), module("add"), false)
	src := newFakeSource()
	r := report(t, s, src)
	src.set(counted(add, 3))
	flush(t, r)
	admin := connect(t, url)
	var role string
	if err := admin.QueryRow(ctx, "SELECT 'reader_' || current_database()").Scan(&role); err != nil {
		t.Fatal(err)
	}
	exec(t, admin, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() { exec(t, connect(t, url), "DROP OWNED BY "+role+"; DROP ROLE "+role) })
	c := connect(t, strings.Replace(url, "root@", role+"@", 1))
	if got := readView(t, c, ""); len(got) != 1 || got[0].calls != 3 {
		t.Errorf("wasql.functions as %s: %+v", role, got)
	}
	for _, table := range []string{"function_defs", "function_stats", "proxies", "modules"} {
		_, err := c.Exec(ctx, "SELECT * FROM wasql."+table)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("SELECT * FROM wasql.%s as %s: %v, want 42501", table, role, err)
		}
	}
	// A function no proxy counted: its counters start at its creation, or its last reset.
	mustCreate(t, s, testFn("none"), module("none"), false)
	exec(t, admin, "UPDATE wasql.function_defs SET created = created - interval '1 hour' WHERE name = 'none'")
	since := func() time.Duration {
		var at time.Time
		if err := c.QueryRow(ctx, "SELECT stats_since FROM wasql.functions WHERE name = 'none'").Scan(&at); err != nil {
			t.Fatal(err)
		}
		return time.Since(at)
	}
	if d := since(); d < time.Hour-time.Minute {
		t.Errorf("stats_since of a function never counted, created an hour ago: %v ago", d)
	}
	exec(t, c, "SELECT wasql.reset_stats('NONE')") // as the role
	if d := since(); d > time.Minute {
		t.Errorf("stats_since after reset_stats('NONE'): %v ago", d)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT wasql.reset_stats()").Scan(&n); err != nil || n != 2 {
		t.Errorf("wasql.reset_stats() as %s: %d (%v)", role, n, err)
	}
	if got := readView(t, c, "WHERE name = 'add'"); len(got) != 1 || got[0].calls != 0 {
		t.Errorf("after the reset: %+v", got)
	}
}

// TestMigrationFromV2: a catalog written at schema version 2 (wasql.functions a table) keeps its
// functions, stubs and modules through migration 3, and its functions appear in the view.
func TestMigrationFromV2(t *testing.T) {
	url := pgtest.Start(t)
	ctx := context.Background()
	c := connect(t, url)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range append([]string{"CREATE SCHEMA wasql"}, migrations[:2]...) {
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	mod := module("old")
	fn := testFn("old", "bigint", "bigint")
	fn.Options = map[string]string{"timeout": "250ms", "fuel": "5000"}
	s := &Store{ident: 63}
	st, _ := s.stubFor(&fn)
	for _, sql := range []string{
		"UPDATE wasql.schema_version SET version = 2",
		"UPDATE wasql.catalog_version SET version = 1",
		"INSERT INTO wasql.modules VALUES (sha256($1), $1)",
		`INSERT INTO wasql.functions (schema_name, name, arg_types, arg_names, return_type, volatility, strict, parallel, cost,
			export, options, module_hash, module_size, owner, version, created, catalog_version)
			VALUES ('', 'old', '{bigint,bigint}', '{"",""}', 'bigint', 'IMMUTABLE', true, 'SAFE', 1, 'old',
			'{"timeout": "250ms", "fuel": "5000"}', sha256($1), length($1), 'alice', 3, now(), 1)`,
		st.create,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = []any{mod}
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	store := open(t, url)
	got, err := store.Get(ctx, fn.Key())
	if err != nil || got.Version != 3 || got.Owner != "alice" || got.Options["timeout"] != "250ms" {
		t.Fatalf("after migration: %+v %v", got, err)
	}
	if b, err := store.Module(ctx, got.ModuleHash); err != nil || string(b) != string(mod) {
		t.Errorf("module after migration: %v", err)
	}
	var version int
	var kind string
	if err := c.QueryRow(ctx, "SELECT (SELECT version FROM wasql.schema_version), (SELECT relkind::text FROM pg_class WHERE oid = 'wasql.functions'::regclass)").Scan(&version, &kind); err != nil ||
		version != SchemaVersion || kind != "v" {
		t.Errorf("schema version %d, wasql.functions of kind %q (%v): want %d and a view", version, kind, err, SchemaVersion)
	}
	var name, owner, state string
	var timeout float64
	var fuel, memory int64
	if err := c.QueryRow(ctx, "SELECT name, owner, state, timeout_ms, fuel_limit, memory_limit FROM wasql.functions").Scan(&name, &owner, &state, &timeout, &fuel, &memory); err != nil ||
		name != "old" || owner != "alice" || state != "unloaded" || timeout != 250 || fuel != 5000 || memory != 64<<20 {
		t.Errorf("the view: %s %s %s %v %d %d (%v)", name, owner, state, timeout, fuel, memory, err)
	}
	checkStubs(t, store, c)
	// The migrated catalog takes writes as before.
	mustCreate(t, store, fn, module("new"), true)
	if got, err := store.Get(ctx, fn.Key()); err != nil || got.Version != 4 {
		t.Errorf("replace after migration: %+v %v", got, err)
	}
}

// TestStatsLimits: the view's limits read the WITH options as udf.Definition.SetOption does.
func TestStatsLimits(t *testing.T) {
	url := pgtest.Start(t)
	s := open(t, url)
	c := connect(t, url)
	cases := []struct {
		options map[string]string
		timeout float64
		memory  int64
		fuel    int64
	}{
		{nil, 1000, 64 << 20, 0},
		{map[string]string{"timeout": "200ms", "memory": "16MB", "fuel": "1_000"}, 200, 16 << 20, 1000},
		{map[string]string{"TIMEOUT": "1h2m3.5s", "Memory": "64 KiB"}, 3723500, 64 << 10, 0},
		{map[string]string{"Timeout": "5s", "timeout": "1.5us", "memory": "1.5g"}, 0.0015, 3 << 29, 0},
		{map[string]string{"timeout": "250µs", "result": "1MB", "clock": "real"}, 0.25, 64 << 20, 0},
	}
	for i, tc := range cases {
		fn := testFn(fmt.Sprintf("f%d", i))
		fn.Options = tc.options
		mustCreate(t, s, fn, module(fn.Name), false)
		var timeout float64
		var memory, fuel int64
		if err := c.QueryRow(context.Background(), "SELECT timeout_ms, memory_limit, fuel_limit FROM wasql.functions WHERE name = $1", fn.Name).Scan(&timeout, &memory, &fuel); err != nil {
			t.Fatal(err)
		}
		if timeout != tc.timeout || memory != tc.memory || fuel != tc.fuel {
			t.Errorf("options %v: timeout %v, memory %d, fuel %d; want %v, %d, %d", tc.options, timeout, memory, fuel, tc.timeout, tc.memory, tc.fuel)
		}
	}
}

// TestStatsHammer: counters changing in two proxies while both write in the background, flush
// on demand and hear resets: at the end, each proxy's rows are its counters, and the view their
// sum. Run it under -race.
func TestStatsHammer(t *testing.T) {
	url := pgtest.Start(t)
	s1, s2 := open(t, url), open(t, url)
	ctx := context.Background()
	var fns []catalog.Function
	for i := range 5 {
		fns = append(fns, mustCreate(t, s1, testFn(fmt.Sprintf("f%d", i)), module(fmt.Sprint(i)), false))
	}
	srcs := []*fakeSource{newFakeSource(), newFakeSource()}
	reps := []*Reporter{s1.ReportStats(srcs[0], 5*time.Millisecond), s2.ReportStats(srcs[1], 5*time.Millisecond)}
	defer func() {
		for _, r := range reps {
			r.Close(ctx)
		}
	}()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, rep := srcs[i%2], reps[i%2]
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				fn := fns[n%len(fns)]
				src.mu.Lock()
				f, ok := src.rows[encodeKey(fn.Key())]
				if !ok {
					f = counted(fn, 0)
				}
				f.Evals++
				f.Rows += 10
				src.rows[encodeKey(fn.Key())] = f
				src.mu.Unlock()
				if n%50 == 0 {
					if err := rep.Flush(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	c := connect(t, url)
	for i := range 20 {
		name := any(nil)
		if i%2 == 0 {
			name = fns[i%len(fns)].Name
		}
		if _, err := c.Exec(ctx, "SELECT wasql.reset_stats($1)", name); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	// Quiet now: once each proxy has applied every reset and written, the rows are its counters.
	var gen int64
	if err := c.QueryRow(ctx, "SELECT generation FROM wasql.stats_generation").Scan(&gen); err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			flush(t, r)
			r.mu.Lock()
			caught := r.gen == gen
			r.mu.Unlock()
			if caught {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("proxy %d never caught up with the resets", i+1)
			}
		}
		flush(t, r)
		for _, f := range srcs[i].Stats(true) {
			var evals, rows int64
			err := c.QueryRow(ctx, "SELECT evals, rows FROM wasql.function_stats WHERE proxy = $1 AND name = $2", r.ID(), f.Key.Name).Scan(&evals, &rows)
			if errors.Is(err, pgx.ErrNoRows) && f.Quiet() {
				continue
			}
			if err != nil || evals != f.Evals || rows != f.Rows {
				t.Errorf("proxy %d, %s: table %d evals, %d rows (%v); counters %d, %d", i+1, f.Key.Name, evals, rows, err, f.Evals, f.Rows)
			}
		}
	}
	var sum, view int64
	for _, src := range srcs {
		for _, f := range src.Stats(true) {
			sum += f.Evals
		}
	}
	if err := c.QueryRow(ctx, "SELECT sum(calls) FROM wasql.functions").Scan(&view); err != nil || view != sum {
		t.Errorf("wasql.functions: %d calls (%v), the proxies' counters %d", view, err, sum)
	}
}
