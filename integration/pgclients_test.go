//go:build integration

package integration

// Real Postgres clients against `wasql serve`'s Postgres wire: psycopg2, psycopg 3,
// node-postgres, pgjdbc and psql. Each client program lives in clients/ and prints one line per
// check, "ok - NAME" or "FAIL - NAME: why", then "N passed, N failed". A failed check is a test
// error unless pgKnownGaps lists it (then the test is skipped with the gap as the reason); a listed
// gap whose check passes is an error too, so the list stays true.
//
// Needs: apt-get install -y python3-psycopg2 python3-psycopg libpostgresql-jdbc-java postgresql-client
// (plus a JDK: default-jdk-headless) and (cd integration/clients/node && npm ci).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// pgKnownGaps are the checks that fail because the server lacks something, by client and check
// name, with what the server does wrong. Delete an entry once its check passes.
var pgKnownGaps = map[string]map[string]string{}

// env is the environment for a client: libpq's variables pointing at the server.
func (s *server) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	repo, _ := filepath.Abs("..")
	return append(env, "PGHOST="+s.pgHost, "PGPORT="+s.pgPort, "PGUSER=root", "PGDATABASE=wasql",
		"PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10", "WASQL_REPO="+repo)
}

// need fails the test when a tool is missing, saying what to install.
func need(t *testing.T, tool, install string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is needed for this test: %s", tool, install)
	}
	return p
}

// pythonWith finds a python3 that can import mod: the one on PATH, else Debian's, where the
// python3-* packages install.
func pythonWith(t *testing.T, mod, install string) string {
	t.Helper()
	var tried []string
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		out, err := exec.Command(p, "-c", "import "+mod).CombinedOutput()
		if err == nil {
			return p
		}
		tried = append(tried, fmt.Sprintf("%s: %s", p, strings.TrimSpace(string(out))))
	}
	t.Fatalf("no python3 can import %s (%s): %s", mod, strings.Join(tried, "; "), install)
	return ""
}

// runClient runs a client program and judges its check lines against pgKnownGaps[client].
func runClient(t *testing.T, client string, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env, c.Dir = cmd.Env, cmd.Dir
	var stderr strings.Builder
	c.Stderr = &stderr
	stdout, err := c.Output()
	out := string(stdout)
	t.Logf("%s output:\n%s%s", client, out, stderr.String())

	gaps := pgKnownGaps[client]
	seen := map[string]bool{}
	var known []string
	summary := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "ok - "):
			name := strings.TrimPrefix(line, "ok - ")
			seen[name] = true
			if _, listed := gaps[name]; listed {
				t.Errorf("%s: check %s passes now: delete it from pgKnownGaps in pgclients_test.go", client, name)
			}
		case strings.HasPrefix(line, "FAIL - "):
			name, detail, _ := strings.Cut(strings.TrimPrefix(line, "FAIL - "), ": ")
			seen[name] = true
			if gap, listed := gaps[name]; listed {
				known = append(known, fmt.Sprintf("%s (client said: %s) -- %s", name, detail, gap))
			} else {
				t.Errorf("%s: check %s failed: %s", client, name, detail)
			}
		case regexp.MustCompile(`^\d+ passed, \d+ failed$`).MatchString(line):
			summary = true
		}
	}
	if !summary || err != nil && len(known) == 0 && !t.Failed() {
		t.Errorf("%s did not finish its checks (%v):\n%s%s", client, err, out, stderr.String())
	}
	if t.Failed() {
		return
	}
	var missing []string
	for name := range gaps {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s: pgKnownGaps lists checks the client did not run: %v", client, missing)
	}
	if len(known) > 0 {
		t.Skipf("blocked by known server gaps (every other check passed):\n  %s", strings.Join(known, "\n  "))
	}
}

func TestPGPsycopg2(t *testing.T) {
	py := pythonWith(t, "psycopg2", "apt-get install -y python3-psycopg2")
	s := startServer(t, t.TempDir())
	cmd := exec.Command(py, "clients/psycopg2_test.py")
	cmd.Env = s.env()
	runClient(t, "psycopg2", cmd)
}

func TestPGPsycopg3(t *testing.T) {
	py := pythonWith(t, "psycopg", "apt-get install -y python3-psycopg")
	s := startServer(t, t.TempDir())
	cmd := exec.Command(py, "clients/psycopg3_test.py")
	cmd.Env = s.env()
	runClient(t, "psycopg3", cmd)
}

func TestPGNode(t *testing.T) {
	node := need(t, "node", "apt-get install -y nodejs npm")
	if _, err := os.Stat("clients/node/node_modules/pg/package.json"); err != nil {
		t.Fatalf("node-postgres is not installed: (cd integration/clients/node && npm ci)")
	}
	s := startServer(t, t.TempDir())
	cmd := exec.Command(node, "clients/node/pg_test.js")
	cmd.Env = s.env()
	runClient(t, "node", cmd)
}

func TestPGJDBC(t *testing.T) {
	javac := need(t, "javac", "apt-get install -y default-jdk-headless")
	java := need(t, "java", "apt-get install -y default-jdk-headless")
	const jar = "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("pgjdbc is needed (%s): apt-get install -y libpostgresql-jdbc-java", jar)
	}
	classes := t.TempDir()
	if out, err := exec.Command(javac, "-cp", jar, "-d", classes, "clients/jdbc/PgJdbcTest.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	s := startServer(t, t.TempDir())
	cmd := exec.Command(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classes+string(os.PathListSeparator)+jar, "PgJdbcTest")
	cmd.Env = s.env()
	runClient(t, "jdbc", cmd)
}

// psqlWant is psql's output for clients/psql_test.sql, less the line with the SQLSTATE of the
// unknown function (checked on its own).
const psqlWant = `== create
== insert
3
== select
1|3|hello-world
2|42|webassembly-in-sql
3|NULL|NULL
2|42
42|n-code-text
== aggregate
45|2
== unknown function
== after the error
42
== copy
4|2|tab	here
5|NULL|NULL
3|60|2
4
11
NULL
1,"a, b"
2,"line1
line2"
3,
`

// TestPGPsql runs clients/psql_test.sql: modules from psql variables (\set m ` + "`base64 ...`" + `,
// AS :'m'), the simple query protocol throughout.
func TestPGPsql(t *testing.T) {
	psql := need(t, "psql", "apt-get install -y postgresql-client")
	for _, tool := range []string{"base64", "od"} {
		need(t, tool, "apt-get install -y coreutils")
	}
	s := startServer(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	uid := fmt.Sprint(os.Getpid())
	cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "uid="+uid,
		"-f", "integration/clients/psql_test.sql")
	cmd.Env, cmd.Dir = s.env(), ".."
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	t.Logf("psql output:\n%s%s", stdout, stderr.String())
	if err != nil {
		t.Fatalf("psql: %v\n%s%s", err, stdout, stderr.String())
	}
	var got strings.Builder
	sqlstate := ""
	for _, line := range strings.SplitAfter(string(stdout), "\n") {
		if v, ok := strings.CutPrefix(line, "sqlstate "); ok {
			sqlstate = strings.TrimSpace(v)
			continue
		}
		got.WriteString(line)
	}
	if got.String() != psqlWant {
		t.Errorf("psql printed\n%s\nwant\n%s", got.String(), psqlWant)
	}
	if len(sqlstate) != 5 || sqlstate == "XX000" {
		t.Errorf("unknown function: SQLSTATE %q, want a 5-character code other than XX000", sqlstate)
	}
	errs := strings.TrimSpace(stderr.String())
	if strings.Count(errs, "ERROR:") != 1 || !strings.Contains(errs, "no_such_function_"+uid) {
		t.Errorf("psql's errors: want only the unknown function's, got:\n%s", errs)
	}
}
