//go:build wasip1

package wasql

import "unsafe"

// memory is the whole linear memory as a slice: index = address. Its data pointer is address 0
// and its length 4 GiB, so bounds checks never fail and an access past the current memory size
// traps, as it would in C. Sub-slices are always taken with a capacity (s[a:b:b]) so that the
// runtime never sees a pointer past the end of the buffer they lie in.
var memory = func() []byte {
	h := struct {
		data     unsafe.Pointer
		len, cap int
	}{nil, 1 << 32, 1 << 32}
	return *(*[]byte)(unsafe.Pointer(&h))
}()

// addr returns the linear-memory address of a Go buffer.
func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

func guestEnv() env { return env{mem: memory, addr: addr} }

// allocs keeps the blocks handed out by wasql_alloc reachable, so that the GC (which does not move
// objects) never frees them, until wasql_free.
var allocs = map[uint32][]uint64{}

//go:wasmexport wasql_abi_v1
func abiV1() {}

// wasqlAlloc returns an 8-byte aligned, zeroed block ([]uint64 backing arrays are 8-byte
// aligned). When the memory limit is reached the Go runtime aborts instead of returning 0.
//
//go:wasmexport wasql_alloc
func wasqlAlloc(size uint32) uint32 {
	n := (uint64(size) + 7) / 8
	if n == 0 {
		n = 1
	}
	block := make([]uint64, n)
	p := uint32(uintptr(unsafe.Pointer(&block[0])))
	allocs[p] = block
	return p
}

//go:wasmexport wasql_free
func wasqlFree(ptr, size uint32) { delete(allocs, ptr) }

//go:wasmimport wasi_snapshot_preview1 fd_write
func fdWrite(fd int32, iovs unsafe.Pointer, iovsLen int32, written unsafe.Pointer) int32

// writeStderr writes b to the guest's stderr (fd 2) with one WASI call.
func writeStderr(b []byte) {
	if len(b) == 0 {
		return
	}
	iov := [2]uint32{addr(b), uint32(len(b))}
	var n uint32
	fdWrite(2, unsafe.Pointer(&iov), 1, unsafe.Pointer(&n))
}
