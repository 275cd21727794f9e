package upstream

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/catalog/pgstore"
	"github.com/wasql/wasql/sqlfuncs"
)

// wasmEnv is what the tests of wasm calls through the proxy need: a database of its own in the
// package's PostgreSQL, a registry whose catalog lives in it (pgstore: its stubs are how the
// planner asks PostgreSQL to resolve calls), and a proxy in front of it.
type wasmEnv struct {
	DB     string // the database's name
	Direct string // URL of the database, straight to PostgreSQL, as root
	Proxy  string // URL of the database through the proxy, as root
	Addr   string // the proxy's address
	Reg    *sqlfuncs.Registry
	B      *Backend
}

var wasmDBs atomic.Int64

// newWasmEnv creates a fresh database and a proxy over it. raw picks the front end's writer
// (true: the RawWriter the server uses).
func newWasmEnv(t testing.TB, raw bool) *wasmEnv {
	t.Helper()
	base := pgURL(t, "root")
	ctx := context.Background()
	admin, err := pgconn.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("wasm%d", wasmDBs.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db).ReadAll(); err != nil {
		t.Fatal(err)
	}
	direct := "postgres://root@" + pgAddr() + "/" + db + "?sslmode=disable"
	store, err := pgstore.Open(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	reg := registryOver(t, store)
	b, err := New(Config{URL: direct, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, b, false, raw)
	return &wasmEnv{DB: db, Direct: direct, Proxy: "postgres://root@" + addr + "/" + db + "?sslmode=disable", Addr: addr, Reg: reg, B: b}
}

func TestWasmEnv(t *testing.T) {
	e := newWasmEnv(t, true)
	ctx := ctx10(t)
	c, err := pgconn.Connect(ctx, e.Proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rs, err := c.Exec(ctx, "SELECT current_database()").ReadAll()
	if err != nil || string(rs[0].Rows[0][0]) != e.DB {
		t.Fatalf("%v %v", rs, err)
	}
}
