package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wasql/wasql/internal/pgtest"
)

// metricsLine is the line wasql serve prints once /metrics listens.
var metricsLine = regexp.MustCompile(`metrics on http://(\S+)/metrics`)

// TestServeMetrics runs the embedded server, calls wasm functions over both wires and checks
// what /metrics, /healthz and /readyz say about it.
func TestServeMetrics(t *testing.T) {
	addr, out, logs := startServe(t, "--log-level", "info")
	m := metricsLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no metrics address in the banner:\n%s", out)
	}
	web := m[1]
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, web, path); code != 200 || body != "ok\n" {
			t.Errorf("%s: %d %q, want 200 ok", path, code, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", "root@tcp("+addr+")/wasql?interpolateParams=true") // CREATE FUNCTION is not preparable
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	my, err := db.Conn(ctx) // one connection: the gauge and the statement counts are exact
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile("../../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'",
		"CREATE FUNCTION pdiv(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'div'",
		"CREATE FUNCTION unused(bigint, bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'",
	} {
		if _, err := my.ExecContext(ctx, q, module); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range []string{"CREATE TABLE t (a BIGINT, b BIGINT)", "INSERT INTO t VALUES (1, 2), (3, 4), (5, 6), (7, 8), (9, 10)"} {
		if _, err := my.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := my.QueryContext(ctx, "SELECT plus(a, b) FROM t")
	if got := sumRows(t, rows, err); got != 55 {
		t.Fatalf("SELECT plus(a, b) FROM t: sum %d, want 55", got)
	}
	if _, err := my.ExecContext(ctx, "SELECT pdiv(a, 0) FROM t"); err == nil {
		t.Fatal("a division by zero must fail")
	}
	s := scrape(t, web)
	plus := map[string]string{"function": "plus(bigint, bigint)"}
	if n := s.value(t, "wasql_function_rows_total", plus); n != 5 {
		t.Errorf("rows of plus: %v, want 5", n)
	}
	calls := s.value(t, "wasql_function_calls_total", plus)
	if calls < 1 || calls > 5 {
		t.Errorf("calls of plus: %v, want 1 to 5 for 5 rows", calls)
	}
	h := s.metric(t, "wasql_function_call_seconds", plus).GetHistogram()
	if float64(h.GetSampleCount()) != calls || h.GetSampleSum() <= 0 {
		t.Errorf("histogram of plus: %d calls in %v s, want %v calls in more than 0 s", h.GetSampleCount(), h.GetSampleSum(), calls)
	}
	last := uint64(0)
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < last {
			t.Errorf("histogram buckets are not cumulative: %v", h.GetBucket())
		}
		last = b.GetCumulativeCount()
	}
	if b := h.GetBucket(); len(b) != 26 || b[0].GetUpperBound() != 1e-6 || b[24].GetUpperBound() != 16.777216 || b[25].GetCumulativeCount() != h.GetSampleCount() {
		t.Errorf("histogram buckets: %v, want udf.LatencyBounds (1µs to 2^24µs) and +Inf", b)
	}
	if n := s.value(t, "wasql_function_errors_total", map[string]string{"function": "pdiv(bigint, bigint)", "kind": "trap"}); n < 1 {
		t.Errorf("traps of pdiv: %v, want at least 1", n)
	}
	if s.has("wasql_function_calls_total", map[string]string{"function": "unused(bigint, bigint)"}) {
		t.Error("a function never called has series")
	}
	if n := s.value(t, "wasql_connections", map[string]string{"wire": "mysql"}); n != 1 {
		t.Errorf("MySQL connections: %v, want 1", n)
	}
	if n := s.value(t, "wasql_connections", map[string]string{"wire": "postgres"}); n != 0 {
		t.Errorf("Postgres connections: %v, want 0", n)
	}
	state := func(state string) map[string]string { return map[string]string{"state": state} }
	if n := s.value(t, "wasql_functions", state("loaded")) + s.value(t, "wasql_functions", state("unloaded")) +
		s.value(t, "wasql_functions", state("broken")); n != 3 {
		t.Errorf("functions by state: %v in all, want 3", n)
	}
	if n := s.value(t, "wasql_memory_budget_bytes", nil); n <= 0 {
		t.Errorf("memory budget %v", n)
	}
	for _, name := range []string{"wasql_compiled_code_total", "wasql_function_instances", "wasql_build_info", "go_goroutines", "process_resident_memory_bytes"} {
		if s[name] == nil {
			t.Errorf("no %s", name)
		}
	}

	// Statements: one more of each outcome on each wire.
	okMy := map[string]string{"wire": "mysql", "outcome": "ok"}
	errMy := map[string]string{"wire": "mysql", "outcome": "error"}
	okPG := map[string]string{"wire": "postgres", "outcome": "ok"}
	errPG := map[string]string{"wire": "postgres", "outcome": "error"}
	if _, err := my.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := my.ExecContext(ctx, "SELECT nope_nothing()"); err == nil {
		t.Fatal("an unknown function must fail")
	}
	pgAddr := regexp.MustCompile(`Postgres wire on (\S+)`).FindStringSubmatch(out.String())[1]
	pg, err := pgx.Connect(ctx, "postgres://root@"+pgAddr+"/wasql?sslmode=disable&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	if _, err := pg.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(ctx, "SELECT nope_nothing()"); err == nil {
		t.Fatal("an unknown function must fail")
	}
	var sum int64
	if err := pg.QueryRow(ctx, "SELECT sum(plus(a, b)) FROM t").Scan(&sum); err != nil || sum != 55 {
		t.Fatalf("over the Postgres wire: %v %d", err, sum)
	}
	s2 := scrape(t, web)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{{okMy, 1}, {errMy, 1}, {okPG, 2}, {errPG, 1}} {
		if d := s2.value(t, "wasql_statements_total", c.labels) - s.value(t, "wasql_statements_total", c.labels); d != c.want {
			t.Errorf("statements %v: %v more, want %v", c.labels, d, c.want)
		}
	}
	if n := s2.value(t, "wasql_function_rows_total", plus); n != 10 {
		t.Errorf("rows of plus after the Postgres wire's query: %v, want 10", n)
	}
	if n := s2.value(t, "wasql_connections", map[string]string{"wire": "postgres"}); n != 1 {
		t.Errorf("Postgres connections: %v, want 1", n)
	}
	if n := s2.value(t, "wasql_connections_accepted_total", map[string]string{"wire": "postgres"}); n != 1 {
		t.Errorf("Postgres connections accepted: %v, want 1", n)
	}
	if _, err := my.ExecContext(ctx, "DROP FUNCTION unused"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`msg="metrics listening" addr=` + web + ` loopback=true`, `msg="wasql ready" mysql_addr=` + addr,
		`msg="function created" function="plus(bigint, bigint)" module=`, `bytes=`, `msg="function dropped" function="unused(bigint, bigint)"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the log:\n%s", want, logs)
		}
	}
	pg.Close(ctx)
	my.Close()
	db.Close()
	eventually(t, func() string {
		s := scrape(t, web)
		for _, w := range []string{"mysql", "postgres"} {
			if n := s.value(t, "wasql_connections", map[string]string{"wire": w}); n != 0 {
				return w + " connections still open"
			}
		}
		return ""
	})
}

// TestServeMetricsOff: an empty metrics_addr listens for nothing and prints no metrics line.
func TestServeMetricsOff(t *testing.T) {
	_, out, _ := startServe(t, "--metrics-addr", "")
	if strings.Contains(out.String(), "metrics on") {
		t.Errorf("metrics off, yet:\n%s", out)
	}
	c, _, err := loadServeConfig(nil, io.Discard, io.Discard)
	if err != nil || c.MetricsAddr != defaultMetricsAddr {
		t.Errorf("default metrics_addr: %v %+v", err, c)
	}
	t.Setenv("WASQL_METRICS_ADDR", "")
	if c, _, err := loadServeConfig(nil, io.Discard, io.Discard); err != nil || c.MetricsAddr != "" {
		t.Errorf("WASQL_METRICS_ADDR= : %v %+v", err, c)
	}
}

// TestServeProxyMetrics: wasql serve --upstream is not ready while the upstream is unreachable
// at start, ready once it answers, not ready again when it stops answering, and counts the
// statements and calls through the proxy.
func TestServeProxyMetrics(t *testing.T) {
	url := pgtest.Start(t)
	target := url[strings.Index(url, "@")+1 : strings.LastIndex(url, "/")]
	r := &relay{target: target}
	late := r.freeAddr(t)
	s := serveUpstream(t, strings.Replace(url, "@"+target+"/", "@"+late+"/", 1))
	web := s.wait(t, metricsLine)
	s.wait(t, regexp.MustCompile(`Postgres wire on (\S+) answers 08001 until the catalog opens`))
	if code, body := get(t, web, "/readyz"); code != 503 || !strings.HasPrefix(body, "not ready: starting") {
		t.Errorf("/readyz while the upstream is down at start: %d %q", code, body)
	}
	if code, _ := get(t, web, "/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	r.start(t, late)
	t.Cleanup(r.stop)
	addr := s.wait(t, banner)
	eventually(t, func() string {
		if code, body := get(t, web, "/readyz"); code != 200 {
			return body
		}
		return ""
	})
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, "postgres://root@"+addr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	module, err := os.ReadFile("../../sqlfuncs/testdata/twice.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS $1, 'twice_int'`, module); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, "SELECT twice(i) FROM generate_series(1, 3) i")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(got) != 3 || got[0]+got[1]+got[2] != 12 {
		t.Fatalf("twice through the proxy: %v %v", err, got)
	}
	before := scrape(t, web)
	for _, q := range []string{"SELECT 1", "SELECT 1/0"} {
		c.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol)
	}
	after := scrape(t, web)
	for outcome, want := range map[string]float64{"ok": 1, "error": 1} {
		l := map[string]string{"wire": "postgres", "outcome": outcome}
		if d := after.value(t, "wasql_statements_total", l) - before.value(t, "wasql_statements_total", l); d != want {
			t.Errorf("statements %s through the proxy: %v more, want %v", outcome, d, want)
		}
	}
	twice := map[string]string{"function": "twice(integer)"}
	if n := after.value(t, "wasql_function_rows_total", twice); n != 3 {
		t.Errorf("rows of twice: %v, want 3", n)
	}
	if n := after.value(t, "wasql_function_calls_total", twice); n < 1 {
		t.Errorf("calls of twice: %v", n)
	}
	if n := after.value(t, "wasql_connections", map[string]string{"wire": "postgres"}); n != 1 {
		t.Errorf("connections: %v, want 1", n)
	}
	if after["wasql_connections"] != nil && len(after["wasql_connections"].GetMetric()) != 1 {
		t.Errorf("proxy mode has one wire: %v", after["wasql_connections"])
	}
	c.Close(ctx)

	// The upstream stops answering, then answers again.
	r.stop()
	eventually(t, func() string {
		if code, body := get(t, web, "/readyz"); code != 503 || !strings.Contains(body, "does not answer") {
			return body
		}
		return ""
	})
	r.start(t, late)
	eventually(t, func() string {
		if code, body := get(t, web, "/readyz"); code != 200 {
			return body
		}
		return ""
	})
}

// relay is a TCP relay to target that can be stopped, its connections cut, and started again.
type relay struct {
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

// freeAddr returns a loopback address nothing listens on (until start).
func (r *relay) freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (r *relay) start(t *testing.T, addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.l = l
	r.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", r.target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, u)
			r.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

// stop closes the listener and cuts every relayed connection.
func (r *relay) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.l != nil {
		r.l.Close()
		r.l = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// get returns the status and body of http://addr/path.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// families are the metric families of one scrape, by name.
type families map[string]*dto.MetricFamily

func scrape(t *testing.T, addr string) families {
	t.Helper()
	code, body := get(t, addr, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// find returns the sample of name whose labels include labels, or nil.
func (f families) find(name string, labels map[string]string) *dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.GetMetric() {
		for k, v := range labels {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == k && lp.GetValue() == v
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func (f families) has(name string, labels map[string]string) bool { return f.find(name, labels) != nil }

func (f families) metric(t *testing.T, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	m := f.find(name, labels)
	if m == nil {
		t.Fatalf("no %s%v", name, labels)
	}
	return m
}

// value is a counter's or a gauge's value.
func (f families) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	m := f.metric(t, name, labels)
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.GetGauge().GetValue()
}

// sumRows adds up a one-column integer result.
func sumRows(t *testing.T, rows *sql.Rows, err error) int64 {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

// eventually waits (10 s at most) until check returns "", else fails with what it returned.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	why := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if why = check(); why == "" {
			return
		}
	}
	t.Fatal(errors.New(why))
}
