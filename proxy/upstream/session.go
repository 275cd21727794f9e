package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// flushAt is how many bytes of client messages (COPY data) are buffered before they are written
// upstream without waiting for a message that needs an answer.
const flushAt = 64 << 10

// Session is one client's session: one upstream connection, pinned for its life. Handle writes
// the client's messages upstream (or answers wasql's own statements); a pump goroutine relays
// the upstream's messages to the client as they come, notifications included.
type Session struct {
	b         *Backend
	out       Writer
	hangup    func()    // closes the client connection; nil in tests with their own front end
	raw       RawWriter // nil: the out writer takes only decoded messages
	conn      net.Conn  // the upstream connection
	cancel    *pgconn.PgConn
	pid       uint32 // the upstream backend's
	params    []pgproto3.ParameterStatus
	user      string // the client's, recorded as the owner of the functions it creates
	superuser bool   // the upstream says is_superuser

	// Used by Handle's goroutine only.
	wbuf     []byte
	executed bool // an Execute went upstream since the last Sync
	stmts    map[string]*localStmt
	portals  map[string]*localPortal
	prefix   []pgproto3.FrontendMessage // sent before the next exchange's messages (internal.go)
	// executedWork: an Execute of something other than BEGIN went upstream since the last Sync
	// (beginStmts and beginPortals tell which statements and portals are BEGINs).
	executedWork bool
	beginStmts   map[string]bool
	beginPortals map[string]bool
	statsStmts   map[string]bool // statements whose text names wasql.functions (Config.FlushStats)

	mu       sync.Mutex
	q        []expect // what the messages sent so far still expect, in order
	failed   bool     // an extended-protocol message failed and no Sync was sent since: the upstream skips until Sync
	txStatus byte     // of the last ReadyForQuery
	empty    chan struct{}
	dead     error // the upstream connection is lost (08006)
	closing  bool
	running  context.CancelFunc // cancels the wasql statement in progress
	sinkBuf  []byte             // messages for the exchange at the head of q, not yet handed over
	// clientUTF8: the client_encoding is UTF8, so text from wasm functions needs no conversion.
	clientUTF8 bool

	deadCh   chan struct{}
	pumpDone chan struct{}
}

func (b *Backend) newSession(hc *pgconn.HijackedConn, cancelConn *pgconn.PgConn, st Startup, out Writer) *Session {
	s := &Session{b: b, out: out, hangup: st.Hangup, user: st.User, superuser: hc.ParameterStatuses["is_superuser"] == "on", conn: hc.Conn, cancel: cancelConn, pid: hc.PID, params: parameters(hc.ParameterStatuses),
		txStatus: hc.TxStatus, stmts: map[string]*localStmt{}, portals: map[string]*localPortal{},
		beginStmts: map[string]bool{}, beginPortals: map[string]bool{}, statsStmts: map[string]bool{},
		deadCh: make(chan struct{}), pumpDone: make(chan struct{})}
	if s.txStatus == 0 {
		s.txStatus = 'I'
	}
	s.clientUTF8 = hc.ParameterStatuses["client_encoding"] == "UTF8"
	s.raw, _ = out.(RawWriter)
	go s.pump()
	return s
}

// Parameters returns the upstream's ParameterStatus values, for the client's startup.
func (s *Session) Parameters() []pgproto3.ParameterStatus { return s.params }

// ProcessID implements proxy.Process: the client is given its upstream backend's pid.
func (s *Session) ProcessID() uint32 { return s.pid }

// Handle takes the client's next message. Messages that are not wasql's go upstream as they
// came; wasql's own statements are answered here, in order with the upstream's answers.
func (s *Session) Handle(ctx context.Context, msg pgproto3.FrontendMessage) error {
	if err := s.lost(); err != nil {
		return err
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		return s.query(ctx, m)
	case *pgproto3.Parse:
		return s.parse(ctx, m)
	case *pgproto3.Bind:
		return s.bind(ctx, m)
	case *pgproto3.Describe:
		return s.describe(m)
	case *pgproto3.Execute:
		return s.execute(ctx, m)
	case *pgproto3.Close:
		return s.closeMsg(m)
	case *pgproto3.Sync:
		clear(s.portals)
		clear(s.beginPortals)
		s.executed, s.executedWork = false, false
		return s.forward(m, expect{kind: 'S'}, true)
	case *pgproto3.Flush:
		if err := s.forwardNoReply(m, true); err != nil {
			return err
		}
		return s.out.Flush() // wasql's own answers already sent, if any

	case *pgproto3.FunctionCall:
		return s.forward(m, expect{kind: 'F'}, true)
	case *pgproto3.CopyData:
		return s.forwardNoReply(m, false)
	case *pgproto3.CopyDone, *pgproto3.CopyFail:
		return s.forwardNoReply(m, true)
	}
	return fmt.Errorf("upstream session: unexpected client message %T", msg)
}

// Idle implements proxy.Idler: the client sent nothing more yet, so what it sent goes upstream
// now rather than at the next message that needs an answer (PostgreSQL starts a statement's
// timeout when its Parse arrives). A failed write is reported by the next Handle.
func (s *Session) Idle() {
	if s.lost() == nil {
		s.flush()
	}
}

// expect is what one message sent upstream still expects, or an answer of wasql's own waiting
// for its turn.
type expect struct {
	kind       byte // the client message: Q P B D E C S F; 0 for an answer of wasql's (local)
	swallowErr bool // the ErrorResponse it gets is wasql's doing: not relayed
	local      []pgproto3.BackendMessage
	// sink, for an exchange of wasql's own (internal.go), gets every message the upstream sends
	// until the exchange's ReadyForQuery, in chunks of whole messages; the client gets none.
	sink chan []byte
}

func (e expect) extended() bool { return e.kind != 'Q' && e.kind != 'F' && e.kind != 'S' }

// push queues e, or drops it when the upstream skips messages until Sync (as PostgreSQL drops
// them). A local answer at the head goes to the client at once. It reports whether e was kept.
// The upstream skips nothing after the Sync that ends a failure, so a Sync clears it at once:
// what follows it in the client's stream goes upstream even if the Sync's ReadyForQuery has not
// come back yet.
func (s *Session) push(e expect) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed {
		if e.kind != 'S' {
			return false
		}
		s.failed = false
	}
	s.q = append(s.q, e)
	s.emitLocals()
	return true
}

// emitLocals sends the local answers at the head of the queue. Called with mu held.
func (s *Session) emitLocals() {
	for len(s.q) > 0 && s.q[0].kind == 0 {
		for _, m := range s.q[0].local {
			s.out.Send(m)
		}
		s.pop()
	}
	if len(s.q) == 0 && s.empty != nil {
		close(s.empty)
		s.empty = nil
	}
}

func (s *Session) pop() {
	s.q[0] = expect{}
	s.q = s.q[1:]
	if len(s.q) == 0 {
		s.q = s.q[:0:0]
	}
}

// encode appends m to the upstream buffer.
func (s *Session) encode(m pgproto3.FrontendMessage) error {
	b, err := m.Encode(s.wbuf)
	if err != nil {
		return &protocolError{err}
	}
	s.wbuf = b
	return nil
}

// forward sends m upstream, expecting e. Queueing before writing keeps the queue ahead of the
// upstream's answers.
func (s *Session) forward(m pgproto3.FrontendMessage, e expect, flush bool) error {
	if !s.push(e) {
		return nil // the upstream would skip it; so does wasql
	}
	if err := s.encode(m); err != nil {
		return err
	}
	if flush || len(s.wbuf) >= flushAt {
		return s.flush()
	}
	return nil
}

// forwardNoReply sends upstream a message that gets no answer of its own.
func (s *Session) forwardNoReply(m pgproto3.FrontendMessage, flush bool) error {
	if err := s.encode(m); err != nil {
		return err
	}
	if flush || len(s.wbuf) >= flushAt {
		return s.flush()
	}
	return nil
}

func (s *Session) flush() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	_, err := s.conn.Write(s.wbuf)
	if cap(s.wbuf) > 4*flushAt {
		s.wbuf = nil
	} else {
		s.wbuf = s.wbuf[:0]
	}
	if err != nil {
		s.lose(err)
		return s.lost()
	}
	return nil
}

// drain waits until every message sent upstream has been answered (asking the upstream for its
// pending answers with a Flush), so that the transaction status and the pipeline's failure are
// known.
func (s *Session) drain(ctx context.Context) error {
	s.mu.Lock()
	if len(s.q) == 0 {
		s.mu.Unlock()
		return s.flush()
	}
	if s.empty == nil {
		s.empty = make(chan struct{})
	}
	empty := s.empty
	s.mu.Unlock()
	if err := s.encode(&pgproto3.Flush{}); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	select {
	case <-empty:
		return nil
	case <-s.deadCh:
		return s.lost()
	case <-ctx.Done():
		return errShutdown
	}
}

// Cancel asks the upstream to cancel the statement in progress (a CancelRequest with the
// upstream backend's key), and cancels a wasql statement in progress.
func (s *Session) Cancel() {
	s.mu.Lock()
	if s.running != nil {
		s.running()
	}
	s.mu.Unlock()
	s.cancelUpstream() // best effort, as PostgreSQL's own cancel
}

// Close ends the session: the upstream connection gets a Terminate and is closed.
func (s *Session) Close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.wbuf = s.wbuf[:0]
	s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	if b, err := (&pgproto3.Terminate{}).Encode(nil); err == nil {
		s.conn.Write(b)
	}
	err := s.conn.Close()
	select {
	case <-s.pumpDone:
	case <-time.After(5 * time.Second):
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// lose records that the upstream connection is gone.
func (s *Session) lose(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead != nil || s.closing {
		return
	}
	s.dead = err
	close(s.deadCh)
}

// lost is the error Handle returns once the upstream connection is gone: 08006.
func (s *Session) lost() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead == nil {
		return nil
	}
	return &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08006",
		Message: "the connection to the upstream PostgreSQL was lost: " + s.dead.Error()}
}

// errShutdown ends a session waiting for the upstream when the server closes.
var errShutdown = &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01",
	Message: "terminating connection due to administrator command"}

// protocolError is a message that cannot be encoded for the upstream.
type protocolError struct{ err error }

func (e *protocolError) Error() string    { return e.err.Error() }
func (e *protocolError) SQLState() string { return "08P01" }
func (e *protocolError) Unwrap() error    { return e.err }
