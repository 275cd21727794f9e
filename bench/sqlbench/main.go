// Command sqlbench measures wasm functions in the embedded engine against the same queries
// written with built-in expressions, in one run: 1M rows (a bigint, b bigint, s text), each
// query run -runs times (interleaved), medians reported, on each table storage -tables names
// (the memory database and Dolt's, one after the other in the same run). bench/run.sh runs it
// next to the same workloads in PostgreSQL 15 (bench/postgres.sh).
//
//	go run ./bench/sqlbench [-rows 1000000] [-runs 5] [-tables memory,dolt]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/bench/internal/tableload"
	"github.com/wasql/wasql/embedded"
)

// Row i of the table, the same in bench/postgres.sh.
func row(i int64) (a, b int64, s string) {
	words := []string{"Hello", "World", "WebAssembly", "SQL", "user-defined", "Functions", "in", "Go", "wazero", "2026!"}
	a = (i * 2654435761) % 1000000000
	b = (i * 40503) % 1000000000
	s = words[(i*7)%10] + " " + words[(i*13)%10] + ", " + words[(i*17)%10] + " - " + words[(i*19)%10] + " " + words[(i*23)%10]
	return
}

func main() {
	rows := flag.Int64("rows", 1_000_000, "rows in the table")
	runs := flag.Int("runs", 5, "timed runs per query (plus one warm-up)")
	tables := flag.String("tables", embedded.TablesMemory+","+embedded.TablesDolt, "table storages to measure, comma-separated")
	flag.Parse()
	if err := run(*rows, *runs, strings.Split(*tables, ","), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sqlbench:", err)
		os.Exit(1)
	}
}

func run(n int64, runs int, storages []string, out io.Writer) error {
	ctx := context.Background()
	engines := make([]*embedded.Engine, len(storages))
	for k, st := range storages {
		e, closeAll, err := tableload.Open(ctx, st)
		if err != nil {
			return err
		}
		defer closeAll()
		engines[k] = e
		if err := setUp(e); err != nil {
			return err
		}
		start := time.Now()
		if err := tableload.Rows(e, "t", n, func(i int64) sql.Row { a, b, s := row(i); return sql.NewRow(a, b, s) }); err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		fmt.Fprintf(out, "%s: %d rows loaded through one inserter in %.1f s\n", st, n, time.Since(start).Seconds())
	}
	for k, st := range storages {
		if err := measure(engines[k], st, n, runs, out); err != nil {
			return err
		}
	}
	return nil
}

// setUp creates t and the functions.
func setUp(e *embedded.Engine) error {
	ctx := context.Background()
	q := func(query string) error {
		_, _, err := e.Query(e.NewContext(ctx), query)
		return err
	}
	mod := func(path string) string {
		b, err := os.ReadFile(filepath.Join(path))
		if err != nil {
			panic(err)
		}
		return fmt.Sprintf("X'%x'", b)
	}
	for _, s := range []string{
		"CREATE TABLE t (a bigint, b bigint, s text)",
		"CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS " + mod("udf/testdata/numeric.wasm") + ", 'add'",
		"CREATE FUNCTION fib(bigint) RETURNS bigint LANGUAGE wasm AS " + mod("udf/testdata/fib.wasm") + ", 'fib_iter'",
		"CREATE FUNCTION slugify(text) RETURNS text LANGUAGE wasm AS " + mod("udf/testdata/guests/c_funcs.wasm"),
	} {
		if err := q(s); err != nil {
			return fmt.Errorf("%s: %w", s[:40], err)
		}
	}
	return nil
}

// measure runs the queries on e and prints their table.
func measure(e *embedded.Engine, storage string, n int64, runs int, out io.Writer) error {
	ctx := context.Background()
	q := func(query string) ([]sql.Row, error) {
		_, rows, err := e.Query(e.NewContext(ctx), query)
		return rows, err
	}
	type query struct {
		name, sql string
		noBatch   bool
	}
	queries := []query{
		{"base: sum(a)", "SELECT sum(a) FROM t", false},
		{"base: sum(length(s))", "SELECT sum(length(s)) FROM t", false},
		{"base: sum(a % 30)", "SELECT sum(a % 30) FROM t", false},
		{"native: sum(a + b)", "SELECT sum(a + b) FROM t", false},
		{"wasm: sum(plus(a, b))", "SELECT sum(plus(a, b)) FROM t", false},
		{"wasm, batching off: sum(plus(a, b))", "SELECT sum(plus(a, b)) FROM t", true},
		{"wasm: sum(fib(a % 30))", "SELECT sum(fib(a % 30)) FROM t", false},
		{"wasm: sum(length(slugify(s)))", "SELECT sum(length(slugify(s))) FROM t", false},
	}
	times := make([][]time.Duration, len(queries))
	results := make([]string, len(queries))
	for pass := 0; pass <= runs; pass++ {
		for i, qu := range queries {
			e.Registry.SetBatching(!qu.noBatch)
			start := time.Now()
			rows, err := q(qu.sql)
			took := time.Since(start)
			if err != nil {
				return fmt.Errorf("%s: %w", qu.sql, err)
			}
			results[i] = fmt.Sprint(rows[0][0])
			if pass > 0 {
				times[i] = append(times[i], took)
			}
		}
	}
	e.Registry.SetBatching(true)
	med := func(i int) time.Duration {
		d := append([]time.Duration(nil), times[i]...)
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		return d[len(d)/2]
	}
	perRow := func(i, base int) float64 { return float64(med(i)-med(base)) / float64(n) }
	fmt.Fprintf(out, "\nwasql embedded engine, %s tables, %d rows, median of %d runs\n\n", storage, n, runs)
	fmt.Fprintln(out, "| query | median ms | ns/row over its base | runs (ms) | result |")
	fmt.Fprintln(out, "|---|---:|---:|---|---|")
	for i, qu := range queries {
		base := 0
		switch {
		case strings.Contains(qu.sql, "length"):
			base = 1
		case strings.Contains(qu.sql, "% 30"):
			base = 2
		}
		per := "–"
		if i > 2 {
			per = fmt.Sprintf("%.0f", perRow(i, base))
		}
		ms := make([]string, len(times[i]))
		for k, d := range times[i] {
			ms[k] = fmt.Sprintf("%.0f", float64(d.Microseconds())/1000)
		}
		fmt.Fprintf(out, "| %s | %.1f | %s | %s | %s |\n", qu.name, float64(med(i).Microseconds())/1000, per, strings.Join(ms, " "), results[i])
	}
	fmt.Fprintf(out, "\nsum(plus(a,b)) / sum(a+b): %.3f (target ≤ 1.10)\n", float64(med(4))/float64(med(3)))
	fmt.Fprintf(out, "batching off / on: %.2f\n", float64(med(5))/float64(med(4)))
	return nil
}
