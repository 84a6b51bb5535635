package db

import (
	"context"
	"database/sql"

	"resolutioncenter/dispute"
)

// The outbox's statements on PostgreSQL, inside the change's transaction. They run on
// every change a webhook endpoint receives, while the change holds its connection, so
// they are prepared statements of fixed text (PostgreSQL parses and plans each once
// per connection, where bun's formatted statements are parsed and planned every time),
// and the message with its deliveries is one statement; the payload's data travels as
// a parameter instead of a literal escaped into the statement.

// pgCasePartsQuery reads a case's company, customer, payment and membership.
const pgCasePartsQuery = `SELECT c.id, c.title, c.route, c.created_at, u.id, u.name, u.username, u.email, u.created_at,
 p.id, p.user_id, p.company_id, p.membership_id, p.currency, p.total, p.subtotal, p.refunded_amount, p.status,
 p.paid_at, p.refunded_at, p.created_at,
 m.id, m.user_id, m.company_id, m.status, m.created_at, m.canceled_at
 FROM payments AS p JOIN users AS u ON u.id = $1 JOIN companies AS c ON c.id = $2
 LEFT JOIN memberships AS m ON m.id = $3 WHERE p.id = $4`

// pgRecentEvents[role] reads a case's n latest events that role may see, newest first.
var pgRecentEvents = map[dispute.Actor]string{
	dispute.ActorCustomer: recentEventsQuery("AND e.viewable_by_customer"),
	dispute.ActorMerchant: recentEventsQuery("AND e.viewable_by_merchant"),
	dispute.ActorPlatform: recentEventsQuery(""),
}

func recentEventsQuery(cond string) string {
	return `SELECT e.id, e.position, e.action, e.reporter_type, e.details, e.from_status, e.to_status,
 e.viewable_by_customer, e.viewable_by_merchant, e.created_at FROM resolution_events AS e
 WHERE e.resolution_id = $1 ` + cond + ` ORDER BY e.position DESC LIMIT $2`
}

// pgInsertDeliveriesQuery writes a change's message and its deliveries.
const pgInsertDeliveriesQuery = `WITH message AS (
  INSERT INTO webhook_messages (case_id, position, company_id, created_at, data, previous_attributes)
  VALUES ($1, $2, $3, $4, $5, nullif($6, ''))
)
INSERT INTO webhook_deliveries (id, endpoint_id, company_id, case_id, position, ordinal, event_type, status, attempts, created_at)
SELECT d.id, d.endpoint_id, $3, $1, $2, d.ordinal, d.event_type, 'pending', 0, $4
FROM unnest($7::text[], $8::text[], $9::int[], $10::text[]) AS d(id, endpoint_id, ordinal, event_type)`

// query runs a prepared statement in the transaction, with the query hooks.
func (t *OutboxTx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.d.pgTxQuery(ctx, t.tx, query, args...)
}

func (t *OutboxTx) pgCaseParts(ctx context.Context, c dispute.Case, role dispute.Actor, n int) (CaseParts, error) {
	var p CaseParts
	events, ok := pgRecentEvents[role]
	if !ok {
		return p, &dispute.Error{Code: dispute.CodeInvalidArgument, Message: "no such role: " + string(role)}
	}
	rows, err := t.query(ctx, pgCasePartsQuery, c.UserID, c.CompanyID, c.MemberID, c.PaymentID)
	if err != nil {
		return p, err
	}
	var (
		co                            companyRow
		u                             userRow
		pay                           paymentRow
		uName, payMember              sql.NullString
		paySubtotal                   sql.NullInt64
		paidAt, refundedAt            sql.NullTime
		mID, mUser, mCompany, mStatus sql.NullString
		mCreated, mCanceled           sql.NullTime
		found                         bool
	)
	for rows.Next() {
		found = true
		err = rows.Scan(&co.ID, &co.Title, &co.Route, &co.CreatedAt, &u.ID, &uName, &u.Username, &u.Email, &u.CreatedAt,
			&pay.ID, &pay.UserID, &pay.CompanyID, &payMember, &pay.Currency, &pay.Total, &paySubtotal, &pay.RefundedAmount,
			&pay.Status, &paidAt, &refundedAt, &pay.CreatedAt, &mID, &mUser, &mCompany, &mStatus, &mCreated, &mCanceled)
	}
	if err == nil {
		err = rows.Err()
	}
	rows.Close()
	if err != nil {
		return p, mapErr(err)
	}
	if !found {
		return p, &dispute.Error{Code: dispute.CodeNotFound, Message: "the case's payment, user or company is missing"}
	}
	u.Name, pay.MembershipID = uName.String, payMember.String
	if paySubtotal.Valid {
		pay.Subtotal = &paySubtotal.Int64
	}
	pay.PaidAt, pay.RefundedAt = paidAt.Time, refundedAt.Time
	p.Company, p.User, p.Payment = toCompany(co), toUser(u), toPayment(pay)
	if mID.Valid {
		m := toMembership(membershipRow{ID: mID.String, UserID: mUser.String, CompanyID: mCompany.String,
			Status: mStatus.String, CreatedAt: mCreated.Time, CanceledAt: mCanceled.Time})
		p.Membership = &m
	}
	if n <= 0 {
		p.Events = []dispute.Event{}
		return p, nil
	}
	if rows, err = t.query(ctx, events, c.ID, n); err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		e := eventRow{ResolutionID: c.ID}
		var details sql.NullString
		if err := rows.Scan(&e.ID, &e.Position, &e.Action, &e.ReporterType, &details, &e.FromStatus, &e.ToStatus,
			&e.ViewableByCustomer, &e.ViewableByMerchant, &e.CreatedAt); err != nil {
			return p, mapErr(err)
		}
		e.Details = details.String
		p.Events = append(p.Events, toDomainEvent(e))
	}
	if err := rows.Err(); err != nil {
		return p, mapErr(err)
	}
	for i, j := 0, len(p.Events)-1; i < j; i, j = i+1, j-1 {
		p.Events[i], p.Events[j] = p.Events[j], p.Events[i]
	}
	if p.Events == nil {
		p.Events = []dispute.Event{}
	}
	return p, nil
}

func (t *OutboxTx) pgInsertDeliveries(ctx context.Context, list []WebhookDelivery) error {
	first := list[0]
	n := len(list)
	ids, endpoints, types, ordinals := make([]string, n), make([]string, n), make([]string, n), make([]int32, n)
	for i, d := range list {
		ids[i], endpoints[i], types[i], ordinals[i] = d.ID, d.EndpointID, d.EventType, int32(d.Ordinal)
	}
	rows, err := t.query(ctx, pgInsertDeliveriesQuery, first.CaseID, first.Position, first.CompanyID, first.CreatedAt,
		first.Data, first.Previous, ids, endpoints, ordinals, types)
	if err != nil {
		return err
	}
	rows.Close()
	return mapErr(rows.Err())
}
