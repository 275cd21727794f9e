package embedded

import (
	"context"
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/udf"
)

func openWithUsers(t *testing.T, users map[string]string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), Users: users, UDF: udf.NewConfig()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// wantDenied asserts err is the MySQL wire's access denial for a routine: 1370, SQLSTATE 42000.
func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != erProcAccessDenied || string(me.SQLState[:]) != "42000" {
		t.Errorf("%s: got %v, want error 1370 (42000)", what, err)
	}
}

const erProcAccessDenied = 1370

// TestFunctionOwners: over the MySQL wire, with users made by CREATE USER and GRANT, a user holding
// only CREATE ROUTINE neither replaces nor drops another user's function, nor one without an
// owner; the owner does both; ALTER ROUTINE holders and superusers may.
func TestFunctionOwners(t *testing.T) {
	e := openWithUsers(t, map[string]string{"admin": "s3cret"})
	addr := serveMySQL(t, e)
	admin := mysqlDB(t, addr, "admin", "s3cret", "")
	for _, q := range []string{
		"CREATE USER alice@'%' IDENTIFIED BY 'a'", "GRANT CREATE ROUTINE, SELECT ON *.* TO alice@'%'",
		"CREATE USER bob@'%' IDENTIFIED BY 'b'", "GRANT CREATE ROUTINE, SELECT ON *.* TO bob@'%'",
		"CREATE USER carol@'%' IDENTIFIED BY 'c'", "GRANT ALTER ROUTINE, CREATE ROUTINE ON wasql.* TO carol@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mod := module(t, "../udf/testdata/numeric.wasm")
	alice, bob, carol := mysqlDB(t, addr, "alice", "a", "interpolateParams=true"), mysqlDB(t, addr, "bob", "b", "interpolateParams=true"), mysqlDB(t, addr, "carol", "c", "interpolateParams=true")
	create := "CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'"
	replace := "CREATE OR REPLACE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'div'"
	if _, err := alice.Exec(create, mod); err != nil {
		t.Fatal(err)
	}
	_, err := bob.Exec(replace, mod)
	wantDenied(t, "bob replaces alice's function", err)
	_, err = bob.Exec("DROP FUNCTION plus")
	wantDenied(t, "bob drops alice's function", err)
	_, err = bob.Exec("DROP FUNCTION IF EXISTS plus(bigint, bigint)")
	wantDenied(t, "bob drops alice's function with IF EXISTS", err)
	var got int64
	if err := bob.QueryRow("SELECT plus(40, 2)").Scan(&got); err != nil || got != 42 {
		t.Fatalf("alice's function after bob's attempts: %d %v", got, err)
	}
	if _, err := alice.Exec(replace, mod); err != nil {
		t.Fatalf("alice replaces her own function: %v", err)
	}
	if err := bob.QueryRow("SELECT plus(40, 2)").Scan(&got); err != nil || got != 20 {
		t.Fatalf("after alice's replacement: %d %v", got, err)
	}
	fns := e.Registry.Functions()
	if len(fns) != 1 || fns[0].Def.Owner != "alice" {
		t.Fatalf("owner after alice's OR REPLACE: %+v", fns)
	}
	// carol holds ALTER ROUTINE: she replaces alice's function, which stays alice's.
	if _, err := carol.Exec(replace, mod); err != nil {
		t.Fatalf("carol (ALTER ROUTINE) replaces: %v", err)
	}
	if fns := e.Registry.Functions(); fns[0].Def.Owner != "alice" {
		t.Fatalf("owner after carol's OR REPLACE: %q", fns[0].Def.Owner)
	}
	if _, err := alice.Exec("DROP FUNCTION plus"); err != nil {
		t.Fatalf("alice drops her own function: %v", err)
	}

	// A function stored without an owner (a catalog from before owners) belongs to no one.
	def := catalog.Function{Name: "old", ArgNames: []string{"", ""}, ArgTypes: []string{"bigint", "bigint"}, ReturnType: "bigint", Export: "add", Strict: true}
	if _, err := e.store.Create(context.Background(), def, mod, false); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Exec("CREATE OR REPLACE FUNCTION old(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'div'", mod)
	wantDenied(t, "bob replaces an ownerless function", err)
	_, err = alice.Exec("DROP FUNCTION old")
	wantDenied(t, "alice drops an ownerless function", err)
	if _, err := admin.Exec("DROP FUNCTION old"); err != nil {
		t.Fatalf("the superuser drops an ownerless function: %v", err)
	}
	// bob's own function: his to drop, without ALTER ROUTINE.
	if _, err := bob.Exec(create, mod); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Exec("DROP FUNCTION plus(bigint, bigint)"); err != nil {
		t.Fatalf("bob drops his own function: %v", err)
	}
}

// TestFunctionOwnersPG: the same rule over the Postgres wire, with its configured users; the
// denial is 42501.
func TestFunctionOwnersPG(t *testing.T) {
	e := openWithUsers(t, map[string]string{"admin": "s3cret"})
	admin := mysqlDB(t, serveMySQL(t, e), "admin", "s3cret", "")
	for _, q := range []string{
		"CREATE USER alice@'%' IDENTIFIED BY 'a'", "GRANT CREATE ROUTINE, SELECT ON *.* TO alice@'%'",
		"CREATE USER bob@'%' IDENTIFIED BY 'b'", "GRANT CREATE ROUTINE, SELECT ON *.* TO bob@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	users := map[string]proxy.Verifier{}
	for name, pass := range map[string]string{"alice": "a", "bob": "b"} {
		v, err := proxy.NewVerifier(pass)
		if err != nil {
			t.Fatal(err)
		}
		users[name] = v
	}
	addr := servePG(t, e, proxy.Config{Users: users})
	mod := module(t, "../udf/testdata/numeric.wasm")
	ctx := context.Background()
	alice, err := pgConnect(t, addr, "alice", "a", pgx.QueryExecModeExec)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := pgConnect(t, addr, "bob", "b", pgx.QueryExecModeExec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Exec(ctx, "CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS $1, 'add'", mod); err != nil {
		t.Fatal(err)
	}
	for what, q := range map[string]string{
		"replace": "CREATE OR REPLACE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS $1, 'div'",
		"drop":    "DROP FUNCTION plus(bigint, bigint)",
	} {
		var args []any
		if what == "replace" {
			args = []any{mod}
		}
		_, err := bob.Exec(ctx, q, args...)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("bob %ss alice's function: got %v, want 42501", what, err)
		}
	}
	var got int64
	if err := bob.QueryRow(ctx, "SELECT plus(40, 2)").Scan(&got); err != nil || got != 42 {
		t.Fatalf("alice's function after bob's attempts: %d %v", got, err)
	}
	if _, err := alice.Exec(ctx, "DROP FUNCTION plus(bigint, bigint)"); err != nil {
		t.Fatalf("alice drops her own function: %v", err)
	}
}
