package proxy

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestStats: connections accepted, open and refused, and statements by outcome (a multi-statement
// query counts each statement; the failing one ends it).
func TestStats(t *testing.T) {
	srv, addr := startServer(t, Config{MaxConnections: 1}, newFakeBackend())
	c := connect(t, addr, nil)
	c.query("select")
	c.query("select; series 3; fail after 2; select")
	if e := dial(t, addr, nil).startup(); e == nil || e.Code != "53300" {
		t.Fatalf("over the limit: %+v", e)
	}
	s := srv.Stats()
	if s.Accepted != 2 || s.Refused != 1 || s.Done != 3 || s.Failed != 1 || s.Open < 1 || s.Open > 2 {
		t.Fatalf("%+v, want 2 accepted, 1 refused, 3 done, 1 failed, 1 or 2 open", s)
	}
	c.fe.Send(&pgproto3.Terminate{})
	c.fe.Flush()
	for deadline := time.Now().Add(5 * time.Second); srv.Stats().Open != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("open after every client left: %+v", srv.Stats())
		}
	}
}

// countRaw counts CommandComplete and ErrorResponse in relayed bytes, and stops at a message
// that does not fit.
func TestCountRaw(t *testing.T) {
	var p []byte
	for _, m := range []pgproto3.BackendMessage{&pgproto3.RowDescription{}, &pgproto3.DataRow{Values: [][]byte{[]byte("C")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ErrorResponse{Code: "22012"},
		&pgproto3.CommandComplete{CommandTag: []byte("INSERT 0 1")}, &pgproto3.ReadyForQuery{TxStatus: 'I'}} {
		var err error
		if p, err = m.Encode(p); err != nil {
			t.Fatal(err)
		}
	}
	var c counters
	c.countRaw(p)
	c.countRaw([]byte{'C', 0, 0, 0, 200, 'x'}) // a length past the end: not a whole message
	c.countRaw([]byte{'E', 0, 0})              // too short to be a message
	if c.done.Load() != 2 || c.failed.Load() != 1 {
		t.Fatalf("done %d failed %d, want 2 and 1", c.done.Load(), c.failed.Load())
	}
}
