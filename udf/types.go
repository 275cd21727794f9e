package udf

import (
	"fmt"
	"strconv"
	"strings"

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

// reset makes c n rows of type t, not NULL, reusing its storage when it is large enough.
func (c *Column) reset(t Type, n int) {
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

// format renders row i for error messages, SQL-literal style and short.
func (c *Column) format(i int) string {
	if c.IsNull(i) {
		return "NULL"
	}
	switch {
	case c.Type == Text || c.Type == JSON:
		s := string(c.Bytes[i])
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return strconv.Quote(s)
	case c.Type == Bytea:
		b := c.Bytes[i]
		if len(b) > 32 {
			return fmt.Sprintf("'\\x%x…'", b[:32])
		}
		return fmt.Sprintf("'\\x%x'", b)
	case c.Type == Real || c.Type == Double:
		return fmt.Sprint(c.Floats[i])
	case c.Type == Boolean:
		return fmt.Sprint(c.Ints[i] != 0)
	}
	return fmt.Sprint(c.Ints[i])
}
