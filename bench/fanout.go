package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runFanout: N subscribers on -fanout-cases cases while customers respond on those
// cases at -rate actions per second. Latency is commit to delivery: the receive time
// minus the event's createdAt (same machine clock; createdAt has millisecond
// precision). Requests are deliveries; sql/req is per action.
func (e *env) runFanout(ctx context.Context) (Result, error) {
	cases, err := e.listCases(ctx, e.opts.FanoutCases, "MERCHANT_RESPONSE_NEEDED")
	if err != nil {
		return Result{}, err
	}
	users := make([]string, len(cases))
	ids := make([]string, len(cases))
	for i, c := range cases {
		users[i], ids[i] = c.UserID, c.ID
	}
	toks, err := e.userTokens(ctx, users)
	if err != nil {
		return Result{}, err
	}
	act := func(ctx context.Context, i int) error {
		k := i % len(cases)
		body := encodeRequest(respondMutation, map[string]any{"input": map[string]any{
			"resolutionId": cases[k].ID, "message": fmt.Sprintf("bench fanout action %d", i)}})
		return e.post(body, toks[cases[k].UserID])(ctx)
	}
	n := e.opts.Subscribers
	base := snapshot(ctx, e.probes, e.opts.PGDatabase)
	e.logf("fanout: opening %d subscriptions on %d case(s) across %d server(s)", n, len(cases), len(e.opts.URLs))
	subs, err := e.openSubscribers(ctx, n, ids)
	if err != nil {
		return Result{}, err
	}
	defer subs.close()
	perAction := func(i int) int64 { return int64(subs.perCase[i%len(cases)]) }
	sentinels, err := subs.confirm(ctx, act, len(cases))
	if err != nil {
		return Result{}, err
	}
	subscribed := snapshot(ctx, e.probes, e.opts.PGDatabase)
	if e.opts.Warmup > 0 {
		t0 := subs.d.total.Load()
		w := drive(ctx, e.opts.Rate, e.opts.Warmup, act, perAction)
		subs.d.waitTotal(t0+w.expected, 5*time.Second)
	}
	e.logf("fanout: %s at %.1f actions/s", e.opts.Duration, e.opts.Rate)
	before := snapshot(ctx, e.probes, e.opts.PGDatabase)
	cpu0 := selfCPUSeconds()
	subs.d.recording.Store(true)
	profiled := e.startProfile(ctx, "fanout", e.opts.Duration)
	defer profiled()
	dr := drive(ctx, e.opts.Rate, e.opts.Duration, act, perAction)
	drained := subs.d.waitCount(dr.expected, 10*time.Second)
	subs.d.recording.Store(false)
	after := snapshot(ctx, e.probes, e.opts.PGDatabase)

	got := subs.d.count.Load()
	r := Result{Scenario: "fanout", Engine: e.opts.Engine, Seconds: dr.elapsed.Seconds(), Requests: got,
		ClientCPU: selfCPUSeconds() - cpu0}
	r.RPS = float64(got) / dr.elapsed.Seconds()
	r.setLatency(subs.d.lag.Summary())
	missing := max(0, dr.expected-got)
	r.Errors = subs.d.errors.Load() + dr.errors + missing
	r.ErrorSamples = append(subs.d.elog.samples, dr.elog.samples...)
	if missing > 0 {
		r.ErrorSamples = append(r.ErrorSamples, fmt.Sprintf("%d of %d deliveries missing after %s", missing, dr.expected, drained))
	}
	e.serverFigures(&r, before, after, dr.committed)
	as := dr.lat.Summary()
	r.extra("subscribers", n)
	r.extra("servers", len(e.opts.URLs))
	r.extra("actions", dr.committed)
	r.extra("action_p50_ms", msOf(as.P50))
	r.extra("action_p99_ms", msOf(as.P99))
	r.extra("setup_s", subs.setup.Seconds())
	r.extra("sentinel_actions", sentinels)
	e.memoryFigures(&r, base, subscribed, n)
	if q := lagQuantiles(before, after, 0.5, 0.99); !math.IsNaN(q[0]) {
		r.extra("server_lag_p50_ms", 1000*q[0])
		r.extra("server_lag_p99_ms", 1000*q[1])
	}
	return r, nil
}

// runIdle: N idle subscriptions on one case; the figure of interest is the server's
// memory per subscription, and its CPU while they idle (keep-alive pings).
func (e *env) runIdle(ctx context.Context) (Result, error) {
	cases, err := e.listCases(ctx, 1, "MERCHANT_RESPONSE_NEEDED")
	if err != nil {
		return Result{}, err
	}
	toks, err := e.userTokens(ctx, []string{cases[0].UserID})
	if err != nil {
		return Result{}, err
	}
	sentinel := e.post(encodeRequest(respondMutation, map[string]any{"input": map[string]any{
		"resolutionId": cases[0].ID, "message": "bench idle sentinel"}}), toks[cases[0].UserID])
	n := e.opts.IdleSubscribers
	base := snapshot(ctx, e.probes, e.opts.PGDatabase)
	e.logf("idle: opening %d subscriptions", n)
	subs, err := e.openSubscribers(ctx, n, []string{cases[0].ID})
	if err != nil {
		return Result{}, err
	}
	defer subs.close()
	if _, err := subs.confirm(ctx, func(ctx context.Context, _ int) error { return sentinel(ctx) }, 1); err != nil {
		return Result{}, err
	}
	before := snapshot(ctx, e.probes, e.opts.PGDatabase)
	cpu0 := selfCPUSeconds()
	e.logf("idle: holding %d subscriptions for %s", n, e.opts.Duration)
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(e.opts.Duration):
	}
	after := snapshot(ctx, e.probes, e.opts.PGDatabase)
	r := Result{Scenario: "idle", Engine: e.opts.Engine, Seconds: time.Since(start).Seconds(), Requests: int64(n),
		NoLatency: true, Errors: subs.d.errors.Load(), ErrorSamples: subs.d.elog.samples, ClientCPU: selfCPUSeconds() - cpu0}
	e.serverFigures(&r, before, after, 0)
	r.extra("subscribers", n)
	r.extra("setup_s", subs.setup.Seconds())
	e.memoryFigures(&r, base, after, n)
	return r, nil
}

// memoryFigures reports the servers' RSS growth per subscription and the load
// generator's own RSS.
func (e *env) memoryFigures(r *Result, base, subscribed Snapshot, n int) {
	if base.HaveRSS && subscribed.HaveRSS && n > 0 {
		r.extra("rss_base_mb", base.RSS/(1<<20))
		r.extra("rss_subscribed_mb", subscribed.RSS/(1<<20))
		r.extra("rss_kb_per_sub", (subscribed.RSS-base.RSS)/1024/float64(n))
	}
	if base.HaveGoMem && subscribed.HaveGoMem && n > 0 {
		r.extra("go_heap_stack_kb_per_sub", (subscribed.GoMem-base.GoMem)/1024/float64(n))
	}
	if rss, err := procRSSBytes(os.Getpid()); err == nil {
		r.extra("client_rss_mb", rss/(1<<20))
	}
}

// driveResult is what the action driver did.
type driveResult struct {
	committed, errors, expected int64
	lat                         Samples
	elog                        errorLog
	elapsed                     time.Duration
}

// drive calls act at a fixed rate (open loop: a slow action does not delay the next)
// for d, waits for the actions in flight, and sums the deliveries expected.
func drive(ctx context.Context, rate float64, d time.Duration, act func(context.Context, int) error,
	perAction func(int) int64) *driveResult {
	res := &driveResult{}
	var wg sync.WaitGroup
	var committed, errs, expected atomic.Int64
	interval := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	end := start.Add(d)
loop:
	for i := 0; ; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t0 := time.Now()
			if err := act(ctx, i); err != nil {
				errs.Add(1)
				res.elog.add(err)
				return
			}
			res.lat.Add(time.Since(t0))
			committed.Add(1)
			expected.Add(perAction(i))
		}(i)
		select {
		case <-ctx.Done():
			break loop
		case t := <-tick.C:
			if !t.Before(end) {
				break loop
			}
		}
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.committed, res.errors, res.expected = committed.Load(), errs.Load(), expected.Load()
	return res
}

// waitCount waits until want deliveries were recorded or timeout passes, and returns
// how long it waited.
func (d *deliveries) waitCount(want int64, timeout time.Duration) time.Duration {
	start := time.Now()
	for d.count.Load() < want && time.Since(start) < timeout {
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// waitTotal waits for the warm-up's deliveries (counted whether recording or not).
func (d *deliveries) waitTotal(want int64, timeout time.Duration) {
	start := time.Now()
	for d.total.Load() < want && time.Since(start) < timeout {
		time.Sleep(5 * time.Millisecond)
	}
}
