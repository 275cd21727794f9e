package pgsql

import (
	"encoding/hex"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql/expression/function"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/internal/pgtext"
	"github.com/wasql/wasql/internal/sqlstate"
)

// funcName is a call's function name without its schema.
func funcName(fc *pg.FuncCall) string {
	return strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().Sval)
}

var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"string_agg": true, "array_agg": true, "bool_and": true, "bool_or": true, "every": true, "stddev": true,
	"stddev_samp": true, "stddev_pop": true, "variance": true, "var_samp": true, "var_pop": true, "json_agg": true}

// renamed are functions with another name (and the same arguments) in go-mysql-server.
var renamed = map[string]string{
	"length": "pg_length", "char_length": "CHAR_LENGTH", "character_length": "CHAR_LENGTH", "octet_length": "LENGTH",
	"random": "RAND", "substr": "SUBSTRING", "substring": "SUBSTRING", "ln": "LN", "ceiling": "CEIL",
	"stddev": "STDDEV_SAMP", "variance": "VAR_SAMP", "bool_and": "MIN", "every": "MIN", "bool_or": "MAX",
	"gen_random_uuid": "UUID", "json_agg": "JSON_ARRAYAGG", "jsonb_agg": "JSON_ARRAYAGG",
	"round": "pg_round",
}

// funcCall prints a function call: an aggregate or window call, a function Postgres and MySQL
// spell differently, or (any other name) the same call, which finds Postgres's built-ins, the
// catalog functions and the wasm functions.
func (p *printer) funcCall(fc *pg.FuncCall) {
	if len(fc.Funcname) == 2 {
		switch s := fc.Funcname[0].GetString_().Sval; s {
		case "pg_catalog", "public", "information_schema":
		case "wasql":
			if funcName(fc) != "reset_stats" {
				p.fail(&Error{Code: "42883", Msg: "function wasql." + funcName(fc) + " does not exist"})
			}
			p.call("wasql_reset_stats", fc.Args)
			return
		default:
			p.fail(&Error{Code: "3F000", Msg: "schema \"" + s + "\" does not exist"})
		}
	}
	name := funcName(fc)
	if fc.AggWithinGroup || fc.FuncVariadic {
		p.unsupported("WITHIN GROUP and VARIADIC")
	}
	if len(fc.AggOrder) > 0 && name != "string_agg" {
		p.unsupported("ORDER BY inside %s()", name)
	}
	args := fc.Args
	if fc.Over != nil && len(fc.Over.OrderClause) > 0 && aggregates[name] {
		// go-mysql-server's running frames are wrong: count() counts the whole partition,
		// sum() and the others end at the current row, not at its last peer
		p.unsupported("%s() over a window with ORDER BY", name)
	}
	if fc.AggFilter != nil {
		args = p.filtered(fc)
	}
	switch name {
	case "now", "transaction_timestamp", "statement_timestamp", "clock_timestamp":
		p.WriteString(nowTimestamptz)
	case "format": // MySQL's FORMAT formats a number
		p.call("pg_format", args)
	case "strpos", "position": // INSTR is case-sensitive, LOCATE is not
		p.call("INSTR", args)
	case "concat": // Postgres's concat skips NULLs
		p.call("CONCAT_WS", append([]*pg.Node{pg.MakeAConstStrNode("", 0)}, args...))
	case "log":
		if len(args) == 1 {
			p.call("LOG10", args)
		} else {
			p.call("LOG", args)
		}
	case "trunc":
		p.WriteString("TRUNCATE(")
		p.expr(args[0])
		p.WriteString(", ")
		if len(args) > 1 {
			p.expr(args[1])
		} else {
			p.WriteString("0")
		}
		p.WriteString(")")
	case "btrim", "ltrim", "rtrim":
		if len(args) == 1 {
			p.call(map[string]string{"btrim": "TRIM", "ltrim": "LTRIM", "rtrim": "RTRIM"}[name], args)
			return
		}
		// Postgres strips any of the characters given, MySQL's TRIM a whole string.
		p.call("pg_trim", []*pg.Node{args[0], args[1], pg.MakeAConstStrNode(map[string]string{"btrim": "both", "ltrim": "leading", "rtrim": "trailing"}[name], 0)})
	case "extract", "date_part":
		field := args[0].GetAConst().GetSval()
		if field == nil {
			p.unsupported("%s with a computed field", name)
			return
		}
		if strings.EqualFold(field.Sval, "epoch") {
			p.call("UNIX_TIMESTAMP", args[1:])
			return
		}
		unit := strings.ToUpper(field.Sval)
		if !extractUnits[unit] { // the field is printed as a word: never anything else
			p.unsupported("%s(%q, ...)", name, field.Sval)
			return
		}
		p.WriteString("EXTRACT(" + unit + " FROM ")
		p.expr(args[1])
		p.WriteString(")")
	case "date_trunc":
		unit := args[0].GetAConst().GetSval()
		format, ok := truncFormats[strings.ToLower(unit.GetSval())]
		if unit == nil || !ok {
			p.unsupported("date_trunc to this unit")
			return
		}
		p.WriteString("CAST(DATE_FORMAT(")
		p.expr(args[1])
		p.WriteString(", '" + format + "') AS DATETIME(6))")
	case "avg":
		if len(args) != 1 || fc.AggStar {
			p.simpleCall(name, fc, args)
			break
		}
		// Postgres's average of integers and numerics is a numeric with numeric_div's scale;
		// over a window, both aggregates take the window
		p.WriteString("pg_avg(")
		p.simpleCall("sum", fc, args)
		if fc.Over != nil {
			p.over(fc.Over)
		}
		p.WriteString(", ")
		p.simpleCall("count", fc, args)
		if fc.Over != nil {
			p.over(fc.Over)
		}
		p.WriteString(")")
		return
	case "div":
		p.WriteString("(")
		p.expr(args[0])
		p.WriteString(" DIV ")
		p.expr(args[1])
		p.WriteString(")")
	case "string_agg":
		p.WriteString("GROUP_CONCAT(")
		if fc.AggDistinct {
			p.WriteString("DISTINCT ")
		}
		p.expr(args[0])
		if len(fc.AggOrder) > 0 {
			p.WriteString(" ORDER BY ")
			list(p, fc.AggOrder, func(n *pg.Node) { p.sortBy(n.GetSortBy()) })
		}
		p.WriteString(" SEPARATOR ")
		p.expr(args[1])
		p.WriteString(")")
	default:
		if m, ok := renamed[name]; ok {
			name = m
		}
		p.simpleCall(name, fc, args)
	}
	if fc.Over != nil {
		p.over(fc.Over)
	}
}

// simpleCall prints name(args), with DISTINCT and * as the call has them.
func (p *printer) simpleCall(name string, fc *pg.FuncCall, args []*pg.Node) {
	p.funcName(name)
	p.WriteString("(")
	if fc.AggDistinct {
		p.WriteString("DISTINCT ")
	}
	if fc.AggStar {
		p.WriteString("*")
	}
	list(p, args, p.expr)
	p.WriteString(")")
}

// funcName prints the name of a call. go-mysql-server's own functions keep their bare names
// (some have grammar of their own, COUNT(*), LEFT(...)); any other name (a wasm function, a
// catalog function) is quoted, since it may be a word MySQL reserves and Postgres does not
// (add, key, order).
func (p *printer) funcName(name string) {
	if builtins[strings.ToLower(name)] {
		p.WriteString(name)
		return
	}
	p.ident(name)
}

// special are the calls funcCall translates to something else than a call of the same name.
var special = map[string]bool{"now": true, "transaction_timestamp": true, "statement_timestamp": true,
	"clock_timestamp": true, "strpos": true, "position": true, "concat": true, "log": true, "trunc": true,
	"btrim": true, "ltrim": true, "rtrim": true, "extract": true, "date_part": true, "date_trunc": true,
	"div": true, "string_agg": true, "format": true}

// Shadowed reports whether the translation turns a call of a function named name into another
// call, so that it cannot reach a wasm function of that name. (Built-ins that go-mysql-server
// itself reads before any function of that name are sqlfuncs.Unreachable.)
func Shadowed(name string) bool {
	name = strings.ToLower(name)
	_, isRenamed := renamed[name]
	return special[name] || isRenamed || aggregates[name]
}

// builtins are go-mysql-server's functions, by lower-case name.
var builtins = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range function.BuiltIns {
		m[strings.ToLower(f.FunctionName())] = true
	}
	return m
}()

// extractUnits are the fields of extract/date_part that MySQL's EXTRACT has under the same name.
var extractUnits = map[string]bool{"MICROSECOND": true, "SECOND": true, "MINUTE": true, "HOUR": true,
	"DAY": true, "WEEK": true, "MONTH": true, "QUARTER": true, "YEAR": true}

// truncFormats are DATE_FORMAT patterns that truncate a timestamp as date_trunc does.
var truncFormats = map[string]string{"second": "%Y-%m-%d %H:%i:%s", "minute": "%Y-%m-%d %H:%i:00",
	"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00", "month": "%Y-%m-01 00:00:00", "year": "%Y-01-01 00:00:00"}

// filtered turns agg(x) FILTER (WHERE c) into agg(CASE WHEN c THEN x END), and count(*)
// FILTER (WHERE c) into count(CASE WHEN c THEN 1 END).
func (p *printer) filtered(fc *pg.FuncCall) []*pg.Node {
	if !aggregates[funcName(fc)] || len(fc.Args) > 1 {
		p.unsupported("FILTER on %s()", funcName(fc))
		return fc.Args
	}
	value := pg.MakeAConstIntNode(1, 0)
	if len(fc.Args) == 1 {
		value = fc.Args[0]
	}
	fc.AggStar = false
	return []*pg.Node{pg.MakeCaseExprNode(nil, []*pg.Node{pg.MakeCaseWhenNode(fc.AggFilter, value, 0)}, 0)}
}

// frameNonDefault is FRAMEOPTION_NONDEFAULT, set when a window spells out its frame.
const frameNonDefault = 1

func (p *printer) over(w *pg.WindowDef) {
	if w.Name != "" || w.Refname != "" {
		p.unsupported("named windows")
	}
	if w.FrameOptions&frameNonDefault != 0 {
		p.unsupported("window frames")
	}
	p.WriteString(" OVER (")
	if len(w.PartitionClause) > 0 {
		p.WriteString("PARTITION BY ")
		list(p, w.PartitionClause, p.expr)
	}
	if len(w.OrderClause) > 0 {
		if len(w.PartitionClause) > 0 {
			p.WriteString(" ")
		}
		p.WriteString("ORDER BY ")
		list(p, w.OrderClause, func(n *pg.Node) { p.sortBy(n.GetSortBy()) })
	}
	p.WriteString(")")
}

// typeMods are a type's modifiers, varchar(20) or numeric(10,2).
func typeMods(tn *pg.TypeName) []int {
	var mods []int
	for _, m := range tn.Typmods {
		if c := m.GetAConst(); c != nil && c.GetIval() != nil {
			mods = append(mods, int(c.GetIval().Ival))
		}
	}
	return mods
}

// pgType is a type name as Postgres spells it internally: int4, varchar, timestamptz.
func pgType(tn *pg.TypeName) string {
	return strings.ToLower(tn.Names[len(tn.Names)-1].GetString_().Sval)
}

func decimal(mods []int) string {
	switch len(mods) {
	case 1:
		return "DECIMAL(" + strconv.Itoa(mods[0]) + ",0)"
	case 2:
		return "DECIMAL(" + strconv.Itoa(mods[0]) + "," + strconv.Itoa(mods[1]) + ")"
	}
	return "DECIMAL(65,20)"
}

// cast prints CAST(arg AS type) for a Postgres type, or the function that stands for it.
func (p *printer) cast(arg *pg.Node, tn *pg.TypeName) {
	if len(tn.ArrayBounds) > 0 {
		p.unsupported("array types")
		return
	}
	t := pgType(tn)
	target := ""
	if _, ok := regTypes[t]; ok {
		p.call(regTypes[t], []*pg.Node{arg})
		return
	}
	if out, ok := regOutput(arg); ok && (t == "text" || t == "varchar" || t == "name") {
		p.WriteString(out + "(")
		p.expr(arg)
		p.WriteString(")")
		return
	}
	if lit := arg.GetAConst().GetSval(); lit != nil && !p.validLiteral(lit.Sval, t) {
		return
	}
	if !p.inRange(arg, t) {
		return
	}
	if n := typeMods(tn); len(n) == 1 && (t == "varchar" || t == "bpchar") { // 'abcdef'::varchar(3) is 'abc'
		p.WriteString("LEFT(CAST(")
		p.expr(arg)
		p.WriteString(" AS CHAR), " + strconv.Itoa(n[0]) + ")")
		return
	}
	switch t {
	case "int2", "int4", "int8", "smallint", "integer", "bigint", "int":
		if arg.GetAConst() == nil && arg.GetParamRef() == nil { // a computed value: read, rounded and range-checked as Postgres does
			p.call("pg_int"+strconv.Itoa(integerTypes[t].bits/8), []*pg.Node{arg})
			return
		}
		target = "SIGNED"
	case "float4", "real", "float8", "double precision":
		if arg.GetAConst() == nil && arg.GetParamRef() == nil { // text is read as Postgres reads it
			p.call(map[bool]string{true: "pg_float4", false: "pg_float8"}[t == "float4" || t == "real"], []*pg.Node{arg})
			return
		}
		target = map[bool]string{true: "FLOAT", false: "DOUBLE"}[t == "float4" || t == "real"]
	case "numeric", "decimal":
		if len(typeMods(tn)) == 0 { // numeric without (p,s): each value keeps its own scale
			p.call("pg_numeric", []*pg.Node{arg})
			return
		}
		target = decimal(typeMods(tn))
	case "text", "varchar", "name", "citext":
		if arg.GetAConst() == nil { // a value prints as Postgres prints its type
			p.call("pg_text", []*pg.Node{arg})
			return
		}
		target = "CHAR"
	case "bpchar", "char", "uuid":
		target = "CHAR"
	case "bytea", "timestamp", "timestamptz":
		p.typeCast(arg, t)
		return
	case "date":
		target = "DATE"
	case "time", "timetz":
		target = "TIME(6)"
	case "json", "jsonb":
		target = "JSON"
	case "oid":
		target = "UNSIGNED"
	case "bool", "boolean":
		p.boolCast(arg)
		return
	case "interval":
		p.unsupported("the type interval")
		return
	default:
		p.fail(&Error{Code: "42704", Msg: "type \"" + t + "\" does not exist"})
		return
	}
	p.WriteString("CAST(")
	p.expr(arg)
	p.WriteString(" AS " + target + ")")
}

// typeCast prints a cast to bytea, timestamp or timestamptz, whose input Postgres reads
// differently from MySQL: a bytea literal becomes its bytes here, anything else is read at run
// time by pg_bytea, pg_timestamp or pg_timestamptz (a timestamptz literal without an offset
// depends on the session's TimeZone).
func (p *printer) typeCast(arg *pg.Node, t string) {
	if s := arg.GetAConst().GetSval(); s != nil && t == "bytea" {
		b, err := pgtext.ParseBytea(s.Sval)
		if err != nil {
			p.fail(&Error{Code: sqlstate.Of(err), Msg: err.Error()})
			return
		}
		p.WriteString("CAST(X'" + hex.EncodeToString(b) + "' AS BINARY)") // bytes, not text for the engine to read
		return
	}
	p.call("pg_"+t, []*pg.Node{arg})
}

// regTypes are the OID alias types, cast by the catalog function of the same name, which looks
// a name up and returns its OID.
var regTypes = map[string]string{"regclass": "regclass", "regtype": "regtype", "regproc": "regproc",
	"regprocedure": "regproc", "regnamespace": "regnamespace", "regrole": "regrole"}

// regOutput reports whether n is a cast to an OID alias type, and the catalog function that
// prints such a value as Postgres does (a name, regclassout).
func regOutput(n *pg.Node) (string, bool) {
	tc := n.GetTypeCast()
	if tc == nil || len(tc.TypeName.ArrayBounds) > 0 {
		return "", false
	}
	f, ok := regTypes[pgType(tc.TypeName)]
	if !ok || f == "regrole" {
		return "", false
	}
	return f + "out", true
}

// integerTypes are Postgres's integer types by the names a cast may use: their width and the
// name Postgres's errors give them.
var integerTypes = map[string]struct {
	bits int
	name string
}{"int2": {16, "smallint"}, "smallint": {16, "smallint"}, "int4": {32, "integer"}, "int": {32, "integer"},
	"integer": {32, "integer"}, "int8": {64, "bigint"}, "bigint": {64, "bigint"}}

var isoDate = regexp.MustCompile(`^\s*\d{4}-\d{2}-\d{2}\s*$`)

// validLiteral checks a string literal cast to a number or date the way Postgres reads it:
// MySQL's CAST would turn 'abc'::int into 0 and '2024-13-45'::date into NULL.
func (p *printer) validLiteral(s, t string) bool {
	var err error
	name := t
	if it, ok := integerTypes[t]; ok {
		_, err = strconv.ParseInt(strings.TrimSpace(s), 10, it.bits)
		name = it.name
	}
	switch t {
	case "float4", "real", "float8", "numeric", "decimal":
		_, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
	case "date":
		if isoDate.MatchString(s) {
			if _, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err != nil {
				p.fail(&Error{Code: "22008", Msg: "date/time field value out of range: \"" + s + "\""})
				return false
			}
		}
	}
	if err != nil {
		code := "22P02"
		if errors.Is(err, strconv.ErrRange) {
			code = "22003"
		}
		p.fail(&Error{Code: code, Msg: "invalid input syntax for type " + name + ": \"" + s + "\""})
		return false
	}
	return true
}

// inRange checks a numeric constant cast to smallint or integer, as Postgres does (MySQL's CAST
// would keep 70000 as a smallint).
func (p *printer) inRange(arg *pg.Node, t string) bool {
	c := arg.GetAConst()
	if c == nil || (c.GetIval() == nil && c.GetFval() == nil) {
		return true
	}
	it, ok := integerTypes[t]
	if !ok || it.bits == 64 { // bigint constants are not checked
		return true
	}
	text := strconv.Itoa(int(c.GetIval().GetIval()))
	if c.GetFval() != nil {
		text = c.GetFval().Fval
	}
	f, err := strconv.ParseFloat(text, 64)
	limit := float64(int64(1) << (it.bits - 1))
	if err == nil && (math.Round(f) < -limit || math.Round(f) > limit-1) {
		p.fail(&Error{Code: "22003", Msg: it.name + " out of range"})
		return false
	}
	return true
}

// boolCast prints x::boolean: a literal is read here as Postgres reads it, anything else by
// pg_bool at run time.
func (p *printer) boolCast(arg *pg.Node) {
	if s := arg.GetAConst().GetSval(); s != nil {
		v, ok := ParseBool(s.Sval)
		if !ok {
			p.fail(&Error{Code: "22P02", Msg: "invalid input syntax for type boolean: \"" + s.Sval + "\""})
			return
		}
		p.WriteString(strings.ToUpper(strconv.FormatBool(v)))
		return
	}
	p.call("pg_bool", []*pg.Node{arg})
}

// ParseBool reads a boolean as Postgres does: t, true, yes, on, 1 and their opposites, in any
// case, any unique prefix of the words (pgtext.ParseBool).
func ParseBool(s string) (value, ok bool) { return pgtext.ParseBool(s) }
