package udf

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// TestHeapWatch: free heap left by a collection is returned once the heap is quiet, once, and
// not while collections keep coming.
func TestHeapWatch(t *testing.T) {
	var w heapWatch
	// Go's scavenger keeps free heap up to the collector's goal (twice the live heap): with
	// 64 MB live, 64 MB of garbage collected stays with the process. Small objects, like a
	// server's (large ones are returned at once).
	live := make([][]byte, 64<<10)
	for i := range live {
		live[i] = make([]byte, 1<<10)
	}
	// Another test's runtime may still collect between two ticks; a few tries, each with its
	// own garbage, make that unlikely to matter, and one quiet pair of ticks must return.
	returned := false
	for try := 0; try < 5 && !returned; try++ {
		garbage := make([][]byte, 64<<10)
		for i := range garbage {
			garbage[i] = make([]byte, 1<<10)
		}
		garbage = nil
		runtime.GC()
		if w.tick(false) {
			t.Fatal("returned at a tick that saw a collection (not quiet)")
		}
		returned = w.tick(false)
	}
	if !returned {
		t.Fatalf("quiet heap with %d MB free: not returned in 5 tries", heapFree()>>20)
	}
	if free := heapFree(); free >= returnThreshold {
		t.Fatalf("after the return: %d MB still free", free>>20)
	}
	if w.tick(false) {
		t.Fatal("returned again with no collection since")
	}
	if !w.tick(true) {
		t.Fatal("a return asked for (a sweep freed something) did not happen")
	}
	runtime.KeepAlive(live)
}

func heapFree() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
