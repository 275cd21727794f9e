package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wasql/wasql/udf"
)

// Floats print as PostgreSQL 15's float8out and float4out print them (extra_float_digits = 1).
func TestPGFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {1, 64, "1"}, {-1.5, 64, "-1.5"}, {0.1, 64, "0.1"}, {1.0 / 3, 64, "0.3333333333333333"},
		{1e14, 64, "100000000000000"}, {123456789012345, 64, "123456789012345"}, {1e15, 64, "1e+15"},
		{1234567890123456789, 64, "1.2345678901234568e+18"}, {0.0001, 64, "0.0001"}, {0.00001, 64, "1e-05"},
		{1.5e-7, 64, "1.5e-07"}, {1e300, 64, "1e+300"}, {math.NaN(), 64, "NaN"}, {math.Inf(1), 64, "Infinity"},
		{math.Inf(-1), 64, "-Infinity"}, {100000, 32, "100000"}, {1000000, 32, "1e+06"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(3.14159)), 32, "3.14159"},
	} {
		if got := pgFloat(c.f, c.bits); got != c.want {
			t.Errorf("pgFloat(%v, %d) = %q, want %q", c.f, c.bits, got, c.want)
		}
	}
}

// CSV reads as COPY ... CSV does: unquoted empty is NULL, "" the empty string, quotes and line
// breaks inside quotes are data, CRLF ends a record.
func TestCSVReader(t *testing.T) {
	s := func(v string) *string { return &v }
	in := "a,b\r\n,\"\"\n\"x,\"\"y\"\"\",\"two\nlines\"\n\nlast"
	want := [][]*string{{s("a"), s("b")}, {nil, s("")}, {s(`x,"y"`), s("two\nlines")}, {nil}, {s("last")}}
	r := &csvReader{r: bufio.NewReader(strings.NewReader(in))}
	for i, w := range want {
		got, err := r.record()
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("record %d: %v %v, want %v", i, show(got), err, show(w))
		}
	}
	if _, err := r.record(); err != io.EOF {
		t.Errorf("after the last record: %v", err)
	}
	r = &csvReader{r: bufio.NewReader(strings.NewReader("\"open\n"))}
	if _, err := r.record(); err == nil || !strings.Contains(err.Error(), "unterminated") {
		t.Errorf("an unterminated quote: %v", err)
	}
	for _, c := range []struct {
		v    string
		null bool
		want string
	}{{"", true, ""}, {"", false, `""`}, {"a", false, "a"}, {"a,b", false, `"a,b"`}, {`q"`, false, `"q"""`}, {"l\n", false, "\"l\n\""}, {" s", false, `" s"`}} {
		if got := csvField(c.v, c.null); got != c.want {
			t.Errorf("csvField(%q, %v) = %q, want %q", c.v, c.null, got, c.want)
		}
	}
}

func show(rec []*string) []string {
	var out []string
	for _, v := range rec {
		if v == nil {
			out = append(out, "NULL")
		} else {
			out = append(out, "'"+*v+"'")
		}
	}
	return out
}

// eval takes the signature from the module's section, reads CSV, prints PostgreSQL's text
// format or CSV.
func TestEvalSignatureAndCSV(t *testing.T) {
	dir := t.TempDir()
	numeric, err := os.ReadFile("../../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed.wasm")
	if err := os.WriteFile(signed, numeric, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"sign", signed, "add(a bigint, b bigint) RETURNS bigint IMMUTABLE"}, &out); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "rows.csv")
	os.WriteFile(csvPath, []byte("a,b\n1,2\n,5\n\" 40\",2\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--function", "add", "1,2", "NULL,1"}, "3\nNULL\n"},
		{[]string{"--function", "add", "--csv", csvPath, "--header"}, "3\nNULL\n42\n"},
		{[]string{"--function", "add", "--csv", csvPath, "--header", "--out", "csv"}, "3\n\n42\n"},
		{[]string{"--function", "nope", "1,2"}, "eval: the module declares no function nope (it declares add)"},
		{[]string{"--function", "add", "--csv", csvPath}, `row 1, argument 1: "a" is not a valid bigint`},
		{[]string{"--function", "add", "--args", "bigint"}, "eval: --args needs --returns"},
		{[]string{"--function", "add", "--csv", csvPath, "1,2"}, "eval: rows come from --csv or from the command line, not both"},
		{[]string{"--function", "add", "--out", "json"}, `eval: --out "json": want text or csv`},
	} {
		out.Reset()
		err := run(context.Background(), append([]string{"eval", "--module", signed}, c.args...), &out)
		got := out.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("eval %v:\ngot  %q\nwant %q", c.args, got, c.want)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"eval", "--module", "../../udf/testdata/numeric.wasm", "--function", "add", "1,2"}, &out); err == nil || !strings.Contains(err.Error(), "no wasql_signatures section: give --args and --returns") {
		t.Errorf("eval of a module without the section: %v", err)
	}
	if err := run(context.Background(), []string{"sign", signed, "add(a bigint) RETURNS bigint"}, &out); err == nil || !strings.Contains(err.Error(), "already declares add(a bigint, b bigint)") {
		t.Errorf("signing a declared function again: %v", err)
	}
}

// The values of every type print as PostgreSQL's text output does.
func TestPGText(t *testing.T) {
	for _, c := range []struct {
		typ  udf.Type
		in   string
		want string
	}{
		{udf.Boolean, "yes", "t"}, {udf.Boolean, "f", "f"}, {udf.Bytea, `\x00ff`, `\x00ff`}, {udf.Bytea, `a\\b`, `\x615c62`},
		{udf.Date, "2024-02-29", "2024-02-29"}, {udf.Timestamp, "2024-02-29 01:02:03.450000", "2024-02-29 01:02:03.45"},
		{udf.Timestamp, "2024-02-29", "2024-02-29 00:00:00"}, {udf.Double, "1e20", "1e+20"}, {udf.Double, "-infinity", "-Infinity"},
		{udf.Smallint, " 7", "7"}, {udf.Text, "NULL", "NULL"}, {udf.JSON, `{"a":1}`, `{"a":1}`},
	} {
		col := udf.NewColumn(c.typ, 1)
		v := c.in
		if err := setValue(&col, 0, &v); err != nil {
			t.Errorf("%s %q: %v", c.typ, c.in, err)
			continue
		}
		if got, null := pgText(&col, 0); null || got != c.want {
			t.Errorf("%s %q prints %q, want %q", c.typ, c.in, got, c.want)
		}
	}
	col := udf.NewColumn(udf.Boolean, 1)
	v := "maybe"
	if err := setValue(&col, 0, &v); err == nil || !strings.Contains(err.Error(), `invalid input syntax for type boolean: "maybe"`) {
		t.Errorf("a bad boolean: %v", err)
	}
}

// The statements function create sends, by wire.
func TestCreateStatements(t *testing.T) {
	numeric, _ := os.ReadFile("../../udf/testdata/numeric.wasm")
	signed := udf.AppendCustomSection(numeric, udf.SignatureSection, []byte("add(a bigint, b bigint) RETURNS bigint IMMUTABLE\nnext_day(date) RETURNS date\n"))
	stmts := func(module []byte, name, export, sig string, names []string, my bool) string {
		defs, err := createDefs(module, name, export, sig, names)
		if err != nil {
			return "error: " + err.Error()
		}
		var s []string
		for _, d := range defs {
			s = append(s, d.sql(my))
		}
		return strings.Join(s, "; ")
	}
	for _, c := range []struct {
		got, want string
	}{
		{stmts(signed, "", "", "", nil, false), "CREATE FUNCTION add LANGUAGE wasm AS $1, 'add'; CREATE FUNCTION next_day LANGUAGE wasm AS $1, 'next_day'"},
		{stmts(signed, "", "", "", []string{"next_day"}, true), "CREATE FUNCTION `next_day` LANGUAGE wasm AS ?, 'next_day'"},
		{stmts(signed, "plus", "add", "", nil, false), "CREATE FUNCTION plus LANGUAGE wasm AS $1, 'add'"},
		{stmts(signed, "", "", "", []string{"nope"}, false), "error: the module declares no function nope (it declares add, next_day)"},
		{stmts(numeric, "", "", "", nil, false), "error: the module has no wasql_signatures section: give the signature with --sig"},
		{stmts(numeric, "", "add", "Plus(a bigint, b bigint) RETURNS bigint CALLED ON NULL INPUT STABLE", nil, false),
			`CREATE FUNCTION "Plus"(a bigint, b bigint) RETURNS bigint LANGUAGE wasm CALLED ON NULL INPUT STABLE PARALLEL UNSAFE AS $1, 'add'`},
		{stmts(numeric, "", "", "f(a bigint RETURNS", nil, false), "error: --sig:"},
	} {
		if !strings.HasPrefix(c.got, c.want) {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	if w, err := withClause("timeout=200ms, memory = 16MB"); err != nil || w != " WITH (timeout = '200ms', memory = '16MB')" {
		t.Errorf("withClause: %q %v", w, err)
	}
	if _, err := withClause("timeout"); err == nil {
		t.Error("withClause of a key without a value: no error")
	}
	if w := jsonWith(`{"memory": "16MB", "timeout": "2'0s"}`); w != "WITH (memory = '16MB', timeout = '2''0s')" {
		t.Errorf("jsonWith: %q", w)
	}
}

// SHOW CREATE FUNCTION's text (sqlfuncs.CreateText) reads back.
func TestParseCreateText(t *testing.T) {
	f, ok := parseCreateText(`CREATE FUNCTION "Up"(s text, b bigint) RETURNS double precision LANGUAGE wasm IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE COST 5 AS '<module sha256:abcd, 255 bytes>', 'it''s' WITH (timeout = '1s')`)
	want := fn{name: "Up", args: "s text, b bigint", result: "double precision", volatility: "IMMUTABLE", parallel: "SAFE",
		with: "WITH (timeout = '1s')", export: "it's", hash: "abcd", size: 255}
	if !ok || !reflect.DeepEqual(f, want) {
		t.Errorf("got  %+v\nwant %+v", f, want)
	}
	if f.options() != "CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE WITH (timeout = '1s')" {
		t.Errorf("options: %q", f.options())
	}
	f, ok = parseCreateText(`CREATE FUNCTION up() RETURNS text LANGUAGE wasm VOLATILE STRICT AS '<module sha256:ab, 3 bytes>', 'up'`)
	if !ok || !f.strict || f.parallel != "UNSAFE" || f.args != "" || f.with != "" {
		t.Errorf("got %+v", f)
	}
}

// Flags may follow the positional arguments.
func TestInterleave(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("name", "", "")
	fs.Bool("if-exists", false, "")
	got := interleave(fs, []string{"f.wasm", "--name", "n", "a", "--if-exists", "--dsn=x", "--", "--b"})
	want := []string{"--name", "n", "--if-exists", "--dsn=x", "f.wasm", "a", "--b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// init writes each template with the SDK beside it; the file list is what the README promises.
func TestInitFiles(t *testing.T) {
	for _, c := range []struct {
		lang  string
		files []string
	}{
		{"c", []string{"Makefile", "README.md", "shout.c", "wasql-sdk/wasql.h", "wasql-sdk/wasql.mk"}},
		{"go", []string{"Makefile", "README.md", "go.mod", "main.go", "wasql-sdk/go.mod", "wasql-sdk/wasql/wasql.go", "wasql-sdk/wasql/guest_wasip1.go"}},
	} {
		dir := filepath.Join(t.TempDir(), "p")
		var out bytes.Buffer
		if err := run(context.Background(), []string{"init", "--lang", c.lang, "shout", dir}, &out); err != nil {
			t.Fatal(err)
		}
		for _, f := range c.files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Errorf("%s: %v", c.lang, err)
			} else if strings.Contains(string(b), "NAME") && !strings.HasPrefix(f, "wasql-sdk/") {
				t.Errorf("%s: %s still says NAME", c.lang, f)
			}
		}
		readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		for _, w := range []string{"make", "wasql function create --dsn", "shout.wasm"} {
			if !strings.Contains(string(readme), w) {
				t.Errorf("%s README has no %q", c.lang, w)
			}
		}
		if err := run(context.Background(), []string{"init", "--lang", c.lang, "shout", dir}, &out); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("init into a used directory: %v", err)
		}
	}
}

// wasql --help and wasql function --help list every command.
func TestHelpListsCommands(t *testing.T) {
	var out bytes.Buffer
	run(context.Background(), []string{"--help"}, &out)
	for _, w := range []string{"serve", "eval", "function", "init", "sign", "version", "help"} {
		if !strings.Contains(out.String(), "wasql "+w) {
			t.Errorf("wasql --help has no %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"function", "--help"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"create", "replace", "drop", "list", "show", "--dsn", "WASQL_DSN", "--sig"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("wasql function --help has no %q", w)
		}
	}
	for _, args := range [][]string{{"function", "create", "--help"}, {"init", "--help"}, {"sign", "--help"}, {"help", "function"}} {
		out.Reset()
		if err := run(context.Background(), args, &out); err != nil || out.Len() == 0 {
			t.Errorf("wasql %v: %v %q", args, err, out.String())
		}
	}
	if err := run(context.Background(), []string{"function", "frob"}, &out); err == nil || !strings.Contains(err.Error(), "want create, replace, drop, list or show") {
		t.Errorf("unknown function command: %v", err)
	}
	t.Setenv("WASQL_DSN", "")
	if err := run(context.Background(), []string{"function", "list"}, &out); err == nil || !strings.Contains(err.Error(), "WASQL_DSN") {
		t.Errorf("no DSN: %v", err)
	}
	if err := run(context.Background(), []string{"function", "list", "--dsn", "sqlite://x"}, &out); err == nil || !strings.Contains(err.Error(), "want postgres://") {
		t.Errorf("a DSN of another scheme: %v", err)
	}
}
