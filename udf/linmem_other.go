//go:build !linux

package udf

// mapMemory is only implemented on Linux; elsewhere linear memories are Go slices.
func mapMemory(max uint64) ([]byte, bool) { return nil, false }

func unmapMemory(b []byte) {}

func zeroPages(b []byte) { clear(b) }
