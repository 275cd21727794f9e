// Package pgcatalog serves Postgres's system catalog to Postgres-wire clients (psql's \d
// commands, pgjdbc's DatabaseMetaData, Grafana, Metabase) on top of go-mysql-server.
//
// It provides two read-only GMS databases and a set of functions, and expects SQL already
// translated to GMS's dialect by the Postgres translator:
//
//   - pg_catalog: the Postgres 15 catalog tables and views clients read (pg_namespace, pg_class,
//     pg_attribute, pg_type, pg_proc, pg_index, pg_constraint, pg_attrdef, pg_database,
//     pg_roles, pg_user, pg_am, pg_collation, pg_settings, pg_tablespace, pg_language,
//     pg_tables, pg_views, pg_indexes, ...) with their real column names, plus the ones psql
//     and drivers query that are always empty here (pg_description, pg_policy, pg_trigger,
//     pg_inherits, pg_publication*, pg_statistic_ext, pg_depend, pg_enum, pg_sequence, ...).
//   - pg_information_schema: Postgres's information_schema (schemata, tables, columns, views,
//     routines, table_constraints, key_column_usage, referential_constraints). GMS keeps its own
//     MySQL-shaped information_schema; the translator maps Postgres's to this database.
//   - functions (Catalog.Function): format_type, pg_get_indexdef, pg_get_constraintdef,
//     pg_table_is_visible and the other catalog helpers, the reg* casts (regclass(x) for
//     x::regclass, ...), and the text-array helpers the translator rewrites arrays to.
//
// Rows are computed when a query reads them, from the Source: a table created a moment ago
// is listed at once. The user database appears as schema public; catalog tables as schema
// pg_catalog (and information_schema for those of pg_information_schema).
//
// OIDs are stable across restarts and sessions and agree between tables, so catalog joins
// work: built-in objects keep Postgres's OIDs (namespaces, types, most catalog tables),
// everything else gets a hash of its kind-qualified name (oid.go). OID columns are unsigned
// integers; regproc columns (pg_type.typinput) hold OIDs too. regclass(x) and the other reg*
// casts return the OID as an integer, so x::regclass prints as a number where Postgres prints a
// name: regclassout, regtypeout, regprocout and regnamespaceout give the name.
//
// Arrays are text in Postgres's form: '{a,b}' for arrays (lower bound 1), '1 2' for
// int2vector and oidvector columns (pg_index.indkey, pg_proc.proargtypes), whose subscripts
// start at 0 as in Postgres; the array functions understand both.
//
// Not covered: views have no columns in pg_attribute (their schema needs the analyzer);
// sequences, partitions, inheritance, triggers, policies, publications, comments and
// extensions do not exist in wasql and their tables are empty; privileges are not described
// (has_*_privilege is always true); Postgres's system columns (ctid, xmin, ...) are not
// listed; only one-dimensional arrays are understood.
package pgcatalog

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/sqlfuncs"
)

// Names of the GMS databases the catalog provides.
const (
	CatalogDatabase    = "pg_catalog"            // Postgres's pg_catalog schema
	InfoSchemaDatabase = "pg_information_schema" // Postgres's information_schema schema
)

// Source is what the catalog describes.
type Source struct {
	// Provider holds the user database. It is read only while a statement runs, so it may be
	// the provider the catalog's own databases are then added to:
	//
	//	pro := memory.NewDBProvider(db)
	//	cat := pgcatalog.New(pgcatalog.Source{Provider: pro, Database: "wasql", ...})
	//	pro.WithOption(memory.WithDbsOption(append([]sql.Database{db}, cat.Databases()...)))
	Provider sql.DatabaseProvider
	// Database is the GMS database shown as schema public (engine.Database, "wasql").
	Database string
	// Name is the Postgres database name shown in pg_database and information_schema;
	// Database when empty.
	Name string
	// Functions lists the wasm functions (sqlfuncs.Registry.Functions); nil for none.
	Functions func() []*sqlfuncs.Overload
	// Users lists the login roles; nil for none. The session's user is always listed.
	Users func() []string
	// ServerVersion is shown by version() and pg_settings; proxy.DefaultServerVersion when empty.
	ServerVersion string
	// Settings returns the session's settings (as SHOW prints them) for pg_settings, which
	// otherwise shows the defaults; nil for the defaults.
	Settings func(ctx *sql.Context) map[string]string
}

// Catalog is the Postgres catalog of one Source.
type Catalog struct {
	src Source
	dbs []sql.Database

	mu     sync.Mutex
	cache  []cachedSnapshot // most recent last
	builds int              // snapshots built, for tests
}

type cachedSnapshot struct {
	key  snapshotKey
	snap *snapshot
}

// snapshotKey identifies one statement: the context of a statement may be copied while it runs,
// but these stay the same.
type snapshotKey struct {
	session uint32
	pid     uint64
	start   time.Time
	query   string
}

const cacheSize = 16

// DefaultServerVersion is the PostgreSQL version the catalog reports (version(),
// server_version) when Source.ServerVersion is empty.
const DefaultServerVersion = "15.10"

// New returns the catalog of src.
func New(src Source) *Catalog {
	if src.Name == "" {
		src.Name = src.Database
	}
	if src.ServerVersion == "" {
		src.ServerVersion = DefaultServerVersion
	}
	c := &Catalog{src: src}
	c.dbs = []sql.Database{
		&database{name: CatalogDatabase, tables: catalogTables(c)},
		&database{name: InfoSchemaDatabase, tables: infoSchemaTables(c)},
	}
	return c
}

// Databases returns the GMS databases pg_catalog and pg_information_schema, to add to the
// engine's database provider.
func (c *Catalog) Databases() []sql.Database { return c.dbs }

// snapshot returns the description of the source for the statement ctx runs: built at its first
// use and shared by every table and function the statement reads, so that a query sees one
// consistent catalog and a function called per row does not rebuild it. A caller that runs
// several statements on one *sql.Context sees the first statement's catalog unless it calls
// ctx.SetQueryTime between them.
func (c *Catalog) snapshot(ctx *sql.Context) (*snapshot, error) {
	key := snapshotKey{pid: ctx.Pid(), start: ctx.QueryTime(), query: ctx.Query()}
	if ctx.Session != nil {
		key.session = ctx.Session.ID()
	}
	c.mu.Lock()
	for i, e := range c.cache {
		if e.key == key { // most recently used moves last, so a long statement keeps its snapshot
			c.cache = append(append(c.cache[:i:i], c.cache[i+1:]...), e)
			c.mu.Unlock()
			return e.snap, nil
		}
	}
	c.mu.Unlock()
	s, err := buildSnapshot(ctx, c.src)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.builds++
	if len(c.cache) == cacheSize {
		c.cache = append(c.cache[:0], c.cache[1:]...)
	}
	c.cache = append(c.cache, cachedSnapshot{key, s})
	return s, nil
}

// database is a read-only GMS database of catalog tables.
type database struct {
	name   string
	tables []*table
}

var (
	_ sql.ReadOnlyDatabase = (*database)(nil)
	_ sql.ViewDatabase     = (*database)(nil)
)

func (d *database) Name() string     { return d.name }
func (d *database) IsReadOnly() bool { return true }

func (d *database) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	for _, t := range d.tables {
		if strings.EqualFold(t.name, name) {
			return t, true, nil
		}
	}
	return nil, false, nil
}

func (d *database) GetTableNames(*sql.Context) ([]string, error) {
	names := make([]string, len(d.tables))
	for i, t := range d.tables {
		names[i] = t.name
	}
	return names, nil
}

// The catalog databases hold no views in go-mysql-server's sense (Postgres's views among the
// catalog relations are tables here). They implement sql.ViewDatabase all the same: with users
// configured, go-mysql-server wraps every database in a privilege checker whose view methods fail
// for a database without them, and every query on pg_catalog asks for views.

// CreateView implements the interface sql.ViewDatabase: the catalog is read-only.
func (d *database) CreateView(*sql.Context, string, string, string) error {
	return &pgError{code: "42809", msg: d.name + " is a read-only catalog"}
}

// DropView implements the interface sql.ViewDatabase: the catalog is read-only.
func (d *database) DropView(*sql.Context, string) error {
	return &pgError{code: "42809", msg: d.name + " is a read-only catalog"}
}

// GetViewDefinition implements the interface sql.ViewDatabase: there are none.
func (d *database) GetViewDefinition(*sql.Context, string) (sql.ViewDefinition, bool, error) {
	return sql.ViewDefinition{}, false, nil
}

// AllViews implements the interface sql.ViewDatabase: there are none.
func (d *database) AllViews(*sql.Context) ([]sql.ViewDefinition, error) { return nil, nil }

// table is every catalog table: a schema and a function computing the rows from a snapshot.
type table struct {
	name   string
	nsp    string // the Postgres schema: pg_catalog or information_schema
	view   bool   // a view in Postgres (pg_class.relkind 'v')
	cols   []column
	schema sql.Schema
	rows   func(s *snapshot) []row
	cat    *Catalog
}

// row is one row as its table's rows function builds it: values of Go's usual types (ints,
// bools, strings, nil), converted to the column types by the table.
type row []any

var _ sql.Table = (*table)(nil)

func (t *table) Name() string               { return t.name }
func (t *table) String() string             { return t.name }
func (t *table) Schema() sql.Schema         { return t.schema }
func (t *table) Collation() sql.CollationID { return sql.Collation_Default }
func (t *table) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(partition{}), nil
}

func (t *table) PartitionRows(ctx *sql.Context, _ sql.Partition) (sql.RowIter, error) {
	s, err := t.cat.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var rows []sql.Row
	for _, r := range t.rows(s) {
		if len(r) != len(t.cols) {
			return nil, fmt.Errorf("pgcatalog: %s: row of %d values for %d columns", t.name, len(r), len(t.cols))
		}
		out := make(sql.Row, len(r))
		for i, v := range r {
			var ok bool
			if out[i], ok = t.cols[i].kind.value(v); !ok {
				return nil, fmt.Errorf("pgcatalog: %s.%s: value %v (%T) does not fit", t.name, t.cols[i].name, v, v)
			}
		}
		rows = append(rows, out)
	}
	return sql.RowsToRowIter(rows...), nil
}

type partition struct{}

func (partition) Key() []byte { return []byte("all") }
