package proxy

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// arrayElems are the array types whose binary parameters wasql decodes, by array OID: the
// element's OID. pgx sends a Go []int64 as int8[] in binary, for instance.
var arrayElems = map[uint32]uint32{
	1000: OIDBool, 1005: OIDInt2, 1007: OIDInt4, 1016: OIDInt8, 1021: OIDFloat4, 1022: OIDFloat8,
	1009: OIDText, 1015: OIDVarchar, 1014: 1042 /* bpchar */, 1003: 19, /* name */
}

// decodeArray turns an array parameter in binary form into its Postgres text form
// ('{1,2,NULL}'), the form arrays take in wasql (see package pgsql).
func decodeArray(raw []byte, elem uint32) (string, error) {
	be := binary.BigEndian
	if len(raw) < 12 {
		return "", fmt.Errorf("binary array of %d bytes is too short", len(raw))
	}
	ndim := int(int32(be.Uint32(raw)))
	if got := be.Uint32(raw[8:]); got != elem && ndim > 0 {
		return "", fmt.Errorf("binary array of element type %d, declared %d", got, elem)
	}
	if ndim == 0 {
		return "{}", nil
	}
	if ndim < 0 || ndim > 6 || len(raw) < 12+8*ndim {
		return "", fmt.Errorf("binary array with %d dimensions", ndim)
	}
	dims := make([]int, ndim)
	var bounds strings.Builder
	total := 1
	for d := range ndim {
		n, lb := int(int32(be.Uint32(raw[12+8*d:]))), int(int32(be.Uint32(raw[16+8*d:])))
		if n < 0 || n > len(raw) {
			return "", fmt.Errorf("binary array dimension of %d elements", n)
		}
		dims[d], total = n, total*n
		if total > len(raw) { // every element takes at least 4 bytes
			return "", fmt.Errorf("binary array of %d elements in %d bytes", total, len(raw))
		}
		if lb != 1 {
			fmt.Fprintf(&bounds, "[%d:%d]", lb, lb+n-1)
		}
	}
	rest := raw[12+8*ndim:]
	elems := make([]string, total)
	for k := range elems {
		if len(rest) < 4 {
			return "", fmt.Errorf("binary array ends before element %d", k+1)
		}
		n := int(int32(be.Uint32(rest)))
		rest = rest[4:]
		if n == -1 {
			elems[k] = "NULL"
			continue
		}
		if n < 0 || n > len(rest) {
			return "", fmt.Errorf("binary array element %d of %d bytes", k+1, n)
		}
		v, err := decodeParam(rest[:n], elem, 1)
		if err != nil {
			return "", fmt.Errorf("array element %d: %w", k+1, err)
		}
		rest = rest[n:]
		elems[k] = arrayElemText(v, elem)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("binary array has %d bytes after its elements", len(rest))
	}
	var b strings.Builder
	if bounds.Len() > 0 {
		b.WriteString(bounds.String() + "=")
	}
	k := 0
	var nest func(d int)
	nest = func(d int) {
		b.WriteByte('{')
		for i := range dims[d] {
			if i > 0 {
				b.WriteByte(',')
			}
			if d+1 < len(dims) {
				nest(d + 1)
			} else {
				b.WriteString(elems[k])
				k++
			}
		}
		b.WriteByte('}')
	}
	nest(0)
	return b.String(), nil
}

// arrayElemText is one element of an array's text form, quoted where Postgres quotes it.
func arrayElemText(v any, elem uint32) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if elem == OIDFloat4 {
			return strconv.FormatFloat(x, 'g', -1, 32)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "t"
		}
		return "f"
	}
	s := fmt.Sprint(v)
	if s != "" && !strings.EqualFold(s, "NULL") && !strings.ContainsAny(s, "{}\",\\ \t\n\r\v\f") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
