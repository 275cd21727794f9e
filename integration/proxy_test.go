//go:build integration

package integration

// Proxy mode as its users' tools see it: `wasql serve --upstream URL` in front of a real
// PostgreSQL 15, and each tool's answer through the proxy compared with its answer from
// PostgreSQL directly, on the same database in the same run (TestProxy...). Identical output is
// the assertion; a failure prints a diff (diff -u, PostgreSQL directly first).
//
// The TestProxy tests share one upstream cluster (internal/pgtest) and one proxy, with
// pass-through authentication (the client's user and password go to the upstream, trust for
// root here), started by the first test that needs them and stopped when the tests end
// (atExit). The schema most of them read, proxyCompatSchema, is created once in the database
// compat: tables with keys, checks, indexes (partial, expression, unique), views, a
// materialized view, sequences, identity and serial columns, enum, domain and composite types,
// plpgsql functions, a procedure, a trigger, an aggregate, an operator, a partitioned table,
// extended statistics, a foreign table, a publication, default privileges, comments, and a
// large object.
//
// Needs: apt-get install -y postgresql-15 postgresql-client (and for the clients, as
// pgclients_test.go: python3-sqlalchemy python3-psycopg2 libpostgresql-jdbc-java
// default-jdk-headless; (cd integration/clients/node && npm ci)).

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/internal/pgtest"
)

// proxyRig is what the TestProxy tests share.
type proxyRig struct {
	pg             *pgtest.Server
	pgHost, pgPort string // the upstream PostgreSQL
	proxy          *server
	compat         string // the database holding proxyCompatSchema
}

var (
	rigOnce sync.Once
	rigVal  *proxyRig
	rigErr  error
)

// rig starts the shared upstream cluster and proxy on first use, and creates the database
// compat with proxyCompatSchema.
func rig(t *testing.T) *proxyRig {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgtest.Bin, "initdb")); err != nil {
		t.Skipf("PostgreSQL 15 is needed for this test (%s/initdb: %v): apt-get install -y postgresql-15", pgtest.Bin, err)
	}
	need(t, "psql", "apt-get install -y postgresql-client")
	rigOnce.Do(func() { rigVal, rigErr = startRig() })
	if rigErr != nil {
		t.Fatal(rigErr)
	}
	return rigVal
}

func startRig() (*proxyRig, error) {
	pg, err := pgtest.StartServer()
	if err != nil {
		return nil, err
	}
	atExit = append(atExit, pg.Stop)
	u, err := url.Parse(pg.URL("postgres"))
	if err != nil {
		return nil, err
	}
	r := &proxyRig{pg: pg, pgHost: u.Hostname(), pgPort: u.Port(), compat: "compat"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pg.Exec(ctx, "CREATE DATABASE compat"); err != nil {
		return nil, err
	}
	if out, err := runPsql(ctx, r.directEnv("compat"), proxyCompatSchema, "-v", "ON_ERROR_STOP=1", "-q"); err != nil {
		return nil, fmt.Errorf("compat schema: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "wasql-proxy")
	if err != nil {
		return nil, err
	}
	atExit = append(atExit, func() { os.RemoveAll(dir) })
	r.proxy, err = launchProxy(pg.URL("postgres"), dir)
	if err != nil {
		return nil, err
	}
	atExit = append(atExit, func() { r.proxy.halt() })
	return r, nil
}

// launchProxy runs `wasql serve --upstream upstreamURL` on a free loopback port and waits until
// it reports its Postgres wire.
func launchProxy(upstreamURL, dataDir string, extra ...string) (*server, error) {
	args := append([]string{"serve", "--upstream", upstreamURL, "--data-dir", dataDir,
		"--mysql-addr", "127.0.0.1:0", "--pg-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"}, extra...)
	return launch(exec.Command(wasqlBin, args...), func(s *server, line string) bool {
		s.pgWire(line)
		return s.pgPort != ""
	})
}

// halt stops a server with SIGTERM (then SIGKILL after 10 s) and says how it ended.
func (s *server) halt() error {
	if s.cmd.ProcessState != nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("wasql serve exited with %v: %s", err, s.out)
		}
		return nil
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
		return fmt.Errorf("wasql serve did not stop on SIGTERM")
	}
}

// libpqEnv is the environment of a libpq client (psql, pg_dump) for host:port and database:
// user root, no TLS, no ~/.psqlrc or ~/.pgpass, UTC, the C.UTF-8 locale, an "editor" (cat) that
// prints what \ef and \ev give it and changes nothing.
//
// PGPASSWORD is set although the upstream trusts root: with pass-through authentication the
// proxy asks every client for a password in clear before it opens the upstream session, so a
// libpq client without one would prompt (psql reads the prompt's answer from its script on
// stdin) where PostgreSQL asks for none. PostgreSQL directly never asks, so it changes nothing
// there.
func libpqEnv(host, port, database string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") &&
			!strings.HasPrefix(kv, "PSQL") && !strings.HasPrefix(kv, "EDITOR=") && !strings.HasPrefix(kv, "VISUAL=") {
			env = append(env, kv)
		}
	}
	return append(env, "PGHOST="+host, "PGPORT="+port, "PGUSER=root", "PGDATABASE="+database,
		"PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10", "PGTZ=UTC", "PGDATESTYLE=ISO, MDY", "LC_ALL=C.UTF-8",
		"LANG=C.UTF-8", "PGPASSFILE=/nonexistent/pgpass", "PGPASSWORD=unused-with-trust", "PSQL_EDITOR=cat", "PSQL_HISTORY=/dev/null")
}

// directEnv and proxyEnv are libpqEnv for PostgreSQL directly and for the proxy.
func (r *proxyRig) directEnv(database string) []string { return libpqEnv(r.pgHost, r.pgPort, database) }
func (r *proxyRig) proxyEnv(database string) []string {
	return libpqEnv(r.proxy.pgHost, r.proxy.pgPort, database)
}

// directURL and proxyURL are the URLs of database for user root.
func (r *proxyRig) directURL(database string) string {
	return fmt.Sprintf("postgres://root:unused-with-trust@%s:%s/%s?sslmode=disable", r.pgHost, r.pgPort, database)
}
func (r *proxyRig) proxyURL(database string) string {
	return fmt.Sprintf("postgres://root:unused-with-trust@%s:%s/%s?sslmode=disable", r.proxy.pgHost, r.proxy.pgPort, database)
}

// newDatabase creates an empty database on the upstream, dropped at t's cleanup.
func (r *proxyRig) newDatabase(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.pg.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.pg.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return name
}

// runPsql runs psql -X with script on stdin; its output is stdout and stderr together, in the
// order psql wrote them.
func runPsql(ctx context.Context, env []string, script string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "psql", append([]string{"-X", "-P", "pager=off"}, args...)...)
	cmd.Env, cmd.Stdin = env, strings.NewReader(script)
	var out strings.Builder
	w := &lockedWriter{w: &out}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	return out.String(), err
}

// sameText fails t with a diff when got (through the proxy) is not want (PostgreSQL directly).
func sameText(t *testing.T, what, want, got string) bool {
	t.Helper()
	if want == got {
		return true
	}
	t.Errorf("%s: the proxy's answer differs from PostgreSQL's (- direct, + proxy):\n%s", what, diffText(want, got))
	return false
}

// diffText is diff -u of a and b.
func diffText(a, b string) string {
	dir, err := os.MkdirTemp("", "wasql-diff")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(dir)
	pa, pb := filepath.Join(dir, "direct"), filepath.Join(dir, "proxy")
	os.WriteFile(pa, []byte(a), 0o600)
	os.WriteFile(pb, []byte(b), 0o600)
	out, _ := exec.Command("diff", "-u", pa, pb).CombinedOutput()
	if len(out) == 0 {
		return fmt.Sprintf("(no diff output)\ndirect: %q\nproxy:  %q", a, b)
	}
	return string(out)
}

// proxyCompatSchema is the schema the TestProxy tests read (database compat).
const proxyCompatSchema = `
CREATE EXTENSION hstore;
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'the application''s schema';
CREATE ROLE compat_reader NOLOGIN;
CREATE ROLE compat_writer LOGIN CONNECTION LIMIT 5 IN ROLE compat_reader;
COMMENT ON ROLE compat_reader IS 'reads app';
CREATE SEQUENCE app.invoice_no START 1000 INCREMENT 10;
COMMENT ON SEQUENCE app.invoice_no IS 'invoice numbers';
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
COMMENT ON TYPE app.mood IS 'how a customer feels';
CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);
CREATE TYPE app.pair AS (a int, b text);
CREATE COLLATION app.bytes FROM "C";
CREATE TABLE app.customers (
	id serial PRIMARY KEY,
	name text NOT NULL,
	email varchar(200) UNIQUE,
	mood app.mood DEFAULT 'ok',
	score numeric(10,2) CHECK (score >= 0),
	created timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00',
	tags text[],
	data jsonb,
	attrs hstore
);
COMMENT ON TABLE app.customers IS 'people who buy';
COMMENT ON COLUMN app.customers.email IS 'where to write';
CREATE UNIQUE INDEX customers_lower_name ON app.customers (lower(name));
CREATE TABLE app.orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer_id int NOT NULL REFERENCES app.customers (id) ON DELETE CASCADE,
	invoice int DEFAULT nextval('app.invoice_no'),
	qty app.posint,
	total numeric(12,2),
	note text COLLATE app.bytes,
	placed date,
	CONSTRAINT orders_invoice_key UNIQUE (invoice),
	CONSTRAINT total_positive CHECK (total IS NULL OR total >= 0)
);
COMMENT ON CONSTRAINT total_positive ON app.orders IS 'no negative totals';
CREATE INDEX orders_customer_idx ON app.orders (customer_id);
CREATE INDEX orders_placed_big ON app.orders (placed DESC) WHERE total > 100;
COMMENT ON INDEX app.orders_customer_idx IS 'orders of a customer';
CREATE TABLE app.order_lines (
	order_id bigint REFERENCES app.orders (id),
	line int,
	product text NOT NULL,
	price numeric(8,2) DEFAULT 0,
	PRIMARY KEY (order_id, line)
);
CREATE VIEW app.big_orders AS
	SELECT o.id, c.name, o.total FROM app.orders o JOIN app.customers c ON c.id = o.customer_id WHERE o.total > 100;
COMMENT ON VIEW app.big_orders IS 'orders over 100';
CREATE MATERIALIZED VIEW app.order_totals AS SELECT customer_id, sum(total) AS total FROM app.orders GROUP BY customer_id;
CREATE FUNCTION app.order_total(cid int) RETURNS numeric LANGUAGE plpgsql STABLE AS $$
DECLARE
	t numeric;
BEGIN
	SELECT sum(total) INTO t FROM app.orders WHERE customer_id = cid;
	RETURN coalesce(t, 0);
END
$$;
COMMENT ON FUNCTION app.order_total(int) IS 'what a customer spent';
CREATE PROCEDURE app.bump(n int) LANGUAGE sql AS $$ UPDATE app.orders SET qty = qty + n $$;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.placed := coalesce(NEW.placed, date '2024-06-01');
	RETURN NEW;
END
$$;
CREATE TRIGGER orders_touch BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
COMMENT ON TRIGGER orders_touch ON app.orders IS 'fills placed';
CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER compat_ddl ON ddl_command_end EXECUTE FUNCTION app.on_ddl();
CREATE AGGREGATE app.mysum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0');
CREATE OPERATOR app.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq);
CREATE FUNCTION app.pairs(n int) RETURNS SETOF app.pair LANGUAGE sql IMMUTABLE AS $$ SELECT g, 'p' || g FROM generate_series(1, n) g $$;
CREATE TABLE app.events (id int, at date NOT NULL, msg text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON app.events (at);
CREATE STATISTICS app.orders_stats (dependencies) ON customer_id, qty FROM app.orders;
CREATE TEXT SEARCH CONFIGURATION app.plain (COPY = simple);
CREATE FOREIGN DATA WRAPPER dummy_fdw;
CREATE SERVER dummy_srv FOREIGN DATA WRAPPER dummy_fdw OPTIONS (host 'nowhere');
CREATE USER MAPPING FOR root SERVER dummy_srv OPTIONS (user 'somebody');
CREATE FOREIGN TABLE app.remote_things (id int, name text) SERVER dummy_srv;
CREATE PUBLICATION compat_pub FOR TABLE app.customers;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO compat_reader;
GRANT USAGE ON SCHEMA app TO compat_reader;
GRANT SELECT ON app.customers, app.orders TO compat_reader;
GRANT INSERT, UPDATE ON app.orders TO compat_writer;
DO $$ BEGIN EXECUTE format('ALTER ROLE compat_reader IN DATABASE %I SET work_mem = %L', current_database(), '8MB'); END $$;

CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL DEFAULT '', n numeric, CONSTRAINT v_short CHECK (length(v) < 100));
COMMENT ON TABLE t IS 'a small table';
COMMENT ON COLUMN t.v IS 'a value';
CREATE INDEX t_v_idx ON t (v);
CREATE VIEW v AS SELECT id, upper(v) AS v FROM t;
CREATE SEQUENCE s START 5;
CREATE FUNCTION f(a int, b int DEFAULT 1) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	-- adds
	RETURN a + b;
END
$$;
COMMENT ON FUNCTION f(int, int) IS 'adds two numbers';

INSERT INTO app.customers (name, email, mood, score, tags, data, attrs) VALUES
	('Ada', 'ada@example.com', 'happy', 12.50, '{a,b}', '{"k": 1}', 'x=>1'),
	('Bob', NULL, 'sad', 0, NULL, NULL, NULL),
	('Cyd', 'cyd@example.com', DEFAULT, NULL, '{}', '[1, 2]', '');
INSERT INTO app.orders (customer_id, qty, total, note) VALUES (1, 2, 150.00, 'first'), (1, 1, 20.00, NULL), (3, 5, 300.10, 'big');
INSERT INTO app.order_lines VALUES (1, 1, 'tea', 1.5), (1, 2, 'cake', 3), (3, 1, 'bread', 0.99);
INSERT INTO app.events VALUES (1, '2024-02-03', 'hello'), (2, '2024-11-30', 'bye');
INSERT INTO t SELECT g, 'v' || g, g / 7.0 FROM generate_series(1, 2000) g;
REFRESH MATERIALIZED VIEW app.order_totals;
SELECT lo_from_bytea(424242, 'a large object');
COMMENT ON LARGE OBJECT 424242 IS 'a blob';
ANALYZE;
`

// queryText runs query on the connection at url with pgx (the extended protocol, statements
// cached) and renders its result: column names with type OIDs, then one line per row.
func queryText(ctx context.Context, t *testing.T, url, query string, args ...any) string {
	t.Helper()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer c.Close(context.Background())
	return connText(ctx, t, c, query, args...)
}

// connText is queryText on an open connection.
func connText(ctx context.Context, t *testing.T, c *pgx.Conn, query string, args ...any) string {
	t.Helper()
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	defer rows.Close()
	var b strings.Builder
	for i, f := range rows.FieldDescriptions() {
		if i > 0 {
			b.WriteString(" | ")
		}
		if f.DataTypeOID < 16384 {
			fmt.Fprintf(&b, "%s:%d", f.Name, f.DataTypeOID)
		} else {
			fmt.Fprintf(&b, "%s:(a type of the database)", f.Name) // its OID is the database's
		}
	}
	b.WriteString("\n")
	n := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return b.String() + "error: " + err.Error() + "\n"
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			fmt.Fprintf(&b, "%v", v)
		}
		b.WriteString("\n")
		n++
	}
	if err := rows.Err(); err != nil {
		return b.String() + "error: " + err.Error() + "\n"
	}
	fmt.Fprintf(&b, "(%d rows)\n", n)
	return b.String()
}
