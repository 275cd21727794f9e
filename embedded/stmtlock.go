package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"golang.org/x/sync/semaphore"

	"github.com/wasql/wasql/internal/sqlstate"
)

// class is what a statement needs of the engine's locks, weakest first. go-mysql-server's memory
// database is not safe for concurrent writers, and its table metadata (schemas, views, indexes)
// is not safe to read while DDL changes it; everything else (session variables, the wasm
// functions, which the Registry guards itself) needs no engine lock.
type class uint8

const (
	// lockNone: the statement reads no table: SELECT 1, SET, SHOW of variables, KILL, USE,
	// CREATE/DROP FUNCTION ... LANGUAGE wasm (the Registry compiles outside every engine lock).
	lockNone class = iota
	// lockCatalog: it reads only catalog relations (pg_catalog, information_schema) or table
	// metadata (SHOW TABLES): the schema lock, shared. Only DDL excludes it.
	lockCatalog
	// lockRead: it reads tables: the table lock, shared.
	lockRead
	// lockTx: it begins or ends a transaction (BEGIN, COMMIT, ROLLBACK): the table lock, alone;
	// with a storage that isolates transactions, nothing (stmtLocks.mvcc).
	lockTx
	// lockWrite: it writes table data (INSERT, UPDATE, DELETE, SELECT ... FOR UPDATE): the table
	// lock, alone; with mvcc, the writer lock.
	lockWrite
	// lockDDL: it changes table metadata, or is not known: the table lock and then the schema
	// lock, both alone.
	lockDDL
)

func (c class) String() string {
	return [...]string{"none", "catalog", "read", "tx", "write", "ddl"}[c]
}

// exclusiveWeight is what an exclusive holder takes of a semaphore: every reader's share.
const exclusiveWeight = 1 << 40

// rwLock is a readers-writer lock whose waits end when their context does. Waiters are served in
// arrival order (a reader arriving behind a waiting writer waits for it), so neither side starves.
type rwLock struct{ sem *semaphore.Weighted }

func newRWLock() rwLock { return rwLock{sem: semaphore.NewWeighted(exclusiveWeight)} }

// lock takes the lock, shared or alone, or returns the context's error.
func (l rwLock) lock(ctx context.Context, exclusive bool) (func(), error) {
	n := int64(1)
	if exclusive {
		n = exclusiveWeight
	}
	if err := l.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { l.sem.Release(n) }, nil
}

// stmtLocks are the engine's two locks: the table lock (data) and the schema lock (metadata);
// and the statements holding them, for retire.
//
// With mvcc (Dolt's storage, which isolates transactions itself) statements take neither: reads
// run beside everything, and the writer lock lets one transaction write at a time, from its
// first write to its end (COMMIT, ROLLBACK, the session's end), or for the one statement in
// autocommit. Dolt merges concurrent writing transactions cell by cell at COMMIT, which loses an
// update that two of them make from the same old value (docs/RATIONALE.md): with one writer at
// a time no merge happens. Each statement of a transaction that has not written yet starts
// from a fresh snapshot (the Dolt transaction is begun again: it has nothing to lose), so it
// sees every commit before it, as PostgreSQL's READ COMMITTED does; once a transaction writes,
// no other commits until it ends.
type stmtLocks struct {
	table  rwLock
	schema rwLock

	mvcc    bool
	writer  rwLock
	holders map[sql.Session]func() // sessions whose transaction holds the writer lock, and its release

	mu       sync.Mutex
	seq      uint64              // the last statement's number
	running  map[uint64]struct{} // statements between acquire and release
	retirees []retiree
}

// retiree is a function to run once every statement numbered up to after has ended.
type retiree struct {
	after uint64
	fn    func()
}

func newStmtLocks() *stmtLocks {
	return &stmtLocks{table: newRWLock(), schema: newRWLock(), writer: newRWLock(), running: map[uint64]struct{}{},
		holders: map[sql.Session]func(){}}
}

// retire runs fn once every statement running now has ended (at once when none is): a replaced
// wasm function is closed when no statement that may have resolved it can still call it.
func (l *stmtLocks) retire(fn func()) {
	l.mu.Lock()
	if len(l.running) == 0 {
		l.mu.Unlock()
		fn()
		return
	}
	l.retirees = append(l.retirees, retiree{after: l.seq, fn: fn})
	l.mu.Unlock()
}

func (l *stmtLocks) begin() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	l.running[l.seq] = struct{}{}
	return l.seq
}

func (l *stmtLocks) end(n uint64) {
	l.mu.Lock()
	delete(l.running, n)
	oldest := l.seq + 1
	for r := range l.running {
		oldest = min(oldest, r)
	}
	var due []func()
	keep := l.retirees[:0]
	for _, r := range l.retirees {
		if r.after < oldest {
			due = append(due, r.fn)
		} else {
			keep = append(keep, r)
		}
	}
	l.retirees = keep
	l.mu.Unlock()
	for _, fn := range due {
		fn()
	}
}

// acquire takes what c needs for a statement of sess, waiting at most as long as ctx lives: a
// canceled or expired wait returns the statement's interruption error (57014) at once. The
// returned release, called when the statement has ended, is idempotent.
func (l *stmtLocks) acquire(ctx context.Context, c class, sess sql.Session) (func(), error) {
	if l.mvcc {
		return l.acquireMVCC(ctx, c, sess)
	}
	var releases []func()
	take := func(r rwLock, exclusive bool) error {
		rel, err := r.lock(ctx, exclusive)
		if err != nil {
			for _, f := range releases {
				f()
			}
			return interruption(ctx)
		}
		releases = append(releases, rel)
		return nil
	}
	var err error
	switch c {
	case lockNone:
	case lockCatalog:
		err = take(l.schema, false)
	case lockRead:
		err = take(l.table, false)
	case lockTx, lockWrite:
		err = take(l.table, true)
	default:
		if err = take(l.table, true); err == nil {
			err = take(l.schema, true)
		}
	}
	if err != nil {
		return nil, err
	}
	n := l.begin()
	var once sync.Once
	return func() {
		once.Do(func() {
			for i := len(releases) - 1; i >= 0; i-- {
				releases[i]()
			}
			l.end(n)
		})
	}, nil
}

// acquireMVCC is acquire with mvcc.
func (l *stmtLocks) acquireMVCC(ctx context.Context, c class, sess sql.Session) (func(), error) {
	l.mu.Lock()
	held := l.holders[sess] != nil
	l.mu.Unlock()
	explicit := sess != nil && inExplicitTransaction(sql.NewContext(ctx, sql.WithSession(sess)))
	var hold func() // the writer lock, for this statement or its transaction
	if c >= lockWrite && !held {
		rel, err := l.writer.lock(ctx, true)
		if err != nil {
			return nil, interruption(ctx)
		}
		hold = rel
	}
	if explicit && !held && (c == lockRead || c >= lockWrite) {
		if err := freshSnapshot(ctx, sess); err != nil {
			if hold != nil {
				hold()
			}
			return nil, err
		}
	}
	if hold != nil && explicit {
		l.mu.Lock()
		l.holders[sess] = hold
		l.mu.Unlock()
		hold = nil
	}
	n := l.begin()
	var once sync.Once
	return func() {
		once.Do(func() {
			if hold != nil {
				hold()
			} else if sess != nil && !inTransaction(sql.NewContext(context.Background(), sql.WithSession(sess))) {
				l.endTransaction(sess)
			}
			l.end(n)
		})
	}, nil
}

// endTransaction releases the writer lock sess's transaction holds, if it holds it: at its
// COMMIT or ROLLBACK, or when the session ends.
func (l *stmtLocks) endTransaction(sess sql.Session) {
	l.mu.Lock()
	rel := l.holders[sess]
	delete(l.holders, sess)
	l.mu.Unlock()
	if rel != nil {
		rel()
	}
}

// inTransaction reports whether the session is in an explicit transaction that is still open:
// after COMMIT or ROLLBACK with autocommit off, the session has no transaction until its next
// statement.
func inTransaction(ctx *sql.Context) bool {
	return inExplicitTransaction(ctx) && ctx.GetTransaction() != nil
}

// freshSnapshot begins sess's transaction again, so that its next statement reads the latest
// commits. The transaction has not written (it does not hold the writer lock), so nothing is
// lost.
func freshSnapshot(ctx context.Context, sess sql.Session) error {
	tx := sess.GetTransaction()
	ts, ok := sess.(sql.TransactionSession)
	if tx == nil || !ok {
		return nil
	}
	if err := ts.Rollback(sql.NewContext(ctx, sql.WithSession(sess)), tx); err != nil {
		return err
	}
	sess.SetTransaction(nil)
	return nil
}

// Interrupted is the error of a statement stopped before it finished: canceled (KILL QUERY,
// CancelRequest, pg_cancel_backend), past its deadline (statement_timeout, max_execution_time),
// or its session terminated. Its SQLSTATE is 57014 (57P01 for a terminated session).
type Interrupted struct {
	Timeout    bool // the deadline passed
	Terminated bool // the session was terminated (pg_terminate_backend, KILL CONNECTION)
}

// Error implements the interface error, in PostgreSQL's words.
func (e *Interrupted) Error() string {
	switch {
	case e.Terminated:
		return "terminating connection due to administrator command"
	case e.Timeout:
		return "canceling statement due to statement timeout"
	}
	return "canceling statement due to user request"
}

// SQLState implements the interface sqlstate.Carrier.
func (e *Interrupted) SQLState() string {
	if e.Terminated {
		return "57P01"
	}
	return sqlstate.QueryCanceled
}

// Is makes errors.Is(err, context.Canceled / context.DeadlineExceeded) hold as for the context
// error it stands for.
func (e *Interrupted) Is(target error) bool {
	if e.Timeout {
		return target == context.DeadlineExceeded
	}
	return target == context.Canceled
}

// interruption is the error of a statement whose context ended: the cause it was canceled with,
// or the kind of its end.
func interruption(ctx context.Context) error {
	var in *Interrupted
	if errors.As(context.Cause(ctx), &in) {
		return in
	}
	return &Interrupted{Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded)}
}

// statementError is err, or the interruption when the statement's context ended: an engine that
// stops on a canceled context reports whatever it was doing (context canceled, a wasm call's
// deadline), and the client must see why.
func statementError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return interruption(ctx)
}

// LimitError is a statement refused before parsing: larger or more deeply nested than the
// engine's limits (Config.MaxStatementBytes, Config.MaxStatementDepth).
type LimitError struct {
	Depth bool // the nesting depth, not the size, is over the limit
	Msg   string
}

// Error implements the interface error.
func (e *LimitError) Error() string { return e.Msg }

// SQLState implements the interface sqlstate.Carrier: 54001 statement_too_complex ("stack
// depth limit exceeded" in PostgreSQL) for depth, 54000 program_limit_exceeded for size.
func (e *LimitError) SQLState() string {
	if e.Depth {
		return "54001"
	}
	return sqlstate.ProgramLimitExceeded
}

// Default limits of a statement's text.
const (
	DefaultMaxStatementBytes = 64 << 20
	DefaultMaxStatementDepth = 1000
)

// dialect selects the quoting rules of checkText.
type dialect uint8

const (
	mysqlDialect dialect = iota
	pgDialect
)

// checkText refuses a statement larger than maxBytes or with brackets nested deeper than
// maxDepth, before any parser sees it: go-mysql-server's and the wasm DDL's parsers take time
// quadratic in nesting. The scan skips string literals, quoted identifiers and comments. Where
// dialects or settings disagree on a quote (a backslash escapes it or not; ANSI_QUOTES), it scans
// both ways and keeps the deeper count, so no reading of the text hides nesting from it.
func checkText(q string, d dialect, maxBytes, maxDepth int) error {
	if len(q) > maxBytes {
		return &LimitError{Msg: fmt.Sprintf("statement is too long: %d bytes, the limit is %d", len(q), maxBytes)}
	}
	depth := max(nesting(q, d, false), nesting(q, d, true))
	if depth > maxDepth {
		return &LimitError{Depth: true, Msg: fmt.Sprintf("stack depth limit exceeded: the statement nests %d levels deep, the limit is %d", depth, maxDepth)}
	}
	return nil
}

// nesting is the deepest bracket nesting of q outside quotes and comments; backslash says
// whether a backslash escapes the next character inside quotes.
func nesting(q string, d dialect, backslash bool) int {
	depth, deepest := 0, 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '(' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == ')' || c == ']':
			if depth > 0 {
				depth--
			}
		case c == '\'' || c == '"' || c == '`' && d == mysqlDialect:
			i = quoteEnd(q, i, backslash)
		case c == '-' && strings.HasPrefix(q[i:], "--") && (d == pgDialect || i+2 >= len(q) || q[i+2] <= ' '),
			c == '#' && d == mysqlDialect:
			if end := strings.IndexByte(q[i:], '\n'); end >= 0 {
				i += end
			} else {
				i = len(q)
			}
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			if d == mysqlDialect && (strings.HasPrefix(q[i:], "/*!") || strings.HasPrefix(q[i:], "/*+")) {
				continue // MySQL runs what these hold: it counts
			}
			i = commentEnd(q, i, d == pgDialect)
		case c == '$' && d == pgDialect:
			i = dollarEnd(q, i)
		}
	}
	return deepest
}

// quoteEnd returns the index of the quote closing the one at q[i] (doubled quotes stay inside),
// or len(q) when none does.
func quoteEnd(q string, i int, backslash bool) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if backslash {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j
		}
	}
	return len(q)
}

// commentEnd returns the index of the last byte of the comment starting at q[i]; Postgres
// comments nest.
func commentEnd(q string, i int, nested bool) int {
	level := 0
	for j := i; j+1 < len(q); j++ {
		switch {
		case q[j] == '/' && q[j+1] == '*':
			if level == 0 || nested {
				level++
			}
			j++
		case q[j] == '*' && q[j+1] == '/':
			level--
			j++
			if level == 0 {
				return j
			}
		}
	}
	return len(q)
}

// dollarEnd returns the index of the last byte of the dollar-quoted string starting at q[i], or
// i when no dollar quote starts there.
func dollarEnd(q string, i int) int {
	j := strings.IndexByte(q[i+1:], '$')
	if j < 0 {
		return i
	}
	tag := q[i : i+j+2]
	for _, r := range tag[1 : len(tag)-1] {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0x80) {
			return i
		}
	}
	if len(tag) > 2 && tag[1] >= '0' && tag[1] <= '9' {
		return i // $1 is a parameter
	}
	end := strings.Index(q[i+len(tag):], tag)
	if end < 0 {
		return len(q)
	}
	return i + len(tag) + end + len(tag) - 1
}

// treeDepth reports whether the parse tree of st nests deeper than limit: go-mysql-server's
// analyzer takes time quadratic in expression depth (NOT NOT ... x, nested CASE), which brackets
// alone do not show.
func treeDepth(st ast.SQLNode, limit int) error {
	var deepest int
	var walk func(n ast.SQLNode, depth int) bool
	walk = func(n ast.SQLNode, depth int) bool {
		deepest = max(deepest, depth)
		if depth > limit {
			return false
		}
		var kids []ast.SQLNode
		root := true
		_ = ast.Walk(func(c ast.SQLNode) (bool, error) {
			if root {
				root = false
				return true, nil
			}
			kids = append(kids, c)
			return false, nil
		}, n)
		for _, k := range kids {
			if !walk(k, depth+1) {
				return false
			}
		}
		return true
	}
	if walk(st, 1) {
		return nil
	}
	return &LimitError{Depth: true, Msg: fmt.Sprintf("stack depth limit exceeded: the statement's expressions nest more than %d levels deep", limit)}
}

// catalogDatabases are the databases whose tables are views of the catalog, not table data.
var catalogDatabases = map[string]bool{"pg_catalog": true, "information_schema": true, "pg_information_schema": true}

// classOf decides the locks one parsed statement needs. Anything it does not know is lockDDL.
func classOf(st ast.Statement) class {
	switch s := st.(type) {
	case ast.InjectedStatement, *ast.InjectedStatement:
		return lockNone // only the wasm DDL is injected: the Registry guards itself
	case *ast.Kill, *ast.Use:
		return lockNone
	case *ast.Set:
		return reads(s)
	case *ast.Show:
		return max(lockCatalog, reads(s))
	case *ast.Explain:
		return max(lockRead, classOf(s.Statement))
	case ast.SelectStatement:
		return reads(s)
	case *ast.Begin, *ast.Commit, *ast.Rollback:
		return lockTx
	case *ast.Insert, *ast.Update, *ast.Delete, *ast.Load, *ast.Savepoint, *ast.RollbackSavepoint,
		*ast.ReleaseSavepoint, *ast.LockTables, *ast.UnlockTables:
		return lockWrite
	}
	return lockDDL
}

// reads classifies a statement that only reads: by the tables its tree names. SELECT ... INTO
// writes (a variable, or a file, which another guard refuses), and SELECT ... FOR UPDATE / FOR
// SHARE holds what it read as a write would: lockWrite.
func reads(n ast.SQLNode) class {
	c := lockNone
	_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
		switch x := node.(type) {
		case *ast.Into:
			if x != nil {
				c = max(c, lockWrite)
			}
		case *ast.Select:
			if x != nil && x.Lock != nil && x.Lock.Type != "" { // FOR UPDATE / SHARE: what it read stays as read until its end
				c = max(c, lockWrite)
			}
		case ast.TableName:
			c = max(c, tableClass(x))
		case *ast.TableName:
			if x != nil {
				c = max(c, tableClass(*x))
			}
		case *ast.Show:
			if x.Table.Name.String() != "" {
				c = max(c, lockCatalog)
			}
		}
		return true, nil
	}, n)
	return c
}

func tableClass(t ast.TableName) class {
	if t.Name.IsEmpty() {
		return lockNone
	}
	if catalogDatabases[strings.ToLower(t.DbQualifier.String())] {
		return lockCatalog
	}
	return lockRead
}
