package udf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasql/wasql/udf/internal/rewrite"
)

// The benchmarks behind docs/performance.md. Each reports ns/row or ns/call as a custom metric;
// TestPerfReport runs them interleaved several times and prints medians and ratios.

const batch = 1024

func benchAdd(b *testing.B, meter bool) {
	rt := newRuntime(b)
	def := Definition{Module: fixture(b, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint}
	f := load(b, rt, def)
	if !meter { // the same function with the fuel checks left out: the floor
		rw, err := rewrite.Rewrite(def.Module, rewrite.Options{NoMeter: true, MaxMemoryPages: pagesFor(DefaultLimits.MemoryBytes),
			Loops: []rewrite.Loop{{Export: "add", Args: []rewrite.Column{rewrite.ColI64, rewrite.ColI64}, Result: rewrite.ColI64}}})
		if err != nil {
			b.Fatal(err)
		}
		f.bin = rw.Module
		f.pool.close()
		f.pool = pool{}
		f.pool.init(1, f.newInstance)
	}
	x, y := NewColumn(Bigint, batch), NewColumn(Bigint, batch)
	for i := range batch {
		x.Ints[i], y.Ints[i] = int64(i), int64(2*i)
	}
	benchBatches(b, f, x, y)
}

// benchBatches evaluates f over the batch args in one session, reusing the result, and reports
// ns/row.
func benchBatches(b *testing.B, f *Function, args ...Column) {
	s := f.Session()
	defer s.Close()
	ctx := context.Background()
	var res Column
	b.ResetTimer()
	for b.Loop() {
		if err := s.EvalInto(ctx, &res, batch, args...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/row")
}

// BenchmarkAddBatch: add(bigint, bigint) through the batch path, 1024 rows per guest call.
func BenchmarkAddBatch(b *testing.B) { benchAdd(b, true) }

// BenchmarkAddBatchUnmetered: the same without fuel checks.
func BenchmarkAddBatchUnmetered(b *testing.B) { benchAdd(b, false) }

// fibCall calls fib_iter(n) on one instance of bin in a bare wazero runtime: the way to compare
// the original module with its rewrite, each with the other runtime option.
func benchFib(b *testing.B, bin []byte, closeOnDone bool) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
	defer r.Close(ctx)
	_, err := r.NewHostModuleBuilder(rewrite.FuelModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, s []uint64) { s[0] = 1 << 20 }),
			nil, []api.ValueType{api.ValueTypeI64}).Export(rewrite.FuelFunc).Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m, err := r.Instantiate(ctx, bin)
	if err != nil {
		b.Fatal(err)
	}
	if g := m.ExportedGlobal(rewrite.FuelGlobal); g != nil {
		g.(api.MutableGlobal).Set(1 << 62)
	}
	fn := m.ExportedFunction("fib_iter")
	stack := []uint64{0}
	const n = 10000
	b.ResetTimer()
	for b.Loop() {
		stack[0] = n
		if err := fn.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/iter")
}

func fibBins(b *testing.B) (orig, metered []byte) {
	orig = fixture(b, "fib.wasm")
	rw, err := rewrite.Rewrite(orig, rewrite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return orig, rw.Module
}

// BenchmarkFibPlain: iterative fib, original module, no termination checks at all (unsafe).
func BenchmarkFibPlain(b *testing.B) { o, _ := fibBins(b); benchFib(b, o, false) }

// BenchmarkFibMetered: the same loop after wasql's rewrite.
func BenchmarkFibMetered(b *testing.B) { _, m := fibBins(b); benchFib(b, m, false) }

// BenchmarkFibCloseOnDone: the original module under wazero's WithCloseOnContextDone.
func BenchmarkFibCloseOnDone(b *testing.B) { o, _ := fibBins(b); benchFib(b, o, true) }

// slugInput is batch strings of about 40 bytes.
func slugInput() Column {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"Hello", "World", "WebAssembly", "SQL", "user-defined", "Functions", "in", "Go", "wazero", "2026!"}
	c := NewColumn(Text, batch)
	for i := range c.Bytes {
		var sb strings.Builder
		for sb.Len() < 36 {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteString([]string{" ", ", ", " - ", "  "}[rng.IntN(4)])
		}
		c.Bytes[i] = []byte(sb.String())
	}
	return c
}

func benchSlugify(b *testing.B, guest string) {
	rt := newRuntime(b)
	f := load(b, rt, Definition{Module: fixture(b, guest), Export: "slugify", Args: []Type{Text}, Result: Text})
	benchBatches(b, f, slugInput())
}

// BenchmarkSlugifyC and BenchmarkSlugifyGo: text -> text over ~40-byte strings, 1024 per call.
func BenchmarkSlugifyC(b *testing.B)  { benchSlugify(b, "c_funcs.wasm") }
func BenchmarkSlugifyGo(b *testing.B) { benchSlugify(b, "go_funcs.wasm") }

var lifecycleModules = map[string]Definition{
	"tiny": {Module: nil, Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint},
	"go":   {Module: nil, Export: "add_scalar", Args: []Type{Bigint, Bigint}, Result: Bigint},
}

func lifecycleDef(b *testing.B, which string) Definition {
	d := lifecycleModules[which]
	d.Module = fixture(b, map[string]string{"tiny": "numeric.wasm", "go": "go_funcs.wasm"}[which])
	return d
}

// benchCheckout: open a session, take the pooled instance, reset and return it.
func benchCheckout(b *testing.B, which string) {
	rt := newRuntime(b)
	f := load(b, rt, lifecycleDef(b, which))
	ctx := context.Background()
	for b.Loop() {
		s := f.Session()
		if _, err := s.instance(ctx); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// benchInstantiate: a fresh instance: instantiate, _initialize, host region, snapshot; then close.
func benchInstantiate(b *testing.B, which string) {
	rt := newRuntime(b)
	f := load(b, rt, lifecycleDef(b, which))
	ctx := context.Background()
	for b.Loop() {
		in, err := f.newInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		in.close()
	}
}

// benchCompile: compile the rewritten module in a new runtime, without a cache or from a warm
// disk cache.
func benchCompile(b *testing.B, which string, disk bool) {
	ctx := context.Background()
	rt := newRuntime(b)
	f := load(b, rt, lifecycleDef(b, which))
	cfg := wazero.NewRuntimeConfig()
	if disk {
		cache, err := wazero.NewCompilationCacheWithDir(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer cache.Close(ctx)
		cfg = cfg.WithCompilationCache(cache)
		warm := wazero.NewRuntimeWithConfig(ctx, cfg)
		if _, err := warm.CompileModule(ctx, f.bin); err != nil {
			b.Fatal(err)
		}
		warm.Close(ctx)
	}
	for b.Loop() {
		r := wazero.NewRuntimeWithConfig(ctx, cfg)
		wasi_snapshot_preview1.MustInstantiate(ctx, r)
		if _, err := r.CompileModule(ctx, f.bin); err != nil {
			b.Fatal(err)
		}
		r.Close(ctx)
	}
}

func BenchmarkCheckoutTiny(b *testing.B)    { benchCheckout(b, "tiny") }
func BenchmarkCheckoutGo(b *testing.B)      { benchCheckout(b, "go") }
func BenchmarkInstantiateTiny(b *testing.B) { benchInstantiate(b, "tiny") }
func BenchmarkInstantiateGo(b *testing.B)   { benchInstantiate(b, "go") }
func BenchmarkCompileTiny(b *testing.B)     { benchCompile(b, "tiny", false) }
func BenchmarkCompileGo(b *testing.B)       { benchCompile(b, "go", false) }
func BenchmarkDiskCacheTiny(b *testing.B)   { benchCompile(b, "tiny", true) }
func BenchmarkDiskCacheGo(b *testing.B)     { benchCompile(b, "go", true) }

// TestPerfReport prints the table of docs/performance.md: every benchmark run WASQL_PERF_RUNS
// times (default 5), interleaved, medians, and the ratios the issue asks for.
//
//	WASQL_PERF=1 go test -run TestPerfReport -v ./udf/
func TestPerfReport(t *testing.T) {
	if os.Getenv("WASQL_PERF") == "" {
		t.Skip("performance report: set WASQL_PERF=1 to run it (takes about a minute per run)")
	}
	runs := 5
	fmt.Sscan(os.Getenv("WASQL_PERF_RUNS"), &runs)
	cases := []struct {
		name, unit string
		fn         func(*testing.B)
	}{
		{"add(bigint,bigint), 1024-row batches", "ns/row", BenchmarkAddBatch},
		{"same, fuel checks left out (floor)", "ns/row", BenchmarkAddBatchUnmetered},
		{"fib_iter, original, no checks (unsafe)", "ns/iter", BenchmarkFibPlain},
		{"fib_iter, metered by wasql", "ns/iter", BenchmarkFibMetered},
		{"fib_iter, original, WithCloseOnContextDone", "ns/iter", BenchmarkFibCloseOnDone},
		{"slugify ~40 B text, C guest", "ns/row", BenchmarkSlugifyC},
		{"slugify ~40 B text, Go guest", "ns/row", BenchmarkSlugifyGo},
		{"pooled checkout + reset, tiny WAT", "ns/op", BenchmarkCheckoutTiny},
		{"pooled checkout + reset, 2 MB Go", "ns/op", BenchmarkCheckoutGo},
		{"fresh instance, tiny WAT", "ns/op", BenchmarkInstantiateTiny},
		{"fresh instance, 2 MB Go", "ns/op", BenchmarkInstantiateGo},
		{"cold compile, tiny WAT", "ns/op", BenchmarkCompileTiny},
		{"cold compile, 2 MB Go", "ns/op", BenchmarkCompileGo},
		{"disk-cache compile, tiny WAT", "ns/op", BenchmarkDiskCacheTiny},
		{"disk-cache compile, 2 MB Go", "ns/op", BenchmarkDiskCacheGo},
	}
	results := make([][]float64, len(cases))
	for range runs {
		for i, c := range cases {
			r := testing.Benchmark(c.fn)
			v := float64(r.NsPerOp())
			if c.unit != "ns/op" {
				v = r.Extra[c.unit]
			}
			results[i] = append(results[i], v)
		}
	}
	med := func(i int) float64 {
		v := append([]float64(nil), results[i]...)
		sort.Float64s(v)
		return v[len(v)/2]
	}
	t.Logf("medians of %d runs", runs)
	t.Logf("| case | median | unit | runs |")
	t.Logf("|---|---|---|---|")
	for i, c := range cases {
		v, unit := med(i), c.unit
		if unit == "ns/op" && v > 1e5 {
			v, unit = v/1e6, "ms/op"
		} else if unit == "ns/op" && v > 1e3 {
			v, unit = v/1e3, "µs/op"
		}
		t.Logf("| %s | %.3g | %s | %s |", c.name, v, unit, fmtRuns(results[i]))
	}
	t.Logf("metering overhead on fib_iter: %+.1f%% (target ≤ 10%%)", 100*(med(3)/med(2)-1))
	t.Logf("WithCloseOnContextDone / metered: %.1f× (expected > 10×)", med(4)/med(3))
	t.Logf("add batch vs floor: %.2f× (target ≤ 5 ns/row)", med(0)/med(1))
}

func fmtRuns(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.3g", x)
	}
	return strings.Join(s, " ")
}
