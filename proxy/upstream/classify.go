package upstream

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// The cheap test: one pass over a query's text, in PostgreSQL's lexical rules (strings with ''
// and E'\'' escapes, dollar quotes, "quoted" identifiers, nested /* */ and -- comments), looking
// each identifier up in the set of wasm function names. A query in which no identifier names a
// wasm function and no LANGUAGE is wasm cannot involve wasql: it goes upstream unparsed. Only
// the rest is parsed (pg_query) to decide.

// tokKind is what the scanner found.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // an unquoted identifier or keyword
	tokQuoted         // a "quoted" identifier: start and end include the quotes
	tokString         // a string constant, any form
	tokSemi           // ; outside parentheses
	tokOther          // numbers, operators, punctuation, $n parameters
)

// scanner walks a query's tokens.
type scanner struct {
	q     string
	i     int
	depth int // parentheses
}

// next returns the next token's kind and its bounds in q.
func (s *scanner) next() (tokKind, int, int) {
	q := s.q
	for s.i < len(q) {
		c := q[s.i]
		start := s.i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.i++
		case c == '-' && s.i+1 < len(q) && q[s.i+1] == '-':
			for s.i < len(q) && q[s.i] != '\n' {
				s.i++
			}
		case c == '/' && s.i+1 < len(q) && q[s.i+1] == '*':
			s.i += 2
			for nest := 1; nest > 0 && s.i < len(q); {
				switch {
				case strings.HasPrefix(q[s.i:], "*/"):
					nest--
					s.i += 2
				case strings.HasPrefix(q[s.i:], "/*"):
					nest++
					s.i += 2
				default:
					s.i++
				}
			}
		case c == '\'':
			s.skipString(false)
			return tokString, start, s.i
		case c == '"':
			s.i++
			for s.i < len(q) {
				if q[s.i] == '"' {
					if s.i+1 < len(q) && q[s.i+1] == '"' {
						s.i += 2
						continue
					}
					break
				}
				s.i++
			}
			s.i = min(s.i+1, len(q))
			return tokQuoted, start, s.i
		case c == '$':
			j := s.i + 1
			if j < len(q) && q[j] >= '0' && q[j] <= '9' {
				for j < len(q) && q[j] >= '0' && q[j] <= '9' {
					j++
				}
				s.i = j
				return tokOther, start, j
			}
			for j < len(q) && q[j] != '$' && identChar(q[j]) {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[s.i : j+1]
				end := strings.Index(q[j+1:], tag)
				if end < 0 {
					s.i = len(q)
				} else {
					s.i = j + 1 + end + len(tag)
				}
				return tokString, start, s.i
			}
			s.i++
			return tokOther, start, s.i
		case identStart(c):
			j := s.i + 1
			for j < len(q) && identChar(q[j]) {
				j++
			}
			if j < len(q) && q[j] == '\'' && j == s.i+1 { // E'..', X'..', B'..', N'..'
				s.i = j
				s.skipString(c == 'e' || c == 'E')
				return tokString, start, s.i
			}
			s.i = j
			return tokWord, start, j
		case c == '(':
			s.depth++
			s.i++
			return tokOther, start, s.i
		case c == ')':
			s.depth--
			s.i++
			return tokOther, start, s.i
		case c == ';':
			s.i++
			if s.depth <= 0 {
				return tokSemi, start, s.i
			}
			return tokOther, start, s.i
		default:
			s.i++
			return tokOther, start, s.i
		}
	}
	return tokEOF, len(q), len(q)
}

// skipString moves past a '...' constant starting at s.i; backslash escapes with escapes.
func (s *scanner) skipString(escapes bool) {
	q := s.q
	s.i++
	for s.i < len(q) {
		switch q[s.i] {
		case '\\':
			if escapes {
				s.i++
			}
		case '\'':
			if s.i+1 < len(q) && q[s.i+1] == '\'' {
				s.i++
				break
			}
			s.i++
			return
		}
		s.i++
	}
	s.i = len(q)
}

// Character classes of the scanner.
const (
	classStart = 1 << iota // may start an identifier
	classIdent             // may continue one
)

var classes = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if b == '_' || b >= 0x80 || (b|0x20 >= 'a' && b|0x20 <= 'z') {
			t[c] |= classStart | classIdent
		}
		if b == '$' || (b >= '0' && b <= '9') {
			t[c] |= classIdent
		}
	}
	return t
}()

func identStart(c byte) bool { return classes[c]&classStart != 0 }

func identChar(c byte) bool { return classes[c]&classIdent != 0 }

// nameSet is the set of wasm function names at one generation of the registry.
type nameSet struct {
	gen   uint64
	names map[string]struct{}
	first [256]bool // the first bytes of the names, both cases: most words are not looked up
}

func newNameSet(gen uint64, names []string) *nameSet {
	ns := &nameSet{gen: gen, names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		ns.add(n)
	}
	return ns
}

func (ns *nameSet) add(n string) {
	ns.names[n] = struct{}{}
	if n != "" {
		ns.first[n[0]] = true
		ns.first[strings.ToUpper(n[:1])[0]] = true
		ns.first['"'] = true
	}
}

// has reports whether the identifier q[start:end] of kind k names a wasm function: unquoted
// identifiers fold to lower case, as PostgreSQL folds them.
func (ns *nameSet) has(q string, k tokKind, start, end int) bool {
	if !ns.first[q[start]] {
		return false
	}
	if k == tokQuoted {
		id := q[start+1 : max(end-1, start+1)]
		if strings.Contains(id, `""`) {
			id = strings.ReplaceAll(id, `""`, `"`)
		}
		_, ok := ns.names[id]
		return ok
	}
	w := q[start:end]
	upper := false
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'A' && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		_, ok := ns.names[w]
		return ok
	}
	var buf [64]byte
	if len(w) > len(buf) {
		_, ok := ns.names[strings.ToLower(w)]
		return ok
	}
	b := buf[:len(w)]
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	_, ok := ns.names[string(b)]
	return ok
}

// isWasm reports whether the token names the language wasm.
func isWasm(q string, k tokKind, start, end int) bool {
	switch k {
	case tokWord:
		return strings.EqualFold(q[start:end], "wasm")
	case tokQuoted, tokString:
		return end-start == 6 && q[start+1:end-1] == "wasm"
	}
	return false
}

// mayInvolveWasm is the cheap test: false means no statement of q can involve wasm.
func mayInvolveWasm(q string, ns *nameSet) bool {
	s := scanner{q: q}
	afterLanguage := false
	for {
		k, start, end := s.next()
		switch k {
		case tokEOF:
			return false
		case tokWord, tokQuoted:
			if ns.has(q, k, start, end) {
				return true
			}
		}
		if afterLanguage && isWasm(q, k, start, end) {
			return true
		}
		afterLanguage = k == tokWord && end-start == 8 && strings.EqualFold(q[start:end], "language")
	}
}

// stmtKind is what wasql makes of one statement.
type stmtKind uint8

const (
	stmtPass   stmtKind = iota // PostgreSQL's: goes upstream as it came
	stmtCreate                 // CREATE FUNCTION ... LANGUAGE wasm
	stmtDrop                   // DROP FUNCTION of a wasm function
	stmtCall                   // calls a wasm function: planned (wasmstmt.go)
	stmtMixed                  // DROP FUNCTION naming wasm and other functions
)

// statement is one statement of a query, classified.
type statement struct {
	text string
	kind stmtKind
	ddl  any   // *sqlfuncs.CreateStmt or *sqlfuncs.DropStmt for stmtCreate and stmtDrop
	err  error // the DDL's parse error (reported as wasql reports it)
}

// split returns the statements of q (without their semicolons; empty ones dropped).
func split(q string) []string {
	var out []string
	s := scanner{q: q}
	from := 0
	empty := true
	for {
		k, _, end := s.next()
		switch k {
		case tokEOF, tokSemi:
			if !empty {
				stop := end
				if k == tokSemi {
					stop = end - 1
				}
				out = append(out, q[from:stop])
			}
			if k == tokEOF {
				return out
			}
			from, empty = end, true
		default:
			empty = false
		}
	}
}

// classify decides what each statement of q is, for a q the cheap test could not pass.
func classify(q string, ns *nameSet, reg *sqlfuncs.Registry) []statement {
	var out []statement
	for _, text := range split(q) {
		out = append(out, classifyOne(text, ns, reg))
	}
	return out
}

func classifyOne(text string, ns *nameSet, reg *sqlfuncs.Registry) statement {
	st := statement{text: text}
	s := scanner{q: text}
	var words []string // the first keywords, lower-cased
	names, langWasm, afterLanguage := false, false, false
	for {
		k, start, end := s.next()
		if k == tokEOF {
			break
		}
		if k == tokWord && len(words) < 4 {
			words = append(words, strings.ToLower(text[start:end]))
		} else if len(words) < 4 {
			words = append(words, "")
		}
		if (k == tokWord || k == tokQuoted) && ns.has(text, k, start, end) {
			names = true
		}
		if afterLanguage && isWasm(text, k, start, end) {
			langWasm = true
		}
		afterLanguage = k == tokWord && strings.EqualFold(text[start:end], "language")
	}
	at := func(ws ...string) bool {
		if len(words) < len(ws) {
			return false
		}
		for i, w := range ws {
			if words[i] != w {
				return false
			}
		}
		return true
	}
	switch {
	case (at("create", "function") || at("create", "or", "replace", "function")) && langWasm:
		st.kind = stmtCreate
		st.ddl, _, st.err = sqlfuncs.ParseDDL(text)
		return st
	case !names:
		return st
	case at("drop", "function"):
		return classifyDrop(st, reg)
	}
	tree, err := parseCached(text)
	if err != nil {
		return st // PostgreSQL reports its own syntax error
	}
	if name := calledWasm(tree.ProtoReflect(), ns); name != "" {
		st.kind = stmtCall
	}
	return st
}

// classifyDrop decides a DROP FUNCTION that names a wasm function: wasql's when every function it
// names is a wasm one (one per statement, in wasql's grammar), PostgreSQL's when none is.
func classifyDrop(st statement, reg *sqlfuncs.Registry) statement {
	tree, err := pg_query.Parse(st.text)
	if err != nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetDropStmt() == nil {
		return st
	}
	drop := tree.Stmts[0].Stmt.GetDropStmt()
	wasm, other := 0, 0
	for _, o := range drop.Objects {
		ow := o.GetObjectWithArgs()
		if ow == nil || len(ow.Objname) == 0 {
			other++
			continue
		}
		name := ow.Objname[len(ow.Objname)-1].GetString_().GetSval()
		if isWasmOverload(reg, name, ow) {
			wasm++
		} else {
			other++
		}
	}
	switch {
	case wasm == 0:
		return st
	case other > 0 || wasm > 1:
		st.kind = stmtMixed
		return st
	}
	st.kind = stmtDrop
	st.ddl, _, st.err = sqlfuncs.ParseDDL(st.text)
	return st
}

// isWasmOverload reports whether a DROP FUNCTION object names a wasm function: its name without
// an argument list, or an argument list one of its overloads has.
func isWasmOverload(reg *sqlfuncs.Registry, name string, ow *pg_query.ObjectWithArgs) bool {
	ovs := reg.Overloads(name)
	if len(ovs) == 0 {
		return false
	}
	if ow.ArgsUnspecified {
		return true
	}
	for _, ov := range ovs {
		if len(ov.Args) != len(ow.Objargs) {
			continue
		}
		same := true
		for i, a := range ow.Objargs {
			tn := a.GetTypeName()
			if tn == nil || len(tn.Names) == 0 {
				same = false
				break
			}
			typ := tn.Names[len(tn.Names)-1].GetString_().GetSval()
			if !sameType(typ, ov.Args[i]) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// sameType compares a type name as pg_query gives it (int8, float8, varchar...) with a wasm
// function's argument type.
func sameType(pg string, wasm udf.Type) bool {
	t, err := udf.ParseType(pg)
	return err == nil && t == wasm
}

// calledWasm returns the name of the first wasm function the parse tree m calls (a FuncCall
// naming one), or "".
func calledWasm(m protoreflect.Message, ns *nameSet) string {
	if fc, ok := m.Interface().(*pg_query.FuncCall); ok && len(fc.Funcname) > 0 {
		name := fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()
		if _, ok := ns.names[name]; ok {
			return name
		}
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := v.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				found = calledWasm(l.Get(i).Message(), ns)
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			found = calledWasm(v.Message(), ns)
		}
		return found == ""
	})
	return found
}
