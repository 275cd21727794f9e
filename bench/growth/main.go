// Command growth measures whether writes stay fast as a table grows (issue 14): 1,000
// autocommit INSERTs of one row each into a table with a primary key, first empty, then holding
// -rows rows (loaded through one inserter), on each table storage -tables names, in one run.
//
//	go run ./bench/growth [-rows 1000000] [-inserts 1000] [-tables dolt,memory]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/bench/internal/tableload"
	"github.com/wasql/wasql/embedded"
)

func main() {
	rows := flag.Int64("rows", 1_000_000, "rows in the grown table")
	inserts := flag.Int("inserts", 1000, "timed single-row INSERTs")
	tables := flag.String("tables", embedded.TablesDolt+","+embedded.TablesMemory, "table storages, comma-separated")
	flag.Parse()
	fmt.Println("| storage | table rows before | INSERTs | total s | ms per INSERT |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, st := range strings.Split(*tables, ",") {
		if err := run(st, *rows, *inserts); err != nil {
			fmt.Fprintln(os.Stderr, "growth:", st+":", err)
			os.Exit(1)
		}
	}
}

func run(storage string, rows int64, inserts int) error {
	ctx := context.Background()
	e, closeAll, err := tableload.Open(ctx, storage)
	if err != nil {
		return err
	}
	defer closeAll()
	q := func(s string) error {
		_, _, err := e.Query(e.NewContext(ctx), s)
		return err
	}
	for _, t := range []string{"fresh", "grown"} {
		if err := q("CREATE TABLE " + t + " (id bigint primary key, a bigint, s text)"); err != nil {
			return err
		}
	}
	if err := tableload.Rows(e, "grown", rows, func(i int64) sql.Row { return sql.NewRow(i, i*7, fmt.Sprintf("row %d", i)) }); err != nil {
		return err
	}
	for _, c := range []struct {
		table string
		rows  int64
	}{{"fresh", 0}, {"grown", rows}} {
		start := time.Now()
		for i := range inserts {
			id := rows + 1 + int64(i)*7919%int64(inserts) // not in key order
			if err := q(fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, 'row %d')", c.table, id, i, i)); err != nil {
				return err
			}
		}
		took := time.Since(start)
		fmt.Printf("| %s | %d | %d | %.2f | %.3f |\n", storage, c.rows, inserts, took.Seconds(), float64(took.Microseconds())/1000/float64(inserts))
	}
	return nil
}
