package udf

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds of the buckets of Stats.Buckets: guest calls (one a batch)
// of at most 1µs, 2µs, 4µs, ... 2^24µs (16.8 s); a last bucket holds the longer ones.
var LatencyBounds = func() []time.Duration {
	b := make([]time.Duration, latencyBuckets-1)
	for i := range b {
		b[i] = time.Microsecond << i
	}
	return b
}()

const latencyBuckets = 26

// Error kinds as Stats.Errors counts them.
var statKinds = map[Kind]string{
	KindTimeout: "timeout", KindCanceled: "canceled", KindFuel: "fuel", KindMemory: "memory",
	KindTrap: "trap", KindRowError: "row", KindABI: "abi", KindResultLimit: "result_limit",
	KindOutOfRange: "out_of_range", KindEncoding: "encoding", KindBroken: "broken",
}

// ErrorKinds are the keys of Stats.Errors, in a fixed order ("other" last).
var ErrorKinds = []string{"trap", "timeout", "canceled", "fuel", "memory", "row", "abi",
	"result_limit", "out_of_range", "encoding", "broken", "other"}

// stats are one function's counters, updated without locks.
type stats struct {
	evals, calls, rows, nanos, fuel, peakMemory, loads atomic.Int64
	errors                                             [16]atomic.Int64 // by Kind
	buckets                                            [latencyBuckets]atomic.Int64
	since                                              atomic.Int64 // unix nanoseconds of the last reset
}

// call records one guest call of d that used fuel units.
func (s *stats) call(d time.Duration, fuel uint64) {
	s.calls.Add(1)
	s.nanos.Add(int64(d))
	s.fuel.Add(int64(fuel))
	i := 0
	if us := uint64(d / time.Microsecond); us > 1 {
		i = min(bits.Len64(us-1), latencyBuckets-1)
	}
	s.buckets[i].Add(1)
}

// fail records a failed Eval.
func (s *stats) fail(err error) {
	k := Kind(0)
	if e, ok := err.(*Error); ok {
		k = e.Kind
	}
	s.errors[min(int(k), len(s.errors)-1)].Add(1)
}

func (s *stats) memory(bytes int64) {
	for {
		old := s.peakMemory.Load()
		if bytes <= old || s.peakMemory.CompareAndSwap(old, bytes) {
			return
		}
	}
}

func (s *stats) reset() {
	for _, c := range []*atomic.Int64{&s.evals, &s.calls, &s.rows, &s.nanos, &s.fuel, &s.peakMemory, &s.loads} {
		c.Store(0)
	}
	for i := range s.errors {
		s.errors[i].Store(0)
	}
	for i := range s.buckets {
		s.buckets[i].Store(0)
	}
	s.since.Store(time.Now().UnixNano())
}

// Stats are a function's counters since it was loaded or its counters were reset.
type Stats struct {
	Evals      int64            // evaluations asked for (Eval calls: a batch of the engine, or one row)
	Calls      int64            // guest calls: one a batch
	Rows       int64            // rows evaluated
	Errors     map[string]int64 // failed evaluations by kind (ErrorKinds); kinds with none are absent
	Time       time.Duration    // total time in guest calls
	P50, P99   time.Duration    // per guest call, the upper bound of the bucket holding that quantile
	Buckets    []int64          // guest calls per bucket of LatencyBounds (one more, for the rest)
	Fuel       int64            // fuel units the guest used
	PeakMemory int64            // the largest linear memory an instance had after a call, bytes
	Loads      int64            // times the function was loaded (validated and rewritten) on demand
	Since      time.Time        // when counting began
}

// ErrorCount is the sum of Errors.
func (s Stats) ErrorCount() int64 {
	n := int64(0)
	for _, v := range s.Errors {
		n += v
	}
	return n
}

func (s *stats) read() Stats {
	out := Stats{Evals: s.evals.Load(), Calls: s.calls.Load(), Rows: s.rows.Load(), Time: time.Duration(s.nanos.Load()),
		Fuel: s.fuel.Load(), PeakMemory: s.peakMemory.Load(), Loads: s.loads.Load(),
		Since: time.Unix(0, s.since.Load()), Buckets: make([]int64, latencyBuckets)}
	for k := range s.errors {
		if n := s.errors[k].Load(); n > 0 {
			if out.Errors == nil {
				out.Errors = map[string]int64{}
			}
			name, ok := statKinds[Kind(k)]
			if !ok {
				name = "other"
			}
			out.Errors[name] += n
		}
	}
	total := int64(0)
	for i := range s.buckets {
		out.Buckets[i] = s.buckets[i].Load()
		total += out.Buckets[i]
	}
	out.P50, out.P99 = quantile(out.Buckets, total, 50), quantile(out.Buckets, total, 99)
	return out
}

// quantile is the upper bound of the bucket holding the p-th percentile of total calls (for the
// last bucket, its lower bound).
func quantile(buckets []int64, total int64, p int64) time.Duration {
	if total == 0 {
		return 0
	}
	rank := (total*p + 99) / 100
	seen := int64(0)
	for i, n := range buckets {
		seen += n
		if seen >= rank {
			return LatencyBounds[min(i, len(LatencyBounds)-1)]
		}
	}
	return LatencyBounds[len(LatencyBounds)-1]
}
