package pubsub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"resolutioncenter/dispute"
	"resolutioncenter/pubsub"
)

// The hub's logic is tested here against an in-memory Store: timelines and cases held
// in maps, with hooks to hold a read in flight and to fail reads. Everything the hub
// reads from the database is tested against real engines in graph/fanout_test.go and
// catchup_test.go.
// Most tests run in a synctest bubble: time is virtual (stallLimit and retry timers
// pass instantly) and synctest.Wait says when the hub has nothing left to do.

// fakeStore implements pubsub.Store over maps.
type fakeStore struct {
	mu     sync.Mutex
	events map[string][]dispute.Event
	cases  map[string]dispute.Case

	gate    chan struct{} // when set, the next EventsAfter blocks on it after its snapshot
	started chan struct{} // receives once the held read took its snapshot
	fail    int           // how many next reads fail
	reads   int
	rows    int // events returned by EventsAfter
}

func newStore() *fakeStore {
	return &fakeStore{events: map[string][]dispute.Event{}, cases: map[string]dispute.Case{}}
}

var errStoreDown = errors.New("store down")

func (s *fakeStore) EventsAfter(ctx context.Context, reads []dispute.TimelineRead) ([][]dispute.Event, error) {
	s.mu.Lock()
	s.reads++
	if s.fail > 0 {
		s.fail--
		s.mu.Unlock()
		return nil, errStoreDown
	}
	out := make([][]dispute.Event, len(reads))
	for i, r := range reads {
		for _, e := range s.events[r.CaseID] {
			if len(out[i]) == r.Limit {
				break
			}
			if e.Position > r.After && slices.ContainsFunc(r.Viewers, e.VisibleTo) {
				out[i] = append(out[i], e)
			}
		}
		s.rows += len(out[i])
	}
	gate, started := s.gate, s.started
	s.gate, s.started = nil, nil
	s.mu.Unlock()
	if gate != nil {
		started <- struct{}{}
		<-gate
	}
	return out, nil
}

func (s *fakeStore) CasesByID(ctx context.Context, ids []string) (map[string]dispute.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail > 0 {
		s.fail--
		return nil, errStoreDown
	}
	out := map[string]dispute.Case{}
	for _, id := range ids {
		if c, ok := s.cases[id]; ok {
			out[id] = c
		}
	}
	return out, nil
}

func (s *fakeStore) CasesUpdatedSince(ctx context.Context, t time.Time, limit int) ([]dispute.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail > 0 {
		s.fail--
		return nil, errStoreDown
	}
	var out []dispute.Case
	for _, c := range s.cases {
		if !c.UpdatedAt.Before(t) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// holdNextRead makes the next EventsAfter block after taking its snapshot, as a read
// still in flight; it returns a channel that receives when the read started and a
// function releasing it.
func (s *fakeStore) holdNextRead() (started <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gate, st := make(chan struct{}), make(chan struct{}, 1)
	s.gate, s.started = gate, st
	return st, func() { close(gate) }
}

func (s *fakeStore) failNext(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

func (s *fakeStore) addCase(id, companyID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases[id] = dispute.Case{ID: id, CompanyID: companyID, UserID: userID, Status: dispute.StatusMerchantResponseNeeded,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
}

// vis says who besides the platform may see an event.
type vis int

const (
	visBoth vis = iota
	visCustomer
	visMerchant
	visPlatformOnly
)

// pattern is a visibility that varies with the position.
func pattern(pos int) vis { return vis(pos % 4) }

// commit appends one event to a case's timeline and bumps the case, as a committed
// action does, and returns the notice the action would announce (not sent).
func (s *fakeStore) commit(caseID string, v vis) dispute.Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[caseID]
	if !ok {
		panic("no case " + caseID)
	}
	c.Version++
	c.EventCount++
	c.UpdatedAt = time.Now()
	s.cases[caseID] = c
	e := dispute.Event{ID: fmt.Sprintf("revt_%s_%d", caseID, c.EventCount), ResolutionID: caseID, Position: c.EventCount,
		Action: dispute.EventResponded, Reporter: dispute.ActorCustomer, CreatedAt: c.UpdatedAt,
		ViewableByCustomer: v == visBoth || v == visCustomer, ViewableByMerchant: v == visBoth || v == visMerchant}
	s.events[caseID] = append(s.events[caseID], e)
	return dispute.Notice{CaseID: caseID, Position: e.Position, Version: c.Version}
}

// visible returns the positions of caseID's events after `after` that role may see.
func (s *fakeStore) visible(caseID string, role dispute.Actor, after int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, e := range s.events[caseID] {
		if e.Position > after && e.VisibleTo(role) {
			out = append(out, e.Position)
		}
	}
	return out
}

func (s *fakeStore) version(caseID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cases[caseID].Version
}

// publish commits n events on caseID with the position-based visibility pattern and
// notifies the hub after each, as the LISTEN loop or the commit hook does.
func publish(h *pubsub.Hub, st *fakeStore, caseID string, n int) {
	for range n {
		st.mu.Lock()
		next := st.cases[caseID].EventCount + 1
		st.mu.Unlock()
		h.Notify(st.commit(caseID, pattern(next)))
	}
}

// startHub runs a hub on st until the returned stop function is called.
func startHub(st *fakeStore) (h *pubsub.Hub, stop func()) {
	h = pubsub.NewHub(st, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	return h, func() { cancel(); <-done }
}

// drain takes everything buffered in a subscriber's channel without blocking; closed
// reports whether the channel was closed.
func drain[T any](c <-chan T) (got []T, closed bool) {
	for {
		select {
		case v, ok := <-c:
			if !ok {
				return got, true
			}
			got = append(got, v)
		default:
			return got, false
		}
	}
}

// drainAll drains a subscriber, in a synctest bubble, until nothing more arrives:
// between rounds virtual time passes, so the hub's re-reads for a subscriber that
// was full come in.
func drainAll[T any](c <-chan T) (got []T, closed bool) {
	for {
		more, cl := drain(c)
		got = append(got, more...)
		if cl {
			return got, true
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if len(more) == 0 && len(c) == 0 {
			return got, false
		}
	}
}

func positions(evs []dispute.Event) []int {
	out := make([]int, len(evs))
	for i, e := range evs {
		out[i] = e.Position
	}
	return out
}

func ids(cs []dispute.Case) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

var roles = []dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform}

// TestHubDeliversEachVisibleEventOnceInOrder runs concurrent publishers on several
// cases against concurrent readers in real time: every subscriber gets exactly the
// events its role may see, each once, in timeline order.
func TestHubDeliversEachVisibleEventOnceInOrder(t *testing.T) {
	st := newStore()
	const cases, perCase, subsPerRole = 4, 300, 2
	for i := range cases {
		st.addCase(fmt.Sprintf("reso_%d", i), "biz_1", "user_1")
	}
	h, stop := startHub(st)
	defer stop()
	var delivered atomic.Int64
	h.OnDeliver = func(time.Time) { delivered.Add(1) }

	type reader struct {
		caseID string
		role   dispute.Actor
		sub    *pubsub.EventSub
		mu     sync.Mutex
		got    []int
	}
	var readers []*reader
	var wg sync.WaitGroup
	for i := range cases {
		for _, role := range roles {
			for range subsPerRole {
				r := &reader{caseID: fmt.Sprintf("reso_%d", i), role: role}
				r.sub = h.SubscribeEvents(r.caseID, role, 0)
				readers = append(readers, r)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for e := range r.sub.C {
						r.mu.Lock()
						r.got = append(r.got, e.Position)
						r.mu.Unlock()
					}
				}()
			}
		}
	}
	var pub sync.WaitGroup
	for i := range cases {
		pub.Add(1)
		go func() { defer pub.Done(); publish(h, st, fmt.Sprintf("reso_%d", i), perCase) }()
	}
	pub.Wait()

	deadline := time.Now().Add(20 * time.Second)
	for _, r := range readers {
		want := st.visible(r.caseID, r.role, 0)
		for {
			r.mu.Lock()
			n := len(r.got)
			r.mu.Unlock()
			if n >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // anything extra would show up now
	var wantTotal int64
	for _, r := range readers {
		want := st.visible(r.caseID, r.role, 0)
		wantTotal += int64(len(want))
		r.mu.Lock()
		if !slices.Equal(r.got, want) {
			t.Errorf("%s as %s: got %d events %v,\nwant %d %v", r.caseID, r.role, len(r.got), r.got, len(want), want)
		}
		r.mu.Unlock()
	}
	if got := delivered.Load(); got != wantTotal {
		t.Errorf("OnDeliver saw %d deliveries, want %d", got, wantTotal)
	}
	for _, r := range readers {
		h.UnsubscribeEvents(r.sub)
	}
	wg.Wait()
	for _, r := range readers {
		if err := r.sub.Err(); err != nil {
			t.Errorf("%s as %s ended with %v, want nil after Unsubscribe", r.caseID, r.role, err)
		}
	}
	if s := h.Stats(); s != (pubsub.Stats{}) {
		t.Errorf("stats after unsubscribing everyone = %+v, want zero", s)
	}
}

// TestHubVisibilityByRole checks the filtering on a fixed timeline, one role at a time.
func TestHubVisibilityByRole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		subs := map[dispute.Actor]*pubsub.EventSub{}
		for _, r := range append(roles, dispute.ActorSystem) {
			subs[r] = h.SubscribeEvents("reso_x", r, 0)
		}
		synctest.Wait()
		for _, v := range []vis{visBoth, visCustomer, visMerchant, visPlatformOnly, visBoth} {
			h.Notify(st.commit("reso_x", v))
		}
		synctest.Wait()
		want := map[dispute.Actor][]int{
			dispute.ActorCustomer: {1, 2, 5},
			dispute.ActorMerchant: {1, 3, 5},
			dispute.ActorPlatform: {1, 2, 3, 4, 5},
			dispute.ActorSystem:   nil, // not a viewer role: sees nothing
		}
		for role, s := range subs {
			got, closed := drainAll(s.C)
			if closed {
				t.Errorf("%s: channel closed", role)
			}
			if !slices.Equal(positions(got), want[role]) {
				t.Errorf("%s got %v, want %v", role, positions(got), want[role])
			}
		}
	})
}

// TestHubResumesFromPosition: a subscriber registering with a position first gets
// what it missed, then live events, with no duplicate at the seam.
func TestHubResumesFromPosition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		publish(h, st, "reso_x", 20) // nobody listening yet
		synctest.Wait()

		cust := h.SubscribeEvents("reso_x", dispute.ActorCustomer, 7)
		plat := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 0)
		current := h.SubscribeEvents("reso_x", dispute.ActorMerchant, 20)
		synctest.Wait()
		got, _ := drainAll(cust.C)
		if want := st.visible("reso_x", dispute.ActorCustomer, 7); !slices.Equal(positions(got), want) {
			t.Errorf("customer resuming after 7 got %v, want %v", positions(got), want)
		}
		if got, _ := drainAll(current.C); len(got) != 0 {
			t.Errorf("merchant starting at the current position got %v, want nothing yet", positions(got))
		}

		publish(h, st, "reso_x", 8)
		synctest.Wait()
		more, _ := drainAll(cust.C)
		if want := st.visible("reso_x", dispute.ActorCustomer, 20); !slices.Equal(positions(more), want) {
			t.Errorf("customer live events got %v, want %v", positions(more), want)
		}
		all, _ := drainAll(plat.C)
		if want := st.visible("reso_x", dispute.ActorPlatform, 0); !slices.Equal(positions(all), want) {
			t.Errorf("platform from 0 got %v, want %v", positions(all), want)
		}
		live, _ := drainAll(current.C)
		if want := st.visible("reso_x", dispute.ActorMerchant, 20); !slices.Equal(positions(live), want) {
			t.Errorf("merchant from 20 got %v, want %v", positions(live), want)
		}
	})
}

// TestHubSubscriberRegisteringDuringReadSkipsNothing holds a store read in flight while
// subscribers register behind and ahead of the position being read from, and while
// another event commits.
func TestHubSubscriberRegisteringDuringReadSkipsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		publish(h, st, "reso_x", 5)
		a := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 5)
		synctest.Wait()

		started, release := st.holdNextRead()
		publish(h, st, "reso_x", 5) // 6..10: the hub reads after 5 and is held
		<-started
		b := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 2) // behind the read
		c := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 8) // ahead of it
		publish(h, st, "reso_x", 1)                                // 11, after the read's snapshot
		release()
		synctest.Wait()

		for _, tc := range []struct {
			name  string
			s     *pubsub.EventSub
			after int
		}{{"registered before the read", a, 5}, {"registered behind the read", b, 2}, {"registered ahead of the read", c, 8}} {
			got, _ := drainAll(tc.s.C)
			if want := st.visible("reso_x", dispute.ActorPlatform, tc.after); !slices.Equal(positions(got), want) {
				t.Errorf("%s (after %d): got %v, want %v", tc.name, tc.after, positions(got), want)
			}
		}
	})
}

// TestHubSlowSubscriberIsNotWaitedFor: a subscriber that stops reading holds up
// neither the publisher nor the other subscribers, keeps its place while full, and is
// dropped with ErrSlowConsumer only once it stayed full past the stall limit (5 s).
func TestHubSlowSubscriberIsNotWaitedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		var drops atomic.Int32
		h.OnDrop = func() { drops.Add(1) }
		slow := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 0)
		fast := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 0)
		var mu sync.Mutex
		var fastGot []int
		fastDone := make(chan struct{})
		go func() {
			defer close(fastDone)
			for e := range fast.C {
				mu.Lock()
				fastGot = append(fastGot, e.Position)
				mu.Unlock()
			}
		}()
		synctest.Wait()

		start := time.Now()
		const n = 3 * pubsub.EventBuffer
		for i := range n {
			h.Notify(st.commit("reso_x", visBoth))
			if i%16 == 0 {
				synctest.Wait()
			}
		}
		synctest.Wait()
		mu.Lock()
		got := len(fastGot)
		mu.Unlock()
		if got != n {
			t.Fatalf("the reading subscriber got %d of %d events while another one was full", got, n)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("delivering to the reading subscriber took %v (virtual): it waited for the full one", el)
		}
		if len(slow.C) != pubsub.EventBuffer {
			t.Fatalf("slow subscriber holds %d events, want a full buffer of %d", len(slow.C), pubsub.EventBuffer)
		}

		time.Sleep(4 * time.Second)
		synctest.Wait()
		if s := h.Stats(); s.EventSubscribers != 2 || drops.Load() != 0 {
			t.Fatalf("after 4s full: stats %+v, drops %d; want the slow subscriber still registered", s, drops.Load())
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if s := h.Stats(); s.EventSubscribers != 1 || drops.Load() != 1 {
			t.Fatalf("after 5.5s full: stats %+v, drops %d; want the slow subscriber dropped", s, drops.Load())
		}
		buffered, closed := drain(slow.C)
		if !closed || !errors.Is(slow.Err(), pubsub.ErrSlowConsumer) {
			t.Fatalf("slow subscriber: closed=%v err=%v, want closed with ErrSlowConsumer", closed, slow.Err())
		}
		if want := st.visible("reso_x", dispute.ActorPlatform, 0)[:pubsub.EventBuffer]; !slices.Equal(positions(buffered), want) {
			t.Errorf("slow subscriber's buffered events = %v, want the first %d in order", positions(buffered), pubsub.EventBuffer)
		}

		h.Notify(st.commit("reso_x", visBoth))
		synctest.Wait()
		mu.Lock()
		if want := st.visible("reso_x", dispute.ActorPlatform, 0); !slices.Equal(fastGot, want) {
			t.Errorf("reading subscriber got %d events, want all %d in order", len(fastGot), len(want))
		}
		mu.Unlock()
		h.UnsubscribeEvents(fast)
		<-fastDone
	})
}

// TestHubStalledSubscriberThatCatchesUpLosesNothing: while a subscriber is full its
// events wait in the store; once it reads again it gets them all, and the stall clock
// starts again from zero the next time it fills up.
func TestHubStalledSubscriberThatCatchesUpLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		s := h.SubscribeEvents("reso_x", dispute.ActorMerchant, 0)
		synctest.Wait()
		publish(h, st, "reso_x", 5*pubsub.EventBuffer)
		synctest.Wait()

		time.Sleep(4 * time.Second) // full for 4s: under the limit
		var got []dispute.Event
		want := st.visible("reso_x", dispute.ActorMerchant, 0)
		for len(got) < len(want) {
			more, closed := drain(s.C)
			if closed {
				t.Fatalf("subscriber dropped (%v) after %d events", s.Err(), len(got))
			}
			got = append(got, more...)
			time.Sleep(100 * time.Millisecond)
		}
		if !slices.Equal(positions(got), want) {
			t.Fatalf("got %v, want %v", positions(got), want)
		}

		publish(h, st, "reso_x", 3*pubsub.EventBuffer) // fills up again
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if stats := h.Stats(); stats.EventSubscribers != 1 {
			t.Fatalf("subscriber dropped 4s into its second stall: the stall clock did not restart (stats %+v, err %v)", stats, s.Err())
		}
		h.UnsubscribeEvents(s)
	})
}

// TestHubReadsNothingForAFullSubscriber: while a subscriber's buffer is full, the
// retries offer it what was already read for it and read nothing more from the store,
// however long it stays full and whatever commits meanwhile; once it reads again it
// gets everything it may see, once and in order, each event read from the store about
// once.
func TestHubReadsNothingForAFullSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		publish(h, st, "reso_x", 200)
		synctest.Wait()

		s := h.SubscribeEvents("reso_x", dispute.ActorCustomer, 1)
		synctest.Wait()
		if len(s.C) != pubsub.EventBuffer {
			t.Fatalf("subscriber holds %d events, want a full buffer of %d", len(s.C), pubsub.EventBuffer)
		}
		st.mu.Lock()
		reads, rows := st.reads, st.rows
		st.mu.Unlock()
		time.Sleep(2 * time.Second) // 40 retries, under the stall limit
		publish(h, st, "reso_x", 20)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		st.mu.Lock()
		if st.reads != reads || st.rows != rows {
			t.Errorf("while the subscriber was full the hub read %d more times (%d more events)", st.reads-reads, st.rows-rows)
		}
		st.mu.Unlock()

		got, closed := drainAll(s.C)
		if closed {
			t.Fatalf("subscriber ended: %v", s.Err())
		}
		if want := st.visible("reso_x", dispute.ActorCustomer, 1); !slices.Equal(positions(got), want) {
			t.Fatalf("got %v,\nwant %v", positions(got), want)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.rows > 2*len(got) {
			t.Errorf("the hub read %d events from the store to deliver %d", st.rows, len(got))
		}
	})
}

// TestHubCatchUpInChunksForEveryRole resumes subscribers of every role from several
// positions of a long timeline, reading in turns while events keep committing: each
// gets exactly the events it may see, in order, and the store returns about as many
// events as are delivered.
func TestHubCatchUpInChunksForEveryRole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		st.addCase("reso_y", "biz_1", "user_2")
		h, stop := startHub(st)
		defer stop()
		var delivered atomic.Int64
		h.OnDeliver = func(time.Time) { delivered.Add(1) }
		publish(h, st, "reso_x", 800)
		publish(h, st, "reso_y", 50)
		synctest.Wait()
		st.mu.Lock()
		rows0 := st.rows
		st.mu.Unlock()

		type reader struct {
			caseID string
			role   dispute.Actor
			after  int
			sub    *pubsub.EventSub
			got    []dispute.Event
		}
		var readers []*reader
		for _, r := range []reader{
			{caseID: "reso_x", role: dispute.ActorCustomer, after: 1},
			{caseID: "reso_x", role: dispute.ActorMerchant, after: 1},
			{caseID: "reso_x", role: dispute.ActorPlatform, after: 1},
			{caseID: "reso_x", role: dispute.ActorCustomer, after: 1}, // two at one position
			{caseID: "reso_x", role: dispute.ActorCustomer, after: 400},
			{caseID: "reso_x", role: dispute.ActorMerchant, after: 797},
			{caseID: "reso_x", role: dispute.ActorSystem, after: 1},
			{caseID: "reso_y", role: dispute.ActorPlatform, after: 0},
		} {
			r.sub = h.SubscribeEvents(r.caseID, r.role, r.after)
			readers = append(readers, &r)
		}
		for round := 0; ; round++ {
			progress := false
			for _, r := range readers {
				more, closed := drain(r.sub.C)
				if closed {
					t.Fatalf("%s as %s ended: %v", r.caseID, r.role, r.sub.Err())
				}
				r.got = append(r.got, more...)
				progress = progress || len(more) > 0
			}
			if round < 30 { // commits while the catch-up runs
				publish(h, st, "reso_x", 1)
				publish(h, st, "reso_y", 1)
				progress = true
			}
			time.Sleep(20 * time.Millisecond)
			synctest.Wait()
			if !progress {
				break
			}
		}
		total := 0
		for _, r := range readers {
			if want := st.visible(r.caseID, r.role, r.after); !slices.Equal(positions(r.got), want) {
				t.Errorf("%s as %s after %d: got %d events %v,\nwant %d %v", r.caseID, r.role, r.after,
					len(r.got), positions(r.got), len(want), want)
			}
			total += len(r.got)
		}
		if int(delivered.Load()) != total {
			t.Errorf("OnDeliver saw %d deliveries, the subscribers got %d", delivered.Load(), total)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if rows := st.rows - rows0; rows > 2*total {
			t.Errorf("the hub read %d events from the store to deliver %d", rows, total)
		}
	})
}

// TestHubResyncRereadsFromPositions: changes whose notices were lost (a LISTEN
// connection down) reach subscribers when the hub is asked to resync.
func TestHubResyncRereadsFromPositions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		st.addCase("reso_y", "biz_1", "user_2")
		h, stop := startHub(st)
		defer stop()
		publish(h, st, "reso_x", 3)
		synctest.Wait()
		plat := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 1)
		cust := h.SubscribeEvents("reso_y", dispute.ActorCustomer, 0)
		upd := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		synctest.Wait()
		if got, _ := drainAll(plat.C); !slices.Equal(positions(got), []int{2, 3}) {
			t.Fatalf("catch-up from 1 got %v, want [2 3]", positions(got))
		}

		for i := range 6 { // committed, but no notice arrives
			st.commit("reso_x", pattern(4+i))
			st.commit("reso_y", pattern(1+i))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got, _ := drainAll(plat.C); len(got) != 0 {
			t.Fatalf("delivered %v without a notice", positions(got))
		}

		h.Resync()
		synctest.Wait()
		if got, _ := drainAll(plat.C); !slices.Equal(positions(got), st.visible("reso_x", dispute.ActorPlatform, 3)) {
			t.Errorf("platform after resync got %v, want %v", positions(got), st.visible("reso_x", dispute.ActorPlatform, 3))
		}
		if got, _ := drainAll(cust.C); !slices.Equal(positions(got), st.visible("reso_y", dispute.ActorCustomer, 0)) {
			t.Errorf("customer after resync got %v, want %v", positions(got), st.visible("reso_y", dispute.ActorCustomer, 0))
		}
		ups, _ := drainAll(upd.C)
		last := map[string]int{}
		for _, c := range ups {
			last[c.ID] = c.Version
		}
		if last["reso_x"] != st.version("reso_x") || last["reso_y"] != st.version("reso_y") {
			t.Errorf("update subscriber after resync has versions %v, want reso_x=%d reso_y=%d",
				last, st.version("reso_x"), st.version("reso_y"))
		}

		h.Resync() // nothing new: nothing is sent twice
		synctest.Wait()
		if got, _ := drainAll(plat.C); len(got) != 0 {
			t.Errorf("second resync re-sent events %v", positions(got))
		}
		if got, _ := drainAll(upd.C); len(got) != 0 {
			t.Errorf("second resync re-sent cases %v", ids(got))
		}
	})
}

// TestHubRetriesAfterStoreError: a failed read is retried; nothing is lost.
func TestHubRetriesAfterStoreError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		defer stop()
		s := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 0)
		u := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		synctest.Wait()
		st.failNext(3)
		publish(h, st, "reso_x", 4)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got, _ := drainAll(s.C); !slices.Equal(positions(got), []int{1, 2, 3, 4}) {
			t.Errorf("after store errors got %v, want [1 2 3 4]", positions(got))
		}
		got, _ := drainAll(u.C)
		if len(got) == 0 || got[len(got)-1].Version != st.version("reso_x") {
			t.Errorf("update subscriber after store errors got %+v, want the case at version %d", got, st.version("reso_x"))
		}
	})
}

// TestHubUpdateFilters: the visibility scope always applies; companyId, customer and
// case IDs narrow it.
func TestHubUpdateFilters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_1", "biz_a", "user_1")
		st.addCase("reso_2", "biz_a", "user_2")
		st.addCase("reso_3", "biz_b", "user_1")
		st.addCase("reso_4", "biz_b", "user_2")
		h, stop := startHub(st)
		defer stop()
		tests := []struct {
			name string
			f    pubsub.UpdateFilter
			want []string
		}{
			{"platform", pubsub.UpdateFilter{All: true}, []string{"reso_1", "reso_2", "reso_3", "reso_4"}},
			{"customer", pubsub.UpdateFilter{UserID: "user_1"}, []string{"reso_1", "reso_3"}},
			{"merchant", pubsub.UpdateFilter{CompanyIDs: []string{"biz_a"}}, []string{"reso_1", "reso_2"}},
			{"customer and team member of biz_b", pubsub.UpdateFilter{UserID: "user_2", CompanyIDs: []string{"biz_b"}},
				[]string{"reso_2", "reso_3", "reso_4"}},
			{"platform, companyId", pubsub.UpdateFilter{All: true, CompanyID: "biz_a"}, []string{"reso_1", "reso_2"}},
			{"platform, customer", pubsub.UpdateFilter{All: true, Customer: "user_2"}, []string{"reso_2", "reso_4"}},
			{"platform, case IDs", pubsub.UpdateFilter{All: true, CaseIDs: []string{"reso_1", "reso_4"}}, []string{"reso_1", "reso_4"}},
			{"platform, all narrowings", pubsub.UpdateFilter{All: true, CompanyID: "biz_b", Customer: "user_1",
				CaseIDs: []string{"reso_1", "reso_3"}}, []string{"reso_3"}},
			{"merchant, another company", pubsub.UpdateFilter{CompanyIDs: []string{"biz_a"}, CompanyID: "biz_b"}, nil},
			{"customer, foreign case IDs", pubsub.UpdateFilter{UserID: "user_1", CaseIDs: []string{"reso_2", "reso_3"}},
				[]string{"reso_3"}},
			{"merchant, customer and case IDs", pubsub.UpdateFilter{CompanyIDs: []string{"biz_a"}, Customer: "user_1",
				CaseIDs: []string{"reso_1", "reso_2", "reso_3"}}, []string{"reso_1"}},
			{"nobody", pubsub.UpdateFilter{}, nil},
		}
		subs := make([]*pubsub.UpdateSub, len(tests))
		for i, tt := range tests {
			subs[i] = h.SubscribeUpdates(tt.f)
		}
		if s := h.Stats(); s.UpdateSubscribers != len(tests) {
			t.Fatalf("stats %+v, want %d update subscribers", s, len(tests))
		}
		for round := range 3 {
			for _, id := range []string{"reso_1", "reso_2", "reso_3", "reso_4"} {
				h.Notify(st.commit(id, visBoth))
			}
			if round == 1 {
				synctest.Wait()
			}
		}
		synctest.Wait()
		for i, tt := range tests {
			got, _ := drain(subs[i].C)
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids(got), tt.want)
			}
			last := map[string]int{}
			for _, c := range got {
				if c.Version <= last[c.ID] {
					t.Errorf("%s: %s went from version %d to %d", tt.name, c.ID, last[c.ID], c.Version)
				}
				last[c.ID] = c.Version
			}
			for id, v := range last {
				if v != st.version(id) {
					t.Errorf("%s: last version of %s is %d, want the final %d", tt.name, id, v, st.version(id))
				}
			}
		}
	})
}

// TestHubUpdateSubscriberSurvivesBurst: a burst of changes larger than the buffer
// (a resync re-reading many cases, the deadline sweeper escalating many cases at
// once) must not drop an update subscriber that reads again a few milliseconds later:
// like an event subscriber, it may only be dropped after staying full past the stall
// limit.
func TestHubUpdateSubscriberSurvivesBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		const n = 2 * pubsub.UpdateBuffer
		ids := addCases(st, n)
		h, stop := startHub(st)
		defer stop()
		u := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		got, done := readUpdates(u, 10*time.Millisecond, 0) // the client reads again 10 ms after the burst
		for _, id := range ids {
			h.Notify(st.commit(id, visBoth))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		h.UnsubscribeUpdates(u)
		<-done
		if errors.Is(u.Err(), pubsub.ErrSlowConsumer) {
			t.Errorf("update subscriber dropped as too slow after being full for 10ms (got %d of %d cases); "+
				"want it dropped only after staying full past the stall limit", len(got), n)
		}
		if len(got) != n {
			t.Errorf("update subscriber got %d of %d changed cases", len(got), n)
		}
	})
}

// TestHubUnsubscribeAndShutdown: unsubscribing closes with no error and counts down;
// stopping the hub ends everyone with ErrClosed, and later subscriptions at once.
func TestHubUnsubscribeAndShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		st.addCase("reso_x", "biz_1", "user_1")
		h, stop := startHub(st)
		e1 := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 0)
		e2 := h.SubscribeEvents("reso_x", dispute.ActorCustomer, 0)
		e3 := h.SubscribeEvents("reso_y", dispute.ActorCustomer, 0)
		u1 := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		u2 := h.SubscribeUpdates(pubsub.UpdateFilter{UserID: "user_1"})
		if s := h.Stats(); s != (pubsub.Stats{EventSubscribers: 3, UpdateSubscribers: 2}) {
			t.Fatalf("stats %+v", s)
		}
		h.UnsubscribeEvents(e1)
		h.UnsubscribeEvents(e1) // twice is fine
		h.UnsubscribeUpdates(u1)
		h.UnsubscribeUpdates(u1)
		if s := h.Stats(); s != (pubsub.Stats{EventSubscribers: 2, UpdateSubscribers: 1}) {
			t.Fatalf("stats after unsubscribing %+v", s)
		}
		if _, closed := drain(e1.C); !closed || e1.Err() != nil {
			t.Errorf("unsubscribed event subscriber: closed=%v err=%v, want closed with nil", closed, e1.Err())
		}
		if _, closed := drain(u1.C); !closed || u1.Err() != nil {
			t.Errorf("unsubscribed update subscriber: closed=%v err=%v, want closed with nil", closed, u1.Err())
		}
		synctest.Wait()
		stop()
		for _, s := range []*pubsub.EventSub{e2, e3} {
			if _, closed := drain(s.C); !closed || !errors.Is(s.Err(), pubsub.ErrClosed) {
				t.Errorf("after shutdown: closed=%v err=%v, want ErrClosed", closed, s.Err())
			}
		}
		if _, closed := drain(u2.C); !closed || !errors.Is(u2.Err(), pubsub.ErrClosed) {
			t.Errorf("update subscriber after shutdown: closed=%v err=%v, want ErrClosed", closed, u2.Err())
		}
		if s := h.Stats(); s != (pubsub.Stats{}) {
			t.Errorf("stats after shutdown %+v, want zero", s)
		}
		late := h.SubscribeEvents("reso_x", dispute.ActorPlatform, 0)
		lateU := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		if _, closed := drain(late.C); !closed || !errors.Is(late.Err(), pubsub.ErrClosed) {
			t.Errorf("subscribing after shutdown: closed=%v err=%v, want ErrClosed", closed, late.Err())
		}
		if _, closed := drain(lateU.C); !closed || !errors.Is(lateU.Err(), pubsub.ErrClosed) {
			t.Errorf("subscribing to updates after shutdown: closed=%v err=%v, want ErrClosed", closed, lateU.Err())
		}
	})
}

// TestHubResyncLooksBackFromTheLastNoticeBeforeTheGap: after the LISTEN connection was
// down, a resync re-reads the cases changed since the last notice that arrived before
// the gap. A notice that arrives right after the reconnect, before the hub got to the
// resync (it was busy with a read), must not move that window forward: a case changed
// during a long gap would never reach update subscribers.
func TestHubResyncLooksBackFromTheLastNoticeBeforeTheGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		for _, id := range []string{"reso_x", "reso_y", "reso_z"} {
			st.addCase(id, "biz_1", "user_1")
		}
		h, stop := startHub(st)
		defer stop()
		upd := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		h.Notify(st.commit("reso_y", visBoth))
		synctest.Wait()
		drain(upd.C)

		time.Sleep(5 * time.Minute)  // the LISTEN connection is down
		st.commit("reso_x", visBoth) // committed by another process: no notice here
		time.Sleep(5 * time.Minute)

		// The hub is busy with a read when the connection comes back.
		started, release := st.holdNextRead()
		sub := h.SubscribeEvents("reso_z", dispute.ActorPlatform, 0)
		defer h.UnsubscribeEvents(sub)
		<-started
		h.Resync()
		h.Notify(st.commit("reso_y", visBoth)) // the first notice after the reconnect
		release()
		synctest.Wait()

		got, _ := drainAll(upd.C)
		last := map[string]int{}
		for _, c := range got {
			last[c.ID] = c.Version
		}
		if last["reso_x"] != st.version("reso_x") {
			t.Errorf("update subscriber after the gap has versions %v, want reso_x at %d (changed during the gap)",
				last, st.version("reso_x"))
		}
	})
}

// TestHubUpdateSubscriberTakingABigBurstSteadilyStays: an update subscriber that keeps
// taking what it is offered is not "too slow", however long a big burst (the deadline
// sweeper escalating thousands of cases) takes to hand over: only one that stays full,
// taking nothing, past the stall limit is dropped, as for event subscribers.
func TestHubUpdateSubscriberTakingABigBurstSteadilyStays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		const n = 8000
		ids := addCases(st, n)
		h, stop := startHub(st)
		defer stop()
		u := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		got, done := readUpdates(u, 0, time.Millisecond)            // a client that takes 1,000 cases a second
		stuck := h.SubscribeUpdates(pubsub.UpdateFilter{All: true}) // takes nothing
		for _, id := range ids {
			h.Notify(st.commit(id, visBoth))
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if _, closed := drain(stuck.C); !closed || !errors.Is(stuck.Err(), pubsub.ErrSlowConsumer) {
			t.Errorf("an update subscriber that took nothing: closed=%v err=%v, want ended with ErrSlowConsumer", closed, stuck.Err())
		}
		h.UnsubscribeUpdates(u)
		<-done
		if errors.Is(u.Err(), pubsub.ErrSlowConsumer) {
			t.Errorf("an update subscriber taking a burst steadily was dropped as too slow (got %d of %d cases)", len(got), n)
		}
		if len(got) != n {
			t.Errorf("update subscriber got %d of %d changed cases", len(got), n)
		}
	})
}

// TestHubResyncBeyondItsReadEndsUpdateSubscribers: a resync reads at most a bounded
// number of changed cases. When more changed during the gap than it reads, update
// subscribers cannot be told about every case: rather than leave some out without a
// word, the hub ends them (SLOW_CONSUMER: resubscribe and read the cases again).
func TestHubResyncBeyondItsReadEndsUpdateSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newStore()
		const n = 10000 + 50
		ids := addCases(st, n)
		h, stop := startHub(st)
		defer stop()
		u := h.SubscribeUpdates(pubsub.UpdateFilter{All: true})
		got, done := readUpdates(u, 0, 0)
		for _, id := range ids { // committed during the gap: no notice
			st.commit(id, visBoth)
		}
		h.Resync()
		time.Sleep(time.Second)
		synctest.Wait()
		h.UnsubscribeUpdates(u)
		<-done
		if len(got) != n && !errors.Is(u.Err(), pubsub.ErrSlowConsumer) {
			t.Errorf("after a resync the update subscriber got %d of %d changed cases and was not told (err %v)",
				len(got), n, u.Err())
		}
	})
}

// addCases adds n cases of one company and customer to st and returns their IDs.
func addCases(st *fakeStore, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("reso_%05d", i)
		st.addCase(ids[i], "biz_a", "user_1")
	}
	return ids
}

// readUpdates reads u's changed cases into got (case ID to version) until u ends, as a
// client that starts reading after wait and takes each case in each; done closes then.
func readUpdates(u *pubsub.UpdateSub, wait, each time.Duration) (got map[string]int, done <-chan struct{}) {
	got = map[string]int{}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		time.Sleep(wait)
		for c := range u.C {
			got[c.ID] = c.Version
			time.Sleep(each)
		}
	}()
	return got, ch
}
