// Package embedded is wasql's embedded mode: a go-mysql-server engine with a database named wasql,
// wasm functions from a durable catalog in the data directory, the MySQL wire server, and the
// backend of the Postgres wire (PGBackend: a proxy.Executor per session, with Postgres's
// session settings, transaction status and error wording; pg.go, pgsettings.go, pgerrors.go).
//
// Table data lives in Dolt's storage engine (Config.Tables dolt, embedded/dolttables: durable,
// transactional; the binary's default) or go-mysql-server's memory database (memory: NOT
// durable, no transactions; functions are durable either way). Statements run under the
// engine's locks (stmtlock.go): each statement is parsed once and classified. With the memory
// database, which is not safe for concurrent writers, reads share the table lock, writes take
// it alone, statements that read no table take none; with Dolt's, only writes wait, one
// writing transaction at a time. Every wait ends when the statement's context does (cancel,
// KILL, deadline).
package embedded

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/embedded/dolttables"
	"github.com/wasql/wasql/embedded/pgcatalog"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// Database is the name of the database wasql serves.
const Database = "wasql"

// Config configures an Engine.
type Config struct {
	DataDir string            // catalog.db, the compiled-code cache and (with Dolt) tables/ live here
	Users   map[string]string // MySQL users and passwords; none means no authentication
	UDF     udf.Config        // runtime configuration; the cache dir is set from DataDir
	// MaxStatementBytes and MaxStatementDepth bound a statement's text before it is parsed (0:
	// DefaultMaxStatementBytes, DefaultMaxStatementDepth), on both wires.
	MaxStatementBytes int
	MaxStatementDepth int
	MySQL             MySQLLimits // connection limits of the MySQL wire (mysqlguard.go)
	// Quotas bound what each user's functions may hold (sqlfuncs.Quotas); nil, no bound.
	Quotas *sqlfuncs.Quotas
	// Tables is where table data lives: TablesDolt or TablesMemory (the default when empty, for
	// Go callers and tests; wasql serve defaults to TablesDolt).
	Tables string
}

// Where table data lives (Config.Tables).
const (
	// TablesMemory is go-mysql-server's memory database: not durable.
	TablesMemory = "memory"
	// TablesDolt is Dolt's storage engine in the data directory's tables/ (embedded/dolttables):
	// durable.
	TablesDolt = "dolt"
)

// Engine is a running embedded engine.
type Engine struct {
	SQL *sqle.Engine
	// Provider holds the wasql database (and any other made with CREATE DATABASE).
	Provider sql.DatabaseProvider
	Registry *sqlfuncs.Registry
	runtime  *udf.Runtime
	store    *boltstore.Store
	locks    *stmtLocks
	sessions *sessions
	authed   bool
	supers   map[string]bool // the configured users: they may cancel anyone's statements
	maxBytes int
	maxDepth int
	limits   MySQLLimits
	// newSession makes a session of the table storage; closeTables closes that storage.
	newSession  func(ctx context.Context, base *sql.BaseSession) (sql.Session, error)
	closeTables func() error
	durable     bool

	// Notice, when set, is for the operator at start: what Open found in the data directory.
	Notice string

	mu    sync.Mutex
	mysql *server.SessionManager // of the MySQL wire server, once serving
	guard *guardListener         // the MySQL wire's listener, once serving

	stats mysqlStatements // the MySQL wire's statements (stats.go)

	// TerminatePG, when set, closes the Postgres-wire connection with this backend pid: what
	// pg_terminate_backend does besides interrupting the session's statement. Set it before
	// serving.
	TerminatePG func(pid uint32)
}

// Open starts the engine on cfg.DataDir, creating it if needed.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	_, err := os.Stat(filepath.Join(cfg.DataDir, "catalog.db"))
	used := err == nil // the data directory was used before
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
	if err == nil {
		err = store.Release() // the start read every definition: those pages need not stay resident
	}
	if err != nil {
		rt.Close(ctx)
		store.Close()
		return nil, err
	}
	roles := slices.Sorted(maps.Keys(cfg.Users))
	en := &Engine{Registry: reg, runtime: rt, store: store, locks: newStmtLocks(),
		sessions: newSessions(), supers: map[string]bool{}, maxBytes: cfg.MaxStatementBytes, maxDepth: cfg.MaxStatementDepth,
		limits: cfg.MySQL}
	if en.maxBytes <= 0 {
		en.maxBytes = DefaultMaxStatementBytes
	}
	if en.maxDepth <= 0 {
		en.maxDepth = DefaultMaxStatementDepth
	}
	src := pgcatalog.Source{Database: Database, Functions: reg.Functions,
		Users: func() []string { return roles }, ServerVersion: PGVersion,
		Settings: func(ctx *sql.Context) map[string]string { return pgSettings(ctx) }}
	var e *sqle.Engine
	switch cfg.Tables {
	case "", TablesMemory:
		db := memory.NewDatabase(Database)
		pro := memory.NewDBProvider(db)
		src.Provider = pro
		cat := pgcatalog.New(src)
		pro.WithOption(memory.WithDbsOption(append([]sql.Database{db}, cat.Databases()...)))
		e = sqlfuncs.NewEngine(&sqlfuncs.MemoryProvider{DbProvider: pro, Functions: pgFunctions{catalog: cat, registry: reg, e: en},
			Stats: reg, StatsDatabase: Database}, reg)
		en.Provider = pro
		en.newSession = func(_ context.Context, base *sql.BaseSession) (sql.Session, error) {
			return memory.NewSession(base, pro), nil
		}
		en.closeTables = e.Close
		installNoWritesInTransaction(e)
	case TablesDolt:
		dir := filepath.Join(cfg.DataDir, "tables")
		if _, err := os.Stat(dir); used && os.IsNotExist(err) {
			en.Notice = "this data directory's functions are kept; it had no tables/ directory, so any table made before was in memory and was never persisted"
		}
		st, err := dolttables.Open(ctx, dir, Database, sqlfuncs.Overrides(reg))
		if err != nil {
			reg.Close()
			rt.Close(ctx)
			store.Close()
			return nil, err
		}
		e = st.Engine()
		src.Provider = e.Analyzer.Catalog.DbProvider
		cat := pgcatalog.New(src)
		en.Provider = st.Provider(cat.Databases(), pgFunctions{catalog: cat, registry: reg, e: en},
			map[string][]sql.Table{Database: {sqlfuncs.NewStatsTable(reg, Database)}})
		e.Analyzer.Catalog.DbProvider = en.Provider
		sqlfuncs.Extend(e, reg)
		en.newSession, en.closeTables, en.durable = st.NewSession, st.Close, true // st.Close closes e
		en.locks.mvcc = true
		installTransactionalDDL(e)
	default:
		reg.Close()
		rt.Close(ctx)
		store.Close()
		return nil, fmt.Errorf("tables: %q is neither %q nor %q", cfg.Tables, TablesMemory, TablesDolt)
	}
	installPGRules(e.Analyzer)
	installPGDateRule(e.Analyzer)
	if err := installHostFileGuard(e.Analyzer); err != nil {
		reg.Close()
		en.closeTables()
		rt.Close(ctx)
		store.Close()
		return nil, err
	}
	// LOAD DATA LOCAL INFILE reads the file the client sends (hostfiles.go refuses the server's).
	sql.SystemVariables.AssignValues(map[string]any{"local_infile": int8(1)})
	reg.SetRetire(en.locks.retire) // CREATE OR REPLACE runs beside the queries using the old version
	reg.SetQuotas(cfg.Quotas)
	en.SQL = e
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
			en.supers[user] = true
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
	e.locks.mu.Lock()
	retirees := e.locks.retirees
	e.locks.retirees = nil
	e.locks.mu.Unlock()
	for _, r := range retirees {
		r.fn()
	}
	e.Registry.Close()
	return errors.Join(e.closeTables(), e.runtime.Close(ctx), e.store.Close())
}

// Durable reports whether table data survives a restart (TablesDolt).
func (e *Engine) Durable() bool { return e.durable }

// NewContext returns a query context on the wasql database, for Go callers.
func (e *Engine) NewContext(ctx context.Context) *sql.Context {
	sess, err := e.newSession(ctx, sql.NewBaseSession())
	if err != nil { // neither storage fails to make a session once open
		panic(fmt.Sprintf("embedded: a session of the table storage: %v", err))
	}
	c := sql.NewContext(ctx, sql.WithSession(sess))
	c.SetCurrentDatabase(Database)
	return c
}

// Query runs one statement and returns all its rows, under the engine's locks. Values are
// plain Go values (a text column's are strings, on either storage).
func (e *Engine) Query(ctx *sql.Context, q string) (sql.Schema, []sql.Row, error) {
	if err := checkText(q, mysqlDialect, e.maxBytes, e.maxDepth); err != nil {
		return nil, nil, err
	}
	c, parsed, err := e.classify(ctx, q, ast.ParserOptions{}, false)
	if err != nil {
		return nil, nil, err
	}
	endCommand, err := command(ctx.Session)
	if err != nil {
		return nil, nil, err
	}
	defer endCommand()
	unlock, err := e.locks.acquire(ctx, c, ctx.Session)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	var sch sql.Schema
	var iter sql.RowIter
	if parsed != nil {
		sch, iter, _, err = e.SQL.QueryWithBindings(ctx, q, parsed, nil, nil)
	} else {
		sch, iter, _, err = e.SQL.Query(ctx, q)
	}
	if err != nil {
		return nil, nil, statementError(ctx, err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	for _, r := range rows {
		for i, v := range r {
			if w, ok := v.(sql.AnyWrapper); ok && err == nil { // Dolt's text and blob values
				r[i], err = w.UnwrapAny(ctx)
			}
		}
	}
	return sch, rows, statementError(ctx, err)
}

// classify parses q with the engine's parser (the wasm DDL included) and returns the locks it
// needs: the strongest its statements need, or only its first one's with firstOnly (the MySQL
// wire runs a multi-statement string one statement at a time). parsed is q's tree when q is one
// statement, for the engine to run without parsing again. A statement the parser refuses needs
// lockDDL: the engine parses it again and reports the error. A tree nested deeper than the
// limit is refused.
func (e *Engine) classify(ctx context.Context, q string, opts ast.ParserOptions, firstOnly bool) (c class, parsed ast.Statement, err error) {
	rest := q
	for n := 0; ; n++ {
		rest = strings.TrimLeft(rest, " \t\r\n;")
		if rest == "" {
			break
		}
		st, end, err := e.SQL.Parser.ParseOneWithOptions(ctx, rest, opts)
		if err != nil {
			return lockDDL, nil, nil
		}
		if err := treeDepth(st, e.maxDepth); err != nil {
			return lockDDL, nil, err
		}
		c = max(c, classOf(st))
		if n == 0 {
			parsed = st
		}
		if end <= 0 || end >= len(rest) || firstOnly {
			if !firstOnly && strings.TrimLeft(rest[min(max(end, 0), len(rest)):], " \t\r\n;") != "" {
				parsed = nil // more statements follow
			}
			if end <= 0 && !firstOnly {
				return lockDDL, nil, nil // cannot tell where the first one ends: assume the worst
			}
			break
		}
		parsed = nil
		rest = rest[end:]
	}
	return c, parsed, nil
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
	guard := newGuardListener(l, e.limits)
	cfg := server.Config{Protocol: "tcp", Listener: guard, Version: "8.0.31-wasql",
		ProtocolListenerFactory: guardedListener}
	inWasql := func(ctx context.Context, c *mysql.Conn, addr string) (sql.Session, error) {
		var client sql.Client
		if u, ok := c.UserData.(sql.MysqlConnectionUser); ok {
			client = sql.Client{Address: u.Host, User: u.User, Capabilities: c.Capabilities}
		}
		s, err := e.newSession(ctx, sql.NewBaseSessionWithClientServer(addr, client, c.ConnectionID))
		if err != nil {
			return nil, err
		}
		if s.GetCurrentDatabase() == "" {
			s.SetCurrentDatabase(Database) // a client that names no database starts in wasql
		}
		e.sessions.open(c.ConnectionID, c.User, false, s)
		return s, nil
	}
	s, err := server.NewServerWithHandler(cfg, e.SQL, sql.NewContext, inWasql, nil,
		func(h mysql.Handler) (mysql.Handler, error) {
			return &lockedHandler{Handler: h, e: e, rest: map[uint32]string{}}, nil
		})
	if err != nil {
		l.Close()
		return nil, err
	}
	e.mu.Lock()
	e.mysql = s.SessionManager()
	e.guard = guard
	e.mu.Unlock()
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

// lockedHandler runs each statement of the MySQL wire under the engine's locks, with the
// statement limits: a statement is checked (size, depth), parsed once and classified; its
// context is canceled by KILL and ends at max_execution_time; a wait for a lock ends with it.
type lockedHandler struct {
	mysql.Handler
	e *Engine

	mu   sync.Mutex
	rest map[uint32]string // per connection, the rest of a multi-statement query still to run
}

// ComQuery implements the interface mysql.Handler.
func (h *lockedHandler) ComQuery(ctx context.Context, c *mysql.Conn, q string, cb mysql.ResultSpoolFn) (err error) {
	return h.run(ctx, c, q, false, func(ctx context.Context, parsed ast.Statement) error {
		h.clearWarnings(c, q)
		if ph, ok := h.Handler.(parsedHandler); ok && parsed != nil {
			return ph.ComParsedQuery(ctx, c, q, parsed, cb)
		}
		return h.Handler.ComQuery(ctx, c, q, cb)
	})
}

// parsedHandler runs a statement already parsed (go-mysql-server's handler does).
type parsedHandler interface {
	ComParsedQuery(ctx context.Context, c *mysql.Conn, query string, parsed ast.Statement, cb mysql.ResultSpoolFn) error
}

// ComMultiQuery implements the interface mysql.Handler: it runs the first statement of q and
// returns the rest, which the connection passes back: each statement takes its own locks.
//
// LOAD DATA LOCAL INFILE is refused after the first statement of such a query: the connection
// guard follows the server's packets to let the client's file through only where a statement's
// answer begins, which it knows only for the first (mysqlguard.go).
func (h *lockedHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, q string, cb mysql.ResultSpoolFn) (rest string, err error) {
	h.mu.Lock()
	later := h.rest[c.ConnectionID] == q && q != ""
	delete(h.rest, c.ConnectionID)
	h.mu.Unlock()
	if later {
		if st, _, err := h.e.SQL.Parser.ParseOneWithOptions(ctx, q, ast.ParserOptions{}); err == nil {
			if l, ok := st.(*ast.Load); ok && bool(l.Local) {
				return "", mysql.NewSQLError(mysql.ERNotSupportedYet, "0A000",
					"LOAD DATA LOCAL INFILE after another statement of the same query is not supported: send it as a query of its own")
			}
		}
	}
	defer func() {
		if rest != "" {
			h.mu.Lock()
			h.rest[c.ConnectionID] = rest
			h.mu.Unlock()
		}
	}()
	err = h.run(ctx, c, q, true, func(ctx context.Context, _ ast.Statement) error {
		h.clearWarnings(c, q)
		var err error
		rest, err = h.Handler.ComMultiQuery(ctx, c, q, cb)
		return err
	})
	return rest, err
}

// ComPrepare implements the interface mysql.Handler. Preparing analyzes without running: it
// reads at most.
func (h *lockedHandler) ComPrepare(ctx context.Context, c *mysql.Conn, q string, p *mysql.PrepareData) (fields []*querypb.Field, err error) {
	err = h.runAs(ctx, c, q, false, lockRead, func(ctx context.Context, _ ast.Statement) error {
		var err error
		fields, err = h.Handler.ComPrepare(ctx, c, q, p)
		return err
	})
	return fields, err
}

// ComStmtExecute implements the interface mysql.Handler.
func (h *lockedHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, p *mysql.PrepareData, cb func(*sqltypes.Result) error) error {
	return h.run(ctx, c, p.PrepareStmt, false, func(ctx context.Context, _ ast.Statement) error {
		return h.Handler.ComStmtExecute(ctx, c, p, cb)
	})
}

// ConnectionClosed implements the interface mysql.Handler.
func (h *lockedHandler) ConnectionClosed(c *mysql.Conn) {
	h.mu.Lock()
	delete(h.rest, c.ConnectionID)
	h.mu.Unlock()
	if s := h.e.sessions.get(c.ConnectionID); s != nil && s.sess != nil {
		defer h.e.locks.endTransaction(s.sess) // its open transaction ends unwritten
	}
	h.e.sessions.close(c.ConnectionID)
	h.Handler.ConnectionClosed(c)
}

func (h *lockedHandler) run(ctx context.Context, c *mysql.Conn, q string, multi bool, do func(context.Context, ast.Statement) error) error {
	err := h.runAs(ctx, c, q, multi, lockDDL+1, do)
	h.e.stats.count(err)
	return err
}

// runAs runs do for statement q with the locks it needs, at most atMost.
func (h *lockedHandler) runAs(ctx context.Context, c *mysql.Conn, q string, multi bool, atMost class, do func(context.Context, ast.Statement) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = mysqlError(engineFault(p))
		}
	}()
	if err := checkText(q, mysqlDialect, h.e.maxBytes, h.e.maxDepth); err != nil {
		return mysqlError(err)
	}
	var opts ast.ParserOptions
	if po, ok := h.Handler.(interface {
		ParserOptionsForConnection(*mysql.Conn) (ast.ParserOptions, error)
	}); ok {
		if o, err := po.ParserOptionsForConnection(c); err == nil {
			opts = o
		}
	}
	cls, parsed, err := h.e.classify(ctx, q, opts, multi)
	if err != nil {
		return mysqlError(err)
	}
	cls = min(cls, atMost)
	first := parsed
	if multi {
		parsed = nil // the handler parses it again, to return the rest
	}
	s := h.e.sessions.get(c.ConnectionID)
	if s == nil {
		s = h.e.sessions.open(c.ConnectionID, c.User, false, nil)
	}
	if k, ok := first.(*ast.Kill); ok {
		h.e.kill(c.User, k)
	}
	sctx, end, err := s.begin(ctx)
	if err != nil {
		return mysqlError(err)
	}
	defer end()
	if cls != lockNone {
		defer watchClient(c.Conn, s.running())()
	}
	if d := h.e.executionTime(s, first); d > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(sctx, d)
		defer cancel()
	}
	unlock, err := h.e.locks.acquire(sctx, cls, s.sess)
	if err != nil {
		return mysqlError(err)
	}
	defer unlock()
	if err := do(sctx, parsed); err != nil {
		return mysqlError(statementError(sctx, err))
	}
	return nil
}

// executionTime is the time limit of a MySQL statement: the MAX_EXECUTION_TIME(n) hint of a
// SELECT, else the session's max_execution_time (ms, 0: none), which MySQL applies to read-only
// SELECT statements only.
func (e *Engine) executionTime(s *session, st ast.Statement) time.Duration {
	sel, ok := st.(ast.SelectStatement)
	if !ok || classOf(st) >= lockWrite {
		return 0
	}
	if x, ok := sel.(*ast.Select); ok {
		for _, c := range x.Comments {
			if m := executionHint.FindSubmatch(c); m != nil {
				if ms, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil && ms > 0 {
					return time.Duration(ms) * time.Millisecond
				}
			}
		}
	}
	if s.sess == nil {
		return 0
	}
	v, err := s.sess.GetSessionVariable(nil, "max_execution_time")
	if err != nil {
		return 0
	}
	var ms int64
	switch x := v.(type) {
	case int64:
		ms = x
	case uint64:
		ms = int64(x)
	case int:
		ms = int64(x)
	case int32:
		ms = int64(x)
	}
	if ms <= 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

var executionHint = regexp.MustCompile(`(?i)^/\*\+.*\bMAX_EXECUTION_TIME\s*\(\s*(\d+)\s*\)`)

// kill interrupts the statement of the session KILL names, whatever it is doing (waiting for a
// lock included), before go-mysql-server's own KILL runs (which cancels a statement only once it
// runs, and closes the connection for KILL CONNECTION).
func (e *Engine) kill(user string, k *ast.Kill) {
	v, ok := k.ConnID.(*ast.SQLVal)
	if !ok || v.Type != ast.IntVal {
		return
	}
	id, err := strconv.ParseUint(string(v.Val), 10, 32)
	if err != nil {
		return
	}
	target := e.sessions.get(uint32(id))
	if target == nil || !e.mayCancel(user, target) {
		return
	}
	target.interrupt(&Interrupted{Terminated: k.Connection}, k.Connection)
}

// mayCancel reports whether user may interrupt target's statements: its own, or any when the
// engine has no users (all are trusted) or user is a configured (super) user.
func (e *Engine) mayCancel(user string, target *session) bool {
	return !e.authed || target.user == user || e.supers[user]
}

// mysqlError gives an error the MySQL wire's number and SQLSTATE: an interruption is 1317
// (KILL) or 3024 (max_execution_time), as in MySQL; a statement over the limits 1064 or 1153.
func mysqlError(err error) error {
	var in *Interrupted
	var le *LimitError
	var ef *EngineFault
	switch {
	case errors.As(err, &in) && in.Timeout:
		return mysql.NewSQLError(3024, "HY000", "Query execution was interrupted, maximum statement execution time exceeded")
	case errors.As(err, &in):
		return mysql.NewSQLError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted")
	case errors.As(err, &le) && le.Depth:
		return mysql.NewSQLError(mysql.ERParseError, "42000", "%s", le.Msg)
	case errors.As(err, &le):
		return mysql.NewSQLError(mysql.ERNetPacketTooLarge, "HY000", "%s", le.Msg)
	case errors.As(err, &ef):
		return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%s", ef.Error())
	}
	return err
}
