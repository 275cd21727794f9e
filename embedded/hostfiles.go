package embedded

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"
)

// SQL never reaches the host's files, on either wire, for any user (root included): the
// functions and statements of go-mysql-server that read or write files are refused when a
// statement is planned, before anything runs.
//
//   - functions (LOAD_FILE): hostFileFunctions answers for them before go-mysql-server's
//     built-ins do, with a function whose construction fails, so the refusal holds wherever the
//     call stands (a select list, a view, a prepared statement, a nested call, a procedure);
//   - statements (SELECT ... INTO OUTFILE / DUMPFILE, LOAD DATA INFILE): the analyzer rule
//     refuseHostFiles, first of the once-before batch, walks the whole plan, subqueries
//     included. LOAD DATA LOCAL INFILE is served: the client sends its own file (the MySQL
//     wire's LOCAL INFILE request), the server's are not read.

// hostFileFunctions are go-mysql-server's functions that touch the host's files, by lower-case
// name. (Its registry has no other: every other built-in computes on its arguments.)
var hostFileFunctions = map[string]bool{"load_file": true}

// insufficientPrivilege is the SQLSTATE of a refused operation (PostgreSQL's 42501).
const insufficientPrivilege = "42501"

// erOptionPreventsStatement is MySQL's ER_OPTION_PREVENTS_STATEMENT, the error MySQL gives for
// file access under --secure-file-priv.
const erOptionPreventsStatement = 1290

// errHostFiles is the refusal of a construct that would read or write the host's files.
func errHostFiles(construct string) error {
	return mysql.NewSQLError(erOptionPreventsStatement, insufficientPrivilege,
		"%s is not allowed: SQL has no access to the server's files (the server runs as MySQL with --secure-file-priv=NULL)", construct)
}

// noHostFiles is a function provider in front of another: the functions of hostFileFunctions
// that the inner provider does not define (a wasm function may take the name) are refused.
type noHostFiles struct{ inner sql.FunctionProvider }

// Function implements the interface sql.FunctionProvider.
func (p noHostFiles) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	if p.inner != nil {
		if f, ok := p.inner.Function(ctx, name); ok {
			return f, true
		}
	}
	if lower := strings.ToLower(name); hostFileFunctions[lower] {
		return sql.FunctionN{Name: lower, Fn: func(...sql.Expression) (sql.Expression, error) {
			return nil, errHostFiles(strings.ToUpper(lower))
		}}, true
	}
	return nil, false
}

// refuseHostFilesID names the analyzer rule.
const refuseHostFilesID analyzer.RuleId = -9001

// installHostFileGuard puts the guards into engine e's analyzer: the function provider in front
// of the current external one, and the plan rule first in the once-before batch (which every
// statement but COMMIT and START TRANSACTION goes through).
func installHostFileGuard(a *analyzer.Analyzer) error {
	if _, done := analyzer.ExternalFunctionProvider.(noHostFiles); !done {
		analyzer.ExternalFunctionProvider = noHostFiles{inner: analyzer.ExternalFunctionProvider}
	}
	rule := analyzer.Rule{Id: refuseHostFilesID, Apply: refuseHostFiles}
	for _, b := range a.Batches {
		if b.Desc == "once-before" {
			b.Rules = append([]analyzer.Rule{rule}, b.Rules...)
			return nil
		}
	}
	// A go-mysql-server whose analyzer changed shape: refuse to start rather than run unguarded.
	return fmt.Errorf("go-mysql-server's analyzer has no once-before batch for the host-file guard")
}

// refuseHostFiles implements the analyzer rule: a plan holding a node or an expression that
// touches the host's files is an error.
func refuseHostFiles(_ *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return n, transform.SameTree, hostFileUse(n, 0)
}

// maxPlanDepth bounds the walk of hostFileUse; a deeper plan is refused (the engine's parser
// nests far less).
const maxPlanDepth = 10000

// hostFileUse returns the refusal for the first construct of n that touches the host's files, or
// nil. It walks children, expressions, and the plans inside subquery expressions.
func hostFileUse(n sql.Node, depth int) error {
	if n == nil {
		return nil
	}
	if depth > maxPlanDepth {
		return fmt.Errorf("statement nests deeper than %d levels", maxPlanDepth)
	}
	switch x := n.(type) {
	case *plan.Into:
		if x.Outfile != "" {
			return errHostFiles("SELECT ... INTO OUTFILE")
		}
		if x.Dumpfile != "" {
			return errHostFiles("SELECT ... INTO DUMPFILE")
		}
	case *plan.LoadData:
		if !x.Local { // LOCAL reads the client's file, which the client sends
			return errHostFiles("LOAD DATA INFILE")
		}
	case *plan.PrepareQuery:
		if err := hostFileUse(x.Child, depth+1); err != nil {
			return err
		}
	case *plan.Call:
		if x.Procedure != nil {
			if err := hostFileUse(x.Procedure, depth+1); err != nil {
				return err
			}
		}
	case plan.DisjointedChildrenNode:
		for _, group := range x.DisjointedChildren() {
			for _, c := range group {
				if err := hostFileUse(c, depth+1); err != nil {
					return err
				}
			}
		}
	}
	if ex, ok := n.(sql.Expressioner); ok {
		for _, e := range ex.Expressions() {
			if err := exprHostFileUse(e, depth+1); err != nil {
				return err
			}
		}
	}
	for _, c := range n.Children() {
		if err := hostFileUse(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func exprHostFileUse(e sql.Expression, depth int) error {
	if e == nil {
		return nil
	}
	if depth > maxPlanDepth {
		return fmt.Errorf("statement nests deeper than %d levels", maxPlanDepth)
	}
	switch x := e.(type) {
	case *function.LoadFile:
		return errHostFiles("LOAD_FILE")
	case sql.ExpressionWithNodes: // subqueries among them
		for _, n := range x.NodeChildren() {
			if err := hostFileUse(n, depth+1); err != nil {
				return err
			}
		}
	}
	for _, c := range e.Children() {
		if err := exprHostFileUse(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}
