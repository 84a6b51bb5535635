package webhook_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// TestSlowEndpointNoDoubleSends: two processes deliver to one slow endpoint that takes
// one request at a time from each (EndpointConcurrency 1) and answers 200 after 700 ms,
// a backlog longer than a lease (Timeout 1 s + 5 s). A delivery waiting for the
// endpoint's slot must not be sent once its lease no longer covers the attempt: another
// claim could take it meanwhile and send it too. Every delivery arrives exactly once,
// never two of one at once, each case's in commit order, and all end delivered.
func TestSlowEndpointNoDoubleSends(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := webhook.Options{Timeout: time.Second, EndpointConcurrency: 1}
		s1, s2 := newService(t, d, opts), newService(t, d, opts)
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		rcv.Respond = func(webhooktest.Delivery, int) int { time.Sleep(700 * time.Millisecond); return 200 }
		ep := endpointOn(ctx, t, s1, c, rcv)
		t.Cleanup(d.SetOutbox(s1))
		const cases = 12
		for range cases {
			res := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
			dbtest.MustApply(t, d, res.Case.ID, dispute.ActorMerchant, dispute.ActionRespond, "looking", dbtest.Now())
		}
		for _, s := range []*webhook.Service{s1, s2} {
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
		}
		rcv.WaitAccepted(t, 2*cases, 90*time.Second)
		waitFor(t, func() bool {
			list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{Status: db.DeliveryDelivered}, "", 100)
			return err == nil && len(list) == 2*cases
		})
		time.Sleep(500 * time.Millisecond)
		rcv.CheckAll(t)
		seen := map[string]int{}
		byCase := map[string][]string{}
		for _, got := range rcv.All() {
			seen[got.ID]++
			byCase[got.CaseID()] = append(byCase[got.CaseID()], got.Type())
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("%s received %d times (every answer was 200)", id, n)
			}
		}
		if o := rcv.Overlaps(); len(o) > 0 {
			t.Errorf("received twice at once: %v", o)
		}
		for id, types := range byCase {
			if !slices.Equal(types, []string{"resolution_center_case.created", "resolution_center_case.updated"}) {
				t.Errorf("case %s: %v, want created then updated", id, types)
			}
		}
	})
}

// TestRoundRecordsDespiteAnotherLaneError: one change, two endpoints. The round's
// delivery to A is sent and answered 200 while B's lane fails on the database (B was
// disabled meanwhile, and ending its delivery fails: a trigger stands in for any
// database error). A's attempt is still recorded (delivered, sent once), not dropped
// with the round to be sent again; once the database recovers, River's retry of the
// job ends B's delivery, which was never sent.
func TestRoundRecordsDespiteAnotherLaneError(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		enq := newService(t, d, webhook.Options{})
		c := dbtest.MustCast(t, d)
		rcvA, rcvB := webhooktest.Start(t), webhooktest.Start(t)
		a, secretA, err := enq.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: rcvA.URL}, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		rcvA.SetSecrets(secretA)
		b, _, err := enq.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: rcvB.URL}, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.SetOutbox(enq))
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		webhook.SetDisabled(t, d, b.ID, true)
		create, drop := []string{`CREATE TRIGGER zz_fail BEFORE UPDATE ON webhook_deliveries FOR EACH ROW
 WHEN NEW.endpoint_id = '` + b.ID + `' AND NEW.status = 'failed' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}, "DROP TRIGGER zz_fail"
		if d.Engine == db.Postgres {
			create = []string{`CREATE FUNCTION zz_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
				`CREATE TRIGGER zz_fail BEFORE UPDATE ON webhook_deliveries FOR EACH ROW
 WHEN (NEW.endpoint_id = '` + b.ID + `' AND NEW.status = 'failed') EXECUTE FUNCTION zz_fail()`}
			drop = "DROP TRIGGER zz_fail ON webhook_deliveries"
		}
		for _, q := range create {
			if _, err := d.Raw(ctx, nil, q); err != nil {
				t.Fatal(err)
			}
		}
		// A fresh process (nothing cached) runs the job.
		reg := prometheus.NewRegistry()
		run := newService(t, d, webhook.Options{Timeout: time.Second, Metrics: webhook.NewMetrics(reg)})
		if err := run.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer run.Stop(context.Background())
		status := func(ep string) string {
			list, err := d.ListWebhookDeliveries(ctx, ep, db.DeliveryFilter{}, "", 10)
			if err != nil || len(list) != 1 {
				t.Fatalf("deliveries of %s: %+v %v", ep, list, err)
			}
			return list[0].Status
		}
		rcvA.WaitAccepted(t, 1, 20*time.Second)
		waitFor(t, func() bool { return status(a.ID) == db.DeliveryDelivered })
		if n := len(rcvA.All()); n != 1 {
			t.Fatalf("A received %d requests, want 1", n)
		}
		if s := status(b.ID); s != db.DeliveryPending {
			t.Fatalf("B's delivery is %s while its database writes fail", s)
		}
		if _, err := d.Raw(ctx, nil, drop); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return status(b.ID) == db.DeliveryFailed })
		list, _ := d.ListWebhookDeliveries(ctx, b.ID, db.DeliveryFilter{}, "", 10)
		if !strings.Contains(list[0].LastError, "endpoint disabled") || list[0].Attempts != 0 {
			t.Errorf("B's delivery: %+v, want failed as disabled with no attempt counted", list[0])
		}
		if n := len(rcvB.All()); n != 0 {
			t.Errorf("B received %d requests while disabled", n)
		}
		if n := len(rcvA.All()); n != 1 {
			t.Errorf("A received %d requests, want 1", n)
		}
		// Both ended: A delivered, B failed as disabled (no attempt, but counted).
		for result, want := range map[string]float64{"delivered": 1, "failed": 1} {
			if got := counterValue(t, reg, "rc_webhook_deliveries_total", "result", result); got != want {
				t.Errorf("rc_webhook_deliveries_total{result=%q} = %v, want %v", result, got, want)
			}
		}
		rcvA.CheckAll(t)
	})
}
