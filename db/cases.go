package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// Idempotency identifies a retryable mutation: the same principal sending the same
// key gets the first result back; the same key with a different request is refused.
type Idempotency struct {
	Principal   string // a stable identity of the caller, e.g. "token:tok_..."
	Key         string
	Operation   string // the mutation's name
	RequestHash string // a hash of the mutation's input
}

// Result is the outcome of a change: the case after it and the event it appended.
// Replayed is true when an idempotent retry returned a stored result.
type Result struct {
	Case     dispute.Case
	Event    dispute.Event
	Replayed bool
}

// storedResult is what an idempotency key keeps of the first result.
type storedResult struct {
	Case  dispute.Case  `json:"case"`
	Event dispute.Event `json:"event"`
}

// Change is one read-modify-write of a case.
type Change struct {
	CaseID string
	// Scope is what the caller may see; a case outside it is NOT_FOUND.
	Scope Scope
	// ExpectedVersion, when set, refuses the change with CONFLICT if the case moved on.
	ExpectedVersion *int
	Idem            *Idempotency
	// Decide computes the next case, its one event and the outside effects from the
	// current case, or refuses. It runs inside the transaction with the row locked.
	Decide func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error)
}

// UpdateCase applies one change in one transaction: it locks and loads the case,
// decides, saves the case with a version guard, appends the event, and makes the
// payment refund and membership cancellation. Nothing is written when any step fails.
func (d *DB) UpdateCase(ctx context.Context, ch Change) (Result, error) {
	var res Result
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if ch.Idem != nil {
			stored, found, err := d.claimKey(ctx, tx, *ch.Idem)
			if err != nil || found {
				res = stored
				return err
			}
		}
		c, err := d.lockCase(ctx, tx, ch.Scope, ch.CaseID)
		if err != nil {
			return err
		}
		if ch.ExpectedVersion != nil && *ch.ExpectedVersion != c.Version {
			return &dispute.Error{Code: dispute.CodeConflict, Field: "expectedVersion",
				Message: "the case has changed since you saw it: version is now " + strconv.Itoa(c.Version)}
		}
		next, ev, eff, err := ch.Decide(c)
		if err != nil {
			return err
		}
		if err := saveCase(ctx, tx, c.Version, next); err != nil {
			return err
		}
		if ev, err = d.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := applyEffects(ctx, tx, next, eff, ev.CreatedAt); err != nil {
			return err
		}
		if err := d.announce(ctx, tx, next, ev); err != nil {
			return err
		}
		res = Result{Case: next, Event: ev}
		if ch.Idem != nil {
			return storeResult(ctx, tx, *ch.Idem, res)
		}
		return nil
	})
	if err == nil {
		d.committed(res)
	}
	return res, err
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
	var res Result
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if req.Idem != nil {
			stored, found, err := d.claimKey(ctx, tx, *req.Idem)
			if err != nil || found {
				res = stored
				return err
			}
		}
		var pay paymentRow
		err := tx.NewSelect().Model(&pay).Where("id = ?", req.PaymentID).Where("user_id = ?", req.UserID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return &dispute.Error{Code: dispute.CodeNotFound, Field: "paymentId", Message: "no payment with this ID"}
		}
		if err != nil {
			return mapErr(err)
		}
		if pay.Status != "paid" {
			return &dispute.Error{Code: dispute.CodeNotRefundable, Field: "paymentId", Message: "the payment was already refunded"}
		}
		exists, err := tx.NewSelect().Model((*resolutionRow)(nil)).Where("payment_id = ?", pay.ID).Exists(ctx)
		if err != nil {
			return mapErr(err)
		}
		if exists {
			return &dispute.Error{Code: dispute.CodeAlreadyExists, Field: "paymentId", Message: "this payment already has a case"}
		}
		c, ev, err := p.Open(dispute.Case{ID: ids.New(ids.Resolution), Issue: req.Issue, CompanyID: pay.CompanyID,
			UserID: pay.UserID, PaymentID: pay.ID, MemberID: deref(pay.MembershipID)}, req.Message, now)
		if err != nil {
			return err
		}
		row := fromDomainCase(c)
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if dispute.CodeOf(mapErr(err)) == dispute.CodeAlreadyExists {
				return &dispute.Error{Code: dispute.CodeAlreadyExists, Field: "paymentId", Message: "this payment already has a case"}
			}
			return mapErr(err)
		}
		if ev, err = d.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := d.announce(ctx, tx, c, ev); err != nil {
			return err
		}
		res = Result{Case: c, Event: ev}
		if req.Idem != nil {
			return storeResult(ctx, tx, *req.Idem, res)
		}
		return nil
	})
	if err == nil {
		d.committed(res)
	}
	return res, err
}

// lockCase loads a case in scope for update. On PostgreSQL the row lock makes
// concurrent changes of one case take turns, each deciding on the state the previous
// one committed; on SQLite the single writer does the same.
func (d *DB) lockCase(ctx context.Context, tx bun.Tx, s Scope, id string) (dispute.Case, error) {
	var row resolutionRow
	q := tx.NewSelect().Model(&row).Where("r.id = ?", id)
	q = s.apply(q)
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

// saveCase writes next over the row that still has version prev; zero rows means a
// concurrent change won, which is a conflict.
func saveCase(ctx context.Context, tx bun.Tx, prev int, next dispute.Case) error {
	row := fromDomainCase(next)
	res, err := tx.NewUpdate().Model(&row).WherePK().Where("version = ?", prev).ExcludeColumn("id", "created_at").Exec(ctx)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return dispute.Conflict("the case changed concurrently; retry")
	}
	return nil
}

// appendEvent inserts the event with a fresh ID and returns it.
func (d *DB) appendEvent(ctx context.Context, tx bun.Tx, ev dispute.Event) (dispute.Event, error) {
	ev.ID = ids.New(ids.Event)
	row := fromDomainEvent(ev)
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
			Set("status = 'refunded'").Set("refunded_amount = total").Set("refunded_at = ?", now).
			Where("id = ?", c.PaymentID).Where("status = 'paid'").Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return dispute.NotRefundable("the payment was already refunded")
		}
	}
	if eff.CancelMembership && c.MemberID != "" {
		_, err := tx.NewUpdate().Model((*membershipRow)(nil)).
			Set("status = 'canceled'").Set("canceled_at = ?", now).
			Where("id = ?", c.MemberID).Where("status = 'active'").Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
	}
	return nil
}

type idempotencyRow struct {
	bun.BaseModel `bun:"table:idempotency_keys"`
	Principal     string    `bun:"principal,pk"`
	Key           string    `bun:"key,pk"`
	Operation     string    `bun:"operation,notnull"`
	RequestHash   string    `bun:"request_hash,notnull"`
	Response      *string   `bun:"response"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// IdempotencyTTL is how long keys are kept at least.
const IdempotencyTTL = 24 * time.Hour

// claimKey claims an idempotency key inside the transaction. When the key is new it is
// inserted (and its result stored by storeResult before commit); a concurrent claim of
// the same key waits on the unique index until this transaction ends. When the key was
// used before, the stored result is returned with found=true, or an error if the
// request differs.
func (d *DB) claimKey(ctx context.Context, tx bun.Tx, k Idempotency) (Result, bool, error) {
	row := idempotencyRow{Principal: k.Principal, Key: k.Key, Operation: k.Operation, RequestHash: k.RequestHash,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	res, err := tx.NewInsert().Model(&row).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return Result{}, false, mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return Result{}, false, nil
	}
	var old idempotencyRow
	if err := tx.NewSelect().Model(&old).Where("principal = ?", k.Principal).Where("key = ?", k.Key).Scan(ctx); err != nil {
		return Result{}, false, mapErr(err)
	}
	if old.Operation != k.Operation || old.RequestHash != k.RequestHash {
		return Result{}, false, &dispute.Error{Code: dispute.CodeConflict, Field: "idempotencyKey",
			Message: "this idempotency key was already used with a different request"}
	}
	if old.Response == nil {
		return Result{}, false, dispute.Conflict("the first request with this idempotency key is still in progress")
	}
	var sr storedResult
	if err := json.Unmarshal([]byte(*old.Response), &sr); err != nil {
		return Result{}, false, err
	}
	return Result{Case: sr.Case, Event: sr.Event, Replayed: true}, true, nil
}

func storeResult(ctx context.Context, tx bun.Tx, k Idempotency, res Result) error {
	b, err := json.Marshal(storedResult{Case: res.Case, Event: res.Event})
	if err != nil {
		return err
	}
	s := string(b)
	_, err = tx.NewUpdate().Model((*idempotencyRow)(nil)).Set("response = ?", s).
		Where("principal = ?", k.Principal).Where("key = ?", k.Key).Exec(ctx)
	return mapErr(err)
}

// PurgeIdempotencyKeys deletes keys older than the TTL.
func PurgeIdempotencyKeys(ctx context.Context, idb bun.IDB, now time.Time) (int64, error) {
	res, err := idb.NewDelete().Model((*idempotencyRow)(nil)).Where("created_at < ?", now.Add(-IdempotencyTTL)).Exec(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

// DueCases returns the IDs of open cases whose deadline is at or before now, oldest
// deadline first, at most limit.
func DueCases(ctx context.Context, idb bun.IDB, now time.Time, limit int) ([]string, error) {
	var list []string
	err := idb.NewSelect().Model((*resolutionRow)(nil)).Column("r.id").
		Where("r.status IN (?)", bun.List([]dispute.Status{dispute.StatusMerchantResponseNeeded,
			dispute.StatusCustomerResponseNeeded, dispute.StatusMerchantInfoNeeded, dispute.StatusCustomerInfoNeeded})).
		Where("r.due_date <= ?", now).OrderExpr("r.due_date ASC, r.id ASC").Limit(int64(limit)).Scan(ctx, &list)
	return list, mapErr(err)
}
