package app_test

// The end-to-end tests' world: fixtures created through the API, the timelines read
// back through it, and the scripted actions the processes receive.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
)

// gql posts a request and fails the test on a transport error, any GraphQL error or a
// refusal (a userError); it decodes data into out.
func gql(t *testing.T, url, token, query string, vars map[string]any, out any) {
	t.Helper()
	var data json.RawMessage
	apptest.MustQuery(t, url, token, query, vars, &data)
	if strings.Contains(string(data), `"userErrors":[{`) {
		t.Fatalf("refused: %s\nquery %s", data, query)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
}

// world is the fixtures, created through the API: two merchants, two customers, a
// team member of the first merchant, and cases:
//
//	A, B, C: customer c1 against merchant b1 (subscribed to in detail)
//	E:       customer c1 against merchant b2
//	F:       customer c2 against merchant b1
type world struct {
	tok   map[string]string    // by principal: c1, c2, b1, b2, team, plat
	ids   map[string]string    // the companies' and users' IDs, by principal
	cases map[string]string    // by key
	party map[string][2]string // by case key: its customer and merchant
}

var caseKeys = []string{"A", "B", "C", "E", "F"}

func newWorld(t *testing.T, url string) *world {
	t.Helper()
	w := &world{tok: map[string]string{"plat": apptest.PlatformToken}, cases: map[string]string{},
		party: map[string][2]string{"A": {"c1", "b1"}, "B": {"c1", "b1"}, "C": {"c1", "b1"}, "E": {"c1", "b2"}, "F": {"c2", "b1"}}}
	sfx := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	ids := map[string]string{}
	for _, b := range []string{"b1", "b2"} {
		var out struct {
			CreateCompany struct{ Company struct{ ID string } }
		}
		gql(t, url, apptest.PlatformToken, `mutation($t: String!, $r: String!) { createCompany(input: {title: $t, route: $r}) {
			company { id } userErrors { code message } } }`, map[string]any{"t": "Merchant " + b, "r": b + "-" + sfx}, &out)
		ids[b] = out.CreateCompany.Company.ID
	}
	for _, u := range []string{"c1", "c2", "team"} {
		var out struct {
			CreateUser struct{ User struct{ ID string } }
		}
		gql(t, url, apptest.PlatformToken, `mutation($n: String!, $u: String!, $e: String!) { createUser(input: {name: $n, username: $u, email: $e}) {
			user { id } userErrors { code message } } }`, map[string]any{"n": "User " + u, "u": u + "_" + sfx, "e": u + "." + sfx + "@example.com"}, &out)
		ids[u] = out.CreateUser.User.ID
	}
	gql(t, url, apptest.PlatformToken, `mutation($c: ID!, $u: ID!) { addTeamMember(input: {companyId: $c, userId: $u}) { userErrors { code message } } }`,
		map[string]any{"c": ids["b1"], "u": ids["team"]}, nil)
	for _, p := range []struct{ name, field string }{{"c1", "userId"}, {"c2", "userId"}, {"team", "userId"}, {"b1", "companyId"}, {"b2", "companyId"}} {
		var out struct{ CreateToken struct{ Token string } }
		gql(t, url, apptest.PlatformToken, `mutation($id: ID!) { createToken(input: {holder: {`+p.field+`: $id}, scopes: [READ, MANAGE], label: "e2e"}) {
			token userErrors { code message } } }`, map[string]any{"id": ids[p.name]}, &out)
		w.tok[p.name] = out.CreateToken.Token
	}
	for _, k := range caseKeys {
		cust, biz := w.party[k][0], w.party[k][1]
		var pay struct {
			CreatePayment struct{ Payment struct{ ID string } }
		}
		gql(t, url, apptest.PlatformToken, `mutation($u: ID!, $c: ID!) { createPayment(input: {userId: $u, companyId: $c, currency: "USD", totalMinor: 4999}) {
			payment { id } userErrors { code message } } }`, map[string]any{"u": ids[cust], "c": ids[biz]}, &pay)
		var open struct {
			OpenResolution struct{ Resolution struct{ ID string } }
		}
		gql(t, url, w.tok[cust], `mutation($p: ID!) { openResolution(input: {paymentId: $p, issue: ITEM_NOT_RECEIVED, message: "Never arrived."}) {
			resolution { id } userErrors { code message } } }`, map[string]any{"p": pay.CreatePayment.Payment.ID}, &open)
		w.cases[k] = open.OpenResolution.Resolution.ID
	}
	w.ids = ids
	return w
}

// sees tells whether principal may see case k at all.
func (w *world) sees(principal, k string) bool {
	cust, biz := w.party[k][0], w.party[k][1]
	switch principal {
	case "plat":
		return true
	case "team":
		return biz == "b1"
	}
	return principal == cust || principal == biz
}

const (
	resumableEventSub = `subscription($id: ID!, $after: String) { resolutionEventAdded(resolutionId: $id, after: $after) {
		cursor node { position action createdAt } } }`
	updateSub  = `subscription($f: ResolutionUpdatesFilter) { resolutionUpdated(filter: $f) { id version status } }`
	eventsPage = `query($id: ID!, $after: String) { resolution(id: $id) { version
		events(first: 100, after: $after) { edges { cursor node { position } } pageInfo { hasNextPage endCursor } } } }`
)

// readTimeline returns a case as principal sees it through the API: its version and
// its visible events' positions and cursors, oldest first.
func readTimeline(t *testing.T, url, token, caseID string) (version int, positions []int, cursors map[int]string) {
	t.Helper()
	cursors = map[int]string{}
	var after any
	for {
		var out struct {
			Resolution struct {
				Version int
				Events  struct {
					Edges []struct {
						Cursor string
						Node   struct{ Position int }
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
		}
		gql(t, url, token, eventsPage, map[string]any{"id": caseID, "after": after}, &out)
		version = out.Resolution.Version
		for _, e := range out.Resolution.Events.Edges {
			positions = append(positions, e.Node.Position)
			cursors[e.Node.Position] = e.Cursor
		}
		if !out.Resolution.Events.PageInfo.HasNextPage {
			break
		}
		after = out.Resolution.Events.PageInfo.EndCursor
	}
	sort.Ints(positions)
	return version, positions, cursors
}

// scriptStep is the i-th action of a script valid forever from a freshly opened case,
// mixing events hidden from one side (platform info requests and their replies).
func scriptStep(i int) (role, op string) {
	prelude := [][2]string{{"customer", "respondToResolution"}, {"merchant", "respondToResolution"},
		{"customer", "respondToResolution"}, {"platform", "requestMerchantInfo"}, {"merchant", "respondToResolution"}}
	cycle := [][2]string{{"platform", "requestBuyerInfo"}, {"customer", "respondToResolution"},
		{"merchant", "respondToResolution"}, {"platform", "requestMerchantInfo"}, {"merchant", "respondToResolution"},
		{"customer", "respondToResolution"}}
	s := cycle[0]
	if i < len(prelude) {
		s = prelude[i]
	} else {
		s = cycle[(i-len(prelude))%len(cycle)]
	}
	return s[0], s[1]
}

// action is one mutation on a case and whether it must succeed.
type action struct {
	caseKey, token, op, extra string
	refused                   bool
}

// makePlan is the action stream: per case, a sequence that must run in order.
func makePlan(w *world, steps map[string]int) map[string][]action {
	plan := map[string][]action{}
	for _, k := range caseKeys {
		cust, biz := w.party[k][0], w.party[k][1]
		for i := range steps[k] {
			role, op := scriptStep(i)
			tok := w.tok["plat"]
			switch role {
			case "customer":
				tok = w.tok[cust]
			case "merchant":
				tok = w.tok[biz]
				if biz == "b1" && i%4 == 1 {
					tok = w.tok["team"] // a team member acts as the merchant too
				}
			}
			plan[k] = append(plan[k], action{caseKey: k, token: tok, op: op})
			if k == "A" && i == 3 {
				plan[k] = append(plan[k],
					action{caseKey: k, token: w.tok[cust], op: "acceptResolution", refused: true},
					action{caseKey: k, token: w.tok["c2"], op: "respondToResolution", refused: true})
			}
			if k == "B" && i == 2 {
				plan[k] = append(plan[k], action{caseKey: k, token: w.tok[biz], op: "appealResolution", refused: true})
			}
		}
	}
	if steps["B"] > 0 {
		plan["B"] = append(plan["B"], action{caseKey: "B", token: w.tok["plat"], op: "decideMerchantWins"})
	}
	if steps["C"] > 0 {
		plan["C"] = append(plan["C"], action{caseKey: "C", token: w.tok["b1"], op: "acceptResolution"})
	}
	return plan
}

func (a action) run(ctx context.Context, url, caseID string, n int) error {
	msg := fmt.Sprintf(`, message: "action %d"`, n)
	if a.op == "acceptResolution" || a.op == "decideMerchantWins" {
		msg = ""
	}
	doc := `mutation($id: ID!) { ` + a.op + `(input: {resolutionId: $id` + msg + `}) { event { position } userErrors { code message } } }`
	r, err := apptest.Post(ctx, url, a.token, doc, map[string]any{"id": caseID})
	if err != nil {
		return err
	}
	refused := len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"userErrors":[]`)
	if refused != a.refused {
		return fmt.Errorf("%s on %s: refused=%v, want %v: %s %+v", a.op, a.caseKey, refused, a.refused, r.Data, r.Errors)
	}
	return nil
}

// runPlan runs every case's actions in order, the cases concurrently, each action
// through the next process in turn.
func runPlan(t *testing.T, procs []*apptest.Process, w *world, plan map[string][]action, pace time.Duration) {
	t.Helper()
	var turn atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, len(plan))
	for k, actions := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, a := range actions {
				p := procs[int(turn.Add(1))%len(procs)]
				if err := a.run(context.Background(), p.URL, w.cases[k], i); err != nil {
					errc <- fmt.Errorf("via %s: %w", p.Name, err)
					return
				}
				if pace > 0 {
					time.Sleep(pace)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}
