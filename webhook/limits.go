package webhook

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits bounds what this process sends to each endpoint: at most concurrency open
// requests and (when set) rate requests per second, so that one slow or small
// receiver is not flooded and does not take every worker.
type limits struct {
	concurrency int
	rate        float64

	mu sync.Mutex
	by map[string]*endpointLimit
}

type endpointLimit struct {
	sem chan struct{}
	rl  *rate.Limiter
}

func newLimits(concurrency int, perSecond float64) *limits {
	return &limits{concurrency: concurrency, rate: perSecond, by: map[string]*endpointLimit{}}
}

// maxLimits is how many endpoints' entries the table holds before idle ones are
// forgotten.
const maxLimits = 10000

// acquire waits for a slot to send to endpoint id; release gives it back.
func (l *limits) acquire(ctx context.Context, id string) (release func(), err error) {
	l.mu.Lock()
	e := l.by[id]
	if e == nil {
		if len(l.by) > maxLimits { // forget idle endpoints now and then
			now := time.Now()
			for k, v := range l.by {
				// Not one with requests open (a new entry beside them would let as many
				// more through), nor one whose rate limiter has not refilled since its
				// last requests (a new entry would start with a full burst).
				if len(v.sem) == 0 && (v.rl == nil || v.rl.TokensAt(now) >= float64(v.rl.Burst())) {
					delete(l.by, k)
				}
			}
		}
		e = &endpointLimit{sem: make(chan struct{}, l.concurrency)}
		if l.rate > 0 {
			e.rl = rate.NewLimiter(rate.Limit(l.rate), max(1, int(l.rate)))
		}
		l.by[id] = e
	}
	l.mu.Unlock()
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.rl != nil {
		if err := e.rl.Wait(ctx); err != nil {
			<-e.sem
			return nil, err
		}
	}
	return func() { <-e.sem }, nil
}
