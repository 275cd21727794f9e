package upstream

import "testing"

// TestRetirer: a retired function closes only once the statements that began before its
// retirement have ended; statements begun after it do not hold it.
func TestRetirer(t *testing.T) {
	var r retirer
	closed := 0
	a := r.begin()
	r.retire(func() { closed++ })
	b := r.begin() // after the retirement: cannot use the old version
	if closed != 0 {
		t.Fatal("closed while a statement that began before runs")
	}
	r.end(b)
	if closed != 0 {
		t.Fatal("closed by the end of a later statement")
	}
	r.end(a)
	if closed != 1 {
		t.Fatalf("closed %d times after the last statement ended, want 1", closed)
	}
	r.retire(func() { closed++ }) // nothing runs: at once
	if closed != 2 {
		t.Fatalf("closed %d, want 2", closed)
	}
}
