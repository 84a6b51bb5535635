package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// rdStatementLog is a bun query hook that records every statement while enabled.
type rdStatementLog struct {
	mu    sync.Mutex
	on    bool
	stmts []string
}

func (l *rdStatementLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (l *rdStatementLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.stmts = append(l.stmts, e.Query)
	}
}

func (l *rdStatementLog) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on, l.stmts = true, nil
}

// stop returns the statements since start, split into the token lookups of the
// authentication middleware and the rest.
func (l *rdStatementLog) stop() (auth, rest []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	for _, s := range l.stmts {
		if strings.Contains(s, "api_tokens") || strings.Contains(s, "team_members") {
			auth = append(auth, s)
		} else {
			rest = append(rest, s)
		}
	}
	return auth, rest
}

// rdDeepQuery selects every relation of a case and both event lists.
const rdDeepQuery = `query($n: Int!) {
  resolutions(first: $n) {
    edges { node {
      id status viewerActions
      company { id title }
      user { id email }
      payment { id total { amount } user { id email } company { id route } }
      member { id status user { id email } company { id } }
      resolutionEvents { id action }
      events(first: 10) { edges { node { id action position } } pageInfo { hasNextPage } }
    } }
  }
}`

// rdCountedQuery is rdDeepQuery with the counts an inbox shows: the connections'
// totalCount (a count of cases, and each case's visible events) and the summary.
const rdCountedQuery = `query($n: Int!) {
  resolutions(first: $n) {
    totalCount
    edges { node {
      id status viewerActions
      company { id title }
      user { id email }
      payment { id total { amount } user { id email } company { id route } }
      member { id status user { id email } company { id } }
      resolutionEvents { id action }
      events(first: 10) { totalCount edges { node { id action position } } pageInfo { hasNextPage } }
    } }
  }
  resolutionSummary { total waitingOnMe }
}`

type rdDeepCase struct {
	ID      string              `json:"id"`
	Company struct{ ID string } `json:"company"`
	User    struct {
		ID    string  `json:"id"`
		Email *string `json:"email"`
	} `json:"user"`
	Payment struct {
		ID   string `json:"id"`
		User struct {
			ID    string  `json:"id"`
			Email *string `json:"email"`
		} `json:"user"`
		Company struct{ ID string } `json:"company"`
	} `json:"payment"`
	Member *struct {
		ID   string `json:"id"`
		User struct {
			ID    string  `json:"id"`
			Email *string `json:"email"`
		} `json:"user"`
		Company struct{ ID string } `json:"company"`
	} `json:"member"`
	ResolutionEvents []struct{ ID string } `json:"resolutionEvents"`
	Events           struct {
		TotalCount *int `json:"totalCount"`
		Edges      []struct {
			Node struct{ ID string } `json:"node"`
		} `json:"edges"`
	} `json:"events"`
}

// TestReadStatementCount checks that a page of cases with all their relations costs a
// fixed number of statements, whatever the page size: no N+1 anywhere.
func TestReadStatementCount(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		compA, compB := dbtest.MustCompany(t, d), dbtest.MustCompany(t, d)
		var users []db.User
		for range 10 {
			users = append(users, dbtest.MustUser(t, d))
		}
		team := dbtest.MustUser(t, d)
		dbtest.MustTeamMember(t, d, compA, team)
		at := rdPageBase
		open := func(i int, c db.Company) {
			u := users[i%len(users)]
			m := dbtest.MustMembership(t, d, u, c)
			res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, m.ID), dispute.Issues[i%len(dispute.Issues)], at.Add(time.Duration(i)*time.Minute))
			res = dbtest.MustApply(t, d, res.Case.ID, dispute.ActorMerchant, dispute.ActionRespond, "merchant says", at.Add(time.Duration(i)*time.Minute+time.Second))
			dbtest.MustApply(t, d, res.Case.ID, dispute.ActorCustomer, dispute.ActionRespond, "customer says", at.Add(time.Duration(i)*time.Minute+2*time.Second))
		}
		for i := range 50 {
			open(i, compA)
		}
		for i := range 5 { // other company's cases: the merchant must not see them
			open(100+i, compB)
		}

		log := &rdStatementLog{}
		d.AddQueryHook(log)
		s := apptest.New(t, d)
		roles := []struct {
			name  string
			token string
		}{
			{"platform (operator token)", apptest.PlatformToken},
			{"merchant (company key)", dbtest.MustToken(t, d, db.TokenCompany, compA.ID, false)},
			{"merchant (team member)", dbtest.MustToken(t, d, db.TokenUser, team.ID, false)},
		}
		// Each size is measured several times: the count must not depend on timing.
		const rounds = 3
		for _, role := range roles {
			for _, q := range []struct{ name, query string }{{"", rdDeepQuery}, {" with counts", rdCountedQuery}} {
				t.Run(role.name+q.name, func(t *testing.T) {
					counts := map[int][]int{}
					for round := range rounds {
						for _, n := range []int{5, 50} {
							var out struct {
								Resolutions struct {
									TotalCount *int                        `json:"totalCount"`
									Edges      []struct{ Node rdDeepCase } `json:"edges"`
								} `json:"resolutions"`
								ResolutionSummary *struct{ Total, WaitingOnMe int } `json:"resolutionSummary"`
							}
							planned := counter(s.Metrics.QueriesPlanned)
							log.start()
							s.MustData(t, role.token, q.query, map[string]any{"n": n}, &out)
							auth, rest := log.stop()
							if counter(s.Metrics.QueriesPlanned) != planned+1 {
								t.Errorf("first %d was not planned", n)
							}
							edges := out.Resolutions.Edges
							if len(edges) != n {
								t.Fatalf("first %d returned %d cases", n, len(edges))
							}
							for _, e := range edges {
								c := e.Node
								if c.Company.ID != compA.ID && !strings.HasPrefix(role.name, "platform") {
									t.Fatalf("merchant sees a case of company %s", c.Company.ID)
								}
								if c.Member == nil || c.Member.User.ID != c.User.ID || c.Payment.User.ID != c.User.ID ||
									c.User.Email == nil || c.Payment.User.Email == nil || c.Member.User.Email == nil ||
									len(c.ResolutionEvents) != 3 || len(c.Events.Edges) != 3 {
									t.Fatalf("incomplete case %+v", c)
								}
								if q.query == rdCountedQuery && (c.Events.TotalCount == nil || *c.Events.TotalCount != 3) {
									t.Fatalf("events' totalCount %v, want 3", c.Events.TotalCount)
								}
							}
							if q.query == rdCountedQuery {
								want := 50 // compA's cases
								if strings.HasPrefix(role.name, "platform") {
									want = 55
								}
								if out.Resolutions.TotalCount == nil || *out.Resolutions.TotalCount != want ||
									out.ResolutionSummary == nil || out.ResolutionSummary.Total != want {
									t.Fatalf("totalCount %v, summary %+v; want %d", out.Resolutions.TotalCount, out.ResolutionSummary, want)
								}
							}
							counts[n] = append(counts[n], len(rest))
							if round == 0 || len(rest) != counts[n][0] {
								t.Logf("%s, first %d (round %d): %d statements (+%d for the token)", d.Engine, n, round+1, len(rest), len(auth))
							}
							if round > 0 && len(rest) != counts[n][0] {
								t.Logf("the statements:\n%s", rdShort(rest))
							}
							limit := 10
							if q.query == rdCountedQuery {
								limit += 3 // the events' counts, the cases' count and the summary
							}
							if len(rest) > limit {
								t.Errorf("first %d took %d statements, want at most %d:\n%s", n, len(rest), limit, rdShort(rest))
							}
							if len(auth) > 2 {
								t.Errorf("authentication took %d statements, want at most 2", len(auth))
							}
						}
					}
					all := append(slices.Clone(counts[5]), counts[50]...)
					if slices.Min(all) != slices.Max(all) {
						t.Errorf("the statement count varies: first 5 took %v, first 50 took %v (over %d rounds)", counts[5], counts[50], rounds)
					}
				})
			}
		}
		// The same holds for nodes(ids:) over many cases.
		t.Run("nodes", func(t *testing.T) {
			var page struct {
				Resolutions struct {
					Nodes []struct{ ID string } `json:"nodes"`
				} `json:"resolutions"`
			}
			s.MustData(t, apptest.PlatformToken, `{ resolutions(first: 40) { nodes { id } } }`, nil, &page)
			counts := map[int]int{}
			stmts := map[int][]string{}
			for _, n := range []int{4, 40} {
				var list []string
				for _, c := range page.Resolutions.Nodes[:n] {
					list = append(list, c.ID)
				}
				log.start()
				s.MustData(t, apptest.PlatformToken, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Resolution {
					company { id } user { email } payment { user { email } } member { user { id } }
					resolutionEvents { id } events(first: 2) { edges { node { id } } } } } }`, map[string]any{"ids": list}, nil)
				_, rest := log.stop()
				counts[n], stmts[n] = len(rest), rest
				t.Logf("%s, nodes(%d case IDs): %d statements", d.Engine, n, len(rest))
			}
			if counts[4] != counts[40] {
				t.Errorf("nodes statements grow with the list: %d for 4, %d for 40:\n%s\n---\n%s", counts[4], counts[40],
					rdShort(stmts[4]), rdShort(stmts[40]))
			}
		})
		// One ID given many times is looked up once: a merchant's check that a user is
		// its customer is not repeated per copy.
		t.Run("nodes with one ID repeated", func(t *testing.T) {
			tok := dbtest.MustToken(t, d, db.TokenCompany, compA.ID, false)
			counts := map[int]int{}
			for _, n := range []int{1, 100} {
				list := slices.Repeat([]string{users[0].ID}, n)
				var out struct {
					Nodes []*struct{ ID string } `json:"nodes"`
				}
				log.start()
				s.MustData(t, tok, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": list}, &out)
				_, rest := log.stop()
				counts[n] = len(rest)
				if len(out.Nodes) != n || out.Nodes[n-1] == nil || out.Nodes[n-1].ID != users[0].ID {
					t.Fatalf("nodes(%d copies): %+v", n, out.Nodes)
				}
			}
			if counts[1] != counts[100] {
				t.Errorf("%d statements for one copy of the ID, %d for 100", counts[1], counts[100])
			}
		})
	})
}

// rdShort lists statements cut to a readable length.
func rdShort(stmts []string) string {
	var b strings.Builder
	for i, q := range stmts {
		if len(q) > 140 {
			q = q[:140] + "..."
		}
		fmt.Fprintf(&b, "  %2d: %s\n", i+1, q)
	}
	return b.String()
}
