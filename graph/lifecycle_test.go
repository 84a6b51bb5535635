package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"resolutioncenter/app/apptest"
	"resolutioncenter/db"
	"resolutioncenter/db/dbtest"
	"resolutioncenter/deadline"
	"resolutioncenter/dispute"
)

// The lifecycle tests walk realistic cases from opening to their final state through
// GraphQL over HTTP, checking after every step the status, the deadline, the version,
// the appended event and what each role is offered next. The deadline paths run the
// real Sweeper with an injected clock.

func TestLifecycles(t *testing.T) {
	runSuites(t,
		suite{"accept with membership cancel", lifecycleAcceptWithMembershipCancel},
		suite{"deny, appeal, decide", lifecycleDenyAppealDecide},
		suite{"info requests and visibility", lifecycleInfoRequestsAndVisibility},
		suite{"withdraw", lifecycleWithdraw},
		suite{"merchant appeals platform refund", lifecycleMerchantAppealsPlatformRefund},
		suite{"customer withdraws after refund", lifecycleWithdrawAfterRefund},
		suite{"info request limit", lifecycleInfoRequestLimit},
		suite{"chargeback events", lifecycleChargebackEvents},
		suite{"deadlines", lifecycleDeadlines},
	)
}

func lifecycleAcceptWithMembershipCancel(t *testing.T, e *caseEnv) {
	d := e.d
	pay := e.cast.MustPayment(t, d)
	id := e.open(t, pay.ID)

	// A customer's extra message while the merchant must answer: no status change,
	// and the merchant's deadline does not move.
	first := e.platformCase(t, id)
	e.step(t, id, e.cast.CustomerToken, "respondToResolution", map[string]any{"message": "Tracking says lost."}, stepWant{
		status: "MERCHANT_RESPONSE_NEEDED", event: evWant("RESPONDED", "CUSTOMER", true, true),
		keepDue: true, roles: actionsMRN,
	})
	if got := e.platformCase(t, id).DueDate; !sameStrPtr(got, first.DueDate) {
		t.Fatalf("customer's message moved the deadline: %v -> %v", strOf(first.DueDate), strOf(got))
	}
	e.step(t, id, e.cast.CompanyToken, "respondToResolution", map[string]any{"message": "We shipped on the 3rd."}, stepWant{
		status: "CUSTOMER_RESPONSE_NEEDED", event: evWant("RESPONDED", "MERCHANT", true, true), due: true, roles: actionsCRN,
	})
	e.step(t, id, e.cast.CustomerToken, "respondToResolution", map[string]any{"message": "Still nothing."}, stepWant{
		status: "MERCHANT_RESPONSE_NEEDED", event: evWant("RESPONDED", "CUSTOMER", true, true), due: true, roles: actionsMRN,
	})
	// The team member acts as the merchant, and also cancels the membership.
	p := e.step(t, id, e.cast.TeamMemberToken, "acceptResolution",
		map[string]any{"message": "Sorry, refunded.", "terminateMembership": true}, stepWant{
			status: "CUSTOMER_WON", event: evWant("ACCEPTED", "MERCHANT", true, true),
			outcome: "CUSTOMER_WON", refund: "MERCHANT", roles: roleActions{}, // a merchant cannot appeal its own accept
		})
	at := p.Resolution.UpdatedAt
	if p.Resolution.Payment.Status != "REFUNDED" || p.Resolution.Payment.RefundedAmount != p.Resolution.Payment.Total ||
		p.Resolution.Payment.RefundedAmount.MinorUnits != 1999 || p.Resolution.Payment.RefundedAmount.Amount != "19.99" ||
		!sameStrPtr(p.Resolution.Payment.RefundedAt, &at) {
		t.Fatalf("payment after accept = %+v, want REFUNDED 19.99 at %s", p.Resolution.Payment, at)
	}
	if m := p.Resolution.Member; m == nil || m.Status != "CANCELED" || !sameStrPtr(m.CanceledAt, &at) {
		t.Fatalf("membership after accept with terminateMembership = %+v, want CANCELED at %s", m, at)
	}
	stored := dbtest.MustGetPayment(t, d, pay.ID)
	if !stored.Refunded || stored.RefundedAmount != stored.Total {
		t.Fatalf("stored payment = %+v", stored)
	}
}

func lifecycleDenyAppealDecide(t *testing.T, e *caseEnv) {
	d := e.d
	id := e.open(t, e.cast.MustPayment(t, d).ID)
	e.step(t, id, e.cast.CompanyToken, "denyResolution", map[string]any{"message": "Delivered, signed for."}, stepWant{
		status: "MERCHANT_WON", event: evWant("DENIED", "MERCHANT", true, true), outcome: "MERCHANT_WON", refund: "NONE",
		roles: roleActions{customer: []string{"APPEAL"}},
	})
	e.step(t, id, e.cast.CustomerToken, "appealResolution", map[string]any{"message": "The signature is not mine."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("APPEALED", "CUSTOMER", true, true), customerAppealed: true, roles: actionsUPR,
	})
	e.step(t, id, e.cast.CustomerToken, "respondToResolution", map[string]any{"message": "Photo of my door attached."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("RESPONDED", "CUSTOMER", true, true), customerAppealed: true, roles: actionsUPR,
	})
	e.step(t, id, e.cast.TeamMemberToken, "respondToResolution", map[string]any{"message": "Carrier proof attached."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("RESPONDED", "MERCHANT", true, true), customerAppealed: true, roles: actionsUPR,
	})
	p := e.step(t, id, e.cast.PlatformToken, "decideMerchantWins", map[string]any{"message": "Proof of delivery holds."}, stepWant{
		status: "MERCHANT_WON", event: evWant("DENIED", "PLATFORM", true, true), customerAppealed: true,
		outcome: "MERCHANT_WON", refund: "NONE", roles: roleActions{}, // final: no second appeal
	})
	if p.Resolution.Payment.Status != "PAID" || p.Resolution.Payment.RefundedAmount.MinorUnits != 0 {
		t.Fatalf("payment after merchant win = %+v", p.Resolution.Payment)
	}
	r := e.act(t, e.cast.CustomerToken, "appealResolution", map[string]any{"resolutionId": id, "message": "Again!"})
	wantUserError(t, r, "ACTION_NOT_ALLOWED", "")
}

func lifecycleInfoRequestsAndVisibility(t *testing.T, e *caseEnv) {
	d := e.d
	id := e.open(t, e.cast.MustPayment(t, d).ID)
	e.step(t, id, e.cast.CompanyToken, "requestMoreInfo", map[string]any{"message": "Which address?"}, stepWant{
		status: "CUSTOMER_RESPONSE_NEEDED", event: evWant("REQUESTED_MORE_INFO", "MERCHANT", true, true), due: true, roles: actionsCRN,
	})
	e.step(t, id, e.cast.CustomerToken, "respondToResolution", map[string]any{"message": "12 Main St."}, stepWant{
		status: "MERCHANT_RESPONSE_NEEDED", event: evWant("RESPONDED", "CUSTOMER", true, true), due: true, roles: actionsMRN,
	})
	e.step(t, id, e.cast.PlatformToken, "requestMerchantInfo", map[string]any{"message": "MERCHANT-ONLY: carrier invoice?"}, stepWant{
		status: "MERCHANT_INFO_NEEDED", event: evWant("REQUESTED_MORE_INFO", "PLATFORM", false, true), due: true, roles: actionsMIN,
	})
	e.step(t, id, e.cast.TeamMemberToken, "respondToResolution", map[string]any{"message": "MERCHANT-ONLY: invoice #42."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("RESPONDED", "MERCHANT", false, true), roles: actionsUPR,
	})
	e.step(t, id, e.cast.PlatformToken, "requestBuyerInfo", map[string]any{"message": "BUYER-ONLY: bank statement?"}, stepWant{
		status: "CUSTOMER_INFO_NEEDED", event: evWant("REQUESTED_MORE_INFO", "PLATFORM", true, false), due: true, roles: actionsCIN,
	})
	e.step(t, id, e.cast.CustomerToken, "respondToResolution", map[string]any{"message": "BUYER-ONLY: statement."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("RESPONDED", "CUSTOMER", true, false), roles: actionsUPR,
	})
	e.step(t, id, e.cast.PlatformToken, "decideMerchantRefund", nil, stepWant{
		status: "CUSTOMER_WON", event: evWant("ACCEPTED", "PLATFORM", true, true), outcome: "CUSTOMER_WON", refund: "MERCHANT",
		roles: roleActions{merchant: []string{"APPEAL"}},
	})

	// Each side's timeline leaves out exactly the other side's exchange with the platform.
	all := e.platformCase(t, id).ResolutionEvents
	if len(all) != 8 {
		t.Fatalf("platform sees %d events, want 8", len(all))
	}
	for _, v := range []struct {
		name, token, hidden string
	}{
		{"customer", e.cast.CustomerToken, "MERCHANT-ONLY"},
		{"merchant key", e.cast.CompanyToken, "BUYER-ONLY"},
		{"team member", e.cast.TeamMemberToken, "BUYER-ONLY"},
	} {
		var want []gqlEvent
		for _, x := range all {
			if !strings.HasPrefix(strOf(x.Details), v.hidden) {
				want = append(want, x)
			}
		}
		got := e.caseAs(t, v.token, id)
		if !reflect.DeepEqual(got.ResolutionEvents, want) {
			t.Errorf("%s resolutionEvents:\n got %s\nwant %s", v.name, toJSON(got.ResolutionEvents), toJSON(want))
		}
		if !reflect.DeepEqual(reversedEvents(got.Events.Nodes), want) {
			t.Errorf("%s events connection:\n got %s\nwant %s", v.name, toJSON(got.Events.Nodes), toJSON(want))
		}
		if len(want) != 6 {
			t.Errorf("%s sees %d events, want 6", v.name, len(want))
		}
	}
}

func lifecycleWithdraw(t *testing.T, e *caseEnv) {
	d := e.d
	pay := e.cast.MustPayment(t, d)
	id := e.open(t, pay.ID)
	e.step(t, id, e.cast.CompanyToken, "respondToResolution", map[string]any{"message": "Can you check with a neighbour?"}, stepWant{
		status: "CUSTOMER_RESPONSE_NEEDED", event: evWant("RESPONDED", "MERCHANT", true, true), due: true, roles: actionsCRN,
	})
	p := e.step(t, id, e.cast.CustomerToken, "withdrawResolution", map[string]any{"message": "Found it, thanks."}, stepWant{
		status: "CUSTOMER_WITHDREW", event: evWant("WITHDREW", "CUSTOMER", true, true), outcome: "WITHDRAWN", refund: "NONE",
		roles: roleActions{},
	})
	if p.Resolution.Payment.Status != "PAID" || p.Resolution.Member.Status != "ACTIVE" {
		t.Fatalf("withdraw touched the payment or membership: %+v %+v", p.Resolution.Payment, p.Resolution.Member)
	}
}

// lifecycleDeadlines runs both deadline paths, one after the other, on a database of
// their own: the sweeper sees every case in its database.
func lifecycleDeadlines(t *testing.T, shared *caseEnv) {
	e := newCaseEnv(t, freshDB(t, shared.d.Engine))
	t.Run("merchant silent", func(t *testing.T) {
		id := e.open(t, e.cast.MustPayment(t, e.d).ID)
		due := mustParseTime(t, e.platformCase(t, id).DueDate)
		e.sweepAt(t, due.Add(-time.Millisecond), 0)
		e.expectUnchanged(t, id, 1)
		e.clock.Set(due.Add(time.Hour))
		e.sweepAt(t, due.Add(time.Hour), 1)
		e.checkState(t, id, 2, due.Add(time.Hour), stepWant{
			status: "UNDER_PLATFORM_REVIEW", event: evWant("ESCALATED", "SYSTEM", true, true), roles: actionsUPR,
		})
		e.sweepAt(t, due.Add(30*24*time.Hour), 0) // no deadline under review
		e.step(t, id, e.cast.PlatformToken, "decideMerchantRefund", map[string]any{"message": "No answer from merchant."}, stepWant{
			status: "CUSTOMER_WON", event: evWant("ACCEPTED", "PLATFORM", true, true), outcome: "CUSTOMER_WON", refund: "MERCHANT",
			roles: roleActions{merchant: []string{"APPEAL"}},
		})
	})
	t.Run("customer silent", func(t *testing.T) {
		id := e.open(t, e.cast.MustPayment(t, e.d).ID)
		e.step(t, id, e.cast.CompanyToken, "requestMoreInfo", map[string]any{"message": "Order number?"}, stepWant{
			status: "CUSTOMER_RESPONSE_NEEDED", event: evWant("REQUESTED_MORE_INFO", "MERCHANT", true, true), due: true, roles: actionsCRN,
		})
		due := mustParseTime(t, e.platformCase(t, id).DueDate)
		e.sweepAt(t, due.Add(-time.Millisecond), 0)
		e.expectUnchanged(t, id, 2)
		e.sweepAt(t, due, 1) // due at exactly the deadline
		e.checkState(t, id, 3, due, stepWant{
			status: "MERCHANT_WON", event: evWant("DENIED", "SYSTEM", true, true), outcome: "MERCHANT_WON", refund: "NONE",
			roles: roleActions{customer: []string{"APPEAL"}},
		})
		e.sweepAt(t, due.Add(30*24*time.Hour), 0)
	})
}

func lifecycleMerchantAppealsPlatformRefund(t *testing.T, e *caseEnv) {
	d := e.d
	pay := e.cast.MustPayment(t, d)
	id := e.open(t, pay.ID)
	p := e.step(t, id, e.cast.PlatformToken, "decideMerchantRefund", map[string]any{"message": "Unauthorized, refund."}, stepWant{
		status: "CUSTOMER_WON", event: evWant("ACCEPTED", "PLATFORM", true, true), outcome: "CUSTOMER_WON", refund: "MERCHANT",
		roles: roleActions{merchant: []string{"APPEAL"}},
	})
	refunded := p.Resolution.Payment
	if refunded.Status != "REFUNDED" || refunded.RefundedAmount != refunded.Total || refunded.RefundedAt == nil {
		t.Fatalf("payment after platform refund = %+v", refunded)
	}
	e.step(t, id, e.cast.CompanyToken, "appealResolution", map[string]any{"message": "The customer authorized it: 3DS log."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("APPEALED", "MERCHANT", true, true), merchantAppealed: true, roles: actionsUPR,
	})
	p = e.step(t, id, e.cast.PlatformToken, "decideMerchantWins", map[string]any{"message": "3DS log holds."}, stepWant{
		status: "MERCHANT_WON", event: evWant("DENIED", "PLATFORM", true, true), merchantAppealed: true,
		outcome: "MERCHANT_WON", refund: "PLATFORM", roles: roleActions{},
	})
	if !reflect.DeepEqual(p.Resolution.Payment, refunded) {
		t.Fatalf("payment changed after the merchant's win on appeal:\n got %+v\nwant %+v", p.Resolution.Payment, refunded)
	}
	stored := dbtest.MustGetPayment(t, d, pay.ID)
	if !stored.Refunded || stored.RefundedAmount != stored.Total {
		t.Fatalf("stored payment = %+v", stored)
	}
}

// A customer who was refunded by a platform decision, which the merchant then appealed,
// withdraws during the review. The money stays with the customer (a refund happens
// once and is never reversed), so the case must not say that nobody paid the customer
// back: like a merchant win on appeal, the platform covers the refund.
func lifecycleWithdrawAfterRefund(t *testing.T, e *caseEnv) {
	pay := e.cast.MustPayment(t, e.d)
	id := e.open(t, pay.ID)
	p := e.step(t, id, e.cast.PlatformToken, "decideMerchantRefund", nil, stepWant{
		status: "CUSTOMER_WON", event: evWant("ACCEPTED", "PLATFORM", true, true), outcome: "CUSTOMER_WON", refund: "MERCHANT",
		roles: roleActions{merchant: []string{"APPEAL"}},
	})
	refunded := p.Resolution.Payment
	e.step(t, id, e.cast.CompanyToken, "appealResolution", map[string]any{"message": "We have proof of delivery."}, stepWant{
		status: "UNDER_PLATFORM_REVIEW", event: evWant("APPEALED", "MERCHANT", true, true), merchantAppealed: true, roles: actionsUPR,
	})
	p = e.step(t, id, e.cast.CustomerToken, "withdrawResolution", map[string]any{"message": "Fine, it arrived."}, stepWant{
		status: "CUSTOMER_WITHDREW", event: evWant("WITHDREW", "CUSTOMER", true, true), merchantAppealed: true,
		outcome: "WITHDRAWN", refund: "PLATFORM", roles: roleActions{},
	})
	if !reflect.DeepEqual(p.Resolution.Payment, refunded) || p.Resolution.Payment.Status != "REFUNDED" {
		t.Fatalf("payment after the withdrawal = %+v, want it refunded once as before (%+v)", p.Resolution.Payment, refunded)
	}
}

func lifecycleInfoRequestLimit(t *testing.T, e *caseEnv) {
	d := e.d
	id := e.open(t, e.cast.MustPayment(t, d).ID)
	for i := 1; i <= 3; i++ {
		e.step(t, id, e.cast.CompanyToken, "requestMoreInfo", map[string]any{"message": fmt.Sprintf("Question %d?", i)}, stepWant{
			status: "CUSTOMER_RESPONSE_NEEDED", event: evWant("REQUESTED_MORE_INFO", "MERCHANT", true, true), due: true, roles: actionsCRN,
		})
		want := actionsMRN
		if i == 3 {
			want.merchant = []string{"ACCEPT", "DENY", "RESPOND"} // requests used up
		}
		e.step(t, id, e.cast.CustomerToken, "respondToResolution", map[string]any{"message": fmt.Sprintf("Answer %d.", i)}, stepWant{
			status: "MERCHANT_RESPONSE_NEEDED", event: evWant("RESPONDED", "CUSTOMER", true, true), due: true, roles: want,
		})
	}
	before := e.caseSnapshot(t, id)
	r := e.act(t, e.cast.CompanyToken, "requestMoreInfo", map[string]any{"resolutionId": id, "message": "Question 4?"})
	ue := wantUserError(t, r, "LIMIT_REACHED", "")
	if !strings.Contains(ue.Message, "ACCEPT, DENY, RESPOND") {
		t.Errorf("LIMIT_REACHED message %q does not name the actions allowed now", ue.Message)
	}
	e.expectSnapshot(t, id, before)
}

func lifecycleChargebackEvents(t *testing.T, e *caseEnv) {
	d := e.d
	id := e.open(t, e.cast.MustPayment(t, d).ID)
	e.step(t, id, e.cast.PlatformToken, "recordChargebackEvent", map[string]any{"action": "DISPUTE_OPENED", "details": "Visa 10.4"}, stepWant{
		status: "MERCHANT_RESPONSE_NEEDED", event: evWant("DISPUTE_OPENED", "PLATFORM", true, true), keepDue: true, roles: actionsMRN,
	})
	e.step(t, id, e.cast.CompanyToken, "acceptResolution", nil, stepWant{
		status: "CUSTOMER_WON", event: evWant("ACCEPTED", "MERCHANT", true, true), outcome: "CUSTOMER_WON", refund: "MERCHANT", roles: roleActions{},
	})
	// The card network's clock is not the case's: events land on closed cases too.
	p := e.step(t, id, e.cast.PlatformToken, "recordChargebackEvent", map[string]any{"action": "DISPUTE_CUSTOMER_WON"}, stepWant{
		status: "CUSTOMER_WON", event: evWant("DISPUTE_CUSTOMER_WON", "PLATFORM", true, true),
		outcome: "CUSTOMER_WON", refund: "MERCHANT", roles: roleActions{},
	})
	if p.Resolution.Payment.RefundedAmount != p.Resolution.Payment.Total {
		t.Fatalf("payment = %+v", p.Resolution.Payment)
	}
}

// ---- what each role is offered in each status (the lifecycle table, written out) ----

// roleActions are the viewerActions of the customer, the merchant and the platform.
type roleActions struct{ customer, merchant, platform []string }

var (
	allPlatform = []string{"REQUEST_BUYER_INFO", "REQUEST_MERCHANT_INFO", "MERCHANT_WINS", "MERCHANT_REFUND"}
	actionsMRN  = roleActions{[]string{"RESPOND", "WITHDRAW"}, []string{"ACCEPT", "DENY", "REQUEST_MORE_INFO", "RESPOND"}, allPlatform}
	actionsCRN  = roleActions{[]string{"RESPOND", "WITHDRAW"}, []string{"ACCEPT", "DENY", "RESPOND"}, allPlatform}
	actionsMIN  = roleActions{[]string{"WITHDRAW"}, []string{"ACCEPT", "RESPOND"}, allPlatform}
	actionsCIN  = roleActions{[]string{"RESPOND", "WITHDRAW"}, []string{"ACCEPT"}, allPlatform}
	actionsUPR  = roleActions{[]string{"RESPOND", "WITHDRAW"}, []string{"ACCEPT", "RESPOND"}, allPlatform}
)

// eventWant is what the appended event must say.
type eventWant struct {
	action, reporter   string
	customer, merchant bool // visibility
}

func evWant(action, reporter string, customer, merchant bool) eventWant {
	return eventWant{action, reporter, customer, merchant}
}

// stepWant is the case after one step.
type stepWant struct {
	status  string
	event   eventWant
	due     bool // dueDate = the step's time + 7 days
	keepDue bool // dueDate unchanged by the step
	// customerAppealed and merchantAppealed, outcome and refund ("" = null).
	customerAppealed, merchantAppealed bool
	outcome, refund                    string
	roles                              roleActions
}

// ---- the test environment ----

// suite is one group of checks on a running server.
type suite struct {
	name string
	run  func(t *testing.T, e *caseEnv)
}

// runSuites runs the suites in parallel on each engine, against one database and one
// server per engine: creating a PostgreSQL database is the slow part, and graphtest
// wires a database to one server's hub. The suites share the server's clock, which
// only moves forward, so they take each action's time from its result.
func runSuites(t *testing.T, suites ...suite) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCaseEnv(t, d)
		for _, s := range suites {
			t.Run(s.name, func(t *testing.T) {
				t.Parallel()
				s.run(t, e)
			})
		}
	})
}

// caseEnv is one API server on a database with a cast, and the server's clock.
type caseEnv struct {
	s     *apptest.Server
	d     *db.DB
	cast  *dbtest.Cast
	clock *testClock
}

var lifecycleStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newCaseEnv(tb testing.TB, d *db.DB) *caseEnv {
	tb.Helper()
	c := &testClock{t: lifecycleStart}
	// No mutation rate limit: the suites run storms of one company's and one customer's
	// mutations across cases (write_limits_test.go tests the limit); on a busy machine
	// the default 5/s with a burst of 50 answered some of them RATE_LIMITED.
	env := map[string]string{"MUTATION_RATE_LIMIT": "0"}
	return &caseEnv{s: apptest.New(tb, d, apptest.Options{Now: c.Now, Env: env}), d: d, cast: dbtest.MustCast(tb, d), clock: c}
}

// freshDB returns a new empty database of the engine.
func freshDB(tb testing.TB, engine db.Engine) *db.DB {
	tb.Helper()
	if engine == db.Postgres {
		return dbtest.MustPostgres(tb)
	}
	return dbtest.MustSQLite(tb)
}

// testClock is the server's clock: it ticks a second every time it is read, so every
// action gets its own instant, and tests can move it on or set it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// Peek returns the time without moving the clock.
func (c *testClock) Peek() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on and returns the new time.
func (c *testClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// open opens a case on pay as the customer and checks its first state.
func (e *caseEnv) open(t *testing.T, paymentID string) string {
	t.Helper()
	lo := e.clock.Advance(time.Minute)
	p := e.mustAct(t, e.cast.CustomerToken, "openResolution",
		map[string]any{"paymentId": paymentID, "issue": "ITEM_NOT_RECEIVED", "message": "It never arrived."})
	r := p.Resolution
	at := e.actionTime(t, lo, r.UpdatedAt)
	if r.Status != "MERCHANT_RESPONSE_NEEDED" || r.Version != 1 || r.CreatedAt != isoMillis(at) || r.UpdatedAt != isoMillis(at) ||
		!sameStrPtr(r.DueDate, newPtr(isoMillis(at.Add(7*24*time.Hour)))) || r.Outcome != nil || r.Refund != nil {
		t.Fatalf("opened case = %s", toJSON(r))
	}
	if p.Event.Action != "CREATED" || p.Event.ReporterType != "CUSTOMER" || p.Event.Position != 1 ||
		p.Event.FromStatus != "MERCHANT_RESPONSE_NEEDED" || p.Event.ToStatus != "MERCHANT_RESPONSE_NEEDED" {
		t.Fatalf("created event = %s", toJSON(p.Event))
	}
	e.checkRoles(t, r.ID, actionsMRN)
	return r.ID
}

// step runs a mutation that must succeed and checks the case after it. input gets
// resolutionId added.
func (e *caseEnv) step(t *testing.T, id, token, op string, input map[string]any, w stepWant) mutPayload {
	t.Helper()
	before := e.platformCase(t, id)
	lo := e.clock.Advance(time.Minute)
	in := map[string]any{"resolutionId": id}
	for k, v := range input {
		in[k] = v
	}
	p := e.mustAct(t, token, op, in)
	e.checkPayload(t, before, p, e.actionTime(t, lo, p.Resolution.UpdatedAt), w)
	e.checkRoles(t, id, w.roles)
	return p
}

// actionTime returns the time an action says it happened at, checking that the server
// took it from its clock while the request ran: after lo and not after now.
func (e *caseEnv) actionTime(t *testing.T, lo time.Time, updatedAt string) time.Time {
	t.Helper()
	at := mustParseTime(t, &updatedAt)
	if !at.After(lo) || at.After(e.clock.Peek()) {
		t.Fatalf("the action happened at %s, not while it ran (%s to %s)", updatedAt, isoMillis(lo), isoMillis(e.clock.Peek()))
	}
	return at
}

// checkState checks a change made outside GraphQL (the sweeper): the case must now be
// at version with the last event made at `at`.
func (e *caseEnv) checkState(t *testing.T, id string, version int, at time.Time, w stepWant) {
	t.Helper()
	now := e.platformCase(t, id)
	evs := now.ResolutionEvents
	if now.Version != version || len(evs) != version {
		t.Fatalf("case at version %d with %d events, want %d", now.Version, len(evs), version)
	}
	last := evs[len(evs)-1]
	before := *now
	before.Version--
	before.Status = last.FromStatus
	before.ResolutionEvents = evs[:len(evs)-1]
	e.checkPayload(t, &before, mutPayload{Resolution: now, Event: &last}, at, w)
	e.checkRoles(t, id, w.roles)
}

func (e *caseEnv) checkPayload(t *testing.T, before *gqlCase, p mutPayload, at time.Time, w stepWant) {
	t.Helper()
	r := p.Resolution
	if r.Status != w.status {
		t.Fatalf("status = %s, want %s", r.Status, w.status)
	}
	if r.Version != before.Version+1 {
		t.Errorf("version = %d, want %d", r.Version, before.Version+1)
	}
	if r.UpdatedAt != isoMillis(at) {
		t.Errorf("updatedAt = %s, want %s", r.UpdatedAt, isoMillis(at))
	}
	switch {
	case w.keepDue:
		if !sameStrPtr(r.DueDate, before.DueDate) {
			t.Errorf("dueDate = %v, want unchanged %v", strOf(r.DueDate), strOf(before.DueDate))
		}
	case w.due:
		if want := isoMillis(at.Add(7 * 24 * time.Hour)); !sameStrPtr(r.DueDate, &want) {
			t.Errorf("dueDate = %v, want %s", strOf(r.DueDate), want)
		}
	default:
		if r.DueDate != nil {
			t.Errorf("dueDate = %s, want null", *r.DueDate)
		}
	}
	if r.CustomerAppealed != w.customerAppealed || r.MerchantAppealed != w.merchantAppealed {
		t.Errorf("appealed customer=%v merchant=%v, want %v %v", r.CustomerAppealed, r.MerchantAppealed, w.customerAppealed, w.merchantAppealed)
	}
	if strOf(r.Outcome) != w.outcome || strOf(r.Refund) != w.refund {
		t.Errorf("outcome=%q refund=%q, want %q %q", strOf(r.Outcome), strOf(r.Refund), w.outcome, w.refund)
	}
	x := p.Event
	if x == nil {
		t.Fatalf("no event in payload")
	}
	got := eventWant{x.Action, x.ReporterType, x.ViewableByCustomer, x.ViewableByMerchant}
	if got != w.event || x.FromStatus != before.Status || x.ToStatus != w.status || x.CreatedAt != isoMillis(at) ||
		x.Position != len(before.ResolutionEvents)+1 {
		t.Errorf("event = %s, want %+v from %s to %s at %s position %d", toJSON(x), w.event, before.Status, w.status,
			isoMillis(at), len(before.ResolutionEvents)+1)
	}
	now := e.platformCase(t, r.ID)
	if n := len(now.ResolutionEvents); n != len(before.ResolutionEvents)+1 || !reflect.DeepEqual(now.ResolutionEvents[n-1], *x) {
		t.Errorf("timeline does not end with the event: %s", toJSON(now.ResolutionEvents))
	}
	if !reflect.DeepEqual(now.ResolutionEvents[:len(before.ResolutionEvents)], before.ResolutionEvents) {
		t.Errorf("earlier events changed")
	}
}

// checkRoles checks viewerActions for every role (two merchant principals) and that
// the per-side lists agree with them.
func (e *caseEnv) checkRoles(t *testing.T, id string, w roleActions) {
	t.Helper()
	for _, v := range []struct {
		name, token string
		want        []string
	}{
		{"customer", e.cast.CustomerToken, w.customer},
		{"merchant key", e.cast.CompanyToken, w.merchant},
		{"team member", e.cast.TeamMemberToken, w.merchant},
		{"platform", e.cast.PlatformToken, w.platform},
	} {
		var out struct {
			R *gqlCase `json:"resolution"`
		}
		e.s.MustData(t, v.token, `query($id: ID!) { resolution(id: $id) {
			status viewerActions customerResponseActions merchantResponseActions platformResponseActions } }`,
			map[string]any{"id": id}, &out)
		r := out.R
		if !slices.Equal(r.ViewerActions, v.want) {
			t.Errorf("%s viewerActions in %s = %v, want %v", v.name, r.Status, r.ViewerActions, v.want)
		}
		if !slices.Equal(r.CustomerResponseActions, w.customer) || !slices.Equal(r.MerchantResponseActions, w.merchant) ||
			!slices.Equal(r.PlatformResponseActions, w.platform) {
			t.Errorf("%s sees lists customer=%v merchant=%v platform=%v, want %+v", v.name,
				r.CustomerResponseActions, r.MerchantResponseActions, r.PlatformResponseActions, w)
		}
	}
}

func (e *caseEnv) sweepAt(t *testing.T, now time.Time, want int) {
	t.Helper()
	s := deadline.Sweeper{DB: e.d, Policy: dispute.DefaultPolicy(), Now: func() time.Time { return now }}
	n, err := s.Sweep(context.Background())
	if err != nil || n != want {
		t.Fatalf("sweep at %s = %d, %v; want %d", isoMillis(now), n, err, want)
	}
}

func (e *caseEnv) expectUnchanged(t *testing.T, id string, version int) {
	t.Helper()
	if c := dbtest.MustGetCase(t, e.d, id); c.Version != version {
		t.Fatalf("case at version %d, want %d", c.Version, version)
	}
}

// ---- GraphQL over HTTP ----

const eventFields = `id action reporterType details fromStatus toStatus viewableByCustomer viewableByMerchant createdAt position`

const caseFields = `id status issue createdAt updatedAt dueDate customerAppealed merchantAppealed
	customerResponseActions merchantResponseActions platformResponseActions viewerActions outcome refund version
	payment { id status total { amount currency minorUnits } refundedAmount { amount currency minorUnits } refundedAt }
	member { id status canceledAt }
	resolutionEvents { ` + eventFields + ` }`

type gqlMoney struct {
	Amount     string `json:"amount"`
	Currency   string `json:"currency"`
	MinorUnits int    `json:"minorUnits"`
}

type gqlEvent struct {
	ID                 string  `json:"id"`
	Action             string  `json:"action"`
	ReporterType       string  `json:"reporterType"`
	Details            *string `json:"details"`
	FromStatus         string  `json:"fromStatus"`
	ToStatus           string  `json:"toStatus"`
	ViewableByCustomer bool    `json:"viewableByCustomer"`
	ViewableByMerchant bool    `json:"viewableByMerchant"`
	CreatedAt          string  `json:"createdAt"`
	Position           int     `json:"position"`
}

type gqlCase struct {
	ID                      string   `json:"id"`
	Status                  string   `json:"status"`
	Issue                   string   `json:"issue"`
	CreatedAt               string   `json:"createdAt"`
	UpdatedAt               string   `json:"updatedAt"`
	DueDate                 *string  `json:"dueDate"`
	CustomerAppealed        bool     `json:"customerAppealed"`
	MerchantAppealed        bool     `json:"merchantAppealed"`
	CustomerResponseActions []string `json:"customerResponseActions"`
	MerchantResponseActions []string `json:"merchantResponseActions"`
	PlatformResponseActions []string `json:"platformResponseActions"`
	ViewerActions           []string `json:"viewerActions"`
	Outcome                 *string  `json:"outcome"`
	Refund                  *string  `json:"refund"`
	Version                 int      `json:"version"`
	Payment                 struct {
		ID             string   `json:"id"`
		Status         string   `json:"status"`
		Total          gqlMoney `json:"total"`
		RefundedAmount gqlMoney `json:"refundedAmount"`
		RefundedAt     *string  `json:"refundedAt"`
	} `json:"payment"`
	Member *struct {
		ID         string  `json:"id"`
		Status     string  `json:"status"`
		CanceledAt *string `json:"canceledAt"`
	} `json:"member"`
	ResolutionEvents []gqlEvent `json:"resolutionEvents"`
	Events           struct {
		Nodes []gqlEvent `json:"nodes"`
	} `json:"events"`
}

type gqlUserError struct {
	Code    string  `json:"code"`
	Field   *string `json:"field"`
	Message string  `json:"message"`
}

type mutPayload struct {
	Resolution *gqlCase       `json:"resolution"`
	Event      *gqlEvent      `json:"event"`
	UserErrors []gqlUserError `json:"userErrors"`
	Replayed   bool           `json:"replayed"`
}

// inputTypes are the input types of the case mutations.
var caseInputTypes = map[string]string{
	"openResolution":        "OpenResolutionInput",
	"withdrawResolution":    "WithdrawResolutionInput",
	"acceptResolution":      "AcceptResolutionInput",
	"denyResolution":        "DenyResolutionInput",
	"requestMoreInfo":       "ResolutionMessageInput",
	"respondToResolution":   "ResolutionMessageInput",
	"appealResolution":      "ResolutionMessageInput",
	"requestBuyerInfo":      "ResolutionMessageInput",
	"requestMerchantInfo":   "ResolutionMessageInput",
	"decideMerchantWins":    "DecideResolutionInput",
	"decideMerchantRefund":  "DecideResolutionInput",
	"recordChargebackEvent": "RecordChargebackEventInput",
}

func mutationDoc(op string) string { return mutationSelecting(op, caseFields) }

// mutationSelecting is a case mutation selecting fields of the resolution.
func mutationSelecting(op, fields string) string {
	typ, ok := caseInputTypes[op]
	if !ok {
		panic("unknown mutation " + op)
	}
	return fmt.Sprintf(`mutation($input: %s!) { r: %s(input: $input) { resolution { %s } event { %s } userErrors { code field message } replayed } }`,
		typ, op, fields, eventFields)
}

// result is a decoded response to a case mutation.
type mutResult struct {
	apptest.Response
	P mutPayload
}

// act runs a case mutation as token; it fails the test only on transport problems.
func (e *caseEnv) act(tb testing.TB, token, op string, input map[string]any) mutResult {
	tb.Helper()
	r, err := postGQL(e.s, token, mutationDoc(op), map[string]any{"input": input})
	if err != nil {
		tb.Fatalf("%s: %v", op, err)
	}
	return r
}

// mustAct runs a case mutation that must succeed.
func (e *caseEnv) mustAct(tb testing.TB, token, op string, input map[string]any) mutPayload {
	tb.Helper()
	r := e.act(tb, token, op, input)
	if len(r.Errors) > 0 || len(r.P.UserErrors) > 0 || r.P.Resolution == nil {
		tb.Fatalf("%s %v: errors %+v userErrors %+v", op, input, r.Errors, r.P.UserErrors)
	}
	return r.P
}

// caseAs reads a case as token, with its whole visible timeline.
func (e *caseEnv) caseAs(tb testing.TB, token, id string) *gqlCase {
	tb.Helper()
	var out struct {
		R *gqlCase `json:"resolution"`
	}
	e.s.MustData(tb, token, `query($id: ID!) { resolution(id: $id) { `+caseFields+` events(first: 100) { nodes { `+eventFields+` } } } }`,
		map[string]any{"id": id}, &out)
	if out.R == nil {
		tb.Fatalf("case %s not visible", id)
	}
	return out.R
}

func (e *caseEnv) platformCase(tb testing.TB, id string) *gqlCase {
	return e.caseAs(tb, e.cast.PlatformToken, id)
}

// snapshot is everything a refused call must leave alone: the case as the platform
// reads it over GraphQL, and the stored case, timeline, payment and membership.
type caseSnapshot struct {
	API        string
	Case       dispute.Case
	Events     []dispute.Event
	Payment    db.Payment
	Membership *db.Membership
}

func (e *caseEnv) caseSnapshot(tb testing.TB, id string) caseSnapshot {
	tb.Helper()
	c := dbtest.MustGetCase(tb, e.d, id)
	s := caseSnapshot{API: toJSON(e.platformCase(tb, id)), Case: c, Events: dbtest.MustEvents(tb, e.d, id),
		Payment: dbtest.MustGetPayment(tb, e.d, c.PaymentID)}
	if c.MemberID != "" {
		m := dbtest.MustGetMembership(tb, e.d, c.MemberID)
		s.Membership = &m
	}
	return s
}

func (e *caseEnv) expectSnapshot(tb testing.TB, id string, before caseSnapshot) {
	tb.Helper()
	if now := e.caseSnapshot(tb, id); !reflect.DeepEqual(now, before) {
		tb.Errorf("a refused call changed the case:\nbefore %+v\n after %+v", before, now)
	}
}

// wantUserError checks that the mutation was refused with one userError of code (and
// field, when not empty), and no top-level error.
func wantUserError(tb testing.TB, r mutResult, code, field string) gqlUserError {
	tb.Helper()
	if len(r.Errors) > 0 {
		tb.Fatalf("want userError %s, got top-level errors %+v", code, r.Errors)
	}
	if len(r.P.UserErrors) != 1 || r.P.UserErrors[0].Code != code || (field != "" && strOf(r.P.UserErrors[0].Field) != field) {
		tb.Fatalf("want userError %s (field %q), got %s", code, field, toJSON(r.P.UserErrors))
	}
	if r.P.Resolution != nil || r.P.Event != nil || r.P.Replayed {
		tb.Errorf("refused payload carries a result: %s", toJSON(r.P))
	}
	return r.P.UserErrors[0]
}

// wantTopError checks that the request failed with one top-level error of code.
func wantTopError(tb testing.TB, r mutResult, code string) apptest.Error {
	tb.Helper()
	if len(r.Errors) != 1 || r.Errors[0].Code() != code {
		tb.Fatalf("want top-level %s, got errors %+v data %s", code, r.Errors, r.Data)
	}
	return r.Errors[0]
}

var gqlClient = &http.Client{
	Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second},
	Timeout:   2 * time.Minute,
}

// post sends a GraphQL request; it is safe for concurrent use and never calls into tb,
// so goroutines can use it.
func postGQL(s *apptest.Server, token, query string, vars map[string]any) (mutResult, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return mutResult{}, err
	}
	req, err := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return mutResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := gqlClient.Do(req)
	if err != nil {
		return mutResult{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return mutResult{}, err
	}
	var r mutResult
	if err := json.Unmarshal(raw, &r.Response); err != nil {
		return mutResult{}, fmt.Errorf("decode %q: %w", raw, err)
	}
	r.Status = resp.StatusCode
	if len(r.Data) > 0 && string(r.Data) != "null" {
		var d struct {
			R *mutPayload `json:"r"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			return mutResult{}, fmt.Errorf("decode data %s: %w", r.Data, err)
		}
		if d.R != nil {
			r.P = *d.R
		}
	}
	return r, nil
}

// ---- small things ----

func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func newPtr[T any](v T) *T { return &v }

func strOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sameStrPtr(a, b *string) bool { return strOf(a) == strOf(b) && (a == nil) == (b == nil) }

func mustParseTime(tb testing.TB, s *string) time.Time {
	tb.Helper()
	if s == nil {
		tb.Fatalf("no time")
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		tb.Fatalf("parse %q: %v", *s, err)
	}
	return t
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func reversedEvents[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
