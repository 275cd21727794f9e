package sqlfuncs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// Add wasm functions to any go-mysql-server engine: a catalog for the definitions, a runtime to
// run them, a Registry joining the two, and NewEngine.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "wasql-example")
	defer os.RemoveAll(dir)

	store, _ := boltstore.Open(filepath.Join(dir, "catalog.db"))
	defer store.Close()
	rt, _ := udf.NewRuntime(ctx, udf.NewConfig().WithCacheDir(filepath.Join(dir, "compiled")))
	defer rt.Close(ctx)
	reg, err := sqlfuncs.NewRegistry(ctx, rt, store)
	if err != nil {
		panic(err)
	}
	defer reg.Close()

	pro := memory.NewDBProvider(memory.NewDatabase("app"))
	engine := sqlfuncs.NewEngine(pro, reg)

	query := func(q string) []sql.Row {
		sctx := sql.NewContext(ctx, sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
		sctx.SetCurrentDatabase("app")
		_, iter, _, err := engine.Query(sctx, q)
		if err != nil {
			panic(err)
		}
		rows, err := sql.RowIterToRows(sctx, iter)
		if err != nil {
			panic(err)
		}
		return rows
	}
	module, _ := os.ReadFile("../udf/testdata/numeric.wasm")
	query(fmt.Sprintf("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS X'%x', 'add'", module))
	query("CREATE TABLE t (a bigint, b bigint)")
	query("INSERT INTO t VALUES (1, 2), (40, 2)")
	fmt.Println(query("SELECT plus(a, b) FROM t ORDER BY a"))
	// Output: [[3] [42]]
}
