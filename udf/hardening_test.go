package udf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/internal/wiretext"
)

// TestZeroConfig: the zero Config is the default one, not a configuration that refuses every
// module ("above the limit of 0").
func TestZeroConfig(t *testing.T) {
	if got, want := (Config{}).withDefaults(), NewConfig(); got != want {
		t.Fatalf("zero config %+v, want the defaults %+v", got, want)
	}
	rt := newRuntime(t, Config{})
	f := load(t, rt, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	got, err := f.Eval(context.Background(), 1, ints(Bigint, 2), ints(Bigint, 3))
	if err != nil || got.Ints[0] != 5 {
		t.Fatalf("add under the zero config: %v %v", got.Ints, err)
	}
	if d := f.Definition().Limits; d != DefaultLimits {
		t.Fatalf("limits %+v, want %+v", d, DefaultLimits)
	}
}

// TestTimeoutIsTheBound: with no fuel option a long call runs until its timeout, and stops with
// the timeout error (not a hidden default fuel budget that ends it long before).
func TestTimeoutIsTheBound(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "spin", Module: fixture(t, "fib.wasm"), Export: "spin", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{Timeout: 2 * time.Second}})
	start := time.Now()
	_, err := f.Eval(context.Background(), 1, ints(Bigint, 1))
	took := time.Since(start)
	e := wantError(t, err, "57014", "timeout (2s)")
	if e.Kind != KindTimeout {
		t.Fatalf("kind %v, want a timeout", e.Kind)
	}
	t.Logf("a 2s timeout stopped the call after %v", took)
	if took > 20*time.Second {
		t.Fatalf("took %v", took)
	}
}

// TestLimitHints: every limit error says which limit, its value and how to raise it.
func TestLimitHints(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, NewConfig().WithFuelSlice(10_000))
	check := func(name string, err error, code string, hint ...string) {
		t.Helper()
		e := wantError(t, err, code)
		if got := sqlstate.Hint(err); got == "" || got != e.SQLHint() {
			t.Fatalf("%s: no hint: %v", name, err)
		}
		for _, h := range hint {
			if !strings.Contains(e.Hint, h) {
				t.Fatalf("%s: hint %q does not mention %q", name, e.Hint, h)
			}
		}
	}
	spin := load(t, rt, Definition{Name: "spin", Module: fixture(t, "fib.wasm"), Export: "spin", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{Timeout: 50 * time.Millisecond}})
	_, err := spin.Eval(ctx, 1, ints(Bigint, 1))
	check("timeout", err, "57014", "timeout is 50ms", "WITH (timeout = '100ms')")

	fuel := load(t, rt, Definition{Name: "fib_iter", Module: fixture(t, "fib.wasm"), Export: "fib_iter", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{Fuel: 100_000}})
	_, err = fuel.Eval(ctx, 1, ints(Bigint, 10_000_000))
	check("fuel", err, "54000", "100000 units per row", "WITH (fuel = 1000000)")

	bomb := load(t, rt, Definition{Name: "bomb", Module: fixture(t, "memory.wasm"), Export: "bomb", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{MemoryBytes: 2 << 20}})
	_, err = bomb.Eval(ctx, 1, ints(Bigint, 1))
	check("memory", err, "53200", "memory limit is 2MB", "WITH (memory = '4MB')")

	upper := load(t, rt, Definition{Name: "upper", Module: fixture(t, "batch.wasm"), Export: "upper", Args: []Type{Text}, Result: Text,
		Limits: Limits{ResultBytes: 1000}})
	big := strings.Repeat("a", 600)
	_, err = upper.Eval(ctx, 2, texts(Text, big, big))
	check("result", err, "54000", "result limit is 1000 bytes", "WITH (result = '")

	small := newRuntime(t, NewConfig().WithMaxModuleBytes(16))
	_, err = small.Load(ctx, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	check("module size", err, "54000", "module size limit is 16 bytes", "WithMaxModuleBytes")

	// A batch whose input cannot fit the function's memory.
	tiny := load(t, rt, Definition{Name: "upper", Module: fixture(t, "batch.wasm"), Export: "upper", Args: []Type{Text}, Result: Text,
		Limits: Limits{MemoryBytes: 1 << 20}})
	_, err = tiny.Eval(ctx, 1, texts(Text, strings.Repeat("x", 2<<20)))
	check("batch", err, "53200", "memory limit is 1MB", "WITH (memory = '2MB')")
}

// TestGuestTextSanitized: a row error's message and the guest's output reach the error with no
// NUL, no invalid UTF-8 and bounded, whatever the guest wrote.
func TestGuestTextSanitized(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "noisy", Module: fixture(t, "noisy.wasm"), Export: "noisy", Args: []Type{Bytea}, Result: Text})
	for name, in := range map[string][]byte{
		"nul":          []byte("before\x00after\x00\x00"),
		"invalid utf8": []byte("bad \xff\xfe\xc3 bytes"),
		"control":      []byte("\x1b[31mred\r\x7f"),
		"one megabyte": bytes.Repeat([]byte("é\x00x\xff"), 1<<18),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.Eval(context.Background(), 1, Column{Type: Bytea, Bytes: [][]byte{in}})
			e := wantError(t, err, "38000", "noisy: row 1")
			for field, s := range map[string]string{"message": e.Message, "detail": e.Detail, "error": err.Error()} {
				if strings.ContainsRune(s, 0) || !utf8.ValidString(s) || strings.ContainsAny(s, "\x1b\r\x7f") {
					t.Fatalf("%s carries raw guest bytes: %q", field, s[:min(len(s), 200)])
				}
			}
			if len(e.Message) > wiretext.MaxGuest || len(e.Detail) > wiretext.MaxGuest {
				t.Fatalf("message %d bytes, detail %d bytes: above %d", len(e.Message), len(e.Detail), wiretext.MaxGuest)
			}
			if e.Detail == "" {
				t.Fatal("the guest's output is missing from the detail")
			}
		})
	}
}

// TestStatementSharesInstance: every call of one function in a statement uses one session and
// one instance, even with a pool of one.
func TestStatementSharesInstance(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := load(t, rt, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	st := NewStatement()
	a, b := st.Session(f), st.Session(f)
	if a != b {
		t.Fatal("two sessions of one function in one statement")
	}
	for i := range 3 {
		if _, err := a.Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 2)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Session().Eval(ctx, 0, ints(Bigint), ints(Bigint)); err != nil { // no rows: no instance
			t.Fatal(i, err)
		}
	}
	a.Close() // a no-op: the statement closes its sessions
	if f.pool.idleCount() != 0 {
		t.Fatal("Session.Close of a statement's session returned its instance")
	}
	st.Close()
	if f.pool.idleCount() != 1 {
		t.Fatalf("%d idle instances after Statement.Close, want 1", f.pool.idleCount())
	}
}

// TestTrySession: a statement's extra sessions take an instance only from a free slot of the
// pool, never waiting and never lent beyond its size; they count as instances the statement
// holds, replace a trapped instance without waiting, and close with Session.Close or
// Statement.Close.
func TestTrySession(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(2))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	div := load(t, rt, Definition{Name: "div", Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint})
	busy := div.Session() // holds one of the two slots
	if _, err := busy.Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 1)); err != nil {
		t.Fatal(err)
	}
	st := NewStatement()
	a, ok := st.TrySession(ctx, div)
	if !ok {
		t.Fatal("TrySession failed with a free slot")
	}
	if _, ok := st.TrySession(ctx, div); ok {
		t.Fatal("TrySession took an instance from a pool at its size")
	}
	if n := len(div.pool.slots()); n != 2 {
		t.Fatalf("%d slots in use, want 2", n)
	}
	// The statement holds an instance, so its own session is lent one instead of waiting.
	if got, err := st.Session(div).Eval(ctx, 1, ints(Bigint, 9), ints(Bigint, 3)); err != nil || got.Ints[0] != 3 {
		t.Fatalf("statement session: %v %v", got.Ints, err)
	}
	// A trap discards a's instance; a gets another one at once (the pool has no free slot).
	short, stop := context.WithTimeout(ctx, 5*time.Second)
	_, err := a.Eval(short, 2, ints(Bigint, 4, 4), ints(Bigint, 2, 0))
	stop()
	if e := wantError(t, err, "38000"); e.Kind != KindTrap || e.Row != 1 {
		t.Fatalf("kind %v row %d, want a trap at row 1", e.Kind, e.Row)
	}
	if got, err := a.Eval(ctx, 1, ints(Bigint, 8), ints(Bigint, 2)); err != nil || got.Ints[0] != 4 {
		t.Fatalf("after the trap: %v %v", got.Ints, err)
	}
	a.Close()
	if a.in != nil {
		t.Fatal("Session.Close left an extra session's instance")
	}
	b, ok := st.TrySession(ctx, div)
	if !ok {
		t.Fatal("TrySession failed after an extra session closed")
	}
	if _, err := b.Eval(ctx, 1, ints(Bigint, 6), ints(Bigint, 2)); err != nil {
		t.Fatal(err)
	}
	st.Close() // closes b and the statement's own session
	if b.in != nil || st.held.Load() != 0 {
		t.Fatalf("Statement.Close left instances: extra %v, held %d", b.in != nil, st.held.Load())
	}
	busy.Close()
	if n := len(div.pool.slots()); n != 0 {
		t.Fatalf("%d slots still in use", n)
	}
	div.Close()
	if _, ok := NewStatement().TrySession(ctx, div); ok {
		t.Fatal("TrySession of a closed function")
	}
}

// TestStatementWaitWoken: a statement's session waiting for a slot (it held nothing when it
// asked) stops waiting as soon as another session of the same statement, used from another
// goroutine, gets an instance: it is lent one, so two statements each holding one function's
// only instance and wanting the other's cannot deadlock.
func TestStatementWaitWoken(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := load(t, rt, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	g := load(t, rt, Definition{Name: "div", Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint})
	hold := func(fn *Function) *Session {
		s := fn.Session()
		if _, err := s.Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 1)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	x, y := hold(f), hold(g) // both pools are at their size
	defer y.Close()
	st := NewStatement()
	defer st.Close()
	gDone := make(chan error, 1)
	go func() { // waits for g's slot: the statement holds nothing yet
		_, err := st.Session(g).Eval(ctx, 1, ints(Bigint, 8), ints(Bigint, 2))
		gDone <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it reach its wait (if not, it is lent one at once)
	x.Close()                         // f's slot frees: the statement gets f's instance...
	if _, err := st.Session(f).Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 2)); err != nil {
		t.Fatal(err)
	}
	select { // ...and its session of g, still waiting, is lent one while y holds g's only slot
	case err := <-gDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the statement's session of g still waits for a slot while the statement holds an instance")
	}
}

// TestStatementHammer: many statements at once, each calling two functions (in both orders)
// and the same function twice, through pools of one instance: none waits for an instance while
// holding one, so none deadlocks. Run under -race.
func TestStatementHammer(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(1))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	add := load(t, rt, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	div := load(t, rt, Definition{Name: "div", Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint})
	var wg sync.WaitGroup
	errs := make(chan error, 16*50)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				st := NewStatement()
				fns := []*Function{add, div, add}
				if g%2 == 1 {
					fns = []*Function{div, add, div}
				}
				for _, f := range fns {
					got, err := st.Session(f).Eval(ctx, 2, ints(Bigint, int64(g), 10), ints(Bigint, 1, 2))
					if err != nil {
						errs <- fmt.Errorf("g%d i%d %s: %v", g, i, f.Name(), err)
						break
					}
					if want := map[*Function]int64{add: 12, div: 5}[f]; got.Ints[1] != want {
						errs <- fmt.Errorf("g%d i%d %s: %d, want %d", g, i, f.Name(), got.Ints[1], want)
					}
				}
				st.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := add.pool.idleCount(); n > 1 {
		t.Fatalf("%d idle instances kept by a pool of 1", n)
	}
}

// TestPoolWaitHonoursContext: a statement that holds nothing waits for a busy pool only as long
// as its context allows, and fails with 57014.
func TestPoolWaitHonoursContext(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithPoolSize(1))
	f := load(t, rt, Definition{Name: "add", Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	busy := f.Session()
	if _, err := busy.Eval(context.Background(), 1, ints(Bigint, 1), ints(Bigint, 2)); err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.Eval(ctx, 1, ints(Bigint, 1), ints(Bigint, 2))
	e := wantError(t, err, "57014", "statement timeout")
	if !strings.Contains(e.Hint, "pool size") {
		t.Fatalf("hint %q", e.Hint)
	}
}

// TestMemoryBudget: the declared initial memory of every instance, snapshots and compiled code
// count against one budget; past it new instances are refused with 53200, idle ones are closed to
// make room, and closing gives everything back.
func TestMemoryBudget(t *testing.T) {
	const pages = 1000 << 16
	rt := newRuntime(t, NewConfig().WithMemoryBudget(3*pages+pages/2).WithPoolSize(8))
	ctx := context.Background()
	def := Definition{Name: "big", Module: fixture(t, "pages1000.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint}
	f := load(t, rt, def)
	if used, _ := rt.MemoryInUse(); used >= pages {
		t.Fatalf("%d bytes in use after Load: the validation instance was kept", used)
	}
	if n := f.pool.idleCount(); n != 0 {
		t.Fatalf("%d idle instances after Load, want 0", n)
	}
	var held []*Session
	for i := range 3 {
		s := f.Session()
		if _, err := s.Eval(ctx, 1, ints(Bigint, 1)); err != nil {
			t.Fatalf("instance %d: %v", i+1, err)
		}
		held = append(held, s)
		if sn := s.in.snapBytes; sn > 2*pageSize {
			t.Fatalf("snapshot of an untouched 1000-page memory is %d bytes", sn)
		}
	}
	used, limit := rt.MemoryInUse()
	t.Logf("three instances: %s of %s", formatBytes(uint64(used)), formatBytes(uint64(limit)))
	s := f.Session()
	_, err := s.Eval(ctx, 1, ints(Bigint, 1))
	e := wantError(t, err, "53200", "memory budget", "needs 64000kB more") // 1000 pages
	if !strings.Contains(e.Hint, "WithMemoryBudget") {
		t.Fatalf("hint %q", e.Hint)
	}
	s.Close()
	// Idle instances make room: close the held sessions (their instances go idle) and another
	// function's instance fits.
	for _, s := range held {
		s.Close()
	}
	g := load(t, rt, Definition{Name: "big2", Module: fixture(t, "pages1000.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint})
	gs := make([]*Session, 3)
	for i := range gs {
		gs[i] = g.Session()
		if _, err := gs[i].Eval(ctx, 1, ints(Bigint, 1)); err != nil {
			t.Fatalf("after the others went idle, instance %d: %v", i+1, err)
		}
	}
	for _, s := range gs {
		s.Close()
	}
	f.Close()
	g.Close()
	for rt.evictIdle() {
	}
	if used, _ := rt.MemoryInUse(); used != 0 {
		t.Fatalf("%d bytes still charged with no function left", used)
	}
}

// TestMemoryGrowWithinBudget: memory.grow past the server's budget fails in the guest (53200),
// even below the function's own limit.
func TestMemoryGrowWithinBudget(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithMemoryBudget(4<<20))
	bomb := load(t, rt, Definition{Name: "bomb", Module: fixture(t, "memory.wasm"), Export: "bomb", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{MemoryBytes: 64 << 20}})
	_, err := bomb.Eval(context.Background(), 1, ints(Bigint, 1))
	e := wantError(t, err, "53200", "out of memory")
	if !strings.Contains(err.Error(), "memory budget") {
		t.Fatalf("%v: does not say the budget was spent", err)
	}
	t.Log(e.Hint)
	if used, limit := rt.MemoryInUse(); used > limit {
		t.Fatalf("%d bytes charged, above the budget of %d", used, limit)
	}
}

// TestRSSTenCreates measures the resident memory of ten loads (CREATE FUNCTION) of a 41-byte
// module declaring 1000 pages. Run alone: go test -count=1 -run TestRSSTenCreates -v ./udf/
func TestRSSTenCreates(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	debug.FreeOSMemory()
	before := rss(t)
	var fns []*Function
	for i := range 10 {
		f, err := rt.Load(ctx, Definition{Name: fmt.Sprintf("big%d", i), Module: fixture(t, "pages1000.wasm"), Export: "f", Args: []Type{Bigint}, Result: Bigint})
		if err != nil {
			t.Fatal(err)
		}
		fns = append(fns, f)
	}
	runtime.GC()
	after := rss(t)
	for _, f := range fns {
		if _, err := f.Eval(ctx, 1, ints(Bigint, 1)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	called := rss(t)
	t.Logf("RSS: %d MB before, %d MB after ten loads, %d MB after one call of each (%d MB charged to the budget)",
		before>>20, after>>20, called>>20, func() int64 { u, _ := rt.MemoryInUse(); return u >> 20 }())
	if grew := after - before; grew > 300<<20 {
		t.Fatalf("ten loads grew RSS by %d MB", grew>>20)
	}
	for _, f := range fns {
		f.Close()
	}
}

func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: RSS is measured on Linux only")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
