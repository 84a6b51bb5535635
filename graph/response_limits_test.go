package graph_test

// What one request may make the server build: the cost model prices what a field can
// return (texts by their size limit, connections by page size times selection, every
// alias), and MAX_RESPONSE_BYTES ends a request whose answer outgrows it with
// RESPONSE_TOO_LARGE alone.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// rlAliases asks for n aliases of a case's 100 first events' details (issue 11).
func rlAliases(n int) string {
	var b strings.Builder
	b.WriteString("query($id: ID!) { resolution(id: $id) { ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: events(first: 100) { nodes { details } } ", i)
	}
	b.WriteString("} }")
	return b.String()
}

// TestCostModelPricesText: a message costs 101 units (1 + 10,000 characters / 100),
// so events(first: 100) { nodes { details } } costs 1 + 100 x 102 = 10,201, and each
// alias is priced again: four fit under the default MAX_COMPLEXITY (50,000), five do
// not, nor the 245 of issue 11 (which scored 49,245 when a message cost 1).
func TestCostModelPricesText(t *testing.T) {
	t.Parallel()
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d)
	cast := dbtest.MustCast(t, d)
	caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
	vars := map[string]any{"id": caseID}
	s.MustData(t, cast.CustomerToken, rlAliases(4), vars, nil)
	for _, n := range []int{5, 245} {
		r := s.Do(t, cast.CustomerToken, rlAliases(n), vars)
		want := fmt.Sprintf("operation has complexity %d, which exceeds the limit of 50000", 1+n*10201)
		if r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" || r.HasData() || !strings.Contains(r.Errors[0].Message, want) {
			t.Errorf("%d aliases: %s, want GRAPHQL_VALIDATION_FAILED %q", n, apptest.Trunc(r.Raw, 300), want)
		}
	}
	// A reference text is priced by its limit too: a company title (200 characters)
	// costs 3, a route (100) 2.
	lim := 1 + 1 + 3 + 2 // resolution, company, title, route
	small := apptest.New(t, d, apptest.Options{Env: map[string]string{"MAX_COMPLEXITY": fmt.Sprint(lim)}})
	small.MustData(t, cast.CustomerToken, `query($id: ID!) { resolution(id: $id) { company { title route } } }`, vars, nil)
	r := small.Do(t, cast.CustomerToken, `query($id: ID!) { resolution(id: $id) { company { title route id } } }`, vars)
	if r.FirstCode() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("one field over the limit: %s", r.Raw)
	}
}

// TestResponseBudget: an answer over MAX_RESPONSE_BYTES is RESPONSE_TOO_LARGE with no
// data at all, whether long texts (counted as they resolve) or many short fields
// (counted when the answer is complete) make it large; an answer under the budget is
// whole. Subscriptions get a budget per value.
func TestResponseBudget(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		const budget = 20000
		s := apptest.New(t, d, apptest.Options{Env: map[string]string{"MAX_RESPONSE_BYTES": fmt.Sprint(budget)}})
		cast := dbtest.MustCast(t, d)
		caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		for i := range 30 {
			dbtest.MustApply(t, d, caseID, dispute.ActorCustomer, dispute.ActionRespond, strings.Repeat(string(rune('a'+i%26)), 1000), dbtest.Now())
		}
		vars := map[string]any{"id": caseID}
		tooLarge := func(what string, r apptest.Response) {
			t.Helper()
			if len(r.Errors) != 1 || r.FirstCode() != "RESPONSE_TOO_LARGE" || r.HasData() || r.Errors[0].Extensions["maxBytes"] != float64(budget) {
				t.Errorf("%s: %d %s, want RESPONSE_TOO_LARGE alone", what, r.Status, apptest.Trunc(r.Raw, 400))
			}
			if strings.Contains(string(r.Raw), "aaaa") {
				t.Errorf("%s: the answer carries part of the body", what)
			}
		}
		// 30 messages of 1,000 characters: over 20,000 bytes.
		tooLarge("long texts", s.Do(t, cast.CustomerToken, `query($id: ID!) { resolution(id: $id) { events(first: 30) { nodes { details } } } }`, vars))
		// 15 of them fit.
		r := s.Do(t, cast.CustomerToken, `query($id: ID!) { resolution(id: $id) { events(first: 15) { nodes { details } } } }`, vars)
		if len(r.Errors) > 0 || !r.HasData() || len(r.Raw) < 15000 {
			t.Errorf("15 messages: %s", apptest.Trunc(r.Raw, 300))
		}
		// Many short fields: counted exactly once the answer is marshalled.
		var short strings.Builder
		short.WriteString("query($id: ID!) { resolution(id: $id) { ")
		for i := range 40 {
			fmt.Fprintf(&short, "e%d: events(first: 30) { nodes { id position createdAt } } ", i)
		}
		short.WriteString("} }")
		tooLarge("short fields", s.Do(t, cast.CustomerToken, short.String(), vars))

		// A subscription value over the budget is refused alone; the next one arrives.
		ws := apptest.DialWS(t, s.URL, map[string]any{"Authorization": "Bearer " + cast.CustomerToken})
		ws.Subscribe("1", `subscription($id: ID!) { resolutionEventAdded(resolutionId: $id) { node { position details } } }`, vars)
		rlWaitSubscribers(t, s, 1)
		dbtest.MustApply(t, d, caseID, dispute.ActorCustomer, dispute.ActionRespond, strings.Repeat("😀", 10000), dbtest.Now())
		dbtest.MustApply(t, d, caseID, dispute.ActorCustomer, dispute.ActionRespond, "short", dbtest.Now())
		first, second := ws.Read(10*time.Second), ws.Read(10*time.Second)
		var p1, p2 apptest.Response
		_ = json.Unmarshal(first.Payload, &p1)
		_ = json.Unmarshal(second.Payload, &p2)
		if first.Type != "next" || p1.FirstCode() != "RESPONSE_TOO_LARGE" || p1.HasData() {
			t.Errorf("the 40 KB event: %s %s, want next with RESPONSE_TOO_LARGE alone", first.Type, apptest.Trunc(first.Payload, 300))
		}
		if second.Type != "next" || !strings.Contains(string(p2.Data), `"details":"short"`) {
			t.Errorf("the next event: %s %s", second.Type, apptest.Trunc(second.Payload, 300))
		}
	})
}

// rlWaitSubscribers waits until the server's hub has n event subscribers.
func rlWaitSubscribers(t *testing.T, s *apptest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Hub.Stats().EventSubscribers < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d event subscribers after 10s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
