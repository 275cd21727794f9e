// Package wasql helps write wasql SQL functions in Go. It implements the guest side of the
// columnar batch ABI v1 (docs/abi.md) behind per-row Go functions.
//
// The package is its own module, github.com/wasql/wasql/sdk/go, without dependencies. Until it
// is published, use it from a checkout of wasql with a replace directive in the guest's go.mod:
//
//	require github.com/wasql/wasql/sdk/go v0.0.0
//
//	replace github.com/wasql/wasql/sdk/go => /path/to/wasql/sdk/go
//
// Build guests (Go 1.24 or later) with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o funcs.wasm .
//
// Importing the package exports wasql_abi_v1, wasql_alloc and wasql_free from the module
// (//go:wasmexport works from any package linked into the program). Each SQL function is one
// exported batch function that hands its batch to Map1, Map2, Map1Null or Map2Null:
//
//	//go:build wasip1
//
//	package main
//
//	import (
//		"strings"
//
//		"github.com/wasql/wasql/sdk/go/wasql"
//	)
//
//	//go:wasmexport wasql_batch_upper
//	//wasql:function upper(s text) RETURNS text IMMUTABLE PARALLEL SAFE
//	func upper(b uint32) uint32 {
//		return wasql.Map1(b, func(s string) (string, error) { return strings.ToUpper(s), nil })
//	}
//
//	func main() {}
//
// The //wasql:function comment is the function's SQL signature (docs/abi.md §4.5). Go cannot
// write Wasm custom sections, so after go build the SDK's signer appends them to the module:
//
//	go run github.com/wasql/wasql/sdk/go/cmd/wasqlsign funcs.wasm .
//
// and the module registers without repeating it: CREATE FUNCTION upper LANGUAGE wasm AS <module>,
// or wasql function create funcs.wasm. Log writes a line the client sees as a NOTICE.
//
// # Types
//
// The Go type of each argument and of the result must fit the type code the host puts in the
// descriptor, otherwise the batch fails with an ABI error (status 2, message in error_ptr):
//
//	int16      smallint
//	int32      integer
//	int64      bigint
//	float32    real
//	float64    double precision
//	bool       boolean
//	Date       date (days since 1970-01-01)
//	Timestamp  timestamp (microseconds since 1970-01-01 00:00 UTC)
//	string     text, json
//	[]byte     bytea, text, json
//
// A []byte argument aliases the host's batch buffer: it is only valid until the per-row function
// returns (copy it to keep it), and an empty value may be a nil slice.
//
// # NULLs and errors
//
// Map1 and Map2 are for STRICT functions: a row with a NULL argument gets a NULL result without
// calling the function. Map1Null and Map2Null see NULLs as Nullable values and may return NULL;
// declare those functions CALLED ON NULL INPUT.
//
// A non-nil error from the per-row function fails the batch at that row (status 1) with
// err.Error() as the message.
//
// # Building on other platforms
//
// The package builds on any GOOS so that code sharing it can be vetted and tested natively, but
// Map1 and friends panic outside GOOS=wasip1.
package wasql

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unsafe"
)

// Type codes of abi.md §2.
const (
	TypeSmallint  = 1
	TypeInteger   = 2
	TypeBigint    = 3
	TypeReal      = 4
	TypeDouble    = 5
	TypeBoolean   = 6
	TypeText      = 7
	TypeBytea     = 8
	TypeJSON      = 9
	TypeDate      = 10
	TypeTimestamp = 11
)

// Return values of a batch export (abi.md §4.3).
const (
	StatusOK       = 0 // the result column is filled
	StatusRowError = 1 // error_row failed with the message at error_ptr/error_len
	StatusABIError = 2 // the descriptor does not fit the Go function; message at error_ptr/error_len
)

// Date is an SQL date: days since 1970-01-01. time.Unix(int64(d)*86400, 0).UTC() converts it to
// a time.Time. (The package does not import time itself: that would pull in package syscall and its
// WASI preopen scan into every guest.)
type Date int32

// Timestamp is an SQL timestamp: microseconds since 1970-01-01 00:00 UTC.
// time.UnixMicro(int64(ts)) and Timestamp(t.UnixMicro()) convert it from and to time.Time.
type Timestamp int64

// Value lists the Go types that map to SQL types.
type Value interface {
	int16 | int32 | int64 | float32 | float64 | bool | Date | Timestamp | string | []byte
}

// Nullable is a value that may be SQL NULL (Valid false).
type Nullable[T Value] struct {
	V     T
	Valid bool
}

// Some returns a non-NULL value.
func Some[T Value](v T) Nullable[T] { return Nullable[T]{V: v, Valid: true} }

// Null returns SQL NULL.
func Null[T Value]() Nullable[T] { return Nullable[T]{} }

// Descriptor layout (abi.md §4.2).
const (
	offVersion  = 0
	offRows     = 4
	offNargs    = 8
	offResult   = 16
	offErrorRow = 36
	offErrorPtr = 40
	offErrorLen = 44
	offArgs     = 48
	colSize     = 20

	colType     = 0
	colValidity = 4
	colValues   = 8
	colData     = 12
	colDataLen  = 16
)

// env is the guest memory the batch code works on. In a wasip1 guest mem is the whole linear
// memory (index = address) and addr returns the address of a Go slice; unit tests fake both.
type env struct {
	mem []byte
	// addr returns the address in mem of b, a buffer that stays valid until the batch returns.
	addr func(b []byte) uint32
}

// col is a column descriptor.
type col struct {
	at                                   uint32 // address of the descriptor itself
	typ, validity, values, data, dataLen uint32
}

// batch is a decoded batch descriptor.
type batch struct {
	env
	at   uint32
	rows int
}

func (e env) u32(at uint32) uint32 { return binary.LittleEndian.Uint32(e.mem[at : at+4 : at+4]) }

func (e env) put32(at, v uint32) { binary.LittleEndian.PutUint32(e.mem[at:at+4:at+4], v) }

func (b *batch) col(at uint32) col {
	return col{
		at:       at,
		typ:      b.u32(at + colType),
		validity: b.u32(at + colValidity),
		values:   b.u32(at + colValues),
		data:     b.u32(at + colData),
		dataLen:  b.u32(at + colDataLen),
	}
}

func (b *batch) arg(i int) col { return b.col(b.at + offArgs + uint32(i)*colSize) }

// Buffers handed back to the host; kept alive (and reused) until the next batch.
var (
	outBuf []byte // variable-width result bytes
	errBuf []byte // error message
)

// open decodes the descriptor at `at` and checks its version and argument count. On failure it
// returns a non-zero status, having set the error message.
func open(e env, at uint32, nargs int) (*batch, uint32) {
	b := &batch{env: e, at: at}
	if v := b.u32(at + offVersion); v != 1 {
		return nil, b.fail(StatusABIError, 0, "wasql: batch descriptor version "+itoa(v)+", want 1")
	}
	b.rows = int(b.u32(at + offRows))
	if n := b.u32(at + offNargs); n != uint32(nargs) {
		return nil, b.fail(StatusABIError, 0, "wasql: batch has "+itoa(n)+" arguments, the Go function takes "+strconv.Itoa(nargs))
	}
	return b, StatusOK
}

// fail stores an error message for the host and returns status.
func (b *batch) fail(status uint32, row int, msg string) uint32 {
	if msg == "" {
		msg = "error"
	}
	errBuf = append(errBuf[:0], msg...)
	b.put32(b.at+offErrorRow, uint32(row))
	b.put32(b.at+offErrorPtr, b.addr(errBuf))
	b.put32(b.at+offErrorLen, uint32(len(errBuf)))
	return status
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// kind is how a Go type is stored in a column.
type kind uint8

const (
	kindFixed  kind = iota // same bytes as the Go value (little-endian number)
	kindBool               // u8 0 or 1
	kindString             // variable width, Go string
	kindBytes              // variable width, Go []byte
)

var typeNames = [...]string{"type 0", "smallint", "integer", "bigint", "real", "double precision",
	"boolean", "text", "bytea", "json", "date", "timestamp"}

func typeName(code uint32) string {
	if code < uint32(len(typeNames)) {
		return typeNames[code]
	}
	return "type " + itoa(code)
}

// layout says how T is stored, its width for kindFixed, and whether type code t may hold it.
func layout[T Value](t uint32) (k kind, width uint32, goName string, ok bool) {
	var zero T
	switch any(zero).(type) {
	case int16:
		return kindFixed, 2, "int16", t == TypeSmallint
	case int32:
		return kindFixed, 4, "int32", t == TypeInteger
	case int64:
		return kindFixed, 8, "int64", t == TypeBigint
	case float32:
		return kindFixed, 4, "float32", t == TypeReal
	case float64:
		return kindFixed, 8, "float64", t == TypeDouble
	case bool:
		return kindBool, 1, "bool", t == TypeBoolean
	case Date:
		return kindFixed, 4, "wasql.Date", t == TypeDate
	case Timestamp:
		return kindFixed, 8, "wasql.Timestamp", t == TypeTimestamp
	case string:
		return kindString, 0, "string", t == TypeText || t == TypeJSON
	case []byte:
		return kindBytes, 0, "[]byte", t == TypeBytea || t == TypeText || t == TypeJSON
	}
	panic("unreachable")
}

// reader reads the rows of an argument column as T.
type reader[T Value] struct {
	mem   []byte
	c     col
	kind  kind
	width uint32
}

func newReader[T Value](b *batch, i int) (reader[T], error) {
	c := b.arg(i)
	k, w, name, ok := layout[T](c.typ)
	if !ok {
		return reader[T]{}, errors.New("wasql: argument " + strconv.Itoa(i+1) + " is " + typeName(c.typ) + ", the Go function takes " + name)
	}
	return reader[T]{mem: b.mem, c: c, kind: k, width: w}, nil
}

// valid reports whether row i of the column at bitmap address bm is not NULL.
func valid(mem []byte, bm uint32, i int) bool {
	return bm == 0 || mem[bm+uint32(i>>3)]>>(i&7)&1 != 0
}

// varBytes returns row i of a variable-width column. The slice has no spare capacity, so it
// never points past the host's buffer.
func varBytes(mem []byte, c col, i int) []byte {
	off := c.values + uint32(i)*4
	start := binary.LittleEndian.Uint32(mem[off : off+4 : off+4])
	end := binary.LittleEndian.Uint32(mem[off+4 : off+8 : off+8])
	if end < start {
		panic("wasql: argument offsets decrease")
	}
	return mem[c.data+start : c.data+end : c.data+end]
}

// get returns row i and whether it is not NULL.
func (r *reader[T]) get(i int) (v T, ok bool) {
	if !valid(r.mem, r.c.validity, i) {
		return v, false
	}
	switch r.kind {
	case kindFixed:
		off := r.c.values + uint32(i)*r.width
		p := r.mem[off : off+r.width : off+r.width]
		v = *(*T)(unsafe.Pointer(&p[0])) // T's memory layout is the column's (both little-endian)
	case kindBool:
		bv := r.mem[r.c.values+uint32(i)] != 0
		v = *(*T)(unsafe.Pointer(&bv))
	case kindString:
		s := string(varBytes(r.mem, r.c, i))
		v = *(*T)(unsafe.Pointer(&s))
	case kindBytes:
		p := varBytes(r.mem, r.c, i)
		v = *(*T)(unsafe.Pointer(&p))
	}
	return v, true
}

// writer fills the result column with T values.
type writer[T Value] struct {
	b     *batch
	c     col
	kind  kind
	width uint32
}

func newWriter[T Value](b *batch) (writer[T], error) {
	c := b.col(b.at + offResult)
	k, w, name, ok := layout[T](c.typ)
	if !ok {
		return writer[T]{}, errors.New("wasql: result is " + typeName(c.typ) + ", the Go function returns " + name)
	}
	if k == kindString || k == kindBytes {
		outBuf = outBuf[:0]
		b.put32(c.values, 0)
	}
	return writer[T]{b: b, c: c, kind: k, width: w}, nil
}

// set stores row i; ok false makes it NULL.
func (w *writer[T]) set(i int, v T, ok bool) {
	mem := w.b.mem
	if !ok {
		p := &mem[w.c.validity+uint32(i>>3)]
		*p &^= 1 << (i & 7)
	}
	switch w.kind {
	case kindFixed:
		if ok {
			off := w.c.values + uint32(i)*w.width
			p := mem[off : off+w.width : off+w.width]
			*(*T)(unsafe.Pointer(&p[0])) = v
		}
	case kindBool:
		if ok && *(*bool)(unsafe.Pointer(&v)) {
			mem[w.c.values+uint32(i)] = 1
		} else {
			mem[w.c.values+uint32(i)] = 0
		}
	case kindString:
		if ok {
			outBuf = append(outBuf, *(*string)(unsafe.Pointer(&v))...)
		}
		w.b.put32(w.c.values+uint32(i+1)*4, uint32(len(outBuf)))
	case kindBytes:
		if ok {
			outBuf = append(outBuf, *(*[]byte)(unsafe.Pointer(&v))...)
		}
		w.b.put32(w.c.values+uint32(i+1)*4, uint32(len(outBuf)))
	}
}

// finish hands a variable-width result's bytes to the host.
func (w *writer[T]) finish() {
	if w.kind == kindString || w.kind == kindBytes {
		if outBuf == nil {
			outBuf = make([]byte, 0, 256) // data is never a null pointer
		}
		w.b.put32(w.c.at+colData, w.b.addr(outBuf))
		w.b.put32(w.c.at+colDataLen, uint32(len(outBuf)))
	}
}

// run1 evaluates a one-argument batch. strict: a NULL argument gives NULL without calling f.
func run1[A, R Value](e env, at uint32, strict bool, f func(Nullable[A]) (Nullable[R], error)) uint32 {
	b, st := open(e, at, 1)
	if st != StatusOK {
		return st
	}
	ra, err := newReader[A](b, 0)
	if err != nil {
		return b.fail(StatusABIError, 0, err.Error())
	}
	w, err := newWriter[R](b)
	if err != nil {
		return b.fail(StatusABIError, 0, err.Error())
	}
	for i := 0; i < b.rows; i++ {
		a, aok := ra.get(i)
		if strict && !aok {
			var zero R
			w.set(i, zero, false)
			continue
		}
		r, err := f(Nullable[A]{V: a, Valid: aok})
		if err != nil {
			return b.fail(StatusRowError, i, err.Error())
		}
		w.set(i, r.V, r.Valid)
	}
	w.finish()
	return StatusOK
}

// run2 evaluates a two-argument batch. strict: a NULL argument gives NULL without calling f.
func run2[A, B, R Value](e env, at uint32, strict bool, f func(Nullable[A], Nullable[B]) (Nullable[R], error)) uint32 {
	b, st := open(e, at, 2)
	if st != StatusOK {
		return st
	}
	ra, err := newReader[A](b, 0)
	if err != nil {
		return b.fail(StatusABIError, 0, err.Error())
	}
	rb, err := newReader[B](b, 1)
	if err != nil {
		return b.fail(StatusABIError, 0, err.Error())
	}
	w, err := newWriter[R](b)
	if err != nil {
		return b.fail(StatusABIError, 0, err.Error())
	}
	for i := 0; i < b.rows; i++ {
		a, aok := ra.get(i)
		bv, bok := rb.get(i)
		if strict && !(aok && bok) {
			var zero R
			w.set(i, zero, false)
			continue
		}
		r, err := f(Nullable[A]{V: a, Valid: aok}, Nullable[B]{V: bv, Valid: bok})
		if err != nil {
			return b.fail(StatusRowError, i, err.Error())
		}
		w.set(i, r.V, r.Valid)
	}
	w.finish()
	return StatusOK
}

func strict1[A, R Value](f func(A) (R, error)) func(Nullable[A]) (Nullable[R], error) {
	return func(a Nullable[A]) (Nullable[R], error) {
		r, err := f(a.V)
		return Nullable[R]{V: r, Valid: true}, err
	}
}

func strict2[A, B, R Value](f func(A, B) (R, error)) func(Nullable[A], Nullable[B]) (Nullable[R], error) {
	return func(a Nullable[A], b Nullable[B]) (Nullable[R], error) {
		r, err := f(a.V, b.V)
		return Nullable[R]{V: r, Valid: true}, err
	}
}

// Map1 evaluates the batch at address b with a one-argument STRICT function.
// Call it from a //go:wasmexport wasql_batch_<name> function and return its status.
func Map1[A, R Value](b uint32, f func(A) (R, error)) uint32 {
	return run1(guestEnv(), b, true, strict1(f))
}

// Map2 evaluates the batch at address b with a two-argument STRICT function.
func Map2[A, B, R Value](b uint32, f func(A, B) (R, error)) uint32 {
	return run2(guestEnv(), b, true, strict2(f))
}

// Map1Null evaluates the batch at address b with a one-argument function that sees and may
// return NULLs (CALLED ON NULL INPUT).
func Map1Null[A, R Value](b uint32, f func(Nullable[A]) (Nullable[R], error)) uint32 {
	return run1(guestEnv(), b, false, f)
}

// Map2Null evaluates the batch at address b with a two-argument function that sees and may
// return NULLs (CALLED ON NULL INPUT).
func Map2Null[A, B, R Value](b uint32, f func(Nullable[A], Nullable[B]) (Nullable[R], error)) uint32 {
	return run2(guestEnv(), b, false, f)
}

// Log writes msg as one line to the guest's stderr, which wasql turns into a NOTICE on the
// Postgres wire and a warning on the MySQL wire (bounded per statement, sanitized). Newlines in
// msg split it into several lines.
func Log(msg string) {
	b := make([]byte, 0, len(msg)+1)
	b = append(b, msg...)
	writeStderr(append(b, '\n'))
}
