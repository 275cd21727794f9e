package proxy

import (
	"encoding/binary"
	"testing"
)

// binaryArray builds an array parameter in binary form: one dimension (or dims), elements
// already encoded (nil for NULL).
func binaryArray(elem uint32, lower int32, dims []int32, elems [][]byte) []byte {
	be := binary.BigEndian
	b := be.AppendUint32(nil, uint32(len(dims)))
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, elem)
	for _, d := range dims {
		b = be.AppendUint32(b, uint32(d))
		b = be.AppendUint32(b, uint32(lower))
	}
	for _, e := range elems {
		if e == nil {
			b = be.AppendUint32(b, 0xffffffff)
			continue
		}
		b = be.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

func int8s(vs ...int64) [][]byte {
	var out [][]byte
	for _, v := range vs {
		out = append(out, binary.BigEndian.AppendUint64(nil, uint64(v)))
	}
	return out
}

// TestDecodeArrayParam: binary array parameters (pgx sends []int64 as int8[] in binary) become
// their text form, which the array functions read.
func TestDecodeArrayParam(t *testing.T) {
	for _, c := range []struct {
		name string
		oid  uint32
		raw  []byte
		want string
	}{
		{"int8[]", 1016, binaryArray(OIDInt8, 1, []int32{3}, int8s(1, -2, 3)), "{1,-2,3}"},
		{"int8[] with NULL", 1016, binaryArray(OIDInt8, 1, []int32{2}, append(int8s(7), nil)), "{7,NULL}"},
		{"empty", 1016, binaryArray(OIDInt8, 1, nil, nil), "{}"},
		{"int4[]", 1007, binaryArray(OIDInt4, 1, []int32{2}, [][]byte{{0, 0, 0, 5}, {0xff, 0xff, 0xff, 0xff}}), "{5,-1}"},
		{"text[]", 1009, binaryArray(OIDText, 1, []int32{5}, [][]byte{[]byte("a"), []byte("b c"), []byte(`q"\`), []byte(""), []byte("null")}),
			`{a,"b c","q\"\\","","null"}`},
		{"bool[]", 1000, binaryArray(OIDBool, 1, []int32{2}, [][]byte{{1}, {0}}), "{t,f}"},
		{"float4[]", 1021, binaryArray(OIDFloat4, 1, []int32{1}, [][]byte{{0x3d, 0xcc, 0xcc, 0xcd}}), "{0.1}"},
		{"2 dimensions", 1016, binaryArray(OIDInt8, 1, []int32{2, 2}, int8s(1, 2, 3, 4)), "{{1,2},{3,4}}"},
		{"lower bound", 1016, binaryArray(OIDInt8, 0, []int32{2}, int8s(1, 2)), "[0:1]={1,2}"},
	} {
		got, err := decodeParam(c.raw, c.oid, 1)
		if err != nil || got != c.want {
			t.Errorf("%s: %#v %v, want %s", c.name, got, err, c.want)
		}
	}
	for name, raw := range map[string][]byte{
		"short":             {0, 0, 0, 1},
		"element type":      binaryArray(OIDInt4, 1, []int32{1}, int8s(1)),
		"truncated element": binaryArray(OIDInt8, 1, []int32{2}, int8s(1))[:30],
		"trailing bytes":    append(binaryArray(OIDInt8, 1, []int32{1}, int8s(1)), 0),
		"huge dimension":    binaryArray(OIDInt8, 1, []int32{1 << 30}, int8s(1)),
		"element size":      binaryArray(OIDInt8, 1, []int32{1}, [][]byte{{1, 2}}),
	} {
		if v, err := decodeParam(raw, 1016, 1); err == nil {
			t.Errorf("%s: decoded as %v", name, v)
		}
	}
}

func FuzzDecodeArray(f *testing.F) {
	f.Add(binaryArray(OIDInt8, 1, []int32{3}, int8s(1, 2, 3)), uint32(1016))
	f.Add(binaryArray(OIDText, 1, []int32{2, 1}, [][]byte{[]byte("a"), nil}), uint32(1009))
	f.Add([]byte{0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 20}, uint32(1016))
	f.Fuzz(func(t *testing.T, raw []byte, oid uint32) {
		elem, ok := arrayElems[oid]
		if !ok {
			return
		}
		decodeArray(raw, elem) // must not panic or allocate without bound
	})
}
