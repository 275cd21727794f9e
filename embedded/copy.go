package embedded

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/shopspring/decimal"

	"github.com/wasql/wasql/embedded/pgcatalog"
	"github.com/wasql/wasql/embedded/pgsql"
	"github.com/wasql/wasql/internal/pgtext"
	"github.com/wasql/wasql/proxy"
)

// This file runs COPY on the Postgres wire. COPY ... TO STDOUT is the SELECT of its columns (or
// its query), whose rows the session sends in the COPY format. COPY ... FROM STDIN is the INSERT
// of its columns, whose rows come from the client's data (copySource in place of its VALUES): the
// engine checks each row as it checks an inserted one (types, NOT NULL, keys, CHECK, foreign
// keys, defaults of the columns left out), and the whole COPY is one statement: in autocommit it
// commits at its end, or loads nothing. Fields are read by the column's Postgres type as
// PostgreSQL reads them (copyValue); the formats are proxy's (proxy.CopyReader, encodeCopyRow).

// copy runs a COPY statement: FROM STDIN (copyFrom) or TO STDOUT (copyTo); stop ends its
// statement_timeout when the result closes.
func (s *pgSession) copy(ctx context.Context, query string, stop func()) (proxy.Result, error) {
	if err := checkText(query, pgDialect, s.e.maxBytes, s.e.maxDepth); err != nil {
		return nil, err
	}
	cp, err := pgsql.ParseCopy(query)
	if err != nil {
		return nil, err
	}
	if cp.To {
		r, err := s.copyTo(ctx, cp)
		if err != nil {
			return nil, err
		}
		r.stop = stop
		return r, nil
	}
	r, err := s.copyFrom(ctx, cp)
	if err != nil {
		return nil, err
	}
	r.stop = stop
	return r, nil
}

// copyTo runs COPY ... TO STDOUT as the SELECT of its columns (or its query); the session sends
// the rows in the format.
func (s *pgSession) copyTo(ctx context.Context, cp *pgsql.Copy) (*copyOutResult, error) {
	q := cp.Query
	if q == "" {
		t, cols, err := s.copyTarget(ctx, cp)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = `"` + strings.ReplaceAll(c.Name, `"`, `""`) + `"`
		}
		q = fmt.Sprintf(`SELECT %s FROM "%s"`, strings.Join(names, ", "), strings.ReplaceAll(t.Name(), `"`, `""`))
	}
	r, err := s.execute(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	f := proxy.CopyFormat{Binary: cp.Binary, CSV: cp.CSV, Delimiter: cp.Delimiter, Null: cp.Null, Header: cp.Header,
		Quote: cp.Quote, Escape: cp.Escape, Table: cp.Table}
	for _, c := range r.cols {
		f.Columns = append(f.Columns, c.Name)
	}
	if f.ForceQuote, err = forced(cp.ForceQuote, f.Columns, "FORCE_QUOTE", cp.ForceQuoteAll); err != nil {
		r.Close()
		return nil, err
	}
	return &copyOutResult{pgResult: r, format: f}, nil
}

// copyOutResult is the proxy.CopyOut of a COPY TO: its SELECT's result.
type copyOutResult struct {
	*pgResult
	format proxy.CopyFormat
}

// CopyFormat implements the interface proxy.CopyOut.
func (r *copyOutResult) CopyFormat() proxy.CopyFormat { return r.format }

// Tag implements the interface proxy.Result.
func (r *copyOutResult) Tag() string { return fmt.Sprintf("COPY %d", r.rows) }

// copyTarget is the table a COPY names, in the current database, and the columns it copies.
func (s *pgSession) copyTarget(ctx context.Context, cp *pgsql.Copy) (sql.Table, []*sql.Column, error) {
	if cp.Schema != "" && cp.Schema != "public" {
		return nil, nil, &pgsql.Error{Code: "0A000", Msg: fmt.Sprintf("COPY with a table of schema %s is not supported", cp.Schema)}
	}
	endCommand, err := command(s.sess)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.table(s.context(ctx), cp.Table)
	endCommand()
	if err != nil {
		return nil, nil, err
	}
	cols, err := copyColumns(cp, t)
	return t, cols, err
}

// copyFrom prepares a COPY FROM STDIN: the table and columns are checked and the locks taken
// now; the data is loaded by the result's Load.
func (s *pgSession) copyFrom(ctx context.Context, cp *pgsql.Copy) (*copyResult, error) {
	t, cols, err := s.copyTarget(ctx, cp)
	if err != nil {
		return nil, err
	}
	f := proxy.CopyFormat{Binary: cp.Binary, CSV: cp.CSV, Delimiter: cp.Delimiter, Null: cp.Null, Header: cp.Header,
		HeaderMatch: cp.HeaderMatch, Quote: cp.Quote, Escape: cp.Escape, Table: cp.Table}
	names := make([]string, len(cols))
	for i, c := range cols {
		f.Columns = append(f.Columns, c.Name)
		f.OIDs = append(f.OIDs, pgcatalog.TypeOID(c.Type))
		names[i] = quoteName(c.Name)
	}
	if f.ForceNull, err = forced(cp.ForceNull, f.Columns, "FORCE_NULL", false); err != nil {
		return nil, err
	}
	if f.ForceNotNull, err = forced(cp.ForceNotNull, f.Columns, "FORCE_NOT_NULL", cp.ForceNotNullAll); err != nil {
		return nil, err
	}
	// The INSERT the COPY is: its VALUES stand for the rows (copyPlan replaces them).
	values := strings.TrimSuffix(strings.Repeat("NULL, ", len(cols)), ", ")
	insert := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", quoteName(t.Name()), strings.Join(names, ", "), values)
	src := &copySource{cols: cols, format: f}
	r, err := s.run(ctx, &pgsql.Statement{SQL: insert, Command: "COPY"}, nil, src)
	if err != nil {
		return nil, err
	}
	return &copyResult{pgResult: r, src: src}, nil
}

// table is the table name of the current database, or 42P01.
func (s *pgSession) table(ctx *sql.Context, name string) (sql.Table, error) {
	db, err := s.e.Provider.Database(ctx, Database)
	if err != nil {
		return nil, err
	}
	t, ok, err := db.GetTableInsensitive(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sql.ErrTableNotFound.New(name)
	}
	return t, nil
}

// copyColumns are the columns a COPY loads: those it names, or all the table's but generated
// ones.
func copyColumns(cp *pgsql.Copy, t sql.Table) ([]*sql.Column, error) {
	sch := t.Schema()
	if cp.Columns == nil {
		var cols []*sql.Column
		for _, c := range sch {
			if c.Generated == nil {
				cols = append(cols, c)
			}
		}
		return cols, nil
	}
	seen := map[string]bool{}
	cols := make([]*sql.Column, len(cp.Columns))
	for i, name := range cp.Columns {
		j := sch.IndexOfColName(name)
		if j < 0 {
			return nil, &pgsql.Error{Code: "42703", Msg: fmt.Sprintf("column %q of relation %q does not exist", name, cp.Table)}
		}
		if seen[strings.ToLower(name)] {
			return nil, &pgsql.Error{Code: "42701", Msg: fmt.Sprintf("column %q specified more than once", name)}
		}
		seen[strings.ToLower(name)] = true
		cols[i] = sch[j]
	}
	return cols, nil
}

// forced marks the columns an option names (all with all), which must be loaded.
func forced(names, cols []string, option string, all bool) ([]bool, error) {
	out := make([]bool, len(cols))
	for i := range out {
		out[i] = all
	}
	for _, n := range names {
		i := indexFold(cols, n)
		if i < 0 {
			return nil, &pgsql.Error{Code: "42P10", Msg: fmt.Sprintf("%s column %q not referenced by COPY", option, n)}
		}
		out[i] = true
	}
	return out, nil
}

func indexFold(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// copyPlan is the plan of a COPY's INSERT: analyzed, its VALUES replaced by src.
func (s *pgSession) copyPlan(ctx *sql.Context, q string, parsed ast.Statement, src *copySource) (sql.Schema, sql.RowIter, error) {
	n, err := s.e.SQL.BoundQueryPlan(ctx, q, parsed, nil)
	if err != nil {
		return nil, nil, err
	}
	replaced := 0
	values := func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		if _, ok := n.(*plan.Values); ok {
			replaced++
			return src, transform.NewTree, nil
		}
		return n, transform.SameTree, nil
	}
	n, _, err = transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		ins, ok := n.(*plan.InsertInto)
		if !ok {
			return n, transform.SameTree, nil
		}
		source, _, err := transform.Node(ins.Source, values)
		if err != nil {
			return nil, transform.SameTree, err
		}
		return ins.WithSource(source), transform.NewTree, nil
	})
	if err == nil && replaced != 1 {
		err = fmt.Errorf("COPY: the plan of its INSERT has %d VALUES", replaced)
	}
	if err != nil {
		return nil, nil, err
	}
	sch, iter, _, err := s.e.SQL.PrepQueryPlanForExecution(ctx, q, n, nil)
	return sch, iter, err
}

// copyResult is the proxy.CopyIn of a COPY: the INSERT's result, run by Load.
type copyResult struct {
	*pgResult
	src *copySource
}

// CopyFormat implements the interface proxy.CopyIn.
func (r *copyResult) CopyFormat() proxy.CopyFormat { return r.src.format }

// Load implements the interface proxy.CopyIn: the INSERT runs, its rows read from data.
func (r *copyResult) Load(_ context.Context, data io.Reader) error {
	r.src.rd = proxy.NewCopyReader(data, r.src.format)
	r.src.ctx = r.ctx
	if err := r.drain(); err != nil {
		if r.src.err != nil { // the data's own error, which the engine wraps
			return r.src.err
		}
		return &proxy.CopyError{Err: pgError(statementError(r.ctx, err)), Where: r.src.rd.Where(-1, nil)}
	}
	return nil
}

// Tag implements the interface proxy.Result.
func (r *copyResult) Tag() string { return fmt.Sprintf("COPY %d", r.rows) }

// copySource is the rows of a COPY's data, a leaf of its INSERT's plan in place of VALUES.
type copySource struct {
	cols   []*sql.Column
	format proxy.CopyFormat
	rd     *proxy.CopyReader
	ctx    *sql.Context
	err    error // the error reading the data, if any
}

var _ sql.ExecSourceRel = (*copySource)(nil)

func (c *copySource) Resolved() bool       { return true }
func (c *copySource) IsReadOnly() bool     { return true }
func (c *copySource) String() string       { return "CopyFromStdin" }
func (c *copySource) Children() []sql.Node { return nil }

// Schema implements sql.Node: the columns loaded.
func (c *copySource) Schema() sql.Schema {
	sch := make(sql.Schema, len(c.cols))
	for i, col := range c.cols {
		cc := col.Copy()
		cc.Source = "copy"
		sch[i] = cc
	}
	return sch
}

func (c *copySource) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), 0)
	}
	return c, nil
}

// RowIter implements sql.ExecSourceRel.
func (c *copySource) RowIter(*sql.Context, sql.Row) (sql.RowIter, error) { return c, nil }

// Next implements sql.RowIter: the next row of the data, its fields read by column.
func (c *copySource) Next(ctx *sql.Context) (sql.Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fields, err := c.rd.Next()
	if err != nil {
		if err != io.EOF {
			c.err = err
		}
		return nil, err
	}
	row := make(sql.Row, len(fields))
	for i, f := range fields {
		v, err := copyValue(ctx, f, c.format.OIDs[i])
		if err == nil {
			v, err = fit(v, c.cols[i].Type)
		}
		if err != nil {
			c.err = &proxy.CopyError{Err: pgError(err), Where: c.rd.Where(i, f)}
			return nil, c.err
		}
		row[i] = v
	}
	return row, nil
}

// Close implements sql.RowIter.
func (c *copySource) Close(*sql.Context) error { return nil }

// copyValue reads one field for a column of Postgres type oid: a text or CSV field (a string) as
// PostgreSQL reads that type's input, a binary field (decoded) as the engine keeps the type.
func copyValue(ctx *sql.Context, v any, oid uint32) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return copyText(ctx, x, oid)
	case bool:
		if x {
			return int8(1), nil
		}
		return int8(0), nil
	case int64:
		return x, intRange(oid, x, strconv.FormatInt(x, 10))
	case proxy.Numeric:
		return decimal.NewFromString(string(x))
	case proxy.TimestampTZ:
		return time.Time(x), nil
	}
	return v, nil
}

// fit checks a value against its column's type as PostgreSQL's input does, where the engine's
// checks would answer with other words and codes: a numeric rounded to the column's scale must
// fit its precision (22003), and a string longer than a varchar(n) or char(n) is refused (22001)
// unless what is too much is spaces, which are cut.
func fit(v any, t sql.Type) (any, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		dt, ok := t.(sql.DecimalType)
		if !ok || !dt.IsDecimalType() {
			return v, nil
		}
		r := x.Round(int32(dt.Scale()))
		if r.Abs().Cmp(dt.ExclusiveUpperBound()) >= 0 {
			return nil, &pgtext.Error{Code: "22003", Msg: "numeric field overflow"}
		}
		return r, nil
	case string:
		oid := pgcatalog.TypeOID(t)
		st, ok := t.(sql.StringType)
		if !ok || oid != proxy.OIDVarchar && oid != pgcatalog.OIDBpchar {
			return v, nil
		}
		n := int(st.Length())
		if utf8.RuneCountInString(x) <= n {
			return v, nil
		}
		r := []rune(x)
		if strings.TrimRight(string(r[n:]), " ") != "" {
			return nil, &pgtext.Error{Code: "22001", Msg: "value too long for type " + pgcatalog.FormatType(oid, pgcatalog.TypeMod(t))}
		}
		return string(r[:n]), nil
	}
	return v, nil
}

// copyText reads a text field of a column of type oid.
func copyText(ctx *sql.Context, s string, oid uint32) (any, error) {
	switch oid {
	case proxy.OIDInt2, proxy.OIDInt4, proxy.OIDInt8:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, outOfRange(oid, s)
			}
			return nil, invalidInput(oid, s)
		}
		return n, intRange(oid, n, s)
	case proxy.OIDFloat4, proxy.OIDFloat8:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, outOfRange(oid, s)
			}
			return nil, invalidInput(oid, s)
		}
		return f, nil
	case proxy.OIDNumeric:
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if err != nil {
			return nil, invalidInput(oid, s)
		}
		return d, nil
	case proxy.OIDBool:
		b, ok := pgtext.ParseBool(s)
		if !ok {
			return nil, &pgtext.Error{Code: "22P02", Msg: pgtext.BoolError(s)}
		}
		if b {
			return int8(1), nil
		}
		return int8(0), nil
	case proxy.OIDBytea:
		return pgtext.ParseBytea(s)
	case proxy.OIDDate: // a date ignores a time and an offset, as INSERT's literal does (coerce)
		if ts, ok := pgtext.ParseTimestamp(s); ok {
			y, m, d := ts.Wall.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	case proxy.OIDTimestamp, proxy.OIDTimestampTZ:
		return readTimestamp(ctx, s, oid == proxy.OIDTimestampTZ)
	}
	return s, nil // the engine reads the rest (and refuses what does not fit)
}

// intRange checks an integer for a column of type oid (smallint, integer).
func intRange(oid uint32, n int64, text string) error {
	switch {
	case oid == proxy.OIDInt2 && (n < math.MinInt16 || n > math.MaxInt16),
		oid == proxy.OIDInt4 && (n < math.MinInt32 || n > math.MaxInt32):
		return outOfRange(oid, text)
	}
	return nil
}

func outOfRange(oid uint32, text string) error {
	return &pgtext.Error{Code: "22003", Msg: fmt.Sprintf("value %q is out of range for type %s", text, pgcatalog.FormatType(oid, -1))}
}

func invalidInput(oid uint32, text string) error {
	return &pgtext.Error{Code: "22P02", Msg: fmt.Sprintf("invalid input syntax for type %s: %q", pgcatalog.FormatType(oid, -1), text)}
}
