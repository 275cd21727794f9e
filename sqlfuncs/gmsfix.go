package sqlfuncs

// Fixes of go-mysql-server's analyzer, applied by Extend.

import (
	"reflect"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

func fixAnalyzer(a *analyzer.Analyzer) {
	fixGroupByValidation(a)
	fixTopN(a)
	dropReplaceAgg(a)
}

// dropReplaceAgg removes go-mysql-server's replaceAgg rule, which answers max or min of the
// first primary-key column with ORDER BY ... LIMIT 1: over an empty table (or no row passing a
// WHERE) that is no row, where the aggregate is one row holding NULL. `SELECT max(id) FROM t`
// then reads the whole key.
func dropReplaceAgg(a *analyzer.Analyzer) {
	for _, b := range a.Batches {
		b.Rules = slices.DeleteFunc(b.Rules, func(r analyzer.Rule) bool { return r.Id.String() == "replaceAgg" })
	}
}

// fixGroupByValidation wraps go-mysql-server's validateGroupBy rule, which refuses an ORDER BY
// of a select-list alias of a GROUP BY expression when the query also has a HAVING
// ("SELECT id % 2 AS g, sum(a) FROM t GROUP BY id % 2 HAVING sum(a) > 1 ORDER BY g", which
// MySQL and PostgreSQL answer): with a HAVING, the aliases are defined in the Project under it,
// which the rule skips. The rule is given a copy of the plan in which such an ORDER BY names
// the alias's expression instead; the plan that runs is not changed.
func fixGroupByValidation(a *analyzer.Analyzer) {
	for _, b := range a.Batches {
		for i, r := range b.Rules {
			if r.Id.String() != "validateGroupBy" {
				continue
			}
			validate := r.Apply
			b.Rules[i].Apply = func(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qf *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
				view, _, err := transform.Node(n, sortByHavingAliases)
				if err != nil {
					return nil, transform.SameTree, err
				}
				if _, _, err := validate(ctx, a, view, scope, sel, qf); err != nil {
					return nil, transform.SameTree, err
				}
				return n, transform.SameTree, nil
			}
		}
	}
}

// sortByHavingAliases rewrites a Sort over a Having over a Project so that its references to
// the Project's aliases are the aliased expressions.
func sortByHavingAliases(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	s, ok := n.(*plan.Sort)
	if !ok {
		return n, transform.SameTree, nil
	}
	var aliases map[string]sql.Expression
	for c := s.Child; c != nil && aliases == nil; {
		switch x := c.(type) {
		case *plan.Having:
			if p, ok := x.Child.(*plan.Project); ok {
				aliases = map[string]sql.Expression{}
				for _, e := range p.Projections {
					if al, ok := e.(*expression.Alias); ok {
						aliases[strings.ToLower(al.Name())] = al.Child
					}
				}
			}
			c = nil
		case *plan.GroupBy, *plan.Project:
			c = nil
		default:
			if len(c.Children()) != 1 {
				c = nil
			} else {
				c = c.Children()[0]
			}
		}
	}
	if len(aliases) == 0 {
		return n, transform.SameTree, nil
	}
	exprs, same, err := transform.Exprs(s.Expressions(), func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		if gf, ok := e.(*expression.GetField); ok {
			if x, ok := aliases[strings.ToLower(gf.Name())]; ok {
				return x, transform.NewTree, nil
			}
		}
		return e, transform.SameTree, nil
	})
	if err != nil || same {
		return n, transform.SameTree, err
	}
	ns, err := s.WithExpressions(exprs...)
	return ns, transform.NewTree, err
}

// maxTopN is the largest LIMIT (plus OFFSET) an ORDER BY ... LIMIT keeps as go-mysql-server's
// TopN node.
const maxTopN = 1 << 16

// ruleBoundTopN identifies fixTopN's rule among the analyzer's rules.
const ruleBoundTopN analyzer.RuleId = 9_000_002

// fixTopN follows go-mysql-server's insertTopNNodes rule with one that turns a TopN back into a
// Limit over a Sort unless its limit is made of constants of at most maxTopN rows: TopN allocates
// room for limit+1 rows before it reads one, so `ORDER BY a LIMIT 1000000000` asked for 24 GB,
// and its limit+offset overflowed for `ORDER BY a OFFSET 2` (LIMIT 2^64-1 OFFSET 2). A Sort
// holds only the rows it reads.
func fixTopN(a *analyzer.Analyzer) {
	for _, b := range a.Batches {
		for i, r := range b.Rules {
			if r.Id.String() == "insertTopNNodes" {
				b.Rules = append(b.Rules[:i+1:i+1], append([]analyzer.Rule{{Id: ruleBoundTopN, Apply: boundTopN}}, b.Rules[i+1:]...)...)
				break
			}
		}
	}
}

// boundTopN undoes insertTopNNodes where the limit is not small: Offset(o, TopN(l+o, ...))
// becomes Limit(l, Offset(o, Sort(...))), and TopN(l, ...) becomes Limit(l, Sort(...)).
func boundTopN(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		switch x := n.(type) {
		case *plan.Offset:
			t, ok := x.Child.(*plan.TopN)
			if !ok || smallLimit(ctx, t.Limit) {
				break
			}
			if sum, ok := t.Limit.(*expression.Arithmetic); ok && sum.Operator() == "+" { // insertTopNNodes's limit + offset
				return plan.NewLimit(sum.Left(), plan.NewOffset(x.Offset, plan.NewSort(t.Fields, t.Child))).WithCalcFoundRows(t.CalcFoundRows), transform.NewTree, nil
			}
		case *plan.TopN:
			if _, sum := x.Limit.(*expression.Arithmetic); sum || smallLimit(ctx, x.Limit) {
				break // the sum of an Offset's: above
			}
			return plan.NewLimit(x.Limit, plan.NewSort(x.Fields, x.Child)).WithCalcFoundRows(x.CalcFoundRows), transform.NewTree, nil
		}
		return n, transform.SameTree, nil
	})
}

// smallLimit reports whether limit is a constant, or a sum of constants, each of at most
// maxTopN (a sum is never evaluated: it could overflow).
func smallLimit(ctx *sql.Context, limit sql.Expression) bool {
	switch x := limit.(type) {
	case *expression.Arithmetic:
		return x.Operator() == "+" && smallLimit(ctx, x.Left()) && smallLimit(ctx, x.Right())
	case *expression.Literal:
		v, err := x.Eval(ctx, nil)
		if err != nil {
			return false
		}
		switch rv := reflect.ValueOf(v); rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return rv.Int() >= 0 && rv.Int() <= maxTopN
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return rv.Uint() <= maxTopN
		}
	}
	return false
}
