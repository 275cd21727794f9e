package pgcatalog

import (
	"maps"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql/types"
)

// textFunctions are Postgres's LIKE/ILIKE (pg_like, pg_ilike: the translation of x LIKE p
// [ESCAPE e]) and format(), whose semantics MySQL's LIKE and FORMAT do not have.
var textFunctions = map[string]fn{
	"pg_like":   {min: 2, max: 3, typ: boolType, strict: true, eval: func(_ *env, args []any) (any, error) { return like(args, false) }},
	"pg_ilike":  {min: 2, max: 3, typ: boolType, strict: true, eval: func(_ *env, args []any) (any, error) { return like(args, true) }},
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

// likeToken is one element of a LIKE pattern: a character, _ (any one) or % (any run).
type likeToken struct {
	r    rune
	kind byte // 0 a literal character, '_' or '%'
}

// like is x LIKE pattern [ESCAPE esc] as Postgres evaluates it: the escape character is a
// backslash unless ESCAPE names another (or none, with ”); a pattern that ends with the escape
// character is an error (22025); ILIKE folds case.
func like(args []any, fold bool) (any, error) {
	s, pattern := textOf(args[0]), textOf(args[1])
	esc, hasEsc := '\\', true
	if len(args) == 3 {
		e := textOf(args[2])
		switch utf8.RuneCountInString(e) {
		case 0:
			hasEsc = false
		case 1:
			esc, _ = utf8.DecodeRuneInString(e)
		default:
			return nil, &pgError{code: "22025", msg: "invalid escape string"}
		}
	}
	if fold {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
		if hasEsc {
			esc = unicode.ToLower(esc)
		}
	}
	var toks []likeToken
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case hasEsc && r == esc:
			if i+1 == len(rs) {
				return nil, &pgError{code: "22025", msg: "LIKE pattern must not end with escape character"}
			}
			i++
			toks = append(toks, likeToken{r: rs[i]})
		case r == '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, likeToken{kind: '%'})
			}
		case r == '_':
			toks = append(toks, likeToken{kind: '_'})
		default:
			toks = append(toks, likeToken{r: r})
		}
	}
	return likeMatch([]rune(s), toks), nil
}

// likeMatch matches with one backtracking point, the last %: linear in practice, at worst
// len(s) * len(toks).
func likeMatch(s []rune, toks []likeToken) bool {
	i, t := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case t < len(toks) && toks[t].kind == '%':
			star, mark = t, i
			t++
		case t < len(toks) && (toks[t].kind == '_' || toks[t].kind == 0 && toks[t].r == s[i]):
			i++
			t++
		case star >= 0:
			mark++
			i, t = mark, star+1
		default:
			return false
		}
	}
	for t < len(toks) && toks[t].kind == '%' {
		t++
	}
	return t == len(toks)
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
