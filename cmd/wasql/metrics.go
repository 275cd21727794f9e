package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/metrics"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// defaultMetricsAddr is where /metrics, /healthz and /readyz listen by default: loopback, on a
// port beside the wires' 3307 and 5433 (not 9187: postgres_exporter's, often on the same host
// as the PostgreSQL a proxy fronts).
const defaultMetricsAddr = "127.0.0.1:9433"

// startMetrics listens for /metrics, /healthz and /readyz on c.MetricsAddr, not ready yet; nil
// (metrics off: its methods do nothing) when the address is empty.
func startMetrics(c *serveConfig, out io.Writer) (*metrics.Server, error) {
	if c.MetricsAddr == "" {
		return nil, nil
	}
	ms, err := metrics.Listen(c.MetricsAddr, version)
	if err != nil {
		return nil, fmt.Errorf("metrics_addr %s: %w", c.MetricsAddr, err)
	}
	slog.Info("metrics listening", "addr", ms.Addr().String(), "loopback", embedded.IsLoopback(ms.Addr().String()))
	fmt.Fprintf(out, "wasql: metrics on http://%s/metrics (health: /healthz, /readyz)\n", ms.Addr())
	return ms, nil
}

// registryFunctions is how the metrics visit reg's functions at each scrape.
func registryFunctions(reg *sqlfuncs.Registry) metrics.Functions {
	return func(yield func(string, []udf.Type, udf.Stats) bool) {
		for _, ov := range reg.Functions() {
			if ov.Fn == nil || !ov.Fn.Called() { // no counters: no series (and no garbage)
				continue
			}
			name := ov.Def.Name
			if ov.Def.Schema != "" {
				name = ov.Def.Schema + "." + name
			}
			if !yield(name, ov.Args, ov.Fn.Stats()) {
				return
			}
		}
	}
}

// addrOf is the metrics listener's address, "" when metrics are off.
func addrOf(ms *metrics.Server) string {
	if a := ms.Addr(); a != nil {
		return a.String()
	}
	return ""
}
