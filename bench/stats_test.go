package main

import (
	"math"
	"sync"
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestSummarizePercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, unsorted
		ds = append(ds, ms(float64(i)))
	}
	s := Summarize(ds)
	want := map[string][2]time.Duration{"p50": {s.P50, ms(50)}, "p95": {s.P95, ms(95)}, "p99": {s.P99, ms(99)},
		"min": {s.Min, ms(1)}, "max": {s.Max, ms(100)}, "mean": {s.Mean, ms(50.5)}}
	for name, got := range want {
		if got[0] != got[1] {
			t.Errorf("%s = %v, want %v", name, got[0], got[1])
		}
	}
	if s.Count != 100 {
		t.Errorf("count = %d", s.Count)
	}
	if ds[0] != ms(100) {
		t.Error("Summarize sorted its input in place")
	}
}

func TestPercentileEdges(t *testing.T) {
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("empty: %+v", got)
	}
	one := Summarize([]time.Duration{ms(7)})
	if one.P50 != ms(7) || one.P99 != ms(7) {
		t.Errorf("one sample: %+v", one)
	}
	// Nearest rank: with 10 values p95 and p99 are the largest, p50 the fifth.
	var ten []time.Duration
	for i := 1; i <= 10; i++ {
		ten = append(ten, ms(float64(i)))
	}
	s := Summarize(ten)
	if s.P50 != ms(5) || s.P95 != ms(10) || s.P99 != ms(10) {
		t.Errorf("ten samples: p50 %v p95 %v p99 %v", s.P50, s.P95, s.P99)
	}
}

func TestSamplesConcurrent(t *testing.T) {
	var s Samples
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				s.Add(ms(1))
			}
			s.AddAll([]time.Duration{ms(2), ms(3)})
		}()
	}
	wg.Wait()
	if got := s.Summary().Count; got != 8*1002 {
		t.Fatalf("count = %d, want %d", got, 8*1002)
	}
}

func TestHistogramQuantile(t *testing.T) {
	bounds := []float64{0.001, 0.002, 0.004, math.Inf(1)}
	cum := []float64{50, 90, 100, 100}
	if got := histogramQuantile(0.5, bounds, cum); math.Abs(got-0.001) > 1e-12 {
		t.Errorf("p50 = %v, want 0.001", got)
	}
	if got := histogramQuantile(0.7, bounds, cum); math.Abs(got-0.0015) > 1e-12 {
		t.Errorf("p70 = %v, want 0.0015", got)
	}
	if got := histogramQuantile(0.99, bounds, cum); math.Abs(got-0.0038) > 1e-12 {
		t.Errorf("p99 = %v, want 0.0038", got)
	}
	if got := histogramQuantile(0.5, bounds, []float64{0, 0, 0, 0}); !math.IsNaN(got) {
		t.Errorf("empty histogram: %v, want NaN", got)
	}
	if got := histogramQuantile(0.99, bounds, []float64{0, 0, 0, 10}); got != 0.004 {
		t.Errorf("all in +Inf: %v, want the highest finite bound", got)
	}
}
