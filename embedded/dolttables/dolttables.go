// Package dolttables keeps embedded mode's tables in Dolt's storage engine
// (github.com/dolthub/dolt), in a directory of the data directory: durable (each COMMIT is in
// Dolt's fsynced chunk journal before it returns), transactional (a transaction reads a snapshot
// and merges into the working set at COMMIT), with ALTER TABLE, indexes and foreign keys.
//
// It builds the go-mysql-server engine the way Dolt's own SQL server and its database/sql driver
// do (engine.NewSqlEngine), with the engine overrides it is given (wasql's parser), and hands out
// Dolt sessions. Provider puts other databases (the Postgres catalog's), the functions and
// hidden tables (wasql.functions) beside Dolt's databases.
//
// Dolt merges concurrent transactions cell by cell at COMMIT: two transactions that both
// increment a counter from 5 to 6 merge without a conflict, and one increment is lost. The
// caller must therefore let one transaction write at a time (embedded/stmtlock.go does).
package dolttables

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/dolthub/dolt/go/cmd/dolt/commands/engine"
	"github.com/dolthub/dolt/go/libraries/doltcore/branch_control"
	"github.com/dolthub/dolt/go/libraries/doltcore/dbfactory"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb/gcctx"
	"github.com/dolthub/dolt/go/libraries/doltcore/env"
	dsqle "github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/globalstate"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/writer"
	"github.com/dolthub/dolt/go/libraries/doltcore/table/editor"
	"github.com/dolthub/dolt/go/libraries/utils/config"
	"github.com/dolthub/dolt/go/libraries/utils/filesys"
)

// Version is the Dolt format version written into new databases' metadata.
const Version = "0.40.5"

// Store is an open Dolt directory and the engine over it.
type Store struct {
	se      *engine.SqlEngine
	pro     *dsqle.DoltDatabaseProvider
	session sessionParts
	release func() // lets go of the text format (useFormat)
}

// sessionParts are what Dolt's engine builds its sessions from, taken from one of its sessions:
// NewSession builds them the same way with another write session (writeSession).
type sessionParts struct {
	cfg     config.ReadWriteConfig
	branch  *branch_control.Controller
	stats   sql.StatsProvider
	gc      *gcctx.GCSafepointController
	tracker *doltdb.BranchActivityTracker
}

// Open opens the Dolt directory dir (made if missing), with database made if it does not exist,
// and builds its engine with overrides.
func Open(ctx context.Context, dir, database string, overrides sql.EngineOverrides) (*Store, error) {
	f, err := dirFormat(dir)
	if err != nil {
		return nil, err
	}
	return open(ctx, dir, database, overrides, f)
}

// open opens dir in text format f; a new directory is marked with it.
func open(ctx context.Context, dir, database string, overrides sql.EngineOverrides, f format) (_ *Store, err error) {
	release, err := useFormat(dir, f)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tables directory: %w", err)
	}
	if err := markFormat(dir, f); err != nil {
		return nil, err
	}
	fs, err := filesys.LocalFS.WithWorkingDir(dir)
	if err != nil {
		return nil, err
	}
	cfg := config.NewMapConfig(map[string]string{config.UserNameKey: "wasql", config.UserEmailKey: "wasql@localhost"})
	mrEnv, err := env.MultiEnvForDirectory(ctx, cfg, fs, Version, nil)
	if err != nil {
		return nil, fmt.Errorf("tables %s: %w", dir, err)
	}
	// Without Dolt's process-wide cache of open stores, Close lets go of the files and their
	// lock, so that another process (or this one, again) can open them.
	se, err := engine.NewSqlEngine(ctx, mrEnv, &engine.SqlEngineConfig{ServerUser: "root", Autocommit: true,
		EngineOverrides: overrides, DBLoadParams: map[string]any{dbfactory.DisableSingletonCacheParam: struct{}{}}})
	if err != nil {
		return nil, fmt.Errorf("tables %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			se.Close()
		}
	}()
	s := &Store{se: se, release: release}
	e := se.GetUnderlyingEngine()
	pro, ok := e.Analyzer.Catalog.DbProvider.(*dsqle.DoltDatabaseProvider)
	if !ok {
		return nil, fmt.Errorf("tables %s: Dolt's engine has a provider of type %T", dir, e.Analyzer.Catalog.DbProvider)
	}
	s.pro = pro
	ds, err := se.NewDoltSession(ctx, sql.NewBaseSession())
	if err != nil {
		return nil, err
	}
	s.session = sessionParts{cfg: mrEnv.Config(), branch: ds.GetController(), stats: ds.StatsProvider(),
		gc: ds.GCSafepointController(), tracker: ds.GetBranchActivityTracker()}
	c, err := se.NewLocalContext(ctx)
	if err != nil {
		return nil, err
	}
	if !pro.HasDatabase(c, database) {
		if err := pro.CreateDatabase(c, database); err != nil {
			return nil, fmt.Errorf("tables %s: creating database %s: %w", dir, database, err)
		}
	}
	return s, nil
}

// Engine is the go-mysql-server engine over the store. Its provider may be replaced by a
// Provider of the store.
func (s *Store) Engine() *gms.Engine { return s.se.GetUnderlyingEngine() }

// NewSession returns a Dolt session on base, in autocommit, as Dolt's engine makes them but for
// its write session (writeSession).
func (s *Store) NewSession(_ context.Context, base *sql.BaseSession) (sql.Session, error) {
	p := s.session
	ds, err := dsess.NewDoltSession(base, s.pro, p.cfg, p.branch, p.stats, writeSession, p.gc, p.tracker)
	if err != nil {
		return nil, err
	}
	if err := ds.SetSessionVariable(nil, sql.AutoCommitSessionVar, true); err != nil {
		return nil, err
	}
	return ds, nil
}

// writeSession is Dolt's write session with rowTracker for its auto-increment tracker.
func writeSession(ws *doltdb.WorkingSet, ait globalstate.AutoIncrementTracker, opts editor.Options) dsess.WriteSession {
	return writer.NewWriteSession(ws, rowTracker{ait}, opts)
}

// rowTracker answers at once the call Dolt's table writer makes for every row it inserts,
// Next(table, row): the row is not a value, so the tracker's answer is always an error (which
// the writer drops) and its sequence stays as it is, but the error carries a stack trace that
// cost half the time of an insert. Other calls go to the tracker.
type rowTracker struct {
	globalstate.AutoIncrementTracker
}

var errRowNotValue = errors.New("an auto-increment value is not a row")

// Next implements globalstate.AutoIncrementTracker.
func (t rowTracker) Next(ctx *sql.Context, table string, v any) (uint64, error) {
	if _, ok := v.(sql.Row); ok {
		return 0, errRowNotValue
	}
	return t.AutoIncrementTracker.Next(ctx, table, v)
}

// Close closes the engine and the store. The engine's background threads end with
// context.Canceled, which is not an error here.
func (s *Store) Close() error {
	defer s.release()
	if err := s.se.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Provider returns a database provider serving the store's databases and, beside them, extra
// (found by name and listed), functions (asked before Dolt's own), and hidden tables: a table of
// hidden[db] is found by name in database db unless db has a table of that name itself.
func (s *Store) Provider(extra []sql.Database, functions sql.FunctionProvider, hidden map[string][]sql.Table) *Provider {
	p := &Provider{DoltDatabaseProvider: s.pro, extra: map[string]sql.Database{}, functions: functions, hidden: map[string][]sql.Table{}}
	for _, db := range extra {
		p.extra[strings.ToLower(db.Name())] = db
	}
	for db, ts := range hidden {
		p.hidden[strings.ToLower(db)] = ts
	}
	return p
}

// Provider is Dolt's database provider with other databases, functions and hidden tables.
type Provider struct {
	*dsqle.DoltDatabaseProvider
	extra     map[string]sql.Database
	functions sql.FunctionProvider
	hidden    map[string][]sql.Table
}

// Database implements sql.DatabaseProvider.
func (p *Provider) Database(ctx *sql.Context, name string) (sql.Database, error) {
	if db, ok := p.extra[strings.ToLower(name)]; ok {
		return db, nil
	}
	db, err := p.DoltDatabaseProvider.Database(ctx, name)
	if err != nil {
		return nil, err
	}
	if ts := p.hidden[strings.ToLower(name)]; len(ts) > 0 {
		if d, ok := db.(dsqle.Database); ok {
			return hiddenTables{Database: d, tables: ts}, nil
		}
	}
	return db, nil
}

// HasDatabase implements sql.DatabaseProvider.
func (p *Provider) HasDatabase(ctx *sql.Context, name string) bool {
	if _, ok := p.extra[strings.ToLower(name)]; ok {
		return true
	}
	return p.DoltDatabaseProvider.HasDatabase(ctx, name)
}

// AllDatabases implements sql.DatabaseProvider: Dolt's, then the others by name.
func (p *Provider) AllDatabases(ctx *sql.Context) []sql.Database {
	all := p.DoltDatabaseProvider.AllDatabases(ctx)
	names := make([]string, 0, len(p.extra))
	for name := range p.extra {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		all = append(all, p.extra[name])
	}
	return all
}

// Function implements sql.FunctionProvider.
func (p *Provider) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	if p.functions != nil {
		if f, ok := p.functions.Function(ctx, name); ok {
			return f, true
		}
	}
	return p.DoltDatabaseProvider.Function(ctx, name)
}

// hiddenTables is a Dolt database that also finds tables it does not list. It embeds Dolt's
// database by value, so it keeps every interface of it (table creation, views, triggers, ...).
type hiddenTables struct {
	dsqle.Database
	tables []sql.Table
}

func (d hiddenTables) GetTableInsensitive(ctx *sql.Context, name string) (sql.Table, bool, error) {
	t, ok, err := d.Database.GetTableInsensitive(ctx, name)
	if ok || err != nil {
		return t, ok, err
	}
	for _, h := range d.tables {
		if strings.EqualFold(h.Name(), name) {
			return h, true, nil
		}
	}
	return nil, false, nil
}
