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

// maxChain is how many deliveries one job run sends at most to one endpoint: a job
// delivers the earlier pending deliveries of its case to the endpoint first (commit
// order), then its own.
const maxChain = 4

// userAgent identifies the sender to receivers.
const userAgent = "resolution-center-webhooks/1"

// deliverWorker runs delivery jobs.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

// Work sends a change's deliveries. Each endpoint is a lane: its deliveries of the
// change in order, each after any earlier pending delivery of the same case to that
// endpoint. Every round claims the next delivery of every open lane in one batch (shared
// with the jobs running beside this one), sends them at once, and records the attempts
// in one batch. A delivery not acknowledged stays pending with its next attempt time
// (the retry schedule lives in the outbox row), and the job snoozes until the earliest
// of them is due; deliveries already sent are skipped when it runs again. A job whose
// company holds its share of the busy workers (shares) is deferred before it claims
// anything.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	leave, ok := s.shares.enter(job.Args.CompanyID)
	if !ok {
		// The company holds its share of busy workers: try again later, nothing claimed.
		if m := s.opts.Metrics; m != nil {
			m.Deferred.Inc()
		}
		return river.JobSnooze(deferFor(job.Metadata))
	}
	defer leave()
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier(job.Args.TraceHeader))
	ctx, span := s.opts.Tracer.Start(ctx, "webhook.deliver", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("webhook.case_id", job.Args.CaseID), attribute.Int("webhook.position", job.Args.Position),
			attribute.Int("webhook.deliveries", len(job.Args.Deliveries))))
	defer span.End()
	var lanes []*lane
	byEndpoint := map[string]*lane{}
	for _, d := range job.Args.Deliveries {
		l := byEndpoint[d.EndpointID]
		if l == nil {
			l = &lane{}
			byEndpoint[d.EndpointID] = l
			lanes = append(lanes, l)
		}
		l.refs = append(l.refs, db.DeliveryRef{ID: d.ID, EndpointID: d.EndpointID, CaseID: job.Args.CaseID,
			Position: job.Args.Position, Ordinal: d.Ordinal})
	}
	// more: the run ran short of time with lanes still open; sent: it made an attempt
	// (its first round of sends always runs).
	more, sent := false, false
	for {
		if sent && !s.roomForRound(ctx) {
			more = true
			break
		}
		var open []*lane
		var refs []db.DeliveryRef
		for _, l := range lanes {
			if !l.closed() {
				open = append(open, l)
				refs = append(refs, l.refs[l.i])
			}
		}
		if len(open) == 0 {
			break
		}
		claims, err := s.claims.do(ctx, refs)
		if err != nil {
			span.RecordError(err)
			return err // River retries the job; what was sent is skipped then
		}
		var sends []*sending
		for i, c := range claims {
			l := open[i]
			switch {
			case c.Done:
				l.i++
			case !c.WaitUntil.IsZero():
				l.wait = c.WaitUntil
			default:
				sends = append(sends, &sending{lane: l, d: c.Delivery})
			}
		}
		sent = sent || len(sends) > 0
		if err := s.sendAll(ctx, sends); err != nil {
			span.RecordError(err)
			return err // the leases run out; River retries the job
		}
		for _, x := range sends {
			l := x.lane
			if x.notSent {
				// No slot at the endpoint within the lease: the lease was given back; look
				// again in a moment.
				l.wait = s.now().Add(notSentRetry)
				continue
			}
			l.sent++
			switch {
			case x.res.Status == db.DeliveryPending:
				l.wait = x.res.NextAttemptAt
			case x.d.ID == l.refs[l.i].ID:
				l.i++
			case l.sent >= maxChain:
				l.wait = s.now() // a long chain of earlier deliveries: run again soon
			}
		}
	}
	var next time.Time
	if more {
		next = s.now() // go on in a new run, with a whole job timeout
	}
	for _, l := range lanes {
		if !l.wait.IsZero() && (next.IsZero() || l.wait.Before(next)) {
			next = l.wait
		}
	}
	if next.IsZero() {
		return nil
	}
	return river.JobSnooze(max(next.Sub(s.now()), 0) + jitter(50*time.Millisecond))
}

// roomForRound says whether the run has time left for a whole round: River cancels a
// job at its timeout, and an attempt cut off there would count against the endpoint
// (and fail the job, which River then retries with its own backoff). A round's sends
// end within a claim batch (bounded by Timeout) and its lease (Timeout+5s: an attempt
// starts only while the lease covers it and its record); one more Timeout is kept in
// hand. The record that follows is not cut: it runs without the run's cancellation.
func (s *Service) roomForRound(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) >= s.roundLimit()
}

func (s *Service) roundLimit() time.Duration { return 3*s.opts.Timeout + 5*time.Second }

// lane is one endpoint's deliveries of a job's change: refs[i] is the next to deliver;
// wait, once set, is when to look again (the lane is done for this run).
type lane struct {
	refs []db.DeliveryRef
	i    int
	sent int
	wait time.Time
}

func (l *lane) closed() bool { return l.i == len(l.refs) || !l.wait.IsZero() }

// sending is one claimed delivery of a round and what became of it.
type sending struct {
	lane *lane
	d    db.WebhookDelivery
	ep   db.WebhookEndpoint
	res  db.AttemptResult
	// skipped: the endpoint is gone or disabled; nothing was sent.
	skipped bool
	// notSent: no slot at the endpoint came while the lease left time for an attempt,
	// or the run was cancelled before the attempt or during it, before an answer; it
	// counts as not sent (no attempt logged) and its lease is given back.
	notSent bool
}

// notSentRetry is how soon a lane whose delivery found no slot at its endpoint tries
// again.
const notSentRetry = time.Second

// recordMargin is the part of a lease kept for recording the attempt after it ended:
// an attempt starts only while its lease still covers the whole Timeout and this.
const recordMargin = 2 * time.Second

// sendAll sends a round's claimed deliveries at once and records their attempts in one
// batch. A delivery whose endpoint was deleted (with its deliveries) or disabled is not
// sent: it counts as ended. The attempts that were made are recorded even when another
// delivery of the round met an error (which is returned after, for River to retry the
// job): otherwise they would be sent again. Deliveries not sent give their leases back.
func (s *Service) sendAll(ctx context.Context, list []*sending) error {
	var wg sync.WaitGroup
	errs := make([]error, len(list))
	for i, x := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ep, err := s.sendable(ctx, x.d.EndpointID)
			switch {
			case dispute.CodeOf(err) == dispute.CodeNotFound:
				x.skipped = true
				x.res.Status = db.DeliveryFailed
			case err != nil:
				errs[i] = err
			case ep.DisabledAt != nil:
				x.skipped = true
				x.res.Status = db.DeliveryFailed
				errs[i] = s.db.FailWebhookDelivery(ctx, x.d.ID, leaseOf(x.d), clipError("endpoint disabled: "+ep.DisabledReason))
				if m := s.opts.Metrics; m != nil && errs[i] == nil {
					m.Finished.WithLabelValues("failed").Inc() // ended without an attempt
				}
			default:
				x.ep = ep
				x.res, x.notSent = s.attempt(ctx, x.d, ep)
			}
		}()
	}
	wg.Wait()
	var (
		results []db.AttemptResult
		sent    []*sending
		unsent  []db.WebhookDelivery
	)
	for i, x := range list {
		switch {
		case errs[i] != nil || x.notSent:
			x.notSent = true
			unsent = append(unsent, x.d)
		case !x.skipped:
			results = append(results, x.res)
			sent = append(sent, x)
		}
	}
	if len(unsent) > 0 {
		if err := s.db.ReleaseWebhookDeliveries(context.WithoutCancel(ctx), unsent); err != nil {
			s.opts.Logger.Warn("webhook: giving back leases failed (they run out)", "deliveries", len(unsent), "err", err)
		}
	}
	err := errors.Join(errs...)
	if len(results) == 0 {
		return err
	}
	if _, rerr := s.records.do(context.WithoutCancel(ctx), results); rerr != nil {
		// The leases run out and another run retries: at least once.
		s.opts.Logger.Warn("webhook: recording attempts failed", "attempts", len(results), "err", rerr)
		for _, x := range sent {
			x.res.Status, x.res.NextAttemptAt = db.DeliveryPending, s.now().Add(s.opts.Timeout+5*time.Second)
		}
		return err
	}
	for _, x := range sent {
		if m := s.opts.Metrics; m != nil {
			m.observe(x.d, x.res.Attempt, x.res)
		}
		if x.res.DisableReason != "" {
			s.forget(x.ep.ID)
			s.opts.Logger.Warn("webhook: endpoint disabled", "endpoint", x.ep.ID, "reason", x.res.DisableReason)
		}
	}
	return err
}

// leaseOf is the lease a claimed delivery holds.
func leaseOf(d db.WebhookDelivery) time.Time {
	if d.LeaseUntil == nil {
		return time.Time{}
	}
	return *d.LeaseUntil
}

// attempt sends one leased delivery and says what the attempt means for it and its
// endpoint (the caller records it), or reports notSent when no slot at the endpoint
// (its concurrency and rate limits) came while the lease still covered a whole attempt
// and its record: sent later than that, the delivery could be claimed again by another
// worker and go out twice, even at once.
func (s *Service) attempt(ctx context.Context, d db.WebhookDelivery, ep db.WebhookEndpoint) (res db.AttemptResult, notSent bool) {
	ctx, span := s.opts.Tracer.Start(ctx, "webhook.attempt", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("webhook.delivery_id", d.ID), attribute.String("webhook.endpoint_id", ep.ID),
			attribute.String("webhook.event_type", d.EventType), attribute.Int("webhook.attempt", d.Attempts)))
	defer span.End()
	budget := leaseOf(d).Sub(s.now()) - s.opts.Timeout - recordMargin
	if budget <= 0 {
		span.SetStatus(codes.Error, "not sent: the lease ran out before a slot at the endpoint")
		return res, true
	}
	actx, cancel := context.WithTimeout(ctx, budget)
	release, err := s.limits.acquire(actx, ep.ID)
	cancel()
	if err != nil {
		span.SetStatus(codes.Error, "not sent: no slot at the endpoint within the lease")
		return res, true
	}
	a := s.send(ctx, d, ep)
	release()
	if a.StatusCode == 0 && ctx.Err() != nil {
		// The run was cancelled during the attempt (shutdown past its grace, or the job's
		// timeout): no answer is no fault of the endpoint's. The lease is given back and
		// the delivery sent again, with the same webhook-id.
		span.SetStatus(codes.Error, "not sent: the run was cancelled during the attempt")
		return res, true
	}
	a.ID, a.DeliveryID = ids.New(ids.WebhookAttempt), d.ID
	if a.AttemptedAt.IsZero() {
		a.AttemptedAt = s.now()
	}
	res = db.AttemptResult{EndpointID: ep.ID, Attempt: a, LeaseUntil: leaseOf(d)}
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
		res.NextAttemptAt = s.nextAttempt(d.CreatedAt, a.AttemptedAt, d.Attempts)
		if a.AttemptedAt.Sub(d.CreatedAt) >= s.opts.RetryFor {
			res.Status = db.DeliveryFailed
		}
		if ep.FailingSince != nil && a.AttemptedAt.Sub(*ep.FailingSince) >= s.opts.DisableAfter {
			res.Status = db.DeliveryFailed
			res.DisableReason = "every attempt failed since " + ep.FailingSince.UTC().Format(time.RFC3339)
		}
	}
	if !a.Success {
		span.SetStatus(codes.Error, fmt.Sprintf("status %d %s", a.StatusCode, a.Error))
	}
	return res, false
}

// send makes one HTTP attempt of a delivery.
func (s *Service) send(ctx context.Context, d db.WebhookDelivery, ep db.WebhookEndpoint) db.WebhookAttempt {
	return s.post(ctx, d.ID, Body(d), ep)
}

// post makes one signed HTTP attempt of body, as message id, to ep.
func (s *Service) post(ctx context.Context, id string, body []byte, ep db.WebhookEndpoint) db.WebhookAttempt {
	start := time.Now()
	at := s.now()
	a := db.WebhookAttempt{AttemptedAt: at}
	fail := func(err error) db.WebhookAttempt {
		a.Error = attemptError(err)
		a.LatencyMS = int(time.Since(start).Milliseconds())
		return a
	}
	secrets, err := s.secrets(ep, at)
	if err != nil {
		return fail(err)
	}
	sig, err := Sign(secrets, id, at, body)
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
	req.Header.Set("webhook-id", id)
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
// retry at once).
func (s *Service) retryDelay(n int) time.Duration {
	d := s.opts.RetryBase
	for i := 1; i < n && d < 12*time.Hour; i++ {
		d *= 2
	}
	d = min(d, 12*time.Hour)
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// nextAttempt is when a delivery of a change made at created, whose n-th attempt failed
// at failed, is tried again: after retryDelay, but not past RetryFor after the change,
// where the last attempt is made (a 12 h delay from 71 h would have put it at 83 h).
// With the default 5 s base and RetryFor of 72 h a delivery gets 19 to 21 attempts, the
// last at 72 h.
func (s *Service) nextAttempt(created, failed time.Time, n int) time.Time {
	next, last := failed.Add(s.retryDelay(n)), created.Add(s.opts.RetryFor)
	if next.After(last) {
		return last
	}
	return next
}

func jitter(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d) + 1)) }
