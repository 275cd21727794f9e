package proxy

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wasql/wasql/internal/pgtext"
)

// Type OIDs of the types wasql serves (pg_type.oid); pgcatalog lists the other built-in types.
const (
	OIDBool        uint32 = 16
	OIDBytea       uint32 = 17
	OIDInt8        uint32 = 20
	OIDInt2        uint32 = 21
	OIDInt4        uint32 = 23
	OIDText        uint32 = 25
	OIDJSON        uint32 = 114
	OIDFloat4      uint32 = 700
	OIDFloat8      uint32 = 701
	OIDUnknown     uint32 = 705
	OIDVarchar     uint32 = 1043
	OIDDate        uint32 = 1082
	OIDTimestamp   uint32 = 1114
	OIDTimestampTZ uint32 = 1184
	OIDNumeric     uint32 = 1700
)

// TypeSize is pg_type.typlen.
func TypeSize(oid uint32) int16 {
	switch oid {
	case OIDBool:
		return 1
	case OIDInt2:
		return 2
	case OIDInt4, OIDFloat4, OIDDate:
		return 4
	case OIDInt8, OIDFloat8, OIDTimestamp, OIDTimestampTZ:
		return 8
	}
	return -1
}

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// encode renders v for a column of type oid in format 0 (text) or 1 (binary). nil is NULL.
func encode(v any, oid uint32, format int16) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if format == 1 {
		return encodeBinary(v, oid)
	}
	switch x := v.(type) {
	case string:
		return []byte(x), nil
	case []byte:
		if oid == OIDBytea {
			return []byte(`\x` + hex.EncodeToString(x)), nil
		}
		return x, nil
	case bool:
		if x {
			return []byte("t"), nil
		}
		return []byte("f"), nil
	case int8:
		if oid == OIDBool {
			return encode(x != 0, oid, 0)
		}
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return []byte(fmt.Sprint(x)), nil
	case float32:
		return strconv.AppendFloat(nil, float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
	case time.Time:
		switch oid {
		case OIDDate:
			return []byte(x.Format("2006-01-02")), nil
		case OIDTimestampTZ: // in the session's TimeZone, which the backend set as x's location
			return []byte(pgtext.FormatTimestampTZ(x)), nil
		}
		return []byte(pgtext.FormatTimestamp(x)), nil
	case fmt.Stringer:
		return []byte(x.String()), nil
	}
	return []byte(fmt.Sprint(v)), nil
}

func encodeBinary(v any, oid uint32) ([]byte, error) {
	be := binary.BigEndian
	switch oid {
	case OIDBool:
		b, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("cannot encode %T as boolean", v)
		}
		return []byte{byte(min(b, 1))}, nil
	case OIDInt2, OIDInt4, OIDInt8:
		n, ok := asInt(v)
		if !ok {
			return nil, fmt.Errorf("cannot encode %T as an integer", v)
		}
		switch oid {
		case OIDInt2:
			return be.AppendUint16(nil, uint16(n)), nil
		case OIDInt4:
			return be.AppendUint32(nil, uint32(n)), nil
		}
		return be.AppendUint64(nil, uint64(n)), nil
	case OIDFloat4, OIDFloat8:
		var f float64
		switch x := v.(type) {
		case float32:
			f = float64(x)
		case float64:
			f = x
		default:
			n, ok := asInt(v)
			if !ok {
				return nil, fmt.Errorf("cannot encode %T as a float", v)
			}
			f = float64(n)
		}
		if oid == OIDFloat4 {
			return be.AppendUint32(nil, math.Float32bits(float32(f))), nil
		}
		return be.AppendUint64(nil, math.Float64bits(f)), nil
	case OIDDate, OIDTimestamp, OIDTimestampTZ:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("cannot encode %T as a date or timestamp", v)
		}
		if oid == OIDDate { // days since 2000-01-01 of the date as written
			y, m, d := t.Date()
			days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400 - pgEpoch.Unix()/86400
			return be.AppendUint32(nil, uint32(int32(days))), nil
		}
		return be.AppendUint64(nil, uint64(t.UnixMicro()-pgEpoch.UnixMicro())), nil
	case OIDNumeric:
		text, err := encode(v, oid, 0)
		if err != nil {
			return nil, err
		}
		return numericBinary(string(text))
	}
	switch x := v.(type) { // text-like types: the bytes
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return encode(v, oid, 0)
}

// asInt reads a boolean as 0 or 1 and an integer as itself.
func asInt(v any) (int64, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, true
		}
		return 0, true
	}
	return Int64(v)
}

// Int64 reads an integer of any Go width, as go-mysql-server's rows carry them; ok is false
// for anything else.
func Int64(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case uint:
		return int64(x), true
	}
	return 0, false
}

// TimestampTZ is a timestamptz parameter sent in binary: an instant, unlike a timestamp's
// wall clock (a time.Time).
type TimestampTZ time.Time

// Numeric is a numeric parameter in its text form (123.450), which the backend binds as a
// decimal literal with its scale.
type Numeric string

// decodeParam turns a Bind parameter into a Go value for the backend. raw is pgproto3's read
// buffer, overwritten by the next message: nothing returned may alias it.
func decodeParam(raw []byte, oid uint32, format int16) (any, error) {
	if raw == nil {
		return nil, nil
	}
	if format == 0 {
		s := string(raw) // a copy
		switch oid {
		case OIDInt2, OIDInt4, OIDInt8:
			return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		case OIDFloat4, OIDFloat8:
			return strconv.ParseFloat(strings.TrimSpace(s), 64)
		case OIDNumeric:
			n := strings.TrimSpace(s)
			if _, err := strconv.ParseFloat(n, 64); err != nil || strings.ContainsAny(n, "eEnN") {
				return nil, fmt.Errorf("invalid input syntax for type numeric: %q", s)
			}
			return Numeric(n), nil
		case OIDBool:
			b, ok := pgtext.ParseBool(s)
			if !ok {
				return nil, fmt.Errorf("%s", pgtext.BoolError(s))
			}
			return b, nil
		case OIDBytea:
			return pgtext.ParseBytea(s)
		}
		return s, nil
	}
	if elem, ok := arrayElems[oid]; ok { // an array: its text form (arrays.go)
		return decodeArray(raw, elem)
	}
	be := binary.BigEndian
	switch oid {
	case OIDInt2:
		if len(raw) == 2 {
			return int64(int16(be.Uint16(raw))), nil
		}
	case OIDInt4:
		if len(raw) == 4 {
			return int64(int32(be.Uint32(raw))), nil
		}
	case OIDInt8:
		if len(raw) == 8 {
			return int64(be.Uint64(raw)), nil
		}
	case OIDFloat4:
		if len(raw) == 4 {
			return float64(math.Float32frombits(be.Uint32(raw))), nil
		}
	case OIDFloat8:
		if len(raw) == 8 {
			return math.Float64frombits(be.Uint64(raw)), nil
		}
	case OIDBool:
		if len(raw) == 1 {
			return raw[0] != 0, nil
		}
	case OIDBytea:
		return append([]byte(nil), raw...), nil
	case OIDDate:
		if len(raw) == 4 {
			return pgEpoch.AddDate(0, 0, int(int32(be.Uint32(raw)))), nil
		}
	case OIDTimestamp, OIDTimestampTZ:
		if len(raw) == 8 {
			t := time.UnixMicro(pgEpoch.UnixMicro() + int64(be.Uint64(raw))).UTC()
			if oid == OIDTimestampTZ {
				return TimestampTZ(t), nil
			}
			return t, nil
		}
	case OIDNumeric:
		n, err := numericText(raw)
		if err != nil {
			return nil, err
		}
		return Numeric(n), nil
	case OIDText, OIDVarchar, OIDJSON, OIDUnknown, 1042, 19: // bpchar, name: the text itself
		return string(raw), nil
	case 3802: // jsonb: a version byte, then the text
		if len(raw) >= 1 && raw[0] == 1 {
			return string(raw[1:]), nil
		}
	default:
		return nil, fmt.Errorf("binary format for parameters of type %d is not supported", oid)
	}
	return nil, fmt.Errorf("binary parameter of %d bytes does not fit type %d", len(raw), oid)
}

// numericBinary is numeric's binary form (numeric_send) of a decimal in text: ndigits, weight,
// sign and display scale, then base-10000 digits.
func numericBinary(text string) ([]byte, error) {
	be := binary.BigEndian
	s := strings.TrimSpace(text)
	if strings.EqualFold(s, "NaN") {
		return be.AppendUint16(be.AppendUint16(be.AppendUint16(be.AppendUint16(nil, 0), 0), 0xC000), 0), nil
	}
	var sign uint16
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = 0x4000
		}
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return nil, fmt.Errorf("cannot encode %q as numeric", text)
	}
	dscale := len(frac)
	intPart = strings.Repeat("0", (4-len(intPart)%4)%4) + intPart
	frac += strings.Repeat("0", (4-len(frac)%4)%4)
	all := intPart + frac
	var digits []uint16
	for i := 0; i < len(all); i += 4 {
		n, _ := strconv.Atoi(all[i : i+4])
		digits = append(digits, uint16(n))
	}
	weight := len(intPart)/4 - 1
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight, sign = 0, 0
	}
	out := be.AppendUint16(nil, uint16(len(digits)))
	out = be.AppendUint16(out, uint16(int16(weight)))
	out = be.AppendUint16(out, sign)
	out = be.AppendUint16(out, uint16(dscale))
	for _, d := range digits {
		out = be.AppendUint16(out, d)
	}
	return out, nil
}

// numericText reads numeric's binary form (numeric_recv) into its text form.
func numericText(raw []byte) (string, error) {
	be := binary.BigEndian
	if len(raw) < 8 {
		return "", fmt.Errorf("binary numeric of %d bytes", len(raw))
	}
	ndigits, weight, sign, dscale := int(be.Uint16(raw)), int(int16(be.Uint16(raw[2:]))), be.Uint16(raw[4:]), int(be.Uint16(raw[6:]))
	if len(raw) != 8+2*ndigits || dscale > 1000 {
		return "", fmt.Errorf("invalid binary numeric")
	}
	switch sign {
	case 0xC000:
		return "", fmt.Errorf("numeric NaN parameters are not supported")
	case 0, 0x4000:
	default:
		return "", fmt.Errorf("invalid sign in binary numeric")
	}
	digits := make([]int, ndigits)
	for i := range digits {
		digits[i] = int(be.Uint16(raw[8+2*i:]))
		if digits[i] > 9999 {
			return "", fmt.Errorf("invalid digit in binary numeric")
		}
	}
	var ip strings.Builder
	for w := weight; w >= 0; w-- {
		d := 0
		if i := weight - w; i < ndigits {
			d = digits[i]
		}
		if ip.Len() == 0 {
			if d != 0 || w == 0 {
				ip.WriteString(strconv.Itoa(d))
			}
		} else {
			fmt.Fprintf(&ip, "%04d", d)
		}
	}
	if ip.Len() == 0 {
		ip.WriteString("0")
	}
	var fp strings.Builder
	for i := weight + 1; fp.Len() < dscale; i++ {
		d := 0
		if i >= 0 && i < ndigits {
			d = digits[i]
		}
		fmt.Fprintf(&fp, "%04d", d)
	}
	out := ip.String()
	if dscale > 0 {
		out += "." + fp.String()[:dscale]
	}
	if sign == 0x4000 {
		out = "-" + out
	}
	return out, nil
}
