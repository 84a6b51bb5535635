package db_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// mustTimeline opens a case and gives it n more events, some hidden from the customer
// (the platform asking the merchant for information) and some from the merchant (the
// platform asking the customer).
func mustTimeline(t *testing.T, d *db.DB, n int) string {
	t.Helper()
	cast := dbtest.MustCast(t, d)
	caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
	cust, merch, plat := dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform
	type step struct {
		actor  dispute.Actor
		action dispute.Action
	}
	steps := []step{{cust, dispute.ActionRespond}, {merch, dispute.ActionRespond}, {cust, dispute.ActionRespond},
		{plat, dispute.ActionRequestMerchantInfo}, {merch, dispute.ActionRespond}}
	cycle := []step{{plat, dispute.ActionRequestBuyerInfo}, {cust, dispute.ActionRespond}, {merch, dispute.ActionRespond},
		{plat, dispute.ActionRequestMerchantInfo}, {merch, dispute.ActionRespond}, {cust, dispute.ActionRespond}}
	for i := range n {
		s := cycle[(i+len(cycle)-len(steps))%len(cycle)]
		if i < len(steps) {
			s = steps[i]
		}
		dbtest.MustApply(t, d, caseID, s.actor, s.action, fmt.Sprintf("step %d", i), dbtest.Now())
	}
	return caseID
}

// TestEventsAfterReadsBoundedChunks: each read gets the first events after its
// position that one of its viewers may see, at most its limit, whatever the other
// reads of the statement (the same case from elsewhere, other viewers, other cases)
// and across statements; a viewer that sees nothing gets nothing.
func TestEventsAfterReadsBoundedChunks(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		x, y := mustTimeline(t, d, 40), mustTimeline(t, d, 12)
		timelines := map[string][]dispute.Event{x: dbtest.MustEvents(t, d, x), y: dbtest.MustEvents(t, d, y)}
		want := func(r dispute.TimelineRead) []int {
			var out []int
			for _, e := range timelines[r.CaseID] {
				if len(out) == r.Limit {
					break
				}
				if e.Position > r.After && slices.ContainsFunc(r.Viewers, e.VisibleTo) {
					out = append(out, e.Position)
				}
			}
			return out
		}
		cust, merch, plat := dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform
		reads := []dispute.TimelineRead{
			{CaseID: x, After: 0, Viewers: []dispute.Actor{cust}, Limit: 5},
			{CaseID: x, After: 3, Viewers: []dispute.Actor{merch}, Limit: 100},
			{CaseID: x, After: 10, Viewers: []dispute.Actor{cust, merch}, Limit: 7},
			{CaseID: x, After: 10, Viewers: []dispute.Actor{cust}, Limit: 7},
			{CaseID: x, After: 5, Viewers: []dispute.Actor{merch, plat}, Limit: 16},
			{CaseID: x, After: 38, Viewers: []dispute.Actor{plat}, Limit: 16},
			{CaseID: x, After: 41, Viewers: []dispute.Actor{plat}, Limit: 16}, // at the end
			{CaseID: x, After: 1, Viewers: []dispute.Actor{dispute.ActorSystem}, Limit: 16},
			{CaseID: x, After: 1, Viewers: nil, Limit: 16},
			{CaseID: y, After: 2, Viewers: []dispute.Actor{cust}, Limit: 3},
			{CaseID: "reso_unknown", After: 0, Viewers: []dispute.Actor{plat}, Limit: 16},
		}
		for i := range 250 { // more than one statement holds
			reads = append(reads, dispute.TimelineRead{CaseID: []string{x, y}[i%2], After: i % 30,
				Viewers: [][]dispute.Actor{{cust}, {merch}, {plat}}[i%3], Limit: 1 + i%9})
		}
		got, err := d.EventsAfter(context.Background(), reads)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(reads) {
			t.Fatalf("%d answers to %d reads", len(got), len(reads))
		}
		for i, r := range reads {
			var pos []int
			for _, e := range got[i] {
				if e.ResolutionID != r.CaseID {
					t.Errorf("read %d (%+v): event %s of case %s", i, r, e.ID, e.ResolutionID)
				}
				pos = append(pos, e.Position)
			}
			if w := want(r); !slices.Equal(pos, w) {
				t.Errorf("read %d (%+v): got %v, want %v", i, r, pos, w)
			}
		}
		// Whole events, as the timeline has them.
		if got[5][0] != timelines[x][38] {
			t.Errorf("event 39 read as %+v, stored %+v", got[5][0], timelines[x][38])
		}
		if none, err := d.EventsAfter(context.Background(), nil); err != nil || len(none) != 0 {
			t.Errorf("no reads: %v, %v", none, err)
		}
	})
}
