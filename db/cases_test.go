package db_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

var caseT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// state is everything one change may touch.
type touched struct {
	Case    dispute.Case
	Events  []dispute.Event
	Payment db.Payment
	Member  db.Membership
}

func touchedOf(t *testing.T, d *db.DB, id string) touched {
	t.Helper()
	c := dbtest.MustGetCase(t, d, id)
	return touched{c, dbtest.MustEvents(t, d, id), dbtest.MustGetPayment(t, d, c.PaymentID), dbtest.MustGetMembership(t, d, c.MemberID)}
}

func expectTouched(t *testing.T, d *db.DB, id string, want touched) {
	t.Helper()
	if got := touchedOf(t, d, id); !reflect.DeepEqual(got, want) {
		t.Errorf("a failed change wrote something:\n got %+v\nwant %+v", got, want)
	}
}

func mustOpenCase(t *testing.T, d *db.DB) dispute.Case {
	t.Helper()
	u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
	m := dbtest.MustMembership(t, d, u, c)
	return dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, m.ID), dispute.IssueUnauthorizedTransaction, caseT0).Case
}

// accept is the merchant's accept with membership cancellation, as the API decides it.
func acceptDecision(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
	return dispute.DefaultPolicy().Apply(c, dispute.ActorMerchant, dispute.ActionAccept,
		dispute.Input{TerminateMembership: true}, caseT0.Add(time.Hour))
}

func TestUpdateCaseRollsBack(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		c := mustOpenCase(t, d)
		before := touchedOf(t, d, c.ID)
		errNo := errors.New("decided no")
		key := &db.Idempotency{Principal: "tok_test", Key: "k", Operation: string(dispute.ActionAccept), RequestHash: "h"}

		// Decide refuses: nothing is written, and the idempotency key stays free.
		_, err := d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Idem: key, Now: caseT0,
			Decide: func(dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				return dispute.Case{}, dispute.Event{}, dispute.Effects{RefundPayment: true}, errNo
			}})
		if !errors.Is(err, errNo) {
			t.Fatalf("UpdateCase = %v, want the decision's error", err)
		}
		expectTouched(t, d, c.ID, before)

		// The event cannot be stored (its position is taken) after the case row was
		// saved: the case row goes back too, and the refund never happens.
		_, err = d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Idem: key, Now: caseT0,
			Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				next, ev, eff, err := acceptDecision(c)
				ev.Position = 1
				return next, ev, eff, err
			}})
		if err == nil {
			t.Fatalf("UpdateCase with a clashing event position succeeded")
		}
		expectTouched(t, d, c.ID, before)

		// Outside the caller's scope: NOT_FOUND, nothing decided.
		_, err = d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{UserID: "user_nobody"},
			Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				t.Errorf("Decide called for a case outside the scope")
				return acceptDecision(c)
			}})
		if dispute.CodeOf(err) != dispute.CodeNotFound {
			t.Fatalf("UpdateCase outside scope = %v, want NOT_FOUND", err)
		}
		expectTouched(t, d, c.ID, before)

		// The key was never used up: the same request now applies, once.
		res, err := d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Idem: key, Now: caseT0, Decide: acceptDecision})
		if err != nil || res.Replayed || res.Case.Status != dispute.StatusCustomerWon {
			t.Fatalf("accept after failed attempts = %+v, %v", res, err)
		}
		after := touchedOf(t, d, c.ID)
		if !after.Payment.Refunded || after.Payment.RefundedAmount != after.Payment.Total || after.Member.Active ||
			len(after.Events) != 2 || after.Case.Version != 2 {
			t.Fatalf("after accept: %+v", after)
		}
	})
}

// The payment row guards the refund: a payment already refunded is never refunded
// again, whatever the case row says. Both the case and its event roll back.
func TestRefundGuard(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()

		t.Run("refunded by an earlier decision", func(t *testing.T) {
			c := mustOpenCase(t, d)
			if _, err := d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Decide: acceptDecision}); err != nil {
				t.Fatal(err)
			}
			// Corrupt the case row: back to open, as if never refunded.
			_, err := d.Raw(ctx, nil, "UPDATE resolutions SET status = ?, payment_refunded = ?, outcome = NULL, refund = NULL, "+
				"decided_by = NULL, due_date = ? WHERE id = ?",
				dispute.StatusMerchantResponseNeeded, false, caseT0.Add(7*24*time.Hour), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.RecountCases(ctx); err != nil { // the row changed behind the store's back
				t.Fatal(err)
			}
			expectNoSecondRefund(t, d, c.ID)
		})
		t.Run("refunded upstream", func(t *testing.T) {
			c := mustOpenCase(t, d)
			_, err := d.Raw(ctx, nil, "UPDATE payments SET status = 'refunded', refunded_amount = total, refunded_at = ? WHERE id = ?",
				caseT0.Add(time.Minute), c.PaymentID)
			if err != nil {
				t.Fatal(err)
			}
			expectNoSecondRefund(t, d, c.ID)
		})
	})
}

func expectNoSecondRefund(t *testing.T, d *db.DB, id string) {
	t.Helper()
	before := touchedOf(t, d, id)
	for _, decide := range []func(dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error){
		acceptDecision,
		func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
			return dispute.DefaultPolicy().Apply(c, dispute.ActorPlatform, dispute.ActionMerchantRefund, dispute.Input{}, caseT0.Add(2*time.Hour))
		},
	} {
		_, err := d.UpdateCase(context.Background(), db.Change{CaseID: id, Scope: db.Scope{All: true}, Decide: decide})
		if dispute.CodeOf(err) != dispute.CodeNotRefundable {
			t.Errorf("refund of a refunded payment = %v, want NOT_REFUNDABLE", err)
		}
		expectTouched(t, d, id, before)
	}
}

// Customers double-clicking "open": one case per payment, the others ALREADY_EXISTS.
func TestOpenCaseOncePerPayment(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
		pay := dbtest.MustPayment(t, d, u, c, "")
		const n = 10
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = d.OpenCase(context.Background(), dispute.DefaultPolicy(), db.OpenRequest{UserID: u.ID, PaymentID: pay.ID,
					Issue: dispute.IssueForgotToCancel, Message: "Cancel please."}, caseT0)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch dispute.CodeOf(err) {
			case "":
				ok++
			case dispute.CodeAlreadyExists:
			default:
				t.Errorf("concurrent open: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of %d concurrent opens succeeded", ok, n)
		}
	})
}
