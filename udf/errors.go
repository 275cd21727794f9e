package udf

import (
	"fmt"
	"strings"

	"github.com/wasql/wasql/internal/sqlstate"
)

// Kind classifies an Error.
type Kind uint8

// Kinds of errors, grouped by when they happen.
const (
	// At load (CREATE FUNCTION).
	KindInvalid     Kind = iota + 1 // the module or its signature is wrong
	KindUnsupported                 // the module needs a Wasm feature wasql does not enable
	KindTooLarge                    // the module is above the size limit, or its memory above the cap

	// At call time.
	KindTimeout     // the call ran past its time limit
	KindCanceled    // the caller's context was canceled
	KindFuel        // the call used up its fuel
	KindMemory      // the guest trapped at its memory cap
	KindTrap        // the guest trapped or exited
	KindRowError    // the guest reported an error for one row
	KindABI         // the guest broke the batch ABI
	KindResultLimit // the result was larger than allowed
	KindOutOfRange  // a value does not fit its SQL type
	KindEncoding    // a text result is not valid UTF-8
	KindOption      // a function option has a bad value
	KindBroken      // the function failed to load when the server started
)

// objectNotInPrerequisiteState is 55000: a function that failed to load cannot be called.
const objectNotInPrerequisiteState = "55000"

var kindCodes = map[Kind]string{
	KindInvalid:     sqlstate.InvalidFunctionDefinition,
	KindUnsupported: sqlstate.FeatureNotSupported,
	KindTooLarge:    sqlstate.ProgramLimitExceeded,
	KindTimeout:     sqlstate.QueryCanceled,
	KindCanceled:    sqlstate.QueryCanceled,
	KindFuel:        sqlstate.ProgramLimitExceeded,
	KindMemory:      sqlstate.OutOfMemory,
	KindTrap:        sqlstate.ExternalRoutineException,
	KindRowError:    sqlstate.ExternalRoutineException,
	KindABI:         sqlstate.ExternalRoutineException,
	KindResultLimit: sqlstate.ProgramLimitExceeded,
	KindOutOfRange:  sqlstate.NumericValueOutOfRange,
	KindEncoding:    sqlstate.CharacterNotInRepertoire,
	KindOption:      sqlstate.InvalidParameterValue,
	KindBroken:      objectNotInPrerequisiteState,
}

// Error is every error the runtime returns for a function: what went wrong, with the SQLSTATE a
// wire reports, and for call-time errors the row and input that caused it when known.
type Error struct {
	Kind     Kind
	Function string // the function's SQL name
	Row      int    // 0-based row index within the Eval call, -1 when not pinned to a row; messages print Row+1
	Input    string // the row's arguments, formatted, when Row >= 0
	Message  string
	Detail   string // guest output or a wasm stack trace, sanitized (wiretext.Clean)
	Hint     string // for a limit: which one, its value and how to raise it
	Err      error  // the underlying error, if any
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Kind.
var (
	ErrInvalid     = &Error{Kind: KindInvalid}
	ErrUnsupported = &Error{Kind: KindUnsupported}
	ErrTooLarge    = &Error{Kind: KindTooLarge}
	ErrTimeout     = &Error{Kind: KindTimeout}
	ErrCanceled    = &Error{Kind: KindCanceled}
	ErrFuel        = &Error{Kind: KindFuel}
	ErrMemory      = &Error{Kind: KindMemory}
	ErrTrap        = &Error{Kind: KindTrap}
	ErrRow         = &Error{Kind: KindRowError}
	ErrABI         = &Error{Kind: KindABI}
	ErrResultLimit = &Error{Kind: KindResultLimit}
	ErrOutOfRange  = &Error{Kind: KindOutOfRange}
	ErrEncoding    = &Error{Kind: KindEncoding}
	ErrOption      = &Error{Kind: KindOption}
	ErrBroken      = &Error{Kind: KindBroken}
)

func (e *Error) Error() string {
	var b strings.Builder
	if e.Function != "" {
		b.WriteString(e.Function)
		b.WriteString(": ")
	}
	switch {
	case e.Row >= 0 && e.Input != "":
		fmt.Fprintf(&b, "row %d (input %s): ", e.Row+1, e.Input)
	case e.Row >= 0:
		fmt.Fprintf(&b, "row %d: ", e.Row+1)
	}
	b.WriteString(e.Message)
	return b.String()
}

// SQLState implements sqlstate.Carrier.
func (e *Error) SQLState() string { return kindCodes[e.Kind] }

// SQLHint implements sqlstate.Hinter: for a limit error, how to raise the limit.
func (e *Error) SQLHint() string { return e.Hint }

// DetailText is the error's detail (guest output, a wasm stack trace), for the Postgres wire's
// Detail field.
func (e *Error) DetailText() string { return e.Detail }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Kind == e.Kind
}

func newError(kind Kind, fn string, format string, args ...any) *Error {
	return &Error{Kind: kind, Function: fn, Row: -1, Message: fmt.Sprintf(format, args...)}
}

// Broken is the error of calling a function that failed to load (at server start, or when
// another writer's change arrived): 55000, naming the function and the load error.
func Broken(fn string, loadErr error) *Error {
	return &Error{Kind: KindBroken, Function: fn, Row: -1,
		Message: "function is broken: it failed to load: " + loadErr.Error(),
		Hint:    "replace it with CREATE OR REPLACE FUNCTION, or drop it with DROP FUNCTION",
		Err:     loadErr}
}
