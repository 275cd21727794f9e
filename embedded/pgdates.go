package embedded

import (
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/embedded/pgsql"
)

// pgDateArithmeticRule is the id of the rule that refuses date arithmetic the engine would
// compute as MySQL does.
const pgDateArithmeticRule analyzer.RuleId = 10_001

// installPGDateRule adds, after analysis, the refusal of arithmetic on a date or timestamp
// value with anything but an interval, on the Postgres wire: MySQL reads the date as the number
// YYYYMMDD (d + 1 is 20240101000001, d1 - d2 a difference of such numbers), where Postgres adds
// days or subtracts dates. The translation writes date literals ± days and interval arithmetic
// as the engine's interval arithmetic, which is not refused.
func installPGDateRule(a *analyzer.Analyzer) {
	a.Batches = append(a.Batches, &analyzer.Batch{Desc: "wasql-pg-dates", Iterations: 1,
		Rules: []analyzer.Rule{{Id: pgDateArithmeticRule, Apply: refuseDateArithmetic}}})
}

func refuseDateArithmetic(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if !onPGWire(ctx) {
		return n, transform.SameTree, nil
	}
	var refused error
	transform.InspectExpressions(n, func(e sql.Expression) bool {
		a, ok := e.(*expression.Arithmetic)
		if !ok || refused != nil {
			return refused == nil
		}
		l, r := a.Left(), a.Right()
		_, li := l.(*expression.Interval)
		_, ri := r.(*expression.Interval)
		if !li && !ri && (types.IsTime(l.Type()) || types.IsTime(r.Type())) {
			refused = &pgsql.Error{Code: "0A000", Msg: fmt.Sprintf(
				"arithmetic on dates and timestamps (%s) is not supported: add an interval instead (d + interval '1 day')", a)}
		}
		return true
	})
	if refused != nil {
		return nil, transform.SameTree, refused
	}
	return n, transform.SameTree, nil
}
