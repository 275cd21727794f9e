package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startup negotiates TLS, authenticates, opens the session and sends its parameters. It returns false
// (and no error) for connections that end after startup: cancel requests, refused GSSAPI,
// failed authentication. All of startup runs under one deadline (Config.AuthTimeout, so a
// client sending a byte at a time is cut off too) and with messages bounded by
// MaxStartupMessageBytes; both are lifted once the client is authenticated.
func (c *conn) startup() (bool, error) {
	c.deadline = time.Now().Add(c.srv.cfg.AuthTimeout)
	c.nc.SetDeadline(c.deadline)
	c.setBackend(c.nc)
	ok, err := c.negotiate()
	if err != nil || !ok {
		if gone(err) {
			return false, errClientGone
		}
		return false, err
	}
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return false, errClientGone
	}
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageBytes)
	return true, nil
}

func (c *conn) setBackend(nc net.Conn) {
	c.be = pgproto3.NewBackend(idleReader{c, nc}, nc)
	c.be.SetMaxBodyLen(MaxStartupMessageBytes)
}

// gone reports errors that mean the client left, reset the connection or ran out of time (any
// error of the socket itself): nothing to log, nothing to answer.
func gone(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne)
}

func (c *conn) negotiate() (bool, error) {
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if gone(err) {
				return false, errClientGone
			}
			return c.fatal(protocolError(err))
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
			c.setBackend(tc)
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
			return c.fatal(protocolError(fmt.Errorf("unexpected startup message %T", msg)))
		}
	}
}

// fatal answers err as a FATAL ErrorResponse; the connection then ends.
func (c *conn) fatal(err error) (bool, error) {
	c.be.Send(fatalResponse(err))
	c.be.Flush()
	return false, nil
}

// authenticate checks the client's password (SCRAM-SHA-256 against Config.Users, trust on
// loopback when there are none, or nothing with Config.PassThroughAuth: Open checks it), opens
// its session and sends what a client gets at the end of startup. An unknown user goes through
// the same SCRAM exchange, with the same work and the same failure, as a known user with a wrong
// password: the wire does not tell which users exist.
func (c *conn) authenticate(m *pgproto3.StartupMessage) (bool, error) {
	if c.refused {
		return c.fatal(errTooManyClients)
	}
	client := Client{User: m.Parameters["user"], Database: m.Parameters["database"], Params: maps.Clone(m.Parameters), PID: c.pid}
	if client.Database == "" {
		client.Database = client.User
	}
	var err error
	switch {
	case c.srv.cfg.PassThroughAuth:
		if !c.private() {
			return c.fatal(sqlError("28000", "the password passes through to the backend in clear: connect with TLS (sslmode=require) or over loopback"))
		}
		client.Password, err = cleartext(c.be)
	case len(c.srv.cfg.Users) == 0:
		if !isLoopback(c.nc.RemoteAddr()) {
			return c.fatal(sqlError("28000", "no users are configured: only loopback connections are trusted"))
		}
	default:
		decoy := c.srv.decoy(client.User) // computed for known users too: the same work either way
		v, known := c.srv.cfg.Users[client.User]
		if !known {
			v = decoy
		}
		err = scram(c.be, v)
		if err == nil && !known {
			err = errAuthFailed
		}
	}
	var tooLong *pgproto3.ExceededMaxBodyLenErr
	switch {
	case errors.Is(err, errAuthFailed):
		return c.fatal(sqlError("28P01", fmt.Sprintf("password authentication failed for user %q", client.User)))
	case errors.Is(err, errProtocol), errors.As(err, &tooLong):
		return c.fatal(protocolError(err))
	case gone(err):
		return false, errClientGone
	case err != nil:
		return false, fmt.Errorf("authentication: %w", err)
	}
	return c.open(client)
}

// open opens the client's session in the backend, within the startup's deadline, and sends
// AuthenticationOk, the session's parameters, the cancel key and ReadyForQuery.
func (c *conn) open(client Client) (bool, error) {
	c.out = &writer{be: c.be, counts: &c.srv.counts}
	client.Out = c.out
	client.Hangup = func() {
		c.out.Flush()
		c.nc.Close() // the connection goroutine's Receive fails: it closes the session
	}
	ctx, cancel := context.WithDeadline(c.srv.ctx, c.deadline)
	sess, err := c.srv.backend.Open(ctx, client)
	cancel()
	if err != nil {
		return c.fatal(err)
	}
	c.sess = sess
	if p, ok := sess.(Process); ok {
		c.pid = p.ProcessID()
	}
	c.secret = newSecret()
	c.out.Send(&pgproto3.AuthenticationOk{})
	for _, p := range sess.Parameters() {
		c.out.Send(&p)
	}
	c.out.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: beUint32(c.secret)})
	c.out.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return true, nil
}

// private reports whether what the client sends cannot be read on the way: TLS, or loopback.
func (c *conn) private() bool {
	_, isTLS := c.nc.(*tls.Conn)
	return isTLS || isLoopback(c.nc.RemoteAddr())
}

func beUint32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// idleReader reads the client's bytes for pgproto3, which reads only when it has no whole
// message left: first it tells an Idler session that the client has sent nothing more yet.
type idleReader struct {
	c  *conn
	nc net.Conn
}

func (r idleReader) Read(p []byte) (int, error) {
	if i, ok := r.c.sess.(Idler); ok {
		i.Idle()
	}
	return r.nc.Read(p)
}
