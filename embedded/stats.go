package embedded

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/wasql/wasql/udf"
)

// MySQLStats are the MySQL wire's counts since the engine started, for its metrics.
//
// Statements are counted as lockedHandler runs them: COM_QUERY (each statement of a
// multi-statement query), COM_STMT_EXECUTE; not COM_STMT_PREPARE, and not the packets the
// connection guard answers itself (mysqlguard.go). A statement failed when its handler returned
// an error: the client got an ERR packet.
type MySQLStats struct {
	Open     int64 // connections from accept to close
	Accepted int64 // connections accepted, refused ones included
	Refused  int64 // connections refused with 1040: over MySQLLimits.MaxConnections
	Done     int64 // statements that succeeded
	Failed   int64 // statements that failed
}

// MySQLStats returns the MySQL wire's counts (connections are zero until ServeMySQL).
func (e *Engine) MySQLStats() MySQLStats {
	s := MySQLStats{Done: e.stats.done.Load(), Failed: e.stats.failed.Load()}
	e.mu.Lock()
	g := e.guard
	e.mu.Unlock()
	if g != nil {
		s.Open, s.Accepted, s.Refused = g.open.Load(), g.accepted.Load(), g.refused.Load()
	}
	return s
}

// RuntimeStats describes the engine's wasm runtime (udf.Runtime.Stats).
func (e *Engine) RuntimeStats() udf.RuntimeStats { return e.runtime.Stats() }

// mysqlStatements counts the MySQL wire's statements by outcome.
type mysqlStatements struct{ done, failed atomic.Int64 }

func (m *mysqlStatements) count(err error) {
	if err != nil {
		m.failed.Add(1)
	} else {
		m.done.Add(1)
	}
}

// refusedOne counts a connection refused over MaxConnections and logs it, once every
// refusalLogEvery at most (a storm of clients would otherwise flood the log).
func (l *guardListener) refusedOne() {
	n := l.refused.Add(1)
	now := time.Now().UnixNano()
	last := l.warned.Load()
	if now-last < int64(refusalLogEvery) || !l.warned.CompareAndSwap(last, now) {
		return
	}
	slog.Warn("mysql wire: connection refused: too many connections", "max_connections", l.lim.MaxConnections, "refused_total", n)
}

// refusalLogEvery is the least time between two log lines about refused connections.
const refusalLogEvery = 10 * time.Second
