package graph_test

// The write budgets of issue 11: a party's messages per case per hour (in the
// database, inside the action's transaction), and a principal's mutations per second
// across its tokens and cases.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

const wlRespond = `mutation($id: ID!, $m: String!) { respondToResolution(input: {resolutionId: $id, message: $m}) {
	resolution { version } event { position } userErrors { code message allowedActions } } }`

type wlPayload struct {
	RespondToResolution struct {
		Resolution *struct{ Version int }
		Event      *struct{ Position int }
		UserErrors []struct {
			Code           string
			Message        string
			AllowedActions []string
		}
	}
}

// wlSend posts one message and decodes the payload.
func wlSend(tb testing.TB, s *apptest.Server, token, caseID, msg string) (wlPayload, apptest.Response) {
	tb.Helper()
	r, err := apptest.Post(context.Background(), s.URL, token, wlRespond, map[string]any{"id": caseID, "m": msg})
	if err != nil {
		tb.Fatal(err)
	}
	var p wlPayload
	if len(r.Errors) == 0 {
		if err := json.Unmarshal(r.Data, &p); err != nil {
			tb.Fatalf("decode %s: %v", r.Raw, err)
		}
	}
	return p, r
}

// TestMessageBudget: with the default MESSAGES_PER_HOUR (20), a customer's 21st
// message on one case in an hour is LIMIT_REACHED and changes nothing; the merchant
// has a budget of its own; the refusal names what the party may still do. Issue 11
// posted 300 messages of 10,000 characters in 0.6 s.
func TestMessageBudget(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		cast := dbtest.MustCast(t, d)
		caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		per := dispute.DefaultMessagesPerHour
		for i := range per {
			p, r := wlSend(t, s, cast.CustomerToken, caseID, fmt.Sprintf("message %d", i))
			if len(r.Errors) > 0 || p.RespondToResolution.Event == nil {
				t.Fatalf("message %d of %d refused: %s", i+1, per, r.Raw)
			}
		}
		before := dbtest.MustGetCase(t, d, caseID)
		p, r := wlSend(t, s, cast.CustomerToken, caseID, "one too many")
		ue := p.RespondToResolution.UserErrors
		if len(r.Errors) > 0 || len(ue) != 1 || ue[0].Code != "LIMIT_REACHED" || p.RespondToResolution.Event != nil {
			t.Fatalf("message %d: %s, want userErrors LIMIT_REACHED", per+1, r.Raw)
		}
		if !strings.Contains(ue[0].Message, fmt.Sprintf("at most %d messages", per)) || !slices.Equal(ue[0].AllowedActions, []string{"WITHDRAW"}) {
			t.Errorf("refusal: %+v, want the budget and the other allowed actions (WITHDRAW)", ue[0])
		}
		if after := dbtest.MustGetCase(t, d, caseID); after.Version != before.Version || after.EventCount != before.EventCount {
			t.Errorf("the refused message changed the case: version %d -> %d, events %d -> %d", before.Version, after.Version, before.EventCount, after.EventCount)
		}
		// The merchant's budget is its own, and the customer may still act otherwise.
		for i := range 3 {
			if p, r := wlSend(t, s, cast.CompanyToken, caseID, fmt.Sprintf("merchant %d", i)); p.RespondToResolution.Event == nil {
				t.Fatalf("merchant message %d refused: %s", i+1, r.Raw)
			}
		}
		var out struct {
			WithdrawResolution struct{ UserErrors []struct{ Code string } }
		}
		s.MustData(t, cast.CustomerToken, `mutation($id: ID!) { withdrawResolution(input: {resolutionId: $id}) { userErrors { code } } }`,
			map[string]any{"id": caseID}, &out)
		if len(out.WithdrawResolution.UserErrors) > 0 {
			t.Errorf("withdraw over the message budget: %+v", out.WithdrawResolution.UserErrors)
		}
	})
}

// TestMessageBudgetConcurrent: 30 messages of one party on one case at once; exactly
// the budget's 20 are accepted, since each is counted inside its transaction after the
// case's row lock (PostgreSQL) or under the single writer (SQLite).
func TestMessageBudgetConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		s := apptest.New(t, d)
		cast := dbtest.MustCast(t, d)
		caseID := dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID
		const n = 30
		var mu sync.Mutex
		codes := map[string]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, r := wlSend(t, s, cast.CustomerToken, caseID, fmt.Sprintf("at once %d", i))
				code := "ok"
				switch {
				case len(r.Errors) > 0:
					code = r.Errors[0].Code()
				case len(p.RespondToResolution.UserErrors) > 0:
					code = p.RespondToResolution.UserErrors[0].Code
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		per := dispute.DefaultMessagesPerHour
		if codes["ok"] != per || codes["LIMIT_REACHED"] != n-per {
			t.Errorf("%d messages at once: %v, want %d accepted and %d LIMIT_REACHED", n, codes, per, n-per)
		}
		if got := len(dbtest.MustEvents(t, d, caseID)); got != 1+per {
			t.Errorf("the case has %d events, want the opening one and %d messages", got, per)
		}
	})
}

// TestMutationRateLimit: a principal's mutations are limited across its tokens and
// cases (MUTATION_RATE_LIMIT, MUTATION_RATE_BURST), each aliased mutation counting; a
// refusal is RATE_LIMITED with HTTP 429 and Retry-After, before anything runs; another
// principal is not affected, and the platform is not limited.
func TestMutationRateLimit(t *testing.T) {
	t.Parallel()
	d := dbtest.MustSQLite(t)
	s := apptest.New(t, d, apptest.Options{Env: map[string]string{"MUTATION_RATE_LIMIT": "0.01", "MUTATION_RATE_BURST": "4"}})
	cast := dbtest.MustCast(t, d)
	secondToken := dbtest.MustToken(t, d, db.TokenUser, cast.Customer.ID, true)
	var cases []string
	for range 4 {
		cases = append(cases, dbtest.MustOpen(t, d, cast.MustPayment(t, d), dispute.IssueItemNotReceived, dbtest.Now()).Case.ID)
	}
	// Two mutations in one operation count two.
	two := `mutation($a: ID!, $b: ID!) {
		x: respondToResolution(input: {resolutionId: $a, message: "x"}) { userErrors { code } }
		y: respondToResolution(input: {resolutionId: $b, message: "y"}) { userErrors { code } } }`
	s.MustData(t, cast.CustomerToken, two, map[string]any{"a": cases[0], "b": cases[1]}, nil)
	if _, r := wlSend(t, s, secondToken, cases[2], "third"); len(r.Errors) > 0 {
		t.Fatalf("third mutation: %s", r.Raw)
	}
	if _, r := wlSend(t, s, cast.CustomerToken, cases[3], "fourth"); len(r.Errors) > 0 {
		t.Fatalf("fourth mutation: %s", r.Raw)
	}
	before := dbtest.MustGetCase(t, d, cases[3])
	_, r := wlSend(t, s, secondToken, cases[3], "fifth")
	if r.Status != http.StatusTooManyRequests || r.FirstCode() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" || r.HasData() {
		t.Fatalf("fifth mutation of the user (other token): %d %s %q, want 429 RATE_LIMITED with Retry-After", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	if after := dbtest.MustGetCase(t, d, cases[3]); after.Version != before.Version {
		t.Errorf("the refused mutation changed the case")
	}
	// Queries are not charged, and the merchant has its own budget.
	s.MustData(t, cast.CustomerToken, `{ viewer { role } }`, nil, nil)
	if p, r := wlSend(t, s, cast.CompanyToken, cases[3], "merchant"); len(r.Errors) > 0 || p.RespondToResolution.Event == nil {
		t.Fatalf("the merchant was limited by the customer's budget: %s", r.Raw)
	}
	// The platform (staff, upstream feeds) is not limited.
	for i := range 10 {
		s.MustData(t, cast.PlatformToken, `mutation($id: ID!, $d: String) { recordChargebackEvent(input: {resolutionId: $id, action: DISPUTE_OPENED, details: $d}) { userErrors { code } } }`,
			map[string]any{"id": cases[0], "d": fmt.Sprint("feed ", i)}, nil)
	}
}
