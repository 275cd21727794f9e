package proxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server.
type Config struct {
	// Users are the accounts and their SCRAM verifiers. With none, every user is trusted, and
	// only on loopback connections. Unused with PassThroughAuth.
	Users map[string]Verifier
	// PassThroughAuth, when set, leaves the password to the backend: the server asks the client
	// for it in clear (AuthenticationCleartextPassword) and gives it to Backend.Open in
	// Client.Password, whose error (an upstream's 28P01) the client gets. A password in clear
	// is asked for only on a TLS connection (see TLS) or a loopback one (127.0.0.0/8, ::1, a
	// Unix socket); any other connection is refused with 28000 before it sends one.
	PassThroughAuth bool
	// TLS, when set, lets clients upgrade with SSLRequest (sslmode=require works).
	TLS *tls.Config
	// MaxMessageBytes bounds one client message once the client is authenticated (default
	// 64 MiB). Before, messages are bounded by MaxStartupMessageBytes.
	MaxMessageBytes int
	// MaxConnections bounds the connections served at once (default DefaultMaxConnections): one
	// more is answered FATAL 53300 "sorry, too many clients already" and closed.
	MaxConnections int
	// MaxStartupConnections bounds the connections that are not authenticated yet, refused ones
	// included (default DefaultMaxStartupConnections): the server accepts no more until one
	// finishes startup (or AuthTimeout ends it), so more clients wait in the listen backlog.
	MaxStartupConnections int
	// AuthTimeout bounds the whole startup of a connection, from accept to the end of
	// authentication (default DefaultAuthTimeout): a client that has not finished by then, one
	// byte at a time or not at all, is disconnected.
	AuthTimeout time.Duration
	// Secret keys the salts the server makes up for unknown users (random when empty), so that
	// an unknown user sees the same salt at every attempt, as a known one does.
	Secret []byte
}

// Defaults of Config.
const (
	DefaultMaxConnections        = 1000
	DefaultMaxStartupConnections = 100
	DefaultAuthTimeout           = 10 * time.Second
	// MaxStartupMessageBytes bounds a message before authentication (SASL messages are a few
	// hundred bytes), so that an unauthenticated client cannot make the server hold more.
	MaxStartupMessageBytes = 8 << 10
)

// Server speaks the Postgres wire protocol (v3) in front of a Backend.
type Server struct {
	cfg     Config
	backend Backend
	secret  []byte

	ctx  context.Context // the base of every statement's context: Close cancels it
	stop context.CancelCauseFunc

	starting chan struct{} // a slot per connection not authenticated yet, refused ones included

	mu       sync.Mutex
	conns    map[uint32]*conn      // authenticated, by backend pid, for CancelRequest
	open     map[net.Conn]struct{} // every connection from accept to close
	admitted int                   // connections being served (not refused), from accept
	ln       net.Listener
	closed   bool
	wg       sync.WaitGroup

	nextPID atomic.Uint32
	counts  counters
}

// NewServer returns a server for backend.
func NewServer(cfg Config, backend Backend) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 64 << 20
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxStartupConnections <= 0 {
		cfg.MaxStartupConnections = DefaultMaxStartupConnections
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = DefaultAuthTimeout
	}
	s := &Server{cfg: cfg, backend: backend, secret: cfg.Secret, conns: map[uint32]*conn{}, open: map[net.Conn]struct{}{},
		starting: make(chan struct{}, cfg.MaxStartupConnections)}
	if len(s.secret) == 0 {
		s.secret = randomBytes()
	}
	s.ctx, s.stop = context.WithCancelCause(context.Background())
	// Backend pids start far above the MySQL wire's connection ids, which share the engine's
	// session id space (and stay a positive int32, as pg_backend_pid() returns).
	s.nextPID.Store(1 << 30)
	return s
}

// Serve accepts connections on l until Close, while fewer than MaxStartupConnections are in
// startup. Accept errors (out of file descriptors, for one) are retried with a backoff of up to
// a second: the server keeps serving the connections it has. Serve returns nil after Close, or
// the error of a listener that was closed otherwise.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return l.Close()
	}
	s.ln = l
	s.mu.Unlock()
	var delay time.Duration
	for {
		select {
		case s.starting <- struct{}{}:
		case <-s.ctx.Done():
			return nil
		}
		nc, err := l.Accept()
		if err != nil {
			<-s.starting
			if s.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			log.Printf("wasql: postgres wire: %v; retrying in %v", err, delay)
			select {
			case <-time.After(delay):
			case <-s.ctx.Done():
			}
			continue
		}
		delay = 0
		s.admit(nc)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// admit starts a connection's goroutine, with the startup slot Serve took for it. A connection
// over MaxConnections is let through startup (so that it reads its error, and a CancelRequest
// on it works) and refused there.
func (s *Server) admit(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.starting
		nc.Close()
		return
	}
	refused := s.admitted >= s.cfg.MaxConnections
	if !refused {
		s.admitted++
	}
	s.open[nc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.counts.accepted.Add(1)
	s.counts.open.Add(1)
	if refused {
		s.refusedOne()
	}
	go s.handle(nc, refused)
}

// errTooManyClients is PostgreSQL's answer when max_connections is reached.
var errTooManyClients = sqlError("53300", "sorry, too many clients already")

// Close stops accepting, closes every connection (those in startup too), cancels the running
// statements and waits for the connections' goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	ln := s.ln
	for nc := range s.open {
		nc.Close()
	}
	s.mu.Unlock()
	s.stop(errShutdown)
	var err error
	if ln != nil {
		err = ln.Close()
	}
	s.wg.Wait()
	return err
}

// handle runs one connection. A panic ends that connection only.
func (s *Server) handle(nc net.Conn, refused bool) {
	c := &conn{srv: s, nc: nc, raw: nc, pid: s.nextPID.Add(1), refused: refused}
	defer s.release(c)
	defer func() {
		if r := recover(); r != nil { // in startup (a backend's Open): after it, guard recovers
			err := panicError(fmt.Sprintf("postgres connection %d", c.pid), r)
			if c.be != nil {
				c.be.Send(fatalResponse(err))
				c.be.Flush()
			}
		}
		c.close()
	}()
	if err := c.run(); err != nil && !errors.Is(err, errClientGone) {
		log.Printf("wasql: postgres connection %d: %v", c.pid, err)
	}
}

// authenticated moves c from the connections in startup to the served ones.
func (s *Server) authenticated(c *conn) {
	s.mu.Lock()
	s.conns[c.pid] = c
	c.started = true
	s.mu.Unlock()
	<-s.starting
}

// release forgets a connection that ended.
func (s *Server) release(c *conn) {
	s.mu.Lock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
	delete(s.open, c.raw)
	started := c.started
	if !c.refused {
		s.admitted--
	}
	s.mu.Unlock()
	if !started {
		<-s.starting
	}
	s.counts.open.Add(-1)
	s.wg.Done()
}

// cancel handles a CancelRequest: it cancels the running statement of the connection with this
// pid and secret (Session.Cancel), and does nothing for an unknown pair.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c != nil && len(secret) == 4 && binary.BigEndian.Uint32(secret) == c.secret {
		c.sess.Cancel()
	}
}

// CancelBackend cancels the statement the connection with backend pid pid is running, as
// pg_cancel_backend does: it fails with 57014 "canceling statement due to user request". It
// reports whether such a connection exists (it may be idle: then nothing happens).
func (s *Server) CancelBackend(pid uint32) bool {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c != nil {
		c.sess.Cancel()
	}
	return c != nil
}

func newSecret() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// Addr is the listening address, once serving.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback() || addr.Network() == "unix"
}

// Terminate closes the connection with this backend pid, if any: pg_terminate_backend. Its
// goroutine sees the closed socket and ends the session.
func (s *Server) Terminate(pid uint32) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c != nil {
		c.nc.Close()
	}
}
