package auth

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"resolutioncenter/dispute"
)

// Throttle limits failed authentications per client address: each address may fail
// Burst times at once and then Rate times per second (golang.org/x/time/rate buckets).
// An address over its budget is refused before any lookup, so guessing tokens costs
// the server no SQL; a token already in the principal cache still passes. The zero
// Rate disables it. An IPv6 client, counted by its /64, is also held to its /48's
// aggregate budget (AggregateFactor times Rate and Burst; see Begin).
type Throttle struct {
	Rate  float64
	Burst int

	mu      sync.Mutex
	addrs   map[string]*throttled
	parents map[string]*throttled // the aggregates of IPv6 /64s: their /48s (AggregateAddr)
	now     func() time.Time
}

// throttled is an address's budget of failures, and its attempts under way (each
// counts as a failure until it ends otherwise).
type throttled struct {
	l        *rate.Limiter
	inflight int
	ended    chan struct{} // closed (and replaced) when an attempt under way ends
}

// maxThrottled bounds the addresses remembered (and, apart, the aggregates); past it, those whose budget has
// refilled are forgotten (they hold no information), and then the oldest half.
const maxThrottled = 100000

// ThrottledError refuses a request from an address that failed too often.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed authentications from this address: retry in %d s", e.Seconds())
}

// Seconds is RetryAfter rounded up to whole seconds (at least 1), for Retry-After.
func (e *ThrottledError) Seconds() int { return max(1, int(math.Ceil(e.RetryAfter.Seconds()))) }

// Unwrap makes the error RATE_LIMITED for dispute.CodeOf.
func (e *ThrottledError) Unwrap() error { return dispute.RateLimited(e.Error()) }

func (t *Throttle) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// Begin starts an authentication attempt from addr that may fail. When addr's
// budget has no failure left it returns how long to wait (nothing started). When the
// attempts already under way could together spend what is left, it waits for one of
// them to end first (or for ctx): an attempt counts against the budget while it runs,
// so that a burst of concurrent attempts cannot all pass a check that none of them has
// failed yet, while good ones from one address (many users behind one NAT) only queue
// for a moment. Otherwise it returns end, which the caller must call once with whether
// the attempt failed (a failure is then taken from the budget).
//
// An IPv6 /64 is also held to the aggregate budget of its /48 (AggregateAddr,
// AggregateFactor times Rate and Burst), with the same rules: an attempt must find a
// failure left at both levels, counts as under way at both, and a failure is taken
// from both. A refusal by either level takes nothing from the other.
func (t *Throttle) Begin(ctx context.Context, addr string) (end func(failed bool), wait time.Duration, err error) {
	if t == nil || t.Rate <= 0 {
		return func(bool) {}, 0, nil
	}
	parent := AggregateAddr(addr)
	for {
		now := t.clock()
		t.mu.Lock()
		levels := t.levels(addr, parent, now)
		for _, e := range levels {
			if tokens := e.l.TokensAt(now); tokens < 1 {
				wait = max(wait, time.Duration((1-tokens)/float64(e.l.Limit())*float64(time.Second)))
			}
		}
		if wait > 0 {
			t.mu.Unlock()
			return nil, wait, nil
		}
		var ended []chan struct{} // of the levels whose failures left are all under way
		for _, e := range levels {
			if e.l.TokensAt(now)-float64(e.inflight) < 1 {
				ended = append(ended, e.ended)
			}
		}
		if len(ended) == 0 {
			for _, e := range levels {
				e.inflight++
			}
			t.mu.Unlock()
			return func(failed bool) {
				if failed {
					for _, e := range levels {
						e.l.AllowN(t.clock(), 1)
					}
				}
				t.mu.Lock()
				for _, e := range levels {
					e.inflight--
					close(e.ended)
					e.ended = make(chan struct{})
				}
				t.mu.Unlock()
			}, 0, nil
		}
		t.mu.Unlock()
		var other chan struct{} // nil (never ready) with one level waited for
		if len(ended) > 1 {
			other = ended[1]
		}
		select {
		case <-ended[0]:
		case <-other:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// Fail records a failed authentication from addr that did not Begin (at both levels,
// as Begin).
func (t *Throttle) Fail(addr string) {
	if t == nil || t.Rate <= 0 {
		return
	}
	now := t.clock()
	t.mu.Lock()
	levels := t.levels(addr, AggregateAddr(addr), now)
	t.mu.Unlock()
	for _, e := range levels {
		e.l.AllowN(now, 1)
	}
}

// levels returns addr's budget, and that of its aggregate parent when there is one
// (parent != ""). The caller holds mu.
func (t *Throttle) levels(addr, parent string, now time.Time) []*throttled {
	if t.addrs == nil {
		t.addrs = map[string]*throttled{}
	}
	levels := []*throttled{t.entry(t.addrs, addr, t.Rate, t.Burst, now)}
	if parent != "" {
		if t.parents == nil {
			t.parents = map[string]*throttled{}
		}
		levels = append(levels, t.entry(t.parents, parent, t.Rate*AggregateFactor, max(1, t.Burst)*AggregateFactor, now))
	}
	return levels
}

// entry returns addr's budget in table m (addrs or parents), made when missing with
// the given rate and burst. The caller holds mu.
func (t *Throttle) entry(m map[string]*throttled, addr string, r float64, burst int, now time.Time) *throttled {
	e := m[addr]
	if e == nil {
		if len(m) >= maxThrottled {
			forget(m, now)
		}
		e = &throttled{l: rate.NewLimiter(rate.Limit(r), max(1, burst)), ended: make(chan struct{})}
		m[addr] = e
	}
	return e
}

// forget drops from m the keys whose budget has refilled, then (if still full) half of
// the rest. The caller holds mu.
func forget(m map[string]*throttled, now time.Time) {
	for a, e := range m {
		if e.inflight == 0 && e.l.TokensAt(now) >= float64(e.l.Burst()) {
			delete(m, a)
		}
	}
	n := len(m) / 2
	for a, e := range m {
		if len(m) <= n || len(m) < maxThrottled {
			break
		}
		if e.inflight == 0 {
			delete(m, a)
		}
	}
}

// failureLog reports authentication failures as a rate-limited summary instead of a
// line each: the first failure of a quiet period is logged at once, the rest are
// counted and summarized in one line at the end of the period. A database outage of
// 20 s wrote 4,932 ERROR lines before; now it writes a handful.
type failureLog struct {
	logger *slog.Logger
	every  time.Duration

	mu        sync.Mutex
	open      bool // a period is running: count instead of logging
	badTokens int
	throttled int
	errors    int
	lastErr   error
	addrs     map[string]struct{}
}

const failureLogPeriod = 10 * time.Second

func (f *failureLog) record(ctx context.Context, addr string, kind string, err error) {
	if f == nil || f.logger == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open {
		f.open = true
		every := f.every
		if every <= 0 {
			every = failureLogPeriod
		}
		time.AfterFunc(every, f.flush)
		level, msg := slog.LevelWarn, "authentication failed"
		if kind == "error" {
			level, msg = slog.LevelError, "authentication unavailable"
		}
		f.logger.Log(ctx, level, msg, "reason", kind, "err", err, "next_summary_in", every.String())
		return
	}
	if f.addrs == nil {
		f.addrs = map[string]struct{}{}
	}
	if len(f.addrs) < 10000 {
		f.addrs[addr] = struct{}{}
	}
	switch kind {
	case "bad_token":
		f.badTokens++
	case "throttled":
		f.throttled++
	default:
		f.errors++
		f.lastErr = err
	}
}

// flush ends the period with one summary line, if anything happened during it.
func (f *failureLog) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.badTokens + f.throttled + f.errors
	if n > 0 {
		level := slog.LevelWarn
		if f.errors > 0 {
			level = slog.LevelError
		}
		f.logger.Log(context.Background(), level, "authentication failures (summary)", "bad_tokens", f.badTokens,
			"throttled", f.throttled, "lookup_errors", f.errors, "last_err", f.lastErr, "addresses", len(f.addrs),
			"period", f.every.String())
	}
	f.open, f.badTokens, f.throttled, f.errors, f.lastErr, f.addrs = false, 0, 0, 0, nil, nil
}
