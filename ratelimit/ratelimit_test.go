package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestTakeSpendsAndRefills(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(10, 100)
	l.Now = func() time.Time { return now }
	if ok, _ := l.Take("a", 100); !ok {
		t.Fatal("a full bucket refused its burst")
	}
	ok, wait := l.Take("a", 50)
	if ok || wait != 5*time.Second {
		t.Fatalf("Take over budget = %v, %v; want false, 5s", ok, wait)
	}
	if ok, _ := l.Take("b", 100); !ok {
		t.Fatal("keys share a bucket")
	}
	now = now.Add(5 * time.Second)
	if ok, _ := l.Take("a", 50); !ok {
		t.Fatal("bucket did not refill")
	}
}

func TestCostAboveBurstIsChargedAsBurst(t *testing.T) {
	l := New(1, 10)
	if ok, _ := l.Take("a", 1e9); !ok {
		t.Fatal("an oversized cost was refused from a full bucket")
	}
}

func TestDisabledAndForget(t *testing.T) {
	var nilL *Limiter
	if ok, _ := nilL.Take("a", 1e9); !ok {
		t.Fatal("nil limiter refused")
	}
	if ok, _ := New(0, 0).Take("a", 1e9); !ok {
		t.Fatal("zero rate refused")
	}
	now := time.Unix(0, 0)
	l := New(1000, 10)
	l.Now = func() time.Time { return now }
	for i := 0; i < 5000; i++ {
		l.Take(string(rune('a'+i%26))+time.Duration(i).String(), 1)
		now = now.Add(time.Millisecond)
	}
	if n := l.Len(); n > 4096 {
		t.Fatalf("limiter remembers %d idle keys", n)
	}
}

// TestTakeWithinAggregate: keys held to a shared aggregate of 16 times their budget:
// 16 keys spend it, a 17th is refused at once (with the aggregate's wait) and charged
// nothing, a key of another aggregate and a key alone keep their whole budget, and a
// key refused on its own account spends nothing of the aggregate.
func TestTakeWithinAggregate(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(1, 10)
	l.Now = func() time.Time { return now }
	take := func(key, parent string, cost float64) (bool, time.Duration) {
		return l.TakeWithin(key, parent, 16, cost)
	}
	// Key 0 spends its 10, then is refused on its own account: the aggregate keeps 150.
	if ok, _ := take("k0", "p1", 10); !ok {
		t.Fatal("a key's burst refused")
	}
	for range 20 {
		if ok, wait := take("k0", "p1", 5); ok || wait != 5*time.Second {
			t.Fatalf("a spent key: %v, %v; want refused for 5 s (its own wait)", ok, wait)
		}
	}
	for i := 1; i < 16; i++ {
		if ok, _ := take(fmt.Sprint("k", i), "p1", 10); !ok {
			t.Fatalf("key %d of the aggregate refused, want 16 keys' budgets (160) let through", i)
		}
	}
	ok, wait := take("k16", "p1", 4)
	if ok || wait != 250*time.Millisecond {
		t.Fatalf("a 17th key of a spent aggregate: %v, %v; want refused for 0.25 s (4 units at 16/s)", ok, wait)
	}
	if ok, _ := take("q0", "p2", 10); !ok {
		t.Error("a key of another aggregate refused")
	}
	if ok, _ := l.Take("alone", 10); !ok {
		t.Error("a key without an aggregate refused its burst")
	}
	// The 17th key was refused for its aggregate only: its own budget is whole.
	now = now.Add(time.Second)
	if ok, _ := take("k16", "p1", 10); !ok {
		t.Error("the 17th key, once the aggregate earned 16, refused: its own budget was charged")
	}
	if ok, _ := take("k17", "p1", 7); ok {
		t.Error("the aggregate earned 16 and spent 10, yet 7 more let through")
	}
	// Aggregates are forgotten as keys are, once refilled (16 times a key's burst).
	now = now.Add(9 * time.Second)
	l.mu.Lock()
	l.forget(now)
	_, kept := l.buckets["p1"]
	l.mu.Unlock()
	if !kept {
		t.Error("an aggregate forgotten before it refilled (it earns 16/s up to 160)")
	}
	now = now.Add(time.Second)
	l.mu.Lock()
	l.forget(now)
	l.mu.Unlock()
	if n := l.Len(); n != 0 {
		t.Errorf("%d buckets remembered once all refilled, want 0", n)
	}
}
