package pgcatalog

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/udf"
)

// Type OIDs of Postgres's built-in types (pg_type.oid), the same numbers in every Postgres,
// beyond the types the wire serves (proxy.OIDBool, proxy.OIDInt8, ...).
const (
	OIDChar         uint32 = 18
	OIDName         uint32 = 19
	OIDInt2Vector   uint32 = 22
	OIDRegproc      uint32 = 24
	OIDOid          uint32 = 26
	OIDOidVector    uint32 = 30
	OIDBpchar       uint32 = 1042
	OIDTime         uint32 = 1083
	OIDInterval     uint32 = 1186
	OIDRegclass     uint32 = 2205
	OIDRegtype      uint32 = 2206
	OIDRecord       uint32 = 2249
	OIDVoid         uint32 = 2278
	OIDUUID         uint32 = 2950
	OIDJSONB        uint32 = 3802
	OIDRegnamespace uint32 = 4089
	OIDRegrole      uint32 = 4096
	OIDXid          uint32 = 28
	OIDCstring      uint32 = 2275
	OIDAclitem      uint32 = 1033
	OIDPgNodeTree   uint32 = 194
)

// pgType is one row of pg_type.
type pgType struct {
	oid       uint32
	name      string // typname
	sqlName   string // what format_type prints without a modifier
	len       int16
	category  byte
	preferred bool
	elem      uint32 // element type of an array (typelem)
	array     uint32 // the array type of this type (typarray)
	input     string // the input function (typinput), a pg_proc row of its own
	inputOID  uint32
	collation uint32
	typtype   byte // 'b' base, 'p' pseudo
}

func (t *pgType) byVal() bool { return t.len > 0 && t.len <= 8 }

func (t *pgType) align() string {
	switch {
	case t.len == 2:
		return "s"
	case t.len == 8:
		return "d"
	case t.len == 1 || t.len == 16 && t.oid == OIDUUID:
		return "c"
	}
	return "i"
}

// builtinTypes are the types pg_type lists: the base types wasql can produce or clients ask
// about, then one array type per base type (the same OIDs as Postgres's).
var builtinTypes, typesByOID = func() ([]*pgType, map[uint32]*pgType) {
	base := []*pgType{
		{oid: proxy.OIDBool, name: "bool", sqlName: "boolean", len: 1, category: 'B', preferred: true, array: 1000, input: "boolin", inputOID: 1242},
		{oid: proxy.OIDBytea, name: "bytea", len: -1, category: 'U', array: 1001, input: "byteain", inputOID: 1244},
		{oid: OIDChar, name: "char", sqlName: `"char"`, len: 1, category: 'Z', array: 1002, input: "charin", inputOID: 1245},
		{oid: OIDName, name: "name", len: 64, category: 'S', array: 1003, input: "namein", inputOID: 34, collation: OIDCollationC},
		{oid: proxy.OIDInt8, name: "int8", sqlName: "bigint", len: 8, category: 'N', array: 1016, input: "int8in", inputOID: 460},
		{oid: proxy.OIDInt2, name: "int2", sqlName: "smallint", len: 2, category: 'N', array: 1005, input: "int2in", inputOID: 38},
		{oid: OIDInt2Vector, name: "int2vector", len: -1, category: 'A', elem: proxy.OIDInt2, array: 1006, input: "int2vectorin", inputOID: 40},
		{oid: proxy.OIDInt4, name: "int4", sqlName: "integer", len: 4, category: 'N', array: 1007, input: "int4in", inputOID: 42},
		{oid: OIDRegproc, name: "regproc", len: 4, category: 'N', array: 1008, input: "regprocin", inputOID: 44},
		{oid: proxy.OIDText, name: "text", len: -1, category: 'S', preferred: true, array: 1009, input: "textin", inputOID: 46, collation: OIDCollationDefault},
		{oid: OIDOid, name: "oid", len: 4, category: 'N', preferred: true, array: 1028, input: "oidin", inputOID: 1798},
		{oid: OIDOidVector, name: "oidvector", len: -1, category: 'A', elem: OIDOid, array: 1013, input: "oidvectorin", inputOID: 54},
		{oid: proxy.OIDJSON, name: "json", len: -1, category: 'U', array: 199, input: "json_in", inputOID: 321},
		{oid: proxy.OIDFloat4, name: "float4", sqlName: "real", len: 4, category: 'N', array: 1021, input: "float4in", inputOID: 200},
		{oid: proxy.OIDFloat8, name: "float8", sqlName: "double precision", len: 8, category: 'N', preferred: true, array: 1022, input: "float8in", inputOID: 214},
		{oid: proxy.OIDUnknown, name: "unknown", len: -2, category: 'X', typtype: 'p', input: "unknownin", inputOID: 109},
		{oid: OIDBpchar, name: "bpchar", sqlName: "character", len: -1, category: 'S', array: 1014, input: "bpcharin", inputOID: 1044, collation: OIDCollationDefault},
		{oid: proxy.OIDVarchar, name: "varchar", sqlName: "character varying", len: -1, category: 'S', array: 1015, input: "varcharin", inputOID: 1046, collation: OIDCollationDefault},
		{oid: proxy.OIDDate, name: "date", len: 4, category: 'D', array: 1182, input: "date_in", inputOID: 1084},
		{oid: OIDTime, name: "time", sqlName: "time without time zone", len: 8, category: 'D', array: 1183, input: "time_in", inputOID: 1143},
		{oid: proxy.OIDTimestamp, name: "timestamp", sqlName: "timestamp without time zone", len: 8, category: 'D', array: 1115, input: "timestamp_in", inputOID: 1312},
		{oid: proxy.OIDTimestampTZ, name: "timestamptz", sqlName: "timestamp with time zone", len: 8, category: 'D', preferred: true, array: 1185, input: "timestamptz_in", inputOID: 1150},
		{oid: OIDInterval, name: "interval", len: 16, category: 'T', preferred: true, array: 1187, input: "interval_in", inputOID: 1160},
		{oid: proxy.OIDNumeric, name: "numeric", len: -1, category: 'N', array: 1231, input: "numeric_in", inputOID: 1701},
		{oid: OIDRegclass, name: "regclass", len: 4, category: 'N', array: 2210, input: "regclassin", inputOID: 2218},
		{oid: OIDRegtype, name: "regtype", len: 4, category: 'N', array: 2211, input: "regtypein", inputOID: 2220},
		{oid: OIDRecord, name: "record", len: -1, category: 'P', typtype: 'p', array: 2287, input: "record_in", inputOID: 2290},
		{oid: OIDVoid, name: "void", len: 4, category: 'P', typtype: 'p', input: "void_in", inputOID: 2298},
		{oid: OIDUUID, name: "uuid", len: 16, category: 'U', array: 2951, input: "uuid_in", inputOID: 2952},
		{oid: OIDJSONB, name: "jsonb", len: -1, category: 'U', array: 3807, input: "jsonb_in", inputOID: 3806},
		{oid: OIDRegnamespace, name: "regnamespace", len: 4, category: 'N', array: 4090, input: "regnamespacein", inputOID: 4084},
		{oid: OIDRegrole, name: "regrole", len: 4, category: 'N', array: 4097, input: "regrolein", inputOID: 4098},
		{oid: OIDCstring, name: "cstring", len: -2, category: 'P', typtype: 'p', array: 1263, input: "cstring_in", inputOID: 2292},
		{oid: OIDXid, name: "xid", len: 4, category: 'U', array: 1011, input: "xidin", inputOID: 50},
		{oid: OIDAclitem, name: "aclitem", len: 12, category: 'U', array: 1034, input: "aclitemin", inputOID: 1031},
		{oid: OIDPgNodeTree, name: "pg_node_tree", len: -1, category: 'Z', input: "pg_node_tree_in", inputOID: 195, collation: OIDCollationDefault},
	}
	all := base
	byOID := map[uint32]*pgType{}
	for _, t := range base {
		if t.sqlName == "" {
			t.sqlName = t.name
		}
		if t.typtype == 0 {
			t.typtype = 'b'
		}
		byOID[t.oid] = t
		if t.array != 0 {
			all = append(all, &pgType{oid: t.array, name: "_" + t.name, sqlName: t.sqlName + "[]", len: -1,
				category: 'A', elem: t.oid, input: "array_in", inputOID: 750, collation: t.collation, typtype: 'b'})
		}
	}
	for _, t := range all {
		byOID[t.oid] = t
	}
	return all, byOID
}()

// typeByName finds a type by typname ("int4", "_int4"), by the name format_type prints
// ("integer", "character varying") or by a common alias ("int", "varchar"). A trailing "[]"
// names the array type.
func typeByName(name string) *pgType {
	name = strings.Join(strings.Fields(strings.ToLower(name)), " ")
	if elem, ok := strings.CutSuffix(name, "[]"); ok {
		if t := typeByName(elem); t != nil && t.array != 0 {
			return typesByOID[t.array]
		}
		return nil
	}
	if alias, ok := typeAliases[name]; ok {
		return typesByOID[alias]
	}
	for _, t := range builtinTypes {
		if t.name == name || t.sqlName == name {
			return t
		}
	}
	return nil
}

var typeAliases = map[string]uint32{
	"int": proxy.OIDInt4, "boolean": proxy.OIDBool, "character varying": proxy.OIDVarchar, "char": OIDBpchar,
	"character": OIDBpchar, "timestamp": proxy.OIDTimestamp, "timestamptz": proxy.OIDTimestampTZ, "time": OIDTime,
	"decimal": proxy.OIDNumeric, "float": proxy.OIDFloat8, `"char"`: OIDChar, "double": proxy.OIDFloat8,
}

// TypeOID maps a go-mysql-server type to the Postgres type a client should see: in result
// columns (RowDescription), pg_attribute.atttypid and information_schema.columns. It is the one
// place this mapping lives.
func TypeOID(t sql.Type) uint32 {
	switch {
	case t == types.Boolean:
		return proxy.OIDBool
	case t == types.Int8 || t == types.Int16 || t == types.Uint8:
		return proxy.OIDInt2
	case t == types.Int24 || t == types.Int32 || t == types.Uint16 || t == types.Uint24:
		return proxy.OIDInt4
	case types.IsInteger(t):
		return proxy.OIDInt8
	case t == types.Float32:
		return proxy.OIDFloat4
	case types.IsFloat(t):
		return proxy.OIDFloat8
	case types.IsDecimal(t):
		return proxy.OIDNumeric
	case types.IsJSON(t):
		return proxy.OIDJSON
	case types.IsBinaryType(t) || types.IsBlobType(t):
		return proxy.OIDBytea
	case types.IsDateType(t):
		return proxy.OIDDate
	case types.IsTimestampType(t): // timestamptz columns are TIMESTAMP, in UTC
		return proxy.OIDTimestampTZ
	case types.IsTime(t):
		return proxy.OIDTimestamp
	case t != nil && t.Type() == sqltypes.VarChar:
		return proxy.OIDVarchar
	case t != nil && t.Type() == sqltypes.Char:
		return OIDBpchar
	}
	return proxy.OIDText
}

// TypeMod is the type modifier Postgres keeps with a column of type t (pg_attribute.atttypmod):
// the length plus 4 for varchar(n) and char(n), (precision<<16 | scale) plus 4 for numeric, -1
// otherwise.
func TypeMod(t sql.Type) int32 {
	switch TypeOID(t) {
	case proxy.OIDVarchar, OIDBpchar:
		if st, ok := t.(sql.StringType); ok && st.Length() > 0 {
			return int32(st.Length()) + 4
		}
	case proxy.OIDNumeric:
		if dt, ok := t.(sql.DecimalType); ok {
			return int32(dt.Precision())<<16 | int32(dt.Scale()) + 4
		}
	}
	return -1
}

// UDFTypeOID maps a wasm function's argument or result type to its Postgres type.
func UDFTypeOID(t udf.Type) uint32 {
	switch t {
	case udf.Smallint:
		return proxy.OIDInt2
	case udf.Integer:
		return proxy.OIDInt4
	case udf.Bigint:
		return proxy.OIDInt8
	case udf.Real:
		return proxy.OIDFloat4
	case udf.Double:
		return proxy.OIDFloat8
	case udf.Boolean:
		return proxy.OIDBool
	case udf.Bytea:
		return proxy.OIDBytea
	case udf.JSON:
		return proxy.OIDJSON
	case udf.Date:
		return proxy.OIDDate
	case udf.Timestamp:
		return proxy.OIDTimestamp
	}
	return proxy.OIDText
}

// FormatType is format_type(oid, typmod): the SQL name of a type with its modifier, "???" for an
// unknown OID.
func FormatType(oid uint32, typmod int32) string {
	t := typesByOID[oid]
	if t == nil {
		return "???"
	}
	if t.category == 'A' && t.elem != 0 && t.oid != OIDInt2Vector && t.oid != OIDOidVector {
		return FormatType(t.elem, typmod) + "[]"
	}
	switch oid {
	case proxy.OIDVarchar:
		if typmod >= 4 {
			return fmt.Sprintf("character varying(%d)", typmod-4)
		}
	case OIDBpchar:
		if typmod >= 4 {
			return fmt.Sprintf("character(%d)", typmod-4)
		}
		return "bpchar"
	case proxy.OIDNumeric:
		if typmod >= 4 {
			return fmt.Sprintf("numeric(%d,%d)", (typmod-4)>>16&0xffff, (typmod-4)&0xffff)
		}
	case proxy.OIDTimestamp, proxy.OIDTimestampTZ, OIDTime:
		if typmod >= 0 {
			base, zone, _ := strings.Cut(t.sqlName, " ")
			return fmt.Sprintf("%s(%d) %s", base, typmod, zone)
		}
	}
	return t.sqlName
}

// infoDataType is information_schema's data_type: the SQL name without modifier, ARRAY for
// arrays and USER-DEFINED for the rest.
func infoDataType(oid uint32) string {
	t := typesByOID[oid]
	switch {
	case t == nil:
		return "USER-DEFINED"
	case t.category == 'A':
		return "ARRAY"
	case oid == OIDBpchar:
		return "character"
	}
	return t.sqlName
}
