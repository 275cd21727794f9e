// Command idleconns measures what idle Postgres-wire connections cost `wasql serve`: it starts
// the binary with one SCRAM user, reads the server's VmRSS (/proc/PID/status), opens n
// authenticated connections (each runs SELECT 1 once, then sits idle), and reads VmRSS again.
//
//	go build -o /tmp/wasql ./cmd/wasql && go run ./bench/idleconns -wasql /tmp/wasql -n 500
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func main() {
	bin := flag.String("wasql", "wasql", "the wasql binary")
	n := flag.Int("n", 500, "connections")
	flag.Parse()
	if err := run(*bin, *n); err != nil {
		log.Fatal(err)
	}
}

func run(bin string, n int) error {
	dir, err := os.MkdirTemp("", "idleconns")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(cfg, []byte("users: {bench: pw}\n"), 0o600); err != nil {
		return err
	}
	pgAddr, mysqlAddr := freeAddr(), freeAddr()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data"),
		"--pg-addr", pgAddr, "--mysql-addr", mysqlAddr)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	dsn := fmt.Sprintf("postgres://bench:pw@%s/wasql?sslmode=disable", pgAddr)
	ctx := context.Background()
	var first *pgconn.PgConn
	for deadline := time.Now().Add(30 * time.Second); ; {
		if first, err = pgconn.Connect(ctx, dsn); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server does not answer: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Exec(ctx, "SELECT 1").Close(); err != nil {
		return err
	}
	first.Close(ctx)
	time.Sleep(2 * time.Second)
	before, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	conns := make([]*pgconn.PgConn, 0, n)
	start := time.Now()
	for range n {
		c, err := pgconn.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("connection %d: %w", len(conns)+1, err)
		}
		if err := c.Exec(ctx, "SELECT 1").Close(); err != nil {
			return err
		}
		conns = append(conns, c)
	}
	took := time.Since(start)
	time.Sleep(2 * time.Second)
	after, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("%d idle authenticated connections (opened in %v): VmRSS %d KiB before, %d KiB after: +%d KiB, %.1f KiB per connection\n",
		n, took.Round(time.Millisecond), before, after, after-before, float64(after-before)/float64(n))
	for _, c := range conns {
		c.Close(ctx)
	}
	return nil
}

// rss reads VmRSS, in KiB, from /proc/pid/status.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
