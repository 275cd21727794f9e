package embedded

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasql/wasql/udf"
)

// doltCrashEnv names the data directory TestDoltCrashChild writes to; without it the child skips.
const doltCrashEnv = "WASQL_DOLT_CRASH_DIR"

// TestDoltCrashChild is the process TestDoltCrash kills. It opens the engine on Dolt's tables
// in $WASQL_DOLT_CRASH_DIR and, until killed, commits transactions that insert row n into both
// a and b, reporting on stdout "ready" once open, "W n" before each COMMIT and "K n" once it
// returned.
func TestDoltCrashChild(t *testing.T) {
	dir := os.Getenv(doltCrashEnv)
	if dir == "" {
		t.Skip("run by TestDoltCrash as a child process to be killed; needs $" + doltCrashEnv)
	}
	ctx := context.Background()
	e, err := Open(ctx, Config{DataDir: dir, UDF: udf.NewConfig(), Tables: TablesDolt})
	if err != nil {
		t.Fatal(err)
	}
	c := e.NewContext(ctx)
	q := func(s string) []string {
		_, rows, err := e.Query(c, s)
		if err != nil {
			fmt.Println("E", err)
			os.Exit(2)
		}
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r...))
		}
		return out
	}
	q("CREATE TABLE IF NOT EXISTS a (id bigint primary key, v text)")
	q("CREATE TABLE IF NOT EXISTS b (id bigint primary key, a_id bigint)")
	n, _ := strconv.Atoi(q("SELECT coalesce(max(id), 0) FROM a")[0])
	fmt.Println("ready")
	parent := os.Getppid()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && os.Getppid() == parent; {
		n++
		q("BEGIN")
		q(fmt.Sprintf("INSERT INTO a VALUES (%d, '%s')", n, strings.Repeat("x", n%500)))
		q(fmt.Sprintf("INSERT INTO b VALUES (%d, %d)", n, n))
		fmt.Println("W", n)
		q("COMMIT")
		fmt.Println("K", n)
	}
}

// TestDoltCrash: a writer killed with SIGKILL at random points (WASQL_CRASH_ROUNDS rounds, 20
// by default; bench/crash.sh runs 100) loses no acknowledged COMMIT, and never leaves half of
// a transaction: a and b hold the same rows after every restart.
func TestDoltCrash(t *testing.T) {
	rounds := 20
	if s := os.Getenv("WASQL_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	ctx := context.Background()
	acked := map[int]bool{}
	commits := 0
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestDoltCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), doltCrashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		if !lines.Scan() || lines.Text() != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: the child did not start: %q", round, lines.Text())
		}
		killAt := time.Now().Add(time.Duration(20+rand.IntN(300)) * time.Millisecond)
		done := make(chan []string)
		go func() {
			var got []string
			for lines.Scan() {
				got = append(got, lines.Text())
			}
			done <- got
		}()
		time.Sleep(time.Until(killAt))
		cmd.Process.Kill()
		got := <-done
		cmd.Wait()
		inFlight := 0
		for _, l := range got {
			f := strings.Fields(l)
			if len(f) != 2 {
				t.Fatalf("round %d: the child said %q", round, l)
			}
			n, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "W":
				inFlight = n
			case "K":
				acked[n] = true
				inFlight = 0
				commits++
			}
		}

		e, err := Open(ctx, Config{DataDir: dir, UDF: udf.NewConfig(), Tables: TablesDolt})
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", round, err)
		}
		ids := func(table string) map[int]bool {
			_, rows, err := e.Query(e.NewContext(ctx), "SELECT id FROM "+table)
			if err != nil {
				t.Fatalf("round %d: %s: %v", round, table, err)
			}
			m := map[int]bool{}
			for _, r := range rows {
				m[int(r[0].(int64))] = true
			}
			return m
		}
		a, b := ids("a"), ids("b")
		for n := range acked {
			if !a[n] || !b[n] {
				t.Fatalf("round %d: acknowledged commit %d lost (in a: %v, in b: %v)", round, n, a[n], b[n])
			}
		}
		for n := range a {
			if !b[n] {
				t.Fatalf("round %d: row %d is in a but not in b: half a transaction", round, n)
			}
			if !acked[n] && n != inFlight {
				t.Fatalf("round %d: row %d was never committed", round, n)
			}
			acked[n] = true // a commit in flight that made it
		}
		if len(b) != len(a) {
			t.Fatalf("round %d: b has %d rows, a %d", round, len(b), len(a))
		}
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rounds, %d acknowledged commits, all present", rounds, commits)
	if commits == 0 {
		t.Fatal("no commit was acknowledged in any round")
	}
}
