// Command storage measures a candidate storage engine for embedded mode (issue 14) on the
// points the issue names: bulk load, writes into a large table with a primary key, the data
// directory's size before and after compaction, concurrent writers, DDL, and kill -9.
//
// It is its own Go module so that the candidates' dependencies stay out of wasql's build until
// one is chosen:
//
//	mkdir -p /work/st/home && cd bench/storage && go build -o /work/storage-probe . &&
//	  DOLT_METRICS_DISABLED=1 DOLT_ROOT_PATH=/work/st/home /work/storage-probe -dir /work/st -what all
//
// (DOLT_METRICS_DISABLED stops the driver's daily usage event; DOLT_ROOT_PATH keeps Dolt's
// global config out of $HOME.) Today it drives Dolt embedded (github.com/dolthub/driver)
// through database/sql. Results: docs/performance.md, "Storage for embedded tables".
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/dolthub/driver"
)

func main() {
	dir := flag.String("dir", "", "work directory (made if missing; emptied first)")
	what := flag.String("what", "all", "load, loaddata, pk, conc, ddl, crash (comma-separated) or all; crash-child and crash-verify are the crash test's children")
	rows := flag.Int("rows", 1_000_000, "rows to bulk load")
	batch := flag.Int("batch", 1000, "rows per multi-row INSERT")
	rounds := flag.Int("rounds", 100, "crash rounds")
	writers := flag.Int("writers", 8, "concurrent writers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *dir == "" {
		fail(errors.New("-dir is required"))
	}
	var err error
	switch *what {
	case "crash-child":
		err = crashChild(*dir)
	case "crash-verify":
		err = crashVerify(*dir)
	default:
		for _, w := range strings.Split(map[bool]string{true: "load,loaddata,pk,conc,ddl,crash", false: *what}[*what == "all"], ",") {
			sub := filepath.Join(*dir, w)
			if err = os.RemoveAll(sub); err == nil {
				err = os.MkdirAll(sub, 0o755)
			}
			if err != nil {
				break
			}
			switch w {
			case "load":
				err = load(sub, *rows, *batch)
			case "loaddata":
				err = loadData(sub, *rows)
			case "pk":
				err = pk(sub, *rows)
			case "conc":
				err = conc(sub, *writers)
			case "ddl":
				err = ddl(sub)
			case "crash":
				err = crash(sub, *rounds)
			default:
				err = fmt.Errorf("unknown -what %q", w)
			}
			if err != nil {
				err = fmt.Errorf("%s: %w", w, err)
				break
			}
		}
	}
	if err != nil {
		pprof.StopCPUProfile()
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "storage:", err)
	os.Exit(1)
}

// open opens (creating it if needed) database db under dir.
func open(dir string) (*sql.DB, error) {
	q := url.Values{"commitname": {"wasql"}, "commitemail": {"wasql@localhost"}, "database": {"db"}, "multistatements": {"true"}}
	first := "file://" + dir + "?" + url.Values{"commitname": q["commitname"], "commitemail": q["commitemail"]}.Encode()
	boot, err := sql.Open("dolt", first)
	if err != nil {
		return nil, err
	}
	if _, err := boot.Exec("CREATE DATABASE IF NOT EXISTS db"); err != nil {
		boot.Close()
		return nil, err
	}
	boot.Close()
	db, err := sql.Open("dolt", "file://"+dir+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return db, db.Ping()
}

// rowText is row i of the bulk-load table.
func rowText(i int) (a, b int, s string) { return i, i * 7 % 1000003, fmt.Sprintf("row %d text", i) }

// insertRows loads rows lo..hi-1 into table in multi-row INSERTs of batch rows.
func insertRows(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, table string, lo, hi, batch int) error {
	var sb strings.Builder
	for i := lo; i < hi; i += batch {
		sb.Reset()
		fmt.Fprintf(&sb, "INSERT INTO %s VALUES ", table)
		for j := i; j < min(i+batch, hi); j++ {
			if j > i {
				sb.WriteByte(',')
			}
			a, b, s := rowText(j)
			fmt.Fprintf(&sb, "(%d,%d,'%s')", a, b, s)
		}
		if _, err := ex.ExecContext(ctx, sb.String()); err != nil {
			return err
		}
	}
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func csvSize(rows int) int64 {
	var n int64
	for i := range rows {
		a, b, s := rowText(i)
		n += int64(len(fmt.Sprintf("%d,%d,%s\n", a, b, s)))
	}
	return n
}

func mb(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

// load: 1M rows (a bigint, b bigint, s text) in multi-row INSERTs, one transaction; the data
// directory's size against the CSV's, before and after dolt_gc.
func load(dir string, rows, batch int) error {
	ctx := context.Background()
	db, err := open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, mode := range []string{"one transaction", "autocommit per statement"} {
		table := map[string]string{"one transaction": "t1", "autocommit per statement": "t2"}[mode]
		if _, err := db.Exec("CREATE TABLE " + table + " (a bigint, b bigint, s text)"); err != nil {
			return err
		}
		start := time.Now()
		if mode == "one transaction" {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := insertRows(ctx, tx, table, 0, rows, batch); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
		} else if err := insertRows(ctx, db, table, 0, rows, batch); err != nil {
			return err
		}
		took := time.Since(start)
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			return err
		}
		fmt.Printf("load %s: rows=%d batch=%d seconds=%.2f rows_per_s=%.0f count=%d data_dir_mb=%s\n",
			mode, rows, batch, took.Seconds(), float64(rows)/took.Seconds(), n, mb(dirSize(dir)))
		if n != rows {
			return fmt.Errorf("count %d, want %d", n, rows)
		}
	}
	start := time.Now()
	if _, err := db.Exec("CALL dolt_gc()"); err != nil {
		fmt.Printf("load: dolt_gc: %v\n", err)
	}
	fmt.Printf("load: dolt_gc seconds=%.2f data_dir_mb=%s csv_mb=%s (two tables of the rows: %s MB of CSV)\n",
		time.Since(start).Seconds(), mb(dirSize(dir)), mb(csvSize(rows)), mb(2*csvSize(rows)))
	return nil
}

// loadData: the same rows from a CSV file in one LOAD DATA INFILE statement (one insert node
// fed row by row: Dolt's write session flushes once, at the end, where a multi-row INSERT
// flushes at every statement), into a table without and with a primary key.
func loadData(dir string, rows int) error {
	csv := filepath.Join(dir, "rows.csv")
	if err := writeCSV(csv, rows); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		return err
	}
	db, err := open(filepath.Join(dir, "db"))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, ddl := range []string{"CREATE TABLE t (a bigint, b bigint, s text)", "CREATE TABLE tp (a bigint primary key, b bigint, s text)"} {
		if _, err := db.Exec(ddl); err != nil {
			return err
		}
		table := strings.Fields(ddl)[2]
		start := time.Now()
		if _, err := db.Exec(fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE %s FIELDS TERMINATED BY ','", csv, table)); err != nil {
			return err
		}
		took := time.Since(start)
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			return err
		}
		fmt.Printf("loaddata %s: rows=%d seconds=%.2f rows_per_s=%.0f count=%d data_dir_mb=%s\n",
			ddl, rows, took.Seconds(), float64(rows)/took.Seconds(), n, mb(dirSize(filepath.Join(dir, "db"))))
	}
	start := time.Now()
	if _, err := db.Exec("CALL dolt_gc()"); err != nil {
		fmt.Printf("loaddata: dolt_gc: %v\n", err)
	}
	fi, _ := os.Stat(csv)
	fmt.Printf("loaddata: dolt_gc seconds=%.2f data_dir_mb=%s csv_mb=%s (two tables of it)\n",
		time.Since(start).Seconds(), mb(dirSize(filepath.Join(dir, "db"))), mb(fi.Size()))
	return nil
}

// writeCSV writes rows 0..rows-1 of the bulk-load table to path.
func writeCSV(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range rows {
		a, b, s := rowText(i)
		fmt.Fprintf(w, "%d,%d,%s\n", a, b, s)
	}
	return errors.Join(w.Flush(), f.Close())
}

// pk: 1,000 single-row autocommit INSERTs into a table with a primary key, empty and then
// holding 1M rows (loaded with LOAD DATA).
func pk(dir string, rows int) error {
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		return err
	}
	db, err := open(filepath.Join(dir, "db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE p (a bigint primary key, b bigint, s text)"); err != nil {
		return err
	}
	thousand := func(base int) (time.Duration, error) {
		start := time.Now()
		for i := range 1000 {
			a, b, s := rowText(base + i)
			if _, err := db.Exec("INSERT INTO p VALUES (?, ?, ?)", a, b, s); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	empty, err := thousand(10 * rows)
	if err != nil {
		return err
	}
	csv := filepath.Join(dir, "rows.csv")
	if err := writeCSV(csv, rows); err != nil {
		return err
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE p FIELDS TERMINATED BY ','", csv)); err != nil {
		return err
	}
	loaded := time.Since(start)
	full, err := thousand(20 * rows)
	if err != nil {
		return err
	}
	fmt.Printf("pk: 1000 autocommit inserts into an empty table ms=%.0f; load %d rows seconds=%.2f; 1000 inserts into %d rows ms=%.0f (ratio %.2f)\n",
		ms(empty), rows, loaded.Seconds(), rows+1000, ms(full), float64(full)/float64(empty))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// conc: writers each run 200 transactions updating their own row and inserting one, against
// one writer doing all of them; conflicts (1213) are retried and counted.
func conc(dir string, writers int) error {
	db, err := open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(writers + 1)
	if _, err := db.Exec("CREATE TABLE c (w int primary key, n int); CREATE TABLE l (w int, i int, primary key (w, i))"); err != nil {
		return err
	}
	for w := range writers {
		if _, err := db.Exec("INSERT INTO c VALUES (?, 0)", w); err != nil {
			return err
		}
	}
	const per = 200
	run := func(nw int, base int) (time.Duration, int64, error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var conflicts int64
		var first error
		start := time.Now()
		for w := range nw {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per * writers / nw {
					for {
						err := txn(db, w%writers, base+w*per*writers+i)
						if err == nil {
							break
						}
						if strings.Contains(err.Error(), "1213") || strings.Contains(strings.ToLower(err.Error()), "deadlock") ||
							strings.Contains(strings.ToLower(err.Error()), "conflict") {
							mu.Lock()
							conflicts++
							mu.Unlock()
							continue
						}
						mu.Lock()
						first = errors.Join(first, err)
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start), conflicts, first
	}
	one, c1, err := run(1, 0)
	if err != nil {
		return err
	}
	many, cn, err := run(writers, 1_000_000)
	if err != nil {
		return err
	}
	var sum int
	if err := db.QueryRow("SELECT sum(n) FROM c").Scan(&sum); err != nil {
		return err
	}
	fmt.Printf("conc: %d transactions: 1 writer seconds=%.2f conflicts=%d; %d writers seconds=%.2f conflicts=%d; sum=%d want %d\n",
		per*writers, one.Seconds(), c1, writers, many.Seconds(), cn, sum, 2*per*writers)
	if sum != 2*per*writers {
		return fmt.Errorf("sum %d, want %d: a committed update was lost", sum, 2*per*writers)
	}
	// One hot row: every writer increments the same counter in its own transactions. Each
	// COMMIT that returned must count (PostgreSQL's READ COMMITTED re-reads the row: no lost
	// update).
	if _, err := db.Exec("CREATE TABLE hot (k int primary key, n int)"); err != nil {
		return err
	}
	for _, explicit := range []bool{true, false} {
		if err := hotRow(db, writers, per, explicit); err != nil {
			return err
		}
	}
	return nil
}

// hotRow runs writers × per increments of one counter, each in a transaction of its own
// (explicit: BEGIN … COMMIT; else one autocommit UPDATE), and reports how many that committed
// the counter lacks.
func hotRow(db *sql.DB, writers, per int, explicit bool) error {
	if _, err := db.Exec("DELETE FROM hot; INSERT INTO hot VALUES (0, 0)"); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed, conflicts := 0, 0
	var first error
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				var err error
				if explicit {
					var tx *sql.Tx
					if tx, err = db.Begin(); err == nil {
						if _, err = tx.Exec("UPDATE hot SET n = n + 1 WHERE k = 0"); err == nil {
							err = tx.Commit()
						} else {
							tx.Rollback()
						}
					}
				} else {
					_, err = db.Exec("UPDATE hot SET n = n + 1 WHERE k = 0")
				}
				mu.Lock()
				switch {
				case err == nil:
					committed++
				case strings.Contains(err.Error(), "1213") || strings.Contains(err.Error(), "serialization"):
					conflicts++
				default:
					first = errors.Join(first, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	var hot int
	if err := db.QueryRow("SELECT n FROM hot WHERE k = 0").Scan(&hot); err != nil {
		return err
	}
	fmt.Printf("conc hot row, %s: %d writers x %d increments: committed=%d conflicts=%d counter=%d (lost updates: %d)\n",
		map[bool]string{true: "BEGIN/UPDATE/COMMIT", false: "autocommit UPDATE"}[explicit], writers, per, committed, conflicts, hot, committed-hot)
	return nil
}

func txn(db *sql.DB, w, i int) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE c SET n = n + 1 WHERE w = ?", w); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.Exec("INSERT INTO l VALUES (?, ?)", w, i); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ddl runs the statements issue 14 names and prints what each answered.
func ddl(dir string) error {
	db, err := open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	steps := []struct{ q, want string }{
		{"CREATE TABLE parent (id bigint primary key, name text)", "ok"},
		{"CREATE TABLE child (id bigint primary key, pid bigint, note text, FOREIGN KEY (pid) REFERENCES parent(id))", "ok"},
		{"INSERT INTO parent VALUES (1, 'one'), (2, 'two')", "ok"},
		{"INSERT INTO child VALUES (10, 1, 'x')", "ok"},
		{"INSERT INTO child VALUES (11, 99, 'orphan')", "error"},
		{"DELETE FROM parent WHERE id = 1", "error"},
		{"CREATE INDEX parent_name ON parent (name(64))", "ok"},
		{"CREATE INDEX parent_name_full ON parent (name)", "?"},
		{"ALTER TABLE parent ADD COLUMN extra int DEFAULT 5", "ok"},
		{"ALTER TABLE parent RENAME COLUMN extra TO extra2", "ok"},
		{"ALTER TABLE parent DROP COLUMN extra2", "ok"},
		{"ALTER TABLE parent ADD CONSTRAINT name_nonempty CHECK (name <> '')", "ok"},
		{"INSERT INTO parent VALUES (3, '')", "error"},
		{"ALTER TABLE child ADD CONSTRAINT note_unique UNIQUE (note(32))", "ok"},
		{"BEGIN; INSERT INTO parent VALUES (4, 'four'); ROLLBACK", "ok"},
	}
	for _, s := range steps {
		_, err := db.Exec(s.q)
		got := "ok"
		if err != nil {
			got = "error: " + err.Error()
		}
		fmt.Printf("ddl: %-90s -> %s (expected %s)\n", s.q, got, s.want)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM parent WHERE id = 4").Scan(&n); err != nil {
		return err
	}
	fmt.Printf("ddl: rows with id 4 after ROLLBACK: %d (expected 0)\n", n)
	return nil
}

// crash: a child writes transactions (a row in each of two tables) and prints each one's
// number once COMMIT returned; it is killed with SIGKILL at a random point; a second child
// opens the directory and checks that every acknowledged number is there, in both tables.
func crash(dir string, rounds int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	acked := -1
	var opens []time.Duration
	for r := range rounds {
		child := exec.Command(self, "-what", "crash-child", "-dir", dir)
		out, err := child.StdoutPipe()
		if err != nil {
			return err
		}
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			return err
		}
		kill := time.Duration(rand.Intn(400)) * time.Millisecond
		sc := bufio.NewScanner(out)
		started := false
		var timer *time.Timer
		for sc.Scan() {
			line := sc.Text()
			if line == "open" {
				timer = time.AfterFunc(kill, func() { child.Process.Signal(syscall.SIGKILL) })
				started = true
				continue
			}
			if n, err := strconv.Atoi(line); err == nil && n > acked {
				acked = n
			}
		}
		if timer != nil {
			timer.Stop()
		}
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		if !started {
			return fmt.Errorf("round %d: the writer never opened the database", r)
		}
		start := time.Now()
		v := exec.Command(self, "-what", "crash-verify", "-dir", dir)
		v.Stderr = os.Stderr
		got, err := v.Output()
		opens = append(opens, time.Since(start))
		if err != nil {
			return fmt.Errorf("round %d: verify: %w", r, err)
		}
		var max1, cnt1, cnt2 int
		if _, err := fmt.Sscan(string(got), &max1, &cnt1, &cnt2); err != nil {
			return fmt.Errorf("round %d: verify said %q", r, got)
		}
		if max1 < acked || cnt1 != cnt2 || cnt1 != max1+1 {
			return fmt.Errorf("round %d: acknowledged up to %d; found max %d, %d and %d rows", r, acked, max1, cnt1, cnt2)
		}
		acked = max1 // a commit that landed but was not acknowledged counts from now on
	}
	slicesSort(opens)
	fmt.Printf("crash: rounds=%d commits=%d every acknowledged commit present, both tables equal; reopen+verify p50 ms=%.0f\n",
		rounds, acked+1, ms(opens[len(opens)/2]))
	return nil
}

func slicesSort(d []time.Duration) {
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[j] < d[i] {
				d[i], d[j] = d[j], d[i]
			}
		}
	}
}

func crashChild(dir string) error {
	db, err := open(dir)
	if err != nil {
		return err
	}
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS k1 (n bigint primary key, pad text); CREATE TABLE IF NOT EXISTS k2 (n bigint primary key)"); err != nil {
		return err
	}
	var next int
	if err := db.QueryRow("SELECT count(*) FROM k1").Scan(&next); err != nil { // n runs 0, 1, ...: the verifier checks it
		return err
	}
	fmt.Println("open")
	pad := strings.Repeat("p", 200)
	for n := next; ; n++ {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec("INSERT INTO k1 VALUES (?, ?)", n, pad); err != nil {
			return err
		}
		if _, err := tx.Exec("INSERT INTO k2 VALUES (?)", n); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		fmt.Println(n)
	}
}

func crashVerify(dir string) error {
	db, err := open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS k1 (n bigint primary key, pad text); CREATE TABLE IF NOT EXISTS k2 (n bigint primary key)"); err != nil {
		return err
	}
	var m, c1, c2 int
	// (Through the driver, max() over the empty table answered no row at all, not a NULL.)
	if err := db.QueryRow("SELECT n FROM k1 ORDER BY n DESC LIMIT 1").Scan(&m); errors.Is(err, sql.ErrNoRows) {
		m = -1
	} else if err != nil {
		return err
	}
	if err := db.QueryRow("SELECT count(*) FROM k1").Scan(&c1); err != nil {
		return err
	}
	if err := db.QueryRow("SELECT count(*) FROM k2").Scan(&c2); err != nil {
		return err
	}
	fmt.Println(m, c1, c2)
	return nil
}
