package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeBackend is a Backend whose statements are named by what they do: "select" returns one
// row, "block" waits for its context, "panic" panics; other statements fail with the error
// errs names.
type fakeBackend struct {
	errs    map[string]error
	blocked chan struct{} // receives when a "block" statement starts waiting
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{errs: map[string]error{}, blocked: make(chan struct{}, 16)}
}

// Open implements the interface Backend.
func (b *fakeBackend) Open(ctx context.Context, user, database string, pid uint32) (Session, error) {
	if user == "panic" {
		panic("open boom")
	}
	return &fakeSession{b: b}, nil
}

type fakeSession struct{ b *fakeBackend }

// Execute implements the interface Session.
func (s *fakeSession) Execute(ctx context.Context, query string, params []any) (Result, error) {
	switch query {
	case "select":
		return &fakeResult{cols: []Column{{Name: "x", OID: OIDText, Size: -1}}, rows: [][]any{{"1"}}}, nil
	case "block":
		s.b.blocked <- struct{}{}
		<-ctx.Done()
		// as a lock wait reports it: the context's error, wrapped, with no SQLSTATE
		return nil, fmt.Errorf("waiting for the statement lock: %w", ctx.Err())
	case "panic":
		panic("boom")
	}
	if err, ok := s.b.errs[query]; ok {
		return nil, err
	}
	return &fakeResult{}, nil
}

// Describe implements the interface Session.
func (s *fakeSession) Describe(ctx context.Context, query string, nparams int) ([]Column, []uint32, error) {
	if query == "select" {
		return []Column{{Name: "x", OID: OIDText, Size: -1}}, nil, nil
	}
	return nil, make([]uint32, nparams), nil
}

// Close implements the interface Session.
func (s *fakeSession) Close() error { return nil }

type fakeResult struct {
	cols []Column
	rows [][]any
	next int
}

func (r *fakeResult) Columns() []Column { return r.cols }
func (r *fakeResult) Next(context.Context) ([]any, error) {
	if r.next >= len(r.rows) {
		return nil, nil
	}
	r.next++
	return r.rows[r.next-1], nil
}
func (r *fakeResult) Tag() string {
	if r.cols == nil {
		return "OK"
	}
	return fmt.Sprintf("SELECT %d", len(r.rows))
}
func (r *fakeResult) Close() error { return nil }

// codeErr is an error with a SQLSTATE, maybe a hint, as the udf and engine packages make them.
type codeErr struct{ code, msg, hint string }

func (e *codeErr) Error() string    { return e.msg }
func (e *codeErr) SQLState() string { return e.code }
func (e *codeErr) SQLHint() string  { return e.hint }

// startServer serves b on a free loopback port; the server is closed at the end of the test.
func startServer(t *testing.T, cfg Config, b Backend) (*Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startServerOn(t, cfg, b, l), l.Addr().String()
}

func startServerOn(t *testing.T, cfg Config, b Backend, l net.Listener) *Server {
	t.Helper()
	s := NewServer(cfg, b)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// client is a raw frontend past startup.
type client struct {
	t   *testing.T
	nc  net.Conn
	fe  *pgproto3.Frontend
	key *pgproto3.BackendKeyData
}

// dial connects and sends a StartupMessage with params (user "app" unless given).
func dial(t *testing.T, addr string, params map[string]string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	p := map[string]string{"user": "app", "database": "wasql"}
	for k, v := range params {
		p[k] = v
	}
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: p})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, nc: nc, fe: fe}
}

// connect dials and waits for ReadyForQuery; it fails the test on an ErrorResponse.
func connect(t *testing.T, addr string, params map[string]string) *client {
	t.Helper()
	c := dial(t, addr, params)
	if e := c.startup(); e != nil {
		t.Fatalf("startup: %s %s", e.Code, e.Message)
	}
	return c
}

// startup reads until ReadyForQuery (nil) or an ErrorResponse (returned).
func (c *client) startup() *pgproto3.ErrorResponse {
	c.t.Helper()
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("startup: %v", err)
		}
		switch m := msg.(type) {
		case *pgproto3.BackendKeyData:
			k := *m
			c.key = &k
		case *pgproto3.ErrorResponse:
			e := *m
			return &e
		case *pgproto3.ReadyForQuery:
			return nil
		}
	}
}

// query sends a simple Query and returns the messages up to ReadyForQuery, ErrorResponses as
// "Error:<code>", and the first ErrorResponse.
func (c *client) query(q string) ([]string, *pgproto3.ErrorResponse) {
	c.t.Helper()
	c.fe.Send(&pgproto3.Query{String: q})
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
	return c.receive()
}

func (c *client) receive() ([]string, *pgproto3.ErrorResponse) {
	c.t.Helper()
	var got []string
	var first *pgproto3.ErrorResponse
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("after %v: %v", got, err)
		}
		name := fmt.Sprintf("%T", msg)[len("*pgproto3."):]
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			name = "Error:" + m.Code
			if first == nil {
				e := *m
				first = &e
			}
		case *pgproto3.DataRow:
			name = "DataRow:" + string(bytes.Join(m.Values, []byte(",")))
		}
		got = append(got, name)
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return got, first
		}
	}
}

// closedWithin reports whether the server closes nc within d (reading and dropping whatever
// it sends), and how long it took.
func closedWithin(nc net.Conn, d time.Duration) (bool, time.Duration) {
	start := time.Now()
	nc.SetReadDeadline(start.Add(d))
	buf := make([]byte, 512)
	for {
		if _, err := nc.Read(buf); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout()), time.Since(start)
		}
	}
}

// logBuffer captures the standard logger's output during a test.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func contextCanceled() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx.Err()
}

func deadlineExceeded() error {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	<-ctx.Done()
	return ctx.Err()
}
