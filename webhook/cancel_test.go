package webhook_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// TestAttemptCutByShutdownIsNotAFailure: a process stops (its grace over) while an
// attempt waits for the receiver's answer. The cut attempt is no fault of the
// endpoint's: it is not logged as a failed attempt, does not start the endpoint's run
// of failures, and the delivery stays pending, its lease given back; the next process
// sends it again with the same webhook-id, and it ends delivered.
func TestAttemptCutByShutdownIsNotAFailure(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := webhook.Options{Timeout: 5 * time.Second, RetryBase: time.Hour}
		s1 := newService(t, d, opts)
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		inFlight := make(chan struct{})
		release := make(chan struct{})
		var once sync.Once
		rcv.Respond = func(_ webhooktest.Delivery, n int) int {
			if n == 1 {
				once.Do(func() { close(inFlight) })
				<-release
			}
			return 200
		}
		defer once.Do(func() {})
		ep := endpointOn(ctx, t, s1, c, rcv)
		t.Cleanup(d.SetOutbox(s1))
		if err := s1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		select {
		case <-inFlight:
		case <-time.After(30 * time.Second):
			t.Fatal("the delivery never reached the receiver")
		}
		stopCtx, stopCancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		s1.Stop(stopCtx) // the grace is over before the answer: the attempt is cut
		stopCancel()
		close(release)

		list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{}, "", 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("deliveries %+v %v", list, err)
		}
		del := list[0]
		if del.Status != db.DeliveryPending || del.LastError != "" || del.Attempts != 0 {
			t.Errorf("after the cut attempt: status %s, %d attempts, last error %q; want pending, none, no error",
				del.Status, del.Attempts, del.LastError)
		}
		if attempts, err := d.WebhookAttempts(ctx, []string{del.ID}, 10); err != nil || len(attempts[del.ID]) != 0 {
			t.Errorf("attempts logged for the cut attempt: %+v %v", attempts[del.ID], err)
		}
		if got, err := d.WebhookEndpointByID(ctx, ep.ID); err != nil || got.FailingSince != nil {
			t.Errorf("endpoint failing since %v (%v); our shutdown is not its failure", got.FailingSince, err)
		}

		s2 := newService(t, d, opts)
		if err := s2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s2.Stop(context.Background())
		waitFor(t, func() bool {
			list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{Status: db.DeliveryDelivered}, "", 10)
			return err == nil && len(list) == 1
		})
		rcv.CheckAll(t)
		all := rcv.All()
		if len(all) != 2 || all[0].ID != del.ID || all[1].ID != del.ID {
			t.Errorf("received %d requests, want the cut one and its resend, both with webhook-id %s", len(all), del.ID)
		}
	})
}

// TestRunShortOfTimeGoesOnInANewRun: a change that closes a case has two deliveries to
// an endpoint (updated, then decided), sent in two rounds of one job run. When River's
// job timeout leaves too little time for the second round, the run ends and a new one
// sends it, instead of starting an attempt the timeout cuts: each delivery reaches the
// receiver exactly once, and no attempt fails.
func TestRunShortOfTimeGoesOnInANewRun(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		// Rounds of 700 ms (the receiver's answer) and a 1 s job timeout: the second
		// round would be cut 300 ms into its attempt.
		opts := webhook.WithJobTimeout(webhook.Options{Timeout: time.Second, RetryBase: time.Hour}, time.Second)
		s, ctx := startService(t, d, opts)
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		rcv.Respond = func(webhooktest.Delivery, int) int { time.Sleep(700 * time.Millisecond); return 200 }
		ep := endpointOn(ctx, t, s, c, rcv)
		t.Cleanup(d.SetOutbox(s))
		id := dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		rcv.WaitAccepted(t, 1, 30*time.Second)
		dbtest.MustApply(t, d, id, dispute.ActorCustomer, dispute.ActionWithdraw, "", dbtest.Now())
		got := rcv.WaitAccepted(t, 3, 30*time.Second)
		time.Sleep(1500 * time.Millisecond) // a cut attempt would be retried within this
		rcv.CheckAll(t)
		if want := []string{webhook.EventCreated, webhook.EventUpdated, webhook.EventDecided}; len(got) != 3 || types(got)[1] != want[1] || types(got)[2] != want[2] {
			t.Fatalf("accepted %v, want %v", types(got), want)
		}
		if all := rcv.All(); len(all) != 3 {
			t.Errorf("received %d requests (%v), want each of the 3 deliveries once", len(all), types(all))
		}
		list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, del := range list {
			if del.Status != db.DeliveryDelivered || del.LastError != "" || del.Attempts != 1 {
				t.Errorf("delivery %s (%s): status %s, %d attempts, last error %q; want delivered at the first attempt",
					del.ID, del.EventType, del.Status, del.Attempts, del.LastError)
			}
		}
	})
}

// TestSlowRecordStillLands: the database is slow to take an attempt's record (another
// transaction holds the delivery's row for longer than an attempt's Timeout). The
// record waits for it rather than giving up at Timeout: a record given up on leaves the
// delivered attempt unlogged, and the delivery is sent again when its lease runs out.
func TestSlowRecordStillLands(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s, ctx := startService(t, d, webhook.Options{Timeout: time.Second, RetryBase: time.Hour})
		c := dbtest.MustCast(t, d)
		rcv := webhooktest.Start(t)
		held := make(chan error, 1)
		rcv.Respond = func(got webhooktest.Delivery, n int) int {
			if n > 1 {
				return 200
			}
			// Hold the delivery's row (PostgreSQL) or the database's write lock (SQLite)
			// for 1.5 s, from before the answer until after it.
			locked := make(chan error, 1)
			go func() {
				tx, err := d.SQL().BeginTx(ctx, nil)
				if err == nil {
					q := "UPDATE webhook_deliveries SET last_error = last_error WHERE id = $1"
					if d.Engine != db.Postgres {
						q = "UPDATE webhook_deliveries SET last_error = last_error WHERE id = ?"
					}
					_, err = tx.ExecContext(ctx, q, got.ID)
					locked <- err
					time.Sleep(1500 * time.Millisecond)
					err = errors.Join(err, tx.Commit())
				} else {
					locked <- err
				}
				held <- err
			}()
			if err := <-locked; err != nil {
				t.Errorf("holding the row: %v", err)
			}
			return 200
		}
		ep := endpointOn(ctx, t, s, c, rcv)
		t.Cleanup(d.SetOutbox(s))
		dbtest.MustOpen(t, d, c.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		waitFor(t, func() bool {
			list, err := d.ListWebhookDeliveries(ctx, ep.ID, db.DeliveryFilter{Status: db.DeliveryDelivered}, "", 10)
			return err == nil && len(list) == 1
		})
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		time.Sleep(6 * time.Second) // past the lease (Timeout + 5 s): a lost record would mean a resend by now
		if all := rcv.All(); len(all) != 1 {
			t.Errorf("received %d requests, want 1 (the slow record was given up on)", len(all))
		}
	})
}
