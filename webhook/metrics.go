package webhook

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"resolutioncenter/db"
)

// Metrics are the delivery collectors (rc_webhook_*).
type Metrics struct {
	// Enqueued counts deliveries written to the outbox by committed changes.
	Enqueued prometheus.Counter
	// Attempts counts attempts by outcome: success, failure, gone.
	Attempts *prometheus.CounterVec
	// Finished counts deliveries that ended: delivered, or failed (given up, or the
	// endpoint was disabled).
	Finished *prometheus.CounterVec
	// Lag is commit to the receiver's 2xx.
	Lag prometheus.Histogram
	// RetryAge is the age of a delivery when it is retried.
	RetryAge prometheus.Histogram
	// Deferred counts delivery jobs put off because their company held its share of
	// the busy workers.
	Deferred prometheus.Counter
	pending  prometheus.Gauge
	oldest   prometheus.Gauge
}

// NewMetrics registers the delivery collectors on r.
func NewMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		Enqueued: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_webhook_enqueued_total",
			Help: "Webhook deliveries enqueued by committed changes."}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome (success, failure, gone)."}, []string{"outcome"}),
		Finished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rc_webhook_deliveries_total",
			Help: "Webhook deliveries that ended, by result (delivered, failed)."}, []string{"result"}),
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rc_webhook_delivery_lag_seconds",
			Help:    "Time from the change's commit to the receiver's 2xx.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 60, 600, 3600, 86400}}),
		RetryAge: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rc_webhook_retry_age_seconds",
			Help:    "Age of a delivery (since its change committed) when it is retried.",
			Buckets: []float64{1, 10, 60, 600, 3600, 6 * 3600, 86400, 3 * 86400}}),
		Deferred: prometheus.NewCounter(prometheus.CounterOpts{Name: "rc_webhook_jobs_deferred_total",
			Help: "Webhook delivery jobs put off because their company held its share of the busy workers."}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rc_webhook_pending",
			Help: "Webhook deliveries not yet delivered nor given up (all processes)."}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rc_webhook_oldest_pending_seconds",
			Help: "Age of the oldest pending webhook delivery (0 when none)."}),
	}
	r.MustRegister(m.Enqueued, m.Attempts, m.Finished, m.Lag, m.RetryAge, m.Deferred, m.pending, m.oldest)
	return m
}

func (m *Metrics) observe(d db.WebhookDelivery, a db.WebhookAttempt, res db.AttemptResult) {
	switch {
	case a.Success:
		m.Attempts.WithLabelValues("success").Inc()
	case res.DisableReason != "" && a.StatusCode == 410:
		m.Attempts.WithLabelValues("gone").Inc()
	default:
		m.Attempts.WithLabelValues("failure").Inc()
	}
	if d.Attempts > 1 {
		m.RetryAge.Observe(a.AttemptedAt.Sub(d.CreatedAt).Seconds())
	}
	switch res.Status {
	case db.DeliveryDelivered:
		m.Finished.WithLabelValues("delivered").Inc()
		m.Lag.Observe(a.AttemptedAt.Add(time.Duration(a.LatencyMS) * time.Millisecond).Sub(d.CreatedAt).Seconds())
	case db.DeliveryFailed:
		m.Finished.WithLabelValues("failed").Inc()
	}
}

// watchBacklog refreshes the backlog gauges every interval until ctx ends or stopped
// is closed (nil: never).
func (m *Metrics) watchBacklog(ctx context.Context, d *db.DB, interval time.Duration, stopped <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, oldest, err := d.WebhookBacklog(qctx)
		cancel()
		if err == nil {
			m.pending.Set(float64(n))
			if n == 0 || oldest.IsZero() {
				m.oldest.Set(0)
			} else {
				m.oldest.Set(time.Since(oldest).Seconds())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-stopped:
			return
		case <-t.C:
		}
	}
}
