package proxy

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// prepared is a parsed statement: the query and its parameter types.
type prepared struct {
	query     string
	paramOIDs []uint32
	unknown   []bool   // parameters the client sent without a type
	cols      []Column // described lazily
	described bool
}

// portal is a bound statement.
type portal struct {
	stmt    *prepared
	params  []any
	formats []int16
	out     *output // set by the first Execute, what is left of it sent by the next ones
}

// extended handles one message of the extended query protocol. An error makes the caller skip
// to the next Sync.
func (s *executorSession) extended(ctx context.Context, msg pgproto3.FrontendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.Parse:
		n := countParams(m.Query)
		oids := make([]uint32, n)
		copy(oids, m.ParameterOIDs)
		unknown := make([]bool, n)
		for i, o := range oids {
			if o == 0 {
				oids[i], unknown[i] = OIDText, true // until the backend infers it (Describe)
			}
		}
		if m.Name != "" {
			if _, exists := s.stmts[m.Name]; exists {
				return sqlError("42P05", fmt.Sprintf("prepared statement %q already exists", m.Name))
			}
		}
		s.stmts[m.Name] = &prepared{query: m.Query, paramOIDs: oids, unknown: unknown}
		s.out.Send(&pgproto3.ParseComplete{})
	case *pgproto3.Bind:
		st, ok := s.stmts[m.PreparedStatement]
		if !ok {
			return sqlError("26000", fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement))
		}
		if len(m.Parameters) != len(st.paramOIDs) {
			return sqlError("08P01", fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
				len(m.Parameters), m.PreparedStatement, len(st.paramOIDs)))
		}
		params := make([]any, len(m.Parameters))
		for i, raw := range m.Parameters {
			v, err := decodeParam(raw, st.paramOIDs[i], format(m.ParameterFormatCodes, i))
			if err != nil {
				return sqlError("22P02", fmt.Sprintf("parameter $%d: %v", i+1, err))
			}
			params[i] = v
		}
		formats := append([]int16{}, m.ResultFormatCodes...)
		s.portals[m.DestinationPortal] = &portal{stmt: st, params: params, formats: formats}
		s.out.Send(&pgproto3.BindComplete{})
	case *pgproto3.Describe:
		switch m.ObjectType {
		case 'S':
			st, ok := s.stmts[m.Name]
			if !ok {
				return sqlError("26000", fmt.Sprintf("prepared statement %q does not exist", m.Name))
			}
			if err := s.analyze(ctx, st); err != nil {
				return err
			}
			s.out.Send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
			return s.describe(ctx, st, nil)
		case 'P':
			p, ok := s.portals[m.Name]
			if !ok {
				return sqlError("34000", fmt.Sprintf("portal %q does not exist", m.Name))
			}
			return s.describe(ctx, p.stmt, p.formats)
		}
		return protocolError(fmt.Errorf("describe of %q", m.ObjectType))
	case *pgproto3.Execute:
		p, ok := s.portals[m.Portal]
		if !ok {
			return sqlError("34000", fmt.Sprintf("portal %q does not exist", m.Portal))
		}
		if len(splitStatements(p.stmt.query)) == 0 {
			s.out.Send(&pgproto3.EmptyQueryResponse{})
			return nil
		}
		if p.out != nil {
			p.out.send(s.out, int(m.MaxRows))
			return nil
		}
		out, err := s.run(ctx, p.stmt.query, p.params, p.formats, false, int(m.MaxRows))
		if err != nil {
			return err
		}
		if s.copy != nil {
			s.copy.extended = true
			return nil
		}
		p.out = out
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(s.stmts, m.Name)
		} else {
			delete(s.portals, m.Name)
		}
		s.out.Send(&pgproto3.CloseComplete{})
	}
	return nil
}

// ParamUndetermined is the type an Executor's Describe gives a parameter whose type nothing
// determines where Postgres requires one (an argument of format(), declared "any"): a client
// that sent it untyped gets Postgres's error, 42P18.
const ParamUndetermined uint32 = 1<<32 - 1

// analyze asks the executor for the statement's columns and parameter types, once.
func (s *executorSession) analyze(ctx context.Context, st *prepared) error {
	if st.described {
		return nil
	}
	ctx, done := s.statementContext(ctx)
	cols, params, err := s.ex.Describe(ctx, st.query, len(st.paramOIDs))
	err = interrupted(ctx, err)
	done()
	if err != nil {
		return err
	}
	for i, oid := range params {
		if i < len(st.unknown) && st.unknown[i] && oid == ParamUndetermined {
			return sqlError("42P18", fmt.Sprintf("could not determine data type of parameter $%d", i+1))
		}
		if i < len(st.unknown) && st.unknown[i] && oid != 0 {
			st.paramOIDs[i] = oid
		}
	}
	st.cols, st.described = cols, true
	return nil
}

func (s *executorSession) describe(ctx context.Context, st *prepared, formats []int16) error {
	if err := s.analyze(ctx, st); err != nil {
		return err
	}
	if st.cols == nil {
		s.out.Send(&pgproto3.NoData{})
		return nil
	}
	s.out.Send(rowDescription(st.cols, formats))
	return nil
}

// countParams returns the highest $n in q outside quotes.
func countParams(q string) int {
	n := 0
	forEachParam(q, func(_, _ int, k int) { n = max(n, k) })
	return n
}

// forEachParam calls f(start, end, n) for each $n placeholder outside quotes and comments.
func forEachParam(q string, f func(start, end, n int)) {
	for i := 0; i < len(q); i = skipQuoted(q, i) + 1 {
		if q[i] != '$' || i+1 >= len(q) || q[i+1] < '0' || q[i+1] > '9' {
			continue
		}
		j, k := i+1, 0
		for j < len(q) && q[j] >= '0' && q[j] <= '9' && k < 100000 {
			k = k*10 + int(q[j]-'0')
			j++
		}
		f(i, j, k)
		i = j - 1
	}
}
