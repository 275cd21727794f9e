package proxy

import (
	"encoding/binary"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Stats are a server's counts since it started (Server.Stats), for its metrics.
//
// Statements are counted where the client is answered, whatever the backend: a CommandComplete
// sent is a statement that succeeded, an ErrorResponse sent after startup one that failed (in
// the extended protocol, the message that failed: the rest up to Sync is skipped). Both are seen
// in the messages a session sends and in the bytes a PostgreSQL backend relays (WriteRaw), so
// the embedded engine's statements, wasql's own answers in proxy mode and the upstream's
// relayed ones all count; wasql's internal exchanges with an upstream, which the client does
// not see, do not.
type Stats struct {
	Open     int64 // connections from accept to close: in startup, served, or being refused
	Accepted int64 // connections accepted, refused ones included
	Refused  int64 // connections answered 53300: over MaxConnections
	Done     int64 // CommandComplete messages sent
	Failed   int64 // ErrorResponse messages sent after startup
}

// counters are a server's Stats, updated without locks.
type counters struct {
	open, accepted, refused, done, failed atomic.Int64
	warned                                atomic.Int64 // unix nanoseconds of the last refusal logged
}

// Stats returns the server's counts.
func (s *Server) Stats() Stats {
	c := &s.counts
	return Stats{Open: c.open.Load(), Accepted: c.accepted.Load(), Refused: c.refused.Load(),
		Done: c.done.Load(), Failed: c.failed.Load()}
}

// refusedOne counts a connection refused over MaxConnections and logs it, once every
// refusalLogEvery at most (a storm of clients would otherwise flood the log).
func (s *Server) refusedOne() {
	n := s.counts.refused.Add(1)
	now := time.Now().UnixNano()
	last := s.counts.warned.Load()
	if now-last < int64(refusalLogEvery) || !s.counts.warned.CompareAndSwap(last, now) {
		return
	}
	slog.Warn("postgres wire: connection refused: too many connections", "max_connections", s.cfg.MaxConnections, "refused_total", n)
}

// refusalLogEvery is the least time between two log lines about refused connections.
const refusalLogEvery = 10 * time.Second

// count counts a message sent to the client that ends a statement.
func (c *counters) count(msg pgproto3.BackendMessage) {
	switch msg.(type) {
	case *pgproto3.CommandComplete:
		c.done.Add(1)
	case *pgproto3.ErrorResponse:
		c.failed.Add(1)
	}
}

// countRaw counts the messages in p, whole encoded backend messages, that end a statement.
func (c *counters) countRaw(p []byte) {
	var done, failed int64
	for len(p) >= 5 {
		n := 1 + int(binary.BigEndian.Uint32(p[1:5]))
		if n < 5 || n > len(p) {
			break
		}
		switch p[0] {
		case 'C':
			done++
		case 'E':
			failed++
		}
		p = p[n:]
	}
	if done > 0 {
		c.done.Add(done)
	}
	if failed > 0 {
		c.failed.Add(failed)
	}
}
