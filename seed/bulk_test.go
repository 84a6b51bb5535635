package seed

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

const bulkTestCases = 2000

func TestBulk(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
		o := Options{Cases: bulkTestCases, Seed: 7, Now: now, BatchSize: 700}
		var progress strings.Builder
		st, err := BulkWithStats(ctx, d, o, &progress)
		if err != nil {
			t.Fatalf("Bulk: %v", err)
		}
		if !strings.Contains(progress.String(), "rows/s") {
			t.Errorf("no progress reported: %q", progress.String())
		}
		s := mustLoad(t, d)
		if len(s.cases) != bulkTestCases || st.Cases != bulkTestCases {
			t.Fatalf("%d cases stored, %d reported, want %d", len(s.cases), st.Cases, bulkTestCases)
		}
		events := 0
		for _, evs := range s.events {
			events += len(evs)
		}
		if st.Events != int64(events) || st.Payments != int64(len(s.payments)) || st.Users != int64(len(s.users)) ||
			st.Memberships != int64(len(s.memberships)) || st.Companies != int64(len(s.companies)) || st.TeamMembers != int64(len(s.team)) {
			t.Errorf("stats %+v do not match the rows", st)
		}
		if len(s.payments) <= len(s.cases) {
			t.Errorf("%d payments for %d cases: want some without a case", len(s.payments), len(s.cases))
		}
		byStatus := checkConsistent(t, s, now, 5, 20)
		for _, status := range dispute.Statuses {
			if byStatus[status] < bulkTestCases/100 {
				t.Errorf("%d cases in %s", byStatus[status], status)
			}
		}
		byIssue := map[dispute.Issue]int{}
		oldest := now
		lengths := map[int]int{}
		for _, c := range s.cases {
			byIssue[c.Issue]++
			if c.CreatedAt.Before(oldest) {
				oldest = c.CreatedAt
			}
			lengths[c.EventCount]++
		}
		for _, issue := range dispute.Issues {
			if byIssue[issue] == 0 {
				t.Errorf("no case with issue %s", issue)
			}
		}
		if age := now.Sub(oldest); age < 600*day || age > 800*day {
			t.Errorf("oldest case created %s before now, want about two years", age)
		}
		if lengths[5] == 0 || lengths[20] == 0 {
			t.Errorf("event counts %v: want the whole range 5..20", lengths)
		}
		t.Logf("statuses %v, issues %v, %d events, %d payments, %d memberships", byStatus, byIssue, events, len(s.payments), len(s.memberships))

		// Appending a second data set with the same seed works: names and IDs differ.
		if err := Bulk(ctx, d, Options{Cases: 100, Seed: 7, Now: now}, nil); err != nil {
			t.Fatalf("second Bulk: %v", err)
		}
		s2 := mustLoad(t, d)
		if len(s2.cases) != bulkTestCases+100 {
			t.Errorf("%d cases after appending 100", len(s2.cases))
		}
		checkConsistent(t, s2, now, 5, 20)
		// Each batch added its cases to the counts (the second run's on top of the first's).
		if err := d.CheckCounts(ctx); err != nil {
			t.Error(err)
		}
	})
}

// Two runs with the same seed and Now write the same data, IDs included; another
// seed writes other data.
func TestBulkDeterministic(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.MustSQLite}, {"postgres", dbtest.MustPostgres}} {
		t.Run(engine.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
			run := func(seed int64) []string {
				d := engine.open(t)
				if err := Bulk(ctx, d, Options{Cases: bulkTestCases / 2, Seed: seed, Now: now, BatchSize: 300}, nil); err != nil {
					t.Fatalf("Bulk: %v", err)
				}
				s := mustLoad(t, d)
				var out []string
				for _, c := range s.cases {
					out = append(out, fmt.Sprintf("%s %s %s %d %s %s %s", c.ID, c.Status, c.Issue, c.EventCount,
						c.CreatedAt.Format(time.RFC3339Nano), c.PaymentID, at(c.DueDate).Format(time.RFC3339Nano)))
					for _, e := range s.events[c.ID] {
						out = append(out, fmt.Sprintf("  %s %s %s %s", e.ID, e.Action, e.Reporter, e.Details))
					}
				}
				for _, u := range s.users {
					out = append(out, u.ID+" "+u.Username)
				}
				return out
			}
			a, b := run(3), run(3)
			if len(a) != len(b) {
				t.Fatalf("%d vs %d rows", len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("row %d differs:\n%s\n%s", i, a[i], b[i])
				}
			}
		})
	}
}

// Another seed gives other cases.
func TestBulkSeeds(t *testing.T) {
	w, err := newWalkTable(dispute.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
	gen := func(seed int64) *batch {
		b := newPlan(Options{Cases: 500, Seed: seed, Now: now}, w, 0).batch(0)
		if b.err != nil {
			t.Fatal(b.err)
		}
		return b
	}
	a, b, c := gen(3), gen(3), gen(4)
	same, sameC := 0, 0
	for i := range a.Cases {
		x, y, z := a.Cases[i], b.Cases[i], c.Cases[i]
		if reflect.DeepEqual(x, y) {
			same++
		}
		if x.Status == z.Status && x.Issue == z.Issue && x.EventCount == z.EventCount && x.CreatedAt.Equal(z.CreatedAt) {
			sameC++
		}
	}
	if same != len(a.Cases) || sameC > 0 {
		t.Errorf("seed 3 twice: %d of %d cases equal; seed 4: %d equal to seed 3", same, len(a.Cases), sameC)
	}
}

// Every policy the server can be configured with gives reachable walks.
func TestWalkTablePolicies(t *testing.T) {
	for _, p := range []dispute.Policy{{}, {MaxInfoRequests: 1}, {MaxInfoRequests: 5, ResponseWindow: time.Hour}} {
		w, err := newWalkTable(p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		plan := newPlan(Options{Cases: 300, Seed: 1, Policy: p, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, w, 0)
		if b := plan.batch(0); b.err != nil {
			t.Fatalf("%+v: %v", p, b.err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	w, err := newWalkTable(dispute.DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	p := newPlan(Options{Cases: 10000 * (b.N + 1), Seed: 1, BatchSize: 10000}, w, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if bt := p.batch(i); bt.err != nil {
			b.Fatal(bt.err)
		}
	}
}
