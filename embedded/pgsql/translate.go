// Package pgsql translates Postgres SQL into go-mysql-server's dialect, for the embedded engine
// behind the Postgres wire.
//
// Statements are parsed by PostgreSQL's own parser (libpg_query, through pg_query_go) and
// printed back in the MySQL dialect go-mysql-server reads. What has no faithful translation
// fails with 0A000 feature_not_supported naming the construct; a statement is never passed on
// half-understood. The functions the translation relies on at run time (pg_div, pg_bool, ...)
// are Postgres functions of package pgcatalog.
//
// Conventions of the output:
//   - identifiers are quoted with backticks, strings are MySQL literals;
//   - $n is the bind variable :vn, so a parameter used twice is bound once;
//   - schema public is the current database, pg_catalog and information_schema are the
//     databases pg_catalog and pg_information_schema, and an unqualified pg_* relation is in
//     pg_catalog;
//   - arrays travel as their Postgres text form ('{a,b}'), handled by functions;
//   - the columns of the top-level SELECT carry the names Postgres would give them.
package pgsql

import (
	"fmt"
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/internal/sqlstate"
)

// Statement is one translated statement.
type Statement struct {
	SQL     string // in go-mysql-server's dialect
	Command string // the verb of its command tag: SELECT, INSERT, CREATE TABLE, COMMIT
	Rows    bool   // it returns rows (SELECT, VALUES, EXPLAIN, INSERT/UPDATE ... RETURNING)
	// Returning is the select list of INSERT/UPDATE ... RETURNING, which MySQL's grammar lacks:
	// the engine parses SQL and this list separately and joins them (go-mysql-server's plan
	// supports it).
	Returning string
	// Upserted, for INSERT ... VALUES ... ON CONFLICT DO UPDATE, is the number of rows proposed:
	// each is inserted or updated, and Postgres's command tag counts them all, where the engine
	// counts an updated row twice and an unchanged one not at all.
	Upserted int
}

// Error is a statement that cannot be translated, with its SQLSTATE.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// SQLState implements the interface sqlstate.Carrier.
func (e *Error) SQLState() string { return e.Code }

func unsupported(format string, args ...any) *Error {
	return &Error{Code: sqlstate.FeatureNotSupported, Msg: fmt.Sprintf(format, args...) + " is not supported"}
}

// Translate translates one Postgres statement. Translations are cached by text: drivers send the
// same statements again and again, and a parse costs tens of microseconds.
func Translate(query string) (*Statement, error) {
	if st, ok := cache.get(query); ok {
		return st, nil
	}
	st, err := translate(query)
	if err != nil {
		return nil, err
	}
	cache.put(query, st)
	return st, nil
}

func translate(query string) (st *Statement, err error) {
	defer func() {
		// A parse tree shape the printer does not expect is a statement it cannot translate.
		if r := recover(); r != nil {
			st, err = nil, &Error{Code: sqlstate.FeatureNotSupported, Msg: fmt.Sprintf("this statement is not supported (%v)", r)}
		}
	}()
	tree, err := pg.Parse(query)
	if err != nil {
		return nil, &Error{Code: "42601", Msg: err.Error()}
	}
	switch len(tree.Stmts) {
	case 0:
		return &Statement{}, nil
	case 1:
	default:
		return nil, &Error{Code: "42601", Msg: "cannot translate several statements at once"}
	}
	p := &printer{}
	node := tree.Stmts[0].Stmt
	p.stmt(node)
	if p.err != nil {
		return nil, p.err
	}
	_, rows := node.Node.(*pg.Node_SelectStmt)
	if _, ok := node.Node.(*pg.Node_ExplainStmt); ok {
		rows = true
	}
	return &Statement{SQL: p.String(), Command: command(node), Rows: rows || p.returning != "", Returning: p.returning,
		Upserted: p.upserted}, nil
}

// cache holds recent translations; when full it starts over, which is cheap and keeps the
// working set of a steady workload.
var cache = &translations{m: map[string]*Statement{}}

const cacheSize = 4096

type translations struct {
	mu sync.Mutex
	m  map[string]*Statement
}

func (c *translations) get(q string) (*Statement, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	return st, ok
}

func (c *translations) put(q string, st *Statement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= cacheSize {
		clear(c.m)
	}
	c.m[q] = st
}

// printer writes the translation. The first construct it cannot translate is kept in err; the
// output is then discarded.
type printer struct {
	strings.Builder
	err       error
	excluded  bool            // in ON CONFLICT DO UPDATE, where EXCLUDED.c is the row proposed for insertion
	targets   []*pg.Node      // the select list ORDER BY refers to
	returning string          // the translated RETURNING list
	ctes      map[string]bool // the names WITH clauses define
	upserted  int             // Statement.Upserted
}

func (p *printer) fail(err *Error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *printer) unsupported(format string, args ...any) { p.fail(unsupported(format, args...)) }

// list prints items separated by ", ".
func list[T any](p *printer, items []T, each func(T)) {
	for i, it := range items {
		if i > 0 {
			p.WriteString(", ")
		}
		each(it)
	}
}

// ident prints an identifier, quoted.
func (p *printer) ident(name string) {
	p.WriteByte('`')
	p.WriteString(strings.ReplaceAll(name, "`", "``"))
	p.WriteByte('`')
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `''`)

// str prints a string literal.
func (p *printer) str(s string) {
	p.WriteByte('\'')
	p.WriteString(quoter.Replace(s))
	p.WriteByte('\'')
}

// stmt prints a statement.
func (p *printer) stmt(n *pg.Node) {
	switch s := n.Node.(type) {
	case *pg.Node_SelectStmt:
		p.selectStmt(s.SelectStmt, true)
	case *pg.Node_InsertStmt:
		p.insert(s.InsertStmt)
	case *pg.Node_UpdateStmt:
		p.update(s.UpdateStmt)
	case *pg.Node_DeleteStmt:
		p.delete(s.DeleteStmt)
	case *pg.Node_CreateStmt:
		p.createTable(s.CreateStmt)
	case *pg.Node_ViewStmt:
		p.createView(s.ViewStmt)
	case *pg.Node_IndexStmt:
		p.createIndex(s.IndexStmt)
	case *pg.Node_DropStmt:
		p.drop(s.DropStmt)
	case *pg.Node_AlterTableStmt:
		p.alterTable(s.AlterTableStmt)
	case *pg.Node_RenameStmt:
		p.rename(s.RenameStmt)
	case *pg.Node_TruncateStmt:
		if len(s.TruncateStmt.Relations) != 1 {
			p.unsupported("TRUNCATE of several tables")
			return
		}
		p.WriteString("TRUNCATE TABLE ")
		p.rangeVar(s.TruncateStmt.Relations[0].GetRangeVar())
	case *pg.Node_TransactionStmt:
		p.transaction(s.TransactionStmt)
	case *pg.Node_ExplainStmt:
		// EXPLAIN prints go-mysql-server's plan (its EXPLAIN PLAN; its bare EXPLAIN is a
		// placeholder row); EXPLAIN ANALYZE runs the statement and adds the wasm functions'
		// counts (sqlfuncs.ExplainAnalyze).
		verb := "EXPLAIN PLAN "
		for _, o := range s.ExplainStmt.Options {
			d := o.GetDefElem()
			switch d.GetDefname() {
			case "analyze":
				if d.Arg == nil || strings.EqualFold(pgBoolOption(d.Arg), "true") {
					verb = "EXPLAIN ANALYZE "
				}
			case "verbose", "costs", "timing", "summary", "buffers", "settings", "wal":
			case "format":
				if v := strings.ToLower(pgBoolOption(d.Arg)); v != "text" {
					p.unsupported("EXPLAIN (FORMAT %s)", strings.ToUpper(v))
				}
			default:
				p.unsupported("EXPLAIN option %s", d.GetDefname())
			}
		}
		if _, sel := s.ExplainStmt.Query.Node.(*pg.Node_SelectStmt); !sel && verb == "EXPLAIN ANALYZE " {
			p.unsupported("EXPLAIN ANALYZE of a statement that writes")
			return
		}
		p.WriteString(verb)
		p.stmt(s.ExplainStmt.Query)
	default:
		p.unsupported("%s", statementName(n))
	}
}

// statementName names a statement kind the way a user would write it: CopyStmt is COPY.
func statementName(n *pg.Node) string {
	name := strings.TrimSuffix(nodeKind(n), "Stmt")
	known := map[string]string{"Copy": "COPY", "CreateSchema": "CREATE SCHEMA", "CreateSeq": "CREATE SEQUENCE",
		"AlterTable": "ALTER TABLE", "Listen": "LISTEN", "Notify": "NOTIFY", "Unlisten": "UNLISTEN",
		"CreateFunction": "CREATE FUNCTION (in a language other than wasm)", "Do": "DO", "Grant": "GRANT",
		"CreateRole": "CREATE ROLE", "Comment": "COMMENT", "Vacuum": "VACUUM", "Lock": "LOCK",
		"CreateExtension": "CREATE EXTENSION", "Rename": "ALTER ... RENAME", "Prepare": "PREPARE",
		"Execute": "EXECUTE", "DeclareCursor": "DECLARE CURSOR", "Fetch": "FETCH", "ClosePortal": "CLOSE",
		"CreateTableAs": "CREATE TABLE AS", "CreateTrig": "CREATE TRIGGER", "CreateDomain": "CREATE DOMAIN",
		"CreateEnum": "CREATE TYPE", "Composite": "CREATE TYPE", "Call": "CALL"}
	if k, ok := known[name]; ok {
		return k
	}
	return strings.ToUpper(name)
}

func (p *printer) transaction(t *pg.TransactionStmt) {
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		p.WriteString("START TRANSACTION")
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		p.WriteString("COMMIT")
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		p.WriteString("ROLLBACK")
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg.TransactionStmtKind_TRANS_STMT_RELEASE,
		pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		// go-mysql-server's memory tables have no savepoints (and no real transactions yet).
		p.unsupported("SAVEPOINT, RELEASE and ROLLBACK TO SAVEPOINT")
	default:
		p.unsupported("two-phase commit")
	}
}

// command is the verb of a statement's CommandComplete tag, as Postgres sends it.
func command(n *pg.Node) string {
	switch s := n.Node.(type) {
	case *pg.Node_SelectStmt:
		return "SELECT"
	case *pg.Node_InsertStmt:
		return "INSERT"
	case *pg.Node_UpdateStmt:
		return "UPDATE"
	case *pg.Node_DeleteStmt:
		return "DELETE"
	case *pg.Node_CreateStmt:
		return "CREATE TABLE"
	case *pg.Node_ViewStmt:
		return "CREATE VIEW"
	case *pg.Node_IndexStmt:
		return "CREATE INDEX"
	case *pg.Node_DropStmt:
		return "DROP " + strings.TrimPrefix(s.DropStmt.RemoveType.String(), "OBJECT_")
	case *pg.Node_TruncateStmt:
		return "TRUNCATE TABLE"
	case *pg.Node_AlterTableStmt, *pg.Node_RenameStmt:
		return "ALTER TABLE"
	case *pg.Node_ExplainStmt:
		return "EXPLAIN"
	case *pg.Node_TransactionStmt:
		return map[pg.TransactionStmtKind]string{pg.TransactionStmtKind_TRANS_STMT_BEGIN: "BEGIN",
			pg.TransactionStmtKind_TRANS_STMT_START: "START TRANSACTION", pg.TransactionStmtKind_TRANS_STMT_COMMIT: "COMMIT",
			pg.TransactionStmtKind_TRANS_STMT_ROLLBACK: "ROLLBACK", pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT: "SAVEPOINT",
			pg.TransactionStmtKind_TRANS_STMT_RELEASE: "RELEASE", pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO: "ROLLBACK"}[s.TransactionStmt.Kind]
	}
	return ""
}

// nodeKind is the name of a node's type in libpg_query: SelectStmt, FuncCall.
func nodeKind(n *pg.Node) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
}

// pgBoolOption is an EXPLAIN option's value as written: true, false, on, off, 1, 0, or a word.
func pgBoolOption(n *pg.Node) string {
	switch {
	case n == nil:
		return "true"
	case n.GetString_() != nil:
		v := strings.ToLower(n.GetString_().Sval)
		switch v {
		case "on", "1", "yes":
			return "true"
		case "off", "0", "no":
			return "false"
		}
		return v
	case n.GetBoolean() != nil:
		if n.GetBoolean().Boolval {
			return "true"
		}
		return "false"
	case n.GetInteger() != nil:
		if n.GetInteger().Ival != 0 {
			return "true"
		}
		return "false"
	}
	return ""
}
