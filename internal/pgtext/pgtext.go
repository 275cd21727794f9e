// Package pgtext reads and writes Postgres's text forms of the types whose MySQL spellings
// differ: boolean, bytea and timestamp/timestamptz. The wire (parameters), the translation
// (literals) and the engine (coercion of untyped strings, output) share it, so a value reads
// the same whichever way it arrives.
package pgtext

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ParseBool reads a boolean as Postgres's boolin does: t, true, y, yes, on, 1 and f, false, n,
// no, off, 0, in any case, with surrounding whitespace, and any unique prefix of the words
// ("o" is ambiguous).
func ParseBool(s string) (value, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "o" {
		return false, false
	}
	for _, w := range []string{"true", "yes", "on", "1"} {
		if strings.HasPrefix(w, s) {
			return true, true
		}
	}
	for _, w := range []string{"false", "no", "off", "0"} {
		if strings.HasPrefix(w, s) {
			return false, true
		}
	}
	return false, false
}

// BoolError is Postgres's error text for a string that is no boolean.
func BoolError(s string) string {
	return fmt.Sprintf("invalid input syntax for type boolean: %q", s)
}

// ParseBytea reads bytea input as byteain does (errors are *Error with Postgres's SQLSTATE): \x followed by hex digit pairs (whitespace
// allowed between pairs), else the escape format, where \\ is a backslash, \ooo an octal byte
// and every other byte stands for itself.
func ParseBytea(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		out := make([]byte, 0, (len(s)-2)/2)
		h := s[2:]
		for i := 0; i < len(h); {
			c := h[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
				continue
			}
			if i+1 >= len(h) {
				return nil, &Error{Code: "22023", Msg: "invalid hexadecimal data: odd number of digits"}
			}
			b, err := hex.DecodeString(h[i : i+2])
			if err != nil {
				bad := h[i]
				if isHex(bad) {
					bad = h[i+1]
				}
				return nil, &Error{Code: "22023", Msg: fmt.Sprintf("invalid hexadecimal digit: %q", string(bad))}
			}
			out = append(out, b[0])
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1], '3') && isOctal(s[i+2], '7') && isOctal(s[i+3], '7'):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, &Error{Code: "22P02", Msg: "invalid input syntax for type bytea"}
		}
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isOctal(c, max byte) bool { return c >= '0' && c <= max }

// ByteaHex is bytea's output in the hex format (bytea_output = hex).
func ByteaHex(b []byte) string { return `\x` + hex.EncodeToString(b) }

// ByteaEscape is encode(b, 'escape'): a zero byte, a byte with the high bit set and a
// backslash are written as octal or doubled escapes, the rest as themselves.
func ByteaEscape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			sb.WriteString(`\\`)
		case c == 0 || c >= 0x80:
			fmt.Fprintf(&sb, `\%03o`, c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// ByteaUnescape is decode(s, 'escape'): \\ and \ooo are escapes, anything else is itself.
func ByteaUnescape(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) { // decode's escape format has no hex form: \x is an error
		return nil, &Error{Code: "22P02", Msg: "invalid input syntax for type bytea"}
	}
	return ParseBytea(s)
}

// Timestamp is a timestamp read from its text form.
type Timestamp struct {
	Wall   time.Time // the date and time as written, in UTC
	Zone   bool      // the text gave a UTC offset
	Offset int       // the offset, in seconds east of UTC
}

// Instant is the moment a timestamp with an offset names.
func (t Timestamp) Instant() time.Time { return t.Wall.Add(-time.Duration(t.Offset) * time.Second) }

// ParseTimestamp reads the ISO 8601 forms of timestamp and timestamptz input that drivers send:
// YYYY-MM-DD, then optionally a space or T and HH:MM[:SS[.ffffff]], then optionally a zone: Z,
// UTC, GMT, or a numeric offset ±HH, ±HHMM, ±HH:MM, ±HH:MM:SS. ok is false for any other
// form (named zones, 'now', 'epoch', other date orders), which the caller refuses.
func ParseTimestamp(s string) (ts Timestamp, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return ts, false
	}
	y, err1 := strconv.Atoi(s[0:4])
	mo, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil || s[0] == '+' || s[0] == '-' {
		return ts, false
	}
	rest := s[10:]
	var h, mi, sec, nanos int
	if rest != "" && (rest[0] == ' ' || rest[0] == 'T' || rest[0] == 't') && hasTime(rest[1:]) {
		r := strings.TrimLeft(rest[1:], " ")
		var err error
		if h, err = strconv.Atoi(r[0:2]); err != nil {
			return ts, false
		}
		if mi, err = strconv.Atoi(r[3:5]); err != nil {
			return ts, false
		}
		r = r[5:]
		if len(r) >= 3 && r[0] == ':' {
			if sec, err = strconv.Atoi(r[1:3]); err != nil {
				return ts, false
			}
			r = r[3:]
			if len(r) > 0 && r[0] == '.' {
				j := 1
				for j < len(r) && r[j] >= '0' && r[j] <= '9' {
					j++
				}
				frac := r[1:j]
				if frac == "" {
					return ts, false
				}
				// Postgres keeps microseconds, rounding half up
				digits := (frac + "0000000")[:7]
				n, _ := strconv.Atoi(digits)
				micros := (n + 5) / 10
				nanos = micros * 1000
				r = r[j:]
			}
		}
		rest = r
	}
	off, zone, ok := parseZone(strings.TrimLeft(rest, " "))
	if !ok {
		return ts, false
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi != 0 || sec != 0 || nanos != 0)) {
		return ts, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nanos, time.UTC)
	if t.Day() != d { // 2023-02-30
		return ts, false
	}
	return Timestamp{Wall: t, Zone: zone, Offset: off}, true
}

// hasTime reports whether s (after the date's separator) starts with HH:MM.
func hasTime(s string) bool {
	s = strings.TrimLeft(s, " ")
	return len(s) >= 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}

// parseZone reads a zone suffix: "" (none), Z, UTC, GMT or a numeric offset; off is in seconds
// east of UTC.
func parseZone(z string) (off int, zone, ok bool) {
	switch strings.ToUpper(z) {
	case "":
		return 0, false, true
	case "Z", "UTC", "GMT", "+00", "-00":
		return 0, true, true
	}
	if z[0] != '+' && z[0] != '-' {
		return 0, false, false
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	parts := strings.Split(z[1:], ":")
	if len(parts) == 1 && len(parts[0]) == 4 { // +0530
		parts = []string{parts[0][:2], parts[0][2:]}
	}
	if len(parts) > 3 {
		return 0, false, false
	}
	mult := []int{3600, 60, 1}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return 0, false, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || (i > 0 && n > 59) {
			return 0, false, false
		}
		off += n * mult[i]
	}
	if off > 15*3600+59*60 {
		return 0, false, false
	}
	return sign * off, true, true
}

// FormatTimestampTZ prints t as timestamptz output does in the ISO DateStyle: the wall clock
// in t's location, microseconds without trailing zeros, and the offset as +HH, +HH:MM or
// +HH:MM:SS.
func FormatTimestampTZ(t time.Time) string {
	_, off := t.Zone()
	return FormatTimestamp(t) + FormatOffset(off)
}

// FormatTimestamp prints t's wall clock as timestamp output does.
func FormatTimestamp(t time.Time) string {
	s := t.Format("2006-01-02 15:04:05.999999")
	if y := t.Year(); y <= 0 {
		return t.AddDate(1-2*y, 0, 0).Format("2006-01-02 15:04:05.999999") + " BC"
	} else if y > 9999 {
		return s // Go prints the year with more digits, as Postgres does
	}
	return s
}

// FormatOffset prints a UTC offset in seconds as Postgres does: +02, -03:30, +00:53:28.
func FormatOffset(off int) string {
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := fmt.Sprintf("%s%02d", sign, off/3600)
	if m, sec := off%3600/60, off%60; m != 0 || sec != 0 {
		s += fmt.Sprintf(":%02d", m)
		if sec != 0 {
			s += fmt.Sprintf(":%02d", sec)
		}
	}
	return s
}

// Location is the session TimeZone setting as a location: an IANA name (UTC, Europe/Berlin).
// ok is false for the POSIX and numeric forms Postgres also accepts, which wasql does not read.
func Location(name string) (*time.Location, bool) {
	name = strings.Trim(strings.TrimSpace(name), `'"`)
	switch strings.ToUpper(name) {
	case "", "UTC", "GMT", "Z", "ZULU", "ETC/UTC", "UCT":
		return time.UTC, true
	}
	if strings.ContainsAny(name, "+-0123456789") && !strings.Contains(name, "/") {
		return nil, false // 'UTC+2', '+02:00', 'EST5EDT': POSIX rules with inverted signs
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	return loc, true
}

// isoShape is the form ParseTimestamp reads, whatever the fields' values.
var isoShape = regexp.MustCompile(`^\s*\d{4}-\d{2}-\d{2}([ Tt]\s*\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*([zZ]|UTC|GMT|[+-]\d{2}(:?\d{2}(:\d{2})?)?)?\s*$`)

// Postgres's special timestamp inputs, which wasql does not read.
var specialTimestamps = map[string]bool{"now": true, "today": true, "tomorrow": true, "yesterday": true,
	"epoch": true, "infinity": true, "-infinity": true, "allballs": true}

// ReadTimestamp reads timestamp (zoned false) or timestamptz (zoned true) input as the engine
// keeps it. A timestamp ignores an offset, as Postgres does; a timestamptz without one is in
// the location session returns. timestamptz values are kept in UTC in a TIMESTAMP column,
// whose range (1970 to 2038) is the engine's: outside it they are refused.
func ReadTimestamp(s string, zoned bool, session func() (*time.Location, error)) (time.Time, error) {
	name := "timestamp"
	if zoned {
		name = "timestamp with time zone"
	}
	ts, ok := ParseTimestamp(s)
	if !ok {
		f := strings.ToLower(strings.TrimSpace(s))
		if specialTimestamps[f] || len(f) < 5 || f[4] != '-' {
			return time.Time{}, &Error{Code: featureNotSupported,
				Msg: fmt.Sprintf("%s input %q is not supported (wasql reads ISO 8601: 2024-05-02 10:00:00+02)", name, s)}
		}
		if isoShape.MatchString(s) { // well formed, a field out of range (2024-13-01, 25:00)
			return time.Time{}, &Error{Code: "22008", Msg: fmt.Sprintf("date/time field value out of range: %q", s)}
		}
		return time.Time{}, &Error{Code: "22007", Msg: fmt.Sprintf("invalid input syntax for type %s: %q", name, s)}
	}
	if !zoned {
		return ts.Wall, nil
	}
	if ts.Zone {
		return CheckTimestampTZ(ts.Instant())
	}
	loc, err := session()
	if err != nil {
		return time.Time{}, err
	}
	w := ts.Wall
	return CheckTimestampTZ(time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc).UTC())
}

var (
	minTimestampTZ = time.Unix(1, 0).UTC()
	maxTimestampTZ = time.Unix(1<<31-1, 999999000).UTC()
)

// CheckTimestampTZ refuses an instant the engine's TIMESTAMP cannot hold.
func CheckTimestampTZ(t time.Time) (time.Time, error) {
	if t.Before(minTimestampTZ) || t.After(maxTimestampTZ) {
		return time.Time{}, &Error{Code: featureNotSupported,
			Msg: fmt.Sprintf("timestamp with time zone %s is not supported: wasql keeps timestamptz values from 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC", t.Format("2006-01-02 15:04:05Z07:00"))}
	}
	return t, nil
}

// SessionLocation is a TimeZone setting as a location, refused with 0A000 when wasql cannot
// read it.
func SessionLocation(name string) (*time.Location, error) {
	loc, ok := Location(name)
	if !ok {
		return nil, &Error{Code: featureNotSupported,
			Msg: fmt.Sprintf("the time zone %q is not supported with timestamptz (wasql reads IANA zone names: UTC, Europe/Berlin)", name)}
	}
	return loc, nil
}

// Error is an input error with its SQLSTATE.
type Error struct{ Code, Msg string }

func (e *Error) Error() string { return e.Msg }

// SQLState implements the interface sqlstate.Carrier.
func (e *Error) SQLState() string { return e.Code }

const featureNotSupported = "0A000"
