package pgcatalog

import (
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/proxy"
)

// column is one column of a catalog table: its Postgres type (what pg_attribute shows) and the
// GMS type its values have.
type column struct {
	name string
	typ  uint32 // Postgres type OID
	kind colKind
}

// colKind is how a catalog column is stored in GMS.
type colKind int

const (
	kText   colKind = iota // name, text, "char", arrays, vectors: their Postgres text form
	kOID                   // oid, regproc, regclass, xid: uint32
	kBool                  // bool: GMS boolean (int8 0 or 1)
	kInt2                  // int16
	kInt4                  // int32
	kInt8                  // int64
	kFloat4                // float32
	kFloat8                // float64
	kTime                  // timestamptz
)

func (k colKind) sqlType() sql.Type {
	switch k {
	case kOID:
		return types.Uint32
	case kBool:
		return types.Boolean
	case kInt2:
		return types.Int16
	case kInt4:
		return types.Int32
	case kInt8:
		return types.Int64
	case kFloat4:
		return types.Float32
	case kFloat8:
		return types.Float64
	case kTime:
		return types.Timestamp
	}
	return types.LongText
}

// value converts what a rows function wrote (Go ints, bools, bytes for "char", strings, nil)
// to the column's GMS representation; false if v does not fit the column.
func (k colKind) value(v any) (any, bool) {
	if v == nil {
		return nil, true
	}
	switch k {
	case kText:
		switch x := v.(type) {
		case byte:
			if x == 0 {
				return "", true
			}
			return string(rune(x)), true
		case string:
			return x, true
		}
	case kBool:
		if b, ok := v.(bool); ok {
			if b {
				return int8(1), true
			}
			return int8(0), true
		}
	case kTime:
		if t, ok := v.(time.Time); ok {
			return t, true
		}
	case kFloat4, kFloat8:
		f, ok := v.(float64)
		if !ok {
			n, isInt := proxy.Int64(v)
			if !isInt {
				break
			}
			f = float64(n)
		}
		if k == kFloat4 {
			return float32(f), true
		}
		return f, true
	default:
		n, ok := proxy.Int64(v)
		if !ok {
			break
		}
		switch k {
		case kOID:
			return uint32(n), true
		case kInt2:
			return int16(n), true
		case kInt4:
			return int32(n), true
		}
		return n, true
	}
	return nil, false
}

// cols parses a column list written as Postgres declares it: "oid oid, relname name, ...".
func cols(spec string) []column {
	var out []column
	for _, part := range strings.Split(spec, ",") {
		f := strings.Fields(part)
		name, typ := f[0], strings.Join(f[1:], " ")
		c := column{name: name, kind: kText}
		switch typ {
		case "oid", "regproc", "regclass", "regtype", "regnamespace", "xid":
			c.kind = kOID
		case "bool":
			c.kind = kBool
		case "int2":
			c.kind = kInt2
		case "int4":
			c.kind = kInt4
		case "int8":
			c.kind = kInt8
		case "float4":
			c.kind = kFloat4
		case "float8":
			c.kind = kFloat8
		case "timestamptz":
			c.kind = kTime
		}
		switch typ {
		case "char":
			c.typ = OIDChar
		case "char[]":
			c.typ = typesByOID[OIDChar].array
		default:
			if t := typeByName(typ); t != nil {
				c.typ = t.oid
			} else {
				panic("pgcatalog: unknown column type " + typ)
			}
		}
		out = append(out, c)
	}
	return out
}

// def declares a catalog table of schema nsp.
func def(nsp, name, spec string, rows func(s *snapshot) []row) *table {
	return &table{name: name, nsp: nsp, cols: cols(spec), rows: rows}
}

// defView declares a catalog table that is a view in Postgres.
func defView(nsp, name, spec string, rows func(s *snapshot) []row) *table {
	t := def(nsp, name, spec, rows)
	t.view = true
	return t
}

// instantiate returns the tables of defs for catalog c, in GMS database db.
func instantiate(c *Catalog, db string, defs []*table) []*table {
	out := make([]*table, len(defs))
	for i, d := range defs {
		t := *d
		t.cat = c
		t.schema = make(sql.Schema, len(t.cols))
		for j, col := range t.cols {
			t.schema[j] = &sql.Column{Name: col.name, Type: col.kind.sqlType(), Nullable: true, Source: t.name, DatabaseSource: db}
		}
		out[i] = &t
	}
	return out
}

func empty(*snapshot) []row { return nil }
