package embedded

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
