package db

import (
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/dispute"
)

// Bulk rows are for loading generated data fast (the seed command): flat values with
// nullzero, so the zero value ("" or the zero time) is stored as NULL, exactly as the
// row models of rows.go store an absent value. Times must be UTC, truncated to
// milliseconds.

// BulkCompany is a company to bulk-load.
type BulkCompany struct {
	bun.BaseModel `bun:"table:companies"`
	ID            string    `bun:"id,pk"`
	Title         string    `bun:"title,notnull"`
	Route         string    `bun:"route,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// BulkUser is a user to bulk-load.
type BulkUser struct {
	bun.BaseModel `bun:"table:users"`
	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name,nullzero"`
	Username      string    `bun:"username,notnull"`
	Email         string    `bun:"email,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// BulkTeamMember is a team membership to bulk-load.
type BulkTeamMember struct {
	bun.BaseModel `bun:"table:team_members"`
	CompanyID     string    `bun:"company_id,pk"`
	UserID        string    `bun:"user_id,pk"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// BulkMembership is a membership to bulk-load.
type BulkMembership struct {
	bun.BaseModel `bun:"table:memberships"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id,notnull"`
	CompanyID     string    `bun:"company_id,notnull"`
	Status        string    `bun:"status,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	CanceledAt    time.Time `bun:"canceled_at,nullzero"`
}

// BulkPayment is a payment to bulk-load.
type BulkPayment struct {
	bun.BaseModel  `bun:"table:payments"`
	ID             string    `bun:"id,pk"`
	UserID         string    `bun:"user_id,notnull"`
	CompanyID      string    `bun:"company_id,notnull"`
	MembershipID   string    `bun:"membership_id,nullzero"`
	Currency       string    `bun:"currency,notnull"`
	Total          int64     `bun:"total,notnull"`
	Subtotal       *int64    `bun:"subtotal"`
	RefundedAmount int64     `bun:"refunded_amount,notnull"`
	Status         string    `bun:"status,notnull"`
	PaidAt         time.Time `bun:"paid_at,nullzero"`
	RefundedAt     time.Time `bun:"refunded_at,nullzero"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
}

// Refund marks the payment refunded in full at t.
func (p *BulkPayment) Refund(t time.Time) {
	p.Status = "refunded"
	p.RefundedAmount = p.Total
	p.RefundedAt = t
}

// BulkCase is a case to bulk-load.
type BulkCase struct {
	bun.BaseModel    `bun:"table:resolutions"`
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

// BulkEvent is a timeline event to bulk-load.
type BulkEvent struct {
	bun.BaseModel      `bun:"table:resolution_events"`
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

// BulkCaseOf converts a domain case, whose identity fields are already the stored IDs.
func BulkCaseOf(c dispute.Case) BulkCase {
	r := BulkCase{
		ID: c.ID, Status: string(c.Status), Issue: string(c.Issue), CompanyID: c.CompanyID,
		UserID: c.UserID, PaymentID: c.PaymentID, MemberID: c.MemberID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		CustomerAppealed: c.CustomerAppealed, MerchantAppealed: c.MerchantAppealed,
		Outcome: string(c.Outcome), Refund: string(c.Refund), DecidedBy: string(c.DecidedBy),
		InfoRequests: c.InfoRequests, PaymentRefunded: c.PaymentRefunded, Version: c.Version,
		EventCount: c.EventCount,
	}
	if c.DueDate != nil {
		r.DueDate = *c.DueDate
	}
	return r
}

// BulkEventOf converts a domain event for case caseID with the stored ID id.
func BulkEventOf(e dispute.Event, id, caseID string) BulkEvent {
	return BulkEvent{
		ID: id, ResolutionID: caseID, Position: e.Position, Action: string(e.Action),
		ReporterType: string(e.Reporter), Details: e.Details, FromStatus: string(e.FromStatus),
		ToStatus: string(e.ToStatus), ViewableByCustomer: e.ViewableByCustomer,
		ViewableByMerchant: e.ViewableByMerchant, CreatedAt: e.CreatedAt,
	}
}
