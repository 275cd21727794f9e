// Package procmem reads a process's resident memory from /proc, for the benchmarks and tests
// that bound wasql's memory: one reading (VmRSS) or a sampler that keeps the peak.
package procmem

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// VmRSS is the resident set size of process pid, in bytes (VmRSS of /proc/pid/status).
func VmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// Sample reads pid's VmRSS every interval until the returned function is called, which stops
// it and gives the peak and the number of samples.
func Sample(pid int, interval time.Duration) func() (peak int64, samples int) {
	stop, done := make(chan struct{}), make(chan struct{})
	var peak int64
	var samples int
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if rss, err := VmRSS(pid); err == nil {
				peak, samples = max(peak, rss), samples+1
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (int64, int) {
		close(stop)
		<-done
		return peak, samples
	}
}
