package sqlfuncs

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// A module that carries its signatures is registered without an argument list; a declared
// signature must agree with the section.
func TestCreateFromSignatureSection(t *testing.T) {
	te := newTestEngine(t)
	mod, err := os.ReadFile("../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	signed := udf.AppendCustomSection(mod, udf.SignatureSection, []byte("add(a bigint, b bigint) RETURNS bigint IMMUTABLE PARALLEL SAFE\nadd32(integer, integer) RETURNS integer\n"))
	hex := fmt.Sprintf("X'%x'", signed)

	te.mustQuery(t, "CREATE FUNCTION add32 LANGUAGE wasm AS "+hex)
	if rows := te.mustQuery(t, "SELECT add32(40, 2)"); fmt.Sprint(rows) != "[[42]]" {
		t.Fatalf("add32(40, 2) = %v", rows)
	}
	te.mustQuery(t, "CREATE FUNCTION `add` LANGUAGE wasm AS "+hex)
	for _, ov := range te.reg.Functions() {
		if ov.Def.Name != "add" {
			continue
		}
		if d := ov.Def; strings.Join(d.ArgTypes, ",") != "bigint,bigint" || strings.Join(d.ArgNames, ",") != "a,b" || d.ReturnType != "bigint" ||
			d.Volatility != "IMMUTABLE" || d.Parallel != "SAFE" || !d.Strict {
			t.Fatalf("definition from the section: %+v", d)
		}
	}
	// Another SQL name for the same export; the statement's own clauses win.
	te.mustQuery(t, "CREATE FUNCTION plus LANGUAGE wasm VOLATILE AS "+hex+", 'add'")
	if rows := te.mustQuery(t, "SELECT plus(1, 2)"); fmt.Sprint(rows) != "[[3]]" {
		t.Fatalf("plus(1, 2) = %v", rows)
	}
	for _, ov := range te.reg.Functions() {
		if ov.Def.Name == "plus" && ov.Def.Volatility != "VOLATILE" {
			t.Fatalf("plus is %s, declared VOLATILE", ov.Def.Volatility)
		}
	}
	// A declared signature that agrees is accepted, and OR REPLACE works without one too.
	te.mustQuery(t, "CREATE OR REPLACE FUNCTION `add`(bigint, bigint) RETURNS bigint LANGUAGE wasm AS "+hex)
	te.mustQuery(t, "CREATE OR REPLACE FUNCTION `add` LANGUAGE wasm AS "+hex)

	for _, c := range []struct{ q, want string }{
		{"CREATE FUNCTION add2(integer, integer) RETURNS integer LANGUAGE wasm AS " + hex + ", 'add'",
			"CREATE FUNCTION add2(integer, integer) RETURNS integer disagrees with the module's wasql_signatures section, which declares add(a bigint, b bigint) RETURNS bigint STRICT IMMUTABLE PARALLEL SAFE"},
		{"CREATE FUNCTION add3(bigint, bigint) RETURNS bigint LANGUAGE wasm CALLED ON NULL INPUT AS " + hex + ", 'add'",
			"is CALLED ON NULL INPUT but the module's wasql_signatures section declares add(a bigint, b bigint) RETURNS bigint STRICT"},
		{"CREATE FUNCTION sub LANGUAGE wasm AS " + hex, "declares no function sub (it declares add, add32)"},
		{"CREATE FUNCTION add32 LANGUAGE wasm AS " + fmt.Sprintf("X'%x'", mod), "the module has no wasql_signatures section"},
		{"CREATE FUNCTION bad LANGUAGE wasm AS " + fmt.Sprintf("X'%x'", udf.AppendCustomSection(mod, udf.SignatureSection, []byte("bad(text RETURNS text"))),
			"wasql_signatures section: line 1"},
		{"CREATE FUNCTION junk LANGUAGE wasm AS X'00010203'", "not a WebAssembly module"},
	} {
		_, err := te.query(t, c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) || sqlstate.Of(err) != sqlstate.InvalidFunctionDefinition {
			t.Errorf("%.60s...: error %v (%s), want 42P13 containing %q", c.q, err, sqlstate.Of(err), c.want)
		}
	}
	// Nothing half-made: only add32, add and plus exist.
	if n := len(te.reg.Functions()); n != 3 {
		t.Fatalf("%d functions registered, want 3", n)
	}
}

func TestParseCreateWithoutArguments(t *testing.T) {
	st, _, err := ParseDDL("create or replace function s.slugify language wasm immutable as $1, 'slug' with (timeout = '1s')")
	c, ok := st.(*CreateStmt)
	if err != nil || !ok || !c.FromModule || c.Name != "slugify" || c.Schema != "s" || c.Export != "slug" || c.Param != 1 || c.Volatility != "IMMUTABLE" || c.Options["timeout"] != "1s" {
		t.Fatalf("%+v, %v", st, err)
	}
	for _, q := range []string{"CREATE FUNCTION f text LANGUAGE wasm AS 'x'", "CREATE FUNCTION f RETURNS text LANGUAGE wasm AS 'x'"} {
		if _, _, err := ParseDDL(q); err == nil || sqlstate.Of(err) != "42601" {
			t.Errorf("%s: %v", q, err)
		}
	}
}
