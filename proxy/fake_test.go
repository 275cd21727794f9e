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

// fakeBackend is a Backend whose sessions are fakeExecutors, given the protocol by
// ExecutorSession (unless open is set: then Open is open). A client's startup parameter
// statement_timeout (a Go duration) bounds its "block" statements.
type fakeBackend struct {
	errs    map[string]error
	blocked chan struct{}                                  // receives when a "block" statement starts waiting
	open    func(context.Context, Client) (Session, error) // replaces ExecutorSession when set
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{errs: map[string]error{}, blocked: make(chan struct{}, 16)}
}

// Open implements the interface Backend.
func (b *fakeBackend) Open(ctx context.Context, c Client) (Session, error) {
	if c.User == "panic" {
		panic("open boom")
	}
	if b.open != nil {
		return b.open(ctx, c)
	}
	ex := &fakeExecutor{b: b, tx: 'I', app: c.Params["application_name"]}
	if d, err := time.ParseDuration(c.Params["statement_timeout"]); err == nil {
		ex.timeout = d
	}
	return ExecutorSession(ex, c.Out), nil
}

// fakeExecutor is an Executor whose statements are named by what they do:
//
//	select          one text row, "1"
//	param $1...     one text row, its parameters
//	series N        N int8 rows, 1..N
//	fail after N    N int8 rows, then 22012
//	block           waits for its context (or the session's statement_timeout)
//	panic           panics
//	notice          a NOTICE and a WARNING before its tag
//	set app X       reports application_name X
//	begin, commit, rollback
//	                the transaction status, as PostgreSQL's (25P02 in a failed block)
//
// Other statements fail with the error b.errs names, or succeed with tag OK.
type fakeExecutor struct {
	b       *fakeBackend
	tx      byte
	app     string
	timeout time.Duration
	closed  bool
}

var int8Col = []Column{{Name: "n", OID: OIDInt8, Size: 8}}

// Execute implements the interface Executor.
func (s *fakeExecutor) Execute(ctx context.Context, query string, params []any) (Result, error) {
	if s.tx == 'E' && query != "rollback" && query != "commit" {
		return nil, &codeErr{code: "25P02", msg: "current transaction is aborted, commands ignored until end of transaction block"}
	}
	var n int
	switch {
	case query == "select":
		return &fakeResult{cols: []Column{{Name: "x", OID: OIDText, Size: -1}}, rows: [][]any{{"1"}}}, nil
	case strings.HasPrefix(query, "param"):
		return &fakeResult{cols: []Column{{Name: "p", OID: OIDText, Size: -1}}, rows: [][]any{{fmt.Sprint(params...)}}}, nil
	case scan(query, "series %d", &n):
		r := &fakeResult{cols: int8Col}
		for i := 1; i <= n; i++ {
			r.rows = append(r.rows, []any{int64(i)})
		}
		return r, nil
	case scan(query, "fail after %d", &n):
		r := &fakeResult{cols: int8Col, err: &codeErr{code: "22012", msg: "division by zero"}}
		for i := 1; i <= n; i++ {
			r.rows = append(r.rows, []any{int64(i)})
		}
		return r, nil
	case query == "block":
		s.b.blocked <- struct{}{}
		var timeout <-chan time.Time
		if s.timeout > 0 {
			timeout = time.After(s.timeout)
		}
		select {
		case <-ctx.Done():
			// as a lock wait reports it: the context's error, wrapped, with no SQLSTATE
			return nil, fmt.Errorf("waiting for the statement lock: %w", ctx.Err())
		case <-timeout:
			return nil, &codeErr{code: "57014", msg: "canceling statement due to statement timeout"}
		}
	case query == "panic":
		panic("boom")
	case query == "notice":
		return &fakeResult{tag: "DO", notices: []Notice{{Severity: "NOTICE", Code: "00000", Message: "from a guest\x00Mforged"},
			{Severity: "WARNING", Code: "01000", Message: "careful"}}}, nil
	case strings.HasPrefix(query, "set app "):
		s.app = strings.TrimPrefix(query, "set app ")
		return &fakeResult{tag: "SET", reports: []pgproto3.ParameterStatus{{Name: "application_name", Value: s.app}}}, nil
	case query == "begin":
		s.tx = 'T'
		return &fakeResult{tag: "BEGIN"}, nil
	case query == "commit", query == "rollback":
		tag := strings.ToUpper(query)
		if s.tx == 'E' {
			tag = "ROLLBACK"
		}
		s.tx = 'I'
		return &fakeResult{tag: tag}, nil
	}
	if err, ok := s.b.errs[query]; ok {
		return nil, err
	}
	return &fakeResult{}, nil
}

func scan(s, format string, n *int) bool {
	_, err := fmt.Sscanf(s, format, n)
	return err == nil
}

// Describe implements the interface Executor.
func (s *fakeExecutor) Describe(ctx context.Context, query string, nparams int) ([]Column, []uint32, error) {
	var n int
	switch {
	case query == "select":
		return []Column{{Name: "x", OID: OIDText, Size: -1}}, nil, nil
	case scan(query, "series %d", &n), scan(query, "fail after %d", &n):
		return int8Col, nil, nil
	case strings.HasPrefix(query, "param"):
		return []Column{{Name: "p", OID: OIDText, Size: -1}}, make([]uint32, nparams), nil
	case query == "undetermined $1":
		return nil, []uint32{ParamUndetermined}, nil
	}
	return nil, make([]uint32, nparams), nil
}

// TxStatus implements the interface Executor.
func (s *fakeExecutor) TxStatus() byte { return s.tx }

// Failed implements the interface Executor.
func (s *fakeExecutor) Failed() {
	if s.tx == 'T' {
		s.tx = 'E'
	}
}

// Parameters implements the interface Executor.
func (s *fakeExecutor) Parameters() []pgproto3.ParameterStatus {
	return []pgproto3.ParameterStatus{{Name: "server_version", Value: "15.0 (fake)"}, {Name: "application_name", Value: s.app}}
}

// Close implements the interface Executor.
func (s *fakeExecutor) Close() error {
	s.closed = true
	return nil
}

type fakeResult struct {
	cols    []Column
	rows    [][]any
	err     error // after the rows
	next    int
	tag     string
	notices []Notice
	reports []pgproto3.ParameterStatus
}

func (r *fakeResult) Columns() []Column { return r.cols }
func (r *fakeResult) Next(context.Context) ([]any, error) {
	if r.next >= len(r.rows) {
		return nil, r.err
	}
	r.next++
	return r.rows[r.next-1], nil
}
func (r *fakeResult) Tag() string {
	switch {
	case r.tag != "":
		return r.tag
	case r.cols == nil:
		return "OK"
	}
	return fmt.Sprintf("SELECT %d", len(r.rows))
}
func (r *fakeResult) Close() error                        { return nil }
func (r *fakeResult) Notices() []Notice                   { return r.notices }
func (r *fakeResult) Reports() []pgproto3.ParameterStatus { return r.reports }

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
		case *pgproto3.CommandComplete:
			name = "CommandComplete:" + string(m.CommandTag)
		case *pgproto3.ReadyForQuery:
			name = "ReadyForQuery:" + string(m.TxStatus)
		case *pgproto3.ParameterStatus:
			name = "ParameterStatus:" + m.Name + "=" + m.Value
		case *pgproto3.NoticeResponse:
			name = "Notice:" + m.Code
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

// selectOne is what the statement "select" answers.
const selectOne = "[RowDescription DataRow:1 CommandComplete:SELECT 1 ReadyForQuery:I]"
