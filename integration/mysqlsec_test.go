//go:build integration

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// withUsers writes a wasql.yaml with users and returns the flags that use it.
func withUsers(t *testing.T, dir, users string) []string {
	t.Helper()
	cfg := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n"+users), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", cfg}
}

// TestMySQLDescriptorExhaustion: 300 connections against a server limited to 256 descriptors:
// the server refuses what it cannot take (1040) or lets it wait, and goes on serving; it never
// exits on "too many open files". Run twice: with the default connection limit (151, which fits
// the descriptors) and with a limit above the descriptors, so that accept itself fails.
func TestMySQLDescriptorExhaustion(t *testing.T) {
	script := filepath.Join(t.TempDir(), "wasql-256")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nulimit -n 256\nexec "+wasqlBin+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []string{"151", "1000"} {
		t.Run("mysql_max_connections="+limit, func(t *testing.T) {
			real := wasqlBin
			wasqlBin = script
			s := startServer(t, t.TempDir(), "--mysql-max-connections", limit)
			wasqlBin = real
			dsn := fmt.Sprintf("root@tcp(%s)/wasql?timeout=3s&readTimeout=3s", s.addr)
			db, err := sql.Open("mysql", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxIdleConns(300)
			var mu sync.Mutex
			var conns []*sql.Conn
			counts := map[string]int{}
			var wg sync.WaitGroup
			for range 300 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					c, err := db.Conn(ctx)
					if err == nil {
						err = c.PingContext(ctx)
					}
					var me *mysql.MySQLError
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						counts["served"]++
						conns = append(conns, c)
					case errors.As(err, &me) && me.Number == 1040:
						counts["refused with 1040"]++
					default:
						counts["failed otherwise (waited)"]++
					}
				}()
			}
			wg.Wait()
			t.Logf("mysql_max_connections %s, 256 descriptors, 300 clients at once: %v", limit, counts)
			if limit == "151" && (counts["served"] != 151 || counts["refused with 1040"] != 149) {
				t.Errorf("want 151 served, 149 refused with 1040")
			}
			for _, c := range conns {
				c.Close()
			}
			db.Close() // the pool keeps connections its callers closed
			if s.cmd.ProcessState != nil {
				t.Fatalf("wasql serve exited: %s", s.out)
			}
			if emfile := strings.Count(s.out.String(), "too many open files"); limit == "1000" && emfile == 0 {
				t.Errorf("accept never ran out of descriptors: the test did not test it")
			} else {
				t.Logf("accept failed with too many open files %d times, and was retried", emfile)
			}
			if db, err = sql.Open("mysql", dsn); err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			deadline := time.Now().Add(10 * time.Second)
			for err = db.Ping(); err != nil && time.Now().Before(deadline); err = db.Ping() {
				time.Sleep(100 * time.Millisecond)
			}
			var one int
			if err != nil || db.QueryRow("SELECT 1").Scan(&one) != nil || one != 1 {
				t.Fatalf("after the 300 connections: %v: %s", err, s.out)
			}
		})
	}
}

// TestMySQLAccessDenied: an unknown user, a wrong password and no password get the same 1045, from
// the mariadb client and go-sql-driver/mysql.
func TestMySQLAccessDenied(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"), withUsers(t, dir, "  admin: s3cret\n")...)
	for _, tc := range []struct{ user, pass, using string }{
		{"nobody", "pw", "YES"}, {"admin", "wrong", "YES"}, {"admin", "", "NO"}, {"nobody", "", "NO"},
	} {
		want := fmt.Sprintf("Access denied for user '%s'@'127.0.0.1' (using password: %s)", tc.user, tc.using)
		err := s.db(t, tc.user, tc.pass).Ping()
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1045 || me.Message != want {
			t.Errorf("go driver %s/%q: %v, want 1045 %s", tc.user, tc.pass, err, want)
		}
		args := []string{"-h", s.host, "-P", s.port, "-u", tc.user, "--skip-ssl", "-e", "SELECT 1"}
		if tc.pass != "" {
			args = append(args, "-p"+tc.pass)
		}
		out, _ := exec.Command("mariadb", args...).CombinedOutput()
		if !strings.Contains(string(out), "ERROR 1045 (28000): "+want) {
			t.Errorf("mariadb %s/%q: %s", tc.user, tc.pass, out)
		}
	}
}

// TestMySQLHostFiles: a user holding only SELECT, and the superuser, read no host file (the
// config with the passwords among them) and write none into the data directory.
func TestMySQLHostFiles(t *testing.T) {
	dir := t.TempDir()
	flags := withUsers(t, dir, "  admin: s3cret\n")
	data := filepath.Join(dir, "data")
	s := startServer(t, data, flags...)
	admin := s.db(t, "admin", "s3cret")
	for _, q := range []string{"CREATE USER reader@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON *.* TO reader@'%'"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, user := range []string{"reader", "admin"} {
		pass := map[string]string{"reader": "pw", "admin": "s3cret"}[user]
		for _, q := range []string{
			"SELECT LOAD_FILE('" + flags[1] + "')",
			"SELECT LOAD_FILE('" + filepath.Join(data, "users.db") + "')",
			"SELECT load_file(0x2f)",
			"SELECT 'x' INTO OUTFILE '" + filepath.Join(data, "out-"+user) + "'",
			"SELECT 'x' INTO DUMPFILE '" + filepath.Join(data, "dump-"+user) + "'",
		} {
			args := []string{"-h", s.host, "-P", s.port, "-u", user, "-p" + pass, "--skip-ssl", "-e", q}
			out, _ := exec.Command("mariadb", args...).CombinedOutput()
			if !strings.Contains(string(out), "ERROR 1290 (42000)") || strings.Contains(string(out), "s3cret") {
				t.Errorf("%s: %s: %s", user, q, out)
			}
		}
	}
	for _, f := range []string{"out-reader", "dump-reader", "out-admin", "dump-admin"} {
		if _, err := os.Stat(filepath.Join(data, f)); !os.IsNotExist(err) {
			t.Errorf("%s was written: %v", f, err)
		}
	}
}

// TestMySQLFunctionOwners: two users made with CREATE USER and GRANT CREATE ROUTINE: neither
// replaces nor drops the other's function (1370, 42000); each does so with their own.
func TestMySQLFunctionOwners(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"), withUsers(t, dir, "  admin: s3cret\n")...)
	admin := s.db(t, "admin", "s3cret")
	for _, q := range []string{
		"CREATE USER alice@'%' IDENTIFIED BY 'a'", "GRANT CREATE ROUTINE, SELECT ON *.* TO alice@'%'",
		"CREATE USER bob@'%' IDENTIFIED BY 'b'", "GRANT CREATE ROUTINE, SELECT ON *.* TO bob@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mod := module(t, "udf/testdata/numeric.wasm")
	alice, bob := s.db(t, "alice", "a"), s.db(t, "bob", "b")
	if _, err := alice.Exec("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", mod); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE OR REPLACE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'div'", "DROP FUNCTION plus"} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, mod)
		}
		_, err := bob.Exec(q, args...)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1370 || string(me.SQLState[:]) != "42000" {
			t.Errorf("bob: %s: %v, want 1370 (42000)", q, err)
		}
	}
	out, err := s.mariadbAs(t, "bob", "b", "DROP FUNCTION plus;")
	if err == nil || !strings.Contains(out, "ERROR 1370 (42000)") {
		t.Errorf("mariadb as bob: %v %s", err, out)
	}
	var got int64
	if err := bob.QueryRow("SELECT plus(40, 2)").Scan(&got); err != nil || got != 42 {
		t.Fatalf("alice's function after bob's attempts: %d %v", got, err)
	}
	s.stop(t) // the owner survives a restart
	s = startServer(t, filepath.Join(dir, "data"), withUsers(t, dir, "  admin: s3cret\n")...)
	if _, err := s.db(t, "bob", "b").Exec("DROP FUNCTION plus"); err == nil {
		t.Fatal("bob dropped alice's function after a restart")
	}
	if _, err := s.db(t, "alice", "a").Exec("DROP FUNCTION plus"); err != nil {
		t.Fatalf("alice drops her function after a restart: %v", err)
	}
}

func (s *server) mariadbAs(t *testing.T, user, pass, script string) (string, error) {
	t.Helper()
	cmd := exec.Command("mariadb", "-h", s.host, "-P", s.port, "-u", user, "-p"+pass, "--skip-ssl", "--batch", "wasql")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
