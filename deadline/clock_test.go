package deadline_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/deadline"
	"resolutioncenter/dispute"
)

// TestSweepStampsTransitionsWhenTheyHappen: a customer's message commits after a sweep
// read its clock but before the sweep reached the case (still due: the message keeps
// the merchant's deadline). The sweeper's escalation is stamped with the time it was
// applied, after the message, so the timeline's times and updatedAt never go back.
func TestSweepStampsTransitionsWhenTheyHappen(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		w := newSweepWorld(t, d)
		c := w.open(t, sweepT0)
		start, message := sweepT0.Add(week+time.Minute), sweepT0.Add(week+90*time.Second)
		var reads atomic.Int64
		s := &deadline.Sweeper{DB: d, Policy: dispute.DefaultPolicy(), Now: func() time.Time {
			switch reads.Add(1) {
			case 1: // the sweep's start; the message commits right after
				dbtest.MustApply(t, d, c.ID, dispute.ActorCustomer, dispute.ActionRespond, "still nothing", message)
				return start
			default:
				return sweepT0.Add(week + 2*time.Minute)
			}
		}}
		if n, err := s.Sweep(context.Background()); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		evs := dbtest.MustEvents(t, d, c.ID)
		for i := 1; i < len(evs); i++ {
			if evs[i].CreatedAt.Before(evs[i-1].CreatedAt) {
				t.Errorf("event %d (%s) at %s, before event %d (%s) at %s", evs[i].Position, evs[i].Action, evs[i].CreatedAt.Format(time.RFC3339),
					evs[i-1].Position, evs[i-1].Action, evs[i-1].CreatedAt.Format(time.RFC3339))
			}
		}
		got := dbtest.MustGetCase(t, d, c.ID)
		if len(evs) != 3 || got.Status == dispute.StatusMerchantResponseNeeded {
			t.Fatalf("the sweep did not move the case on: %s with %d events", got.Status, len(evs))
		}
		if got.UpdatedAt.Before(message) {
			t.Errorf("updatedAt %s, before the message at %s", got.UpdatedAt.Format(time.RFC3339), message.Format(time.RFC3339))
		}
	})
}
