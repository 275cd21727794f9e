package udf

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

func TestParseSignature(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"slugify(s text) RETURNS text IMMUTABLE PARALLEL SAFE", "slugify(s text) RETURNS text STRICT IMMUTABLE PARALLEL SAFE"},
		{"add(bigint,bigint) returns bigint", "add(bigint, bigint) RETURNS bigint STRICT VOLATILE PARALLEL UNSAFE"},
		{"d(x double precision, timestamp without time zone) RETURNS double precision CALLED ON NULL INPUT stable",
			"d(x double precision, timestamp) RETURNS double precision CALLED ON NULL INPUT STABLE PARALLEL UNSAFE"},
		{"n() RETURNS json RETURNS NULL ON NULL INPUT", "n() RETURNS json STRICT VOLATILE PARALLEL UNSAFE"},
		{"b(bytea, date, boolean, real, smallint, integer) RETURNS boolean", "b(bytea, date, boolean, real, smallint, integer) RETURNS boolean STRICT VOLATILE PARALLEL UNSAFE"},
	} {
		s, err := ParseSignature(c.line)
		if err != nil || s.String() != c.want {
			t.Errorf("ParseSignature(%q) = %q, %v; want %q", c.line, s, err, c.want)
		}
		// The canonical line parses back to itself.
		if again, err := ParseSignature(s.String()); err != nil || again.String() != s.String() {
			t.Errorf("round trip of %q: %q, %v", s, again, err)
		}
	}
	for _, c := range []struct{ line, want string }{
		{"slugify text RETURNS text", "want name(types)"},
		{"slugify(text)", "expected RETURNS"},
		{"slugify(text) RETURNS", "without a type"},
		{"slugify(numeric) RETURNS text", `type "numeric" is not supported`},
		{"slugify(text) RETURNS text IMMUTABLE STABLE", "volatility given twice"},
		{"slugify(text) RETURNS text LANGUAGE wasm", `unexpected "LANGUAGE"`},
		{"9lives(text) RETURNS text", "is not a function name"},
		{"f(a b c) RETURNS text", "argument 1"},
	} {
		if _, err := ParseSignature(c.line); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSignature(%q) error %v, want one containing %q", c.line, err, c.want)
		}
	}
}

func TestSignaturesSection(t *testing.T) {
	mod, err := os.ReadFile("testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if sigs, err := Signatures(mod); sigs != nil || err != nil {
		t.Fatalf("a module without the section: %v, %v", sigs, err)
	}
	// Two sections, pieces separated by NUL (C arrays) and newlines, comments and blank lines.
	m := AppendCustomSection(mod, SignatureSection, []byte("# made by hand\nadd(bigint, bigint) RETURNS bigint IMMUTABLE\x00"))
	m = AppendCustomSection(m, "other", []byte("ignored(text) RETURNS text"))
	m = AppendCustomSection(m, SignatureSection, []byte("\r\n\nsub(a integer, b integer) RETURNS integer PARALLEL SAFE"))
	sigs, err := Signatures(m)
	if err != nil || len(sigs) != 2 || sigs[0].String() != "add(bigint, bigint) RETURNS bigint STRICT IMMUTABLE PARALLEL UNSAFE" ||
		sigs[1].String() != "sub(a integer, b integer) RETURNS integer STRICT VOLATILE PARALLEL SAFE" {
		t.Fatalf("signatures %v, %v", sigs, err)
	}
	// The module with its sections still loads.
	rt := newRuntime(t)
	if _, err := rt.Load(context.Background(), Definition{Name: "add", Module: m, Export: "add", Args: []Type{Bigint, Bigint}, Result: Bigint}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		mod  []byte
		want string
	}{
		{AppendCustomSection(mod, SignatureSection, []byte("add(bigint) RETURNS\n")), "section: line 1: RETURNS without a type"},
		{AppendCustomSection(mod, SignatureSection, []byte("a() RETURNS text\n\na() RETURNS integer")), "line 3 declares a again (first on line 1)"},
		{append(append([]byte(nil), mod...), 0, 0x80), "malformed module"},
		{[]byte("not wasm"), "not a WebAssembly module"},
	} {
		_, err := Signatures(c.mod)
		if err == nil || !strings.Contains(err.Error(), c.want) || sqlstate.Of(err) != sqlstate.InvalidFunctionDefinition {
			t.Errorf("error %v (%s), want 42P13 containing %q", err, sqlstate.Of(err), c.want)
		}
		if strings.Contains(c.want, "module") != errors.Is(err, ErrMalformedModule) {
			t.Errorf("%v: ErrMalformedModule is %v", err, errors.Is(err, ErrMalformedModule))
		}
	}
}
