package pgsql

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// expr prints an expression, parenthesized where precedence could differ between the dialects.
func (p *printer) expr(n *pg.Node) {
	if n == nil {
		p.WriteString("NULL")
		return
	}
	switch x := n.Node.(type) {
	case *pg.Node_AConst:
		p.constant(x.AConst)
	case *pg.Node_ColumnRef:
		p.columnRef(x.ColumnRef)
	case *pg.Node_ParamRef:
		p.WriteString(":v" + strconv.Itoa(int(x.ParamRef.Number)))
	case *pg.Node_AExpr:
		p.aExpr(x.AExpr)
	case *pg.Node_BoolExpr:
		p.boolExpr(x.BoolExpr)
	case *pg.Node_NullTest:
		p.WriteString("(")
		p.expr(x.NullTest.Arg)
		if x.NullTest.Nulltesttype == pg.NullTestType_IS_NULL {
			p.WriteString(" IS NULL)")
		} else {
			p.WriteString(" IS NOT NULL)")
		}
	case *pg.Node_BooleanTest:
		p.WriteString("(")
		p.expr(x.BooleanTest.Arg)
		p.WriteString(map[pg.BoolTestType]string{pg.BoolTestType_IS_TRUE: " IS TRUE)", pg.BoolTestType_IS_NOT_TRUE: " IS NOT TRUE)",
			pg.BoolTestType_IS_FALSE: " IS FALSE)", pg.BoolTestType_IS_NOT_FALSE: " IS NOT FALSE)",
			pg.BoolTestType_IS_UNKNOWN: " IS NULL)", pg.BoolTestType_IS_NOT_UNKNOWN: " IS NOT NULL)"}[x.BooleanTest.Booltesttype])
	case *pg.Node_FuncCall:
		p.funcCall(x.FuncCall)
	case *pg.Node_TypeCast:
		p.cast(x.TypeCast.Arg, x.TypeCast.TypeName)
	case *pg.Node_CaseExpr:
		p.caseExpr(x.CaseExpr)
	case *pg.Node_CoalesceExpr:
		p.call("COALESCE", x.CoalesceExpr.Args)
	case *pg.Node_MinMaxExpr:
		name := "LEAST"
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			name = "GREATEST"
		}
		p.minMax(name, x.MinMaxExpr.Args)
	case *pg.Node_SqlvalueFunction:
		p.WriteString(sqlValueFunctions[x.SqlvalueFunction.Op])
	case *pg.Node_SubLink:
		p.subLink(x.SubLink)
	case *pg.Node_CollateClause:
		switch c := names(x.CollateClause.Collname); strings.ToLower(c[len(c)-1]) {
		case "default", "c", "posix":
			p.expr(x.CollateClause.Arg)
		default:
			p.unsupported("COLLATE %q", c[len(c)-1])
		}
	case *pg.Node_AArrayExpr:
		p.call("pg_array", x.AArrayExpr.Elements)
	case *pg.Node_AIndirection:
		p.indirection(x.AIndirection)
	case *pg.Node_RowExpr:
		p.WriteString("(")
		list(p, x.RowExpr.Args, p.expr)
		p.WriteString(")")
	case *pg.Node_SetToDefault:
		p.WriteString("DEFAULT")
	case *pg.Node_List:
		p.WriteString("(")
		list(p, x.List.Items, p.expr)
		p.WriteString(")")
	default:
		p.unsupported("the expression %s", nodeKind(n))
	}
}

func (p *printer) constant(c *pg.A_Const) {
	if c.Isnull {
		p.WriteString("NULL")
		return
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		p.WriteString(strconv.Itoa(int(v.Ival.Ival)))
	case *pg.A_Const_Fval:
		p.WriteString(v.Fval.Fval)
	case *pg.A_Const_Sval:
		p.str(v.Sval.Sval)
	case *pg.A_Const_Boolval:
		if v.Boolval.Boolval {
			p.WriteString("TRUE")
		} else {
			p.WriteString("FALSE")
		}
	case *pg.A_Const_Bsval:
		// b'0101' or x'1f', already in the form MySQL reads.
		p.WriteString(v.Bsval.Bsval[:1] + "'" + v.Bsval.Bsval[1:] + "'")
	}
}

func (p *printer) columnRef(c *pg.ColumnRef) {
	fields := c.Fields
	if p.excluded && len(fields) == 2 && fields[0].GetString_().GetSval() == "excluded" {
		p.WriteString("VALUES(")
		p.ident(fields[1].GetString_().Sval)
		p.WriteString(")")
		return
	}
	if len(fields) == 3 { // schema.table.column
		switch s := fields[0].GetString_().Sval; s {
		case "public":
			fields = fields[1:]
		case "pg_catalog":
		default:
			p.fail(&Error{Code: "3F000", Msg: "schema \"" + s + "\" does not exist"})
		}
	}
	for i, f := range fields {
		if i > 0 {
			p.WriteString(".")
		}
		switch v := f.Node.(type) {
		case *pg.Node_String_:
			p.ident(v.String_.Sval)
		case *pg.Node_AStar:
			p.WriteString("*")
		}
	}
}

// operators maps Postgres binary operators to a MySQL infix operator (a string starting with a
// space) or a function (anything else).
var operators = map[string]string{
	"=": " = ", "<>": " <> ", "!=": " <> ", "<": " < ", ">": " > ", "<=": " <= ", ">=": " >= ",
	"+": " + ", "-": " - ", "*": " * ", "%": "pg_mod", "&": " & ", "|": " | ", "#": " ^ ", "<<": " << ", ">>": " >> ",
	"/": "pg_div", "^": "POWER", "||": "CONCAT",
}

func (p *printer) aExpr(a *pg.A_Expr) {
	op := ""
	if len(a.Name) > 0 {
		op = a.Name[len(a.Name)-1].GetString_().Sval
	}
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		p.operator(op, a.Lexpr, a.Rexpr)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		p.anyAll(a, op)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		p.WriteString("(")
		if a.Kind == pg.A_Expr_Kind_AEXPR_DISTINCT {
			p.WriteString("NOT ")
		}
		p.WriteString("(")
		p.expr(a.Lexpr)
		p.WriteString(" <=> ")
		p.expr(a.Rexpr)
		p.WriteString("))")
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		p.call("NULLIF", []*pg.Node{a.Lexpr, a.Rexpr})
	case pg.A_Expr_Kind_AEXPR_IN:
		p.WriteString("(")
		p.expr(a.Lexpr)
		if op == "<>" {
			p.WriteString(" NOT")
		}
		p.WriteString(" IN ")
		p.expr(a.Rexpr)
		p.WriteString(")")
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		p.like(a, op)
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		bounds := a.Rexpr.GetList().Items
		p.WriteString("(")
		p.expr(a.Lexpr)
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN {
			p.WriteString(" NOT")
		}
		p.WriteString(" BETWEEN ")
		p.expr(bounds[0])
		p.WriteString(" AND ")
		p.expr(bounds[1])
		p.WriteString(")")
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		p.unsupported("SIMILAR TO")
	default:
		p.unsupported("BETWEEN SYMMETRIC")
	}
}

func (p *printer) operator(op string, l, r *pg.Node) {
	if l == nil { // prefix
		switch op {
		case "-", "+", "~":
			p.WriteString("(" + op)
			p.expr(r)
			p.WriteString(")")
		case "@":
			p.call("ABS", []*pg.Node{r})
		default:
			p.unsupported("the prefix operator %s", op)
		}
		return
	}
	switch op {
	case "~", "~*", "!~", "!~*":
		p.WriteString("(")
		if strings.HasPrefix(op, "!") {
			p.WriteString("NOT ")
		}
		p.WriteString("REGEXP_LIKE(")
		p.expr(l)
		p.WriteString(", ")
		p.expr(r)
		if strings.HasSuffix(op, "*") {
			p.WriteString(", 'i'")
		}
		p.WriteString("))")
		return
	case "->", "->>":
		if op == "->>" {
			p.WriteString("JSON_UNQUOTE(")
		}
		p.WriteString("JSON_EXTRACT(")
		p.expr(l)
		p.WriteString(", ")
		p.jsonPath(r)
		p.WriteString(")")
		if op == "->>" {
			p.WriteString(")")
		}
		return
	}
	if op == "+" || op == "-" {
		if terms, ok := p.interval(r); ok { // ts - interval '1 day 2 hours': ts - INTERVAL 1 DAY - INTERVAL 2 HOUR
			p.WriteString("(")
			p.expr(l)
			for _, t := range terms {
				p.WriteString(" " + op + " " + t)
			}
			p.WriteString(")")
			return
		}
		if isDate(l) { // date ± integer counts days; date - date is a number of days
			if op == "-" && isDate(r) {
				p.call("DATEDIFF", []*pg.Node{l, r})
				return
			}
			p.WriteString(map[string]string{"+": "DATE_ADD(", "-": "DATE_SUB("}[op])
			p.expr(l)
			p.WriteString(", INTERVAL ")
			p.expr(r)
			p.WriteString(" DAY)")
			return
		}
	}
	m, ok := operators[op]
	if !ok {
		p.unsupported("the operator %s", op)
		return
	}
	if strings.HasPrefix(m, " ") {
		p.WriteString("(")
		p.expr(l)
		p.WriteString(m)
		p.expr(r)
		p.WriteString(")")
		return
	}
	p.call(m, []*pg.Node{l, r})
}

// isDate reports whether n is known to be a date where it is written: a cast to date (date
// '2024-01-01' is one) or CURRENT_DATE. A date column is not known here and adds as a number.
func isDate(n *pg.Node) bool {
	if tc := n.GetTypeCast(); tc != nil {
		return pgType(tc.TypeName) == "date"
	}
	return n.GetSqlvalueFunction().GetOp() == pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE
}

// intervalUnits are the units of an interval literal MySQL's INTERVAL has, by Postgres's names.
var intervalUnits = map[string]string{"microsecond": "MICROSECOND", "millisecond": "", "second": "SECOND",
	"minute": "MINUTE", "hour": "HOUR", "day": "DAY", "week": "WEEK", "month": "MONTH", "year": "YEAR",
	"sec": "SECOND", "min": "MINUTE", "mon": "MONTH"}

// interval reads interval '1 day 2 hours' (a literal) as MySQL INTERVAL terms, "INTERVAL 1 DAY"
// and "INTERVAL 2 HOUR"; ok is false when n is no interval literal.
func (p *printer) interval(n *pg.Node) ([]string, bool) {
	tc := n.GetTypeCast()
	if tc == nil || pgType(tc.TypeName) != "interval" {
		return nil, false
	}
	lit := tc.Arg.GetAConst().GetSval()
	f := strings.Fields(strings.ToLower(lit.GetSval()))
	if lit == nil || len(f) == 0 || len(f)%2 != 0 {
		p.unsupported("this interval literal")
		return nil, true
	}
	var terms []string
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.Atoi(f[i])
		unit := intervalUnits[strings.TrimSuffix(f[i+1], "s")]
		if err != nil || unit == "" {
			p.unsupported("the interval %q", lit.Sval)
			return nil, true
		}
		terms = append(terms, "INTERVAL "+strconv.Itoa(n)+" "+unit)
	}
	return terms, true
}

// jsonPath turns the right side of -> into a MySQL JSON path: a key or an array index.
func (p *printer) jsonPath(r *pg.Node) {
	if c := r.GetAConst(); c != nil {
		switch v := c.Val.(type) {
		case *pg.A_Const_Ival:
			p.str("$[" + strconv.Itoa(int(v.Ival.Ival)) + "]")
			return
		case *pg.A_Const_Sval:
			p.str(`$."` + strings.ReplaceAll(v.Sval.Sval, `"`, `\"`) + `"`)
			return
		}
	}
	p.WriteString(`CONCAT('$."', `)
	p.expr(r)
	p.WriteString(`, '"')`)
}

// anyAll prints x op ANY(array) and x op ALL(array): = ANY of an ARRAY[...] is IN, of any
// other array pg_any_eq.
func (p *printer) anyAll(a *pg.A_Expr, op string) {
	any := a.Kind == pg.A_Expr_Kind_AEXPR_OP_ANY
	if arr := a.Rexpr.GetAArrayExpr(); arr != nil && ((any && op == "=") || (!any && op == "<>")) {
		p.WriteString("(")
		p.expr(a.Lexpr)
		if !any {
			p.WriteString(" NOT")
		}
		p.WriteString(" IN (")
		list(p, arr.Elements, p.expr)
		p.WriteString("))")
		return
	}
	if !((any && op == "=") || (!any && op == "<>")) {
		p.unsupported("%s %s(array)", op, map[bool]string{true: "ANY", false: "ALL"}[any])
		return
	}
	if !any {
		p.WriteString("(NOT ")
	}
	p.call("pg_any_eq", []*pg.Node{a.Lexpr, a.Rexpr})
	if !any {
		p.WriteString(")")
	}
}

// like prints LIKE and ILIKE as pg_like and pg_ilike, which keep Postgres's semantics: the
// backslash is the escape character unless ESCAPE names another (or none, the empty string); a pattern may not
// end with it (22025). go-mysql-server's LIKE reads the escapes alike but filters a table's rows
// with it wrongly ('orders\_%' finds nothing).
func (p *printer) like(a *pg.A_Expr, op string) {
	fn := "pg_like"
	if a.Kind == pg.A_Expr_Kind_AEXPR_ILIKE {
		fn = "pg_ilike"
	}
	args := []*pg.Node{a.Lexpr, a.Rexpr}
	if fc := a.Rexpr.GetFuncCall(); fc != nil && funcName(fc) == "like_escape" && len(fc.Args) == 2 {
		args = []*pg.Node{a.Lexpr, fc.Args[0], fc.Args[1]}
		if esc := fc.Args[1].GetAConst().GetSval(); esc != nil && len([]rune(esc.Sval)) > 1 {
			p.fail(&Error{Code: "22025", Msg: "invalid escape string"})
		}
	}
	if strings.HasPrefix(op, "!") {
		p.WriteString("(NOT ")
		p.call(fn, args)
		p.WriteString(")")
		return
	}
	p.call(fn, args)
}

func (p *printer) boolExpr(b *pg.BoolExpr) {
	if b.Boolop == pg.BoolExprType_NOT_EXPR {
		p.WriteString("(NOT ")
		p.expr(b.Args[0])
		p.WriteString(")")
		return
	}
	sep := " AND "
	if b.Boolop == pg.BoolExprType_OR_EXPR {
		sep = " OR "
	}
	p.WriteString("(")
	for i, a := range b.Args {
		if i > 0 {
			p.WriteString(sep)
		}
		p.expr(a)
	}
	p.WriteString(")")
}

func (p *printer) caseExpr(c *pg.CaseExpr) {
	p.WriteString("CASE")
	if c.Arg != nil {
		p.WriteString(" ")
		p.expr(c.Arg)
	}
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		p.WriteString(" WHEN ")
		p.expr(cw.Expr)
		p.WriteString(" THEN ")
		p.expr(cw.Result)
	}
	if c.Defresult != nil {
		p.WriteString(" ELSE ")
		p.expr(c.Defresult)
	}
	p.WriteString(" END")
}

func (p *printer) subLink(s *pg.SubLink) {
	sub := func() {
		p.WriteString("(")
		p.selectStmt(s.Subselect.GetSelectStmt(), false)
		p.WriteString(")")
	}
	op := ""
	if len(s.OperName) > 0 {
		op = s.OperName[len(s.OperName)-1].GetString_().Sval
	}
	switch s.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		p.WriteString("EXISTS ")
		sub()
	case pg.SubLinkType_EXPR_SUBLINK:
		sub()
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		in := (s.SubLinkType == pg.SubLinkType_ANY_SUBLINK && (op == "=" || op == "")) ||
			(s.SubLinkType == pg.SubLinkType_ALL_SUBLINK && op == "<>")
		if !in {
			p.unsupported("%s ANY/ALL (subquery)", op)
			return
		}
		p.WriteString("(")
		p.expr(s.Testexpr)
		if s.SubLinkType == pg.SubLinkType_ALL_SUBLINK {
			p.WriteString(" NOT")
		}
		p.WriteString(" IN ")
		sub()
		p.WriteString(")")
	case pg.SubLinkType_ARRAY_SUBLINK:
		p.unsupported("ARRAY(subquery)")
	default:
		p.unsupported("row comparisons with subqueries")
	}
}

// indirection prints arr[i] as pg_array_get(arr, i); slices and field selection are not
// translated.
func (p *printer) indirection(a *pg.A_Indirection) {
	if len(a.Indirection) != 1 {
		p.unsupported("nested subscripts")
		return
	}
	idx := a.Indirection[0].GetAIndices()
	if idx == nil || idx.IsSlice {
		p.unsupported("field selection and array slices")
		return
	}
	p.call("pg_array_get", []*pg.Node{a.Arg, idx.Uidx})
}

// call prints name(args).
// nowTimestamptz is now(): a timestamptz, printed with its offset in the session's TimeZone.
const nowTimestamptz = "pg_timestamptz(NOW(6))"

// minMax prints GREATEST or LEAST as Postgres computes them, ignoring NULLs (MySQL's return
// NULL when any argument is NULL): each argument becomes COALESCE(it, the others), so a NULL
// stands in for another argument's value and only all NULLs give NULL.
func (p *printer) minMax(name string, args []*pg.Node) {
	p.WriteString(name + "(")
	for i, a := range args {
		if i > 0 {
			p.WriteString(", ")
		}
		p.WriteString("COALESCE(")
		p.expr(a)
		for j, b := range args {
			if j != i {
				p.WriteString(", ")
				p.expr(b)
			}
		}
		p.WriteString(")")
	}
	p.WriteString(")")
}

func (p *printer) call(name string, args []*pg.Node) {
	p.WriteString(name)
	p.WriteString("(")
	list(p, args, p.expr)
	p.WriteString(")")
}

var sqlValueFunctions = map[pg.SQLValueFunctionOp]string{
	pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:        "CURRENT_DATE()",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME:        "CURTIME(6)",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:      "CURTIME(6)",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP:   nowTimestamptz,
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: nowTimestamptz,
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME:           "CURTIME(6)",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:         "CURTIME(6)",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:      "pg_timestamp(NOW(6))", // the wall clock in the session's TimeZone
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:    "pg_timestamp(NOW(6))",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:        "current_user()",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:        "current_user()",
	pg.SQLValueFunctionOp_SVFOP_USER:                "current_user()",
	pg.SQLValueFunctionOp_SVFOP_SESSION_USER:        "current_user()",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:     "current_database()",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:      "current_schema()",
}

var sqlValueNames = map[pg.SQLValueFunctionOp]string{
	pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE: "current_date", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME: "current_time",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N: "current_time", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp", pg.SQLValueFunctionOp_SVFOP_LOCALTIME: "localtime",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N: "localtime", pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP: "localtimestamp",
	pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N: "localtimestamp", pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "current_role",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_USER: "current_user", pg.SQLValueFunctionOp_SVFOP_USER: "user",
	pg.SQLValueFunctionOp_SVFOP_SESSION_USER: "session_user", pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG: "current_catalog",
	pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA: "current_schema",
}
