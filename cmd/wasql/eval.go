package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wasql/wasql/internal/pgtext"
	"github.com/wasql/wasql/udf"
)

// evalUsage heads wasql eval --help, before the flags.
const evalUsage = `usage: wasql eval --module F.wasm --function NAME [flags] ROW...
       wasql eval --module F.wasm --export NAME --args TYPES --returns TYPE [flags] ROW...
       wasql eval --module F.wasm --function NAME --csv FILE|- [--header] [--out csv]

Loads one function as CREATE FUNCTION does and runs it over the rows, printing one result per
line in PostgreSQL's text format (t/f, shortest round-trip floats, \x bytea; NULL prints as
NULL), or as CSV with --out csv (NULL is an empty field, an empty string "").

Without --args and --returns the signature is the line of the module's wasql_signatures section
named by --function (or --export). Each ROW is one call: the whole argument when the function
takes one argument, otherwise its values separated by commas; NULL is NULL. With --csv the rows
are CSV records as PostgreSQL's COPY ... CSV reads them: an unquoted empty field is NULL, a
quoted empty field ("") the empty string. Errors print with their SQLSTATE, under the same
limits as the server's (--with timeout=...,memory=...).

  wasql eval --module udf/testdata/numeric.wasm --export add --args bigint,bigint --returns bigint 1,2 40,2
  printf 'a b\n"x, y"\n' | wasql eval --module funcs.wasm --function slugify --csv -

flags:
`

func eval(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	module := fs.String("module", "", "path of the .wasm module (required)")
	function := fs.String("function", "", "the function: its line in the module's wasql_signatures section, and its export")
	export := fs.String("export", "", "export name: the function, or its wasql_batch_ wrapper (default: --function)")
	argTypes := fs.String("args", "", "comma-separated SQL argument types, e.g. bigint,text (with --returns; default: the module's signature)")
	returns := fs.String("returns", "", "SQL result type (default: the module's signature)")
	calledOnNull := fs.Bool("called-on-null-input", false, "pass NULLs to the function (default STRICT, or the signature's)")
	with := fs.String("with", "", "options as in WITH (...), e.g. timeout=200ms,memory=16MB")
	csvFile := fs.String("csv", "", "read the rows from this CSV file (- for stdin) instead of the command line")
	header := fs.Bool("header", false, "with --csv: the first record is a header, skip it")
	outFormat := fs.String("out", "text", "output format: text (PostgreSQL's text format) or csv")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, evalUsage)
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("eval: %w (wasql eval --help)", err)
	}
	if *module == "" {
		return errors.New("eval: --module is required (wasql eval --help)")
	}
	if *export == "" && *function == "" {
		return errors.New("eval: --export is required, or --function (wasql eval --help)")
	}
	if *outFormat != "text" && *outFormat != "csv" {
		return fmt.Errorf("eval: --out %q: want text or csv", *outFormat)
	}
	if *csvFile != "" && fs.NArg() > 0 {
		return errors.New("eval: rows come from --csv or from the command line, not both")
	}
	bin, err := os.ReadFile(*module)
	if err != nil {
		return err
	}
	name := *function
	if name == "" {
		name = strings.TrimPrefix(*export, "wasql_batch_")
	}
	if *export == "" {
		*export = name
	}
	def := udf.Definition{Name: name, Module: bin, Export: *export}
	switch {
	case *returns != "":
		if def.Result, err = udf.ParseType(*returns); err != nil {
			return err
		}
		for _, t := range strings.Split(*argTypes, ",") {
			if strings.TrimSpace(t) == "" {
				continue
			}
			typ, err := udf.ParseType(t)
			if err != nil {
				return err
			}
			def.Args = append(def.Args, typ)
		}
	case *argTypes != "":
		return errors.New("eval: --args needs --returns (or neither, to take the module's signature)")
	default:
		sigs, err := udf.Signatures(bin)
		if err != nil {
			return withState(err)
		}
		var have []string
		for _, s := range sigs {
			have = append(have, s.Name)
			if s.Name == name {
				def.Args, def.Result, def.OnNull = s.Args, s.Result, s.OnNull
				goto found
			}
		}
		if len(sigs) == 0 {
			return fmt.Errorf("eval: %s has no wasql_signatures section: give --args and --returns", *module)
		}
		return fmt.Errorf("eval: the module declares no function %s (it declares %s)", name, strings.Join(have, ", "))
	found:
	}
	if *calledOnNull {
		def.OnNull = udf.CalledOnNull
	}
	for _, kv := range strings.Split(*with, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if err := def.SetOption(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
				return withState(err)
			}
		}
	}

	var next func() ([]*string, error) // the next row's values (nil: NULL), io.EOF at the end
	if *csvFile != "" {
		in := io.Reader(os.Stdin)
		if *csvFile != "-" {
			f, err := os.Open(*csvFile)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		r := &csvReader{r: bufio.NewReader(in)}
		if *header {
			if _, err := r.record(); err != nil && err != io.EOF {
				return err
			}
		}
		next = r.record
	} else {
		rows := fs.Args()
		next = func() ([]*string, error) {
			if len(rows) == 0 {
				return nil, io.EOF
			}
			row := rows[0]
			rows = rows[1:]
			vals := []string{row} // one argument: the whole row, commas included
			if len(def.Args) != 1 {
				vals = strings.Split(row, ",")
				if row == "" && len(def.Args) == 0 {
					vals = nil
				}
			}
			rec := make([]*string, len(vals))
			for k := range vals {
				if vals[k] != "NULL" {
					rec[k] = &vals[k]
				}
			}
			return rec, nil
		}
	}

	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	fn, err := rt.Load(ctx, def)
	if err != nil {
		return withState(err)
	}
	sess := fn.Session()
	defer sess.Close()
	// The guests' log lines go to stderr, bounded and sanitized as the server's NOTICEs are.
	ctx, endLog := withGuestLog(ctx, os.Stderr)
	defer endLog()
	w := bufio.NewWriter(out)
	defer w.Flush()
	const chunk = 1024
	cols := make([]udf.Column, len(def.Args))
	var res udf.Column
	line := 0
	for done := false; !done; {
		for k, t := range def.Args {
			cols[k] = udf.NewColumn(t, chunk)
		}
		n := 0
		for n < chunk {
			rec, err := next()
			if err == io.EOF {
				done = true
				break
			}
			if err != nil {
				return err
			}
			line++
			if len(rec) != len(def.Args) {
				return fmt.Errorf("row %d has %d values, the function takes %d", line, len(rec), len(def.Args))
			}
			for k, v := range rec {
				if err := setValue(&cols[k], n, v); err != nil {
					return fmt.Errorf("row %d, argument %d: %w", line, k+1, err)
				}
			}
			n++
		}
		if n == 0 {
			break
		}
		for k := range cols {
			cols[k] = truncate(cols[k], n)
		}
		if err := sess.EvalInto(ctx, &res, n, cols...); err != nil {
			return withState(err)
		}
		for i := 0; i < n; i++ {
			v, null := pgText(&res, i)
			switch {
			case *outFormat == "csv":
				w.WriteString(csvField(v, null) + "\n")
			case null:
				w.WriteString("NULL\n")
			default:
				w.WriteString(v + "\n")
			}
		}
	}
	return nil
}

// truncate cuts a column to its first n rows.
func truncate(c udf.Column, n int) udf.Column {
	if c.Nulls != nil {
		c.Nulls = c.Nulls[:n]
	}
	switch {
	case c.Bytes != nil:
		c.Bytes = c.Bytes[:n]
	case c.Floats != nil:
		c.Floats = c.Floats[:n]
	case c.Ints != nil:
		c.Ints = c.Ints[:n]
	}
	return c
}

// setValue parses v (nil: NULL) as PostgreSQL's input functions do for row i of c.
func setValue(c *udf.Column, i int, v *string) error {
	if v == nil {
		return c.Set(i, "NULL")
	}
	s := *v
	switch c.Type {
	case udf.Text, udf.JSON:
		c.Bytes[i] = []byte(s)
		return nil
	case udf.Bytea:
		b, err := pgtext.ParseBytea(s)
		if err != nil {
			return fmt.Errorf("invalid input syntax for type bytea: %q", s)
		}
		c.Bytes[i] = b
		return nil
	case udf.Boolean:
		b, ok := pgtext.ParseBool(s)
		if !ok {
			return errors.New(pgtext.BoolError(s))
		}
		c.Ints[i] = 0
		if b {
			c.Ints[i] = 1
		}
		return nil
	case udf.Timestamp:
		ts, ok := pgtext.ParseTimestamp(s)
		if !ok || ts.Zone {
			return fmt.Errorf("invalid input syntax for type timestamp: %q", s)
		}
		c.Ints[i] = ts.Wall.UnixMicro()
		return nil
	case udf.Real, udf.Double:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "nan":
			c.Floats[i] = math.NaN()
			return nil
		case "infinity", "inf", "+infinity", "+inf":
			c.Floats[i] = math.Inf(1)
			return nil
		case "-infinity", "-inf":
			c.Floats[i] = math.Inf(-1)
			return nil
		}
		s = strings.TrimSpace(s)
	case udf.Smallint, udf.Integer, udf.Bigint, udf.Date:
		s = strings.TrimSpace(s)
	}
	if s == "NULL" {
		return fmt.Errorf("%q is not a valid %s", s, c.Type)
	}
	return c.Set(i, s)
}

// pgText is row i of c in PostgreSQL's text output format.
func pgText(c *udf.Column, i int) (string, bool) {
	if c.IsNull(i) {
		return "", true
	}
	switch c.Type {
	case udf.Text, udf.JSON:
		return string(c.Bytes[i]), false
	case udf.Bytea:
		return pgtext.ByteaHex(c.Bytes[i]), false
	case udf.Boolean:
		if c.Ints[i] != 0 {
			return "t", false
		}
		return "f", false
	case udf.Real:
		return pgFloat(c.Floats[i], 32), false
	case udf.Double:
		return pgFloat(c.Floats[i], 64), false
	case udf.Date:
		t := time.Unix(c.Ints[i]*86400, 0).UTC()
		if y := t.Year(); y <= 0 {
			return t.AddDate(1-2*y, 0, 0).Format(time.DateOnly) + " BC", false
		}
		return t.Format(time.DateOnly), false
	case udf.Timestamp:
		return pgtext.FormatTimestamp(time.UnixMicro(c.Ints[i]).UTC()), false
	}
	return strconv.FormatInt(c.Ints[i], 10), false
}

// pgFloat prints f as PostgreSQL's float4out/float8out do (extra_float_digits 1, the default):
// the shortest digits that round-trip, in fixed notation for decimal exponents from -4 to 14
// (float4: to 5), else as d.ddde+XX.
func pgFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits)
	_, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return e
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

// csvField is v as COPY ... CSV writes it: NULL as nothing, and quoted when it is empty or holds
// a comma, a quote, a line break, or leading/trailing space.
func csvField(v string, null bool) string {
	if null {
		return ""
	}
	if v == "" || strings.ContainsAny(v, ",\"\r\n") || v == `\.` || strings.TrimSpace(v) != v {
		return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return v
}

// csvReader reads CSV records as PostgreSQL's COPY ... CSV does: fields separated by commas,
// quoted with double quotes ("" is a quote inside), records ended by LF or CRLF (also inside
// quotes the line break is data); an unquoted empty field is NULL (nil).
type csvReader struct {
	r    *bufio.Reader
	line int
}

func (c *csvReader) record() ([]*string, error) {
	var rec []*string
	var field strings.Builder
	quoted, inQuotes, any := false, false, false
	end := func() {
		if !quoted && field.Len() == 0 {
			rec = append(rec, nil)
		} else {
			s := field.String()
			rec = append(rec, &s)
		}
		field.Reset()
		quoted = false
	}
	c.line++
	start := c.line
	for {
		b, err := c.r.ReadByte()
		if err == io.EOF {
			if inQuotes {
				return nil, fmt.Errorf("CSV line %d: unterminated quoted field", start)
			}
			if !any {
				return nil, io.EOF
			}
			end()
			return rec, nil
		}
		if err != nil {
			return nil, err
		}
		any = true
		if inQuotes {
			if b == '"' {
				if p, _ := c.r.Peek(1); len(p) == 1 && p[0] == '"' {
					c.r.ReadByte()
					field.WriteByte('"')
				} else {
					inQuotes = false
				}
				continue
			}
			if b == '\n' {
				c.line++
			}
			field.WriteByte(b)
			continue
		}
		switch b {
		case '"':
			quoted, inQuotes = true, true
		case ',':
			end()
		case '\r':
			if p, _ := c.r.Peek(1); len(p) == 1 && p[0] == '\n' {
				continue
			}
			field.WriteByte(b)
		case '\n':
			end()
			return rec, nil
		default:
			field.WriteByte(b)
		}
	}
}
