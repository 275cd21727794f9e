//go:build integration

package integration

// The metadata queries of two BI tools, Metabase (its sync: schemas, tables, columns with
// types, foreign keys, indexes, enum types, privileges) and Grafana (the PostgreSQL data
// source's schema, table and column pickers), run with pgx through the proxy and directly on
// compat, in the extended protocol (statements prepared and cached, as pgjdbc does after its
// prepareThreshold) and in the simple one, and compared.
//
// Sources. Grafana: public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
// (getVersion, getTimescaleDBVersion, showSchemas, showTables, getSchema with its
// buildSchemaConstraint), rewritten here with the schema and table filled in as the data source
// fills them. Metabase: src/metabase/driver/postgres.clj (enum-types, get-tables-sql,
// describe-fields-sql, describe-fks-sql, describe-indexes-sql, db-default-timezone), written
// out as the SQL its HoneySQL forms compile to, with the schema and table filters as $n
// parameters (Metabase passes them as JDBC parameters). Metabase's table-privileges query is
// written from memory of the driver (it reads has_table_privilege for each privilege of each
// table), not from its source: treat it as representative rather than exact.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

type biQuery struct {
	name, sql string
	args      []any
}

// grafanaSchemaConstraint is the data source's test that a schema is on the search_path.
const grafanaSchemaConstraint = `quote_ident(table_schema) IN (
	SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
	FROM generate_series(array_lower(string_to_array(current_setting('search_path'), ','), 1),
		array_upper(string_to_array(current_setting('search_path'), ','), 1)) AS i,
		string_to_array(current_setting('search_path'), ',') s)`

// grafanaColumns is getSchema for a table name as the column picker passes it.
func grafanaColumns(table string) string {
	lit := "'" + strings.ReplaceAll(table, "'", "''") + "'"
	return `SELECT quote_ident(column_name) AS "column", data_type AS "type" FROM information_schema.columns
	WHERE CASE WHEN array_length(parse_ident(` + lit + `), 1) = 2
		THEN quote_ident(table_schema) = (parse_ident(` + lit + `))[1] AND quote_ident(table_name) = (parse_ident(` + lit + `))[2]
		ELSE quote_ident(table_name) = ` + lit + ` AND ` + grafanaSchemaConstraint + `
	END`
}

const grafanaExcluded = `'information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog',
	'_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', 'timescaledb_experimental'`

var biQueries = []biQuery{
	{name: "grafana getVersion", sql: `SELECT current_setting('server_version_num')::int/100 AS version`},
	{name: "grafana getTimescaleDBVersion", sql: `SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`},
	{name: "grafana showSchemas", sql: `SELECT schema_name AS "name" FROM information_schema.schemata
	WHERE schema_name NOT IN (` + grafanaExcluded + `, 'pg_toast') ORDER BY schema_name`},
	{name: "grafana showTables(app)", sql: `SELECT quote_ident(table_name) AS "table" FROM information_schema.tables
	WHERE quote_ident(table_schema) = 'app' ORDER BY 1`},
	{name: "grafana showTables()", sql: `SELECT CASE WHEN ` + grafanaSchemaConstraint + ` THEN quote_ident(table_name)
		ELSE quote_ident(table_schema) || '.' || quote_ident(table_name) END AS "table"
	FROM information_schema.tables WHERE quote_ident(table_schema) NOT IN (` + grafanaExcluded + `)
	ORDER BY CASE WHEN ` + grafanaSchemaConstraint + ` THEN 0 ELSE 1 END, 1`},
	{name: "grafana getSchema(t)", sql: grafanaColumns("t")},
	{name: "grafana getSchema(app.orders)", sql: grafanaColumns("app.orders")},

	{name: "metabase db-default-timezone", sql: `show timezone;`},
	{name: "metabase enum-types", sql: `SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
	WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)`},
	{name: "metabase get-tables-sql", args: []any{"app", "public"}, sql: `SELECT n.nspname AS schema, c.relname AS name,
		CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW'
			WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS type,
		d.description AS description, stat.n_live_tup AS estimated_row_count
	FROM pg_catalog.pg_class AS c
	INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
	LEFT JOIN pg_catalog.pg_description AS d ON (c.oid = d.objoid) AND (d.objsubid = 0) AND (d.classoid = 'pg_class'::regclass)
	LEFT JOIN pg_stat_user_tables AS stat ON (n.nspname = stat.schemaname) AND (c.relname = stat.relname)
	WHERE (c.relnamespace = n.oid) AND (n.nspname !~ '^pg_') AND (n.nspname <> 'information_schema')
		AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (n.nspname IN ($1, $2))
	ORDER BY type ASC, schema ASC, name ASC`},
	{name: "metabase describe-fields-sql", args: []any{"app", "public", "app", "public"}, sql: `SELECT "c"."column_name" AS "name",
		CASE WHEN "c"."udt_schema" IN ('public', 'pg_catalog') THEN FORMAT('%s', "c"."udt_name")
			ELSE FORMAT('"%s"."%s"', "c"."udt_schema", "c"."udt_name") END AS "database-type",
		"c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS "table-schema",
		"c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS "pk?",
		COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment",
		(("column_default" IS NULL) OR (LOWER("column_default") = 'null')) AND ("is_nullable" = 'NO')
			AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO')) AS "database-required",
		(("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO') AS "database-is-auto-increment"
	FROM "information_schema"."columns" AS "c"
	LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name"
		FROM "information_schema"."table_constraints" AS "tc"
		INNER JOIN "information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name")
			AND ("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name")
		WHERE "tc"."constraint_type" = 'PRIMARY KEY') AS "pk"
		ON ("c"."table_schema" = "pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name")
	WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN ($1, $2))
	UNION ALL
	SELECT "pa"."attname" AS "name",
		CASE WHEN "ptn"."nspname" IN ('public', 'pg_catalog') THEN FORMAT('%s', "pt"."typname")
			ELSE FORMAT('"%s"."%s"', "ptn"."nspname", "pt"."typname") END AS "database-type",
		"pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name",
		FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", FALSE AS "database-is-auto-increment"
	FROM "pg_catalog"."pg_class" AS "pc"
	INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace"
	INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid"
	INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid"
	INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace"
	WHERE ("pc"."relkind" = 'm') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN ($3, $4))
	ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC`},
	{name: "metabase describe-fks-sql", args: []any{"app", "public"}, sql: `SELECT "fk_ns"."nspname" AS "fk-table-schema",
		"fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name",
		"pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name"
	FROM "pg_constraint" AS "c"
	INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid"
	INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid"
	INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid"
	INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid"
	INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid"
	INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid"
	WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND ("c"."contype" = 'f'::char)
		AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_ns"."nspname" IN ($1, $2))
	ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC, "fk-column-name" ASC`},
	{name: "metabase describe-indexes-sql", args: []any{"app", "public"}, sql: `SELECT "tmp"."table-schema", "tmp"."table-name",
		TRIM(BOTH '"' FROM PG_CATALOG.PG_GET_INDEXDEF("tmp"."ci_oid", "tmp"."pos", FALSE)) AS "field-name"
	FROM (SELECT "n"."nspname" AS "table-schema", "ct"."relname" AS "table-name", "ci"."oid" AS "ci_oid",
			(information_schema._pg_expandarray("i"."indkey"))."n" AS "pos"
		FROM "pg_catalog"."pg_class" AS "ct"
		INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "ct"."relnamespace" = "n"."oid"
		INNER JOIN "pg_catalog"."pg_index" AS "i" ON "ct"."oid" = "i"."indrelid"
		INNER JOIN "pg_catalog"."pg_class" AS "ci" ON "ci"."oid" = "i"."indexrelid"
		WHERE (PG_CATALOG.PG_GET_EXPR("i"."indpred", "i"."indrelid") IS NULL)
			AND n.nspname !~ '^information_schema|catalog_history|pg_' AND ("n"."nspname" IN ($1, $2))) AS "tmp"
	WHERE "tmp"."pos" = 1
	ORDER BY 1, 2, 3`},
	{name: "metabase table-privileges (from memory)", sql: `SELECT n.nspname AS schema, c.relname AS table,
		pg_catalog.has_table_privilege(current_user, c.oid, 'SELECT') AS select,
		pg_catalog.has_table_privilege(current_user, c.oid, 'UPDATE') AS update,
		pg_catalog.has_table_privilege(current_user, c.oid, 'INSERT') AS insert,
		pg_catalog.has_table_privilege(current_user, c.oid, 'DELETE') AS delete,
		pg_catalog.has_schema_privilege(current_user, n.oid, 'USAGE') AS usage
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
	ORDER BY 1, 2`},
}

func TestProxyBIMetadata(t *testing.T) {
	r := rig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		param := "&default_query_exec_mode=" + mode
		direct, err := pgx.Connect(ctx, r.directURL(r.compat)+param)
		if err != nil {
			t.Fatal(err)
		}
		defer direct.Close(context.Background())
		proxied, err := pgx.Connect(ctx, r.proxyURL(r.compat)+param)
		if err != nil {
			t.Fatal(err)
		}
		defer proxied.Close(context.Background())
		// Each query twice: the second time, in the extended protocol, from the statement cache.
		for _, run := range []string{"", ", again"} {
			for _, q := range biQueries {
				want, got := connText(ctx, t, direct, q.sql, q.args...), connText(ctx, t, proxied, q.sql, q.args...)
				if sameText(t, q.name+" ("+mode+run+")", want, got) && strings.HasPrefix(want, "error: ") {
					t.Errorf("%s (%s) fails on PostgreSQL itself: %s", q.name, mode, want)
				}
			}
		}
	}
}
