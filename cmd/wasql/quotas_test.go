package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/internal/pgtest"
	"github.com/wasql/wasql/sqlfuncs"
)

// writeConfig writes a wasql.yaml with text and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "wasql.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestServeConfigQuotas: the quotas: key, a user's entry overriding the default field by field,
// unlimited, and the refusals of what it cannot mean.
func TestServeConfigQuotas(t *testing.T) {
	file := writeConfig(t, `
quotas:
  default: {functions: 1000, module_bytes: 64MB, memory: 1GB}
  users:
    alice: {functions: 10, module_bytes: 4MB}
    admin: {functions: unlimited, module_bytes: unlimited, memory: unlimited}
    bob: {memory: "512kB"}
`)
	c, _, err := loadServeConfig([]string{"--config", file}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := sqlfuncs.Quotas{Default: sqlfuncs.Quota{Functions: 1000, ModuleBytes: 64 << 20, MemoryBytes: 1 << 30},
		Users: map[string]sqlfuncs.Quota{
			"alice": {Functions: 10, ModuleBytes: 4 << 20, MemoryBytes: 1 << 30},
			"admin": {},
			"bob":   {Functions: 1000, ModuleBytes: 64 << 20, MemoryBytes: 512 << 10},
		}}
	if c.quotas == nil || c.quotas.Default != want.Default || len(c.quotas.Users) != len(want.Users) {
		t.Fatalf("quotas %+v, want %+v", c.quotas, want)
	}
	for u, q := range want.Users {
		if c.quotas.Users[u] != q {
			t.Errorf("quota of %s: %+v, want %+v", u, c.quotas.Users[u], q)
		}
	}
	if c, _, err := loadServeConfig(nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil || c.quotas != nil {
		t.Fatalf("no quotas: %+v %v", c.quotas, err)
	}
	for bad, wantErr := range map[string]string{
		"quotas: {default: {functions: 0}}":                   "quotas.default.functions: \"0\": want a positive number or unlimited",
		"quotas: {default: {functions: ten}}":                 "quotas.default.functions",
		"quotas: {default: {memroy: 1GB}}":                    "quotas.default: unknown key memroy (want functions, memory, module_bytes)",
		"quotas: {users: {alice: {module_bytes: 4 parsecs}}}": "quotas.users.alice.module_bytes: \"4 parsecs\": want a size like 64MB, or unlimited",
		"quotas: {user: {alice: {functions: 1}}}":             "quotas: unknown key user (want default and users)",
		"quotas: {users: {alice: 3}}":                         "quotas.users.alice: want {functions: N",
	} {
		_, _, err := loadServeConfig([]string{"--config", writeConfig(t, bad)}, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %v, want an error with %q", bad, err, wantErr)
		}
	}
}

// TestServeQuotas runs the embedded server with quotas and users: a user over their quota gets
// 53400 (functions) or 54000 (memory) with its SQLSTATE on the MySQL wire and on the Postgres
// wire (with the hint in its own field); another user still creates functions.
func TestServeQuotas(t *testing.T) {
	file := writeConfig(t, `
users: {alice: a, bob: b}
quotas:
  default: {functions: 1}
  users:
    bob: {functions: 3, memory: 100MB}
`)
	addr, out, _ := startServe(t, "--config", file)
	pgAddr := regexp.MustCompile(`Postgres wire on (\S+)`).FindStringSubmatch(out.String())[1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	module, err := os.ReadFile("../../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	const create = "CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'"
	my, err := sql.Open("mysql", "alice:a@tcp("+addr+")/wasql?interpolateParams=true")
	if err != nil {
		t.Fatal(err)
	}
	defer my.Close()
	if _, err := my.ExecContext(ctx, strings.Replace(create, "%s", "a1", 1), module); err != nil {
		t.Fatal(err)
	}
	_, err = my.ExecContext(ctx, strings.Replace(create, "%s", "a2", 1), module)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || string(me.SQLState[:]) != "53400" || !strings.Contains(me.Message, `function quota exceeded for user "alice": 1 functions allowed, 1 owned`) ||
		!strings.Contains(me.Message, "HINT: drop functions the user no longer needs, or raise quotas.default.functions") {
		t.Fatalf("alice's second function on the MySQL wire: %v, want 53400", err)
	}

	pgCreate := strings.Replace(create, "?", "$1", 1)
	alice := pgUser(t, ctx, pgAddr, "alice", "a")
	_, err = alice.Exec(ctx, strings.Replace(pgCreate, "%s", "a2", 1), module)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53400" || !strings.Contains(pe.Message, `user "alice"`) || strings.Contains(pe.Message, "HINT") ||
		!strings.Contains(pe.Hint, "quotas.default.functions") {
		t.Fatalf("alice's second function on the Postgres wire: %#v, want 53400 with a hint", err)
	}
	bob := pgUser(t, ctx, pgAddr, "bob", "b")
	if _, err := bob.Exec(ctx, strings.Replace(pgCreate, "%s", "b1", 1), module); err != nil {
		t.Fatalf("bob is not bound by alice's quota: %v", err)
	}
	_, err = bob.Exec(ctx, strings.Replace(pgCreate, "%s", "b2", 1), module)
	if !errors.As(err, &pe) || pe.Code != "54000" || !strings.Contains(pe.Message, `memory quota exceeded for user "bob": 100MB allowed`) ||
		!strings.Contains(pe.Hint, "quotas.users.bob.memory") {
		t.Fatalf("bob's second 64MB function: %v, want 54000", err)
	}
	if _, err := bob.Exec(ctx, strings.Replace(pgCreate, "%s", "b2", 1)+" WITH (memory = '16MB')", module); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := bob.QueryRow(ctx, "SELECT b2(40, 2)").Scan(&n); err != nil || n != 42 {
		t.Fatalf("SELECT b2(40, 2): %d %v", n, err)
	}
	if _, err := my.ExecContext(ctx, "DROP FUNCTION a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Exec(ctx, strings.Replace(pgCreate, "%s", "a2", 1), module); err != nil {
		t.Fatalf("alice after a drop: %v", err)
	}
}

// TestServeProxyQuotas: the same in proxy mode, where the owner is the client's user logged in
// to the upstream.
func TestServeProxyQuotas(t *testing.T) {
	url := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	direct, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(ctx)
	for _, q := range []string{"CREATE ROLE alice LOGIN", "CREATE ROLE bob LOGIN"} {
		if _, err := direct.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	file := writeConfig(t, "quotas: {users: {alice: {functions: 1}}}\n")
	s := &upstreamServe{out: &syncBuffer{}, logs: &syncBuffer{}, done: make(chan error, 1)}
	old := stderr
	stderr = s.logs
	sctx, scancel := context.WithCancel(context.Background())
	go func() {
		s.done <- serve(sctx, []string{"--config", file, "--data-dir", t.TempDir(), "--pg-addr", "127.0.0.1:0", "--metrics-addr", "", "--upstream", url}, s.out)
	}()
	t.Cleanup(func() {
		scancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve: %v", err)
		}
		stderr = old
	})
	addr := s.wait(t, banner)
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	connect := func(user string) *pgx.Conn {
		c, err := pgx.Connect(ctx, "postgres://"+user+"@"+addr+"/"+db+"?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	module, err := os.ReadFile("../../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	const create = "CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS $1, 'add'"
	alice, bob := connect("alice"), connect("bob")
	if _, err := alice.Exec(ctx, strings.Replace(create, "%s", "a1", 1), module); err != nil {
		t.Fatal(err)
	}
	_, err = alice.Exec(ctx, strings.Replace(create, "%s", "a2", 1), module)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53400" || !strings.Contains(pe.Message, `function quota exceeded for user "alice"`) ||
		!strings.Contains(pe.Hint, "quotas.users.alice.functions") {
		t.Fatalf("alice's second function through the proxy: %v, want 53400", err)
	}
	var n int64
	if err := alice.QueryRow(ctx, "SELECT a1(40, 2)").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after the refusal, the session still works: %d %v", n, err)
	}
	for _, name := range []string{"b1", "b2"} {
		if _, err := bob.Exec(ctx, strings.Replace(create, "%s", name, 1), module); err != nil {
			t.Fatalf("bob has no quota: %v", err)
		}
	}
	if err := direct.QueryRow(ctx, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'wasql' AND p.proname = 'a2'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused function's stub: %d %v", n, err)
	}
}

// pgUser connects to the embedded Postgres wire as user (SCRAM), closed when the test ends.
func pgUser(t *testing.T, ctx context.Context, addr, user, pass string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, "postgres://"+user+":"+pass+"@"+addr+"/wasql?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
