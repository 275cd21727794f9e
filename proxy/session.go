package proxy

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/internal/wiretext"
)

// ExecutorSession is the Session of an Executor on out: it speaks the simple and the extended
// query protocol (simple_query.go, extended_query.go) and encodes the Executor's Go values
// (types.go, arrays.go).
//
// A statement's result is read to its end before the client is flushed: the embedded engine
// holds the statement's locks until Result.Close, and a client that reads slowly (or not at
// all) must not hold them. Rows are encoded into out's buffer as they come (or, past the row
// limit of an Execute, into its portal's, which later Executes send) and flushed once the
// statement's result is closed.
func ExecutorSession(ex Executor, out Writer) Session {
	return &executorSession{ex: ex, out: out, stmts: map[string]*prepared{}, portals: map[string]*portal{}}
}

type executorSession struct {
	ex  Executor
	out Writer

	stmts      map[string]*prepared
	portals    map[string]*portal
	skipToSync bool     // an extended-protocol message failed: messages up to Sync are dropped
	copy       *copying // a COPY FROM STDIN in progress (copy.go)

	mu      sync.Mutex
	running context.CancelCauseFunc // cancels the statement in progress
}

// Parameters implements the interface Session.
func (s *executorSession) Parameters() []pgproto3.ParameterStatus { return s.ex.Parameters() }

// Close implements the interface Session. A COPY in progress loads nothing.
func (s *executorSession) Close() error {
	s.closeCopy()
	return s.ex.Close()
}

// Cancel implements the interface Session: the running statement's context ends with 57014.
func (s *executorSession) Cancel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		s.running(errUserCancel)
	}
}

// Handle implements the interface Session. A panic in a message's handling (the adapter's or
// the executor's) is that message's XX000 error, and the session goes on.
func (s *executorSession) Handle(ctx context.Context, msg pgproto3.FrontendMessage) error {
	if s.copy != nil {
		return s.copyMessage(ctx, msg)
	}
	if s.skipToSync {
		if _, ok := msg.(*pgproto3.Sync); !ok {
			return nil
		}
		s.skipToSync = false
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		if err := s.guard(func() error { return s.simpleQuery(ctx, m.String) }); err != nil {
			s.fail(err)
		}
		if s.copy != nil { // ReadyForQuery follows the COPY's data
			return nil
		}
		return s.ready()
	case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
		if err := s.guard(func() error { return s.extended(ctx, msg) }); err != nil {
			s.fail(err)
			s.skipToSync = true
		}
		return nil
	case *pgproto3.Sync:
		delete(s.portals, "")
		return s.ready()
	case *pgproto3.Flush:
		return s.out.Flush()
	case *pgproto3.FunctionCall:
		s.fail(sqlError("0A000", "the function call protocol (fastpath) is not supported"))
		return s.ready()
	}
	// CopyData, CopyDone, CopyFail outside a COPY: dropped, as PostgreSQL drops them (what a
	// client still sends after its COPY failed).
	return nil
}

// guard runs one message's handler, a panic in it becoming its error.
func (s *executorSession) guard(f func() error) error { return guard("postgres session", f) }

// fail reports a statement's error; a transaction block it ran in fails.
func (s *executorSession) fail(err error) {
	s.out.Send(toErrorResponse(err))
	s.ex.Failed()
}

// ready sends ReadyForQuery with the executor's transaction status and flushes.
func (s *executorSession) ready() error {
	s.out.Send(&pgproto3.ReadyForQuery{TxStatus: s.ex.TxStatus()})
	return s.out.Flush()
}

// statementContext returns the context of one statement, which Cancel and the server's Close
// end.
func (s *executorSession) statementContext(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	s.mu.Lock()
	s.running = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		s.running = nil
		s.mu.Unlock()
		cancel(nil)
	}
}

// interrupted returns the reason a statement's error is reported with: when its context ended
// (Cancel, the server's Close), that cause whatever error the executor returned (a lock wait's
// "context canceled", a guest's trap).
func interrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return context.Cause(ctx)
}

// output is what is left to send of a statement run past an Execute's row limit: its encoded
// rows, then its end (notices, ParameterStatus, CommandComplete).
type output struct {
	rows [][][]byte
	end  []pgproto3.BackendMessage
}

// run executes one statement and sends its rows: with describe (the simple protocol) after a
// RowDescription; with limit > 0 (an Execute's row count) only that many, the others returned
// for the portal to send later (then PortalSuspended ends what is sent now). The result is read
// to its end and closed before run returns, but that of a COPY FROM STDIN: run begins the COPY
// (startCopy) and returns nil.
func (s *executorSession) run(ctx context.Context, query string, params []any, formats []int16, describe bool, limit int) (*output, error) {
	ctx, done := s.statementContext(ctx)
	res, err := s.ex.Execute(ctx, query, params)
	if err != nil {
		err = interrupted(ctx, err)
		done()
		return nil, err
	}
	if in, ok := res.(CopyIn); ok {
		return nil, s.startCopy(ctx, in, done)
	}
	defer done()
	closed := false
	defer func() {
		if !closed {
			res.Close()
		}
	}()
	cols := res.Columns()
	if out, ok := res.(CopyOut); ok {
		if err := s.copyOut(ctx, out, cols); err != nil {
			return nil, err
		}
		cols = nil // its rows are sent
	}
	if describe && cols != nil {
		s.out.Send(rowDescription(cols, nil))
	}
	var rest *output
	for sent := 0; cols != nil; {
		row, err := res.Next(ctx)
		if err != nil {
			sendNotices(s.out, res) // raised before the error (a guest's log lines), as PostgreSQL sends them
			return nil, interrupted(ctx, err)
		}
		if row == nil {
			break
		}
		values, err := encodeRow(row, cols, formats)
		if err != nil {
			return nil, err
		}
		if limit > 0 && sent == limit {
			if rest == nil {
				rest = &output{}
			}
			rest.rows = append(rest.rows, values)
			continue
		}
		s.out.Send(&pgproto3.DataRow{Values: values})
		sent++
	}
	end := endOf(res)
	closed = true
	if err := res.Close(); err != nil {
		return nil, interrupted(ctx, err)
	}
	if rest != nil {
		rest.end = end
		s.out.Send(&pgproto3.PortalSuspended{})
		return rest, nil
	}
	for _, m := range end {
		s.out.Send(m)
	}
	return &output{end: end}, nil
}

// send sends up to limit (0: all) of the rows left, then PortalSuspended, or the statement's end.
func (o *output) send(out Writer, limit int) {
	n := len(o.rows)
	if limit > 0 && limit < n {
		n = limit
	}
	for _, r := range o.rows[:n] {
		out.Send(&pgproto3.DataRow{Values: r})
	}
	o.rows = o.rows[n:]
	if len(o.rows) > 0 {
		out.Send(&pgproto3.PortalSuspended{})
		return
	}
	for _, m := range o.end {
		out.Send(m)
	}
}

// encodeRow encodes a row's values in the formats the client asked for.
func encodeRow(row []any, cols []Column, formats []int16) ([][]byte, error) {
	values := make([][]byte, len(row))
	for i, v := range row {
		if i >= len(cols) {
			return nil, sqlError("XX000", "a row has more values than its result has columns")
		}
		var err error
		if values[i], err = encode(v, cols[i].OID, format(formats, i)); err != nil {
			return nil, err
		}
	}
	return values, nil
}

// endOf is what ends a statement's answer: its notices (sanitized: an engine's text may be a
// guest's), its ParameterStatus reports, its CommandComplete.
func endOf(res Result) []pgproto3.BackendMessage {
	end := notices(res)
	if r, ok := res.(Reporter); ok {
		for _, p := range r.Reports() {
			end = append(end, &p)
		}
	}
	return append(end, &pgproto3.CommandComplete{CommandTag: []byte(res.Tag())})
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

// notices are res's notices as NoticeResponses, sanitized.
func notices(res Result) []pgproto3.BackendMessage {
	var ms []pgproto3.BackendMessage
	if n, ok := res.(Noticer); ok {
		for _, n := range n.Notices() {
			ms = append(ms, &pgproto3.NoticeResponse{Severity: n.Severity, SeverityUnlocalized: n.Severity, Code: n.Code,
				Message: wiretext.Clean(n.Message, 0)})
		}
	}
	return ms
}

// sendNotices sends res's notices.
func sendNotices(out Writer, res Result) {
	for _, m := range notices(res) {
		out.Send(m)
	}
}
