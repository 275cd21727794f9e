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
}

func malformed(err error) error {
	var u *UnsupportedError
	if errors.As(err, &u) {
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
	case secMemory:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			m.memories = append(m.memories, r.limits())
		}
	case secGlobal:
		n := r.vecLen()
		for i := uint32(0); i < n && r.err == nil; i++ {
			g := global{typ: r.byte(), mutable: r.byte() == 1}
			start := r.pos
			r.constExpr()
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
