//go:build integration

package integration

// TestPGDialectSemantics extends TestPGDialect (same PostgreSQL 15, same comparison of what a
// client sees) to the cases of issue 9: LIKE/ILIKE escapes, = ANY/<> ALL of an array parameter,
// format(), words MySQL reserves used as names, RETURNING errors and transaction blocks; then
// (issue 14) transactions that write, ALTER TABLE, a text index, CHECK and foreign keys. Each statement runs through the simple protocol, and, when it only
// reads, through the extended one; a statement with parameters runs with them interpolated by
// pgx (simple), typed by the server's Describe (pgx's exec mode), untyped in text, typed in
// text and typed in binary. A case that wasql must refuse (0A000) is listed in
// pgSemanticsRefused; the test logs how many agree, are refused, and differ.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgCase is a statement and its parameters, as Go values pgx sends: int64, string, []int64,
// []string, nil.
type pgCase struct {
	q     string
	args  []any
	modes []string // for a statement that writes: the one way it is sent (default: simple)
}

// pgSemanticsSetup runs on each side before the cases: the wasm function on wasql, an SQL
// function of the same name and result on PostgreSQL.
var pgSemanticsSetup = []string{
	"CREATE TABLE items (id int PRIMARY KEY, name text, qty bigint)",
	`INSERT INTO items VALUES (1, 'orders_x', 5), (2, 'ordersyx', 7), (3, 'a%b', NULL), (4, 'A\b', 1), (5, NULL, 2), (6, 'Orders_Z', 3)`,
	"CREATE TABLE key (add int PRIMARY KEY, change text, range int, rows int, show int)",
	"INSERT INTO key VALUES (1, 'x', 2, 3, 4), (2, 'y', 5, 6, 7)",
}

// pgSemanticsFunctions are created as wasm functions on wasql and as SQL functions on
// PostgreSQL: names MySQL reserves and Postgres does not.
var pgSemanticsFunctions = []string{"add", "key", "change", "range", "show", "option", "read", "index", "rows", "schemas"}

var pgSemanticsCases = []pgCase{
	// LIKE and ILIKE: the backslash escapes unless ESCAPE says otherwise.
	{q: `SELECT name FROM items WHERE name LIKE 'orders\_%' ORDER BY id`},
	{q: `SELECT name FROM items WHERE name NOT LIKE 'orders\_%' ORDER BY id`},
	{q: `SELECT name FROM items WHERE name ILIKE 'ORDERS\_%' ORDER BY id`},
	{q: `SELECT name FROM items WHERE name NOT ILIKE 'orders%' ORDER BY id`},
	{q: `SELECT name FROM items WHERE name LIKE 'a\%b'`},
	{q: `SELECT name FROM items WHERE name LIKE 'a!%b' ESCAPE '!'`},
	{q: `SELECT name FROM items WHERE name LIKE 'A\b' ESCAPE ''`},
	{q: `SELECT name FROM items WHERE name LIKE 'A\\b'`},
	{q: `SELECT name FROM items WHERE name LIKE 'A\b'`},
	{q: `SELECT 'abc' LIKE 'abc\'`},
	{q: `SELECT 'abc' LIKE 'a' ESCAPE 'xy'`},
	{q: `SELECT name LIKE NULL, NULL LIKE 'a', 'a' LIKE 'a' ESCAPE NULL FROM items WHERE id = 1`},
	{q: `SELECT 'héllo' ILIKE 'HÉ%', 'x' LIKE '_', '' LIKE '%', 'ab' LIKE 'a_c', 'a_c' LIKE 'a__', 'aXbXc' LIKE '%X%X%'`},
	{q: `SELECT id FROM items WHERE name LIKE '%' || 'x' ORDER BY id`},
	{q: `SELECT id FROM items WHERE id LIKE '1%'`},
	{q: `SELECT id FROM items WHERE id::text LIKE '1%' OR qty::text ILIKE '7' ORDER BY id`},
	{q: `SELECT name FROM items WHERE name LIKE $1 ORDER BY id`, args: []any{`orders\_%`}},
	{q: `SELECT name FROM items WHERE name ILIKE $1 ESCAPE $2 ORDER BY id`, args: []any{"ORDERS!_%", "!"}},
	{q: `SELECT name FROM items WHERE name NOT LIKE $1 ORDER BY id`, args: []any{"%s%"}},
	{q: `SELECT $1 LIKE $2`, args: []any{"ab", `ab\`}},
	// = ANY and <> ALL of an array.
	{q: "SELECT id FROM items WHERE id = ANY($1) ORDER BY id", args: []any{[]int64{1, 3}}},
	{q: "SELECT id FROM items WHERE id <> ALL($1) ORDER BY id", args: []any{[]int64{1, 3}}},
	{q: "SELECT id FROM items WHERE qty = ANY($1) ORDER BY id", args: []any{[]int64{5, 7, 9}}},
	{q: "SELECT id FROM items WHERE qty <> ALL($1) ORDER BY id", args: []any{[]int64{5}}},
	{q: "SELECT id FROM items WHERE name = ANY($1) ORDER BY id", args: []any{[]string{"orders_x", "a%b", "a b"}}},
	{q: "SELECT id FROM items WHERE id = ANY($1) ORDER BY id", args: []any{[]int64{}}},
	{q: "SELECT id FROM items WHERE id <> ALL($1) ORDER BY id", args: []any{[]int64{}}},
	{q: "SELECT id FROM items WHERE id = ANY('{2,4}') ORDER BY id"},
	{q: "SELECT id FROM items WHERE name = ANY('{\"A\\\\b\",x}') ORDER BY id"},
	{q: "SELECT id FROM items WHERE id = ANY($1) AND qty > $2 ORDER BY id", args: []any{[]int64{1, 2, 4}, int64(1)}},
	// format().
	{q: "SELECT format('%s-%s', 'a', 2), format('%I', 'Order'), format('%I', 'order'), format('%I', 'abc'), format('%L', 'O''Reilly')"},
	{q: "SELECT format('%L', NULL), format('%s', NULL), format('%%'), format('%2$s %1$s', 'a', 'b'), format('%s %s %1$s %s', 'a', 'b')"},
	{q: "SELECT format('%-5s|', 'ab'), format('%5s|', 'ab'), format(NULL), format('x'), format('%L', 'a\\b')"},
	{q: "SELECT format('%s', true), format('%s', 1.5::float8), format('%s', 42), format('%I', 'a b'), format('%I.%I', 'public', 'key')"},
	{q: "SELECT format('%s|%L|%s', date '2024-03-04', date '2024-03-04', timestamp '2024-03-04 05:06:07')"},
	{q: "SELECT format('%I', NULL)"},
	{q: "SELECT format('%s')"},
	{q: "SELECT format('%x', 1)"},
	{q: "SELECT format('%0$s', 1)"},
	{q: "SELECT format('%', 1)"},
	{q: "SELECT format('%s: %s', id, name) FROM items ORDER BY id"},
	{q: "SELECT format($1, $2)", args: []any{"%s!", "x"}},
	{q: "SELECT format('%*s|', 3, 'a')"},
	// Words MySQL reserves as names: tables, columns, aliases, functions.
	{q: "SELECT add, change AS index, range, rows, show FROM key ORDER BY add"},
	{q: "SELECT key.add, k.range AS schema FROM key JOIN key k ON k.add = key.add ORDER BY 1"},
	{q: "SELECT add(40, 2), key(1, 2), change(3, 4), range(5, 6), show(7, 8), option(9, 10), read(1, 1), index(2, 2), rows(3, 3), schemas(4, 4)"},
	{q: "SELECT add(add, range) AS key FROM key ORDER BY 1"},
	{q: "SELECT add($1, $2)", args: []any{int64(40), int64(2)}},
	{q: "UPDATE key SET range = range + 1 WHERE add = 1"},
	{q: "SELECT range FROM key WHERE add = 1"},
	// RETURNING errors.
	{q: "INSERT INTO nope VALUES (1) RETURNING *"},
	{q: "INSERT INTO nope VALUES (1) RETURNING id"},
	{q: "UPDATE nope SET a = 1 RETURNING *"},
	{q: "INSERT INTO items (id) VALUES (1) RETURNING *"},
	{q: "INSERT INTO items (id, name) VALUES (10, 'r') RETURNING id, name"},
	{q: "INSERT INTO items (id, name) VALUES (11, 's') RETURNING *"},
	{q: "UPDATE items SET qty = 1 WHERE id = 10 RETURNING *"},
	// Transaction blocks (Dolt's tables, the binary's default): ROLLBACK undoes writes and DDL,
	// COMMIT keeps them, a failed block keeps nothing.
	{q: "BEGIN; SELECT count(*) FROM items; COMMIT"},
	{q: "BEGIN"},
	{q: "SELECT count(*) FROM items"},
	{q: "COMMIT"},
	{q: "BEGIN; UPDATE items SET qty = 0; CREATE TABLE tx (id int); ROLLBACK"},
	{q: "ROLLBACK"},
	{q: "SELECT id, qty FROM items ORDER BY id"},
	{q: "SELECT count(*) FROM pg_class WHERE relname = 'tx'"},
	{q: "BEGIN"},
	{q: "INSERT INTO items (id) VALUES (99)"},
	{q: "ROLLBACK"},
	{q: "START TRANSACTION"},
	{q: "DELETE FROM items"},
	{q: "ROLLBACK"},
	{q: "BEGIN"},
	{q: "CREATE TABLE tx (id int)"},
	{q: "ROLLBACK"},
	// A block that failed: commands are ignored until its end, and COMMIT rolls it back.
	{q: "BEGIN"},
	{q: "SELECT 1 / 0"},
	{q: "SELECT 1"},
	{q: "COMMIT"},
	{q: "BEGIN"},
	{q: "SAVEPOINT a"},
	{q: "ROLLBACK"},
	{q: "BEGIN"},
	{q: "UPDATE items SET qty = 40 WHERE id = 1"},
	{q: "INSERT INTO items (id, name) VALUES (50, 'kept')"},
	{q: "CREATE TABLE kept (id bigint PRIMARY KEY)"},
	{q: "INSERT INTO kept VALUES (1)"},
	{q: "COMMIT"},
	{q: "SELECT id, name, qty FROM items ORDER BY id"},
	{q: "SELECT id FROM kept"},
	{q: "BEGIN"},
	{q: "INSERT INTO kept VALUES (2)"},
	{q: "INSERT INTO kept VALUES (1)"},
	{q: "COMMIT"},
	{q: "SELECT id FROM kept ORDER BY id"},
	// ALTER TABLE, an index on a text column, CHECK and foreign keys.
	{q: "CREATE TABLE tags (id bigint PRIMARY KEY, label text)"},
	{q: "ALTER TABLE tags ADD COLUMN weight bigint DEFAULT 1"},
	{q: "INSERT INTO tags (id, label) VALUES (1, 'a'), (2, 'b')"},
	{q: "ALTER TABLE tags RENAME COLUMN label TO name"},
	{q: "SELECT * FROM tags ORDER BY id"},
	{q: "ALTER TABLE tags DROP COLUMN weight"},
	{q: "SELECT * FROM tags ORDER BY id"},
	{q: "CREATE INDEX tags_name ON tags (name)"},
	{q: "SELECT id FROM tags WHERE name = 'b'"},
	{q: "SELECT id FROM tags WHERE name = $1", args: []any{"a"}},
	{q: "ALTER TABLE tags ADD CONSTRAINT tags_name_nonempty CHECK (name <> '')"},
	{q: "INSERT INTO tags VALUES (3, '')"},
	{q: "CREATE TABLE tag_uses (id bigint PRIMARY KEY, tag_id bigint REFERENCES tags (id))"},
	{q: "INSERT INTO tag_uses VALUES (1, 1)"},
	{q: "INSERT INTO tag_uses VALUES (2, 9)"},
	{q: "DELETE FROM tags WHERE id = 1"},
	{q: "DELETE FROM tags WHERE id = 2"},
	{q: "SELECT t.name, u.id FROM tag_uses u JOIN tags t ON t.id = u.tag_id"},
	// The same with parameters, each way a client sends them.
	{q: "BEGIN"},
	{q: "INSERT INTO items (id, name) VALUES ($1, $2)", args: []any{int64(99), "p"}, modes: []string{"untyped"}},
	{q: "ROLLBACK"},
	{q: "BEGIN"},
	{q: "UPDATE items SET qty = $1 WHERE id = $2", args: []any{int64(0), int64(1)}, modes: []string{"binary"}},
	{q: "ROLLBACK"},
	{q: "BEGIN"},
	{q: "DELETE FROM items WHERE id = $1", args: []any{int64(1)}, modes: []string{"typed"}},
	{q: "ROLLBACK"},
	{q: "BEGIN"},
	{q: "INSERT INTO items (id) VALUES ($1) RETURNING *", args: []any{int64(98)}, modes: []string{"exec"}},
	{q: "ROLLBACK"},
	{q: "SELECT count(*) FROM items WHERE id = 99"},
	{q: "SELECT count(*) FROM items"},
	{q: "SELECT id, name, qty FROM items ORDER BY id"},
	// RETURNING errors with parameters: nothing is written, so every way runs.
	{q: "INSERT INTO nope VALUES ($1) RETURNING *", args: []any{int64(1)}, modes: []string{"simple", "exec", "untyped", "typed", "binary"}},
	{q: "UPDATE nope SET a = $1 RETURNING *", args: []any{int64(1)}, modes: []string{"simple", "exec", "untyped", "typed", "binary"}},
	{q: "INSERT INTO items (id) VALUES ($1) RETURNING id", args: []any{int64(1)}, modes: []string{"simple", "exec", "untyped", "typed", "binary"}},
}

// pgSemanticsRefused are the cases wasql answers with 0A000 where PostgreSQL succeeds, and why.
var pgSemanticsRefused = map[string]string{
	"SELECT format('%*s|', 3, 'a')": "format() widths taken from the arguments",
	"SAVEPOINT a":                   "savepoints",
}

func TestPGDialectSemantics(t *testing.T) {
	want, got := postgresAndWasql(t, pgx.QueryExecModeCacheStatement) // pgx's default
	ctx := context.Background()
	mod, err := os.ReadFile("../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range pgSemanticsSetup {
		for _, c := range []*pgx.Conn{want, got} {
			if _, err := c.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	for _, f := range pgSemanticsFunctions {
		if _, err := want.Exec(ctx, fmt.Sprintf("CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE sql AS 'SELECT $1 + $2'", f)); err != nil {
			t.Fatalf("postgres: function %s: %v", f, err)
		}
		if _, err := got.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION %s(bigint, bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'add'`, f, mod)); err != nil {
			t.Fatalf("wasql: function %s: %v", f, err)
		}
	}
	var agree, refused, differ int
	for _, c := range pgSemanticsCases {
		modes := []string{"simple"}
		if readOnly(c.q) {
			modes = append(modes, "extended")
			if len(c.args) > 0 {
				modes = append(modes, "exec", "untyped", "typed", "binary")
			}
		}
		if c.modes != nil {
			modes = c.modes
		}
		why, mustRefuse := pgSemanticsRefused[c.q]
		same := true
		for _, mode := range modes {
			w, g := answerCase(ctx, want, c, mode), answerCase(ctx, got, c, mode)
			switch {
			case mustRefuse && g != "ERROR 0A000":
				t.Errorf("%s (%s)\n  wasql must refuse it (%s) with 0A000: %s", c.q, mode, why, g)
			case !mustRefuse && w != g:
				t.Errorf("%s (%s)\n  postgres: %s\n  wasql:    %s", c.q, mode, w, g)
			}
			same = same && w == g
		}
		switch {
		case mustRefuse:
			refused++
		case same:
			agree++
		default:
			differ++
		}
	}
	t.Logf("TestPGDialectSemantics: %d statements agree with PostgreSQL 15, %d are refused (0A000), %d differ", agree, refused, differ)
}

// answerCase is answer (pgdialect_test.go) for a statement with parameters, through one of the
// ways a client sends them.
func answerCase(ctx context.Context, c *pgx.Conn, pc pgCase, mode string) string {
	switch {
	case len(pc.args) == 0:
		return answer(ctx, c, pc.q, mode != "simple")
	case mode == "simple" || mode == "exec":
		m := pgx.QueryExecModeSimpleProtocol
		if mode == "exec" {
			m = pgx.QueryExecModeExec
		}
		rows, err := c.Query(ctx, pc.q, append([]any{m}, pc.args...)...)
		if err != nil {
			return errorAnswer(err)
		}
		defer rows.Close()
		var b strings.Builder
		for _, f := range rows.FieldDescriptions() {
			b.WriteString(f.Name + ",")
		}
		b.WriteString(" |")
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				return "ERROR " + err.Error()
			}
			fmt.Fprintf(&b, " %v", v)
		}
		if err := rows.Err(); err != nil {
			return errorAnswer(err)
		}
		return b.String() + " | " + rows.CommandTag().String()
	}
	values := make([][]byte, len(pc.args))
	oids := make([]uint32, len(pc.args))
	formats := make([]int16, len(pc.args))
	for i, a := range pc.args {
		oid, text, bin := encodeArg(a)
		values[i] = text
		if mode != "untyped" {
			oids[i] = oid
		}
		if mode == "binary" {
			values[i], formats[i] = bin, 1
		}
	}
	r := c.PgConn().ExecParams(ctx, pc.q, values, oids, formats, nil).Read()
	if r.Err != nil {
		return errorAnswer(r.Err)
	}
	var b strings.Builder
	for _, f := range r.FieldDescriptions {
		b.WriteString(f.Name + ",")
	}
	b.WriteString(" |")
	for _, row := range r.Rows {
		b.WriteString(" (")
		for _, v := range row {
			if v == nil {
				b.WriteString("NULL,")
			} else {
				b.WriteString(string(v) + ",")
			}
		}
		b.WriteString(")")
	}
	return b.String() + " | " + r.CommandTag.String()
}

func errorAnswer(err error) string {
	if pe, ok := err.(*pgconn.PgError); ok {
		return "ERROR " + pe.Code
	}
	return "ERROR " + err.Error()
}

// encodeArg is a parameter's type OID and its text and binary forms.
func encodeArg(v any) (oid uint32, text, bin []byte) {
	be := binary.BigEndian
	array := func(elem uint32, elems [][]byte, texts []string) (uint32, []byte, []byte) {
		b := be.AppendUint32(nil, 1)
		b = be.AppendUint32(b, 0)
		b = be.AppendUint32(b, elem)
		b = be.AppendUint32(b, uint32(len(elems)))
		b = be.AppendUint32(b, 1)
		for _, e := range elems {
			b = be.AppendUint32(b, uint32(len(e)))
			b = append(b, e...)
		}
		if len(elems) == 0 {
			b = be.AppendUint32(be.AppendUint32(be.AppendUint32(nil, 0), 0), elem)
		}
		return map[uint32]uint32{20: 1016, 25: 1009}[elem], []byte("{" + strings.Join(texts, ",") + "}"), b
	}
	switch x := v.(type) {
	case nil:
		return 25, nil, nil
	case int64:
		return 20, []byte(strconv.FormatInt(x, 10)), be.AppendUint64(nil, uint64(x))
	case string:
		return 25, []byte(x), []byte(x)
	case []int64:
		var elems [][]byte
		var texts []string
		for _, n := range x {
			elems = append(elems, be.AppendUint64(nil, uint64(n)))
			texts = append(texts, strconv.FormatInt(n, 10))
		}
		oid, t, b := array(20, elems, texts)
		return oid, t, b
	case []string:
		var elems [][]byte
		var texts []string
		for _, s := range x {
			elems = append(elems, []byte(s))
			texts = append(texts, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)+`"`)
		}
		oid, t, b := array(25, elems, texts)
		return oid, t, b
	}
	panic(fmt.Sprintf("encodeArg: %T", v))
}
