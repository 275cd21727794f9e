//go:build integration

package integration

// Client libraries' metadata through the proxy: SQLAlchemy's inspector (psycopg2), pgjdbc's
// DatabaseMetaData, and a knex migration (node-postgres) — each answer through the proxy
// compared with PostgreSQL's directly.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// reports runs cmd, which prints one report per URL it was given, each ended by "=== end", and
// returns them.
func reports(ctx context.Context, t *testing.T, cmd *exec.Cmd, n int) []string {
	t.Helper()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env, c.Dir = cmd.Env, cmd.Dir
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", cmd.Args[0], err, out, stderr.String())
	}
	parts := strings.Split(string(out), "=== end\n")
	if len(parts) != n+1 || parts[n] != "" {
		t.Fatalf("%s: want %d reports, got:\n%s%s", cmd.Args[0], n, out, stderr.String())
	}
	return parts[:n]
}

func TestProxySQLAlchemy(t *testing.T) {
	r := rig(t)
	py := pythonWith(t, "sqlalchemy, psycopg2", "apt-get install -y python3-sqlalchemy python3-psycopg2")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := func(u string) string { return strings.Replace(u, "postgres://", "postgresql+psycopg2://", 1) }
	cmd := exec.Command(py, "clients/sqlalchemy/inspect_test.py", url(r.directURL(r.compat)), url(r.proxyURL(r.compat)))
	cmd.Env = append(os.Environ(), "PGTZ=UTC", "PGCONNECT_TIMEOUT=10")
	got := reports(ctx, t, cmd, 2)
	sameText(t, "SQLAlchemy inspector", got[0], got[1])
	for _, s := range []string{`"orders_customer_idx"`, `"referred_table": "customers"`, `"total_positive"`, `"big_orders"`, `"people who buy"`} {
		if !strings.Contains(got[0], s) {
			t.Errorf("the inspector's report lacks %s", s)
		}
	}
}

func TestProxyJDBC(t *testing.T) {
	r := rig(t)
	javac := need(t, "javac", "apt-get install -y default-jdk-headless")
	java := need(t, "java", "apt-get install -y default-jdk-headless")
	const jar = "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("pgjdbc is needed (%s): apt-get install -y libpostgresql-jdbc-java", jar)
	}
	classes := t.TempDir()
	if out, err := exec.Command(javac, "-cp", jar, "-d", classes, "clients/jdbc/PgJdbcMeta.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jdbc := func(host, port string) string {
		return fmt.Sprintf("jdbc:postgresql://%s:%s/%s?user=root&password=unused-with-trust&sslmode=disable", host, port, r.compat)
	}
	cmd := exec.Command(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Duser.timezone=UTC", "-cp", classes+string(os.PathListSeparator)+jar,
		"PgJdbcMeta", jdbc(r.pgHost, r.pgPort), jdbc(r.proxy.pgHost, r.proxy.pgPort))
	got := reports(ctx, t, cmd, 2)
	sameText(t, "pgjdbc DatabaseMetaData", got[0], got[1])
	for _, s := range []string{"## getImportedKeys app.orders\n", "orders_customer_id_fkey", "order_total", "## getTypeInfo"} {
		if !strings.Contains(got[0], s) {
			t.Errorf("pgjdbc's report lacks %q", s)
		}
	}
}

// knexSchema describes what a knex migration made: columns, constraints, indexes, views,
// functions, comments, enum labels, sequences, the migrations knex recorded, and the rows.
var knexSchema = []string{
	`SELECT table_schema, table_name, column_name, ordinal_position, column_default, is_nullable, data_type, udt_name,
		character_maximum_length, numeric_precision, numeric_scale, is_identity
	FROM information_schema.columns WHERE table_schema IN ('shop', 'public') ORDER BY 1, 2, 4`,
	`SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
	FROM pg_constraint WHERE connamespace IN ('shop'::regnamespace, 'public'::regnamespace) ORDER BY 1, 2`,
	`SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname IN ('shop', 'public') ORDER BY 1, 2, 3`,
	`SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class'), pg_get_viewdef(c.oid) FROM pg_class c
	WHERE c.relnamespace = 'shop'::regnamespace AND c.relkind IN ('v', 'S', 'r') ORDER BY 1`,
	`SELECT attrelid::regclass::text, attname, col_description(attrelid, attnum) FROM pg_attribute
	WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'shop'::regnamespace) AND col_description(attrelid, attnum) IS NOT NULL ORDER BY 1, 2`,
	`SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = 'shop'::regnamespace ORDER BY 1`,
	`SELECT t.typname, e.enumsortorder, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY 1, 2`,
	`SELECT schemaname, sequencename, data_type, start_value, increment_by, last_value FROM pg_sequences ORDER BY 1, 2`,
	`SELECT id, name, batch FROM knex_migrations ORDER BY id`,
	`SELECT * FROM knex_migrations_lock`,
	`SELECT id, name, email, active, data, phone, note, created_at IS NOT NULL, created_at = updated_at FROM shop.customers ORDER BY id`,
	`SELECT * FROM shop.orders ORDER BY id`,
}

func TestProxyKnex(t *testing.T) {
	r := rig(t)
	node := need(t, "node", "apt-get install -y nodejs npm")
	if _, err := os.Stat("clients/node/node_modules/knex/package.json"); err != nil {
		t.Fatalf("knex is not installed: (cd integration/clients/node && npm ci)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	viaProxy, direct := r.newDatabase(t, "knex_proxy"), r.newDatabase(t, "knex_direct")
	run := func(env []string) string {
		cmd := exec.CommandContext(ctx, node, "clients/node/knex_migrate.js")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("knex migration: %v\n%s", err, out)
		}
		return string(out)
	}
	want, got := run(r.directEnv(direct)), run(r.proxyEnv(viaProxy))
	sameText(t, "knex's output", want, got)
	if !strings.Contains(want, "up: batch 2: 20240102000000_alter\n") {
		t.Errorf("knex printed:\n%s", want)
	}
	for _, q := range knexSchema {
		w, g := queryText(ctx, t, r.directURL(direct), q), queryText(ctx, t, r.directURL(viaProxy), q)
		sameText(t, "after the migration: "+strings.Join(strings.Fields(q), " "), w, g)
	}
}
