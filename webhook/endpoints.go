package webhook

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
)

// RotationOverlap is how long the previous secret keeps signing beside the new one
// after a rotation, so receivers can switch without dropping deliveries.
const RotationOverlap = 24 * time.Hour

// MaxDescription is the longest endpoint description (and reason for disabling one),
// in characters.
const MaxDescription = 500

// EndpointInput describes an endpoint to create. CompanyID "" means every company
// (platform only; the caller checks who may do what).
type EndpointInput struct {
	CompanyID   string
	URL         string
	EventTypes  []string
	Description string
}

// EndpointPatch changes an endpoint: nil fields stay; Enabled true re-enables a
// disabled endpoint (its failure run starts afresh).
type EndpointPatch struct {
	URL         *string
	EventTypes  []string
	Description *string
	Enabled     *bool
}

// Check authorizes an operation on an endpoint as stored (the caller's rule).
type Check func(db.WebhookEndpoint) error

func validTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return slices.Clone(EventTypes), nil
	}
	var out []string
	for _, t := range types {
		if !slices.Contains(EventTypes, t) {
			return nil, dispute.Invalid("eventTypes", "unknown event type "+t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func validDescription(s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || utf8.RuneCountInString(s) > MaxDescription {
		return dispute.Invalid("description", "must be valid text of at most 500 characters")
	}
	return nil
}

// Create registers an endpoint and returns it with its signing secret in clear, which
// is shown only this once. A company with Options.MaxEndpoints endpoints already (or
// the platform with as many platform-wide ones) gets LIMIT_REACHED.
func (s *Service) Create(ctx context.Context, in EndpointInput, now time.Time) (db.WebhookEndpoint, string, error) {
	if s.sealer == nil {
		return db.WebhookEndpoint{}, "", ErrNoKey
	}
	u, err := ValidateURL(in.URL, s.opts.Dev)
	if err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	types, err := validTypes(in.EventTypes)
	if err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	if err := validDescription(in.Description); err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	secret := NewSecret()
	ep, err := s.db.CreateWebhookEndpoint(ctx, db.WebhookEndpoint{CompanyID: in.CompanyID, URL: u.String(), EventTypes: types,
		Description: in.Description, SecretEnc: s.sealer.Seal(secret), CreatedAt: now, UpdatedAt: now}, s.opts.MaxEndpoints)
	if err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	return ep, secret, nil
}

// Update changes an endpoint's URL, event types, description or enabled state.
func (s *Service) Update(ctx context.Context, id string, check Check, p EndpointPatch, now time.Time) (db.WebhookEndpoint, error) {
	var url string
	if p.URL != nil {
		u, err := ValidateURL(*p.URL, s.opts.Dev)
		if err != nil {
			return db.WebhookEndpoint{}, err
		}
		url = u.String()
	}
	var types []string
	if p.EventTypes != nil {
		var err error
		if types, err = validTypes(p.EventTypes); err != nil {
			return db.WebhookEndpoint{}, err
		}
	}
	if p.Description != nil {
		if err := validDescription(*p.Description); err != nil {
			return db.WebhookEndpoint{}, err
		}
	}
	defer s.forget(id)
	return s.db.UpdateWebhookEndpoint(ctx, id, check, func(e *db.WebhookEndpoint) error {
		if url != "" {
			e.URL = url
		}
		if types != nil {
			e.EventTypes = types
		}
		if p.Description != nil {
			e.Description = *p.Description
		}
		if p.Enabled != nil {
			if *p.Enabled {
				e.DisabledAt, e.DisabledReason, e.FailingSince = nil, "", nil
			} else if e.DisabledAt == nil {
				e.DisabledAt, e.DisabledReason = &now, "disabled by a user"
			}
		}
		e.UpdatedAt = now
		return nil
	})
}

// Rotate gives an endpoint a new secret, returned in clear once; the previous one keeps
// signing beside it for RotationOverlap.
func (s *Service) Rotate(ctx context.Context, id string, check Check, now time.Time) (db.WebhookEndpoint, string, error) {
	if s.sealer == nil {
		return db.WebhookEndpoint{}, "", ErrNoKey
	}
	secret := NewSecret()
	defer s.forget(id)
	ep, err := s.db.UpdateWebhookEndpoint(ctx, id, check, func(e *db.WebhookEndpoint) error {
		expires := now.Add(RotationOverlap)
		e.OldSecretEnc, e.OldSecretExpiresAt = e.SecretEnc, &expires
		e.SecretEnc = s.sealer.Seal(secret)
		e.UpdatedAt = now
		return nil
	})
	if err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	return ep, secret, nil
}

// Disable stops deliveries to an endpoint (pending ones end as failed, and can be
// redelivered) with the reason shown on it.
func (s *Service) Disable(ctx context.Context, id string, check Check, reason string, now time.Time) (db.WebhookEndpoint, error) {
	if reason == "" {
		reason = "disabled by a user"
	}
	if err := validDescription(reason); err != nil {
		return db.WebhookEndpoint{}, dispute.Invalid("reason", "must be valid text of at most 500 characters")
	}
	defer s.forget(id)
	return s.db.UpdateWebhookEndpoint(ctx, id, check, func(e *db.WebhookEndpoint) error {
		e.DisabledAt, e.DisabledReason, e.UpdatedAt = &now, reason, now
		return nil
	})
}

// Delete removes an endpoint with its delivery log.
func (s *Service) Delete(ctx context.Context, id string, check Check) error {
	defer s.forget(id)
	return s.db.DeleteWebhookEndpoint(ctx, id, check)
}

// Redeliver sends a delivery again, with the same webhook-id and payload, now (after
// any earlier pending delivery of its case to its endpoint).
func (s *Service) Redeliver(ctx context.Context, deliveryID string, check Check, now time.Time) (db.WebhookDelivery, error) {
	d, err := s.db.WebhookDeliveryByID(ctx, deliveryID)
	if err != nil {
		return d, err
	}
	ep, err := s.db.WebhookEndpointByID(ctx, d.EndpointID)
	if err != nil {
		return d, err
	}
	if err := check(ep); err != nil {
		return d, err
	}
	if ep.DisabledAt != nil {
		return d, &dispute.Error{Code: dispute.CodeActionNotAllowed, Field: "deliveryId",
			Message: "the endpoint is disabled: enable it first (updateWebhookEndpoint with enabled: true)"}
	}
	return s.db.RequeueWebhookDelivery(ctx, deliveryID, now, func(ctx context.Context, tx *db.OutboxTx, del db.WebhookDelivery) error {
		jobs := []river.InsertManyParams{{Args: jobFor([]db.WebhookDelivery{del}, nil)}}
		// The later pending deliveries of the case to the endpoint were held behind this
		// one while it waited for its retry, and their jobs sleep until that retry (up to
		// 12 h): a job for the last of them sends them right after this one, in order.
		last, found, err := tx.LastPendingAfter(ctx, del)
		if err != nil {
			return err
		}
		if found {
			jobs = append(jobs, river.InsertManyParams{Args: jobFor([]db.WebhookDelivery{last}, nil)})
		}
		_, err = s.river.InsertManyFastTx(ctx, tx.SQL(), jobs)
		return err
	})
}

// MaxRecover is how many failed deliveries RedeliverFailed requeues in one call.
const MaxRecover = 1000

// RedeliverFailed sends again an endpoint's failed deliveries of changes at or after
// since, at most MaxRecover of them, oldest first, each with its webhook-id and payload
// (after any earlier pending delivery of its case to the endpoint). It returns the
// endpoint, how many it requeued and whether failed deliveries in the range remain
// (call again for the next ones).
func (s *Service) RedeliverFailed(ctx context.Context, endpointID string, since time.Time, check Check, now time.Time) (db.WebhookEndpoint, int, bool, error) {
	ep, err := s.db.WebhookEndpointByID(ctx, endpointID)
	if err != nil {
		return ep, 0, false, err
	}
	if err := check(ep); err != nil {
		return ep, 0, false, err
	}
	if ep.DisabledAt != nil {
		return ep, 0, false, &dispute.Error{Code: dispute.CodeActionNotAllowed, Field: "endpointId",
			Message: "the endpoint is disabled: enable it first (updateWebhookEndpoint with enabled: true)"}
	}
	list, more, err := s.db.RequeueFailedWebhookDeliveries(ctx, endpointID, since, now, MaxRecover,
		func(ctx context.Context, tx *db.OutboxTx, list []db.WebhookDelivery) error {
			// One job per change, as when it committed.
			type change struct {
				caseID   string
				position int
			}
			var order []change
			byChange := map[change][]db.WebhookDelivery{}
			for _, d := range list {
				k := change{d.CaseID, d.Position}
				if _, ok := byChange[k]; !ok {
					order = append(order, k)
				}
				byChange[k] = append(byChange[k], d)
			}
			jobs := make([]river.InsertManyParams, len(order))
			for i, k := range order {
				jobs[i] = river.InsertManyParams{Args: jobFor(byChange[k], nil)}
			}
			_, err := s.river.InsertManyFastTx(ctx, tx.SQL(), jobs)
			return err
		})
	return ep, len(list), more, err
}
