//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPGPsqlMetaAuthenticated: with users configured, go-mysql-server checks privileges on
// every database, pg_catalog included; psql's \dt, \d and \df must work for a user who logs in
// with SCRAM, as they do without users.
func TestPGPsqlMetaAuthenticated(t *testing.T) {
	need(t, "psql", "apt-get install -y postgresql-client")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(cfg, []byte("users:\n  app: s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	var env []string
	for _, kv := range s.env() {
		if !strings.HasPrefix(kv, "PGUSER=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PGUSER=app", "PGPASSWORD=s3cret")
	psqlRun(t, env, psqlMetaSchema)
	m := fmt.Sprintf("%x", module(t, "udf/testdata/numeric.wasm"))
	psqlRun(t, env, `CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\x`+m+`', 'add';`)
	for meta, want := range map[string][]string{
		`\dt`:          {"public | customers | table", "public | orders    | table", "(2 rows)"},
		`\d customers`: {`Table "public.customers"`, "email   | character varying(200)", `"customers_pkey" PRIMARY KEY, btree (id)`},
		`\df`:          {"public | plus | bigint           | a bigint, b bigint  | func"},
		`\dv`:          {"public | big_orders | view"},
	} {
		got := psqlRun(t, env, meta)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s as app: no %q in\n%s", meta, w, got)
			}
		}
	}
}
