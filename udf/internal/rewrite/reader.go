package rewrite

import (
	"fmt"
	"math"
)

// reader decodes the Wasm binary encoding. Its error is sticky: after the first failure every
// read returns zero values, so decoders check r.err once at the end of a unit.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: %s", r.pos, fmt.Sprintf(format, args...))
	}
}

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n uint32) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.pos) {
		r.fail("length %d past the end", n)
		return nil
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits+7 {
			r.fail("integer representation too long")
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if bits < 64 && v>>bits != 0 {
				r.fail("integer too large")
				return 0
			}
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// sleb reads a signed LEB128 of at most bits bits.
func (r *reader) sleb(bits uint) int64 {
	var v int64
	var shift uint
	for {
		if shift >= bits+7 {
			r.fail("integer representation too long")
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// vecLen reads a vector length and rejects lengths that cannot fit in what is left, so a hostile
// length never drives an allocation.
func (r *reader) vecLen() uint32 {
	n := r.u32()
	if r.err == nil && uint64(n) > uint64(len(r.b)-r.pos) {
		r.fail("vector length %d past the end", n)
		return 0
	}
	return n
}

func (r *reader) name() string { return string(r.bytes(r.vecLen())) }

// writer accumulates the Wasm binary encoding.
type writer struct{ b []byte }

func (w *writer) byte(c ...byte) { w.b = append(w.b, c...) }
func (w *writer) raw(p []byte)   { w.b = append(w.b, p...) }
func (w *writer) u32(v uint32)   { w.b = appendU32(w.b, v) }
func (w *writer) name(s string)  { w.u32(uint32(len(s))); w.b = append(w.b, s...) }
func (w *writer) s64(v int64)    { w.b = appendS64(w.b, v) }
func (w *writer) section(id byte, payload []byte) {
	w.byte(id)
	w.u32(uint32(len(payload)))
	w.raw(payload)
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func checkedAdd(a, b uint32) (uint32, bool) {
	if uint64(a)+uint64(b) > math.MaxUint32 {
		return 0, false
	}
	return a + b, true
}
