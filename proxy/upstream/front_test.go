package upstream

import (
	"context"
	"net"
	"testing"

	"github.com/wasql/wasql/proxy"
)

// serve starts a proxy.Server for b on a loopback port and returns its address. pass turns on
// PassThroughAuth (else loopback clients are trusted); raw=false hides the server writer's
// WriteRaw, so that the session decodes what it relays.
func serve(t testing.TB, b *Backend, pass, raw bool) string {
	t.Helper()
	return serveWith(t, b, proxy.Config{PassThroughAuth: pass}, raw)
}

func serveWith(t testing.TB, b *Backend, cfg proxy.Config, raw bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var be proxy.Backend = b
	if !raw {
		be = decoding{b}
	}
	srv := proxy.NewServer(cfg, be)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// decoding opens sessions whose writer takes only decoded messages.
type decoding struct{ b *Backend }

func (d decoding) Open(ctx context.Context, c proxy.Client) (proxy.Session, error) {
	c.Out = struct{ proxy.Writer }{c.Out}
	return d.b.Open(ctx, c)
}
