// Package wiretext makes text safe to put into a wire message: text that came from a guest module
// or a client (error messages, guest output) never carries a NUL (which ends a field of a Postgres
// ErrorResponse and would let the rest forge fields), never invalid UTF-8, never unbounded length.
package wiretext

import (
	"strings"
	"unicode/utf8"
)

// MaxGuest is the bound, in bytes, on guest text (a row error's message, a stdout excerpt) in
// any wire message.
const MaxGuest = 1024

// Clean returns s with NUL and other control characters except tab and newline replaced by
// U+FFFD, invalid UTF-8 replaced by U+FFFD, and cut to at most max bytes (on a rune boundary,
// ending in "…" when cut). max <= 0 means no bound.
func Clean(s string, max int) string {
	if isClean(s) && (max <= 0 || len(s) <= max) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || isControl(r) {
			r = utf8.RuneError
		}
		if max > 0 && b.Len()+utf8.RuneLen(r) > max-len("…") {
			b.WriteString("…")
			return b.String()
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

func isClean(s string) bool { return utf8.ValidString(s) && !strings.ContainsFunc(s, isControl) }

func isControl(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f }
