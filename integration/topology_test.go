//go:build integration

package integration

// Many proxies (issue 10, items 5 and 6): scripts/proxy-topology.sh starts PostgreSQL 15 and two
// `wasql serve --upstream` proxies on the same database, as docker-compose.yml does with Docker
// (TestComposeMatchesTopology keeps the two equal). The TestTopology tests check what the
// catalog in PostgreSQL promises: a function created through one proxy is known through the
// other, also when the notification was lost; two proxies replacing one function at the same
// moment end on one version; one proxy killed does not disturb the other's clients.
//
// Whether a proxy knows a function is read from a call: `SELECT f(1, 2)` through a proxy that
// knows f is its result, through one that does not it goes upstream, where PostgreSQL answers
// 42883 (the stub is in schema wasql, not on the search path).

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.yaml.in/yaml/v3"
)

const topologyScript = "../scripts/proxy-topology.sh"

// The topology's user, password and database (scripts/proxy-topology.sh, docker-compose.yml).
const topologyUser, topologyPassword, topologyDB = "wasql", "wasql", "wasql"

// topology is a running scripts/proxy-topology.sh.
type topology struct {
	dir  string
	addr map[string]string // service name → 127.0.0.1:port
}

// startTopology runs `proxy-topology.sh start` in a new directory, with the binary TestMain
// built, and stops it at t's cleanup (the logs are printed if t failed).
func startTopology(t *testing.T) *topology {
	t.Helper()
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/initdb"); err != nil {
		t.Skipf("PostgreSQL 15 is needed for this test: apt-get install -y postgresql-15")
	}
	need(t, "psql", "apt-get install -y postgresql-client")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, topologyScript, "start", dir)
	cmd.Env = append(os.Environ(), "TOPOLOGY_WASQL_BIN="+wasqlBin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	tp := &topology{dir: dir, addr: map[string]string{}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, topologyScript, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("proxy-topology.sh stop: %v\n%s", err, out)
		}
		if t.Failed() {
			for _, name := range []string{"wasql1/log", "wasql2/log", "postgres.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				t.Logf("--- %s:\n%s", name, tail(string(b), 60))
			}
		}
	})
	if err != nil {
		t.Fatalf("proxy-topology.sh start: %v\n%s%s", err, out, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, addr, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("proxy-topology.sh start printed %q, want NAME HOST:PORT lines", out)
		}
		tp.addr[name] = addr
	}
	for _, name := range []string{"postgres", "wasql1", "wasql2"} {
		if tp.addr[name] == "" {
			t.Fatalf("proxy-topology.sh start printed no address for %s: %q", name, out)
		}
	}
	return tp
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// url is the URL of service (postgres, wasql1 or wasql2) for the topology's user.
func (tp *topology) url(service string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&connect_timeout=10", topologyUser, topologyPassword, tp.addr[service], topologyDB)
}

func (tp *topology) connect(t *testing.T, service string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, tp.url(service))
	if err != nil {
		t.Fatalf("connect to %s: %v", service, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// pid is the process id the script recorded for service.
func (tp *topology) pid(t *testing.T, service string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tp.dir, service, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// knows reports whether the proxy behind c has the wasm function name(bigint, bigint): a call
// is answered by wasql rather than by PostgreSQL (42883, or the stub's 0A000 where schema wasql
// is on the search path). Any other answer fails the test.
func knows(t *testing.T, c *pgx.Conn, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	err := c.QueryRow(ctx, "SELECT "+name+"(6::bigint, 3::bigint)").Scan(&n)
	switch code := sqlState(err); {
	case err == nil:
		return true
	case code == "42883":
		return false
	case code == "0A000" && strings.Contains(err.Error(), "call it through wasql"):
		return false // PostgreSQL ran the stub (the role wasql has schema wasql on its search path)
	default:
		t.Fatalf("SELECT %s(6, 3): %v", name, err)
		return false
	}
}

// waitKnows polls c until knows(name) is want, for 10 s at most, and returns how long it took.
func waitKnows(t *testing.T, c *pgx.Conn, name string, want bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if knows(t, c, name) == want {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("after 10 s, knows(%s) is still %v", name, !want)
	return 0
}

// createSQL creates name(a bigint, b bigint) from udf/testdata/numeric.wasm's export.
func createSQL(name, export string, replace bool) string {
	or := ""
	if replace {
		or = "OR REPLACE "
	}
	return fmt.Sprintf("CREATE %sFUNCTION %s(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE AS $1, '%s'", or, name, export)
}

// TestTopologyPropagation: a function created through proxy 1 is known through proxy 2, listed by
// psql's \df wasql.* on the upstream, dropped through proxy 2, and then gone from proxy 1.
func TestTopologyPropagation(t *testing.T) {
	tp := startTopology(t)
	p1, p2 := tp.connect(t, "wasql1"), tp.connect(t, "wasql2")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mod := module(t, "udf/testdata/numeric.wasm")
	// The proxies offer TLS (a self-signed certificate, as in docker-compose.yml), which is how
	// passwords pass through from clients that are not on loopback.
	tc, err := pgx.Connect(ctx, strings.Replace(tp.url("wasql2"), "sslmode=disable", "sslmode=require", 1))
	if err != nil {
		t.Fatalf("connect to proxy 2 with sslmode=require: %v", err)
	}
	if _, ok := tc.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("sslmode=require: the connection to proxy 2 is a %T, not TLS", tc.PgConn().Conn())
	}
	tc.Close(ctx)
	if knows(t, p2, "plus") {
		t.Fatal("proxy 2 knows plus before it was created")
	}
	if _, err := p1.Exec(ctx, createSQL("plus", "add", false), mod); err != nil {
		t.Fatalf("CREATE FUNCTION through proxy 1: %v", err)
	}
	if !knows(t, p1, "plus") {
		t.Fatal("proxy 1 does not know the function it created")
	}
	d := waitKnows(t, p2, "plus", true)
	t.Logf("created through proxy 1, known through proxy 2 after %v", d)
	if d > time.Second {
		t.Errorf("proxy 2 learned of plus after %v, want within 1 s", d)
	}
	_, err = p2.Exec(ctx, createSQL("plus", "add", false), mod)
	if code := sqlState(err); code != "42723" {
		t.Errorf("CREATE FUNCTION plus again through proxy 2: %v, want 42723", err)
	}

	env := append(os.Environ(), "PGHOST="+strings.Split(tp.addr["postgres"], ":")[0], "PGPORT="+strings.Split(tp.addr["postgres"], ":")[1],
		"PGUSER="+topologyUser, "PGPASSWORD="+topologyPassword, "PGDATABASE="+topologyDB)
	if out := psqlRun(t, env, `\df wasql.*`); !regexp.MustCompile(`wasql +\| plus +\| bigint +\| a bigint, b bigint +\| func`).MatchString(out) {
		t.Errorf("\\df wasql.* on the upstream does not list the stub of plus:\n%s", out)
	}

	if _, err := p2.Exec(ctx, "DROP FUNCTION plus(bigint, bigint)"); err != nil {
		t.Fatalf("DROP FUNCTION through proxy 2: %v", err)
	}
	d = waitKnows(t, p1, "plus", false)
	t.Logf("dropped through proxy 2, gone from proxy 1 after %v", d)
	if d > time.Second {
		t.Errorf("proxy 1 learned of the drop after %v, want within 1 s", d)
	}
	if out := psqlRun(t, env, `\df wasql.*`); strings.Contains(out, "plus") {
		t.Errorf("\\df wasql.* still lists plus after the drop:\n%s", out)
	}
}

// listenerBackends are the upstream backends of the catalog listening connections of the
// process pid (found by the process's TCP ports in /proc), as pg_stat_activity's pids.
func listenerBackends(t *testing.T, ctx context.Context, up *pgx.Conn, pid int) []int32 {
	t.Helper()
	ports := processPorts(t, pid)
	rows, err := up.Query(ctx, `SELECT pid, client_port FROM pg_stat_activity
		WHERE application_name = 'wasql catalog listener' OR query = 'LISTEN wasql_catalog'`)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int32
	for rows.Next() {
		var backend, port int32
		if err := rows.Scan(&backend, &port); err != nil {
			t.Fatal(err)
		}
		if ports[int(port)] {
			pids = append(pids, backend)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pids
}

// processPorts are the local ports of the TCP sockets process pid holds.
func processPorts(t *testing.T, pid int) map[int]bool {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("the sockets of process %d: %v", pid, err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	ports := map[int]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !inodes[fields[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil {
				ports[int(p)] = true
			}
		}
		f.Close()
	}
	return ports
}

// TestTopologyLostNotification: proxy 2's listening connection is terminated on the upstream
// (pg_terminate_backend), again each time it comes back, while a function is created through
// proxy 1: the NOTIFY finds no listener of proxy 2, which still learns of the function, by the
// reconciliation its listener runs when it reconnects.
func TestTopologyLostNotification(t *testing.T) {
	tp := startTopology(t)
	p1, p2, up := tp.connect(t, "wasql1"), tp.connect(t, "wasql2"), tp.connect(t, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pid2 := tp.pid(t, "wasql2")
	var first []int32
	for start := time.Now(); len(first) == 0; time.Sleep(10 * time.Millisecond) {
		if first = listenerBackends(t, ctx, up, pid2); len(first) == 0 && time.Since(start) > 10*time.Second {
			t.Fatal("no listening connection of proxy 2 in pg_stat_activity after 10 s")
		}
	}
	if len(first) != 1 {
		t.Fatalf("proxy 2 has %d listening connections (%v), want 1", len(first), first)
	}

	// The killer terminates every listening connection of proxy 2 it sees, every 5 ms, until stop.
	killer, err := pgx.Connect(ctx, tp.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(context.Background())
	var kills atomic.Int32
	stop, done := make(chan struct{}), make(chan struct{})
	firstKill := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, b := range listenerBackends(t, ctx, killer, pid2) {
				var ok bool
				if err := killer.QueryRow(ctx, "SELECT pg_terminate_backend($1)", b).Scan(&ok); err != nil {
					t.Errorf("pg_terminate_backend(%d): %v", b, err)
					return
				}
				if ok && kills.Add(1) == 1 {
					close(firstKill)
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	select {
	case <-firstKill:
	case <-time.After(10 * time.Second):
		t.Fatal("the listening connection of proxy 2 was not terminated")
	}
	atCreate := len(listenerBackends(t, ctx, up, pid2))
	if _, err := p1.Exec(ctx, createSQL("lost", "add", false), module(t, "udf/testdata/numeric.wasm")); err != nil {
		t.Fatalf("CREATE FUNCTION through proxy 1: %v", err)
	}
	created := time.Now()
	atCreate += len(listenerBackends(t, ctx, up, pid2)) // 0: no listener of proxy 2 got the NOTIFY
	time.Sleep(300 * time.Millisecond)                  // notifications sent meanwhile find no listener of proxy 2
	knewEarly := knows(t, p2, "lost")                   // it may: a reconnection between two terminations reconciles
	close(stop)
	<-done
	if t.Failed() {
		return
	}
	d := waitKnows(t, p2, "lost", true)
	t.Logf("listening connection of proxy 2 terminated %d times (listeners of proxy 2 just before and after the create: %d); the function created through proxy 1 known through proxy 2 %v after the create (%v after the terminations stopped; known before they stopped, by a reconnection's reconciliation: %v)",
		kills.Load(), atCreate, time.Since(created).Round(time.Millisecond), d, knewEarly)
	var again []int32
	for start := time.Now(); len(again) == 0 && time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		again = listenerBackends(t, ctx, up, pid2)
	}
	if len(again) != 1 || again[0] == first[0] {
		t.Errorf("proxy 2's listening connection after the terminations: %v (first %v), want one new", again, first)
	}
	// And the way back: a drop through proxy 2 reaches proxy 1 (its listener was never touched).
	if _, err := p2.Exec(ctx, "DROP FUNCTION lost(bigint, bigint)"); err != nil {
		t.Fatalf("DROP FUNCTION through proxy 2: %v", err)
	}
	waitKnows(t, p1, "lost", false)
}

// TestTopologyConcurrentReplace: in each round, proxy 1 and proxy 2 replace the same function at
// the same moment, one with export add, the other with div. The catalog takes them in turn (two
// versions, one after the other); both proxies end knowing the function, and with the catalog's
// last definition: the stub's comment names the catalog's version and export, and a call gives
// the same answer through both once each has its notification.
func TestTopologyConcurrentReplace(t *testing.T) {
	tp := startTopology(t)
	p1, p2, up := tp.connect(t, "wasql1"), tp.connect(t, "wasql2"), tp.connect(t, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mod := module(t, "udf/testdata/numeric.wasm")
	if _, err := p1.Exec(ctx, createSQL("race", "add", false), mod); err != nil {
		t.Fatal(err)
	}
	waitKnows(t, p2, "race", true)
	const rounds = 10
	for round := range rounds {
		var before int64
		if err := up.QueryRow(ctx, "SELECT version FROM wasql.catalog_version").Scan(&before); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		gate := make(chan struct{})
		errs := make([]error, 2)
		for i, c := range []*pgx.Conn{p1, p2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				_, errs[i] = c.Exec(ctx, createSQL("race", []string{"add", "div"}[i], true), mod)
			}()
		}
		close(gate)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: CREATE OR REPLACE through proxy %d: %v", round, i+1, err)
			}
		}
		var rows, version, catalogVersion int64
		var export, comment string
		err := up.QueryRow(ctx, `SELECT count(*) OVER (), export, version, catalog_version,
			obj_description('wasql.race(bigint, bigint)'::regprocedure, 'pg_proc')
			FROM wasql.function_defs WHERE name = 'race'`).Scan(&rows, &export, &version, &catalogVersion, &comment)
		if err != nil {
			t.Fatalf("round %d: the catalog row: %v", round, err)
		}
		if rows != 1 || catalogVersion != before+2 {
			t.Errorf("round %d: %d rows, catalog version %d after %d: want one row, two versions later", round, rows, catalogVersion, before)
		}
		var kinds []string
		r, err := up.Query(ctx, "SELECT kind FROM wasql.changes WHERE version > $1 ORDER BY version", before)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var k string
			r.Scan(&k)
			kinds = append(kinds, k)
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		if !slices.Equal(kinds, []string{"replaced", "replaced"}) {
			t.Errorf("round %d: change log after version %d: %v, want two replacements", round, before, kinds)
		}
		if want := fmt.Sprintf("export %q", export); !strings.Contains(comment, want) || !strings.Contains(comment, fmt.Sprintf("version %d;", version)) {
			t.Errorf("round %d: stub comment %q does not name the catalog's export %s and version %d", round, comment, export, version)
		}
		// Each proxy learns the other's replace from its notification: within seconds, both
		// answer with the catalog's last definition.
		want := map[string]string{"add": "9", "div": "2"}[export]
		var a1, a2 string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			a1, a2 = callAnswer(ctx, p1, "race"), callAnswer(ctx, p2, "race")
			if (a1 == want && a2 == want) || time.Now().After(deadline) {
				break
			}
		}
		if a1 != want || a2 != want {
			t.Errorf("round %d: race(6, 3) through proxy 1 is %s, through proxy 2 %s, after 10 s; the catalog's export is %s", round, a1, a2, export)
		}
	}
	t.Logf("%d rounds of simultaneous replaces, each ending on one version", rounds)
}

// callAnswer is race(6, 3)'s value, or the SQLSTATE of its error.
func callAnswer(ctx context.Context, c *pgx.Conn, name string) string {
	var n int64
	if err := c.QueryRow(ctx, "SELECT "+name+"(6::bigint, 3::bigint)").Scan(&n); err != nil {
		if code := sqlState(err); code != "" {
			return code
		}
		return err.Error()
	}
	return strconv.FormatInt(n, 10)
}

// TestTopologyKillOneProxy: proxy 2 is killed with SIGKILL while it holds a row lock in an open
// transaction and proxy 1's clients run queries: none of proxy 1's clients sees an error, the
// client waiting for the lock gets it (PostgreSQL ends the dead proxy's session), and proxy 1
// still creates functions.
func TestTopologyKillOneProxy(t *testing.T) {
	tp := startTopology(t)
	p1, p2 := tp.connect(t, "wasql1"), tp.connect(t, "wasql2")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, q := range []string{"CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL)", "INSERT INTO kv SELECT g, 0 FROM generate_series(1, 100) g"} {
		if _, err := p1.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := p2.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Exec(ctx, "UPDATE kv SET v = -1 WHERE k = 1"); err != nil {
		t.Fatal(err)
	}

	// Clients of proxy 1: four query and update rows 2..100 in a loop; one waits for row 1.
	var queries atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	clientErrs := make(chan error, 10)
	for i := range 4 {
		c := tp.connect(t, "wasql1")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				k := 2 + (i*25+n)%99
				var v int64
				if err := c.QueryRow(ctx, "UPDATE kv SET v = v + 1 WHERE k = $1 RETURNING v", k).Scan(&v); err != nil {
					clientErrs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				queries.Add(1)
			}
		}()
	}
	waiter := tp.connect(t, "wasql1")
	locked := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, "UPDATE kv SET v = v + 1 WHERE k = 1")
		locked <- err
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-locked:
		t.Fatalf("the update of row 1 through proxy 1 did not wait for proxy 2's lock: %v", err)
	default:
	}
	before := queries.Load()
	if err := syscall.Kill(tp.pid(t, "wasql2"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	select {
	case err := <-locked:
		if err != nil {
			t.Fatalf("the update waiting for the dead proxy's lock: %v", err)
		}
		t.Logf("proxy 2 killed; proxy 1's client waiting for its row lock got it after %v", time.Since(killed))
	case <-time.After(30 * time.Second):
		t.Fatal("the update waiting for the dead proxy's lock still waits 30 s after the kill")
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(clientErrs)
	for err := range clientErrs {
		t.Errorf("a client of proxy 1 failed: %v", err)
	}
	after := queries.Load()
	if after == before {
		t.Errorf("proxy 1's clients ran no query after the kill")
	}
	t.Logf("proxy 1's clients: %d queries before the kill, %d after, no error", before, after-before)
	var v int64
	if err := p1.QueryRow(ctx, "SELECT v FROM kv WHERE k = 1").Scan(&v); err != nil || v != 1 {
		t.Errorf("row 1 after the kill: %d, %v; want 1 (proxy 2's uncommitted -1 rolled back, proxy 1's +1 applied)", v, err)
	}
	if _, err := p1.Exec(ctx, createSQL("after_kill", "add", false), module(t, "udf/testdata/numeric.wasm")); err != nil {
		t.Errorf("CREATE FUNCTION through proxy 1 after proxy 2 was killed: %v", err)
	}
	if !knows(t, p1, "after_kill") {
		t.Error("proxy 1 does not know the function it created after the kill")
	}
}

// composeService is what TestComposeMatchesTopology reads of a service of docker-compose.yml.
type composeService struct {
	Image       string            `yaml:"image"`
	Build       string            `yaml:"build"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Healthcheck struct {
		Test []string `yaml:"test"`
		// Docker's timing of the check, which the script does not have (it waits until the
		// server answers, 60 s at most): read, not compared.
		Interval string `yaml:"interval"`
		Timeout  string `yaml:"timeout"`
		Retries  int    `yaml:"retries"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

// composeLines are docker-compose.yml's services as `proxy-topology.sh config` prints them:
// "SERVICE KEY VALUE" lines, sorted.
func composeLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true) // a key this test does not read is a setting it cannot compare
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var lines []string
	add := func(svc, key, value string) { lines = append(lines, svc+" "+key+" "+value) }
	for name, s := range f.Services {
		if s.Image != "" {
			add(name, "image", s.Image)
		}
		if s.Build != "" {
			add(name, "build", s.Build)
		}
		for k, v := range s.Environment {
			add(name, "env", k+"="+v)
		}
		for _, p := range s.Ports {
			add(name, "port", p)
		}
		for _, v := range s.Volumes {
			add(name, "volume", v)
			if vol, _, _ := strings.Cut(v, ":"); !strings.HasPrefix(vol, "/") && !strings.HasPrefix(vol, ".") {
				if _, ok := f.Volumes[vol]; !ok {
					t.Errorf("%s: service %s uses volume %s, which volumes: does not declare", path, name, vol)
				}
			}
		}
		if test := s.Healthcheck.Test; len(test) > 0 {
			if test[0] != "CMD" {
				t.Errorf("%s: %s's healthcheck is %q: want the exec form [\"CMD\", ...]", path, name, test)
			} else {
				add(name, "healthcheck", strings.Join(test[1:], " "))
			}
		}
		for dep, d := range s.DependsOn {
			add(name, "depends_on", dep+" "+d.Condition)
		}
	}
	slices.Sort(lines)
	return lines
}

// TestComposeMatchesTopology: docker-compose.yml has the services, ports and settings of
// scripts/proxy-topology.sh (which the TestTopology tests run), and the Dockerfile it builds
// runs wasql as a non-root user with a healthcheck on the port the compose file publishes.
func TestComposeMatchesTopology(t *testing.T) {
	out, err := exec.Command(topologyScript, "config").Output()
	if err != nil {
		t.Fatalf("proxy-topology.sh config: %v", err)
	}
	script := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(script)
	compose := composeLines(t, "../docker-compose.yml")
	for _, l := range compose {
		if !slices.Contains(script, l) {
			t.Errorf("docker-compose.yml has %q, scripts/proxy-topology.sh config does not", l)
		}
	}
	for _, l := range script {
		if !slices.Contains(compose, l) {
			t.Errorf("scripts/proxy-topology.sh config has %q, docker-compose.yml does not", l)
		}
	}
	// What the topology needs of the compose file, whatever the script says.
	for _, want := range []string{"postgres image postgres:15", "wasql1 build .", "wasql2 build .",
		"wasql1 depends_on postgres service_healthy", "wasql2 depends_on postgres service_healthy"} {
		if !slices.Contains(compose, want) {
			t.Errorf("docker-compose.yml lacks %q", want)
		}
	}
	var up1, up2 string
	for _, l := range compose {
		if v, ok := strings.CutPrefix(l, "wasql1 env WASQL_UPSTREAM="); ok {
			up1 = v
		}
		if v, ok := strings.CutPrefix(l, "wasql2 env WASQL_UPSTREAM="); ok {
			up2 = v
		}
	}
	if up1 == "" || up1 != up2 || !strings.Contains(up1, "@postgres:5432/") {
		t.Errorf("the proxies' WASQL_UPSTREAM are %q and %q: want the same, the postgres service", up1, up2)
	}
	if !slices.ContainsFunc(compose, func(l string) bool { return strings.HasPrefix(l, "postgres healthcheck ") }) {
		t.Error("docker-compose.yml: postgres has no healthcheck, which service_healthy needs")
	}

	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var user, expose, health string
	for _, line := range strings.Split(string(b), "\n") {
		switch f := strings.Fields(line); {
		case len(f) > 1 && f[0] == "USER":
			user = f[1]
		case len(f) > 1 && f[0] == "EXPOSE":
			expose = strings.Join(f[1:], " ")
		case len(f) > 0 && f[0] == "HEALTHCHECK":
			health = line
		}
	}
	if user == "" || user == "root" || user == "0" {
		t.Errorf("Dockerfile: the final stage runs as %q: want a non-root USER", user)
	}
	if health == "" {
		t.Error("Dockerfile: no HEALTHCHECK")
	}
	for _, l := range compose {
		if strings.HasPrefix(l, "wasql") && strings.Contains(l, " port ") {
			if _, inside, _ := strings.Cut(strings.Fields(l)[2], ":"); !strings.Contains(" "+expose+" ", " "+inside+" ") {
				t.Errorf("docker-compose.yml publishes container port %s (%s), the Dockerfile exposes %q", inside, l, expose)
			}
		}
		if v, ok := strings.CutPrefix(l, "wasql1 env WASQL_PG_ADDR="); ok {
			if _, port, _ := strings.Cut(v, ":"); !strings.Contains(string(b), "127.0.0.1/"+port) {
				t.Errorf("the Dockerfile's healthcheck does not check the Postgres wire's port %s", port)
			}
		}
	}
}

// TestTopologyPassthroughOffLoopback is docker-compose.yml's situation, where clients reach a
// proxy from another address: a third proxy, as the topology's (passthrough, a self-signed
// certificate), listens on this machine's first address that is not loopback. A client there
// without TLS is refused (28000: its password would cross the network in clear); with
// sslmode=require it logs in, and a wrong password gets the upstream's 28P01.
func TestTopologyPassthroughOffLoopback(t *testing.T) {
	ip := nonLoopbackIP()
	if ip == "" {
		t.Skip("this machine has no IPv4 address besides loopback: nothing to connect from off loopback")
	}
	tp := startTopology(t)
	srv := startProxy(t, tp, ip+":0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := func(password, sslmode string) string {
		return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=%s&connect_timeout=10", topologyUser, password, srv, topologyDB, sslmode)
	}
	if c, err := pgx.Connect(ctx, url(topologyPassword, "disable")); err == nil || sqlState(err) != "28000" {
		t.Errorf("off loopback without TLS: %v, want 28000", err)
		if c != nil {
			c.Close(ctx)
		}
	}
	c, err := pgx.Connect(ctx, url(topologyPassword, "require"))
	if err != nil {
		t.Fatalf("off loopback with sslmode=require: %v", err)
	}
	var user string
	if err := c.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user != topologyUser {
		t.Errorf("current_user through the proxy: %q, %v", user, err)
	}
	c.Close(ctx)
	if c, err := pgx.Connect(ctx, url("wrong", "require")); err == nil || sqlState(err) != "28P01" {
		t.Errorf("a wrong password with sslmode=require: %v, want the upstream's 28P01", err)
		if c != nil {
			c.Close(ctx)
		}
	}
}

// nonLoopbackIP is this machine's first IPv4 address that is not loopback, or "".
func nonLoopbackIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// startProxy runs one more `wasql serve --upstream` on tp's PostgreSQL with the proxies' own
// settings (scripts/proxy-topology.sh config) but listening on addr, and returns its address.
func startProxy(t *testing.T, tp *topology, addr string) string {
	t.Helper()
	out, err := exec.Command(topologyScript, "config").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	for _, line := range strings.Split(string(out), "\n") {
		kv, ok := strings.CutPrefix(line, "wasql1 env ")
		if !ok {
			continue
		}
		kv = strings.Replace(kv, "@postgres:5432/", "@"+tp.addr["postgres"]+"/", 1)
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "WASQL_PG_ADDR":
			kv = "WASQL_PG_ADDR=" + addr
		case "WASQL_DATA_DIR":
			kv = "WASQL_DATA_DIR=" + t.TempDir()
		}
		env = append(env, kv)
	}
	cmd := exec.Command(wasqlBin, "serve")
	cmd.Env = append(env, "WASQL_METRICS_ADDR=127.0.0.1:0") // beside the script's proxies, on one host
	banner := regexp.MustCompile(`Postgres wire on (\S+) in front of`)
	var listen string
	s, err := launch(cmd, func(s *server, line string) bool {
		if m := banner.FindStringSubmatch(line); m != nil {
			listen = m[1]
		}
		return listen != ""
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.halt(); err != nil {
			t.Errorf("the extra proxy: %v", err)
		}
	})
	return listen
}
