package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRunLoop(t *testing.T) {
	run := runLoop(context.Background(), 4, 200*time.Millisecond, func(ctx context.Context, w, i int) error {
		time.Sleep(10 * time.Millisecond)
		if w == 0 && i%2 == 1 {
			return errors.New("odd")
		}
		return nil
	})
	// 4 workers x ~20 requests each.
	if run.Requests < 40 || run.Requests > 100 {
		t.Errorf("requests = %d", run.Requests)
	}
	if run.Errors < 5 || run.Errors > 15 {
		t.Errorf("errors = %d", run.Errors)
	}
	if len(run.ErrorSamples) != 1 || run.ErrorSamples[0] != "odd" {
		t.Errorf("error samples deduplicated: %v", run.ErrorSamples)
	}
	if int64(run.Latency.Count) != run.Requests-run.Errors {
		t.Errorf("latencies of successes only: %d vs %d", run.Latency.Count, run.Requests-run.Errors)
	}
	if run.Latency.P50 < 10*time.Millisecond {
		t.Errorf("p50 %v", run.Latency.P50)
	}
}

func TestRunLoopCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	runLoop(ctx, 2, time.Hour, func(ctx context.Context, w, i int) error {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
		return nil
	})
	if time.Since(start) > 5*time.Second {
		t.Fatal("runLoop did not stop on cancel")
	}
}
