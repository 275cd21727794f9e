package embedded

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/wasql/wasql/udf"
)

// module reads a compiled test module.
func module(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// open opens an engine on the table storage WASQL_TEST_TABLES names (scripts/test.sh runs the
// package on each).
func open(t *testing.T) *Engine {
	t.Helper()
	return openTables(t, os.Getenv("WASQL_TEST_TABLES"))
}

func openTables(t *testing.T, tables string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), UDF: udf.NewConfig(), Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// TestConcurrentClients: parallel writers and readers over the MySQL wire, in process so that
// -race sees the server side.
func TestConcurrentClients(t *testing.T) {
	e := open(t)
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "interpolateParams=true")
	mod := module(t, "../udf/testdata/numeric.wasm")
	for _, q := range []string{"CREATE TABLE t (id bigint primary key, v bigint)", "CREATE TABLE log (n bigint)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", mod); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 6 {
		wg.Add(2)
		go func() { // writer
			defer wg.Done()
			for i := range 30 {
				if _, err := db.Exec("INSERT INTO t VALUES (?, ?)", g*100+i, i); err != nil {
					errs <- err
					return
				}
				if _, err := db.Exec("UPDATE t SET v = plus(v, 1) WHERE id = ?", g*100+i); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() { // reader
			defer wg.Done()
			for range 30 {
				var n, sum sql.NullInt64
				if err := db.QueryRow("SELECT count(*), sum(plus(v, 0)) FROM t").Scan(&n, &sum); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n, sum int64
	if err := db.QueryRow("SELECT count(*), sum(v) FROM t").Scan(&n, &sum); err != nil || n != 180 || sum != 6*(435+30) {
		t.Fatalf("count %d sum %d %v", n, sum, err)
	}
}

func TestRefuseNonLoopback(t *testing.T) {
	e := open(t)
	if _, err := e.ServeMySQL("0.0.0.0:0"); err == nil {
		t.Fatal("listening on 0.0.0.0 without users must fail")
	}
}
