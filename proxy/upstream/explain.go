package upstream

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// EXPLAIN of a statement that calls wasm functions shows what wasql does with it: each call
// prepared by PostgreSQL (the statement that gives its distinct arguments, with PostgreSQL's
// plan for it), each call computed on the stream, and the rewritten statement PostgreSQL runs,
// with its plan. EXPLAIN ANALYZE runs all of it, as PostgreSQL's EXPLAIN ANALYZE runs the
// statement, and adds wasql's counts: calls, batches, errors and times; PostgreSQL's plan of
// the rewritten statement then carries its own times (for a streamed select list it is the
// plan alone: the rows were read to evaluate the stream).

func (x *wasmExec) explain(stmt *pg_query.Node, e *pg_query.ExplainStmt, calls []*wasmCall, ws *wasmStmt, rowDesc bool) error {
	analyze := false
	var keep []*pg_query.Node // the options for PostgreSQL's EXPLAIN of the statements
	for _, o := range e.Options {
		d := o.GetDefElem()
		switch d.GetDefname() {
		case "analyze":
			analyze = d.Arg == nil || defBool(d.Arg)
			continue
		case "format":
			if v := strings.ToLower(defString(d.Arg)); v != "text" {
				return refuse("EXPLAIN (FORMAT %s) of a statement calling wasm functions is not supported through the proxy: use FORMAT TEXT", strings.ToUpper(v))
			}
		}
		keep = append(keep, o)
	}
	x.dry = !analyze
	sp, upFormats, err := x.planAll(stmt, calls, nil)
	if err != nil {
		return err
	}
	final, err := deparseStmt(stmt)
	if err != nil {
		return err
	}
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	nstream := 0
	if sp != nil {
		nstream = len(sp.calls)
	}
	add("wasql: %d memo table(s) prepared with PostgreSQL, %d call(s) computed on the stream of rows", len(x.order), nstream)
	for _, m := range x.order {
		how := "looked up by a scalar subquery"
		switch {
		case m.join:
			how = "joined to its query block (LEFT JOIN " + m.table + " " + m.alias + ")"
		case m.fn != "":
			how = "looked up per group by " + m.fn + "()"
		}
		add("wasql: %s over the distinct arguments (%s), %s", m.ov.Def.Key(), strings.Join(m.args, ", "), how)
		if analyze {
			add("  wasm: calls=%d batches=%d errors=%d  prepare=%.3f ms evaluate=%.3f ms fill=%.3f ms",
				m.stat.rows, m.stat.batches, m.stat.errors, ms(m.stat.prep), ms(m.stat.eval), ms(m.stat.fill))
		}
		add("  arguments from: %s", m.query)
		plan, err := x.pgExplain(keep, false, m.query)
		if err != nil {
			return err
		}
		for _, l := range plan {
			add("    %s", l)
		}
	}
	var str *streamer
	if sp != nil {
		names := make([]string, len(sp.calls))
		for i, c := range sp.calls {
			names[i] = c.ov.Def.Key().String()
		}
		add("wasql: on the stream: %s, batches of %d rows", strings.Join(names, ", "), streamBatch)
		if analyze {
			if str, err = x.runFinal(final, sp, upFormats, true); err != nil {
				return err
			}
			add("  wasm: rows=%d batches=%d  evaluate=%.3f ms", str.sent, str.batches, ms(str.evalTime))
		}
	}
	add("PostgreSQL runs: %s", final)
	plan, err := x.pgExplain(keep, analyze && sp == nil, final)
	if err != nil {
		return err
	}
	for _, l := range plan {
		add("  %s", l)
	}
	if rowDesc && ws.rows != nil {
		x.s.out.Send(ws.rows)
	}
	for _, l := range lines {
		x.s.out.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(l)}})
	}
	x.s.out.Send(&pgproto3.CommandComplete{CommandTag: []byte("EXPLAIN")})
	return nil
}

func ms(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }

// pgExplain returns PostgreSQL's EXPLAIN of sql, with the statement's own options.
func (x *wasmExec) pgExplain(opts []*pg_query.Node, analyze bool, sql string) ([]string, error) {
	var o []string
	for _, n := range opts {
		d := n.GetDefElem()
		v := defString(d.Arg)
		if d.Arg == nil {
			v = "true"
		}
		o = append(o, d.Defname+" "+textLit(v))
	}
	if analyze {
		o = append(o, "analyze true")
	}
	q := "EXPLAIN "
	if len(o) > 0 {
		q += "(" + strings.Join(o, ", ") + ") "
	}
	var lines []string
	err := x.s.exchange(x.ctx, func(msg []byte) error {
		if msg[0] == 'D' {
			v, err := dataRow(msg[5:], nil)
			if err != nil {
				return err
			}
			if len(v) == 1 {
				lines = append(lines, string(v[0]))
			}
		}
		return nil
	}, &pgproto3.Parse{Query: q + sql, ParameterOIDs: x.poids},
		&pgproto3.Bind{Parameters: x.params, ParameterFormatCodes: x.pfmts},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	return lines, err
}

func defString(n *pg_query.Node) string {
	switch {
	case n == nil:
		return ""
	case n.GetString_() != nil:
		return n.GetString_().Sval
	case n.GetBoolean() != nil:
		return fmt.Sprint(n.GetBoolean().Boolval)
	case n.GetInteger() != nil:
		return fmt.Sprint(n.GetInteger().Ival)
	case n.GetAConst() != nil:
		ac := n.GetAConst()
		switch {
		case ac.GetSval() != nil:
			return ac.GetSval().Sval
		case ac.GetBoolval() != nil:
			return fmt.Sprint(ac.GetBoolval().Boolval)
		case ac.GetIval() != nil:
			return fmt.Sprint(ac.GetIval().Ival)
		}
	}
	return ""
}

func defBool(n *pg_query.Node) bool {
	switch strings.ToLower(defString(n)) {
	case "false", "off", "0", "no":
		return false
	}
	return true
}

// deparseStmt returns the SQL text of one statement.
func deparseStmt(n *pg_query.Node) (string, error) {
	return pg_query.Deparse(&pg_query.ParseResult{Stmts: []*pg_query.RawStmt{{Stmt: n}}})
}
