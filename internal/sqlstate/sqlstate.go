// Package sqlstate names the SQLSTATE codes wasql reports and finds the one an error carries.
// Errors attach their code where they are defined (by implementing SQLState); each wire
// translates once, with Of.
package sqlstate

import "errors"

// SQLSTATE codes used by wasql (PostgreSQL Appendix A).
const (
	FeatureNotSupported       = "0A000"
	NumericValueOutOfRange    = "22003"
	InvalidParameterValue     = "22023"
	CharacterNotInRepertoire  = "22021"
	ExternalRoutineException  = "38000"
	InvalidFunctionDefinition = "42P13"
	UndefinedFunction         = "42883"
	OutOfMemory               = "53200"
	ProgramLimitExceeded      = "54000"
	QueryCanceled             = "57014"
	InternalError             = "XX000"
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
