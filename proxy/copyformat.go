package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// CopyFormat is how the data of a COPY ... FROM STDIN reads: PostgreSQL's text format (the
// default), CSV, or binary, with the statement's options, for the columns it loads.
type CopyFormat struct {
	Binary, CSV bool
	Delimiter   byte   // between fields: tab (text) or comma (CSV) unless DELIMITER says
	Null        string // the field that is NULL: \N (text) or an empty unquoted field (CSV)
	Header      bool   // the first line is a header, skipped (text, CSV)
	HeaderMatch bool   // ... and must name Columns in order (HEADER MATCH)
	Quote       byte   // CSV: '"' unless QUOTE says
	Escape      byte   // CSV: the quote unless ESCAPE says
	// ForceNull and ForceNotNull are by column (CSV): a quoted field that matches Null is NULL
	// too; an unquoted one that matches Null is not NULL. ForceQuote (COPY TO, CSV) quotes
	// every value of a column that is not NULL.
	ForceNull, ForceNotNull, ForceQuote []bool

	Table   string   // the table loaded, for an error's context
	Columns []string // the columns loaded, in the order of the data's fields
	OIDs    []uint32 // their types: a binary field is decoded by its column's
}

// CopyError is an error in a COPY's data, with where it is: the ErrorResponse's context (COPY t,
// line 3, column a: "x").
type CopyError struct {
	Err   error
	Where string
}

func (e *CopyError) Error() string { return e.Err.Error() }

// Unwrap gives the error, whose SQLSTATE the response has.
func (e *CopyError) Unwrap() error { return e.Err }

// WhereText is the ErrorResponse's context field.
func (e *CopyError) WhereText() string { return e.Where }

// CopyReader reads the rows of COPY data. A text or CSV field is a string (nil for NULL), to be
// read by the column's type; a binary field is decoded by the column's type as a binary Bind
// parameter is (decodeParam).
type CopyReader struct {
	f       CopyFormat
	r       *bufio.Reader
	line    int  // of the row last read (text, CSV), or its number (binary)
	started bool // the header is read
	ended   bool // the end marker is read
	buf     []byte
}

// maxCopyLine bounds one row of COPY data, as PostgreSQL bounds a field (1 GB) and more tightly:
// a row longer than this is refused rather than buffered.
const maxCopyLine = 256 << 20

// NewCopyReader reads rows in f from r, the bytes of the client's CopyData messages.
func NewCopyReader(r io.Reader, f CopyFormat) *CopyReader {
	return &CopyReader{f: f, r: bufio.NewReaderSize(r, 64<<10)}
}

// Line is the line (the row, in binary) of the last row read, from 1.
func (c *CopyReader) Line() int { return c.line }

// Where is the context of an error in the last row read: its line, and the field's column and
// value when col >= 0.
func (c *CopyReader) Where(col int, value any) string {
	w := fmt.Sprintf("COPY %s, line %d", c.f.Table, c.line)
	if col >= 0 && col < len(c.f.Columns) {
		w += ", column " + c.f.Columns[col]
		if s, ok := value.(string); ok {
			if len(s) > 64 {
				s = s[:64] + "..."
			}
			w += fmt.Sprintf(": %q", s)
		}
	}
	return w
}

func (c *CopyReader) errorf(code, format string, args ...any) error {
	return &CopyError{Err: sqlError(code, fmt.Sprintf(format, args...)), Where: c.Where(-1, nil)}
}

// Next returns the next row's fields, or io.EOF after the last.
func (c *CopyReader) Next() ([]any, error) {
	if c.f.Binary {
		return c.nextBinary()
	}
	for {
		if c.ended {
			return nil, c.drain()
		}
		line, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if line == nil || string(line) == `\.` {
			c.ended = true
			continue
		}
		var fields []any
		if c.f.CSV {
			fields, err = c.splitCSV(line)
		} else {
			fields, err = c.splitText(line)
		}
		if err != nil {
			return nil, err
		}
		if !c.started {
			c.started = true
			if c.f.Header {
				if err := c.matchHeader(fields); err != nil {
					return nil, err
				}
				continue
			}
		}
		if len(fields) < len(c.f.Columns) {
			return nil, c.errorf("22P04", "missing data for column %q", c.f.Columns[len(fields)])
		}
		if len(fields) > len(c.f.Columns) {
			return nil, c.errorf("22P04", "extra data after last expected column")
		}
		return fields, nil
	}
}

// drain reads what follows the end marker: PostgreSQL ignores it in text and CSV.
func (c *CopyReader) drain() error {
	if _, err := io.Copy(io.Discard, c.r); err != nil {
		return err
	}
	return io.EOF
}

// matchHeader checks HEADER MATCH's header line against the columns.
func (c *CopyReader) matchHeader(fields []any) error {
	if !c.f.HeaderMatch {
		return nil
	}
	if len(fields) != len(c.f.Columns) {
		return c.errorf("22P04", "wrong number of fields in header line: got %d, expected %d", len(fields), len(c.f.Columns))
	}
	for i, f := range fields {
		if s, _ := f.(string); f == nil || s != c.f.Columns[i] {
			return c.errorf("22P04", "column name mismatch in header line field %d: got %q, expected %q", i+1, fmt.Sprint(f), c.f.Columns[i])
		}
	}
	return nil
}

// readLine reads one row's line without its end (\n or \r\n), nil at the end of the data. A
// text-format line goes on past a newline escaped by a backslash, a CSV one past a newline inside
// quotes: the newline is data.
func (c *CopyReader) readLine() ([]byte, error) {
	c.buf = c.buf[:0]
	c.line++
	for {
		part, err := c.r.ReadSlice('\n')
		c.buf = append(c.buf, part...)
		if len(c.buf) > maxCopyLine {
			return nil, c.errorf("54000", "a row of COPY data is longer than %d bytes", maxCopyLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			if len(c.buf) == 0 {
				return nil, nil
			}
			return c.buf, nil // a last line without its newline
		}
		if err != nil {
			return nil, err
		}
		body := c.buf[:len(c.buf)-1]
		if c.continues(body) {
			c.line++
			continue
		}
		return bytes.TrimSuffix(body, []byte{'\r'}), nil
	}
}

// continues reports whether the row goes on past the newline that ends body.
func (c *CopyReader) continues(body []byte) bool {
	if c.f.CSV {
		return c.openQuote(body)
	}
	n := 0 // backslashes before the newline
	for i := len(body) - 1; i >= 0 && body[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// openQuote reports whether a CSV row ends inside a quoted field.
func (c *CopyReader) openQuote(row []byte) bool {
	in := false
	for i := 0; i < len(row); i++ {
		b := row[i]
		switch {
		case in && b == c.f.Escape && c.f.Escape != c.f.Quote && i+1 < len(row) && (row[i+1] == c.f.Quote || row[i+1] == c.f.Escape):
			i++
		case b == c.f.Quote:
			in = !in // a doubled quote inside quotes closes and reopens: the same state after both
		}
	}
	return in
}

// splitText cuts a text-format line into its fields, undoing the backslash escapes; a field is
// NULL when its text as sent is the null string.
func (c *CopyReader) splitText(line []byte) ([]any, error) {
	var fields []any
	start := 0
	var field []byte
	escaped := false // the field had an escape: it is built in field
	for i := 0; ; i++ {
		if i == len(line) || line[i] == c.f.Delimiter {
			raw := line[start:i]
			switch {
			case string(raw) == c.f.Null:
				fields = append(fields, nil)
			case escaped:
				if !utf8.Valid(field) {
					return nil, c.badUTF8(field)
				}
				fields = append(fields, string(field))
			default:
				if !utf8.Valid(raw) {
					return nil, c.badUTF8(raw)
				}
				fields = append(fields, string(raw))
			}
			if i == len(line) {
				return fields, nil
			}
			start, field, escaped = i+1, field[:0], false
			continue
		}
		if line[i] != '\\' {
			if escaped {
				field = append(field, line[i])
			}
			continue
		}
		if !escaped {
			field, escaped = append(field[:0], line[start:i]...), true
		}
		if i+1 == len(line) {
			field = append(field, '\\')
			continue
		}
		i++
		switch b := line[i]; {
		case textUnescapes[b] != 0:
			field = append(field, textUnescapes[b])
		case b == 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(line) && isHexDigit(line[i+1]) {
				i++
				v = v*16 + hexValue(line[i])
				n++
			}
			if n == 0 {
				field = append(field, 'x')
			} else {
				field = append(field, byte(v))
			}
		case b >= '0' && b <= '7':
			v := int(b - '0')
			for n := 1; n < 3 && i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '7'; n++ {
				i++
				v = v*8 + int(line[i]-'0')
			}
			field = append(field, byte(v))
		default:
			field = append(field, b) // \\, an escaped delimiter or newline, any other byte: itself
		}
	}
}

// splitCSV cuts a CSV row into its fields: quotes may open anywhere in a field, and inside them
// the escape byte before a quote or itself stands for that byte (with the quote as escape, a
// doubled quote is one quote).
func (c *CopyReader) splitCSV(row []byte) ([]any, error) {
	var fields []any
	var field []byte
	quoted := false // the field has a quoted part
	in := false
	for i := 0; ; i++ {
		if i == len(row) || !in && row[i] == c.f.Delimiter {
			col := len(fields)
			null := string(field) == c.f.Null
			switch {
			case !quoted && null && !(col < len(c.f.ForceNotNull) && c.f.ForceNotNull[col]):
				fields = append(fields, nil)
			case quoted && null && col < len(c.f.ForceNull) && c.f.ForceNull[col]:
				fields = append(fields, nil)
			default:
				if !utf8.Valid(field) {
					return nil, c.badUTF8(field)
				}
				fields = append(fields, string(field))
			}
			if i == len(row) {
				if in {
					return nil, c.errorf("22P04", "unterminated CSV quoted field")
				}
				return fields, nil
			}
			field, quoted = field[:0], false
			continue
		}
		b := row[i]
		switch {
		case in && b == c.f.Escape && i+1 < len(row) && (row[i+1] == c.f.Quote || row[i+1] == c.f.Escape) &&
			(c.f.Escape != c.f.Quote || row[i+1] == c.f.Quote):
			i++
			field = append(field, row[i])
		case b == c.f.Quote:
			in, quoted = !in, true
		default:
			field = append(field, b)
		}
	}
}

func (c *CopyReader) badUTF8(b []byte) error {
	i := 0
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	end := min(i+2, len(b))
	return c.errorf("22021", "invalid byte sequence for encoding \"UTF8\": 0x%x", b[i:end])
}

func isHexDigit(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func hexValue(b byte) int {
	switch {
	case b >= 'a':
		return int(b-'a') + 10
	case b >= 'A':
		return int(b-'A') + 10
	}
	return int(b - '0')
}

// encodeCopyRow is one row of COPY TO data: fields (nil for NULL) as the wire encodes them
// (encodeRow), escaped (text) or quoted (CSV) and joined, or framed (binary).
func encodeCopyRow(fields [][]byte, f CopyFormat) []byte {
	var b []byte
	if f.Binary {
		be := binary.BigEndian
		b = be.AppendUint16(b, uint16(len(fields)))
		for _, v := range fields {
			if v == nil {
				b = be.AppendUint32(b, 0xFFFFFFFF)
				continue
			}
			b = append(be.AppendUint32(b, uint32(len(v))), v...)
		}
		return b
	}
	for i, v := range fields {
		if i > 0 {
			b = append(b, f.Delimiter)
		}
		switch {
		case v == nil:
			b = append(b, f.Null...)
		case f.CSV:
			b = appendCSV(b, v, f, i < len(f.ForceQuote) && f.ForceQuote[i])
		default:
			b = appendText(b, v, f.Delimiter)
		}
	}
	return append(b, '\n')
}

// appendText appends a field in the text format: a backslash, the delimiter and the control
// characters PostgreSQL escapes are written as escapes.
func appendText(b, v []byte, delimiter byte) []byte {
	for _, c := range v {
		switch e := textEscapes[c]; {
		case e != 0:
			b = append(b, '\\', e)
		case c == delimiter:
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// textEscapes are the letters of the escapes the text format writes, by byte (0: none), and
// textUnescapes the bytes those letters stand for.
var textEscapes, textUnescapes = func() (esc, unesc [256]byte) {
	for b, e := range map[byte]byte{'\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v'} {
		esc[b] = e
		if e != '\\' { // \\ reads as itself, as any other escaped byte does
			unesc[e] = b
		}
	}
	return esc, unesc
}()

// appendCSV appends a CSV field, quoted when it must be (it holds the delimiter, the quote, a
// newline, or reads as the NULL string or the end marker) or force says.
func appendCSV(b, v []byte, f CopyFormat, force bool) []byte {
	if !force && string(v) != f.Null && string(v) != `\.` && !bytes.ContainsAny(v, string([]byte{f.Delimiter, f.Quote, '\r', '\n'})) {
		return append(b, v...)
	}
	b = append(b, f.Quote)
	for _, c := range v {
		if c == f.Quote || c == f.Escape {
			b = append(b, f.Escape)
		}
		b = append(b, c)
	}
	return append(b, f.Quote)
}

// copySignature begins binary COPY data.
const copySignature = "PGCOPY\n\xff\r\n\x00"

// nextBinary reads one row of binary COPY data: a field count, then each field's length (-1:
// NULL) and bytes; a count of -1 ends the data.
func (c *CopyReader) nextBinary() ([]any, error) {
	be := binary.BigEndian
	if !c.started {
		c.started = true
		head := make([]byte, len(copySignature)+8)
		if _, err := io.ReadFull(c.r, head); err != nil || string(head[:len(copySignature)]) != copySignature {
			return nil, c.errorf("22P04", "COPY file signature not recognized")
		}
		flags := be.Uint32(head[len(copySignature):])
		if flags&(1<<16) != 0 {
			return nil, c.errorf("0A000", "COPY binary data with OIDs is not supported")
		}
		if flags&^(1<<16)>>16 != 0 {
			return nil, c.errorf("22P04", "unrecognized critical flags in COPY file header")
		}
		ext := be.Uint32(head[len(copySignature)+4:])
		if _, err := io.CopyN(io.Discard, c.r, int64(ext)); err != nil {
			return nil, c.errorf("22P04", "invalid COPY file header (wrong length)")
		}
	}
	if c.ended {
		if _, err := c.r.ReadByte(); err != io.EOF {
			return nil, c.errorf("22P04", "received copy data after EOF marker")
		}
		return nil, io.EOF
	}
	c.line++
	var n [4]byte
	if _, err := io.ReadFull(c.r, n[:2]); err != nil {
		if err == io.EOF { // PostgreSQL takes the end of the data as the trailer
			return nil, io.EOF
		}
		return nil, c.errorf("22P04", "unexpected EOF in COPY data")
	}
	count := int16(be.Uint16(n[:2]))
	if count == -1 {
		c.ended = true
		return c.nextBinary()
	}
	if int(count) != len(c.f.Columns) {
		return nil, c.errorf("22P04", "row field count is %d, expected %d", count, len(c.f.Columns))
	}
	fields := make([]any, count)
	for i := range fields {
		if _, err := io.ReadFull(c.r, n[:]); err != nil {
			return nil, c.errorf("22P04", "unexpected EOF in COPY data")
		}
		size := int32(be.Uint32(n[:]))
		if size == -1 {
			continue
		}
		if size < 0 || size > maxCopyLine {
			return nil, c.errorf("22P04", "invalid field size")
		}
		raw := make([]byte, size)
		if _, err := io.ReadFull(c.r, raw); err != nil {
			return nil, c.errorf("22P04", "unexpected EOF in COPY data")
		}
		v, err := decodeParam(raw, c.f.OIDs[i], 1)
		if err != nil {
			return nil, &CopyError{Err: sqlError("22P03", strings.Replace(err.Error(), "parameter", "field", 1)), Where: c.Where(i, nil)}
		}
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			return nil, c.badUTF8([]byte(s))
		}
		fields[i] = v
	}
	return fields, nil
}
