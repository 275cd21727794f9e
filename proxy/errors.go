package proxy

import (
	"errors"
	"regexp"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/sqlstate"
)

// pgError is an error that already knows its SQLSTATE.
type pgError struct{ code, msg string }

func (e *pgError) Error() string    { return e.msg }
func (e *pgError) SQLState() string { return e.code }

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
// carries, else one derived from the engine's error kinds. A client-caused error is never XX000.
func toErrorResponse(err error) *pgproto3.ErrorResponse {
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
	}
	if code == sqlstate.InternalError {
		code = fromEngine(err)
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
	return &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: msg, Detail: detail}
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
