// Command idleconns measures what idle Postgres-wire connections cost `wasql serve`: it starts
// the binary with one SCRAM user, reads the server's VmRSS (/proc/PID/status), opens n
// authenticated connections (each runs SELECT 1 once, then sits idle), and reads VmRSS again.
// With -hostile it then opens n unauthenticated connections that each declare a 64 MiB SASL
// message and withhold it, and n that send one byte of a startup message and stall, reads
// VmRSS, and counts how many the server still holds open after its authentication timeout.
//
//	go build -o /tmp/wasql ./cmd/wasql && go run ./bench/idleconns -wasql /tmp/wasql -n 500 -hostile
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/procmem"
	"github.com/wasql/wasql/proxy"
)

func main() {
	bin := flag.String("wasql", "wasql", "the wasql binary")
	n := flag.Int("n", 500, "connections")
	hostile := flag.Bool("hostile", false, "also measure unauthenticated clients that withhold messages")
	flag.Parse()
	if err := run(*bin, *n, *hostile); err != nil {
		log.Fatal(err)
	}
}

func run(bin string, n int, hostile bool) error {
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
		"--pg-addr", pgAddr, "--mysql-addr", mysqlAddr, "--metrics-addr", "")
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
	if hostile {
		return withhold(cmd.Process.Pid, pgAddr, n)
	}
	return nil
}

// withhold opens n connections that declare a 64 MiB SASL message and send none of it, and n
// that stall in their startup message; it reports the server's VmRSS and, after the default
// authentication timeout (10 s) and a second, how many of them the server still holds.
func withhold(pid int, addr string, n int) error {
	time.Sleep(2 * time.Second)
	before, err := rss(pid)
	if err != nil {
		return err
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 2 * n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		conns = append(conns, nc)
		if i%2 == 1 { // slow: one byte of a startup message
			nc.Write([]byte{0})
			continue
		}
		fe := pgproto3.NewFrontend(nc, nc)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "bench"}})
		fe.Flush()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := fe.Receive(); err != nil { // AuthenticationSASL
			return fmt.Errorf("hostile connection %d: %w", i, err)
		}
		nc.Write([]byte{'p', 0x04, 0, 0, 4, 'S'}) // a 64 MiB SASLInitialResponse, first byte only
	}
	time.Sleep(2 * time.Second)
	during, err := rss(pid)
	if err != nil {
		return err
	}
	time.Sleep(proxy.DefaultAuthTimeout)
	open := 0
	for _, nc := range conns {
		nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		buf := make([]byte, 1024)
		for {
			if _, err := nc.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					open++
				}
				break
			}
		}
	}
	fmt.Printf("%d withheld 64 MiB SASL messages and %d stalled startups: VmRSS %d KiB before, %d KiB with them; %d of %d still open %v later\n",
		n, n, before, during, open, 2*n, proxy.DefaultAuthTimeout+2*time.Second)
	return nil
}

// rss reads VmRSS, in KiB.
func rss(pid int) (int64, error) {
	b, err := procmem.VmRSS(pid)
	return b >> 10, err
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
