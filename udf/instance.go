package udf

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasql/wasql/internal/wiretext"
	"github.com/wasql/wasql/udf/internal/rewrite"
)

const pageSize = 65536 // a Wasm page; a multiple of the host's page size

// instance is one instantiated module. It serves one session at a time.
type instance struct {
	f       *Function
	c       *compiled
	mod     api.Module
	entry   api.Function
	alloc   api.Function
	free    api.Function
	fuel    api.MutableGlobal
	oom     api.MutableGlobal // set by the guest when memory.grow fails
	mem     api.Memory
	globals []api.MutableGlobal
	out     *guestOut
	stmtLog *Log   // the Log of the statement of the current session, if any
	mute    bool   // the current call's output is not logged (a rerun)
	env     detEnv // deterministic clocks and randomness, reset with the instance
	st      callState
	callCtx context.Context // carries &st to refuel
	stack   []uint64

	scratch, scratchCap uint32 // the host's region in guest memory

	lm *linearMemory // the budget-charged backing of mem

	snapMem                     []segment // non-zero memory right after initialization
	snapBytes                   int64     // budget charged for snapMem
	snapGlobals                 []uint64
	snapScratch, snapScratchCap uint32
	snapEnv                     detEnv

	idleSince time.Time
	slot      bool  // holds one of its pool's slots (else it was lent beyond the pool's size)
	calls     int64 // guest calls made
}

// newInstance instantiates the function's module, runs _initialize, reserves the host's region
// for a default batch and snapshots the result.
// It loads the function first if it is not loaded.
func (f *Function) newInstance(ctx context.Context) (*instance, error) {
	bin, loaded, err := f.code(ctx)
	if err != nil {
		return nil, err
	}
	in, err := f.instantiateCode(ctx, bin)
	if err != nil && loaded {
		return nil, f.loadFailed(err)
	}
	return in, err
}

// instantiateCode instantiates bin, the function's rewritten module; on failure it gives back
// the count of instances taken by code (an instance made gives it back when it closes).
func (f *Function) instantiateCode(ctx context.Context, bin []byte) (*instance, error) {
	c, err := f.rt.acquire(ctx, bin)
	if err != nil {
		f.done()
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, &Error{Kind: KindInvalid, Function: f.def.Name, Row: -1, Message: "invalid module: " + firstLine(err.Error()), Detail: err.Error(), Err: err}
	}
	// wazero allocates the declared initial memory at instantiation and cannot be refused it:
	// charge it first.
	initial := int64(c.minMemory)
	if err := f.rt.charge(f.def.Name, initial, "a new instance's initial memory"); err != nil {
		f.rt.release(c)
		f.done()
		return nil, err
	}
	in := &instance{f: f, c: c}
	in.out = &guestOut{in: in, detail: boundedBuffer{max: 4096}}
	in.callCtx = context.WithValue(context.Background(), callKey{}, &in.st)
	in.begin(ctx, 1)

	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions().
		WithStdout(in.out).WithStderr(in.out)
	if f.def.Clock {
		cfg = cfg.WithSysWalltime().WithSysNanotime()
	} else {
		cfg = cfg.WithWalltime(in.env.walltime, sys.ClockResolution(time.Millisecond)).
			WithNanotime(in.env.nanotime, sys.ClockResolution(time.Millisecond))
	}
	if f.def.Random {
		cfg = cfg.WithRandSource(crand.Reader)
	} else {
		cfg = cfg.WithRandSource(&in.env)
	}
	in.mod, err = f.rt.instantiate(experimental.WithMemoryAllocator(in.callCtx, f.rt.allocator(&in.lm, initial)), c.cm, cfg)
	if in.lm == nil {
		f.rt.budget.give(initial) // no memory was allocated
	}
	if err != nil {
		if in.lm != nil {
			in.lm.Free()
		}
		f.rt.release(c)
		f.done()
		var e *Error
		if errors.As(err, &e) || strings.Contains(err.Error(), "wasm error") {
			return nil, in.callError(err, "start function")
		}
		return nil, &Error{Kind: KindInvalid, Function: f.def.Name, Row: -1, Message: "module does not link: " + wiretext.Clean(firstLine(err.Error()), wiretext.MaxGuest), Err: err}
	}
	fail := func(err error) (*instance, error) {
		in.close()
		return nil, err
	}
	in.fuel = in.mod.ExportedGlobal(rewrite.FuelGlobal).(api.MutableGlobal)
	in.oom = in.mod.ExportedGlobal(rewrite.OOMGlobal).(api.MutableGlobal)
	in.mem = in.mod.ExportedMemory(rewrite.MemoryExport)
	for _, name := range f.shape.Globals {
		in.globals = append(in.globals, in.mod.ExportedGlobal(name).(api.MutableGlobal))
	}
	in.entry = in.mod.ExportedFunction(f.entry)
	if f.alloc {
		in.alloc = in.mod.ExportedFunction(allocExport)
	}
	if f.free {
		in.free = in.mod.ExportedFunction(freeExport)
	}
	in.stack = make([]uint64, 2+len(f.def.Args))
	if init := in.mod.ExportedFunction("_initialize"); init != nil {
		in.begin(ctx, 1)
		err := init.CallWithStack(in.callCtx, nil)
		in.out.end()
		if err != nil {
			return fail(in.callError(err, "_initialize"))
		}
	}
	if _, err := in.reserve(ctx, f.defaultScratch()); err != nil {
		return fail(err)
	}
	if !f.def.KeepState && !f.shape.Stateful {
		if err := in.snapshot(); err != nil {
			return fail(err)
		}
	}
	return in, nil
}

// defaultScratch is the host region for a full batch of fixed-width values.
func (f *Function) defaultScratch() uint64 {
	n := uint64(f.rt.cfg.batchRows)
	size := align8(n*8) + align8(n/8+1)
	for _, t := range f.def.Args {
		size += align8(n*uint64(max(t.width(), 4))) + align8(n/8+1)
	}
	if f.batch {
		size += descSize(len(f.def.Args))
	}
	return size
}

func (in *instance) close() {
	if in.mod != nil {
		in.mod.Close(context.Background()) // frees the linear memory, giving back its budget
		in.mod = nil
		in.f.rt.release(in.c)
		in.f.rt.budget.give(in.snapBytes)
		in.snapMem, in.snapBytes = nil, 0
		in.f.done()
	}
}

// begin prepares the call state for a guest call over rows rows.
func (in *instance) begin(ctx context.Context, rows int) {
	l := in.f.def.Limits
	budget := uint64(math.MaxUint64) // no fuel limit: only the deadline stops the guest
	if l.Fuel > 0 {
		budget = satMul(l.Fuel, uint64(max(rows, 1)))
	}
	s := min(in.f.rt.cfg.fuelSlice, budget)
	in.st = callState{ctx: ctx, deadline: time.Now().Add(l.Timeout), budget: budget - s, granted: s,
		slice: in.f.rt.cfg.fuelSlice, timeout: l.Timeout, fuel: l.Fuel}
	if in.fuel != nil {
		in.fuel.Set(s)
		in.oom.Set(0)
	}
	in.out.reset()
}

// call runs fn with the stack under the limits of a batch of rows rows.
func (in *instance) call(ctx context.Context, fn api.Function, rows int, stack []uint64, what string) error {
	in.begin(ctx, rows)
	start := time.Now()
	err := fn.CallWithStack(in.callCtx, stack)
	in.out.end()
	used := in.st.granted
	if in.fuel != nil {
		used -= min(in.fuel.Get(), used)
	}
	in.calls++
	in.f.counters().call(time.Since(start), used)
	if in.mem != nil {
		in.f.counters().memory(int64(in.mem.Size()))
	}
	if err != nil {
		return in.callError(err, what)
	}
	return nil
}

// callError classifies a failed guest call. Everything taken from the guest (its output, the
// names in a stack trace) is sanitized and bounded here.
func (in *instance) callError(err error, what string) *Error {
	name := in.f.def.Name
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Function = name
		c.Detail = in.output()
		if c.Hint == "" {
			c.Hint = in.f.limitHint(c.Kind)
		}
		return &c
	}
	msg := wiretext.Clean(firstLine(err.Error()), wiretext.MaxGuest)
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		msg = fmt.Sprintf("wasm guest exited with code %d", exit.ExitCode())
	}
	kind, hint := KindTrap, ""
	if in.oom != nil && in.oom.Get() != 0 {
		kind = KindMemory
		if in.lm != nil && in.lm.refused {
			msg = fmt.Sprintf("out of memory: the guest trapped after memory.grow failed because the server's memory budget of %s is spent (%s)", formatBytes(uint64(in.f.rt.budget.limit)), msg)
			hint = "the server-wide memory budget counts every instance's memory; raise it with udf.Config.WithMemoryBudget or retry when fewer queries run"
		} else {
			msg = fmt.Sprintf("out of memory: the guest trapped after memory.grow failed at its limit of %s (%s)", formatBytes(in.f.def.Limits.MemoryBytes), msg)
			hint = in.f.limitHint(KindMemory)
		}
	}
	msg = strings.Replace(msg, "wasm error: ", "wasm trap: ", 1)
	detail := trapStack(err.Error())
	if out := in.output(); out != "" {
		detail = "guest output:\n" + out + "\n" + detail
	}
	return &Error{Kind: kind, Function: name, Row: -1, Message: msg + " in " + what, Detail: detail, Hint: hint, Err: err}
}

// output is the guest's stdout and stderr of the last call, sanitized for a wire message.
func (in *instance) output() string {
	return wiretext.Clean(string(in.out.detail.b), wiretext.MaxGuest)
}

// maxFrames bounds the frames of a trap's stack in an error's detail.
const maxFrames = 16

// trapStack turns wazero's "wasm stack trace" (the lines after an error's first) into one
// "at NAME" line per frame, innermost first: names from the module's name section (the rewriter
// keeps it), else wazero's "$INDEX"; without the parameter types, without the frames of what the
// rewriter adds (wasql.__fuel, __wasql_* loops), sanitized, at most maxFrames frames. Text that
// is not a stack trace is kept as it is, sanitized.
func trapStack(s string) string {
	rest := strings.TrimSpace(strings.TrimPrefix(s, firstLine(s)))
	body, ok := strings.CutPrefix(rest, "wasm stack trace:")
	if !ok {
		return wiretext.Clean(rest, 4*wiretext.MaxGuest)
	}
	var frames []string
	more := false
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t\t") { // a source line
			continue
		}
		f := strings.TrimPrefix(line, "\t")
		if strings.HasPrefix(f, "...") {
			more = true
			continue
		}
		if i := strings.IndexByte(f, '('); i >= 0 {
			f = f[:i]
		}
		f = strings.TrimPrefix(f, ".") // the module, which is unnamed
		if f == rewrite.FuelModule+"."+rewrite.FuelFunc || strings.HasPrefix(f, "__wasql") || f == "" {
			continue
		}
		if len(frames) == maxFrames {
			more = true
			break
		}
		frames = append(frames, "at "+wiretext.Clean(f, 128))
	}
	if len(frames) == 0 {
		return ""
	}
	if more {
		frames = append(frames, "... more frames")
	}
	return "wasm stack:\n" + strings.Join(frames, "\n")
}

// limitHint says, for an error of a limit kind, which limit of the function it was, its value
// and how to raise it.
func (f *Function) limitHint(k Kind) string {
	l := f.def.Limits
	raise := func(what, value, option, more string) string {
		return fmt.Sprintf("the function's %s is %s; raise it with WITH (%s = '%s') in CREATE OR REPLACE FUNCTION %s", what, value, option, more, f.def.Name)
	}
	switch k {
	case KindTimeout:
		return raise("timeout", l.Timeout.String()+" per guest call (one batch of rows)", "timeout", (2 * l.Timeout).String())
	case KindFuel:
		return fmt.Sprintf("the function's fuel limit is %d units per row; raise it with WITH (fuel = %d) in CREATE OR REPLACE FUNCTION %s, or drop the option: without it only the timeout applies", l.Fuel, satMul(l.Fuel, 10), f.def.Name)
	case KindMemory:
		return raise("memory limit", formatBytes(l.MemoryBytes)+" of linear memory per instance", "memory", formatBytes(min(2*l.MemoryBytes, 4<<30)))
	case KindResultLimit:
		return raise("result limit", formatBytes(l.ResultBytes)+" of variable-width result per batch", "result", formatBytes(2*l.ResultBytes))
	}
	return ""
}

func satMul(a, b uint64) uint64 {
	if a != 0 && a*b/a != b {
		return math.MaxUint64
	}
	return a * b
}

// reserve returns a host region of at least size bytes in guest memory.
func (in *instance) reserve(ctx context.Context, size uint64) (uint32, error) {
	if size <= uint64(in.scratchCap) {
		return in.scratch, nil
	}
	limit := min(in.f.def.Limits.MemoryBytes, 1<<32-pageSize)
	want := max(size, min(2*uint64(in.scratchCap), limit))
	name := in.f.def.Name
	oom := func(how string) error {
		e := &Error{Kind: KindMemory, Function: name, Row: -1,
			Message: fmt.Sprintf("out of memory: cannot reserve %d bytes for a batch (%s; memory limit %s)", want, how, formatBytes(in.f.def.Limits.MemoryBytes)),
			Hint:    in.f.limitHint(KindMemory) + "; a batch's arguments and result must fit in it"}
		if in.lm != nil && in.lm.refused {
			e.Message = fmt.Sprintf("out of memory: cannot reserve %d bytes for a batch: the server's memory budget of %s is spent", want, formatBytes(uint64(in.f.rt.budget.limit)))
			e.Hint = "the server-wide memory budget counts every instance's memory; raise it with udf.Config.WithMemoryBudget or retry when fewer queries run"
		}
		return e
	}
	if size > limit {
		return 0, oom("the batch is larger than the memory limit")
	}
	switch {
	case in.alloc != nil:
		in.begin(ctx, 1)
		stack := []uint64{uint64(want)}
		err := in.alloc.CallWithStack(in.callCtx, stack)
		in.out.end()
		if err != nil {
			return 0, in.callError(err, allocExport)
		}
		ptr := uint32(stack[0])
		if ptr == 0 || uint64(ptr)+want > uint64(in.mem.Size()) {
			return 0, oom(fmt.Sprintf("%s returned %d", allocExport, ptr))
		}
		if in.free != nil && in.scratchCap > 0 {
			if err := in.free.CallWithStack(in.callCtx, []uint64{uint64(in.scratch), uint64(in.scratchCap)}); err != nil {
				return 0, in.callError(err, freeExport)
			}
		}
		in.scratch, in.scratchCap = ptr, uint32(want)
	case in.f.shape.AddedMemory:
		// The module had no memory: all of it is the host's, from 0.
		if need := (want + pageSize - 1) / pageSize; need > uint64(in.mem.Size()/pageSize) {
			if _, ok := in.mem.Grow(uint32(need) - in.mem.Size()/pageSize); !ok {
				return 0, oom("memory.grow failed")
			}
		}
		in.scratch, in.scratchCap = 0, in.mem.Size()
	default:
		// Fresh pages at the end of memory, extending the current region when it is last.
		end := in.mem.Size()
		start := end
		if in.scratchCap > 0 && in.scratch+in.scratchCap == end {
			start = in.scratch
		}
		need := (uint64(start) + want - uint64(end) + pageSize - 1) / pageSize
		if _, ok := in.mem.Grow(uint32(need)); !ok {
			return 0, oom("memory.grow failed")
		}
		in.scratch, in.scratchCap = start, in.mem.Size()-start
	}
	return in.scratch, nil
}

// segment is a run of memory that was not zero in a snapshot.
type segment struct {
	off  uint32
	data []byte
}

// snapshot records memory and globals, to reset the instance between sessions. Only the pages
// that are not zero are kept (a module may declare far more memory than it initializes), and
// they are charged against the memory budget.
func (in *instance) snapshot() error {
	var segs []segment
	var size int64
	if in.mem != nil {
		view, _ := in.mem.Read(0, in.mem.Size())
		for off := 0; off < len(view); off += pageSize {
			page := view[off:min(off+pageSize, len(view))]
			if isZero(page) {
				continue
			}
			if n := len(segs); n > 0 && int(segs[n-1].off)+len(segs[n-1].data) == off {
				segs[n-1].data = view[segs[n-1].off : off+len(page)]
			} else {
				segs = append(segs, segment{off: uint32(off), data: page})
			}
			size += int64(len(page))
		}
	}
	if err := in.f.rt.charge(in.f.def.Name, size, "an instance's reset snapshot"); err != nil {
		return err
	}
	for i := range segs {
		segs[i].data = append([]byte(nil), segs[i].data...)
	}
	in.snapMem, in.snapBytes = segs, size
	in.snapGlobals = make([]uint64, len(in.globals))
	for i, g := range in.globals {
		in.snapGlobals[i] = g.Get()
	}
	in.snapScratch, in.snapScratchCap = in.scratch, in.scratchCap
	in.snapEnv = in.env
	return nil
}

// zero clears a range of whole pages that were zero in the snapshot, touching only pages that
// are not zero now: a mapped memory drops them, so a large untouched memory stays untouched.
func (in *instance) zero(b []byte) {
	if len(b) == 0 {
		return
	}
	if in.lm != nil && in.lm.mapped != nil && len(b) >= 16*pageSize {
		zeroPages(b)
		return
	}
	for off := 0; off < len(b); off += pageSize {
		page := b[off:min(off+pageSize, len(b))]
		if !isZero(page) {
			clear(page)
		}
	}
}

// zeroPage is compared against: bytes.Equal is vectorized, a loop over words is not.
var zeroPage [pageSize]byte

func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), pageSize)
		if !bytes.Equal(b[:n], zeroPage[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// reset restores the snapshot. Memory that grew since is zeroed (it cannot shrink). It reports
// false when the instance cannot be reset and must be closed instead.
func (in *instance) reset() bool {
	if in.f.def.KeepState {
		return true
	}
	if in.snapGlobals == nil {
		return false
	}
	if in.mem != nil {
		view, ok := in.mem.Read(0, in.mem.Size())
		if !ok {
			return false
		}
		at := 0
		for _, s := range in.snapMem {
			in.zero(view[at:s.off])
			at = int(s.off) + copy(view[s.off:], s.data)
		}
		in.zero(view[at:])
	}
	for i, g := range in.globals {
		g.Set(in.snapGlobals[i])
	}
	in.scratch, in.scratchCap = in.snapScratch, in.snapScratchCap
	in.env = in.snapEnv
	return true
}

// detEnv is what a guest without grants sees of time and randomness: a clock that starts at
// 2022-01-01 and advances 1 ms per read, and a fixed ChaCha8 stream. Both restart with the
// instance's state, so a session sees the same values whatever ran before it.
type detEnv struct {
	reads  int64
	rng    rand.ChaCha8
	seeded bool
}

var detEpoch = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

func (e *detEnv) walltime() (int64, int32) {
	t := e.nanotime() + detEpoch
	return t / 1e9, int32(t % 1e9)
}

func (e *detEnv) nanotime() int64 {
	e.reads++
	return e.reads * int64(time.Millisecond)
}

func (e *detEnv) Read(p []byte) (int, error) {
	if !e.seeded {
		e.rng, e.seeded = *rand.NewChaCha8([32]byte{'w', 'a', 's', 'q', 'l'}), true
	}
	return e.rng.Read(p)
}

// boundedBuffer keeps the first max bytes written to it: the guest's stdout and stderr.
type boundedBuffer struct {
	b   []byte
	max int
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (w *boundedBuffer) reset() { w.b = w.b[:0] }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

func formatBytes(n uint64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dkB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
