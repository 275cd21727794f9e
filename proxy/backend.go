package proxy

import "context"

// Backend runs the statements of the Postgres wire. The protocol code talks only to this
// interface: the embedded engine implements it today (engine.PGBackend), an upstream PostgreSQL
// later.
type Backend interface {
	// Open starts a session for user on database; pid is the backend process id the client was
	// given (pg_backend_pid()).
	Open(ctx context.Context, user, database string, pid uint32) (Session, error)
}

// Session is one client connection's state in the backend. It is used by one goroutine.
type Session interface {
	// Execute runs one statement with its parameters ($1... as Go values: nil, int64, float64,
	// bool, string, []byte) and returns its result.
	Execute(ctx context.Context, query string, params []any) (Result, error)
	// Describe returns the result columns a statement would produce (nil for statements that
	// return no rows) and the types it infers for its parameters $1..$nparams (0 where it
	// cannot tell), without running it.
	Describe(ctx context.Context, query string, nparams int) ([]Column, []uint32, error)
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
