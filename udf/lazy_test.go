package udf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLazyLoad: a function made by Lazy fetches nothing until its first call, loads then,
// answers, is unloaded when idle (its instances closed, its bytes dropped) and loads again at the
// next call.
func TestLazyLoad(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithIdleTimeout(-1)) // sweep by hand
	mod := fixture(t, "numeric.wasm")
	var fetches atomic.Int32
	f, err := rt.Lazy(Definition{Name: "plus", Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint}, hashOf(mod),
		func(context.Context) ([]byte, error) { fetches.Add(1); return mod, nil })
	if err != nil {
		t.Fatal(err)
	}
	if fetches.Load() != 0 || f.State() != "unloaded" {
		t.Fatalf("before any call: %d fetches, state %s", fetches.Load(), f.State())
	}
	eval := func() {
		t.Helper()
		got, err := f.Eval(context.Background(), 2, ints(Bigint, 1, 2), ints(Bigint, 10, 20))
		if err != nil || got.Ints[0] != 11 || got.Ints[1] != 22 {
			t.Fatalf("plus: %v %v", got.Ints, err)
		}
	}
	eval()
	if fetches.Load() != 1 || f.State() != "loaded" || f.Instances() != 1 {
		t.Fatalf("after a call: %d fetches, state %s, %d instances", fetches.Load(), f.State(), f.Instances())
	}
	rt.sweep(time.Now().Add(time.Hour)) // everything is idle since before then
	if f.State() != "unloaded" || f.Instances() != 0 {
		t.Fatalf("after the sweep: state %s, %d instances", f.State(), f.Instances())
	}
	eval()
	if fetches.Load() != 2 || f.Stats().Loads != 2 || f.Stats().Rows != 4 {
		t.Fatalf("after a second load: %d fetches, stats %+v", fetches.Load(), f.Stats())
	}
	if s := rt.Stats(); s.Functions != 1 || s.Loaded != 1 || s.Instances != 1 {
		t.Fatalf("runtime stats %+v", s)
	}
}

// TestLazyBroken: a module that no longer validates, or whose bytes do not match their hash,
// makes the function broken (55000, with the reason) at its first call, and stays so; a source
// that fails (a store that cannot answer) is an error for that call only.
func TestLazyBroken(t *testing.T) {
	rt := newRuntime(t)
	mod := fixture(t, "numeric.wasm")
	def := Definition{Name: "plus", Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint}
	call := func(f *Function) error {
		_, err := f.Eval(context.Background(), 1, ints(Bigint, 1), ints(Bigint, 2))
		return err
	}

	corrupt, _ := rt.Lazy(def, hashOf(mod), func(context.Context) ([]byte, error) { return append([]byte{}, mod[:len(mod)-1]...), nil })
	for range 2 {
		wantError(t, call(corrupt), "55000", "plus", "corrupt")
	}
	if corrupt.State() != "broken" || corrupt.Broken() == nil {
		t.Fatalf("state %s, broken %v", corrupt.State(), corrupt.Broken())
	}

	wrong := def
	wrong.Export = "no_such_export"
	invalid, _ := rt.Lazy(wrong, hashOf(mod), func(context.Context) ([]byte, error) { return mod, nil })
	wantError(t, call(invalid), "55000", "no_such_export")

	tries := 0
	flaky, _ := rt.Lazy(def, hashOf(mod), func(context.Context) ([]byte, error) {
		if tries++; tries == 1 {
			return nil, errors.New("store unreachable")
		}
		return mod, nil
	})
	wantError(t, call(flaky), "55000", "store unreachable")
	if err := call(flaky); err != nil {
		t.Fatalf("after the store answered: %v", err)
	}
}

// TestStatsCounters: calls, rows, batches, errors by kind, the latency buckets and their
// quantiles, fuel, and a reset.
func TestStatsCounters(t *testing.T) {
	rt := newRuntime(t)
	div := load(t, rt, Definition{Name: "div", Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint, Limits: Limits{Fuel: 1 << 20}})
	n := 3000 // three batches of at most 1024 rows
	a, b := NewColumn(Bigint, n), NewColumn(Bigint, n)
	for i := range n {
		a.Ints[i], b.Ints[i] = int64(i), 1
	}
	if _, err := div.Eval(context.Background(), n, a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := div.Eval(context.Background(), 1, ints(Bigint, 1), ints(Bigint, 0)); err == nil {
		t.Fatal("division by zero did not trap")
	}
	s := div.Stats()
	calls := int64(0)
	for _, c := range s.Buckets {
		calls += c
	}
	if s.Evals != 2 || s.Rows != int64(n) || s.Calls != 4 || calls != s.Calls || s.Errors["trap"] != 1 || s.ErrorCount() != 1 ||
		s.P50 <= 0 || s.P99 < s.P50 || s.Time <= 0 || s.PeakMemory <= 0 {
		t.Fatalf("stats %+v", s)
	}
	// A leaf function without loops is not metered; a loop is.
	fib := load(t, rt, Definition{Name: "fib", Module: fixture(t, "fib.wasm"), Export: "fib_iter", Args: []Type{Bigint}, Result: Bigint})
	if _, err := fib.Eval(context.Background(), 1, ints(Bigint, 1000)); err != nil || fib.Stats().Fuel < 1000 {
		t.Fatalf("fib: %v, fuel %d", err, fib.Stats().Fuel)
	}
	div.ResetStats()
	if s := div.Stats(); s.Calls != 0 || s.Rows != 0 || s.ErrorCount() != 0 || s.P99 != 0 || !s.Since.After(time.Now().Add(-time.Minute)) {
		t.Fatalf("after reset %+v", s)
	}
}

// TestCreateFillsDiskCache: with a disk cache, CREATE's compiled code is on disk when it returns,
// and a second function of the same module compiles nothing.
func TestCreateFillsDiskCache(t *testing.T) {
	dir := t.TempDir()
	rt := newRuntime(t, NewConfig().WithCacheDir(dir))
	load(t, rt, Definition{Name: "plus", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no compiled code in the disk cache after CREATE")
	}
	load(t, rt, Definition{Name: "plus2", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	if s := rt.Stats(); s.Compiles != 1 || s.MemoryHits < 1 {
		t.Fatalf("compiles %d, memory hits %d: want 1 compile for one module", s.Compiles, s.MemoryHits)
	}
}
