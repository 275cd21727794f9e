package upstream

import (
	"context"
	"encoding/hex"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/sqlfuncs"
)

func names(ns ...string) *nameSet { return newNameSet(0, ns) }

func TestMayInvolveWasm(t *testing.T) {
	ns := names("twice", "MixedCase")
	cases := []struct {
		q     string
		maybe bool
	}{
		{"SELECT abalance FROM pgbench_accounts WHERE aid = 42", false},
		{"SELECT twice(2)", true},
		{"select TWICE (2)", true},
		{`SELECT "twice"(2)`, true},
		{`SELECT "TWICE"(2)`, false}, // quoted: case kept, so another name
		{`SELECT "MixedCase"(1)`, true},
		{`SELECT mixedcase(1)`, false},
		{"SELECT 'twice(2)'", false},
		{"SELECT E'it''s \\' twice'", false},
		{"SELECT $$ twice $$, $tag$ twice $tag$", false},
		{"SELECT 1 -- twice\n", false},
		{"SELECT /* twice /* nested */ twice */ 1", false},
		{"SELECT twice_not(1), not_twice(2), twice$x(3)", false},
		{"SELECT 1; SELECT twice(2)", true},
		{"CREATE FUNCTION f(int) RETURNS int LANGUAGE wasm AS '\\x00'", true},
		{"create or replace function f() returns int language WASM as $1", true},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1 -- wasm'", false},
		{"CREATE FUNCTION wasm() RETURNS int LANGUAGE sql AS 'SELECT 1'", false},
		{"SELECT x FROM t WHERE x = $1", false},
		{"SELECT 'unterminated", false},
	}
	for _, c := range cases {
		if got := mayInvolveWasm(c.q, ns); got != c.maybe {
			t.Errorf("mayInvolveWasm(%q) = %v, want %v", c.q, got, c.maybe)
		}
	}
}

func TestSplit(t *testing.T) {
	got := split("SELECT 1; SELECT ';' ; ; SELECT $$;$$; CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2)")
	want := []string{"SELECT 1", " SELECT ';' ", " SELECT $$;$$", " CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2)"}
	if len(got) != len(want) {
		t.Fatalf("split: %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("split: %q, want %q", got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	reg := testRegistry(t)
	lit := `'\x` + hex.EncodeToString(twiceModule(t)) + `', 'twice_int'`
	st, _, err := sqlfuncs.ParseDDL(`CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS ` + lit)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Create(context.Background(), st.(*sqlfuncs.CreateStmt)); err != nil {
		t.Fatal(err)
	}
	ns := names("twice")
	cases := []struct {
		q    string
		kind stmtKind
	}{
		{"SELECT twice(2)", stmtCall},
		{"SELECT public.twice(x) FROM t", stmtCall},
		{"SELECT count(*) FROM t WHERE twice(a) > 1", stmtCall},
		{"SELECT twice FROM t", stmtPass},
		{"SELECT t.twice, 'twice' AS twice FROM t", stmtPass},
		{"CREATE TABLE twice (a int)", stmtPass},
		{"DROP FUNCTION twice", stmtDrop},
		{"DROP FUNCTION IF EXISTS twice(integer)", stmtDrop},
		{"DROP FUNCTION twice(int4)", stmtDrop},
		{"DROP FUNCTION twice(text)", stmtPass},
		{"DROP FUNCTION twice, length(text)", stmtMixed},
		{"DROP FUNCTION twice(integer, integer)", stmtPass},
		{"CREATE FUNCTION f(integer) RETURNS integer LANGUAGE wasm AS " + lit, stmtCreate},
		{"SELEC twice(", stmtPass}, // PostgreSQL reports its own syntax error
	}
	for _, c := range cases {
		sts := classify(c.q, ns, reg)
		if len(sts) != 1 || sts[0].kind != c.kind {
			t.Errorf("classify(%q) = %+v, want kind %d", c.q, sts, c.kind)
		}
	}
}

var typical = []string{
	"SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
	"UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 48213;",
	"SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname OPERATOR(pg_catalog.~) '^(accounts)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3;",
	"INSERT INTO orders (customer_id, total, note, created_at) VALUES ($1, $2, 'it''s a \"gift\"', now()) RETURNING id",
}

// BenchmarkCheapTest measures the cheap test on typical statements with 50 wasm functions
// registered, none of them named in the statements.
func BenchmarkCheapTest(b *testing.B) {
	ns := names()
	for i := 0; i < 50; i++ {
		ns.add(string(rune('a'+i%26)) + "_fn_" + string(rune('a'+i/26)))
	}
	for _, q := range typical {
		b.Run(q[:20], func(b *testing.B) {
			b.SetBytes(int64(len(q)))
			for i := 0; i < b.N; i++ {
				if mayInvolveWasm(q, ns) {
					b.Fatal("maybe")
				}
			}
		})
	}
}

// BenchmarkParse is what the cheap test saves: pg_query's parse of the same statements.
func BenchmarkParse(b *testing.B) {
	for _, q := range typical {
		b.Run(q[:20], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := pg_query.Parse(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzCheapTest: the scanner never panics or loops on any text, and the cheap test never
// passes a statement that classify, given the same names, would not pass.
func FuzzCheapTest(f *testing.F) {
	for _, q := range append(typical, "SELECT twice(1)", "CREATE FUNCTION f() RETURNS int LANGUAGE wasm AS $1",
		`SELECT "twice"(1), $$x$$, $a$ $ $a$, E'\'', /* /* */ */ 1; DROP FUNCTION twice`, "SELECT 'unterminated", `"`, "$", "$a", "E'") {
		f.Add(q)
	}
	ns := names("twice", "Quoted")
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, q string) {
		maybe := mayInvolveWasm(q, ns)
		sts := classify(q, ns, reg)
		if maybe {
			return
		}
		for _, st := range sts {
			if st.kind != stmtPass {
				t.Fatalf("the cheap test passed %q, classify says %d", q, st.kind)
			}
		}
	})
}
