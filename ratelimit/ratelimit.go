// Package ratelimit is a per-key token bucket: each key earns Rate units per second up
// to Burst, and each operation spends its cost. Idle keys are forgotten.
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
}

// New returns a limiter earning rate units per second up to burst.
func New(rate, burst float64) *Limiter {
	return &Limiter{Rate: rate, Burst: burst, Now: time.Now, buckets: map[string]*bucket{}}
}

// Take spends cost units of key's budget. When the budget is short it spends nothing
// and returns false with the time after which the same cost would be accepted. A cost
// above Burst is charged as Burst, so a single legal operation is never refused forever.
func (l *Limiter) Take(key string, cost float64) (bool, time.Duration) {
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
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.Burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.Burst, b.tokens+now.Sub(b.at).Seconds()*l.Rate)
	b.at = now
	if b.tokens >= cost {
		b.tokens -= cost
		return true, 0
	}
	wait := time.Duration((cost - b.tokens) / l.Rate * float64(time.Second))
	return false, wait
}

// forget drops buckets that have refilled completely: they hold no information.
func (l *Limiter) forget(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.Rate >= l.Burst {
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
