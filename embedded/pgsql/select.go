package pgsql

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// selectStmt prints a SELECT, a set operation or a VALUES list. top is true for the statement's
// own result, whose columns are named as Postgres names them.
func (p *printer) selectStmt(s *pg.SelectStmt, top bool) {
	if s.WithClause != nil {
		p.with(s.WithClause)
	}
	var targets []*pg.Node // what ORDER BY's column numbers and names refer to
	if p.emptyResult(s) {
		return
	}
	if s.Op != pg.SetOperation_SETOP_NONE {
		p.setOperation(s, top)
	} else if len(s.ValuesLists) > 0 {
		p.values(s.ValuesLists, nil)
	} else {
		p.simpleSelect(s, top)
		targets = s.TargetList
	}
	outer := p.targets
	p.targets = targets
	p.orderLimit(s)
	p.targets = outer
	if s.IntoClause != nil {
		p.unsupported("SELECT INTO")
	}
}

func (p *printer) with(w *pg.WithClause) {
	p.WriteString("WITH ")
	if w.Recursive {
		p.WriteString("RECURSIVE ")
	}
	list(p, w.Ctes, func(n *pg.Node) {
		cte := n.GetCommonTableExpr()
		if p.ctes == nil {
			p.ctes = map[string]bool{}
		}
		p.ctes[cte.Ctename] = true
		p.ident(cte.Ctename)
		if len(cte.Aliascolnames) > 0 {
			p.WriteString(" (")
			list(p, cte.Aliascolnames, func(c *pg.Node) { p.ident(c.GetString_().Sval) })
			p.WriteString(")")
		}
		p.WriteString(" AS (")
		q := cte.Ctequery.GetSelectStmt()
		if q == nil {
			p.unsupported("a data-modifying statement in WITH")
			return
		}
		p.selectStmt(q, false)
		p.WriteString(")")
	})
	p.WriteString(" ")
}

func (p *printer) setOperation(s *pg.SelectStmt, top bool) {
	op := map[pg.SetOperation]string{pg.SetOperation_SETOP_UNION: " UNION ", pg.SetOperation_SETOP_INTERSECT: " INTERSECT ",
		pg.SetOperation_SETOP_EXCEPT: " EXCEPT "}[s.Op]
	p.branch(s.Larg, top)
	p.WriteString(op)
	if s.All {
		p.WriteString("ALL ")
	}
	p.branch(s.Rarg, false)
}

// branch prints one side of a set operation; a side with its own ORDER BY or LIMIT keeps them
// in parentheses.
func (p *printer) branch(s *pg.SelectStmt, top bool) {
	if len(s.SortClause) > 0 || s.LimitCount != nil || s.LimitOffset != nil || s.WithClause != nil {
		p.WriteString("(")
		p.selectStmt(s, top)
		p.WriteString(")")
		return
	}
	p.selectStmt(s, top)
}

// values prints VALUES rows as SELECTs joined by UNION ALL, naming the columns column1...
// (Postgres's names) or names.
func (p *printer) values(rows []*pg.Node, names []string) {
	for i, row := range rows {
		if i > 0 {
			p.WriteString(" UNION ALL ")
		}
		p.WriteString("SELECT ")
		list2 := row.GetList().Items
		for j, v := range list2 {
			if j > 0 {
				p.WriteString(", ")
			}
			p.expr(v)
			if i == 0 {
				p.WriteString(" AS ")
				if j < len(names) {
					p.ident(names[j])
				} else {
					p.ident("column" + strconv.Itoa(j+1))
				}
			}
		}
	}
}

func (p *printer) simpleSelect(s *pg.SelectStmt, top bool) {
	p.WriteString("SELECT ")
	if s.DistinctClause != nil {
		if len(s.DistinctClause) > 0 && s.DistinctClause[0] != nil && s.DistinctClause[0].Node != nil {
			p.unsupported("SELECT DISTINCT ON")
		}
		p.WriteString("DISTINCT ")
	}
	list(p, s.TargetList, func(n *pg.Node) { p.target(n.GetResTarget(), top) })
	if len(s.FromClause) > 0 {
		p.WriteString(" FROM ")
		list(p, s.FromClause, p.fromItem)
	}
	if s.WhereClause != nil {
		p.WriteString(" WHERE ")
		p.expr(s.WhereClause)
	}
	if len(s.GroupClause) > 0 {
		p.WriteString(" GROUP BY ")
		list(p, s.GroupClause, func(n *pg.Node) {
			if _, ok := n.Node.(*pg.Node_GroupingSet); ok {
				p.unsupported("GROUPING SETS, ROLLUP and CUBE")
			}
			p.expr(n)
		})
	}
	if s.HavingClause != nil {
		p.WriteString(" HAVING ")
		p.expr(s.HavingClause)
	}
	if len(s.WindowClause) > 0 {
		p.unsupported("a WINDOW clause")
	}
}

// emptyCatalog are the pg_catalog relations that are always empty in wasql (no policies,
// triggers, publications, inheritance, extended statistics).
var emptyCatalog = map[string]bool{"pg_policy": true, "pg_statistic_ext": true, "pg_publication": true,
	"pg_publication_namespace": true, "pg_publication_rel": true, "pg_trigger": true, "pg_inherits": true,
	"pg_rewrite": true}

// emptyResult recognises a SELECT that reads an always-empty catalog relation through inner
// joins and has no star and no aggregate: its result is empty, so it becomes a SELECT of NULLs
// with no row, printed here. Client tools' catalog queries do this (psql's \d asks for
// policies, triggers and publications) with constructs the engine lacks (arrays, set-returning
// functions).
func (p *printer) emptyResult(s *pg.SelectStmt) bool {
	if s.Op != pg.SetOperation_SETOP_NONE || len(s.GroupClause) > 0 || s.HavingClause != nil || !readsEmpty(s.FromClause) {
		return false
	}
	plain := true // no star, no aggregate of this SELECT's (a subquery's are its own)
	for _, t := range s.TargetList {
		walk(t, func(n *pg.Node) bool {
			if fc := n.GetFuncCall(); (fc != nil && aggregates[funcName(fc)]) || n.GetAStar() != nil {
				plain = false
			}
			return plain && n.GetSubLink() == nil
		})
	}
	if !plain {
		return false
	}
	p.WriteString("SELECT ")
	list(p, s.TargetList, func(n *pg.Node) {
		p.WriteString("NULL AS ")
		p.ident(outputName(n.GetResTarget()))
	})
	p.WriteString(" FROM DUAL WHERE FALSE")
	return true
}

// walk calls f on n and the nodes below it, depth first; it descends into a node's children
// only when f returns true.
func walk(n *pg.Node, f func(*pg.Node) bool) {
	if !f(n) {
		return
	}
	var visit func(m protoreflect.Message)
	each := func(m protoreflect.Message) {
		if node, isNode := m.Interface().(*pg.Node); isNode {
			walk(node, f)
		} else {
			visit(m)
		}
	}
	visit = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					each(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				each(v.Message())
			}
			return true
		})
	}
	visit(n.ProtoReflect())
}

func readsEmpty(from []*pg.Node) bool {
	for _, n := range from {
		if emptyItem(n) {
			return true
		}
	}
	return false
}

func emptyItem(n *pg.Node) bool {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		rv := x.RangeVar
		return (rv.Schemaname == "" || rv.Schemaname == "pg_catalog") && emptyCatalog[rv.Relname]
	case *pg.Node_JoinExpr:
		switch x.JoinExpr.Jointype {
		case pg.JoinType_JOIN_INNER:
			return emptyItem(x.JoinExpr.Larg) || emptyItem(x.JoinExpr.Rarg)
		case pg.JoinType_JOIN_LEFT:
			return emptyItem(x.JoinExpr.Larg)
		case pg.JoinType_JOIN_RIGHT:
			return emptyItem(x.JoinExpr.Rarg)
		}
	}
	return false
}

// target prints one item of a select list; at the top level it is named as Postgres names it.
func (p *printer) target(t *pg.ResTarget, top bool) {
	if cr := t.Val.GetColumnRef(); cr != nil {
		if _, star := cr.Fields[len(cr.Fields)-1].Node.(*pg.Node_AStar); star {
			p.expr(t.Val)
			return
		}
	}
	if out, ok := regOutput(t.Val); ok && top { // an OID alias prints as a name
		p.WriteString(out + "(")
		p.expr(t.Val)
		p.WriteString(")")
	} else {
		p.expr(t.Val)
	}
	name := t.Name
	if top {
		name = outputName(t)
	}
	if name != "" {
		p.WriteString(" AS ")
		p.ident(name)
	}
}

// outputName is the name of a result column: its alias, or the name Postgres gives it.
func outputName(t *pg.ResTarget) string {
	if t.Name != "" {
		return t.Name
	}
	return columnName(t.Val)
}

// columnName is the name Postgres gives an unnamed result column (FigureColname).
func columnName(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if s := x.ColumnRef.Fields[len(x.ColumnRef.Fields)-1].GetString_(); s != nil {
			return s.Sval
		}
	case *pg.Node_FuncCall:
		return funcName(x.FuncCall)
	case *pg.Node_TypeCast:
		// The argument's name when it is a strong one (a column's, a function's), as Postgres's
		// FigureColname: a cast of a cast, of CASE or of a constant is named by its type.
		switch x.TypeCast.Arg.Node.(type) {
		case *pg.Node_TypeCast, *pg.Node_CaseExpr, *pg.Node_AConst:
		default:
			if name := columnName(x.TypeCast.Arg); name != "?column?" {
				return name
			}
		}
		names := x.TypeCast.TypeName.Names
		return names[len(names)-1].GetString_().Sval
	case *pg.Node_AConst:
		if x.AConst.GetBoolval() != nil {
			return "bool"
		}
	case *pg.Node_CaseExpr:
		return "case"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return "greatest"
		}
		return "least"
	case *pg.Node_AArrayExpr:
		return "array"
	case *pg.Node_RowExpr:
		return "row"
	case *pg.Node_AExpr:
		if x.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif"
		}
	case *pg.Node_SqlvalueFunction:
		return sqlValueNames[x.SqlvalueFunction.Op]
	case *pg.Node_SubLink:
		switch x.SubLink.SubLinkType {
		case pg.SubLinkType_EXISTS_SUBLINK:
			return "exists"
		case pg.SubLinkType_ARRAY_SUBLINK:
			return "array"
		case pg.SubLinkType_EXPR_SUBLINK:
			if sel := x.SubLink.Subselect.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
				t := sel.TargetList[0].GetResTarget()
				if t.Name != "" {
					return t.Name
				}
				return columnName(t.Val)
			}
		}
	case *pg.Node_AIndirection:
		ind := x.AIndirection.Indirection
		if s := ind[len(ind)-1].GetString_(); s != nil {
			return s.Sval
		}
		return columnName(x.AIndirection.Arg)
	}
	return "?column?"
}

func (p *printer) orderLimit(s *pg.SelectStmt) {
	if len(s.SortClause) > 0 {
		p.WriteString(" ORDER BY ")
		list(p, s.SortClause, func(n *pg.Node) { p.sortBy(n.GetSortBy()) })
	}
	if s.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		p.unsupported("FETCH ... WITH TIES")
	}
	count := s.LimitCount
	if count != nil && count.GetAConst() != nil && count.GetAConst().Isnull {
		count = nil // LIMIT ALL
	}
	if count != nil {
		p.WriteString(" LIMIT ")
		p.expr(count)
	} else if s.LimitOffset != nil {
		p.WriteString(" LIMIT 18446744073709551615")
	}
	if s.LimitOffset != nil {
		p.WriteString(" OFFSET ")
		p.expr(s.LimitOffset)
	}
	// FOR UPDATE / FOR SHARE: the statement counts as a write (embedded/stmtlock.go), so with
	// Dolt's tables its transaction takes the writer lock and keeps it to its end, and no other
	// transaction writes meanwhile: stronger than PostgreSQL's row locks, never weaker. SKIP
	// LOCKED and NOWAIT, whose answers depend on the locks other sessions hold, are refused.
	if len(s.LockingClause) > 0 {
		for _, n := range s.LockingClause {
			if n.GetLockingClause().WaitPolicy != pg.LockWaitPolicy_LockWaitBlock {
				p.unsupported("FOR UPDATE/SHARE with SKIP LOCKED or NOWAIT")
				return
			}
		}
		p.WriteString(" FOR UPDATE")
	}
}

// sortBy prints an ORDER BY key. Postgres sorts NULLs last ascending and first descending,
// MySQL the other way round, so every key is preceded by an IS NULL key that puts them where
// Postgres (or an explicit NULLS FIRST/LAST) does. A key that names an output column by number
// or name tests that column's expression; a column number after a set operation cannot be
// tested and keeps MySQL's order.
func (p *printer) sortBy(s *pg.SortBy) {
	if s.SortbyDir == pg.SortByDir_SORTBY_USING {
		p.unsupported("ORDER BY ... USING")
	}
	desc := s.SortbyDir == pg.SortByDir_SORTBY_DESC
	nullsFirst := s.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_FIRST ||
		(s.SortbyNulls != pg.SortByNulls_SORTBY_NULLS_LAST && desc)
	if key := p.outputColumn(s.Node); key != nil {
		p.WriteString("(")
		p.expr(key)
		p.WriteString(") IS NULL")
		if nullsFirst {
			p.WriteString(" DESC")
		}
		p.WriteString(", ")
	}
	p.expr(s.Node)
	if desc {
		p.WriteString(" DESC")
	}
}

// outputColumn is the expression an ORDER BY key sorts on: the select-list item it names by
// number or alias, else the key itself; nil when that is unknown (a number in a set operation).
func (p *printer) outputColumn(key *pg.Node) *pg.Node {
	if c := key.GetAConst(); c != nil {
		if c.GetIval() == nil {
			return nil // a constant sorts nothing
		}
		n := int(c.GetIval().Ival)
		if n < 1 || n > len(p.targets) {
			return nil
		}
		t := p.targets[n-1].GetResTarget()
		if cr := t.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			return nil
		}
		return t.Val
	}
	if cr := key.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		name := cr.Fields[0].GetString_().GetSval()
		for _, t := range p.targets {
			if rt := t.GetResTarget(); rt.Name == name {
				return rt.Val
			}
		}
	}
	return key
}

// fromItem prints one item of a FROM clause.
func (p *printer) fromItem(n *pg.Node) {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		p.rangeVar(x.RangeVar)
		if a := x.RangeVar.Alias; a != nil {
			if len(a.Colnames) > 0 {
				p.unsupported("column aliases on a table")
			}
			p.WriteString(" AS ")
			p.ident(a.Aliasname)
		}
	case *pg.Node_JoinExpr:
		p.join(x.JoinExpr)
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		if rs.Lateral {
			p.WriteString("LATERAL ")
		}
		sel := rs.Subquery.GetSelectStmt()
		if rs.Alias != nil && len(rs.Alias.Colnames) > 0 && len(sel.ValuesLists) > 0 {
			p.WriteString("(")
			p.values(sel.ValuesLists, names(rs.Alias.Colnames))
			outer := p.targets
			p.targets = nil
			p.orderLimit(sel)
			p.targets = outer
			p.WriteString(")")
		} else {
			p.WriteString("(")
			p.selectStmt(sel, false)
			p.WriteString(")")
			if rs.Alias != nil && len(rs.Alias.Colnames) > 0 {
				p.unsupported("column aliases on a subquery")
			}
		}
		p.WriteString(" AS ")
		if rs.Alias == nil {
			p.ident("subquery")
		} else {
			p.ident(rs.Alias.Aliasname)
		}
	case *pg.Node_RangeFunction:
		p.rangeFunction(x.RangeFunction)
	default:
		p.unsupported("this FROM item")
	}
}

func names(nodes []*pg.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.GetString_().Sval
	}
	return out
}

// rangeVar prints a relation name, mapping Postgres schemas to the engine's databases. An
// unqualified pg_* name is in pg_catalog (first on Postgres's search path), unless a WITH
// clause defines it.
func (p *printer) rangeVar(rv *pg.RangeVar) {
	p.relation(rv, !p.ctes[rv.Relname])
}

// newRelation prints the name of a relation being created: unqualified, it is in public.
func (p *printer) newRelation(rv *pg.RangeVar) { p.relation(rv, false) }

func (p *printer) relation(rv *pg.RangeVar, catalog bool) {
	if rv.Catalogname != "" {
		p.unsupported("cross-database references")
	}
	schema := rv.Schemaname
	if schema == "" && catalog && strings.HasPrefix(rv.Relname, "pg_") {
		schema = "pg_catalog"
	}
	switch schema {
	case "", "public":
	case "pg_catalog":
		p.WriteString("`pg_catalog`.")
	case "information_schema":
		p.WriteString("`pg_information_schema`.")
	case "wasql": // wasql.functions, the statistics view: a table of the one database
		if rv.Relname != "functions" {
			p.fail(&Error{Code: "42P01", Msg: "relation \"wasql." + rv.Relname + "\" does not exist"})
		}
	default:
		p.fail(&Error{Code: "3F000", Msg: "schema \"" + schema + "\" does not exist"})
	}
	p.ident(rv.Relname)
}

func (p *printer) join(j *pg.JoinExpr) {
	if j.Alias != nil || j.JoinUsingAlias != nil {
		p.unsupported("an alias on a JOIN")
	}
	p.WriteString("(")
	p.fromItem(j.Larg)
	if j.IsNatural {
		p.WriteString(" NATURAL")
	}
	switch j.Jointype {
	case pg.JoinType_JOIN_INNER:
		if j.Quals == nil && len(j.UsingClause) == 0 && !j.IsNatural {
			p.WriteString(" CROSS JOIN ")
		} else {
			p.WriteString(" JOIN ")
		}
	case pg.JoinType_JOIN_LEFT:
		p.WriteString(" LEFT JOIN ")
	case pg.JoinType_JOIN_RIGHT:
		p.WriteString(" RIGHT JOIN ")
	case pg.JoinType_JOIN_FULL:
		p.WriteString(" FULL OUTER JOIN ")
	default:
		p.unsupported("this kind of JOIN")
	}
	p.fromItem(j.Rarg)
	if j.Quals != nil {
		p.WriteString(" ON ")
		p.expr(j.Quals)
	}
	if len(j.UsingClause) > 0 {
		p.WriteString(" USING (")
		list(p, j.UsingClause, func(c *pg.Node) { p.ident(c.GetString_().Sval) })
		p.WriteString(")")
	}
	p.WriteString(")")
}

// series prints generate_series(start, stop[, step]) as a recursive CTE. The step must be a
// constant: its sign decides the comparison.
func (p *printer) series(fc *pg.FuncCall, col string) {
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		p.unsupported("generate_series with %d arguments", len(fc.Args))
		return
	}
	step, cmp := "1", "<="
	if len(fc.Args) == 3 {
		c := fc.Args[2].GetAConst().GetIval()
		if c == nil {
			p.unsupported("generate_series with a computed or non-integer step")
			return
		}
		if c.Ival == 0 {
			p.fail(&Error{Code: "22023", Msg: "step size cannot equal zero"})
			return
		}
		step = strconv.Itoa(int(c.Ival))
		if c.Ival < 0 {
			cmp = ">="
		}
	}
	p.WriteString("(WITH RECURSIVE `series` (`n`) AS (SELECT ")
	p.expr(fc.Args[0])
	p.WriteString(" FROM DUAL WHERE ")
	p.expr(fc.Args[0])
	p.WriteString(" " + cmp + " ")
	p.expr(fc.Args[1])
	p.WriteString(" UNION ALL SELECT `n` + " + step + " FROM `series` WHERE `n` + " + step + " " + cmp + " ")
	p.expr(fc.Args[1])
	p.WriteString(") SELECT `n` AS ")
	p.ident(col)
	p.WriteString(" FROM `series`)")
}

// rangeFunction prints a function in FROM: generate_series as a recursive CTE, any other
// function as a one-row derived table (a scalar function in FROM yields one row in Postgres).
func (p *printer) rangeFunction(rf *pg.RangeFunction) {
	if rf.Ordinality || rf.IsRowsfrom || len(rf.Functions) != 1 || len(rf.Coldeflist) > 0 {
		p.unsupported("WITH ORDINALITY, ROWS FROM and column definitions on a function in FROM")
		return
	}
	items := rf.Functions[0].GetList().Items
	fc := items[0].GetFuncCall()
	if fc == nil {
		p.unsupported("this function in FROM")
		return
	}
	name := funcName(fc)
	alias, col := name, name
	if rf.Alias != nil {
		alias, col = rf.Alias.Aliasname, rf.Alias.Aliasname
		if len(rf.Alias.Colnames) == 1 {
			col = rf.Alias.Colnames[0].GetString_().Sval
		} else if len(rf.Alias.Colnames) > 1 {
			p.unsupported("several column aliases on a function in FROM")
		}
	}
	if rf.Lateral {
		p.WriteString("LATERAL ")
	}
	switch name {
	case "generate_series":
		p.series(fc, col)
	case "unnest", "json_each", "jsonb_each", "json_array_elements", "jsonb_array_elements", "regexp_matches",
		"pg_options_to_table", "string_to_table", "pg_get_keywords":
		p.unsupported("the set-returning function %s", name)
		return
	default:
		p.WriteString("(SELECT ")
		p.funcCall(fc)
		p.WriteString(" AS ")
		p.ident(col)
		p.WriteString(")")
	}
	p.WriteString(" AS ")
	p.ident(alias)
}
