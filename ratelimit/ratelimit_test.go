package ratelimit

import (
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
