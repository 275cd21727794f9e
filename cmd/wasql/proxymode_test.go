package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/internal/pgtest"
)

// TestServeProxyMode runs wasql serve --upstream against a real PostgreSQL: statements pass
// through, CREATE FUNCTION ... LANGUAGE wasm lands in the catalog in the upstream's database
// (with its stub there), a call is refused for now.
func TestServeProxyMode(t *testing.T) {
	url := pgtest.Start(t)
	s := serveUpstream(t, url)
	addr := s.wait(t, banner)
	if !strings.Contains(s.out.String(), "MySQL wire is off") {
		t.Fatalf("banner: %s", s.out)
	}
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	qctx, qcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer qcancel()
	c, err := pgx.Connect(qctx, "postgres://root@"+addr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(qctx)
	var n int
	if err := c.QueryRow(qctx, "SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("pass-through: %v %d", err, n)
	}
	module, err := os.ReadFile("../../sqlfuncs/testdata/twice.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(qctx, `CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS $1, 'twice_int'`, module); err != nil {
		t.Fatal(err)
	}
	direct, err := pgx.Connect(qctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(qctx)
	if err := direct.QueryRow(qctx, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'wasql' AND p.proname = 'twice'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the stub in the upstream: %v %d", err, n)
	}
	if err := c.QueryRow(qctx, "SELECT twice($1)", 21).Scan(&n); err != nil || n != 42 {
		t.Fatalf("a call: %v %d", err, n)
	}
	// A statement wasql cannot plan is refused, naming the construct.
	_, err = c.Exec(qctx, "SELECT * FROM twice(2)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "0A000" {
		t.Fatalf("a call in FROM: %v", err)
	}
	if _, err := c.Exec(qctx, "DROP FUNCTION twice"); err != nil {
		t.Fatal(err)
	}
}

func TestServeProxyConfig(t *testing.T) {
	t.Setenv("WASQL_UPSTREAM", "postgres://u@db.example/app")
	c, _, err := loadServeConfig([]string{"--upstream-auth", "wasql"}, &syncBuffer{}, &syncBuffer{})
	if err != nil || c.Upstream != "postgres://u@db.example/app" || c.UpstreamAuth != "wasql" {
		t.Fatalf("%v %+v", err, c)
	}
	if _, _, err := loadServeConfig([]string{"--upstream-auth", "maybe"}, &syncBuffer{}, &syncBuffer{}); err == nil {
		t.Fatal("a bad upstream_auth must fail")
	}
	if _, _, err := loadServeConfig([]string{"--pg-addr", ""}, &syncBuffer{}, &syncBuffer{}); err == nil {
		t.Fatal("proxy mode without the Postgres wire must fail")
	}
	var help syncBuffer
	if _, ok, _ := loadServeConfig([]string{"--help"}, &help, &help); !ok || !strings.Contains(help.String(), "the MySQL wire is off") {
		t.Fatalf("help: %s", help.String())
	}
}

// TestServeProxyUpstreamLate: wasql serve --upstream starts while the upstream is down, answers
// clients FATAL 08001 meanwhile, retries, and serves once the upstream is there.
func TestServeProxyUpstreamLate(t *testing.T) {
	url := pgtest.Start(t)
	target := url[strings.Index(url, "@")+1 : strings.LastIndex(url, "/")]
	l, err := net.Listen("tcp", "127.0.0.1:0") // a port nothing listens on, until the relay below
	if err != nil {
		t.Fatal(err)
	}
	late := l.Addr().String()
	l.Close()
	lateURL := strings.Replace(url, "@"+target+"/", "@"+late+"/", 1)
	s := serveUpstream(t, lateURL)
	addr := s.wait(t, regexp.MustCompile(`Postgres wire on (\S+) answers 08001 until the catalog opens`))
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	client := "postgres://root@" + addr + "/" + db + "?sslmode=disable"
	qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer qcancel()
	_, err = pgx.Connect(qctx, client)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "08001" || !strings.Contains(pgErr.Message, "not reachable yet") {
		t.Fatalf("while the upstream is down: %v, want FATAL 08001", err)
	}
	// The upstream appears on its port: a relay to the real server.
	relay, err := net.Listen("tcp", late)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	go func() {
		for {
			c, err := relay.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	s.wait(t, banner)
	c, err := pgx.Connect(qctx, client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(qctx)
	var n int
	if err := c.QueryRow(qctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after the upstream came: %v %d", err, n)
	}
}

// banner is the line wasql serve --upstream prints once it serves.
var banner = regexp.MustCompile(`Postgres wire on (\S+) in front of`)

// upstreamServe is a wasql serve --upstream running in the test's process.
type upstreamServe struct {
	out, logs *syncBuffer
	done      chan error
}

// serveUpstream runs wasql serve --upstream url (Postgres wire on a free loopback port) until
// the test ends.
func serveUpstream(t *testing.T, url string) *upstreamServe {
	s := &upstreamServe{out: &syncBuffer{}, logs: &syncBuffer{}, done: make(chan error, 1)}
	old := stderr
	stderr = s.logs
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s.done <- serve(ctx, []string{"--data-dir", t.TempDir(), "--pg-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--upstream", url}, s.out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
		stderr = old
	})
	return s
}

// wait returns re's first submatch in what the server printed, once it is there (30 s at most).
func (s *upstreamServe) wait(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(s.out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			t.Fatalf("serve ended: %v\n%s%s", err, s.out, s.logs)
		default:
		}
	}
	t.Fatalf("no %s after 30 s:\n%s%s", re, s.out, s.logs)
	return ""
}

// TestServeProxyStats: wasql serve --upstream writes its counters into the upstream: a client
// straight to PostgreSQL sees a call made through the proxy within a few seconds (the
// background write), and at shutdown the function's row says unloaded with the counts kept;
// wasql.reset_stats() in the upstream sets them to zero.
func TestServeProxyStats(t *testing.T) {
	url := pgtest.Start(t)
	out, logs := &syncBuffer{}, &syncBuffer{}
	old := stderr
	stderr = logs
	defer func() { stderr = old }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &upstreamServe{out: out, logs: logs, done: make(chan error, 1)}
	go func() {
		s.done <- serve(ctx, []string{"--data-dir", t.TempDir(), "--pg-addr", "127.0.0.1:0", "--upstream", url}, out)
	}()
	addr := s.wait(t, banner)
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer qcancel()
	c, err := pgx.Connect(qctx, "postgres://root@"+addr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(qctx)
	module, err := os.ReadFile("../../sqlfuncs/testdata/twice.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(qctx, `CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS $1, 'twice_int'`, module); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(qctx, "SELECT twice(x) FROM (VALUES (21)) v(x)").Scan(&n); err != nil || n != 42 {
		t.Fatalf("a call: %v %d", err, n)
	}
	direct, err := pgx.Connect(qctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(qctx)
	var state string
	var rows, instances int64
	read := func() {
		t.Helper()
		if err := direct.QueryRow(qctx, "SELECT state, rows_evaluated, instances FROM wasql.functions WHERE name = 'twice'").Scan(&state, &rows, &instances); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if read(); rows == 1 && state == "loaded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("straight to PostgreSQL, after 10 s: %s, %d rows, want loaded and 1", state, rows)
		}
	}
	cancel()
	if err := <-s.done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if read(); state != "unloaded" || rows != 1 || instances != 0 {
		t.Errorf("after shutdown: %s, %d rows, %d instances; want unloaded, 1, 0", state, rows, instances)
	}
	var matched int64
	if err := direct.QueryRow(qctx, "SELECT wasql.reset_stats()").Scan(&matched); err != nil || matched != 1 {
		t.Fatalf("wasql.reset_stats(): %d %v", matched, err)
	}
	if read(); rows != 0 {
		t.Errorf("after wasql.reset_stats(): %d rows", rows)
	}
}
