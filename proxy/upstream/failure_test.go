package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/proxy"
)

// TestPassThroughAuth: the client's own user and password log in upstream; a wrong password is
// PostgreSQL's own 28P01.
func TestPassThroughAuth(t *testing.T) {
	b, err := New(Config{URL: pgURL(t, "root"), PassThroughAuth: true, Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, true, true)
	c := dialPgx(t, addr, "alice", "secret")
	var user string
	if err := c.QueryRow(ctx10(t), "SELECT current_user").Scan(&user); err != nil || user != "alice" {
		t.Fatalf("current_user: %v %q", err, user)
	}
	_, err = pgx.Connect(ctx10(t), "postgres://alice:wrong@"+addr+"/postgres?sslmode=disable")
	wantCode(t, err, "28P01", `password authentication failed for user "alice"`)
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the password is in the error: %v", err)
	}
}

// TestProxyUserAuth: without pass-through the URL's credentials log in upstream, whatever the
// client's user; wrong URL credentials are the upstream's 28P01 at every client's start.
func TestProxyUserAuth(t *testing.T) {
	b, err := New(Config{URL: pgURL(t, "alice:secret"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := dialPgx(t, serve(t, b, false, true), "someone", "")
	var user string
	if err := c.QueryRow(ctx10(t), "SELECT current_user").Scan(&user); err != nil || user != "alice" {
		t.Fatalf("current_user: %v %q", err, user)
	}
	// Clients authenticate to wasql with SCRAM: a wrong password is wasql's 28P01.
	v, err := proxy.NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	scram := serveWith(t, b, proxy.Config{Users: map[string]proxy.Verifier{"bob": v}}, true)
	c = dialPgx(t, scram, "bob", "pw")
	if err := c.QueryRow(ctx10(t), "SELECT current_user").Scan(&user); err != nil || user != "alice" {
		t.Fatalf("current_user: %v %q", err, user)
	}
	_, err = pgx.Connect(ctx10(t), "postgres://bob:wrong@"+scram+"/postgres?sslmode=disable")
	wantCode(t, err, "28P01", `password authentication failed for user "bob"`)

	bad, err := New(Config{URL: pgURL(t, "alice:nope"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pgx.Connect(ctx10(t), "postgres://someone@"+serve(t, bad, false, true)+"/postgres?sslmode=disable")
	wantCode(t, err, "28P01", "password authentication failed")
}

// TestUpstreamDown: an unreachable upstream is a prompt FATAL 08001 naming it, after the short
// retries, never a hang.
func TestUpstreamDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	b, err := New(Config{URL: "postgres://u:sekrit@" + addr + "/db?sslmode=disable"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = pgx.Connect(ctx10(t), "postgres://u@"+serve(t, b, false, true)+"/db?sslmode=disable")
	wantCode(t, err, "08001", "could not connect to the upstream PostgreSQL at "+addr)
	if strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("the password is in the error: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestUpstreamKilled: the upstream backend terminated mid-query gives the client PostgreSQL's
// own FATAL and ends the session; other sessions are not disturbed.
func TestUpstreamKilled(t *testing.T) {
	b, err := New(Config{URL: pgURL(t, "root"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, false, true)
	victim, other := dialPgx(t, addr, "root", ""), dialPgx(t, addr, "root", "")
	ctx := ctx10(t)
	var pid int
	if err := victim.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	// The client was given its upstream backend's pid (proxy.Process), as PostgreSQL gives it.
	if got := victim.PgConn().PID(); got != uint32(pid) {
		t.Fatalf("BackendKeyData pid %d, pg_backend_pid() %d", got, pid)
	}
	done := make(chan error, 1)
	go func() { _, err := victim.Exec(ctx, "SELECT pg_sleep(20)"); done <- err }()
	time.Sleep(200 * time.Millisecond)
	if _, err := other.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	err = <-done
	wantCode(t, err, "57P01", "terminating connection due to administrator command")
	var n int
	if err := other.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("other session: %v", err)
	}
}

// TestUpstreamLost: the upstream connection cut without a word gives the client 08006, and the
// server closes the client connection.
func TestUpstreamLost(t *testing.T) {
	pgURL(t, "root")
	cut := forwarder(t, pgAddr())
	b, err := New(Config{URL: "postgres://root@" + cut.addr + "/postgres?sslmode=disable", Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, false, true)
	c := dialRaw(t, addr, "root", "")
	c.send(&pgproto3.Query{String: "SELECT pg_sleep(20)"})
	time.Sleep(200 * time.Millisecond)
	cut.cutAll()
	m := c.receive()
	e, ok := m.(*pgproto3.ErrorResponse)
	if !ok || e.Code != "08006" || e.Severity != "FATAL" {
		t.Fatalf("want FATAL 08006, got %#v", m)
	}
	// The server hangs up at once: the client need not send anything to learn it.
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if m, err := c.fe.Receive(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after 08006: %#v, %v; want the connection closed", m, err)
	}
	// Another session through the same forwarder works.
	other := dialPgx(t, addr, "root", "")
	var n int
	if err := other.QueryRow(ctx10(t), "SELECT 2").Scan(&n); err != nil || n != 2 {
		t.Fatalf("other session: %v", err)
	}
}

// TestClientGoneMidCopy: a client that disconnects in the middle of COPY FROM STDIN leaves no
// upstream session behind.
func TestClientGoneMidCopy(t *testing.T) {
	b, err := New(Config{URL: pgURL(t, "root"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, false, true)
	c := dialRaw(t, addr, "root", "")
	c.send(&pgproto3.Query{String: "SELECT pg_backend_pid()"})
	var pid string
	c.until(func(m pgproto3.BackendMessage) bool {
		if d, ok := m.(*pgproto3.DataRow); ok {
			pid = string(d.Values[0])
		}
		return isType[*pgproto3.ReadyForQuery](m)
	})
	c.send(&pgproto3.Query{String: "CREATE TEMP TABLE cp (a int)"})
	c.ready(1)
	c.send(&pgproto3.Query{String: "COPY cp FROM STDIN"})
	c.until(isType[*pgproto3.CopyInResponse])
	c.send(&pgproto3.CopyData{Data: []byte("1\n2\n")})
	c.nc.Close()
	direct := dialPgx(t, pgAddr(), "root", "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		if err := direct.QueryRow(ctx10(t), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("upstream backend %s still there", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cutter is a TCP forwarder whose connections can be cut.
type cutter struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
}

func forwarder(t *testing.T, to string) *cutter {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c := &cutter{addr: l.Addr().String()}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", to)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) cutAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nc := range c.conns {
		nc.Close()
	}
	c.conns = nil
}

// TestHammer: many sessions at once, each with its own pipeline of statements and a wasql
// statement now and then, all answered in order.
func TestHammer(t *testing.T) {
	reg := testRegistry(t)
	b, err := New(Config{URL: pgURL(t, "root"), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, false, true)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := pgconn.Connect(ctx, "postgres://root@"+addr+"/postgres?sslmode=disable")
			if err != nil {
				errs <- err
				return
			}
			defer c.Close(ctx)
			for i := 0; i < 50; i++ {
				rr := c.ExecParams(ctx, "SELECT $1::int + 1", [][]byte{[]byte("41")}, nil, nil, nil).Read()
				if rr.Err != nil || len(rr.Rows) != 1 || string(rr.Rows[0][0]) != "42" {
					errs <- errors.Join(rr.Err, errors.New("wrong answer"))
					return
				}
				if _, err := c.Exec(ctx, "SELECT 1; SELECT twice(1)").ReadAll(); err == nil {
					errs <- errors.New("a wasm call was not refused")
					return
				}
			}
		}()
	}
	ctx := ctx10(t)
	c := dialPgx(t, addr, "root", "")
	for i := 0; i < 10; i++ {
		if _, err := c.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, `DROP FUNCTION twice`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "0A000" {
			continue
		}
		t.Fatal(err)
	}
}

// TestOwners: with pass-through authentication a wasm function belongs to the role that created
// it: another role may not replace or drop it, a superuser may.
func TestOwners(t *testing.T) {
	reg := testRegistry(t)
	b, err := New(Config{URL: pgURL(t, "root"), PassThroughAuth: true, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, true, true)
	ctx := ctx10(t)
	alice, bob, root := dialPgx(t, addr, "alice", "secret"), dialPgx(t, addr, "bob", "secret2"), dialPgx(t, addr, "root", "")
	if _, err := alice.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t)); err != nil {
		t.Fatal(err)
	}
	if ovs := reg.Overloads("twice"); len(ovs) != 1 || ovs[0].Def.Owner != "alice" {
		t.Fatalf("owner: %+v", ovs)
	}
	_, err = bob.Exec(ctx, `DROP FUNCTION twice`)
	wantCode(t, err, "42501", "must be owner of function twice(integer) to drop it")
	_, err = bob.Exec(ctx, `CREATE OR REPLACE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS $1, 'twice_int'`, twiceModule(t))
	wantCode(t, err, "42501", "to replace it")
	if _, err := alice.Exec(ctx, `CREATE OR REPLACE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS $1, 'twice_int'`, twiceModule(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Exec(ctx, `DROP FUNCTION twice`); err != nil {
		t.Fatal(err)
	}
}

// TestUpstreamTLS: sslmode=require in the URL makes the upstream connection TLS, and cancel
// requests go over TLS too.
func TestUpstreamTLS(t *testing.T) {
	url := strings.Replace(pgURL(t, "root"), "sslmode=disable", "sslmode=require", 1)
	b, err := New(Config{URL: url, Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := dialPgx(t, serve(t, b, false, true), "root", "")
	ctx := ctx10(t)
	var ssl bool
	if err := c.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		t.Fatalf("ssl: %v %v", err, ssl)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		c.PgConn().CancelRequest(context.Background())
	}()
	_, err = c.Exec(ctx, "SELECT pg_sleep(20)")
	wantCode(t, err, "57014", "canceling statement due to user request")
}
