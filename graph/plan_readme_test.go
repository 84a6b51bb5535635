package graph_test

import (
	"os"
	"regexp"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// TestReadmeInboxIsPlanned: README's inbox example (the cases waiting on me with their
// totalCount, each case's events with theirs, and the summary's waitingOnMe) takes the
// planned path as every caller, on both engines, and answers as gqlgen's executor does.
func TestReadmeInboxIsPlanned(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- readme-test: waiting-on-me -->\n```graphql\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no inbox example (<!-- readme-test: waiting-on-me -->)")
	}
	query := string(m[1])
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := buildPlanWorld(t, d)
		planned := apptest.New(t, d)
		plain := apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": "false"}})
		c := &planComparer{t: t, planned: planned, plain: plain}
		before := counter(planned.Metrics.QueriesPlanned)
		var jobs []planJob
		for _, r := range w.roles {
			jobs = append(jobs, planJob{role: r, query: query})
		}
		c.runAll(jobs)
		if got := counter(planned.Metrics.QueriesPlanned) - before; int(got) != len(jobs) || fallbacks(planned) != "none" {
			t.Errorf("%d of %d requests planned; fallbacks: %s", int(got), len(jobs), fallbacks(planned))
		}
		if c.withErrors.Load() != 1 { // the caller without a token only
			t.Errorf("%d answers with errors, want 1 (no token)", c.withErrors.Load())
		}
		// Something waits on each side in the world, so the answers compared are not empty.
		for _, r := range []planRole{w.roles[0], w.roles[5], w.roles[6]} {
			var out struct {
				Resolutions struct {
					TotalCount int
					Edges      []struct {
						Node struct{ Events struct{ TotalCount int } }
					}
				}
				ResolutionSummary struct{ WaitingOnMe int }
			}
			planned.MustData(t, r.token, query, nil, &out)
			if n := out.Resolutions.TotalCount; n == 0 || n != len(out.Resolutions.Edges) || n != out.ResolutionSummary.WaitingOnMe ||
				out.Resolutions.Edges[0].Node.Events.TotalCount == 0 {
				t.Errorf("as %s: %+v", r.name, out)
			}
		}
	})
}
