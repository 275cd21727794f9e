package embedded

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/proxy"
)

// slack bounds how long an interrupted statement may take to return: generous (the machine is
// shared), far below the 6.5-8 s the lock used to make such statements wait.
const slack = 5 * time.Second

// holdLock takes the engine's locks as a stuck statement would, until the test ends or release.
func holdLock(t *testing.T, e *Engine, c class) (release func()) {
	t.Helper()
	rel, err := e.locks.acquire(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rel)
	return rel
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func withTable(t *testing.T, e *Engine, rows int) {
	t.Helper()
	ctx := e.NewContext(context.Background())
	if _, _, err := e.Query(ctx, "CREATE TABLE t (a bigint primary key)"); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO t VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "(%d)", i)
	}
	if _, _, err := e.Query(ctx, b.String()); err != nil {
		t.Fatal(err)
	}
}

// TestStuckWriterDoesNotStopOthers: while a statement holds the table lock alone (a long
// write), statements that read no table or only the catalog run, and a statement waiting for the
// lock is canceled at once (CancelRequest) with 57014.
func TestStuckWriterDoesNotStopOthers(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 3)
	addr := servePG(t, e, proxy.Config{})
	other, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeExec)
	if err != nil {
		t.Fatal(err)
	}
	waiter, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	holdLock(t, e, lockWrite)
	for _, q := range []string{"select 1", "SELECT count(*) FROM pg_catalog.pg_class", "SELECT table_name FROM information_schema.tables"} {
		ctx, cancel := context.WithTimeout(context.Background(), slack)
		start := time.Now()
		var n any
		err := other.QueryRow(ctx, q).Scan(&n)
		cancel()
		if err != nil {
			t.Fatalf("%s behind a stuck writer: %v", q, err)
		}
		t.Logf("%s behind a stuck writer: %v", q, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = waiter.Exec(ctx, "SELECT * FROM t")
	took := time.Since(start)
	if pgCode(err) != sqlstate.QueryCanceled {
		t.Fatalf("canceled waiter: %v", err)
	}
	if took > slack {
		t.Fatalf("canceled waiter returned after %v", took)
	}
	t.Logf("canceled waiter returned after %v (cancel at 100ms): %v", took, err)
	// The session goes on.
	var one int
	if err := waiter.QueryRow(context.Background(), "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after the cancel: %v", err)
	}
}

// TestQueuedWriterDoesNotStallSelectOne: a long reader holds the table lock, a writer waits
// behind it; a new reader of a table queues behind the writer (neither side starves), but
// select 1 and catalog queries do not wait at all.
func TestQueuedWriterDoesNotStallSelectOne(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 3)
	holdLock(t, e, lockRead)
	queued := make(chan error, 1)
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	go func() {
		rel, err := e.locks.acquire(wctx, lockWrite, nil)
		if err == nil {
			rel()
		}
		queued <- err
	}()
	time.Sleep(50 * time.Millisecond) // the writer is queued
	sess, err := e.openPG("app", 1<<30+7, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, q := range []string{"select 1", "SELECT relname FROM pg_catalog.pg_class"} {
		ctx, cancel := context.WithTimeout(context.Background(), slack)
		start := time.Now()
		res, err := sess.Execute(ctx, q, nil)
		if err != nil {
			t.Fatalf("%s behind a queued writer: %v", q, err)
		}
		drain(t, ctx, res)
		cancel()
		t.Logf("%s behind a queued writer: %v", q, time.Since(start))
	}
	// A table read waits behind the writer; its deadline ends the wait with 57014.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := sess.Execute(ctx, "SELECT * FROM t", nil); sqlstate.Of(err) != sqlstate.QueryCanceled {
		t.Fatalf("reader behind the writer: %v", err)
	}
	wcancel()
	<-queued
}

func drain(t *testing.T, ctx context.Context, res proxy.Result) {
	t.Helper()
	defer res.Close()
	for res.Columns() != nil {
		row, err := res.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if row == nil {
			return
		}
	}
}

// TestStatementDeadline: a statement whose context has a deadline (statement_timeout, which the
// Postgres wire turns into one) stops with 57014 while it runs, not only while it waits.
func TestStatementDeadline(t *testing.T) {
	e := open(t)
	withTable(t, e, 400) // 400^3 = 64M rows to count: many seconds
	sess, err := e.openPG("app", 1<<30+8, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := sess.Execute(ctx, "SELECT count(*) FROM t a, t b, t c", nil)
	if err == nil {
		_, err = res.Next(ctx)
		res.Close()
	}
	took := time.Since(start)
	if sqlstate.Of(err) != sqlstate.QueryCanceled || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("long query past its deadline: %v", err)
	}
	if took > 10*300*time.Millisecond {
		t.Fatalf("a 300ms deadline stopped the query after %v", took)
	}
	t.Logf("300ms deadline: the query stopped after %v", took)
}

// TestPGCancelBackend: pg_cancel_backend interrupts another session's statement at once, even
// while it waits for a lock; pg_terminate_backend ends the session.
func TestPGCancelBackend(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 3)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := proxy.NewServer(proxy.Config{}, e.PGBackend())
	e.TerminatePG = srv.Terminate
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	addr := l.Addr().String()
	victim, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var pid int64
	if err := victim.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := admin.QueryRow(ctx, "SELECT pg_cancel_backend(12345)").Scan(&ok); err != nil || ok {
		t.Fatalf("unknown pid: %v %v", ok, err)
	}
	holdLock(t, e, lockWrite)
	for _, fn := range []string{"pg_cancel_backend", "pg_terminate_backend"} {
		done := make(chan error, 1)
		go func() {
			_, err := victim.Exec(ctx, "SELECT * FROM t")
			done <- err
		}()
		time.Sleep(100 * time.Millisecond) // the victim waits for the lock
		start := time.Now()
		if err := admin.QueryRow(ctx, fmt.Sprintf("SELECT %s(%d)", fn, pid)).Scan(&ok); err != nil || !ok {
			t.Fatalf("%s: %v %v", fn, ok, err)
		}
		select {
		case err := <-done:
			want := map[string]string{"pg_cancel_backend": sqlstate.QueryCanceled, "pg_terminate_backend": "57P01"}[fn]
			if code := pgCode(err); code != want && !(fn == "pg_terminate_backend" && err != nil) {
				t.Fatalf("%s: victim got %v", fn, err)
			}
			t.Logf("%s: the victim returned after %v: %v", fn, time.Since(start), err)
		case <-time.After(slack):
			t.Fatalf("%s: the victim still waits", fn)
		}
	}
	var one int
	if err := victim.QueryRow(ctx, "select 1").Scan(&one); err == nil {
		t.Fatal("a terminated session still runs statements")
	}
}

// TestTwoEngines: each engine of a process finds its own wasm functions (they were a process
// global: opening a second engine made the first lose its functions).
func TestTwoEngines(t *testing.T) {
	mod := module(t, "../udf/testdata/numeric.wasm")
	a, b := open(t), open(t)
	ctx := context.Background()
	create := fmt.Sprintf("CREATE FUNCTION %%s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS x'%x', 'add'", mod)
	if _, _, err := a.Query(a.NewContext(ctx), fmt.Sprintf(create, "plus_a")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Query(b.NewContext(ctx), fmt.Sprintf(create, "plus_b")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e      *Engine
		fn     string
		exists bool
	}{{a, "plus_a", true}, {a, "plus_b", false}, {b, "plus_b", true}, {b, "plus_a", false}} {
		_, rows, err := c.e.Query(c.e.NewContext(ctx), "SELECT "+c.fn+"(1, 2)")
		if c.exists && (err != nil || len(rows) != 1 || fmt.Sprint(rows[0][0]) != "3") {
			t.Errorf("%s in its engine: %v %v", c.fn, rows, err)
		}
		if !c.exists && err == nil {
			t.Errorf("%s found in the other engine", c.fn)
		}
	}
	// Postgres functions are for Postgres-wire sessions only, in each engine.
	for _, e := range []*Engine{a, b} {
		sess, err := e.openPG("app", 1<<30+9, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sess.Execute(ctx, "SELECT pg_backend_pid()", nil)
		if err != nil {
			t.Fatal(err)
		}
		row, err := res.Next(ctx)
		res.Close()
		if err != nil || fmt.Sprint(row) != fmt.Sprint([]any{int32(1<<30 + 9)}) {
			t.Errorf("pg_backend_pid: %v %v", row, err)
		}
		sess.Close()
		if _, _, err := e.Query(e.NewContext(ctx), "SELECT pg_backend_pid()"); err == nil {
			t.Error("a MySQL-dialect session sees pg_backend_pid")
		}
	}
}

// TestCreateFunctionTakesNoLock: CREATE FUNCTION compiles outside every engine lock: it
// completes while another statement holds them all, and select 1 runs while it compiles.
func TestCreateFunctionTakesNoLock(t *testing.T) {
	e := open(t)
	mod := module(t, "../udf/testdata/numeric.wasm")
	holdLock(t, e, lockDDL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sctx := e.NewContext(ctx)
	if _, _, err := e.Query(sctx, fmt.Sprintf("CREATE OR REPLACE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS x'%x', 'add'", mod)); err != nil {
		t.Fatalf("CREATE while every lock is held: %v", err)
	}
	if _, rows, err := e.Query(sctx, "SELECT plus(40, 2)"); err != nil || fmt.Sprint(rows) != "[[42]]" {
		t.Fatalf("call while every lock is held: %v %v", rows, err)
	}
	if _, _, err := e.Query(sctx, "DROP FUNCTION plus(bigint, bigint)"); err != nil {
		t.Fatalf("DROP while every lock is held: %v", err)
	}
}

// TestEngineFault: a panic in the engine is the statement's error, XX000 with the stack logged,
// and 1105 on the MySQL wire.
func TestEngineFault(t *testing.T) {
	r := &pgResult{ctx: sql.NewEmptyContext(), iter: panicIter{}, unlock: func() {}}
	_, err := r.Next(context.Background())
	var ef *EngineFault
	if !errors.As(err, &ef) || sqlstate.Of(err) != sqlstate.InternalError || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic in Next: %v (%s)", err, sqlstate.Of(err))
	}
	var me *mysql.MySQLError
	if err := mysqlError(err); !errors.As(err, &me) && !strings.Contains(err.Error(), "1105") {
		t.Fatalf("MySQL wire: %v", err)
	}
	if err := mysqlError(err); !strings.Contains(err.Error(), "boom") {
		t.Fatalf("MySQL wire: %v", err)
	}
}

type panicIter struct{}

func (panicIter) Next(*sql.Context) (sql.Row, error) { panic("boom") }
func (panicIter) Close(*sql.Context) error           { return nil }

// mysqlConn opens a connection of its own to the MySQL wire and returns its connection id.
func mysqlConn(t *testing.T, db *gosql.DB) (*gosql.Conn, int64) {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var id int64
	if err := c.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return c, id
}

func mysqlNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// rootDB serves e's MySQL wire and connects to it as root.
func rootDB(t *testing.T, e *Engine) *gosql.DB {
	t.Helper()
	return mysqlDB(t, serveMySQL(t, e), "root", "", "")
}

// TestMySQLKill: KILL QUERY interrupts a statement waiting for the lock at once (1317), and
// KILL itself does not wait for the lock.
func TestMySQLKill(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 3)
	db := rootDB(t, e)
	victim, id := mysqlConn(t, db)
	killer, _ := mysqlConn(t, db)
	holdLock(t, e, lockWrite)
	done := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(context.Background(), "SELECT * FROM t")
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), slack)
	defer cancel()
	if _, err := killer.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id)); err != nil {
		t.Fatalf("KILL QUERY: %v", err)
	}
	select {
	case err := <-done:
		if mysqlNumber(err) != 1317 {
			t.Fatalf("killed query: %v", err)
		}
		t.Logf("KILL QUERY: the waiting query returned after %v: %v", time.Since(start), err)
	case <-time.After(slack):
		t.Fatal("KILL QUERY did not interrupt a query waiting for the lock")
	}
	var one int
	if err := victim.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("after KILL QUERY: %v", err)
	}
}

// TestMySQLMaxExecutionTime: max_execution_time (session, ms) and the MAX_EXECUTION_TIME hint
// are deadlines, while waiting and while running: error 3024.
func TestMySQLMaxExecutionTime(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 400)
	db := rootDB(t, e)
	c, _ := mysqlConn(t, db)
	ctx := context.Background()
	check := func(what, q string) {
		t.Helper()
		start := time.Now()
		var n int64
		err := c.QueryRowContext(ctx, q).Scan(&n)
		took := time.Since(start)
		if mysqlNumber(err) != 3024 {
			t.Fatalf("%s: %v", what, err)
		}
		if took > 10*300*time.Millisecond {
			t.Fatalf("%s: a 300ms limit returned after %v", what, took)
		}
		t.Logf("%s: 3024 after %v", what, took)
	}
	long := "SELECT count(*) FROM t a, t b, t c"
	check("hint, running", "SELECT /*+ MAX_EXECUTION_TIME(300) */ count(*) FROM t a, t b, t c")
	if _, err := c.ExecContext(ctx, "SET max_execution_time = 300"); err != nil {
		t.Fatal(err)
	}
	check("session variable, running", long)
	rel := holdLock(t, e, lockWrite)
	check("session variable, waiting", "SELECT count(*) FROM t")
	rel()
	if _, err := c.ExecContext(ctx, "SET max_execution_time = 0"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 400 {
		t.Fatalf("without a limit: %d %v", n, err)
	}
}

// TestReplaceBesideRunningQuery: CREATE OR REPLACE takes no lock, so it runs while a query
// that resolved the old version still calls it: that query finishes on the old version (it was
// closed under it: "function was dropped or replaced"), and the next one uses the new version.
func TestReplaceBesideRunningQuery(t *testing.T) {
	e := open(t)
	withTable(t, e, 50)
	mod := module(t, "../udf/testdata/numeric.wasm")
	ctx := context.Background()
	create := fmt.Sprintf("CREATE OR REPLACE FUNCTION f(bigint, bigint) RETURNS bigint LANGUAGE wasm AS x'%x', '%%s'", mod)
	if _, _, err := e.Query(e.NewContext(ctx), fmt.Sprintf(create, "add")); err != nil {
		t.Fatal(err)
	}
	sess, err := e.openPG("app", 1<<30+10, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	res, err := sess.Execute(ctx, "SELECT f(a, 1) FROM t ORDER BY a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Query(e.NewContext(ctx), fmt.Sprintf(create, "div")); err != nil {
		t.Fatalf("replace beside a running query: %v", err)
	}
	n := int64(0)
	for ; ; n++ {
		row, err := res.Next(ctx)
		if err != nil {
			t.Fatalf("row %d of the query running on the replaced version: %v", n, err)
		}
		if row == nil {
			break
		}
		if fmt.Sprint(row[0]) != fmt.Sprint(n+1) {
			t.Fatalf("row %d: %v, want the old version's %d", n, row[0], n+1)
		}
	}
	res.Close()
	if n != 50 {
		t.Fatalf("%d rows", n)
	}
	if _, rows, err := e.Query(e.NewContext(ctx), "SELECT f(5, 1)"); err != nil || fmt.Sprint(rows) != "[[5]]" {
		t.Fatalf("after the replace: %v %v", rows, err)
	}
}

// TestMySQLLimits: the MySQL wire refuses a statement nested too deep before parsing it (1064,
// with the limit in the message), and KILL CONNECTION ends a session waiting for the lock.
func TestMySQLLimits(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 3)
	db := rootDB(t, e)
	c, _ := mysqlConn(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), slack)
	defer cancel()
	start := time.Now()
	_, err := c.ExecContext(ctx, "SELECT "+strings.Repeat("(", 50_000)+"1"+strings.Repeat(")", 50_000))
	if mysqlNumber(err) != 1064 || !strings.Contains(err.Error(), "limit is 1000") {
		t.Fatalf("deep statement: %v", err)
	}
	t.Logf("50k nested parentheses refused in %v", time.Since(start))
	victim, id := mysqlConn(t, db)
	holdLock(t, e, lockWrite)
	done := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(context.Background(), "SELECT * FROM t")
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := c.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
		t.Fatalf("KILL: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a killed connection's statement succeeded")
		}
	case <-time.After(slack):
		t.Fatal("KILL did not interrupt a statement waiting for the lock")
	}
	if err := victim.PingContext(ctx); err == nil {
		t.Fatal("the killed connection still answers")
	}
}

// TestMySQLClientGone: a statement waiting for the lock stops when its client goes away, not
// when the lock is free.
func TestMySQLClientGone(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	withTable(t, e, 3)
	db := rootDB(t, e)
	victim, id := mysqlConn(t, db)
	holdLock(t, e, lockWrite)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	// go-sql-driver closes the connection when the context ends.
	if _, err := victim.ExecContext(ctx, "SELECT * FROM t"); err == nil {
		t.Fatal("the statement ran while the lock was held")
	}
	start := time.Now()
	for e.sessions.get(uint32(id)) != nil {
		if time.Since(start) > slack {
			t.Fatal("the statement of a client that went away still waits for the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the abandoned statement ended %v after its client went away", time.Since(start))
}
