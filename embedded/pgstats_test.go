package embedded

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/proxy"
)

// TestPGStatsAndExplainAnalyze: on the Postgres wire, wasql.functions with its counters (also
// joined to pg_proc), wasql.reset_stats(), and EXPLAIN ANALYZE with the statement's wasm counts,
// in both protocols.
func TestPGStatsAndExplainAnalyze(t *testing.T) {
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	ctx := context.Background()
	mod := module(t, "../udf/testdata/numeric.wasm")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			conn, err := pgConnect(t, addr, "app", "", mode)
			if err != nil {
				t.Fatal(err)
			}
			name := "plus_" + map[pgx.QueryExecMode]string{pgx.QueryExecModeSimpleProtocol: "s", pgx.QueryExecModeExec: "e"}[mode]
			if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'add'`, name, mod)); err != nil {
				t.Fatal(err)
			}
			var sum int64
			if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT sum(%s(x, 1)) FROM generate_series(1, 2000) x", name)).Scan(&sum); err != nil || sum != 2003000 {
				t.Fatalf("sum = %d, %v", sum, err)
			}
			var state string
			var calls, rows, batches int64
			q := "SELECT f.state, f.calls, f.rows_evaluated, f.batches FROM wasql.functions f JOIN pg_catalog.pg_proc p ON p.proname = f.name WHERE f.name = $1"
			if err := conn.QueryRow(ctx, q, name).Scan(&state, &calls, &rows, &batches); err != nil {
				t.Fatal(err)
			}
			if state != "loaded" || calls != 2 || rows != 2000 || batches != 2 {
				t.Fatalf("wasql.functions: state %s, calls %d, rows %d, batches %d; want loaded, 2, 2000, 2", state, calls, rows, batches)
			}
			var reset int64
			if err := conn.QueryRow(ctx, "SELECT wasql.reset_stats($1)", name).Scan(&reset); err != nil || reset != 1 {
				t.Fatalf("wasql.reset_stats = %d, %v", reset, err)
			}
			if err := conn.QueryRow(ctx, "SELECT rows_evaluated FROM wasql.functions WHERE name = $1", name).Scan(&rows); err != nil || rows != 0 {
				t.Fatalf("after the reset: rows %d, %v", rows, err)
			}
			rs, err := conn.Query(ctx, fmt.Sprintf("EXPLAIN ANALYZE SELECT %s(x, 1) FROM generate_series(1, 1500) x", name))
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for rs.Next() {
				var l string
				if err := rs.Scan(&l); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, l)
			}
			if rs.Err() != nil {
				t.Fatal(rs.Err())
			}
			all := strings.Join(lines, "\n")
			want := fmt.Sprintf("wasm %s(bigint, bigint): calls=2 rows=1500 batches=2 errors=0", name)
			if !strings.Contains(all, want) || !strings.Contains(all, "Execution: 1500 rows") {
				t.Fatalf("EXPLAIN ANALYZE lacks %q or the execution line:\n%s", want, all)
			}
			if _, err := conn.Exec(ctx, "EXPLAIN ANALYZE DELETE FROM nothing"); err == nil || !strings.Contains(err.Error(), "0A000") {
				t.Fatalf("EXPLAIN ANALYZE DELETE: %v, want 0A000", err)
			}
		})
	}
}
