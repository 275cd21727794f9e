// Command soak measures how statements of one session wait for others' on wasql's MySQL wire:
//
//   - lockwait: `select 1` latency while a long SELECT runs and a writer waits behind it;
//   - compile: `select 1` latency while another session creates a function from a large module;
//   - soak: N clients mixing reads, writes and CREATE OR REPLACE FUNCTION for a while: latency
//     percentiles per kind, and how many CREATE OR REPLACE ran.
//
// It talks to a running server (wasql serve), so the same program measures any build:
//
//	go run ./bench/soak -addr 127.0.0.1:3307 -clients 32 -duration 20s
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3307", "MySQL wire address of a running wasql")
	clients := flag.Int("clients", 32, "soak clients")
	duration := flag.Duration("duration", 20*time.Second, "soak duration")
	rows := flag.Int("rows", 300, "rows of the table the long SELECT joins with itself three times")
	small := flag.String("module", "udf/testdata/numeric.wasm", "module for CREATE OR REPLACE (export add)")
	large := flag.String("large", "udf/testdata/guests/go_funcs.wasm", "large module for the compile measurement (export add_scalar)")
	flag.Parse()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/wasql?maxAllowedPacket=0", *addr))
	check(err)
	db.SetMaxOpenConns(*clients + 8)
	db.SetMaxIdleConns(*clients + 8)
	ctx := context.Background()
	setup(ctx, db, *rows)
	lockwait(ctx, db)
	compile(ctx, db, *large)
	soak(ctx, db, *clients, *duration, *small)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func setup(ctx context.Context, db *sql.DB, rows int) {
	for _, q := range []string{"DROP TABLE IF EXISTS big", "DROP TABLE IF EXISTS w",
		"CREATE TABLE big (a bigint primary key)", "CREATE TABLE w (id bigint primary key auto_increment, v bigint)"} {
		_, err := db.ExecContext(ctx, q)
		check(err)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO big VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "(%d)", i)
	}
	_, err := db.ExecContext(ctx, b.String())
	check(err)
}

// timed runs q on c and returns how long it took.
func timed(ctx context.Context, c *sql.Conn, q string, args ...any) (time.Duration, error) {
	start := time.Now()
	rows, err := c.QueryContext(ctx, q, args...)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	return time.Since(start), err
}

func conn(ctx context.Context, db *sql.DB) *sql.Conn {
	c, err := db.Conn(ctx)
	check(err)
	return c
}

func lockwait(ctx context.Context, db *sql.DB) {
	long, writer, probe := conn(ctx, db), conn(ctx, db), conn(ctx, db)
	defer long.Close()
	defer writer.Close()
	defer probe.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	var longTook, writeTook time.Duration
	go func() {
		defer wg.Done()
		longTook, _ = timed(ctx, long, "SELECT count(*) FROM big a, big b, big c")
	}()
	time.Sleep(300 * time.Millisecond)
	go func() {
		defer wg.Done()
		writeTook, _ = timed(ctx, writer, "INSERT INTO w (v) VALUES (1)")
	}()
	time.Sleep(300 * time.Millisecond)
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	d, err := timed(pctx, probe, "select 1")
	cancel()
	wg.Wait()
	fmt.Printf("lockwait: select 1 took %v (err %v) while a long SELECT (%v) ran and a writer waited (%v)\n",
		d.Round(time.Microsecond), err, longTook.Round(time.Millisecond), writeTook.Round(time.Millisecond))
}

func compile(ctx context.Context, db *sql.DB, path string) {
	mod, err := os.ReadFile(path)
	check(err)
	creator, probe := conn(ctx, db), conn(ctx, db)
	defer creator.Close()
	defer probe.Close()
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		_, err := creator.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE FUNCTION big_add(bigint, bigint) RETURNS bigint LANGUAGE wasm AS x'%x', 'add_scalar'", mod))
		if err != nil {
			fmt.Println("compile: CREATE failed:", err)
		}
		done <- time.Since(start)
	}()
	var worst time.Duration
	n := 0
	for {
		select {
		case took := <-done:
			fmt.Printf("compile: CREATE of a %d-byte module took %v; %d select 1 meanwhile, the slowest %v\n",
				len(mod), took.Round(time.Millisecond), n, worst.Round(time.Microsecond))
			return
		default:
		}
		d, err := timed(ctx, probe, "select 1")
		check(err)
		worst = max(worst, d)
		n++
		time.Sleep(5 * time.Millisecond)
	}
}

func soak(ctx context.Context, db *sql.DB, clients int, duration time.Duration, path string) {
	mod, err := os.ReadFile(path)
	check(err)
	create := fmt.Sprintf("CREATE OR REPLACE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS x'%x', 'add'", mod)
	_, err = db.ExecContext(ctx, create)
	check(err)
	type sample struct {
		kind string
		d    time.Duration
		err  error
	}
	var mu sync.Mutex
	var samples []sample
	var planned atomic.Int64
	deadline := time.Now().Add(duration)
	sctx, cancel := context.WithDeadline(ctx, deadline.Add(30*time.Second)) // stragglers end too
	defer cancel()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := conn(ctx, db)
			defer c.Close()
			for op := 0; time.Now().Before(deadline); op++ {
				var s sample
				switch {
				case i < 2: // long readers
					s.kind = "long read"
					s.d, s.err = timed(sctx, c, "SELECT count(*) FROM big a, big b")
				case op%10 == 9:
					planned.Add(1)
					s.kind = "create or replace"
					s.d, s.err = timed(sctx, c, create)
				case op%10 >= 6:
					s.kind = "write"
					s.d, s.err = timed(sctx, c, "INSERT INTO w (v) VALUES (?)", op)
				default:
					s.kind = "read"
					s.d, s.err = timed(sctx, c, "SELECT count(*), sum(plus(v, 1)) FROM w")
				}
				if time.Now().After(deadline) && s.kind == "create or replace" {
					s.err = fmt.Errorf("finished after the end")
				}
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("soak: %d clients, %v\n", clients, duration)
	fmt.Println("| kind | ran | errors | p50 | p95 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, kind := range []string{"read", "write", "long read", "create or replace"} {
		var ds []time.Duration
		errs := 0
		for _, s := range samples {
			if s.kind != kind {
				continue
			}
			if s.err != nil {
				errs++
				continue
			}
			ds = append(ds, s.d)
		}
		slices.Sort(ds)
		pct := func(p float64) time.Duration {
			if len(ds) == 0 {
				return 0
			}
			return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(time.Millisecond)
		}
		fmt.Printf("| %s | %d | %d | %v | %v | %v |\n", kind, len(ds), errs, pct(0.5), pct(0.95), pct(1))
	}
	seen := map[string]bool{}
	for _, s := range samples {
		if s.err != nil && !seen[s.err.Error()] && len(seen) < 5 {
			seen[s.err.Error()] = true
			fmt.Printf("error (%s): %v\n", s.kind, s.err)
		}
	}
	ran := 0
	for _, s := range samples {
		if s.kind == "create or replace" && s.err == nil {
			ran++
		}
	}
	fmt.Printf("CREATE OR REPLACE: %d started, %d ran within the %v\n", planned.Load(), ran, duration)
}
