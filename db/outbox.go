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

// casePartsRow is what one join reads of a case's company, customer, payment and
// membership.
type casePartsRow struct {
	CompanyID        string    `bun:"c_id"`
	CompanyTitle     string    `bun:"c_title"`
	CompanyRoute     string    `bun:"c_route"`
	CompanyCreatedAt time.Time `bun:"c_created_at"`
	UserID           string    `bun:"u_id"`
	UserName         string    `bun:"u_name,nullzero"`
	UserUsername     string    `bun:"u_username"`
	UserEmail        string    `bun:"u_email"`
	UserCreatedAt    time.Time `bun:"u_created_at"`
	paymentRow       `bun:"p,extend"`
	MemberID         string    `bun:"m_id,nullzero"`
	MemberUserID     string    `bun:"m_user_id,nullzero"`
	MemberCompanyID  string    `bun:"m_company_id,nullzero"`
	MemberStatus     string    `bun:"m_status,nullzero"`
	MemberCreatedAt  time.Time `bun:"m_created_at,nullzero"`
	MemberCanceledAt time.Time `bun:"m_canceled_at,nullzero"`
}

// casePartsQuery reads a payment with its user, company and membership in one join.
const casePartsQuery = `SELECT c.id AS c_id, c.title AS c_title, c.route AS c_route, c.created_at AS c_created_at,
 u.id AS u_id, u.name AS u_name, u.username AS u_username, u.email AS u_email, u.created_at AS u_created_at,
 p.id, p.user_id, p.company_id, p.membership_id, p.currency, p.total, p.subtotal, p.refunded_amount, p.status,
 p.paid_at, p.refunded_at, p.created_at,
 m.id AS m_id, m.user_id AS m_user_id, m.company_id AS m_company_id, m.status AS m_status, m.created_at AS m_created_at,
 m.canceled_at AS m_canceled_at
 FROM payments AS p JOIN users AS u ON u.id = ? JOIN companies AS c ON c.id = ?
 LEFT JOIN memberships AS m ON m.id = ? WHERE p.id = ?`

// CaseParts reads the company, customer, payment, membership and the n most recent
// events visible to role of case c inside the transaction, in two statements.
func (t *OutboxTx) CaseParts(ctx context.Context, c dispute.Case, role dispute.Actor, n int) (CaseParts, error) {
	var p CaseParts
	var rows []casePartsRow
	if err := t.tx.NewRaw(casePartsQuery, c.UserID, c.CompanyID, c.MemberID, c.PaymentID).Scan(ctx, &rows); err != nil {
		return p, mapErr(err)
	}
	if len(rows) != 1 {
		return p, &dispute.Error{Code: dispute.CodeNotFound, Message: "the case's payment, user or company is missing"}
	}
	r := rows[0]
	p.Company = toCompany(companyRow{ID: r.CompanyID, Title: r.CompanyTitle, Route: r.CompanyRoute, CreatedAt: r.CompanyCreatedAt})
	p.User = toUser(userRow{ID: r.UserID, Name: r.UserName, Username: r.UserUsername, Email: r.UserEmail, CreatedAt: r.UserCreatedAt})
	p.Payment = toPayment(r.paymentRow)
	if r.MemberID != "" {
		m := toMembership(membershipRow{ID: r.MemberID, UserID: r.MemberUserID, CompanyID: r.MemberCompanyID,
			Status: r.MemberStatus, CreatedAt: r.MemberCreatedAt, CanceledAt: r.MemberCanceledAt})
		p.Membership = &m
	}
	cond, args := visibility([]CaseView{{CaseID: c.ID, Role: role}})
	var evs []eventRow
	if err := t.tx.NewSelect().Model(&evs).Where(cond, args...).OrderExpr("e.position DESC").Limit(int64(n)).Scan(ctx); err != nil {
		return p, mapErr(err)
	}
	p.Events = make([]dispute.Event, len(evs))
	for i, e := range evs {
		p.Events[len(evs)-1-i] = toDomainEvent(e)
	}
	return p, nil
}

// InsertDeliveries writes a change's message (its data and previous attributes, from
// the first delivery) and its deliveries into the outbox.
func (t *OutboxTx) InsertDeliveries(ctx context.Context, list []WebhookDelivery) error {
	if len(list) == 0 {
		return nil
	}
	first := list[0]
	msg := webhookMessageRow{CaseID: first.CaseID, Position: first.Position, CompanyID: first.CompanyID,
		CreatedAt: first.CreatedAt, Data: first.Data, Previous: first.Previous}
	if _, err := t.tx.NewInsert().Model(&msg).Exec(ctx); err != nil {
		return mapErr(err)
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
		if err := withMessage(tx.NewSelect().Model(&r)).Where("wd.id = ?", id).Scan(ctx); err != nil {
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

// DeliveryRef names a delivery and its place in its case's order to its endpoint.
type DeliveryRef struct {
	ID         string `json:"delivery_id"`
	EndpointID string `json:"endpoint_id"`
	CaseID     string `json:"case_id"`
	Position   int    `json:"position"`
	Ordinal    int    `json:"ordinal"`
}

// Ref returns the delivery's reference.
func (d WebhookDelivery) Ref() DeliveryRef {
	return DeliveryRef{ID: d.ID, EndpointID: d.EndpointID, CaseID: d.CaseID, Position: d.Position, Ordinal: d.Ordinal}
}

// Claim is what ClaimWebhookDelivery found: a delivery to send now (leased to the
// caller until the lease ends), or Done (nothing left to do for the delivery asked
// about), or WaitUntil (an earlier delivery of the same case to the same endpoint, or
// this one, is being sent or waits for its retry: try again then).
type Claim struct {
	Delivery  WebhookDelivery
	Done      bool
	WaitUntil time.Time
}

// headQuery selects the earliest pending delivery of ref's case to ref's endpoint, up
// to ref itself.
const headQuery = `SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND case_id = ? AND status = 'pending'
 AND (position < ? OR (position = ? AND ordinal <= ?)) ORDER BY position, ordinal LIMIT 1`

// ClaimWebhookDelivery takes the next delivery to send on the way to delivering ref:
// the earliest pending delivery of the same case to the same endpoint (ref itself when
// it is the first), so that one case's deliveries reach an endpoint in commit order.
// The delivery taken is leased until now+lease: no other worker sends it meanwhile
// (a concurrent claim waits for the row lock, then sees the lease), and a worker that
// died holding it is replaced once the lease ends. The common case is one statement.
func (d *DB) ClaimWebhookDelivery(ctx context.Context, ref DeliveryRef, now time.Time, lease time.Duration) (Claim, error) {
	var c Claim
	head := headQuery
	if d.Engine == Postgres {
		head += " FOR UPDATE"
	}
	args := []any{now.Add(lease), ref.EndpointID, ref.CaseID, ref.Position, ref.Position, ref.Ordinal, now, now}
	claim := `UPDATE webhook_deliveries SET lease_until = ?, attempts = attempts + 1 WHERE id = (` + head + `)
 AND (lease_until IS NULL OR lease_until <= ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?) RETURNING *`
	err := d.inWrite(ctx, func(ctx context.Context, idb bun.IDB) error {
		c = Claim{}
		var rows []webhookDeliveryRow
		if err := idb.NewRaw(claim, args...).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		if len(rows) == 1 {
			c.Delivery = toWebhookDelivery(rows[0])
			return nil
		}
		// Nothing claimed: either nothing is pending up to ref (done), or the head is
		// leased or not yet due.
		var heads []webhookDeliveryRow
		err := idb.NewRaw(`SELECT * FROM webhook_deliveries WHERE id = (`+headQuery+`)`,
			ref.EndpointID, ref.CaseID, ref.Position, ref.Position, ref.Ordinal).Scan(ctx, &heads)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		if len(heads) == 0 {
			c.Done = true
			return nil
		}
		// In flight elsewhere: look again shortly (it usually ends in milliseconds; a
		// dead worker's lease runs out). Waiting for a retry: look again when it is due.
		h := heads[0]
		c.WaitUntil = now.Add(leasedRecheck)
		if h.NextAttemptAt.After(c.WaitUntil) {
			c.WaitUntil = h.NextAttemptAt.UTC()
		}
		return nil
	})
	return c, err
}

// leasedRecheck is how soon a claim blocked by a delivery in flight looks again.
const leasedRecheck = 200 * time.Millisecond

// WebhookMessage returns a change's data and previous attributes (the payload's
// shared part).
func (d *DB) WebhookMessage(ctx context.Context, caseID string, position int) (data, previous string, err error) {
	var m webhookMessageRow
	err = d.bun.NewSelect().Model(&m).Column("data", "previous_attributes").Where("case_id = ?", caseID).
		Where("position = ?", position).Scan(ctx)
	return m.Data, m.Previous, mapErr(err)
}

// inWrite runs fn as one write: on PostgreSQL straight on the pool (fn's statements
// each commit on their own), on SQLite in a transaction behind the single-writer gate.
func (d *DB) inWrite(ctx context.Context, fn func(ctx context.Context, idb bun.IDB) error) error {
	if d.Engine == Postgres {
		return fn(ctx, d.bun)
	}
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
}

// FailWebhookDelivery ends a leased delivery as failed without an attempt (its endpoint
// was disabled), with the reason as its last error.
func (d *DB) FailWebhookDelivery(ctx context.Context, id, reason string) error {
	return d.inWrite(ctx, func(ctx context.Context, idb bun.IDB) error {
		_, err := idb.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", DeliveryFailed).
			Set("lease_until = NULL").Set("last_error = ?", reason).Where("id = ?", id).Exec(ctx)
		return mapErr(err)
	})
}

// AttemptResult says what an attempt means for its delivery and endpoint.
type AttemptResult struct {
	EndpointID string
	Attempt    WebhookAttempt
	// Status is the delivery's new status; NextAttemptAt when it stays pending.
	Status        string
	NextAttemptAt time.Time
	// DisableReason, when set, disables the endpoint.
	DisableReason string
}

// RecordWebhookAttempt logs an attempt, releases the delivery's lease with its new
// status, and keeps the endpoint's run of failures (FailingSince) up to date. A success
// is one statement on PostgreSQL.
func (d *DB) RecordWebhookAttempt(ctx context.Context, r AttemptResult) error {
	a := r.Attempt
	row := webhookAttemptRow{ID: a.ID, DeliveryID: a.DeliveryID, AttemptedAt: a.AttemptedAt, Success: a.Success,
		StatusCode: a.StatusCode, LatencyMS: a.LatencyMS, ResponseExcerpt: a.ResponseExcerpt, Error: a.Error}
	update := func(idb bun.IDB) *bun.UpdateQuery {
		q := idb.NewUpdate().Model((*webhookDeliveryRow)(nil)).Set("status = ?", r.Status).Set("lease_until = NULL").
			Set("last_status_code = ?", nullInt(a.StatusCode)).Set("last_error = ?", nullStr(a.Error)).
			Where("id = ?", a.DeliveryID)
		if r.Status == DeliveryDelivered {
			q = q.Set("delivered_at = ?", a.AttemptedAt)
		}
		if r.Status == DeliveryPending {
			q = q.Set("next_attempt_at = ?", r.NextAttemptAt)
		}
		return q
	}
	if d.Engine == Postgres && a.Success && r.DisableReason == "" {
		healthy := d.bun.NewUpdate().Model((*webhookEndpointRow)(nil)).Set("failing_since = NULL").
			Where("id = ?", r.EndpointID).Where("failing_since IS NOT NULL")
		_, err := update(d.bun).With("attempt", d.bun.NewInsert().Model(&row)).With("healthy", healthy).Exec(ctx)
		return mapErr(err)
	}
	return d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return mapErr(err)
		}
		if _, err := update(tx).Exec(ctx); err != nil {
			return mapErr(err)
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
