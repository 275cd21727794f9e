package embedded

import (
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// signalBackend is pg_cancel_backend(pid) and pg_terminate_backend(pid) on the Postgres wire:
// they interrupt the statement of a session of this engine (either wire's: the ids are one
// space), at once, whatever it is doing; terminate also ends the session.
type signalBackend struct {
	expression.UnaryExpressionStub
	e    *Engine
	name string
}

var _ sql.Expression = (*signalBackend)(nil)

// Type implements the interface sql.Expression.
func (b *signalBackend) Type() sql.Type { return types.Boolean }

// IsNullable implements the interface sql.Expression.
func (b *signalBackend) IsNullable() bool { return true }

// IsNonDeterministic implements the interface sql.NonDeterministicExpression: it is never folded.
func (b *signalBackend) IsNonDeterministic() bool { return true }

// String implements the interface sql.Expression.
func (b *signalBackend) String() string { return fmt.Sprintf("%s(%s)", b.name, b.Child) }

// WithChildren implements the interface sql.Expression.
func (b *signalBackend) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(b, len(children), 1)
	}
	n := *b
	n.Child = children[0]
	return &n, nil
}

// Eval implements the interface sql.Expression: true once signalled; false, with a warning,
// for a pid that is no session of this engine, as PostgreSQL does.
func (b *signalBackend) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := b.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	n, _, err := types.Int64.Convert(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.name, err)
	}
	pid := n.(int64)
	target := b.e.sessions.get(uint32(pid))
	if pid <= 0 || pid > 1<<32-1 || target == nil {
		ctx.Warn(1105, "PID %d is not a PostgreSQL backend process", pid)
		return false, nil
	}
	if !b.e.mayCancel(ctx.Session.Client().User, target) {
		what := "cancel query"
		if b.name == "pg_terminate_backend" {
			what = "terminate process"
		}
		return nil, &permissionError{msg: fmt.Sprintf("permission denied to %s", what)}
	}
	if b.name == "pg_cancel_backend" {
		target.interrupt(&Interrupted{}, false)
		return true, nil
	}
	target.interrupt(&Interrupted{Terminated: true}, true)
	if target.pg {
		if b.e.TerminatePG != nil {
			b.e.TerminatePG(target.id)
		}
	} else {
		b.e.mu.Lock()
		sm := b.e.mysql
		b.e.mu.Unlock()
		if sm != nil {
			_ = sm.KillConnection(target.id)
		}
	}
	return true, nil
}

// permissionError is 42501 insufficient_privilege.
type permissionError struct{ msg string }

func (e *permissionError) Error() string { return e.msg }

// SQLState implements the interface sqlstate.Carrier.
func (e *permissionError) SQLState() string { return "42501" }
