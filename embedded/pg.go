package embedded

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/wasql/wasql/embedded/pgcatalog"
	"github.com/wasql/wasql/embedded/pgsql"
	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
)

// PGBackend is the embedded engine behind the Postgres wire: each session is a proxy.Executor
// (one statement at a time, on Go values) given the protocol by proxy.ExecutorSession.
// Statements are translated from Postgres SQL by package pgsql, $n parameters bound as :vn.
func (e *Engine) PGBackend() proxy.Backend { return pgBackend{e} }

type pgBackend struct{ e *Engine }

// Open implements the interface proxy.Backend. The client's startup parameters set the
// session's settings (statement_timeout, application_name); a value a setting refuses fails
// the startup with 22023.
func (b pgBackend) Open(ctx context.Context, c proxy.Client) (proxy.Session, error) {
	s, err := b.e.openPG(c.User, c.PID, c.Params)
	if err != nil {
		return nil, err
	}
	return proxy.ExecutorSession(s, c.Out), nil
}

// openPG opens the Postgres-wire session of user with backend pid pid and the client's startup
// parameters.
func (e *Engine) openPG(user string, pid uint32, params map[string]string) (*pgSession, error) {
	settings := defaultSettings(user, params["application_name"])
	if err := startupSettings(settings, params); err != nil {
		return nil, err
	}
	sess, err := e.newSession(context.Background(), sql.NewBaseSessionWithClientServer("127.0.0.1", sql.Client{User: user, Address: "127.0.0.1"}, pid))
	if err != nil {
		return nil, err
	}
	return &pgSession{e: e, sess: sess, pid: pid, user: user, settings: settings, txStatus: 'I',
		reg: e.sessions.open(pid, user, true, sess)}, nil
}

// pgSession is a Postgres-wire session of the engine: the proxy.Executor of one client.
type pgSession struct {
	e        *Engine
	sess     sql.Session
	pid      uint32
	user     string
	reg      *session          // the session in the engine's registry: what pg_cancel_backend interrupts
	settings map[string]string // SET, SHOW: by lower-case name (pgsettings.go)
	txStatus byte              // 'I' idle, 'T' in a transaction block, 'E' in a failed one
}

// pgWire marks the context of a Postgres-wire session's statements, with the session's
// settings (pgSettings): they see Postgres's functions (pgFunctions).
type pgWire struct{}

// onPGWire reports whether ctx is a Postgres-wire statement's.
func onPGWire(ctx context.Context) bool { return ctx.Value(pgWire{}) != nil }

func (s *pgSession) context(ctx context.Context) *sql.Context {
	c := sql.NewContext(context.WithValue(ctx, pgWire{}, s.settings), sql.WithSession(s.sess))
	if s.sess.GetCurrentDatabase() == "" {
		c.SetCurrentDatabase(Database)
	}
	return c
}

// Execute implements the interface proxy.Executor. In a failed transaction block only its end
// runs (25P02 for anything else; COMMIT rolls back, and says so); session statements (SET, SHOW)
// are answered without the engine; the statement_timeout bounds the rest, its rows included.
// Errors are in PostgreSQL's words (pgError).
func (s *pgSession) Execute(ctx context.Context, query string, params []any) (proxy.Result, error) {
	ctl := txControl(query)
	switch {
	case s.txStatus == 'E' && ctl == "commit":
		query = "ROLLBACK"
	case s.txStatus == 'E' && ctl != "rollback":
		return nil, errInFailedTx
	}
	if res, ok, err := s.setting(query); ok {
		return res, pgError(err)
	}
	ctx, stop := s.timeout(ctx)
	if verb(query) == "COPY" {
		r, err := s.copy(ctx, query, stop)
		if err != nil {
			stop()
			return nil, pgError(err)
		}
		return r, nil
	}
	r, err := s.execute(ctx, query, params)
	if err != nil {
		stop()
		return nil, pgError(err)
	}
	r.stop = stop
	switch ctl {
	case "begin":
		s.txStatus = 'T'
	case "commit", "rollback":
		s.txStatus = 'I'
	}
	return r, nil
}

// TxStatus implements the interface proxy.Executor.
func (s *pgSession) TxStatus() byte { return s.txStatus }

// Failed implements the interface proxy.Executor.
func (s *pgSession) Failed() {
	if s.txStatus == 'T' {
		s.txStatus = 'E'
	}
}

// execute runs one statement in the engine. The statement is parsed once and takes the locks
// it needs (none for a statement that reads no table); a wait for them ends when ctx does
// (CancelRequest, statement_timeout, pg_cancel_backend) with 57014. The locks pass to the result
// (released by Close); on an error or a panic in the engine they are released here.
func (s *pgSession) execute(ctx context.Context, query string, params []any) (*pgResult, error) {
	st, err := s.e.translate(query)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, st, params, nil)
}

// run runs a translated statement; with src, a COPY's INSERT, whose rows src gives when the
// result is drained (copy.go).
func (s *pgSession) run(ctx context.Context, st *pgsql.Statement, params []any, src *copySource) (res *pgResult, err error) {
	cls, parsed, err := s.e.classify(ctx, st.SQL, ast.ParserOptions{}, false)
	if err != nil {
		return nil, err
	}
	bindings := make(map[string]ast.Expr, len(params))
	for i, v := range params {
		bindings["v"+strconv.Itoa(i+1)] = bindValue(v)
	}
	s.countMatchedRows(st.Command == "UPDATE")
	s.sess.ClearWarnings() // the statement's notices are its own warnings (see sqlfuncs.Parser.Parse)
	ctx, end, err := s.reg.begin(ctx)
	if err != nil {
		return nil, err
	}
	endCommand, err := command(s.sess)
	if err != nil {
		end()
		return nil, err
	}
	unlock, err := s.e.locks.acquire(ctx, cls, s.sess)
	if err != nil {
		endCommand()
		end()
		return nil, err
	}
	release := func() { unlock(); endCommand(); end() }
	var r *pgResult
	defer func() {
		if p := recover(); p != nil {
			err = engineFault(p)
		}
		if err == nil {
			return
		}
		err = statementError(ctx, err)
		if r != nil {
			r.Close()
		} else {
			release()
		}
		res = nil
	}()
	if st.Returning != "" {
		if parsed, err = s.parse(ctx, st); err != nil {
			return nil, err
		}
	}
	sctx := s.context(ctx)
	var sch sql.Schema
	var iter sql.RowIter
	switch {
	case src != nil:
		sch, iter, err = s.copyPlan(sctx, st.SQL, parsed, src)
	case st.Returning != "":
		sch, iter, err = s.returning(sctx, st.SQL, parsed, bindings)
	default:
		sch, iter, _, err = s.e.SQL.QueryWithBindings(sctx, st.SQL, parsed, bindings, nil)
	}
	if err != nil {
		return nil, err
	}
	r = &pgResult{ctx: sctx, iter: iter, unlock: release, command: st.Command, sch: sch, upserted: int64(st.Upserted)}
	if src != nil { // drained by Load, as the data comes
		return r, nil
	}
	if len(sch) > 0 && !isOK(sch) {
		r.cols = columns(sch)
		return r, nil
	}
	// A statement without rows runs now, so that its error (a duplicate key, a NOT NULL
	// violation) is the statement's error.
	return r, r.drain()
}

// command begins a statement of sess for Dolt's garbage collector (CALL dolt_gc(), and its
// automatic runs): a collection waits for the statement to end, and between statements it
// visits the chunks the session holds (an open transaction's); the function returned ends it.
// A session never begun is unknown to the collector, which could then drop what it reads.
func command(sess sql.Session) (func(), error) {
	if err := sql.SessionCommandBegin(sess); err != nil {
		return nil, err
	}
	return func() { sql.SessionCommandEnd(sess) }, nil
}

// countMatchedRows makes the engine count the rows an UPDATE matches, as Postgres does, and not
// only those it changed; an INSERT ... ON CONFLICT DO NOTHING must count only the rows it
// inserted, so the flag is set per statement.
func (s *pgSession) countMatchedRows(on bool) {
	c := s.sess.Client()
	if on {
		c.Capabilities |= mysql.CapabilityClientFoundRows
	} else {
		c.Capabilities &^= mysql.CapabilityClientFoundRows
	}
	s.sess.SetClient(c)
}

// EngineFault is a panic inside go-mysql-server, turned into the statement's error: the session
// and the server go on. Its SQLSTATE is XX000 (it is the engine's fault, not the client's); the
// stack is logged.
type EngineFault struct{ Value any }

// Error implements the interface error.
func (e *EngineFault) Error() string { return fmt.Sprintf("internal error in the engine: %v", e.Value) }

// SQLState implements the interface sqlstate.Carrier.
func (e *EngineFault) SQLState() string { return sqlstate.InternalError }

// engineFault is called by a deferred recover: the stack it logs is the panic's.
func engineFault(p any) error {
	slog.Error("wasql: panic in the engine", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return &EngineFault{Value: p}
}

// Describe implements the interface proxy.Executor.
func (s *pgSession) Describe(ctx context.Context, query string, nparams int) ([]proxy.Column, []uint32, error) {
	if cols, ok := sessionColumns(query); ok {
		return cols, nil, nil
	}
	if verb(query) == "COPY" { // no rows: its data comes after CopyInResponse
		return nil, nil, nil
	}
	ctx, stop := s.timeout(ctx)
	defer stop()
	cols, params, err := s.describe(ctx, query, nparams)
	return cols, params, pgError(err)
}

func (s *pgSession) describe(ctx context.Context, query string, nparams int) ([]proxy.Column, []uint32, error) {
	st, err := s.e.translate(query)
	if err != nil {
		return nil, nil, err
	}
	cls, parsed, err := s.e.classify(ctx, st.SQL, ast.ParserOptions{}, false)
	if err != nil {
		return nil, nil, err
	}
	ctx, end, err := s.reg.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer end()
	endCommand, err := command(s.sess)
	if err != nil {
		return nil, nil, err
	}
	defer endCommand()
	unlock, err := s.e.locks.acquire(ctx, min(cls, lockRead), s.sess) // analysis only reads
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	if st.Returning != "" {
		if parsed, err = s.parse(ctx, st); err != nil {
			return nil, nil, err
		}
	}
	var n sql.Node
	sctx := s.context(ctx)
	if parsed != nil {
		n, err = s.e.SQL.PrepareParsedQuery(sctx, st.SQL, st.SQL, parsed)
	} else {
		n, err = s.e.SQL.PrepareQuery(sctx, st.SQL)
	}
	// go-mysql-server keeps every statement it prepared for the session until the session ends;
	// a client preparing ever new texts (pgx caches 512 and closes the rest) would grow it without
	// bound. Past maxPrepared, a new one is not kept: it is parsed again at each execution.
	if c := s.e.SQL.PreparedDataCache; len(c.CachedStatementsForSession(sctx.Session.ID())) > maxPrepared {
		c.UncacheStmt(sctx.Session.ID(), st.SQL)
	}
	if err != nil {
		return nil, nil, err
	}
	if n, _, err = sumTypes(n); err != nil { // the bound plan is not analyzed: pgCoerce has not typed sum()
		return nil, nil, err
	}
	params := inferParams(n, nparams)
	if !st.Rows || len(n.Schema()) == 0 || isOK(n.Schema()) {
		return nil, params, nil
	}
	return columns(n.Schema()), params, nil
}

// maxPrepared bounds the statements go-mysql-server keeps parsed for one session.
const maxPrepared = 1024

// parse parses a statement with RETURNING, which MySQL's grammar lacks: the statement and the
// select list are parsed apart and joined in the tree, RETURNING * spelled out. Other
// statements return nil (the engine parses them itself).
func (s *pgSession) parse(ctx context.Context, st *pgsql.Statement) (ast.Statement, error) {
	if st.Returning == "" {
		return nil, nil
	}
	stmt, err := ast.Parse(st.SQL)
	if err != nil {
		return nil, err
	}
	list, err := ast.Parse("SELECT " + st.Returning)
	if err != nil {
		return nil, err
	}
	sctx := s.context(ctx)
	var exprs ast.SelectExprs
	for _, ex := range list.(*ast.Select).SelectExprs {
		if _, star := ex.(*ast.StarExpr); !star {
			exprs = append(exprs, ex)
			continue
		}
		t, err := s.returningTable(sctx, stmt)
		if err != nil {
			return nil, err
		}
		for _, c := range t.Schema() {
			exprs = append(exprs, &ast.AliasedExpr{Expr: &ast.ColName{Name: ast.NewColIdent(c.Name)}, As: ast.NewColIdent(c.Name)})
		}
	}
	switch x := stmt.(type) {
	case *ast.Insert:
		x.Returning = exprs
	case *ast.Update:
		x.Returning = exprs
	}
	return stmt, nil
}

// returningTable is the table an INSERT/UPDATE ... RETURNING * writes, whose columns * stands
// for. A table that does not exist is reported as the engine reports it for any statement
// (relation "x" does not exist, 42P01).
func (s *pgSession) returningTable(ctx *sql.Context, stmt ast.Statement) (sql.Table, error) {
	var table ast.TableName
	switch x := stmt.(type) {
	case *ast.Insert:
		table = x.Table
	case *ast.Update:
		at, ok := x.TableExprs[0].(*ast.AliasedTableExpr)
		if !ok || len(x.TableExprs) != 1 {
			return nil, &pgsql.Error{Code: "0A000", Msg: "RETURNING * on an UPDATE of several tables is not supported"}
		}
		if table, ok = at.Expr.(ast.TableName); !ok {
			return nil, &pgsql.Error{Code: "0A000", Msg: "RETURNING * on an UPDATE of a subquery is not supported"}
		}
	default:
		return nil, &pgsql.Error{Code: "0A000", Msg: fmt.Sprintf("RETURNING on %T is not supported", stmt)}
	}
	name := table.Name.String()
	dbName := Database
	if q := table.DbQualifier.String(); q != "" {
		dbName = q
	}
	db, err := s.e.Provider.Database(ctx, dbName)
	if err != nil {
		return nil, fmt.Errorf("RETURNING *: %w", err)
	}
	t, ok, err := db.GetTableInsensitive(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("RETURNING *: table %s: %w", name, err)
	}
	if !ok {
		return nil, sql.ErrTableNotFound.New(name)
	}
	return t, nil
}

// returning runs a parsed INSERT/UPDATE ... RETURNING. go-mysql-server evaluates an INSERT's
// RETURNING list on the inserted row with column indexes one off, so they are set here from
// the destination's schema.
func (s *pgSession) returning(ctx *sql.Context, q string, parsed ast.Statement, bindings map[string]ast.Expr) (sql.Schema, sql.RowIter, error) {
	n, err := s.e.SQL.BoundQueryPlan(ctx, q, parsed, bindings)
	if err != nil {
		return nil, nil, err
	}
	n, _, err = transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		ins, ok := n.(*plan.InsertInto)
		if !ok {
			return n, transform.SameTree, nil
		}
		dest := ins.Destination.Schema()
		c := *ins
		c.Returning = make([]sql.Expression, len(ins.Returning))
		for i, r := range ins.Returning {
			c.Returning[i], _, err = transform.Expr(r, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
				if gf, ok := e.(*expression.GetField); ok {
					return gf.WithIndex(dest.IndexOfColName(gf.Name())), transform.NewTree, nil
				}
				return e, transform.SameTree, nil
			})
			if err != nil {
				return nil, transform.SameTree, err
			}
		}
		return &c, transform.NewTree, nil
	})
	if err != nil {
		return nil, nil, err
	}
	sch, iter, _, err := s.e.SQL.PrepQueryPlanForExecution(ctx, q, n, nil)
	return sch, iter, err
}

// translate turns a Postgres statement into the engine's dialect, after checking its size and
// nesting against the limits (before libpg_query or any other parser sees it). The wasm DDL
// passes as it is: the engine's own DDL parser reads it in either dialect, $n parameters
// included.
func (e *Engine) translate(query string) (*pgsql.Statement, error) {
	if err := checkText(query, pgDialect, e.maxBytes, e.maxDepth); err != nil {
		return nil, err
	}
	if v := verb(query); v == "CREATE FUNCTION" || v == "DROP FUNCTION" {
		if err := callable(query); err != nil {
			return nil, err
		}
		return &pgsql.Statement{SQL: query, Command: v}, nil
	}
	return pgsql.Translate(query)
}

// callable refuses CREATE FUNCTION of a wasm function that calls on the Postgres wire would not
// reach (0A000): one named like a go-mysql-server built-in or a function the translation
// replaces (now, format, left), which go-mysql-server would run instead.
func callable(query string) error {
	stmt, _, err := sqlfuncs.ParseDDL(query)
	cs, ok := stmt.(*sqlfuncs.CreateStmt)
	if err != nil || !ok || !pgsql.Shadowed(cs.Name) && !pgcatalog.IsFunction(cs.Name) {
		return nil // the engine reports the statement's own errors
	}
	return &pgsql.Error{Code: "0A000", Msg: fmt.Sprintf("a wasm function named %s is not supported on the Postgres wire: "+
		"calls of %s(...) run the built-in function of that name; choose another name", cs.Name, cs.Name)}
}

// inferParams finds a type for each $n from where its placeholder stands: an argument of a wasm
// function takes the declared type, an operand of a comparison or arithmetic the other side's.
func inferParams(n sql.Node, nparams int) []uint32 {
	params := make([]uint32, nparams)
	set := func(name string, oid uint32) { // name is v<n> for $n
		k, err := strconv.Atoi(strings.TrimPrefix(name, "v"))
		if err == nil && k >= 1 && k <= nparams && params[k-1] == 0 && oid != 0 {
			params[k-1] = oid
		}
	}
	// INSERT ... VALUES ($1, ...): a placeholder takes its column's type.
	transform.Inspect(n, func(node sql.Node) bool {
		ins, ok := node.(*plan.InsertInto)
		if !ok {
			return true
		}
		values, ok := ins.Source.(*plan.Values)
		if !ok {
			return true
		}
		dest := ins.Destination.Schema()
		for _, tuple := range values.ExpressionTuples {
			for j, ex := range tuple {
				bv, ok := ex.(*expression.BindVar)
				if !ok {
					continue
				}
				col := -1
				if j < len(ins.ColumnNames) {
					col = dest.IndexOfColName(ins.ColumnNames[j])
				} else if len(ins.ColumnNames) == 0 && j < len(dest) {
					col = j
				}
				if col >= 0 {
					set(bv.Name, pgcatalog.TypeOID(dest[col].Type))
				}
			}
		}
		return true
	})
	undetermined := map[string]bool{} // format()'s arguments: "any", which a placeholder cannot decide
	transform.InspectExpressions(n, func(e sql.Expression) bool {
		// x = ANY($1), x <> ALL($1): an array of x's type, as Postgres describes it.
		if f, ok := e.(sql.FunctionExpression); ok && f.FunctionName() == "pg_any_eq" && len(e.Children()) == 2 {
			if bv, ok := e.Children()[1].(*expression.BindVar); ok && !types.IsDeferredType(e.Children()[0].Type()) {
				set(bv.Name, arrayOIDs[pgcatalog.TypeOID(e.Children()[0].Type())])
			}
		}
		if f, ok := e.(sql.FunctionExpression); ok && f.FunctionName() == "pg_format" {
			for i, ch := range e.Children() {
				if bv, ok := ch.(*expression.BindVar); ok && i > 0 {
					undetermined[bv.Name] = true
				}
			}
		}
		// x IN ($1, $2): each placeholder takes x's type.
		if in, ok := e.(*expression.InTuple); ok && !types.IsDeferredType(in.Left().Type()) {
			for _, ch := range in.Right().Children() {
				if bv, ok := ch.(*expression.BindVar); ok {
					set(bv.Name, pgcatalog.TypeOID(in.Left().Type()))
				}
			}
		}
		for i, ch := range e.Children() {
			bv, ok := ch.(*expression.BindVar)
			if !ok {
				continue
			}
			switch p := e.(type) {
			case *sqlfuncs.Call:
				set(bv.Name, pgcatalog.UDFTypeOID(p.ArgTypes()[i]))
			case *expression.Convert: // $1::bigint
				set(bv.Name, pgcatalog.TypeOID(p.Type()))
			case expression.BinaryExpression:
				other := p.Left()
				if i == 0 {
					other = p.Right()
				}
				if !types.IsDeferredType(other.Type()) {
					set(bv.Name, pgcatalog.TypeOID(other.Type()))
				}
			}
		}
		return true
	})
	for name := range undetermined {
		set(name, proxy.ParamUndetermined)
	}
	return params
}

// arrayOIDs are the array types of the element types whose arrays the Postgres wire decodes
// from binary parameters (proxy/arrays.go), by element OID.
var arrayOIDs = map[uint32]uint32{proxy.OIDBool: 1000, proxy.OIDInt2: 1005, proxy.OIDInt4: 1007,
	proxy.OIDInt8: 1016, proxy.OIDFloat4: 1021, proxy.OIDFloat8: 1022, proxy.OIDText: 1009, proxy.OIDVarchar: 1015}

// Close implements the interface proxy.Executor.
func (s *pgSession) Close() error {
	s.e.sessions.close(s.pid)
	s.e.SQL.CloseSession(s.pid)      // drops the statements go-mysql-server prepared for it
	s.e.locks.endTransaction(s.sess) // its open transaction ends unwritten
	sql.SessionEnd(s.sess)
	return nil
}

// pgFunctions finds functions: for Postgres-wire sessions first Postgres's own (pg_catalog's,
// the session functions, those translations call), then the wasm functions; an unknown name is
// reported as Postgres reports it, with the argument types.
type pgFunctions struct {
	catalog  *pgcatalog.Catalog
	registry *sqlfuncs.Registry
	e        *Engine
}

// Function implements the interface sql.FunctionProvider.
func (p pgFunctions) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	pg := onPGWire(ctx)
	if pg {
		switch n := strings.ToLower(name); n {
		case "pg_cancel_backend", "pg_terminate_backend":
			return sql.Function1{Name: n, Fn: func(pid sql.Expression) sql.Expression {
				return &signalBackend{UnaryExpressionStub: expression.UnaryExpressionStub{Child: pid}, e: p.e, name: n}
			}}, true
		}
		if f, ok := p.catalog.Function(ctx, name); ok {
			return f, true
		}
	}
	if f, ok := p.registry.Function(ctx, name); ok {
		return f, true
	}
	if pg && !builtins[strings.ToLower(name)] {
		return sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
			types := make([]sql.Type, len(args))
			for i, a := range args {
				types[i] = a.Type()
			}
			_, err := p.registry.Resolve(name, types) // no overload: "function nope(bigint) does not exist"
			return nil, err
		}}, true
	}
	return nil, false
}

// builtins are go-mysql-server's functions, by lower-case name.
var builtins = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range function.BuiltIns {
		m[strings.ToLower(f.FunctionName())] = true
	}
	return m
}()

// PGVersion is the PostgreSQL version the Postgres wire reports (server_version, version()).
const PGVersion = pgcatalog.DefaultServerVersion

func isOK(sch sql.Schema) bool {
	return len(sch) == 1 && sch[0].Type == types.OkResultSchema[0].Type && sch[0].Name == types.OkResultSchema[0].Name
}

func bindValue(v any) ast.Expr {
	switch x := v.(type) {
	case nil:
		return &ast.NullVal{}
	case int64:
		return ast.NewIntVal([]byte(strconv.FormatInt(x, 10)))
	case float64:
		return ast.NewFloatVal([]byte(strconv.FormatFloat(x, 'g', -1, 64)))
	case bool:
		if x {
			return ast.NewIntVal([]byte("1"))
		}
		return ast.NewIntVal([]byte("0"))
	case []byte: // bytes, not a literal for pgCoerce to read as text
		return &ast.ConvertExpr{Name: "CAST", Expr: ast.NewHexVal([]byte(fmt.Sprintf("%x", x))), Type: &ast.ConvertType{Type: "binary"}}
	case proxy.Numeric: // a decimal literal, with its scale
		return ast.NewFloatVal([]byte(x))
	case proxy.TimestampTZ: // an instant, as a timestamptz
		return &ast.FuncExpr{Name: ast.NewColIdent("pg_timestamptz"), Exprs: ast.SelectExprs{&ast.AliasedExpr{
			Expr: ast.NewStrVal([]byte(time.Time(x).UTC().Format("2006-01-02 15:04:05.999999") + "+00"))}}}
	case time.Time: // a binary date or timestamp: a typed value, not a string to read
		return &ast.ConvertExpr{Name: "CAST", Expr: ast.NewStrVal([]byte(x.UTC().Format("2006-01-02 15:04:05.999999"))),
			Type: &ast.ConvertType{Type: "datetime", Length: ast.NewIntVal([]byte("6"))}}
	}
	return ast.NewStrVal([]byte(fmt.Sprint(v)))
}

func columns(sch sql.Schema) []proxy.Column {
	cols := make([]proxy.Column, len(sch))
	for i, c := range sch {
		oid := pgcatalog.TypeOID(c.Type)
		cols[i] = proxy.Column{Name: c.Name, OID: oid, Size: proxy.TypeSize(oid)}
	}
	return cols
}

type pgResult struct {
	ctx     *sql.Context
	iter    sql.RowIter
	unlock  func()
	cols    []proxy.Column
	sch     sql.Schema // the result's columns, whose types say how values print
	command string     // the command tag's verb: SELECT, INSERT, CREATE TABLE
	rows    int64
	// upserted is pgsql.Statement.Upserted: the tag's count of an INSERT ... ON CONFLICT DO UPDATE
	upserted int64
	done     bool
	stop     func() // ends the statement_timeout's context
}

func (r *pgResult) Columns() []proxy.Column { return r.cols }

func (r *pgResult) Next(context.Context) (row []any, err error) {
	defer func() {
		if p := recover(); p != nil {
			row, err = nil, engineFault(p)
		}
	}()
	row, err = r.iter.Next(r.ctx)
	if err == io.EOF {
		r.done = true
		return nil, nil
	}
	if err != nil {
		return nil, pgError(statementError(r.ctx, err))
	}
	r.rows++
	// The engine's row may be the table's own: values change in a copy.
	var out sql.Row
	for i, v := range row {
		if i >= len(r.sch) {
			break
		}
		w, changed, err := outputValue(r.ctx, r.sch[i], v)
		if err != nil {
			return nil, pgError(err)
		}
		if !changed {
			continue
		}
		if out == nil {
			out = append(sql.Row(nil), row...)
		}
		out[i] = w
	}
	if out != nil {
		return out, nil
	}
	return row, nil
}

// drain runs a statement without rows: it returns one OkResult row with the count.
func (r *pgResult) drain() error {
	for {
		row, err := r.iter.Next(r.ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(row) > 0 {
			if ok, isOK := row[0].(types.OkResult); isOK {
				r.rows = int64(ok.RowsAffected)
			}
		}
	}
}

var unknownTable = regexp.MustCompile(`^Unknown table '([^']*)'$`)

// Notices implements the interface proxy.Noticer: the statement's warnings (the engine clears a
// session's warnings when a statement starts), in the order they were raised; a MySQL Note is a
// NOTICE, anything else a WARNING.
func (r *pgResult) Notices() []proxy.Notice {
	ws := r.ctx.Session.Warnings() // most recent first
	var out []proxy.Notice
	for i := len(ws) - 1; i >= 0; i-- {
		n := proxy.Notice{Severity: "WARNING", Code: "01000", Message: ws[i].Message}
		if m := unknownTable.FindStringSubmatch(ws[i].Message); m != nil { // DROP TABLE IF EXISTS, worded as Postgres
			n = proxy.Notice{Severity: "NOTICE", Code: "00000", Message: fmt.Sprintf("table %q does not exist, skipping", m[1])}
		}
		if ws[i].Level == "Note" {
			n.Severity, n.Code = "NOTICE", "00000"
		}
		out = append(out, n)
	}
	return out
}

// Tag implements the interface proxy.Result: the CommandComplete tag of the statement.
func (r *pgResult) Tag() string {
	switch r.command {
	case "SELECT":
		return fmt.Sprintf("SELECT %d", r.rows)
	case "INSERT":
		if r.upserted > 0 && len(r.cols) == 0 { // every row proposed was inserted or updated
			return fmt.Sprintf("INSERT 0 %d", r.upserted)
		}
		return fmt.Sprintf("INSERT 0 %d", r.rows)
	case "UPDATE", "DELETE":
		return fmt.Sprintf("%s %d", r.command, r.rows)
	}
	return r.command
}

func (r *pgResult) Close() error {
	err := r.iter.Close(r.ctx)
	r.unlock()
	if r.stop != nil {
		r.stop()
	}
	return pgError(err)
}

// verb is the statement's first keyword, upper case; for CREATE/DROP/ALTER it includes the
// object kind (CREATE TABLE, DROP FUNCTION). It names the wasm DDL, which is not translated.
func verb(q string) string {
	f := strings.Fields(strings.ToUpper(q))
	if len(f) == 0 {
		return ""
	}
	v := strings.TrimRight(f[0], ";")
	if (v == "CREATE" || v == "DROP" || v == "ALTER") && len(f) > 1 {
		obj := f[1]
		if obj == "OR" && len(f) > 3 {
			obj = f[3]
		}
		return v + " " + strings.TrimRight(obj, ";(")
	}
	return v
}
