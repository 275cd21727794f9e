package udf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The hostile-module suite: modules that try to escape metering, the memory limit or the
// compiler's patience (issue 8). Sources are udf/testdata/hostile/*.wat (gen.py writes the long
// ones); build.sh assembles them without validation, since several are invalid on purpose.

func hostile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/hostile/" + name)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// TestHostileIndices: guest code that names an index the original module does not have (which
// after rewriting would be the fuel counter, the fuel function's type, the generated loop, the
// host's memory, or the generated loop's label) is refused at load with 42P13 naming it.
func TestHostileIndices(t *testing.T) {
	rt := newRuntime(t)
	for _, c := range []struct{ file, export, want string }{
		{"index_local.wasm", "spin", "local index 1 out of range"},
		{"index_global.wasm", "spin", "global index 0 out of range"},
		{"index_func.wasm", "f", "function index 1 out of range"},
		{"index_type.wasm", "f", "type index 1 out of range"},
		{"index_memory.wasm", "peek", "memory index 0 out of range"},
		{"index_label.wasm", "f", "branch depth index 1 out of range"},
		{"index_elem.wasm", "f", "element segment 0: function index 1 out of range"},
	} {
		t.Run(c.file, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := rt.Load(context.Background(), Definition{Name: "h", Module: hostile(t, c.file), Export: c.export,
					Args: []Type{Bigint}, Result: Bigint, Limits: Limits{Timeout: 200 * time.Millisecond, Fuel: 1 << 62}})
				done <- err
			}()
			select {
			case err := <-done:
				wantError(t, err, "42P13", c.want)
			case <-time.After(10 * time.Second):
				t.Fatal("load did not return")
			}
		})
	}
}

// TestHostileBulk: loops around memory.fill/copy/init and table.fill/copy/init of ~1 MB (or
// 100k entries) per iteration, and a loop around call_indirect into a loop-free function of 12k
// instructions, all stop at a 200 ms timeout (within 2x; asserted with slack) and at cancellation.
func TestHostileBulk(t *testing.T) {
	rt := newRuntime(t)
	const limit = 200 * time.Millisecond
	cases := []struct{ file, export string }{
		{"bulk.wasm", "spin_fill"}, {"bulk.wasm", "spin_copy"}, {"bulk.wasm", "spin_init"},
		{"bulk.wasm", "spin_table_fill"}, {"bulk.wasm", "spin_table_copy"}, {"bulk.wasm", "spin_table_init"},
		{"indirect.wasm", "spin"},
	}
	for _, c := range cases {
		t.Run(c.export, func(t *testing.T) {
			f := load(t, rt, Definition{Name: c.export, Module: hostile(t, c.file), Export: c.export, Args: []Type{Bigint}, Result: Bigint,
				Limits: Limits{Timeout: limit, Fuel: 1 << 62}})
			start := time.Now()
			_, err := f.Eval(context.Background(), 1, ints(Bigint, 1))
			took := time.Since(start)
			wantError(t, err, "57014", "timeout (200ms)")
			t.Logf("%s/%s: stopped after %v (limit %v)", c.file, c.export, took.Round(time.Millisecond), limit)
			if took > 10*limit {
				t.Fatalf("took %v to stop a %v call", took, limit)
			}

			g := load(t, rt, Definition{Name: c.export, Module: hostile(t, c.file), Export: c.export, Args: []Type{Bigint}, Result: Bigint,
				Limits: Limits{Timeout: time.Hour, Fuel: 1 << 62}})
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			start = time.Now()
			_, err = g.Eval(ctx, 1, ints(Bigint, 1))
			took = time.Since(start)
			wantError(t, err, "57014", "canceling statement due to user request")
			t.Logf("%s/%s: canceled after %v (cancel at 50ms)", c.file, c.export, took.Round(time.Millisecond))
			if took > 2*time.Second {
				t.Fatalf("cancel took %v", took)
			}
		})
	}
}

// TestHostileBulkFuel: bulk instructions are charged by their size, deterministically: 1 MB of
// memory.fill costs 2^16 fuel, so ten fit in 10^6 fuel and a hundred do not, and the refusal
// reports the same fuel every time.
func TestHostileBulkFuel(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "fill_n", Module: hostile(t, "bulk.wasm"), Export: "fill_n", Args: []Type{Bigint}, Result: Bigint,
		Limits: Limits{Fuel: 1_000_000, Timeout: time.Minute}})
	got, err := f.Eval(context.Background(), 1, ints(Bigint, 10))
	if err != nil || got.Ints[0] != 10 {
		t.Fatalf("fill_n(10) = %v, %v", got.Ints, err)
	}
	var msgs []string
	for range 2 {
		_, err := f.Eval(context.Background(), 1, ints(Bigint, 100))
		msgs = append(msgs, wantError(t, err, "54000", "fuel exhausted").Message)
	}
	if msgs[0] != msgs[1] {
		t.Fatalf("fuel is not deterministic: %q then %q", msgs[0], msgs[1])
	}
}

// TestHostileTables: table sizes count against the memory limit. Under memory = '1MB' a
// table.grow of 100M or 2^32-2 entries returns -1 at once (it used to add 765 MB to the process,
// or kill it), a grow that fits succeeds, memory.grow fails once tables hold the rest, and a
// declared size above the cap is refused at load with 54000.
func TestHostileTables(t *testing.T) {
	rt := newRuntime(t)
	mod := hostile(t, "tables.wasm")
	def := func(export string) Definition {
		return Definition{Name: export, Module: mod, Export: export, Args: []Type{Bigint}, Result: Bigint,
			Limits: Limits{MemoryBytes: 1 << 20}}
	}
	grow := load(t, rt, def("grow"))
	got, err := grow.Eval(context.Background(), 5, ints(Bigint, 100_000_000, 1<<32-2, 1000, 100_000, 30_000))
	if err != nil {
		t.Fatal(err)
	}
	// 1 MB holds 131072 entries at 8 bytes, less what memory holds (the module's page and the
	// host's): the huge grows fail, 1000 and 100,000 more fit, 30,000 more do not.
	if want := []int64{-1, -1, 1, 1001, -1}; !equalInts(got.Ints, want) {
		t.Fatalf("table.grow results %v, want %v", got.Ints, want)
	}

	// memory.grow fails once tables hold the room it needs, and works when they do not.
	both := load(t, rt, def("fill_then_mem"))
	if got, err := both.Eval(context.Background(), 1, ints(Bigint, 1000)); err != nil || got.Ints[0] < 1 {
		t.Fatalf("memory.grow(1) after 1000 table entries = %v, %v: want the old page count", got.Ints, err)
	}
	if got, err := both.Eval(context.Background(), 1, ints(Bigint, 110_000)); err != nil || got.Ints[0] != -1 {
		t.Fatalf("memory.grow(1) after 110000 table entries under 1MB = %v, %v: want -1", got.Ints, err)
	}

	memGrow := load(t, rt, def("mem_grow"))
	if got, err := memGrow.Eval(context.Background(), 2, ints(Bigint, 4, 100)); err != nil || got.Ints[0] < 1 || got.Ints[1] != -1 {
		t.Fatalf("memory.grow = %v, %v: want a page count, then -1 past 1MB", got.Ints, err)
	}

	_, err = rt.Load(context.Background(), Definition{Name: "big", Module: hostile(t, "table_big_min.wasm"), Export: "f",
		Args: []Type{Bigint}, Result: Bigint})
	wantError(t, err, "54000", fmt.Sprintf("table 0: initial size (entries) 200000000 is above the limit of %d",
		uint64(pagesFor(DefaultLimits.MemoryBytes))*65536/8))
	_, err = rt.Load(context.Background(), Definition{Name: "big", Module: hostile(t, "table_big_min.wasm"), Export: "f",
		Args: []Type{Bigint}, Result: Bigint, Limits: Limits{MemoryBytes: 1 << 20}})
	wantError(t, err, "54000", "above the limit of 131072")
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHostileLocals: a leaf scalar export with more than 1000 locals (not inlined) used to panic
// the rewriter; it loads and runs.
func TestHostileLocals(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "inc", Module: hostile(t, "many_locals.wasm"), Export: "inc", Args: []Type{Bigint}, Result: Bigint})
	got, err := f.Eval(context.Background(), 3, ints(Bigint, 1, 2, 41))
	if err != nil || !equalInts(got.Ints, []int64{2, 3, 42}) {
		t.Fatalf("inc = %v, %v", got.Ints, err)
	}
}

// TestHostileCompileBounds: what makes compiling slow is bounded with a 54000 at load naming the
// bound and its value, and refused quickly.
func TestHostileCompileBounds(t *testing.T) {
	rt := newRuntime(t)
	for _, c := range []struct {
		name string
		mod  []byte
		want string
	}{
		{"nesting", hostile(t, "nest_deep.wasm"), "function 0: block nesting depth 1025 is above the limit of 1024"},
		{"blocks", hostile(t, "blocks_many.wasm"), "function 0: count of blocks, loops and ifs 4097 is above the limit of 4096"},
		{"br_table", hostile(t, "br_table_big.wasm"), "function 0: br_table size 8193 is above the limit of 8192"},
		{"control work", genBlocks(5, 4096), "module: control-flow work (blocks² + br_table labels²/8, summed over functions) 83886080 is above the limit of 67108864"},
		{"functions", genFuncs(100_001), "function count 100001 is above the limit of 100000"},
		{"locals", genLocals(50_001), "local count (parameters included) 50002 is above the limit of 50000"},
		{"globals", genGlobals(10_001), "module: global count 10001 is above the limit of 10000"},
		{"types", genTypes(10_001), "module: type count 10001 is above the limit of 10000"},
		{"exports", genExports(10_001), "module: export count 10001 is above the limit of 10000"},
		{"function size", genBody(append(bytes.Repeat([]byte{0x01}, 1<<20), 0x20, 0, 0x0b)), "function 0: body size in bytes 1048579 is above the limit of 1048576"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := rt.Load(context.Background(), Definition{Name: "f", Module: c.mod, Export: "f", Args: []Type{Bigint}, Result: Bigint})
			wantError(t, err, "54000", c.want)
			t.Logf("%s: refused in %v", c.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestHostileCompileAtBounds: modules just inside the bounds load; the time to load them (compile
// included) is logged, and asserted only with a generous bound.
func TestHostileCompileAtBounds(t *testing.T) {
	rt := newRuntime(t)
	nested := []byte{0}
	for range 1023 {
		nested = append(nested, 0x02, 0x40)
	}
	for range 1023 {
		nested = append(nested, 0x0b)
	}
	nested = append(nested, 0x20, 0, 0x0b)
	table := []byte{0, 0x02, 0x40, 0x20, 0, 0xa7, 0x0e}
	table = uleb(table, 8192)
	for range 8193 {
		table = append(table, 0)
	}
	table = append(table, 0x0b, 0x20, 0, 0x0b)
	for _, c := range []struct {
		name string
		mod  []byte
	}{
		{"nesting 1024", genBody(nested)},
		{"br_table 8192", genBody(table)},
		{"control work 4 x 4096 blocks", genBlocks(4, 4096)},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			f := load(t, rt, Definition{Name: "f", Module: c.mod, Export: "f", Args: []Type{Bigint}, Result: Bigint})
			took := time.Since(start)
			t.Logf("%s: loaded in %v", c.name, took.Round(time.Millisecond))
			if got, err := f.Eval(context.Background(), 1, ints(Bigint, 7)); err != nil || got.Ints[0] != 7 {
				t.Fatalf("f(7) = %v, %v", got.Ints, err)
			}
			if took > 30*time.Second {
				t.Fatalf("loading took %v", took)
			}
		})
	}
}

// genBody is a module whose export f (i64) -> i64 has the given body (locals vector included).
func genBody(body []byte) []byte {
	types := []byte{1, 0x60, 1, 0x7e, 1, 0x7e}
	code := append(uleb([]byte{1}, uint32(len(body))), body...)
	return module(section(1, types), section(3, []byte{1, 0}), section(7, []byte{1, 1, 'f', 0, 0}), section(10, code))
}

// genFuncs is a module of n functions () -> () plus an export f (i64) -> i64.
func genFuncs(n int) []byte {
	types := []byte{2, 0x60, 0, 0, 0x60, 1, 0x7e, 1, 0x7e}
	funcs := uleb(nil, uint32(n))
	code := uleb(nil, uint32(n))
	for i := range n {
		if i == 0 {
			funcs = append(funcs, 1)
			code = append(code, 4, 0, 0x20, 0, 0x0b)
			continue
		}
		funcs = append(funcs, 0)
		code = append(code, 2, 0, 0x0b)
	}
	exports := []byte{1, 1, 'f', 0, 0}
	return module(section(1, types), section(3, funcs), section(7, exports), section(10, code))
}

// genBlocks is a module of n functions (i64) -> i64, exported as f the first, each with blocks
// empty blocks in a row.
func genBlocks(n, blocks int) []byte {
	types := []byte{1, 0x60, 1, 0x7e, 1, 0x7e}
	funcs := uleb(nil, uint32(n))
	code := uleb(nil, uint32(n))
	for range n {
		funcs = append(funcs, 0)
		body := []byte{0}
		for range blocks {
			body = append(body, 0x02, 0x40, 0x0b)
		}
		body = append(body, 0x20, 0, 0x0b)
		code = append(uleb(code, uint32(len(body))), body...)
	}
	return module(section(1, types), section(3, funcs), section(7, []byte{1, 1, 'f', 0, 0}), section(10, code))
}

// genGlobals is the module of genBody with n mutable i32 globals more.
func genGlobals(n int) []byte {
	g := uleb(nil, uint32(n))
	for range n {
		g = append(g, 0x7f, 1, 0x41, 0, 0x0b)
	}
	return module(section(1, []byte{1, 0x60, 1, 0x7e, 1, 0x7e}), section(3, []byte{1, 0}), section(6, g),
		section(7, []byte{1, 1, 'f', 0, 0}), section(10, []byte{1, 4, 0, 0x20, 0, 0x0b}))
}

// genTypes is the module of genBody with n types in all.
func genTypes(n int) []byte {
	types := append(uleb(nil, uint32(n)), 0x60, 1, 0x7e, 1, 0x7e)
	for range n - 1 {
		types = append(types, 0x60, 0, 0)
	}
	return module(section(1, types), section(3, []byte{1, 0}), section(7, []byte{1, 1, 'f', 0, 0}),
		section(10, []byte{1, 4, 0, 0x20, 0, 0x0b}))
}

// genExports is the module of genBody exporting its function under n names (f, e1, e2, ...).
func genExports(n int) []byte {
	exports := append(uleb(nil, uint32(n)), 1, 'f', 0, 0)
	for i := 1; i < n; i++ {
		name := fmt.Sprintf("e%d", i)
		exports = append(append(append(exports, byte(len(name))), name...), 0, 0)
	}
	return module(section(1, []byte{1, 0x60, 1, 0x7e, 1, 0x7e}), section(3, []byte{1, 0}), section(7, exports),
		section(10, []byte{1, 4, 0, 0x20, 0, 0x0b}))
}

// genLocals is a module whose export f (i64) -> i64 declares n more i64 locals.
func genLocals(n int) []byte {
	types := []byte{1, 0x60, 1, 0x7e, 1, 0x7e}
	body := append(uleb([]byte{1}, uint32(n)), 0x7e, 0x20, 0, 0x0b)
	code := append(uleb([]byte{1}, uint32(len(body))), body...)
	return module(section(1, types), section(3, []byte{1, 0}), section(7, []byte{1, 1, 'f', 0, 0}), section(10, code))
}

func uleb(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

func section(id byte, payload []byte) []byte {
	return append(uleb([]byte{id}, uint32(len(payload))), payload...)
}

func module(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

// TestHostileRSS: while hostile modules run, the process's resident memory stays within the sum
// of the functions' memory limits plus a fixed overhead (generous: this is a shared test binary).
func TestHostileRSS(t *testing.T) {
	rt := newRuntime(t)
	runtime.GC()
	before := procStatus(t, "VmRSS")
	// Sample VmRSS while the modules run, not only after.
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if v := procStatus(t, "VmRSS"); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var limits uint64
	const memLimit = 1 << 20
	mod := hostile(t, "tables.wasm")
	for range 8 {
		f := load(t, rt, Definition{Name: "grow", Module: mod, Export: "grow", Args: []Type{Bigint}, Result: Bigint,
			Limits: Limits{MemoryBytes: memLimit}})
		limits += memLimit
		if _, err := f.Eval(context.Background(), 3, ints(Bigint, 100_000_000, 1<<32-2, 100_000)); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []string{"spin_fill", "spin_table_fill"} {
		f := load(t, rt, Definition{Name: e, Module: hostile(t, "bulk.wasm"), Export: e, Args: []Type{Bigint}, Result: Bigint,
			Limits: Limits{Timeout: 200 * time.Millisecond, Fuel: 1 << 62, MemoryBytes: 8 << 20}})
		limits += 8 << 20
		_, err := f.Eval(context.Background(), 1, ints(Bigint, 1))
		wantError(t, err, "57014")
	}
	close(stop)
	<-sampled
	after, hwm := procStatus(t, "VmRSS"), procStatus(t, "VmHWM")
	const overhead = 256 << 20
	t.Logf("VmRSS %d MB before, %d MB at most while running, %d MB after (VmHWM %d MB); sum of memory limits %d MB",
		before>>20, peak.Load()>>20, after>>20, hwm>>20, limits>>20)
	if p := max(peak.Load(), after); p > before+limits+overhead {
		t.Fatalf("RSS grew by %d MB, above the sum of memory limits (%d MB) plus %d MB", (p-before)>>20, limits>>20, overhead>>20)
	}
}

// procStatus reads a field of /proc/self/status, in bytes. It may run on any goroutine: a
// failure is reported with t.Errorf and reads as 0.
func procStatus(t *testing.T, field string) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Errorf("read /proc/self/status: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Errorf("%s: %v", field, err)
			}
			return kb << 10
		}
	}
	t.Errorf("no %s in /proc/self/status", field)
	return 0
}
