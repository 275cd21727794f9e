package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasql/wasql/udf"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + s.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Readiness goes from starting (503) to ready (200), follows its check, cached for checkEvery,
// and back to 503 on NotReady; liveness is 200 throughout.
func TestReadiness(t *testing.T) {
	s := start(t)
	if code, body := get(t, s, "/readyz"); code != 503 || body != "not ready: starting\n" {
		t.Errorf("before Ready: %d %q", code, body)
	}
	if code, body := get(t, s, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	var calls atomic.Int32
	var fail atomic.Bool
	s.Ready(func(ctx context.Context) error {
		calls.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the check has no deadline")
		}
		if fail.Load() {
			return errors.New("the upstream PostgreSQL does not answer:\ndial tcp: refused")
		}
		return nil
	})
	for range 5 {
		if code, body := get(t, s, "/readyz"); code != 200 || body != "ok\n" {
			t.Errorf("ready: %d %q", code, body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("5 probes within %v ran the check %d times, want 1", checkEvery, n)
	}
	fail.Store(true)
	time.Sleep(checkEvery)
	if code, body := get(t, s, "/readyz"); code != 503 || body != "not ready: the upstream PostgreSQL does not answer: dial tcp: refused\n" {
		t.Errorf("failing check: %d %q (one line wanted)", code, body)
	}
	s.NotReady("shutting down")
	if code, body := get(t, s, "/readyz"); code != 503 || body != "not ready: shutting down\n" {
		t.Errorf("NotReady: %d %q", code, body)
	}
	if code, _ := get(t, s, "/nothing"); code != 404 {
		t.Errorf("/nothing: %d", code)
	}
}

// Close stops the listener; a nil Server (metrics off) does nothing.
func TestCloseAndNil(t *testing.T) {
	s, err := Listen("127.0.0.1:0", "test")
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after Close")
	}
	var off *Server
	off.Wire("mysql", nil)
	off.Functions(nil)
	off.Runtime(nil)
	off.Ready(nil)
	off.NotReady("x")
	if off.Addr() != nil || off.Close() != nil {
		t.Error("a nil Server is not inert")
	}
	if _, err := Listen(addr+"0", "test"); err == nil {
		t.Error("a bad address must fail")
	}
}

// Only functions with calls or errors get series, each once; the histogram is cumulative.
func TestFunctionSeries(t *testing.T) {
	s := start(t)
	buckets := make([]int64, len(udf.LatencyBounds)+1)
	buckets[0], buckets[3], buckets[len(buckets)-1] = 2, 1, 1 // ≤1µs, ≤8µs, over 16.8 s
	s.Functions(func(yield func(string, []udf.Type, udf.Stats) bool) {
		_ = yield("idle", []udf.Type{udf.Text}, udf.Stats{Buckets: make([]int64, len(buckets))}) &&
			yield("busy", []udf.Type{udf.Text, udf.Bigint}, udf.Stats{Calls: 4, Rows: 4000, Time: 20 * time.Second, Buckets: buckets}) &&
			yield("busy", []udf.Type{udf.Text, udf.Bigint}, udf.Stats{Calls: 4, Rows: 4000, Buckets: buckets}) && // replaced mid-walk
			yield("failing", nil, udf.Stats{Errors: map[string]int64{"trap": 3}, Buckets: make([]int64, len(buckets))})
	})
	s.Wire("postgres", func() WireStats { return WireStats{Open: 2, Accepted: 5, Refused: 1, Done: 7, Failed: 3} })
	code, body := get(t, s, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, want := range []string{
		`wasql_function_calls_total{function="busy(text, bigint)"} 4`,
		`wasql_function_rows_total{function="busy(text, bigint)"} 4000`,
		`wasql_function_call_seconds_bucket{function="busy(text, bigint)",le="1e-06"} 2`,
		`wasql_function_call_seconds_bucket{function="busy(text, bigint)",le="4e-06"} 2`,
		`wasql_function_call_seconds_bucket{function="busy(text, bigint)",le="8e-06"} 3`,
		`wasql_function_call_seconds_bucket{function="busy(text, bigint)",le="16.777216"} 3`,
		`wasql_function_call_seconds_bucket{function="busy(text, bigint)",le="+Inf"} 4`,
		`wasql_function_call_seconds_sum{function="busy(text, bigint)"} 20`,
		`wasql_function_call_seconds_count{function="busy(text, bigint)"} 4`,
		`wasql_function_errors_total{function="failing()",kind="trap"} 3`,
		`wasql_connections{wire="postgres"} 2`,
		`wasql_connections_accepted_total{wire="postgres"} 5`,
		`wasql_connections_refused_total{wire="postgres"} 1`,
		`wasql_statements_total{outcome="ok",wire="postgres"} 7`,
		`wasql_statements_total{outcome="error",wire="postgres"} 3`,
		`wasql_build_info{version="test"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, "idle(") {
		t.Error("a function never called has series")
	}
	if strings.Contains(body, "wasql_functions{") {
		t.Error("runtime series without a runtime")
	}
}
