package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
	"resolutioncenter/ids"
)

// ---- helpers shared by the read_*_test.go files ----

// rdGqlTime is the wire layout of the DateTime scalar.
const rdGqlTime = "2006-01-02T15:04:05.000Z"

func rdFmtTime(t time.Time) string { return t.UTC().Format(rdGqlTime) }

// enum turns a wire name (merchant_won) into its GraphQL enum value (MERCHANT_WON).
func rdEnum[T ~string](v T) string { return strings.ToUpper(string(v)) }

// rdWantCode fails unless r carries at least one error and every error has code.
func rdWantCode(tb testing.TB, r apptest.Response, code string) {
	tb.Helper()
	if len(r.Errors) == 0 {
		tb.Fatalf("want error %s, got none; data %s", code, r.Data)
	}
	for _, e := range r.Errors {
		if e.Code() != code {
			tb.Fatalf("want every error to have code %s, got %+v", code, r.Errors)
		}
	}
}

// rdWantNoData fails unless the response's data is absent or null: the failing root
// field is non-null, so nothing else may leak through.
func rdWantNoData(tb testing.TB, r apptest.Response) {
	tb.Helper()
	if s := strings.TrimSpace(string(r.Data)); s != "" && s != "null" {
		tb.Fatalf("want no data, got %s", s)
	}
}

// rdMustHealthy fails unless the server still answers an ordinary authenticated query.
func rdMustHealthy(tb testing.TB, s *apptest.Server) {
	tb.Helper()
	var out struct {
		Viewer struct{ Role string } `json:"viewer"`
	}
	s.MustData(tb, apptest.PlatformToken, `{ viewer { role } }`, nil, &out)
	if out.Viewer.Role != "PLATFORM" {
		tb.Fatalf("health check: viewer.role = %q", out.Viewer.Role)
	}
}

// rdCursorOf base64url-encodes a raw cursor text, as the server does.
func rdCursorOf(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }

// ---- the pagination fixture ----

// step is one lifecycle action in a fixture scenario.
type rdStep struct {
	actor  dispute.Actor
	action dispute.Action
}

// scenario brings a freshly opened case to a status. dueStep says which moment set the
// deadline that remains: -1 none, 0 the opening, n the n-th step.
type rdScenario struct {
	steps   []rdStep
	status  dispute.Status
	dueStep int
}

var (
	rdCust = dispute.ActorCustomer
	rdMerc = dispute.ActorMerchant
	rdPlat = dispute.ActorPlatform
)

var rdScenarios = []rdScenario{
	{nil, dispute.StatusMerchantResponseNeeded, 0},
	{[]rdStep{{rdMerc, dispute.ActionRespond}}, dispute.StatusCustomerResponseNeeded, 1},
	{[]rdStep{{rdMerc, dispute.ActionRequestMoreInfo}}, dispute.StatusCustomerResponseNeeded, 1},
	{[]rdStep{{rdPlat, dispute.ActionRequestMerchantInfo}}, dispute.StatusMerchantInfoNeeded, 1},
	{[]rdStep{{rdPlat, dispute.ActionRequestBuyerInfo}}, dispute.StatusCustomerInfoNeeded, 1},
	{[]rdStep{{rdPlat, dispute.ActionRequestMerchantInfo}, {rdMerc, dispute.ActionRespond}}, dispute.StatusUnderPlatformReview, -1},
	{[]rdStep{{rdMerc, dispute.ActionAccept}}, dispute.StatusCustomerWon, -1},
	{[]rdStep{{rdMerc, dispute.ActionDeny}}, dispute.StatusMerchantWon, -1},
	{[]rdStep{{rdCust, dispute.ActionWithdraw}}, dispute.StatusCustomerWithdrew, -1},
	{[]rdStep{{rdMerc, dispute.ActionDeny}, {rdCust, dispute.ActionAppeal}}, dispute.StatusUnderPlatformReview, -1},
	{[]rdStep{{rdPlat, dispute.ActionMerchantRefund}}, dispute.StatusCustomerWon, -1},
	{[]rdStep{{rdPlat, dispute.ActionMerchantWins}}, dispute.StatusMerchantWon, -1},
	// A customer's extra message in merchant_response_needed keeps the deadline.
	{[]rdStep{{rdMerc, dispute.ActionRespond}, {rdCust, dispute.ActionRespond}, {rdCust, dispute.ActionRespond}}, dispute.StatusMerchantResponseNeeded, 2},
}

// rdPageBase is the time the fixture's cases are opened around: whole seconds, so that
// some stored times have no fractional part and others do.
var rdPageBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type rdCaseFixture struct {
	s        *apptest.Server
	d        *db.DB
	comps    []db.Company
	users    []db.User
	cases    []dispute.Case // final states, in creation (ID) order
	byID     map[string]dispute.Case
	eventIDs map[string][]string // case ID -> event IDs by position
}

// rdBuildCaseFixture opens 30 cases across 2 companies and 3 customers. Their createdAt
// order differs from their ID order (i*7 mod 28 permutes the slots); the last two share
// one createdAt (and so one deadline), which only the ID can order.
func rdBuildCaseFixture(t *testing.T, d *db.DB) *rdCaseFixture {
	t.Helper()
	f := &rdCaseFixture{d: d, byID: map[string]dispute.Case{}, eventIDs: map[string][]string{}}
	for range 2 {
		f.comps = append(f.comps, dbtest.MustCompany(t, d))
	}
	for range 3 {
		f.users = append(f.users, dbtest.MustUser(t, d))
	}
	const n = 30
	for i := range n {
		slot, sc := (i*7)%28, rdScenarios[i%len(rdScenarios)]
		created := rdPageBase.Add(time.Duration(slot)*97*time.Minute + time.Duration(slot%4)*123*time.Millisecond)
		if i >= 28 {
			// Between slots 12 and 13: sorted ascending they are the 14th and 15th
			// cases, so pages of 7 split the tie.
			sc = rdScenarios[0]
			created = rdPageBase.Add(12*97*time.Minute + 50*time.Minute)
		}
		u, c := f.users[i%3], f.comps[i%2]
		pay := dbtest.MustPayment(t, d, u, c, "")
		res := dbtest.MustOpen(t, d, pay, dispute.Issues[i%len(dispute.Issues)], created)
		evs := []string{res.Event.ID}
		var due *time.Time
		if sc.dueStep == 0 {
			x := created.Add(dispute.DefaultResponseWindow)
			due = &x
		}
		for k, st := range sc.steps {
			at := created.Add(time.Duration(k+1)*time.Hour + time.Duration(k+1)*11*time.Millisecond)
			res = dbtest.MustApply(t, d, res.Case.ID, st.actor, st.action, "step message", at)
			evs = append(evs, res.Event.ID)
			if sc.dueStep == k+1 {
				x := at.Add(dispute.DefaultResponseWindow)
				due = &x
			}
		}
		got := res.Case
		if got.Status != sc.status || !rdSameTime(got.DueDate, due) {
			t.Fatalf("fixture case %d: status %s due %v, want %s due %v", i, got.Status, got.DueDate, sc.status, due)
		}
		f.cases = append(f.cases, got)
		f.byID[got.ID] = got
		f.eventIDs[got.ID] = evs
	}
	return f
}

func rdSameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// rdExpectedOrder sorts cases as the API must: by the field, the ID breaking ties in the
// same direction; a case without deadline after every deadline ascending (so before
// them descending).
func rdExpectedOrder(cases []dispute.Case, field string, desc bool) []string {
	list := slices.Clone(cases)
	key := func(c dispute.Case) *time.Time {
		if field == "DUE_DATE" {
			return c.DueDate
		}
		t := c.CreatedAt
		return &t
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := key(list[i]), key(list[j])
		switch {
		case a == nil && b == nil:
		case a == nil:
			return false
		case b == nil:
			return true
		case !a.Equal(*b):
			return a.Before(*b)
		}
		return list[i].ID < list[j].ID
	})
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.ID
	}
	if desc {
		slices.Reverse(out)
	}
	return out
}

func rdFilterCases(cases []dispute.Case, match func(dispute.Case) bool) []dispute.Case {
	var out []dispute.Case
	for _, c := range cases {
		if match(c) {
			out = append(out, c)
		}
	}
	return out
}

// ---- connection pages ----

type rdPageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

type rdIdNode struct {
	ID string `json:"id"`
}

type rdCasePage struct {
	Edges []struct {
		Cursor string   `json:"cursor"`
		Node   rdIdNode `json:"node"`
	} `json:"edges"`
	Nodes    []rdIdNode `json:"nodes"`
	PageInfo rdPageInfo `json:"pageInfo"`
}

const rdResolutionsQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: ResolutionFilter, $orderBy: ResolutionOrder) {
  resolutions(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

// rdPageArgs are the arguments of one resolutions page; nil fields are omitted.
type rdPageArgs struct {
	first, last   *int
	after, before *string
	filter        map[string]any
	orderBy       map[string]any
}

func (a rdPageArgs) vars() map[string]any {
	v := map[string]any{}
	if a.first != nil {
		v["first"] = *a.first
	}
	if a.last != nil {
		v["last"] = *a.last
	}
	if a.after != nil {
		v["after"] = *a.after
	}
	if a.before != nil {
		v["before"] = *a.before
	}
	if a.filter != nil {
		v["filter"] = a.filter
	}
	if a.orderBy != nil {
		v["orderBy"] = a.orderBy
	}
	return v
}

func rdIntp(n int) *int       { return &n }
func rdStrp(s string) *string { return &s }
func rdOrder(field, dir string) map[string]any {
	return map[string]any{"field": field, "direction": dir}
}

// rdFetchCases fetches one page and checks its internal consistency.
func rdFetchCases(tb testing.TB, s *apptest.Server, token string, a rdPageArgs) rdCasePage {
	tb.Helper()
	var out struct {
		Resolutions rdCasePage `json:"resolutions"`
	}
	s.MustData(tb, token, rdResolutionsQuery, a.vars(), &out)
	p := out.Resolutions
	if len(p.Edges) != len(p.Nodes) {
		tb.Fatalf("edges %d != nodes %d", len(p.Edges), len(p.Nodes))
	}
	for i := range p.Edges {
		if p.Edges[i].Node.ID != p.Nodes[i].ID {
			tb.Fatalf("edge %d is %s but node %d is %s", i, p.Edges[i].Node.ID, i, p.Nodes[i].ID)
		}
		if p.Edges[i].Cursor == "" {
			tb.Fatalf("edge %d has an empty cursor", i)
		}
	}
	if n := len(p.Edges); n > 0 {
		if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
			p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[n-1].Cursor {
			tb.Fatalf("pageInfo cursors %v/%v do not match the edges", p.PageInfo.StartCursor, p.PageInfo.EndCursor)
		}
	} else if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil {
		tb.Fatalf("empty page with cursors %v/%v", p.PageInfo.StartCursor, p.PageInfo.EndCursor)
	}
	return p
}

func (p rdCasePage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// rdWalkForward follows endCursor with first: size until hasNextPage is false.
func rdWalkForward(tb testing.TB, s *apptest.Server, token string, size int, filter, orderBy map[string]any) []string {
	tb.Helper()
	var all []string
	var after *string
	for i := 0; ; i++ {
		if i > 200 {
			tb.Fatalf("forward walk does not end")
		}
		p := rdFetchCases(tb, s, token, rdPageArgs{first: rdIntp(size), after: after, filter: filter, orderBy: orderBy})
		if p.PageInfo.HasPreviousPage != (i > 0) {
			tb.Fatalf("forward page %d: hasPreviousPage = %v", i, p.PageInfo.HasPreviousPage)
		}
		if len(p.Edges) > size || (p.PageInfo.HasNextPage && len(p.Edges) != size) {
			tb.Fatalf("forward page %d: %d edges (size %d, hasNextPage %v)", i, len(p.Edges), size, p.PageInfo.HasNextPage)
		}
		all = append(all, p.ids()...)
		if !p.PageInfo.HasNextPage {
			return all
		}
		after = p.PageInfo.EndCursor
	}
}

// rdWalkBackward follows startCursor with last: size until hasPreviousPage is false, and
// returns the concatenation in the order's direction.
func rdWalkBackward(tb testing.TB, s *apptest.Server, token string, size int, filter, orderBy map[string]any) []string {
	tb.Helper()
	var all []string
	var before *string
	for i := 0; ; i++ {
		if i > 200 {
			tb.Fatalf("backward walk does not end")
		}
		p := rdFetchCases(tb, s, token, rdPageArgs{last: rdIntp(size), before: before, filter: filter, orderBy: orderBy})
		if p.PageInfo.HasNextPage != (i > 0) {
			tb.Fatalf("backward page %d: hasNextPage = %v", i, p.PageInfo.HasNextPage)
		}
		if len(p.Edges) > size || (p.PageInfo.HasPreviousPage && len(p.Edges) != size) {
			tb.Fatalf("backward page %d: %d edges (size %d, hasPreviousPage %v)", i, len(p.Edges), size, p.PageInfo.HasPreviousPage)
		}
		all = append(p.ids(), all...)
		if !p.PageInfo.HasPreviousPage {
			return all
		}
		before = p.PageInfo.StartCursor
	}
}

func rdWantIDs(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// ---- tests ----

func TestReadResolutionsPaginationWalks(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildCaseFixture(t, d)
		s := apptest.New(t, d)
		tok := apptest.PlatformToken
		for _, field := range []string{"CREATED_AT", "DUE_DATE"} {
			for _, dir := range []string{"ASC", "DESC"} {
				t.Run(field+"_"+dir, func(t *testing.T) {
					want := rdExpectedOrder(f.cases, field, dir == "DESC")
					ob := rdOrder(field, dir)
					rdWantIDs(t, "forward walk", rdWalkForward(t, s, tok, 7, nil, ob), want)
					rdWantIDs(t, "backward walk", rdWalkBackward(t, s, tok, 7, nil, ob), want)
					// One case per page crosses every boundary, the tie included.
					rdWantIDs(t, "forward walk by 1", rdWalkForward(t, s, tok, 1, nil, ob), want)
					rdWantIDs(t, "backward walk by 2", rdWalkBackward(t, s, tok, 2, nil, ob), want)
					// Turning around mid-way: the page before the third page's end is
					// the seven cases preceding it.
					p1 := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(7), orderBy: ob})
					p2 := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(7), after: p1.PageInfo.EndCursor, orderBy: ob})
					p3 := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(7), after: p2.PageInfo.EndCursor, orderBy: ob})
					back := rdFetchCases(t, s, tok, rdPageArgs{last: rdIntp(7), before: p3.PageInfo.EndCursor, orderBy: ob})
					rdWantIDs(t, "last 7 before the 21st", back.ids(), want[13:20])
					if !back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
						t.Fatalf("mid-way backward page: %+v", back.PageInfo)
					}
					// A cursor works in both directions of the same field.
					rev := "ASC"
					if dir == "ASC" {
						rev = "DESC"
					}
					mid := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(3), after: p1.PageInfo.EndCursor, orderBy: rdOrder(field, rev)})
					revWant := slices.Clone(want)
					slices.Reverse(revWant)
					at := slices.Index(revWant, p1.ids()[6])
					rdWantIDs(t, "reverse direction after the same cursor", mid.ids(), revWant[at+1:at+4])
				})
			}
		}
		t.Run("default order is newest first", func(t *testing.T) {
			p := rdFetchCases(t, s, tok, rdPageArgs{})
			rdWantIDs(t, "default page", p.ids(), rdExpectedOrder(f.cases, "CREATED_AT", true)[:20])
			if !p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
				t.Fatalf("default page info: %+v", p.PageInfo)
			}
		})
	})
}

// rdFilterCase is one filter with the cases it must select.
type rdFilterCase struct {
	name   string
	filter map[string]any
	match  func(c dispute.Case) bool
	empty  bool // the filter legitimately selects nothing
}

func rdFilterTable(f *rdCaseFixture) []rdFilterCase {
	byCreated := rdExpectedOrder(f.cases, "CREATED_AT", false)
	tMid := f.byID[byCreated[12]].CreatedAt
	tLate := f.byID[byCreated[22]].CreatedAt
	var dues []time.Time
	for _, c := range f.cases {
		if c.DueDate != nil {
			dues = append(dues, *c.DueDate)
		}
	}
	sort.Slice(dues, func(i, j int) bool { return dues[i].Before(dues[j]) })
	dMid := dues[len(dues)/2]
	compA, compB, u2 := f.comps[0].ID, f.comps[1].ID, f.users[1].ID
	inStatus := func(c dispute.Case, ss ...dispute.Status) bool { return slices.Contains(ss, c.Status) }
	return []rdFilterCase{
		{name: "none", filter: map[string]any{}, match: func(dispute.Case) bool { return true }},
		{name: "companyId", filter: map[string]any{"companyId": compA}, match: func(c dispute.Case) bool { return c.CompanyID == compA }},
		{name: "userId", filter: map[string]any{"userId": u2}, match: func(c dispute.Case) bool { return c.UserID == u2 }},
		{name: "statuses",
			filter: map[string]any{"statuses": []string{"UNDER_PLATFORM_REVIEW", "CUSTOMER_RESPONSE_NEEDED"}},
			match: func(c dispute.Case) bool {
				return inStatus(c, dispute.StatusUnderPlatformReview, dispute.StatusCustomerResponseNeeded)
			}},
		{name: "issues",
			filter: map[string]any{"issues": []string{"ITEM_NOT_RECEIVED", "PRODUCT_UNACCEPTABLE"}},
			match: func(c dispute.Case) bool {
				return c.Issue == dispute.IssueItemNotReceived || c.Issue == dispute.IssueProductUnacceptable
			}},
		{name: "outcome merchant won", filter: map[string]any{"outcome": "MERCHANT_WON"},
			match: func(c dispute.Case) bool { return c.Outcome == dispute.OutcomeMerchantWon }},
		{name: "outcome withdrawn", filter: map[string]any{"outcome": "WITHDRAWN"},
			match: func(c dispute.Case) bool { return c.Outcome == dispute.OutcomeWithdrawn }},
		{name: "createdBefore (exclusive)", filter: map[string]any{"createdBefore": rdFmtTime(tMid)},
			match: func(c dispute.Case) bool { return c.CreatedAt.Before(tMid) }},
		{name: "createdAfter (inclusive)", filter: map[string]any{"createdAfter": rdFmtTime(tMid)},
			match: func(c dispute.Case) bool { return !c.CreatedAt.Before(tMid) }},
		{name: "dueBefore (exclusive, no deadline never matches)", filter: map[string]any{"dueBefore": rdFmtTime(dMid)},
			match: func(c dispute.Case) bool { return c.DueDate != nil && c.DueDate.Before(dMid) }},
		{name: "dueBefore far future", filter: map[string]any{"dueBefore": "2100-01-01T00:00:00.000Z"},
			match: func(c dispute.Case) bool { return c.DueDate != nil }},
		{name: "companyId+statuses",
			filter: map[string]any{"companyId": compB, "statuses": []string{"MERCHANT_RESPONSE_NEEDED", "CUSTOMER_WON", "MERCHANT_WON"}},
			match: func(c dispute.Case) bool {
				return c.CompanyID == compB && inStatus(c, dispute.StatusMerchantResponseNeeded, dispute.StatusCustomerWon, dispute.StatusMerchantWon)
			}},
		{name: "userId+created window",
			filter: map[string]any{"userId": u2, "createdAfter": rdFmtTime(tMid), "createdBefore": rdFmtTime(tLate)},
			match: func(c dispute.Case) bool {
				return c.UserID == u2 && !c.CreatedAt.Before(tMid) && c.CreatedAt.Before(tLate)
			}},
		{name: "issues+outcome",
			filter: map[string]any{"issues": []string{"FORGOT_TO_CANCEL", "ITEM_NOT_RECEIVED", "SIGNIFICANTLY_NOT_AS_DESCRIBED"}, "outcome": "CUSTOMER_WON"},
			match: func(c dispute.Case) bool {
				return c.Outcome == dispute.OutcomeCustomerWon && (c.Issue == dispute.IssueForgotToCancel ||
					c.Issue == dispute.IssueItemNotReceived || c.Issue == dispute.IssueSignificantlyNotAsDescribed)
			}},
		{name: "companyId+dueBefore", filter: map[string]any{"companyId": compA, "dueBefore": rdFmtTime(dMid)},
			match: func(c dispute.Case) bool { return c.CompanyID == compA && c.DueDate != nil && c.DueDate.Before(dMid) }},
		{name: "empty created window", filter: map[string]any{"createdAfter": rdFmtTime(tMid), "createdBefore": rdFmtTime(tMid)},
			match: func(dispute.Case) bool { return false }, empty: true},
		{name: "unknown company", filter: map[string]any{"companyId": ids.New(ids.Company)},
			match: func(dispute.Case) bool { return false }, empty: true},
	}
}

func TestReadResolutionsFiltersAndSummary(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildCaseFixture(t, d)
		s := apptest.New(t, d)
		tok := apptest.PlatformToken
		for _, fc := range rdFilterTable(f) {
			t.Run(fc.name, func(t *testing.T) {
				sel := rdFilterCases(f.cases, fc.match)
				if (len(sel) == 0) != fc.empty {
					t.Fatalf("fixture: filter selects %d cases (empty expected: %v)", len(sel), fc.empty)
				}
				if !fc.empty && len(sel) == len(f.cases) && fc.name != "none" {
					t.Fatalf("fixture: filter selects every case, it proves nothing")
				}
				// One page, default order (createdAt descending).
				p := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(100), filter: fc.filter})
				rdWantIDs(t, "filtered page", p.ids(), rdExpectedOrder(sel, "CREATED_AT", true))
				if p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
					t.Fatalf("single page info: %+v", p.PageInfo)
				}
				// Keyset paging composes with the filter.
				rdWantIDs(t, "filtered walk by due date", rdWalkForward(t, s, tok, 3, fc.filter, rdOrder("DUE_DATE", "ASC")),
					rdExpectedOrder(sel, "DUE_DATE", false))
				rdWantIDs(t, "filtered backward walk by creation", rdWalkBackward(t, s, tok, 4, fc.filter, rdOrder("CREATED_AT", "ASC")),
					rdExpectedOrder(sel, "CREATED_AT", false))
				rdCheckSummary(t, s, tok, fc.filter, sel)
			})
		}
	})
}

type rdSummary struct {
	Total    int `json:"total"`
	Open     int `json:"open"`
	ByStatus []struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	} `json:"byStatus"`
	ByIssue []struct {
		Issue string `json:"issue"`
		Count int    `json:"count"`
	} `json:"byIssue"`
	ByOutcome []struct {
		Outcome string `json:"outcome"`
		Count   int    `json:"count"`
	} `json:"byOutcome"`
}

const rdSummaryQuery = `query($filter: ResolutionFilter) {
  resolutionSummary(filter: $filter) { total open byStatus { status count } byIssue { issue count } byOutcome { outcome count } }
}`

// rdCheckSummary asserts resolutionSummary over filter counts exactly sel, with every
// enum key present once.
func rdCheckSummary(tb testing.TB, s *apptest.Server, token string, filter map[string]any, sel []dispute.Case) {
	tb.Helper()
	var out struct {
		S rdSummary `json:"resolutionSummary"`
	}
	s.MustData(tb, token, rdSummaryQuery, map[string]any{"filter": filter}, &out)
	wantStatus, wantIssue, wantOutcome := map[string]int{}, map[string]int{}, map[string]int{}
	for _, st := range dispute.Statuses {
		wantStatus[rdEnum(st)] = 0
	}
	for _, is := range dispute.Issues {
		wantIssue[rdEnum(is)] = 0
	}
	for _, o := range []dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn} {
		wantOutcome[rdEnum(o)] = 0
	}
	open := 0
	for _, c := range sel {
		wantStatus[rdEnum(c.Status)]++
		wantIssue[rdEnum(c.Issue)]++
		if c.Outcome != dispute.OutcomeNone {
			wantOutcome[rdEnum(c.Outcome)]++
		}
		if c.Status.Open() {
			open++
		}
	}
	got := out.S
	if got.Total != len(sel) || got.Open != open {
		tb.Fatalf("summary total/open = %d/%d, want %d/%d", got.Total, got.Open, len(sel), open)
	}
	gs, gi, gout := map[string]int{}, map[string]int{}, map[string]int{}
	for _, e := range got.ByStatus {
		if _, dup := gs[e.Status]; dup {
			tb.Fatalf("byStatus lists %s twice", e.Status)
		}
		gs[e.Status] = e.Count
	}
	for _, e := range got.ByIssue {
		if _, dup := gi[e.Issue]; dup {
			tb.Fatalf("byIssue lists %s twice", e.Issue)
		}
		gi[e.Issue] = e.Count
	}
	for _, e := range got.ByOutcome {
		if _, dup := gout[e.Outcome]; dup {
			tb.Fatalf("byOutcome lists %s twice", e.Outcome)
		}
		gout[e.Outcome] = e.Count
	}
	for name, pair := range map[string][2]map[string]int{"byStatus": {gs, wantStatus}, "byIssue": {gi, wantIssue}, "byOutcome": {gout, wantOutcome}} {
		if fmt.Sprint(pair[0]) != fmt.Sprint(pair[1]) {
			tb.Fatalf("summary %s = %v, want %v", name, pair[0], pair[1])
		}
	}
}

func TestReadResolutionsPageBounds(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildCaseFixture(t, d)
		s := apptest.New(t, d)
		tok := apptest.PlatformToken
		all := rdExpectedOrder(f.cases, "CREATED_AT", true)
		first := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(5)})
		cur := first.PageInfo.EndCursor

		t.Run("zero", func(t *testing.T) {
			for _, a := range []rdPageArgs{{first: rdIntp(0)}, {last: rdIntp(0)}, {first: rdIntp(0), after: cur}, {last: rdIntp(0), before: cur}} {
				if p := rdFetchCases(t, s, tok, a); len(p.Edges) != 0 {
					t.Fatalf("%v: %d edges, want none", a.vars(), len(p.Edges))
				}
			}
		})
		t.Run("hundred", func(t *testing.T) {
			rdWantIDs(t, "first 100", rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(100)}).ids(), all)
			rdWantIDs(t, "last 100", rdFetchCases(t, s, tok, rdPageArgs{last: rdIntp(100)}).ids(), all)
		})
		t.Run("last alone is the end of the list", func(t *testing.T) {
			p := rdFetchCases(t, s, tok, rdPageArgs{last: rdIntp(4)})
			rdWantIDs(t, "last 4", p.ids(), all[len(all)-4:])
			if p.PageInfo.HasNextPage || !p.PageInfo.HasPreviousPage {
				t.Fatalf("last 4 page info: %+v", p.PageInfo)
			}
		})
		bad := []struct {
			name string
			args rdPageArgs
		}{
			{"first 101", rdPageArgs{first: rdIntp(101)}},
			{"last 101", rdPageArgs{last: rdIntp(101)}},
			{"first -1", rdPageArgs{first: rdIntp(-1)}},
			{"last -1", rdPageArgs{last: rdIntp(-1)}},
			{"first and last", rdPageArgs{first: rdIntp(5), last: rdIntp(5)}},
			{"first and last zero", rdPageArgs{first: rdIntp(0), last: rdIntp(0)}},
			{"after and before", rdPageArgs{first: rdIntp(5), after: cur, before: cur}},
			{"last with after", rdPageArgs{last: rdIntp(5), after: cur}},
			{"first with before", rdPageArgs{first: rdIntp(5), before: cur}},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				r := s.Do(t, tok, rdResolutionsQuery, b.args.vars())
				rdWantCode(t, r, "INVALID_ARGUMENT")
				rdWantNoData(t, r)
			})
		}
		rdMustHealthy(t, s)
	})
}

func TestReadResolutionsMalformedCursors(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		f := rdBuildCaseFixture(t, d)
		s := apptest.New(t, d)
		tok := apptest.PlatformToken
		byCreated := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(3)})
		byDue := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(3), orderBy: rdOrder("DUE_DATE", "DESC")}) // no-deadline cases first
		var ev struct {
			Resolution struct {
				Events struct {
					Edges []struct{ Cursor string } `json:"edges"`
				} `json:"events"`
			} `json:"resolution"`
		}
		s.MustData(t, tok, `query($id: ID!) { resolution(id: $id) { events(first: 1) { edges { cursor } } } }`,
			map[string]any{"id": f.cases[5].ID}, &ev)
		eventCursor := ev.Resolution.Events.Edges[0].Cursor
		reso := f.cases[0].ID
		dueNil := byDue.Edges[0].Cursor
		if raw, _ := base64.RawURLEncoding.DecodeString(dueNil); !strings.Contains(string(raw), "|-|") {
			t.Fatalf("fixture: the first DUE_DATE DESC cursor should be a case without deadline, got %q", raw)
		}
		cases := []struct {
			name    string
			cursor  string
			orderBy map[string]any
		}{
			{"garbage", "not a cursor!", nil},
			{"empty", "", nil},
			{"base64 of junk", rdCursorOf("hello world"), nil},
			{"base64 with the right kind and junk", rdCursorOf("r1|created_at|soon|" + reso), nil},
			{"created_at cursor without a time", rdCursorOf("r1|created_at|-|" + reso), nil},
			{"time out of range", rdCursorOf("r1|created_at|99999999999999999|" + reso), nil},
			{"negative time", rdCursorOf("r1|created_at|-5|" + reso), nil},
			{"not a case ID", rdCursorOf("r1|created_at|1700000000000|" + ids.New(ids.Company)), nil},
			{"extra parts", rdCursorOf("r1|created_at|1700000000000|" + reso + "|x"), nil},
			{"unknown version", rdCursorOf("r2|created_at|1700000000000|" + reso), nil},
			{"too long", rdCursorOf(strings.Repeat("r1|", 100)), nil},
			{"an event cursor", eventCursor, nil},
			{"a DUE_DATE cursor with CREATED_AT", byDue.Edges[2].Cursor, nil},
			{"a DUE_DATE cursor without deadline with CREATED_AT", dueNil, nil},
			{"a CREATED_AT cursor with DUE_DATE", byCreated.Edges[1].Cursor, rdOrder("DUE_DATE", "ASC")},
			{"an unknown field", rdCursorOf("r1|updated_at|1700000000000|" + reso), rdOrder("DUE_DATE", "ASC")},
		}
		before := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(30)}).ids()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, a := range []rdPageArgs{
					{first: rdIntp(5), after: rdStrp(c.cursor), orderBy: c.orderBy},
					{last: rdIntp(5), before: rdStrp(c.cursor), orderBy: c.orderBy},
				} {
					r := s.Do(t, tok, rdResolutionsQuery, a.vars())
					rdWantCode(t, r, "INVALID_ARGUMENT")
					rdWantNoData(t, r)
				}
			})
		}
		// Nothing else changed: the same list, and the good cursors still work.
		rdWantIDs(t, "list after the bad cursors", rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(30)}).ids(), before)
		p := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(3), after: byDue.PageInfo.EndCursor, orderBy: rdOrder("DUE_DATE", "DESC")})
		rdWantIDs(t, "due cursor still works", p.ids(), rdExpectedOrder(f.cases, "DUE_DATE", true)[3:6])
	})
}

// ---- the events timeline ----

type rdEventPage struct {
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			ID       string `json:"id"`
			Position int    `json:"position"`
		} `json:"node"`
	} `json:"edges"`
	Nodes    []rdIdNode `json:"nodes"`
	PageInfo rdPageInfo `json:"pageInfo"`
}

const rdEventsQuery = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  resolution(id: $id) {
    events(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id position } }
      nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`

func rdFetchEvents(tb testing.TB, s *apptest.Server, token, caseID string, a rdPageArgs) rdEventPage {
	tb.Helper()
	v := a.vars()
	v["id"] = caseID
	var out struct {
		Resolution *struct {
			Events rdEventPage `json:"events"`
		} `json:"resolution"`
	}
	s.MustData(tb, token, rdEventsQuery, v, &out)
	if out.Resolution == nil {
		tb.Fatalf("resolution %s is null", caseID)
	}
	p := out.Resolution.Events
	if len(p.Edges) != len(p.Nodes) {
		tb.Fatalf("edges %d != nodes %d", len(p.Edges), len(p.Nodes))
	}
	for i := range p.Edges {
		if p.Edges[i].Node.ID != p.Nodes[i].ID {
			tb.Fatalf("edge %d != node %d", i, i)
		}
	}
	if n := len(p.Edges); n > 0 && (p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
		p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[n-1].Cursor) {
		tb.Fatalf("event pageInfo cursors do not match the edges")
	}
	return p
}

func (p rdEventPage) positions() []int {
	out := make([]int, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.Position
	}
	return out
}

func (p rdEventPage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

func rdWalkEventsForward(tb testing.TB, s *apptest.Server, token, caseID string, size int) []string {
	tb.Helper()
	var all []string
	var after *string
	for i := 0; i < 100; i++ {
		p := rdFetchEvents(tb, s, token, caseID, rdPageArgs{first: rdIntp(size), after: after})
		if p.PageInfo.HasPreviousPage != (i > 0) || len(p.Edges) > size || (p.PageInfo.HasNextPage && len(p.Edges) != size) {
			tb.Fatalf("events forward page %d: %d edges, %+v", i, len(p.Edges), p.PageInfo)
		}
		all = append(all, p.ids()...)
		if !p.PageInfo.HasNextPage {
			return all
		}
		after = p.PageInfo.EndCursor
	}
	tb.Fatalf("events forward walk does not end")
	return nil
}

func rdWalkEventsBackward(tb testing.TB, s *apptest.Server, token, caseID string, size int) []string {
	tb.Helper()
	var all []string
	var before *string
	for i := 0; i < 100; i++ {
		p := rdFetchEvents(tb, s, token, caseID, rdPageArgs{last: rdIntp(size), before: before})
		if p.PageInfo.HasNextPage != (i > 0) || len(p.Edges) > size || (p.PageInfo.HasPreviousPage && len(p.Edges) != size) {
			tb.Fatalf("events backward page %d: %d edges, %+v", i, len(p.Edges), p.PageInfo)
		}
		all = append(p.ids(), all...)
		if !p.PageInfo.HasPreviousPage {
			return all
		}
		before = p.PageInfo.StartCursor
	}
	tb.Fatalf("events backward walk does not end")
	return nil
}

// rdMustLongCase opens a case and adds responds alternating merchant and customer (the
// case ping-pongs between merchant_response_needed and customer_response_needed) until
// it has n events; it returns the event IDs by position.
func rdMustLongCase(t *testing.T, d *db.DB, u db.User, c db.Company, n int) (dispute.Case, []string) {
	t.Helper()
	at := rdPageBase.Add(-72 * time.Hour)
	res := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, ""), dispute.IssueItemNotReceived, at)
	evs := []string{res.Event.ID}
	for i := 1; i < n; i++ {
		actor := rdMerc
		if i%2 == 0 {
			actor = rdCust
		}
		res = dbtest.MustApply(t, d, res.Case.ID, actor, dispute.ActionRespond, fmt.Sprintf("message %d", i+1), at.Add(time.Duration(i)*time.Minute))
		evs = append(evs, res.Event.ID)
	}
	return res.Case, evs
}

func rdReversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestReadEventsPagination(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
		mid, midEvents := rdMustLongCase(t, d, u, c, 25)
		long, longEvents := rdMustLongCase(t, d, u, c, 57)
		s := apptest.New(t, d)
		tok := apptest.PlatformToken

		for _, tc := range []struct {
			name   string
			id     string
			events []string
		}{{"25 events", mid.ID, midEvents}, {"57 events", long.ID, longEvents}} {
			t.Run(tc.name, func(t *testing.T) {
				newestFirst := rdReversed(tc.events)
				rdWantIDs(t, "events forward walk", rdWalkEventsForward(t, s, tok, tc.id, 7), newestFirst)
				rdWantIDs(t, "events backward walk", rdWalkEventsBackward(t, s, tok, tc.id, 7), newestFirst)
				def := rdFetchEvents(t, s, tok, tc.id, rdPageArgs{})
				rdWantIDs(t, "default events page (20 newest)", def.ids(), newestFirst[:20])
				if !def.PageInfo.HasNextPage || def.PageInfo.HasPreviousPage {
					t.Fatalf("default events page info: %+v", def.PageInfo)
				}
				n := len(tc.events)
				for i, p := range def.positions() {
					if p != n-i {
						t.Fatalf("default page positions %v, want %d..%d", def.positions(), n, n-19)
					}
				}
				last := rdFetchEvents(t, s, tok, tc.id, rdPageArgs{last: rdIntp(3)})
				rdWantIDs(t, "last 3 events (the oldest, newest first)", last.ids(), newestFirst[n-3:])
				all := rdFetchEvents(t, s, tok, tc.id, rdPageArgs{first: rdIntp(100)})
				rdWantIDs(t, "first 100 events", all.ids(), newestFirst)
				if z := rdFetchEvents(t, s, tok, tc.id, rdPageArgs{first: rdIntp(0)}); len(z.Edges) != 0 {
					t.Fatalf("first 0 gave %d events", len(z.Edges))
				}
				// resolutionEvents: the 50 most recent, oldest first.
				var out struct {
					Resolution struct {
						ResolutionEvents []struct {
							ID       string `json:"id"`
							Position int    `json:"position"`
						} `json:"resolutionEvents"`
					} `json:"resolution"`
				}
				s.MustData(t, tok, `query($id: ID!) { resolution(id: $id) { resolutionEvents { id position } } }`,
					map[string]any{"id": tc.id}, &out)
				var got []string
				for _, e := range out.Resolution.ResolutionEvents {
					got = append(got, e.ID)
				}
				rdWantIDs(t, "resolutionEvents", got, tc.events[max(0, n-50):])
			})
		}

		t.Run("bad events arguments", func(t *testing.T) {
			first := rdFetchEvents(t, s, tok, long.ID, rdPageArgs{first: rdIntp(2)})
			other := rdFetchEvents(t, s, tok, mid.ID, rdPageArgs{first: rdIntp(2)})
			caseCursor := rdFetchCases(t, s, tok, rdPageArgs{first: rdIntp(1)}).Edges[0].Cursor
			for _, a := range []rdPageArgs{
				{first: rdIntp(101)}, {last: rdIntp(101)}, {first: rdIntp(-1)}, {last: rdIntp(-3)},
				{first: rdIntp(2), last: rdIntp(2)},
				{first: rdIntp(2), after: first.PageInfo.EndCursor, before: first.PageInfo.EndCursor},
				{first: rdIntp(2), after: rdStrp("garbage")},
				{first: rdIntp(2), after: rdStrp(caseCursor)},
				{first: rdIntp(2), after: other.PageInfo.EndCursor}, // another case's timeline
				{last: rdIntp(2), before: other.PageInfo.EndCursor},
				{first: rdIntp(2), after: rdStrp(rdCursorOf("e1|" + long.ID + "|0"))},
				{first: rdIntp(2), after: rdStrp(rdCursorOf("e1|" + long.ID + "|x"))},
				// Beyond any position the column holds (a 32-bit integer): no such event.
				{first: rdIntp(2), after: rdStrp(rdCursorOf("e1|" + long.ID + "|99999999999"))},
				{last: rdIntp(2), before: rdStrp(rdCursorOf("e1|" + long.ID + "|2147483648"))},
			} {
				v := a.vars()
				v["id"] = long.ID
				r := s.Do(t, tok, rdEventsQuery, v)
				rdWantCode(t, r, "INVALID_ARGUMENT")
				var data struct {
					Resolution json.RawMessage `json:"resolution"`
				}
				if len(r.Data) > 0 && string(r.Data) != "null" {
					if err := json.Unmarshal(r.Data, &data); err != nil || (len(data.Resolution) > 0 && string(data.Resolution) != "null") {
						t.Fatalf("%v: want resolution null, got %s", v, r.Data)
					}
				}
			}
			rdMustHealthy(t, s)
		})
	})
}
