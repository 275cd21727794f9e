package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"

	sqle "github.com/dolthub/go-mysql-server"
)

// Install adds wasm functions to a go-mysql-server engine: the CREATE/DROP FUNCTION statements
// (through the engine's parser), the functions themselves (as the analyzer's external function
// provider, which go-mysql-server keeps in a package variable: one Registry per process), and the
// batch rule. Call it once, before the engine serves queries.
func Install(e *sqle.Engine, reg *Registry) {
	inner := e.Parser
	if inner == nil {
		inner = sql.GlobalParser
	}
	e.Parser = NewParser(inner, reg)
	analyzer.ExternalFunctionProvider = reg
	reg.SetPrivileges(e.Analyzer.Catalog.MySQLDb)
	for _, b := range e.Analyzer.Batches {
		if b.Desc == "post-validation" { // after validation, which must see the query as written
			b.Rules = append(b.Rules, analyzer.Rule{Id: RuleID, Apply: reg.liftCalls})
		}
	}
}

// Explain returns the analyzed plan of query, as EXPLAIN shows it, for tests and debugging.
func Explain(ctx *sql.Context, e *sqle.Engine, query string) (string, error) {
	n, err := e.AnalyzeQuery(ctx, query)
	if err != nil {
		return "", err
	}
	return sql.DebugString(n), nil
}
