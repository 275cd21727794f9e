// Command density measures issue 13's density targets on a wasql server it starts itself
// (embedded mode, a fresh data directory, loopback ports):
//
//   - create: N functions over M distinct small modules (function i uses module i mod M), over
//     C Postgres-wire connections at once; functions per second;
//
//   - idle RSS: the server's VmRSS before any function (the baseline), right after creating them,
//     and after -idle of doing nothing;
//
//   - restart: the server stopped (SIGTERM) and started again on the same data directory; the
//     time from its start to the first answered query (SELECT 1) and to the first wasm call;
//
//   - first call: K functions not called since the restart, each called once (compiled code from
//     the disk cache, a new instance), against a second call of the same function (the baseline,
//     in the same run); median and p99;
//
//   - RSS after those calls, and after -idle again.
//
//     go run ./bench/density -bin ./wasql [-functions 100000] [-modules 10000] [-conns 4] [-calls 200] [-idle 60s]
//
// It prints one line per measurement; a failure is a message on stderr and exit status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/internal/procmem"
)

func main() {
	bin := flag.String("bin", "", "the wasql binary")
	nfn := flag.Int("functions", 100000, "functions to create")
	nmod := flag.Int("modules", 10000, "distinct modules among them")
	conns := flag.Int("conns", 4, "connections creating at once")
	calls := flag.Int("calls", 200, "functions called for the first time after the restart")
	idle := flag.Duration("idle", 60*time.Second, "how long the server idles before an idle RSS reading")
	dir := flag.String("dir", "", "work directory (default: a new temporary one, removed at the end)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "density: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *dir, *nfn, *nmod, *conns, *calls, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "density:", err)
		os.Exit(1)
	}
}

// module is a small valid Wasm module: f(x i64) -> i64 returns x + k, so that modules with
// different k are distinct (different bytes, hashes and compiled code).
func module(k int64) []byte {
	var body []byte
	body = append(body, 0x00, 0x20, 0x00, 0x42) // no locals; local.get 0; i64.const
	body = appendSLEB(body, k)
	body = append(body, 0x7c, 0x0b) // i64.add; end
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x06, 0x01, 0x60, 0x01, 0x7e, 0x01, 0x7e, // type: (i64) -> i64
		0x03, 0x02, 0x01, 0x00, // function 0 has type 0
		0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00, // export "f" = function 0
		0x0a} // code section
	code := append([]byte{0x01, byte(len(body))}, body...)
	m = append(m, byte(len(code)))
	return append(m, code...)
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// server is one wasql serve process.
type server struct {
	cmd   *exec.Cmd
	url   string
	start time.Time
}

func startServer(bin, data string, pgPort, myPort int, log *os.File) (*server, error) {
	args := []string{"serve", "--data-dir", data,
		"--pg-addr", fmt.Sprintf("127.0.0.1:%d", pgPort), "--mysql-addr", fmt.Sprintf("127.0.0.1:%d", myPort)}
	if help, _ := exec.Command(bin, "serve", "--help").CombinedOutput(); strings.Contains(string(help), "--metrics-addr") {
		args = append(args, "--metrics-addr", "") // builds before metrics (a baseline) have no such flag
	}
	if p := os.Getenv("DENSITY_CPUPROFILE"); p != "" {
		args = append(args, "--cpuprofile", p) // the first server only
		os.Unsetenv("DENSITY_CPUPROFILE")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	s := &server{cmd: cmd, url: fmt.Sprintf("postgres://wasql@127.0.0.1:%d/wasql?sslmode=disable", pgPort), start: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// firstAnswer connects and runs q until it is answered, reporting the time since the start.
func (s *server) firstAnswer(ctx context.Context, q string) (time.Duration, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c, err := pgx.Connect(ctx, s.url)
		if err == nil {
			_, err = c.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol)
			c.Close(ctx)
			if err == nil {
				return time.Since(s.start), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no answer to %q: %w", q, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
		return errors.New("the server did not stop within 30 s of SIGTERM")
	}
}

// idle waits d, reading the server's RSS every 10 s: the janitor sweeps every 15 s and unloads
// what was not used for 60 s, so the series shows when the memory came back.
func (s *server) idle(d time.Duration) string {
	var series []string
	for end := time.Now().Add(d); time.Now().Before(end); {
		time.Sleep(min(10*time.Second, time.Until(end)))
		series = append(series, fmt.Sprintf("%.0f", s.rss()))
	}
	return strings.Join(series, ",")
}

func (s *server) rss() float64 {
	v, _ := procmem.VmRSS(s.cmd.Process.Pid)
	return float64(v) / (1 << 20)
}

// split is the resident memory's anonymous and file-backed parts (the binary's code, the
// catalog file bbolt maps), in MB.
func (s *server) split() string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	out := ""
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range []string{"RssAnon:", "RssFile:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				out += fmt.Sprintf(" %s_mb=%d", strings.ToLower(strings.TrimSuffix(k, ":")), kb>>10)
			}
		}
	}
	return out
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func run(bin, dir string, nfn, nmod, conns, calls int, idle time.Duration) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "density")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	log, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	data := filepath.Join(dir, "data")
	pgPort, myPort := freePort(), freePort()
	fmt.Printf("functions=%d modules=%d conns=%d calls=%d idle=%s\n", nfn, nmod, conns, calls, idle)

	s, err := startServer(bin, data, pgPort, myPort, log)
	if err != nil {
		return err
	}
	defer func() { s.stop() }()
	if _, err := s.firstAnswer(ctx, "SELECT 1"); err != nil {
		return err
	}
	fmt.Printf("rss_empty_mb=%.0f\n", s.rss())

	// Create.
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	begin := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(ctx, s.url)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close(ctx)
			for {
				i := int(next.Add(1) - 1)
				if i >= nfn {
					return
				}
				q := fmt.Sprintf("CREATE FUNCTION fn_%d(x bigint) RETURNS bigint LANGUAGE wasm IMMUTABLE AS $1, 'f'", i)
				if _, err := c.Exec(ctx, q, module(int64(i%nmod))); err != nil {
					errs <- fmt.Errorf("fn_%d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	el := time.Since(begin)
	fmt.Printf("create_s=%.2f create_per_s=%.0f\n", el.Seconds(), float64(nfn)/el.Seconds())
	fmt.Printf("rss_after_create_mb=%.0f\n", s.rss())
	fmt.Printf("rss_idle_series_mb=%s\n", s.idle(idle))
	fmt.Printf("rss_idle_mb=%.0f%s\n", s.rss(), s.split())

	// Restart.
	if err := s.stop(); err != nil {
		return err
	}
	if s, err = startServer(bin, data, pgPort, myPort, log); err != nil {
		return err
	}
	first, err := s.firstAnswer(ctx, "SELECT 1")
	if err != nil {
		return err
	}
	firstWasm, err := s.firstAnswer(ctx, "SELECT fn_0(1)")
	if err != nil {
		return err
	}
	fmt.Printf("restart_first_query_ms=%.0f restart_first_wasm_call_ms=%.0f rss_after_restart_mb=%.0f\n",
		ms(first), ms(firstWasm), s.rss())

	// First calls against second calls, on one connection.
	c, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var cold, warm []time.Duration
	for _, i := range rand.Perm(nfn)[:min(calls, nfn)] {
		if i == 0 {
			continue
		}
		q := fmt.Sprintf("SELECT fn_%d(1)", i)
		for k := range 2 {
			var got int64
			t := time.Now()
			if err := c.QueryRow(ctx, q, pgx.QueryExecModeSimpleProtocol).Scan(&got); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
			d := time.Since(t)
			if want := 1 + int64(i%nmod); got != want {
				return fmt.Errorf("%s = %d, want %d", q, got, want)
			}
			if k == 0 {
				cold = append(cold, d)
			} else {
				warm = append(warm, d)
			}
		}
	}
	fmt.Printf("first_call_ms p50=%.2f p99=%.2f; second_call_ms p50=%.2f p99=%.2f (n=%d)\n",
		ms(pct(cold, 50)), ms(pct(cold, 99)), ms(pct(warm, 50)), ms(pct(warm, 99)), len(cold))
	fmt.Printf("rss_after_calls_mb=%.0f\n", s.rss())
	fmt.Printf("rss_idle_series_mb=%s\n", s.idle(idle))
	fmt.Printf("rss_idle_after_calls_mb=%.0f%s\n", s.rss(), s.split())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
