package webhook

import (
	"encoding/json"
	"sync"
	"time"
)

// shares keeps one company from taking the delivery workers that every company's
// deliveries share. A worker is held for as long as its job's attempts take, or
// while it waits for a slot at an endpoint: a company whose endpoints hang (or answer
// slowly, but within the timeout) could otherwise hold every worker, up to its
// endpoints' concurrency limits together (20 endpoints of 10 requests each are the
// default 200 workers), and other companies' deliveries would wait behind its own.
//
// Once the process runs busyAt jobs or more (a quarter of its workers, at least two), a
// job whose company already runs share of them (an eighth, at least one) is not run: it
// is deferred (snoozed, nothing claimed) and tried again later. Below busyAt nothing is
// deferred, so a company alone may use the idle workers. Jobs without a company
// (written by an earlier build) are never deferred.
type shares struct {
	busyAt, share int

	mu      sync.Mutex
	running int
	by      map[string]int
}

func newShares(workers int) *shares {
	// At least two busy: with a pool of a few workers, a company alone still runs two
	// jobs at once (and with one worker, deferring would free nothing for anyone).
	return &shares{busyAt: max(2, workers/4), share: max(1, workers/8), by: map[string]int{}}
}

// enter counts a job of company as running, or says it should be deferred. leave
// (called once) counts it out.
func (f *shares) enter(company string) (leave func(), ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if company != "" && f.running >= f.busyAt && f.by[company] >= f.share {
		return nil, false
	}
	f.running++
	f.by[company]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.running--
		if f.by[company]--; f.by[company] <= 0 {
			delete(f.by, company)
		}
	}, true
}

// deferFor is how long a deferred job waits before it is tried again: a second after its
// first snooze, doubling with each snooze the job has had (River counts them in its
// metadata), at most maxDefer, with up to half as much again of jitter. The growth keeps
// the deferrals of a large backlog (a company's endpoints that hang while its changes
// go on) from costing the queue a fetch and an update each second per job.
func deferFor(metadata []byte) time.Duration {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(metadata, &m)
	d := time.Second
	for i := 0; i < m.Snoozes && d < maxDefer; i++ {
		d *= 2
	}
	d = min(d, maxDefer)
	return d + jitter(d/2)
}

// maxDefer bounds one deferral.
const maxDefer = time.Minute
