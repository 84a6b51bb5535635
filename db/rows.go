package db

import (
	"strings"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// One row struct per table carries the bun tags; the rest of the program sees dispute
// types or the plain records below, converted by the named functions in this file.
// Absent values are zero values stored as NULL (nullzero): "" for an absent ID or
// text, the zero time for an absent time. Times are UTC at millisecond precision.

type companyRow struct {
	bun.BaseModel `bun:"table:companies"`
	ID            string    `bun:"id,pk"`
	Title         string    `bun:"title,notnull"`
	Route         string    `bun:"route,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

type userRow struct {
	bun.BaseModel `bun:"table:users"`
	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name,nullzero"`
	Username      string    `bun:"username,notnull"`
	Email         string    `bun:"email,notnull"`
	ExternalID    string    `bun:"external_id,nullzero"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

type teamMemberRow struct {
	bun.BaseModel `bun:"table:team_members"`
	CompanyID     string    `bun:"company_id,pk"`
	UserID        string    `bun:"user_id,pk"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

type membershipRow struct {
	bun.BaseModel `bun:"table:memberships"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id,notnull"`
	CompanyID     string    `bun:"company_id,notnull"`
	Status        string    `bun:"status,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	CanceledAt    time.Time `bun:"canceled_at,nullzero"`
}

type paymentRow struct {
	bun.BaseModel  `bun:"table:payments"`
	ID             string    `bun:"id,pk"`
	UserID         string    `bun:"user_id,notnull"`
	CompanyID      string    `bun:"company_id,notnull"`
	MembershipID   string    `bun:"membership_id,nullzero"`
	Currency       string    `bun:"currency,notnull"`
	Total          int64     `bun:"total,notnull"`
	Subtotal       *int64    `bun:"subtotal"` // 0 is a subtotal, so absence is nil
	RefundedAmount int64     `bun:"refunded_amount,notnull"`
	Status         string    `bun:"status,notnull"`
	PaidAt         time.Time `bun:"paid_at,nullzero"`
	RefundedAt     time.Time `bun:"refunded_at,nullzero"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
}

type resolutionRow struct {
	bun.BaseModel    `bun:"table:resolutions,alias:r"`
	ID               string    `bun:"id,pk"`
	Status           string    `bun:"status,notnull"`
	Issue            string    `bun:"issue,notnull"`
	CompanyID        string    `bun:"company_id,notnull"`
	UserID           string    `bun:"user_id,notnull"`
	PaymentID        string    `bun:"payment_id,notnull"`
	MemberID         string    `bun:"member_id,nullzero"`
	CreatedAt        time.Time `bun:"created_at,notnull"`
	UpdatedAt        time.Time `bun:"updated_at,notnull"`
	DueDate          time.Time `bun:"due_date,nullzero"`
	CustomerAppealed bool      `bun:"customer_appealed,notnull"`
	MerchantAppealed bool      `bun:"merchant_appealed,notnull"`
	Outcome          string    `bun:"outcome,nullzero"`
	Refund           string    `bun:"refund,nullzero"`
	DecidedBy        string    `bun:"decided_by,nullzero"`
	InfoRequests     int       `bun:"info_requests,notnull"`
	PaymentRefunded  bool      `bun:"payment_refunded,notnull"`
	Version          int       `bun:"version,notnull"`
	EventCount       int       `bun:"event_count,notnull"`
}

type eventRow struct {
	bun.BaseModel      `bun:"table:resolution_events,alias:e"`
	ID                 string    `bun:"id,pk"`
	ResolutionID       string    `bun:"resolution_id,notnull"`
	Position           int       `bun:"position,notnull"`
	Action             string    `bun:"action,notnull"`
	ReporterType       string    `bun:"reporter_type,notnull"`
	Details            string    `bun:"details,nullzero"`
	FromStatus         string    `bun:"from_status,notnull"`
	ToStatus           string    `bun:"to_status,notnull"`
	ViewableByCustomer bool      `bun:"viewable_by_customer,notnull"`
	ViewableByMerchant bool      `bun:"viewable_by_merchant,notnull"`
	CreatedAt          time.Time `bun:"created_at,notnull"`
}

type tokenRow struct {
	bun.BaseModel `bun:"table:api_tokens"`
	ID            string    `bun:"id,pk"`
	Hash          string    `bun:"hash,notnull"`
	Kind          string    `bun:"kind,notnull"`
	UserID        string    `bun:"user_id,nullzero"`
	CompanyID     string    `bun:"company_id,nullzero"`
	Scopes        string    `bun:"scopes,notnull"`
	Label         string    `bun:"label,nullzero"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	RevokedAt     time.Time `bun:"revoked_at,nullzero"`
}

// Company is a merchant.
type Company struct {
	ID        string
	Title     string
	Route     string
	CreatedAt time.Time
}

// User is a person: a customer and possibly a team member of companies.
type User struct {
	ID       string
	Name     string // empty when not given
	Username string
	Email    string
	// ExternalID is the user's subject at the OpenID Connect provider; "" when none.
	ExternalID string
	CreatedAt  time.Time
}

// TeamMember makes a user act as a company's merchant.
type TeamMember struct {
	CompanyID string
	UserID    string
	CreatedAt time.Time
}

// Membership is a user's subscription with a company.
type Membership struct {
	ID         string
	UserID     string
	CompanyID  string
	Active     bool
	CreatedAt  time.Time
	CanceledAt *time.Time
}

// Payment is a payment by a user to a company. Amounts are minor units.
type Payment struct {
	ID             string
	UserID         string
	CompanyID      string
	MembershipID   string
	Currency       string
	Total          int64
	Subtotal       *int64
	RefundedAmount int64
	Refunded       bool
	PaidAt         *time.Time
	RefundedAt     *time.Time
	CreatedAt      time.Time
}

// Refund marks the payment refunded in full at t (what accept and merchant_refund do
// to it; for generated data).
func (p *Payment) Refund(t time.Time) {
	p.Refunded, p.RefundedAmount, p.RefundedAt = true, p.Total, &t
}

func toCompany(r companyRow) Company {
	return Company{ID: r.ID, Title: r.Title, Route: r.Route, CreatedAt: r.CreatedAt.UTC()}
}

func fromCompany(c Company) companyRow {
	return companyRow{ID: c.ID, Title: c.Title, Route: c.Route, CreatedAt: c.CreatedAt}
}

func toUser(r userRow) User {
	return User{ID: r.ID, Name: r.Name, Username: r.Username, Email: r.Email, ExternalID: r.ExternalID, CreatedAt: r.CreatedAt.UTC()}
}

func fromUser(u User) userRow {
	return userRow{ID: u.ID, Name: u.Name, Username: u.Username, Email: u.Email, ExternalID: u.ExternalID, CreatedAt: u.CreatedAt}
}

func toTeamMember(r teamMemberRow) TeamMember {
	return TeamMember{CompanyID: r.CompanyID, UserID: r.UserID, CreatedAt: r.CreatedAt.UTC()}
}

func fromTeamMember(t TeamMember) teamMemberRow {
	return teamMemberRow{CompanyID: t.CompanyID, UserID: t.UserID, CreatedAt: t.CreatedAt}
}

// Membership and payment statuses as stored.
const (
	membershipActive   = "active"
	membershipCanceled = "canceled"
	paymentPaid        = "paid"
	paymentRefunded    = "refunded"
)

func toMembership(r membershipRow) Membership {
	return Membership{ID: r.ID, UserID: r.UserID, CompanyID: r.CompanyID, Active: r.Status == membershipActive,
		CreatedAt: r.CreatedAt.UTC(), CanceledAt: timePtr(r.CanceledAt)}
}

func fromMembership(m Membership) membershipRow {
	r := membershipRow{ID: m.ID, UserID: m.UserID, CompanyID: m.CompanyID, Status: membershipCanceled,
		CreatedAt: m.CreatedAt, CanceledAt: timeVal(m.CanceledAt)}
	if m.Active {
		r.Status = membershipActive
	}
	return r
}

func toPayment(r paymentRow) Payment {
	return Payment{ID: r.ID, UserID: r.UserID, CompanyID: r.CompanyID, MembershipID: r.MembershipID,
		Currency: r.Currency, Total: r.Total, Subtotal: r.Subtotal, RefundedAmount: r.RefundedAmount,
		Refunded: r.Status == paymentRefunded, PaidAt: timePtr(r.PaidAt), RefundedAt: timePtr(r.RefundedAt),
		CreatedAt: r.CreatedAt.UTC()}
}

func fromPayment(p Payment) paymentRow {
	r := paymentRow{ID: p.ID, UserID: p.UserID, CompanyID: p.CompanyID, MembershipID: p.MembershipID,
		Currency: p.Currency, Total: p.Total, Subtotal: p.Subtotal, RefundedAmount: p.RefundedAmount,
		Status: paymentPaid, PaidAt: timeVal(p.PaidAt), RefundedAt: timeVal(p.RefundedAt), CreatedAt: p.CreatedAt}
	if p.Refunded {
		r.Status = paymentRefunded
	}
	return r
}

func toDomainCase(r resolutionRow) dispute.Case {
	return dispute.Case{
		ID: r.ID, Status: dispute.Status(r.Status), Issue: dispute.Issue(r.Issue),
		CompanyID: r.CompanyID, UserID: r.UserID, PaymentID: r.PaymentID, MemberID: r.MemberID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), DueDate: timePtr(r.DueDate),
		CustomerAppealed: r.CustomerAppealed, MerchantAppealed: r.MerchantAppealed,
		Outcome: dispute.Outcome(r.Outcome), Refund: dispute.Refund(r.Refund),
		DecidedBy: dispute.Actor(r.DecidedBy), InfoRequests: r.InfoRequests,
		PaymentRefunded: r.PaymentRefunded, Version: r.Version, EventCount: r.EventCount,
	}
}

func fromDomainCase(c dispute.Case) resolutionRow {
	return resolutionRow{
		ID: c.ID, Status: string(c.Status), Issue: string(c.Issue), CompanyID: c.CompanyID,
		UserID: c.UserID, PaymentID: c.PaymentID, MemberID: c.MemberID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, DueDate: timeVal(c.DueDate),
		CustomerAppealed: c.CustomerAppealed, MerchantAppealed: c.MerchantAppealed,
		Outcome: string(c.Outcome), Refund: string(c.Refund), DecidedBy: string(c.DecidedBy),
		InfoRequests: c.InfoRequests, PaymentRefunded: c.PaymentRefunded, Version: c.Version,
		EventCount: c.EventCount,
	}
}

func toDomainEvent(r eventRow) dispute.Event {
	return dispute.Event{
		ID: r.ID, ResolutionID: r.ResolutionID, Position: r.Position,
		Action: dispute.EventAction(r.Action), Reporter: dispute.Actor(r.ReporterType),
		Details: r.Details, FromStatus: dispute.Status(r.FromStatus), ToStatus: dispute.Status(r.ToStatus),
		ViewableByCustomer: r.ViewableByCustomer, ViewableByMerchant: r.ViewableByMerchant,
		CreatedAt: r.CreatedAt.UTC(),
	}
}

func fromDomainEvent(e dispute.Event) eventRow {
	return eventRow{
		ID: e.ID, ResolutionID: e.ResolutionID, Position: e.Position, Action: string(e.Action),
		ReporterType: string(e.Reporter), Details: e.Details, FromStatus: string(e.FromStatus),
		ToStatus: string(e.ToStatus), ViewableByCustomer: e.ViewableByCustomer,
		ViewableByMerchant: e.ViewableByMerchant, CreatedAt: e.CreatedAt,
	}
}

// timePtr maps the zero time (NULL) to nil.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// timeVal maps nil to the zero time (NULL).
func timeVal(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
