package pubsub

import (
	"sync"
	"sync/atomic"
)

// Share is what one delivered item (an event, a changed case) becomes for one class of
// subscribers: subscribers registered with the same non-empty class promise that they
// turn an item into the same value (for GraphQL: the same selection seen in the same
// way, so the same response). The hub makes one Share per item and class in each
// delivery round and hands it, with the item, to every subscriber of that class;
// whichever of them needs the value first computes it, the others reuse it. So an
// event watched by 10,000 subscribers in one class is executed and marshaled once.
//
// A nil *Share shares nothing: Get always computes.
type Share struct {
	done atomic.Bool
	mu   sync.Mutex
	v    any
}

// Get returns the class's value for the item, computing it with compute unless an
// earlier call succeeded; computed reports whether this call ran compute. Concurrent
// callers wait for the one computing. A computation that reports ok false (its caller
// went away mid-way) is not kept: the next caller computes again, and this caller gets
// (nil, false, true).
func (s *Share) Get(compute func() (v any, ok bool)) (v any, ok, computed bool) {
	if s == nil {
		v, ok = compute()
		return v, ok, true
	}
	if s.done.Load() {
		return s.v, true, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done.Load() {
		return s.v, true, false
	}
	if v, ok = compute(); !ok {
		return nil, false, true
	}
	s.v = v
	s.done.Store(true)
	return v, true, true
}

// Value returns the class's value if a Get computed it, without computing.
func (s *Share) Value() (any, bool) {
	if s == nil || !s.done.Load() {
		return nil, false
	}
	return s.v, true
}

// shares hands out the Shares of one item in a delivery round, one per class.
type shares map[string]*Share

// of returns class's Share, creating it; nil (no sharing) for the empty class.
func (m *shares) of(class string) *Share {
	if class == "" {
		return nil
	}
	if *m == nil {
		*m = shares{}
	}
	s := (*m)[class]
	if s == nil {
		s = &Share{}
		(*m)[class] = s
	}
	return s
}
