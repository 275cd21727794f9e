//go:build wasip1

// Command go is a test guest for wasql, built with sdk/go/wasql into ../go_funcs.wasm (see
// ../build.sh). Its first four batch functions match the C guest in ../c exactly.
package main

import (
	"errors"

	"github.com/wasql/wasql/sdk/go/wasql"
)

func main() {}

// slugify(text) -> text: A-Z are lowercased, a-z and 0-9 kept, every run of any other bytes
// (including all bytes >= 0x80) becomes one '-', and no '-' is left at either end.
//
//go:wasmexport wasql_batch_slugify
func slugify(b uint32) uint32 { return wasql.Map1(b, slug) }

func slug(s string) (string, error) {
	out := make([]byte, 0, len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if dash && len(out) > 0 {
				out = append(out, '-')
			}
			out = append(out, c)
			dash = false
		} else {
			dash = true
		}
	}
	return string(out), nil
}

// add(bigint, bigint) -> bigint, wrapping on overflow.
//
//go:wasmexport wasql_batch_add
func add(b uint32) uint32 {
	return wasql.Map2(b, func(x, y int64) (int64, error) { return x + y, nil })
}

// nvl_len(text) -> integer, CALLED ON NULL INPUT: NULL -> -1, else the byte length.
//
//go:wasmexport wasql_batch_nvl_len
func nvlLen(b uint32) uint32 {
	return wasql.Map1Null(b, func(s wasql.Nullable[[]byte]) (wasql.Nullable[int32], error) {
		if !s.Valid {
			return wasql.Some[int32](-1), nil
		}
		return wasql.Some(int32(len(s.V))), nil
	})
}

var errNonASCII = errors.New("non-ASCII input")

// must_be_ascii(text) -> text: the input unchanged; a row with a byte >= 0x80 fails.
//
//go:wasmexport wasql_batch_must_be_ascii
func mustBeASCII(b uint32) uint32 {
	return wasql.Map1(b, func(s []byte) ([]byte, error) {
		for _, c := range s {
			if c >= 0x80 {
				return nil, errNonASCII
			}
		}
		return s, nil
	})
}

// echo_bytes(bytea) -> bytea: the input unchanged.
//
//go:wasmexport wasql_batch_echo_bytes
func echoBytes(b uint32) uint32 {
	return wasql.Map1(b, func(p []byte) ([]byte, error) { return p, nil })
}

// is_null(bigint) -> boolean, CALLED ON NULL INPUT.
//
//go:wasmexport wasql_batch_is_null
func isNull(b uint32) uint32 {
	return wasql.Map1Null(b, func(v wasql.Nullable[int64]) (wasql.Nullable[bool], error) {
		return wasql.Some(!v.Valid), nil
	})
}

// add_scalar(bigint, bigint) -> bigint through the numeric scalar ABI: (i64, i64) -> i64.
//
//go:wasmexport add_scalar
func addScalar(x, y int64) int64 { return x + y }
