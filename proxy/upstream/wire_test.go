package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient speaks the protocol message by message and records every message it gets, so that
// a run through the proxy can be compared with a run against PostgreSQL directly.
type rawClient struct {
	t    testing.TB
	addr string
	nc   net.Conn
	fe   *pgproto3.Frontend
	pid  uint32
	key  []byte
	log  []string
}

func dialRaw(t testing.TB, addr, user, password string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: t, addr: addr, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	c.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": user, "database": "postgres", "application_name": "wire_test"}})
	if err := c.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		m := c.receive()
		switch m := m.(type) {
		case *pgproto3.AuthenticationCleartextPassword:
			c.fe.Send(&pgproto3.PasswordMessage{Password: password})
			c.fe.Flush()
		case *pgproto3.AuthenticationSASL:
			t.Fatalf("the raw client does not do SASL")
		case *pgproto3.BackendKeyData:
			c.pid, c.key = m.ProcessID, append([]byte(nil), m.SecretKey...)
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup: %s %s", m.Code, m.Message)
		case *pgproto3.ReadyForQuery:
			return c
		}
	}
}

func (c *rawClient) receive() pgproto3.BackendMessage {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	m, err := c.fe.Receive()
	if err != nil {
		c.t.Fatalf("receive: %v (after %d messages: %s)", err, len(c.log), strings.Join(c.log, "\n"))
	}
	return m
}

// send sends messages and flushes.
func (c *rawClient) send(ms ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range ms {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// until records messages until stop returns true for one (recorded too).
func (c *rawClient) until(stop func(pgproto3.BackendMessage) bool) {
	c.t.Helper()
	for {
		m := c.receive()
		c.record(m)
		if stop(m) {
			return
		}
	}
}

// ready records messages up to the n-th ReadyForQuery.
func (c *rawClient) ready(n int) {
	c.t.Helper()
	c.until(func(m pgproto3.BackendMessage) bool {
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			n--
		}
		return n == 0
	})
}

func isType[T pgproto3.BackendMessage](m pgproto3.BackendMessage) bool { _, ok := m.(T); return ok }

// record logs m as JSON, without what differs between two servers by nature (process ids).
func (c *rawClient) record(m pgproto3.BackendMessage) {
	if n, ok := m.(*pgproto3.NotificationResponse); ok {
		cp := *n
		cp.PID = 0
		m = &cp
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	line := tableOID.ReplaceAllString(string(b), `"TableOID":0`)
	c.log = append(c.log, tempSchema.ReplaceAllString(line, "pg_temp"))
}

// Temporary tables differ between two sessions by nature: their OIDs and schema names.
var (
	tableOID   = regexp.MustCompile(`"TableOID":\d+`)
	tempSchema = regexp.MustCompile(`pg_temp_\d+`)
)

// cancelRequest sends a CancelRequest for this client's query, as libpq does.
func (c *rawClient) cancelRequest() {
	c.t.Helper()
	nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	defer nc.Close()
	b, _ := (&pgproto3.CancelRequest{ProcessID: c.pid, SecretKey: c.key}).Encode(nil)
	nc.Write(b)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	nc.Read(make([]byte, 1)) // the server closes it
}

// script is a client conversation run once directly and once through the proxy.
type script struct {
	name string
	run  func(c *rawClient)
}

var scripts = []script{
	{"simple", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "SELECT 1 AS a, 'x'::text AS b, NULL::int AS c; SELECT g FROM generate_series(1,3) g"})
		c.ready(1)
		c.send(&pgproto3.Query{String: ""})
		c.ready(1)
		c.send(&pgproto3.Query{String: "SELECT 1; SELECT nosuch FROM nowhere; SELECT 2"})
		c.ready(1)
	}},
	{"errors with all fields", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "CREATE TEMP TABLE chk (a int CONSTRAINT a_positive CHECK (a > 0), b int NOT NULL)"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "INSERT INTO chk VALUES (-1, 1)"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "INSERT INTO chk VALUES (1, NULL)"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "SELECT 1/0"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "SELECT $$abc$$::int"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "DO $$BEGIN RAISE EXCEPTION 'boom %', 1 USING DETAIL = 'd', HINT = 'h', ERRCODE = '22012', COLUMN = 'c', CONSTRAINT = 'k', DATATYPE = 't', TABLE = 'tb', SCHEMA = 's'; END$$"})
		c.ready(1)
	}},
	{"notices", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "DO $$BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful' USING DETAIL = 'd', HINT = 'h'; END$$"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "DROP TABLE IF EXISTS nosuch_table"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "SET client_min_messages = debug1; SET application_name = 'renamed'; RESET client_min_messages"})
		c.ready(1)
	}},
	{"transaction", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "BEGIN"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "SELECT 1/0"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "SELECT 1"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "ROLLBACK"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "BEGIN; CREATE TEMP TABLE tx (a int); INSERT INTO tx VALUES (1); COMMIT; SELECT * FROM tx"})
		c.ready(1)
	}},
	{"extended pipeline", func(c *rawClient) {
		c.send(
			&pgproto3.Parse{Name: "s1", Query: "SELECT $1::int + 1 AS n, $2::text AS t"},
			&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Bind{DestinationPortal: "p1", PreparedStatement: "s1", Parameters: [][]byte{[]byte("41"), []byte("x")}},
			&pgproto3.Describe{ObjectType: 'P', Name: "p1"},
			&pgproto3.Execute{Portal: "p1"},
			&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{{0, 0, 0, 7}, nil}, ResultFormatCodes: []int16{1}},
			&pgproto3.Execute{},
			&pgproto3.Parse{Query: "SELECT g FROM generate_series(1, $1::int) g"},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("5")}},
			&pgproto3.Execute{MaxRows: 2},
			&pgproto3.Execute{MaxRows: 2},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Close{ObjectType: 'S', Name: "s1"},
			&pgproto3.Parse{Query: ""},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		c.ready(2)
	}},
	{"extended errors", func(c *rawClient) {
		c.send(
			&pgproto3.Parse{Name: "ok", Query: "SELECT 1"},
			&pgproto3.Parse{Query: "SELEC 1"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "ok"},
			&pgproto3.Execute{},
			&pgproto3.Bind{PreparedStatement: "nosuch"},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: "SELECT 1/$1::int"},
			&pgproto3.Bind{Parameters: [][]byte{[]byte("0")}},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		)
		c.ready(3)
		c.send(&pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Flush{})
		c.until(isType[*pgproto3.ParseComplete])
		c.send(&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		c.ready(1)
	}},
	{"copy both ways", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "CREATE TEMP TABLE cp (a int, b text)"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "COPY cp FROM STDIN"})
		c.until(isType[*pgproto3.CopyInResponse])
		c.send(&pgproto3.CopyData{Data: []byte("1\tone\n2\ttwo\n")}, &pgproto3.CopyData{Data: []byte("3\t\\N\n")}, &pgproto3.CopyDone{})
		c.ready(1)
		c.send(&pgproto3.Query{String: "COPY cp FROM STDIN"})
		c.until(isType[*pgproto3.CopyInResponse])
		c.send(&pgproto3.CopyData{Data: []byte("4\tfour\n")}, &pgproto3.CopyFail{Message: "client gave up"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "COPY cp FROM STDIN"})
		c.until(isType[*pgproto3.CopyInResponse])
		c.send(&pgproto3.CopyData{Data: []byte("x\ty\n")}, &pgproto3.CopyDone{})
		c.ready(1)
		c.send(&pgproto3.Query{String: "COPY cp TO STDOUT"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "COPY (SELECT g, repeat('x', 1000) FROM generate_series(1, 500) g) TO STDOUT WITH (FORMAT csv, HEADER)"})
		c.ready(1)
		c.send(&pgproto3.Parse{Query: "COPY cp TO STDOUT"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		c.ready(1)
	}},
	{"listen notify", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "LISTEN ch"})
		c.ready(1)
		notify(c.t, "NOTIFY ch, 'from another connection'")
		c.until(isType[*pgproto3.NotificationResponse])
		c.send(&pgproto3.Query{String: "NOTIFY ch, 'to myself'"})
		c.ready(1)
		c.send(&pgproto3.Query{String: "UNLISTEN *"})
		c.ready(1)
	}},
	{"cancel", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "SELECT pg_sleep(20)"})
		time.Sleep(300 * time.Millisecond)
		c.cancelRequest()
		c.ready(1)
		c.send(&pgproto3.Parse{Query: "SELECT pg_sleep(20)"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		time.Sleep(300 * time.Millisecond)
		c.cancelRequest()
		c.ready(1)
	}},
	{"function call", func(c *rawClient) {
		c.send(&pgproto3.FunctionCall{Function: 1397, ArgFormatCodes: []uint16{0}, Arguments: [][]byte{[]byte("-5")}}) // int4abs
		c.ready(1)
		c.send(&pgproto3.FunctionCall{Function: 1, Arguments: [][]byte{}})
		c.ready(1)
	}},
	{"large rows", func(c *rawClient) {
		c.send(&pgproto3.Query{String: "SELECT repeat('y', 200000) AS big, g FROM generate_series(1, 3) g"})
		c.ready(1)
	}},
}

// notify runs one statement on a connection of its own, directly.
func notify(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, pgURL(t, "root"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql).ReadAll(); err != nil {
		t.Fatal(err)
	}
}

// TestSameMessages runs each script against PostgreSQL and through the proxy and compares
// every message the client gets.
func TestSameMessages(t *testing.T) {
	url := pgURL(t, "root")
	for _, raw := range []bool{true, false} {
		b, err := New(Config{URL: url, Registry: testRegistry(t)})
		if err != nil {
			t.Fatal(err)
		}
		proxied := serve(t, b, false, raw)
		for _, sc := range scripts {
			t.Run(fmt.Sprintf("%s/raw=%v", sc.name, raw), func(t *testing.T) {
				direct := dialRaw(t, pgAddr(), "root", "")
				sc.run(direct)
				through := dialRaw(t, proxied, "root", "")
				sc.run(through)
				compareLogs(t, direct.log, through.log)
			})
		}
	}
}

func compareLogs(t *testing.T, want, got []string) {
	t.Helper()
	for i := 0; i < max(len(want), len(got)); i++ {
		w, g := "(none)", "(none)"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("message %d differs:\ndirect:  %s\nproxied: %s\n\ndirect run:\n%s\n\nproxied run:\n%s", i, w, g, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
}
