package udf

import (
	"context"
	"math"
	"testing"
)

func TestNumericScalarABI(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()
	mod := fixture(t, "numeric.wasm")
	const n = 3000 // several batches
	a, b := NewColumn(Bigint, n), NewColumn(Bigint, n)
	fa, fb := NewColumn(Double, n), NewColumn(Double, n)
	for i := range n {
		a.Ints[i], b.Ints[i] = int64(i)*1_000_000_007, int64(-i)
		fa.Floats[i], fb.Floats[i] = float64(i)/3, 1.5
	}
	check := func(name string, def Definition, args []Column, want func(i int) float64) {
		t.Helper()
		def.Module = mod
		f := load(t, rt, def)
		rows := n
		if len(args) > 0 {
			rows = args[0].Len()
		}
		got, err := f.Eval(ctx, rows, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range rows {
			var g float64
			if got.Floats != nil {
				g = got.Floats[i]
			} else {
				g = float64(got.Ints[i])
			}
			if w := want(i); g != w {
				t.Fatalf("%s row %d: %v, want %v", name, i, g, w)
			}
		}
	}
	check("add", Definition{Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint}, []Column{a, b},
		func(i int) float64 { return float64(a.Ints[i] + b.Ints[i]) })
	small := ints(Integer, 1, -2, math.MaxInt32, 40)
	check("add32", Definition{Export: "add32", Args: []Type{Integer, Integer}, Result: Integer}, []Column{small, small},
		func(i int) float64 { return float64(int32(small.Ints[i] * 2)) })
	check("mulf", Definition{Export: "mulf", Args: []Type{Double, Double}, Result: Double}, []Column{fa, fb},
		func(i int) float64 { return fa.Floats[i] * 1.5 })
	check("halff", Definition{Export: "halff", Args: []Type{Real}, Result: Real}, []Column{floats(Real, 3, -1.25)},
		func(i int) float64 { return []float64{1.5, -0.625}[i] })
	check("not", Definition{Export: "not", Args: []Type{Boolean}, Result: Boolean}, []Column{ints(Boolean, 0, 1, 1, 0)},
		func(i int) float64 { return []float64{1, 0, 0, 1}[i] })
	check("next_day", Definition{Export: "next_day", Args: []Type{Date}, Result: Date}, []Column{ints(Date, -1, 0, 19000)},
		func(i int) float64 { return []float64{0, 1, 19001}[i] })
	check("plus_hour", Definition{Export: "plus_hour", Args: []Type{Timestamp}, Result: Timestamp}, []Column{ints(Timestamp, 0, -3600000000)},
		func(i int) float64 { return []float64{3600000000, 0}[i] })
	check("kilo", Definition{Export: "kilo", Args: []Type{Smallint}, Result: Smallint}, []Column{ints(Smallint, -32, 0, 32)},
		func(i int) float64 { return []float64{-32000, 0, 32000}[i] })
	check("answer", Definition{Export: "answer", Result: Bigint}, nil, func(int) float64 { return 42 })
}

func TestStrictSkipsNulls(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint})
	// div traps on zero: rows whose divisor is NULL must never reach the guest.
	a := ints(Bigint, 10, 20, 30, 40)
	b := ints(Bigint, 0, 5, 0, 8)
	b.Nulls = []bool{true, false, true, false}
	got, err := f.Eval(context.Background(), 4, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsNull(0) || !got.IsNull(2) || got.IsNull(1) || got.Ints[1] != 4 || got.Ints[3] != 5 {
		t.Fatalf("got %+v", got)
	}
}

func TestSmallintResultOutOfRange(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "kilo", Module: fixture(t, "numeric.wasm"), Export: "kilo", Args: []Type{Smallint}, Result: Smallint})
	_, err := f.Eval(context.Background(), 3, ints(Smallint, 1, 2, 33))
	e := wantError(t, err, "22003", "kilo: row 3 (input 33)", "33000 is out of range for type smallint")
	if e.Row != 2 {
		t.Fatalf("row %d", e.Row)
	}
}

func TestTrapPinnedToRow(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Name: "div", Module: fixture(t, "numeric.wasm"), Export: "div", Args: []Type{Bigint, Bigint}, Result: Bigint})
	const n = 2000
	a, b := NewColumn(Bigint, n), NewColumn(Bigint, n)
	for i := range n {
		a.Ints[i], b.Ints[i] = int64(i), 1
	}
	b.Ints[1700] = 0
	_, err := f.Eval(context.Background(), n, a, b)
	e := wantError(t, err, "38000", "div: row 1701 (input 1700, 0)", "integer divide by zero")
	if e.Row != 1700 {
		t.Fatalf("row %d, want 1700", e.Row)
	}
	// The function keeps serving.
	b.Ints[1700] = 2
	got, err := f.Eval(context.Background(), n, a, b)
	if err != nil || got.Ints[1700] != 850 {
		t.Fatalf("after the trap: %v %v", got.Ints[1700], err)
	}
}

func TestEvalIntoReuses(t *testing.T) {
	rt := newRuntime(t)
	f := load(t, rt, Definition{Module: fixture(t, "numeric.wasm"), Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint})
	s := f.Session()
	defer s.Close()
	var res Column
	for round := range 3 {
		a, b := ints(Bigint, 1, 2, 3), ints(Bigint, 10, 20, 30)
		if round == 1 {
			b.Nulls = []bool{false, true, false}
		}
		if err := s.EvalInto(context.Background(), &res, 3, a, b); err != nil {
			t.Fatal(err)
		}
		if res.Ints[0] != 11 || res.Ints[2] != 33 || res.IsNull(1) != (round == 1) || (round != 1 && res.Ints[1] != 22) {
			t.Fatalf("round %d: %+v", round, res)
		}
	}
	if err := s.EvalInto(context.Background(), &res, 0, ints(Bigint), ints(Bigint)); err != nil || res.Len() != 0 {
		t.Fatalf("zero rows: %+v %v", res, err)
	}
}
