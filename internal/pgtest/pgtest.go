// Package pgtest starts a real PostgreSQL 15 server for tests: one server per test binary, in a
// temporary directory, on a free loopback port, and a fresh empty database for each test.
//
// initdb takes seconds, CREATE DATABASE a fraction of one, so a package's tests share the server
// and never each other's data. A package whose tests call Start runs them through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Main stops the server when the tests end. Without Main, Start starts a server for the calling
// test alone and stops it at the test's cleanup.
//
// The server runs as the user postgres when the tests run as root (initdb refuses root), with
// trust authentication for the superuser "root", fsync off and TimeZone UTC. Tests needing it
// skip, saying how to install it, only when the PostgreSQL 15 binaries are absent.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bin is where the PostgreSQL 15 server binaries are looked for.
const Bin = "/usr/lib/postgresql/15/bin"

// Server is a running PostgreSQL server.
type Server struct {
	dir, data string
	url       string // of the database postgres, with %s for another database's name
	stopOnce  sync.Once
}

var (
	mainMu     sync.Mutex
	inMain     bool
	shared     *Server
	sharedErr  error
	databaseID atomic.Int64
)

// Main runs the package's tests (m.Run) and then stops the server Start started, if any. It
// returns m.Run's exit code.
func Main(m *testing.M) int {
	mainMu.Lock()
	inMain = true
	mainMu.Unlock()
	code := m.Run()
	mainMu.Lock()
	defer mainMu.Unlock()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Start returns the URL (postgres://root@127.0.0.1:port/name?sslmode=disable) of a new, empty
// database, dropped at t's cleanup. It skips t if PostgreSQL 15 is not installed.
func Start(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(Bin, "initdb")); err != nil {
		t.Skipf("PostgreSQL 15 is needed for this test (%s/initdb: %v): apt-get install -y postgresql-15", Bin, err)
	}
	mainMu.Lock()
	var srv *Server
	if inMain {
		if shared == nil && sharedErr == nil {
			shared, sharedErr = StartServer()
		}
		srv = shared
		if sharedErr != nil {
			mainMu.Unlock()
			t.Fatalf("start PostgreSQL: %v", sharedErr)
		}
	}
	mainMu.Unlock()
	if srv == nil {
		var err error
		if srv, err = StartServer(); err != nil {
			t.Fatalf("start PostgreSQL: %v", err)
		}
		t.Cleanup(srv.Stop)
	}
	name := fmt.Sprintf("test_%d", databaseID.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return srv.URL(name)
}

// StartServer initializes a cluster in a new temporary directory and starts it on a free
// loopback port. The caller stops it with Stop.
func StartServer() (*Server, error) {
	dir, err := os.MkdirTemp("", "wasql-pgtest")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, data: filepath.Join(dir, "data")}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			return fail(fmt.Errorf("chown postgres %s: %v: %s", dir, err, out))
		}
	}
	if out, err := command("initdb", "-D", s.data, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "root", "-N").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c TimeZone=UTC -c max_connections=200", port, dir)
	if out, err := command("pg_ctl", "-D", s.data, "-l", filepath.Join(dir, "log"), "-o", opts, "-t", "60", "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fail(fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log))
	}
	s.url = fmt.Sprintf("postgres://root@127.0.0.1:%d/%%s?sslmode=disable", port)
	return s, nil
}

// URL returns the URL of the named database on s.
func (s *Server) URL(database string) string { return fmt.Sprintf(s.url, database) }

// Exec runs sql in the database postgres.
func (s *Server) Exec(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql)
	return err
}

// Stop stops the server (immediate shutdown) and removes its directory. Calling it again does
// nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		command("pg_ctl", "-D", s.data, "-m", "immediate", "-t", "30", "-w", "stop").Run()
		os.RemoveAll(s.dir)
	})
}

// command runs a PostgreSQL binary, as the user postgres when running as root.
func command(name string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command(filepath.Join(Bin, name), args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(Bin, name)}, args...)...)
}
