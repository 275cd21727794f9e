package sqlfuncs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// The MySQL wire's view of wasm functions: information_schema.routines and .parameters list
// them (and so SHOW FUNCTION STATUS, which go-mysql-server answers from routines), and SHOW
// CREATE FUNCTION prints their definition with the module named by its hash, not its bytes.
//
// wasm functions belong to no database (name resolution ignores the schema), so a function
// without a schema is listed under the session's current database: the one a tool asks about
// with WHERE routine_schema = DATABASE() or SHOW FUNCTION STATUS WHERE Db = ....

// infoSchema is go-mysql-server's information_schema with wasm functions added to routines and
// parameters.
type infoSchema struct {
	sql.Database
	reg *Registry
}

// GetTableInsensitive implements the interface sql.Database.
func (d *infoSchema) GetTableInsensitive(ctx *sql.Context, name string) (sql.Table, bool, error) {
	t, ok, err := d.Database.GetTableInsensitive(ctx, name)
	if !ok || err != nil {
		return t, ok, err
	}
	switch strings.ToLower(name) {
	case "routines":
		return &routinesTable{Table: t, reg: d.reg, rows: routineRows}, true, nil
	case "parameters":
		return &routinesTable{Table: t, reg: d.reg, rows: parameterRows}, true, nil
	}
	return t, true, nil
}

// routinesTable is one of go-mysql-server's routine tables, with rows for the wasm functions
// after its own (the stored procedures).
type routinesTable struct {
	sql.Table
	reg  *Registry
	rows func(*sql.Context, []*Overload) ([]sql.Row, error)
}

var _ sql.CatalogTable = (*routinesTable)(nil)
var _ sql.Databaseable = (*routinesTable)(nil)

// Database implements the interface sql.Databaseable.
func (t *routinesTable) Database() string { return "information_schema" }

// AssignCatalog implements the interface sql.CatalogTable.
func (t *routinesTable) AssignCatalog(cat sql.Catalog) sql.Table {
	if c, ok := t.Table.(sql.CatalogTable); ok {
		return &routinesTable{Table: c.AssignCatalog(cat), reg: t.reg, rows: t.rows}
	}
	return t
}

// AssignProcedures passes the stored procedures to go-mysql-server's table (its analyzer calls it
// through an interface of its own).
func (t *routinesTable) AssignProcedures(p map[string][]*plan.Procedure) sql.Table {
	if a, ok := t.Table.(interface {
		AssignProcedures(map[string][]*plan.Procedure) sql.Table
	}); ok {
		return &routinesTable{Table: a.AssignProcedures(p), reg: t.reg, rows: t.rows}
	}
	return t
}

// PartitionRows implements the interface sql.Table.
func (t *routinesTable) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	iter, err := t.Table.PartitionRows(ctx, p)
	if err != nil {
		return nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return nil, err
	}
	more, err := t.rows(ctx, t.reg.Functions())
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(append(rows, more...)...), nil
}

// mysqlType describes a wasm function's argument or result type as information_schema does.
type mysqlType struct {
	dataType, dtd           string
	maxLen, octetLen        any // int64 or nil
	precision, scale, dtPre any // uint32 or nil
	charset, collation      any // string or nil
}

func mysqlTypeOf(t udf.Type) mysqlType {
	num := func(dt string, prec uint32) mysqlType {
		return mysqlType{dataType: dt, dtd: dt, precision: prec, scale: uint32(0)}
	}
	switch t {
	case udf.Smallint:
		return num("smallint", 5)
	case udf.Integer:
		return num("int", 10)
	case udf.Bigint:
		return num("bigint", 19)
	case udf.Boolean:
		m := num("tinyint", 3)
		m.dtd = "tinyint(1)"
		return m
	case udf.Real:
		return mysqlType{dataType: "float", dtd: "float", precision: uint32(12)}
	case udf.Double:
		return mysqlType{dataType: "double", dtd: "double", precision: uint32(22)}
	case udf.Text:
		return mysqlType{dataType: "longtext", dtd: "longtext", maxLen: int64(4294967295), octetLen: int64(4294967295),
			charset: "utf8mb4", collation: "utf8mb4_0900_bin"}
	case udf.Bytea:
		return mysqlType{dataType: "longblob", dtd: "longblob", maxLen: int64(4294967295), octetLen: int64(4294967295)}
	case udf.JSON:
		return mysqlType{dataType: "json", dtd: "json"}
	case udf.Date:
		return mysqlType{dataType: "date", dtd: "date"}
	case udf.Timestamp:
		return mysqlType{dataType: "datetime", dtd: "datetime(6)", dtPre: uint32(6)}
	}
	return mysqlType{dataType: t.String(), dtd: t.String()}
}

// specificNames names each overload: its name, or name(types) where the name is overloaded
// (MySQL has no overloading; a routine's specific name joins routines to parameters).
func specificNames(ovs []*Overload) map[*Overload]string {
	count := map[string]int{}
	for _, ov := range ovs {
		count[ov.Def.Name]++
	}
	names := map[*Overload]string{}
	for _, ov := range ovs {
		names[ov] = ov.Def.Name
		if count[ov.Def.Name] > 1 {
			names[ov] = ov.Def.Name + "(" + strings.Join(ov.Def.ArgTypes, ", ") + ")"
		}
	}
	return names
}

func schemaOf(ctx *sql.Context, def catalog.Function) string {
	if def.Schema != "" {
		return def.Schema
	}
	return ctx.GetCurrentDatabase()
}

func sessionString(ctx *sql.Context, name string) string {
	v, err := ctx.GetSessionVariable(ctx, name)
	if err != nil {
		return ""
	}
	return fmt.Sprint(v)
}

// routineRows are the information_schema.routines rows of the wasm functions.
func routineRows(ctx *sql.Context, ovs []*Overload) ([]sql.Row, error) {
	names := specificNames(ovs)
	cs, coll, mode := sessionString(ctx, "character_set_client"), sessionString(ctx, "collation_connection"), sessionString(ctx, "sql_mode")
	dbColl := sessionString(ctx, "collation_server")
	var rows []sql.Row
	for _, ov := range ovs {
		d := ov.Def
		r := mysqlTypeOf(ov.Result)
		deterministic := "NO"
		if d.Volatility == "IMMUTABLE" {
			deterministic = "YES"
		}
		altered := d.Created
		if !d.Replaced.IsZero() {
			altered = d.Replaced
		}
		rows = append(rows, sql.Row{
			names[ov],        // SPECIFIC_NAME
			"def",            // ROUTINE_CATALOG
			schemaOf(ctx, d), // ROUTINE_SCHEMA
			d.Name,           // ROUTINE_NAME
			"FUNCTION",       // ROUTINE_TYPE
			r.dataType,       // DATA_TYPE
			r.maxLen,         // CHARACTER_MAXIMUM_LENGTH
			r.octetLen,       // CHARACTER_OCTET_LENGTH
			r.precision,      // NUMERIC_PRECISION
			r.scale,          // NUMERIC_SCALE
			r.dtPre,          // DATETIME_PRECISION
			r.charset,        // CHARACTER_SET_NAME
			r.collation,      // COLLATION_NAME
			r.dtd,            // DTD_IDENTIFIER
			"SQL",            // ROUTINE_BODY (MySQL's only value; the language is below)
			moduleClause(d),  // ROUTINE_DEFINITION
			nil,              // EXTERNAL_NAME: binary(0) as in MySQL; the export is in ROUTINE_DEFINITION
			"WASM",           // EXTERNAL_LANGUAGE
			"SQL",            // PARAMETER_STYLE
			deterministic,    // IS_DETERMINISTIC
			"NO SQL",         // SQL_DATA_ACCESS: a wasm function cannot run SQL
			nil,              // SQL_PATH
			"INVOKER",        // SECURITY_TYPE
			d.Created.UTC(),  // CREATED
			altered.UTC(),    // LAST_ALTERED
			mode,             // SQL_MODE
			"",               // ROUTINE_COMMENT
			"",               // DEFINER: wasql does not record who created a function
			cs,               // CHARACTER_SET_CLIENT
			coll,             // COLLATION_CONNECTION
			dbColl,           // DATABASE_COLLATION
		})
	}
	return rows, nil
}

// parameterRows are the information_schema.parameters rows of the wasm functions: as MySQL
// lists a function's, the result at ordinal 0, then the arguments.
func parameterRows(ctx *sql.Context, ovs []*Overload) ([]sql.Row, error) {
	names := specificNames(ovs)
	var rows []sql.Row
	for _, ov := range ovs {
		row := func(pos uint64, mode, name any, t udf.Type) sql.Row {
			m := mysqlTypeOf(t)
			var scale any
			if m.scale != nil {
				scale = int64(0)
			}
			return sql.Row{"def", schemaOf(ctx, ov.Def), names[ov], pos, mode, name, m.dataType, m.maxLen, m.octetLen,
				m.precision, scale, m.dtPre, m.charset, m.collation, m.dtd, "FUNCTION"}
		}
		rows = append(rows, row(0, nil, nil, ov.Result))
		for i, t := range ov.Args {
			var name any
			if i < len(ov.Def.ArgNames) && ov.Def.ArgNames[i] != "" {
				name = ov.Def.ArgNames[i]
			}
			rows = append(rows, row(uint64(i+1), "IN", name, t))
		}
	}
	return rows, nil
}

// moduleClause is the AS clause of a definition, with the module named by its hash and size: the
// bytes themselves are in the catalog, not in SQL text.
func moduleClause(d catalog.Function) string {
	return fmt.Sprintf("'<module sha256:%s, %d bytes>', '%s'", d.ModuleHash, d.ModuleSize, strings.ReplaceAll(d.Export, "'", "''"))
}

// CreateText is the CREATE FUNCTION statement of a definition, as SHOW CREATE FUNCTION prints
// it. The module appears as '<module sha256:HEX, N bytes>': the statement documents the function
// and is not meant to be run again as it is (the module bytes are needed for that).
func CreateText(d catalog.Function) string {
	var b strings.Builder
	b.WriteString("CREATE FUNCTION ")
	if d.Schema != "" {
		b.WriteString(quoteName(d.Schema) + ".")
	}
	b.WriteString(quoteName(d.Name) + "(")
	for i, t := range d.ArgTypes {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(d.ArgNames) && d.ArgNames[i] != "" {
			b.WriteString(quoteName(d.ArgNames[i]) + " ")
		}
		b.WriteString(t)
	}
	fmt.Fprintf(&b, ") RETURNS %s LANGUAGE wasm %s", d.ReturnType, d.Volatility)
	if d.Strict {
		b.WriteString(" STRICT")
	} else {
		b.WriteString(" CALLED ON NULL INPUT")
	}
	if d.Parallel != "" && d.Parallel != "UNSAFE" {
		b.WriteString(" PARALLEL " + d.Parallel)
	}
	if d.Cost != 0 && d.Cost != 1 {
		fmt.Fprintf(&b, " COST %g", d.Cost)
	}
	b.WriteString(" AS " + moduleClause(d))
	if len(d.Options) > 0 {
		keys := make([]string, 0, len(d.Options))
		for k := range d.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" WITH (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = '%s'", k, strings.ReplaceAll(d.Options[k], "'", "''"))
		}
		b.WriteString(")")
	}
	return b.String()
}

var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// quoteName quotes an identifier unless it is lower-case letters, digits and underscores.
func quoteName(s string) string {
	if plainName.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// showCreateFunction matches SHOW CREATE FUNCTION [db.]name, which go-mysql-server's grammar
// lacks; the name may be backquoted.
var showCreateFunction = regexp.MustCompile("(?is)^\\s*show\\s+create\\s+function\\s+(?:(?:`(?:[^`]|``)+`|[\\w$]+)\\s*\\.\\s*)?(`(?:[^`]|``)+`|[\\w$]+)\\s*(;|$)")

// parseShowCreate recognises SHOW CREATE FUNCTION; rest is the text after it.
func parseShowCreate(query string) (name, rest string, ok bool) {
	m := showCreateFunction.FindStringSubmatchIndex(query)
	if m == nil {
		return "", "", false
	}
	name = query[m[2]:m[3]]
	if strings.HasPrefix(name, "`") {
		name = strings.ReplaceAll(name[1:len(name)-1], "``", "`")
	}
	return name, query[m[1]:], true
}

func (p *Parser) showCreate(name string) ast.Statement {
	return ast.InjectedStatement{Statement: &showCreateInjectable{reg: p.reg, name: name},
		Auth: ast.AuthInformation{AuthType: ast.AuthType_IGNORE}}
}

type showCreateInjectable struct {
	reg  *Registry
	name string
}

// WithResolvedChildren implements the interface ast.Injectable.
func (s *showCreateInjectable) WithResolvedChildren([]any) (any, error) {
	return &ShowCreateFunction{reg: s.reg, Name: s.name}, nil
}

// ShowCreateFunction is the plan node of SHOW CREATE FUNCTION: one row per overload, with
// MySQL's columns.
type ShowCreateFunction struct {
	reg  *Registry
	Name string
}

var _ sql.ExecSourceRel = (*ShowCreateFunction)(nil)

var showCreateSchema = sql.Schema{
	{Name: "Function", Type: types.LongText},
	{Name: "sql_mode", Type: types.LongText},
	{Name: "Create Function", Type: types.LongText},
	{Name: "character_set_client", Type: types.LongText},
	{Name: "collation_connection", Type: types.LongText},
	{Name: "Database Collation", Type: types.LongText},
}

// Resolved implements the interface sql.Node.
func (s *ShowCreateFunction) Resolved() bool { return true }

// String implements the interface sql.Node.
func (s *ShowCreateFunction) String() string { return "SHOW CREATE FUNCTION " + s.Name }

// Schema implements the interface sql.Node.
func (s *ShowCreateFunction) Schema() sql.Schema { return showCreateSchema }

// Children implements the interface sql.Node.
func (s *ShowCreateFunction) Children() []sql.Node { return nil }

// WithChildren implements the interface sql.Node.
func (s *ShowCreateFunction) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(s, len(children), 0)
	}
	return s, nil
}

// IsReadOnly implements the interface sql.Node.
func (s *ShowCreateFunction) IsReadOnly() bool { return true }

// RowIter implements the interface sql.ExecSourceRel.
func (s *ShowCreateFunction) RowIter(ctx *sql.Context, _ sql.Row) (sql.RowIter, error) {
	var rows []sql.Row
	for _, ov := range s.reg.Functions() {
		if strings.EqualFold(ov.Def.Name, s.Name) {
			rows = append(rows, sql.Row{ov.Def.Name, sessionString(ctx, "sql_mode"), CreateText(ov.Def),
				sessionString(ctx, "character_set_client"), sessionString(ctx, "collation_connection"),
				sessionString(ctx, "collation_server")})
		}
	}
	if len(rows) == 0 {
		return nil, wireError(&ParseError{Code: sqlstate.UndefinedFunction, Msg: fmt.Sprintf("FUNCTION %s does not exist", s.Name)})
	}
	return sql.RowsToRowIter(rows...), nil
}
