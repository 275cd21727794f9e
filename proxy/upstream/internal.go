package upstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// wasql's own exchanges with the upstream, on the client's connection: the statements a wasm
// call needs (describing, preparing its arguments, filling the tables of results, the final
// statement). An exchange is a run of messages ending in one Sync or one Query, so exactly one
// ReadyForQuery ends it; everything the upstream answers goes to the exchange, none of it to the
// client unless the exchange passes it on.

// exchange sends msgs upstream (the last one a Sync or a Query), after the session's prefix:
// messages of wasql's that need no answer of their own (BEGIN, closing a portal), sent with
// the next exchange to save a round trip (their errors are its errors) and calls on for every message
// of the answer up to and including its ReadyForQuery. The first ErrorResponse is returned as a
// *pgconn.PgError once the exchange is over; so is on's first error (on is not called again).
// The caller must have drained the client's own messages first.
func (s *Session) exchange(ctx context.Context, on func(msg []byte) error, msgs ...pgproto3.FrontendMessage) error {
	sink := make(chan []byte, 16)
	if !s.push(expect{kind: 'Q', sink: sink}) {
		return errors.New("upstream session: exchange in a failed pipeline")
	}
	prefix := s.prefix
	s.prefix = nil
	skip := 0 // the prefix's CommandCompletes: not the exchange's
	for _, m := range prefix {
		if _, ok := m.(*pgproto3.Execute); ok {
			skip++
		}
	}
	for _, m := range append(prefix, msgs...) {
		if err := s.encode(m); err != nil {
			return err
		}
	}
	if err := s.flush(); err != nil {
		return err
	}
	var first error
	if debugPlan {
		defer func(t0 time.Time, what string) { log.Printf("wasql exchange %v: %s", time.Since(t0), what) }(time.Now(), fmt.Sprintf("%T", msgs[0]))
	}
	stop := context.AfterFunc(ctx, s.cancelUpstream)
	defer stop()
	for {
		var chunk []byte
		select {
		case chunk = <-sink:
		case <-s.deadCh:
			return s.lost()
		}
		for len(chunk) >= 5 {
			n := 1 + int(binary.BigEndian.Uint32(chunk[1:]))
			msg := chunk[:n:n]
			t, body := msg[0], msg[5:]
			chunk = chunk[n:]
			switch t {
			case 'E':
				if first == nil {
					var e pgproto3.ErrorResponse
					if err := e.Decode(body); err != nil {
						first = err
					} else {
						first = pgconn.ErrorResponseToPgError(&e)
					}
				}
				continue
			case 'N', 'A', 'S': // notices, notifications, parameter changes: the client's
				s.passOn(t, body)
				continue
			}
			if t == 'C' && skip > 0 {
				skip--
				continue
			}
			if first == nil && on != nil {
				// After on's error the rest is read and dropped: a cancel request could reach
				// the session's next statement (PostgreSQL signals its backend asynchronously).
				first = on(msg)
			}
			if t == 'Z' {
				return first
			}
		}
	}
}

// cancelUpstream asks the upstream to cancel what it is running, best effort, within the dial
// timeout.
func (s *Session) cancelUpstream() {
	ctx, cancel := context.WithTimeout(context.Background(), s.b.cfg.DialTimeout)
	defer cancel()
	_ = s.cancel.CancelRequest(ctx)
}

// passOn sends the client an upstream message that an exchange does not consume.
func (s *Session) passOn(t byte, body []byte) {
	m, err := decodeBackend(t, append([]byte(nil), body...))
	if err == nil {
		s.out.Send(m)
	}
}

// simple runs one simple Query of wasql's.
func (s *Session) simple(ctx context.Context, sql string) error {
	return s.exchange(ctx, nil, &pgproto3.Query{String: sql})
}

// dataRow splits a DataRow's body into its values (nil for NULL), reusing vals.
func dataRow(body []byte, vals [][]byte) ([][]byte, error) {
	if len(body) < 2 {
		return nil, errors.New("short DataRow")
	}
	n := int(binary.BigEndian.Uint16(body))
	body = body[2:]
	vals = vals[:0]
	for i := 0; i < n; i++ {
		if len(body) < 4 {
			return nil, errors.New("short DataRow")
		}
		l := int32(binary.BigEndian.Uint32(body))
		body = body[4:]
		if l < 0 {
			vals = append(vals, nil)
			continue
		}
		if int(l) > len(body) {
			return nil, fmt.Errorf("DataRow value of %d bytes in %d", l, len(body))
		}
		vals = append(vals, body[:l:l])
		body = body[l:]
	}
	return vals, nil
}
