package sqlfuncs

import (
	"context"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// Parser wraps go-mysql-server's parser: CREATE FUNCTION ... LANGUAGE wasm and DROP FUNCTION
// become injected statements that run against the Registry; everything else goes to the inner
// parser unchanged.
type Parser struct {
	sql.Parser
	reg *Registry
}

var _ sql.Parser = (*Parser)(nil)

// NewParser returns a parser for reg in front of inner.
func NewParser(inner sql.Parser, reg *Registry) *Parser { return &Parser{Parser: inner, reg: reg} }

// ParseSimple implements the interface sql.Parser.
func (p *Parser) ParseSimple(query string) (ast.Statement, error) {
	if st, _, ok, err := p.parse(query); ok {
		return st, err
	}
	return p.Parser.ParseSimple(query)
}

// Parse implements the interface sql.Parser.
func (p *Parser) Parse(ctx *sql.Context, query string, multi bool) (ast.Statement, string, string, error) {
	if st, rest, ok, err := p.parse(query); ok {
		return st, query[:len(query)-len(rest)], rest, err
	}
	return p.Parser.Parse(ctx, query, multi)
}

// ParseWithOptions implements the interface sql.Parser.
func (p *Parser) ParseWithOptions(ctx context.Context, query string, delim rune, multi bool, o ast.ParserOptions) (ast.Statement, string, string, error) {
	if st, rest, ok, err := p.parse(query); ok {
		return st, query[:len(query)-len(rest)], rest, err
	}
	return p.Parser.ParseWithOptions(ctx, query, delim, multi, o)
}

// ParseOneWithOptions implements the interface sql.Parser.
func (p *Parser) ParseOneWithOptions(ctx context.Context, query string, o ast.ParserOptions) (ast.Statement, int, error) {
	if st, rest, ok, err := p.parse(query); ok {
		return st, len(query) - len(rest), err
	}
	return p.Parser.ParseOneWithOptions(ctx, query, o)
}

// parse recognises the wasm DDL; ok is false for every other statement.
func (p *Parser) parse(query string) (ast.Statement, string, bool, error) {
	if name, rest, ok := parseShowCreate(query); ok {
		return p.showCreate(name), strings.TrimSpace(rest), true, nil
	}
	stmt, restAt, err := ParseDDL(query)
	if stmt == nil && err == nil {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", true, wireError(err)
	}
	rest := strings.TrimSpace(query[restAt:])
	switch s := stmt.(type) {
	case *CreateStmt:
		inj := ast.InjectedStatement{Statement: &createInjectable{reg: p.reg, stmt: s},
			Auth: ast.AuthInformation{AuthType: ast.AuthType_CREATE_ROUTINE, TargetType: ast.AuthTargetType_Global}}
		if s.Module == nil {
			inj.Children = ast.Exprs{ast.NewValArg([]byte(fmt.Sprintf(":v%d", s.Param)))}
		}
		return inj, rest, true, nil
	case *DropStmt:
		// Who may drop is decided by the function's owner and the ALTER ROUTINE privilege, when
		// the function is known (Registry.Drop): an owner drops its own without the privilege.
		return ast.InjectedStatement{Statement: &dropInjectable{reg: p.reg, stmt: s},
			Auth: ast.AuthInformation{AuthType: ast.AuthType_IGNORE}}, rest, true, nil
	}
	return nil, "", false, nil
}

type createInjectable struct {
	reg  *Registry
	stmt *CreateStmt
}

// WithResolvedChildren implements the interface ast.Injectable.
func (c *createInjectable) WithResolvedChildren(children []any) (any, error) {
	n := &CreateFunction{reg: c.reg, Stmt: c.stmt}
	if len(children) == 1 {
		n.module = children[0].(sql.Expression)
	}
	return n, nil
}

type dropInjectable struct {
	reg  *Registry
	stmt *DropStmt
}

// WithResolvedChildren implements the interface ast.Injectable.
func (d *dropInjectable) WithResolvedChildren([]any) (any, error) {
	return &DropFunction{reg: d.reg, Stmt: d.stmt}, nil
}

// CreateFunction is the plan node of CREATE FUNCTION ... LANGUAGE wasm.
type CreateFunction struct {
	reg    *Registry
	Stmt   *CreateStmt
	module sql.Expression // the bound parameter holding the module, when not a literal
}

var _ sql.ExecSourceRel = (*CreateFunction)(nil)
var _ sql.Expressioner = (*CreateFunction)(nil)

// Resolved implements the interface sql.Node.
func (c *CreateFunction) Resolved() bool { return c.module == nil || c.module.Resolved() }

// String implements the interface sql.Node.
func (c *CreateFunction) String() string {
	return fmt.Sprintf("CREATE FUNCTION %s(%s) LANGUAGE wasm", c.Stmt.Name, typeList(c.Stmt.Args))
}

// Schema implements the interface sql.Node.
func (c *CreateFunction) Schema() sql.Schema { return types.OkResultSchema }

// Children implements the interface sql.Node.
func (c *CreateFunction) Children() []sql.Node { return nil }

// WithChildren implements the interface sql.Node.
func (c *CreateFunction) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), 0)
	}
	return c, nil
}

// IsReadOnly implements the interface sql.Node.
func (c *CreateFunction) IsReadOnly() bool { return false }

// Expressions implements the interface sql.Expressioner: the bound module parameter, so that
// go-mysql-server substitutes its value.
func (c *CreateFunction) Expressions() []sql.Expression {
	if c.module == nil {
		return nil
	}
	return []sql.Expression{c.module}
}

// WithExpressions implements the interface sql.Expressioner.
func (c *CreateFunction) WithExpressions(exprs ...sql.Expression) (sql.Node, error) {
	if len(exprs) != len(c.Expressions()) {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(exprs), len(c.Expressions()))
	}
	n := *c
	if len(exprs) == 1 {
		n.module = exprs[0]
	}
	return &n, nil
}

// RowIter implements the interface sql.ExecSourceRel.
func (c *CreateFunction) RowIter(ctx *sql.Context, _ sql.Row) (sql.RowIter, error) {
	stmt := *c.Stmt
	if c.module != nil {
		v, err := c.module.Eval(ctx, nil)
		if err != nil {
			return nil, wireError(err)
		}
		v, _ = sql.UnwrapAny(ctx, v)
		switch b := v.(type) {
		case []byte:
			stmt.Module = b
		case string:
			m, err := decodeModuleText(b)
			if err != nil {
				return nil, wireError(err)
			}
			stmt.Module = m
		default:
			return nil, wireError(defErr("the module parameter must be bytes, not %T", v))
		}
	}
	if err := c.reg.Create(ctx, &stmt); err != nil {
		return nil, wireErrorIn(ctx, err) // the Postgres wire sends a quota's hint as its own field
	}
	warnShadow(ctx, stmt.Name)
	return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(0))), nil
}

// DropFunction is the plan node of DROP FUNCTION.
type DropFunction struct {
	reg  *Registry
	Stmt *DropStmt
}

var _ sql.ExecSourceRel = (*DropFunction)(nil)

// Resolved implements the interface sql.Node.
func (d *DropFunction) Resolved() bool { return true }

// String implements the interface sql.Node.
func (d *DropFunction) String() string { return "DROP FUNCTION " + d.Stmt.Name }

// Schema implements the interface sql.Node.
func (d *DropFunction) Schema() sql.Schema { return types.OkResultSchema }

// Children implements the interface sql.Node.
func (d *DropFunction) Children() []sql.Node { return nil }

// WithChildren implements the interface sql.Node.
func (d *DropFunction) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(d, len(children), 0)
	}
	return d, nil
}

// IsReadOnly implements the interface sql.Node.
func (d *DropFunction) IsReadOnly() bool { return false }

// RowIter implements the interface sql.ExecSourceRel.
func (d *DropFunction) RowIter(ctx *sql.Context, _ sql.Row) (sql.RowIter, error) {
	missing := d.Stmt.IfExists && !d.reg.hasOverload(d.Stmt)
	if err := d.reg.Drop(ctx, d.Stmt); err != nil {
		return nil, wireError(err)
	}
	if missing {
		noteMissing(ctx, d.Stmt)
	}
	return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(0))), nil
}

// argType is the type overload resolution sees for an argument: string literals and bound
// parameters are unknown until resolution, as in Postgres.
func argType(a sql.Expression) sql.Type {
	switch x := a.(type) {
	case *expression.BindVar:
		return unknownType
	case *expression.Literal:
		if _, ok := x.Value().(string); ok {
			return unknownType
		}
	}
	if types.IsDeferredType(a.Type()) {
		return unknownType
	}
	return a.Type()
}

// Function implements the interface sql.FunctionProvider: wasm functions by name, resolved to
// an overload once the argument types are known.
func (r *Registry) Function(_ *sql.Context, name string) (sql.Function, bool) {
	if !r.hasName(name) {
		if strings.EqualFold(name, "wasql_reset_stats") { // a wasm function of that name comes first
			return ResetStatsFunction(r), true
		}
		return nil, false
	}
	return sql.FunctionN{Name: strings.ToLower(name), Fn: func(args ...sql.Expression) (sql.Expression, error) {
		argTypes := make([]sql.Type, len(args))
		for i, a := range args {
			argTypes[i] = argType(a)
		}
		ov, err := r.Resolve(name, argTypes)
		if err != nil {
			return nil, wireError(err)
		}
		return &Call{ov: ov, args: args}, nil
	}}, true
}
