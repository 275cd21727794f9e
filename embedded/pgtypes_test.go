package embedded

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPGUntypedStrings: a string literal or an untyped text parameter (node-postgres, knex,
// typeorm, drizzle, pgjdbc's setTimestamp) takes the type of the boolean, bytea, date or
// timestamp column it is stored into or compared with, read as Postgres reads it.
func TestPGUntypedStrings(t *testing.T) {
	c := pgServeConnect(t, pgx.QueryExecModeSimpleProtocol).PgConn()
	ctx := context.Background()
	exec := func(q string, args ...string) string {
		t.Helper()
		vals := make([][]byte, len(args))
		for i, a := range args {
			vals[i] = []byte(a)
		}
		r := c.ExecParams(ctx, q, vals, make([]uint32, len(args)), nil, nil).Read()
		if r.Err != nil {
			if pe, ok := r.Err.(*pgconn.PgError); ok {
				return "ERROR " + pe.Code
			}
			return "ERROR " + r.Err.Error()
		}
		var b strings.Builder
		for _, f := range r.FieldDescriptions {
			b.WriteString(f.Name + ":" + itoa(f.DataTypeOID) + " ")
		}
		for _, row := range r.Rows {
			b.WriteString("(")
			for i, v := range row {
				if i > 0 {
					b.WriteString(",")
				}
				b.Write(v)
			}
			b.WriteString(")")
		}
		return b.String()
	}
	for _, s := range []struct{ q, want string }{
		{"CREATE TABLE ty (id int PRIMARY KEY, paid boolean, data bytea, price numeric(10,2), ts timestamp, tz timestamptz, d date)", ""},
		{`INSERT INTO ty VALUES (1, 'true', '\xdeadbeef', 9.5, '2024-05-02 00:00:00+02', '2024-05-02 00:00:00+02', '2024-05-02 +00')`, ""},
		{"SELECT paid, length(data), data, price, ts, tz, d FROM ty", "paid:16 length:23 data:17 price:1700 ts:1114 tz:1184 d:1082 (t,4,\\xdeadbeef,9.50,2024-05-02 00:00:00,2024-05-01 22:00:00+00,2024-05-02)"},
		{"SELECT id FROM ty WHERE paid = 'YES' AND data = '\\xDEADBEEF' AND tz = '2024-05-01 22:00:00Z'", "id:23 (1)"},
		{"INSERT INTO ty (id, paid) VALUES (2, 'maybe')", "ERROR 22P02"},
		{"SELECT sum(price), avg(price), 9.50, 7::numeric / 2 FROM ty", "sum:1700 avg:1700 ?column?:1700 ?column?:1700 (9.50,9.5000000000000000,9.50,3.5000000000000000)"},
	} {
		if got := exec(s.q); got != s.want {
			t.Errorf("%s:\n got %s\nwant %s", s.q, got, s.want)
		}
	}
	for _, s := range []struct {
		q    string
		args []string
		want string
	}{
		{"INSERT INTO ty (id, paid, data, tz) VALUES ($1, $2, $3, $4)", []string{"3", "t", `\x0102`, "2024-05-02 00:00:00+00"}, ""},
		{"SELECT id FROM ty WHERE paid = $1 ORDER BY id", []string{"true"}, "id:23 (1)(3)"},
		{"SELECT id FROM ty WHERE paid = $1 ORDER BY id", []string{"off"}, ""}, // no rows: pgconn keeps no field descriptions
		{"SELECT id FROM ty WHERE paid = $1", []string{"x"}, "ERROR 22P02"},
		{"SELECT data FROM ty WHERE data = $1", []string{`\x0102`}, "data:17 (\\x0102)"},
		{"SELECT id FROM ty WHERE tz = $1", []string{"2024-05-02 02:00:00+02"}, "id:23 (3)"},
		{"UPDATE ty SET paid = $1 WHERE id = $2", []string{"no", "3"}, ""},
		{"SELECT paid FROM ty WHERE id = $1", []string{"3"}, "paid:16 (f)"},
	} {
		if got := exec(s.q, s.args...); got != s.want {
			t.Errorf("%s %q:\n got %s\nwant %s", s.q, s.args, got, s.want)
		}
	}
	// the session TimeZone: timestamptz output and input without an offset
	if got := exec("SET TimeZone = 'Europe/Berlin'"); got != "" {
		t.Fatal(got)
	}
	if got := exec("SELECT tz, '2024-05-02 12:00:00'::timestamptz FROM ty WHERE id = 1"); got != "tz:1184 timestamptz:1184 (2024-05-02 00:00:00+02,2024-05-02 12:00:00+02)" {
		t.Errorf("in Europe/Berlin: %s", got)
	}
	if got := exec("SET TimeZone = 'UTC+2'"); got != "" {
		t.Fatal(got)
	}
	if got := exec("SELECT tz FROM ty WHERE id = 1"); got != "ERROR 0A000" {
		t.Errorf("a POSIX time zone: %s, want 0A000", got)
	}
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
