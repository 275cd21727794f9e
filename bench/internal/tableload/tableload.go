// Package tableload opens throwaway engines for the benchmarks and fills a table fast: through one
// table inserter in one transaction, on either table storage (SQL INSERTs of 1M rows would take
// minutes). It also gives the bulk-load benchmarks their rows (Row) and measures a data
// directory (DirSize).
package tableload

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/udf"
)

// Rows inserts row(1) .. row(n) into table of the wasql database and commits.
func Rows(e *embedded.Engine, table string, n int64, row func(i int64) sql.Row) error {
	ctx := e.NewContext(context.Background())
	sess, ok := ctx.Session.(sql.TransactionSession)
	if !ok {
		return fmt.Errorf("a session of type %T has no transactions", ctx.Session)
	}
	tx, err := sess.StartTransaction(ctx, sql.ReadWrite)
	if err != nil {
		return err
	}
	ctx.SetTransaction(tx)
	db, err := e.Provider.Database(ctx, embedded.Database)
	if err != nil {
		return err
	}
	tbl, ok, err := db.GetTableInsensitive(ctx, table)
	if err != nil || !ok {
		return fmt.Errorf("table %s: %v", table, err)
	}
	it, ok := tbl.(sql.InsertableTable)
	if !ok {
		return fmt.Errorf("table %s (%T) takes no inserts", table, tbl)
	}
	ins := it.Inserter(ctx)
	ins.StatementBegin(ctx)
	for i := int64(1); i <= n; i++ {
		if err := ins.Insert(ctx, row(i)); err != nil {
			return err
		}
	}
	if err := ins.StatementComplete(ctx); err != nil {
		return err
	}
	if err := ins.Close(ctx); err != nil {
		return err
	}
	return sess.CommitTransaction(ctx, tx)
}

// Open opens an engine on the table storage named storage in a new temporary data directory;
// closing it removes the directory.
func Open(ctx context.Context, storage string) (e *embedded.Engine, closeAll func(), err error) {
	dir, err := os.MkdirTemp("", "wasql-bench")
	if err != nil {
		return nil, nil, err
	}
	e, err = embedded.Open(ctx, embedded.Config{DataDir: dir, UDF: udf.NewConfig(), Tables: storage})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return e, func() { e.Close(ctx); os.RemoveAll(dir) }, nil
}

// Row is row i of the bulk-load benchmarks' table (a bigint, b bigint, s text).
func Row(i int64) (a, b int64, s string) { return i, i * 7 % 1000003, fmt.Sprintf("row %d text", i) }

// DirSize is the size of the files under dir, in bytes.
func DirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// MB is n bytes in megabytes (10^6).
func MB(n int64) float64 { return float64(n) / 1e6 }
