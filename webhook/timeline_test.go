package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// rollingBack enqueues through a service and then fails, as a later step of the
// change's transaction might: the change rolls back after the outbox saw it.
type rollingBack struct{ s *Service }

func (r rollingBack) Enqueue(ctx context.Context, tx *db.OutboxTx, ch db.CaseChange) (func(), error) {
	if _, err := r.s.Enqueue(ctx, tx, ch); err != nil {
		return nil, err
	}
	return nil, errors.New("a later step failed")
}

// TestTimelineCache: every change's payload carries exactly the events the company may
// see as of that change, the 50 latest, whether they came from the timeline cache or
// from the database: through hidden events, past 50 visible ones and hidden ones among
// the 50 latest, with changes that
// another process (a second service) committed in between, and with a change that rolled
// back after this process's outbox had seen it (its event must not reach the next
// payload). The cache must also have answered most of them.
func TestTimelineCache(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		key, _ := ParseKey("dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=")
		sealer, _ := NewSealer(key)
		p := dispute.DefaultPolicy()
		newService := func() *Service {
			s, err := New(d, sealer, &p, Options{Dev: true, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s, other := newService(), newService()
		c := dbtest.MustCast(t, d)
		if _, _, err := s.Create(ctx, EndpointInput{CompanyID: c.Company.ID, URL: "http://127.0.0.1:9/hook"}, dbtest.Now()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.SetOutbox(s))
		res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		id := res.Case.ID
		act := func(o db.Outbox, actor dispute.Actor, action dispute.Action, msg string) {
			t.Helper()
			d.SetOutbox(o)
			dbtest.MustApply(t, d, id, actor, action, msg, dbtest.Now())
			d.SetOutbox(s)
		}
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "still waiting")
		// Hidden from the merchant: a platform request for buyer information and its reply.
		act(s, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo, "receipt?")
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "attached")
		act(other, dispute.ActorMerchant, dispute.ActionRespond, "looking")
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "thanks")
		// A change that rolls back after this process's outbox saw it, then the same
		// position committed by the other process, then this process again.
		d.SetOutbox(rollingBack{s})
		if _, err := d.UpdateCase(ctx, db.Change{CaseID: id, Scope: db.Scope{All: true},
			Decide: func(cs dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				return p.Apply(cs, dispute.ActorCustomer, dispute.ActionRespond, dispute.Input{Message: "rolled back"}, dbtest.Now())
			}}); err == nil {
			t.Fatal("the change committed")
		}
		d.SetOutbox(s)
		act(other, dispute.ActorCustomer, dispute.ActionRespond, "committed elsewhere")
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "after the rollback")
		for range 55 {
			act(s, dispute.ActorCustomer, dispute.ActionRespond, "more")
		}
		// Hidden events among the 50 latest.
		act(s, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo, "statement?")
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "the statement")
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "anything else?")
		act(s, dispute.ActorCustomer, dispute.ActionRespond, "hello?")

		var msgs []struct {
			Position int    `bun:"position"`
			Data     string `bun:"data"`
		}
		if _, err := d.Raw(ctx, &msgs, "SELECT position, data FROM webhook_messages WHERE case_id = ? ORDER BY position", id); err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 67 {
			t.Fatalf("%d messages, want 67 (one per committed change)", len(msgs))
		}
		for _, m := range msgs {
			var data struct {
				Events []Event `json:"resolution_events"`
			}
			if err := json.Unmarshal([]byte(m.Data), &data); err != nil {
				t.Fatal(err)
			}
			if want := visibleAsOf(t, d, id, m.Position); !reflect.DeepEqual(data.Events, want) {
				t.Fatalf("position %d: the payload's events\n%+v\nwant\n%+v", m.Position, data.Events, want)
			}
		}
		if s.timelines.hits < 59 || s.timelines.misses < 2 {
			t.Fatalf("the cache answered %d and missed %d times, want at least 59 and 2", s.timelines.hits, s.timelines.misses)
		}
	})
}

// visibleAsOf renders, from the database, the events of the case the merchant may see
// up to position, the recentEvents latest, oldest first.
func visibleAsOf(t *testing.T, d *db.DB, caseID string, position int) []Event {
	t.Helper()
	var evs []dispute.Event
	for _, e := range dbtest.MustEvents(t, d, caseID) {
		if e.Position <= position && e.VisibleTo(viewer) {
			evs = append(evs, e)
		}
	}
	evs = evs[max(0, len(evs)-recentEvents):]
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, newEvent(e))
	}
	return out
}

// TestTimelineCacheBounds: the cache stays within its memory budget, keeps the entry
// just stored, never replaces an entry with an older one, and answers only for the
// position right after its entry's.
func TestTimelineCacheBounds(t *testing.T) {
	var c timelines
	big := strings.Repeat("x", 4000)
	events := make([]dispute.Event, recentEvents)
	for i := range events {
		events[i] = dispute.Event{ID: "evt", Position: i + 1, Details: big, ViewableByMerchant: true}
	}
	for i := range 200 {
		c.store("case"+strconv.Itoa(i), 50, events)
		if c.bytes > timelineBudget {
			t.Fatalf("after %d entries the cache holds %d bytes, over its budget", i+1, c.bytes)
		}
	}
	if _, ok := c.by["case199"]; !ok || len(c.by) >= 200 {
		t.Fatalf("%d entries, the last one kept: %v", len(c.by), ok)
	}
	total := 0
	for _, e := range c.by {
		total += e.size
	}
	if total != c.bytes {
		t.Fatalf("the entries add up to %d bytes, the cache counts %d", total, c.bytes)
	}
	c.store("case199", 49, events[:1])
	if c.by["case199"].position != 50 {
		t.Fatal("an older timeline replaced a newer one")
	}
	next := dispute.Event{ID: "new", Position: 51, ViewableByMerchant: true}
	got, ok := c.next("case199", next)
	if !ok || len(got) != recentEvents || got[len(got)-1].ID != "new" || got[0].Position != 2 {
		t.Fatalf("next after 50: %v, %d events", ok, len(got))
	}
	if c.by["case199"].events[recentEvents-1].Position != 50 {
		t.Fatal("next wrote into the cached timeline")
	}
	if _, ok := c.next("case199", dispute.Event{Position: 53}); ok {
		t.Fatal("answered for a position two after its entry's")
	}
	hidden := dispute.Event{ID: "hidden", Position: 51}
	if got, ok := c.next("case199", hidden); !ok || got[len(got)-1].Position != 50 {
		t.Fatal("an event the merchant may not see joined the timeline")
	}
}
