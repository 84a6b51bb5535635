package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"resolutioncenter/db"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// maxChain is how many deliveries one job run sends at most: a job delivers the
// earlier pending deliveries of its case to its endpoint first (commit order), then
// its own.
const maxChain = 4

// userAgent identifies the sender to receivers.
const userAgent = "resolution-center-webhooks/1"

// deliverWorker runs delivery jobs.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

// Work sends a change's deliveries: one goroutine per endpoint, each sending its
// endpoint's deliveries of the change in order, after any earlier pending delivery of
// the same case to that endpoint. A delivery not acknowledged stays pending with its
// next attempt time (the retry schedule lives in the outbox row), and the job snoozes
// until the earliest of them is due; deliveries already sent are skipped when it runs
// again.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier(job.Args.TraceHeader))
	ctx, span := s.opts.Tracer.Start(ctx, "webhook.deliver", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("webhook.case_id", job.Args.CaseID), attribute.Int("webhook.position", job.Args.Position),
			attribute.Int("webhook.deliveries", len(job.Args.Deliveries))))
	defer span.End()
	// Read the change's payload data once for all its endpoints (the cache keeps it).
	if _, _, err := s.message(ctx, job.Args.CaseID, job.Args.Position); err != nil && dispute.CodeOf(err) != dispute.CodeNotFound {
		return err
	}
	byEndpoint := map[string][]db.DeliveryRef{}
	var order []string
	for _, d := range job.Args.Deliveries {
		ref := db.DeliveryRef{ID: d.ID, EndpointID: d.EndpointID, CaseID: job.Args.CaseID, Position: job.Args.Position, Ordinal: d.Ordinal}
		if byEndpoint[d.EndpointID] == nil {
			order = append(order, d.EndpointID)
		}
		byEndpoint[d.EndpointID] = append(byEndpoint[d.EndpointID], ref)
	}
	type outcome struct {
		wait time.Time
		err  error
	}
	results := make([]outcome, len(order))
	var wg sync.WaitGroup
	for i, ep := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ref := range byEndpoint[ep] {
				wait, err := s.deliverInOrder(ctx, ref)
				if err != nil || !wait.IsZero() {
					results[i] = outcome{wait, err}
					return
				}
			}
		}()
	}
	wg.Wait()
	var next time.Time
	for _, r := range results {
		if r.err != nil {
			span.RecordError(r.err)
			return r.err // River retries the job; what was sent is skipped then
		}
		if !r.wait.IsZero() && (next.IsZero() || r.wait.Before(next)) {
			next = r.wait
		}
	}
	if next.IsZero() {
		return nil
	}
	return river.JobSnooze(max(next.Sub(s.now()), 0) + jitter(50*time.Millisecond))
}

// deliverInOrder sends ref's delivery, first sending the earlier pending deliveries of
// its case to its endpoint. It returns a zero time once ref is delivered or given up,
// or when to try again.
func (s *Service) deliverInOrder(ctx context.Context, ref db.DeliveryRef) (time.Time, error) {
	lease := s.opts.Timeout + 5*time.Second
	for range maxChain {
		now := s.now()
		c, err := s.db.ClaimWebhookDelivery(ctx, ref, now, lease)
		if err != nil {
			return time.Time{}, err
		}
		if c.Done {
			return time.Time{}, nil
		}
		if !c.WaitUntil.IsZero() {
			return c.WaitUntil, nil
		}
		ep, err := s.endpoint(ctx, c.Delivery.EndpointID)
		if dispute.CodeOf(err) == dispute.CodeNotFound {
			return time.Time{}, nil // deleted with its deliveries
		}
		if err != nil {
			return time.Time{}, err // the lease runs out; River retries the job
		}
		if ep.DisabledAt != nil {
			if err := s.db.FailWebhookDelivery(ctx, c.Delivery.ID, "endpoint disabled: "+ep.DisabledReason); err != nil {
				return time.Time{}, err
			}
			continue
		}
		d := c.Delivery
		if d.Data, d.Previous, err = s.message(ctx, d.CaseID, d.Position); err != nil {
			return time.Time{}, err
		}
		res := s.attempt(ctx, d, ep)
		if d.ID == ref.ID && res.Status != db.DeliveryPending {
			return time.Time{}, nil
		}
		if res.Status == db.DeliveryPending {
			return res.NextAttemptAt, nil
		}
	}
	return s.now(), nil
}

// attempt sends one leased delivery and records the result.
func (s *Service) attempt(ctx context.Context, d db.WebhookDelivery, ep db.WebhookEndpoint) db.AttemptResult {
	ctx, span := s.opts.Tracer.Start(ctx, "webhook.attempt", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("webhook.delivery_id", d.ID), attribute.String("webhook.endpoint_id", ep.ID),
			attribute.String("webhook.event_type", d.EventType), attribute.Int("webhook.attempt", d.Attempts)))
	defer span.End()
	release, err := s.limits.acquire(ctx, ep.ID)
	var a db.WebhookAttempt
	if err == nil {
		a = s.send(ctx, d, ep)
		release()
	} else {
		a = db.WebhookAttempt{Error: "not sent: " + err.Error()}
	}
	a.ID, a.DeliveryID = ids.New(ids.WebhookAttempt), d.ID
	if a.AttemptedAt.IsZero() {
		a.AttemptedAt = s.now()
	}
	res := db.AttemptResult{EndpointID: ep.ID, Attempt: a}
	switch {
	case a.Success:
		res.Status = db.DeliveryDelivered
	case a.StatusCode == http.StatusGone:
		res.Status = db.DeliveryFailed
		res.DisableReason = "the endpoint answered 410 Gone"
	default:
		// The run of failures decides disabling: read it fresh, not from the cache.
		if fresh, err := s.db.WebhookEndpointByID(ctx, ep.ID); err == nil {
			ep = fresh
		}
		res.Status = db.DeliveryPending
		res.NextAttemptAt = a.AttemptedAt.Add(s.retryDelay(d.Attempts))
		if a.AttemptedAt.Sub(d.CreatedAt) >= s.opts.RetryFor {
			res.Status = db.DeliveryFailed
		}
		if ep.FailingSince != nil && a.AttemptedAt.Sub(*ep.FailingSince) >= s.opts.DisableAfter {
			res.Status = db.DeliveryFailed
			res.DisableReason = "every attempt failed since " + ep.FailingSince.UTC().Format(time.RFC3339)
		}
	}
	if err := s.db.RecordWebhookAttempt(context.WithoutCancel(ctx), res); err != nil {
		// The lease runs out and another run retries: at least once.
		s.opts.Logger.Warn("webhook: recording an attempt failed", "delivery", d.ID, "err", err)
		res.Status, res.NextAttemptAt = db.DeliveryPending, s.now().Add(s.opts.Timeout+5*time.Second)
	}
	if m := s.opts.Metrics; m != nil {
		m.observe(d, a, res)
	}
	if !a.Success {
		span.SetStatus(codes.Error, fmt.Sprintf("status %d %s", a.StatusCode, a.Error))
	}
	if res.DisableReason != "" {
		s.forget(ep.ID)
		s.opts.Logger.Warn("webhook: endpoint disabled", "endpoint", ep.ID, "reason", res.DisableReason)
	}
	return res
}

// send makes one HTTP attempt.
func (s *Service) send(ctx context.Context, d db.WebhookDelivery, ep db.WebhookEndpoint) db.WebhookAttempt {
	start := time.Now()
	at := s.now()
	a := db.WebhookAttempt{AttemptedAt: at}
	fail := func(err error) db.WebhookAttempt {
		a.Error = err.Error()
		a.LatencyMS = int(time.Since(start).Milliseconds())
		return a
	}
	secrets, err := s.secrets(ep, at)
	if err != nil {
		return fail(err)
	}
	body := Body(d)
	sig, err := Sign(secrets, d.ID, at, body)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fail(fmt.Errorf("no answer within %s", s.opts.Timeout))
		}
		return fail(err)
	}
	defer resp.Body.Close()
	a.StatusCode = resp.StatusCode
	a.ResponseExcerpt = readExcerpt(resp.Body)
	a.LatencyMS = int(time.Since(start).Milliseconds())
	a.Success = resp.StatusCode >= 200 && resp.StatusCode < 300
	if !a.Success {
		a.Error = "status " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			a.Error += " (redirects are not followed)"
		}
	}
	return a
}

// secrets returns the endpoint's live signing secrets in clear: the current one, and
// the previous one during the 24 hours after a rotation.
func (s *Service) secrets(ep db.WebhookEndpoint, now time.Time) ([]string, error) {
	if s.sealer == nil {
		return nil, ErrNoKey
	}
	cur, err := s.sealer.Open(ep.SecretEnc)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if ep.OldSecretEnc != "" && ep.OldSecretExpiresAt != nil && now.Before(*ep.OldSecretExpiresAt) {
		old, err := s.sealer.Open(ep.OldSecretEnc)
		if err != nil {
			return nil, err
		}
		out = append(out, old)
	}
	return out, nil
}

// retryDelay is the wait after the n-th failed attempt: RetryBase doubled n-1 times,
// at most 12 hours, with ±20% jitter (so endpoints that failed together do not all
// retry at once). With the default 5 s the attempts span about 3 days in 18 tries.
func (s *Service) retryDelay(n int) time.Duration {
	d := s.opts.RetryBase
	for i := 1; i < n && d < 12*time.Hour; i++ {
		d *= 2
	}
	d = min(d, 12*time.Hour)
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

func jitter(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d) + 1)) }
