// Parallel evaluation of one wasm function over a statement's batches: the evaluator, which hands
// batches to workers (one instance each) and their results back in the order they were put.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/wasql/wasql/udf"
)

// evalJob is one batch: its input, and once done, its result.
type evalJob struct {
	rows int
	args []udf.Column
	tag  any
	res  udf.Column
	err  error
	done chan struct{} // closed by the worker that evaluated it (nil when evaluated in Next)
}

// evaluator computes one wasm function over a statement's batches and hands the results back in
// the order the batches were put. Used by one goroutine (the caller puts and takes).
//
// Without parallelism every batch is evaluated in Next, in the caller's goroutine, with the
// statement's own session. With it, the first Put starts a worker on the statement's own session.
// Once that worker has evaluated a batch (so the statement holds its instance: the extra ones
// never take the slot the statement's own session needs), every Put that leaves more batches in
// flight than workers starts one more, up to workers, each on an extra session of the statement
// (udf.Statement.TrySession): an instance the pool gives without waiting, or none, and the worker
// gives up and no more are tried, so a statement never waits for instances it only wants for
// speed. Workers take batches from one channel in the order they were put; Next waits for the
// oldest batch's result, so the order holds whichever worker finishes first.
type evaluator struct {
	parent context.Context
	ctx    context.Context // parent, and canceled by Close
	cancel context.CancelFunc
	st     *udf.Statement
	fn     *udf.Function

	parallel bool
	workers  int // at most this many workers
	limit    int // batches in flight before Full

	queue []*evalJob // put and not yet taken, oldest first

	// Parallel only.
	jobs    chan *evalJob // batches no worker has taken yet
	wg      sync.WaitGroup
	started int          // workers started (the caller's count)
	primed  atomic.Bool  // the first worker has evaluated a batch
	refused atomic.Bool  // an extra session was refused: start no more workers
	extras  atomic.Int32 // extra sessions taken
	closed  bool
}

// newEvaluator evaluates fn for the statement st (udf.Statement: its Session(fn) is the
// statement's own session, which never waits for an instance once the statement holds one).
// workers <= 1, or !parallel: every batch is evaluated synchronously, lazily in Next, with
// st.Session(fn), and the limit of batches in flight is 2. With parallel and workers > 1, up to
// workers goroutines each evaluate with an instance of their own, the first with st.Session(fn)
// and the others with extra sessions taken only when the pool can give them without waiting
// (udf.Statement.TrySession), so statements can never deadlock on instances; the limit is
// 2*workers.
func newEvaluator(ctx context.Context, st *udf.Statement, fn *udf.Function, parallel bool, workers int) *evaluator {
	e := &evaluator{parent: ctx, st: st, fn: fn, parallel: parallel && workers > 1, workers: max(workers, 1)}
	e.ctx, e.cancel = context.WithCancel(ctx)
	if !e.parallel {
		e.workers = 1
	}
	e.limit = 2 * e.workers
	if e.parallel {
		e.jobs = make(chan *evalJob, e.limit)
	}
	return e
}

// Put queues a batch of rows rows with argument columns args (the evaluator owns them until their
// result comes back from Next) and a tag the caller gets back with the result. When the number of
// batches in flight reaches the limit, Put does not wait for room: the caller must call Next
// first, and Full reports it. (A Put past the limit is not lost: at worst it waits until a worker
// takes a batch, which every worker does within its call's time limit.)
func (e *evaluator) Put(rows int, args []udf.Column, tag any) {
	j := &evalJob{rows: rows, args: args, tag: tag}
	e.queue = append(e.queue, j)
	if !e.parallel || e.closed {
		return
	}
	j.done = make(chan struct{})
	e.jobs <- j
	switch {
	case e.started == 0:
		e.start(e.st.Session(e.fn), false)
	case e.started < e.workers && len(e.queue) > e.started && e.primed.Load() && !e.refused.Load():
		e.start(nil, true)
	}
}

// Full reports whether the batches in flight have reached the limit: Next must come before the
// next Put.
func (e *evaluator) Full() bool { return len(e.queue) >= e.limit }

// Pending reports the batches put and not yet taken by Next.
func (e *evaluator) Pending() int { return len(e.queue) }

// Next waits for the result of the oldest batch put and not yet taken: its result column, the
// args and tag it was put with (so the caller can reuse the columns: no worker reads them any
// more), and the error of that batch (a udf error: row error, trap, timeout, cancellation...).
// After an error, Close ends the rest.
func (e *evaluator) Next() (res udf.Column, args []udf.Column, tag any, err error) {
	if len(e.queue) == 0 {
		return udf.Column{}, nil, nil, errors.New("evaluator: Next with no batch pending")
	}
	j := e.queue[0]
	e.queue[0] = nil
	e.queue = e.queue[1:]
	if j.done != nil {
		<-j.done
	} else {
		e.eval(e.st.Session(e.fn), j)
	}
	return j.res, j.args, j.tag, j.err
}

// Close stops the workers (a guest call running is canceled) and waits for them; the extra
// sessions' instances are reset and returned to the pool. The statement's own session stays
// open: udf.Statement.Close closes it. Batches not taken are dropped.
func (e *evaluator) Close() {
	if e.closed {
		return
	}
	e.closed = true
	e.cancel()
	if e.jobs != nil {
		close(e.jobs)
	}
	e.wg.Wait()
	e.queue = nil
}

// workerCount reports the workers evaluating, for tests and EXPLAIN ANALYZE: 1 without
// parallelism (or before the first batch), else 1 plus the extra sessions taken.
func (e *evaluator) workerCount() int { return 1 + int(e.extras.Load()) }

// start starts a worker on s, or with extra on an extra session it takes itself (so the caller
// never waits for an instance to be created).
func (e *evaluator) start(s *udf.Session, extra bool) {
	e.started++
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if extra {
			var ok bool
			if s, ok = e.st.TrySession(e.ctx, e.fn); !ok {
				e.refused.Store(true)
				return
			}
			e.extras.Add(1)
			defer s.Close()
		}
		e.work(s, !extra)
	}()
}

// work evaluates the batches of the channel until Close closes it; the first worker (first)
// primes the evaluator with its first success. A panic (a bug) fails its batch and every later
// one of this worker, so Next never waits for a batch no one evaluates.
func (e *evaluator) work(s *udf.Session, first bool) {
	var broken error
	for j := range e.jobs {
		if broken != nil {
			j.err = broken
		} else if p := e.evalRecover(s, j); p != nil {
			broken = p
		}
		if first && j.err == nil && !e.primed.Load() {
			e.primed.Store(true)
		}
		close(j.done)
	}
}

// evalRecover is eval with a panic turned into the batch's error, which it also returns.
func (e *evaluator) evalRecover(s *udf.Session, j *evalJob) (panicked error) {
	defer func() {
		if r := recover(); r != nil {
			j.err = fmt.Errorf("%s: internal error evaluating a batch: %v\n%s", e.fn.Name(), r, debug.Stack())
			panicked = j.err
		}
	}()
	e.eval(s, j)
	return nil
}

// eval evaluates one batch with s; once the statement is canceled (or the evaluator closed), a
// batch fails at once without a guest call.
func (e *evaluator) eval(s *udf.Session, j *evalJob) {
	if err := e.ctx.Err(); err != nil {
		j.err = e.canceled()
		return
	}
	j.res, j.err = s.Eval(e.ctx, j.rows, j.args...)
}

// canceled is the error of a batch not evaluated because the statement was canceled, as udf
// words it for a call that was.
func (e *evaluator) canceled() error {
	msg := "canceling statement due to user request"
	if errors.Is(e.parent.Err(), context.DeadlineExceeded) {
		msg = "canceling statement due to statement timeout"
	}
	err := e.parent.Err()
	if err == nil {
		err = context.Canceled // the evaluator was closed
	}
	return &udf.Error{Kind: udf.KindCanceled, Function: e.fn.Name(), Row: -1, Message: msg, Err: err}
}
