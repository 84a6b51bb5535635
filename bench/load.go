package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// opFunc performs one request of a scenario. worker is 0..c-1 and iter counts the
// worker's requests, so scenarios can spread work without shared state.
type opFunc func(ctx context.Context, worker, iter int) error

// loadRun is what one closed-loop run observed.
type loadRun struct {
	Requests, Errors int64
	Latency          Summary
	ErrorSamples     []string
	Elapsed          time.Duration
}

const maxErrorSamples = 5

// errorLog keeps the first few distinct error messages.
type errorLog struct {
	mu      sync.Mutex
	samples []string
}

func (l *errorLog) add(err error) {
	msg := truncate(err.Error(), 300)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) >= maxErrorSamples {
		return
	}
	for _, s := range l.samples {
		if s == msg {
			return
		}
	}
	l.samples = append(l.samples, msg)
}

// runLoop runs fn in a closed loop on workers goroutines for d: each worker issues its
// next request as soon as the previous one answered. Requests in flight when d ends
// are completed and counted; the elapsed time runs until the last one answered.
func runLoop(ctx context.Context, workers int, d time.Duration, fn opFunc) loadRun {
	var (
		wg       sync.WaitGroup
		samples  Samples
		requests atomic.Int64
		errs     atomic.Int64
		elog     errorLog
	)
	start := time.Now()
	end := start.Add(d)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			for i := 0; ctx.Err() == nil && time.Now().Before(end); i++ {
				t0 := time.Now()
				err := fn(ctx, w, i)
				lat := time.Since(t0)
				if ctx.Err() != nil {
					break // interrupted: not a server error
				}
				requests.Add(1)
				if err != nil {
					errs.Add(1)
					elog.add(err)
					continue
				}
				local = append(local, lat)
			}
			samples.AddAll(local)
		}(w)
	}
	wg.Wait()
	return loadRun{Requests: requests.Load(), Errors: errs.Load(), Latency: samples.Summary(),
		ErrorSamples: elog.samples, Elapsed: time.Since(start)}
}

// measure runs a warm-up (not recorded), then the measured closed-loop run bracketed
// by server snapshots, and returns the scenario's result.
func (e *env) measure(ctx context.Context, name string, fn opFunc) Result {
	if e.opts.Warmup > 0 {
		e.logf("%s: warm-up %s", name, e.opts.Warmup)
		runLoop(ctx, e.opts.Concurrency, e.opts.Warmup, fn)
	}
	e.logf("%s: measuring %s with %d clients", name, e.opts.Duration, e.opts.Concurrency)
	before := snapshot(ctx, e.probes, e.opts.PGDatabase)
	cpu0 := selfCPUSeconds()
	profiled := e.startProfile(ctx, name, e.opts.Duration)
	run := runLoop(ctx, e.opts.Concurrency, e.opts.Duration, fn)
	cpu1 := selfCPUSeconds()
	defer profiled()
	after := snapshot(ctx, e.probes, e.opts.PGDatabase)
	r := Result{Scenario: name, Engine: e.opts.Engine, Seconds: run.Elapsed.Seconds(), Requests: run.Requests,
		Errors: run.Errors, ErrorSamples: run.ErrorSamples, ClientCPU: cpu1 - cpu0}
	if run.Elapsed > 0 {
		r.RPS = float64(run.Requests) / run.Elapsed.Seconds()
	}
	r.setLatency(run.Latency)
	e.serverFigures(&r, before, after, run.Requests)
	return r
}

// serverFigures fills the SQL, CPU and RSS columns from two snapshots.
func (e *env) serverFigures(r *Result, before, after Snapshot, requests int64) {
	if before.HaveSQL && after.HaveSQL && requests > 0 {
		r.SQLPerReq = ptr((after.SQL - before.SQL) / float64(requests))
	}
	if before.HaveCPU && after.HaveCPU {
		r.ServerCPU = ptr(after.CPU - before.CPU)
		if requests > 0 {
			r.extra("server_cpu_ms_per_req", 1000*(after.CPU-before.CPU)/float64(requests))
		}
	}
	// A backend that exits takes its CPU time along: a negative delta means unknown.
	if e.opts.Engine == "postgres" && before.HavePG && after.HavePG && after.PGCPU >= before.PGCPU {
		r.extra("postgres_cpu_s", after.PGCPU-before.PGCPU)
	}
	if after.HaveRSS {
		r.ServerRSSMB = ptr(after.RSS / (1 << 20))
	}
	// Which executor answered the queries (QUERY_PLANNER=false: neither counts).
	if before.HavePlanner && after.HavePlanner && (after.Planned > before.Planned || after.Fallbacks > before.Fallbacks) {
		r.extra("queries_planned", int64(after.Planned-before.Planned))
		r.extra("query_fallbacks", int64(after.Fallbacks-before.Fallbacks))
	}
}

func (r *Result) extra(k string, v any) {
	if r.Extra == nil {
		r.Extra = map[string]any{}
	}
	r.Extra[k] = v
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "bench: "+format+"\n", args...)
}
