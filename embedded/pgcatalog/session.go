package pgcatalog

import (
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/embedded/pgsql"
)

// sessionFunctions are Postgres's session functions and the functions package pgsql's
// translations call where Postgres and MySQL semantics differ (pg_div, pg_bool).
var sessionFunctions = map[string]fn{
	"version": {min: 0, max: 0, typ: textType, eval: func(e *env, _ []any) (any, error) {
		return "PostgreSQL " + e.cat.src.ServerVersion + " (wasql) on x86_64-pc-linux-gnu, compiled by Go", nil
	}},
	"current_database": {min: 0, max: 0, typ: textType, eval: func(e *env, _ []any) (any, error) { return e.cat.src.Name, nil }},
	"current_schema":   constant(0, 0, textType, "public"),
	"current_user":     {min: 0, max: 0, typ: textType, eval: sessionUser},
	"session_user":     {min: 0, max: 0, typ: textType, eval: sessionUser},
	"pg_backend_pid": {min: 0, max: 0, typ: types.Int32, eval: func(e *env, _ []any) (any, error) {
		return int32(e.ctx.Session.ID()), nil
	}},
	"current_setting": {min: 1, max: 2, typ: textType, eval: currentSetting},
	"pg_div":          {min: 2, max: 2, typeOf: divType, strict: true, eval: divide},
	"pg_mod":          {min: 2, max: 2, typeOf: modType, strict: true, eval: modulo},
	"pg_trim":         {min: 3, max: 3, typ: textType, strict: true, eval: trim},
	"pg_bool":         {min: 1, max: 1, typ: boolType, strict: true, eval: toBool},
}

func init() { maps.Copy(functions, sessionFunctions) }

func sessionUser(e *env, _ []any) (any, error) { return e.ctx.Session.Client().User, nil }

// currentSetting is current_setting(name [, missing_ok]): the session's value, as SHOW shows it.
func currentSetting(e *env, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	name := fmt.Sprint(args[0])
	for k, v := range sessionSettings(e.ctx, e.cat.src) {
		if strings.EqualFold(k, name) {
			return v, nil
		}
	}
	if len(args) == 2 && args[1] != nil {
		if missingOK, _ := pgsql.ParseBool(fmt.Sprint(args[1])); missingOK || args[1] == true {
			return nil, nil
		}
	}
	return nil, &pgError{code: "42704", msg: fmt.Sprintf("unrecognized configuration parameter %q", name)}
}

// divType: integer / integer is an integer in Postgres (7 / 2 = 3); anything else divides as
// the engine does.
func divType(args []sql.Expression) sql.Type {
	if integers(args) {
		return types.Int64
	}
	if numerics(args) {
		return NumericVarScale
	}
	return expression.NewDiv(args[0], args[1]).Type()
}

func modType(args []sql.Expression) sql.Type {
	if integers(args) {
		return types.Int64
	}
	return expression.NewMod(args[0], args[1]).Type()
}

// integers reports whether both operands are integers that fit an int64 (unsigned BIGINTs
// may not, and divide as decimals).
func integers(args []sql.Expression) bool {
	for _, a := range args {
		if t := a.Type(); !types.IsInteger(t) || t == types.Uint64 {
			return false
		}
	}
	return true
}

var (
	errDivisionByZero = &pgError{code: "22012", msg: "division by zero"}
	errOutOfRange     = &pgError{code: "22003", msg: "bigint out of range"}
)

// operands converts both operands to int64, or reports a zero divisor.
func operands(e *env, vals []any) (l, r int64, err error) {
	lv, _, err := types.Int64.Convert(e.ctx, vals[0])
	if err != nil {
		return 0, 0, err
	}
	rv, _, err := types.Int64.Convert(e.ctx, vals[1])
	if err != nil {
		return 0, 0, err
	}
	if rv.(int64) == 0 {
		return 0, 0, errDivisionByZero
	}
	return lv.(int64), rv.(int64), nil
}

func divide(e *env, vals []any) (any, error) {
	if integers(e.args) {
		l, r, err := operands(e, vals)
		if err != nil {
			return nil, err
		}
		if l == math.MinInt64 && r == -1 {
			return nil, errOutOfRange
		}
		return l / r, nil // truncates toward zero, as Postgres does
	}
	if numerics(e.args) {
		return numericDivide(e, vals)
	}
	return arithmetic(e, vals, expression.NewDiv)
}

func modulo(e *env, vals []any) (any, error) {
	if integers(e.args) {
		l, r, err := operands(e, vals)
		if err != nil {
			return nil, err
		}
		if r == -1 {
			return int64(0), nil
		}
		return l % r, nil // the sign of the dividend, as in Postgres
	}
	return arithmetic(e, vals, expression.NewMod)
}

// arithmetic evaluates the engine's operator on non-integer operands, refusing a zero divisor
// as Postgres does (MySQL answers NULL).
func arithmetic[T sql.Expression](e *env, vals []any, op func(l, r sql.Expression) T) (any, error) {
	if r, _, err := types.Float64.Convert(e.ctx, vals[1]); err == nil && r.(float64) == 0 {
		return nil, errDivisionByZero
	}
	return op(expression.NewLiteral(vals[0], e.args[0].Type()), expression.NewLiteral(vals[1], e.args[1].Type())).Eval(e.ctx, nil)
}

// trim is btrim/ltrim/rtrim(s, characters): Postgres strips any of the characters, MySQL's
// TRIM a whole string.
func trim(_ *env, vals []any) (any, error) {
	s, chars := fmt.Sprint(vals[0]), fmt.Sprint(vals[1])
	switch fmt.Sprint(vals[2]) {
	case "leading":
		return strings.TrimLeft(s, chars), nil
	case "trailing":
		return strings.TrimRight(s, chars), nil
	}
	return strings.Trim(s, chars), nil
}

// toBool is x::boolean for a value known only at run time.
func toBool(e *env, vals []any) (any, error) {
	switch v := vals[0].(type) {
	case bool:
		return v, nil
	case string:
		b, ok := pgsql.ParseBool(v)
		if !ok {
			return nil, &pgError{code: "22P02", msg: fmt.Sprintf("invalid input syntax for type boolean: %q", v)}
		}
		return b, nil
	}
	f, _, err := types.Float64.Convert(e.ctx, vals[0])
	if err != nil {
		return nil, err
	}
	return f.(float64) != 0, nil
}
