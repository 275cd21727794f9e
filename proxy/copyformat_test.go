package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func textFormat() CopyFormat {
	return CopyFormat{Delimiter: '\t', Null: `\N`, Table: "t", Columns: []string{"a", "b"}, OIDs: []uint32{OIDInt8, OIDText}}
}

func csvFormat() CopyFormat {
	return CopyFormat{CSV: true, Delimiter: ',', Quote: '"', Escape: '"', Table: "t", Columns: []string{"a", "b"},
		OIDs: []uint32{OIDInt8, OIDText}}
}

func readAll(t *testing.T, data string, f CopyFormat) ([][]any, error) {
	t.Helper()
	r := NewCopyReader(strings.NewReader(data), f)
	var rows [][]any
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// TestCopyReaderText: PostgreSQL's text format: escapes (octal, hex, the letters), NULL only as
// the field sent, an escaped delimiter and newline, \r\n, the end marker.
func TestCopyReaderText(t *testing.T) {
	data := "1\t\\101\\x42\\t\\\\\n\\N\t\\\\N\n3\ta\\\tb\n4\tline\\\nnext\r\n\\.\n5\tignored\n"
	rows, err := readAll(t, data, textFormat())
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"1", "AB\t\\"}, {nil, `\N`}, {"3", "a\tb"}, {"4", "line\nnext"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %q, want %q", rows, want)
	}
}

// TestCopyReaderCSV: quotes anywhere in a field, doubled quotes, a quoted newline, NULL as an
// unquoted empty field, another escape, HEADER MATCH.
func TestCopyReaderCSV(t *testing.T) {
	rows, err := readAll(t, "1,\"a,\"\"b\"\"\nc\"\n,\"\"\n2,x\"y\"z\n", csvFormat())
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"1", "a,\"b\"\nc"}, {nil, ""}, {"2", "xyz"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	f := csvFormat()
	f.Escape = '\\'
	if rows, err = readAll(t, `1,"a\"b\\"`+"\n", f); err != nil || !reflect.DeepEqual(rows, [][]any{{"1", `a"b\`}}) {
		t.Errorf("ESCAPE '\\': %q %v", rows, err)
	}
	f = csvFormat()
	f.Header, f.HeaderMatch = true, true
	if _, err := readAll(t, "a,c\n1,2\n", f); err == nil || !strings.Contains(err.Error(), "column name mismatch") {
		t.Errorf("HEADER MATCH: %v", err)
	}
	if _, err := readAll(t, "1,\"open\n", csvFormat()); err == nil || !strings.Contains(err.Error(), "unterminated CSV quoted field") {
		t.Errorf("an unterminated quote: %v", err)
	}
}

// binaryCopy is binary COPY data of rows of (int8, text) fields; nil is NULL.
func binaryCopy(rows ...[]any) []byte {
	be := binary.BigEndian
	b := append([]byte(copySignature), 0, 0, 0, 0, 0, 0, 0, 0)
	for _, r := range rows {
		b = be.AppendUint16(b, uint16(len(r)))
		for _, v := range r {
			switch x := v.(type) {
			case nil:
				b = be.AppendUint32(b, 0xFFFFFFFF)
			case int64:
				b = be.AppendUint64(be.AppendUint32(b, 8), uint64(x))
			case string:
				b = append(be.AppendUint32(b, uint32(len(x))), x...)
			}
		}
	}
	return be.AppendUint16(b, 0xFFFF)
}

// TestCopyReaderBinary: fields decoded by column type, NULL, the trailer, and the errors of a
// wrong field count, a short field and data after the trailer.
func TestCopyReaderBinary(t *testing.T) {
	f := textFormat()
	f.Binary = true
	rows, err := readAll(t, string(binaryCopy([]any{int64(7), "x"}, []any{nil, nil})), f)
	if err != nil || !reflect.DeepEqual(rows, [][]any{{int64(7), "x"}, {nil, nil}}) {
		t.Fatalf("rows %v, %v", rows, err)
	}
	for name, data := range map[string][]byte{
		"field count":   binaryCopy([]any{int64(1)}),
		"short field":   binaryCopy([]any{int64(1), "x"})[:len(copySignature)+8+2+4+3],
		"after trailer": append(binaryCopy(), 0),
		"signature":     []byte("PGCOPY\n"),
	} {
		var ce *CopyError
		if _, err := readAll(t, string(data), f); !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a CopyError", name, err)
		}
	}
}

// FuzzCopyReader: any data in any of the formats gives rows of the columns' number of fields or
// an error, never a panic.
func FuzzCopyReader(f *testing.F) {
	f.Add([]byte("1\tx\n\\N\t\\101\n"), byte(0))
	f.Add([]byte("1,\"a\"\"b\"\n,\n"), byte(1))
	f.Add(binaryCopy([]any{int64(1), "x"}), byte(2))
	f.Fuzz(func(t *testing.T, data []byte, kind byte) {
		format := textFormat()
		switch kind % 3 {
		case 1:
			format = csvFormat()
		case 2:
			format.Binary = true
		}
		r := NewCopyReader(bytes.NewReader(data), format)
		for i := 0; i < 10000; i++ {
			row, err := r.Next()
			if err != nil {
				return
			}
			if len(row) != len(format.Columns) {
				t.Fatalf("a row of %d fields", len(row))
			}
		}
	})
}
