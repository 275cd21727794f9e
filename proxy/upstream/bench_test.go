package upstream

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// TestPgbench compares pgbench's TPS directly and through the proxy (the test front end), in the
// same run. It is a measurement, not a check: it runs only with WASQL_PGBENCH=seconds and prints
// its numbers (bench/ runs it the same way through the real server).
// A bare TCP forwarder runs beside, the floor of any proxy on the same machine.
func TestPgbench(t *testing.T) {
	secs := os.Getenv("WASQL_PGBENCH")
	if secs == "" {
		t.Skip("a measurement: set WASQL_PGBENCH=seconds to run it")
	}
	pgURL(t, "root")
	b, err := New(Config{URL: pgURL(t, "root"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	proxied := serve(t, b, false, true)
	fwd := forwarder(t, pgAddr()) // the floor of any proxy: io.Copy both ways
	if out, err := exec.Command("pgbench", "-i", "-q", "-s", "2", "-h", "127.0.0.1", "-p", pgServer.port, "-U", "root", "postgres").CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i: %v %s", err, out)
	}
	tps := regexp.MustCompile(`tps = ([0-9.]+)`)
	run := func(addr string, clients int, args ...string) float64 {
		host, port, _ := net.SplitHostPort(addr)
		a := append([]string{"-n", "-T", secs, "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)), "-h", host, "-p", port, "-U", "root"}, args...)
		out, err := exec.Command("pgbench", append(a, "postgres")...).CombinedOutput()
		if err != nil {
			t.Fatalf("pgbench %v: %v %s", a, err, out)
		}
		m := tps.FindSubmatch(out)
		if m == nil {
			t.Fatalf("no tps in %s", out)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	cases := []struct {
		name string
		args []string
	}{{"-S simple", []string{"-S"}}, {"-S extended", []string{"-S", "-M", "extended"}}, {"-S prepared", []string{"-S", "-M", "prepared"}}, {"tpcb-like", nil}}
	counts := []int{1, 8}
	if os.Getenv("WASQL_PGBENCH_QUICK") != "" {
		cases, counts = cases[:1], counts[1:]
	}
	for _, c := range cases {
		for _, clients := range counts {
			d := run(pgAddr(), clients, c.args...)
			p := run(proxied, clients, c.args...)
			f := run(fwd.addr, clients, c.args...)
			fmt.Printf("pgbench %-12s clients=%d  direct %8.0f tps  proxied %8.0f tps  ratio %.2f  (a bare TCP forwarder: %8.0f tps, %.2f)\n",
				c.name, clients, d, p, p/d, f, f/d)
		}
	}
}
