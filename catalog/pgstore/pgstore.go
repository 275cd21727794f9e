package pgstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wasql/wasql/catalog"
)

// Schema is the PostgreSQL schema the store keeps its tables and stubs in.
const Schema = "wasql"

// Channel is the LISTEN/NOTIFY channel every write notifies, with the new catalog version as
// payload.
const Channel = "wasql_catalog"

// Defaults of the options.
const (
	DefaultReconcileInterval = 30 * time.Second
	DefaultChangeLogLength   = 1000
	DefaultOpenTimeout       = 30 * time.Second
)

// writeSettings bound every write transaction's waits, so that no writer waits without end for
// another (every write takes the catalog version's row lock): a lock not granted within 10 s
// fails the write with SQLSTATE 55P03, and a write transaction left idle for 30 s (its proxy
// partitioned away mid-write) is ended by the server, which releases its locks.
const writeSettings = "SET LOCAL lock_timeout = '10s'; SET LOCAL idle_in_transaction_session_timeout = '30s'"

// deliveryWait bounds how long a write waits, after it commits, for its change to reach this
// store's subscribers (see Create).
const deliveryWait = 5 * time.Second

// Errors of opening a store. Errors of operations on an open store are the catalog sentinels, or
// PostgreSQL's own (they carry their SQLSTATE).
var (
	// ErrSchemaVersion means the wasql schema of the database is in a version this build cannot
	// use: newer than it knows (written by a newer wasql), or not a version at all.
	ErrSchemaVersion = errors.New("wasql schema in an unknown version")
)

// Option configures Open.
type Option func(*options)

type options struct {
	reconcile time.Duration
	changeLog int
	open      time.Duration
	logger    *slog.Logger
}

// WithReconcileInterval sets how often the store reconciles with the database when no
// notification arrives (default DefaultReconcileInterval). It bounds how late a change whose
// notification was lost reaches subscribers.
func WithReconcileInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.reconcile = d
		}
	}
}

// WithChangeLogLength sets how many changes this store's writes keep in wasql.changes (default
// DefaultChangeLogLength). A store that falls further behind than the log reaches catches up by
// comparing function lists instead of replaying each change.
func WithChangeLogLength(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.changeLog = n
		}
	}
}

// WithOpenTimeout bounds Open: connecting, migrating and loading the catalog (default
// DefaultOpenTimeout).
func WithOpenTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.open = d
		}
	}
}

// WithLogger sets where the store reports what happens in the background: the listening
// connection lost and regained, reconciliation failures, a subscriber that panicked (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Store is a catalog.Store in a PostgreSQL database. It is safe for concurrent use, and any
// number of Stores, in any number of processes, may use one database at once.
type Store struct {
	pool  *pgxpool.Pool
	cfg   *pgxpool.Config
	opts  options
	log   *slog.Logger
	ident int // max_identifier_length of the server

	ctx    context.Context // canceled by Close
	stop   context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // wakes the deliverer
	resets chan struct{} // wakes the statistics reporter: a reset may have come (stats.go)
	closed chan struct{} // closed by Close

	// Delivery state, owned by the deliverer goroutine once Open returns.
	last     int64                       // catalog version delivered through
	snapshot map[string]catalog.Function // what subscribers have been told, by encodeKey

	dmu       sync.Mutex
	delivered int64         // = last, for other goroutines
	advanced  chan struct{} // closed and replaced when delivered advances

	subs catalog.Subscribers

	listenerPID atomic.Uint32 // backend PID of the listening connection, 0 when down
	skipNotify  bool          // tests: write without NOTIFY, as if the notification were lost

	closeOnce sync.Once
}

var _ catalog.Store = (*Store)(nil)

// Open connects to the database at url (a PostgreSQL URL or keyword/value string, as pgx
// parses it), creates or migrates the wasql schema, loads the catalog version and starts
// listening for changes. The role needs CREATE on the database the first time (to create the
// schema), and afterwards the privileges of the schema's owner. Open fails with ErrSchemaVersion
// if the schema was written by a newer wasql.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{reconcile: DefaultReconcileInterval, changeLog: DefaultChangeLogLength, open: DefaultOpenTimeout, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(ctx, o.open)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	target := cfg.ConnConfig.Host + "/" + cfg.ConnConfig.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open catalog in %s: %w", target, err)
	}
	s := &Store{
		pool: pool, cfg: cfg, opts: o, log: o.logger.With("component", "catalog", "database", target),
		kick: make(chan struct{}, 1), resets: make(chan struct{}, 1), closed: make(chan struct{}), advanced: make(chan struct{}),
	}
	if err := s.start(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open catalog in %s: %w", target, err)
	}
	return s, nil
}

func (s *Store) start(ctx context.Context) error {
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('max_identifier_length')::int").Scan(&s.ident); err != nil {
		return err
	}
	if err := migrate(ctx, s.pool); err != nil {
		return err
	}
	// The starting point of delivery: subscribers hear of changes after Open, not of the
	// functions already there.
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		v, err := catalogVersion(ctx, tx)
		if err != nil {
			return err
		}
		fns, err := list(ctx, tx)
		if err != nil {
			return err
		}
		s.last, s.delivered, s.snapshot = v, v, map[string]catalog.Function{}
		for _, fn := range fns {
			s.snapshot[encodeKey(fn.Key())] = fn
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.listen()
	go s.deliver()
	return nil
}

// Create implements catalog.Store. It is one transaction: the catalog version is incremented
// first (which serializes writers, in this and every other process), then the function row, its
// module, the stub, the change log entry and the NOTIFY. After the commit it waits, at most
// while ctx allows and a few seconds, for this store's subscribers to have been told, so that a
// subscriber has normally seen the change when Create returns (as with boltstore).
func (s *Store) Create(ctx context.Context, fn catalog.Function, module []byte, orReplace bool) (catalog.Function, error) {
	if err := fn.Validate(); err != nil {
		return catalog.Function{}, fmt.Errorf("create: %w", err)
	}
	key := fn.Key()
	if err := checkText(&fn); err != nil {
		return catalog.Function{}, fmt.Errorf("create %s: %w", key, err)
	}
	if len(module) == 0 {
		return catalog.Function{}, fmt.Errorf("create %s: empty module", key)
	}
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("create %s: %w", key, err)
	}
	fn = fn.Clone()
	sum := sha256.Sum256(module) // the modules table keys bytes by their digest, as bytea
	fn.ModuleHash = hex.EncodeToString(sum[:])
	fn.ModuleSize = int64(len(module))
	in := fn
	var version int64
	err := s.write(ctx, func(tx pgx.Tx, v int64, now time.Time) (catalog.Change, error) {
		version, fn = v, in.Clone() // a retried transaction starts over from the caller's fn
		old, err := get(ctx, tx, key, true)
		exists := err == nil
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return catalog.Change{}, err
		}
		if exists && !orReplace {
			return catalog.Change{}, catalog.Errorf(catalog.ErrExists, "function %s already exists with same argument types", key)
		}
		kind := catalog.Created
		if exists {
			kind = catalog.Replaced
			fn.Version, fn.Created, fn.Replaced, fn.Owner = old.Version+1, old.Created, now, old.Owner
		} else {
			fn.Version, fn.Created, fn.Replaced = 1, now, time.Time{}
		}
		// Rewriting differing bytes under the same hash repairs a corrupted copy.
		if _, err := tx.Exec(ctx, `INSERT INTO wasql.modules (hash, bytes) VALUES ($1, $2)
			ON CONFLICT (hash) DO UPDATE SET bytes = EXCLUDED.bytes WHERE modules.bytes IS DISTINCT FROM EXCLUDED.bytes`,
			sum[:], module); err != nil {
			return catalog.Change{}, fmt.Errorf("store module: %w", err)
		}
		if err := put(ctx, tx, &fn, v, exists); err != nil {
			return catalog.Change{}, err
		}
		if exists && old.ModuleHash != fn.ModuleHash {
			if err := collectModule(ctx, tx, old.ModuleHash); err != nil {
				return catalog.Change{}, err
			}
		}
		var prev *catalog.Function
		if exists {
			prev = &old
		}
		if err := s.putStub(ctx, tx, prev, &fn); err != nil {
			return catalog.Change{}, err
		}
		return catalog.Change{Kind: kind, Function: fn}, nil
	})
	if err != nil {
		return catalog.Function{}, fmt.Errorf("create %s: %w", key, err)
	}
	s.waitDelivered(ctx, version)
	return fn.Clone(), nil
}

// Drop implements catalog.Store: one transaction, as Create, and the same wait for delivery.
func (s *Store) Drop(ctx context.Context, k catalog.Key) (catalog.Function, error) {
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("drop %s: %w", k, err)
	}
	var fn catalog.Function
	var version int64
	err := s.write(ctx, func(tx pgx.Tx, v int64, _ time.Time) (catalog.Change, error) {
		version = v
		var err error
		if fn, err = get(ctx, tx, k, true); err != nil {
			return catalog.Change{}, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM wasql.function_defs WHERE schema_name = $1 AND name = $2 AND arg_types = $3`,
			k.Schema, k.Name, argTypes(k.ArgTypes)); err != nil {
			return catalog.Change{}, fmt.Errorf("delete function: %w", err)
		}
		// The proxies' counters of it (wasql.functions no longer shows them either way).
		if _, err := tx.Exec(ctx, `DELETE FROM wasql.function_stats WHERE schema_name = $1 AND name = $2 AND arg_types = $3`,
			k.Schema, k.Name, argTypes(k.ArgTypes)); err != nil {
			return catalog.Change{}, fmt.Errorf("delete function statistics: %w", err)
		}
		if err := collectModule(ctx, tx, fn.ModuleHash); err != nil {
			return catalog.Change{}, err
		}
		if err := s.dropStub(ctx, tx, &fn); err != nil {
			return catalog.Change{}, err
		}
		return catalog.Change{Kind: catalog.Dropped, Function: fn}, nil
	})
	if err != nil {
		return catalog.Function{}, fmt.Errorf("drop %s: %w", k, err)
	}
	s.waitDelivered(ctx, version)
	return fn.Clone(), nil
}

// write runs one write transaction: it increments the catalog version (locking its row until
// the commit, so writers everywhere take turns and versions are assigned in commit order) and
// checks that the schema is still in the version this build writes (a newer wasql may have
// migrated it since Open: the write is then ErrSchemaVersion), runs body with the new version
// and the database's clock read once the lock is held (so Created and Replaced come from one
// clock for all proxies, and a later write never gets an earlier time), records the change body returns in the change log, prunes the log,
// notifies Channel and commits. An error of body rolls everything back.
//
// A transaction that fails because its connection was lost (a failover, a restarted server) is
// tried once more on a fresh connection, unless the loss came at the commit, whose outcome is then
// unknown: that error is returned (the change, if it committed, still reaches subscribers).
func (s *Store) write(ctx context.Context, body func(tx pgx.Tx, version int64, now time.Time) (catalog.Change, error)) error {
	for attempt := 0; ; attempt++ {
		committing, err := s.writeOnce(ctx, body)
		if err == nil || committing || attempt > 0 || !s.lost(ctx, err) {
			return err
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, body func(tx pgx.Tx, version int64, now time.Time) (catalog.Change, error)) (committing bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, writeSettings); err != nil {
		return false, err
	}
	var (
		v      int64
		layout int
		now    time.Time
	)
	err = tx.QueryRow(ctx, `UPDATE wasql.catalog_version SET version = version + 1
		RETURNING version, (SELECT version FROM wasql.schema_version), clock_timestamp()`).Scan(&v, &layout, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, catalog.Errorf(catalog.ErrCorrupt, "%s.catalog_version has no row", Schema)
	}
	if err != nil {
		return false, fmt.Errorf("increment catalog version: %w", err)
	}
	if layout != SchemaVersion { // a newer wasql migrated the schema since Open
		return false, fmt.Errorf("%w: %s.schema_version is now %d, this build writes version %d: run a newer wasql", ErrSchemaVersion, Schema, layout, SchemaVersion)
	}
	c, err := body(tx, v, now.UTC())
	if err != nil {
		return false, err
	}
	rec, err := json.Marshal(catalog.Record(c.Function))
	if err != nil {
		return false, fmt.Errorf("encode change: %w", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO wasql.changes (version, kind, function) VALUES ($1, $2, $3)", v, kindName[c.Kind], rec); err != nil {
		return false, fmt.Errorf("log change: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM wasql.changes WHERE version <= $1", v-int64(s.opts.changeLog)); err != nil {
		return false, fmt.Errorf("prune change log: %w", err)
	}
	if !s.skipNotify {
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, strconv.FormatInt(v, 10)); err != nil {
			return false, fmt.Errorf("notify: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return true, fmt.Errorf("commit: %w", err)
	}
	s.wake()
	return false, nil
}

// lost reports whether err means the connection was lost, and if so resets the pool: a lost
// connection usually means all of them are (a failover, a restarted server), and the pool would
// otherwise hand out the other dead ones first.
func (s *Store) lost(ctx context.Context, err error) bool {
	if ctx.Err() != nil || !connectionLost(err) {
		return false
	}
	s.pool.Reset()
	return true
}

// connectionLost reports whether err is the loss of a connection rather than an answer: a
// network error, a closed connection, or a FATAL error or one of class 08 (connection
// exception) or 57P (the server shutting down or terminating the session).
func connectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Severity == "FATAL" || pe.Severity == "PANIC" || strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ne net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "conn closed")
}

// read runs a read, once more on a fresh connection if the connection was lost.
func read[T any](ctx context.Context, s *Store, f func() (T, error)) (T, error) {
	v, err := f()
	if err != nil && s.lost(ctx, err) {
		v, err = f()
	}
	return v, err
}

// Get implements catalog.Store.
func (s *Store) Get(ctx context.Context, k catalog.Key) (catalog.Function, error) {
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("get %s: %w", k, err)
	}
	fn, err := read(ctx, s, func() (catalog.Function, error) { return get(ctx, s.pool, k, false) })
	if err != nil {
		return catalog.Function{}, fmt.Errorf("get %s: %w", k, err)
	}
	return fn, nil
}

// List implements catalog.Store. A row that does not decode fails the whole call with
// catalog.ErrCorrupt.
func (s *Store) List(ctx context.Context) ([]catalog.Function, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	fns, err := read(ctx, s, func() ([]catalog.Function, error) { return list(ctx, s.pool) })
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	return fns, nil
}

// Module implements catalog.Store.
func (s *Store) Module(ctx context.Context, hash string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("module %s: %w", hash, err)
	}
	if !catalog.IsModuleHash(hash) {
		return nil, catalog.Errorf(catalog.ErrNotFound, "module %q does not exist: not a lower-case hex SHA-256", hash)
	}
	sum, _ := hex.DecodeString(hash)
	mod, err := read(ctx, s, func() ([]byte, error) {
		var mod []byte
		err := s.pool.QueryRow(ctx, "SELECT bytes FROM wasql.modules WHERE hash = $1", sum).Scan(&mod)
		return mod, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, catalog.Errorf(catalog.ErrNotFound, "module %s does not exist", hash)
	}
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", hash, err)
	}
	if err := catalog.VerifyModule(hash, mod); err != nil {
		return nil, err
	}
	return mod, nil
}

// Subscribe implements catalog.Store. Changes are delivered by one goroutine of the store, in
// catalog version order, whichever store or process made them: each write of this store waits
// for its own delivery (see Create); changes made elsewhere arrive within a second of their
// commit while the listening connection is up, and within the reconcile interval otherwise.
func (s *Store) Subscribe(fn func(catalog.Change)) (cancel func()) { return s.subs.Subscribe(fn) }

// Version returns the catalog version this store's subscribers have been told of.
func (s *Store) Version() int64 {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	return s.delivered
}

// Listening reports whether the listening connection is up. While it is down, changes made
// through other stores arrive by the periodic reconcile only; a health check may report it.
func (s *Store) Listening() bool { return s.listenerPID.Load() != 0 }

// Ping checks that the upstream answers: an empty statement on one of the store's pooled
// connections (a new one if none is idle), within ctx. A readiness check uses it.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements catalog.Store: it stops listening and delivering, waits for both goroutines
// and for operations under way (each bounded by its context), and closes the connections. A
// subscriber must not call it. Later operations fail; closing again returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.stop()
		s.wg.Wait()
		s.pool.Close()
	})
	return nil
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const functionColumns = `schema_name, name, arg_types, arg_names, return_type, volatility, strict, parallel, cost,
	export, options, module_hash, module_size, owner, version, created, replaced`

// get reads the function with key k; forUpdate locks its row.
func get(ctx context.Context, q querier, k catalog.Key, forUpdate bool) (catalog.Function, error) {
	sql := `SELECT ` + functionColumns + ` FROM wasql.function_defs WHERE schema_name = $1 AND name = $2 AND arg_types = $3`
	if forUpdate {
		sql += " FOR UPDATE"
	}
	rows, err := q.Query(ctx, sql, k.Schema, k.Name, argTypes(k.ArgTypes))
	if err != nil {
		return catalog.Function{}, err
	}
	fns, err := scanFunctions(rows)
	if err != nil {
		return catalog.Function{}, err
	}
	if len(fns) == 0 {
		return catalog.Function{}, catalog.Errorf(catalog.ErrNotFound, "function %s does not exist", k)
	}
	return fns[0], nil
}

// list reads every function, in Key.Compare order.
func list(ctx context.Context, q querier) ([]catalog.Function, error) {
	rows, err := q.Query(ctx, `SELECT `+functionColumns+` FROM wasql.function_defs ORDER BY schema_name, name, arg_types`)
	if err != nil {
		return nil, err
	}
	fns, err := scanFunctions(rows)
	if err != nil {
		return nil, err
	}
	// COLLATE "C" already orders by bytes, and arrays compare element by element, a prefix
	// first; sorting a sorted list is cheap insurance against a collation surprise.
	slices.SortStableFunc(fns, func(a, b catalog.Function) int { return a.Key().Compare(b.Key()) })
	return fns, nil
}

// scanFunctions decodes rows of functionColumns. A value that does not decode, or a function
// that is not valid, is catalog.ErrCorrupt.
func scanFunctions(rows pgx.Rows) ([]catalog.Function, error) {
	defer rows.Close()
	var fns []catalog.Function
	for rows.Next() {
		var (
			fn       catalog.Function
			hash     []byte
			replaced *time.Time
		)
		if err := rows.Scan(&fn.Schema, &fn.Name, &fn.ArgTypes, &fn.ArgNames, &fn.ReturnType, &fn.Volatility, &fn.Strict,
			&fn.Parallel, &fn.Cost, &fn.Export, &fn.Options, &hash, &fn.ModuleSize, &fn.Owner, &fn.Version, &fn.Created, &replaced); err != nil {
			return nil, catalog.Errorf(catalog.ErrCorrupt, "function row %s.%s does not decode: %v", fn.Schema, fn.Name, err)
		}
		fn.ModuleHash = hex.EncodeToString(hash)
		fn.Created = fn.Created.UTC()
		if replaced != nil {
			fn.Replaced = replaced.UTC()
		}
		if err := checkStored(&fn); err != nil {
			return nil, err
		}
		fns = append(fns, fn)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return fns, nil
}

// checkStored reports, as catalog.ErrCorrupt, a stored function that no Create could have
// written.
func checkStored(fn *catalog.Function) error {
	if err := fn.Validate(); err != nil {
		return catalog.Errorf(catalog.ErrCorrupt, "function row %s is invalid: %v", fn.Key(), err)
	}
	if !catalog.IsModuleHash(fn.ModuleHash) || fn.ModuleSize <= 0 || fn.Version <= 0 || fn.Created.IsZero() {
		return catalog.Errorf(catalog.ErrCorrupt, "function row %s: bad module hash %q, size %d, version %d or creation time %v",
			fn.Key(), fn.ModuleHash, fn.ModuleSize, fn.Version, fn.Created)
	}
	return nil
}

// put inserts fn, or updates its row when it exists.
func put(ctx context.Context, tx pgx.Tx, fn *catalog.Function, version int64, exists bool) error {
	sum, _ := hex.DecodeString(fn.ModuleHash)
	var replaced *time.Time
	if !fn.Replaced.IsZero() {
		replaced = &fn.Replaced
	}
	options := fn.Options
	if options == nil {
		options = map[string]string{}
	}
	args := []any{fn.Schema, fn.Name, argTypes(fn.ArgTypes), argTypes(fn.ArgNames), fn.ReturnType, fn.Volatility, fn.Strict,
		fn.Parallel, fn.Cost, fn.Export, options, sum, fn.ModuleSize, fn.Owner, fn.Version, fn.Created, replaced, version}
	sql := `INSERT INTO wasql.function_defs (` + functionColumns + `, catalog_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`
	if exists {
		sql = `UPDATE wasql.function_defs SET arg_names = $4, return_type = $5, volatility = $6, strict = $7, parallel = $8,
			cost = $9, export = $10, options = $11, module_hash = $12, module_size = $13, owner = $14, version = $15,
			created = $16, replaced = $17, catalog_version = $18
			WHERE schema_name = $1 AND name = $2 AND arg_types = $3`
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("store function: %w", err)
	}
	return nil
}

// collectModule deletes the module with the given hash if no function uses it.
func collectModule(ctx context.Context, tx pgx.Tx, hash string) error {
	sum, _ := hex.DecodeString(hash)
	_, err := tx.Exec(ctx, `DELETE FROM wasql.modules WHERE hash = $1
		AND NOT EXISTS (SELECT 1 FROM wasql.function_defs WHERE module_hash = $1)`, sum)
	if err != nil {
		return fmt.Errorf("collect module %s: %w", hash, err)
	}
	return nil
}

func catalogVersion(ctx context.Context, q querier) (int64, error) {
	var v int64
	if err := q.QueryRow(ctx, "SELECT version FROM wasql.catalog_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read catalog version: %w", err)
	}
	return v, nil
}

// readOnly runs body in a read-only repeatable-read transaction: one snapshot of the catalog.
func (s *Store) readOnly(ctx context.Context, body func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if err := body(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// argTypes returns a non-nil slice: the columns are NOT NULL, and pgx sends a nil slice as NULL.
func argTypes(ts []string) []string {
	if ts == nil {
		return []string{}
	}
	return ts
}

// checkText rejects strings PostgreSQL's text cannot hold as given: a NUL byte, or invalid
// UTF-8 (which JSON encoding of the change log would otherwise replace silently).
func checkText(fn *catalog.Function) error {
	strs := []string{fn.Schema, fn.Name, fn.ReturnType, fn.Volatility, fn.Parallel, fn.Export, fn.Owner}
	strs = append(strs, fn.ArgNames...)
	strs = append(strs, fn.ArgTypes...)
	for k, v := range fn.Options {
		strs = append(strs, k, v)
	}
	for _, s := range strs {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			return fmt.Errorf("%q: PostgreSQL text holds neither NUL bytes nor invalid UTF-8", s)
		}
	}
	return nil
}

// encodeKey renders k as schema NUL name NUL type NUL type...: distinct keys never collide
// (catalog.Function.Validate rejects NUL).
func encodeKey(k catalog.Key) string {
	var b strings.Builder
	b.WriteString(k.Schema)
	b.WriteByte(0)
	b.WriteString(k.Name)
	for _, t := range k.ArgTypes {
		b.WriteByte(0)
		b.WriteString(t)
	}
	return b.String()
}

var kindName = map[catalog.ChangeKind]string{catalog.Created: "created", catalog.Replaced: "replaced", catalog.Dropped: "dropped"}

// decodeChange decodes a change log entry; one that does not decode is catalog.ErrCorrupt.
func decodeChange(version int64, kind string, data []byte) (catalog.Change, error) {
	var c catalog.Change
	for k, name := range kindName {
		if name == kind {
			c.Kind = k
		}
	}
	var r catalog.Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || c.Kind == 0 {
		return c, catalog.Errorf(catalog.ErrCorrupt, "change %d (%q) does not decode: %v", version, kind, err)
	}
	c.Function = catalog.Function(r)
	c.Function.Created, c.Function.Replaced = c.Function.Created.UTC(), c.Function.Replaced.UTC()
	if err := checkStored(&c.Function); err != nil {
		return c, fmt.Errorf("change %d: %w", version, err)
	}
	return c, nil
}
