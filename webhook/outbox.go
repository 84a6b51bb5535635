package webhook

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/propagation"

	"resolutioncenter/db"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// deliverArgs is a delivery job: which outbox row to send (with its place in its
// case's order, so the claim needs no lookup first), and the trace of the change that
// produced it (W3C traceparent), so a delivery's span joins the action's.
type deliverArgs struct {
	db.DeliveryRef
	TraceHeader map[string]string `json:"trace,omitempty"`
}

// Kind names the job for River.
func (deliverArgs) Kind() string { return "webhook_deliver" }

// InsertOpts puts delivery jobs on their queue.
func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue, MaxAttempts: maxJobAttempts}
}

// envelope is Envelope with its data marshalled once for every endpoint.
type envelope struct {
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	Timestamp          string          `json:"timestamp"`
	CompanyID          string          `json:"company_id"`
	Data               json.RawMessage `json:"data"`
	PreviousAttributes map[string]any  `json:"previous_attributes,omitempty"`
}

// Enqueue implements db.Outbox: inside the change's transaction it writes one
// delivery per subscribed endpoint and event type, with the payload as the change
// committed it, and inserts their jobs in the same transaction. A change no endpoint
// subscribes to costs one indexed query.
func (s *Service) Enqueue(ctx context.Context, tx *db.OutboxTx, ch db.CaseChange) (func(), error) {
	eps, err := tx.ActiveEndpoints(ctx, ch.After.CompanyID)
	if err != nil || len(eps) == 0 {
		return nil, err
	}
	types := eventTypes(ch)
	wanted := false
	for _, ep := range eps {
		for _, t := range types {
			wanted = wanted || subscribed(ep, t)
		}
	}
	if !wanted {
		return nil, nil
	}
	parts, err := tx.CaseParts(ctx, ch.After, viewer, recentEvents)
	if err != nil {
		return nil, err
	}
	data := NewCase(ch.After, parts, s.policy)
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var prev map[string]any
	if ch.Before != nil {
		prev = previousAttributes(caseAttributes(model.NewResolution(*ch.Before, viewer, s.policy)), data.attrs)
	}
	trace := map[string]string{}
	propagation.TraceContext{}.Inject(ctx, propagation.MapCarrier(trace))
	var list []db.WebhookDelivery
	var jobs []river.InsertManyParams
	for ordinal, typ := range types {
		for _, ep := range eps {
			if !subscribed(ep, typ) {
				continue
			}
			id := ids.New(ids.WebhookDelivery)
			body, err := json.Marshal(envelope{ID: id, Type: typ, Timestamp: ts(ch.Event.CreatedAt), CompanyID: ch.After.CompanyID,
				Data: raw, PreviousAttributes: prev})
			if err != nil {
				return nil, err
			}
			del := db.WebhookDelivery{ID: id, EndpointID: ep.ID, CompanyID: ch.After.CompanyID, CaseID: ch.After.ID,
				Position: ch.Event.Position, Ordinal: ordinal, EventType: typ, Payload: string(body), Status: db.DeliveryPending,
				CreatedAt: ch.Event.CreatedAt}
			list = append(list, del)
			jobs = append(jobs, river.InsertManyParams{Args: deliverArgs{DeliveryRef: del.Ref(), TraceHeader: trace}})
		}
	}
	if err := tx.InsertDeliveries(ctx, list); err != nil {
		return nil, err
	}
	if _, err := s.river.InsertManyTx(ctx, tx.SQL(), jobs); err != nil {
		return nil, err
	}
	n := len(list)
	return func() {
		if s.opts.Metrics != nil {
			s.opts.Metrics.Enqueued.Add(float64(n))
		}
	}, nil
}

// subscribed reports whether an endpoint receives an event type (no types: all).
func subscribed(ep db.WebhookEndpoint, typ string) bool {
	return len(ep.EventTypes) == 0 || slices.Contains(ep.EventTypes, typ)
}
