package upstream

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// Streaming the select list: a column of the outermost SELECT that is a wasm call (nested
// calls included) is computed as the rows stream to the client. PostgreSQL sends the call's
// arguments in place of the column (binary), wasql evaluates them batch-at-a-time and sends each
// row on with the result in the column's place. Every row the client gets meets the call once,
// and no other does: this is the one place VOLATILE functions are evaluated, and the fastest
// path for the common `SELECT id, f(s) FROM t`. Memory is bounded by one batch.

// streamBatch is how many rows are evaluated at once.
const streamBatch = 4096

// streamCall is a call evaluated on the stream: its arguments are columns PostgreSQL sends, or
// other calls.
type streamCall struct {
	ov   *sqlfuncs.Overload
	args []streamArg
	res  udf.Column
}

type streamArg struct {
	col  int // the upstream column, when call is nil
	call *streamCall
}

// streamOut is one column the client gets: an upstream column as it came, or a call's result.
type streamOut struct {
	pass   int
	call   *streamCall
	format int16
}

// streamPlan is the select list computed on the stream.
type streamPlan struct {
	outs    []streamOut
	cols    int        // columns the upstream sends
	leafs   []int      // upstream columns that are call arguments (decoded)
	types   []udf.Type // their types, by upstream column (0: passed through)
	formats []int16    // the result formats asked of the upstream
	calls   []*streamCall
}

// streamable picks the columns of the outermost select list that can be computed on the
// stream, and returns the calls they hold (the memo plans the others). rfmts are the client's
// result formats (nil: text).
func (x *wasmExec) streamable(stmt *pg_query.Node, calls []*wasmCall, rfmts []int16) map[*wasmCall]bool {
	list, sel := topList(stmt)
	if list == nil {
		return nil
	}
	if sel != nil && (sel.Op != pg_query.SetOperation_SETOP_NONE || len(sel.ValuesLists) > 0 || len(sel.DistinctClause) > 0 || sel.IntoClause != nil) {
		return nil
	}
	for _, t := range *list {
		if hasAnyStar(t) {
			return nil
		}
	}
	byNode := map[*pg_query.Node]*wasmCall{}
	for _, c := range calls {
		byNode[c.node] = c
	}
	out := map[*wasmCall]bool{}
	for i, t := range *list {
		rt := t.GetResTarget()
		c := byNode[rt.GetVal()]
		if c == nil || (sel != nil && c.blk.sel != sel) || (sel == nil && !c.blk.returning) || (c.lvl != rowLevel && c.lvl != groupLevel && c.lvl != constLevel) {
			continue
		}
		if sel != nil && referenced(sel, i, rt.Name) {
			continue
		}
		if c.lvl == groupLevel && c.blk.inGroupBy(x.original(c)) {
			continue // PostgreSQL groups by it: it needs its value
		}
		tree, ok := x.chain(c, byNode)
		if !ok {
			continue
		}
		format := formatOf(rfmts, i)
		ov, err := x.resolve(c)
		if err != nil || !x.formats(ov.Result, format) {
			continue
		}
		for _, cc := range tree {
			out[cc] = true
		}
	}
	return out
}

// topList is the list of the columns the client gets: the outermost select list, or the
// RETURNING list of an INSERT, UPDATE or DELETE (sel nil).
func topList(stmt *pg_query.Node) (list *[]*pg_query.Node, sel *pg_query.SelectStmt) {
	switch x := stmt.Node.(type) {
	case *pg_query.Node_SelectStmt:
		return &x.SelectStmt.TargetList, x.SelectStmt
	case *pg_query.Node_InsertStmt:
		return &x.InsertStmt.ReturningList, nil
	case *pg_query.Node_UpdateStmt:
		return &x.UpdateStmt.ReturningList, nil
	case *pg_query.Node_DeleteStmt:
		return &x.DeleteStmt.ReturningList, nil
	}
	return nil, nil
}

// chain returns c and the calls in its arguments when every call of them is an argument as a
// whole (f(g(x)), not f(g(x) + 1)): what the stream can compute.
func (x *wasmExec) chain(c *wasmCall, byNode map[*pg_query.Node]*wasmCall) ([]*wasmCall, bool) {
	out := []*wasmCall{c}
	direct := map[*wasmCall]bool{}
	for _, a := range c.fc.Args {
		if ic := byNode[a]; ic != nil {
			direct[ic] = true
			sub, ok := x.chain(ic, byNode)
			if !ok {
				return nil, false
			}
			out = append(out, sub...)
		}
	}
	for _, ic := range c.inner {
		if !direct[ic] && !containsCall(out, ic) {
			return nil, false
		}
	}
	return out, true
}

func containsCall(cs []*wasmCall, c *wasmCall) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// formats reports whether wasql can send a result of type t in format: binary always; text for
// the types whose text PostgreSQL writes one way whatever the settings.
func (x *wasmExec) formats(t udf.Type, format int16) bool {
	if format == 1 {
		return true
	}
	switch t {
	case udf.Smallint, udf.Integer, udf.Bigint, udf.Boolean:
		return true
	case udf.Text, udf.JSON:
		x.s.mu.Lock()
		defer x.s.mu.Unlock()
		return x.s.clientUTF8
	}
	return false
}

func hasAnyStar(n *pg_query.Node) bool {
	found := false
	visit(n, func(m *pg_query.Node) bool {
		if _, ok := m.Node.(*pg_query.Node_SubLink); ok {
			return false
		}
		if m.GetAStar() != nil {
			found = true
		}
		return !found
	})
	return found
}

// referenced reports whether ORDER BY, GROUP BY or DISTINCT ON names output column i (by
// position or by its name): then PostgreSQL needs its value.
func referenced(sel *pg_query.SelectStmt, i int, name string) bool {
	refs := append(append([]*pg_query.Node{}, sel.GroupClause...), sel.DistinctClause...)
	for _, s := range sel.SortClause {
		refs = append(refs, s.GetSortBy().GetNode())
	}
	for _, r := range refs {
		if ac := r.GetAConst(); ac != nil && ac.GetIval() != nil && int(ac.GetIval().Ival) == i+1 {
			return true
		}
		if cr := r.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && name != "" && cr.Fields[0].GetString_().GetSval() == name {
			return true
		}
	}
	return false
}

// streamRewrite replaces the streamed columns of the select list with their calls' arguments
// and returns the plan of the stream.
func (x *wasmExec) streamRewrite(stmt *pg_query.Node, streamed map[*wasmCall]bool, calls []*wasmCall, rfmts []int16) (*streamPlan, error) {
	list, _ := topList(stmt)
	byNode := map[*pg_query.Node]*wasmCall{}
	for _, c := range calls {
		byNode[c.node] = c
	}
	p := &streamPlan{}
	var targets []*pg_query.Node
	var build func(c *wasmCall) (*streamCall, error)
	build = func(c *wasmCall) (*streamCall, error) {
		ov, err := x.resolve(c)
		if err != nil {
			return nil, err
		}
		if ov.Broken != nil {
			return nil, ov.Broken
		}
		sc := &streamCall{ov: ov}
		for i, a := range c.fc.Args {
			if ic := byNode[a]; ic != nil {
				sub, err := build(ic)
				if err != nil {
					return nil, err
				}
				sc.args = append(sc.args, streamArg{call: sub})
				continue
			}
			txt, err := deparseExpr(a)
			if err != nil {
				return nil, err
			}
			n, err := parseExpr("(" + txt + ")::" + pgType[ov.Args[i]].name)
			if err != nil {
				return nil, err
			}
			sc.args = append(sc.args, streamArg{col: len(targets)})
			p.leafs = append(p.leafs, len(targets))
			p.types = append(p.types, ov.Args[i])
			p.formats = append(p.formats, 1)
			// Named apart: ORDER BY x must still name one column.
			targets = append(targets, &pg_query.Node{Node: &pg_query.Node_ResTarget{ResTarget: &pg_query.ResTarget{
				Name: fmt.Sprintf("wasql_a%d", len(targets)+1), Val: n}}})
		}
		p.calls = append(p.calls, sc)
		return sc, nil
	}
	for i, t := range *list {
		format := formatOf(rfmts, i)
		if c := byNode[t.GetResTarget().GetVal()]; c != nil && streamed[c] {
			sc, err := build(c)
			if err != nil {
				return nil, err
			}
			p.outs = append(p.outs, streamOut{pass: -1, call: sc, format: format})
			continue
		}
		p.outs = append(p.outs, streamOut{pass: len(targets), format: format})
		p.types = append(p.types, 0)
		p.formats = append(p.formats, format)
		targets = append(targets, t)
	}
	*list = targets
	p.cols = len(targets)
	return p, nil
}

// streamer evaluates a stream plan over the rows PostgreSQL sends and passes them on. With
// one call of a PARALLEL SAFE function, batches go to an evaluator (evalpool.go) whose workers
// evaluate several at once; the rows still leave in the order they came.
type streamer struct {
	x     *wasmExec
	p     *streamPlan
	cur   *rowBatch
	free  []*rowBatch
	buf   []byte
	sent  int
	sess  map[*streamCall]*udf.Session
	ev    *evaluator // nil: calls evaluated in turn, in this goroutine
	evArg []int      // the upstream columns the evaluator's call takes
	// discard: the rows go nowhere (EXPLAIN ANALYZE); batches and evalTime are counted.
	discard  bool
	batches  int
	evalTime time.Duration
}

// rowBatch is one batch of upstream rows.
type rowBatch struct {
	arena []byte       // the DataRow bodies
	ends  []int        // where each ends in arena
	rows  [][][]byte   // the values, by row, once split
	vals  [][]byte     // backs rows
	cols  []udf.Column // the decoded arguments, by upstream column
}

func newStreamer(x *wasmExec, p *streamPlan) *streamer {
	st := &streamer{x: x, p: p, sess: map[*streamCall]*udf.Session{}}
	if len(p.calls) == 1 && p.calls[0].ov.Def.Parallel == "SAFE" && runtime.GOMAXPROCS(0) > 1 {
		c := p.calls[0]
		st.ev = newEvaluator(x.ctx, x.st, c.ov.Fn, true, runtime.GOMAXPROCS(0))
		for _, a := range c.args {
			st.evArg = append(st.evArg, a.col)
		}
		return st
	}
	for _, c := range p.calls {
		st.sess[c] = x.st.Session(c.ov.Fn)
	}
	return st
}

// close stops the evaluator's workers.
func (st *streamer) close() {
	if st.ev != nil {
		st.ev.Close()
	}
}

// row takes one DataRow of the upstream.
func (st *streamer) row(ctx context.Context, body []byte) error {
	if st.cur == nil {
		if n := len(st.free); n > 0 {
			st.cur, st.free = st.free[n-1], st.free[:n-1]
		} else {
			st.cur = &rowBatch{cols: make([]udf.Column, st.p.cols), vals: make([][]byte, streamBatch*st.p.cols)}
		}
	}
	b := st.cur
	b.arena = append(b.arena, body...)
	b.ends = append(b.ends, len(b.arena))
	if len(b.ends) >= streamBatch {
		return st.submit(ctx)
	}
	return nil
}

// flush evaluates what is left and sends every row.
func (st *streamer) flush(ctx context.Context) error {
	if err := st.submit(ctx); err != nil {
		return err
	}
	for st.ev != nil && st.ev.Pending() > 0 {
		if err := st.next(); err != nil {
			return err
		}
	}
	return nil
}

// submit splits and decodes the current batch and evaluates it, or puts it to the evaluator.
func (st *streamer) submit(ctx context.Context) error {
	b := st.cur
	if b == nil || len(b.ends) == 0 {
		return nil
	}
	st.cur = nil
	n := len(b.ends)
	b.rows = b.rows[:0]
	start := 0
	for r := 0; r < n; r++ {
		v, err := dataRow(b.arena[start:b.ends[r]], b.vals[r*st.p.cols:r*st.p.cols])
		if err != nil {
			return err
		}
		if len(v) != st.p.cols {
			return fmt.Errorf("upstream sent %d columns, want %d", len(v), st.p.cols)
		}
		b.rows = append(b.rows, v)
		start = b.ends[r]
	}
	for _, col := range st.p.leafs {
		c := &b.cols[col]
		c.Reset(st.p.types[col], n)
		for r := 0; r < n; r++ {
			if err := decodeBinary(c, r, b.rows[r][col]); err != nil {
				return err
			}
		}
	}
	st.batches++
	if st.ev != nil {
		args := make([]udf.Column, len(st.evArg))
		for i, col := range st.evArg {
			args[i] = b.cols[col]
		}
		st.ev.Put(n, args, b)
		for st.ev.Full() {
			if err := st.next(); err != nil {
				return err
			}
		}
		return nil
	}
	t0 := time.Now()
	for _, c := range st.p.calls { // inner calls come first
		args := make([]udf.Column, len(c.args))
		for i, a := range c.args {
			if a.call != nil {
				args[i] = a.call.res
			} else {
				args[i] = b.cols[a.col]
			}
		}
		res, err := st.sess[c].Eval(ctx, n, args...)
		if err != nil {
			return err
		}
		c.res = res
	}
	st.evalTime += time.Since(t0)
	return st.emit(b)
}

// next takes the evaluator's oldest result and sends its batch.
func (st *streamer) next() error {
	t0 := time.Now()
	res, _, tag, err := st.ev.Next()
	st.evalTime += time.Since(t0)
	if err != nil {
		return err
	}
	st.p.calls[0].res = res
	return st.emit(tag.(*rowBatch))
}

// emit sends a batch's rows with their results, and keeps the batch for reuse.
func (st *streamer) emit(bt *rowBatch) error {
	for r, row := range bt.rows {
		b := append(st.buf[:0], 'D', 0, 0, 0, 0)
		b = be.AppendUint16(b, uint16(len(st.p.outs)))
		for _, o := range st.p.outs {
			if o.call == nil {
				b = appendBytes(b, row[o.pass])
				continue
			}
			if t := o.call.res.Type; (t == udf.Text || t == udf.JSON) && !o.call.res.IsNull(r) && bytes.IndexByte(o.call.res.Bytes[r], 0) >= 0 {
				return sqlError("22021", fmt.Sprintf("%s returned text with a NUL byte, which PostgreSQL's text cannot hold", o.call.ov.Def.Key()))
			}
			if o.format == 1 {
				b = appendBinary(b, &o.call.res, r)
			} else {
				b = appendText(b, &o.call.res, r)
			}
		}
		be.PutUint32(b[1:], uint32(len(b)-1))
		st.buf = b
		if st.discard {
			continue
		}
		if err := st.x.s.relayBytes(b); err != nil {
			return err
		}
	}
	st.sent += len(bt.rows)
	bt.arena, bt.ends, bt.rows = bt.arena[:0], bt.ends[:0], bt.rows[:0]
	st.free = append(st.free, bt)
	return nil
}

// appendText appends row i of c in PostgreSQL's text format (the types formats allows).
func appendText(b []byte, c *udf.Column, i int) []byte {
	if c.IsNull(i) {
		return be.AppendUint32(b, 0xFFFFFFFF)
	}
	switch c.Type {
	case udf.Boolean:
		if c.Ints[i] != 0 {
			return append(be.AppendUint32(b, 1), 't')
		}
		return append(be.AppendUint32(b, 1), 'f')
	case udf.Smallint, udf.Integer, udf.Bigint:
		s := strconv.FormatInt(c.Ints[i], 10)
		return append(be.AppendUint32(b, uint32(len(s))), s...)
	}
	return append(be.AppendUint32(b, uint32(len(c.Bytes[i]))), c.Bytes[i]...)
}
