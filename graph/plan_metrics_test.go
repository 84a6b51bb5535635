package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db/dbtest"
)

// TestPlannerMetrics: planned queries and fallbacks by reason are on /metrics, every
// reason from the start; mutations and the planner switched off count neither.
func TestPlannerMetrics(t *testing.T) {
	t.Parallel()
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	scrape := func() string {
		t.Helper()
		status, text, err := apptest.Get(context.Background(), s.Base+"/metrics", apptest.MetricsHeader)
		if err != nil || status != http.StatusOK {
			t.Fatalf("/metrics: %d %v", status, err)
		}
		return text
	}
	text := scrape()
	for _, want := range []string{`rc_query_planned_total 0`, `rc_query_fallbacks_total{reason="introspection"} 0`,
		`rc_query_fallbacks_total{reason="unsupported_field"} 0`, `rc_query_fallbacks_total{reason="argument_error"} 0`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	s.MustData(t, apptest.PlatformToken, `{ viewer { role } resolutions { nodes { id } } }`, nil, nil)
	s.MustData(t, apptest.PlatformToken, `query Named { viewer { role } }`, nil, nil)
	s.MustData(t, apptest.PlatformToken, `{ __schema { queryType { name } } }`, nil, nil)
	s.MustData(t, apptest.PlatformToken, `mutation { createCompany(input: {title: "T", route: "t"}) { company { id } } }`, nil, nil)
	// A connection's arguments are checked before anything runs (argcheck.go); the
	// summary's filter is coerced when the field resolves, where the planner falls back.
	r := s.Do(t, apptest.PlatformToken, `{ resolutionSummary(filter: {createdAfter: "yesterday"}) { total } }`, nil)
	if r.FirstCode() != "INVALID_ARGUMENT" {
		t.Errorf("a filter that does not coerce: %s", r.Raw)
	}
	text = scrape()
	for _, want := range []string{`rc_query_planned_total 2`, `rc_query_fallbacks_total{reason="introspection"} 1`,
		`rc_query_fallbacks_total{reason="argument_error"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	off := apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": "false"}})
	off.MustData(t, apptest.PlatformToken, `{ viewer { role } }`, nil, nil)
	_, text, _ = apptest.Get(context.Background(), off.Base+"/metrics", apptest.MetricsHeader)
	if strings.Contains(text, "rc_query_planned_total 1") || strings.Contains(text, `rc_query_fallbacks_total{`) {
		t.Errorf("QUERY_PLANNER=false still plans or counts fallbacks")
	}
}
