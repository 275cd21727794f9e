package metrics

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasql/wasql/udf"
)

// WireStats are one wire's counts since the server started (proxy.Stats, embedded.MySQLStats).
type WireStats struct {
	Open     int64 // connections open now
	Accepted int64 // connections accepted, refused ones included
	Refused  int64 // connections refused for the wire's connection limit
	Done     int64 // statements that succeeded
	Failed   int64 // statements that failed
}

// Functions visits the registered wasm functions: it calls yield with each one's name
// (schema-qualified when it has a schema), argument types and counters until yield returns
// false.
type Functions func(yield func(name string, args []udf.Type, s udf.Stats) bool)

var (
	wireLabel        = []string{"wire"}
	functionLabel    = []string{"function"}
	stateLabel       = []string{"state"}
	descConnections  = prometheus.NewDesc("wasql_connections", "Connections open now, from accept to close, by wire.", wireLabel, nil)
	descAccepted     = prometheus.NewDesc("wasql_connections_accepted_total", "Connections accepted, refused ones included, by wire.", wireLabel, nil)
	descRefused      = prometheus.NewDesc("wasql_connections_refused_total", "Connections refused because the wire's connection limit was reached (pg_max_connections, mysql_max_connections).", wireLabel, nil)
	descStatements   = prometheus.NewDesc("wasql_statements_total", "Statements answered, by wire and outcome: ok (postgres: CommandComplete sent; mysql: OK or result set) or error (postgres: ErrorResponse sent; mysql: ERR packet).", []string{"wire", "outcome"}, nil)
	descCalls        = prometheus.NewDesc("wasql_function_calls_total", "Guest calls of a wasm function: one a batch of rows (one a row where a call is evaluated row by row). Only functions called or failed since they were created (or their counters reset) have series.", functionLabel, nil)
	descRows         = prometheus.NewDesc("wasql_function_rows_total", "Rows a wasm function evaluated.", functionLabel, nil)
	descErrors       = prometheus.NewDesc("wasql_function_errors_total", "Failed evaluations of a wasm function, by kind: "+strings.Join(udf.ErrorKinds, ", ")+".", []string{"function", "kind"}, nil)
	descCallSeconds  = prometheus.NewDesc("wasql_function_call_seconds", "Time of one guest call (a batch) of a wasm function.", functionLabel, nil)
	descFunctions    = prometheus.NewDesc("wasql_functions", "Wasm functions the runtime holds, by state: loaded (module validated and rewritten, in memory), unloaded (loaded again at its next call), broken (failed to load: calls fail with 55000).", stateLabel, nil)
	descInstances    = prometheus.NewDesc("wasql_function_instances", "Wasm instances, by state: busy (held by a session) or idle (pooled).", stateLabel, nil)
	descModules      = prometheus.NewDesc("wasql_compiled_modules", "Compiled modules in memory, by state: in_use (an instance uses it) or idle (no instance does: evicted first).", stateLabel, nil)
	descCompiledCode = prometheus.NewDesc("wasql_compiled_code_total", "Times a module's compiled code was needed, by source: memory (found compiled in memory) or compiled (compiled then, from the disk cache or afresh: wazero does not say which).", []string{"source"}, nil)
	descCompileTime  = prometheus.NewDesc("wasql_compile_seconds_total", "Time spent compiling modules (wasql_compiled_code_total{source=\"compiled\"}).", nil, nil)
	descMemoryUsed   = prometheus.NewDesc("wasql_memory_budget_used_bytes", "Bytes of the server-wide wasm memory budget in use: instances' linear memories, their reset snapshots, compiled code (estimated at 4 bytes a module byte).", nil, nil)
	descMemoryLimit  = prometheus.NewDesc("wasql_memory_budget_bytes", "The server-wide wasm memory budget.", nil, nil)
	descBuild        = prometheus.NewDesc("wasql_build_info", "Always 1: the wasql version in its label.", []string{"version"}, nil)
)

// collector is wasql's prometheus.Collector: it reads its sources at each scrape.
type collector struct {
	version string

	mu        sync.Mutex
	wires     []wire
	functions Functions
	runtime   func() udf.RuntimeStats
}

type wire struct {
	name  string
	stats func() WireStats
}

// latencyBounds are udf.LatencyBounds in seconds: the histogram's upper bounds.
var latencyBounds = func() []float64 {
	b := make([]float64, len(udf.LatencyBounds))
	for i, d := range udf.LatencyBounds {
		b[i] = d.Seconds()
	}
	return b
}()

// Describe implements the interface prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnections, descAccepted, descRefused, descStatements, descCalls, descRows,
		descErrors, descCallSeconds, descFunctions, descInstances, descModules, descCompiledCode, descCompileTime,
		descMemoryUsed, descMemoryLimit, descBuild} {
		ch <- d
	}
}

// Collect implements the interface prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	wires, functions, runtime := c.wires, c.functions, c.runtime
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, c.version)
	for _, w := range wires {
		s := w.stats()
		ch <- prometheus.MustNewConstMetric(descConnections, prometheus.GaugeValue, float64(s.Open), w.name)
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(s.Accepted), w.name)
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(s.Refused), w.name)
		ch <- prometheus.MustNewConstMetric(descStatements, prometheus.CounterValue, float64(s.Done), w.name, "ok")
		ch <- prometheus.MustNewConstMetric(descStatements, prometheus.CounterValue, float64(s.Failed), w.name, "error")
	}
	if functions != nil {
		collectFunctions(ch, functions)
	}
	if runtime != nil {
		s := runtime()
		gauge := func(d *prometheus.Desc, v int, label string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), label)
		}
		gauge(descFunctions, s.Loaded, "loaded")
		gauge(descFunctions, s.Functions-s.Loaded-s.Broken, "unloaded")
		gauge(descFunctions, s.Broken, "broken")
		gauge(descInstances, s.Instances-s.IdleInstances, "busy")
		gauge(descInstances, s.IdleInstances, "idle")
		gauge(descModules, s.Compiled-s.CompiledIdle, "in_use")
		gauge(descModules, s.CompiledIdle, "idle")
		ch <- prometheus.MustNewConstMetric(descCompiledCode, prometheus.CounterValue, float64(s.MemoryHits), "memory")
		ch <- prometheus.MustNewConstMetric(descCompiledCode, prometheus.CounterValue, float64(s.Compiles), "compiled")
		ch <- prometheus.MustNewConstMetric(descCompileTime, prometheus.CounterValue, s.CompileTime.Seconds())
		ch <- prometheus.MustNewConstMetric(descMemoryUsed, prometheus.GaugeValue, float64(s.MemoryUsed))
		ch <- prometheus.MustNewConstMetric(descMemoryLimit, prometheus.GaugeValue, float64(s.MemoryBudget))
	}
}

// collectFunctions sends the series of every function called or failed: of 100,000 registered
// functions, most are never called.
func collectFunctions(ch chan<- prometheus.Metric, functions Functions) {
	seen := map[string]bool{} // a function listed twice (replaced during the walk) is sent once
	functions(func(name string, args []udf.Type, s udf.Stats) bool {
		if s.Calls == 0 && len(s.Errors) == 0 {
			return true
		}
		label := functionLabelOf(name, args)
		if seen[label] {
			return true
		}
		seen[label] = true
		ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(s.Calls), label)
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.CounterValue, float64(s.Rows), label)
		for _, kind := range udf.ErrorKinds {
			if n := s.Errors[kind]; n > 0 {
				ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(n), label, kind)
			}
		}
		buckets := make(map[float64]uint64, len(latencyBounds))
		total := uint64(0)
		for i, n := range s.Buckets {
			total += uint64(n)
			if i < len(latencyBounds) {
				buckets[latencyBounds[i]] = total
			}
		}
		ch <- prometheus.MustNewConstHistogram(descCallSeconds, total, s.Time.Seconds(), buckets, label)
		return true
	})
}

// functionLabelOf is a function's label: its name and argument types, "slugify(text)", as
// catalog.Key prints it.
func functionLabelOf(name string, args []udf.Type) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, t := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
	}
	b.WriteByte(')')
	return b.String()
}
