package rewrite

import (
	"bytes"
	"errors"
	"fmt"
)

// Section ids of the core binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionOrder is the order the binary format requires of the known sections.
var sectionOrder = []byte{secType, secImport, secFunction, secTable, secMemory, secTag, secGlobal,
	secExport, secStart, secElement, secDataCount, secCode, secData}

// Kinds of imports and exports.
const (
	KindFunc   = 0
	KindTable  = 1
	KindMemory = 2
	KindGlobal = 3
	KindTag    = 4
)

// Value types.
const (
	I32  = 0x7f
	I64  = 0x7e
	F32  = 0x7d
	F64  = 0x7c
	V128 = 0x7b
)

// ErrMalformed wraps every decoding failure that is not an UnsupportedError.
var ErrMalformed = errors.New("malformed module")

// FuncType is a function signature.
type FuncType struct{ Params, Results []byte }

// Import is one entry of the import section.
type Import struct {
	Module, Name string
	Kind         byte
	Type         FuncType // for functions
}

// Export is one entry of the export section, with the signature when it is a function.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
	Type  FuncType
}

type global struct {
	typ     byte
	mutable bool
	init    []byte // constant expression, with its end
}

type limits struct {
	min, max uint32
	hasMax   bool
}

type custom struct {
	after   byte // the known section it followed, 0 at the start
	name    string
	payload []byte // the whole section payload, name included
}

// module is a decoded module: the parts the rewriter changes are decoded, the rest kept raw.
type module struct {
	raw                    map[byte][]byte // payloads of known sections
	customs                []custom
	types                  []FuncType
	imports                []Import
	importsRaw             [][]byte
	nImpFunc, nImpGlobal   uint32
	hasImpMem, hasImpTable bool
	funcs                  []uint32 // type index of each defined function
	memories               []limits
	globals                []global
	exports                []Export
	start                  *uint32
	codes                  [][]byte

	nImpTable uint32
	tables    []table   // defined tables
	elems     []segment // element segments
	datas     []segment // data segments
	dataCount *uint32
	declared  []bool // per function: named by an element segment or ref.func, so callable indirectly
	elemTotal uint64 // entries of all element segments
}

type table struct {
	ref byte
	lim limits
}

// segment is what validation needs of an element or data segment.
type segment struct {
	active bool
	index  uint32 // table or memory of an active segment
	count  uint32 // elements (element segments) or bytes (data segments)
}

func (m *module) nFuncs() uint32   { return m.nImpFunc + uint32(len(m.funcs)) }
func (m *module) nGlobals() uint32 { return m.nImpGlobal + uint32(len(m.globals)) }
func (m *module) nTables() uint32  { return m.nImpTable + uint32(len(m.tables)) }
func (m *module) nMemories() uint32 {
	if m.hasImpMem {
		return 1 + uint32(len(m.memories))
	}
	return uint32(len(m.memories))
}

func malformed(err error) error {
	var u *UnsupportedError
	var l *LimitError
	if errors.As(err, &u) || errors.As(err, &l) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func parse(bin []byte) (*module, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%w: not a WebAssembly binary (no \\0asm header)", ErrMalformed)
	}
	if !bytes.Equal(bin[4:8], []byte{1, 0, 0, 0}) {
		return nil, fmt.Errorf("%w: binary version %x, want 1 (core module; components are not supported)", ErrMalformed, bin[4:8])
	}
	m := &module{raw: map[byte][]byte{}}
	r := &reader{b: bin, pos: 8}
	var last byte
	for !r.done() {
		id := r.byte()
		payload := r.bytes(r.u32())
		if r.err != nil {
			break
		}
		if id == secCustom {
			pr := &reader{b: payload}
			name := pr.name()
			if pr.err != nil {
				return nil, malformed(fmt.Errorf("custom section: %v", pr.err))
			}
			m.customs = append(m.customs, custom{after: last, name: name, payload: payload})
			continue
		}
		if id > secTag {
			return nil, malformed(fmt.Errorf("unknown section id %d", id))
		}
		if _, dup := m.raw[id]; dup {
			return nil, malformed(fmt.Errorf("section %d appears twice", id))
		}
		if order(id) <= order(last) && last != 0 {
			return nil, malformed(fmt.Errorf("section %d out of order", id))
		}
		if id == secTag {
			return nil, &UnsupportedError{Offset: r.pos, Feature: "exception handling (tag section)"}
		}
		m.raw[id], last = payload, id
		if err := m.decode(id, payload); err != nil {
			return nil, malformed(fmt.Errorf("section %d: %w", id, err))
		}
	}
	if r.err != nil {
		return nil, malformed(r.err)
	}
	if len(m.funcs) != len(m.codes) {
		return nil, malformed(fmt.Errorf("function section declares %d functions, code section has %d bodies", len(m.funcs), len(m.codes)))
	}
	return m, nil
}

func order(id byte) int { return bytes.IndexByte(sectionOrder, id) }

func (m *module) decode(id byte, payload []byte) error {
	r := &reader{b: payload}
	switch id {
	case secType:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			if form := r.byte(); form != 0x60 {
				if r.err == nil {
					r.unsupported(fmt.Sprintf("type form 0x%02x (GC proposal)", form))
				}
				break
			}
			p := r.bytes(r.vecLen())
			res := r.bytes(r.vecLen())
			m.types = append(m.types, FuncType{Params: p, Results: res})
		}
	case secImport:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			start := r.pos
			im := Import{Module: r.name(), Name: r.name(), Kind: r.byte()}
			switch im.Kind {
			case KindFunc:
				t := r.u32()
				if r.err == nil && t >= uint32(len(m.types)) {
					r.fail("import %s.%s: type index %d out of range", im.Module, im.Name, t)
				}
				if r.err == nil {
					im.Type = m.types[t]
				}
				m.nImpFunc++
			case KindTable:
				r.byte()
				r.limits()
				m.hasImpTable = true
				m.nImpTable++
			case KindMemory:
				r.limits()
				m.hasImpMem = true
			case KindGlobal:
				r.byte()
				r.byte()
				m.nImpGlobal++
			default:
				r.unsupported(fmt.Sprintf("import kind %d", im.Kind))
			}
			m.imports = append(m.imports, im)
			m.importsRaw = append(m.importsRaw, payload[start:r.pos])
		}
	case secFunction:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			t := r.u32()
			if r.err == nil && t >= uint32(len(m.types)) {
				r.fail("function %d: type index %d out of range", i, t)
			}
			m.funcs = append(m.funcs, t)
		}
	case secTable:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.tables = append(m.tables, table{ref: r.byte(), lim: r.limits()})
		}
	case secElement:
		m.decodeElements(r)
	case secData:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			var s segment
			switch flags := r.u32(); flags {
			case 0:
				s.active = true
				m.constExpr(r)
			case 1:
			case 2:
				s.active, s.index = true, r.u32()
				m.constExpr(r)
			default:
				r.fail("data segment %d: flags %d", i, flags)
			}
			s.count = r.vecLen()
			r.bytes(s.count)
			m.datas = append(m.datas, s)
		}
	case secDataCount:
		c := r.u32()
		m.dataCount = &c
	case secMemory:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.memories = append(m.memories, r.limits())
		}
	case secGlobal:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			g := global{typ: r.byte()}
			switch mut := r.byte(); mut {
			case 0, 1:
				g.mutable = mut == 1
			default:
				r.fail("global %d: mutability byte 0x%02x", i, mut)
			}
			start := r.pos
			m.constExpr(r)
			g.init = payload[start:r.pos]
			m.globals = append(m.globals, g)
		}
	case secExport:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.exports = append(m.exports, Export{Name: r.name(), Kind: r.byte(), Index: r.u32()})
		}
	case secStart:
		s := r.u32()
		m.start = &s
	case secCode:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.codes = append(m.codes, r.bytes(r.u32()))
		}
	default:
		return nil // kept raw
	}
	if r.err == nil && !r.done() {
		r.fail("%d trailing bytes", len(payload)-r.pos)
	}
	return r.err
}

func (r *reader) limits() limits {
	var l limits
	switch flags := r.byte(); flags {
	case 0:
		l.min = r.u32()
	case 1:
		l.min, l.max, l.hasMax = r.u32(), r.u32(), true
	case 2, 3:
		r.unsupported("threads (shared memory)")
	default:
		r.unsupported(fmt.Sprintf("limits flags 0x%02x (memory64)", flags))
	}
	return l
}

// constExpr skips a constant expression up to and including its end.
func (r *reader) constExpr() {
	for r.err == nil {
		if in := r.next(); in.op == opEnd {
			return
		}
	}
}

// constExpr reads a constant expression of the module up to and including its end, checking its
// indices against what the module declared so far and noting the functions it names.
func (m *module) constExpr(r *reader) {
	for r.err == nil {
		in := r.next()
		if r.err != nil {
			return
		}
		for _, f := range in.refs[:in.nrefs] {
			switch {
			case f.space == spGlobal && f.idx < m.nGlobals():
			case f.space == spFunc && f.idx < m.nFuncs():
				m.declare(f.idx)
			default:
				r.fail("constant expression: %s index %d out of range or not allowed", f.space, f.idx)
				return
			}
		}
		if in.op == opEnd {
			return
		}
	}
}

// declare notes that function f can be reached through a table or a reference. The sections
// before the element, global and code sections fixed the function count, so f is in range.
func (m *module) declare(f uint32) {
	if f >= m.nFuncs() {
		return // callers check; this keeps a slip from becoming a panic
	}
	if m.declared == nil {
		m.declared = make([]bool, m.nFuncs())
	}
	m.declared[f] = true
}

// decodeElements reads the element section into m.elems and m.declared.
func (m *module) decodeElements(r *reader) {
	n := r.vecLen()
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		if flags > 7 {
			r.fail("element segment %d: flags %d", i, flags)
			return
		}
		var s segment
		s.active = flags&1 == 0
		if flags&2 != 0 && flags&1 == 0 {
			s.index = r.u32()
		}
		if s.active {
			m.constExpr(r)
		}
		if flags&3 != 0 {
			r.byte()
		}
		s.count = r.vecLen()
		for j := uint32(0); j < s.count && r.err == nil; j++ {
			if flags&4 != 0 {
				m.constExpr(r)
			} else if f := r.u32(); r.err == nil && f >= m.nFuncs() {
				r.fail("element segment %d: function index %d out of range (%d functions)", i, f, m.nFuncs())
			} else if r.err == nil {
				m.declare(f)
			}
		}
		m.elemTotal += uint64(s.count)
		m.elems = append(m.elems, s)
	}
}

// funcType returns the signature of function index idx (imports first).
func (m *module) funcType(idx uint32) (FuncType, bool) {
	if idx < m.nImpFunc {
		var i uint32
		for _, im := range m.imports {
			if im.Kind == KindFunc {
				if i == idx {
					return im.Type, true
				}
				i++
			}
		}
	}
	d := idx - m.nImpFunc
	if idx < m.nImpFunc || d >= uint32(len(m.funcs)) {
		return FuncType{}, false
	}
	return m.types[m.funcs[d]], true
}
