package upstream

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/wasql/wasql/internal/sqlstate"
)

// Finding the wasm calls of a statement: each call with the query block whose rows it is
// evaluated over (its FROM and WHERE give PostgreSQL the arguments to prepare), whether it is
// evaluated per row or per group, and the calls in its arguments. Everything that cannot be
// planned is refused here, naming the construct (0A000).

// level is where in its block a call is evaluated.
type level uint8

const (
	rowLevel   level = iota // per row of the block's FROM (WHERE, the select list of an ungrouped block, aggregate arguments...)
	groupLevel              // per group: outside aggregate arguments in a grouped block
	joinLevel               // in a JOIN's ON condition: per row of the join's inputs
	constLevel              // VALUES, LIMIT: no rows to read
)

// block is a query block: a SELECT with its FROM, or the table an UPDATE or DELETE reads.
type block struct {
	sel     *pg_query.SelectStmt // nil for UPDATE and DELETE
	from    []*pg_query.Node     // what the arguments are read from
	where   *pg_query.Node
	grouped bool
	ctes    []*pg_query.Node // the CTEs it can see, outermost first
	recur   bool             // one of them is WITH RECURSIVE
	setFrom func([]*pg_query.Node)
	// returning: the RETURNING list of an INSERT, UPDATE or DELETE, read from its rows.
	returning bool
	groups    []string // the GROUP BY expressions, deparsed
}

// wasmCall is one call of a wasm function.
type wasmCall struct {
	node  *pg_query.Node // the FuncCall's node: the call is rewritten in place
	orig  *pg_query.Node // a copy of it before any rewriting
	fc    *pg_query.FuncCall
	name  string
	blk   *block
	lvl   level
	join  *pg_query.JoinExpr // for joinLevel
	inner []*wasmCall
	folds bool // its arguments are constants and parameters: PostgreSQL folds the call when planning
}

// analysis is what finding the calls found.
type analysis struct {
	calls []*wasmCall // inner calls before the calls whose arguments hold them
	names nameLookup
	aggs  map[string]bool
	err   error
	// modifying: a WITH query modifies data. Preparing arguments reads the statement's blocks
	// before the statement runs, which would run it twice.
	modifying bool
}

// nameLookup reports whether an unqualified function name is a wasm function's.
type nameLookup func(name string) bool

func refuse(format string, args ...any) error {
	return sqlError(sqlstate.FeatureNotSupported, fmt.Sprintf(format, args...))
}

// findCalls walks stmt (one statement of a parse tree). aggs are the names of PostgreSQL's
// aggregate functions.
func findCalls(stmt *pg_query.Node, names nameLookup, aggs map[string]bool) ([]*wasmCall, error) {
	a := &analysis{names: names, aggs: aggs}
	a.stmt(stmt, nil, false)
	if a.err == nil && a.modifying && len(a.calls) > 0 {
		a.err = refuse("a statement with a data-modifying WITH query cannot call wasm functions through the proxy")
	}
	return a.calls, a.err
}

func (a *analysis) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

// wasmName returns the name of the wasm function fc calls, or "".
func (a *analysis) wasmName(fc *pg_query.FuncCall) string {
	switch len(fc.Funcname) {
	case 1:
		n := fc.Funcname[0].GetString_().GetSval()
		if a.names(n) {
			return n
		}
	case 2:
		if fc.Funcname[0].GetString_().GetSval() == "wasql" {
			n := fc.Funcname[1].GetString_().GetSval()
			if a.names(n) {
				return n
			}
		}
	}
	return ""
}

func withCTEs(ctes []*pg_query.Node, recur bool, w *pg_query.WithClause) ([]*pg_query.Node, bool) {
	if w == nil {
		return ctes, recur
	}
	return append(append([]*pg_query.Node(nil), ctes...), w.Ctes...), recur || w.Recursive
}

// stmt walks a statement or a subquery.
func (a *analysis) stmt(n *pg_query.Node, ctes []*pg_query.Node, recur bool) {
	if n == nil || a.err != nil {
		return
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		a.selectStmt(x.SelectStmt, ctes, recur)
	case *pg_query.Node_InsertStmt:
		s := x.InsertStmt
		ctes, recur = withCTEs(ctes, recur, s.WithClause)
		a.ctes(s.WithClause, ctes, recur)
		a.stmt(s.SelectStmt, ctes, recur)
		if a.has(s.OnConflictClause) {
			a.fail(refuse("a wasm function in ON CONFLICT is not supported through the proxy"))
		}
		a.returning(s.ReturningList)
	case *pg_query.Node_UpdateStmt:
		s := x.UpdateStmt
		ctes, recur = withCTEs(ctes, recur, s.WithClause)
		a.ctes(s.WithClause, ctes, recur)
		b := a.dmlBlock(s.Relation, s.FromClause, s.WhereClause, ctes, recur)
		for _, t := range s.TargetList {
			a.expr(b, t.GetResTarget().GetVal(), rowLevel, nil)
		}
		a.returning(s.ReturningList)
	case *pg_query.Node_DeleteStmt:
		s := x.DeleteStmt
		ctes, recur = withCTEs(ctes, recur, s.WithClause)
		a.ctes(s.WithClause, ctes, recur)
		a.dmlBlock(s.Relation, s.UsingClause, s.WhereClause, ctes, recur)
		a.returning(s.ReturningList)
	case *pg_query.Node_CreateTableAsStmt:
		s := x.CreateTableAsStmt
		if s.Objtype != pg_query.ObjectType_OBJECT_TABLE {
			a.fail(refuse("a materialized view cannot call wasm functions"))
			return
		}
		a.stmt(s.Query, ctes, recur)
	case *pg_query.Node_CopyStmt:
		if x.CopyStmt.Query == nil {
			a.fail(refuse("COPY ... FROM cannot call wasm functions"))
			return
		}
		a.stmt(x.CopyStmt.Query, ctes, recur)
	default:
		a.fail(refuse("calling a wasm function in %s is not supported through the proxy", stmtName(n)))
	}
}

// inGroupBy reports whether a call, as written, is part of a GROUP BY expression of b: then
// its lookup must be the GROUP BY's own, for PostgreSQL to match the two.
func (b *block) inGroupBy(call string) bool {
	for _, g := range b.groups {
		if strings.Contains(g, call) {
			return true
		}
	}
	return false
}

// dmlBlock walks the table an UPDATE or DELETE reads (with its FROM or USING) and its WHERE.
func (a *analysis) dmlBlock(rel *pg_query.RangeVar, from []*pg_query.Node, where *pg_query.Node, ctes []*pg_query.Node, recur bool) *block {
	b := &block{from: append([]*pg_query.Node{{Node: &pg_query.Node_RangeVar{RangeVar: rel}}}, from...), where: where, ctes: ctes, recur: recur}
	a.fromItems(b, from, ctes, recur)
	a.expr(b, where, rowLevel, nil)
	return b
}

// stmtName names a statement's kind for messages: CREATE VIEW, DECLARE CURSOR...
func stmtName(n *pg_query.Node) string {
	switch n.Node.(type) {
	case *pg_query.Node_ViewStmt:
		return "CREATE VIEW"
	case *pg_query.Node_DeclareCursorStmt:
		return "DECLARE CURSOR"
	case *pg_query.Node_PrepareStmt:
		return "PREPARE"
	case *pg_query.Node_ExecuteStmt:
		return "EXECUTE"
	case *pg_query.Node_CreateFunctionStmt:
		return "CREATE FUNCTION"
	case *pg_query.Node_CreateStmt:
		return "CREATE TABLE"
	case *pg_query.Node_AlterTableStmt:
		return "ALTER TABLE"
	case *pg_query.Node_IndexStmt:
		return "CREATE INDEX"
	case *pg_query.Node_RuleStmt:
		return "CREATE RULE"
	case *pg_query.Node_CallStmt:
		return "CALL"
	case *pg_query.Node_DoStmt:
		return "DO"
	}
	name := fmt.Sprintf("%T", n.Node)
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	return "a " + name
}

func (a *analysis) ctes(w *pg_query.WithClause, ctes []*pg_query.Node, recur bool) {
	if w == nil {
		return
	}
	outer := ctes[:len(ctes)-len(w.Ctes)]
	for i, c := range w.Ctes {
		q := c.GetCommonTableExpr().GetCtequery()
		if w.Recursive && a.has(q) {
			a.fail(refuse("a wasm function in a WITH RECURSIVE query is not supported through the proxy"))
			return
		}
		// A WITH query sees the ones before it.
		ctes := append(append([]*pg_query.Node(nil), outer...), w.Ctes[:i]...)
		if q.GetSelectStmt() == nil && a.has(q) {
			a.fail(refuse("a wasm function in a data-modifying WITH query is not supported through the proxy"))
			return
		}
		if q.GetSelectStmt() == nil && a.err == nil {
			// INSERT/UPDATE/DELETE in WITH: preparing arguments would run it twice.
			a.modifying = true
		}
		a.stmt(q, ctes, recur)
	}
}

// returning walks a RETURNING list: its calls can only be computed on the stream (stream.go),
// as the rows come back; a constant one is prepared as anywhere.
func (a *analysis) returning(list []*pg_query.Node) {
	b := &block{returning: true, from: []*pg_query.Node{}}
	for _, t := range list {
		a.expr(b, t, rowLevel, nil)
	}
}

func (a *analysis) selectStmt(s *pg_query.SelectStmt, ctes []*pg_query.Node, recur bool) {
	ctes, recur = withCTEs(ctes, recur, s.WithClause)
	a.ctes(s.WithClause, ctes, recur)
	if s.Op != pg_query.SetOperation_SETOP_NONE {
		a.selectStmt(s.Larg, ctes, recur)
		a.selectStmt(s.Rarg, ctes, recur)
		for _, n := range []*pg_query.Node{s.LimitCount, s.LimitOffset} {
			a.expr(&block{ctes: ctes, recur: recur}, n, constLevel, nil)
		}
		for _, n := range s.SortClause {
			if a.has(n) {
				a.fail(refuse("a wasm function in the ORDER BY of a set operation is not supported through the proxy"))
			}
		}
		return
	}
	if len(s.ValuesLists) > 0 {
		b := &block{sel: s, ctes: ctes, recur: recur}
		for _, row := range s.ValuesLists {
			a.expr(b, row, constLevel, nil)
		}
		return
	}
	b := &block{sel: s, from: s.FromClause, where: s.WhereClause, ctes: ctes, recur: recur,
		setFrom: func(f []*pg_query.Node) { s.FromClause = f }}
	b.grouped = len(s.GroupClause) > 0 || s.HavingClause != nil
	for _, n := range append(append([]*pg_query.Node{}, s.TargetList...), s.SortClause...) {
		if a.hasAggregate(n) {
			b.grouped = true
		}
	}
	if b.grouped {
		var add func(g *pg_query.Node)
		add = func(g *pg_query.Node) {
			if gs := g.GetGroupingSet(); gs != nil { // ROLLUP, CUBE, GROUPING SETS: their items
				for _, c := range gs.Content {
					add(c)
				}
				return
			}
			if l := g.GetRowExpr(); l != nil {
				for _, c := range l.Args {
					add(c)
				}
			}
			if txt, err := deparseExpr(g); err == nil {
				b.groups = append(b.groups, txt)
			}
		}
		for _, g := range s.GroupClause {
			add(g)
		}
	}
	top := rowLevel
	if b.grouped {
		top = groupLevel
	}
	a.fromItems(b, s.FromClause, ctes, recur)
	a.expr(b, s.WhereClause, rowLevel, nil)
	for _, g := range s.GroupClause {
		a.expr(b, g, rowLevel, nil)
	}
	a.expr(b, s.HavingClause, top, nil)
	for _, w := range s.WindowClause {
		a.expr(b, w, rowLevel, nil)
	}
	for _, t := range s.TargetList {
		a.expr(b, t, top, nil)
	}
	for _, n := range s.SortClause {
		a.expr(b, n, top, nil)
	}
	for _, n := range s.DistinctClause {
		a.expr(b, n, top, nil)
	}
	for _, n := range []*pg_query.Node{s.LimitCount, s.LimitOffset} {
		a.expr(b, n, constLevel, nil)
	}
}

// fromItems walks the FROM items of b: subqueries are blocks of their own; ON conditions are
// evaluated over their join's inputs.
func (a *analysis) fromItems(b *block, items []*pg_query.Node, ctes []*pg_query.Node, recur bool) {
	for _, it := range items {
		switch x := it.Node.(type) {
		case *pg_query.Node_RangeSubselect:
			a.stmt(x.RangeSubselect.Subquery, ctes, recur)
		case *pg_query.Node_JoinExpr:
			j := x.JoinExpr
			a.fromItems(b, []*pg_query.Node{j.Larg, j.Rarg}, ctes, recur)
			a.expr(b, j.Quals, joinLevel, j)
		case *pg_query.Node_RangeFunction:
			if a.has(it) {
				a.fail(refuse("a wasm function in FROM is not supported through the proxy: call it in the select list"))
			}
		}
	}
}

// expr walks an expression of block b evaluated at lvl.
func (a *analysis) expr(b *block, n *pg_query.Node, lvl level, j *pg_query.JoinExpr) {
	if n == nil || a.err != nil {
		return
	}
	a.walk(b, n, lvl, j, nil)
}

// walk finds the calls under n; the calls found are appended to *inner (nil: a.calls).
func (a *analysis) walk(b *block, n *pg_query.Node, lvl level, j *pg_query.JoinExpr, inner *[]*wasmCall) {
	visit(n, func(m *pg_query.Node) bool {
		if a.err != nil {
			return false
		}
		switch x := m.Node.(type) {
		case *pg_query.Node_SubLink:
			a.walk(b, x.SubLink.Testexpr, lvl, j, inner)
			a.stmt(x.SubLink.Subselect, b.ctes, b.recur)
			return false
		case *pg_query.Node_FuncCall:
			fc := x.FuncCall
			name := a.wasmName(fc)
			if name == "" {
				if (fc.Over != nil || a.isAggregate(fc)) && lvl == groupLevel {
					// Its arguments are per row; its result per group.
					for _, arg := range fc.Args {
						a.walk(b, arg, rowLevel, j, inner)
					}
					a.walk(b, fc.AggFilter, rowLevel, j, inner)
					for _, o := range fc.AggOrder {
						a.walk(b, o, rowLevel, j, inner)
					}
					if fc.Over != nil {
						for _, p := range append(append([]*pg_query.Node{}, fc.Over.PartitionClause...), fc.Over.OrderClause...) {
							a.walk(b, p, rowLevel, j, inner)
						}
					}
					return false
				}
				return true
			}
			if fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.Over != nil || fc.FuncVariadic {
				a.fail(refuse("%s is a scalar wasm function: it takes no *, DISTINCT, ORDER BY, FILTER, OVER or VARIADIC", name))
				return false
			}
			c := &wasmCall{node: m, fc: fc, name: name, blk: b, lvl: lvl, join: j}
			if lvl != constLevel && b.from == nil {
				c.lvl = constLevel
			}
			for _, arg := range fc.Args {
				if na := arg.GetNamedArgExpr(); na != nil {
					a.fail(refuse("named arguments (%s => ...) to the wasm function %s are not supported through the proxy", na.Name, name))
					return false
				}
				a.walk(b, arg, lvl, j, &c.inner)
				if a.hasWindow(arg) {
					a.fail(refuse("a window function in the arguments of the wasm function %s is not supported through the proxy", name))
					return false
				}
			}
			if c.lvl != constLevel && !a.readsRows(fc.Args) {
				c.lvl = constLevel
			}
			c.folds = c.lvl == constLevel && onlyConstants(fc.Args)
			if inner != nil {
				*inner = append(*inner, c)
			}
			a.calls = append(a.calls, c)
			return false
		}
		return true
	})
}

// visit calls f for n and, while f returns true, for the nodes under it.
func visit(n *pg_query.Node, f func(*pg_query.Node) bool) {
	if n == nil || n.Node == nil {
		return
	}
	if f(n) {
		eachNode(n.ProtoReflect(), f)
	}
}

func eachNode(m protoreflect.Message, f func(*pg_query.Node) bool) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visitMsg(l.Get(i).Message(), f)
			}
			return true
		}
		visitMsg(v.Message(), f)
		return true
	})
}

func visitMsg(m protoreflect.Message, f func(*pg_query.Node) bool) {
	if n, ok := m.Interface().(*pg_query.Node); ok {
		visit(n, f)
		return
	}
	eachNode(m, f)
}

// has reports whether a wasm function is called under the message m.
func (a *analysis) has(m interface{ ProtoReflect() protoreflect.Message }) bool {
	if m == nil || !m.ProtoReflect().IsValid() {
		return false
	}
	found := false
	visitMsg(m.ProtoReflect(), func(n *pg_query.Node) bool {
		if fc := n.GetFuncCall(); fc != nil && a.wasmName(fc) != "" {
			found = true
		}
		return !found
	})
	return found
}

func (a *analysis) isAggregate(fc *pg_query.FuncCall) bool {
	if fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.AggWithinGroup {
		return true
	}
	if len(fc.Funcname) == 0 {
		return false
	}
	return a.aggs[fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()]
}

// hasAggregate reports whether n (outside subqueries) calls an aggregate.
func (a *analysis) hasAggregate(n *pg_query.Node) bool {
	found := false
	visit(n, func(m *pg_query.Node) bool {
		switch x := m.Node.(type) {
		case *pg_query.Node_SubLink:
			return false
		case *pg_query.Node_FuncCall:
			if x.FuncCall.Over == nil && a.isAggregate(x.FuncCall) {
				found = true
			}
		}
		return !found
	})
	return found
}

func (a *analysis) hasWindow(n *pg_query.Node) bool {
	found := false
	visit(n, func(m *pg_query.Node) bool {
		if _, ok := m.Node.(*pg_query.Node_SubLink); ok {
			return false
		}
		if fc := m.GetFuncCall(); fc != nil && fc.Over != nil {
			found = true
		}
		return !found
	})
	return found
}

// readsRows reports whether expressions read the rows of their block: a column, an aggregate
// or a subquery (which may read outer columns).
func (a *analysis) readsRows(args []*pg_query.Node) bool {
	found := false
	for _, arg := range args {
		visit(arg, func(m *pg_query.Node) bool {
			switch x := m.Node.(type) {
			case *pg_query.Node_ColumnRef, *pg_query.Node_SubLink:
				found = true
			case *pg_query.Node_FuncCall:
				if a.isAggregate(x.FuncCall) {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// onlyConstants reports whether expressions are made of constants, parameters, operators and
// casts alone (what PostgreSQL's planner folds).
func onlyConstants(args []*pg_query.Node) bool {
	ok := true
	for _, arg := range args {
		visit(arg, func(m *pg_query.Node) bool {
			switch m.Node.(type) {
			case *pg_query.Node_FuncCall, *pg_query.Node_SubLink, *pg_query.Node_ColumnRef:
				ok = false
			}
			return ok
		})
	}
	return ok
}

// deparseExpr returns the SQL text of an expression.
func deparseExpr(n *pg_query.Node) (string, error) {
	tree := &pg_query.ParseResult{Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: &pg_query.SelectStmt{
		TargetList: []*pg_query.Node{{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{Val: n}}}},
	}}}}}}
	s, err := pg_query.Deparse(tree)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(s, "SELECT "), nil
}

// parseExpr parses one SQL expression.
func parseExpr(sql string) (*pg_query.Node, error) {
	tree, err := pg_query.Parse("SELECT " + sql)
	if err != nil {
		return nil, fmt.Errorf("wasql: parse %q: %w", sql, err)
	}
	return tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val, nil
}
