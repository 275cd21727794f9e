package udf

import "syscall"

// mapMemory reserves max bytes of address space for a linear memory: anonymous pages that use
// no physical memory until written, returned to the system at once by unmapMemory. A module
// that declares a large memory and touches little of it costs what it touches.
func mapMemory(max uint64) ([]byte, bool) {
	if max == 0 || max > 1<<32 {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, false
	}
	return b, true
}

func unmapMemory(b []byte) { _ = syscall.Munmap(b) }

// zeroPages zeroes b, a page-aligned range of a mapped memory, by dropping its pages: they read
// as zero again and stop using physical memory.
func zeroPages(b []byte) {
	if len(b) == 0 {
		return
	}
	if syscall.Madvise(b, syscall.MADV_DONTNEED) != nil {
		clear(b)
	}
}
