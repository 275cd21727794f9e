package upstream

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/sqlfuncs"
)

// Which overload a call is. PostgreSQL has already resolved the call against the stubs (the
// statement was described with them), so one overload fits; with one overload of the call's
// arity that is it, and otherwise PostgreSQL describes the arguments and the overload is the
// one their types fit exactly, else the one they reach by implicit casts (an unknown literal
// fits any type, a string type best).

func (x *wasmExec) resolve(c *wasmCall) (*sqlfuncs.Overload, error) {
	var cands []*sqlfuncs.Overload
	for _, ov := range x.s.b.cfg.Registry.Overloads(c.name) {
		if len(ov.Args) == len(c.fc.Args) && ov.Def.Schema == "" {
			cands = append(cands, ov)
		}
	}
	switch len(cands) {
	case 0:
		return nil, sqlError("42883", fmt.Sprintf("function %s does not exist", c.name))
	case 1:
		return cands[0], nil
	}
	oids, err := x.argTypes(c)
	if err != nil {
		return nil, err
	}
	fits := func(exact bool) []*sqlfuncs.Overload {
		var out []*sqlfuncs.Overload
		for _, ov := range cands {
			ok := true
			for i, t := range ov.Args {
				want, got := pgType[t].oid, oids[i]
				switch {
				case got == want:
				case exact:
					ok = false
				case got == oidUnknown:
				case slices.Contains(implicitCasts[got], want):
				default:
					ok = false
				}
			}
			if ok {
				out = append(out, ov)
			}
		}
		return out
	}
	if f := fits(true); len(f) == 1 {
		return f[0], nil
	}
	f := fits(false)
	if len(f) > 1 {
		// As PostgreSQL's func_select_candidate: keep the candidates taking a preferred type
		// (text, double precision) where the arguments are not unknown or cast to one.
		var preferred []*sqlfuncs.Overload
		for _, ov := range f {
			for i, t := range ov.Args {
				if o := pgType[t].oid; (o == 25 || o == 701) && oids[i] != o {
					preferred = append(preferred, ov)
					break
				}
			}
		}
		if len(preferred) == 1 {
			f = preferred
		}
	}
	if len(f) == 1 {
		return f[0], nil
	}
	names := make([]string, len(cands))
	for i, ov := range cands {
		names[i] = ov.Def.Key().String()
	}
	return nil, sqlError(sqlstate.FeatureNotSupported, fmt.Sprintf("wasql cannot tell which of %s this call of %s is: cast its arguments to the types of one", strings.Join(names, ", "), c.name))
}

// argTypes asks PostgreSQL the types of a call's arguments; an unknown literal is unknown.
func (x *wasmExec) argTypes(c *wasmCall) ([]uint32, error) {
	oids := make([]uint32, len(c.fc.Args))
	texts := make([]string, len(c.fc.Args))
	for i, a := range c.fc.Args {
		if ac := a.GetAConst(); ac != nil && (ac.GetSval() != nil || ac.Isnull) {
			oids[i] = oidUnknown // a string literal or NULL: its type is the function's
		}
		s, err := deparseExpr(a)
		if err != nil {
			return nil, err
		}
		texts[i] = s
	}
	m := &memo{keys: texts}
	queries, err := x.prepQueries(c, m)
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, pq := range queries {
		q, err := pq.sql()
		if err != nil {
			return nil, err
		}
		var rd pgproto3.RowDescription
		// A failed Parse aborts the transaction: a savepoint to come back to.
		msgs := append(statementMsgs("SAVEPOINT wasql_types"), &pgproto3.Parse{Query: q, ParameterOIDs: x.poids},
			&pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Sync{})
		err = x.s.exchange(x.ctx, func(msg []byte) error {
			if msg[0] == 'T' {
				return rd.Decode(append([]byte(nil), msg[5:]...))
			}
			return nil
		}, msgs...)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if err := x.s.simple(x.ctx, "ROLLBACK TO SAVEPOINT wasql_types"); err != nil {
				return nil, err
			}
			continue
		}
		for i := range oids {
			if oids[i] == 0 && i < len(rd.Fields) {
				oids[i] = rd.Fields[i].DataTypeOID
			}
		}
		return oids, nil
	}
	return nil, firstErr
}
