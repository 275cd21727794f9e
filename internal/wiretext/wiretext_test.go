package wiretext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\tand\nnewline", "tab\tand\nnewline"},
		{"x\x00C28P01\x00Mforged", "x\uFFFDC28P01\uFFFDMforged"},
		{"bad \xff\xfe utf8", "bad \uFFFD\uFFFD utf8"},
		{"del\x7f esc\x1b", "del\uFFFD esc\uFFFD"},
		{"héllo wörld", "héllo wörld"},
	} {
		if got := Clean(tc.in, 0); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCleanBound(t *testing.T) {
	long := strings.Repeat("é", 5000)
	got := Clean(long, MaxGuest)
	if len(got) > MaxGuest || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("Clean of 10000 bytes: len %d, valid %v, %q...", len(got), utf8.ValidString(got), got[len(got)-8:])
	}
	if got := Clean("short", MaxGuest); got != "short" {
		t.Fatalf("short text changed: %q", got)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("x\x00y", 10)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		got := Clean(s, max)
		if strings.ContainsRune(got, 0) || !utf8.ValidString(got) || max > 0 && len(got) > max && len(got) > len("…") {
			t.Fatalf("Clean(%q, %d) = %q", s, max, got)
		}
	})
}
