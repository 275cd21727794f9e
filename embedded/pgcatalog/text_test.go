package pgcatalog

import (
	"errors"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

// TestLike: LIKE and ILIKE as Postgres answers them (the cases were checked against
// PostgreSQL 15; integration/pgsemantics_test.go compares the translation with it).
func TestLike(t *testing.T) {
	for _, c := range []struct {
		s, pattern string
		esc        *string
		fold       bool
		want       bool
		code       string
	}{
		{s: "orders_x", pattern: `orders\_%`, want: true},
		{s: "ordersyx", pattern: `orders\_%`, want: false},
		{s: "a%b", pattern: `a\%b`, want: true},
		{s: "axb", pattern: `a\%b`, want: false},
		{s: `A\b`, pattern: `A\\b`, want: true},
		{s: `A\b`, pattern: `A\b`, want: false}, // \b is b
		{s: "Ab", pattern: `A\b`, want: true},
		{s: `A\b`, pattern: `A\b`, esc: ptr(""), want: true},
		{s: "a%b", pattern: "a!%b", esc: ptr("!"), want: true},
		{s: `a\b`, pattern: `a\b`, esc: ptr("!"), want: true}, // a backslash is literal with another escape
		{s: "abc", pattern: `abc\`, want: false},              // the match ends before the escape
		{s: "abcd", pattern: `abc\`, code: "22025"},
		{s: "abcd", pattern: "abc!", esc: ptr("!"), code: "22025"},
		{s: "a", pattern: "a", esc: ptr("xy"), code: "22025"},
		{s: "x", pattern: "%\\", code: "22025"},
		{s: "héllo", pattern: "HÉ%", fold: true, want: true},
		{s: "ORDERS_Z", pattern: `orders\_%`, fold: true, want: true},
		{s: "", pattern: "%", want: true},
		{s: "", pattern: "_", want: false},
		{s: "ab", pattern: "a_c", want: false},
		{s: "aXbXc", pattern: "%X%X%", want: true},
		{s: "aXb", pattern: "%X%X%", want: false},
		{s: "abcabd", pattern: "%ab_", want: true},
		{s: "mississippi", pattern: "%iss%ppi", want: true},
		{s: "x", pattern: "%%_%%", want: true},
	} {
		args := []any{c.s, c.pattern}
		if c.esc != nil {
			args = append(args, *c.esc)
		}
		got, err := like(args, c.fold)
		if c.code != "" {
			if sqlstate.Of(err) != c.code {
				t.Errorf("%q LIKE %q: %v, want %s", c.s, c.pattern, err, c.code)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q LIKE %q (escape %v, fold %v): %v %v, want %v", c.s, c.pattern, c.esc, c.fold, got, err, c.want)
		}
	}
}

func ptr(s string) *string { return &s }

// TestFormat: format()'s specifiers, positions, widths, NULLs and errors.
func TestFormat(t *testing.T) {
	e := &env{}
	for _, c := range []struct {
		args []any
		want any
		code string
	}{
		{args: []any{"%s-%s", "a", int64(2)}, want: "a-2"},
		{args: []any{"%I|%I|%I|%I", "Order", "order", "abc", "a b"}, want: `"Order"|"order"|abc|"a b"`},
		{args: []any{"%L|%L|%L", "O'Reilly", nil, `a\b`}, want: `'O''Reilly'|NULL|E'a\\b'`},
		{args: []any{"[%s]", nil}, want: "[]"},
		{args: []any{"%%"}, want: "%"},
		{args: []any{"%2$s %1$s", "a", "b"}, want: "b a"},
		{args: []any{"%s %s %1$s %s", "a", "b"}, want: "a b a b"},
		{args: []any{"%-5s|%5s|", "ab", "cd"}, want: "ab   |   cd|"},
		{args: []any{nil, "x"}, want: nil},
		{args: []any{"%s", 1.5}, want: "1.5"},
		{args: []any{"%I", nil}, code: "22004"},
		{args: []any{"%s"}, code: "22023"},
		{args: []any{"%3$s", "a"}, code: "22023"},
		{args: []any{"%x", 1}, code: "22023"},
		{args: []any{"%0$s", 1}, code: "22023"},
		{args: []any{"%", 1}, code: "22023"},
		{args: []any{"%5", 1}, code: "22023"},
		{args: []any{"%*s", int64(3), "a"}, code: "0A000"},
	} {
		got, err := format(e, c.args)
		if c.code != "" {
			var pe *pgError
			if !errors.As(err, &pe) || pe.code != c.code {
				t.Errorf("format%v: %v, want %s", c.args, err, c.code)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("format%v = %#v, %v; want %#v", c.args, got, err, c.want)
		}
	}
}

// TestLikeAndFormatInSQL: the functions through the engine, as the translation calls them.
func TestLikeAndFormatInSQL(t *testing.T) {
	f := newFixture(t)
	f.expect(`SELECT pg_like('orders_x', 'orders\\_%'), pg_like('a\\b', 'a\\b', ''), pg_ilike('ABC', 'a%'), pg_like(NULL, 'a'), pg_like('a', 'a', NULL)`,
		"1|1|1|NULL|NULL")
	f.expect(`SELECT pg_format('%s=%L', 'k', NULL), pg_format('%s', TRUE), quote_literal('it''s'), quote_nullable(NULL)`,
		`k=NULL|t|'it''s'|NULL`)
	if _, err := f.run(`SELECT pg_like('abcd', 'abc\\')`); sqlstate.Of(err) != "22025" {
		t.Errorf("trailing escape: %v", err)
	}
}

// TestLikeOperand: Postgres has no LIKE for integers or dates; text, casts to text and bytea
// have one.
func TestLikeOperand(t *testing.T) {
	f := newFixture(t)
	f.query(`INSERT INTO customers (id, name) VALUES (1, 'bob')`)
	f.expect(`SELECT pg_like(CAST(1 AS CHAR), '1%'), pg_like(name, 'a%'), pg_like(email, 'a%') FROM customers WHERE id = 1`, "1|0|NULL")
	for _, q := range []string{`SELECT pg_like(1, '1%')`, `SELECT pg_like(id, '1%') FROM customers`, `SELECT pg_ilike(created, '2%') FROM customers`} {
		if _, err := f.run(q); sqlstate.Of(err) != "42883" {
			t.Errorf("%s: %v", q, err)
		}
	}
}
