package upstream

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPerfScratch(t *testing.T) {
	if os.Getenv("WASQL_PERF") == "" {
		t.Skip()
	}
	p, d, _ := wasmConns(t)
	ctx := context.Background()
	_, err := d.Exec(ctx, `CREATE TABLE big AS SELECT i AS id, (i * 2654435761) % 1000000000 AS a, (i * 40503) % 1000000000 AS b,
         w[1 + (i*7)%10] || ' ' || w[1 + (i*13)%10] || ', ' || w[1 + (i*17)%10] || ' - ' || w[1 + (i*19)%10] || ' ' || w[1 + (i*23)%10] || i AS s
  FROM generate_series(1::bigint, 1000000) i,
       (SELECT ARRAY['Hello','World','WebAssembly','SQL','user-defined','Functions','in','Go','wazero','2026!'] AS w) words;
	   CREATE INDEX ON big (b); ANALYZE big; SET search_path = twin, public`)
	if err != nil {
		t.Fatal(err)
	}
	timeit := func(c *pgx.Conn, q string) time.Duration {
		best := time.Hour
		for i := 0; i < 3; i++ {
			t0 := time.Now()
			rows, err := c.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Err() != nil {
				t.Fatal(q, rows.Err())
			}
			if d := time.Since(t0); d < best {
				best = d
			}
		}
		return best
	}
	if q := os.Getenv("WASQL_PERF_Q"); q != "" {
		t.Logf("%-60s proxy %v", q, timeit(p, q))
		return
	}
	for _, q := range []string{
		"SELECT sum(fib(a % 30)) FROM big",
		"SELECT sum(length(slugify(s))) FROM big",
		"SELECT id, slugify(s) FROM big",
		"SELECT id, s FROM big",
		"SELECT id FROM big WHERE b = 40503 AND fib(a % 30) > 0",
	} {
		t.Logf("%-60s proxy %v direct %v", q, timeit(p, q), timeit(d, q))
	}
}
