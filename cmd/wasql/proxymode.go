package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/catalog/pgstore"
	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/metrics"
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
	upstreamAt := fmt.Sprintf("%s:%d/%s", pgcfg.Host, pgcfg.Port, pgcfg.Database)
	slog.Info("wasql serve (proxy mode)", "config_file", c.file, "data_dir", c.DataDir, "pg_addr", c.PGAddr,
		"metrics_addr", c.MetricsAddr, "upstream", upstreamAt, "upstream_auth", c.UpstreamAuth)
	start := time.Now()
	ms, err := startMetrics(c, out)
	if err != nil {
		return err
	}
	defer ms.Close()
	ms.NotReady("starting: the catalog is not open in the upstream PostgreSQL yet")
	cfg, err := c.pgConfig()
	if err != nil {
		return err
	}
	if pass { // the upstream checks passwords: wasql's users play no part
		cfg.Users, cfg.PassThroughAuth = nil, true
	}
	// The wire listens at once; until the catalog opens in the upstream, clients get 08001.
	l, err := net.Listen("tcp", c.PGAddr)
	if err != nil {
		return fmt.Errorf("pg_addr %s: %w", c.PGAddr, err)
	}
	waiting := &waitingBackend{}
	srv := proxy.NewServer(cfg, waiting)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	defer srv.Close()
	ms.Wire("postgres", func() metrics.WireStats { return metrics.WireStats(srv.Stats()) })
	store, err := openCatalog(ctx, c.Upstream, l.Addr(), waiting, ms, out)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
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
	reg.SetQuotas(c.quotas)
	// The counters of wasql.functions: written into the upstream every second, before a
	// statement that names the view, and at shutdown (deferred last, so done first).
	stats := upstream.NewStats(reg)
	reporter := store.ReportStats(stats, 0)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := reporter.Close(ctx); err != nil {
			slog.Warn("function statistics not written at shutdown", "err", err)
		}
	}()
	b, err := upstream.New(upstream.Config{URL: c.Upstream, PassThroughAuth: pass, Registry: reg, Stats: stats,
		FlushStats: func(ctx context.Context) { _ = reporter.Flush(ctx) }})
	if err != nil {
		return err
	}
	waiting.ready.Store(b)
	ms.Functions(registryFunctions(reg))
	ms.Runtime(rt.Stats)
	ms.Ready(func(ctx context.Context) error {
		if err := store.Ping(ctx); err != nil {
			return fmt.Errorf("the upstream PostgreSQL does not answer: %w", err)
		}
		return nil
	})
	ready := time.Since(start).Round(time.Millisecond)
	slog.Info("wasql ready (proxy mode)", "pg_addr", l.Addr().String(), "metrics_addr", addrOf(ms), "upstream", upstreamAt,
		"data_dir", c.DataDir, "functions", reg.Count(), "ready_in", ready)
	fmt.Fprintf(out, "wasql %s: Postgres wire on %s in front of %s:%d (database %q), passwords checked by %s (ready in %s)\n",
		version, l.Addr(), pgcfg.Host, pgcfg.Port, pgcfg.Database, map[bool]string{true: "the upstream", false: "wasql"}[pass],
		ready)
	fmt.Fprintln(out, "wasql: proxy mode: the MySQL wire is off; functions are durable, in the upstream's schema wasql")
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "wasql: shutting down")
		ms.NotReady("shutting down")
		srv.Close()
		return nil
	case err := <-done:
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	}
}

// waitingBackend is the proxy's backend while the catalog cannot be opened in the upstream:
// clients get FATAL 08001 with the reason, and once ready is set, the upstream backend.
type waitingBackend struct {
	ready  atomic.Pointer[upstream.Backend]
	reason atomic.Pointer[string]
}

func (w *waitingBackend) Open(ctx context.Context, c proxy.Client) (proxy.Session, error) {
	if b := w.ready.Load(); b != nil {
		return b.Open(ctx, c)
	}
	msg := "the upstream PostgreSQL is not reachable yet"
	if r := w.reason.Load(); r != nil {
		msg += ": " + *r
	}
	return nil, &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08001", Message: msg,
		Hint: "wasql keeps retrying; check that the server given by --upstream is running and accepts connections"}
}

// openCatalog opens the catalog in the upstream, retrying with backoff (up to 10 s apart) while
// the upstream cannot be reached or is starting up, until ctx ends. Other errors (a wrong
// password for the URL's user, a schema newer than this wasql) are returned at once.
func openCatalog(ctx context.Context, url string, addr net.Addr, w *waitingBackend, ms *metrics.Server, out io.Writer) (*pgstore.Store, error) {
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 10*time.Second) {
		store, err := pgstore.Open(ctx, url)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return store, err
		}
		reason := err.Error()
		w.reason.Store(&reason)
		ms.NotReady("starting: the catalog cannot be opened in the upstream PostgreSQL yet: " + reason)
		fmt.Fprintf(out, "wasql: Postgres wire on %s answers 08001 until the catalog opens: %v; retrying in %s\n", addr, err, delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// retryable reports whether err may go away by itself: the upstream down, starting up, or full.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P03" || pe.Code == "53300" || strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne)
}
