// Package sqlstate names the SQLSTATE codes wasql reports and finds the one an error carries.
// Errors attach their code where they are defined (by implementing SQLState); each wire
// translates once, with Of.
package sqlstate

import "errors"

// SQLSTATE codes used by wasql (PostgreSQL Appendix A).
const (
	FeatureNotSupported        = "0A000"
	NumericValueOutOfRange     = "22003"
	InvalidParameterValue      = "22023"
	CharacterNotInRepertoire   = "22021"
	ExternalRoutineException   = "38000"
	InvalidFunctionDefinition  = "42P13"
	UndefinedFunction          = "42883"
	OutOfMemory                = "53200"
	ConfigurationLimitExceeded = "53400"
	ProgramLimitExceeded       = "54000"
	QueryCanceled              = "57014"
	InternalError              = "XX000"
)

// Carrier is implemented by errors that know their SQLSTATE.
type Carrier interface{ SQLState() string }

// Of returns the SQLSTATE of the first error in err's chain that carries one, or InternalError.
func Of(err error) string {
	var c Carrier
	if errors.As(err, &c) {
		return c.SQLState()
	}
	return InternalError
}

// Hinter is implemented by errors that carry a hint for the user (how to fix or raise a limit);
// the Postgres wire sends it as the ErrorResponse's Hint field.
type Hinter interface{ SQLHint() string }

// Hint returns the hint of the first error in err's chain that carries one, or "".
func Hint(err error) string {
	var h Hinter
	if errors.As(err, &h) {
		return h.SQLHint()
	}
	return ""
}
