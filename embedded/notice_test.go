package embedded

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/proxy"
)

// A wasm function that takes a built-in's name says so: a NOTICE on the Postgres wire (the
// engine's warnings of a statement become NoticeResponses), before CommandComplete. So does
// DROP TABLE IF EXISTS of a missing table, in Postgres's words.
func TestPGNoticeShadowsBuiltin(t *testing.T) {
	mod := module(t, "../udf/testdata/guests/c_funcs.wasm")
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://app@%s/wasql?sslmode=disable", servePG(t, open(t), proxy.Config{})))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notices []*pgconn.Notice
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { mu.Lock(); notices = append(notices, n); mu.Unlock() }
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	create := func(name string) []*pgconn.Notice {
		t.Helper()
		mu.Lock()
		notices = nil
		mu.Unlock()
		q := fmt.Sprintf(`CREATE OR REPLACE FUNCTION %s(text) RETURNS text LANGUAGE wasm AS '\x%x', 'slugify'`, name, mod)
		if _, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		return notices
	}
	if n := create("my_slug"); len(n) != 0 {
		t.Errorf("a new name: notices %+v", n)
	}
	n := create("reverse")
	if len(n) != 1 || n[0].Severity != "NOTICE" || n[0].Code != "00000" || !strings.Contains(n[0].Message, "'reverse' has the same name as a native function") {
		t.Fatalf("reverse: notices %+v", n)
	}
	mu.Lock()
	notices = nil
	mu.Unlock()
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS no_such_table", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(notices) != 1 || notices[0].Severity != "NOTICE" || notices[0].Message != `table "no_such_table" does not exist, skipping` {
		t.Errorf("DROP TABLE IF EXISTS of a missing table: notices %+v, want Postgres's", notices)
	}
	mu.Unlock()
	var got string
	if err := conn.QueryRow(ctx, "SELECT reverse('Ab Cd')").Scan(&got); err != nil || got != "ab-cd" {
		t.Errorf("reverse after CREATE: %q %v (the wasm function is resolved first)", got, err)
	}
}

// On the MySQL wire SHOW WARNINGS lists the previous statement's warnings: CREATE FUNCTION of a
// built-in's name leaves note 1585, and the next statement's own warnings replace it (before,
// go-mysql-server kept the old note in place of DROP TABLE IF EXISTS's 1051).
func TestMySQLWarnings(t *testing.T) {
	e := open(t)
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "interpolateParams=true")
	ctx := context.Background()
	conn, err := db.Conn(ctx) // one session: warnings are per session
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mod := module(t, "../udf/testdata/guests/c_funcs.wasm")
	warnings := func() string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, "SHOW WARNINGS")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var level, msg string
			var code int
			if err := rows.Scan(&level, &code, &msg); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %d %s", level, code, msg))
		}
		return strings.Join(out, "\n")
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE FUNCTION reverse(text) RETURNS text LANGUAGE wasm AS ?, 'slugify'", mod); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); !strings.HasPrefix(w, "Note 1585 This function 'reverse' has the same name as a native function") {
		t.Errorf("after CREATE FUNCTION reverse: %q", w)
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS no_such_table"); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); w != "Note 1051 Unknown table 'no_such_table'" {
		t.Errorf("after DROP TABLE IF EXISTS: %q", w)
	}
	if _, err := conn.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); w != "" {
		t.Errorf("after SELECT 1: %q", w)
	}
}
