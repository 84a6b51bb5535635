package db_test

import (
	"context"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// TestLeaseFencesDelivery: a delivery's lease (the claim's lease_until) fences what
// may change it. A redelivery of a delivery being sent is refused (CONFLICT) and
// changes nothing; a record under a lease that ran out (the delivery claimed again
// since) logs its attempt but leaves the delivery to the new holder, success or
// failure alike, as does a fail under the old lease; a lease given back frees the
// delivery at once and takes back the claim's attempt count.
func TestLeaseFencesDelivery(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, refs := deliveryFixture(t, d, 1, 1, 1)
		ref := refs[0][0][0]
		now := dbtest.Now()
		const lease = 10 * time.Second
		claim := func(at time.Time) db.WebhookDelivery {
			t.Helper()
			c, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{ref}, at, lease)
			if err != nil || c[0].Delivery.ID != ref.ID || c[0].Delivery.LeaseUntil == nil || !c[0].Delivery.LeaseUntil.Equal(at.Add(lease)) {
				t.Fatalf("claim at %s: %+v %v", at, c, err)
			}
			return c[0].Delivery
		}
		state := func() db.WebhookDelivery {
			t.Helper()
			st, err := d.WebhookDeliveryByID(ctx, ref.ID)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		attempts := func() int {
			t.Helper()
			var n []int
			if _, err := d.Raw(ctx, &n, "SELECT count(*) FROM webhook_attempts WHERE delivery_id = ?", ref.ID); err != nil {
				t.Fatal(err)
			}
			return n[0]
		}
		result := func(del db.WebhookDelivery, ok bool, at time.Time) db.AttemptResult {
			r := db.AttemptResult{EndpointID: ref.EndpointID, LeaseUntil: *del.LeaseUntil,
				Attempt: db.WebhookAttempt{ID: ids.New(ids.WebhookAttempt), DeliveryID: ref.ID, AttemptedAt: at, Success: ok, StatusCode: 500}}
			if ok {
				r.Status, r.Attempt.StatusCode = db.DeliveryDelivered, 204
			} else {
				r.Status, r.NextAttemptAt = db.DeliveryPending, at.Add(time.Hour)
			}
			return r
		}

		first := claim(now)
		enqueued := false
		_, err := d.RequeueWebhookDelivery(ctx, ref.ID, now.Add(time.Second), func(context.Context, *db.OutboxTx, db.WebhookDelivery) error {
			enqueued = true
			return nil
		})
		if dispute.CodeOf(err) != dispute.CodeConflict || enqueued {
			t.Fatalf("redelivery while leased: %v (enqueued %v), want CONFLICT", err, enqueued)
		}
		if st := state(); st.LeaseUntil == nil || !st.LeaseUntil.Equal(*first.LeaseUntil) || st.NextAttemptAt != nil {
			t.Fatalf("the refused redelivery changed the delivery: %+v", st)
		}

		// The first holder's lease runs out; another claims it.
		second := claim(now.Add(lease + time.Second))
		for _, ok := range []bool{false, true} {
			if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{result(first, ok, now.Add(lease+2*time.Second))}); err != nil {
				t.Fatal(err)
			}
			if st := state(); st.Status != db.DeliveryPending || st.LeaseUntil == nil || !st.LeaseUntil.Equal(*second.LeaseUntil) ||
				st.NextAttemptAt != nil || st.LastStatusCode != 0 {
				t.Fatalf("a record under the lost lease (success %v) changed the delivery: %+v", ok, st)
			}
		}
		if n := attempts(); n != 2 {
			t.Fatalf("%d attempts logged, want the 2 made under the lost lease", n)
		}
		if err := d.FailWebhookDelivery(ctx, ref.ID, *first.LeaseUntil, "endpoint disabled"); err != nil {
			t.Fatal(err)
		}
		if st := state(); st.Status != db.DeliveryPending || st.LastError != "" {
			t.Fatalf("a fail under the lost lease changed the delivery: %+v", st)
		}

		// The holder gives its lease back: claimable at once, the claim not counted.
		if st := state(); st.Attempts != 2 {
			t.Fatalf("attempts %d after two claims", st.Attempts)
		}
		if err := d.ReleaseWebhookDeliveries(ctx, []db.WebhookDelivery{first}); err != nil {
			t.Fatal(err)
		}
		if st := state(); st.LeaseUntil == nil || st.Attempts != 2 {
			t.Fatalf("giving back a lost lease released the holder's: %+v", st)
		}
		if err := d.ReleaseWebhookDeliveries(ctx, []db.WebhookDelivery{second}); err != nil {
			t.Fatal(err)
		}
		if st := state(); st.LeaseUntil != nil || st.Attempts != 1 {
			t.Fatalf("after giving the lease back: %+v, want no lease and 1 attempt", st)
		}
		third := claim(now.Add(lease + 2*time.Second))
		if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{result(third, true, now.Add(lease+3*time.Second))}); err != nil {
			t.Fatal(err)
		}
		if st := state(); st.Status != db.DeliveryDelivered || st.LeaseUntil != nil {
			t.Fatalf("the holder's record: %+v, want delivered", st)
		}
		// Not leased any more: a redelivery goes.
		if _, err := d.RequeueWebhookDelivery(ctx, ref.ID, now.Add(lease+4*time.Second), func(context.Context, *db.OutboxTx, db.WebhookDelivery) error {
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if st := state(); st.Status != db.DeliveryPending {
			t.Fatalf("after the redelivery: %+v", st)
		}
	})
}

// TestPurgeKeepsRedeliveredDelivery: a finished delivery the sweeper is about to delete
// that a redelivery makes pending at the same moment stays (the purge's condition is
// checked again on the row it deletes, after the redelivery's commit).
func TestPurgeKeepsRedeliveredDelivery(t *testing.T) {
	d := dbtest.MustPostgres(t)
	ctx := context.Background()
	_, refs := deliveryFixture(t, d, 1, 1, 1)
	ref := refs[0][0][0]
	now := dbtest.Now()
	c, err := d.ClaimWebhookDeliveries(ctx, []db.DeliveryRef{ref}, now, time.Minute)
	if err != nil || c[0].Delivery.ID != ref.ID {
		t.Fatalf("claim %+v %v", c, err)
	}
	if err := d.RecordWebhookAttempts(ctx, []db.AttemptResult{success(c[0], now)}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, "UPDATE webhook_deliveries SET status = 'pending' WHERE id = ?", ref.ID); err != nil {
		t.Fatal(err)
	}
	purged := make(chan int64, 1)
	go func() {
		n, _, err := d.PurgeWebhookDeliveries(ctx, now.Add(time.Hour))
		if err != nil {
			t.Error(err)
		}
		purged <- n
	}()
	waitForLockWait(t, d, "DELETE FROM webhook_deliveries%", "the purge never waited for the redelivered row")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := <-purged; n != 0 {
		t.Errorf("the purge deleted %d deliveries, want 0", n)
	}
	if st, err := d.WebhookDeliveryByID(ctx, ref.ID); err != nil || st.Status != db.DeliveryPending {
		t.Fatalf("the redelivered delivery after the purge: %+v %v", st, err)
	}
}
