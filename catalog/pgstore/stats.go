package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/wasql/wasql/catalog"
)

// StatsChannel is the LISTEN/NOTIFY channel wasql.reset_stats() notifies, with the reset's
// generation as payload.
const StatsChannel = "wasql_stats"

// DefaultFlushInterval is how often a Reporter writes the counters that changed.
const DefaultFlushInterval = time.Second

// Bounds of the reporter's work.
const (
	// heartbeatInterval: a proxy with nothing new to write still tells wasql.proxies it is alive
	// this often, and then expires the proxies silent for 5 minutes (wasql.functions ignores
	// them already). It must stay well under those 5 minutes.
	heartbeatInterval = 30 * time.Second
	// fullScanShare: full scans of the source (every function) take at most about this share
	// of the time, and come at least every fullScanTicks flush intervals; in between, the
	// source gives only the functions that may have changed. (Reading a function's counters
	// costs about 0.2 µs: a catalog of a thousand functions is read in full at every tick, one
	// of 100,000 every minute.)
	fullScanShare = 1000
	fullScanTicks = 60
	flushTimeout  = 10 * time.Second
	// maxResetRetries bounds a flush's rereads when resets keep landing during its writes.
	maxResetRetries = 50
)

// FunctionStats is one function's state and counters in one proxy: a row of
// wasql.function_stats. Counters are absolute, since the function was loaded in that proxy or
// its counters were last reset; Version and Created say which definition they are for.
type FunctionStats struct {
	Key        catalog.Key
	Version    int64
	Created    time.Time
	State      string // unloaded, idle, loaded or broken (udf.Function.State)
	Error      string // why it is broken, else ""
	Instances  int64
	Evals      int64            // evaluations asked for (udf.Stats.Evals: wasql.functions' calls)
	Rows       int64            // rows evaluated
	Batches    int64            // guest calls (udf.Stats.Calls)
	Errors     map[string]int64 // failed evaluations by kind
	Time       time.Duration    // in guest calls
	Buckets    []int64          // guest calls per latency bucket (udf.LatencyBounds, and the rest)
	Fuel       int64
	PeakMemory int64
	Loads      int64
	Since      time.Time // when counting began
}

// Quiet reports whether f says nothing a missing row does not: not loaded, nothing counted. A
// Reporter writes no row for it (and deletes the one it wrote before).
func (f *FunctionStats) Quiet() bool {
	if f.State != "unloaded" || f.Error != "" || f.Instances != 0 || f.Evals != 0 || f.Rows != 0 || f.Batches != 0 ||
		f.Time != 0 || f.Fuel != 0 || f.PeakMemory != 0 || f.Loads != 0 {
		return false
	}
	for _, n := range f.Errors {
		if n != 0 {
			return false
		}
	}
	for _, n := range f.Buckets {
		if n != 0 {
			return false
		}
	}
	return true
}

func (f *FunctionStats) equal(g *FunctionStats) bool {
	return f.Key.Compare(g.Key) == 0 && f.Version == g.Version && f.Created.Equal(g.Created) && f.State == g.State &&
		f.Error == g.Error && f.Instances == g.Instances && f.Evals == g.Evals && f.Rows == g.Rows && f.Batches == g.Batches &&
		maps.Equal(f.Errors, g.Errors) && f.Time == g.Time && slices.Equal(f.Buckets, g.Buckets) && f.Fuel == g.Fuel &&
		f.PeakMemory == g.PeakMemory && f.Loads == g.Loads && f.Since.Equal(g.Since)
}

// StatsSource is where a Reporter reads a proxy's counters (proxy/upstream.Stats).
type StatsSource interface {
	// Stats returns the rows of the functions whose state or counters may have changed since the
	// last call; with all, of every function (a function not in a full list is gone, or Quiet:
	// a full list may leave quiet functions out).
	Stats(all bool) []FunctionStats
	// ResetStats sets the counters of the functions named name (every function when name is "")
	// to zero, as wasql.reset_stats(name) asked.
	ResetStats(name string)
}

// Reporter writes one proxy's counters into wasql.function_stats, where the view
// wasql.functions sums them with the other proxies': in the background every flush interval
// (only the rows that changed, and a heartbeat in wasql.proxies at least every 30 s), on Flush,
// and once more at Close. It applies the resets wasql.reset_stats() makes, as their notification
// arrives, and before any write that would otherwise bring counters back: every write checks the
// reset generation under a lock that reset_stats must wait for, and writes nothing if a reset
// came that this proxy has not applied.
type Reporter struct {
	s        *Store
	src      StatsSource
	id, host string
	pid      int
	started  time.Time
	interval time.Duration

	mu        sync.Mutex // one write at a time; guards what follows
	gen       int64      // the reset generation applied; -1 before it is known
	flushed   map[string]FunctionStats
	written   time.Time // of the last write (the heartbeat)
	known     bool      // wasql.proxies has had this proxy's row
	ticks     int
	fullEvery int
	scanned   int64 // the catalog version (Store.Version) of the last full scan
	closed    bool
	failing   bool // the last background write failed (logged once)

	stop context.CancelFunc
	done chan struct{}
}

// ReportStats starts writing src's counters every interval (DefaultFlushInterval if 0) as those
// of a proxy of its own, identified by a random id in wasql.proxies (with its host and pid).
// A Store has one Reporter (the notifications of resets wake one); close it before the Store.
func (s *Store) ReportStats(src StatsSource, interval time.Duration) *Reporter {
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	host, _ := os.Hostname()
	var b [8]byte
	_, _ = rand.Read(b[:])
	r := &Reporter{s: s, src: src, id: hex.EncodeToString(b[:]), host: host, pid: os.Getpid(), started: time.Now(),
		interval: interval, gen: -1, flushed: map[string]FunctionStats{}, fullEvery: 1, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
	if err := s.pool.QueryRow(ctx, "SELECT generation FROM wasql.stats_generation").Scan(&r.gen); err != nil {
		r.gen = -1 // learnt at the first write
	}
	cancel()
	ctx, r.stop = context.WithCancel(s.ctx)
	s.wg.Add(1)
	go r.run(ctx)
	return r
}

// ID is this proxy's id in wasql.proxies and wasql.function_stats.
func (r *Reporter) ID() string { return r.id }

func (r *Reporter) run(ctx context.Context) {
	defer r.s.wg.Done()
	defer close(r.done)
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.s.resets:
			r.background(ctx, r.catchUp)
		case <-tick.C:
			r.background(ctx, func(ctx context.Context) error {
				r.mu.Lock()
				r.ticks++
				full := r.ticks%r.fullEvery == 0
				r.mu.Unlock()
				return r.flush(ctx, full, false)
			})
		}
	}
}

// background runs one step of run, bounded, logging the first failure of a run of them.
func (r *Reporter) background(ctx context.Context, step func(context.Context) error) {
	sctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("statistics reporter panicked: %v\n%s", p, debug.Stack())
			}
		}()
		return step(sctx)
	}()
	if ctx.Err() != nil {
		return // closing
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.failing:
		r.failing = true
		r.s.log.Warn("cannot write function statistics", "err", err)
	case err == nil && r.failing:
		r.failing = false
		r.s.log.Info("function statistics written again")
	}
}

// Flush writes the counters that changed now (a client about to read wasql.functions sees this
// proxy's own calls). It does nothing after Close.
func (r *Reporter) Flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	return r.flush(ctx, false, false)
}

// Close stops the background writes and writes every function's row a last time, unloaded
// with no instances (the counters stay in wasql.functions until this proxy has been silent
// for 5 minutes). Later Flushes do nothing.
func (r *Reporter) Close(ctx context.Context) error {
	r.stop()
	<-r.done
	err := r.flush(ctx, true, true)
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return err
}

// flush writes what changed since the last write: the rows of src.Stats that differ from what
// wasql.function_stats holds for this proxy (rows that say nothing are not written), with all
// the deletion of the rows of functions gone, and the heartbeat when it is due. With final,
// every row is written unloaded, without instances.
func (r *Reporter) flush(ctx context.Context, all, final bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	// After a change to the catalog, a full scan: a function created, replaced or dropped
	// changes rows without any statement using it.
	version := r.s.Version()
	all = all || version != r.scanned
	for attempt := 0; ; attempt++ {
		start := time.Now()
		rows := r.src.Stats(all)
		if all && !final {
			r.fullEvery = min(max(int(time.Since(start)*fullScanShare/r.interval), 1), fullScanTicks)
		}
		put, del := r.changes(rows, all, final)
		if len(put) == 0 && len(del) == 0 && r.gen >= 0 && time.Since(r.written) < heartbeatInterval {
			if all {
				r.scanned = version
			}
			return nil
		}
		gen, inserted, err := r.write(ctx, put, del)
		if err != nil {
			return err
		}
		if gen == r.gen {
			if all {
				r.scanned = version
			}
			if inserted && r.known {
				// This proxy's row had expired (silent for 5 minutes): its other rows went with
				// it. The next write is a full one, of every row.
				clear(r.flushed)
				r.scanned = -1
			}
			for _, f := range put {
				r.flushed[encodeKey(f.Key)] = f
			}
			for _, k := range del {
				delete(r.flushed, encodeKey(k))
			}
			r.known = true
			beat := time.Since(r.written) >= heartbeatInterval
			r.written = time.Now()
			if beat {
				return r.expire(ctx)
			}
			return nil
		}
		// A reset came that this proxy has not applied (or the generation was not known yet):
		// nothing was written. Apply it, read the counters again and write those.
		if err := r.applyResets(ctx, gen); err != nil {
			return err
		}
		// Resets are rare and a write takes milliseconds, but on a loaded machine several can
		// land during one; only a flood outlasts the attempts (or the caller's deadline).
		if attempt >= maxResetRetries || ctx.Err() != nil {
			return fmt.Errorf("write function statistics: resets keep coming (generation %d)", gen)
		}
	}
}

// changes returns the rows to write and the keys whose rows to delete. Of two rows of one key
// (a function replaced while its old version was still reported), the newer version's counts.
func (r *Reporter) changes(rows []FunctionStats, all, final bool) (put []FunctionStats, del []catalog.Key) {
	latest := make(map[string]int, len(rows))
	for i := range rows {
		k := encodeKey(rows[i].Key)
		if j, ok := latest[k]; !ok || rows[i].Version >= rows[j].Version {
			latest[k] = i
		}
	}
	for i, f := range rows {
		k := encodeKey(f.Key)
		if latest[k] != i {
			continue
		}
		if final {
			f.Instances = 0
			if f.State != "broken" {
				f.State = "unloaded"
			}
		}
		old, ok := r.flushed[k]
		if ok && !old.equal(&f) || !ok && !f.Quiet() {
			put = append(put, f)
		}
	}
	if all {
		for k, f := range r.flushed {
			if _, ok := latest[k]; !ok {
				del = append(del, f.Key)
			}
		}
	}
	return put, del
}

// statsRecord is a row of wasql.function_stats as the write sends it, in JSON.
type statsRecord struct {
	Schema     string           `json:"schema_name"`
	Name       string           `json:"name"`
	ArgTypes   []string         `json:"arg_types"`
	Version    int64            `json:"version"`
	Created    *time.Time       `json:"created,omitempty"`
	State      string           `json:"state"`
	Error      *string          `json:"error,omitempty"`
	Instances  int64            `json:"instances"`
	Evals      int64            `json:"evals"`
	Rows       int64            `json:"rows"`
	Batches    int64            `json:"batches"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"errors_by_kind"`
	TotalMS    float64          `json:"total_ms"`
	Buckets    []int64          `json:"buckets,omitempty"`
	Fuel       int64            `json:"fuel"`
	PeakMemory int64            `json:"peak_memory"`
	Loads      int64            `json:"loads"`
	Since      *time.Time       `json:"since,omitempty"`
}

func record(f *FunctionStats) statsRecord {
	rec := statsRecord{Schema: f.Key.Schema, Name: f.Key.Name, ArgTypes: argTypes(f.Key.ArgTypes), Version: f.Version,
		Created: &f.Created, State: f.State, Instances: f.Instances, Evals: f.Evals, Rows: f.Rows, Batches: f.Batches,
		ErrorKinds: map[string]int64{}, TotalMS: float64(f.Time) / float64(time.Millisecond), Buckets: f.Buckets,
		Fuel: f.Fuel, PeakMemory: f.PeakMemory, Loads: f.Loads, Since: &f.Since}
	if f.Error != "" {
		rec.Error = &f.Error
	}
	if rec.State == "" {
		rec.State = "unloaded"
	}
	for k, n := range f.Errors {
		if n != 0 {
			rec.ErrorKinds[k] = n
			rec.Errors += n
		}
	}
	if rec.Buckets == nil {
		rec.Buckets = []int64{}
	}
	return rec
}

// writeSQL writes a proxy's rows in one statement, so in one transaction that holds the reset
// generation's row FOR SHARE: a reset_stats waits for it (and then zeroes what it wrote), and
// a write that comes after a reset it does not know of writes nothing ($2 is not the
// generation). It upserts the proxy's row in wasql.proxies (the heartbeat; inserted tells that
// it was not there), deletes the rows of $6 and upserts those of $7, and returns the
// generation.
const writeSQL = `WITH g AS (SELECT generation FROM wasql.stats_generation FOR SHARE),
ok AS (SELECT FROM g WHERE generation = $2),
p AS (
	INSERT INTO wasql.proxies (id, host, pid, started, heartbeat) SELECT $1, $3, $4, $5, now() FROM ok
	ON CONFLICT (id) DO UPDATE SET heartbeat = now()
	RETURNING xmax = 0 AS inserted),
d AS (
	DELETE FROM wasql.function_stats f USING jsonb_to_recordset($6::jsonb) AS k(schema_name text, name text, arg_types text[])
	WHERE EXISTS (SELECT FROM ok) AND f.proxy = $1 AND f.schema_name = k.schema_name COLLATE "C"
		AND f.name = k.name COLLATE "C" AND f.arg_types = k.arg_types COLLATE "C"),
u AS (
	INSERT INTO wasql.function_stats (proxy, schema_name, name, arg_types, version, created, state, error, instances,
		evals, rows, batches, errors, errors_by_kind, total_ms, buckets, fuel, peak_memory, loads, since, updated)
	SELECT $1, r.schema_name, r.name, r.arg_types, r.version, r.created, r.state, r.error, r.instances,
		r.evals, r.rows, r.batches, r.errors, r.errors_by_kind, r.total_ms, r.buckets, r.fuel, r.peak_memory, r.loads, r.since, now()
	FROM ok, jsonb_to_recordset($7::jsonb) AS r(schema_name text, name text, arg_types text[], version bigint, created timestamptz,
		state text, error text, instances bigint, evals bigint, rows bigint, batches bigint, errors bigint, errors_by_kind jsonb,
		total_ms double precision, buckets bigint[], fuel bigint, peak_memory bigint, loads bigint, since timestamptz)
	ON CONFLICT (schema_name, name, arg_types, proxy) DO UPDATE SET version = EXCLUDED.version, created = EXCLUDED.created,
		state = EXCLUDED.state, error = EXCLUDED.error, instances = EXCLUDED.instances, evals = EXCLUDED.evals,
		rows = EXCLUDED.rows, batches = EXCLUDED.batches, errors = EXCLUDED.errors, errors_by_kind = EXCLUDED.errors_by_kind,
		total_ms = EXCLUDED.total_ms, buckets = EXCLUDED.buckets, fuel = EXCLUDED.fuel, peak_memory = EXCLUDED.peak_memory,
		loads = EXCLUDED.loads, since = EXCLUDED.since, updated = now())
SELECT (SELECT generation FROM g), coalesce((SELECT inserted FROM p), false)`

// write runs writeSQL, returning the reset generation and whether this proxy's row was new.
func (r *Reporter) write(ctx context.Context, put []FunctionStats, del []catalog.Key) (gen int64, inserted bool, err error) {
	recs := make([]statsRecord, len(put))
	for i := range put {
		recs[i] = record(&put[i])
	}
	keys := make([]statsRecord, len(del))
	for i, k := range del {
		keys[i] = statsRecord{Schema: k.Schema, Name: k.Name, ArgTypes: argTypes(k.ArgTypes)}
	}
	rows, err := json.Marshal(recs)
	if err != nil {
		return 0, false, fmt.Errorf("encode function statistics: %w", err)
	}
	gone, err := json.Marshal(keys)
	if err != nil {
		return 0, false, fmt.Errorf("encode function statistics: %w", err)
	}
	// Absolute values, upserted: the write can be sent again on a fresh connection.
	q := func() error {
		return r.s.pool.QueryRow(ctx, writeSQL, r.id, r.gen, r.host, r.pid, r.started, string(gone), string(rows)).Scan(&gen, &inserted)
	}
	if err = q(); err != nil && r.s.lost(ctx, err) {
		err = q()
	}
	if err != nil {
		return 0, false, fmt.Errorf("write function statistics: %w", err)
	}
	return gen, inserted, nil
}

// applyResets applies the resets after the generation this proxy applied through gen, from
// wasql.stats_resets (every function's counters when the log no longer holds them all, or the
// generation went backwards, as after a restore). A generation not known yet (at the start) is
// taken as it is: the counters began after it.
func (r *Reporter) applyResets(ctx context.Context, gen int64) error {
	if r.gen < 0 {
		r.gen = gen
		return nil
	}
	var names []*string
	complete := false
	if gen > r.gen {
		rows, err := r.s.pool.Query(ctx, "SELECT generation, name FROM wasql.stats_resets WHERE generation > $1 AND generation <= $2 ORDER BY generation", r.gen, gen)
		if err != nil {
			return fmt.Errorf("read statistics resets: %w", err)
		}
		next := r.gen + 1
		complete = true
		for rows.Next() {
			var g int64
			var name *string
			if err := rows.Scan(&g, &name); err != nil {
				rows.Close()
				return fmt.Errorf("read statistics resets: %w", err)
			}
			if g != next {
				complete = false
			}
			next = g + 1
			names = append(names, name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read statistics resets: %w", err)
		}
		complete = complete && next == gen+1
	}
	if !complete {
		names = []*string{nil}
	}
	for _, name := range names {
		if name == nil {
			r.src.ResetStats("")
		} else {
			r.src.ResetStats(*name)
		}
	}
	r.gen = gen
	return nil
}

// catchUp applies the resets made since the last one applied: run when a notification on
// StatsChannel (or the listener's reconnection) says there may be some.
func (r *Reporter) catchUp(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	var gen int64
	if err := r.s.pool.QueryRow(ctx, "SELECT generation FROM wasql.stats_generation").Scan(&gen); err != nil {
		return fmt.Errorf("read statistics generation: %w", err)
	}
	if gen == r.gen {
		return nil
	}
	return r.applyResets(ctx, gen)
}

// expire deletes the proxies silent for 5 minutes, and their rows: wasql.functions has ignored
// them since (its interval says the same).
func (r *Reporter) expire(ctx context.Context) error {
	_, err := r.s.pool.Exec(ctx, `WITH gone AS (DELETE FROM wasql.proxies WHERE heartbeat < now() - interval '5 minutes' RETURNING id)
		DELETE FROM wasql.function_stats WHERE proxy IN (SELECT id FROM gone)`)
	if err != nil {
		return fmt.Errorf("expire silent proxies: %w", err)
	}
	return nil
}

// wakeStats tells the reporter a reset may have come; it never blocks.
func (s *Store) wakeStats() {
	select {
	case s.resets <- struct{}{}:
	default:
	}
}
