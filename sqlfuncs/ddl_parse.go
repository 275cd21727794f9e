package sqlfuncs

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// CreateStmt is a parsed CREATE FUNCTION ... LANGUAGE wasm.
type CreateStmt struct {
	OrReplace  bool
	Schema     string
	Name       string
	ArgNames   []string
	Args       []udf.Type
	Result     udf.Type
	Volatility string // IMMUTABLE, STABLE, VOLATILE (default)
	Strict     bool   // default true: see docs/RATIONALE.md
	Parallel   string // SAFE, RESTRICTED, UNSAFE (default)
	Cost       float64
	Module     []byte // nil when the module is a bound parameter
	Param      int    // the parameter's position (1-based) when Module is nil
	Export     string
	Options    map[string]string
	// FromModule: no argument list and no RETURNS were given; the signature comes from the
	// module's wasql_signatures section (Registry.Create).
	FromModule bool
	// given records which clauses the statement spelled out; the others may come from the
	// module's section.
	given struct{ strict, volatility, parallel bool }
}

// DropStmt is a parsed DROP FUNCTION.
type DropStmt struct {
	IfExists bool
	Schema   string
	Name     string
	Args     []udf.Type // nil: no argument list given
}

// ParseError is a syntax or definition error in a wasm DDL statement.
type ParseError struct {
	Code string
	Msg  string
}

func (e *ParseError) Error() string { return e.Msg }

// SQLState implements sqlstate.Carrier.
func (e *ParseError) SQLState() string { return e.Code }

func syntaxErr(format string, args ...any) error {
	return &ParseError{Code: "42601", Msg: fmt.Sprintf(format, args...)}
}

func defErr(format string, args ...any) error {
	return &ParseError{Code: sqlstate.InvalidFunctionDefinition, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tQuoted // "identifier" or `identifier`
	tString // '...' (value decoded), X'..' (hex decoded, flagged)
	tNumber
	tParam // ? or $n
	tPunct
)

type token struct {
	kind tokKind
	text string // word (as written), punctuation, number, string value
	hex  bool   // X'...' literal: text holds the decoded bytes
	pos  int
}

// lex splits one statement into tokens; it stops after a top-level ';' and returns the offset
// where the rest of the query starts.
func lex(q string) ([]token, int, error) {
	var toks []token
	params := 0
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(q[i:], "--") || c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return nil, 0, syntaxErr("unterminated /* comment")
			}
			i += end + 4
		case c == ';':
			return toks, i + 1, nil
		case c == '0' && i+2 < len(q) && (q[i+1] == 'x' || q[i+1] == 'X'): // MySQL 0x0061... literal
			j := i + 2
			for j < len(q) && strings.IndexByte("0123456789abcdefABCDEF", q[j]) >= 0 {
				j++
			}
			raw, err := hex.DecodeString(q[i+2 : j])
			if err != nil {
				return nil, 0, syntaxErr("invalid hex literal: %v", err)
			}
			toks = append(toks, token{kind: tString, text: string(raw), pos: i, hex: true})
			i = j
		case c == '\'' || ((c == 'x' || c == 'X' || c == 'e' || c == 'E') && i+1 < len(q) && q[i+1] == '\'') ||
			(len(q)-i >= 8 && strings.EqualFold(q[i:i+8], "_binary'")): // not ToLower(q[i:]): quadratic
			start := i
			isHex := c == 'x' || c == 'X'
			escapes := c == 'e' || c == 'E'
			binary := c == '_' // _binary'...': MySQL escapes, as client libraries interpolate bytes
			switch {
			case binary:
				i += len("_binary")
			case c != '\'':
				i++
			}
			i++
			var b strings.Builder
			for {
				if i >= len(q) {
					return nil, 0, syntaxErr("unterminated string literal at offset %d", start)
				}
				if q[i] == '\'' {
					if i+1 < len(q) && q[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				if (escapes || binary) && q[i] == '\\' && i+1 < len(q) {
					i++
					if binary {
						b.WriteByte(mysqlUnescape(q[i]))
						i++
						continue
					}
				}
				b.WriteByte(q[i])
				i++
			}
			t := token{kind: tString, text: b.String(), pos: start, hex: isHex || binary}
			if isHex {
				raw, err := hex.DecodeString(t.text)
				if err != nil {
					return nil, 0, syntaxErr("invalid hex literal X'...': %v", err)
				}
				t.text = string(raw)
			}
			toks = append(toks, t)
		case c == '"' || c == '`':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				return nil, 0, syntaxErr("unterminated quoted identifier")
			}
			toks = append(toks, token{kind: tQuoted, text: q[i+1 : i+1+end], pos: i})
			i += end + 2
		case c == '?':
			params++
			toks = append(toks, token{kind: tParam, text: strconv.Itoa(params), pos: i})
			i++
		case c == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			toks = append(toks, token{kind: tParam, text: q[i+1 : j], pos: i})
			i = j
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9'):
			j := i
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.' || q[j] == 'e' || q[j] == 'E') {
				j++
			}
			toks = append(toks, token{kind: tNumber, text: q[i:j], pos: i})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)) || c >= 0x80:
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '$' || q[j] >= 0x80 || unicode.IsLetter(rune(q[j])) || unicode.IsDigit(rune(q[j]))) {
				j++
			}
			toks = append(toks, token{kind: tWord, text: q[i:j], pos: i})
			i = j
		case strings.ContainsRune("(),.=-+:", rune(c)):
			toks = append(toks, token{kind: tPunct, text: string(c), pos: i})
			i++
		default:
			return nil, 0, syntaxErr("syntax error at or near %q", string(c))
		}
	}
	return toks, len(q), nil
}

// mysqlUnescape decodes the character after a backslash in a MySQL string literal.
func mysqlUnescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'Z':
		return 0x1a
	}
	return c
}

type ddlParser struct {
	toks      []token
	i         int
	moduleTok *token // the module literal, decoded once the statement is known to be wasm
}

func (p *ddlParser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF}
}

func (p *ddlParser) next() token { t := p.peek(); p.i++; return t }

// kw reports whether the next tokens are the keywords ws, and consumes them if so.
func (p *ddlParser) kw(ws ...string) bool {
	for k, w := range ws {
		t := p.toks[min(p.i+k, len(p.toks)-1)]
		if p.i+k >= len(p.toks) || t.kind != tWord || !strings.EqualFold(t.text, w) {
			return false
		}
	}
	p.i += len(ws)
	return true
}

func (p *ddlParser) punct(s string) bool {
	if t := p.peek(); t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *ddlParser) near() string {
	t := p.peek()
	if t.kind == tEOF {
		return "syntax error at end of input"
	}
	return fmt.Sprintf("syntax error at or near %q", t.text)
}

// ident reads an identifier: a word (lower-cased) or a quoted identifier (as written).
func (p *ddlParser) ident(what string) (string, error) {
	switch t := p.next(); t.kind {
	case tWord:
		return strings.ToLower(t.text), nil
	case tQuoted:
		return t.text, nil
	}
	p.i--
	return "", syntaxErr("%s: expected %s", p.near(), what)
}

// qualifiedName reads [schema.]name.
func (p *ddlParser) qualifiedName() (schema, name string, err error) {
	if name, err = p.ident("a function name"); err != nil {
		return
	}
	if p.punct(".") {
		schema = name
		name, err = p.ident("a function name")
	}
	return
}

// typeName reads a type, possibly of several words (double precision), with an optional
// (n[, m]) modifier, which is ignored.
func (p *ddlParser) typeName() (udf.Type, string, error) {
	var words []string
	start := p.i
	for {
		t := p.peek()
		if t.kind != tWord || (len(words) > 0 && !isTypeWord(t.text)) {
			break
		}
		words = append(words, t.text)
		p.i++
	}
	if len(words) == 0 {
		return 0, "", syntaxErr("%s: expected a type", p.near())
	}
	if p.punct("(") {
		for !p.punct(")") {
			if p.next().kind == tEOF {
				return 0, "", syntaxErr("unterminated type modifier")
			}
		}
	}
	name := strings.ToLower(strings.Join(words, " "))
	typ, err := udf.ParseType(name)
	if err != nil {
		p.i = start
		return 0, name, defErr("%v (supported: smallint, integer, bigint, real, double precision, boolean, text, bytea, json, date, timestamp)", err)
	}
	return typ, name, nil
}

func isTypeWord(w string) bool {
	switch strings.ToLower(w) {
	case "precision", "varying", "without", "with", "time", "zone":
		return true
	}
	return false
}

// ParseDDL parses a CREATE FUNCTION ... LANGUAGE wasm or DROP FUNCTION statement. It returns
// (nil, 0, nil) when q is neither, and the offset where the rest of a multi-statement query starts.
func ParseDDL(q string) (stmt any, rest int, err error) {
	toks, rest, err := lex(q)
	if err != nil || len(toks) < 2 {
		if looksLikeFunctionDDL(q) {
			return nil, 0, err
		}
		return nil, 0, nil
	}
	p := &ddlParser{toks: toks}
	switch {
	case p.kw("create", "or", "replace", "function"):
		s, err := p.create(true)
		return s, rest, err
	case p.kw("create", "function"):
		s, err := p.create(false)
		return s, rest, err
	case p.kw("drop", "function"):
		s, err := p.drop()
		return s, rest, err
	}
	return nil, 0, nil
}

func looksLikeFunctionDDL(q string) bool {
	f := strings.Fields(strings.ToLower(q))
	return len(f) >= 2 && (f[0] == "create" || f[0] == "drop") && (f[1] == "function" || (len(f) >= 4 && f[3] == "function"))
}

func (p *ddlParser) create(orReplace bool) (*CreateStmt, error) {
	s := &CreateStmt{OrReplace: orReplace, Volatility: "VOLATILE", Parallel: "UNSAFE", Cost: 1, Strict: true, Options: map[string]string{}}
	var err error
	if s.Schema, s.Name, err = p.qualifiedName(); err != nil {
		return nil, err
	}
	switch t := p.peek(); {
	case t.kind == tPunct && t.text == "(":
		p.next()
	case t.kind == tWord && p.clauseWord(t.text):
		s.FromModule = true // CREATE FUNCTION name LANGUAGE wasm AS <module>
	default:
		return nil, syntaxErr("%s: expected ( after the function name, or LANGUAGE wasm AS <module> to take the signature from the module", p.near())
	}
	for !s.FromModule && !p.punct(")") {
		if len(s.Args) > 0 && !p.punct(",") {
			return nil, syntaxErr("%s: expected , or ) in the argument list", p.near())
		}
		argName := ""
		// An argument is [name] type: try the type first, else a name then the type.
		typ, err := p.arg(&argName)
		if err != nil {
			return nil, argError(len(s.Args)+1, err)
		}
		s.ArgNames = append(s.ArgNames, argName)
		s.Args = append(s.Args, typ)
	}
	if !s.FromModule {
		if !p.kw("returns") {
			return nil, syntaxErr("%s: expected RETURNS", p.near())
		}
		if s.Result, _, err = p.typeName(); err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
	}
	language, haveAS := "", false
	for p.peek().kind != tEOF {
		switch {
		case p.kw("language"):
			l, err := p.ident("a language name")
			if err != nil {
				return nil, err
			}
			language = strings.ToLower(l)
		case p.kw("immutable"):
			s.Volatility, s.given.volatility = "IMMUTABLE", true
		case p.kw("stable"):
			s.Volatility, s.given.volatility = "STABLE", true
		case p.kw("volatile"):
			s.Volatility, s.given.volatility = "VOLATILE", true
		case p.kw("strict"), p.kw("returns", "null", "on", "null", "input"):
			s.Strict, s.given.strict = true, true
		case p.kw("called", "on", "null", "input"):
			s.Strict, s.given.strict = false, true
		case p.kw("parallel"):
			s.given.parallel = true
			switch {
			case p.kw("safe"):
				s.Parallel = "SAFE"
			case p.kw("restricted"):
				s.Parallel = "RESTRICTED"
			case p.kw("unsafe"):
				s.Parallel = "UNSAFE"
			default:
				return nil, syntaxErr("%s: PARALLEL takes SAFE, RESTRICTED or UNSAFE", p.near())
			}
		case p.kw("cost"):
			t := p.next()
			c, err := strconv.ParseFloat(t.text, 64)
			if t.kind != tNumber || err != nil || c <= 0 {
				return nil, defErr("COST must be a positive number, not %q", t.text)
			}
			s.Cost = c
		case p.kw("as"):
			if haveAS {
				return nil, syntaxErr("AS given twice")
			}
			haveAS = true
			if err := p.module(s); err != nil {
				return nil, err
			}
		case p.kw("with"):
			if err := p.options(s); err != nil {
				return nil, err
			}
		default:
			return nil, syntaxErr("%s", p.near())
		}
	}
	switch {
	case language == "":
		return nil, defErr("no language specified: add LANGUAGE wasm")
	case language != "wasm":
		return nil, &ParseError{Code: sqlstate.FeatureNotSupported, Msg: fmt.Sprintf("language %q is not supported: wasql runs LANGUAGE wasm", language)}
	case !haveAS:
		return nil, defErr("no module given: add AS '<module>' (hex '\\x0061736d...', X'0061736d...', base64, or a bound parameter)")
	}
	if p.moduleTok != nil {
		if s.Module, err = decodeModule(*p.moduleTok); err != nil {
			return nil, err
		}
	}
	if s.Export == "" {
		s.Export = s.Name
	}
	return s, nil
}

// clauseWord reports whether w starts a clause that may follow CREATE FUNCTION name when the
// signature comes from the module.
func (p *ddlParser) clauseWord(w string) bool {
	switch strings.ToLower(w) {
	case "language", "as", "immutable", "stable", "volatile", "strict", "called", "returns", "parallel", "cost", "with":
		return true
	}
	return false
}

func argError(n int, err error) error {
	var pe *ParseError
	if ok := asParseError(err, &pe); ok {
		return &ParseError{Code: pe.Code, Msg: fmt.Sprintf("argument %d: %s", n, pe.Msg)}
	}
	return err
}

func asParseError(err error, pe **ParseError) bool {
	e, ok := err.(*ParseError)
	*pe = e
	return ok
}

// arg reads [name] type: a type if the words make one, else a name followed by a type.
func (p *ddlParser) arg(name *string) (udf.Type, error) {
	save := p.i
	typ, _, err := p.typeName()
	if err == nil {
		return typ, nil
	}
	p.i = save
	n, nameErr := p.ident("an argument")
	if nameErr != nil {
		return 0, nameErr
	}
	if t := p.peek(); t.kind == tPunct && (t.text == "," || t.text == ")") {
		return 0, err // a lone word that is no type we know
	}
	*name = n
	typ, _, err = p.typeName()
	return typ, err
}

// module reads AS 'module' [, 'export'].
func (p *ddlParser) module(s *CreateStmt) error {
	switch t := p.next(); t.kind {
	case tParam:
		s.Param, _ = strconv.Atoi(t.text)
	case tString:
		p.moduleTok = &t
		if p.punct(":") { // a Postgres cast, as drivers write bytea parameters: '\x...'::bytea
			if !p.punct(":") {
				return syntaxErr("%s: expected ::bytea or ::text", p.near())
			}
			if !p.kw("bytea") && !p.kw("text") {
				return syntaxErr("%s: the module can only be cast to bytea or text", p.near())
			}
		}
	default:
		p.i--
		return syntaxErr("%s: AS takes the module as a string literal or a bound parameter", p.near())
	}
	if p.punct(",") {
		t := p.next()
		if t.kind != tString || t.hex || t.text == "" {
			p.i--
			return syntaxErr("%s: expected the export name as a string", p.near())
		}
		s.Export = t.text
	}
	return nil
}

// decodeModule reads a module literal: X'..' (already bytes), '\x0061...' (hex), else base64.
func decodeModule(t token) ([]byte, error) {
	if t.hex {
		return []byte(t.text), nil
	}
	return decodeModuleText(t.text)
}

// DecodeModuleText reads a module given as text (a bound parameter in text format): raw Wasm
// bytes, '\x0061...' (hex), or base64.
func DecodeModuleText(text string) ([]byte, error) { return decodeModuleText(text) }

// decodeModuleText reads a module given as text: raw Wasm bytes, '\x0061...' (hex), or base64.
func decodeModuleText(text string) ([]byte, error) {
	if strings.HasPrefix(text, "\x00asm") {
		return []byte(text), nil
	}
	text = strings.TrimSpace(text)
	if h, ok := strings.CutPrefix(text, `\x`); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, defErr("module literal '\\x...' is not valid hex: %v", err)
		}
		return b, nil
	}
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(clean); err == nil {
			return b, nil
		}
	}
	return nil, defErr("module literal is neither hex ('\\x0061736d...', X'0061736d...') nor base64")
}

// options reads WITH ( key = value [, ...] ).
func (p *ddlParser) options(s *CreateStmt) error {
	if !p.punct("(") {
		return syntaxErr("%s: expected ( after WITH", p.near())
	}
	for !p.punct(")") {
		if len(s.Options) > 0 && !p.punct(",") {
			return syntaxErr("%s: expected , or ) in WITH (...)", p.near())
		}
		key, err := p.ident("an option name")
		if err != nil {
			return err
		}
		if !p.punct("=") {
			return syntaxErr("%s: expected = after option %s", p.near(), key)
		}
		t := p.next()
		if t.kind != tString && t.kind != tNumber && t.kind != tWord {
			p.i--
			return syntaxErr("%s: expected a value for option %s", p.near(), key)
		}
		if _, dup := s.Options[key]; dup {
			return defErr("option %s given twice", key)
		}
		s.Options[key] = t.text
	}
	return nil
}

func (p *ddlParser) drop() (*DropStmt, error) {
	s := &DropStmt{}
	if p.kw("if", "exists") {
		s.IfExists = true
	}
	var err error
	if s.Schema, s.Name, err = p.qualifiedName(); err != nil {
		return nil, err
	}
	if p.punct("(") {
		s.Args = []udf.Type{}
		for !p.punct(")") {
			if len(s.Args) > 0 && !p.punct(",") {
				return nil, syntaxErr("%s: expected , or ) in the argument list", p.near())
			}
			var name string
			typ, err := p.arg(&name)
			if err != nil {
				return nil, argError(len(s.Args)+1, err)
			}
			s.Args = append(s.Args, typ)
		}
	}
	if p.peek().kind != tEOF {
		return nil, syntaxErr("%s", p.near())
	}
	return s, nil
}
