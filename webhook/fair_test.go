package webhook_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/webhook"
	"resolutioncenter/webhook/webhooktest"
)

// TestHangingCompanyLeavesWorkersToOthers: company H's endpoint hangs (answers nothing
// within the Timeout) while H's changes keep coming, on cases of their own (so no
// delivery waits behind another's head). Its jobs must not take every worker: a change
// of company G, whose endpoint answers at once, is delivered at once, not after H's
// attempts time out. Then H's endpoint recovers, and every delivery of H (deferred or
// timed out meanwhile) still arrives.
func TestHangingCompanyLeavesWorkersToOthers(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const timeout = 3 * time.Second
		reg := prometheus.NewRegistry()
		m := webhook.NewMetrics(reg)
		s := newService(t, d, webhook.Options{Timeout: timeout, Workers: 8, RetryBase: 500 * time.Millisecond, Metrics: m})
		hostile, good := dbtest.MustCast(t, d), dbtest.MustCast(t, d)

		slow := webhooktest.Start(t)
		var hanging atomic.Bool
		var reached atomic.Int64
		hanging.Store(true)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) }) // before the receiver closes (cleanups run last first)
		slow.Respond = func(webhooktest.Delivery, int) int {
			reached.Add(1)
			if hanging.Load() {
				select {
				case <-release:
				case <-time.After(timeout + time.Second):
				}
			}
			return 200
		}
		fast := webhooktest.Start(t)
		hep := endpointOn(ctx, t, s, hostile, slow)
		endpointOn(ctx, t, s, good, fast)
		t.Cleanup(d.SetOutbox(s))

		// More of H's changes than there are workers, each a case of its own.
		const hostileCases = 12
		for range hostileCases {
			dbtest.MustOpen(t, d, hostile.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		waitFor(t, func() bool { return reached.Load() > 0 }) // H's attempts hold workers now
		start := time.Now()
		dbtest.MustOpen(t, d, good.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now())
		got := fast.WaitAccepted(t, 1, 30*time.Second)
		if lag := got[0].At.Sub(start); lag > timeout/2 {
			t.Errorf("G's delivery arrived %v after its change, behind H's hanging attempts (%d of them reached H's endpoint)", lag, reached.Load())
		}
		if n := reached.Load(); n > 4 {
			t.Errorf("H's endpoint had %d requests by then, with 8 workers: want at most its share while busy (2)", n)
		}
		if n := counterValue(t, reg, "rc_webhook_jobs_deferred_total"); n < 1 {
			t.Errorf("rc_webhook_jobs_deferred_total = %v, want H's jobs past its share counted", n)
		}

		hanging.Store(false)
		waitFor(t, func() bool {
			list, err := d.ListWebhookDeliveries(ctx, hep.ID, db.DeliveryFilter{Status: db.DeliveryDelivered}, "", 100)
			return err == nil && len(list) == hostileCases
		})
		slow.CheckAll(t)
		fast.CheckAll(t)
	})
}

// counterValue reads a counter of reg by name, and by label values given as name,
// value pairs (0 when it is not there).
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
