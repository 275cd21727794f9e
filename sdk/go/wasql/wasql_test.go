package wasql

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// fakeHost lays out batches in a byte slice the way the host does in guest memory.
type fakeHost struct {
	mem     []byte
	next    uint32 // bump allocator for the host's region
	scratch uint32 // where addr copies the guest's buffers
}

func newFakeHost() *fakeHost {
	return &fakeHost{mem: make([]byte, 1<<16), next: 8, scratch: 1 << 15}
}

func (h *fakeHost) env() env {
	return env{mem: h.mem, addr: func(b []byte) uint32 {
		at := h.scratch
		h.scratch += uint32(copy(h.mem[at:], b)) + 8
		return at
	}}
}

func (h *fakeHost) alloc(n int) uint32 {
	at := h.next
	h.next += uint32(n+7) &^ 7
	return at
}

func (h *fakeHost) put32(at, v uint32)   { binary.LittleEndian.PutUint32(h.mem[at:], v) }
func (h *fakeHost) u32(at uint32) uint32 { return binary.LittleEndian.Uint32(h.mem[at:]) }

// arg is an argument column: fixed-width values (as little-endian bytes) or strings; nil = NULL.
type arg struct {
	typ   uint32
	width int
	rows  []any // []byte for fixed width, string for variable width, nil for NULL
}

func le64(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }

// batch writes a descriptor with args and a result column of type rtype, returns its address.
func (h *fakeHost) batch(rtype uint32, rwidth int, rows int, args ...arg) uint32 {
	at := h.alloc(offArgs + colSize*len(args))
	h.put32(at+offVersion, 1)
	h.put32(at+offRows, uint32(rows))
	h.put32(at+offNargs, uint32(len(args)))
	for k, a := range args {
		c := at + offArgs + uint32(k)*colSize
		h.put32(c+colType, a.typ)
		bm := h.alloc((rows + 7) / 8)
		hasNull := false
		for i, v := range a.rows {
			if v == nil {
				hasNull = true
			} else {
				h.mem[bm+uint32(i/8)] |= 1 << (i % 8)
			}
		}
		if hasNull {
			h.put32(c+colValidity, bm)
		}
		if a.width > 0 {
			vals := h.alloc(rows * a.width)
			for i, v := range a.rows {
				if v != nil {
					copy(h.mem[vals+uint32(i*a.width):], v.([]byte))
				}
			}
			h.put32(c+colValues, vals)
		} else {
			offs := h.alloc(4 * (rows + 1))
			var data []byte
			for i, v := range a.rows {
				if v != nil {
					data = append(data, v.(string)...)
				}
				h.put32(offs+uint32(4*(i+1)), uint32(len(data)))
			}
			d := h.alloc(len(data))
			copy(h.mem[d:], data)
			h.put32(c+colValues, offs)
			h.put32(c+colData, d)
			h.put32(c+colDataLen, uint32(len(data)))
		}
	}
	r := at + offResult
	h.put32(r+colType, rtype)
	bm := h.alloc((rows + 7) / 8)
	for i := 0; i < rows; i++ {
		h.mem[bm+uint32(i/8)] |= 1 << (i % 8)
	}
	h.put32(r+colValidity, bm)
	if rwidth > 0 {
		h.put32(r+colValues, h.alloc(rows*rwidth))
	} else {
		h.put32(r+colValues, h.alloc(4*(rows+1)))
	}
	return at
}

func (h *fakeHost) resultNull(at uint32, i int) bool {
	bm := h.u32(at + offResult + colValidity)
	return h.mem[bm+uint32(i/8)]>>(i%8)&1 == 0
}

func (h *fakeHost) resultText(at uint32, i int) string {
	r := at + offResult
	offs, data := h.u32(r+colValues), h.u32(r+colData)
	return string(h.mem[data+h.u32(offs+uint32(4*i)) : data+h.u32(offs+uint32(4*(i+1)))])
}

func (h *fakeHost) errorText(at uint32) string {
	p, n := h.u32(at+offErrorPtr), h.u32(at+offErrorLen)
	return string(h.mem[p : p+n])
}

func TestTextStrict(t *testing.T) {
	h := newFakeHost()
	at := h.batch(TypeText, 0, 4, arg{typ: TypeText, rows: []any{"ab", nil, "", "xyz"}})
	st := run1(h.env(), at, true, strict1(func(s string) (string, error) { return strings.ToUpper(s) + "!", nil }))
	if st != StatusOK {
		t.Fatalf("status %d: %s", st, h.errorText(at))
	}
	want := []string{"AB!", "", "!", "XYZ!"}
	for i, w := range want {
		if got := h.resultText(at, i); got != w {
			t.Errorf("row %d = %q, want %q", i, got, w)
		}
		if null := h.resultNull(at, i); null != (i == 1) {
			t.Errorf("row %d null = %v", i, null)
		}
	}
	r := at + offResult
	if got := h.u32(r + colDataLen); got != 8 {
		t.Errorf("data_len = %d, want 8", got)
	}
}

func TestBigintAdd(t *testing.T) {
	h := newFakeHost()
	at := h.batch(TypeBigint, 8, 3,
		arg{typ: TypeBigint, width: 8, rows: []any{le64(1), le64(-5), nil}},
		arg{typ: TypeBigint, width: 8, rows: []any{le64(2), le64(3), le64(7)}})
	st := run2(h.env(), at, true, strict2(func(a, b int64) (int64, error) { return a + b, nil }))
	if st != StatusOK {
		t.Fatalf("status %d: %s", st, h.errorText(at))
	}
	vals := h.u32(at + offResult + colValues)
	for i, w := range []int64{3, -2} {
		if got := int64(binary.LittleEndian.Uint64(h.mem[vals+uint32(8*i):])); got != w {
			t.Errorf("row %d = %d, want %d", i, got, w)
		}
	}
	if !h.resultNull(at, 2) || h.resultNull(at, 0) {
		t.Error("wrong NULLs")
	}
}

func TestNullable(t *testing.T) {
	h := newFakeHost()
	at := h.batch(TypeBoolean, 1, 10, arg{typ: TypeText, rows: []any{"a", nil, "b", "c", "d", "e", "f", "g", "h", nil}})
	st := run1(h.env(), at, false, func(s Nullable[[]byte]) (Nullable[bool], error) {
		if string(s.V) == "c" {
			return Null[bool](), nil
		}
		return Some(!s.Valid), nil
	})
	if st != StatusOK {
		t.Fatalf("status %d: %s", st, h.errorText(at))
	}
	vals := h.u32(at + offResult + colValues)
	for i := 0; i < 10; i++ {
		wantNull := i == 3
		wantVal := byte(0)
		if i == 1 || i == 9 {
			wantVal = 1
		}
		if h.resultNull(at, i) != wantNull || h.mem[vals+uint32(i)] != wantVal {
			t.Errorf("row %d: null %v value %d", i, h.resultNull(at, i), h.mem[vals+uint32(i)])
		}
	}
}

func TestRowError(t *testing.T) {
	h := newFakeHost()
	at := h.batch(TypeInteger, 4, 3, arg{typ: TypeInteger, width: 4, rows: []any{[]byte{1, 0, 0, 0}, []byte{0, 0, 0, 0}, []byte{2, 0, 0, 0}}})
	st := run1(h.env(), at, true, strict1(func(v int32) (int32, error) {
		if v == 0 {
			return 0, errors.New("division by zero")
		}
		return 100 / v, nil
	}))
	if st != StatusRowError || h.u32(at+offErrorRow) != 1 || h.errorText(at) != "division by zero" {
		t.Fatalf("status %d row %d message %q", st, h.u32(at+offErrorRow), h.errorText(at))
	}
}

func TestTypeMismatch(t *testing.T) {
	h := newFakeHost()
	at := h.batch(TypeText, 0, 1, arg{typ: TypeText, rows: []any{"x"}})
	st := run1(h.env(), at, true, strict1(func(v int64) (string, error) { return "", nil }))
	if st != StatusABIError || h.errorText(at) != "wasql: argument 1 is text, the Go function takes int64" {
		t.Fatalf("status %d message %q", st, h.errorText(at))
	}
	at = h.batch(TypeBytea, 0, 1, arg{typ: TypeText, rows: []any{"x"}})
	st = run1(h.env(), at, true, strict1(func(v string) (string, error) { return v, nil }))
	if st != StatusABIError || h.errorText(at) != "wasql: result is bytea, the Go function returns string" {
		t.Fatalf("status %d message %q", st, h.errorText(at))
	}
	at = h.batch(TypeText, 0, 1, arg{typ: TypeText, rows: []any{"x"}})
	st = run2(h.env(), at, true, strict2(func(a, b string) (string, error) { return a, nil }))
	if st != StatusABIError || h.errorText(at) != "wasql: batch has 1 arguments, the Go function takes 2" {
		t.Fatalf("status %d message %q", st, h.errorText(at))
	}
}

func TestMapOutsideWasmPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Map1(0, func(s string) (string, error) { return s, nil })
}
