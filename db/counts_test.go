package db_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// countWorld is a few merchants and customers with cases between them, and the
// scopes that see them: the platform, each company key, each customer, and a team
// member of two companies who also has cases of their own, one of them at a company
// of theirs (so they see it both as its customer and as a merchant).
type countWorld struct {
	companies []db.Company
	users     []db.User
	member    db.User // team member of companies[0] and companies[1]
	caseIDs   []string
	scopes    map[string]db.Scope
}

func newCountWorld(t *testing.T, d *db.DB, r *rand.Rand, cases int) *countWorld {
	t.Helper()
	w := &countWorld{scopes: map[string]db.Scope{"platform": {All: true}}}
	for range 3 {
		w.companies = append(w.companies, dbtest.MustCompany(t, d))
	}
	for range 4 {
		w.users = append(w.users, dbtest.MustUser(t, d))
	}
	w.member = dbtest.MustUser(t, d)
	dbtest.MustTeamMember(t, d, w.companies[0], w.member)
	dbtest.MustTeamMember(t, d, w.companies[1], w.member)
	customers := append(slices.Clone(w.users), w.member)
	for i := range cases {
		u, c := customers[r.IntN(len(customers))], w.companies[r.IntN(len(w.companies))]
		if i == 0 { // the team member's own case at a company of theirs
			u, c = w.member, w.companies[0]
		}
		pay := dbtest.MustPayment(t, d, u, c, "")
		res := dbtest.MustOpen(t, d, pay, dispute.Issues[r.IntN(len(dispute.Issues))], caseT0.Add(time.Duration(i)*time.Minute))
		w.caseIDs = append(w.caseIDs, res.Case.ID)
	}
	for i, c := range w.companies {
		w.scopes[fmt.Sprintf("company %d", i)] = db.Scope{CompanyIDs: []string{c.ID}}
	}
	for i, u := range w.users {
		w.scopes[fmt.Sprintf("customer %d", i)] = db.Scope{UserID: u.ID}
	}
	w.scopes["team member"] = db.Scope{UserID: w.member.ID, CompanyIDs: []string{w.companies[0].ID, w.companies[1].ID}}
	w.scopes["team member of 2"] = db.Scope{UserID: w.member.ID, CompanyIDs: []string{w.companies[2].ID}}
	return w
}

var errSkip = errors.New("nothing to do")

// randomStep makes one random move on a random case: an action a random party may
// take now (from the policy's own list), the deadline sweeper's, or a chargeback
// record. It returns errSkip when the chosen party has nothing to do.
func randomStep(ctx context.Context, d *db.DB, r *rand.Rand, caseID string, now time.Time) error {
	p := dispute.DefaultPolicy()
	actors := []dispute.Actor{dispute.ActorCustomer, dispute.ActorMerchant, dispute.ActorPlatform, dispute.ActorSystem}
	actor := actors[r.IntN(len(actors))]
	roll := r.IntN(20)
	terminate := r.IntN(2) == 0
	_, err := d.UpdateCase(ctx, db.Change{CaseID: caseID, Scope: db.Scope{All: true},
		Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
			switch {
			case roll == 0:
				next, ev, err := p.Record(c, dispute.EventDisputeOpened, "", now)
				return next, ev, dispute.Effects{}, err
			case actor == dispute.ActorSystem:
				next, ev, ok := p.Expire(c, now.Add(30*24*time.Hour))
				if !ok {
					return c, ev, dispute.Effects{}, errSkip
				}
				return next, ev, dispute.Effects{}, nil
			}
			allowed := p.Allowed(c, actor)
			if len(allowed) == 0 {
				return c, dispute.Event{}, dispute.Effects{}, errSkip
			}
			a := allowed[roll%len(allowed)]
			return p.Apply(c, actor, a, dispute.Input{Message: "a message", TerminateMembership: terminate}, now)
		}})
	return err
}

// TestCountsFollowRandomActions runs random actions (the parties', the sweeper's,
// chargeback records) from concurrent writers, then compares the counts with a full
// recount, and every summary and count with one computed from the cases.
func TestCountsFollowRandomActions(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		w := newCountWorld(t, d, rand.New(rand.NewPCG(1, 2)), 40)
		const writers, steps = 4, 60
		var wg sync.WaitGroup
		var applied sync.Map
		for k := range writers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(k), 7))
				for i := range steps {
					id := w.caseIDs[r.IntN(len(w.caseIDs))]
					err := randomStep(ctx, d, r, id, caseT0.Add(time.Duration(i)*time.Hour))
					switch {
					case err == nil:
						applied.Store(fmt.Sprint(k, i), true)
					case !errors.Is(err, errSkip):
						t.Errorf("writer %d step %d: %v", k, i, err) // a deadlock would be a CONFLICT
						return
					}
				}
			})
		}
		wg.Wait()
		n := 0
		applied.Range(func(any, any) bool { n++; return true })
		if n < writers*steps/3 {
			t.Fatalf("only %d of %d steps applied", n, writers*steps)
		}
		if err := d.CheckCounts(ctx); err != nil {
			t.Fatal(err)
		}
		expectSummaries(t, d, w)
	})
}

// expectSummaries compares SummarizeCases, CountCases and ListCases with the cases
// themselves, for every scope of the world and a set of filters, each also with a
// date condition that keeps every case (which makes the store read the cases instead
// of the counts).
func expectSummaries(t *testing.T, d *db.DB, w *countWorld) {
	t.Helper()
	ctx := context.Background()
	snap, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	filters := map[string]db.Filter{
		"none":                 {},
		"statuses":             {Statuses: []dispute.Status{dispute.StatusMerchantResponseNeeded, dispute.StatusMerchantWon, dispute.StatusUnderPlatformReview}},
		"issues":               {Issues: []dispute.Issue{dispute.IssueItemNotReceived, dispute.IssueForgotToCancel}},
		"outcome":              {Outcome: dispute.OutcomeMerchantWon},
		"waiting":              {WaitingOnViewer: true},
		"waiting and statuses": {WaitingOnViewer: true, Statuses: []dispute.Status{dispute.StatusCustomerResponseNeeded, dispute.StatusMerchantInfoNeeded}},
		"company 0":            {CompanyID: w.companies[0].ID},
		"company 2 waiting":    {CompanyID: w.companies[2].ID, WaitingOnViewer: true},
		"member as customer":   {UserID: w.member.ID},
		"customer 0":           {UserID: w.users[0].ID},
		"customer 0 at 1":      {UserID: w.users[0].ID, CompanyID: w.companies[1].ID},
	}
	always := caseT0.Add(-time.Hour)
	for sname, s := range w.scopes {
		// Read counts and summarizes every filter of the scope in one batch, with
		// CountCases's and SummarizeCases's statements.
		var reads db.Reads
		var wants []string
		for _, f := range filters {
			for _, dated := range []bool{false, true} {
				if dated {
					f.CreatedAfter = &always
				}
				want, _ := summarize(snap.Cases, s, f)
				reads.Counts = append(reads.Counts, db.CountRead{Scope: s, Filter: f}, db.CountRead{Scope: s, Filter: f, Summary: true})
				wants = append(wants, fmt.Sprint(want.Total), summaryString(want))
			}
		}
		var set db.ReadSet
		if err := d.Read(ctx, &reads, &set); err != nil {
			t.Fatalf("%s: Read: %v", sname, err)
		}
		for i, sum := range set.Counts {
			got := fmt.Sprint(sum.Total)
			if reads.Counts[i].Summary {
				got = summaryString(sum)
			}
			if got != wants[i] {
				t.Errorf("%s: Read's count %d (%+v):\n got %s\nwant %s", sname, i, reads.Counts[i].Filter, got, wants[i])
			}
		}
		for fname, f := range filters {
			for _, dated := range []bool{false, true} {
				if dated {
					f.CreatedAfter = &always
				}
				name := fmt.Sprintf("%s, filter %s, dated %v", sname, fname, dated)
				want, ids := summarize(snap.Cases, s, f)
				got, err := d.SummarizeCases(ctx, s, f)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if g, w := summaryString(got), summaryString(want); g != w {
					t.Errorf("%s: summary\n got %s\nwant %s", name, g, w)
				}
				if n, err := d.CountCases(ctx, s, f); err != nil || n != want.Total {
					t.Errorf("%s: CountCases = %d, %v; want %d", name, n, err, want.Total)
				}
				if f.WaitingOnViewer {
					expectWaitingList(t, d, name, s, f, ids)
				}
			}
		}
	}
}

// summarize computes a summary from the cases, with the viewer's role on each as auth
// decides it (the customer on the cases they opened, else the merchant).
func summarize(cases []dispute.Case, s db.Scope, f db.Filter) (db.Summary, []string) {
	sum := db.Summary{ByStatus: map[dispute.Status]int{}, ByIssue: map[dispute.Issue]int{}, ByOutcome: map[dispute.Outcome]int{}}
	var ids []string
	for _, c := range cases {
		var role dispute.Actor
		switch {
		case s.All:
			role = dispute.ActorPlatform
		case s.UserID != "" && c.UserID == s.UserID:
			role = dispute.ActorCustomer
		case slices.Contains(s.CompanyIDs, c.CompanyID):
			role = dispute.ActorMerchant
		default:
			continue
		}
		waiting := c.Status.WaitsOn() == role
		if f.CompanyID != "" && c.CompanyID != f.CompanyID || f.UserID != "" && c.UserID != f.UserID ||
			len(f.Statuses) > 0 && !slices.Contains(f.Statuses, c.Status) || len(f.Issues) > 0 && !slices.Contains(f.Issues, c.Issue) ||
			f.Outcome != "" && c.Outcome != f.Outcome || f.CreatedAfter != nil && c.CreatedAt.Before(*f.CreatedAfter) ||
			f.WaitingOnViewer && !waiting {
			continue
		}
		ids = append(ids, c.ID)
		sum.Total++
		if c.Status.Open() {
			sum.Open++
		}
		if waiting {
			sum.WaitingOnViewer++
		}
		sum.ByStatus[c.Status]++
		sum.ByIssue[c.Issue]++
		if c.Outcome != "" {
			sum.ByOutcome[c.Outcome]++
		}
	}
	return sum, ids
}

func summaryString(s db.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "total %d open %d waiting %d;", s.Total, s.Open, s.WaitingOnViewer)
	for _, st := range dispute.Statuses {
		fmt.Fprintf(&b, " %d", s.ByStatus[st])
	}
	b.WriteString(";")
	for _, is := range dispute.Issues {
		fmt.Fprintf(&b, " %d", s.ByIssue[is])
	}
	b.WriteString(";")
	for _, o := range []dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn} {
		fmt.Fprintf(&b, " %d", s.ByOutcome[o])
	}
	return b.String()
}

// expectWaitingList checks that ListCases returns exactly the waiting cases, soonest
// deadline first.
func expectWaitingList(t *testing.T, d *db.DB, name string, s db.Scope, f db.Filter, want []string) {
	t.Helper()
	res, err := d.ListCases(context.Background(), s, f, db.Page{Field: db.OrderDueDate, Limit: 100})
	if err != nil {
		t.Fatalf("%s: list: %v", name, err)
	}
	var got []string
	for i, c := range res.Cases {
		got = append(got, c.ID)
		if i > 0 {
			prev := res.Cases[i-1].DueDate
			if prev == nil && c.DueDate != nil || prev != nil && c.DueDate != nil && c.DueDate.Before(*prev) {
				t.Errorf("%s: list not in deadline order at %d", name, i)
			}
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: waiting list\n got %v\nwant %v", name, got, want)
	}
}

// cancelAfterCounts cancels the change's context once its count statement ran, so
// that the transaction fails after the counts changed: the commit refuses a canceled
// context and rolls back.
type cancelAfterCounts struct {
	cancel context.CancelFunc
	seen   chan struct{}
}

func (h *cancelAfterCounts) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (h *cancelAfterCounts) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.Contains(ev.Query, `"case_counts"`) && strings.HasPrefix(ev.Query, "INSERT") {
		select {
		case h.seen <- struct{}{}:
			h.cancel()
		default:
		}
	}
}

// TestCountsRollBack: a change that fails after its counts were written leaves them
// as they were, as does one refused before.
func TestCountsRollBack(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		c := mustOpenCase(t, d)
		scopes := []db.Scope{{All: true}, {CompanyIDs: []string{c.CompanyID}}, {UserID: c.UserID}}
		read := func() []string {
			var out []string
			for _, s := range scopes {
				sum, err := d.SummarizeCases(context.Background(), s, db.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, summaryString(sum))
			}
			return out
		}
		before := read()

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h := &cancelAfterCounts{cancel: cancel, seen: make(chan struct{}, 1)}
		remove := d.AddQueryHook(h)
		_, err := d.UpdateCase(ctx, db.Change{CaseID: c.ID, Scope: db.Scope{All: true}, Decide: acceptDecision})
		remove()
		if len(h.seen) != 1 {
			t.Fatal("the change did not write its counts")
		}
		if err == nil {
			t.Fatal("UpdateCase succeeded with its context canceled before the commit")
		}
		if got := dbtest.MustGetCase(t, d, c.ID); got.Status != dispute.StatusMerchantResponseNeeded {
			t.Fatalf("the case changed: %s", got.Status)
		}
		if got := read(); !slices.Equal(got, before) {
			t.Errorf("counts after a rolled-back change:\n got %v\nwant %v", got, before)
		}

		// Refused by the decision: nothing written.
		_, err = d.UpdateCase(context.Background(), db.Change{CaseID: c.ID, Scope: db.Scope{All: true},
			Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
				return dispute.DefaultPolicy().Apply(c, dispute.ActorCustomer, dispute.ActionAppeal, dispute.Input{Message: "x"}, caseT0)
			}})
		if dispute.CodeOf(err) != dispute.CodeActionNotAllowed {
			t.Fatalf("appeal of an open case = %v", err)
		}
		if got := read(); !slices.Equal(got, before) {
			t.Errorf("counts after a refused change:\n got %v\nwant %v", got, before)
		}

		// And the same change, now committed, moves the case in every scope.
		dbtest.MustApply(t, d, c.ID, dispute.ActorMerchant, dispute.ActionAccept, "", caseT0.Add(time.Hour))
		for _, s := range scopes {
			sum, err := d.SummarizeCases(context.Background(), s, db.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.ByStatus[dispute.StatusCustomerWon] != 1 || sum.ByStatus[dispute.StatusMerchantResponseNeeded] != 0 ||
				sum.ByOutcome[dispute.OutcomeCustomerWon] != 1 || sum.Open != 0 {
				t.Errorf("scope %+v after accept: %s", s, summaryString(sum))
			}
		}
	})
}

// TestCountsMigrationBackfills runs the migration that creates the counts on a
// database that already has cases, and RecountCases on counts gone wrong.
func TestCountsMigrationBackfills(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		r := rand.New(rand.NewPCG(3, 4))
		w := newCountWorld(t, d, r, 30)
		for i := range 60 {
			if err := randomStep(ctx, d, r, w.caseIDs[r.IntN(len(w.caseIDs))], caseT0.Add(time.Duration(i)*time.Hour)); err != nil &&
				!errors.Is(err, errSkip) {
				t.Fatal(err)
			}
		}
		// Back to before the migration: no counts table, the migration not applied.
		var names []string
		if _, err := d.Raw(ctx, &names, "SELECT name FROM bun_migrations WHERE name = '20261206213000'"); err != nil || len(names) != 1 {
			t.Fatalf("the migration's record: %v %v", names, err)
		}
		for _, q := range []string{"DROP TABLE case_counts", "DELETE FROM bun_migrations WHERE name = '20261206213000'"} {
			if _, err := d.Raw(ctx, nil, q); err != nil {
				t.Fatal(err)
			}
		}
		applied, err := d.Migrate(ctx)
		if err != nil || len(applied) != 1 {
			t.Fatalf("migrate = %v, %v", applied, err)
		}
		if err := d.CheckCounts(ctx); err != nil {
			t.Fatal(err)
		}
		expectSummaries(t, d, w)

		// Counts gone wrong behind the store's back are seen, and rebuilt.
		if _, err := d.Raw(ctx, nil, "UPDATE case_counts SET n = n + 2 WHERE scope = ?", w.companies[1].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Raw(ctx, nil, "DELETE FROM case_counts WHERE scope = ?", w.users[0].ID); err != nil {
			t.Fatal(err)
		}
		err = d.CheckCounts(ctx)
		if err == nil || !strings.Contains(err.Error(), w.companies[1].ID) {
			t.Fatalf("CheckCounts on wrong counts = %v", err)
		}
		if err := d.RecountCases(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.CheckCounts(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCountsConcurrentTurns: writers that move cases of one company and one issue in
// opposite directions at once (merchant_response_needed to customer_response_needed
// and back) update the same count rows in opposite senses. They take the rows in one
// order, so they wait for each other but never deadlock (which PostgreSQL would
// report, and the store would turn into a CONFLICT).
func TestCountsConcurrentTurns(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		co := dbtest.MustCompany(t, d)
		const writers, rounds = 8, 60
		var ids []string
		for i := range writers {
			u := dbtest.MustUser(t, d)
			res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, co, ""), dispute.IssueItemNotReceived, caseT0)
			if i%2 == 1 { // half start the other way round
				res = dbtest.MustApply(t, d, res.Case.ID, dispute.ActorMerchant, dispute.ActionRespond, "over to you", caseT0)
			}
			ids = append(ids, res.Case.ID)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, id := range ids {
			wg.Go(func() {
				<-start
				for k := range rounds {
					actor := dispute.ActorMerchant
					if (k+i)%2 == 1 {
						actor = dispute.ActorCustomer
					}
					_, err := d.UpdateCase(context.Background(), db.Change{CaseID: id, Scope: db.Scope{All: true},
						Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
							return dispute.DefaultPolicy().Apply(c, actor, dispute.ActionRespond, dispute.Input{Message: "turn"}, caseT0)
						}})
					if err != nil {
						t.Errorf("writer %d round %d: %v", i, k, err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if err := d.CheckCounts(context.Background()); err != nil {
			t.Fatal(err)
		}
		sum, err := d.SummarizeCases(context.Background(), db.Scope{CompanyIDs: []string{co.ID}}, db.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Total != writers || sum.ByStatus[dispute.StatusMerchantResponseNeeded]+sum.ByStatus[dispute.StatusCustomerResponseNeeded] != writers {
			t.Errorf("after the turns: %s", summaryString(sum))
		}
	})
}
