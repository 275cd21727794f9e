//go:build integration

package integration

// psql's meta-commands (\dt, \d table, \di, \dv, \dn, \df, \l) read pg_catalog with the queries
// captured in shared/reference/pg-compat-captures.md. TestPGPsqlMeta runs them against wasql
// and against a real PostgreSQL 15 holding the same tables, and compares what psql prints. The
// schema avoids what wasql shows differently (README, "Postgres SQL"): serial columns appear as
// identity columns without a sequence, timestamptz as timestamp.

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const psqlMetaSchema = `
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email varchar(200) UNIQUE, qty int DEFAULT 0, score numeric(10,2), created timestamp);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total float8, paid boolean);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
`

// psqlMetaSame are the meta-commands whose output must be the same as PostgreSQL's.
var psqlMetaSame = []string{`\dt`, `\d customers`, `\d orders`, `\dv`, `\di`, `\dn`, `\d`}

func psqlRun(t *testing.T, env []string, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-P", "pager=off")
	cmd.Env, cmd.Stdin = env, strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	return string(out)
}

func TestPGPsqlMeta(t *testing.T) {
	need(t, "psql", "apt-get install -y postgresql-client")
	pgDSN := startPostgres(t)
	s := startServer(t, t.TempDir())
	u, err := url.Parse(pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	pgEnv := append(s.env(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port())
	psqlRun(t, s.env(), psqlMetaSchema)
	psqlRun(t, pgEnv, psqlMetaSchema)
	for _, meta := range psqlMetaSame {
		want, got := psqlRun(t, pgEnv, meta), psqlRun(t, s.env(), meta)
		if got != want {
			t.Errorf("%s: wasql printed\n%s\nPostgreSQL printed\n%s", meta, got, want)
		}
	}

	// \df lists the wasm functions with their signatures, \l the database.
	m := fmt.Sprintf("%x", module(t, "udf/testdata/numeric.wasm"))
	psqlRun(t, s.env(), `CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\x`+m+`', 'add';`)
	df := psqlRun(t, s.env(), `\df`)
	if !strings.Contains(df, "public | plus | bigint           | a bigint, b bigint  | func") {
		t.Errorf("\\df printed:\n%s", df)
	}
	if l := psqlRun(t, s.env(), `\l`); !strings.Contains(l, " wasql ") || !strings.Contains(l, "UTF8") {
		t.Errorf("\\l printed:\n%s", l)
	}
}
