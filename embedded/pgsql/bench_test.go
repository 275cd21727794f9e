package pgsql

import "testing"

// psqlListTables is psql's \dt query, a long catalog statement.
const psqlListTables = `SELECT n.nspname as "Schema", c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2`

// BenchmarkTranslate: a parse and print (uncached) and a cache hit, for a short statement and
// psql's \dt query. Run: go test -run XXX -bench Translate ./pgsql/
func BenchmarkTranslate(b *testing.B) {
	for _, c := range []struct{ name, q string }{{"short", "SELECT plus($1, $2)"}, {"psql_dt", psqlListTables}} {
		b.Run(c.name+"/parse", func(b *testing.B) {
			for range b.N {
				if _, err := translate(c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/cached", func(b *testing.B) {
			for range b.N {
				if _, err := Translate(c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
