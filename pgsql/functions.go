package pgsql

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Function returns the run-time half of a translation: the functions translated statements
// call where Postgres and MySQL semantics differ.
func Function(name string) (sql.Function, bool) {
	switch name {
	case "pg_div":
		return sql.Function2{Name: name, Fn: func(l, r sql.Expression) sql.Expression {
			return &strict{name: name, args: []sql.Expression{l, r}, typ: divType, eval: divide}
		}}, true
	case "pg_bool":
		return sql.Function1{Name: name, Fn: func(e sql.Expression) sql.Expression {
			return &strict{name: name, args: []sql.Expression{e}, typ: func([]sql.Expression) sql.Type { return types.Boolean }, eval: toBool}
		}}, true
	}
	return nil, false
}

// divType: integer / integer is an integer in Postgres (5 / 2 = 2), anything else divides as
// the engine does.
func divType(args []sql.Expression) sql.Type {
	if types.IsInteger(args[0].Type()) && types.IsInteger(args[1].Type()) {
		return types.Int64
	}
	return expression.NewDiv(args[0], args[1]).Type()
}

var errDivisionByZero = &Error{Code: "22012", Msg: "division by zero"}

func divide(ctx *sql.Context, e *strict, vals []any) (any, error) {
	if types.IsInteger(e.args[0].Type()) && types.IsInteger(e.args[1].Type()) {
		l, _, err := types.Int64.Convert(ctx, vals[0])
		if err != nil {
			return nil, err
		}
		r, _, err := types.Int64.Convert(ctx, vals[1])
		if err != nil {
			return nil, err
		}
		if r.(int64) == 0 {
			return nil, errDivisionByZero
		}
		return l.(int64) / r.(int64), nil
	}
	r, _, err := types.Float64.Convert(ctx, vals[1])
	if err == nil && r.(float64) == 0 {
		return nil, errDivisionByZero
	}
	return expression.NewDiv(expression.NewLiteral(vals[0], e.args[0].Type()), expression.NewLiteral(vals[1], e.args[1].Type())).Eval(ctx, nil)
}

func toBool(_ *sql.Context, _ *strict, vals []any) (any, error) {
	switch v := vals[0].(type) {
	case bool:
		return v, nil
	case string:
		b, ok := ParseBool(v)
		if !ok {
			return nil, &Error{Code: "22P02", Msg: fmt.Sprintf("invalid input syntax for type boolean: %q", v)}
		}
		return b, nil
	}
	f, _, err := types.Float64.Convert(nil, vals[0])
	if err != nil {
		return nil, err
	}
	return f.(float64) != 0, nil
}

// strict is a function that returns NULL when an argument is NULL and otherwise eval's result.
type strict struct {
	name string
	args []sql.Expression
	typ  func([]sql.Expression) sql.Type
	eval func(*sql.Context, *strict, []any) (any, error)
}

var _ sql.FunctionExpression = (*strict)(nil)

// FunctionName implements the interface sql.FunctionExpression.
func (f *strict) FunctionName() string { return f.name }

// Description implements the interface sql.FunctionExpression.
func (f *strict) Description() string { return "Postgres semantics for a translated statement" }

// Resolved implements the interface sql.Expression.
func (f *strict) Resolved() bool { return expression.ExpressionsResolved(f.args...) }

// String implements the interface sql.Expression.
func (f *strict) String() string {
	args := make([]string, len(f.args))
	for i, a := range f.args {
		args[i] = a.String()
	}
	return f.name + "(" + strings.Join(args, ", ") + ")"
}

// Type implements the interface sql.Expression.
func (f *strict) Type() sql.Type { return f.typ(f.args) }

// IsNullable implements the interface sql.Expression.
func (f *strict) IsNullable() bool { return true }

// Children implements the interface sql.Expression.
func (f *strict) Children() []sql.Expression { return f.args }

// WithChildren implements the interface sql.Expression.
func (f *strict) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(f.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(children), len(f.args))
	}
	c := *f
	c.args = children
	return &c, nil
}

// Eval implements the interface sql.Expression.
func (f *strict) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	vals := make([]any, len(f.args))
	for i, a := range f.args {
		v, err := a.Eval(ctx, row)
		if err != nil || v == nil {
			return nil, err
		}
		vals[i] = v
	}
	return f.eval(ctx, f, vals)
}
