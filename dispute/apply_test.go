package dispute

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestApplyVariants covers the rows whose answer depends on the case's history
// rather than its status: appeals used, who decided, refunds made, requests used.
func TestApplyVariants(t *testing.T) {
	with := func(s Status, edit func(*Case)) Case {
		c := fixture(s)
		edit(&c)
		return c
	}
	tests := []struct {
		name    string
		c       Case
		actor   Actor
		action  Action
		in      Input
		code    Code     // "" when the action must succeed
		allowed []Action // for refusals: the Allowed list
		check   func(t *testing.T, n Case, eff Effects)
	}{
		{name: "merchant cannot appeal its own accept",
			c:     with(sCW, func(c *Case) { c.DecidedBy = merc }),
			actor: merc, action: ActionAppeal, code: CodeActionNotAllowed, allowed: []Action{}},
		{name: "merchant cannot appeal after its own appeal",
			c:     with(sCW, func(c *Case) { c.MerchantAppealed = true }),
			actor: merc, action: ActionAppeal, code: CodeActionNotAllowed},
		{name: "merchant cannot appeal after the customer's appeal",
			c:     with(sCW, func(c *Case) { c.CustomerAppealed = true }),
			actor: merc, action: ActionAppeal, code: CodeActionNotAllowed},
		{name: "customer cannot appeal twice",
			c:     with(sMW, func(c *Case) { c.CustomerAppealed = true }),
			actor: cust, action: ActionAppeal, code: CodeActionNotAllowed},
		{name: "customer cannot appeal after the merchant's appeal",
			c:     with(sMW, func(c *Case) { c.MerchantAppealed, c.DecidedBy = true, plat }),
			actor: cust, action: ActionAppeal, code: CodeActionNotAllowed},
		{name: "customer may appeal a decision by the system",
			c:     with(sMW, func(c *Case) { c.DecidedBy = ActorSystem }),
			actor: cust, action: ActionAppeal, in: Input{Message: "I did answer"},
			check: func(t *testing.T, n Case, _ Effects) {
				if n.Status != sUR || !n.CustomerAppealed || n.DecidedBy != "" || n.Refund != RefundUnset {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "accept after a refund pays nothing twice",
			c:     with(sUR, func(c *Case) { c.PaymentRefunded, c.MerchantAppealed = true, true }),
			actor: merc, action: ActionAccept,
			check: func(t *testing.T, n Case, eff Effects) {
				if eff.RefundPayment || n.Refund != RefundMerchant || !n.PaymentRefunded {
					t.Errorf("got %+v, %+v", n, eff)
				}
			}},
		{name: "merchant_refund after a refund pays nothing twice",
			c:     with(sUR, func(c *Case) { c.PaymentRefunded, c.MerchantAppealed = true, true }),
			actor: plat, action: ActionMerchantRefund,
			check: func(t *testing.T, n Case, eff Effects) {
				if eff.RefundPayment || n.Refund != RefundMerchant || n.DecidedBy != plat {
					t.Errorf("got %+v, %+v", n, eff)
				}
			}},
		{name: "merchant_wins after a refund leaves the money: refund=platform",
			c:     with(sUR, func(c *Case) { c.PaymentRefunded, c.MerchantAppealed = true, true }),
			actor: plat, action: ActionMerchantWins,
			check: func(t *testing.T, n Case, eff Effects) {
				if eff != (Effects{}) || n.Refund != RefundPlatform || n.Outcome != OutcomeMerchantWon {
					t.Errorf("got %+v, %+v", n, eff)
				}
			}},
		{name: "withdraw after a refund leaves the money: refund=platform",
			c:     with(sUR, func(c *Case) { c.PaymentRefunded, c.MerchantAppealed = true, true }),
			actor: cust, action: ActionWithdraw,
			check: func(t *testing.T, n Case, eff Effects) {
				if eff != (Effects{}) || n.Refund != RefundPlatform || n.Outcome != OutcomeWithdrawn {
					t.Errorf("got %+v, %+v", n, eff)
				}
			}},
		{name: "request_more_info beyond the limit",
			c:     with(sMR, func(c *Case) { c.InfoRequests = 3 }),
			actor: merc, action: ActionRequestMoreInfo, in: Input{Message: "more?"},
			code: CodeLimitReached, allowed: []Action{ActionAccept, ActionDeny, ActionRespond}},
		{name: "the last request_more_info",
			c:     with(sMR, func(c *Case) { c.InfoRequests = 2 }),
			actor: merc, action: ActionRequestMoreInfo, in: Input{Message: "more?"},
			check: func(t *testing.T, n Case, _ Effects) {
				if n.InfoRequests != 3 || n.Status != sCR {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "platform requests are not limited",
			c:     with(sMR, func(c *Case) { c.InfoRequests = 3 }),
			actor: plat, action: ActionRequestBuyerInfo, in: Input{Message: "receipt?"},
			check: func(t *testing.T, n Case, _ Effects) {
				if n.InfoRequests != 3 {
					t.Errorf("InfoRequests = %d", n.InfoRequests)
				}
			}},
		{name: "accept may cancel the membership",
			c:     fixture(sMR),
			actor: merc, action: ActionAccept, in: Input{TerminateMembership: true},
			check: func(t *testing.T, _ Case, eff Effects) {
				if eff != (Effects{RefundPayment: true, CancelMembership: true}) {
					t.Errorf("effects %+v", eff)
				}
			}},
		{name: "accept without a membership ignores TerminateMembership",
			c:     with(sMR, func(c *Case) { c.MemberID = "" }),
			actor: merc, action: ActionAccept, in: Input{TerminateMembership: true},
			check: func(t *testing.T, _ Case, eff Effects) {
				if eff.CancelMembership {
					t.Error("CancelMembership without a membership")
				}
			}},
		{name: "merchant_refund never cancels the membership",
			c:     fixture(sMR),
			actor: plat, action: ActionMerchantRefund, in: Input{TerminateMembership: true},
			check: func(t *testing.T, _ Case, eff Effects) {
				if eff.CancelMembership {
					t.Error("CancelMembership on merchant_refund")
				}
			}},
	}
	p := DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.Message == "" && (tt.action == ActionAppeal || tt.action == ActionRequestMoreInfo) {
				tt.in.Message = "because"
			}
			n, _, eff, err := p.Apply(tt.c, tt.actor, tt.action, tt.in, now)
			listed := slices.Contains(p.Allowed(tt.c, tt.actor), tt.action)
			if tt.code == "" {
				if err != nil || !listed {
					t.Fatalf("err = %v, listed = %v; want success", err, listed)
				}
				tt.check(t, n, eff)
				return
			}
			var de *Error
			if !errors.As(err, &de) || de.Code != tt.code || listed {
				t.Fatalf("err = %v, listed = %v; want %s", err, listed, tt.code)
			}
			if tt.allowed != nil && !slices.Equal(de.Allowed, tt.allowed) {
				t.Errorf("Allowed = %v, want %v", de.Allowed, tt.allowed)
			}
		})
	}
}

func TestApplyMessages(t *testing.T) {
	p := DefaultPolicy()
	required := []key{
		{sMR, merc, ActionRespond}, {sMR, merc, ActionDeny}, {sMR, merc, ActionRequestMoreInfo},
		{sMW, cust, ActionAppeal}, {sMR, plat, ActionRequestBuyerInfo}, {sMR, plat, ActionRequestMerchantInfo},
	}
	for _, k := range required {
		for _, msg := range []string{"", "  \n\t"} {
			_, _, _, err := p.Apply(fixture(k.s), k.actor, k.action, Input{Message: msg}, now)
			var de *Error
			if !errors.As(err, &de) || de.Code != CodeInvalidArgument || de.Field != "message" {
				t.Errorf("%v with %q: err = %v, want INVALID_ARGUMENT on message", k, msg, err)
			}
		}
	}
	optional := []key{
		{sMR, merc, ActionAccept}, {sMR, cust, ActionWithdraw}, {sMR, plat, ActionMerchantWins},
		{sMR, plat, ActionMerchantRefund},
	}
	for _, k := range optional {
		if _, ev, _, err := p.Apply(fixture(k.s), k.actor, k.action, Input{}, now); err != nil || ev.Details != "" {
			t.Errorf("%v without a message: err = %v, details %q", k, err, ev.Details)
		}
		long := Input{Message: strings.Repeat("x", MaxMessageLength+1)}
		if _, _, _, err := p.Apply(fixture(k.s), k.actor, k.action, long, now); CodeOf(err) != CodeInvalidArgument {
			t.Errorf("%v with a long message: err = %v", k, err)
		}
	}
	// Permission comes first: a refused action never complains about its message.
	if _, _, _, err := p.Apply(fixture(sCD), cust, ActionRespond, Input{}, now); CodeOf(err) != CodeActionNotAllowed {
		t.Errorf("refused action with empty message: err = %v", err)
	}
}

func TestApplyUnknownAndSystem(t *testing.T) {
	p := DefaultPolicy()
	c := fixture(sMR)
	in := Input{Message: "x"}
	if _, _, _, err := p.Apply(c, "admin", ActionRespond, in, now); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown actor: %v", err)
	}
	if _, _, _, err := p.Apply(c, merc, "refund_twice", in, now); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown action: %v", err)
	}
	long := Action(strings.Repeat("x", 1000))
	if _, _, _, err := p.Apply(c, merc, long, in, now); err == nil || len(err.Error()) > 100 {
		t.Errorf("long unknown action: %v", err)
	}
	if _, _, _, err := p.Apply(c, merc, actionDeadline, in, now); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("deadline pseudo-action: %v", err)
	}
	for _, a := range allActions {
		_, _, _, err := p.Apply(c, ActorSystem, a, in, now)
		var de *Error
		if !errors.As(err, &de) || de.Code != CodeActionNotAllowed || de.Allowed != nil {
			t.Errorf("system %s: %v", a, err)
		}
	}
	if got := p.Allowed(c, ActorSystem); got != nil {
		t.Errorf("Allowed(system) = %v", got)
	}
	if got := p.Allowed(fixture(sCD), cust); got == nil || len(got) != 0 {
		t.Errorf("Allowed on a closed case = %#v, want empty non-nil", got)
	}
}

func TestApplyPolicy(t *testing.T) {
	p := Policy{ResponseWindow: 48 * time.Hour, MaxInfoRequests: 1}
	n, _, _, err := p.Apply(fixture(sMR), merc, ActionRequestMoreInfo, Input{Message: "?"}, now)
	if err != nil || !n.DueDate.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("custom window: %v, %v", err, n.DueDate)
	}
	n.Status = sMR
	if _, _, _, err := p.Apply(n, merc, ActionRequestMoreInfo, Input{Message: "?"}, now); !errors.Is(err, ErrLimitReached) {
		t.Errorf("custom limit: %v", err)
	}
	var zero Policy
	n, _, _, _ = zero.Apply(fixture(sMR), merc, ActionRespond, Input{Message: "hi"}, now)
	if !n.DueDate.Equal(now.Add(DefaultResponseWindow)) {
		t.Errorf("zero policy window: due %v", n.DueDate)
	}
	if DefaultPolicy() != (Policy{ResponseWindow: 7 * 24 * time.Hour, MaxInfoRequests: 3}) {
		t.Errorf("DefaultPolicy() = %+v", DefaultPolicy())
	}
}

func TestApplyDoesNotAlias(t *testing.T) {
	c := fixture(sMR)
	n, _, _, err := DefaultPolicy().Apply(c, cust, ActionRespond, Input{Message: "hi"}, now)
	if err != nil {
		t.Fatal(err)
	}
	*n.DueDate = n.DueDate.Add(time.Hour)
	if !c.DueDate.Equal(oldDue) {
		t.Error("the new case shares its DueDate with the input")
	}
}
