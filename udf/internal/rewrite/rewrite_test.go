package rewrite

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// fixtures are the udf package's WAT fixtures and guests.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pat := range []string{"../../testdata/*.wasm", "../../testdata/guests/*.wasm", "../../testdata/hostile/*.wasm"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f)
			if strings.Contains(pat, "hostile") {
				name = "hostile/" + name
			}
			out[name] = b
		}
	}
	if len(out) < 10 {
		t.Fatalf("found %d fixtures", len(out))
	}
	return out
}

// host is a wazero runtime with WASI and an unlimited fuel function, counting refuels.
type host struct {
	r       wazero.Runtime
	refuels int
}

func newHost(t testing.TB) *host {
	ctx := context.Background()
	h := &host{r: wazero.NewRuntime(ctx)}
	t.Cleanup(func() { h.r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, h.r)
	_, err := h.r.NewHostModuleBuilder(FuelModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, s []uint64) {
			h.refuels++
			s[0] = 1000
		}), nil, []api.ValueType{api.ValueTypeI64}).Export(FuelFunc).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *host) instantiate(t testing.TB, bin []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	cm, err := h.r.CompileModule(ctx, bin)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	m, err := h.r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	return m
}

// TestFixturesStillValid rewrites every fixture wazero accepts and checks wazero accepts the result.
func TestFixturesStillValid(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	for name, bin := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			_, origErr := r.CompileModule(ctx, bin)
			res, err := Rewrite(bin, Options{MaxMemoryPages: 1024})
			var u *UnsupportedError
			var m *MemoryError
			var l *LimitError
			switch {
			case errors.As(err, &u) || errors.As(err, &m) || errors.As(err, &l):
				return
			case err != nil && origErr != nil:
				return // both refuse
			case err != nil:
				if strings.Contains(err.Error(), "reserved") || strings.Contains(err.Error(), "imported memory") {
					return
				}
				t.Fatalf("wazero accepts the module but Rewrite fails: %v", err)
			case origErr != nil:
				t.Fatalf("wazero refuses the original (%v) but Rewrite accepted it", origErr)
			}
			if _, err := r.CompileModule(ctx, res.Module); err != nil {
				t.Fatalf("rewritten module does not compile: %v", err)
			}
		})
	}
}

// TestSameResults calls the i64 exports of the fixtures before and after rewriting.
func TestSameResults(t *testing.T) {
	ctx := context.Background()
	cases := map[string][]string{
		"numeric.wasm": {"add", "div", "answer", "next_day", "kilo"},
		"fib.wasm":     {"fib_iter", "fib_rec"},
		"reindex.wasm": {"apply"},
		"simd.wasm":    {"mix", "shuffle"},
		"reactor.wasm": {"plus_init"},
		"memory.wasm":  {"count"},
	}
	all := fixtures(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for file, exports := range cases {
		h := newHost(t)
		res, err := Rewrite(all[file], Options{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		orig := h.instantiate(t, all[file])
		rew := h.instantiate(t, res.Module)
		for _, e := range exports {
			fo, fr := orig.ExportedFunction(e), rew.ExportedFunction(e)
			for range 50 {
				args := make([]uint64, len(fo.Definition().ParamTypes()))
				for i := range args {
					args[i] = uint64(rng.IntN(25)) + 1
				}
				want, err1 := fo.Call(ctx, args...)
				got, err2 := fr.Call(ctx, args...)
				if (err1 == nil) != (err2 == nil) || (err1 == nil && want[0] != got[0]) {
					t.Fatalf("%s %s%v: original %v %v, rewritten %v %v", file, e, args, want, err1, got, err2)
				}
			}
		}
	}
}

// TestMeteringCounts checks that loops and recursion both reach the fuel function.
func TestMeteringCounts(t *testing.T) {
	ctx := context.Background()
	bin := fixtures(t)["fib.wasm"]
	res, err := Rewrite(bin, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		export string
		arg    uint64
	}{{"fib_iter", 100000}, {"fib_rec", 20}} {
		h := newHost(t)
		m := h.instantiate(t, res.Module)
		if _, err := m.ExportedFunction(c.export).Call(ctx, c.arg); err != nil {
			t.Fatal(err)
		}
		// 1000 fuel per slice: 100000 loop iterations or ~20000 recursive calls need many slices.
		if h.refuels < 50 {
			t.Fatalf("%s(%d): %d refuels, metering does not see the work", c.export, c.arg, h.refuels)
		}
	}
}

func TestLoopAndMemory(t *testing.T) {
	ctx := context.Background()
	bin := fixtures(t)["numeric.wasm"]
	res, err := Rewrite(bin, Options{MaxMemoryPages: 2, Loops: []Loop{{Export: "add", Args: []Column{ColI64, ColI64}, Result: ColI64}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AddedMemory {
		t.Fatal("numeric.wasm has no memory: the rewriter must add one")
	}
	h := newHost(t)
	m := h.instantiate(t, res.Module)
	mem := m.ExportedMemory(MemoryExport)
	for i := uint32(0); i < 10; i++ {
		mem.WriteUint64Le(800+8*i, uint64(i))
		mem.WriteUint64Le(1600+8*i, uint64(100*i))
	}
	if _, err := m.ExportedFunction(LoopPrefix+"add").Call(ctx, 10, 0, 800, 1600); err != nil {
		t.Fatal(err)
	}
	for i := uint32(0); i < 10; i++ {
		if v, _ := mem.ReadUint64Le(8 * i); v != uint64(101*i) {
			t.Fatalf("row %d: %d, want %d", i, v, 101*i)
		}
	}
	if _, ok := mem.Grow(1); !ok {
		t.Fatal("growing to the cap of 2 pages failed")
	}
	if _, ok := mem.Grow(1); ok {
		t.Fatal("memory grew past the cap")
	}
}

func TestRefusals(t *testing.T) {
	all := fixtures(t)
	var u *UnsupportedError
	if _, err := Rewrite(all["threads.wasm"], Options{}); !errors.As(err, &u) {
		t.Fatalf("threads: %v, want UnsupportedError", err)
	}
	var m *MemoryError
	if _, err := Rewrite(all["big_memory.wasm"], Options{MaxMemoryPages: 100}); !errors.As(err, &m) {
		t.Fatalf("big memory: %v, want MemoryError", err)
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x0d\x00\x01\x00"), []byte("not wasm at all")} {
		if _, err := Rewrite(bad, Options{}); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: %v, want ErrMalformed", bad, err)
		}
	}
	if res, err := Rewrite(all["reindex.wasm"], Options{}); err != nil || !res.Stateful {
		t.Fatalf("reindex.wasm uses table.set: stateful=%v err=%v", res != nil && res.Stateful, err)
	}
}
