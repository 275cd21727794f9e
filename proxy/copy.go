package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
)

// CopyIn is the Result of a COPY ... FROM STDIN. The session answers the statement with
// CopyInResponse and hands the client's data to Load: the bytes of its CopyData messages, in
// order, up to its CopyDone. The result's end (Tag, Close) follows Load.
type CopyIn interface {
	Result
	// CopyFormat is the format of the data (CopyInResponse says it to the client).
	CopyFormat() CopyFormat
	// Load reads the data from r (NewCopyReader) and loads it. Reading r fails when the client
	// sends CopyFail or goes away, or ctx ends.
	Load(ctx context.Context, r io.Reader) error
}

// CopyOut is the Result of a COPY ... TO STDOUT: the session answers with CopyOutResponse and
// sends its rows as CopyData in the format, then CopyDone and the result's end.
type CopyOut interface {
	Result
	// CopyFormat is the format of the data (Columns are the result's).
	CopyFormat() CopyFormat
}

// copyOut sends the rows of a COPY TO STDOUT (encodeCopyRow), read to their end.
func (s *executorSession) copyOut(ctx context.Context, out CopyOut, cols []Column) error {
	f := out.CopyFormat()
	resp := &pgproto3.CopyOutResponse{ColumnFormatCodes: make([]uint16, len(cols))}
	formats := make([]int16, len(cols))
	if f.Binary {
		resp.OverallFormat = 1
		for i := range cols {
			resp.ColumnFormatCodes[i], formats[i] = 1, 1
		}
	}
	s.out.Send(resp)
	if f.Binary {
		s.out.Send(&pgproto3.CopyData{Data: append([]byte(copySignature), 0, 0, 0, 0, 0, 0, 0, 0)})
	} else if f.Header {
		names := make([][]byte, len(cols))
		for i, c := range cols {
			names[i] = []byte(c.Name)
		}
		s.out.Send(&pgproto3.CopyData{Data: encodeCopyRow(names, f)})
	}
	for {
		row, err := out.Next(ctx)
		if err != nil {
			return interrupted(ctx, err)
		}
		if row == nil {
			break
		}
		values, err := encodeRow(row, cols, formats)
		if err != nil {
			return err
		}
		s.out.Send(&pgproto3.CopyData{Data: encodeCopyRow(values, f)})
	}
	if f.Binary {
		s.out.Send(&pgproto3.CopyData{Data: []byte{0xFF, 0xFF}})
	}
	s.out.Send(&pgproto3.CopyDone{})
	return nil
}

// copying is a COPY FROM STDIN in progress: its Load runs on a goroutine of its own, reading
// what the session writes into the pipe.
type copying struct {
	in       CopyIn
	ctx      context.Context
	done     func() // ends the statement's context
	w        *io.PipeWriter
	loaded   chan error // Load's result
	extended bool       // begun by Execute: after an error, messages up to Sync are dropped
	rest     []string   // begun by a Query: the statements after it, run when it ends
}

// errCopyFail is how the data ends when the client sends CopyFail.
var errCopyFail = errors.New("COPY from stdin failed")

// startCopy begins a COPY FROM STDIN whose result is in, on the statement's context ctx (done
// ends it): CopyInResponse goes out at once, and the session is in copy mode until the data ends.
func (s *executorSession) startCopy(ctx context.Context, in CopyIn, done func()) error {
	f := in.CopyFormat()
	resp := &pgproto3.CopyInResponse{ColumnFormatCodes: make([]uint16, len(f.Columns))}
	if f.Binary {
		resp.OverallFormat = 1
		for i := range resp.ColumnFormatCodes {
			resp.ColumnFormatCodes[i] = 1
		}
	}
	r, w := io.Pipe()
	c := &copying{in: in, ctx: ctx, done: done, w: w, loaded: make(chan error, 1)}
	stop := context.AfterFunc(ctx, func() { r.CloseWithError(context.Cause(ctx)) })
	go func() {
		err := guard("COPY", func() error { return in.Load(ctx, r) })
		stop()
		r.CloseWithError(fmt.Errorf("the COPY's data was not read to its end: %w", err))
		c.loaded <- err
	}()
	s.copy = c
	s.out.Send(resp)
	return s.out.Flush()
}

// copyMessage handles a message of the client in copy mode. As PostgreSQL does, Flush and Sync
// are ignored, and any other message than CopyData, CopyDone and CopyFail fails the COPY.
func (s *executorSession) copyMessage(ctx context.Context, msg pgproto3.FrontendMessage) error {
	c := s.copy
	switch m := msg.(type) {
	case *pgproto3.CopyData:
		if _, err := c.w.Write(m.Data); err != nil {
			return s.endCopy(ctx, <-c.loaded)
		}
		return nil
	case *pgproto3.CopyDone:
		c.w.Close()
		return s.endCopy(ctx, <-c.loaded)
	case *pgproto3.CopyFail:
		c.w.CloseWithError(errCopyFail)
		<-c.loaded
		return s.endCopy(ctx, sqlError("57014", "COPY from stdin failed: "+m.Message))
	case *pgproto3.Flush, *pgproto3.Sync:
		return nil
	}
	c.w.CloseWithError(errCopyFail)
	<-c.loaded
	return s.endCopy(ctx, protocolError(fmt.Errorf("unexpected message type 0x%02X during COPY from stdin", messageType(msg))))
}

// endCopy ends the COPY in progress with Load's error: on success its end (notices, the command
// tag) is sent after the result is closed; then, for a Query, its other statements run, and
// ReadyForQuery follows.
func (s *executorSession) endCopy(ctx context.Context, err error) error {
	c := s.copy
	s.copy = nil
	err = interrupted(c.ctx, err)
	var end []pgproto3.BackendMessage
	if err == nil {
		end = endOf(c.in)
	}
	if cerr := c.in.Close(); err == nil && cerr != nil {
		err = interrupted(c.ctx, cerr)
	}
	c.done()
	if err != nil {
		s.fail(err)
		if c.extended {
			s.skipToSync = true
			return s.out.Flush()
		}
		return s.ready()
	}
	for _, m := range end {
		s.out.Send(m)
	}
	if c.extended {
		return s.out.Flush()
	}
	if err := s.guard(func() error { return s.statements(ctx, c.rest) }); err != nil {
		s.fail(err)
	}
	if s.copy != nil { // the rest began another COPY
		return nil
	}
	return s.ready()
}

// closeCopy ends a COPY the client left unfinished (the session is closing): nothing is loaded.
func (s *executorSession) closeCopy() {
	if c := s.copy; c != nil {
		s.copy = nil
		c.w.CloseWithError(errors.New("the client went away during COPY"))
		<-c.loaded
		c.in.Close()
		c.done()
	}
}

// messageType is the type byte of a frontend message.
func messageType(msg pgproto3.FrontendMessage) byte {
	b, err := msg.Encode(nil)
	if err != nil || len(b) == 0 {
		return 0
	}
	return b[0]
}
