package upstream

import (
	"context"
	"errors"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// Statements that call wasm functions, on either protocol. At Parse (or a simple Query) wasql
// finds the calls and refuses what it cannot plan; PostgreSQL describes the statement with the
// calls pointed at their stubs in schema wasql, so parameter and result types, overloads and
// implicit casts resolve as they do for PostgreSQL's own functions. At Execute the calls are
// evaluated (memo.go) and PostgreSQL runs the rewritten statement, whose rows go to the client as
// PostgreSQL sends them. Outside a transaction block the whole runs in one REPEATABLE READ
// transaction of wasql's, so the arguments prepared and the rows read are one snapshot; inside
// one it is the client's transaction, which sees and owns everything.

// wasmStmt is a statement that calls wasm functions, described.
type wasmStmt struct {
	sql       string
	paramOIDs []uint32
	rows      *pgproto3.RowDescription // nil: the statement returns no rows
}

// isWasmName reports whether name is a wasm function's.
func (b *Backend) isWasmName(name string) bool {
	_, ok := b.currentNames().names[name]
	return ok
}

// parseOne parses a statement that calls wasm functions: exactly one.
func parseOne(sql string) (*pg_query.ParseResult, error) {
	tree, err := parseCached(sql)
	if err != nil {
		return nil, err
	}
	if len(tree.Stmts) != 1 {
		return nil, refuse("a statement calling wasm functions must be sent alone, not with other statements in one query")
	}
	return tree, nil
}

// target is the statement planned: the statement itself, or what an EXPLAIN explains.
func target(tree *pg_query.ParseResult) (*pg_query.Node, *pg_query.ExplainStmt) {
	n := tree.Stmts[0].Stmt
	if e := n.GetExplainStmt(); e != nil {
		return e.Query, e
	}
	return n, nil
}

// describeWasm asks the upstream to describe sql with its wasm calls pointed at their stubs.
func (s *Session) describeWasm(ctx context.Context, sql string, oids []uint32) (*wasmStmt, error) {
	tree, err := parseOne(sql)
	if err != nil {
		return nil, err
	}
	stmt, _ := target(tree)
	calls, err := findCalls(stmt, s.b.isWasmName, s.b.aggregates(ctx, s))
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		c.fc.Funcname = []*pg_query.Node{pg_query.MakeStrNode("wasql"), pg_query.MakeStrNode(c.name)}
	}
	stub, err := pg_query.Deparse(tree)
	if err != nil {
		return nil, err
	}
	ws := &wasmStmt{sql: sql}
	err = s.exchange(ctx, func(msg []byte) error {
		switch msg[0] {
		case 't':
			var pd pgproto3.ParameterDescription
			if err := pd.Decode(msg[5:]); err != nil {
				return err
			}
			ws.paramOIDs = pd.ParameterOIDs
		case 'T':
			var rd pgproto3.RowDescription
			if err := rd.Decode(append([]byte(nil), msg[5:]...)); err != nil {
				return err
			}
			ws.rows = &rd
		}
		return nil
	}, &pgproto3.Parse{Query: stub, ParameterOIDs: oids}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Sync{})
	if err != nil {
		return nil, unstub(err)
	}
	return ws, nil
}

// unstub words PostgreSQL's errors about a stub as they would be about the function.
func unstub(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		c := *pe
		c.Message = strings.ReplaceAll(c.Message, "wasql.", "")
		c.Position = 0
		if c.Code == "3F000" { // schema "wasql" does not exist: not the catalog's database
			return refuse("wasm functions can be called only in the database that holds wasql's catalog")
		}
		return &c
	}
	return err
}

// aggregates returns the names of the upstream's aggregate functions, read at most once a
// minute (on the session asking; the others use the names read before meanwhile).
func (b *Backend) aggregates(ctx context.Context, s *Session) map[string]bool {
	b.aggMu.Lock()
	cached, at := b.aggs, b.aggsAt
	b.aggMu.Unlock()
	if cached != nil && time.Since(at) < time.Minute {
		return cached
	}
	aggs := map[string]bool{}
	err := s.exchange(ctx, func(msg []byte) error {
		if msg[0] == 'D' {
			v, err := dataRow(msg[5:], nil)
			if err == nil && len(v) == 1 {
				aggs[string(v[0])] = true
			}
		}
		return nil
	}, &pgproto3.Query{String: "SELECT DISTINCT proname FROM pg_catalog.pg_proc WHERE prokind = 'a'"})
	if err != nil {
		if cached != nil {
			return cached
		}
		return map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}
	}
	b.aggMu.Lock()
	b.aggs, b.aggsAt = aggs, time.Now()
	b.aggMu.Unlock()
	return aggs
}

// aggState is the Backend's cache of aggregate names.
type aggState struct {
	aggMu  sync.Mutex
	aggs   map[string]bool
	aggsAt time.Time
}

// runWasm executes a described statement with the client's parameters. rowDesc says whether the
// client gets the RowDescription (a simple Query) before the rows.
func (s *Session) runWasm(ctx context.Context, ws *wasmStmt, params [][]byte, pfmts, rfmts []int16, rowDesc bool) (err error) {
	ctx, done := s.track(ctx)
	defer done()
	defer s.b.retired.end(s.b.retired.begin()) // the functions it resolves stay open until it ends
	inBlock := s.status() == 'T'
	switch s.status() {
	case 'E':
		return errInFailedTx
	case 'I':
		// Sent with the next exchange: one round trip fewer.
		s.prefix = append(s.prefix, statementMsgs("BEGIN ISOLATION LEVEL REPEATABLE READ")...)
		defer func() {
			s.prefix = nil
			if err != nil && s.status() != 'I' {
				_ = s.simple(context.WithoutCancel(ctx), "ROLLBACK")
			}
		}()
	}
	tree, err := parseOne(ws.sql)
	if err != nil {
		return err
	}
	stmt, explain := target(tree)
	calls, err := findCalls(stmt, s.b.isWasmName, s.b.aggregates(ctx, s))
	if err != nil {
		return err
	}
	for _, c := range calls {
		c.orig = proto.Clone(c.node).(*pg_query.Node)
	}
	st := udf.NewStatement()
	defer st.Close()
	if stats := s.b.cfg.Stats; stats != nil {
		defer func() { stats.used(st.Uses()) }()
	}
	notices := &noticeBuf{}
	st.SetLog(notices.log())
	defer func() {
		if err != nil { // the notices raised before the error, as PostgreSQL sends them
			notices.send(s.out)
		}
	}()
	x := &wasmExec{s: s, ctx: ctx, st: st, notices: notices, params: params, pfmts: pfmts, poids: ws.paramOIDs, memos: map[string]*memo{}, inBlock: inBlock}
	// After the statement, in the same exchange: the memos' functions dropped (and, in the
	// client's block, their tables: in wasql's transaction they go with it), and wasql's
	// transaction committed.
	x.after = func(commit bool) []pgproto3.FrontendMessage {
		var after []pgproto3.FrontendMessage
		if len(x.funcs) > 0 {
			after = append(after, statementMsgs("DROP FUNCTION "+strings.Join(x.funcs, ", "))...)
		}
		if inBlock && len(x.tables) > 0 {
			after = append(after, statementMsgs("DROP TABLE "+strings.Join(x.tables, ", "))...)
		}
		if !inBlock && commit {
			after = append(after, statementMsgs("COMMIT")...)
		}
		return after
	}
	if explain != nil {
		err = x.explain(stmt, explain, calls, ws, rowDesc)
		if err == nil {
			err = s.exchange(ctx, nil, append(x.after(true), &pgproto3.Sync{})...)
		}
		return err
	}
	return x.execute(tree, stmt, calls, ws, rfmts, rowDesc)
}

// statementMsgs are the extended-protocol messages that run sql (no Sync).
func statementMsgs(sql string) []pgproto3.FrontendMessage {
	return []pgproto3.FrontendMessage{&pgproto3.Parse{Query: sql}, &pgproto3.Bind{}, &pgproto3.Execute{}}
}

// planAll plans the calls: those of the select list that can be, on the stream, the others
// into memos. It returns the stream's plan (nil: none) and the result formats to ask of the
// upstream.
func (x *wasmExec) planAll(stmt *pg_query.Node, calls []*wasmCall, rfmts []int16) (*streamPlan, []int16, error) {
	var streamed map[*wasmCall]bool
	if !memoOnly {
		streamed = x.streamable(stmt, calls, rfmts)
	}
	var rest []*wasmCall
	for _, c := range calls {
		if !streamed[c] {
			rest = append(rest, c)
		}
	}
	if err := x.plan(rest); err != nil {
		return nil, nil, unstub(err)
	}
	if len(streamed) == 0 {
		return nil, rfmts, nil
	}
	sp, err := x.streamRewrite(stmt, streamed, calls, rfmts)
	if err != nil {
		return nil, nil, err
	}
	return sp, sp.formats, nil
}

// execute plans the statement and runs it; its rows go to the client.
func (x *wasmExec) execute(tree *pg_query.ParseResult, stmt *pg_query.Node, calls []*wasmCall, ws *wasmStmt, rfmts []int16, rowDesc bool) error {
	sp, upFormats, err := x.planAll(stmt, calls, rfmts)
	if err != nil {
		return err
	}
	final, err := pg_query.Deparse(tree)
	if err != nil {
		return err
	}
	if rowDesc && ws.rows != nil {
		x.s.out.Send(ws.rows)
	}
	_, err = x.runFinal(final, sp, upFormats, false)
	return err
}

// runFinal runs the rewritten statement: its rows (computed on the stream by sp, if any) go
// to the client, or nowhere with discard (EXPLAIN ANALYZE). It returns the stream's counts.
func (x *wasmExec) runFinal(final string, sp *streamPlan, upFormats []int16, discard bool) (*streamer, error) {
	if debugPlan {
		log.Printf("wasql plan: %s", final)
	}
	s := x.s
	var str *streamer
	if sp != nil {
		str = newStreamer(x, sp)
		defer str.close()
		str.discard = discard
	}
	// The COMMIT goes with the statement unless rows are computed on the stream: an error of
	// wasql's there must still roll back what the statement wrote (RETURNING).
	var after []pgproto3.FrontendMessage
	if !discard {
		after = x.after(sp == nil)
	}
	results := 0 // CommandCompletes: the statement's is the first
	err := s.exchange(x.ctx, func(msg []byte) error {
		switch msg[0] {
		case 'D':
			if str != nil {
				return str.row(x.ctx, msg[5:])
			}
			if discard {
				return nil
			}
			return s.relayBytes(msg)
		case 'C', 'I':
			results++
			if results > 1 {
				return nil // what runs after the statement
			}
			if str != nil {
				if err := str.flush(x.ctx); err != nil {
					return err
				}
			}
			if discard {
				return nil
			}
			x.notices.send(s.out) // the guests' output lines, before the statement's end
			return s.relayBytes(msg)
		}
		return nil
	}, append([]pgproto3.FrontendMessage{&pgproto3.Parse{Query: final, ParameterOIDs: x.poids},
		&pgproto3.Bind{Parameters: x.params, ParameterFormatCodes: x.pfmts, ResultFormatCodes: upFormats},
		&pgproto3.Execute{}}, append(after, &pgproto3.Sync{})...)...)
	if err == nil && sp != nil && !discard && s.status() == 'T' && !x.inBlock {
		err = s.simple(x.ctx, "COMMIT")
	}
	return str, err
}

// wasmError is how a wasm statement's error that is not PostgreSQL's reaches the client.
func wasmError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if pe.Code == "42P22" || pe.Code == "42P21" { // see withCollation
			return refuse("a text result of a wasm function under a collation other than the database's is not supported through the proxy (PostgreSQL: %s)", pe.Message)
		}
		return err
	}
	if sqlstate.Of(err) == "" {
		return sqlError("XX000", err.Error())
	}
	return err
}

// rowsOf is the RowDescription of a described statement with the result formats of a Bind (nil:
// text), or NoData.
func rowsOf(ws *wasmStmt, rfmts []int16) pgproto3.BackendMessage {
	if ws.rows == nil {
		return &pgproto3.NoData{}
	}
	rd := &pgproto3.RowDescription{Fields: append([]pgproto3.FieldDescription(nil), ws.rows.Fields...)}
	for i := range rd.Fields {
		rd.Fields[i].Format = formatOf(rfmts, i)
	}
	return rd
}

// debugPlan (WASQL_DEBUG_PLAN=1) logs the statements wasql sends for wasm calls.
var debugPlan = os.Getenv("WASQL_DEBUG_PLAN") != ""

// memoOnly (WASQL_PROXY_STRATEGY=memo) computes every call through memos, the stream unused:
// how bench/proxy-wasm.sh measures one design against the other.
var memoOnly = os.Getenv("WASQL_PROXY_STRATEGY") == "memo"

// runMany runs a simple Query of several statements some of which call wasm functions, one
// statement at a time, as PostgreSQL runs such a query: in one implicit transaction (unless its
// statements control transactions themselves), stopping at the first error.
func (s *Session) runMany(ctx context.Context, sts []statement) (err error) {
	control := false
	for _, st := range sts {
		switch st.kind {
		case stmtCreate, stmtDrop, stmtMixed:
			return refuse("%s cannot be combined with other statements in one query: send it alone", what(st.kind))
		}
		if tree, err := pg_query.Parse(st.text); err == nil && len(tree.Stmts) == 1 {
			n := tree.Stmts[0].Stmt
			if n.GetTransactionStmt() != nil {
				control = true
			}
			if c := n.GetCopyStmt(); c != nil && c.IsFrom {
				return refuse("COPY ... FROM cannot be combined in one query with statements calling wasm functions: send it alone")
			}
		}
	}
	if !control && s.status() == 'I' {
		if err := s.simple(ctx, "BEGIN"); err != nil {
			return err
		}
		defer func() {
			end := "COMMIT"
			if err != nil {
				end = "ROLLBACK"
			}
			if e := s.simple(context.WithoutCancel(ctx), end); e != nil && err == nil {
				err = e
			}
		}()
	}
	for _, st := range sts {
		if st.kind == stmtCall {
			ws, err := s.describeWasm(ctx, st.text, nil)
			if err != nil {
				return err
			}
			if err := s.runWasm(ctx, ws, nil, nil, nil, true); err != nil {
				return err
			}
			continue
		}
		if s.status() == 'E' {
			return errInFailedTx
		}
		err := s.exchange(ctx, func(msg []byte) error {
			switch msg[0] {
			case 'T', 'D', 'C', 'I', 'H', 'd', 'c':
				return s.relayBytes(msg)
			}
			return nil
		}, &pgproto3.Query{String: st.text})
		if err != nil {
			return err
		}
	}
	return nil
}

// parsed caches parse trees by statement text: a statement calling wasm functions is parsed
// when classified, described and run, and a client runs the same ones again. Callers get a
// copy, theirs to rewrite.
var parsed struct {
	sync.Mutex
	trees map[string]*pg_query.ParseResult
}

const parsedMax = 512

func parseCached(sql string) (*pg_query.ParseResult, error) {
	parsed.Lock()
	t := parsed.trees[sql]
	parsed.Unlock()
	if t == nil {
		var err error
		if t, err = pg_query.Parse(sql); err != nil {
			return nil, err
		}
		parsed.Lock()
		if parsed.trees == nil || len(parsed.trees) >= parsedMax {
			parsed.trees = map[string]*pg_query.ParseResult{} // simple: forget them all
		}
		parsed.trees[sql] = t
		parsed.Unlock()
	}
	return proto.Clone(t).(*pg_query.ParseResult), nil
}

// noticeBuf collects a wasm statement's guest output lines (udf.Log) as NOTICEs, sent to the
// client before the statement's CommandComplete (or its error). Batches evaluated in parallel
// add to it concurrently.
type noticeBuf struct {
	mu sync.Mutex
	ms []*pgproto3.NoticeResponse
}

func (b *noticeBuf) log() *udf.Log {
	return udf.NewLog(func(msg string) func(string) {
		n := &pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000", Message: msg}
		b.mu.Lock()
		b.ms = append(b.ms, n)
		b.mu.Unlock()
		return func(msg string) {
			b.mu.Lock()
			n.Message = msg
			b.mu.Unlock()
		}
	})
}

// send sends the notices collected so far.
func (b *noticeBuf) send(out Writer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.ms {
		out.Send(n)
	}
	b.ms = nil
}
