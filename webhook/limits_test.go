package webhook

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestLimitsForgetOnlyIdleEndpoints: when the per-endpoint table is pruned, an endpoint
// with a request open keeps its entry, so its concurrency limit still holds.
func TestLimitsForgetOnlyIdleEndpoints(t *testing.T) {
	l := newLimits(1, 0)
	ctx := context.Background()
	release, err := l.acquire(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10001 {
		r, err := l.acquire(ctx, "idle-"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		r()
	}
	// The table is pruned by now; "busy" still has its request open.
	if n := len(l.by); n > 10002 || n < 1 {
		t.Fatalf("%d entries", n)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if r, err := l.acquire(wctx, "busy"); err == nil {
		r()
		t.Fatal("a second request to an endpoint limited to one went through after the table was pruned")
	}
	release()
	r, err := l.acquire(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	r()
}

// TestLimitsPruningKeepsRateState: an endpoint that just used its burst keeps its rate
// limiter when the table is pruned: a fresh entry would let a whole new burst through
// at once.
func TestLimitsPruningKeepsRateState(t *testing.T) {
	l := newLimits(10, 1) // one request a second, burst 1
	ctx := context.Background()
	r, err := l.acquire(ctx, "hot")
	if err != nil {
		t.Fatal(err)
	}
	r() // idle now, its token spent
	for i := range maxLimits + 2 {
		r, err := l.acquire(ctx, "other-"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		r()
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if r, err := l.acquire(wctx, "hot"); err == nil {
		r()
		t.Fatal("a second request within the second went through: the pruned table gave the endpoint a new burst")
	}
}
