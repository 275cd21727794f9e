package proxy

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Backend answers the statements of the Postgres wire. The seam is the protocol itself: a
// session gets the client's messages as they came (raw parameter bytes with their format codes
// and type OIDs, named statements and portals, COPY data) and sends the client backend messages
// (full RowDescription, raw DataRow values, PortalSuspended, every ErrorResponse field, notices,
// notifications, ParameterStatus, and ReadyForQuery with the backend's own transaction status).
// So a backend that is itself PostgreSQL (proxy/upstream) loses nothing. A backend that runs one
// statement at a time on Go values (the embedded engine) implements Executor instead, and
// ExecutorSession gives it the protocol.
type Backend interface {
	// Open starts the session of a client whose startup the server accepted. The session writes
	// to c.Out. An error ends the connection with a FATAL ErrorResponse made from it (a
	// *pgconn.PgError in its chain, an upstream's own answer, is sent with every field as it
	// is: *pgproto3.ErrorResponse is no error): a backend that checks the password itself
	// (Config.PassThroughAuth) reports a wrong one this way, with the upstream's 28P01. ctx
	// bounds the opening (it ends with the startup's deadline, Config.AuthTimeout, or when the
	// server closes), not the session.
	Open(ctx context.Context, c Client) (Session, error)
}

// Client is a connection at the end of its startup.
type Client struct {
	User     string
	Database string
	Params   map[string]string // every parameter of the StartupMessage, user and database included
	Password string            // the client's password: only with Config.PassThroughAuth
	PID      uint32            // the process id the client is given (BackendKeyData), unless the session is a Process
	Out      Writer
	// Hangup closes the client's connection once what was sent is flushed: a session whose
	// backend is gone (an upstream connection lost) ends it so, from any goroutine. Handle is
	// not called again; Close is.
	Hangup func()
}

// Writer sends backend messages to the client. It is safe for concurrent use: a session may
// write from its own goroutines (a NotificationResponse while the client is idle). Messages are
// buffered until Flush.
type Writer interface {
	Send(msg pgproto3.BackendMessage)
	Flush() error
}

// Session is one client connection in a backend.
type Session interface {
	// Parameters are the ParameterStatus messages the client gets after AuthenticationOk.
	Parameters() []pgproto3.ParameterStatus
	// Handle is given each message the client sends after startup, in order: Query, Parse, Bind,
	// Describe, Execute, Close, Sync, Flush, CopyData, CopyDone, CopyFail and FunctionCall
	// (Terminate the server handles). The session answers through Client.Out, at once or later (a
	// pipelining backend answers when its server does), and flushes Out when the client waits for
	// an answer. An error means the connection cannot go on: the server sends it FATAL and closes.
	// msg, and the slices it holds, are valid until Handle returns (pgproto3 reuses them): a
	// session that keeps one copies it. ctx ends when the server closes (57P01).
	Handle(ctx context.Context, msg pgproto3.FrontendMessage) error
	// Cancel cancels the statement in progress, if any (a CancelRequest with the client's key).
	// It is called from another goroutine.
	Cancel()
	// Close ends the session. It is called once, from the goroutine that calls Handle.
	Close() error
}

// Idler is implemented by a Session that holds back what the client sent (proxy/upstream buffers
// the messages it writes upstream until one needs an answer): the server calls Idle when it has
// handed the session every message the client has sent so far and is about to wait for more,
// from the goroutine that calls Handle, so that a client's pause is its backend's pause too (a
// Parse reaches PostgreSQL, and starts its statement_timeout, when the client sent it). An error
// is the session's to report at the next Handle.
type Idler interface {
	Idle()
}

// Process is implemented by a Session that is a backend process of its own (an upstream
// PostgreSQL's, pinned to the client): the client is given its process id in BackendKeyData,
// so that what the client does with its pid (pg_terminate_backend, pg_stat_activity, a
// notification's sender) names its own backend. The cancel key stays the server's: a
// CancelRequest comes to the server, which calls Cancel.
type Process interface {
	ProcessID() uint32
}

// Executor is a backend that runs one statement at a time on Go values: the embedded engine.
// ExecutorSession gives it the protocol. Its methods are called from one goroutine, one at a
// time.
type Executor interface {
	// Execute runs one statement with its parameters ($1... as Go values: nil, int64, float64,
	// bool, string, []byte, time.Time, TimestampTZ, Numeric) and returns its result. ctx ends
	// when the client cancels the statement (Session.Cancel) or the server closes.
	Execute(ctx context.Context, query string, params []any) (Result, error)
	// Describe returns the result columns a statement would produce (nil for statements that
	// return no rows) and the types it infers for its parameters $1..$nparams (0 where it
	// cannot tell, ParamUndetermined where nothing can), without running it.
	Describe(ctx context.Context, query string, nparams int) ([]Column, []uint32, error)
	// TxStatus is the transaction status after the last statement: 'I' idle, 'T' in a
	// transaction block, 'E' in a failed one (ReadyForQuery).
	TxStatus() byte
	// Failed tells the executor that the session reported an error, its own or the protocol's
	// (a parameter that does not decode, a portal that does not exist): a transaction block in
	// progress fails, as PostgreSQL fails it on any error.
	Failed()
	// Parameters are the ParameterStatus messages the client gets after AuthenticationOk.
	Parameters() []pgproto3.ParameterStatus
	// Close ends the session.
	Close() error
}

// Result is a statement's outcome: rows to stream, or only a command tag.
type Result interface {
	// Columns describes the rows; nil for statements without rows.
	Columns() []Column
	// Next returns the next row, or nil at the end.
	Next(ctx context.Context) ([]any, error)
	// Tag is the CommandComplete tag, valid after the last row (e.g. "SELECT 3", "INSERT 0 1").
	Tag() string
	// Close releases the result.
	Close() error
}

// Column describes one result column.
type Column struct {
	Name string
	OID  uint32 // Postgres type OID
	Size int16  // typlen: -1 for variable width
}

// Notice is a message for the client that is not an error (a NoticeResponse).
type Notice struct {
	Severity string // NOTICE or WARNING
	Code     string // SQLSTATE: 00000 for a notice, 01000 for a warning
	Message  string
}

// Noticer is implemented by a Result that has notices for the client. They are sent before the
// statement's CommandComplete.
type Noticer interface {
	// Notices returns the statement's notices, valid after the last row.
	Notices() []Notice
}

// Reporter is implemented by a Result whose statement changed settings the client is told of
// (SET application_name, SET TimeZone): their ParameterStatus messages are sent before the
// statement's CommandComplete.
type Reporter interface {
	// Reports returns the ParameterStatus messages, valid after the last row.
	Reports() []pgproto3.ParameterStatus
}
