package sqlfuncs

import (
	"reflect"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/udf"
)

// stmtKey names one running statement: its session, its process id and the time its context
// was made. Sub-contexts of a statement copy all three.
type stmtKey struct {
	sess  sql.Session
	pid   uint64
	start time.Time
}

type stmtRef struct {
	st   *udf.Statement
	refs int
}

// statements are the udf.Statements of the statements running wasm calls: every call of one
// function within a statement (batch nodes, row-by-row calls, subqueries, folding) shares one
// instance, and a statement holding an instance never waits for another, so concurrent
// statements cannot deadlock on instance pools (docs/RATIONALE.md).
var statements = struct {
	sync.Mutex
	m map[stmtKey]*stmtRef
}{m: map[stmtKey]*stmtRef{}}

// statement returns the udf.Statement of ctx's statement and a function to release it; the last
// release closes it, resetting its instances.
func statement(ctx *sql.Context) (*udf.Statement, func()) {
	if ctx == nil || ctx.Session == nil || !reflect.TypeOf(ctx.Session).Comparable() {
		st := udf.NewStatement()
		if ctx != nil && ctx.Session != nil {
			st.SetLog(sessionLog(ctx.Session))
		}
		return st, st.Close
	}
	key := stmtKey{sess: ctx.Session, pid: ctx.Pid(), start: ctx.QueryTime()}
	statements.Lock()
	ref := statements.m[key]
	if ref == nil {
		ref = &stmtRef{st: udf.NewStatement()}
		ref.st.SetLog(sessionLog(ctx.Session))
		statements.m[key] = ref
	}
	ref.refs++
	statements.Unlock()
	var once sync.Once
	return ref.st, func() {
		once.Do(func() {
			statements.Lock()
			ref.refs--
			last := ref.refs == 0
			if last {
				delete(statements.m, key)
			}
			statements.Unlock()
			if last {
				ref.st.Close()
			}
		})
	}
}

// GuestLogCode is the MySQL error code of the Note a guest's output line becomes (1105, the
// server's generic code: MySQL has none for a routine's message).
const GuestLogCode = 1105

// sessionLog sends a statement's guest output lines to the session's warnings, as Notes: SHOW
// WARNINGS and the warning count of the MySQL wire, and NOTICEs on the Postgres wire (the
// embedded engine's pgResult.Notices). The Log serializes its calls of Warn.
func sessionLog(sess sql.Session) *udf.Log {
	return udf.NewLog(func(msg string) func(string) {
		w := &sql.Warning{Level: "Note", Code: GuestLogCode, Message: msg}
		sess.Warn(w)
		return func(msg string) { w.Message = msg }
	})
}
