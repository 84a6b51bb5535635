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
// Rate disables it.
type Throttle struct {
	Rate  float64
	Burst int

	mu    sync.Mutex
	addrs map[string]*throttled
	now   func() time.Time
}

// throttled is an address's budget of failures, and its attempts under way (each
// counts as a failure until it ends otherwise).
type throttled struct {
	l        *rate.Limiter
	inflight int
	ended    chan struct{} // closed (and replaced) when an attempt under way ends
}

// maxThrottled bounds the addresses remembered; past it, those whose budget has
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
func (t *Throttle) Begin(ctx context.Context, addr string) (end func(failed bool), wait time.Duration, err error) {
	if t == nil || t.Rate <= 0 {
		return func(bool) {}, 0, nil
	}
	for {
		now := t.clock()
		t.mu.Lock()
		e := t.entry(addr, now)
		tokens := e.l.TokensAt(now)
		if tokens < 1 {
			t.mu.Unlock()
			return nil, time.Duration((1 - tokens) / t.Rate * float64(time.Second)), nil
		}
		if tokens-float64(e.inflight) >= 1 {
			e.inflight++
			t.mu.Unlock()
			return func(failed bool) {
				if failed {
					e.l.AllowN(t.clock(), 1)
				}
				t.mu.Lock()
				e.inflight--
				close(e.ended)
				e.ended = make(chan struct{})
				t.mu.Unlock()
			}, 0, nil
		}
		ended := e.ended
		t.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// Fail records a failed authentication from addr that did not Begin.
func (t *Throttle) Fail(addr string) {
	if t == nil || t.Rate <= 0 {
		return
	}
	now := t.clock()
	t.mu.Lock()
	e := t.entry(addr, now)
	t.mu.Unlock()
	e.l.AllowN(now, 1)
}

// entry returns addr's budget, made when missing. The caller holds mu.
func (t *Throttle) entry(addr string, now time.Time) *throttled {
	if t.addrs == nil {
		t.addrs = map[string]*throttled{}
	}
	e := t.addrs[addr]
	if e == nil {
		if len(t.addrs) >= maxThrottled {
			t.forget(now)
		}
		e = &throttled{l: rate.NewLimiter(rate.Limit(t.Rate), max(1, t.Burst)), ended: make(chan struct{})}
		t.addrs[addr] = e
	}
	return e
}

// forget drops the addresses whose budget has refilled, then (if still full) half of
// the rest. The caller holds mu.
func (t *Throttle) forget(now time.Time) {
	for a, e := range t.addrs {
		if e.inflight == 0 && e.l.TokensAt(now) >= float64(e.l.Burst()) {
			delete(t.addrs, a)
		}
	}
	n := len(t.addrs) / 2
	for a, e := range t.addrs {
		if len(t.addrs) <= n || len(t.addrs) < maxThrottled {
			break
		}
		if e.inflight == 0 {
			delete(t.addrs, a)
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
