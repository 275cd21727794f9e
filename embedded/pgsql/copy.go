package pgsql

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/internal/sqlstate"
)

// Copy is a COPY table [(columns)] FROM STDIN, or a COPY table [(columns)] | (query) TO STDOUT,
// [WITH (options)], its options read as PostgreSQL reads them (both the option list and the
// older syntax: CSV HEADER, DELIMITER ',').
type Copy struct {
	To            bool   // TO STDOUT
	Query         string // COPY (query) TO: the query, in Postgres SQL
	Schema, Table string
	Columns       []string // nil: all the table's
	Binary, CSV   bool
	Delimiter     byte
	Null          string
	Header        bool
	HeaderMatch   bool
	Quote, Escape byte
	// ForceNull, ForceNotNull, ForceQuote name columns (CSV); ForceNotNullAll is FORCE_NOT_NULL
	// *, ForceQuoteAll FORCE_QUOTE *.
	ForceNull, ForceNotNull, ForceQuote []string
	ForceNotNullAll, ForceQuoteAll      bool
}

// ParseCopy reads a COPY statement. COPY to or from a file or a program, WHERE and the options
// this version does not take (FREEZE, ENCODING other than UTF8, DEFAULT, ON_ERROR) fail with
// 0A000; an option that is not one of COPY's, or a wrong value, with PostgreSQL's error.
func ParseCopy(query string) (*Copy, error) {
	tree, err := pg.Parse(query)
	if err != nil {
		return nil, &Error{Code: "42601", Msg: err.Error()}
	}
	if len(tree.Stmts) != 1 {
		return nil, &Error{Code: "42601", Msg: "cannot run several statements at once"}
	}
	n, ok := tree.Stmts[0].Stmt.Node.(*pg.Node_CopyStmt)
	if !ok {
		return nil, &Error{Code: "42601", Msg: "not a COPY statement"}
	}
	s := n.CopyStmt
	switch {
	case s.IsProgram:
		return nil, unsupported("COPY with a program of the server")
	case s.Filename != "":
		return nil, unsupported("COPY with a file of the server (send the data with COPY FROM STDIN or TO STDOUT: psql's \\copy)")
	case s.WhereClause != nil:
		return nil, unsupported("COPY FROM ... WHERE")
	case s.Query != nil && s.IsFrom, s.Query == nil && s.Relation == nil:
		return nil, unsupported("this COPY")
	}
	c := &Copy{To: !s.IsFrom}
	if s.Query != nil {
		q, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: s.Query}}})
		if err != nil {
			return nil, &Error{Code: "42601", Msg: err.Error()}
		}
		c.Query = q
	} else {
		c.Schema, c.Table = s.Relation.Schemaname, s.Relation.Relname
	}
	for _, a := range s.Attlist {
		c.Columns = append(c.Columns, a.GetString_().Sval)
	}
	seps := map[string]*string{} // DELIMITER, NULL, QUOTE, ESCAPE as given
	seen := map[string]bool{}
	for _, o := range s.Options {
		d := o.GetDefElem()
		if d == nil {
			return nil, unsupported("this COPY option")
		}
		name := d.Defname
		if seen[name] {
			return nil, &Error{Code: "42601", Msg: "conflicting or redundant options"}
		}
		seen[name] = true
		switch name {
		case "format":
			switch v := strings.ToLower(argString(d.Arg)); v {
			case "text":
			case "csv":
				c.CSV = true
			case "binary":
				c.Binary = true
			default:
				return nil, &Error{Code: "22023", Msg: fmt.Sprintf("COPY format %q not recognized", v)}
			}
		case "delimiter", "null", "quote", "escape":
			v := argString(d.Arg)
			seps[name] = &v
		case "header":
			switch v := strings.ToLower(argString(d.Arg)); v {
			case "", "true", "on", "1", "yes":
				c.Header = true
			case "false", "off", "0", "no":
			case "match":
				c.Header, c.HeaderMatch = true, true
			default:
				return nil, &Error{Code: "22023", Msg: fmt.Sprintf("%s requires a Boolean value or \"match\"", name)}
			}
		case "force_not_null":
			c.ForceNotNull, c.ForceNotNullAll = argColumns(d.Arg)
		case "force_null":
			c.ForceNull = argNames(d.Arg)
		case "force_quote":
			c.ForceQuote, c.ForceQuoteAll = argColumns(d.Arg)
		case "encoding":
			if v := strings.ToUpper(strings.ReplaceAll(argString(d.Arg), "-", "")); v != "UTF8" && v != "UNICODE" {
				return nil, unsupported("COPY ENCODING %q (the data must be UTF8)", argString(d.Arg))
			}
		case "freeze", "default", "on_error", "oids":
			return nil, unsupported("the COPY option %s", strings.ToUpper(name))
		default:
			return nil, &Error{Code: "42601", Msg: fmt.Sprintf("option %q not recognized", name)}
		}
	}
	return c, c.options(seps["delimiter"], seps["null"], seps["quote"], seps["escape"])
}

// options sets the format's separators, checking them as PostgreSQL does.
func (c *Copy) options(delimiter, null, quote, escape *string) error {
	// PostgreSQL's codes: 0A000 for what COPY could take but does not, 22023 for a value that
	// cannot work, 42601 for an option that has no meaning in the format.
	bad := func(msg string) error { return &Error{Code: sqlstate.FeatureNotSupported, Msg: msg} }
	invalid := func(msg string) error { return &Error{Code: "22023", Msg: msg} }
	switch {
	case c.Binary && delimiter != nil:
		return &Error{Code: "42601", Msg: "cannot specify DELIMITER in BINARY mode"}
	case c.Binary && null != nil:
		return &Error{Code: "42601", Msg: "cannot specify NULL in BINARY mode"}
	case c.Binary && c.Header:
		return bad("cannot specify HEADER in BINARY mode")
	}
	forceQuote := c.ForceQuote != nil || c.ForceQuoteAll
	forceNull := c.ForceNull != nil || c.ForceNotNull != nil || c.ForceNotNullAll
	switch {
	case !c.CSV && (quote != nil || escape != nil || forceQuote || forceNull):
		return bad("COPY QUOTE, ESCAPE, FORCE_QUOTE, FORCE_NULL and FORCE_NOT_NULL are available only in CSV mode")
	case !c.To && forceQuote:
		return bad("COPY FORCE_QUOTE is available only in COPY TO")
	case c.To && forceNull:
		return bad("COPY FORCE_NULL and FORCE_NOT_NULL are available only in COPY FROM")
	case c.To && c.HeaderMatch:
		return bad(`cannot use "match" with HEADER in COPY TO`)
	}
	c.Delimiter, c.Null = '\t', `\N`
	if c.CSV {
		c.Delimiter, c.Null, c.Quote = ',', "", '"'
	}
	one := func(s *string, what string, b *byte) error {
		if s == nil {
			return nil
		}
		if len(*s) != 1 {
			return bad("COPY " + what + " must be a single one-byte character")
		}
		*b = (*s)[0]
		return nil
	}
	if err := one(delimiter, "delimiter", &c.Delimiter); err != nil {
		return err
	}
	if err := one(quote, "quote", &c.Quote); err != nil {
		return err
	}
	c.Escape = c.Quote
	if err := one(escape, "escape", &c.Escape); err != nil {
		return err
	}
	if null != nil {
		c.Null = *null
	}
	switch {
	case c.Delimiter == '\n' || c.Delimiter == '\r':
		return invalid("COPY delimiter cannot be newline or carriage return")
	case strings.ContainsAny(c.Null, "\r\n"):
		return invalid("COPY null representation cannot use newline or carriage return")
	case !c.CSV && !c.Binary && (c.Delimiter == '\\' || c.Delimiter >= 'a' && c.Delimiter <= 'z' || c.Delimiter >= '0' && c.Delimiter <= '9' || c.Delimiter == '.'):
		return invalid(fmt.Sprintf("COPY delimiter cannot be %q", c.Delimiter))
	case c.CSV && c.Delimiter == c.Quote:
		return invalid("COPY delimiter and quote must be different")
	case c.CSV && strings.IndexByte(c.Null, c.Delimiter) >= 0 || !c.CSV && !c.Binary && strings.IndexByte(c.Null, c.Delimiter) >= 0:
		return invalid("COPY delimiter must not appear in the NULL specification")
	}
	return nil
}

// argString is an option's value as text: a string, a number, a Boolean, or nothing (an option
// named alone, as HEADER).
func argString(n *pg.Node) string {
	switch v := n.GetNode().(type) {
	case *pg.Node_String_:
		return v.String_.Sval
	case *pg.Node_Integer:
		return fmt.Sprint(v.Integer.Ival)
	case *pg.Node_Boolean:
		return fmt.Sprint(v.Boolean.Boolval)
	case *pg.Node_Float:
		return v.Float.Fval
	}
	return ""
}

// argColumns is an option's list of column names, or all of them for *.
func argColumns(n *pg.Node) (names []string, all bool) {
	if _, star := n.GetNode().(*pg.Node_AStar); star {
		return nil, true
	}
	return argNames(n), false
}

// argNames is an option's list of column names.
func argNames(n *pg.Node) []string {
	var out []string
	if l := n.GetList(); l != nil {
		for _, item := range l.Items {
			out = append(out, argString(item))
		}
	}
	return out
}
