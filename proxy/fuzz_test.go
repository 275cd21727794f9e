package proxy

import (
	"context"
	"io"
	"log"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// FuzzPGMessages sends arbitrary bytes after a valid startup, to a server in front of the fake
// executor: the server must not panic or hang, and must keep serving other clients. The seeds
// (testdata/fuzz/FuzzPGMessages) are message sequences that reach each part of the protocol:
// simple queries, pipelines with row limits, errors skipping to Sync, transaction blocks,
// notices, stray COPY messages, fastpath, bad lengths and types.
func FuzzPGMessages(f *testing.F) {
	log.SetOutput(io.Discard) // the "panic" statement's stacks
	defer log.SetOutput(os.Stderr)
	b := newFakeBackend()
	b.blocked = make(chan struct{}, 1<<20) // "block" statements never wait for a reader
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	s := NewServer(Config{MaxMessageBytes: 1 << 20}, b)
	go s.Serve(l)
	defer s.Close()
	addr := l.Addr().String()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		c := connect(t, addr, map[string]string{"statement_timeout": "50ms"})
		c.nc.Write(data)
		c.nc.(*net.TCPConn).CloseWrite() // the server reads what came, then the end
		if closed, took := closedWithin(c.nc, 10*time.Second); !closed {
			t.Fatalf("the server still holds the connection after %v", took)
		}
		c.nc.Close()
		if n++; n%50 == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := pgconn.Connect(ctx, "postgres://app@"+addr+"/wasql?sslmode=disable")
			if err != nil {
				t.Fatalf("server stopped serving: %v", err)
			}
			conn.Close(ctx)
		}
	})
}
