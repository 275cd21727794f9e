package pgcatalog

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"

	"github.com/wasql/wasql/internal/pgtext"
	"github.com/wasql/wasql/proxy"
)

// typeFunctions are the functions package pgsql's casts and renamings call where a Postgres
// type reads or prints differently from MySQL's: x::bytea, x::timestamp, x::timestamptz,
// length(bytea), encode and decode.
var typeFunctions = map[string]fn{
	"pg_bytea":       {min: 1, max: 1, typ: types.LongBlob, strict: true, eval: toBytea},
	"pg_timestamp":   {min: 1, max: 1, typ: types.DatetimeMaxPrecision, strict: true, eval: toTimestamp(false)},
	"pg_timestamptz": {min: 1, max: 1, typ: types.TimestampMaxPrecision, strict: true, eval: toTimestamp(true)},
	"pg_length":      {min: 1, max: 1, typ: types.Int32, strict: true, eval: length},
	"pg_text":        {min: 1, max: 1, typ: textType, strict: true, eval: toText},
	"encode":         {min: 2, max: 2, typ: textType, strict: true, eval: encodeBytea},
	"decode":         {min: 2, max: 2, typ: types.LongBlob, strict: true, eval: decodeBytea},
}

func init() { maps.Copy(functions, typeFunctions) }

// toBytea is x::bytea: a string is read as bytea input (hex or escape format), bytes stay.
func toBytea(_ *env, args []any) (any, error) {
	switch v := args[0].(type) {
	case []byte:
		return v, nil
	case string:
		return pgtext.ParseBytea(v)
	}
	return nil, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast type %T to bytea", args[0])}
}

// location is the session's TimeZone.
func (e *env) location() (*time.Location, error) {
	name := "UTC"
	if e.cat.src.Settings != nil {
		if s, ok := e.cat.src.Settings(e.ctx)["timezone"]; ok {
			name = s
		}
	}
	return pgtext.SessionLocation(name)
}

// toTimestamp is x::timestamp (zoned false) or x::timestamptz: a string is read as Postgres
// reads it, a timestamptz becomes a timestamp in the session's TimeZone and back.
func toTimestamp(zoned bool) func(e *env, args []any) (any, error) {
	return func(e *env, args []any) (any, error) {
		switch v := args[0].(type) {
		case string:
			return pgtext.ReadTimestamp(v, zoned, e.location)
		case time.Time:
			_, now := e.args[0].(*function.Now) // NOW(6) is the current instant, in UTC
			fromZoned := now || e.args[0].Type().Type() == sqltypes.Timestamp
			if zoned == fromZoned {
				return v, nil
			}
			loc, err := e.location()
			if err != nil {
				return nil, err
			}
			if fromZoned { // the wall clock in the session's zone
				w := v.In(loc)
				return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC), nil
			}
			return pgtext.CheckTimestampTZ(time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc).UTC())
		}
		return nil, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast type %s to timestamp", e.args[0].Type())}
	}
}

// length is length(x): the bytes of a bytea, the characters of a text.
func length(_ *env, args []any) (any, error) {
	switch v := args[0].(type) {
	case []byte:
		return int32(len(v)), nil
	case string:
		return int32(utf8.RuneCountInString(v)), nil
	}
	return int32(utf8.RuneCountInString(fmt.Sprint(args[0]))), nil
}

func byteArg(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(v))
}

// encodeBytea is encode(bytea, format) for the formats hex, escape and base64.
func encodeBytea(_ *env, args []any) (any, error) {
	b := byteArg(args[0])
	switch strings.ToLower(fmt.Sprint(args[1])) {
	case "hex":
		return hex.EncodeToString(b), nil
	case "escape":
		return pgtext.ByteaEscape(b), nil
	case "base64": // Postgres breaks lines after 76 characters
		s := base64.StdEncoding.EncodeToString(b)
		var sb strings.Builder
		for len(s) > 76 {
			sb.WriteString(s[:76] + "\n")
			s = s[76:]
		}
		sb.WriteString(s)
		return sb.String(), nil
	}
	return nil, &pgError{code: "22023", msg: fmt.Sprintf("unrecognized encoding: %q", fmt.Sprint(args[1]))}
}

// decodeBytea is decode(text, format) for the formats hex, escape and base64.
func decodeBytea(_ *env, args []any) (any, error) {
	s := string(byteArg(args[0]))
	switch strings.ToLower(fmt.Sprint(args[1])) {
	case "hex":
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		if len(s)%2 != 0 {
			return nil, &pgError{code: "22023", msg: "invalid hexadecimal data: odd number of digits"}
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, &pgError{code: "22023", msg: "invalid hexadecimal digit"}
		}
		return b, nil
	case "escape":
		return pgtext.ByteaUnescape(s)
	case "base64":
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, &pgError{code: "22023", msg: "invalid base64 end sequence"}
		}
		return b, nil
	}
	return nil, &pgError{code: "22023", msg: fmt.Sprintf("unrecognized encoding: %q", fmt.Sprint(args[1]))}
}

// NumericVarScale is the type of a numeric whose every value carries its own display scale
// (an average, a numeric quotient): the wire prints such a value with its exponent, as Postgres
// prints a numeric's dscale.
var NumericVarScale = types.MustCreateDecimalType(65, 30)

func init() {
	functions["pg_avg"] = fn{min: 2, max: 2, typeOf: avgType, eval: average}
}

// avgType: the average of integers and numerics is a numeric, of floats a float8.
func avgType(args []sql.Expression) sql.Type {
	if t := args[0].Type(); types.IsDecimal(t) || types.IsInteger(t) {
		return NumericVarScale
	}
	return types.Float64
}

// average is avg(x), printed as pg_avg(sum(x), count(x)): Postgres divides the numeric sum by
// the count with numeric_div's scale (select_div_scale), which MySQL's AVG does not have.
func average(e *env, args []any) (any, error) {
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	count, _, err := types.Int64.Convert(e.ctx, args[1])
	if err != nil {
		return nil, err
	}
	if count.(int64) == 0 {
		return nil, nil
	}
	if avgType(e.args) == types.Float64 {
		sum, _, err := types.Float64.Convert(e.ctx, args[0])
		if err != nil {
			return nil, err
		}
		return sum.(float64) / float64(count.(int64)), nil
	}
	sum, err := toDecimal(args[0])
	if err != nil {
		return nil, err
	}
	if _, isFloat := args[0].(float64); isFloat { // a window's sum of numerics arrives as a float8
		if dt, ok := e.args[0].Type().(sql.DecimalType); ok && !IsUnconstrainedNumeric(dt) {
			sum = sum.Round(int32(dt.Scale()))
		}
	}
	return NumericDiv(sum, decimal.NewFromInt(count.(int64))), nil
}

func toDecimal(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, nil
	case float64:
		return decimal.NewFromFloat(x), nil
	case float32:
		return decimal.NewFromFloat32(x), nil
	case string:
		return decimal.NewFromString(x)
	}
	if n, ok := proxy.Int64(v); ok {
		return decimal.NewFromInt(n), nil
	}
	return decimal.Decimal{}, fmt.Errorf("not a number: %v", v)
}

// NumericDiv divides as Postgres's numeric_div: the quotient rounded to select_div_scale's
// scale, at least 16 significant digits and at least the operands' scales.
func NumericDiv(a, b decimal.Decimal) decimal.Decimal {
	w1, d1 := numericWeight(a)
	w2, d2 := numericWeight(b)
	q := w1 - w2
	if d1 <= d2 {
		q--
	}
	rscale := 16 - q*4
	rscale = max(rscale, dscale(a), dscale(b), 0)
	rscale = min(rscale, 1000)
	return a.DivRound(b, int32(rscale))
}

// dscale is a numeric's display scale: its digits after the point.
func dscale(d decimal.Decimal) int { return max(0, -int(d.Exponent())) }

// numericWeight is the weight and the first digit of |d| in Postgres's base-10000 digits.
func numericWeight(d decimal.Decimal) (weight, first int) {
	if d.IsZero() {
		return 0, 0
	}
	s := d.Abs().String()
	ip, fp, _ := strings.Cut(s, ".")
	if strings.TrimLeft(ip, "0") != "" {
		ip = strings.TrimLeft(ip, "0")
		weight = (len(ip) - 1) / 4
		first, _ = strconv.Atoi(ip[:len(ip)-4*weight])
		return weight, first
	}
	z := len(fp) - len(strings.TrimLeft(fp, "0"))
	weight = -(z / 4) - 1
	group := (fp + "0000")[4*(-weight-1) : 4*(-weight)]
	first, _ = strconv.Atoi(group)
	return weight, first
}

// numerics reports whether a division is numeric / numeric in Postgres: integers and
// numerics, one of them a numeric.
func numerics(args []sql.Expression) bool {
	dec := false
	for _, a := range args {
		t := a.Type()
		switch {
		case types.IsDecimal(t):
			dec = true
		case types.IsInteger(t):
		default:
			return false
		}
	}
	return dec
}

// numericValue reads a numeric operand; one of the unconstrained numeric type (which the engine
// keeps with 20 decimals) has the scale it is written with.
func numericValue(v any, t sql.Type) (decimal.Decimal, error) {
	d, err := toDecimal(v)
	if err != nil {
		return d, err
	}
	if IsUnconstrainedNumeric(t) {
		d, err = decimal.NewFromString(d.String())
	}
	return d, err
}

// IsUnconstrainedNumeric reports whether t is the engine's type for numeric without precision
// and scale, DECIMAL(65,20): its values print without trailing zeros.
func IsUnconstrainedNumeric(t sql.Type) bool {
	dt, ok := t.(sql.DecimalType)
	return ok && dt.Precision() == 65 && dt.Scale() == 20
}

// numericDivide is numeric / numeric.
func numericDivide(e *env, vals []any) (any, error) {
	a, err := numericValue(vals[0], e.args[0].Type())
	if err != nil {
		return nil, err
	}
	b, err := numericValue(vals[1], e.args[1].Type())
	if err != nil {
		return nil, err
	}
	if b.IsZero() {
		return nil, errDivisionByZero
	}
	return NumericDiv(a, b), nil
}

// toText is x::text: a value printed as Postgres prints its type (true, \x01, 9.50,
// 2024-05-02 02:00:00+02 in the session's TimeZone), where MySQL's CAST(x AS CHAR) prints 1,
// the raw bytes, 9.5 and the UTC wall clock.
func toText(e *env, args []any) (any, error) {
	t := e.args[0].Type()
	switch v := args[0].(type) {
	case []byte:
		if isByteaType(t) {
			return pgtext.ByteaHex(v), nil
		}
		return string(v), nil
	case time.Time:
		switch t.Type() {
		case sqltypes.Timestamp:
			loc, err := e.location()
			if err != nil {
				return nil, err
			}
			return pgtext.FormatTimestampTZ(v.In(loc)), nil
		case sqltypes.Date:
			return v.Format("2006-01-02"), nil
		}
		return pgtext.FormatTimestamp(v), nil
	case decimal.Decimal:
		return NumericText(v, t), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	if t == types.Boolean {
		if n, ok := proxy.Int64(args[0]); ok {
			return strconv.FormatBool(n != 0), nil
		}
	}
	s, _, err := types.LongText.Convert(e.ctx, args[0])
	if err != nil {
		return nil, err
	}
	return s, nil
}

func isByteaType(t sql.Type) bool { return types.IsBinaryType(t) || types.IsBlobType(t) }

// NumericText prints a numeric as Postgres does: with its type's scale, or (an average, a
// quotient: NumericVarScale) its own; a value of unconstrained numeric without trailing zeros.
func NumericText(d decimal.Decimal, t sql.Type) string {
	dt, ok := t.(sql.DecimalType)
	switch {
	case !ok || IsUnconstrainedNumeric(t):
		return d.String()
	case t == NumericVarScale:
		if d.Exponent() < 0 {
			return d.StringFixed(-d.Exponent())
		}
		return d.String()
	}
	return d.StringFixed(int32(dt.Scale()))
}
