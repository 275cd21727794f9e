package embedded

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/udf"
)

func openDolt(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Config{DataDir: dir, UDF: udf.NewConfig(), Tables: TablesDolt})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDoltTablesSurviveRestart: with Dolt, tables, rows, indexes, foreign keys and functions are
// there after a restart, on both wires; wasql.functions and pg_catalog see them.
func TestDoltTablesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := openDolt(t, dir)
	if !e.Durable() {
		t.Fatal("a Dolt engine says it is not durable")
	}
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "interpolateParams=true")
	for _, q := range []string{
		"CREATE TABLE parent (id bigint primary key, name varchar(40))",
		"CREATE TABLE child (id bigint primary key, parent_id bigint, note text, FOREIGN KEY (parent_id) REFERENCES parent (id))",
		"INSERT INTO parent VALUES (1, 'one'), (2, 'two')",
		"INSERT INTO child VALUES (10, 1, 'a'), (11, 2, 'b')",
		"ALTER TABLE child ADD COLUMN extra bigint DEFAULT 7",
		"ALTER TABLE child RENAME COLUMN note TO remark",
		"CREATE INDEX child_remark ON child (remark(20))",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.Exec("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", module(t, "../udf/testdata/numeric.wasm")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO child VALUES (12, 3, 'c', 1)"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		t.Fatalf("a row whose parent does not exist: %v, want the foreign key's refusal", err)
	}
	db.Close()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}

	e = openDolt(t, dir)
	t.Cleanup(func() { e.Close(ctx) })
	db = mysqlDB(t, serveMySQL(t, e), "root", "", "interpolateParams=true")
	var got []string
	rows, err := db.Query("SELECT c.id, p.name, c.remark, c.extra, plus(c.id, c.extra) FROM child c JOIN parent p ON p.id = c.parent_id ORDER BY c.id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, extra, sum int64
		var name, remark string
		if err := rows.Scan(&id, &name, &remark, &extra, &sum); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s %s %d %d", id, name, remark, extra, sum))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "[10 one a 7 17 11 two b 7 18]"; fmt.Sprint(got) != want {
		t.Fatalf("after the restart: %v, want %s", got, want)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM wasql.functions WHERE name = 'plus'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("wasql.functions: %d rows of plus, %v", n, err)
	}

	c, err := pgConnect(t, servePG(t, e, proxy.Config{}), "postgres", "", pgx.QueryExecModeCacheStatement)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var tables string
	if err := c.QueryRow(ctx, "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_catalog.pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace").Scan(&tables); err != nil || tables != "child,parent" {
		t.Fatalf("pg_class: %q, %v", tables, err)
	}
	var sum int64
	if err := c.QueryRow(ctx, "SELECT sum(plus(id, parent_id)) FROM child WHERE id > $1", 0).Scan(&sum); err != nil || sum != 10+1+11+2 {
		t.Fatalf("the Postgres wire: sum %d, %v", sum, err)
	}
	if _, err := c.Exec(ctx, "UPDATE parent SET name = 'uno' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRow("SELECT name FROM parent WHERE id = 1").Scan(&name); err != nil || name != "uno" {
		t.Fatalf("a write on the Postgres wire, read on the MySQL wire: %q, %v", name, err)
	}
}

// TestDoltOpensOlderDataDir: a data directory written with tables in memory opens with Dolt:
// its functions are kept, and the notice says the earlier tables were never persisted.
func TestDoltOpensOlderDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := Open(ctx, Config{DataDir: dir, UDF: udf.NewConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if e.Durable() || e.Notice != "" {
		t.Fatalf("memory tables: durable %v, notice %q", e.Durable(), e.Notice)
	}
	c := e.NewContext(ctx)
	for _, q := range []string{"CREATE TABLE lost (id bigint primary key)",
		"CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS X'" + fmt.Sprintf("%x", module(t, "../udf/testdata/numeric.wasm")) + "', 'add'"} {
		if _, _, err := e.Query(c, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	e.Close(ctx)
	e = openDolt(t, dir)
	if !strings.Contains(e.Notice, "never persisted") {
		t.Fatalf("notice %q, want one that says the earlier tables were never persisted", e.Notice)
	}
	_, rows, err := e.Query(e.NewContext(ctx), "SELECT plus(40, 2)")
	if err != nil || fmt.Sprint(rows) != "[[42]]" {
		t.Fatalf("the function after the move to Dolt: %v, %v", rows, err)
	}
	c = e.NewContext(ctx)
	for _, q := range []string{"CREATE TABLE kept (id bigint primary key, s text, b blob)", "INSERT INTO kept VALUES (1, 'text', 'bytes')"} {
		if _, _, err := e.Query(c, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, rows, err := e.Query(c, "SELECT s, b FROM kept"); err != nil || fmt.Sprintf("%q", rows) != `[["text" "bytes"]]` {
		t.Fatalf("Query of Dolt's text and blob: %q, %v, want plain values", rows, err)
	}
	if _, _, err := e.Query(e.NewContext(ctx), "SELECT * FROM lost"); err == nil {
		t.Fatal("a memory table was found after the restart")
	}
	e.Close(ctx)
	e = openDolt(t, dir)
	defer e.Close(ctx)
	if e.Notice != "" {
		t.Fatalf("a second start with Dolt: notice %q", e.Notice)
	}
}

// TestDoltTransactions: with Dolt, BEGIN / COMMIT / ROLLBACK are real on both wires: a rolled
// back write is gone, a committed one stays, other sessions do not see a transaction's writes
// before its COMMIT, and concurrent read-modify-write transactions lose no update (one writing
// transaction at a time; each statement before the first write reads the latest commits).
func TestDoltTransactions(t *testing.T) {
	ctx := context.Background()
	e := openDolt(t, t.TempDir())
	t.Cleanup(func() { e.Close(ctx) })
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "interpolateParams=true")
	pgAddr := servePG(t, e, proxy.Config{})
	for _, q := range []string{"CREATE TABLE acct (id bigint primary key, n bigint)", "INSERT INTO acct VALUES (1, 0), (2, 100)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	pg, err := pgConnect(t, pgAddr, "postgres", "", pgx.QueryExecModeCacheStatement)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	read := func(id int) int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow("SELECT n FROM acct WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Postgres wire: ROLLBACK undoes, COMMIT keeps, and nothing shows before the COMMIT.
	tx, err := pg.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET n = n + 5 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if got := read(1); got != 0 {
		t.Fatalf("another session sees an uncommitted write: n = %d", got)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(1); got != 0 {
		t.Fatalf("after ROLLBACK: n = %d, want 0", got)
	}
	tx, err = pg.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE acct SET n = n - 30 WHERE id = 2", "UPDATE acct SET n = n + 30 WHERE id = 1", "CREATE TABLE audit (id bigint primary key)"} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := read(1), read(2); a != 30 || b != 70 {
		t.Fatalf("after COMMIT: %d and %d, want 30 and 70", a, b)
	}

	// MySQL wire: autocommit off, ROLLBACK, then COMMIT.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET autocommit = 0", "UPDATE acct SET n = 999 WHERE id = 1", "ROLLBACK",
		"UPDATE acct SET n = n + 1 WHERE id = 1", "COMMIT", "SET autocommit = 1"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	if got := read(1); got != 31 {
		t.Fatalf("the MySQL wire's transactions: n = %d, want 31", got)
	}

	// Lost updates: 6 sessions, each 20 transactions of SELECT ... FOR UPDATE, then a write of
	// what it read + 1.
	const sessions, rounds = 6, 20
	errs := make(chan error, sessions)
	for range sessions {
		go func() {
			c, err := pgConnect(t, pgAddr, "postgres", "", pgx.QueryExecModeCacheStatement)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close(ctx)
			for range rounds {
				tx, err := c.Begin(ctx)
				if err != nil {
					errs <- err
					return
				}
				var n int64 // read FOR UPDATE, then written back + 1 by the client, as an application does
				if err := tx.QueryRow(ctx, "SELECT n FROM acct WHERE id = 2 FOR UPDATE").Scan(&n); err != nil {
					errs <- err
					return
				}
				if _, err := tx.Exec(ctx, "UPDATE acct SET n = $1 WHERE id = 2", n+1); err != nil {
					errs <- err
					return
				}
				if err := tx.Commit(ctx); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range sessions {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := read(2); got != 70+sessions*rounds {
		t.Fatalf("after %d concurrent increments: n = %d, want %d", sessions*rounds, got, 70+sessions*rounds)
	}

	// A session that ends inside a transaction lets the next writer go, its writes undone.
	c, err := pgConnect(t, pgAddr, "postgres", "", pgx.QueryExecModeCacheStatement)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "UPDATE acct SET n = -1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := pg.Exec(wctx, "UPDATE acct SET n = n + 1 WHERE id = 1"); err != nil {
		t.Fatalf("a write after a session ended in its transaction: %v", err)
	}
	if got := read(1); got != 32 {
		t.Fatalf("n = %d, want 32 (the ended session's write undone)", got)
	}
}
