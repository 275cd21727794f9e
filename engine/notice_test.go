package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/proxy"
)

// A wasm function that takes a built-in's name says so: a NOTICE on the Postgres wire (the
// engine's warnings of a statement become NoticeResponses), before CommandComplete.
func TestPGNoticeShadowsBuiltin(t *testing.T) {
	mod, err := os.ReadFile("../udf/testdata/guests/c_funcs.wasm")
	if err != nil {
		t.Fatal(err)
	}
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
	var got string
	if err := conn.QueryRow(ctx, "SELECT reverse('Ab Cd')").Scan(&got); err != nil || got != "ab-cd" {
		t.Errorf("reverse after CREATE: %q %v (the wasm function is resolved first)", got, err)
	}
}
