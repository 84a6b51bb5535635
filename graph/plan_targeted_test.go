package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// TestPlannedMatchesGqlgenTargeted sends operations the generator of the differential
// test does not write to both executors, as every role: a document sent again with
// other variables (its plan comes from the cache), Boolean variables with defaults,
// more Boolean variables than the cache keeps variants for, several operations in one
// document, events' orderBy, and the Node interface inside a case's selection.
func TestPlannedMatchesGqlgenTargeted(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := buildPlanWorld(t, d)
		planned := apptest.New(t, d)
		plain := apptest.New(t, d, apptest.Options{Env: map[string]string{"QUERY_PLANNER": "false"}})
		w.findCursors(t, plain)
		c := &planComparer{t: t, planned: planned, plain: plain}
		reso := w.ids["reso"]
		type op struct {
			name, query string
			vars        []map[string]any // each in turn, so later ones reuse the plan
		}
		ops := []op{
			{query: `query($a: Boolean = true, $b: Boolean = false) {
				resolutions(first: 3) @include(if: $a) { totalCount nodes { id } }
				viewer @skip(if: $b) { role } }`,
				vars: []map[string]any{nil, {"a": false}, {"b": true}, {"a": true, "b": false}, nil, {"a": nil}, {"b": nil}}},
			{query: `query($a: Boolean!, $b: Boolean!, $c: Boolean!, $d: Boolean!, $e: Boolean!) {
				resolutions(first: 2) @include(if: $a) { nodes { id status @skip(if: $b) } }
				viewer @include(if: $c) { role scopes @include(if: $d) user @skip(if: $e) { id } } }`,
				vars: []map[string]any{{"a": true, "b": false, "c": true, "d": true, "e": false},
					{"a": false, "b": true, "c": true, "d": false, "e": true},
					{"a": true, "b": true, "c": false, "d": false, "e": false}}},
			{query: `query($id: ID!, $first: Int, $after: String) {
				resolution(id: $id) { id events(first: $first, after: $after) { totalCount edges { cursor node { id position } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`,
				vars: []map[string]any{{"id": reso[0], "first": 2}, {"id": reso[1], "first": 1}, {"id": reso[0], "first": 3, "after": w.cursors[1]},
					{"id": reso[2]}, {"id": reso[0], "first": 0}}},
			{query: `{ resolutions(first: 20) { nodes { id
				asc: events(first: 3, orderBy: {direction: ASC}) { totalCount nodes { position action } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
				desc: events(last: 2, orderBy: {direction: DESC}) { nodes { position } pageInfo { hasNextPage hasPreviousPage } }
				ascLast: events(last: 2, orderBy: {field: POSITION, direction: ASC}) { edges { cursor node { position } } pageInfo { hasNextPage hasPreviousPage } } } } }`,
				vars: []map[string]any{nil}},
			{query: `{ resolutions(first: 20) { edges { node { ... on Node { id __typename } ...N } } } }
				fragment N on Node { ... on Resolution { status payment { id ... on Node { id } user { email } } } }`,
				vars: []map[string]any{nil}},
			{name: "B", query: `query A { viewer { role } } query B($ids: [ID!]!) { nodes(ids: $ids) { __typename id
				... on User { email name } ... on Payment { user { email } company { id } } ... on Membership { user { email } }
				... on ResolutionEvent { details viewableByCustomer viewableByMerchant } ... on Resolution { events { totalCount } } } }`,
				vars: []map[string]any{{"ids": w.ids["revt"]}, {"ids": w.ids["user"]}, {"ids": append(append([]string{}, w.ids["pay"]...), w.ids["mem"]...)},
					{"ids": append([]string{reso[0], reso[0]}, reso...)}}},
			{query: `query($f: ResolutionFilter) { s: resolutionSummary(filter: $f) { total open waitingOnMe byStatus { status count } }
				r: resolutions(filter: $f) { totalCount t2: totalCount } }`,
				vars: []map[string]any{nil, {"f": map[string]any{"waitingOnMe": true}}, {"f": map[string]any{"statuses": []string{"MERCHANT_WON"}}},
					{"f": map[string]any{"outcome": "CUSTOMER_WON"}}}},
		}
		var jobs []planJob
		for _, o := range ops {
			for _, v := range o.vars {
				for _, r := range w.roles {
					jobs = append(jobs, planJob{role: r, query: o.query, name: o.name, vars: v})
				}
			}
		}
		for _, j := range jobs { // in order: a plan compiled by one request serves the next
			c.compare(j)
		}
		t.Logf("%s: %d compared, %d with errors; fallbacks: %s", d.Engine, c.compared.Load(), c.withErrors.Load(), fallbacks(planned))
	})
}

// TestPlannedBudgetMatchesGqlgen: under MAX_RESPONSE_BYTES, an answer whose data
// grows past the budget in a part that an error then nulls is answered alike by both
// executors.
func TestPlannedBudgetMatchesGqlgen(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := buildPlanWorld(t, d)
		env := map[string]string{"MAX_RESPONSE_BYTES": "3000"}
		planned := apptest.New(t, d, apptest.Options{Env: env})
		plain := apptest.New(t, d, apptest.Options{Env: map[string]string{"MAX_RESPONSE_BYTES": "3000", "QUERY_PLANNER": "false"}})
		var out struct {
			Resolutions struct {
				Nodes []struct {
					Events struct{ Edges []struct{ Cursor string } }
				}
			}
		}
		plain.MustData(t, apptest.PlatformToken, `{ resolutions(first: 1, orderBy: {field: CREATED_AT, direction: ASC}) { nodes { events(first: 1) { edges { cursor } } } } }`, nil, &out)
		cursor := out.Resolutions.Nodes[0].Events.Edges[0].Cursor
		c := &planComparer{t: t, planned: planned, plain: plain}
		var q strings.Builder
		q.WriteString(`query($c: String) { resolutions(first: 5) { nodes { `)
		for i := range 30 {
			fmt.Fprintf(&q, "c%d: company { id title route createdAt } ", i)
		}
		q.WriteString(`events(first: 1, after: $c) { totalCount } } } }`)
		for _, r := range w.roles[:1] {
			c.compare(planJob{role: r, query: q.String(), vars: map[string]any{"c": cursor}})
		}
	})
}

// TestPlannedBudgetCountsNulledTexts: gqlgen's executor charges the budget with every
// long text as it resolves, also one that an error nulls afterwards, so that long texts
// past the budget are RESPONSE_TOO_LARGE even when the answer left is small. The
// planned path must answer the same.
func TestPlannedBudgetCountsNulledTexts(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		cast := dbtest.MustCast(t, d)
		long := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		for range 4 {
			dbtest.MustApply(t, d, long, dispute.ActorCustomer, dispute.ActionRespond, strings.Repeat("x", 200), dbtest.Now())
		}
		other := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		env := map[string]string{"MAX_RESPONSE_BYTES": "3000"}
		planned := apptest.New(t, d, apptest.Options{Env: env})
		plain := apptest.New(t, d, apptest.Options{Env: map[string]string{"MAX_RESPONSE_BYTES": "3000", "QUERY_PLANNER": "false"}})
		var out struct {
			Resolution struct {
				Events struct{ Edges []struct{ Cursor string } }
			}
		}
		plain.MustData(t, apptest.PlatformToken, `query($id: ID!) { resolution(id: $id) { events(first: 1) { edges { cursor } } } }`,
			map[string]any{"id": other}, &out)
		c := &planComparer{t: t, planned: planned, plain: plain}
		// Each copy of the case has about 1,000 bytes of messages, and is null (the
		// cursor is another case's): 5,000 bytes of texts, an answer of a few hundred.
		q := `query($ids: [ID!]!, $c: String) { nodes(ids: $ids) { ... on Resolution { resolutionEvents { details }
			events(first: 1, after: $c) { totalCount } } } }`
		vars := map[string]any{"ids": []string{long, long, long, long, long}, "c": out.Resolution.Events.Edges[0].Cursor}
		c.compare(planJob{role: planRole{"platform", apptest.PlatformToken}, query: q, vars: vars})
		// Under the budget, both answer the data.
		vars["ids"] = []string{long, long}
		c.compare(planJob{role: planRole{"platform", apptest.PlatformToken}, query: q, vars: vars})
	})
}
