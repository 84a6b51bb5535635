// Package model holds the GraphQL models: the generated inputs, payloads and
// connections, and hand-written models wrapping domain values, with the converters
// from db and dispute types. Fields are methods where they are computed, so gqlgen
// resolves them inline instead of spawning a goroutine per field.
//
// model imports db and dispute.
package model

import (
	"time"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// Resolution is a case as one viewer sees it.
type Resolution struct {
	Case dispute.Case
	// Role is the viewer's role on this case: customer, merchant or platform.
	Role dispute.Actor
	// MayAct tells whether the viewer may act at all (its token has the manage
	// scope); without it viewerActions is empty.
	MayAct bool
	Policy *dispute.Policy
}

// NewResolution wraps a case for a viewer in role; mayAct tells whether the viewer's
// token may act (the manage scope).
func NewResolution(c dispute.Case, role dispute.Actor, mayAct bool, p *dispute.Policy) *Resolution {
	return &Resolution{Case: c, Role: role, MayAct: mayAct, Policy: p}
}

// ID is the case ID.
func (r *Resolution) ID() string { return r.Case.ID }

// Status is where the case stands.
func (r *Resolution) Status() dispute.Status { return r.Case.Status }

// Issue is what went wrong.
func (r *Resolution) Issue() dispute.Issue { return r.Case.Issue }

// CreatedAt is when the case was opened.
func (r *Resolution) CreatedAt() time.Time { return r.Case.CreatedAt }

// UpdatedAt is when the case last changed.
func (r *Resolution) UpdatedAt() time.Time { return r.Case.UpdatedAt }

// DueDate is the active deadline.
func (r *Resolution) DueDate() *time.Time { return r.Case.DueDate }

// CustomerAppealed tells whether the customer appealed.
func (r *Resolution) CustomerAppealed() bool { return r.Case.CustomerAppealed }

// MerchantAppealed tells whether the merchant appealed.
func (r *Resolution) MerchantAppealed() bool { return r.Case.MerchantAppealed }

// Version increases with every change.
func (r *Resolution) Version() int { return r.Case.Version }

// Outcome is how the case ended, nil while open.
func (r *Resolution) Outcome() *dispute.Outcome {
	if r.Case.Outcome == dispute.OutcomeNone {
		return nil
	}
	o := r.Case.Outcome
	return &o
}

// Refund is who refunded the customer, nil while open.
func (r *Resolution) Refund() *dispute.Refund {
	if r.Case.Refund == dispute.RefundUnset {
		return nil
	}
	f := r.Case.Refund
	return &f
}

// CustomerResponseActions is what the customer may do now.
func (r *Resolution) CustomerResponseActions() []dispute.Action {
	return nonNil(r.Policy.Allowed(r.Case, dispute.ActorCustomer))
}

// MerchantResponseActions is what the merchant may do now.
func (r *Resolution) MerchantResponseActions() []dispute.Action {
	return nonNil(r.Policy.Allowed(r.Case, dispute.ActorMerchant))
}

// PlatformResponseActions is what the platform may do now.
func (r *Resolution) PlatformResponseActions() []dispute.Action {
	return nonNil(r.Policy.Allowed(r.Case, dispute.ActorPlatform))
}

// ViewerActions is what the viewer may do now: its role's actions, or none without
// the manage scope (dispute.Policy.ViewerActions).
func (r *Resolution) ViewerActions() []dispute.Action {
	return r.Policy.ViewerActions(r.Case, r.Role, r.MayAct)
}

func nonNil(a []dispute.Action) []dispute.Action {
	if a == nil {
		return []dispute.Action{}
	}
	return a
}

// Event is a timeline entry.
type Event struct {
	dispute.Event
}

// ID is the event ID.
func (e *Event) ID() string { return e.Event.ID }

// Action is what happened.
func (e *Event) Action() dispute.EventAction { return e.Event.Action }

// ReporterType is who did it.
func (e *Event) ReporterType() dispute.Actor { return e.Event.Reporter }

// Details is the message, nil when none.
func (e *Event) Details() *string {
	if e.Event.Details == "" {
		return nil
	}
	d := e.Event.Details
	return &d
}

// FromStatus is the status before.
func (e *Event) FromStatus() dispute.Status { return e.Event.FromStatus }

// ToStatus is the status after.
func (e *Event) ToStatus() dispute.Status { return e.Event.ToStatus }

// ViewableByCustomer tells whether the customer sees it.
func (e *Event) ViewableByCustomer() bool { return e.Event.ViewableByCustomer }

// ViewableByMerchant tells whether the merchant sees it.
func (e *Event) ViewableByMerchant() bool { return e.Event.ViewableByMerchant }

// CreatedAt is when it happened.
func (e *Event) CreatedAt() time.Time { return e.Event.CreatedAt }

// Position is the 1-based timeline position.
func (e *Event) Position() int { return e.Event.Position }

// NewEvent wraps a domain event.
func NewEvent(e dispute.Event) *Event { return &Event{Event: e} }

// Company is a merchant.
type Company struct {
	ID        string
	Title     string
	Route     string
	CreatedAt time.Time
}

// NewCompany converts a stored company.
func NewCompany(c db.Company) *Company {
	return &Company{ID: c.ID, Title: c.Title, Route: c.Route, CreatedAt: c.CreatedAt}
}

// User is a person.
type User struct {
	ID       string
	Name     *string
	Username string
	Email    *string
}

// NewUser converts a stored user; the e-mail is shown only when showEmail.
func NewUser(u db.User, showEmail bool) *User {
	out := &User{ID: u.ID, Username: u.Username}
	if u.Name != "" {
		n := u.Name
		out.Name = &n
	}
	if showEmail {
		e := u.Email
		out.Email = &e
	}
	return out
}

// Payment is a payment; its user and company are resolved through loaders.
type Payment struct {
	P db.Payment
}

// ID is the payment ID.
func (p *Payment) ID() string { return p.P.ID }

// Currency is the ISO code.
func (p *Payment) Currency() string { return p.P.Currency }

// Total is the amount charged.
func (p *Payment) Total() Money { return NewMoney(p.P.Total, p.P.Currency) }

// Subtotal is the amount before taxes, if known.
func (p *Payment) Subtotal() *Money {
	if p.P.Subtotal == nil {
		return nil
	}
	m := NewMoney(*p.P.Subtotal, p.P.Currency)
	return &m
}

// RefundedAmount is how much was refunded.
func (p *Payment) RefundedAmount() Money { return NewMoney(p.P.RefundedAmount, p.P.Currency) }

// Status is paid or refunded.
func (p *Payment) Status() PaymentStatus {
	if p.P.Refunded {
		return PaymentStatusRefunded
	}
	return PaymentStatusPaid
}

// PaidAt is when it was paid.
func (p *Payment) PaidAt() *time.Time { return p.P.PaidAt }

// RefundedAt is when it was refunded.
func (p *Payment) RefundedAt() *time.Time { return p.P.RefundedAt }

// CreatedAt is when it was recorded.
func (p *Payment) CreatedAt() time.Time { return p.P.CreatedAt }

// Membership is a subscription; its user and company are resolved through loaders.
type Membership struct {
	M db.Membership
}

// ID is the membership ID.
func (m *Membership) ID() string { return m.M.ID }

// Status is active or canceled.
func (m *Membership) Status() MembershipStatus {
	if m.M.Active {
		return MembershipStatusActive
	}
	return MembershipStatusCanceled
}

// CreatedAt is when it started.
func (m *Membership) CreatedAt() time.Time { return m.M.CreatedAt }

// CanceledAt is when it was canceled.
func (m *Membership) CanceledAt() *time.Time { return m.M.CanceledAt }

// Viewer is who the token is.
type Viewer struct {
	Role       ViewerRole
	Scopes     []Scope
	UserID     string
	CompanyID  string
	CompanyIDs []string
}

// IsNode marks the models as implementations of the Node interface.
func (*Resolution) IsNode() {}

// IsNode marks Event as a Node.
func (*Event) IsNode() {}

// IsNode marks Company as a Node.
func (*Company) IsNode() {}

// IsNode marks User as a Node.
func (*User) IsNode() {}

// IsNode marks Payment as a Node.
func (*Payment) IsNode() {}

// IsNode marks Membership as a Node.
func (*Membership) IsNode() {}

// ApiToken is a stored API token as listed: never its secret or hash. User and
// company are resolved from the IDs.
type ApiToken struct {
	ID        string
	Role      ViewerRole
	Scopes    []Scope
	Label     *string
	UserID    string
	CompanyID string
	CreatedAt time.Time
	RevokedAt *time.Time
	Current   bool
}
