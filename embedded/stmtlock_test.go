package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/wasql/wasql/internal/sqlstate"
)

func TestClassify(t *testing.T) {
	e := open(t)
	for q, want := range map[string]class{
		"SELECT 1":               lockNone,
		"select 1 + 2, 'from t'": lockNone,
		"SELECT plus(1, 2)":      lockNone,
		"SET @x = 1":             lockNone,
		"KILL QUERY 7":           lockNone,
		"KILL 7":                 lockNone,
		"CREATE FUNCTION f(bigint) RETURNS bigint LANGUAGE wasm AS x'00', 'f'":            lockNone,
		"CREATE OR REPLACE FUNCTION f(bigint) RETURNS bigint LANGUAGE wasm AS x'00', 'f'": lockNone,
		"DROP FUNCTION f(bigint)":                          lockNone,
		"SELECT * FROM pg_catalog.pg_class":                lockCatalog,
		"select table_name from information_schema.tables": lockCatalog,
		"SHOW TABLES":                                                     lockCatalog,
		"SELECT * FROM t":                                                 lockRead,
		"SELECT (SELECT max(a) FROM t)":                                   lockRead,
		"SELECT * FROM pg_catalog.pg_class, t":                            lockRead,
		"SET @x = (SELECT count(*) FROM t)":                               lockRead,
		"WITH c AS (SELECT 1) SELECT * FROM c":                            lockRead, // c is a name: read, to be safe
		"SELECT 1 INTO @x":                                                lockWrite,
		"SELECT * FROM t WHERE a = 1 FOR UPDATE":                          lockWrite,
		"SELECT * FROM t WHERE a IN (SELECT a FROM t FOR UPDATE)":         lockWrite,
		"INSERT INTO t VALUES (1)":                                        lockWrite,
		"WITH c AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM c)": lockWrite,
		"with c as (select 1) update t set a = 1":                         lockWrite,
		"WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c":              lockWrite,
		"COMMIT":                         lockTx,
		"CREATE TABLE u (a int)":         lockDDL,
		"DROP TABLE t":                   lockDDL,
		"GRANT SELECT ON *.* TO someone": lockDDL,
		"SELECT 1; DROP TABLE t":         lockDDL, // the strongest of its parts
		"SELECT 1; SELECT * FROM t":      lockRead,
		"SELEKT nonsense":                lockDDL, // unknown: the engine reports the error
	} {
		c, _, err := e.classify(context.Background(), q, ast.ParserOptions{}, false)
		if err != nil {
			t.Errorf("%q: %v", q, err)
		} else if c != want {
			t.Errorf("%q: class %v, want %v", q, c, want)
		}
	}
	// The MySQL wire runs a multi-statement string one statement at a time.
	if c, parsed, _ := e.classify(context.Background(), "SELECT 1; DROP TABLE t", ast.ParserOptions{}, true); c != lockNone || parsed == nil {
		t.Errorf("first statement only: %v %v", c, parsed)
	}
	// One statement is parsed once: the tree goes to the engine.
	if _, parsed, _ := e.classify(context.Background(), "SELECT * FROM t;", ast.ParserOptions{}, false); parsed == nil {
		t.Error("a single statement's tree is not returned")
	}
	if _, parsed, _ := e.classify(context.Background(), "SELECT 1; SELECT 2", ast.ParserOptions{}, false); parsed != nil {
		t.Error("two statements returned as one tree")
	}
}

func TestCheckText(t *testing.T) {
	deep := func(n int) string { return "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	for _, c := range []struct {
		q       string
		d       dialect
		refused bool
	}{
		{deep(10), mysqlDialect, false},
		{deep(11), mysqlDialect, true},
		{deep(11), pgDialect, true},
		{"SELECT '" + strings.Repeat("(", 50) + "'", mysqlDialect, false},      // in a string
		{"SELECT `" + strings.Repeat("(", 50) + "`", mysqlDialect, false},      // a quoted identifier
		{"SELECT 1 -- " + strings.Repeat("(", 50) + "\n", mysqlDialect, false}, // a comment
		{"SELECT 1 # " + strings.Repeat("(", 50) + "\n", mysqlDialect, false},  // a MySQL comment
		{"SELECT 1 /* " + strings.Repeat("(", 50) + " */", pgDialect, false},   // a block comment
		{"SELECT $$" + strings.Repeat("(", 50) + "$$", pgDialect, false},       // a dollar quote
		{"SELECT 1--1 " + strings.Repeat("(", 50), mysqlDialect, true},         // 1--1 is no comment in MySQL
		{"SELECT /*! " + strings.Repeat("(", 50) + " */", mysqlDialect, true},  // MySQL runs it
		{`SELECT "a\" ` + strings.Repeat("(", 50) + ` "`, mysqlDialect, true},  // ANSI_QUOTES: no escape
		{`SELECT 'a\' ` + strings.Repeat("(", 50) + ` '`, pgDialect, true},     // standard strings
		{"SELECT '" + strings.Repeat("(", 50), mysqlDialect, false},            // unterminated: a parse error
		{"SELECT ARRAY" + strings.Repeat("[", 11) + "1" + strings.Repeat("]", 11), pgDialect, true},
	} {
		err := checkText(c.q, c.d, 1000, 10)
		var le *LimitError
		if got := errors.As(err, &le); got != c.refused {
			t.Errorf("%.40q: refused %v, want %v (%v)", c.q, got, c.refused, err)
		} else if got && (!le.Depth || sqlstate.Of(err) != "54001") {
			t.Errorf("%.40q: %v, SQLSTATE %s", c.q, err, sqlstate.Of(err))
		}
	}
	err := checkText(strings.Repeat("x", 1001), mysqlDialect, 1000, 10)
	if sqlstate.Of(err) != sqlstate.ProgramLimitExceeded {
		t.Errorf("size: %v", err)
	}
}

// TestDepthBounded: the nesting that made the parsers quadratic (50k brackets took 12.6 s, 1M
// kept parsing after the client had gone) and operator chains that make the analyzer quadratic
// are refused at once, on both wires, with a clear error.
func TestDepthBounded(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	pg, err := e.openPG("app", 1<<30+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, q := range []string{
		"SELECT " + strings.Repeat("(", 1_000_000) + "1" + strings.Repeat(")", 1_000_000),
		"SELECT " + strings.Repeat("(", 50_000) + "1" + strings.Repeat(")", 50_000),
		"SELECT " + strings.Repeat("NOT ", 20_000) + "1",
		"CREATE FUNCTION f(" + strings.Repeat("(", 50_000),
	} {
		start := time.Now()
		_, _, err := e.Query(e.NewContext(ctx), q)
		var le *LimitError
		if !errors.As(err, &le) || !le.Depth {
			t.Errorf("%.30q: %v", q, err)
		}
		_, perr := pg.Execute(ctx, q, nil)
		if c := sqlstate.Of(perr); c != "54001" && c != "42601" && c != "54000" {
			t.Errorf("Postgres wire %.30q: %v (%s)", q, perr, c)
		}
		t.Logf("%.20q... (%d bytes) refused in %v", q, len(q), time.Since(start))
	}
	// A long but flat statement is fine.
	q := "SELECT 1 IN (" + strings.Repeat("1, ", 100_000) + "2)"
	if _, _, err := e.Query(e.NewContext(ctx), q); err != nil {
		t.Errorf("flat statement: %v", err)
	}
}

func TestLockWaitEndsWithContext(t *testing.T) {
	l := newStmtLocks()
	hold, err := l.acquire(context.Background(), lockWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A canceled waiter returns at once, with 57014.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := l.acquire(ctx, lockRead, nil)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		var in *Interrupted
		if !errors.As(err, &in) || in.Timeout || sqlstate.Of(err) != sqlstate.QueryCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled wait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a canceled wait did not end")
	}
	// A deadline ends it as a timeout.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = l.acquire(ctx, lockDDL, nil)
	var in *Interrupted
	if !errors.As(err, &in) || !in.Timeout || sqlstate.Of(err) != sqlstate.QueryCanceled {
		t.Fatalf("expired wait: %v", err)
	}
	// Statements that read no table, or only the catalog, do not wait for the table lock.
	for _, c := range []class{lockNone, lockCatalog} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rel, err := l.acquire(ctx, c, nil)
		cancel()
		if err != nil {
			t.Fatalf("%v behind a writer: %v", c, err)
		}
		rel()
	}
	hold()
	hold() // release is idempotent
	rel, err := l.acquire(context.Background(), lockDDL, nil)
	if err != nil {
		t.Fatal(err)
	}
	rel()
}

// TestLockHammer: many statements of every class, some canceled while they wait: a writer is
// always alone on the table lock, DDL alone on both, catalog readers never beside DDL.
func TestLockHammer(t *testing.T) {
	l := newStmtLocks()
	var mu sync.Mutex
	var readers, writers, catalog, ddl int
	bad := make(chan string, 1)
	report := func(s string) {
		select {
		case bad <- s:
		default:
		}
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				c := class((g + i) % 5)
				ctx, cancel := context.WithCancel(context.Background())
				if i%7 == 0 {
					cancel() // some give up at once
				}
				rel, err := l.acquire(ctx, c, nil)
				if err != nil {
					cancel()
					if sqlstate.Of(err) != sqlstate.QueryCanceled {
						report(err.Error())
					}
					continue
				}
				mu.Lock()
				switch c {
				case lockCatalog:
					catalog++
				case lockRead:
					readers++
				case lockWrite:
					writers++
				case lockDDL:
					ddl++
				}
				if writers+ddl > 1 || (writers+ddl > 0 && readers > 0) || (ddl > 0 && catalog > 0) {
					report(fmt.Sprintf("readers %d writers %d catalog %d ddl %d", readers, writers, catalog, ddl))
				}
				mu.Unlock()
				time.Sleep(time.Duration(i%3) * 50 * time.Microsecond)
				mu.Lock()
				switch c {
				case lockCatalog:
					catalog--
				case lockRead:
					readers--
				case lockWrite:
					writers--
				case lockDDL:
					ddl--
				}
				mu.Unlock()
				rel()
				cancel()
			}
		}()
	}
	wg.Wait()
	select {
	case s := <-bad:
		t.Fatal(s)
	default:
	}
	// Nothing is left held.
	rel, err := l.acquire(context.Background(), lockDDL, nil)
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if len(l.running) != 0 || len(l.retirees) != 0 {
		t.Fatalf("running %d retirees %d", len(l.running), len(l.retirees))
	}
}

// TestRetire: a retired function runs once the statements running when it was retired end.
func TestRetire(t *testing.T) {
	l := newStmtLocks()
	ran := 0
	l.retire(func() { ran++ })
	if ran != 1 {
		t.Fatal("with no statement running, retire runs at once")
	}
	a, _ := l.acquire(context.Background(), lockNone, nil)
	l.retire(func() { ran++ })
	b, _ := l.acquire(context.Background(), lockNone, nil) // began after: not waited for
	if ran != 1 {
		t.Fatal("retired while a statement runs")
	}
	a()
	if ran != 2 {
		t.Fatal("not retired once the statement ended")
	}
	b()
}
