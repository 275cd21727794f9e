package rewrite

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// bin assembles a module from (section id, payload) pairs.
func bin(sections ...any) []byte {
	w := &writer{b: []byte("\x00asm\x01\x00\x00\x00")}
	for i := 0; i < len(sections); i += 2 {
		w.section(byte(sections[i].(int)), sections[i+1].([]byte))
	}
	return w.b
}

// code is a code section of one function with no locals and the given instructions (end added).
func code(instrs ...byte) []byte {
	body := append([]byte{0}, instrs...)
	body = append(body, opEnd)
	return append(appendU32([]byte{1}, uint32(len(body))), body...)
}

var (
	typeI64 = []byte{1, 0x60, 1, I64, 1, I64} // (i64) -> i64
	oneFunc = []byte{1, 0}
	exportF = []byte{1, 1, 'f', KindFunc, 0}
)

// TestIndexChecks: every index a module names is checked against the original module, in code,
// exports, the start function and segments, so nothing can reach what the rewriter adds.
func TestIndexChecks(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  []byte
		want string
	}{
		{"data.drop", bin(secType, typeI64, secFunction, oneFunc, secMemory, []byte{1, 0, 1}, secDataCount, []byte{1},
			secCode, code(prefixFC, 9, 1, opLocalGet, 0), secData, []byte{1, 1, 0}), "data segment index 1 out of range"},
		{"memory.init", bin(secType, typeI64, secFunction, oneFunc, secMemory, []byte{1, 0, 1}, secDataCount, []byte{0},
			secCode, code(opI32Const, 0, opI32Const, 0, opI32Const, 0, prefixFC, 8, 0, 0, opLocalGet, 0)), "data segment index 0 out of range"},
		{"elem.drop", bin(secType, typeI64, secFunction, oneFunc, secCode, code(prefixFC, 13, 0, opLocalGet, 0)), "element segment index 0 out of range"},
		{"table.get", bin(secType, typeI64, secFunction, oneFunc, secTable, []byte{1, 0x70, 0, 1},
			secCode, code(opI32Const, 0, 0x25, 1, 0x1a, opLocalGet, 0)), "table index 1 out of range"},
		{"call_indirect table", bin(secType, typeI64, secFunction, oneFunc, secTable, []byte{1, 0x70, 0, 1},
			secCode, code(opLocalGet, 0, opI32Const, 0, opCallIndirect, 0, 1)), "table index 1 out of range"},
		{"ref.func", bin(secType, typeI64, secFunction, oneFunc, secCode, code(opRefFunc, 5, 0x1a, opLocalGet, 0)), "function index 5 out of range"},
		{"memory.fill without memory", bin(secType, typeI64, secFunction, oneFunc,
			secCode, code(opI32Const, 0, opI32Const, 0, opI32Const, 0, prefixFC, 11, 0, opLocalGet, 0)), "memory index 0 out of range"},
		{"local.tee", bin(secType, typeI64, secFunction, oneFunc, secCode, code(opLocalGet, 0, opLocalTee, 1)), "local index 1 out of range"},
		{"br_if depth", bin(secType, typeI64, secFunction, oneFunc, secCode, code(opLocalGet, 0, opI32Const, 0, opBrIf, 1)), "branch depth index 1 out of range"},
		{"block type", bin(secType, typeI64, secFunction, oneFunc, secCode, code(opBlock, 1, opEnd, opLocalGet, 0)), "type index 1 out of range"},
		{"export global", bin(secType, typeI64, secFunction, oneFunc, secExport, []byte{1, 1, 'g', KindGlobal, 0},
			secCode, code(opLocalGet, 0)), `export "g": global index 0 out of range`},
		{"export function", bin(secType, typeI64, secFunction, oneFunc, secExport, []byte{1, 1, 'g', KindFunc, 1},
			secCode, code(opLocalGet, 0)), `export "g": function index 1 out of range`},
		{"start", bin(secType, typeI64, secFunction, oneFunc, secStart, []byte{1}, secCode, code(opLocalGet, 0)), "start function index 1 out of range"},
		{"data segment memory", bin(secType, typeI64, secFunction, oneFunc, secCode, code(opLocalGet, 0),
			secData, []byte{1, 0, opI32Const, 0, opEnd, 1, 'x'}), "data segment 0: memory index 0 out of range"},
		{"element segment table", bin(secType, typeI64, secFunction, oneFunc, secElement, []byte{1, 0, opI32Const, 0, opEnd, 1, 0},
			secCode, code(opLocalGet, 0)), "element segment 0: table index 0 out of range"},
		{"element segment function", bin(secType, typeI64, secFunction, oneFunc, secTable, []byte{1, 0x70, 0, 1},
			secElement, []byte{1, 0, opI32Const, 0, opEnd, 1, 1}, secCode, code(opLocalGet, 0)), "element segment 0: function index 1 out of range"},
		{"global init", bin(secType, typeI64, secFunction, oneFunc, secGlobal, []byte{1, I64, 0, opGlobalGet, 1, opEnd},
			secCode, code(opLocalGet, 0)), "constant expression: global index 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Rewrite(c.mod, Options{MaxMemoryPages: 16, NeedMemory: true})
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrMalformed mentioning %q", err, c.want)
			}
		})
	}
}

// TestTableLimits: tables are capped at the memory limit (8 bytes an entry) and so are element
// segments; a declared size above the cap, or memory and tables above the limit together, is a
// LimitError.
func TestTableLimits(t *testing.T) {
	elems := []byte{1, 1, 0} // passive, elemkind funcref
	elems = appendU32(elems, 8193)
	for range 8193 {
		elems = append(elems, 0)
	}
	for _, c := range []struct {
		name string
		mod  []byte
		want string
	}{
		{"declared", bin(secType, typeI64, secFunction, oneFunc, secTable, []byte{1, 0x70, 0, 0x81, 0x40}, secCode, code(opLocalGet, 0)),
			"table 0: initial size (entries) 8193 is above the limit of 8192"},
		{"with memory", bin(secType, typeI64, secFunction, oneFunc, secTable, []byte{1, 0x70, 0, 0x80, 0x20}, secMemory, []byte{1, 0, 1},
			secCode, code(opLocalGet, 0)), "bytes of memory and tables at start 98304 is above the limit of 65536"},
		{"element segments", bin(secType, typeI64, secFunction, oneFunc, secElement, elems, secCode, code(opLocalGet, 0)),
			"element segment entries 8193 is above the limit of 8192"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Rewrite(c.mod, Options{MaxMemoryPages: 1})
			var l *LimitError
			if !errors.As(err, &l) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want LimitError %q", err, c.want)
			}
		})
	}
	// Within the limit, a table without a maximum gets one.
	res, err := Rewrite(bin(secType, typeI64, secFunction, oneFunc, secTable, []byte{1, 0x70, 0, 1}, secCode, code(opLocalGet, 0)), Options{MaxMemoryPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := parse(res.Module)
	if err != nil {
		t.Fatal(err)
	}
	if l := m.tables[0].lim; !l.hasMax || l.max != 8192 {
		t.Fatalf("table limits %+v, want a max of 8192", l)
	}
}

// TestLoopChargesLargeLeaf: the scalar loop charges a large inlined leaf export each row (the
// leaf has no checks of its own), and leaves a small one free.
func TestLoopChargesLargeLeaf(t *testing.T) {
	ctx := context.Background()
	leaf := func(n int) []byte {
		var instrs []byte
		for range n {
			instrs = append(instrs, opLocalGet, 0, opI64Const, 1, opI64Add, opLocalSet, 0)
		}
		return bin(secType, typeI64, secFunction, oneFunc, secExport, exportF, secCode, code(append(instrs, opLocalGet, 0)...))
	}
	for _, c := range []struct {
		n       int
		charged bool
	}{{2, false}, {100, true}} {
		res, err := Rewrite(leaf(c.n), Options{Loops: []Loop{{Export: "f", Args: []Column{ColI64}, Result: ColI64}}})
		if err != nil {
			t.Fatal(err)
		}
		h := newHost(t)
		m := h.instantiate(t, res.Module)
		m.ExportedGlobal(FuelGlobal).(interface{ Set(uint64) }).Set(1000)
		if _, err := m.ExportedFunction(LoopPrefix+"f").Call(ctx, 100, 0, 1024); err != nil {
			t.Fatal(err)
		}
		if v, _ := m.ExportedMemory(MemoryExport).ReadUint64Le(0); v != uint64(c.n) {
			t.Fatalf("row 0 = %d, want %d", v, c.n)
		}
		// 100 rows of 400 instructions is 40 slices of 1000; 100 rows of 8 fit in one.
		if got := h.refuels > 0; got != c.charged {
			t.Fatalf("leaf of %d instructions: %d refuels, want charged=%v", 4*c.n, h.refuels, c.charged)
		}
	}
}

// TestLoopSignature: a loop over an export whose signature does not fit is an error, not a panic.
func TestLoopSignature(t *testing.T) {
	noResult := bin(secType, []byte{1, 0x60, 1, I64, 0}, secFunction, oneFunc, secExport, exportF, secCode, code())
	for _, l := range []Loop{{Export: "f", Args: []Column{ColI64}, Result: ColI64}, {Export: "f", Result: ColI64}} {
		if _, err := Rewrite(noResult, Options{Loops: []Loop{l}}); err == nil || !strings.Contains(err.Error(), "want") {
			t.Fatalf("loop %+v over (i64) -> (): %v", l, err)
		}
	}
}
