package proxy

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/internal/wiretext"
)

// pgError is an error that already knows its SQLSTATE (and maybe a hint).
type pgError struct{ code, msg, hint string }

func (e *pgError) Error() string    { return e.msg }
func (e *pgError) SQLState() string { return e.code }
func (e *pgError) SQLHint() string  { return e.hint }

func sqlError(code, msg string) error { return &pgError{code: code, msg: msg} }

func protocolError(err error) error { return &pgError{code: "08P01", msg: err.Error()} }

var (
	errUserCancel = &pgError{code: "57014", msg: "canceling statement due to user request"}
	errShutdown   = &pgError{code: "57P01", msg: "terminating connection due to administrator command"}
)

// toErrorResponse is the one place where errors become ErrorResponse. A *pgconn.PgError (an
// upstream PostgreSQL's) keeps every field as it is. Other errors get the SQLSTATE they carry
// (XX000 included), else 42000: an error that does not say is the client's statement, never
// XX000. A context's end anywhere in the chain is 57014, as PostgreSQL reports a cancel or a
// statement timeout. Every text field is sanitized (sanitize): the backend's words (a guest's
// included) cannot forge fields.
func toErrorResponse(err error) *pgproto3.ErrorResponse {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return PgErrorResponse(pe)
	}
	code := "42000"
	var carrier sqlstate.Carrier
	if errors.As(err, &carrier) {
		code = carrier.SQLState()
	}
	msg := err.Error()
	if !strings.HasPrefix(code, "57") { // a cancel that says why keeps its words
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			code, msg = "57014", "canceling statement due to statement timeout"
		case errors.Is(err, context.Canceled):
			code, msg = errUserCancel.code, errUserCancel.msg
		}
	}
	var detail string
	var ud interface{ DetailText() string }
	if errors.As(err, &ud) {
		detail = ud.DetailText()
	}
	var where string
	var uw interface{ WhereText() string }
	if errors.As(err, &uw) {
		where = uw.WhereText()
	}
	e := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: msg,
		Detail: detail, Hint: sqlstate.Hint(err), Where: where}
	sanitize(e)
	return e
}

// PgErrorResponse is the ErrorResponse a PgError was decoded from, every field as it came.
func PgErrorResponse(pe *pgconn.PgError) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: pe.Severity, SeverityUnlocalized: pe.SeverityUnlocalized, Code: pe.Code,
		Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint, Position: pe.Position, InternalPosition: pe.InternalPosition,
		InternalQuery: pe.InternalQuery, Where: pe.Where, SchemaName: pe.SchemaName, TableName: pe.TableName,
		ColumnName: pe.ColumnName, DataTypeName: pe.DataTypeName, ConstraintName: pe.ConstraintName, File: pe.File,
		Line: pe.Line, Routine: pe.Routine}
}

// fatalResponse is the ErrorResponse of err with severity FATAL; a PgError's as it is.
func fatalResponse(err error) *pgproto3.ErrorResponse {
	e := toErrorResponse(err)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		e.Severity, e.SeverityUnlocalized = "FATAL", "FATAL"
	}
	return e
}

// Bounds of an ErrorResponse's text fields, in bytes.
const (
	maxMessageText = wiretext.MaxGuest
	maxDetailText  = 4 * wiretext.MaxGuest
	maxFieldText   = 256 // names: schema, table, column, constraint, routine, file
)

var sqlstateRe = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// sanitize makes every text field of e safe for the wire (wiretext.Clean: no NUL that would end
// a field early and let the rest forge fields, valid UTF-8, bounded) and its code a SQLSTATE.
// A NoticeResponse is sanitized the same way: sanitize((*pgproto3.ErrorResponse)(notice)).
func sanitize(e *pgproto3.ErrorResponse) {
	if !sqlstateRe.MatchString(e.Code) {
		e.Code = sqlstate.InternalError // a code no SQLSTATE: a bug of whoever made it
	}
	e.Severity = wiretext.Clean(e.Severity, maxFieldText)
	e.SeverityUnlocalized = wiretext.Clean(e.SeverityUnlocalized, maxFieldText)
	e.Message = wiretext.Clean(e.Message, maxMessageText)
	e.Detail = wiretext.Clean(e.Detail, maxDetailText)
	e.Hint = wiretext.Clean(e.Hint, maxMessageText)
	e.Where = wiretext.Clean(e.Where, maxDetailText)
	e.InternalQuery = wiretext.Clean(e.InternalQuery, maxDetailText)
	for _, f := range []*string{&e.SchemaName, &e.TableName, &e.ColumnName, &e.DataTypeName, &e.ConstraintName, &e.File, &e.Routine} {
		*f = wiretext.Clean(*f, maxFieldText)
	}
	for k, v := range e.UnknownFields {
		if k == 0 {
			delete(e.UnknownFields, k)
			continue
		}
		e.UnknownFields[k] = wiretext.Clean(v, maxFieldText)
	}
}
