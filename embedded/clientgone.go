//go:build unix

package embedded

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/dolthub/vitess/go/netutil"
)

// clientCheckEvery is how often a statement of the MySQL wire checks that its client is still
// connected. go-mysql-server checks while it streams rows; this covers the rest (the wait for a
// lock, planning).
const clientCheckEvery = 100 * time.Millisecond

// watchClient cancels a statement (cancel) once nc's peer has closed the connection, until
// stop is called. A connection it cannot look into (not TCP) is not watched.
func watchClient(nc net.Conn, cancel context.CancelCauseFunc) (stop func()) {
	tcp := tcpConn(nc)
	if tcp == nil {
		return func() {}
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(clientCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if peerClosed(raw) {
				cancel(&Interrupted{Terminated: true})
				return
			}
		}
	}()
	return func() { close(done) }
}

func tcpConn(nc net.Conn) *net.TCPConn {
	for range 4 {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case netutil.ConnWithTimeouts:
			nc = c.Conn
		case *netutil.ConnWithTimeouts:
			nc = c.Conn
		case interface{ NetConn() net.Conn }: // tls.Conn, and wrappers that follow its habit
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// peerClosed peeks at the socket without consuming anything: a read of 0 bytes is the peer's
// FIN; pending bytes (a pipelined statement) or nothing to read mean it is still there.
func peerClosed(raw syscall.RawConn) bool {
	var closed bool
	var buf [1]byte
	_ = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
		return true // never wait for readiness
	})
	return closed
}
