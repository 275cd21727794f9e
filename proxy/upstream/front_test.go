package upstream

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// A minimal Postgres-wire front end for the tests, standing in for proxy.Server until the
// message-level seam lands: it takes a client's startup (cleartext password with pass-through
// auth, none otherwise), opens a Session and hands it every message.

type front struct {
	b        *Backend
	pass     bool
	raw      bool // the writer implements RawWriter
	l        net.Listener
	nextPID  atomic.Uint32
	mu       sync.Mutex
	sessions map[uint32]*Session
	wg       sync.WaitGroup
}

// serve starts a front end for b on a loopback port and returns its address.
func serve(t testing.TB, b *Backend, pass, raw bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{b: b, pass: pass, raw: raw, l: l, sessions: map[uint32]*Session{}}
	f.nextPID.Store(1000)
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.client(nc)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); f.wg.Wait() })
	return l.Addr().String()
}

// testWriter buffers encoded messages until Flush.
type testWriter struct {
	mu  sync.Mutex
	nc  net.Conn
	buf []byte
	err error
}

func (w *testWriter) Send(m pgproto3.BackendMessage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, err := m.Encode(w.buf)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.buf = b
}

func (w *testWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	_, err := w.nc.Write(w.buf)
	w.buf = w.buf[:0]
	w.err = err
	return err
}

type rawTestWriter struct{ testWriter }

func (w *rawTestWriter) WriteRaw(p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return w.err
}

func (f *front) client(nc net.Conn) {
	defer nc.Close()
	be := pgproto3.NewBackend(nc, nc)
	var sm *pgproto3.StartupMessage
	for sm == nil {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			nc.Write([]byte("N"))
		case *pgproto3.CancelRequest:
			f.mu.Lock()
			s := f.sessions[m.ProcessID]
			f.mu.Unlock()
			if s != nil {
				s.Cancel()
			}
			return
		case *pgproto3.StartupMessage:
			sm = m
		}
	}
	st := Startup{User: sm.Parameters["user"], Database: sm.Parameters["database"], Params: sm.Parameters, PID: f.nextPID.Add(1)}
	if f.pass {
		be.Send(&pgproto3.AuthenticationCleartextPassword{})
		be.Flush()
		if err := be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
			return
		}
		msg, err := be.Receive()
		pw, ok := msg.(*pgproto3.PasswordMessage)
		if err != nil || !ok {
			return
		}
		st.Password = pw.Password
	}
	var out Writer = &testWriter{nc: nc}
	if f.raw {
		out = &rawTestWriter{testWriter{nc: nc}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := f.b.OpenSession(ctx, st, out)
	if err != nil {
		var ue *Error
		if errors.As(err, &ue) {
			be.Send(ue.ErrorResponse())
		} else {
			be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "XX000", Message: err.Error()})
		}
		be.Flush()
		return
	}
	f.mu.Lock()
	f.sessions[st.PID] = s
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.sessions, st.PID)
		f.mu.Unlock()
		s.Close()
	}()
	out.Send(&pgproto3.AuthenticationOk{})
	for _, p := range s.Parameters() {
		out.Send(&p)
	}
	out.Send(&pgproto3.BackendKeyData{ProcessID: st.PID, SecretKey: []byte{0, 0, 0, 1}})
	out.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if out.Flush() != nil {
		return
	}
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		if _, ok := msg.(*pgproto3.Terminate); ok {
			return
		}
		if err := s.Handle(ctx, msg); err != nil {
			var ue *Error
			if errors.As(err, &ue) {
				out.Send(ue.ErrorResponse())
			} else {
				out.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "08P01", Message: err.Error()})
			}
			out.Flush()
			return
		}
	}
}
