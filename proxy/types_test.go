package proxy

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// TestDecodeParamCopies: a Bind parameter lives in pgproto3's read buffer, which the next
// Receive overwrites; no decoded value may alias it, whatever its type and format.
func TestDecodeParamCopies(t *testing.T) {
	for _, c := range []struct {
		raw    string
		oid    uint32
		format int16
	}{{"abc", OIDBytea, 0}, {`\x6162`, OIDBytea, 0}, {"abc", OIDText, 0}, {"abc", OIDBytea, 1}, {"abc", OIDText, 1},
		{"abc", OIDVarchar, 1}, {"abc", OIDUnknown, 0}, {"\x01abc", 3802, 1}} {
		raw := []byte(c.raw)
		v, err := decodeParam(raw, c.oid, c.format)
		if err != nil {
			t.Fatalf("%q: %v", c.raw, err)
		}
		before := render(v)
		for i := range raw {
			raw[i] = 'X'
		}
		if after := render(v); after != before {
			t.Errorf("%q (type %d, format %d) aliases the read buffer: %q became %q", c.raw, c.oid, c.format, before, after)
		}
	}
}

func render(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return "?"
}

func TestDecodeParamTypes(t *testing.T) {
	be := binary.BigEndian
	for _, c := range []struct {
		raw    []byte
		oid    uint32
		format int16
		want   any
	}{
		{[]byte("TRUE"), OIDBool, 0, true}, {[]byte(" off "), OIDBool, 0, false}, {[]byte("y"), OIDBool, 0, true},
		{[]byte("1"), OIDBool, 0, true}, {[]byte{1}, OIDBool, 1, true},
		{[]byte(`\xdeadbeef`), OIDBytea, 0, []byte{0xde, 0xad, 0xbe, 0xef}}, {[]byte(`a\\b`), OIDBytea, 0, []byte(`a\b`)},
		{[]byte(" 42 "), OIDInt4, 0, int64(42)}, {[]byte("9.50"), OIDNumeric, 0, Numeric("9.50")},
		{be.AppendUint32(nil, 0xFFFFFFFF), OIDDate, 1, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{be.AppendUint64(nil, uint64(1_500_000)), OIDTimestamp, 1, time.Date(2000, 1, 1, 0, 0, 1, 500000000, time.UTC)},
		{be.AppendUint64(nil, uint64(1_500_000)), OIDTimestampTZ, 1, TimestampTZ(time.Date(2000, 1, 1, 0, 0, 1, 500000000, time.UTC))},
	} {
		got, err := decodeParam(c.raw, c.oid, c.format)
		if err != nil {
			t.Errorf("%q (%d): %v", c.raw, c.oid, err)
			continue
		}
		switch w := c.want.(type) {
		case []byte:
			if !bytes.Equal(got.([]byte), w) {
				t.Errorf("%q: %x, want %x", c.raw, got, w)
			}
		case time.Time:
			if !got.(time.Time).Equal(w) {
				t.Errorf("%x: %v, want %v", c.raw, got, w)
			}
		default:
			if got != c.want {
				t.Errorf("%q (%d): %#v, want %#v", c.raw, c.oid, got, c.want)
			}
		}
	}
	for _, c := range []struct {
		raw    string
		oid    uint32
		format int16
	}{{"maybe", OIDBool, 0}, {`\xzz`, OIDBytea, 0}, {"1e5x", OIDNumeric, 0}, {"ab", OIDDate, 1}, {"abcd", 600, 1}} {
		if v, err := decodeParam([]byte(c.raw), c.oid, c.format); err == nil {
			t.Errorf("%q (type %d): %v, want an error", c.raw, c.oid, v)
		}
	}
}

// TestNumericBinary: numeric's binary form survives the round trip, scale included.
func TestNumericBinary(t *testing.T) {
	for _, s := range []string{"0", "9.50", "-9.50", "12345678.0001", "0.00001234", "10000", "-0.5", "1.000000", "123456789012345678901234567890.123"} {
		b, err := numericBinary(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		got, err := numericText(b)
		want := s
		if s == "-0.5" {
			want = "-0.5"
		}
		if err != nil || got != want {
			t.Errorf("%s: %x -> %s %v", s, b, got, err)
		}
	}
	// 9.50 is ndigits 2, weight 0, sign +, dscale 2, digits 9 and 5000
	if b, _ := numericBinary("9.50"); !bytes.Equal(b, []byte{0, 2, 0, 0, 0, 0, 0, 2, 0, 9, 0x13, 0x88}) {
		t.Errorf("9.50: %x", b)
	}
}
