package pgcatalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/proxy"
)

// Function returns the catalog function name (case-insensitive), for the engine's function
// provider: the catalog helpers psql and drivers call, the reg* casts the translator emits for
// ::regclass and friends, and the text-array helpers.
func (c *Catalog) Function(_ *sql.Context, name string) (sql.Function, bool) {
	name = strings.ToLower(name)
	f, ok := functions[name]
	if !ok {
		return nil, false
	}
	return sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) < f.min || f.max >= 0 && len(args) > f.max {
			want := strconv.Itoa(f.min)
			if f.max != f.min {
				want = fmt.Sprintf("%d to %d", f.min, f.max)
			}
			return nil, sql.ErrInvalidArgumentNumber.New(name, want, len(args))
		}
		return &call{name: name, fn: f, cat: c, args: args}, nil
	}}, true
}

// fn describes one function: its arity (max -1: any number), result type, and evaluation.
// A strict function returns NULL when an argument is NULL, without calling eval.
type fn struct {
	min, max int
	typ      sql.Type
	typeOf   func(args []sql.Expression) sql.Type // the result type when it depends on the arguments
	strict   bool
	eval     func(e *env, args []any) (any, error)
}

// env is what a function evaluates in: the statement's context, the catalog and the call.
type env struct {
	ctx  *sql.Context
	cat  *Catalog
	args []sql.Expression
}

func (e *env) snapshot() (*snapshot, error) { return e.cat.snapshot(e.ctx) }

// call is a call of a catalog function: the one GMS expression type behind every function.
type call struct {
	name string
	fn   fn
	cat  *Catalog
	args []sql.Expression
}

var _ sql.FunctionExpression = (*call)(nil)

func (c *call) FunctionName() string { return c.name }
func (c *call) Description() string  { return "Postgres catalog function " + c.name }
func (c *call) Type() sql.Type {
	if c.fn.typeOf != nil {
		return c.fn.typeOf(c.args)
	}
	return c.fn.typ
}
func (c *call) IsNullable() bool { return true }
func (c *call) Children() []sql.Expression {
	return c.args
}

func (c *call) Resolved() bool {
	for _, a := range c.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}

func (c *call) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.String()
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}

func (c *call) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(c.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), len(c.args))
	}
	cp := *c
	cp.args = children
	return &cp, nil
}

func (c *call) Eval(ctx *sql.Context, r sql.Row) (any, error) {
	vals := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := a.Eval(ctx, r)
		if err == nil {
			v, err = sql.UnwrapAny(ctx, v) // a Dolt text or blob value
		}
		if err != nil {
			return nil, err
		}
		if v == nil && c.fn.strict {
			return nil, nil
		}
		vals[i] = v
	}
	return c.fn.eval(&env{ctx: ctx, cat: c.cat, args: c.args}, vals)
}

// pgError is an error with its SQLSTATE (the wire reports it through sqlstate.Of).
type pgError struct{ code, msg string }

func (e *pgError) Error() string    { return e.msg }
func (e *pgError) SQLState() string { return e.code }

var (
	oidType  = types.Uint32
	textType = types.LongText
	boolType = types.Boolean
)

// constant returns a function of min to max arguments that always returns v.
func constant(min, max int, typ sql.Type, v any) fn {
	return fn{min: min, max: max, typ: typ, eval: func(*env, []any) (any, error) { return v, nil }}
}

// withSnapshot wraps a strict function that reads the catalog and takes an OID first.
func withSnapshot(min, max int, typ sql.Type, f func(s *snapshot, oid uint32, args []any) (any, error)) fn {
	return fn{min: min, max: max, typ: typ, strict: true, eval: func(e *env, args []any) (any, error) {
		oid, err := toOID(args[0])
		if err != nil {
			return nil, err
		}
		s, err := e.snapshot()
		if err != nil {
			return nil, err
		}
		return f(s, oid, args)
	}}
}

var functions = map[string]fn{
	"pg_table_is_visible": withSnapshot(1, 1, boolType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if r := s.relByOID[oid]; r != nil {
			return r.nsp != "information_schema", nil
		}
		return nil, nil
	}),
	"pg_type_is_visible": withSnapshot(1, 1, boolType, func(_ *snapshot, oid uint32, _ []any) (any, error) {
		if typesByOID[oid] != nil {
			return true, nil
		}
		return nil, nil
	}),
	"pg_function_is_visible": withSnapshot(1, 1, boolType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if s.procByOID[oid] != nil {
			return true, nil
		}
		return nil, nil
	}),
	"pg_get_userbyid": withSnapshot(1, 1, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if name, ok := s.roleName(oid); ok {
			return name, nil
		}
		return fmt.Sprintf("unknown (OID=%d)", oid), nil
	}),
	"format_type": {min: 2, max: 2, typ: textType, eval: func(_ *env, args []any) (any, error) {
		if args[0] == nil {
			return nil, nil
		}
		oid, err := toOID(args[0])
		if err != nil {
			return nil, err
		}
		typmod := int64(-1)
		if args[1] != nil {
			if typmod, err = toInt(args[1]); err != nil {
				return nil, err
			}
		}
		return FormatType(oid, int32(typmod)), nil
	}},
	"pg_get_expr": {min: 2, max: 3, typ: textType, eval: func(_ *env, args []any) (any, error) {
		if args[0] == nil {
			return nil, nil
		}
		return textOf(args[0]), nil
	}},
	"pg_get_indexdef": withSnapshot(1, 3, textType, func(s *snapshot, oid uint32, args []any) (any, error) {
		idx := s.idxByOID[oid]
		if idx == nil {
			return nil, nil
		}
		if len(args) > 1 {
			col, err := toInt(args[1])
			if err != nil {
				return nil, err
			}
			if col > 0 {
				if int(col) > len(idx.keys) {
					return "", nil
				}
				return columnNames(idx.table, idx.keys[col-1:col])[0], nil
			}
		}
		return indexDef(idx), nil
	}),
	"pg_get_constraintdef": withSnapshot(1, 2, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if c := s.conByOID[oid]; c != nil {
			return constraintDef(c), nil
		}
		return nil, nil
	}),
	"pg_get_viewdef": withSnapshot(1, 2, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if r := s.relByOID[oid]; r != nil && r.kind == 'v' {
			return nullIfEmpty(r.viewDef), nil
		}
		return nil, nil
	}),
	"pg_get_function_result": withSnapshot(1, 1, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if p := s.procByOID[oid]; p != nil {
			return FormatType(p.result, -1), nil
		}
		return nil, nil
	}),
	"pg_get_function_arguments": withSnapshot(1, 1, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if p := s.procByOID[oid]; p != nil {
			return functionArgs(p), nil
		}
		return nil, nil
	}),
	"pg_get_function_identity_arguments": withSnapshot(1, 1, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if p := s.procByOID[oid]; p != nil {
			return functionArgs(p), nil
		}
		return nil, nil
	}),
	"pg_encoding_to_char": {min: 1, max: 1, typ: textType, strict: true, eval: func(_ *env, args []any) (any, error) {
		n, err := toInt(args[0])
		if err != nil {
			return nil, err
		}
		switch n {
		case 0:
			return "SQL_ASCII", nil
		case encodingUTF8:
			return "UTF8", nil
		}
		return "", nil
	}},
	"pg_partition_ancestors": withSnapshot(1, 1, oidType, func(_ *snapshot, oid uint32, _ []any) (any, error) {
		return oid, nil
	}),
	"pg_relation_is_publishable":      constant(1, 1, boolType, false),
	"col_description":                 constant(2, 2, textType, nil),
	"obj_description":                 constant(1, 2, textType, nil),
	"shobj_description":               constant(2, 2, textType, nil),
	"pg_get_triggerdef":               constant(1, 2, textType, nil),
	"pg_get_statisticsobjdef_columns": constant(1, 1, textType, nil),
	"pg_get_serial_sequence":          constant(2, 2, textType, nil),
	"pg_get_partkeydef":               constant(1, 1, textType, nil),
	"pg_my_temp_schema":               constant(0, 0, oidType, uint32(0)),
	"pg_is_other_temp_schema":         constant(1, 1, boolType, false),
	"has_table_privilege":             constant(2, 3, boolType, true),
	"has_schema_privilege":            constant(2, 3, boolType, true),
	"has_database_privilege":          constant(2, 3, boolType, true),
	"has_function_privilege":          constant(2, 3, boolType, true),
	"has_sequence_privilege":          constant(2, 3, boolType, true),
	"has_column_privilege":            constant(3, 4, boolType, true),
	"has_any_column_privilege":        constant(2, 3, boolType, true),
	"pg_total_relation_size":          constant(1, 1, types.Int64, int64(0)),
	"pg_relation_size":                constant(1, 2, types.Int64, int64(0)),
	"pg_table_size":                   constant(1, 1, types.Int64, int64(0)),
	"pg_indexes_size":                 constant(1, 1, types.Int64, int64(0)),
	"quote_ident": {min: 1, max: 1, typ: textType, strict: true, eval: func(_ *env, args []any) (any, error) {
		return quoteIdent(textOf(args[0])), nil
	}},

	// Casts to the reg* types: x::regclass is regclass(x), an OID.
	"regclass":     regFn(func(s *snapshot, name string) (uint32, error) { return s.lookupRelation(name) }),
	"regtype":      regFn(func(s *snapshot, name string) (uint32, error) { return lookupType(name) }),
	"regproc":      regFn(func(s *snapshot, name string) (uint32, error) { return s.lookupProc(name) }),
	"regnamespace": regFn(func(s *snapshot, name string) (uint32, error) { return lookupNamespace(name) }),
	"regrole":      regFn(func(s *snapshot, name string) (uint32, error) { return s.lookupRole(name) }),

	// The names the reg* types print: x::regclass::text is regclassout(x).
	"regclassout": withSnapshot(1, 1, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if r := s.relByOID[oid]; r != nil {
			return r.qualifiedName(), nil
		}
		return strconv.FormatUint(uint64(oid), 10), nil
	}),
	"regtypeout": withSnapshot(1, 1, textType, func(_ *snapshot, oid uint32, _ []any) (any, error) {
		if typesByOID[oid] != nil {
			return FormatType(oid, -1), nil
		}
		return strconv.FormatUint(uint64(oid), 10), nil
	}),
	"regprocout": withSnapshot(1, 1, textType, func(s *snapshot, oid uint32, _ []any) (any, error) {
		if p := s.procByOID[oid]; p != nil {
			return p.name, nil
		}
		if oid == 0 {
			return "-", nil
		}
		return strconv.FormatUint(uint64(oid), 10), nil
	}),
	"regnamespaceout": withSnapshot(1, 1, textType, func(_ *snapshot, oid uint32, _ []any) (any, error) {
		for _, n := range []string{"pg_catalog", "public", "information_schema"} {
			if namespaceOID(n) == oid {
				return n, nil
			}
		}
		return strconv.FormatUint(uint64(oid), 10), nil
	}),

	// Arrays, in their text form (arrays.go).
	"pg_array": {min: 0, max: -1, typ: textType, eval: func(_ *env, args []any) (any, error) {
		return formatArray(args), nil
	}},
	"pg_array_get": arrayFn(2, 2, textType, func(a pgArray, args []any) (any, error) {
		i, err := toInt(args[1])
		if err != nil {
			return nil, err
		}
		i -= int64(a.lower)
		if i < 0 || i >= int64(len(a.elems)) || a.elems[i] == nil {
			return nil, nil
		}
		return *a.elems[i], nil
	}),
	"pg_any_eq": {min: 2, max: 2, typ: boolType, strict: true, eval: func(_ *env, args []any) (any, error) {
		a, err := parseArray(textOf(args[1]))
		if err != nil {
			return nil, err
		}
		sawNull := false
		for _, e := range a.elems {
			if e == nil {
				sawNull = true
			} else if arrayEq(args[0], *e) {
				return true, nil
			}
		}
		if sawNull {
			return nil, nil
		}
		return false, nil
	}},
	"array_to_string": {min: 2, max: 3, typ: textType, eval: func(_ *env, args []any) (any, error) {
		if args[0] == nil || args[1] == nil {
			return nil, nil
		}
		a, err := parseArray(textOf(args[0]))
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, e := range a.elems {
			switch {
			case e != nil:
				parts = append(parts, *e)
			case len(args) > 2 && args[2] != nil:
				parts = append(parts, textOf(args[2]))
			}
		}
		return strings.Join(parts, textOf(args[1])), nil
	}},
	"array_upper": arrayFn(2, 2, types.Int32, func(a pgArray, args []any) (any, error) {
		if dim, err := toInt(args[1]); err != nil || dim != 1 || len(a.elems) == 0 {
			return nil, err
		}
		return int32(a.lower + len(a.elems) - 1), nil
	}),
	"array_lower": arrayFn(2, 2, types.Int32, func(a pgArray, args []any) (any, error) {
		if dim, err := toInt(args[1]); err != nil || dim != 1 || len(a.elems) == 0 {
			return nil, err
		}
		return int32(a.lower), nil
	}),
	"array_length": arrayFn(2, 2, types.Int32, func(a pgArray, args []any) (any, error) {
		if dim, err := toInt(args[1]); err != nil || dim != 1 || len(a.elems) == 0 {
			return nil, err
		}
		return int32(len(a.elems)), nil
	}),
	"cardinality": arrayFn(1, 1, types.Int32, func(a pgArray, _ []any) (any, error) {
		return int32(len(a.elems)), nil
	}),
	"string_to_array": {min: 2, max: 3, typ: textType, eval: func(_ *env, args []any) (any, error) {
		if args[0] == nil {
			return nil, nil
		}
		s := textOf(args[0])
		if s == "" {
			return "{}", nil
		}
		var parts []string
		switch {
		case args[1] == nil:
			for _, r := range s {
				parts = append(parts, string(r))
			}
		case textOf(args[1]) == "":
			parts = []string{s}
		default:
			parts = strings.Split(s, textOf(args[1]))
		}
		vals := make([]any, len(parts))
		for i, p := range parts {
			if len(args) > 2 && args[2] != nil && p == textOf(args[2]) {
				continue
			}
			vals[i] = p
		}
		return formatArray(vals), nil
	}},
	"current_schemas": {min: 1, max: 1, typ: textType, strict: true, eval: func(_ *env, args []any) (any, error) {
		implicit, err := toInt(args[0])
		if err != nil {
			return nil, err
		}
		if implicit != 0 {
			return "{pg_catalog,public}", nil
		}
		return "{public}", nil
	}},
}

// arrayFn wraps a strict function whose first argument is an array.
func arrayFn(min, max int, typ sql.Type, f func(a pgArray, args []any) (any, error)) fn {
	return fn{min: min, max: max, typ: typ, strict: true, eval: func(_ *env, args []any) (any, error) {
		a, err := parseArray(textOf(args[0]))
		if err != nil {
			return nil, err
		}
		return f(a, args)
	}}
}

// regFn is a cast to a reg* type: a number is the OID itself; text is a name to look up.
func regFn(lookup func(s *snapshot, name string) (uint32, error)) fn {
	return fn{min: 1, max: 1, typ: oidType, strict: true, eval: func(e *env, args []any) (any, error) {
		if s, ok := args[0].(string); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32); err == nil {
				return uint32(n), nil
			}
			snap, err := e.snapshot()
			if err != nil {
				return nil, err
			}
			return lookup(snap, s)
		}
		return toOID(args[0])
	}}
}

// toOID converts a function argument to an OID: an integer, or text holding one.
func toOID(v any) (uint32, error) {
	n, err := toInt(v)
	if err != nil || n < 0 || n > 1<<32-1 {
		return 0, &pgError{"22P02", fmt.Sprintf("invalid input syntax for type oid: %q", textOf(v))}
	}
	return uint32(n), nil
}

func toInt(v any) (int64, error) {
	if n, ok := proxy.Int64(v); ok {
		return n, nil
	}
	switch x := v.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	}
	s := strings.TrimSpace(textOf(v))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil { // decimal.Decimal
		return int64(f), nil
	}
	return 0, &pgError{"22P02", fmt.Sprintf("invalid input syntax for type integer: %q", s)}
}

// splitName splits a possibly schema-qualified name into its parts, folding unquoted parts to
// lower case as Postgres does.
func splitName(name string) []string {
	var parts []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case ch == '"' && quoted && i+1 < len(name) && name[i+1] == '"':
			b.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			parts = append(parts, b.String())
			b.Reset()
		case quoted:
			b.WriteByte(ch)
		default:
			b.WriteString(strings.ToLower(string(ch)))
		}
	}
	return append(parts, strings.TrimSpace(b.String()))
}

// lookupRelation resolves a relation name, schema-qualified or searched in pg_catalog then
// public.
func (s *snapshot) lookupRelation(name string) (uint32, error) {
	parts := splitName(name)
	search := []string{"pg_catalog", "public"}
	if len(parts) == 2 {
		search = parts[:1]
	}
	if len(parts) <= 2 {
		rel := parts[len(parts)-1]
		for _, nsp := range search {
			if r := s.relByName[nsp+"."+rel]; r != nil {
				return r.oid, nil
			}
		}
		for _, nsp := range search { // GMS keeps the case of names; Postgres folds them
			for _, r := range s.rels {
				if r.nsp == nsp && strings.EqualFold(r.name, rel) {
					return r.oid, nil
				}
			}
		}
	}
	return 0, &pgError{"42P01", fmt.Sprintf("relation %q does not exist", name)}
}

func lookupType(name string) (uint32, error) {
	n := strings.TrimSpace(name)
	if rest, ok := strings.CutPrefix(strings.ToLower(n), "pg_catalog."); ok {
		n = rest
	}
	if t := typeByName(n); t != nil {
		return t.oid, nil
	}
	if t := typeByName(strings.Trim(n, `"`)); t != nil && strings.HasPrefix(n, `"`) {
		return t.oid, nil
	}
	return 0, &pgError{"42704", fmt.Sprintf("type %q does not exist", name)}
}

func (s *snapshot) lookupProc(name string) (uint32, error) {
	parts := splitName(name)
	var found []*proc
	for _, p := range s.procs {
		if p.name == parts[len(parts)-1] && (len(parts) == 1 || p.nsp == parts[0]) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return 0, &pgError{"42883", fmt.Sprintf("function %q does not exist", name)}
	case 1:
		return found[0].oid, nil
	}
	return 0, &pgError{"42725", fmt.Sprintf("more than one function named %q", name)}
}

func lookupNamespace(name string) (uint32, error) {
	parts := splitName(name)
	if oid := namespaceOID(parts[0]); oid != 0 && len(parts) == 1 {
		return oid, nil
	}
	return 0, &pgError{"3F000", fmt.Sprintf("schema %q does not exist", name)}
}

func (s *snapshot) lookupRole(name string) (uint32, error) {
	parts := splitName(name)
	for _, r := range s.roles {
		if len(parts) == 1 && (r == parts[0] || strings.EqualFold(r, name)) {
			return s.roleOID(r), nil
		}
	}
	return 0, &pgError{"42704", fmt.Sprintf("role %q does not exist", name)}
}

// quoteIdent quotes an identifier when Postgres would: anything but a lower-case name that is
// not a reserved word.
func quoteIdent(s string) string {
	plain := s != "" && !reserved[s]
	for i := 0; i < len(s) && plain; i++ {
		ch := s[i]
		plain = ch >= 'a' && ch <= 'z' || ch == '_' || i > 0 && (ch >= '0' && ch <= '9' || ch == '$')
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reserved are the key words quote_ident quotes: Postgres's reserved, type/function-name and
// column-name key words.
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast check
		collate column constraint create current_catalog current_date current_role current_time
		current_timestamp current_user default deferrable desc distinct do else end except false fetch for
		foreign from grant group having in initially intersect into lateral leading limit localtime
		localtimestamp not null offset on only or order placing primary references returning select
		session_user some symmetric system_user table then to trailing true union unique user using variadic
		when where window with authorization binary collation concurrently cross current_schema freeze full
		ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose
		between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping
		inout int integer interval least national nchar none normalize nullif numeric out overlay position
		precision real row setof smallint substring time timestamp treat trim values varchar`) {
		m[w] = true
	}
	return m
}()
