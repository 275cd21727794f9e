package proxy

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestMaxConnections: a connection over MaxConnections gets FATAL 53300 and is closed; the
// others go on, and a slot that frees up is used again.
func TestMaxConnections(t *testing.T) {
	b := newFakeBackend()
	_, addr := startServer(t, Config{MaxConnections: 2}, b)
	c1, c2 := connect(t, addr, nil), connect(t, addr, nil)
	over := dial(t, addr, nil)
	e := over.startup()
	if e == nil || e.Code != "53300" || e.Severity != "FATAL" || e.Message != "sorry, too many clients already" {
		t.Fatalf("over the limit: %+v", e)
	}
	if closed, _ := closedWithin(over.nc, 5*time.Second); !closed {
		t.Fatal("the refused connection is still open")
	}
	for _, c := range []*client{c1, c2} {
		if got, _ := c.query("select"); fmt.Sprint(got) != selectOne {
			t.Fatalf("a served connection: %v", got)
		}
	}
	// A CancelRequest still gets through at the limit.
	c1.fe.Send(&pgproto3.Query{String: "block"})
	c1.fe.Flush()
	<-b.blocked
	cancelRequest(t, addr, c1.key)
	if got, _ := c1.receive(); fmt.Sprint(got) != "[Error:57014 ReadyForQuery:I]" {
		t.Fatalf("cancel at the limit: %v", got)
	}
	c2.fe.Send(&pgproto3.Terminate{})
	c2.fe.Flush()
	closedWithin(c2.nc, 5*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial(t, addr, nil)
		e := c.startup()
		if e == nil {
			break
		}
		if e.Code != "53300" || time.Now().After(deadline) {
			t.Fatalf("after a connection ended: %+v", e)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMaxStartupConnections: connections that do not authenticate are bounded apart: while
// two sit silent, the server accepts no third, which is served once one of them leaves.
func TestMaxStartupConnections(t *testing.T) {
	_, addr := startServer(t, Config{MaxStartupConnections: 2, AuthTimeout: time.Hour}, newFakeBackend())
	var silent []net.Conn
	for range 2 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		silent = append(silent, nc)
	}
	c := dial(t, addr, nil)
	c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if msg, err := c.fe.Receive(); err == nil {
		t.Fatalf("a third connection in startup was served: %T", msg)
	}
	// The read timed out; a new Frontend reads on from the start of the next message.
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	c.fe = pgproto3.NewFrontend(c.nc, c.nc)
	silent[0].Close()
	if e := c.startup(); e != nil {
		t.Fatalf("after a silent connection left: %+v", e)
	}
	if got, _ := c.query("select"); fmt.Sprint(got) != selectOne {
		t.Fatalf("the waiting connection: %v", got)
	}
}

// TestAuthTimeout: a client that does not finish startup within AuthTimeout is disconnected,
// silent or sending a byte at a time.
func TestAuthTimeout(t *testing.T) {
	v, err := NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 200 * time.Millisecond
	_, addr := startServer(t, Config{AuthTimeout: timeout, Users: map[string]Verifier{"app": v}}, newFakeBackend())
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	closed, took := closedWithin(silent, 10*timeout)
	if !closed {
		t.Fatalf("a silent client is still connected after %v", took)
	}
	t.Logf("silent client: closed after %v (AuthTimeout %v)", took, timeout)

	// Slow loris: a startup message of ~300 bytes, one byte every 20 ms (6 s in all).
	drip, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer drip.Close()
	msg, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "app", "application_name": string(make([]byte, 250))}}).Encode(nil)
	start := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		for _, b := range msg {
			if _, err := drip.Write([]byte{b}); err != nil {
				cut <- time.Since(start)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		cut <- 0
	}()
	closed, took = closedWithin(drip, 10*timeout)
	if !closed {
		t.Fatalf("a byte-at-a-time client is still connected after %v", took)
	}
	t.Logf("byte-at-a-time client: closed after %v (AuthTimeout %v)", took, timeout)

	// Stuck in SCRAM: the deadline covers authentication too.
	c := dial(t, addr, nil)
	if msg, err := c.fe.Receive(); err != nil {
		t.Fatal(err)
	} else if _, ok := msg.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("got %T", msg)
	}
	if closed, took := closedWithin(c.nc, 10*timeout); !closed {
		t.Fatalf("a client silent in SCRAM is still connected after %v", took)
	}
}

// TestStartupMessageBound: before authentication a message is bounded by a few KiB: a declared
// 1 MiB SASL message is refused at its header, without waiting for (or allocating) its body.
func TestStartupMessageBound(t *testing.T) {
	v, err := NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Config{AuthTimeout: time.Hour, Users: map[string]Verifier{"app": v}}, newFakeBackend())
	c := dial(t, addr, nil)
	if msg, err := c.fe.Receive(); err != nil {
		t.Fatal(err)
	} else if _, ok := msg.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("got %T", msg)
	}
	header := []byte{'p', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(header[1:], 1<<20+4)
	c.nc.Write(header)
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	msg, err := c.fe.Receive()
	if err != nil {
		t.Fatalf("no answer to an oversized SASL message: %v", err)
	}
	if e, ok := msg.(*pgproto3.ErrorResponse); !ok || e.Code != "08P01" || e.Severity != "FATAL" {
		t.Fatalf("got %#v", msg)
	}
	// After authentication the bound is MaxMessageBytes.
	_, addr = startServer(t, Config{}, newFakeBackend())
	big := connect(t, addr, nil)
	if got, _ := big.query("SELECT '" + fmt.Sprintf("%0100000d", 0) + "'"); fmt.Sprint(got) != "[CommandComplete:OK ReadyForQuery:I]" {
		t.Fatalf("a 100 KB query after authentication: %v", got)
	}
}

// TestCloseWithClientInStartup: Close returns while a client sits silent in startup and another
// runs a statement that only its context ends.
func TestCloseWithClientInStartup(t *testing.T) {
	b := newFakeBackend()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Config{AuthTimeout: time.Hour}, b)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	addr := l.Addr().String()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := connect(t, addr, nil)
	c.fe.Send(&pgproto3.Query{String: "block"})
	c.fe.Flush()
	<-b.blocked
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	if ok, _ := closedWithin(silent, 5*time.Second); !ok {
		t.Fatal("the silent client is still connected")
	}
}

// emfileListener fails its first n Accepts with EMFILE, as accept4 does out of descriptors.
type emfileListener struct {
	net.Listener
	n, calls atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.calls.Add(1) <= l.n.Load() {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestAcceptRetry: out of file descriptors, Serve waits and retries; it does not return.
func TestAcceptRetry(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &emfileListener{Listener: inner}
	l.n.Store(6)
	startServerOn(t, Config{}, newFakeBackend(), l)
	c := connect(t, inner.Addr().String(), nil)
	if got, _ := c.query("select"); fmt.Sprint(got) != selectOne {
		t.Fatalf("after EMFILE: %v", got)
	}
	if n := l.calls.Load(); n < 7 {
		t.Fatalf("%d accepts", n)
	}
}

// TestConnectionHammer: many clients connecting, querying, canceling and leaving at once
// against small caps; every slot and count is given back.
func TestConnectionHammer(t *testing.T) {
	b := newFakeBackend()
	b.blocked = make(chan struct{}, 1000)
	s, addr := startServer(t, Config{MaxConnections: 5, MaxStartupConnections: 3}, b)
	var refused, served atomic.Int32
	done := make(chan struct{})
	for g := range 16 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 15 {
				// a statement whose cancel comes before it runs ends at its statement_timeout
				c := dial(t, addr, map[string]string{"statement_timeout": "200ms"})
				if e := c.startup(); e != nil {
					if e.Code != "53300" {
						t.Errorf("startup: %+v", e)
					}
					refused.Add(1)
					c.nc.Close()
					continue
				}
				served.Add(1)
				if (g+i)%3 == 0 {
					c.fe.Send(&pgproto3.Query{String: "block"})
					c.fe.Flush()
					cancelRequest(t, addr, c.key) // may arrive before the statement runs
					if !s.CancelBackend(c.key.ProcessID) {
						t.Error("a served connection's pid is unknown")
					}
				}
				c.nc.Close()
			}
		}()
	}
	for range 16 {
		<-done
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		admitted, open, registered := s.admitted, len(s.open), len(s.conns)
		s.mu.Unlock()
		// Serve holds one startup slot while it waits in Accept.
		if admitted == 0 && open == 0 && registered == 0 && len(s.starting) <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left over: admitted %d, open %d, registered %d, in startup %d", admitted, open, registered, len(s.starting))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d served, %d refused", served.Load(), refused.Load())
	if got, _ := connect(t, addr, nil).query("select"); fmt.Sprint(got) != selectOne {
		t.Fatalf("after the hammer: %v", got)
	}
}
