package proxy

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
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
		if err := c.runStatement(stmt, nil, nil, 0); err != nil {
			c.sendError(err)
			if c.txStatus == 'T' {
				c.txStatus = 'E'
			}
			return
		}
	}
}

// runStatement executes one statement and streams its rows. describe sends a RowDescription
// first (the simple protocol does; Execute does not). formats are the result formats.
// maxRows > 0 stops after that many rows (the portal's remainder is not kept yet).
func (c *conn) runStatement(stmt string, params []any, formats []int16, maxRows int32) error {
	ctl := txControl(stmt)
	if c.txStatus == 'E' && ctl != "rollback" && ctl != "commit" {
		return errInFailedTx
	}
	ctx, done := c.statementContext()
	defer done()
	res, err := c.sess.Execute(ctx, stmt, params)
	if err != nil {
		return err
	}
	defer res.Close()
	cols := res.Columns()
	if formats == nil && cols != nil {
		c.be.Send(rowDescription(cols, nil))
	}
	n := int32(0)
	for cols != nil {
		row, err := res.Next(ctx)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		values := make([][]byte, len(row))
		for i, v := range row {
			if values[i], err = encode(v, cols[i].OID, format(formats, i)); err != nil {
				return err
			}
		}
		c.be.Send(&pgproto3.DataRow{Values: values})
		n++
		if maxRows > 0 && n >= maxRows {
			c.be.Send(&pgproto3.PortalSuspended{})
			return nil
		}
	}
	switch ctl {
	case "begin":
		c.txStatus = 'T'
	case "commit", "rollback":
		c.txStatus = 'I'
	}
	tag := res.Tag()
	if ctl == "commit" && c.txStatus == 'E' {
		tag = "ROLLBACK"
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
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

// splitStatements cuts a query string at top-level semicolons, respecting quotes, dollar quotes
// and comments; empty statements are dropped.
func splitStatements(q string) []string {
	var out []string
	start := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			for i++; i < len(q) && q[i] != c; i++ {
			}
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for ; i < len(q) && q[i] != '\n'; i++ {
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			if end := strings.Index(q[i+2:], "*/"); end >= 0 {
				i += end + 3
			} else {
				i = len(q)
			}
		case c == '$':
			if j := strings.IndexByte(q[i+1:], '$'); j >= 0 && isTag(q[i+1:i+1+j]) {
				tag := q[i : i+j+2]
				if end := strings.Index(q[i+len(tag):], tag); end >= 0 {
					i += len(tag) + end + len(tag) - 1
				} else {
					i = len(q)
				}
			}
		case c == ';':
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

func isTag(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s == "" || !(s[0] >= '0' && s[0] <= '9')
}
