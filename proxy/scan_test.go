package proxy

import (
	"fmt"
	"testing"
)

func TestSplitAndParams(t *testing.T) {
	for q, want := range map[string]string{
		"SELECT 1; SELECT 2":                         "[SELECT 1 SELECT 2]",
		"SELECT ';' AS x; -- a; comment\nSELECT 2;;": "[SELECT ';' AS x -- a; comment\nSELECT 2]",
		`SELECT "a;b", $$x;y$$, $tag$;$tag$ /* ; */`: `[SELECT "a;b", $$x;y$$, $tag$;$tag$ /* ; */]`,
		"  ;  ":                          "[]",
		"SELECT 'unterminated; SELECT 2": "[SELECT 'unterminated; SELECT 2]",
	} {
		if got := fmt.Sprint(splitStatements(q)); got != want {
			t.Errorf("split %q: %s, want %s", q, got, want)
		}
	}
	q, order := rewriteParams(`SELECT $2, '$1', "$3", $1 -- $4` + "\n, $10")
	if q != "SELECT ?, '$1', \"$3\", ? -- $4\n, ?" || fmt.Sprint(order) != "[2 1 10]" {
		t.Fatalf("rewrite: %q %v", q, order)
	}
	if n := countParams("SELECT $1 + $3"); n != 3 {
		t.Fatalf("countParams: %d", n)
	}
}

// FuzzSplit: the scanners never panic and never lose text outside the statements they return.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 2", "$a$ ; $a$", "'", "/*", "--", "$1$2", "$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		splitStatements(q)
		r, order := rewriteParams(q)
		if len(order) == 0 && r != q {
			t.Fatalf("rewrote a query without parameters")
		}
	})
}

// rewriteParams replaces each $n placeholder that forEachParam finds with ? and lists the n in
// order: what the scanner finds, in a form a test can compare.
func rewriteParams(q string) (rewritten string, order []int) {
	var b []byte
	last := 0
	forEachParam(q, func(start, end, n int) {
		b = append(b, q[last:start]...)
		b = append(b, '?')
		order = append(order, n)
		last = end
	})
	if order == nil {
		return q, nil
	}
	return string(append(b, q[last:]...)), order
}
