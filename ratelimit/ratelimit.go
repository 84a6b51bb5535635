// Package ratelimit is a per-key token bucket: each key earns Rate units per second up
// to Burst, and each operation spends its cost. Idle keys are forgotten. A key may be
// held to an aggregate budget as well, shared with other keys (TakeWithin).
//
// ratelimit imports nothing of this module.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter holds one bucket per key. The zero Rate disables limiting.
type Limiter struct {
	Rate  float64 // units earned per second
	Burst float64 // most units a key can save
	Now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	calls   int
}

type bucket struct {
	tokens float64
	at     time.Time
	scale  float64 // of Rate and Burst: 1, or an aggregate's (TakeWithin)
}

// New returns a limiter earning rate units per second up to burst.
func New(rate, burst float64) *Limiter {
	return &Limiter{Rate: rate, Burst: burst, Now: time.Now, buckets: map[string]*bucket{}}
}

// Take spends cost units of key's budget. When the budget is short it spends nothing
// and returns false with the time after which the same cost would be accepted. A cost
// above Burst is charged as Burst, so a single legal operation is never refused forever.
func (l *Limiter) Take(key string, cost float64) (bool, time.Duration) {
	return l.TakeWithin(key, "", 0, cost)
}

// TakeWithin is Take against two budgets at once: key's, and that of parent, an
// aggregate of several keys which earns scale times Rate up to scale times Burst (its
// key must not be used for anything else). The cost is spent from both, or, when
// either is short, from neither, with the time after which both would accept it. An
// empty parent is Take.
func (l *Limiter) TakeWithin(key, parent string, scale, cost float64) (bool, time.Duration) {
	if l == nil || l.Rate <= 0 {
		return true, 0
	}
	cost = math.Min(math.Max(cost, 1), l.Burst)
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%4096 == 0 {
		l.forget(now)
	}
	b := l.refill(key, 1, now)
	ok := b.tokens >= cost
	var wait time.Duration
	if !ok {
		wait = time.Duration((cost - b.tokens) / l.Rate * float64(time.Second))
	}
	var pb *bucket
	if parent != "" {
		pb = l.refill(parent, scale, now)
		if pb.tokens < cost {
			ok = false
			wait = max(wait, time.Duration((cost-pb.tokens)/(l.Rate*scale)*float64(time.Second)))
		}
	}
	if !ok {
		return false, wait
	}
	b.tokens -= cost
	if pb != nil {
		pb.tokens -= cost
	}
	return true, 0
}

// refill returns key's bucket (made full when missing) with what it earned since it
// was last seen. The caller holds mu.
func (l *Limiter) refill(key string, scale float64, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.Burst * scale, at: now, scale: scale}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.Burst*b.scale, b.tokens+now.Sub(b.at).Seconds()*l.Rate*b.scale)
	b.at = now
	return b
}

// forget drops buckets that have refilled completely: they hold no information.
func (l *Limiter) forget(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.Rate*b.scale >= l.Burst*b.scale {
			delete(l.buckets, k)
		}
	}
}

// Len returns the number of remembered keys.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
