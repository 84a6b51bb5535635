package webhook

import (
	"testing"
	"time"
)

// TestSharesDeferOnlyWhenBusy: below busyAt running jobs a company may take any number
// of workers; from busyAt on, a company already running its share is deferred while
// another company (and a job without one) still runs; leaving frees the place.
func TestSharesDeferOnlyWhenBusy(t *testing.T) {
	f := newShares(16) // busy from 4 running jobs, a share of 2
	var leaves []func()
	for i := range 4 {
		leave, ok := f.enter("A")
		if !ok {
			t.Fatalf("job %d of A deferred below busyAt", i+1)
		}
		leaves = append(leaves, leave)
	}
	if _, ok := f.enter("A"); ok {
		t.Fatal("A ran a 5th job while busy with 4 of its own (share 2)")
	}
	for _, c := range []string{"B", "B", ""} {
		leave, ok := f.enter(c)
		if !ok {
			t.Fatalf("company %q deferred under its share", c)
		}
		leaves = append(leaves, leave)
	}
	if _, ok := f.enter("B"); ok {
		t.Fatal("B ran a 3rd job while busy (share 2)")
	}
	if _, ok := f.enter(""); !ok {
		t.Fatal("a job without a company was deferred")
	}
	for _, leave := range leaves {
		leave()
	}
	if f.running != 1 || len(f.by) != 1 { // the last job without a company is still running
		t.Fatalf("after leaving: running %d, by %v", f.running, f.by)
	}
}

// TestSharesSmallPools: with one worker nothing is deferred; with four, a company
// alone runs two jobs at once.
func TestSharesSmallPools(t *testing.T) {
	one := newShares(1)
	if _, ok := one.enter("A"); !ok {
		t.Fatal("the only job of a one-worker pool was deferred")
	}
	four := newShares(4)
	for i := range 2 {
		if _, ok := four.enter("A"); !ok {
			t.Fatalf("job %d of A deferred in an idle pool of four", i+1)
		}
	}
	if _, ok := four.enter("A"); ok {
		t.Fatal("A ran a third job in a pool of four, busy with two of its own")
	}
	if _, ok := four.enter("B"); !ok {
		t.Fatal("B deferred in a pool of four with two free workers")
	}
}

// TestDeferForGrows: a deferral doubles with the job's snoozes, from 1 s up to
// maxDefer, plus at most half again of jitter.
func TestDeferForGrows(t *testing.T) {
	for _, c := range []struct {
		meta string
		base time.Duration
	}{
		{`{}`, time.Second}, {``, time.Second}, {`{"snoozes":1}`, 2 * time.Second},
		{`{"snoozes":3}`, 8 * time.Second}, {`{"snoozes":50}`, maxDefer}, {`{"snoozes":-2}`, time.Second},
	} {
		for range 20 {
			if got := deferFor([]byte(c.meta)); got < c.base || got > c.base+c.base/2 {
				t.Fatalf("deferFor(%s) = %v, want %v to %v", c.meta, got, c.base, c.base+c.base/2)
			}
		}
	}
}
