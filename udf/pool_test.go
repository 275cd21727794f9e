package udf

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// TestHammer runs many goroutines through small pools of two functions, with traps mixed in,
// under -race in CI.
func TestHammer(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(3))
	ctx := context.Background()
	div := load(t, rt, Definition{Name: "div", Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint})
	slugify := load(t, rt, Definition{Name: "slugify", Module: fixture(t, "c_funcs.wasm"), Export: "slugify", Args: []Type{Text}, Result: Text})
	count := load(t, rt, Definition{Name: "count", Module: fixture(t, "memory.wasm"), Export: "count", Args: []Type{Bigint}, Result: Bigint})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				n := 1 + (g*7+i)%300
				a, b := NewColumn(Bigint, n), NewColumn(Bigint, n)
				for r := range n {
					a.Ints[r], b.Ints[r] = int64(r*g), int64(r%5+1)
				}
				trap := i%10 == 3
				if trap {
					b.Ints[n-1] = 0
				}
				got, err := div.Eval(ctx, n, a, b)
				switch {
				case trap && (err == nil || !isKind(err, KindTrap)):
					errs <- fmt.Errorf("g%d i%d: want a trap, got %v", g, i, err)
				case !trap && err != nil:
					errs <- fmt.Errorf("g%d i%d: %v", g, i, err)
				case !trap && got.Ints[n-1] != a.Ints[n-1]/b.Ints[n-1]:
					errs <- fmt.Errorf("g%d i%d: wrong result", g, i)
				}
				s := texts(Text, fmt.Sprintf("Goroutine %d, Iteration %d", g, i))
				if got, err := slugify.Eval(ctx, 1, s); err != nil || string(got.Bytes[0]) != fmt.Sprintf("goroutine-%d-iteration-%d", g, i) {
					errs <- fmt.Errorf("slugify g%d i%d: %q %v", g, i, got.Bytes, err)
				}
				// count sees a fresh instance state in every session, whoever used the instance before.
				if got, err := count.Eval(ctx, 2, ints(Bigint, 0, 0)); err != nil || got.Ints[1] != 4 {
					errs <- fmt.Errorf("count g%d i%d: %v %v (state leaked between sessions)", g, i, got.Ints, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if idle := div.pool.idleCount(); idle > 3 {
		t.Fatalf("%d idle instances in a pool of 3", idle)
	}
}

// TestCloseWhileRunning: a session that started before Close (OR REPLACE, DROP) finishes on
// its instance; new sessions fail cleanly.
func TestCloseWhileRunning(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	f, err := rt.Load(ctx, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	if err != nil {
		t.Fatal(err)
	}
	s := f.Session()
	if _, err := s.Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 2)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err := s.Eval(ctx, 1, ints(Bigint, 3), ints(Bigint, 4)); err != nil || got.Ints[0] != 7 {
		t.Fatalf("running session after Close: %v %v", got.Ints, err)
	}
	s.Close()
	_, err = f.Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 2))
	wantError(t, err, "57014", "dropped or replaced")
}

// TestCompiledModulesEvicted: with a tiny budget, modules without instances are evicted and
// recompiled on demand.
func TestCompiledModulesEvicted(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithCompiledBudget(1).WithIdleTimeout(20*time.Millisecond))
	ctx := context.Background()
	var fns []*Function
	for _, e := range []string{"add", "div"} {
		fns = append(fns, load(t, rt, Definition{Module: fixture(t, "numeric.wasm"), Export: e, Args: []Type{Bigint, Bigint}, Result: Bigint}))
	}
	fns = append(fns, load(t, rt, Definition{Module: fixture(t, "fib.wasm"), Export: "fib_iter", Args: []Type{Bigint}, Result: Bigint}))
	// Load keeps no instance: nothing holds the compiled code, and the tiny budget evicts it.
	if total, _ := rt.CompiledModules(); total != 0 {
		t.Fatalf("%d compiled modules held after Load, want 0", total)
	}
	var open []*Session
	for _, f := range fns {
		s := f.Session()
		args := []Column{ints(Bigint, 1), ints(Bigint, 1)}[:len(f.def.Args)]
		if _, err := s.Eval(ctx, 1, args...); err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	if total, _ := rt.CompiledModules(); total != 3 {
		t.Fatalf("%d compiled modules, want 3 (each has its own generated loop)", total)
	}
	for _, s := range open {
		s.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for total, _ := rt.CompiledModules(); total > 0; total, _ = rt.CompiledModules() {
		if time.Now().After(deadline) {
			t.Fatalf("%d compiled modules still held after their instances idled out", total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := fns[0].Eval(ctx, 1, ints(Bigint, 2), ints(Bigint, 3))
	if err != nil || got.Ints[0] != 5 {
		t.Fatalf("after eviction: %v %v", got.Ints, err)
	}
}

func TestDiskCache(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	def := Definition{Module: fixture(t, "go_funcs.wasm"), Export: "add_scalar", Args: []Type{Bigint, Bigint}, Result: Bigint}
	for round := range 2 {
		rt := newRuntime(t, NewConfig().WithCacheDir(dir))
		start := time.Now()
		f := load(t, rt, def)
		t.Logf("round %d: load took %v", round, time.Since(start))
		if got, err := f.Eval(ctx, 1, ints(Bigint, 2), ints(Bigint, 3)); err != nil || got.Ints[0] != 5 {
			t.Fatalf("round %d: %v %v", round, got.Ints, err)
		}
		rt.Close(ctx)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache dir is empty: %v", err)
	}
}
