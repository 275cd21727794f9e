package rewrite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// FuzzRewrite: the rewriter never panics, whatever it accepts of a module wazero accepts still
// compiles, and a module wazero refuses never compiles once rewritten (else guest code would
// reach what the rewriter added). wazero only sees modules the rewriter parsed: its own decoder trusts vector
// lengths (a 27-byte module made wazero v1.12.0 allocate 30 GB; see the committed corpus), so
// hostile bytes must not reach it first, in this test or in the runtime.
func FuzzRewrite(f *testing.F) {
	for name, bin := range fixtures(f) {
		// The Go guest is too slow a seed to mutate, and so are the generated hostile modules.
		if len(bin) < 64<<10 && (!strings.HasPrefix(name, "hostile/") || len(bin) < 4<<10) {
			f.Add(bin)
		}
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	f.Fuzz(func(t *testing.T, bin []byte) {
		// With a scalar loop over the first numeric function export, as the runtime asks for.
		opts := Options{MaxMemoryPages: 256, NeedMemory: true}
		if info, err := Inspect(bin); err == nil {
			for _, e := range info.Exports {
				if l, ok := loopFor(e); ok {
					opts.Loops = []Loop{l}
					break
				}
			}
		}
		res, err := Rewrite(bin, opts)
		if err != nil {
			var u *UnsupportedError
			var m *MemoryError
			var l *LimitError
			if !errors.Is(err, ErrMalformed) && !errors.As(err, &u) && !errors.As(err, &m) && !errors.As(err, &l) &&
				!strings.Contains(err.Error(), "reserved") && !strings.Contains(err.Error(), "imported memory") {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		cm, origErr := r.CompileModule(ctx, bin)
		if origErr == nil {
			cm.Close(ctx)
		}
		cm, err = r.CompileModule(ctx, res.Module)
		switch {
		case origErr == nil && err != nil:
			t.Fatalf("the rewritten module does not compile: %v", err)
		case origErr != nil && err == nil && !inCustomSection(origErr):
			// What the rewriter adds made an invalid module valid: guest code reaches it. (A
			// broken name section is dropped on purpose: it is debug information.)
			cm.Close(ctx)
			t.Fatalf("wazero refuses the original (%v) but accepts its rewrite", origErr)
		case err == nil:
			cm.Close(ctx)
		}
	})
}

// inCustomSection reports whether wazero refused a module for its custom sections (its messages
// say "custom section" or "section custom: ...", as in a name section's broken subsection).
func inCustomSection(err error) bool {
	return strings.Contains(err.Error(), "custom section") || strings.Contains(err.Error(), "section custom")
}

// loopFor is the scalar loop the runtime would generate for a numeric function export.
func loopFor(e Export) (Loop, bool) {
	if e.Kind != KindFunc || strings.HasPrefix(e.Name, reserved) || len(e.Type.Results) != 1 {
		return Loop{}, false
	}
	col := map[byte]Column{I32: ColI32, I64: ColI64, F32: ColF32, F64: ColF64}
	l := Loop{Export: e.Name, Result: col[e.Type.Results[0]]}
	for _, p := range e.Type.Params {
		l.Args = append(l.Args, col[p])
	}
	for _, c := range append(l.Args, l.Result) {
		if c == 0 {
			return Loop{}, false
		}
	}
	return l, true
}

// FuzzSemantics generates a function from the fuzz input (arithmetic, nested blocks, bounded
// loops, branches, calls) and checks the rewritten module computes the same result.
func FuzzSemantics(f *testing.F) {
	for _, s := range []string{"", "\x00\x01\x02", "\x05\x06\x07\x08\x09", "\x07\x07\x07\x01\x02\x03\x0a\x0b",
		"\x09\x09\x05\x00\x06", "\x06\x03\x0a\x16\x0b\x07\x05\x0a\x03"} {
		f.Add([]byte(s), int64(7))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, prog []byte, x int64) {
		if len(prog) > 200 {
			prog = prog[:200]
		}
		bin, leaf := genModule(prog)
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer r.Close(ctx)
		var refuels int
		_, err := r.NewHostModuleBuilder(FuelModule).NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, s []uint64) {
				refuels++
				s[0] = 3
			}), nil, []api.ValueType{api.ValueTypeI64}).Export(FuelFunc).Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := r.InstantiateModule(ctx, mustCompile(t, r, bin), wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatalf("generated module: %v", err)
		}
		res, err := Rewrite(bin, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rew, err := r.InstantiateModule(ctx, mustCompile(t, r, res.Module), wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatal(err)
		}
		want, err1 := orig.ExportedFunction("f").Call(ctx, uint64(x))
		got, err2 := rew.ExportedFunction("f").Call(ctx, uint64(x))
		if (err1 == nil) != (err2 == nil) || (err1 == nil && want[0] != got[0]) {
			t.Fatalf("original %v %v, rewritten %v %v", want, err1, got, err2)
		}
		if refuels == 0 && !leaf {
			t.Fatal("a slice of 3 fuel never ran out")
		}
	})
}

func mustCompile(t *testing.T, r wazero.Runtime, bin []byte) wazero.CompiledModule {
	cm, err := r.CompileModule(context.Background(), bin)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return cm
}

// genModule builds (func $h (param i64) (result i64)) and (func (export "f") (param i64) (result i64))
// whose body is driven by prog: an i64 accumulator (local 1) transformed by each opcode byte,
// inside nested blocks, ifs and loops that run 1 to 5 times each. leaf: no loop and no call.
func genModule(prog []byte) (bin []byte, leaf bool) {
	const (
		i64Add, i64Sub, i64Mul, i64RemS, i64And, i64Xor, i64ShrU   = 0x7c, 0x7d, 0x7e, 0x81, 0x83, 0x85, 0x88
		i64Eqz, i64Eq, i32GtS, i32WrapI64, opSelect, opDrop, opNop = 0x50, 0x51, 0x4a, 0xa7, 0x1b, 0x1a, 0x01
	)
	body := &writer{}
	leaf = true
	var open []uint32 // per open construct: its loop counter local, 0 for block and if
	counter := uint32(2)
	acc := func() { body.byte(opLocalGet, 1) }
	set := func() { body.byte(opLocalSet, 1) }
	closeOne := func() {
		if c := open[len(open)-1]; c != 0 { // loop: branch back while the counter is positive
			body.byte(opLocalGet, byte(c), opI32Const, 0, i32GtS, opBrIf, 0)
		}
		body.byte(opEnd)
		open = open[:len(open)-1]
	}
	for i, op := range prog {
		switch op % 12 {
		case 0: // acc += x
			acc()
			body.byte(opLocalGet, 0, i64Add)
			set()
		case 1: // acc *= k
			acc()
			body.byte(opI64Const)
			body.s64(int64(i*31 + 7))
			body.byte(i64Mul)
			set()
		case 2: // acc ^= acc >> 3
			acc()
			acc()
			body.byte(opI64Const, 3, i64ShrU, i64Xor)
			set()
		case 3: // acc = h(acc)
			acc()
			body.byte(opCall, 0)
			set()
			leaf = false
		case 4: // block
			if len(open) < 4 {
				body.byte(opBlock, blockEmpty)
				open = append(open, 0)
			}
		case 5: // if acc is odd
			if len(open) < 4 {
				acc()
				body.byte(opI64Const, 1, i64And, i32WrapI64, opIf, blockEmpty)
				open = append(open, 0)
			}
		case 6: // loop running 1 to 5 times
			if len(open) < 4 && counter < 7 {
				body.byte(opI32Const, byte(1+(op/12)%5), opLocalSet, byte(counter), opLoop, blockEmpty)
				body.byte(opLocalGet, byte(counter), opI32Const, 1, opI32Sub, opLocalSet, byte(counter))
				open = append(open, counter)
				counter++
				leaf = false
			}
		case 7:
			if len(open) > 0 {
				closeOne()
			}
		case 8: // leave the innermost block or if when acc is even
			if len(open) > 0 && open[len(open)-1] == 0 {
				acc()
				body.byte(opI64Const, 1, i64And, i64Eqz, opBrIf, 0)
			}
		case 9: // acc = acc % 2 != 0 ? acc : x
			acc()
			body.byte(opLocalGet, 0)
			acc()
			body.byte(opI64Const, 2, i64RemS, i32WrapI64, opSelect)
			set()
		case 10: // leave the function: br_if to its label, or return from inside an if
			if (op/12)%2 == 0 {
				acc()
				acc()
				body.byte(opI64Const, 3, i64And, i64Eqz, opBrIf, byte(len(open)), opDrop)
			} else {
				acc()
				body.byte(opI64Const, 7, i64And, opI64Const, 5, i64Eq, opIf, blockEmpty)
				acc()
				body.byte(opReturn, opEnd, opNop)
			}
		case 11: // acc -= 1
			acc()
			body.byte(opI64Const, 1, i64Sub)
			set()
		}
	}
	for len(open) > 0 {
		closeOne()
	}
	acc()
	body.byte(opEnd)

	w := &writer{b: []byte("\x00asm\x01\x00\x00\x00")}
	w.section(secType, []byte{1, 0x60, 1, I64, 1, I64})
	w.section(secFunction, []byte{2, 0, 0})
	w.section(secExport, []byte{1, 1, 'f', KindFunc, 1})
	h := []byte{0, opLocalGet, 0, opI64Const, 3, i64Mul, opI64Const, 1, i64Add, opEnd}
	f := &writer{}
	f.byte(2, 1, I64, 5, I32) // locals: acc (i64), five loop counters (i32)
	f.raw(body.b)
	code := &writer{}
	code.u32(2)
	code.u32(uint32(len(h)))
	code.raw(h)
	code.u32(uint32(len(f.b)))
	code.raw(f.b)
	w.section(secCode, code.b)
	return w.b, leaf
}
