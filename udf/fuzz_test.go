package udf

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/wasql/wasql/internal/sqlstate"
)

// FuzzColumnarResult feeds arbitrary result descriptors, offsets, data and error fields back to
// the host: decoding must never panic, and must return either a well-formed column or an *Error.
func FuzzColumnarResult(f *testing.F) {
	// The area is memory 256..1024 (fuzz_result.wat): status, data ptr, data_len, then the
	// error fields; the result offsets start at memory 512, area offset 256.
	seed := func(status, dataPtr, dataLen uint32, offsets ...uint32) []byte {
		b := make([]byte, 256+4*len(offsets))
		binary.LittleEndian.PutUint32(b[0:], status)
		binary.LittleEndian.PutUint32(b[4:], dataPtr)
		binary.LittleEndian.PutUint32(b[8:], dataLen)
		for i, o := range offsets {
			binary.LittleEndian.PutUint32(b[256+4*i:], o)
		}
		return b
	}
	f.Add(seed(0, 300, 3, 0, 1, 3, 3), "abc")
	f.Add(seed(0, 300, 3, 0, 2, 1, 3), "x")
	f.Add(seed(0, 65530, 100, 0, 50, 100, 100), "x")
	f.Add(seed(0, 0, 0, 0, 0, 0, 0), "")
	f.Add(seed(1, 0, 0, 0), "row")
	f.Add(seed(2, 0, 0, 0), "refuse")
	f.Add(seed(0, 0xffffffff, 0xffffffff, 0, 0xffffffff), "big")
	// Offsets near 2^32 that decrease only after the first row: every offset is checked before
	// any row is sliced (this one panicked with a slice-bounds error).
	f.Add(seed(0, 300, 3, 0, 0xfffffff0, 3, 3), "abc")
	f.Add(seed(0, 300, 3, 0, 3, 0xffffffff, 3), "abc")
	rt := newRuntime(f, NewConfig().WithPoolSize(1))
	fn := load(f, rt, Definition{Name: "echo", Module: fixture(f, "fuzz_result.wasm"), Export: "echo", Args: []Type{Text}, Result: Text,
		Limits: Limits{ResultBytes: 1 << 16}})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, area []byte, text string) {
		s := fn.Session()
		defer s.Close()
		in, err := s.instance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(area) > 768 {
			area = area[:768]
		}
		if !in.mem.Write(256, append(area, make([]byte, 768-len(area))...)) {
			t.Fatal("write")
		}
		const rows = 3
		col, err := s.Eval(ctx, rows, texts(Text, text, "", text))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || sqlstate.Of(err) == sqlstate.InternalError {
				t.Fatalf("error without a SQLSTATE: %v", err)
			}
			return
		}
		if col.Len() != rows {
			t.Fatalf("%d rows", col.Len())
		}
		for i := range rows {
			if !col.IsNull(i) && !utf8.Valid(col.Bytes[i]) {
				t.Fatalf("row %d: invalid UTF-8 accepted", i)
			}
		}
	})
}
