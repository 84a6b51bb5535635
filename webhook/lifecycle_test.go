package webhook_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/deadline"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// attributeKeys are the case's top-level attributes previous_attributes compares.
var attributeKeys = []string{"status", "issue", "created_at", "updated_at", "due_date", "customer_appealed",
	"merchant_appealed", "customer_response_actions", "merchant_response_actions", "platform_response_actions",
	"outcome", "refund", "version"}

// TestLifecyclePayloads: a case decided, appealed, recorded a chargeback on and
// decided again, and a case decided by the deadline sweeper: the event types follow
// the lifecycle (decided after each closing change's updated, again after the appeal's
// decision), each updated's previous_attributes holds exactly the attributes that
// differ from the case's previous delivery, with their old values, and data's events
// are the merchant's view of the timeline at that change.
func TestLifecyclePayloads(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s, ctx := startService(t, d, webhook.Options{})
		t.Cleanup(d.SetOutbox(s))
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		endpointOn(ctx, t, s, c, rcv)
		now := dbtest.Now()
		one := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, now).Case.ID
		dbtest.MustApply(t, d, one, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo, "statement?", now)
		dbtest.MustApply(t, d, one, dispute.ActorCustomer, dispute.ActionRespond, "attached", now)
		dbtest.MustApply(t, d, one, dispute.ActorPlatform, dispute.ActionMerchantWins, "", now)
		dbtest.MustApply(t, d, one, dispute.ActorCustomer, dispute.ActionAppeal, "unfair", now)
		if _, err := d.UpdateCase(ctx, db.Change{CaseID: one, Scope: db.Scope{All: true},
			Decide: func(cs dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				next, ev, err := dispute.DefaultPolicy().Record(cs, dispute.EventDisputeOpened, "network case", now)
				return next, ev, dispute.Effects{}, err
			}}); err != nil {
			t.Fatal(err)
		}
		dbtest.MustApply(t, d, one, dispute.ActorPlatform, dispute.ActionMerchantRefund, "", now)

		two := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, now).Case.ID
		dbtest.MustApply(t, d, two, dispute.ActorMerchant, dispute.ActionRequestMoreInfo, "order number?", now)
		sw := &deadline.Sweeper{DB: d, Policy: dispute.DefaultPolicy(), Now: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }}
		if n, err := sw.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}

		const cr, up, de = webhook.EventCreated, webhook.EventUpdated, webhook.EventDecided
		want := map[string][]string{
			one: {cr, up, up, up, de, up, up, up, de},
			two: {cr, up, up, de},
		}
		rcv.WaitAccepted(t, len(want[one])+len(want[two]), 30*time.Second)
		time.Sleep(300 * time.Millisecond)
		rcv.CheckAll(t)
		byCase := map[string][]webhooktest.Delivery{}
		for _, x := range rcv.Accepted() {
			byCase[x.CaseID()] = append(byCase[x.CaseID()], x)
		}
		for id, list := range byCase {
			if !slices.Equal(types(list), want[id]) {
				t.Errorf("case %s: %v, want %v", id, types(list), want[id])
				continue
			}
			events := dbtest.MustEvents(t, d, id)
			var last map[string]any
			for _, x := range list {
				data := x.Data()
				version := int(data["version"].(float64))
				// The merchant's timeline as of this change.
				var wantPos, gotPos []int
				for _, e := range events {
					if e.Position <= version && e.ViewableByMerchant {
						wantPos = append(wantPos, e.Position)
					}
				}
				for _, e := range data["resolution_events"].([]any) {
					gotPos = append(gotPos, int(e.(map[string]any)["position"].(float64)))
				}
				if !slices.Equal(gotPos, wantPos) {
					t.Errorf("%s v%d %s: events %v, want %v", id, version, x.Type(), gotPos, wantPos)
				}
				prev, has := x.Payload["previous_attributes"].(map[string]any)
				if x.Type() == cr {
					if has {
						t.Errorf("created carries previous_attributes")
					}
					last = data
					continue
				}
				if x.Type() == de {
					// decided repeats its change's updated: same data and previous attributes.
					continue
				}
				wantPrev := map[string]any{}
				for _, k := range attributeKeys {
					a, _ := json.Marshal(last[k])
					b, _ := json.Marshal(data[k])
					if string(a) != string(b) {
						wantPrev[k] = last[k]
					}
				}
				a, _ := json.Marshal(prev)
				b, _ := json.Marshal(wantPrev)
				if string(a) != string(b) {
					t.Errorf("%s v%d: previous_attributes %s, want %s", id, version, a, b)
				}
				last = data
			}
		}
	})
}

// TestPayloadEventsBoundedByMessageLength: long messages do not make every later
// payload store them again: data.resolution_events holds the latest visible events
// whose messages fit 64 KiB together (always the newest), contiguous up to the change,
// and no more than fit (the next older one would pass the bound).
func TestPayloadEventsBoundedByMessageLength(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s, ctx := startService(t, d, webhook.Options{})
		t.Cleanup(d.SetOutbox(s))
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		endpointOn(ctx, t, s, c, rcv)
		now := dbtest.Now()
		id := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, now).Case.ID
		const n = 9
		for i := range n {
			dbtest.MustApply(t, d, id, dispute.ActorCustomer, dispute.ActionRespond, strings.Repeat(string(rune('a'+i)), dispute.MaxMessageLength), now)
		}
		got := rcv.WaitAccepted(t, n+1, 30*time.Second)
		rcv.CheckAll(t)
		const limit = 64 << 10
		events := dbtest.MustEvents(t, d, id)
		for _, x := range got {
			data := x.Data()
			version := int(data["version"].(float64))
			var visible []dispute.Event
			for _, e := range events {
				if e.Position <= version && e.ViewableByMerchant {
					visible = append(visible, e)
				}
			}
			list := data["resolution_events"].([]any)
			total := 0
			for i, raw := range list {
				e := raw.(map[string]any)
				want := visible[len(visible)-len(list)+i]
				if int(e["position"].(float64)) != want.Position {
					t.Fatalf("v%d: event %d at position %v, want the latest events up to the change (%d)", version, i, e["position"], want.Position)
				}
				if m, ok := e["details"].(string); ok {
					total += utf8.RuneCountInString(m)
				}
			}
			if len(list) == 0 || total > limit {
				t.Errorf("v%d: %d events with %d characters of messages, want the newest and at most %d", version, len(list), total, limit)
			}
			if len(list) < len(visible) {
				older := visible[len(visible)-len(list)-1]
				if total+utf8.RuneCountInString(older.Details) <= limit {
					t.Errorf("v%d: event %d left out, though it fits (%d + %d characters)", version, older.Position, total, len(older.Details))
				}
			}
		}
		last := got[len(got)-1].Data()["resolution_events"].([]any)
		if len(last) != 6 {
			t.Errorf("the last payload has %d events, want the 6 latest 10,000-character messages", len(last))
		}
		t.Logf("last payload: %d bytes, %d events", len(got[len(got)-1].Body), len(last))
	})
}
