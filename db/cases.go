package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// Result is the outcome of a change: the case after it and the event it appended.
// Replayed is true when an idempotent retry returned a stored result.
type Result struct {
	Case     dispute.Case
	Event    dispute.Event
	Replayed bool
}

// Change is one read-modify-write of a case.
type Change struct {
	CaseID string
	// Scope is what the caller may see; a case outside it is NOT_FOUND.
	Scope Scope
	// ExpectedVersion, when set, refuses the change with CONFLICT if the case moved on.
	ExpectedVersion *int
	Idem            *Idempotency
	// Now is the time of the change (the idempotency record's creation time).
	Now time.Time
	// Decide computes the next case, its one event and the outside effects from the
	// current case, or refuses. It runs inside the transaction with the row locked.
	Decide func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error)
	// Budget, when set, is the policy whose message budget (MessagesPerHour) the
	// decided event must fit: the reporter's latest messages on the case are read in
	// the same transaction, after the row lock, so concurrent messages cannot both
	// take the last place.
	Budget *dispute.Policy
}

// UpdateCase applies one change in one transaction: it locks and loads the case,
// decides, saves the case with a version guard, appends the event, and makes the
// payment refund and membership cancellation. Nothing is written when any step fails.
//
// A retry replayed from its idempotency key answers only while the case is still in
// the caller's scope: a team member removed from the company since gets NOT_FOUND, as
// for any other request about the case, not the stored result.
func (d *DB) UpdateCase(ctx context.Context, ch Change) (Result, error) {
	res, err := d.updateCase(ctx, ch)
	if err == nil && res.Replayed && !ch.Scope.covers(res.Case) {
		return Result{}, &dispute.Error{Code: dispute.CodeNotFound, Field: "id", Message: "no resolution with this ID"}
	}
	return res, err
}

func (d *DB) updateCase(ctx context.Context, ch Change) (Result, error) {
	before := new(dispute.Case)
	return d.change(ctx, ch.Idem, ch.Now, before, func(ctx context.Context, tx bun.Tx) (dispute.Case, dispute.Event, dispute.Effects, error) {
		c, err := d.lockCase(ctx, tx, ch.Scope, ch.CaseID)
		if err != nil {
			return c, dispute.Event{}, dispute.Effects{}, err
		}
		*before = c
		if ch.ExpectedVersion != nil && *ch.ExpectedVersion != c.Version {
			return c, dispute.Event{}, dispute.Effects{}, &dispute.Error{Code: dispute.CodeConflict, Field: "expectedVersion",
				Message: "the case has changed since you saw it: version is now " + strconv.Itoa(c.Version)}
		}
		next, ev, eff, err := ch.Decide(c)
		if err != nil {
			return next, ev, eff, err
		}
		// A case with fewer events than the budget cannot hold a party's full budget:
		// most cases never pay for the look-up.
		if ch.Budget != nil && c.EventCount >= ch.Budget.MessagesPerHour &&
			(dispute.MessageBudget{PerHour: ch.Budget.MessagesPerHour}).Counts(ev) {
			recent, err := recentMessages(ctx, tx, c.ID, ev, ch.Budget.MessagesPerHour)
			if err != nil {
				return next, ev, eff, err
			}
			if err := ch.Budget.CheckMessages(c, ev, recent); err != nil {
				return next, ev, eff, err
			}
		}
		return next, ev, eff, d.saveCase(ctx, tx, c.Version, next)
	})
}

// OpenRequest asks to open a case on a payment.
type OpenRequest struct {
	UserID    string // the customer; must own the payment
	PaymentID string
	Issue     dispute.Issue
	Message   string
	Idem      *Idempotency
}

// OpenCase opens a case on one of the customer's paid, not refunded payments. A payment
// that is not the customer's is NOT_FOUND; a refunded one NOT_REFUNDABLE; a payment
// that already has a case ALREADY_EXISTS (a lost case is reopened by appeal).
func (d *DB) OpenCase(ctx context.Context, p dispute.Policy, req OpenRequest, now time.Time) (Result, error) {
	return d.change(ctx, req.Idem, now, nil, func(ctx context.Context, tx bun.Tx) (dispute.Case, dispute.Event, dispute.Effects, error) {
		var none dispute.Effects
		var pay paymentRow
		err := tx.NewSelect().Model(&pay).Where("id = ?", req.PaymentID).Where("user_id = ?", req.UserID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return dispute.Case{}, dispute.Event{}, none, &dispute.Error{Code: dispute.CodeNotFound, Field: "paymentId", Message: "no payment with this ID"}
		}
		if err != nil {
			return dispute.Case{}, dispute.Event{}, none, mapErr(err)
		}
		alreadyExists := &dispute.Error{Code: dispute.CodeAlreadyExists, Field: "paymentId", Message: "this payment already has a case"}
		if pay.Status != paymentPaid {
			return dispute.Case{}, dispute.Event{}, none, &dispute.Error{Code: dispute.CodeNotRefundable, Field: "paymentId", Message: "the payment was already refunded"}
		}
		exists, err := tx.NewSelect().Model((*resolutionRow)(nil)).Where("payment_id = ?", pay.ID).Exists(ctx)
		if err != nil {
			return dispute.Case{}, dispute.Event{}, none, mapErr(err)
		}
		if exists {
			return dispute.Case{}, dispute.Event{}, none, alreadyExists
		}
		c, ev, err := p.Open(dispute.Case{ID: ids.New(ids.Resolution), Issue: req.Issue, CompanyID: pay.CompanyID,
			UserID: pay.UserID, PaymentID: pay.ID, MemberID: pay.MembershipID}, req.Message, now)
		if err != nil {
			return c, ev, none, err
		}
		row := fromDomainCase(c)
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if dispute.CodeOf(mapErr(err)) == dispute.CodeAlreadyExists {
				return c, ev, none, alreadyExists
			}
			return c, ev, none, mapErr(err)
		}
		return c, ev, none, nil
	})
}

// change is what OpenCase and UpdateCase share: in one transaction it claims the
// idempotency key (returning the stored result of a retry), lets write save the case
// and decide the event and effects, then appends the event, applies the effects,
// announces the change, hands it to the outbox (webhooks), stores the result under
// the key and moves the case in the counts. before, when not nil, is where write
// leaves the case as it was (nil: the change opens the case). The commit hooks run
// after a commit.
func (d *DB) change(ctx context.Context, idem *Idempotency, now time.Time, before *dispute.Case,
	write func(ctx context.Context, tx bun.Tx) (dispute.Case, dispute.Event, dispute.Effects, error)) (Result, error) {
	var res Result
	var outboxCommitted func()
	if idem != nil && now.IsZero() {
		return res, errors.New("db: an idempotent change needs its time")
	}
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if idem != nil {
			stored, found, err := claimKey(ctx, tx, *idem, now)
			if err != nil || found {
				res = stored
				return err
			}
		}
		c, ev, eff, err := write(ctx, tx)
		if err != nil {
			return err
		}
		if ev, err = d.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := applyEffects(ctx, tx, c, eff, ev.CreatedAt); err != nil {
			return err
		}
		if err := d.announce(ctx, tx, c, ev); err != nil {
			return err
		}
		if outboxCommitted, err = d.enqueue(ctx, tx, before, c, ev); err != nil {
			return err
		}
		res = Result{Case: c, Event: ev}
		if idem != nil {
			if err := storeResult(ctx, tx, *idem, res); err != nil {
				return err
			}
		}
		// Last: the count rows it locks are the ones other writers may wait for.
		return countChange(ctx, tx, before, c)
	})
	if err == nil {
		d.committed(res)
		if outboxCommitted != nil {
			outboxCommitted()
		}
	}
	return res, err
}

// lockCase loads a case in scope for update. On PostgreSQL the row lock makes
// concurrent changes of one case take turns, each deciding on the state the previous
// one committed; on SQLite the single writer does the same.
func (d *DB) lockCase(ctx context.Context, tx bun.Tx, s Scope, id string) (dispute.Case, error) {
	var row resolutionRow
	q := tx.NewSelect().Model(&row).Where("r.id = ?", id)
	q = s.apply(q, nil)
	if d.Engine == Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return dispute.Case{}, &dispute.Error{Code: dispute.CodeNotFound, Field: "id", Message: "no resolution with this ID"}
		}
		return dispute.Case{}, mapErr(err)
	}
	return toDomainCase(row), nil
}

// recentMessages returns the creation times of the latest n events on a case with
// ev's action and reporter, newest first. It walks the (resolution_id, position)
// index backwards from the newest event and stops after n matches, so its cost is the
// events appended since the reporter's n-th latest message, not the timeline's length.
func recentMessages(ctx context.Context, tx bun.Tx, caseID string, ev dispute.Event, n int) ([]time.Time, error) {
	var out []time.Time
	err := tx.NewSelect().Model((*eventRow)(nil)).Column("e.created_at").
		Where("e.resolution_id = ?", caseID).Where("e.reporter_type = ?", string(ev.Reporter)).
		Where("e.action = ?", string(ev.Action)).
		OrderExpr("e.position DESC").Limit(int64(n)).Scan(ctx, &out)
	return out, mapErr(err)
}

// saveCase writes next over the row that still has version prev; zero rows means a
// concurrent change won, which is a conflict.
func (d *DB) saveCase(ctx context.Context, tx bun.Tx, prev int, next dispute.Case) error {
	row := fromDomainCase(next)
	var n int64
	if d.Engine == Postgres {
		var err error
		if n, err = d.pgSaveCase(ctx, tx, prev, row); err != nil {
			return err
		}
	} else {
		res, err := tx.NewUpdate().Model(&row).WherePK().Where("version = ?", prev).ExcludeColumn("id", "created_at").Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		n, _ = res.RowsAffected()
	}
	if n != 1 {
		return dispute.Conflict("the case changed concurrently; retry")
	}
	return nil
}

// appendEvent inserts the event with a fresh ID and returns it.
func (d *DB) appendEvent(ctx context.Context, tx bun.Tx, ev dispute.Event) (dispute.Event, error) {
	ev.ID = ids.New(ids.Event)
	row := fromDomainEvent(ev)
	if d.Engine == Postgres {
		return ev, d.pgAppendEvent(ctx, tx, row)
	}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return ev, mapErr(err)
	}
	return ev, nil
}

// applyEffects refunds the payment (exactly once: the guard on status makes a second
// refund impossible) and cancels the membership.
func applyEffects(ctx context.Context, tx bun.Tx, c dispute.Case, eff dispute.Effects, now time.Time) error {
	if eff.RefundPayment {
		res, err := tx.NewUpdate().Model((*paymentRow)(nil)).
			Set("status = ?", paymentRefunded).Set("refunded_amount = total").Set("refunded_at = ?", now).
			Where("id = ?", c.PaymentID).Where("status = ?", paymentPaid).Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return dispute.NotRefundable("the payment was already refunded")
		}
	}
	if eff.CancelMembership && c.MemberID != "" {
		_, err := tx.NewUpdate().Model((*membershipRow)(nil)).
			Set("status = ?", membershipCanceled).Set("canceled_at = ?", now).
			Where("id = ?", c.MemberID).Where("status = ?", membershipActive).Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// DueCases returns the IDs of cases waiting on a party whose deadline is at or before
// now, oldest deadline first, at most limit.
func (d *DB) DueCases(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var list []string
	err := d.bun.NewSelect().Model((*resolutionRow)(nil)).Column("r.id").
		Where("r.status IN (?)", bun.List(dispute.WaitingStatuses)).
		Where("r.due_date <= ?", now).OrderExpr("r.due_date ASC, r.id ASC").Limit(int64(limit)).Scan(ctx, &list)
	return list, mapErr(err)
}
