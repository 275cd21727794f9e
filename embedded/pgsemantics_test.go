package embedded

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pgquery "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/embedded/pgcatalog"
	"github.com/wasql/wasql/embedded/pgsql"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// TestPGWriteInTransactionRefused: until tables have transactions, a write inside BEGIN ...
// fails with 0A000 (and says what to do), the block is aborted as Postgres aborts it after any
// error (25P02 until ROLLBACK), and the table keeps its rows. Read-only blocks work.
func TestPGWriteInTransactionRefused(t *testing.T) {
	e := openTables(t, TablesMemory) // the memory tables refuse writes in a transaction
	addr := servePG(t, e, proxy.Config{})
	ctx := context.Background()
	mod := module(t, "../udf/testdata/numeric.wasm")
	writes := []string{
		"INSERT INTO t VALUES (9, 'x')",
		"INSERT INTO t VALUES (9, 'x') RETURNING *",
		"UPDATE t SET s = 'changed' WHERE id = 1",
		"UPDATE t SET s = 'changed' RETURNING id",
		"DELETE FROM t WHERE id = 1",
		"TRUNCATE t",
		"CREATE TABLE other (id int)",
		"DROP TABLE t",
		"CREATE VIEW tv AS SELECT id FROM t",
		"CREATE INDEX ON t (id)",
		fmt.Sprintf(`CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'add'`, mod),
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		c, err := pgConnect(t, addr, "app", "", mode)
		if err != nil {
			t.Fatal(err)
		}
		c.Exec(ctx, "DROP TABLE IF EXISTS t")
		if _, err := c.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, s text)"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "INSERT INTO t VALUES (1, 'one'), (2, 'two')"); err != nil {
			t.Fatal(err)
		}
		for _, w := range writes {
			if _, err := c.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			_, err := c.Exec(ctx, w)
			if pgCode(err) != "0A000" || !strings.Contains(err.Error(), "autocommit") {
				t.Errorf("%s: %s in a block: %v", mode, w, err)
			}
			if st := c.PgConn().TxStatus(); st != 'E' {
				t.Errorf("%s: %s: status %c, want E (failed block)", mode, w, st)
			}
			if _, err := c.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
				t.Errorf("%s: after the refusal of %s: %v, want 25P02", mode, w, err)
			}
			end := "ROLLBACK"
			if strings.HasPrefix(w, "UPDATE") {
				end = "COMMIT" // which ends a failed block as ROLLBACK does, and says so
			}
			if tag, err := c.Exec(ctx, end); err != nil || tag.String() != "ROLLBACK" {
				t.Fatalf("%s: %v %v", end, tag, err)
			}
		}
		// A multi-statement string: the write is refused there too, the rest is not run.
		_, err = c.Exec(ctx, "BEGIN; UPDATE t SET s = 'changed'; CREATE TABLE other (id int); ROLLBACK")
		if mode == pgx.QueryExecModeSimpleProtocol && pgCode(err) != "0A000" {
			t.Errorf("multi-statement block: %v", err)
		}
		if c.PgConn().TxStatus() == 'E' {
			c.Exec(ctx, "ROLLBACK")
		}
		var got string
		if err := c.QueryRow(ctx, "SELECT string_agg(s, ',' ORDER BY id) FROM t").Scan(&got); err != nil || got != "one,two" {
			t.Errorf("%s: rows after the refused writes: %q %v", mode, got, err)
		}
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname IN ('other', 'tv')").Scan(new(int64)); err != nil {
			t.Fatal(err)
		}
		// A read-only block works, COMMIT included; the writes after it too.
		for _, q := range []string{"BEGIN", "SELECT count(*) FROM t", "COMMIT", "START TRANSACTION", "SELECT 1", "ROLLBACK", "INSERT INTO t VALUES (3, 'three')", "DELETE FROM t WHERE id = 3"} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Errorf("%s: %s: %v", mode, q, err)
			}
		}
	}
	// Nothing the refused statements would have created exists.
	sctx := e.NewContext(ctx)
	_, rows, err := e.Query(sctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'wasql' ORDER BY 1")
	if err != nil || fmt.Sprint(rows) != "[[t]]" {
		t.Errorf("tables: %v %v", rows, err)
	}
	if _, ok := e.Registry.Function(sctx, "plus"); ok {
		t.Errorf("plus was created inside a refused block")
	}
}

// TestMySQLWriteInTransactionRefused: the same refusal on the MySQL wire, after START
// TRANSACTION and with autocommit off, in single and multi-statement strings.
func TestMySQLWriteInTransactionRefused(t *testing.T) {
	e := openTables(t, TablesMemory) // the memory tables refuse writes in a transaction
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "multiStatements=true")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"CREATE TABLE t (id int PRIMARY KEY, s text)", "INSERT INTO t VALUES (1, 'one')"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(what string, err error) {
		t.Helper()
		var me *mysqldriver.MySQLError
		if !errors.As(err, &me) || string(me.SQLState[:]) != "0A000" || !strings.Contains(me.Message, "autocommit") {
			t.Errorf("%s: %v", what, err)
		}
	}
	for _, w := range []string{"UPDATE t SET s = 'changed'", "INSERT INTO t VALUES (2, 'two')", "DELETE FROM t", "CREATE TABLE other (id int)"} {
		if _, err := conn.ExecContext(ctx, "START TRANSACTION"); err != nil {
			t.Fatal(err)
		}
		_, err := conn.ExecContext(ctx, w)
		refused("after START TRANSACTION: "+w, err)
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "SET autocommit = 0"); err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(ctx, w)
		refused("with autocommit off: "+w, err)
		if _, err := conn.ExecContext(ctx, "ROLLBACK; SET autocommit = 1"); err != nil {
			t.Fatal(err)
		}
	}
	// A prepared statement (the binary protocol): prepared before the block, executed inside it.
	stmt, err := conn.PrepareContext(ctx, "INSERT INTO t VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION"); err != nil {
		t.Fatal(err)
	}
	_, err = stmt.ExecContext(ctx, 5, "five")
	refused("prepared INSERT after START TRANSACTION", err)
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	stmt.Close()
	multi, err := db.Conn(ctx) // the driver gives up on a connection after an error among several results
	if err != nil {
		t.Fatal(err)
	}
	_, err = multi.ExecContext(ctx, "BEGIN; UPDATE t SET s = 'changed'; CREATE TABLE other (id int); ROLLBACK")
	refused("multi-statement", err)
	multi.Raw(func(any) error { return driver.ErrBadConn })
	multi.Close()
	var got string
	if err := conn.QueryRowContext(ctx, "SELECT group_concat(s) FROM t").Scan(&got); err != nil || got != "one" {
		t.Errorf("rows after the refused writes: %q %v", got, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO t VALUES (2, 'two')"); err != nil {
		t.Errorf("autocommit write: %v", err)
	}
}

// TestPGCatalogAuthenticated: with users configured (SCRAM on the Postgres wire, privilege
// checks in the engine), pg_catalog and information_schema answer as without users.
func TestPGCatalogAuthenticated(t *testing.T) {
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), UDF: udf.NewConfig(), Users: map[string]string{"app": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	v, err := proxy.NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	addr := servePG(t, e, proxy.Config{Users: map[string]proxy.Verifier{"app": v}})
	ctx := context.Background()
	c, err := pgConnect(t, addr, "app", "pw", pgx.QueryExecModeExec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 't' AND n.nspname = 'public'",
		"SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 't' AND a.attnum > 0",
		"SELECT count(*) FROM information_schema.tables WHERE table_name = 't'",
	} {
		var n int64
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d %v", q, n, err)
		}
	}
}

// TestPGReturningErrors: RETURNING on a table that does not exist is Postgres's error.
func TestPGReturningErrors(t *testing.T) {
	c := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	for _, q := range []string{"INSERT INTO nope VALUES (1) RETURNING *", "INSERT INTO nope VALUES (1) RETURNING id",
		"UPDATE nope SET a = 1 RETURNING *", "UPDATE nope SET a = 1 RETURNING a", "INSERT INTO public.nope VALUES (1) RETURNING *"} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
			_, err := c.Exec(ctx, q, mode)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Message != `relation "nope" does not exist` {
				t.Errorf("%s (%s): %v", q, mode, err)
			}
		}
	}
}

// reservedInMySQLOnly are the words MySQL's grammar (vitess's) reserves that Postgres accepts
// as a column name (and, with funcs, as a function name), generated from vitess's key words.
func reservedInMySQLOnly(t *testing.T) (cols, funcs []string) {
	t.Helper()
	for id := 0; id < 1<<17; id++ {
		w := strings.ToLower(ast.KeywordString(id))
		if w == "" || strings.HasPrefix(w, "_") || strings.ContainsAny(w, " ") {
			continue
		}
		if _, err := ast.Parse("CREATE TABLE x (" + w + " int)"); err != nil {
			if _, err := pgquery.Parse("CREATE TABLE x (" + w + " int); SELECT " + w + " FROM x"); err == nil {
				cols = append(cols, w)
			}
		}
		if _, err := ast.Parse("SELECT " + w + "(1, 2)"); err != nil {
			// Postgres reads it as a call of w (not ROW(1, 2) or SELECT WHERE (1, 2)).
			tree, err := pgquery.ParseToJSON("SELECT " + w + "(1, 2)")
			if err == nil && strings.Contains(tree, `"funcname":[{"String":{"sval":"`+w+`"}}]`) {
				funcs = append(funcs, w)
			}
		}
	}
	if len(cols) < 20 || len(funcs) < 20 {
		t.Fatalf("only %d column and %d function names from vitess's key words", len(cols), len(funcs))
	}
	return cols, funcs
}

// TestPGMySQLReservedWords: a function, column, table or alias named by a word MySQL reserves
// and Postgres does not works over the Postgres wire.
func TestPGMySQLReservedWords(t *testing.T) {
	cols, funcs := reservedInMySQLOnly(t)
	t.Logf("%d column names, %d function names: %s", len(cols), len(funcs), strings.Join(funcs, " "))
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	ctx := context.Background()
	mod := module(t, "../udf/testdata/numeric.wasm")
	c, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeExec)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cols {
		for _, q := range []string{
			fmt.Sprintf("CREATE TABLE %s (%s int PRIMARY KEY, v int)", w, w),
			fmt.Sprintf("INSERT INTO %s (%s, v) VALUES (1, 2)", w, w),
			fmt.Sprintf("UPDATE %s SET %s = %s + 1 WHERE %s = 1", w, w, w, w),
			fmt.Sprintf("INSERT INTO %s (%s, v) VALUES (5, 6) RETURNING %s, v AS %s", w, w, w, w),
			fmt.Sprintf("INSERT INTO %s (%s, v) VALUES (5, 7) ON CONFLICT (%s) DO UPDATE SET v = EXCLUDED.v", w, w, w),
			fmt.Sprintf("SELECT %s, count(*) AS n FROM %s GROUP BY %s HAVING count(*) > 0 ORDER BY %s", w, w, w, w),
			fmt.Sprintf("SELECT %s FROM (SELECT %s FROM %s) AS %s WHERE %s IN (SELECT %s FROM %s)", w, w, w, w, w, w, w),
			fmt.Sprintf("WITH %s AS (SELECT %s FROM %s) SELECT %s FROM %s", w, w, w, w, w),
			fmt.Sprintf("DELETE FROM %s WHERE %s = 5", w, w),
		} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
		q := fmt.Sprintf("SELECT %s.%s, %s AS %s FROM %s WHERE %s > 0 ORDER BY %s", w, w, w, "x"+w, w, w, w)
		var a, b int64
		if err := c.QueryRow(ctx, q).Scan(&a, &b); err != nil || a != 2 || b != 2 {
			t.Errorf("%s: %d %d %v", q, a, b, err)
		}
		q = fmt.Sprintf("SELECT v AS %s FROM %s t", w, w)
		if rows, err := c.Query(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
		} else {
			if f := rows.FieldDescriptions(); len(f) != 1 || f[0].Name != w {
				t.Errorf("%s: columns %v", q, f)
			}
			rows.Close()
		}
	}
	var shadowed []string
	defer func() { t.Logf("refused as built-in names: %s", strings.Join(shadowed, " ")) }()
	for _, w := range funcs {
		q := fmt.Sprintf(`CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'add'`, w, mod)
		_, err := c.Exec(ctx, q)
		if pgsql.Shadowed(w) || sqlfuncs.Unreachable(w) || pgcatalog.IsFunction(w) { // a call would not reach it: refused
			if pgCode(err) != "0A000" {
				t.Errorf("CREATE FUNCTION %s, a built-in's name: %v", w, err)
			}
			shadowed = append(shadowed, w)
			continue
		}
		if err != nil {
			t.Errorf("CREATE FUNCTION %s: %v", w, err)
			continue
		}
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
			var got int64
			if err := c.QueryRow(ctx, fmt.Sprintf("SELECT %s(40, $1)", w), mode, 2).Scan(&got); err != nil || got != 42 {
				t.Errorf("SELECT %s(40, $1) (%s): %d %v", w, mode, got, err)
			}
		}
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP FUNCTION %s(bigint, bigint)", w)); err != nil {
			t.Errorf("DROP FUNCTION %s: %v", w, err)
		}
	}
}

// TestPGArrayParameterAndLike: = ANY($1) / <> ALL($1) with an array parameter in text and in
// binary form, typed and untyped; LIKE with the backslash escape filtering a table; format().
func TestPGArrayParameterAndLike(t *testing.T) {
	c := pgServeConnect(t, pgx.QueryExecModeExec)
	ctx := context.Background()
	for _, q := range []string{"CREATE TABLE t (id int PRIMARY KEY, s text)", "INSERT INTO t VALUES (1, 'orders_x'), (2, 'ordersyx'), (3, 'Orders_y')"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(q string, args ...any) string {
		t.Helper()
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err.Error()
		}
		var out []string
		for rows.Next() {
			v, _ := rows.Values()
			out = append(out, fmt.Sprint(v...))
		}
		if rows.Err() != nil {
			return rows.Err().Error()
		}
		return strings.Join(out, ",")
	}
	bin := []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3}
	for _, p := range []struct {
		name   string
		value  []byte
		oid    uint32
		format int16
	}{{"binary int8[]", bin, 1016, 1}, {"text int8[]", []byte("{1,3}"), 1016, 0}, {"untyped", []byte("{1,3}"), 0, 0}} {
		for q, want := range map[string]string{
			"SELECT id FROM t WHERE id = ANY($1) ORDER BY id":  "1,3",
			"SELECT id FROM t WHERE id <> ALL($1) ORDER BY id": "2",
		} {
			r := c.PgConn().ExecParams(ctx, q, [][]byte{p.value}, []uint32{p.oid}, []int16{p.format}, nil).Read()
			var got []string
			for _, row := range r.Rows {
				got = append(got, string(row[0]))
			}
			if r.Err != nil || strings.Join(got, ",") != want {
				t.Errorf("%s with %s: %v %v, want %s", q, p.name, got, r.Err, want)
			}
		}
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		if got := ids("SELECT id FROM t WHERE id = ANY($1) ORDER BY id", mode, []int64{2, 3}); got != "2,3" {
			t.Errorf("%s: []int64: %s", mode, got)
		}
		if got := ids(`SELECT s FROM t WHERE s LIKE 'orders\_%' ORDER BY id`, mode); got != "orders_x" {
			t.Errorf("%s: LIKE 'orders\\_%%': %s", mode, got)
		}
		if got := ids(`SELECT s FROM t WHERE s ILIKE $1 ORDER BY id`, mode, `orders\_%`); got != "orders_x,Orders_y" {
			t.Errorf("%s: ILIKE $1: %s", mode, got)
		}
		if got := ids(`SELECT format('%s|%I|%L', s, s, s) FROM t WHERE id = 3`, mode); got != `Orders_y|"Orders_y"|'Orders_y'` {
			t.Errorf("%s: format: %s", mode, got)
		}
	}
	// Described as Postgres describes them: an array of the column's type; format()'s arguments
	// undetermined (42P18 when the client leaves them untyped).
	for q, want := range map[string]uint32{"SELECT id FROM t WHERE id = ANY($1)": 1007, "SELECT id FROM t WHERE s <> ALL($1)": 1009} {
		sd, err := c.Prepare(ctx, "", q)
		if err != nil || len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != want {
			t.Errorf("%s: parameter types %v %v, want %d", q, sd, err, want)
		}
	}
	if _, err := c.Prepare(ctx, "", "SELECT format('%s', $1)"); pgCode(err) != "42P18" {
		t.Errorf("format('%%s', $1) untyped: %v", err)
	}
	if _, err := c.Exec(ctx, `SELECT 'abcd' LIKE 'abc\'`); pgCode(err) != "22025" {
		t.Errorf("trailing escape: %v", err)
	}
}
