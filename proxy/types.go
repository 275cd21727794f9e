package proxy

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
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
		case OIDTimestampTZ:
			return []byte(x.UTC().Format("2006-01-02 15:04:05.999999") + "+00"), nil
		}
		return []byte(x.Format("2006-01-02 15:04:05.999999")), nil
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
		if oid == OIDDate {
			return be.AppendUint32(nil, uint32(int32(t.Sub(pgEpoch).Hours()/24))), nil
		}
		return be.AppendUint64(nil, uint64(t.Sub(pgEpoch).Microseconds())), nil
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

// decodeParam turns a Bind parameter into a Go value for the backend.
func decodeParam(raw []byte, oid uint32, format int16) (any, error) {
	if raw == nil {
		return nil, nil
	}
	if format == 0 {
		s := string(raw)
		switch oid {
		case OIDInt2, OIDInt4, OIDInt8:
			return strconv.ParseInt(s, 10, 64)
		case OIDFloat4, OIDFloat8:
			return strconv.ParseFloat(s, 64)
		case OIDBool:
			switch s {
			case "t", "true", "on", "1", "yes":
				return true, nil
			case "f", "false", "off", "0", "no":
				return false, nil
			}
			return nil, fmt.Errorf("invalid input syntax for type boolean: %q", s)
		case OIDBytea:
			if h, ok := cutPrefix(s, `\x`); ok {
				return hex.DecodeString(h)
			}
			return raw, nil
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
	default:
		return string(raw), nil
	}
	return nil, fmt.Errorf("binary parameter of %d bytes does not fit type %d", len(raw), oid)
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}
