//go:build integration

// Package integration runs wasql as a user does: the real binary, real clients (the MariaDB
// command-line client, go-sql-driver/mysql), on loopback ports. Run with
//
//	go test -tags integration ./integration/
package integration

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

var wasqlBin string

// atExit are run, last first, when the tests end: they stop what tests share (proxy_test.go's
// upstream PostgreSQL and proxy).
var atExit []func()

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasql-bin")
	if err != nil {
		panic(err)
	}
	wasqlBin = filepath.Join(dir, "wasql")
	build := exec.Command("go", "build", "-o", wasqlBin, "../cmd/wasql")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build wasql: " + err.Error())
	}
	code := m.Run()
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `wasql serve`.
type server struct {
	cmd            *exec.Cmd
	addr           string // host:port of the MySQL wire
	host, port     string
	pgHost, pgPort string // the Postgres wire
	out            *strings.Builder
}

var (
	listening   = regexp.MustCompile(`MySQL wire on (\S+),`)
	pgListening = regexp.MustCompile(`Postgres wire on (\S+)`)
)

// startServer runs wasql serve with dataDir, both wires on free loopback ports, and waits until
// it reports both.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--mysql-addr", "127.0.0.1:0", "--pg-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, extra...)
	s, err := launch(exec.Command(wasqlBin, args...), func(s *server, line string) bool {
		if m := listening.FindStringSubmatch(line); m != nil {
			s.addr = m[1]
			s.host, s.port, _ = strings.Cut(s.addr, ":")
		}
		s.pgWire(line)
		return s.addr != "" && s.pgPort != ""
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// launch starts cmd (a wasql serve) and reads what it prints, giving each line to ready, until
// ready says the server is up; then the rest of its output is discarded. A server that stops
// first, or is not up in 30 s, is an error with what it logged.
func launch(cmd *exec.Cmd, ready func(s *server, line string) bool) (*server, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, out: &strings.Builder{}}
	cmd.Stderr = &lockedWriter{w: s.out}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				return nil, fmt.Errorf("%s stopped before it was up: %s", cmd, s.out)
			}
			if ready(s, line) {
				go func() {
					for range lines {
					}
				}()
				return s, nil
			}
		case <-timeout:
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("%s was not up after 30 s: %s", cmd, s.out)
		}
	}
}

// pgWire records the Postgres wire's address if line reports it.
func (s *server) pgWire(line string) {
	if m := pgListening.FindStringSubmatch(line); m != nil {
		s.pgHost, s.pgPort, _ = strings.Cut(m[1], ":")
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("wasql serve exited with %v: %s", err, s.out)
		}
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("wasql serve did not stop on SIGTERM")
	}
}

// mariadb runs the MariaDB command-line client with script on stdin.
func (s *server) mariadb(t *testing.T, script string, extra ...string) (string, error) {
	t.Helper()
	args := append([]string{"-h", s.host, "-P", s.port, "-u", "root", "--skip-ssl", "--batch"}, extra...)
	cmd := exec.Command("mariadb", args...)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *server) db(t *testing.T, user, pass string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/wasql?interpolateParams=true", user, pass, s.addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func moduleHex(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("X'%x'", b)
}

func module(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
