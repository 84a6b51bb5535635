package webhook_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// types returns the payload types of deliveries in order.
func types(list []webhooktest.Delivery) []string {
	out := make([]string, len(list))
	for i, d := range list {
		out[i] = d.Type()
	}
	return out
}

// TestOrderBehindRetryingHead: a case's first delivery fails a few times; the case's
// later changes, committed meanwhile, are not sent to the endpoint before it is
// accepted, then follow in commit order. Two processes deliver.
func TestOrderBehindRetryingHead(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := webhook.Options{RetryBase: 200 * time.Millisecond, Timeout: 2 * time.Second}
		s1, s2 := newService(t, d, opts), newService(t, d, opts)
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		var mu sync.Mutex
		head := ""
		rcv.Respond = func(got webhooktest.Delivery, n int) int {
			mu.Lock()
			defer mu.Unlock()
			if got.Type() == webhook.EventCreated {
				head = got.ID
			}
			if got.ID == head && n <= 3 {
				return 500
			}
			return 200
		}
		endpointOn(ctx, t, s1, c, rcv)
		t.Cleanup(d.SetOutbox(s1))
		for _, s := range []*webhook.Service{s1, s2} {
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
		}
		res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		waitFor(t, func() bool { return len(rcv.All()) >= 1 })
		dbtest.MustApply(t, d, res.Case.ID, dispute.ActorMerchant, dispute.ActionRespond, "looking", dbtest.Now())
		dbtest.MustApply(t, d, res.Case.ID, dispute.ActorCustomer, dispute.ActionRespond, "still nothing", dbtest.Now())
		got := rcv.WaitAccepted(t, 3, 60*time.Second)
		rcv.CheckAll(t)
		if want := []string{webhook.EventCreated, webhook.EventUpdated, webhook.EventUpdated}; !slices.Equal(types(got), want) {
			t.Fatalf("accepted %v, want %v", types(got), want)
		}
		var versions []any
		for i, x := range rcv.All() {
			if x.Type() != webhook.EventCreated && i < 4 {
				t.Errorf("request %d (%s) arrived before the created delivery was accepted", i+1, x.Type())
			}
			versions = append(versions, x.Data()["version"])
		}
		t.Logf("versions in arrival order: %v", versions)
	})
}

// TestRedeliveredHeadReleasesLaterDeliveries: a case's first delivery failed and waits
// for its retry (an hour away); the case's next change is held behind it. Redelivering
// the first one (the receiver is fixed) sends it now, and the held change follows
// right after it, not an hour later when the held job would look again.
func TestRedeliveredHeadReleasesLaterDeliveries(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newService(t, d, webhook.Options{RetryBase: time.Hour, Timeout: 2 * time.Second})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		var mu sync.Mutex
		fixed := false
		rcv.Respond = func(webhooktest.Delivery, int) int {
			mu.Lock()
			defer mu.Unlock()
			if !fixed {
				return 500
			}
			return 200
		}
		ep := hookUp(ctx, t, d, s, c, rcv)
		res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		waitFor(t, func() bool { return len(rcv.All()) >= 1 })
		head := rcv.All()[0].ID
		dbtest.MustApply(t, d, res.Case.ID, dispute.ActorMerchant, dispute.ActionRespond, "looking", dbtest.Now())
		// Let the held job look once and snooze behind the head.
		time.Sleep(500 * time.Millisecond)
		if n := len(rcv.All()); n != 1 {
			t.Fatalf("%d requests before the redelivery, want 1 (the later change is held)", n)
		}
		mu.Lock()
		fixed = true
		mu.Unlock()
		if _, err := s.Redeliver(ctx, head, func(db.WebhookEndpoint) error { return nil }, dbtest.Now()); err != nil {
			t.Fatal(err)
		}
		got := rcv.WaitAccepted(t, 2, 15*time.Second)
		rcv.CheckAll(t)
		if want := []string{webhook.EventCreated, webhook.EventUpdated}; !slices.Equal(types(got), want) {
			t.Fatalf("accepted %v, want %v", types(got), want)
		}
		if got[0].ID != head {
			t.Errorf("redelivery webhook-id %s, want the same as the first attempt's %s", got[0].ID, head)
		}
		waitFor(t, func() bool {
			list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{Status: db.DeliveryDelivered}, "", 10)
			return err == nil && len(list) == 2
		})
	})
}

// TestOrderAfterHeadGivesUp: a case's first delivery fails until its retries end
// (RetryFor); the change held behind it is then sent. Redelivering the first one later
// sends it with its webhook-id.
func TestOrderAfterHeadGivesUp(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newService(t, d, webhook.Options{RetryBase: 100 * time.Millisecond, RetryFor: 1500 * time.Millisecond, Timeout: 2 * time.Second})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		var mu sync.Mutex
		head := ""
		rcv.Respond = func(got webhooktest.Delivery, n int) int {
			mu.Lock()
			defer mu.Unlock()
			if head == "" {
				head = got.ID
			}
			if got.ID == head && n < 100 {
				return 500
			}
			return 200
		}
		hookUp(ctx, t, d, s, c, rcv)
		res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		waitFor(t, func() bool { return len(rcv.All()) >= 1 })
		dbtest.MustApply(t, d, res.Case.ID, dispute.ActorMerchant, dispute.ActionRespond, "looking", dbtest.Now())
		got := rcv.WaitAccepted(t, 1, 20*time.Second)
		if got[0].Type() != webhook.EventUpdated {
			t.Fatalf("accepted %v", types(got))
		}
		del, err := d.WebhookDeliveryByID(ctx, head)
		if err != nil || del.Status != db.DeliveryFailed {
			t.Fatalf("head %+v %v, want failed before the held change was sent", del, err)
		}
		mu.Lock()
		head = "none"
		mu.Unlock()
		if _, err := s.Redeliver(ctx, del.ID, func(db.WebhookEndpoint) error { return nil }, dbtest.Now()); err != nil {
			t.Fatal(err)
		}
		got = rcv.WaitAccepted(t, 2, 20*time.Second)
		if got[1].ID != del.ID {
			t.Errorf("redelivered %s, want webhook-id %s", got[1].ID, del.ID)
		}
		rcv.CheckAll(t)
	})
}

// TestRestartMidBackoff: a delivery that failed waits for its retry in the outbox row
// and its snoozed job; the process stops, another starts, and the retry is sent by it
// when due, with the same webhook-id, and the attempt count goes on.
func TestRestartMidBackoff(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := webhook.Options{RetryBase: 1500 * time.Millisecond, Timeout: 2 * time.Second}
		s1 := newService(t, d, opts)
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		rcv.Respond = func(_ webhooktest.Delivery, n int) int {
			if n == 1 {
				return 500
			}
			return 200
		}
		ep := endpointOn(ctx, t, s1, c, rcv)
		t.Cleanup(d.SetOutbox(s1))
		if err := s1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		waitFor(t, func() bool {
			list, _ := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{}, "", 10)
			return len(list) == 1 && list[0].NextAttemptAt != nil
		})
		s1.Stop(context.Background())
		s2 := newService(t, d, opts)
		if err := s2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s2.Stop(context.Background())
		got := rcv.WaitAccepted(t, 1, 20*time.Second)
		rcv.CheckAll(t)
		if all := rcv.All(); len(all) != 2 || all[0].ID != got[0].ID {
			t.Fatalf("requests %d, want the failed one and its retry with one webhook-id", len(all))
		}
		waitFor(t, func() bool {
			list, _ := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{}, "", 10)
			return len(list) == 1 && list[0].Status == db.DeliveryDelivered && list[0].Attempts == 2
		})
	})
}

// hookUp registers an endpoint of c's company on rcv (which then verifies its
// signatures), makes s the database's outbox and starts s until the test ends.
func hookUp(ctx context.Context, t *testing.T, d *db.DB, s *webhook.Service, c *dbtest.Cast, rcv *webhooktest.Receiver) db.WebhookEndpoint {
	t.Helper()
	ep := endpointOn(ctx, t, s, c, rcv)
	t.Cleanup(d.SetOutbox(s))
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return ep
}

// endpointOn registers an endpoint of c's company on rcv, which then verifies its
// signatures.
func endpointOn(ctx context.Context, t *testing.T, s *webhook.Service, c *dbtest.Cast, rcv *webhooktest.Receiver) db.WebhookEndpoint {
	t.Helper()
	ep, secret, err := s.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: rcv.URL}, dbtest.Now())
	if err != nil {
		t.Fatal(err)
	}
	rcv.SetSecrets(secret)
	return ep
}
