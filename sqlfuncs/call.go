package sqlfuncs

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// Call is a call of a wasm function in an expression. The analyzer rule lifts calls into
// BatchEval nodes; a Call left in place (under CASE, AND, OR, COALESCE, or where no batch node
// fits) evaluates row by row.
type Call struct {
	ov   *Overload
	args []sql.Expression
}

var _ sql.Expression = (*Call)(nil)
var _ sql.FunctionExpression = (*Call)(nil)
var _ sql.NonDeterministicExpression = (*Call)(nil)

// Resolved implements the interface sql.Expression.
func (c *Call) Resolved() bool {
	for _, a := range c.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}

// String implements the interface sql.Expression.
func (c *Call) String() string {
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = a.String()
	}
	return fmt.Sprintf("%s(%s)", c.ov.Def.Name, strings.Join(args, ", "))
}

// Type implements the interface sql.Expression.
func (c *Call) Type() sql.Type { return sqlType(c.ov.Result) }

// IsNullable implements the interface sql.Expression.
func (c *Call) IsNullable() bool { return true }

// Children implements the interface sql.Expression.
func (c *Call) Children() []sql.Expression { return c.args }

// WithChildren implements the interface sql.Expression.
func (c *Call) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(c.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), len(c.args))
	}
	return &Call{ov: c.ov, args: children}, nil
}

// ArgTypes are the declared argument types of the resolved overload.
func (c *Call) ArgTypes() []udf.Type { return c.ov.Args }

// FunctionName implements the interface sql.FunctionExpression.
func (c *Call) FunctionName() string { return c.ov.Def.Name }

// Description implements the interface sql.FunctionExpression.
func (c *Call) Description() string { return "wasm function " + c.ov.Def.Key().String() }

// IsNonDeterministic implements the interface sql.NonDeterministicExpression: only IMMUTABLE
// functions may be folded or reordered.
func (c *Call) IsNonDeterministic() bool { return c.ov.Def.Volatility != "IMMUTABLE" }

// Eval implements the interface sql.Expression: one row, one guest call.
func (c *Call) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	cols := make([]udf.Column, len(c.args))
	for k, a := range c.args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		cols[k] = udf.NewColumn(c.ov.Args[k], 1)
		if err := setValue(ctx, &cols[k], 0, v); err != nil {
			return nil, argumentError(c.ov, k, err)
		}
	}
	// A call inside a statement that already runs this function (a batch node above or beside
	// it) uses the statement's instance rather than waiting for another.
	st, release := statement(ctx)
	defer release()
	res, err := st.Session(c.ov.Fn).Eval(ctx, 1, cols...)
	if err != nil {
		return nil, wireErrorIn(ctx, err)
	}
	return value(&res, 0), nil
}

func argumentError(ov *Overload, k int, err error) error {
	return wireError(&ParseError{Code: sqlstate.InvalidParameterValue,
		Msg: fmt.Sprintf("%s: argument %d (%s): %v", ov.Def.Name, k+1, ov.Args[k], err)})
}

// wireErrorIn is wireError for an error of a statement running on ctx's session. A session of
// the MySQL wire (its client has capability flags) gets a *mysql.SQLError; any other caller (the
// Postgres wire, Go callers) gets err as it is, so the chain keeps the udf.Error with its
// SQLSTATE, hint and detail.
func wireErrorIn(ctx *sql.Context, err error) error {
	if err == nil || ctx == nil || ctx.Session == nil || ctx.Session.Client().Capabilities == 0 {
		return err
	}
	return wireError(err)
}

// wireError gives an error its SQLSTATE on the MySQL wire, which takes *mysql.SQLError as is.
func wireError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*mysql.SQLError); ok {
		return err
	}
	state := sqlstate.Of(err)
	num := mysql.ERUnknownError
	switch state {
	case "42883":
		num = mysql.ERSPDoesNotExist
	case "42723":
		num = 1304 // ER_SP_ALREADY_EXISTS
	case "57014":
		num = mysql.ERQueryInterrupted
	case "42601":
		num = mysql.ERParseError
	}
	msg := err.Error()
	if h := sqlstate.Hint(err); h != "" { // the MySQL wire has no field for a hint
		msg += " (HINT: " + h + ")"
	}
	return mysql.NewSQLError(num, state, "%s", msg)
}
