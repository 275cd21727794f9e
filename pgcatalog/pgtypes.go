package pgcatalog

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/wasql/wasql/internal/pgtext"
)

// typeFunctions are the functions package pgsql's casts and renamings call where a Postgres
// type reads or prints differently from MySQL's: x::bytea, x::timestamp, x::timestamptz,
// length(bytea), encode and decode.
var typeFunctions = map[string]fn{
	"pg_bytea":       {min: 1, max: 1, typ: types.LongBlob, strict: true, eval: toBytea},
	"pg_timestamp":   {min: 1, max: 1, typ: types.DatetimeMaxPrecision, strict: true, eval: toTimestamp(false)},
	"pg_timestamptz": {min: 1, max: 1, typ: types.TimestampMaxPrecision, strict: true, eval: toTimestamp(true)},
	"pg_length":      {min: 1, max: 1, typ: types.Int32, strict: true, eval: length},
	"encode":         {min: 2, max: 2, typ: textType, strict: true, eval: encodeBytea},
	"decode":         {min: 2, max: 2, typ: types.LongBlob, strict: true, eval: decodeBytea},
}

func init() { maps.Copy(functions, typeFunctions) }

// toBytea is x::bytea: a string is read as bytea input (hex or escape format), bytes stay.
func toBytea(_ *env, args []any) (any, error) {
	switch v := args[0].(type) {
	case []byte:
		return v, nil
	case string:
		b, err := pgtext.ParseBytea(v)
		if err != nil {
			return nil, &pgError{code: "22P02", msg: err.Error()}
		}
		return b, nil
	}
	return nil, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast type %T to bytea", args[0])}
}

// location is the session's TimeZone.
func (e *env) location() (*time.Location, error) {
	name := "UTC"
	if e.cat.src.Settings != nil {
		if s, ok := e.cat.src.Settings(e.ctx)["timezone"]; ok {
			name = s
		}
	}
	return pgtext.SessionLocation(name)
}

// toTimestamp is x::timestamp (zoned false) or x::timestamptz: a string is read as Postgres
// reads it, a timestamptz becomes a timestamp in the session's TimeZone and back.
func toTimestamp(zoned bool) func(e *env, args []any) (any, error) {
	return func(e *env, args []any) (any, error) {
		switch v := args[0].(type) {
		case string:
			return pgtext.ReadTimestamp(v, zoned, e.location)
		case time.Time:
			fromZoned := e.args[0].Type().Type() == sqltypes.Timestamp
			if zoned == fromZoned {
				return v, nil
			}
			loc, err := e.location()
			if err != nil {
				return nil, err
			}
			if fromZoned { // the wall clock in the session's zone
				w := v.In(loc)
				return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC), nil
			}
			return pgtext.CheckTimestampTZ(time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc).UTC())
		}
		return nil, &pgError{code: "42846", msg: fmt.Sprintf("cannot cast type %s to timestamp", e.args[0].Type())}
	}
}

// length is length(x): the bytes of a bytea, the characters of a text.
func length(_ *env, args []any) (any, error) {
	switch v := args[0].(type) {
	case []byte:
		return int32(len(v)), nil
	case string:
		return int32(utf8.RuneCountInString(v)), nil
	}
	return int32(utf8.RuneCountInString(fmt.Sprint(args[0]))), nil
}

func byteArg(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(v))
}

// encodeBytea is encode(bytea, format) for the formats hex, escape and base64.
func encodeBytea(_ *env, args []any) (any, error) {
	b := byteArg(args[0])
	switch strings.ToLower(fmt.Sprint(args[1])) {
	case "hex":
		return hex.EncodeToString(b), nil
	case "escape":
		return pgtext.ByteaEscape(b), nil
	case "base64": // Postgres breaks lines after 76 characters
		s := base64.StdEncoding.EncodeToString(b)
		var sb strings.Builder
		for len(s) > 76 {
			sb.WriteString(s[:76] + "\n")
			s = s[76:]
		}
		sb.WriteString(s)
		return sb.String(), nil
	}
	return nil, &pgError{code: "22023", msg: fmt.Sprintf("unrecognized encoding: %q", fmt.Sprint(args[1]))}
}

// decodeBytea is decode(text, format) for the formats hex, escape and base64.
func decodeBytea(_ *env, args []any) (any, error) {
	s := string(byteArg(args[0]))
	switch strings.ToLower(fmt.Sprint(args[1])) {
	case "hex":
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		if len(s)%2 != 0 {
			return nil, &pgError{code: "22023", msg: "invalid hexadecimal data: odd number of digits"}
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, &pgError{code: "22023", msg: "invalid hexadecimal digit"}
		}
		return b, nil
	case "escape":
		b, err := pgtext.ByteaUnescape(s)
		if err != nil {
			return nil, &pgError{code: "22P02", msg: err.Error()}
		}
		return b, nil
	case "base64":
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, &pgError{code: "22023", msg: "invalid base64 end sequence"}
		}
		return b, nil
	}
	return nil, &pgError{code: "22023", msg: fmt.Sprintf("unrecognized encoding: %q", fmt.Sprint(args[1]))}
}
