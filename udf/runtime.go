package udf

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/sync/singleflight"

	"github.com/wasql/wasql/udf/internal/rewrite"
)

// Runtime loads and runs wasm functions. It owns one wazero runtime, the compiled-code cache
// (in memory, and on disk when configured) and the instance pools of the functions it loaded.
// It is safe for concurrent use.
type Runtime struct {
	cfg   Config
	wz    wazero.Runtime
	cache wazero.CompilationCache

	mu        sync.Mutex
	compiled  map[[32]byte]*compiled
	lru       *list.List // of *compiled with no references, most recently used first
	idleBytes int64      // estimated size of the compiled modules on lru
	functions map[*Function]struct{}
	checks    map[checkKey]struct{} // modules that initialized deterministically (Function.check)
	closed    bool
	group     singleflight.Group
	budget    budget // server-wide: linear memories, snapshots, compiled code

	memoryHits, compiles, compileNanos atomic.Int64

	stop chan struct{}
	done chan struct{}
}

// compiled is one compiled module, shared by every function and instance with the same bytes.
// wazero breaks when one of two CompiledModules of the same bytes is closed (wazero#2336) and when
// runtimes race to fill the disk cache (wazero#2547), so there is exactly one per hash.
type compiled struct {
	key       [32]byte
	cm        wazero.CompiledModule
	refs      int
	size      int64  // estimated bytes, charged against the memory budget while it exists
	minMemory uint64 // bytes of linear memory an instance starts with
	elem      *list.Element
	unused    time.Time // when it went on lru
}

// NewRuntime starts a runtime with cfg; zero fields of cfg take their defaults.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	cfg = cfg.withDefaults()
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(false). // metering bounds guests instead (docs/RATIONALE.md)
		WithDebugInfoEnabled(true)
	rt := &Runtime{cfg: cfg, compiled: map[[32]byte]*compiled{}, lru: list.New(),
		functions: map[*Function]struct{}{}, checks: map[checkKey]struct{}{}, stop: make(chan struct{}), done: make(chan struct{}),
		budget: budget{limit: cfg.memoryBudget}}
	if cfg.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.cacheDir, err)
		}
		rt.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	var err error
	if rt.wz, err = newWazero(ctx, rc); err != nil {
		return nil, err
	}
	go rt.janitor()
	return rt, nil
}

// Close closes every function, instance and compiled module of the runtime.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	rt.closed = true
	fns := rt.functionListLocked()
	rt.mu.Unlock()
	close(rt.stop)
	<-rt.done
	for _, f := range fns {
		f.Close()
	}
	err := rt.wz.Close(ctx)
	if rt.cache != nil {
		err = errors.Join(err, rt.cache.Close(ctx))
	}
	return err
}

// functionList returns the runtime's functions now, for a walk without rt.mu.
func (rt *Runtime) functionList() []*Function {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.functionListLocked()
}

// functionListLocked is functionList with rt.mu held.
func (rt *Runtime) functionListLocked() []*Function {
	fns := make([]*Function, 0, len(rt.functions))
	for f := range rt.functions {
		fns = append(fns, f)
	}
	return fns
}

// newWazero is a wazero runtime with the host modules guests may import: WASI and wasql's fuel
// callback.
func newWazero(ctx context.Context, rc wazero.RuntimeConfig) (wazero.Runtime, error) {
	wz := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, wz); err != nil {
		wz.Close(ctx)
		return nil, fmt.Errorf("instantiate WASI: %w", err)
	}
	_, err := wz.NewHostModuleBuilder(rewrite.FuelModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(refuel), nil, []api.ValueType{api.ValueTypeI64}).
		Export(rewrite.FuelFunc).
		Instantiate(ctx)
	if err != nil {
		wz.Close(ctx)
		return nil, fmt.Errorf("instantiate host module: %w", err)
	}
	return wz, nil
}

// janitor closes instances that stayed idle too long, unloads functions without instances and
// closes compiled code no function used meanwhile, so idle functions cost little; it returns
// free memory to the system when that sweep freed something, and when the heap has gone quiet
// (heapWatch).
func (rt *Runtime) janitor() {
	defer close(rt.done)
	if rt.cfg.idleTimeout <= 0 {
		<-rt.stop
		return
	}
	t := time.NewTicker(max(rt.cfg.idleTimeout/4, 10*time.Millisecond))
	defer t.Stop()
	var w heapWatch
	first := true // the start's garbage (a catalog's definitions decoded) is returned too
	for {
		select {
		case <-rt.stop:
			return
		case <-t.C:
			freed := rt.sweep(time.Now().Add(-rt.cfg.idleTimeout))
			w.tick(freed || first)
			first = false
		}
	}
}

// heapWatch returns free heap to the system once the heap has gone quiet. Go's background
// scavenger keeps free heap up to the collector's goal, about twice the live heap, so after a
// burst of work (100,000 CREATEs) an idle server would hold hundreds of megabytes it no longer
// uses until the next forced collection, minutes later. A tick with no collection since the
// one before means nothing is allocating much; then, when a collection has run since the last
// return and left at least returnThreshold free, the janitor returns it. A busy server
// collects more often than the janitor ticks, so it is never forced to.
type heapWatch struct {
	cycles   uint64 // collections counted at the last tick
	returned uint64 // collections counted right after the last return
}

// returnThreshold is the free heap worth a forced collection to return.
const returnThreshold = 16 << 20

// tick reads the heap's counters and returns free memory to the system when asked to (must) or
// when the heap has gone quiet with enough left free, reporting whether it did.
func (w *heapWatch) tick(must bool) bool {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	cycles, free := s[0].Value.Uint64(), s[1].Value.Uint64()
	quiet := cycles == w.cycles
	w.cycles = cycles
	if !must && !(quiet && cycles != w.returned && free >= returnThreshold) {
		return false
	}
	debug.FreeOSMemory()
	metrics.Read(s[:1])
	w.cycles, w.returned = s[0].Value.Uint64(), s[0].Value.Uint64()
	return true
}

// sweep closes what has been idle since before the given time, reporting whether it closed
// anything.
func (rt *Runtime) sweep(before time.Time) bool {
	fns := rt.functionList()
	freed := false
	for _, f := range fns {
		if f.pool.trim(before) {
			freed = true
		}
		if f.unload(before) {
			freed = true
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for rt.lru.Len() > 0 && rt.lru.Back().Value.(*compiled).unused.Before(before) {
		rt.evictLocked()
		freed = true
	}
	return freed
}

// acquire returns the compiled module for bin, compiling it at most once at a time, and holds a
// reference until release.
func (rt *Runtime) acquire(ctx context.Context, bin []byte) (*compiled, error) {
	key := sha256.Sum256(bin)
	for {
		rt.mu.Lock()
		if rt.closed {
			rt.mu.Unlock()
			return nil, errors.New("runtime closed")
		}
		if c, ok := rt.compiled[key]; ok {
			if c.elem != nil {
				rt.lru.Remove(c.elem)
				c.elem = nil
				rt.idleBytes -= c.size
			}
			c.refs++
			rt.mu.Unlock()
			rt.memoryHits.Add(1)
			return c, nil
		}
		rt.mu.Unlock()
		_, err, _ := rt.group.Do(string(key[:]), func() (any, error) {
			size := estimateCompiledSize(bin)
			if err := rt.charge("", size, "compiling a module"); err != nil {
				return nil, err
			}
			start := time.Now()
			cm, err := rt.wz.CompileModule(ctx, bin)
			rt.compiles.Add(1)
			rt.compileNanos.Add(int64(time.Since(start)))
			if err != nil {
				rt.budget.give(size)
				return nil, err
			}
			rt.mu.Lock()
			defer rt.mu.Unlock()
			if rt.closed {
				cm.Close(ctx)
				rt.budget.give(size)
				return nil, errors.New("runtime closed")
			}
			c := &compiled{key: key, cm: cm, size: size}
			if m, ok := cm.ExportedMemories()[rewrite.MemoryExport]; ok {
				c.minMemory = uint64(m.Min()) * pageSize
			}
			rt.compiled[key] = c
			c.elem = rt.lru.PushFront(c)
			c.unused = time.Now()
			rt.idleBytes += c.size
			return nil, nil
		})
		if err != nil {
			return nil, err
		}
		// Loop: take the reference under the lock (it may have been evicted in between).
	}
}

// release drops a reference; unreferenced modules are evicted least recently used first once
// their estimated size passes the budget.
func (rt *Runtime) release(c *compiled) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c.refs--
	if c.refs > 0 || rt.closed {
		return
	}
	c.elem = rt.lru.PushFront(c)
	c.unused = time.Now()
	rt.idleBytes += c.size
	for rt.idleBytes > rt.cfg.compiledBudget && rt.lru.Len() > 0 {
		rt.evictLocked()
	}
}

// evictLocked closes the least recently used compiled module no instance uses; rt.mu is held.
func (rt *Runtime) evictLocked() {
	old := rt.lru.Remove(rt.lru.Back()).(*compiled)
	old.elem = nil
	rt.idleBytes -= old.size
	delete(rt.compiled, old.key)
	old.cm.Close(context.Background())
	rt.budget.give(old.size)
}

// evictCompiled evicts one unused compiled module, reporting false when there is none.
func (rt *Runtime) evictCompiled() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed || rt.lru.Len() == 0 {
		return false
	}
	rt.evictLocked()
	return true
}

// instantiate is wazero's InstantiateModule with a panic in it (a bug, or a memory allocator
// refused what wazero assumed) turned into an error.
func (rt *Runtime) instantiate(ctx context.Context, cm wazero.CompiledModule, cfg wazero.ModuleConfig) (mod api.Module, err error) {
	defer func() {
		if p := recover(); p != nil {
			mod, err = nil, fmt.Errorf("instantiate: %v", p)
		}
	}()
	return rt.wz.InstantiateModule(ctx, cm, cfg)
}

// MemoryInUse reports the bytes charged against the server-wide memory budget, and the budget.
func (rt *Runtime) MemoryInUse() (used, budget int64) { return rt.budget.inUse(), rt.budget.limit }

// RuntimeStats describe a runtime as a whole.
type RuntimeStats struct {
	Functions     int // functions registered (loaded or not)
	Loaded        int // functions whose module is loaded (validated and rewritten, in memory)
	Broken        int // functions that failed to load
	Instances     int // instances existing, busy or idle
	IdleInstances int
	Compiled      int // compiled modules held
	CompiledIdle  int // of those, the ones no instance uses (evicted first)
	MemoryUsed    int64
	MemoryBudget  int64
	// MemoryHits counts instances made from compiled code already in memory; Compiles counts
	// modules compiled, from the disk cache or afresh (wazero does not say which), taking
	// CompileTime in all.
	MemoryHits, Compiles int64
	CompileTime          time.Duration
}

// Stats describes the runtime now: it visits every function.
func (rt *Runtime) Stats() RuntimeStats {
	rt.mu.Lock()
	fns := rt.functionListLocked()
	s := RuntimeStats{Functions: len(fns), Compiled: len(rt.compiled), CompiledIdle: rt.lru.Len()}
	rt.mu.Unlock()
	for _, f := range fns {
		f.mu.Lock()
		switch {
		case f.broken != nil:
			s.Broken++
		case f.bin != nil:
			s.Loaded++
		}
		s.Instances += f.instances
		f.mu.Unlock()
		s.IdleInstances += f.pool.idleCount()
	}
	s.MemoryUsed, s.MemoryBudget = rt.MemoryInUse()
	s.MemoryHits, s.Compiles = rt.memoryHits.Load(), rt.compiles.Load()
	s.CompileTime = time.Duration(rt.compileNanos.Load())
	return s
}

// CompiledModules reports how many compiled modules the runtime holds, and how many of those
// no function instance uses.
func (rt *Runtime) CompiledModules() (total, idle int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.compiled), rt.lru.Len()
}

// estimateCompiledSize guesses the memory of a compiled module: wazero does not report it, and
// machine code plus metadata measured here runs at about 4× the Wasm bytes.
func estimateCompiledSize(bin []byte) int64 { return 4 * int64(len(bin)) }

func pagesFor(bytes uint64) uint32 {
	p := (bytes + 65535) / 65536
	return uint32(min(p, 65536))
}

// callKey carries the *callState of a guest call to the fuel host function.
type callKey struct{}

// callState is what refuel needs to know about the call running in one instance.
type callState struct {
	ctx      context.Context // the caller's context: cancellation
	deadline time.Time
	budget   uint64 // fuel not yet handed to the guest
	granted  uint64 // fuel handed to the guest during this call
	slice    uint64
	timeout  time.Duration
	fuel     uint64 // the fuel limit per row, 0 for none
	log      *Log   // where the call's output lines go, once logSet
	logSet   bool
}

// refuel is wasql.__fuel: the guest calls it when its fuel slice is spent. It stops the call on
// cancellation, deadline or an empty budget (by panicking with an *Error, which wazero turns into
// the call's error), lets the Go scheduler run, and returns the next slice.
func refuel(ctx context.Context, _ api.Module, stack []uint64) {
	st, _ := ctx.Value(callKey{}).(*callState)
	if st == nil {
		panic(errors.New("wasql: fuel callback outside a call"))
	}
	if err := st.ctx.Err(); err != nil {
		panic(&Error{Kind: KindCanceled, Row: -1, Message: "canceling statement due to user request", Err: err})
	}
	if !st.deadline.IsZero() && time.Now().After(st.deadline) {
		panic(&Error{Kind: KindTimeout, Row: -1, Message: fmt.Sprintf("canceling statement due to wasm function timeout (%s)", st.timeout)})
	}
	if st.budget == 0 {
		panic(&Error{Kind: KindFuel, Row: -1, Message: fmt.Sprintf("fuel exhausted after %d units (fuel limit %d per row)", st.granted, st.fuel)})
	}
	runtime.Gosched()
	s := min(st.slice, st.budget)
	st.budget -= s
	st.granted += s
	stack[0] = s
}
