package sqlfuncs

import (
	"fmt"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/udf"
)

// sqlType is the go-mysql-server type of a wasm function's argument or result.
func sqlType(t udf.Type) sql.Type {
	switch t {
	case udf.Smallint:
		return types.Int16
	case udf.Integer:
		return types.Int32
	case udf.Bigint:
		return types.Int64
	case udf.Real:
		return types.Float32
	case udf.Double:
		return types.Float64
	case udf.Boolean:
		return types.Boolean
	case udf.Text:
		return types.LongText
	case udf.Bytea:
		return types.LongBlob
	case udf.JSON:
		return types.JSON
	case udf.Date:
		return types.Date
	case udf.Timestamp:
		return types.DatetimeMaxPrecision
	}
	panic(fmt.Sprintf("sqlfuncs: no SQL type for %s", t))
}

// kind groups types for overload resolution; rank orders the numeric ones by width, so that an
// argument can widen to a parameter of the same kind and a higher rank.
func kind(t sql.Type) (k string, rank int) {
	switch {
	case t == types.Null:
		return "null", 0
	case t == types.Boolean:
		return "bool", 0
	case types.IsInteger(t):
		switch t {
		case types.Int8, types.Uint8, types.Int16:
			return "num", 1
		case types.Uint16, types.Int24, types.Uint24, types.Int32:
			return "num", 2
		}
		return "num", 3
	case types.IsDecimal(t):
		return "num", 4
	case t == types.Float32:
		return "num", 5
	case types.IsFloat(t):
		return "num", 6
	case types.IsJSON(t):
		return "json", 0
	case types.IsBinaryType(t) || types.IsBlobType(t):
		return "bytes", 0
	case types.IsText(t):
		return "text", 0
	case types.IsDateType(t):
		return "date", 0
	case types.IsTime(t):
		return "timestamp", 0
	}
	return t.String(), 0
}

// unknownType marks an argument whose type is not known yet: a string literal (Postgres's
// "unknown" literal) or a bound parameter.
var unknownType = types.NewDeferredType("unknown")

// cost is how far an argument of type arg is from parameter type p: 0 exact, more for each
// implicit conversion, -1 when there is none. Conversions follow Postgres: integers widen to
// wider integers, any number widens to real and double, text literals become json, NULL fits
// all, and an unknown literal or parameter fits all, text best.
func cost(arg sql.Type, p udf.Type) int {
	if types.IsDeferredType(arg) {
		if p == udf.Text {
			return 1
		}
		return 2
	}
	ak, ar := kind(arg)
	pk, pr := kind(sqlType(p))
	switch {
	case ak == "null":
		return 1
	case ak == pk && ar == pr:
		return 0
	case ak == "num" && pk == "num" && ar < pr:
		if pr >= 5 && ar <= 4 { // integer or decimal to floating point
			return 10 + pr - ar
		}
		return pr - ar
	case ak == "bool" && pk == "num" && pr <= 3:
		return 5
	case ak == "num" && ar == 4 && pk == "num" && pr <= 3 && integral(arg):
		// go-mysql-server types integer arithmetic like a % 30 as DECIMAL(n, 0): let it reach
		// integer parameters (a value out of range is an error at run time).
		return 20 + 3 - pr
	case ak == "text" && pk == "json":
		return 2
	case ak == "text" && (pk == "date" || pk == "timestamp"):
		return 3
	case ak == "date" && pk == "timestamp":
		return 2
	}
	return -1
}

// integral reports whether t is a DECIMAL without fractional digits.
func integral(t sql.Type) bool {
	d, ok := t.(sql.DecimalType)
	return ok && d.Scale() == 0
}

// toColumn appends value v (as go-mysql-server evaluated it) to row i of c, converting it to
// c's type. Unconvertible values are errors naming the argument.
func setValue(ctx *sql.Context, c *udf.Column, i int, v any) error {
	if v == nil {
		if c.Nulls == nil {
			c.Nulls = make([]bool, c.Len())
		}
		c.Nulls[i] = true
		return nil
	}
	v, err := sql.UnwrapAny(ctx, v)
	if err != nil {
		return err
	}
	switch c.Type {
	case udf.Text, udf.Bytea, udf.JSON:
		switch x := v.(type) {
		case string:
			c.Bytes[i] = []byte(x)
		case []byte:
			c.Bytes[i] = x
		case sql.JSONWrapper:
			s, err := types.JsonToMySqlString(ctx, x)
			if err != nil {
				return err
			}
			c.Bytes[i] = []byte(s)
		default:
			s, _, err := types.LongText.Convert(ctx, v)
			if err != nil {
				return err
			}
			c.Bytes[i] = []byte(s.(string))
		}
	case udf.Real, udf.Double:
		f, _, err := types.Float64.Convert(ctx, v)
		if err != nil {
			return err
		}
		c.Floats[i] = f.(float64)
	case udf.Date, udf.Timestamp:
		t, _, err := types.DatetimeMaxPrecision.Convert(ctx, v)
		if err != nil {
			return err
		}
		tm := t.(time.Time).UTC()
		if c.Type == udf.Date {
			c.Ints[i] = tm.Unix() / 86400
			if tm.Unix() < 0 && tm.Unix()%86400 != 0 {
				c.Ints[i]--
			}
		} else {
			c.Ints[i] = tm.UnixMicro()
		}
	case udf.Boolean:
		switch x := v.(type) {
		case bool:
			c.Ints[i] = 0
			if x {
				c.Ints[i] = 1
			}
			return nil
		}
		n, _, err := types.Int64.Convert(ctx, v)
		if err != nil {
			return err
		}
		c.Ints[i] = 0
		if n.(int64) != 0 {
			c.Ints[i] = 1
		}
	default:
		t := map[udf.Type]sql.Type{udf.Smallint: types.Int16, udf.Integer: types.Int32, udf.Bigint: types.Int64}[c.Type]
		n, inRange, err := t.Convert(ctx, v)
		if err != nil {
			return err
		}
		if inRange != sql.InRange {
			return fmt.Errorf("value %v is out of range for type %s", v, c.Type)
		}
		switch x := n.(type) {
		case int16:
			c.Ints[i] = int64(x)
		case int32:
			c.Ints[i] = int64(x)
		case int64:
			c.Ints[i] = x
		}
	}
	return nil
}

// value returns row i of c as the Go value go-mysql-server expects for the SQL type.
func value(c *udf.Column, i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c.Type {
	case udf.Smallint:
		return int16(c.Ints[i])
	case udf.Integer:
		return int32(c.Ints[i])
	case udf.Bigint:
		return c.Ints[i]
	case udf.Boolean:
		return int8(c.Ints[i])
	case udf.Real:
		return float32(c.Floats[i])
	case udf.Double:
		return c.Floats[i]
	case udf.Text:
		return string(c.Bytes[i])
	case udf.Bytea:
		return c.Bytes[i]
	case udf.JSON:
		doc, _, err := types.JSON.Convert(nil, string(c.Bytes[i]))
		if err != nil {
			return string(c.Bytes[i])
		}
		return doc
	case udf.Date:
		return time.Unix(c.Ints[i]*86400, 0).UTC()
	case udf.Timestamp:
		return time.UnixMicro(c.Ints[i]).UTC()
	}
	return nil
}
