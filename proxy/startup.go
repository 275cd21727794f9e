package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startup negotiates TLS, authenticates and sends the session parameters. It returns false
// (and no error) for connections that end after startup: cancel requests, refused GSSAPI,
// failed authentication. All of startup runs under one deadline (Config.AuthTimeout, so a
// client sending a byte at a time is cut off too) and with messages bounded by
// MaxStartupMessageBytes; both are lifted once the client is authenticated.
func (c *conn) startup() (bool, error) {
	c.nc.SetDeadline(time.Now().Add(c.srv.cfg.AuthTimeout))
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
	c.be = pgproto3.NewBackend(nc, nc)
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

// authenticate runs SCRAM-SHA-256 for the StartupMessage's user and opens its session. An
// unknown user goes through the same exchange, with the same work and the same failure, as a
// known user with a wrong password: the wire does not tell which users exist.
func (c *conn) authenticate(m *pgproto3.StartupMessage) (bool, error) {
	if c.refused {
		return c.fatal(errTooManyClients)
	}
	user, db := m.Parameters["user"], m.Parameters["database"]
	if db == "" {
		db = user
	}
	if len(c.srv.cfg.Users) == 0 {
		if !isLoopback(c.nc.RemoteAddr()) {
			return c.fatal(sqlError("28000", "no users are configured: only loopback connections are trusted"))
		}
	} else {
		decoy := c.srv.decoy(user) // computed for known users too: the same work either way
		v, known := c.srv.cfg.Users[user]
		if !known {
			v = decoy
		}
		err := scram(c.be, v)
		if err == nil && !known {
			err = errAuthFailed
		}
		var tooLong *pgproto3.ExceededMaxBodyLenErr
		switch {
		case errors.Is(err, errAuthFailed):
			return c.fatal(sqlError("28P01", fmt.Sprintf("password authentication failed for user %q", user)))
		case errors.Is(err, errProtocol), errors.As(err, &tooLong):
			return c.fatal(protocolError(err))
		case gone(err):
			return false, errClientGone
		case err != nil:
			return false, fmt.Errorf("SCRAM authentication: %w", err)
		}
	}
	settings := defaultSettings(c.srv.cfg.ServerVersion, user, m.Parameters["application_name"])
	if err := startupSettings(settings, m.Parameters); err != nil {
		return c.fatal(err)
	}
	c.be.Send(&pgproto3.AuthenticationOk{})
	sess, err := c.srv.backend.Open(c.srv.ctx, user, db, c.pid)
	if err != nil {
		return c.fatal(err)
	}
	c.sess, c.user = sess, user
	c.secret = newSecret()
	c.settings = settings
	for name := range reported {
		c.report(name)
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: beUint32(c.secret)})
	return true, nil
}

// startupSettings applies the settings a client sets at startup, as parameters of the
// StartupMessage (pgx's RuntimeParams) or as "-c name=value" in options (PGOPTIONS): those the
// proxy enforces (statement_timeout), checked as SET checks them. Others are ignored, as before.
func startupSettings(settings map[string]string, params map[string]string) error {
	given := map[string]string{}
	for name, v := range params {
		given[strings.ToLower(name)] = v
	}
	f := strings.Fields(params["options"])
	for i := 0; i < len(f); i++ {
		kv := ""
		switch {
		case f[i] == "-c" && i+1 < len(f):
			i++
			kv = f[i]
		case strings.HasPrefix(f[i], "-c"):
			kv = f[i][2:]
		case strings.HasPrefix(f[i], "--"):
			kv = f[i][2:]
		}
		if name, v, ok := strings.Cut(kv, "="); ok {
			given[strings.ToLower(strings.ReplaceAll(name, "-", "_"))] = v
		}
	}
	for name := range timeSettings {
		if v, ok := given[name]; ok {
			norm, err := checkSetting(name, v)
			if err != nil {
				return err
			}
			settings[name] = norm
		}
	}
	return nil
}

func beUint32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
