package catalog

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Subscribers is the list behind a Store's Subscribe, for backends to keep: Subscribe adds to
// it, Notify delivers a change to each subscriber still subscribed. The zero value is ready.
type Subscribers struct {
	mu   sync.Mutex
	subs []*subscriber
}

type subscriber struct {
	fn     func(Change)
	active atomic.Bool
}

// Subscribe adds fn; cancel removes it, and after cancel returns fn is not called again (but a
// call already under way may finish). cancel may be called more than once, and from within fn.
func (s *Subscribers) Subscribe(fn func(Change)) (cancel func()) {
	if fn == nil {
		return func() {}
	}
	sub := &subscriber{fn: fn}
	sub.active.Store(true)
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	return func() {
		sub.active.Store(false)
		s.mu.Lock()
		s.subs = slices.DeleteFunc(s.subs, func(x *subscriber) bool { return x == sub })
		s.mu.Unlock()
	}
}

// Notify calls each active subscriber with its own copy of c, through call when call is not
// nil (a backend that recovers a subscriber's panic), in the caller's goroutine.
func (s *Subscribers) Notify(c Change, call func(fn func(Change), c Change)) {
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, sub := range subs {
		if !sub.active.Load() {
			continue
		}
		own := Change{Kind: c.Kind, Function: c.Function.Clone()}
		if call != nil {
			call(sub.fn, own)
		} else {
			sub.fn(own)
		}
	}
}

// Clone returns a copy of f that shares no slice or map with it.
func (f Function) Clone() Function {
	f.ArgNames = slices.Clone(f.ArgNames)
	f.ArgTypes = slices.Clone(f.ArgTypes)
	f.Options = maps.Clone(f.Options)
	return f
}
