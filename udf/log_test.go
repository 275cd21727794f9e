package udf

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// collect returns a Log that records its messages, amendments replacing them in place.
func collect() (*Log, func() []string) {
	var mu sync.Mutex
	var msgs []string
	l := NewLog(func(m string) func(string) {
		mu.Lock()
		defer mu.Unlock()
		i := len(msgs)
		msgs = append(msgs, m)
		return func(m string) { mu.Lock(); msgs[i] = m; mu.Unlock() }
	})
	return l, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), msgs...) }
}

func TestLogLines(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "logger", Module: fixture(t, "logger.wasm"), Export: "logger", Args: []Type{Bytea}, Result: Integer})
	l, got := collect()
	ctx := WithLog(context.Background(), l)
	if _, err := f.Eval(ctx, 2, texts(Bytea, "one\ntwo\r\n", "thr\x00ee\xff\x1b[31m\nlast")); err != nil {
		t.Fatal(err)
	}
	want := []string{"logger: one", "logger: two", "logger: thr\ufffdee\ufffd\ufffd[31m", "logger: last"}
	if g := got(); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", g, want)
	}
	// Without a log: nothing is reported, the call works.
	if _, err := f.Eval(context.Background(), 1, texts(Bytea, "x\n")); err != nil {
		t.Fatal(err)
	}
	// A statement's log.
	st := NewStatement()
	l2, got2 := collect()
	st.SetLog(l2)
	if _, err := st.Session(f).Eval(context.Background(), 1, texts(Bytea, "a\nb")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if g := got2(); fmt.Sprint(g) != fmt.Sprint([]string{"logger: a", "logger: b"}) {
		t.Fatalf("statement log: %q", g)
	}
	// A long line is cut.
	l3, got3 := collect()
	if _, err := f.Eval(WithLog(context.Background(), l3), 1, texts(Bytea, strings.Repeat("é", 5000))); err != nil {
		t.Fatal(err)
	}
	if g := got3(); len(g) != 1 || len(g[0]) > len("logger: ")+1024 || !strings.HasSuffix(g[0], "…") {
		t.Fatalf("long line: %d messages, %.40q", len(g), g)
	}
}

func TestLogBound(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "logger", Module: fixture(t, "logger.wasm"), Export: "logger", Args: []Type{Bytea}, Result: Integer})
	l, got := collect()
	ctx := WithLog(context.Background(), l)
	rows := make([]string, 250)
	for i := range rows {
		rows[i] = fmt.Sprintf("line %d\n", i)
	}
	// Concurrent calls on several instances share the log.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Eval(ctx, len(rows), texts(Bytea, rows...)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	g := got()
	if len(g) != LogMaxLines+1 || g[LogMaxLines] != "logger: 900 more log lines dropped" {
		t.Fatalf("%d messages, last %q", len(g), g[len(g)-1])
	}
	// The byte bound.
	l2, got2 := collect()
	big := strings.Repeat("x", 1000) + "\n"
	if _, err := f.Eval(WithLog(context.Background(), l2), 1, texts(Bytea, strings.Repeat(big, 40))); err != nil {
		t.Fatal(err)
	}
	if g := got2(); len(g) != 17 || g[16] != "logger: 24 more log lines dropped" {
		t.Fatalf("%d messages, last %q", len(g), g[len(g)-1])
	}
}

func TestLogErrorDetailKept(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "noisy", Module: fixture(t, "noisy.wasm"), Export: "noisy", Args: []Type{Bytea}, Result: Text})
	l, got := collect()
	_, err := f.Eval(WithLog(context.Background(), l), 1, texts(Bytea, "boom\n"))
	wantError(t, err, "38000", "noisy: row 1")
	if g := got(); fmt.Sprint(g) != fmt.Sprint([]string{"noisy: boom"}) {
		t.Fatalf("log %q", g)
	}
}

func TestTrapStackNames(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "trapper", Module: fixture(t, "trapper.wasm"), Export: "trapper", Args: []Type{Integer}, Result: Integer})
	_, err := f.Eval(context.Background(), 1, ints(Integer, 0))
	e := wantError(t, err, "38000", "trapper: row 1 (input 0): wasm trap: integer divide by zero in wasql_batch_trapper")
	if want := "guest output:\ncall\n\nwasm stack:\nat div_helper\nat wasql_batch_trapper"; e.Detail != want {
		t.Fatalf("detail %q, want %q", e.Detail, want)
	}
	// A deep stack is cut at 16 frames.
	long := "wasm error: stack overflow\nwasm stack trace:\n" + strings.Repeat("\t.rec(i32) i32\n\t\t0x12: a.c:3:1\n", 29) + "\t.wasql.__fuel()\n\t.__wasql_loop_f(i32)\n\t.\x00bad\xff(i32)\n\t... maybe followed by omitted frames"
	d := trapStack(long)
	if n := strings.Count(d, "at rec"); n != 16 || !strings.HasSuffix(d, "\n... more frames") {
		t.Fatalf("%d frames: %q", n, d)
	}
	if d := trapStack("x\nwasm stack trace:\n\t.wasql.__fuel()\n\t.\x00bad\xff(i32)\n\t.f()"); d != "wasm stack:\nat \ufffdbad\ufffd\nat f" {
		t.Fatalf("%q", d)
	}
}

// A log whose emit cannot amend: Flush emits the final dropped count.
func TestLogFlush(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "logger", Module: fixture(t, "logger.wasm"), Export: "logger", Args: []Type{Bytea}, Result: Integer})
	var msgs []string
	l := NewLog(func(m string) func(string) { msgs = append(msgs, m); return nil })
	if _, err := f.Eval(WithLog(context.Background(), l), 1, texts(Bytea, strings.Repeat("x\n", 103))); err != nil {
		t.Fatal(err)
	}
	l.Flush()
	l.Flush()
	if len(msgs) != 102 || msgs[100] != "logger: 1 more log lines dropped" || msgs[101] != "logger: 3 more log lines dropped" {
		t.Fatalf("%d messages: %q", len(msgs), msgs[99:])
	}
}

// A trapped batch is rerun in halves to find the row; the reruns log nothing again.
func TestLogTrapBisectOnce(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "trapper", Module: fixture(t, "trapper.wasm"), Export: "trapper", Args: []Type{Integer}, Result: Integer})
	l, got := collect()
	_, err := f.Eval(WithLog(context.Background(), l), 4, ints(Integer, 0, 1, 2, 3))
	wantError(t, err, "38000", "row 1 (input 0)", "integer divide by zero")
	if g := got(); fmt.Sprint(g) != "[trapper: call]" {
		t.Fatalf("%q", g)
	}
}

// BenchmarkLogLines: a guest's log lines end to end, 100 rows of one ~40-byte line each per call,
// all within the bound (a fresh Log per call), the call's own cost included.
func BenchmarkLogLines(b *testing.B) {
	rt := newRuntime(b)
	f := load(b, rt, Definition{Name: "logger", Module: fixture(b, "logger.wasm"), Export: "logger", Args: []Type{Bytea}, Result: Integer})
	rows := make([]string, 100)
	for i := range rows {
		rows[i] = fmt.Sprintf("a log line of about forty bytes: %d\n", i)
	}
	in := texts(Bytea, rows...)
	s := f.Session()
	defer s.Close()
	b.ResetTimer()
	for range b.N {
		l := NewLog(func(string) func(string) { return nil })
		if _, err := s.Eval(WithLog(context.Background(), l), len(rows), in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/line")
}
