package upstream

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// EXPLAIN of a statement that calls wasm functions: the statements wasql sends PostgreSQL, each
// with PostgreSQL's plan, and wasql's part.

func (x *wasmExec) explain(tree *pg_query.ParseResult, e *pg_query.ExplainStmt, calls []*wasmCall, ws *wasmStmt) error {
	return refuse("EXPLAIN of a statement calling wasm functions is not supported yet")
}
