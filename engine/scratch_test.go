package engine

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/udf"
)

func TestScratch(t *testing.T) {
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), UDF: udf.NewConfig(), Users: map[string]string{"app": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	v, _ := proxy.NewVerifier("pw")
	addr := servePG(t, e, proxy.Config{Users: map[string]proxy.Verifier{"app": v}})
	c, err := pgConnect(t, addr, "app", "pw", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE t (id int primary key, s text)",
		"INSERT INTO t VALUES (1, 'orders_x'), (2, 'ordersyx')",
		"SELECT relname FROM pg_catalog.pg_class LIMIT 1",
		"SELECT count(*) FROM pg_class",
		"BEGIN", "UPDATE t SET s = 'changed' WHERE id = 1", "ROLLBACK", "SELECT s FROM t WHERE id = 1",
		"BEGIN", "INSERT INTO t VALUES (3, 'x')", "ROLLBACK", "SELECT count(*) FROM t",
		`SELECT s FROM t WHERE s LIKE 'orders\_%'`,
		"SELECT format('%s', 'x')",
		"INSERT INTO nope VALUES (1) RETURNING *",
	} {
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Logf("%s: %v", q, err)
			continue
		}
		var out [][]any
		for rows.Next() {
			v, _ := rows.Values()
			out = append(out, v)
		}
		t.Logf("%s: %v %v %s", q, out, rows.Err(), rows.CommandTag())
	}
}
