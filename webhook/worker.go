package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
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

// Work sends the job's delivery, after any earlier pending delivery of the same case to
// the same endpoint. Between attempts the job snoozes until the delivery is due again,
// so the retry schedule lives in the outbox row (attempts, next_attempt_at).
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier(job.Args.TraceHeader))
	ctx, span := s.opts.Tracer.Start(ctx, "webhook.deliver", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("webhook.delivery_id", job.Args.ID)))
	defer span.End()
	lease := s.opts.Timeout + 5*time.Second
	for range maxChain {
		now := s.now()
		c, err := s.db.ClaimWebhookDelivery(ctx, job.Args.DeliveryRef, now, lease)
		if err != nil {
			span.RecordError(err)
			return err
		}
		if c.Done {
			return nil
		}
		if !c.WaitUntil.IsZero() {
			return river.JobSnooze(max(c.WaitUntil.Sub(now), 0) + jitter(50*time.Millisecond))
		}
		ep, err := s.endpoint(ctx, c.Delivery.EndpointID)
		if dispute.CodeOf(err) == dispute.CodeNotFound {
			return nil // deleted with its deliveries
		}
		if err != nil {
			return err // the lease runs out; River retries the job
		}
		if ep.DisabledAt != nil {
			if err := s.db.FailWebhookDelivery(ctx, c.Delivery.ID, "endpoint disabled: "+ep.DisabledReason); err != nil {
				return err
			}
			continue
		}
		res := s.attempt(ctx, c.Delivery, ep)
		if c.Delivery.ID == job.Args.ID && res.Status != db.DeliveryPending {
			return nil
		}
		if res.Status == db.DeliveryPending {
			return river.JobSnooze(max(res.NextAttemptAt.Sub(s.now()), 0) + jitter(50*time.Millisecond))
		}
	}
	return river.JobSnooze(0)
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
