package upstream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	readBuffer = 64 << 10
	// outFlushAt is how many relayed bytes go to the client before a Flush even while the
	// upstream keeps sending (a long COPY TO STDOUT or a big result).
	outFlushAt = 64 << 10
	// maxMessage bounds one upstream message (PostgreSQL's own limit on a field is 1 GB).
	maxMessage = 1<<30 + 1<<20
)

// pump relays the upstream's messages to the client until the connection ends. It frames the
// messages itself and decodes only what the accounting needs (the type byte, ReadyForQuery's
// status); relayed bytes go out unchanged.
func (s *Session) pump() {
	defer close(s.pumpDone)
	defer func() {
		if r := recover(); r != nil {
			s.upstreamLost(fmt.Errorf("internal error relaying upstream messages: %v\n%s", r, debug.Stack()))
		}
	}()
	r := bufio.NewReaderSize(s.conn, readBuffer)
	unflushed := 0
	for {
		if r.Buffered() == 0 && unflushed > 0 {
			s.out.Flush()
			unflushed = 0
		}
		hdr, err := r.Peek(5)
		if err != nil {
			s.upstreamLost(err)
			return
		}
		n := 1 + int(binary.BigEndian.Uint32(hdr[1:]))
		if n < 5 || n > maxMessage {
			s.upstreamLost(fmt.Errorf("invalid message length %d from the upstream", n-1))
			return
		}
		var span []byte
		if n <= readBuffer {
			if _, err := r.Peek(n); err != nil {
				s.upstreamLost(err)
				return
			}
			span, _ = r.Peek(r.Buffered())
		} else { // larger than the buffer: read it whole
			span = make([]byte, n)
			if _, err := io.ReadFull(r, span); err != nil {
				s.upstreamLost(err)
				return
			}
		}
		used, err := s.relay(span)
		if err != nil {
			s.upstreamLost(err)
			return
		}
		if n <= readBuffer {
			r.Discard(used)
		}
		unflushed += used
		if unflushed >= outFlushAt {
			s.out.Flush()
			unflushed = 0
		}
	}
}

// relay accounts for and forwards the whole messages at the start of span and returns how many
// bytes they took.
func (s *Session) relay(span []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	used, from := 0, 0 // span[from:used] is relayed, not yet written
	write := func() error {
		if used > from {
			if err := s.relayBytes(span[from:used]); err != nil {
				return err
			}
		}
		return nil
	}
	for len(span)-used >= 5 {
		n := 1 + int(binary.BigEndian.Uint32(span[used+1:]))
		if n < 5 || used+n > len(span) {
			break
		}
		msg := span[used : used+n]
		if len(s.q) > 0 && s.q[0].sink != nil {
			if err := write(); err != nil {
				return used, err
			}
			sink := s.q[0].sink
			s.sinkBuf = append(s.sinkBuf, msg...)
			s.account(msg)
			used += n
			from = used
			if msg[0] == 'Z' || len(s.sinkBuf) >= outFlushAt {
				s.toSink(sink)
			}
			continue
		}
		keep, hadLocal := s.account(msg)
		if !keep || hadLocal {
			if err := write(); err != nil {
				return used, err
			}
			if keep {
				if err := s.relayBytes(msg); err != nil {
					return used, err
				}
			}
			used += n
			from = used
			s.emitLocals()
			continue
		}
		used += n
	}
	if len(s.sinkBuf) > 0 && len(s.q) > 0 && s.q[0].sink != nil {
		s.toSink(s.q[0].sink)
	}
	err := write()
	s.emitLocals()
	return used, err
}

// toSink hands the messages collected for an exchange of wasql's to it. The exchange reads
// until its ReadyForQuery whatever happens, so this waits only while it works.
func (s *Session) toSink(sink chan []byte) {
	b := s.sinkBuf
	s.sinkBuf = nil
	select {
	case sink <- b:
	case <-s.deadCh:
	}
}

// account updates the queue for one upstream message: keep says whether the client gets it,
// local whether a local answer now heads the queue (it must follow this message).
func (s *Session) account(msg []byte) (keep, local bool) {
	t := msg[0]
	head := func() *expect {
		if len(s.q) == 0 {
			return nil
		}
		return &s.q[0]
	}
	keep = true
	switch t {
	case 'Z': // ReadyForQuery: ends a Sync, a Query or a FunctionCall (and anything skipped)
		if len(msg) >= 6 {
			s.txStatus = msg[5]
		}
		for h := head(); h != nil; h = head() {
			done := !h.extended()
			s.pop()
			if done {
				break
			}
		}
	case 'E': // ErrorResponse
		h := head()
		if h == nil || !h.extended() {
			if h != nil && h.swallowErr {
				keep = false
			}
			break
		}
		if h.swallowErr {
			keep = false
		}
		// The upstream skips everything up to the next Sync: so do the answers expected. If
		// that Sync was sent already, what the client sends now is not skipped.
		for h := head(); h != nil && h.extended(); h = head() {
			s.pop()
		}
		s.failed = len(s.q) == 0 || s.q[0].kind != 'S'
	case '1', '2', '3': // ParseComplete, BindComplete, CloseComplete
		if h := head(); h != nil && h.extended() {
			s.pop()
		}
	case 'T', 'n': // RowDescription, NoData: end a Describe
		if h := head(); h != nil && h.kind == 'D' {
			s.pop()
		}
	case 'S': // ParameterStatus: wasql formats text values itself only in UTF8
		if name, value, ok := strings.Cut(string(msg[5:]), "\x00"); ok && name == "client_encoding" {
			s.clientUTF8 = strings.TrimSuffix(value, "\x00") == "UTF8"
		}
	case 'C', 'I', 's': // CommandComplete, EmptyQueryResponse, PortalSuspended: end an Execute
		if h := head(); h != nil && h.kind == 'E' {
			s.pop()
		}
	}
	return keep, len(s.q) > 0 && s.q[0].kind == 0
}

// relayBytes sends whole upstream messages to the client: as they are to a RawWriter, decoded
// otherwise.
func (s *Session) relayBytes(p []byte) error {
	if s.raw != nil {
		return s.raw.WriteRaw(p)
	}
	for len(p) > 0 {
		n := 1 + int(binary.BigEndian.Uint32(p[1:]))
		m, err := decodeBackend(p[0], append([]byte(nil), p[5:n]...))
		if err != nil {
			return err
		}
		s.out.Send(m)
		p = p[n:]
	}
	return nil
}

// upstreamLost ends the session after the upstream connection failed: the client gets a FATAL
// 08006 (unless the session is closing) and Handle fails from then on.
func (s *Session) upstreamLost(err error) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing || errors.Is(err, net.ErrClosed) {
		s.lose(err)
		return
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the server closed the connection")
	}
	s.lose(err)
	s.out.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08006",
		Message: "the connection to the upstream PostgreSQL was lost: " + err.Error()})
	s.out.Flush()
	if s.hangup != nil {
		s.hangup()
	}
}

// decodeBackend decodes one backend message body.
func decodeBackend(t byte, body []byte) (pgproto3.BackendMessage, error) {
	var m pgproto3.BackendMessage
	switch t {
	case '1':
		m = &pgproto3.ParseComplete{}
	case '2':
		m = &pgproto3.BindComplete{}
	case '3':
		m = &pgproto3.CloseComplete{}
	case 'A':
		m = &pgproto3.NotificationResponse{}
	case 'c':
		m = &pgproto3.CopyDone{}
	case 'C':
		m = &pgproto3.CommandComplete{}
	case 'd':
		m = &pgproto3.CopyData{}
	case 'D':
		m = &pgproto3.DataRow{}
	case 'E':
		m = &pgproto3.ErrorResponse{}
	case 'G':
		m = &pgproto3.CopyInResponse{}
	case 'H':
		m = &pgproto3.CopyOutResponse{}
	case 'I':
		m = &pgproto3.EmptyQueryResponse{}
	case 'K':
		m = &pgproto3.BackendKeyData{}
	case 'n':
		m = &pgproto3.NoData{}
	case 'N':
		m = &pgproto3.NoticeResponse{}
	case 's':
		m = &pgproto3.PortalSuspended{}
	case 'S':
		m = &pgproto3.ParameterStatus{}
	case 't':
		m = &pgproto3.ParameterDescription{}
	case 'T':
		m = &pgproto3.RowDescription{}
	case 'V':
		m = &pgproto3.FunctionCallResponse{}
	case 'W':
		m = &pgproto3.CopyBothResponse{}
	case 'Z':
		m = &pgproto3.ReadyForQuery{}
	case 'v':
		m = &pgproto3.NegotiateProtocolVersion{}
	default:
		return nil, fmt.Errorf("unknown message type %q from the upstream", t)
	}
	if err := m.Decode(body); err != nil {
		return nil, fmt.Errorf("decode %T from the upstream: %w", m, err)
	}
	return m, nil
}
