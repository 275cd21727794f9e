package upstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
)

// wasql's own statements in proxy mode: CREATE [OR REPLACE] FUNCTION ... LANGUAGE wasm and DROP
// FUNCTION of a wasm function run against the registry, as in embedded mode, and are answered
// here in order with the upstream's answers. Like PostgreSQL's CREATE DATABASE they cannot run
// inside a transaction block (25001), nor after another statement of the same pipeline. Any
// error of wasql's leaves the upstream as PostgreSQL's own error would: a statement that fails
// is sent upstream and its error swallowed, so a transaction block is aborted (25P02 follows)
// and an extended-protocol pipeline skips to its Sync.

// abortSQL is the statement sent upstream to put it in the state an error leaves: it fails at
// once (a syntax error), and its error is not relayed.
const abortSQL = "wasql: the previous statement failed"

// errWasmPipelined refuses a statement calling wasm functions after other statements executed
// in the same pipeline (BEGIN aside): its statements of wasql's end with Syncs of their own,
// which would end the pipeline's implicit transaction early.
var errWasmPipelined = refuse("a statement calling wasm functions cannot follow other statements executed in the same pipeline: send a Sync before it")

// startsTransaction reports whether a statement is BEGIN or START TRANSACTION.
func startsTransaction(q string) bool {
	sc := scanner{q: q}
	k, start, end := sc.next()
	if k != tokWord {
		return false
	}
	w := strings.ToLower(q[start:end])
	return w == "begin" || w == "start"
}

var (
	errMixedDrop        = sqlError(sqlstate.FeatureNotSupported, "DROP FUNCTION cannot name wasm functions together with other functions: drop each wasm function in a statement of its own")
	errInFailedTx       = sqlError("25P02", "current transaction is aborted, commands ignored until end of transaction block")
	errMultiplePrepared = sqlError("42601", "cannot insert multiple commands into a prepared statement")
)

// sqlErr is an error of wasql's with its SQLSTATE.
type sqlErr struct{ code, msg string }

func (e *sqlErr) Error() string    { return e.msg }
func (e *sqlErr) SQLState() string { return e.code }

func sqlError(code, msg string) error { return &sqlErr{code: code, msg: msg} }

// toErrorResponse is where wasql's errors become ErrorResponses: the SQLSTATE the error
// carries, its hint; the upstream's own errors keep every field.
func toErrorResponse(err error) *pgproto3.ErrorResponse {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return proxy.PgErrorResponse(pgErr)
	}
	code := sqlstate.Of(err)
	switch {
	case errors.Is(err, context.Canceled):
		code, err = sqlstate.QueryCanceled, errors.New("canceling statement due to user request")
	case errors.Is(err, context.DeadlineExceeded):
		code = sqlstate.QueryCanceled
	}
	var detail string // a wasm error's: guest output, a trap's stack
	var ud interface{ DetailText() string }
	if errors.As(err, &ud) {
		detail = ud.DetailText()
	}
	return &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code,
		Message: err.Error(), Detail: detail, Hint: sqlstate.Hint(err)}
}

// verb is the command tag of a wasql statement, and what its errors call it.
func verb(k stmtKind) string {
	if k == stmtDrop {
		return "DROP FUNCTION"
	}
	return "CREATE FUNCTION"
}

// what names a wasql statement in errors.
func what(k stmtKind) string {
	if k == stmtDrop {
		return "DROP FUNCTION of a wasm function"
	}
	return "CREATE FUNCTION ... LANGUAGE wasm"
}

// classifyQuery returns the statements of q when one of them is wasql's (or calls a wasm
// function), nil when q passes through.
func (s *Session) classifyQuery(q string) []statement {
	reg := s.b.cfg.Registry
	if reg == nil {
		return nil
	}
	ns := s.b.currentNames()
	if !mayInvolveWasm(q, ns) {
		return nil
	}
	sts := classify(q, ns, reg)
	for _, st := range sts {
		if st.kind != stmtPass {
			return sts
		}
	}
	return nil
}

// query handles a simple Query.
func (s *Session) query(ctx context.Context, m *pgproto3.Query) error {
	if s.b.cfg.FlushStats != nil && mentionsStats(m.String) {
		s.flushStats(ctx)
	}
	sts := s.classifyQuery(m.String)
	if sts == nil {
		return s.forward(m, expect{kind: 'Q'}, true)
	}
	if err := s.drain(ctx); err != nil {
		return err
	}
	var err error
	switch {
	case anyKind(sts, stmtCall) && len(sts) > 1:
		err = s.runMany(ctx, sts)
	case anyKind(sts, stmtCall):
		var ws *wasmStmt
		if ws, err = s.describeWasm(ctx, sts[0].text, nil); err == nil {
			err = s.runWasm(ctx, ws, nil, nil, nil, true)
		}
	case anyKind(sts, stmtMixed):
		err = errMixedDrop
	case anyKind(sts, stmtPass):
		for _, st := range sts {
			if st.kind != stmtPass {
				err = sqlError(sqlstate.FeatureNotSupported, fmt.Sprintf(
					"%s cannot be combined with other statements in one query: send it alone", what(st.kind)))
				break
			}
		}
	default:
		err = s.inBlock(sts[0].kind)
		for i := 0; err == nil && i < len(sts); i++ {
			err = s.run(ctx, sts[i], nil)
		}
	}
	if err == nil {
		s.push(expect{local: []pgproto3.BackendMessage{&pgproto3.ReadyForQuery{TxStatus: s.status()}}})
		return s.out.Flush()
	}
	err = wasmError(err)
	// PostgreSQL ends a failed query with the transaction status the error leaves: ask it.
	s.push(expect{local: []pgproto3.BackendMessage{toErrorResponse(err)}})
	return s.forward(&pgproto3.Query{String: abortSQL}, expect{kind: 'Q', swallowErr: true}, true)
}

func anyKind(sts []statement, k stmtKind) bool {
	for _, st := range sts {
		if st.kind == k {
			return true
		}
	}
	return false
}

func (s *Session) status() byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txStatus
}

// inBlock refuses a wasql statement inside a transaction block, as PostgreSQL refuses CREATE
// DATABASE: the registry's changes cannot be rolled back with the upstream's.
func (s *Session) inBlock(k stmtKind) error {
	switch s.status() {
	case 'T':
		return sqlError("25001", what(k)+" cannot run inside a transaction block")
	case 'E':
		return errInFailedTx
	}
	return nil
}

// run executes one wasql statement; module is the bound parameter holding the module, if any.
// Its CommandComplete (or notice) goes to the client.
func (s *Session) run(ctx context.Context, st statement, params [][]byte) error {
	if st.err != nil {
		return st.err
	}
	ctx, done := s.track(ctx)
	defer done()
	reg := s.b.cfg.Registry
	ctx = sqlfuncs.WithUser(ctx, s.user)
	if err := s.mayAlter(st.ddl); err != nil {
		return err
	}
	switch d := st.ddl.(type) {
	case *sqlfuncs.CreateStmt:
		c := *d
		if c.Module == nil {
			if c.Param < 1 || c.Param > len(params) {
				return sqlError("08P01", fmt.Sprintf("bind message supplies %d parameters, but the module is parameter $%d", len(params), c.Param))
			}
			if params[c.Param-1] == nil {
				return sqlError(sqlstate.InvalidFunctionDefinition, "the module parameter is NULL")
			}
			c.Module = params[c.Param-1]
		}
		if err := reg.Create(ctx, &c); err != nil {
			return err
		}
	case *sqlfuncs.DropStmt:
		if err := reg.Drop(ctx, d); err != nil {
			return err
		}
	default:
		return fmt.Errorf("upstream session: no statement to run for %q", st.text)
	}
	s.push(expect{local: []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte(verb(st.kind))}}})
	return nil
}

// track makes ctx the statement in progress, which Cancel cancels, until done is called.
func (s *Session) track(ctx context.Context) (_ context.Context, done func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.running = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		s.running = nil
		s.mu.Unlock()
		cancel()
	}
}

// mayAlter refuses, with pass-through authentication, to replace or drop a wasm function the
// session's user does not own, unless the user is a superuser of the upstream (an ownerless
// function, stored before owners were recorded, only a superuser may alter), in PostgreSQL's
// words. With wasql's own users the owner is recorded, not enforced (docs/RATIONALE.md).
func (s *Session) mayAlter(ddl any) error {
	if !s.b.cfg.PassThroughAuth || s.superuser {
		return nil
	}
	var ovs []*sqlfuncs.Overload
	verb := "replace"
	switch d := ddl.(type) {
	case *sqlfuncs.CreateStmt:
		if !d.OrReplace {
			return nil
		}
		for _, ov := range s.b.cfg.Registry.Overloads(d.Name) {
			if slices.Equal(ov.Args, d.Args) {
				ovs = append(ovs, ov)
			}
		}
	case *sqlfuncs.DropStmt:
		verb = "drop"
		for _, ov := range s.b.cfg.Registry.Overloads(d.Name) {
			if d.Args == nil || slices.Equal(ov.Args, d.Args) {
				ovs = append(ovs, ov)
			}
		}
	}
	for _, ov := range ovs {
		if ov.Def.Owner != s.user {
			return sqlError("42501", fmt.Sprintf("must be owner of function %s to %s it", ov.Def.Key(), verb))
		}
	}
	return nil
}

// localStmt is a prepared statement that is wasql's.
type localStmt struct {
	st        statement
	paramOIDs []uint32
	wasm      *wasmStmt // a statement that calls wasm functions, described
}

// localPortal is a bound wasql statement.
type localPortal struct {
	stmt   *localStmt
	params [][]byte // as the module needs them: bytes; for a wasm call, as the client sent them
	pfmts  []int16  // a wasm call's: the client's parameter and result formats
	rfmts  []int16
}

// failLocal answers a wasql message of the extended protocol with err, and makes the upstream
// skip to the next Sync as PostgreSQL's own error would.
func (s *Session) failLocal(err error) error {
	if !s.push(expect{local: []pgproto3.BackendMessage{toErrorResponse(err)}}) {
		return nil
	}
	if err := s.forward(&pgproto3.Parse{Query: abortSQL}, expect{kind: 'P', swallowErr: true}, false); err != nil {
		return err
	}
	s.mu.Lock()
	s.failed = true
	s.mu.Unlock()
	return nil
}

func (s *Session) parse(ctx context.Context, m *pgproto3.Parse) error {
	if s.b.cfg.FlushStats != nil && mentionsStats(m.Query) {
		s.statsStmts[m.Name] = true
	} else {
		delete(s.statsStmts, m.Name)
	}
	sts := s.classifyQuery(m.Query)
	if sts == nil {
		delete(s.stmts, m.Name)
		s.beginStmts[m.Name] = startsTransaction(m.Query)
		return s.forward(m, expect{kind: 'P'}, false)
	}
	switch {
	case len(sts) > 1:
		return s.failLocal(errMultiplePrepared)
	case sts[0].kind == stmtMixed:
		return s.failLocal(errMixedDrop)
	case sts[0].err != nil:
		return s.failLocal(sts[0].err)
	}
	if _, ok := s.stmts[m.Name]; ok && m.Name != "" {
		return s.failLocal(sqlError("42P05", fmt.Sprintf("prepared statement %q already exists", m.Name)))
	}
	ls := &localStmt{st: sts[0], paramOIDs: append([]uint32(nil), m.ParameterOIDs...)}
	if sts[0].kind == stmtCall {
		if s.failedPipeline() {
			return nil
		}
		if s.executedWork {
			return s.failLocal(errWasmPipelined)
		}
		if err := s.drain(ctx); err != nil {
			return err
		}
		ws, err := s.describeWasm(ctx, m.Query, m.ParameterOIDs)
		if err != nil {
			return s.failLocal(err)
		}
		ls.wasm = ws
	}
	if !s.push(expect{local: []pgproto3.BackendMessage{&pgproto3.ParseComplete{}}}) {
		return nil
	}
	s.stmts[m.Name] = ls
	return nil
}

// failedPipeline reports whether the upstream skips messages until the next Sync.
func (s *Session) failedPipeline() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (s *Session) bind(ctx context.Context, m *pgproto3.Bind) error {
	if s.statsStmts[m.PreparedStatement] {
		s.flushStats(ctx)
	}
	ls, ok := s.stmts[m.PreparedStatement]
	if !ok {
		delete(s.portals, m.DestinationPortal)
		s.beginPortals[m.DestinationPortal] = s.beginStmts[m.PreparedStatement]
		return s.forward(m, expect{kind: 'B'}, false)
	}
	if ls.wasm != nil {
		if !s.push(expect{local: []pgproto3.BackendMessage{&pgproto3.BindComplete{}}}) {
			return nil
		}
		s.portals[m.DestinationPortal] = &localPortal{stmt: ls, params: m.Parameters,
			pfmts: m.ParameterFormatCodes, rfmts: m.ResultFormatCodes}
		return nil
	}
	params := make([][]byte, len(m.Parameters))
	for i, p := range m.Parameters {
		if p == nil {
			continue
		}
		if formatOf(m.ParameterFormatCodes, i) == 1 { // binary: bytea's binary form is the bytes
			params[i] = append([]byte{}, p...)
			continue
		}
		b, err := sqlfuncs.DecodeModuleText(string(p)) // text: '\x...' hex, or base64
		if err != nil {
			return s.failLocal(err)
		}
		params[i] = b
	}
	if !s.push(expect{local: []pgproto3.BackendMessage{&pgproto3.BindComplete{}}}) {
		return nil
	}
	s.portals[m.DestinationPortal] = &localPortal{stmt: ls, params: params}
	return nil
}

func (s *Session) describe(m *pgproto3.Describe) error {
	var answer []pgproto3.BackendMessage
	switch m.ObjectType {
	case 'S':
		ls, ok := s.stmts[m.Name]
		if !ok {
			return s.forward(m, expect{kind: 'D'}, false)
		}
		answer = []pgproto3.BackendMessage{&pgproto3.ParameterDescription{ParameterOIDs: paramTypes(ls)}, &pgproto3.NoData{}}
		if ls.wasm != nil {
			answer = []pgproto3.BackendMessage{&pgproto3.ParameterDescription{ParameterOIDs: ls.wasm.paramOIDs}, rowsOf(ls.wasm, nil)}
		}
	default:
		lp, ok := s.portals[m.Name]
		if !ok {
			return s.forward(m, expect{kind: 'D'}, false)
		}
		answer = []pgproto3.BackendMessage{&pgproto3.NoData{}}
		if lp.stmt.wasm != nil {
			answer = []pgproto3.BackendMessage{rowsOf(lp.stmt.wasm, lp.rfmts)}
		}
	}
	s.push(expect{local: answer})
	return nil
}

// paramTypes are a wasql statement's parameter types: the client's, else bytea for the module.
func paramTypes(ls *localStmt) []uint32 {
	oids := append([]uint32(nil), ls.paramOIDs...)
	if c, ok := ls.st.ddl.(*sqlfuncs.CreateStmt); ok && c.Module == nil {
		for len(oids) < c.Param {
			oids = append(oids, 0)
		}
		if oids[c.Param-1] == 0 {
			oids[c.Param-1] = 17 // bytea
		}
	}
	return oids
}

func (s *Session) execute(ctx context.Context, m *pgproto3.Execute) error {
	lp, ok := s.portals[m.Portal]
	if !ok {
		s.executed = true
		if !s.beginPortals[m.Portal] {
			s.executedWork = true
		}
		return s.forward(m, expect{kind: 'E'}, false)
	}
	pipelined := s.executed
	s.executed = true
	if err := s.drain(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	failed := s.failed
	s.mu.Unlock()
	if failed {
		return nil // the upstream skips to the Sync: so does wasql
	}
	if lp.stmt.wasm != nil {
		var err error
		switch {
		case s.executedWork:
			err = errWasmPipelined
		case m.MaxRows > 0 && lp.stmt.wasm.rows != nil: // a limit on no rows limits nothing (pgjdbc's executeUpdate)
			err = refuse("fetching the rows of a statement calling wasm functions a few at a time (Execute with a row limit) is not supported through the proxy")
		default:
			if pipelined {
				// Only BEGINs ran since the Sync: the transaction status is not known yet. A
				// Sync inside the block they opened ends nothing.
				err = s.exchange(ctx, nil, &pgproto3.Sync{})
			}
			if err == nil {
				err = s.runWasm(ctx, lp.stmt.wasm, lp.params, lp.pfmts, lp.rfmts, false)
			}
		}
		if err != nil {
			return s.failLocal(wasmError(err))
		}
		return nil
	}
	err := s.inBlock(lp.stmt.st.kind)
	if err == nil && pipelined {
		err = sqlError("25001", what(lp.stmt.st.kind)+" cannot be executed within a pipeline")
	}
	if err == nil {
		err = s.run(ctx, lp.stmt.st, lp.params)
	}
	if err != nil {
		return s.failLocal(err)
	}
	return nil
}

func (s *Session) closeMsg(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		if _, ok := s.stmts[m.Name]; !ok {
			return s.forward(m, expect{kind: 'C'}, false)
		}
		delete(s.stmts, m.Name)
	default:
		if _, ok := s.portals[m.Name]; !ok {
			return s.forward(m, expect{kind: 'C'}, false)
		}
		delete(s.portals, m.Name)
	}
	s.push(expect{local: []pgproto3.BackendMessage{&pgproto3.CloseComplete{}}})
	return nil
}
