package proxy

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/wiretext"
)

// simpleQuery answers a Query message: each statement in turn, text format, stopping at the
// first error.
func (c *conn) simpleQuery(q string) {
	stmts := splitStatements(q)
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, stmt := range stmts {
		if err := c.runStatement(stmt, nil, nil); err != nil {
			c.sendError(err)
			if c.txStatus == 'T' {
				c.txStatus = 'E'
			}
			return
		}
	}
}

// runStatement executes one statement and streams its rows. With formats == nil (the simple
// protocol) it sends a RowDescription first; Execute does not.
func (c *conn) runStatement(stmt string, params []any, formats []int16) error {
	out, err := c.execute(stmt, params, formats)
	if err != nil || out == nil {
		return err
	}
	if formats == nil && out.cols != nil {
		c.be.Send(rowDescription(out.cols, nil))
	}
	out.send(c, 0)
	return nil
}

// output is a finished statement's rows, encoded, and its tag: what Execute streams, possibly
// over several calls when the client limits the rows (PortalSuspended).
type output struct {
	cols    []Column
	rows    [][][]byte
	next    int
	tag     string
	notices []Notice
}

// send streams up to max rows (0: all), then CommandComplete or PortalSuspended.
func (o *output) send(c *conn, max int32) {
	end := len(o.rows)
	if max > 0 && o.next+int(max) < end {
		end = o.next + int(max)
	}
	for ; o.next < end; o.next++ {
		c.be.Send(&pgproto3.DataRow{Values: o.rows[o.next]})
	}
	if o.next < len(o.rows) {
		c.be.Send(&pgproto3.PortalSuspended{})
		return
	}
	for _, n := range o.notices {
		c.be.Send(&pgproto3.NoticeResponse{Severity: n.Severity, SeverityUnlocalized: n.Severity, Code: n.Code,
			Message: wiretext.Clean(n.Message, 0)})
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(o.tag)})
}

// execute runs one statement to completion and returns its encoded rows and tag (nil when the
// session layer answered it itself). Rows are read out before anything is sent, so a statement
// never holds the backend while the client is slow.
func (c *conn) execute(stmt string, params []any, formats []int16) (*output, error) {
	ctl := txControl(stmt)
	if c.txStatus == 'E' && ctl != "rollback" && ctl != "commit" {
		return nil, errInFailedTx
	}
	if handled, err := c.session(stmt, formats == nil); handled {
		return nil, err
	}
	ctx, done := c.statementContext()
	defer done()
	res, err := c.sess.Execute(ctx, stmt, params)
	if err != nil {
		return nil, interrupted(ctx, err)
	}
	defer res.Close()
	out := &output{cols: res.Columns()}
	for out.cols != nil {
		row, err := res.Next(ctx)
		if err != nil {
			return nil, interrupted(ctx, err)
		}
		if row == nil {
			break
		}
		values := make([][]byte, len(row))
		for i, v := range row {
			if values[i], err = encode(v, out.cols[i].OID, format(formats, i)); err != nil {
				return nil, err
			}
		}
		out.rows = append(out.rows, values)
	}
	failed := c.txStatus == 'E'
	switch ctl {
	case "begin":
		c.txStatus = 'T'
	case "commit", "rollback":
		c.txStatus = 'I'
	}
	out.tag = res.Tag()
	if n, ok := res.(Noticer); ok {
		out.notices = n.Notices()
	}
	if ctl == "commit" && failed { // COMMIT of a failed block rolls it back, and says so
		out.tag = "ROLLBACK"
	}
	return out, nil
}

// format applies the Bind rule: no codes = all text, one code = all columns, else per column.
func format(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return 0
	case 1:
		return codes[0]
	}
	if i < len(codes) {
		return codes[i]
	}
	return 0
}

func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(cols))}
	for i, col := range cols {
		rd.Fields[i] = pgproto3.FieldDescription{Name: []byte(col.Name), DataTypeOID: col.OID,
			DataTypeSize: col.Size, TypeModifier: -1, Format: format(formats, i)}
	}
	return rd
}

// splitStatements cuts a query string at top-level semicolons (outside quotes, dollar quotes and
// comments); empty statements are dropped.
func splitStatements(q string) []string {
	var out []string
	start := 0
	for i := 0; i < len(q); i = skipQuoted(q, i) + 1 {
		if q[i] == ';' {
			if s := strings.TrimSpace(q[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(q[min(start, len(q)):]); s != "" {
		out = append(out, s)
	}
	return out
}

// skipQuoted returns the index of the last byte of the quoted string, quoted identifier, dollar
// quote or comment that starts at q[i], or i when none starts there.
func skipQuoted(q string, i int) int {
	switch c := q[i]; {
	case c == '\'' || c == '"':
		if end := strings.IndexByte(q[i+1:], c); end >= 0 {
			return i + 1 + end
		}
		return len(q) - 1
	case strings.HasPrefix(q[i:], "--"):
		if end := strings.IndexByte(q[i:], '\n'); end >= 0 {
			return i + end
		}
		return len(q) - 1
	case strings.HasPrefix(q[i:], "/*"):
		if end := strings.Index(q[i+2:], "*/"); end >= 0 {
			return i + 2 + end + 1
		}
		return len(q) - 1
	case c == '$':
		if j := strings.IndexByte(q[i+1:], '$'); j >= 0 && isTag(q[i+1:i+1+j]) {
			tag := q[i : i+j+2]
			if end := strings.Index(q[i+len(tag):], tag); end >= 0 {
				return i + len(tag) + end + len(tag) - 1
			}
			return len(q) - 1
		}
	}
	return i
}

func isTag(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s == "" || !(s[0] >= '0' && s[0] <= '9')
}
