package proxy

import (
	"context"
	"fmt"
	"log"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// conn is one client connection: the protocol state machine (startup.go, simple_query.go,
// extended_query.go).
type conn struct {
	srv     *Server
	raw     net.Conn // as accepted
	nc      net.Conn // raw, or the TLS connection over it
	be      *pgproto3.Backend
	pid     uint32
	secret  uint32
	user    string
	sess    Session
	refused bool // over MaxConnections: answered 53300 at its StartupMessage
	started bool // authenticated (guarded by srv.mu)

	txStatus byte              // 'I' idle, 'T' in a transaction block, 'E' in a failed one
	settings map[string]string // SET/SHOW values, by lower-case name

	stmts   map[string]*prepared
	portals map[string]*portal

	mu      sync.Mutex
	running context.CancelCauseFunc // cancels the statement in progress
}

func (c *conn) close() {
	if c.sess != nil {
		c.sess.Close()
	}
	c.nc.Close()
}

// run handles the connection from startup to Terminate.
func (c *conn) run() error {
	ok, err := c.startup()
	if err != nil || !ok {
		return err
	}
	c.srv.authenticated(c)
	c.txStatus = 'I'
	c.stmts, c.portals = map[string]*prepared{}, map[string]*portal{}
	c.ready()
	skipToSync := false
	for {
		if err := c.be.Flush(); err != nil {
			return errClientGone
		}
		msg, err := c.be.Receive()
		if err != nil {
			if gone(err) {
				return errClientGone
			}
			c.sendError(protocolError(err))
			c.be.Flush()
			return err
		}
		if skipToSync {
			switch msg.(type) {
			case *pgproto3.Sync:
				skipToSync = false
				c.ready()
			case *pgproto3.Terminate:
				return nil
			}
			continue
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			if err := c.guard(func() error { c.simpleQuery(m.String); return nil }); err != nil {
				c.fail(err)
			}
			c.ready()
		case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
			if err := c.guard(func() error { return c.extended(msg) }); err != nil {
				c.fail(err)
				skipToSync = true
			}
		case *pgproto3.Sync:
			delete(c.portals, "")
			c.ready()
		case *pgproto3.Flush:
		case *pgproto3.Terminate:
			return nil
		default:
			c.sendError(protocolError(fmt.Errorf("unexpected message %T", msg)))
		}
	}
}

// fail reports a statement's error; a transaction block it ran in is failed.
func (c *conn) fail(err error) {
	c.sendError(err)
	if c.txStatus == 'T' {
		c.txStatus = 'E'
	}
}

// guard runs one message's handler; a panic in it (the proxy's or a backend's) becomes the
// message's XX000 error, logged with its stack, and the connection goes on.
func (c *conn) guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(c.pid, r)
		}
	}()
	return f()
}

// panicError logs a recovered panic with its stack and returns the client's XX000 error.
func panicError(pid uint32, r any) error {
	log.Printf("wasql: postgres connection %d: panic: %v\n%s", pid, r, debug.Stack())
	return sqlError("XX000", fmt.Sprintf("internal error: %v", r))
}

func (c *conn) ready() { c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus}) }

var (
	errUserCancel       = &pgError{code: "57014", msg: "canceling statement due to user request"}
	errStatementTimeout = &pgError{code: "57014", msg: "canceling statement due to statement timeout"}
	errShutdown         = &pgError{code: "57P01", msg: "terminating connection due to administrator command"}
)

// statementContext returns the context of one statement, which CancelRequest cancels, Close
// cancels, and statement_timeout bounds. It carries the session's settings (Setting).
func (c *conn) statementContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.WithValue(c.srv.ctx, settingsKey{}, c.settings))
	stopTimer := func() {}
	if ms, err := parseMillis(c.settings["statement_timeout"]); err == nil && ms > 0 {
		ctx, stopTimer = context.WithTimeoutCause(ctx, time.Duration(ms)*time.Millisecond, errStatementTimeout)
	}
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.running = nil
		c.mu.Unlock()
		stopTimer()
		cancel(nil)
	}
}

// interrupted returns the reason a statement's error is reported with: when its context ended
// (CancelRequest, statement_timeout, Close), that cause whatever error the backend returned
// (a lock wait's "context canceled", a guest's trap).
func interrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return context.Cause(ctx)
}

func (c *conn) cancelRunning() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		c.running(errUserCancel)
	}
}

// txControl reports how a statement changes the transaction status.
func txControl(q string) string {
	f := strings.Fields(strings.ToLower(strings.TrimRight(strings.TrimSpace(q), ";")))
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "begin", "start":
		return "begin"
	case "commit", "end":
		return "commit"
	case "rollback", "abort":
		return "rollback"
	}
	return ""
}
