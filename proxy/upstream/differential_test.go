// Differential corpus (issue 11, item 6): every statement in testdata/differential/*.sql runs
// through the proxy, where its functions are wasm, and straight against PostgreSQL, where
// schema twin holds an exact SQL or PL/pgSQL twin of each under the same name, and the two
// answers must be the same, through the simple protocol, the extended protocol with text results
// and again with binary results.
package upstream

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// diffFunc is one wasm function of the corpus and its twin.
type diffFunc struct {
	sig    string // name(types) RETURNS type [volatility, null handling] as CREATE FUNCTION takes it
	module string // path of the module, from this package's directory
	export string
	twin   string // the twin's CREATE FUNCTION in schema twin, same name and types
}

// diffFuncs are the functions the corpus calls. Each twin gives the same answer as its guest for
// every input the corpus passes (the guests wrap on integer overflow where PostgreSQL raises
// 22003, and fib loops for ages on a negative argument: the corpus passes neither).
var diffFuncs = []diffFunc{
	{`plus(bigint, bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/numeric.wasm", "add",
		`CREATE FUNCTION twin.plus(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + $2'`},
	{`vplus(bigint, bigint) RETURNS bigint LANGUAGE wasm VOLATILE STRICT`, "../../udf/testdata/numeric.wasm", "add",
		`CREATE FUNCTION twin.vplus(bigint, bigint) RETURNS bigint LANGUAGE sql VOLATILE STRICT AS 'SELECT $1 + $2'`},
	{`add(bigint, bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/guests/c_funcs.wasm", "add",
		`CREATE FUNCTION twin.add(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + $2'`},
	{`mul(bigint, bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/guests/c_funcs.wasm", "mul",
		`CREATE FUNCTION twin.mul(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * $2'`},
	// The C guest lowercases ASCII only and treats every byte >= 0x80 as a separator: lower()
	// under the C collation does the same, where C.UTF-8's would also map K (U+212A) to k.
	{`slugify(text) RETURNS text LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/guests/c_funcs.wasm", "slugify",
		`CREATE FUNCTION twin.slugify(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN RETURN trim(both '-' from regexp_replace(lower(s COLLATE "C"), '[^a-z0-9]+', '-', 'g')); END $$`},
	{`must_be_ascii(text) RETURNS text LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/guests/c_funcs.wasm", "must_be_ascii",
		`CREATE FUNCTION twin.must_be_ascii(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  IF octet_length(s) <> length(s) THEN
    RAISE EXCEPTION 'must_be_ascii: non-ASCII input' USING ERRCODE = '38000';
  END IF;
  RETURN s;
END $$`},
	{`nvl_len(text) RETURNS integer LANGUAGE wasm IMMUTABLE CALLED ON NULL INPUT`, "../../udf/testdata/guests/c_funcs.wasm", "nvl_len",
		`CREATE FUNCTION twin.nvl_len(text) RETURNS integer LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT AS
'SELECT CASE WHEN $1 IS NULL THEN -1 ELSE octet_length($1) END'`},
	{`echo_bytes(bytea) RETURNS bytea LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/guests/go_funcs.wasm", "echo_bytes",
		`CREATE FUNCTION twin.echo_bytes(bytea) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1'`},
	{`is_null(bigint) RETURNS boolean LANGUAGE wasm IMMUTABLE CALLED ON NULL INPUT`, "../../udf/testdata/guests/go_funcs.wasm", "is_null",
		`CREATE FUNCTION twin.is_null(bigint) RETURNS boolean LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT AS 'SELECT $1 IS NULL'`},
	{`fib(bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/fib.wasm", "fib_iter",
		`CREATE FUNCTION twin.fib(n bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE a bigint := 0; b bigint := 1; t bigint;
BEGIN
  FOR i IN 1..n LOOP t := a + b; a := b; b := t; END LOOP;
  RETURN a;
END $$`},
	{`twice(integer) RETURNS integer LANGUAGE wasm IMMUTABLE STRICT`, "../../sqlfuncs/testdata/twice.wasm", "twice_int",
		`CREATE FUNCTION twin.twice(integer) RETURNS integer LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * 2'`},
	{`twice(double precision) RETURNS double precision LANGUAGE wasm IMMUTABLE STRICT`, "../../sqlfuncs/testdata/twice.wasm", "twice_double",
		`CREATE FUNCTION twin.twice(double precision) RETURNS double precision LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * 2::float8'`},
	{`halff(real) RETURNS real LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/numeric.wasm", "halff",
		`CREATE FUNCTION twin.halff(real) RETURNS real LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 * 0.5::float4'`},
	{`negate(boolean) RETURNS boolean LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/numeric.wasm", "not",
		`CREATE FUNCTION twin.negate(boolean) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT AS 'SELECT NOT $1'`},
	{`next_day(date) RETURNS date LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/numeric.wasm", "next_day",
		`CREATE FUNCTION twin.next_day(date) RETURNS date LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + 1'`},
	{`plus_hour(timestamp) RETURNS timestamp LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/numeric.wasm", "plus_hour",
		`CREATE FUNCTION twin.plus_hour(timestamp) RETURNS timestamp LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + interval ''1 hour'''`},
	{`kilo(smallint) RETURNS smallint LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/numeric.wasm", "kilo",
		`CREATE FUNCTION twin.kilo(smallint) RETURNS smallint LANGUAGE sql IMMUTABLE STRICT AS 'SELECT ($1 * 1000)::smallint'`},
	// The C guest's must_be_ascii passes any variable-width type through: here json.
	{`json_ascii(json) RETURNS json LANGUAGE wasm IMMUTABLE STRICT`, "../../udf/testdata/guests/c_funcs.wasm", "must_be_ascii",
		`CREATE FUNCTION twin.json_ascii(j json) RETURNS json LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  IF octet_length(j::text) <> length(j::text) THEN
    RAISE EXCEPTION 'json_ascii: non-ASCII input' USING ERRCODE = '38000';
  END IF;
  RETURN j;
END $$`},
	{`hyp(double precision, double precision) RETURNS double precision LANGUAGE wasm IMMUTABLE STRICT`, "testdata/diff_funcs.wasm", "hyp",
		`CREATE FUNCTION twin.hyp(double precision, double precision) RETURNS double precision LANGUAGE sql IMMUTABLE STRICT AS 'SELECT sqrt($1 * $1 + $2 * $2)'`},
	{`is_even(bigint) RETURNS boolean LANGUAGE wasm IMMUTABLE STRICT`, "testdata/diff_funcs.wasm", "is_even",
		`CREATE FUNCTION twin.is_even(bigint) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 % 2 = 0'`},
	{`days_between(date, date) RETURNS integer LANGUAGE wasm IMMUTABLE STRICT`, "testdata/diff_funcs.wasm", "days_between",
		`CREATE FUNCTION twin.days_between(date, date) RETURNS integer LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 - $2'`},
}

// diffData is the corpus's data, created straight in PostgreSQL after the twins (u2's labels
// are slugs made by twin.slugify). t has NULLs in every column, duplicates, non-ASCII text and
// the float specials; a is never negative (fib).
const diffData = `
CREATE TABLE t (id int PRIMARY KEY, a bigint, b bigint, s text, x double precision, d date, n numeric,
  ts timestamptz, u uuid, j jsonb, arr int[], iv interval);
INSERT INTO t
SELECT i,
  CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 37) % 61 END,
  CASE WHEN i % 19 = 0 THEN NULL ELSE i % 10 - 4 END,
  CASE WHEN i % 23 = 0 THEN NULL
    ELSE (ARRAY['Hello, World!', '  spaces  around  ', 'a--b__c', 'MiXeD Case 42', 'Ünïcödé façade',
      '日本語 text', 'x', 'snake_case_name', 'CamelCaseName', E'tab\there', '', '---', 'ALL CAPS',
      'Héllo Wörld', 'plain ascii'])[i % 15 + 1] || CASE WHEN i % 3 = 0 THEN '' ELSE ' ' || (i % 7) END
  END,
  CASE WHEN i % 29 = 0 THEN NULL WHEN i % 2 = 0 THEN (i - 100) * 0.25 ELSE i / 7.0::float8 END,
  CASE WHEN i % 31 = 0 THEN NULL ELSE date '2024-01-01' + ((i * 13) % 400 - 200) END,
  CASE WHEN i % 37 = 0 THEN NULL ELSE i * 1.5 - 10 END,
  CASE WHEN i % 41 = 0 THEN NULL ELSE timestamptz '2024-03-10 12:00:00+00' + i * interval '7 hours 13 minutes' END,
  CASE WHEN i % 43 = 0 THEN NULL ELSE md5(i::text)::uuid END,
  CASE WHEN i % 47 = 0 THEN NULL ELSE jsonb_build_object('k', i % 4, 'tag', CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END) END,
  CASE WHEN i % 53 = 0 THEN NULL ELSE ARRAY[i, i % 5, NULL] END,
  CASE WHEN i % 59 = 0 THEN NULL ELSE make_interval(days => i % 9, hours => i % 5) END
FROM generate_series(1, 200) i;
INSERT INTO t (id, a, b, s, x, d, n) VALUES
  (201, 0, 0, '🎉 party 🎉', 'NaN', '1970-01-01', 0),
  (202, 1, 1, 'K is kelvin', 'Infinity', '1969-12-31', -1.5),
  (203, 2, -1, 'İstanbul', '-Infinity', '2000-01-01', 1e20),
  (204, 60, 5, '-leading and trailing-', '-0', '2000-02-29', 123456789.123456789),
  (205, 60, 5, '-leading and trailing-', 1e300, '1900-02-28', 0.000001),
  (206, 3, 2, 'x', 5e-324, '2099-12-31', NULL),
  (207, NULL, NULL, NULL, NULL, NULL, NULL),
  (208, 5, 5, 'eight', '-0', '2024-01-01', 0);
CREATE INDEX t_b ON t (b);
CREATE TABLE u2 (id int PRIMARY KEY, t_id int, label text);
INSERT INTO u2 SELECT i, (i * 7) % 230,
  CASE WHEN i % 11 = 0 THEN NULL WHEN i % 3 = 0 THEN 'no-such-slug-' || i
    ELSE twin.slugify((SELECT s FROM t WHERE t.id = (i * 5) % 207 + 1)) END
FROM generate_series(1, 150) i;
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE tci (id int PRIMARY KEY, s text COLLATE ci);
INSERT INTO tci VALUES (1, 'Hello World'), (2, 'hello world'), (3, 'HELLO WORLD'), (4, 'Straße'),
  (5, 'STRASSE'), (6, NULL), (7, 'e'), (8, 'E'), (9, 'é');
CREATE TABLE te (id int PRIMARY KEY, s text, bb bytea);
INSERT INTO te VALUES (1, '', ''), (2, NULL, NULL), (3, 'a', '\x61'), (4, '', '\x'), (5, ' ', '\x00');
CREATE TABLE w (id int, v bigint, s text, y double precision);
INSERT INTO w VALUES (1, 10, 'One', 1.5), (2, NULL, 'Two Words', NULL), (3, 30, NULL, -2.25);
ANALYZE t; ANALYZE u2; ANALYZE w; ANALYZE te; ANALYZE tci;
`

// diffStmt is one statement of the corpus.
type diffStmt struct {
	Name   string    // unique across the corpus
	Where  string    // file:line of its "-- name:" line
	SQL    string    // the statement, without its final semicolon
	Params []*string // -- params: a JSON array of strings and nulls, for $1, $2, ...
	Check  string    // -- check: a query run after the statement in the same transaction
	Expect string    // -- expect: 0A000 <reason>: the proxy is known to refuse it
	// Session is "-- session: SET name = value", run before the statement on both sides and
	// undone by RESET name after it: the settings that change how values are written.
	Session string
}

// loadCorpus reads the statements of testdata/differential/*.sql. A statement starts at a line
// "-- name: NAME"; "-- params:", "-- check:" and "-- expect:" lines after it set its fields, other
// comment lines are ignored, and the rest is its text.
func loadCorpus(t *testing.T) []diffStmt {
	t.Helper()
	files, err := filepath.Glob("testdata/differential/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var out []diffStmt
	seen := map[string]string{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		var cur *diffStmt
		var text []string
		flush := func() {
			if cur == nil {
				return
			}
			cur.SQL = strings.TrimSuffix(strings.TrimSpace(strings.Join(text, "\n")), ";")
			if cur.SQL == "" {
				t.Fatalf("%s: %s has no statement", cur.Where, cur.Name)
			}
			if writes.MatchString(cur.SQL) && cur.Check == "" {
				t.Fatalf("%s: %s writes, so it needs a check (it runs in a transaction rolled back after it)", cur.Where, cur.Name)
			}
			out = append(out, *cur)
			cur, text = nil, nil
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			l := sc.Text()
			trimmed := strings.TrimSpace(l)
			key, val, isDirective := strings.Cut(strings.TrimPrefix(trimmed, "-- "), ":")
			isDirective = isDirective && strings.HasPrefix(trimmed, "-- ")
			val = strings.TrimSpace(val)
			where := fmt.Sprintf("%s:%d", file, line)
			switch {
			case isDirective && key == "name":
				flush()
				if prev, ok := seen[val]; ok {
					t.Fatalf("%s: statement %s is already at %s", where, val, prev)
				}
				seen[val] = where
				cur = &diffStmt{Name: val, Where: where}
			case cur != nil && isDirective && key == "params":
				if err := json.Unmarshal([]byte(val), &cur.Params); err != nil {
					t.Fatalf("%s: params: %v", where, err)
				}
			case cur != nil && isDirective && key == "check":
				cur.Check = val
			case cur != nil && isDirective && key == "session":
				if f := strings.Fields(val); len(f) < 2 || !strings.EqualFold(f[0], "SET") || strings.EqualFold(f[1], "search_path") {
					t.Fatalf("%s: session must be a SET of anything but search_path, got %q", where, val)
				}
				cur.Session = val
			case cur != nil && isDirective && key == "expect":
				if !strings.HasPrefix(val, "0A000 ") {
					t.Fatalf("%s: expect must be 0A000 and a reason, got %q", where, val)
				}
				cur.Expect = strings.TrimPrefix(val, "0A000 ")
			case strings.HasPrefix(trimmed, "--"):
			case cur != nil:
				text = append(text, l)
			case trimmed != "":
				t.Fatalf("%s: text outside a statement", where)
			}
		}
		flush()
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// diffMode is one way of sending a statement.
type diffMode int

const (
	modeSimple   diffMode = iota // Query, parameters spliced in as quoted literals
	modeExtended                 // Parse/Describe, then Bind/Execute with text results
	modeBinary                   // Parse/Bind/Execute with binary results, raw bytes compared
)

func (m diffMode) String() string { return [...]string{"simple", "extended", "binary"}[m] }

// diffAnswer is what a side answered, in a form two answers are compared in.
type diffAnswer struct {
	Code   string   // the SQLSTATE of the error, "" when the statement succeeded
	Msg    string   // the error's message (shown, not compared)
	Params []uint32 // extended: the parameter types Describe answered
	Cols   []string // name:type OID of each column
	Rows   []string // each row rendered; sorted unless the statement orders them
	Tag    string
	After  []string // rows of the check query, in its own order
}

// same reports whether a and b are the same answer: equal SQLSTATEs when both failed, every
// field equal otherwise.
func (a diffAnswer) same(b diffAnswer) bool {
	if a.Code == noSQLState || b.Code == noSQLState {
		return false // a harness or connection failure is never an answer
	}
	if a.Code != "" || b.Code != "" {
		return a.Code == b.Code
	}
	return a.String() == b.String()
}

func (a diffAnswer) String() string {
	if a.Code != "" {
		return "ERROR " + a.Code + ": " + a.Msg
	}
	var b strings.Builder
	if a.Params != nil {
		fmt.Fprintf(&b, "params %v; ", a.Params)
	}
	fmt.Fprintf(&b, "cols %v; tag %q; %d rows", a.Cols, a.Tag, len(a.Rows))
	for _, r := range a.Rows {
		b.WriteString("\n    " + r)
	}
	if a.After != nil {
		fmt.Fprintf(&b, "\n  after: %d rows", len(a.After))
		for _, r := range a.After {
			b.WriteString("\n    " + r)
		}
	}
	return b.String()
}

// mismatch describes how got (the proxy's answer) differs from want (PostgreSQL's): both
// answers in full when either failed, else the parts that differ, with at most 10 rows of each
// side's difference (by position when ordered, as multisets otherwise).
func mismatch(got, want diffAnswer, ordered bool) string {
	if got.Code != "" || want.Code != "" {
		return "  proxy:  " + clip(got.String()) + "\n  direct: " + clip(want.String())
	}
	var b strings.Builder
	if fmt.Sprint(got.Params) != fmt.Sprint(want.Params) {
		fmt.Fprintf(&b, "  parameter types: proxy %v, direct %v\n", got.Params, want.Params)
	}
	if fmt.Sprint(got.Cols) != fmt.Sprint(want.Cols) {
		fmt.Fprintf(&b, "  columns: proxy %v, direct %v\n", got.Cols, want.Cols)
	}
	if got.Tag != want.Tag {
		fmt.Fprintf(&b, "  tag: proxy %q, direct %q\n", got.Tag, want.Tag)
	}
	rowDiff(&b, "rows", got.Rows, want.Rows, ordered)
	rowDiff(&b, "after the statement, rows", got.After, want.After, true)
	return strings.TrimSuffix(b.String(), "\n")
}

// rowDiff writes the differences between two lists of rendered rows.
func rowDiff(b *strings.Builder, what string, got, want []string, ordered bool) {
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	fmt.Fprintf(b, "  %s: proxy %d, direct %d\n", what, len(got), len(want))
	const most = 10
	if ordered {
		shown := 0
		for i := 0; i < len(got) || i < len(want); i++ {
			g, w := "(none)", "(none)"
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w && shown < most {
				fmt.Fprintf(b, "    row %d: proxy %s\n           direct %s\n", i+1, g, w)
				shown++
			}
		}
		return
	}
	count := map[string]int{}
	for _, r := range want {
		count[r]++
	}
	var onlyGot, onlyWant []string
	for _, r := range got {
		if count[r] > 0 {
			count[r]--
		} else {
			onlyGot = append(onlyGot, r)
		}
	}
	for _, r := range want {
		if count[r] > 0 {
			count[r]--
			onlyWant = append(onlyWant, r)
		}
	}
	for _, side := range []struct {
		name string
		rows []string
	}{{"only from the proxy", onlyGot}, {"only from PostgreSQL", onlyWant}} {
		if len(side.rows) > 0 {
			fmt.Fprintf(b, "    %s (%d):", side.name, len(side.rows))
			for i, r := range side.rows {
				if i == most {
					b.WriteString(" ...")
					break
				}
				b.WriteString(" " + r)
			}
			b.WriteString("\n")
		}
	}
}

// clip cuts an answer to its first lines.
func clip(s string) string {
	lines := strings.SplitN(s, "\n", 12)
	if len(lines) == 12 {
		lines[11] = "    ..."
	}
	return strings.Join(lines, "\n")
}

// diffSide is one end of the comparison: a connection, and what a fresh one is set up with.
type diffSide struct {
	name  string
	url   string
	setup string
	c     *pgconn.PgConn
}

func (s *diffSide) conn(ctx context.Context) (*pgconn.PgConn, error) {
	if s.c != nil && !s.c.IsClosed() {
		return s.c, nil
	}
	c, err := pgconn.Connect(ctx, s.url)
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", s.name, err)
	}
	if s.setup != "" {
		if _, err := c.Exec(ctx, s.setup).ReadAll(); err != nil {
			c.Close(ctx)
			return nil, fmt.Errorf("%s: %s: %w", s.name, s.setup, err)
		}
	}
	s.c = c
	return c, nil
}

func (s *diffSide) close() {
	if s.c != nil {
		s.c.Close(context.Background())
	}
}

// run sends st in mode and collects the answer. A statement with a check runs inside
// BEGIN ... ROLLBACK, so that every side starts from the same data.
func (s *diffSide) run(st diffStmt, mode diffMode) diffAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := s.conn(ctx)
	if err != nil {
		return errAnswer(err)
	}
	defer func() {
		if !c.IsClosed() && c.TxStatus() != 'I' {
			c.Exec(ctx, "ROLLBACK").ReadAll()
		}
	}()
	if st.Session != "" {
		if _, err := c.Exec(ctx, st.Session).ReadAll(); err != nil {
			return errAnswer(err)
		}
		defer func() {
			if !c.IsClosed() {
				c.Exec(ctx, "RESET "+strings.Fields(st.Session)[1]).ReadAll()
			}
		}()
	}
	if st.Check != "" {
		if _, err := c.Exec(ctx, "BEGIN").ReadAll(); err != nil {
			return errAnswer(err)
		}
	}
	a, err := s.send(ctx, c, st, mode)
	if err != nil {
		a = errAnswer(err)
		if st.Check != "" {
			// The transaction is aborted now, on both sides alike: what the next statement gets.
			if _, err := c.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
				a.Code += ", then " + errAnswer(err).Code
			} else {
				a.Code += ", then no error"
			}
		}
		return a
	}
	if !orderedStmt(st.SQL) {
		sort.Strings(a.Rows)
	}
	if st.Check != "" {
		rs, err := c.Exec(ctx, st.Check).ReadAll()
		if err != nil {
			return errAnswer(fmt.Errorf("check: %w", err))
		}
		a.After = []string{}
		for _, r := range rs {
			for _, row := range r.Rows {
				a.After = append(a.After, renderRow(row, false))
			}
		}
	}
	return a
}

// send sends st in mode on c and reads its answer.
func (s *diffSide) send(ctx context.Context, c *pgconn.PgConn, st diffStmt, mode diffMode) (diffAnswer, error) {
	var a diffAnswer
	params := make([][]byte, len(st.Params))
	for i, p := range st.Params {
		if p != nil {
			params[i] = []byte(*p)
		}
	}
	switch mode {
	case modeSimple:
		mrr := c.Exec(ctx, spliceParams(st.SQL, st.Params))
		var rs []*pgconn.Result
		for mrr.NextResult() {
			rs = append(rs, readResult(mrr.ResultReader()))
		}
		if err := mrr.Close(); err != nil {
			return a, err
		}
		if len(rs) == 1 {
			a = resultAnswer(rs[0].FieldDescriptions, rs[0].Rows, rs[0].CommandTag, false)
			break
		}
		// Several statements in one Query: each result's columns, tag and rows, numbered.
		a = diffAnswer{Rows: []string{}}
		var tags []string
		for i, r := range rs {
			one := resultAnswer(r.FieldDescriptions, r.Rows, r.CommandTag, false)
			a.Cols = append(a.Cols, fmt.Sprintf("%d:", i+1))
			a.Cols = append(a.Cols, one.Cols...)
			tags = append(tags, one.Tag)
			for _, row := range one.Rows {
				a.Rows = append(a.Rows, fmt.Sprintf("%d:%s", i+1, row))
			}
		}
		a.Tag = strings.Join(tags, "; ")
	case modeExtended:
		sd, err := c.Prepare(ctx, "", st.SQL, nil)
		if err != nil {
			return a, err
		}
		r := readResult(c.ExecPrepared(ctx, "", params, nil, nil))
		if r.Err != nil {
			return a, r.Err
		}
		a = resultAnswer(r.FieldDescriptions, r.Rows, r.CommandTag, false)
		a.Params = append([]uint32{}, sd.ParamOIDs...)
		if d := fieldNames(sd.Fields); strings.Join(d, ",") != strings.Join(a.Cols, ",") {
			a.Cols = append(a.Cols, "(Describe: "+strings.Join(d, ",")+")")
		}
	case modeBinary:
		r := readResult(c.ExecParams(ctx, st.SQL, params, nil, nil, []int16{1}))
		if r.Err != nil {
			return a, r.Err
		}
		a = resultAnswer(r.FieldDescriptions, r.Rows, r.CommandTag, true)
	}
	return a, nil
}

// readResult is ResultReader.Read, except that it keeps the columns of a result without rows.
func readResult(rr *pgconn.ResultReader) *pgconn.Result {
	r := &pgconn.Result{}
	for rr.NextRow() {
		row := make([][]byte, len(rr.Values()))
		for i, v := range rr.Values() {
			if v != nil {
				row[i] = append([]byte{}, v...)
			}
		}
		r.Rows = append(r.Rows, row)
	}
	r.FieldDescriptions = append([]pgconn.FieldDescription{}, rr.FieldDescriptions()...)
	r.CommandTag, r.Err = rr.Close()
	return r
}

// noSQLState is the code of an error that did not come from a server.
const noSQLState = "no SQLSTATE"

func errAnswer(err error) diffAnswer {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return diffAnswer{Code: pgErr.Code, Msg: pgErr.Message}
	}
	return diffAnswer{Code: noSQLState, Msg: err.Error()}
}

func fieldNames(fds []pgconn.FieldDescription) []string {
	cols := make([]string, len(fds))
	for i, fd := range fds {
		cols[i] = fd.Name + ":" + strconv.FormatUint(uint64(fd.DataTypeOID), 10)
	}
	return cols
}

func resultAnswer(fds []pgconn.FieldDescription, rows [][][]byte, tag pgconn.CommandTag, binary bool) diffAnswer {
	a := diffAnswer{Cols: fieldNames(fds), Tag: tag.String(), Rows: []string{}}
	for _, row := range rows {
		a.Rows = append(a.Rows, renderRow(row, binary))
	}
	return a
}

// renderRow writes a row's values quoted (text) or in hex (binary), NULL as NULL.
func renderRow(row [][]byte, binary bool) string {
	vals := make([]string, len(row))
	for i, v := range row {
		switch {
		case v == nil:
			vals[i] = "NULL"
		case binary:
			vals[i] = fmt.Sprintf("x%x", v)
		default:
			vals[i] = strconv.Quote(string(v))
		}
	}
	return "(" + strings.Join(vals, ", ") + ")"
}

// writes matches the statements that change data.
var writes = regexp.MustCompile(`(?i)\b(INSERT|UPDATE|DELETE|MERGE)\b`)

var paramRef = regexp.MustCompile(`\$([0-9]+)`)

// spliceParams puts the parameters into sql as quoted literals (of type unknown, as a parameter
// of unspecified type is) for the simple protocol. The corpus keeps $n out of its string literals.
func spliceParams(sql string, params []*string) string {
	if len(params) == 0 {
		return sql
	}
	return paramRef.ReplaceAllStringFunc(sql, func(m string) string {
		i, _ := strconv.Atoi(m[1:])
		if i < 1 || i > len(params) {
			return m
		}
		if params[i-1] == nil {
			return "NULL"
		}
		return "'" + strings.ReplaceAll(*params[i-1], "'", "''") + "'"
	})
}

// orderedStmt reports whether sql has an ORDER BY outside parentheses (so not a window's, nor a
// subquery's): then its rows are compared in order, else as a sorted multiset. The corpus orders
// by a key that is unique, or by every column.
func orderedStmt(sql string) bool {
	depth := 0
	up := strings.ToUpper(sql)
	quoted := false
	for i := 0; i < len(up); i++ {
		switch c := up[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(up[i:], "ORDER BY"):
			// A DML statement's RETURNING rows have no order even after an ORDER BY of a subquery;
			// only a top-level ORDER BY counts, which this is.
			return true
		}
	}
	return false
}

// setupDiffEnv creates the twins and the data straight in PostgreSQL and the wasm functions
// through the proxy.
func setupDiffEnv(t *testing.T, e *wasmEnv) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	direct, err := pgconn.Connect(ctx, e.Direct)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(ctx)
	if _, err := direct.Exec(ctx, "CREATE SCHEMA twin").ReadAll(); err != nil {
		t.Fatal(err)
	}
	for _, f := range diffFuncs {
		if _, err := direct.Exec(ctx, f.twin).ReadAll(); err != nil {
			t.Fatalf("twin of %s: %v", f.sig, err)
		}
	}
	if _, err := direct.Exec(ctx, diffData).ReadAll(); err != nil {
		t.Fatalf("data: %v", err)
	}
	proxied, err := pgconn.Connect(ctx, e.Proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer proxied.Close(ctx)
	for _, f := range diffFuncs {
		mod, err := os.ReadFile(f.module)
		if err != nil {
			t.Fatal(err)
		}
		sql := "CREATE FUNCTION " + f.sig + " AS $1, '" + f.export + "'"
		r := proxied.ExecParams(ctx, sql, [][]byte{mod}, []uint32{17}, []int16{1}, nil).Read()
		if r.Err != nil || r.CommandTag.String() != "CREATE FUNCTION" {
			t.Fatalf("%s: %v %q", sql, r.Err, r.CommandTag)
		}
	}
}

// TestDifferential runs the corpus through the proxy and straight against PostgreSQL with the
// twins, in the three modes, and reports every statement whose answers differ. With
// WASQL_DIFF_SELF=1 the "proxy" side is a second direct connection: a check of the harness and
// the corpus (every statement must then pass, and none is refused).
func TestDifferential(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 230 {
		t.Errorf("the corpus has %d statements, want at least 230", len(corpus))
	}
	e := newWasmEnv(t, true)
	setupDiffEnv(t, e)
	self := os.Getenv("WASQL_DIFF_SELF") == "1"
	const twins = "SET search_path = twin, public"
	direct := &diffSide{name: "direct", url: e.Direct, setup: twins}
	proxied := &diffSide{name: "proxy", url: e.Proxy}
	if self {
		proxied = &diffSide{name: "direct again", url: e.Direct, setup: twins}
	}
	defer direct.close()
	defer proxied.close()
	// A write that escaped its transaction would change what every later statement sees: the
	// tables' fingerprint is checked after each statement with a check.
	fp := &diffSide{name: "fingerprint", url: e.Direct}
	defer fp.close()
	const fingerprint = `SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM t),
	  (SELECT md5(string_agg(u2::text, ',' ORDER BY id)) FROM u2), (SELECT md5(string_agg(w::text, ',' ORDER BY id)) FROM w)`
	before := fp.run(diffStmt{SQL: fingerprint}, modeSimple)
	// WASQL_DIFF_DUMP=file writes PostgreSQL's answers there, to read the corpus by.
	var dump *os.File
	if path := os.Getenv("WASQL_DIFF_DUMP"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dump = f
	}
	// WASQL_DIFF_RUN=regexp runs only the statements whose names match.
	var only *regexp.Regexp
	if re := os.Getenv("WASQL_DIFF_RUN"); re != "" {
		only = regexp.MustCompile(re)
	}
	for _, mode := range []diffMode{modeSimple, modeExtended, modeBinary} {
		pass, refused, ran := 0, 0, 0
		for _, st := range corpus {
			if only != nil && !only.MatchString(st.Name) {
				continue
			}
			ran++
			want := direct.run(st, mode)
			if dump != nil {
				fmt.Fprintf(dump, "== %s [%s]\n%s\n", st.Name, mode, want)
			}
			got := proxied.run(st, mode)
			if st.Check != "" {
				if after := fp.run(diffStmt{SQL: fingerprint}, modeSimple); after.String() != before.String() {
					t.Fatalf("%s [%s]: the data changed outside the statement's transaction:\n  before: %s\n  after:  %s", st.Name, mode, before, after)
				}
			}
			switch {
			case st.Expect != "" && !self:
				if want.Code != "" {
					t.Errorf("%s [%s] %s: expected 0A000 in the proxy, but PostgreSQL fails it too: %s", st.Name, mode, st.Where, want)
				} else if got.Code != "0A000" && !strings.HasPrefix(got.Code, "0A000, ") {
					t.Errorf("%s [%s] %s: expected 0A000 in the proxy (%s), got:\n  proxy:  %s\n  direct: %s", st.Name, mode, st.Where, st.Expect, got, want)
				} else {
					refused++
				}
			case want.same(got):
				pass++
			default:
				t.Errorf("%s [%s] %s:\n%s\n%s", st.Name, mode, st.Where, st.SQL, mismatch(got, want, orderedStmt(st.SQL)))
			}
		}
		t.Logf("%s protocol: %d of %d statements the same, %d refused as expected", mode, pass, ran, refused)
	}
}
