package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/proxy"
)

// copyTable makes the table the COPY tests load.
const copyTable = `CREATE TABLE t (a bigint PRIMARY KEY, b integer, s text, f boolean, d numeric(10,2),
	ts timestamptz, bin bytea, n integer DEFAULT 7 NOT NULL)`

// dump is the rows of t, a line each, in order of a.
func dump(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT a, b, s, f, d::text, ts, bin, n FROM t ORDER BY a", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if ts, ok := v.(time.Time); ok {
				vals[i] = ts.UTC().Format(time.RFC3339)
			}
		}
		out = append(out, fmt.Sprintf("%v", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// copyConn connects to a new engine's Postgres wire, with copyTable made.
func copyConn(t *testing.T) (*pgx.Conn, context.Context) {
	t.Helper()
	conn := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, copyTable); err != nil {
		t.Fatal(err)
	}
	return conn, ctx
}

func copyIn(conn *pgx.Conn, data, stmt string) (pgconn.CommandTag, error) {
	return conn.PgConn().CopyFrom(context.Background(), strings.NewReader(data), stmt)
}

// TestCopyText: COPY FROM STDIN in the text format, with its escapes and NULL, a column left to
// its default, Postgres's input of booleans, numerics, timestamps and bytea.
func TestCopyText(t *testing.T) {
	conn, _ := copyConn(t)
	data := "1\t10\tplain\tt\t1.5\t2024-05-02 10:00:00+02\t\\\\x4142\n" +
		"2\t\\N\ttab\\there\\\\back\\nline\tno\t-0.25\t\\N\t\\N\n" +
		"3\t-7\t\\x41\\101\\\\N\tFALSE\t100\t2024-01-01 00:00:00Z\t\\\\x\r\n" +
		"\\.\nignored after the end marker\n"
	tag, err := copyIn(conn, data, "COPY t (a, b, s, f, d, ts, bin) FROM STDIN")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 3" {
		t.Errorf("tag %q", tag)
	}
	want := "[1 10 plain true 1.50 2024-05-02T08:00:00Z [65 66] 7]\n" +
		"[2 <nil> tab\there\\back\nline false -0.25 <nil> <nil> 7]\n" +
		"[3 -7 AA\\N false 100.00 2024-01-01T00:00:00Z [] 7]"
	if got := dump(t, conn); got != want {
		t.Errorf("rows\n%s\nwant\n%s", got, want)
	}
}

// TestCopyCSV: the CSV format with a header, quotes around delimiters, newlines and quotes,
// NULL as an empty unquoted field, FORCE_NULL and FORCE_NOT_NULL, another delimiter.
func TestCopyCSV(t *testing.T) {
	conn, _ := copyConn(t)
	data := "a,s,b\n1,\"x, \"\"quoted\"\"\ny\",5\n2,,\n3,\"\",\"\"\n"
	tag, err := copyIn(conn, data, "COPY t (a, s, b) FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL (b))")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 3" {
		t.Errorf("tag %q", tag)
	}
	if _, err := copyIn(conn, "4;;\n", "COPY t (a, s, b) FROM STDIN CSV DELIMITER ';' FORCE NOT NULL s"); err != nil {
		t.Fatal(err)
	}
	want := "[1 5 x, \"quoted\"\ny <nil> <nil> <nil> <nil> 7]" +
		"\n[2 <nil> <nil> <nil> <nil> <nil> <nil> 7]" +
		"\n[3 <nil>  <nil> <nil> <nil> <nil> 7]" +
		"\n[4 <nil>  <nil> <nil> <nil> <nil> 7]"
	if got := dump(t, conn); got != want {
		t.Errorf("rows\n%s\nwant\n%s", got, want)
	}
	if _, err := copyIn(conn, "s,a\n", "COPY t (a, s) FROM STDIN (FORMAT csv, HEADER match)"); pgCode(err) != "22P04" {
		t.Errorf("a header that does not match: %v", err)
	}
}

// TestCopyBinary: pgx's CopyFrom, which sends the binary format.
func TestCopyBinary(t *testing.T) {
	conn, ctx := copyConn(t)
	at := time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC)
	rows := [][]any{
		{int64(1), int32(10), "héllo", true, at, []byte("AB")},
		{int64(2), nil, nil, false, nil, nil},
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"a", "b", "s", "f", "ts", "bin"}, pgx.CopyFromRows(rows))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("copied %d rows", n)
	}
	want := "[1 10 héllo true <nil> 2024-05-02T08:00:00Z [65 66] 7]\n[2 <nil> <nil> false <nil> <nil> <nil> 7]"
	if got := dump(t, conn); got != want {
		t.Errorf("rows\n%s\nwant\n%s", got, want)
	}
}

// TestCopyErrors: a field that does not read, a duplicate key, a field too many, CopyFail and an
// unknown column each fail the whole COPY (no row of it stays) with PostgreSQL's SQLSTATE and the
// line in the context; the session goes on.
func TestCopyErrors(t *testing.T) {
	conn, ctx := copyConn(t)
	for _, c := range []struct{ stmt, data, code, where string }{
		{"COPY t (a, b) FROM STDIN", "1\t1\n2\t2\n3\tthree\n4\t4\n", "22P02", `COPY t, line 3, column b: "three"`},
		{"COPY t (a, b) FROM STDIN", "1\t1\n2\t99999999999\n", "22003", "COPY t, line 2, column b"},
		{"COPY t (a, b) FROM STDIN", "1\t1\n1\t2\n", "23505", "COPY t, line 2"},
		{"COPY t (a, b) FROM STDIN", "1\t1\t1\n", "22P04", "COPY t, line 1"},
		{"COPY t (a, b) FROM STDIN", "1\n", "22P04", "COPY t, line 1"},
		{"COPY t (a, f) FROM STDIN", "1\tmaybe\n", "22P02", "COPY t, line 1, column f"},
		{"COPY t (a, s) FROM STDIN", "1\t\xff\xfe\n", "22021", "COPY t, line 1"},
		{"COPY t (a, nope) FROM STDIN", "", "42703", ""},
		{"COPY nope FROM STDIN", "", "42P01", ""},
		{"COPY t TO PROGRAM 'cat'", "", "0A000", ""},
		{"COPY t FROM '/etc/passwd'", "", "0A000", ""},
		{"COPY t FROM STDIN (FORMAT xml)", "", "22023", ""},
		{"COPY t (a, n) FROM STDIN", "1\t\\N\n", "23502", ""},
	} {
		_, err := copyIn(conn, c.data, c.stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(pe.Where, c.where) {
			t.Errorf("%s with %q: %v (where %q), want %s and %q", c.stmt, c.data, err, whereOf(err), c.code, c.where)
		}
	}
	var count int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&count); err != nil || count != 0 {
		t.Errorf("rows after the failed COPYs: %d, %v", count, err)
	}
	// CopyFail: the client's reader fails.
	_, err := conn.PgConn().CopyFrom(ctx, &failingReader{data: "1\t1\n"}, "COPY t (a, b) FROM STDIN")
	if pgCode(err) != "57014" {
		t.Errorf("CopyFail: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&count); err != nil || count != 0 {
		t.Errorf("rows after CopyFail: %d, %v", count, err)
	}
}

func whereOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Where
	}
	return ""
}

// failingReader gives data, then fails: pgconn then sends CopyFail.
type failingReader struct{ data string }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, errors.New("the client's file went away")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCopyTransaction: a COPY in a transaction block is undone by its ROLLBACK (durable tables);
// the memory tables refuse it, as any write in a transaction.
func TestCopyTransaction(t *testing.T) {
	e := open(t)
	conn, err := pgConnect(t, servePG(t, e, proxy.Config{}), "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := conn.Exec(ctx, copyTable); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	_, err = copyIn(conn, "1\t1\n2\t2\n", "COPY t (a, b) FROM STDIN")
	if !e.Durable() {
		if pgCode(err) != "0A000" {
			t.Fatalf("COPY in a transaction on the memory tables: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var count int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&count); err != nil || count != 2 {
		t.Errorf("rows in the transaction: %d, %v", count, err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&count); err != nil || count != 0 {
		t.Errorf("rows after ROLLBACK: %d, %v", count, err)
	}
}

// TestCopyProtocol: a COPY between statements of one Query, the data split anywhere across
// CopyData messages; a message that is not COPY's during a COPY fails it with 08P01; a COPY begun
// by Execute ends at CopyDone and its Sync.
func TestCopyProtocol(t *testing.T) {
	addr := servePG(t, open(t), proxy.Config{})
	fe, _ := rawConn(t, addr)
	send := func(msgs ...pgproto3.FrontendMessage) {
		for _, m := range msgs {
			fe.Send(m)
		}
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	send(&pgproto3.Query{String: "CREATE TABLE c (a int, s text)"})
	receiveUntilReady(t, fe)
	send(&pgproto3.Query{String: "COPY c FROM STDIN; SELECT count(*), max(s) FROM c"})
	if m, err := fe.Receive(); err != nil || fmt.Sprintf("%T", m) != "*pgproto3.CopyInResponse" {
		t.Fatalf("after COPY: %T %v", m, err)
	}
	send(&pgproto3.CopyData{Data: []byte("1\tx")}, &pgproto3.CopyData{Data: []byte("y\n2\t")}, &pgproto3.CopyData{Data: []byte("zz\n")},
		&pgproto3.CopyDone{})
	if got := strings.Join(receiveUntilReady(t, fe), " "); got != "CommandComplete RowDescription DataRow CommandComplete ReadyForQuery" {
		t.Errorf("after the data: %s", got)
	}
	send(&pgproto3.Query{String: "COPY c FROM STDIN"})
	fe.Receive()
	send(&pgproto3.CopyData{Data: []byte("3\tq\n")}, &pgproto3.Query{String: "SELECT 1"})
	if got := strings.Join(receiveUntilReady(t, fe), " "); got != "ErrorResponse:08P01 ReadyForQuery" {
		t.Errorf("a Query during COPY: %s", got)
	}
	send(&pgproto3.Parse{Query: "COPY c FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	var got []string
	for len(got) < 4 {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%T", m)[len("*pgproto3."):])
	}
	if strings.Join(got, " ") != "ParseComplete BindComplete NoData CopyInResponse" {
		t.Errorf("extended COPY: %v", got)
	}
	send(&pgproto3.CopyData{Data: []byte("4\tw\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
	if got := strings.Join(receiveUntilReady(t, fe), " "); got != "CommandComplete ReadyForQuery" {
		t.Errorf("after the extended COPY's data: %s", got)
	}
	send(&pgproto3.Query{String: "SELECT count(*) FROM c"})
	var count string
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := m.(*pgproto3.DataRow); ok {
			count = string(d.Values[0])
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if count != "3" {
		t.Errorf("rows: %s, want 3 (the COPY failed by a Query loads nothing)", count)
	}
}

// TestCopyTo: COPY TO STDOUT of a table and of a query, in the text format (escapes, NULL), CSV
// (header, quotes, FORCE_QUOTE) and binary, which loads back into a table of the same shape.
func TestCopyTo(t *testing.T) {
	conn, ctx := copyConn(t)
	data := "1\t10\ttab\\there\tt\t1.5\t2024-05-02 08:00:00+00\t\\\\x4142\n2\t\\N\ta,\"b\"\tf\t\\N\t\\N\t\\N\n"
	if _, err := copyIn(conn, data, "COPY t (a, b, s, f, d, ts, bin) FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	copyOut := func(stmt string) string {
		var b strings.Builder
		tag, err := conn.PgConn().CopyTo(ctx, &b, stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if tag.String() != "COPY 2" {
			t.Errorf("%s: tag %q", stmt, tag)
		}
		return b.String()
	}
	for stmt, want := range map[string]string{
		"COPY t (a, b, s, f, d, ts, bin) TO STDOUT": "1\t10\ttab\\there\tt\t1.50\t2024-05-02 08:00:00+00\t\\\\x4142\n" +
			"2\t\\N\ta,\"b\"\tf\t\\N\t\\N\t\\N\n",
		"COPY (SELECT a, s FROM t ORDER BY a) TO STDOUT WITH (FORMAT csv, HEADER)": "a,s\n1,tab\there\n2,\"a,\"\"b\"\"\"\n",
		"COPY t (a, b) TO STDOUT (FORMAT csv, FORCE_QUOTE (b))":                    "1,\"10\"\n2,\n",
	} {
		if got := copyOut(stmt); got != want {
			t.Errorf("%s:\n got %q\nwant %q", stmt, got, want)
		}
	}
	bin := copyOut("COPY t TO STDOUT (FORMAT binary)")
	if _, err := conn.Exec(ctx, "CREATE TABLE t2 (LIKE t)"); err != nil {
		if _, err := conn.Exec(ctx, strings.Replace(copyTable, "TABLE t ", "TABLE t2 ", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := copyIn(conn, bin, "COPY t2 FROM STDIN (FORMAT binary)"); err != nil {
		t.Fatal(err)
	}
	if a, b := copyOut("COPY (SELECT * FROM t ORDER BY a) TO STDOUT"), copyOut("COPY (SELECT * FROM t2 ORDER BY a) TO STDOUT"); a != b {
		t.Errorf("binary round trip:\n%q\n%q", a, b)
	}
}
