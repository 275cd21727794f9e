package udf

import (
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
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasql/wasql/udf/internal/rewrite"
)

const pageSize = 65536

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
	out     *boundedBuffer
	env     detEnv // deterministic clocks and randomness, reset with the instance
	st      callState
	callCtx context.Context // carries &st to refuel
	stack   []uint64

	scratch, scratchCap uint32 // the host's region in guest memory

	snapMem                     []byte // state right after initialization
	snapGlobals                 []uint64
	snapScratch, snapScratchCap uint32
	snapEnv                     detEnv

	idleSince time.Time
}

// newInstance instantiates the function's module, runs _initialize, reserves the host's region
// for a default batch and snapshots the result.
func (f *Function) newInstance(ctx context.Context) (*instance, error) {
	c, err := f.rt.acquire(ctx, f.bin)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Function: f.def.Name, Row: -1, Message: "invalid module: " + firstLine(err.Error()), Detail: err.Error(), Err: err}
	}
	in := &instance{f: f, c: c, out: &boundedBuffer{max: 4096}}
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
	in.mod, err = f.rt.wz.InstantiateModule(in.callCtx, c.cm, cfg)
	if err != nil {
		f.rt.release(c)
		var e *Error
		if errors.As(err, &e) || strings.Contains(err.Error(), "wasm error") {
			return nil, in.callError(err, "start function")
		}
		return nil, &Error{Kind: KindInvalid, Function: f.def.Name, Row: -1, Message: "module does not link: " + firstLine(err.Error()), Err: err}
	}
	fail := func(err error) (*instance, error) {
		in.close()
		return nil, err
	}
	in.fuel = in.mod.ExportedGlobal(rewrite.FuelGlobal).(api.MutableGlobal)
	in.oom = in.mod.ExportedGlobal(rewrite.OOMGlobal).(api.MutableGlobal)
	in.mem = in.mod.ExportedMemory(rewrite.MemoryExport)
	for _, name := range f.rw.Globals {
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
		if err := init.CallWithStack(in.callCtx, nil); err != nil {
			return fail(in.callError(err, "_initialize"))
		}
	}
	if _, err := in.reserve(ctx, f.defaultScratch()); err != nil {
		return fail(err)
	}
	if !f.def.KeepState && !f.rw.Stateful {
		in.snapshot()
	}
	return in, nil
}

// defaultScratch is the host region for a full batch of fixed-width values.
func (f *Function) defaultScratch() uint32 {
	n := uint32(f.rt.cfg.batchRows)
	size := align8(n*8) + align8(n/8+1)
	for _, t := range f.def.Args {
		size += align8(n*max(t.width(), 4)) + align8(n/8+1)
	}
	if f.batch {
		size += descSize(len(f.def.Args))
	}
	return size
}

func (in *instance) close() {
	if in.mod != nil {
		in.mod.Close(context.Background())
		in.mod = nil
		in.f.rt.release(in.c)
	}
}

// begin prepares the call state for a guest call over rows rows.
func (in *instance) begin(ctx context.Context, rows int) {
	l := in.f.def.Limits
	budget := l.Fuel * uint64(rows)
	if rows != 0 && budget/uint64(rows) != l.Fuel {
		budget = math.MaxUint64
	}
	s := min(in.f.rt.cfg.fuelSlice, budget)
	in.st = callState{ctx: ctx, deadline: time.Now().Add(l.Timeout), budget: budget - s, granted: s,
		slice: in.f.rt.cfg.fuelSlice, timeout: l.Timeout}
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
	in.f.stats.calls.Add(1)
	in.f.stats.nanos.Add(int64(time.Since(start)))
	if err != nil {
		return in.callError(err, what)
	}
	return nil
}

// callError classifies a failed guest call.
func (in *instance) callError(err error, what string) *Error {
	name := in.f.def.Name
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Function = name
		c.Detail = in.output()
		return &c
	}
	msg := firstLine(err.Error())
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		msg = fmt.Sprintf("wasm guest exited with code %d", exit.ExitCode())
	}
	kind := KindTrap
	if in.oom != nil && in.oom.Get() != 0 {
		kind = KindMemory
		msg = fmt.Sprintf("out of memory: the guest trapped after memory.grow failed at its limit of %s (%s)", formatBytes(in.f.def.Limits.MemoryBytes), msg)
	}
	detail := strings.TrimSpace(strings.TrimPrefix(err.Error(), firstLine(err.Error())))
	if out := in.output(); out != "" {
		detail = "guest output:\n" + out + "\n" + detail
	}
	return &Error{Kind: kind, Function: name, Row: -1, Message: msg + " in " + what, Detail: detail, Err: err}
}

func (in *instance) output() string { return string(in.out.b) }

// reserve returns a host region of at least size bytes in guest memory.
func (in *instance) reserve(ctx context.Context, size uint32) (uint32, error) {
	if size <= in.scratchCap {
		return in.scratch, nil
	}
	want := max(size, 2*in.scratchCap)
	name := in.f.def.Name
	oom := func(how string) error {
		return &Error{Kind: KindMemory, Function: name, Row: -1,
			Message: fmt.Sprintf("out of memory: cannot reserve %d bytes for a batch (%s; memory limit %s)", want, how, formatBytes(in.f.def.Limits.MemoryBytes))}
	}
	switch {
	case in.alloc != nil:
		in.begin(ctx, 1)
		stack := []uint64{uint64(want)}
		if err := in.alloc.CallWithStack(in.callCtx, stack); err != nil {
			return 0, in.callError(err, allocExport)
		}
		ptr := uint32(stack[0])
		if ptr == 0 || uint64(ptr)+uint64(want) > uint64(in.mem.Size()) {
			return 0, oom(fmt.Sprintf("%s returned %d", allocExport, ptr))
		}
		if in.free != nil && in.scratchCap > 0 {
			if err := in.free.CallWithStack(in.callCtx, []uint64{uint64(in.scratch), uint64(in.scratchCap)}); err != nil {
				return 0, in.callError(err, freeExport)
			}
		}
		in.scratch, in.scratchCap = ptr, want
	case in.f.rw.AddedMemory:
		// The module had no memory: all of it is the host's, from 0.
		if need := (uint64(want) + pageSize - 1) / pageSize; need > uint64(in.mem.Size()/pageSize) {
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
		need := (uint64(start) + uint64(want) - uint64(end) + pageSize - 1) / pageSize
		if _, ok := in.mem.Grow(uint32(need)); !ok {
			return 0, oom("memory.grow failed")
		}
		in.scratch, in.scratchCap = start, in.mem.Size()-start
	}
	return in.scratch, nil
}

// snapshot records memory and globals, to reset the instance between sessions.
func (in *instance) snapshot() {
	if in.mem != nil {
		view, _ := in.mem.Read(0, in.mem.Size())
		in.snapMem = append([]byte(nil), view...)
	}
	in.snapGlobals = make([]uint64, len(in.globals))
	for i, g := range in.globals {
		in.snapGlobals[i] = g.Get()
	}
	in.snapScratch, in.snapScratchCap = in.scratch, in.scratchCap
	in.snapEnv = in.env
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
		if !ok || len(view) < len(in.snapMem) {
			return false
		}
		copy(view, in.snapMem)
		clear(view[len(in.snapMem):])
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

func align8(n uint32) uint32 { return (n + 7) &^ 7 }

func formatBytes(n uint64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dkB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
