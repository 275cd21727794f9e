package proxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// conn is one client connection: the protocol state machine (startup.go, simple_query.go,
// extended_query.go).
type conn struct {
	srv    *Server
	nc     net.Conn
	be     *pgproto3.Backend
	pid    uint32
	secret uint32
	user   string
	sess   Session

	txStatus byte              // 'I' idle, 'T' in a transaction block, 'E' in a failed one
	settings map[string]string // SET/SHOW values, by lower-case name

	stmts   map[string]*prepared
	portals map[string]*portal

	mu      sync.Mutex
	running context.CancelFunc // cancels the statement in progress
}

func (c *conn) close() {
	c.srv.unregister(c)
	if c.sess != nil {
		c.sess.Close()
	}
	c.nc.Close()
}

// run handles the connection from startup to Terminate.
func (c *conn) run() error {
	c.be = pgproto3.NewBackend(c.nc, c.nc)
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageBytes)
	ok, err := c.startup()
	if err != nil || !ok {
		return err
	}
	c.srv.register(c)
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
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
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
			c.simpleQuery(m.String)
			c.ready()
		case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
			if err := c.extended(msg); err != nil {
				c.sendError(err)
				if c.txStatus == 'T' {
					c.txStatus = 'E'
				}
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

func (c *conn) ready() { c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus}) }

// statementContext returns the context of one statement, which CancelRequest cancels. It
// carries the session's settings (Setting).
func (c *conn) statementContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), settingsKey{}, c.settings))
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.running = nil
		c.mu.Unlock()
		cancel()
	}
}

func (c *conn) cancelRunning() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		c.running()
	}
}

// startup negotiates TLS, authenticates and sends the session parameters. It returns false
// (and no error) for connections that end after startup: cancel requests, refused GSSAPI.
func (c *conn) startup() (bool, error) {
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			return false, errClientGone
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false, errClientGone
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false, errClientGone
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				return false, fmt.Errorf("TLS handshake: %w", err)
			}
			c.nc = tc
			c.be = pgproto3.NewBackend(tc, tc)
			c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageBytes)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, errClientGone
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			return c.authenticate(m)
		default:
			return false, fmt.Errorf("%w: unexpected startup message %T", errProtocol, msg)
		}
	}
}

func (c *conn) authenticate(m *pgproto3.StartupMessage) (bool, error) {
	user, db := m.Parameters["user"], m.Parameters["database"]
	if db == "" {
		db = user
	}
	fatal := func(code, msg string) (bool, error) {
		c.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
		c.be.Flush()
		return false, nil
	}
	if len(c.srv.cfg.Users) == 0 {
		if !isLoopback(c.nc.RemoteAddr()) {
			return fatal("28000", "no users are configured: only loopback connections are trusted")
		}
	} else {
		v, ok := c.srv.cfg.Users[user]
		if !ok {
			v, _ = NewVerifier(string(randomBytes())) // same exchange for unknown users
		}
		if err := scram(c.be, v); err != nil {
			if errors.Is(err, errAuthFailed) || !ok {
				return fatal("28P01", fmt.Sprintf("password authentication failed for user %q", user))
			}
			return false, err
		}
	}
	c.be.Send(&pgproto3.AuthenticationOk{})
	sess, err := c.srv.backend.Open(context.Background(), user, db, c.pid)
	if err != nil {
		e := toErrorResponse(err)
		return fatal(e.Code, e.Message)
	}
	c.sess, c.user = sess, user
	c.secret = newSecret()
	c.settings = defaultSettings(c.srv.cfg.ServerVersion, user, m.Parameters["application_name"])
	for name := range reported {
		c.report(name)
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: beUint32(c.secret)})
	return true, nil
}

func beUint32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func randomBytes() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
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
