package pgtext

import (
	"bytes"
	"testing"
	"time"
)

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"t": true, "TRUE": true, "tr": true, "y": true, "yes": true, "YE": true, "on": true,
		"1": true, " true\t": true, "f": false, "False": false, "fa": false, "n": false, "no": false, "off": false, "of": false,
		"OFF": false, "0": false, "  0 ": false} {
		if got, ok := ParseBool(s); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", " ", "o", "maybe", "2", "10", "tru e", "truex", "yess", "00"} {
		if _, ok := ParseBool(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestParseBytea(t *testing.T) {
	for in, want := range map[string][]byte{`\xdeadbeef`: {0xde, 0xad, 0xbe, 0xef}, `\XDE AD`: {0xde, 0xad}, `\x`: {},
		`abc`: []byte("abc"), `a\\b`: []byte(`a\b`), `\001\377`: {1, 255}, ``: {}} {
		got, err := ParseBytea(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: %x %v, want %x", in, got, err, want)
		}
	}
	for _, in := range []string{`\xabc`, `\xzz`, `a\b`, `\400`, `\01`, `x\`} {
		if b, err := ParseBytea(in); err == nil {
			t.Errorf("%q: %x, want an error", in, b)
		}
	}
	if got := ByteaEscape([]byte{'a', 0, '\\', 0xde}); got != `a\000\\\336` {
		t.Errorf("escape: %s", got)
	}
}

func TestParseTimestamp(t *testing.T) {
	for in, want := range map[string]struct {
		wall string
		off  int
		zone bool
	}{
		"2024-05-02":                   {"2024-05-02 00:00:00", 0, false},
		"2024-05-02 00:00:00+00":       {"2024-05-02 00:00:00", 0, true},
		"2024-05-02 10:11:12.5-05:30":  {"2024-05-02 10:11:12.5", -19800, true},
		"2024-05-02T10:11:12.1234567Z": {"2024-05-02 10:11:12.123457", 0, true},
		" 2024-05-02 10:11 +0200 ":     {"2024-05-02 10:11:00", 7200, true},
		"2024-05-02 10:11:12 UTC":      {"2024-05-02 10:11:12", 0, true},
		"2024-05-02 10:11:12+05:30:15": {"2024-05-02 10:11:12", 19815, true},
		"2024-02-29 23:59:59.999999":   {"2024-02-29 23:59:59.999999", 0, false},
	} {
		ts, ok := ParseTimestamp(in)
		if !ok || FormatTimestamp(ts.Wall) != want.wall || ts.Offset != want.off || ts.Zone != want.zone {
			t.Errorf("%q: %v %+v, want %+v", in, ok, ts, want)
		}
	}
	for _, in := range []string{"2023-02-29", "2024-13-01", "2024-05-02 25:00", "May 2 2024", "now", "2024-05-02 10:11:12 Europe/Paris", "2024-05-02 10:11:12+1x"} {
		if ts, ok := ParseTimestamp(in); ok {
			t.Errorf("%q parsed: %+v", in, ts)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC).In(berlin), "2024-05-02 02:00:00+02"},
		{time.Date(2024, 1, 2, 0, 0, 0, 500000000, time.UTC), "2024-01-02 00:00:00.5+00"},
		{time.Date(2024, 1, 2, 0, 0, 0, 0, time.FixedZone("", -(3*3600+30*60))), "2024-01-02 00:00:00-03:30"},
		{time.Date(2024, 1, 2, 0, 0, 0, 0, time.FixedZone("", 3208)), "2024-01-02 00:00:00+00:53:28"},
	} {
		if got := FormatTimestampTZ(c.t); got != c.want {
			t.Errorf("%v: %s, want %s", c.t, got, c.want)
		}
	}
	if _, ok := Location("UTC+2"); ok {
		t.Error("a POSIX zone was read")
	}
	if _, err := ReadTimestamp("1960-01-01 00:00:00+00", true, nil); err == nil {
		t.Error("a timestamptz before 1970 was kept")
	}
	got, err := ReadTimestamp("2024-05-02 02:00:00", true, func() (*time.Location, error) { return berlin, nil })
	if err != nil || !got.Equal(time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("in the session zone: %v %v", got, err)
	}
	if got, err := ReadTimestamp("2024-05-02 02:00:00+05", false, nil); err != nil || FormatTimestamp(got) != "2024-05-02 02:00:00" {
		t.Errorf("timestamp ignores the offset: %v %v", got, err)
	}
}
