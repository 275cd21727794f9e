package proxy

import (
	"errors"
	"fmt"
	"log"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/sqlstate"
)

// conn is one client connection: its startup (startup.go, auth.go), then the messages it sends,
// handed to its Session.
type conn struct {
	srv      *Server
	raw      net.Conn // as accepted
	nc       net.Conn // raw, or the TLS connection over it
	be       *pgproto3.Backend
	out      *writer // the sending half of be, once authenticated
	deadline time.Time
	pid      uint32
	secret   uint32
	sess     Session
	refused  bool // over MaxConnections: answered 53300 at its StartupMessage
	started  bool // authenticated (guarded by srv.mu)
}

func (c *conn) close() {
	if c.sess != nil {
		c.sess.Close()
	}
	c.nc.Close()
}

// run handles the connection from startup to Terminate. The session answers every message
// after startup but Terminate; a message of a type no session handles is answered 08P01, and
// the connection goes on.
func (c *conn) run() error {
	ok, err := c.startup()
	if err != nil || !ok {
		return err
	}
	c.srv.authenticated(c)
	if err := c.out.Flush(); err != nil {
		return errClientGone
	}
	who := fmt.Sprintf("postgres connection %d", c.pid) // once, not per message: it costs ~2% of a proxied query
	for {
		msg, err := c.be.Receive()
		if err != nil {
			if gone(err) {
				return errClientGone
			}
			c.out.Send(fatalResponse(protocolError(err)))
			c.out.Flush()
			return err
		}
		switch msg.(type) {
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.Query, *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute,
			*pgproto3.Close, *pgproto3.Sync, *pgproto3.Flush, *pgproto3.CopyData, *pgproto3.CopyDone,
			*pgproto3.CopyFail, *pgproto3.FunctionCall:
			if err := guard(who, func() error { return c.sess.Handle(c.srv.ctx, msg) }); err != nil {
				if gone(err) {
					return errClientGone
				}
				var carrier sqlstate.Carrier
				if !errors.As(err, &carrier) { // the session failed, not the client's statement
					err = &pgError{code: sqlstate.InternalError, msg: err.Error()}
				}
				c.out.Send(fatalResponse(err))
				c.out.Flush()
				return err
			}
		default:
			c.out.Send(toErrorResponse(protocolError(fmt.Errorf("unexpected message %T", msg))))
			if err := c.out.Flush(); err != nil {
				return errClientGone
			}
		}
	}
}

// guard runs f; a panic in it (the proxy's or a backend's) becomes its XX000 error, logged with
// its stack as who's.
func guard(who string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(who, r)
		}
	}()
	return f()
}

// panicError logs a recovered panic with its stack and returns the client's XX000 error.
func panicError(who string, r any) error {
	log.Printf("wasql: %s: panic: %v\n%s", who, r, debug.Stack())
	return sqlError("XX000", fmt.Sprintf("internal error: %v", r))
}

// writer is the server's Writer: the sending half of the connection's pgproto3.Backend, whose
// buffer a mutex guards (the receiving half is the connection goroutine's alone).
type writer struct {
	mu     sync.Mutex
	be     *pgproto3.Backend
	counts *counters // the server's: the statements answered
}

// Send implements the interface Writer.
func (w *writer) Send(msg pgproto3.BackendMessage) {
	w.counts.count(msg)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.be.Send(msg)
}

// Flush implements the interface Writer.
func (w *writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.be.Flush()
}

// WriteRaw sends whole backend messages already encoded (a PostgreSQL backend relays its
// upstream's bytes without decoding them: proxy/upstream's RawWriter). They join the buffer in
// order with Send's.
func (w *writer) WriteRaw(p []byte) error {
	w.counts.countRaw(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.be.Send(encoded(p))
	return nil
}

// encoded is backend messages already encoded: Encode appends them as they are.
type encoded []byte

func (e encoded) Decode([]byte) error               { return errors.New("encoded messages are only sent") }
func (e encoded) Encode(dst []byte) ([]byte, error) { return append(dst, e...), nil }
func (e encoded) Backend()                          {}

// errClientGone is a connection that ended because its client left: nothing to log.
var errClientGone = errors.New("client went away")
