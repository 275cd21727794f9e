package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wasql/wasql/udf"
)

// Readiness checks are cached this long, and bounded by checkTimeout: a probe every second or
// a crowd of them costs the upstream at most one check a second.
const (
	checkEvery   = time.Second
	checkTimeout = time.Second
)

// Server is the HTTP listener of /metrics, /healthz and /readyz. It starts not ready
// ("starting"). A nil *Server is metrics turned off: its methods do nothing.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	col  *collector
	done chan error

	mu     sync.Mutex
	reason string                      // why the server is not ready; "" once Ready
	check  func(context.Context) error // once ready, what must still answer (proxy mode: the upstream)

	checking  sync.Mutex // one check at a time; guards what follows
	checkedAt time.Time
	checkErr  error
}

// Listen listens on addr (host:port) and serves the endpoints until Close. version is the
// wasql version wasql_build_info reports.
func Listen(addr, version string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, col: &collector{version: version}, done: make(chan error, 1), reason: "starting"}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.col, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { text(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute, IdleTimeout: time.Minute}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr {
	if s == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops the listener, lets requests in progress finish for a second, and closes the
// connections left.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Wire adds a wire's counts, read at each scrape, as the series with wire=name.
func (s *Server) Wire(name string, stats func() WireStats) {
	if s == nil {
		return
	}
	s.col.mu.Lock()
	defer s.col.mu.Unlock()
	s.col.wires = append(s.col.wires, wire{name, stats})
}

// Functions sets the visit of the registered functions, read at each scrape.
func (s *Server) Functions(f Functions) {
	if s == nil {
		return
	}
	s.col.mu.Lock()
	defer s.col.mu.Unlock()
	s.col.functions = f
}

// Runtime sets the wasm runtime's description, read at each scrape.
func (s *Server) Runtime(stats func() udf.RuntimeStats) {
	if s == nil {
		return
	}
	s.col.mu.Lock()
	defer s.col.mu.Unlock()
	s.col.runtime = stats
}

// NotReady makes /readyz answer 503 with reason (one line).
func (s *Server) NotReady(reason string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reason = strings.ReplaceAll(reason, "\n", " ")
	if s.reason == "" {
		s.reason = "not ready"
	}
}

// Ready makes /readyz answer 200 while check, if not nil, succeeds; its error is the 503's
// reason. check runs at most once every checkEvery, within checkTimeout.
func (s *Server) Ready(check func(context.Context) error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.reason, s.check = "", check
	s.mu.Unlock()
	s.checking.Lock()
	s.checkedAt = time.Time{}
	s.checking.Unlock()
}

// readiness is "" when ready, else the reason it is not.
func (s *Server) readiness() string {
	s.mu.Lock()
	reason, check := s.reason, s.check
	s.mu.Unlock()
	if reason != "" || check == nil {
		return reason
	}
	s.checking.Lock()
	defer s.checking.Unlock()
	if time.Since(s.checkedAt) >= checkEvery {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout) // not the request's: the result is shared
		s.checkErr = check(ctx)
		cancel()
		s.checkedAt = time.Now()
	}
	if s.checkErr != nil {
		return strings.ReplaceAll(s.checkErr.Error(), "\n", " ")
	}
	return ""
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if reason := s.readiness(); reason != "" {
		text(w, http.StatusServiceUnavailable, "not ready: "+reason)
		return
	}
	text(w, http.StatusOK, "ok")
}

func text(w http.ResponseWriter, code int, line string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, line)
}
