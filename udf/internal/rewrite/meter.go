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
type meterer struct {
	fuelGlobal, fuelFunc uint32
	remap                func(uint32) uint32
	fuel                 bool                   // instrument this body
	leafCost             func(idx uint32) int64 // cost of a leaf callee, 0 for the others
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
	if locals >= 50000 {
		return nil, false, fmt.Errorf("%d locals, above wazero's limit", locals)
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
		st := step{instr: in}
		mutates = mutates || in.mutates
		costs[stack[len(stack)-1].region]++
		if in.op == opCall {
			costs[stack[len(stack)-1].region] += mt.leafCost(in.funcIdx)
		}
		switch in.op {
		case opBlock, opIf:
			stack = append(stack, block{region: stack[len(stack)-1].region})
		case opLoop:
			costs = append(costs, 0)
			stack = append(stack, block{region: len(costs) - 1})
		case opEnd:
			stack = stack[:len(stack)-1]
			st.leaves = len(stack) == 0
		case opReturn:
			st.leaves = true
		case opBr, opBrIf, opBrTable:
			st.leaves = branchesOut(body[in.start+1:in.end], in.op, uint32(len(stack)-1))
		}
		steps = append(steps, st)
	}
	if r.pos != len(body) {
		return nil, false, fmt.Errorf("%d bytes after the end of the function body", len(body)-r.pos)
	}

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
	region := 0
	for _, st := range steps {
		isCall := st.op == opCall || st.op == opCallIndirect
		if fuel && (st.leaves || isCall) {
			store()
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
			if in.op == opLoop || in.op == opCall || in.op == opCallIndirect {
				out[i].leaf = false
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %w", m.nImpFunc+uint32(i), r.err)
		}
	}
	return out, nil
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
func loopBody(l Loop, target uint32, inline *inlined, remap func(uint32) uint32) ([]byte, error) {
	const n, out = 0, 1
	col := func(i int) uint32 { return uint32(2 + i) }
	base := uint32(2 + len(l.Args)) // first local of the inlined function
	w := &writer{}
	var declared []byte // the inlined function's declared locals, one type per local
	var code []byte
	if inline != nil {
		r := &reader{b: inline.body}
		groups := r.vecLen()
		for i := uint32(0); i < groups && r.err == nil; i++ {
			count, typ := r.u32(), r.byte()
			if count > 1000 {
				inline = nil // not worth copying
				break
			}
			for range count {
				declared = append(declared, typ)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		code = inline.body[r.pos:]
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
