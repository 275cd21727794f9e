// Command copyload measures bulk loading over the Postgres wire (issue 14: 1M rows (a bigint,
// b bigint, s text) in at most 10 s; the data directory at most 3x their CSV after compaction).
// Each run loads the rows into a table with a primary key and into one without, each in a new
// data directory of Dolt's tables served by this process: with psql's \copy of a CSV file (COPY
// ... FROM STDIN, CSV), with pgx's CopyFrom (the binary format) and with LOAD DATA LOCAL INFILE
// over the MySQL wire (the mariadb client). The first run also prints
// the size of tables/ after the \copy and after CALL dolt_gc(). The baseline, in the same run, is
// the same \copy into a PostgreSQL 15 (fsync off).
//
//	go run ./bench/copyload [-rows 1000000] [-runs 3] [-pg=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/bench/internal/tableload"
	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/internal/pgtest"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/udf"
)

var tables = map[string]string{
	"pk":    "CREATE TABLE t (a bigint PRIMARY KEY, b bigint, s text)",
	"nokey": "CREATE TABLE t (a bigint, b bigint, s text)",
}

func main() {
	rows := flag.Int64("rows", 1_000_000, "rows to load")
	runs := flag.Int("runs", 3, "runs (medians are printed)")
	pg := flag.Bool("pg", true, "load PostgreSQL 15 too, the baseline")
	flag.Parse()
	if err := run(*rows, *runs, *pg); err != nil {
		fmt.Fprintln(os.Stderr, "copyload:", err)
		os.Exit(1)
	}
}

func run(n int64, runs int, pg bool) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "copyload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	csv := filepath.Join(work, "rows.csv")
	var b strings.Builder
	for i := int64(1); i <= n; i++ {
		a, bb, s := tableload.Row(i)
		fmt.Fprintf(&b, "%d,%d,%s\n", a, bb, s)
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		return err
	}
	os.Chmod(work, 0o755) // PostgreSQL's psql runs as this user, the file is only read by it
	fmt.Printf("%d rows; their CSV: %.1f MB\n", n, tableload.MB(int64(b.Len())))

	var srv *pgtest.Server
	if pg {
		if srv, err = pgtest.StartServer(); err != nil {
			return err
		}
		defer srv.Stop()
	}
	times := map[string][]time.Duration{}
	for r := 0; r < runs; r++ {
		for _, kind := range []string{"pk", "nokey"} {
			d, err := loadWasql(ctx, work, kind, csv, n, r == 0, b.Len(), psqlCopy)
			if err != nil {
				return err
			}
			times["wasql psql \\copy "+kind] = append(times["wasql psql \\copy "+kind], d)
			if d, err = loadWasql(ctx, work, kind, csv, n, false, 0, pgxCopy); err != nil {
				return err
			}
			times["wasql pgx CopyFrom "+kind] = append(times["wasql pgx CopyFrom "+kind], d)
			if d, err = loadWasql(ctx, work, kind, csv, n, false, 0, loadData); err != nil {
				return err
			}
			times["wasql LOAD DATA LOCAL "+kind] = append(times["wasql LOAD DATA LOCAL "+kind], d)
			if srv != nil {
				d, err := loadPG(ctx, srv, kind, csv, n)
				if err != nil {
					return err
				}
				times["postgres psql \\copy "+kind] = append(times["postgres psql \\copy "+kind], d)
			}
		}
	}
	var names []string
	for k := range times {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Printf("\nmedians of %d runs:\n", runs)
	for _, k := range names {
		ds := times[k]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("  %-28s %6.2f s   (runs: %v)\n", k, ds[len(ds)/2].Seconds(), ds)
	}
	return nil
}

// loader loads the CSV file (or its rows) over the Postgres wire at url (or the MySQL wire at
// the address of its host).
type loader func(ctx context.Context, url, mysqlAddr, csv string, n int64) error

// loadWasql loads into a new data directory served on a loopback port, and checks the count;
// with sizes, it prints tables/'s size after the load and after CALL dolt_gc().
func loadWasql(ctx context.Context, work, kind, csv string, n int64, sizes bool, csvSize int, load loader) (time.Duration, error) {
	dir, err := os.MkdirTemp(work, "data")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	e, err := embedded.Open(ctx, embedded.Config{DataDir: dir, UDF: udf.NewConfig(), Tables: embedded.TablesDolt})
	if err != nil {
		return 0, err
	}
	defer e.Close(ctx)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	s := proxy.NewServer(proxy.Config{}, e.PGBackend())
	go s.Serve(l)
	defer s.Close()
	ms, err := e.ServeMySQL("127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go ms.Start()
	defer ms.Close()
	url := fmt.Sprintf("postgres://app@%s/wasql?sslmode=disable", l.Addr())
	if err := exec1(ctx, url, tables[kind]); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := load(ctx, url, ms.Listener.Addr().String(), csv, n); err != nil {
		return 0, err
	}
	d := time.Since(start)
	if err := count(ctx, url, n); err != nil {
		return 0, err
	}
	if sizes {
		tdir := filepath.Join(dir, "tables")
		loaded := tableload.DirSize(tdir)
		fmt.Printf("%-5s tables/ after \\copy %.1f MB (%.2fx the CSV)\n", kind, tableload.MB(loaded), float64(loaded)/float64(csvSize))
		sctx := e.NewContext(ctx)
		gcStart := time.Now()
		if _, _, err := e.Query(sctx, "CALL dolt_gc()"); err != nil {
			return 0, err
		}
		after := tableload.DirSize(tdir)
		fmt.Printf("%-5s tables/ after CALL dolt_gc() (%.1f s) %.1f MB (%.2fx the CSV)\n", kind,
			time.Since(gcStart).Seconds(), tableload.MB(after), float64(after)/float64(csvSize))
	}
	return d, nil
}

// loadPG loads into a new table of PostgreSQL.
func loadPG(ctx context.Context, srv *pgtest.Server, kind, csv string, n int64) (time.Duration, error) {
	url := srv.URL("postgres")
	if err := exec1(ctx, url, "DROP TABLE IF EXISTS t"); err != nil {
		return 0, err
	}
	if err := exec1(ctx, url, tables[kind]); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := psqlCopy(ctx, url, "", csv, n); err != nil {
		return 0, err
	}
	return time.Since(start), count(ctx, url, n)
}

// psqlCopy is psql's \copy of the CSV file: COPY t FROM STDIN (FORMAT csv) with the file's bytes.
func psqlCopy(ctx context.Context, url, _, csv string, _ int64) error {
	out, err := exec.CommandContext(ctx, "psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-c", fmt.Sprintf(`\copy t from '%s' with (format csv)`, csv)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql \\copy: %v: %s", err, out)
	}
	return nil
}

// loadData is LOAD DATA LOCAL INFILE of the CSV file through the mariadb client.
func loadData(ctx context.Context, _, mysqlAddr, csv string, _ int64) error {
	host, port, _ := net.SplitHostPort(mysqlAddr)
	out, err := exec.CommandContext(ctx, "mariadb", "-h", host, "-P", port, "-u", "app", "--local-infile=1", "wasql",
		"-e", fmt.Sprintf("LOAD DATA LOCAL INFILE '%s' INTO TABLE t FIELDS TERMINATED BY ','", csv)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadb LOAD DATA LOCAL INFILE: %v: %s", err, out)
	}
	return nil
}

// pgxCopy sends the rows with pgx's CopyFrom (binary COPY).
func pgxCopy(ctx context.Context, url, _, _ string, n int64) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	i := int64(0)
	_, err = c.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"a", "b", "s"}, pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		a, b, s := tableload.Row(i)
		return []any{a, b, s}, nil
	}))
	return err
}

func exec1(ctx context.Context, url, q string) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, q)
	return err
}

func count(ctx context.Context, url string, n int64) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var got int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&got); err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("%d rows loaded, want %d", got, n)
	}
	return nil
}
