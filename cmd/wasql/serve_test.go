package main

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(file, []byte("data_dir: /from/file\nmysql_addr: 127.0.0.1:4000\nusers: {app: pw}\npg_auth_timeout: 3s\nmysql_max_connections: 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WASQL_MYSQL_ADDR", "127.0.0.1:5000")
	t.Setenv("WASQL_PG_MAX_CONNECTIONS", "7")
	c, _, err := loadServeConfig([]string{"--config", file, "--data-dir", "/from/flag"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// flag > env > file > default
	if c.DataDir != "/from/flag" || c.MySQLAddr != "127.0.0.1:5000" || c.PGAddr != "127.0.0.1:5433" || c.Users["app"] != "pw" ||
		c.PGMaxConnections != 7 || c.PGAuthTimeout != 3*time.Second || c.LogLevel != "error" || c.MySQLMaxConnections != 9 {
		t.Fatalf("%+v", c)
	}
	if c, _, err := loadServeConfig(nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil || c.MySQLMaxConnections != 151 {
		t.Fatalf("default mysql_max_connections: %+v %v", c, err)
	}
	var out bytes.Buffer
	if _, help, err := loadServeConfig([]string{"--help"}, &out, &out); err != nil || !help || !bytes.Contains(out.Bytes(), []byte("--mysql-addr")) {
		t.Fatalf("help: %v %v %s", help, err, out.String())
	}
	if _, _, err := loadServeConfig([]string{"--config", filepath.Join(dir, "missing.yaml")}, &out, &out); err == nil {
		t.Fatal("a missing config file must be an error")
	}
}

// A typo in wasql.yaml is refused, naming the key and the known ones; before, mysql_adr was
// ignored and the default address used.
func TestServeConfigUnknownKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "wasql.yaml")
	if err := os.WriteFile(file, []byte("mysql_adr: 127.0.0.1:4000\ndata_dir: d\nusers: {app: pw}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := loadServeConfig([]string{"--config", file}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "unknown key mysql_adr") || !strings.Contains(err.Error(), "mysql_addr") {
		t.Fatalf("got %v, want an error naming mysql_adr and the known keys", err)
	}
	// The key is found in the working directory's wasql.yaml too.
	t.Chdir(filepath.Dir(file))
	if _, _, err := loadServeConfig(nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "mysql_adr") {
		t.Fatalf("wasql.yaml in the working directory: got %v", err)
	}
}

// The file's empty pg_addr disables the Postgres wire; log_level is read from the file.
func TestServeConfigFileValues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "wasql.yaml")
	if err := os.WriteFile(file, []byte("pg_addr: \"\"\nlog_level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err := loadServeConfig([]string{"--config", file}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.PGAddr != "" || c.LogLevel != "debug" || c.MySQLAddr != "127.0.0.1:3307" {
		t.Fatalf("%+v", c)
	}
}

func TestServeConfigEnv(t *testing.T) {
	t.Setenv("WASQL_PG_ADDR", "") // empty disables the Postgres wire, as the help says
	t.Setenv("WASQL_MYSQL_ADR", "127.0.0.1:1")
	t.Setenv("WASQL_LOG_LEVEL", "info")
	var warn bytes.Buffer
	c, _, err := loadServeConfig(nil, &bytes.Buffer{}, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if c.PGAddr != "" || c.LogLevel != "info" {
		t.Fatalf("%+v", c)
	}
	if !strings.Contains(warn.String(), "unknown environment variable WASQL_MYSQL_ADR") || !strings.Contains(warn.String(), "WASQL_MYSQL_ADDR") {
		t.Fatalf("warning: %q", warn.String())
	}
	for _, bad := range [][]string{{"--log-level", "loud"}, {"--data-dir", ""}, {"--mysql-addr", ""}, {"stray"}, {"--nope"}} {
		if _, _, err := loadServeConfig(bad, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("serve %q: want an error", bad)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs wasql serve with args until the test ends; it returns the MySQL address from
// the banner, the banner and what was logged.
func startServe(t *testing.T, args ...string) (addr string, out, logs *syncBuffer) {
	t.Helper()
	out, logs = &syncBuffer{}, &syncBuffer{}
	old := stderr
	stderr = logs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args = append([]string{"--data-dir", t.TempDir(), "--mysql-addr", "127.0.0.1:0", "--pg-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, args...)
	go func() { done <- serve(ctx, args, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		stderr = old
	})
	re := regexp.MustCompile(`MySQL wire on (\S+),`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(out.String(), "durable, in ") {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m[1], out, logs
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve ended: %v\n%s%s", err, out, logs)
		default:
		}
	}
	t.Fatalf("no banner:\n%s%s", out, logs)
	return
}

func query(t *testing.T, addr string) {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp("+addr+")/wasql")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1: %v %d", err, n)
	}
	if _, err := db.Exec("SELECT nope_nothing()"); err == nil {
		t.Fatal("an unknown function must fail")
	}
}

// By default the server prints its banner and nothing else: none of go-mysql-server's
// secure_file_priv warnings, per-connection lines or failed-query lines. --log-level info shows
// them.
func TestServeQuietByDefault(t *testing.T) {
	addr, out, logs := startServe(t)
	query(t, addr)
	if strings.Contains(out.String(), "not done") || !strings.Contains(out.String(), "Postgres wire on 127.0.0.1:") {
		t.Errorf("banner:\n%s", out)
	}
	// Scripts (and the integration tests) take the address as the word after "wire on".
	if m := regexp.MustCompile(`Postgres wire on (\S+)`).FindStringSubmatch(out.String()); m == nil {
		t.Errorf("no Postgres address in the banner:\n%s", out)
	} else if _, _, err := net.SplitHostPort(m[1]); err != nil {
		t.Errorf("Postgres address %q in the banner: %v", m[1], err)
	}
	time.Sleep(100 * time.Millisecond) // the server logs a closed connection after the client left
	if logs.String() != "" {
		t.Errorf("default log level logged:\n%s", logs)
	}
}

func TestServeLogLevelInfo(t *testing.T) {
	addr, _, logs := startServe(t, "--log-level", "info")
	query(t, addr)
	for _, want := range []string{"secure_file_priv", "NewConnection", "msg=\"wasql serve\" config_file=\"\" data_dir="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("--log-level info: no %q in\n%s", want, logs)
		}
	}
}
