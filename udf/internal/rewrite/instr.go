package rewrite

import "fmt"

// Opcodes the rewriter looks at or emits.
const (
	opUnreachable   = 0x00
	opBlock         = 0x02
	opLoop          = 0x03
	opIf            = 0x04
	opElse          = 0x05
	opEnd           = 0x0b
	opBr            = 0x0c
	opBrIf          = 0x0d
	opReturn        = 0x0f
	opBrTable       = 0x0e
	opCall          = 0x10
	opCallIndirect  = 0x11
	opLocalGet      = 0x20
	opLocalSet      = 0x21
	opLocalTee      = 0x22
	opGlobalGet     = 0x23
	opGlobalSet     = 0x24
	opTableSet      = 0x26
	opMemoryGrow    = 0x40
	opI32Load       = 0x28
	opI64Load       = 0x29
	opF32Load       = 0x2a
	opF64Load       = 0x2b
	opI32Load8U     = 0x2d
	opI32Load16S    = 0x2e
	opI32Store      = 0x36
	opI64Store      = 0x37
	opF32Store      = 0x38
	opF64Store      = 0x39
	opI32Const      = 0x41
	opI64Const      = 0x42
	opI32Eqz        = 0x45
	opI32Eq         = 0x46
	opI64LtS        = 0x53
	opI32Add        = 0x6a
	opI32Sub        = 0x6b
	opI64Sub        = 0x7d
	opI64Add        = 0x7c
	opI64Shl        = 0x86
	opI64ShrU       = 0x88
	opI64GtU        = 0x56
	opI64ExtendI32U = 0xad
	opMemorySize    = 0x3f
	opSelect        = 0x1b
	opRefFunc       = 0xd2
	prefixFC        = 0xfc
	prefixFD        = 0xfd

	blockEmpty = 0x40
)

// UnsupportedError reports an instruction or encoding from a Wasm proposal that wasql does not
// enable (wazero's default feature set is the line).
type UnsupportedError struct {
	Offset  int
	Feature string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("offset %d: uses %s, which wasql does not support", e.Offset, e.Feature)
}

// instr is one decoded instruction: its opcode (prefixed ones as prefix<<16|sub), its byte range,
// and the function index it names, if any.
type instr struct {
	op         uint32
	start, end int
	funcIdx    uint32
	refsFunc   bool // call or ref.func: funcIdx must be re-indexed
	mutates    bool // changes table or segment state, which a memory snapshot cannot restore
	refs       [2]ref
	nrefs      uint8
	targets    uint32 // br_table: the number of labels in its vector
}

// space is an index space an immediate points into.
type space uint8

// Index spaces of immediates.
const (
	spLocal space = iota + 1
	spGlobal
	spFunc
	spType
	spTable
	spMemory
	spElem
	spData
	spLabel // a branch depth (for br_table the deepest of its labels)
)

var spaceNames = [...]string{spLocal: "local", spGlobal: "global", spFunc: "function", spType: "type",
	spTable: "table", spMemory: "memory", spElem: "element segment", spData: "data segment", spLabel: "branch depth"}

func (s space) String() string { return spaceNames[s] }

// ref is one index immediate of an instruction.
type ref struct {
	space space
	idx   uint32
}

func (in *instr) ref(s space, idx uint32) {
	if int(in.nrefs) < len(in.refs) {
		in.refs[in.nrefs] = ref{s, idx}
		in.nrefs++
	}
}

func (r *reader) unsupported(feature string) {
	if r.err == nil {
		r.err = &UnsupportedError{Offset: r.pos, Feature: feature}
	}
}

func (r *reader) memarg(in *instr) {
	align := r.u32()
	if align&0x40 != 0 {
		r.unsupported("multiple memories")
	}
	r.u32()
	in.ref(spMemory, 0)
}

func (r *reader) memIdx(in *instr) {
	if r.byte() != 0 {
		r.unsupported("multiple memories")
	}
	in.ref(spMemory, 0)
}

// next decodes the instruction at r.pos and records its index immediates in refs (checked against
// the original module by checkRefs); wazero validates the rewritten module as a whole.
func (r *reader) next() instr {
	in := instr{start: r.pos}
	op := r.byte()
	in.op = uint32(op)
	switch {
	case op == opBlock || op == opLoop || op == opIf:
		if bt := r.sleb(33); bt >= 0 {
			in.ref(spType, uint32(bt))
		}
	case op == opBr || op == opBrIf:
		in.ref(spLabel, r.u32())
	case op == opBrTable:
		n := r.vecLen()
		in.targets = n
		deepest := uint32(0)
		for i := uint32(0); i <= n && r.err == nil; i++ {
			deepest = max(deepest, r.u32())
		}
		in.ref(spLabel, deepest)
	case op == opCall:
		in.funcIdx, in.refsFunc = r.u32(), true
		in.ref(spFunc, in.funcIdx)
	case op == opCallIndirect:
		in.ref(spType, r.u32())
		in.ref(spTable, r.u32())
	case op == 0x12 || op == 0x13:
		r.unsupported("tail calls (return_call)")
	case op == 0x14 || op == 0x15 || op == 0xd3 || op == 0xd4 || op == 0xd5 || op == 0xd6:
		r.unsupported("typed function references")
	case (op >= 0x06 && op <= 0x0a) || op == 0x18 || op == 0x19 || op == 0x1f:
		r.unsupported("exception handling")
	case op == 0xd0: // ref.null t
		r.byte()
	case op == opRefFunc:
		in.funcIdx, in.refsFunc = r.u32(), true
		in.ref(spFunc, in.funcIdx)
	case op == 0x1c: // select t*
		n := r.vecLen()
		r.bytes(n)
	case op >= opLocalGet && op <= opLocalTee:
		in.ref(spLocal, r.u32())
	case op == opGlobalGet || op == opGlobalSet:
		in.ref(spGlobal, r.u32())
	case op == 0x25 || op == opTableSet:
		in.ref(spTable, r.u32())
		in.mutates = op == opTableSet
	case op >= 0x28 && op <= 0x3e:
		r.memarg(&in)
	case op == 0x3f || op == 0x40:
		r.memIdx(&in)
	case op == opI32Const:
		r.sleb(32)
	case op == opI64Const:
		r.sleb(64)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0x01 || op == opUnreachable || op == opElse || op == opEnd || op == 0x0f ||
		op == 0x1a || op == 0x1b || op == 0xd1 || (op >= 0x45 && op <= 0xc4):
		// no immediates
	case op == prefixFC:
		sub := r.u32()
		in.op = prefixFC<<16 | sub
		switch {
		case sub <= 7: // saturating truncations
		case sub == 8: // memory.init
			in.ref(spData, r.u32())
			r.memIdx(&in)
		case sub == 9: // data.drop
			in.ref(spData, r.u32())
			in.mutates = true
		case sub == 13: // elem.drop
			in.ref(spElem, r.u32())
			in.mutates = true
		case sub == 10: // memory.copy
			r.memIdx(&in)
			r.memIdx(&in)
		case sub == 11: // memory.fill
			r.memIdx(&in)
		case sub == 12: // table.init elem table
			in.ref(spElem, r.u32())
			in.ref(spTable, r.u32())
			in.mutates = true
		case sub == 14: // table.copy dst src
			in.ref(spTable, r.u32())
			in.ref(spTable, r.u32())
			in.mutates = true
		case sub == 15 || sub == 16 || sub == 17: // table.grow, table.size, table.fill
			in.ref(spTable, r.u32())
			in.mutates = sub != 16
		default:
			r.unsupported(fmt.Sprintf("instruction 0xfc %d", sub))
		}
	case op == prefixFD:
		sub := r.u32()
		in.op = prefixFD<<16 | sub
		switch {
		case sub <= 11 || sub == 0x5c || sub == 0x5d: // loads, store, load_zero
			r.memarg(&in)
		case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
			r.bytes(16)
		case sub >= 21 && sub <= 34: // extract_lane, replace_lane
			r.byte()
		case sub >= 0x54 && sub <= 0x5b: // load_lane, store_lane
			r.memarg(&in)
			r.byte()
		case sub <= 0xff:
			// the rest of SIMD has no immediates
		default:
			r.unsupported(fmt.Sprintf("instruction 0xfd %d (relaxed SIMD)", sub))
		}
	case op == 0xfe:
		r.unsupported("threads (atomics)")
	case op == 0xfb:
		r.unsupported("garbage collection")
	default:
		r.fail("unknown opcode 0x%02x", op)
	}
	in.end = r.pos
	return in
}
