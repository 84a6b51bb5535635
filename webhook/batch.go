package webhook

import (
	"context"
	"sync"
	"time"
)

// batcher merges the database work of concurrent delivery jobs: River starts the jobs
// it fetches together, and each needs a claim and, after its requests, a record. A
// runner takes every request waiting when it is free (up to max items) and runs them
// as one batch, so a burst of changes costs a few statements instead of a few per
// delivery, while a lone request runs at once: there is no timer, only what queued
// while the runners were busy. River's own job completer batches the same way.
type batcher[T, R any] struct {
	in  chan *batchCall[T, R]
	max int
	// run executes one batch; its results are in the order of items.
	run func(ctx context.Context, items []T) ([]R, error)
	// timeout bounds one batch (the callers' contexts do not: a batch serves several).
	timeout time.Duration
}

type batchCall[T, R any] struct {
	items []T
	done  chan batchResult[R]
}

type batchResult[R any] struct {
	res []R
	err error
}

func newBatcher[T, R any](max int, timeout time.Duration, run func(context.Context, []T) ([]R, error)) *batcher[T, R] {
	return &batcher[T, R]{in: make(chan *batchCall[T, R]), max: max, run: run, timeout: timeout}
}

// start runs n runners until ctx ends; wait returns when they have.
func (b *batcher[T, R]) start(ctx context.Context, n int, wg *sync.WaitGroup) {
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); b.loop(ctx) }()
	}
}

// do runs items in a batch and returns their results.
func (b *batcher[T, R]) do(ctx context.Context, items []T) ([]R, error) {
	c := &batchCall[T, R]{items: items, done: make(chan batchResult[R], 1)}
	select {
	case b.in <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-c.done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *batcher[T, R]) loop(ctx context.Context) {
	for {
		var calls []*batchCall[T, R]
		select {
		case c := <-b.in:
			calls = append(calls, c)
		case <-ctx.Done():
			return
		}
		n := len(calls[0].items)
	drain:
		for n < b.max {
			select {
			case c := <-b.in:
				calls = append(calls, c)
				n += len(c.items)
			default:
				break drain
			}
		}
		items := calls[0].items
		if len(calls) > 1 {
			items = make([]T, 0, n)
			for _, c := range calls {
				items = append(items, c.items...)
			}
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.timeout)
		res, err := b.run(rctx, items)
		cancel()
		for _, c := range calls {
			r := batchResult[R]{err: err}
			if err == nil && res != nil {
				r.res, res = res[:len(c.items):len(c.items)], res[len(c.items):]
			}
			c.done <- r
		}
	}
}
