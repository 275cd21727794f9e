package embedded

import (
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // the session TimeZone may name any IANA zone

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/expression/function/aggregation"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"

	"github.com/wasql/wasql/embedded/pgcatalog"
	"github.com/wasql/wasql/internal/pgtext"
)

// This file gives untyped strings Postgres's types. Postgres types a quoted literal, and a
// parameter sent without a type, by where it stands: 'true' compared with or stored into a
// boolean column is a boolean, '\xdeadbeef' into a bytea column is four bytes, a timestamp with
// an offset into a timestamptz column is that instant. MySQL would convert the string its own
// way ('true' to 0, '\xdeadbeef' to ten bytes, an offset to an error), so before the engine
// analyzes a Postgres-wire statement such strings are read here with package pgtext.

// pgCoerceRule is the analyzer rule's id, beyond go-mysql-server's own.
const pgCoerceRule analyzer.RuleId = 10_000

// installPGRules runs pgCoerce first in every analysis: in a batch of its own before the
// analyzer's, and first in AlwaysBeforeDefault, the batch that the shortened analysis of an
// INSERT of literal rows and of a single-table UPDATE starts with (go-mysql-server reads that
// list at each analysis; the rule is idempotent and does nothing outside Postgres sessions).
func installPGRules(a *analyzer.Analyzer) {
	rule := analyzer.Rule{Id: pgCoerceRule, Apply: pgCoerce}
	a.Batches = append([]*analyzer.Batch{{Desc: "wasql-pg-coerce", Iterations: 1,
		Rules: []analyzer.Rule{rule, {Id: pgTextIndexRule, Apply: pgTextIndex}}}}, a.Batches...)
	installOnce.Do(func() { analyzer.AlwaysBeforeDefault = append([]analyzer.Rule{rule}, analyzer.AlwaysBeforeDefault...) })
}

var installOnce sync.Once

// pgTextIndexRule identifies pgTextIndex among the analyzer's rules.
const pgTextIndexRule analyzer.RuleId = 10_002

// textIndexPrefix is the prefix, in characters, that pgTextIndex gives a text column: MySQL's
// longest key (3,072 bytes) of 4-byte characters.
const textIndexPrefix = 768

// pgTextIndex lets a Postgres-wire CREATE INDEX name a text column, as PostgreSQL does:
// go-mysql-server, like MySQL, wants a prefix length for a TEXT column in a non-unique index,
// and it gets textIndexPrefix. The index is then an access path over the first 768 characters;
// the query still compares whole values, so answers do not change. A UNIQUE index on text needs
// no prefix (go-mysql-server hashes the whole value).
func pgTextIndex(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	ai, ok := n.(*plan.AlterIndex)
	if !ok || !onPGWire(ctx) || ai.Action != plan.IndexAction_Create || ai.Constraint != sql.IndexConstraint_None {
		return n, transform.SameTree, nil
	}
	sch := ai.Table.Schema()
	var cols []sql.IndexColumn
	for i, c := range ai.Columns {
		if j := sch.IndexOfColName(c.Name); c.Length == 0 && j >= 0 && types.IsTextBlob(sch[j].Type) && types.IsText(sch[j].Type) {
			if cols == nil {
				cols = slices.Clone(ai.Columns)
			}
			cols[i].Length = textIndexPrefix
		}
	}
	if cols == nil {
		return n, transform.SameTree, nil
	}
	cp := *ai
	cp.Columns = cols
	return &cp, transform.NewTree, nil
}

// pgCoerce types the string literals of a Postgres-wire statement that stand for a boolean,
// bytea or timestamp column: the values of INSERT, the assignments of UPDATE and ON CONFLICT,
// and the operands of comparisons, IN and BETWEEN.
func pgCoerce(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if !onPGWire(ctx) {
		return n, transform.SameTree, nil
	}
	n, same1, err := transform.Node(n, func(node sql.Node) (sql.Node, transform.TreeIdentity, error) {
		ins, ok := node.(*plan.InsertInto)
		if !ok {
			return node, transform.SameTree, nil
		}
		values, ok := ins.Source.(*plan.Values)
		if !ok {
			return node, transform.SameTree, nil
		}
		dest := ins.Destination.Schema()
		changed := false
		tuples := make([][]sql.Expression, len(values.ExpressionTuples))
		for i, tuple := range values.ExpressionTuples {
			tuples[i] = make([]sql.Expression, len(tuple))
			for j, ex := range tuple {
				tuples[i][j] = ex
				col := -1
				if j < len(ins.ColumnNames) {
					col = dest.IndexOfColName(ins.ColumnNames[j])
				} else if len(ins.ColumnNames) == 0 && j < len(dest) {
					col = j
				}
				if col < 0 {
					continue
				}
				c, err := coerce(ctx, ex, dest[col].Type)
				if err != nil {
					return nil, transform.SameTree, err
				}
				if c != ex {
					tuples[i][j], changed = c, true
				}
			}
		}
		if !changed {
			return node, transform.SameTree, nil
		}
		v := *values
		v.ExpressionTuples = tuples
		return ins.WithSource(&v), transform.NewTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	n, same2, err := transform.NodeExprs(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		return coerceOperands(ctx, e)
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	n, same3, err := sumTypes(n)
	if err != nil {
		return nil, transform.SameTree, err
	}
	return n, same1 && same2 && same3, nil
}

// coerceOperands types the string literal operands of one expression by the other operand.
func coerceOperands(ctx *sql.Context, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
	switch x := e.(type) {
	case *expression.SetField:
		r, err := coerce(ctx, x.RightChild, x.LeftChild.Type())
		if err != nil || r == x.RightChild {
			return e, transform.SameTree, err
		}
		return expression.NewSetField(x.LeftChild, r), transform.NewTree, nil
	case *expression.InTuple:
		tuple, ok := x.Right().(expression.Tuple)
		if !ok {
			return e, transform.SameTree, nil
		}
		items := make([]sql.Expression, len(tuple))
		changed := false
		for i, it := range tuple {
			c, err := coerce(ctx, it, x.Left().Type())
			if err != nil {
				return nil, transform.SameTree, err
			}
			items[i], changed = c, changed || c != it
		}
		if !changed {
			return e, transform.SameTree, nil
		}
		return expression.NewInTuple(x.Left(), expression.NewTuple(items...)), transform.NewTree, nil
	case *function.Coalesce: // coalesce(paid, 'false'): the literal takes the column's type
		var typed sql.Type
		for _, ch := range x.Children() {
			if _, lit := ch.(*expression.Literal); !lit && coercible(ch.Type()) {
				typed = ch.Type()
				break
			}
		}
		if typed == nil {
			return e, transform.SameTree, nil
		}
		args := make([]sql.Expression, len(x.Children()))
		changed := false
		for i, ch := range x.Children() {
			c, err := coerce(ctx, ch, typed)
			if err != nil {
				return nil, transform.SameTree, err
			}
			args[i], changed = c, changed || c != ch
		}
		if !changed {
			return e, transform.SameTree, nil
		}
		c, err := x.WithChildren(args...)
		return c, transform.NewTree, err
	case *expression.Between:
		lo, err := coerce(ctx, x.Lower, x.Val.Type())
		if err != nil {
			return nil, transform.SameTree, err
		}
		hi, err := coerce(ctx, x.Upper, x.Val.Type())
		if err != nil {
			return nil, transform.SameTree, err
		}
		if lo == x.Lower && hi == x.Upper {
			return e, transform.SameTree, nil
		}
		return expression.NewBetween(x.Val, lo, hi), transform.NewTree, nil
	case expression.Comparer:
		l, r := x.Left(), x.Right()
		nl, err := coerceCompared(ctx, l, r)
		if err != nil {
			return nil, transform.SameTree, err
		}
		nr, err := coerceCompared(ctx, r, l)
		if err != nil {
			return nil, transform.SameTree, err
		}
		if nl == l && nr == r {
			return e, transform.SameTree, nil
		}
		c, err := e.WithChildren(nl, nr)
		return c, transform.NewTree, err
	}
	return e, transform.SameTree, nil
}

// coerceCompared coerces e, compared with other. go-mysql-server has already converted a string
// literal compared with a bytea column to bytes (the string's own bytes): a binary literal
// there was a string in the statement, since bytea values wasql writes itself (casts, binary
// parameters) are CAST(... AS BINARY), no literal.
func coerceCompared(ctx *sql.Context, e, other sql.Expression) (sql.Expression, error) {
	if lit, ok := e.(*expression.Literal); ok {
		if b, isBytes := lit.Value().([]byte); isBytes && isBytea(other.Type()) {
			if _, col := other.(*expression.GetField); col {
				return coerce(ctx, expression.NewLiteral(string(b), types.LongText), other.Type())
			}
		}
	}
	return coerce(ctx, e, other.Type())
}

// coercible reports whether strings take type t where they meet it.
func coercible(t sql.Type) bool {
	if t == nil {
		return false
	}
	switch t.Type() {
	case sqltypes.Date, sqltypes.Datetime, sqltypes.Timestamp:
		return true
	}
	return t == types.Boolean || isBytea(t)
}

func isBytea(t sql.Type) bool { return t != nil && (types.IsBinaryType(t) || types.IsBlobType(t)) }

// coerce reads e, when it is a string literal, as Postgres reads a literal of type t; any other
// expression, and a literal for any other type, is returned as it is.
func coerce(ctx *sql.Context, e sql.Expression, t sql.Type) (sql.Expression, error) {
	lit, ok := e.(*expression.Literal)
	if !ok || t == nil || !(types.IsText(lit.Type()) || types.IsTextOnly(lit.Type())) {
		return e, nil
	}
	s, ok := lit.Value().(string)
	if !ok {
		return e, nil
	}
	switch {
	case t == types.Boolean:
		b, ok := pgtext.ParseBool(s)
		if !ok {
			return nil, &pgtext.Error{Code: "22P02", Msg: pgtext.BoolError(s)}
		}
		if b {
			return expression.NewLiteral(int8(1), types.Boolean), nil
		}
		return expression.NewLiteral(int8(0), types.Boolean), nil
	case isBytea(t):
		b, err := pgtext.ParseBytea(s)
		if err != nil {
			return nil, err
		}
		return expression.NewLiteral(b, types.LongBlob), nil
	case t.Type() == sqltypes.Date: // a date ignores a time and an offset (pgjdbc's setDate sends '2024-05-02 +00')
		ts, ok := pgtext.ParseTimestamp(s)
		if !ok {
			return e, nil // other forms are the engine's to read (and to refuse)
		}
		y, m, d := ts.Wall.Date()
		return expression.NewLiteral(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), types.Date), nil
	case t.Type() == sqltypes.Timestamp || t.Type() == sqltypes.Datetime:
		v, err := readTimestamp(ctx, s, t.Type() == sqltypes.Timestamp)
		if err != nil {
			return nil, err
		}
		return expression.NewLiteral(v, types.DatetimeMaxPrecision), nil
	}
	return e, nil
}

// readTimestamp reads timestamp (zoned false) or timestamptz (zoned true) input in the
// session's TimeZone.
func readTimestamp(ctx *sql.Context, s string, zoned bool) (time.Time, error) {
	return pgtext.ReadTimestamp(s, zoned, func() (*time.Location, error) { return sessionLocation(ctx) })
}

// sessionLocation is the session's TimeZone setting (SET TimeZone) as a location.
func sessionLocation(ctx *sql.Context) (*time.Location, error) {
	return pgtext.SessionLocation(pgSettings(ctx)["timezone"])
}

// outputValue turns a value of result column c into what the wire encodes: a numeric with its
// column's scale (9.50, not 9.5), a timestamptz in the session's TimeZone. changed is false
// when v stays as it is.
func outputValue(ctx *sql.Context, c *sql.Column, v any) (out any, changed bool, err error) {
	switch x := v.(type) {
	case sql.AnyWrapper: // Dolt's text and blob values, read when sent
		u, err := x.UnwrapAny(ctx)
		if err != nil {
			return nil, false, err
		}
		out, _, err := outputValue(ctx, c, u)
		return out, true, err
	case decimal.Decimal:
		return numericText(x, c.Type), true, nil
	case float64: // a sum of integers, typed by sumTypes
		switch {
		case types.IsDecimal(c.Type):
			return numericText(decimal.NewFromFloat(x), c.Type), true, nil
		case types.IsInteger(c.Type):
			return int64(x), true, nil
		}
	case time.Time:
		if c.Type == nil || c.Type.Type() != sqltypes.Timestamp {
			return v, false, nil
		}
		loc, err := sessionLocation(ctx)
		if err != nil {
			return nil, false, err
		}
		return x.In(loc), true, nil
	}
	return v, false, nil
}

func numericText(d decimal.Decimal, t sql.Type) string { return pgcatalog.NumericText(d, t) }

// sumTypes gives sum() Postgres's result types: go-mysql-server types every sum float8, so the
// columns that read a sum of numerics become numeric with the operand's scale, of int2 and
// int4 bigint, of int8 numeric.
func sumTypes(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	retype := map[sql.ColumnId]sql.Type{}
	transform.InspectExpressions(n, func(e sql.Expression) bool {
		s, ok := e.(*aggregation.Sum)
		if !ok {
			return true
		}
		t := s.Child.Type()
		switch {
		case types.IsDecimal(t):
			scale := uint8(0)
			if dt, ok := t.(sql.DecimalType); ok {
				scale = dt.Scale()
			}
			retype[s.Id()] = types.MustCreateDecimalType(65, scale)
			if pgcatalog.IsUnconstrainedNumeric(t) {
				retype[s.Id()] = t
			}
		case t == types.Int64 || t == types.Uint64 || t == types.Uint32:
			retype[s.Id()] = types.MustCreateDecimalType(65, 0)
		case types.IsInteger(t):
			retype[s.Id()] = types.Int64
		}
		return true
	})
	if len(retype) == 0 {
		return n, transform.SameTree, nil
	}
	return transform.NodeExprs(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		gf, ok := e.(*expression.GetField)
		if !ok {
			return e, transform.SameTree, nil
		}
		t, ok := retype[gf.Id()]
		if !ok || gf.Type() == t {
			return e, transform.SameTree, nil
		}
		return expression.NewGetFieldWithTable(gf.Index(), int(gf.TableId()), t, gf.Database(), gf.Table(), gf.Name(), gf.IsNullable()).WithId(gf.Id()).(sql.Expression), transform.NewTree, nil
	})
}
