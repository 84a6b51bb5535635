package dispute

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Open starts a case. c carries the identity the store prepared (ID, Issue,
// CompanyID, UserID, PaymentID, MemberID); every other field is set here: the
// case waits for the merchant with a fresh deadline, and its timeline starts
// with a created event by the customer, visible to both sides. Whether the
// payment may be disputed (owned, paid, not refunded, no other open case) is
// the store's check, not this function's.
func (p Policy) Open(c Case, message string, now time.Time) (Case, Event, error) {
	p = p.normalized()
	if !c.Issue.Valid() {
		return Case{}, Event{}, Invalid("issue", "unknown issue "+quote(string(c.Issue)))
	}
	if err := validateText("message", message, true); err != nil {
		return Case{}, Event{}, err
	}
	due := now.Add(p.ResponseWindow)
	n := Case{
		ID:         c.ID,
		Status:     StatusMerchantResponseNeeded,
		Issue:      c.Issue,
		CompanyID:  c.CompanyID,
		UserID:     c.UserID,
		PaymentID:  c.PaymentID,
		MemberID:   c.MemberID,
		CreatedAt:  now,
		UpdatedAt:  now,
		DueDate:    &due,
		Version:    1,
		EventCount: 1,
	}
	ev := Event{
		ResolutionID:       n.ID,
		Position:           1,
		Action:             EventCreated,
		Reporter:           ActorCustomer,
		Details:            message,
		FromStatus:         n.Status,
		ToStatus:           n.Status,
		ViewableByCustomer: true,
		ViewableByMerchant: true,
		CreatedAt:          now,
	}
	return n, ev, nil
}

// Expire applies the system's deadline row to a case whose deadline has passed
// (DueDate set and not after now). ok is false, and nothing changes, when no
// deadline is due or the status has no deadline row.
func (p Policy) Expire(c Case, now time.Time) (next Case, ev Event, ok bool) {
	p = p.normalized()
	if c.DueDate == nil || now.Before(*c.DueDate) {
		return Case{}, Event{}, false
	}
	r := lookup(c.Status, ActorSystem, actionDeadline)
	if r == nil {
		return Case{}, Event{}, false
	}
	next, ev, _ = p.step(c, r, ActorSystem, Input{}, now)
	return next, ev, true
}

// Record appends an informational event about the payment's chargeback, as
// reported by the payment processor: dispute_opened, dispute_customer_won or
// dispute_merchant_won. It is reported by the platform, visible to both sides,
// and changes neither status nor deadline; it applies in any status because a
// chargeback follows the card network's clock, not the case's. details is an
// optional message.
func (p Policy) Record(c Case, action EventAction, details string, now time.Time) (Case, Event, error) {
	switch action {
	case EventDisputeOpened, EventDisputeCustomerWon, EventDisputeMerchantWon:
	default:
		return Case{}, Event{}, Invalid("action", "not a chargeback event: "+quote(string(action)))
	}
	if err := validateText("details", details, false); err != nil {
		return Case{}, Event{}, err
	}
	n := c
	n.DueDate = cloneTime(c.DueDate)
	n.UpdatedAt = now
	n.Version++
	n.EventCount++
	ev := Event{
		ResolutionID:       c.ID,
		Position:           n.EventCount,
		Action:             action,
		Reporter:           ActorPlatform,
		Details:            details,
		FromStatus:         c.Status,
		ToStatus:           c.Status,
		ViewableByCustomer: true,
		ViewableByMerchant: true,
		CreatedAt:          now,
	}
	return n, ev, nil
}

// MaxMessageLength is the longest message, in characters (Unicode code points).
const MaxMessageLength = 10000

// ValidateMessage checks a plain-text message: valid UTF-8, no NUL characters
// (PostgreSQL text cannot store them) and at most MaxMessageLength characters.
// A required message must also contain something besides white space: a blank
// statement is no statement. Refusals are INVALID_ARGUMENT with Field "message".
func ValidateMessage(msg string, required bool) error {
	if err := validateText("message", msg, required); err != nil {
		return err
	}
	return nil
}

// validateText is ValidateMessage with a caller-chosen field name.
func validateText(field, msg string, required bool) *Error {
	if !utf8.ValidString(msg) {
		return Invalid(field, "must be valid UTF-8")
	}
	if strings.IndexByte(msg, 0) >= 0 {
		return Invalid(field, "must not contain NUL characters")
	}
	if required && strings.TrimSpace(msg) == "" {
		return Invalid(field, "is required")
	}
	if n := utf8.RuneCountInString(msg); n > MaxMessageLength {
		return Invalid(field, "must be at most "+strconv.Itoa(MaxMessageLength)+
			" characters, got "+strconv.Itoa(n))
	}
	return nil
}
