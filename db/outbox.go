package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
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
	d  *DB
}

// SQL returns the database/sql transaction (for the job queue's transactional insert).
func (t *OutboxTx) SQL() *sql.Tx { return t.tx.Tx }

// ActiveEndpoints returns the enabled endpoints that receive companyID's changes: the
// company's own and the platform's.
func (t *OutboxTx) ActiveEndpoints(ctx context.Context, companyID string) ([]WebhookEndpoint, error) {
	var rows []webhookEndpointRow
	if t.d.Engine == Postgres {
		r, err := t.query(ctx, pgActiveEndpoints, companyID)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		var out []WebhookEndpoint
		for r.Next() {
			var row webhookEndpointRow
			if err := r.Scan(&row.ID, &row.CompanyID, &row.EventTypes); err != nil {
				return nil, mapErr(err)
			}
			out = append(out, toWebhookEndpoint(row))
		}
		return out, mapErr(r.Err())
	}
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
// events visible to role of case c inside the transaction, in two statements (one when
// n is 0: no events are read).
func (t *OutboxTx) CaseParts(ctx context.Context, c dispute.Case, role dispute.Actor, n int) (CaseParts, error) {
	if t.d.Engine == Postgres {
		return t.pgCaseParts(ctx, c, role, n)
	}
	return t.bunCaseParts(ctx, c, role, n)
}

// bunCaseParts is CaseParts through bun (SQLite).
func (t *OutboxTx) bunCaseParts(ctx context.Context, c dispute.Case, role dispute.Actor, n int) (CaseParts, error) {
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
	if n <= 0 {
		p.Events = []dispute.Event{}
		return p, nil
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
// the first delivery) and its deliveries (all of that change) into the outbox.
func (t *OutboxTx) InsertDeliveries(ctx context.Context, list []WebhookDelivery) error {
	if len(list) == 0 {
		return nil
	}
	if t.d.Engine == Postgres {
		return t.pgInsertDeliveries(ctx, list)
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
	return h.o.Enqueue(ctx, &OutboxTx{tx: tx, d: d}, CaseChange{Before: before, After: after, Event: ev})
}

// RequeueWebhookDelivery makes a delivery pending again, due now, and lets enqueue
// schedule it in the same transaction (redelivery). A delivery leased to a worker (being
// sent) is refused with CONFLICT.
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
		// Not while it is being sent: the worker holding its lease would record over it,
		// and a second worker would send it beside the first.
		res, err := requeue(tx.NewUpdate().Model((*webhookDeliveryRow)(nil)), now).Where("id = ?", id).
			Where("lease_until IS NULL OR lease_until <= ?", now).Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return &dispute.Error{Code: dispute.CodeConflict, Field: "deliveryId",
				Message: "the delivery is being sent right now; ask again once its attempt is logged"}
		}
		r.Status, r.NextAttemptAt, r.LeaseUntil = DeliveryPending, now, time.Time{}
		out = toWebhookDelivery(r)
		return enqueue(ctx, &OutboxTx{tx: tx, d: d}, out)
	})
	return out, err
}

// LastPendingAfter returns the latest pending delivery of del's case to del's endpoint
// that comes after del in commit order (found false when none does): the deliveries
// held behind del end with it. Their jobs snoozed until del's retry was due; a
// redelivery of del that sends it sooner schedules a job for this one as well, whose
// claims then take the held deliveries in order, up to it.
func (t *OutboxTx) LastPendingAfter(ctx context.Context, del WebhookDelivery) (WebhookDelivery, bool, error) {
	var rows []webhookDeliveryRow
	err := t.tx.NewSelect().Model(&rows).
		Column("id", "endpoint_id", "company_id", "case_id", "position", "ordinal", "event_type", "status", "attempts", "created_at").
		Where("wd.case_id = ? AND wd.endpoint_id = ? AND wd.status = ?", del.CaseID, del.EndpointID, DeliveryPending).
		Where("(wd.position > ? OR (wd.position = ? AND wd.ordinal > ?))", del.Position, del.Position, del.Ordinal).
		OrderExpr("wd.position DESC, wd.ordinal DESC").Limit(1).Scan(ctx)
	if err != nil || len(rows) == 0 {
		return WebhookDelivery{}, false, mapErr(err)
	}
	return toWebhookDelivery(rows[0]), true, nil
}

// RequeueFailedWebhookDeliveries makes up to limit of an endpoint's failed deliveries,
// of changes at or after since, pending again and due now, oldest first, and lets
// enqueue schedule them in the same transaction (recovery after an outage: the claims
// still send each case's deliveries in commit order). It returns those it requeued and
// whether failed deliveries in the range remain. A delivery another caller requeued
// meanwhile is not requeued twice: the update takes only rows still failed.
func (d *DB) RequeueFailedWebhookDeliveries(ctx context.Context, endpointID string, since, now time.Time, limit int,
	enqueue func(ctx context.Context, tx *OutboxTx, list []WebhookDelivery) error) ([]WebhookDelivery, bool, error) {
	var (
		out  []WebhookDelivery
		more bool
	)
	err := d.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		failed := func() *bun.SelectQuery {
			return tx.NewSelect().TableExpr("webhook_deliveries").
				Where("endpoint_id = ? AND status = ? AND created_at >= ?", endpointID, DeliveryFailed, since)
		}
		var rows []webhookDeliveryRow
		err := requeue(tx.NewUpdate().Model(&rows), now).
			Where("id IN (?)", failed().Column("id").OrderExpr("created_at, id").Limit(int64(limit))).
			Where("status = ?", DeliveryFailed).
			Returning("id, endpoint_id, company_id, case_id, position, ordinal, event_type, attempts, created_at").
			Scan(ctx)
		if err != nil {
			return mapErr(err)
		}
		slices.SortFunc(rows, func(a, b webhookDeliveryRow) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		out = make([]WebhookDelivery, len(rows))
		for i, r := range rows {
			r.Status, r.NextAttemptAt = DeliveryPending, now
			out[i] = toWebhookDelivery(r)
		}
		if more, err = failed().Exists(ctx); err != nil {
			return mapErr(err)
		}
		if len(out) == 0 {
			return nil
		}
		return enqueue(ctx, &OutboxTx{tx: tx, d: d}, out)
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// requeue sets what makes a delivery pending again and due at now (a redelivery).
func requeue(q *bun.UpdateQuery, now time.Time) *bun.UpdateQuery {
	return q.Set("status = ?", DeliveryPending).Set("next_attempt_at = ?", now).Set("lease_until = NULL")
}
