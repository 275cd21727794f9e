package pgcatalog

import (
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
)

// textFunctions are Postgres's LIKE/ILIKE (pg_like, pg_ilike: the translation of x LIKE p
// [ESCAPE e]) and format(), whose semantics MySQL's LIKE and FORMAT do not have.
var textFunctions = map[string]fn{
	"pg_like": {min: 2, max: 3, typ: boolType, strict: true, eval: func(e *env, args []any) (any, error) {
		if err := e.likeOperand(); err != nil {
			return nil, err
		}
		return like(args, false)
	}},
	"pg_ilike": {min: 2, max: 3, typ: boolType, strict: true, eval: func(e *env, args []any) (any, error) {
		if err := e.likeOperand(); err != nil {
			return nil, err
		}
		return like(args, true)
	}},
	"pg_format": {min: 1, max: -1, typ: textType, eval: format},
	"quote_literal": {min: 1, max: 1, typ: textType, strict: true, eval: func(e *env, args []any) (any, error) {
		return quoteLiteral(e.text(0, args[0])), nil
	}},
	"quote_nullable": {min: 1, max: 1, typ: textType, eval: func(e *env, args []any) (any, error) {
		if args[0] == nil {
			return "NULL", nil
		}
		return quoteLiteral(e.text(0, args[0])), nil
	}},
}

func init() { maps.Copy(functions, textFunctions) }

// like is x LIKE pattern [ESCAPE esc] as Postgres evaluates it (like.c, like_match.c): ESCAPE
// rewrites the pattern to the backslash form (like_escape), then MatchText matches it; ILIKE
// folds both sides to lower case first. As in Postgres, a pattern ending with the escape
// character is an error (22025) only when the match gets that far.
func like(args []any, fold bool) (any, error) {
	s, pattern := []rune(textOf(args[0])), []rune(textOf(args[1]))
	if len(args) == 3 {
		var err error
		if pattern, err = likeEscape(pattern, []rune(textOf(args[2]))); err != nil {
			return nil, err
		}
	}
	if fold {
		for i, r := range s {
			s[i] = unicode.ToLower(r)
		}
		for i, r := range pattern {
			pattern[i] = unicode.ToLower(r)
		}
	}
	m, err := matchText(s, pattern)
	return m == likeTrue, err
}

// likeOperand refuses what Postgres has no LIKE operator for (an integer, a date, json): the
// engine would compare its text form.
func (e *env) likeOperand() error {
	if len(e.args) == 0 {
		return nil
	}
	t := e.args[0].Type()
	if types.IsText(t) || types.IsBinaryType(t) || types.IsNull(e.args[0]) || types.IsDeferredType(t) {
		return nil
	}
	return &pgError{code: "42883", msg: "operator does not exist: " + FormatType(TypeOID(t), -1) + " ~~ text"}
}

// likeEscape is like_escape: the pattern with escape character esc rewritten with backslashes
// (an empty esc: no escape character, every backslash literal).
func likeEscape(p, esc []rune) ([]rune, error) {
	switch len(esc) {
	case 0:
		out := make([]rune, 0, len(p))
		for _, r := range p {
			if r == '\\' {
				out = append(out, '\\')
			}
			out = append(out, r)
		}
		return out, nil
	case 1:
	default:
		return nil, &pgError{code: "22025", msg: "invalid escape string"}
	}
	if esc[0] == '\\' {
		return p, nil
	}
	out := make([]rune, 0, len(p))
	after := false
	for _, r := range p {
		switch {
		case r == esc[0] && !after:
			out, after = append(out, '\\'), true
		case r == '\\':
			out = append(out, '\\')
			if !after {
				out = append(out, '\\')
			}
			after = false
		default:
			out, after = append(out, r), false
		}
	}
	return out, nil
}

const (
	likeFalse = iota
	likeTrue
	likeAbort // no match, and none at a later start either
)

var errLikeEscape = &pgError{code: "22025", msg: "LIKE pattern must not end with escape character"}

// matchText is Postgres's MatchText (like_match.c) on characters: % recurses once per
// candidate position of the literal that follows it, so a pattern costs at most
// len(t) * len(p).
func matchText(t, p []rune) (int, error) {
	if len(p) == 1 && p[0] == '%' {
		return likeTrue, nil
	}
	for len(t) > 0 && len(p) > 0 {
		switch p[0] {
		case '\\':
			p = p[1:]
			if len(p) == 0 {
				return 0, errLikeEscape
			}
			if p[0] != t[0] {
				return likeFalse, nil
			}
		case '%':
			p = p[1:]
			for len(p) > 0 {
				if p[0] == '%' {
					p = p[1:]
				} else if p[0] == '_' {
					if len(t) == 0 {
						return likeAbort, nil
					}
					t, p = t[1:], p[1:]
				} else {
					break
				}
			}
			if len(p) == 0 {
				return likeTrue, nil
			}
			first := p[0]
			if first == '\\' {
				if len(p) < 2 {
					return 0, errLikeEscape
				}
				first = p[1]
			}
			for ; len(t) > 0; t = t[1:] {
				if t[0] == first {
					m, err := matchText(t, p)
					if err != nil || m != likeFalse {
						return m, err
					}
				}
			}
			return likeAbort, nil
		case '_':
		default:
			if p[0] != t[0] {
				return likeFalse, nil
			}
		}
		t, p = t[1:], p[1:]
	}
	if len(t) > 0 {
		return likeFalse, nil
	}
	for len(p) > 0 && p[0] == '%' {
		p = p[1:]
	}
	if len(p) == 0 {
		return likeTrue, nil
	}
	return likeAbort, nil
}

// format is Postgres's format(formatstr, args...): %s (the value as text, NULL as nothing),
// %I (an identifier, quoted as quote_ident quotes), %L (a literal, quoted as quote_literal
// quotes, NULL as NULL), %% and positions (%2$s), with the - flag and a width. A width taken from
// the arguments (*) is not supported.
func format(e *env, args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	f := []rune(textOf(args[0]))
	var b strings.Builder
	next := 1 // the argument a specifier without a position takes
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteRune(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return nil, errFormat("unterminated format() type specifier")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		// [n$][-][width]type
		n, j := digits(f, i)
		arg := next
		if j > i && j < len(f) && f[j] == '$' {
			if n == 0 {
				return nil, errFormat("format specifies argument 0, but arguments are numbered from 1")
			}
			arg, i = n, j+1
		}
		left := false
		for i < len(f) && f[i] == '-' {
			left, i = true, i+1
		}
		if i < len(f) && f[i] == '*' {
			return nil, &pgError{code: "0A000", msg: "format() with a width taken from the arguments (*) is not supported"}
		}
		width, j := digits(f, i)
		i = j
		if i >= len(f) {
			return nil, errFormat("unterminated format() type specifier")
		}
		if arg >= len(args) {
			return nil, errFormat("too few arguments for format()")
		}
		next = arg + 1
		v := args[arg]
		var out string
		switch f[i] {
		case 's':
			if v != nil {
				out = e.text(arg, v)
			}
		case 'I':
			if v == nil {
				return nil, &pgError{code: "22004", msg: "null values cannot be formatted as an SQL identifier"}
			}
			out = quoteIdent(e.text(arg, v))
		case 'L':
			out = "NULL"
			if v != nil {
				out = quoteLiteral(e.text(arg, v))
			}
		default:
			return nil, errFormat("unrecognized format() type specifier \"" + string(f[i]) + "\"")
		}
		if pad := width - utf8.RuneCountInString(out); pad > 0 {
			if left {
				out += strings.Repeat(" ", pad)
			} else {
				out = strings.Repeat(" ", pad) + out
			}
		}
		b.WriteString(out)
	}
	return b.String(), nil
}

func errFormat(msg string) error { return &pgError{code: "22023", msg: msg} }

// digits reads a decimal number at f[i:]; j is the index after it (i when there is none).
func digits(f []rune, i int) (n, j int) {
	for j = i; j < len(f) && f[j] >= '0' && f[j] <= '9' && n < 1<<20; j++ {
		n = n*10 + int(f[j]-'0')
	}
	return n, j
}

// text is argument k's value as Postgres prints it: a boolean (an integer in the engine) as t
// or f.
func (e *env) text(k int, v any) string {
	if k < len(e.args) && types.IsBoolean(e.args[k].Type()) {
		if n, err := strconv.ParseInt(textOf(v), 10, 64); err == nil {
			return textOf(n != 0)
		}
	}
	if t, ok := v.(time.Time); ok && k < len(e.args) && e.args[k].Type().Type() == sqltypes.Date {
		return t.Format("2006-01-02")
	}
	return textOf(v)
}

// quoteLiteral is quote_literal: quotes doubled, and a string with backslashes written as
// E'...' with them doubled.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + "'"
	if strings.Contains(s, `\`) {
		return "E" + q
	}
	return q
}

// IsFunction reports whether name (case-insensitive) is a catalog function, which the Postgres
// wire finds before any wasm function of the same name.
func IsFunction(name string) bool {
	_, ok := functions[strings.ToLower(name)]
	return ok
}
