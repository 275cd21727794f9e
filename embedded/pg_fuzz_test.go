package embedded

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/proxy"
)

// FuzzPGMessages sends arbitrary bytes after a valid startup: the server must not panic or hang,
// and must keep serving other clients.
func FuzzPGMessages(f *testing.F) {
	f.Add([]byte("Q\x00\x00\x00\x0dSELECT 1\x00"))
	f.Add([]byte("P\x00\x00\x00\x10\x00SELECT $1\x00\x00\x00B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00S\x00\x00\x00\x04"))
	f.Add([]byte("E\x00\x00\x00\x09nope\x00\x00\x00\x00\x00S\x00\x00\x00\x04"))
	f.Add([]byte("X\x00\x00\x00\x04"))
	f.Add([]byte("Q\xff\xff\xff\xff"))
	f.Add([]byte("D\x00\x00\x00\x06Sx\x00"))
	e, err := Open(context.Background(), Config{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close(context.Background())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	s := proxy.NewServer(proxy.Config{MaxMessageBytes: 1 << 20}, e.PGBackend())
	go s.Serve(l)
	defer s.Close()
	addr := l.Addr().String()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		fe, nc := rawConn(t, addr)
		_ = fe
		nc.Write(data)
		nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 4096)
		for {
			if _, err := nc.Read(buf); err != nil {
				break // EOF, reset, or the server waiting for more input: all fine
			}
		}
		nc.Close()
		if n++; n%50 == 0 {
			conn, err := pgx.Connect(context.Background(), "postgres://app@"+addr+"/wasql?sslmode=disable")
			if err != nil {
				t.Fatalf("server stopped serving: %v", err)
			}
			conn.Close(context.Background())
		}
	})
}
