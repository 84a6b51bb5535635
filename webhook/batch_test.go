package webhook

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestBatcherMergesConcurrentCalls: calls made while the runner is busy go into one
// batch, each caller gets its own results in order, a lone call runs at once, and a
// failed batch fails each of its callers.
func TestBatcherMergesConcurrentCalls(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	b := newBatcher(100, time.Second, func(_ context.Context, items []int) ([]int, error) {
		mu.Lock()
		sizes = append(sizes, len(items))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			<-release // hold the runner so that the next calls queue
		}
		if slices.Contains(items, -1) {
			return nil, errors.New("bad item")
		}
		out := make([]int, len(items))
		for i, v := range items {
			out[i] = v * 10
		}
		return out, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.start(ctx, 1, &wg)
	defer func() { cancel(); wg.Wait() }()

	first := make(chan []int)
	go func() { r, _ := b.do(ctx, []int{1}); first <- r }()
	for { // the runner holds the first call
		mu.Lock()
		n := len(sizes)
		mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var calls sync.WaitGroup
	results := make([][]int, 5)
	for i := range 5 {
		calls.Add(1)
		go func() { defer calls.Done(); results[i], _ = b.do(ctx, []int{i, i + 100}) }()
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the first batch
	close(release)
	if r := <-first; !slices.Equal(r, []int{10}) {
		t.Errorf("first call: %v", r)
	}
	calls.Wait()
	for i, r := range results {
		if !slices.Equal(r, []int{i * 10, (i + 100) * 10}) {
			t.Errorf("call %d got %v", i, r)
		}
	}
	mu.Lock()
	if len(sizes) > 3 || sizes[1] < 4 {
		t.Errorf("batch sizes %v: the queued calls were not merged", sizes)
	}
	mu.Unlock()
	if _, err := b.do(ctx, []int{-1}); err == nil {
		t.Errorf("a failed batch returned no error")
	}
	if r, err := b.do(ctx, []int{7}); err != nil || !slices.Equal(r, []int{70}) {
		t.Errorf("after a failure: %v %v", r, err)
	}
}
