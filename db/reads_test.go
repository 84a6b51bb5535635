package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// TestReadMatchesTheLoaderQueries checks that Read (prepared statements in one round
// trip on PostgreSQL) returns exactly what the loaders' queries return, for every kind,
// role and page shape, including NULL columns, unknown IDs and odd characters.
func TestReadMatchesTheLoaderQueries(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		biz, other := dbtest.MustCompany(t, d), dbtest.MustCompany(t, d)
		var cases []dispute.Case
		var users, payments, members []string
		at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		for i := range 4 {
			u := dbtest.MustUser(t, d)
			users = append(users, u.ID)
			memberID := ""
			if i%2 == 0 { // half the payments without a membership: NULL membership_id
				memberID = dbtest.MustMembership(t, d, u, biz).ID
				members = append(members, memberID)
			}
			p := dbtest.MustPayment(t, d, u, biz, memberID)
			payments = append(payments, p.ID)
			res := dbtest.MustOpen(t, d, p, dispute.IssueItemNotReceived, at.Add(time.Duration(i)*time.Minute))
			for j := range i * 3 {
				actor := dispute.ActorCustomer
				if j%2 == 1 {
					actor = dispute.ActorMerchant
				}
				res = dbtest.MustApply(t, d, res.Case.ID, actor, dispute.ActionRespond, "a \"quoted\" \\ message\n", at.Add(time.Duration(i)*time.Minute+time.Duration(j+1)*time.Second))
			}
			if i == 3 { // events hidden from the merchant and an accept: refund, canceled membership
				res = dbtest.MustApply(t, d, res.Case.ID, dispute.ActorPlatform, dispute.ActionRequestBuyerInfo, "buyer?", at.Add(time.Hour))
				res = dbtest.MustApply(t, d, res.Case.ID, dispute.ActorCustomer, dispute.ActionRespond, "here", at.Add(time.Hour+time.Second))
			}
			if i == 0 {
				if _, err := d.UpdateCase(ctx, db.Change{CaseID: res.Case.ID, Scope: db.Scope{All: true}, Now: at.Add(2 * time.Hour),
					Decide: func(c dispute.Case) (dispute.Case, dispute.Event, dispute.Effects, error) {
						return dispute.DefaultPolicy().Apply(c, dispute.ActorMerchant, dispute.ActionAccept,
							dispute.Input{TerminateMembership: true}, at.Add(2*time.Hour))
					}}); err != nil {
					t.Fatal(err)
				}
			}
			cases = append(cases, dbtest.MustGetCase(t, d, res.Case.ID))
		}
		views := []db.CaseView{{CaseID: cases[0].ID, Role: dispute.ActorCustomer}, {CaseID: cases[1].ID, Role: dispute.ActorMerchant},
			{CaseID: cases[2].ID, Role: dispute.ActorPlatform}, {CaseID: cases[3].ID, Role: dispute.ActorMerchant},
			{CaseID: "reso_unknown", Role: dispute.ActorPlatform}}
		pages := []db.EventPage{{Limit: 2, Desc: true}, {Limit: 3}, {Limit: 1, Desc: true, Cursor: 5}, {Limit: 4, Cursor: 2}}
		r := &db.Reads{
			Companies: []string{biz.ID, other.ID, "biz_unknown"}, Users: append(users, "user_unknown"),
			Payments: append(payments, "pay_unknown"), Memberships: append(members, "mem_unknown"),
			DisputantUsers: users, DisputantCompanies: []string{biz.ID},
			Recent: views, RecentN: 4, EventCounts: views,
		}
		// Counts of cases, in several scopes and filters, from the counts and (a date
		// condition) from the cases; the scope of nothing too.
		since := at.Add(90 * time.Second)
		scopes := []db.Scope{{All: true}, {CompanyIDs: []string{biz.ID}}, {CompanyIDs: []string{other.ID}}, {UserID: users[1]},
			{UserID: users[2], CompanyIDs: []string{biz.ID}}, {}}
		filters := []db.Filter{{}, {CreatedAfter: &since}, {WaitingOnViewer: true}, {Statuses: []dispute.Status{dispute.StatusMerchantResponseNeeded}},
			{CompanyID: biz.ID, UserID: users[3]}, {WaitingOnViewer: true, CreatedAfter: &since}}
		for _, s := range scopes {
			for _, f := range filters {
				r.Counts = append(r.Counts, db.CountRead{Scope: s, Filter: f}, db.CountRead{Scope: s, Filter: f, Summary: true})
			}
		}
		for _, p := range pages {
			r.Pages = append(r.Pages, db.PageRead{Views: views, Page: p})
		}
		var got db.ReadSet
		if err := d.Read(ctx, r, &got); err != nil {
			t.Fatal(err)
		}
		check := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
			}
		}
		wantCompanies, _ := d.CompaniesByID(ctx, r.Companies)
		check("companies", got.Companies, wantCompanies)
		wantUsers, _ := d.UsersByID(ctx, r.Users)
		check("users", got.Users, wantUsers)
		wantPayments, _ := d.PaymentsByID(ctx, r.Payments)
		check("payments", got.Payments, wantPayments)
		wantMembers, _ := d.MembershipsByID(ctx, r.Memberships)
		check("memberships", got.Memberships, wantMembers)
		found, _ := d.Disputants(ctx, users, []string{biz.ID})
		wantDisputants := map[string]bool{}
		for _, u := range users {
			wantDisputants[u] = found[u]
		}
		check("disputants", got.Disputants, wantDisputants)
		wantRecent, _ := d.RecentEvents(ctx, views, 4)
		check("recent", got.Recent, wantRecent)
		for i, p := range pages {
			want, _ := d.ListEvents(ctx, views, p)
			check("page", got.Pages[i], want)
		}
		wantCounts, _ := d.CountEvents(ctx, views)
		for _, v := range views {
			if n, ok := got.EventCounts[v.CaseID]; !ok || n != wantCounts[v.CaseID] {
				t.Errorf("event count of %s as %s: %d (%v), want %d", v.CaseID, v.Role, n, ok, wantCounts[v.CaseID])
			}
		}
		if len(got.EventCounts) != len(views) || got.EventCounts[cases[3].ID] == 0 {
			t.Errorf("event counts %v", got.EventCounts)
		}
		nonzero := 0
		for i, c := range r.Counts {
			want, err := d.SummarizeCases(ctx, c.Scope, c.Filter)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Summary {
				want = db.Summary{Total: want.Total}
			}
			if g := got.Counts[i]; g.Total != want.Total || c.Summary && !reflect.DeepEqual(g, want) {
				t.Errorf("count %d (%+v, %+v, summary %v):\n got %+v\nwant %+v", i, c.Scope, c.Filter, c.Summary, g, want)
			}
			if n, err := d.CountCases(ctx, c.Scope, c.Filter); err != nil || n != want.Total {
				t.Errorf("CountCases (%+v, %+v) = %d, %v; want %d", c.Scope, c.Filter, n, err, want.Total)
			}
			if want.Total > 0 {
				nonzero++
			}
		}
		if nonzero < len(r.Counts)/3 {
			t.Errorf("only %d of %d counts are not zero: the fixture does not cover them", nonzero, len(r.Counts))
		}
		if len(got.Payments) != 4 || got.Payments[payments[0]].RefundedAt == nil || got.Memberships[members[0]].CanceledAt == nil {
			t.Errorf("the fixture lacks what it means to cover: %+v", got.Payments)
		}
		if r.Statements() != 7+len(pages)+len(r.Counts) {
			t.Errorf("Statements() = %d", r.Statements())
		}
	})
}
