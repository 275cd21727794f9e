package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
)

// Config configures the upstream backend.
type Config struct {
	// URL is the upstream PostgreSQL, as pgconn.ParseConfig reads it (postgres://user:pw@host/db
	// ?sslmode=...). TLS to the upstream follows its sslmode.
	URL string
	// PassThroughAuth logs each client in upstream with its own user and password (Startup.User
	// and Startup.Password), so the upstream checks them. Off, every upstream connection logs in
	// with the URL's user and password, and clients authenticate to wasql.
	PassThroughAuth bool
	// DialTimeout bounds Open, retries included (default 5 s).
	DialTimeout time.Duration
	// Registry holds the wasm functions: CREATE and DROP FUNCTION of wasm functions run against
	// it. Nil: no statement is wasql's, everything passes through.
	Registry *sqlfuncs.Registry
	// Stats, when set, hears of the functions each statement used, so that the statistics
	// written for wasql.functions (pgstore.Reporter) read those first.
	Stats *Stats
	// FlushStats, when set, is called before a statement that names wasql.functions goes
	// upstream (a Query, or the Bind of a statement Parsed with that text): it writes this
	// proxy's counters, so that the statement sees the calls made through this proxy up to it.
	// Its context bounds it to a couple of seconds.
	FlushStats func(context.Context)
}

// DefaultDialTimeout bounds connecting to the upstream when Config.DialTimeout is 0.
const DefaultDialTimeout = 5 * time.Second

// retryDelays are the pauses between connection attempts: a few hundred milliseconds in all, so
// a restarting upstream is waited for but a client never hangs.
var retryDelays = []time.Duration{25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}

// Backend opens upstream sessions for clients.
type Backend struct {
	aggState
	retired retirer
	cfg     Config
	pgcfg   *pgconn.Config
	names   atomic.Pointer[nameSet]
}

// New checks cfg and returns its backend. It does not connect.
func New(cfg Config) (*Backend, error) {
	pgcfg, err := pgconn.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("upstream URL: %w", err)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	b := &Backend{cfg: cfg, pgcfg: pgcfg}
	if cfg.Registry != nil {
		cfg.Registry.SetRetire(b.retired.retire) // running statements finish on the old version
	}
	return b, nil
}

// Startup is the client's side of a session: who it is and what its StartupMessage asked for.
type Startup struct {
	User     string
	Database string
	Params   map[string]string // every parameter of the StartupMessage
	Password string            // the client's password, with PassThroughAuth
	PID      uint32            // the process id the client was given
	Hangup   func()            // closes the client's connection (proxy.Client.Hangup); may be nil
}

// Writer sends backend messages to the client; it is safe for concurrent use and buffers
// messages until Flush (proxy.Writer has this shape).
type Writer interface {
	Send(msg pgproto3.BackendMessage)
	Flush() error
}

// RawWriter is implemented by a Writer that also takes messages already encoded: the session
// relays the upstream's bytes through it without decoding them. p holds one or more whole
// backend messages; WriteRaw copies (or writes) them before it returns, in order with Send, and
// its error is the client connection's (also reported by the next Flush).
type RawWriter interface {
	WriteRaw(p []byte) error
}

// OpenSession connects a session for the client s, writing to out. An error is a
// *pgconn.PgError the client gets as it is (FATAL): the upstream's own (a wrong password is its
// 28P01), or 08001 when the upstream cannot be reached.
func (b *Backend) OpenSession(ctx context.Context, s Startup, out Writer) (*Session, error) {
	cfg := b.pgcfg.Copy()
	if b.cfg.PassThroughAuth {
		cfg.User, cfg.Password = s.User, s.Password
	}
	if s.Database != "" {
		cfg.Database = s.Database
	}
	cfg.RuntimeParams = map[string]string{}
	for k, v := range b.pgcfg.RuntimeParams {
		cfg.RuntimeParams[k] = v
	}
	for k, v := range s.Params {
		switch k {
		case "user", "database", "replication":
		default:
			cfg.RuntimeParams[k] = v
		}
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.DialTimeout)
	defer cancel()
	pc, err := connect(ctx, cfg)
	if err != nil {
		return nil, connectError(err, cfg, s.Password)
	}
	hc, err := pc.Hijack()
	if err != nil {
		pc.Close(ctx)
		return nil, connectError(err, cfg, s.Password)
	}
	// The rebuilt PgConn is used only to send CancelRequests (TLS as the session's); the
	// session reads and writes the connection itself.
	cancelConn, err := pgconn.Construct(hc)
	if err != nil {
		hc.Conn.Close()
		return nil, connectError(err, cfg, s.Password)
	}
	return b.newSession(hc, cancelConn, s, out), nil
}

// connect dials the upstream, retrying failures to reach it (not its refusals) with a short
// backoff, within ctx.
func connect(ctx context.Context, cfg *pgconn.Config) (*pgconn.PgConn, error) {
	for attempt := 0; ; attempt++ {
		pc, err := pgconn.ConnectConfig(ctx, cfg)
		if err == nil {
			return pc, nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) || attempt >= len(retryDelays) || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(retryDelays[attempt])
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// connectError is the FATAL the client gets when its session cannot open: the upstream's own
// error with every field, or 08001 with the reason (never the password). Both are PgErrors, which
// proxy.Server sends with every field as they are.
func connectError(err error, cfg *pgconn.Config, password string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr
	}
	msg := err.Error()
	for _, pw := range []string{password, cfg.Password} {
		if pw != "" {
			msg = strings.ReplaceAll(msg, pw, "********")
		}
	}
	return &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08001",
		Message: "could not connect to the upstream PostgreSQL at " + net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)) + ": " + msg,
		Hint:    "check that the server given by --upstream is running and accepts connections"}
}

// parameters lists the upstream's ParameterStatus values, by name.
func parameters(m map[string]string) []pgproto3.ParameterStatus {
	out := make([]pgproto3.ParameterStatus, 0, len(m))
	for k, v := range m {
		out = append(out, pgproto3.ParameterStatus{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var noNames nameSet

// currentNames returns the wasm function names, rebuilt when the registry changed.
func (b *Backend) currentNames() *nameSet {
	reg := b.cfg.Registry
	if reg == nil {
		return &noNames
	}
	gen := reg.Generation()
	if ns := b.names.Load(); ns != nil && ns.gen == gen {
		return ns
	}
	names, gen := reg.Names()
	ns := newNameSet(gen, names)
	b.names.Store(ns)
	return ns
}

// Open implements the interface proxy.Backend: the session of a client whose startup
// proxy.Server accepted.
func (b *Backend) Open(ctx context.Context, c proxy.Client) (proxy.Session, error) {
	s, err := b.OpenSession(ctx, Startup{User: c.User, Database: c.Database, Params: c.Params, Password: c.Password, PID: c.PID, Hangup: c.Hangup}, c.Out)
	if err != nil {
		return nil, err
	}
	return s, nil
}

var (
	_ proxy.Backend = (*Backend)(nil)
	_ proxy.Session = (*Session)(nil)
	_ proxy.Process = (*Session)(nil)
)
