//go:build integration

package integration

// Debugging from SQL (issue 12 §4): a guest's stdout/stderr lines reach the client as NOTICEs on
// the Postgres wire (the embedded engine and the proxy in front of PostgreSQL; pgx and psql) and as Notes in
// SHOW WARNINGS on the MySQL wire, sanitized and bounded per statement; a trap's 38000 names the
// Wasm frames from the module's name section.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var guestLogFunctions = []struct{ module, sql string }{
	{"udf/testdata/logger.wasm", "CREATE FUNCTION logger(b bytea) RETURNS integer LANGUAGE wasm AS $1, 'logger'"},
	{"udf/testdata/trapper.wasm", "CREATE FUNCTION trapper(n bigint) RETURNS bigint LANGUAGE wasm AS $1, 'trapper'"},
}

// guestLogInput is what logger writes to stderr: lines, a CR LF, a NUL, invalid UTF-8, an escape
// sequence and an unterminated last line.
const guestLogInput = "one\ntwo\r\nthr\x00ee\xff\x1b[31m\nlast"

var guestLogWant = []string{"logger: one", "logger: two", "logger: thr\ufffdee\ufffd\ufffd[31m", "logger: last"}

func TestGuestLogPG(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	embedded := startServer(t, t.TempDir())
	r := rig(t)
	db := r.newDatabase(t, "guestlog")
	proxy, err := launchProxy(r.pg.URL(db), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.halt()
	modes := []struct {
		name, url string
		env       []string // for psql
	}{
		{"embedded", fmt.Sprintf("postgres://root@%s:%s/wasql?sslmode=disable", embedded.pgHost, embedded.pgPort), libpqEnv(embedded.pgHost, embedded.pgPort, "wasql")},
		{"proxy", fmt.Sprintf("postgres://root:unused-with-trust@%s:%s/%s?sslmode=disable", proxy.pgHost, proxy.pgPort, db), libpqEnv(proxy.pgHost, proxy.pgPort, db)},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg, err := pgx.ParseConfig(m.url)
			if err != nil {
				t.Fatal(err)
			}
			var notices []*pgconn.Notice
			cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n) }
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			for _, f := range guestLogFunctions {
				if _, err := c.Exec(ctx, f.sql, module(t, f.module)); err != nil {
					t.Fatalf("%s: %v", f.sql, err)
				}
			}
			messages := func() []string {
				var ms []string
				for _, n := range notices {
					if n.Severity != "NOTICE" || n.Code != "00000" {
						t.Errorf("notice %q: severity %s, code %s", n.Message, n.Severity, n.Code)
					}
					ms = append(ms, n.Message)
				}
				notices = nil
				return ms
			}
			// Lines, sanitized; the result is unchanged.
			notices = nil
			var v int32
			if err := c.QueryRow(ctx, "SELECT logger($1::bytea)", []byte(guestLogInput)).Scan(&v); err != nil || v != 0 {
				t.Fatalf("logger: %v %d", err, v)
			}
			if got := messages(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", guestLogWant) {
				t.Fatalf("notices %q, want %q", got, guestLogWant)
			}
			// The bound: 100 lines per statement, then one notice counting the rest.
			var many strings.Builder
			for i := range 150 {
				fmt.Fprintf(&many, "line %d\n", i)
			}
			if err := c.QueryRow(ctx, "SELECT logger($1::bytea)", []byte(many.String())).Scan(&v); err != nil {
				t.Fatal(err)
			}
			got := messages()
			if len(got) != 101 || got[0] != "logger: line 0" || got[99] != "logger: line 99" || got[100] != "logger: 50 more log lines dropped" {
				t.Fatalf("%d notices: first %q, last %q", len(got), got[0], got[len(got)-1])
			}
			// The next statement has a bound of its own; a statement that writes nothing, no notice.
			if err := c.QueryRow(ctx, "SELECT logger($1::bytea)", []byte("again\n")).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if got := messages(); fmt.Sprint(got) != "[logger: again]" {
				t.Fatalf("next statement: %q", got)
			}
			if err := c.QueryRow(ctx, "SELECT logger($1::bytea)", []byte{}).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if got := messages(); len(got) != 0 {
				t.Fatalf("a silent call: %q", got)
			}
			// psql prints them.
			out, err := runPsql(ctx, m.env, "SELECT logger('\\x6869207073716c0a'::bytea);\n")
			if err != nil || !strings.Contains(out, "NOTICE:  logger: hi psql\n") {
				t.Fatalf("psql: %v\n%s", err, out)
			}
			// A trap names its frames.
			err = c.QueryRow(ctx, "SELECT trapper($1)", int64(0)).Scan(&v)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "38000" || !strings.Contains(pe.Message, "wasm trap: integer divide by zero") ||
				pe.Detail != "guest output:\ncall\n\nwasm stack:\nat div_helper\nat wasql_batch_trapper" {
				t.Fatalf("trap: %v (detail %q)", err, detailOf(err))
			}
			// What the guest wrote before it trapped is a notice too, once.
			if got := messages(); fmt.Sprint(got) != "[trapper: call]" {
				t.Fatalf("notices before the trap: %q", got)
			}
		})
	}
}

func detailOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Detail
	}
	return ""
}

func TestGuestLogMySQL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startServer(t, t.TempDir())
	c, err := s.db(t, "root", "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "CREATE FUNCTION logger(bytea) RETURNS integer LANGUAGE wasm AS "+moduleHex(t, "udf/testdata/logger.wasm")+", 'logger'"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := c.QueryRowContext(ctx, fmt.Sprintf("SELECT logger(X'%x')", guestLogInput)).Scan(&v); err != nil {
		t.Fatal(err)
	}
	rows, err := c.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			t.Fatal(err)
		}
		if level != "Note" || code != 1105 {
			t.Errorf("warning %q: level %s, code %d", msg, level, code)
		}
		got = append(got, msg)
	}
	// go-mysql-server lists the most recent first (MySQL: the oldest first).
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", guestLogWant) {
		t.Fatalf("SHOW WARNINGS %q, want %q", got, guestLogWant)
	}
	// The warning count of the EOF packet: the client shows the notes after the statement.
	out, err := s.mariadb(t, fmt.Sprintf("SELECT logger(X'%x');", "from mariadb\n"), "--show-warnings")
	if err != nil || !strings.Contains(out, "Note (Code 1105): logger: from mariadb") {
		t.Fatalf("mariadb --show-warnings: %v %s", err, out)
	}
}
