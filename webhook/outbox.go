package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/propagation"

	"resolutioncenter/db"
	"resolutioncenter/graph/model"
	"resolutioncenter/ids"
)

// deliverArgs is a delivery job: the deliveries of one change (its case and event
// position, and for each delivery its endpoint and order within the change, so that
// claims need no lookup first), and the trace of the change (W3C traceparent), so that
// the delivery's spans join the action's trace.
type deliverArgs struct {
	CaseID string `json:"case_id"`
	// CompanyID is the case's company, whose share of the workers the job runs in
	// (shares); empty in jobs written by an earlier build.
	CompanyID   string            `json:"company_id,omitempty"`
	Position    int               `json:"position"`
	Deliveries  jobDeliveries     `json:"deliveries"`
	TraceHeader map[string]string `json:"trace,omitempty"`
}

// jobDelivery is one delivery of a job.
type jobDelivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
	Ordinal    int    `json:"ordinal"`
}

// jobDeliveries are a job's deliveries, written as one string ("id endpoint ordinal",
// comma-separated). River indexes every job's args with a GIN index, every key and
// every value, in the job's insert and again in each of its two updates (fetch and
// completion, neither of which can be HOT): as an array of objects, a change's three
// deliveries were 11 of the args' 15 index entries (keys and values); as one string
// they are 2 of 6.
// Jobs written as an array (by an earlier build) are still read.
type jobDeliveries []jobDelivery

// MarshalJSON writes the deliveries as one string.
func (l jobDeliveries) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	for i, d := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.ID)
		b.WriteByte(' ')
		b.WriteString(d.EndpointID)
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(d.Ordinal))
	}
	return json.Marshal(b.String())
}

// UnmarshalJSON reads the deliveries from one string, or from an array of objects.
func (l *jobDeliveries) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '[' {
		return json.Unmarshal(data, (*[]jobDelivery)(l))
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*l = nil
	if s == "" {
		return nil
	}
	for item := range strings.SplitSeq(s, ",") {
		f := strings.Fields(item)
		if len(f) != 3 {
			return fmt.Errorf("webhook: job delivery %q: want id, endpoint and ordinal", item)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("webhook: job delivery %q: %w", item, err)
		}
		*l = append(*l, jobDelivery{ID: f[0], EndpointID: f[1], Ordinal: n})
	}
	return nil
}

// jobFor returns the job that sends deliveries, all of one change.
func jobFor(list []db.WebhookDelivery, trace map[string]string) deliverArgs {
	a := deliverArgs{CaseID: list[0].CaseID, CompanyID: list[0].CompanyID, Position: list[0].Position, TraceHeader: trace}
	for _, d := range list {
		a.Deliveries = append(a.Deliveries, jobDelivery{ID: d.ID, EndpointID: d.EndpointID, Ordinal: d.Ordinal})
	}
	return a
}

// Kind names the job for River.
func (deliverArgs) Kind() string { return "webhook_deliver" }

// InsertOpts puts delivery jobs on their queue.
func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue, MaxAttempts: maxJobAttempts}
}

// Body is a delivery's JSON body (the Envelope): the change's data and previous
// attributes as stored when it committed, with the delivery's own ID and type. It is
// the same bytes on every attempt.
func Body(d db.WebhookDelivery) []byte {
	b := make([]byte, 0, len(d.Data)+len(d.Previous)+160)
	b = append(b, `{"id":`...)
	b = appendString(b, d.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, d.EventType)
	b = append(b, `,"timestamp":`...)
	b = appendString(b, ts(d.CreatedAt))
	b = append(b, `,"company_id":`...)
	b = appendString(b, d.CompanyID)
	b = append(b, `,"data":`...)
	b = append(b, d.Data...)
	if d.Previous != "" {
		b = append(b, `,"previous_attributes":`...)
		b = append(b, d.Previous...)
	}
	return append(b, '}')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
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
	// The events come from the timeline cache when it has the case as of the change
	// before; otherwise they are read with the rest.
	events, cached := s.timelines.next(ch.After.ID, ch.Event)
	n := recentEvents
	if cached {
		n = 0
	}
	parts, err := tx.CaseParts(ctx, ch.After, viewer, n)
	if err != nil {
		return nil, err
	}
	if cached {
		parts.Events = events
	}
	data := NewCase(ch.After, parts, s.policy)
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var prev []byte
	if ch.Before != nil {
		if prev, err = json.Marshal(previousAttributes(caseAttributes(model.NewResolution(*ch.Before, viewer, viewerMayAct, s.policy)), data.attrs)); err != nil {
			return nil, err
		}
	}
	trace := map[string]string{}
	propagation.TraceContext{}.Inject(ctx, propagation.MapCarrier(trace))
	var list []db.WebhookDelivery
	for ordinal, typ := range types {
		for _, ep := range eps {
			if !subscribed(ep, typ) {
				continue
			}
			// The ID carries the change's time (the log's retention goes by it).
			del := db.WebhookDelivery{ID: ids.NewAt(ids.WebhookDelivery, ch.Event.CreatedAt), EndpointID: ep.ID, CompanyID: ch.After.CompanyID,
				CaseID: ch.After.ID, Position: ch.Event.Position, Ordinal: ordinal, EventType: typ, Status: db.DeliveryPending,
				CreatedAt: ch.Event.CreatedAt, Data: string(raw), Previous: string(prev)}
			list = append(list, del)
		}
	}
	if err := tx.InsertDeliveries(ctx, list); err != nil {
		return nil, err
	}
	if _, err := s.river.InsertManyFastTx(ctx, tx.SQL(), []river.InsertManyParams{{Args: jobFor(list, trace)}}); err != nil {
		return nil, err
	}
	sent := len(list)
	return func() {
		s.timelines.store(ch.After.ID, ch.Event.Position, parts.Events)
		if s.opts.Metrics != nil {
			s.opts.Metrics.Enqueued.Add(float64(sent))
		}
	}, nil
}

// subscribed reports whether an endpoint receives an event type (no types: all).
func subscribed(ep db.WebhookEndpoint, typ string) bool {
	return len(ep.EventTypes) == 0 || slices.Contains(ep.EventTypes, typ)
}
