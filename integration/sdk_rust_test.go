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

// buildRustExample builds sdk/rust/example with Debian's Rust 1.63, offline, and returns the module.
func buildRustExample(t *testing.T) []byte {
	t.Helper()
	for _, tool := range []string{"/usr/bin/cargo", "/usr/bin/rustc"} {
		if _, err := os.Stat(tool); err != nil {
			t.Fatalf("%s is missing: apt-get install -y rustc cargo libstd-rust-dev-wasm32", tool)
		}
	}
	target := t.TempDir()
	cmd := exec.Command("/usr/bin/cargo", "build", "--offline", "--release", "--target", "wasm32-wasi")
	cmd.Dir = "../sdk/rust/example"
	cmd.Env = append(os.Environ(), "RUSTC=/usr/bin/rustc", "CARGO_TARGET_DIR="+target)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cargo build in sdk/rust/example: %v\n%s", err, b)
	}
	if b, _ := cmd.CombinedOutput(); strings.Contains(string(b), "warning") {
		t.Errorf("the example builds with warnings:\n%s", b)
	}
	module, err := os.ReadFile(filepath.Join(target, "wasm32-wasi/release/wasql_rust_example.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return module
}

// The Rust SDK's example: export! writes one signature line per function (STRICT unless an
// argument is an Option), and over SQL every v1 type round-trips, NULLs reach only Option
// arguments, Option results are NULL, an Err is a 38000 row error with its message, and a
// declared signature that disagrees with the section is 42P13.
func TestSDKRust(t *testing.T) {
	module := buildRustExample(t)
	sigs, err := udf.Signatures(module)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, s := range sigs {
		lines[s.Name] = s.String()
	}
	for name, want := range map[string]string{
		"shout":      "shout(s text) RETURNS text STRICT IMMUTABLE PARALLEL SAFE",
		"or_default": "or_default(s text, fallback text) RETURNS text CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE",
		"wrap_json":  "wrap_json(doc json) RETURNS json STRICT VOLATILE PARALLEL UNSAFE",
	} {
		if lines[name] != want {
			t.Errorf("signature of %s: %q, want %q", name, lines[name], want)
		}
	}
	if len(sigs) != 14 {
		t.Errorf("%d signatures, want 14: %v", len(sigs), lines)
	}

	s := startServer(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s:%s/wasql?sslmode=disable", s.pgHost, s.pgPort))
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
		{"SELECT shout('héllo wörld')", "HÉLLO WÖRLD"},
		{"SELECT next_small(n::smallint) FROM (VALUES (32766)) AS t(n)", "32767"},
		{"SELECT twice_int(-21)", "-42"},
		{"SELECT twice_big(4611686018427387904)", "-9223372036854775808"},
		{"SELECT half_real(3::real)", "1.5"},
		{"SELECT half_double(1e300)", "5e+299"},
		{"SELECT negate(true), negate(false)", "f|t"},
		{`SELECT reverse_bytes('\x010203'::bytea)`, `\x030201`},
		{`SELECT wrap_json('{"a": 1}'::json)`, `[{"a": 1}]`},
		{"SELECT next_day('2024-02-28'::date), next_day('1969-12-31'::date)", "2024-02-29|1970-01-01"},
		{"SELECT plus_second('2024-12-31 23:59:59'::timestamp)", "2025-01-01 00:00:00"},
		{"SELECT or_default(NULL, 'x'), or_default('y', 'x'), or_default(NULL, NULL)", "x|y|NULL"},
		{"SELECT nonempty(''), nonempty('a'), nonempty(NULL)", "NULL|a|NULL"},
		{"SELECT shout(NULL), twice_int(NULL)", "NULL|NULL"},
		{"SELECT checked_div(7, 2)", "3"},
		{"SELECT sum(twice_big(n)) FROM (VALUES (1), (2), (3), (NULL)) AS t(n)", "12"},
	} {
		rows, err := simpleRows(ctx, c, k.sql)
		if err != nil || len(rows) != 1 || rows[0] != k.want {
			t.Errorf("%s: %q, %v; want %q", k.sql, rows, err, k.want)
		}
	}
	for _, k := range []struct{ sql, code, text string }{
		{"SELECT next_small(n::smallint) FROM (VALUES (32767)) AS t(n)", "38000", "32767 has no successor in smallint"},
		{"SELECT checked_div(n, 0) FROM (VALUES (1), (2)) AS t(n)", "38000", "row 1 (input 1, 0): cannot divide 1 by 0"},
		{"CREATE OR REPLACE FUNCTION shout(s integer) RETURNS text LANGUAGE wasm AS $1", "42P13", "shout(s text) RETURNS text"},
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
