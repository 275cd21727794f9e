//go:build integration

package integration

// TestCopyAgainstPostgres loads the same COPY FROM STDIN data into PostgreSQL 15 and into wasql
// (embedded, Dolt's tables) and compares what a client sees: the COPY's tag or its error's
// SQLSTATE, then the table's rows as text. The cases are the formats' corners (escapes, quotes,
// NULL, headers, end markers) and each type's input (whitespace, signs, rounding, special
// values), bad rows and constraints; a case wasql must refuse is in copyRefused.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

type copyCase struct {
	table, stmt, data string
}

var copyCases = []copyCase{
	// the text format
	{"a int, s text", "COPY t FROM STDIN", "1\tplain\n2\t\\N\n3\ttab\\there\n4\tback\\\\slash\n5\t\\101\\x42\\143\n6\t\n"},
	{"a int, s text", "COPY t FROM STDIN", "1\tline\\\nnext\n2\tcr\\r\n\\.\n3\tafter the end marker\n"},
	{"a int, s text", "COPY t FROM STDIN (DELIMITER '|', NULL 'nil')", "1|nil\n2|\\N\n3|a\\|b\n"},
	{"a int, s text", "COPY t FROM STDIN", "1\tx\n2\n"},
	{"a int, s text", "COPY t FROM STDIN", "1\tx\ty\n"},
	{"a int, s text", "COPY t FROM STDIN WITH (HEADER)", "a\ts\n1\tx\n"},
	{"a int, s text", "COPY t FROM STDIN", "1\t\xff\n"},
	// CSV
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv)", "1,\"a,b\"\n2,\"x\"\"y\"\n3,\"multi\nline\"\n4,\n5,\"\"\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, HEADER true)", "a,s\n1,x\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, HEADER match)", "a,s\n1,x\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, HEADER match)", "s,a\n1,x\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, FORCE_NULL (s))", "1,\"\"\n2,\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, FORCE_NOT_NULL (s))", "1,\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, QUOTE '''', ESCAPE '\\')", "1,'it\\'s'\n"},
	{"a int, s text", "COPY t FROM STDIN CSV DELIMITER ';' NULL 'NA'", "1;NA\n2;\"NA\"\n3;\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv)", "1,\"open\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv)", "1,x\n\\.\n2,y\n"},
	// types
	{"a int, b bigint, c smallint", "COPY t FROM STDIN", " 42 \t+7\t-3\n"},
	{"a int, b bigint, c smallint", "COPY t FROM STDIN", "2147483648\t1\t1\n"},
	{"a int, b bigint, c smallint", "COPY t FROM STDIN", "1\t1\t32768\n"},
	{"a int, b bigint, c smallint", "COPY t FROM STDIN", "1.5\t1\t1\n"},
	{"a int, b bigint, c smallint", "COPY t FROM STDIN", "\t1\t1\n"},
	{"a int, b bigint, c smallint", "COPY t FROM STDIN", "1\t9223372036854775808\t1\n"},
	{"a int, f boolean", "COPY t FROM STDIN", "1\tt\n2\tFALSE\n3\tyes\n4\toff\n5\t1\n6\t0\n7\t on \n"},
	{"a int, f boolean", "COPY t FROM STDIN", "1\tmaybe\n"},
	{"a int, d numeric(10,2)", "COPY t FROM STDIN", "1\t1.005\n2\t 7 \n3\t-0.004\n4\t1e3\n5\t12345678.9\n"},
	{"a int, d numeric(10,2)", "COPY t FROM STDIN", "1\t123456789012\n"},
	{"a int, d numeric(10,2)", "COPY t FROM STDIN", "1\tabc\n"},
	{"a int, x double precision", "COPY t FROM STDIN", "1\t1.5\n2\t-0\n3\t1e300\n4\t 2.25 \n"},
	{"a int, x double precision", "COPY t FROM STDIN", "1\tnope\n"},
	{"a int, ts timestamptz", "COPY t FROM STDIN", "1\t2024-05-02 10:00:00+02\n2\t2024-05-02 10:00:00\n3\t2024-05-02\n"},
	{"a int, ts timestamp", "COPY t FROM STDIN", "1\t2024-05-02 10:00:00.123456\n2\t2024-05-02\n"},
	{"a int, d date", "COPY t FROM STDIN", "1\t2024-05-02\n2\t2024-12-31\n"},
	{"a int, b bytea", "COPY t FROM STDIN", "1\t\\\\x4142\n2\t\\\\x\n3\tplain\n"},
	{"a int, v varchar(3)", "COPY t FROM STDIN", "1\tabc\n"},
	{"a int, v varchar(3)", "COPY t FROM STDIN", "1\tabcd\n"},
	{"a int, v varchar(3), c char(2)", "COPY t FROM STDIN", "1\tab   \tx \n2\tñéü\tñ\n"},
	{"a int, c char(2)", "COPY t FROM STDIN", "1\txyz\n"},
	{"a int, d numeric(4,1)", "COPY t FROM STDIN", "1\t999.94\n"},
	{"a int, d numeric(4,1)", "COPY t FROM STDIN", "1\t999.95\n"},
	{"a int, j json", "COPY t FROM STDIN", "1\t{\"k\": [1, 2]}\n"},
	// constraints, defaults, column lists
	{"a int PRIMARY KEY, s text", "COPY t FROM STDIN", "1\tx\n1\ty\n"},
	{"a int PRIMARY KEY, s text NOT NULL", "COPY t FROM STDIN", "1\t\\N\n"},
	{"a int, s text DEFAULT 'dflt', n int DEFAULT 7", "COPY t (a) FROM STDIN", "1\n2\n"},
	{"a int, s text", "COPY t (s, a) FROM STDIN", "x\t1\n"},
	{"a int, s text", "COPY t (a, nope) FROM STDIN", "1\t2\n"},
	{"a int, s text", "COPY t (a, a) FROM STDIN", "1\t2\n"},
	{"a int CHECK (a > 0), s text", "COPY t FROM STDIN", "1\tx\n-1\ty\n"},
	{"a int, s text", "COPY t FROM STDIN (FORMAT xml)", ""},
	{"a int, s text", "COPY t FROM STDIN (DELIMITER 'ab')", ""},
	{"a int, s text", "COPY t FROM STDIN (FORMAT csv, DELIMITER ',', QUOTE ',')", ""},
	{"a int, s text", "COPY t FROM STDIN (BOGUS 1)", ""},
}

// copyRefused are cases that wasql answers with 0A000 where PostgreSQL loads them.
var copyRefused = map[string]string{}

// copyDiffers are cases whose answer differs from PostgreSQL's for a reason that is not COPY's:
// the engine's, for every statement (docs/RATIONALE.md, "Postgres SQL"). A listed case that
// agrees fails the test, so that the list stays true.
var copyDiffers = map[string]string{
	"COPY t FROM STDIN \"1\\t1.5\\n2\\t-0\\n3\\t1e300\\n4\\t 2.25 \\n\"": "the engine keeps -0 as 0",
	"COPY t FROM STDIN \"1\\tab   \\tx \\n2\\tñéü\\tñ\\n\"":              "char(n) values come back without PostgreSQL's trailing blanks",
}

func TestCopyAgainstPostgres(t *testing.T) {
	want, got := postgresAndWasql(t, pgx.QueryExecModeCacheStatement) // pgx's default
	ctx := context.Background()
	agree := 0
	for i, c := range copyCases {
		w, g := copyAnswer(ctx, t, want, i, c), copyAnswer(ctx, t, got, i, c)
		key := c.stmt + " " + fmt.Sprintf("%q", c.data)
		if why, refused := copyRefused[key]; refused {
			if !strings.HasPrefix(g, "ERROR 0A000") {
				t.Errorf("%s with %q\n  wasql must refuse it (%s): %s", c.stmt, c.data, why, g)
			}
			continue
		}
		if why, listed := copyDiffers[key]; listed {
			if w == g {
				t.Errorf("%s with %q agrees with PostgreSQL now: delete it from copyDiffers", c.stmt, c.data)
			} else {
				t.Logf("%s with %q differs, as listed (%s)\n  postgres: %s\n  wasql:    %s", c.stmt, c.data, why, w, g)
			}
			continue
		}
		if w != g {
			t.Errorf("table (%s), %s with %q\n  postgres: %s\n  wasql:    %s", c.table, c.stmt, c.data, w, g)
			continue
		}
		agree++
	}
	t.Logf("TestCopyAgainstPostgres: %d of %d cases agree with PostgreSQL 15, %d differ as listed", agree, len(copyCases), len(copyDiffers))
}

// copyAnswer makes case i's table, runs its COPY and returns the tag or the error's SQLSTATE,
// then the rows of the table.
func copyAnswer(ctx context.Context, t *testing.T, c *pgx.Conn, i int, cc copyCase) string {
	t.Helper()
	table := fmt.Sprintf("copy_case_%d", i)
	if _, err := c.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", table, cc.table)); err != nil {
		t.Fatalf("CREATE TABLE %s (%s): %v", table, cc.table, err)
	}
	stmt := strings.Replace(cc.stmt, "COPY t", "COPY "+table, 1)
	tag, err := c.PgConn().CopyFrom(ctx, strings.NewReader(cc.data), stmt)
	out := tag.String()
	if err != nil {
		out = "ERROR " + err.Error()
		if pe, ok := err.(*pgconn.PgError); ok {
			out = "ERROR " + pe.Code
		}
	}
	out += " / " + answer(ctx, c, "SELECT * FROM "+table+" ORDER BY 1", false)
	if err == nil { // and back out, in each format
		for _, opts := range []string{"", "(FORMAT csv, HEADER)", "(FORMAT csv, FORCE_QUOTE *, NULL 'N')", "(DELIMITER '|', NULL '')", "(FORMAT binary)"} {
			var b strings.Builder
			_, err := c.PgConn().CopyTo(ctx, &b, fmt.Sprintf("COPY (SELECT * FROM %s ORDER BY 1) TO STDOUT %s", table, opts))
			if err != nil {
				out += fmt.Sprintf(" / TO %s: %v", opts, err)
				continue
			}
			out += fmt.Sprintf(" / TO %s: %q", opts, b.String())
		}
	}
	return out
}
