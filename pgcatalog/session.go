package pgcatalog

import (
	"fmt"
	"maps"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/pgsql"
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
	if types.IsInteger(args[0].Type()) && types.IsInteger(args[1].Type()) {
		return types.Int64
	}
	return expression.NewDiv(args[0], args[1]).Type()
}

var errDivisionByZero = &pgError{code: "22012", msg: "division by zero"}

func divide(e *env, vals []any) (any, error) {
	if types.IsInteger(e.args[0].Type()) && types.IsInteger(e.args[1].Type()) {
		l, _, err := types.Int64.Convert(e.ctx, vals[0])
		if err != nil {
			return nil, err
		}
		r, _, err := types.Int64.Convert(e.ctx, vals[1])
		if err != nil {
			return nil, err
		}
		if r.(int64) == 0 {
			return nil, errDivisionByZero
		}
		return l.(int64) / r.(int64), nil // truncates toward zero, as Postgres does
	}
	if r, _, err := types.Float64.Convert(e.ctx, vals[1]); err == nil && r.(float64) == 0 {
		return nil, errDivisionByZero
	}
	return expression.NewDiv(expression.NewLiteral(vals[0], e.args[0].Type()), expression.NewLiteral(vals[1], e.args[1].Type())).Eval(e.ctx, nil)
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
