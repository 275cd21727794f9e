package embedded

import (
	"errors"
	"regexp"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/wasql/wasql/internal/sqlstate"
)

// pgEngineError is an error of the engine in PostgreSQL's words, with the SQLSTATE PostgreSQL
// gives it: what the Postgres wire sends. It wraps the engine's error (errors.Is and As see
// through it: a context's end, a hint, a detail).
type pgEngineError struct {
	code, msg string
	err       error
}

// Error implements the interface error.
func (e *pgEngineError) Error() string { return e.msg }

// SQLState implements the interface sqlstate.Carrier.
func (e *pgEngineError) SQLState() string { return e.code }

func (e *pgEngineError) Unwrap() error { return e.err }

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

// pgError is err as the Postgres wire reports it: the SQLSTATE it carries, else one derived
// from go-mysql-server's error kinds and MySQL error numbers; the engine's words reworded as
// PostgreSQL's where they differ. A client-caused error is never XX000.
func pgError(err error) error {
	if err == nil {
		return nil
	}
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
	msg = mysqlSuffix.ReplaceAllString(msg, "")
	for _, w := range postgresWording {
		if w.re.MatchString(msg) {
			msg, code = w.re.ReplaceAllString(msg, w.msg), w.code
			break
		}
	}
	return &pgEngineError{code: code, msg: msg, err: err}
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
	case sql.ErrForeignKeyChildViolation.Is(err), sql.ErrForeignKeyParentViolation.Is(err):
		return "23503"
	case sql.ErrCheckConstraintViolated.Is(err):
		return "23514"
	case sql.ErrLockDeadlock.Is(err):
		return "40001"
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
