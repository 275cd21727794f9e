package upstream

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wasql/wasql/udf"
)

// The v1 types in PostgreSQL: their names, OIDs and binary formats, to and from udf's columns.

var be = binary.BigEndian

// pgType is a v1 type's PostgreSQL name and OID.
var pgType = map[udf.Type]struct {
	name string
	oid  uint32
}{
	udf.Smallint:  {"smallint", 21},
	udf.Integer:   {"integer", 23},
	udf.Bigint:    {"bigint", 20},
	udf.Real:      {"real", 700},
	udf.Double:    {"double precision", 701},
	udf.Boolean:   {"boolean", 16},
	udf.Text:      {"text", 25},
	udf.Bytea:     {"bytea", 17},
	udf.JSON:      {"json", 114},
	udf.Date:      {"date", 1082},
	udf.Timestamp: {"timestamp without time zone", 1114},
}

const (
	oidUnknown = 705
	// PostgreSQL's epoch (2000-01-01) in udf's (1970-01-01): days and microseconds.
	pgEpochDays = 10957
	pgEpochUsec = 946684800 * 1_000_000
)

// implicitCasts are PostgreSQL's implicit casts between the OIDs a v1 argument may come as and
// the v1 types (pg_cast with castcontext 'i').
var implicitCasts = map[uint32][]uint32{
	21:   {23, 20, 700, 701},
	23:   {20, 700, 701},
	20:   {700, 701},
	700:  {701},
	1700: {700, 701},
	1043: {25},
	1042: {25},
	19:   {25},
	1082: {1114},
}

// decodeBinary sets row i of c from v, a value in PostgreSQL's binary format of c's type (text
// for JSON, which arrives cast to text). nil is NULL.
func decodeBinary(c *udf.Column, i int, v []byte) error {
	if v == nil {
		if c.Nulls == nil {
			c.Nulls = make([]bool, c.Len())
		}
		c.Nulls[i] = true
		return nil
	}
	if want := binarySize[c.Type]; want != 0 && len(v) != want {
		return fmt.Errorf("a %s value of %d bytes", c.Type, len(v))
	}
	switch c.Type {
	case udf.Smallint:
		c.Ints[i] = int64(int16(be.Uint16(v)))
	case udf.Integer:
		c.Ints[i] = int64(int32(be.Uint32(v)))
	case udf.Bigint:
		c.Ints[i] = int64(be.Uint64(v))
	case udf.Boolean:
		c.Ints[i] = int64(v[0] & 1)
	case udf.Real:
		c.Floats[i] = float64(math.Float32frombits(be.Uint32(v)))
	case udf.Double:
		c.Floats[i] = math.Float64frombits(be.Uint64(v))
	case udf.Date:
		d := int32(be.Uint32(v))
		if d == math.MaxInt32 || d == math.MinInt32 {
			return errInfinite
		}
		c.Ints[i] = int64(d) + pgEpochDays
	case udf.Timestamp:
		u := int64(be.Uint64(v))
		if u == math.MaxInt64 || u == math.MinInt64 {
			return errInfinite
		}
		c.Ints[i] = u + pgEpochUsec
	default:
		c.Bytes[i] = v
	}
	return nil
}

// binarySize is the size of a fixed-size type's binary value (0: variable).
var binarySize = [...]int{udf.Smallint: 2, udf.Integer: 4, udf.Bigint: 8, udf.Real: 4, udf.Double: 8, udf.Boolean: 1, udf.Date: 4, udf.Timestamp: 8, udf.Timestamp + 1: 0}

var errInfinite = sqlError("22008", "wasm functions take no infinite dates or timestamps")

// appendBinary appends row i of c in PostgreSQL's binary format, with its length word.
func appendBinary(b []byte, c *udf.Column, i int) []byte {
	if c.IsNull(i) {
		return be.AppendUint32(b, math.MaxUint32)
	}
	switch c.Type {
	case udf.Smallint:
		return be.AppendUint16(be.AppendUint32(b, 2), uint16(c.Ints[i]))
	case udf.Integer:
		return be.AppendUint32(be.AppendUint32(b, 4), uint32(c.Ints[i]))
	case udf.Bigint:
		return be.AppendUint64(be.AppendUint32(b, 8), uint64(c.Ints[i]))
	case udf.Boolean:
		return append(be.AppendUint32(b, 1), byte(c.Ints[i]&1))
	case udf.Real:
		return be.AppendUint32(be.AppendUint32(b, 4), math.Float32bits(float32(c.Floats[i])))
	case udf.Double:
		return be.AppendUint64(be.AppendUint32(b, 8), math.Float64bits(c.Floats[i]))
	case udf.Date:
		return be.AppendUint32(be.AppendUint32(b, 4), uint32(int32(c.Ints[i]-pgEpochDays)))
	case udf.Timestamp:
		return be.AppendUint64(be.AppendUint32(b, 8), uint64(c.Ints[i]-pgEpochUsec))
	}
	return append(be.AppendUint32(b, uint32(len(c.Bytes[i]))), c.Bytes[i]...)
}

// appendBytes appends v (nil: NULL) with its length word.
func appendBytes(b, v []byte) []byte {
	if v == nil {
		return be.AppendUint32(b, math.MaxUint32)
	}
	return append(be.AppendUint32(b, uint32(len(v))), v...)
}

// sliceColumn returns rows [from, to) of c, sharing its storage.
func sliceColumn(c udf.Column, from, to int) udf.Column {
	out := udf.Column{Type: c.Type}
	if c.Nulls != nil {
		out.Nulls = c.Nulls[from:to]
	}
	switch {
	case c.Ints != nil:
		out.Ints = c.Ints[from:to]
	case c.Floats != nil:
		out.Floats = c.Floats[from:to]
	default:
		out.Bytes = c.Bytes[from:to]
	}
	return out
}

// literal writes row i of c, of type t, as an SQL literal that reads back exactly whatever the
// settings (escape strings, explicit casts); ok is false for a value it does not write (dates and
// timestamps outside years 1 to 9999).
func literal(c *udf.Column, i int, t udf.Type) (string, bool) {
	name := pgType[t].name
	if c.IsNull(i) {
		return "NULL::" + name, true
	}
	switch t {
	case udf.Smallint, udf.Integer, udf.Bigint:
		return "(" + strconv.FormatInt(c.Ints[i], 10) + ")::" + name, true
	case udf.Boolean:
		return strconv.FormatBool(c.Ints[i] != 0), true
	case udf.Real, udf.Double:
		f := c.Floats[i]
		bits := 64
		if t == udf.Real {
			bits = 32
		}
		var v string
		switch {
		case math.IsNaN(f):
			v = "NaN"
		case math.IsInf(f, 1):
			v = "Infinity"
		case math.IsInf(f, -1):
			v = "-Infinity"
		default:
			v = strconv.FormatFloat(f, 'g', -1, bits)
		}
		return "'" + v + "'::" + name, true
	case udf.Text, udf.JSON:
		if bytes.IndexByte(c.Bytes[i], 0) >= 0 {
			return "", false // PostgreSQL's text holds no NUL: COPY refuses it with its error
		}
		return textLit(string(c.Bytes[i])) + "::" + name, true
	case udf.Bytea:
		return `E'\\x` + hex.EncodeToString(c.Bytes[i]) + "'::bytea", true
	case udf.Date:
		d := time.Unix(c.Ints[i]*86400, 0).UTC()
		if d.Year() < 1 || d.Year() > 9999 {
			return "", false
		}
		return "'" + d.Format("2006-01-02") + "'::date", true
	case udf.Timestamp:
		ts := time.UnixMicro(c.Ints[i]).UTC()
		if ts.Year() < 1 || ts.Year() > 9999 {
			return "", false
		}
		return "'" + ts.Format("2006-01-02 15:04:05.999999") + "'::" + name, true
	}
	return "", false
}

// textLit is s as an escape string constant, E'...' (a NUL, which no SQL text holds, dropped).
func textLit(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, `'`, "''", "\x00", "").Replace(s) + "'"
}

// formatOf is the format of column or parameter i under a message's format codes: one code
// for all, one each, or none (text), as the protocol says.
func formatOf(rfmts []int16, i int) int16 {
	switch {
	case len(rfmts) == 1:
		return rfmts[0]
	case i < len(rfmts):
		return rfmts[i]
	}
	return 0
}
