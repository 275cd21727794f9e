package sqlfuncs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

func TestParseCreate(t *testing.T) {
	q := `CREATE OR REPLACE FUNCTION app.Add2(a bigint, "B" int8, double precision) RETURNS bigint
		LANGUAGE wasm IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE COST 5
		AS '\x0061736d01000000', 'add' WITH (timeout = '200ms', memory = '16MB', fuel = 1000); SELECT 1`
	stmt, rest, err := ParseDDL(q)
	if err != nil {
		t.Fatal(err)
	}
	s := stmt.(*CreateStmt)
	want := &CreateStmt{OrReplace: true, Schema: "app", Name: "add2", ArgNames: []string{"a", "B", ""},
		Args: []udf.Type{udf.Bigint, udf.Bigint, udf.Double}, Result: udf.Bigint, Volatility: "IMMUTABLE",
		Strict: false, Parallel: "SAFE", Cost: 5, Module: []byte("\x00asm\x01\x00\x00\x00"), Export: "add",
		Options: map[string]string{"timeout": "200ms", "memory": "16MB", "fuel": "1000"}}
	want.given.strict, want.given.volatility, want.given.parallel = true, true, true
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
	if strings.TrimSpace(q[rest:]) != "SELECT 1" {
		t.Fatalf("rest %q", q[rest:])
	}
	for lit, want := range map[string]string{
		`X'0061736D'`:          "\x00asm",
		`'AGFzbQ=='`:           "\x00asm",
		`'\x0061736d'`:         "\x00asm",
		`E'\\x0061736d'`:       "\x00asm",
		`'AGFz bQ=='`:          "\x00asm",
		`_binary'\0asm\Z\n\''`: "\x00asm\x1a\n'",
		`0x0061736D`:           "\x00asm",
	} {
		stmt, _, err := ParseDDL("create function f() returns int language wasm as " + lit)
		if err != nil || string(stmt.(*CreateStmt).Module) != want {
			t.Errorf("%s: %v %v", lit, stmt, err)
		}
	}
	stmt, _, err = ParseDDL("create function f(bytea) returns bytea as $1 language wasm")
	if err != nil || stmt.(*CreateStmt).Param != 1 || stmt.(*CreateStmt).Export != "f" || !stmt.(*CreateStmt).Strict {
		t.Fatalf("param: %+v %v", stmt, err)
	}
}

func TestParseErrors(t *testing.T) {
	for q, want := range map[string]string{
		"create function f(numeric) returns int language wasm as 'AA=='":             "42P13 argument 1: type \"numeric\" is not supported",
		"create function f(x numeric) returns int language wasm as 'AA=='":           "42P13 argument 1: type \"numeric\"",
		"create function f(int) returns int language plpgsql as 'x'":                 "0A000 language \"plpgsql\" is not supported",
		"create function f(int) returns int as 'AA=='":                               "42P13 no language specified",
		"create function f(int) returns int language wasm":                           "42P13 no module given",
		"create function f(int) returns int language wasm as 'not base64!'":          "42P13 module literal is neither hex",
		"create function f(int) returns int language wasm as '\\xzz'":                "42P13 module literal '\\x...' is not valid hex",
		"create function f(int returns int":                                          "42601",
		"create function f(int) returns int language wasm as 'AA==' cost -1":         "42P13 COST must be a positive number",
		"create function f(int) returns int language wasm as 'AA==' with (a=1, a=2)": "42P13 option a given twice",
		"create function f(int) returns int language wasm as 'AA==' parallel maybe":  "42601 syntax error at or near \"maybe\": PARALLEL takes",
		"drop function f(int) cascade":                                               "42601 syntax error at or near \"cascade\"",
	} {
		_, _, err := ParseDDL(q)
		if err == nil {
			t.Errorf("%s: no error", q)
			continue
		}
		if got := sqlstate.Of(err) + " " + err.Error(); !strings.HasPrefix(got, want) {
			t.Errorf("%s:\ngot  %s\nwant %s", q, got, want)
		}
	}
	if s, _, err := ParseDDL("select 1"); s != nil || err != nil {
		t.Fatalf("select: %v %v", s, err)
	}
	s, _, err := ParseDDL("DROP FUNCTION IF EXISTS Twice(double precision, int)")
	if err != nil || !reflect.DeepEqual(s, &DropStmt{IfExists: true, Name: "twice", Args: []udf.Type{udf.Double, udf.Integer}}) {
		t.Fatalf("drop: %+v %v", s, err)
	}
	s, _, err = ParseDDL("drop function twice")
	if err != nil || s.(*DropStmt).Args != nil {
		t.Fatalf("drop without args: %+v %v", s, err)
	}
}

// FuzzParseDDL: the DDL parser never panics, and what it accepts has a name and a result type
// (or takes its signature from the module).
func FuzzParseDDL(f *testing.F) {
	for _, s := range []string{
		"CREATE OR REPLACE FUNCTION s.f(a bigint, double precision) RETURNS text LANGUAGE wasm IMMUTABLE STRICT PARALLEL SAFE COST 3 AS 'AGFzbQ==', 'g' WITH (timeout='1s')",
		"create function f() returns int language wasm as X'0061'",
		"create function f(text) returns text as _binary'\\0a\\'' language wasm",
		"DROP FUNCTION IF EXISTS f(int, text)",
		"create function f(", "drop function", "create function f() returns int language wasm as $1; select 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		stmt, rest, err := ParseDDL(q)
		if err != nil || stmt == nil {
			return
		}
		if rest < 0 || rest > len(q) {
			t.Fatalf("rest %d outside the query", rest)
		}
		switch s := stmt.(type) {
		case *CreateStmt:
			if s.Name == "" || (s.Result == 0 && !s.FromModule) || (s.Module == nil && s.Param == 0) {
				t.Fatalf("accepted an incomplete statement: %+v", s)
			}
		case *DropStmt:
			if s.Name == "" {
				t.Fatalf("accepted a drop without a name")
			}
		}
	})
}
