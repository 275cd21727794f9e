package udf

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestColumnarHandWritten(t *testing.T) {
	rt := newRuntime(t)
	mod := fixture(t, "batch.wasm")
	ctx := context.Background()
	upper := load(t, rt, Definition{Name: "upper", Module: mod, Export: "upper", Args: []Type{Text}, Result: Text})
	in := texts(Text, "abc", "", "Hello, World", "ünï", "x")
	in.Nulls = []bool{false, false, false, false, true}
	got, err := upper.Eval(ctx, 5, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"ABC", "", "HELLO, WORLD", "üNï"} {
		if string(got.Bytes[i]) != want || got.IsNull(i) {
			t.Fatalf("row %d: %q, want %q", i, got.Bytes[i], want)
		}
	}
	if !got.IsNull(4) {
		t.Fatal("STRICT: NULL in must give NULL out")
	}

	// A row error names the function, the row (in the caller's numbering, NULL rows included) and the input.
	in = texts(Text, "a", "b", "c", "d!")
	in.Nulls = []bool{true, false, false, false}
	_, err = upper.Eval(ctx, 4, in)
	e := wantError(t, err, "38000", `upper: row 4 (input "d!"): exclamation marks are not allowed`)
	if e.Row != 3 {
		t.Fatalf("row %d", e.Row)
	}

	for _, c := range []struct {
		export, code, msg string
	}{
		{"bad_status", "38000", "returned status 7"},
		{"bad_offsets", "38000", "offsets must start at 0 and end at data_len 5"},
		{"bad_utf8", "22021", `invalid byte sequence for encoding "UTF8"`},
	} {
		f := load(t, rt, Definition{Name: c.export, Module: mod, Export: c.export, Args: []Type{Text}, Result: Text})
		_, err := f.Eval(ctx, 3, texts(Text, "a", "b", "c"))
		wantError(t, err, c.code, c.msg)
	}

	nie := load(t, rt, Definition{Module: mod, Export: "null_if_even", Args: []Type{Bigint}, Result: Bigint, OnNull: CalledOnNull})
	x := ints(Bigint, 1, 2, 3, 4, 0)
	x.Nulls = []bool{false, false, false, false, true}
	got, err = nie.Eval(ctx, 5, x)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1", "NULL", "3", "NULL", "0"}
	for i := range want {
		if got.Format(i) != want[i] {
			t.Fatalf("null_if_even row %d: %s, want %s", i, got.Format(i), want[i])
		}
	}
}

// TestBatchesAreBounded sends more rows and bytes than fit in one batch.
func TestBatchesAreBounded(t *testing.T) {
	rt := newRuntime(t, NewConfig().WithBatch(100, 5000))
	f := load(t, rt, Definition{Name: "upper", Module: fixture(t, "batch.wasm"), Export: "upper", Args: []Type{Text}, Result: Text})
	const n = 1000
	in := NewColumn(Text, n)
	for i := range n {
		in.Bytes[i] = []byte(strings.Repeat("ab", i%97))
	}
	got, err := f.Eval(context.Background(), n, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if string(got.Bytes[i]) != strings.Repeat("AB", i%97) {
			t.Fatalf("row %d: %q", i, got.Bytes[i])
		}
	}
	if calls := f.Stats().Calls; calls < 20 {
		t.Fatalf("%d guest calls for 1000 rows of ~100 bytes in batches of ≤100 rows and ≤5000 bytes", calls)
	}
}

// slug is the reference slugify both guests implement.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteByte(c)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

func TestGuests(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	words := []string{"  Hello, World! ", "", "ÄBC-def_12  3", "already-a-slug", strings.Repeat("Ab ", 300)}
	for _, guest := range []string{"c_funcs.wasm", "go_funcs.wasm"} {
		t.Run(guest, func(t *testing.T) {
			mod := fixture(t, guest)
			f := load(t, rt, Definition{Name: "slugify", Module: mod, Export: "slugify", Args: []Type{Text}, Result: Text})
			const n = 2500
			in := NewColumn(Text, n)
			for i := range n {
				in.Bytes[i] = []byte(fmt.Sprintf("%s %d", words[i%len(words)], i))
			}
			got, err := f.Eval(ctx, n, in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if w := slug(string(in.Bytes[i])); string(got.Bytes[i]) != w {
					t.Fatalf("slugify row %d: %q, want %q", i, got.Bytes[i], w)
				}
			}

			add := load(t, rt, Definition{Module: mod, Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
			a, b := ints(Bigint, 1, 2, -5), ints(Bigint, 10, 20, 5)
			b.Nulls = []bool{false, true, false}
			got, err = add.Eval(ctx, 3, a, b)
			if err != nil || got.Ints[0] != 11 || !got.IsNull(1) || got.Ints[2] != 0 {
				t.Fatalf("add: %+v %v", got, err)
			}

			nvl := load(t, rt, Definition{Module: mod, Export: "nvl_len", Args: []Type{Text}, Result: Integer, OnNull: CalledOnNull})
			s := texts(Text, "four", "", "x")
			s.Nulls = []bool{false, false, true}
			got, err = nvl.Eval(ctx, 3, s)
			if err != nil || fmt.Sprint(got.Ints) != "[4 0 -1]" || got.Nulls != nil {
				t.Fatalf("nvl_len: %+v %v", got, err)
			}

			ascii := load(t, rt, Definition{Name: "must_be_ascii", Module: mod, Export: "must_be_ascii", Args: []Type{Text}, Result: Text})
			_, err = ascii.Eval(ctx, 3, texts(Text, "ok", "fine", "naïve"))
			wantError(t, err, "38000", `must_be_ascii: row 3 (input "naïve"): non-ASCII input`)

			scalar := map[string]string{"c_funcs.wasm": "mul", "go_funcs.wasm": "add_scalar"}[guest]
			sf := load(t, rt, Definition{Module: mod, Export: scalar, Args: []Type{Bigint, Bigint}, Result: Bigint})
			got, err = sf.Eval(ctx, 2, ints(Bigint, 6, 7), ints(Bigint, 7, 8))
			want := map[string]string{"mul": "[42 56]", "add_scalar": "[13 15]"}[scalar]
			if err != nil || fmt.Sprint(got.Ints) != want {
				t.Fatalf("%s: %v %v, want %s", scalar, got.Ints, err, want)
			}
		})
	}
	mod := fixture(t, "go_funcs.wasm")
	echo := load(t, rt, Definition{Module: mod, Export: "echo_bytes", Args: []Type{Bytea}, Result: Bytea})
	got, err := echo.Eval(ctx, 2, texts(Bytea, "\x00\xff\x01", ""))
	if err != nil || string(got.Bytes[0]) != "\x00\xff\x01" || len(got.Bytes[1]) != 0 || got.IsNull(1) {
		t.Fatalf("echo_bytes: %+v %v", got, err)
	}
	isNull := load(t, rt, Definition{Module: mod, Export: "is_null", Args: []Type{Bigint}, Result: Boolean, OnNull: CalledOnNull})
	x := ints(Bigint, 1, 0)
	x.Nulls = []bool{false, true}
	got, err = isNull.Eval(ctx, 2, x)
	if err != nil || fmt.Sprint(got.Ints) != "[0 1]" {
		t.Fatalf("is_null: %+v %v", got, err)
	}
}

func TestWASI(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	mod := fixture(t, "wasi.wasm")
	shout := load(t, rt, Definition{Name: "shout", Module: mod, Export: "shout", Args: []Type{Bigint}, Result: Bigint})
	_, err := shout.Eval(ctx, 1, ints(Bigint, 1))
	e := wantError(t, err, "38000", "unreachable")
	if !strings.Contains(e.Detail, "hello from the guest") {
		t.Fatalf("detail %q lacks the guest's stderr", e.Detail)
	}

	now := load(t, rt, Definition{Module: mod, Export: "now", Args: []Type{Bigint}, Result: Bigint})
	a, err1 := now.Eval(ctx, 1, ints(Bigint, 0))
	b, err2 := now.Eval(ctx, 1, ints(Bigint, 0))
	if err1 != nil || err2 != nil || a.Ints[0] != b.Ints[0] {
		t.Fatalf("deterministic clock: %v %v, %v %v", a.Ints, err1, b.Ints, err2)
	}
	if time.Unix(0, a.Ints[0]).After(time.Now().Add(-24 * time.Hour)) {
		t.Fatalf("deterministic clock reads the real time: %v", time.Unix(0, a.Ints[0]))
	}
	real := load(t, rt, Definition{Module: mod, Export: "now", Args: []Type{Bigint}, Result: Bigint, Clock: true})
	c, err := real.Eval(ctx, 1, ints(Bigint, 0))
	if d := time.Since(time.Unix(0, c.Ints[0])); err != nil || d < 0 || d > time.Minute {
		t.Fatalf("granted clock is %v off: %v", d, err)
	}
}

func TestModuleShapes(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	f := load(t, rt, Definition{Module: fixture(t, "reactor.wasm"), Export: "plus_init", Args: []Type{Bigint}, Result: Bigint})
	if got, err := f.Eval(ctx, 1, ints(Bigint, 1)); err != nil || got.Ints[0] != 101 {
		t.Fatalf("reactor: %v %v", got.Ints, err)
	}
	apply := load(t, rt, Definition{Module: fixture(t, "reindex.wasm"), Export: "apply", Args: []Type{Bigint}, Result: Bigint})
	got, err := apply.Eval(ctx, 3, ints(Bigint, 0, 1, 10))
	// 2x + 3x + x² + 7 (start function) + 0 (sched_yield)
	if err != nil || fmt.Sprint(got.Ints) != "[7 13 157]" {
		t.Fatalf("apply: %v %v", got.Ints, err)
	}
	swap := load(t, rt, Definition{Module: fixture(t, "reindex.wasm"), Export: "swap", Args: []Type{Bigint}, Result: Bigint})
	for range 3 { // stateful beyond memory: each session gets a fresh instance
		if got, err := swap.Eval(ctx, 1, ints(Bigint, 5)); err != nil || got.Ints[0] != 5 {
			t.Fatalf("swap: %v %v", got.Ints, err)
		}
	}
	mix := load(t, rt, Definition{Module: fixture(t, "simd.wasm"), Export: "mix", Args: []Type{Bigint}, Result: Bigint})
	got, err = mix.Eval(ctx, 1, ints(Bigint, 3))
	const maxInt64 = 1<<63 - 1
	if want := int64(12 - 128 + maxInt64); err != nil || got.Ints[0] != want {
		t.Fatalf("mix: %v %v, want %d", got.Ints, err, want)
	}
}
