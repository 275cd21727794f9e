// Command streamread is the client of bench/proxy-wasm.sh and scripts/stream-rss.sh: it runs one
// query with pgx (the extended protocol), reads every row as it arrives, and prints how many
// rows and bytes came and how long the query took from its start to its last row; with -pid it
// also samples that process's VmRSS (/proc/PID/status) meanwhile and prints the peak, and with
// -check-slug it checks that each row (id bigint, text) is slugify('Row <id>, Of Big!') as
// scripts/stream-rss.sh's table makes it, and that the ids are 1..N.
//
//	go run ./bench/streamread -url postgres://... -query 'SELECT id, slugify(s) FROM t' [-pid PID] [-check-slug]
//
// It prints one line: rows=N bytes=N ms=T [peak_rss_mb=P samples=N]; a query error, or any check
// that fails, is a message on stderr and exit status 1.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/internal/procmem"
)

func main() {
	url := flag.String("url", "", "the server's URL")
	query := flag.String("query", "", "the query to read")
	pid := flag.Int("pid", 0, "a process whose VmRSS to sample while the query runs (0: none)")
	every := flag.Duration("every", 20*time.Millisecond, "how often to sample VmRSS")
	checkSlug := flag.Bool("check-slug", false, "check each row (id, slug) is slugify('Row <id>, Of Big!'), ids 1..N")
	flag.Parse()
	if err := run(*url, *query, *pid, *every, *checkSlug); err != nil {
		fmt.Fprintln(os.Stderr, "streamread:", err)
		os.Exit(1)
	}
}

func run(url, query string, pid int, every time.Duration, checkSlug bool) error {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var stop func() (int64, int)
	if pid != 0 {
		if _, err := procmem.VmRSS(pid); err != nil {
			return err
		}
		stop = procmem.Sample(pid, every)
	}
	start := time.Now()
	// Binary results: the id arrives as 8 bytes, the text as its bytes.
	rows, err := c.Query(ctx, query, pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return err
	}
	var n, size, sum int64
	bad := 0
	for rows.Next() {
		vals := rows.RawValues()
		n++
		for _, v := range vals {
			size += int64(len(v))
		}
		if checkSlug {
			if len(vals) != 2 || len(vals[0]) != 8 {
				return fmt.Errorf("row %d: want (bigint, text), got %d columns", n, len(vals))
			}
			id := int64(binary.BigEndian.Uint64(vals[0]))
			sum += id
			if want := "row-" + strconv.FormatInt(id, 10) + "-of-big"; string(vals[1]) != want {
				if bad < 5 {
					fmt.Fprintf(os.Stderr, "streamread: id %d: %q, want %q\n", id, vals[1], want)
				}
				bad++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("after %d rows: %w", n, err)
	}
	elapsed := time.Since(start)
	line := fmt.Sprintf("rows=%d bytes=%d ms=%.1f", n, size, float64(elapsed.Microseconds())/1000)
	if stop != nil {
		peak, samples := stop()
		line += fmt.Sprintf(" peak_rss_mb=%.1f samples=%d", float64(peak)/(1<<20), samples)
	}
	fmt.Println(line)
	if checkSlug {
		if bad > 0 {
			return fmt.Errorf("%d of %d rows are wrong", bad, n)
		}
		if sum != n*(n+1)/2 {
			return fmt.Errorf("the ids of the %d rows sum to %d, not 1+...+%d = %d", n, sum, n, n*(n+1)/2)
		}
	}
	return nil
}
