package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestAggregateAddr(t *testing.T) {
	for in, want := range map[string]string{
		"2001:db8:1:2::/64":       "2001:db8:1::/48",
		"2001:db8:1:ffff::/64":    "2001:db8:1::/48",
		"2001:db8:ffff:ffff::/64": "2001:db8:ffff::/48",
		"192.0.2.1":               "",
		"2001:db8::1":             "", // not a budget key: budgetAddr makes a /64
		"2001:db8::/48":           "",
		"10.0.0.0/8":              "",
		"":                        "",
		"@":                       "",
	} {
		if got := AggregateAddr(in); got != want {
			t.Errorf("AggregateAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeClock is a settable clock for Throttle.now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// fail makes one failed attempt from addr: whether it was let through (and failed),
// and the wait when it was refused.
func fail(t *testing.T, th *Throttle, addr string) (bool, time.Duration) {
	t.Helper()
	end, wait, err := th.Begin(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if wait > 0 {
		return false, wait
	}
	end(true)
	return true, 0
}

// TestThrottleAggregatePer48: the /64s of one IPv6 /48 share AggregateFactor (16)
// times a /64's failure budget: 16 of them spend their whole budget, the 17th is
// refused from its first attempt (with the /48's wait), while a /64 of another /48
// and a lone /64 keep their whole budget, and IPv4 addresses have no aggregate. A
// refusal by either level charges neither: a /64 refused on its own account does not
// spend the /48's budget, and a /64 refused for its /48 keeps its own. Before, every
// /64 had a budget of its own: a /48 had 65,536 of them.
func TestThrottleAggregatePer48(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	th := &Throttle{Rate: 1, Burst: 2, now: clock.now}
	n64 := func(block, i int) string { return fmt.Sprintf("2001:db8:%x:%x::/64", block, i) }

	// /64 number 0 spends its budget, then is refused on its own account, many times:
	// that does not spend the /48's.
	for i := range 2 {
		if ok, _ := fail(t, th, n64(1, 0)); !ok {
			t.Fatalf("failure %d of the first /64 refused, want its burst of 2 let through", i)
		}
	}
	for range 10 {
		if ok, _ := fail(t, th, n64(1, 0)); ok {
			t.Fatal("a third failure of one /64 let through, burst 2")
		}
	}
	// 15 more /64s: 16 in all spend the /48's 32.
	for i := 1; i < 16; i++ {
		for j := range 2 {
			if ok, _ := fail(t, th, n64(1, i)); !ok {
				t.Fatalf("/64 %d of the /48, failure %d refused, want 16 /64s' budgets let through", i, j)
			}
		}
	}
	// The 17th /64 of the /48 is refused at once, for its /48 (which earns 16/s).
	ok, wait := fail(t, th, n64(1, 16))
	if ok {
		t.Fatal("the 17th /64 of a spent /48 let through")
	}
	if wait <= 0 || wait > time.Second/16+time.Millisecond {
		t.Errorf("the 17th /64's wait: %v, want the /48's (1/16 s)", wait)
	}
	// Another /48 is untouched; so is a /64 on its own (its full budget).
	for i := range 2 {
		if ok, _ := fail(t, th, n64(2, 0)); !ok {
			t.Errorf("a /64 of another /48, failure %d refused", i)
		}
	}
	if ok, _ := fail(t, th, n64(2, 0)); ok {
		t.Error("a third failure of a lone /64 let through, burst 2")
	}
	// IPv4 addresses have no aggregate: 20 of one /24 each get their budget.
	for i := range 20 {
		for j := range 2 {
			if ok, _ := fail(t, th, fmt.Sprintf("192.0.2.%d", i)); !ok {
				t.Fatalf("IPv4 address %d, failure %d refused", i, j)
			}
		}
	}
	// The 17th /64 was refused for its /48 only: once the /48 has earned two failures
	// back (1/8 s; a /64 earns 1/8 of one), it has its whole own budget of 2.
	clock.t = clock.t.Add(time.Second / 8)
	for i := range 2 {
		if ok, _ := fail(t, th, n64(1, 16)); !ok {
			t.Fatalf("the 17th /64, failure %d after the /48 refilled two, refused: its own budget was charged", i)
		}
	}
	if ok, _ := fail(t, th, n64(1, 17)); ok {
		t.Error("the /48 spent again, yet another /64 let through")
	}
	// Fail (a failure that did not Begin) counts at both levels too.
	clock.t = clock.t.Add(time.Second / 16)
	th.Fail(n64(1, 18))
	if ok, _ := fail(t, th, n64(1, 19)); ok {
		t.Error("Fail did not charge the /48")
	}
}

// TestThrottleAggregateCountsAttemptsUnderWay: attempts under way count against the
// /48 as they do against the /64: with a burst of 1, 16 attempts from 16 /64s of one
// /48 under way leave nothing for a 17th, which waits until one of them ends (here one
// that succeeds, giving its place back) and then starts.
func TestThrottleAggregateCountsAttemptsUnderWay(t *testing.T) {
	th := &Throttle{Rate: 0.001, Burst: 1}
	var ends []func(bool)
	for i := range 16 {
		end, wait, err := th.Begin(context.Background(), fmt.Sprintf("2001:db8:1:%x::/64", i))
		if err != nil || wait > 0 {
			t.Fatalf("attempt from /64 %d: wait %v, %v", i, wait, err)
		}
		ends = append(ends, end)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, wait, err := th.Begin(ctx, "2001:db8:1:10::/64"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a 17th attempt under way in the /48: wait %v, %v; want it to wait for one to end", wait, err)
	}
	// Another /48 does not wait.
	if end, wait, err := th.Begin(context.Background(), "2001:db8:2:0::/64"); err != nil || wait > 0 {
		t.Fatalf("an attempt from another /48: wait %v, %v", wait, err)
	} else {
		end(false)
	}
	started := make(chan func(bool), 1)
	go func() {
		end, wait, err := th.Begin(context.Background(), "2001:db8:1:10::/64")
		if err != nil || wait > 0 {
			t.Errorf("the 17th attempt after one ended: wait %v, %v", wait, err)
			started <- func(bool) {}
			return
		}
		started <- end
	}()
	select {
	case <-started:
		t.Fatal("the 17th attempt started while 16 were under way")
	case <-time.After(50 * time.Millisecond):
	}
	ends[0](false)
	select {
	case end := <-started:
		end(true)
	case <-time.After(10 * time.Second):
		t.Fatal("the 17th attempt did not start after one ended")
	}
	for _, end := range ends[1:] {
		end(true)
	}
	// 16 failures: the /48 is spent; the /64 whose attempt succeeded is refused.
	if _, wait, err := th.Begin(context.Background(), "2001:db8:1:0::/64"); err != nil || wait <= 0 {
		t.Errorf("after 16 failures in the /48: wait %v, %v; want refused", wait, err)
	}
}

// TestThrottleParentsForgotten: the aggregates are bounded as the addresses are:
// past maxThrottled, those refilled are forgotten.
func TestThrottleParentsForgotten(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	th := &Throttle{Rate: 1, Burst: 2, now: clock.now}
	for i := range maxThrottled {
		th.Fail(fmt.Sprintf("2001:%x:%x:1::/64", i>>16, i&0xffff))
	}
	if len(th.parents) != maxThrottled {
		t.Fatalf("%d aggregates, want %d", len(th.parents), maxThrottled)
	}
	clock.t = clock.t.Add(time.Hour)
	th.Fail("2001:db8:ffff:1::/64")
	if len(th.parents) != 1 || len(th.addrs) != 1 {
		t.Errorf("%d aggregates and %d addresses after all refilled, want 1 and 1", len(th.parents), len(th.addrs))
	}
}
