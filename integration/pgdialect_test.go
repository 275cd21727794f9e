//go:build integration

package integration

// TestPGDialect runs the same Postgres SQL against a real PostgreSQL 15 and against wasql's
// Postgres wire, and compares the answers as a client sees them: column names, text values,
// command tags and SQLSTATEs. It is the proof that pgsql's translation keeps Postgres's
// semantics, one statement at a time.
//
// Needs: apt-get install -y postgresql-15 (the server; initdb runs as the postgres user).

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgDialectCases: setup statements, then queries whose answers must match. Statements that
// change data are compared by their command tags.
var pgDialectCases = []string{
	"CREATE TABLE t (id int PRIMARY KEY, a int, b bigint, s text, f float8, d date, ok boolean)",
	"INSERT INTO t VALUES (1, 10, 100, 'Alpha', 1.5, '2024-01-02', true), (2, NULL, 200, 'beta', 2.25, '2024-03-04', false), (3, 30, NULL, 'Gamma_x', NULL, NULL, NULL)",
	"SELECT 1, 'a' || 'b', 7 / 2, -7 / 2, 7 % 3, 2 ^ 3",
	"SELECT id, a, s FROM t ORDER BY id",
	"SELECT count(*), count(a), max(s), min(id) FROM t",
	`SELECT s FROM t WHERE s ILIKE 'a%' OR s LIKE '%\_x' ORDER BY 1`,
	"SELECT id FROM t WHERE a IS DISTINCT FROM 10 ORDER BY id",
	"SELECT id FROM t WHERE a IS NOT DISTINCT FROM NULL",
	"SELECT id, coalesce(a, -1), nullif(id, 2) FROM t ORDER BY id",
	"SELECT id, CASE WHEN a > 15 THEN 'big' WHEN a IS NULL THEN 'none' ELSE 'small' END FROM t ORDER BY id",
	"SELECT id FROM t WHERE id IN (1, 3) AND id = ANY(ARRAY[1, 2, 3]) ORDER BY id",
	"SELECT id FROM t WHERE id <> ALL(ARRAY[1, 2]) AND id NOT IN (5)",
	"SELECT s, length(s), upper(s), lower(s), substring(s from 2 for 3), strpos(s, 'a'), replace(s, 'a', 'A'), left(s, 2) FROM t ORDER BY id",
	"SELECT trim('  x  '), ltrim('xxy', 'x'), rtrim('yxx', 'x'), btrim('xyx', 'x'), concat('a', NULL, 'b')",
	"SELECT id::text, '42'::int + 1, 'yes'::boolean, cast(id AS bigint) FROM t ORDER BY 4",
	"SELECT exists(SELECT 1 FROM t WHERE a > 20), (SELECT max(id) FROM t)",
	"SELECT i FROM generate_series(1, 7) AS i WHERE i % 2 = 1",
	"SELECT * FROM generate_series(1, 0)",
	"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 4) SELECT n FROM r ORDER BY n",
	"WITH big AS (SELECT id FROM t WHERE b >= 100) SELECT count(*) FROM big",
	"SELECT id, row_number() OVER (ORDER BY id DESC), rank() OVER (PARTITION BY ok ORDER BY id) FROM t ORDER BY id",
	"SELECT a FROM t ORDER BY a NULLS FIRST",
	"SELECT a FROM t ORDER BY a DESC NULLS LAST",
	"SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS v(n, name) ORDER BY n DESC",
	"VALUES (1, 'one'), (2, 'two')",
	"SELECT id, ok, NOT ok, ok IS TRUE, ok IS UNKNOWN FROM t ORDER BY id",
	"SELECT string_agg(s, ',' ORDER BY s) FROM t",
	"SELECT s FROM t ORDER BY id LIMIT 1 OFFSET 1",
	"SELECT s FROM t ORDER BY id OFFSET 2",
	"SELECT s FROM t ORDER BY id FETCH FIRST 2 ROWS ONLY",
	"SELECT count(*) FILTER (WHERE a IS NOT NULL), count(*) FROM t",
	"SELECT ok, count(*) FROM t GROUP BY ok HAVING count(*) >= 1 ORDER BY ok",
	"SELECT DISTINCT ok FROM t ORDER BY ok",
	"SELECT t1.id, t2.id FROM t t1 JOIN t t2 ON t2.id = t1.id + 1 ORDER BY 1",
	"SELECT t1.id, t2.id FROM t t1 LEFT JOIN t t2 ON t2.a = t1.id * 10 ORDER BY 1",
	"SELECT x.id FROM t x CROSS JOIN t y WHERE x.id = y.id AND y.s = 'beta'",
	"SELECT id FROM t UNION SELECT a FROM t WHERE a IS NOT NULL ORDER BY 1",
	"SELECT id FROM t EXCEPT SELECT 2 ORDER BY 1",
	"SELECT id FROM t WHERE s ~ '^[A-G]' AND s !~* 'beta' ORDER BY id",
	"SELECT current_schema(), current_database(), current_user, session_user",
	"SELECT abs(-3), ceil(1.2::float8), floor(1.8::float8), round(2.5::float8), sqrt(16::float8), power(2, 10), mod(7, 3), log(100::float8)",
	"SELECT 'x' AS \"Mixed Case\", 2 AS two",
	"SELECT id FROM t WHERE d BETWEEN '2024-01-01' AND '2024-02-01'",
	"SELECT d FROM t ORDER BY id",
	"SELECT s, count(*) OVER () FROM t ORDER BY s",
	"SELECT upper(s) AS u FROM t WHERE s IS NOT NULL ORDER BY u DESC",
	"SELECT id FROM t WHERE s IN (SELECT s FROM t WHERE id < 3) ORDER BY id",
	"SELECT id, (SELECT count(*) FROM t t2 WHERE t2.id <= t.id) FROM t ORDER BY id",
	"SELECT CAST(f AS int), f::numeric(5,1) FROM t ORDER BY id",
	"SELECT 10 - 3 * 2, (10 - 3) * 2, 2 + 3 * 4 % 5, -2 ^ 2, 2 * -3",
	"SELECT 'abc' < 'abd', 'B' < 'a', 'a' = 'A'",
	"SELECT d + 1 FROM t WHERE id = 1",
	"SELECT d - d FROM t WHERE id = 1",
	"SELECT s::int FROM t WHERE id = 1",
	"SELECT now()::text LIKE '20__-__-__ __:__:__%+00', current_timestamp::text LIKE '%+00', now() > '2024-01-01', now() = current_timestamp",
	"SELECT s::float8 FROM t WHERE id = 1",
	"SELECT ' 1.5 '::text::float8, '-2e3'::text::real, a::float8, b::real FROM t ORDER BY id",
	"SELECT f::int, (f * 10)::smallint, (a * 1000000)::smallint, a::bigint FROM t ORDER BY id",
	"SELECT (2.5::float8)::int, (3.5::float8)::int, (2.5::numeric)::int, (-2.5::numeric)::int, ' 42 '::text::int, count(*)::int FROM t",
	"SELECT greatest(1, NULL, 3), least(NULL, 2, 1), greatest(NULL::int, NULL), least(2.5::float8, 1), greatest('a', 'b')",
	"SELECT id, greatest(a, b), least(a, b, id), greatest(f, 2) FROM t ORDER BY id",
	"SELECT d + interval '2 days', d - interval '1 day' FROM t WHERE id = 1",
	"SELECT date '2024-01-01' + 1, date '2024-03-01' - date '2024-01-01', date '2024-01-01' + interval '1 day'",
	"SELECT '2.50'::numeric, 2.50::numeric, 1.10::numeric + 1, 3::numeric, 2.5::float8::numeric, '-0.010'::numeric",
	"SELECT round(2.5::float8), round(2.5), round(3.5::float8), round(-2.5::float8), round(2.567, 2), round(-2.5), round(1234.5, -2), round(0.5::float8)",
	"SELECT now() IS NOT NULL, current_date IS NOT NULL",
	"SELECT coalesce(NULL, NULL, 3), greatest(1, 5, 3), least(4, 2)",
	"SELECT length('héllo'), upper('héllo'), substr('héllo', 2, 2)",
	"SELECT 1::float8 / 4, 10::float8 / 4, 3.5::float8",
	"SELECT 7::numeric / 2, 1.5 + 1, 0.1 + 0.2",
	"SELECT id, b::float8 / 3 FROM t WHERE b IS NOT NULL ORDER BY id",
	"SELECT count(DISTINCT ok), sum(a), avg(a) FROM t",
	"SELECT id, a FROM t ORDER BY 2 DESC, 1",
	"SELECT a + 1 AS x FROM t ORDER BY x",
	"SELECT d::timestamp - interval '1 day 2 hours', d::timestamp + interval '3 months' FROM t WHERE id = 1",
	"SELECT date_trunc('month', d::timestamp), date_trunc('hour', '2024-05-06 07:08:09'::timestamp), extract(epoch from '2024-01-01 00:00:10'::timestamp)",
	"SELECT extract(year from d), extract(month from d), extract(day from d) FROM t WHERE id = 1",
	"SELECT btrim('xxabcyx', 'xy'), ltrim('xxyabc', 'xy'), rtrim('abcxyx', 'xy'), trim(both 'xy' from 'yxaxy')",
	"SELECT n FROM generate_series(5, 1, -2) AS n",
	"SELECT '2024-02-28'::date + 1, date '2024-03-01' - 1, date '2024-03-01' - date '2024-02-28'",
	"SELECT (s !~ 'a') IS NULL, s <> ALL(ARRAY['beta']) FROM t ORDER BY id",
	"SELECT * FROM (VALUES (1), (2), (3) ORDER BY 1 DESC LIMIT 2) AS v(a)",
	"SELECT 'abcdef'::varchar(3), -7 % 3, 7 % -3, -7 / 2",
	"SELECT 5 % 0",
	"SELECT 70000::int2",
	"SELECT 'a\b' LIKE 'a\b' ESCAPE '', 'a_b' LIKE 'a$_b' ESCAPE '$'",
	"SELECT count(*)::int FROM pg_trigger",
	"UPDATE t SET b = b WHERE id = 2",
	"/* a comment */ UPDATE t SET b = b WHERE id = 2",
	"UPDATE t SET a = a + 1 WHERE id = 1",
	"SELECT a FROM t WHERE id = 1",
	"DELETE FROM t WHERE id = 3",
	"INSERT INTO t (id, s) VALUES (4, E'tab\\there')",
	"SELECT s FROM t WHERE id = 4",
	"INSERT INTO t (id, s) VALUES (4, 'dup') ON CONFLICT (id) DO NOTHING",
	"SELECT s FROM t WHERE id = 4",
	"INSERT INTO t (id, s) VALUES (4, 'up'), (5, 'new') ON CONFLICT (id) DO UPDATE SET s = EXCLUDED.s",
	"INSERT INTO t (id, s) VALUES (5, 'new') ON CONFLICT (id) DO UPDATE SET s = EXCLUDED.s",
	"INSERT INTO t (id, s) VALUES (6, 'x'), (5, 'y') ON CONFLICT (id) DO NOTHING",
	"SELECT id, s FROM t WHERE id >= 4 ORDER BY id",
	"INSERT INTO t (id, s) SELECT id, s FROM t WHERE id = 4 ON CONFLICT (id) DO UPDATE SET s = 'sel'",
	"DELETE FROM t WHERE id >= 5",
	"UPDATE t SET s = E'tab\\there' WHERE id = 4",
	"INSERT INTO t (id) VALUES (4)",
	"SELECT nope FROM t",
	"SELECT * FROM nope",
	"SELECT 1 / 0",
	"SELECT 'maybe'::boolean",
	"CREATE TABLE c (id serial PRIMARY KEY, name text NOT NULL, email varchar(200) UNIQUE, created timestamptz DEFAULT now())",
	"INSERT INTO c (name, email) VALUES ('a', 'a@x'), ('b', 'b@x')",
	"SELECT id, name, email, created IS NOT NULL FROM c ORDER BY id",
	"INSERT INTO c (name) VALUES (NULL)",
	"INSERT INTO c (name, email) VALUES ('c', 'a@x')",
	"CREATE VIEW v AS SELECT id, name FROM c WHERE id > 1",
	"SELECT * FROM v",
	"CREATE INDEX ON c (email)",
	"CREATE TABLE s (n serial, v text)",
	"INSERT INTO s (v) VALUES ('x'), ('y')",
	"SELECT n, v FROM s ORDER BY n",
	"INSERT INTO s (v) VALUES ('z'), ('w') RETURNING n, v || '!' AS shout",
	"UPDATE s SET v = upper(v) WHERE n <= 2 RETURNING *",
	"INSERT INTO s (v) VALUES ('q') RETURNING *",
	"DROP VIEW v",
	"DROP TABLE c",
	"DROP TABLE IF EXISTS c",
	"BEGIN",
	"COMMIT",
}

// pgDialectGaps are the cases whose answers differ, with why. Delete an entry once it matches.
var pgDialectGaps = map[string]string{}

// postgresAndWasql starts a PostgreSQL 15 and the wasql binary and connects to each, with
// statements sent in mode: the two sides a differential test compares.
func postgresAndWasql(t *testing.T, mode pgx.QueryExecMode) (want, got *pgx.Conn) {
	t.Helper()
	pgDSN := startPostgres(t)
	s := startServer(t, t.TempDir())
	ctx := context.Background()
	connect := func(dsn string) *pgx.Conn {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DefaultQueryExecMode = mode
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}
	return connect(pgDSN), connect(fmt.Sprintf("postgres://root@%s:%s/wasql?sslmode=disable", s.pgHost, s.pgPort))
}

func TestPGDialect(t *testing.T) {
	want, got := postgresAndWasql(t, pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	var n dialectTally
	for _, q := range pgDialectCases {
		w, g := answer(ctx, want, q, false), answer(ctx, got, q, false)
		if readOnly(q) && w == g { // the extended protocol (Parse/Bind/Describe/Execute) must agree
			w, g = answer(ctx, want, q, true), answer(ctx, got, q, true)
		}
		n.compare(t, q, w, g)
	}
	for _, q := range pgTypeCases {
		w, g := answer(ctx, want, q, false), answer(ctx, got, q, false)
		if readOnly(q) && w == g {
			w, g = answer(ctx, want, q, true), answer(ctx, got, q, true)
		}
		n.compare(t, q, w, g)
	}
	for _, pc := range pgParamCases {
		n.compare(t, pc.String(), answerParams(ctx, want, pc), answerParams(ctx, got, pc))
	}
	t.Logf("TestPGDialect: %d statements agree with PostgreSQL 15, %d are refused (0A000), %d differ (known gaps)", n.agree, n.refused, n.differ)
}

// dialectTally counts the statements that agree with Postgres, that wasql refuses with 0A000
// and that still differ.
type dialectTally struct{ agree, refused, differ int }

// compare checks one statement's answers: equal, refused with 0A000 (a refusal is never a
// wrong answer), or a listed gap; anything else fails the test.
func (n *dialectTally) compare(t *testing.T, q, w, g string) {
	t.Helper()
	gap, known := pgDialectGaps[q]
	switch {
	case w == g && known:
		n.agree++
		t.Errorf("%s\n  matches now: delete it from pgDialectGaps (%s)", q, gap)
	case w == g:
		n.agree++
	case g == "ERROR 0A000":
		n.refused++
		t.Logf("refused: %s (postgres: %s)", q, w)
	case !known:
		n.differ++
		t.Errorf("%s\n  postgres: %s\n  wasql:    %s", q, w, g)
	default:
		n.differ++
		t.Logf("known gap: %s: %s", q, gap)
	}
}

func readOnly(q string) bool {
	q = strings.ToUpper(q)
	return strings.HasPrefix(q, "SELECT") || strings.HasPrefix(q, "VALUES") || strings.HasPrefix(q, "WITH")
}

// answer is what a client sees of a statement: column names, rows as text and the command tag,
// or the SQLSTATE of its error; through the simple protocol or the extended one.
func answer(ctx context.Context, c *pgx.Conn, q string, extended bool) string {
	var results []*pgconn.Result
	var err error
	if extended {
		r := c.PgConn().ExecParams(ctx, q, nil, nil, nil, nil).Read()
		results, err = []*pgconn.Result{r}, r.Err
	} else {
		results, err = c.PgConn().Exec(ctx, q).ReadAll()
	}
	if err != nil {
		if pe, ok := err.(*pgconn.PgError); ok {
			return "ERROR " + pe.Code
		}
		return "ERROR " + err.Error()
	}
	var b strings.Builder
	for _, r := range results {
		for i, f := range r.FieldDescriptions {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(f.Name)
		}
		b.WriteString(" |")
		for _, row := range r.Rows {
			b.WriteString(" (")
			for i, v := range row {
				if i > 0 {
					b.WriteString(",")
				}
				if v == nil {
					b.WriteString("NULL")
				} else {
					b.Write(v)
				}
			}
			b.WriteString(")")
		}
		b.WriteString(" | " + r.CommandTag.String())
	}
	return b.String()
}

// startPostgres runs a PostgreSQL 15 server in a temporary directory on a free loopback port,
// with a database named wasql, and returns its DSN.
func startPostgres(t *testing.T) string {
	t.Helper()
	bin := "/usr/lib/postgresql/15/bin"
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		t.Fatalf("PostgreSQL 15 is needed for this test: apt-get install -y postgresql-15")
	}
	dir, err := os.MkdirTemp("", "wasql-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	asPostgres := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() != 0 {
			return exec.Command(filepath.Join(bin, name), args...)
		}
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asPostgres("initdb", "-D", data, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "root", "-N").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	opts := "-c listen_addresses=127.0.0.1 -c port=" + port + " -c unix_socket_directories=" + dir + " -c fsync=off -c TimeZone=UTC"
	if out, err := asPostgres("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl start: %v %s", err, out)
	}
	t.Cleanup(func() { asPostgres("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run() })
	dsn := "postgres://root@127.0.0.1:" + port + "/%s?sslmode=disable"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf(dsn, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE wasql"); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(dsn, "wasql")
}
