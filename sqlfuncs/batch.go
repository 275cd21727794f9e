package sqlfuncs

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"

	"github.com/wasql/wasql/udf"
)

// DefaultBatchRows is how many rows BatchEval pulls before calling the guests.
const DefaultBatchRows = 1024

// BatchEval evaluates wasm calls over batches of its child's rows: it pulls up to Rows rows,
// makes one guest call per function for the whole batch (chained calls in order, each seeing the
// results of the ones before), and emits each row followed by one column per call.
type BatchEval struct {
	plan.UnaryNode
	Calls []LiftedCall
	Rows  int
}

// LiftedCall is one call a BatchEval evaluates: its arguments are expressions over the child's
// row extended with the results of the calls before it.
type LiftedCall struct {
	Name string // the synthetic column
	Ov   *Overload
	Args []sql.Expression
}

var _ sql.ExecBuilderNode = (*BatchEval)(nil)
var _ sql.Expressioner = (*BatchEval)(nil)

// Schema implements the interface sql.Node: the child's columns, then one per call.
func (b *BatchEval) Schema() sql.Schema {
	s := append(sql.Schema(nil), b.Child.Schema()...)
	for _, c := range b.Calls {
		s = append(s, &sql.Column{Name: c.Name, Type: sqlType(c.Ov.Result), Nullable: true})
	}
	return s
}

// String implements the interface sql.Node.
func (b *BatchEval) String() string {
	p := sql.NewTreePrinter()
	calls := make([]string, len(b.Calls))
	for i, c := range b.Calls {
		calls[i] = fmt.Sprintf("%s(%s) as %s", c.Ov.Def.Name, exprList(c.Args), c.Name)
	}
	_ = p.WriteNode("WasmBatchEval(%s; %d rows per call)", strings.Join(calls, ", "), b.Rows)
	_ = p.WriteChildren(b.Child.String())
	return p.String()
}

// WithChildren implements the interface sql.Node.
func (b *BatchEval) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(b, len(children), 1)
	}
	n := *b
	n.Child = children[0]
	return &n, nil
}

// IsReadOnly implements the interface sql.Node.
func (b *BatchEval) IsReadOnly() bool { return b.Child.IsReadOnly() }

// Expressions implements the interface sql.Expressioner: every call's arguments, in order.
func (b *BatchEval) Expressions() []sql.Expression {
	var out []sql.Expression
	for _, c := range b.Calls {
		out = append(out, c.Args...)
	}
	return out
}

// WithExpressions implements the interface sql.Expressioner.
func (b *BatchEval) WithExpressions(exprs ...sql.Expression) (sql.Node, error) {
	if len(exprs) != len(b.Expressions()) {
		return nil, sql.ErrInvalidChildrenNumber.New(b, len(exprs), len(b.Expressions()))
	}
	n := *b
	n.Calls = make([]LiftedCall, len(b.Calls))
	for i, c := range b.Calls {
		c.Args, exprs = exprs[:len(c.Args)], exprs[len(c.Args):]
		n.Calls[i] = c
	}
	return &n, nil
}

// BuildRowIter implements the interface sql.ExecBuilderNode.
func (b *BatchEval) BuildRowIter(ctx *sql.Context, build sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	child, err := build.Build(ctx, b.Child, row)
	if err != nil {
		return nil, err
	}
	it := &batchIter{b: b, child: child, sessions: make([]*udf.Session, len(b.Calls)),
		cols: make([][]udf.Column, len(b.Calls)), res: make([]udf.Column, len(b.Calls))}
	// Calls of one function share the statement's session (and instance): a statement never
	// holds one instance of a function while it waits for a second.
	st, release := statement(ctx)
	it.release = release
	for i, c := range b.Calls {
		it.sessions[i] = st.Session(c.Ov.Fn)
		it.cols[i] = make([]udf.Column, len(c.Args))
	}
	return it, nil
}

type batchIter struct {
	b        *BatchEval
	child    sql.RowIter
	sessions []*udf.Session
	cols     [][]udf.Column // argument columns per call, reused
	res      []udf.Column   // result column per call, reused
	rows     []sql.Row
	next     int
	done     bool
	seen     int    // child rows evaluated before this batch, for row numbers in errors
	release  func() // releases the statement's sessions
}

// Next implements the interface sql.RowIter.
func (it *batchIter) Next(ctx *sql.Context) (sql.Row, error) {
	if it.next >= len(it.rows) {
		if it.done {
			return nil, io.EOF
		}
		if err := it.fill(ctx); err != nil {
			return nil, err
		}
		if len(it.rows) == 0 {
			return nil, io.EOF
		}
	}
	r := it.rows[it.next]
	it.next++
	return r, nil
}

// fill pulls the next batch of child rows and evaluates every call over it.
func (it *batchIter) fill(ctx *sql.Context) error {
	it.rows, it.next = it.rows[:0], 0
	for len(it.rows) < it.b.Rows {
		r, err := it.child.Next(ctx)
		if err == io.EOF {
			it.done = true
			break
		}
		if err != nil {
			return err
		}
		ext := make(sql.Row, len(r), len(r)+len(it.b.Calls))
		copy(ext, r)
		it.rows = append(it.rows, ext)
	}
	n := len(it.rows)
	if n == 0 {
		return nil
	}
	for k, c := range it.b.Calls {
		cols := it.cols[k]
		for a, arg := range c.Args {
			cols[a].Reset(c.Ov.Args[a], n)
			for i, r := range it.rows {
				v, err := arg.Eval(ctx, r)
				if err != nil {
					return err
				}
				if err := setValue(ctx, &cols[a], i, v); err != nil {
					return argumentError(c.Ov, a, err)
				}
			}
		}
		if err := it.sessions[k].EvalInto(ctx, &it.res[k], n, cols...); err != nil {
			return wireErrorIn(ctx, rowInStatement(err, it.seen))
		}
		for i := range it.rows {
			it.rows[i] = append(it.rows[i], value(&it.res[k], i))
		}
	}
	it.seen += n
	return nil
}

// rowInStatement numbers a row error's row among all the rows the node evaluated, not only
// within its batch.
func rowInStatement(err error, before int) error {
	var e *udf.Error
	if before == 0 || !errors.As(err, &e) || e.Row < 0 {
		return err
	}
	c := *e
	c.Row += before
	return &c
}

// Close implements the interface sql.RowIter.
func (it *batchIter) Close(ctx *sql.Context) error {
	it.release()
	return it.child.Close(ctx)
}

// Trim passes on the first Width columns of its child's rows: it hides the columns a BatchEval
// added below a Filter, Sort or Having from the nodes above.
type Trim struct {
	plan.UnaryNode
	Width int
}

var _ sql.ExecBuilderNode = (*Trim)(nil)

// Schema implements the interface sql.Node.
func (t *Trim) Schema() sql.Schema { return t.Child.Schema()[:t.Width] }

// String implements the interface sql.Node.
func (t *Trim) String() string {
	p := sql.NewTreePrinter()
	_ = p.WriteNode("WasmTrim(%d columns)", t.Width)
	_ = p.WriteChildren(t.Child.String())
	return p.String()
}

// WithChildren implements the interface sql.Node.
func (t *Trim) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(t, len(children), 1)
	}
	n := *t
	n.Child = children[0]
	return &n, nil
}

// IsReadOnly implements the interface sql.Node.
func (t *Trim) IsReadOnly() bool { return t.Child.IsReadOnly() }

// BuildRowIter implements the interface sql.ExecBuilderNode.
func (t *Trim) BuildRowIter(ctx *sql.Context, build sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	child, err := build.Build(ctx, t.Child, row)
	if err != nil {
		return nil, err
	}
	return &trimIter{child: child, width: t.Width}, nil
}

type trimIter struct {
	child sql.RowIter
	width int
}

func (it *trimIter) Next(ctx *sql.Context) (sql.Row, error) {
	r, err := it.child.Next(ctx)
	if err != nil {
		return nil, err
	}
	return r[:it.width:it.width], nil
}

func (it *trimIter) Close(ctx *sql.Context) error { return it.child.Close(ctx) }

func exprList(es []sql.Expression) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}
