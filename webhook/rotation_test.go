package webhook_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// TestRotateTwiceAndExpiry: two rotations within 24 h leave two signing secrets, the
// two newest (the first is retired at once); 24 h after the last rotation only the
// newest signs. The webhook-timestamp header is the attempt's time, the body's
// timestamp the change's.
func TestRotateTwiceAndExpiry(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		var offset atomic.Int64
		clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		s, ctx := startService(t, d, webhook.Options{Now: clock})
		t.Cleanup(d.SetOutbox(s))
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		ep, first, err := s.Create(ctx, webhook.EndpointInput{CompanyID: c.Company.ID, URL: rcv.URL}, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		allow := func(db.WebhookEndpoint) error { return nil }
		_, second, err := s.Rotate(ctx, ep.ID, allow, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, third, err := s.Rotate(ctx, ep.ID, allow, dbtest.Now())
		if err != nil {
			t.Fatal(err)
		}
		rcv.SetSecrets(third)
		check := func(got webhooktest.Delivery, at time.Time, valid, invalid []string) {
			t.Helper()
			if n := len(webhooktest.Entries(got.Signature)); n != len(valid) {
				t.Errorf("%d signature entries, want %d", n, len(valid))
			}
			for _, sec := range valid {
				if err := webhooktest.Verify([]string{sec}, got.ID, got.Timestamp, got.Signature, got.Body, at); err != nil {
					t.Errorf("a live secret does not verify: %v", err)
				}
			}
			for _, sec := range invalid {
				if err := webhooktest.Verify([]string{sec}, got.ID, got.Timestamp, got.Signature, got.Body, at); err == nil {
					t.Errorf("a retired secret verifies")
				}
			}
		}
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		got := rcv.WaitAccepted(t, 1, 20*time.Second)
		rcv.CheckAll(t)
		check(got[0], time.Now(), []string{third, second}, []string{first})

		offset.Store(int64(24*time.Hour + time.Minute))
		changed := dbtest.Now()
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, changed)
		got = rcv.WaitAccepted(t, 2, 20*time.Second)
		check(got[1], clock(), []string{third}, []string{second, first})
		sec, _ := strconv.ParseInt(got[1].Timestamp, 10, 64)
		if at := time.Unix(sec, 0); at.Before(time.Now().Add(24 * time.Hour)) {
			t.Errorf("webhook-timestamp %s is not the attempt's time by the service's clock", at)
		}
		if ts := got[1].Payload["timestamp"]; ts != changed.UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("body timestamp %v, want the change's time %s", ts, changed)
		}
	})
}
