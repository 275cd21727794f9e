package udf

import (
	"errors"
	"fmt"
	"strings"
)

// SignatureSection is the name of the custom section in which a module carries the SQL
// signatures of its functions (docs/abi.md §4.5).
const SignatureSection = "wasql_signatures"

// Signature is one function a module declares in its wasql_signatures section.
type Signature struct {
	Name       string // the export: wasql_batch_<Name>, or a numeric scalar export <Name>
	ArgNames   []string
	Args       []Type
	Result     Type
	OnNull     NullBehavior
	Volatility string // IMMUTABLE, STABLE or VOLATILE
	Parallel   string // SAFE, RESTRICTED or UNSAFE
}

// String is the signature's line in the section, with every clause spelled out.
func (s Signature) String() string {
	var b strings.Builder
	b.WriteString(s.Name + "(")
	for i, t := range s.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(s.ArgNames) && s.ArgNames[i] != "" {
			b.WriteString(s.ArgNames[i] + " ")
		}
		b.WriteString(t.String())
	}
	b.WriteString(") RETURNS " + s.Result.String())
	if s.OnNull == CalledOnNull {
		b.WriteString(" CALLED ON NULL INPUT")
	} else {
		b.WriteString(" STRICT")
	}
	b.WriteString(" " + s.Volatility + " PARALLEL " + s.Parallel)
	return b.String()
}

// Limits of a section, so that parsing it costs little whatever a module holds.
const (
	maxSignatureText  = 1 << 20
	maxSignatureLines = 10000
)

// Signatures reads the module's wasql_signatures custom sections (several are one text, in
// order). It returns nil and no error when the module has none; a malformed module or section
// is an error (42P13) saying where.
func Signatures(module []byte) ([]Signature, error) {
	text, err := customSection(module, SignatureSection)
	if err != nil || text == nil {
		return nil, err
	}
	var sigs []Signature
	seen := map[string]int{}
	lines := strings.Split(strings.ReplaceAll(string(text), "\x00", "\n"), "\n")
	for n, line := range lines {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(sigs) == maxSignatureLines {
			return nil, sectionError("more than %d functions", maxSignatureLines)
		}
		s, err := ParseSignature(line)
		if err != nil {
			return nil, sectionError("line %d: %v", n+1, err)
		}
		if first, ok := seen[s.Name]; ok {
			return nil, sectionError("line %d declares %s again (first on line %d): one line per export", n+1, s.Name, first)
		}
		seen[s.Name] = n + 1
		sigs = append(sigs, s)
	}
	return sigs, nil
}

func sectionError(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Row: -1, Message: "the module's " + SignatureSection + " section: " + fmt.Sprintf(format, args...)}
}

// ParseSignature reads one line of a wasql_signatures section:
//
//	name ( [argname] type [, ...] ) RETURNS type [STRICT | RETURNS NULL ON NULL INPUT | CALLED ON NULL INPUT]
//	     [IMMUTABLE | STABLE | VOLATILE] [PARALLEL SAFE | RESTRICTED | UNSAFE]
//
// Defaults: STRICT, VOLATILE, PARALLEL UNSAFE, as in CREATE FUNCTION.
func ParseSignature(line string) (Signature, error) {
	s := Signature{Volatility: "VOLATILE", Parallel: "UNSAFE"}
	open, close := strings.IndexByte(line, '('), strings.IndexByte(line, ')')
	if open < 0 || close < open {
		return s, fmt.Errorf("%q: want name(types) RETURNS type", line)
	}
	s.Name = strings.TrimSpace(line[:open])
	if !isIdent(s.Name) {
		return s, fmt.Errorf("%q is not a function name (letters, digits, _ and $, not starting with a digit)", s.Name)
	}
	if args := strings.TrimSpace(line[open+1 : close]); args != "" {
		for i, a := range strings.Split(args, ",") {
			name, typ, err := parseArg(strings.TrimSpace(a))
			if err != nil {
				return s, fmt.Errorf("argument %d: %v", i+1, err)
			}
			s.ArgNames = append(s.ArgNames, name)
			s.Args = append(s.Args, typ)
		}
	}
	words := strings.Fields(line[close+1:])
	if len(words) == 0 || !strings.EqualFold(words[0], "returns") {
		return s, fmt.Errorf("expected RETURNS after the argument list")
	}
	words = words[1:]
	// The result type runs up to the first clause keyword.
	n := 0
	for n < len(words) && !isClauseWord(words[n]) {
		n++
	}
	if n == 0 {
		return s, fmt.Errorf("RETURNS without a type")
	}
	// The longest run of words that is a type (double precision, timestamp without time zone).
	var err error
	for ; n > 0; n-- {
		if s.Result, err = ParseType(strings.Join(words[:n], " ")); err == nil {
			break
		}
	}
	if n == 0 {
		return s, err
	}
	seen := map[string]bool{}
	for rest := words[n:]; len(rest) > 0; {
		clause, kind, used := clauseAt(rest)
		if used == 0 {
			return s, fmt.Errorf("unexpected %q (want STRICT, CALLED ON NULL INPUT, IMMUTABLE, STABLE, VOLATILE or PARALLEL ...)", rest[0])
		}
		if seen[kind] {
			return s, fmt.Errorf("%s given twice", kind)
		}
		seen[kind] = true
		switch kind {
		case "null behavior":
			if clause == "CALLED ON NULL INPUT" {
				s.OnNull = CalledOnNull
			}
		case "volatility":
			s.Volatility = clause
		case "parallel":
			s.Parallel = strings.TrimPrefix(clause, "PARALLEL ")
		}
		rest = rest[used:]
	}
	return s, nil
}

// clauses are the options a line may end with, by kind.
var clauses = []struct{ text, kind string }{
	{"STRICT", "null behavior"}, {"RETURNS NULL ON NULL INPUT", "null behavior"}, {"CALLED ON NULL INPUT", "null behavior"},
	{"IMMUTABLE", "volatility"}, {"STABLE", "volatility"}, {"VOLATILE", "volatility"},
	{"PARALLEL SAFE", "parallel"}, {"PARALLEL RESTRICTED", "parallel"}, {"PARALLEL UNSAFE", "parallel"},
}

func isClauseWord(w string) bool {
	for _, c := range clauses {
		if strings.EqualFold(strings.Fields(c.text)[0], w) {
			return true
		}
	}
	return false
}

// clauseAt matches a clause at the start of words: its canonical text (STRICT for RETURNS NULL
// ON NULL INPUT), its kind and how many words it used (0: none).
func clauseAt(words []string) (string, string, int) {
	for _, c := range clauses {
		want := strings.Fields(c.text)
		if len(words) >= len(want) && strings.EqualFold(strings.Join(words[:len(want)], " "), c.text) {
			if c.text == "RETURNS NULL ON NULL INPUT" {
				return "STRICT", c.kind, len(want)
			}
			return c.text, c.kind, len(want)
		}
	}
	return "", "", 0
}

// parseArg reads [name] type: the whole text as a type, else a name and a type.
func parseArg(a string) (string, Type, error) {
	if t, err := ParseType(a); err == nil {
		return "", t, nil
	}
	name, rest, ok := strings.Cut(a, " ")
	if !ok || !isIdent(name) {
		_, err := ParseType(a)
		return "", 0, err
	}
	t, err := ParseType(rest)
	return name, t, err
}

func isIdent(s string) bool {
	for i, r := range s {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || (r != '$' && (r < '0' || r > '9'))) {
			return false
		}
	}
	return s != ""
}

// customSection returns the concatenated payloads of the module's custom sections named name,
// nil when it has none.
func customSection(module []byte, name string) ([]byte, error) {
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, &Error{Kind: KindInvalid, Row: -1, Message: "not a WebAssembly module (no \\0asm header)", Err: ErrMalformedModule}
	}
	var out []byte
	for p := module[8:]; len(p) > 0; {
		id := p[0]
		size, n, err := readULEB(p[1:])
		if err != nil || uint64(len(p)-1-n) < size {
			return nil, &Error{Kind: KindInvalid, Row: -1, Message: fmt.Sprintf("malformed module: section %d at offset %d overruns the module", id, len(module)-len(p)), Err: ErrMalformedModule}
		}
		body := p[1+n : 1+n+int(size)]
		p = p[1+n+int(size):]
		if id != 0 {
			continue
		}
		nameLen, m, err := readULEB(body)
		if err != nil || uint64(len(body)-m) < nameLen {
			return nil, &Error{Kind: KindInvalid, Row: -1, Message: "malformed module: a custom section's name overruns it", Err: ErrMalformedModule}
		}
		if string(body[m:m+int(nameLen)]) != name {
			continue
		}
		if out == nil {
			out = []byte{}
		}
		if out = append(out, body[m+int(nameLen):]...); len(out) > maxSignatureText {
			return nil, sectionError("larger than %d bytes", maxSignatureText)
		}
		out = append(out, '\n')
	}
	return out, nil
}

var errLEB = errors.New("bad LEB128")

// ErrMalformedModule is wrapped by the errors of Signatures that are about the module's
// structure rather than its signatures section: the loader reports those its own way.
var ErrMalformedModule = errors.New("malformed module")

// readULEB decodes an unsigned LEB128 number of at most 32 bits.
func readULEB(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 5; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errLEB
}

// AppendCustomSection returns module with a custom section name holding payload appended: how a
// toolchain without custom sections of its own (Go) adds wasql_signatures after linking.
func AppendCustomSection(module []byte, name string, payload []byte) []byte {
	body := appendULEB(nil, uint64(len(name)))
	body = append(append(body, name...), payload...)
	out := append(append([]byte(nil), module...), 0)
	return append(appendULEB(out, uint64(len(body))), body...)
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		if v >>= 7; v != 0 {
			c |= 0x80
		}
		if b = append(b, c); v == 0 {
			return b
		}
	}
}
