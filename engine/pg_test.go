package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

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
	mod, err := os.ReadFile("../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
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
	mod, err := os.ReadFile("../udf/testdata/fib.wasm")
	if err != nil {
		t.Fatal(err)
	}
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
