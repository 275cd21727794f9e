//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasql/wasql/udf"
)

// buildASExample builds sdk/assemblyscript/example with the package's build script and returns
// the module.
func buildASExample(t *testing.T) []byte {
	t.Helper()
	sdk, err := filepath.Abs("../sdk/assemblyscript")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("npm is missing: apt-get install -y nodejs npm")
	}
	for _, dir := range []string{sdk, filepath.Join(sdk, "example")} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
			t.Fatalf("%s/node_modules is missing: run (cd sdk/assemblyscript && npm ci --no-audit --no-fund && cd example && npm ci --no-audit --no-fund)", dir)
		}
	}
	dir := filepath.Join(sdk, "example")
	out := filepath.Join(t.TempDir(), "example.wasm")
	cmd := exec.Command("npm", "run", "--silent", "build", "--", "-o", out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run build in %s: %v\n%s", dir, err, b)
	}
	module, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return module
}

// The AssemblyScript SDK's example: the transform writes one signature line per @wasql
// function, and over SQL every v1 type round-trips, NULLs reach only nullable parameters, a
// row error is 38000 with its message and the log line in its detail, and a declared signature
// that disagrees with the section is 42P13.
func TestSDKAssemblyScript(t *testing.T) {
	module := buildASExample(t)
	sigs, err := udf.Signatures(module)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, s := range sigs {
		lines[s.Name] = s.String()
	}
	for name, want := range map[string]string{
		"as_smallint":      "as_smallint(x smallint) RETURNS smallint STRICT IMMUTABLE PARALLEL SAFE",
		"as_real":          "as_real(x real) RETURNS real STRICT IMMUTABLE PARALLEL SAFE",
		"as_invert":        "as_invert(b bytea) RETURNS bytea STRICT IMMUTABLE PARALLEL SAFE",
		"as_wrap":          "as_wrap(j json) RETURNS json STRICT IMMUTABLE PARALLEL SAFE",
		"as_add_micros":    "as_add_micros(t timestamp, us bigint) RETURNS timestamp STRICT IMMUTABLE PARALLEL SAFE",
		"as_coalesce":      "as_coalesce(x bigint, dflt bigint) RETURNS bigint CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE",
		"as_describe":      "as_describe(s text) RETURNS text CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE",
		"as_half":          "as_half(x integer) RETURNS integer STRICT IMMUTABLE PARALLEL SAFE",
		"as_epoch_or_null": "as_epoch_or_null(d date) RETURNS timestamp CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE",
		"as_div":           "as_div(a bigint, b bigint) RETURNS bigint STRICT IMMUTABLE PARALLEL UNSAFE",
	} {
		if got := lines[name]; got != want {
			t.Errorf("signature of %s: got %q, want %q", name, got, want)
		}
	}
	if len(sigs) != 20 {
		t.Errorf("%d signatures, want 20: %v", len(sigs), sigs)
	}
	asModuleABI(t, module)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startServer(t, t.TempDir())
	defer s.stop(t)
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s:%s/wasql?sslmode=disable", s.pgHost, s.pgPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, sg := range sigs {
		if _, err := c.Exec(ctx, "CREATE FUNCTION "+sg.Name+" LANGUAGE wasm AS $1", module); err != nil {
			t.Fatalf("register %s: %v", sg.Name, err)
		}
	}

	for _, k := range []struct {
		sql  string
		want []string
	}{
		// Every v1 type, over several rows (each row's value read from its own slot).
		{"SELECT as_smallint(x::smallint) FROM (VALUES (-32768), (0), (32767)) v(x)", []string{"-32768", "0", "32767"}},
		{"SELECT as_integer(x) FROM (VALUES (-2147483648), (7), (2147483647)) v(x)", []string{"-2147483648", "7", "2147483647"}},
		{"SELECT as_bigint(x) FROM (VALUES (-9223372036854775808), (42), (9223372036854775807)) v(x)", []string{"-9223372036854775808", "42", "9223372036854775807"}},
		{"SELECT as_real(x::real) FROM (VALUES (1.5), (-0.25), (3.4e38)) v(x)", []string{"1.5", "-0.25", "3.4e+38"}},
		{"SELECT as_double(x) FROM (VALUES (0.1::double precision), ('-1e308'::double precision), (2.5::double precision)) v(x)", []string{"0.1", "-1e+308", "2.5"}},
		{"SELECT as_not(x) FROM (VALUES (true), (false)) v(x)", []string{"f", "t"}},
		{"SELECT as_reverse(x) FROM (VALUES ('abc'), (''), ('héllo wörld'), ('a😀b')) v(x)", []string{"cba", "", "dlröw olléh", "b😀a"}},
		{"SELECT as_utf16_length(x) FROM (VALUES ('abc'), ('é'), ('😀')) v(x)", []string{"3", "1", "2"}},
		{`SELECT as_invert(x::bytea) FROM (VALUES ('\x00ff10'), ('\x'), ('\xf0')) v(x)`, []string{`\xff00ef`, `\x`, `\x0f`}},
		{`SELECT as_bytea_length(x::bytea) FROM (VALUES ('\x00ff10'), ('\x')) v(x)`, []string{"3", "0"}},
		{`SELECT as_wrap(x::json) FROM (VALUES ('[1,2]'), ('"ü"')) v(x)`, []string{`{"v": [1, 2]}`, `{"v": "ü"}`}},
		{"SELECT as_add_days(d::date, n) FROM (VALUES ('2024-02-28', 1), ('1970-01-01', -1), ('2000-01-01', 0)) v(d, n)", []string{"2024-02-29", "1969-12-31", "2000-01-01"}},
		{"SELECT as_add_micros(t::timestamp, us) FROM (VALUES ('2024-01-01 00:00:00', 1500000), ('1969-12-31 23:59:59', 1)) v(t, us)", []string{"2024-01-01 00:00:01.5", "1969-12-31 23:59:59.000001"}},
		// NULLs: STRICT functions are not called for them; nullable parameters see them.
		{"SELECT as_bigint(x) FROM (VALUES (1), (NULL), (3)) v(x)", []string{"1", "NULL", "3"}},
		{"SELECT as_reverse(x) FROM (VALUES ('ab'), (NULL)) v(x)", []string{"ba", "NULL"}},
		{"SELECT as_coalesce(x, 9) FROM (VALUES (1), (NULL), (3)) v(x)", []string{"1", "9", "3"}},
		{"SELECT as_coalesce(x, NULL) FROM (VALUES (5)) v(x)", []string{"5"}},
		{"SELECT as_describe(x) FROM (VALUES ('a'), (NULL), ('')) v(x)", []string{"text:a", "null", "NULL"}},
		{"SELECT as_half(x) FROM (VALUES (4), (3), (NULL), (-8)) v(x)", []string{"2", "NULL", "NULL", "-4"}},
		{"SELECT as_epoch_or_null(d::date) FROM (VALUES ('1970-01-02'), (NULL)) v(d)", []string{"1970-01-02 00:00:00", "NULL"}},
		{"SELECT as_div(a, b) FROM (VALUES (7, 2), (-9, 3)) v(a, b)", []string{"3", "-3"}},
		// The GC under load, and again after the state reset between queries.
		{"SELECT sum(length(as_repeat('xyz', (i % 300)::integer))) FROM generate_series(1, 3000) i", []string{"1345500"}},
		{"SELECT sum(length(as_repeat('xyz', (i % 300)::integer))) FROM generate_series(1, 3000) i", []string{"1345500"}},
		{"SELECT count(*) FROM generate_series(1, 5000) i WHERE as_reverse(as_repeat('ab', 50) || i::text) IS NOT NULL", []string{"5000"}},
	} {
		got, err := simpleRows(ctx, c, k.sql)
		if err != nil || !slices.Equal(got, k.want) {
			t.Errorf("%s\n  got  %q, %v\n  want %q", k.sql, got, err, k.want)
		}
	}

	// Memory that grew in one query is zeroed by the reset after it, while the heap's state
	// goes back to before the growth: the SDK hands those pages back to the allocator, so a big
	// allocation repeated over queries does not creep up to the 64MB memory limit.
	var pages []string
	for i := 0; i < 12; i++ {
		got, err := simpleRows(ctx, c, "SELECT as_alloc(12000000)")
		if err != nil || len(got) != 1 {
			t.Fatalf("query %d allocating 12MB: %q, %v", i+1, got, err)
		}
		pages = append(pages, got[0])
	}
	if pages[len(pages)-1] != pages[1] {
		t.Errorf("memory pages after each of 12 queries allocating 12MB: %v, want them to stay as after the second", pages)
	}

	// A row error: 38000, the message, the row, and the log line written before it.
	_, err = simpleRows(ctx, c, "SELECT as_div(a, b) FROM (VALUES (1, 1), (5, 0)) v(a, b)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "38000" || !strings.Contains(pe.Message, "division of 5 by zero") || !strings.Contains(pe.Message, "row 2") {
		t.Errorf("row error: got %v, want 38000 with row 2 and the message", err)
	} else if !strings.Contains(pe.Detail, "as_div: 5 / 0") {
		t.Errorf("row error: detail %q does not carry the log line", pe.Detail)
	}
	// After the error the function still works (the instance was reset or replaced).
	if got, err := simpleRows(ctx, c, "SELECT as_div(10, 5)"); err != nil || !slices.Equal(got, []string{"2"}) {
		t.Errorf("as_div after a row error: %q, %v", got, err)
	}

	// A declared signature that disagrees with the section.
	_, err = c.Exec(ctx, "CREATE OR REPLACE FUNCTION as_integer(bigint) RETURNS bigint LANGUAGE wasm AS $1", module)
	if !errors.As(err, &pe) || pe.Code != "42P13" || !strings.Contains(pe.Message, "as_integer(x integer) RETURNS integer") {
		t.Errorf("disagreeing signature: got %v, want 42P13 naming the section's", err)
	}
	// One that agrees is accepted.
	if _, err := c.Exec(ctx, "CREATE OR REPLACE FUNCTION as_integer(integer) RETURNS integer LANGUAGE wasm AS $1", module); err != nil {
		t.Errorf("agreeing signature: %v", err)
	}
}

// asModuleABI checks the module's imports (WASI only, no env.abort) and that a batch whose
// descriptor does not fit the function is refused with status 2 and a message saying what the
// function was built for.
func asModuleABI(t *testing.T, module []byte) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	compiled, err := r.CompileModule(ctx, module)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != "wasi_snapshot_preview1" {
			t.Errorf("the module imports %s.%s", mod, name)
		}
	}
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	m, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	call := func(name string, args ...uint64) uint64 {
		t.Helper()
		res, err := m.ExportedFunction(name).Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res) == 0 {
			return 0
		}
		return res[0]
	}
	mem := m.Memory()
	// as_integer(x integer) called with (bigint, bigint) RETURNS integer.
	batch := uint32(call("wasql_alloc", 48+2*20+64))
	if batch == 0 || batch%8 != 0 {
		t.Fatalf("wasql_alloc: %d, want an 8-byte aligned block", batch)
	}
	for off, v := range map[uint32]uint32{0: 1, 4: 1, 8: 2, 12: 0, 16: 2, 48: 3, 68: 3} {
		mem.WriteUint32Le(batch+off, v)
	}
	if st := call("wasql_batch_as_integer", uint64(batch)); st != 2 {
		t.Fatalf("a batch of the wrong types: status %d, want 2", st)
	}
	ptr, _ := mem.ReadUint32Le(batch + 40)
	n, _ := mem.ReadUint32Le(batch + 44)
	msg, _ := mem.Read(ptr, n)
	if want := "built for as_integer(x integer) RETURNS integer, called with (bigint, bigint) RETURNS integer"; string(msg) != want {
		t.Errorf("status 2 message %q, want %q", msg, want)
	}
	// The same function with a descriptor that fits: 2 rows of integer in, integer out.
	for off, v := range map[uint32]uint32{0: 1, 4: 2, 8: 1, 12: 0, 16: 2, 20: batch + 96, 24: batch + 104, 36: 0,
		48: 2, 52: 0, 56: batch + 112, 60: 0, 64: 0, 112: 7, 116: 0xfffffff9} {
		mem.WriteUint32Le(batch+off, v)
	}
	mem.WriteByte(batch+96, 3)
	mem.WriteUint64Le(batch+104, 0)
	if st := call("wasql_batch_as_integer", uint64(batch)); st != 0 {
		t.Fatalf("a batch that fits: status %d, want 0", st)
	}
	r0, _ := mem.ReadUint32Le(batch + 104)
	r1, _ := mem.ReadUint32Le(batch + 108)
	if int32(r0) != 7 || int32(r1) != -7 {
		t.Errorf("as_integer over (7, -7): got (%d, %d)", int32(r0), int32(r1))
	}
	call("wasql_free", uint64(batch), 48+2*20+64)
}
