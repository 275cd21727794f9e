package udf

import (
	"context"
	"errors"
	"sync"
	"time"
)

// pool holds the instances of one function: at most size exist at once, idle ones are reused
// last-in first-out, and an instance serves one session at a time. (Not sync.Pool: it drops items
// without closing them, and wazero keeps every unclosed instance alive.)
//
// A pool costs little until used: its slots are made at the first checkout (a registered
// function never called has one pool, idle).
type pool struct {
	size      int
	create    func(context.Context) (*instance, error)
	slotsOnce sync.Once
	slotsCh   chan struct{} // one token per existing-or-creatable instance in use; see slots

	mu     sync.Mutex
	idle   []*instance
	closed bool
}

var (
	errClosed = errors.New("function was dropped or replaced")
	errWoken  = errors.New("the wait for an instance was woken")
)

func (p *pool) init(size int, create func(context.Context) (*instance, error)) {
	p.size, p.create = size, create
}

func (p *pool) slots() chan struct{} {
	p.slotsOnce.Do(func() { p.slotsCh = make(chan struct{}, p.size) })
	return p.slotsCh
}

// get checks out an instance, waiting for a free slot while the pool is at its size. With
// lend, a caller that already holds instances (of this or other functions) does not wait: it
// gets an instance beyond the pool's size, so no two statements can wait for each other. A wait
// ends with the context, or with errWoken when wake is closed (the caller's statement came to
// hold an instance meanwhile: it asks again, lent this time).
func (p *pool) get(ctx context.Context, lend bool, wake <-chan struct{}) (*instance, error) {
	slot := true
	select {
	case p.slots() <- struct{}{}:
	default:
		if lend {
			slot = false
			break
		}
		select {
		case p.slots() <- struct{}{}:
		case <-wake:
			return nil, errWoken
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return p.take(ctx, slot)
}

// tryGet checks out an instance only if the pool can give one without waiting: a free slot,
// filled with an idle instance or a new one. It reports false when the pool is at its size, is
// closed, or the instance cannot be created (the memory budget, a broken module).
func (p *pool) tryGet(ctx context.Context) (*instance, bool) {
	select {
	case p.slots() <- struct{}{}:
	default:
		return nil, false
	}
	in, err := p.take(ctx, true)
	return in, err == nil
}

// take returns an idle instance or creates one, for a caller that holds a slot (slot) or was
// lent beyond the pool's size; on failure it gives the slot back.
func (p *pool) take(ctx context.Context, slot bool) (*instance, error) {
	release := func() {
		if slot {
			<-p.slots()
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		release()
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		in.slot = slot
		return in, nil
	}
	p.mu.Unlock()
	in, err := p.create(ctx)
	if err != nil {
		release()
		return nil, err
	}
	in.slot = slot
	return in, nil
}

// put returns an instance; one that is not reusable (broken, or not reset) is closed, and so is
// a lent one when the pool already keeps as many idle instances as its size.
func (p *pool) put(in *instance, reusable bool) {
	if in.slot {
		defer func() { <-p.slots() }()
	}
	if reusable {
		p.mu.Lock()
		if !p.closed && len(p.idle) < p.size {
			in.idleSince = time.Now()
			p.idle = append(p.idle, in)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	in.close()
}

// trim closes the instances idle since before the given time, reporting whether there were any.
func (p *pool) trim(before time.Time) bool {
	p.mu.Lock()
	var old []*instance
	keep := p.idle[:0]
	for _, in := range p.idle {
		if in.idleSince.Before(before) {
			old = append(old, in)
		} else {
			keep = append(keep, in)
		}
	}
	p.idle = keep
	p.mu.Unlock()
	for _, in := range old {
		in.close()
	}
	return len(old) > 0
}

// close closes the idle instances and makes put close the busy ones when they come back.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, in := range idle {
		in.close()
	}
}

// oldestIdle reports when the longest-idle instance became idle.
func (p *pool) oldestIdle() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		return time.Time{}, false
	}
	return p.idle[0].idleSince, true // LIFO: the first is the oldest
}

// closeOldest closes the longest-idle instance, reporting false when there was none.
func (p *pool) closeOldest() bool {
	p.mu.Lock()
	if len(p.idle) == 0 {
		p.mu.Unlock()
		return false
	}
	in := p.idle[0]
	p.idle = p.idle[1:]
	p.mu.Unlock()
	in.close()
	return true
}

// idleCount reports the idle instances.
func (p *pool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
