package proxy

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"log"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Config configures a Server.
type Config struct {
	// Users are the accounts and their SCRAM verifiers. With none, every user is trusted, and
	// only on loopback connections.
	Users map[string]Verifier
	// TLS, when set, lets clients upgrade with SSLRequest (sslmode=require works).
	TLS *tls.Config
	// ServerVersion is reported in ParameterStatus server_version.
	ServerVersion string
	// MaxMessageBytes bounds one client message (default 64 MiB).
	MaxMessageBytes int
}

// DefaultServerVersion is the PostgreSQL version reported when Config.ServerVersion is empty.
const DefaultServerVersion = "15.10"

// Server speaks the Postgres wire protocol (v3) in front of a Backend.
type Server struct {
	cfg     Config
	backend Backend

	mu    sync.Mutex
	conns map[uint32]*conn // by backend pid, for CancelRequest
	ln    net.Listener
	wg    sync.WaitGroup

	nextPID atomic.Uint32
	closed  atomic.Bool
}

// NewServer returns a server for backend.
func NewServer(cfg Config, backend Backend) *Server {
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = DefaultServerVersion
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 64 << 20
	}
	s := &Server{cfg: cfg, backend: backend, conns: map[uint32]*conn{}}
	// Backend pids start far above the MySQL wire's connection ids, which share the engine's
	// session id space (and stay a positive int32, as pg_backend_pid() returns).
	s.nextPID.Store(1 << 30)
	return s
}

// Serve accepts connections on l until Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	s.ln = l
	s.mu.Unlock()
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closed.Load() {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go s.handle(nc)
	}
}

// Close stops accepting, closes every connection and waits for their goroutines.
func (s *Server) Close() error {
	s.closed.Store(true)
	s.mu.Lock()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for _, c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// handle runs one connection. A panic ends that connection only.
func (s *Server) handle(nc net.Conn) {
	defer s.wg.Done()
	c := &conn{srv: s, nc: nc, pid: s.nextPID.Add(1)}
	defer func() {
		if r := recover(); r != nil {
			log.Printf("wasql: postgres connection %d: panic: %v\n%s", c.pid, r, debug.Stack())
		}
		c.close()
	}()
	if err := c.run(); err != nil && !errors.Is(err, errClientGone) {
		log.Printf("wasql: postgres connection %d: %v", c.pid, err)
	}
}

func (s *Server) register(c *conn) {
	s.mu.Lock()
	s.conns[c.pid] = c
	s.mu.Unlock()
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.conns, c.pid)
	s.mu.Unlock()
}

// cancel handles a CancelRequest: it cancels the running statement of the connection with this
// pid and secret, and does nothing for an unknown pair.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c != nil && len(secret) == 4 && binary.BigEndian.Uint32(secret) == c.secret {
		c.cancelRunning()
	}
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

var (
	errClientGone = errors.New("client went away")
	errProtocol   = errors.New("protocol violation")
)

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
