package proxy

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
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

var errInFailedTx = sqlError("25P02", "current transaction is aborted, commands ignored until end of transaction block")

func protocolError(err error) error { return &pgError{code: "08P01", msg: err.Error()} }

func (c *conn) sendError(err error) { c.be.Send(toErrorResponse(err)) }

var (
	mysqlSuffix = regexp.MustCompile(` \(errno \d+\) \(sqlstate [0-9A-Z]{5}\)$`)
	// Engine messages, reworded as Postgres words them.
	postgresWording = []struct {
		re   *regexp.Regexp
		msg  string
		code string
	}{
		{regexp.MustCompile(`^function: '([^']+)' not found`), `function $1 does not exist`, "42883"},
		{regexp.MustCompile(`^table not found: (\S+)$`), `relation "$1" does not exist`, "42P01"},
		{regexp.MustCompile(`^column "([^"]+)" could not be found in any table in scope$`), `column "$1" does not exist`, "42703"},
		{regexp.MustCompile(`^function '([^']+)' expected .* arguments, \d+ received$`), `function $1 with this number of arguments does not exist`, "42883"},
	}
)

// toErrorResponse is the one place where errors become ErrorResponse: the SQLSTATE the error
// carries (XX000 included), else one derived from the engine's error kinds; a context's end
// anywhere in the chain is 57014, as PostgreSQL reports a cancel or a statement timeout. A
// client-caused error is never XX000. Every text field is sanitized (sanitize).
func toErrorResponse(err error) *pgproto3.ErrorResponse {
	var carrier sqlstate.Carrier
	carried := errors.As(err, &carrier)
	code := sqlstate.Of(err)
	msg := err.Error()
	var me *mysql.SQLError
	if errors.As(err, &me) {
		msg = me.Message
		if len(me.State) == 5 && me.State != "HY000" && me.State != "42000" {
			code = me.State
		} else {
			code = fromMySQL(me.Num, msg)
		}
	} else if !carried {
		code = fromEngine(err)
	}
	if !strings.HasPrefix(code, "57") { // a cancel that says why keeps its words
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			code, msg = errStatementTimeout.code, errStatementTimeout.msg
		case errors.Is(err, context.Canceled):
			code, msg = errUserCancel.code, errUserCancel.msg
		}
	}
	msg = mysqlSuffix.ReplaceAllString(msg, "")
	for _, w := range postgresWording {
		if w.re.MatchString(msg) {
			msg, code = w.re.ReplaceAllString(msg, w.msg), w.code
			break
		}
	}
	var detail string
	var ud interface{ DetailText() string }
	if errors.As(err, &ud) {
		detail = ud.DetailText()
	}
	e := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: msg,
		Detail: detail, Hint: sqlstate.Hint(err)}
	sanitize(e)
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

// fromEngine classifies go-mysql-server errors.
func fromEngine(err error) string {
	err = sql.UnwrapError(err) // an INSERT's error comes wrapped with its row
	switch {
	case sql.ErrTableNotFound.Is(err):
		return "42P01"
	case sql.ErrColumnNotFound.Is(err):
		return "42703"
	case sql.ErrTableAlreadyExists.Is(err):
		return "42P07"
	case sql.ErrDatabaseNotFound.Is(err):
		return "3D000"
	case sql.ErrFunctionNotFound.Is(err):
		return "42883"
	case sql.ErrPrimaryKeyViolation.Is(err), sql.ErrUniqueKeyViolation.Is(err):
		return "23505"
	case sql.ErrInsertIntoNonNullableProvidedNull.Is(err):
		return "23502"
	case strings.Contains(err.Error(), "syntax error"):
		return "42601"
	}
	return "42000" // syntax_error_or_access_rule_violation: the client's statement, not the server
}

func fromMySQL(num int, msg string) string {
	switch num {
	case mysql.ERParseError, mysql.ERSyntaxError:
		return "42601"
	case mysql.ERNoSuchTable:
		return "42P01"
	case mysql.ERBadFieldError:
		return "42703"
	case mysql.ERDupEntry:
		return "23505"
	case mysql.ERQueryInterrupted:
		return "57014"
	case mysql.ERAccessDeniedError:
		return "28000"
	}
	if strings.Contains(msg, "syntax error") {
		return "42601"
	}
	return "42000"
}
