package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Samples collects latencies from many goroutines. Each worker appends to its own
// shard, so recording does not contend; Merge combines them once the run is over.
type Samples struct {
	mu     sync.Mutex
	values []time.Duration
}

// Add records one latency; safe for concurrent use.
func (s *Samples) Add(d time.Duration) {
	s.mu.Lock()
	s.values = append(s.values, d)
	s.mu.Unlock()
}

// AddAll records many latencies at once.
func (s *Samples) AddAll(ds []time.Duration) {
	s.mu.Lock()
	s.values = append(s.values, ds...)
	s.mu.Unlock()
}

// Summary returns the distribution of what was recorded.
func (s *Samples) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Summarize(s.values)
}

// Summary is a latency distribution.
type Summary struct {
	Count          int
	Min, Mean, Max time.Duration
	P50, P95, P99  time.Duration
}

// Summarize sorts a copy of ds and returns its percentiles (nearest rank).
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	v := slices.Clone(ds)
	slices.Sort(v)
	var sum float64
	for _, d := range v {
		sum += float64(d)
	}
	return Summary{
		Count: len(v),
		Min:   v[0],
		Max:   v[len(v)-1],
		Mean:  time.Duration(sum / float64(len(v))),
		P50:   percentile(v, 50),
		P95:   percentile(v, 95),
		P99:   percentile(v, 99),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted: the smallest value
// with at least p% of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// histogramQuantile estimates the q-quantile (0..1) of a Prometheus histogram from its
// cumulative bucket counts (upper bounds ascending, +Inf last), interpolating linearly
// inside the bucket like PromQL's histogram_quantile. It returns NaN without samples.
func histogramQuantile(q float64, bounds []float64, cumulative []float64) float64 {
	if len(bounds) == 0 || len(bounds) != len(cumulative) {
		return math.NaN()
	}
	total := cumulative[len(cumulative)-1]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	for i, c := range cumulative {
		if c < rank {
			continue
		}
		if math.IsInf(bounds[i], 1) {
			if i == 0 {
				return math.NaN()
			}
			return bounds[i-1] // the highest finite bound, as PromQL does
		}
		lower, below := 0.0, 0.0
		if i > 0 {
			lower, below = bounds[i-1], cumulative[i-1]
		}
		if c == below {
			return bounds[i]
		}
		return lower + (bounds[i]-lower)*(rank-below)/(c-below)
	}
	return bounds[len(bounds)-1]
}
