package embedded

import (
	"context"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/proxy"
)

// BenchmarkPGQuery: one statement over the Postgres wire with pgx, loopback, the engine behind
// it: the wire's and the engine's cost of a round trip, in the simple protocol and in the
// extended one (pgx's default, with its statement cache), for SELECT 1 and a 100-row SELECT.
func BenchmarkPGQuery(b *testing.B) {
	ctx := context.Background()
	e, err := Open(ctx, Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := proxy.NewServer(proxy.Config{}, e.PGBackend())
	go s.Serve(l)
	defer s.Close()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		cfg, err := pgx.ParseConfig("postgres://app@" + l.Addr().String() + "/wasql?sslmode=disable")
		if err != nil {
			b.Fatal(err)
		}
		cfg.DefaultQueryExecMode = mode
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS hundred (n bigint primary key)"); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "DELETE FROM hundred"); err != nil {
			b.Fatal(err)
		}
		for i := range 100 {
			if _, err := conn.Exec(ctx, "INSERT INTO hundred VALUES ($1)", i); err != nil {
				b.Fatal(err)
			}
		}
		for _, q := range []struct{ name, sql string }{{"select1", "SELECT 1"}, {"rows100", "SELECT n FROM hundred"}} {
			b.Run(mode.String()+"/"+q.name, func(b *testing.B) {
				for b.Loop() {
					rows, err := conn.Query(ctx, q.sql)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
					}
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
				}
			})
		}
	}
}
