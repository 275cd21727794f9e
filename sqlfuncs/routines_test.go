package sqlfuncs

import (
	"crypto/sha256"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

// The MySQL wire's listings know the wasm functions: information_schema.routines and
// .parameters, SHOW FUNCTION STATUS (answered from routines) and SHOW CREATE FUNCTION.
func TestRoutineListings(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	rows := func(q string) string {
		t.Helper()
		var b strings.Builder
		for _, r := range te.mustQuery(t, q) {
			fmt.Fprintln(&b, r...)
		}
		return b.String()
	}
	got := te.mustQuery(t, "SHOW FUNCTION STATUS")
	var names []string
	for _, r := range got {
		if r[0] != "wasql" || r[2] != "FUNCTION" || r[6] != "INVOKER" {
			t.Errorf("SHOW FUNCTION STATUS row %v", r)
		}
		names = append(names, r[1].(string))
	}
	if want := []string{"nvl_len", "plus", "safe_div", "slugify", "twice", "twice", "upper_ascii"}; !reflect.DeepEqual(names, want) {
		t.Errorf("SHOW FUNCTION STATUS names %v, want %v", names, want)
	}
	if n := len(te.mustQuery(t, "SHOW FUNCTION STATUS LIKE 'tw%'")); n != 2 {
		t.Errorf("SHOW FUNCTION STATUS LIKE 'tw%%': %d rows, want 2", n)
	}
	if n := len(te.mustQuery(t, "SHOW FUNCTION STATUS WHERE Db = 'wasql' AND Name = 'plus'")); n != 1 {
		t.Errorf("SHOW FUNCTION STATUS WHERE: %d rows, want 1", n)
	}
	if got, want := rows("SELECT specific_name, routine_schema, routine_name, data_type, dtd_identifier, is_deterministic, sql_data_access, external_language "+
		"FROM information_schema.routines WHERE routine_name IN ('twice', 'slugify', 'nvl_len') ORDER BY specific_name"),
		"nvl_len wasql nvl_len int int NO NO SQL WASM\n"+
			"slugify wasql slugify longtext longtext YES NO SQL WASM\n"+
			"twice(double precision) wasql twice double double YES NO SQL WASM\n"+
			"twice(integer) wasql twice int int YES NO SQL WASM\n"; got != want {
		t.Errorf("information_schema.routines:\n%s\nwant\n%s", got, want)
	}
	if got, want := rows("SELECT specific_name, ordinal_position, parameter_mode, parameter_name, data_type FROM information_schema.parameters "+
		"WHERE specific_name IN ('plus', 'slugify') ORDER BY specific_name, ordinal_position"),
		"plus 0 <nil> <nil> bigint\nplus 1 IN a bigint\nplus 2 IN b bigint\nslugify 0 <nil> <nil> longtext\nslugify 1 IN <nil> longtext\n"; got != want {
		t.Errorf("information_schema.parameters:\n%s\nwant\n%s", got, want)
	}

	numeric, err := os.ReadFile("../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(numeric)
	sc := te.mustQuery(t, "SHOW CREATE FUNCTION plus")
	want := fmt.Sprintf("CREATE FUNCTION plus(a bigint, b bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT AS '<module sha256:%x, %d bytes>', 'add'", sum, len(numeric))
	if len(sc) != 1 || sc[0][0] != "plus" || sc[0][2] != want {
		t.Errorf("SHOW CREATE FUNCTION plus:\n%v\nwant\n%s", sc, want)
	}
	if sc := te.mustQuery(t, "show create function `wasql`.`TWICE`;"); len(sc) != 2 {
		t.Errorf("SHOW CREATE FUNCTION of an overloaded name: %v", sc)
	}
	if _, err := te.query(t, "SHOW CREATE FUNCTION nope"); err == nil || sqlstate.Of(err) != sqlstate.UndefinedFunction || !strings.Contains(err.Error(), "FUNCTION nope does not exist") {
		t.Errorf("SHOW CREATE FUNCTION nope: %v (%s)", err, sqlstate.Of(err))
	}
}

// CreateText is the definition: with the module placeholder replaced by the module, it parses
// back to the same statement.
func TestCreateTextRoundTrip(t *testing.T) {
	te := newTestEngine(t)
	mod := wasmHexPath(t, "../udf/testdata/guests/c_funcs.wasm")
	for _, q := range []string{
		`CREATE FUNCTION "Odd Name"("X" text) RETURNS integer LANGUAGE wasm STABLE CALLED ON NULL INPUT PARALLEL SAFE COST 5 AS ` + mod + `, 'nvl_len' WITH (timeout = '200ms', memory = '16MB')`,
		`CREATE FUNCTION slugify(text) RETURNS text LANGUAGE wasm AS ` + mod,
	} {
		te.mustQuery(t, q)
	}
	for _, ov := range te.reg.Functions() {
		text := CreateText(ov.Def)
		at := strings.Index(text, "'<module")
		end := strings.Index(text, "bytes>'")
		if at < 0 || end < 0 {
			t.Fatalf("no module placeholder in %s", text)
		}
		again := text[:at] + mod + text[end+len("bytes>'"):]
		st, _, err := ParseDDL(again)
		if err != nil {
			t.Fatalf("%s: %v", again, err)
		}
		s := st.(*CreateStmt)
		d := ov.Def
		if s.Name != d.Name || !reflect.DeepEqual(s.ArgNames, d.ArgNames) || typeList(s.Args) != typeList(ov.Args) || s.Result != ov.Result ||
			s.Volatility != d.Volatility || s.Strict != d.Strict || s.Parallel != d.Parallel || s.Cost != d.Cost ||
			s.Export != d.Export || !reflect.DeepEqual(s.Options, d.Options) {
			t.Errorf("%s\nparsed back as %+v\nfrom %+v", text, s, d)
		}
	}
}
