package udf

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wasql/wasql/udf/internal/rewrite"
)

// Type is a SQL type a wasm function can take or return (docs/abi.md §2). Its value is the type
// code of the columnar ABI.
type Type uint8

// The types of ABI v1.
const (
	Smallint  Type = 1
	Integer   Type = 2
	Bigint    Type = 3
	Real      Type = 4
	Double    Type = 5
	Boolean   Type = 6
	Text      Type = 7
	Bytea     Type = 8
	JSON      Type = 9
	Date      Type = 10
	Timestamp Type = 11
)

var typeNames = [...]string{Smallint: "smallint", Integer: "integer", Bigint: "bigint", Real: "real",
	Double: "double precision", Boolean: "boolean", Text: "text", Bytea: "bytea", JSON: "json",
	Date: "date", Timestamp: "timestamp"}

func (t Type) String() string {
	if t >= Smallint && t <= Timestamp {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType maps a SQL type name, with the usual Postgres and MySQL aliases, to a Type.
func ParseType(name string) (Type, error) {
	switch strings.Join(strings.Fields(strings.ToLower(name)), " ") {
	case "smallint", "int2":
		return Smallint, nil
	case "integer", "int", "int4":
		return Integer, nil
	case "bigint", "int8":
		return Bigint, nil
	case "real", "float4", "float":
		return Real, nil
	case "double precision", "double", "float8":
		return Double, nil
	case "boolean", "bool":
		return Boolean, nil
	case "text", "varchar", "character varying", "string":
		return Text, nil
	case "bytea", "blob", "varbinary":
		return Bytea, nil
	case "json", "jsonb":
		return JSON, nil
	case "date":
		return Date, nil
	case "timestamp", "timestamp without time zone", "datetime":
		return Timestamp, nil
	}
	return 0, fmt.Errorf("type %q is not supported by wasm functions", name)
}

// Variable reports whether values of t have variable width (text, bytea, json).
func (t Type) Variable() bool { return t == Text || t == Bytea || t == JSON }

// width is the byte size of one value in a column (0 for variable width).
func (t Type) width() uint32 {
	if c := t.column(); c != 0 {
		return c.Width()
	}
	return 0
}

// column is the fixed-width layout of t, 0 for variable width.
func (t Type) column() rewrite.Column {
	switch t {
	case Smallint:
		return rewrite.ColI16
	case Integer, Date:
		return rewrite.ColI32
	case Bigint, Timestamp:
		return rewrite.ColI64
	case Real:
		return rewrite.ColF32
	case Double:
		return rewrite.ColF64
	case Boolean:
		return rewrite.ColU8
	}
	return 0
}

// wasmType is the core Wasm type of t in the scalar ABI, 0 if t has none.
func (t Type) wasmType() byte {
	switch t.column() {
	case rewrite.ColU8, rewrite.ColI16, rewrite.ColI32:
		return rewrite.I32
	case rewrite.ColI64:
		return rewrite.I64
	case rewrite.ColF32:
		return rewrite.F32
	case rewrite.ColF64:
		return rewrite.F64
	}
	return 0
}

// Column is one column of a batch: Len() values of Type, NULL where Nulls says so.
// Exactly one value slice is used, by type:
//   - Ints: smallint, integer, bigint, boolean (0 or 1), date (days since 1970-01-01),
//     timestamp (µs since 1970-01-01 UTC);
//   - Floats: real, double;
//   - Bytes: text, bytea, json.
type Column struct {
	Type   Type
	Nulls  []bool // nil: no NULLs; else one per row, true = NULL
	Ints   []int64
	Floats []float64
	Bytes  [][]byte
}

// Len is the number of rows in c.
func (c *Column) Len() int {
	switch {
	case c.Type.Variable():
		return len(c.Bytes)
	case c.Type == Real || c.Type == Double:
		return len(c.Floats)
	}
	return len(c.Ints)
}

// IsNull reports whether row i is NULL.
func (c *Column) IsNull(i int) bool { return c.Nulls != nil && c.Nulls[i] }

// NewColumn returns a column of n rows of type t, every row zero and not NULL.
func NewColumn(t Type, n int) Column {
	c := Column{Type: t}
	switch {
	case t.Variable():
		c.Bytes = make([][]byte, n)
	case t == Real || t == Double:
		c.Floats = make([]float64, n)
	default:
		c.Ints = make([]int64, n)
	}
	return c
}

// Reset makes c n rows of type t, not NULL, reusing its storage when it is large enough.
func (c *Column) Reset(t Type, n int) {
	c.Type, c.Nulls = t, nil
	switch {
	case t.Variable():
		c.Ints, c.Floats, c.Bytes = nil, nil, resize(c.Bytes, n)
		clear(c.Bytes)
	case t == Real || t == Double:
		c.Ints, c.Bytes, c.Floats = nil, nil, resize(c.Floats, n)
	default:
		c.Floats, c.Bytes, c.Ints = nil, nil, resize(c.Ints, n)
	}
}

func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// setNull marks row i NULL.
func (c *Column) setNull(i int) {
	if c.Nulls == nil {
		c.Nulls = make([]bool, c.Len())
	}
	c.Nulls[i] = true
}

// Format renders row i as SQL text: NULL, numbers, quoted text, '\x…' bytea, dates and
// timestamps in ISO form. Long values are cut short (it is meant for messages).
func (c *Column) Format(i int) string {
	if c.IsNull(i) {
		return "NULL"
	}
	switch c.Type {
	case Text, JSON:
		s := string(c.Bytes[i])
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return strconv.Quote(s)
	case Bytea:
		b := c.Bytes[i]
		if len(b) > 32 {
			return fmt.Sprintf("'\\x%x…'", b[:32])
		}
		return fmt.Sprintf("'\\x%x'", b)
	case Real, Double:
		return strconv.FormatFloat(c.Floats[i], 'g', -1, 64)
	case Boolean:
		return strconv.FormatBool(c.Ints[i] != 0)
	case Date:
		return time.Unix(c.Ints[i]*86400, 0).UTC().Format(time.DateOnly)
	case Timestamp:
		return time.UnixMicro(c.Ints[i]).UTC().Format("2006-01-02 15:04:05.999999")
	}
	return strconv.FormatInt(c.Ints[i], 10)
}

// Set parses text as row i's value: NULL, an integer, a float, true/false, text as is, bytea as
// \x hex, a date as YYYY-MM-DD, a timestamp as YYYY-MM-DD HH:MM:SS[.ffffff].
func (c *Column) Set(i int, text string) error {
	if text == "NULL" {
		c.setNull(i)
		return nil
	}
	var err error
	switch c.Type {
	case Text, JSON:
		c.Bytes[i] = []byte(text)
	case Bytea:
		c.Bytes[i], err = hex.DecodeString(strings.TrimPrefix(text, "\\x"))
	case Real, Double:
		c.Floats[i], err = strconv.ParseFloat(text, 64)
	case Boolean:
		var b bool
		b, err = strconv.ParseBool(text)
		c.Ints[i] = 0
		if b {
			c.Ints[i] = 1
		}
	case Date:
		var t time.Time
		t, err = time.Parse(time.DateOnly, text)
		c.Ints[i] = t.Unix() / 86400
	case Timestamp:
		var t time.Time
		t, err = time.Parse("2006-01-02 15:04:05.999999", text)
		c.Ints[i] = t.UnixMicro()
	default:
		bits := map[Type]int{Smallint: 16, Integer: 32, Bigint: 64}[c.Type]
		c.Ints[i], err = strconv.ParseInt(text, 10, bits)
	}
	if err != nil {
		return fmt.Errorf("%q is not a valid %s", text, c.Type)
	}
	return nil
}
