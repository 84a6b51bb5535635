package graph_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
)

// A mutation with an idempotency key, retried by the same principal, returns the first
// result and changes nothing; the key binds to the principal and the request.

func TestIdempotency(t *testing.T) {
	runSuites(t,
		suite{"concurrent retries", idempotencyConcurrentRetries},
		suite{"key binding", idempotencyKeyBinding},
		suite{"refusal does not burn the key", idempotencyRefusalDoesNotBurnKey},
		suite{"key length", idempotencyKeyLength},
		suite{"key binds to the principal, not the token", idempotencyAcrossTokens},
		suite{"a replay needs access to the case still", idempotencyReplayNeedsAccess},
	)
}

// withoutReplayed returns a payload's JSON with replayed cleared.
func withoutReplayed(p mutPayload) string {
	p.Replayed = false
	return toJSON(p)
}

func idempotencyConcurrentRetries(t *testing.T, e *caseEnv) {
	d := e.d
	for _, tc := range []struct {
		name, token, op string
		input           func() map[string]any
	}{
		{"respond", e.cast.CustomerToken, "respondToResolution", func() map[string]any {
			return map[string]any{"resolutionId": openedCase(t, e), "message": "Retry me."}
		}},
		{"accept (refunds)", e.cast.CompanyToken, "acceptResolution", func() map[string]any {
			return map[string]any{"resolutionId": openedCase(t, e), "terminateMembership": true}
		}},
		{"open", e.cast.CustomerToken, "openResolution", func() map[string]any {
			return map[string]any{"paymentId": e.cast.MustPayment(t, d).ID, "issue": "PRODUCT_UNACCEPTABLE", "message": "Broken."}
		}},
	} {
		input := tc.input()
		input["idempotencyKey"] = "retry-" + tc.name
		res, errs := atOnce(e, tc.token, tc.op, input, 20)
		fresh := 0
		for i, r := range res {
			if errs[i] != nil || len(r.Errors) > 0 || len(r.P.UserErrors) > 0 || r.P.Resolution == nil {
				t.Fatalf("%s: retry %d: %v %+v %+v", tc.name, i, errs[i], r.Errors, r.P.UserErrors)
			}
			if !r.P.Replayed {
				fresh++
			}
			if got, want := withoutReplayed(r.P), withoutReplayed(res[0].P); got != want {
				t.Errorf("%s: responses differ:\n%s\n%s", tc.name, got, want)
			}
		}
		if fresh != 1 {
			t.Errorf("%s: %d of %d responses were not replays, want 1", tc.name, fresh, len(res))
		}
		id := res[0].P.Resolution.ID
		c := dbtest.MustGetCase(t, d, id)
		wantVersion := 2
		if tc.op == "openResolution" {
			wantVersion = 1
		}
		if c.Version != wantVersion || len(dbtest.MustEvents(t, d, id)) != wantVersion {
			t.Errorf("%s: applied more than once: version %d", tc.name, c.Version)
		}
		if pay := dbtest.MustGetPayment(t, d, c.PaymentID); tc.op == "acceptResolution" && pay.RefundedAmount != pay.Total {
			t.Errorf("%s: payment %+v", tc.name, pay)
		}
	}
}

func idempotencyKeyBinding(t *testing.T, e *caseEnv) {
	id := openedCase(t, e)
	in := func(msg string) map[string]any {
		return map[string]any{"resolutionId": id, "message": msg, "idempotencyKey": "k-1"}
	}
	first := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("First."))
	if first.Replayed {
		t.Fatalf("first request reported as replayed")
	}

	// The case moves on; a retry still gets the first result and changes nothing.
	e.mustAct(t, e.cast.CompanyToken, "respondToResolution", map[string]any{"resolutionId": id, "message": "Merchant."})
	before := e.caseSnapshot(t, id)
	retry := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("First."))
	if !retry.Replayed || retry.Resolution.Version != first.Resolution.Version || retry.Resolution.Status != first.Resolution.Status ||
		retry.Resolution.UpdatedAt != first.Resolution.UpdatedAt || toJSON(retry.Event) != toJSON(first.Event) {
		t.Errorf("retry = %s, want the first result replayed %s", toJSON(retry), toJSON(first))
	}
	e.expectSnapshot(t, id, before)

	// Same key, different request: refused, nothing changes.
	wantUserError(t, e.act(t, e.cast.CustomerToken, "respondToResolution", in("Different.")), "CONFLICT", "idempotencyKey")
	wantUserError(t, e.act(t, e.cast.CustomerToken, "withdrawResolution",
		map[string]any{"resolutionId": id, "idempotencyKey": "k-1"}), "CONFLICT", "idempotencyKey")
	e.expectSnapshot(t, id, before)

	// Same key from another principal: its own, independent request.
	other := e.mustAct(t, e.cast.TeamMemberToken, "respondToResolution", in("First."))
	if other.Replayed || other.Resolution.Version != before.Case.Version+1 || other.Event.ReporterType != "MERCHANT" {
		t.Errorf("another principal's request with the same key = %s", toJSON(other))
	}
}

// idempotencyAcrossTokens (issue 11, item 8): the same principal retrying through
// another of its tokens (a user's second device, a company's second key, another
// platform token or PLATFORM_TOKEN) gets the first result and changes nothing. Before,
// keys were bound to the token and the second device applied the action again.
func idempotencyAcrossTokens(t *testing.T, e *caseEnv) {
	d := e.d
	for _, tc := range []struct {
		name          string
		first, second string
		op            string
		input         func(id string) map[string]any
	}{
		{"a user's second device", e.cast.CustomerToken, dbtest.MustToken(t, d, db.TokenUser, e.cast.Customer.ID, true), "respondToResolution",
			func(id string) map[string]any { return map[string]any{"resolutionId": id, "message": "From my phone."} }},
		{"a company's second key", e.cast.CompanyToken, dbtest.MustToken(t, d, db.TokenCompany, e.cast.Company.ID, true), "respondToResolution",
			func(id string) map[string]any {
				return map[string]any{"resolutionId": id, "message": "From the backend."}
			}},
		{"a platform token, then PLATFORM_TOKEN", e.cast.PlatformToken, apptest.PlatformToken, "requestMerchantInfo",
			func(id string) map[string]any { return map[string]any{"resolutionId": id, "message": "Proof?"} }},
	} {
		id := openedCase(t, e)
		in := tc.input(id)
		in["idempotencyKey"] = "across-" + tc.name
		first := e.mustAct(t, tc.first, tc.op, in)
		before := e.caseSnapshot(t, id)
		again := e.mustAct(t, tc.second, tc.op, in)
		if first.Replayed || !again.Replayed || toJSON(again.Event) != toJSON(first.Event) {
			t.Errorf("%s: the retry through another token = %s, want the first result replayed %s", tc.name, toJSON(again), toJSON(first))
		}
		e.expectSnapshot(t, id, before)
	}
	// Another principal's same key is its own request.
	id := openedCase(t, e)
	e.mustAct(t, e.cast.CustomerToken, "respondToResolution", map[string]any{"resolutionId": id, "message": "Hi.", "idempotencyKey": "across-other"})
	other := e.mustAct(t, e.cast.TeamMemberToken, "respondToResolution", map[string]any{"resolutionId": id, "message": "Hi.", "idempotencyKey": "across-other"})
	if other.Replayed {
		t.Errorf("another principal's request with the same key was replayed")
	}
}

func idempotencyRefusalDoesNotBurnKey(t *testing.T, e *caseEnv) {
	id := openedCase(t, e)
	appeal := map[string]any{"resolutionId": id, "message": "I appeal.", "idempotencyKey": "appeal-1"}
	wantUserError(t, e.act(t, e.cast.CustomerToken, "appealResolution", appeal), "ACTION_NOT_ALLOWED", "")
	e.mustAct(t, e.cast.CompanyToken, "denyResolution", map[string]any{"resolutionId": id, "message": "No."})
	p := e.mustAct(t, e.cast.CustomerToken, "appealResolution", appeal)
	if p.Replayed || p.Resolution.Status != "UNDER_PLATFORM_REVIEW" {
		t.Fatalf("appeal after the refused first attempt = %s", toJSON(p))
	}
	again := e.mustAct(t, e.cast.CustomerToken, "appealResolution", appeal)
	if !again.Replayed || again.Event.ID != p.Event.ID {
		t.Fatalf("retry of the appeal = %s", toJSON(again))
	}

	// An invalid first attempt does not burn it either.
	msg := map[string]any{"resolutionId": id, "message": "", "idempotencyKey": "msg-1"}
	wantUserError(t, e.act(t, e.cast.CustomerToken, "respondToResolution", msg), "INVALID_ARGUMENT", "message")
	msg["message"] = "Now with text."
	if p := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", msg); p.Replayed {
		t.Fatalf("respond after an invalid first attempt was a replay")
	}
}

func idempotencyKeyLength(t *testing.T, e *caseEnv) {
	d := e.d
	id := openedCase(t, e)
	respond := func(key string) mutResult {
		return e.act(t, e.cast.CustomerToken, "respondToResolution", map[string]any{"resolutionId": id, "message": "Hi.", "idempotencyKey": key})
	}
	before := e.caseSnapshot(t, id)
	for _, key := range []string{strings.Repeat("k", 256), "", "nul\x00key"} {
		wantUserError(t, respond(key), "INVALID_ARGUMENT", "idempotencyKey")
	}
	r := e.act(t, e.cast.CustomerToken, "openResolution", map[string]any{"paymentId": e.cast.MustPayment(t, d).ID,
		"issue": "FORGOT_TO_CANCEL", "message": "Hi.", "idempotencyKey": strings.Repeat("k", 256)})
	wantUserError(t, r, "INVALID_ARGUMENT", "idempotencyKey")
	e.expectSnapshot(t, id, before)

	if r := respond(strings.Repeat("k", 255)); len(r.Errors) > 0 || len(r.P.UserErrors) > 0 {
		t.Errorf("255-character key refused: %+v %+v", r.Errors, r.P.UserErrors)
	}
	// The schema says characters: 255 two-byte characters are a valid key.
	if r := respond(strings.Repeat("é", 255)); len(r.Errors) > 0 || len(r.P.UserErrors) > 0 {
		t.Errorf("255-character key of two-byte characters refused: %+v %s", r.Errors, toJSON(r.P.UserErrors))
	}
}

// idempotencyReplayNeedsAccess: a team member removed from the company since their
// first request gets NOT_FOUND for its retry, as for any request about the case, not
// the stored result. Before, the key's record answered before the scope was checked.
func idempotencyReplayNeedsAccess(t *testing.T, e *caseEnv) {
	d := e.d
	member := dbtest.MustUser(t, d)
	dbtest.MustTeamMember(t, d, e.cast.Company, member)
	token := dbtest.MustToken(t, d, db.TokenUser, member.ID, true)
	id := openedCase(t, e)
	in := map[string]any{"resolutionId": id, "message": "We will look into it.", "idempotencyKey": "leaver-1"}
	first := e.mustAct(t, token, "respondToResolution", in)
	if first.Event == nil || first.Event.ReporterType != "MERCHANT" {
		t.Fatalf("the team member's first request = %s", toJSON(first))
	}
	if again := e.mustAct(t, token, "respondToResolution", in); !again.Replayed {
		t.Fatalf("a retry while still on the team = %s, want replayed", toJSON(again))
	}

	del := "DELETE FROM team_members WHERE company_id = ? AND user_id = ?"
	if d.Engine == db.Postgres {
		del = "DELETE FROM team_members WHERE company_id = $1 AND user_id = $2"
	}
	if _, err := d.SQL().Exec(del, e.cast.Company.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	before := e.caseSnapshot(t, id)
	wantTopError(t, e.act(t, token, "respondToResolution", in), "NOT_FOUND")
	e.expectSnapshot(t, id, before)
}

// idempotencyKeyExpires: results are kept 24 hours (README, DOMAIN.md), and a request
// after them is a new request, whether or not the sweeper has deleted the record yet
// (it runs every SWEEP_INTERVAL, or on another replica; the test server does not
// sweep). Before, a record past its 24 hours answered until the sweeper came: a retry
// was replayed, and the key with another input was refused with CONFLICT.
//
// It has a server of its own: it moves the server's clock by days, which would expire
// the keys of the suites that share one.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		idempotencyKeyExpires(t, newCaseEnv(t, d))
	})
}

func idempotencyKeyExpires(t *testing.T, e *caseEnv) {
	id := openedCase(t, e)
	in := func(msg string) map[string]any {
		return map[string]any{"resolutionId": id, "message": msg, "idempotencyKey": "daily-1"}
	}
	first := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("Monday."))
	e.clock.Advance(23 * time.Hour)
	if again := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("Monday.")); !again.Replayed || again.Event.ID != first.Event.ID {
		t.Fatalf("a retry within 24 hours = %s, want the first result replayed", toJSON(again))
	}
	wantUserError(t, e.act(t, e.cast.CustomerToken, "respondToResolution", in("Other.")), "CONFLICT", "idempotencyKey")

	e.clock.Advance(2 * time.Hour)
	before := e.caseSnapshot(t, id)
	next := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("Tuesday."))
	if next.Replayed || next.Event == nil || next.Event.ID == first.Event.ID || next.Resolution.Version != before.Case.Version+1 {
		t.Fatalf("the key with another input after 24 hours = %s, want a new request applied", toJSON(next))
	}
	// The key now holds the new result, for its own 24 hours.
	if again := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("Tuesday.")); !again.Replayed || again.Event.ID != next.Event.ID {
		t.Fatalf("a retry of the new request = %s, want it replayed", toJSON(again))
	}
	wantUserError(t, e.act(t, e.cast.CustomerToken, "respondToResolution", in("Monday.")), "CONFLICT", "idempotencyKey")

	// The same input after 24 hours is a new request too (here applied again).
	e.clock.Advance(25 * time.Hour)
	if third := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("Tuesday.")); third.Replayed || third.Event.ID == next.Event.ID {
		t.Fatalf("the same request after 24 hours = %s, want it applied anew", toJSON(third))
	}

	// A refused request after 24 hours stores nothing: the expired record is not
	// replaced, and the key is free for the next request.
	e.clock.Advance(25 * time.Hour)
	appeal := map[string]any{"resolutionId": id, "message": "I appeal.", "idempotencyKey": "daily-1"}
	wantUserError(t, e.act(t, e.cast.CustomerToken, "appealResolution", appeal), "ACTION_NOT_ALLOWED", "")
	if p := e.mustAct(t, e.cast.CustomerToken, "respondToResolution", in("Thursday.")); p.Replayed {
		t.Fatalf("a request after a refused one on an expired key = %s, want it applied", toJSON(p))
	}

	// Concurrent retries of an expired key: one claims it and applies, the others get
	// its result, as with a new key.
	e.clock.Advance(25 * time.Hour)
	before = e.caseSnapshot(t, id)
	res, errs := atOnce(e, e.cast.CustomerToken, "respondToResolution", in("Friday."), 10)
	fresh := 0
	for i, r := range res {
		if errs[i] != nil || len(r.Errors) > 0 || len(r.P.UserErrors) > 0 || r.P.Event == nil {
			t.Fatalf("concurrent retry %d of an expired key: %v %+v %s", i, errs[i], r.Errors, toJSON(r.P.UserErrors))
		}
		if !r.P.Replayed {
			fresh++
		}
		if r.P.Event.ID != res[0].P.Event.ID {
			t.Errorf("concurrent retries of an expired key answered different events %s and %s", r.P.Event.ID, res[0].P.Event.ID)
		}
	}
	if c := dbtest.MustGetCase(t, e.d, id); fresh != 1 || c.Version != before.Case.Version+1 {
		t.Errorf("concurrent retries of an expired key: %d applied, version %d -> %d; want one", fresh, before.Case.Version, c.Version)
	}
}

// atOnce sends n copies of the mutation op with input as token, all released at once,
// and returns their results in order.
func atOnce(e *caseEnv, token, op string, input map[string]any, n int) ([]mutResult, []error) {
	res := make([]mutResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[i], errs[i] = postGQL(e.s, token, mutationDoc(op), map[string]any{"input": input})
		}()
	}
	close(start)
	wg.Wait()
	return res, errs
}
