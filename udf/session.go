package udf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/wasql/wasql/internal/wiretext"
	"github.com/wasql/wasql/udf/internal/rewrite"
)

var le = binary.LittleEndian

// asBytes views 8-byte values as their bytes in memory. Wasm memory is little-endian, and so are
// the hosts wazero compiles for (amd64, arm64), so 8-byte columns cross with one copy.
func asBytes[T int64 | float64](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
}

func init() {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		panic("wasql needs a little-endian host")
	}
}

// Session is one query's use of a function. It keeps one instance across the query's batches and
// resets it on Close, so no guest state reaches the next query (unless the function keeps state).
// A Session of its own (Function.Session) is not safe for concurrent use; one of a Statement is.
type Session struct {
	f         *Function
	in        *instance
	part      Column     // the result of one batch, when a call takes several
	st        *Statement // the statement it belongs to, if any
	mu        sync.Mutex // serializes the calls of a statement's session
	bisecting bool       // rerunning a trapped batch in halves: the guest's output is not logged again
	// extra: one of the statement's extra sessions (Statement.TrySession), closed by its own
	// Close.
	extra bool
	use   *use // the statement's counters of f, nil outside a statement
}

// Session opens a session. It takes an instance from the pool at the first Eval.
func (f *Function) Session() *Session { return &Session{f: f} }

// Close resets the session's instance and returns it to the pool. Closing a session of a
// Statement does nothing: Statement.Close closes it; but an extra session of a statement
// (Statement.TrySession) closes here.
func (s *Session) Close() {
	switch {
	case s.extra:
		s.st.mu.Lock()
		delete(s.st.extras, s)
		s.st.mu.Unlock()
		s.mu.Lock()
		s.close()
		s.mu.Unlock()
	case s.st == nil:
		s.close()
	}
}

func (s *Session) close() {
	if s.in != nil {
		s.f.pool.put(s.in, s.in.reset())
		s.in = nil
		s.held(-1)
	}
}

func (s *Session) held(d int32) {
	if st := s.st; st != nil {
		st.mu.Lock()
		if st.held.Add(d) == d && d > 0 { // it held nothing: wake its sessions waiting for a slot
			close(st.wake)
			st.wake = make(chan struct{})
		}
		st.mu.Unlock()
	}
}

// lend reports whether the session's pool should lend it an instance rather than make it wait
// (it belongs to a statement that holds instances, or is an extra one), and else what ends its
// wait early: the statement coming to hold an instance while it waits.
func (s *Session) lend() (bool, <-chan struct{}) {
	switch {
	case s.extra:
		return true, nil
	case s.st == nil:
		return false, nil
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.held.Load() > 0, s.st.wake
}

func (s *Session) instance(ctx context.Context) (*instance, error) {
	if s.in == nil {
		lend, wake := s.lend()
		in, err := s.f.pool.get(ctx, lend, wake)
		for errors.Is(err, errWoken) {
			lend, wake = s.lend()
			in, err = s.f.pool.get(ctx, lend, wake)
		}
		switch {
		case errors.Is(err, errClosed):
			return nil, newError(KindCanceled, s.f.def.Name, "%v", err)
		case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, &Error{Kind: KindCanceled, Function: s.f.def.Name, Row: -1, Message: "canceling statement due to statement timeout (waiting for an instance)", Err: err,
				Hint: fmt.Sprintf("all %d instances of the function were busy; raise the pool size (udf.Config.WithPoolSize) or the statement timeout", s.f.pool.size)}
		case err != nil && ctx.Err() != nil:
			return nil, &Error{Kind: KindCanceled, Function: s.f.def.Name, Row: -1, Message: "canceling statement due to user request", Err: err}
		case err != nil:
			return nil, err
		}
		s.in = in
		s.held(1)
	}
	return s.in, nil
}

func (s *Session) discard() {
	s.f.pool.put(s.in, false)
	s.in = nil
	s.held(-1)
}

// Statement is one SQL statement's use of wasm functions. Every call of one function within the
// statement shares one Session, so one instance; and once the statement holds an instance it
// never waits for another (a pool at its size lends it one more, within the memory budget), and
// a session of it that was waiting for a slot when the statement came to hold one (sessions used
// concurrently) stops waiting and is lent one. So statements cannot deadlock on instances,
// whatever functions they call, in which order, from how many goroutines.
// A Statement is safe for concurrent use.
type Statement struct {
	mu       sync.Mutex
	sessions map[*Function]*Session
	extras   map[*Session]struct{} // TrySession's sessions not closed yet
	uses     map[*Function]*use    // what its sessions did, by function (Uses)
	held     atomic.Int32          // instances its sessions hold; changed under mu
	wake     chan struct{}         // closed when held leaves 0, then replaced
	log      *Log                  // where its guests' output lines go (SetLog)
}

// SetLog sends the output lines of the statement's guest calls to l (before its first Eval).
func (st *Statement) SetLog(l *Log) { st.log = l }

// NewStatement returns an empty statement.
func NewStatement() *Statement {
	return &Statement{sessions: map[*Function]*Session{}, extras: map[*Session]struct{}{}, wake: make(chan struct{})}
}

// TrySession opens one more session of f for the statement, for a worker that evaluates f beside
// the statement's own session (Session(f)), on an instance of its own. It takes that instance at
// once, and only if f's pool can give one without waiting: a free slot, filled with an idle
// instance or a new one. Otherwise (the pool is at its size, f was closed, the memory budget
// refuses a new instance) it returns false, and the caller makes do with the sessions it has.
// The session belongs to the statement: its instance counts as one the statement holds, it never
// waits for an instance later either (a trapped instance is replaced at once), and
// Statement.Close closes it if Session.Close has not. Like a session of its own, it is not safe
// for concurrent use.
func (st *Statement) TrySession(ctx context.Context, f *Function) (*Session, bool) {
	in, ok := f.pool.tryGet(ctx)
	if !ok {
		return nil, false
	}
	s := &Session{f: f, in: in, st: st, extra: true}
	s.held(1)
	st.mu.Lock()
	s.use = st.useOf(f)
	st.extras[s] = struct{}{}
	st.mu.Unlock()
	return s, true
}

// Session returns the statement's session of f, opening it at the first call.
func (st *Statement) Session(f *Function) *Session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[f]
	if !ok {
		s = &Session{f: f, st: st, use: st.useOf(f)}
		st.sessions[f] = s
	}
	return s
}

// use counts one function's evaluations within a statement.
type use struct {
	evals, rows, batches, errors, nanos atomic.Int64
}

// useOf returns the counters of f; st.mu is held.
func (st *Statement) useOf(f *Function) *use {
	if st.uses == nil {
		st.uses = map[*Function]*use{}
	}
	u := st.uses[f]
	if u == nil {
		u = &use{}
		st.uses[f] = u
	}
	return u
}

// Use is what a statement did with one function.
type Use struct {
	Function                     *Function
	Evals, Rows, Batches, Errors int64
	Time                         time.Duration // in Eval, guest calls and the host's work around them
}

// Uses reports what the statement did with each function it evaluated, by function name.
func (st *Statement) Uses() []Use {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Use, 0, len(st.uses))
	for f, u := range st.uses {
		out = append(out, Use{Function: f, Evals: u.evals.Load(), Rows: u.rows.Load(), Batches: u.batches.Load(),
			Errors: u.errors.Load(), Time: time.Duration(u.nanos.Load())})
	}
	slices.SortFunc(out, func(a, b Use) int { return strings.Compare(a.Function.def.Name, b.Function.def.Name) })
	return out
}

// Close closes every session of the statement, resetting their instances.
func (st *Statement) Close() {
	st.mu.Lock()
	sessions := st.sessions
	st.sessions = map[*Function]*Session{}
	extras := st.extras
	st.extras = map[*Session]struct{}{}
	st.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		s.close()
		s.mu.Unlock()
	}
	for s := range extras {
		s.mu.Lock()
		s.close()
		s.mu.Unlock()
	}
}

// Eval evaluates the function over rows rows; args[k] holds argument k, of the declared type.
// A STRICT function is not called for rows with a NULL argument: their result is NULL. Rows go
// to the guest in batches bounded by the runtime's batch rows and bytes, one guest call each.
func (s *Session) Eval(ctx context.Context, rows int, args ...Column) (Column, error) {
	var res Column
	err := s.EvalInto(ctx, &res, rows, args...)
	return res, err
}

// EvalInto is Eval writing into res, reusing its storage: the way to evaluate batch after batch
// without allocating a result column each time.
func (s *Session) EvalInto(ctx context.Context, res *Column, rows int, args ...Column) (err error) {
	if s.st != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	f := s.f
	if len(args) != len(f.def.Args) {
		return fmt.Errorf("%s: %d arguments given, %d declared", f.def.Name, len(args), len(f.def.Args))
	}
	for k := range args {
		if args[k].Type != f.def.Args[k] || args[k].Len() != rows {
			return fmt.Errorf("%s: argument %d is %d rows of %s, want %d rows of %s", f.def.Name, k+1, args[k].Len(), args[k].Type, rows, f.def.Args[k])
		}
	}
	f.counters().evals.Add(1)
	if u := s.use; u != nil {
		start := time.Now()
		defer func() {
			u.evals.Add(1)
			u.nanos.Add(int64(time.Since(start)))
			if err != nil {
				u.errors.Add(1)
			} else {
				u.rows.Add(int64(rows))
			}
		}()
	}
	n := rows
	var idx []int // the rows evaluated, when some are skipped
	if f.def.OnNull == Strict && anyNulls(args) {
		res.Reset(f.def.Result, rows)
		idx = make([]int, 0, rows)
		for i := 0; i < rows; i++ {
			if nullAt(args, i) {
				res.setNull(i)
			} else {
				idx = append(idx, i)
			}
		}
		args, n = gather(args, idx), len(idx)
	}
	if n == 0 {
		if idx == nil {
			res.Reset(f.def.Result, rows)
		}
		return nil
	}
	if idx == nil && s.chunkEnd(args, 0, n) == n { // one batch of every row: straight into res
		if err := s.evalChunk(ctx, res, args, n, rowMap{}); err != nil {
			f.counters().fail(err)
			return err
		}
		f.counters().rows.Add(int64(rows))
		return nil
	}
	if idx == nil {
		res.Reset(f.def.Result, rows)
	}
	for lo := 0; lo < n; {
		hi := s.chunkEnd(args, lo, n)
		if err := s.evalChunk(ctx, &s.part, slice(args, lo, hi), hi-lo, rowMap{base: lo, idx: idx}); err != nil {
			f.counters().fail(err)
			return err
		}
		scatter(res, &s.part, lo, idx)
		lo = hi
	}
	f.counters().rows.Add(int64(rows))
	return nil
}

// chunkEnd ends a batch at the row limit, or earlier where variable-width input passes the byte
// limit (always at least one row).
func (s *Session) chunkEnd(args []Column, lo, n int) int {
	hi := min(n, lo+s.f.rt.cfg.batchRows)
	budget := s.f.rt.cfg.batchBytes
	for k := range args {
		if !args[k].Type.Variable() {
			continue
		}
		for i := lo; i < hi; i++ {
			budget -= len(args[k].Bytes[i])
			if budget < 0 {
				hi = max(i, lo+1)
				break
			}
		}
	}
	return hi
}

// rowMap maps a batch row to the row of the Eval call.
type rowMap struct {
	base int
	idx  []int
}

func (m rowMap) at(i int) int {
	if m.idx != nil {
		return m.idx[m.base+i]
	}
	return m.base + i
}

// evalChunk makes one guest call for n rows. A trap in a batch is pinned to its row by bisecting
// on fresh instances, as Materialize does.
func (s *Session) evalChunk(ctx context.Context, res *Column, args []Column, n int, m rowMap) error {
	in, err := s.instance(ctx)
	if err != nil {
		return err
	}
	in.stmtLog, in.mute = nil, s.bisecting
	if s.st != nil {
		in.stmtLog = s.st.log
	}
	calls := in.calls
	if s.f.batch {
		err = in.evalColumnar(ctx, res, args, n)
	} else {
		err = in.evalScalar(ctx, res, args, n)
	}
	if s.use != nil {
		s.use.batches.Add(in.calls - calls)
	}
	if err == nil {
		return nil
	}
	e := err.(*Error)
	e.Function = s.f.def.Name
	if e.Row >= 0 { // the guest returned normally: the instance stays
		e.Input = formatRow(args, e.Row)
		e.Row = m.at(e.Row)
		return e
	}
	s.discard()
	if n > 1 && (e.Kind == KindTrap || e.Kind == KindMemory) {
		h := n / 2
		var scratch Column
		outer := s.bisecting
		s.bisecting = true // the reruns' output was logged by the failed call
		defer func() { s.bisecting = outer }()
		if err := s.evalChunk(ctx, &scratch, slice(args, 0, h), h, m); err != nil {
			return err
		}
		if err := s.evalChunk(ctx, &scratch, slice(args, h, n), n-h, rowMap{base: m.base + h, idx: m.idx}); err != nil {
			return err
		}
		return e // not reproducible in smaller batches: report it for the batch
	}
	if n == 1 && e.Kind != KindTimeout && e.Kind != KindCanceled {
		e.Input, e.Row = formatRow(args, 0), m.at(0)
	}
	return e
}

// evalScalar runs the generated loop of a numeric scalar export over n rows without NULLs.
func (in *instance) evalScalar(ctx context.Context, res *Column, args []Column, n int) error {
	f := in.f
	out := storeLayout(f.def.Result)
	un := uint64(n)
	size := align8(un * uint64(out.Width()))
	for k := range args {
		size += align8(un * uint64(args[k].Type.width()))
	}
	base, err := in.reserve(ctx, size)
	if err != nil {
		return err
	}
	view, ok := in.mem.Read(base, uint32(size))
	if !ok {
		return in.abiError("host region %d+%d is outside memory", base, size)
	}
	stack := in.stack[:2+len(args)]
	stack[0], stack[1] = un, uint64(base)
	off := align8(un * uint64(out.Width()))
	for k := range args {
		writeFixed(view[off:], &args[k], n)
		stack[2+k] = uint64(base) + off
		off += align8(un * uint64(args[k].Type.width()))
	}
	if err := in.call(ctx, in.entry, n, stack, f.def.Export); err != nil {
		return err
	}
	view, ok = in.mem.Read(base, uint32(un*uint64(out.Width())))
	if !ok {
		return in.abiError("result region is outside memory")
	}
	res.Reset(f.def.Result, n)
	return readFixed(view, res, n, out)
}

// storeLayout is how the generated loop stores a result: i32 results take four bytes.
func storeLayout(t Type) rewrite.Column {
	if t.wasmType() == rewrite.I32 {
		return rewrite.ColI32
	}
	return t.column()
}

func descSize(nargs int) uint64 { return 48 + 20*uint64(nargs) }

// evalColumnar calls a wasql_batch_ export over n rows (docs/abi.md §4). The host lays out the
// batch in its region; everything the guest hands back (status, error row and message, result
// offsets, data pointer and length) is checked, with 64-bit arithmetic, before it is used.
func (in *instance) evalColumnar(ctx context.Context, res *Column, args []Column, n int) error {
	f := in.f
	rt := f.def.Result
	un := uint64(n)
	nb := (un + 7) / 8
	resValues := un * uint64(rt.width())
	if rt.Variable() {
		resValues = (un + 1) * 4
	}
	withValidity := func(c *Column) bool { return f.def.OnNull == CalledOnNull && c.Nulls != nil }
	size := align8(descSize(len(args))) + align8(nb) + align8(resValues)
	for k := range args {
		c := &args[k]
		if withValidity(c) {
			size += align8(nb)
		}
		if c.Type.Variable() {
			size += align8((un + 1) * 4)
			for _, b := range c.Bytes {
				size += uint64(len(b))
			}
			size = align8(size)
		} else {
			size += align8(un * uint64(c.Type.width()))
		}
	}
	b64, err := in.reserve(ctx, size) // fails unless size fits the memory limit (< 4GB)
	if err != nil {
		return err
	}
	base := uint64(b64)
	view, ok := in.mem.Read(b64, uint32(size))
	if !ok {
		return in.abiError("host region %d+%d is outside memory", base, size)
	}
	ds := descSize(len(args))
	clear(view[:ds])
	le.PutUint32(view[0:], abiVersion)
	le.PutUint32(view[4:], uint32(un))
	le.PutUint32(view[8:], uint32(len(args)))
	off := align8(ds)
	resValidity := uint32(base + off)
	for i := range nb {
		view[off+i] = 0xff
	}
	off += align8(nb)
	resValuesPtr := uint32(base + off)
	clear(view[off : off+resValues])
	off += align8(resValues)
	putCol(view[16:], rt, resValidity, resValuesPtr, 0, 0)
	for k := range args {
		c := &args[k]
		var validity, values, data, dataLen uint32
		if withValidity(c) {
			validity = uint32(base + off)
			bm := view[off : off+nb]
			clear(bm)
			for i := 0; i < n; i++ {
				if !c.Nulls[i] {
					bm[i/8] |= 1 << (i % 8)
				}
			}
			off += align8(nb)
		}
		values = uint32(base + off)
		if c.Type.Variable() {
			offsets := view[off:]
			dataOff := off + align8((un+1)*4)
			cur := uint64(0)
			for i, b := range c.Bytes {
				le.PutUint32(offsets[4*i:], uint32(cur))
				copy(view[dataOff+cur:], b)
				cur += uint64(len(b))
			}
			le.PutUint32(offsets[4*n:], uint32(cur))
			data, dataLen = uint32(base+dataOff), uint32(cur)
			off = align8(dataOff + cur)
		} else {
			writeFixed(view[off:], c, n)
			off += align8(un * uint64(c.Type.width()))
		}
		putCol(view[48+20*k:], c.Type, validity, values, data, dataLen)
	}

	stack := in.stack[:1]
	stack[0] = base
	if err := in.call(ctx, in.entry, n, stack, f.entry); err != nil {
		return err
	}
	desc, ok := in.mem.Read(b64, uint32(ds))
	if !ok {
		return in.abiError("batch descriptor is outside memory")
	}
	switch status := uint32(stack[0]); status {
	case 0:
	case 1, 2:
		row, ptr, length := le.Uint32(desc[36:]), le.Uint32(desc[40:]), le.Uint32(desc[44:])
		msg, ok := in.mem.Read(ptr, min(length, 1024))
		if !ok {
			return in.abiError("error message %d+%d is outside memory", ptr, length)
		}
		text := wiretext.Clean(string(msg), wiretext.MaxGuest)
		if status == 2 {
			return in.abiError("the guest refused the batch: %s", text)
		}
		if uint64(row) >= un {
			return in.abiError("error_row %d is outside the batch of %d rows", row, n)
		}
		return &Error{Kind: KindRowError, Function: f.def.Name, Row: int(row), Message: text, Detail: in.output()}
	default:
		return in.abiError("%s returned status %d (want 0, 1 or 2)", f.entry, status)
	}

	res.Reset(rt, n)
	bm, ok := in.mem.Read(resValidity, uint32(nb))
	if !ok {
		return in.abiError("result validity is outside memory")
	}
	for i := 0; i < n; i++ {
		if bm[i/8]&(1<<(i%8)) == 0 {
			res.setNull(i)
		}
	}
	if !rt.Variable() {
		vals, ok := in.mem.Read(resValuesPtr, uint32(resValues))
		if !ok {
			return in.abiError("result values are outside memory")
		}
		return readFixed(vals, res, n, rt.column())
	}
	dataPtr, dataLen := le.Uint32(desc[16+12:]), le.Uint32(desc[16+16:])
	if uint64(dataLen) > f.def.Limits.ResultBytes {
		return &Error{Kind: KindResultLimit, Function: f.def.Name, Row: -1,
			Message: fmt.Sprintf("result of %d bytes is above the limit of %s per batch", dataLen, formatBytes(f.def.Limits.ResultBytes)),
			Hint:    f.limitHint(KindResultLimit)}
	}
	offs, ok := in.mem.Read(resValuesPtr, uint32(resValues))
	if !ok {
		return in.abiError("result offsets are outside memory")
	}
	// Every offset is checked before any is used: they start at 0, never decrease and end at
	// data_len, so each row's range lies inside the data.
	if first, last := le.Uint32(offs), le.Uint32(offs[4*n:]); first != 0 || last != dataLen {
		return in.abiError("result offsets must start at 0 and end at data_len %d (got %d..%d)", dataLen, first, last)
	}
	for i := 0; i < n; i++ {
		if a, b := le.Uint32(offs[4*i:]), le.Uint32(offs[4*i+4:]); b < a {
			return in.abiError("result offsets decrease at row %d (%d > %d)", i+1, a, b)
		}
	}
	var buf []byte
	if dataLen > 0 {
		d, ok := in.mem.Read(dataPtr, dataLen)
		if !ok {
			return in.abiError("result data %d+%d is outside memory", dataPtr, dataLen)
		}
		buf = append([]byte(nil), d...)
	}
	checkUTF8 := rt == Text || rt == JSON
	for i := 0; i < n; i++ {
		if res.IsNull(i) {
			continue
		}
		a, b := le.Uint32(offs[4*i:]), le.Uint32(offs[4*i+4:])
		res.Bytes[i] = buf[a:b:b]
		if checkUTF8 && !utf8.Valid(res.Bytes[i]) {
			return &Error{Kind: KindEncoding, Function: f.def.Name, Row: i,
				Message: fmt.Sprintf("invalid byte sequence for encoding \"UTF8\" in %s result", rt)}
		}
	}
	return nil
}

func putCol(p []byte, t Type, validity, values, data, dataLen uint32) {
	le.PutUint32(p[0:], uint32(t))
	le.PutUint32(p[4:], validity)
	le.PutUint32(p[8:], values)
	le.PutUint32(p[12:], data)
	le.PutUint32(p[16:], dataLen)
}

func (in *instance) abiError(format string, args ...any) *Error {
	return &Error{Kind: KindABI, Function: in.f.def.Name, Row: -1,
		Message: "wasm ABI violation: " + fmt.Sprintf(format, args...), Detail: in.output()}
}

// writeFixed writes n fixed-width values of c in their column layout.
func writeFixed(p []byte, c *Column, n int) {
	switch c.Type.column() {
	case rewrite.ColU8:
		for i, v := range c.Ints[:n] {
			p[i] = 0
			if v != 0 {
				p[i] = 1
			}
		}
	case rewrite.ColI16:
		for i, v := range c.Ints[:n] {
			le.PutUint16(p[2*i:], uint16(v))
		}
	case rewrite.ColI32:
		for i, v := range c.Ints[:n] {
			le.PutUint32(p[4*i:], uint32(v))
		}
	case rewrite.ColI64:
		copy(p[:8*n], asBytes(c.Ints[:n]))
	case rewrite.ColF32:
		for i, v := range c.Floats[:n] {
			le.PutUint32(p[4*i:], math.Float32bits(float32(v)))
		}
	case rewrite.ColF64:
		copy(p[:8*n], asBytes(c.Floats[:n]))
	}
}

// readFixed reads n values laid out as layout into res, checking that each fits res's type.
func readFixed(p []byte, res *Column, n int, layout rewrite.Column) error {
	switch layout {
	case rewrite.ColU8:
		for i := range res.Ints {
			res.Ints[i] = int64(p[i])
		}
	case rewrite.ColI16:
		for i := range res.Ints {
			res.Ints[i] = int64(int16(le.Uint16(p[2*i:])))
		}
	case rewrite.ColI32:
		for i := range res.Ints {
			res.Ints[i] = int64(int32(le.Uint32(p[4*i:])))
		}
	case rewrite.ColI64:
		copy(asBytes(res.Ints), p[:8*n])
	case rewrite.ColF32:
		for i := range res.Floats {
			res.Floats[i] = float64(math.Float32frombits(le.Uint32(p[4*i:])))
		}
	case rewrite.ColF64:
		copy(asBytes(res.Floats), p[:8*n])
	}
	switch res.Type {
	case Boolean:
		for i, v := range res.Ints {
			if v != 0 {
				res.Ints[i] = 1
			}
		}
	case Smallint:
		for i, v := range res.Ints {
			if v != int64(int16(v)) && !res.IsNull(i) {
				return &Error{Kind: KindOutOfRange, Row: i, Message: fmt.Sprintf("result %d is out of range for type smallint", v)}
			}
		}
	}
	return nil
}

func anyNulls(args []Column) bool {
	for k := range args {
		for _, null := range args[k].Nulls {
			if null {
				return true
			}
		}
	}
	return false
}

func nullAt(args []Column, i int) bool {
	for k := range args {
		if args[k].IsNull(i) {
			return true
		}
	}
	return false
}

// gather returns the rows idx of each column, without NULL flags.
func gather(args []Column, idx []int) []Column {
	out := make([]Column, len(args))
	for k := range args {
		c := &args[k]
		g := NewColumn(c.Type, len(idx))
		for j, i := range idx {
			switch {
			case g.Bytes != nil:
				g.Bytes[j] = c.Bytes[i]
			case g.Floats != nil:
				g.Floats[j] = c.Floats[i]
			default:
				g.Ints[j] = c.Ints[i]
			}
		}
		out[k] = g
	}
	return out
}

// slice returns rows [lo, hi) of each column, sharing their storage.
func slice(args []Column, lo, hi int) []Column {
	out := make([]Column, len(args))
	for k, c := range args {
		if c.Nulls != nil {
			c.Nulls = c.Nulls[lo:hi]
		}
		switch {
		case c.Type.Variable():
			c.Bytes = c.Bytes[lo:hi]
		case c.Type == Real || c.Type == Double:
			c.Floats = c.Floats[lo:hi]
		default:
			c.Ints = c.Ints[lo:hi]
		}
		out[k] = c
	}
	return out
}

// scatter copies part, rows [lo, lo+part.Len()) of the evaluated rows, into res.
func scatter(res *Column, part *Column, lo int, idx []int) {
	for j := 0; j < part.Len(); j++ {
		i := lo + j
		if idx != nil {
			i = idx[i]
		}
		if part.IsNull(j) {
			res.setNull(i)
			continue
		}
		switch {
		case res.Bytes != nil:
			res.Bytes[i] = part.Bytes[j]
		case res.Floats != nil:
			res.Floats[i] = part.Floats[j]
		default:
			res.Ints[i] = part.Ints[j]
		}
	}
}

func formatRow(args []Column, i int) string {
	parts := make([]string, len(args))
	for k := range args {
		parts[k] = args[k].Format(i)
	}
	return strings.Join(parts, ", ")
}
