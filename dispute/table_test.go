package dispute

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Short names for the statuses, so each row of the expectation table fits one line.
const (
	sMR = StatusMerchantResponseNeeded
	sCR = StatusCustomerResponseNeeded
	sMI = StatusMerchantInfoNeeded
	sCI = StatusCustomerInfoNeeded
	sUR = StatusUnderPlatformReview
	sCW = StatusCustomerWon
	sMW = StatusMerchantWon
	sCD = StatusCustomerWithdrew

	cust = ActorCustomer
	merc = ActorMerchant
	plat = ActorPlatform
)

var (
	t0     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	oldDue = t0.Add(72 * time.Hour) // the fixtures' running deadline
	now    = t0.Add(time.Hour)      // when the tested action happens
)

// fixture returns a case in status s the way the lifecycle leaves it: a running
// deadline in the four waiting statuses; customer_won decided by the platform
// with the payment refunded; merchant_won denied by the merchant; no appeals.
func fixture(s Status) Case {
	c := Case{
		ID: "reso_1", Status: s, Issue: IssueItemNotReceived, CompanyID: "biz_1", UserID: "user_1",
		PaymentID: "pay_1", MemberID: "mem_1", CreatedAt: t0, UpdatedAt: t0, Version: 5, EventCount: 5,
	}
	switch s {
	case sMR, sCR, sMI, sCI:
		d := oldDue
		c.DueDate = &d
	case sCW:
		c.Outcome, c.Refund, c.DecidedBy, c.PaymentRefunded = OutcomeCustomerWon, RefundMerchant, ActorPlatform, true
	case sMW:
		c.Outcome, c.Refund, c.DecidedBy = OutcomeMerchantWon, RefundNone, ActorMerchant
	case sCD:
		c.Outcome, c.Refund, c.DecidedBy = OutcomeWithdrawn, RefundNone, ActorCustomer
	}
	return c
}

type dueWant int

const (
	dueNil  dueWant = iota // no deadline afterwards
	dueNew                 // now + window
	dueKeep                // the fixture's deadline, untouched
)

// want is the expected result of an allowed action on a fixture.
type want struct {
	to      Status
	ev      EventAction
	refund  Refund
	outcome Outcome
	ca, ma  bool    // appeal flags afterwards
	due     dueWant // zero value: no deadline
	pay     bool    // Effects.RefundPayment
	hidden  Actor   // the side that may not see the event
	info    int     // InfoRequests afterwards
}

type key struct {
	s      Status
	actor  Actor
	action Action
}

// expected is the product's lifecycle table, written out row by row for every
// status. Any status x actor x action not listed here must be refused.
var expected = map[key]want{
	{sMR, merc, ActionDeny}:                {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sMR, merc, ActionRequestMoreInfo}:     {to: sCR, ev: EventRequestedMoreInfo, due: dueNew, info: 1},
	{sMR, merc, ActionRespond}:             {to: sCR, ev: EventResponded, due: dueNew},
	{sMR, merc, ActionAccept}:              {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},
	{sMR, cust, ActionRespond}:             {to: sMR, ev: EventResponded, due: dueKeep},
	{sMR, cust, ActionWithdraw}:            {to: sCD, ev: EventWithdrew, refund: RefundNone, outcome: OutcomeWithdrawn},
	{sMR, plat, ActionRequestBuyerInfo}:    {to: sCI, ev: EventRequestedMoreInfo, due: dueNew, hidden: merc},
	{sMR, plat, ActionRequestMerchantInfo}: {to: sMI, ev: EventRequestedMoreInfo, due: dueNew, hidden: cust},
	{sMR, plat, ActionMerchantWins}:        {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sMR, plat, ActionMerchantRefund}:      {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},

	{sCR, merc, ActionDeny}:                {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sCR, merc, ActionRespond}:             {to: sCR, ev: EventResponded, due: dueKeep},
	{sCR, merc, ActionAccept}:              {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},
	{sCR, cust, ActionRespond}:             {to: sMR, ev: EventResponded, due: dueNew},
	{sCR, cust, ActionWithdraw}:            {to: sCD, ev: EventWithdrew, refund: RefundNone, outcome: OutcomeWithdrawn},
	{sCR, plat, ActionRequestBuyerInfo}:    {to: sCI, ev: EventRequestedMoreInfo, due: dueNew, hidden: merc},
	{sCR, plat, ActionRequestMerchantInfo}: {to: sMI, ev: EventRequestedMoreInfo, due: dueNew, hidden: cust},
	{sCR, plat, ActionMerchantWins}:        {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sCR, plat, ActionMerchantRefund}:      {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},

	{sMI, merc, ActionRespond}:             {to: sUR, ev: EventResponded, hidden: cust},
	{sMI, merc, ActionAccept}:              {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},
	{sMI, cust, ActionWithdraw}:            {to: sCD, ev: EventWithdrew, refund: RefundNone, outcome: OutcomeWithdrawn},
	{sMI, plat, ActionRequestBuyerInfo}:    {to: sCI, ev: EventRequestedMoreInfo, due: dueNew, hidden: merc},
	{sMI, plat, ActionRequestMerchantInfo}: {to: sMI, ev: EventRequestedMoreInfo, due: dueKeep, hidden: cust},
	{sMI, plat, ActionMerchantWins}:        {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sMI, plat, ActionMerchantRefund}:      {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},

	{sCI, cust, ActionRespond}:             {to: sUR, ev: EventResponded, hidden: merc},
	{sCI, cust, ActionWithdraw}:            {to: sCD, ev: EventWithdrew, refund: RefundNone, outcome: OutcomeWithdrawn},
	{sCI, merc, ActionAccept}:              {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},
	{sCI, plat, ActionRequestBuyerInfo}:    {to: sCI, ev: EventRequestedMoreInfo, due: dueKeep, hidden: merc},
	{sCI, plat, ActionRequestMerchantInfo}: {to: sMI, ev: EventRequestedMoreInfo, due: dueNew, hidden: cust},
	{sCI, plat, ActionMerchantWins}:        {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sCI, plat, ActionMerchantRefund}:      {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},

	{sUR, cust, ActionRespond}:             {to: sUR, ev: EventResponded},
	{sUR, cust, ActionWithdraw}:            {to: sCD, ev: EventWithdrew, refund: RefundNone, outcome: OutcomeWithdrawn},
	{sUR, merc, ActionRespond}:             {to: sUR, ev: EventResponded},
	{sUR, merc, ActionAccept}:              {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},
	{sUR, plat, ActionRequestBuyerInfo}:    {to: sCI, ev: EventRequestedMoreInfo, due: dueNew, hidden: merc},
	{sUR, plat, ActionRequestMerchantInfo}: {to: sMI, ev: EventRequestedMoreInfo, due: dueNew, hidden: cust},
	{sUR, plat, ActionMerchantWins}:        {to: sMW, ev: EventDenied, refund: RefundNone, outcome: OutcomeMerchantWon},
	{sUR, plat, ActionMerchantRefund}:      {to: sCW, ev: EventAccepted, refund: RefundMerchant, outcome: OutcomeCustomerWon, pay: true},

	{sCW, merc, ActionAppeal}: {to: sUR, ev: EventAppealed, ma: true},
	{sMW, cust, ActionAppeal}: {to: sUR, ev: EventAppealed, ca: true},
}

var allActions = []Action{
	ActionRespond, ActionAppeal, ActionWithdraw, ActionAccept, ActionDeny, ActionRequestMoreInfo,
	ActionRequestBuyerInfo, ActionRequestMerchantInfo, ActionMerchantWins, ActionMerchantRefund,
}

var humans = []Actor{cust, merc, plat}

// TestTableExhaustive tries every action of every actor in every status.
func TestTableExhaustive(t *testing.T) {
	p := DefaultPolicy()
	seen := 0
	for _, s := range Statuses {
		for _, actor := range humans {
			var wantAllowed []Action
			for _, a := range actionsOf(actor) {
				if _, ok := expected[key{s, actor, a}]; ok {
					wantAllowed = append(wantAllowed, a)
				}
			}
			if got := p.Allowed(fixture(s), actor); !slices.Equal(got, wantAllowed) {
				t.Errorf("Allowed(%s, %s) = %v, want %v", s, actor, got, wantAllowed)
			}
			for _, action := range allActions {
				c := fixture(s)
				next, ev, eff, err := p.Apply(c, actor, action, Input{Message: "hello"}, now)
				if !reflect.DeepEqual(c, fixture(s)) {
					t.Fatalf("%s/%s/%s mutated its input", s, actor, action)
				}
				w, ok := expected[key{s, actor, action}]
				if !ok {
					var de *Error
					if !errors.As(err, &de) || de.Code != CodeActionNotAllowed {
						t.Errorf("%s/%s/%s: err = %v, want ACTION_NOT_ALLOWED", s, actor, action, err)
					} else if !slices.Equal(de.Allowed, wantAllowed) {
						t.Errorf("%s/%s/%s: Allowed = %v, want %v", s, actor, action, de.Allowed, wantAllowed)
					}
					continue
				}
				seen++
				if err != nil {
					t.Errorf("%s/%s/%s: unexpected error %v", s, actor, action, err)
					continue
				}
				checkWant(t, p, c, actor, action, w, next, ev, eff)
			}
		}
	}
	if seen != len(expected) {
		t.Errorf("exercised %d rows, the expectation table has %d", seen, len(expected))
	}
}

func checkWant(t *testing.T, p Policy, c Case, actor Actor, action Action, w want, n Case, ev Event, eff Effects) {
	t.Helper()
	name := string(c.Status) + "/" + string(actor) + "/" + string(action)
	closed := w.outcome != OutcomeNone
	wantDecided := Actor("")
	if closed {
		wantDecided = actor
	}
	var wantDue *time.Time
	switch w.due {
	case dueNew:
		d := now.Add(p.ResponseWindow)
		wantDue = &d
	case dueKeep:
		wantDue = &oldDue
	}
	wantCase := c
	wantCase.Status, wantCase.Outcome, wantCase.Refund, wantCase.DecidedBy = w.to, w.outcome, w.refund, wantDecided
	wantCase.CustomerAppealed, wantCase.MerchantAppealed, wantCase.InfoRequests = w.ca, w.ma, w.info
	wantCase.PaymentRefunded = c.PaymentRefunded || w.pay
	wantCase.DueDate, wantCase.UpdatedAt, wantCase.Version, wantCase.EventCount = wantDue, now, 6, 6
	if !reflect.DeepEqual(n, wantCase) {
		t.Errorf("%s: case\n got %+v\nwant %+v", name, n, wantCase)
	}
	wantEv := Event{
		ResolutionID: "reso_1", Position: 6, Action: w.ev, Reporter: actor, Details: "hello",
		FromStatus: c.Status, ToStatus: w.to, ViewableByCustomer: w.hidden != cust,
		ViewableByMerchant: w.hidden != merc, CreatedAt: now,
	}
	if ev != wantEv {
		t.Errorf("%s: event\n got %+v\nwant %+v", name, ev, wantEv)
	}
	if wantEff := (Effects{RefundPayment: w.pay}); eff != wantEff {
		t.Errorf("%s: effects %+v, want %+v", name, eff, wantEff)
	}
}

// TestTableRowsDisjoint checks that no two rows match the same status, actor
// and action, so the order of the table never matters.
func TestTableRowsDisjoint(t *testing.T) {
	for _, s := range Statuses {
		for _, actor := range []Actor{cust, merc, plat, ActorSystem} {
			for _, action := range append(slices.Clone(allActions), actionDeadline) {
				n := 0
				for _, r := range table {
					if r.actor == actor && r.action == action && r.from(s) {
						n++
					}
				}
				if n > 1 {
					t.Errorf("%s/%s/%s matches %d rows", s, actor, action, n)
				}
			}
		}
	}
}
