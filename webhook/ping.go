package webhook

import (
	"context"
	"encoding/json"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/db"
	"resolutioncenter/ids"
)

// EventTest is the type of the request SendTest sends. It is not a change of a case:
// endpoints receive it only when someone asks for it, whatever event types they
// subscribe to.
const EventTest = "webhook_endpoint.test"

// testMessage is the test request's data.message.
const testMessage = "A test request, sent because someone asked for one (sendTestWebhook). It is not a change of a case."

// testEnvelope is the body of a test request: the envelope of a delivery whose data
// names the endpoint. company_id is the endpoint's company, null for a platform
// endpoint.
type testEnvelope struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Timestamp string   `json:"timestamp"`
	CompanyID *string  `json:"company_id"`
	Data      testData `json:"data"`
}

type testData struct {
	EndpointID string `json:"endpoint_id"`
	Message    string `json:"message"`
}

// SendTest sends an endpoint one signed test request now and returns the attempt (its
// DeliveryID is the request's webhook-id): to check a receiver's URL, TLS and signature
// verification before real changes arrive. It goes exactly as a delivery does (the
// same headers and signing secrets, connect-time address checks, timeout, redirects
// refused, per-endpoint concurrency and rate), but once: it is not retried, not in the
// delivery log, and does not touch the endpoint's run of failures or its state, so a
// disabled endpoint can be tested before it is enabled again.
func (s *Service) SendTest(ctx context.Context, endpointID string, check Check) (db.WebhookEndpoint, db.WebhookAttempt, error) {
	if s.sealer == nil {
		return db.WebhookEndpoint{}, db.WebhookAttempt{}, ErrNoKey
	}
	ep, err := s.db.WebhookEndpointByID(ctx, endpointID)
	if err != nil {
		return ep, db.WebhookAttempt{}, err
	}
	if err := check(ep); err != nil {
		return ep, db.WebhookAttempt{}, err
	}
	at := s.now()
	env := testEnvelope{ID: ids.NewAt(ids.WebhookDelivery, at), Type: EventTest, Timestamp: ts(at),
		Data: testData{EndpointID: ep.ID, Message: testMessage}}
	if ep.CompanyID != "" {
		env.CompanyID = &ep.CompanyID
	}
	body, err := json.Marshal(env)
	if err != nil {
		return ep, db.WebhookAttempt{}, err
	}
	ctx, span := s.opts.Tracer.Start(ctx, "webhook.test", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("webhook.delivery_id", env.ID), attribute.String("webhook.endpoint_id", ep.ID)))
	defer span.End()
	var a db.WebhookAttempt
	release, err := s.limits.acquire(ctx, ep.ID)
	if err == nil {
		a = s.post(ctx, env.ID, body, ep)
		release()
	} else {
		a = db.WebhookAttempt{AttemptedAt: at, Error: "not sent: " + err.Error()}
	}
	a.ID, a.DeliveryID = ids.New(ids.WebhookAttempt), env.ID
	if !a.Success {
		span.SetStatus(codes.Error, a.Error)
	}
	return ep, a, nil
}
