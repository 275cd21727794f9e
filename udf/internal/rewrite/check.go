package rewrite

import "fmt"

// Bounds on what makes wazero's compiler slow. wazero v1.12.0 compiles a function in time that
// grows with the square of its control structures or worse (measured: 4,096 empty blocks in one
// function 0.16 s, 8,192 1.7 s, 65,536 4 min; a br_table of 16,384 labels 0.37 s, 150,000 12 s),
// so each function's blocks and br_tables are bounded, and so is their sum of squares over the
// module (the work a module's functions cost together). Nesting depth, function and local counts
// are bounded too. The bounds sit far above what compilers emit (the Go guest: at most 385 blocks
// in a function, nesting 297, br_table 534, control work 2.7M) and keep compiling any module in
// about two seconds at worst (docs/RATIONALE.md, "Why bound what makes compiling slow?").
const (
	MaxNesting     = 1024    // open blocks, loops and ifs in a function, its own body included
	MaxBlocks      = 4096    // blocks, loops and ifs in a function
	MaxBrTable     = 8192    // labels in one br_table
	MaxControlWork = 1 << 26 // over the module: the sum of blocks² plus labels²/8 of each br_table
	MaxFunctions   = 100_000 // imported and defined functions
	MaxLocals      = 50_000  // parameters and locals of one function
	MaxTables      = 100     // imported and defined tables

	// MaxFunctionBytes bounds one function body: wazero builds each function's SSA whole, at
	// about 150 bytes of memory and 3 µs per byte of Wasm (a 3.4 MB function took 10 s and 514 MB
	// to compile, 13.7 MB 32 s and 1.6 GB). The Go guest's largest function is 12 kB.
	MaxFunctionBytes = 1 << 20

	// Section entries wazero builds a structure for each of, linearly but at 10–20 µs apiece
	// (500,000 types took 7 s and 156 MB to load, 500,000 exports 10 s and 191 MB, 1M globals
	// 16 s and 445 MB). The Go guest has 13 types, 12 exports, 8 globals, 23,297 data segments.
	MaxTypes        = 10_000
	MaxImports      = 1_000
	MaxGlobals      = 10_000
	MaxExports      = 10_000
	MaxElemSegments = 10_000
	MaxDataSegments = 1_000_000
)

// controlWork is a function's share of MaxControlWork.
func controlWork(blocks uint64, brLabels []uint32) uint64 {
	w := blocks * blocks
	for _, n := range brLabels {
		w += uint64(n) * uint64(n) / 8
	}
	return w
}

// LimitError reports a module that breaks one of the bounds above, or the table limits.
type LimitError struct {
	Where string // "function 12", "module", ...
	What  string // "block nesting depth", ...
	Value uint64
	Limit uint64
}

func (e *LimitError) Error() string {
	msg := fmt.Sprintf("%s %d is above the limit of %d", e.What, e.Value, e.Limit)
	if e.Where != "" {
		msg = e.Where + ": " + msg
	}
	return msg
}

// checkModule checks every index the module's sections name against the original module, so no
// part of the guest can name what the rewriter adds (a local, global, function, type or memory).
func (m *module) checkModule() error {
	if n := m.nFuncs(); n > MaxFunctions {
		return &LimitError{Where: "module", What: "function count", Value: uint64(n), Limit: MaxFunctions}
	}
	for _, c := range []struct {
		what     string
		n, limit int
	}{
		{"table count", int(m.nTables()), MaxTables},
		{"type count", len(m.types), MaxTypes},
		{"import count", len(m.imports), MaxImports},
		{"global count", int(m.nGlobals()), MaxGlobals},
		{"export count", len(m.exports), MaxExports},
		{"element segment count", len(m.elems), MaxElemSegments},
		{"data segment count", len(m.datas), MaxDataSegments},
	} {
		if c.n > c.limit {
			return &LimitError{Where: "module", What: c.what, Value: uint64(c.n), Limit: uint64(c.limit)}
		}
	}
	for i, body := range m.codes {
		if len(body) > MaxFunctionBytes {
			return &LimitError{Where: fmt.Sprintf("function %d", m.nImpFunc+uint32(i)), What: "body size in bytes", Value: uint64(len(body)), Limit: MaxFunctionBytes}
		}
	}
	names := make(map[string]bool, len(m.exports))
	for _, e := range m.exports {
		if names[e.Name] {
			return malformed(fmt.Errorf("export name %q appears twice", e.Name))
		}
		names[e.Name] = true
		var n uint32
		switch e.Kind {
		case KindFunc:
			n = m.nFuncs()
		case KindTable:
			n = m.nTables()
		case KindMemory:
			n = m.nMemories()
		case KindGlobal:
			n = m.nGlobals()
		default:
			return malformed(fmt.Errorf("export %q: kind %d", e.Name, e.Kind))
		}
		if e.Index >= n {
			return malformed(fmt.Errorf("export %q: %s index %d out of range (%d)", e.Name, kindWord(e.Kind), e.Index, n))
		}
	}
	if m.start != nil && *m.start >= m.nFuncs() {
		return malformed(fmt.Errorf("start function index %d out of range (%d functions)", *m.start, m.nFuncs()))
	}
	for i, s := range m.elems {
		if s.active && s.index >= m.nTables() {
			return malformed(fmt.Errorf("element segment %d: table index %d out of range (%d tables)", i, s.index, m.nTables()))
		}
	}
	for i, s := range m.datas {
		if s.active && s.index >= m.nMemories() {
			return malformed(fmt.Errorf("data segment %d: memory index %d out of range (%d memories)", i, s.index, m.nMemories()))
		}
	}
	if m.dataCount != nil && *m.dataCount != uint32(len(m.datas)) {
		return malformed(fmt.Errorf("data count section says %d segments, data section has %d", *m.dataCount, len(m.datas)))
	}
	return nil
}

func kindWord(k byte) string {
	return [...]string{"function", "table", "memory", "global", "tag"}[min(int(k), 4)]
}

// checkRefs checks the index immediates of one instruction of a function body with locals
// locals and depth open labels (its own included).
func (m *module) checkRefs(in instr, locals uint64, depth int) error {
	for _, f := range in.refs[:in.nrefs] {
		var n uint64
		switch f.space {
		case spLocal:
			n = locals
		case spGlobal:
			n = uint64(m.nGlobals())
		case spFunc:
			n = uint64(m.nFuncs())
		case spType:
			n = uint64(len(m.types))
		case spTable:
			n = uint64(m.nTables())
		case spMemory:
			n = uint64(m.nMemories())
		case spElem:
			n = uint64(len(m.elems))
		case spData:
			n = uint64(len(m.datas))
			if m.dataCount != nil {
				n = uint64(*m.dataCount)
			}
		case spLabel:
			n = uint64(depth)
		}
		if uint64(f.idx) >= n {
			what := "the module declares"
			switch f.space {
			case spLocal:
				what = "parameters and locals of the function:"
			case spLabel:
				what = "labels open:"
			}
			return fmt.Errorf("offset %d: %s index %d out of range (%s %d)", in.start, f.space, f.idx, what, n)
		}
	}
	if in.op == opBrTable && in.targets > MaxBrTable {
		return &LimitError{What: "br_table size", Value: uint64(in.targets), Limit: MaxBrTable}
	}
	return nil
}
