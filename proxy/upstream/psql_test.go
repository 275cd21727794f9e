package upstream

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPsql runs a psql script (\copy both ways, \d, errors, a notice) against PostgreSQL and
// through the proxy and compares what psql prints.
func TestPsql(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is needed for this test: apt-get install -y postgresql-client-15")
	}
	b, err := New(Config{URL: pgURL(t, "root"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	proxied := serve(t, b, false, true)
	dir := t.TempDir()
	data := filepath.Join(dir, "in.tsv")
	if err := os.WriteFile(data, []byte("1\tone\n2\ttwo\n3\t\\N\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `CREATE TABLE psql_t (a int PRIMARY KEY, b text);
\copy psql_t from '` + data + `'
\copy psql_t to stdout
\copy (SELECT a, b FROM psql_t ORDER BY a DESC) to stdout with (format csv, header)
SELECT * FROM psql_t ORDER BY a;
\d psql_t
\d+ psql_t
\dt psql_*
INSERT INTO psql_t VALUES (1, 'dup');
DO $$BEGIN RAISE NOTICE 'note %', 1; END$$;
BEGIN;
SELECT 1/0;
SELECT 1;
ROLLBACK;
\df+ pg_catalog.abs
DROP TABLE psql_t;
`
	file := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command("psql", "-X", "-h", host, "-p", port, "-U", "root", "-d", "postgres", "-f", file)
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	direct, through := run(pgAddr()), run(proxied)
	if direct != through {
		t.Fatalf("psql prints differently\ndirect:\n%s\nproxied:\n%s", direct, through)
	}
	t.Logf("psql:\n%s", direct)
}
