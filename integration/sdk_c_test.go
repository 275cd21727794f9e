//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/udf"
)

// The C SDK's example (sdk/c/example, built with sdk/c/wasql.mk): WASQL_FUNCTION writes one
// signature line per function, and over SQL every v1 type round-trips, a NULLABLE function sees
// NULLs, a row error is 38000 with its printf-formatted message, the log line arrives as a
// NOTICE, and a declared signature that disagrees with the section is 42P13.
func TestSDKC(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", "../sdk/c/example", "-B", "types.wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make -C sdk/c/example: %v\n%s\n(needs: apt-get install -y make clang lld wasi-libc libclang-rt-14-dev-wasm32)", err, b)
	}
	module, err := os.ReadFile(filepath.Join("../sdk/c/example", "types.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := udf.Signatures(module)
	if err != nil || len(sigs) != 13 {
		t.Fatalf("signatures: %v, %v; want 13", sigs, err)
	}
	lines := map[string]string{}
	for _, s := range sigs {
		lines[s.Name] = s.String()
	}
	for name, want := range map[string]string{
		"c_shout":       "c_shout(s text) RETURNS text STRICT IMMUTABLE PARALLEL SAFE",
		"c_or_default":  "c_or_default(s text, fallback text) RETURNS text CALLED ON NULL INPUT IMMUTABLE PARALLEL UNSAFE",
		"c_plus_second": "c_plus_second(t timestamp) RETURNS timestamp STRICT IMMUTABLE PARALLEL UNSAFE",
	} {
		if lines[name] != want {
			t.Errorf("signature of %s: %q, want %q", name, lines[name], want)
		}
	}

	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://root@%s:%s/wasql?sslmode=disable", s.pgHost, s.pgPort))
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message) }
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, sig := range sigs {
		if _, err := c.Exec(ctx, "CREATE FUNCTION "+sig.Name+" LANGUAGE wasm AS $1", module); err != nil {
			t.Fatalf("create %s: %v", sig.Name, err)
		}
	}
	for _, k := range []struct{ sql, want string }{
		{"SELECT c_shout('hello, wörld')", "HELLO, WöRLD"},
		{"SELECT c_next_small(n::smallint) FROM (VALUES (32766)) AS t(n)", "32767"},
		{"SELECT c_twice_int(-21)", "-42"},
		{"SELECT c_twice_big(4611686018427387904)", "-9223372036854775808"},
		{"SELECT c_half_real(3::real)", "1.5"},
		{"SELECT c_half_double(1e300)", "5e+299"},
		{"SELECT c_negate(true), c_negate(false)", "f|t"},
		{`SELECT c_reverse_bytes('\x010203'::bytea)`, `\x030201`},
		{`SELECT c_wrap_json('{"a": 1}'::json)`, `[{"a": 1}]`},
		{"SELECT c_next_day('2024-02-28'::date), c_next_day('1969-12-31'::date)", "2024-02-29|1970-01-01"},
		{"SELECT c_plus_second('2024-12-31 23:59:59'::timestamp)", "2025-01-01 00:00:00"},
		{"SELECT c_or_default(NULL, 'x'), c_or_default('y', 'x'), c_or_default(NULL, NULL)", "x|y|NULL"},
		{"SELECT c_shout(NULL), c_twice_int(NULL)", "NULL|NULL"},
		{"SELECT sum(c_twice_big(n)) FROM (VALUES (1), (2), (3), (NULL)) AS t(n)", "12"},
		{"SELECT c_checked_div(7, 2)", "3"},
	} {
		rows, err := simpleRows(ctx, c, k.sql)
		if err != nil || len(rows) != 1 || rows[0] != k.want {
			t.Errorf("%s: %q, %v; want %q", k.sql, rows, err, k.want)
		}
	}
	if want := "c_checked_div: c_checked_div(7, 2)"; !strings.Contains(strings.Join(notices, "\n"), want) {
		t.Errorf("notices %q lack %q", notices, want)
	}
	for _, k := range []struct{ sql, code, text string }{
		{"SELECT c_next_small(n::smallint) FROM (VALUES (32767)) AS t(n)", "38000", "32767 has no successor in smallint"},
		{"SELECT c_checked_div(n, 0) FROM (VALUES (1), (2)) AS t(n)", "38000", "row 1 (input 1, 0): cannot divide 1 by 0"},
		{"CREATE OR REPLACE FUNCTION c_shout(s integer) RETURNS text LANGUAGE wasm AS $1", "42P13", "c_shout(s text) RETURNS text"},
	} {
		var err error
		if strings.HasPrefix(k.sql, "SELECT") {
			_, err = simpleRows(ctx, c, k.sql)
		} else {
			_, err = c.Exec(ctx, k.sql, module)
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != k.code || !strings.Contains(pe.Message+" "+pe.Detail, k.text) {
			t.Errorf("%s: %v, want %s with %q", k.sql, err, k.code, k.text)
		}
	}
}
