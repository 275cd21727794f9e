package udf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// Function is a loaded wasm function: validated, rewritten, compiled, with a pool of instances.
// It is safe for concurrent use; each Session uses one instance at a time.
type Function struct {
	rt     *Runtime
	def    Definition // Limits resolved against the runtime's defaults
	hash   string
	batch  bool   // columnar ABI; else the numeric scalar ABI through a generated loop
	entry  string // the export called once per batch
	bin    []byte // the rewritten module
	rw     *rewrite.Result
	alloc  bool // exports wasql_alloc
	free   bool // exports wasql_free
	pool   *pool
	stats  struct{ calls, rows, errors, nanos atomic.Int64 }
	closed atomic.Bool
}

// Load validates def, rewrites and compiles its module, and instantiates it once to check that it
// links and initializes. That instance is closed at once: a function costs no instance memory
// until it is called (its first call instantiates it again). Every failure is an *Error with the
// SQLSTATE to report.
func (rt *Runtime) Load(ctx context.Context, def Definition) (*Function, error) {
	if def.Name == "" {
		def.Name = def.Export
	}
	def.Limits = def.Limits.orDefaults(rt.cfg.limits)
	f := &Function{rt: rt, def: def}
	if err := f.validate(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(def.Module)
	f.hash = hex.EncodeToString(sum[:])
	f.pool = newPool(rt.cfg.poolSize, f.newInstance)

	// Instantiate once: link errors and traps in start or _initialize surface here, at CREATE.
	in, err := f.newInstance(ctx)
	if err != nil {
		return nil, err
	}
	in.close()
	rt.mu.Lock()
	closed := rt.closed
	if !closed {
		rt.functions[f] = struct{}{}
	}
	rt.mu.Unlock()
	if closed {
		f.pool.close()
		return nil, errors.New("runtime closed")
	}
	return f, nil
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
	f.bin, f.rw = rw.Module, rw
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

// Stats are a function's call counters since it was loaded.
type Stats struct {
	Calls, Rows, Errors int64 // guest calls, rows evaluated, failed Eval calls
	Time                time.Duration
}

// Stats returns the function's counters.
func (f *Function) Stats() Stats {
	return Stats{Calls: f.stats.calls.Load(), Rows: f.stats.rows.Load(), Errors: f.stats.errors.Load(),
		Time: time.Duration(f.stats.nanos.Load())}
}

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
