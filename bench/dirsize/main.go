// Command dirsize measures the data directory of Dolt's tables against the CSV of the same rows
// (issue 14: at most 3× after compaction): it loads -rows rows (a bigint, b bigint, s text) of
// bench/sqlbench's shape through one inserter, then through multi-row INSERTs of -batch rows,
// and prints the size of tables/ after each load, after a restart, and after CALL dolt_gc().
//
//	go run ./bench/dirsize [-rows 1000000] [-dir DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/bench/internal/tableload"
	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/udf"
)

func main() {
	rows := flag.Int64("rows", 1_000_000, "rows to load")
	batch := flag.Int64("batch", 1000, "rows per INSERT of the second load")
	dir := flag.String("dir", "", "data directory (made, emptied first); a temporary one when empty")
	flag.Parse()
	if err := run(*dir, *rows, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "dirsize:", err)
		os.Exit(1)
	}
}

func run(dir string, n, batch int64) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "dirsize")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.RemoveAll(dir); err != nil {
		return err
	}
	var csv int64
	for i := int64(1); i <= n; i++ {
		a, b, s := tableload.Row(i)
		csv += int64(len(fmt.Sprintf("%d,%d,%s\n", a, b, s)))
	}
	fmt.Printf("%d rows; their CSV: %.1f MB (two tables: %.1f MB)\n", n, tableload.MB(csv), tableload.MB(2*csv))
	open := func() (*embedded.Engine, error) {
		return embedded.Open(ctx, embedded.Config{DataDir: dir, UDF: udf.NewConfig(), Tables: embedded.TablesDolt})
	}
	e, err := open()
	if err != nil {
		return err
	}
	q := func(s string) error {
		_, _, err := e.Query(e.NewContext(ctx), s)
		return err
	}
	for _, t := range []string{"loaded", "inserted"} {
		if err := q("CREATE TABLE " + t + " (a bigint primary key, b bigint, s text)"); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := tableload.Rows(e, "loaded", n, func(i int64) sql.Row { a, b, s := tableload.Row(i); return sql.NewRow(a, b, s) }); err != nil {
		return err
	}
	report(dir, fmt.Sprintf("after one inserter's load (%.1f s)", time.Since(start).Seconds()), 2*csv)
	start = time.Now()
	var sb strings.Builder
	for i := int64(1); i <= n; i += batch {
		sb.Reset()
		sb.WriteString("INSERT INTO inserted VALUES ")
		for j := i; j < min(i+batch, n+1); j++ {
			a, b, s := tableload.Row(j)
			if j > i {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,%d,'%s')", a, b, s)
		}
		if err := q(sb.String()); err != nil {
			return err
		}
	}
	report(dir, fmt.Sprintf("after multi-row INSERTs of %d rows, autocommit (%.1f s)", batch, time.Since(start).Seconds()), 2*csv)
	if err := e.Close(ctx); err != nil {
		return err
	}
	if e, err = open(); err != nil {
		return err
	}
	report(dir, "after a restart", 2*csv)
	start = time.Now()
	if err := q("CALL dolt_gc()"); err != nil {
		return fmt.Errorf("CALL dolt_gc(): %w", err)
	}
	report(dir, fmt.Sprintf("after CALL dolt_gc() (%.1f s)", time.Since(start).Seconds()), 2*csv)
	return e.Close(ctx)
}

func report(dir, when string, csv int64) {
	size := tableload.DirSize(filepath.Join(dir, "tables"))
	fmt.Printf("tables/ %s: %.1f MB (%.1f× the CSV)\n", when, tableload.MB(size), float64(size)/float64(csv))
}
