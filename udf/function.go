package udf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasql/wasql/udf/internal/rewrite"
)

// Export names of the columnar ABI (docs/abi.md §4.1).
const (
	abiMarker   = "wasql_abi_v"
	abiVersion  = 1
	batchPrefix = "wasql_batch_"
	allocExport = "wasql_alloc"
	freeExport  = "wasql_free"
)

// allowedImports is docs/abi.md §5.1.
var allowedImports = map[string]map[string]bool{
	"wasi_snapshot_preview1": set("args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
		"clock_res_get", "clock_time_get", "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags",
		"fd_prestat_get", "fd_prestat_dir_name", "fd_read", "fd_seek", "fd_write", "poll_oneoff",
		"proc_exit", "random_get", "sched_yield"),
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Function is a wasm function: a definition and, while it is loaded, its validated and rewritten
// module with a pool of instances. A function made by Lazy costs its definition until its first
// call loads it; one idle for the runtime's idle timeout is unloaded again (its instances closed,
// its module bytes dropped; its compiled code stays in the runtime's cache until evicted). It is
// safe for concurrent use; each Session uses one instance at a time.
type Function struct {
	rt     *Runtime
	def    Definition // Limits resolved against the runtime's defaults; Module nil while unloaded
	hash   string
	source func(context.Context) ([]byte, error) // the module's bytes, for a function made by Lazy
	pool   pool
	stats  atomic.Pointer[stats] // nil until first used: a function never called costs no counters
	since  time.Time             // when it was made, the start of counters made later
	closed atomic.Bool

	mu        sync.Mutex
	bin       []byte // the rewritten module; nil while unloaded
	instances int    // instances existing or being made; changed under mu, see newInstance
	lastUse   time.Time
	broken    error // why loading failed, for a function made by Lazy (then every call fails so)

	// Set by validate, kept while unloaded.
	batch bool           // columnar ABI; else the numeric scalar ABI through a generated loop
	entry string         // the export called once per batch
	alloc bool           // exports wasql_alloc
	free  bool           // exports wasql_free
	shape rewrite.Result // what the rewriter reports, without the module
}

// Load validates def, rewrites and compiles its module, and instantiates it once to check that it
// links and initializes. That instance is closed at once: a function costs no instance memory
// until it is called (its first call instantiates it again). Every failure is an *Error with the
// SQLSTATE to report.
func (rt *Runtime) Load(ctx context.Context, def Definition) (*Function, error) {
	f := rt.newFunction(def, nil)
	if err := f.validate(); err != nil {
		return nil, err
	}
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	f.lastUse = time.Now()
	return f, rt.register(f)
}

// Lazy makes a function that is loaded at its first call: its module is fetched from source
// (and must hash to moduleHash), validated, rewritten, compiled (or taken from the disk cache)
// and instantiated then. A load that fails for the module's own reason makes the function
// broken: every call fails with 55000 and the reason (Function.Broken); a source that fails
// fails that call only. def.Module is ignored and nothing is checked now: use it for functions
// that were validated before, as a catalog's functions at server start.
func (rt *Runtime) Lazy(def Definition, moduleHash string, source func(context.Context) ([]byte, error)) (*Function, error) {
	def.Module = nil
	f := rt.newFunction(def, source)
	f.hash = moduleHash
	return f, rt.register(f)
}

func (rt *Runtime) newFunction(def Definition, source func(context.Context) ([]byte, error)) *Function {
	if def.Name == "" {
		def.Name = def.Export
	}
	def.Limits = def.Limits.orDefaults(rt.cfg.limits)
	f := &Function{rt: rt, def: def, source: source}
	if def.Module != nil {
		sum := sha256.Sum256(def.Module)
		f.hash = hex.EncodeToString(sum[:])
	}
	f.pool.init(rt.cfg.poolSize, f.newInstance)
	f.since = time.Now()
	return f
}

// check instantiates the module once: link errors and traps in its start function or
// _initialize surface here, at CREATE. The instance is closed; the compiled code stays in the
// runtime's cache (and on disk, with a cache directory).
//
// Without the real clock or randomness an instance's initialization is deterministic: a module
// that initialized under the same limits once does so again, and is not instantiated twice.
func (f *Function) check(ctx context.Context) error {
	key := checkKey{bin: sha256.Sum256(f.bin), timeout: f.def.Limits.Timeout, fuel: f.def.Limits.Fuel}
	deterministic := !f.def.Clock && !f.def.Random
	if deterministic && f.rt.wasChecked(key) {
		return nil
	}
	in, err := f.newInstance(ctx)
	if err != nil {
		return err
	}
	in.close()
	if deterministic {
		f.rt.checked(key)
	}
	return nil
}

// checkKey is what an instance's deterministic initialization depends on.
type checkKey struct {
	bin     [32]byte // the rewritten module (its memory cap included)
	timeout time.Duration
	fuel    uint64
}

func (rt *Runtime) wasChecked(k checkKey) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	_, ok := rt.checks[k]
	return ok
}

func (rt *Runtime) checked(k checkKey) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.checks) >= 1<<17 {
		clear(rt.checks) // a bound, not a policy: the next CREATEs check again
	}
	rt.checks[k] = struct{}{}
}

func (rt *Runtime) register(f *Function) error {
	rt.mu.Lock()
	closed := rt.closed
	if !closed {
		rt.functions[f] = struct{}{}
	}
	rt.mu.Unlock()
	if closed {
		f.pool.close()
		return errors.New("runtime closed")
	}
	return nil
}

// code returns the rewritten module, loading it first if need be, and counts an instance being
// made (newInstance gives it back with done).
// It reports whether this call loaded it.
func (f *Function) code(ctx context.Context) (bin []byte, loaded bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastUse = time.Now()
	if f.bin == nil {
		if f.broken != nil {
			return nil, false, f.broken
		}
		if err := f.loadLocked(ctx); err != nil {
			return nil, false, err
		}
		loaded = true
	}
	f.instances++
	return f.bin, loaded, nil
}

// loadFailed makes the function broken after the first instance of a load failed for a reason
// of the module's own (not the memory budget or the caller's cancellation).
func (f *Function) loadFailed(err error) error {
	var e *Error
	if errors.As(err, &e) && (e.Kind == KindMemory || e.Kind == KindCanceled) {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken == nil {
		f.broken = Broken(f.def.Name, err)
		slog.Warn("function broken: it failed to load", "function", f.def.Name, "args", f.def.Args, "error", err)
		if f.instances == 0 {
			f.bin, f.def.Module = nil, nil
		}
	}
	return f.broken
}

// loadLocked fetches, checks and rewrites the module of a function made by Lazy; f.mu is held.
func (f *Function) loadLocked(ctx context.Context) error {
	if f.source == nil {
		return newError(KindInvalid, f.def.Name, "function has no module")
	}
	bin, err := f.source(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return &Error{Kind: KindCanceled, Function: f.def.Name, Row: -1, Message: "canceling statement due to user request", Err: err}
		}
		return Broken(f.def.Name, err) // not remembered: the store may answer next time
	}
	sum := sha256.Sum256(bin)
	if got := hex.EncodeToString(sum[:]); got != f.hash {
		f.broken = Broken(f.def.Name, fmt.Errorf("its module's bytes hash to %s, not %s: the stored module is corrupt", got, f.hash))
		return f.broken
	}
	f.def.Module = bin
	if err := f.validate(); err != nil {
		f.def.Module = nil
		f.broken = Broken(f.def.Name, err)
		return f.broken
	}
	f.counters().loads.Add(1)
	return nil
}

// done gives back the count taken by code, for an instance closed or never made.
func (f *Function) done() {
	f.mu.Lock()
	f.instances--
	f.mu.Unlock()
}

// unload drops the module bytes of a function made by Lazy that has no instance and was not
// used since before, reporting whether it did.
func (f *Function) unload(before time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.source == nil || f.bin == nil || f.instances > 0 || !f.lastUse.Before(before) {
		return false
	}
	f.bin, f.def.Module = nil, nil
	return true
}

// SetSource lets a function made by Load be unloaded when idle, as one made by Lazy is: source
// gives its module's bytes back when it is called again.
func (f *Function) SetSource(source func(context.Context) ([]byte, error)) {
	f.mu.Lock()
	f.source = source
	if f.instances == 0 { // CREATE's check instance is closed: until a call, a definition only
		f.bin, f.def.Module = nil, nil
	}
	f.mu.Unlock()
}

// Instances reports the function's instances now, busy or idle.
func (f *Function) Instances() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.instances
}

// Broken reports why the function could not be loaded, nil if it loaded or was not loaded yet.
func (f *Function) Broken() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.broken
}

// State is the function's load state: "unloaded" (a definition only), "loaded" (instances
// exist), "idle" (loaded, no instance), or "broken".
func (f *Function) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.broken != nil:
		return "broken"
	case f.bin == nil:
		return "unloaded"
	case f.instances > 0:
		return "loaded"
	}
	return "idle"
}

func (f *Function) validate() error {
	def := &f.def
	invalid := func(format string, args ...any) error {
		return newError(KindInvalid, def.Name, format, args...)
	}
	if len(def.Module) > f.rt.cfg.maxModuleBytes {
		e := newError(KindTooLarge, def.Name, "module is %d bytes, above the limit of %d", len(def.Module), f.rt.cfg.maxModuleBytes)
		e.Hint = fmt.Sprintf("the server's module size limit is %s; raise it with udf.Config.WithMaxModuleBytes", formatBytes(uint64(f.rt.cfg.maxModuleBytes)))
		return e
	}
	for i, t := range append(def.Args, def.Result) {
		if t < Smallint || t > Timestamp {
			if i == len(def.Args) {
				return invalid("unsupported result type %s", t)
			}
			return invalid("argument %d: unsupported type %s", i+1, t)
		}
	}
	if def.Export == "" {
		return invalid("no export name")
	}
	info, err := rewrite.Inspect(def.Module)
	if err != nil {
		return moduleError(def.Name, err)
	}
	for _, im := range info.Imports {
		if im.Kind != rewrite.KindFunc {
			return invalid("module imports %s %s.%s; wasm functions may import only functions (docs/abi.md §5.1)", kindName(im.Kind), im.Module, im.Name)
		}
		if !allowedImports[im.Module][im.Name] {
			return invalid("module imports %s.%s, which is not allowed (docs/abi.md §5.1)", im.Module, im.Name)
		}
	}
	exports := map[string]rewrite.Export{}
	version := 0
	for _, e := range info.Exports {
		exports[e.Name] = e
		if v, ok := strings.CutPrefix(e.Name, abiMarker); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n != abiVersion {
				return invalid("module targets wasql ABI %q, this server supports v%d", "v"+v, abiVersion)
			}
			version = n
		}
	}
	_, f.alloc = exports[allocExport]
	_, f.free = exports[freeExport]
	if f.alloc {
		if err := checkSig(exports[allocExport], "(i32) -> i32"); err != nil {
			return invalid("export %s: %v", allocExport, err)
		}
	}
	if f.free {
		if err := checkSig(exports[freeExport], "(i32, i32) -> ()"); err != nil {
			return invalid("export %s: %v", freeExport, err)
		}
	}
	opts := rewrite.Options{MaxMemoryPages: pagesFor(def.Limits.MemoryBytes)}
	if e, ok := exports[batchPrefix+def.Export]; ok {
		f.batch, f.entry = true, e.Name
		if err := checkSig(e, "(i32) -> i32"); err != nil {
			return invalid("export %s: %v", e.Name, err)
		}
		if version == 0 {
			return invalid("module exports %s but no ABI marker; export a function named %s%d (docs/abi.md §1)", e.Name, abiMarker, abiVersion)
		}
		if !f.alloc {
			return invalid("module exports %s but not %s (i32) -> i32 (docs/abi.md §4.1)", e.Name, allocExport)
		}
		if !info.HasMemory {
			return invalid("module exports %s but has no memory", e.Name)
		}
	} else {
		e, ok := exports[def.Export]
		if !ok {
			return invalid("module has no export %q (nor %q)", def.Export, batchPrefix+def.Export)
		}
		if e.Kind != rewrite.KindFunc {
			return invalid("export %q is a %s, not a function", def.Export, kindName(e.Kind))
		}
		if err := f.checkScalar(e); err != nil {
			return err
		}
		f.entry = rewrite.LoopPrefix + def.Export
		loop := rewrite.Loop{Export: def.Export, Result: def.Result.column()}
		for _, t := range def.Args {
			loop.Args = append(loop.Args, t.column())
		}
		opts.Loops = []rewrite.Loop{loop}
	}
	rw, err := rewrite.Rewrite(def.Module, opts)
	if err != nil {
		return moduleError(def.Name, err)
	}
	f.bin, f.shape = rw.Module, *rw
	f.shape.Module = nil
	return nil
}

// checkScalar checks a numeric scalar export against the declared SQL signature.
func (f *Function) checkScalar(e rewrite.Export) error {
	def := &f.def
	invalid := func(format string, args ...any) error {
		return newError(KindInvalid, def.Name, format, args...)
	}
	for _, t := range append(def.Args, def.Result) {
		if t.wasmType() == 0 {
			return invalid("type %s needs the columnar ABI: export %s%s (docs/abi.md §4)", t, batchPrefix, def.Export)
		}
	}
	if def.OnNull == CalledOnNull {
		return invalid("CALLED ON NULL INPUT needs the columnar ABI (export %s%s); export %q is a numeric scalar export, which cannot receive NULL: declare the function STRICT", batchPrefix, def.Export, def.Export)
	}
	p, r := e.Type.Params, e.Type.Results
	if len(p) != len(def.Args) {
		return invalid("export %q takes %d parameters %s, the function declares %d arguments", def.Export, len(p), sigString(e.Type), len(def.Args))
	}
	for i, t := range def.Args {
		if p[i] != t.wasmType() {
			return invalid("argument %d is %s, which needs Wasm %s, but export %q takes %s there %s", i+1, t, valName(t.wasmType()), def.Export, valName(p[i]), sigString(e.Type))
		}
	}
	if len(r) != 1 || r[0] != def.Result.wasmType() {
		return invalid("result is %s, which needs Wasm %s, but export %q returns %s", def.Result, valName(def.Result.wasmType()), def.Export, sigString(e.Type))
	}
	return nil
}

func checkSig(e rewrite.Export, want string) error {
	if e.Kind != rewrite.KindFunc {
		return fmt.Errorf("is a %s, not a function", kindName(e.Kind))
	}
	if got := sigString(e.Type); got != want {
		return fmt.Errorf("has type %s, want %s", got, want)
	}
	return nil
}

func sigString(t rewrite.FuncType) string {
	names := func(vs []byte) string {
		s := make([]string, len(vs))
		for i, v := range vs {
			s[i] = valName(v)
		}
		return strings.Join(s, ", ")
	}
	res := names(t.Results)
	if len(t.Results) != 1 {
		res = "(" + res + ")"
	}
	return "(" + names(t.Params) + ") -> " + res
}

func valName(v byte) string {
	switch v {
	case rewrite.I32:
		return "i32"
	case rewrite.I64:
		return "i64"
	case rewrite.F32:
		return "f32"
	case rewrite.F64:
		return "f64"
	case rewrite.V128:
		return "v128"
	case 0x70:
		return "funcref"
	case 0x6f:
		return "externref"
	}
	return fmt.Sprintf("0x%02x", v)
}

func kindName(k byte) string {
	return [...]string{"function", "table", "memory", "global", "tag"}[min(int(k), 4)]
}

// moduleError turns a decoding or rewriting failure into an *Error.
func moduleError(fn string, err error) error {
	var u *rewrite.UnsupportedError
	var m *rewrite.MemoryError
	var l *rewrite.LimitError
	switch {
	case errors.As(err, &u):
		return &Error{Kind: KindUnsupported, Function: fn, Row: -1, Message: "module " + u.Error(), Err: err}
	case errors.As(err, &m):
		return &Error{Kind: KindTooLarge, Function: fn, Row: -1, Message: m.Error(), Err: err,
			Hint: fmt.Sprintf("the function's memory limit is %d pages; raise it with WITH (memory = '%s')", m.MaxPages, formatBytes(uint64(m.MinPages)*pageSize))}
	case errors.As(err, &l):
		return &Error{Kind: KindTooLarge, Function: fn, Row: -1, Message: "module too large to run safely: " + err.Error(), Err: err}
	}
	return &Error{Kind: KindInvalid, Function: fn, Row: -1, Message: "invalid module: " + err.Error(), Err: err}
}

// Name is the function's SQL name.
func (f *Function) Name() string { return f.def.Name }

// Definition returns the definition the function was loaded from, with its limits resolved.
func (f *Function) Definition() Definition { return f.def }

// Hash is the hex SHA-256 of the module bytes as given.
func (f *Function) Hash() string { return f.hash }

// Columnar reports whether the function uses the columnar batch ABI.
func (f *Function) Columnar() bool { return f.batch }

// Stats returns the function's counters.
func (f *Function) Stats() Stats {
	if s := f.stats.Load(); s != nil {
		return s.read()
	}
	return Stats{Since: f.since, Buckets: make([]int64, latencyBuckets)}
}

// Called reports whether the function has counters: it was called (or reset) since it was made.
func (f *Function) Called() bool { return f.stats.Load() != nil }

// counters returns the function's counters, making them at first use.
func (f *Function) counters() *stats {
	if s := f.stats.Load(); s != nil {
		return s
	}
	s := &stats{}
	s.since.Store(f.since.UnixNano())
	if f.stats.CompareAndSwap(nil, s) {
		return s
	}
	return f.stats.Load()
}

// ResetStats sets the function's counters to zero.
func (f *Function) ResetStats() { f.counters().reset() }

// Close stops the function: idle instances are closed at once, busy ones when their session
// ends. Sessions already running finish normally; new ones fail.
func (f *Function) Close() {
	if f.closed.Swap(true) {
		return
	}
	f.pool.close()
	f.rt.mu.Lock()
	delete(f.rt.functions, f)
	f.rt.mu.Unlock()
}

// Eval evaluates the function over rows rows in a session of its own.
func (f *Function) Eval(ctx context.Context, rows int, args ...Column) (Column, error) {
	s := f.Session()
	defer s.Close()
	return s.Eval(ctx, rows, args...)
}
