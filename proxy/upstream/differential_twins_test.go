// The check that the differential corpus's twins are exact: each wasm function, called through
// the udf runtime without the proxy, against its twin in PostgreSQL, row by row over the corpus's
// data, compared in PostgreSQL's binary format (or by SQLSTATE when the row fails).
package upstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/udf"
)

// twinArgs are, per function name, queries whose rows are the arguments to check it on.
var twinArgs = map[string][]string{
	"plus":                    {"SELECT a, b FROM t", "SELECT id::bigint, a FROM t", "VALUES (-5::bigint, 3::bigint), (9223372036854775806, 1)"},
	"vplus":                   {"SELECT a, b FROM t"},
	"add":                     {"SELECT a, b FROM t", "VALUES (-9223372036854775807::bigint, -1::bigint)"},
	"mul":                     {"SELECT a, b FROM t", "SELECT b, id::bigint FROM t"},
	"slugify":                 {"SELECT s FROM t", "SELECT s FROM te", "SELECT s FROM tci", "SELECT label FROM u2", "SELECT s || ' ' || id FROM t", "SELECT u::text FROM t", `VALUES ('K'), ('ÀB-c_D'), ('İ'), (''), ('---'), ('a-'), ('-a'), (E'\x01x\x7fy')`},
	"must_be_ascii":           {"SELECT s FROM t", "SELECT s FROM te", "SELECT s FROM tci", "SELECT label FROM u2", "VALUES ('naïve'), ('ok'), ('')"},
	"nvl_len":                 {"SELECT s FROM t", "SELECT s FROM te", "SELECT s FROM tci", "VALUES (NULL::text), ('')"},
	"echo_bytes":              {"SELECT convert_to(s, 'UTF8') FROM t", "SELECT bb FROM te", `VALUES ('\x00ff01'::bytea), (''::bytea)`},
	"is_null":                 {"SELECT a FROM t", "SELECT b FROM t"},
	"fib":                     {"SELECT a % 30 FROM t", "SELECT g::bigint FROM generate_series(0, 91) g"},
	"twice(integer)":          {"SELECT id FROM t", "VALUES (0), (-7)"},
	"twice(double precision)": {"SELECT x FROM t", "SELECT a FROM t", "SELECT n FROM t"},
	"halff":                   {"SELECT x::real FROM t WHERE id <= 200", "VALUES (0.1::real), (3::real), (1e-30::real), ('NaN'::real), ('-0'::real)"},
	"negate":                  {"SELECT a > 30 FROM t", "VALUES (true), (false), (NULL::boolean)"},
	"next_day":                {"SELECT d FROM t", "VALUES ('1969-12-31'::date), ('2024-02-28'), ('0044-03-15 BC')"},
	"plus_hour":               {"SELECT ts::timestamp FROM t", "VALUES ('1999-12-31 23:59:59.999999'::timestamp), ('1960-06-01 00:00')"},
	"hyp":                     {"SELECT x, a::float8 FROM t WHERE id <= 200", "SELECT x, 1::float8 FROM t WHERE id IN (201, 202, 203, 204)", "VALUES (3::float8, 4::float8), (0.1, 0.2), (1e10, 1)"},
	"kilo":                    {"SELECT b FROM t", "SELECT id % 40 FROM t", "VALUES (32::smallint), (-32), (33), (-33), (0)"},
	"json_ascii":              {"SELECT j::json FROM t", `VALUES ('{"a": 1,   "b": [1, 2]}'::json), ('"x"'), ('null'), ('{"k": "é"}')`},
	"is_even":                 {"SELECT a FROM t", "SELECT b FROM t"},
	"days_between":            {"SELECT d, '2024-01-01'::date FROM t", "SELECT d + 1, d FROM t"},
}

// twinEpochDays and twinEpochMicros are PostgreSQL's epoch (2000-01-01) in the ABI's units
// (since 1970). The check keeps its own codec rather than the planner's (pgbinary.go), which
// it must not trust.
const (
	twinEpochDays   = 10957
	twinEpochMicros = twinEpochDays * 86400 * 1000000
)

// twinOIDs are the PostgreSQL types of the ABI's types.
var twinOIDs = map[udf.Type]uint32{udf.Smallint: 21, udf.Integer: 23, udf.Bigint: 20, udf.Real: 700, udf.Double: 701,
	udf.Boolean: 16, udf.Text: 25, udf.Bytea: 17, udf.JSON: 114, udf.Date: 1082, udf.Timestamp: 1114}

// twinDecode appends value v (PostgreSQL binary format, nil for NULL) of type typ to c.
func twinDecode(c *udf.Column, v []byte) error {
	if v == nil {
		for len(c.Nulls) < c.Len() {
			c.Nulls = append(c.Nulls, false)
		}
		c.Nulls = append(c.Nulls, true)
	}
	switch c.Type {
	case udf.Text, udf.Bytea, udf.JSON:
		c.Bytes = append(c.Bytes, v)
	case udf.Real:
		if v == nil {
			c.Floats = append(c.Floats, 0)
		} else {
			c.Floats = append(c.Floats, float64(math.Float32frombits(binary.BigEndian.Uint32(v))))
		}
	case udf.Double:
		if v == nil {
			c.Floats = append(c.Floats, 0)
		} else {
			c.Floats = append(c.Floats, math.Float64frombits(binary.BigEndian.Uint64(v)))
		}
	default:
		var n int64
		switch {
		case v == nil:
		case len(v) == 1:
			n = int64(v[0])
		case len(v) == 2:
			n = int64(int16(binary.BigEndian.Uint16(v)))
		case len(v) == 4:
			n = int64(int32(binary.BigEndian.Uint32(v)))
		case len(v) == 8:
			n = int64(binary.BigEndian.Uint64(v))
		default:
			return fmt.Errorf("%d bytes for %s", len(v), c.Type)
		}
		if v != nil && c.Type == udf.Date {
			n += twinEpochDays
		}
		if v != nil && c.Type == udf.Timestamp {
			n += twinEpochMicros
		}
		c.Ints = append(c.Ints, n)
	}
	if v != nil && c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
	return nil
}

// twinEncode returns row i of c in PostgreSQL's binary format, nil for NULL.
func twinEncode(c *udf.Column, i int) []byte {
	if c.IsNull(i) {
		return nil
	}
	switch c.Type {
	case udf.Text, udf.Bytea, udf.JSON:
		return append([]byte{}, c.Bytes[i]...)
	case udf.Real:
		return binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(c.Floats[i])))
	case udf.Double:
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(c.Floats[i]))
	case udf.Boolean:
		if c.Ints[i] != 0 {
			return []byte{1}
		}
		return []byte{0}
	case udf.Smallint:
		return binary.BigEndian.AppendUint16(nil, uint16(c.Ints[i]))
	case udf.Integer:
		return binary.BigEndian.AppendUint32(nil, uint32(c.Ints[i]))
	case udf.Date:
		return binary.BigEndian.AppendUint32(nil, uint32(c.Ints[i]-twinEpochDays))
	case udf.Timestamp:
		return binary.BigEndian.AppendUint64(nil, uint64(c.Ints[i]-twinEpochMicros))
	}
	return binary.BigEndian.AppendUint64(nil, uint64(c.Ints[i]))
}

// TestDifferentialTwins checks every twin against its wasm function on every argument row of
// twinArgs, one row per call on both sides, so that a row error is pinned to its row.
func TestDifferentialTwins(t *testing.T) {
	e := newWasmEnv(t, true)
	setupDiffEnv(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := pgconn.Connect(ctx, e.Direct)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	checked := 0
	for _, f := range diffFuncs {
		name := f.sig[:strings.Index(f.sig, "(")]
		queries := twinArgs[name]
		if queries == nil {
			queries = twinArgs[f.sig[:strings.Index(f.sig, ")")+1]]
		}
		if len(queries) == 0 {
			t.Errorf("%s: no arguments to check its twin on", name)
		}
		var ov *udfOverload
		for _, o := range e.Reg.Overloads(name) {
			if o.Def.Export == f.export {
				ov = &udfOverload{fn: o.Fn, args: o.Args, result: o.Result}
			}
		}
		if ov == nil || ov.fn == nil {
			t.Fatalf("%s: not loaded by the registry", f.sig)
		}
		types := make([]string, len(ov.args))
		oids := make([]uint32, len(ov.args))
		marks := make([]string, len(ov.args))
		for i, a := range ov.args {
			types[i], oids[i], marks[i] = a.String(), twinOIDs[a], fmt.Sprintf("$%d::%s", i+1, a)
		}
		twinCall := "SELECT twin." + name + "(" + strings.Join(marks, ", ") + ")"
		cols, casts := make([]string, len(ov.args)), make([]string, len(ov.args))
		for i, a := range ov.args {
			cols[i] = fmt.Sprintf("c%d", i)
			casts[i] = fmt.Sprintf("c%d::%s", i, a)
		}
		for _, q := range queries {
			sql := "SELECT " + strings.Join(casts, ", ") + " FROM (" + q + ") q(" + strings.Join(cols, ", ") + ")"
			rs := readResult(c.ExecParams(ctx, sql, nil, nil, nil, []int16{1}))
			if rs.Err != nil {
				t.Fatalf("%s: %s: %v", name, sql, rs.Err)
			}
			for _, row := range rs.Rows {
				if len(row) != len(ov.args) {
					t.Fatalf("%s: %s gives %d columns", name, q, len(row))
				}
				args := make([]udf.Column, len(row))
				for i, v := range row {
					args[i].Type = ov.args[i]
					if err := twinDecode(&args[i], v); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
				var got, want string
				res, err := ov.fn.Eval(ctx, 1, args...)
				if err != nil {
					var ue *udf.Error
					if !errors.As(err, &ue) {
						t.Fatalf("%s: %v", name, err)
					}
					got = "ERROR " + ue.SQLState()
				} else {
					got = fmt.Sprintf("%x null=%v", twinEncode(&res, 0), res.IsNull(0))
				}
				r := readResult(c.ExecParams(ctx, twinCall, row, oids, []int16{1}, []int16{1}))
				if r.Err != nil {
					var pe *pgconn.PgError
					if !errors.As(r.Err, &pe) {
						t.Fatalf("%s: %v", name, r.Err)
					}
					want = "ERROR " + pe.Code
				} else {
					v := r.Rows[0][0]
					want = fmt.Sprintf("%x null=%v", v, v == nil)
				}
				if got != want {
					t.Errorf("%s(%s) on %x (from %s): wasm %s, twin %s", name, strings.Join(types, ", "), row, q, got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d calls checked against their twins", checked)
}

// udfOverload is what the check needs of a registered overload.
type udfOverload struct {
	fn     *udf.Function
	args   []udf.Type
	result udf.Type
}
