package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// TestMetricsRealServer scrapes /metrics of the wired server after real traffic and
// parses it with the Prometheus text parser.
func TestMetricsRealServer(t *testing.T) {
	dbURL, fx := sqliteWithFixture(t, 2)
	const token = "test-metrics-token-for-this-test-0123"
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL, "METRICS_TOKEN": token, "SWEEP_INTERVAL": "100ms"}})
	endpoint := s.URL

	ws := apptest.DialWS(t, endpoint, map[string]any{"Authorization": "Bearer " + fx.CustomerToken})
	msgs, _ := apptest.Pump(ws)
	ws.Subscribe("1", eventSub, map[string]any{"id": fx.Cases[0]})
	time.Sleep(200 * time.Millisecond)
	apptest.MustQuery(t, endpoint, fx.CustomerToken, `query Mine { resolutions(first: 5) { edges { node { id company { title } } } } }`, nil, nil)
	apptest.MustQuery(t, endpoint, apptest.PlatformToken, chargeback, map[string]any{"id": fx.Cases[0], "d": "x"}, nil)
	r, err := apptest.Send(context.Background(), endpoint, apptest.Request{Query: `{ resolution(id: "reso_nope") { id } }`, Token: fx.CustomerToken})
	if err != nil || r.FirstCode() != "INVALID_ARGUMENT" {
		t.Fatalf("want an INVALID_ARGUMENT error: %v %s", err, r.Raw)
	}
	select {
	case m := <-msgs:
		if m.Type != "next" {
			t.Fatalf("subscription: %s %s", m.Type, m.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription received nothing")
	}
	time.Sleep(300 * time.Millisecond) // a few deadline sweeps

	ctx := context.Background()
	if status, _, err := apptest.Get(ctx, s.Base+"/metrics", nil); err != nil || status != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d %v, want 401", status, err)
	}
	if status, _, err := apptest.Get(ctx, s.Base+"/metrics", map[string]string{"Authorization": "Bearer wrong"}); err != nil || status != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d %v, want 401", status, err)
	}
	status, text, err := apptest.Get(ctx, s.Base+"/metrics", map[string]string{"Authorization": "Bearer " + token})
	if err != nil || status != http.StatusOK {
		t.Fatalf("/metrics: %d %v", status, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	sum := func(name string, match func(labels map[string]string) bool) (float64, bool) {
		f, ok := fams[name]
		if !ok {
			return 0, false
		}
		var total float64
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if match != nil && !match(labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				total += m.GetCounter().GetValue()
			case m.Gauge != nil:
				total += m.GetGauge().GetValue()
			case m.Histogram != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			case m.Untyped != nil:
				total += m.GetUntyped().GetValue()
			}
		}
		return total, true
	}
	check := func(name string, match func(map[string]string) bool, ok func(float64) bool, what string) {
		t.Helper()
		v, found := sum(name, match)
		if !found {
			t.Errorf("%s missing from /metrics", name)
			return
		}
		if !ok(v) {
			t.Errorf("%s = %v, want %s", name, v, what)
		}
	}
	positive := func(v float64) bool { return v > 0 }
	check("rc_graphql_operations_total", func(l map[string]string) bool { return l["operation"] == "Mine" && l["type"] == "query" },
		func(v float64) bool { return v == 1 }, "1 for operation Mine")
	check("rc_graphql_operations_total", func(l map[string]string) bool { return l["type"] == "mutation" }, positive, "> 0 mutations")
	check("rc_graphql_errors_total", func(l map[string]string) bool { return l["code"] == "INVALID_ARGUMENT" }, positive, "> 0 INVALID_ARGUMENT")
	check("rc_sql_statements_total", nil, positive, "> 0")
	check("rc_fanout_lag_seconds", nil, positive, "> 0 deliveries observed")
	check("rc_fanout_payloads_total", func(l map[string]string) bool { return l["field"] == "resolutionEventAdded" }, positive,
		"> 0 event payloads executed")
	check("rc_subscribers_dropped_total", nil, func(v float64) bool { return v == 0 }, "0")
	check("rc_deadline_sweeps_total", func(l map[string]string) bool { return l["result"] == "ok" }, positive, "> 0 ok sweeps")
	check("rc_listen_up", nil, func(v float64) bool { return v == 1 }, "1")
	check("go_goroutines", nil, func(v float64) bool { return v > 5 && v < 10000 }, "a plausible goroutine count")
	check("go_memstats_heap_alloc_bytes", nil, func(v float64) bool { return v > 1<<20 && v < 4<<30 }, "a plausible heap")
	check("process_resident_memory_bytes", nil, func(v float64) bool { return v > 1<<20 && v < 8<<30 }, "a plausible RSS")
	check("process_start_time_seconds", nil, func(v float64) bool {
		return v > float64(time.Now().Add(-24*time.Hour).Unix()) && v <= float64(time.Now().Unix()+1)
	}, "a start time within the last day")
	check("process_open_fds", nil, positive, "> 0")
	if lag, ok := fams["rc_fanout_lag_seconds"]; ok && len(lag.GetMetric()) > 0 {
		h := lag.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() > 0 && (h.GetSampleSum() < 0 || h.GetSampleSum()/float64(h.GetSampleCount()) > 10) {
			t.Errorf("rc_fanout_lag_seconds: implausible mean %v s", h.GetSampleSum()/float64(h.GetSampleCount()))
		}
	}
	// No secret leaks into the metrics (operation names are client-chosen, tokens never).
	for _, secret := range []string{token, fx.CustomerToken, apptest.PlatformToken} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics contains a token")
		}
	}
}

// scrapeMetric returns the value of one unlabelled metric of the test server's /metrics.
func scrapeMetric(t *testing.T, base, name string) float64 {
	t.Helper()
	status, text, err := apptest.Get(context.Background(), base+"/metrics", apptest.MetricsHeader)
	if err != nil || status != http.StatusOK {
		t.Fatalf("/metrics: %d %v", status, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	f, ok := fams[name]
	if !ok || len(f.GetMetric()) != 1 {
		t.Fatalf("%s: not one series in /metrics", name)
	}
	m := f.GetMetric()[0]
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// TestMetricsListenPostgres: rc_listen_up says whether the LISTEN connection is up now,
// in a process that does not sweep too (SWEEP_INTERVAL=0: it was set only after a sweep,
// so such a process reported it down forever), and rc_listen_reconnects_total counts
// its reconnects (it never moved).
func TestMetricsListenPostgres(t *testing.T) {
	d := dbtest.MustPostgres(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"SWEEP_INTERVAL": "0"}})
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("still not %s after 15 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("listening", s.Listener.Up)
	if up := scrapeMetric(t, s.Base, "rc_listen_up"); up != 1 {
		t.Errorf("rc_listen_up = %v while LISTEN is up, want 1", up)
	}
	if n := scrapeMetric(t, s.Base, "rc_listen_reconnects_total"); n != 0 {
		t.Errorf("rc_listen_reconnects_total = %v before any reconnect", n)
	}
	var pids []int
	if _, err := d.Raw(context.Background(), &pids, `SELECT pg_terminate_backend(pid)::int * pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN %'`); err != nil || len(pids) == 0 {
		t.Fatalf("kill the LISTEN session: %v %v", pids, err)
	}
	waitFor("reconnected", func() bool { return s.Listener.Reconnects.Load() > 0 && s.Listener.Up() })
	if n := scrapeMetric(t, s.Base, "rc_listen_reconnects_total"); n < 1 {
		t.Errorf("rc_listen_reconnects_total = %v after the LISTEN connection was killed and re-established, want >= 1", n)
	}
	if up := scrapeMetric(t, s.Base, "rc_listen_up"); up != 1 {
		t.Errorf("rc_listen_up = %v after the reconnect, want 1", up)
	}
}

// TestMetricsOperationNamesNeedAPrincipal: callers without a credential cannot take the
// operation label's 200 values. They did, first come first served, until the process
// restarted: 200 requests naming junk operations, sent by anyone, put every operation
// of every tenant under "other".
func TestMetricsOperationNamesNeedAPrincipal(t *testing.T) {
	dbURL, fx := sqliteWithFixture(t, 1)
	s := apptest.Start(t, apptest.Options{Env: map[string]string{"DATABASE_URL": dbURL}})
	for i := range 210 {
		r, err := apptest.Post(context.Background(), s.URL, "", fmt.Sprintf("query Junk%d { __typename }", i), nil)
		if err != nil || len(r.Errors) > 0 {
			t.Fatalf("anonymous query %d: %v %s", i, err, r.Raw)
		}
	}
	apptest.MustQuery(t, s.URL, fx.CustomerToken, `query Mine { resolutions(first: 1) { edges { node { id } } } }`, nil, nil)
	_, text, err := apptest.Get(context.Background(), s.Base+"/metrics", apptest.MetricsHeader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `rc_graphql_operations_total{operation="Mine",type="query"} 1`) {
		t.Errorf("the customer's operation Mine has no label of its own after 210 anonymous operations")
	}
	if n := strings.Count(text, `rc_graphql_operations_total{operation="Junk`); n > 0 {
		t.Errorf("%d operation names of callers without a credential became label values", n)
	}
}
