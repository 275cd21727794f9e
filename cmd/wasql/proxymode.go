package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/catalog/pgstore"
	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/proxy/upstream"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// serveProxy is wasql serve --upstream: the Postgres wire in front of the upstream PostgreSQL,
// the function catalog in the upstream's database (catalog/pgstore, schema wasql), compiled code
// cached in the data directory. The MySQL wire is off: it belongs to the embedded engine.
func serveProxy(ctx context.Context, c *serveConfig, out io.Writer) error {
	pass := c.UpstreamAuth == "passthrough"
	if !pass && len(c.Users) == 0 && !embedded.IsLoopback(c.PGAddr) {
		return fmt.Errorf("refusing to listen on %s without users: add users to the config file (users: {name: password}), use --upstream-auth passthrough, or listen on 127.0.0.1", c.PGAddr)
	}
	pgcfg, err := pgconn.ParseConfig(c.Upstream)
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	slog.Info("wasql serve (proxy mode)", "config_file", c.file, "data_dir", c.DataDir, "pg_addr", c.PGAddr,
		"upstream", fmt.Sprintf("%s:%d/%s", pgcfg.Host, pgcfg.Port, pgcfg.Database), "upstream_auth", c.UpstreamAuth)
	start := time.Now()
	store, err := pgstore.Open(ctx, c.Upstream)
	if err != nil {
		return fmt.Errorf("catalog in the upstream PostgreSQL: %w", err)
	}
	defer store.Close()
	rt, err := udf.NewRuntime(ctx, udf.NewConfig().WithCacheDir(filepath.Join(c.DataDir, "compiled")))
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	reg, err := sqlfuncs.NewRegistry(ctx, rt, store)
	if err != nil {
		return err
	}
	defer reg.Close()
	b, err := upstream.New(upstream.Config{URL: c.Upstream, PassThroughAuth: pass, Registry: reg})
	if err != nil {
		return err
	}
	tlsConfig, err := pgTLS(c.PGTLSCert, c.PGTLSKey)
	if err != nil {
		return err
	}
	cfg := proxy.Config{PassThroughAuth: pass, TLS: tlsConfig, MaxConnections: c.PGMaxConnections, AuthTimeout: c.PGAuthTimeout}
	if !pass {
		cfg.Users = map[string]proxy.Verifier{}
		for name, password := range c.Users {
			v, err := proxy.NewVerifier(password)
			if err != nil {
				return err
			}
			cfg.Users[name] = v
		}
	}
	l, err := net.Listen("tcp", c.PGAddr)
	if err != nil {
		return fmt.Errorf("pg_addr %s: %w", c.PGAddr, err)
	}
	srv := proxy.NewServer(cfg, b)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	fmt.Fprintf(out, "wasql %s: Postgres wire on %s in front of %s:%d (database %q), passwords checked by %s (ready in %s)\n",
		version, l.Addr(), pgcfg.Host, pgcfg.Port, pgcfg.Database, map[bool]string{true: "the upstream", false: "wasql"}[pass],
		time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(out, "wasql: proxy mode: the MySQL wire is off; functions are durable, in the upstream's schema wasql")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "wasql: shutting down")
		srv.Close()
		return nil
	case err := <-done:
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	}
}
