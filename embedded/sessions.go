package embedded

import (
	"context"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// sessions is the engine's registry of open sessions of both wires, by session id (the MySQL
// connection id, the Postgres backend pid: one id space), with the cancel function of the
// statement each is running. KILL and pg_cancel_backend reach a statement through it whatever it
// is doing, waiting for a lock included.
type sessions struct {
	mu sync.Mutex
	m  map[uint32]*session
}

// session is one open session.
type session struct {
	id   uint32
	user string
	pg   bool
	sess sql.Session // the engine session; nil for a Postgres session (kept by pgSession)

	mu      sync.Mutex
	cancel  context.CancelCauseFunc // the running statement's; nil between statements
	stopped error                   // set once the session was terminated: every later statement fails
}

func newSessions() *sessions { return &sessions{m: map[uint32]*session{}} }

// open registers a session (again, after a reset).
func (r *sessions) open(id uint32, user string, pg bool, sess sql.Session) *session {
	s := &session{id: id, user: user, pg: pg, sess: sess}
	r.mu.Lock()
	r.m[id] = s
	r.mu.Unlock()
	return s
}

func (r *sessions) close(id uint32) {
	r.mu.Lock()
	s := r.m[id]
	delete(r.m, id)
	r.mu.Unlock()
	if s != nil {
		s.interrupt(&Interrupted{Terminated: true}, false)
	}
}

func (r *sessions) get(id uint32) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

// begin starts a statement of s: its context, which interrupt cancels, and the function that
// ends it.
func (s *session) begin(ctx context.Context) (context.Context, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	s.mu.Lock()
	if s.stopped != nil {
		s.mu.Unlock()
		cancel(nil)
		return nil, nil, s.stopped
	}
	s.cancel = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel(nil)
	}, nil
}

// interrupt cancels the running statement, if any, with cause; stop also fails every later
// statement of the session with it.
func (s *session) interrupt(cause error, stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stop {
		s.stopped = cause
	}
	if s.cancel != nil {
		s.cancel(cause)
	}
}

// running returns the cancel function of the statement running now (after begin), to cancel
// that one statement and no later one.
func (s *session) running() context.CancelCauseFunc {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return func(error) {}
	}
	return s.cancel
}
