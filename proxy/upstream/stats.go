package upstream

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/wasql/wasql/catalog/pgstore"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// Stats is proxy mode's source of statistics (pgstore.StatsSource): the state and counters of
// the registry's functions, for pgstore's Reporter to write into wasql.function_stats. Reading
// every function costs about 0.2 µs a function (sqlfuncs.Registry.Functions sorts them all; a
// function never called is skipped without reading its counters), so between the Reporter's
// full scans it reads only the functions statements used (Config.Stats hears of them), for as
// long as they may still change without a call: until they are unloaded again.
type Stats struct {
	reg *sqlfuncs.Registry

	mu    sync.Mutex
	seq   uint64
	watch map[*sqlfuncs.Overload]uint64 // the functions to read, with the seq of their last use
}

var _ pgstore.StatsSource = (*Stats)(nil)

// NewStats returns the statistics source of reg.
func NewStats(reg *sqlfuncs.Registry) *Stats {
	return &Stats{reg: reg, watch: map[*sqlfuncs.Overload]uint64{}}
}

// used records the functions a statement used.
func (s *Stats) used(uses []udf.Use) {
	if len(uses) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range uses {
		if ov := s.overload(u.Function); ov != nil {
			s.touch(ov)
		}
	}
}

// touch adds ov to the functions to read. Called with mu held.
func (s *Stats) touch(ov *sqlfuncs.Overload) {
	s.seq++
	s.watch[ov] = s.seq
}

// overload is fn's overload in the registry, nil if fn is no longer there (replaced, dropped).
func (s *Stats) overload(fn *udf.Function) *sqlfuncs.Overload {
	for _, ov := range s.reg.Overloads(fn.Name()) {
		if ov.Fn == fn {
			return ov
		}
	}
	return nil
}

// Stats implements pgstore.StatsSource: with all, the row of every function that is not quiet
// (pgstore.FunctionStats.Quiet); else the rows of the functions used since they were last
// quiet. A function unloaded (or broken) is not read again until a statement uses it: nothing
// else changes it.
func (s *Stats) Stats(all bool) []pgstore.FunctionStats {
	var ovs []*sqlfuncs.Overload
	if all {
		ovs = s.reg.Functions()
	}
	s.mu.Lock()
	seen := make(map[*sqlfuncs.Overload]uint64, len(s.watch))
	for ov, seq := range s.watch {
		if !all {
			ovs = append(ovs, ov)
		}
		seen[ov] = seq
	}
	s.mu.Unlock()
	rows := make([]pgstore.FunctionStats, 0, len(ovs))
	var quiet []*sqlfuncs.Overload
	for _, ov := range ovs {
		if !all && !s.current(ov) {
			continue // replaced or dropped since it was used: not the function of its key now
		}
		if all && ov.Fn != nil && !ov.Fn.Called() && ov.Fn.State() == "unloaded" {
			// Quiet, known without reading counters it does not have (Stats would make some).
			if _, ok := seen[ov]; ok {
				quiet = append(quiet, ov)
			}
			continue
		}
		f := functionStats(ov)
		if !all || !f.Quiet() { // a full scan leaves quiet functions out: most of a large catalog
			rows = append(rows, f)
		}
		if f.State != "idle" && f.State != "loaded" {
			quiet = append(quiet, ov)
		} else if _, ok := seen[ov]; !ok && s.current(ov) {
			// Loaded without a use seen (the full scan found it): its state may change.
			s.mu.Lock()
			if _, ok := s.watch[ov]; !ok {
				s.watch[ov] = 0
			}
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ov := range quiet {
		if seq, ok := s.watch[ov]; ok && seq == seen[ov] {
			delete(s.watch, ov) // not used since it was read quiet
		}
	}
	for ov := range seen {
		if !s.current(ov) {
			delete(s.watch, ov) // replaced or dropped
		}
	}
	return rows
}

// current reports whether ov is still the registry's overload of its key.
func (s *Stats) current(ov *sqlfuncs.Overload) bool {
	for _, o := range s.reg.Overloads(ov.Def.Name) {
		if o == ov {
			return true
		}
	}
	return false
}

// ResetStats implements pgstore.StatsSource: the counters of the functions named name (case
// folded, as sqlfuncs.Registry.ResetStats compares), every function's when name is "". A
// function that counted nothing is left alone: resetting it would give it counters it does not
// need yet.
func (s *Stats) ResetStats(name string) {
	var ovs []*sqlfuncs.Overload
	if name == "" {
		ovs = s.reg.Functions()
	} else {
		for _, ov := range s.reg.Functions() {
			if strings.EqualFold(ov.Def.Name, name) {
				ovs = append(ovs, ov)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ov := range ovs {
		if ov.Fn == nil || !ov.Fn.Called() {
			continue
		}
		if st := ov.Fn.Stats(); st.Evals != 0 || st.Calls != 0 || st.Rows != 0 || st.Loads != 0 || st.PeakMemory != 0 || st.Fuel != 0 || st.ErrorCount() != 0 {
			ov.Fn.ResetStats()
			s.touch(ov)
		}
	}
}

// functionStats is ov's row: what sqlfuncs.StatsRow shows in embedded mode, as pgstore keeps it.
func functionStats(ov *sqlfuncs.Overload) pgstore.FunctionStats {
	d := ov.Def
	f := pgstore.FunctionStats{Key: d.Key(), Version: d.Version, Created: d.Created, State: "broken", Since: d.Created}
	if !d.Replaced.IsZero() {
		f.Since = d.Replaced
	}
	if ov.Broken != nil {
		f.Error = ov.Broken.Error()
	}
	if ov.Fn != nil {
		f.State = ov.Fn.State()
		if err := ov.Fn.Broken(); err != nil {
			f.Error = err.Error()
		}
		f.Instances = int64(ov.Fn.Instances())
		st := ov.Fn.Stats()
		f.Evals, f.Rows, f.Batches, f.Errors, f.Time, f.Buckets = st.Evals, st.Rows, st.Calls, st.Errors, st.Time, st.Buckets
		f.Fuel, f.PeakMemory, f.Loads, f.Since = st.Fuel, st.PeakMemory, st.Loads, st.Since
	}
	return f
}

// mentionsStats reports whether q names wasql.functions (as wasql . functions, either part
// quoted or not): a statement reading it should see this proxy's latest counters. A query that
// reaches the view otherwise (search_path, a view of the view) sees them as of the last
// background write, at most a flush interval old.
func mentionsStats(q string) bool {
	if !strings.Contains(q, "unctions") && !strings.Contains(q, "UNCTIONS") {
		return false
	}
	s := scanner{q: q}
	after := 0 // 1: after wasql, 2: after wasql.
	for {
		k, start, end := s.next()
		switch {
		case k == tokEOF:
			return false
		case after == 2 && identIs(q, k, start, end, "functions"):
			return true
		case after == 1 && k == tokOther && q[start:end] == ".":
			after = 2
		case identIs(q, k, start, end, "wasql"):
			after = 1
		default:
			after = 0
		}
	}
}

// identIs reports whether the token is the identifier name (lower case): unquoted in any case,
// or quoted exactly.
func identIs(q string, k tokKind, start, end int, name string) bool {
	switch k {
	case tokWord:
		return strings.EqualFold(q[start:end], name)
	case tokQuoted:
		return q[start:end] == `"`+name+`"`
	}
	return false
}

// statsFlushTimeout bounds the write of this proxy's counters before a statement reading
// wasql.functions: past it, the statement goes on and sees them a little older.
const statsFlushTimeout = 2 * time.Second

// flushStats writes this proxy's counters that changed (Config.FlushStats): called before a
// statement naming wasql.functions goes upstream.
func (s *Session) flushStats(ctx context.Context) {
	if s.b.cfg.FlushStats == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statsFlushTimeout)
	defer cancel()
	s.b.cfg.FlushStats(ctx)
}
