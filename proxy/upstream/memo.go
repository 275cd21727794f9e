package upstream

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// Evaluating a statement's wasm calls where PostgreSQL runs the statement: for each call,
// PostgreSQL computes the distinct arguments the call can meet (the call's block read with
// the conditions that do not involve wasm), wasql evaluates the function over them
// batch-at-a-time, and the results go back into a temporary table (binary COPY): the call's
// memo. The call is then rewritten into a lookup of its memo, joined to its block's FROM where
// it can be (a hash join) or as a scalar subquery elsewhere, and PostgreSQL runs the rewritten
// statement: scans, joins, filters, aggregates, sorting, windows and the rest stay its own, with
// its types, collations and NULLs. An error of the function is stored with the row that caused
// it and raised (wasql.raise) only where the statement reaches that row, so a call under CASE,
// COALESCE, AND or OR fails only for the rows PostgreSQL evaluates it for.

// fetchRows is how many argument rows one FETCH brings: one evaluation, one COPY.
const fetchRows = 16384

// memo is the table of one call's results.
type memo struct {
	table string // pg_temp.wasql_mN
	alias string // wasql_wN, when joined
	ov    *sqlfuncs.Overload
	keys  []string // the key expressions: the arguments cast to the function's types
	args  []string // the arguments as written
	query string   // the statement that gave the arguments
	join  bool     // joined to its block's FROM
	fn    string   // the function that looks it up, for a call per group (pg_temp.wasql_fN)
	// values holds the results in the statement (VALUES ...) instead of in table.
	values string
	stat   callStat
}

// callStat is what EXPLAIN ANALYZE reports of a memo.
type callStat struct {
	rows, batches, errors int
	prep, eval, fill      time.Duration
}

// wasmExec is the execution of one statement that calls wasm functions.
type wasmExec struct {
	s       *Session
	ctx     context.Context
	st      *udf.Statement
	params  [][]byte
	pfmts   []int16
	poids   []uint32
	seq     int
	memos   map[string]*memo
	order   []*memo
	tables  []string
	funcs   []string                                     // lookup functions created, to drop after the statement
	after   func(commit bool) []pgproto3.FrontendMessage // what runs after the statement, in its exchange
	inBlock bool                                         // the client's transaction block, not wasql's
	dry     bool                                         // EXPLAIN without ANALYZE: memos are created empty
	notices *noticeBuf                                   // the guests' output lines
}

// keyType is how a key of type t is declared, and the expression that makes argument arg one.
// Keys compare as the function sees them: text bytewise (COLLATE "C"), json as its text (json
// has no equality), floating point by its bits (float8send: -0 is not 0).
func keyType(t udf.Type, arg string) (decl, key string) {
	switch t {
	case udf.Text:
		return `text COLLATE "C"`, "(" + arg + `)::text COLLATE "C"`
	case udf.JSON:
		return `text COLLATE "C"`, "(" + arg + `)::json::text COLLATE "C"`
	case udf.Double:
		return "bytea", "float8send((" + arg + ")::double precision)"
	case udf.Real:
		return "bytea", "float4send((" + arg + ")::real)"
	}
	n := pgType[t].name
	return n, "(" + arg + ")::" + n
}

// plan evaluates every call and rewrites them; the statement is then PostgreSQL's to run.
func (x *wasmExec) plan(calls []*wasmCall) error {
	for _, c := range calls {
		if err := x.call(c); err != nil {
			return err
		}
	}
	return nil
}

func (x *wasmExec) call(c *wasmCall) error {
	ov, err := x.resolve(c)
	if err != nil {
		return err
	}
	if ov.Broken != nil {
		return ov.Broken
	}
	if c.blk.returning && c.lvl != constLevel {
		return refuse("a wasm call in RETURNING must be a whole column of it (RETURNING f(x), not f(x) + 1): its arguments are the rows the statement writes")
	}
	if v := ov.Def.Volatility; v == "VOLATILE" {
		return refuse("%s is VOLATILE: wasql evaluates a wasm function once per distinct argument, which PostgreSQL allows only for IMMUTABLE and STABLE functions; declare it IMMUTABLE or STABLE if it is", ov.Def.Key())
	}
	args := make([]string, len(c.fc.Args))
	keys := make([]string, len(args))
	for i, a := range c.fc.Args {
		if args[i], err = deparseExpr(a); err != nil {
			return err
		}
		_, keys[i] = keyType(ov.Args[i], args[i])
	}
	b := c.blk
	form := "sub"
	switch {
	case c.lvl == constLevel:
		form = "const"
	case c.lvl == rowLevel && b.setFrom != nil && !hasStar(b.sel):
		form = "join"
	case c.lvl == groupLevel && b.setFrom != nil && !hasStar(b.sel) && b.inGroupBy(x.original(c)):
		form = "join" // the same expression as a GROUP BY key: the same lookup
	case c.lvl == groupLevel:
		// A function, not a subquery: the arguments may hold aggregates, which in a subquery
		// would be the subquery's.
		form = "func"
	}
	id := fmt.Sprintf("%p|%s|%s|%s", b, ov.Def.Key(), form, strings.Join(keys, "\x00"))
	if c.lvl == groupLevel && form == "sub" {
		id += "|group"
	}
	if c.lvl == joinLevel || c.lvl == constLevel {
		id = fmt.Sprintf("%p|", c) + id
	}
	m := x.memos[id]
	if m == nil {
		x.seq++
		m = &memo{table: fmt.Sprintf("pg_temp.wasql_m%d", x.seq), alias: fmt.Sprintf("wasql_w%d", x.seq), ov: ov, keys: keys, args: args, join: form == "join"}
		if err := x.fill(c, m); err != nil {
			return err
		}
		if form == "func" {
			if err := x.lookupFunc(m); err != nil {
				return err
			}
		}
		if m.join {
			if err := x.attach(b, m); err != nil {
				return err
			}
		}
		x.memos[id] = m
		x.order = append(x.order, m)
	}
	n, err := parseExpr(withCollation(m, m.lookup(form == "const")))
	if err != nil {
		return err
	}
	c.node.Node = n.Node
	return nil
}

// withCollation gives a text result the collation PostgreSQL gives a function's: its text
// arguments'. A dead CASE branch with the first of them carries it (the planner drops the
// branch); when it differs from the memo's, PostgreSQL finds the two in conflict and the
// statement fails (wasmError words it 0A000) rather than comparing under the wrong collation.
func withCollation(m *memo, lookup string) string {
	if m.ov.Result != udf.Text {
		return lookup
	}
	for i, t := range m.ov.Args {
		if t == udf.Text {
			return fmt.Sprintf("(CASE WHEN false THEN (%s)::text ELSE %s END)", m.args[i], lookup)
		}
	}
	return lookup
}

// original is the call's text before any rewriting, as a GROUP BY key would be written.
func (x *wasmExec) original(c *wasmCall) string {
	s, _ := deparseExpr(c.orig)
	return s
}

func hasStar(s *pg_query.SelectStmt) bool {
	if s == nil {
		return true
	}
	for _, t := range s.TargetList {
		if cr := t.GetResTarget().GetVal().GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetAStar() != nil {
			return true
		}
	}
	return false
}

// lookup is the expression that stands for the call: its memo's result for the call's
// arguments, the function's error where it failed, NULL for a NULL argument of a STRICT
// function, and an error (never a wrong answer) if the arguments were not prepared.
func (m *memo) lookup(constant bool) string {
	ret := pgType[m.ov.Result].name
	anyNull := make([]string, len(m.args))
	for i, a := range m.args {
		anyNull[i] = "(" + a + ") IS NULL"
	}
	missing := fmt.Sprintf("wasql.raise('40001', %s, NULL, NULL::%s)", textLit(missingMessage(m.ov)), ret)
	hit := func(a string) string {
		return fmt.Sprintf("CASE WHEN %[1]s.wasql_c IS NULL THEN %[1]s.wasql_r ELSE wasql.raise(%[1]s.wasql_c, %[1]s.wasql_e, %[1]s.wasql_d, NULL::%[2]s) END", a, ret)
	}
	if constant {
		return fmt.Sprintf("(SELECT %s FROM %s)", hit("m"), m.item("m"))
	}
	if m.fn != "" { // a function of the arguments (see fill)
		return fmt.Sprintf("%s(%s)", m.fn, strings.Join(m.keys, ", "))
	}
	sub := func(nullsDistinct bool) string {
		conds := make([]string, len(m.keys))
		for i, k := range m.keys {
			op := "="
			if !nullsDistinct {
				op = "IS NOT DISTINCT FROM"
			}
			conds[i] = fmt.Sprintf("m.wasql_k%d %s (%s)", i+1, op, k)
		}
		on := strings.Join(conds, " AND ")
		if on == "" {
			on = "true"
		}
		return fmt.Sprintf("(SELECT CASE WHEN m.wasql_ok THEN %s ELSE %s END FROM (SELECT) wasql_one LEFT JOIN %s ON %s)", hit("m"), missing, m.item("m"), on)
	}
	nullCase := "NULL::" + ret
	if !m.ov.Def.Strict {
		nullCase = sub(false)
	}
	if len(m.args) == 0 {
		return sub(true)
	}
	if m.join {
		return fmt.Sprintf("(CASE WHEN %s.wasql_ok THEN %s WHEN %s THEN %s ELSE %s END)", m.alias, hit(m.alias), strings.Join(anyNull, " OR "), nullCase, missing)
	}
	if m.ov.Def.Strict {
		return fmt.Sprintf("(CASE WHEN %s THEN NULL::%s ELSE %s END)", strings.Join(anyNull, " OR "), ret, sub(true))
	}
	return sub(false)
}

// lookupFunc creates the function that looks m up: pg_temp.wasql_fN(keys) returns the result.
func (x *wasmExec) lookupFunc(m *memo) error {
	params := make([]string, len(m.keys))
	conds := make([]string, len(m.keys))
	for i, t := range m.ov.Args {
		decl, _ := keyType(t, "")
		params[i] = strings.TrimSuffix(decl, ` COLLATE "C"`)
		conds[i] = fmt.Sprintf("m.wasql_k%d IS NOT DISTINCT FROM $%d", i+1, i+1)
	}
	key := *m
	key.fn, key.args, key.keys = "", nil, nil
	strict := ""
	if m.ov.Def.Strict {
		strict = " STRICT"
	}
	on := strings.Join(conds, " AND ")
	if on == "" {
		on = "true"
	}
	ret := pgType[m.ov.Result].name
	body := fmt.Sprintf("SELECT CASE WHEN m.wasql_ok THEN CASE WHEN m.wasql_c IS NULL THEN m.wasql_r ELSE wasql.raise(m.wasql_c, m.wasql_e, m.wasql_d, NULL::%[1]s) END ELSE wasql.raise('40001', %[2]s, NULL, NULL::%[1]s) END FROM (SELECT) wasql_one LEFT JOIN %[3]s ON %[4]s",
		ret, textLit(missingMessage(m.ov)), m.item("m"), on)
	m.fn = strings.Replace(m.table, "wasql_m", "wasql_f", 1)
	err := x.s.simple(x.ctx, fmt.Sprintf("CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE sql STABLE%s AS %s",
		m.fn, strings.Join(params, ", "), ret, strict, textLit(body)))
	if err == nil {
		x.funcs = append(x.funcs, fmt.Sprintf("%s(%s)", m.fn, strings.Join(params, ", ")))
	}
	return err
}

func missingMessage(ov *sqlfuncs.Overload) string {
	return fmt.Sprintf("wasql: no result of %s was prepared for these arguments: another transaction changed the rows the statement reads since it began; retry it", ov.Def.Key())
}

// attach joins m to its block's FROM, so that the block's rows carry the call's result.
func (x *wasmExec) attach(b *block, m *memo) error {
	conds := make([]string, len(m.keys))
	for i, k := range m.keys {
		conds[i] = fmt.Sprintf("%s.wasql_k%d = (%s)", m.alias, i+1, k)
	}
	tree, err := pg_query.Parse(fmt.Sprintf("SELECT FROM %s WHERE %s", m.item(m.alias), strings.Join(conds, " AND ")))
	if err != nil {
		return err
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	var left *pg_query.Node
	for _, it := range b.from {
		if left == nil {
			left = it
			continue
		}
		left = pg_query.MakeJoinExprNode(pg_query.JoinType_JOIN_INNER, left, it, nil)
	}
	j := pg_query.MakeJoinExprNode(pg_query.JoinType_JOIN_LEFT, left, sel.FromClause[0], sel.WhereClause)
	b.from = []*pg_query.Node{j}
	b.setFrom(b.from)
	return nil
}

// prepQueries are the statements that give the arguments call c can meet, the most selective
// first: the next is tried when PostgreSQL cannot run one (an argument reads the other side
// of a join, or an outer query).
func (x *wasmExec) prepQueries(c *wasmCall, m *memo) ([]prepQuery, error) {
	b := c.blk
	targets := make([]*pg_query.Node, len(m.keys))
	for i, k := range m.keys {
		n, err := parseExpr(k)
		if err != nil {
			return nil, err
		}
		targets[i] = &pg_query.Node{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{Name: fmt.Sprintf("k%d", i+1), Val: n}}}
	}
	base := func() *pg_query.SelectStmt {
		s := &pg_query.SelectStmt{TargetList: targets, LimitOption: pg_query.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg_query.SetOperation_SETOP_NONE}
		if len(b.ctes) > 0 {
			s.WithClause = &pg_query.WithClause{Ctes: b.ctes, Recursive: b.recur}
		}
		return s
	}
	var variants []*pg_query.SelectStmt
	switch c.lvl {
	case constLevel:
		variants = append(variants, base())
	case joinLevel:
		for _, side := range []*pg_query.Node{c.join.Larg, c.join.Rarg} {
			s := base()
			s.DistinctClause = []*pg_query.Node{{}}
			s.FromClause = []*pg_query.Node{side}
			variants = append(variants, s)
		}
	default:
		s := base()
		s.DistinctClause = []*pg_query.Node{{}}
		s.FromClause = b.from
		s.WhereClause = x.plainConjuncts(b.where)
		if c.lvl == groupLevel && b.sel != nil {
			s.GroupClause = b.sel.GroupClause
			s.HavingClause = x.plainConjuncts(b.sel.HavingClause)
			s.GroupDistinct = b.sel.GroupDistinct
		}
		variants = append(variants, s)
		if s.WhereClause != nil && c.lvl == rowLevel {
			loose := base()
			loose.DistinctClause = s.DistinctClause
			loose.FromClause = b.from
			variants = append(variants, loose)
		}
	}
	out := make([]prepQuery, len(variants))
	for i, v := range variants {
		out[i] = prepQuery{sel: v}
	}
	return out, nil
}

// prepQuery is one statement that gives a call's arguments, deparsed when it is tried.
type prepQuery struct{ sel *pg_query.SelectStmt }

func (q prepQuery) sql() (string, error) {
	return deparseStmt(&pg_query.Node{Node: &pg_query.Node_SelectStmt{SelectStmt: q.sel}})
}

// plainConjuncts is the AND of the conjuncts of cond that call no wasm function (nil if none):
// the rows they reject can never reach a call.
func (x *wasmExec) plainConjuncts(cond *pg_query.Node) *pg_query.Node {
	if cond == nil {
		return nil
	}
	var parts []*pg_query.Node
	var split func(n *pg_query.Node)
	split = func(n *pg_query.Node) {
		if be := n.GetBoolExpr(); be != nil && be.Boolop == pg_query.BoolExprType_AND_EXPR {
			for _, a := range be.Args {
				split(a)
			}
			return
		}
		if !x.touchesWasm(n) {
			parts = append(parts, n)
		}
	}
	split(cond)
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return pg_query.MakeBoolExprNode(pg_query.BoolExprType_AND_EXPR, parts, 0)
}

// touchesWasm reports whether n calls a wasm function or reads a memo.
func (x *wasmExec) touchesWasm(n *pg_query.Node) bool {
	found := false
	visit(n, func(m *pg_query.Node) bool {
		switch v := m.Node.(type) {
		case *pg_query.Node_FuncCall:
			if len(v.FuncCall.Funcname) == 1 && x.s.b.isWasmName(v.FuncCall.Funcname[0].GetString_().GetSval()) {
				found = true
			}
			if len(v.FuncCall.Funcname) == 2 && v.FuncCall.Funcname[0].GetString_().GetSval() == "wasql" {
				found = true
			}
		case *pg_query.Node_RangeVar:
			if strings.HasPrefix(v.RangeVar.Relname, "wasql_m") {
				found = true
			}
		case *pg_query.Node_ColumnRef:
			if f := v.ColumnRef.Fields; len(f) > 1 && strings.HasPrefix(f[0].GetString_().GetSval(), "wasql_w") {
				found = true
			}
		}
		return !found
	})
	return found
}

// inlineRows is the most results a memo holds in the statement itself (a VALUES list) rather
// than in a temporary table: a selective query pays no table for its few calls.
var inlineRows = 512

// fill evaluates the function over the distinct arguments of the call into m: a VALUES list
// when they are few, else a temporary table filled by binary COPY as the arguments stream in.
func (x *wasmExec) fill(c *wasmCall, m *memo) error {
	ov := m.ov
	queries, err := x.prepQueries(c, m)
	if err != nil {
		return err
	}
	if x.dry {
		if m.query, err = queries[0].sql(); err != nil {
			return err
		}
		return x.createTable(m)
	}
	portal := strings.Replace(m.table, "pg_temp.wasql_m", "wasql_p", 1)
	var raw [][][]byte // the fetched rows' values, kept for the keys
	var vals [][]byte
	done := false // the portal ran to its end: no PortalSuspended
	onRow := func(msg []byte) error {
		switch msg[0] {
		case 's':
			done = false
		case 'D':
			v, err := dataRow(msg[5:], vals)
			if err != nil {
				return err
			}
			row := make([][]byte, len(v))
			for i, b := range v {
				if b != nil { // an empty value is not NULL
					row[i] = append(make([]byte, 0, len(b)), b...)
				}
			}
			raw = append(raw, row)
		}
		return nil
	}
	start := time.Now()
	for i, pq := range queries {
		q, qerr := pq.sql()
		if qerr != nil {
			return qerr
		}
		if debugPlan {
			log.Printf("wasql prepare: %s", q)
		}
		var msgs []pgproto3.FrontendMessage
		if len(queries) > 1 {
			msgs = append(msgs, &pgproto3.Parse{Query: "SAVEPOINT wasql_prep"}, &pgproto3.Bind{}, &pgproto3.Execute{})
		}
		msgs = append(msgs, &pgproto3.Parse{Query: q, ParameterOIDs: x.poids},
			&pgproto3.Bind{DestinationPortal: portal, Parameters: x.params, ParameterFormatCodes: x.pfmts, ResultFormatCodes: []int16{1}},
			&pgproto3.Execute{Portal: portal, MaxRows: fetchRows}, &pgproto3.Sync{})
		raw, done = raw[:0], true
		err = x.s.exchange(x.ctx, onRow, msgs...)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || (pe.Code != "42703" && pe.Code != "42P01" && pe.Code != "42803") {
			m.query = q
			break
		}
		if i == len(queries)-1 {
			return refuse("the arguments of the wasm function %s read columns wasql cannot prepare them from (%s): a call over an outer query's columns, or over both sides of a JOIN's ON, is not supported through the proxy", ov.Def.Key(), pe.Message)
		}
		// The failed statement aborted the transaction: back to before it.
		if err := x.s.simple(x.ctx, "ROLLBACK TO SAVEPOINT wasql_prep"); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	m.stat.prep = time.Since(start)
	sess := x.st.Session(ov.Fn)
	args := make([]udf.Column, len(ov.Args))
	table := false
	for {
		n := len(raw)
		t0 := time.Now()
		decodeErrs := map[int]error{}
		for i, t := range ov.Args {
			args[i].Reset(t, n)
			for r := 0; r < n; r++ {
				if err := decodeBinary(&args[i], r, raw[r][i]); err != nil {
					decodeErrs[r] = err
				}
			}
		}
		res, rowErrs, err := x.evalChunk(ov, sess, n, args)
		if err != nil {
			return err
		}
		if rowErrs == nil {
			rowErrs = map[int]error{}
		}
		for r, e := range decodeErrs {
			rowErrs[r] = e
		}
		m.stat.eval += time.Since(t0)
		m.stat.rows += n
		m.stat.batches += (n + sqlfuncs.DefaultBatchRows - 1) / sqlfuncs.DefaultBatchRows
		m.stat.errors += len(rowErrs)
		if c.folds && ov.Def.Volatility == "IMMUTABLE" {
			// PostgreSQL folds an IMMUTABLE call of constants when it plans the statement: its
			// error is the statement's, reached or not.
			for _, e := range rowErrs {
				return e
			}
		}
		t0 = time.Now()
		if !table {
			if done && n <= inlineRows {
				if values, big := inlineValues(m, raw, args, res, rowErrs); !big {
					m.values = values
					m.stat.fill += time.Since(t0)
					break
				}
			}
			table = true
			if err := x.createTable(m); err != nil {
				return err
			}
		}
		if err := x.copyIn(m.table, copyData(m, raw, args, res, rowErrs)); err != nil {
			return err
		}
		m.stat.fill += time.Since(t0)
		if done {
			break
		}
		t0 = time.Now()
		raw, done = raw[:0], true
		if err := x.s.exchange(x.ctx, onRow, &pgproto3.Execute{Portal: portal, MaxRows: fetchRows}, &pgproto3.Sync{}); err != nil {
			return err
		}
		m.stat.prep += time.Since(t0)
	}
	t0 := time.Now()
	x.s.prefix = append(x.s.prefix, &pgproto3.Close{ObjectType: 'P', Name: portal}) // with the next exchange
	if table {
		err = x.s.exchange(x.ctx, nil, append(statementMsgs("ANALYZE "+m.table), &pgproto3.Sync{})...)
	}
	m.stat.fill += time.Since(t0)
	if debugPlan {
		log.Printf("wasql memo %s: %d rows, %d errors, inline %v", m.table, m.stat.rows, m.stat.errors, m.values != "")
	}
	return err
}

// createTable creates m's temporary table, dropped at the end of the transaction.
func (x *wasmExec) createTable(m *memo) error {
	cols := make([]string, 0, len(m.keys)+5)
	for i, t := range m.ov.Args {
		decl, _ := keyType(t, "")
		cols = append(cols, fmt.Sprintf("wasql_k%d %s", i+1, decl))
	}
	cols = append(cols, "wasql_r "+pgType[m.ov.Result].name, "wasql_c text", "wasql_e text", "wasql_d text", "wasql_ok boolean NOT NULL")
	create := fmt.Sprintf("CREATE TEMP TABLE %s (%s) ON COMMIT DROP", strings.TrimPrefix(m.table, "pg_temp."), strings.Join(cols, ", "))
	if err := x.s.simple(x.ctx, create); err != nil {
		return err
	}
	x.tables = append(x.tables, m.table)
	return nil
}

// memoColumns names a memo's columns.
func memoColumns(m *memo) string {
	cols := make([]string, 0, len(m.ov.Args)+5)
	for i := range m.ov.Args {
		cols = append(cols, fmt.Sprintf("wasql_k%d", i+1))
	}
	return strings.Join(append(cols, "wasql_r", "wasql_c", "wasql_e", "wasql_d", "wasql_ok"), ", ")
}

// item is m as a FROM item named alias.
func (m *memo) item(alias string) string {
	if m.values == "" {
		return m.table + " " + alias
	}
	return "(" + m.values + ") " + alias + "(" + memoColumns(m) + ")"
}

// inlineValues writes the rows of a memo as a VALUES list (a SELECT of none when there are
// none); tooBig reports a value wasql does not write as a literal (then a table is used).
func inlineValues(m *memo, raw [][][]byte, args []udf.Column, res udf.Column, rowErrs map[int]error) (values string, tooBig bool) {
	ov := m.ov
	var rows []string
	for r := range raw {
		if ov.Def.Strict && anyNullRow(raw[r]) {
			continue
		}
		vs := make([]string, 0, len(args)+5)
		for i := range args {
			kt := ov.Args[i]
			switch kt {
			case udf.JSON:
				kt = udf.Text
			case udf.Real, udf.Double: // keys are their bits
				vs = append(vs, `E'\\x`+hex.EncodeToString(raw[r][i])+"'::bytea")
				continue
			}
			l, ok := literal(&args[i], r, kt)
			if !ok {
				return "", true
			}
			vs = append(vs, l)
		}
		if e := rowErrs[r]; e != nil {
			code, msg, detail := errorFields(ov, args, r, e)
			vs = append(vs, "NULL::"+pgType[ov.Result].name, textLit(code), textLit(msg), textLit(detail))
		} else {
			l, ok := literal(&res, r, ov.Result)
			if !ok {
				return "", true
			}
			vs = append(vs, l, "NULL::text", "NULL::text", "NULL::text")
		}
		rows = append(rows, "("+strings.Join(append(vs, "true"), ", ")+")")
	}
	if len(rows) == 0 {
		cols := strings.Split(memoColumns(m), ", ")
		types := make([]string, 0, len(cols))
		for _, t := range ov.Args {
			decl, _ := keyType(t, "")
			types = append(types, strings.TrimSuffix(decl, ` COLLATE "C"`))
		}
		types = append(types, pgType[ov.Result].name, "text", "text", "text", "boolean")
		sel := make([]string, len(cols))
		for i := range cols {
			sel[i] = "NULL::" + types[i]
		}
		return "SELECT " + strings.Join(sel, ", ") + " WHERE false", false
	}
	return "VALUES " + strings.Join(rows, ", "), false
}

// copyData writes the rows of a memo as a binary COPY stream.
func copyData(m *memo, raw [][][]byte, args []udf.Column, res udf.Column, rowErrs map[int]error) []byte {
	ov := m.ov
	data := copyHeader()
	for r := range raw {
		if ov.Def.Strict && anyNullRow(raw[r]) {
			continue // the lookup answers NULL itself
		}
		data = be.AppendUint16(data, uint16(len(ov.Args)+5))
		for _, v := range raw[r] {
			data = appendBytes(data, v)
		}
		if e := rowErrs[r]; e != nil {
			code, msg, detail := errorFields(ov, args, r, e)
			data = appendBytes(data, nil)
			data = appendBytes(data, []byte(code))
			data = appendBytes(data, []byte(msg))
			data = appendBytes(data, []byte(detail))
		} else {
			data = appendBinary(data, &res, r)
			data = appendBytes(data, nil)
			data = appendBytes(data, nil)
			data = appendBytes(data, nil)
		}
		data = append(be.AppendUint32(data, 1), 1)
	}
	return be.AppendUint16(data, 0xFFFF)
}

func anyNullRow(row [][]byte) bool {
	for _, v := range row {
		if v == nil {
			return true
		}
	}
	return false
}

func copyHeader() []byte {
	return append([]byte("PGCOPY\n\xff\r\n\x00"), 0, 0, 0, 0, 0, 0, 0, 0)
}

// copyIn sends data, a whole binary COPY stream, into table.
func (x *wasmExec) copyIn(table string, data []byte) error {
	msgs := []pgproto3.FrontendMessage{&pgproto3.Query{String: "COPY " + table + " FROM STDIN (FORMAT binary)"}}
	for len(data) > 0 {
		n := min(len(data), 1<<20)
		msgs = append(msgs, &pgproto3.CopyData{Data: data[:n]})
		data = data[n:]
	}
	msgs = append(msgs, &pgproto3.CopyDone{})
	return x.s.exchange(x.ctx, nil, msgs...)
}

// errorFields are the SQLSTATE, message and detail a row's error is raised with.
func errorFields(ov *sqlfuncs.Overload, args []udf.Column, r int, err error) (code, msg, detail string) {
	code = sqlstate.Of(err)
	var ue *udf.Error
	if !errors.As(err, &ue) {
		return code, fmt.Sprintf("%s: %v", ov.Def.Name, err), ""
	}
	in := make([]string, len(args))
	for i := range args {
		in[i] = args[i].Format(r)
	}
	return code, fmt.Sprintf("%s: input (%s): %s", ue.Function, strings.Join(in, ", "), ue.Message), ue.Detail
}

// evalChunk evaluates a chunk of arguments: for a PARALLEL SAFE function, in batches shared
// by several workers (evalpool.go); a batch that fails is evaluated again by evalRows, which
// pins the errors on their rows.
func (x *wasmExec) evalChunk(ov *sqlfuncs.Overload, sess *udf.Session, n int, args []udf.Column) (udf.Column, map[int]error, error) {
	const batch = 2048
	workers := runtime.GOMAXPROCS(0)
	if ov.Def.Parallel != "SAFE" || workers < 2 || n <= batch {
		return evalRows(x.ctx, sess, ov.Result, n, args)
	}
	ev := newEvaluator(x.ctx, x.st, ov.Fn, true, workers)
	defer ev.Close()
	out := udf.NewColumn(ov.Result, n)
	errs := map[int]error{}
	take := func() error {
		res, part, tag, err := ev.Next()
		span := tag.([2]int)
		if err != nil {
			var es map[int]error
			if res, es, err = evalRows(x.ctx, sess, ov.Result, span[1]-span[0], part); err != nil {
				return err
			}
			for k, e := range es {
				errs[span[0]+k] = e
			}
		}
		copyRows(&out, span[0], res)
		return nil
	}
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		part := make([]udf.Column, len(args))
		for i := range args {
			part[i] = sliceColumn(args[i], from, to)
		}
		ev.Put(to-from, part, [2]int{from, to})
		for ev.Full() {
			if err := take(); err != nil {
				return udf.Column{}, nil, err
			}
		}
	}
	for ev.Pending() > 0 {
		if err := take(); err != nil {
			return udf.Column{}, nil, err
		}
	}
	return out, errs, nil
}

// evalRows evaluates rows rows; an error that belongs to a row (the guest's row error, a trap,
// a result out of range) is that row's, and the other rows are evaluated without it. Errors of
// the statement (time, memory, fuel, cancellation) end the evaluation.
func evalRows(ctx context.Context, sess *udf.Session, result udf.Type, rows int, args []udf.Column) (udf.Column, map[int]error, error) {
	res, err := sess.Eval(ctx, rows, args...)
	if err == nil {
		return res, nil, nil
	}
	var ue *udf.Error
	if !errors.As(err, &ue) {
		return udf.Column{}, nil, err
	}
	switch ue.Kind {
	case udf.KindRowError, udf.KindEncoding, udf.KindOutOfRange, udf.KindTrap, udf.KindABI, udf.KindResultLimit:
	default:
		return udf.Column{}, nil, err
	}
	bad := ue.Row
	if bad < 0 || bad >= rows {
		if rows == 1 {
			return udf.NewColumn(result, 1), map[int]error{0: err}, nil
		}
		bad = -1
	}
	out := udf.NewColumn(result, rows)
	errs := map[int]error{}
	part := func(from, to int) error {
		if from >= to {
			return nil
		}
		sub := make([]udf.Column, len(args))
		for i := range args {
			sub[i] = sliceColumn(args[i], from, to)
		}
		r, es, err := evalRows(ctx, sess, result, to-from, sub)
		if err != nil {
			return err
		}
		copyRows(&out, from, r)
		for k, e := range es {
			errs[from+k] = e
		}
		return nil
	}
	if bad >= 0 {
		errs[bad] = err
		if err := part(0, bad); err != nil {
			return udf.Column{}, nil, err
		}
		if err := part(bad+1, rows); err != nil {
			return udf.Column{}, nil, err
		}
		return out, errs, nil
	}
	half := rows / 2
	if err := part(0, half); err != nil {
		return udf.Column{}, nil, err
	}
	if err := part(half, rows); err != nil {
		return udf.Column{}, nil, err
	}
	return out, errs, nil
}

// copyRows copies the rows of r into out from row at.
func copyRows(out *udf.Column, at int, r udf.Column) {
	n := r.Len()
	if r.Nulls != nil {
		if out.Nulls == nil {
			out.Nulls = make([]bool, out.Len())
		}
		copy(out.Nulls[at:at+n], r.Nulls)
	}
	switch {
	case out.Ints != nil:
		copy(out.Ints[at:], r.Ints)
	case out.Floats != nil:
		copy(out.Floats[at:], r.Floats)
	default:
		copy(out.Bytes[at:], r.Bytes)
	}
}
