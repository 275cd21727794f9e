package pgcatalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// fixture is a GMS engine with a user database wasql and the catalog over it, set up like
// psql's capture schema.
type fixture struct {
	t   *testing.T
	e   *sqle.Engine
	cat *Catalog
	pro *memory.DbProvider
}

var testFunctions = []*sqlfuncs.Overload{
	{Def: catalog.Function{Name: "plus", ArgNames: []string{"a", "b"}, ArgTypes: []string{"bigint", "bigint"},
		ReturnType: "bigint", Volatility: "IMMUTABLE", Strict: true, Parallel: "SAFE", Export: "add", ModuleHash: "abc123"},
		Args: []udf.Type{udf.Bigint, udf.Bigint}, Result: udf.Bigint},
	{Def: catalog.Function{Name: "slugify", ArgNames: []string{""}, ArgTypes: []string{"text"}, ReturnType: "text",
		Volatility: "VOLATILE", Export: "slugify"},
		Args: []udf.Type{udf.Text}, Result: udf.Text},
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := memory.NewDatabase("wasql")
	pro := memory.NewDBProvider(db)
	cat := New(Source{Provider: pro, Database: "wasql", Functions: func() []*sqlfuncs.Overload { return testFunctions },
		Users: func() []string { return []string{"app", "reader"} }})
	pro.WithOption(memory.WithDbsOption(append([]sql.Database{db}, cat.Databases()...)))
	analyzer.ExternalFunctionProvider = cat
	f := &fixture{t: t, e: sqle.NewDefault(pro), cat: cat, pro: pro}
	for _, q := range []string{
		`CREATE TABLE customers (id bigint PRIMARY KEY AUTO_INCREMENT, name text NOT NULL, email varchar(200) UNIQUE,
			created datetime DEFAULT now())`,
		`CREATE TABLE orders (id bigint PRIMARY KEY AUTO_INCREMENT, customer_id bigint NOT NULL, total decimal(10,2),
			note varchar(20) DEFAULT 'none', FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE)`,
		`CREATE INDEX orders_total ON orders (total)`,
		`CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100`,
	} {
		f.query(q)
	}
	return f
}

func (f *fixture) builds() int {
	f.cat.mu.Lock()
	defer f.cat.mu.Unlock()
	return f.cat.builds
}

// ctx is a fresh statement context for user app, as the Postgres wire creates one per statement.
func (f *fixture) ctx() *sql.Context {
	sess := memory.NewSession(sql.NewBaseSession(), f.pro)
	sess.SetClient(sql.Client{User: "app", Address: "localhost"})
	ctx := sql.NewContext(context.Background(), sql.WithSession(sess))
	ctx.SetCurrentDatabase("wasql")
	return ctx
}

// run runs q and returns its rows as text (NULL for nil, t/f for none: booleans are 1/0).
func (f *fixture) run(q string) ([][]string, error) {
	ctx := f.ctx()
	_, iter, _, err := f.e.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for {
		r, err := iter.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		row := make([]string, len(r))
		for i, v := range r {
			switch v := v.(type) {
			case nil:
				row[i] = "NULL"
			case bool: // GMS booleans are 1 and 0; functions return Go bools
				row[i] = map[bool]string{true: "1", false: "0"}[v]
			default:
				row[i] = textOf(v)
			}
		}
		out = append(out, row)
	}
	return out, iter.Close(ctx)
}

func (f *fixture) query(q string) [][]string {
	f.t.Helper()
	rows, err := f.run(q)
	if err != nil {
		f.t.Fatalf("%s\n: %v", q, err)
	}
	return rows
}

// expect runs q and compares its rows with want, one line per row, columns joined by |.
func (f *fixture) expect(q string, want ...string) {
	f.t.Helper()
	rows := f.query(q)
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r, "|"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Errorf("%s\ngot:\n  %s\nwant:\n  %s", q, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (f *fixture) oid(q string) string {
	f.t.Helper()
	rows := f.query(q)
	if len(rows) != 1 || len(rows[0]) < 1 {
		f.t.Fatalf("%s: %d rows", q, len(rows))
	}
	return rows[0][0]
}

// The psql 15 \dt query (pg-compat-captures.md §2), translated.
const psqlDt = `SELECT n.nspname as ` + "`Schema`" + `,
  c.relname as ` + "`Name`" + `,
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as ` + "`Type`" + `,
  pg_get_userbyid(c.relowner) as ` + "`Owner`" + `
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN (%s)
      AND n.nspname <> 'pg_catalog'
      AND NOT REGEXP_LIKE(n.nspname, '^pg_toast')
      AND n.nspname <> 'information_schema'
  AND pg_table_is_visible(c.oid)
ORDER BY 1,2`

func TestPsqlListRelations(t *testing.T) {
	f := newFixture(t)
	before := f.builds()
	f.expect(fmt.Sprintf(psqlDt, "'r','p',''"),
		"public|customers|table|app",
		"public|orders|table|app")
	if n := f.builds() - before; n != 1 {
		t.Errorf("one statement built %d snapshots, want 1 (shared by its tables and per-row functions)", n)
	}
	f.expect(fmt.Sprintf(psqlDt, "'r','p','v','m','S','f',''"),
		"public|big_orders|view|app",
		"public|customers|table|app",
		"public|orders|table|app")
	// \di, with the table each index is on.
	f.expect(`SELECT n.nspname as `+"`Schema`"+`, c.relname as `+"`Name`"+`,
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' END as `+"`Type`"+`,
  pg_get_userbyid(c.relowner) as `+"`Owner`"+`, c2.relname as `+"`Table`"+`
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
     LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid
WHERE c.relkind IN ('i','I','')
      AND n.nspname <> 'pg_catalog'
      AND NOT REGEXP_LIKE(n.nspname, '^pg_toast')
      AND n.nspname <> 'information_schema'
  AND pg_table_is_visible(c.oid)
ORDER BY 1,2`,
		"public|customer_id|index|app|orders", // GMS indexes foreign keys
		"public|customers_pkey|index|app|customers",
		"public|email|index|app|customers",
		"public|orders_pkey|index|app|orders",
		"public|orders_total|index|app|orders")
}

// TestPsqlDescribeTable runs every query psql 15 sends for \d customers, translated.
func TestPsqlDescribeTable(t *testing.T) {
	f := newFixture(t)
	rows := f.query(`SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE REGEXP_LIKE(c.relname, '^(customers)$')
  AND pg_table_is_visible(c.oid)
ORDER BY 2, 3`)
	if len(rows) != 1 || rows[0][1] != "public" || rows[0][2] != "customers" {
		t.Fatalf("lookup: %v", rows)
	}
	oid := rows[0][0]
	if want := fmt.Sprint(relationOID("public", "customers")); oid != want {
		t.Errorf("oid %s, want %s", oid, want)
	}
	q := func(s string) string { return strings.ReplaceAll(s, "16386", oid) }

	f.expect(q(`SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE CAST(regtype(c.reloftype) AS CHAR) END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '16386'`),
		"0|r|1|0|1|0|0|0|0||0||p|d|heap")

	columns := q(`SELECT a.attname,
  format_type(a.atttypid, a.atttypmod),
  (SELECT pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated%s
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '16386' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`)
	f.expect(fmt.Sprintf(columns, ""),
		"id|bigint|NULL|1|NULL|d|",
		"name|text|NULL|1|NULL||",
		"email|character varying(200)|NULL|0|NULL||",
		"created|timestamp without time zone|CURRENT_TIMESTAMP|0|NULL||")
	// \d+ adds storage, compression, statistics target and the comment.
	f.expect(fmt.Sprintf(columns, `,
  a.attstorage,
  a.attcompression AS attcompression,
  CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS attstattarget,
  col_description(a.attrelid, a.attnum)`),
		"id|bigint|NULL|1|NULL|d||p||NULL|NULL",
		"name|text|NULL|1|NULL|||x||NULL|NULL",
		"email|character varying(200)|NULL|0|NULL|||x||NULL|NULL",
		"created|timestamp without time zone|CURRENT_TIMESTAMP|0|NULL|||p||NULL|NULL")

	f.expect(q(`SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_get_indexdef(i.indexrelid, 0, true),
  pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '16386' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname`),
		"customers_pkey|1|1|0|1|CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)|PRIMARY KEY (id)|p|0|0|0|0",
		"email|0|1|0|1|CREATE UNIQUE INDEX email ON public.customers USING btree (email)|UNIQUE (email)|u|0|0|0|0")

	// Foreign keys out of customers: none; into customers: the one of orders.
	f.expect(q(`SELECT true as sametable, conname,
  pg_get_constraintdef(r.oid, true) as condef,
  regclass(conrelid) AS ontable
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '16386' AND r.contype = 'f'
     AND conparentid = 0
ORDER BY conname`))
	rows = f.query(q(`SELECT conname, regclassout(conrelid) AS ontable,
       pg_get_constraintdef(oid, true) AS condef
  FROM pg_catalog.pg_constraint c
 WHERE confrelid IN (SELECT pg_partition_ancestors('16386')
                     UNION ALL SELECT regclass('16386'))
       AND contype = 'f' AND conparentid = 0
ORDER BY conname`))
	if len(rows) != 1 || rows[0][1] != "orders" ||
		rows[0][2] != "FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE" {
		t.Errorf("referencing foreign keys: %v", rows)
	}

	f.expect(q(`SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE 'roles' END,
  pg_get_expr(pol.polqual, pol.polrelid),
  pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '16386' ORDER BY 1`))
	f.expect(q(`SELECT oid, regclass(stxrelid), regnamespaceout(regnamespace(stxnamespace)) AS nsp, stxname,
pg_get_statisticsobjdef_columns(oid) AS columns,
  pg_any_eq('d', stxkind) AS ndist_enabled,
  pg_any_eq('f', stxkind) AS deps_enabled,
  pg_any_eq('m', stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '16386'
ORDER BY nsp, stxname`))
	f.expect(q(`SELECT pubname, NULL, NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='16386' and pg_relation_is_publishable('16386')
UNION
SELECT pubname, pg_get_expr(pr.prqual, c.oid), NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '16386'
UNION
SELECT pubname, NULL, NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_relation_is_publishable('16386')
ORDER BY 1`))
	f.expect(q(`SELECT t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled, t.tgisinternal
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = '16386' AND (NOT t.tgisinternal OR (t.tgisinternal AND t.tgenabled = 'D'))
ORDER BY 1`))
	f.expect(q(`SELECT regclass(c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '16386'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno`))
	f.expect(q(`SELECT regclass(c.oid), c.relkind, inhdetachpending, pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '16386'
ORDER BY pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', regclassout(c.oid)`))
}

func TestPsqlDescribeOrders(t *testing.T) {
	f := newFixture(t)
	oid := f.oid(`SELECT regclass('public.orders')`)
	f.expect(`SELECT a.attname, format_type(a.atttypid, a.atttypmod),
  (SELECT pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef), a.attnotnull
FROM pg_catalog.pg_attribute a WHERE a.attrelid = '`+oid+`' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
		"id|bigint|NULL|1",
		"customer_id|bigint|NULL|1",
		"total|numeric(10,2)|NULL|0",
		"note|character varying(20)|'none'|0")
	f.expect(`SELECT true as sametable, conname, pg_get_constraintdef(r.oid, true) as condef, regclassout(regclass(conrelid)) AS ontable
FROM pg_catalog.pg_constraint r
WHERE r.conrelid = '`+oid+`' AND r.contype = 'f' AND conparentid = 0 ORDER BY conname`,
		"1|orders_ibfk_1|FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE|orders")
	f.expect(`SELECT c2.relname, i.indisunique, pg_get_indexdef(i.indexrelid, 0, true), pg_get_indexdef(i.indexrelid, 1, true), i.indkey
FROM pg_catalog.pg_class c2, pg_catalog.pg_index i WHERE i.indrelid = '`+oid+`' AND i.indexrelid = c2.oid ORDER BY i.indisprimary DESC, c2.relname`,
		"orders_pkey|1|CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)|id|1",
		"customer_id|0|CREATE INDEX customer_id ON public.orders USING btree (customer_id)|customer_id|2",
		"orders_total|0|CREATE INDEX orders_total ON public.orders USING btree (total)|total|3")
}

func TestPsqlFunctionsSchemasDatabases(t *testing.T) {
	f := newFixture(t)
	f.expect(`SELECT n.nspname as `+"`Schema`"+`,
  p.proname as `+"`Name`"+`,
  pg_get_function_result(p.oid) as `+"`Result data type`"+`,
  pg_get_function_arguments(p.oid) as `+"`Argument data types`"+`,
 CASE p.prokind
  WHEN 'a' THEN 'agg'
  WHEN 'w' THEN 'window'
  WHEN 'p' THEN 'proc'
  ELSE 'func'
 END as `+"`Type`"+`
FROM pg_catalog.pg_proc p
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE pg_function_is_visible(p.oid)
      AND n.nspname <> 'pg_catalog'
      AND n.nspname <> 'information_schema'
ORDER BY 1, 2, 4`,
		"public|plus|bigint|a bigint, b bigint|func",
		"public|slugify|text|text|func")
	f.expect(`SELECT proname, proargtypes, prorettype, provolatile, proisstrict, proparallel, pronargs, proargnames, prosrc,
  pg_get_function_identity_arguments(p.oid), l.lanname
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE pronamespace = regnamespace('public') ORDER BY 1`,
		"plus|20 20|20|i|1|s|2|{a,b}|add|a bigint, b bigint|wasm",
		"slugify|25|25|v|0|u|1|NULL|slugify|text|wasm")
	// \df app.*: no such schema, nothing listed.
	f.expect(`SELECT p.proname FROM pg_catalog.pg_proc p LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE REGEXP_LIKE(n.nspname, '^(app)$') ORDER BY 1`)
	f.expect(`SELECT n.nspname AS `+"`Name`"+`,
  pg_get_userbyid(n.nspowner) AS `+"`Owner`"+`
FROM pg_catalog.pg_namespace n
WHERE NOT REGEXP_LIKE(n.nspname, '^pg_') AND n.nspname <> 'information_schema'
ORDER BY 1`,
		"public|pg_database_owner")
	f.expect(`SELECT d.datname as `+"`Name`"+`,
       pg_get_userbyid(d.datdba) as `+"`Owner`"+`,
       pg_encoding_to_char(d.encoding) as `+"`Encoding`"+`,
       d.datcollate as `+"`Collate`"+`,
       d.datctype as `+"`Ctype`"+`,
       d.daticulocale as `+"`ICU Locale`"+`,
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS `+"`Locale Provider`"+`,
       array_to_string(d.datacl, '\n') AS `+"`Access privileges`"+`
FROM pg_catalog.pg_database d
ORDER BY 1`,
		"wasql|app|UTF8|C.UTF-8|C.UTF-8|NULL|libc|NULL")
	// \du, without the memberof array.
	f.expect(`SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolconnlimit, r.rolvaliduntil
FROM pg_catalog.pg_roles r WHERE NOT REGEXP_LIKE(r.rolname, '^pg_') ORDER BY 1`,
		"app|1|1|1|1|1|-1|NULL",
		"reader|1|1|1|1|1|-1|NULL")
	// \dT lists no user types.
	f.expect(`SELECT n.nspname, format_type(t.oid, NULL), obj_description(t.oid, 'pg_type')
FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))
  AND NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)
  AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' AND pg_type_is_visible(t.oid)
ORDER BY 1, 2`)
	// Tab completion.
	f.expect(`SELECT c.relname, NULL FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'cu%' AND pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog') UNION ALL SELECT NULL, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'cu%' AND n.nspname NOT LIKE 'pg\\_%' LIMIT 1000`,
		"customers|NULL")
}

// TestPgjdbcMetadata runs pgjdbc's getSchemas, getTables, getColumns and getPrimaryKeys
// (pg-compat-captures.md, wire: pgjdbc_metadata), translated.
func TestPgjdbcMetadata(t *testing.T) {
	f := newFixture(t)
	f.expect(`SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_toast' AND (NOT REGEXP_LIKE(nspname, '^pg_temp_') OR nspname = pg_array_get(current_schemas(true), 1)) AND (NOT REGEXP_LIKE(nspname, '^pg_toast_temp_') OR nspname = replace(pg_array_get(current_schemas(true), 1), 'pg_temp_', 'pg_toast_temp_')) ORDER BY TABLE_SCHEM`,
		"information_schema|NULL", "pg_catalog|NULL", "public|NULL")
	f.expect(`SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME, CASE REGEXP_LIKE(n.nspname, '^pg_') OR n.nspname = 'information_schema' WHEN true THEN CASE WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TABLE' WHEN 'v' THEN 'SYSTEM VIEW' WHEN 'i' THEN 'SYSTEM INDEX' ELSE NULL END WHEN n.nspname = 'pg_toast' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TOAST TABLE' WHEN 'i' THEN 'SYSTEM TOAST INDEX' ELSE NULL END ELSE CASE c.relkind WHEN 'r' THEN 'TEMPORARY TABLE' WHEN 'p' THEN 'TEMPORARY TABLE' WHEN 'i' THEN 'TEMPORARY INDEX' WHEN 'S' THEN 'TEMPORARY SEQUENCE' WHEN 'v' THEN 'TEMPORARY VIEW' ELSE NULL END END WHEN false THEN CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'i' THEN 'INDEX' WHEN 'P' then 'PARTITIONED INDEX' WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'c' THEN 'TYPE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END ELSE NULL END AS TABLE_TYPE, d.description AS REMARKS, '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0 and d.classoid = regclass('pg_class')) WHERE c.relnamespace = n.oid AND n.nspname LIKE 'public' AND c.relname LIKE '%' AND (false OR ( c.relkind = 'r' AND NOT REGEXP_LIKE(n.nspname, '^pg_') AND n.nspname <> 'information_schema' ) ) ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME`,
		"NULL|public|customers|TABLE|NULL|||||",
		"NULL|public|orders|TABLE|NULL|||||")
	f.expect(`SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid) JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum) LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class') LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog') WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped AND n.nspname LIKE 'public' AND c.relname LIKE 'customers') c WHERE true AND attname LIKE '%' ORDER BY nspname,c.relname,attnum`,
		"public|customers|id|20|1|-1|8|-1|1|d|NULL|NULL|NULL|0|b",
		"public|customers|name|25|1|-1|-1|-1|2|NULL|NULL|NULL|NULL|0|b",
		"public|customers|email|1043|0|204|-1|-1|3|NULL|NULL|NULL|NULL|0|b",
		"public|customers|created|1114|0|-1|8|-1|4|NULL|NULL|CURRENT_TIMESTAMP|NULL|0|b")
	// getPrimaryKeys, with pg_any_eq in place of information_schema._pg_expandarray.
	f.expect(`SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME, ci.relname AS PK_NAME
FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid) JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid) JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
WHERE true AND n.nspname = 'public' AND ct.relname = 'customers' AND i.indisprimary AND pg_any_eq(a.attnum, i.indkey)`,
		"NULL|public|customers|id|customers_pkey")
}

func TestInformationSchema(t *testing.T) {
	f := newFixture(t)
	f.expect(`SELECT table_catalog, table_schema, table_name, table_type FROM pg_information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
		"wasql|public|big_orders|VIEW", "wasql|public|customers|BASE TABLE", "wasql|public|orders|BASE TABLE")
	f.expect(`SELECT column_name, ordinal_position, column_default, is_nullable, data_type, character_maximum_length, numeric_precision, numeric_scale, udt_name, is_identity
FROM pg_information_schema.columns WHERE table_schema = 'public' AND table_name = 'orders' ORDER BY ordinal_position`,
		"id|1|NULL|NO|bigint|NULL|64|0|int8|YES",
		"customer_id|2|NULL|NO|bigint|NULL|64|0|int8|NO",
		"total|3|NULL|YES|numeric|NULL|10|2|numeric|NO",
		"note|4|'none'|YES|character varying|20|NULL|NULL|varchar|NO")
	f.expect(`SELECT schema_name FROM pg_information_schema.schemata ORDER BY 1`, "information_schema", "pg_catalog", "public")
	f.expect(`SELECT table_name, view_definition FROM pg_information_schema.views WHERE table_schema = 'public'`,
		"big_orders|SELECT * FROM orders WHERE total > 100")
	f.expect(`SELECT routine_schema, routine_name, data_type, external_language, is_deterministic FROM pg_information_schema.routines WHERE routine_schema = 'public' ORDER BY 2`,
		"public|plus|bigint|WASM|YES", "public|slugify|text|WASM|NO")
	f.expect(`SELECT tc.table_name, tc.constraint_type, kcu.column_name, kcu.ordinal_position
FROM pg_information_schema.table_constraints tc JOIN pg_information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name
WHERE tc.table_schema = 'public' ORDER BY 1, 2, 3`,
		"customers|PRIMARY KEY|id|1", "customers|UNIQUE|email|1", "orders|FOREIGN KEY|customer_id|1", "orders|PRIMARY KEY|id|1")
	f.expect(`SELECT constraint_name, unique_constraint_name, update_rule, delete_rule FROM pg_information_schema.referential_constraints`,
		"orders_ibfk_1|customers_pkey|NO ACTION|CASCADE")
}

// TestOIDsJoin checks that every OID one catalog table points to is in the table it names.
func TestOIDsJoin(t *testing.T) {
	f := newFixture(t)
	for _, q := range []string{
		`SELECT a.attrelid, a.attname FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE c.oid IS NULL`,
		`SELECT a.attname FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid WHERE t.oid IS NULL`,
		`SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.oid IS NULL`,
		`SELECT i.indexrelid FROM pg_catalog.pg_index i LEFT JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE c.oid IS NULL OR c.relkind <> 'i'`,
		`SELECT i.indrelid FROM pg_catalog.pg_index i LEFT JOIN pg_catalog.pg_class c ON c.oid = i.indrelid WHERE c.oid IS NULL OR c.relkind <> 'r'`,
		`SELECT con.conname FROM pg_catalog.pg_constraint con LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = con.conindid WHERE i.indexrelid IS NULL`,
		`SELECT con.conname FROM pg_catalog.pg_constraint con LEFT JOIN pg_catalog.pg_class c ON c.oid = con.conrelid WHERE c.oid IS NULL`,
		`SELECT p.proname FROM pg_catalog.pg_proc p LEFT JOIN pg_catalog.pg_type t ON t.oid = p.prorettype WHERE t.oid IS NULL`,
		`SELECT p.proname FROM pg_catalog.pg_proc p LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.oid IS NULL`,
		`SELECT t.typname FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_proc p ON p.oid = t.typinput WHERE p.oid IS NULL`,
		`SELECT t.typname FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_type a ON a.oid = t.typarray WHERE t.typarray <> 0 AND a.oid IS NULL`,
		`SELECT d.adrelid FROM pg_catalog.pg_attrdef d LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attname IS NULL`,
		`SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_roles r ON r.oid = c.relowner WHERE r.oid IS NULL`,
		`SELECT c.relname, count(*) FROM pg_catalog.pg_class c GROUP BY c.oid, c.relname HAVING count(*) > 1`,
		`SELECT oid FROM pg_catalog.pg_type GROUP BY oid HAVING count(*) > 1`,
	} {
		f.expect(q)
	}
	// The catalog tables have Postgres's OIDs, and list their own columns.
	f.expect(`SELECT regclass('pg_class'), regclass('pg_catalog.pg_type'), regclass('pg_proc'), regclass('PG_NAMESPACE'), regclass('pg_attribute')`,
		"1259|1247|1255|2615|1249")
	f.expect(`SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
WHERE c.relname = 'pg_class' AND a.attnum <= 3 ORDER BY a.attnum`,
		"oid|oid", "relname|name", "relnamespace|oid")
	f.expect(`SELECT relname, relkind FROM pg_catalog.pg_class WHERE relnamespace = regnamespace('information_schema') AND relname = 'columns'`,
		"columns|v")
	// Stable across catalogs (and so across restarts): the OID is a function of the name.
	g := newFixture(t)
	if a, b := f.oid(`SELECT regclass('customers')`), g.oid(`SELECT oid FROM pg_catalog.pg_class WHERE relname = 'customers'`); a != b {
		t.Errorf("customers: OID %s in one catalog, %s in another", a, b)
	}
}

func TestNewObjectsShowAtOnce(t *testing.T) {
	f := newFixture(t)
	f.query(`CREATE TABLE later (k int PRIMARY KEY, v json)`)
	f.expect(`SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a WHERE a.attrelid = regclass('later') ORDER BY a.attnum`,
		"k|integer", "v|json")
	f.query(`DROP TABLE later`)
	if _, err := f.run(`SELECT regclass('later')`); err == nil || !strings.Contains(err.Error(), `relation "later" does not exist`) {
		t.Errorf("regclass of a dropped table: %v", err)
	}
}

func TestRegErrors(t *testing.T) {
	f := newFixture(t)
	for q, code := range map[string]string{
		`SELECT regclass('nope')`:               "42P01",
		`SELECT regclass('public.pg_class')`:    "42P01",
		`SELECT regtype('nope')`:                "42704",
		`SELECT regproc('nope')`:                "42883",
		`SELECT regnamespace('app')`:            "3F000",
		`SELECT pg_table_is_visible('abc')`:     "22P02",
		`SELECT regrole('nobody')`:              "42704",
		`SELECT pg_array_get('{"unclosed', 1)`:  "",
		`SELECT pg_array_get('{{1,2},{3}}', 1)`: "",
	} {
		_, err := f.run(q)
		var pe *pgError
		switch {
		case err == nil:
			t.Errorf("%s: no error", q)
		case code != "" && (!errors.As(err, &pe) || pe.SQLState() != code):
			t.Errorf("%s: %v, want SQLSTATE %s", q, err, code)
		}
	}
	f.expect(`SELECT regtype('integer'), regtype('pg_catalog.int4'), regtype('character varying'), regtype('text[]'), regtype('"char"'), regtype('char'), regtype(25), regproc('pg_catalog.array_in'), regproc('plus'), regrole('app') = regrole('APP')`,
		fmt.Sprintf("23|23|1043|1009|18|1042|25|750|%d|1", hashOID(kindFunction, "public.plus(bigint,bigint)")))
	f.expect(`SELECT regclassout(regclass('information_schema.tables')), regclassout(regclass('public.customers')), regtypeout(1184), regnamespaceout(11), regprocout(750), regclassout(1)`,
		"information_schema.tables|customers|timestamp with time zone|pg_catalog|array_in|1")
}

func TestFormatType(t *testing.T) {
	for _, c := range []struct {
		oid    uint32
		typmod int32
		want   string
	}{
		{proxy.OIDInt8, -1, "bigint"}, {proxy.OIDInt4, -1, "integer"}, {proxy.OIDInt2, -1, "smallint"}, {proxy.OIDText, -1, "text"},
		{proxy.OIDVarchar, 204, "character varying(200)"}, {proxy.OIDVarchar, -1, "character varying"},
		{proxy.OIDTimestampTZ, -1, "timestamp with time zone"}, {proxy.OIDTimestamp, 3, "timestamp(3) without time zone"},
		{proxy.OIDNumeric, 10<<16 | 2 + 4, "numeric(10,2)"}, {proxy.OIDNumeric, -1, "numeric"}, {proxy.OIDBool, -1, "boolean"},
		{proxy.OIDFloat8, -1, "double precision"}, {OIDChar, -1, `"char"`}, {OIDBpchar, 5, "character(1)"},
		{1007, -1, "integer[]"}, {1015, 24, "character varying(20)[]"}, {OIDOidVector, -1, "oidvector"},
		{OIDUUID, -1, "uuid"}, {OIDJSONB, -1, "jsonb"}, {99999, -1, "???"},
	} {
		if got := FormatType(c.oid, c.typmod); got != c.want {
			t.Errorf("format_type(%d, %d) = %q, want %q", c.oid, c.typmod, got, c.want)
		}
	}
	f := newFixture(t)
	f.expect(`SELECT format_type(1043, 204), format_type(NULL, 1), format_type(23, NULL), format_type('1700', 655366)`,
		"character varying(200)|NULL|integer|numeric(10,2)")
}

func TestFunctions(t *testing.T) {
	f := newFixture(t)
	f.expect(`SELECT current_schemas(true), current_schemas(false), pg_array_get(current_schemas(true), 1), pg_array_get(current_schemas(true), 3)`,
		"{pg_catalog,public}|{public}|pg_catalog|NULL")
	f.expect(`SELECT pg_array('a', 'b c', NULL, 1), pg_array(), array_to_string(pg_array('a', NULL, 'c'), ','), array_to_string(pg_array('a', NULL), ',', '*')`,
		`{a,"b c",NULL,1}|{}|a,c|a,*`)
	f.expect(`SELECT array_upper('{a,b,c}', 1), array_lower('{a,b,c}', 1), array_length('{a,b,c}', 1), array_upper('{}', 1), array_length('{a}', 2), cardinality('{}')`,
		"3|1|3|NULL|NULL|0")
	f.expect(`SELECT array_upper('1 2', 1), array_lower('1 2', 1), pg_array_get('1 2', 0), pg_array_get('[0:1]={x,y}', 1)`,
		"1|0|1|y")
	f.expect(`SELECT pg_any_eq('b', '{a,b}'), pg_any_eq('z', '{a,b}'), pg_any_eq('z', '{a,NULL}'), pg_any_eq(2, '{1,2}'), pg_any_eq(2, '1 2'), pg_any_eq(NULL, '{a}'), pg_any_eq('a b', '{"a b"}')`,
		"1|0|NULL|1|1|NULL|1")
	f.expect(`SELECT string_to_array('a,b,,c', ','), string_to_array('', ','), string_to_array('a-x-b', '-', 'x'), string_to_array(NULL, ',')`,
		"{a,b,\"\",c}|{}|{a,NULL,b}|NULL")
	f.expect(`SELECT quote_ident('abc'), quote_ident('Abc'), quote_ident('select'), quote_ident('a"b'), quote_ident('a1$')`,
		`abc|"Abc"|"select"|"a""b"|a1$`)
	f.expect(`SELECT pg_get_userbyid(10), pg_get_userbyid(1), pg_encoding_to_char(6), pg_relation_is_publishable(1), pg_partition_ancestors('42'), has_table_privilege('customers', 'SELECT'), pg_total_relation_size(1), obj_description(1, 'pg_class'), pg_get_expr('x + 1', 5, true), pg_get_expr(NULL, 5)`,
		"app|unknown (OID=1)|UTF8|0|42|1|0|NULL|x + 1|NULL")
	f.expect(`SELECT pg_table_is_visible(regclass('customers')), pg_table_is_visible(regclass('information_schema.tables')), pg_table_is_visible(12345), pg_table_is_visible(NULL), pg_type_is_visible(23)`,
		"1|0|NULL|NULL|1")
	f.expect(`SELECT name, setting FROM pg_catalog.pg_settings WHERE name IN ('server_version', 'server_version_num', 'search_path', 'DateStyle', 'standard_conforming_strings') ORDER BY 1`,
		"DateStyle|ISO, MDY", `search_path|"$user", public`, "server_version|15.10", "server_version_num|150010", "standard_conforming_strings|on")
	if _, err := f.run(`SELECT format_type(1)`); err == nil {
		t.Error("format_type with one argument: no error")
	}
	if _, ok := f.cat.Function(f.ctx(), "FORMAT_TYPE"); !ok {
		t.Error("function lookup is not case-insensitive")
	}
}

func TestArrayParsing(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                    "",
		`{a}`:                   "a",
		`{a,"b,c",NULL,"NULL"}`: `a|b,c|<nil>|NULL`,
		`{ a , b }`:             "a|b",
		`{"a\"b","c\\d"}`:       `a"b|c\d`,
		`1 2 3`:                 "1|2|3",
	} {
		a, err := parseArray(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		var parts []string
		for _, e := range a.elems {
			if e == nil {
				parts = append(parts, "<nil>")
			} else {
				parts = append(parts, *e)
			}
		}
		if got := strings.Join(parts, "|"); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
		if len(a.elems) > 0 && strings.HasPrefix(in, "{") {
			vals := make([]any, len(a.elems))
			for i, e := range a.elems {
				if e != nil {
					vals[i] = *e
				}
			}
			if b, _ := parseArray(formatArray(vals)); len(b.elems) != len(a.elems) {
				t.Errorf("%s: does not survive formatting: %s", in, formatArray(vals))
			}
		}
	}
}

func TestTypeOID(t *testing.T) {
	f := newFixture(t)
	f.query(`CREATE TABLE typed (a tinyint, b smallint, c int, d bigint, e float, f double, g decimal(5,1), h varchar(7),
		i char(3), j text, k blob, l json, m date, n datetime, o timestamp, p boolean)`)
	f.expect(`SELECT group_concat(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum SEPARATOR ', ') FROM pg_catalog.pg_attribute a WHERE a.attrelid = regclass('typed')`,
		"smallint, smallint, integer, bigint, real, double precision, numeric(5,1), character varying(7), character(3), text, bytea, json, date, timestamp without time zone, timestamp with time zone, boolean")
}
