package model

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"resolutioncenter/db"
)

// WebhookEventType is a webhook event type; its GraphQL name is the wire name in
// upper case with the dot as an underscore.
type WebhookEventType string

// WireName is the payload's type: resolution_center_case.created...
func (t WebhookEventType) WireName() string {
	s := strings.ToLower(string(t))
	if i := strings.LastIndexByte(s, '_'); i >= 0 {
		return s[:i] + "." + s[i+1:]
	}
	return s
}

// WebhookEventTypeOf returns the GraphQL value of a wire name.
func WebhookEventTypeOf(wire string) WebhookEventType {
	return WebhookEventType(strings.ToUpper(strings.ReplaceAll(wire, ".", "_")))
}

// UnmarshalGQL reads an enum value.
func (t *WebhookEventType) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("WebhookEventType must be a string")
	}
	*t = WebhookEventType(s)
	return nil
}

// MarshalGQL writes the enum value.
func (t WebhookEventType) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(t))) } //nolint:errcheck

// WebhookDeliveryStatus is pending, delivered or failed, in upper case.
type WebhookDeliveryStatus string

// UnmarshalGQL reads an enum value.
func (s *WebhookDeliveryStatus) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("WebhookDeliveryStatus must be a string")
	}
	*s = WebhookDeliveryStatus(str)
	return nil
}

// MarshalGQL writes the enum value.
func (s WebhookDeliveryStatus) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(s))) } //nolint:errcheck

// WebhookEndpoint is a stored endpoint; its company and deliveries are resolved.
type WebhookEndpoint struct {
	E db.WebhookEndpoint
}

// ID is the endpoint ID.
func (e *WebhookEndpoint) ID() string { return e.E.ID }

// URL is where deliveries go.
func (e *WebhookEndpoint) URL() string { return e.E.URL }

// Description is the note, nil when none.
func (e *WebhookEndpoint) Description() *string { return optional(e.E.Description) }

// EventTypes are the types received.
func (e *WebhookEndpoint) EventTypes() []WebhookEventType {
	out := make([]WebhookEventType, len(e.E.EventTypes))
	for i, t := range e.E.EventTypes {
		out[i] = WebhookEventTypeOf(t)
	}
	return out
}

// Enabled is false once disabled.
func (e *WebhookEndpoint) Enabled() bool { return e.E.DisabledAt == nil }

// DisabledAt is when it was disabled.
func (e *WebhookEndpoint) DisabledAt() *time.Time { return e.E.DisabledAt }

// DisabledReason is why.
func (e *WebhookEndpoint) DisabledReason() *string { return optional(e.E.DisabledReason) }

// FailingSince is when the current failure run began.
func (e *WebhookEndpoint) FailingSince() *time.Time { return e.E.FailingSince }

// PreviousSecretExpiresAt is when the previous secret stops signing.
func (e *WebhookEndpoint) PreviousSecretExpiresAt() *time.Time { return e.E.OldSecretExpiresAt }

// CreatedAt is when it was created.
func (e *WebhookEndpoint) CreatedAt() time.Time { return e.E.CreatedAt }

// UpdatedAt is when it last changed.
func (e *WebhookEndpoint) UpdatedAt() time.Time { return e.E.UpdatedAt }

// WebhookDelivery is a stored delivery; its attempts are resolved.
type WebhookDelivery struct {
	D db.WebhookDelivery
}

// ID is the delivery ID (the webhook-id).
func (d *WebhookDelivery) ID() string { return d.D.ID }

// EventType is the event type.
func (d *WebhookDelivery) EventType() WebhookEventType { return WebhookEventTypeOf(d.D.EventType) }

// ResolutionID is the case.
func (d *WebhookDelivery) ResolutionID() string { return d.D.CaseID }

// Status is where it stands.
func (d *WebhookDelivery) Status() WebhookDeliveryStatus {
	return WebhookDeliveryStatus(strings.ToUpper(d.D.Status))
}

// AttemptCount is how many attempts were made.
func (d *WebhookDelivery) AttemptCount() int { return d.D.Attempts }

// NextAttemptAt is when the next retry is due.
func (d *WebhookDelivery) NextAttemptAt() *time.Time {
	if d.D.Status != db.DeliveryPending {
		return nil
	}
	return d.D.NextAttemptAt
}

// CreatedAt is when the change committed.
func (d *WebhookDelivery) CreatedAt() time.Time { return d.D.CreatedAt }

// DeliveredAt is when it was acknowledged.
func (d *WebhookDelivery) DeliveredAt() *time.Time { return d.D.DeliveredAt }

// LastStatusCode is the last answer's status.
func (d *WebhookDelivery) LastStatusCode() *int {
	if d.D.LastStatusCode == 0 {
		return nil
	}
	v := d.D.LastStatusCode
	return &v
}

// LastError is what went wrong last.
func (d *WebhookDelivery) LastError() *string { return optional(d.D.LastError) }

// WebhookAttempt is one try.
type WebhookAttempt struct {
	A db.WebhookAttempt
}

// ID is the attempt ID.
func (a *WebhookAttempt) ID() string { return a.A.ID }

// AttemptedAt is when.
func (a *WebhookAttempt) AttemptedAt() time.Time { return a.A.AttemptedAt }

// Success tells whether it was acknowledged.
func (a *WebhookAttempt) Success() bool { return a.A.Success }

// StatusCode is the HTTP status, nil without an answer.
func (a *WebhookAttempt) StatusCode() *int {
	if a.A.StatusCode == 0 {
		return nil
	}
	v := a.A.StatusCode
	return &v
}

// LatencyMs is how long it took.
func (a *WebhookAttempt) LatencyMs() int { return a.A.LatencyMS }

// ResponseExcerpt is the start of the body.
func (a *WebhookAttempt) ResponseExcerpt() *string { return optional(a.A.ResponseExcerpt) }

// Error is what went wrong.
func (a *WebhookAttempt) Error() *string { return optional(a.A.Error) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
