package rewrite

import "fmt"

// meter returns body with fuel checks at its entry and at every loop header. Each check charges
// the instructions of its region: the loop body (or the function), not counting nested loops,
// which charge their own.
//
// The counter lives in a local while the function runs, so a loop's check is a register
// subtraction and a branch, not a load and store of the global (which would chain every
// iteration through memory). The global is read at entry and after each call, and written
// back before each call and each way out of the function (return, a branch to the function's
// label, its final end); traps discard the instance, so they need no write-back.
//
// After each memory.grow that fails, meter sets the out-of-memory flag (the global after the fuel
// counter). It also reports whether the body mutates tables or segments.
//
// A leaf function (no loop, no call) runs in bounded time, so it is not instrumented: callers
// charge its cost at their call sites instead, and calls to it stay as cheap as before.
//
// Bulk instructions (memory.fill/copy/init, table.fill/copy/init) do work in
// proportion to an operand, so each charges that operand at run time (bulkCost), refuelling as
// often as the charge needs. A function that uses them is never a leaf.
//
// With a memory budget, memory.grow and table.grow first check that linear memory and all tables
// together (8 bytes per table entry) stay within it; a grow past it fails (-1) as a grow past a
// maximum does.
type meterer struct {
	fuelGlobal, fuelFunc uint32
	remap                func(uint32) uint32
	fuel                 bool                   // instrument this body
	leafCost             func(idx uint32) int64 // cost of a leaf callee, 0 for the others
	mod                  *module                // the original module, for index checks
	memBudget            uint64                 // bytes for memory and tables together; 0: none
	hasMemory            bool                   // the rewritten module has a memory
	work                 uint64                 // set by meter: the body's controlWork
}

// Fuel charged by the bulk instructions: the operand n (bytes or table entries) shifted right.
// Sixteen bytes of memset/memmove cost about what one ordinary instruction does; a table entry is
// eight bytes.
const (
	bulkMemoryShift = 4
	bulkTableShift  = 1
)

// bulkShift returns the shift of a bulk instruction, or -1 for the others.
func bulkShift(op uint32) int {
	switch op {
	case prefixFC<<16 | 8, prefixFC<<16 | 10, prefixFC<<16 | 11: // memory.init, memory.copy, memory.fill
		return bulkMemoryShift
	case prefixFC<<16 | 12, prefixFC<<16 | 14, prefixFC<<16 | 17: // table.init, table.copy, table.fill
		return bulkTableShift
	}
	return -1
}

func (mt *meterer) meter(body []byte, nParams int) ([]byte, bool, error) {
	fuelGlobal, fuelFunc, remap, fuel := mt.fuelGlobal, mt.fuelFunc, mt.remap, mt.fuel
	r := &reader{b: body}
	nDecl := r.vecLen()
	locals := uint64(nParams)
	for i := uint32(0); i < nDecl && r.err == nil; i++ {
		locals += uint64(r.u32())
		r.byte()
	}
	if r.err != nil {
		return nil, false, r.err
	}
	if locals > MaxLocals {
		return nil, false, &LimitError{What: "local count (parameters included)", Value: locals, Limit: MaxLocals}
	}
	codeStart := r.pos
	cache := uint32(locals) // the i64 local holding the fuel counter
	grown := cache + 1      // the i32 local the memory.grow check adds

	// Pass 1: the cost of each region, numbered in the order the regions open, and which
	// instructions leave the function.
	type block struct{ region int }
	type step struct {
		instr
		leaves bool // return, final end, or a branch to the function's label
	}
	costs := []int64{0}
	stack := []block{{region: 0}}
	mutates := false
	var steps []step
	var blocks uint64
	var brLabels []uint32
	for len(stack) > 0 {
		if r.done() {
			if r.err == nil {
				r.fail("function body ends inside a block")
			}
			return nil, false, r.err
		}
		in := r.next()
		if r.err != nil {
			return nil, false, r.err
		}
		if err := mt.mod.checkRefs(in, locals, len(stack)); err != nil {
			return nil, false, err
		}
		st := step{instr: in}
		mutates = mutates || in.mutates
		costs[stack[len(stack)-1].region]++
		if in.op == opCall {
			costs[stack[len(stack)-1].region] += mt.leafCost(in.funcIdx)
		}
		switch in.op {
		case opBlock, opLoop, opIf:
			if blocks++; blocks > MaxBlocks {
				return nil, false, &LimitError{What: "count of blocks, loops and ifs", Value: blocks, Limit: MaxBlocks}
			}
		case opBrTable:
			brLabels = append(brLabels, in.targets+1)
		}
		switch in.op {
		case opBlock, opIf:
			stack = append(stack, block{region: stack[len(stack)-1].region})
		case opLoop:
			costs = append(costs, 0)
			stack = append(stack, block{region: len(costs) - 1})
		case opElse:
			if len(stack) == 1 {
				return nil, false, fmt.Errorf("offset %d: else outside an if", in.start)
			}
		case opEnd:
			stack = stack[:len(stack)-1]
			st.leaves = len(stack) == 0
		case opReturn:
			st.leaves = true
		case opBr, opBrIf, opBrTable:
			st.leaves = branchesOut(body[in.start+1:in.end], in.op, uint32(len(stack)-1))
		}
		if len(stack) > MaxNesting {
			return nil, false, &LimitError{What: "block nesting depth", Value: uint64(len(stack)), Limit: MaxNesting}
		}
		steps = append(steps, st)
	}
	if r.pos != len(body) {
		return nil, false, fmt.Errorf("%d bytes after the end of the function body", len(body)-r.pos)
	}
	mt.work = controlWork(blocks, brLabels)

	// Pass 2: emit, with the extra locals declared last.
	w := &writer{}
	w.u32(nDecl + 2)
	w.raw(body[lenPrefix(body):codeStart])
	w.byte(1, I64, 1, I32)
	local := func(op byte, idx uint32) { w.byte(op); w.u32(idx) }
	store := func() { local(opLocalGet, cache); local(opGlobalSet, fuelGlobal) }
	load := func() { local(opGlobalGet, fuelGlobal); local(opLocalSet, cache) }
	// charge subtracts cost from the counter on the stack, keeps it in the local and calls the
	// host when it goes negative.
	charge := func(cost int64) {
		w.byte(opI64Const)
		w.s64(cost)
		w.byte(opI64Sub)
		local(opLocalTee, cache)
		w.byte(opI64Const, 0, opI64LtS, opIf, blockEmpty)
		local(opCall, fuelFunc)
		local(opLocalSet, cache)
		w.byte(opEnd)
	}
	if fuel {
		local(opGlobalGet, fuelGlobal)
		charge(costs[0])
	}
	// bulk charges the operand on top of the stack (an i32, left there) >> shift, calling the host
	// for as many slices as it takes: the fuel spent stays exact, and the deadline is checked
	// about once a slice.
	bulk := func(shift int) {
		local(opLocalTee, grown)
		local(opLocalGet, cache)
		local(opLocalGet, grown)
		w.byte(opI64ExtendI32U, opI64Const, byte(shift), opI64ShrU, opI64Sub)
		local(opLocalTee, cache)
		w.byte(opI64Const, 0, opI64LtS, opIf, blockEmpty, opLoop, blockEmpty)
		local(opCall, fuelFunc)
		local(opLocalGet, cache)
		w.byte(opI64Add)
		local(opLocalTee, cache)
		w.byte(opI64Const, 0, opI64LtS, opBrIf, 0, opEnd, opEnd)
	}
	// budget replaces the grow delta on top of the stack by -1 (a grow that must fail) when
	// memory and tables would pass the memory budget: delta << shift bytes more than the
	// current memory.size << 16 plus 8 bytes per entry of every table.
	budget := func(shift byte) {
		local(opLocalSet, grown)
		w.byte(opI32Const, 0x7f)
		local(opLocalGet, grown)
		local(opLocalGet, grown)
		w.byte(opI64ExtendI32U, opI64Const, shift, opI64Shl)
		if mt.hasMemory {
			w.byte(opMemorySize, 0, opI64ExtendI32U, opI64Const, 16, opI64Shl, opI64Add)
		}
		for t := range mt.mod.nTables() {
			w.byte(prefixFC)
			w.u32(16) // table.size
			w.u32(t)
			w.byte(opI64ExtendI32U, opI64Const, 3, opI64Shl, opI64Add)
		}
		w.byte(opI64Const)
		w.s64(int64(mt.memBudget))
		w.byte(opI64GtU, opSelect)
	}
	region := 0
	for _, st := range steps {
		isCall := st.op == opCall || st.op == opCallIndirect
		if fuel && (st.leaves || isCall) {
			store()
		}
		if sh := bulkShift(st.op); fuel && sh >= 0 {
			bulk(sh)
		}
		if mt.memBudget > 0 && (st.op == prefixFC<<16|15 || (st.op == opMemoryGrow && mt.mod.nTables() > 0)) {
			budget(map[bool]byte{true: 3, false: 16}[st.op != opMemoryGrow])
		}
		copyInstr(w, body, st.instr, remap)
		switch {
		case fuel && isCall:
			load()
		case fuel && st.op == opLoop:
			region++
			local(opLocalGet, cache)
			charge(costs[region])
		case st.op == opMemoryGrow:
			local(opLocalTee, grown)
			w.byte(opI32Const, 0x7f, opI32Eq, opIf, blockEmpty, opI32Const, 1) // -1
			local(opGlobalSet, fuelGlobal+1)
			w.byte(opEnd)
			local(opLocalGet, grown)
		}
	}
	return w.b, mutates, nil
}

// branchesOut reports whether the br, br_if or br_table with immediates imm targets label depth
// out, the function's own label.
func branchesOut(imm []byte, op uint32, out uint32) bool {
	r := &reader{b: imm}
	if op != opBrTable {
		return r.u32() == out
	}
	n := r.vecLen()
	for i := uint32(0); i <= n && r.err == nil; i++ {
		if r.u32() == out {
			return true
		}
	}
	return false
}

// lenPrefix is the size of the LEB128 at the start of b.
func lenPrefix(b []byte) int {
	for i, c := range b {
		if c&0x80 == 0 {
			return i + 1
		}
	}
	return len(b)
}

// leafInfo says whether a defined function is a leaf (no loop, no call: bounded time) and how
// many instructions it has.
type leafInfo struct {
	leaf bool
	cost int64
}

// A function that uses a bulk instruction is not a leaf (its time depends on an operand), nor one
// that grows memory or a table (the scalar loop would inline it without the grow checks), nor is
// one that an element segment or a ref.func names: call_indirect and a table reach it without a
// call site that could charge its size, so it pays for itself on entry.
func (m *module) leaves() ([]leafInfo, error) {
	out := make([]leafInfo, len(m.codes))
	for i, body := range m.codes {
		r := &reader{b: body}
		n := r.vecLen()
		for j := uint32(0); j < n && r.err == nil; j++ {
			r.u32()
			r.byte()
		}
		out[i].leaf = true
		for !r.done() {
			in := r.next()
			out[i].cost++
			if in.op == opLoop || in.op == opCall || in.op == opCallIndirect || bulkShift(in.op) >= 0 ||
				in.op == opMemoryGrow || in.op == prefixFC<<16|15 { // grows get the rewriter's checks: never inlined
				out[i].leaf = false
			}
			if in.op == opRefFunc && in.funcIdx < m.nFuncs() { // out of range: refused by meter
				m.declare(in.funcIdx)
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %w", m.nImpFunc+uint32(i), r.err)
		}
	}
	for f, d := range m.declared {
		if d && uint32(f) >= m.nImpFunc {
			out[uint32(f)-m.nImpFunc].leaf = false
		}
	}
	return out, nil
}

// maxInlineLocals is the most declared locals of a leaf export the scalar loop inlines.
const maxInlineLocals = 1000

// minRowCharge is the smallest leaf cost the scalar loop charges each row: below it the check
// costs more than the work, and a batch of such rows is bounded by the batch size.
const minRowCharge = 64

// rowFuel is what a scalar loop charges per row, and where.
type rowFuel struct {
	cost       int64
	global, fn uint32
}

// inlined is a leaf export whose body the scalar loop copies instead of calling it.
type inlined struct {
	body []byte
	typ  FuncType
}

// loopBody generates __wasql_loop_<export>(n, out, c0, ..., ck): for each of n rows it loads one
// value from each column, evaluates the export, stores the result and advances the pointers.
// A leaf export is inlined: its parameters and locals become locals of the loop (the locals
// zeroed each row, as a call would), its body a block, its returns branches out of that block.
//
// When fuel is set, each row charges rowCost first: the cost of a leaf export, which is not
// instrumented itself (only large leaves are charged; a small one costs less than the check).
func loopBody(l Loop, target uint32, inline *inlined, remap func(uint32) uint32, fuel *rowFuel) ([]byte, error) {
	const n, out = 0, 1
	col := func(i int) uint32 { return uint32(2 + i) }
	base := uint32(2 + len(l.Args)) // first local of the inlined function
	w := &writer{}
	var declared []byte // the inlined function's declared locals, one type per local
	var code []byte
	if inline != nil {
		r := &reader{b: inline.body}
		groups := r.vecLen()
		total := uint64(0)
		for i := uint32(0); i < groups && r.err == nil; i++ {
			count, typ := r.u32(), r.byte()
			if total += uint64(count); total > maxInlineLocals {
				break // not worth copying: call it instead
			}
			for range count {
				declared = append(declared, typ)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		if total > maxInlineLocals {
			inline, declared = nil, nil
		} else {
			code = inline.body[r.pos:]
		}
	}
	if inline == nil {
		w.u32(0)
	} else {
		locals := append(append([]byte(nil), inline.typ.Params...), declared...)
		w.u32(uint32(len(locals)))
		for _, t := range locals {
			w.byte(1, t)
		}
	}
	w.byte(opLocalGet, n, opI32Eqz, opBrIf, 0)
	w.byte(opLoop, blockEmpty)
	if fuel != nil {
		g := func(op byte) { w.byte(op); w.u32(fuel.global) }
		g(opGlobalGet)
		w.byte(opI64Const)
		w.s64(fuel.cost)
		w.byte(opI64Sub)
		g(opGlobalSet)
		g(opGlobalGet)
		w.byte(opI64Const, 0, opI64LtS, opIf, blockEmpty, opCall)
		w.u32(fuel.fn)
		g(opGlobalSet)
		w.byte(opEnd)
	}
	w.byte(opLocalGet, out)
	for i, c := range l.Args {
		w.byte(opLocalGet)
		w.u32(col(i))
		load, align := loadOp(c)
		w.byte(load, align, 0)
	}
	if inline == nil {
		w.byte(opCall)
		w.u32(target)
	} else {
		for i := len(l.Args) - 1; i >= 0; i-- {
			w.byte(opLocalSet)
			w.u32(base + uint32(i))
		}
		for i, t := range declared {
			zero(w, t)
			w.byte(opLocalSet)
			w.u32(base + uint32(len(l.Args)+i))
		}
		w.byte(opBlock, inline.typ.Results[0])
		r := &reader{b: code}
		depth := uint32(0)
		for !r.done() {
			in := r.next()
			switch {
			case in.op >= opLocalGet && in.op <= opLocalTee:
				idx := (&reader{b: code[in.start+1 : in.end]}).u32()
				w.byte(byte(in.op))
				w.u32(base + idx)
			case in.op == opReturn:
				w.byte(opBr)
				w.u32(depth)
			default:
				copyInstr(w, code, in, remap)
			}
			switch in.op {
			case opBlock, opLoop, opIf:
				depth++
			case opEnd:
				depth--
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	store, align := storeOp(l.Result)
	w.byte(store, align, 0)
	advance := func(local uint32, by uint32) {
		w.byte(opLocalGet)
		w.u32(local)
		w.byte(opI32Const)
		w.s64(int64(by))
		w.byte(opI32Add, opLocalSet)
		w.u32(local)
	}
	advance(out, storeWidth(l.Result))
	for i, c := range l.Args {
		advance(col(i), c.Width())
	}
	w.byte(opLocalGet, n, opI32Const, 1, opI32Sub, opLocalTee, n, opBrIf, 0)
	w.byte(opEnd, opEnd)
	return w.b, nil
}

// zero pushes the zero value of a local of type t.
func zero(w *writer, t byte) {
	switch t {
	case I32:
		w.byte(opI32Const, 0)
	case I64:
		w.byte(opI64Const, 0)
	case F32:
		w.byte(0x43, 0, 0, 0, 0)
	case F64:
		w.byte(0x44, 0, 0, 0, 0, 0, 0, 0, 0)
	case V128:
		w.byte(prefixFD, 12)
		w.raw(make([]byte, 16))
	default: // funcref, externref
		w.byte(0xd0, t)
	}
}

func loadOp(c Column) (op, align byte) {
	switch c {
	case ColU8:
		return opI32Load8U, 0
	case ColI16:
		return opI32Load16S, 1
	case ColI32:
		return opI32Load, 2
	case ColF32:
		return opF32Load, 2
	case ColF64:
		return opF64Load, 3
	}
	return opI64Load, 3
}

func storeOp(c Column) (op, align byte) {
	switch c {
	case ColU8, ColI16, ColI32:
		return opI32Store, 2
	case ColF32:
		return opF32Store, 2
	case ColF64:
		return opF64Store, 3
	}
	return opI64Store, 3
}

// storeWidth is the bytes a loop stores per result: i32-typed results always take four.
func storeWidth(c Column) uint32 {
	if c == ColU8 || c == ColI16 {
		return 4
	}
	return c.Width()
}
