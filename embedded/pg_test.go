package embedded

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/proxy"
)

// servePG starts the Postgres wire for e on a free loopback port.
func servePG(t *testing.T, e *Engine, cfg proxy.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := proxy.NewServer(cfg, e.PGBackend())
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

// pgServeConnect opens an engine, serves it on the Postgres wire and connects to it as app.
func pgServeConnect(t *testing.T, mode pgx.QueryExecMode) *pgx.Conn {
	conn, err := pgConnect(t, servePG(t, open(t), proxy.Config{}), "app", "", mode)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func pgConnect(t *testing.T, addr, user, pass string, mode pgx.QueryExecMode) (*pgx.Conn, error) {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/wasql?sslmode=disable", user, pass, addr))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler { // cancel with a CancelRequest
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	return conn, err
}

func TestPGWirePgx(t *testing.T) {
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	ctx := context.Background()
	mod := module(t, "../udf/testdata/numeric.wasm")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			conn, err := pgConnect(t, addr, "app", "", mode)
			if err != nil {
				t.Fatal(err)
			}
			if v := conn.PgConn().ParameterStatus("server_version"); v[:3] != "15." {
				t.Fatalf("server_version %q", v)
			}
			name := "plus_" + map[pgx.QueryExecMode]string{pgx.QueryExecModeSimpleProtocol: "s", pgx.QueryExecModeExec: "e"}[mode]
			if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'add'`, name, mod)); err != nil {
				t.Fatal(err)
			}
			var got int64
			if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT %s(40, 2)", name)).Scan(&got); err != nil || got != 42 {
				t.Fatalf("%s(40, 2) = %d, %v", name, got, err)
			}
			_, err = conn.Exec(ctx, "SELECT nope(1)")
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code == "XX000" {
				t.Fatalf("unknown function: %v", err)
			}
			// The connection survives errors.
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&got); err != nil || got != 1 {
				t.Fatalf("after an error: %v", err)
			}
		})
	}
}

func TestPGWireAuthAndCancel(t *testing.T) {
	e := open(t)
	v, err := proxy.NewVerifier("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	addr := servePG(t, e, proxy.Config{Users: map[string]proxy.Verifier{"app": v}})
	_, err = pgConnect(t, addr, "app", "wrong", pgx.QueryExecModeSimpleProtocol)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("wrong password: %v", err)
	}
	conn, err := pgConnect(t, addr, "app", "s3cret", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	mod := module(t, "../udf/testdata/fib.wasm")
	ctx := context.Background()
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION spin(bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'spin' WITH (timeout = '60s', fuel = 1000000000000)`, mod)); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = conn.Exec(qctx, "SELECT spin(1)")
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("cancel took %v", took)
	}
	var ce *pgconn.PgError
	if !errors.As(err, &ce) || ce.Code != "57014" {
		t.Fatalf("canceled spin: %v, want SQLSTATE 57014", err)
	}
	t.Logf("canceled after %v: %v", time.Since(start), err)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("the connection is not usable after a cancel: %v", err)
	}
}

// TestPGWireSession: SET/SHOW answered by the proxy, transactions and 25P02 in a failed one.
func TestPGWireSession(t *testing.T) {
	conn := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "SET application_name = 'wasql-test'"); err != nil {
		t.Fatal(err)
	}
	if got := conn.PgConn().ParameterStatus("application_name"); got != "wasql-test" {
		t.Fatalf("ParameterStatus after SET: %q", got)
	}
	var s string
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&s); err != nil || s != "wasql-test" {
		t.Fatalf("SHOW: %q %v", s, err)
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'T' {
		t.Fatalf("after BEGIN: status %c", conn.PgConn().TxStatus())
	}
	if _, err := conn.Exec(ctx, "SELECT nope()"); err == nil {
		t.Fatal("no error")
	}
	_, err := conn.Exec(ctx, "SELECT 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Fatalf("in a failed transaction: %v", err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'I' {
		t.Fatalf("after ROLLBACK: status %c", conn.PgConn().TxStatus())
	}
}

// rawConn is a pgproto3 frontend on a fresh connection, past startup.
func rawConn(t *testing.T, addr string) (*pgproto3.Frontend, net.Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "app", "database": "wasql"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return fe, nc
		}
	}
}

// receiveUntilReady collects message type names until ReadyForQuery.
func receiveUntilReady(t *testing.T, fe *pgproto3.Frontend) []string {
	t.Helper()
	var got []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		name := fmt.Sprintf("%T", msg)[len("*pgproto3."):]
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			name += ":" + e.Code
		}
		got = append(got, name)
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return got
		}
	}
}

// TestPGWireProtocol: pipelined extended-protocol messages, row-limited Execute, skipping to
// Sync after an error, and a malformed message.
func TestPGWireProtocol(t *testing.T) {
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	fe, _ := rawConn(t, addr)
	fe.Send(&pgproto3.Query{String: "CREATE TABLE p (n bigint); INSERT INTO p VALUES (1), (2), (3), (4), (5)"})
	fe.Flush()
	if got := fmt.Sprint(receiveUntilReady(t, fe)); got != "[CommandComplete CommandComplete ReadyForQuery]" {
		t.Fatalf("setup: %s", got)
	}
	// Pipeline: parse, bind, describe, execute 2 rows, execute the rest, then an error, then
	// messages that must be skipped up to Sync.
	fe.Send(&pgproto3.Parse{Name: "s1", Query: "SELECT n FROM p WHERE n > $1 ORDER BY n", ParameterOIDs: []uint32{proxy.OIDInt8}})
	fe.Send(&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}})
	fe.Send(&pgproto3.Describe{ObjectType: 'P'})
	fe.Send(&pgproto3.Execute{MaxRows: 2})
	fe.Send(&pgproto3.Execute{MaxRows: 0})
	fe.Send(&pgproto3.Parse{Query: "SELECT nope_nope()"})
	fe.Send(&pgproto3.Bind{})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	fe.Flush()
	want := "[ParseComplete BindComplete RowDescription DataRow DataRow PortalSuspended DataRow DataRow CommandComplete ParseComplete BindComplete ErrorResponse:42883 ReadyForQuery]"
	if got := fmt.Sprint(receiveUntilReady(t, fe)); got != want {
		t.Fatalf("pipeline:\ngot  %s\nwant %s", got, want)
	}
	// A message with a body far over the limit is refused without allocating it.
	fe2, nc := rawConn(t, addr)
	_ = fe2
	nc.Write([]byte{'Q', 0x7f, 0xff, 0xff, 0xff})
	buf := make([]byte, 1)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(buf); err != nil || buf[0] != 'E' {
		t.Fatalf("oversized message: %q %v", buf, err)
	}
	// The server still serves everyone else.
	fe.Send(&pgproto3.Query{String: "SELECT count(*) FROM p"})
	fe.Flush()
	if got := fmt.Sprint(receiveUntilReady(t, fe)); got != "[RowDescription DataRow CommandComplete ReadyForQuery]" {
		t.Fatalf("after a bad client: %s", got)
	}
}

func TestPGWireParams(t *testing.T) {
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	mod := module(t, "../udf/testdata/numeric.wasm")
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			conn, err := pgConnect(t, addr, "app", "", mode)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("plus_%d", mode)
			if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS $1, 'add'", name), mod); err != nil {
				t.Fatalf("module as a bytea parameter: %v", err)
			}
			var got int64
			if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT %s($1, $2)", name), int64(40), int64(2)).Scan(&got); err != nil || got != 42 {
				t.Fatalf("%s($1, $2) = %d, %v", name, got, err)
			}
			table := "tp_" + name
			if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id bigint primary key, v bigint, s text)"); err != nil {
				t.Fatal(err)
			}
			for i := int64(1); i <= 3; i++ {
				if _, err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES ($1, $2, $3)", i, i*10, fmt.Sprint("row ", i)); err != nil {
					t.Fatalf("insert with parameters: %v", err)
				}
			}
			var s string
			if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT %s(v, $1), s FROM %s WHERE id = $2", name, table), int64(5), int64(2)).Scan(&got, &s); err != nil || got != 25 || s != "row 2" {
				t.Fatalf("select with parameters: %d %q %v", got, s, err)
			}
		})
	}
}

// TestPGSessionFunctions: Postgres's session functions on the Postgres wire, MySQL's on the
// MySQL wire.
func TestPGSessionFunctions(t *testing.T) {
	e := open(t)
	conn, err := pgConnect(t, servePG(t, e, proxy.Config{}), "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var version, db, schema string
	var pid int32
	if err := conn.QueryRow(context.Background(), "SELECT version(), current_database(), current_schema(), pg_backend_pid()").Scan(&version, &db, &schema, &pid); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "PostgreSQL 15.") || db != "wasql" || schema != "public" || uint32(pid) != conn.PgConn().PID() {
		t.Fatalf("version %q, database %q, schema %q, pid %d (client has %d)", version, db, schema, pid, conn.PgConn().PID())
	}
	_, rows, err := e.Query(e.NewContext(context.Background()), "SELECT version()")
	if err != nil || strings.HasPrefix(fmt.Sprint(rows[0][0]), "PostgreSQL") {
		t.Fatalf("the MySQL side sees %v %v", rows, err)
	}
}

// TestPGParamTypes: Parse/Describe gives each $n the type of where it stands, so drivers encode
// parameters as the server expects.
func TestPGParamTypes(t *testing.T) {
	conn := pgServeConnect(t, pgx.QueryExecModeCacheStatement)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE pt (id int PRIMARY KEY, name text, f float8)"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]uint32{
		"SELECT $1::bigint":                            {proxy.OIDInt8},
		"SELECT name FROM pt WHERE id IN ($1, $2)":     {proxy.OIDInt4, proxy.OIDInt4},
		"SELECT id FROM pt WHERE name = $1 OR f < $2":  {proxy.OIDText, proxy.OIDFloat8},
		"INSERT INTO pt (name, id) VALUES ($1, $2)":    {proxy.OIDText, proxy.OIDInt4},
		"UPDATE pt SET name = $2 WHERE id = $1":        {proxy.OIDInt4, proxy.OIDText},
		"SELECT id FROM pt WHERE id = $1 AND id <> $1": {proxy.OIDInt4},
	} {
		sd, err := conn.PgConn().Prepare(ctx, "", q, nil)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if fmt.Sprint(sd.ParamOIDs) != fmt.Sprint(want) {
			t.Errorf("%s: parameter types %v, want %v", q, sd.ParamOIDs, want)
		}
	}
}

// TestPGToolQueries runs the metadata queries of BI tools (Grafana's datasource editor,
// grafana/grafana:public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts)
// and checks what they list.
func TestPGToolQueries(t *testing.T) {
	conn := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE metrics (time timestamp, host varchar(20), value float8)"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"SELECT current_setting('server_version_num')::int/100 as version":  "[[1500]]",
		"SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'": "[]",
		`SELECT table_name FROM information_schema.tables WHERE table_schema IN (SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1), array_upper(string_to_array(current_setting('search_path'),','),1)) as i, string_to_array(current_setting('search_path'),',') s) ORDER BY table_name`: "[[metrics]]",
		`select quote_ident(table_name) as table_name from information_schema.tables where quote_ident(table_schema) not in ('information_schema', 'pg_catalog', '_timescaledb_cache') and table_type = 'BASE TABLE' order by table_name`:                                                                                                                                                             "[[metrics]]",
		"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'metrics' ORDER BY ordinal_position":                                                                                                                                                                                                                                            "[[time timestamp without time zone] [host character varying] [value double precision]]",
		"SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'public'":                             "[[public]]",
		"SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' ORDER BY 1":                                    "[[information_schema] [public]]",
		"SELECT t.oid, typarray FROM pg_type t JOIN pg_namespace ns ON typnamespace = ns.oid WHERE typname = 'hstore'": "[]",
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		var got [][]any
		for rows.Next() {
			v, _ := rows.Values()
			got = append(got, v)
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if s := fmt.Sprint(got); s != want && !(want == "[]" && got == nil) {
			t.Errorf("%s:\n got %s\nwant %s", q, s, want)
		}
	}
}

// TestPGErrors: errors carry Postgres's SQLSTATE and read like Postgres's messages.
func TestPGErrors(t *testing.T) {
	conn := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	for q, want := range map[string]string{
		"SELECT nope(1)":                    "42883 function nope(integer) does not exist",
		"SELECT nope(1::bigint, 'x')":       "42883 function nope(bigint, text) does not exist",
		"SELECT * FROM nope":                `42P01 relation "nope" does not exist`,
		"SELECT nope FROM pg_class":         `42703 column "nope" does not exist`,
		"selec 1":                           `42601 syntax error at or near "selec"`,
		"SELECT 'abc'::int":                 `22P02 invalid input syntax for type integer: "abc"`,
		"SELECT 1 / 0":                      "22012 division by zero",
		"CREATE TABLE x (a interval)":       "0A000 the type interval is not supported",
		"SELECT * FROM other.t":             `3F000 schema "other" does not exist`,
		"COPY x TO '/tmp/x'":                "0A000 COPY with a file of the server (send the data with COPY FROM STDIN or TO STDOUT: psql's \\copy) is not supported",
		"SELECT current_setting('no.such')": `42704 unrecognized configuration parameter "no.such"`,
		"SELECT 1 FROM pg_class WHERE oid = 'nope'::regclass": `42P01 relation "nope" does not exist`,
	} {
		_, err := conn.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code+" "+pe.Message != want {
			t.Errorf("%s: %v, want %s", q, err, want)
		}
	}
}

// TestPGStatementTimeout: SET statement_timeout ends a spinning guest with PostgreSQL's 57014,
// in the simple and the extended protocol.
func TestPGStatementTimeout(t *testing.T) {
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	mod := module(t, "../udf/testdata/fib.wasm")
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			conn, err := pgConnect(t, addr, "app", "", mode)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("spin_%d", mode)
			if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION %s(bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'spin' WITH (timeout = '60s', fuel = 1000000000000)`, name, mod)); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "SET statement_timeout = '300ms'"); err != nil {
				t.Fatal(err)
			}
			var shown string
			if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "300ms" {
				t.Fatalf("SHOW statement_timeout: %q %v", shown, err)
			}
			start := time.Now()
			_, err = conn.Exec(ctx, fmt.Sprintf("SELECT %s(1)", name))
			took := time.Since(start)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
				t.Fatalf("over statement_timeout: %v", err)
			}
			if took > 3*time.Second {
				t.Fatalf("a 300ms statement_timeout ended the statement after %v", took)
			}
			t.Logf("300ms statement_timeout: the statement ended after %v", took)
			if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
				t.Fatal(err)
			}
			var one int
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("after the timeout: %v", err)
			}
		})
	}
}

// TestPGCancelLockWait: a CancelRequest for a statement waiting on the statement lock is
// answered 57014 "canceling statement due to user request", not 42000 "context canceled".
func TestPGCancelLockWait(t *testing.T) {
	e := openTables(t, TablesMemory) // statements wait behind the memory tables' locks
	addr := servePG(t, e, proxy.Config{})
	mod := module(t, "../udf/testdata/fib.wasm")
	ctx := context.Background()
	holder, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	waiter, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`CREATE FUNCTION spin(bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'spin' WITH (timeout = '60s', fuel = 1000000000000)`, mod),
		"CREATE TABLE lw (n bigint)",
		"SET statement_timeout = '2s'",
	} {
		if _, err := holder.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	held := make(chan error, 1)
	go func() { // holds the exclusive statement lock until its statement_timeout
		_, err := holder.Exec(ctx, "INSERT INTO lw SELECT spin(1)")
		held <- err
	}()
	time.Sleep(200 * time.Millisecond)
	qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = waiter.Exec(qctx, "SELECT count(*) FROM lw")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
		t.Fatalf("canceled lock wait: %v", err)
	}
	t.Logf("canceled lock wait answered after %v", time.Since(start))
	err = <-held
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
		t.Fatalf("the lock holder: %v", err)
	}
}

// TestPGOutOfFileDescriptors: 300 clients against a server limited to 256 file descriptors do
// not make it exit. Accept is retried, the connections it has go on, and the clients left
// waiting are served once descriptors free up. The server runs in a child process (this test
// binary) with the lowered limit.
func TestPGOutOfFileDescriptors(t *testing.T) {
	if os.Getenv("WASQL_PG_FD_CHILD") == "1" {
		pgFDChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPGOutOfFileDescriptors$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WASQL_PG_FD_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	lines := bufio.NewScanner(stdout)
	addr := ""
	for addr == "" && lines.Scan() {
		addr, _ = strings.CutPrefix(lines.Text(), "addr ")
	}
	go func() {
		io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	if addr == "" {
		t.Fatalf("the child did not serve:\n%s", stderr.String())
	}
	const clients = 300
	ready := make(chan int, clients)
	conns := make([]net.Conn, clients)
	for i := range conns {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { nc.Close() })
		conns[i] = nc
		nc.SetDeadline(time.Now().Add(60 * time.Second))
		fe := pgproto3.NewFrontend(nc, nc)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "app", "database": "wasql"}})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				msg, err := fe.Receive()
				if err != nil {
					return
				}
				if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
					ready <- i
					return
				}
			}
		}()
	}
	// Wait until the server has run out of descriptors and the served clients stop growing.
	served := map[int]bool{}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "too many open files"); {
		if time.Now().After(deadline) {
			t.Fatalf("the server never ran out of descriptors (%d clients served)\n%s", len(ready), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for quiet := false; !quiet; {
		select {
		case i := <-ready:
			served[i] = true
		case <-time.After(2 * time.Second):
			quiet = true
		}
	}
	first := len(served)
	if first >= clients || first == 0 {
		t.Fatalf("%d of %d clients served under a 256-descriptor limit", first, clients)
	}
	select {
	case err := <-exited:
		t.Fatalf("the server exited: %v\n%s", err, stderr.String())
	default:
	}
	// Free 100 descriptors: the waiting clients are served.
	closed := 0
	for i := range served {
		if closed == 100 {
			break
		}
		conns[i].Close()
		closed++
	}
	for deadline := time.After(60 * time.Second); len(served) < clients; {
		select {
		case i := <-ready:
			served[i] = true
		case err := <-exited:
			t.Fatalf("the server exited: %v\n%s", err, stderr.String())
		case <-deadline:
			t.Fatalf("%d of %d clients served after 100 left (%d before)\n%s", len(served), clients, first, stderr.String())
		}
	}
	t.Logf("%d of %d clients served under the limit, the other %d once 100 left", first, clients, clients-first)
}

// pgFDChild is TestPGOutOfFileDescriptors's server: 256 descriptors, until stdin closes.
func pgFDChild(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	e := open(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := proxy.NewServer(proxy.Config{}, e.PGBackend())
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	fmt.Printf("addr %s\n", l.Addr())
	stdinClosed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case err := <-served:
		t.Fatalf("Serve returned: %v", err)
	case <-stdinClosed:
	}
	s.Close()
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPGEngineFault: a panic in the engine is the statement's XX000 error (the proxy keeps a
// carried XX000; proxy.TestErrorCodes).
func TestPGEngineFault(t *testing.T) {
	err := engineFault("index out of range [3] with length 3")
	if code := sqlstate.Of(err); code != sqlstate.InternalError || err.Error() != "internal error in the engine: index out of range [3] with length 3" {
		t.Fatalf("%s %v", code, err)
	}
	var c sqlstate.Carrier
	if !errors.As(fmt.Errorf("statement: %w", err), &c) {
		t.Fatal("the code does not survive wrapping")
	}
}

// TestPGGuestErrorText: a guest's row error with NULs in it cannot forge ErrorResponse fields
// (the client used to see 28P01 "password authentication failed for user "admin""), and the
// connection goes on.
func TestPGGuestErrorText(t *testing.T) {
	mod := module(t, "testdata/forge.wasm")
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			conn := pgServeConnect(t, mode)
			if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION forge(text) RETURNS text LANGUAGE wasm AS '\x%x', 'forge'`, mod)); err != nil {
				t.Fatal(err)
			}
			_, err := conn.Exec(ctx, "SELECT forge('x')")
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code == "28P01" || strings.Contains(pe.Message, "\x00") || pe.Severity != "ERROR" {
				t.Fatalf("forged error: %#v", err)
			}
			if !strings.Contains(pe.Message, "bad\uFFFDC28P01\uFFFDMpassword authentication failed") {
				t.Fatalf("the guest's text: %q", pe.Message)
			}
			t.Logf("%s %s", pe.Code, pe.Message)
			var one int
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("after the guest's error: %v", err)
			}
		})
	}
}
