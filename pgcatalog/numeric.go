package pgcatalog

import (
	"fmt"
	"math"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

// The numeric functions package pgsql's translation calls where Postgres's numeric keeps a scale
// per value or rounds differently from MySQL: x::numeric (without precision) and round().
func init() {
	functions["pg_numeric"] = fn{min: 1, max: 1, strict: true, typeOf: numericCastType, eval: toNumeric}
	functions["pg_round"] = fn{min: 1, max: 2, strict: true, typeOf: roundType, eval: round}
}

// numericCastType: a numeric of a declared scale keeps it; anything else becomes a numeric whose
// every value carries its own scale ('2.50'::numeric is 2.50, 2.5::float8::numeric is 2.5).
func numericCastType(args []sql.Expression) sql.Type {
	if dt, ok := args[0].Type().(sql.DecimalType); ok && !IsUnconstrainedNumeric(dt) && dt != NumericVarScale {
		return types.MustCreateDecimalType(65, dt.Scale())
	}
	return NumericVarScale
}

// toNumeric is x::numeric: the value with the scale it is written or typed with.
func toNumeric(e *env, args []any) (any, error) {
	if s, ok := args[0].(string); ok {
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil, &pgError{code: "22P02", msg: fmt.Sprintf("invalid input syntax for type numeric: %q", s)}
		}
		return d, nil
	}
	if b, ok := args[0].(bool); ok {
		return nil, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast type boolean to numeric (%v)", b)}
	}
	if f, ok := args[0].(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil, &pgError{code: "0A000", msg: "NaN and infinity as numeric are not supported"}
	}
	return numericValue(args[0], e.args[0].Type())
}

// roundType: round(float8) is a float8; round(numeric [, n]) a numeric of scale n (0 without
// n; a numeric of its own scale when n is not a constant).
func roundType(args []sql.Expression) sql.Type {
	t := args[0].Type()
	if types.IsFloat(t) {
		return types.Float64
	}
	if len(args) == 1 {
		return types.MustCreateDecimalType(65, 0)
	}
	if lit, ok := args[1].(*expression.Literal); ok {
		if n, ok := lit.Value().(int8); ok && n >= 0 && n <= 30 {
			return types.MustCreateDecimalType(65, uint8(n))
		}
		if n, ok := lit.Value().(int64); ok && n >= 0 && n <= 30 {
			return types.MustCreateDecimalType(65, uint8(n))
		}
	}
	return NumericVarScale
}

// round is Postgres's round: a float8 to the nearest integer, ties to even (rint); a numeric to
// n places (0 by default), ties away from zero.
func round(e *env, args []any) (any, error) {
	if types.IsFloat(e.args[0].Type()) {
		if len(args) == 2 {
			return nil, &pgError{code: "42883", msg: "function round(double precision, integer) does not exist"}
		}
		f, _, err := types.Float64.Convert(e.ctx, args[0])
		if err != nil {
			return nil, err
		}
		return math.RoundToEven(f.(float64)), nil
	}
	d, err := numericValue(args[0], e.args[0].Type())
	if err != nil {
		return nil, err
	}
	places := int64(0)
	if len(args) == 2 {
		n, _, err := types.Int64.Convert(e.ctx, args[1])
		if err != nil {
			return nil, err
		}
		places = n.(int64)
	}
	places = max(min(places, 1000), -1000)
	r := d.Round(int32(places))
	if places < 0 {
		r = r.Truncate(0)
	}
	return r, nil
}
