package sqlfuncs

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"

	"github.com/wasql/wasql/internal/sqlstate"
)

// explainBuilder is go-mysql-server's priority builder: it builds EXPLAIN ANALYZE (which
// go-mysql-server runs and then prints the plan alone) as explainAnalyze, with base building the
// statement, and leaves everything else to next, the priority builder before it (Dolt's), or to
// base (a nil iterator).
type explainBuilder struct{ base, next sql.NodeExecBuilder }

func (b explainBuilder) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	if d, ok := n.(*plan.DescribeQuery); ok && d.Format.Analyze {
		return explainAnalyze(ctx, b.base, d.Child, row)
	}
	if b.next != nil {
		return b.next.Build(ctx, n, row)
	}
	return nil, nil
}

// explainAnalyze runs child to its last row, then prints go-mysql-server's plan, a line per wasm
// function the statement evaluated (its calls, rows, batches, errors and time within this
// statement), and the statement's rows and time. A statement that writes is refused.
func explainAnalyze(ctx *sql.Context, build sql.NodeExecBuilder, child sql.Node, row sql.Row) (sql.RowIter, error) {
	if !child.IsReadOnly() {
		return nil, &ParseError{Code: sqlstate.FeatureNotSupported, Msg: "EXPLAIN ANALYZE of a statement that writes is not supported"}
	}
	// Hold the statement's udf.Statement: the child's calls share it (statement.go), so its
	// Uses are this statement's.
	st, release := statement(ctx)
	defer release()
	start := time.Now()
	iter, err := build.Build(ctx, child, row)
	if err != nil {
		return nil, err
	}
	n := 0
	for {
		_, err := iter.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			iter.Close(ctx)
			return nil, err
		}
		n++
	}
	if err := iter.Close(ctx); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	var rows []sql.Row
	for _, l := range strings.Split(sql.Describe(child, sql.DescribeOptions{Plan: true}), "\n") {
		if strings.TrimSpace(l) != "" {
			rows = append(rows, sql.Row{l})
		}
	}
	for _, u := range st.Uses() {
		d := u.Function.Definition()
		args := make([]string, len(d.Args))
		for i, t := range d.Args {
			args[i] = t.String()
		}
		rows = append(rows, sql.Row{fmt.Sprintf("wasm %s(%s): calls=%d rows=%d batches=%d errors=%d time=%.3f ms",
			d.Name, strings.Join(args, ", "), u.Evals, u.Rows, u.Batches, u.Errors, ms(u.Time))})
	}
	rows = append(rows, sql.Row{fmt.Sprintf("Execution: %d rows in %.3f ms", n, ms(elapsed))})
	return sql.RowsToRowIter(rows...), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
