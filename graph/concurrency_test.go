package graph_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"resolutioncenter/db/dbtest"
	"resolutioncenter/dispute"
)

// Concurrent conflicting actions on one case must serialize: the final case and its
// timeline are what some serial order of the successful actions gives, every refused
// action is a clean business refusal, and the payment is refunded at most once.

func TestConcurrency(t *testing.T) {
	runSuites(t,
		suite{"one case", concurrentActionsOneCase},
		suite{"20 cases", concurrentActionsManyCases},
		suite{"expected version", expectedVersion},
	)
}

// stormMove is one action a client may try.
type stormMove struct {
	name, op string
	token    func(e *caseEnv) string
	input    map[string]any
}

var stormMoves = []stormMove{
	{"merchant accept", "acceptResolution", func(e *caseEnv) string { return e.cast.CompanyToken }, map[string]any{"terminateMembership": true}},
	{"merchant deny", "denyResolution", func(e *caseEnv) string { return e.cast.TeamMemberToken }, map[string]any{"message": "No."}},
	{"merchant respond", "respondToResolution", func(e *caseEnv) string { return e.cast.CompanyToken }, map[string]any{"message": "M says."}},
	{"merchant more info", "requestMoreInfo", func(e *caseEnv) string { return e.cast.TeamMemberToken }, map[string]any{"message": "Which?"}},
	{"merchant appeal", "appealResolution", func(e *caseEnv) string { return e.cast.CompanyToken }, map[string]any{"message": "Unfair."}},
	{"customer respond", "respondToResolution", func(e *caseEnv) string { return e.cast.CustomerToken }, map[string]any{"message": "C says."}},
	{"customer respond", "respondToResolution", func(e *caseEnv) string { return e.cast.CustomerToken }, map[string]any{"message": "C says."}},
	{"customer withdraw", "withdrawResolution", func(e *caseEnv) string { return e.cast.CustomerToken }, nil},
	{"customer appeal", "appealResolution", func(e *caseEnv) string { return e.cast.CustomerToken }, map[string]any{"message": "Unfair."}},
	{"platform buyer info", "requestBuyerInfo", func(e *caseEnv) string { return e.cast.PlatformToken }, map[string]any{"message": "B?"}},
	{"platform merchant info", "requestMerchantInfo", func(e *caseEnv) string { return e.cast.PlatformToken }, map[string]any{"message": "M?"}},
	{"platform merchant wins", "decideMerchantWins", func(e *caseEnv) string { return e.cast.PlatformToken }, nil},
	{"platform refund", "decideMerchantRefund", func(e *caseEnv) string { return e.cast.PlatformToken }, nil},
	{"chargeback", "recordChargebackEvent", func(e *caseEnv) string { return e.cast.PlatformToken }, map[string]any{"action": "DISPUTE_OPENED"}},
}

// storm runs `workers` clients at once, each sending `each` random moves one after the
// other to random cases of caseIDs, and returns, per case, the successful payloads.
// Every response must be a success or a clean refusal.
func storm(t *testing.T, e *caseEnv, caseIDs []string, workers, each int, seed uint64) map[string][]mutPayload {
	t.Helper()
	type outcome struct {
		caseID, move string
		r            mutResult
		err          error
	}
	type request struct {
		caseID, move, token, doc string
		input                    map[string]any
	}
	rng := rand.New(rand.NewPCG(seed, uint64(len(caseIDs))))
	plans := make([][]request, workers)
	for w := range plans {
		for range each {
			m := stormMoves[rng.IntN(len(stormMoves))]
			id := caseIDs[rng.IntN(len(caseIDs))]
			input := map[string]any{"resolutionId": id}
			for k, v := range m.input {
				input[k] = v
			}
			plans[w] = append(plans[w], request{id, m.name, m.token(e), mutationSelecting(m.op, "id status version"), input})
		}
	}
	start := make(chan struct{})
	out := make(chan outcome, workers*each)
	var wg sync.WaitGroup
	for _, plan := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for _, q := range plan {
				r, err := postGQL(e.s, q.token, q.doc, map[string]any{"input": q.input})
				out <- outcome{q.caseID, q.move, r, err}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(out)
	ok := map[string][]mutPayload{}
	for o := range out {
		switch {
		case o.err != nil:
			t.Errorf("%s: %v", o.move, o.err)
		case len(o.r.Errors) > 0 || o.r.Status != 200:
			t.Errorf("%s: HTTP %d, errors %+v", o.move, o.r.Status, o.r.Errors)
		case len(o.r.P.UserErrors) == 0:
			if o.r.P.Resolution == nil || o.r.P.Event == nil {
				t.Errorf("%s: success without result: %s", o.move, toJSON(o.r.P))
				continue
			}
			ok[o.caseID] = append(ok[o.caseID], o.r.P)
		default:
			ue := o.r.P.UserErrors
			if len(ue) != 1 || !slices.Contains([]string{"ACTION_NOT_ALLOWED", "LIMIT_REACHED", "CONFLICT"}, ue[0].Code) ||
				strings.Contains(strings.ToLower(ue[0].Message), "locked") {
				t.Errorf("%s: refused with %s", o.move, toJSON(ue))
			}
		}
	}
	return ok
}

// checkSerial checks that the case's stored state and timeline are those of a serial
// run of its successful actions, starting from the opened case.
func checkSerial(t *testing.T, e *caseEnv, start dispute.Case, successes []mutPayload) {
	t.Helper()
	id := start.ID
	final := dbtest.MustGetCase(t, e.d, id)
	evs := dbtest.MustEvents(t, e.d, id)
	if len(evs) != len(successes)+1 {
		t.Fatalf("%d events after %d successful actions", len(evs), len(successes))
	}
	if final.Version != len(evs) || final.EventCount != len(evs) {
		t.Errorf("version %d, eventCount %d, events %d", final.Version, final.EventCount, len(evs))
	}
	seen := map[string]bool{}
	for _, p := range successes {
		if seen[p.Event.ID] {
			t.Errorf("two successful actions returned event %s", p.Event.ID)
		}
		seen[p.Event.ID] = true
		if p.Resolution.Version != p.Event.Position {
			t.Errorf("payload version %d with event at position %d", p.Resolution.Version, p.Event.Position)
		}
	}
	policy := dispute.DefaultPolicy()
	c := start
	refunds := 0
	var refundedAt time.Time
	for i, ev := range evs {
		if ev.Position != i+1 {
			t.Fatalf("event %d at position %d: timeline not contiguous", i+1, ev.Position)
		}
		if i == 0 {
			continue
		}
		if !seen[ev.ID] {
			t.Errorf("event %s (%s) was not returned by any successful action", ev.ID, ev.Action)
		}
		if ev.FromStatus != evs[i-1].ToStatus {
			t.Errorf("event %d goes from %s, but the previous one ended in %s", i+1, ev.FromStatus, evs[i-1].ToStatus)
		}
		next, want, eff, err := replay(policy, c, ev)
		if err != nil {
			t.Fatalf("event %d (%s by %s from %s) is not a legal step: %v", i+1, ev.Action, ev.Reporter, c.Status, err)
		}
		if want.ToStatus != ev.ToStatus || want.Action != ev.Action {
			t.Fatalf("event %d: serial replay gives %s to %s, stored %s to %s", i+1, want.Action, want.ToStatus, ev.Action, ev.ToStatus)
		}
		if eff.RefundPayment {
			refunds++
			refundedAt = ev.CreatedAt
		}
		c = next
	}
	t.Logf("%s: %d of the actions applied, final %s", id, len(successes), final.Status)
	if !sameCase(c, final) {
		t.Errorf("stored case differs from the serial replay:\n stored %+v\n replay %+v", final, c)
	}
	pay := dbtest.MustGetPayment(t, e.d, start.PaymentID)
	switch {
	case refunds > 1:
		t.Errorf("the timeline refunds the payment %d times", refunds)
	case refunds == 1:
		if !pay.Refunded || pay.RefundedAmount != pay.Total || pay.RefundedAt == nil || !pay.RefundedAt.Equal(refundedAt) {
			t.Errorf("payment %+v, want refunded once in full at %s", pay, refundedAt)
		}
	default:
		if pay.Refunded || pay.RefundedAmount != 0 || pay.RefundedAt != nil {
			t.Errorf("payment %+v refunded without a refunding event", pay)
		}
	}
}

// replay applies the action an event records.
func replay(p dispute.Policy, c dispute.Case, ev dispute.Event) (dispute.Case, dispute.Event, dispute.Effects, error) {
	var action dispute.Action
	switch ev.Action {
	case dispute.EventDisputeOpened, dispute.EventDisputeCustomerWon, dispute.EventDisputeMerchantWon:
		next, e, err := p.Record(c, ev.Action, ev.Details, ev.CreatedAt)
		return next, e, dispute.Effects{}, err
	case dispute.EventResponded:
		action = dispute.ActionRespond
	case dispute.EventAppealed:
		action = dispute.ActionAppeal
	case dispute.EventWithdrew:
		action = dispute.ActionWithdraw
	case dispute.EventAccepted:
		action = map[dispute.Actor]dispute.Action{dispute.ActorMerchant: dispute.ActionAccept, dispute.ActorPlatform: dispute.ActionMerchantRefund}[ev.Reporter]
	case dispute.EventDenied:
		action = map[dispute.Actor]dispute.Action{dispute.ActorMerchant: dispute.ActionDeny, dispute.ActorPlatform: dispute.ActionMerchantWins}[ev.Reporter]
	case dispute.EventRequestedMoreInfo:
		switch {
		case ev.Reporter == dispute.ActorMerchant:
			action = dispute.ActionRequestMoreInfo
		case ev.ToStatus == dispute.StatusCustomerInfoNeeded:
			action = dispute.ActionRequestBuyerInfo
		default:
			action = dispute.ActionRequestMerchantInfo
		}
	}
	if ev.Reporter == dispute.ActorSystem {
		next, e, ok := p.Expire(c, ev.CreatedAt)
		if !ok {
			return c, e, dispute.Effects{}, fmt.Errorf("not due")
		}
		return next, e, dispute.Effects{}, nil
	}
	return p.Apply(c, ev.Reporter, action, dispute.Input{Message: ev.Details}, ev.CreatedAt)
}

// sameCase compares two cases, times by instant.
func sameCase(a, b dispute.Case) bool {
	eqT := func(x, y *time.Time) bool { return (x == nil && y == nil) || (x != nil && y != nil && x.Equal(*y)) }
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) || !eqT(a.DueDate, b.DueDate) {
		return false
	}
	a.CreatedAt, a.UpdatedAt, a.DueDate = b.CreatedAt, b.UpdatedAt, b.DueDate
	return a == b
}

func concurrentActionsOneCase(t *testing.T, e *caseEnv) {
	d := e.d
	for round := range 3 {
		open := dbtest.MustOpen(t, d, e.cast.MustPayment(t, d), dispute.IssueItemNotReceived, e.clock.Now()).Case
		ok := storm(t, e, []string{open.ID}, 50, 1, uint64(round))
		checkSerial(t, e, open, ok[open.ID])
	}
}

func concurrentActionsManyCases(t *testing.T, e *caseEnv) {
	d := e.d
	var cases []dispute.Case
	var idList []string
	for range 20 {
		c := dbtest.MustOpen(t, d, e.cast.MustPayment(t, d), dispute.IssueItemNotReceived, e.clock.Now()).Case
		cases = append(cases, c)
		idList = append(idList, c.ID)
	}
	ok := storm(t, e, idList, 50, 10, 99)
	for _, c := range cases {
		checkSerial(t, e, c, ok[c.ID])
	}
}

// Two clients that saw the same version: exactly one of them acts, the other gets a
// CONFLICT naming expectedVersion.
func expectedVersion(t *testing.T, e *caseEnv) {
	d := e.d
	id := openedCase(t, e)

	before := e.caseSnapshot(t, id)
	stale := e.act(t, e.cast.CustomerToken, "respondToResolution",
		map[string]any{"resolutionId": id, "message": "Hi", "expectedVersion": 0})
	ue := wantUserError(t, stale, "CONFLICT", "expectedVersion")
	if !strings.Contains(ue.Message, "1") {
		t.Errorf("CONFLICT message %q does not tell the current version", ue.Message)
	}
	e.expectSnapshot(t, id, before)

	for round := range 10 {
		version := dbtest.MustGetCase(t, d, id).Version
		events := len(dbtest.MustEvents(t, d, id))
		var wg sync.WaitGroup
		res := make([]mutResult, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, token := range []string{e.cast.CustomerToken, e.cast.CompanyToken} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res[i], errs[i] = postGQL(e.s, token, mutationDoc("respondToResolution"), map[string]any{"input": map[string]any{
					"resolutionId": id, "message": fmt.Sprintf("round %d", round), "expectedVersion": version}})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, r := range res {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if len(r.Errors) == 0 && len(r.P.UserErrors) == 0 {
				won++
				continue
			}
			wantUserError(t, r, "CONFLICT", "expectedVersion")
		}
		if won != 1 {
			t.Fatalf("round %d: %d of 2 clients with version %d succeeded", round, won, version)
		}
		now := dbtest.MustGetCase(t, d, id)
		if now.Version != version+1 || len(dbtest.MustEvents(t, d, id)) != events+1 {
			t.Fatalf("round %d: version %d -> %d", round, version, now.Version)
		}
	}
}
