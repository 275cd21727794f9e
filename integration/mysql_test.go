//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestMariaDBClient drives wasql with the mariadb command-line client.
func TestMariaDBClient(t *testing.T) {
	if _, err := exec.LookPath("mariadb"); err != nil {
		t.Fatal("the mariadb client is needed: apt-get install -y mariadb-client")
	}
	s := startServer(t, t.TempDir())
	out, err := s.mariadb(t, `
CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE AS `+moduleHex(t, "udf/testdata/numeric.wasm")+`, 'add';
CREATE FUNCTION slugify(text) RETURNS text LANGUAGE wasm AS `+moduleHex(t, "udf/testdata/guests/c_funcs.wasm")+`;
CREATE TABLE t (id bigint primary key, a bigint, b bigint, s text);
INSERT INTO t VALUES (1, 1, 2, 'Hello, World!'), (2, 40, 2, 'WebAssembly in SQL'), (3, NULL, 1, NULL);
SELECT id, plus(a, b), slugify(s) FROM t ORDER BY id;
SELECT sum(plus(a, b)) FROM t WHERE plus(a, 0) > 0;
`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "id\tplus(a, b)\tslugify(s)\n1\t3\thello-world\n2\t42\twebassembly-in-sql\n3\tNULL\tNULL\nsum(plus(a, b))\n45\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	out, err = s.mariadb(t, "SELECT plus('a', 'b', 'c');")
	if err == nil || !strings.Contains(out, "ERROR 1305 (42883)") || !strings.Contains(out, "function plus(unknown, unknown, unknown) does not exist") {
		t.Fatalf("unknown overload: %v %s", err, out)
	}
	out, err = s.mariadb(t, "CREATE FUNCTION bad(bigint) RETURNS bigint LANGUAGE wasm AS "+moduleHex(t, "udf/testdata/bad_import.wasm")+", 'f';")
	if err == nil || !strings.Contains(out, "(42P13)") || !strings.Contains(out, "env.launch_missiles") {
		t.Fatalf("bad module: %v %s", err, out)
	}
	out, err = s.mariadb(t, "EXPLAIN FORMAT=TREE SELECT plus(a, b) FROM t;")
	if err != nil || !strings.Contains(out, "WasmBatchEval") {
		t.Fatalf("EXPLAIN does not show the batch node: %v %s", err, out)
	}
}

// TestGoDriver uses go-sql-driver/mysql: the module as a bound parameter, queries with
// arguments, concurrent clients.
func TestGoDriver(t *testing.T) {
	s := startServer(t, t.TempDir())
	db := s.db(t, "root", "")
	if _, err := db.Exec("CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", module(t, "udf/testdata/numeric.wasm")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (id bigint primary key, v bigint)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				id := g*1000 + i
				if _, err := db.Exec("INSERT INTO t VALUES (?, ?)", id, i); err != nil {
					errs <- err
					return
				}
				var got int64
				if err := db.QueryRow("SELECT plus(v, ?) FROM t WHERE id = ?", 100, id).Scan(&got); err != nil || got != int64(i+100) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n, sum int64
	if err := db.QueryRow("SELECT count(*), sum(plus(v, 1)) FROM t").Scan(&n, &sum); err != nil || n != 200 || sum != 8*(300+25) {
		t.Fatalf("count %d sum %d: %v", n, sum, err)
	}
}

// TestRestart: functions survive a restart; tables are in memory and do not.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	db := s.db(t, "root", "")
	if _, err := db.Exec("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", module(t, "udf/testdata/numeric.wasm")); err != nil {
		t.Fatal(err)
	}
	s.stop(t)
	s = startServer(t, dir)
	var got int64
	if err := s.db(t, "root", "").QueryRow("SELECT plus(40, 2)").Scan(&got); err != nil || got != 42 {
		t.Fatalf("after restart: %d %v", got, err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "compiled", "*")); len(entries) == 0 {
		t.Fatal("no compiled-code cache in the data directory")
	}
}

// TestRefusesNonLoopbackWithoutUsers: serving beyond loopback needs users.
func TestRefusesNonLoopbackWithoutUsers(t *testing.T) {
	out, err := exec.Command(wasqlBin, "serve", "--data-dir", t.TempDir(), "--mysql-addr", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refusing to listen on 0.0.0.0:0 without users") {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestPrivileges: with users configured, CREATE FUNCTION needs the CREATE ROUTINE privilege.
func TestPrivileges(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n  admin: s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	if _, err := s.db(t, "admin", "wrong").Exec("SELECT 1"); err == nil || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("wrong password: %v", err)
	}
	admin := s.db(t, "admin", "s3cret")
	for _, q := range []string{"CREATE USER reader@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON *.* TO reader@'%'"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mod := module(t, "udf/testdata/numeric.wasm")
	_, err := s.db(t, "reader", "pw").Exec("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", mod)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "denied") {
		t.Fatalf("reader created a function: %v", err)
	}
	if _, err := admin.Exec("CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'", mod); err != nil {
		t.Fatal(err)
	}
	var got int64
	if err := s.db(t, "reader", "pw").QueryRow("SELECT plus(1, 2)").Scan(&got); err != nil || got != 3 {
		t.Fatalf("reader calls plus: %d %v", got, err)
	}
}
