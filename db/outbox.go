package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Outbox is told of every change of a case inside the transaction that commits it,
// so that what it writes (webhook deliveries and their jobs) commits with the change
// or not at all. Package webhook implements it; app installs it with SetOutbox.
type Outbox interface {
	// Enqueue writes through tx what the change produces. An error rolls the change
	// back. committed, when not nil, runs after the transaction committed.
	Enqueue(ctx context.Context, tx *OutboxTx, ch CaseChange) (committed func(), err error)
}

// CaseChange is one committed change of a case: the case before (nil when the change
// opened it), after, and the one event it appended.
type CaseChange struct {
	Before *dispute.Case
	After  dispute.Case
	Event  dispute.Event
}

// outboxHolder gives an installed outbox an identity, so that it can be removed.
type outboxHolder struct{ o Outbox }

// SetOutbox makes o see every change from now on, until remove is called. One outbox
// is active at a time: several servers sharing one DB (tests) share the last one set.
func (d *DB) SetOutbox(o Outbox) (remove func()) {
	h := &outboxHolder{o}
	d.outbox.Store(h)
	return func() { d.outbox.CompareAndSwap(h, nil) }
}

// OutboxTx is the transaction of a change, as the outbox may use it: the reads it
// needs to build a payload as committed, the delivery insert, and the *sql.Tx that
// the job queue inserts its jobs through.
type OutboxTx struct {
	tx bun.Tx
}

// SQL returns the database/sql transaction (for the job queue's transactional insert).
func (t *OutboxTx) SQL() *sql.Tx { return t.tx.Tx }

// ActiveEndpoints returns the enabled endpoints that receive companyID's changes: the
// company's own and the platform's.
func (t *OutboxTx) ActiveEndpoints(ctx context.Context, companyID string) ([]WebhookEndpoint, error) {
	var rows []webhookEndpointRow
	err := t.tx.NewSelect().Model(&rows).Column("id", "company_id", "event_types").
		Where("we.company_id = ? OR we.company_id IS NULL", companyID).Where("we.disabled_at IS NULL").
		OrderExpr("we.id").Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = toWebhookEndpoint(r)
	}
	return out, nil
}

// CaseParts is what a case refers to, as one transaction sees it.
type CaseParts struct {
	Company    Company
	User       User
	Payment    Payment
	Membership *Membership
	// Events are the n most recent events the role may see, oldest first.
	Events []dispute.Event
}

// CaseParts reads the company, customer, payment, membership and the n most recent
// events visible to role of case c inside the transaction.
func (t *OutboxTx) CaseParts(ctx context.Context, c dispute.Case, role dispute.Actor, n int) (CaseParts, error) {
	var p CaseParts
	companies, err := byID(ctx, t.tx, []string{c.CompanyID}, func(r companyRow) string { return r.ID }, toCompany)
	if err != nil {
		return p, err
	}
	users, err := byID(ctx, t.tx, []string{c.UserID}, func(r userRow) string { return r.ID }, toUser)
	if err != nil {
		return p, err
	}
	payments, err := byID(ctx, t.tx, []string{c.PaymentID}, func(r paymentRow) string { return r.ID }, toPayment)
	if err != nil {
		return p, err
	}
	p.Company, p.User, p.Payment = companies[c.CompanyID], users[c.UserID], payments[c.PaymentID]
	if c.MemberID != "" {
		ms, err := byID(ctx, t.tx, []string{c.MemberID}, func(r membershipRow) string { return r.ID }, toMembership)
		if err != nil {
			return p, err
		}
		if m, ok := ms[c.MemberID]; ok {
			p.Membership = &m
		}
	}
	cond, args := visibility([]CaseView{{CaseID: c.ID, Role: role}})
	var rows []eventRow
	if err := t.tx.NewSelect().Model(&rows).Where(cond, args...).OrderExpr("e.position DESC").Limit(int64(n)).Scan(ctx); err != nil {
		return p, mapErr(err)
	}
	p.Events = make([]dispute.Event, len(rows))
	for i, r := range rows {
		p.Events[len(rows)-1-i] = toDomainEvent(r)
	}
	return p, nil
}

// InsertDeliveries writes deliveries into the outbox.
func (t *OutboxTx) InsertDeliveries(ctx context.Context, list []WebhookDelivery) error {
	if len(list) == 0 {
		return nil
	}
	rows := make([]webhookDeliveryRow, len(list))
	for i, d := range list {
		rows[i] = fromWebhookDelivery(d)
	}
	_, err := t.tx.NewInsert().Model(&rows).Exec(ctx)
	return mapErr(err)
}

// enqueue hands a change to the installed outbox inside its transaction.
func (d *DB) enqueue(ctx context.Context, tx bun.Tx, before *dispute.Case, after dispute.Case, ev dispute.Event) (func(), error) {
	h := d.outbox.Load()
	if h == nil {
		return nil, nil
	}
	return h.o.Enqueue(ctx, &OutboxTx{tx: tx}, CaseChange{Before: before, After: after, Event: ev})
}

// RequeueWebhookDelivery makes a delivery pending again, due now, and lets enqueue
// schedule it in the same transaction (redelivery).
func (d *DB) RequeueWebhookDelivery(ctx context.Context, id string, now time.Time,
	enqueue func(ctx context.Context, tx *OutboxTx, del WebhookDelivery) error) (WebhookDelivery, error) {
	var out WebhookDelivery
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var r webhookDeliveryRow
		if err := tx.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return &dispute.Error{Code: dispute.CodeNotFound, Field: "deliveryId", Message: "no webhook delivery with this ID"}
			}
			return mapErr(err)
		}
		_, err := tx.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", DeliveryPending).
			Set("next_attempt_at = ?", now).Set("lease_until = NULL").Where("id = ?", id).Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		r.Status, r.NextAttemptAt, r.LeaseUntil = DeliveryPending, now, time.Time{}
		out = toWebhookDelivery(r)
		return enqueue(ctx, &OutboxTx{tx: tx}, out)
	})
	return out, err
}

// Claim is what ClaimWebhookDelivery found: a delivery to send now with its endpoint
// (leased to the caller until the lease ends), or Done (nothing left to do for the
// delivery asked about), or WaitUntil (an earlier delivery of the same case to the same
// endpoint is being sent or waits for its retry: try again then).
type Claim struct {
	Delivery  WebhookDelivery
	Endpoint  WebhookEndpoint
	Done      bool
	WaitUntil time.Time
}

// ClaimWebhookDelivery takes the next delivery to send on the way to delivering id:
// the earliest pending delivery of the same case to the same endpoint (id itself when
// it is the first), so that one case's deliveries reach an endpoint in commit order.
// The delivery taken is leased until now+lease: no other worker sends it meanwhile,
// and a worker that died holding it is replaced once the lease ends. A delivery to a
// disabled endpoint is marked failed.
func (d *DB) ClaimWebhookDelivery(ctx context.Context, id string, now time.Time, lease time.Duration) (Claim, error) {
	var c Claim
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c = Claim{}
		var target webhookDeliveryRow
		if err := tx.NewSelect().Model(&target).Where("id = ?", id).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) { // the endpoint was deleted
				c.Done = true
				return nil
			}
			return mapErr(err)
		}
		if target.Status != DeliveryPending {
			c.Done = true
			return nil
		}
		var ep webhookEndpointRow
		if err := tx.NewSelect().Model(&ep).Where("id = ?", target.EndpointID).Scan(ctx); err != nil {
			return mapErr(err)
		}
		if !ep.DisabledAt.IsZero() {
			_, err := tx.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", DeliveryFailed).
				Set("lease_until = NULL").Set("last_error = ?", "endpoint disabled: "+ep.DisabledReason).
				Where("id = ?", id).Exec(ctx)
			c.Done = true
			return mapErr(err)
		}
		var head webhookDeliveryRow
		q := tx.NewSelect().Model(&head).Where("wd.endpoint_id = ?", target.EndpointID).Where("wd.case_id = ?", target.CaseID).
			Where("wd.status = ?", DeliveryPending).
			Where("(wd.position < ? OR (wd.position = ? AND wd.ordinal <= ?))", target.Position, target.Position, target.Ordinal).
			OrderExpr("wd.position, wd.ordinal").Limit(1)
		if d.Engine == Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return mapErr(err)
		}
		switch {
		case head.LeaseUntil.After(now):
			c.WaitUntil = head.LeaseUntil.UTC()
			return nil
		case head.NextAttemptAt.After(now):
			c.WaitUntil = head.NextAttemptAt.UTC()
			return nil
		}
		head.LeaseUntil = now.Add(lease)
		head.Attempts++
		if _, err := tx.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("lease_until = ?", head.LeaseUntil).
			Set("attempts = ?", head.Attempts).Where("id = ?", head.ID).Exec(ctx); err != nil {
			return mapErr(err)
		}
		c.Delivery, c.Endpoint = toWebhookDelivery(head), toWebhookEndpoint(ep)
		return nil
	})
	return c, err
}

// AttemptResult says what an attempt means for its delivery and endpoint.
type AttemptResult struct {
	EndpointID string
	// EndpointFailing is whether the endpoint's FailingSince was set when claimed (a
	// success then clears it; otherwise a success leaves the endpoint row alone).
	EndpointFailing bool
	Attempt         WebhookAttempt
	// Status is the delivery's new status; NextAttemptAt when it stays pending.
	Status        string
	NextAttemptAt time.Time
	// DisableReason, when set, disables the endpoint.
	DisableReason string
}

// RecordWebhookAttempt logs an attempt, releases the delivery's lease with its new
// status, and keeps the endpoint's run of failures (FailingSince) up to date.
func (d *DB) RecordWebhookAttempt(ctx context.Context, r AttemptResult) error {
	a := r.Attempt
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := webhookAttemptRow{ID: a.ID, DeliveryID: a.DeliveryID, AttemptedAt: a.AttemptedAt, Success: a.Success,
			StatusCode: a.StatusCode, LatencyMS: a.LatencyMS, ResponseExcerpt: a.ResponseExcerpt, Error: a.Error}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return mapErr(err)
		}
		q := tx.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", r.Status).Set("lease_until = NULL").
			Set("last_status_code = ?", nullInt(a.StatusCode)).Set("last_error = ?", nullStr(a.Error)).
			Where("id = ?", a.DeliveryID)
		if r.Status == DeliveryDelivered {
			q = q.Set("delivered_at = ?", a.AttemptedAt)
		}
		if r.Status == DeliveryPending {
			q = q.Set("next_attempt_at = ?", r.NextAttemptAt)
		}
		if _, err := q.Exec(ctx); err != nil {
			return mapErr(err)
		}
		if a.Success && !r.EndpointFailing && r.DisableReason == "" {
			return nil
		}
		eq := tx.NewUpdate().Model((*webhookEndpointRow)(nil)).Where("id = ?", r.EndpointID)
		switch {
		case r.DisableReason != "":
			eq = eq.Set("disabled_at = ?", a.AttemptedAt).Set("disabled_reason = ?", r.DisableReason).
				Set("updated_at = ?", a.AttemptedAt)
		case a.Success:
			eq = eq.Set("failing_since = NULL").Where("failing_since IS NOT NULL")
		default:
			eq = eq.Set("failing_since = ?", a.AttemptedAt).Where("failing_since IS NULL")
		}
		_, err := eq.Exec(ctx)
		return mapErr(err)
	})
}

func nullInt(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullStr(v string) any {
	if v == "" {
		return nil
	}
	return v
}
