package graph_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// A property test of the case list and the timeline pages: a random data set with many
// equal times (createdAt, dueDate, updatedAt), cases without a deadline, several
// companies and customers, a team member who is also a customer, and events hidden
// from one side; then random callers, filters and orders, each list walked whole
// forward and backward by pages of random sizes and probed from random cursors, and
// compared with the same list computed here from the rows the fixture wrote.

var (
	rpSeed  = flag.Uint64("page.seed", 1, "seed of the pagination property test's data and queries")
	rpIters = flag.Int("page.iters", 12, "random list queries per engine, executor and caller in the pagination property test")
)

// rpCaller is who asks, with what it may see and its role on each case (as auth's
// RoleOn decides).
type rpCaller struct {
	name      string
	token     string
	platform  bool
	userID    string
	companies []string
}

func (c rpCaller) roleOn(k dispute.Case) dispute.Actor {
	switch {
	case c.platform:
		return dispute.ActorPlatform
	case c.userID != "" && k.UserID == c.userID:
		return dispute.ActorCustomer
	case slices.Contains(c.companies, k.CompanyID):
		return dispute.ActorMerchant
	}
	return ""
}

type rpFixture struct {
	comps   []db.Company
	users   []db.User
	cases   []dispute.Case
	events  map[string][]dispute.Event // case ID -> every event, by position
	created []time.Time                // the distinct creation times used
	dues    []time.Time                // the distinct deadlines that remain
}

// rpBuild opens n cases; their creation times come from a few values (so many are
// equal), their steps from a few offsets (so many deadlines are equal too).
func rpBuild(t *testing.T, d *db.DB, rng *rand.Rand, n int) *rpFixture {
	t.Helper()
	f := &rpFixture{events: map[string][]dispute.Event{}}
	for range 3 {
		f.comps = append(f.comps, dbtest.MustCompany(t, d))
	}
	for range 4 {
		f.users = append(f.users, dbtest.MustUser(t, d))
	}
	base := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{0, 250 * time.Millisecond, time.Second, time.Hour + 7*time.Millisecond, 3 * time.Hour, 26 * time.Hour} {
		f.created = append(f.created, base.Add(off))
	}
	stepOffsets := []time.Duration{time.Hour, time.Hour + 7*time.Millisecond, 2 * time.Hour}
	dues := map[time.Time]bool{}
	for range n {
		u, c := f.users[rng.IntN(len(f.users))], f.comps[rng.IntN(len(f.comps))]
		created := f.created[rng.IntN(len(f.created))]
		sc := rdScenarios[rng.IntN(len(rdScenarios))]
		pay := dbtest.MustPayment(t, d, u, c, "")
		res := dbtest.MustOpen(t, d, pay, dispute.Issues[rng.IntN(len(dispute.Issues))], created)
		evs := []dispute.Event{res.Event}
		at := created
		for _, st := range sc.steps {
			at = at.Add(stepOffsets[rng.IntN(len(stepOffsets))])
			res = dbtest.MustApply(t, d, res.Case.ID, st.actor, st.action, "step", at)
			evs = append(evs, res.Event)
		}
		if res.Case.Status != sc.status {
			t.Fatalf("fixture: status %s, want %s", res.Case.Status, sc.status)
		}
		f.cases = append(f.cases, res.Case)
		f.events[res.Case.ID] = evs
		if res.Case.DueDate != nil {
			dues[*res.Case.DueDate] = true
		}
	}
	// One long timeline, past resolutionEvents' 50, half of it hidden from one side:
	// the platform asks each side for information in turn and each answers.
	pay := dbtest.MustPayment(t, d, f.users[0], f.comps[0], "")
	at := f.created[0]
	res := dbtest.MustOpen(t, d, pay, dispute.Issues[0], at)
	evs := []dispute.Event{res.Event}
	for i := range 30 {
		steps := [][2]any{{dispute.ActorPlatform, dispute.ActionRequestMerchantInfo}, {dispute.ActorMerchant, dispute.ActionRespond}}
		if i%2 == 1 {
			steps = [][2]any{{dispute.ActorPlatform, dispute.ActionRequestBuyerInfo}, {dispute.ActorCustomer, dispute.ActionRespond}}
		}
		for _, st := range steps {
			at = at.Add(time.Minute)
			res = dbtest.MustApply(t, d, res.Case.ID, st[0].(dispute.Actor), st[1].(dispute.Action), "step", at)
			evs = append(evs, res.Event)
		}
	}
	f.cases = append(f.cases, res.Case)
	f.events[res.Case.ID] = evs
	for k := range dues {
		f.dues = append(f.dues, k)
	}
	slices.SortFunc(f.dues, func(a, b time.Time) int { return a.Compare(b) })
	return f
}

// rpQuery is one random list query and the cases it must return, in order.
type rpQuery struct {
	filter  map[string]any
	orderBy map[string]any
	want    []string
	matched []dispute.Case // the cases of want, in any order
}

func rpSubset[T any](rng *rand.Rand, all []T) []T {
	out := []T{}
	for _, v := range all {
		if rng.IntN(3) == 0 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = append(out, all[rng.IntN(len(all))])
	}
	return out
}

// rpRandomQuery draws a filter and an order and computes the expected list.
func rpRandomQuery(rng *rand.Rand, f *rpFixture, c rpCaller) rpQuery {
	var q rpQuery
	filter := map[string]any{}
	match := []func(dispute.Case) bool{func(k dispute.Case) bool { return c.roleOn(k) != "" }}
	if rng.IntN(4) == 0 {
		st := rpSubset(rng, dispute.Statuses)
		filter["statuses"] = rpEnums(st)
		match = append(match, func(k dispute.Case) bool { return slices.Contains(st, k.Status) })
	}
	if rng.IntN(5) == 0 {
		is := rpSubset(rng, dispute.Issues)
		filter["issues"] = rpEnums(is)
		match = append(match, func(k dispute.Case) bool { return slices.Contains(is, k.Issue) })
	}
	if rng.IntN(6) == 0 {
		oc := []dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn}[rng.IntN(3)]
		filter["outcome"] = rdEnum(oc)
		match = append(match, func(k dispute.Case) bool { return k.Outcome == oc })
	}
	// Date bounds on the stored values themselves and a millisecond either side.
	jitter := func(t time.Time) time.Time { return t.Add(time.Duration(rng.IntN(3)-1) * time.Millisecond) }
	if rng.IntN(5) == 0 {
		b := jitter(f.created[rng.IntN(len(f.created))])
		filter["createdBefore"] = rdFmtTime(b)
		match = append(match, func(k dispute.Case) bool { return k.CreatedAt.Before(b) })
	}
	if rng.IntN(5) == 0 {
		a := jitter(f.created[rng.IntN(len(f.created))])
		filter["createdAfter"] = rdFmtTime(a)
		match = append(match, func(k dispute.Case) bool { return !k.CreatedAt.Before(a) })
	}
	if rng.IntN(6) == 0 && len(f.dues) > 0 {
		b := jitter(f.dues[rng.IntN(len(f.dues))])
		filter["dueBefore"] = rdFmtTime(b)
		match = append(match, func(k dispute.Case) bool { return k.DueDate != nil && k.DueDate.Before(b) })
	}
	waiting := rng.IntN(4) == 0
	if waiting {
		filter["waitingOnMe"] = true
		match = append(match, func(k dispute.Case) bool { return dispute.WaitingOn(k.Status, c.roleOn(k)) })
	} else if rng.IntN(8) == 0 {
		filter["waitingOnMe"] = false
	}
	if rng.IntN(4) == 0 {
		id := f.comps[rng.IntN(len(f.comps))].ID
		filter["companyId"] = id
		match = append(match, func(k dispute.Case) bool { return k.CompanyID == id })
	}
	if rng.IntN(4) == 0 {
		id := f.users[rng.IntN(len(f.users))].ID
		filter["userId"] = id
		match = append(match, func(k dispute.Case) bool { return k.UserID == id })
	}
	if len(filter) > 0 || rng.IntN(2) == 0 {
		q.filter = filter
	}
	field, desc := "CREATED_AT", true
	if waiting {
		field, desc = "DUE_DATE", false
	}
	if rng.IntN(5) > 0 {
		field = []string{"CREATED_AT", "DUE_DATE"}[rng.IntN(2)]
		desc = rng.IntN(2) == 0
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		q.orderBy = rdOrder(field, dir)
		if rng.IntN(6) == 0 && !desc { // the defaults spelt out
			q.orderBy = map[string]any{"field": field}
			desc = true
		}
	}
	matched := rdFilterCases(f.cases, func(k dispute.Case) bool {
		for _, m := range match {
			if !m(k) {
				return false
			}
		}
		return true
	})
	q.want = rdExpectedOrder(matched, field, desc)
	q.matched = matched
	return q
}

func rpEnums[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = rdEnum(v)
	}
	return out
}

const rpListQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: ResolutionFilter, $orderBy: ResolutionOrder) {
  resolutions(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

type rpPage struct {
	rdCasePage
	TotalCount int `json:"totalCount"`
}

// rpFetch reads one page, checks its own consistency and its totalCount.
func rpFetch(tb testing.TB, s *apptest.Server, token string, q rpQuery, a rdPageArgs, where string) rpPage {
	tb.Helper()
	a.filter, a.orderBy = q.filter, q.orderBy
	var out struct {
		Resolutions rpPage `json:"resolutions"`
	}
	r := s.Do(tb, token, rpListQuery, a.vars())
	if len(r.Errors) > 0 || !r.HasData() {
		tb.Fatalf("%s: vars %v: errors %+v", where, a.vars(), r.Errors)
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		tb.Fatalf("%s: %v", where, err)
	}
	p := out.Resolutions
	if len(p.Edges) != len(p.Nodes) {
		tb.Fatalf("%s: edges %d != nodes %d", where, len(p.Edges), len(p.Nodes))
	}
	for i := range p.Edges {
		if p.Edges[i].Node.ID != p.Nodes[i].ID {
			tb.Fatalf("%s: edge %d is %s, node %s", where, i, p.Edges[i].Node.ID, p.Nodes[i].ID)
		}
	}
	if n := len(p.Edges); n > 0 {
		if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
			p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[n-1].Cursor {
			tb.Fatalf("%s: pageInfo cursors do not match the edges", where)
		}
	} else if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil {
		tb.Fatalf("%s: empty page with cursors", where)
	}
	if p.TotalCount != len(q.want) {
		tb.Fatalf("%s: totalCount %d, want %d (filter %v)", where, p.TotalCount, len(q.want), q.filter)
	}
	return p
}

// rpWantPage checks a page against want[lo:hi] and its flags.
func rpWantPage(tb testing.TB, where string, q rpQuery, p rpPage, lo, hi int, hasPrev, hasNext bool) {
	tb.Helper()
	if got, want := p.ids(), q.want[lo:hi]; !slices.Equal(got, want) {
		tb.Fatalf("%s: got %v\nwant %v (items %d..%d of %d; filter %v order %v)", where, got, want, lo, hi, len(q.want), q.filter, q.orderBy)
	}
	if p.PageInfo.HasPreviousPage != hasPrev || p.PageInfo.HasNextPage != hasNext {
		tb.Fatalf("%s: pageInfo prev %v next %v, want %v %v (items %d..%d of %d; filter %v order %v)", where,
			p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage, hasPrev, hasNext, lo, hi, len(q.want), q.filter, q.orderBy)
	}
}

func rpSize(rng *rand.Rand) int {
	if rng.IntN(10) == 0 {
		return 1 + rng.IntN(100)
	}
	return 1 + rng.IntN(6)
}

const rpSummaryQuery = `query($filter: ResolutionFilter) {
  resolutionSummary(filter: $filter) { total open waitingOnMe
    byStatus { status count } byIssue { issue count } byOutcome { outcome count } }
}`

// rpSummary checks resolutionSummary over q's filter against q's cases.
func rpSummary(t *testing.T, s *apptest.Server, c rpCaller, q rpQuery) {
	t.Helper()
	type count struct {
		Status, Issue, Outcome string
		Count                  int
	}
	var out struct {
		S struct {
			Total, Open, WaitingOnMe     int
			ByStatus, ByIssue, ByOutcome []count
		} `json:"resolutionSummary"`
	}
	v := map[string]any{}
	if q.filter != nil {
		v["filter"] = q.filter
	}
	s.MustData(t, c.token, rpSummaryQuery, v, &out)
	want := map[string]int{}
	got := map[string]int{"total": out.S.Total, "open": out.S.Open, "waiting": out.S.WaitingOnMe}
	for _, st := range dispute.Statuses {
		want["status "+rdEnum(st)] = 0
	}
	for _, is := range dispute.Issues {
		want["issue "+rdEnum(is)] = 0
	}
	for _, oc := range []dispute.Outcome{dispute.OutcomeCustomerWon, dispute.OutcomeMerchantWon, dispute.OutcomeWithdrawn} {
		want["outcome "+rdEnum(oc)] = 0
	}
	want["total"], want["open"], want["waiting"] = len(q.matched), 0, 0
	for _, k := range q.matched {
		if k.Status.Open() {
			want["open"]++
		}
		if dispute.WaitingOn(k.Status, c.roleOn(k)) {
			want["waiting"]++
		}
		want["status "+rdEnum(k.Status)]++
		want["issue "+rdEnum(k.Issue)]++
		if k.Outcome != "" {
			want["outcome "+rdEnum(k.Outcome)]++
		}
	}
	for _, x := range out.S.ByStatus {
		got["status "+x.Status] += x.Count
	}
	for _, x := range out.S.ByIssue {
		got["issue "+x.Issue] += x.Count
	}
	for _, x := range out.S.ByOutcome {
		got["outcome "+x.Outcome] += x.Count
	}
	if !maps.Equal(got, want) || len(out.S.ByStatus) != len(dispute.Statuses) || len(out.S.ByIssue) != len(dispute.Issues) ||
		len(out.S.ByOutcome) != 3 {
		t.Fatalf("%s: resolutionSummary(filter %v)\n got %v\nwant %v", c.name, q.filter, got, want)
	}
}

// rpWalk walks q's list forward and backward and probes it from random cursors.
func rpWalk(t *testing.T, rng *rand.Rand, s *apptest.Server, c rpCaller, q rpQuery) {
	t.Helper()
	rpSummary(t, s, c, q)
	n := len(q.want)
	cursors := make([]string, n)
	// Forward: first/after until hasNextPage is false. Relay lets hasPreviousPage be
	// true whenever there is an after cursor; the server says exactly that.
	var after *string
	for i, pages := 0, 0; ; pages++ {
		size := rpSize(rng)
		where := fmt.Sprintf("%s forward page %d (first %d after item %d)", c.name, pages, size, i)
		p := rpFetch(t, s, c.token, q, rdPageArgs{first: rdIntp(size), after: after}, where)
		hi := min(i+size, n)
		rpWantPage(t, where, q, p, i, hi, after != nil, hi < n)
		for k, e := range p.Edges {
			cursors[i+k] = e.Cursor
		}
		i = hi
		if !p.PageInfo.HasNextPage {
			break
		}
		if pages > n+2 {
			t.Fatalf("%s: forward walk does not end", c.name)
		}
		after = p.PageInfo.EndCursor
	}
	// Backward: last/before until hasPreviousPage is false.
	var before *string
	for j, pages := n, 0; ; pages++ {
		size := rpSize(rng)
		where := fmt.Sprintf("%s backward page %d (last %d before item %d)", c.name, pages, size, j)
		p := rpFetch(t, s, c.token, q, rdPageArgs{last: rdIntp(size), before: before}, where)
		lo := max(j-size, 0)
		rpWantPage(t, where, q, p, lo, j, lo > 0, before != nil)
		for k, e := range p.Edges {
			if e.Cursor != cursors[lo+k] {
				t.Fatalf("%s: item %d has cursor %s backward, %s forward", where, lo+k, e.Cursor, cursors[lo+k])
			}
		}
		j = lo
		if !p.PageInfo.HasPreviousPage {
			break
		}
		if pages > n+2 {
			t.Fatalf("%s: backward walk does not end", c.name)
		}
		before = p.PageInfo.StartCursor
	}
	// Empty pages (first: 0, last: 0) still say whether cases follow or precede, as
	// Relay's algorithm has it: more edges than first (zero) means a next page.
	p := rpFetch(t, s, c.token, q, rdPageArgs{first: rdIntp(0)}, c.name+" first 0")
	rpWantPage(t, c.name+" first 0", q, p, 0, 0, false, n > 0)
	p = rpFetch(t, s, c.token, q, rdPageArgs{last: rdIntp(0)}, c.name+" last 0")
	rpWantPage(t, c.name+" last 0", q, p, n, n, n > 0, false)
	// Probes from random cursors, both ways, some of them empty.
	for range min(n, 3) {
		i, size := rng.IntN(n), rpSize(rng)
		if rng.IntN(4) == 0 {
			size = 0
		}
		where := fmt.Sprintf("%s probe first %d after item %d", c.name, size, i)
		p := rpFetch(t, s, c.token, q, rdPageArgs{first: rdIntp(size), after: &cursors[i]}, where)
		rpWantPage(t, where, q, p, i+1, min(i+1+size, n), true, i+1+size < n)
		where = fmt.Sprintf("%s probe last %d before item %d", c.name, size, i)
		p = rpFetch(t, s, c.token, q, rdPageArgs{last: rdIntp(size), before: &cursors[i]}, where)
		rpWantPage(t, where, q, p, max(i-size, 0), i, i-size > 0, true)
	}
}

// rpAliases reads several random lists, their totals and summaries in one operation
// (the planner batches their counts in one round trip) and checks each against its
// own model.
func rpAliases(t *testing.T, rng *rand.Rand, s *apptest.Server, f *rpFixture, c rpCaller) {
	t.Helper()
	qs := make([]rpQuery, 2+rng.IntN(3))
	var decl, body []string
	vars := map[string]any{}
	for i := range qs {
		qs[i] = rpRandomQuery(rng, f, c)
		decl = append(decl, fmt.Sprintf("$f%d: ResolutionFilter, $o%d: ResolutionOrder", i, i))
		body = append(body, fmt.Sprintf("l%d: resolutions(first: 100, filter: $f%d, orderBy: $o%d) { totalCount nodes { id } } "+
			"s%d: resolutionSummary(filter: $f%d) { total waitingOnMe }", i, i, i, i, i))
		if qs[i].filter != nil {
			vars[fmt.Sprintf("f%d", i)] = qs[i].filter
		}
		if qs[i].orderBy != nil {
			vars[fmt.Sprintf("o%d", i)] = qs[i].orderBy
		}
	}
	var out map[string]struct {
		TotalCount  int        `json:"totalCount"`
		Nodes       []rdIdNode `json:"nodes"`
		Total       int        `json:"total"`
		WaitingOnMe int        `json:"waitingOnMe"`
	}
	s.MustData(t, c.token, "query("+strings.Join(decl, ", ")+") { "+strings.Join(body, " ")+" }", vars, &out)
	for i, q := range qs {
		l, sum := out[fmt.Sprintf("l%d", i)], out[fmt.Sprintf("s%d", i)]
		got := make([]string, len(l.Nodes))
		for j, n := range l.Nodes {
			got[j] = n.ID
		}
		waiting := 0
		for _, k := range q.matched {
			if dispute.WaitingOn(k.Status, c.roleOn(k)) {
				waiting++
			}
		}
		if want := q.want[:min(len(q.want), 100)]; !slices.Equal(got, want) || l.TotalCount != len(q.want) ||
			sum.Total != len(q.want) || sum.WaitingOnMe != waiting {
			t.Fatalf("%s: alias %d (filter %v order %v): %v total %d summary %d/%d, want %v total %d waiting %d",
				c.name, i, q.filter, q.orderBy, got, l.TotalCount, sum.Total, sum.WaitingOnMe, want, len(q.want), waiting)
		}
	}
}

// ---- timelines ----

const rpEventsQuery = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $orderBy: ResolutionEventOrder) {
  resolution(id: $id) {
    events(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
      totalCount
      edges { cursor node { id } }
      nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`

type rpEventPage struct {
	rdCasePage
	TotalCount int `json:"totalCount"`
}

// rpWalkEvents walks a case's timeline as c sees it, forward and backward, in a random
// order.
func rpWalkEvents(t *testing.T, rng *rand.Rand, s *apptest.Server, c rpCaller, k dispute.Case, all []dispute.Event) {
	t.Helper()
	want := rpVisible(all, c.roleOn(k))
	var orderBy map[string]any
	switch rng.IntN(3) {
	case 0: // newest first by default
		slices.Reverse(want)
	case 1:
		orderBy = map[string]any{"field": "POSITION", "direction": "ASC"}
	case 2:
		orderBy = map[string]any{"direction": "DESC"}
		slices.Reverse(want)
	}
	n := len(want)
	esize := func() int {
		if n > 20 {
			return 1 + rng.IntN(15)
		}
		return 1 + rng.IntN(3)
	}
	fetch := func(a rdPageArgs, where string) rpEventPage {
		a.orderBy = orderBy
		v := a.vars()
		v["id"] = k.ID
		var out struct {
			Resolution *struct {
				Events rpEventPage `json:"events"`
			} `json:"resolution"`
		}
		r := s.Do(t, c.token, rpEventsQuery, v)
		if len(r.Errors) > 0 || !r.HasData() {
			t.Fatalf("%s: vars %v: errors %+v", where, v, r.Errors)
		}
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if out.Resolution == nil {
			t.Fatalf("%s: case %s is null", where, k.ID)
		}
		p := out.Resolution.Events
		if p.TotalCount != n {
			t.Fatalf("%s: totalCount %d, want %d", where, p.TotalCount, n)
		}
		if m := len(p.Edges); m > 0 && (p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
			p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[m-1].Cursor) {
			t.Fatalf("%s: pageInfo cursors do not match the edges", where)
		}
		return p
	}
	check := func(where string, p rpEventPage, lo, hi int, hasPrev, hasNext bool) {
		if got := p.ids(); !slices.Equal(got, want[lo:hi]) {
			t.Fatalf("%s: got %v, want %v (%d..%d of %d)", where, got, want[lo:hi], lo, hi, n)
		}
		if p.PageInfo.HasPreviousPage != hasPrev || p.PageInfo.HasNextPage != hasNext {
			t.Fatalf("%s: pageInfo %+v, want prev %v next %v (%d..%d of %d)", where, p.PageInfo, hasPrev, hasNext, lo, hi, n)
		}
	}
	cursors := make([]string, n)
	var after *string
	for i, pages := 0, 0; ; pages++ {
		size := esize()
		where := fmt.Sprintf("%s events of %s (order %v) forward first %d after %d", c.name, k.ID, orderBy, size, i)
		p := fetch(rdPageArgs{first: rdIntp(size), after: after}, where)
		hi := min(i+size, n)
		check(where, p, i, hi, after != nil, hi < n)
		for j, e := range p.Edges {
			cursors[i+j] = e.Cursor
		}
		i = hi
		if !p.PageInfo.HasNextPage || pages > n+2 {
			break
		}
		after = p.PageInfo.EndCursor
	}
	var before *string
	for j, pages := n, 0; ; pages++ {
		size := esize()
		where := fmt.Sprintf("%s events of %s (order %v) backward last %d before %d", c.name, k.ID, orderBy, size, j)
		p := fetch(rdPageArgs{last: rdIntp(size), before: before}, where)
		lo := max(j-size, 0)
		check(where, p, lo, j, lo > 0, before != nil)
		j = lo
		if !p.PageInfo.HasPreviousPage || pages > n+2 {
			break
		}
		before = p.PageInfo.StartCursor
	}
	check("first 0", fetch(rdPageArgs{first: rdIntp(0)}, "first 0"), 0, 0, false, n > 0)
	check("last 0", fetch(rdPageArgs{last: rdIntp(0)}, "last 0"), n, n, n > 0, false)
	if n > 0 {
		i, size := rng.IntN(n), esize()
		if rng.IntN(4) == 0 {
			size = 0
		}
		where := fmt.Sprintf("%s events of %s (order %v) probe around %d", c.name, k.ID, orderBy, i)
		check(where+" after", fetch(rdPageArgs{first: rdIntp(size), after: &cursors[i]}, where), i+1, min(i+1+size, n), true, i+1+size < n)
		check(where+" before", fetch(rdPageArgs{last: rdIntp(size), before: &cursors[i]}, where), max(i-size, 0), i, i-size > 0, true)
	}
}

func TestReadPaginationProperty(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		rng := rand.New(rand.NewPCG(*rpSeed, 0x9e3779b97f4a7c15))
		f := rpBuild(t, d, rng, 60)
		tm, long := f.users[0], f.cases[len(f.cases)-1]
		dbtest.MustTeamMember(t, d, f.comps[0], tm)
		dbtest.MustTeamMember(t, d, f.comps[1], tm)
		callers := []rpCaller{
			{name: "platform", token: apptest.PlatformToken, platform: true},
			{name: "company key", token: dbtest.MustToken(t, d, db.TokenCompany, f.comps[0].ID, false), companies: []string{f.comps[0].ID}},
			{name: "team member", token: dbtest.MustToken(t, d, db.TokenUser, tm.ID, false), userID: tm.ID,
				companies: []string{f.comps[0].ID, f.comps[1].ID}},
			{name: "customer", token: dbtest.MustToken(t, d, db.TokenUser, f.users[1].ID, false), userID: f.users[1].ID},
		}
		for _, planner := range []string{"true", "false"} {
			t.Run("planner="+planner, func(t *testing.T) {
				s := apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": planner}})
				planned := counter(s.Metrics.QueriesPlanned)
				defer func() {
					if n := counter(s.Metrics.QueriesPlanned) - planned; (n > 0) != (planner == "true") || fallbacks(s) != "none" {
						t.Errorf("%v operations planned with QUERY_PLANNER=%s (fallbacks: %s)", n, planner, fallbacks(s))
					}
				}()
				for _, c := range callers {
					for range *rpIters {
						rpWalk(t, rng, s, c, rpRandomQuery(rng, f, c))
					}
					var visible []dispute.Case
					for _, k := range f.cases {
						if c.roleOn(k) != "" {
							visible = append(visible, k)
						}
					}
					for range 2 {
						rpNestedEvents(t, rng, s, c, f)
						rpAliases(t, rng, s, f, c)
					}
					for i := range min(len(visible), 4) {
						k := visible[rng.IntN(len(visible))]
						if i == 0 && c.roleOn(long) != "" {
							k = long
						}
						rpWalkEvents(t, rng, s, c, k, f.events[k.ID])
					}
				}
			})
		}
	})
}

// rpVisible returns the IDs of the events of all that a viewer in role sees, oldest
// first.
func rpVisible(all []dispute.Event, role dispute.Actor) []string {
	var out []string
	for _, e := range all {
		if role == dispute.ActorPlatform || role == dispute.ActorCustomer && e.ViewableByCustomer ||
			role == dispute.ActorMerchant && e.ViewableByMerchant {
			out = append(out, e.ID)
		}
	}
	return out
}

// rpNestedEvents reads a page of the timeline and the recent events of every case of
// one list page in one operation (batched across cases the viewer sees in different
// roles) and compares each with its case's timeline.
func rpNestedEvents(t *testing.T, rng *rand.Rand, s *apptest.Server, c rpCaller, f *rpFixture) {
	t.Helper()
	size, asc, backward := 1+rng.IntN(4), rng.IntN(2) == 0, rng.IntN(2) == 0
	args := fmt.Sprintf("first: %d", size)
	if backward {
		args = fmt.Sprintf("last: %d", size)
	}
	if asc {
		args += ", orderBy: {field: POSITION, direction: ASC}"
	}
	query := `{ resolutions(first: 100) { nodes { id
	  events(` + args + `) { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage } }
	  resolutionEvents { id } } } }`
	var out struct {
		Resolutions struct {
			Nodes []struct {
				ID     string `json:"id"`
				Events struct {
					TotalCount int        `json:"totalCount"`
					Nodes      []rdIdNode `json:"nodes"`
					PageInfo   rdPageInfo `json:"pageInfo"`
				} `json:"events"`
				ResolutionEvents []rdIdNode `json:"resolutionEvents"`
			} `json:"nodes"`
		} `json:"resolutions"`
	}
	s.MustData(t, c.token, query, nil, &out)
	byID := map[string]dispute.Case{}
	for _, k := range f.cases {
		byID[k.ID] = k
	}
	ids := func(list []rdIdNode) []string {
		r := make([]string, len(list))
		for i, n := range list {
			r[i] = n.ID
		}
		return r
	}
	for _, node := range out.Resolutions.Nodes {
		k := byID[node.ID]
		vis := rpVisible(f.events[k.ID], c.roleOn(k))
		if got, want := ids(node.ResolutionEvents), vis[max(len(vis)-50, 0):]; !slices.Equal(got, want) { // the 50 most recent
			t.Fatalf("%s: resolutionEvents of %s: %v, want %v", c.name, k.ID, got, want)
		}
		order := slices.Clone(vis)
		if !asc {
			slices.Reverse(order)
		}
		n := len(order)
		want, prev, next := order[:min(size, n)], false, size < n
		if backward {
			want, prev, next = order[max(n-size, 0):], size < n, false
		}
		ev := node.Events
		if got := ids(ev.Nodes); !slices.Equal(got, want) || ev.TotalCount != n ||
			ev.PageInfo.HasPreviousPage != prev || ev.PageInfo.HasNextPage != next {
			t.Fatalf("%s: events(%s) of %s: %v total %d %+v, want %v total %d prev %v next %v",
				c.name, args, k.ID, got, ev.TotalCount, ev.PageInfo, want, n, prev, next)
		}
	}
}

// An empty page reads its cases (one extra row) only when its page info is asked for:
// resolutions(first: 0) { totalCount }, the idiom of a count, costs the count alone, and
// events(first: 0) { totalCount } the event count alone.
func TestReadEmptyPageStatements(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		u, c := dbtest.MustUser(t, d), dbtest.MustCompany(t, d)
		k := dbtest.MustOpen(t, d, dbtest.MustPayment(t, d, u, c, ""), dispute.Issues[0], dbtest.Now()).Case
		log := &rdStatementLog{}
		d.AddQueryHook(log)
		tok := dbtest.MustToken(t, d, db.TokenCompany, c.ID, false)
		for _, planner := range []string{"true", "false"} {
			s := apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": planner}})
			for _, tc := range []struct {
				query string
				want  int
			}{
				{`{ resolutions(first: 0) { totalCount } }`, 1},
				{`{ resolutions(first: 0) { totalCount pageInfo { hasNextPage } } }`, 2},
				{`{ resolutions(last: 0) { pageInfo { hasPreviousPage } } }`, 1},
				{`query($id: ID!) { resolution(id: $id) { events(first: 0) { totalCount } } }`, 2},
				{`query($id: ID!) { resolution(id: $id) { events(last: 0) { pageInfo { hasPreviousPage } } } }`, 2},
			} {
				var out map[string]any
				log.start()
				s.MustData(t, tok, tc.query, map[string]any{"id": k.ID}, &out)
				_, rest := log.stop()
				if len(rest) != tc.want {
					t.Errorf("planner %s: %s ran %d statements, want %d: %q", planner, tc.query, len(rest), tc.want, rest)
				}
				if strings.Contains(tc.query, "pageInfo") && !strings.Contains(fmt.Sprint(out), "true") {
					t.Errorf("planner %s: %s: %v, want the flag true", planner, tc.query, out)
				}
			}
		}
	})
}
