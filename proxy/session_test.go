package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// send sends messages and returns what the server answers up to ReadyForQuery.
func (c *client) send(msgs ...pgproto3.FrontendMessage) []string {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
	got, _ := c.receive()
	return got
}

func want(t *testing.T, what string, got []string, want string) {
	t.Helper()
	if fmt.Sprint(got) != want {
		t.Fatalf("%s:\n got %v\nwant %s", what, got, want)
	}
}

// TestPipeline: several Parse/Bind/Describe/Execute before one Sync are answered in order, named
// and unnamed statements and portals side by side; parameters reach the executor decoded.
func TestPipeline(t *testing.T) {
	_, addr := startServer(t, Config{}, newFakeBackend())
	c := connect(t, addr, nil)
	got := c.send(
		&pgproto3.Parse{Name: "s1", Query: "series 2"},
		&pgproto3.Parse{Query: "select"},
		&pgproto3.Parse{Name: "p", Query: "param $1", ParameterOIDs: []uint32{OIDInt8}},
		&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Bind{PreparedStatement: "s1", DestinationPortal: "a"},
		&pgproto3.Bind{},
		&pgproto3.Bind{PreparedStatement: "p", DestinationPortal: "b", ParameterFormatCodes: []int16{1},
			Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 42}}},
		&pgproto3.Execute{Portal: "a"},
		&pgproto3.Execute{},
		&pgproto3.Describe{ObjectType: 'P', Name: "b"},
		&pgproto3.Execute{Portal: "b"},
		&pgproto3.Close{ObjectType: 'S', Name: "s1"},
		&pgproto3.Sync{},
	)
	want(t, "pipeline", got, "[ParseComplete ParseComplete ParseComplete ParameterDescription RowDescription "+
		"BindComplete BindComplete BindComplete DataRow:1 DataRow:2 CommandComplete:SELECT 2 DataRow:1 CommandComplete:SELECT 1 "+
		"RowDescription DataRow:42 CommandComplete:SELECT 1 CloseComplete ReadyForQuery:I]")
	got = c.send(&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Sync{})
	want(t, "closed statement", got, "[Error:26000 ReadyForQuery:I]")
	got = c.send(&pgproto3.Parse{Name: "p", Query: "select"}, &pgproto3.Sync{})
	want(t, "a statement name in use", got, "[Error:42P05 ReadyForQuery:I]")

	// pgconn's own pipeline, as drivers use it.
	pc := pgconnConnect(t, addr, nil)
	p := pc.StartPipeline(context.Background())
	p.SendPrepare("q", "series 3", nil)
	p.SendQueryPrepared("q", nil, nil, nil)
	p.SendQueryParams("param $1", [][]byte{[]byte("x")}, []uint32{OIDText}, nil, nil)
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		res, err := p.GetResults()
		if err != nil {
			t.Fatal(err)
		}
		if res == nil {
			break
		}
		switch r := res.(type) {
		case *pgconn.StatementDescription:
			out = append(out, fmt.Sprintf("described %d columns", len(r.Fields)))
		case *pgconn.ResultReader:
			rr := r.Read()
			if rr.Err != nil {
				t.Fatal(rr.Err)
			}
			out = append(out, fmt.Sprintf("%d rows %s", len(rr.Rows), rr.CommandTag))
		case *pgconn.PipelineSync:
			out = append(out, "sync")
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	want(t, "pgconn pipeline", out, "[described 1 columns 3 rows SELECT 3 1 rows SELECT 1 sync]")
}

// TestRowLimit: an Execute with a row count sends that many rows and PortalSuspended; the next
// Executes resume where it stopped, the last one ends with the statement's tag. The statement
// runs once.
func TestRowLimit(t *testing.T) {
	_, addr := startServer(t, Config{}, newFakeBackend())
	c := connect(t, addr, nil)
	got := c.send(
		&pgproto3.Parse{Query: "series 3"},
		&pgproto3.Bind{ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 2},
		&pgproto3.Flush{},
		&pgproto3.Execute{MaxRows: 2},
		&pgproto3.Sync{},
	)
	// binary int8 rows: 8 bytes each
	want(t, "binary", got, "[ParseComplete BindComplete DataRow:\x00\x00\x00\x00\x00\x00\x00\x01 DataRow:\x00\x00\x00\x00\x00\x00\x00\x02 "+
		"PortalSuspended DataRow:\x00\x00\x00\x00\x00\x00\x00\x03 CommandComplete:SELECT 3 ReadyForQuery:I]")

	got = c.send(
		&pgproto3.Parse{Query: "series 5"},
		&pgproto3.Bind{},
		&pgproto3.Execute{MaxRows: 2},
		&pgproto3.Execute{MaxRows: 2},
		&pgproto3.Execute{MaxRows: 2},
		&pgproto3.Execute{MaxRows: 2},
		&pgproto3.Sync{},
	)
	want(t, "resumed", got, "[ParseComplete BindComplete DataRow:1 DataRow:2 PortalSuspended DataRow:3 DataRow:4 PortalSuspended "+
		"DataRow:5 CommandComplete:SELECT 5 CommandComplete:SELECT 5 ReadyForQuery:I]")
	// a limit the rows do not reach, and a limit of exactly the rows
	got = c.send(&pgproto3.Parse{Query: "series 2"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 5},
		&pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Sync{})
	want(t, "limits", got, "[ParseComplete BindComplete DataRow:1 DataRow:2 CommandComplete:SELECT 2 BindComplete DataRow:1 DataRow:2 CommandComplete:SELECT 2 ReadyForQuery:I]")
	// Sync closes the unnamed portal: the rest of a suspended one is gone.
	got = c.send(&pgproto3.Parse{Query: "series 3"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{})
	want(t, "suspended", got, "[ParseComplete BindComplete DataRow:1 PortalSuspended ReadyForQuery:I]")
	got = c.send(&pgproto3.Execute{}, &pgproto3.Sync{})
	want(t, "after Sync", got, "[Error:34000 ReadyForQuery:I]")
}

// TestErrorSkipsToSync: after an error in the extended protocol the messages up to Sync are
// dropped; an error fails a transaction block whatever raised it (the executor or the protocol),
// the executor's status is what ReadyForQuery reports, and ROLLBACK ends it.
func TestErrorSkipsToSync(t *testing.T) {
	_, addr := startServer(t, Config{}, newFakeBackend())
	c := connect(t, addr, nil)
	got := c.send(
		&pgproto3.Parse{Query: "select"},
		&pgproto3.Bind{PreparedStatement: "nope"},
		&pgproto3.Execute{},
		&pgproto3.Parse{Name: "later", Query: "select"},
		&pgproto3.Query{String: "select"},
		&pgproto3.Sync{},
	)
	want(t, "skipped", got, "[ParseComplete Error:26000 ReadyForQuery:I]")
	got = c.send(&pgproto3.Bind{PreparedStatement: "later"}, &pgproto3.Sync{})
	want(t, "a Parse after the error did not run", got, "[Error:26000 ReadyForQuery:I]")

	want(t, "begin", c.mustQuery("begin"), "[CommandComplete:BEGIN ReadyForQuery:T]")
	got = c.send(&pgproto3.Parse{Query: "param $1", ParameterOIDs: []uint32{OIDInt4}},
		&pgproto3.Bind{Parameters: [][]byte{[]byte("four")}}, &pgproto3.Execute{}, &pgproto3.Sync{})
	want(t, "a parameter that does not decode", got, "[ParseComplete Error:22P02 ReadyForQuery:E]")
	want(t, "in the failed block", c.mustQuery("select"), "[Error:25P02 ReadyForQuery:E]")
	want(t, "commit", c.mustQuery("commit"), "[CommandComplete:ROLLBACK ReadyForQuery:I]")

	// Rows already sent stay sent: an error after them ends the statement.
	want(t, "rows then an error", c.mustQuery("fail after 2; select"), "[RowDescription DataRow:1 DataRow:2 Error:22012 ReadyForQuery:I]")
	got = c.send(&pgproto3.Parse{Query: "undetermined $1"}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Sync{})
	want(t, "an undetermined untyped parameter", got, "[ParseComplete Error:42P18 ReadyForQuery:I]")
	want(t, "empty", c.send(&pgproto3.Query{String: " ; "}), "[EmptyQueryResponse ReadyForQuery:I]")
	got = c.send(&pgproto3.Parse{Query: ""}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	want(t, "empty extended", got, "[ParseComplete BindComplete EmptyQueryResponse ReadyForQuery:I]")
	want(t, "fastpath", c.send(&pgproto3.FunctionCall{Function: 1}), "[Error:0A000 ReadyForQuery:I]")
	c.fe.Send(&pgproto3.CopyData{Data: []byte("stray")})
	c.fe.Send(&pgproto3.CopyDone{})
	want(t, "stray COPY messages are dropped", c.mustQuery("select"), selectOne)
}

// mustQuery is query without the error.
func (c *client) mustQuery(q string) []string {
	c.t.Helper()
	got, _ := c.query(q)
	return got
}

// TestNoticesAndParameterStatus: a result's notices (cleaned: a guest's text cannot forge
// fields) and ParameterStatus reports come before its CommandComplete; the session's startup
// parameters are what the client gets after AuthenticationOk.
func TestNoticesAndParameterStatus(t *testing.T) {
	_, addr := startServer(t, Config{}, newFakeBackend())
	c := connect(t, addr, nil)
	want(t, "notice", c.mustQuery("notice"), "[Notice:00000 Notice:01000 CommandComplete:DO ReadyForQuery:I]")
	want(t, "set", c.mustQuery("set app x"), "[ParameterStatus:application_name=x CommandComplete:SET ReadyForQuery:I]")

	var notices []*pgconn.Notice
	pc := pgconnConnect(t, addr, func(cfg *pgconn.Config) {
		cfg.RuntimeParams["application_name"] = "tool"
		cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n) }
	})
	if v := pc.ParameterStatus("server_version"); v != "15.0 (fake)" {
		t.Errorf("server_version at startup: %q", v)
	}
	if v := pc.ParameterStatus("application_name"); v != "tool" {
		t.Errorf("application_name at startup: %q", v)
	}
	ctx := context.Background()
	if _, err := pc.Exec(ctx, "notice").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 2 || notices[0].Message != "from a guest\uFFFDMforged" || notices[1].Severity != "WARNING" {
		t.Fatalf("notices: %+v", notices)
	}
	if _, err := pc.Exec(ctx, "set app other").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if v := pc.ParameterStatus("application_name"); v != "other" {
		t.Errorf("application_name after SET: %q", v)
	}
}

func pgconnConnect(t *testing.T, addr string, configure func(*pgconn.Config)) *pgconn.PgConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig("postgres://app@" + addr + "/wasql?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close(context.Background()) })
	return pc
}

// TestCancelRequest: a CancelRequest ends a statement that waits (on a lock, say) at once, with
// 57014, whatever the executor's error says; a wrong secret cancels nothing.
func TestCancelRequest(t *testing.T) {
	b := newFakeBackend()
	_, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	c.fe.Send(&pgproto3.Query{String: "block"})
	c.fe.Flush()
	<-b.blocked
	cancelRequest(t, addr, &pgproto3.BackendKeyData{ProcessID: c.key.ProcessID, SecretKey: []byte{0, 0, 0, 0}})
	cancelRequest(t, addr, c.key)
	start := time.Now()
	got, e := c.receive()
	if fmt.Sprint(got) != "[Error:57014 ReadyForQuery:I]" || e.Message != "canceling statement due to user request" {
		t.Fatalf("%v %+v", got, e)
	}
	t.Logf("answered %v after the CancelRequest", time.Since(start))
	want(t, "after the cancel", c.mustQuery("select"), selectOne)

	// pgconn's CancelRequest, in the extended protocol.
	pc := pgconnConnect(t, addr, nil)
	done := make(chan error, 1)
	go func() {
		_, err := pc.ExecParams(context.Background(), "block", nil, nil, nil, nil).Close()
		done <- err
	}()
	<-b.blocked
	if err := pc.CancelRequest(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pe *pgconn.PgError
	if err := <-done; !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("pgconn: %v", err)
	}
}

func cancelRequest(t *testing.T, addr string, key *pgproto3.BackendKeyData) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.CancelRequest{ProcessID: key.ProcessID, SecretKey: key.SecretKey})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	nc.Read(make([]byte, 1)) // the server closes it
}

// TestCancelBackend: Server.CancelBackend (pg_cancel_backend) cancels by pid alone.
func TestCancelBackend(t *testing.T) {
	b := newFakeBackend()
	s, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	if s.CancelBackend(c.key.ProcessID + 1000) {
		t.Fatal("an unknown pid was found")
	}
	c.fe.Send(&pgproto3.Query{String: "block"})
	c.fe.Flush()
	<-b.blocked
	if !s.CancelBackend(c.key.ProcessID) {
		t.Fatal("the connection's pid was not found")
	}
	if got, e := c.receive(); fmt.Sprint(got) != "[Error:57014 ReadyForQuery:I]" || e.Message != "canceling statement due to user request" {
		t.Fatalf("%v %+v", got, e)
	}
}

// TestShutdownDuringStatement: Close ends a running statement with 57P01.
func TestShutdownDuringStatement(t *testing.T) {
	b := newFakeBackend()
	s, addr := startServer(t, Config{}, b)
	pc := pgconnConnect(t, addr, nil)
	done := make(chan error, 1)
	go func() {
		_, err := pc.Exec(context.Background(), "block").ReadAll()
		done <- err
	}()
	<-b.blocked
	go s.Close()
	select {
	case err := <-done:
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code != "57P01" {
			t.Fatalf("got %v", err) // the socket may close first: then no code at all
		}
		t.Logf("statement at Close: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the statement running")
	}
}

// rawSession is a Session that is not an ExecutorSession: it answers every Query with a
// ReadyForQuery of its own status, relays a notification from another goroutine, and fails
// the connection on "die".
type rawSession struct {
	out    Writer
	closed chan struct{}
}

func (s *rawSession) Parameters() []pgproto3.ParameterStatus {
	return []pgproto3.ParameterStatus{{Name: "server_version", Value: "16.4"}}
}

func (s *rawSession) Handle(ctx context.Context, msg pgproto3.FrontendMessage) error {
	q, ok := msg.(*pgproto3.Query)
	if !ok {
		return nil
	}
	switch q.String {
	case "die":
		return errors.New("the upstream went away")
	case "listen":
		go func() { // later, while the client is idle
			time.Sleep(20 * time.Millisecond)
			s.out.Send(&pgproto3.NotificationResponse{PID: 7, Channel: "ch", Payload: "hello"})
			s.out.Flush()
		}()
	case "panic":
		panic("session boom")
	case "spam":
		for g := range 8 { // notifications from 8 goroutines at once, while queries run
			go func() {
				for i := range 200 {
					s.out.Send(&pgproto3.NotificationResponse{PID: uint32(g), Channel: "spam", Payload: fmt.Sprint(i)})
					if i%10 == 0 {
						s.out.Flush()
					}
				}
				s.out.Flush()
			}()
		}
	}
	s.out.Send(&pgproto3.CommandComplete{CommandTag: []byte("LISTEN")})
	s.out.Send(&pgproto3.ReadyForQuery{TxStatus: 'T'})
	return s.out.Flush()
}

func (s *rawSession) Cancel() {}
func (s *rawSession) Close() error {
	s.closed <- struct{}{}
	return nil
}

// TestRawSession: the server relays what a Session sends as it is (its parameters, its own
// ReadyForQuery status, a notification written from another goroutine); a Handle error is the
// connection's FATAL end; Open's *pgconn.PgError reaches the client with its fields as they are.
func TestRawSession(t *testing.T) {
	b := newFakeBackend()
	closed := make(chan struct{}, 16)
	b.open = func(ctx context.Context, c Client) (Session, error) {
		if c.User == "denied" {
			return nil, fmt.Errorf("upstream: %w", &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "28P01",
				Message: `password authentication failed for user "denied"`, Detail: "from upstream", Routine: "auth_failed"})
		}
		return &rawSession{out: c.Out, closed: closed}, nil
	}
	_, addr := startServer(t, Config{}, b)
	var notified *pgconn.Notification
	pc := pgconnConnect(t, addr, func(cfg *pgconn.Config) {
		cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { notified = n }
	})
	if v := pc.ParameterStatus("server_version"); v != "16.4" {
		t.Errorf("server_version: %q", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pc.Exec(ctx, "listen").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if pc.TxStatus() != 'T' {
		t.Errorf("status %c", pc.TxStatus())
	}
	if err := pc.WaitForNotification(ctx); err != nil || notified == nil || notified.Payload != "hello" || notified.Channel != "ch" {
		t.Fatalf("notification: %v %+v", err, notified)
	}
	_, err := pc.Exec(ctx, "die").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Severity != "FATAL" || pe.Code != "XX000" || !strings.Contains(pe.Message, "upstream went away") {
		t.Fatalf("a Handle error: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the session was not closed")
	}
	c := connect(t, addr, nil)
	c.fe.Send(&pgproto3.Query{String: "panic"})
	c.fe.Flush()
	if got, e := c.receiveToEnd(); e == nil || e.Severity != "FATAL" || e.Code != "XX000" || !strings.Contains(e.Message, "session boom") {
		t.Fatalf("a panic in Handle: %v %+v", got, e)
	}

	e := dial(t, addr, map[string]string{"user": "denied"}).startup()
	if e == nil || e.Severity != "FATAL" || e.Code != "28P01" || e.Detail != "from upstream" || e.Routine != "auth_failed" {
		t.Fatalf("Open's PgError: %+v", e)
	}
}

// receiveToEnd reads until the server closes the connection or sends ReadyForQuery; it returns the
// first ErrorResponse.
func (c *client) receiveToEnd() ([]string, *pgproto3.ErrorResponse) {
	var got []string
	var first *pgproto3.ErrorResponse
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			return got, first
		}
		got = append(got, fmt.Sprintf("%T", msg))
		if e, ok := msg.(*pgproto3.ErrorResponse); ok && first == nil {
			cp := *e
			first = &cp
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return got, first
		}
	}
}

// TestUnexpectedMessage: a message no session handles after startup is answered 08P01 (and the
// connection goes on); one that does not decode ends the connection FATAL.
func TestUnexpectedMessage(t *testing.T) {
	v, err := NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Config{Users: map[string]Verifier{"app": v}}, newFakeBackend())
	pc := pgconnConnect(t, addr, func(cfg *pgconn.Config) { cfg.Password = "pw" })
	nc := pc.Conn()
	// A SASLResponse after authentication.
	nc.Write([]byte("p\x00\x00\x00\x08abcd"))
	nc.Write([]byte("Q\x00\x00\x00\x0bselect\x00"))
	fe := pgproto3.NewFrontend(nc, nc)
	c := &client{t: t, nc: nc, fe: fe}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	got, e := c.receive()
	if fmt.Sprint(got) != "[Error:08P01 "+selectOne[1:] || e.Severity != "ERROR" {
		t.Fatalf("unexpected message: %v %+v", got, e)
	}
	nc.Write([]byte("\x01\x00\x00\x00\x04"))
	if got, e := c.receiveToEnd(); e == nil || e.Code != "08P01" || e.Severity != "FATAL" {
		t.Fatalf("unknown message type: %v %+v", got, e)
	}
}

// TestWriterHammer: a session writing from many goroutines while it answers queries: every
// message arrives whole (the Writer's mutex), under -race.
func TestWriterHammer(t *testing.T) {
	b := newFakeBackend()
	b.open = func(ctx context.Context, c Client) (Session, error) {
		return &rawSession{out: c.Out, closed: make(chan struct{}, 1)}, nil
	}
	_, addr := startServer(t, Config{}, b)
	got := 0
	pc := pgconnConnect(t, addr, func(cfg *pgconn.Config) {
		cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { got++ }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := pc.Exec(ctx, "spam").ReadAll(); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := pc.Exec(ctx, "select").ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
	for got < 8*200 {
		if err := pc.WaitForNotification(ctx); err != nil {
			t.Fatalf("after %d notifications: %v", got, err)
		}
	}
	if got != 8*200 {
		t.Fatalf("%d notifications", got)
	}
}
