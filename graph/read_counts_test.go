package graph_test

import (
	"slices"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// totalCount on resolutions counts every case of the filter, whatever the page, for
// every filter of the pagination tests (those with dates count the cases, the others
// read the counts) and as each kind of viewer.
func TestReadTotalCount(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildCaseFixture(t, d)
		s := apptest.New(t, d)
		const q = `query($filter: ResolutionFilter, $after: String) {
		  resolutions(first: 2, after: $after, filter: $filter) { totalCount pageInfo { endCursor } } }`
		type page struct {
			Resolutions struct {
				TotalCount int        `json:"totalCount"`
				PageInfo   rdPageInfo `json:"pageInfo"`
			} `json:"resolutions"`
		}
		for _, fc := range rdFilterTable(f) {
			want := len(rdFilterCases(f.cases, fc.match))
			var p1, p2 page
			s.MustData(t, apptest.PlatformToken, q, map[string]any{"filter": fc.filter}, &p1)
			if p1.Resolutions.TotalCount != want {
				t.Errorf("filter %s: totalCount %d, want %d", fc.name, p1.Resolutions.TotalCount, want)
			}
			if p1.Resolutions.PageInfo.EndCursor != nil {
				s.MustData(t, apptest.PlatformToken, q, map[string]any{"filter": fc.filter, "after": *p1.Resolutions.PageInfo.EndCursor}, &p2)
				if p2.Resolutions.TotalCount != want {
					t.Errorf("filter %s, second page: totalCount %d, want %d", fc.name, p2.Resolutions.TotalCount, want)
				}
			}
		}
		for _, v := range []struct {
			name  string
			token string
			match func(dispute.Case) bool
		}{
			{"company key", dbtest.MustToken(t, d, db.TokenCompany, f.comps[0].ID, false),
				func(c dispute.Case) bool { return c.CompanyID == f.comps[0].ID }},
			{"customer", dbtest.MustToken(t, d, db.TokenUser, f.users[1].ID, false),
				func(c dispute.Case) bool { return c.UserID == f.users[1].ID }},
		} {
			var p page
			s.MustData(t, v.token, q, map[string]any{"filter": map[string]any{}}, &p)
			if want := len(rdFilterCases(f.cases, v.match)); p.Resolutions.TotalCount != want {
				t.Errorf("%s: totalCount %d, want %d", v.name, p.Resolutions.TotalCount, want)
			}
		}
	})
}

// rdWaitingCase is a case as the waitingOnMe tests read it.
type rdWaitingCase struct {
	ID            string   `json:"id"`
	Status        string   `json:"status"`
	DueDate       *string  `json:"dueDate"`
	CreatedAt     string   `json:"createdAt"`
	ViewerActions []string `json:"viewerActions"`
}

// TestReadWaitingOnMe: the filter returns exactly the cases waiting on the caller's
// side, soonest deadline first unless told otherwise, for a customer, a company key,
// a team member (who also has a case of their own at their company, where they are
// the customer) and the platform; totalCount and the summary agree.
func TestReadWaitingOnMe(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		cast := dbtest.MustCast(t, d)
		var cases []dispute.Case
		open := func(u db.User, c db.Company, i int) {
			sc := rdScenarios[i%len(rdScenarios)]
			at := rdPageBase.Add(time.Duration(i) * 37 * time.Minute)
			res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, ""), dispute.Issues[i%len(dispute.Issues)], at)
			for k, st := range sc.steps {
				res = dbtest.MustApply(t, d, res.Case.ID, st.actor, st.action, "step", at.Add(time.Duration(k+1)*time.Hour))
			}
			cases = append(cases, res.Case)
		}
		for i := range 2 * len(rdScenarios) {
			open(cast.Customer, cast.Company, i)
		}
		for i := range len(rdScenarios) {
			open(cast.TeamMember, cast.Company, i) // the team member's own cases at their company
			open(cast.OtherCustomer, cast.OtherCompany, i)
		}
		s := apptest.New(t, d)

		// role is the viewer's role on c, as auth decides it, "" when c is hidden.
		viewers := []struct {
			name  string
			token string
			role  func(c dispute.Case) dispute.Actor
		}{
			{"customer", cast.CustomerToken, func(c dispute.Case) dispute.Actor {
				if c.UserID == cast.Customer.ID {
					return dispute.ActorCustomer
				}
				return ""
			}},
			{"company key", cast.CompanyToken, func(c dispute.Case) dispute.Actor {
				if c.CompanyID == cast.Company.ID {
					return dispute.ActorMerchant
				}
				return ""
			}},
			{"team member", cast.TeamMemberToken, func(c dispute.Case) dispute.Actor {
				switch {
				case c.UserID == cast.TeamMember.ID:
					return dispute.ActorCustomer
				case c.CompanyID == cast.Company.ID:
					return dispute.ActorMerchant
				}
				return ""
			}},
			{"platform", cast.PlatformToken, func(dispute.Case) dispute.Actor { return dispute.ActorPlatform }},
		}
		const q = `query($filter: ResolutionFilter, $orderBy: ResolutionOrder) {
		  resolutions(first: 100, filter: $filter, orderBy: $orderBy) { totalCount nodes { id status dueDate createdAt viewerActions } }
		  resolutionSummary(filter: $filter) { total open waitingOnMe byStatus { status count } }
		  all: resolutionSummary { total waitingOnMe }
		}`
		type answer struct {
			Resolutions struct {
				TotalCount int             `json:"totalCount"`
				Nodes      []rdWaitingCase `json:"nodes"`
			} `json:"resolutions"`
			ResolutionSummary struct {
				Total       int `json:"total"`
				Open        int `json:"open"`
				WaitingOnMe int `json:"waitingOnMe"`
				ByStatus    []struct {
					Status string `json:"status"`
					Count  int    `json:"count"`
				} `json:"byStatus"`
			} `json:"resolutionSummary"`
			All struct {
				Total       int `json:"total"`
				WaitingOnMe int `json:"waitingOnMe"`
			} `json:"all"`
		}
		for _, v := range viewers {
			t.Run(v.name, func(t *testing.T) {
				var want []dispute.Case
				visible := 0
				for _, c := range cases {
					role := v.role(c)
					if role != "" {
						visible++
					}
					if role != "" && c.Status.WaitsOn() == role {
						want = append(want, c)
					}
				}
				if len(want) < 2 || len(want) == visible {
					t.Fatalf("fixture: %d of %d cases wait on the %s: proves nothing", len(want), visible, v.name)
				}
				waiting := map[string]any{"waitingOnMe": true}
				var a answer
				s.MustData(t, v.token, q, map[string]any{"filter": waiting}, &a)
				rdWantIDs(t, "waiting, default order (soonest deadline first)", rdWaitingIDs(a.Resolutions.Nodes),
					rdExpectedOrder(want, "DUE_DATE", false))
				for _, n := range a.Resolutions.Nodes {
					if len(n.ViewerActions) == 0 {
						t.Errorf("case %s (%s) waits on the %s, who can do nothing", n.ID, n.Status, v.name)
					}
				}
				if a.Resolutions.TotalCount != len(want) || a.ResolutionSummary.Total != len(want) ||
					a.ResolutionSummary.WaitingOnMe != len(want) || a.ResolutionSummary.Open != len(want) ||
					a.All.WaitingOnMe != len(want) || a.All.Total != visible {
					t.Errorf("counts: totalCount %d, summary %+v, all %+v; want %d waiting of %d", a.Resolutions.TotalCount,
						a.ResolutionSummary, a.All, len(want), visible)
				}
				for _, bs := range a.ResolutionSummary.ByStatus {
					n := len(rdFilterCases(want, func(c dispute.Case) bool { return rdEnum(c.Status) == bs.Status }))
					if bs.Count != n {
						t.Errorf("byStatus %s = %d, want %d", bs.Status, bs.Count, n)
					}
				}
				// An explicit order wins; false is no condition; a date condition counts
				// the cases instead of reading the counts, with the same answer.
				s.MustData(t, v.token, q, map[string]any{"filter": waiting, "orderBy": rdOrder("CREATED_AT", "DESC")}, &a)
				rdWantIDs(t, "waiting, newest first", rdWaitingIDs(a.Resolutions.Nodes), rdExpectedOrder(want, "CREATED_AT", true))
				s.MustData(t, v.token, q, map[string]any{"filter": map[string]any{"waitingOnMe": false}}, &a)
				if a.Resolutions.TotalCount != visible || a.ResolutionSummary.WaitingOnMe != len(want) {
					t.Errorf("waitingOnMe false: totalCount %d waitingOnMe %d, want %d and %d", a.Resolutions.TotalCount,
						a.ResolutionSummary.WaitingOnMe, visible, len(want))
				}
				dated := map[string]any{"waitingOnMe": true, "createdAfter": rdFmtTime(rdPageBase.Add(-time.Hour))}
				s.MustData(t, v.token, q, map[string]any{"filter": dated}, &a)
				if a.Resolutions.TotalCount != len(want) || a.ResolutionSummary.WaitingOnMe != len(want) {
					t.Errorf("dated: totalCount %d waitingOnMe %d, want %d", a.Resolutions.TotalCount, a.ResolutionSummary.WaitingOnMe, len(want))
				}
			})
		}
	})
}

func rdWaitingIDs(nodes []rdWaitingCase) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

const rdOrderedEventsQuery = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $orderBy: ResolutionEventOrder) {
  resolution(id: $id) { events(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    totalCount edges { cursor node { id position } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`

type rdOrderedEvents struct {
	TotalCount int `json:"totalCount"`
	Edges      []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			ID       string `json:"id"`
			Position int    `json:"position"`
		} `json:"node"`
	} `json:"edges"`
	PageInfo rdPageInfo `json:"pageInfo"`
}

func rdFetchOrderedEvents(tb testing.TB, s *apptest.Server, token string, vars map[string]any) rdOrderedEvents {
	tb.Helper()
	var out struct {
		Resolution struct {
			Events rdOrderedEvents `json:"events"`
		} `json:"resolution"`
	}
	s.MustData(tb, token, rdOrderedEventsQuery, vars, &out)
	return out.Resolution.Events
}

// TestReadEventsOrderAndTotalCount: events walk oldest first with orderBy POSITION ASC
// (forward and backward), newest first by default, and totalCount counts the events
// each viewer may see, alone and across a list of cases.
func TestReadEventsOrderAndTotalCount(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		cast := dbtest.MustCast(t, d)
		c, evs := rdMustLongCase(t, d, cast.Customer, cast.Company, 20)
		// Two exchanges hidden from one side each: 2 events the customer cannot see, 2 the merchant cannot.
		at := rdPageBase
		for _, st := range []struct {
			actor  dispute.Actor
			action dispute.Action
		}{{rdPlat, dispute.ActionRequestMerchantInfo}, {rdMerc, dispute.ActionRespond},
			{rdPlat, dispute.ActionRequestBuyerInfo}, {rdCust, dispute.ActionRespond}} {
			at = at.Add(time.Minute)
			evs = append(evs, dbtest.MustApply(t, d, c.ID, st.actor, st.action, "hidden exchange", at).Event.ID)
		}
		n := len(evs)
		s := apptest.New(t, d)
		asc := map[string]any{"direction": "ASC"}

		// Oldest first, forward then backward, in pages of 7.
		var fwd []string
		var after any
		for i := 0; ; i++ {
			p := rdFetchOrderedEvents(t, s, cast.PlatformToken, map[string]any{"id": c.ID, "first": 7, "after": after, "orderBy": asc})
			for _, e := range p.Edges {
				fwd = append(fwd, e.Node.ID)
			}
			if p.TotalCount != n || p.PageInfo.HasPreviousPage != (i > 0) {
				t.Fatalf("ascending page %d: totalCount %d, %+v", i, p.TotalCount, p.PageInfo)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		rdWantIDs(t, "ascending forward walk", fwd, evs)
		var back []string
		var before any
		for {
			p := rdFetchOrderedEvents(t, s, cast.PlatformToken, map[string]any{"id": c.ID, "last": 5, "before": before, "orderBy": asc})
			var ids []string
			for _, e := range p.Edges {
				ids = append(ids, e.Node.ID)
			}
			back = append(ids, back...)
			if !p.PageInfo.HasPreviousPage {
				break
			}
			before = *p.PageInfo.StartCursor
		}
		rdWantIDs(t, "ascending backward walk", back, evs)
		def := rdFetchOrderedEvents(t, s, cast.PlatformToken, map[string]any{"id": c.ID, "first": 3})
		if def.Edges[0].Node.Position != n || def.Edges[2].Node.Position != n-2 {
			t.Errorf("default order is not newest first: %+v", def.Edges)
		}
		desc := rdFetchOrderedEvents(t, s, cast.PlatformToken, map[string]any{"id": c.ID, "first": 3, "orderBy": map[string]any{}})
		if desc.Edges[0].Node.Position != n {
			t.Errorf("orderBy {} is not newest first: %+v", desc.Edges)
		}

		// totalCount per viewer: what each may see.
		for _, v := range []struct {
			name  string
			token string
			want  int
		}{{"platform", cast.PlatformToken, n}, {"customer", cast.CustomerToken, n - 2}, {"company key", cast.CompanyToken, n - 2},
			{"team member", cast.TeamMemberToken, n - 2}} {
			p := rdFetchOrderedEvents(t, s, v.token, map[string]any{"id": c.ID, "first": 100, "orderBy": asc})
			if p.TotalCount != v.want || len(p.Edges) != v.want {
				t.Errorf("%s: totalCount %d and %d events, want %d", v.name, p.TotalCount, len(p.Edges), v.want)
			}
		}

		// Across a list: every case's count, in a constant number of statements.
		var more []dispute.Case
		for i := range 8 {
			res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, cast.Customer, cast.Company, ""), dispute.IssueForgotToCancel,
				rdPageBase.Add(time.Duration(i)*time.Hour))
			for k := range i % 3 {
				res = dbtest.MustApply(t, d, res.Case.ID, rdPlat, dispute.ActionRequestMerchantInfo, "hidden", rdPageBase.Add(time.Duration(k)*time.Second))
			}
			more = append(more, res.Case)
		}
		log := &rdStatementLog{}
		remove := d.AddQueryHook(log)
		defer remove()
		const list = `query($n: Int!) { resolutions(first: $n, orderBy: {field: CREATED_AT, direction: ASC}) { totalCount nodes { id
		  events(first: 2, orderBy: {direction: ASC}) { totalCount nodes { position } } } } }`
		statements := map[int]int{}
		for _, size := range []int{3, 9} {
			var out struct {
				Resolutions struct {
					TotalCount int `json:"totalCount"`
					Nodes      []struct {
						ID     string `json:"id"`
						Events struct {
							TotalCount int                      `json:"totalCount"`
							Nodes      []struct{ Position int } `json:"nodes"`
						} `json:"events"`
					} `json:"nodes"`
				} `json:"resolutions"`
			}
			log.start()
			s.MustData(t, cast.CustomerToken, list, map[string]any{"n": size}, &out)
			_, rest := log.stop()
			statements[size] = len(rest)
			if out.Resolutions.TotalCount != 1+len(more) || len(out.Resolutions.Nodes) != size {
				t.Fatalf("list of %d: totalCount %d, %d nodes", size, out.Resolutions.TotalCount, len(out.Resolutions.Nodes))
			}
			for _, node := range out.Resolutions.Nodes {
				want := n - 2
				if i := slices.IndexFunc(more, func(c dispute.Case) bool { return c.ID == node.ID }); i >= 0 {
					want = 1 // the customer sees the opening, not the platform's requests for the merchant
				}
				if node.Events.TotalCount != want || node.Events.Nodes[0].Position != 1 {
					t.Errorf("case %s in a list: events totalCount %d (want %d), first position %d", node.ID,
						node.Events.TotalCount, want, node.Events.Nodes[0].Position)
				}
			}
		}
		// The page, its totalCount, the events (primed for every case) and their counts.
		if statements[3] != statements[9] || statements[9] > 4 {
			t.Errorf("statements for pages of 3 and 9 cases: %v, want at most 4 each", statements)
		}
		t.Logf("%s: a page with totalCount and each case's events totalCount: %v statements", d.Engine, statements)
	})
}
