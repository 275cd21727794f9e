package sqlfuncs

import (
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// RuleID identifies the batch rule among the analyzer's rules.
const RuleID analyzer.RuleId = 9_000_001

// columnSeq makes the names of lifted columns unique: go-mysql-server resolves a column with no
// id by name.
var columnSeq atomic.Int64

// liftCalls is the analyzer rule that moves wasm calls out of Project, Filter, Sort, GroupBy and
// Having expressions into a BatchEval under the node, as Spark's ExtractPythonUDFs does: one
// BatchEval per input, evaluating every call it can, chained calls in order. Calls under
// CASE, AND, OR, XOR, COALESCE, IF, IFNULL and NULLIF stay where they are and run row by row, so
// a branch that is not taken raises no error. IMMUTABLE calls with constant arguments are folded
// once. Plans inside subqueries are left alone (their rows carry the outer scope).
func (r *Registry) liftCalls(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, scope *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if !scope.IsEmpty() || r.noBatch.Load() {
		return n, transform.SameTree, nil
	}
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		switch n := n.(type) {
		case *plan.Project:
			return liftInto(ctx, n, n.Child, false)
		case *plan.GroupBy:
			return liftInto(ctx, n, n.Child, false)
		case *plan.Filter:
			return liftInto(ctx, n, n.Child, true)
		case *plan.Sort:
			return liftInto(ctx, n, n.Child, true)
		case *plan.Having:
			return liftInto(ctx, n, n.Child, true)
		}
		return n, transform.SameTree, nil
	})
}

// liftInto lifts the calls of node's expressions into a BatchEval over child. trim hides the
// added columns from the nodes above (for nodes that pass their child's rows through).
func liftInto(ctx *sql.Context, node sql.Node, child sql.Node, trim bool) (sql.Node, transform.TreeIdentity, error) {
	if _, done := child.(*BatchEval); done {
		return node, transform.SameTree, nil
	}
	l := &lifter{ctx: ctx, width: len(child.Schema()), seen: map[string]int{}, aliases: !trim}
	exprs := node.(sql.Expressioner).Expressions()
	out := make([]sql.Expression, len(exprs))
	for i, e := range exprs {
		out[i] = l.lift(e)
		if _, isProject := node.(*plan.Project); isProject && !isAlias(e) && out[i] != e {
			// A column is named after its expression: keep the name the user wrote.
			out[i] = expression.NewAlias(e.String(), out[i])
		}
	}
	if len(l.calls) == 0 && !l.folded {
		return node, transform.SameTree, nil
	}
	n, err := node.(sql.Expressioner).WithExpressions(out...)
	if err != nil {
		return nil, transform.SameTree, err
	}
	if len(l.calls) == 0 {
		return n, transform.NewTree, nil
	}
	n, err = n.WithChildren(&BatchEval{UnaryNode: plan.UnaryNode{Child: child}, Calls: l.calls, Rows: DefaultBatchRows})
	if err != nil {
		return nil, transform.SameTree, err
	}
	if trim {
		n = &Trim{UnaryNode: plan.UnaryNode{Child: n}, Width: l.width}
	}
	return n, transform.NewTree, nil
}

func isAlias(e sql.Expression) bool {
	_, ok := e.(*expression.Alias)
	return ok
}

type lifter struct {
	ctx    *sql.Context
	width  int // columns of the child
	calls  []LiftedCall
	seen   map[string]int // call text -> index in calls: a repeated stable call is evaluated once
	folded bool
	// aliases: descend into aliases. A Project or GroupBy computes its aliased expressions; in a
	// Filter, Sort or Having an alias names a column the child already computed.
	aliases bool
}

func (l *lifter) lift(e sql.Expression) sql.Expression {
	if a, ok := e.(*expression.Alias); ok {
		if !l.aliases {
			return e
		}
		// Alias.WithChildren drops the alias's column id, which the nodes above refer to.
		na := *a
		na.Child = l.lift(a.Child)
		return &na
	}
	switch e.(type) {
	case *expression.Case, *expression.And, *expression.Or, *expression.Xor,
		*function.Coalesce, *function.If, *function.IfNull, *function.NullIf, *plan.Subquery:
		return e
	}
	children := e.Children()
	if len(children) > 0 {
		lifted := make([]sql.Expression, len(children))
		changed := false
		for i, c := range children {
			lifted[i] = l.lift(c)
			changed = changed || !same(lifted[i], c)
		}
		if changed {
			ne, err := e.WithChildren(lifted...)
			if err != nil {
				return e
			}
			e = ne
		}
	}
	call, ok := e.(*Call)
	if !ok {
		return e
	}
	if lit, ok := l.fold(call); ok {
		return lit
	}
	key := call.String()
	k, ok := l.seen[key]
	if !ok || call.IsNonDeterministic() { // a VOLATILE call is evaluated once per occurrence
		k = len(l.calls)
		l.seen[key] = k
		l.calls = append(l.calls, LiftedCall{Name: fmt.Sprintf("__wasm_%d", columnSeq.Add(1)), Ov: call.ov, Args: call.args})
	}
	c := l.calls[k]
	gf := expression.NewGetField(l.width+k, sqlType(c.Ov.Result), c.Name, true)
	return gf.WithId(0).(*expression.GetField)
}

// same reports whether a and b are the same expression. Some expressions cannot be compared
// with == (expression.Tuple is a slice): those count as changed, which only costs a rebuild.
func same(a, b sql.Expression) bool {
	return reflect.TypeOf(a).Comparable() && reflect.TypeOf(b).Comparable() && a == b
}

// fold evaluates an IMMUTABLE call with constant arguments once, at planning. A call that fails
// is left to fail at run time, where SQL's evaluation order applies.
func (l *lifter) fold(c *Call) (sql.Expression, bool) {
	if c.ov.Def.Volatility != "IMMUTABLE" {
		return nil, false
	}
	for _, a := range c.args {
		if _, ok := a.(*expression.Literal); !ok {
			return nil, false
		}
	}
	v, err := c.Eval(l.ctx, nil)
	if err != nil {
		return nil, false
	}
	l.folded = true
	return expression.NewLiteral(v, c.Type()), true
}
