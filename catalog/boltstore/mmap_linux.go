package boltstore

import "syscall"

// populate maps the catalog file with its pages read in (see Open).
const populate = syscall.MAP_POPULATE

// dontNeed drops the n bytes of the file mapping at addr from this process's resident memory;
// the pages stay in the page cache, and a later read faults them in again.
func dontNeed(addr, n uintptr) error {
	if n == 0 {
		return nil
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
