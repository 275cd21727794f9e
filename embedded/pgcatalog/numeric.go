package pgcatalog

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"

	"github.com/wasql/wasql/proxy"
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

func init() {
	for _, it := range []struct {
		bits int
		name string
		typ  sql.Type
	}{{16, "smallint", types.Int16}, {32, "integer", types.Int32}, {64, "bigint", types.Int64}} {
		functions["pg_int"+strconv.Itoa(it.bits/8)] = fn{min: 1, max: 1, strict: true, typ: it.typ, eval: toInteger(it.bits, it.name)}
	}
}

// toInteger is x::smallint, x::integer or x::bigint of a computed value, as Postgres casts: text
// is read strictly (22P02), a float8 rounds ties to even, a numeric ties away from zero, and a
// value out of the type's range is 22003.
func toInteger(bits int, name string) func(e *env, args []any) (any, error) {
	lo, hi := -math.Ldexp(1, bits-1), math.Ldexp(1, bits-1)
	outOfRange := &pgError{code: "22003", msg: name + " out of range"}
	fit := func(n int64) (any, error) {
		switch bits {
		case 16:
			if n < math.MinInt16 || n > math.MaxInt16 {
				return nil, outOfRange
			}
			return int16(n), nil
		case 32:
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, outOfRange
			}
			return int32(n), nil
		}
		return n, nil
	}
	return func(e *env, args []any) (any, error) {
		switch v := args[0].(type) {
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return nil, outOfRange
				}
				return nil, &pgError{code: "22P02", msg: fmt.Sprintf("invalid input syntax for type %s: %q", name, v)}
			}
			return fit(n)
		case bool:
			if bits == 16 {
				return nil, &pgError{code: "42846", msg: "cannot cast type boolean to smallint"}
			}
			if v {
				return fit(1)
			}
			return fit(0)
		case float64, float32:
			f, _, err := types.Float64.Convert(e.ctx, v)
			if err != nil {
				return nil, err
			}
			r := math.RoundToEven(f.(float64))
			if math.IsNaN(r) || r < lo || r >= hi {
				return nil, outOfRange
			}
			return fit(int64(r))
		case []byte, time.Time:
			return nil, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast this value to %s", name)}
		}
		if n, ok := proxy.Int64(args[0]); ok {
			return fit(n)
		}
		d, err := numericValue(args[0], e.args[0].Type())
		if err != nil {
			return nil, err
		}
		r := d.Round(0)
		if !r.IsInteger() || r.Cmp(decimal.NewFromFloat(lo)) < 0 || r.Cmp(decimal.NewFromFloat(hi)) >= 0 {
			return nil, outOfRange
		}
		return fit(r.IntPart())
	}
}

func init() {
	functions["pg_float4"] = fn{min: 1, max: 1, strict: true, typ: types.Float32, eval: toFloat("real", 32)}
	functions["pg_float8"] = fn{min: 1, max: 1, strict: true, typ: types.Float64, eval: toFloat("double precision", 64)}
}

// toFloat is x::real or x::float8 of a computed value: text is read as Postgres reads it
// (22P02 for anything but a number, NaN or [-]Infinity), numbers convert.
func toFloat(name string, bits int) func(e *env, args []any) (any, error) {
	return func(e *env, args []any) (any, error) {
		v := args[0]
		if s, ok := v.(string); ok {
			t := strings.TrimSpace(s)
			f, err := strconv.ParseFloat(t, bits)
			if err != nil && !errors.Is(err, strconv.ErrRange) || strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, "+-")), "0x") {
				return nil, &pgError{code: "22P02", msg: fmt.Sprintf("invalid input syntax for type %s: %q", name, s)}
			}
			if err != nil {
				return nil, &pgError{code: "22003", msg: fmt.Sprintf("%q is out of range for type %s", s, name)}
			}
			v = f
		}
		if _, ok := v.(bool); ok {
			return nil, &pgError{code: "42846", msg: "cannot cast type boolean to " + name}
		}
		if bits == 32 {
			f, _, err := types.Float32.Convert(e.ctx, v)
			return f, err
		}
		f, _, err := types.Float64.Convert(e.ctx, v)
		return f, err
	}
}
