// Package engine is wasql's embedded mode: a go-mysql-server engine with a database named wasql,
// wasm functions from a durable catalog in the data directory, and the MySQL wire server.
//
// Table data lives in go-mysql-server's memory database: it is NOT durable (functions are). That
// database is not safe for concurrent writers, so every statement runs under a lock: reads
// share it, anything else takes it alone.
package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"

	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/pgcatalog"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// Database is the name of the database wasql serves.
const Database = "wasql"

// Config configures an Engine.
type Config struct {
	DataDir string            // catalog.db and the compiled-code cache live here
	Users   map[string]string // MySQL users and passwords; none means no authentication
	UDF     udf.Config        // runtime configuration; the cache dir is set from DataDir
}

// Engine is a running embedded engine.
type Engine struct {
	SQL      *sqle.Engine
	Provider *memory.DbProvider
	Registry *sqlfuncs.Registry
	runtime  *udf.Runtime
	store    *boltstore.Store
	lock     sync.RWMutex
	authed   bool
}

// Open starts the engine on cfg.DataDir, creating it if needed.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	store, err := boltstore.Open(filepath.Join(cfg.DataDir, "catalog.db"))
	if err != nil {
		return nil, err
	}
	rt, err := udf.NewRuntime(ctx, cfg.UDF.WithCacheDir(filepath.Join(cfg.DataDir, "compiled")))
	if err != nil {
		store.Close()
		return nil, err
	}
	reg, err := sqlfuncs.NewRegistry(ctx, rt, store)
	if err != nil {
		rt.Close(ctx)
		store.Close()
		return nil, err
	}
	db := memory.NewDatabase(Database)
	db.BaseDatabase.EnablePrimaryKeyIndexes()
	pro := memory.NewDBProvider(db)
	roles := slices.Sorted(maps.Keys(cfg.Users))
	cat := pgcatalog.New(pgcatalog.Source{Provider: pro, Database: Database, Functions: reg.Functions,
		Users: func() []string { return roles }, ServerVersion: PGVersion,
		Settings: func(ctx *sql.Context) map[string]string { return proxy.Settings(ctx) }})
	pro.WithOption(memory.WithDbsOption(append([]sql.Database{db}, cat.Databases()...)))
	e := sqle.NewDefault(pro)
	sqlfuncs.Install(e, reg)
	installNoWritesInTransaction(e)
	analyzer.ExternalFunctionProvider = pgFunctions{catalog: cat, registry: reg}
	en := &Engine{SQL: e, Provider: pro, Registry: reg, runtime: rt, store: store}
	// Users and grants made with SQL (CREATE USER, GRANT) persist in the data directory.
	mdb := e.Analyzer.Catalog.MySQLDb
	users := usersFile(filepath.Join(cfg.DataDir, "users.db"))
	if data, err := os.ReadFile(string(users)); err == nil {
		if err := mdb.LoadData(en.NewContext(ctx), data); err != nil {
			en.Close(ctx)
			return nil, fmt.Errorf("users %s: %w", users, err)
		}
	} else if !os.IsNotExist(err) {
		en.Close(ctx)
		return nil, err
	}
	mdb.SetPersister(users)
	if len(cfg.Users) > 0 {
		ed := mdb.Editor()
		for user, pass := range cfg.Users {
			mdb.AddSuperUser(ed, user, "%", pass)
		}
		ed.Close()
		en.authed = true
	}
	return en, nil
}

// usersFile keeps go-mysql-server's users and grants: written to a temporary file, synced, then
// renamed over the old one, so a crash leaves the old or the new version, never half of one.
type usersFile string

// Persist implements the interface mysql_db.MySQLDbPersistence.
func (f usersFile) Persist(_ *sql.Context, data []byte) error {
	tmp := string(f) + ".tmp"
	w, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	if err := w.Sync(); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, string(f))
}

// Close stops the engine.
func (e *Engine) Close(ctx context.Context) error {
	e.Registry.Close()
	return errors.Join(e.SQL.Close(), e.runtime.Close(ctx), e.store.Close())
}

// NewContext returns a query context on the wasql database, for Go callers.
func (e *Engine) NewContext(ctx context.Context) *sql.Context {
	sess := memory.NewSession(sql.NewBaseSession(), e.Provider)
	c := sql.NewContext(ctx, sql.WithSession(sess))
	c.SetCurrentDatabase(Database)
	return c
}

// Query runs one statement and returns all its rows, under the engine's lock.
func (e *Engine) Query(ctx *sql.Context, q string) (sql.Schema, []sql.Row, error) {
	unlock := e.acquire(q)
	defer unlock()
	sch, iter, _, err := e.SQL.Query(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	return sch, rows, err
}

// acquire takes the statement lock: shared for statements that only read.
func (e *Engine) acquire(q string) func() {
	if readOnly(q) {
		e.lock.RLock()
		return e.lock.RUnlock
	}
	e.lock.Lock()
	return e.lock.Unlock
}

func readOnly(q string) bool {
	f := strings.Fields(strings.ToLower(q))
	if len(f) == 0 {
		return true
	}
	switch f[0] {
	case "select", "show", "explain", "describe", "desc", "with":
		return !strings.Contains(strings.ToLower(q), " into ") && !strings.Contains(q, ";")
	}
	return false
}

// ServeMySQL listens on addr with the MySQL wire protocol. Without users it refuses any address
// that is not loopback.
func (e *Engine) ServeMySQL(addr string) (*server.Server, error) {
	if !e.authed && !IsLoopback(addr) {
		return nil, fmt.Errorf("refusing to listen on %s without users: configure users (users: in wasql.yaml) or listen on 127.0.0.1", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := server.Config{Protocol: "tcp", Listener: l, Version: "8.0.31-wasql"}
	sessions := memory.NewSessionBuilder(e.Provider)
	inWasql := func(ctx context.Context, c *mysql.Conn, addr string) (sql.Session, error) {
		s, err := sessions(ctx, c, addr)
		if err == nil && s.GetCurrentDatabase() == "" {
			s.SetCurrentDatabase(Database) // a client that names no database starts in wasql
		}
		return s, err
	}
	s, err := server.NewServerWithHandler(cfg, e.SQL, sql.NewContext, inWasql, nil,
		func(h mysql.Handler) (mysql.Handler, error) { return &lockedHandler{Handler: h, e: e}, nil })
	if err != nil {
		l.Close()
		return nil, err
	}
	return s, nil
}

// IsLoopback reports whether addr (host:port) names a loopback host.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lockedHandler runs each statement of the MySQL wire under the engine's lock.
type lockedHandler struct {
	mysql.Handler
	e *Engine
}

func (h *lockedHandler) ComQuery(ctx context.Context, c *mysql.Conn, q string, cb mysql.ResultSpoolFn) error {
	unlock := h.e.acquire(q)
	defer unlock()
	return h.Handler.ComQuery(ctx, c, q, cb)
}

func (h *lockedHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, q string, cb mysql.ResultSpoolFn) (string, error) {
	unlock := h.e.acquire(q)
	defer unlock()
	return h.Handler.ComMultiQuery(ctx, c, q, cb)
}

func (h *lockedHandler) ComPrepare(ctx context.Context, c *mysql.Conn, q string, p *mysql.PrepareData) ([]*querypb.Field, error) {
	unlock := h.e.acquire(q)
	defer unlock()
	return h.Handler.ComPrepare(ctx, c, q, p)
}

func (h *lockedHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, p *mysql.PrepareData, cb func(*sqltypes.Result) error) error {
	unlock := h.e.acquire(p.PrepareStmt)
	defer unlock()
	return h.Handler.ComStmtExecute(ctx, c, p, cb)
}
