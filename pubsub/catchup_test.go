package pubsub_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/pubsub"
)

// Catch-up against the real engines: the hub reads from the database itself (the db
// package is its Store), and a query hook counts the event rows its reads return.

// hubReads marks the context the hub runs with, so the hook counts only its reads.
type hubReads struct{}

// rowCounter counts the statements and rows of the reads made with hubReads.
type rowCounter struct{ statements, rows atomic.Int64 }

func (c *rowCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *rowCounter) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	if ctx.Value(hubReads{}) == nil {
		return
	}
	c.statements.Add(1)
	if ev.Result != nil {
		n, _ := ev.Result.RowsAffected()
		c.rows.Add(n)
	}
}

// caseScript is the i-th action of a script valid forever from a freshly opened case,
// with events hidden from one side (the platform's requests for information).
func caseScript(i int) (dispute.Actor, dispute.Action) {
	type step struct {
		actor  dispute.Actor
		action dispute.Action
	}
	cust, merch, plat := dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform
	respond := dispute.ActionRespond
	prelude := []step{{cust, respond}, {merch, respond}, {cust, respond}, {plat, dispute.ActionRequestMerchantInfo}, {merch, respond}}
	cycle := []step{{plat, dispute.ActionRequestBuyerInfo}, {cust, respond}, {merch, respond},
		{plat, dispute.ActionRequestMerchantInfo}, {merch, respond}, {cust, respond}}
	s := cycle[0]
	if i < len(prelude) {
		s = prelude[i]
	} else {
		s = cycle[(i-len(prelude))%len(cycle)]
	}
	return s.actor, s.action
}

// TestHubCatchUpReadsEachEventOnce resumes subscribers of every role from early in a
// long timeline (one that stops reading for a while, one that reads slowly) while more
// events commit: each gets every event it may see once and in order, and the hub's
// reads return about as many rows as it delivers. (Reading the whole rest of the
// timeline whenever a subscriber's buffer had filled returned O(n²/EventBuffer) rows.)
func TestHubCatchUpReadsEachEventOnce(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		const backlog, live = 400, 40
		cast := dbtest.MustCast(t, d)
		caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		step := 0
		act := func(h *pubsub.Hub) {
			actor, action := caseScript(step)
			res := dbtest.MustApply(t, d, caseID, actor, action, fmt.Sprintf("step %d", step), dbtest.Now())
			step++
			if h != nil {
				h.Notify(dispute.Notice{CaseID: caseID, Position: res.Event.Position, Version: res.Case.Version})
			}
		}
		for range backlog {
			act(nil)
		}

		var counter rowCounter
		t.Cleanup(d.AddQueryHook(&counter))
		h := pubsub.NewHub(d, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), hubReads{}, true))
		hubDone := make(chan struct{})
		go func() { defer close(hubDone); h.Run(ctx) }()
		defer func() { cancel(); <-hubDone }()

		type reader struct {
			name  string
			role  dispute.Actor
			after int
			pause time.Duration // before reading at all
			each  time.Duration // between events
			sub   *pubsub.EventSub
			mu    sync.Mutex
			got   []int
		}
		readers := []*reader{
			{name: "customer from event 1", role: dispute.ActorCustomer, after: 1},
			{name: "merchant from event 1", role: dispute.ActorMerchant, after: 1},
			{name: "platform from event 1", role: dispute.ActorPlatform, after: 1},
			{name: "customer from the middle", role: dispute.ActorCustomer, after: backlog / 2},
			{name: "platform reading slowly", role: dispute.ActorPlatform, after: 1, each: time.Millisecond},
			{name: "customer not reading for a second", role: dispute.ActorCustomer, after: 1, pause: time.Second},
		}
		var wg sync.WaitGroup
		for _, r := range readers {
			r.sub = h.SubscribeEvents(caseID, r.role, r.after)
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(r.pause)
				for {
					// Take what is there, then let the buffer fill again, as a client
					// on a network does.
					more, closed := drain(r.sub.C)
					for _, e := range more {
						r.mu.Lock()
						r.got = append(r.got, e.Position)
						r.mu.Unlock()
						time.Sleep(r.each)
					}
					if closed {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		for range live { // committed while the catch-up runs
			act(h)
			time.Sleep(5 * time.Millisecond)
		}

		all := dbtest.MustEvents(t, d, caseID)
		want := func(r *reader) []int {
			var out []int
			for _, e := range all {
				if e.Position > r.after && e.VisibleTo(r.role) {
					out = append(out, e.Position)
				}
			}
			return out
		}
		deadline := time.Now().Add(30 * time.Second)
		for _, r := range readers {
			for {
				r.mu.Lock()
				n := len(r.got)
				r.mu.Unlock()
				if n >= len(want(r)) || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
		delivered := 0
		for _, r := range readers {
			r.mu.Lock()
			if w := want(r); !slices.Equal(r.got, w) {
				t.Errorf("%s (after %d): got %d events %v,\nwant %d %v", r.name, r.after, len(r.got), r.got, len(w), w)
			}
			delivered += len(r.got)
			r.mu.Unlock()
		}
		rows, statements := counter.rows.Load(), counter.statements.Load()
		t.Logf("%d events delivered to %d subscribers; the hub read %d event rows in %d statements",
			delivered, len(readers), rows, statements)
		if rows > int64(2*delivered) {
			t.Errorf("the hub read %d event rows to deliver %d events: want at most twice as many", rows, delivered)
		}
		for _, r := range readers {
			h.UnsubscribeEvents(r.sub)
		}
		wg.Wait()
	})
}
