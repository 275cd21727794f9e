package pgsql

import (
	"testing"
	"time"

	"github.com/wasql/wasql/internal/sqlstate"
)

// FuzzTranslate: any text either translates or fails with a SQLSTATE a client can act on;
// never XX000. The corpus starts from the statements of TestTranslate.
func FuzzTranslate(f *testing.F) {
	for _, c := range translateCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, q string) {
		type result struct {
			st  *Statement
			err error
		}
		done := make(chan result, 1)
		go func() {
			st, err := translate(q)
			done <- result{st, err}
		}()
		var st *Statement
		var err error
		select {
		case r := <-done:
			st, err = r.st, r.err
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: no answer in 5s", q)
		}
		if err != nil {
			if code := sqlstate.Of(err); code == sqlstate.InternalError || len(code) != 5 {
				t.Fatalf("%q: %v (SQLSTATE %s)", q, err, code)
			}
			return
		}
		if st == nil {
			t.Fatalf("%q: no statement and no error", q)
		}
	})
}
