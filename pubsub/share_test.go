package pubsub_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"resolutioncenter/dispute"
	"resolutioncenter/pubsub"
)

// TestShareComputesOnce: concurrent callers of one Share get the value of a single
// computation; a computation that fails is not kept; a nil Share computes every time.
func TestShareComputesOnce(t *testing.T) {
	var sh pubsub.Share
	var runs, computedBy atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, ok, computed := sh.Get(func() (any, bool) {
				runs.Add(1)
				time.Sleep(5 * time.Millisecond)
				return "payload", true
			})
			if !ok || v != "payload" {
				t.Errorf("Get = %v, %v", v, ok)
			}
			if computed {
				computedBy.Add(1)
			}
		}()
	}
	wg.Wait()
	if runs.Load() != 1 || computedBy.Load() != 1 {
		t.Errorf("50 concurrent callers: %d computations, %d callers say they computed; want 1 and 1", runs.Load(), computedBy.Load())
	}

	var failing pubsub.Share
	if v, ok, computed := failing.Get(func() (any, bool) { return "half", false }); v != nil || ok || !computed {
		t.Errorf("failed computation: Get = %v, %v, %v; want nil, false, true", v, ok, computed)
	}
	if v, ok, computed := failing.Get(func() (any, bool) { return "whole", true }); v != "whole" || !ok || !computed {
		t.Errorf("after a failed computation: Get = %v, %v, %v; want whole, true, true", v, ok, computed)
	}

	var nilShare *pubsub.Share
	n := 0
	for range 3 {
		nilShare.Get(func() (any, bool) { n++; return n, true })
	}
	if n != 3 {
		t.Errorf("nil Share computed %d times of 3", n)
	}
}

// shareLog records what a subscriber was handed: per event position, the Share.
type shareLog struct {
	mu     sync.Mutex
	shares map[int]*pubsub.Share
	full   bool // refuse deliveries (a subscriber that does not keep up)
}

func (l *shareLog) deliver(e *dispute.Event, sh *pubsub.Share) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		return false
	}
	if l.shares == nil {
		l.shares = map[int]*pubsub.Share{}
	}
	l.shares[e.Position] = sh
	return true
}

func (l *shareLog) get(pos int) (*pubsub.Share, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sh, ok := l.shares[pos]
	return sh, ok
}

// TestHubHandsAClassOneShare: with each event, subscribers of one class get one
// Share, other classes another, the empty class none; a subscriber of the class that
// was full and takes the event in a later round gets a Share of that round.
func TestHubHandsAClassOneShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		logs := map[string]*shareLog{}
		for _, name := range []string{"a1", "a2", "a3", "b", "none"} {
			class := map[string]string{"a1": "A", "a2": "A", "a3": "A", "b": "B"}[name]
			logs[name] = &shareLog{full: name == "a3"}
			h.SubscribeEventsFunc("reso_x", dispute.ActorPlatform, 0, class, logs[name].deliver, func(error) {})
		}
		synctest.Wait()
		publish(h, st, "reso_x", 3)
		synctest.Wait()
		logs["a3"].mu.Lock()
		logs["a3"].full = false // keeps up again: the hub retries
		logs["a3"].mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		for pos := 1; pos <= 3; pos++ {
			a1, _ := logs["a1"].get(pos)
			a2, _ := logs["a2"].get(pos)
			a3, ok3 := logs["a3"].get(pos)
			b, _ := logs["b"].get(pos)
			none, okNone := logs["none"].get(pos)
			switch {
			case a1 == nil || a1 != a2:
				t.Errorf("event %d: class A got Shares %p and %p, want one", pos, a1, a2)
			case b == nil || b == a1:
				t.Errorf("event %d: class B got %p, class A %p: want two Shares", pos, b, a1)
			case !okNone || none != nil:
				t.Errorf("event %d: the empty class got %p (delivered %v), want nil", pos, none, okNone)
			case !ok3 || a3 == nil || a3 == a1:
				t.Errorf("event %d: the class A subscriber that was full got %p (delivered %v), want a later round's Share", pos, a3, ok3)
			}
		}
	})
}

// TestHubUpdateSubscribersShare: update subscribers of one class get one Share per
// changed case; the empty class none.
func TestHubUpdateSubscribersShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		st.addCase("reso_y", "biz_1", "user_2")
		h, stop := startHub(st)
		defer stop()
		var mu sync.Mutex
		got := map[string]map[string]*pubsub.Share{} // subscriber -> case -> Share
		for _, name := range []string{"p1", "p2", "none"} {
			class := map[string]string{"p1": "P", "p2": "P"}[name]
			got[name] = map[string]*pubsub.Share{}
			h.SubscribeUpdatesFunc(pubsub.UpdateFilter{All: true}, class, func(c *dispute.Case, sh *pubsub.Share) bool {
				mu.Lock()
				defer mu.Unlock()
				got[name][c.ID] = sh
				return true
			}, func(error) {})
		}
		publish(h, st, "reso_x", 1)
		publish(h, st, "reso_y", 1)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		x, y := got["p1"]["reso_x"], got["p1"]["reso_y"]
		if x == nil || y == nil || x == y || got["p2"]["reso_x"] != x || got["p2"]["reso_y"] != y {
			t.Errorf("class P: p1 got %p, %p; p2 got %p, %p: want one Share per case, the same for both",
				x, y, got["p2"]["reso_x"], got["p2"]["reso_y"])
		}
		if sh, ok := got["none"]["reso_x"]; !ok || sh != nil {
			t.Errorf("the empty class got %p (delivered %v), want nil", sh, ok)
		}
	})
}
