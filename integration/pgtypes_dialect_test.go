//go:build integration

package integration

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgTypeCases are TestPGDialect's cases for the types whose text forms Postgres and MySQL read
// differently: boolean, bytea, numeric scale, timestamp and timestamptz with offsets and the
// session TimeZone. They run after pgDialectCases, on their own table.
var pgTypeCases = []string{
	"CREATE TABLE tt (id int PRIMARY KEY, paid boolean, data bytea, price numeric(10,2), ts timestamp, tz timestamptz, u numeric(10,2))",
	`INSERT INTO tt VALUES (1, 'true', '\xdeadbeef', 9.50, '2024-05-02 00:00:00+02', '2024-05-02 00:00:00+02', 1.5)`,
	"INSERT INTO tt VALUES (2, 'f', 'abc', 1.25, '2024-05-02', '2024-05-02', 2)",
	`INSERT INTO tt VALUES (3, ' YES ', 'a\\b\001', 1, '2024-05-02 10:11:12.5', '2024-05-02T10:11:12.123456Z', NULL)`,
	"INSERT INTO tt (id, paid) VALUES (4, 'maybe')",
	"INSERT INTO tt (id, paid) VALUES (4, 'o')",
	`INSERT INTO tt (id, data) VALUES (4, '\xzz')`,
	`INSERT INTO tt (id, data) VALUES (4, '\xabc')`,
	`INSERT INTO tt (id, data) VALUES (4, 'a\b')`,
	"SELECT * FROM tt ORDER BY id",
	"SELECT id FROM tt WHERE paid = 'true' ORDER BY id",
	"SELECT id FROM tt WHERE paid = 'of' OR paid IN ('T', 'n') ORDER BY id",
	"SELECT id FROM tt WHERE paid <> 'no' ORDER BY id",
	"SELECT id FROM tt WHERE paid = 'nope'",
	"SELECT 't'::boolean, 'FALSE'::boolean, ' on '::bool, 'y'::boolean, '0'::boolean, 'ye'::boolean, 'Of'::boolean, '1'::boolean",
	"SELECT 'x'::boolean",
	"UPDATE tt SET paid = 'off' WHERE id = 3",
	"UPDATE tt SET paid = 'sure' WHERE id = 3",
	"SELECT id, paid FROM tt ORDER BY id",
	`SELECT '\xdeadbeef'::bytea, length('\xdeadbeef'::bytea), 'a\\b'::bytea, octet_length('\x00ff'::bytea), ''::bytea`,
	`SELECT '\xdead'::bytea = '\xDEAD'::bytea`,
	"SELECT id, data, length(data), octet_length(data), encode(data, 'hex'), encode(data, 'escape'), encode(data, 'base64') FROM tt ORDER BY id",
	`SELECT decode('3q2+7w==', 'base64'), decode('DEADbeef', 'hex'), decode('a\\b\001', 'escape'), encode('\x00'::bytea, 'escape')`,
	"SELECT decode('abc', 'hex')",
	"SELECT encode('x'::bytea, 'nope')",
	`SELECT id FROM tt WHERE data = '\xdeadbeef'`,
	"SELECT id, price, u FROM tt ORDER BY id",
	"SELECT 9.50, 2.50 * 2, 1.5 + 1, 0.1 + 0.2, 1.0 / 3, 10.0 / 4, 7 / 2.0, 9.50::numeric(5,1)",
	"SELECT sum(price), avg(price), min(price), max(price), sum(id), avg(id) FROM tt",
	"SELECT id, sum(price), avg(price) FROM tt GROUP BY id ORDER BY id",
	"SELECT sum(price) FROM tt WHERE id > 10",
	"SELECT avg(price) FILTER (WHERE id > 1), count(*) FROM tt",
	"SELECT ts, tz FROM tt ORDER BY id",
	"SELECT id FROM tt WHERE tz = '2024-05-01 22:00:00Z'",
	"SELECT id FROM tt WHERE tz < '2024-05-02 01:00:00+01' ORDER BY id",
	"SELECT id FROM tt WHERE ts = '2024-05-02 00:00:00-07' ORDER BY id",
	"SELECT '2024-05-02 00:00:00+02'::timestamptz, '2024-05-02 00:00:00+02'::timestamp, '2024-01-02 03:04:05.678-05:30'::timestamptz, '2024-05-02'::timestamptz",
	"SET TimeZone = 'Europe/Berlin'",
	"SELECT ts, tz, tz::timestamp, ts::timestamptz, '2024-05-02 00:00:00'::timestamptz FROM tt ORDER BY id",
	"INSERT INTO tt (id, tz) VALUES (5, '2024-05-02 12:00:00')",
	"SELECT tz FROM tt WHERE id = 5",
	"SELECT id FROM tt WHERE tz = '2024-05-02 02:00:00' ORDER BY id",
	"SELECT id, paid::text, data::text, price::text, tz::text, ts::text, (tz = '2024-05-02 02:00:00')::text FROM tt ORDER BY id",
	"SELECT now()::timestamptz = now(), abs(extract(epoch from now()::timestamp) - extract(epoch from localtimestamp)) < 5",
	"SET TimeZone = 'America/St_Johns'",
	"SELECT tz FROM tt WHERE id IN (1, 5) ORDER BY id",
	"SET TimeZone = 'UTC'",
	"SELECT tz FROM tt WHERE id = 5",
	"SELECT '1960-01-01 00:00:00+00'::timestamptz",
	"SELECT 'now'::timestamptz IS NOT NULL",
	"SELECT '2024-13-01 00:00:00'::timestamp",
	"DELETE FROM tt WHERE id = 5",
	`CREATE TABLE td (id int, paid boolean DEFAULT 'yes', b bytea DEFAULT '\x01ff', tz timestamptz DEFAULT '2024-05-02 00:00:00+02', ts timestamp DEFAULT '2024-05-02 10:00:00-07')`,
	"INSERT INTO td (id) VALUES (1)",
	"SELECT * FROM td",
	"SELECT coalesce(paid, 'false'), paid IS DISTINCT FROM 'false', coalesce(NULL::boolean, 'no') FROM td",
	"CREATE TABLE te (tz timestamptz DEFAULT '2024-05-02 00:00:00')",
	"CREATE TABLE te2 (b boolean DEFAULT 'perhaps')",
	"SELECT id, avg(id) OVER (), avg(price) OVER (PARTITION BY paid), sum(price) OVER (PARTITION BY paid) FROM tt ORDER BY id",
	"SELECT id, count(price) OVER (ORDER BY paid) FROM tt ORDER BY id",
	"UPDATE tt SET u = 2.50 WHERE id = 2",
	"SELECT u FROM tt WHERE id = 2",
	"CREATE TABLE tn (u numeric)", // refused: the engine keeps no scale per value
}

// paramCase is a statement run through the extended protocol with parameters: types (0 is
// unknown, as node-postgres, knex, typeorm and drizzle send every parameter), formats (0 text,
// 1 binary), values, and the result formats the client asks for (binary values print in hex).
type paramCase struct {
	q       string
	oids    []uint32
	formats []int16
	args    []string // in hex when the format is binary
	results []int16
}

func (pc paramCase) String() string {
	return fmt.Sprintf("%s [types %v formats %v args %q results %v]", pc.q, pc.oids, pc.formats, pc.args, pc.results)
}

const (
	unknown     = 0
	oidBool     = 16
	oidBytea    = 17
	oidNumeric  = 1700
	oidTS       = 1114
	oidTSTZ     = 1184
	oidText     = 25
	binaryParam = 1
)

var pgParamCases = []paramCase{
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{unknown}, args: []string{"true"}},
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{unknown}, args: []string{"f"}},
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{oidBool}, args: []string{"TRUE"}},
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{oidBool}, args: []string{" Yes "}},
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{oidBool}, formats: []int16{binaryParam}, args: []string{"01"}},
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{unknown}, args: []string{"maybe"}},
	{q: "SELECT id FROM tt WHERE paid = $1 ORDER BY id", oids: []uint32{oidBool}, args: []string{"maybe"}},
	{q: "SELECT $1::boolean, $2::bytea, $3::timestamptz, $4::numeric(10,2)", oids: []uint32{unknown, unknown, unknown, unknown},
		args: []string{"on", `\x0102`, "2024-05-02 00:00:00+02", "9.5"}},
	{q: "INSERT INTO tt (id, paid) VALUES ($1, $2)", oids: []uint32{unknown, unknown}, args: []string{"10", "true"}},
	{q: "INSERT INTO tt (id, paid) VALUES ($1, $2)", oids: []uint32{unknown, oidBool}, args: []string{"11", "TRUE"}},
	{q: "INSERT INTO tt (id, paid) VALUES ($1, $2)", oids: []uint32{unknown, unknown}, args: []string{"12", "nah"}},
	{q: "UPDATE tt SET paid = $1 WHERE id = $2", oids: []uint32{unknown, unknown}, args: []string{"no", "10"}},
	{q: "SELECT id, paid FROM tt WHERE id >= 10 ORDER BY id"},
	{q: "INSERT INTO tt (id, data) VALUES ($1, $2)", oids: []uint32{unknown, unknown}, args: []string{"20", `\xdeadbeef`}},
	{q: "INSERT INTO tt (id, data) VALUES ($1, $2)", oids: []uint32{unknown, oidBytea}, args: []string{"21", `\x0102`}},
	{q: "INSERT INTO tt (id, data) VALUES ($1, $2)", oids: []uint32{unknown, oidBytea}, args: []string{"22", `abc\\d`}},
	{q: "INSERT INTO tt (id, data) VALUES ($1, $2)", oids: []uint32{unknown, oidBytea}, formats: []int16{0, binaryParam}, args: []string{"23", "000102"}},
	{q: "SELECT id, data, length(data) FROM tt WHERE id >= 20 ORDER BY id"},
	{q: "SELECT id FROM tt WHERE data = $1", oids: []uint32{unknown}, args: []string{`\xdeadbeef`}},
	{q: "INSERT INTO tt (id, ts, tz) VALUES ($1, $2, $3)", oids: []uint32{unknown, unknown, unknown},
		args: []string{"30", "2024-05-02 00:00:00+00", "2024-05-02 00:00:00+00"}}, // pgjdbc's setTimestamp
	{q: "INSERT INTO tt (id, ts, tz) VALUES ($1, $2, $3)", oids: []uint32{unknown, oidTS, oidTSTZ},
		args: []string{"31", "2024-05-02 10:00:00.25", "2024-05-02 10:00:00.25-03"}},
	{q: "INSERT INTO tt (id, ts, tz) VALUES ($1, $2, $3)", oids: []uint32{unknown, oidTS, oidTSTZ}, formats: []int16{0, binaryParam, binaryParam},
		args: []string{"32", "0002ba6c0d8d0000", "0002ba6c0d8d0000"}},
	{q: "SELECT id, ts, tz FROM tt WHERE id >= 30 ORDER BY id"},
	{q: "SELECT id FROM tt WHERE tz = $1 ORDER BY id", oids: []uint32{unknown}, args: []string{"2024-05-02 00:00:00+00"}},
	{q: "SELECT id FROM tt WHERE tz = $1 ORDER BY id", oids: []uint32{oidTSTZ}, formats: []int16{binaryParam}, args: []string{"0002ba6c0d8d0000"}},
	{q: "INSERT INTO tt (id, price) VALUES ($1, $2)", oids: []uint32{unknown, unknown}, args: []string{"40", "9.5"}},
	{q: "INSERT INTO tt (id, price) VALUES ($1, $2)", oids: []uint32{unknown, oidNumeric}, args: []string{"41", "3.14159"}},
	{q: "INSERT INTO tt (id, price) VALUES ($1, $2)", oids: []uint32{unknown, oidNumeric}, formats: []int16{0, binaryParam},
		args: []string{"42", "0002000000000002000913 88"}},
	{q: "SELECT id, price FROM tt WHERE id >= 40 ORDER BY id"},
	{q: "SELECT paid, price, ts, tz, data, 9.50, sum(price) OVER () FROM tt WHERE id = 1", results: []int16{1}},
	{q: "SELECT $1::text, $2", oids: []uint32{oidText, unknown}, args: []string{"true", "x"}},
	{q: "SET TimeZone = 'Asia/Kolkata'"},
	{q: "SELECT $1::timestamptz, $2::timestamptz", oids: []uint32{oidTSTZ, unknown}, formats: []int16{binaryParam, 0},
		args: []string{"0002ba6c0d8d0000", "2024-05-02 00:00:00"}},
	{q: "SELECT id, tz FROM tt WHERE tz = $1 ORDER BY id", oids: []uint32{oidTSTZ}, formats: []int16{binaryParam}, args: []string{"0002ba6c0d8d0000"}},
	{q: "SELECT id, tz FROM tt WHERE id = 32", results: []int16{1}},
	{q: "SET TimeZone = 'UTC'"},
}

// answerParams runs a parameter case with the extended protocol, unnamed statement and
// portal, as node-postgres does: Parse (with the given types), Bind, Describe, Execute, Sync.
func answerParams(ctx context.Context, c *pgx.Conn, pc paramCase) string {
	args := make([][]byte, len(pc.args))
	for i, a := range pc.args {
		if i < len(pc.formats) && pc.formats[i] == binaryParam {
			b, err := hex.DecodeString(strings.ReplaceAll(a, " ", ""))
			if err != nil {
				panic(err)
			}
			args[i] = b
		} else {
			args[i] = []byte(a)
		}
	}
	formats := pc.formats
	if len(formats) < len(args) && len(formats) > 1 {
		formats = append(formats, make([]int16, len(args)-len(formats))...)
	}
	r := c.PgConn().ExecParams(ctx, pc.q, args, pc.oids, formats, pc.results).Read()
	if r.Err != nil {
		if pe, ok := r.Err.(*pgconn.PgError); ok {
			return "ERROR " + pe.Code
		}
		return "ERROR " + r.Err.Error()
	}
	var b strings.Builder
	for i, f := range r.FieldDescriptions {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%s:%d", f.Name, f.DataTypeOID)
	}
	b.WriteString(" |")
	for _, row := range r.Rows {
		b.WriteString(" (")
		for i, v := range row {
			if i > 0 {
				b.WriteString(",")
			}
			switch {
			case v == nil:
				b.WriteString("NULL")
			case len(pc.results) > 0 && pc.results[0] == 1:
				b.WriteString(hex.EncodeToString(v))
			default:
				b.Write(v)
			}
		}
		b.WriteString(")")
	}
	b.WriteString(" | " + r.CommandTag.String())
	return b.String()
}
