// Package rewrite transforms a guest module before wasql compiles it: it meters the code with
// fuel, caps the memory, exports what the host needs to reset an instance, and generates the
// batch loops of the numeric scalar ABI. See docs/abi.md §6.
package rewrite

import (
	"fmt"
	"strings"
)

// Names the rewriter adds to a module.
const (
	FuelModule   = "wasql"        // import module of the fuel host function
	FuelFunc     = "__fuel"       // the fuel host function: () -> i64, the next slice
	FuelGlobal   = "__wasql_fuel" // export of the fuel counter (mutable i64)
	OOMGlobal    = "__wasql_oom"  // export of an i32 set to 1 when memory.grow fails
	MemoryExport = "__wasql_memory"
	LoopPrefix   = "__wasql_loop_" // + scalar export name
	GlobalPrefix = "__wasql_g"     // + global index, for each mutable global
	reserved     = "__wasql_"
)

// Column is how a generated scalar loop loads an argument or stores the result.
type Column byte

// Column layouts (docs/abi.md §2).
const (
	ColU8  Column = iota + 1 // boolean: one byte, loaded as i32
	ColI16                   // smallint: two bytes, sign-extended to i32
	ColI32
	ColI64
	ColF32
	ColF64
)

// Width is the size of one value in bytes.
func (c Column) Width() uint32 {
	switch c {
	case ColU8:
		return 1
	case ColI16:
		return 2
	case ColI32, ColF32:
		return 4
	}
	return 8
}

// Loop asks for a batch loop around the scalar export Export:
// __wasql_loop_<Export>(n, out, col0, col1, ...) stores Export(col0[i], col1[i], ...) at out[i].
// A result of ColI32 is stored as four bytes whatever the SQL type.
type Loop struct {
	Export string
	Args   []Column
	Result Column
}

// Options controls a rewrite.
type Options struct {
	MaxMemoryPages uint32 // cap on linear memory in 64 KiB pages; 0 leaves it unchanged
	NeedMemory     bool   // give a module without memory one page (scalar loops need memory)
	Loops          []Loop
	NoMeter        bool // skip fuel checks: only for measuring what metering costs
}

// Info is what validation needs to know of a module, read without changing it.
type Info struct {
	Imports   []Import
	Exports   []Export
	HasMemory bool
	MemoryMin uint32 // pages
}

// Result is a rewritten module and what the host needs to drive it.
type Result struct {
	Module      []byte
	AddedMemory bool
	Stateful    bool     // mutates tables or segments: reset by re-instantiating
	Globals     []string // exports of the mutable globals, for snapshots
}

// Inspect decodes bin and reports its imports, exports and memory.
func Inspect(bin []byte) (*Info, error) {
	m, err := parse(bin)
	if err != nil {
		return nil, err
	}
	info := &Info{Imports: m.imports, HasMemory: len(m.memories) > 0 || m.hasImpMem}
	if len(m.memories) > 0 {
		info.MemoryMin = m.memories[0].min
	}
	for _, e := range m.exports {
		if e.Kind == KindFunc {
			t, ok := m.funcType(e.Index)
			if !ok {
				return nil, fmt.Errorf("%w: export %q: function index %d out of range", ErrMalformed, e.Name, e.Index)
			}
			e.Type = t
		}
		info.Exports = append(info.Exports, e)
	}
	return info, nil
}

// Rewrite meters bin and applies opts. The result is a valid module whenever bin is one.
func Rewrite(bin []byte, opts Options) (*Result, error) {
	m, err := parse(bin)
	if err != nil {
		return nil, err
	}
	if m.hasImpMem {
		return nil, fmt.Errorf("imported memory is not supported")
	}
	if len(m.memories) > 1 {
		return nil, &UnsupportedError{Feature: "multiple memories"}
	}
	for _, e := range m.exports {
		if strings.HasPrefix(e.Name, reserved) {
			return nil, fmt.Errorf("export %q: names starting with %s are reserved", e.Name, reserved)
		}
	}
	for _, im := range m.imports {
		if im.Module == FuelModule {
			return nil, fmt.Errorf("import %s.%s: module %q is reserved for the host", im.Module, im.Name, FuelModule)
		}
	}
	if err := m.checkModule(); err != nil {
		return nil, err
	}
	res := &Result{}
	nFunc := m.nImpFunc + uint32(len(m.funcs))
	remap := func(idx uint32) uint32 {
		if idx < m.nImpFunc {
			return idx
		}
		return idx + 1
	}
	fuelType := uint32(len(m.types))
	fuelFunc := m.nImpFunc
	fuelGlobal := m.nImpGlobal + uint32(len(m.globals))

	// Exports the loops will call, resolved before anything moves.
	loopTargets := make([]uint32, len(opts.Loops))
	for i, l := range opts.Loops {
		found := false
		for _, e := range m.exports {
			if e.Name == l.Export && e.Kind == KindFunc {
				loopTargets[i], found = remap(e.Index), true
				if t, _ := m.funcType(e.Index); len(t.Params) != len(l.Args) || len(t.Results) != 1 {
					return nil, fmt.Errorf("loop: export %q takes %d parameters and returns %d results, want %d and 1", l.Export, len(t.Params), len(t.Results), len(l.Args))
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("loop: no function export %q", l.Export)
		}
	}

	out := map[byte][]byte{}

	// Types: the originals, the fuel function's, one per loop.
	w := &writer{}
	w.u32(uint32(len(m.types) + 1 + len(opts.Loops)))
	for _, t := range m.types {
		w.byte(0x60)
		w.u32(uint32(len(t.Params)))
		w.raw(t.Params)
		w.u32(uint32(len(t.Results)))
		w.raw(t.Results)
	}
	w.byte(0x60, 0, 1, I64)
	for _, l := range opts.Loops {
		w.byte(0x60)
		w.u32(uint32(2 + len(l.Args)))
		for range 2 + len(l.Args) {
			w.byte(I32)
		}
		w.byte(0)
	}
	out[secType] = w.b

	// Imports: the originals, then the fuel function (so it takes index nImpFunc).
	w = &writer{}
	w.u32(uint32(len(m.imports) + 1))
	for _, raw := range m.importsRaw {
		w.raw(raw)
	}
	w.name(FuelModule)
	w.name(FuelFunc)
	w.byte(KindFunc)
	w.u32(fuelType)
	out[secImport] = w.b

	// Functions: the originals, then the loops.
	w = &writer{}
	w.u32(uint32(len(m.funcs) + len(opts.Loops)))
	for _, t := range m.funcs {
		w.u32(t)
	}
	for i := range opts.Loops {
		w.u32(fuelType + 1 + uint32(i))
	}
	out[secFunction] = w.b

	// Tables: capped at what the memory limit could hold at 8 bytes an entry; what they hold is
	// counted against it with the memory at each grow (meter's budget).
	var tableBytes uint64
	if opts.MaxMemoryPages > 0 {
		budget := uint64(opts.MaxMemoryPages) * 65536
		entries := budget / 8
		w = &writer{}
		w.u32(uint32(len(m.tables)))
		for i, t := range m.tables {
			if uint64(t.lim.min) > entries {
				return nil, &LimitError{Where: fmt.Sprintf("table %d", m.nImpTable+uint32(i)), What: "initial size (entries)", Value: uint64(t.lim.min), Limit: entries}
			}
			tableBytes += 8 * uint64(t.lim.min)
			if !t.lim.hasMax || uint64(t.lim.max) > entries {
				t.lim.max, t.lim.hasMax = uint32(entries), true
			}
			w.byte(t.ref, 1)
			w.u32(t.lim.min)
			w.u32(t.lim.max)
		}
		if len(m.tables) > 0 {
			out[secTable] = w.b
		}
		if tableBytes > budget {
			return nil, &LimitError{Where: "module", What: "bytes of tables at start", Value: tableBytes, Limit: budget}
		}
		if m.elemTotal > entries {
			return nil, &LimitError{Where: "module", What: "element segment entries", Value: m.elemTotal, Limit: entries}
		}
	}

	// Memory: capped, or added.
	mems := m.memories
	if len(mems) == 0 && (opts.NeedMemory || len(opts.Loops) > 0) {
		mems = []limits{{min: 1}}
		res.AddedMemory = true
	}
	if len(mems) == 1 {
		l := mems[0]
		if opts.MaxMemoryPages > 0 {
			if l.min > opts.MaxMemoryPages {
				return nil, &MemoryError{MinPages: l.min, MaxPages: opts.MaxMemoryPages}
			}
			if !l.hasMax || l.max > opts.MaxMemoryPages {
				l.max, l.hasMax = opts.MaxMemoryPages, true
			}
		}
		if opts.MaxMemoryPages > 0 && tableBytes > 0 && uint64(l.min)*65536+tableBytes > uint64(opts.MaxMemoryPages)*65536 {
			return nil, &LimitError{Where: "module", What: "bytes of memory and tables at start", Value: uint64(l.min)*65536 + tableBytes, Limit: uint64(opts.MaxMemoryPages) * 65536}
		}
		w = &writer{}
		w.u32(1)
		if l.hasMax {
			w.byte(1)
			w.u32(l.min)
			w.u32(l.max)
		} else {
			w.byte(0)
			w.u32(l.min)
		}
		out[secMemory] = w.b
	}

	// Globals: the originals (re-indexed), then the fuel counter and the out-of-memory flag.
	w = &writer{}
	w.u32(uint32(len(m.globals) + 2))
	for _, g := range m.globals {
		w.byte(g.typ, boolByte(g.mutable))
		if err := copyExpr(w, g.init, remap); err != nil {
			return nil, malformed(err)
		}
	}
	w.byte(I64, 1, opI64Const, 0, opEnd)
	w.byte(I32, 1, opI32Const, 0, opEnd)
	out[secGlobal] = w.b

	// Exports: the originals (re-indexed), then what the host needs.
	var exports []Export
	for _, e := range m.exports {
		if e.Kind == KindFunc {
			e.Index = remap(e.Index)
		}
		exports = append(exports, e)
	}
	exports = append(exports, Export{Name: FuelGlobal, Kind: KindGlobal, Index: fuelGlobal},
		Export{Name: OOMGlobal, Kind: KindGlobal, Index: fuelGlobal + 1})
	if len(mems) == 1 {
		exports = append(exports, Export{Name: MemoryExport, Kind: KindMemory, Index: 0})
	}
	for i, g := range m.globals {
		if g.mutable {
			idx := m.nImpGlobal + uint32(i)
			name := fmt.Sprintf("%s%d", GlobalPrefix, idx)
			exports = append(exports, Export{Name: name, Kind: KindGlobal, Index: idx})
			res.Globals = append(res.Globals, name)
		}
	}
	for i, l := range opts.Loops {
		exports = append(exports, Export{Name: LoopPrefix + l.Export, Kind: KindFunc, Index: nFunc + 1 + uint32(i)})
	}
	w = &writer{}
	w.u32(uint32(len(exports)))
	for _, e := range exports {
		w.name(e.Name)
		w.byte(e.Kind)
		w.u32(e.Index)
	}
	out[secExport] = w.b

	if m.start != nil {
		w = &writer{}
		w.u32(remap(*m.start))
		out[secStart] = w.b
	}
	if raw, ok := m.raw[secElement]; ok {
		b, err := rewriteElements(raw, remap)
		if err != nil {
			return nil, malformed(fmt.Errorf("element section: %w", err))
		}
		out[secElement] = b
	}

	// Code: every body metered, then the loops.
	leaves, err := m.leaves()
	if err != nil {
		return nil, malformed(err)
	}
	w = &writer{}
	w.u32(uint32(len(m.codes) + len(opts.Loops)))
	var work uint64
	for i, body := range m.codes {
		nParams := len(m.types[m.funcs[i]].Params)
		mt := meterer{fuelGlobal: fuelGlobal, fuelFunc: fuelFunc, remap: remap, fuel: !opts.NoMeter && !leaves[i].leaf,
			mod: m, memBudget: uint64(opts.MaxMemoryPages) * 65536, hasMemory: len(mems) == 1,
			leafCost: func(idx uint32) int64 {
				if d := idx - m.nImpFunc; idx >= m.nImpFunc && d < uint32(len(leaves)) && leaves[d].leaf {
					return leaves[d].cost
				}
				return 0 // an import, a function with checks of its own, or an invalid index wazero will refuse
			}}
		b, mutates, err := mt.meter(body, nParams)
		if err != nil {
			return nil, malformed(fmt.Errorf("function %d: %w", m.nImpFunc+uint32(i), err))
		}
		if work += mt.work; work > MaxControlWork {
			return nil, &LimitError{Where: "module", What: "control-flow work (blocks² + br_table labels²/8, summed over functions)", Value: work, Limit: MaxControlWork}
		}
		res.Stateful = res.Stateful || mutates
		w.u32(uint32(len(b)))
		w.raw(b)
	}
	for i, l := range opts.Loops {
		var inline *inlined
		var fuel *rowFuel
		if t := loopTargets[i] - 1; t >= m.nImpFunc && t-m.nImpFunc < uint32(len(leaves)) && leaves[t-m.nImpFunc].leaf {
			inline = &inlined{body: m.codes[t-m.nImpFunc], typ: m.types[m.funcs[t-m.nImpFunc]]}
			if c := leaves[t-m.nImpFunc].cost; c >= minRowCharge && !opts.NoMeter {
				fuel = &rowFuel{cost: c, global: fuelGlobal, fn: fuelFunc}
			}
		}
		b, err := loopBody(l, loopTargets[i], inline, remap, fuel)
		if err != nil {
			return nil, malformed(err)
		}
		w.u32(uint32(len(b)))
		w.raw(b)
	}
	out[secCode] = w.b

	for _, id := range []byte{secTable, secDataCount, secData} {
		if raw, ok := m.raw[id]; ok && out[id] == nil {
			out[id] = raw
		}
	}

	// Assemble in the required order; custom sections keep their place after the known section
	// they followed. The name section is re-indexed; DWARF is dropped (code offsets moved).
	mod := &writer{b: []byte("\x00asm\x01\x00\x00\x00")}
	emitCustoms := func(after byte) error {
		for _, c := range m.customs {
			if c.after != after || strings.HasPrefix(c.name, ".debug") || c.name == "sourceMappingURL" {
				continue
			}
			payload := c.payload
			if c.name == "name" {
				var err error
				if payload, err = rewriteNames(payload, remap); err != nil {
					continue // a broken name section is debug info, not a reason to refuse the module
				}
			}
			mod.section(secCustom, payload)
		}
		return nil
	}
	_ = emitCustoms(0)
	for _, id := range sectionOrder {
		if b, ok := out[id]; ok {
			mod.section(id, b)
		}
		if _, ok := m.raw[id]; ok {
			_ = emitCustoms(id)
		}
	}
	res.Module = mod.b
	return res, nil
}

// MemoryError reports a module whose initial memory is already above the cap.
type MemoryError struct{ MinPages, MaxPages uint32 }

func (e *MemoryError) Error() string {
	return fmt.Sprintf("module needs %d pages (%d KiB) of memory at start, above the limit of %d pages", e.MinPages, e.MinPages*64, e.MaxPages)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// copyInstr writes in, re-indexing the function it names.
func copyInstr(w *writer, code []byte, in instr, remap func(uint32) uint32) {
	if !in.refsFunc {
		w.raw(code[in.start:in.end])
		return
	}
	w.byte(byte(in.op))
	w.u32(remap(in.funcIdx))
}

// copyExpr copies a constant expression (up to its end), re-indexing ref.func.
func copyExpr(w *writer, code []byte, remap func(uint32) uint32) error {
	r := &reader{b: code}
	for {
		in := r.next()
		if r.err != nil {
			return r.err
		}
		copyInstr(w, code, in, remap)
		if in.op == opEnd {
			return nil
		}
	}
}

func rewriteElements(raw []byte, remap func(uint32) uint32) ([]byte, error) {
	r := &reader{b: raw}
	w := &writer{}
	n := r.vecLen()
	w.u32(n)
	expr := func() {
		start := r.pos
		r.constExpr()
		if r.err == nil {
			r.err = copyExpr(w, raw[start:r.pos], remap)
		}
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		w.u32(flags)
		if flags > 7 {
			r.fail("element segment flags %d", flags)
			break
		}
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			w.u32(r.u32())
		}
		if flags&1 == 0 { // active: offset expression
			expr()
		}
		if flags&3 != 0 { // elemkind or reftype byte
			w.byte(r.byte())
		}
		count := r.vecLen()
		w.u32(count)
		for j := uint32(0); j < count && r.err == nil; j++ {
			if flags&4 != 0 {
				expr()
			} else {
				w.u32(remap(r.u32()))
			}
		}
	}
	if r.err == nil && !r.done() {
		r.fail("trailing bytes")
	}
	return w.b, r.err
}

// rewriteNames re-indexes the function and local name maps of a name section and keeps the module
// name; other subsections are dropped.
func rewriteNames(payload []byte, remap func(uint32) uint32) ([]byte, error) {
	r := &reader{b: payload}
	w := &writer{}
	w.name(r.name())
	for !r.done() {
		id := r.byte()
		sub := r.bytes(r.u32())
		if r.err != nil {
			break
		}
		sr := &reader{b: sub}
		sw := &writer{}
		switch id {
		case 0:
			sw.raw(sub)
		case 1, 2:
			n := sr.vecLen()
			sw.u32(n)
			for i := uint32(0); i < n && sr.err == nil; i++ {
				sw.u32(remap(sr.u32()))
				if id == 1 {
					sw.name(sr.name())
					continue
				}
				k := sr.vecLen()
				sw.u32(k)
				for j := uint32(0); j < k && sr.err == nil; j++ {
					sw.u32(sr.u32())
					sw.name(sr.name())
				}
			}
			if sr.err != nil {
				return nil, sr.err
			}
		default:
			continue
		}
		w.byte(id)
		w.u32(uint32(len(sw.b)))
		w.raw(sw.b)
	}
	return w.b, r.err
}
