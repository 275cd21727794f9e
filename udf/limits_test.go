package udf

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func TestTimeLimit(t *testing.T) {
	rt := newRuntime(t)
	mod := fixture(t, "fib.wasm")
	for _, c := range []struct{ export string }{
		{"spin"},    // an infinite loop
		{"fib_rec"}, // loop-free recursion: fib(60) takes years
	} {
		t.Run(c.export, func(t *testing.T) {
			f := load(t, rt, Definition{Name: c.export, Module: mod, Export: c.export, Args: []Type{Bigint}, Result: Bigint,
				Limits: Limits{Timeout: 100 * time.Millisecond, Fuel: 1 << 62}})
			// A GC during the call must not hang the process (wazero without checks blocks STW).
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
						runtime.GC()
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
			defer close(stop)
			start := time.Now()
			_, err := f.Eval(context.Background(), 1, ints(Bigint, 60))
			took := time.Since(start)
			wantError(t, err, "57014", c.export+": ", "timeout (100ms)")
			t.Logf("stopped after %v", took)
			if took > 5*time.Second {
				t.Fatalf("took %v to stop a 100ms call", took)
			}
			// The next call works on a fresh instance.
			g := load(t, rt, Definition{Module: mod, Export: "fib_iter", Args: []Type{Bigint}, Result: Bigint})
			got, err := g.Eval(context.Background(), 1, ints(Bigint, 90))
			if err != nil || got.Ints[0] != 2880067194370816120 {
				t.Fatalf("fib_iter(90) = %v, %v", got.Ints, err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "spin", Module: fixture(t, "fib.wasm"), Export: "spin", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{Timeout: time.Hour, Fuel: 1 << 62}})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := f.Eval(ctx, 1, ints(Bigint, 1))
	wantError(t, err, "57014", "canceling statement due to user request")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("cancel took %v", took)
	}
	if !isKind(err, KindCanceled) {
		t.Fatalf("kind: %v", err)
	}
}

func isKind(err error, k Kind) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == k
}

func TestFuelLimit(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithFuelSlice(10_000))
	f := load(t, rt, Definition{Name: "fib_iter", Module: fixture(t, "fib.wasm"), Export: "fib_iter", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{Fuel: 100_000}})
	// ~20 fuel per iteration: 1000 iterations fit, ten million do not.
	if got, err := f.Eval(context.Background(), 1, ints(Bigint, 1000)); err != nil {
		t.Fatalf("fib_iter(1000): %v %v", got, err)
	}
	_, err := f.Eval(context.Background(), 1, ints(Bigint, 10_000_000))
	wantError(t, err, "54000", "fuel exhausted", "row 1 (input 10000000)")
}

func TestMemoryLimit(t *testing.T) {
	rt := newRuntime(t)
	mod := fixture(t, "memory.wasm")
	bomb := load(t, rt, Definition{Name: "bomb", Module: mod, Export: "bomb", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{MemoryBytes: 2 << 20}})
	_, err := bomb.Eval(context.Background(), 1, ints(Bigint, 1))
	wantError(t, err, "53200", "out of memory", "2MB")

	grow := load(t, rt, Definition{Module: mod, Export: "grow_ok", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{MemoryBytes: 1 << 20}})
	// 16 pages is the cap; the host region took one more page beyond the module's one.
	got, err := grow.Eval(context.Background(), 2, ints(Bigint, 1, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if got.Ints[0] < 1 || got.Ints[1] != -1 {
		t.Fatalf("memory.grow results %v: want a page count, then -1 past the cap", got.Ints)
	}
}

func TestStateReset(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(1))
	mod := fixture(t, "memory.wasm")
	f := load(t, rt, Definition{Module: mod, Export: "count", Args: []Type{Bigint}, Result: Bigint})
	// count returns calls-so-far (global) + calls-so-far (memory) + x.
	s := f.Session()
	got, err := s.Eval(context.Background(), 3, ints(Bigint, 0, 0, 0))
	if err != nil || got.Ints[0] != 2 || got.Ints[2] != 6 {
		t.Fatalf("first session: %v %v", got.Ints, err)
	}
	s.Close()
	got, err = f.Eval(context.Background(), 1, ints(Bigint, 0))
	if err != nil || got.Ints[0] != 2 {
		t.Fatalf("second session sees state of the first: %v %v", got.Ints, err)
	}

	keep := load(t, rt, Definition{Module: mod, Export: "count", Args: []Type{Bigint}, Result: Bigint, KeepState: true})
	for i, want := range []int64{2, 4, 6} {
		got, err := keep.Eval(context.Background(), 1, ints(Bigint, 0))
		if err != nil || got.Ints[0] != want {
			t.Fatalf("keep_state call %d: %v %v, want %d", i, got.Ints, err, want)
		}
	}
}

func TestResultLimit(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "upper", Module: fixture(t, "batch.wasm"), Export: "upper", Args: []Type{Text}, Result: Text,
		Limits: Limits{ResultBytes: 1000}})
	big := make([]byte, 600)
	for i := range big {
		big[i] = 'a'
	}
	if _, err := f.Eval(context.Background(), 1, texts(Text, string(big))); err != nil {
		t.Fatal(err)
	}
	_, err := f.Eval(context.Background(), 2, texts(Text, string(big), string(big)))
	wantError(t, err, "54000", "1200 bytes", "limit")
}
