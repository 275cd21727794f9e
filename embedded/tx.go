package embedded

import (
	"fmt"
	"strings"
	"sync"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/wasql/wasql/embedded/pgsql"
	"github.com/wasql/wasql/internal/sqlstate"
)

// With the memory tables (Config.Tables memory), table data has no real transactions: go-mysql-server's memory tables keep a transaction's
// writes in a private copy of each table and put the copy back at COMMIT, over whatever other
// sessions committed meanwhile, and DDL commits at once. So a write inside an explicit
// transaction (BEGIN/START TRANSACTION, or autocommit off on the MySQL wire) is refused before
// it runs, on both wires: a ROLLBACK that keeps the writes, or a COMMIT that loses another
// session's, would be a silent wrong answer. Reads, and BEGIN ... COMMIT/ROLLBACK around them,
// work as before.

// ruleNoWritesInTransaction identifies the rule among the analyzer's rules.
const ruleNoWritesInTransaction analyzer.RuleId = 9_000_101

var noWritesRule = analyzer.Rule{Id: ruleNoWritesInTransaction, Apply: refuseWriteInTransaction}

// installNoWritesInTransaction adds the rule to every plan's last batch: the engine's own and
// the one go-mysql-server builds for a simple INSERT or UPDATE (the package's OnceAfterAll).
func installNoWritesInTransaction(e *sqle.Engine) {
	refusing.Store(e.Analyzer, true)
	onceGlobal.Do(func() { analyzer.OnceAfterAll = withRule(analyzer.OnceAfterAll) })
	for _, b := range e.Analyzer.Batches {
		if b.Desc == "after-all" {
			b.Rules = withRule(b.Rules)
		}
	}
}

var onceGlobal sync.Once

// refusing holds the analyzers of the engines that refuse writes in a transaction: the rule in
// the package's OnceAfterAll runs for every engine of the process, those over Dolt included.
var refusing sync.Map

func withRule(rules []analyzer.Rule) []analyzer.Rule {
	for _, r := range rules {
		if r.Id == ruleNoWritesInTransaction {
			return rules
		}
	}
	return append(rules[:len(rules):len(rules)], noWritesRule)
}

// refuseWriteInTransaction fails a statement that writes (changes rows, tables, functions or
// users) while the session is in an explicit transaction.
func refuseWriteInTransaction(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if _, ok := refusing.Load(a); !ok || !scope.IsEmpty() || n.IsReadOnly() || !inExplicitTransaction(ctx) {
		return n, transform.SameTree, nil
	}
	return n, transform.SameTree, errWriteInTransaction(statementKind(n))
}

// inExplicitTransaction reports whether the session is inside BEGIN/START TRANSACTION, or runs
// with autocommit off (every statement then joins a transaction that only COMMIT ends).
func inExplicitTransaction(ctx *sql.Context) bool {
	if ctx.GetIgnoreAutoCommit() {
		return true
	}
	autocommit, err := plan.IsSessionAutocommit(ctx)
	return err == nil && !autocommit
}

// WriteInTransactionError is the refusal of a write inside a transaction block (0A000). Its
// message says why and what to do; on the MySQL wire it travels as a *mysql.SQLError with the
// same SQLSTATE.
type WriteInTransactionError struct{ Statement string }

func (e *WriteInTransactionError) Error() string {
	return e.Statement + " inside a transaction block is not supported: wasql cannot undo writes yet, " +
		"so ROLLBACK would keep them. End this transaction with ROLLBACK and run writes with autocommit on, " +
		"outside BEGIN ... COMMIT (psql: \\set AUTOCOMMIT on; JDBC: setAutoCommit(true); psycopg: autocommit=True; " +
		"SQLAlchemy: isolation_level=\"AUTOCOMMIT\"; MySQL: SET autocommit=1)"
}

// SQLState implements the interface sqlstate.Carrier.
func (e *WriteInTransactionError) SQLState() string { return sqlstate.FeatureNotSupported }

func errWriteInTransaction(stmt string) error {
	e := &WriteInTransactionError{Statement: stmt}
	return mysql.NewSQLError(mysql.ERNotSupportedYet, e.SQLState(), "%s", e.Error())
}

// statementKind names a writing statement for the error: INSERT, UPDATE, CREATE TABLE.
func statementKind(n sql.Node) string {
	switch n.(type) {
	case *plan.InsertInto:
		return "INSERT"
	case *plan.Update:
		return "UPDATE"
	case *plan.DeleteFrom:
		return "DELETE"
	case *plan.Truncate:
		return "TRUNCATE"
	case *plan.CreateTable:
		return "CREATE TABLE"
	case *plan.DropTable:
		return "DROP TABLE"
	case *plan.CreateView:
		return "CREATE VIEW"
	case *plan.DropView:
		return "DROP VIEW"
	case *plan.AlterIndex:
		return "CREATE/DROP INDEX"
	case *plan.CreateDB:
		return "CREATE DATABASE"
	case *plan.DropDB:
		return "DROP DATABASE"
	}
	name := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(
		strings.ToUpper(fmt.Sprintf("%T", n)), "*"), "PLAN."), "SQLFUNCS.")
	switch name {
	case "CREATEFUNCTION":
		return "CREATE FUNCTION"
	case "DROPFUNCTION":
		return "DROP FUNCTION"
	}
	return "a statement that writes (" + name + ")"
}

// ruleTransactionalDDL identifies keepDDLInTransaction among the analyzer's rules.
const ruleTransactionalDDL analyzer.RuleId = 9_000_102

// installTransactionalDDL makes DDL on the Postgres wire part of the transaction it runs in, as
// in PostgreSQL, with Dolt's tables (which keep DDL in the transaction like any write):
// go-mysql-server commits the open transaction at each DDL statement, as MySQL does (the MySQL
// wire keeps that), so `BEGIN; UPDATE ...; CREATE TABLE ...; ROLLBACK` would keep both.
func installTransactionalDDL(e *sqle.Engine) {
	for _, b := range e.Analyzer.Batches {
		if b.Desc == "after-all" {
			b.Rules = append(b.Rules, analyzer.Rule{Id: ruleTransactionalDDL, Apply: keepDDLInTransaction})
		}
	}
}

// keepDDLInTransaction clears the flags that make go-mysql-server commit at a DDL statement of
// a Postgres-wire transaction; CREATE or DROP DATABASE there is refused, as PostgreSQL does
// (25001).
func keepDDLInTransaction(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, scope *plan.Scope, _ analyzer.RuleSelector, qf *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if !scope.IsEmpty() || qf == nil || !onPGWire(ctx) || !inExplicitTransaction(ctx) {
		return n, transform.SameTree, nil
	}
	if qf.IsSet(sql.QFlagDBDDL) {
		return nil, transform.SameTree, &pgsql.Error{Code: "25001", Msg: statementKind(n) + " cannot run inside a transaction block"}
	}
	qf.Unset(sql.QFlagDDL)
	qf.Unset(sql.QFlagAlterTable)
	return n, transform.SameTree, nil
}
